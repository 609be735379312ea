/* SPDX-License-Identifier: MIT */
/*
 * A polled grid meter's reading, decoded (src/lb/meter.c): Modbus register
 * words of every type in both word orders, scaled, with NaN and infinity
 * refused; and the RFC 6901 JSON pointers the HTTP meter takes, escapes
 * and bad indexes included.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "ocppgw/config.h"
#include "ocppgw/lb.h"

static double decode(enum ogw_meter_type type, bool low_first, double scale, uint16_t w0,
		     uint16_t w1, int *ret_rc)
{
	struct ogw_meter_regs r = { .type = type, .low_word_first = low_first, .scale = scale };
	const uint16_t words[2] = { w0, w1 };
	double v = -12345;

	*ret_rc = ogw_lb_meter_decode(&r, words, &v);
	return v;
}

Test(meter_decode, word_counts)
{
	cr_assert_eq(ogw_lb_meter_words(OGW_REG_INT16), 1);
	cr_assert_eq(ogw_lb_meter_words(OGW_REG_UINT16), 1);
	cr_assert_eq(ogw_lb_meter_words(OGW_REG_INT32), 2);
	cr_assert_eq(ogw_lb_meter_words(OGW_REG_UINT32), 2);
	cr_assert_eq(ogw_lb_meter_words(OGW_REG_FLOAT32), 2);
}

Test(meter_decode, sixteen_bit_signed_and_not)
{
	int rc;

	cr_assert_float_eq(decode(OGW_REG_INT16, false, 0.01, 0xfc18, 0, &rc), -10.0, 1e-9,
			   "-1000 x 0.01 A: export");
	cr_assert_eq(rc, 0);
	cr_assert_float_eq(decode(OGW_REG_UINT16, false, 0.01, 0xfc18, 0, &rc), 645.36, 1e-9);
	/* the second word is not part of a 16-bit value, whatever the order */
	cr_assert_float_eq(decode(OGW_REG_INT16, true, 1, 7, 0xffff, &rc), 7, 1e-9);
}

Test(meter_decode, thirty_two_bit_word_orders)
{
	int rc;

	/* 0x0001e240 = 123456 mA (Carlo Gavazzi style: low word first) */
	cr_assert_float_eq(decode(OGW_REG_INT32, false, 0.001, 0x0001, 0xe240, &rc), 123.456, 1e-9);
	cr_assert_float_eq(decode(OGW_REG_INT32, true, 0.001, 0xe240, 0x0001, &rc), 123.456, 1e-9);
	cr_assert_float_eq(decode(OGW_REG_INT32, false, 1, 0xffff, 0xfffe, &rc), -2, 1e-9);
	cr_assert_float_eq(decode(OGW_REG_UINT32, false, 1, 0xffff, 0xfffe, &rc), 4294967294.0,
			   1e-3);
}

Test(meter_decode, float32_both_orders)
{
	int rc;

	/* 12.5 f = 0x41480000 (SDM630: high word first) */
	cr_assert_float_eq(decode(OGW_REG_FLOAT32, false, 1, 0x4148, 0x0000, &rc), 12.5, 1e-9);
	cr_assert_eq(rc, 0);
	cr_assert_float_eq(decode(OGW_REG_FLOAT32, true, 1, 0x0000, 0x4148, &rc), 12.5, 1e-9);
	cr_assert_float_eq(decode(OGW_REG_FLOAT32, false, -1, 0x4148, 0x0000, &rc), -12.5, 1e-9,
			   "a negative scale turns a meter mounted the other way round");
}

Test(meter_decode, nan_and_infinity_are_no_reading)
{
	int rc;

	cr_assert_float_eq(decode(OGW_REG_FLOAT32, false, 1, 0x7fc0, 0x0000, &rc), -12345, 1e-9,
			   "untouched on failure");
	cr_assert_eq(rc, -EINVAL);
	decode(OGW_REG_FLOAT32, false, 1, 0x7f80, 0x0000, &rc);
	cr_assert_eq(rc, -EINVAL, "+inf");
	decode(OGW_REG_FLOAT32, false, 1, 0xff80, 0x0000, &rc);
	cr_assert_eq(rc, -EINVAL, "-inf");
}

Test(json_pointer, rfc6901_examples)
{
	json_error_t e;
	/* RFC 6901 §5's document */
	json_t *doc = json_loads("{\"foo\": [\"bar\", \"baz\"], \"\": 0, \"a/b\": 1, \"c%d\": 2, "
				 "\"e^f\": 3, \"g|h\": 4, \"i\\\\j\": 5, \"k\\\"l\": 6, \" \": 7, "
				 "\"m~n\": 8}", 0, &e);

	cr_assert_not_null(doc, "%s", e.text);
	cr_assert_eq(ogw_lb_json_pointer(doc, ""), doc);
	cr_assert_str_eq(json_string_value(ogw_lb_json_pointer(doc, "/foo/0")), "bar");
	cr_assert_eq(json_integer_value(ogw_lb_json_pointer(doc, "/")), 0);
	cr_assert_eq(json_integer_value(ogw_lb_json_pointer(doc, "/a~1b")), 1);
	cr_assert_eq(json_integer_value(ogw_lb_json_pointer(doc, "/c%d")), 2);
	cr_assert_eq(json_integer_value(ogw_lb_json_pointer(doc, "/ ")), 7);
	cr_assert_eq(json_integer_value(ogw_lb_json_pointer(doc, "/m~0n")), 8);
	json_decref(doc);
}

Test(json_pointer, what_is_not_there)
{
	json_t *doc = json_loads("{\"p\": [1, 2, 3], \"n\": 4}", 0, NULL);

	cr_assert_null(ogw_lb_json_pointer(doc, "/p/3"), "out of range");
	cr_assert_null(ogw_lb_json_pointer(doc, "/p/-"), "'-' names no element yet");
	cr_assert_null(ogw_lb_json_pointer(doc, "/p/01"), "leading zero");
	cr_assert_null(ogw_lb_json_pointer(doc, "/p/+1"));
	cr_assert_null(ogw_lb_json_pointer(doc, "/p/1x"));
	cr_assert_null(ogw_lb_json_pointer(doc, "/p/"), "an empty index");
	cr_assert_null(ogw_lb_json_pointer(doc, "/n/0"), "into a number");
	cr_assert_null(ogw_lb_json_pointer(doc, "/q"));
	cr_assert_null(ogw_lb_json_pointer(doc, "/n~2"), "a bad escape");
	cr_assert_null(ogw_lb_json_pointer(doc, "/n~"), "a bad escape");
	cr_assert_null(ogw_lb_json_pointer(doc, "n"), "not a pointer");
	cr_assert_eq(json_integer_value(ogw_lb_json_pointer(doc, "/p/2")), 3);
	json_decref(doc);
}
