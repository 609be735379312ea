/* SPDX-License-Identifier: MIT */
/*
 * OCPP 2.1 charger behind an OCPP 2.0.1 CSMS. Shared actions become
 * themselves, adapted field by field by the 2.0.1 <-> 2.1 adapter
 * (v21_adapt.h, v21_adapt.c); the actions only 2.1 has are answered here.
 * It keeps no state: 2.x ids, seqNo and the device model mean the same in
 * both versions.
 */
#include <errno.h>
#include <stdio.h>

#include "ocppgw/translator.h"
#include "common.h"
#include "v21_adapt.h"

/* 2.1 notifications the 2.0.1 CSMS has no message for (DER, priority
 * charging, settlement, battery swap): acknowledged here, not forwarded. */
static int local_ack(struct ogw_tr_env *env, const json_t *payload, struct ogw_tr_out *out)
{
	(void)env;
	(void)payload;
	return ogw_tr_out_answer(out, json_object());
}

/* A SEND is never answered (J21: "the receiver SHALL NOT reply"); the session sends nothing
 * back for it whatever the outcome; ERROR says it went nowhere. Streams
 * cannot be open anyway: OpenPeriodicEventStream is refused. */
static int drop_stream_data(struct ogw_tr_env *env, const json_t *payload,
			    struct ogw_tr_out *out)
{
	(void)env;
	(void)payload;
	out->outcome = OGW_TR_ERROR;
	out->err = OGW_ERR_NOT_SUPPORTED;
	snprintf(out->desc, sizeof(out->desc),
		 "periodic event streams do not exist in the CSMS's OCPP 2.0.1: dropped");
	return 0;
}

/* The response repeats the number it could not check. */
static int vat_rejected(struct ogw_tr_env *env, const json_t *payload, struct ogw_tr_out *out)
{
	json_t *evse = json_object_get(payload, "evseId");
	(void)env;
	out->outcome = OGW_TR_ANSWER;
	out->payload = json_pack("{s:O,s:s}", "vatNumber", json_object_get(payload, "vatNumber"),
				 "status", "Rejected");
	if (out->payload && evse && json_object_set(out->payload, "evseId", evse)) {
		json_decref(out->payload);
		out->payload = NULL;
	}
	return out->payload ? 0 : -ENOMEM;
}

/* Shared actions: the same action on the other leg, adapted. */
OGW_TR21_RELAY(up, Authorize, OGW_TR21_TO201)
OGW_TR21_RELAY(up, BootNotification, OGW_TR21_TO201)
OGW_TR21_RELAY(up, ClearedChargingLimit, OGW_TR21_TO201)
OGW_TR21_RELAY(up, DataTransfer, OGW_TR21_TO201)
OGW_TR21_RELAY(up, FirmwareStatusNotification, OGW_TR21_TO201)
OGW_TR21_RELAY(up, Get15118EVCertificate, OGW_TR21_TO201)
OGW_TR21_RELAY(up, GetCertificateStatus, OGW_TR21_TO201)
OGW_TR21_RELAY(up, Heartbeat, OGW_TR21_TO201)
OGW_TR21_RELAY(up, LogStatusNotification, OGW_TR21_TO201)
OGW_TR21_RELAY(up, MeterValues, OGW_TR21_TO201)
OGW_TR21_RELAY(up, NotifyChargingLimit, OGW_TR21_TO201)
OGW_TR21_RELAY(up, NotifyCustomerInformation, OGW_TR21_TO201)
OGW_TR21_RELAY(up, NotifyDisplayMessages, OGW_TR21_TO201)
OGW_TR21_RELAY(up, NotifyEVChargingNeeds, OGW_TR21_TO201)
OGW_TR21_RELAY(up, NotifyEVChargingSchedule, OGW_TR21_TO201)
OGW_TR21_RELAY(up, NotifyEvent, OGW_TR21_TO201)
OGW_TR21_RELAY(up, NotifyMonitoringReport, OGW_TR21_TO201)
OGW_TR21_RELAY(up, NotifyReport, OGW_TR21_TO201)
OGW_TR21_RELAY(up, PublishFirmwareStatusNotification, OGW_TR21_TO201)
OGW_TR21_RELAY(up, ReportChargingProfiles, OGW_TR21_TO201)
OGW_TR21_RELAY(up, ReservationStatusUpdate, OGW_TR21_TO201)
OGW_TR21_RELAY(up, SecurityEventNotification, OGW_TR21_TO201)
OGW_TR21_RELAY(up, SignCertificate, OGW_TR21_TO201)
OGW_TR21_RELAY(up, StatusNotification, OGW_TR21_TO201)
OGW_TR21_RELAY(up, TransactionEvent, OGW_TR21_TO201)
OGW_TR21_RELAY(dn, CancelReservation, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, CertificateSigned, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, ChangeAvailability, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, ClearCache, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, ClearChargingProfile, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, ClearDisplayMessage, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, ClearVariableMonitoring, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, CostUpdated, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, CustomerInformation, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, DataTransfer, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, DeleteCertificate, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, GetBaseReport, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, GetChargingProfiles, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, GetCompositeSchedule, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, GetDisplayMessages, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, GetInstalledCertificateIds, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, GetLocalListVersion, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, GetLog, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, GetMonitoringReport, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, GetReport, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, GetTransactionStatus, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, GetVariables, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, InstallCertificate, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, PublishFirmware, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, RequestStartTransaction, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, RequestStopTransaction, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, ReserveNow, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, Reset, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, SendLocalList, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, SetChargingProfile, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, SetDisplayMessage, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, SetMonitoringBase, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, SetMonitoringLevel, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, SetNetworkProfile, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, SetVariableMonitoring, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, SetVariables, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, TriggerMessage, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, UnlockConnector, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, UnpublishFirmware, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, UpdateFirmware, OGW_TR21_TO21)

static const struct ogw_tr_action up_actions[] = {
	OGW_TR21_MAPPED(up, Authorize),
	OGW_TR21_LOCAL(BatterySwap, local_ack, "{} (not forwarded)"),
	OGW_TR21_MAPPED(up, BootNotification),
	OGW_TR21_MAPPED(up, ClearedChargingLimit),
	OGW_TR21_LOCAL(ClosePeriodicEventStream, local_ack, "{} (no stream was opened)"),
	OGW_TR21_MAPPED(up, DataTransfer),
	OGW_TR21_MAPPED(up, FirmwareStatusNotification),
	OGW_TR21_MAPPED(up, Get15118EVCertificate),
	OGW_TR21_REJECTED(GetCertificateChainStatus, ogw_tr21_not_supported, "CALLERROR NotSupported"),
	OGW_TR21_MAPPED(up, GetCertificateStatus),
	OGW_TR21_MAPPED(up, Heartbeat),
	OGW_TR21_MAPPED(up, LogStatusNotification),
	OGW_TR21_MAPPED(up, MeterValues),
	OGW_TR21_MAPPED(up, NotifyChargingLimit),
	OGW_TR21_MAPPED(up, NotifyCustomerInformation),
	OGW_TR21_LOCAL(NotifyDERAlarm, local_ack, "{} (not forwarded)"),
	OGW_TR21_LOCAL(NotifyDERStartStop, local_ack, "{} (not forwarded)"),
	OGW_TR21_MAPPED(up, NotifyDisplayMessages),
	OGW_TR21_MAPPED(up, NotifyEVChargingNeeds),
	OGW_TR21_MAPPED(up, NotifyEVChargingSchedule),
	OGW_TR21_MAPPED(up, NotifyEvent),
	OGW_TR21_MAPPED(up, NotifyMonitoringReport),
	OGW_TR21_REJECTED(NotifyPeriodicEventStream, drop_stream_data, "dropped (SEND, never answered)"),
	OGW_TR21_LOCAL(NotifyPriorityCharging, local_ack, "{} (not forwarded)"),
	OGW_TR21_MAPPED(up, NotifyReport),
	OGW_TR21_LOCAL(NotifySettlement, local_ack, "{} (not forwarded)"),
	OGW_TR21_REJECTED(OpenPeriodicEventStream, ogw_tr21_rejected, "status Rejected"),
	OGW_TR21_MAPPED(up, PublishFirmwareStatusNotification),
	OGW_TR21_REJECTED(PullDynamicScheduleUpdate, ogw_tr21_rejected, "status Rejected"),
	OGW_TR21_MAPPED(up, ReportChargingProfiles),
	OGW_TR21_LOCAL(ReportDERControl, local_ack, "{} (not forwarded)"),
	OGW_TR21_MAPPED(up, ReservationStatusUpdate),
	OGW_TR21_MAPPED(up, SecurityEventNotification),
	OGW_TR21_MAPPED(up, SignCertificate),
	OGW_TR21_MAPPED(up, StatusNotification),
	OGW_TR21_MAPPED(up, TransactionEvent),
	OGW_TR21_REJECTED(VatNumberValidation, vat_rejected, "status Rejected"),
};

/* A 2.0.1 CSMS sends only 2.0.1 actions: all exist in 2.1. */
static const struct ogw_tr_action dn_actions[] = {
	OGW_TR21_MAPPED(dn, CancelReservation),
	OGW_TR21_MAPPED(dn, CertificateSigned),
	OGW_TR21_MAPPED(dn, ChangeAvailability),
	OGW_TR21_MAPPED(dn, ClearCache),
	OGW_TR21_MAPPED(dn, ClearChargingProfile),
	OGW_TR21_MAPPED(dn, ClearDisplayMessage),
	OGW_TR21_MAPPED(dn, ClearVariableMonitoring),
	OGW_TR21_MAPPED(dn, CostUpdated),
	OGW_TR21_MAPPED(dn, CustomerInformation),
	OGW_TR21_MAPPED(dn, DataTransfer),
	OGW_TR21_MAPPED(dn, DeleteCertificate),
	OGW_TR21_MAPPED(dn, GetBaseReport),
	OGW_TR21_MAPPED(dn, GetChargingProfiles),
	OGW_TR21_MAPPED(dn, GetCompositeSchedule),
	OGW_TR21_MAPPED(dn, GetDisplayMessages),
	OGW_TR21_MAPPED(dn, GetInstalledCertificateIds),
	OGW_TR21_MAPPED(dn, GetLocalListVersion),
	OGW_TR21_MAPPED(dn, GetLog),
	OGW_TR21_MAPPED(dn, GetMonitoringReport),
	OGW_TR21_MAPPED(dn, GetReport),
	OGW_TR21_MAPPED(dn, GetTransactionStatus),
	OGW_TR21_MAPPED(dn, GetVariables),
	OGW_TR21_MAPPED(dn, InstallCertificate),
	OGW_TR21_MAPPED(dn, PublishFirmware),
	OGW_TR21_MAPPED(dn, RequestStartTransaction),
	OGW_TR21_MAPPED(dn, RequestStopTransaction),
	OGW_TR21_MAPPED(dn, ReserveNow),
	OGW_TR21_MAPPED(dn, Reset),
	OGW_TR21_MAPPED(dn, SendLocalList),
	OGW_TR21_MAPPED(dn, SetChargingProfile),
	OGW_TR21_MAPPED(dn, SetDisplayMessage),
	OGW_TR21_MAPPED(dn, SetMonitoringBase),
	OGW_TR21_MAPPED(dn, SetMonitoringLevel),
	OGW_TR21_MAPPED(dn, SetNetworkProfile),
	OGW_TR21_MAPPED(dn, SetVariableMonitoring),
	OGW_TR21_MAPPED(dn, SetVariables),
	OGW_TR21_MAPPED(dn, TriggerMessage),
	OGW_TR21_MAPPED(dn, UnlockConnector),
	OGW_TR21_MAPPED(dn, UnpublishFirmware),
	OGW_TR21_MAPPED(dn, UpdateFirmware),
};

const struct ogw_translator ogw_tr_v21_v201 = {
	.south = OGW_OCPP21,
	.north = OGW_OCPP201,
	.up = up_actions,
	.n_up = sizeof(up_actions) / sizeof(up_actions[0]),
	.down = dn_actions,
	.n_down = sizeof(dn_actions) / sizeof(dn_actions[0]),
};
