/* SPDX-License-Identifier: MIT */
/*
 * The authorization table: per charger, the CSMS's local list (what
 * SendLocalList installed) and the cache (what the CSMS last answered for a
 * token). It stores version-neutral info records and their expiry; which
 * entry wins and what an expired one means is the caller's (src/local)
 * decision, so expired rows are returned as they are.
 */
#include <errno.h>
#include <stdbool.h>
#include <time.h>

#include <jansson.h>
#include <sqlite3.h>

#include "internal.h"
#include "ocppgw/store.h"

static const char sql_put[] =
	"INSERT INTO auth(charger, kind, token, info, expires, updated)"
	" VALUES(?1, ?2, ?3, ?4, ?5, ?6)"
	" ON CONFLICT(charger, kind, token) DO UPDATE SET info = excluded.info,"
	" expires = excluded.expires, updated = excluded.updated";
static const char sql_del[] = "DELETE FROM auth WHERE charger = ?1 AND kind = ?2 AND token = ?3";
static const char sql_clear[] = "DELETE FROM auth WHERE charger = ?1 AND kind = ?2";
static const char sql_get[] =
	"SELECT info, coalesce(expires, 0) FROM auth"
	" WHERE charger = ?1 AND kind = ?2 AND token = ?3";
/* Both kinds of a token in one statement: one read transaction (one WAL
 * read lock taken and dropped) where two lookups took two. Two searches of
 * the primary key, not `kind IN (...)`: SQLite builds a table for an IN
 * list on every run, which cost more than the second statement saved. */
static const char sql_get_both[] =
	"SELECT kind, info, coalesce(expires, 0) FROM auth"
	" WHERE charger = ?1 AND kind = ?2 AND token = ?3"
	" UNION ALL SELECT kind, info, coalesce(expires, 0) FROM auth"
	" WHERE charger = ?1 AND kind = ?4 AND token = ?3";
static const char sql_count[] = "SELECT count(*) FROM auth WHERE charger = ?1 AND kind = ?2";
/* S16 §3.5.1: a full cache evicts invalid entries first, then the oldest. */
static const char sql_trim[] =
	"DELETE FROM auth WHERE charger = ?1 AND kind = ?2 AND token IN ("
	" SELECT token FROM auth WHERE charger = ?1 AND kind = ?2"
	" ORDER BY json_extract(info, '$.status') = 'Accepted', updated, token"
	" LIMIT max(0, (SELECT count(*) FROM auth WHERE charger = ?1 AND kind = ?2) - ?3))";

/* @sql with (charger, kind[, token]) bound as ?1..?3, or NULL. */
static sqlite3_stmt *auth_stmt(struct ogw_store *st, const char *sql, const char *charger,
			       enum ogw_auth_kind kind, const char *token)
{
	sqlite3_stmt *s = ogw_store_stmt(st, sql);
	if (!s)
		return NULL;
	int rc = sqlite3_bind_text(s, 1, charger, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(s, 2, (int)kind);
	if (rc == SQLITE_OK && token)
		rc = sqlite3_bind_text(s, 3, token, -1, SQLITE_STATIC);
	if (rc != SQLITE_OK) {
		ogw_store_release(s);
		return NULL;
	}
	return s;
}

/* Runs the write @sql for (charger, kind[, token]). */
static int auth_write(struct ogw_store *st, const char *sql, const char *charger,
		      enum ogw_auth_kind kind, const char *token)
{
	int r = ogw_store_write_begin(st);
	if (r < 0)
		return r;
	sqlite3_stmt *s = auth_stmt(st, sql, charger, kind, token);
	return s ? ogw_store_step_done(st, s) : -EIO;
}

int ogw_store_auth_put(struct ogw_store *st, const char *charger, enum ogw_auth_kind kind,
		       const char *token, const json_t *info, int64_t expires)
{
	if (!st || !charger || !token || !info)
		return -EINVAL;
	int r = ogw_store_write_begin(st);
	if (r < 0)
		return r;
	sqlite3_stmt *s = auth_stmt(st, sql_put, charger, kind, token);
	if (!s)
		return -EIO;
	int rc = ogw_store_bind_json(s, 4, info);
	if (rc == SQLITE_OK)
		rc = expires ? sqlite3_bind_int64(s, 5, expires) : sqlite3_bind_null(s, 5);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 6, (int64_t)time(NULL));
	if (rc != SQLITE_OK) {
		ogw_store_release(s);
		return ogw_store_errno(rc) ? ogw_store_errno(rc) : -EIO;
	}
	return ogw_store_step_done(st, s);
}

int ogw_store_auth_del(struct ogw_store *st, const char *charger, enum ogw_auth_kind kind,
		       const char *token)
{
	if (!st || !charger || !token)
		return -EINVAL;
	return auth_write(st, sql_del, charger, kind, token);
}

int ogw_store_auth_clear(struct ogw_store *st, const char *charger, enum ogw_auth_kind kind)
{
	if (!st || !charger)
		return -EINVAL;
	return auth_write(st, sql_clear, charger, kind, NULL);
}

json_t *ogw_store_auth_get(struct ogw_store *st, const char *charger, enum ogw_auth_kind kind,
			   const char *token, int64_t *ret_expires, int *ret_err)
{
	json_t *info = NULL;
	int r = 0;

	if (!st || !charger || !token) {
		r = -EINVAL;
		goto out;
	}
	sqlite3_stmt *s = auth_stmt(st, sql_get, charger, kind, token);
	if (!s) {
		r = -EIO;
		goto out;
	}
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		/* Only this file writes the column; unparsable text is damage. */
		info = ogw_store_column_json(s, 0);
		if (!info)
			r = -EIO;
		else if (ret_expires)
			*ret_expires = sqlite3_column_int64(s, 1);
	} else if (rc != SQLITE_DONE) {
		r = ogw_store_errno(rc) ? ogw_store_errno(rc) : -EIO;
	}
	ogw_store_release(s);
out:
	if (ret_err)
		*ret_err = r;
	return info;
}

int ogw_store_auth_get_both(struct ogw_store *st, const char *charger, const char *token,
			     json_t **ret_list, int64_t *ret_list_expires, json_t **ret_cache,
			     int64_t *ret_cache_expires)
{
	int r = 0, rc;

	*ret_list = *ret_cache = NULL;
	*ret_list_expires = *ret_cache_expires = 0;
	if (!st || !charger || !token)
		return -EINVAL;
	sqlite3_stmt *s = auth_stmt(st, sql_get_both, charger, OGW_AUTH_LIST, token);
	if (!s)
		return -EIO;
	rc = sqlite3_bind_int(s, 4, (int)OGW_AUTH_CACHE);
	while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		bool list = sqlite3_column_int(s, 0) == OGW_AUTH_LIST;
		json_t **to = list ? ret_list : ret_cache;
		/* Only this file writes the column; unparsable text is damage. */
		json_decref(*to);
		if (!(*to = ogw_store_column_json(s, 1))) {
			r = -EIO;
			break;
		}
		*(list ? ret_list_expires : ret_cache_expires) = sqlite3_column_int64(s, 2);
		rc = SQLITE_OK;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = ogw_store_errno(rc) ? ogw_store_errno(rc) : -EIO;
	ogw_store_release(s);
	if (r < 0) {
		json_decref(*ret_list);
		json_decref(*ret_cache);
		*ret_list = *ret_cache = NULL;
	}
	return r;
}

int64_t ogw_store_auth_count(struct ogw_store *st, const char *charger, enum ogw_auth_kind kind)
{
	if (!st || !charger)
		return -EINVAL;
	sqlite3_stmt *s = auth_stmt(st, sql_count, charger, kind, NULL);
	if (!s)
		return -EIO;
	int rc = sqlite3_step(s);
	int64_t n = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0)
				     : ogw_store_errno(rc) ? ogw_store_errno(rc) : -EIO;
	ogw_store_release(s);
	return n;
}

int ogw_store_auth_trim(struct ogw_store *st, const char *charger, enum ogw_auth_kind kind,
			int64_t max)
{
	if (!st || !charger || max < 0)
		return -EINVAL;
	int r = ogw_store_write_begin(st);
	if (r < 0)
		return r;
	sqlite3_stmt *s = auth_stmt(st, sql_trim, charger, kind, NULL);
	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 3, max);
	return ogw_store_step_done(st, s);
}
