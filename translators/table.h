/* SPDX-License-Identifier: MIT */
/*
 * Private to translators/: the lookup every table here uses. Tables are
 * arrays of structs whose first member is the action name (const char *),
 * sorted by it; unit tests check the order.
 */
#ifndef OCPPGW_TR_TABLE_H
#define OCPPGW_TR_TABLE_H

#include <stddef.h>

/* The element of @table (@n elements of @size bytes) named @name, or NULL. */
const void *ogw_tr_table_find(const void *table, size_t n, size_t size, const char *name);

#endif
