# SPDX-License-Identifier: MIT
# Shared by tests/ship/deb.sh and systemd.sh (sourced after tools/ship/lib.sh):
# the .deb built from this tree with `dpkg-buildpackage -us -uc -b`, in a copy
# of the tree (the tracked and untracked-but-not-ignored files) because
# dpkg-buildpackage writes its results next to the source directory, and
# the test images with that .deb installed from Debian's archive.

# deb_build DIR: builds into DIR (DIR/ocppgw-<version>/ the source copy,
# DIR/*.deb the package); sets DEB to the .deb's path.
deb_build() {
	local dir=$1 src start=$SECONDS
	ship_need dpkg-dev lintian
	src="$dir/ocppgw-$(deb_version)"
	rm -rf "$src"
	mkdir -p "$src"
	git -C "$SHIP_ROOT" ls-files -co --exclude-standard -z |
		tar -C "$SHIP_ROOT" --null -T - -c | tar -C "$src" -x
	(cd "$src" && DEBIAN_FRONTEND=noninteractive apt-get build-dep -y ./ &&
		nice dpkg-buildpackage -us -uc -b) >"$dir/build.log" 2>&1 ||
		{ tail -n 40 "$dir/build.log" >&2; ship_die "dpkg-buildpackage failed (log: $dir/build.log)"; }
	DEB=$(ls "$dir"/ocppgw_*.deb)
	ship_log "built $(basename "$DEB") in $((SECONDS - start)) s"
}

# The upstream version, from debian/changelog (0.1.0-1 -> 0.1.0).
deb_version() {
	sed -nE '1s/^ocppgw \(([^-)]+).*/\1/p' "$SHIP_ROOT/debian/changelog"
}

# The .deb of this exact tree, built once: a cache keyed by the content of
# every file the package is built from (all but these test scripts), so
# systemd.sh reuses deb.sh's.
deb_cached() {
	local key dir
	key=$(cd "$SHIP_ROOT" && git ls-files -co --exclude-standard -z -- . ':!tests/ship' |
		xargs -0 sha1sum | sha1sum | cut -c1-12)
	dir="$SHIP_WORK/debpkg-$key"
	if ls "$dir"/ocppgw_*.deb >/dev/null 2>&1; then
		DEB=$(ls "$dir"/ocppgw_*.deb)
		ship_log "reusing $DEB"
		return 0
	fi
	rm -rf "$SHIP_WORK"/debpkg-*
	mkdir -p "$dir"
	deb_build "$dir" || { rm -rf "$dir"; return 1; }
}

# deb_image NAME [APT PACKAGES...]: an image FROM the base image with the
# .deb (and the packages named) installed by apt-get, which resolves the
# .deb's dependencies from Debian's archive. Built with the host network.
deb_image() {
	local name=$1 ctx
	shift
	ship_base_image
	ctx=$(mktemp -d "$SHIP_WORK/ctx.XXXXXX")
	cp "$DEB" "$ctx/"
	cat >"$ctx/Dockerfile" <<EOF
FROM debian:bookworm-slim
COPY $(basename "$DEB") /tmp/
RUN apt-get update \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \\
      /tmp/$(basename "$DEB") $* \\
 && rm -rf /var/lib/apt/lists/* /tmp/*.deb
EOF
	docker build --network=host -q -t "$name" "$ctx" >"$SHIP_WORK/$name-build.log" 2>&1 ||
		{ rm -rf "$ctx"; tail -n 30 "$SHIP_WORK/$name-build.log" >&2; ship_die "docker build $name failed"; }
	rm -rf "$ctx"
}

# Free TCP ports on 127.0.0.1, one per argument name: free_ports A B sets $A, $B.
free_ports() {
	local ports
	ports=$(python3 - "$#" <<'PY'
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
)
	read -r "$@" <<<"$ports"
}

# Reads `ocppgw sessions --format json` on stdin and passes when each
# charger named has a finished session: a transaction id, an id tag, a stop
# time after its start and energy drawn. Prints one line per charger.
deb_assert_sessions() {
	python3 -c '
import json, sys
sessions = json.load(sys.stdin)
for charger in sys.argv[1:]:
    done = [s for s in sessions if s["charger"] == charger and s["stopped"]
            and s["tx_id"] and s["id_tag"] and s["stopped"] >= s["started"]
            and (s["energy_kwh"] or 0) > 0]
    if not done:
        sys.exit("no finished session of %s in: %s" % (charger, json.dumps(sessions)[:2000]))
    print("%s: %d finished session(s), e.g. tx %s, %s, %.3f kWh"
          % (charger, len(done), done[0]["tx_id"], done[0]["id_tag"], done[0]["energy_kwh"]))
' "$@"
}

# deb_container_names KIND: CTR and IMAGE for this run, removed on exit
# together with a dockerd this script started.
deb_container_names() {
	CTR="ocppgw-$1-$$"
	IMAGE="ocppgw-$1-test:$$"
	trap deb_cleanup EXIT
}
deb_cleanup() {
	docker rm -f "$CTR" >/dev/null 2>&1 || true
	docker rmi "$IMAGE" >/dev/null 2>&1 || true
	ship_cleanup
}
in_ctr() { docker exec "$CTR" "$@"; }

# `ocppgw sessions --format json` as the ocppgw user, as the daemon runs.
deb_sessions() {
	in_ctr setpriv --reuid=ocppgw --regid=ocppgw --init-groups \
		ocppgw sessions -c /etc/ocppgw/ocppgw.conf --format json
}
