/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for charger passwords: PBKDF2 hashes, the 1.6 AuthorizationKey
 * normalization and the HTTP Basic header. They do not touch the network or
 * the config file loader (test_config.c covers that).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "ocppgw/auth.h"

/* Made by Python's hashlib.pbkdf2_hmac, an independent implementation. */
#define PY_HASH_TEXT "$pbkdf2-sha256$10000$AAECAwQFBgcICQoLDA0ODw==$" \
	"X+DILeVuX9mNHCAvEDeDlaquCYUTD7rdkkZXdsCyl/Q="
#define PY_HASH_KEY "$pbkdf2-sha256$10000$AAECAwQFBgcICQoLDA0ODw==$" \
	"gB3STZXuntAKdAI4IWhnwRSEqZAYpWL6BQaSkGcs7FY="

static const unsigned char key20[20] = {
	0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x00, 0x11,
	0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,
};
static const char key20_lower[] = "0123456789abcdef00112233445566778899aabb";
static const char key20_upper[] = "0123456789ABCDEF00112233445566778899AABB";

static bool verify_str(const char *hash, const char *pw)
{
	return ogw_auth_verify(hash, pw, strlen(pw));
}

Test(auth, hash_verify_round_trip)
{
	char *h = ogw_auth_hash("correct horse", 13);
	char *h2 = ogw_auth_hash("correct horse", 13);

	cr_assert_not_null(h);
	cr_assert_not_null(h2);
	cr_assert_eq(strncmp(h, "$pbkdf2-sha256$10000$", 21), 0, "%s", h);
	cr_assert_eq(ogw_auth_hash_check_format(h), 0);
	cr_assert(verify_str(h, "correct horse"));
	cr_assert_str_neq(h, h2, "a fresh salt makes each hash different");
	cr_assert(verify_str(h2, "correct horse"));
	free(h);
	free(h2);
}

Test(auth, wrong_password)
{
	char *h = ogw_auth_hash("correct horse", 13);

	cr_assert_not_null(h);
	cr_assert_not(verify_str(h, "correct hors"));
	cr_assert_not(verify_str(h, "correct horse "));
	cr_assert_not(verify_str(h, "Correct horse"));
	cr_assert_not(verify_str(h, ""));
	cr_assert_not(ogw_auth_verify(h, NULL, 0));
	free(h);
}

Test(auth, matches_independent_pbkdf2)
{
	cr_assert(verify_str(PY_HASH_TEXT, "correct horse battery"));
	cr_assert_not(verify_str(PY_HASH_TEXT, "correct horse battery!"));
	cr_assert(verify_str(PY_HASH_KEY, "0123456789abcdef0123456789abcdef01234567"));
	cr_assert(verify_str(PY_HASH_KEY, "0123456789ABCDEF0123456789ABCDEF01234567"));
}

Test(auth, key16_raw_and_hex_forms_all_verify)
{
	char *h = ogw_auth_hash(key20_upper, strlen(key20_upper));

	cr_assert_not_null(h);
	cr_assert(ogw_auth_verify(h, key20, sizeof(key20)), "raw 20 bytes");
	cr_assert(verify_str(h, key20_lower), "lower-case hex");
	cr_assert(verify_str(h, key20_upper), "upper-case hex");
	cr_assert(verify_str(h, "0123456789abcdef00112233445566778899AaBb"), "mixed case");
	cr_assert_not(ogw_auth_verify(h, key20, 19), "a truncated key");
	cr_assert_not(verify_str(h, "0123456789abcdef00112233445566778899aabc"));
	free(h);

	/* and the other way round: hashed from the raw bytes, checked as hex */
	h = ogw_auth_hash(key20, sizeof(key20));
	cr_assert_not_null(h);
	cr_assert(verify_str(h, key20_lower));
	cr_assert(verify_str(h, key20_upper));
	free(h);
}

Test(auth, key16_bytes_raw_and_hex)
{
	/* SEC16 A00.FR.205: the key is at least 16 bytes */
	static const unsigned char key16[16] = {
		0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x02, 0x03,
		0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
	};
	char *h = ogw_auth_hash("DEADBEEF000102030405060708090A0B", 32);

	cr_assert_not_null(h);
	cr_assert(ogw_auth_verify(h, key16, sizeof(key16)));
	cr_assert(verify_str(h, "deadbeef000102030405060708090a0b"));
	free(h);
}

Test(auth, text_password_2x_is_used_as_is)
{
	/* 2.0.1 BasicAuthPassword: 16-40 characters of text, case matters */
	char *h = ogw_auth_hash("Open-Sesame-2024", 16);

	cr_assert_not_null(h);
	cr_assert(verify_str(h, "Open-Sesame-2024"));
	cr_assert_not(verify_str(h, "open-sesame-2024"));
	cr_assert_not(verify_str(h, "4f70656e2d536573616d652d32303234"), "its hex is another password");
	free(h);
}

Test(auth, malformed_hashes_rejected)
{
	static const char *const bad[] = {
		"",
		"secret",
		"$pbkdf2-sha256$",
		"$pbkdf2-sha1$10000$AAECAwQFBgcICQoLDA0ODw==$X+DILeVuX9mNHCAvEDeDlaquCYUTD7rdkkZXdsCyl/Q=",
		"$pbkdf2-sha256$999$AAECAwQFBgcICQoLDA0ODw==$X+DILeVuX9mNHCAvEDeDlaquCYUTD7rdkkZXdsCyl/Q=",
		"$pbkdf2-sha256$10000001$AAECAwQFBgcICQoLDA0ODw==$X+DILeVuX9mNHCAvEDeDlaquCYUTD7rdkkZXdsCyl/Q=",
		"$pbkdf2-sha256$010000$AAECAwQFBgcICQoLDA0ODw==$X+DILeVuX9mNHCAvEDeDlaquCYUTD7rdkkZXdsCyl/Q=",
		"$pbkdf2-sha256$10k$AAECAwQFBgcICQoLDA0ODw==$X+DILeVuX9mNHCAvEDeDlaquCYUTD7rdkkZXdsCyl/Q=",
		"$pbkdf2-sha256$10000$AAECAwQFBgcICQoLDA0ODw==",
		"$pbkdf2-sha256$10000$AAECAwQFBgcICQoLDA0ODw==$",
		"$pbkdf2-sha256$10000$$X+DILeVuX9mNHCAvEDeDlaquCYUTD7rdkkZXdsCyl/Q=",
		"$pbkdf2-sha256$10000$AAEC!wQFBgcICQoLDA0ODw==$X+DILeVuX9mNHCAvEDeDlaquCYUTD7rdkkZXdsCyl/Q=",
		/* hash of 31 bytes */
		"$pbkdf2-sha256$10000$AAECAwQFBgcICQoLDA0ODw==$X+DILeVuX9mNHCAvEDeDlaquCYUTD7rdkkZXdsCylw==",
		/* salt of 4 bytes */
		"$pbkdf2-sha256$10000$AAECAw==$X+DILeVuX9mNHCAvEDeDlaquCYUTD7rdkkZXdsCyl/Q=",
		"$pbkdf2-sha256$10000$AAECAwQFBgcICQoLDA0ODw==$X+DILeVuX9mNHCAvEDeDlaquCYUTD7rdkkZXdsCyl/Q=$x",
		"$pbkdf2-sha256$10000$AAECAwQFBgcICQoLDA0ODw==$X+DILeVuX9mNHCAvEDeDlaquCYUTD7rdkkZXdsCyl/Q= ",
		"$pbkdf2-sha256$10000$AAECAwQFBgcICQoLDA0ODw==$X+DILeVuX9mNHCAvEDeDlaquCYUTD7rdkkZXdsCyl/Q",
	};

	cr_assert_eq(ogw_auth_hash_check_format(NULL), -EINVAL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_expect_eq(ogw_auth_hash_check_format(bad[i]), -EINVAL, "accepted: %s", bad[i]);
		cr_expect_not(verify_str(bad[i], "correct horse battery"), "verified: %s", bad[i]);
	}
	cr_assert_eq(ogw_auth_hash_check_format(PY_HASH_TEXT), 0);
	cr_assert_eq(ogw_auth_hash_check_format("$pbkdf2-sha256$1000$AAECAwQFBgcICQoLDA0ODw==$"
						"X+DILeVuX9mNHCAvEDeDlaquCYUTD7rdkkZXdsCyl/Q="), 0);
}

static void expect_basic(const char *header, const char *user, const void *pass, size_t len)
{
	char *u = NULL, *p = NULL;
	size_t plen = 0;

	cr_assert_eq(ogw_auth_parse_basic(header, &u, &p, &plen), 0, "%s", header);
	cr_assert_str_eq(u, user);
	cr_assert_eq(plen, len, "%s", header);
	cr_assert_eq(memcmp(p, pass, len), 0);
	cr_assert_eq(p[len], '\0');
	free(u);
	free(p);
}

Test(auth, parse_basic_accepts)
{
	static const unsigned char raw[] = "\x01\x23\x45\x67\x89\xab\xcd\xef\x00\x11"
					   "\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb";

	expect_basic("Basic QUwxMDAwOnNlY3JldA==", "AL1000", "secret", 6);
	expect_basic("basic QUwxMDAwOnNlY3JldA==", "AL1000", "secret", 6);
	expect_basic("  BASIC \t  QUwxMDAwOnNlY3JldA==  ", "AL1000", "secret", 6);
	/* split at the first ':'; the password keeps the rest */
	expect_basic("Basic dXNlcjpwYTpzcw==", "user", "pa:ss", 5);
	expect_basic("Basic dXNlcjo=", "user", "", 0);
	/* J16 §6.2.2: the raw key bytes, one of them NUL */
	expect_basic("Basic QUwxMDAwOgEjRWeJq83vABEiM0RVZneImaq7", "AL1000", raw, 20);
}

Test(auth, parse_basic_rejects)
{
	static const char *const bad[] = {
		"Basic Q1Ax",                   /* "CP1": no colon */
		"Basic OnB3",                   /* ":pw": no identity */
		"Basic !!!!",
		"Basic QUwxMDAwOnNlY3JldA",     /* base64 without padding */
		"Basic QUwx MDAwOnNlY3JldA==",
		"Basic ",
		"Basic",
		"BasicQUwxMDAwOnNlY3JldA==",
		"Bearer QUwxMDAwOnNlY3JldA==",
		"Digest username=\"AL1000\"",
		"",
	};
	char *u = (char *)"untouched", *p = (char *)"untouched";
	size_t plen = 42;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(ogw_auth_parse_basic(bad[i], &u, &p, &plen), -EINVAL,
			     "accepted: '%s'", bad[i]);
	cr_assert_eq(ogw_auth_parse_basic(NULL, &u, &p, &plen), -EINVAL);
	cr_assert_str_eq(u, "untouched");
	cr_assert_str_eq(p, "untouched");
	cr_assert_eq(plen, 42);
}

Test(auth, make_basic)
{
	char *h = ogw_auth_make_basic("AL1000", "secret", 6);

	cr_assert_str_eq(h, "Basic QUwxMDAwOnNlY3JldA==");
	free(h);
	h = ogw_auth_make_basic("AL1000", key20, sizeof(key20));
	cr_assert_str_eq(h, "Basic QUwxMDAwOgEjRWeJq83vABEiM0RVZneImaq7");
	expect_basic(h, "AL1000", key20, sizeof(key20));
	free(h);
	h = ogw_auth_make_basic("CP-7", "a:b:c", 5);
	expect_basic(h, "CP-7", "a:b:c", 5);
	free(h);
	h = ogw_auth_make_basic("CP-7", NULL, 0);
	expect_basic(h, "CP-7", "", 0);
	free(h);
}
