/* SPDX-License-Identifier: MIT */
/*
 * OCPP versions and the CALLERROR code table: the one place where an RPC
 * outcome gets its per-version spelling, misspellings of 1.6 included
 * (J16 table 7; J16E §5 says they will not be fixed). It does not decide
 * which outcome a frame deserves; frame.c and the layers above do.
 */
#include <errno.h>
#include <string.h>

#include "ocppgw/ocpp.h"

bool ogw_ocpp_is_tx_message(enum ogw_ocpp v, const char *action, bool has_txid)
{
	if (!strcmp(action, "SecurityEventNotification"))
		return true;
	if (v != OGW_OCPP16)
		return !strcmp(action, "TransactionEvent");
	if (!strcmp(action, "StartTransaction") || !strcmp(action, "StopTransaction"))
		return true;
	return !strcmp(action, "MeterValues") && has_txid;
}

static const struct {
	const char *subprotocol;
	const char *name;
} versions[OGW_OCPP_COUNT] = {
	[OGW_OCPP16] = { "ocpp1.6", "1.6" },
	[OGW_OCPP201] = { "ocpp2.0.1", "2.0.1" },
	[OGW_OCPP21] = { "ocpp2.1", "2.1" },
};

/* Column 0 is 1.6, column 1 is 2.0.1 and 2.1 (same 12 codes). 1.6 has no
 * RpcFrameworkError or MessageTypeNotSupported: the closest are
 * FormationViolation ("not conform the PDU structure") and GenericError. */
static const char *const err_codes[OGW_ERR_COUNT][2] = {
	[OGW_ERR_NONE] = { NULL, NULL },
	[OGW_ERR_FORMAT_VIOLATION] = { "FormationViolation", "FormatViolation" },
	[OGW_ERR_GENERIC] = { "GenericError", "GenericError" },
	[OGW_ERR_INTERNAL] = { "InternalError", "InternalError" },
	[OGW_ERR_MESSAGE_TYPE_NOT_SUPPORTED] = { "GenericError", "MessageTypeNotSupported" },
	[OGW_ERR_NOT_IMPLEMENTED] = { "NotImplemented", "NotImplemented" },
	[OGW_ERR_NOT_SUPPORTED] = { "NotSupported", "NotSupported" },
	[OGW_ERR_OCCURRENCE_CONSTRAINT] = { "OccurenceConstraintViolation",
					    "OccurrenceConstraintViolation" },
	[OGW_ERR_PROPERTY_CONSTRAINT] = { "PropertyConstraintViolation",
					  "PropertyConstraintViolation" },
	[OGW_ERR_PROTOCOL] = { "ProtocolError", "ProtocolError" },
	[OGW_ERR_RPC_FRAMEWORK] = { "FormationViolation", "RpcFrameworkError" },
	[OGW_ERR_SECURITY] = { "SecurityError", "SecurityError" },
	[OGW_ERR_TYPE_CONSTRAINT] = { "TypeConstraintViolation", "TypeConstraintViolation" },
};

/* Parsing: every spelling once, each to the outcome it names. The 1.6
 * codes that stand in for others (GenericError, FormationViolation) parse
 * to their own meaning, not to what they replaced. */
static const struct {
	const char *code;
	enum ogw_err err;
} err_spellings[] = {
	{ "FormatViolation", OGW_ERR_FORMAT_VIOLATION },
	{ "FormationViolation", OGW_ERR_FORMAT_VIOLATION },
	{ "GenericError", OGW_ERR_GENERIC },
	{ "InternalError", OGW_ERR_INTERNAL },
	{ "MessageTypeNotSupported", OGW_ERR_MESSAGE_TYPE_NOT_SUPPORTED },
	{ "NotImplemented", OGW_ERR_NOT_IMPLEMENTED },
	{ "NotSupported", OGW_ERR_NOT_SUPPORTED },
	{ "OccurrenceConstraintViolation", OGW_ERR_OCCURRENCE_CONSTRAINT },
	{ "OccurenceConstraintViolation", OGW_ERR_OCCURRENCE_CONSTRAINT },
	{ "PropertyConstraintViolation", OGW_ERR_PROPERTY_CONSTRAINT },
	{ "ProtocolError", OGW_ERR_PROTOCOL },
	{ "RpcFrameworkError", OGW_ERR_RPC_FRAMEWORK },
	{ "SecurityError", OGW_ERR_SECURITY },
	{ "TypeConstraintViolation", OGW_ERR_TYPE_CONSTRAINT },
};

const char *ogw_ocpp_subprotocol(enum ogw_ocpp v)
{
	if ((unsigned int)v >= OGW_OCPP_COUNT)
		return NULL;
	return versions[v].subprotocol;
}

const char *ogw_ocpp_name(enum ogw_ocpp v)
{
	if ((unsigned int)v >= OGW_OCPP_COUNT)
		return NULL;
	return versions[v].name;
}

int ogw_ocpp_parse(const char *s, enum ogw_ocpp *ret)
{
	if (!s)
		return -EINVAL;
	for (unsigned int v = 0; v < OGW_OCPP_COUNT; v++) {
		if (strcmp(s, versions[v].subprotocol) == 0 || strcmp(s, versions[v].name) == 0) {
			*ret = (enum ogw_ocpp)v;
			return 0;
		}
	}
	return -EINVAL;
}

const char *ogw_err_code(enum ogw_err e, enum ogw_ocpp v)
{
	if ((unsigned int)e >= OGW_ERR_COUNT || (unsigned int)v >= OGW_OCPP_COUNT)
		return NULL;
	return err_codes[e][v == OGW_OCPP16 ? 0 : 1];
}

int ogw_err_parse(const char *code, enum ogw_err *ret)
{
	if (!code)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(err_spellings) / sizeof(err_spellings[0]); i++) {
		if (strcmp(code, err_spellings[i].code) == 0) {
			*ret = err_spellings[i].err;
			return 0;
		}
	}
	return -EINVAL;
}
