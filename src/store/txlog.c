/* SPDX-License-Identifier: MIT */
/*
 * The transaction log: one row per transaction a charger ran, whatever its
 * version, built up from the messages seen (start, meter values, stop).
 * Each upsert brings only what its message knew; fields it did not know
 * keep their stored values. What a message means is src/local's business.
 */
#include <errno.h>

#include <jansson.h>
#include <sqlite3.h>

#include "internal.h"
#include "ocppgw/store.h"

/* Unknown fields are bound as NULL, so coalesce() keeps the stored value;
 * offline only ever turns on. */
static const char sql_upsert[] =
	"INSERT INTO transactions(charger, tx_id, evse, connector, id_tag, started, stopped,"
	" meter_start_wh, meter_last_wh, stop_reason, offline)"
	" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
	" ON CONFLICT(charger, tx_id) DO UPDATE SET"
	" evse = coalesce(excluded.evse, evse),"
	" connector = coalesce(excluded.connector, connector),"
	" id_tag = coalesce(excluded.id_tag, id_tag),"
	" started = coalesce(excluded.started, started),"
	" stopped = coalesce(excluded.stopped, stopped),"
	" meter_start_wh = coalesce(excluded.meter_start_wh, meter_start_wh),"
	" meter_last_wh = coalesce(excluded.meter_last_wh, meter_last_wh),"
	" stop_reason = coalesce(excluded.stop_reason, stop_reason),"
	" offline = max(offline, excluded.offline)";
static const char sql_list[] =
	"SELECT charger, tx_id, coalesce(evse, 0), coalesce(connector, 0), id_tag,"
	" coalesce(started, 0), coalesce(stopped, 0), meter_start_wh, meter_last_wh,"
	" stop_reason, offline FROM transactions"
	" WHERE (?1 IS NULL OR charger = ?1) AND (?2 = 0 OR stopped IS NULL)"
	" AND (?4 = 0 OR coalesce(started, 0) >= ?4) AND (?5 = 0 OR coalesce(started, 0) < ?5)"
	" ORDER BY coalesce(started, 0) DESC, rowid DESC LIMIT ?3";

static int bind_int_known(sqlite3_stmt *s, int i, int64_t v)
{
	return v > 0 ? sqlite3_bind_int64(s, i, v) : sqlite3_bind_null(s, i);
}

static int bind_meter(sqlite3_stmt *s, int i, double wh)
{
	return wh >= 0 ? sqlite3_bind_double(s, i, wh) : sqlite3_bind_null(s, i);
}

static int bind_text(sqlite3_stmt *s, int i, const char *v)
{
	return v ? sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(s, i);
}

int ogw_store_tx_upsert(struct ogw_store *st, const struct ogw_txrec *tx)
{
	if (!st || !tx || !tx->charger || !tx->tx_id || !*tx->tx_id)
		return -EINVAL;
	/* A log row: no charger waits for it, so it does not hold frames. */
	int r = ogw_store_write_begin_lazy(st);
	if (r < 0)
		return r;
	sqlite3_stmt *s = ogw_store_stmt(st, sql_upsert);
	if (!s)
		return -EIO;
	int rc = sqlite3_bind_text(s, 1, tx->charger, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(s, 2, tx->tx_id, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = bind_int_known(s, 3, tx->evse);
	if (rc == SQLITE_OK)
		rc = bind_int_known(s, 4, tx->connector);
	if (rc == SQLITE_OK)
		rc = bind_text(s, 5, tx->id_tag);
	if (rc == SQLITE_OK)
		rc = bind_int_known(s, 6, tx->started);
	if (rc == SQLITE_OK)
		rc = bind_int_known(s, 7, tx->stopped);
	if (rc == SQLITE_OK)
		rc = bind_meter(s, 8, tx->meter_start_wh);
	if (rc == SQLITE_OK)
		rc = bind_meter(s, 9, tx->meter_last_wh);
	if (rc == SQLITE_OK)
		rc = bind_text(s, 10, tx->stop_reason);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(s, 11, tx->offline ? 1 : 0);
	if (rc != SQLITE_OK) {
		ogw_store_release(s);
		return ogw_store_errno(rc) ? ogw_store_errno(rc) : -EIO;
	}
	return ogw_store_step_done(st, s);
}

/* A REAL column as JSON, null when NULL. */
static json_t *column_meter(sqlite3_stmt *s, int i)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL ? json_null()
							: json_real(sqlite3_column_double(s, i));
}

static json_t *column_text(sqlite3_stmt *s, int i)
{
	const char *v = (const char *)sqlite3_column_text(s, i);
	return v ? json_string(v) : json_null();
}

/* One row as the object ogw_store_tx_list() documents. */
static json_t *row_json(sqlite3_stmt *s)
{
	bool energy_known = sqlite3_column_type(s, 7) != SQLITE_NULL &&
			    sqlite3_column_type(s, 8) != SQLITE_NULL;
	double energy = sqlite3_column_double(s, 8) - sqlite3_column_double(s, 7);

	return json_pack("{s:s, s:s, s:i, s:i, s:o, s:I, s:I, s:o, s:o, s:o, s:o, s:b}",
			 "charger", (const char *)sqlite3_column_text(s, 0),
			 "tx_id", (const char *)sqlite3_column_text(s, 1),
			 "evse", sqlite3_column_int(s, 2),
			 "connector", sqlite3_column_int(s, 3),
			 "id_tag", column_text(s, 4),
			 "started", (json_int_t)sqlite3_column_int64(s, 5),
			 "stopped", (json_int_t)sqlite3_column_int64(s, 6),
			 "meter_start_wh", column_meter(s, 7),
			 "meter_last_wh", column_meter(s, 8),
			 "energy_wh", energy_known ? json_real(energy) : json_null(),
			 "stop_reason", column_text(s, 9),
			 "offline", sqlite3_column_int(s, 10) != 0);
}

json_t *ogw_store_tx_list(struct ogw_store *st, const char *charger, bool open_only, int limit)
{
	return ogw_store_tx_list_between(st, charger, open_only, 0, 0, limit);
}

json_t *ogw_store_tx_list_between(struct ogw_store *st, const char *charger, bool open_only,
				  int64_t from, int64_t to, int limit)
{
	if (!st)
		return NULL;
	sqlite3_stmt *s = ogw_store_stmt(st, sql_list);
	if (!s)
		return NULL;
	bind_text(s, 1, charger);
	sqlite3_bind_int(s, 2, open_only ? 1 : 0);
	sqlite3_bind_int(s, 3, limit > 0 ? limit : -1);
	sqlite3_bind_int64(s, 4, from > 0 ? from : 0);
	sqlite3_bind_int64(s, 5, to > 0 ? to : 0);
	return ogw_store_rows_json(s, row_json);
}
