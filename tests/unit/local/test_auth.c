/* SPDX-License-Identifier: MIT */
/*
 * Authorization as the local CSMS: precedence (the CSMS's list, its cache,
 * the configured list, the policy for unknown ids), expiry, the status
 * spellings of each version, and list and cache following what the CSMS
 * says (SendLocalList Full and Differential, GetLocalListVersion,
 * ClearCache, idTagInfo / idTokenInfo in answers).
 */
#include <string.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "ocppgw/local.h"
#include "ocppgw/store.h"

#include "helpers.h"

static void conf_entry(struct fixture *f, const char *token, const char *status,
		       const char *expiry, const char *group)
{
	struct ogw_local_entry *grown = realloc(f->conf.local_list,
						(f->conf.n_local_list + 1) * sizeof(*grown));
	cr_assert_not_null(grown);
	f->conf.local_list = grown;
	grown[f->conf.n_local_list++] = (struct ogw_local_entry){
		.token = strdup(token), .status = strdup(status),
		.expiry = expiry ? strdup(expiry) : NULL, .group = group ? strdup(group) : NULL,
	};
}

/* Authorize @token in @ctx's version: the idTagInfo / idTokenInfo. */
static json_t *authorize(const struct ogw_local_ctx *ctx, const char *token)
{
	char text[160];
	enum ogw_err err = OGW_ERR_NONE;

	if (ctx->ver == OGW_OCPP16)
		snprintf(text, sizeof(text), "{\"idTag\": \"%s\"}", token);
	else
		snprintf(text, sizeof(text), "{\"idToken\": {\"idToken\": \"%s\", \"type\": \"ISO14443\"}}",
			 token);
	json_t *req = J(text);
	json_t *res = ogw_local_answer(ctx, "Authorize", req, &err, NULL, 0);
	cr_assert_not_null(res, "Authorize %s", token);
	json_t *info = json_incref(json_object_get(res, ctx->ver == OGW_OCPP16 ? "idTagInfo"
									       : "idTokenInfo"));
	cr_assert_not_null(info);
	json_decref(res);
	json_decref(req);
	return info;
}

static void expect_status(const struct ogw_local_ctx *ctx, const char *token, const char *want)
{
	json_t *info = authorize(ctx, token);
	cr_expect_str_eq(json_string_value(json_object_get(info, "status")), want, "%s in %s",
			 token, ogw_ocpp_name(ctx->ver));
	json_decref(info);
}

/* The CSMS answered Authorize for @token with @status (1.6 wording). */
static void csms_authorized(const struct ogw_local_ctx *ctx, const char *token,
			    const char *status, const char *expiry)
{
	char req[128], res[256];

	snprintf(req, sizeof(req), "{\"idTag\": \"%s\"}", token);
	if (expiry)
		snprintf(res, sizeof(res), "{\"idTagInfo\": {\"status\": \"%s\", \"expiryDate\": \"%s\"}}",
			 status, expiry);
	else
		snprintf(res, sizeof(res), "{\"idTagInfo\": {\"status\": \"%s\"}}", status);
	json_t *q = J(req), *a = J(res);
	ogw_local_observe(ctx, true, "Authorize", q, a);
	json_decref(q);
	json_decref(a);
}

static void send_list(const struct ogw_local_ctx *ctx, const char *req, const char *status)
{
	char res[64];

	snprintf(res, sizeof(res), "{\"status\": \"%s\"}", status);
	json_t *q = J(req), *a = J(res);
	ogw_local_observe(ctx, false, "SendLocalList", q, a);
	json_decref(q);
	json_decref(a);
}

static json_int_t list_version(struct fixture *f)
{
	json_t *v = ogw_store_kv_get(f->store, "CP1", "auth.list_version", NULL);
	json_int_t n = json_is_integer(v) ? json_integer_value(v) : -100;
	json_decref(v);
	return n;
}

Test(auth, precedence_list_then_cache_then_config_then_policy)
{
	struct fixture f;

	fixture_open(&f);
	struct ogw_local_ctx ctx = fixture_ctx(&f, OGW_OCPP16);
	conf_entry(&f, "T", "Blocked", NULL, NULL);
	expect_status(&ctx, "T", "Blocked");            /* config */
	csms_authorized(&ctx, "T", "Accepted", NULL);
	expect_status(&ctx, "T", "Accepted");           /* cache over config */
	send_list(&ctx, "{\"listVersion\": 3, \"updateType\": \"Differential\","
		  " \"localAuthorizationList\": [{\"idTag\": \"T\", \"idTagInfo\": {\"status\": \"Invalid\"}}]}",
		  "Accepted");
	expect_status(&ctx, "T", "Invalid");            /* list over cache */
	cr_assert_eq(ogw_store_auth_count(f.store, "CP1", OGW_AUTH_CACHE), 0,
		     "a listed id leaves the cache");
	/* and a later CSMS answer for it does not enter the cache */
	csms_authorized(&ctx, "T", "Accepted", NULL);
	cr_assert_eq(ogw_store_auth_count(f.store, "CP1", OGW_AUTH_CACHE), 0);

	/* policy for unknown ids, per version */
	expect_status(&ctx, "NOBODY", "Invalid");
	ctx.ver = OGW_OCPP201;
	expect_status(&ctx, "NOBODY", "Unknown");
	f.conf.offline_accept_unknown = true;
	expect_status(&ctx, "NOBODY", "Accepted");
	ctx.ver = OGW_OCPP16;
	expect_status(&ctx, "NOBODY", "Accepted");
	expect_status(&ctx, "T", "Invalid");
	/* another charger has its own list and cache */
	ctx.charger = "CP2";
	expect_status(&ctx, "T", "Blocked");
	fixture_close(&f);
}

Test(auth, expiry)
{
	struct fixture f;

	fixture_open(&f);
	struct ogw_local_ctx ctx = fixture_ctx(&f, OGW_OCPP16);
	/* an expired cache entry is no answer: the config decides */
	conf_entry(&f, "OLDCACHE", "Blocked", NULL, NULL);
	csms_authorized(&ctx, "OLDCACHE", "Accepted", "2020-01-01T00:00:00Z");
	expect_status(&ctx, "OLDCACHE", "Blocked");
	/* expired configured and listed entries are Expired */
	conf_entry(&f, "OLDCONF", "Accepted", "2020-01-01T00:00:00Z", NULL);
	expect_status(&ctx, "OLDCONF", "Expired");
	send_list(&ctx, "{\"listVersion\": 1, \"updateType\": \"Full\", \"localAuthorizationList\": ["
		  "{\"idTag\": \"OLDLIST\", \"idTagInfo\": {\"status\": \"Accepted\","
		  " \"expiryDate\": \"2020-01-01T00:00:00Z\"}},"
		  "{\"idTag\": \"NEWLIST\", \"idTagInfo\": {\"status\": \"Accepted\","
		  " \"expiryDate\": \"2099-01-01T00:00:00Z\", \"parentIdTag\": \"FLEET\"}}]}", "Accepted");
	expect_status(&ctx, "OLDLIST", "Expired");
	json_t *info = authorize(&ctx, "NEWLIST");
	cr_assert_str_eq(json_string_value(json_object_get(info, "status")), "Accepted");
	cr_assert_str_eq(json_string_value(json_object_get(info, "expiryDate")), "2099-01-01T00:00:00Z");
	cr_assert_str_eq(json_string_value(json_object_get(info, "parentIdTag")), "FLEET");
	json_decref(info);

	/* the same record answered in 2.0.1: cacheExpiryDateTime, groupIdToken */
	ctx.ver = OGW_OCPP201;
	info = authorize(&ctx, "NEWLIST");
	cr_assert_str_eq(json_string_value(json_object_get(info, "cacheExpiryDateTime")),
			 "2099-01-01T00:00:00Z");
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(info, "groupIdToken"),
				"idToken")), "FLEET");
	json_decref(info);
	/* a valid configured expiry and group travel too */
	conf_entry(&f, "CONFOK", "Accepted", "2099-01-01T00:00:00Z", "G1");
	info = authorize(&ctx, "CONFOK");
	cr_assert_str_eq(json_string_value(json_object_get(info, "status")), "Accepted");
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(info, "groupIdToken"),
				"idToken")), "G1");
	json_decref(info);
	fixture_close(&f);
}

Test(auth, statuses_a_version_lacks_become_invalid)
{
	struct fixture f;

	fixture_open(&f);
	struct ogw_local_ctx ctx = fixture_ctx(&f, OGW_OCPP201);
	json_t *q = J("{\"idToken\": {\"idToken\": \"POOR\", \"type\": \"ISO14443\"}}");
	json_t *a = J("{\"idTokenInfo\": {\"status\": \"NoCredit\","
		      " \"groupIdToken\": {\"idToken\": \"G\", \"type\": \"Local\"}}}");
	ogw_local_observe(&ctx, true, "Authorize", q, a);
	expect_status(&ctx, "POOR", "NoCredit");
	json_t *info = authorize(&ctx, "POOR");
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(info, "groupIdToken"),
				"type")), "Local", "the group's type is kept");
	json_decref(info);
	ctx.ver = OGW_OCPP16;
	expect_status(&ctx, "POOR", "Invalid");
	json_decref(q);
	json_decref(a);
	fixture_close(&f);
}

Test(auth, send_local_list_full_differential_and_version)
{
	struct fixture f;

	fixture_open(&f);
	struct ogw_local_ctx ctx = fixture_ctx(&f, OGW_OCPP16);
	send_list(&ctx, "{\"listVersion\": 1, \"updateType\": \"Full\", \"localAuthorizationList\": ["
		  "{\"idTag\": \"A\", \"idTagInfo\": {\"status\": \"Accepted\"}},"
		  "{\"idTag\": \"B\", \"idTagInfo\": {\"status\": \"Blocked\"}}]}", "Accepted");
	cr_assert_eq(ogw_store_auth_count(f.store, "CP1", OGW_AUTH_LIST), 2);
	cr_assert_eq(list_version(&f), 1);

	/* refused updates change nothing */
	send_list(&ctx, "{\"listVersion\": 2, \"updateType\": \"Full\"}", "VersionMismatch");
	send_list(&ctx, "{\"listVersion\": 2, \"updateType\": \"Full\"}", "Failed");
	cr_assert_eq(ogw_store_auth_count(f.store, "CP1", OGW_AUTH_LIST), 2);
	cr_assert_eq(list_version(&f), 1);

	/* Differential: an entry without idTagInfo leaves, others are replaced or added */
	send_list(&ctx, "{\"listVersion\": 2, \"updateType\": \"Differential\", \"localAuthorizationList\": ["
		  "{\"idTag\": \"A\"}, {\"idTag\": \"B\", \"idTagInfo\": {\"status\": \"Accepted\"}},"
		  "{\"idTag\": \"C\", \"idTagInfo\": {\"status\": \"Accepted\"}}]}", "Accepted");
	cr_assert_eq(ogw_store_auth_count(f.store, "CP1", OGW_AUTH_LIST), 2);
	cr_assert_eq(list_version(&f), 2);
	expect_status(&ctx, "A", "Invalid");
	expect_status(&ctx, "B", "Accepted");

	/* Full replaces the whole list */
	send_list(&ctx, "{\"listVersion\": 3, \"updateType\": \"Full\", \"localAuthorizationList\": ["
		  "{\"idTag\": \"D\", \"idTagInfo\": {\"status\": \"Accepted\"}}]}", "Accepted");
	cr_assert_eq(ogw_store_auth_count(f.store, "CP1", OGW_AUTH_LIST), 1);
	expect_status(&ctx, "B", "Invalid");
	expect_status(&ctx, "D", "Accepted");
	/* an empty Full list empties it */
	send_list(&ctx, "{\"listVersion\": 4, \"updateType\": \"Full\"}", "Accepted");
	cr_assert_eq(ogw_store_auth_count(f.store, "CP1", OGW_AUTH_LIST), 0);
	cr_assert_eq(list_version(&f), 4);

	/* 2.0.1 spelling */
	ctx.ver = OGW_OCPP201;
	send_list(&ctx, "{\"versionNumber\": 7, \"updateType\": \"Full\", \"localAuthorizationList\": ["
		  "{\"idToken\": {\"idToken\": \"E\", \"type\": \"ISO14443\"},"
		  " \"idTokenInfo\": {\"status\": \"Blocked\"}}]}", "Accepted");
	cr_assert_eq(list_version(&f), 7);
	expect_status(&ctx, "E", "Blocked");

	/* GetLocalListVersion: the charger's version; 0 means it holds none */
	json_t *q = json_object(), *a = J("{\"versionNumber\": 0}");
	ogw_local_observe(&ctx, false, "GetLocalListVersion", q, a);
	cr_assert_eq(ogw_store_auth_count(f.store, "CP1", OGW_AUTH_LIST), 0);
	cr_assert_eq(list_version(&f), 0);
	json_decref(q);
	json_decref(a);
	fixture_close(&f);
}

Test(auth, clear_cache_and_transaction_answers_feed_the_cache)
{
	struct fixture f;

	fixture_open(&f);
	struct ogw_local_ctx ctx = fixture_ctx(&f, OGW_OCPP16);
	json_t *q = J("{\"connectorId\": 1, \"idTag\": \"S\", \"meterStart\": 0,"
		      " \"timestamp\": \"2026-11-22T08:00:00Z\"}");
	json_t *a = J("{\"transactionId\": 17, \"idTagInfo\": {\"status\": \"Blocked\"}}");
	ogw_local_observe(&ctx, true, "StartTransaction", q, a);
	expect_status(&ctx, "S", "Blocked");
	json_decref(q);
	json_decref(a);

	ctx.ver = OGW_OCPP201;
	q = J("{\"eventType\": \"Started\", \"timestamp\": \"2026-11-22T08:00:00Z\","
	      " \"triggerReason\": \"Authorized\", \"seqNo\": 0,"
	      " \"transactionInfo\": {\"transactionId\": \"t\"},"
	      " \"idToken\": {\"idToken\": \"TE\", \"type\": \"ISO14443\"}}");
	a = J("{\"idTokenInfo\": {\"status\": \"Accepted\"}}");
	ogw_local_observe(&ctx, true, "TransactionEvent", q, a);
	expect_status(&ctx, "TE", "Accepted");
	cr_assert_eq(ogw_store_auth_count(f.store, "CP1", OGW_AUTH_CACHE), 2);
	json_decref(q);
	json_decref(a);

	q = json_object();
	a = J("{\"status\": \"Rejected\"}");
	ogw_local_observe(&ctx, false, "ClearCache", q, a);
	cr_assert_eq(ogw_store_auth_count(f.store, "CP1", OGW_AUTH_CACHE), 2, "Rejected clears nothing");
	json_decref(a);
	a = J("{\"status\": \"Accepted\"}");
	ogw_local_observe(&ctx, false, "ClearCache", q, a);
	cr_assert_eq(ogw_store_auth_count(f.store, "CP1", OGW_AUTH_CACHE), 0);
	expect_status(&ctx, "TE", "Unknown");
	/* a charger's ClearCache is not the CSMS's: direction matters */
	ogw_local_observe(&ctx, true, "ClearCache", q, a);
	json_decref(q);
	json_decref(a);
	fixture_close(&f);
}

Test(auth, the_cache_is_bounded_per_charger)
{
	struct fixture f;
	char token[16];

	fixture_open(&f);
	f.conf.offline_cache_max = 3;
	struct ogw_local_ctx ctx = fixture_ctx(&f, OGW_OCPP16);
	csms_authorized(&ctx, "GOOD", "Accepted", NULL);
	for (int i = 0; i < 10; i++) {
		snprintf(token, sizeof(token), "JUNK%d", i);
		csms_authorized(&ctx, token, "Invalid", NULL);
	}
	cr_assert_eq(ogw_store_auth_count(f.store, "CP1", OGW_AUTH_CACHE), 3);
	expect_status(&ctx, "GOOD", "Accepted");
	fixture_close(&f);
}
