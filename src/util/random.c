/* SPDX-License-Identifier: MIT */
/*
 * Cryptographic randomness for the whole process: one mbedTLS CTR-DRBG,
 * seeded from the system entropy on first use and reseeded in a forked
 * child. It does not hand out keys or ids itself beyond the UUID helper.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>

#include "ocppgw/util.h"

static pthread_mutex_t rng_lock = PTHREAD_MUTEX_INITIALIZER;
static mbedtls_entropy_context rng_entropy;
static mbedtls_ctr_drbg_context rng_drbg;
static bool rng_seeded;
static bool rng_forked;
static bool rng_atfork_set;

static void rng_child_after_fork(void)
{
	/* The child must not replay the parent's stream. */
	rng_forked = true;
}

/* Called with rng_lock held. */
static int rng_ready(void)
{
	static const char pers[] = "ocppgw";
	int rc = 0;

	if (rng_seeded && !rng_forked)
		return 0;
	if (rng_seeded && rng_forked) {
		if (mbedtls_ctr_drbg_reseed(&rng_drbg, NULL, 0) != 0) {
			rc = -EIO;
			goto out;
		}
		rng_forked = false;
		goto out;
	}
	if (!rng_atfork_set) {
		if (pthread_atfork(NULL, NULL, rng_child_after_fork) != 0) {
			rc = -EIO;
			goto out;
		}
		rng_atfork_set = true;
	}
	mbedtls_entropy_init(&rng_entropy);
	mbedtls_ctr_drbg_init(&rng_drbg);
	if (mbedtls_ctr_drbg_seed(&rng_drbg, mbedtls_entropy_func, &rng_entropy,
				  (const unsigned char *)pers, sizeof(pers) - 1) != 0) {
		mbedtls_ctr_drbg_free(&rng_drbg);
		mbedtls_entropy_free(&rng_entropy);
		rc = -EIO;
		goto out;
	}
	rng_seeded = true;
	rng_forked = false;
out:
	return rc;
}

int ogw_random_bytes(void *buf, size_t len)
{
	unsigned char *p = buf;
	int rc;

	pthread_mutex_lock(&rng_lock);
	rc = rng_ready();
	if (rc < 0)
		goto out;
	while (len > 0) {
		size_t n = len < MBEDTLS_CTR_DRBG_MAX_REQUEST ? len : MBEDTLS_CTR_DRBG_MAX_REQUEST;

		if (mbedtls_ctr_drbg_random(&rng_drbg, p, n) != 0) {
			rc = -EIO;
			goto out;
		}
		p += n;
		len -= n;
	}
out:
	pthread_mutex_unlock(&rng_lock);
	return rc;
}

void ogw_uuid4(char ret[37])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char b[16];
	size_t o = 0;

	if (ogw_random_bytes(b, sizeof(b)) < 0) {
		/* The DRBG failing means the system has no entropy source at all;
		 * a UUID must still be well formed, so fall back to the clock. */
		uint64_t t = ogw_now_us(), w;
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		w = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30);
		memcpy(b, &t, sizeof(t));
		memcpy(b + 8, &w, sizeof(w));
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	for (size_t i = 0; i < sizeof(b); i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			ret[o++] = '-';
		ret[o++] = digits[b[i] >> 4];
		ret[o++] = digits[b[i] & 0xf];
	}
	ret[o] = '\0';
}

uint64_t ogw_backoff_ms(unsigned int attempt, int min_ms, int max_ms)
{
	uint64_t delay = min_ms > 0 ? (uint64_t)min_ms : 0;
	uint64_t max = max_ms > 0 ? (uint64_t)max_ms : 0;
	for (unsigned int i = 0; i < attempt && delay < max; i++)
		delay *= 2;
	if (delay > max)
		delay = max;
	uint16_t r = 0;
	ogw_random_bytes(&r, sizeof(r));
	return delay / 2 + (delay / 2) * r / 65535;
}
