/* SPDX-License-Identifier: MIT */
/*
 * jansson's pool (src/json/alloc.c): once started, jansson's small blocks
 * come from it and freed blocks are reused; larger ones, values made
 * before it started, and blocks freed on another thread all go where they
 * belong; ogw_json_text() hands out memory free() takes. Under
 * AddressSanitizer the pool stays off, and the same values still work.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "ocppgw/json.h"

static json_t *before;

/* One test process, one pool: started once, before the tests. */
static bool on;
static void start(void)
{
	static bool started;
	if (!started) {
		before = json_pack("{s:s, s:[i, i]}", "made", "before the pool", "n", 1, 2);
		on = ogw_json_pool_start();
		started = true;
	}
}

TestSuite(json_pool, .init = start);

Test(json_pool, small_blocks_reused)
{
	json_t *a = json_string("a string of jansson's");
	cr_assert_not_null(a);
	cr_assert_eq(ogw_json_pool_owns(a), on);
	if (!on)
		return; /* AddressSanitizer: malloc's blocks, checked by it */
	/* the value and its text are both 32-byte blocks: freed, the next
	 * string of that size takes the same two */
	void *was = a, *was_text = (void *)json_string_value(a);
	cr_assert(ogw_json_pool_owns(was_text));
	json_decref(a);
	json_t *b = json_string("another of the same size");
	void *text = (void *)json_string_value(b);
	cr_assert((void *)b == was || (void *)b == was_text);
	cr_assert(text == was || text == was_text);
	cr_assert_str_eq(text, "another of the same size");
	json_decref(b);
}

Test(json_pool, a_frame_round_trip)
{
	const char *text = "[2,\"19223201\",\"MeterValues\",{\"connectorId\":1,\"meterValue\":"
			   "[{\"timestamp\":\"2026-12-05T02:00:00Z\",\"sampledValue\":[{\"value\":\"1234.5\","
			   "\"measurand\":\"Energy.Active.Import.Register\",\"unit\":\"Wh\"}]}]}]";
	for (int i = 0; i < 10000; i++) {
		json_t *v = ogw_json_quick(text, strlen(text));
		cr_assert_not_null(v);
		char *out = ogw_json_text(v, JSON_COMPACT);
		cr_assert_str_eq(out, text);
		cr_assert_not(ogw_json_pool_owns(out), "ogw_json_text's memory is malloc's");
		free(out);
		json_decref(v);
	}
}

Test(json_pool, large_blocks_are_mallocs)
{
	char big[4096];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	json_t *s = json_string(big);
	cr_assert_not_null(s);
	cr_assert_str_eq(json_string_value(s), big);
	cr_assert_not(ogw_json_pool_owns(json_string_value(s)), "4 KiB is not a pool block");
	json_decref(s);
}

Test(json_pool, made_before_freed_after)
{
	cr_assert_not(ogw_json_pool_owns(before));
	cr_assert_str_eq(json_string_value(json_object_get(before, "made")), "before the pool");
	json_decref(before); /* malloc's blocks go back to malloc */
	before = NULL;
}

static void *make(void *arg)
{
	json_t **out = arg;
	for (int i = 0; i < 1000; i++)
		out[i] = json_pack("{s:i, s:s}", "i", i, "s", "made on another thread");
	return NULL;
}

Test(json_pool, freed_on_another_thread)
{
	static json_t *vals[1000];
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, make, vals), 0);
	cr_assert_eq(pthread_join(t, NULL), 0);
	for (int i = 0; i < 1000; i++) {
		cr_assert_eq(json_integer_value(json_object_get(vals[i], "i")), i);
		cr_assert_eq(ogw_json_pool_owns(vals[i]), on);
		json_decref(vals[i]);
	}
	/* and this thread's lists take them: new values reuse them, intact */
	for (int i = 0; i < 1000; i++) {
		vals[i] = json_pack("{s:i}", "j", i);
		cr_assert_not_null(vals[i]);
	}
	for (int i = 0; i < 1000; i++) {
		cr_assert_eq(json_integer_value(json_object_get(vals[i], "j")), i);
		json_decref(vals[i]);
	}
}
