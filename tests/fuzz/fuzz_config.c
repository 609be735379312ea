/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the config loader (src/config): every input is a
 * config file, loaded over the defaults by ogw_conf_load_file() as the
 * gateway loads its -c file, then checked with ogw_conf_check(). A load
 * must end in 0 or -EINVAL, a refusal must say why (at least one terminated
 * message), and clearing must leave nothing behind (LeakSanitizer). The
 * file is a memfd, so the fuzzer never writes to disk. Built and run by
 * tests/fuzz/run.sh.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ocppgw/config.h"
#include "fuzz.h"

static int fd = -1;
static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fd = memfd_create("fuzz_config", 0);
	CHECK(fd >= 0, "memfd_create failed");
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return 0;
}

static void check_errors(const struct ogw_conf_errors *errs, int rc)
{
	CHECK(rc == 0 || rc == -EINVAL, "rc %d", rc);
	CHECK(rc == 0 || errs->n > 0, "refused without a message");
	for (size_t i = 0; i < errs->n; i++)
		CHECK(errs->msgs[i] && strlen(errs->msgs[i]) > 0, "empty message %zu", i);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ogw_conf c;
	struct ogw_conf_errors errs = { 0 };

	CHECK(ftruncate(fd, 0) == 0 && pwrite(fd, data, size, 0) == (ssize_t)size,
	      "writing the memfd failed");
	ogw_conf_defaults(&c);
	int rc = ogw_conf_load_file(&c, path, &errs);
	check_errors(&errs, rc);
	if (rc == 0) {
		rc = ogw_conf_check(&c, &errs);
		check_errors(&errs, rc);
	}
	ogw_conf_errors_clear(&errs);
	ogw_conf_clear(&c);
	return 0;
}
