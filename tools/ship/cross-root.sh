#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The arm64 cross-build root (sourced after tools/ship/lib.sh): a Debian 12
# chroot made with debootstrap, holding crossbuild-essential-arm64, qemu-user
# and the project's -dev packages as :arm64 (multiarch), so the host's own
# amd64 -dev packages and its dpkg architecture list are never touched. The
# root is kept between runs under $SHIP_WORK, keyed by a hash of what goes
# into it, and commands run in it through a private mount namespace (its
# /proc, /dev and the read-only source at /src vanish with the command);
# the network is the host's, so what runs inside talks to 127.0.0.1.
#
#   . tools/ship/lib.sh; . tools/ship/cross-root.sh
#   cross_root                 # sets CROSS_ROOT, making the root when needed
#   cross_run CMD ARGS...      # runs CMD in it (cwd /, clean environment)

# Installed in the root: the build machine's tools, then the host's
# libraries (the daemon's run-time evlib plugin included).
CROSS_TOOLS=(crossbuild-essential-arm64 meson ninja-build pkgconf python3 qemu-user file)
CROSS_LIBS=(libwebsockets-dev libwebsockets-evlib-uv libmosquitto-dev libconfig-dev
	libmbedtls-dev libjansson-dev libsqlite3-dev libssl-dev libuv1-dev libcriterion-dev
	libmodbus-dev libcurl4-openssl-dev)
CROSS_ROOT=""

cross_key() {
	printf '%s\n' bookworm "$(ship_mirror)" "${CROSS_TOOLS[@]}" "${CROSS_LIBS[@]/%/:arm64}" |
		sha256sum | cut -c1-12
}

# A root whose stamp matches the key is reused as it is; otherwise it is
# made in a fresh directory and renamed into place only when complete, and
# roots made for other keys are removed. A lock makes a second caller (the
# arm64 test while tools/ship/prepare.sh is still making the root in the
# background) wait for the first and then reuse its root.
cross_root() {
	local key dir tmp
	key=$(cross_key)
	dir="$SHIP_WORK/arm64-root-$key"
	CROSS_ROOT=$dir
	exec 9>"$SHIP_WORK/arm64-root.lock"
	flock 9
	if [ "$(cat "$dir/.ocppgw-cross-key" 2>/dev/null)" = "$key" ]; then
		ship_log "arm64 root $dir is current"
		exec 9>&-
		return 0
	fi
	ship_need debootstrap
	tmp="$dir.new"
	rm -rf "$tmp"
	ship_log "debootstrap bookworm into $tmp (log: $SHIP_WORK/arm64-debootstrap.log)"
	debootstrap --variant=minbase bookworm "$tmp" "$(ship_mirror)" \
		>"$SHIP_WORK/arm64-debootstrap.log" 2>&1 ||
		{ tail -n 20 "$SHIP_WORK/arm64-debootstrap.log" >&2; ship_die "debootstrap failed"; }
	if [ -s /etc/apt/sources.list.d/debian.sources ]; then
		cp /etc/apt/sources.list.d/debian.sources "$tmp/etc/apt/sources.list.d/"
		: >"$tmp/etc/apt/sources.list"
	fi
	cp -L /etc/resolv.conf "$tmp/etc/resolv.conf"
	printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"
	chmod 755 "$tmp/usr/sbin/policy-rc.d"
	mkdir -p "$tmp/src"
	CROSS_ROOT=$tmp
	ship_log "installing the arm64 toolchain and :arm64 libraries (log: $SHIP_WORK/arm64-apt.log)"
	cross_run /bin/sh -c '
		set -e
		dpkg --add-architecture arm64
		apt-get update
		apt-get install -y --no-install-recommends "$@"
		apt-get clean
		rm -rf /var/lib/apt/lists/*' sh "${CROSS_TOOLS[@]}" "${CROSS_LIBS[@]/%/:arm64}" \
		>"$SHIP_WORK/arm64-apt.log" 2>&1 ||
		{ tail -n 30 "$SHIP_WORK/arm64-apt.log" >&2; ship_die "installing into the arm64 root failed"; }
	echo "$key" >"$tmp/.ocppgw-cross-key"
	local old
	for old in "$SHIP_WORK"/arm64-root-*; do
		[ "$old" = "$tmp" ] || rm -rf "$old"
	done
	mv "$tmp" "$dir"
	CROSS_ROOT=$dir
	exec 9>&-
	ship_log "arm64 root ready: $dir ($(du -sh "$dir" | cut -f1))"
}

# Runs "$@" in the root as root with a minimal environment. The process
# that execs into CMD writes its pid to $CROSS_PIDFILE when that is set
# (a path inside the root, as seen from the host), so a caller can find a
# background daemon's pid (qemu-user's, with the guest inside it).
cross_run() {
	# shellcheck disable=SC2016 # expanded by the inner bash
	unshare --mount --propagation private -- /bin/bash -c '
		set -e
		r=$1 src=$2 pidfile=$3
		shift 3
		mount -t proc proc "$r/proc"
		mount --rbind /dev "$r/dev"
		mount --bind "$src" "$r/src"
		mount -o remount,bind,ro "$r/src"
		[ -z "$pidfile" ] || echo $$ >"$pidfile"
		exec chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
			LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"' \
		cross-run "$CROSS_ROOT" "$SHIP_ROOT" "${CROSS_PIDFILE:-}" "$@"
}

# Lets the kernel run arm64 executables through Debian's qemu-user-static,
# as the package sets binfmt_misc up on a systemd host (the same line from
# /usr/lib/binfmt.d; F opens the interpreter now, so it works in the root
# too). Needed because Criterion runs each test in a new process that
# re-executes the test binary, and qemu-user hands that execve to the
# kernel. A handler already there is used as it is; cross_binfmt_undo
# removes only what cross_binfmt added.
CROSS_BINFMT_DIR=/proc/sys/fs/binfmt_misc
CROSS_BINFMT_ADDED=""
CROSS_BINFMT_MOUNTED=""
cross_binfmt() {
	ship_need qemu-user-static
	if [ ! -e "$CROSS_BINFMT_DIR/register" ]; then
		mount -t binfmt_misc binfmt_misc "$CROSS_BINFMT_DIR" ||
			ship_die "cannot mount binfmt_misc"
		CROSS_BINFMT_MOUNTED=1
	fi
	if [ -e "$CROSS_BINFMT_DIR/qemu-aarch64" ]; then
		grep -qx enabled "$CROSS_BINFMT_DIR/qemu-aarch64" ||
			ship_die "$CROSS_BINFMT_DIR/qemu-aarch64 is there but disabled"
		return 0
	fi
	grep -v '^#' /usr/lib/binfmt.d/qemu-aarch64.conf >"$CROSS_BINFMT_DIR/register"
	CROSS_BINFMT_ADDED=1
	ship_log "registered qemu-aarch64 with binfmt_misc (removed at exit)"
}

cross_binfmt_undo() {
	if [ -n "$CROSS_BINFMT_ADDED" ]; then
		echo -1 >"$CROSS_BINFMT_DIR/qemu-aarch64" || true
		CROSS_BINFMT_ADDED=""
	fi
	if [ -n "$CROSS_BINFMT_MOUNTED" ]; then
		umount "$CROSS_BINFMT_DIR" || true
		CROSS_BINFMT_MOUNTED=""
	fi
}
