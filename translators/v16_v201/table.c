/* SPDX-License-Identifier: MIT */
/*
 * The 1.6 -> 2.0.1 translator: a 1.6 charger (with the 1.6 security
 * extension) shown to a 2.0.1 CSMS as a 2.0.1 charging station, per the
 * tables of REFERENCE §3-4. This file holds its two action tables and the
 * translators made of them (for a 2.0.1 CSMS, and through the adapter for a
 * 2.1 one), with the refusals of the 2.0.1 functions a 1.6 charger has no
 * counterpart for; each concern's functions are in the files beside it
 * (internal.h lists them). The gateway owns the 2.0.1 transaction ids, the
 * TransactionEvent seqNo and the device-model view of the 1.6
 * configuration keys, all kept in the per-charger state. It does no
 * queueing, retrying or offline authorization: the session and the auth
 * feature do those.
 */
#include <errno.h>

#include <jansson.h>

#include "ocppgw/translator.h"
#include "internal.h"
#include "../v21_adapt.h"

/* ---- 2.0.1 functions a 1.6 charger has no counterpart for ------------------- */

/* Refused with the response's own status: nothing to relay them to. */
static int down_reject_status(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	(void)env;
	(void)p;
	return ogw_tr_out_status(out, "Rejected");
}

static int down_not_supported(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	(void)env;
	(void)p;
	return ogw_tr_out_status(out, "NotSupported");
}

static int down_unknown(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	(void)env;
	(void)p;
	return ogw_tr_out_status(out, "Unknown");
}

static int down_unpublish(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	(void)env;
	(void)p;
	return ogw_tr_out_status(out, "NoFirmware");
}

/* CostUpdated has an empty response: the cost cannot be shown on a 1.6
 * charger, so it is acknowledged and dropped. */
static int down_cost_updated(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	(void)env;
	(void)p;
	return ogw_tr_out_answer(out, json_object());
}

static int down_set_monitoring(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	json_t *results = json_array(), *d;
	size_t i;

	(void)env;
	json_array_foreach(json_object_get(p, "setMonitoringData"), i, d) {
		json_t *res = json_pack("{s:s, s:O, s:O, s:O, s:O}", "status", "Rejected", "type",
					json_object_get(d, "type"), "severity",
					json_object_get(d, "severity"), "component",
					json_object_get(d, "component"), "variable",
					json_object_get(d, "variable"));
		if (!results || !res || ogw_tr_copy(res, NULL, d, "id") ||
		    json_array_append_new(results, res)) {
			json_decref(res);
			json_decref(results);
			return -ENOMEM;
		}
	}
	return ogw_tr_out_answer(out, json_pack("{s:o}", "setMonitoringResult", results));
}

static int down_clear_monitoring(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	json_t *results = json_array(), *id;
	size_t i;

	(void)env;
	json_array_foreach(json_object_get(p, "id"), i, id)
		if (!results || json_array_append_new(results, json_pack("{s:s, s:O}", "status",
									 "NotFound", "id", id))) {
			json_decref(results);
			return -ENOMEM;
		}
	return ogw_tr_out_answer(out, json_pack("{s:o}", "clearMonitoringResult", results));
}

/* ======================================================================== *
 *  The tables, sorted by action name (ogw_translator_action bisects them)   *
 * ======================================================================== */

static const struct ogw_tr_action up_actions[] = {
	{ "Authorize", OGW_TR_MAPPED, "Authorize", tr16_up_authorize, tr16_up_authorize_result },
	{ "BootNotification", OGW_TR_MAPPED, "BootNotification", tr16_up_boot,
	  tr16_up_boot_result },
	{ "DataTransfer", OGW_TR_MAPPED,
	  "DataTransfer (Plug & Charge: Authorize, Get15118EVCertificate, GetCertificateStatus, "
	  "SignCertificate)",
	  tr16_up_data, tr16_up_data_result },
	{ "DiagnosticsStatusNotification", OGW_TR_MAPPED, "LogStatusNotification",
	  tr16_up_diag_status, NULL },
	{ "FirmwareStatusNotification", OGW_TR_MAPPED, "FirmwareStatusNotification",
	  tr16_up_fw_status, NULL },
	{ "Heartbeat", OGW_TR_MAPPED, "Heartbeat", tr16_up_heartbeat, NULL },
	{ "LogStatusNotification", OGW_TR_MAPPED, "LogStatusNotification", tr16_up_log_status,
	  NULL },
	{ "MeterValues", OGW_TR_MAPPED, "TransactionEvent (Updated) or MeterValues", tr16_up_meter,
	  ogw_tr_result_empty },
	{ "SecurityEventNotification", OGW_TR_MAPPED, "SecurityEventNotification",
	  tr16_up_security_event, NULL },
	{ "SignCertificate", OGW_TR_MAPPED, "SignCertificate", tr16_up_sign_certificate,
	  ogw_tr_result_status },
	{ "SignedFirmwareStatusNotification", OGW_TR_MAPPED, "FirmwareStatusNotification",
	  tr16_up_signed_fw_status, NULL },
	{ "StartTransaction", OGW_TR_SYNTHESIZED,
	  "TransactionEvent (Started) (+ ReservationStatusUpdate)", tr16_up_start, NULL },
	{ "StatusNotification", OGW_TR_SYNTHESIZED,
	  "StatusNotification (+ NotifyEvent, TransactionEvent, ReservationStatusUpdate)",
	  tr16_up_status, NULL },
	{ "StopTransaction", OGW_TR_SYNTHESIZED, "TransactionEvent (Ended)", tr16_up_stop, NULL },
};

static const struct ogw_tr_action down_actions[] = {
	{ "CancelReservation", OGW_TR_MAPPED, "CancelReservation", tr16_down_cancel_reservation,
	  tr16_down_cancel_reservation_result },
	{ "CertificateSigned", OGW_TR_MAPPED,
	  "CertificateSigned (V2GCertificate: Plug & Charge DataTransfer)", tr16_down_cert_signed,
	  tr16_result_status_or_pnc },
	{ "ChangeAvailability", OGW_TR_MAPPED, "ChangeAvailability", tr16_down_availability,
	  ogw_tr_result_status },
	{ "ClearCache", OGW_TR_MAPPED, "ClearCache", tr16_down_clear_cache, ogw_tr_result_status },
	{ "ClearChargingProfile", OGW_TR_MAPPED, "ClearChargingProfile", tr16_down_clear_profile,
	  tr16_down_clear_profile_result },
	{ "ClearDisplayMessage", OGW_TR_REJECTED, "-", down_unknown, NULL },
	{ "ClearVariableMonitoring", OGW_TR_REJECTED, "-", down_clear_monitoring, NULL },
	{ "CostUpdated", OGW_TR_REJECTED, "-", down_cost_updated, NULL },
	{ "CustomerInformation", OGW_TR_REJECTED, "-", down_reject_status, NULL },
	{ "DataTransfer", OGW_TR_MAPPED, "DataTransfer", tr16_down_data, tr16_down_data_result },
	{ "DeleteCertificate", OGW_TR_MAPPED, "DeleteCertificate", tr16_down_delete_cert,
	  ogw_tr_result_status },
	{ "GetBaseReport", OGW_TR_SYNTHESIZED, "GetConfiguration (+ NotifyReport)",
	  tr16_down_report, NULL },
	{ "GetChargingProfiles", OGW_TR_LOCAL, "ReportChargingProfiles (from the gateway's cache)",
	  tr16_down_get_profiles, NULL },
	{ "GetCompositeSchedule", OGW_TR_MAPPED, "GetCompositeSchedule", tr16_down_composite,
	  tr16_down_composite_result },
	{ "GetDisplayMessages", OGW_TR_REJECTED, "-", down_unknown, NULL },
	{ "GetInstalledCertificateIds", OGW_TR_MAPPED,
	  "GetInstalledCertificateIds (ISO 15118 ones: Plug & Charge DataTransfer)",
	  tr16_down_installed_certs, tr16_down_installed_certs_result },
	{ "GetLocalListVersion", OGW_TR_MAPPED, "GetLocalListVersion", tr16_down_list_version,
	  tr16_down_list_version_result },
	{ "GetLog", OGW_TR_MAPPED, "GetDiagnostics or GetLog", tr16_down_get_log,
	  tr16_down_get_log_result },
	{ "GetMonitoringReport", OGW_TR_REJECTED, "-", down_not_supported, NULL },
	{ "GetReport", OGW_TR_SYNTHESIZED, "GetConfiguration (+ NotifyReport)", tr16_down_report,
	  NULL },
	{ "GetTransactionStatus", OGW_TR_LOCAL, "-", tr16_down_tx_status, NULL },
	{ "GetVariables", OGW_TR_MAPPED, "GetConfiguration", tr16_down_get_vars, NULL },
	{ "InstallCertificate", OGW_TR_MAPPED,
	  "InstallCertificate (V2G, MO roots: Plug & Charge DataTransfer)", tr16_down_install_cert,
	  tr16_result_status_or_pnc },
	{ "PublishFirmware", OGW_TR_REJECTED, "-", down_reject_status, NULL },
	{ "RequestStartTransaction", OGW_TR_MAPPED, "RemoteStartTransaction",
	  tr16_down_request_start, tr16_down_request_start_result },
	{ "RequestStopTransaction", OGW_TR_MAPPED, "RemoteStopTransaction", tr16_down_request_stop,
	  ogw_tr_result_status },
	{ "ReserveNow", OGW_TR_SYNTHESIZED, "ReserveNow (+ ReservationStatusUpdate)",
	  tr16_down_reserve, tr16_down_reserve_result },
	{ "Reset", OGW_TR_SYNTHESIZED, "Reset (OnIdle in a transaction: Scheduled, Soft once idle)",
	  tr16_down_reset, tr16_down_reset_result },
	{ "SendLocalList", OGW_TR_MAPPED, "SendLocalList", tr16_down_send_list,
	  tr16_down_send_list_result },
	{ "SetChargingProfile", OGW_TR_MAPPED, "SetChargingProfile", tr16_down_set_profile,
	  tr16_down_set_profile_result },
	{ "SetDisplayMessage", OGW_TR_REJECTED, "-", down_reject_status, NULL },
	{ "SetMonitoringBase", OGW_TR_REJECTED, "-", down_not_supported, NULL },
	{ "SetMonitoringLevel", OGW_TR_REJECTED, "-", down_reject_status, NULL },
	{ "SetNetworkProfile", OGW_TR_REJECTED, "-", down_reject_status, NULL },
	{ "SetVariableMonitoring", OGW_TR_REJECTED, "-", down_set_monitoring, NULL },
	{ "SetVariables", OGW_TR_MAPPED, "ChangeConfiguration (one per variable)",
	  tr16_down_set_vars, NULL },
	{ "TriggerMessage", OGW_TR_MAPPED,
	  "TriggerMessage or ExtendedTriggerMessage (SignV2GCertificate: Plug & Charge DataTransfer)",
	  tr16_down_trigger, tr16_result_status_or_pnc },
	{ "UnlockConnector", OGW_TR_MAPPED, "UnlockConnector", tr16_down_unlock,
	  tr16_down_unlock_result },
	{ "UnpublishFirmware", OGW_TR_REJECTED, "-", down_unpublish, NULL },
	{ "UpdateFirmware", OGW_TR_MAPPED, "SignedUpdateFirmware or UpdateFirmware",
	  tr16_down_update_firmware, tr16_down_update_firmware_result },
};

const struct ogw_translator ogw_tr_v16_v201 = {
	.south = OGW_OCPP16,
	.north = OGW_OCPP201,
	.up = up_actions,
	.n_up = N_OF(up_actions),
	.down = down_actions,
	.n_down = N_OF(down_actions),
};

/* The same tables behind a 2.1 CSMS: the north leg's payloads pass through
 * the 2.0.1 <-> 2.1 adapter (translators/v21_adapt.c). */
const struct ogw_translator ogw_tr_v16_v21 = {
	.south = OGW_OCPP16,
	.north = OGW_OCPP21,
	.up = up_actions,
	.n_up = N_OF(up_actions),
	.down = down_actions,
	.n_down = N_OF(down_actions),
	.shim = &ogw_tr21_shim_north,
};
