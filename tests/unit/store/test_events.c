/* SPDX-License-Identifier: MIT */
/*
 * The store's events table against a real database: rows come back oldest
 * first with what was written, filters by charger, kind and time, the newest
 * @limit of a longer list, the cap dropping the oldest rows, batched
 * writes on disk only once committed, rows surviving a reopen, and a
 * second opener (ocppgw sessions) not blocked by an open batch.
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <criterion/criterion.h>
#include <jansson.h>
#include <sqlite3.h>

#include "ocppgw/store.h"

#define TMPSTORE_PREFIX "ogw-events"
#include "tmpstore.h"

static void add(struct ogw_store *st, int64_t at, const char *charger, const char *kind,
		const char *text, int64_t max)
{
	struct ogw_event ev = { .at_ms = at, .charger = charger, .kind = kind, .text = text };
	cr_assert_eq(ogw_store_event_add(st, &ev, max), 0);
}

/* What another reader sees: committed rows only. */
static int rows_on_disk(void)
{
	char path[128];
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int n = -1;

	snprintf(path, sizeof(path), "%s/ocppgw.db", tmpdir);
	cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM events", -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}

TestSuite(events, .init = setup, .fini = teardown);

Test(events, rows_filters_and_limit)
{
	struct ogw_store *st = open_store();
	add(st, 1000, "CP1", "connect", "connected (1.6)", 0);
	add(st, 2000, "CP2", "boot", "ACME W1, PowerUp", 0);
	add(st, 3000, NULL, "limit", "site limit 40 A", 0);
	add(st, 4000, "CP1", "fault", "connector 1: GroundFailure", 0);

	json_t *all = ogw_store_event_list(st, NULL, NULL, 0, 0);
	cr_assert_eq(json_array_size(all), 4);
	json_t *first = json_array_get(all, 0);
	cr_assert_str_eq(json_string_value(json_object_get(first, "charger")), "CP1");
	cr_assert_str_eq(json_string_value(json_object_get(first, "kind")), "connect");
	cr_assert_str_eq(json_string_value(json_object_get(first, "text")), "connected (1.6)");
	cr_assert_eq(json_integer_value(json_object_get(first, "at")), 1000);
	cr_assert(json_is_null(json_object_get(json_array_get(all, 2), "charger")),
		  "a site event has no charger");
	json_decref(all);

	json_t *cp1 = ogw_store_event_list(st, "CP1", NULL, 0, 0);
	cr_assert_eq(json_array_size(cp1), 2);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(cp1, 1), "kind")),
			 "fault");
	json_decref(cp1);

	json_t *faults = ogw_store_event_list(st, NULL, "fault", 0, 0);
	cr_assert_eq(json_array_size(faults), 1);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(faults, 0), "text")),
			 "connector 1: GroundFailure");
	json_decref(faults);
	json_t *none = ogw_store_event_list(st, "CP2", "fault", 0, 0);
	cr_assert_eq(json_array_size(none), 0, "charger and kind both apply");
	json_decref(none);

	json_t *since = ogw_store_event_list(st, NULL, NULL, 2000, 0);
	cr_assert_eq(json_array_size(since), 2, "since is exclusive");
	json_decref(since);

	/* limit: the newest two, still oldest first */
	json_t *last2 = ogw_store_event_list(st, NULL, NULL, 0, 2);
	cr_assert_eq(json_array_size(last2), 2);
	cr_assert_eq(json_integer_value(json_object_get(json_array_get(last2, 0), "at")), 3000);
	cr_assert_eq(json_integer_value(json_object_get(json_array_get(last2, 1), "at")), 4000);
	json_decref(last2);
	ogw_store_close(st);
}

Test(events, cap_drops_the_oldest)
{
	struct ogw_store *st = open_store();
	char text[32];
	for (int i = 1; i <= 250; i++) {
		snprintf(text, sizeof(text), "event %d", i);
		add(st, i, "CP1", "callerror", text, 100);
	}
	cr_assert_eq(ogw_store_event_count(st), 100);
	json_t *rows = ogw_store_event_list(st, NULL, NULL, 0, 0);
	cr_assert_eq(json_array_size(rows), 100);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(rows, 0), "text")),
			 "event 151");
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(rows, 99), "text")),
			 "event 250");
	json_decref(rows);
	ogw_store_close(st);
}

Test(events, batched_then_committed_and_kept_over_reopen)
{
	struct ogw_store *st = open_store();
	ogw_store_set_batching(st, true);
	add(st, 5, "CP9", "disconnect", "gone", 10);
	/* A log row joins the batch without holding frames back. */
	cr_assert_not(ogw_store_uncommitted(st));
	cr_assert_eq(rows_on_disk(), 0, "not on disk before the batch commits");
	cr_assert_eq(ogw_store_commit(st), 0);
	cr_assert_eq(rows_on_disk(), 1);
	ogw_store_close(st);

	st = open_store();
	json_t *rows = ogw_store_event_list(st, "CP9", NULL, 0, 0);
	cr_assert_eq(json_array_size(rows), 1);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(rows, 0), "text")), "gone");
	json_decref(rows);
	ogw_store_close(st);
}

/* The gateway's batch holds the write lock for up to a second when it has
 * only log rows; `ocppgw sessions` opening the store meanwhile must not
 * need that lock (it failed with "database is locked" before). */
Test(events, a_reader_opens_the_store_while_a_batch_is_open)
{
	struct ogw_store *st = open_store();
	ogw_store_set_batching(st, true);
	add(st, 1, "CP1", "connect", "connected", 10);
	struct ogw_store *reader = open_store();
	json_t *rows = ogw_store_tx_list(reader, NULL, false, 0);
	cr_assert_not_null(rows);
	json_decref(rows);
	ogw_store_close(reader);
	cr_assert_eq(ogw_store_commit(st), 0);
	ogw_store_close(st);
}
