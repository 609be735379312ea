#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark: the same load through (a) nothing (sim -> responder), (b) nginx as
# a plain WebSocket reverse proxy and (c) ocppgw, for each fleet size. Prints
# a table and writes bench/results/bench-<date>.json. Numbers are reported,
# never asserted. See docs/PERFORMANCE.md for what each column measures.
set -euo pipefail

usage() {
	cat <<EOF
Usage: bench/run.sh [--counts 1000,5000,10000] [--rate 2000] [--duration 30]
                    [--ramp 1000] [--modes direct,nginx,gateway,translated,mqtt]
                    [--mix 1.6:60,2.0.1:30,2.1:10] [--results DIR]
                    [--baseline OCPPGW_BINARY] [--sweep RATE,RATE,...] [--syscalls]
                    [--profile] [--keep]
  translated: the gateway with --upstream-ocpp 2.0.1 (use --mix 1.6:100 to
  translate every charger, and compare with gateway on the same mix)
  baseline, baseline-translated: the same two with the --baseline binary
  (another build of ocppgw, e.g. the previous commit's), so that a change
  is compared with what it replaces in one invocation
  mqtt: the gateway with an MQTT uplink: gateway -> mosquitto -> ocppgw
  bridge -> responder (CPU per call: the gateway's, and the whole path's)
  --sweep: after the runs above, the rate sweep: nginx and gateway (those
  of --modes) at the smallest count, at each of these rates; the highest
  rate each held (calls/s within 2 % of the offered rate, p99 <= 100 ms,
  no errors) goes into the targets table
  Every invocation ends with issue 19's targets, where its runs measure
  them (see docs/PERFORMANCE.md)
  --syscalls: count the proxy's system calls during the load phase
  (strace -c on every process and thread of it) and print them per
  relayed call; strace slows the proxy, so the CPU and latency columns of
  such a run are not comparable with others
  --profile: sample the proxy's CPU during the load phase (perf record -e
  cpu-clock, every thread; apt-get install linux-perf) and print where its
  time went, by library and by function (self time), for each run; the
  whole report goes to bench/results/profile-<date>-<mode>-<N>-<rate>.txt;
  \$BENCH_PERF_ARGS adds to perf record's arguments (e.g. --call-graph dwarf)
  --keep: leave the work directory (every process's stderr, the stores)
  in place and print where it is
Binaries: \$OCPPGW_SIM_BIN (default build/src/sim/ocppgw-sim),
          \$OCPPGW_BIN (default build/src/ocppgw).
EOF
}

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

counts=1000,5000,10000
rate=2000
duration=30
ramp=1000
modes=direct,nginx,gateway
mix=1.6:60,2.0.1:30,2.1:10
results="$here/results"
baseline=""
keep=""
sweep=""
syscalls=""
profile=""
while [ $# -gt 0 ]; do
	case $1 in
	--counts) counts=$2; shift 2 ;;
	--rate) rate=$2; shift 2 ;;
	--duration) duration=$2; shift 2 ;;
	--ramp) ramp=$2; shift 2 ;;
	--modes) modes=$2; shift 2 ;;
	--mix) mix=$2; shift 2 ;;
	--results) results=$2; shift 2 ;;
	--baseline) baseline=$2; shift 2 ;;
	--sweep) sweep=$2; shift 2 ;;
	--syscalls) syscalls=1; shift ;;
	--profile) profile=1; shift ;;
	--keep) keep=1; shift ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done

case ",$modes," in
*,baseline,*|*,baseline-translated,*)
	[ -x "$baseline" ] || { echo "modes baseline*: --baseline names no executable: '$baseline'" >&2; exit 2; } ;;
esac
sim=$(bench_sim_bin)
[ -x "$sim" ] || { echo "simulator not found: $sim (set OCPPGW_SIM_BIN)" >&2; exit 1; }
bench_raise_nofile
work=$(mktemp -d "${TMPDIR:-/tmp}/ocppgw-bench.XXXXXX")
if [ -n "$keep" ]; then
	trap 'bench_stop_all; echo "kept: $work" >&2' EXIT
else
	trap 'bench_stop_all; rm -rf "$work"' EXIT
fi
mkdir -p "$results"
stamp=$(date -u +%Y%m%d-%H%M%S)
out="$results/bench-$stamp.json"
records="$work/records.jsonl"
: >"$records"
hz=$(getconf CLK_TCK)

now() { date +%s.%N; }

# run_one MODE COUNT RATE PHASE: one measurement, appended to $records as a
# JSON line (PHASE: "sizes" or "sweep").
run_one() {
	local mode=$1 n=$2 rate=$3 phase=$4 dir port simpid i
	local rss0=null rss1=null cpu0=0 cpu1=0 sys0=0 sys1=0 t0 t1 note="" p pids
	# the processes beside the gateway on its uplink (mqtt: broker, bridge)
	local path_pids=() path0=0 path1=0 strace_pid="" perf_pid="" rig0=0 rig1=0
	dir="$work/$mode-$n-$rate"
	mkdir -p "$dir"
	bench_start_responder "$dir" || return 1
	PROXY_PID=""
	case $mode in
	direct) port=$RESP_PORT ;;
	nginx) bench_start_nginx "$dir" "$RESP_PORT" "$n" || { bench_stop_all; return 1; }; port=$PROXY_PORT ;;
	gateway) bench_start_gateway "$dir" "$RESP_PORT" || { bench_stop_all; return 1; }; port=$PROXY_PORT ;;
	translated) bench_start_gateway "$dir" "$RESP_PORT" --upstream-ocpp 2.0.1 ||
			{ bench_stop_all; return 1; }; port=$PROXY_PORT ;;
	baseline) OCPPGW_BIN=$baseline bench_start_gateway "$dir" "$RESP_PORT" ||
			{ bench_stop_all; return 1; }; port=$PROXY_PORT ;;
	baseline-translated) OCPPGW_BIN=$baseline bench_start_gateway "$dir" "$RESP_PORT" \
			--upstream-ocpp 2.0.1 || { bench_stop_all; return 1; }; port=$PROXY_PORT ;;
	mqtt) { bench_start_mosquitto "$dir" && bench_start_bridge "$dir" "$MQTT_PORT" "$RESP_PORT" &&
			BENCH_CSMS_URL="mqtt://127.0.0.1:$MQTT_PORT/bench" bench_start_gateway "$dir" "$RESP_PORT"; } ||
			{ bench_stop_all; return 1; }
		port=$PROXY_PORT
		path_pids=("$MQTT_PID" "$BRIDGE_PID") ;;
	*) echo "unknown mode: $mode" >&2; bench_stop_all; return 1 ;;
	esac
	[ -n "$PROXY_PID" ] && rss0=$(bench_rss_kb "$PROXY_PID")
	"$sim" --url "ws://127.0.0.1:$port/ocpp" --load --count "$n" --rate "$rate" --mix "$mix" \
		--ramp "$ramp" --duration "$duration" --json -q \
		>"$dir/sim.json" 2>"$dir/sim.err" &
	simpid=$!
	BENCH_PIDS+=("$simpid")
	# The load phase starts once every charger is connected: sample there.
	for ((i = 0; i < (n / ramp + 120) * 10; i++)); do
		grep -q '^load:' "$dir/sim.err" 2>/dev/null && break
		kill -0 "$simpid" 2>/dev/null || break
		sleep 0.1
	done
	t0=$(now)
	if [ -n "$PROXY_PID" ]; then
		rss1=$(bench_rss_kb "$PROXY_PID")
		cpu0=$(bench_cpu_ticks "$PROXY_PID")
		sys0=$(bench_cpu_ticks "$PROXY_PID" sys)
		for p in "${path_pids[@]}"; do path0=$((path0 + $(bench_cpu_ticks "$p"))); done
		# the load's own side: the simulator and the responder
		rig0=$(($(bench_cpu_ticks "$simpid") + $(bench_cpu_ticks "$RESP_PID")))
		if [ -n "$syscalls" ]; then
			# the proxy and its children (nginx's worker), every thread
			# shellcheck disable=SC2046
			strace -c -f -q -o "$dir/strace.txt" \
				$(for p in "$PROXY_PID" $(pgrep -P "$PROXY_PID"); do echo "-p $p"; done) &
			strace_pid=$!
		fi
		if [ -n "$profile" ]; then
			# 999 Hz software clock: needs no hardware counters
			pids=$PROXY_PID
			for p in $(pgrep -P "$PROXY_PID"); do pids=$pids,$p; done
			perf record -q -e cpu-clock -F 999 ${BENCH_PERF_ARGS:-} -o "$dir/perf.data" -p "$pids" \
				>/dev/null 2>"$dir/perf.err" &
			perf_pid=$!
		fi
		sleep "$(python3 -c "print($duration * 0.9)")"
		cpu1=$(bench_cpu_ticks "$PROXY_PID")
		sys1=$(bench_cpu_ticks "$PROXY_PID" sys)
		for p in "${path_pids[@]}"; do path1=$((path1 + $(bench_cpu_ticks "$p"))); done
		rig1=$(($(bench_cpu_ticks "$simpid") + $(bench_cpu_ticks "$RESP_PID")))
		if [ -n "$strace_pid" ]; then
			kill -INT "$strace_pid" 2>/dev/null || true
			wait "$strace_pid" 2>/dev/null || true
		fi
		if [ -n "$perf_pid" ]; then
			kill -INT "$perf_pid" 2>/dev/null || true
			wait "$perf_pid" 2>/dev/null || true
		fi
	fi
	t1=$(now)
	wait "$simpid" || note="sim exit $?"
	bench_stop_all
	if [ -n "$perf_pid" ] && [ -s "$dir/perf.data" ]; then
		bench_profile_report "$dir/perf.data" "$results/profile-$stamp-$mode-$n-$rate.txt" \
			"$mode, $n chargers, $rate msg/s"
	fi
	python3 - "$mode" "$n" "$dir/sim.json" "$rss0" "$rss1" "$cpu0" "$cpu1" "$hz" "$t0" "$t1" "$note" \
		"$((path1 - path0))" "$rate" "$phase" "${strace_pid:+$dir/strace.txt}" "$((sys1 - sys0))" \
		"$((rig1 - rig0))" >>"$records" <<'EOF'
import json, sys
mode, n, path, rss0, rss1, cpu0, cpu1, hz, t0, t1, note, beside, rate, phase, strace, sys_ticks, \
    rig_ticks = sys.argv[1:]
try:
    sim = json.load(open(path))
except Exception as e:
    sim = {}
    note = (note + "; " if note else "") + "no report: %s" % e
rec = {"mode": mode, "chargers": int(n), "rate": float(rate), "phase": phase, "sim": sim,
       "note": note}
if rss0 != "null":
    rss0, rss1 = int(rss0), int(rss1)
    window = float(t1) - float(t0)
    calls = sim.get("throughput_per_s", 0) * window
    cpu = (int(cpu1) - int(cpu0)) / float(hz)
    rec.update({"rss_before_kb": rss0, "rss_connected_kb": rss1,
                "kb_per_charger": (rss1 - rss0) / int(n),
                "cpu_s": cpu, "window_s": window,
                "cpu_us_per_call": cpu * 1e6 / calls if calls else None,
                "sys_us_per_call": int(sys_ticks) / float(hz) * 1e6 / calls if calls else None,
                # cores busy over the window: the proxy's, and the simulator's
                # and responder's (the same machine's other side of the load)
                "proxy_cores": cpu / window if window else None,
                "rig_cores": int(rig_ticks) / float(hz) / window if window else None})
    if mode == "mqtt":
        # the whole uplink: gateway, broker and bridge
        path_cpu = cpu + int(beside) / float(hz)
        rec.update({"path_cpu_s": path_cpu,
                    "path_cpu_us_per_call": path_cpu * 1e6 / calls if calls else None})
    if strace:
        # strace -c's table: % time, seconds, usecs/call, calls, [errors,] syscall
        counts = {}
        try:
            for line in open(strace):
                f = line.split()
                if len(f) >= 5 and f[-1] != "total" and f[3].isdigit():
                    counts[f[-1]] = int(f[3])
        except OSError:
            pass
        rec["syscalls"] = counts
        rec["syscalls_per_call"] = sum(counts.values()) / calls if calls else None
print(json.dumps(rec))
EOF
}

IFS=, read -r -a count_list <<<"$counts"
IFS=, read -r -a mode_list <<<"$modes"
for n in "${count_list[@]}"; do
	for m in "${mode_list[@]}"; do
		echo "== $m, $n chargers, $rate msg/s, $duration s" >&2
		run_one "$m" "$n" "$rate" sizes || echo "   $m skipped (see above)" >&2
	done
done
if [ -n "$sweep" ]; then
	IFS=, read -r -a sweep_list <<<"$sweep"
	smallest=$(printf '%s\n' "${count_list[@]}" | sort -n | head -1)
	for r in "${sweep_list[@]}"; do
		for m in "${mode_list[@]}"; do
			case $m in nginx|gateway) ;; *) continue ;; esac
			echo "== sweep: $m, $smallest chargers, $r msg/s, $duration s" >&2
			run_one "$m" "$smallest" "$r" sweep || echo "   $m skipped (see above)" >&2
		done
	done
fi

BENCH_BASELINE=$baseline BENCH_GATEWAY=$(bench_gw_bin) BENCH_SWEEP=$sweep \
python3 - "$records" "$out" "$counts" "$rate" "$duration" "$ramp" <<'EOF'
import json, os, sys, time
records, out, counts, rate, duration, ramp = sys.argv[1:]
recs = [json.loads(l) for l in open(records) if l.strip()]
def lat(r, q):
    return r["sim"].get("latency_ms", {}).get(q)
def fmt(v, f="%.2f"):
    return "-" if v is None else f % v
def table(hdr, rows):
    w = [max(len(x[i]) for x in rows + [hdr]) for i in range(len(hdr))]
    line = lambda x: "| " + " | ".join(v.ljust(w[i]) for i, v in enumerate(x)) + " |"
    print(line(hdr))
    print("|" + "|".join("-" * (n + 2) for n in w) + "|")
    for x in rows:
        print(line(x))
# one run per mode, size and offered rate (a later run of the same replaces it)
by = {(r["mode"], r["chargers"], r["rate"]): r for r in recs}
hdr = ("mode", "N", "rate", "calls/s", "p50 ms", "p99 ms", "+p50 ms", "+p99 ms",
       "RSS0 MiB", "RSS MiB", "KiB/chg", "CPU us/call", "of it sys", "errors")
rows = []
for r in recs:
    d = by.get(("direct", r["chargers"], r["rate"]))
    add50 = add99 = None
    if d and r["mode"] != "direct" and lat(r, "p50") is not None and lat(d, "p50") is not None:
        add50, add99 = lat(r, "p50") - lat(d, "p50"), lat(r, "p99") - lat(d, "p99")
    rows.append((r["mode"], str(r["chargers"]), "%.0f" % r["rate"],
                 fmt(r["sim"].get("throughput_per_s"), "%.0f"),
                 fmt(lat(r, "p50")), fmt(lat(r, "p99")), fmt(add50), fmt(add99),
                 fmt(r.get("rss_before_kb") and r["rss_before_kb"] / 1024, "%.1f"),
                 fmt(r.get("rss_connected_kb") and r["rss_connected_kb"] / 1024, "%.1f"),
                 fmt(r.get("kb_per_charger"), "%.1f"), fmt(r.get("cpu_us_per_call"), "%.1f"),
                 fmt(r.get("sys_us_per_call"), "%.1f"),
                 str(r["sim"].get("errors", "?")) + (" (%s)" % r["note"] if r["note"] else "")))
table(hdr, rows)

# Ratios of each gateway run against nginx and against the baseline build
# (translated and mqtt: against the pass-through gateway too), at the same
# fleet size and rate in this invocation.
def ratio(a, b, key):
    va, vb = a.get(key), b.get(key)
    return "-" if va is None or not vb else "%.2fx" % (va / vb)
ratios = []
for (mode, n, rt), r in sorted(by.items(), key=lambda kv: (kv[0][2], kv[0][1], kv[0][0])):
    if mode in ("direct", "nginx") or mode.startswith("baseline"):
        continue
    refs = ["nginx", "baseline" if mode == "gateway" else "baseline-" + mode]
    if mode in ("mqtt", "translated"):
        refs.append("gateway")
    for ref in refs:
        b = by.get((ref, n, rt))
        if not b:
            continue
        ratios.append((mode, ref, str(n), "%.0f" % rt, ratio(r, b, "cpu_us_per_call"),
                       ratio(r, b, "kb_per_charger"),
                       "%s vs %s" % (fmt(lat(r, "p99")), fmt(lat(b, "p99"))),
                       ratio(r["sim"], b["sim"], "throughput_per_s")))
# The MQTT uplink's whole path (gateway + broker + bridge) per call.
for r in recs:
    if r["mode"] == "mqtt" and r.get("path_cpu_us_per_call") is not None:
        g = by.get(("gateway", r["chargers"], r["rate"]), {})
        print("mqtt, %d chargers: CPU per call of the whole uplink (gateway + mosquitto + bridge) "
              "%.1f us; the gateway alone %s us; the WebSocket uplink's gateway %s us"
              % (r["chargers"], r["path_cpu_us_per_call"], fmt(r.get("cpu_us_per_call"), "%.1f"),
                 fmt(g.get("cpu_us_per_call"), "%.1f")))
if ratios:
    print()
    table(("mode", "against", "N", "rate", "CPU/call", "KiB/chg", "p99 ms", "calls/s"), ratios)
# --syscalls: the proxy's system calls per relayed call, the busiest first
sys_runs = [r for r in recs if r.get("syscalls")]
if sys_runs:
    names = {}
    for r in sys_runs:
        for k, v in r["syscalls"].items():
            names[k] = max(names.get(k, 0), v)
    top = sorted(names, key=lambda k: -names[k])[:10]
    def per_call(r, k):
        calls = r["sim"].get("throughput_per_s", 0) * r["window_s"]
        return "%.2f" % (r["syscalls"].get(k, 0) / calls) if calls else "-"
    print()
    table(("mode", "N", "rate", "syscalls/call") + tuple(top),
          [(r["mode"], str(r["chargers"]), "%.0f" % r["rate"], fmt(r.get("syscalls_per_call")))
           + tuple(per_call(r, k) for k in top) for r in sys_runs])

# The sweep's runs: how busy the machine's cores were, the proxy's against
# the load's own side (simulator and responder), which share them.
sweep_runs = [r for r in recs if r["phase"] == "sweep" and r.get("proxy_cores") is not None]
if sweep_runs:
    print("\nThe rate sweep: cores busy (of %d), the proxy and the load's own side" % os.cpu_count())
    table(("mode", "N", "rate", "calls/s", "proxy", "simulator + responder", "all"),
          [(r["mode"], str(r["chargers"]), "%.0f" % r["rate"],
            fmt(r["sim"].get("throughput_per_s"), "%.0f"), fmt(r["proxy_cores"]),
            fmt(r["rig_cores"]), fmt(r["proxy_cores"] + r["rig_cores"]))
           for r in sweep_runs])

# Issue 19's targets, each where this invocation measured it; nginx is the
# reference, run in the same invocation at the same size and rate.
def held(r):
    s = r["sim"]
    return (s.get("throughput_per_s", 0) >= 0.98 * r["rate"] and lat(r, "p99") is not None
            and lat(r, "p99") <= 100 and s.get("errors", 1) == 0 and not r["note"])
def verdict(ok):
    return "met" if ok else "NOT met"
targets = []
def ratio_target(what, at, a, b, key, unit, limit):
    """a's key over b's, against limit (a ratio no higher than it is met)."""
    if a and b and a.get(key) and b.get(key):
        v = a[key] / b[key]
        targets.append((what, at, "%.1f vs %.1f %s = %.2fx" % (a[key], b[key], unit, v),
                        verdict(v <= limit)))
for (mode, n, rt), g in sorted(by.items(), key=lambda kv: (kv[0][1], kv[0][2])):
    if mode != "gateway" or g["phase"] != "sizes":
        continue
    at = "%d @ %.0f/s" % (n, rt)
    x = by.get(("nginx", n, rt))
    ratio_target("CPU per relayed call <= 1.0x nginx (then 0.5x)", at, g, x, "cpu_us_per_call",
                 "us", 1.0)
    if x and lat(g, "p99") is not None and lat(x, "p99") is not None:
        targets.append(("p99 <= nginx's + 2 ms", at,
                        "%.2f vs %.2f ms" % (lat(g, "p99"), lat(x, "p99")),
                        verdict(lat(g, "p99") <= lat(x, "p99") + 2)))
    ratio_target("memory per charger <= 0.5x nginx (aim 0.3x)", "%d" % n, g, x, "kb_per_charger",
                 "KiB", 0.5)
    ratio_target("translated <= 1.5x pass-through CPU per call", at,
                 by.get(("translated", n, rt)), g, "cpu_us_per_call", "us", 1.5)
sweep = [r for r in recs if r["phase"] == "sweep"]
best = {}
for m in ("nginx", "gateway"):
    rs = [r for r in sweep if r["mode"] == m]
    if rs:
        best[m] = max([r["rate"] for r in rs if held(r)], default=0)
if len(best) == 2:
    v = best["gateway"] / best["nginx"] if best["nginx"] else None
    top = max(r["rate"] for r in sweep)
    targets.append(("highest rate held (p99 <= 100 ms) >= 1.25x nginx's",
                    "%d, rates %s" % (sweep[0]["chargers"], os.environ.get("BENCH_SWEEP")),
                    "%.0f vs %.0f/s%s" % (best["gateway"], best["nginx"],
                                          " = %.2fx" % v if v is not None else ""),
                    verdict(v is not None and v >= 1.25) +
                    (" (nginx held the top rate: sweep higher)" if best["nginx"] == top else "")))
if targets:
    print("\nIssue 19's targets, this invocation:")
    table(("target", "N @ rate", "ocppgw vs reference", "verdict"), targets)
meta = {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "nproc": os.cpu_count(),
        "mem_total_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "counts": counts, "rate": float(rate), "duration_s": float(duration), "ramp": float(ramp),
        "sweep": os.environ.get("BENCH_SWEEP") or None,
        "gateway": os.environ.get("BENCH_GATEWAY"),
        "baseline": os.environ.get("BENCH_BASELINE") or None,
        "results": recs}
json.dump(meta, open(out, "w"), indent=1)
print("\nwritten: %s" % out)
EOF
