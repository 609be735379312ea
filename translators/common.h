/* SPDX-License-Identifier: MIT */
/*
 * Private to translators/: what every pair's file uses. The table lookup
 * (tables are arrays of structs whose first member is the action name,
 * sorted by it; unit tests check the order) and the local answers.
 */
#ifndef OCPPGW_TR_COMMON_H
#define OCPPGW_TR_COMMON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "ocppgw/translator.h"

/* How a configuration key's value is written in each version. */
enum ogw_cfg_form {
	OGW_CFG_PLAIN = 0,     /* the same text both ways */
	OGW_CFG_HEX,           /* hex in 1.6, the text itself in 2.0.1 */
	OGW_CFG_PER_CONNECTOR, /* a 1.6 list "0.RST, 1.RTS": entry n is EVSE n's
	                          variable, entry 0 the ChargingStation's */
};

/* One row of translators/config_keys.def: a 1.6 configuration key and the
 * 2.0.1 device-model variable it is, the same for both directions. */
struct ogw_cfg_key {
	const char *key;        /* 1.6 key */
	const char *component;  /* 2.0.1 component.name */
	const char *variable;   /* 2.0.1 variable.name */
	const char *instance;   /* variable.instance, or NULL */
	enum ogw_cfg_form form;
	bool readonly;          /* told to a 1.6 central system when unknown */
};

extern const struct ogw_cfg_key ogw_cfg_keys[];
extern const size_t ogw_cfg_n_keys;

/* The row of 1.6 key @key (case-insensitive, 1.6 keys are CiString50), or NULL. */
const struct ogw_cfg_key *ogw_cfg_by_key(const char *key);
/*
 * The row of 2.0.1 component @component (its name; for a per-connector row
 * "ChargingStation" stands for connector 0) and variable @name/@instance,
 * or NULL. *ret_known tells whether the component has any row (NULL: not
 * asked), so a caller can tell UnknownComponent from UnknownVariable.
 */
const struct ogw_cfg_key *ogw_cfg_by_variable(const char *component, const char *name,
					      const char *instance, bool *ret_known);

/* The element of @table (@n elements of @size bytes) named @name, or NULL. */
const void *ogw_tr_table_find(const void *table, size_t n, size_t size, const char *name);

/* Answers the CALL at once with @payload (taken); -ENOMEM when it is NULL. */
int ogw_tr_out_answer(struct ogw_tr_out *out, json_t *payload);
/* The same with {"status": @status}. */
int ogw_tr_out_status(struct ogw_tr_out *out, const char *status);

#endif
