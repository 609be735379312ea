/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the DRBG wrapper and UUIDs: sizes beyond one DRBG request,
 * version-4 layout, and that a forked child does not repeat its parent.
 */
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "ocppgw/util.h"

Test(random, fills_and_differs)
{
	static unsigned char a[5000], b[5000];

	cr_assert_eq(ogw_random_bytes(a, sizeof(a)), 0);
	cr_assert_eq(ogw_random_bytes(b, sizeof(b)), 0);
	cr_assert_neq(memcmp(a, b, sizeof(a)), 0);
	/* beyond the 1024-byte DRBG request limit the tail is filled too */
	cr_assert_neq(memcmp(a + 4000, b + 4000, 1000), 0);
	cr_assert_eq(ogw_random_bytes(a, 0), 0);
}

Test(random, uuid4_format)
{
	char u[37], v[37];

	for (int i = 0; i < 1000; i++) {
		ogw_uuid4(u);
		cr_assert_eq(strlen(u), 36);
		for (int k = 0; k < 36; k++) {
			if (k == 8 || k == 13 || k == 18 || k == 23)
				cr_assert_eq(u[k], '-', "%s", u);
			else
				cr_assert(strchr("0123456789abcdef", u[k]) && u[k], "%s", u);
		}
		cr_assert_eq(u[14], '4', "%s", u);
		cr_assert(strchr("89ab", u[19]), "%s", u);
	}
	ogw_uuid4(v);
	cr_assert_str_neq(u, v);
}

Test(random, child_after_fork_differs)
{
	unsigned char parent[16], child[16];
	int fds[2];
	pid_t pid;

	cr_assert_eq(ogw_random_bytes(parent, 1), 0); /* seed before forking */
	cr_assert_eq(pipe(fds), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		unsigned char r[16];

		if (ogw_random_bytes(r, sizeof(r)) == 0 && write(fds[1], r, sizeof(r)) == sizeof(r))
			_exit(0);
		_exit(1);
	}
	cr_assert_eq(ogw_random_bytes(parent, sizeof(parent)), 0);
	cr_assert_eq(read(fds[0], child, sizeof(child)), (ssize_t)sizeof(child));
	waitpid(pid, NULL, 0);
	cr_assert_neq(memcmp(parent, child, sizeof(child)), 0);
	close(fds[0]);
	close(fds[1]);
}

/* Doubling from min to max, then a random point in the upper half: never
 * below half, never above the cap, and the cap holds for any attempt. */
Test(random, backoff_doubles_within_bounds)
{
	for (unsigned int attempt = 0; attempt < 40; attempt++) {
		uint64_t full = 1000;
		for (unsigned int i = 0; i < attempt && full < 60000; i++)
			full *= 2;
		if (full > 60000)
			full = 60000;
		for (int k = 0; k < 20; k++) {
			uint64_t d = ogw_backoff_ms(attempt, 1000, 60000);
			cr_assert(d >= full / 2 && d <= full, "attempt %u: %llu ms outside [%llu, %llu]",
				  attempt, (unsigned long long)d, (unsigned long long)full / 2,
				  (unsigned long long)full);
		}
	}
	/* Spread: a fleet's delays for one attempt are not all the same. */
	uint64_t first = ogw_backoff_ms(3, 1000, 60000);
	bool differs = false;
	for (int k = 0; k < 50 && !differs; k++)
		differs = ogw_backoff_ms(3, 1000, 60000) != first;
	cr_assert(differs, "50 delays for the same attempt were all %llu ms",
		  (unsigned long long)first);
}
