#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The README's first command: install what is missing, build, then run the
# gateway on 0.0.0.0:9000 as the site's own central system (standalone, the
# embedded default conf/demo.conf: no cloud needed) with a few simulated
# chargers, until Ctrl-C. Their sessions: build/src/ocppgw sessions
# --data-dir build/demo-data.
#   --fleet N      simulated chargers (default 3: one per OCPP version; 0: none)
#   --csms URL     relay to this CSMS instead of answering chargers locally
#   --responder    relay to the project's responder CSMS (ocppgw-sim --csms,
#                  started on 127.0.0.1:9100)
#   --listen A:P   where chargers connect (default 0.0.0.0:9000)
#   --admin A:P    the admin API and status page (default 127.0.0.1:8080)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

fleet=3
csms=""
listen="0.0.0.0:9000"
admin="127.0.0.1:8080"
while [ $# -gt 0 ]; do
	case "$1" in
	--fleet) fleet="$2"; shift 2 ;;
	--csms) csms="$2"; shift 2 ;;
	--responder) csms="responder"; shift ;;
	--listen) listen="$2"; shift 2 ;;
	--admin) admin="$2"; shift 2 ;;
	*) echo "usage: tools/demo.sh [--fleet N] [--csms URL | --responder] [--listen ADDR:PORT]" \
		"[--admin ADDR:PORT]" >&2; exit 2 ;;
	esac
done

bash tools/setup.sh
if [ -d build/meson-private ]; then meson setup --reconfigure build >/dev/null; else meson setup build >/dev/null; fi
meson compile -C build >/dev/null

pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

if [ "$csms" = responder ]; then
	build/src/sim/ocppgw-sim --csms --listen 127.0.0.1:9100 -q &
	pids+=($!)
	csms="ws://127.0.0.1:9100/ocpp"
	sleep 0.3
fi

upstream=()
[ -n "$csms" ] && upstream=(--csms "$csms")
build/src/ocppgw -c conf/demo.conf --listen "$listen" --admin "$admin" "${upstream[@]}" \
	--data-dir build/demo-data &
gw=$!
pids+=($gw)
sleep 0.5

if [ "$fleet" -gt 0 ]; then
	port="${listen##*:}"
	build/src/sim/ocppgw-sim --url "ws://127.0.0.1:${port}/ocpp" --count "$fleet" \
		--mix 1.6:1,2.0.1:1,2.1:1 --id-pattern DEMO%03d --time-scale 30 \
		--duration 86400 -q &
	pids+=($!)
fi

echo "ocppgw is running${csms:+, relaying to $csms}${csms:- standalone}: chargers connect to" \
	"ws://<this host>:${listen##*:}/ocpp/<id>; sessions: build/src/ocppgw sessions" \
	"--data-dir build/demo-data; Ctrl-C stops." >&2
echo "Status page: http://${admin}/  (API: http://${admin}/api/chargers, metrics: http://${admin}/metrics)" >&2
wait "$gw"
