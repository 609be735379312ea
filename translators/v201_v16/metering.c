/* SPDX-License-Identifier: MIT */
/*
 * Meter values of a 2.0.1 station shown to a 1.6 central system: sampled
 * values both ways of the mapping, the register kept per EVSE, MeterValues. Part of
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

/* ---- meter values ------------------------------------------------------- */

static const char *const measurands16[] = {
	"Energy.Active.Export.Register", "Energy.Active.Import.Register",
	"Energy.Reactive.Export.Register", "Energy.Reactive.Import.Register",
	"Energy.Active.Export.Interval", "Energy.Active.Import.Interval",
	"Energy.Reactive.Export.Interval", "Energy.Reactive.Import.Interval",
	"Power.Active.Export", "Power.Active.Import", "Power.Offered",
	"Power.Reactive.Export", "Power.Reactive.Import", "Power.Factor",
	"Current.Import", "Current.Export", "Current.Offered", "Voltage", "Frequency",
	"Temperature", "SoC", "RPM",
};

static const char *const units16[] = {
	"Wh", "kWh", "varh", "kvarh", "W", "kW", "VA", "kVA", "var", "kvar",
	"A", "V", "K", "Celsius", "Fahrenheit", "Percent",
};

/*
 * Appends the 1.6 form of 2.0.1 SampledValueType @sv to @arr, as @pick
 * says. 1.6 has no multiplier, so it is folded into the value; a unit 1.6
 * cannot name (Hz, ...) is left out. A measurand 1.6 lacks (Energy.*.Net,
 * Energy.Apparent.*) drops the sample. A signedMeterValue adds a second
 * sample with format SignedData whose value is signedMeterData as the meter
 * signed it (an OCMF string carries its own signing method), as a 1.6
 * charger sends it. The plain sample keeps the station's own reading.
 */
static int sampled_to16(const json_t *sv, enum mv_pick pick, json_t *arr)
{
	json_t *uom = json_object_get(sv, "unitOfMeasure");
	json_t *signed_mv = json_object_get(sv, "signedMeterValue");
	const char *measurand = tr_str(sv, "measurand");
	const char *unit = tr_str(uom, "unit");
	bool begin = tr_same(tr_str(sv, "context"), "Transaction.Begin");
	json_t *s16 = NULL, *sig = NULL;
	int r = -ENOMEM;

	if (measurand && !in_list(measurands16, N(measurands16), measurand))
		return 0;
	if ((pick == MV_NO_BEGIN && begin) ||
	    (pick == MV_SIGNED_BEGIN && (!begin || !tr_str(signed_mv, "signedMeterData"))))
		return 0;
	s16 = json_pack("{s:o}", "value",
			tr201_num_string(tr201_scale10(json_number_value(json_object_get(sv, "value")),
						     json_integer_value(json_object_get(uom, "multiplier")))));
	if (!s16)
		goto out;
	if (copy_opt(s16, sv, "context", NULL) || copy_opt(s16, sv, "measurand", NULL) ||
	    copy_opt(s16, sv, "phase", NULL) || copy_opt(s16, sv, "location", NULL))
		goto out;
	if (in_list(units16, N(units16), unit) &&
	    json_object_set_new(s16, "unit", json_string(unit)))
		goto out;
	if (tr_str(signed_mv, "signedMeterData")) {
		sig = json_deep_copy(s16);
		if (!sig ||
		    json_object_set(sig, "value", json_object_get(signed_mv, "signedMeterData")) ||
		    json_object_set_new(sig, "format", json_string("SignedData")))
			goto out;
	}
	if ((pick != MV_SIGNED_BEGIN && json_array_append(arr, s16)) ||
	    (sig && json_array_append(arr, sig)))
		goto out;
	r = 0;
out:
	json_decref(s16);
	json_decref(sig);
	return r;
}

/* 2.0.1 [MeterValueType] -> 1.6 [MeterValue] as @pick says, possibly
 * empty; NULL on ENOMEM. */
json_t *tr201_metervalues_to16(const json_t *mvs, enum mv_pick pick)
{
	json_t *res = json_array(), *mv, *sv;
	size_t i, j;

	if (!res)
		return NULL;
	json_array_foreach(mvs, i, mv) {
		json_t *svs = json_array();
		if (!svs)
			goto fail;
		json_array_foreach(json_object_get(mv, "sampledValue"), j, sv) {
			if (sampled_to16(sv, pick, svs)) {
				json_decref(svs);
				goto fail;
			}
		}
		if (json_array_size(svs) &&
		    json_array_append_new(res, json_pack("{s:O, s:o}", "timestamp",
							 json_object_get(mv, "timestamp"),
							 "sampledValue", svs)))
			goto fail;
		if (!json_array_size(svs))
			json_decref(svs);
	}
	return res;
fail:
	json_decref(res);
	return NULL;
}

/* The last Energy.Active.Import.Register reading (the default measurand) of
 * the whole station side, in Wh. false when there is none. */
bool tr201_energy_wh(const json_t *mvs, long long *ret)
{
	json_t *mv, *sv;
	size_t i, j;
	bool found = false;

	json_array_foreach(mvs, i, mv) {
		json_array_foreach(json_object_get(mv, "sampledValue"), j, sv) {
			const char *m = tr_str(sv, "measurand");
			json_t *uom = json_object_get(sv, "unitOfMeasure");
			const char *unit = tr_str(uom, "unit");
			double v;

			if ((m && strcmp(m, "Energy.Active.Import.Register")) ||
			    json_object_get(sv, "phase"))
				continue;
			if (unit && strcmp(unit, "Wh") && strcmp(unit, "kWh"))
				continue;
			v = tr201_scale10(json_number_value(json_object_get(sv, "value")),
					 json_integer_value(json_object_get(uom, "multiplier")));
			*ret = tr201_round_ll(unit && !strcmp(unit, "kWh") ? v * 1000 : v);
			found = true;
		}
	}
	return found;
}

/* The last energy register known for EVSE @evse, in Wh. */
bool tr201_meter_get(struct ogw_tr_env *env, long long evse, long long *ret)
{
	json_t *m = tr201_state_get_num(env, "meter", evse);
	json_t *wh = json_object_get(m, "wh");
	bool found = json_is_integer(wh);

	if (found)
		*ret = json_integer_value(wh);
	json_decref(m);
	return found;
}

/* Keeps the last register reading in @mvs (2.0.1 MeterValueType list) as
 * EVSE @evse's, the meterStart/meterStop of later transactions there. */
int tr201_meter_note(struct ogw_tr_env *env, long long evse, const json_t *mvs)
{
	long long wh;

	if (!tr201_energy_wh(mvs, &wh))
		return 0;
	return tr201_state_put_num(env, "meter", evse, json_pack("{s:I}", "wh", (json_int_t)wh));
}

/* ---- MeterValues -------------------------------------------------------- */

/* The 1.6 connector EVSE @evse's readings are given on: the one its
 * transaction (or the stop of one) is on, else its first connector. A
 * negative errno. */
static long long evse_conn16(struct ogw_tr_env *env, long long evse)
{
	json_t *e = evse > 0 ? tr201_state_get_num(env, "evse", evse) : NULL;
	long long id16 = e ? tr201_c16_of(env, e, evse) : tr201_conn16_learn(env, evse, 1);

	json_decref(e);
	return id16;
}

int tr201_up_metervalues(struct ogw_tr_env *env, const json_t *payload,
			struct ogw_tr_out *out)
{
	json_t *mvs = json_object_get(payload, "meterValue");
	long long evse = json_integer_value(json_object_get(payload, "evseId")), id16;
	json_t *mv;
	int r = tr201_held_flush(env, -1, 0);

	if (r)
		return r;
	if ((id16 = evse_conn16(env, evse)) < 0) {
		if (id16 != -ERANGE)
			return (int)id16;
		ogw_tr_lost(env, "MeterValues", payload,
			    "more connectors than a 1.6 numbering of this station holds");
		return ogw_tr_out_answer(out, json_object());
	}
	if (!(mv = tr201_metervalues_to16(mvs, MV_ALL)))
		return -ENOMEM;
	/* EVSE 0 is the station's main meter, no connector's register. */
	if (evse > 0 && (r = tr201_meter_note(env, evse, mvs))) {
		json_decref(mv);
		return r;
	}
	return ogw_tr_forward(out, "MeterValues",
			   json_pack("{s:I, s:o}", "connectorId", (json_int_t)id16, "meterValue", mv),
			   NULL);
}
