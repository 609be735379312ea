/* SPDX-License-Identifier: MIT */
/*
 * Each secondary CSMS's own queue (docs/MULTI_CSMS.md, rule 5): the
 * charger's transaction messages a secondary must still receive, per
 * charger and CSMS, in arrival order, in the charger's version (each is
 * translated when it is sent). A row leaves only once that CSMS answered.
 * The primary's queue is queue.c; the two never mix.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include "internal.h"
#include "ocppgw/store.h"

static const char sql_push[] =
	"INSERT INTO csms_queue(charger, csms, action, payload, queued_at)"
	" VALUES(?1, ?2, ?3, ?4, ?5)";
static const char sql_next[] =
	"SELECT seq, action, payload, queued_at FROM csms_queue"
	" WHERE charger = ?1 AND csms = ?2 ORDER BY seq LIMIT 1";
static const char sql_delete[] = "DELETE FROM csms_queue WHERE seq = ?1";
static const char sql_count[] =
	"SELECT count(*) FROM csms_queue WHERE charger = ?1 AND csms = ?2";
static const char sql_depths[] =
	"SELECT csms, count(*), min(queued_at) FROM csms_queue GROUP BY csms ORDER BY csms";

/* @s with @charger and @csms bound as ?1 and ?2: SQLITE_OK or its error. */
static int bind_leg(sqlite3_stmt *s, const char *charger, const char *csms)
{
	int rc = sqlite3_bind_text(s, 1, charger, -1, SQLITE_STATIC);
	return rc == SQLITE_OK ? sqlite3_bind_text(s, 2, csms, -1, SQLITE_STATIC) : rc;
}

int ogw_store_csms_queue_push(struct ogw_store *st, const char *charger, const char *csms,
			      const char *action, const json_t *payload, int64_t *ret_seq)
{
	if (!st || !charger || !csms || !action || !payload)
		return -EINVAL;
	sqlite3_stmt *s = ogw_store_stmt(st, sql_push);
	if (!s)
		return -EIO;
	int r = ogw_store_write_begin(st);
	if (r < 0)
		return r;
	int rc = bind_leg(s, charger, csms);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(s, 3, action, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = ogw_store_bind_json(s, 4, payload);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 5, ogw_store_now_ms());
	if (rc != SQLITE_OK) {
		ogw_store_release(s);
		return ogw_store_errno(rc) ? ogw_store_errno(rc) : -EIO;
	}
	r = ogw_store_step_done(st, s);
	if (r == 0 && ret_seq)
		*ret_seq = sqlite3_last_insert_rowid(st->db);
	return r;
}

int ogw_store_csms_queue_next(struct ogw_store *st, const char *charger, const char *csms,
			      struct ogw_qmsg *ret)
{
	if (!st || !charger || !csms || !ret)
		return -EINVAL;
	sqlite3_stmt *s = ogw_store_stmt(st, sql_next);
	if (!s)
		return -EIO;
	bind_leg(s, charger, csms);
	int rc = sqlite3_step(s);
	int r = rc == SQLITE_DONE ? -ENOENT : rc != SQLITE_ROW ? -EIO : 0;
	if (r == 0) {
		struct ogw_qmsg m;
		memset(&m, 0, sizeof(m));
		m.seq = sqlite3_column_int64(s, 0);
		snprintf(m.charger, sizeof(m.charger), "%s", charger);
		snprintf(m.action, sizeof(m.action), "%s", (const char *)sqlite3_column_text(s, 1));
		m.payload = ogw_store_column_json(s, 2);
		m.queued_at_ms = sqlite3_column_int64(s, 3);
		if (m.payload)
			*ret = m;
		else
			r = -EBADMSG; /* written by us as JSON: a damaged row */
	}
	ogw_store_release(s);
	return r;
}

int ogw_store_csms_queue_delete(struct ogw_store *st, int64_t seq)
{
	if (!st)
		return -EINVAL;
	sqlite3_stmt *s = ogw_store_stmt(st, sql_delete);
	if (!s)
		return -EIO;
	int r = ogw_store_write_begin(st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, seq);
	return ogw_store_step_done(st, s);
}

int64_t ogw_store_csms_queue_count(struct ogw_store *st, const char *charger, const char *csms)
{
	if (!st || !charger || !csms)
		return -EINVAL;
	sqlite3_stmt *s = ogw_store_stmt(st, sql_count);
	if (!s)
		return -EIO;
	bind_leg(s, charger, csms);
	int rc = sqlite3_step(s);
	int64_t n = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -EIO;
	ogw_store_release(s);
	return n;
}

int ogw_store_csms_queue_depths(struct ogw_store *st,
				void (*each)(void *ctx, const char *csms, int64_t n, int64_t oldest_ms),
				void *ctx)
{
	if (!st)
		return -EINVAL;
	sqlite3_stmt *s = ogw_store_stmt(st, sql_depths);
	if (!s)
		return -EIO;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		each(ctx, (const char *)sqlite3_column_text(s, 0), sqlite3_column_int64(s, 1),
		     sqlite3_column_int64(s, 2));
	ogw_store_release(s);
	return rc == SQLITE_DONE ? 0 : -EIO;
}
