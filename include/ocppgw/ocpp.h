/* SPDX-License-Identifier: MIT */
/*
 * OCPP versions and the one enum of RPC-level outcomes. Every place that turns
 * an outcome into a CALLERROR code goes through ogw_err_code(), so the per
 * version spellings (1.6's FormationViolation, OccurenceConstraintViolation)
 * live in exactly one table.
 */
#ifndef OCPPGW_OCPP_H
#define OCPPGW_OCPP_H

#include <stdbool.h>

enum ogw_ocpp {
	OGW_OCPP16 = 0,
	OGW_OCPP201,
	OGW_OCPP21,
	OGW_OCPP_COUNT,
};

/* "ocpp1.6", "ocpp2.0.1", "ocpp2.1" */
const char *ogw_ocpp_subprotocol(enum ogw_ocpp v);
/* "1.6", "2.0.1", "2.1" */
const char *ogw_ocpp_name(enum ogw_ocpp v);
/* Accepts both "1.6" and "ocpp1.6" forms. 0, or -EINVAL. */
int ogw_ocpp_parse(const char *s, enum ogw_ocpp *ret);

enum ogw_err {
	OGW_ERR_NONE = 0,
	OGW_ERR_FORMAT_VIOLATION,       /* 1.6: FormationViolation */
	OGW_ERR_GENERIC,
	OGW_ERR_INTERNAL,
	OGW_ERR_MESSAGE_TYPE_NOT_SUPPORTED, /* 1.6: GenericError (1.6 ignores unknown types) */
	OGW_ERR_NOT_IMPLEMENTED,
	OGW_ERR_NOT_SUPPORTED,
	OGW_ERR_OCCURRENCE_CONSTRAINT,  /* 1.6: OccurenceConstraintViolation */
	OGW_ERR_PROPERTY_CONSTRAINT,
	OGW_ERR_PROTOCOL,
	OGW_ERR_RPC_FRAMEWORK,          /* 1.6: FormationViolation, "not conform the PDU
	                                   structure" (J16 table 7) */
	OGW_ERR_SECURITY,
	OGW_ERR_TYPE_CONSTRAINT,
	OGW_ERR_COUNT,
};

/* Whether @action of version @v is a transaction message (REFERENCE §5),
 * which a CSMS must receive even late: 1.6 StartTransaction,
 * StopTransaction, MeterValues naming a transaction (@has_txid); 2.x
 * TransactionEvent; SecurityEventNotification in every version. */
bool ogw_ocpp_is_tx_message(enum ogw_ocpp v, const char *action, bool has_txid);

/* The CALLERROR errorCode for @e as spelled by version @v. */
const char *ogw_err_code(enum ogw_err e, enum ogw_ocpp v);
/* Parses any spelling of any version (both misspellings included).
 * Unknown codes give -EINVAL and leave *ret untouched. */
int ogw_err_parse(const char *code, enum ogw_err *ret);

#endif
