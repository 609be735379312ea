/* SPDX-License-Identifier: MIT */
/*
 * How a simulated charger answers the CSMS: one handler per action, found in
 * a table that also says which versions have it; field names that differ
 * between 1.6 and 2.x come from a per-version table. A known action without
 * a handler is NotSupported; unknown actions never get here (the schema set
 * is the registry, charger.c answers NotImplemented).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ocppgw/util.h"
#include "sim.h"

#define V16 1u
#define V2X 6u
#define ALL 7u

/* Request and response field names, 1.6 and 2.x. */
static const struct vocab {
	const char *evse;          /* connector / EVSE id in a request */
	const char *id_tag;        /* the token, a string in 1.6, an object in 2.x */
	const char *list_version;
	const char *reservation_id;/* ReserveNow */
	const char *profile;       /* SetChargingProfile */
} vocab[2] = {
	{ "connectorId", "idTag", "listVersion", "reservationId", "csChargingProfiles" },
	{ "evseId", "idToken", "versionNumber", "id", "chargingProfile" },
};

struct ctx {
	struct sim_charger *ch;
	const struct vocab *w;
	bool is16;
	unsigned int evses;
};

static json_t *status(const char *s)
{
	return json_pack("{s:s}", "status", s);
}

static struct sim_evse *evse_at(const struct ctx *c, json_int_t id)
{
	return id >= 1 && id <= (json_int_t)c->evses ? &c->ch->evse[id - 1] : NULL;
}

/* The EVSE a request names (2.x may nest it in "evse"), or the first free
 * one when it names none. */
static struct sim_evse *evse_of(const struct ctx *c, const json_t *req)
{
	const json_t *id = json_object_get(req, c->w->evse);

	if (!id)
		id = json_object_get(json_object_get(req, "evse"), "id");
	if (json_integer_value(id) > 0)
		return evse_at(c, json_integer_value(id));
	for (unsigned int i = 0; i < c->evses; i++)
		if (c->ch->evse[i].state == SIM_EVSE_FREE && !c->ch->evse[i].unavailable)
			return &c->ch->evse[i];
	return NULL;
}

static const char *token_of(const struct ctx *c, const json_t *req, const char *field)
{
	const json_t *t = json_object_get(req, field);

	return c->is16 ? json_string_value(t) : json_string_value(json_object_get(t, "idToken"));
}

static void limits_changed(const struct ctx *c)
{
	for (unsigned int i = 0; i < c->evses; i++)
		sim_session_limit_changed(&c->ch->evse[i]);
}

static json_t *install_profile(const struct ctx *c, const json_t *j, struct sim_evse *e);

static json_t *remote_start(const struct ctx *c, const json_t *req)
{
	struct sim_evse *e = evse_of(c, req);
	json_int_t rsid = json_integer_value(json_object_get(req, "remoteStartId"));
	const char *tag = token_of(c, req, c->w->id_tag);
	const json_t *prof = json_object_get(req, "chargingProfile");
	json_t *res;

	if (!e || !tag || sim_session_remote_start(e, tag, c->is16 ? -1 : (int)rsid) < 0)
		return status("Rejected");
	res = status("Accepted");
	if (prof) {
		json_t *r = install_profile(c, prof, e);

		json_decref(r);
	}
	if (!c->is16 && res)
		json_object_set_new(res, "transactionId", json_string(e->tx_id));
	return res;
}

static json_t *remote_stop(const struct ctx *c, const json_t *req)
{
	struct sim_evse *e = sim_session_find_tx(c->ch, json_object_get(req, "transactionId"));

	if (!e)
		return status("Rejected");
	sim_session_stop(e, "Remote");
	return status("Accepted");
}

static json_t *reset(const struct ctx *c, const json_t *req)
{
	const char *type = json_string_value(json_object_get(req, "type"));

	if (json_object_get(req, "evseId"))
		return status("Rejected");
	sim_charger_reboot(c->ch, type && !strcmp(type, "Soft") ? "SoftReset" : "HardReset");
	return status("Accepted");
}

static json_t *unlock(const struct ctx *c, const json_t *req)
{
	struct sim_evse *e = evse_at(c, json_integer_value(json_object_get(req, c->w->evse)));

	if (!e)
		return status(c->is16 ? "NotSupported" : "UnknownConnector");
	sim_session_stop(e, "UnlockCommand");
	return status("Unlocked");
}

static json_t *change_availability(const struct ctx *c, const json_t *req)
{
	const char *t = json_string_value(json_object_get(req, c->is16 ? "type" : "operationalStatus"));
	bool down = t && !strcmp(t, "Inoperative"), scheduled = false;
	json_int_t id = c->is16 ? json_integer_value(json_object_get(req, "connectorId")) :
		json_integer_value(json_object_get(json_object_get(req, "evse"), "id"));

	if (id > (json_int_t)c->evses)
		return status("Rejected");
	for (unsigned int i = 0; i < c->evses; i++) {
		struct sim_evse *e = &c->ch->evse[i];

		if (id > 0 && e->id != id)
			continue;
		if (down && e->state == SIM_EVSE_CHARGING) {
			e->pending_unavailable = true;  /* after the transaction */
			scheduled = true;
			continue;
		}
		e->pending_unavailable = false;
		if (e->unavailable != down) {
			e->unavailable = down;
			sim_session_send_status(e);
		}
	}
	return status(scheduled ? "Scheduled" : "Accepted");
}

static json_t *install_profile(const struct ctx *c, const json_t *j, struct sim_evse *e)
{
	struct sim_profile p;
	int evse = e ? e->id : 0;

	if (sim_profile_parse(c->ch->v, j, evse, c->ch->fleet->o->phases, &p) < 0)
		return status("Rejected");
	/* Tx profiles need a transaction (1.6 §3.13.3, 2.0.1 K01.FR.09);
	 * the Max profile belongs to the whole station. */
	if ((p.purpose == SIM_PURPOSE_TX && (!e || e->state != SIM_EVSE_CHARGING)) ||
	    ((p.purpose == SIM_PURPOSE_MAX || p.purpose == SIM_PURPOSE_EXTERNAL) && evse)) {
		sim_profile_release(&p);
		return status("Rejected");
	}
	if (p.purpose == SIM_PURPOSE_TX && !p.tx_id[0] && e->tx_id[0])
		snprintf(p.tx_id, sizeof(p.tx_id), "%s", e->tx_id);
	if (sim_profiles_add(&c->ch->profiles, &p) < 0) {
		sim_profile_release(&p);
		return status("Rejected");
	}
	limits_changed(c);
	return status("Accepted");
}

static json_t *set_profile(const struct ctx *c, const json_t *req)
{
	json_int_t id = json_integer_value(json_object_get(req, c->w->evse));

	if (id < 0 || id > (json_int_t)c->evses)
		return status("Rejected");
	return install_profile(c, json_object_get(req, c->w->profile), id ? evse_at(c, id) : NULL);
}

static int purpose_index(const char *s)
{
	return s ? (int)sim_profile_purpose(s) : -1;
}

static json_t *clear_profile(const struct ctx *c, const json_t *req)
{
	const json_t *crit = c->is16 ? req : json_object_get(req, "chargingProfileCriteria");
	const json_t *id = json_object_get(req, c->is16 ? "id" : "chargingProfileId");
	const json_t *evse = json_object_get(crit, c->w->evse);
	const json_t *lvl = json_object_get(crit, "stackLevel");
	const char *purpose = json_string_value(json_object_get(crit, "chargingProfilePurpose"));
	unsigned int n;

	n = sim_profiles_clear(&c->ch->profiles, id ? (int)json_integer_value(id) : -1,
			       evse ? (int)json_integer_value(evse) : -1,
			       purpose_index(purpose),
			       lvl ? (int)json_integer_value(lvl) : -1);
	limits_changed(c);
	return status(n ? "Accepted" : "Unknown");
}

static json_t *get_profiles(const struct ctx *c, const json_t *req)
{
	const json_t *crit = json_object_get(req, "chargingProfile");
	const json_t *evse = json_object_get(req, "evseId");
	const json_t *ids = json_object_get(crit, "chargingProfileId");
	const json_t *lvl = json_object_get(crit, "stackLevel");
	const char *purpose = json_string_value(json_object_get(crit, "chargingProfilePurpose"));
	int want_purpose = purpose_index(purpose);
	int request_id = (int)json_integer_value(json_object_get(req, "requestId"));
	bool any = false;

	for (unsigned int ev = 0; ev <= c->evses; ev++) {
		json_t *list = json_array();

		for (unsigned int i = 0; i < c->ch->profiles.n; i++) {
			const struct sim_profile *p = &c->ch->profiles.p[i];
			bool id_ok = !json_array_size(ids);
			size_t k;
			const json_t *x;

			json_array_foreach(ids, k, x)
				id_ok |= json_integer_value(x) == p->id;
			if ((unsigned int)p->evse != ev || !id_ok ||
			    (evse && json_integer_value(evse) != p->evse) ||
			    (lvl && json_integer_value(lvl) != p->stack_level) ||
			    (want_purpose >= 0 && (int)p->purpose != want_purpose))
				continue;
			json_array_append(list, p->raw);
		}
		if (!json_array_size(list)) {
			json_decref(list);
			continue;
		}
		any = true;
		sim_charger_call(c->ch, "ReportChargingProfiles",
				 sim_msg_report_profiles(c->ch, request_id, (int)ev, list));
	}
	return status(any ? "Accepted" : "NoProfiles");
}

static json_t *composite(const struct ctx *c, const json_t *req)
{
	json_int_t id = json_integer_value(json_object_get(req, c->w->evse));
	int duration = (int)json_integer_value(json_object_get(req, "duration"));
	const char *unit = json_string_value(json_object_get(req, "chargingRateUnit"));
	struct sim_evse *e = id ? evse_at(c, id) : NULL;
	time_t now = time(NULL);
	char start[32];
	json_t *periods;

	if (id < 0 || (id && !e) || duration <= 0)
		return status("Rejected");
	if (!unit)
		unit = "A";
	periods = sim_profiles_composite(&c->ch->profiles, (int)id, e ? e->tx_id : "",
					 e ? e->tx_start : 0, now, duration, !strcmp(unit, "W"),
					 c->ch->fleet->o->phases, c->ch->fleet->o->car_amps);
	ogw_time_rfc3339(start);
	if (c->is16)
		return json_pack("{s:s, s:i, s:s, s:{s:i, s:s, s:s, s:o}}", "status", "Accepted",
				 "connectorId", (int)id, "scheduleStart", start, "chargingSchedule",
				 "duration", duration, "startSchedule", start, "chargingRateUnit", unit,
				 "chargingSchedulePeriod", periods);
	return json_pack("{s:s, s:{s:i, s:i, s:s, s:s, s:o}}", "status", "Accepted", "schedule",
			 "evseId", (int)id, "duration", duration, "scheduleStart", start,
			 "chargingRateUnit", unit, "chargingSchedulePeriod", periods);
}

/* TriggerMessage: what each requested message sends. */
static bool trigger_boot(const struct ctx *c, struct sim_evse *e)
{
	(void)e;
	sim_charger_send_boot(c->ch);
	return true;
}

static bool trigger_heartbeat(const struct ctx *c, struct sim_evse *e)
{
	(void)e;
	return sim_charger_call(c->ch, "Heartbeat", sim_msg_heartbeat()) == 0;
}

static bool trigger_status(const struct ctx *c, struct sim_evse *e)
{
	for (unsigned int i = 0; i < c->evses; i++)
		if (!e || e == &c->ch->evse[i])
			sim_session_send_status(&c->ch->evse[i]);
	return true;
}

static bool trigger_meter(const struct ctx *c, struct sim_evse *e)
{
	if (!e)
		e = &c->ch->evse[0];
	if (e->state == SIM_EVSE_CHARGING && c->is16) {
		sim_session_send_meter(e, "Trigger");
		return true;
	}
	return sim_charger_call(c->ch, "MeterValues", sim_msg_meter_plain(c->ch, e)) == 0;
}

static bool trigger_tx_event(const struct ctx *c, struct sim_evse *e)
{
	for (unsigned int i = 0; i < c->evses; i++) {
		struct sim_evse *x = &c->ch->evse[i];

		if ((!e || e == x) && x->state == SIM_EVSE_CHARGING) {
			sim_session_send_meter(x, "Trigger");
			return true;
		}
	}
	return false;
}

static bool trigger_idle_status(const struct ctx *c, const char *action)
{
	return sim_charger_call(c->ch, action, status("Idle")) == 0;
}

static bool trigger_firmware(const struct ctx *c, struct sim_evse *e)
{
	(void)e;
	return trigger_idle_status(c, "FirmwareStatusNotification");
}

static bool trigger_diagnostics(const struct ctx *c, struct sim_evse *e)
{
	(void)e;
	return trigger_idle_status(c, c->is16 ? "DiagnosticsStatusNotification" : "LogStatusNotification");
}

static const struct {
	const char *name;
	bool (*fn)(const struct ctx *c, struct sim_evse *e);
} triggers[] = {
	{ "BootNotification", trigger_boot },
	{ "Heartbeat", trigger_heartbeat },
	{ "StatusNotification", trigger_status },
	{ "MeterValues", trigger_meter },
	{ "TransactionEvent", trigger_tx_event },
	{ "FirmwareStatusNotification", trigger_firmware },
	{ "DiagnosticsStatusNotification", trigger_diagnostics },
	{ "LogStatusNotification", trigger_diagnostics },
};

static json_t *trigger(const struct ctx *c, const json_t *req)
{
	const char *what = json_string_value(json_object_get(req, "requestedMessage"));
	json_int_t id = c->is16 ? json_integer_value(json_object_get(req, "connectorId")) :
		json_integer_value(json_object_get(json_object_get(req, "evse"), "id"));
	struct sim_evse *e = id > 0 ? evse_at(c, id) : NULL;

	if (id > 0 && !e)
		return status("Rejected");
	for (size_t i = 0; what && i < sizeof(triggers) / sizeof(triggers[0]); i++)
		if (!strcmp(triggers[i].name, what))
			return status(triggers[i].fn(c, e) ? "Accepted" : "Rejected");
	return status("NotImplemented");
}

static json_t *reserve(const struct ctx *c, const json_t *req)
{
	struct sim_evse *e = evse_of(c, req);

	if (!e)
		return status("Occupied");
	if (e->unavailable)
		return status("Unavailable");
	if (e->state != SIM_EVSE_FREE || e->reservation_id >= 0)
		return status("Occupied");
	e->reservation_id = (int)json_integer_value(json_object_get(req, c->w->reservation_id));
	sim_session_send_status(e);
	return status("Accepted");
}

static json_t *cancel_reservation(const struct ctx *c, const json_t *req)
{
	json_int_t id = json_integer_value(json_object_get(req, "reservationId"));

	for (unsigned int i = 0; i < c->evses; i++) {
		struct sim_evse *e = &c->ch->evse[i];

		if (e->reservation_id >= 0 && e->reservation_id == id) {
			e->reservation_id = -1;
			sim_session_send_status(e);
			return status("Accepted");
		}
	}
	return status("Rejected");
}

static json_t *data_transfer(const struct ctx *c, const json_t *req)
{
	(void)c;
	(void)req;
	return status("UnknownVendorId");
}

static json_t *send_local_list(const struct ctx *c, const json_t *req)
{
	c->ch->local_list_version = (int)json_integer_value(json_object_get(req, c->w->list_version));
	return status("Accepted");
}

static json_t *local_list_version(const struct ctx *c, const json_t *req)
{
	(void)req;
	return json_pack("{s:i}", c->w->list_version, c->ch->local_list_version);
}

static json_t *clear_cache(const struct ctx *c, const json_t *req)
{
	(void)c;
	(void)req;
	return status("Accepted");
}

static json_t *tx_status(const struct ctx *c, const json_t *req)
{
	const json_t *id = json_object_get(req, "transactionId");
	json_t *res = json_pack("{s:b}", "messagesInQueue", ogw_tracker_count(&c->ch->tracker) > 0);

	if (res && id)
		json_object_set_new(res, "ongoingIndicator",
				    json_boolean(sim_session_find_tx(c->ch, id) != NULL));
	return res;
}

static json_t *get_config(const struct ctx *c, const json_t *req)
{
	return sim_keys_get16(c->ch, req);
}

static json_t *change_config(const struct ctx *c, const json_t *req)
{
	return sim_keys_change16(c->ch, req);
}

static json_t *get_variables(const struct ctx *c, const json_t *req)
{
	return sim_keys_get2x(c->ch, req);
}

static json_t *set_variables(const struct ctx *c, const json_t *req)
{
	return sim_keys_set2x(c->ch, req);
}

static json_t *update_firmware(const struct ctx *c, const json_t *req)
{
	return sim_files_request(c->ch, "UpdateFirmware", req);
}

static json_t *signed_update_firmware(const struct ctx *c, const json_t *req)
{
	return sim_files_request(c->ch, "SignedUpdateFirmware", req);
}

static json_t *get_diagnostics(const struct ctx *c, const json_t *req)
{
	return sim_files_request(c->ch, "GetDiagnostics", req);
}

static json_t *get_log(const struct ctx *c, const json_t *req)
{
	return sim_files_request(c->ch, "GetLog", req);
}

static const struct {
	const char *action;
	unsigned int versions;   /* bit per enum ogw_ocpp */
	json_t *(*fn)(const struct ctx *c, const json_t *req);
} handlers[] = {
	{ "RemoteStartTransaction",  V16, remote_start },
	{ "RemoteStopTransaction",   V16, remote_stop },
	{ "RequestStartTransaction", V2X, remote_start },
	{ "RequestStopTransaction",  V2X, remote_stop },
	{ "Reset",                   ALL, reset },
	{ "UnlockConnector",         ALL, unlock },
	{ "ChangeAvailability",      ALL, change_availability },
	{ "SetChargingProfile",      ALL, set_profile },
	{ "ClearChargingProfile",    ALL, clear_profile },
	{ "GetChargingProfiles",     V2X, get_profiles },
	{ "GetCompositeSchedule",    ALL, composite },
	{ "GetConfiguration",        V16, get_config },
	{ "ChangeConfiguration",     V16, change_config },
	{ "GetVariables",            V2X, get_variables },
	{ "SetVariables",            V2X, set_variables },
	{ "TriggerMessage",          ALL, trigger },
	{ "ReserveNow",              ALL, reserve },
	{ "CancelReservation",       ALL, cancel_reservation },
	{ "DataTransfer",            ALL, data_transfer },
	{ "SendLocalList",           ALL, send_local_list },
	{ "GetLocalListVersion",     ALL, local_list_version },
	{ "ClearCache",              ALL, clear_cache },
	{ "GetTransactionStatus",    V2X, tx_status },
	{ "UpdateFirmware",          ALL, update_firmware },
	{ "SignedUpdateFirmware",    V16, signed_update_firmware },
	{ "GetDiagnostics",          V16, get_diagnostics },
	{ "GetLog",                  ALL, get_log },
};

void sim_answer(struct sim_charger *ch, const char *action, const json_t *req,
		json_t **ret_res, enum ogw_err *ret_err)
{
	struct ctx c = { .ch = ch, .is16 = ch->v == OGW_OCPP16, .evses = ch->fleet->o->evses };

	c.w = &vocab[c.is16 ? 0 : 1];
	for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++) {
		if (!(handlers[i].versions & (1u << ch->v)) || strcmp(handlers[i].action, action))
			continue;
		*ret_res = handlers[i].fn(&c, req);
		if (!*ret_res)
			*ret_err = OGW_ERR_INTERNAL;
		return;
	}
	*ret_res = NULL;
	*ret_err = OGW_ERR_NOT_SUPPORTED;
}
