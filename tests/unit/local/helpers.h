/* SPDX-License-Identifier: MIT */
/*
 * Shared by the src/local tests: a store in a temporary directory, a
 * context on it, and JSON literals. Test code only.
 */
#ifndef OGW_TEST_LOCAL_HELPERS_H
#define OGW_TEST_LOCAL_HELPERS_H

#include <criterion/criterion.h>
#include <ftw.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ocppgw/config.h"
#include "ocppgw/local.h"
#include "ocppgw/store.h"
#include "ocppgw/util.h"

struct fixture {
	char dir[64];
	struct ogw_store *store;
	struct ogw_conf conf;
};

static inline int fixture_rm(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path);
}

static inline void fixture_open(struct fixture *f)
{
	char err[512] = "";

	strcpy(f->dir, "/tmp/ogw-local-XXXXXX");
	cr_assert_not_null(mkdtemp(f->dir));
	cr_assert_eq(ogw_store_open(f->dir, &f->store, err, sizeof(err)), 0, "%s", err);
	ogw_conf_defaults(&f->conf);
}

static inline void fixture_close(struct fixture *f)
{
	f->store = ogw_store_close(f->store);
	ogw_conf_clear(&f->conf);
	nftw(f->dir, fixture_rm, 16, FTW_DEPTH | FTW_PHYS);
}

static inline struct ogw_local_ctx fixture_ctx(struct fixture *f, enum ogw_ocpp ver)
{
	return (struct ogw_local_ctx){ .store = f->store, .conf = &f->conf, .charger = "CP1",
				       .ver = ver };
}

/* A JSON literal; fails the test when it does not parse. */
static inline json_t *J(const char *text)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);

	cr_assert_not_null(j, "bad literal %s: %s", text, je.text);
	return j;
}

#endif
