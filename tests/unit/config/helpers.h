/* SPDX-License-Identifier: MIT */
/*
 * Shared by the config suite's test files: load a file (written from a
 * string, or a fixture) over the defaults, and compare its errors with
 * "line: message" expectations.
 */
#ifndef OGW_TEST_CONFIG_HELPERS_H
#define OGW_TEST_CONFIG_HELPERS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "ocppgw/config.h"

struct loaded {
	struct ogw_conf conf;
	struct ogw_conf_errors errs;
	char path[64];
	int rc;
};

static inline void load_text(struct loaded *l, const char *text)
{
	FILE *f;
	int fd;

	memset(l, 0, sizeof(*l));
	strcpy(l->path, "/tmp/ogw-config-test-XXXXXX");
	fd = mkstemp(l->path);
	cr_assert_geq(fd, 0);
	f = fdopen(fd, "w");
	cr_assert_not_null(f);
	cr_assert_eq(fputs(text, f) >= 0, true);
	cr_assert_eq(fclose(f), 0);
	ogw_conf_defaults(&l->conf);
	l->rc = ogw_conf_load_file(&l->conf, l->path, &l->errs);
}

static inline void load_fixture(struct loaded *l, const char *path)
{
	memset(l, 0, sizeof(*l));
	ogw_conf_defaults(&l->conf);
	l->rc = ogw_conf_load_file(&l->conf, path, &l->errs);
}

static inline void loaded_free(struct loaded *l)
{
	if (l->path[0])
		unlink(l->path);
	ogw_conf_clear(&l->conf);
	ogw_conf_errors_clear(&l->errs);
}

/* Each want[i] is "line: message"; the file name is prepended. */
static inline void expect_errors(const struct ogw_conf_errors *errs, const char *file,
			  const char *const *want, size_t n)
{
	for (size_t i = 0; i < errs->n; i++)
		cr_log_info("got: %s", errs->msgs[i]);
	cr_assert_eq(errs->n, n, "expected %zu errors, got %zu", n, errs->n);
	for (size_t i = 0; i < n; i++) {
		char *full = NULL;
		cr_assert_geq(asprintf(&full, "%s:%s", file, want[i]), 0);
		cr_expect_str_eq(errs->msgs[i], full);
		free(full);
	}
}

#endif
