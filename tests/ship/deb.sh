#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The Debian package (suite 'ship'): `dpkg-buildpackage -us -uc -b` builds
# it, lintian finds no errors, its contents are what the README promises,
# and installed by apt-get in a clean Debian 12 container (host network)
# the daemon runs as the ocppgw user and relays two simulated chargers
# (1.6, 2.0.1) to the packaged responder CSMS: `ocppgw sessions` lists
# their finished transactions. Then remove keeps the store, purge drops it.
#   bash tests/ship/deb.sh    (from the source root)
set -euo pipefail
here="$(dirname "${BASH_SOURCE[0]}")"
. "$here/../../tools/ship/lib.sh"
. "$here/debpkg.sh"

deb_container_names deb

# ---- build and lintian -------------------------------------------------------------
rm -rf "$SHIP_WORK"/debpkg-*
deb_cached
dir=$(dirname "$DEB")
lintian --fail-on error --tag-display-limit 0 "$dir"/ocppgw_*.changes >"$dir/lintian.log" 2>&1 ||
	{ cat "$dir/lintian.log" >&2; ship_die "lintian reported errors"; }
ship_log "lintian: no errors; $(grep -c '^W:' "$dir/lintian.log" || true) warning(s):"
sed 's/^/  /' "$dir/lintian.log" >&2
ship_log "$(basename "$DEB"): $(stat -c %s "$DEB") bytes, Installed-Size $(dpkg-deb -f "$DEB" Installed-Size) KiB"

contents=$(dpkg-deb -c "$DEB" | awk '{print $NF}')
for f in ./usr/bin/ocppgw ./usr/bin/ocppgw-sim ./usr/share/man/man1/ocppgw.1.gz \
	./usr/share/man/man1/ocppgw-sim.1.gz ./lib/systemd/system/ocppgw.service \
	./etc/ocppgw/ocppgw.conf ./usr/share/doc/ocppgw/README.md.gz \
	./usr/libexec/ocppgw/ocppgw-ftpd; do
	grep -qx -- "$f" <<<"$contents" || ship_die "the package lacks $f"
done
for f in ocppgw.conf load-balancing.example.conf demo.conf; do
	grep -qE "^\./usr/share/doc/ocppgw/examples/$f(\.gz)?$" <<<"$contents" ||
		ship_die "the package lacks the example $f"
done
# files.ftp's server runs on pyftpdlib: recommended, so apt installs it by default
dpkg-deb -f "$DEB" Recommends | grep -q python3-pyftpdlib ||
	ship_die "the package does not recommend python3-pyftpdlib (files.ftp)"
dpkg-deb -I "$DEB" conffiles | grep -qx /etc/ocppgw/ocppgw.conf ||
	ship_die "/etc/ocppgw/ocppgw.conf is not a conffile"

# ---- installed in a clean Debian ---------------------------------------------------
ship_dockerd
start=$SECONDS
deb_image "$IMAGE"
ship_log "apt-get install ./$(basename "$DEB") in bookworm-slim: $((SECONDS - start)) s"
docker run -d --network=host --name "$CTR" "$IMAGE" sleep infinity >/dev/null

in_ctr getent passwd ocppgw | grep -q ':/var/lib/ocppgw:/usr/sbin/nologin$' ||
	ship_die "no system user ocppgw: $(in_ctr getent passwd ocppgw || true)"
[ "$(in_ctr stat -c '%a %U:%G' /var/lib/ocppgw)" = "700 ocppgw:ocppgw" ] ||
	ship_die "/var/lib/ocppgw is $(in_ctr stat -c '%a %U:%G' /var/lib/ocppgw)"
[ "$(in_ctr stat -c '%a %U:%G' /etc/ocppgw/ocppgw.conf)" = "640 root:ocppgw" ] ||
	ship_die "/etc/ocppgw/ocppgw.conf is $(in_ctr stat -c '%a %U:%G' /etc/ocppgw/ocppgw.conf)"
in_ctr ocppgw -c /etc/ocppgw/ocppgw.conf --check-config >/dev/null ||
	ship_die "the packaged configuration does not check"

# The responder CSMS and the gateway, as the ocppgw user (setpriv execs, so
# the recorded PID is the gateway's; its exit status lands in /tmp/gw.rc).
free_ports csms_port gw_port admin_port
in_ctr sh -c "ocppgw-sim --csms --listen 127.0.0.1:$csms_port >/tmp/csms.log 2>&1 &"
in_ctr sh -c "setpriv --reuid=ocppgw --regid=ocppgw --init-groups \
	ocppgw -c /etc/ocppgw/ocppgw.conf --listen 127.0.0.1:$gw_port \
	--admin 127.0.0.1:$admin_port --csms ws://127.0.0.1:$csms_port/ocpp >/tmp/gw.log 2>&1 &
	pid=\$!; echo \$pid >/tmp/gw.pid; wait \$pid; echo \$? >/tmp/gw.rc" &
for _ in $(seq 1 50); do
	(exec 3<>"/dev/tcp/127.0.0.1/$gw_port") 2>/dev/null && break
	sleep 0.2
done
(exec 3<>"/dev/tcp/127.0.0.1/$gw_port") 2>/dev/null ||
	{ in_ctr cat /tmp/gw.log >&2 || true; ship_die "the installed gateway does not listen"; }

in_ctr ocppgw-sim --url "ws://127.0.0.1:$gw_port/ocpp" --count 2 --mix 1.6:1,2.0.1:1 \
	--duration 10 --time-scale 100 --session 300 --idle 30 --meter-interval 30 --seed 5 \
	>"$SHIP_WORK/deb-sim.log" 2>&1 ||
	{ cat "$SHIP_WORK/deb-sim.log" >&2; in_ctr cat /tmp/gw.log >&2; ship_die "the simulated chargers failed"; }
deb_sessions | deb_assert_sessions SIM00001 SIM00002 >&2

in_ctr sh -c 'kill -TERM "$(cat /tmp/gw.pid)"'
for _ in $(seq 1 100); do
	in_ctr test -e /tmp/gw.rc && break
	sleep 0.2
done
rc=$(in_ctr cat /tmp/gw.rc 2>/dev/null || echo none)
[ "$rc" = 0 ] || { in_ctr cat /tmp/gw.log >&2; ship_die "the gateway exited $rc on SIGTERM"; }
ship_log "the gateway stopped on SIGTERM with status 0"

# ---- remove keeps the store, purge removes it --------------------------------------
in_ctr dpkg --remove ocppgw >/dev/null
in_ctr test -s /var/lib/ocppgw/ocppgw.db || ship_die "remove deleted the store"
in_ctr dpkg --purge ocppgw >/dev/null
! in_ctr test -e /var/lib/ocppgw || ship_die "purge left /var/lib/ocppgw"
! in_ctr test -e /etc/ocppgw/ocppgw.conf || ship_die "purge left /etc/ocppgw/ocppgw.conf"
ship_log "remove kept /var/lib/ocppgw, purge removed it and the conffile"
