#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds as others build us (suite 'ship'): gcc 12 and clang 14, each with
# `--buildtype=release` as a user runs it and with `--buildtype=plain` plus
# Debian's packaging flags (dpkg-buildflags) as dh does, all four with
# -Dwerror=true so that any warning fails, in temporary build dirs. The unit
# suite then runs on the gcc plain build, the one the .deb ships.
#   bash tests/ship/builds.sh    (from the source root; ~6 min on 2 cores)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../../tools/ship/lib.sh"

ship_need gcc clang-14 dpkg-dev meson ninja-build
work="$(mktemp -d "$SHIP_WORK/builds.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# build NAME CC BUILDTYPE [dpkg]: setup and compile, the log kept for a failure.
build() {
	local name=$1 cc=$2 buildtype=$3 flags=${4:-} start=$SECONDS
	(
		unset CFLAGS CPPFLAGS LDFLAGS
		[ "$flags" = dpkg ] && eval "$(cd "$SHIP_ROOT" && dpkg-buildflags --export=sh)"
		CC=$cc meson setup "$work/$name" "$SHIP_ROOT" --buildtype="$buildtype" \
			-Dwerror=true && nice meson compile -C "$work/$name"
	) >"$work/$name.log" 2>&1 || {
		{ grep -E 'warning|error' "$work/$name.log" || tail -n 20 "$work/$name.log"; } |
			head -n 40 >&2
		ship_die "$name: build failed (-Werror), log above"
	}
	ship_log "$name: built warning-free in $((SECONDS - start)) s"
}

build gcc-release gcc release
build gcc-plain-dpkg gcc plain dpkg
build clang-release clang-14 release
build clang-plain-dpkg clang-14 plain dpkg

start=$SECONDS
meson test -C "$work/gcc-plain-dpkg" --suite unit --print-errorlogs >"$work/unit.log" 2>&1 || {
	tail -n 40 "$work/unit.log" >&2
	ship_die "unit suite failed on the gcc plain build"
}
ship_log "unit suite on gcc-plain-dpkg: $(grep -E '^(Ok|Fail):' "$work/unit.log" | tr -s ' \n' ' ')in $((SECONDS - start)) s"
