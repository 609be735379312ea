/* SPDX-License-Identifier: MIT */
/*
 * What the files of the 2.0.1-station / 1.6-central-system translator share:
 * value conversions, ids and tokens, the durable per-charger state and the
 * connector numbering (connector_map.h) it keeps, plain answers. Part of
 * the translator whose tables are table.c; no I/O, everything goes
 * through the session's ogw_tr_* environment.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "ocppgw/ocpp.h"
#include "ocppgw/translator.h"
#include "../common.h"
#include "../connector_map.h"
#include "internal.h"
#include "../v21_adapt.h"

/* 10^m, by repeated multiplication (no libm in this layer). */
double tr201_scale10(double v, long long m)
{
	for (; m > 0 && m <= 30; m--)
		v *= 10;
	for (; m < 0 && m >= -30; m++)
		v /= 10;
	return v;
}

long long tr201_round_ll(double v)
{
	return (long long)(v < 0 ? v - 0.5 : v + 0.5);
}

/* 1.6 SampledValue.value is a decimal string. */
json_t *tr201_num_string(double v)
{
	char buf[40];
	if (v > -9e15 && v < 9e15 && v == (double)(long long)v)
		snprintf(buf, sizeof(buf), "%lld", (long long)v);
	else
		snprintf(buf, sizeof(buf), "%.15g", v);
	return json_string(buf);
}

/* ---- ids and authorization --------------------------------------------- */

/* S16 §3.9 recommends RFID UIDs in hex, so a hex idTag is taken for an
 * ISO14443 card; anything else is a central token (REFERENCE §3). */
json_t *tr201_idtoken_from16(const char *tag)
{
	size_t n = strlen(tag);
	bool hex = n > 0 && n % 2 == 0 && strspn(tag, "0123456789abcdefABCDEF") == n;
	return json_pack("{s:s, s:s}", "idToken", tag, "type", hex ? "ISO14443" : "Central");
}

/* 1.6 IdTagInfo -> 2.0.1 IdTokenInfoType. The statuses of 1.6 all exist in
 * 2.0.1 under the same names. */
json_t *tr201_idtokeninfo_from16(const json_t *info)
{
	const char *parent = tr_str(info, "parentIdTag");
	json_t *r = json_pack("{s:s}", "status", tr_str(info, "status"));

	if (!r)
		return NULL;
	if (copy_opt(r, info, "expiryDate", "cacheExpiryDateTime") ||
	    (parent && json_object_set_new(r, "groupIdToken",
					   json_pack("{s:s, s:s}", "idToken", parent,
						     "type", "Central")))) {
		json_decref(r);
		return NULL;
	}
	return r;
}

/* {"idTokenInfo": ...} from a 1.6 answer's idTagInfo, or {} without one. */
json_t *tr201_answer_with_info(const json_t *result16)
{
	json_t *info = json_object_get(result16, "idTagInfo");
	return info ? json_pack("{s:o}", "idTokenInfo", tr201_idtokeninfo_from16(info)) : json_object();
}

json_t *tr201_state_get_tx(struct ogw_tr_env *env, const char *txid)
{
	char key[KEY_MAX];
	snprintf(key, sizeof(key), "tx:%s", txid);
	return ogw_tr_state_get(env, key);
}

json_t *tr201_state_get_num(struct ogw_tr_env *env, const char *prefix, long long n)
{
	char key[KEY_MAX];
	snprintf(key, sizeof(key), "%s:%lld", prefix, n);
	return ogw_tr_state_get(env, key);
}

/* Takes @v. */
int tr201_state_put_num(struct ogw_tr_env *env, const char *prefix, long long n, json_t *v)
{
	char key[KEY_MAX];
	if (!v)
		return -ENOMEM;
	snprintf(key, sizeof(key), "%s:%lld", prefix, n);
	return ogw_tr_state_put(env, key, v);
}

int tr201_state_del_num(struct ogw_tr_env *env, const char *prefix, long long n)
{
	char key[KEY_MAX];
	snprintf(key, sizeof(key), "%s:%lld", prefix, n);
	return ogw_tr_state_del(env, key);
}

/* Takes @tx. */
int tr201_state_put_tx(struct ogw_tr_env *env, const char *txid, json_t *tx)
{
	char key[KEY_MAX];
	snprintf(key, sizeof(key), "tx:%s", txid);
	return ogw_tr_state_put(env, key, tx);
}

/* The 2.x id of 1.6 transaction @id16 (a new reference), or NULL. */
json_t *tr201_txid_of16(struct ogw_tr_env *env, long long id16)
{
	json_t *m = tr201_state_get_num(env, "tx16", id16);
	json_t *id = json_incref(json_object_get(m, "id"));
	json_decref(m);
	return json_is_string(id) ? id : (json_decref(id), NULL);
}

/* Appends @item (taken) to the list of state object @name, keeping the
 * last @keep items. */
int tr201_state_list_push(struct ogw_tr_env *env, const char *name, json_t *item, size_t keep)
{
	json_t *st = ogw_tr_state_get(env, name), *list;

	if (!st)
		st = json_object();
	list = json_object_get(st, "list");
	if (st && !json_is_array(list) && json_object_set_new(st, "list", (list = json_array())))
		list = NULL;
	if (!item || !list || json_array_append_new(list, item)) {
		json_decref(st);
		return -ENOMEM;
	}
	while (json_array_size(list) > keep)
		json_array_remove(list, 0);
	return ogw_tr_state_put(env, name, st);
}

/* ---- connector numbering ------------------------------------------------
 * The station's connectors as the central system numbers them: the map of
 * connector_map.h in the state "connectors", learned from what the station
 * names (its statuses, transactions, problems, reports), never from what
 * the central system names. */

/* The map (a new reference), empty when nothing is known; NULL on ENOMEM. */
json_t *tr201_cmap_get(struct ogw_tr_env *env)
{
	json_t *st = ogw_tr_state_get(env, "connectors");
	json_t *map = json_incref(json_object_get(st, "list"));

	json_decref(st);
	if (json_is_array(map))
		return map;
	json_decref(map);
	return json_array();
}

int tr201_cmap_put(struct ogw_tr_env *env, json_t *map)
{
	json_t *st = json_pack("{s:O}", "list", map);
	return st ? ogw_tr_state_put(env, "connectors", st) : -ENOMEM;
}

/* The 1.6 connectorId of the station's connector (@evse, @conn), learned
 * when new; a negative errno (-ERANGE: the map is full). */
long long tr201_conn16_learn(struct ogw_tr_env *env, long long evse, long long conn)
{
	json_t *map = tr201_cmap_get(env);
	bool changed = false;
	long long id = map ? ogw_cmap_learn(map, evse, conn, &changed) : -ENOMEM;
	int r;

	if (id >= 0 && changed && (r = tr201_cmap_put(env, map)))
		id = r;
	json_decref(map);
	return id;
}

/* The station's connector (@ret_evse, @ret_conn) of 1.6 connector @id16. */
void tr201_conn_of16(struct ogw_tr_env *env, long long id16, long long *ret_evse,
		    long long *ret_conn)
{
	json_t *map = tr201_cmap_get(env);

	ogw_cmap_from16(map, id16, ret_evse, ret_conn);
	json_decref(map);
}

/* The "c16" of @obj (a transaction, an "evse:<n>" record) on EVSE @evse;
 * state written before connectors were numbered has none and meant
 * connector 1 of the EVSE. */
long long tr201_c16_of(struct ogw_tr_env *env, const json_t *obj, long long evse)
{
	json_t *c16 = json_object_get(obj, "c16"), *map;
	long long id;

	if (json_is_integer(c16))
		return json_integer_value(c16);
	map = tr201_cmap_get(env);
	id = ogw_cmap_to16(map, evse, 1);
	json_decref(map);
	return id > 0 ? id : 0;
}

long long tr201_tx_c16(struct ogw_tr_env *env, const json_t *tx)
{
	return tr201_c16_of(env, tx, json_integer_value(json_object_get(tx, "evse")));
}

/* The station's connectorId of transaction @tx. */
long long tr201_tx_conn(const json_t *tx)
{
	json_t *c = json_object_get(tx, "conn");
	return json_is_integer(c) ? json_integer_value(c) : 1;
}

/* EVSE @evse's record "evse:<n>" (a new reference) when it concerns 1.6
 * connector @id16 (a transaction or a stop there), else NULL. */
json_t *tr201_evse_rec_on(struct ogw_tr_env *env, long long evse, long long id16)
{
	json_t *e = tr201_state_get_num(env, "evse", evse);

	if (e && tr201_c16_of(env, e, evse) != id16) {
		json_decref(e);
		e = NULL;
	}
	return e;
}

/* The emitted calls whose answers carry nothing for the charger (messages
 * it was already answered for); a lost answer is not retried here. */
void tr201_ignore_answer(struct ogw_tr_env *env, void *user, const json_t *result)
{
	(void)env;
	(void)user;
	(void)result;
}

/* Answers for 2.0.1-only notifications the gateway takes as the CSMS. */
int tr201_up_local_empty(struct ogw_tr_env *env, const json_t *payload,
			struct ogw_tr_out *out)
{
	(void)env;
	(void)payload;
	return ogw_tr_out_answer(out, json_object());
}

/* The 1.6 answer's data string is valid 2.0.1 "any" as it is. */


/* {status} of a 2.0.1 answer, through @map when given (statusInfo and
 * customData have no 1.6 field). */
int tr201_status_only(const json_t *result, const struct ogw_tr_map *map, size_t n,
		     json_t **ret)
{
	const char *st = tr_str(result, "status");
	*ret = json_pack("{s:s}", "status", map ? ogw_tr_map_str(map, n, st, st) : st);
	return *ret ? 0 : -ENOMEM;
}

int tr201_res_status(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
		    json_t **ret)
{
	(void)env;
	(void)memo;
	return tr201_status_only(result, NULL, 0, ret);
}

/* The station's EVSE of 1.6 connector @id16. */
long long tr201_evse_of16(struct ogw_tr_env *env, long long id16)
{
	long long evse, conn;

	tr201_conn_of16(env, id16, &evse, &conn);
	return evse;
}

/* 2.0.1 EVSEType of 1.6 connector @id16 (> 0), with its connectorId when
 * @with_conn. */
json_t *tr201_evse_obj(struct ogw_tr_env *env, long long id16, bool with_conn)
{
	long long evse, conn;

	tr201_conn_of16(env, id16, &evse, &conn);
	return with_conn ? json_pack("{s:I, s:I}", "id", (json_int_t)evse, "connectorId",
				     (json_int_t)conn)
			 : json_pack("{s:I}", "id", (json_int_t)evse);
}
