/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the schema validator (src/schema): the first input
 * byte picks an OCPP version and one of a few built-in schemas of it
 * (request or response), the rest is JSON decoded as frame.c decodes
 * payloads and validated. The validator must return 0 or -EINVAL with a
 * terminated fault naming a real error; sanitizers catch the rest. Built
 * and run by tests/fuzz/run.sh.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ocppgw/ocpp.h"
#include "ocppgw/schema.h"
#include "fuzz.h"

/* Eight actions per version, chosen for the schema features they use:
 * nested objects and arrays, enums, date-time, numbers with bounds,
 * $ref into definitions, long strings, and the empty Heartbeat. */
#define PER_VERSION 8
static const char *const actions[OGW_OCPP_COUNT][PER_VERSION] = {
	[OGW_OCPP16] = { "BootNotification", "Heartbeat", "MeterValues", "StartTransaction",
			 "StopTransaction", "SetChargingProfile", "GetConfiguration",
			 "SendLocalList" },
	[OGW_OCPP201] = { "BootNotification", "TransactionEvent", "NotifyReport", "SetVariables",
			  "SetChargingProfile", "Authorize", "MeterValues", "GetVariables" },
	[OGW_OCPP21] = { "BootNotification", "TransactionEvent", "SetDERControl",
			 "ReportDERControl", "SetChargingProfile", "GetTariffs",
			 "NotifyEVChargingNeeds", "AFRRSignal" },
};

static struct ogw_schema_set *sets[OGW_OCPP_COUNT];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	for (int v = 0; v < OGW_OCPP_COUNT; v++) {
		char err[256] = "";
		int rc = ogw_schema_set_load_builtin((enum ogw_ocpp)v, &sets[v], err, sizeof(err));
		CHECK(rc == 0, "loading built-in schemas for %d: %s", v, err);
		for (int i = 0; i < PER_VERSION; i++)
			for (int resp = 0; resp < 2; resp++)
				CHECK(ogw_schema_get(sets[v], actions[v][i], resp),
				      "%s %s of %s is not built in", actions[v][i],
				      resp ? "response" : "request", ogw_ocpp_name((enum ogw_ocpp)v));
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	/* bits 0-1: version (3 = 2.1 again), bits 2-4: action, bit 5: response */
	unsigned sel = data[0];
	enum ogw_ocpp v = (enum ogw_ocpp)((sel & 3) % OGW_OCPP_COUNT);
	const char *action = actions[v][(sel >> 2) & 7];
	bool response = (sel >> 5) & 1;
	const struct ogw_schema *schema = ogw_schema_get(sets[v], action, response);

	json_error_t jerr;
	json_t *payload = json_loadb((const char *)data + 1, size - 1, JSON_REJECT_DUPLICATES, &jerr);
	if (!payload)
		return 0;

	struct ogw_schema_fault fault;
	memset(&fault, 0xa5, sizeof(fault));
	int rc = ogw_schema_validate(schema, payload, &fault);
	if (rc) {
		CHECK(rc == -EINVAL, "rc %d", rc);
		CHECK(memchr(fault.path, '\0', sizeof(fault.path)), "fault path not terminated");
		CHECK(memchr(fault.desc, '\0', sizeof(fault.desc)), "fault desc not terminated");
		CHECK(fault.err > OGW_ERR_NONE && fault.err < OGW_ERR_COUNT, "fault err %d",
		      (int)fault.err);
		CHECK(ogw_err_code(fault.err, v), "no error code for %d", (int)fault.err);
	} else {
		CHECK(json_is_object(payload), "a %s payload that is not an object passed",
		      action);
	}
	json_decref(payload);
	return 0;
}
