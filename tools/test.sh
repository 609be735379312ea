#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The project's test command: install what is missing, build in build/, run
# every test suite, and end with one line "N passed, N failed" counted from
# meson's test log. Exits non-zero when anything failed.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash tools/setup.sh || exit 1

if [ -d build/meson-private ]; then
	meson setup --reconfigure build || exit 1
else
	meson setup build || exit 1
fi
meson compile -C build || exit 1

meson test -C build --print-errorlogs
rc=$?

counts="$(python3 - build/meson-logs/testlog.json <<'PY'
import json, sys
passed = failed = 0
try:
    with open(sys.argv[1]) as f:
        for line in f:
            if not line.strip():
                continue
            result = json.loads(line).get("result")
            if result in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif result != "SKIP":
                failed += 1
except FileNotFoundError:
    pass
print(passed, failed)
PY
)" || counts="0 1"
read -r passed failed <<<"$counts"
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
	failed=1 # meson test failed without a failing test in its log
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
