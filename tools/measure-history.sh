#!/bin/sh
# SPDX-License-Identifier: MIT
# Measures the history table's disk use and what the History view fetches:
# a store made by the real gateway (its migrations), filled for CHARGERS
# chargers and the site with the buckets each tier keeps (1 min for a day,
# 15 min for 8 days, 1 h for 30 days after a month, 92 days at most),
# values like a charging car's; then the gateway serves it and curl
# measures /, and /api/history of the last hour, day and week
# (docs/OPERATOR.md).
# Usage: tools/measure-history.sh [BUILD_DIR] [CHARGERS]
set -eu
build=${1:-build}
chargers=${2:-50}
dir=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$dir"' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
start() {
	port=$(free_port)
	admin=$(free_port)
	"$build/src/ocppgw" --listen "127.0.0.1:$port" --admin "127.0.0.1:$admin" --data-dir "$dir/data" -q &
	pid=$!
	sleep 1
}
stop() { kill -TERM "$pid"; wait "$pid" || true; pid=; }

start
stop
db="$dir/data/ocppgw.db"
size() { sqlite3 "$db" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null; stat -c %s "$db"; }
now=$(( $(date +%s) * 1000 ))
# fill HOURS: the 1 h tier's rows (720 after a month, 2208 at the bound)
fill() {
	sqlite3 "$db" <<SQL
DELETE FROM history;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 2207),
c(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM c WHERE k < $chargers),
tiers(t, step, rows) AS (VALUES (0, 60000, 1440), (1, 900000, 768), (2, 3600000, $1))
INSERT INTO history(series, tier, at_ms, n, v1, v2, v3, v4)
  SELECT printf('CP-%04d', k), t, $now - $now % step - i * step, 6,
         7360.4 + (i % 97) * 13.7, 10.71 + (i % 13) * 0.31, 10.52 + (i % 11) * 0.29, 10.93 + (i % 7) * 0.27
  FROM c, tiers JOIN n ON i < rows;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 2207),
tiers(t, step, rows) AS (VALUES (0, 60000, 1440), (1, 900000, 768), (2, 3600000, $1))
INSERT INTO history(series, tier, at_ms, n, v1, v2, v3, v4, v5, v6, v7)
  SELECT '', t, $now - $now % step - i * step, 6, 212.3 + (i % 17), 198.6 + (i % 19), 205.1 + (i % 23),
         250.0, 31.4 + (i % 5), 28.2 + (i % 7), 30.9 + (i % 3)
  FROM tiers JOIN n ON i < rows;
SQL
}
empty=$(size)
for hours in 720 2208; do
	fill $hours
	used=$(( $(size) - empty ))
	rows=$(sqlite3 "$db" "SELECT count(*) FROM history WHERE series = 'CP-0001'")
	echo "history, $hours hourly buckets: $((used / (chargers + 1))) bytes per series ($rows rows each, $chargers chargers and the site: $used bytes)"
done

start
for u in / "/api/history?from=$((now - 3600000))&to=$now&step=60" \
	"/api/history?from=$((now - 86400000))&to=$now&step=60" \
	"/api/history?from=$((now - 604800000))&to=$now&step=900" \
	"/api/history?charger=CP-0001&from=$((now - 86400000))&to=$now&step=60"; do
	curl -s -o /dev/null -w "$u %{size_download} bytes\n" "http://127.0.0.1:$admin$u" | sed -E 's/(from|to)=[0-9]+/\1=.../g'
done
stop
