#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The packaged systemd unit under a real systemd (suite 'ship'): a Debian 12
# container with systemd as PID 1 and the .deb installed (the capabilities
# this host grants, host network, the host's cgroup tree), the configuration
# edited for free ports on 127.0.0.1 and the packaged responder CSMS, then
# `systemctl enable --now ocppgw`, two simulated chargers charging through
# it, `systemctl reload` (the gateway logs the reload, the chargers stay
# connected), `restart` (the store keeps their sessions) and `stop`
# (inactive, not failed, exit status 0); the journal holds no getifaddrs
# errors. Then the unit's header lines, which install it by hand, run as
# written.
#   bash tests/ship/systemd.sh    (from the source root; reuses deb.sh's .deb)
set -euo pipefail
here="$(dirname "${BASH_SOURCE[0]}")"
. "$here/../../tools/ship/lib.sh"
. "$here/debpkg.sh"

deb_container_names systemd
deb_cached
ship_dockerd
deb_image "$IMAGE" systemd
journal() { in_ctr journalctl -u ocppgw --no-pager -o cat; }
fail() {
	in_ctr systemctl status ocppgw --no-pager >&2 || true
	journal | tail -n 30 >&2 || true
	ship_die "$*"
}

# systemd as PID 1 sets up the unit's sandbox (mount and other namespaces,
# seccomp filters): every capability but CAP_SYS_RESOURCE, which this host
# withholds (so --privileged fails here), no seccomp or AppArmor profile of
# docker's. cgroup v1 here: the hierarchy mounted read-write, seen from the
# host's cgroup namespace; /run and /run/lock as tmpfs as on a host.
docker run -d --name "$CTR" --network=host --cap-add=ALL --cap-drop=SYS_RESOURCE \
	--security-opt seccomp=unconfined --security-opt apparmor=unconfined --cgroupns=host \
	-v /sys/fs/cgroup:/sys/fs/cgroup:rw --tmpfs /run --tmpfs /run/lock \
	-e container=docker "$IMAGE" /lib/systemd/systemd >/dev/null
# Polled: until systemd has its socket up, systemctl cannot even ask it.
for _ in $(seq 1 120); do
	state=$(in_ctr systemctl is-system-running 2>/dev/null || true)
	case "$state" in running | degraded) break ;; esac
	sleep 0.5
done
case "$state" in
running | degraded) ship_log "systemd is up in the container ($state)" ;;
*) docker logs "$CTR" 2>&1 | tail -n 20 >&2; ship_die "systemd did not come up: $state" ;;
esac

# The site's settings, as an admin edits them: where chargers connect, the
# admin API, and the CSMS (the packaged responder, run as a transient unit).
free_ports csms_port gw_port admin_port
in_ctr systemd-run --unit=csms ocppgw-sim --csms --listen "127.0.0.1:$csms_port" >/dev/null 2>&1
site_config() {
	in_ctr sed -i -e "s|^listen = .*|listen = \"127.0.0.1:$gw_port\";|" \
		-e "s|^  listen = \"127.0.0.1:8080\";|  listen = \"127.0.0.1:$admin_port\";|" \
		-e "s|^  # url = \"ws://csms.example.com/ocpp\";|  url = \"ws://127.0.0.1:$csms_port/ocpp\";|" \
		/etc/ocppgw/ocppgw.conf
	[ "$(in_ctr grep -c "127.0.0.1:\($gw_port\|$admin_port\|$csms_port\)" /etc/ocppgw/ocppgw.conf)" = 3 ] ||
		ship_die "the configuration edit did not apply"
}
site_config

in_ctr systemctl enable --now ocppgw 2>/dev/null
in_ctr systemctl is-active -q ocppgw || fail "ocppgw is not active after enable --now"
ship_log "enable --now: active, MainPID $(in_ctr systemctl show -P MainPID ocppgw)"

# GET /api/chargers from the host (same network): "id connectedSince" per
# connected charger, sorted.
connected() {
	python3 - "$admin_port" <<'PY'
import json, sys, urllib.request
with urllib.request.urlopen("http://127.0.0.1:%s/api/chargers" % sys.argv[1], timeout=5) as r:
    for c in json.load(r):
        if c["connected"]:
            print(c["id"], c["connectedSince"])
PY
}

in_ctr ocppgw-sim --url "ws://127.0.0.1:$gw_port/ocpp" --count 2 --mix 1.6:1,2.0.1:1 \
	--duration 16 --time-scale 100 --session 300 --idle 30 --meter-interval 30 --seed 5 \
	>"$SHIP_WORK/systemd-sim.log" 2>&1 &
sim=$!
for _ in $(seq 1 50); do
	[ "$(connected 2>/dev/null | wc -l)" = 2 ] && break
	sleep 0.2
done
before=$(connected)
[ "$(wc -l <<<"$before")" = 2 ] || fail "two chargers did not connect: $before"
sleep 2
in_ctr systemctl reload ocppgw || fail "systemctl reload failed"
for _ in $(seq 1 25); do
	journal | grep -q 'configuration reloaded' && break
	sleep 0.2
done
journal | grep -q 'configuration reloaded' || fail "no reload in the journal"
sleep 2
after=$(connected)
[ "$after" = "$before" ] || fail "chargers were reconnected by the reload: before $before, after $after"
ship_log "reload: logged, both chargers still on their first connection"
wait "$sim" || { cat "$SHIP_WORK/systemd-sim.log" >&2; fail "the simulated chargers failed"; }

deb_sessions | deb_assert_sessions SIM00001 SIM00002 >&2

pid=$(in_ctr systemctl show -P MainPID ocppgw)
in_ctr systemctl restart ocppgw || fail "systemctl restart failed"
in_ctr systemctl is-active -q ocppgw || fail "ocppgw is not active after restart"
[ "$(in_ctr systemctl show -P MainPID ocppgw)" != "$pid" ] || fail "restart kept the same process"
deb_sessions | deb_assert_sessions SIM00001 SIM00002 >/dev/null ||
	fail "the sessions did not survive the restart"
ship_log "restart: a new process, the sessions kept"

in_ctr systemctl stop ocppgw
state=$(in_ctr systemctl show -P ActiveState ocppgw)
result=$(in_ctr systemctl show -P Result ocppgw)
status=$(in_ctr systemctl show -P ExecMainStatus ocppgw)
[ "$state" = inactive ] && [ "$result" = success ] && [ "$status" = 0 ] ||
	fail "after stop: $state, result $result, exit status $status"
ship_log "stop: inactive, result success, exit status 0"

if journal | grep -E 'getifaddrs|status=203|Failed with result'; then
	ship_die "the journal above shows errors"
fi
[ "$(in_ctr stat -c '%a %U' /var/lib/ocppgw)" = "700 ocppgw" ] ||
	ship_die "/var/lib/ocppgw is $(in_ctr stat -c '%a %U' /var/lib/ocppgw) after systemd ran it"
ship_log "journal: no getifaddrs or exec errors; /var/lib/ocppgw 0700 ocppgw"

# ---- the unit installed by hand, as its header says -------------------------------
# The header's lines run verbatim (all but the last, then the site's
# settings, then the last: enable --now) in a directory laid out like a
# built source tree, holding the package's binary as build/src/ocppgw; the
# README must show the same lines. The package is purged first (its user
# too, which useradd creates again).
lines=$(sed -n 's/^#   //p' "$SHIP_ROOT/conf/ocppgw.service")
while IFS= read -r line; do
	grep -qxF -- "$line" "$SHIP_ROOT/README.md" || ship_die "the README lacks the unit's line: $line"
done <<<"$lines"
in_ctr dpkg --purge ocppgw >/dev/null
in_ctr userdel ocppgw
tree=$(mktemp -d "$SHIP_WORK/byhand.XXXXXX")
mkdir -p "$tree/src/build/src" "$tree/src/conf"
dpkg-deb --fsys-tarfile "$DEB" | tar -xO ./usr/bin/ocppgw >"$tree/src/build/src/ocppgw"
cp "$SHIP_ROOT/conf/ocppgw.conf" "$SHIP_ROOT/conf/ocppgw.service" "$tree/src/conf/"
docker cp "$tree/src" "$CTR:/src" >/dev/null
rm -rf "$tree"
in_ctr sh -ec "cd /src; $(head -n -1 <<<"$lines")" >/dev/null
site_config
in_ctr sh -ec "cd /src; $(tail -n 1 <<<"$lines")" 2>/dev/null
in_ctr systemctl is-active -q ocppgw || fail "the unit installed by hand is not active"
exe=$(in_ctr readlink "/proc/$(in_ctr systemctl show -P MainPID ocppgw)/exe")
[ "$exe" = /usr/local/bin/ocppgw ] || fail "the unit installed by hand runs $exe"
for _ in $(seq 1 25); do
	(exec 3<>"/dev/tcp/127.0.0.1/$gw_port") 2>/dev/null && break
	sleep 0.2
done
(exec 3<>"/dev/tcp/127.0.0.1/$gw_port") 2>/dev/null || fail "the unit installed by hand does not listen"
in_ctr systemctl reload ocppgw || fail "reload of the unit installed by hand failed"
in_ctr systemctl stop ocppgw
[ "$(in_ctr systemctl show -P Result ocppgw)" = success ] || fail "the unit installed by hand did not stop cleanly"
ship_log "by hand: the header's lines install a unit that runs /usr/local/bin/ocppgw, reloads and stops"
