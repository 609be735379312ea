/* SPDX-License-Identifier: MIT */
/*
 * What the libFuzzer targets in tests/fuzz share: CHECK(), which turns a
 * broken rule into an abort libFuzzer reports as a crash (with the rule and
 * the file and line), and loading the built-in schema sets. Header only:
 * run.sh compiles each target as one file.
 */
#ifndef OGW_FUZZ_H
#define OGW_FUZZ_H

#include <stdio.h>
#include <stdlib.h>

#include "ocppgw/ocpp.h"
#include "ocppgw/schema.h"

#define CHECK(cond, ...)                                                          \
	do {                                                                      \
		if (!(cond)) {                                                    \
			fprintf(stderr, "%s:%d: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                             \
			fputc('\n', stderr);                                      \
			abort();                                                  \
		}                                                                 \
	} while (0)

/* The built-in schemas of every version into @sets (aborts on failure). */
static inline void fuzz_load_schemas(struct ogw_schema_set *sets[OGW_OCPP_COUNT])
{
	for (int v = 0; v < OGW_OCPP_COUNT; v++) {
		char err[256] = "";
		int rc = ogw_schema_set_load_builtin((enum ogw_ocpp)v, &sets[v], err, sizeof(err));
		CHECK(rc == 0, "loading the built-in schemas of %s: %s",
		      ogw_ocpp_name((enum ogw_ocpp)v), err);
	}
}

#endif
