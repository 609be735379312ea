#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Builds the libFuzzer targets in tests/fuzz against the project's static
# libraries, compiled by clang with ASan + UBSan and fuzzer coverage, and
# runs each for a bounded time on a copy of its seed corpus. A crash leaves
# its input in <build dir>/fuzz/crashes/ and makes this script exit 1. New
# inputs libFuzzer finds stay in the build directory: nothing is committed.
#
#   tests/fuzz/run.sh [-d BUILD_DIR] [-t SECONDS] [TARGET...] [-- LIBFUZZER_ARGS]
#
# BUILD_DIR defaults to build-fuzz in the source root and is set up there
# when it does not exist yet; SECONDS defaults to 60 per target (20 when $CI
# is set); TARGETs default to all of them (see libs_of below). Anything after
# -- goes to libFuzzer, e.g. -- -jobs=2 -workers=2, or -- -runs=0 to only
# replay the corpus. The meson suite 'fuzz' runs one target per test.
set -eu

src=$(cd "$(dirname "$0")/../.." && pwd)
build=$src/build-fuzz
secs=${CI:+20}
secs=${secs:-60}
targets=

# What each target links: meson library targets, highest layer first, and
# the pkg-config packages and extra libraries they need. A new target adds
# its line here (and its meson test in tests/fuzz/meson.build).
libs_of() {
	case $1 in
	frame) echo "src/rpc/ogw_rpc src/json/ogw_json src/util/ogw_util" ;;
	admin) echo "src/gateway/ogw_gateway" ;;   # only admin_http.o, libc alone
	files) echo "src/gateway/ogw_gateway" ;;   # only request.o, libc alone
	schema) echo "src/schema/ogw_schema src/rpc/ogw_rpc src/json/ogw_json src/util/ogw_util" ;;
	mqtt) echo "src/schema/ogw_schema src/rpc/ogw_rpc src/json/ogw_json src/util/ogw_util" ;;
	config) echo "src/config/ogw_config src/rpc/ogw_rpc src/json/ogw_json src/util/ogw_util" ;;
	translate) echo "translators/ogw_translators src/schema/ogw_schema src/rpc/ogw_rpc src/json/ogw_json src/util/ogw_util" ;;
	*) return 1 ;;
	esac
}
pkgs_of() {
	case $1 in
	config) echo "jansson libwebsockets libconfig" ;;
	*) echo "jansson libwebsockets" ;;
	esac
}
ALL_TARGETS="frame admin schema mqtt config translate files"

while [ $# -gt 0 ]; do
	case $1 in
	-d) build=$2; shift 2 ;;
	-t) secs=$2; shift 2 ;;
	--) shift; break ;;
	-h|--help) sed -n '4,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	*) targets="$targets $1"; shift ;;
	esac
done
[ -n "$targets" ] || targets=$ALL_TARGETS
case $build in /*) ;; *) build=$(pwd)/$build ;; esac

command -v clang >/dev/null || { echo "run.sh: clang is needed (apt-get install clang)" >&2; exit 2; }

# The libraries must carry the fuzzer's coverage hooks and the sanitizers,
# so they get their own build directory; only those the targets link are built.
if [ ! -f "$build/build.ninja" ]; then
	CC=clang meson setup "$build" "$src" \
		-Db_sanitize=address,undefined -Db_lundef=false -Dwerror=false \
		-Dbuildtype=debugoptimized -Dc_args=-fsanitize=fuzzer-no-link
else
	# a meson.build changed since (a new library): regenerate first, or
	# meson compile would not know the new targets
	ninja -C "$build" build.ninja >/dev/null
fi
need=
for t in $targets; do
	l=$(libs_of "$t") || { echo "run.sh: no target $t" >&2; exit 2; }
	need="$need $l"
done
# shellcheck disable=SC2086 # a word list
meson compile -C "$build" $(printf '%s\n' $need | sort -u)

out=$build/fuzz
mkdir -p "$out/crashes"

status=0
for t in $targets; do
	libs=
	for l in $(libs_of "$t"); do
		libs="$libs $build/$(dirname "$l")/lib$(basename "$l").a"
	done
	# shellcheck disable=SC2046,SC2086 # word lists
	clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -I"$src/include" -I"$src/src" \
		-o "$out/fuzz_$t" "$src/tests/fuzz/fuzz_$t.c" $libs \
		$(pkg-config --cflags --libs $(pkgs_of "$t")) -lmbedcrypto -lm -lpthread
	corpus=$out/corpus-$t
	mkdir -p "$corpus"
	cp "$src/tests/fuzz/corpus/$t"/* "$corpus"/
	echo "== fuzz_$t for ${secs}s (corpus $corpus)"
	if ! ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		LSAN_OPTIONS=suppressions="$src/tests/fuzz/lsan.supp" \
		OGW_FUZZ_SRC="$src" "$out/fuzz_$t" -max_total_time="$secs" -print_final_stats=1 \
		-artifact_prefix="$out/crashes/$t-" "$@" "$corpus" \
		2>"$out/fuzz_$t.log"; then
		status=1
		echo "!! fuzz_$t failed; inputs in $out/crashes/, log $out/fuzz_$t.log"
		grep -A30 -m1 'ERROR\|fuzz_'"$t"':' "$out/fuzz_$t.log" | head -40
	fi
	grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' "$out/fuzz_$t.log" || true
done
exit $status
