/* SPDX-License-Identifier: MIT */
/*
 * Private to translators/: what every pair's file uses. The table lookup
 * (tables are arrays of structs whose first member is the action name,
 * sorted by it; unit tests check the order), the local answers, the
 * configuration-key rows, and the JSON and environment helpers the pairs
 * share (common.c). Nothing here knows a particular pair's rules.
 */
#ifndef OCPPGW_TR_COMMON_H
#define OCPPGW_TR_COMMON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

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

/* ---- JSON members --------------------------------------------------------
 * Read-only getters, inline and short because every translator reads
 * hundreds of members: an absent or mistyped member reads as NULL or 0. */

/* Member @key of @obj as a string (borrowed), or NULL. */
static inline const char *tr_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* Member @key of @obj as an integer, or 0. */
static inline json_int_t tr_int(const json_t *obj, const char *key)
{
	return json_integer_value(json_object_get(obj, key));
}

/* Whether @obj has member @key (of any type, null included). */
static inline bool tr_has(const json_t *obj, const char *key)
{
	return json_object_get(obj, key) != NULL;
}

/* Equal strings, or both NULL. */
static inline bool tr_same(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* Copies member @key of @from to @to when present (under @as if not NULL),
 * sharing the value. 0, or -ENOMEM. */
int ogw_tr_copy(json_t *to, const char *as, const json_t *from, const char *key);

/* One row of a value table: @from in one version is @to in the other. */
struct ogw_tr_map {
	const char *from;
	const char *to;
};

/* The @to of @from in the @n rows of @m, or @dflt (also for @from NULL). */
const char *ogw_tr_map_str(const struct ogw_tr_map *m, size_t n, const char *from,
			   const char *dflt);

/* RFC 3339 text (as every version writes dateTime) as milliseconds since
 * the epoch in *ret. 0, or -EINVAL when @s is not such a time. */
int ogw_tr_time_ms(const char *s, int64_t *ret);

/* The vendorId of Plug & Charge over 1.6 DataTransfer ("Using ISO 15118
 * Plug & Charge with OCPP 1.6", OCA): the 2.0.1 message's name is the
 * messageId, its JSON the data text. */
#define OGW_TR_PNC_VENDOR "org.openchargealliance.iso15118pnc"

/* Copies DataTransfer @from's data to @to as 1.6 wants it: a string (2.0.1
 * data is any JSON; a non-string travels as its JSON text). 0, or -ENOMEM. */
int ogw_tr_data_to16(json_t *to, const json_t *from);

/* ---- outcomes and results ------------------------------------------------ */

/* Forwards @payload as @action with @memo (both taken); -ENOMEM, with
 * @memo released, when @payload is NULL. */
int ogw_tr_forward(struct ogw_tr_out *out, const char *action, json_t *payload, json_t *memo);

/* {"status": ...} from CALLRESULT @result's status, through the @n rows of
 * @m when given (an unmapped or absent status is Rejected), in *ret. */
int ogw_tr_status_result(const json_t *result, const struct ogw_tr_map *m, size_t n,
			 json_t **ret);
/* result() of every action whose status enum is a subset of the caller's. */
int ogw_tr_result_status(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
			 json_t **ret);
/* result() of actions whose response is empty in the caller's version. */
int ogw_tr_result_empty(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
			json_t **ret);

/* ---- the environment ----------------------------------------------------- */

/*
 * ogw_tr_emit() for calls whose answer matters: when the call cannot even
 * be queued (or @payload, taken, is NULL), @done runs at once with no
 * result, so it always runs exactly once and owns the cleanup of @user.
 */
void ogw_tr_emit_then(struct ogw_tr_env *env, enum ogw_tr_dir dir, const char *action,
		      json_t *payload, ogw_tr_done_fn done, void *user);
/* ogw_tr_emit() upward for notifications nobody waits for (@payload taken,
 * NULL: nothing sent): a lost one is not an error of the message that
 * caused it (the session logs emit failures). */
void ogw_tr_emit_notify(struct ogw_tr_env *env, const char *action, json_t *payload);
/* Answers deferred CALL @p with @payload (taken); NULL, a failed
 * allocation, becomes InternalError. */
void ogw_tr_answer_later(struct ogw_tr_env *env, struct ogw_tr_pending *p, json_t *payload);
/* ogw_tr_state_put() of @value (taken) that may have failed to build:
 * -ENOMEM when it is NULL. */
int ogw_tr_state_put_new(struct ogw_tr_env *env, const char *key, json_t *value);

/* State keys "<prefix>:<id>" and "<prefix>:<n>" written into @buf (of
 * OGW_TR_KEY_MAX bytes), which is returned. */
#define OGW_TR_KEY_MAX 96
const char *ogw_tr_key_str(char buf[OGW_TR_KEY_MAX], const char *prefix, const char *id);
const char *ogw_tr_key_num(char buf[OGW_TR_KEY_MAX], const char *prefix, json_int_t n);

#endif
