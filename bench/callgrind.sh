#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Instructions the gateway's loop spends on a small mixed load, counted by
# valgrind's callgrind: repeatable for the same binary and load whatever else
# the machine is doing (a shared machine makes CPU-time figures noisy).
#   bench/callgrind.sh OUT [OCPPGW_BINARY]    (MIX=1.6:100 for one version)
# OCPPGW_ARGS: more gateway options (translated: --upstream-ocpp 2.0.1);
# CALLGRIND_ARGS: valgrind's (--toggle-collect=uv_run: the loop alone).
# 100 chargers, 100 calls/s for 30 s (3,000 calls, seed 3), responder as
# CSMS. Prints the calls answered and the instructions inside uv_run (the
# start-up, schema and TLS set-up excluded); callgrind_annotate OUT shows
# where they go.
set -euo pipefail
out=${1:?usage: bench/callgrind.sh OUT [OCPPGW_BINARY]}
root=$(cd "$(dirname "$0")/.." && pwd)
gw=${2:-$root/build/src/ocppgw}
sim=${OCPPGW_SIM_BIN:-$root/build/src/sim/ocppgw-sim}
dir=$(mktemp -d -t ocppgw-callgrind.XXXXXX)   # under $TMPDIR, else /tmp
rp='' gp='' rport=''
trap 'kill $rp $gp 2>/dev/null || true; rm -rf "$dir"' EXIT
"$sim" --csms --listen 127.0.0.1:0 -q >"$dir/resp.out" 2>"$dir/resp.err" & rp=$!
for _ in $(seq 50); do
	rport=$(grep -ohE '127\.0\.0\.1:[0-9]+' "$dir/resp.out" "$dir/resp.err" | head -1 | cut -d: -f2 || true)
	if [ -n "$rport" ]; then break; fi
	sleep 0.1
done
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
valgrind --tool=callgrind ${CALLGRIND_ARGS:-} --callgrind-out-file="$out" "$gw" --listen "127.0.0.1:$port" \
	--csms "ws://127.0.0.1:$rport/ocpp" --data-dir "$dir/data" --admin "" ${OCPPGW_ARGS:-} 2>"$dir/gw.err" & gp=$!
for _ in $(seq 300); do
	if grep -q "listening on 127.0.0.1:$port" "$dir/gw.err"; then break; fi
	sleep 0.1
done
"$sim" --url "ws://127.0.0.1:$port/ocpp" --load --count 100 --rate 100 \
	--mix "${MIX:-1.6:60,2.0.1:30,2.1:10}" --ramp 50 --duration 30 --seed 3 --json -q \
	>"$dir/sim.json" 2>"$dir/sim.err"
kill -INT "$gp"; wait "$gp" || true
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print('calls ok', d['calls_ok'], 'errors', d['errors'])" "$dir/sim.json"
callgrind_annotate --inclusive=yes "$out" 2>/dev/null | grep -E ' \?\?\?:uv_run ' | head -1
