/* SPDX-License-Identifier: MIT */
/*
 * A fast parser for the JSON of OCPP frames and stored values (src/json/quick.c): the tree
 * json_loadb(buf, len, JSON_REJECT_DUPLICATES) would make, or NULL when
 * the text is outside the subset it takes (or wrong, or memory ran out):
 * the caller then parses it with jansson, which also names what is wrong.
 */
#ifndef OGW_JSON_H
#define OGW_JSON_H

#include <stddef.h>

#include <jansson.h>

json_t *ogw_json_quick(const char *buf, size_t len);

#endif
