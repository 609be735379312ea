#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The system calls the gateway makes per relayed call, counted (not timed)
# with strace while 20 simulated chargers send their mixed load through it
# to the responder. Passes when the frames the gateway sends to the CSMS
# cost no read() each: lws masks every client frame with four random
# bytes, which it read from /dev/urandom one frame at a time until
# src/transport/random.c took lws_get_random()'s place. The check holds
# whichever way the binary is built: a build where the library's own
# lws_get_random() wins again (static linking, -Bsymbolic) fails it.
# Usage: syscalls.sh (OCPPGW_BIN, OCPPGW_SIM_BIN in the environment)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/../../bench/lib.sh"
command -v strace >/dev/null || { echo "strace not installed (tools/setup.sh installs it)" >&2; exit 1; }

work=$(mktemp -d -t ocppgw-syscalls.XXXXXX)   # in $TMPDIR, or /tmp when it is unset
trap 'bench_stop_all; rm -rf "$work"' EXIT

bench_start_responder "$work"
bench_start_gateway "$work" "$RESP_PORT"
"$(bench_sim_bin)" --url "ws://127.0.0.1:$PROXY_PORT/ocpp" --load --count 20 --rate 100 \
	--mix 1.6:60,2.0.1:30,2.1:10 --ramp 100 --duration 8 --json -q \
	>"$work/sim.json" 2>"$work/sim.err" &
sim=$!
BENCH_PIDS+=("$sim")
for ((i = 0; i < 300; i++)); do
	grep -q '^load:' "$work/sim.err" && break
	kill -0 "$sim" 2>/dev/null || { cat "$work/sim.err" >&2; exit 1; }
	sleep 0.1
done
# every thread of the gateway (the loop, the store's), 4 s of the load
strace -f -c -q -o "$work/strace.txt" -p "$PROXY_PID" &
tracer=$!
sleep 4
kill -INT "$tracer"
wait "$tracer" || true
wait "$sim"
cat "$work/strace.txt"

python3 - "$work/strace.txt" "$work/sim.json" <<'PY'
import json, sys
counts = {}
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) >= 5 and f[-1] != "total" and f[3].isdigit():
        counts[f[-1]] = int(f[3])
sim = json.load(open(sys.argv[2]))
assert sim["errors"] == 0, "the simulator saw errors: %s" % sim
# Each relayed call is two frames the gateway reads (the charger's CALL, the
# CSMS's answer) and two it writes: recvfrom and sendto count them.
frames_out = counts.get("sendto", 0) + counts.get("writev", 0) + counts.get("write", 0)
calls = frames_out / 2
print("gateway, 4 s of 100 calls/s: %d system calls, %d frames written, read() %d" % (
    sum(counts.values()), frames_out, counts.get("read", 0)))
assert calls >= 200, "too few frames seen to judge: %s" % counts
reads = counts.get("read", 0)
assert reads <= calls * 0.05, \
    "%d read() for %d relayed calls: a read per frame again (lws_get_random?)" % (reads, calls)
PY
