/* SPDX-License-Identifier: MIT */
/*
 * Smart charging from several CSMSs, combined: each CSMS's profiles make
 * its own composite limit (OCPP's stack levels and purposes), the lowest
 * over CSMSs wins at every instant, and the result is one schedule the
 * gateway can send the charger as its own profile. Pure: the profile math
 * is the balancer's (features/balance/profile.h).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ocppgw/util.h"
#include "features/balance/profile.h"
#include "features/multi/multi.h"

#define NO_LIMIT (-1.0)
#define SAME(a, b) (fabs((a) - (b)) < 1e-9)

enum purpose { P_NONE = -1, P_CAP, P_DEFAULT, P_TX, P_COUNT };

/* The purposes that limit an EVSE; the others of 2.1 (PriorityCharging,
 * LocalGeneration) raise or inform rather than limit, and are left out. */
static enum purpose purpose_of(const json_t *body)
{
	const char *p = json_string_value(json_object_get(body, "chargingProfilePurpose"));

	if (!p)
		return P_NONE;
	if (!strcmp(p, "ChargePointMaxProfile") || !strcmp(p, "ChargingStationMaxProfile") ||
	    !strcmp(p, "ChargingStationExternalConstraints"))
		return P_CAP;
	if (!strcmp(p, "TxDefaultProfile"))
		return P_DEFAULT;
	if (!strcmp(p, "TxProfile"))
		return P_TX;
	return P_NONE;
}

static bool applies(const struct ogw_multi_profile *p, int evse)
{
	return p->body && (p->evse == evse || p->evse == 0);
}

static double lowest(double a, double b)
{
	if (a < 0)
		return b;
	return b < 0 || a < b ? a : b;
}

double ogw_multi_csms_limit_at(const struct ogw_multi_profile *p, size_t n, size_t csms,
			       int evse, time_t t, int64_t tx_started, double voltage)
{
	struct { long long level; bool own; double limit; } best[P_COUNT];

	for (int k = 0; k < P_COUNT; k++) {
		best[k].level = -1;
		best[k].own = false;
		best[k].limit = NO_LIMIT;
	}
	for (size_t i = 0; i < n; i++) {
		enum purpose pu = purpose_of(p[i].body);
		if (p[i].csms != csms || !applies(&p[i], evse) || pu == P_NONE)
			continue;
		/* a TxProfile ends with its transaction (1.6 §3.13.1) */
		if (pu == P_TX && tx_started <= 0)
			continue;
		double lim = ogw_balance_profile_limit(p[i].body, p[i].v16, t, p[i].received,
						       tx_started, voltage);
		if (lim < 0)
			continue;
		long long level = json_integer_value(json_object_get(p[i].body, "stackLevel"));
		bool own = p[i].evse == evse && evse != 0;
		if (level > best[pu].level || (level == best[pu].level && own && !best[pu].own)) {
			best[pu].level = level;
			best[pu].own = own;
			best[pu].limit = lim;
		}
	}
	/* TxProfile overrides TxDefaultProfile; the Max profile caps both */
	double lim = best[P_TX].limit >= 0 ? best[P_TX].limit : best[P_DEFAULT].limit;
	return lowest(best[P_CAP].limit, lim);
}

double ogw_multi_limit_at(const struct ogw_multi_profile *p, size_t n, int evse, time_t t,
			  int64_t tx_started, double voltage)
{
	double lim = NO_LIMIT;

	for (size_t i = 0; i < n; i++) {
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++)
			seen = p[j].csms == p[i].csms;
		if (!seen)
			lim = lowest(lim, ogw_multi_csms_limit_at(p, n, p[i].csms, evse, t, tx_started,
								  voltage));
	}
	return lim;
}

/* Instants in [from, end) where a limit may change, appended to a growing array. */
struct instants {
	time_t *v;
	size_t n, cap;
	time_t from, end;
};

static int add_instant(struct instants *in, double t)
{
	if (!(t > (double)in->from && t < (double)in->end))
		return 0;
	if (in->n == in->cap) {
		size_t cap = in->cap ? in->cap * 2 : 64;
		time_t *grown = realloc(in->v, cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		in->v = grown;
		in->cap = cap;
	}
	in->v[in->n++] = (time_t)t;
	return 0;
}

static time_t time_of(const json_t *body, const char *key)
{
	int64_t t = 0;
	return ogw_time_parse_rfc3339(json_string_value(json_object_get(body, key)), &t) == 0 ?
	       (time_t)t : 0;
}

/* Where profile @p's limit may change between in->from and in->end: each
 * period's start, the schedule's start and end, validFrom and validTo,
 * repeated per day or week for a Recurring profile. */
static int profile_instants(struct instants *in, const struct ogw_multi_profile *p,
			    int64_t tx_started)
{
	const json_t *sched = ogw_balance_profile_schedule(p->body, p->v16);
	const json_t *periods = json_object_get(sched, "chargingSchedulePeriod");
	const json_t *dur = json_object_get(sched, "duration");
	const char *kind = json_string_value(json_object_get(p->body, "chargingProfileKind"));
	const char *rk = json_string_value(json_object_get(p->body, "recurrencyKind"));
	double start = (double)ogw_balance_profile_start(p->body, p->v16, p->received, tx_started);
	double span = 0;
	long long m0 = 0, m1 = 0;
	const json_t *per;
	size_t k;
	int rc = 0;

	if (kind && !strcmp(kind, "Recurring")) {
		span = rk && !strcmp(rk, "Weekly") ? 7 * 86400.0 : 86400.0;
		m0 = (long long)floor(((double)in->from - start) / span) - 1;
		m1 = (long long)floor(((double)in->end - start) / span) + 1;
	}
	rc |= add_instant(in, (double)time_of(p->body, "validFrom"));
	rc |= add_instant(in, (double)time_of(p->body, "validTo"));
	for (long long m = m0; m <= m1 && rc == 0; m++) {
		double base = start + (double)m * span;
		/* a recurring cycle restarts here, before its first period */
		rc |= add_instant(in, base);
		json_array_foreach(periods, k, per)
			rc |= add_instant(in, base + (double)json_integer_value(
						      json_object_get(per, "startPeriod")));
		if (json_is_integer(dur))
			rc |= add_instant(in, base + (double)json_integer_value(dur));
	}
	return rc ? -ENOMEM : 0;
}

static int cmp_time(const void *a, const void *b)
{
	time_t x = *(const time_t *)a, y = *(const time_t *)b;
	return x < y ? -1 : x > y;
}

int ogw_multi_combine(const struct ogw_multi_profile *p, size_t n, int evse, time_t from,
		      int duration_s, int64_t tx_started, double voltage,
		      struct ogw_multi_schedule *ret)
{
	struct instants in = { .from = from, .end = from + duration_s };
	struct ogw_multi_period *out = NULL;
	size_t n_out = 0;
	int rc;

	if (duration_s < 1)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (!applies(&p[i], evse))
			continue;
		rc = profile_instants(&in, &p[i], tx_started);
		if (rc < 0)
			goto out;
	}
	if (in.n)
		qsort(in.v, in.n, sizeof(*in.v), cmp_time);
	out = calloc(in.n + 1, sizeof(*out));
	if (!out) {
		rc = -ENOMEM;
		goto out;
	}
	/* the limits are steps that only move at these instants */
	for (size_t i = 0; i <= in.n; i++) {
		time_t t = i == 0 ? from : in.v[i - 1];
		if (i > 0 && n_out && out[n_out - 1].start_s == (int)(t - from))
			continue;
		double lim = ogw_multi_limit_at(p, n, evse, t, tx_started, voltage);
		if (n_out && SAME(out[n_out - 1].limit_a, lim))
			continue;
		out[n_out].start_s = (int)(t - from);
		out[n_out].limit_a = lim;
		n_out++;
	}
	ret->from = from;
	ret->duration_s = duration_s;
	ret->open_end = false;
	ret->periods = out;
	ret->n = n_out;
	out = NULL;
	rc = 0;
out:
	free(in.v);
	free(out);
	return rc;
}

void ogw_multi_schedule_clear(struct ogw_multi_schedule *s)
{
	if (!s)
		return;
	free(s->periods);
	memset(s, 0, sizeof(*s));
}

double ogw_multi_schedule_at(const struct ogw_multi_schedule *s, time_t t)
{
	double lim = NO_LIMIT;

	if (t < s->from || (!s->open_end && t >= s->from + s->duration_s))
		return NO_LIMIT;
	for (size_t i = 0; i < s->n && s->periods[i].start_s <= t - s->from; i++)
		lim = s->periods[i].limit_a;
	return lim;
}

static time_t later(time_t a, time_t b)
{
	return a > b ? a : b;
}

bool ogw_multi_settles(const struct ogw_multi_profile *p, size_t n, int evse,
		       int64_t tx_started, time_t *ret_at)
{
	time_t last = 0;

	for (size_t i = 0; i < n; i++) {
		if (!applies(&p[i], evse))
			continue;
		const json_t *body = p[i].body;
		const json_t *sched = ogw_balance_profile_schedule(body, p[i].v16);
		const json_t *dur = json_object_get(sched, "duration");
		const char *kind = json_string_value(json_object_get(body, "chargingProfileKind"));
		time_t start = ogw_balance_profile_start(body, p[i].v16, p[i].received, tx_started);
		time_t to = time_of(body, "validTo"), at = start;
		const json_t *per;
		size_t k;

		if (kind && !strcmp(kind, "Recurring")) {
			/* it repeats until its validTo, if it has one */
			if (!to)
				return false;
			at = to;
		}
		json_array_foreach(json_object_get(sched, "chargingSchedulePeriod"), k, per)
			at = later(at, start + (time_t)json_integer_value(
						     json_object_get(per, "startPeriod")));
		if (json_is_integer(dur))
			at = later(at, start + (time_t)json_integer_value(dur));
		at = later(at, later(to, time_of(body, "validFrom")));
		last = later(last, at);
	}
	*ret_at = last;
	return true;
}

bool ogw_multi_schedule_trim(struct ogw_multi_schedule *s)
{
	size_t lead = 0;

	while (lead < s->n && s->periods[lead].limit_a < 0)
		lead++;
	if (lead == s->n)
		return false;
	if (lead) {
		int shift = s->periods[lead].start_s;
		memmove(s->periods, s->periods + lead, (s->n - lead) * sizeof(*s->periods));
		s->n -= lead;
		for (size_t i = 0; i < s->n; i++)
			s->periods[i].start_s -= shift;
		s->from += shift;
		s->duration_s -= shift;
	}
	if (s->periods[s->n - 1].limit_a < 0) {
		/* nothing limits from there on: the profile ends */
		s->duration_s = s->periods[--s->n].start_s;
		s->open_end = false;
	}
	return true;
}

json_t *ogw_multi_schedule_profile(const struct ogw_multi_schedule *s, enum ogw_ocpp v,
				   bool cap, int id, int stack_level, double max_a)
{
	bool v16 = v == OGW_OCPP16;
	json_t *periods = json_array(), *sched, *profile;
	char start[32];

	for (size_t i = 0; periods && i < s->n; i++) {
		double lim = s->periods[i].limit_a < 0 ? max_a : s->periods[i].limit_a;
		/* 1.6 §7.13: a multiple of 0.1; rounding down never exceeds a CSMS */
		lim = floor(lim * 10 + 1e-9) / 10;
		if (json_array_append_new(periods, json_pack("{s:i, s:f}", "startPeriod",
							     s->periods[i].start_s, "limit", lim)))
			goto fail;
	}
	ogw_time_format_rfc3339((int64_t)s->from, start);
	sched = json_pack("{s:s, s:s, s:o}", "startSchedule", start, "chargingRateUnit", "A",
			  "chargingSchedulePeriod", periods);
	periods = NULL;
	if (!sched)
		goto fail;
	/* open-ended: the last period holds as long as the profile stays */
	if (!s->open_end && json_object_set_new(sched, "duration", json_integer(s->duration_s)) < 0) {
		json_decref(sched);
		goto fail;
	}
	if (!v16 && json_object_set_new(sched, "id", json_integer(id)) < 0) {
		json_decref(sched);
		goto fail;
	}
	profile = json_pack("{s:i, s:i, s:s, s:s, s:o}", v16 ? "chargingProfileId" : "id", id,
			    "stackLevel", stack_level, "chargingProfilePurpose",
			    cap ? (v16 ? "ChargePointMaxProfile" : "ChargingStationMaxProfile")
				: "TxDefaultProfile",
			    "chargingProfileKind", "Absolute", "chargingSchedule",
			    v16 ? sched : json_pack("[o]", sched));
	return profile;
fail:
	json_decref(periods);
	return NULL;
}
