/* SPDX-License-Identifier: MIT */
/*
 * What the gateway answers as the chargers' CSMS, one table per version of
 * every charger-initiated action: the answer a central system without a
 * link to the operator's back office can honestly give (accept
 * notifications, authorize from the lists, issue transaction ids, decline
 * what needs the back office). Actions with no honest answer (an EXI
 * contract certificate, OCSP data) get NULL and OGW_ERR_NOT_SUPPORTED.
 * Queueing what the CSMS must still receive is the session's job.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "internal.h"
#include "ocppgw/local.h"
#include "ocppgw/store.h"
#include "ocppgw/util.h"

typedef json_t *answer_fn(const struct ogw_local_ctx *ctx, const json_t *req,
			  enum ogw_err *ret_err, char *desc, size_t desclen);

struct answer {
	const char *action;
	answer_fn *fn;
};

/* Sets the outcome of a NULL answer. */
static json_t *refuse(enum ogw_err err, enum ogw_err *ret_err, char *desc, size_t desclen,
		      const char *fmt, const char *arg)
{
	*ret_err = err;
	if (desc && desclen)
		snprintf(desc, desclen, fmt, arg);
	return NULL;
}

static json_t *empty(const struct ogw_local_ctx *ctx, const json_t *req, enum ogw_err *ret_err,
		     char *desc, size_t desclen)
{
	(void)ctx, (void)req, (void)ret_err, (void)desc, (void)desclen;
	return json_object();
}

static json_t *with_status(const struct ogw_local_ctx *ctx, const char *status)
{
	json_t *out = json_pack("{s:s}", "status", status);

	/* 2.x: say why, so an operator reading the charger's log knows */
	if (out && ctx->ver != OGW_OCPP16)
		json_object_set_new(out, "statusInfo", json_pack("{s:s}", "reasonCode",
			ctx->standalone ? "NoCSMS" : "CSMSUnreachable"));
	return out;
}

static json_t *rejected(const struct ogw_local_ctx *ctx, const json_t *req,
			enum ogw_err *ret_err, char *desc, size_t desclen)
{
	(void)req, (void)ret_err, (void)desc, (void)desclen;
	return with_status(ctx, "Rejected");
}

/* DataTransfer: the gateway implements no vendor extension. */
static json_t *unknown_vendor(const struct ogw_local_ctx *ctx, const json_t *req,
			      enum ogw_err *ret_err, char *desc, size_t desclen)
{
	(void)req, (void)ret_err, (void)desc, (void)desclen;
	return with_status(ctx, "UnknownVendorId");
}

/* GetCertificateStatus: no OCSP responder is reachable from here. */
static json_t *failed(const struct ogw_local_ctx *ctx, const json_t *req, enum ogw_err *ret_err,
		      char *desc, size_t desclen)
{
	(void)req, (void)ret_err, (void)desc, (void)desclen;
	return with_status(ctx, "Failed");
}

static json_t *not_supported(const struct ogw_local_ctx *ctx, const json_t *req,
			     enum ogw_err *ret_err, char *desc, size_t desclen)
{
	(void)req;
	return refuse(OGW_ERR_NOT_SUPPORTED, ret_err, desc, desclen,
		      "%s: needs the CSMS, which is not reachable",
		      ctx->standalone ? "no CSMS configured" : "CSMS unreachable");
}

static json_t *heartbeat(const struct ogw_local_ctx *ctx, const json_t *req,
			 enum ogw_err *ret_err, char *desc, size_t desclen)
{
	char now[32];

	(void)ctx, (void)req, (void)ret_err, (void)desc, (void)desclen;
	ogw_time_rfc3339(now);
	return json_pack("{s:s}", "currentTime", now);
}

static json_t *boot(const struct ogw_local_ctx *ctx, const json_t *req, enum ogw_err *ret_err,
		    char *desc, size_t desclen)
{
	json_t *out = heartbeat(ctx, req, ret_err, desc, desclen);

	if (out) {
		json_object_set_new(out, "status", json_string("Accepted"));
		json_object_set_new(out, "interval",
				    json_integer(ctx->conf ? ctx->conf->offline_heartbeat_s : 300));
	}
	return out;
}

/* The token info for the request's token, or NULL when it has none:
 * 2.x NoAuthorization needs no token and is accepted. */
static json_t *tag_info_of(const struct ogw_local_ctx *ctx, const json_t *req, int *ret_err)
{
	const char *token = ogw_local_token_of(ctx->ver, req);
	const char *type = json_string_value(json_object_get(json_object_get(req, "idToken"),
							     "type"));

	*ret_err = 0;
	if (ctx->ver != OGW_OCPP16 && type && strcmp(type, "NoAuthorization") == 0)
		return json_pack("{s:s}", "status", "Accepted");
	if (!token)
		return NULL;
	return ogw_local_authorize(ctx, token, ret_err);
}

static json_t *store_failed(int err, enum ogw_err *ret_err, char *desc, size_t desclen)
{
	return refuse(OGW_ERR_INTERNAL, ret_err, desc, desclen, "store: %s", strerror(-err));
}

/* Authorize, StopTransaction, TransactionEvent: the token's info under
 * @field when the request names a token ({} otherwise, or for Authorize
 * without a usable token: Invalid). */
static json_t *with_tag_info(const struct ogw_local_ctx *ctx, const json_t *req,
			     enum ogw_err *ret_err, char *desc, size_t desclen, const char *field,
			     bool required)
{
	int err = 0;
	json_t *info = tag_info_of(ctx, req, &err);

	if (err)
		return store_failed(err, ret_err, desc, desclen);
	if (!info && required)
		info = json_pack("{s:s}", "status", "Invalid");
	json_t *out = json_object();
	if (out && info)
		json_object_set_new(out, field, info);
	else
		json_decref(info);
	return out;
}

static json_t *authorize(const struct ogw_local_ctx *ctx, const json_t *req,
			 enum ogw_err *ret_err, char *desc, size_t desclen)
{
	return with_tag_info(ctx, req, ret_err, desc, desclen,
			     ctx->ver == OGW_OCPP16 ? "idTagInfo" : "idTokenInfo", true);
}

static json_t *stop_16(const struct ogw_local_ctx *ctx, const json_t *req,
		       enum ogw_err *ret_err, char *desc, size_t desclen)
{
	return with_tag_info(ctx, req, ret_err, desc, desclen, "idTagInfo", false);
}

static json_t *transaction_event(const struct ogw_local_ctx *ctx, const json_t *req,
				 enum ogw_err *ret_err, char *desc, size_t desclen)
{
	return with_tag_info(ctx, req, ret_err, desc, desclen, "idTokenInfo", false);
}

/* 1.6 StartTransaction: a gateway-issued id from a durable counter, so it
 * never repeats, even across a crash (OGW_LOCAL_TX_BASE in local.h). */
static json_t *start_16(const struct ogw_local_ctx *ctx, const json_t *req,
			enum ogw_err *ret_err, char *desc, size_t desclen)
{
	int err = 0;
	json_t *out = authorize(ctx, req, ret_err, desc, desclen);

	if (!out)
		return NULL;
	int64_t n = ogw_store_next_id(ctx->store, ctx->charger, "local_tx", &err);
	if (err || n <= 0) {
		json_decref(out);
		return store_failed(err ? err : -EIO, ret_err, desc, desclen);
	}
	json_object_set_new(out, "transactionId", json_integer(OGW_LOCAL_TX_BASE + n));
	return out;
}

/* 2.1 VatNumberValidation: the number is echoed, unvalidated. */
static json_t *vat_rejected(const struct ogw_local_ctx *ctx, const json_t *req,
			    enum ogw_err *ret_err, char *desc, size_t desclen)
{
	const char *vat = json_string_value(json_object_get(req, "vatNumber"));
	json_t *out = rejected(ctx, req, ret_err, desc, desclen);

	if (out)
		json_object_set_new(out, "vatNumber", json_string(vat ? vat : ""));
	return out;
}

static const struct answer answers_16[] = {
	{ "Authorize", authorize },
	{ "BootNotification", boot },
	{ "DataTransfer", unknown_vendor },
	{ "DiagnosticsStatusNotification", empty },
	{ "FirmwareStatusNotification", empty },
	{ "Heartbeat", heartbeat },
	{ "LogStatusNotification", empty },
	{ "MeterValues", empty },
	{ "SecurityEventNotification", empty },
	{ "SignCertificate", rejected },
	{ "SignedFirmwareStatusNotification", empty },
	{ "StartTransaction", start_16 },
	{ "StatusNotification", empty },
	{ "StopTransaction", stop_16 },
	{ NULL, NULL },
};

/* The 2.0.1 actions; 2.1 answers them the same way. */
#define ANSWERS_2X \
	{ "Authorize", authorize }, \
	{ "BootNotification", boot }, \
	{ "ClearedChargingLimit", empty }, \
	{ "DataTransfer", unknown_vendor }, \
	{ "FirmwareStatusNotification", empty }, \
	{ "Get15118EVCertificate", not_supported }, \
	{ "GetCertificateStatus", failed }, \
	{ "Heartbeat", heartbeat }, \
	{ "LogStatusNotification", empty }, \
	{ "MeterValues", empty }, \
	{ "NotifyChargingLimit", empty }, \
	{ "NotifyCustomerInformation", empty }, \
	{ "NotifyDisplayMessages", empty }, \
	{ "NotifyEVChargingNeeds", rejected }, \
	{ "NotifyEVChargingSchedule", rejected }, \
	{ "NotifyEvent", empty }, \
	{ "NotifyMonitoringReport", empty }, \
	{ "NotifyReport", empty }, \
	{ "PublishFirmwareStatusNotification", empty }, \
	{ "ReportChargingProfiles", empty }, \
	{ "ReservationStatusUpdate", empty }, \
	{ "SecurityEventNotification", empty }, \
	{ "SignCertificate", rejected }, \
	{ "StatusNotification", empty }, \
	{ "TransactionEvent", transaction_event }

static const struct answer answers_201[] = {
	ANSWERS_2X,
	{ NULL, NULL },
};

static const struct answer answers_21[] = {
	ANSWERS_2X,
	{ "BatterySwap", empty },
	{ "ClosePeriodicEventStream", empty },
	{ "GetCertificateChainStatus", not_supported },
	{ "NotifyDERAlarm", empty },
	{ "NotifyDERStartStop", empty },
	{ "NotifyPriorityCharging", empty },
	{ "NotifySettlement", empty },
	{ "OpenPeriodicEventStream", rejected },
	{ "PullDynamicScheduleUpdate", rejected },
	{ "ReportDERControl", empty },
	{ "VatNumberValidation", vat_rejected },
	{ NULL, NULL },
};

static const struct answer *const answers[OGW_OCPP_COUNT] = {
	[OGW_OCPP16] = answers_16,
	[OGW_OCPP201] = answers_201,
	[OGW_OCPP21] = answers_21,
};

json_t *ogw_local_answer(const struct ogw_local_ctx *ctx, const char *action, const json_t *req,
			 enum ogw_err *ret_err, char *desc, size_t desclen)
{
	enum ogw_err dummy;

	if (!ret_err)
		ret_err = &dummy;
	*ret_err = OGW_ERR_NONE;
	if (!ctx || !action || !ctx->store || !ctx->charger || (unsigned)ctx->ver >= OGW_OCPP_COUNT)
		return refuse(OGW_ERR_INTERNAL, ret_err, desc, desclen, "%s",
			      "local answer without a charger context");
	for (const struct answer *a = answers[ctx->ver]; a->action; a++) {
		if (strcmp(a->action, action) != 0)
			continue;
		json_t *out = a->fn(ctx, json_is_object(req) ? req : NULL, ret_err, desc, desclen);
		if (!out && *ret_err == OGW_ERR_NONE)
			return refuse(OGW_ERR_INTERNAL, ret_err, desc, desclen, "%s", "out of memory");
		return out;
	}
	return refuse(OGW_ERR_NOT_SUPPORTED, ret_err, desc, desclen,
		      "%s has no local answer while the CSMS is not reachable", action);
}
