/* SPDX-License-Identifier: MIT */
/*
 * A secondary CSMS's CALLs to the charger: the read-only default of each
 * version, an allow list of its own, and the answer a refused CALL gets
 * (SecurityError, or the action's own refusal, valid against the response
 * schema of that version for every action that has one).
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "ocppgw/config.h"
#include "ocppgw/ocpp.h"
#include "ocppgw/schema.h"
#include "features/multi/multi.h"

static const char *const def_files[OGW_OCPP_COUNT] = {
	[OGW_OCPP16] = "ocpp16.def", [OGW_OCPP201] = "ocpp201.def", [OGW_OCPP21] = "ocpp21.def",
};

static struct ogw_schema_set *builtin(enum ogw_ocpp v)
{
	struct ogw_schema_set *s = NULL;
	char err[512] = "";

	cr_assert_eq(ogw_schema_set_load_builtin(v, &s, err, sizeof(err)), 0, "%s", err);
	return s;
}

/* Whether @action is one a CSMS sends in @v (message ... down / both). */
static bool is_csms_action(enum ogw_ocpp v, const char *action)
{
	char path[1024], line[256], name[64], dir[16];
	bool found = false;
	FILE *def;

	snprintf(path, sizeof(path), "%s/schemas/src/%s", OGW_SRC_DIR, def_files[v]);
	def = fopen(path, "r");
	cr_assert_not_null(def, "%s", path);
	while (!found && fgets(line, sizeof(line), def))
		found = sscanf(line, "message %63s %15s", name, dir) == 2 &&
			!strcmp(name, action) && (!strcmp(dir, "down") || !strcmp(dir, "both"));
	fclose(def);
	return found;
}

Test(multi_allow, defaults_are_actions_a_csms_sends)
{
	for (int v = 0; v < OGW_OCPP_COUNT; v++) {
		const char *const *list = ogw_multi_default_allow((enum ogw_ocpp)v);
		size_t n = 0;
		for (; list[n]; n++)
			cr_expect(is_csms_action((enum ogw_ocpp)v, list[n]), "%s in %s", list[n],
				  ogw_ocpp_name((enum ogw_ocpp)v));
		cr_expect_geq(n, 4);
	}
}

/* Every refusal the table has is a valid response of its version, and
 * the actions that change the charger have one. */
Test(multi_allow, refusals_are_valid_responses)
{
	static const char *const must[OGW_OCPP_COUNT][6] = {
		[OGW_OCPP16] = { "Reset", "ChangeConfiguration", "RemoteStartTransaction",
				 "SetChargingProfile", "UnlockConnector", "ChangeAvailability" },
		[OGW_OCPP201] = { "Reset", "RequestStartTransaction", "RequestStopTransaction",
				  "SetChargingProfile", "UnlockConnector", "ChangeAvailability" },
		[OGW_OCPP21] = { "Reset", "RequestStartTransaction", "RequestStopTransaction",
				 "SetChargingProfile", "UnlockConnector", "ChangeAvailability" },
	};

	for (int v = 0; v < OGW_OCPP_COUNT; v++) {
		struct ogw_schema_set *set = builtin((enum ogw_ocpp)v);
		char path[1024], line[256], name[64], dir[16];
		size_t with = 0;
		FILE *def;

		snprintf(path, sizeof(path), "%s/schemas/src/%s", OGW_SRC_DIR, def_files[v]);
		def = fopen(path, "r");
		cr_assert_not_null(def);
		while (fgets(line, sizeof(line), def)) {
			if (sscanf(line, "message %63s %15s", name, dir) != 2)
				continue;
			json_t *payload = ogw_multi_refusal_payload((enum ogw_ocpp)v, name);
			if (!payload)
				continue;
			/* only what a CSMS sends can be refused to a CSMS */
			cr_expect(strcmp(dir, "up") != 0, "%s is sent by the charger", name);
			const struct ogw_schema *sch = ogw_schema_get(set, name, true);
			struct ogw_schema_fault fault;
			cr_assert_not_null(sch, "%s %s", ogw_ocpp_name((enum ogw_ocpp)v), name);
			cr_expect_eq(ogw_schema_validate(sch, payload, &fault), 0, "%s %s: %s",
				     ogw_ocpp_name((enum ogw_ocpp)v), name, fault.desc);
			json_decref(payload);
			with++;
		}
		fclose(def);
		cr_log_info("%s: %zu actions have a refusal", ogw_ocpp_name((enum ogw_ocpp)v), with);
		cr_expect_geq(with, 15);
		for (size_t i = 0; i < 6; i++) {
			json_t *p = ogw_multi_refusal_payload((enum ogw_ocpp)v, must[v][i]);
			cr_expect_not_null(p, "%s", must[v][i]);
			json_decref(p);
		}
		ogw_schema_set_free(set);
	}
}

Test(multi_allow, default_secondary_reads_but_does_not_reset)
{
	struct ogw_csms_conf cs = { .name = "energy" };
	struct ogw_multi_refusal r = { 0 };

	cr_expect(ogw_multi_call_allowed(&cs, OGW_OCPP16, "GetConfiguration", &r));
	cr_expect(ogw_multi_call_allowed(&cs, OGW_OCPP16, "TriggerMessage", &r));
	cr_expect(ogw_multi_call_allowed(&cs, OGW_OCPP201, "GetVariables", &r));
	/* a 1.6 name means nothing to a 2.0.1 secondary */
	cr_expect_not(ogw_multi_call_allowed(&cs, OGW_OCPP201, "GetConfiguration", &r));
	json_decref(r.payload);

	cr_assert_not(ogw_multi_call_allowed(&cs, OGW_OCPP16, "Reset", &r));
	cr_expect_eq(r.error, OGW_ERR_SECURITY);
	cr_expect_null(r.payload);
	cr_expect_str_eq(ogw_err_code(r.error, OGW_OCPP16), "SecurityError");
	cr_assert_not(ogw_multi_call_allowed(&cs, OGW_OCPP201, "DataTransfer", &r));
	cr_expect_str_eq(ogw_err_code(r.error, OGW_OCPP201), "SecurityError");
}

Test(multi_allow, reject_mode_answers_as_the_charger_would)
{
	struct ogw_csms_conf cs = { .name = "energy", .refusal = OGW_CSMS_REFUSE_REJECT };
	struct ogw_multi_refusal r = { 0 };

	cr_assert_not(ogw_multi_call_allowed(&cs, OGW_OCPP16, "Reset", &r));
	cr_expect_eq(r.error, OGW_ERR_NONE);
	cr_assert_not_null(r.payload);
	cr_expect_str_eq(json_string_value(json_object_get(r.payload, "status")), "Rejected");
	json_decref(r.payload);

	cr_assert_not(ogw_multi_call_allowed(&cs, OGW_OCPP201, "UnlockConnector", &r));
	cr_expect_str_eq(json_string_value(json_object_get(r.payload, "status")), "UnlockFailed");
	json_decref(r.payload);

	/* 1.6 GetDiagnostics has no refusal in its response: a CALLERROR */
	cr_assert_not(ogw_multi_call_allowed(&cs, OGW_OCPP16, "GetDiagnostics", &r));
	cr_expect_eq(r.error, OGW_ERR_SECURITY);
	cr_expect_null(r.payload);
}

Test(multi_allow, an_allow_list_replaces_the_default)
{
	char *allow[] = { "RemoteStartTransaction", "RemoteStopTransaction", NULL };
	char *none[] = { NULL };
	struct ogw_csms_conf cs = { .name = "employer", .allow = allow, .n_allow = 2,
				    .allow_set = true };
	struct ogw_multi_refusal r = { 0 };

	cr_expect(ogw_multi_call_allowed(&cs, OGW_OCPP16, "RemoteStartTransaction", &r));
	cr_expect_not(ogw_multi_call_allowed(&cs, OGW_OCPP16, "GetConfiguration", &r));
	cr_expect_eq(r.error, OGW_ERR_SECURITY);
	cs.allow = none;
	cs.n_allow = 0;
	cr_expect_not(ogw_multi_call_allowed(&cs, OGW_OCPP16, "TriggerMessage", &r));
}
