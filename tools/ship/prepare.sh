#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Makes, ahead of the ship suite, the two things its checks would otherwise
# make first, both mostly download and unpacking: the root file system of
# the base image (debootstrap) and the arm64 cross root (debootstrap, then
# the cross toolchain and :arm64 libraries). tools/test.sh starts it in the
# background, at low CPU and I/O priority, while the other suites run; the
# ship checks (image, arm64) then find them ready, or wait on their locks
# for this script to finish. Each is made only when missing or stale, so
# running it again is cheap. Needs no Docker engine.
#   bash tools/ship/prepare.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
. tools/ship/lib.sh
. tools/ship/cross-root.sh

start=$SECONDS
ship_base_rootfs
ship_log "base image root ready ($((SECONDS - start)) s)"
cross_root
ship_log "prepared in $((SECONDS - start)) s"
