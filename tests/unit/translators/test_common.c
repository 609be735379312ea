/* SPDX-License-Identifier: MIT */
/*
 * Tests of the helpers every translator pair shares (translators/common.c):
 * the RFC 3339 reading a reservation's expiry depends on, value maps and
 * the status answers built from them, member copies, the 1.6 form of
 * DataTransfer data, forwarding and state keys. The pairs' own rules are
 * tested in their own files.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "ocppgw/translator.h"
#include "ocppgw/util.h"
#include "../../../translators/common.h"

static int64_t ms(const char *text)
{
	int64_t t = -1;
	cr_assert_eq(ogw_tr_time_ms(text, &t), 0, "%s is RFC 3339", text);
	return t;
}

Test(common, time_ms_reads_fractions_offsets_and_refuses_the_rest)
{
	int64_t secs, t = 7;

	cr_assert_eq(ms("1970-01-01T00:00:00Z"), 0);
	cr_assert_eq(ms("1970-01-01T00:00:01.5Z"), 1500);
	/* beyond milliseconds is cut, not rounded */
	cr_assert_eq(ms("1970-01-01T00:00:00.123999Z"), 123);
	/* the same instant in two offsets */
	cr_assert_eq(ms("2027-01-01T01:30:00+01:30"), ms("2027-01-01T00:00:00Z"));
	cr_assert_eq(ms("2026-12-31T23:00:00-01:00"), ms("2027-01-01T00:00:00z"));
	/* whole seconds agree with the gateway's own parser */
	cr_assert_eq(ogw_time_parse_rfc3339("2031-02-28T12:34:56Z", &secs), 0);
	cr_assert_eq(ms("2031-02-28T12:34:56Z"), secs * 1000);
	/* leap day of a leap year, then the day after */
	cr_assert_eq(ms("2028-03-01T00:00:00Z") - ms("2028-02-29T00:00:00Z"), 86400000);

	cr_assert_eq(ogw_tr_time_ms("2027-01-01T00:00:00", &t), -EINVAL, "no zone");
	cr_assert_eq(ogw_tr_time_ms("2027-13-01T00:00:00Z", &t), -EINVAL, "month 13");
	cr_assert_eq(ogw_tr_time_ms("2027-01-01T00:00:00Zjunk", &t), -EINVAL, "trailing text");
	cr_assert_eq(ogw_tr_time_ms("2027-01-01T00:00:00+01:00x", &t), -EINVAL, "after offset");
	cr_assert_eq(ogw_tr_time_ms(NULL, &t), -EINVAL);
	cr_assert_eq(t, 7, "*ret untouched on failure");
}

static const struct ogw_tr_map statuses[] = {
	{ "Accepted", "Accepted" },
	{ "NotSupported", "Rejected" },
};

Test(common, map_and_status_result)
{
	json_t *res = json_pack("{s:s}", "status", "NotSupported"), *ret = NULL;

	cr_assert_str_eq(ogw_tr_map_str(statuses, 2, "NotSupported", "x"), "Rejected");
	cr_assert_str_eq(ogw_tr_map_str(statuses, 2, "Other", "x"), "x");
	cr_assert_str_eq(ogw_tr_map_str(statuses, 2, NULL, "x"), "x");

	cr_assert_eq(ogw_tr_status_result(res, statuses, 2, &ret), 0);
	cr_assert_str_eq(tr_str(ret, "status"), "Rejected");
	json_decref(ret);
	/* without a table the status passes as it is */
	cr_assert_eq(ogw_tr_status_result(res, NULL, 0, &ret), 0);
	cr_assert_str_eq(tr_str(ret, "status"), "NotSupported");
	json_decref(ret);
	/* a status the table does not know, or none, is a refusal */
	json_object_set_new(res, "status", json_string("Scheduled"));
	cr_assert_eq(ogw_tr_status_result(res, statuses, 2, &ret), 0);
	cr_assert_str_eq(tr_str(ret, "status"), "Rejected");
	json_decref(ret);
	json_object_del(res, "status");
	cr_assert_eq(ogw_tr_status_result(res, NULL, 0, &ret), 0);
	cr_assert_str_eq(tr_str(ret, "status"), "Rejected");
	json_decref(ret);
	json_decref(res);
}

Test(common, getters_and_copy)
{
	json_t *from = json_pack("{s:s, s:I, s:n, s:{s:i}}", "a", "x", "n", (json_int_t)5, "z",
				 "o", "k", 1);
	json_t *to = json_object();

	cr_assert_str_eq(tr_str(from, "a"), "x");
	cr_assert_null(tr_str(from, "n"), "a number is no string");
	cr_assert_eq(tr_int(from, "n"), 5);
	cr_assert_eq(tr_int(from, "missing"), 0);
	cr_assert(tr_has(from, "z"), "a null member is there");
	cr_assert_not(tr_has(from, "missing"));
	cr_assert(tr_same(NULL, NULL));
	cr_assert_not(tr_same("a", NULL));
	cr_assert(tr_same(tr_str(from, "a"), "x"));

	cr_assert_eq(ogw_tr_copy(to, NULL, from, "a"), 0);
	cr_assert_eq(ogw_tr_copy(to, "renamed", from, "o"), 0);
	cr_assert_eq(ogw_tr_copy(to, NULL, from, "missing"), 0);
	cr_assert_str_eq(tr_str(to, "a"), "x");
	cr_assert_eq(json_object_get(to, "renamed"), json_object_get(from, "o"), "shared, not copied");
	cr_assert_eq(json_object_size(to), 2, "an absent member is not copied");
	json_decref(to);
	json_decref(from);
}

Test(common, data_to16_is_a_string)
{
	json_t *from = json_pack("{s:{s:i, s:[s]}}", "data", "a", 1, "b", "c");
	json_t *to = json_object();

	/* 1.6 data is a string: other JSON travels as its compact text */
	cr_assert_eq(ogw_tr_data_to16(to, from), 0);
	cr_assert_str_eq(tr_str(to, "data"), "{\"a\":1,\"b\":[\"c\"]}");
	json_object_set_new(from, "data", json_string("plain"));
	cr_assert_eq(ogw_tr_data_to16(to, from), 0);
	cr_assert_str_eq(tr_str(to, "data"), "plain");
	json_object_set_new(from, "data", json_integer(42));
	cr_assert_eq(ogw_tr_data_to16(to, from), 0);
	cr_assert_str_eq(tr_str(to, "data"), "42");
	json_object_clear(to);
	json_object_del(from, "data");
	cr_assert_eq(ogw_tr_data_to16(to, from), 0);
	cr_assert_not(tr_has(to, "data"), "no data stays no data");
	json_decref(to);
	json_decref(from);
}

Test(common, forward_and_keys)
{
	struct ogw_tr_out out = { .outcome = OGW_TR_ANSWER };
	json_t *payload = json_object(), *memo = json_object();
	char buf[OGW_TR_KEY_MAX];

	cr_assert_eq(ogw_tr_forward(&out, "Heartbeat", payload, memo), 0);
	cr_assert_eq(out.outcome, OGW_TR_FORWARD);
	cr_assert_str_eq(out.action, "Heartbeat");
	cr_assert_eq(out.payload, payload);
	cr_assert_eq(out.memo, memo);
	json_decref(payload);
	json_decref(memo);

	/* a payload that failed to build: nothing forwarded, the memo released */
	out = (struct ogw_tr_out){ .outcome = OGW_TR_ANSWER };
	memo = json_object();
	json_incref(memo);
	cr_assert_eq(ogw_tr_forward(&out, "Heartbeat", NULL, memo), -ENOMEM);
	cr_assert_eq(out.outcome, OGW_TR_ANSWER);
	cr_assert_eq(memo->refcount, 1, "the memo's reference was taken and released");
	json_decref(memo);

	cr_assert_str_eq(ogw_tr_key_num(buf, "tx16", 42), "tx16:42");
	cr_assert_str_eq(ogw_tr_key_num(buf, "conn", -1), "conn:-1");
	cr_assert_str_eq(ogw_tr_key_str(buf, "tx", "0b1c"), "tx:0b1c");
	cr_assert_str_eq(ogw_tr_key_str(buf, "tx", NULL), "tx:");
}
