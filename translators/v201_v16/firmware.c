/* SPDX-License-Identifier: MIT */
/*
 * Firmware updates and log uploads of a 2.0.1 station for a 1.6 (+security
 * extension) central system: the requests and their status notifications. Part of
 * the translator whose tables are table.c; no I/O, everything goes
 * through the session's ogw_tr_* environment.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "ocppgw/ocpp.h"
#include "ocppgw/translator.h"
#include "../common.h"
#include "../connector_map.h"
#include "internal.h"
#include "../v21_adapt.h"

/* ---- LogStatusNotification ---------------------------------------------- */

struct log_status {
	const char *status;   /* 2.0.1 UploadLogStatusEnumType */
	const char *diag16;   /* 1.6 DiagnosticsStatus */
	const char *log16;    /* SEC16 UploadLogStatusEnumType */
	bool final;           /* the upload is over */
};

static const struct log_status log_status_map[] = {
	{ "AcceptedCanceled", "UploadFailed", "UploadFailure", true },
	{ "BadMessage", "UploadFailed", "BadMessage", true },
	{ "Idle", "Idle", "Idle", false },
	{ "NotSupportedOperation", "UploadFailed", "NotSupportedOperation", true },
	{ "PermissionDenied", "UploadFailed", "PermissionDenied", true },
	{ "UploadFailure", "UploadFailed", "UploadFailure", true },
	{ "Uploaded", "Uploaded", "Uploaded", true },
	{ "Uploading", "Uploading", "Uploading", false },
};

/* A log requested by SEC16 GetLog is reported with LogStatusNotification,
 * one requested by GetDiagnostics (or none known) with
 * DiagnosticsStatusNotification. */
int tr201_up_log_status(struct ogw_tr_env *env, const json_t *payload,
		       struct ogw_tr_out *out)
{
	const char *st = tr_str(payload, "status");
	json_t *req = json_object_get(payload, "requestId");
	json_t *s = req ? tr201_state_get_num(env, "log", json_integer_value(req)) : NULL;
	const struct log_status *m = &log_status_map[0];
	bool via_getlog = tr_same(tr_str(s, "via"), "GetLog");
	int r = 0;

	for (size_t i = 0; i < N(log_status_map); i++)
		if (!strcmp(log_status_map[i].status, st))
			m = &log_status_map[i];
	json_decref(s);
	if (s && m->final)
		r = tr201_state_del_num(env, "log", json_integer_value(req));
	if (r)
		return r;
	if (via_getlog) {
		json_t *p = json_pack("{s:s}", "status", m->log16);
		if (p && copy_opt(p, payload, "requestId", NULL)) {
			json_decref(p);
			return -ENOMEM;
		}
		return ogw_tr_forward(out, "LogStatusNotification", p, NULL);
	}
	return ogw_tr_forward(out, "DiagnosticsStatusNotification",
			   json_pack("{s:s}", "status", m->diag16), NULL);
}

/* ---- FirmwareStatusNotification ----------------------------------------- */

struct fw_status {
	const char *status;   /* 2.0.1 FirmwareStatusEnumType (= SEC16's) */
	const char *fw16;     /* 1.6 core FirmwareStatus */
	bool final;
};

static const struct fw_status fw_status_map[] = {
	{ "DownloadFailed", "DownloadFailed", true },
	{ "DownloadPaused", "Downloading", false },
	{ "DownloadScheduled", "Idle", false },
	{ "Downloaded", "Downloaded", false },
	{ "Downloading", "Downloading", false },
	{ "Idle", "Idle", false },
	{ "InstallRebooting", "Installing", false },
	{ "InstallScheduled", "Downloaded", false },
	{ "InstallVerificationFailed", "InstallationFailed", true },
	{ "InstallationFailed", "InstallationFailed", true },
	{ "Installed", "Installed", true },
	{ "Installing", "Installing", false },
	{ "InvalidSignature", "InstallationFailed", true },
	{ "SignatureVerified", "Downloaded", false },
};

int tr201_up_firmware_status(struct ogw_tr_env *env, const json_t *payload,
			    struct ogw_tr_out *out)
{
	const char *st = tr_str(payload, "status");
	json_t *req = json_object_get(payload, "requestId");
	json_t *s = req ? tr201_state_get_num(env, "fw", json_integer_value(req)) : NULL;
	const struct fw_status *m = &fw_status_map[5];
	bool is_signed = s != NULL;
	int r = 0;

	json_decref(s);
	for (size_t i = 0; i < N(fw_status_map); i++)
		if (!strcmp(fw_status_map[i].status, st))
			m = &fw_status_map[i];
	if (is_signed && m->final)
		r = tr201_state_del_num(env, "fw", json_integer_value(req));
	if (r)
		return r;
	if (is_signed)
		return ogw_tr_forward(out, "SignedFirmwareStatusNotification",
				   json_pack("{s:s, s:O}", "status", st, "requestId", req), NULL);
	return ogw_tr_forward(out, "FirmwareStatusNotification",
			   json_pack("{s:s}", "status", m->fw16), NULL);
}

/* ---- firmware and logs ---------------------------------------------------- */

int tr201_down_update_firmware(struct ogw_tr_env *env, const json_t *payload,
			      struct ogw_tr_out *out)
{
	const char *loc = tr_str(payload, "location");
	json_t *p;

	if (utf8_len(loc) > LOCATION201_MAX)
		return out_error(out, OGW_ERR_PROPERTY_CONSTRAINT,
				 "location longer than the 512 characters OCPP 2.0.1 allows");
	p = json_pack("{s:I, s:{s:s, s:O}}", "requestId",
		      (json_int_t)ogw_tr_next_id(env, "firmware"), "firmware", "location", loc,
		      "retrieveDateTime", json_object_get(payload, "retrieveDate"));
	if (p && (copy_opt(p, payload, "retries", NULL) ||
		  copy_opt(p, payload, "retryInterval", NULL))) {
		json_decref(p);
		return -ENOMEM;
	}
	return ogw_tr_forward(out, "UpdateFirmware", p, NULL);
}

/* 1.6 UpdateFirmware.conf is empty: whatever the station says. */
int tr201_res_update_firmware(struct ogw_tr_env *env, const json_t *memo,
			     const json_t *result, json_t **ret)
{
	(void)env;
	(void)memo;
	(void)result;
	*ret = json_object();
	return *ret ? 0 : -ENOMEM;
}

int tr201_down_signed_update_firmware(struct ogw_tr_env *env, const json_t *payload,
				     struct ogw_tr_out *out)
{
	json_t *req = json_object_get(payload, "requestId");
	int r = tr201_state_put_num(env, "fw", json_integer_value(req), json_pack("{s:b}", "signed", 1));

	if (r)
		return r;
	/* SEC16 SignedUpdateFirmware is 2.0.1 UpdateFirmware field for field. */
	return ogw_tr_forward(out, "UpdateFirmware", json_deep_copy(payload), NULL);
}

/* Remembers who asked for log @request, so its LogStatusNotification goes
 * back in the matching 1.6 message. */
static int log_remember(struct ogw_tr_env *env, long long request, const char *via)
{
	return tr201_state_put_num(env, "log", request, json_pack("{s:s}", "via", via));
}

int tr201_down_get_diagnostics(struct ogw_tr_env *env, const json_t *payload,
			      struct ogw_tr_out *out)
{
	const char *loc = tr_str(payload, "location");
	long long req;
	json_t *p;
	int r;

	if (utf8_len(loc) > LOCATION201_MAX)
		return out_error(out, OGW_ERR_PROPERTY_CONSTRAINT,
				 "location longer than the 512 characters OCPP 2.0.1 allows");
	req = ogw_tr_next_id(env, "log");
	p = json_pack("{s:{s:s}, s:s, s:I}", "log", "remoteLocation", loc, "logType",
		      "DiagnosticsLog", "requestId", (json_int_t)req);
	if (!p || copy_opt(json_object_get(p, "log"), payload, "startTime", "oldestTimestamp") ||
	    copy_opt(json_object_get(p, "log"), payload, "stopTime", "latestTimestamp") ||
	    copy_opt(p, payload, "retries", NULL) || copy_opt(p, payload, "retryInterval", NULL)) {
		json_decref(p);
		return -ENOMEM;
	}
	r = log_remember(env, req, "GetDiagnostics");
	if (r) {
		json_decref(p);
		return r;
	}
	return ogw_tr_forward(out, "GetLog", p, NULL);
}

int tr201_res_get_diagnostics(struct ogw_tr_env *env, const json_t *memo,
			     const json_t *result, json_t **ret)
{
	const char *st = tr_str(result, "status");
	(void)env;
	(void)memo;
	/* No fileName tells the central system there is nothing to upload. */
	*ret = json_object();
	if (*ret && !strcmp(st, "Accepted") && copy_opt(*ret, result, "filename", "fileName")) {
		json_decref(*ret);
		*ret = NULL;
	}
	return *ret ? 0 : -ENOMEM;
}

int tr201_down_get_log(struct ogw_tr_env *env, const json_t *payload, struct ogw_tr_out *out)
{
	int r = log_remember(env, json_integer_value(json_object_get(payload, "requestId")),
			     "GetLog");
	if (r)
		return r;
	/* SEC16 GetLog is 2.0.1 GetLog field for field. */
	return ogw_tr_forward(out, "GetLog", json_deep_copy(payload), NULL);
}

int tr201_res_get_log(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
		     json_t **ret)
{
	(void)env;
	(void)memo;
	*ret = json_pack("{s:O}", "status", json_object_get(result, "status"));
	if (*ret && copy_opt(*ret, result, "filename", NULL)) {
		json_decref(*ret);
		*ret = NULL;
	}
	return *ret ? 0 : -ENOMEM;
}
