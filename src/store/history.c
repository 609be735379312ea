/* SPDX-License-Identifier: MIT */
/*
 * The history table: time series for the operator's charts, downsampled
 * as they age. Every sample is folded into one bucket of each tier at
 * once (a running mean), so no job ever rolls fine rows into coarse ones,
 * and each tier drops what is older than its span: the table is bounded
 * by (series x buckets per tier). Writes join the store's batch lazily,
 * like the event log. What a series holds is src/features/history's.
 */
#include <errno.h>
#include <math.h>

#include <jansson.h>
#include <sqlite3.h>

#include "internal.h"
#include "ocppgw/store.h"

#define MIN_MS ((int64_t)60 * 1000)
#define DAY_MS ((int64_t)86400 * 1000)

const struct ogw_history_tier ogw_history_tiers[OGW_HISTORY_TIERS] = {
	{ MIN_MS, DAY_MS },            /* the last hour and day */
	{ 15 * MIN_MS, 8 * DAY_MS },   /* the last week, and a day to spare */
	{ 60 * MIN_MS, 92 * DAY_MS },  /* a quarter */
};

/* A value's mean after excluded.n more samples whose mean is excluded's: a
 * sample without the value leaves it (n counts every sample). */
#define MEAN(k) "v" k " = CASE WHEN excluded.v" k " IS NULL THEN v" k \
		" WHEN v" k " IS NULL THEN excluded.v" k \
		" ELSE v" k " + (excluded.v" k " - v" k ") * excluded.n / (n + excluded.n) END"
static const char sql_add[] =
	"INSERT INTO history(series, tier, at_ms, n, v1, v2, v3, v4, v5, v6, v7)"
	" VALUES(?1, ?2, ?3, ?11, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
	" ON CONFLICT(series, tier, at_ms) DO UPDATE SET "
	MEAN("1") ", " MEAN("2") ", " MEAN("3") ", " MEAN("4") ", " MEAN("5") ", "
	MEAN("6") ", " MEAN("7") ", n = n + excluded.n";
/* One series and tier: a range of the primary key. */
static const char sql_trim_series[] =
	"DELETE FROM history WHERE series = ?1 AND tier = ?2 AND at_ms < ?3";
static const char sql_trim_all[] = "DELETE FROM history WHERE tier = ?1 AND at_ms < ?2";
static const char sql_list[] =
	"SELECT at_ms, v1, v2, v3, v4, v5, v6, v7 FROM history"
	" WHERE series = ?1 AND tier = ?2 AND at_ms >= ?3 AND at_ms < ?4 ORDER BY at_ms LIMIT ?5";
static const char sql_count[] = "SELECT count(*) FROM history WHERE ?1 IS NULL OR series = ?1";

static int bind_fail(sqlite3_stmt *s, int rc)
{
	ogw_store_release(s);
	return ogw_store_errno(rc) ? ogw_store_errno(rc) : -EIO;
}

/* The rows of @series (NULL: every series) in @tier older than its keep. */
static int trim(struct ogw_store *st, const char *series, int tier, int64_t now_ms)
{
	sqlite3_stmt *s = ogw_store_stmt(st, series ? sql_trim_series : sql_trim_all);
	if (!s)
		return -EIO;
	int k = 1, rc = SQLITE_OK;
	if (series)
		rc = sqlite3_bind_text(s, k++, series, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(s, k++, tier);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, k, now_ms - ogw_history_tiers[tier].keep_ms);
	if (rc != SQLITE_OK)
		return bind_fail(s, rc);
	return ogw_store_step_done(st, s);
}

int ogw_store_history_merge(struct ogw_store *st, const char *series, int64_t at_ms,
			    unsigned int n, const double v[OGW_HISTORY_VALUES])
{
	if (!st || !series || !v || at_ms < 0 || n == 0)
		return -EINVAL;
	int r = ogw_store_write_begin_lazy(st);
	for (int t = 0; r == 0 && t < OGW_HISTORY_TIERS; t++) {
		sqlite3_stmt *s = ogw_store_stmt(st, sql_add);
		if (!s)
			return -EIO;
		int64_t step = ogw_history_tiers[t].step_ms;
		int rc = sqlite3_bind_text(s, 1, series, -1, SQLITE_STATIC);
		if (rc == SQLITE_OK)
			rc = sqlite3_bind_int(s, 2, t);
		if (rc == SQLITE_OK)
			rc = sqlite3_bind_int64(s, 3, at_ms - at_ms % step);
		for (int k = 0; rc == SQLITE_OK && k < OGW_HISTORY_VALUES; k++)
			rc = isfinite(v[k]) ? sqlite3_bind_double(s, 4 + k, v[k]) :
					      sqlite3_bind_null(s, 4 + k);
		if (rc == SQLITE_OK)
			rc = sqlite3_bind_int64(s, 11, n);
		if (rc != SQLITE_OK)
			return bind_fail(s, rc);
		r = ogw_store_step_done(st, s);
		if (r == 0)
			r = trim(st, series, t, at_ms);
	}
	return r;
}

int64_t ogw_store_history_trim(struct ogw_store *st, int64_t now_ms)
{
	if (!st)
		return -EINVAL;
	int r = ogw_store_write_begin_lazy(st);
	int64_t gone = 0;
	for (int t = 0; r == 0 && t < OGW_HISTORY_TIERS; t++) {
		r = trim(st, NULL, t, now_ms);
		gone += sqlite3_changes(st->db);
	}
	return r < 0 ? r : gone;
}

json_t *ogw_store_history_list(struct ogw_store *st, const char *series, int tier,
			       int64_t from_ms, int64_t to_ms, int n_values, int limit)
{
	if (!st || !series || tier < 0 || tier >= OGW_HISTORY_TIERS || n_values < 0 ||
	    n_values > OGW_HISTORY_VALUES)
		return NULL;
	sqlite3_stmt *s = ogw_store_stmt(st, sql_list);
	if (!s)
		return NULL;
	sqlite3_bind_text(s, 1, series, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, tier);
	sqlite3_bind_int64(s, 3, from_ms);
	sqlite3_bind_int64(s, 4, to_ms);
	sqlite3_bind_int(s, 5, limit > 0 ? limit : -1);
	json_t *out = json_array();
	int rc = SQLITE_DONE;
	while (out && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		json_t *row = json_array();
		if (!row || json_array_append_new(out, row) < 0) {
			json_decref(out);
			out = NULL;
			break;
		}
		json_array_append_new(row, json_integer(sqlite3_column_int64(s, 0)));
		for (int k = 1; k <= n_values; k++)
			json_array_append_new(row, sqlite3_column_type(s, k) == SQLITE_NULL ?
						   json_null() :
						   json_real(sqlite3_column_double(s, k)));
	}
	ogw_store_release(s);
	if (out && rc != SQLITE_DONE) {
		json_decref(out);
		return NULL;
	}
	return out;
}

int64_t ogw_store_history_count(struct ogw_store *st, const char *series)
{
	sqlite3_stmt *s = st ? ogw_store_stmt(st, sql_count) : NULL;
	if (!s)
		return -EIO;
	if (series)
		sqlite3_bind_text(s, 1, series, -1, SQLITE_STATIC);
	int64_t n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -EIO;
	ogw_store_release(s);
	return n;
}
