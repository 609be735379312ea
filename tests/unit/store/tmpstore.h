/* SPDX-License-Identifier: MIT */
/*
 * What the store's test files share: a fresh temporary directory per test
 * (TMPSTORE_PREFIX names it), removed afterwards, and a store opened in it.
 * Included once per test program; everything here is static.
 */
#ifndef OGW_TEST_TMPSTORE_H
#define OGW_TEST_TMPSTORE_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <criterion/criterion.h>

#include "ocppgw/store.h"

static char tmpdir[64];

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/%s-XXXXXX", TMPSTORE_PREFIX);
	cr_assert_not_null(mkdtemp(tmpdir));
}

static void teardown(void)
{
	nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static struct ogw_store *open_store(void)
{
	struct ogw_store *st = NULL;
	char err[512] = "";

	cr_assert_eq(ogw_store_open(tmpdir, &st, err, sizeof(err)), 0, "%s", err);
	return st;
}

#endif
