/* SPDX-License-Identifier: MIT */
/*
 * lws_get_random() as src/transport/random.c defines it for libwebsockets:
 * every byte asked for is given, across the pool's refills and for a
 * request larger than the pool, and the bytes are not a pattern (two
 * draws differ; a large draw has each byte value about equally often).
 */
#include <string.h>

#include <criterion/criterion.h>
#include <libwebsockets.h>

#include "transport/transport.h"

Test(random, every_byte_asked_for_across_refills)
{
	unsigned char a[4], b[4];
	cr_assert_eq(ogw_random_start(), 0);
	/* 4,096 bytes a pool: 3,000 masks of four bytes refill it twice */
	int same = 0;
	cr_assert_eq(lws_get_random(NULL, a, sizeof(a)), sizeof(a));
	for (int i = 0; i < 3000; i++) {
		cr_assert_eq(lws_get_random(NULL, b, sizeof(b)), sizeof(b));
		same += !memcmp(a, b, sizeof(a));
		memcpy(a, b, sizeof(a));
	}
	cr_assert_lt(same, 2, "%d masks equal to the one before", same);
	/* odd sizes that straddle a refill */
	unsigned char c[1000];
	for (int i = 0; i < 20; i++)
		cr_assert_eq(lws_get_random(NULL, c, 1 + i * 37 % 1000), (size_t)(1 + i * 37 % 1000));
}

Test(random, large_draw_is_uniform)
{
	static unsigned char big[1 << 16];  /* over the pool: straight from the kernel */
	unsigned count[256] = { 0 };
	cr_assert_eq(lws_get_random(NULL, big, sizeof(big)), sizeof(big));
	for (size_t i = 0; i < sizeof(big); i++)
		count[big[i]]++;
	/* 256 expected per value; 5 standard deviations (~80) either side */
	for (int v = 0; v < 256; v++)
		cr_assert(count[v] > 256 - 80 && count[v] < 256 + 80, "byte %d seen %u times", v,
			  count[v]);
}
