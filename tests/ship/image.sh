#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The Docker image and the compose demo, run as the README tells users to:
# the base images (tools/ship/lib.sh), `docker build`, the image's
# subcommands, then docker/compose.yaml with Debian 12's docker-compose
# 1.29.2 (SHIP_COMPOSE="docker compose" tries compose v2 instead). It
# asserts that chargers of every version connect, charge and are listed by
# the admin API (demo credentials) behind both gateways, the direct one and
# the one whose uplink goes through mosquitto and `ocppgw bridge`; that the
# healthcheck turns healthy, sessions survive `docker restart`, `docker
# stop` exits 0 and the store is private. It removes the containers and
# volumes it made and keeps the images. Run: bash tests/ship/image.sh
set -euo pipefail
cd "${OCPPGW_SRC:-$(dirname "$0")/../..}"
. tools/ship/lib.sh

IMAGE=ocppgw
read -r -a COMPOSE <<<"${SHIP_COMPOSE:-docker-compose}"
COMPOSE+=(-f docker/compose.yaml)
AUTH=(-H "Authorization: Bearer demo-token")   # docker/compose.conf's demo token
PROJECT=${COMPOSE_PROJECT_NAME:-ocppgw-demo}     # docker/.env
VERSIONS="1.6 2.0.1 2.1"
T_START=$SECONDS

# Runs "$@" and prints its wall time as one line of the step summary.
timed() {
	local name=$1 t0=$SECONDS
	shift
	"$@"
	ship_log "$(printf '%-44s %4d s' "$name" $((SECONDS - t0)))"
}

# Polls "$@" every 2 s until it succeeds; fails after $2 seconds.
wait_for() {
	local what=$1 limit=$2 t0=$SECONDS
	shift 2
	until "$@" >/dev/null 2>&1; do
		((SECONDS - t0 < limit)) || ship_die "no $what within $limit s"
		sleep 2
	done
}

fail_report() {
	local rc=$?
	if ((rc)) && [ -n "${COMPOSE_UP:-}" ]; then
		ship_log "failed; the demo's last log lines:"
		"${COMPOSE[@]}" ps >&2 || true
		"${COMPOSE[@]}" logs --tail 15 >&2 || true
	fi
	if [ -n "${COMPOSE_UP:-}" ]; then
		"${COMPOSE[@]}" down -v --remove-orphans >/dev/null 2>&1 || true
	fi
	ship_cleanup
	exit $rc
}

# ---- engine, base images, image ----------------------------------------------

ship_need docker.io debootstrap docker-compose curl python3
ship_dockerd
trap fail_report EXIT

timed "base image debian:bookworm-slim" ship_base_image
timed "docker build (image $IMAGE)" \
	docker build -q --network=host -f docker/Dockerfile -t "$IMAGE" . >/dev/null
SIZE=$(docker image inspect -f '{{.Size}}' "$IMAGE")
ship_log "image $IMAGE: $SIZE bytes ($((SIZE / 1000000)) MB), base $(docker image inspect \
	-f '{{.Size}}' debian:bookworm-slim) bytes"

# ---- subcommands ---------------------------------------------------------------

check_subcommands() {
	local out
	out=$(echo 'a charger password' | docker run --rm -i "$IMAGE" passwd)
	[[ $out =~ ^\$pbkdf2-sha256\$[0-9]+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$ ]] ||
		ship_die "passwd printed '$out', not a hash"
	out=$(docker run --rm "$IMAGE" bridge --help)
	grep -q 'ocppgw bridge --mqtt URL --csms URL' <<<"$out" || ship_die "bridge --help: $out"
	out=$(docker run --rm "$IMAGE" sessions --help)
	grep -q 'Usage: ocppgw sessions' <<<"$out" || ship_die "sessions --help: $out"
	out=$(printf '%s\n' '[2,"1","Heartbeat",{}]' | docker run --rm -i "$IMAGE" validate --ocpp 1.6)
	grep -q '1 frames, 0 invalid' <<<"$out" || ship_die "validate of a valid frame: $out"
	if out=$(printf '%s\n' '[2,"2","BootNotification",{}]' |
		docker run --rm -i "$IMAGE" validate --ocpp 1.6); then
		ship_die "validate accepted a BootNotification without its fields"
	fi
	grep -q 'chargePointModel: required property missing' <<<"$out" ||
		ship_die "validate of an invalid frame: $out"
	out=$(docker run --rm "$IMAGE" sim --help)
	grep -q 'ocppgw-sim --csms' <<<"$out" || ship_die "sim --help: $out"
	# files.ftp's program is in the image (its python3-pyftpdlib is not: docs/FILES.md)
	docker run --rm --entrypoint /usr/bin/test "$IMAGE" -x /usr/libexec/ocppgw/ocppgw-ftpd ||
		ship_die "the image lacks an executable /usr/libexec/ocppgw/ocppgw-ftpd"
	# No subcommand: the daemon with the image's config.
	out=$(docker run --rm "$IMAGE" --check-config)
	[ "$out" = "/etc/ocppgw/ocppgw.conf: configuration OK" ] || ship_die "--check-config: $out"
}
timed "passwd, bridge, sessions, validate, sim" check_subcommands

# ---- the compose demo ------------------------------------------------------------

# Free loopback ports for every listener of the demo (host network).
read -r OCPPGW_PORT OCPPGW_ADMIN_PORT SITE_PORT SITE_ADMIN_PORT CSMS_PORT MQTT_PORT < <(
	python3 -c '
import socket
ss = [socket.socket() for _ in range(6)]
for s in ss:
    s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])')
export OCPPGW_PORT OCPPGW_ADMIN_PORT SITE_PORT SITE_ADMIN_PORT CSMS_PORT MQTT_PORT

"${COMPOSE[@]}" down -v --remove-orphans >/dev/null 2>&1 || true   # a failed run's leftovers
COMPOSE_UP=1
compose_up() {
	"${COMPOSE[@]}" up -d --build >"$SHIP_WORK/compose-up.log" 2>&1 ||
		{ tail -n 30 "$SHIP_WORK/compose-up.log" >&2; ship_die "compose up failed"; }
}
timed "${COMPOSE[*]} up -d --build" compose_up
GW=$("${COMPOSE[@]}" ps -q gateway)
SITE=$("${COMPOSE[@]}" ps -q site)
if [ -z "$GW" ] || [ -z "$SITE" ]; then
	ship_die "compose up started no gateway or site container"
fi

health() { docker inspect -f '{{.State.Health.Status}}' "$1"; }
is_healthy() { [ "$(health "$1")" = healthy ]; }
check_healthy() {
	wait_for "healthy gateway" 90 is_healthy "$GW"
	wait_for "healthy site" 90 is_healthy "$SITE"
}
timed "healthcheck: gateway and site healthy" check_healthy

# The admin API's chargers whose id starts with $2, as "id version" lines,
# for those connected with their CSMS leg up.
chargers_up() {
	curl -fsS "${AUTH[@]}" "http://127.0.0.1:$1/api/chargers" | python3 -c '
import json, sys
for c in json.load(sys.stdin):
    if c["id"].startswith(sys.argv[1]) and c.get("connected") and c.get("north") == "up":
        print(c["id"], c["ocpp"])' "$2"
}
# Every version among the chargers up behind admin port $1 (prefix $2).
all_versions_up() {
	local up v
	up=$(chargers_up "$1" "$2")
	for v in $VERSIONS; do
		grep -q " $v\$" <<<"$up" || return 1
	done
}
# The responder CSMS sees the site's chargers: they came through mosquitto
# and the bridge.
csms_sees_site() {
	curl -fsS "http://127.0.0.1:$CSMS_PORT/chargers" | python3 -c '
import json, sys
vs = {c["version"] for c in json.load(sys.stdin)["chargers"] if c["id"].startswith("SITE")}
sys.exit(0 if vs >= {"1.6", "2.0.1", "2.1"} else 1)'
}
check_connected() {
	wait_for "1.6, 2.0.1 and 2.1 chargers up on the gateway" 90 all_versions_up "$OCPPGW_ADMIN_PORT" FLEET
	wait_for "1.6, 2.0.1 and 2.1 chargers up on the site (MQTT)" 90 all_versions_up "$SITE_ADMIN_PORT" SITE
	wait_for "the site's chargers at the CSMS (through the bridge)" 60 csms_sees_site
}
timed "chargers of each version connected" check_connected

check_credentials() {
	local code port
	for port in "$OCPPGW_ADMIN_PORT" "$SITE_ADMIN_PORT"; do
		code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/api/chargers")
		[ "$code" = 401 ] || ship_die "admin API on $port without credentials: HTTP $code, not 401"
		code=$(curl -s -o /dev/null -w '%{http_code}' -u admin:demo "http://127.0.0.1:$port/api/chargers")
		[ "$code" = 200 ] || ship_die "admin API on $port as admin/demo: HTTP $code"
		code=$(curl -s -o /dev/null -w '%{http_code}' -u admin:wrong "http://127.0.0.1:$port/api/chargers")
		[ "$code" = 401 ] || ship_die "admin API on $port as admin/wrong: HTTP $code, not 401"
	done
}
timed "demo credentials (token, admin/demo)" check_credentials

# `ocppgw sessions` in compose service $1 as JSON.
sessions_json() { "${COMPOSE[@]}" exec -T "$1" ocppgw sessions --format json; }
# True when every version has a session with energy behind admin port $2
# (service $1, prefix $3).
all_versions_charged() {
	local up
	up=$(chargers_up "$2" "$3") || return 1
	sessions_json "$1" | python3 -c '
import json, sys
version = dict(l.split() for l in sys.argv[1].splitlines())
charged = {version[s["charger"]] for s in json.load(sys.stdin)
           if s["charger"] in version and (s["energy_kwh"] or 0) > 0}
sys.exit(0 if charged >= set(sys.argv[2].split()) else 1)' "$up" "$VERSIONS"
}
check_charged() {
	wait_for "charged sessions of each version on the gateway" 120 \
		all_versions_charged gateway "$OCPPGW_ADMIN_PORT" FLEET
	wait_for "charged sessions of each version on the site (MQTT)" 120 \
		all_versions_charged site "$SITE_ADMIN_PORT" SITE
}
timed "a session with energy per version, both gateways" check_charged

check_modes() {
	local c modes
	for c in "$GW" "$SITE"; do
		modes=$(docker exec "$c" sh -c 'stat -c "%a %U %n" /var/lib/ocppgw /var/lib/ocppgw/*')
		grep -q '^700 ocppgw /var/lib/ocppgw$' <<<"$modes" || ship_die "data dir: $modes"
		grep -q '^600 ocppgw /var/lib/ocppgw/ocppgw.db$' <<<"$modes" || ship_die "store: $modes"
		! grep -v '^700 \|^600 ' <<<"$modes" >/dev/null || ship_die "store files: $modes"
	done
}
timed "data dir 0700, store files 0600" check_modes

# Sessions survive `docker restart`: every (charger, tx) recorded before is
# still there after, read through the image's `sessions` subcommand on the
# gateway's volume.
tx_ids() { python3 -c '
import json, sys
for s in json.load(sys.stdin):
    print(s["charger"], s["tx_id"])' | sort; }
check_restart() {
	local before after volume started
	volume=${PROJECT}_gateway-data
	[ "$(docker inspect -f \
		'{{range .Mounts}}{{if eq .Destination "/var/lib/ocppgw"}}{{.Name}}{{end}}{{end}}' "$GW")" \
		= "$volume" ] || ship_die "the gateway's store is not in the volume $volume"
	before=$(sessions_json gateway | tx_ids)
	[ -n "$before" ] || ship_die "no sessions before the restart"
	started=$(docker inspect -f '{{.State.StartedAt}}' "$GW")
	docker restart -t 20 "$("${COMPOSE[@]}" ps -q gateway)" >/dev/null
	[ "$(docker inspect -f '{{.State.StartedAt}}' "$GW")" != "$started" ] ||
		ship_die "docker restart did not restart the gateway"
	wait_for "healthy gateway after the restart" 90 is_healthy "$GW"
	after=$(docker run --rm -v "$volume:/var/lib/ocppgw" "$IMAGE" sessions --format json | tx_ids)
	comm -23 <(echo "$before") <(echo "$after") | grep . &&
		ship_die "sessions lost across docker restart (above)"
	ship_log "$(wc -l <<<"$before") sessions before the restart, $(wc -l <<<"$after") after"
	wait_for "chargers of each version back after the restart" 90 \
		all_versions_up "$OCPPGW_ADMIN_PORT" FLEET
}
timed "docker restart keeps the sessions" check_restart

check_stop() {
	local c
	for c in "$GW" "$SITE"; do
		docker stop -t 20 "$c" >/dev/null
		[ "$(docker inspect -f '{{.State.ExitCode}}' "$c")" = 0 ] ||
			ship_die "$(docker inspect -f '{{.Name}}: exit code {{.State.ExitCode}}' "$c") after docker stop"
	done
}
timed "docker stop exits 0" check_stop

# Nothing of the demo is left: no container, and none of the volumes they
# had (the named ones and the image's anonymous /var/lib/ocppgw).
cleanup_demo() {
	local containers volumes v
	containers=$(docker ps -aq --filter "label=com.docker.compose.project=$PROJECT")
	# shellcheck disable=SC2086 # one id per word
	volumes=$(docker inspect -f '{{range .Mounts}}{{.Name}} {{end}}' $containers)
	"${COMPOSE[@]}" down -v --remove-orphans >/dev/null 2>&1
	COMPOSE_UP=""
	[ -z "$(docker ps -aq --filter "label=com.docker.compose.project=$PROJECT")" ] ||
		ship_die "compose down left containers"
	for v in $volumes; do
		! docker volume inspect "$v" >/dev/null 2>&1 || ship_die "compose down left volume $v"
	done
	ship_log "removed $(wc -w <<<"$containers") containers and $(wc -w <<<"$volumes") volumes"
}
timed "${COMPOSE[*]} down -v" cleanup_demo

# The README's "a gateway of your own", as written there, with a CSMS URL
# nobody answers (the gateway then answers its chargers itself): the
# default config's ports 9000 and 127.0.0.1:8080, healthy, a charger's
# boot answered, exit code 0 after docker stop.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
check_readme_gateway() {
	port_free 9000 && port_free 8080 || ship_die "ports 9000 or 8080 are taken: the README's gateway needs them"
	CSMS_URL="ws://127.0.0.1:$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')/ocpp"
	docker rm -f ocppgw >/dev/null 2>&1 || true
	docker volume rm ocppgw-data >/dev/null 2>&1 || true
	docker run -d --name ocppgw --network=host -v ocppgw-data:/var/lib/ocppgw ocppgw \
		--csms "$CSMS_URL" >/dev/null
	wait_for "healthy README gateway" 90 is_healthy ocppgw
	docker run --rm --network=host ocppgw sim --url ws://127.0.0.1:9000/ocpp --count 1 \
		--duration 5 >"$SHIP_WORK/readme-sim.log" 2>&1 ||
		{ tail -n 20 "$SHIP_WORK/readme-sim.log" >&2; ship_die "a charger failed behind the README's gateway"; }
	docker stop -t 20 ocppgw >/dev/null
	[ "$(docker inspect -f '{{.State.ExitCode}}' ocppgw)" = 0 ] ||
		ship_die "the README's gateway: exit code $(docker inspect -f '{{.State.ExitCode}}' ocppgw) after docker stop"
	docker rm ocppgw >/dev/null
	docker volume rm ocppgw-data >/dev/null
}
timed "the README's own gateway" check_readme_gateway

ship_log "image.sh passed in $((SECONDS - T_START)) s (image $SIZE bytes)"
