/* SPDX-License-Identifier: MIT */
/*
 * The store's history table against a real database: a sample lands in
 * one bucket of every tier, samples in a bucket average (a missing value
 * leaves the mean alone), each tier drops buckets past its span so a
 * series' rows stay bounded however long it is written, a series that is
 * no longer written goes with the global trim, and rows survive a reopen.
 */
#include <errno.h>
#include <math.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "ocppgw/store.h"

#define TMPSTORE_PREFIX "ogw-history"
#include "tmpstore.h"

#define MIN_MS 60000LL
#define HOUR_MS (60 * MIN_MS)
#define DAY_MS (24 * HOUR_MS)
/* A Monday 00:00 UTC, on every tier's bucket boundary. */
#define T0 1796342400000LL

static void sample(struct ogw_store *st, const char *series, int64_t at, double a, double b)
{
	double v[OGW_HISTORY_VALUES] = { a, b, NAN, NAN, NAN, NAN, NAN };
	cr_assert_eq(ogw_store_history_merge(st, series, at, 1, v), 0);
}

static double val(const json_t *rows, size_t i, size_t k)
{
	const json_t *x = json_array_get(json_array_get(rows, i), k);
	return json_is_null(x) ? NAN : json_number_value(x);
}

TestSuite(history, .init = setup, .fini = teardown);

Test(history, buckets_and_means)
{
	struct ogw_store *st = open_store();
	sample(st, "", T0 + 5000, 10, NAN);
	sample(st, "", T0 + 35000, 20, 7);
	sample(st, "", T0 + 65000, 40, NAN);
	/* tier 0: two one-minute buckets; the first the mean of two samples,
	 * its second value from the one sample that had it */
	json_t *raw = ogw_store_history_list(st, "", 0, T0, T0 + HOUR_MS, 2, 0);
	cr_assert_eq(json_array_size(raw), 2);
	cr_assert_eq(json_integer_value(json_array_get(json_array_get(raw, 0), 0)), T0);
	cr_assert_float_eq(val(raw, 0, 1), 15, 1e-9);
	cr_assert_float_eq(val(raw, 0, 2), 7, 1e-9);
	cr_assert_eq(json_integer_value(json_array_get(json_array_get(raw, 1), 0)), T0 + MIN_MS);
	cr_assert(isnan(val(raw, 1, 2)), "a value no sample had is null");
	/* tiers 1 and 2: one bucket, the mean of all three */
	for (int t = 1; t < OGW_HISTORY_TIERS; t++) {
		json_t *rows = ogw_store_history_list(st, "", t, T0, T0 + DAY_MS, 1, 0);
		cr_assert_eq(json_array_size(rows), 1);
		cr_assert_float_eq(val(rows, 0, 1), 70.0 / 3, 1e-9);
		json_decref(rows);
	}
	/* [from, to) and the limit */
	json_t *one = ogw_store_history_list(st, "", 0, T0 + MIN_MS, T0 + HOUR_MS, 1, 0);
	cr_assert_eq(json_array_size(one), 1);
	json_t *first = ogw_store_history_list(st, "", 0, T0, T0 + HOUR_MS, 1, 1);
	cr_assert_eq(json_array_size(first), 1);
	cr_assert_float_eq(val(first, 0, 1), 15, 1e-9);
	/* another series is apart */
	json_t *none = ogw_store_history_list(st, "CP1", 0, T0, T0 + HOUR_MS, 1, 0);
	cr_assert_eq(json_array_size(none), 0);
	cr_assert_null(ogw_store_history_list(st, "", OGW_HISTORY_TIERS, T0, T0 + 1, 1, 0));
	json_decref(raw);
	json_decref(one);
	json_decref(first);
	json_decref(none);
	ogw_store_close(st);
}

/* Samples merged in memory and written at once (the sampler's way) leave
 * the buckets that writing them one by one leaves, in every tier. */
Test(history, merged_samples_as_one_by_one)
{
	struct ogw_store *st = open_store();
	const double xs[] = { 10, 11.5, 13, 40, 42 };
	double v[OGW_HISTORY_VALUES] = { NAN, NAN, NAN, NAN, NAN, NAN, NAN };
	for (int i = 0; i < 5; i++)
		sample(st, "one", T0 + i * 10000 + (i >= 3 ? MIN_MS : 0), xs[i], 2 * xs[i]);
	/* the first minute's three as one merge; the second's two one by one */
	v[0] = (10 + 11.5 + 13) / 3;
	v[1] = 2 * v[0];
	cr_assert_eq(ogw_store_history_merge(st, "merged", T0 + 20000, 3, v), 0);
	v[0] = 40;
	v[1] = 80;
	cr_assert_eq(ogw_store_history_merge(st, "merged", T0 + MIN_MS + 30000, 1, v), 0);
	v[0] = 42;
	v[1] = 84;
	cr_assert_eq(ogw_store_history_merge(st, "merged", T0 + MIN_MS + 40000, 1, v), 0);
	for (int t = 0; t < OGW_HISTORY_TIERS; t++) {
		json_t *a = ogw_store_history_list(st, "one", t, T0, T0 + DAY_MS, 2, 0);
		json_t *b = ogw_store_history_list(st, "merged", t, T0, T0 + DAY_MS, 2, 0);
		cr_assert_eq(json_array_size(a), t == 0 ? 2 : 1);
		cr_assert_eq(json_array_size(b), json_array_size(a));
		for (size_t i = 0; i < json_array_size(a); i++)
			for (size_t k = 1; k <= 2; k++)
				cr_assert_float_eq(val(b, i, k), val(a, i, k), 1e-9, "tier %d row %zu", t, i);
		json_decref(a);
		json_decref(b);
	}
	cr_assert_eq(ogw_store_history_merge(st, "merged", T0, 0, v), -EINVAL, "no samples");
	cr_assert_eq(ogw_store_history_count(st, "one"), ogw_store_history_count(st, "merged"));
	ogw_store_close(st);
}

/* A series written every minute for 100 days keeps at most one tier's span
 * of buckets in each tier: the table is bounded. */
Test(history, bounded_by_each_tiers_span)
{
	struct ogw_store *st = open_store();
	ogw_store_set_batching(st, true);
	const int64_t days = 100;
	for (int64_t at = T0; at < T0 + days * DAY_MS; at += MIN_MS) {
		sample(st, "CP1", at, 1, NAN);
		if (at % HOUR_MS == 0)
			cr_assert_eq(ogw_store_commit(st), 0);
	}
	cr_assert_eq(ogw_store_commit(st), 0);
	int64_t bound = 0;
	for (int t = 0; t < OGW_HISTORY_TIERS; t++)
		bound += ogw_history_tiers[t].keep_ms / ogw_history_tiers[t].step_ms + 1;
	int64_t n = ogw_store_history_count(st, "CP1");
	cr_assert_leq(n, bound, "%lld rows, bound %lld", (long long)n, (long long)bound);
	/* and each tier still covers its whole span */
	int64_t end = T0 + days * DAY_MS;
	for (int t = 0; t < OGW_HISTORY_TIERS; t++) {
		const struct ogw_history_tier *tier = &ogw_history_tiers[t];
		json_t *rows = ogw_store_history_list(st, "CP1", t, 0, end, 0, 0);
		cr_assert_geq((int64_t)json_array_size(rows), tier->keep_ms / tier->step_ms - 1);
		int64_t oldest = json_integer_value(json_array_get(json_array_get(rows, 0), 0));
		cr_assert_geq(oldest, end - MIN_MS - tier->keep_ms);
		json_decref(rows);
	}
	ogw_store_close(st);
}

/* A charger that went away: the global trim drops its old buckets, rows
 * within every span stay, and what was committed survives a reopen. */
Test(history, trim_and_reopen)
{
	struct ogw_store *st = open_store();
	sample(st, "gone", T0, 5, NAN);
	sample(st, "", T0 + 100 * DAY_MS, 6, NAN);
	cr_assert_eq(ogw_store_history_count(st, "gone"), 3);
	int64_t dropped = ogw_store_history_trim(st, T0 + 100 * DAY_MS);
	cr_assert_eq(dropped, 3, "dropped %lld", (long long)dropped);
	cr_assert_eq(ogw_store_history_count(st, "gone"), 0);
	cr_assert_eq(ogw_store_history_count(st, ""), 3);
	ogw_store_close(st);
	st = open_store();
	json_t *rows = ogw_store_history_list(st, "", 2, 0, T0 + 101 * DAY_MS, 1, 0);
	cr_assert_eq(json_array_size(rows), 1);
	cr_assert_float_eq(val(rows, 0, 1), 6, 1e-9);
	json_decref(rows);
	ogw_store_close(st);
}
