/* SPDX-License-Identifier: MIT */
/*
 * Configuration of a 2.0.1 station for a 1.6 central system:
 * ChangeConfiguration and GetConfiguration over the device model
 * (translators/config_keys.def), the full report behind GetConfiguration
 * without keys, NotifyReport. Part of
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

/* ---- configuration (REFERENCE §4) --------------------------------------- *
 * The rows are translators/config_keys.def, shared with v16_v201.c. A 1.6
 * key with no row (BlinkRepeat, LightIntensity, the maxLimit keys) is
 * unknown to the central system; NumberOfConnectors and
 * SupportedFeatureProfiles are synthesized from a report (below). */

/* The row of a reported or read variable: station-level rows take no evse
 * and no component instance; ConnectorPhaseRotation takes the
 * ChargingStation (its entry 0) or EVSE n (entry n), in *ret_conn. */
static const struct ogw_cfg_key *config_by_variable(const json_t *component,
						   const json_t *variable, long long *ret_conn)
{
	const json_t *evse = json_object_get(component, "evse");
	const struct ogw_cfg_key *k;

	if (json_object_get(component, "instance"))
		return NULL;
	k = ogw_cfg_by_variable(tr_str(component, "name"), tr_str(variable, "name"),
				tr_str(variable, "instance"), NULL);
	if (!k)
		return NULL;
	if (k->form != OGW_CFG_PER_CONNECTOR) {
		*ret_conn = 0;
		return evse ? NULL : k;
	}
	if (!strcmp(tr_str(component, "name"), "ChargingStation")) {
		*ret_conn = 0;
		return evse ? NULL : k;
	}
	*ret_conn = json_integer_value(json_object_get(evse, "id"));
	if (*ret_conn < 1 || (json_object_get(evse, "connectorId") &&
			      json_integer_value(json_object_get(evse, "connectorId")) != 1))
		return NULL;
	return k;
}

/* {component, variable} of @k (the shape both GetVariableData and
 * SetVariableData start from); for a per-connector row, connector @conn's. */
static json_t *config_ref(const struct ogw_cfg_key *k, long long conn)
{
	json_t *v;

	if (k->form == OGW_CFG_PER_CONNECTOR && !conn)
		v = json_pack("{s:{s:s}, s:{s:s}}", "component", "name", "ChargingStation",
			      "variable", "name", k->variable);
	else if (k->form == OGW_CFG_PER_CONNECTOR)
		v = json_pack("{s:{s:s, s:{s:I}}, s:{s:s}}", "component", "name", k->component,
			      "evse", "id", (json_int_t)conn, "variable", "name", k->variable);
	else
		v = json_pack("{s:{s:s}, s:{s:s}}", "component", "name", k->component, "variable",
			      "name", k->variable);
	if (v && k->instance &&
	    json_object_set_new(json_object_get(v, "variable"), "instance",
				json_string(k->instance))) {
		json_decref(v);
		return NULL;
	}
	return v;
}

/* The station's shape as its last full report showed it ("inventory":
 * {"evses": n, "features": "Core,..."}), or NULL (a new reference). */
static json_t *inventory_get(struct ogw_tr_env *env)
{
	json_t *inv = ogw_tr_state_get(env, "inventory");
	if (inv && !json_is_integer(json_object_get(inv, "evses"))) {
		json_decref(inv);
		return NULL;
	}
	return inv;
}

/* SEC16 A00.FR.205 sets AuthorizationKey as 16-20 bytes in hex; 2.0.1
 * BasicAuthPassword is the password text itself (REFERENCE §1). Bytes that
 * are printable ASCII are that text. Other bytes have no 2.0.1 text form:
 * the station gets the hex digits themselves, the text 1.6 chargers send
 * as their password for such a key (the gateway's password record takes
 * it back as is, src/gateway/credentials.c). NULL when it is no key. */
static json_t *auth_key_decode(const char *hex)
{
	char buf[21];
	size_t n = strlen(hex);

	if (n % 2 || n < 32 || n > 40 || strspn(hex, "0123456789abcdefABCDEF") != n)
		return NULL;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned int b;
		if (sscanf(hex + 2 * i, "%2x", &b) != 1)
			return NULL;
		if (b < 0x20 || b > 0x7e)
			return json_string(hex);
		buf[i] = (char)b;
	}
	buf[n / 2] = '\0';
	return json_string(buf);
}

/* The SetVariableData in @data for EVSE @evse's variable, or NULL. */
static json_t *set_data_of(const json_t *data, long long evse)
{
	json_t *d;
	size_t i;

	json_array_foreach(data, i, d) {
		json_t *e = json_object_get(json_object_get(d, "component"), "evse");
		if (e ? json_integer_value(json_object_get(e, "id")) == evse : !evse)
			return d;
	}
	return NULL;
}

/* Appends to @data a SetVariableData per EVSE named by an entry of 1.6 list
 * @list ("0.RST, 1.RTS"), entry n being for the EVSE of 1.6 connector n in
 * connector map @map: the variable is the EVSE's, so of two connectors of
 * one EVSE the later entry wins. -EINVAL when an entry is not
 * "<connector>.<value>". */
static int per_connector_set(json_t *data, const struct ogw_cfg_key *k, const char *list,
			     const json_t *map)
{
	char *copy = strdup(list), *save = NULL, *item, *dot, *end;
	int r = copy ? 0 : -ENOMEM;

	for (item = copy ? strtok_r(copy, ",", &save) : NULL; item && !r;
	     item = strtok_r(NULL, ",", &save)) {
		long long conn, evse, c;
		json_t *d;
		while (*item == ' ')
			item++;
		for (end = item + strlen(item); end > item && end[-1] == ' ';)
			*--end = '\0';
		dot = strchr(item, '.');
		conn = dot ? strtoll(item, &end, 10) : -1;
		if (!dot || end != dot || conn < 0 || !dot[1]) {
			r = -EINVAL;
			break;
		}
		ogw_cmap_from16(map, conn, &evse, &c);
		if ((d = set_data_of(data, evse))) {
			if (json_object_set_new(d, "attributeValue", json_string(dot + 1)))
				r = -ENOMEM;
			continue;
		}
		d = config_ref(k, evse);
		if (!d || json_object_set_new(d, "attributeValue", json_string(dot + 1)) ||
		    json_array_append_new(data, d))
			r = -ENOMEM;
	}
	free(copy);
	return !r && !json_array_size(data) ? -EINVAL : r;
}

int tr201_down_change_configuration(struct ogw_tr_env *env, const json_t *payload,
				   struct ogw_tr_out *out)
{
	const struct ogw_cfg_key *k = ogw_cfg_by_key(tr_str(payload, "key"));
	const char *value = tr_str(payload, "value");
	json_t *all = json_array(), *data, *v, *map;
	int r;

	if (!all)
		return -ENOMEM;
	if (!k) {
		json_decref(all);
		return ogw_tr_out_answer(out, json_pack("{s:s}", "status", "NotSupported"));
	}
	if (k->form == OGW_CFG_PER_CONNECTOR) {
		map = tr201_cmap_get(env);
		r = map ? per_connector_set(all, k, value, map) : -ENOMEM;
		json_decref(map);
		if (r < 0) {
			json_decref(all);
			return r == -EINVAL ? ogw_tr_out_answer(out, json_pack("{s:s}", "status",
									       "Rejected"))
					    : r;
		}
		return ogw_tr_forward(out, "SetVariables", json_pack("{s:o}", "setVariableData", all),
				   NULL);
	}
	v = k->form == OGW_CFG_HEX ? auth_key_decode(value) : json_string(value);
	if (!v) {
		json_decref(all);
		return ogw_tr_out_answer(out, json_pack("{s:s}", "status", "Rejected"));
	}
	data = config_ref(k, 0);
	if (!data || json_object_set_new(data, "attributeValue", v) ||
	    json_array_append_new(all, data)) {
		json_decref(all);
		return -ENOMEM;
	}
	return ogw_tr_forward(out, "SetVariables", json_pack("{s:o}", "setVariableData", all), NULL);
}

/* 2.0.1 SetVariableStatus -> 1.6 ConfigurationStatus, in rising order of
 * how bad it is: a list key set in parts answers with its worst part.
 * UnknownComponent, UnknownVariable, NotSupportedAttributeType are
 * NotSupported. */
static const char *const config_status16[] = { "Accepted", "RebootRequired", "Rejected",
					       "NotSupported" };

int tr201_res_change_configuration(struct ogw_tr_env *env, const json_t *memo,
				  const json_t *result, json_t **ret)
{
	const json_t *item;
	size_t i, worst = 0;
	(void)env;
	(void)memo;

	json_array_foreach(json_object_get(result, "setVariableResult"), i, item) {
		const char *s = tr_str(item, "attributeStatus");
		size_t rank = N(config_status16) - 1;
		for (size_t j = 0; s && j < N(config_status16); j++)
			if (!strcmp(config_status16[j], s))
				rank = j;
		if (rank > worst)
			worst = rank;
	}
	*ret = json_pack("{s:s}", "status", config_status16[worst]);
	return *ret ? 0 : -ENOMEM;
}

/* Appends the GetVariableData of row @k to @data: per connector, the
 * station's and each EVSE's the last report showed. */
static int config_refs(json_t *data, const struct ogw_cfg_key *k, long long evses)
{
	for (long long c = 0; c <= (k->form == OGW_CFG_PER_CONNECTOR ? evses : 0); c++)
		if (json_array_append_new(data, config_ref(k, c)))
			return -ENOMEM;
	return 0;
}

/* GetVariables for every row of the table. */
static json_t *get_variables_all(struct ogw_tr_env *env)
{
	json_t *inv = inventory_get(env), *data = json_array();
	long long evses = json_integer_value(json_object_get(inv, "evses"));

	json_decref(inv);
	for (size_t i = 0; data && i < ogw_cfg_n_keys; i++)
		if (config_refs(data, &ogw_cfg_keys[i], evses)) {
			json_decref(data);
			return NULL;
		}
	return data ? json_pack("{s:o}", "getVariableData", data) : NULL;
}

/* The keys the gateway says for the station (new reference, a list of 1.6
 * KeyValue) from inventory @inv, or NULL when it has none; the connectors
 * are those of its connector map, at least one per EVSE. */
static json_t *inventory_keys(struct ogw_tr_env *env, const json_t *inv)
{
	json_int_t evses = json_integer_value(json_object_get(inv, "evses"));
	json_t *keys, *map;
	char n[24];

	if (!inv)
		return NULL;
	map = tr201_cmap_get(env);
	if ((json_int_t)ogw_cmap_count(map) > evses)
		evses = (json_int_t)ogw_cmap_count(map);
	json_decref(map);
	keys = json_pack("[{s:s, s:b, s:O}]", "key", "SupportedFeatureProfiles", "readonly", 1,
			 "value", json_object_get(inv, "features"));
	/* a report that showed no EVSE says nothing of the connectors */
	snprintf(n, sizeof(n), "%lld", (long long)evses);
	if (keys && evses > 0 &&
	    json_array_insert_new(keys, 0, json_pack("{s:s, s:b, s:s}", "key", "NumberOfConnectors",
						     "readonly", 1, "value", n)))
		keys = (json_decref(keys), NULL);
	return keys;
}

/* The memo tr201_res_get_configuration() reads for "every key" (@keys NULL) or
 * for the keys @keys of a GetConfiguration the gateway answers in full
 * first: nothing requested is unknown yet. */
static json_t *memo_all(const json_t *keys)
{
	json_t *m = json_pack("{s:[], s:b}", "unknown", "all", 1);
	if (m && keys && json_object_set(m, "keys", (json_t *)keys))
		m = (json_decref(m), NULL);
	return m;
}

/* A 1.6 KeyValue for @k. 1.6 values are CiString500, 2.0.1 ones up to
 * 2500: longer ones are cut. */
static json_t *key_value16(const struct ogw_cfg_key *k, bool readonly, const char *value)
{
	json_t *kv = json_pack("{s:s, s:b}", "key", k->key, "readonly", readonly);
	if (kv && value && json_object_set_new(kv, "value", str_trunc(value, 500))) {
		json_decref(kv);
		return NULL;
	}
	return kv;
}

static json_t *key_find(const json_t *list, const char *key)
{
	json_t *kv;
	size_t i;

	json_array_foreach(list, i, kv)
		if (key && tr_str(kv, "key") && !strcasecmp(tr_str(kv, "key"), key))
			return kv;
	return NULL;
}

/* Adds entry "@conn.@value" to the 1.6 list of per-connector row @k in
 * KeyValue list @known (1.6 §9.1.7: "0.RST,1.RTS", written without the
 * spaces of the spec's example, as 1.6 chargers list it; either is read). */
static int list_add(json_t *known, const struct ogw_cfg_key *k, bool readonly, long long conn,
		    const char *value)
{
	json_t *kv = key_find(known, k->key);
	const char *old = tr_str(kv, "value");
	char text[520];   /* a 1.6 value holds 500 */

	if (!value)
		return 0;
	snprintf(text, sizeof(text), "%s%s%lld.%s", old ? old : "", old ? "," : "", conn, value);
	if (kv)
		return json_object_set_new(kv, "value", str_trunc(text, 500)) ? -ENOMEM : 0;
	return json_array_append_new(known, key_value16(k, readonly, text)) ? -ENOMEM : 0;
}

/* list_add() for EVSE @evse's value: an entry for each 1.6 connector of
 * the EVSE in connector map @map (entry 0 for the station's). */
static int list_add_evse(json_t *known, const struct ogw_cfg_key *k, bool readonly,
			 const json_t *map, long long evse, const char *value)
{
	bool any = false;

	if (evse <= 0)
		return list_add(known, k, readonly, 0, value);
	for (size_t i = 0; i < ogw_cmap_count(map); i++)
		if (json_integer_value(json_array_get(json_array_get(map, i), 0)) == evse) {
			any = true;
			if (list_add(known, k, readonly, (long long)i + 1, value))
				return -ENOMEM;
		}
	return any ? 0 : list_add(known, k, readonly, ogw_cmap_to16(map, evse, 1), value);
}

/* Whether @key is in the list of key names @keys. */
static bool key_named(const json_t *keys, const char *key)
{
	const json_t *k;
	size_t i;

	json_array_foreach(keys, i, k)
		if (key && !strcasecmp(json_string_value(k), key))
			return true;
	return false;
}

/* Keeps in @known only the keys of @keys (all when NULL), and adds those
 * it lacks to @unknown. */
static int keys_filter(json_t *known, json_t *unknown, const json_t *keys)
{
	const json_t *k;
	size_t i = 0;

	if (!keys)
		return 0;
	while (i < json_array_size(known)) {
		if (key_named(keys, tr_str(json_array_get(known, i), "key")))
			i++;
		else
			json_array_remove(known, i);
	}
	json_array_foreach(keys, i, k)
		if (!key_find(known, json_string_value(k)) && json_array_append(unknown, (json_t *)k))
			return -ENOMEM;
	return 0;
}

/* The answer to a GetConfiguration from @known and @unknown (new reference). */
static json_t *config_answer(const json_t *known, const json_t *unknown)
{
	json_t *res = json_object();
	if (res && ((json_array_size(known) && json_object_set(res, "configurationKey", (json_t *)known)) ||
		    (json_array_size(unknown) && json_object_set(res, "unknownKey", (json_t *)unknown))))
		res = (json_decref(res), NULL);
	return res;
}

/* Appends KeyValue list @more (taken; NULL: nothing) to @known, keys it
 * already has excepted. */
static int keys_append(json_t *known, json_t *more)
{
	json_t *kv;
	size_t i;
	int r = 0;

	json_array_foreach(more, i, kv)
		if (!key_find(known, tr_str(kv, "key")) && json_array_append(known, kv))
			r = -ENOMEM;
	json_decref(more);
	return r;
}

int tr201_res_get_configuration(struct ogw_tr_env *env, const json_t *memo,
			       const json_t *result, json_t **ret)
{
	json_t *known = json_array(), *unknown = json_deep_copy(json_object_get(memo, "unknown"));
	bool all = json_is_true(json_object_get(memo, "all"));
	json_t *item, *inv = all ? inventory_get(env) : NULL, *map = tr201_cmap_get(env);
	size_t i;
	int r = -ENOMEM;

	if (!known || !unknown || !map)
		goto out;
	json_array_foreach(json_object_get(result, "getVariableResult"), i, item) {
		long long conn;
		const struct ogw_cfg_key *k = config_by_variable(json_object_get(item, "component"),
								json_object_get(item, "variable"), &conn);
		const char *value = tr_str(item, "attributeValue");
		bool accepted = !strcmp(tr_str(item, "attributeStatus"), "Accepted");

		if (!k)
			continue;
		if (k->form == OGW_CFG_PER_CONNECTOR) {
			if (accepted && list_add_evse(known, k, k->readonly, map, conn, value))
				goto out;
			continue;
		}
		if (!accepted) {
			/* unknownKey lists requested keys; "every key" asked for none. */
			if (!all && json_array_append_new(unknown, json_string(k->key)))
				goto out;
			continue;
		}
		if (json_array_append_new(known, key_value16(k, k->readonly, value)))
			goto out;
	}
	/* a per-connector key none of whose parts was read, and the keys the
	 * gateway says for the station */
	json_array_foreach(json_object_get(memo, "lists"), i, item)
		if (!key_find(known, json_string_value(item)) && json_array_append(unknown, item))
			goto out;
	if (keys_append(known, json_deep_copy(json_object_get(memo, "synth"))) ||
	    keys_append(known, inventory_keys(env, inv)) ||
	    keys_filter(known, unknown, json_object_get(memo, "keys")) ||
	    !(*ret = config_answer(known, unknown)))
		goto out;
	r = 0;
out:
	json_decref(map);
	json_decref(inv);
	json_decref(known);
	json_decref(unknown);
	return r;
}

/*
 * GetConfiguration without keys (or with an empty list) asks for a
 * FullInventory GetBaseReport (B07) and answers from the NotifyReport parts
 * it brings (its requestId, the last part with tbc false), so the
 * central system gets every mapped key the station has, not only those
 * GetVariables could name, and the keys 1.6 requires that no variable
 * holds: NumberOfConnectors (the EVSEs the report shows, 1.6 connector n
 * being EVSE n) and SupportedFeatureProfiles (below). What the report
 * showed of the station is kept ("inventory") for later requests. The CALL
 * is deferred under "report:<requestId>" and its parts are gathered in the
 * state "report". A GetConfiguration naming one of those keys while the
 * gateway has no inventory takes the same path, answered with the keys it
 * named.
 *
 * A refused GetBaseReport (any status but Accepted, a CALLERROR, no
 * answer) falls back to one GetVariables for every row of the table;
 * when that cannot be sent or gets no answer either, the central system
 * gets a CALLERROR: an empty configurationKey list would claim the station
 * has no configuration at all. While one collection runs, another
 * GetConfiguration without keys takes the GetVariables path at once.
 */
struct report_req {                 /* user of the gateway's calls for a report */
	long long request;
	json_t *keys;               /* the keys asked for, or NULL for all */
};

static void report_req_free(struct report_req *ctx)
{
	if (ctx)
		json_decref(ctx->keys);
	free(ctx);
}

static void report_key(char *buf, size_t len, long long request)
{
	snprintf(buf, len, "report:%lld", request);
}

static struct ogw_tr_pending *report_pending(struct ogw_tr_env *env, long long request)
{
	char key[KEY_MAX];
	report_key(key, sizeof(key), request);
	return ogw_tr_pending_find(env, key);
}

/* The collection state, if it belongs to @request (a new reference). */
static json_t *report_state(struct ogw_tr_env *env, long long request)
{
	json_t *st = ogw_tr_state_get(env, "report");
	if (st && json_integer_value(json_object_get(st, "requestId")) != request) {
		json_decref(st);
		return NULL;
	}
	return st;
}

static void report_forget(struct ogw_tr_env *env, long long request)
{
	json_t *st = report_state(env, request);
	if (st)
		ogw_tr_state_del(env, "report");
	json_decref(st);
}

static void report_fallback_done(struct ogw_tr_env *env, void *user, const json_t *result)
{
	struct report_req *ctx = user;
	struct ogw_tr_pending *p = report_pending(env, ctx->request);
	json_t *memo = NULL, *ans = NULL;

	if (p && result) {
		memo = memo_all(ctx->keys);
		if (!memo || tr201_res_get_configuration(env, memo, result, &ans))
			ans = NULL;
	}
	report_req_free(ctx);
	if (!p)
		return;    /* answered by the session's timeout meanwhile */
	ogw_tr_answer(env, p, ans, result ? OGW_ERR_INTERNAL : OGW_ERR_GENERIC,
		      result ? "out of memory" :
			       "the charging station answered neither GetBaseReport nor GetVariables");
	json_decref(memo);
}

static void report_started(struct ogw_tr_env *env, void *user, const json_t *result)
{
	struct report_req *ctx = user;
	const char *status = tr_str(result, "status");
	struct ogw_tr_pending *p;
	json_t *payload;

	if (status && !strcmp(status, "Accepted")) {
		report_req_free(ctx);
		return;    /* the NotifyReport parts answer it */
	}
	report_forget(env, ctx->request);
	p = report_pending(env, ctx->request);
	if (!p) {
		report_req_free(ctx);
		return;
	}
	/* ctx goes to report_fallback_done, unless the emit fails. */
	payload = get_variables_all(env);
	if (payload &&
	    !ogw_tr_emit(env, OGW_TR_DOWN, "GetVariables", payload, report_fallback_done, ctx))
		return;
	report_req_free(ctx);
	ogw_tr_answer(env, p, NULL, OGW_ERR_GENERIC,
		      "the charging station refused GetBaseReport and GetVariables could not be sent");
}

/* The fallback as a FORWARD, when the report cannot even start. */
static int forward_all(struct ogw_tr_env *env, struct ogw_tr_out *out, const json_t *keys)
{
	return ogw_tr_forward(out, "GetVariables", get_variables_all(env), memo_all(keys));
}

/* @keys (borrowed): the keys asked for, or NULL for all. */
static int report_start(struct ogw_tr_env *env, struct ogw_tr_out *out, const json_t *keys)
{
	json_t *st = ogw_tr_state_get(env, "report"), *req;
	long long request = json_integer_value(json_object_get(st, "requestId"));
	bool busy = st && report_pending(env, request);
	struct report_req *ctx;
	char key[KEY_MAX];

	json_decref(st);
	if (busy)
		return forward_all(env, out, keys);
	request = ogw_tr_next_id(env, "requestId");
	ctx = request > 0 ? calloc(1, sizeof(*ctx)) : NULL;
	st = json_pack("{s:I, s:[], s:{}}", "requestId", (json_int_t)request, "configurationKey",
		       "seen");
	/* No id, no memory or no store: the GetVariables path needs neither. */
	if (!ctx || !st || (keys && json_object_set(st, "keys", (json_t *)keys)) ||
	    ogw_tr_state_put(env, "report", json_incref(st))) {
		json_decref(st);
		report_req_free(ctx);
		return forward_all(env, out, keys);
	}
	json_decref(st);
	ctx->request = request;
	ctx->keys = json_incref((json_t *)keys);
	req = json_pack("{s:I, s:s}", "requestId", (json_int_t)request, "reportBase",
			"FullInventory");
	if (!req || ogw_tr_emit(env, OGW_TR_DOWN, "GetBaseReport", req, report_started, ctx)) {
		report_req_free(ctx);
		ogw_tr_state_del(env, "report");
		return forward_all(env, out, keys);
	}
	/* From here ctx belongs to report_started. */
	report_key(key, sizeof(key), request);
	if (!ogw_tr_defer_keyed(env, key)) {
		ogw_tr_state_del(env, "report");
		return -ENOMEM;
	}
	out->outcome = OGW_TR_DEFER;
	return 0;
}

/* The Actual attribute of a reported variable (type defaults to Actual). */
static const json_t *actual_attribute(const json_t *item)
{
	const json_t *a;
	size_t i;

	json_array_foreach(json_object_get(item, "variableAttribute"), i, a) {
		const char *type = tr_str(a, "type");
		if (!type || !strcmp(type, "Actual"))
			return a;
	}
	return NULL;
}

/*
 * What a report shows of the station's shape, in @seen: "evses" the
 * highest EVSE id of any component, and per functional block of a 1.6
 * feature profile whether the station has it (its controller component
 * reported, and its Available variable, if reported, not false).
 */
static int report_seen(json_t *seen, const json_t *item)
{
	static const char *const blocks[] = { "LocalAuthListCtrlr", "ReservationCtrlr",
					      "SmartChargingCtrlr" };
	const json_t *comp = json_object_get(item, "component");
	const json_t *evse = json_object_get(comp, "evse");
	json_int_t id = json_integer_value(json_object_get(evse, "id"));
	const char *name = tr_str(comp, "name");

	if (id > json_integer_value(json_object_get(seen, "evses")) &&
	    json_object_set_new(seen, "evses", json_integer(id)))
		return -ENOMEM;
	if (!in_list(blocks, N(blocks), name))
		return 0;
	if (!tr_same(tr_str(json_object_get(item, "variable"), "name"), "Available"))
		return json_object_get(seen, name) ? 0
		       : json_object_set_new(seen, name, json_true()) ? -ENOMEM : 0;
	return json_object_set_new(seen, name,
				   json_boolean(!tr_same(tr_str(actual_attribute(item), "value"),
							    "false")))
		       ? -ENOMEM
		       : 0;
}

/* The inventory (new reference) from what a full report showed. Core,
 * FirmwareManagement and RemoteTrigger are functions every 2.0.1 station
 * has (B, F06, L01 in the Core certification profile); the other profiles
 * follow their functional block. */
static json_t *report_inventory(const json_t *seen)
{
	static const struct ogw_tr_map profiles[] = {
		{ "LocalAuthListCtrlr", "LocalAuthListManagement" },
		{ "ReservationCtrlr", "Reservation" },
		{ "SmartChargingCtrlr", "SmartCharging" },
	};
	char features[160] = "Core,FirmwareManagement,RemoteTrigger";

	for (size_t i = 0; i < N(profiles); i++)
		if (json_is_true(json_object_get(seen, profiles[i].from))) {
			strcat(features, ",");
			strcat(features, profiles[i].to);
		}
	return json_pack("{s:I, s:s}", "evses", json_integer_value(json_object_get(seen, "evses")),
			 "features", features);
}

/*
 * Adds the 1.6 KeyValue of every mapped variable in @report_data to @list
 * and what it shows of the station to @seen: station-level rows from the
 * station-level component (no evse, no instance, as GetVariables reads
 * it), first report of a key wins; per-connector rows from each EVSE's
 * variable. readonly is mutability ReadOnly (absent means ReadWrite); a
 * variable without a value (WriteOnly) keeps the key without one. Keys
 * come from the table, all within CiString50; values longer than
 * CiString500 are cut, as on the GetVariables path.
 */
static int report_collect(json_t *list, json_t *seen, const json_t *map,
			  const json_t *report_data)
{
	const json_t *item;
	size_t i;

	json_array_foreach(report_data, i, item) {
		const json_t *comp = json_object_get(item, "component");
		long long conn;
		const struct ogw_cfg_key *k = config_by_variable(comp, json_object_get(item, "variable"),
								&conn);
		const json_t *attr = actual_attribute(item);
		const char *mutability = tr_str(attr, "mutability");
		bool readonly = mutability && !strcmp(mutability, "ReadOnly");
		const char *value = tr_str(attr, "value");

		if (report_seen(seen, item))
			return -ENOMEM;
		if (!k || !attr)
			continue;
		if (k->form == OGW_CFG_PER_CONNECTOR) {
			/* One 1.6 key for several variables: its accessibility is
			 * 1.6's (the table's), as on the GetVariables path. */
			if (list_add_evse(list, k, k->readonly, map, conn, value))
				return -ENOMEM;
			continue;
		}
		if (key_find(list, k->key))
			continue;
		if (json_array_append_new(list, key_value16(k, readonly, value)))
			return -ENOMEM;
	}
	return 0;
}

/* The answer to the GetConfiguration a finished report collection @st
 * serves, keeping what it showed of the station (new reference). */
static json_t *report_answer(struct ogw_tr_env *env, json_t *st)
{
	json_t *list = json_object_get(st, "configurationKey"), *unknown = json_array();
	json_t *inv = report_inventory(json_object_get(st, "seen")), *ans = NULL;

	if (inv && unknown && !keys_append(list, inventory_keys(env, inv)) &&
	    !keys_filter(list, unknown, json_object_get(st, "keys")))
		ans = config_answer(list, unknown);
	if (inv)
		ogw_tr_state_put(env, "inventory", json_incref(inv));
	json_decref(inv);
	json_decref(unknown);
	return ans;
}

static int pair_cmp(const void *a, const void *b)
{
	const long long *x = a, *y = b;
	return x[0] != y[0] ? (x[0] > y[0]) - (x[0] < y[0]) : (x[1] > y[1]) - (x[1] < y[1]);
}

/* Learns into connector map @map the connectors report part @report_data
 * shows (a component's evse, connector 1 when it names none), in (evse,
 * connector) order: a full report is the station's whole picture. A
 * station with more connectors than the map holds keeps the first ones. */
static int report_learn(json_t *map, const json_t *report_data, bool *ret_changed)
{
	long long pairs[OGW_CMAP_MAX][2];
	size_t n = 0, i, j;
	const json_t *item;

	json_array_foreach(report_data, i, item) {
		const json_t *evse = json_object_get(json_object_get(item, "component"), "evse");
		long long e = json_integer_value(json_object_get(evse, "id"));
		long long c = json_integer_value(json_object_get(evse, "connectorId"));

		if (e <= 0 || e > OGW_CMAP_MAX || c > OGW_CMAP_MAX)
			continue;
		c = c < 1 ? 1 : c;
		for (j = 0; j < n && (pairs[j][0] != e || pairs[j][1] != c); j++)
			;
		if (j == n && n < N(pairs)) {
			pairs[n][0] = e;
			pairs[n++][1] = c;
		}
	}
	qsort(pairs, n, sizeof(pairs[0]), pair_cmp);
	for (i = 0; i < n; i++) {
		bool changed;
		long long id = ogw_cmap_learn(map, pairs[i][0], pairs[i][1], &changed);
		if (id == -ENOMEM)
			return -ENOMEM;
		*ret_changed = *ret_changed || changed;
	}
	return 0;
}

/*
 * NotifyReport: the gateway is the station's CSMS, so every part is answered
 * {} at once. Parts of a collection in progress are gathered; the last one
 * (tbc false) answers the GetConfiguration. A part for a collection that is
 * over (timed out) drops what was gathered for it.
 */
int tr201_up_notify_report(struct ogw_tr_env *env, const json_t *payload,
			  struct ogw_tr_out *out)
{
	long long request = json_integer_value(json_object_get(payload, "requestId"));
	struct ogw_tr_pending *p = report_pending(env, request);
	json_t *st = report_state(env, request), *list = json_object_get(st, "configurationKey");
	json_t *seen = json_object_get(st, "seen"), *map = tr201_cmap_get(env);
	bool learned = false;
	int r;

	/* Whoever asked for it, a report shows the station's connectors. */
	r = map ? report_learn(map, json_object_get(payload, "reportData"), &learned) : -ENOMEM;
	if (!r && learned)
		r = tr201_cmap_put(env, map);
	json_decref(map);
	if (r) {
		json_decref(st);
		return r;
	}
	if (!p || !json_is_array(list) || !json_is_object(seen)) {
		/* A pending without state: the GetVariables fallback answers it. */
		if (!p && st)
			ogw_tr_state_del(env, "report");
		json_decref(st);
		return ogw_tr_out_answer(out, json_object());
	}
	map = tr201_cmap_get(env);
	r = map ? report_collect(list, seen, map, json_object_get(payload, "reportData"))
		: -ENOMEM;
	json_decref(map);
	if (!r && json_is_true(json_object_get(payload, "tbc")))
		r = ogw_tr_state_put(env, "report", json_incref(st));
	else if (!r)
		ogw_tr_answer(env, p, report_answer(env, st), OGW_ERR_INTERNAL, "out of memory");
	if (r) /* a part lost: better no answer than a wrong one */
		ogw_tr_answer(env, p, NULL, OGW_ERR_INTERNAL, "the report could not be kept");
	if (r || !json_is_true(json_object_get(payload, "tbc")))
		ogw_tr_state_del(env, "report");
	json_decref(st);
	/* The station's part was fine whatever became of it here. */
	return ogw_tr_out_answer(out, json_object());
}

/* Keys 1.6 requires that no 2.0.1 variable holds: the gateway says them
 * from the station's inventory. */
static bool key_synthesized(const char *key)
{
	return !strcasecmp(key, "NumberOfConnectors") || !strcasecmp(key, "SupportedFeatureProfiles");
}

/*
 * GetConfiguration with keys -> GetVariables for the mapped keys (per
 * connector: the station's and each known EVSE's); unmapped ones are
 * unknownKey at once. NumberOfConnectors and SupportedFeatureProfiles come
 * from the inventory; without one, and for ConnectorPhaseRotation whose
 * EVSEs are unknown, the whole request takes the report path. Without
 * keys: the report above.
 */
int tr201_down_get_configuration(struct ogw_tr_env *env, const json_t *payload,
				struct ogw_tr_out *out)
{
	json_t *keys = json_object_get(payload, "key");
	json_t *inv = inventory_get(env), *synth = inventory_keys(env, inv);
	long long evses = json_integer_value(json_object_get(inv, "evses"));
	json_t *data = NULL, *unknown = NULL, *lists = NULL, *memo, *k;
	size_t i;
	int r = -ENOMEM;

	if (!json_array_size(keys)) {
		r = report_start(env, out, NULL);
		goto out;
	}
	data = json_array();
	unknown = json_array();
	lists = json_array();
	if (!data || !unknown || !lists || (inv && !synth))
		goto out;
	json_array_foreach(keys, i, k) {
		const char *name = json_string_value(k);
		const struct ogw_cfg_key *c = ogw_cfg_by_key(name);
		if (!inv && (key_synthesized(name) || (c && c->form == OGW_CFG_PER_CONNECTOR))) {
			r = report_start(env, out, keys);
			goto out;
		}
		if (key_synthesized(name)) {
			if (!key_find(synth, name) && json_array_append(unknown, k))
				goto out;
			continue;
		}
		if (c ? config_refs(data, c, evses) : json_array_append(unknown, k))
			goto out;
		if (c && c->form == OGW_CFG_PER_CONNECTOR &&
		    json_array_append_new(lists, json_string(c->key)))
			goto out;
	}
	/* the inventory's keys, as far as they were asked for (those it
	 * lacks are listed unknown by the mapped path already) */
	if (synth) {
		json_t *none = json_array();
		int e = none ? keys_filter(synth, none, keys) : -ENOMEM;
		json_decref(none);
		if (e)
			goto out;
	}
	if (!json_array_size(data)) {
		r = ogw_tr_out_answer(out, config_answer(synth, unknown));
		goto out;
	}
	memo = json_pack("{s:O, s:b, s:O, s:O}", "unknown", unknown, "all", 0, "lists", lists,
			 "synth", synth ? synth : json_null());
	r = ogw_tr_forward(out, "GetVariables", json_pack("{s:O}", "getVariableData", data), memo);
out:
	json_decref(lists);
	json_decref(synth);
	json_decref(inv);
	json_decref(data);
	json_decref(unknown);
	return r;
}
