/* SPDX-License-Identifier: MIT */
/*
 * OCPP 2.0.1 charger behind an OCPP 2.1 CSMS. Everything the charger sends
 * exists in 2.1 and is widened by the shared adapter (v21_adapt.h); the
 * CSMS's calls are adapted down for the charger, and the 2.1-only ones
 * (tariffs, DER, V2X, streams, battery swap, priority charging) are
 * refused with their response's own status. It keeps no state.
 */
#include <errno.h>
#include <jansson.h>

#include "ocppgw/translator.h"
#include "common.h"
#include "v21_adapt.h"

/* DER control responses say NotSupported rather than Rejected. */
static int der_not_supported(struct ogw_tr_env *env, const json_t *payload,
			     struct ogw_tr_out *out)
{
	(void)env;
	(void)payload;
	return ogw_tr_out_status(out, "NotSupported");
}

/* One result per tariff named, or one for "all tariffs". */
static int clear_tariffs_rejected(struct ogw_tr_env *env, const json_t *payload,
				  struct ogw_tr_out *out)
{
	json_t *ids = json_object_get(payload, "tariffIds");
	json_t *results = json_array();
	json_t *id;
	size_t i;
	int r = -ENOMEM;

	(void)env;
	if (!results)
		goto out;
	json_array_foreach(ids, i, id) {
		if (json_array_append_new(results, json_pack("{s:s,s:O}", "status", "Rejected",
							     "tariffId", id)))
			goto out;
	}
	if (!json_array_size(results) &&
	    json_array_append_new(results, json_pack("{s:s}", "status", "Rejected")))
		goto out;
	out->payload = json_pack("{s:O}", "clearTariffsResult", results);
	if (!out->payload)
		goto out;
	out->outcome = OGW_TR_ANSWER;
	r = 0;
out:
	json_decref(results);
	return r;
}

/* A 2.0.1 charger has no periodic event streams to list. */
static int no_streams(struct ogw_tr_env *env, const json_t *payload, struct ogw_tr_out *out)
{
	(void)env;
	(void)payload;
	return ogw_tr_out_answer(out, json_object());
}

/* Shared actions: the same action on the other leg, adapted. */
OGW_TR21_RELAY(up, Authorize, OGW_TR21_TO21)
OGW_TR21_RELAY(up, BootNotification, OGW_TR21_TO21)
OGW_TR21_RELAY(up, ClearedChargingLimit, OGW_TR21_TO21)
OGW_TR21_RELAY(up, DataTransfer, OGW_TR21_TO21)
OGW_TR21_RELAY(up, FirmwareStatusNotification, OGW_TR21_TO21)
OGW_TR21_RELAY(up, Get15118EVCertificate, OGW_TR21_TO21)
OGW_TR21_RELAY(up, GetCertificateStatus, OGW_TR21_TO21)
OGW_TR21_RELAY(up, Heartbeat, OGW_TR21_TO21)
OGW_TR21_RELAY(up, LogStatusNotification, OGW_TR21_TO21)
OGW_TR21_RELAY(up, MeterValues, OGW_TR21_TO21)
OGW_TR21_RELAY(up, NotifyChargingLimit, OGW_TR21_TO21)
OGW_TR21_RELAY(up, NotifyCustomerInformation, OGW_TR21_TO21)
OGW_TR21_RELAY(up, NotifyDisplayMessages, OGW_TR21_TO21)
OGW_TR21_RELAY(up, NotifyEVChargingNeeds, OGW_TR21_TO21)
OGW_TR21_RELAY(up, NotifyEVChargingSchedule, OGW_TR21_TO21)
OGW_TR21_RELAY(up, NotifyEvent, OGW_TR21_TO21)
OGW_TR21_RELAY(up, NotifyMonitoringReport, OGW_TR21_TO21)
OGW_TR21_RELAY(up, NotifyReport, OGW_TR21_TO21)
OGW_TR21_RELAY(up, PublishFirmwareStatusNotification, OGW_TR21_TO21)
OGW_TR21_RELAY(up, ReportChargingProfiles, OGW_TR21_TO21)
OGW_TR21_RELAY(up, ReservationStatusUpdate, OGW_TR21_TO21)
OGW_TR21_RELAY(up, SecurityEventNotification, OGW_TR21_TO21)
OGW_TR21_RELAY(up, SignCertificate, OGW_TR21_TO21)
OGW_TR21_RELAY(up, StatusNotification, OGW_TR21_TO21)
OGW_TR21_RELAY(up, TransactionEvent, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, CancelReservation, OGW_TR21_TO201)
OGW_TR21_RELAY(dn, CertificateSigned, OGW_TR21_TO201)
OGW_TR21_RELAY(dn, ChangeAvailability, OGW_TR21_TO201)
OGW_TR21_RELAY(dn, ClearCache, OGW_TR21_TO201)
OGW_TR21_RELAY(dn, ClearChargingProfile, OGW_TR21_TO201)
OGW_TR21_RELAY(dn, ClearDisplayMessage, OGW_TR21_TO201)
OGW_TR21_RELAY(dn, ClearVariableMonitoring, OGW_TR21_TO201)
OGW_TR21_RELAY(dn, CostUpdated, OGW_TR21_TO201)
OGW_TR21_RELAY(dn, CustomerInformation, OGW_TR21_TO201)
OGW_TR21_RELAY(dn, DataTransfer, OGW_TR21_TO201)
OGW_TR21_RELAY(dn, DeleteCertificate, OGW_TR21_TO201)
OGW_TR21_RELAY(dn, GetBaseReport, OGW_TR21_TO201)
OGW_TR21_RELAY(dn, GetChargingProfiles, OGW_TR21_TO201)
OGW_TR21_RELAY(dn, GetCompositeSchedule, OGW_TR21_TO201)
OGW_TR21_RELAY(dn, GetDisplayMessages, OGW_TR21_TO201)
OGW_TR21_RELAY(dn, GetInstalledCertificateIds, OGW_TR21_TO201)
OGW_TR21_RELAY(dn, GetLocalListVersion, OGW_TR21_TO201)
OGW_TR21_RELAY(dn, GetLog, OGW_TR21_TO201)
OGW_TR21_RELAY(dn, GetMonitoringReport, OGW_TR21_TO201)
OGW_TR21_RELAY(dn, GetReport, OGW_TR21_TO201)
OGW_TR21_RELAY(dn, GetTransactionStatus, OGW_TR21_TO201)
OGW_TR21_RELAY(dn, GetVariables, OGW_TR21_TO201)
OGW_TR21_RELAY(dn, InstallCertificate, OGW_TR21_TO201)
OGW_TR21_RELAY(dn, PublishFirmware, OGW_TR21_TO201)
OGW_TR21_RELAY(dn, RequestStartTransaction, OGW_TR21_TO201)
OGW_TR21_RELAY(dn, RequestStopTransaction, OGW_TR21_TO201)
OGW_TR21_RELAY(dn, ReserveNow, OGW_TR21_TO201)
OGW_TR21_RELAY(dn, Reset, OGW_TR21_TO201)
OGW_TR21_RELAY(dn, SendLocalList, OGW_TR21_TO201)
OGW_TR21_RELAY(dn, SetChargingProfile, OGW_TR21_TO201)
OGW_TR21_RELAY(dn, SetDisplayMessage, OGW_TR21_TO201)
OGW_TR21_RELAY(dn, SetMonitoringBase, OGW_TR21_TO201)
OGW_TR21_RELAY(dn, SetMonitoringLevel, OGW_TR21_TO201)
OGW_TR21_RELAY(dn, SetNetworkProfile, OGW_TR21_TO201)
OGW_TR21_RELAY(dn, SetVariableMonitoring, OGW_TR21_TO201)
OGW_TR21_RELAY(dn, SetVariables, OGW_TR21_TO201)
OGW_TR21_RELAY(dn, TriggerMessage, OGW_TR21_TO201)
OGW_TR21_RELAY(dn, UnlockConnector, OGW_TR21_TO201)
OGW_TR21_RELAY(dn, UnpublishFirmware, OGW_TR21_TO201)
OGW_TR21_RELAY(dn, UpdateFirmware, OGW_TR21_TO201)

static const struct ogw_tr_action up_actions[] = {
	OGW_TR21_MAPPED(up, Authorize),
	OGW_TR21_MAPPED(up, BootNotification),
	OGW_TR21_MAPPED(up, ClearedChargingLimit),
	OGW_TR21_MAPPED(up, DataTransfer),
	OGW_TR21_MAPPED(up, FirmwareStatusNotification),
	OGW_TR21_MAPPED(up, Get15118EVCertificate),
	OGW_TR21_MAPPED(up, GetCertificateStatus),
	OGW_TR21_MAPPED(up, Heartbeat),
	OGW_TR21_MAPPED(up, LogStatusNotification),
	OGW_TR21_MAPPED(up, MeterValues),
	OGW_TR21_MAPPED(up, NotifyChargingLimit),
	OGW_TR21_MAPPED(up, NotifyCustomerInformation),
	OGW_TR21_MAPPED(up, NotifyDisplayMessages),
	OGW_TR21_MAPPED(up, NotifyEVChargingNeeds),
	OGW_TR21_MAPPED(up, NotifyEVChargingSchedule),
	OGW_TR21_MAPPED(up, NotifyEvent),
	OGW_TR21_MAPPED(up, NotifyMonitoringReport),
	OGW_TR21_MAPPED(up, NotifyReport),
	OGW_TR21_MAPPED(up, PublishFirmwareStatusNotification),
	OGW_TR21_MAPPED(up, ReportChargingProfiles),
	OGW_TR21_MAPPED(up, ReservationStatusUpdate),
	OGW_TR21_MAPPED(up, SecurityEventNotification),
	OGW_TR21_MAPPED(up, SignCertificate),
	OGW_TR21_MAPPED(up, StatusNotification),
	OGW_TR21_MAPPED(up, TransactionEvent),
};

static const struct ogw_tr_action dn_actions[] = {
	OGW_TR21_REJECTED(AFRRSignal, ogw_tr21_rejected, "status Rejected"),
	OGW_TR21_REJECTED(AdjustPeriodicEventStream, ogw_tr21_rejected, "status Rejected"),
	OGW_TR21_MAPPED(dn, CancelReservation),
	OGW_TR21_MAPPED(dn, CertificateSigned),
	OGW_TR21_MAPPED(dn, ChangeAvailability),
	OGW_TR21_REJECTED(ChangeTransactionTariff, ogw_tr21_rejected, "status Rejected"),
	OGW_TR21_MAPPED(dn, ClearCache),
	OGW_TR21_MAPPED(dn, ClearChargingProfile),
	OGW_TR21_REJECTED(ClearDERControl, der_not_supported, "status NotSupported"),
	OGW_TR21_MAPPED(dn, ClearDisplayMessage),
	OGW_TR21_REJECTED(ClearTariffs, clear_tariffs_rejected, "status Rejected per tariff"),
	OGW_TR21_MAPPED(dn, ClearVariableMonitoring),
	OGW_TR21_MAPPED(dn, CostUpdated),
	OGW_TR21_MAPPED(dn, CustomerInformation),
	OGW_TR21_MAPPED(dn, DataTransfer),
	OGW_TR21_MAPPED(dn, DeleteCertificate),
	OGW_TR21_MAPPED(dn, GetBaseReport),
	OGW_TR21_MAPPED(dn, GetChargingProfiles),
	OGW_TR21_MAPPED(dn, GetCompositeSchedule),
	OGW_TR21_REJECTED(GetDERControl, der_not_supported, "status NotSupported"),
	OGW_TR21_MAPPED(dn, GetDisplayMessages),
	OGW_TR21_MAPPED(dn, GetInstalledCertificateIds),
	OGW_TR21_MAPPED(dn, GetLocalListVersion),
	OGW_TR21_MAPPED(dn, GetLog),
	OGW_TR21_MAPPED(dn, GetMonitoringReport),
	OGW_TR21_LOCAL(GetPeriodicEventStream, no_streams, "{} (the charger has no streams)"),
	OGW_TR21_MAPPED(dn, GetReport),
	OGW_TR21_REJECTED(GetTariffs, ogw_tr21_rejected, "status Rejected"),
	OGW_TR21_MAPPED(dn, GetTransactionStatus),
	OGW_TR21_MAPPED(dn, GetVariables),
	OGW_TR21_MAPPED(dn, InstallCertificate),
	OGW_TR21_REJECTED(NotifyAllowedEnergyTransfer, ogw_tr21_rejected, "status Rejected"),
	OGW_TR21_REJECTED(NotifyWebPaymentStarted, ogw_tr21_not_supported, "CALLERROR NotSupported"),
	OGW_TR21_MAPPED(dn, PublishFirmware),
	OGW_TR21_REJECTED(RequestBatterySwap, ogw_tr21_rejected, "status Rejected"),
	OGW_TR21_MAPPED(dn, RequestStartTransaction),
	OGW_TR21_MAPPED(dn, RequestStopTransaction),
	OGW_TR21_MAPPED(dn, ReserveNow),
	OGW_TR21_MAPPED(dn, Reset),
	OGW_TR21_MAPPED(dn, SendLocalList),
	OGW_TR21_MAPPED(dn, SetChargingProfile),
	OGW_TR21_REJECTED(SetDERControl, der_not_supported, "status NotSupported"),
	OGW_TR21_REJECTED(SetDefaultTariff, ogw_tr21_rejected, "status Rejected"),
	OGW_TR21_MAPPED(dn, SetDisplayMessage),
	OGW_TR21_MAPPED(dn, SetMonitoringBase),
	OGW_TR21_MAPPED(dn, SetMonitoringLevel),
	OGW_TR21_MAPPED(dn, SetNetworkProfile),
	OGW_TR21_MAPPED(dn, SetVariableMonitoring),
	OGW_TR21_MAPPED(dn, SetVariables),
	OGW_TR21_MAPPED(dn, TriggerMessage),
	OGW_TR21_MAPPED(dn, UnlockConnector),
	OGW_TR21_MAPPED(dn, UnpublishFirmware),
	OGW_TR21_REJECTED(UpdateDynamicSchedule, ogw_tr21_rejected, "status Rejected"),
	OGW_TR21_MAPPED(dn, UpdateFirmware),
	OGW_TR21_REJECTED(UsePriorityCharging, ogw_tr21_rejected, "status Rejected"),
};

const struct ogw_translator ogw_tr_v201_v21 = {
	.south = OGW_OCPP201,
	.north = OGW_OCPP21,
	.up = up_actions,
	.n_up = sizeof(up_actions) / sizeof(up_actions[0]),
	.down = dn_actions,
	.n_down = sizeof(dn_actions) / sizeof(dn_actions[0]),
};
