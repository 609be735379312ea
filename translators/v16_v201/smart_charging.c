/* SPDX-License-Identifier: MIT */
/*
 * 1.6 charger, 2.0.1 CSMS: smart charging. Charging profiles in 1.6 form,
 * the cache of profiles that answers GetChargingProfiles (1.6 cannot) and
 * GetCompositeSchedule. The gateway's own limits (the balancer) never pass
 * through here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ocppgw/translator.h"
#include "internal.h"

#define PROFILE_CACHE_MAX 64 /* charging profiles remembered for GetChargingProfiles */

/* ---- charging profiles --------------------------------------------------- */

static const struct ogw_tr_map purpose_to16[] = {
	{ "ChargingStationMaxProfile", "ChargePointMaxProfile" },
	{ "TxDefaultProfile", "TxDefaultProfile" },
	{ "TxProfile", "TxProfile" },
};

/* 1.6 limits have one decimal (S16 §7.12). */
static json_t *limit16(const json_t *limit)
{
	double d = json_number_value(limit) * 10.0;
	long long tenths = (long long)(d >= 0 ? d + 0.5 : d - 0.5);
	return tenths % 10 ? json_real((double)tenths / 10.0) : json_integer(tenths / 10);
}

/*
 * A 2.0.1 ChargingProfileType as a 1.6 ChargingProfile in *ret: the first
 * schedule only (1.6 has one; salesTariff and phaseToUse have no 1.6
 * field), transactionId through the id map. -EINVAL when it cannot be
 * expressed (ChargingStationExternalConstraints, an unknown transaction).
 */
int tr16_profile16(struct ogw_tr_env *env, const json_t *cp, json_t **ret)
{
	const char *purpose = MAP(purpose_to16, tr_str(cp, "chargingProfilePurpose"), NULL);
	const json_t *sched = json_array_get(json_object_get(cp, "chargingSchedule"), 0);
	json_t *prof = NULL, *s16 = NULL, *periods = NULL, *per;
	size_t i;
	int r = -EINVAL;

	if (!purpose || !sched)
		return -EINVAL;
	prof =
	    json_pack("{s:O, s:O, s:s, s:O}", "chargingProfileId", json_object_get(cp, "id"),
		      "stackLevel", json_object_get(cp, "stackLevel"), "chargingProfilePurpose",
		      purpose, "chargingProfileKind", json_object_get(cp, "chargingProfileKind"));
	s16 = json_pack("{s:O}", "chargingRateUnit", json_object_get(sched, "chargingRateUnit"));
	periods = json_array();
	if (!prof || !s16 || !periods)
		goto nomem;
	if (tr_has(cp, "transactionId")) {
		json_t *tx = ogw_tr_state_get(env, S_KEY("tx", tr_str(cp, "transactionId")));
		json_t *id16 = json_object_get(tx, "id16");
		int e = id16 ? json_object_set(prof, "transactionId", id16) : 0;
		json_decref(tx);
		if (e)
			goto nomem;
		if (!id16)
			goto out;
	}
	json_array_foreach(json_object_get(sched, "chargingSchedulePeriod"), i, per) {
		json_t *p16 =
		    json_pack("{s:O, s:o}", "startPeriod", json_object_get(per, "startPeriod"),
			      "limit", limit16(json_object_get(per, "limit")));
		if (!p16 || ogw_tr_copy(p16, NULL, per, "numberPhases") ||
		    json_array_append_new(periods, p16))
			goto nomem;
	}
	if (ogw_tr_copy(s16, NULL, sched, "duration") ||
	    ogw_tr_copy(s16, NULL, sched, "startSchedule") ||
	    (tr_has(sched, "minChargingRate") &&
	     json_object_set_new(s16, "minChargingRate",
				 limit16(json_object_get(sched, "minChargingRate")))) ||
	    json_object_set(s16, "chargingSchedulePeriod", periods) ||
	    ogw_tr_copy(prof, NULL, cp, "recurrencyKind") ||
	    ogw_tr_copy(prof, NULL, cp, "validFrom") || ogw_tr_copy(prof, NULL, cp, "validTo") ||
	    json_object_set(prof, "chargingSchedule", s16))
		goto nomem;
	*ret = json_incref(prof);
	r = 0;
	goto out;
nomem:
	r = -ENOMEM;
out:
	json_decref(periods);
	json_decref(s16);
	json_decref(prof);
	return r;
}

/* The profile cache ("profiles" -> {"list": [{"evseId", "chargingProfile",
 * "source", "tx"?}]}) that answers GetChargingProfiles, which 1.6 cannot:
 * source is the chargingLimitSource the profile came with (CSO for the
 * CSMS's own), tx the transaction a TxProfile belongs to, so it goes when
 * that transaction ends (K01.FR.05: a TxProfile lives as long as its
 * transaction). */
static json_t *profile_cache(struct ogw_tr_env *env)
{
	json_t *c = ogw_tr_state_get(env, "profiles");
	if (!c || !json_is_array(json_object_get(c, "list"))) {
		json_decref(c);
		c = json_pack("{s:[]}", "list");
	}
	return c;
}

/* The cache entry of accepted SetChargingProfile @set (new reference): a
 * TxProfile without transactionId is for the transaction running on its
 * EVSE (K01.FR.03). Every profile the cache sees came from the CSMS: the
 * gateway's own limits (the balancer) never pass through it. */
static json_t *cache_entry(struct ogw_tr_env *env, const json_t *set)
{
	const json_t *cp = json_object_get(set, "chargingProfile");
	json_t *e = json_pack("{s:O, s:O, s:s}", "evseId", json_object_get(set, "evseId"),
			      "chargingProfile", cp, "source", "CSO");
	char uuid[37];

	if (!e || strcmp(tr_str(cp, "chargingProfilePurpose"), "TxProfile"))
		return e;
	if (tr_has(cp, "transactionId")) {
		if (ogw_tr_copy(e, "tx", cp, "transactionId"))
			e = (json_decref(e), NULL);
	} else if (!tr16_conn_tx(env, tr_int(set, "evseId"), uuid) &&
		   json_object_set_new(e, "tx", json_string(uuid))) {
		e = (json_decref(e), NULL);
	}
	return e;
}

/* Whether profile @cp has the stackLevel and purpose criteria @crit names
 * (those it names: an absent criterion matches every profile). */
static bool level_purpose_match(const json_t *crit, const json_t *cp)
{
	if (tr_has(crit, "stackLevel") && tr_int(crit, "stackLevel") != tr_int(cp, "stackLevel"))
		return false;
	return !tr_has(crit, "chargingProfilePurpose") ||
	       !strcmp(tr_str(crit, "chargingProfilePurpose"), tr_str(cp, "chargingProfilePurpose"));
}

/* Whether cached @entry matches ClearChargingProfile @req. */
static bool clear_matches(const json_t *req, const json_t *entry)
{
	const json_t *cp = json_object_get(entry, "chargingProfile");
	const json_t *crit = json_object_get(req, "chargingProfileCriteria");

	if (tr_has(req, "chargingProfileId") &&
	    tr_int(req, "chargingProfileId") != tr_int(cp, "id"))
		return false;
	if (tr_has(crit, "evseId") && tr_int(crit, "evseId") != tr_int(entry, "evseId"))
		return false;
	return level_purpose_match(crit, cp);
}

/* Removes cached profiles matching ClearChargingProfile @req, or, for
 * SetChargingProfile @set, those it replaces (same id, or same stackLevel
 * and purpose on the same EVSE: S16 §3.13.2), then adds @set. */
static int cache_update(struct ogw_tr_env *env, const json_t *req, const json_t *set)
{
	json_t *cache = profile_cache(env), *list, *e;
	const json_t *cp = json_object_get(set, "chargingProfile");
	size_t i = 0;

	if (!cache)
		return -ENOMEM;
	list = json_object_get(cache, "list");
	while ((e = json_array_get(list, i))) {
		const json_t *old = json_object_get(e, "chargingProfile");
		bool drop = req ? clear_matches(req, e)
				: tr_int(old, "id") == tr_int(cp, "id") ||
				      (tr_int(e, "evseId") == tr_int(set, "evseId") &&
				       tr_int(old, "stackLevel") == tr_int(cp, "stackLevel") &&
				       !strcmp(tr_str(old, "chargingProfilePurpose"),
					       tr_str(cp, "chargingProfilePurpose")));
		if (drop)
			json_array_remove(list, i);
		else
			i++;
	}
	if (set && json_array_size(list) < PROFILE_CACHE_MAX &&
	    json_array_append_new(list, cache_entry(env, set))) {
		json_decref(cache);
		return -ENOMEM;
	}
	return ogw_tr_state_put(env, "profiles", cache);
}

/* The transaction's TxProfiles leave the GetChargingProfiles cache ("profiles",
 * see profile_cache()) with it. */
void tr16_cache_tx_ended(struct ogw_tr_env *env, const char *uuid)
{
	json_t *cache = ogw_tr_state_get(env, "profiles"), *list = json_object_get(cache, "list"),
	       *e;
	size_t i = 0, n = json_array_size(list);

	while ((e = json_array_get(list, i))) {
		if (tr_same(tr_str(e, "tx"), uuid))
			json_array_remove(list, i);
		else
			i++;
	}
	if (cache && json_array_size(list) != n)
		ogw_tr_state_put(env, "profiles", json_incref(cache));
	json_decref(cache);
}

int tr16_down_set_profile(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	json_t *prof = NULL;
	int r = tr16_profile16(env, json_object_get(p, "chargingProfile"), &prof);

	if (r == -EINVAL)
		return ogw_tr_out_status(out, "Rejected");
	if (r < 0)
		return r;
	return ogw_tr_forward(out, "SetChargingProfile",
			      json_pack("{s:O, s:o}", "connectorId", json_object_get(p, "evseId"),
					"csChargingProfiles", prof),
			      json_deep_copy(p));
}

static const struct ogw_tr_map profile_status[] = {
	{ "Accepted", "Accepted" },
	{ "NotSupported", "Rejected" },
	{ "Rejected", "Rejected" },
};

int tr16_down_set_profile_result(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
				 json_t **ret)
{
	int r;
	if (!strcmp(tr_str(result, "status"), "Accepted") &&
	    (r = cache_update(env, NULL, memo)) < 0)
		return r;
	return ogw_tr_status_result(result, profile_status, N_OF(profile_status), ret);
}

int tr16_down_clear_profile(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	const json_t *crit = json_object_get(p, "chargingProfileCriteria");
	const char *purpose = tr_str(crit, "chargingProfilePurpose");
	json_t *c = json_object();

	(void)env;
	if (purpose && !MAP(purpose_to16, purpose, NULL)) {
		json_decref(c);
		return ogw_tr_out_status(out, "Unknown");
	}
	if (!c || ogw_tr_copy(c, "id", p, "chargingProfileId") ||
	    ogw_tr_copy(c, "connectorId", crit, "evseId") ||
	    ogw_tr_copy(c, NULL, crit, "stackLevel") ||
	    (purpose && json_object_set_new(c, "chargingProfilePurpose",
					    json_string(MAP(purpose_to16, purpose, NULL))))) {
		json_decref(c);
		return -ENOMEM;
	}
	return ogw_tr_forward(out, "ClearChargingProfile", c, json_deep_copy(p));
}

int tr16_down_clear_profile_result(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
				   json_t **ret)
{
	int r;
	if (!strcmp(tr_str(result, "status"), "Accepted") &&
	    (r = cache_update(env, memo, NULL)) < 0)
		return r;
	return ogw_tr_status_result(result, NULL, 0, ret);
}

static bool criteria_match(const json_t *req, const json_t *entry)
{
	const json_t *crit = json_object_get(req, "chargingProfile");
	const json_t *cp = json_object_get(entry, "chargingProfile");
	const json_t *ids = json_object_get(crit, "chargingProfileId");
	const json_t *sources = json_object_get(crit, "chargingLimitSource");
	json_t *v;
	size_t i;
	bool found;

	if ((tr_has(req, "evseId") && tr_int(req, "evseId") != tr_int(entry, "evseId")) ||
	    !level_purpose_match(crit, cp))
		return false;
	found = !ids;
	json_array_foreach(ids, i, v)
		found |= json_integer_value(v) == tr_int(cp, "id");
	if (!found)
		return false;
	found = !sources;
	json_array_foreach(sources, i, v)
		found |= tr_same(json_string_value(v),
				 tr_str(entry, "source") ? tr_str(entry, "source") : "CSO");
	return found;
}

/* Answered from the cache of profiles set through the gateway; the report
 * follows the answer, one ReportChargingProfiles per EVSE. */
int tr16_down_get_profiles(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	json_t *cache = profile_cache(env), *byevse = json_object(), *e, *list;
	struct ogw_tr_pending *pend;
	const char *evse;
	size_t i, left;
	int r = -ENOMEM;

	if (!cache || !byevse)
		goto out;
	json_array_foreach(json_object_get(cache, "list"), i, e) {
		char key[48];
		if (!criteria_match(p, e))
			continue;
		/* one report per EVSE and source: a report names one source */
		snprintf(key, sizeof(key), "%lld %s", (long long)tr_int(e, "evseId"),
			 tr_str(e, "source") ? tr_str(e, "source") : "CSO");
		list = json_object_get(byevse, key);
		if (!list && json_object_set_new(byevse, key, list = json_array()))
			goto out;
		if (json_array_append(list, json_object_get(e, "chargingProfile")))
			goto out;
	}
	if (!json_object_size(byevse)) {
		r = ogw_tr_out_status(out, "NoProfiles");
		goto out;
	}
	if (!(pend = ogw_tr_defer(env)))
		goto out;
	out->outcome = OGW_TR_DEFER;
	ogw_tr_answer_later(env, pend, json_pack("{s:s}", "status", "Accepted"));
	left = json_object_size(byevse);
	json_object_foreach(byevse, evse, list)
		ogw_tr_emit_notify(env, "ReportChargingProfiles",
				   json_pack("{s:O, s:s, s:O, s:b, s:i}", "requestId",
					     json_object_get(p, "requestId"), "chargingLimitSource",
					     strchr(evse, ' ') + 1, "chargingProfile", list, "tbc",
					     --left > 0, "evseId", atoi(evse)));
	r = 0;
out:
	json_decref(byevse);
	json_decref(cache);
	return r;
}

int tr16_down_composite(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	json_t *c = json_pack("{s:O, s:O}", "connectorId", json_object_get(p, "evseId"), "duration",
			      json_object_get(p, "duration"));
	(void)env;
	if (c && ogw_tr_copy(c, NULL, p, "chargingRateUnit"))
		c = (json_decref(c), NULL);
	return ogw_tr_forward(out, "GetCompositeSchedule", c, json_deep_copy(p));
}

/* The 2.0.1 schedule{} wraps the 1.6 fields; without scheduleStart or a
 * schedule the answer cannot carry one. */
int tr16_down_composite_result(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
			       json_t **ret)
{
	const json_t *s = json_object_get(result, "chargingSchedule");
	json_t *periods = json_array(), *per;
	size_t i;
	int r = -ENOMEM;

	(void)env;
	*ret = NULL;
	if (!periods || ogw_tr_status_result(result, NULL, 0, ret))
		goto out;
	if (!s || !tr_has(result, "scheduleStart") ||
	    !json_array_size(json_object_get(s, "chargingSchedulePeriod"))) {
		r = 0;
		goto out;
	}
	json_array_foreach(json_object_get(s, "chargingSchedulePeriod"), i, per)
		if (json_array_append_new(periods, json_deep_copy(per)))
			goto out;
	if (json_object_set_new(
		*ret, "schedule",
		json_pack("{s:O, s:I, s:I, s:O, s:O}", "chargingSchedulePeriod", periods, "evseId",
			  tr_has(result, "connectorId") ? tr_int(result, "connectorId")
							: tr_int(memo, "evseId"),
			  "duration",
			  tr_has(s, "duration") ? tr_int(s, "duration") : tr_int(memo, "duration"),
			  "scheduleStart", json_object_get(result, "scheduleStart"),
			  "chargingRateUnit", json_object_get(s, "chargingRateUnit"))))
		goto out;
	r = 0;
out:
	if (r < 0)
		*ret = (json_decref(*ret), NULL);
	json_decref(periods);
	return r;
}
