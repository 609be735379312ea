/* SPDX-License-Identifier: MIT */
/*
 * 1.6 charger, 2.0.1 CSMS: the device model over 1.6 configuration keys.
 * GetVariables, SetVariables and GetBaseReport/GetReport become
 * GetConfiguration and ChangeConfiguration through the rows of
 * translators/config_keys.def (shared with v201_v16/).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "ocppgw/translator.h"
#include "ocppgw/util.h"
#include "internal.h"

#define REPORT_CHUNK 20      /* reportData entries per NotifyReport */

/* ---- the device model over 1.6 configuration keys --------------------------- *
 * The rows are translators/config_keys.def, shared with v201_v16/. */

/* A variable as this translator reaches it: the row, and for a
 * per-connector row the connector (0: the ChargingStation component). */
struct cfg_ref {
	const struct ogw_cfg_key *k;
	json_int_t conn;
};

/*
 * The row of a 2.0.1 component/variable pair in *ret, or -ENOENT with
 * *ret_status saying why: UnknownComponent, UnknownVariable, or
 * NotSupportedAttributeType for attribute types other than Actual (1.6 keys
 * have only a value). Station-level rows take no evse and no component
 * instance; a per-connector row takes EVSE n (its connector 1, the one
 * connector a 1.6 connector is) or the ChargingStation.
 */
static int cfg_find(const json_t *data, struct cfg_ref *ret, const char **ret_status)
{
	const json_t *comp = json_object_get(data, "component");
	const json_t *var = json_object_get(data, "variable");
	const json_t *evse = json_object_get(comp, "evse");
	const char *type = tr_str(data, "attributeType");
	bool known = false;
	const struct ogw_cfg_key *k =
	    tr_has(comp, "instance")
		? NULL
		: ogw_cfg_by_variable(tr_str(comp, "name"), tr_str(var, "name"),
				      tr_str(var, "instance"), &known);

	*ret_status = known ? "UnknownVariable" : "UnknownComponent";
	if (k && k->form == OGW_CFG_PER_CONNECTOR) {
		bool station = !strcmp(tr_str(comp, "name"), "ChargingStation");
		if (station == (evse != NULL) || tr_int(evse, "id") < (station ? 0 : 1) ||
		    (tr_has(evse, "connectorId") && tr_int(evse, "connectorId") != 1)) {
			*ret_status = "UnknownComponent";
			return -ENOENT;
		}
		ret->conn = station ? 0 : tr_int(evse, "id");
	} else if (k && evse) {
		*ret_status = "UnknownComponent";
		return -ENOENT;
	} else {
		ret->conn = 0;
	}
	if (!k)
		return -ENOENT;
	if (type && strcmp(type, "Actual")) {
		*ret_status = "NotSupportedAttributeType";
		return -ENOENT;
	}
	ret->k = k;
	return 0;
}

/*
 * Entry @conn of a 1.6 per-connector list ("0.RST, 1.RTS", 1.6 §9.1
 * ConnectorPhaseRotation) into @ret. 0, or -ENOENT when the list names
 * no such connector.
 */
static int list_entry(const char *list, json_int_t conn, char ret[64])
{
	while (list && *list) {
		const char *end = strchr(list, ',');
		size_t len = end ? (size_t)(end - list) : strlen(list);
		char *dot;
		char item[64];

		while (len && *list == ' ')
			list++, len--;
		while (len && list[len - 1] == ' ')
			len--;
		if (len < sizeof(item)) {
			memcpy(item, list, len);
			item[len] = '\0';
			dot = strchr(item, '.');
			if (dot && strtoll(item, NULL, 10) == conn && dot > item) {
				snprintf(ret, 64, "%s", dot + 1);
				return 0;
			}
		}
		list = end ? end + 1 : NULL;
	}
	return -ENOENT;
}

/* A result entry echoing @data's component, variable and attributeType. */
static json_t *var_result(const json_t *data, const char *status)
{
	json_t *r = json_pack("{s:s, s:O, s:O}", "attributeStatus", status, "component",
			      json_object_get(data, "component"), "variable",
			      json_object_get(data, "variable"));
	if (r && ogw_tr_copy(r, NULL, data, "attributeType"))
		r = (json_decref(r), NULL);
	return r;
}

/* The configurationKey entry for @key in a GetConfiguration.conf, or NULL. */
static const json_t *config_key(const json_t *conf, const char *key)
{
	json_t *kv;
	size_t i;
	json_array_foreach(json_object_get(conf, "configurationKey"), i, kv)
		if (tr_str(kv, "key") && !strcasecmp(tr_str(kv, "key"), key))
			return kv;
	return NULL;
}

/* ---- GetVariables ---------------------------------------------------------- */

struct getvars_ctx {
	struct ogw_tr_pending *p;
	json_t *results;   /* getVariableResult, unmapped entries final */
	json_t *refs;      /* per entry: {"key", "conn"} or null */
};

/* The 2.0.1 value of @ref in 1.6 KeyValue @kv (borrowed: the key's text,
 * or @buf for a list entry), NULL when it has none to show. */
static const char *cfg_value(const struct cfg_ref *ref, const json_t *kv, char buf[64])
{
	if (ref->k->form == OGW_CFG_HEX)
		return NULL;   /* a password is WriteOnly in 2.0.1 */
	if (ref->k->form == OGW_CFG_PER_CONNECTOR)
		return list_entry(tr_str(kv, "value"), ref->conn, buf) ? NULL : buf;
	return tr_str(kv, "value");
}

static void getvars_done(struct ogw_tr_env *env, void *user, const json_t *result)
{
	struct getvars_ctx *ctx = user;
	json_t *rj;
	size_t i;

	json_array_foreach(ctx->refs, i, rj) {
		json_t *res = json_array_get(ctx->results, i);
		struct cfg_ref ref = { ogw_cfg_by_key(tr_str(rj, "key")), tr_int(rj, "conn") };
		const json_t *kv;
		const char *value;
		char buf[64];

		/* no answer: the mapped entries stay Rejected */
		if (!ref.k || !result)
			continue;
		kv = config_key(result, ref.k->key);
		value = kv ? cfg_value(&ref, kv, buf) : NULL;
		if (!kv || (ref.k->form == OGW_CFG_PER_CONNECTOR && !value))
			json_object_set_new(res, "attributeStatus", json_string("UnknownVariable"));
		else if (value && !json_object_set_new(res, "attributeValue", json_string(value)))
			json_object_set_new(res, "attributeStatus", json_string("Accepted"));
	}
	ogw_tr_answer_later(env, ctx->p, json_pack("{s:O}", "getVariableResult", ctx->results));
	json_decref(ctx->results);
	json_decref(ctx->refs);
	free(ctx);
}

/* Adds @key to GetConfiguration's key list @wanted unless it is there. */
static int want_key(json_t *wanted, const char *key)
{
	json_t *k;
	size_t i;
	json_array_foreach(wanted, i, k)
		if (!strcmp(json_string_value(k), key))
			return 0;
	return json_array_append_new(wanted, json_string(key)) ? -ENOMEM : 0;
}

int tr16_down_get_vars(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	struct getvars_ctx *ctx = calloc(1, sizeof(*ctx));
	json_t *wanted = json_array(), *data;
	size_t i;
	int r = -ENOMEM;

	if (!ctx || !wanted || !(ctx->results = json_array()) || !(ctx->refs = json_array()))
		goto out;
	json_array_foreach(json_object_get(p, "getVariableData"), i, data) {
		const char *status;
		struct cfg_ref ref;
		bool mapped = !cfg_find(data, &ref, &status);
		/* mapped entries stay Rejected unless the charger answers */
		if (json_array_append_new(ctx->results,
					  var_result(data, mapped ? "Rejected" : status)) ||
		    json_array_append_new(ctx->refs, mapped
							 ? json_pack("{s:s, s:I}", "key",
								     ref.k->key, "conn", ref.conn)
							 : json_null()) ||
		    (mapped && want_key(wanted, ref.k->key)))
			goto out;
	}
	if (!json_array_size(wanted)) {
		r = ogw_tr_out_answer(out, json_pack("{s:O}", "getVariableResult", ctx->results));
		goto out;
	}
	if (!(ctx->p = ogw_tr_defer(env)))
		goto out;
	out->outcome = OGW_TR_DEFER;
	ogw_tr_emit_then(env, OGW_TR_DOWN, "GetConfiguration", json_pack("{s:O}", "key", wanted),
			 getvars_done, ctx);
	ctx = NULL;
	r = 0;
out:
	if (ctx) {
		json_decref(ctx->results);
		json_decref(ctx->refs);
		free(ctx);
	}
	json_decref(wanted);
	return r;
}

/* ---- SetVariables ---------------------------------------------------------- */

struct setvars_ctx;
struct setvars_slot {
	struct setvars_ctx *ctx;
	size_t index;      /* into ctx->results */
};

struct setvars_ctx {
	struct ogw_tr_pending *p;
	json_t *results;
	size_t waiting;    /* ChangeConfiguration calls not answered yet */
	struct setvars_slot slots[];
};

static const struct ogw_tr_map config_status[] = {
	{ "Accepted", "Accepted" },
	{ "NotSupported", "UnknownVariable" },
	{ "RebootRequired", "RebootRequired" },
	{ "Rejected", "Rejected" },
};

static void setvars_done(struct ogw_tr_env *env, void *user, const json_t *result)
{
	struct setvars_slot *slot = user;
	struct setvars_ctx *ctx = slot->ctx;

	if (result)
		json_object_set_new(json_array_get(ctx->results, slot->index), "attributeStatus",
				    json_string(MAP(config_status, tr_str(result, "status"),
						    "Rejected")));
	if (--ctx->waiting)
		return;
	ogw_tr_answer_later(env, ctx->p, json_pack("{s:O}", "setVariableResult", ctx->results));
	json_decref(ctx->results);
	free(ctx);
}

/* The ChangeConfiguration for one SetVariableData, or NULL (value too long
 * for 1.6, or no memory). A per-connector key is set with the one entry
 * of its list ("2.RST": 1.6 §9.1 lists are per connector). The hex form of
 * a password is zeroed after use. */
static json_t *change_config(const struct cfg_ref *ref, const char *value)
{
	size_t len = strlen(value);
	json_t *r;
	char *hex;

	if (ref->k->form == OGW_CFG_PER_CONNECTOR) {
		char entry[96];
		if (len > 60 || strchr(value, ','))
			return NULL;
		snprintf(entry, sizeof(entry), "%lld.%s", (long long)ref->conn, value);
		return json_pack("{s:s, s:s}", "key", ref->k->key, "value", entry);
	}
	if (ref->k->form == OGW_CFG_PLAIN)
		return len <= 500 ? json_pack("{s:s, s:s}", "key", ref->k->key, "value", value)
				  : NULL;
	if (len > 250 || !(hex = malloc(2 * len + 1)))
		return NULL;
	ogw_hex_encode(value, len, hex);
	r = json_pack("{s:s, s:s}", "key", ref->k->key, "value", hex);
	ogw_memzero(hex, 2 * len + 1);
	free(hex);
	return r;
}

/* One ChangeConfiguration per variable (1.6 takes one key per request),
 * emitted in order; the answer waits for all of them. */
int tr16_down_set_vars(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	const json_t *all = json_object_get(p, "setVariableData");
	size_t n = json_array_size(all), i, nslots = 0;
	struct setvars_ctx *ctx = calloc(1, sizeof(*ctx) + n * sizeof(ctx->slots[0]));
	json_t *data, *calls = json_array();
	int r = -ENOMEM;

	if (!ctx || !calls || !(ctx->results = json_array()))
		goto out;
	json_array_foreach(all, i, data) {
		const char *status;
		struct cfg_ref ref;
		bool mapped = !cfg_find(data, &ref, &status);
		json_t *cc = mapped ? change_config(&ref, tr_str(data, "attributeValue")) : NULL;
		if (mapped && !cc)
			status = "Rejected";
		if (json_array_append_new(ctx->results, var_result(data, cc ? "Rejected" : status)))
			goto out_cc;
		if (cc) {
			ctx->slots[nslots] = (struct setvars_slot){ ctx, i };
			nslots++;
			if (json_array_append_new(calls, cc))
				goto out;
		}
		continue;
out_cc:
		json_decref(cc);
		goto out;
	}
	if (!nslots) {
		r = ogw_tr_out_answer(out, json_pack("{s:O}", "setVariableResult", ctx->results));
		goto out;
	}
	if (!(ctx->p = ogw_tr_defer(env)))
		goto out;
	out->outcome = OGW_TR_DEFER;
	ctx->waiting = nslots;
	/* the last done callback frees ctx: nothing may touch it after the loop */
	for (i = 0; i < nslots; i++)
		ogw_tr_emit_then(env, OGW_TR_DOWN, "ChangeConfiguration",
				 json_incref(json_array_get(calls, i)), setvars_done,
				 &ctx->slots[i]);
	ctx = NULL;
	r = 0;
out:
	if (ctx) {
		json_decref(ctx->results);
		free(ctx);
	}
	json_decref(calls);
	return r;
}

/* ---- GetBaseReport / GetReport ---------------------------------------------- */

struct report_ctx {
	struct ogw_tr_pending *p;
	json_t *request;   /* the GetBaseReport/GetReport request */
};

/* The component a reported variable sits on (new reference). */
static json_t *cfg_component(const struct cfg_ref *ref)
{
	if (ref->k->form != OGW_CFG_PER_CONNECTOR)
		return json_pack("{s:s}", "name", ref->k->component);
	if (!ref->conn)
		return json_pack("{s:s}", "name", "ChargingStation");
	return json_pack("{s:s, s:{s:I}}", "name", ref->k->component, "evse", "id", ref->conn);
}

/* Whether GetReport's componentVariable list (if any) selects @ref. */
static bool report_selects(const json_t *request, const struct cfg_ref *ref)
{
	const json_t *cvs = json_object_get(request, "componentVariable");
	json_t *comp = cfg_component(ref), *cv;
	bool r = !cvs;
	size_t i;

	json_array_foreach(cvs, i, cv) {
		const json_t *var = json_object_get(cv, "variable");
		const json_t *want = json_object_get(cv, "component");
		if (strcmp(tr_str(want, "name"), tr_str(comp, "name")) ||
		    (tr_has(want, "evse") && tr_int(json_object_get(want, "evse"), "id") !=
						 tr_int(json_object_get(comp, "evse"), "id")))
			continue;
		if (!var || (!strcmp(tr_str(var, "name"), ref->k->variable) &&
			     (!tr_has(var, "instance") ||
			      tr_same(tr_str(var, "instance"), ref->k->instance))))
			r = true;
	}
	json_decref(comp);
	return r;
}

static json_t *report_entry(const struct cfg_ref *ref, const char *value, bool readonly)
{
	json_t *var = json_pack("{s:s}", "name", ref->k->variable);
	json_t *attr = json_pack("{s:s, s:s}", "type", "Actual", "mutability",
				 ref->k->form == OGW_CFG_HEX ? "WriteOnly"
				 : readonly		       ? "ReadOnly"
							       : "ReadWrite");
	if (var && ref->k->instance)
		json_object_set_new(var, "instance", json_string(ref->k->instance));
	if (attr && value && ref->k->form != OGW_CFG_HEX)
		json_object_set_new(attr, "value", json_string(value));
	return json_pack("{s:o, s:o, s:[o]}", "component", cfg_component(ref), "variable", var,
			 "variableAttribute", attr);
}

/* Appends the reportData entries of 1.6 KeyValue @kv (of row @k) to @data:
 * one per connector a per-connector list names, else one. */
static int report_key(json_t *data, const json_t *request, const struct ogw_cfg_key *k,
		      const json_t *kv)
{
	bool readonly = json_is_true(json_object_get(kv, "readonly"));
	const char *list = tr_str(kv, "value");
	struct cfg_ref ref = { k, 0 };
	char buf[64];

	if (k->form != OGW_CFG_PER_CONNECTOR)
		return report_selects(request, &ref) &&
			       json_array_append_new(data, report_entry(&ref, list, readonly))
			   ? -ENOMEM
			   : 0;
	for (const char *at = list; at && *at; at = strchr(at, ',') ? strchr(at, ',') + 1 : NULL) {
		char *end;
		ref.conn = strtoll(at, &end, 10);
		if (end == at || list_entry(list, ref.conn, buf) || !report_selects(request, &ref))
			continue;
		if (json_array_append_new(data, report_entry(&ref, buf, readonly)))
			return -ENOMEM;
	}
	return 0;
}

/* The reportData of every mapped key the charger reported. */
static json_t *report_data(const json_t *request, const json_t *conf)
{
	json_t *data = json_array(), *kv;
	size_t i;

	json_array_foreach(json_object_get(conf, "configurationKey"), i, kv) {
		const struct ogw_cfg_key *k = ogw_cfg_by_key(tr_str(kv, "key"));
		if (!data)
			return NULL;
		if (k && report_key(data, request, k, kv))
			data = (json_decref(data), NULL);
	}
	return data;
}

/* P1-201 §4.6 (B07/B08): answer first, then NotifyReport in parts with
 * seqNo 0.. and tbc on every part but the last. */
static void report_done(struct ogw_tr_env *env, void *user, const json_t *result)
{
	struct report_ctx *ctx = user;
	json_t *data = result ? report_data(ctx->request, result) : NULL;
	size_t n = json_array_size(data), parts = (n + REPORT_CHUNK - 1) / REPORT_CHUNK;
	char now[32];

	ogw_tr_answer_later(env, ctx->p,
			    json_pack("{s:s}", "status",
				      !result ? "Rejected"
				      : n     ? "Accepted"
					      : "EmptyResultSet"));
	ogw_time_rfc3339(now);
	for (size_t part = 0; part < parts; part++) {
		json_t *chunk = json_array();
		for (size_t i = part * REPORT_CHUNK;
		     chunk && i < n && i < (part + 1) * REPORT_CHUNK; i++)
			if (json_array_append(chunk, json_array_get(data, i)))
				chunk = (json_decref(chunk), NULL);
		ogw_tr_emit_notify(env, "NotifyReport",
				   chunk ? json_pack("{s:O, s:s, s:I, s:b, s:o}", "requestId",
						     json_object_get(ctx->request, "requestId"),
						     "generatedAt", now, "seqNo", (json_int_t)part,
						     "tbc", part + 1 < parts, "reportData", chunk)
					 : NULL);
	}
	json_decref(data);
	json_decref(ctx->request);
	free(ctx);
}

/* Every report base shows the same thing: the configuration keys that map
 * (1.6 has no inventory beyond them). componentCriteria are not applied. */
int tr16_down_report(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	struct report_ctx *ctx = calloc(1, sizeof(*ctx));

	if (!ctx || !(ctx->request = json_deep_copy(p)) || !(ctx->p = ogw_tr_defer(env))) {
		if (ctx)
			json_decref(ctx->request);
		free(ctx);
		return -ENOMEM;
	}
	out->outcome = OGW_TR_DEFER;
	ogw_tr_emit_then(env, OGW_TR_DOWN, "GetConfiguration", json_object(), report_done, ctx);
	return 0;
}
