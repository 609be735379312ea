#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# arm64, as site controllers run us: cross-builds ocppgw, ocppgw-sim and the
# Criterion unit tests with Debian's arm64 toolchain and :arm64 -dev packages
# (in the root tools/ship/cross-root.sh keeps, so the host's dpkg is left
# alone), runs the unit suite and the arm64 gateway under qemu-user between
# the host's responder CSMS and simulated chargers, and reports the stripped
# binary's size and the resident memory with 100 chargers connected, next
# to an x86_64 gateway under the same fleet.
# Usage: bash tests/ship/arm64.sh   (as root; OCPPGW_BUILD: the host build,
# default build/, set up and compiled here when needed)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tools/ship/lib.sh
. "$here/../../tools/ship/lib.sh"
# shellcheck source=tools/ship/cross-root.sh
. "$SHIP_ROOT/tools/ship/cross-root.sh"
# shellcheck source=bench/lib.sh
. "$SHIP_ROOT/bench/lib.sh"

HOST_BUILD=${OCPPGW_BUILD:-$SHIP_ROOT/build}
export OCPPGW_BIN=$HOST_BUILD/src/ocppgw
export OCPPGW_SIM_BIN=$HOST_BUILD/src/sim/ocppgw-sim
FLEET=100
# qemu-aarch64 -L /: the guest's root is the cross root (see the cross file).
QEMU=(qemu-aarch64 -L /)
RESULTS=()

# Each step's wall time, printed as it ends and again in the summary.
STEP=""
STEP_T0=0
ALL_T0=$(date +%s%N)
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }
secs() { awk -v ms="$1" 'BEGIN { printf "%.1f s", ms / 1000 }'; }
step_end() {
	[ -n "$STEP" ] || return 0
	RESULTS+=("$(printf 'time  %-34s %s' "$STEP" "$(secs "$(ms_since "$STEP_T0")")")")
	ship_log "$STEP: $(secs "$(ms_since "$STEP_T0")")"
	STEP=""
}
step() {
	step_end
	STEP=$1
	STEP_T0=$(date +%s%N)
	ship_log "== $1"
}
result() {
	RESULTS+=("$*")
	ship_log "$*"
}

GW_JOB=""
GW_PID=""
finish() {
	local rc=$?
	if [ -n "$GW_PID" ]; then
		kill "$GW_PID" 2>/dev/null || true
		wait "$GW_JOB" 2>/dev/null || true
	fi
	bench_stop_all
	cross_binfmt_undo
	exit "$rc"
}
trap finish EXIT

# The arm64 gateway under qemu-user in the root; its store in /e2e/data.
# Sets GW_PID (qemu's pid: the guest runs inside it) and GW_JOB.
start_arm64_gateway() {
	local port=$1
	rm -f "$WORK/gw.pid"
	CROSS_PIDFILE=$WORK/gw.pid cross_run "${QEMU[@]}" /build/src/ocppgw \
		--listen "127.0.0.1:$port" --csms "ws://127.0.0.1:$RESP_PORT/ocpp" -q --admin "" \
		--data-dir /e2e/data >"$WORK/gw.out" 2>"$WORK/gw.err" &
	GW_JOB=$!
	bench_wait_port "$port" 60 ||
		{ tail -n 20 "$WORK/gw.err" >&2; ship_die "arm64 gateway did not listen on $port"; }
	GW_PID=$(cat "$WORK/gw.pid")
	[ "$(readlink "/proc/$GW_PID/exe")" = "$CROSS_ROOT/usr/bin/qemu-aarch64" ] ||
		ship_die "pid $GW_PID is not qemu-aarch64"
}

# qemu-user's own share of PID's resident memory, in KiB: its binary and
# x86_64 libraries, its heap and the translated-code buffer (the only
# anonymous executable mapping, or its memfd when split: guest code is
# mapped without host exec).
# The rest is the arm64 process's: its files, plus anonymous memory that
# qemu's own mmaps share, so VmRSS minus this is an upper bound.
qemu_own_kb() {
	awk '/^[0-9a-f]+-[0-9a-f]+ / { name = $6; perm = $2
		own = name ~ /x86_64-linux-gnu|memfd:tcg-jit|\/usr\/bin\/qemu-aarch64$|^\[heap\]$/ || (name == "" && perm ~ /x/) }
	     /^Rss:/ && own { kb += $2 }
	     END { print kb + 0 }' "/proc/$1/smaps"
}

# Chargers the responder has connected (each through the gateway).
responder_chargers() {
	python3 -c 'import json, sys, urllib.request
print(len(json.load(urllib.request.urlopen("http://127.0.0.1:%s/chargers" % sys.argv[1], timeout=10))["chargers"]))' \
		"$RESP_PORT"
}

# rss_under_fleet PID GW_PORT LABEL: the simulated fleet against the gateway
# on GW_PORT; once the responder sees all of it connected and 5 s more have
# passed, PID's VmRSS is read. The fleet must end with every call answered.
rss_under_fleet() {
	local pid=$1 port=$2 label=$3 sim t0 n=0
	t0=$(date +%s%N)
	"$OCPPGW_SIM_BIN" --url "ws://127.0.0.1:$port/ocpp" --count "$FLEET" --duration 20 \
		--ramp 50 --seed 5 >"$WORK/fleet-$label.out" 2>"$WORK/fleet-$label.err" &
	sim=$!
	BENCH_PIDS+=("$sim")
	while [ "$(ms_since "$t0")" -lt 15000 ]; do
		n=$(responder_chargers)
		[ "$n" -ge "$FLEET" ] && break
		sleep 0.2
	done
	[ "$n" -ge "$FLEET" ] || ship_die "$label: only $n of $FLEET chargers reached the CSMS"
	result "fleet $label: $FLEET chargers connected through the gateway in $(secs "$(ms_since "$t0")")"
	sleep 5
	RSS_KB=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
	[ "$label" != arm64 ] || QEMU_KB=$(qemu_own_kb "$pid")
	wait "$sim" || { cat "$WORK/fleet-$label.out" "$WORK/fleet-$label.err" >&2; ship_die "$label: the fleet saw errors"; }
	grep -q "^chargers *$FLEET ($FLEET accepted)" "$WORK/fleet-$label.out" ||
		ship_die "$label: $(head -1 "$WORK/fleet-$label.out")"
	result "fleet $label: $(sed -n 's/^calls *//p' "$WORK/fleet-$label.out")"
}

step "host build (responder, fleet)"
[ -f "$HOST_BUILD/build.ninja" ] || nice meson setup "$HOST_BUILD" "$SHIP_ROOT" >/dev/null
nice ninja -C "$HOST_BUILD" src/ocppgw src/sim/ocppgw-sim >/dev/null

step "arm64 root (debootstrap, apt)"
cross_root
cross_binfmt
WORK=$CROSS_ROOT/e2e
rm -rf "$WORK"
mkdir -p "$WORK"

step "cross-build"
cross_run /bin/sh -c '
	set -e
	rm -rf /build
	meson setup /build /src --cross-file /src/tools/ship/aarch64-linux-gnu.txt >/e2e/setup.log ||
		{ tail -n 30 /e2e/setup.log; exit 1; }
	nice ninja -C /build >/e2e/build.log || { tail -n 40 /e2e/build.log; exit 1; }
	file /build/src/ocppgw /build/src/sim/ocppgw-sim /build/tests/unit/util/test-util-text' \
	>"$WORK/file.txt"
cat "$WORK/file.txt" >&2
for f in ocppgw ocppgw-sim test-util-text; do
	grep -qE "/$f: +ELF 64-bit LSB .*ARM aarch64" "$WORK/file.txt" || ship_die "$f is not an arm64 ELF"
done

step "unit tests under qemu"
# Without Criterion for arm64 the unit tests are not even registered.
grep -q 'Run-time dependency criterion found: YES' "$CROSS_ROOT/build/meson-logs/meson-log.txt" ||
	ship_die "the cross build found no arm64 Criterion: no unit tests to run"
# Generous timeouts: qemu runs each test several times slower than native.
cross_run meson test -C /build --suite unit --no-rebuild --print-errorlogs \
	--timeout-multiplier 10 >"$WORK/unit.txt" 2>&1 ||
	{ tail -n 60 "$WORK/unit.txt" >&2; ship_die "unit tests failed under qemu"; }
grep -E '^ *[0-9]+/[0-9]+ ' "$WORK/unit.txt" >&2
result "unit under qemu: $(sed -n 's/^Ok: *\([0-9]*\).*/\1/p' "$WORK/unit.txt") of $(grep -cE '^ *[0-9]+/[0-9]+ ' \
	"$WORK/unit.txt") meson tests ok; Criterion: $(awk -F'[:|] *' '/Synthesis: Tested:/ {
		t += $3; p += $5 } END { print p " of " t " tests passing" }' \
	"$CROSS_ROOT/build/meson-logs/testlog.txt")"

step "charger sessions through arm64 ocppgw"
bench_start_responder "$WORK"
GW_PORT=$(bench_free_port)
start_arm64_gateway "$GW_PORT"
RSS_IDLE_KB=$(awk '/^VmRSS:/ {print $2}' "/proc/$GW_PID/status")
QEMU_IDLE_KB=$(qemu_own_kb "$GW_PID")
# One charger of each version, each living through whole transactions.
"$OCPPGW_SIM_BIN" --url "ws://127.0.0.1:$GW_PORT/ocpp" --count 3 --mix 1.6:1,2.0.1:1,2.1:1 \
	--duration 12 --time-scale 100 --session 300 --idle 30 --seed 3 >"$WORK/sim.out" 2>"$WORK/sim.err" ||
	{ cat "$WORK/sim.out" "$WORK/sim.err" >&2; ship_die "charger sessions through the arm64 gateway failed"; }
result "chargers: $(sed -n 's/^calls *//p' "$WORK/sim.out")"
# The transactions as the arm64 gateway's store has them: each charger
# finished one, with a meter reading, while the CSMS was reachable; the 1.6
# charger's transaction id is the one the responder assigned.
cross_run "${QEMU[@]}" /build/src/ocppgw sessions --data-dir /e2e/data --format json \
	>"$WORK/sessions.json"
store=$(python3 - "$WORK/sessions.json" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))
rows = rows if isinstance(rows, list) else rows["sessions"]
for cp in ("SIM00001", "SIM00002", "SIM00003"):
    done = [r for r in rows if r["charger"] == cp and r["stopped"] and not r["offline"]]
    if not done:
        sys.exit("no finished transaction of %s in the store: %s" % (cp, rows))
    if not (done[0]["energy_kwh"] or 0) > 0:
        sys.exit("%s: transaction without energy: %s" % (cp, done[0]))
tx16 = [r["tx_id"] for r in rows if r["charger"] == "SIM00001"]
if not all(str(t).isdigit() and int(t) >= 1 for t in tx16):
    sys.exit("1.6 transaction ids are not the CSMS's: %s" % tx16)
print("store: %d transactions by %s; the 1.6 ids, from the CSMS: %s" % (
    len(rows), ", ".join(sorted({r["charger"] for r in rows})), ",".join(map(str, tx16))))
PY
)
result "$store"

step "$FLEET chargers, arm64 under qemu"
rss_under_fleet "$GW_PID" "$GW_PORT" arm64
RSS_ARM64_KB=$RSS_KB
QEMU_ARM64_KB=$QEMU_KB
kill -TERM "$GW_PID"
rc=0
wait "$GW_JOB" || rc=$?
GW_PID=""
[ "$rc" -eq 0 ] || { tail -n 20 "$WORK/gw.err" >&2; ship_die "arm64 gateway exited $rc on SIGTERM"; }
result "arm64 gateway stopped cleanly on SIGTERM"

step "$FLEET chargers, x86_64"
mkdir -p "$WORK/x86"
bench_start_gateway "$WORK/x86" "$RESP_PORT"
RSS_X86_IDLE_KB=$(awk '/^VmRSS:/ {print $2}' "/proc/$PROXY_PID/status")
rss_under_fleet "$PROXY_PID" "$PROXY_PORT" x86_64
RSS_X86_KB=$RSS_KB
kill "$PROXY_PID"
wait "$PROXY_PID" || ship_die "x86_64 gateway exited $? on SIGTERM"
kill "$RESP_PID"
wait "$RESP_PID" || ship_die "responder reported faults: $(cat "$WORK/responder.err")"
BENCH_PIDS=()
result "$(tail -n 1 "$WORK/responder.err")"

step "sizes"
cross_run /bin/sh -c 'aarch64-linux-gnu-strip -o /e2e/ocppgw.arm64 /build/src/ocppgw &&
	aarch64-linux-gnu-size /e2e/ocppgw.arm64' >"$WORK/size-arm64.txt"
strip -o "$WORK/ocppgw.x86_64" "$OCPPGW_BIN"
size "$WORK/ocppgw.x86_64" >"$WORK/size-x86_64.txt"
step_end

buildtype=$(python3 -c 'import json, sys
print(next(o["value"] for o in json.load(open(sys.argv[1])) if o["name"] == "buildtype"))' \
	"$CROSS_ROOT/build/meson-info/intro-buildoptions.json")
text_of() { awk 'NR == 2 { print $1 " text, " $2 " data, " $3 " bss" }' "$1"; }
result "size  arm64 ocppgw stripped ($buildtype): $(stat -c %s "$WORK/ocppgw.arm64") bytes ($(text_of "$WORK/size-arm64.txt"))"
result "size  x86_64 ocppgw stripped: $(stat -c %s "$WORK/ocppgw.x86_64") bytes ($(text_of "$WORK/size-x86_64.txt"))"
result "rss   arm64 under qemu-user: idle $RSS_IDLE_KB KiB, $FLEET chargers $RSS_ARM64_KB KiB (VmRSS of qemu-aarch64)"
result "rss   of which qemu itself:     idle $QEMU_IDLE_KB KiB, $FLEET chargers $QEMU_ARM64_KB KiB;" \
	"the arm64 process at most $((RSS_IDLE_KB - QEMU_IDLE_KB)) / $((RSS_ARM64_KB - QEMU_ARM64_KB)) KiB"
result "rss   x86_64 native:         idle $RSS_X86_IDLE_KB KiB, $FLEET chargers $RSS_X86_KB KiB"
result "time  total $(secs "$(ms_since "$ALL_T0")")"
printf '%s\n' "${RESULTS[@]}"
