/* SPDX-License-Identifier: MIT */
/*
 * Statuses of a 2.0.1 station shown to a 1.6 central system: BootNotification,
 * Heartbeat, StatusNotification and the problems of NotifyEvent as 1.6
 * faults; Reset, ChangeAvailability, UnlockConnector and TriggerMessage. Part of
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

/* ---- BootNotification --------------------------------------------------- */

/* A rebooted 1.6 charger forgets that a stop left its cable plugged: the
 * EVSEs Finishing until the station reports them otherwise are Preparing
 * again (EVSE ids run from 1 without gaps, 2.0.1 B01). */
static int finishing_forget(struct ogw_tr_env *env)
{
	json_t *map = tr201_cmap_get(env);
	/* every EVSE up to the highest known has a connector in the map */
	long long n_known = (long long)ogw_cmap_count(map);
	int r = 0;

	json_decref(map);
	for (long long n = 1; !r; n++) {
		json_t *e = tr201_state_get_num(env, "evse", n);
		bool known = e || n <= n_known;

		if (json_is_true(json_object_get(e, "finishing")))
			r = tr201_state_del_num(env, "evse", n);
		json_decref(e);
		if (!known)
			break;
	}
	return r;
}

int tr201_up_boot(struct ogw_tr_env *env, const json_t *payload, struct ogw_tr_out *out)
{
	json_t *cs = json_object_get(payload, "chargingStation");
	json_t *modem = json_object_get(cs, "modem");
	json_t *req;
	int r = ogw_tr_state_del(env, "reset");

	if (r || (r = finishing_forget(env)))
		return r;
	/* vendorName is string[50] in 2.0.1, CiString20 in 1.6: truncated rather
	 * than refused, since refusing would keep the station from booting and
	 * the vendor name carries no protocol meaning. */
	req = json_pack("{s:o, s:O}", "chargePointVendor", str_trunc(tr_str(cs, "vendorName"),
								     VENDOR16_MAX),
			"chargePointModel", json_object_get(cs, "model"));
	if (!req || copy_opt(req, cs, "serialNumber", "chargePointSerialNumber") ||
	    copy_opt(req, cs, "firmwareVersion", NULL) || copy_opt(req, modem, "iccid", NULL) ||
	    copy_opt(req, modem, "imsi", NULL)) {
		json_decref(req);
		return -ENOMEM;
	}
	return ogw_tr_forward(out, "BootNotification", req, NULL);
}

/* ---- Heartbeat ---------------------------------------------------------- */

int tr201_up_heartbeat(struct ogw_tr_env *env, const json_t *payload, struct ogw_tr_out *out)
{
	int r = tr201_held_flush(env, -1, 0);
	(void)payload;
	return r ? r : ogw_tr_forward(out, "Heartbeat", json_object(), NULL);
}

/* ---- StatusNotification and faults ---------------------------------------- */

/* The 1.6 status of 1.6 connector @id16 (on EVSE @evse) when 2.0.1 says
 * Occupied (REFERENCE §3): inside a 1.6 transaction on it the charging
 * state's, after one Finishing until the station reports it otherwise,
 * else Preparing (a cable plugged into a connector of an EVSE whose
 * transaction runs on another is waiting too). */
static const char *occupied_status16(struct ogw_tr_env *env, long long evse, long long id16)
{
	json_t *e = tr201_evse_rec_on(env, evse, id16), *tx = NULL;
	const char *st = json_is_true(json_object_get(e, "finishing")) ? "Finishing" : "Preparing";

	if (tr_str(e, "tx"))
		tx = tr201_state_get_tx(env, tr_str(e, "tx"));
	if (tr201_tx_in16(tx))
		st = ogw_tr_map_str(charging_state16, N(charging_state16), tr_str(tx, "cs"), "Charging");
	json_decref(tx);
	json_decref(e);
	return st;
}

/* Standardized components (2.0.1 Part 2 Appendix 3) whose problem has a
 * 1.6 ChargePointErrorCode; then variables; anything else is OtherError. */
static const struct ogw_tr_map fault_component16[] = {
	{ "CPPWMController", "EVCommunicationError" },
	{ "ConnectedEV", "EVCommunicationError" },
	{ "ConnectorPlugRetentionLock", "ConnectorLockFailure" },
	{ "ControlMetering", "PowerMeterFailure" },
	{ "Controller", "InternalError" },
	{ "DataLink", "WeakSignal" },
	{ "EVRetentionLock", "ConnectorLockFailure" },
	{ "ExternalTemperatureSensor", "HighTemperature" },
	{ "FiscalMetering", "PowerMeterFailure" },
	{ "GroundIsolationProtection", "GroundFailure" },
	{ "OverCurrentProtection", "OverCurrentFailure" },
	{ "PowerContactor", "PowerSwitchFailure" },
	{ "RCD", "GroundFailure" },
	{ "TemperatureSensor", "HighTemperature" },
	{ "TokenReader", "ReaderFailure" },
};

static const struct ogw_tr_map fault_variable16[] = {
	{ "OverCurrent", "OverCurrentFailure" },
	{ "OverVoltage", "OverVoltage" },
	{ "Temperature", "HighTemperature" },
	{ "UnderVoltage", "UnderVoltage" },
};

/* 1.6 ChargePointErrorCodes a station may name as techCode (the 1.6 -> 2.0.1
 * direction puts the 1.6 errorCode there): the station's own word wins. */
static const char *const error_codes16[] = {
	"ConnectorLockFailure", "EVCommunicationError", "GroundFailure", "HighTemperature",
	"InternalError", "LocalListConflict", "OverCurrentFailure", "OverVoltage",
	"PowerMeterFailure", "PowerSwitchFailure", "ReaderFailure", "ResetFailure",
	"UnderVoltage", "WeakSignal",
};

/* Boolean variables whose true value is a fault of their component. */
static const char *const fault_flags[] = { "Operated", "Problem", "Tripped" };

/* The connector a problem's key ("<component>/<variable>/<connectorId>")
 * names, 0 for the whole EVSE. */
static long long fault_conn(const char *key)
{
	const char *slash = strrchr(key, '/');
	return slash ? strtoll(slash + 1, NULL, 10) : 0;
}

/* The first problem still raised on connector @conn of EVSE @evse, or on
 * the EVSE as a whole (a new reference), or NULL. @conn 0: any. */
json_t *tr201_fault_active(struct ogw_tr_env *env, long long evse, long long conn)
{
	json_t *f = tr201_state_get_num(env, "fault", evse), *v, *res = NULL;
	const char *k;

	json_object_foreach(f, k, v) {
		long long c = fault_conn(k);
		if (!c || !conn || c == conn) {
			res = json_incref(v);
			break;
		}
	}
	json_decref(f);
	return res;
}

/* The 1.6 status of the station's connector (@evse, @conn), 1.6
 * connector @id16, whose last 2.0.1 status is @st (NULL: none reported
 * yet); *ret_fault gets the problem that makes it Faulted. */
static const char *conn_status16(struct ogw_tr_env *env, long long evse, long long conn,
				 long long id16, const char *st, json_t **ret_fault)
{
	if (!st) {
		/* No report from the station yet: a transaction (or the stop
		 * of one) on it says it is in use. */
		json_t *e = tr201_evse_rec_on(env, evse, id16);
		st = e ? "Occupied" : "Available";
		json_decref(e);
	}
	*ret_fault = tr201_fault_active(env, evse, conn);
	if (*ret_fault)
		return "Faulted";
	return strcmp(st, "Occupied") ? st : occupied_status16(env, evse, id16);
}

/* A 1.6 StatusNotification; @fault (borrowed) gives errorCode, info and
 * vendorErrorCode when it is set. */
json_t *tr201_status16(long long connector, const char *status, const json_t *fault,
		      const json_t *ts)
{
	const char *code = fault ? tr_str(fault, "errorCode")
				 : !strcmp(status, "Faulted") ? "OtherError" : "NoError";
	json_t *st = json_pack("{s:I, s:s, s:s}", "connectorId", (json_int_t)connector,
			       "errorCode", code, "status", status);

	if (st && ((ts && json_object_set(st, "timestamp", (json_t *)ts)) ||
		   copy_opt(st, fault, "info", NULL) || copy_opt(st, fault, "vendorErrorCode", NULL))) {
		json_decref(st);
		return NULL;
	}
	return st;
}

/*
 * A station's Faulted with no problem known yet is held ("held": {"evse",
 * "conn", "status": the 1.6 StatusNotification}): 2.0.1 names the problem
 * in the NotifyEvent that follows it, and a 1.6 charger raises a fault
 * once, with its code. That event drops the held status for its own; any
 * other message of the station (a Heartbeat at the latest) sends it first,
 * so a fault the station never explains still reaches the central system.
 * @evse >= 0: a problem raised on connector @conn of that EVSE (0: on the
 * EVSE), which replaces the held status of that connector.
 */
int tr201_held_flush(struct ogw_tr_env *env, long long evse, long long conn)
{
	json_t *held = ogw_tr_state_get(env, "held");
	long long hconn = json_integer_value(json_object_get(held, "conn"));
	int r = 0;

	if (!held)
		return 0;
	if (json_integer_value(json_object_get(held, "evse")) != evse ||
	    (conn && hconn && conn != hconn))
		r = ogw_tr_emit(env, OGW_TR_UP, "StatusNotification",
				json_incref(json_object_get(held, "status")), tr201_ignore_answer, NULL);
	if (!r)
		r = ogw_tr_state_del(env, "held");
	json_decref(held);
	return r;
}

/*
 * Each connector of the station is a 1.6 connector of its own, numbered as
 * the map says (docs/TRANSLATION.md "Connector numbering"); EVSE 0 is
 * connector 0. A repeated Faulted is answered here: it brings no new
 * problem (those come as NotifyEvent).
 */
int tr201_up_status(struct ogw_tr_env *env, const json_t *payload, struct ogw_tr_out *out)
{
	const char *st = tr_str(payload, "connectorStatus"), *st16;
	long long evse = json_integer_value(json_object_get(payload, "evseId"));
	long long conn = json_integer_value(json_object_get(payload, "connectorId"));
	json_t *cs = NULL, *fault = NULL, *e, *sn;
	long long id16;
	int r;

	if ((r = tr201_held_flush(env, -1, 0)))
		goto out;
	if ((id16 = tr201_conn16_learn(env, evse, conn)) < 0) {
		if (id16 != -ERANGE)
			return (int)id16;
		ogw_tr_lost(env, "StatusNotification", payload,
			    "more connectors than a 1.6 numbering of this station holds");
		return ogw_tr_out_answer(out, json_object());
	}
	r = -ENOMEM;
	cs = tr201_state_get_num(env, "conn", id16);
	if (!cs)
		cs = json_object();
	if (!cs || json_object_set_new(cs, "status", json_string(st)))
		goto out;
	st16 = conn_status16(env, evse, conn, id16, st, &fault);
	if (strcmp(st16, "Finishing") && strcmp(st16, "Faulted")) {
		/* The connector left the state a stop put it in. */
		e = tr201_evse_rec_on(env, evse, id16);
		if (json_is_true(json_object_get(e, "finishing")))
			tr201_state_del_num(env, "evse", evse);
		json_decref(e);
	}
	if (!strcmp(st16, "Faulted") && tr_same(tr_str(cs, "sent"), st16)) {
		r = tr201_state_put_num(env, "conn", id16, json_incref(cs));
		if (!r)
			r = ogw_tr_out_answer(out, json_object());
		goto out;
	}
	if (json_object_set_new(cs, "sent", json_string(st16)) ||
	    (r = tr201_state_put_num(env, "conn", id16, json_incref(cs))))
		goto out;
	sn = tr201_status16(id16, st16, fault, json_object_get(payload, "timestamp"));
	if (sn && !fault && !strcmp(st16, "Faulted")) {
		r = ogw_tr_state_put(env, "held", json_pack("{s:I, s:I, s:o}", "evse",
							    (json_int_t)evse, "conn",
							    (json_int_t)conn, "status", sn));
		if (!r)
			r = ogw_tr_out_answer(out, json_object());
		goto out;
	}
	r = ogw_tr_forward(out, "StatusNotification", sn, NULL);
out:
	json_decref(fault);
	json_decref(cs);
	return r;
}

/* ---- NotifyEvent -------------------------------------------------------- */

/* Sends the 1.6 status of the station's connector (@evse, @conn) once a
 * problem was raised there (@rec, borrowed) or cleared (@rec NULL: the
 * status it has without it, or with one still raised). */
static int fault_status(struct ogw_tr_env *env, long long evse, long long conn,
			const json_t *rec, const json_t *ts)
{
	long long id16 = tr201_conn16_learn(env, evse, conn);
	json_t *cs, *fault = NULL, *sn = NULL;
	const char *st16 = "Faulted";
	int r = -ENOMEM;

	if (id16 < 0)
		return (int)id16;
	cs = tr201_state_get_num(env, "conn", id16);
	if (!cs)
		cs = json_object();
	if (!cs)
		goto out;
	if (!rec)
		st16 = conn_status16(env, evse, conn, id16, tr_str(cs, "status"), &fault);
	sn = tr201_status16(id16, st16, rec ? rec : fault, ts);
	if (!sn || json_object_set_new(cs, "sent", json_string(st16)) ||
	    (r = tr201_state_put_num(env, "conn", id16, json_incref(cs)))) {
		json_decref(sn);
		goto out;
	}
	r = ogw_tr_emit(env, OGW_TR_UP, "StatusNotification", sn, tr201_ignore_answer, NULL);
out:
	json_decref(fault);
	json_decref(cs);
	return r;
}

/* fault_status() for each connector a problem on (@evse, @conn) concerns:
 * that connector, every connector of the EVSE for a problem of the EVSE
 * (@conn 0), connector 0 for the station's (@evse 0). */
static int fault_statuses(struct ogw_tr_env *env, long long evse, long long conn,
			  const json_t *rec, const json_t *ts)
{
	json_t *map;
	bool any = false;
	int r = 0;

	if (evse <= 0 || conn > 0)
		return fault_status(env, evse, evse > 0 ? conn : 0, rec, ts);
	if (!(map = tr201_cmap_get(env)))
		return -ENOMEM;
	for (size_t i = 0; !r && i < ogw_cmap_count(map); i++) {
		json_t *pair = json_array_get(map, i);
		if (json_integer_value(json_array_get(pair, 0)) != evse)
			continue;
		any = true;
		r = fault_status(env, evse, json_integer_value(json_array_get(pair, 1)), rec, ts);
	}
	json_decref(map);
	return r || any ? r : fault_status(env, evse, 1, rec, ts);
}

/*
 * A problem the station raises (a Problem/Tripped/Operated flag set, or an
 * alert on a component 1.6 has an error code for) makes the 1.6
 * connector(s) it concerns Faulted with the closest ChargePointErrorCode,
 * techCode as vendorErrorCode; the 1.6 status returns (errorCode NoError)
 * when the last problem there clears. The event itself is the gateway's to
 * take.
 */
static int notify_fault(struct ogw_tr_env *env, const json_t *ev)
{
	json_t *comp = json_object_get(ev, "component");
	const char *cname = tr_str(comp, "name");
	const char *vname = tr_str(json_object_get(ev, "variable"), "name");
	const char *tech_code = tr_str(ev, "techCode");
	const char *code = in_list(error_codes16, N(error_codes16), tech_code)
				   ? tech_code
				   : ogw_tr_map_str(fault_component16, N(fault_component16), cname,
					     ogw_tr_map_str(fault_variable16, N(fault_variable16), vname,
						     NULL));
	bool flag = in_list(fault_flags, N(fault_flags), vname);
	long long evse = json_integer_value(json_object_get(json_object_get(comp, "evse"), "id"));
	long long conn = json_integer_value(json_object_get(json_object_get(comp, "evse"),
							    "connectorId"));
	bool cleared = json_is_true(json_object_get(ev, "cleared")) ||
		       (flag && strcasecmp(tr_str(ev, "actualValue"), "true"));
	json_t *faults, *rec = NULL;
	const char *tech = tr_str(ev, "techInfo");
	char key[160];
	int r = -ENOMEM;

	if (!flag && (!code || !tr_same(tr_str(ev, "trigger"), "Alerting")))
		return 0;
	snprintf(key, sizeof(key), "%s/%s/%lld", cname, vname, conn);
	faults = tr201_state_get_num(env, "fault", evse);
	if (!faults)
		faults = json_object();
	if (!faults)
		return -ENOMEM;
	if ((r = tr201_held_flush(env, cleared ? -1 : evse, conn)) ||
	    (cleared && !json_object_get(faults, key))) {
		json_decref(faults);
		return r;
	}
	r = -ENOMEM;
	if (cleared) {
		json_object_del(faults, key);
	} else {
		rec = json_pack("{s:s}", "errorCode", code ? code : "OtherError");
		if (!rec || (tech && json_object_set_new(rec, "info", str_trunc(tech, INFO16_MAX))) ||
		    copy_opt(rec, ev, "techCode", "vendorErrorCode") ||
		    json_object_set(faults, key, rec))
			goto out;
	}
	r = json_object_size(faults) ? tr201_state_put_num(env, "fault", evse, json_incref(faults))
				     : tr201_state_del_num(env, "fault", evse);
	if (!r)
		r = fault_statuses(env, evse, conn, rec, json_object_get(ev, "timestamp"));
out:
	json_decref(rec);
	json_decref(faults);
	return r;
}

int tr201_up_notify_event(struct ogw_tr_env *env, const json_t *payload,
			 struct ogw_tr_out *out)
{
	json_t *ev;
	size_t i;
	int r;

	json_array_foreach(json_object_get(payload, "eventData"), i, ev)
		if ((r = notify_fault(env, ev)))
			return r;
	return ogw_tr_out_answer(out, json_object());
}

/* ---- Reset / ChangeAvailability / UnlockConnector ----------------------- */

/* 1.6 Reset.conf has no Scheduled, and a 1.6 Reset promises a reset now:
 * a station that only schedules one has not done what was asked, so the
 * central system hears Rejected (and may ask again, Hard). */
static const struct ogw_tr_map reset_status16[] = {
	{ "Scheduled", "Rejected" },
};

/*
 * Both 1.6 resets are 2.0.1 Immediate: 1.6 Soft restarts the software at
 * once, stopping transactions gracefully (S16 §5.14), which is what
 * Immediate does (B12: Ended with ImmediateReset first); OnIdle could wait
 * for hours. A Soft reset is remembered until the next boot so that the
 * transactions it stops end with reason SoftReset.
 */
int tr201_down_reset(struct ogw_tr_env *env, const json_t *payload, struct ogw_tr_out *out)
{
	int r = tr_same(tr_str(payload, "type"), "Soft")
			? ogw_tr_state_put(env, "reset", json_pack("{s:s}", "type", "Soft"))
			: ogw_tr_state_del(env, "reset");

	if (r)
		return r;
	return ogw_tr_forward(out, "Reset", json_pack("{s:s}", "type", "Immediate"), NULL);
}

int tr201_res_reset(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
		   json_t **ret)
{
	(void)env;
	(void)memo;
	return tr201_status_only(result, reset_status16, N(reset_status16), ret);
}

/* 2.0.1 EVSEType takes a connectorId (G03): the 1.6 connector's own
 * availability changes, not its EVSE's. */
int tr201_down_change_availability(struct ogw_tr_env *env, const json_t *payload,
				  struct ogw_tr_out *out)
{
	long long c = json_integer_value(json_object_get(payload, "connectorId"));
	json_t *p = json_pack("{s:O}", "operationalStatus", json_object_get(payload, "type"));

	/* connectorId 0 is the whole charge point: no evse. */
	if (p && c > 0 && json_object_set_new(p, "evse", tr201_evse_obj(env, c, true))) {
		json_decref(p);
		return -ENOMEM;
	}
	return ogw_tr_forward(out, "ChangeAvailability", p, NULL);
}

static const struct ogw_tr_map unlock_status16[] = {
	{ "OngoingAuthorizedTransaction", "UnlockFailed" },
	{ "UnknownConnector", "NotSupported" },
};

int tr201_down_unlock(struct ogw_tr_env *env, const json_t *payload, struct ogw_tr_out *out)
{
	long long evse, conn;

	tr201_conn_of16(env, json_integer_value(json_object_get(payload, "connectorId")), &evse, &conn);
	return ogw_tr_forward(out, "UnlockConnector",
			   json_pack("{s:I, s:I}", "evseId", (json_int_t)evse, "connectorId",
				     (json_int_t)conn), NULL);
}

int tr201_res_unlock(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
		    json_t **ret)
{
	(void)env;
	(void)memo;
	return tr201_status_only(result, unlock_status16, N(unlock_status16), ret);
}

/* ---- triggers ------------------------------------------------------------ */

static const struct ogw_tr_map trigger201[] = {
	{ "BootNotification", "BootNotification" },
	{ "DiagnosticsStatusNotification", "LogStatusNotification" },
	{ "FirmwareStatusNotification", "FirmwareStatusNotification" },
	{ "Heartbeat", "Heartbeat" },
	{ "LogStatusNotification", "LogStatusNotification" },
	{ "MeterValues", "MeterValues" },
	{ "SignChargePointCertificate", "SignChargingStationCertificate" },
	{ "StatusNotification", "StatusNotification" },
};

/* TriggerMessage and ExtendedTriggerMessage: a 2.0.1 StatusNotification
 * trigger names the connector (F06), the others its EVSE. */
int tr201_down_trigger(struct ogw_tr_env *env, const json_t *payload, struct ogw_tr_out *out)
{
	const char *msg = ogw_tr_map_str(trigger201, N(trigger201), tr_str(payload, "requestedMessage"),
				  NULL);
	long long c = json_integer_value(json_object_get(payload, "connectorId"));
	json_t *p = json_pack("{s:s}", "requestedMessage", msg), *evse;

	if (p && json_object_get(payload, "connectorId") && c > 0) {
		evse = tr201_evse_obj(env, c, !strcmp(msg, "StatusNotification"));
		if (!evse || json_object_set_new(p, "evse", evse)) {
			json_decref(p);
			return -ENOMEM;
		}
	}
	return ogw_tr_forward(out, "TriggerMessage", p, NULL);
}
