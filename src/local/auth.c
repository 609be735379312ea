/* SPDX-License-Identifier: MIT */
/*
 * Authorization as the local CSMS: the decision for a token (the CSMS's
 * local list, its cache, the configured list, then the policy for unknown
 * ids), and keeping list and cache in step with what the CSMS says while
 * the gateway relays (S16 §3.5: the cache holds the last IdTagInfo of
 * Authorize, Start and Stop; the list changes only through SendLocalList,
 * has priority, and its ids stay out of the cache). The store keeps one
 * version-neutral record per token; this file converts it per version.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "internal.h"
#include "ocppgw/log.h"
#include "ocppgw/local.h"
#include "ocppgw/store.h"
#include "ocppgw/util.h"

#define LIST_VERSION_KEY "auth.list_version"
#define TOKEN_MAX 255          /* 2.1 IdTokenType.idToken; longer is not a token */
#define PARENT_TAG_MAX_16 20   /* 1.6 parentIdTag is a CiString20 */

/* 1.6 AuthorizationStatus; 2.x adds the rest of AuthorizationStatusEnumType. */
static const char *const statuses[] = {
	"Accepted", "Blocked", "Expired", "Invalid", "ConcurrentTx",
	"NoCredit", "NotAllowedTypeEVSE", "NotAtThisLocation", "NotAtThisTime", "Unknown",
};
#define STATUSES_16 5

/* @status as @ver spells it: a status the version lacks becomes Invalid. */
static const char *status_for(enum ogw_ocpp ver, const char *status)
{
	size_t n = ver == OGW_OCPP16 ? STATUSES_16 : sizeof(statuses) / sizeof(statuses[0]);

	for (size_t i = 0; status && i < n; i++)
		if (strcmp(status, statuses[i]) == 0)
			return statuses[i];
	return "Invalid";
}

/* Field names of the token info per version. */
struct info_names {
	const char *info;      /* in a response: idTagInfo / idTokenInfo */
	const char *expiry;
	const char *group;
};

static const struct info_names names_16 = { "idTagInfo", "expiryDate", "parentIdTag" };
static const struct info_names names_2x = { "idTokenInfo", "cacheExpiryDateTime", "groupIdToken" };

static const struct info_names *names_of(enum ogw_ocpp ver)
{
	return ver == OGW_OCPP16 ? &names_16 : &names_2x;
}

const char *ogw_local_token_of(enum ogw_ocpp ver, const json_t *req)
{
	const json_t *t = json_object_get(req, "idTag");

	if (ver != OGW_OCPP16)
		t = json_object_get(json_object_get(req, "idToken"), "idToken");
	const char *s = json_string_value(t);
	return s && *s && strlen(s) <= TOKEN_MAX ? s : NULL;
}

json_t *ogw_local_info_from(enum ogw_ocpp ver, const json_t *tag_info, int64_t *ret_expires)
{
	const struct info_names *n = names_of(ver);
	const char *status = json_string_value(json_object_get(tag_info, "status"));
	const char *expiry = json_string_value(json_object_get(tag_info, n->expiry));
	const json_t *group = json_object_get(tag_info, n->group);
	int64_t expires = 0;

	if (!status)
		return NULL;
	json_t *info = json_pack("{s:s}", "status", status);
	if (!info)
		return NULL;
	if (expiry && ogw_time_parse_rfc3339(expiry, &expires) == 0)
		json_object_set_new(info, "expiry", json_string(expiry));
	if (ver != OGW_OCPP16) {
		const char *type = json_string_value(json_object_get(group, "type"));
		if (type)
			json_object_set_new(info, "group_type", json_string(type));
		group = json_object_get(group, "idToken");
	}
	if (json_string_value(group))
		json_object_set_new(info, "group", json_string(json_string_value(group)));
	*ret_expires = expires;
	return info;
}

/* The neutral record @info as @ver's idTagInfo / idTokenInfo. */
static json_t *info_to(enum ogw_ocpp ver, const json_t *info)
{
	const struct info_names *n = names_of(ver);
	const char *expiry = json_string_value(json_object_get(info, "expiry"));
	const char *group = json_string_value(json_object_get(info, "group"));
	const char *group_type = json_string_value(json_object_get(info, "group_type"));

	json_t *out = json_pack("{s:s}", "status",
				status_for(ver, json_string_value(json_object_get(info, "status"))));
	if (!out)
		return NULL;
	if (expiry)
		json_object_set_new(out, n->expiry, json_string(expiry));
	if (group && ver == OGW_OCPP16 && strlen(group) <= PARENT_TAG_MAX_16)
		json_object_set_new(out, n->group, json_string(group));
	else if (group && ver != OGW_OCPP16 && strlen(group) <= 36)
		json_object_set_new(out, n->group, json_pack("{s:s, s:s}", "idToken", group,
							     "type", group_type ? group_type : "Central"));
	return out;
}

/* The configured entry for @token as a neutral record, or NULL. */
static json_t *conf_entry(const struct ogw_conf *conf, const char *token, int64_t *ret_expires)
{
	for (size_t i = 0; conf && i < conf->n_local_list; i++) {
		const struct ogw_local_entry *e = &conf->local_list[i];
		if (strcmp(e->token, token) != 0)
			continue;
		json_t *info = json_pack("{s:s}", "status", e->status ? e->status : "Accepted");
		if (info && e->expiry && ogw_time_parse_rfc3339(e->expiry, ret_expires) == 0)
			json_object_set_new(info, "expiry", json_string(e->expiry));
		if (info && e->group)
			json_object_set_new(info, "group", json_string(e->group));
		return info;
	}
	return NULL;
}

json_t *ogw_local_authorize(const struct ogw_local_ctx *ctx, const char *token, int *ret_err)
{
	int64_t expires = 0, now = (int64_t)time(NULL);
	json_t *info = NULL, *out = NULL;
	int err = 0;

	json_t *cached = NULL;
	int64_t cache_expires = 0;
	err = ogw_store_auth_get_both(ctx->store, ctx->charger, token, &info, &expires, &cached,
				      &cache_expires);
	if (err)
		goto out;
	/* The local list first; an expired cache entry is no answer: the
	 * token counts as unknown. */
	if (!info && cached && !(cache_expires && cache_expires <= now)) {
		info = cached;
		cached = NULL;
		expires = cache_expires;
	}
	json_decref(cached);
	if (!info)
		info = conf_entry(ctx->conf, token, &expires);
	if (!info) {
		/* 1.6 AllowOfflineTxForUnknownId / 2.x OfflineTxForUnknownIdEnabled */
		bool accept = ctx->conf && ctx->conf->offline_accept_unknown;
		info = json_pack("{s:s}", "status", accept ? "Accepted" : "Unknown");
	}
	if (!info) {
		err = -ENOMEM;
		goto out;
	}
	/* Offline, an expired id MUST be rejected (S16 §3.5). */
	const char *status = json_string_value(json_object_get(info, "status"));
	if (expires && expires <= now && status && strcmp(status, "Accepted") == 0)
		json_object_set_new(info, "status", json_string("Expired"));
	out = info_to(ctx->ver, info);
	if (!out)
		err = -ENOMEM;
out:
	json_decref(info);
	if (ret_err)
		*ret_err = err;
	return out;
}

/* ---- keeping list and cache in step with the CSMS ------------------------ */

/* The neutral record of the idTagInfo / idTokenInfo inside @holder. */
static json_t *info_in(const struct ogw_local_ctx *ctx, const json_t *holder, int64_t *ret_expires)
{
	return ogw_local_info_from(ctx->ver, json_object_get(holder, names_of(ctx->ver)->info),
				   ret_expires);
}

typedef int observe_fn(const struct ogw_local_ctx *ctx, const json_t *req, const json_t *res);

/* The idTagInfo / idTokenInfo of a CSMS answer goes into the cache, unless
 * the token is on the local list. */
static int observe_tag_info(const struct ogw_local_ctx *ctx, const json_t *req, const json_t *res)
{
	const char *token = ogw_local_token_of(ctx->ver, req);
	int64_t expires = 0;
	int err = 0;

	if (!token)
		return 0;
	json_t *info = info_in(ctx, res, &expires);
	if (!info)
		return 0;
	/* The same answer again (the common case) costs one read, not a write
	 * and a commit on the relay's path. */
	json_t *listed = NULL, *had = NULL;
	int64_t listed_expires, had_expires;
	err = ogw_store_auth_get_both(ctx->store, ctx->charger, token, &listed, &listed_expires, &had,
				      &had_expires);
	if (listed) {
		json_decref(had);
		had = NULL;
	}
	bool same = had && had_expires == expires && json_equal(had, info);
	if (!listed && !err && !same)
		err = ogw_store_auth_put(ctx->store, ctx->charger, OGW_AUTH_CACHE, token, info,
					 expires);
	/* every distinct id a charger presents lands here: keep it bounded */
	if (!listed && !err && !had)
		err = ogw_store_auth_trim(ctx->store, ctx->charger, OGW_AUTH_CACHE,
					  ctx->conf ? ctx->conf->offline_cache_max : 10000);
	json_decref(had);
	json_decref(listed);
	json_decref(info);
	return err;
}

static bool accepted(const json_t *res)
{
	const char *status = json_string_value(json_object_get(res, "status"));
	return status && strcmp(status, "Accepted") == 0;
}

static const char *version_field(enum ogw_ocpp ver)
{
	return ver == OGW_OCPP16 ? "listVersion" : "versionNumber";
}

static int put_list_version(const struct ogw_local_ctx *ctx, json_int_t version)
{
	json_t *v = json_integer(version);
	int r = v ? ogw_store_kv_put(ctx->store, ctx->charger, LIST_VERSION_KEY, v) : -ENOMEM;
	json_decref(v);
	return r;
}

/* One entry of SendLocalList: with its info it is (re)placed, without it
 * (Differential) it leaves the list. */
static int list_entry(const struct ogw_local_ctx *ctx, const json_t *e)
{
	const char *token = ogw_local_token_of(ctx->ver, e);
	int64_t expires = 0;

	if (!token)
		return 0;
	json_t *info = info_in(ctx, e, &expires);
	if (!info)
		return ogw_store_auth_del(ctx->store, ctx->charger, OGW_AUTH_LIST, token);
	int r = ogw_store_auth_put(ctx->store, ctx->charger, OGW_AUTH_LIST, token, info, expires);
	json_decref(info);
	/* the list has priority, and its ids are never cached */
	return r < 0 ? r : ogw_store_auth_del(ctx->store, ctx->charger, OGW_AUTH_CACHE, token);
}

static int observe_send_list(const struct ogw_local_ctx *ctx, const json_t *req, const json_t *res)
{
	const char *type = json_string_value(json_object_get(req, "updateType"));
	const json_t *entries = json_object_get(req, "localAuthorizationList"), *e;
	size_t i;
	int r = 0;

	if (!accepted(res) || !type)
		return 0;
	if (strcmp(type, "Full") == 0)
		r = ogw_store_auth_clear(ctx->store, ctx->charger, OGW_AUTH_LIST);
	json_array_foreach(entries, i, e)
		if (r == 0)
			r = list_entry(ctx, e);
	if (r == 0)
		r = put_list_version(ctx, json_integer_value(json_object_get(req, version_field(ctx->ver))));
	return r;
}

/* The charger's own list version: 0 (1.6 also -1, unsupported) means it
 * holds no list, so neither can the gateway for it. */
static int observe_list_version(const struct ogw_local_ctx *ctx, const json_t *req,
				const json_t *res)
{
	const json_t *v = json_object_get(res, version_field(ctx->ver));

	(void)req;
	if (!json_is_integer(v))
		return 0;
	int r = json_integer_value(v) > 0 ? 0
					  : ogw_store_auth_clear(ctx->store, ctx->charger, OGW_AUTH_LIST);
	return r < 0 ? r : put_list_version(ctx, json_integer_value(v));
}

static int observe_clear_cache(const struct ogw_local_ctx *ctx, const json_t *req,
			       const json_t *res)
{
	(void)req;
	return accepted(res) ? ogw_store_auth_clear(ctx->store, ctx->charger, OGW_AUTH_CACHE) : 0;
}

static const struct observer {
	const char *action;
	bool from_charger;
	observe_fn *fn;
} observers[] = {
	{ "Authorize", true, observe_tag_info },
	{ "StartTransaction", true, observe_tag_info },
	{ "StopTransaction", true, observe_tag_info },
	{ "TransactionEvent", true, observe_tag_info },
	{ "SendLocalList", false, observe_send_list },
	{ "GetLocalListVersion", false, observe_list_version },
	{ "ClearCache", false, observe_clear_cache },
};

void ogw_local_observe(const struct ogw_local_ctx *ctx, bool from_charger, const char *action,
		       const json_t *req, const json_t *res)
{
	if (!ctx || !ctx->store || !ctx->charger || !action || !json_is_object(req) ||
	    !json_is_object(res))
		return;
	for (size_t i = 0; i < sizeof(observers) / sizeof(observers[0]); i++) {
		const struct observer *o = &observers[i];
		if (o->from_charger != from_charger || strcmp(o->action, action) != 0)
			continue;
		int r = o->fn(ctx, req, res);
		if (r < 0) {
			struct ogw_log_ctx lc = { .charger = ctx->charger, .action = action };
			ogw_err(&lc, "Failed to record the CSMS's authorization data: %s",
				strerror(-r));
		}
		return;
	}
}
