/* SPDX-License-Identifier: MIT */
/*
 * 1.6 charger, 2.0.1 CSMS: the charger's state. Boot and heartbeat,
 * StatusNotification (connector status, the chargingState of a running
 * transaction, errors as NotifyEvent), and the CSMS's ChangeAvailability,
 * Reset (OnIdle waits for the last transaction), UnlockConnector and
 * TriggerMessage.
 */
#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "ocppgw/translator.h"
#include "ocppgw/util.h"
#include "internal.h"

#define CONN_MAX 64          /* connectors whose last status and error are kept */

/* ---- BootNotification, Heartbeat ----------------------------------------- */

int tr16_up_boot(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	json_t *cs = json_pack("{s:O, s:O}", "vendorName", json_object_get(p, "chargePointVendor"),
			       "model", json_object_get(p, "chargePointModel"));
	json_t *rebooting = ogw_tr_state_get(env, "rebooting");
	const char *reason = rebooting ? "RemoteReset" : "PowerUp";

	json_decref(rebooting);
	if (!cs || ogw_tr_copy(cs, "serialNumber", p, "chargePointSerialNumber") ||
	    ogw_tr_copy(cs, NULL, p, "firmwareVersion"))
		goto fail;
	if (tr_has(p, "iccid") || tr_has(p, "imsi")) {
		json_t *modem = json_object();
		if (json_object_set_new(cs, "modem", modem) ||
		    ogw_tr_copy(modem, NULL, p, "iccid") || ogw_tr_copy(modem, NULL, p, "imsi"))
			goto fail;
	}
	/* reason is required in 2.0.1 and 1.6 never says why it booted: the
	 * gateway knows of the Reset it sent, else it was powered up */
	return ogw_tr_forward(out, "BootNotification",
			      json_pack("{s:o, s:s}", "chargingStation", cs, "reason", reason),
			      NULL);
fail:
	json_decref(cs);
	return -ENOMEM;
}

int tr16_up_boot_result(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
			json_t **ret)
{
	(void)memo;
	/* the boot after the reset is over once the CSMS took it */
	if (tr_same(tr_str(result, "status"), "Accepted"))
		ogw_tr_state_del(env, "rebooting");
	*ret = json_pack("{s:O, s:O, s:O}", "status", json_object_get(result, "status"),
			 "currentTime", json_object_get(result, "currentTime"), "interval",
			 json_object_get(result, "interval"));
	return *ret ? 0 : -ENOMEM;
}

int tr16_up_heartbeat(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	(void)env;
	(void)p;
	return ogw_tr_forward(out, "Heartbeat", json_object(), NULL);
}

/* ---- StatusNotification -------------------------------------------------- */

struct status_row {
	const char *status16;
	const char *connector;   /* 2.0.1 connectorStatus */
	const char *charging;    /* chargingState during a transaction, or NULL */
};

/* REFERENCE §3 "Status". */
static const struct status_row status_rows[] = {
	{ "Available", "Available", NULL },
	{ "Charging", "Occupied", "Charging" },
	{ "Faulted", "Faulted", NULL },
	{ "Finishing", "Occupied", "EVConnected" },
	{ "Preparing", "Occupied", "EVConnected" },
	{ "Reserved", "Reserved", NULL },
	{ "SuspendedEV", "Occupied", "SuspendedEV" },
	{ "SuspendedEVSE", "Occupied", "SuspendedEVSE" },
	{ "Unavailable", "Unavailable", NULL },
};

static const struct status_row *status_row(const char *status16)
{
	for (size_t i = 0; i < N_OF(status_rows); i++)
		if (!strcmp(status_rows[i].status16, status16))
			return &status_rows[i];
	return &status_rows[0];
}

/*
 * A charger error as a NotifyEvent on the Connector's (or, for connector 0,
 * the ChargingStation's) Problem variable: actualValue "true" with the 1.6
 * errorCode as techCode and vendorErrorCode (else info) as techInfo, or,
 * once the connector reports NoError again, "false" with cleared set
 * (2.0.1 N07: the return to normal is an event too). Connector n is EVSE
 * n's connector 1, so the connectors of a charger never share a Problem.
 */
static void notify_problem(struct ogw_tr_env *env, const json_t *p, const char *timestamp,
			   bool cleared)
{
	json_int_t c = tr_int(p, "connectorId");
	char now[32];
	json_t *comp = c ? json_pack("{s:s, s:{s:I, s:i}}", "name", "Connector", "evse", "id", c,
				     "connectorId", 1)
			 : json_pack("{s:s}", "name", "ChargingStation");
	json_t *ev = json_pack("{s:I, s:s, s:s, s:s, s:o, s:{s:s}, s:s}", "eventId",
			       (json_int_t)ogw_tr_next_id(env, "event"), "timestamp", timestamp,
			       "trigger", "Alerting", "actualValue", cleared ? "false" : "true",
			       "component", comp, "variable", "name", "Problem",
			       "eventNotificationType", "HardWiredNotification");
	const char *info =
	    tr_str(p, "vendorErrorCode") ? tr_str(p, "vendorErrorCode") : tr_str(p, "info");

	if (ev && !cleared && ogw_tr_copy(ev, "techCode", p, "errorCode"))
		ev = (json_decref(ev), NULL);
	if (ev && !cleared && info)
		json_object_set_new(ev, "techInfo", json_string(info));
	if (ev && cleared)
		json_object_set_new(ev, "cleared", json_true());
	ogw_time_rfc3339(now);
	ogw_tr_emit_notify(env, "NotifyEvent",
			   ev ? json_pack("{s:s, s:i, s:b, s:[o]}", "generatedAt", now, "seqNo", 0,
					  "tbc", 0, "eventData", ev)
			      : NULL);
}

/* Says a connector's error when it appears or changes, and its clearing
 * when the connector reports NoError again. The errors standing are kept
 * ("problem" -> {"<c>": errorCode}), at most CONN_MAX of them. */
static void problem_update(struct ogw_tr_env *env, const json_t *p, const char *timestamp)
{
	const char *code = tr_str(p, "errorCode"), *key = N_KEY("", tr_int(p, "connectorId")) + 1;
	json_t *st = ogw_tr_state_get(env, "problem");
	const char *was = tr_str(st, key);
	bool fault = strcmp(code, "NoError") != 0;

	if (fault ? tr_same(was, code) : !was) {
		json_decref(st);
		return;
	}
	notify_problem(env, p, timestamp, !fault);
	if (!st)
		st = json_object();
	if (!fault)
		json_object_del(st, key);
	else if (st && (was || json_object_size(st) < CONN_MAX))
		json_object_set_new(st, key, json_string(code));
	if (json_object_size(st)) {
		ogw_tr_state_put(env, "problem", st);
		return;
	}
	json_decref(st);
	ogw_tr_state_del(env, "problem");
}

/* P0-201 §2.2.1: transaction-related status moved to TransactionEvent. */
static void notify_charging_state(struct ogw_tr_env *env, json_int_t c, const char *state,
				  const char *timestamp)
{
	char uuid[37];
	json_t *tx, *ev;

	if (!state || tr16_conn_tx(env, c, uuid))
		return;
	tx = ogw_tr_state_get(env, S_KEY("tx", uuid));
	if (!tx)
		return;
	ev = tr16_tx_event("Updated", timestamp, "ChargingStateChanged",
			   tr16_tx_take_seq(env, uuid, tx), uuid, c);
	if (ev)
		json_object_set_new(json_object_get(ev, "transactionInfo"), "chargingState",
				    json_string(state));
	ogw_tr_emit_notify(env, "TransactionEvent", ev);
	json_decref(tx);
}

static void status_done(struct ogw_tr_env *env, void *user, const json_t *result)
{
	(void)result;
	ogw_tr_answer_later(env, user, json_object());
}

/* A status that ends reservations: the CSMS gets the connector's status
 * first, then each ReservationStatusUpdate (the order of the 2.0.1 test
 * cases, secondary), so the status is emitted and its answer deferred. */
static int status_then_rsv(struct ogw_tr_env *env, json_t *sn, struct rsv_ends *ends,
			   const char *ts, struct ogw_tr_out *out)
{
	struct ogw_tr_pending *pend = sn ? ogw_tr_defer(env) : NULL;
	int r = -ENOMEM;

	if (pend) {
		out->outcome = OGW_TR_DEFER;
		ogw_tr_emit_then(env, OGW_TR_UP, "StatusNotification", sn, status_done, pend);
		r = 0;
	} else {
		json_decref(sn);
	}
	tr16_rsv_ends_emit(env, ends, ts);
	return r;
}

/* Keeps connector @c's last 1.6 status ("status" -> {"<c>": status}): it
 * says whether the EV is still plugged when a transaction stops. A
 * charger cannot grow it past CONN_MAX connectors. */
void tr16_status_keep(struct ogw_tr_env *env, json_int_t c, const char *status)
{
	json_t *st = ogw_tr_state_get(env, "status");
	const char *key = N_KEY("", c) + 1;

	if (!st)
		st = json_object();
	if (st && (json_object_get(st, key) || json_object_size(st) < CONN_MAX) &&
	    !json_object_set_new(st, key, json_string(status))) {
		ogw_tr_state_put(env, "status", st);
		return;
	}
	json_decref(st);
}

/* Whether connector @c was last shown Preparing: the EV plugged in (or
 * the bay taken) and no transaction yet. */
bool tr16_conn_preparing(struct ogw_tr_env *env, json_int_t c)
{
	json_t *st = ogw_tr_state_get(env, "status");
	bool r = tr_same(tr_str(st, N_KEY("", c) + 1), "Preparing");

	json_decref(st);
	return r;
}

int tr16_up_status(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	const struct status_row *row = status_row(tr_str(p, "status"));
	json_int_t c = tr_int(p, "connectorId");
	char now[32], uuid[37];
	const char *ts = tr_str(p, "timestamp");
	struct rsv_ends ends;
	json_t *sn, *accepted;

	if (!ts) {
		ogw_time_rfc3339(now);
		ts = now;
	}
	problem_update(env, p, ts);
	tr16_status_keep(env, c, row->status16);
	/* a remote start held for a plugged-in connector that the charger
	 * accepted and no transaction followed: nothing runs to name */
	if (strcmp(row->status16, "Preparing") && tr16_conn_tx(env, c, uuid) == -ENOENT &&
	    (accepted = ogw_tr_state_get(env, N_KEY("rstok", c)))) {
		json_decref(accepted);
		tr16_rst_answer(env, c, NULL);
	}
	tr16_rsv_status(env, c, row->status16, ts, &ends);
	/* connector 0 (the charger as a whole) has no 2.0.1 StatusNotification */
	if (!c) {
		tr16_rsv_ends_emit(env, &ends, ts);
		return ogw_tr_out_answer(out, json_object());
	}
	notify_charging_state(env, c, row->charging, ts);
	sn = json_pack("{s:s, s:s, s:I, s:i}", "timestamp", ts, "connectorStatus", row->connector,
		       "evseId", c, "connectorId", 1);
	if (ends.n)
		return status_then_rsv(env, sn, &ends, ts, out);
	return ogw_tr_forward(out, "StatusNotification", sn, NULL);
}

/* ---- availability, reset, unlock, trigger ---------------------------------- */

static const struct ogw_tr_map reset_type[] = {
	{ "Immediate", "Hard" },
	{ "OnIdle", "Soft" },
};

/* A Reset the charger accepted ("rebooting"): its next boot is a
 * RemoteReset (tr16_up_boot()). */
static void reset_accepted(struct ogw_tr_env *env, void *user, const json_t *result)
{
	(void)user;
	if (result && tr_same(tr_str(result, "status"), "Accepted"))
		ogw_tr_state_put(env, "rebooting", json_object());
}

/*
 * A Reset OnIdle answered Scheduled while transactions ran ("reset").
 * Once the last one's StopTransaction is answered, the charger gets the
 * Soft reset. The entry goes when the reset is sent, so no later stop sends
 * it twice; the charger's answer is dropped, as 2.0.1 has no message to
 * report a scheduled reset's outcome with.
 */
void tr16_reset_when_idle(struct ogw_tr_env *env)
{
	json_t *pending, *req;

	if (tr16_tx_running(env) || !(pending = ogw_tr_state_get(env, "reset")))
		return;
	json_decref(pending);
	ogw_tr_state_del(env, "reset");
	if ((req = json_pack("{s:s}", "type", "Soft")))
		ogw_tr_emit(env, OGW_TR_DOWN, "Reset", req, reset_accepted, NULL);
}

/* OnIdle while a transaction runs: 1.6 would stop it, so the gateway
 * answers Scheduled and sends Soft once the charger is idle (REFERENCE §3). */
int tr16_down_reset(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	int r;

	/* 1.6 resets the whole charger only */
	if (tr_has(p, "evseId"))
		return ogw_tr_out_status(out, "Rejected");
	if (!strcmp(tr_str(p, "type"), "OnIdle") && tr16_tx_running(env)) {
		if ((r = ogw_tr_state_put_new(env, "reset", json_object())) < 0)
			return r;
		return ogw_tr_out_status(out, "Scheduled");
	}
	/* a reset now leaves nothing to wait for */
	ogw_tr_state_del(env, "reset");
	return ogw_tr_forward(out, "Reset",
			      json_pack("{s:s}", "type",
					MAP(reset_type, tr_str(p, "type"), "Soft")),
			      NULL);
}

/* An accepted Reset makes the charger's next boot a RemoteReset (B11). */
int tr16_down_reset_result(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
			   json_t **ret)
{
	reset_accepted(env, NULL, result);
	return ogw_tr_result_status(env, memo, result, ret);
}

int tr16_down_availability(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	const json_t *evse = json_object_get(p, "evse");
	(void)env;
	/* one connector per EVSE: asking for a connector other than 1 is asking
	 * for one the charger does not show */
	if (evse && tr_has(evse, "connectorId") && tr_int(evse, "connectorId") != 1)
		return ogw_tr_out_status(out, "Rejected");
	return ogw_tr_forward(out, "ChangeAvailability",
			      json_pack("{s:I, s:O}", "connectorId", evse ? tr_int(evse, "id") : 0,
					"type", json_object_get(p, "operationalStatus")),
			      NULL);
}

int tr16_down_unlock(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	(void)env;
	if (tr_int(p, "connectorId") != 1 || tr_int(p, "evseId") <= 0)
		return ogw_tr_out_status(out, "UnknownConnector");
	return ogw_tr_forward(out, "UnlockConnector",
			      json_pack("{s:O}", "connectorId", json_object_get(p, "evseId")),
			      NULL);
}

static const struct ogw_tr_map unlock_status[] = {
	{ "NotSupported", "UnlockFailed" },
	{ "UnlockFailed", "UnlockFailed" },
	{ "Unlocked", "Unlocked" },
};

int tr16_down_unlock_result(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
			    json_t **ret)
{
	(void)env;
	(void)memo;
	return ogw_tr_status_result(result, unlock_status, N_OF(unlock_status), ret);
}

struct trigger_row {
	const char *requested; /* 2.0.1 requestedMessage */
	const char *action16;  /* TriggerMessage or ExtendedTriggerMessage (SEC16) */
	const char *requested16;
};

static const struct trigger_row trigger_rows[] = {
	{ "BootNotification", "TriggerMessage", "BootNotification" },
	{ "FirmwareStatusNotification", "TriggerMessage", "FirmwareStatusNotification" },
	{ "Heartbeat", "TriggerMessage", "Heartbeat" },
	{ "LogStatusNotification", "TriggerMessage", "DiagnosticsStatusNotification" },
	{ "MeterValues", "TriggerMessage", "MeterValues" },
	{ "SignChargingStationCertificate", "ExtendedTriggerMessage",
	  "SignChargePointCertificate" },
	{ "StatusNotification", "TriggerMessage", "StatusNotification" },
	/* a triggered MeterValues of a running transaction becomes a
	 * TransactionEvent with triggerReason Trigger */
	{ "TransactionEvent", "TriggerMessage", "MeterValues" },
};

int tr16_down_trigger(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	const char *requested = tr_str(p, "requestedMessage");
	const json_t *evse = json_object_get(p, "evse");
	json_t *t;

	(void)env;
	for (size_t i = 0; i < N_OF(trigger_rows); i++) {
		if (strcmp(trigger_rows[i].requested, requested))
			continue;
		t = json_pack("{s:s}", "requestedMessage", trigger_rows[i].requested16);
		/* EVSE 0 is the station: 1.6 says so by leaving connectorId out */
		if (t && tr_int(evse, "id") > 0 &&
		    json_object_set_new(t, "connectorId", json_integer(tr_int(evse, "id"))))
			t = (json_decref(t), NULL);
		return ogw_tr_forward(out, trigger_rows[i].action16, t, NULL);
	}
	/* the charger's ISO 15118 side signs its V2G certificate over Plug &
	 * Charge DataTransfer */
	if (!strcmp(requested, "SignV2GCertificate"))
		return tr16_pnc_forward(out, "TriggerMessage", p);
	/* SignCombinedCertificate, PublishFirmwareStatusNotification */
	return ogw_tr_out_status(out, "NotImplemented");
}
