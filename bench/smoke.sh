#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A tiny benchmark (50 chargers, 5 s, direct and through the gateway) for the
# test suite: it prints the numbers and asserts only that the run completed.
# Usage: bench/smoke.sh   (binaries from $OCPPGW_SIM_BIN and $OCPPGW_BIN)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
modes=direct
if [ -x "${OCPPGW_BIN:-$here/../build/src/ocppgw}" ]; then
	modes=direct,gateway
else
	echo "gateway binary not found: direct only" >&2
fi
results=$(mktemp -d /tmp/ocppgw-smoke.XXXXXX)
trap 'rm -rf "$results"' EXIT
"$here/run.sh" --counts 50 --rate 200 --duration 5 --ramp 200 --modes "$modes" --results "$results"
