/* SPDX-License-Identifier: MIT */
/*
 * The outbound queue: what the CSMS must receive, per charger, in order, and
 * the dead letters the CSMS refused after every attempt. A row leaves the
 * queue only on the CSMS's CALLRESULT (or into dead_letter), so a crash
 * re-sends at most the message that was in flight. It knows nothing of
 * OCPP beyond the action name: the gateway decides what is queued.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sqlite3.h>

#include "internal.h"
#include "ocppgw/store.h"

static const char sql_push[] =
	"INSERT INTO queue(charger, ver, action, payload, meta, queued_at)"
	" VALUES(?1, ?2, ?3, ?4, ?5, ?6)";
static const char sql_next[] =
	"SELECT seq, ver, action, payload, meta, queued_at, attempts, sent FROM queue"
	" WHERE charger = ?1 AND seq > ?2 ORDER BY seq LIMIT 1";
static const char sql_mark[] = "UPDATE queue SET sent = 1, attempts = ?2 WHERE seq = ?1";
static const char sql_set_payload[] = "UPDATE queue SET payload = ?2 WHERE seq = ?1";
static const char sql_delete[] = "DELETE FROM queue WHERE seq = ?1";
static const char sql_delete_upto[] = "DELETE FROM queue WHERE charger = ?1 AND seq <= ?2";
static const char sql_dead[] =
	"INSERT INTO dead_letter(seq, charger, ver, action, payload, meta, queued_at,"
	" failed_at, attempts, error_code, error_desc)"
	" SELECT seq, charger, ver, action, payload, meta, queued_at, ?2, attempts, ?3, ?4"
	" FROM queue WHERE seq = ?1";
static const char sql_count_one[] =
	"SELECT count(*), coalesce(min(queued_at), 0) FROM queue WHERE charger = ?1";
static const char sql_count_all[] = "SELECT count(*), coalesce(min(queued_at), 0) FROM queue";
static const char sql_dead_one[] = "SELECT count(*) FROM dead_letter WHERE charger = ?1";
static const char sql_dead_all[] = "SELECT count(*) FROM dead_letter";
static const char sql_chargers[] =
	"SELECT charger, count(*) FROM queue GROUP BY charger ORDER BY min(seq)";
static const char sql_dead_list[] =
	"SELECT charger, seq, action, payload, queued_at, failed_at, attempts, error_code,"
	" error_desc FROM dead_letter WHERE ?1 IS NULL OR charger = ?1"
	" ORDER BY failed_at DESC, seq DESC LIMIT ?2";

int64_t ogw_store_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void ogw_qmsg_clear(struct ogw_qmsg *m)
{
	if (!m)
		return;
	json_decref(m->payload);
	json_decref(m->meta);
	memset(m, 0, sizeof(*m));
}

int ogw_store_queue_push(struct ogw_store *st, const char *charger, const char *ver,
			 const char *action, const json_t *payload, const json_t *meta,
			 int64_t *ret_seq)
{
	if (!st || !charger || !ver || !action || !payload)
		return -EINVAL;
	sqlite3_stmt *s = ogw_store_stmt(st, sql_push);
	if (!s)
		return -EIO;
	int r = ogw_store_write_begin(st);
	if (r < 0)
		return r;
	int rc = sqlite3_bind_text(s, 1, charger, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(s, 2, ver, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(s, 3, action, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = ogw_store_bind_json(s, 4, payload);
	if (rc == SQLITE_OK)
		rc = ogw_store_bind_json(s, 5, meta);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 6, ogw_store_now_ms());
	if (rc != SQLITE_OK) {
		ogw_store_release(s);
		return ogw_store_errno(rc) ? ogw_store_errno(rc) : -EIO;
	}
	r = ogw_store_step_done(st, s);
	if (r == 0 && ret_seq)
		*ret_seq = sqlite3_last_insert_rowid(st->db);
	return r;
}

int ogw_store_queue_next(struct ogw_store *st, const char *charger, int64_t after_seq,
			 struct ogw_qmsg *ret)
{
	if (!st || !charger || !ret)
		return -EINVAL;
	sqlite3_stmt *s = ogw_store_stmt(st, sql_next);
	if (!s)
		return -EIO;
	sqlite3_bind_text(s, 1, charger, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, after_seq);
	int rc = sqlite3_step(s);
	int r;
	if (rc == SQLITE_DONE) {
		r = -ENOENT;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		r = ogw_store_errno(rc) ? ogw_store_errno(rc) : -EIO;
		goto out;
	}
	struct ogw_qmsg m;
	memset(&m, 0, sizeof(m));
	m.seq = sqlite3_column_int64(s, 0);
	snprintf(m.charger, sizeof(m.charger), "%s", charger);
	snprintf(m.ver, sizeof(m.ver), "%s", (const char *)sqlite3_column_text(s, 1));
	snprintf(m.action, sizeof(m.action), "%s", (const char *)sqlite3_column_text(s, 2));
	m.payload = ogw_store_column_json(s, 3);
	m.meta = ogw_store_column_json(s, 4);
	m.queued_at_ms = sqlite3_column_int64(s, 5);
	m.attempts = sqlite3_column_int(s, 6);
	m.sent = sqlite3_column_int(s, 7) != 0;
	if (!m.payload) {
		/* Written by us as JSON: unreadable text means a damaged row. */
		ogw_qmsg_clear(&m);
		r = -EBADMSG;
		goto out;
	}
	*ret = m;
	r = 0;
out:
	ogw_store_release(s);
	return r;
}

/* The statement for the write @sql, with the batch's transaction open;
 * NULL with *ret_err set when either fails. */
static sqlite3_stmt *write_stmt(struct ogw_store *st, const char *sql, int *ret_err)
{
	sqlite3_stmt *s = ogw_store_stmt(st, sql);
	*ret_err = s ? ogw_store_write_begin(st) : -EIO;
	return *ret_err < 0 ? NULL : s;
}

int ogw_store_queue_mark(struct ogw_store *st, int64_t seq, int attempts)
{
	int r = -EINVAL;
	sqlite3_stmt *s = st ? write_stmt(st, sql_mark, &r) : NULL;
	if (!s)
		return r;
	sqlite3_bind_int64(s, 1, seq);
	sqlite3_bind_int(s, 2, attempts);
	return ogw_store_step_done(st, s);
}

int ogw_store_queue_set_payload(struct ogw_store *st, int64_t seq, const json_t *payload)
{
	int r = -EINVAL;
	sqlite3_stmt *s = st && payload ? write_stmt(st, sql_set_payload, &r) : NULL;
	if (!s)
		return r;
	sqlite3_bind_int64(s, 1, seq);
	if (ogw_store_bind_json(s, 2, payload) != SQLITE_OK) {
		ogw_store_release(s);
		return -ENOMEM;
	}
	return ogw_store_step_done(st, s);
}

int ogw_store_queue_delete(struct ogw_store *st, int64_t seq)
{
	int r = -EINVAL;
	sqlite3_stmt *s = st ? write_stmt(st, sql_delete, &r) : NULL;
	if (!s)
		return r;
	sqlite3_bind_int64(s, 1, seq);
	return ogw_store_step_done(st, s);
}

int ogw_store_queue_delete_upto(struct ogw_store *st, const char *charger, int64_t seq)
{
	int r = -EINVAL;
	sqlite3_stmt *s = st && charger ? write_stmt(st, sql_delete_upto, &r) : NULL;
	if (!s)
		return r;
	sqlite3_bind_text(s, 1, charger, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, seq);
	return ogw_store_step_done(st, s);
}

int ogw_store_queue_dead(struct ogw_store *st, int64_t seq, const char *code, const char *desc)
{
	int r = -EINVAL;
	sqlite3_stmt *s = st ? write_stmt(st, sql_dead, &r) : NULL;
	if (!s)
		return r;
	sqlite3_bind_int64(s, 1, seq);
	sqlite3_bind_int64(s, 2, ogw_store_now_ms());
	sqlite3_bind_text(s, 3, code ? code : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, desc ? desc : "", -1, SQLITE_STATIC);
	r = ogw_store_step_done(st, s);
	return r < 0 ? r : ogw_store_queue_delete(st, seq);
}

/* One row of counts: *ret_a = column 0, *ret_b = column 1 (when asked). */
static int query_counts(struct ogw_store *st, const char *sql, const char *charger,
			int64_t *ret_a, int64_t *ret_b)
{
	sqlite3_stmt *s = ogw_store_stmt(st, sql);
	if (!s)
		return -EIO;
	if (charger)
		sqlite3_bind_text(s, 1, charger, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	int r = 0;
	if (rc == SQLITE_ROW) {
		*ret_a = sqlite3_column_int64(s, 0);
		if (ret_b)
			*ret_b = sqlite3_column_int64(s, 1);
	} else {
		r = ogw_store_errno(rc) ? ogw_store_errno(rc) : -EIO;
	}
	ogw_store_release(s);
	return r;
}

int64_t ogw_store_queue_count(struct ogw_store *st, const char *charger, int64_t *ret_oldest_ms)
{
	int64_t n = 0, oldest = 0;
	if (!st)
		return -EINVAL;
	int r = query_counts(st, charger ? sql_count_one : sql_count_all, charger, &n, &oldest);
	if (r < 0)
		return r;
	if (ret_oldest_ms)
		*ret_oldest_ms = oldest;
	return n;
}

int64_t ogw_store_dead_count(struct ogw_store *st, const char *charger)
{
	int64_t n = 0;
	if (!st)
		return -EINVAL;
	int r = query_counts(st, charger ? sql_dead_one : sql_dead_all, charger, &n, NULL);
	return r < 0 ? r : n;
}

int ogw_store_queue_chargers(struct ogw_store *st,
			     void (*fn)(const char *charger, int64_t count, void *arg), void *arg)
{
	if (!st || !fn)
		return -EINVAL;
	sqlite3_stmt *s = ogw_store_stmt(st, sql_chargers);
	if (!s)
		return -EIO;
	/* Collected first: @fn may use the store. */
	json_t *rows = json_array();
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		json_array_append_new(rows, json_pack("[sI]", (const char *)sqlite3_column_text(s, 0),
						      (json_int_t)sqlite3_column_int64(s, 1)));
	ogw_store_release(s);
	int r = rc == SQLITE_DONE ? 0 : ogw_store_errno(rc) ? ogw_store_errno(rc) : -EIO;
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row)
		if (r == 0)
			fn(json_string_value(json_array_get(row, 0)),
			   json_integer_value(json_array_get(row, 1)), arg);
	json_decref(rows);
	return r;
}

json_t *ogw_store_dead_list(struct ogw_store *st, const char *charger, int limit)
{
	if (!st)
		return NULL;
	sqlite3_stmt *s = ogw_store_stmt(st, sql_dead_list);
	if (!s)
		return NULL;
	if (charger)
		sqlite3_bind_text(s, 1, charger, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, limit > 0 ? limit : 100);
	json_t *out = json_array();
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		json_t *payload = ogw_store_column_json(s, 3);
		json_array_append_new(out, json_pack(
			"{s:s, s:I, s:s, s:o, s:I, s:I, s:i, s:s, s:s}",
			"charger", (const char *)sqlite3_column_text(s, 0),
			"seq", (json_int_t)sqlite3_column_int64(s, 1),
			"action", (const char *)sqlite3_column_text(s, 2),
			"payload", payload ? payload : json_null(),
			"queued_at", (json_int_t)sqlite3_column_int64(s, 4),
			"failed_at", (json_int_t)sqlite3_column_int64(s, 5),
			"attempts", sqlite3_column_int(s, 6),
			"error_code", (const char *)sqlite3_column_text(s, 7),
			"error_desc", (const char *)sqlite3_column_text(s, 8)));
	}
	ogw_store_release(s);
	if (rc != SQLITE_DONE) {
		json_decref(out);
		return NULL;
	}
	return out;
}
