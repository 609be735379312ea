/* SPDX-License-Identifier: MIT */
/*
 * Translator for an OCPP 2.0.1 charging station behind an OCPP 1.6 (+security
 * extension) central system, and for a 2.1 one through the 2.0.1 <-> 2.1
 * adapter: the action tables. One function per action and direction maps
 * fields, enums, ids and configuration keys after REFERENCE.md §3-§4 and
 * keeps the per-charger state the mapping needs; they live by concern in
 * v201_v16_<concern>.c (transactions, status, metering, smart_charging,
 * configuration, certificates, firmware; common helpers), sharing
 * internal.h. Nothing here does I/O: everything goes through the
 * session's ogw_tr_* environment.
 */
#include "ocppgw/ocpp.h"
#include "ocppgw/translator.h"
#include "internal.h"
#include "../v21_adapt.h"

/* Sorted by action name (binary search in ogw_translator_action()). */
static const struct ogw_tr_action up_actions[] = {
	{ "Authorize", OGW_TR_MAPPED, "Authorize or DataTransfer (ISO 15118 PnC)", tr201_up_authorize,
	  tr201_res_authorize },
	{ "BootNotification", OGW_TR_MAPPED, "BootNotification", tr201_up_boot, NULL },
	{ "ClearedChargingLimit", OGW_TR_LOCAL, "answered locally", tr201_up_local_empty, NULL },
	{ "DataTransfer", OGW_TR_MAPPED, "DataTransfer", tr201_up_data_transfer, NULL },
	{ "FirmwareStatusNotification", OGW_TR_MAPPED,
	  "FirmwareStatusNotification or SignedFirmwareStatusNotification", tr201_up_firmware_status,
	  NULL },
	{ "Get15118EVCertificate", OGW_TR_MAPPED, "DataTransfer (ISO 15118 PnC)",
	  tr201_up_get_15118_cert, tr201_res_get_15118_cert },
	{ "GetCertificateStatus", OGW_TR_MAPPED, "DataTransfer (ISO 15118 PnC)",
	  tr201_up_get_cert_status, tr201_res_get_cert_status },
	{ "Heartbeat", OGW_TR_MAPPED, "Heartbeat", tr201_up_heartbeat, NULL },
	{ "LogStatusNotification", OGW_TR_MAPPED,
	  "DiagnosticsStatusNotification or LogStatusNotification", tr201_up_log_status, NULL },
	{ "MeterValues", OGW_TR_MAPPED, "MeterValues", tr201_up_metervalues, NULL },
	{ "NotifyChargingLimit", OGW_TR_LOCAL, "answered locally", tr201_up_local_empty, NULL },
	{ "NotifyCustomerInformation", OGW_TR_LOCAL, "answered locally", tr201_up_local_empty, NULL },
	{ "NotifyDisplayMessages", OGW_TR_LOCAL, "answered locally", tr201_up_local_empty, NULL },
	{ "NotifyEVChargingNeeds", OGW_TR_LOCAL, "answered locally", tr201_up_ev_charging_needs,
	  NULL },
	{ "NotifyEVChargingSchedule", OGW_TR_LOCAL, "answered locally",
	  tr201_up_ev_charging_schedule, NULL },
	{ "NotifyEvent", OGW_TR_SYNTHESIZED, "StatusNotification (connector Problem)",
	  tr201_up_notify_event, NULL },
	{ "NotifyMonitoringReport", OGW_TR_LOCAL, "answered locally", tr201_up_local_empty, NULL },
	{ "NotifyReport", OGW_TR_LOCAL, "answered locally (parts of a GetConfiguration report)",
	  tr201_up_notify_report, NULL },
	{ "PublishFirmwareStatusNotification", OGW_TR_LOCAL, "answered locally",
	  tr201_up_local_empty, NULL },
	{ "ReportChargingProfiles", OGW_TR_LOCAL, "answered locally", tr201_up_local_empty, NULL },
	{ "ReservationStatusUpdate", OGW_TR_LOCAL, "answered locally", tr201_up_local_empty, NULL },
	{ "SecurityEventNotification", OGW_TR_MAPPED, "SecurityEventNotification",
	  tr201_up_security_event, NULL },
	{ "SignCertificate", OGW_TR_MAPPED, "SignCertificate or DataTransfer (ISO 15118 PnC)",
	  tr201_up_sign_certificate, tr201_res_sign_certificate },
	{ "StatusNotification", OGW_TR_MAPPED, "StatusNotification", tr201_up_status, NULL },
	{ "TransactionEvent", OGW_TR_SYNTHESIZED,
	  "StartTransaction, MeterValues, StatusNotification, StopTransaction", tr201_up_transaction,
	  tr201_res_transaction },
};

static const struct ogw_tr_action down_actions[] = {
	{ "CancelReservation", OGW_TR_MAPPED, "CancelReservation", tr201_down_cancel_reservation,
	  tr201_res_status },
	{ "CertificateSigned", OGW_TR_MAPPED, "CertificateSigned", tr201_down_certificate_signed,
	  tr201_res_status },
	{ "ChangeAvailability", OGW_TR_MAPPED, "ChangeAvailability", tr201_down_change_availability,
	  tr201_res_status },
	{ "ChangeConfiguration", OGW_TR_MAPPED, "SetVariables", tr201_down_change_configuration,
	  tr201_res_change_configuration },
	{ "ClearCache", OGW_TR_MAPPED, "ClearCache", tr201_down_clear_cache, tr201_res_status },
	{ "ClearChargingProfile", OGW_TR_MAPPED, "ClearChargingProfile",
	  tr201_down_clear_charging_profile, tr201_res_status },
	{ "DataTransfer", OGW_TR_MAPPED,
	  "DataTransfer, or the ISO 15118 PnC message it carries", tr201_down_data_transfer,
	  tr201_res_data_transfer },
	{ "DeleteCertificate", OGW_TR_MAPPED, "DeleteCertificate", tr201_down_delete_certificate,
	  tr201_res_status },
	{ "ExtendedTriggerMessage", OGW_TR_MAPPED, "TriggerMessage", tr201_down_trigger, tr201_res_status },
	{ "GetCompositeSchedule", OGW_TR_MAPPED, "GetCompositeSchedule",
	  tr201_down_get_composite_schedule, tr201_res_get_composite_schedule },
	{ "GetConfiguration", OGW_TR_MAPPED,
	  "GetVariables, or GetBaseReport (+ NotifyReport) without keys", tr201_down_get_configuration,
	  tr201_res_get_configuration },
	{ "GetDiagnostics", OGW_TR_MAPPED, "GetLog", tr201_down_get_diagnostics, tr201_res_get_diagnostics },
	{ "GetInstalledCertificateIds", OGW_TR_MAPPED, "GetInstalledCertificateIds",
	  tr201_down_get_installed_certs, tr201_res_get_installed_certs },
	{ "GetLocalListVersion", OGW_TR_MAPPED, "GetLocalListVersion",
	  tr201_down_get_local_list_version, tr201_res_get_local_list_version },
	{ "GetLog", OGW_TR_MAPPED, "GetLog", tr201_down_get_log, tr201_res_get_log },
	{ "InstallCertificate", OGW_TR_MAPPED, "InstallCertificate", tr201_down_install_certificate,
	  tr201_res_status },
	{ "RemoteStartTransaction", OGW_TR_MAPPED, "RequestStartTransaction", tr201_down_remote_start,
	  tr201_res_status },
	{ "RemoteStopTransaction", OGW_TR_MAPPED, "RequestStopTransaction", tr201_down_remote_stop,
	  tr201_res_status },
	{ "ReserveNow", OGW_TR_MAPPED, "ReserveNow", tr201_down_reserve_now, tr201_res_status },
	{ "Reset", OGW_TR_MAPPED, "Reset", tr201_down_reset, tr201_res_reset },
	{ "SendLocalList", OGW_TR_MAPPED, "SendLocalList", tr201_down_send_local_list, tr201_res_status },
	{ "SetChargingProfile", OGW_TR_MAPPED, "SetChargingProfile", tr201_down_set_charging_profile,
	  tr201_res_status },
	{ "SignedUpdateFirmware", OGW_TR_MAPPED, "UpdateFirmware", tr201_down_signed_update_firmware,
	  tr201_res_status },
	{ "TriggerMessage", OGW_TR_MAPPED, "TriggerMessage", tr201_down_trigger, tr201_res_status },
	{ "UnlockConnector", OGW_TR_MAPPED, "UnlockConnector", tr201_down_unlock, tr201_res_unlock },
	{ "UpdateFirmware", OGW_TR_MAPPED, "UpdateFirmware", tr201_down_update_firmware,
	  tr201_res_update_firmware },
};

const struct ogw_translator ogw_tr_v201_v16 = {
	.south = OGW_OCPP201,
	.north = OGW_OCPP16,
	.up = up_actions,
	.n_up = N(up_actions),
	.down = down_actions,
	.n_down = N(down_actions),
};

/* The same tables for a 2.1 charger: the south leg's payloads pass through
 * the 2.0.1 <-> 2.1 adapter (translators/v21_v201.c). */
const struct ogw_translator ogw_tr_v21_v16 = {
	.south = OGW_OCPP21,
	.north = OGW_OCPP16,
	.up = up_actions,
	.n_up = N(up_actions),
	.down = down_actions,
	.n_down = N(down_actions),
	.shim = &ogw_tr21_shim_south,
};
