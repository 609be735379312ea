/* SPDX-License-Identifier: MIT */
/*
 * What a secondary CSMS may send the charger, and what it gets when it may
 * not: its allow list, or the read-only actions of its version; a refused
 * CALL gets SecurityError, or with refusal "reject" the payload by which
 * the charger itself would refuse it. Tables, no I/O (docs/MULTI_CSMS.md).
 */
#include <stdbool.h>
#include <string.h>

#include <jansson.h>

#include "ocppgw/config.h"
#include "ocppgw/ocpp.h"
#include "features/multi/multi.h"

/* Read-only: they change nothing on the charger. TriggerMessage makes the
 * charger send a message, which every CSMS then sees. DataTransfer is left
 * out: what it does is vendor-defined. */
static const char *const allow_16[] = {
	"GetConfiguration", "GetCompositeSchedule", "GetLocalListVersion", "TriggerMessage", NULL,
};
static const char *const allow_2x[] = {
	"GetVariables", "GetBaseReport", "GetReport", "GetMonitoringReport", "TriggerMessage",
	"GetCompositeSchedule", "GetChargingProfiles", "GetLocalListVersion",
	"GetTransactionStatus", "GetDisplayMessages", "GetInstalledCertificateIds", NULL,
};

#define V16 (1u << OGW_OCPP16)
#define V2X ((1u << OGW_OCPP201) | (1u << OGW_OCPP21))
#define VALL (V16 | V2X)

/* The charger's own refusal of each action whose response has one; every
 * payload is valid against that version's response schema (tests/unit/
 * multi). Actions absent here (GetConfiguration, SetVariables' per-item
 * results ...) can only be refused by CALLERROR. */
static const struct refusal {
	const char *action;
	unsigned versions;
	const char *payload;
} refusals[] = {
	{ "CancelReservation", VALL, "{\"status\":\"Rejected\"}" },
	{ "CertificateSigned", VALL, "{\"status\":\"Rejected\"}" },
	{ "ChangeAvailability", VALL, "{\"status\":\"Rejected\"}" },
	{ "ChangeConfiguration", V16, "{\"status\":\"Rejected\"}" },
	{ "ClearCache", VALL, "{\"status\":\"Rejected\"}" },
	{ "ClearChargingProfile", VALL, "{\"status\":\"Unknown\"}" },
	{ "ClearDisplayMessage", V2X, "{\"status\":\"Unknown\"}" },
	{ "CustomerInformation", V2X, "{\"status\":\"Rejected\"}" },
	{ "DataTransfer", VALL, "{\"status\":\"Rejected\"}" },
	{ "DeleteCertificate", VALL, "{\"status\":\"Failed\"}" },
	{ "ExtendedTriggerMessage", V16, "{\"status\":\"Rejected\"}" },
	{ "GetBaseReport", V2X, "{\"status\":\"Rejected\"}" },
	{ "GetCompositeSchedule", VALL, "{\"status\":\"Rejected\"}" },
	{ "GetLog", VALL, "{\"status\":\"Rejected\"}" },
	{ "GetMonitoringReport", V2X, "{\"status\":\"Rejected\"}" },
	{ "GetReport", V2X, "{\"status\":\"Rejected\"}" },
	{ "InstallCertificate", VALL, "{\"status\":\"Rejected\"}" },
	{ "PublishFirmware", V2X, "{\"status\":\"Rejected\"}" },
	{ "RemoteStartTransaction", V16, "{\"status\":\"Rejected\"}" },
	{ "RemoteStopTransaction", V16, "{\"status\":\"Rejected\"}" },
	{ "RequestStartTransaction", V2X, "{\"status\":\"Rejected\"}" },
	{ "RequestStopTransaction", V2X, "{\"status\":\"Rejected\"}" },
	{ "ReserveNow", VALL, "{\"status\":\"Rejected\"}" },
	{ "Reset", VALL, "{\"status\":\"Rejected\"}" },
	{ "SendLocalList", VALL, "{\"status\":\"Failed\"}" },
	{ "SetChargingProfile", VALL, "{\"status\":\"Rejected\"}" },
	{ "SetDisplayMessage", V2X, "{\"status\":\"Rejected\"}" },
	{ "SetMonitoringBase", V2X, "{\"status\":\"Rejected\"}" },
	{ "SetMonitoringLevel", V2X, "{\"status\":\"Rejected\"}" },
	{ "SetNetworkProfile", V2X, "{\"status\":\"Rejected\"}" },
	{ "SignedUpdateFirmware", V16, "{\"status\":\"Rejected\"}" },
	{ "TriggerMessage", VALL, "{\"status\":\"Rejected\"}" },
	/* 1.6 has no refusal status: NotSupported says the gateway will not
	 * unlock without claiming the lock failed */
	{ "UnlockConnector", V16, "{\"status\":\"NotSupported\"}" },
	{ "UnlockConnector", V2X, "{\"status\":\"UnlockFailed\"}" },
	{ "UpdateFirmware", V2X, "{\"status\":\"Rejected\"}" },
};

const char *const *ogw_multi_default_allow(enum ogw_ocpp v)
{
	return v == OGW_OCPP16 ? allow_16 : allow_2x;
}

/* @list is NULL-terminated (the config's lists are too). */
static bool listed(const char *const *list, const char *action)
{
	for (size_t i = 0; list && list[i]; i++)
		if (strcmp(list[i], action) == 0)
			return true;
	return false;
}

json_t *ogw_multi_refusal_payload(enum ogw_ocpp v, const char *action)
{
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++)
		if ((refusals[i].versions & (1u << v)) && strcmp(refusals[i].action, action) == 0)
			return json_loads(refusals[i].payload, 0, NULL);
	return NULL;
}

bool ogw_multi_call_allowed(const struct ogw_csms_conf *cs, enum ogw_ocpp v, const char *action,
			    struct ogw_multi_refusal *ret_refusal)
{
	/* an empty allow list (allow = []) lets nothing through */
	bool ok = listed(cs->allow_set ? (const char *const *)cs->allow : ogw_multi_default_allow(v),
			 action);
	json_t *payload = NULL;

	if (ok)
		return true;
	if (cs->refusal == OGW_CSMS_REFUSE_REJECT)
		payload = ogw_multi_refusal_payload(v, action);
	ret_refusal->error = payload ? OGW_ERR_NONE : OGW_ERR_SECURITY;
	ret_refusal->payload = payload;
	return false;
}
