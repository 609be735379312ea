#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Shared by the shipping checks in tests/ship/ (sourced, not run): a Docker
# engine from Debian's docker.io started when none answers (and stopped by
# ship_cleanup when this script started it), and the base images the
# Dockerfiles name, made from Debian's own packages with debootstrap and
# `docker import` because CI machines reach no container registry. The
# same Dockerfiles build unchanged against the registry's images elsewhere.
#
#   . tools/ship/lib.sh
#   ship_need docker.io debootstrap   # apt-get install what is missing
#   ship_dockerd                      # an engine answers on /var/run/docker.sock
#   ship_base_image                   # debian:bookworm-slim exists locally
#   trap ship_cleanup EXIT
set -euo pipefail

SHIP_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SHIP_WORK="${SHIP_WORK:-${TMPDIR:-/tmp}/ocppgw-ship}"
SHIP_MIRROR="${SHIP_MIRROR:-}"
SHIP_DOCKERD_PID=""
mkdir -p "$SHIP_WORK"

ship_log() { printf 'ship: %s\n' "$*" >&2; }
ship_die() { ship_log "$*"; exit 1; }

# The Debian mirror apt uses here (first deb.debian.org-style URI of the
# main archive), so debootstrap fetches from the same place as apt-get.
ship_mirror() {
	if [ -n "$SHIP_MIRROR" ]; then
		echo "$SHIP_MIRROR"
		return
	fi
	local m
	m=$(grep -hsE '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources \
		/etc/apt/sources.list.d/*.list 2>/dev/null |
		grep -vE 'security|nodesource|google|updates' |
		sed -E 's/^URIs: *//; s/^deb (\[[^]]*\] )?//; s/ .*//' | grep -m1 debian || true)
	echo "${m:-http://deb.debian.org/debian}"
}

# apt-get install the packages not installed yet (as root; apt-get update
# once first).
ship_need() {
	local missing=() p
	for p in "$@"; do
		[ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" = installed ] ||
			missing+=("$p")
	done
	((${#missing[@]})) || return 0
	ship_log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update >"$SHIP_WORK/apt-update.log" 2>&1 || true
	apt-get install -y --no-install-recommends "${missing[@]}" >"$SHIP_WORK/apt.log" 2>&1 ||
		{ tail -n 30 "$SHIP_WORK/apt.log" >&2; ship_die "apt-get install ${missing[*]} failed"; }
}

# A Docker engine answering on the default socket: the running one, or
# dockerd started here with the flags this machine needs (no iptables: the
# sandbox has no netfilter; builds and containers use the host network).
ship_dockerd() {
	ship_need docker.io
	if docker info >/dev/null 2>&1; then
		return 0
	fi
	ship_log "starting dockerd (log: $SHIP_WORK/dockerd.log)"
	/usr/sbin/dockerd --iptables=false --ip6tables=false --storage-driver=overlay2 \
		--bridge=none >"$SHIP_WORK/dockerd.log" 2>&1 &
	SHIP_DOCKERD_PID=$!
	local i
	for i in $(seq 1 60); do
		docker info >/dev/null 2>&1 && return 0
		kill -0 "$SHIP_DOCKERD_PID" 2>/dev/null ||
			{ tail -n 20 "$SHIP_WORK/dockerd.log" >&2; ship_die "dockerd exited"; }
		sleep 0.5
	done
	ship_die "dockerd did not answer within 30 s"
}

# The root file system of debian:bookworm-slim as a tar file
# ($SHIP_WORK/rootfs-bookworm.tar), made once from debootstrap
# --variant=minbase: like the registry's slim image, no docs, man pages or
# locales, apt lists and the downloaded .debs (31 MB) removed. Needs no
# Docker engine, so tools/ship/prepare.sh makes it in the background while
# the other suites run; a lock makes a second caller wait for the first.
SHIP_ROOTFS_TAR="$SHIP_WORK/rootfs-bookworm.tar"
ship_base_rootfs() {
	exec 8>"$SHIP_WORK/rootfs-bookworm.lock"
	flock 8
	if [ -s "$SHIP_ROOTFS_TAR" ]; then
		exec 8>&-
		return 0
	fi
	ship_need debootstrap
	local root="$SHIP_WORK/rootfs-bookworm"
	rm -rf "$root"
	ship_log "debootstrap bookworm from $(ship_mirror) (log: $SHIP_WORK/debootstrap.log)"
	debootstrap --variant=minbase bookworm "$root" "$(ship_mirror)" \
		>"$SHIP_WORK/debootstrap.log" 2>&1 ||
		{ tail -n 20 "$SHIP_WORK/debootstrap.log" >&2; ship_die "debootstrap failed"; }
	cp /etc/apt/sources.list.d/debian.sources "$root/etc/apt/sources.list.d/" 2>/dev/null || true
	[ -s "$root/etc/apt/sources.list.d/debian.sources" ] && : >"$root/etc/apt/sources.list"
	rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin \
		"$root"/var/cache/apt/archives/*.deb "$root"/usr/share/doc/* \
		"$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/*
	tar -C "$root" -c . >"$SHIP_ROOTFS_TAR.new"
	mv "$SHIP_ROOTFS_TAR.new" "$SHIP_ROOTFS_TAR"
	rm -rf "$root"
	exec 8>&-
}

# debian:bookworm-slim imported from that root once and kept in the engine
# (a second call is a no-op).
ship_base_image() {
	local name="${1:-debian:bookworm-slim}"
	docker image inspect "$name" >/dev/null 2>&1 && return 0
	ship_base_rootfs
	docker import - "$name" <"$SHIP_ROOTFS_TAR" >/dev/null
	ship_log "imported $name ($(docker image inspect -f '{{.Size}}' "$name") bytes)"
}

# Stops dockerd when this script started it; images stay for the next step.
ship_cleanup() {
	if [ -n "$SHIP_DOCKERD_PID" ]; then
		kill "$SHIP_DOCKERD_PID" 2>/dev/null || true
		wait "$SHIP_DOCKERD_PID" 2>/dev/null || true
		SHIP_DOCKERD_PID=""
	fi
}
