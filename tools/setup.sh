#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what building and testing ocppgw needs on a fresh Debian 12, as
# root: the C toolchain and libraries, the benchmark baselines (mosquitto,
# nginx-light), Node >= 18 when none is there, and the interop tests' npm
# packages. It changes nothing when everything is already in place, so it
# is cheap to run before every build (tools/test.sh does).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOG="${OCPPGW_SETUP_LOG:-${TMPDIR:-/tmp}/ocppgw-setup.log}"
: >"$LOG"

fail() {
	echo "setup: $1 failed; the last lines of $LOG:" >&2
	tail -n 40 "$LOG" >&2
	exit 1
}
log() { "$@" >>"$LOG" 2>&1; }

PKGS=(build-essential meson ninja-build pkg-config python3
      libwebsockets-dev libmosquitto-dev libconfig-dev libmbedtls-dev
      libjansson-dev libsqlite3-dev libssl-dev libuv1-dev libcriterion-dev openssl
      libmodbus-dev libcurl4-openssl-dev
      mosquitto sqlite3 nginx-light chromium
      python3-pyftpdlib  # the FTP CSMS host of tests/interop/files.test.mjs
      python3-pymodbus   # the SDM630 grid meter of tests/interop/balance-fleet.test.mjs
      python3-serial python3-serial-asyncio  # pymodbus's serial server (only recommended)
      socat              # its Modbus RTU variant: a pty pair as the serial line
      strace             # tests/sim/syscalls.sh and bench/run.sh --syscalls
      clang)  # clang: the libFuzzer targets (tests/fuzz, meson suite fuzz)

node_ok() {
	command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 &&
		[ "$(node -p 'process.versions.node.split(".")[0]')" -ge 18 ]
}
node_ok || PKGS+=(nodejs npm)

missing=()
for p in "${PKGS[@]}"; do
	[ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" = installed ] ||
		missing+=("$p")
done

if ((${#missing[@]})); then
	SUDO=()
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null 2>&1 || {
			echo "setup: not root and no sudo; install: ${missing[*]}" >&2
			exit 1
		}
		SUDO=(sudo)
	fi
	echo "setup: installing ${missing[*]} (log: $LOG)"
	# Package scripts must not start mosquitto or nginx as services here.
	policy=/usr/sbin/policy-rc.d
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$policy" >/dev/null
		"${SUDO[@]}" chmod 755 "$policy"
		trap '"${SUDO[@]}" rm -f "$policy"' EXIT
	fi
	export DEBIAN_FRONTEND=noninteractive
	log "${SUDO[@]}" apt-get update || fail "apt-get update"
	log "${SUDO[@]}" apt-get install -y --no-install-recommends "${missing[@]}" ||
		fail "apt-get install"
	node_ok || fail "installing Node >= 18"
fi

# The interop tests' packages, pinned by the lock file; a stamp of the lock
# file's hash in node_modules tells whether they are current.
interop="$ROOT/tests/interop"
stamp="$interop/node_modules/.ocppgw-lock-sha256"
want="$(sha256sum "$interop/package-lock.json" | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
	echo "setup: npm ci in tests/interop (log: $LOG)"
	(cd "$interop" && log npm ci --no-audit --no-fund) || fail "npm ci"
	echo "$want" >"$stamp"
fi
echo "setup: ok"
