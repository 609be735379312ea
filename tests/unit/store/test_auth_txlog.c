/* SPDX-License-Identifier: MIT */
/*
 * The store's authorization table (list and cache per charger) and its
 * transaction log, against a real database in a temporary directory:
 * round trips, expiry returned as stored, kinds and chargers kept apart,
 * upserts that keep what a later message did not know, list order and
 * filters, and values that survive a reopen.
 */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "ocppgw/store.h"

#define TMPSTORE_PREFIX "ogw-auth"
#include "tmpstore.h"

TestSuite(auth, .init = setup, .fini = teardown);
TestSuite(txlog, .init = setup, .fini = teardown);

Test(auth, put_get_replace_delete)
{
	struct ogw_store *st = open_store();
	json_t *info = json_pack("{s:s, s:s}", "status", "Accepted", "group", "G1");
	int64_t exp = 42;
	int err = 1;

	cr_assert_null(ogw_store_auth_get(st, "CP1", OGW_AUTH_LIST, "TAG", &exp, &err));
	cr_assert_eq(err, 0, "absent is not an error");
	cr_assert_eq(exp, 42, "ret_expires untouched when absent");

	cr_assert_eq(ogw_store_auth_put(st, "CP1", OGW_AUTH_LIST, "TAG", info, 1798761600), 0);
	json_t *got = ogw_store_auth_get(st, "CP1", OGW_AUTH_LIST, "TAG", &exp, &err);
	cr_assert_not_null(got);
	cr_assert_eq(err, 0);
	cr_assert(json_equal(got, info));
	cr_assert_eq(exp, 1798761600);
	json_decref(got);

	/* the same key again replaces; 0 is "no expiry" */
	json_t *blocked = json_pack("{s:s}", "status", "Blocked");
	cr_assert_eq(ogw_store_auth_put(st, "CP1", OGW_AUTH_LIST, "TAG", blocked, 0), 0);
	got = ogw_store_auth_get(st, "CP1", OGW_AUTH_LIST, "TAG", &exp, NULL);
	cr_assert_str_eq(json_string_value(json_object_get(got, "status")), "Blocked");
	cr_assert_eq(exp, 0);
	json_decref(got);
	cr_assert_eq(ogw_store_auth_count(st, "CP1", OGW_AUTH_LIST), 1);

	cr_assert_eq(ogw_store_auth_del(st, "CP1", OGW_AUTH_LIST, "TAG"), 0);
	cr_assert_null(ogw_store_auth_get(st, "CP1", OGW_AUTH_LIST, "TAG", NULL, &err));
	cr_assert_eq(err, 0);
	cr_assert_eq(ogw_store_auth_del(st, "CP1", OGW_AUTH_LIST, "TAG"), 0, "absent: no error");
	cr_assert_eq(ogw_store_auth_count(st, "CP1", OGW_AUTH_LIST), 0);
	json_decref(info);
	json_decref(blocked);
	ogw_store_close(st);
}

Test(auth, expired_entries_are_returned_with_their_expiry)
{
	struct ogw_store *st = open_store();
	json_t *info = json_pack("{s:s, s:s}", "status", "Accepted", "expiry", "2020-01-01T00:00:00Z");
	int64_t exp = 0;

	cr_assert_eq(ogw_store_auth_put(st, "CP1", OGW_AUTH_CACHE, "OLD", info, 1577836800), 0);
	json_t *got = ogw_store_auth_get(st, "CP1", OGW_AUTH_CACHE, "OLD", &exp, NULL);
	cr_assert_not_null(got, "the caller decides what an expired entry means");
	cr_assert_eq(exp, 1577836800);
	json_decref(got);
	json_decref(info);
	ogw_store_close(st);
}

/* Both kinds of one token in one read: each where it is, with its own
 * expiry, none of another charger's or another token's. */
Test(auth, get_both_reads_list_and_cache_together)
{
	struct ogw_store *st = open_store();
	json_t *acc = json_pack("{s:s}", "status", "Accepted");
	json_t *blk = json_pack("{s:s}", "status", "Blocked");
	json_t *list = acc, *cache = acc;
	int64_t lexp = 1, cexp = 1;

	cr_assert_eq(ogw_store_auth_get_both(st, "CP1", "T", &list, &lexp, &cache, &cexp), 0);
	cr_assert(!list && !cache && lexp == 0 && cexp == 0, "neither: both NULL, expiries 0");

	cr_assert_eq(ogw_store_auth_put(st, "CP1", OGW_AUTH_CACHE, "T", blk, 1700000000), 0);
	cr_assert_eq(ogw_store_auth_put(st, "CP2", OGW_AUTH_LIST, "T", acc, 5), 0);
	cr_assert_eq(ogw_store_auth_put(st, "CP1", OGW_AUTH_LIST, "U", acc, 6), 0);
	cr_assert_eq(ogw_store_auth_get_both(st, "CP1", "T", &list, &lexp, &cache, &cexp), 0);
	cr_assert_null(list, "another charger's list, another token's entry: not this one's");
	cr_assert(json_equal(cache, blk));
	cr_assert_eq(cexp, 1700000000);
	json_decref(cache);

	cr_assert_eq(ogw_store_auth_put(st, "CP1", OGW_AUTH_LIST, "T", acc, 1800000000), 0);
	cr_assert_eq(ogw_store_auth_get_both(st, "CP1", "T", &list, &lexp, &cache, &cexp), 0);
	cr_assert(json_equal(list, acc));
	cr_assert(json_equal(cache, blk));
	cr_assert_eq(lexp, 1800000000);
	cr_assert_eq(cexp, 1700000000);
	json_decref(list);
	json_decref(cache);

	cr_assert_eq(ogw_store_auth_get_both(st, NULL, "T", &list, &lexp, &cache, &cexp), -EINVAL);
	cr_assert(!list && !cache);
	json_decref(acc);
	json_decref(blk);
	ogw_store_close(st);
}

Test(auth, kinds_and_chargers_are_apart_and_clear_is_per_kind)
{
	struct ogw_store *st = open_store();
	json_t *acc = json_pack("{s:s}", "status", "Accepted");
	char token[16];

	for (int i = 0; i < 5; i++) {
		snprintf(token, sizeof(token), "T%d", i);
		cr_assert_eq(ogw_store_auth_put(st, "CP1", OGW_AUTH_CACHE, token, acc, 0), 0);
		cr_assert_eq(ogw_store_auth_put(st, "CP1", OGW_AUTH_LIST, token, acc, 0), 0);
		cr_assert_eq(ogw_store_auth_put(st, "CP2", OGW_AUTH_CACHE, token, acc, 0), 0);
	}
	cr_assert_eq(ogw_store_auth_count(st, "CP1", OGW_AUTH_CACHE), 5);
	cr_assert_eq(ogw_store_auth_clear(st, "CP1", OGW_AUTH_CACHE), 0);
	cr_assert_eq(ogw_store_auth_count(st, "CP1", OGW_AUTH_CACHE), 0);
	cr_assert_eq(ogw_store_auth_count(st, "CP1", OGW_AUTH_LIST), 5, "the list stays");
	cr_assert_eq(ogw_store_auth_count(st, "CP2", OGW_AUTH_CACHE), 5, "other chargers stay");
	json_decref(acc);

	/* and it survives a reopen */
	ogw_store_close(st);
	st = open_store();
	json_t *got = ogw_store_auth_get(st, "CP1", OGW_AUTH_LIST, "T3", NULL, NULL);
	cr_assert_not_null(got);
	json_decref(got);
	cr_assert_eq(ogw_store_auth_put(st, NULL, OGW_AUTH_LIST, "T", acc, 0), -EINVAL);
	cr_assert_eq(ogw_store_auth_put(st, "CP1", OGW_AUTH_LIST, "T", NULL, 0), -EINVAL);
	ogw_store_close(st);
}

Test(auth, batched_writes_are_visible_before_commit)
{
	struct ogw_store *st = open_store();
	json_t *acc = json_pack("{s:s}", "status", "Accepted");

	ogw_store_set_batching(st, true);
	cr_assert_eq(ogw_store_auth_put(st, "CP1", OGW_AUTH_CACHE, "T", acc, 0), 0);
	cr_assert(ogw_store_uncommitted(st));
	cr_assert_eq(ogw_store_auth_count(st, "CP1", OGW_AUTH_CACHE), 1);
	cr_assert_eq(ogw_store_commit(st), 0);
	cr_assert_not(ogw_store_uncommitted(st));
	json_decref(acc);
	ogw_store_close(st);
}

Test(auth, trim_drops_refused_then_oldest)
{
	struct ogw_store *st = open_store();
	json_t *acc = json_pack("{s:s}", "status", "Accepted");
	json_t *inv = json_pack("{s:s}", "status", "Invalid");

	cr_assert_eq(ogw_store_auth_put(st, "CP1", OGW_AUTH_CACHE, "A1", acc, 0), 0);
	cr_assert_eq(ogw_store_auth_put(st, "CP1", OGW_AUTH_CACHE, "I1", inv, 0), 0);
	cr_assert_eq(ogw_store_auth_put(st, "CP1", OGW_AUTH_CACHE, "A2", acc, 0), 0);
	cr_assert_eq(ogw_store_auth_put(st, "CP2", OGW_AUTH_CACHE, "I2", inv, 0), 0);
	cr_assert_eq(ogw_store_auth_trim(st, "CP1", OGW_AUTH_CACHE, 5), 0);
	cr_assert_eq(ogw_store_auth_count(st, "CP1", OGW_AUTH_CACHE), 3, "under the cap: nothing");
	cr_assert_eq(ogw_store_auth_trim(st, "CP1", OGW_AUTH_CACHE, 2), 0);
	cr_assert_eq(ogw_store_auth_count(st, "CP1", OGW_AUTH_CACHE), 2);
	json_t *got = ogw_store_auth_get(st, "CP1", OGW_AUTH_CACHE, "I1", NULL, NULL);
	cr_assert_null(got, "the refused entry goes first");
	cr_assert_eq(ogw_store_auth_trim(st, "CP1", OGW_AUTH_CACHE, 1), 0);
	cr_assert_eq(ogw_store_auth_count(st, "CP1", OGW_AUTH_CACHE), 1);
	cr_assert_eq(ogw_store_auth_count(st, "CP2", OGW_AUTH_CACHE), 1, "other chargers untouched");
	cr_assert_eq(ogw_store_auth_trim(st, "CP1", OGW_AUTH_CACHE, -1), -EINVAL);
	json_decref(acc);
	json_decref(inv);
	ogw_store_close(st);
}

static const json_t *row_of(const json_t *rows, const char *tx_id)
{
	size_t i;
	const json_t *row;

	json_array_foreach(rows, i, row)
		if (strcmp(json_string_value(json_object_get(row, "tx_id")), tx_id) == 0)
			return row;
	return NULL;
}

static struct ogw_txrec unknown_tx(const char *charger, const char *tx_id)
{
	return (struct ogw_txrec){ .charger = charger, .tx_id = tx_id,
				   .meter_start_wh = -1, .meter_last_wh = -1 };
}

Test(txlog, start_meter_stop_keeps_what_later_messages_did_not_know)
{
	struct ogw_store *st = open_store();
	struct ogw_txrec t = unknown_tx("CP1", "1000000001");

	t.connector = 1;
	t.id_tag = "TAG1";
	t.started = 1798761600;
	t.meter_start_wh = 1000;
	t.offline = true;
	cr_assert_eq(ogw_store_tx_upsert(st, &t), 0);

	t = unknown_tx("CP1", "1000000001");
	t.meter_last_wh = 5500.5;
	cr_assert_eq(ogw_store_tx_upsert(st, &t), 0);

	json_t *open = ogw_store_tx_list(st, NULL, true, 0);
	cr_assert_eq(json_array_size(open), 1);
	json_decref(open);

	t = unknown_tx("CP1", "1000000001");
	t.stopped = 1798765200;
	t.meter_last_wh = 7000;
	t.stop_reason = "Local";
	cr_assert_eq(ogw_store_tx_upsert(st, &t), 0);

	json_t *rows = ogw_store_tx_list(st, "CP1", false, 0);
	cr_assert_eq(json_array_size(rows), 1);
	const json_t *r = json_array_get(rows, 0);
	cr_assert_str_eq(json_string_value(json_object_get(r, "charger")), "CP1");
	cr_assert_eq(json_integer_value(json_object_get(r, "connector")), 1);
	cr_assert_eq(json_integer_value(json_object_get(r, "evse")), 0);
	cr_assert_str_eq(json_string_value(json_object_get(r, "id_tag")), "TAG1");
	cr_assert_eq(json_integer_value(json_object_get(r, "started")), 1798761600);
	cr_assert_eq(json_integer_value(json_object_get(r, "stopped")), 1798765200);
	cr_assert_float_eq(json_real_value(json_object_get(r, "meter_start_wh")), 1000, 1e-9);
	cr_assert_float_eq(json_real_value(json_object_get(r, "meter_last_wh")), 7000, 1e-9);
	cr_assert_float_eq(json_real_value(json_object_get(r, "energy_wh")), 6000, 1e-9);
	cr_assert_str_eq(json_string_value(json_object_get(r, "stop_reason")), "Local");
	cr_assert(json_is_true(json_object_get(r, "offline")), "offline never turns off");
	json_decref(rows);

	open = ogw_store_tx_list(st, NULL, true, 0);
	cr_assert_eq(json_array_size(open), 0);
	json_decref(open);
	ogw_store_close(st);
}

Test(txlog, unknowns_are_null_and_list_is_newest_first_filtered_limited)
{
	struct ogw_store *st = open_store();
	struct ogw_txrec t;

	for (int i = 1; i <= 4; i++) {
		char id[8];
		snprintf(id, sizeof(id), "tx%d", i);
		t = unknown_tx(i % 2 ? "CP1" : "CP2", id);
		t.started = 1798761600 + i * 60;
		cr_assert_eq(ogw_store_tx_upsert(st, &t), 0);
	}
	/* a row whose start was never seen sorts last */
	t = unknown_tx("CP1", "late-joiner");
	t.meter_last_wh = 10;
	cr_assert_eq(ogw_store_tx_upsert(st, &t), 0);

	json_t *rows = ogw_store_tx_list(st, NULL, false, 0);
	cr_assert_eq(json_array_size(rows), 5);
	static const char *const order[] = { "tx4", "tx3", "tx2", "tx1", "late-joiner" };
	for (size_t i = 0; i < 5; i++)
		cr_assert_str_eq(json_string_value(json_object_get(json_array_get(rows, i), "tx_id")),
				 order[i]);
	const json_t *late = row_of(rows, "late-joiner");
	cr_assert(json_is_null(json_object_get(late, "meter_start_wh")));
	cr_assert(json_is_null(json_object_get(late, "energy_wh")));
	cr_assert(json_is_null(json_object_get(late, "id_tag")));
	cr_assert(json_is_null(json_object_get(late, "stop_reason")));
	cr_assert_eq(json_integer_value(json_object_get(late, "started")), 0);
	cr_assert(json_is_false(json_object_get(late, "offline")));
	json_decref(rows);

	rows = ogw_store_tx_list(st, "CP2", false, 0);
	cr_assert_eq(json_array_size(rows), 2);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(rows, 0), "tx_id")), "tx4");
	json_decref(rows);
	rows = ogw_store_tx_list(st, NULL, false, 2);
	cr_assert_eq(json_array_size(rows), 2);
	json_decref(rows);

	t = unknown_tx("CP1", "");
	cr_assert_eq(ogw_store_tx_upsert(st, &t), -EINVAL);
	cr_assert_eq(ogw_store_tx_upsert(st, NULL), -EINVAL);
	ogw_store_close(st);
}
