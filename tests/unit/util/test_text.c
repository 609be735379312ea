/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the pure text helpers: hex, percent-encoding, RFC 3339
 * time and the monotonic clock. Randomness and logging have their own files.
 */
#include <errno.h>
#include <string.h>

#include <criterion/criterion.h>

#include "ocppgw/util.h"

Test(hex, round_trip)
{
	const unsigned char in[] = { 0x00, 0x01, 0x7f, 0x80, 0xab, 0xff };
	unsigned char back[8];
	char out[2 * sizeof(in) + 1];
	size_t n = 0;

	ogw_hex_encode(in, sizeof(in), out);
	cr_assert_str_eq(out, "00017f80abff");
	cr_assert_eq(ogw_hex_decode(out, strlen(out), back, sizeof(back), &n), 0);
	cr_assert_eq(n, sizeof(in));
	cr_assert_arr_eq(back, in, sizeof(in));
	cr_assert_eq(ogw_hex_decode("ABCDEF", 6, back, sizeof(back), &n), 0);
	cr_assert_eq(n, 3);
	cr_assert_eq(back[0], 0xab);
	cr_assert_eq(back[2], 0xef);
	ogw_hex_encode(in, 0, out);
	cr_assert_str_eq(out, "");
}

Test(hex, rejects)
{
	unsigned char back[2];
	size_t n = 99;

	cr_assert_eq(ogw_hex_decode("abc", 3, back, sizeof(back), &n), -EINVAL);
	cr_assert_eq(ogw_hex_decode("zz", 2, back, sizeof(back), &n), -EINVAL);
	cr_assert_eq(ogw_hex_decode("0g", 2, back, sizeof(back), &n), -EINVAL);
	cr_assert_eq(ogw_hex_decode("aabbcc", 6, back, sizeof(back), &n), -ENOSPC);
	cr_assert_eq(n, 99, "ret_len untouched on failure");
}

Test(time, rfc3339_shape)
{
	char ts[32];

	ogw_time_rfc3339(ts);
	cr_assert_eq(strlen(ts), 24, "%s", ts);
	for (size_t i = 0; i < 24; i++) {
		char c = ts[i];

		switch (i) {
		case 4: case 7: cr_assert_eq(c, '-'); break;
		case 10: cr_assert_eq(c, 'T'); break;
		case 13: case 16: cr_assert_eq(c, ':'); break;
		case 19: cr_assert_eq(c, '.'); break;
		case 23: cr_assert_eq(c, 'Z'); break;
		default: cr_assert(c >= '0' && c <= '9', "%s", ts);
		}
	}
}

Test(time, rfc3339_parse_and_format)
{
	static const struct { const char *in; int64_t want; } good[] = {
		{ "1970-01-01T00:00:00Z", 0 },
		{ "2027-01-01T00:00:00Z", 1798761600 },
		{ "2027-01-01T00:00:00.123Z", 1798761600 },
		{ "2027-01-01T01:30:00+01:30", 1798761600 },
		{ "2026-12-31T23:00:00-01:00", 1798761600 },
	};
	static const char *const bad[] = {
		"", "2027-01-01", "2027-01-01T00:00:00", "2027-13-01T00:00:00Z",
		"2027-02-30T00:00:00Z", "2027-01-01T24:00:00Z", "2027-01-01T00:00:00.Z",
		"2027-01-01T00:00:00Zjunk", "2027-01-01T00:00:00+1:00", "tomorrow",
	};
	char text[32];
	int64_t t;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		t = -1;
		cr_assert_eq(ogw_time_parse_rfc3339(good[i].in, &t), 0, "%s", good[i].in);
		cr_assert_eq(t, good[i].want, "%s: %lld", good[i].in, (long long)t);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t = 7;
		cr_assert_eq(ogw_time_parse_rfc3339(bad[i], &t), -EINVAL, "%s", bad[i]);
		cr_assert_eq(t, 7, "ret untouched on failure");
	}
	ogw_time_format_rfc3339(1798761600, text);
	cr_assert_str_eq(text, "2027-01-01T00:00:00Z");
	ogw_time_format_rfc3339(0, text);
	cr_assert_str_eq(text, "1970-01-01T00:00:00Z");
}

Test(time, monotonic)
{
	uint64_t a = ogw_now_us(), b = ogw_now_us();

	cr_assert_geq(b, a);
	cr_assert_gt(a, 0);
}

Test(memzero, wipes)
{
	char secret[] = "hunter2";

	ogw_memzero(secret, sizeof(secret));
	for (size_t i = 0; i < sizeof(secret); i++)
		cr_assert_eq(secret[i], 0);
	ogw_memzero(NULL, 0);
}

Test(percent, round_trip)
{
	char enc[64], dec[32];

	ogw_percent_encode("CP-1_a.b~c", enc, sizeof(enc));
	cr_assert_str_eq(enc, "CP-1_a.b~c");
	ogw_percent_encode("a+b#c/d $e%", enc, sizeof(enc));
	cr_assert_str_eq(enc, "a%2Bb%23c%2Fd%20%24e%25");
	cr_assert_eq(ogw_percent_decode(enc, strlen(enc), dec, sizeof(dec)), 0);
	cr_assert_str_eq(dec, "a+b#c/d $e%");
	cr_assert_eq(ogw_percent_decode("x%2fy", 5, dec, sizeof(dec)), 0);
	cr_assert_str_eq(dec, "x/y");
	/* Cut at a whole character. */
	ogw_percent_encode("ab#", enc, 5);
	cr_assert_str_eq(enc, "ab");
}

Test(percent, rejects)
{
	char dec[8];

	cr_assert_eq(ogw_percent_decode("a%2", 3, dec, sizeof(dec)), -EINVAL);
	cr_assert_eq(ogw_percent_decode("a%zz", 4, dec, sizeof(dec)), -EINVAL);
	cr_assert_eq(ogw_percent_decode("a%00b", 5, dec, sizeof(dec)), -EINVAL);
	cr_assert_eq(ogw_percent_decode("12345678", 8, dec, sizeof(dec)), -EINVAL);
	cr_assert_eq(ogw_percent_decode("1234567", 7, dec, sizeof(dec)), 0);
}

/* Finding 4 of issue 12: one rule for a charger identity at every door. */
Test(identity, accepts_identifier_strings)
{
	static const char *ok[] = { "CP1", "a", "RDAM-123_x.y", "A+1", "x*y=z|w@v", "...",
				    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV" };
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		cr_assert_null(ogw_identity_check(ok[i], strlen(ok[i])), "%s", ok[i]);
}

Test(identity, refuses_with_a_reason)
{
	static const struct {
		const char *id;
		size_t len;
		const char *why;
	} bad[] = {
		{ "", 0, "identity is empty" },
		{ "a\0b", 3, "identity contains a NUL byte" },
		{ "a\r\nb", 4, "identity contains a control character" },
		{ "x\r", 2, "identity contains a control character" },
		{ "\xff", 1, "identity contains a byte outside US-ASCII" },
		{ "a:b", 3, "identity contains ':', the Basic auth separator" },
		{ "a;b", 3, "identity contains a character outside a-z A-Z 0-9 * - _ = + | @ ." },
		{ "a b", 3, "identity contains a character outside a-z A-Z 0-9 * - _ = + | @ ." },
		{ "a/b", 3, "identity contains a character outside a-z A-Z 0-9 * - _ = + | @ ." },
		{ "A%41", 4, "identity contains a character outside a-z A-Z 0-9 * - _ = + | @ ." },
		{ ".", 1, "identity is '.' or '..', a path segment" },
		{ "..", 2, "identity is '.' or '..', a path segment" },
		{ "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVW", 49,
		  "identity is longer than 48 characters" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_str_eq(ogw_identity_check(bad[i].id, bad[i].len), bad[i].why, "case %zu", i);
}
