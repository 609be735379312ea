#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A small mixed fleet (30 chargers, 1.6 / 2.0.1 / 2.1) living fast under
# --time-scale against the responder CSMS, either directly or through the
# gateway, while the responder sends commands (profiles, configuration,
# triggers). Passes when the simulator and the responder saw zero errors.
# Usage: fleet.sh SIM_BIN direct|gateway [GATEWAY_BIN]
set -euo pipefail
export OCPPGW_SIM_BIN=$1
mode=$2
[ $# -ge 3 ] && export OCPPGW_BIN=$3
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/../../bench/lib.sh"

work=$(mktemp -d /tmp/ocppgw-sim-test.XXXXXX)
trap 'bench_stop_all; rm -rf "$work"' EXIT

bench_start_responder "$work"
port=$RESP_PORT
if [ "$mode" = gateway ]; then
	bench_start_gateway "$work" "$RESP_PORT"
	port=$PROXY_PORT
fi

"$OCPPGW_SIM_BIN" --url "ws://127.0.0.1:$port/ocpp" --count 30 --mix 1.6:1,2.0.1:1,2.1:1 \
	--duration 12 --time-scale 100 --session 400 --idle 60 --meter-interval 30 \
	--evses 2 --connectors 2 --seed 7 >"$work/sim.out" 2>"$work/sim.err" &
sim=$!
BENCH_PIDS+=("$sim")

sleep 3
# Commands through POST /command: each must come back with a result.
python3 - "$RESP_PORT" <<'PY'
import json, sys, urllib.request
port = sys.argv[1]
def cmd(charger, action, payload):
    req = urllib.request.Request("http://127.0.0.1:%s/command" % port,
        data=json.dumps({"charger": charger, "action": action, "payload": payload}).encode())
    res = json.load(urllib.request.urlopen(req, timeout=40))
    print(charger, action, json.dumps(res))
    if "result" not in res or "schemaFault" in res:
        sys.exit("command failed: %s %s -> %s" % (charger, action, res))
    return res["result"]
sched16 = {"chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16}]}
sched2x = dict(sched16, id=1)
# ids: 1..10 speak 1.6, 11..20 2.0.1, 21..30 2.1
cmd("SIM00001", "SetChargingProfile", {"connectorId": 0, "csChargingProfiles": {
    "chargingProfileId": 1, "stackLevel": 0, "chargingProfilePurpose": "ChargePointMaxProfile",
    "chargingProfileKind": "Absolute", "chargingSchedule": sched16}})
r = cmd("SIM00001", "GetCompositeSchedule", {"connectorId": 1, "duration": 600})
assert r["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] == 16, r
cmd("SIM00002", "GetConfiguration", {"key": ["HeartbeatInterval"]})
cmd("SIM00003", "TriggerMessage", {"requestedMessage": "Heartbeat"})
for cp in ("SIM00011", "SIM00021"):
    cmd(cp, "SetChargingProfile", {"evseId": 0, "chargingProfile": {
        "id": 2, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute", "chargingSchedule": [sched2x]}})
    r = cmd(cp, "GetCompositeSchedule", {"evseId": 1, "duration": 600})
    assert r["schedule"]["chargingSchedulePeriod"][0]["limit"] == 16, r
    cmd(cp, "GetVariables", {"getVariableData": [{"component": {"name": "OCPPCommCtrlr"},
                                                   "variable": {"name": "HeartbeatInterval"}}]})
    cmd(cp, "TriggerMessage", {"requestedMessage": "StatusNotification"})
PY

rc=0
wait "$sim" || rc=$?
cat "$work/sim.out"
grep -v '^$' "$work/sim.err" | head -20 >&2 || true
kill "$RESP_PID"
wait "$RESP_PID" || { echo "responder reported faults: $(cat "$work/responder.err")" >&2; rc=1; }
exit "$rc"
