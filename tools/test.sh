#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The project's test command: install what is missing, build in build/, run
# every test suite, then the suites again on an ASan+UBSan build in
# build-asan/, then the slow suites one test at a time (fuzz: each target
# for a bounded time; ship: the image, compose demo, .deb, systemd unit,
# release builds and arm64), and end with one line "N passed, N failed"
# counted from meson's test logs. Exits non-zero when anything failed.
#   OGW_NO_SANITIZE=1  skip the ASan+UBSan pass
#   OGW_NO_SHIP=1      skip the fuzz and ship suites
# One suite or test alone: meson test -C build --suite ship image
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash tools/setup.sh || exit 1

# The ship suite's base image root and arm64 root are made in the
# background meanwhile (mostly downloads and unpacking, at low priority);
# its checks wait for them on their locks. Stopped if this script ends
# first.
prep_pid=""
if [ "${OGW_NO_SHIP:-}" != 1 ]; then
	prep_log="${TMPDIR:-/tmp}/ocppgw-ship-prepare.log"
	setsid nice -n 19 ionice -c 2 -n 7 bash tools/ship/prepare.sh >"$prep_log" 2>&1 &
	prep_pid=$!
	trap '[ -z "$prep_pid" ] || kill -- -"$prep_pid" 2>/dev/null' EXIT
fi

if [ -d build/meson-private ]; then
	meson setup --reconfigure build -Dwerror=true || exit 1
else
	meson setup build -Dwerror=true || exit 1
fi
meson compile -C build || exit 1

meson test -C build --print-errorlogs --no-suite ship --no-suite fuzz
rc=$?

# Every suite again against an ASan+UBSan build (debug, leak checks on): a
# memory error, undefined behaviour or leak in the gateway, the simulator or
# a unit under test fails its test. OGW_NO_SANITIZE=1 skips this pass.
logs=(build/meson-logs/testlog.json)
if [ "${OGW_NO_SANITIZE:-}" != 1 ]; then
	if [ -d build-asan/meson-private ]; then
		meson setup --reconfigure build-asan -Dwerror=true >/dev/null || exit 1
	else
		meson setup build-asan -Dwerror=true -Db_sanitize=address,undefined -Dbuildtype=debug >/dev/null || exit 1
	fi
	meson compile -C build-asan >/dev/null || exit 1
	ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C build-asan --print-errorlogs --suite unit --suite interop --suite sim ||
		rc=1
	logs+=(build-asan/meson-logs/testlog.json)
fi

# Slow suites last, alone and one test at a time: they build images and
# packages, fuzz for fixed times and run qemu, and would starve the timing
# of the interop tests if run beside them. Their log is a separate file.
if [ "${OGW_NO_SHIP:-}" != 1 ]; then
	if wait "$prep_pid"; then
		tail -n 1 "$prep_log"
	else
		echo "tools/ship/prepare.sh failed (the ship checks make what is missing themselves):"
		tail -n 5 "$prep_log"
	fi
	prep_pid=""
	meson test -C build --print-errorlogs --suite fuzz --suite ship --num-processes 1 \
		--logbase ship-testlog || rc=1
	logs+=(build/meson-logs/ship-testlog.json)
fi

counts="$(python3 - "${logs[@]}" <<'PY'
import json, sys
passed = failed = 0
for path in sys.argv[1:]:
    try:
        with open(path) as f:
            for line in f:
                if not line.strip():
                    continue
                result = json.loads(line).get("result")
                if result in ("OK", "EXPECTEDFAIL"):
                    passed += 1
                elif result != "SKIP":
                    failed += 1
    except FileNotFoundError:
        failed += 1
print(passed, failed)
PY
)" || counts="0 1"
read -r passed failed <<<"$counts"
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
	failed=1 # meson test failed without a failing test in its log
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
