/* SPDX-License-Identifier: MIT */
/*
 * Charger passwords: PBKDF2-HMAC-SHA256 hashes in "$pbkdf2-sha256$..." form,
 * their verification, and the HTTP Basic header both ways. It does not decide
 * which charger must authenticate; the gateway asks per connection.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/base64.h>
#include <mbedtls/constant_time.h>
#include <mbedtls/md.h>
#include <mbedtls/pkcs5.h>

#include "ocppgw/auth.h"
#include "ocppgw/util.h"

#define HASH_PREFIX "$pbkdf2-sha256$"
#define DEFAULT_ITERATIONS 10000
#define MIN_ITERATIONS 1000
#define MAX_ITERATIONS 10000000
#define SALT_LEN 16
#define MIN_SALT_LEN 8
#define MAX_SALT_LEN 64
#define KEY_LEN 32

struct parsed_hash {
	unsigned iterations;
	unsigned char salt[MAX_SALT_LEN];
	size_t salt_len;
	unsigned char key[KEY_LEN];
};

/* Strict base64 alphabet check, so the format test does not depend on what
 * mbedTLS tolerates (it skips some whitespace). */
static bool is_b64(const char *s, size_t len)
{
	if (len == 0 || len % 4 != 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (isalnum(ch) || ch == '+' || ch == '/')
			continue;
		/* '=' only as the last one or two characters */
		if (ch == '=' && i + 2 >= len && (i + 1 == len || s[i + 1] == '='))
			continue;
		return false;
	}
	return true;
}

static int b64_field(const char *s, size_t len, unsigned char *out, size_t outsz,
		     size_t *ret_len)
{
	size_t n = 0;

	if (!is_b64(s, len))
		return -EINVAL;
	if (mbedtls_base64_decode(out, outsz, &n, (const unsigned char *)s, len) != 0)
		return -EINVAL;
	*ret_len = n;
	return 0;
}

static int parse_hash(const char *hash, struct parsed_hash *ret)
{
	const char *p, *salt, *key, *dollar;
	unsigned long it = 0;
	size_t key_len = 0;

	if (!hash || strncmp(hash, HASH_PREFIX, strlen(HASH_PREFIX)) != 0)
		return -EINVAL;
	p = hash + strlen(HASH_PREFIX);
	if (*p < '1' || *p > '9')
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		it = it * 10 + (unsigned long)(*p - '0');
		if (it > MAX_ITERATIONS)
			return -EINVAL;
	}
	if (it < MIN_ITERATIONS || *p != '$')
		return -EINVAL;
	salt = p + 1;
	dollar = strchr(salt, '$');
	if (!dollar)
		return -EINVAL;
	key = dollar + 1;
	if (strchr(key, '$'))
		return -EINVAL;
	if (b64_field(salt, (size_t)(dollar - salt), ret->salt, sizeof(ret->salt),
		      &ret->salt_len) < 0 || ret->salt_len < MIN_SALT_LEN)
		return -EINVAL;
	if (b64_field(key, strlen(key), ret->key, sizeof(ret->key), &key_len) < 0 ||
	    key_len != KEY_LEN)
		return -EINVAL;
	ret->iterations = (unsigned)it;
	return 0;
}

static bool all_hex(const unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!isxdigit(p[i]))
			return false;
	return true;
}

static bool any_unprintable(const unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] < 0x20 || p[i] > 0x7e)
			return true;
	return false;
}

/*
 * One hash for every way a 1.6 charger sends its AuthorizationKey (J16 §6.2.2,
 * SEC16 A00.FR.205: 16..20 bytes, configured as hex): hex is lower-cased, raw
 * key bytes become lower-case hex, anything else (a 2.x text password) stays.
 * @out must hold max(len, 40) bytes; the result length goes to *ret_len.
 */
static void normalize(const unsigned char *pw, size_t len, unsigned char *out,
		      size_t *ret_len)
{
	if (len >= 32 && len <= 40 && len % 2 == 0 && all_hex(pw, len)) {
		for (size_t i = 0; i < len; i++)
			out[i] = (unsigned char)tolower(pw[i]);
		*ret_len = len;
	} else if (len >= 16 && len <= 20 && any_unprintable(pw, len)) {
		char hex[41];
		ogw_hex_encode(pw, len, hex);
		memcpy(out, hex, 2 * len);
		ogw_memzero(hex, sizeof(hex));
		*ret_len = 2 * len;
	} else {
		memcpy(out, pw, len);
		*ret_len = len;
	}
}

static int derive(const void *password, size_t len, const unsigned char *salt,
		  size_t salt_len, unsigned iterations, unsigned char key[KEY_LEN])
{
	mbedtls_md_context_t md;
	unsigned char *norm = NULL;
	size_t norm_len = 0;
	int rc;

	mbedtls_md_init(&md);
	norm = malloc(len > 40 ? len : 40);
	if (!norm) {
		rc = -ENOMEM;
		goto out;
	}
	normalize(password, len, norm, &norm_len);
	if (mbedtls_md_setup(&md, mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), 1) != 0 ||
	    mbedtls_pkcs5_pbkdf2_hmac(&md, norm, norm_len, salt, salt_len, iterations,
				      KEY_LEN, key) != 0) {
		rc = -EIO;
		goto out;
	}
	rc = 0;
out:
	if (norm) {
		ogw_memzero(norm, len > 40 ? len : 40);
		free(norm);
	}
	mbedtls_md_free(&md);
	return rc;
}

char *ogw_auth_hash(const void *password, size_t len)
{
	unsigned char salt[SALT_LEN], key[KEY_LEN];
	char salt_b64[4 * ((SALT_LEN + 2) / 3) + 1], key_b64[4 * ((KEY_LEN + 2) / 3) + 1];
	size_t n = 0;
	char *ret = NULL;

	if (ogw_random_bytes(salt, sizeof(salt)) < 0)
		goto out;
	if (derive(password, len, salt, sizeof(salt), DEFAULT_ITERATIONS, key) < 0)
		goto out;
	if (mbedtls_base64_encode((unsigned char *)salt_b64, sizeof(salt_b64), &n,
				  salt, sizeof(salt)) != 0 ||
	    mbedtls_base64_encode((unsigned char *)key_b64, sizeof(key_b64), &n,
				  key, sizeof(key)) != 0)
		goto out;
	if (asprintf(&ret, HASH_PREFIX "%d$%s$%s", DEFAULT_ITERATIONS, salt_b64, key_b64) < 0)
		ret = NULL;
out:
	ogw_memzero(key, sizeof(key));
	return ret;
}

bool ogw_auth_verify(const char *hash, const void *password, size_t len)
{
	struct parsed_hash h;
	unsigned char key[KEY_LEN];
	bool ok = false;

	if (!password || parse_hash(hash, &h) < 0)
		goto out;
	if (derive(password, len, h.salt, h.salt_len, h.iterations, key) < 0)
		goto out;
	ok = mbedtls_ct_memcmp(key, h.key, KEY_LEN) == 0;
out:
	ogw_memzero(key, sizeof(key));
	ogw_memzero(&h, sizeof(h));
	return ok;
}

int ogw_auth_hash_check_format(const char *hash)
{
	struct parsed_hash h;

	return parse_hash(hash, &h);
}

int ogw_auth_parse_basic(const char *header, char **ret_user, char **ret_pass,
			 size_t *ret_pass_len)
{
	const char *p, *end, *colon;
	unsigned char *raw = NULL;
	size_t raw_cap = 0, raw_len = 0, tok_len;
	char *user = NULL, *pass = NULL;
	int rc = -EINVAL;

	if (!header)
		goto out;
	p = header;
	while (*p == ' ' || *p == '\t')
		p++;
	if (strncasecmp(p, "basic", 5) != 0 || (p[5] != ' ' && p[5] != '\t'))
		goto out;
	p += 5;
	while (*p == ' ' || *p == '\t')
		p++;
	end = p + strlen(p);
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	tok_len = (size_t)(end - p);
	if (!is_b64(p, tok_len))
		goto out;
	raw_cap = tok_len / 4 * 3 + 1;
	raw = malloc(raw_cap);
	if (!raw) {
		rc = -ENOMEM;
		goto out;
	}
	if (mbedtls_base64_decode(raw, raw_cap, &raw_len, (const unsigned char *)p, tok_len) != 0)
		goto out;
	colon = memchr(raw, ':', raw_len);
	/* the identity is never empty and, being a C string, holds no NUL */
	if (!colon || colon == (const char *)raw || memchr(raw, '\0', (size_t)(colon - (char *)raw)))
		goto out;
	user = strndup((const char *)raw, (size_t)(colon - (char *)raw));
	pass = malloc(raw_len - (size_t)(colon - (char *)raw));
	if (!user || !pass) {
		rc = -ENOMEM;
		goto out;
	}
	*ret_pass_len = raw_len - (size_t)(colon - (char *)raw) - 1;
	memcpy(pass, colon + 1, *ret_pass_len);
	pass[*ret_pass_len] = '\0';
	*ret_user = user;
	*ret_pass = pass;
	user = pass = NULL;
	rc = 0;
out:
	free(user);
	free(pass);
	if (raw) {
		ogw_memzero(raw, raw_cap);
		free(raw);
	}
	return rc;
}

char *ogw_auth_make_basic(const char *user, const void *pass, size_t pass_len)
{
	size_t ulen, plain_len, b64_cap, n = 0;
	unsigned char *plain = NULL;
	char *ret = NULL;

	if (!user || (!pass && pass_len))
		return NULL;
	ulen = strlen(user);
	plain_len = ulen + 1 + pass_len;
	plain = malloc(plain_len);
	if (!plain)
		goto out;
	memcpy(plain, user, ulen);
	plain[ulen] = ':';
	if (pass_len)
		memcpy(plain + ulen + 1, pass, pass_len);
	b64_cap = 4 * ((plain_len + 2) / 3) + 1;
	ret = malloc(6 + b64_cap);
	if (!ret)
		goto out;
	memcpy(ret, "Basic ", 6);
	if (mbedtls_base64_encode((unsigned char *)ret + 6, b64_cap, &n, plain, plain_len) != 0) {
		ogw_memzero(ret, 6 + b64_cap);
		free(ret);
		ret = NULL;
	}
out:
	if (plain) {
		ogw_memzero(plain, plain_len);
		free(plain);
	}
	return ret;
}
