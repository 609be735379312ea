/* SPDX-License-Identifier: MIT */
/*
 * The charger state tracker: a stage whose observer reads the south
 * leg's validated frames in the charger's own version (1.6, 2.0.1, 2.1) and
 * keeps struct ogw_charger_state up to date: boot information, each EVSE's
 * status, its active transaction and its latest meter readings. It only
 * reads frames; limits are set by whoever sends them (the load balancer).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ocppgw/json.h"
#include "ocppgw/log.h"
#include "ocppgw/util.h"
#include "features/state/state.h"
#include "session/session.h"

static const struct ogw_evse_state evse_unknown = {
	.energy_wh = -1,
	.power_w = -1,
	.current_a = { -1, -1, -1 },
	.offered_a = -1,
	.csms_limit_a = -1,
	.gw_limit_a = -1,
};

struct ogw_evse_state *ogw_state_evse(struct ogw_charger_state *cs, int id)
{
	if (id < 1 || id > OGW_STATE_MAX_EVSE)
		return NULL;
	int at = 0;
	while (at < cs->n_evse && cs->evse[at].id < id)
		at++;
	if (at < cs->n_evse && cs->evse[at].id == id)
		return &cs->evse[at];
	struct ogw_evse_state *n = realloc(cs->evse, (size_t)(cs->n_evse + 1) * sizeof(*n));
	if (!n)
		return NULL;
	cs->evse = n;
	memmove(&n[at + 1], &n[at], (size_t)(cs->n_evse - at) * sizeof(*n));
	n[at] = evse_unknown;
	n[at].id = id;
	cs->n_evse++;
	return &n[at];
}

void ogw_state_clear(struct ogw_charger_state *cs)
{
	free(cs->evse);
	memset(cs, 0, sizeof(*cs));
}

/* ---- reading payloads ----------------------------------------------------- */

static const char *str_at(const json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));
	return v ? v : "";
}

static void copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

/* RFC 3339 as OCPP sends it, its offset applied; 0 when unreadable. */
static int64_t parse_time(const char *s)
{
	int64_t t = 0;
	return ogw_time_parse_rfc3339(s, &t) == 0 ? t : 0;
}

/* A transaction id as text: 1.6 sends an integer, 2.x a string. */
static void tx_id_text(const json_t *v, char *buf, size_t size)
{
	if (json_is_integer(v))
		snprintf(buf, size, "%lld", (long long)json_integer_value(v));
	else
		copy(buf, size, json_string_value(v));
}

static struct ogw_evse_state *evse_by_tx(struct ogw_charger_state *cs, const char *tx_id)
{
	for (int i = 0; tx_id[0] && i < cs->n_evse; i++)
		if (strcmp(cs->evse[i].tx_id, tx_id) == 0)
			return &cs->evse[i];
	return NULL;
}

static void tx_begin(struct ogw_evse_state *e, const char *tx_id, const char *id_tag,
		     int64_t started)
{
	copy(e->tx_id, sizeof(e->tx_id), tx_id);
	if (id_tag && id_tag[0])
		copy(e->id_tag, sizeof(e->id_tag), id_tag);
	if (!e->tx_started)
		e->tx_started = started;
}

static void tx_end(struct ogw_evse_state *e)
{
	e->tx_id[0] = '\0';
	e->id_tag[0] = '\0';
	e->tx_started = 0;
	e->power_w = -1;
	for (int p = 0; p < 3; p++)
		e->current_a[p] = -1;
	e->phases_used = 0;
}

/* ---- meter values ----------------------------------------------------------- */

enum measurand { M_ENERGY, M_POWER, M_CURRENT, M_OFFERED, M_OTHER };

static const struct {
	const char *name;
	enum measurand m;
} measurands[] = {
	{ "Energy.Active.Import.Register", M_ENERGY },
	{ "Power.Active.Import", M_POWER },
	{ "Current.Import", M_CURRENT },
	{ "Current.Offered", M_OFFERED },
};

/* Units with a scale to W, Wh or A; anything else keeps its value. */
static const struct {
	const char *unit;
	double scale;
} units[] = {
	{ "kWh", 1000 }, { "kW", 1000 }, { "Wh", 1 }, { "W", 1 }, { "A", 1 },
};

static enum measurand measurand_of(const char *name)
{
	if (!name[0])
		return M_ENERGY;  /* the default measurand in every version */
	for (size_t i = 0; i < sizeof(measurands) / sizeof(measurands[0]); i++)
		if (strcmp(measurands[i].name, name) == 0)
			return measurands[i].m;
	return M_OTHER;
}

/* Phase 0..2 for "L1", "L1-N", "L1-L2", ...; -1 for none or "N". */
static int phase_of(const char *p)
{
	if (p[0] == 'L' && p[1] >= '1' && p[1] <= '3')
		return p[1] - '1';
	return -1;
}

/* A sampledValue's value in W, Wh or A. 1.6 sends a string and a "unit";
 * 2.x a number and "unitOfMeasure" {unit, multiplier}. false: unreadable. */
static bool sample_value(const json_t *sv, double *ret)
{
	const json_t *v = json_object_get(sv, "value");
	double x;
	const char *unit = str_at(sv, "unit");
	if (json_is_string(v)) {
		char *end;
		x = strtod(json_string_value(v), &end);
		if (end == json_string_value(v))
			return false;
	} else if (json_is_number(v)) {
		x = json_number_value(v);
		const json_t *uom = json_object_get(sv, "unitOfMeasure");
		unit = str_at(uom, "unit");
		const json_t *mul = json_object_get(uom, "multiplier");
		if (json_is_integer(mul))
			x *= pow(10, (double)json_integer_value(mul));
	} else {
		return false;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(units[i].unit, unit) == 0) {
			x *= units[i].scale;
			break;
		}
	*ret = x;
	return isfinite(x);
}

/* Every sampledValue of every meterValue in @mvs, onto @e. */
static void meter_apply(struct ogw_evse_state *e, const json_t *mvs, int64_t now)
{
	size_t i, j;
	const json_t *mv, *sv;
	json_array_foreach(mvs, i, mv) {
		double phase_a[3] = { -1, -1, -1 };
		double total_a = -1;
		json_array_foreach(json_object_get(mv, "sampledValue"), j, sv) {
			double x;
			if (!sample_value(sv, &x))
				continue;
			int ph = phase_of(str_at(sv, "phase"));
			switch (measurand_of(str_at(sv, "measurand"))) {
			case M_ENERGY:
				if (ph < 0)
					e->energy_wh = x;
				break;
			case M_POWER:
				if (ph < 0)
					e->power_w = x;
				break;
			case M_CURRENT:
				if (ph < 0)
					total_a = x;
				else
					phase_a[ph] = x;
				break;
			case M_OFFERED:
				if (ph < 0 || ph == 0)
					e->offered_a = x;
				break;
			case M_OTHER:
				break;
			}
		}
		int reported = 0, drawing = 0;
		for (int p = 0; p < 3; p++)
			if (phase_a[p] >= 0) {
				reported++;
				drawing += phase_a[p] > 0.1;
			}
		if (reported) {
			for (int p = 0; p < 3; p++)
				e->current_a[p] = phase_a[p] >= 0 ? phase_a[p] : 0;
			if (drawing)
				e->phases_used = drawing;
		} else if (total_a >= 0) {
			/* No phase given: taken as one phase, L1. */
			e->current_a[0] = total_a;
			e->current_a[1] = e->current_a[2] = 0;
			e->phases_used = 1;
		}
		e->updated = now;
	}
}

/* ---- one function per action ------------------------------------------------ */

struct obs_in {
	struct ogw_charger_state *cs;
	enum ogw_ocpp ver;
	enum ogw_obs what;
	const json_t *p;
	int64_t now;
};

static void on_boot(const struct obs_in *in)
{
	if (in->what != OGW_OBS_UP_CALL)
		return;
	struct ogw_charger_state *cs = in->cs;
	const json_t *p = in->p;
	const char *keys16[] = { "chargePointVendor", "chargePointModel",
				 "chargePointSerialNumber", "firmwareVersion" };
	const char *keys2x[] = { "vendorName", "model", "serialNumber", "firmwareVersion" };
	const char **keys = keys16;
	if (in->ver != OGW_OCPP16) {
		p = json_object_get(p, "chargingStation");
		keys = keys2x;
	}
	copy(cs->vendor, sizeof(cs->vendor), str_at(p, keys[0]));
	copy(cs->model, sizeof(cs->model), str_at(p, keys[1]));
	copy(cs->serial, sizeof(cs->serial), str_at(p, keys[2]));
	copy(cs->firmware, sizeof(cs->firmware), str_at(p, keys[3]));
	cs->boot_at = in->now;
}

static void on_status(const struct obs_in *in)
{
	if (in->what != OGW_OBS_UP_CALL)
		return;
	bool v16 = in->ver == OGW_OCPP16;
	const json_t *id = json_object_get(in->p, v16 ? "connectorId" : "evseId");
	struct ogw_evse_state *e = ogw_state_evse(in->cs, (int)json_integer_value(id));
	if (e)
		copy(e->status, sizeof(e->status), str_at(in->p, v16 ? "status" : "connectorStatus"));
}

static void on_meter_values(const struct obs_in *in)
{
	if (in->what != OGW_OBS_UP_CALL)
		return;
	const json_t *id = json_object_get(in->p, in->ver == OGW_OCPP16 ? "connectorId" : "evseId");
	struct ogw_evse_state *e = ogw_state_evse(in->cs, (int)json_integer_value(id));
	if (e)
		meter_apply(e, json_object_get(in->p, "meterValue"), in->now);
}

/* 1.6: the connector is in the CALL, the transaction id in the answer. One
 * slot is enough: a 1.6 charger has one CALL outstanding at a time. */
static void on_start_tx(const struct obs_in *in)
{
	struct ogw_charger_state *cs = in->cs;
	if (in->what == OGW_OBS_UP_CALL) {
		cs->start_connector = (int)json_integer_value(json_object_get(in->p, "connectorId"));
		copy(cs->start_id_tag, sizeof(cs->start_id_tag), str_at(in->p, "idTag"));
		cs->start_meter_wh = json_is_integer(json_object_get(in->p, "meterStart")) ?
			(double)json_integer_value(json_object_get(in->p, "meterStart")) : -1;
		cs->start_at = parse_time(str_at(in->p, "timestamp"));
		return;
	}
	if (in->what != OGW_OBS_UP_RESULT || !cs->start_connector)
		return;
	struct ogw_evse_state *e = ogw_state_evse(cs, cs->start_connector);
	cs->start_connector = 0;
	const json_t *info = json_object_get(in->p, "idTagInfo");
	if (!e || strcmp(str_at(info, "status"), "Accepted") != 0)
		return;
	char tx[40];
	tx_id_text(json_object_get(in->p, "transactionId"), tx, sizeof(tx));
	e->tx_started = 0;
	tx_begin(e, tx, cs->start_id_tag, cs->start_at ? cs->start_at : in->now);
	if (cs->start_meter_wh >= 0)
		e->energy_wh = cs->start_meter_wh;
}

static void on_stop_tx(const struct obs_in *in)
{
	if (in->what != OGW_OBS_UP_CALL)
		return;
	char tx[40];
	tx_id_text(json_object_get(in->p, "transactionId"), tx, sizeof(tx));
	struct ogw_evse_state *e = evse_by_tx(in->cs, tx);
	if (!e)
		return;
	const json_t *stop = json_object_get(in->p, "meterStop");
	if (json_is_integer(stop))
		e->energy_wh = (double)json_integer_value(stop);
	tx_end(e);
}

static void on_tx_event(const struct obs_in *in)
{
	if (in->what != OGW_OBS_UP_CALL)
		return;
	const json_t *info = json_object_get(in->p, "transactionInfo");
	const char *tx = str_at(info, "transactionId");
	const char *type = str_at(in->p, "eventType");
	const json_t *evse = json_object_get(in->p, "evse");
	struct ogw_evse_state *e = evse ?
		ogw_state_evse(in->cs, (int)json_integer_value(json_object_get(evse, "id"))) :
		evse_by_tx(in->cs, tx);
	if (!e)
		return;
	meter_apply(e, json_object_get(in->p, "meterValue"), in->now);
	if (strcmp(type, "Ended") == 0) {
		if (strcmp(e->tx_id, tx) == 0)
			tx_end(e);
		return;
	}
	if (strcmp(e->tx_id, tx) != 0)
		e->tx_started = 0;
	const json_t *tok = json_object_get(in->p, "idToken");
	int64_t at = parse_time(str_at(in->p, "timestamp"));
	tx_begin(e, tx, str_at(tok, "idToken"), at ? at : in->now);
}

static const struct {
	const char *action;
	void (*fn)(const struct obs_in *in);
} handlers[] = {
	{ "BootNotification", on_boot },
	{ "StatusNotification", on_status },
	{ "MeterValues", on_meter_values },
	{ "StartTransaction", on_start_tx },
	{ "StopTransaction", on_stop_tx },
	{ "TransactionEvent", on_tx_event },
};

void ogw_state_update(struct ogw_charger_state *cs, enum ogw_ocpp ver, enum ogw_obs what,
		      const char *action, const json_t *payload, int64_t now)
{
	if (what == OGW_OBS_UP_CALL)
		cs->last_seen = now;
	for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
		if (strcmp(handlers[i].action, action) == 0) {
			struct obs_in in = { cs, ver, what, payload, now };
			handlers[i].fn(&in);
			return;
		}
}

_Static_assert(_Alignof(struct ogw_charger_state) <= OGW_STAGE_STATE_ALIGN, "stage state alignment");

struct ogw_charger_state *ogw_state_of(const struct ogw_session *s)
{
	return ogw_session_state(s, &ogw_state_stage);
}

static void state_free(struct ogw_session *s)
{
	ogw_state_clear(ogw_state_of(s));
}

/* Boots are worth an info line: vendor, model, firmware as the charger said. */
static void log_boot(struct ogw_session *s, enum ogw_obs what, const char *action,
		     const json_t *payload)
{
	if (what != OGW_OBS_UP_CALL || strcmp(action, "BootNotification") != 0)
		return;
	char *text = ogw_json_text(payload, JSON_COMPACT);
	struct ogw_log_ctx lc = { s->id, "south", action, NULL };
	ogw_info(&lc, "boot: %.300s", text ? text : "");
	free(text);
}

static void state_observe(struct ogw_session *s, enum ogw_obs what, const char *action,
			  const json_t *payload)
{
	log_boot(s, what, action, payload);
	ogw_state_update(ogw_state_of(s), s->south.ver, what, action, payload, (int64_t)time(NULL));
}

const struct ogw_stage ogw_state_stage = {
	.name = "charger-state",
	.state_size = sizeof(struct ogw_charger_state),
	.on_session_free = state_free,
	.observe = state_observe,
};
