/* SPDX-License-Identifier: MIT */
/*
 * The events table: a bounded log of what happened to chargers and the
 * site, newest rows kept. Writes join the store's batch like the
 * transaction log (lazily: nothing waits for them, so no fsync per event);
 * the cap is kept by deleting below a sequence number, one index range.
 * What counts as an event is src/features/events' business.
 */
#include <errno.h>

#include <jansson.h>
#include <sqlite3.h>

#include "internal.h"
#include "ocppgw/store.h"

static const char sql_add[] =
	"INSERT INTO events(at_ms, charger, kind, text) VALUES(?1, ?2, ?3, ?4)";
/* seq grows by one per row (AUTOINCREMENT never reuses), so the newest
 * @max rows are those above last - max. */
static const char sql_trim[] = "DELETE FROM events WHERE seq <= ?1";
/* The newest ?3 matching rows, returned oldest first. */
static const char sql_list[] =
	"SELECT seq, at_ms, charger, kind, text FROM (SELECT * FROM events"
	" WHERE (?1 IS NULL OR charger = ?1) AND at_ms > ?2 AND (?4 IS NULL OR kind = ?4)"
	" ORDER BY seq DESC LIMIT ?3)"
	" ORDER BY seq";
static const char sql_count[] = "SELECT count(*) FROM events";

int ogw_store_event_add(struct ogw_store *st, const struct ogw_event *ev, int64_t max)
{
	if (!st || !ev || !ev->kind || !ev->text)
		return -EINVAL;
	int r = ogw_store_write_begin_lazy(st);
	if (r < 0)
		return r;
	sqlite3_stmt *s = ogw_store_stmt(st, sql_add);
	if (!s)
		return -EIO;
	int rc = sqlite3_bind_int64(s, 1, ev->at_ms);
	if (rc == SQLITE_OK)
		rc = ev->charger ? sqlite3_bind_text(s, 2, ev->charger, -1, SQLITE_STATIC)
				 : sqlite3_bind_null(s, 2);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(s, 3, ev->kind, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(s, 4, ev->text, -1, SQLITE_STATIC);
	if (rc != SQLITE_OK) {
		ogw_store_release(s);
		return ogw_store_errno(rc) ? ogw_store_errno(rc) : -EIO;
	}
	r = ogw_store_step_done(st, s);
	if (r < 0 || max <= 0)
		return r;
	int64_t last = sqlite3_last_insert_rowid(st->db);
	if (last <= max)
		return 0;
	s = ogw_store_stmt(st, sql_trim);
	if (!s)
		return -EIO;
	rc = sqlite3_bind_int64(s, 1, last - max);
	if (rc != SQLITE_OK) {
		ogw_store_release(s);
		return ogw_store_errno(rc) ? ogw_store_errno(rc) : -EIO;
	}
	return ogw_store_step_done(st, s);
}

/* One row as the object ogw_store_event_list() documents. */
static json_t *row_json(sqlite3_stmt *s)
{
	const char *who = (const char *)sqlite3_column_text(s, 2);
	return json_pack("{s:I, s:I, s:o, s:s, s:s}",
			 "seq", (json_int_t)sqlite3_column_int64(s, 0),
			 "at", (json_int_t)sqlite3_column_int64(s, 1),
			 "charger", who ? json_string(who) : json_null(),
			 "kind", (const char *)sqlite3_column_text(s, 3),
			 "text", (const char *)sqlite3_column_text(s, 4));
}

json_t *ogw_store_event_list(struct ogw_store *st, const char *charger, const char *kind,
			     int64_t since_ms, int limit)
{
	if (!st)
		return NULL;
	sqlite3_stmt *s = ogw_store_stmt(st, sql_list);
	if (!s)
		return NULL;
	if (charger)
		sqlite3_bind_text(s, 1, charger, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, since_ms > 0 ? since_ms : 0);
	sqlite3_bind_int(s, 3, limit > 0 ? limit : -1);
	if (kind)
		sqlite3_bind_text(s, 4, kind, -1, SQLITE_STATIC);
	return ogw_store_rows_json(s, row_json);
}

int64_t ogw_store_event_count(struct ogw_store *st)
{
	sqlite3_stmt *s = st ? ogw_store_stmt(st, sql_count) : NULL;
	if (!s)
		return -EIO;
	int64_t n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -EIO;
	ogw_store_release(s);
	return n;
}
