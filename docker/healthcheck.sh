#!/bin/bash
# SPDX-License-Identifier: MIT
# The image's HEALTHCHECK: healthy when the gateway's admin API answers
# GET /api/site with 200. Plain bash (/dev/tcp) so that the image needs no
# curl and its libraries. OCPPGW_ADMIN is the admin listener (host:port),
# OCPPGW_ADMIN_TOKEN its Bearer token when admin.token is set.
set -u
addr=${OCPPGW_ADMIN:-127.0.0.1:8080}
host=${addr%:*}
port=${addr##*:}
auth=""
[ -n "${OCPPGW_ADMIN_TOKEN:-}" ] && auth="Authorization: Bearer $OCPPGW_ADMIN_TOKEN"$'\r\n'

exec 3<>"/dev/tcp/$host/$port" || exit 1
printf 'GET /api/site HTTP/1.1\r\nHost: %s\r\n%sConnection: close\r\n\r\n' "$addr" "$auth" >&3
read -r -t 4 _ status _ <&3 || exit 1
[ "$status" = 200 ] || { echo "admin API answered ${status:-nothing}" >&2; exit 1; }
