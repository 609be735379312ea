/* SPDX-License-Identifier: MIT */
/*
 * Smart charging between a 1.6 central system and a 2.0.1 station:
 * charging profiles, composite schedules, the EV's charging needs. Part of
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

/* K15: Rejected tells the EV no schedule is coming from a CSMS. */
int tr201_up_ev_charging_needs(struct ogw_tr_env *env, const json_t *payload,
			      struct ogw_tr_out *out)
{
	(void)env;
	(void)payload;
	return ogw_tr_out_answer(out, json_pack("{s:s}", "status", "Rejected"));
}

int tr201_up_ev_charging_schedule(struct ogw_tr_env *env, const json_t *payload,
				 struct ogw_tr_out *out)
{
	(void)env;
	(void)payload;
	return ogw_tr_out_answer(out, json_pack("{s:s}", "status", "Accepted"));
}

/* ---- charging profiles -------------------------------------------------- */

static const struct ogw_tr_map purpose201[] = {
	{ "ChargePointMaxProfile", "ChargingStationMaxProfile" },
	{ "TxDefaultProfile", "TxDefaultProfile" },
	{ "TxProfile", "TxProfile" },
};

/* 1.6 ChargingProfile -> 2.0.1 ChargingProfileType: one schedule, given the
 * profile's id (the only id it needs to be unique against); the integer
 * transactionId through the id map. -ENOENT for an unknown transaction,
 * -EINVAL for a schedule without periods (2.0.1 needs one). */
int tr201_profile_from16(struct ogw_tr_env *env, const json_t *p16, json_t **ret)
{
	json_t *cs = json_object_get(p16, "chargingSchedule");
	json_t *periods = json_object_get(cs, "chargingSchedulePeriod");
	json_t *tid = json_object_get(p16, "transactionId");
	json_t *sched = NULL, *p = NULL, *txid = NULL;
	int r = -ENOMEM;

	if (!json_array_size(periods))
		return -EINVAL;
	if (tid && !(txid = tr201_txid_of16(env, json_integer_value(tid))))
		return -ENOENT;
	sched = json_pack("{s:O, s:O, s:O}", "id", json_object_get(p16, "chargingProfileId"),
			  "chargingRateUnit", json_object_get(cs, "chargingRateUnit"),
			  "chargingSchedulePeriod", periods);
	if (!sched || copy_opt(sched, cs, "startSchedule", NULL) ||
	    copy_opt(sched, cs, "duration", NULL) || copy_opt(sched, cs, "minChargingRate", NULL))
		goto out;
	p = json_pack("{s:O, s:O, s:s, s:O, s:[O]}", "id", json_object_get(p16, "chargingProfileId"),
		      "stackLevel", json_object_get(p16, "stackLevel"),
		      "chargingProfilePurpose",
		      ogw_tr_map_str(purpose201, N(purpose201), tr_str(p16, "chargingProfilePurpose"),
			      "TxProfile"),
		      "chargingProfileKind", json_object_get(p16, "chargingProfileKind"),
		      "chargingSchedule", sched);
	if (!p || copy_opt(p, p16, "recurrencyKind", NULL) || copy_opt(p, p16, "validFrom", NULL) ||
	    copy_opt(p, p16, "validTo", NULL) ||
	    (txid && json_object_set(p, "transactionId", txid)))
		goto out;
	*ret = json_incref(p);
	r = 0;
out:
	json_decref(p);
	json_decref(sched);
	json_decref(txid);
	return r;
}

/* ---- smart charging ------------------------------------------------------ */

/* 1.6 lets a TxProfile omit transactionId (the running transaction is
 * meant); 2.0.1 requires it (K01.FR.03): the transaction running on 1.6
 * connector @connector is named, -ENOENT when none runs there. */
static int tx_profile_bind(struct ogw_tr_env *env, long long connector, json_t *prof)
{
	json_t *e = connector > 0
			    ? tr201_evse_rec_on(env, tr201_evse_of16(env, connector), connector)
			    : NULL;
	json_t *txid = json_object_get(e, "tx");
	int r = -ENOENT;

	if (json_is_string(txid))
		r = json_object_set(prof, "transactionId", txid) ? -ENOMEM : 0;
	json_decref(e);
	return r;
}

int tr201_down_set_charging_profile(struct ogw_tr_env *env, const json_t *payload,
				   struct ogw_tr_out *out)
{
	json_t *prof = NULL;
	int r = tr201_profile_from16(env, json_object_get(payload, "csChargingProfiles"), &prof);

	if (!r && tr_same(tr_str(prof, "chargingProfilePurpose"), "TxProfile") &&
	    !json_object_get(prof, "transactionId"))
		r = tx_profile_bind(env, json_integer_value(json_object_get(payload, "connectorId")),
				    prof);
	if (r == -ENOENT || r == -EINVAL) {
		json_decref(prof);
		return ogw_tr_out_answer(out, json_pack("{s:s}", "status", "Rejected"));
	}
	if (r) {
		json_decref(prof);
		return r;
	}
	/* 2.0.1 profiles are an EVSE's (K01): the one of the 1.6 connector. */
	return ogw_tr_forward(out, "SetChargingProfile",
			   json_pack("{s:I, s:o}", "evseId",
				     (json_int_t)tr201_evse_of16(env, json_integer_value(
							 json_object_get(payload, "connectorId"))),
				     "chargingProfile", prof), NULL);
}

int tr201_down_clear_charging_profile(struct ogw_tr_env *env, const json_t *payload,
				     struct ogw_tr_out *out)
{
	const char *purpose = tr_str(payload, "chargingProfilePurpose");
	json_t *p = json_object(), *crit = json_object();
	json_t *c16 = json_object_get(payload, "connectorId");
	int r = -ENOMEM;

	if (!p || !crit || copy_opt(p, payload, "id", "chargingProfileId") ||
	    (c16 && set_int(crit, "evseId", tr201_evse_of16(env, json_integer_value(c16)))) ||
	    copy_opt(crit, payload, "stackLevel", NULL) ||
	    (purpose && json_object_set_new(crit, "chargingProfilePurpose",
					    json_string(ogw_tr_map_str(purpose201, N(purpose201), purpose,
								purpose)))) ||
	    (json_object_size(crit) && json_object_set(p, "chargingProfileCriteria", crit)))
		goto out;
	r = ogw_tr_forward(out, "ClearChargingProfile", json_incref(p), NULL);
out:
	json_decref(p);
	json_decref(crit);
	return r;
}

int tr201_down_get_composite_schedule(struct ogw_tr_env *env, const json_t *payload,
				     struct ogw_tr_out *out)
{
	json_t *c16 = json_object_get(payload, "connectorId");
	json_t *p = json_pack("{s:O, s:I}", "duration", json_object_get(payload, "duration"),
			      "evseId", (json_int_t)tr201_evse_of16(env, json_integer_value(c16)));

	if (p && copy_opt(p, payload, "chargingRateUnit", NULL)) {
		json_decref(p);
		return -ENOMEM;
	}
	/* The answer names the connector asked for, not the first of its EVSE. */
	return ogw_tr_forward(out, "GetCompositeSchedule", p, json_incref(c16));
}

/* 1.6 limits are multiples of 0.1 (S16 §7.12). */
static json_t *limit16(const json_t *limit)
{
	return json_real((double)tr201_round_ll(json_number_value(limit) * 10) / 10);
}

int tr201_res_get_composite_schedule(struct ogw_tr_env *env, const json_t *memo,
				    const json_t *result, json_t **ret)
{
	json_t *s = json_object_get(result, "schedule"), *per, *periods = NULL, *sched = NULL;
	json_t *res = json_pack("{s:O}", "status", json_object_get(result, "status"));
	size_t i;
	int r = -ENOMEM;
	(void)env;

	if (!res)
		goto out;
	if (s) {
		periods = json_array();
		if (!periods)
			goto out;
		json_array_foreach(json_object_get(s, "chargingSchedulePeriod"), i, per) {
			json_t *p16 = json_pack("{s:O, s:o}", "startPeriod",
						json_object_get(per, "startPeriod"), "limit",
						limit16(json_object_get(per, "limit")));
			if (!p16 || copy_opt(p16, per, "numberPhases", NULL) ||
			    json_array_append_new(periods, p16)) {
				json_decref(p16);
				goto out;
			}
		}
		sched = json_pack("{s:O, s:O, s:O, s:O}", "duration", json_object_get(s, "duration"),
				  "startSchedule", json_object_get(s, "scheduleStart"),
				  "chargingRateUnit", json_object_get(s, "chargingRateUnit"),
				  "chargingSchedulePeriod", periods);
		if (!sched || json_object_set(res, "connectorId", (json_t *)memo) ||
		    copy_opt(res, s, "scheduleStart", NULL) ||
		    json_object_set(res, "chargingSchedule", sched))
			goto out;
	}
	*ret = json_incref(res);
	r = 0;
out:
	json_decref(res);
	json_decref(periods);
	json_decref(sched);
	return r;
}
