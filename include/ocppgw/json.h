/* SPDX-License-Identifier: MIT */
/*
 * A fast parser for the JSON of OCPP frames and stored values (src/json/quick.c): the tree
 * json_loadb(buf, len, JSON_REJECT_DUPLICATES) would make, or NULL when
 * the text is outside the subset it takes (or wrong, or memory ran out):
 * the caller then parses it with jansson, which also names what is wrong.
 */
#ifndef OGW_JSON_H
#define OGW_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

json_t *ogw_json_quick(const char *buf, size_t len);

/* jansson's small blocks from a pool of size classes (src/json/alloc.c),
 * for the gateway process: true once on (false: it stays off, as under
 * AddressSanitizer, or no address range could be reserved). Call it
 * before the second thread starts. */
bool ogw_json_pool_start(void);
/* Whether @p is one of the pool's blocks (for tests). */
bool ogw_json_pool_owns(const void *p);
/* json_dumps(@v, @flags) in memory the caller frees with free(), pool or
 * not: code outside src/json calls this, never json_dumps() itself. */
char *ogw_json_text(const json_t *v, size_t flags);

#endif
