#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Heap per charger, exactly: the gateway under heaptrack with N chargers
# connected and a trickle of calls, then (a) its peak heap per charger and
# (b) each allocation site that allocated once per charger (a session, its
# EVSE table, its transaction-log state, lws's per-connection buffers) with
# its bytes per charger. RSS (bench/run.sh) moves by +-0.5 KiB per charger
# between runs of the same binary; (b) does not move, so a change in what
# one charger costs shows there. With --baseline, the same for another
# build, in the same invocation. Numbers are reported, never asserted.
set -euo pipefail

usage() {
	echo "Usage: bench/heap.sh [--count 2000] [--baseline OCPPGW_BINARY]" >&2
}

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

count=2000
baseline=""
while [ $# -gt 0 ]; do
	case $1 in
	--count) count=$2; shift 2 ;;
	--baseline) baseline=$2; shift 2 ;;
	-h|--help) usage; exit 0 ;;
	*) usage; exit 2 ;;
	esac
done
command -v heaptrack >/dev/null || { echo "heaptrack not installed (apt-get install heaptrack)" >&2; exit 1; }
sim=$(bench_sim_bin)
bench_raise_nofile
work=$(mktemp -d "${TMPDIR:-/tmp}/ocppgw-heap.XXXXXX")
trap 'bench_stop_all; rm -rf "$work"' EXIT

# measure NAME BINARY: prints one block for that binary.
measure() {
	local name=$1 bin=$2 dir="$work/$1" port gwpid i
	mkdir -p "$dir"
	bench_start_responder "$dir"
	port=$(bench_free_port)
	heaptrack -o "$dir/heap" "$bin" --listen "127.0.0.1:$port" \
		--csms "ws://127.0.0.1:$RESP_PORT/ocpp" -q --admin "" --data-dir "$dir/data" \
		>"$dir/heaptrack.out" 2>"$dir/gateway.err" &
	BENCH_PIDS+=("$!")
	bench_wait_port "$port" 20 || { echo "$name: gateway did not start" >&2; return 1; }
	"$sim" --url "ws://127.0.0.1:$port/ocpp" --load --count "$count" --rate 20 \
		--mix 1.6:60,2.0.1:30,2.1:10 --ramp 1000 --duration 5 --json -q \
		>"$dir/sim.json" 2>"$dir/sim.err"
	# SIGINT to the gateway itself (heaptrack runs it as a child of a shell)
	gwpid=$(pgrep -f "^$bin --listen 127.0.0.1:$port" | head -1)
	kill -INT "$gwpid"
	for ((i = 0; i < 200; i++)); do
		ls "$dir"/heap.*zst >/dev/null 2>&1 && ! kill -0 "$gwpid" 2>/dev/null && break
		sleep 0.1
	done
	bench_stop_all
	sleep 1 # heaptrack_interpret finishes its file
	heaptrack_print -f "$dir"/heap.*zst --print-peaks 1 --print-allocators 0 \
		--print-temporary 0 --print-leaks 0 -n 60 >"$dir/peaks.txt" 2>/dev/null
	python3 - "$name" "$count" "$dir/peaks.txt" <<'EOF'
import re, sys
name, n, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
units = {"B": 1, "K": 1e3, "M": 1e6, "G": 1e9}
def size(s):
    m = re.match(r"([0-9.]+)([KMGB])", s)
    return float(m.group(1)) * units[m.group(2)]
lines = open(path).read().splitlines()
peak = next((l for l in lines if l.startswith("peak heap memory consumption")), "")
print(f"== {name}: {n} chargers; {peak}"
      + (f" = {size(peak.split(': ')[1]) / n / 1024:.2f} KiB per charger" if peak else ""))
total = 0.0
for i, l in enumerate(lines):
    m = re.match(r"([0-9.]+[KMGB]) peak memory consumed over (\d+) calls from", l)
    if not m or int(m.group(2)) != n:
        continue
    where = lines[i + 1].strip() if i + 1 < len(lines) else "?"
    per = size(m.group(1)) / n
    total += per
    print(f"   {per:8.0f} B/charger  {where}")
print(f"   {total:8.0f} B/charger  allocated once per charger, in all")
EOF
}

measure gateway "$(bench_gw_bin)"
[ -n "$baseline" ] && measure baseline "$baseline"
exit 0
