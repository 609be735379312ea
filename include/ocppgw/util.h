/* SPDX-License-Identifier: MIT */
/*
 * Small helpers every layer uses: randomness from mbedTLS's CTR-DRBG, clocks,
 * RFC 3339 time text, hex and percent-encoding (charger ids in URL paths
 * and MQTT topic levels), and the one rule on what a charger identity is.
 */
#ifndef OCPPGW_UTIL_H
#define OCPPGW_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

/* Cryptographic random bytes (mbedTLS CTR-DRBG, seeded once). 0 or -EIO. */
int ogw_random_bytes(void *buf, size_t len);
/* The delay before reconnect attempt @attempt (0 for the first retry):
 * @min_ms doubled per attempt up to @max_ms, then a random point in its
 * upper half, so a fleet does not come back in lockstep after an outage.
 * The one backoff of every reconnecting client (north legs, the bridge,
 * the MQTT client). */
uint64_t ogw_backoff_ms(unsigned int attempt, int min_ms, int max_ms);
/* A random (version 4) UUID in lower case, 36 characters. */
void ogw_uuid4(char ret[37]);

uint64_t ogw_now_us(void);  /* CLOCK_MONOTONIC */
/* The wall clock as RFC 3339 UTC with milliseconds: 2026-11-22T07:00:00.123Z */
void ogw_time_rfc3339(char ret[32]);
/* RFC 3339 date-time ("2027-01-01T00:00:00Z", fractions and offsets allowed)
 * to unix seconds: 0, or -EINVAL when @s is not one. */
int ogw_time_parse_rfc3339(const char *s, int64_t *ret);
/* Unix seconds @t as RFC 3339 UTC without fraction: 2027-01-01T00:00:00Z */
void ogw_time_format_rfc3339(int64_t t, char ret[32]);

/* Lower-case hex of @len bytes into @out (2*len+1). */
void ogw_hex_encode(const void *in, size_t len, char *out);
/* 0, or -EINVAL when @in is not an even number of hex digits. */
int ogw_hex_decode(const char *in, size_t len, void *out, size_t outsz, size_t *ret_len);

/* RFC 3986 unreserved characters pass, everything else becomes %XX; the
 * result is cut at a whole character to fit @outsz. */
void ogw_percent_encode(const char *in, char *out, size_t outsz);
/* Reverses ogw_percent_encode(): 0, or -EINVAL for a malformed or
 * too long @in, or one that decodes to a NUL. */
int ogw_percent_decode(const char *in, size_t len, char *out, size_t outsz);

/* A charger identity: OCPP 2.0.1 Part 4 §3.1.1, an identifierString of at
 * most 48 characters without ':'. */
#define OGW_ID_MAX 48
/* NULL when the @len bytes at @id are a charger identity, else why not
 * (a static English sentence that never quotes @id). Every door a charger
 * name comes through (WebSocket path, admin API path, MQTT topic) uses it. */
const char *ogw_identity_check(const char *id, size_t len);

/* Overwrites @len bytes so the compiler cannot drop it (for secrets). */
void ogw_memzero(void *p, size_t len);

/* Whether two optional settings say the same: NULL (unset) equals "". */
static inline bool ogw_str_same(const char *a, const char *b)
{
	return !strcmp(a ? a : "", b ? b : "");
}

#endif
