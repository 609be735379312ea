/* SPDX-License-Identifier: MIT */
/*
 * Payload builders for the messages a simulated charger sends, one function
 * per message; where 1.6 and 2.x differ only in names, a table per version
 * says so. They build JSON and nothing else: no sending, no state changes.
 */
#include <stdio.h>
#include <string.h>

#include "ocppgw/util.h"
#include "sim.h"

#define IS16(v) ((v) == OGW_OCPP16)

/* Connector status names: 1.6 keeps transaction detail, 2.x moved it to
 * TransactionEvent (OCPP 2.0.1 Part 0 §2.2.1). */
enum status_kind { ST_FREE, ST_OCCUPIED, ST_CHARGING, ST_SUSPENDED, ST_FINISHING,
		   ST_UNAVAILABLE, ST_RESERVED, ST_COUNT };
static const char *const status_names[2][ST_COUNT] = {
	{ "Available", "Preparing", "Charging", "SuspendedEVSE", "Finishing",
	  "Unavailable", "Reserved" },
	{ "Available", "Occupied", "Occupied", "Occupied", "Occupied",
	  "Unavailable", "Reserved" },
};

/* Stop reasons: 1.6 reason -> 2.x stoppedReason and triggerReason. */
static const struct {
	const char *r16, *stopped, *trigger;
} stop_reasons[] = {
	{ "Local",          "Local",          "StopAuthorized" },
	{ "Remote",         "Remote",         "RemoteStop" },
	{ "EVDisconnected", "EVDisconnected", "EVCommunicationLost" },
	{ "HardReset",      "ImmediateReset", "ResetCommand" },
	{ "SoftReset",      "ImmediateReset", "ResetCommand" },
	{ "UnlockCommand",  "Other",          "UnlockCommand" },
	{ "Reboot",         "Reboot",         "ResetCommand" },
	{ "Other",          "Other",          "AbnormalCondition" },
};

static json_t *now_json(void)
{
	char ts[32];

	ogw_time_rfc3339(ts);
	return json_string(ts);
}

const char *sim_msg_status_name(enum ogw_ocpp v, const struct sim_evse *e)
{
	enum status_kind k;

	if (e->unavailable)
		k = ST_UNAVAILABLE;
	else if (e->state == SIM_EVSE_CHARGING)
		k = e->suspended ? ST_SUSPENDED : ST_CHARGING;
	else if (e->state == SIM_EVSE_FINISHING)
		k = ST_FINISHING;
	else if (e->state != SIM_EVSE_FREE)
		k = ST_OCCUPIED;
	else if (e->reservation_id >= 0)
		k = ST_RESERVED;
	else
		k = ST_FREE;
	return status_names[IS16(v) ? 0 : 1][k];
}

json_t *sim_msg_boot(const struct sim_charger *ch)
{
	if (IS16(ch->v))
		return json_pack("{s:s, s:s, s:s, s:s}", "chargePointVendor", "ocppgw",
				 "chargePointModel", "sim-ac", "chargePointSerialNumber", ch->id,
				 "firmwareVersion", OGW_VERSION);
	return json_pack("{s:s, s:{s:s, s:s, s:s, s:s}}", "reason", ch->rebooting ? "RemoteReset" : "PowerUp",
			 "chargingStation", "vendorName", "ocppgw", "model", "sim-ac",
			 "serialNumber", ch->id, "firmwareVersion", OGW_VERSION);
}

json_t *sim_msg_heartbeat(void)
{
	return json_object();
}

json_t *sim_msg_status(const struct sim_charger *ch, const struct sim_evse *e,
			unsigned int connector)
{
	const char *st = sim_msg_status_name(ch->v, e);

	if (IS16(ch->v))
		return json_pack("{s:i, s:s, s:s, s:o}", "connectorId", e->id, "errorCode", "NoError",
				 "status", st, "timestamp", now_json());
	return json_pack("{s:o, s:s, s:i, s:i}", "timestamp", now_json(), "connectorStatus", st,
			 "evseId", e->id, "connectorId", (int)connector);
}

static json_t *id_token(enum ogw_ocpp v, const char *id_tag)
{
	if (IS16(v))
		return json_string(id_tag);
	return json_pack("{s:s, s:s}", "idToken", id_tag, "type", "ISO14443");
}

json_t *sim_msg_authorize(const struct sim_charger *ch, const char *id_tag)
{
	return json_pack("{s:o}", IS16(ch->v) ? "idTag" : "idToken", id_token(ch->v, id_tag));
}

/* One sampledValue: 1.6 has string values and a unit enum, 2.x numbers and
 * unitOfMeasure. */
static json_t *sampled(enum ogw_ocpp v, double value, const char *measurand,
		       const char *unit, const char *phase, const char *context)
{
	json_t *s;

	if (IS16(v)) {
		char txt[32];

		snprintf(txt, sizeof(txt), "%.1f", value);
		s = json_pack("{s:s, s:s, s:s, s:s}", "value", txt, "context", context,
			      "measurand", measurand, "unit", unit);
	} else {
		s = json_pack("{s:f, s:s, s:s, s:{s:s}}", "value", (double)(int64_t)(value * 10) / 10,
			      "context", context, "measurand", measurand,
			      "unitOfMeasure", "unit", unit);
	}
	if (s && phase)
		json_object_set_new(s, "phase", json_string(phase));
	return s;
}

/* The meterValue array: energy always; power and per-phase current for
 * samples taken while charging. */
static json_t *meter_value(const struct sim_charger *ch, const struct sim_evse *e,
			   const char *context, bool full)
{
	static const char *const phase_names[] = { "L1", "L2", "L3" };
	unsigned int phases = ch->fleet->o->phases;
	json_t *sv = json_array();

	json_array_append_new(sv, sampled(ch->v, e->energy_wh, "Energy.Active.Import.Register",
					  "Wh", NULL, context));
	if (full) {
		json_array_append_new(sv, sampled(ch->v, e->amps * SIM_VOLTS * phases,
						  "Power.Active.Import", "W", NULL, context));
		for (unsigned int i = 0; i < phases && i < 3; i++)
			json_array_append_new(sv, sampled(ch->v, e->amps, "Current.Import", "A",
							  phase_names[i], context));
	}
	return json_pack("[{s:o, s:o}]", "timestamp", now_json(), "sampledValue", sv);
}

/* The common part of every 2.x TransactionEvent. */
static json_t *tx_event(const struct sim_charger *ch, const struct sim_evse *e,
			const char *type, const char *trigger, const char *charging_state)
{
	json_t *j = json_pack("{s:s, s:o, s:s, s:i, s:{s:s, s:s}, s:{s:i, s:i}}",
			      "eventType", type, "timestamp", now_json(), "triggerReason", trigger,
			      "seqNo", (int)e->seq_no, "transactionInfo", "transactionId", e->tx_id,
			      "chargingState", charging_state, "evse", "id", e->id,
			      "connectorId", 1);

	if (j && ch->state != SIM_CH_ACCEPTED)
		json_object_set_new(j, "offline", json_true());
	return j;
}

json_t *sim_msg_tx_start(const struct sim_charger *ch, const struct sim_evse *e,
			 const char **ret_action)
{
	json_t *j;

	if (IS16(ch->v)) {
		*ret_action = "StartTransaction";
		j = json_pack("{s:i, s:s, s:i, s:o}", "connectorId", e->id, "idTag", e->id_tag,
			      "meterStart", (int)e->energy_wh, "timestamp", now_json());
		if (j && e->reservation_id >= 0)
			json_object_set_new(j, "reservationId", json_integer(e->reservation_id));
		return j;
	}
	*ret_action = "TransactionEvent";
	j = tx_event(ch, e, "Started", e->remote ? "RemoteStart" : "Authorized", "Charging");
	if (!j)
		return NULL;
	json_object_set_new(j, "idToken", id_token(ch->v, e->id_tag));
	json_object_set_new(j, "meterValue", meter_value(ch, e, "Transaction.Begin", false));
	if (e->remote_start_id >= 0)
		json_object_set_new(json_object_get(j, "transactionInfo"), "remoteStartId",
				    json_integer(e->remote_start_id));
	if (e->reservation_id >= 0)
		json_object_set_new(j, "reservationId", json_integer(e->reservation_id));
	return j;
}

json_t *sim_msg_tx_meter(const struct sim_charger *ch, const struct sim_evse *e,
			 const char *context, const char **ret_action)
{
	bool trig = !strcmp(context, "Trigger");

	if (IS16(ch->v)) {
		*ret_action = "MeterValues";
		return json_pack("{s:i, s:i, s:o}", "connectorId", e->id, "transactionId",
				 e->tx_id16, "meterValue", meter_value(ch, e, context, true));
	}
	*ret_action = "TransactionEvent";
	json_t *j = tx_event(ch, e, "Updated", trig ? "Trigger" : "MeterValuePeriodic",
			     e->suspended ? "SuspendedEVSE" : "Charging");
	if (j)
		json_object_set_new(j, "meterValue", meter_value(ch, e, context, true));
	return j;
}

json_t *sim_msg_meter_plain(const struct sim_charger *ch, const struct sim_evse *e)
{
	return json_pack("{s:i, s:o}", IS16(ch->v) ? "connectorId" : "evseId", e->id,
			 "meterValue", meter_value(ch, e, "Trigger", true));
}

json_t *sim_msg_tx_stop(const struct sim_charger *ch, const struct sim_evse *e,
			const char *reason, const char **ret_action)
{
	size_t i = 0;
	json_t *j;

	while (i + 1 < sizeof(stop_reasons) / sizeof(stop_reasons[0]) &&
	       strcmp(stop_reasons[i].r16, reason))
		i++;
	if (IS16(ch->v)) {
		*ret_action = "StopTransaction";
		return json_pack("{s:i, s:s, s:i, s:o, s:s}", "transactionId", e->tx_id16,
				 "idTag", e->id_tag, "meterStop", (int)e->energy_wh,
				 "timestamp", now_json(), "reason", stop_reasons[i].r16);
	}
	*ret_action = "TransactionEvent";
	j = tx_event(ch, e, "Ended", stop_reasons[i].trigger, "EVConnected");
	if (!j)
		return NULL;
	json_object_set_new(json_object_get(j, "transactionInfo"), "stoppedReason",
			    json_string(stop_reasons[i].stopped));
	json_object_set_new(j, "meterValue", meter_value(ch, e, "Transaction.End", false));
	return j;
}

json_t *sim_msg_tx_state(const struct sim_charger *ch, const struct sim_evse *e)
{
	return tx_event(ch, e, "Updated", "ChargingStateChanged",
			e->suspended ? "SuspendedEVSE" : "Charging");
}

json_t *sim_msg_report_profiles(const struct sim_charger *ch, int request_id, int evse,
				json_t *profiles_take)
{
	(void)ch;
	return json_pack("{s:i, s:s, s:i, s:o, s:b}", "requestId", request_id,
			 "chargingLimitSource", "CSO", "evseId", evse,
			 "chargingProfile", profiles_take, "tbc", 0);
}
