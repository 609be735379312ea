/* SPDX-License-Identifier: MIT */
/*
 * Every charger-initiated action of every version (read from the schema
 * definitions in schemas/src/) against the local CSMS: either an answer
 * that the built-in response schema of that version accepts, or a
 * NotSupported refusal for the few that need the back office. Also the
 * values of the answers that carry data (interval, ids, statuses).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "ocppgw/local.h"
#include "ocppgw/ocpp.h"
#include "ocppgw/schema.h"

#include "helpers.h"

static const char *const def_files[OGW_OCPP_COUNT] = {
	[OGW_OCPP16] = "ocpp16.def", [OGW_OCPP201] = "ocpp201.def", [OGW_OCPP21] = "ocpp21.def",
};

/* Requests for the actions whose answer reads them; the rest get {}. */
static const struct {
	enum ogw_ocpp ver;
	const char *action;
	const char *req;
} requests[] = {
	{ OGW_OCPP16, "Authorize", "{\"idTag\": \"TAG1\"}" },
	{ OGW_OCPP16, "StartTransaction", "{\"connectorId\": 1, \"idTag\": \"TAG1\","
	  " \"meterStart\": 1000, \"timestamp\": \"2026-11-22T08:00:00Z\"}" },
	{ OGW_OCPP16, "StopTransaction", "{\"transactionId\": 1000000001, \"idTag\": \"TAG1\","
	  " \"meterStop\": 5000, \"timestamp\": \"2026-11-22T09:00:00Z\", \"reason\": \"Local\"}" },
	{ OGW_OCPP201, "Authorize", "{\"idToken\": {\"idToken\": \"TAG1\", \"type\": \"ISO14443\"}}" },
	{ OGW_OCPP201, "TransactionEvent", "{\"eventType\": \"Started\","
	  " \"timestamp\": \"2026-11-22T08:00:00Z\", \"triggerReason\": \"Authorized\", \"seqNo\": 0,"
	  " \"transactionInfo\": {\"transactionId\": \"tx-1\"},"
	  " \"idToken\": {\"idToken\": \"TAG1\", \"type\": \"ISO14443\"},"
	  " \"evse\": {\"id\": 1, \"connectorId\": 1}}" },
	{ OGW_OCPP21, "Authorize", "{\"idToken\": {\"idToken\": \"TAG1\", \"type\": \"ISO14443\"}}" },
	{ OGW_OCPP21, "TransactionEvent", "{\"eventType\": \"Started\","
	  " \"timestamp\": \"2026-11-22T08:00:00Z\", \"triggerReason\": \"Authorized\", \"seqNo\": 0,"
	  " \"transactionInfo\": {\"transactionId\": \"tx-1\"},"
	  " \"idToken\": {\"idToken\": \"TAG1\", \"type\": \"ISO14443\"},"
	  " \"evse\": {\"id\": 1, \"connectorId\": 1}}" },
	{ OGW_OCPP21, "VatNumberValidation", "{\"vatNumber\": \"DE123456789\"}" },
};

/* Needs the back office: a contract certificate (EXI) or a chain's OCSP state. */
static const char *const refused[] = { "Get15118EVCertificate", "GetCertificateChainStatus" };

static bool is_refused(const char *action)
{
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		if (strcmp(refused[i], action) == 0)
			return true;
	return false;
}

static json_t *request_for(enum ogw_ocpp ver, const char *action)
{
	for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]); i++)
		if (requests[i].ver == ver && strcmp(requests[i].action, action) == 0)
			return J(requests[i].req);
	return json_object();
}

static struct ogw_schema_set *builtin(enum ogw_ocpp ver)
{
	struct ogw_schema_set *s = NULL;
	char err[512] = "";

	cr_assert_eq(ogw_schema_set_load_builtin(ver, &s, err, sizeof(err)), 0, "%s", err);
	return s;
}

static void check_version(enum ogw_ocpp ver, bool standalone, size_t want_actions)
{
	struct fixture f;
	struct ogw_schema_set *set = builtin(ver);
	char path[1024], line[256];
	size_t answered = 0, actions = 0;

	fixture_open(&f);
	struct ogw_local_ctx ctx = fixture_ctx(&f, ver);
	ctx.standalone = standalone;
	snprintf(path, sizeof(path), "%s/schemas/src/%s", OGW_SRC_DIR, def_files[ver]);
	FILE *def = fopen(path, "r");
	cr_assert_not_null(def, "%s", path);
	while (fgets(line, sizeof(line), def)) {
		char action[64], dir[16];
		if (sscanf(line, "message %63s %15s", action, dir) != 2 ||
		    (strcmp(dir, "up") != 0 && strcmp(dir, "both") != 0))
			continue;
		actions++;
		json_t *req = request_for(ver, action);
		if (json_object_size(req)) {
			struct ogw_schema_fault fault;
			const struct ogw_schema *rs = ogw_schema_get(set, action, false);
			cr_assert_not_null(rs, "%s %s", ogw_ocpp_name(ver), action);
			cr_assert_eq(ogw_schema_validate(rs, req, &fault), 0,
				     "test request %s %s: %s", ogw_ocpp_name(ver), action, fault.desc);
		}
		enum ogw_err err = OGW_ERR_COUNT;
		char desc[160] = "";
		json_t *res = ogw_local_answer(&ctx, action, req, &err, desc, sizeof(desc));
		if (!res) {
			cr_expect(is_refused(action), "%s %s: no answer (%s)", ogw_ocpp_name(ver),
				  action, desc);
			cr_expect_eq(err, OGW_ERR_NOT_SUPPORTED, "%s %s", ogw_ocpp_name(ver), action);
			cr_expect_neq(desc[0], '\0', "a refusal says why");
		} else {
			struct ogw_schema_fault fault;
			const struct ogw_schema *s = ogw_schema_get(set, action, true);
			char *text = json_dumps(res, JSON_COMPACT);
			cr_assert_not_null(s, "%s %s: no response schema", ogw_ocpp_name(ver), action);
			cr_expect_eq(ogw_schema_validate(s, res, &fault), 0, "%s %s answered %s: %s",
				     ogw_ocpp_name(ver), action, text, fault.desc);
			cr_expect_not(is_refused(action), "%s %s", ogw_ocpp_name(ver), action);
			free(text);
			answered++;
		}
		json_decref(res);
		json_decref(req);
	}
	fclose(def);
	cr_expect_eq(actions, want_actions, "%s: %zu charger-initiated actions in the .def",
		     ogw_ocpp_name(ver), actions);
	cr_expect_geq(answered + 2, actions);

	/* a CSMS-initiated action is nothing the charger may ask */
	enum ogw_err err = OGW_ERR_NONE;
	char desc[160] = "";
	cr_expect_null(ogw_local_answer(&ctx, "Reset", NULL, &err, desc, sizeof(desc)));
	cr_expect_eq(err, OGW_ERR_NOT_SUPPORTED);
	cr_expect(strstr(desc, "Reset") != NULL, "%s", desc);
	ogw_schema_set_free(set);
	fixture_close(&f);
}

Test(answers, every_16_action_valid_or_refused)
{
	check_version(OGW_OCPP16, false, 14);
}

Test(answers, every_201_action_valid_or_refused)
{
	check_version(OGW_OCPP201, false, 25);
}

Test(answers, every_21_action_valid_or_refused)
{
	check_version(OGW_OCPP21, false, 36);
}

Test(answers, standalone_answers_the_same_and_validates)
{
	check_version(OGW_OCPP201, true, 25);
}

Test(answers, boot_heartbeat_values)
{
	struct fixture f;
	enum ogw_err err;

	fixture_open(&f);
	f.conf.offline_heartbeat_s = 900;
	for (int v = 0; v < OGW_OCPP_COUNT; v++) {
		struct ogw_local_ctx ctx = fixture_ctx(&f, (enum ogw_ocpp)v);
		json_t *boot = ogw_local_answer(&ctx, "BootNotification", NULL, &err, NULL, 0);
		cr_assert_not_null(boot);
		cr_assert_str_eq(json_string_value(json_object_get(boot, "status")), "Accepted");
		cr_assert_eq(json_integer_value(json_object_get(boot, "interval")), 900);
		int64_t t;
		cr_assert_eq(ogw_time_parse_rfc3339(json_string_value(json_object_get(boot,
			     "currentTime")), &t), 0);
		cr_assert_lt(llabs((long long)(t - time(NULL))), 5);
		json_decref(boot);
	}
	fixture_close(&f);
}

Test(answers, start_transaction_issues_durable_ids_above_the_base)
{
	struct fixture f;
	enum ogw_err err;
	json_t *req = J("{\"connectorId\": 1, \"idTag\": \"NOBODY\", \"meterStart\": 0,"
			" \"timestamp\": \"2026-11-22T08:00:00Z\"}");

	fixture_open(&f);
	struct ogw_local_ctx ctx = fixture_ctx(&f, OGW_OCPP16);
	json_t *a = ogw_local_answer(&ctx, "StartTransaction", req, &err, NULL, 0);
	json_t *b = ogw_local_answer(&ctx, "StartTransaction", req, &err, NULL, 0);
	cr_assert_eq(json_integer_value(json_object_get(a, "transactionId")), OGW_LOCAL_TX_BASE + 1);
	cr_assert_eq(json_integer_value(json_object_get(b, "transactionId")), OGW_LOCAL_TX_BASE + 2);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(a, "idTagInfo"),
				"status")), "Invalid", "unknown id, policy reject");
	json_decref(a);
	json_decref(b);

	/* another charger counts on its own; a reopened store goes on */
	ctx.charger = "CP2";
	a = ogw_local_answer(&ctx, "StartTransaction", req, &err, NULL, 0);
	cr_assert_eq(json_integer_value(json_object_get(a, "transactionId")), OGW_LOCAL_TX_BASE + 1);
	json_decref(a);
	char err_text[256];
	ogw_store_close(f.store);
	cr_assert_eq(ogw_store_open(f.dir, &f.store, err_text, sizeof(err_text)), 0);
	ctx = fixture_ctx(&f, OGW_OCPP16);
	a = ogw_local_answer(&ctx, "StartTransaction", req, &err, NULL, 0);
	cr_assert_eq(json_integer_value(json_object_get(a, "transactionId")), OGW_LOCAL_TX_BASE + 3);
	json_decref(a);
	json_decref(req);
	fixture_close(&f);
}

Test(answers, tokens_and_statuses_in_stop_and_transaction_event)
{
	struct fixture f;
	enum ogw_err err;

	fixture_open(&f);
	struct ogw_local_ctx ctx = fixture_ctx(&f, OGW_OCPP16);
	json_t *req = J("{\"transactionId\": 5, \"meterStop\": 10, \"timestamp\": \"2026-11-22T09:00:00Z\"}");
	json_t *res = ogw_local_answer(&ctx, "StopTransaction", req, &err, NULL, 0);
	cr_assert_eq(json_object_size(res), 0, "no idTag, no idTagInfo");
	json_decref(res);
	json_decref(req);

	ctx.ver = OGW_OCPP201;
	req = J("{\"eventType\": \"Updated\", \"timestamp\": \"2026-11-22T08:00:00Z\","
		" \"triggerReason\": \"MeterValuePeriodic\", \"seqNo\": 1,"
		" \"transactionInfo\": {\"transactionId\": \"tx-1\"}}");
	res = ogw_local_answer(&ctx, "TransactionEvent", req, &err, NULL, 0);
	cr_assert_eq(json_object_size(res), 0, "no idToken, no idTokenInfo");
	json_decref(res);
	json_decref(req);

	req = J("{\"idToken\": {\"idToken\": \"\", \"type\": \"NoAuthorization\"}}");
	res = ogw_local_answer(&ctx, "Authorize", req, &err, NULL, 0);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(res, "idTokenInfo"),
				"status")), "Accepted", "NoAuthorization needs no token");
	json_decref(res);
	json_decref(req);
	fixture_close(&f);
}
