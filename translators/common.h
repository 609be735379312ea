/* SPDX-License-Identifier: MIT */
/*
 * Private to translators/: what every pair's file uses. The table lookup
 * (tables are arrays of structs whose first member is the action name,
 * sorted by it; unit tests check the order) and the local answers.
 */
#ifndef OCPPGW_TR_COMMON_H
#define OCPPGW_TR_COMMON_H

#include <jansson.h>
#include <stddef.h>

#include "ocppgw/translator.h"

/* The element of @table (@n elements of @size bytes) named @name, or NULL. */
const void *ogw_tr_table_find(const void *table, size_t n, size_t size, const char *name);

/* Answers the CALL at once with @payload (taken); -ENOMEM when it is NULL. */
int ogw_tr_out_answer(struct ogw_tr_out *out, json_t *payload);
/* The same with {"status": @status}. */
int ogw_tr_out_status(struct ogw_tr_out *out, const char *status);

#endif
