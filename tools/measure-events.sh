#!/bin/sh
# SPDX-License-Identifier: MIT
# Measures the events table's disk use: a store made by the real gateway
# (its migrations), then ROWS rows of the texts the events stage writes,
# spread over CHARGERS chargers; prints bytes per row and, for EPD events
# per charger per day, bytes per charger per day (docs/OPERATOR.md).
# Usage: tools/measure-events.sh [BUILD_DIR] [ROWS] [CHARGERS] [EPD]
set -eu
build=${1:-build}
rows=${2:-20000}
chargers=${3:-50}
epd=${4:-40}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$build/src/ocppgw" --listen "127.0.0.1:$port" --admin "" --data-dir "$dir/data" -q &
pid=$!
sleep 1
kill -TERM "$pid"
wait "$pid"

db="$dir/data/ocppgw.db"
size() { sqlite3 "$db" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null; stat -c %s "$db"; }
before=$(size)
sqlite3 "$db" <<SQL
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $rows),
texts(k, kind, text) AS (VALUES
  (0, 'connect', 'connected, OCPP 1.6'),
  (1, 'boot', 'boot: ACME Wallbox16'),
  (2, 'disconnect', 'disconnected (code 1006)'),
  (3, 'callerror', 'CALLERROR NotImplemented from the charger on SetChargingProfile'),
  (4, 'fault', 'connector 1 Faulted: GroundFailure, RCD tripped'),
  (5, 'boot', 'boot: Volt Wallbox201 (PowerUp)'),
  (6, 'security', 'TamperDetectionActivated: lid opened'),
  (7, 'limit', 'site limit set to 40.0 A per phase'))
INSERT INTO events(at_ms, charger, kind, text)
  SELECT 1764800000000 + i * 1000, printf('CP-%04d', i % $chargers), kind, text
  FROM n JOIN texts ON texts.k = i % 8;
SQL
after=$(size)
per_row=$(( (after - before) / rows ))
echo "events: $rows rows over $chargers chargers: $((after - before)) bytes, $per_row bytes per row"
echo "at $epd events per charger per day: $((per_row * epd)) bytes per charger per day"
echo "the default cap (store_max_events = 20000): about $((per_row * 20000 / 1024)) KiB in all"
