/* SPDX-License-Identifier: MIT */
/*
 * 1.6 charger, 2.0.1 CSMS: firmware, logs and security events.
 * UpdateFirmware (SignedUpdateFirmware with a signature), GetLog
 * (GetDiagnostics or the SEC16 GetLog) and the status notifications that
 * follow them, carrying the requestId the CSMS gave.
 */
#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "ocppgw/translator.h"
#include "internal.h"

/* ---- from the charger: firmware, diagnostics and security notifications --- */

static const struct ogw_tr_map diag_status[] = {
	{ "Idle", "Idle" },
	{ "UploadFailed", "UploadFailure" },
	{ "Uploaded", "Uploaded" },
	{ "Uploading", "Uploading" },
};

/* Adds the requestId remembered under @key (the last GetLog/UpdateFirmware). */
static int add_request_id(struct ogw_tr_env *env, json_t *to, const char *key)
{
	json_t *s = ogw_tr_state_get(env, key);
	int r = 0;
	if (s && json_is_integer(json_object_get(s, "requestId")))
		r = ogw_tr_copy(to, NULL, s, "requestId");
	json_decref(s);
	return r;
}

int tr16_up_diag_status(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	json_t *n = json_pack("{s:s}", "status", MAP(diag_status, tr_str(p, "status"), "Idle"));
	if (n && add_request_id(env, n, "getlog"))
		n = (json_decref(n), NULL);
	return ogw_tr_forward(out, "LogStatusNotification", n, NULL);
}

int tr16_up_fw_status(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	/* the 1.6 values are a subset of the 2.0.1 ones */
	json_t *n = json_pack("{s:O}", "status", json_object_get(p, "status"));
	if (n && add_request_id(env, n, "firmware"))
		n = (json_decref(n), NULL);
	return ogw_tr_forward(out, "FirmwareStatusNotification", n, NULL);
}

/* SignedFirmwareStatusNotification, SecurityEventNotification and
 * LogStatusNotification carry the same fields in both versions. */
int tr16_up_signed_fw_status(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	(void)env;
	return ogw_tr_forward(out, "FirmwareStatusNotification", json_deep_copy(p), NULL);
}

int tr16_up_security_event(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	(void)env;
	return ogw_tr_forward(out, "SecurityEventNotification", json_deep_copy(p), NULL);
}

int tr16_up_log_status(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	(void)env;
	return ogw_tr_forward(out, "LogStatusNotification", json_deep_copy(p), NULL);
}

/* ---- from the CSMS: logs and firmware ----------------------------------------- */

/* DiagnosticsLog -> GetDiagnostics, SecurityLog -> GetLog (SEC16). The
 * requestId is kept for the DiagnosticsStatusNotifications that follow. */
int tr16_down_get_log(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	const json_t *log = json_object_get(p, "log");
	json_t *req;
	int r;

	if ((r = ogw_tr_state_put_new(env, "getlog",
				      json_pack("{s:O}", "requestId",
						json_object_get(p, "requestId")))) < 0)
		return r;
	if (!strcmp(tr_str(p, "logType"), "SecurityLog"))
		return ogw_tr_forward(out, "GetLog", json_deep_copy(p), NULL);
	req = json_pack("{s:O}", "location", json_object_get(log, "remoteLocation"));
	if (req &&
	    (ogw_tr_copy(req, NULL, p, "retries") || ogw_tr_copy(req, NULL, p, "retryInterval") ||
	     ogw_tr_copy(req, "startTime", log, "oldestTimestamp") ||
	     ogw_tr_copy(req, "stopTime", log, "latestTimestamp")))
		req = (json_decref(req), NULL);
	return ogw_tr_forward(out, "GetDiagnostics", req, NULL);
}

/* GetDiagnostics.conf names the file, or has none when there is nothing to
 * upload: that is a refusal in 2.0.1 terms. GetLog.conf maps field for field. */
int tr16_down_get_log_result(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
			     json_t **ret)
{
	const char *file =
	    tr_str(result, "fileName") ? tr_str(result, "fileName") : tr_str(result, "filename");
	const char *status = tr_str(result, "status");

	(void)env;
	(void)memo;
	*ret = json_pack("{s:s}", "status", status ? status : file ? "Accepted" : "Rejected");
	if (*ret && file && json_object_set_new(*ret, "filename", json_string(file)))
		*ret = (json_decref(*ret), NULL);
	return *ret ? 0 : -ENOMEM;
}

int tr16_down_update_firmware(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	const json_t *fw = json_object_get(p, "firmware");
	json_t *req;
	int r;

	if ((r = ogw_tr_state_put_new(env, "firmware",
				      json_pack("{s:O}", "requestId",
						json_object_get(p, "requestId")))) < 0)
		return r;
	if (tr_has(fw, "signature")) {
		/* SEC16 needs the signing certificate with the signature */
		if (!tr_has(fw, "signingCertificate"))
			return ogw_tr_out_status(out, "InvalidCertificate");
		return ogw_tr_forward(out, "SignedUpdateFirmware", json_deep_copy(p), NULL);
	}
	req = json_pack("{s:O, s:O}", "location", json_object_get(fw, "location"), "retrieveDate",
			json_object_get(fw, "retrieveDateTime"));
	if (req &&
	    (ogw_tr_copy(req, NULL, p, "retries") || ogw_tr_copy(req, NULL, p, "retryInterval")))
		req = (json_decref(req), NULL);
	return ogw_tr_forward(out, "UpdateFirmware", req, NULL);
}

/* 1.6 UpdateFirmware.conf is empty: the charger took it (REFERENCE §3). */
int tr16_down_update_firmware_result(struct ogw_tr_env *env, const json_t *memo,
				     const json_t *result, json_t **ret)
{
	(void)env;
	(void)memo;
	*ret = json_pack("{s:s}", "status",
			 tr_has(result, "status") ? tr_str(result, "status") : "Accepted");
	return *ret ? 0 : -ENOMEM;
}
