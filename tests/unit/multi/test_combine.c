/* SPDX-License-Identifier: MIT */
/*
 * Smart charging from several CSMSs: worked cases (two CSMSs in two
 * versions and units, stack levels and purposes inside one CSMS, an EVSE's
 * own profile over EVSE 0's, a daily recurring one), then a property test:
 * over random profiles the combined schedule is at every instant the lowest
 * of the CSMSs' own limits, never above any, and the profile sent to the
 * charger is schema-valid and, read back, never above the schedule.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "ocppgw/ocpp.h"
#include "ocppgw/schema.h"
#include "ocppgw/util.h"
#include "features/balance/profile.h"
#include "features/multi/multi.h"

#define T0 ((time_t)1798761600)  /* 2027-01-01T00:00:00Z */
#define V 230.0

static json_t *periods_json(const int *starts, const double *limits, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:i, s:f}", "startPeriod", starts[i], "limit",
						   limits[i]));
	return a;
}

/* A profile in 1.6 or 2.x form; @start 0: no startSchedule. */
static json_t *profile(bool v16, const char *purpose, int level, const char *kind, time_t start,
		       const char *unit, const int *starts, const double *limits, size_t n)
{
	json_t *sched = json_pack("{s:s, s:o}", "chargingRateUnit", unit, "chargingSchedulePeriod",
				  periods_json(starts, limits, n));
	if (start) {
		char ts[32];
		ogw_time_format_rfc3339((int64_t)start, ts);
		json_object_set_new(sched, "startSchedule", json_string(ts));
	}
	if (!v16)
		json_object_set_new(sched, "id", json_integer(1));
	json_t *p = json_pack("{s:i, s:i, s:s, s:s, s:o}", v16 ? "chargingProfileId" : "id", 1,
			      "stackLevel", level, "chargingProfilePurpose", purpose,
			      "chargingProfileKind", kind, "chargingSchedule",
			      v16 ? sched : json_pack("[o]", sched));
	cr_assert_not_null(p);
	return p;
}

static void expect_periods(const struct ogw_multi_schedule *s, const int *starts,
			   const double *limits, size_t n)
{
	for (size_t i = 0; i < s->n; i++)
		cr_log_info("period %zu: %d s %.3f A", i, s->periods[i].start_s, s->periods[i].limit_a);
	cr_assert_eq(s->n, n);
	for (size_t i = 0; i < n; i++) {
		cr_expect_eq(s->periods[i].start_s, starts[i], "period %zu", i);
		cr_expect_float_eq(s->periods[i].limit_a, limits[i], 1e-6, "period %zu", i);
	}
}

Test(multi_combine, two_csms_two_versions_lowest_wins_per_period)
{
	/* 1.6 billing CSMS on connector 1: 16 A, then 10 A after an hour */
	json_t *a = profile(true, "TxDefaultProfile", 0, "Absolute", T0, "A",
			    (int[]){ 0, 3600 }, (double[]){ 16, 10 }, 2);
	/* 2.0.1 energy manager on the whole station, in W over 3 phases,
	 * from 10 minutes later for 90 minutes: 14 A, then 20 A */
	json_t *b = profile(false, "TxDefaultProfile", 0, "Absolute", T0 + 600, "W",
			    (int[]){ 0, 1800 }, (double[]){ 14 * 3 * V, 20 * 3 * V }, 2);
	json_object_set_new(json_array_get(json_object_get(b, "chargingSchedule"), 0), "duration",
			    json_integer(5400));
	struct ogw_multi_profile p[] = {
		{ .body = a, .v16 = true, .evse = 1, .received = T0, .csms = 0 },
		{ .body = b, .v16 = false, .evse = 0, .received = T0, .csms = 1 },
	};
	struct ogw_multi_schedule s;

	cr_assert_eq(ogw_multi_combine(p, 2, 1, T0, 7200, 0, V, &s), 0);
	expect_periods(&s, (int[]){ 0, 600, 2400, 3600 }, (double[]){ 16, 14, 16, 10 }, 4);
	cr_expect_float_eq(ogw_multi_schedule_at(&s, T0 + 2399), 14, 1e-9);
	cr_expect_lt(ogw_multi_schedule_at(&s, T0 + 7200), 0);

	/* the charger's profile, read back by the same math, says the same */
	json_t *out = ogw_multi_schedule_profile(&s, OGW_OCPP16, false, 900, 9, 32);
	cr_assert_not_null(out);
	cr_expect_str_eq(json_string_value(json_object_get(out, "chargingProfilePurpose")),
			 "TxDefaultProfile");
	for (int t = 0; t < 7200; t += 300)
		cr_expect_float_eq(ogw_balance_profile_limit(out, true, T0 + t, T0, 0, V),
				   ogw_multi_schedule_at(&s, T0 + t), 1e-9, "at %d", t);
	json_decref(out);
	ogw_multi_schedule_clear(&s);
	json_decref(a);
	json_decref(b);
}

Test(multi_combine, one_csms_keeps_its_own_stack_levels_and_purposes)
{
	json_t *low = profile(true, "TxDefaultProfile", 0, "Absolute", T0, "A",
			      (int[]){ 0 }, (double[]){ 10 }, 1);
	json_t *high = profile(true, "TxDefaultProfile", 5, "Absolute", T0, "A",
			       (int[]){ 0 }, (double[]){ 20 }, 1);
	json_t *tx = profile(true, "TxProfile", 0, "Relative", 0, "A",
			     (int[]){ 0 }, (double[]){ 8 }, 1);
	json_t *cap = profile(false, "ChargingStationMaxProfile", 0, "Absolute", T0, "A",
			      (int[]){ 0 }, (double[]){ 25 }, 1);
	struct ogw_multi_profile p[] = {
		{ .body = low, .v16 = true, .evse = 1, .received = T0, .csms = 0 },
		{ .body = high, .v16 = true, .evse = 1, .received = T0, .csms = 0 },
		{ .body = tx, .v16 = true, .evse = 1, .received = T0, .csms = 0 },
		{ .body = cap, .v16 = false, .evse = 0, .received = T0, .csms = 1 },
	};

	/* the higher stack level is CSMS 0's word, though higher than 10 A */
	cr_expect_float_eq(ogw_multi_csms_limit_at(p, 4, 0, 1, T0 + 5, 0, V), 20, 1e-9);
	cr_expect_float_eq(ogw_multi_limit_at(p, 4, 1, T0 + 5, 0, V), 20, 1e-9);
	/* while a transaction runs its TxProfile overrides the default */
	cr_expect_float_eq(ogw_multi_limit_at(p, 4, 1, T0 + 5, T0, V), 8, 1e-9);
	/* another CSMS's Max profile caps it */
	p[1].csms = 2;
	cr_expect_float_eq(ogw_multi_limit_at(p, 4, 1, T0 + 5, 0, V), 10, 1e-9);
	json_decref(low);
	json_decref(high);
	json_decref(tx);
	json_decref(cap);
}

Test(multi_combine, an_evses_own_profile_over_evse_zero)
{
	json_t *all = profile(false, "TxDefaultProfile", 1, "Absolute", T0, "A",
			      (int[]){ 0 }, (double[]){ 10 }, 1);
	json_t *own = profile(false, "TxDefaultProfile", 1, "Absolute", T0, "A",
			      (int[]){ 0 }, (double[]){ 12 }, 1);
	struct ogw_multi_profile p[] = {
		{ .body = all, .evse = 0, .received = T0, .csms = 0 },
		{ .body = own, .evse = 2, .received = T0, .csms = 0 },
	};

	cr_expect_float_eq(ogw_multi_limit_at(p, 2, 2, T0, 0, V), 12, 1e-9);
	cr_expect_float_eq(ogw_multi_limit_at(p, 2, 1, T0, 0, V), 10, 1e-9);
	json_decref(all);
	json_decref(own);
}

Test(multi_combine, a_daily_profile_repeats_in_the_schedule)
{
	/* 6 A from 18:00 to 22:00 every day, 32 A otherwise */
	json_t *d = profile(true, "TxDefaultProfile", 0, "Recurring", T0 - 3 * 86400, "A",
			    (int[]){ 0, 64800, 79200 }, (double[]){ 32, 6, 32 }, 3);
	json_object_set_new(d, "recurrencyKind", json_string("Daily"));
	struct ogw_multi_profile p[] = { { .body = d, .v16 = true, .evse = 1, .received = T0 } };
	struct ogw_multi_schedule s;

	cr_assert_eq(ogw_multi_combine(p, 1, 1, T0 + 3600, 2 * 86400, 0, V, &s), 0);
	expect_periods(&s, (int[]){ 0, 61200, 75600, 147600, 162000 },
		       (double[]){ 32, 6, 32, 6, 32 }, 5);
	ogw_multi_schedule_clear(&s);
	json_decref(d);
}

/* ---- property: never above any CSMS, at any instant ----------------------- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static json_t *random_profile(bool v16)
{
	static const char *const purposes16[] = { "ChargePointMaxProfile", "TxDefaultProfile",
						  "TxProfile" };
	static const char *const purposes2[] = { "ChargingStationMaxProfile", "TxDefaultProfile",
						 "TxProfile" };
	static const char *const kinds[] = { "Absolute", "Relative", "Recurring" };
	int starts[4];
	double limits[4];
	size_t n = 1 + rnd(4);
	bool watts = rnd(2);
	const char *kind = kinds[rnd(3)];

	for (size_t i = 0; i < n; i++) {
		starts[i] = i == 0 ? (int)rnd(2) * 600 : starts[i - 1] + 60 + (int)rnd(3600);
		limits[i] = (watts ? 3 * V : 1) * (double)rnd(400) / 10.0;
	}
	time_t start = strcmp(kind, "Relative") ? T0 - 7200 + (time_t)rnd(14400) : 0;
	json_t *p = profile(v16, (v16 ? purposes16 : purposes2)[rnd(3)], (int)rnd(4), kind, start,
			    watts ? "W" : "A", starts, limits, n);
	json_t *sched = v16 ? json_object_get(p, "chargingSchedule")
			    : json_array_get(json_object_get(p, "chargingSchedule"), 0);
	if (!strcmp(kind, "Recurring"))
		json_object_set_new(p, "recurrencyKind", json_string(rnd(2) ? "Daily" : "Weekly"));
	if (rnd(3) == 0)
		json_object_set_new(sched, "duration", json_integer(600 + rnd(20000)));
	if (rnd(4) == 0) {
		char ts[32];
		ogw_time_format_rfc3339((int64_t)(T0 + rnd(40000)), ts);
		json_object_set_new(p, "validTo", json_string(ts));
	}
	return p;
}

static json_t *set_charging_profile(enum ogw_ocpp v, int evse, json_t *profile)
{
	return v == OGW_OCPP16 ? json_pack("{s:i, s:O}", "connectorId", evse, "csChargingProfiles",
					   profile)
			       : json_pack("{s:i, s:O}", "evseId", evse, "chargingProfile", profile);
}

Test(multi_combine, property_never_above_any_csms)
{
	struct ogw_schema_set *sets[OGW_OCPP_COUNT];
	size_t checked = 0;
	char err[512] = "";

	for (int v = 0; v < OGW_OCPP_COUNT; v++)
		cr_assert_eq(ogw_schema_set_load_builtin((enum ogw_ocpp)v, &sets[v], err,
							 sizeof(err)), 0, "%s", err);
	for (int round = 0; round < 300; round++) {
		struct ogw_multi_profile p[12];
		size_t n = 0, n_csms = 1 + rnd(3);
		int evse = (int)rnd(3);
		int64_t tx = rnd(2) ? (int64_t)(T0 + rnd(3600)) : 0;

		for (size_t c = 0; c < n_csms; c++) {
			bool v16 = rnd(2);
			for (size_t k = 1 + rnd(4); k > 0; k--, n++)
				p[n] = (struct ogw_multi_profile){ .body = random_profile(v16),
					.v16 = v16, .evse = (int)rnd(3), .received = T0 - 60,
					.csms = c };
		}
		struct ogw_multi_schedule s;
		cr_assert_eq(ogw_multi_combine(p, n, evse, T0, 86400, tx, V, &s), 0);
		cr_assert_geq(s.n, 1);
		cr_assert_eq(s.periods[0].start_s, 0);

		enum ogw_ocpp cv = (enum ogw_ocpp)rnd(OGW_OCPP_COUNT);
		json_t *out = ogw_multi_schedule_profile(&s, cv, evse == 0, 900, 9, 32);
		cr_assert_not_null(out);
		json_t *req = set_charging_profile(cv, evse, out);
		struct ogw_schema_fault fault;
		cr_assert_eq(ogw_schema_validate(ogw_schema_get(sets[cv], "SetChargingProfile", false),
						 req, &fault), 0, "%s: %s", ogw_ocpp_name(cv),
			     fault.desc);
		json_decref(req);

		for (int i = 0; i < 400; i++) {
			/* every boundary of the schedule and its second before, then random */
			time_t t = i < 2 * (int)s.n ? T0 + s.periods[i / 2].start_s - (i % 2)
						    : T0 + (time_t)rnd(86400);
			if (t < T0)
				continue;
			double got = ogw_multi_schedule_at(&s, t), want = -1;
			for (size_t c = 0; c < n_csms; c++) {
				double own = ogw_multi_csms_limit_at(p, n, c, evse, t, tx, V);
				if (own < 0)
					continue;
				cr_assert_leq(got, own + 1e-9, "round %d t+%ld: %.3f over CSMS %zu's "
					      "%.3f", round, (long)(t - T0), got, c, own);
				cr_assert_geq(got, 0);
				want = want < 0 || own < want ? own : want;
			}
			if (fabs(got - want) > 1e-9) {
				for (size_t k = 0; k < n; k++) {
					char *d = json_dumps(p[k].body, JSON_COMPACT);
					cr_log_error("csms %zu evse %d: %s", p[k].csms, p[k].evse, d);
					free(d);
				}
				for (size_t k = 0; k < s.n; k++)
					cr_log_error("period %d %.3f", s.periods[k].start_s,
						     s.periods[k].limit_a);
				cr_log_error("evse %d tx %lld", evse, (long long)tx);
			}
			cr_assert_float_eq(got, want, 1e-9, "round %d t+%ld: %.3f, want %.3f", round,
					   (long)(t - T0), got, want);
			/* what the charger is sent: rounded down, never above */
			double sent = ogw_balance_profile_limit(out, cv == OGW_OCPP16, t, T0, 0, V);
			if (want < 0) {
				cr_assert_float_eq(sent, 32, 1e-9);
			} else {
				cr_assert_leq(sent, want + 1e-9);
				cr_assert_geq(sent, want - 0.1 - 1e-9);
			}
			checked++;
		}
		json_decref(out);
		ogw_multi_schedule_clear(&s);
		for (size_t i = 0; i < n; i++)
			json_decref((json_t *)p[i].body);
	}
	cr_log_info("%zu instants checked", checked);
	cr_expect_gt(checked, 100000);
	for (int v = 0; v < OGW_OCPP_COUNT; v++)
		ogw_schema_set_free(sets[v]);
}

/* A recurring cycle restarts at its start: before its first period there
 * is no limit from it, every day (found by the property test). */
Test(multi_combine, a_recurring_gap_before_the_first_period)
{
	json_t *d = profile(true, "TxDefaultProfile", 0, "Recurring", T0 - 86400, "A",
			    (int[]){ 600 }, (double[]){ 10 }, 1);
	json_object_set_new(d, "recurrencyKind", json_string("Daily"));
	struct ogw_multi_profile p[] = { { .body = d, .v16 = true, .evse = 1, .received = T0 } };
	struct ogw_multi_schedule s;

	cr_assert_eq(ogw_multi_combine(p, 1, 1, T0 - 3600, 2 * 3600, 0, V, &s), 0);
	expect_periods(&s, (int[]){ 0, 3600, 4200 }, (double[]){ 10, -1, 10 }, 3);
	ogw_multi_schedule_clear(&s);
	json_decref(d);
}

/* What the charger is sent ends where the limits end, starts where they
 * start, and runs on without a duration once nothing changes any more. */
Test(multi_combine, trimmed_and_open_ended)
{
	json_t *a = profile(false, "TxDefaultProfile", 0, "Absolute", T0 + 600, "A",
			    (int[]){ 0, 300 }, (double[]){ 16, 10 }, 2);
	json_object_set_new(json_array_get(json_object_get(a, "chargingSchedule"), 0), "duration",
			    json_integer(1200));
	json_t *r = profile(true, "TxDefaultProfile", 0, "Recurring", T0, "A",
			    (int[]){ 0 }, (double[]){ 20 }, 1);
	json_object_set_new(r, "recurrencyKind", json_string("Daily"));
	struct ogw_multi_profile p[] = {
		{ .body = a, .evse = 1, .received = T0, .csms = 0 },
		{ .body = r, .v16 = true, .evse = 1, .received = T0, .csms = 1 },
	};
	struct ogw_multi_schedule s;
	time_t at = 0;

	/* the absolute one settles when its duration ends; a daily one never,
	 * unless it has a validTo */
	cr_assert(ogw_multi_settles(p, 1, 1, 0, &at));
	cr_expect_eq(at, T0 + 1800);
	cr_expect_not(ogw_multi_settles(p, 2, 1, 0, &at));
	json_object_set_new(r, "validTo", json_string("2027-01-03T00:00:00Z"));
	cr_assert(ogw_multi_settles(p, 2, 1, 0, &at));
	cr_expect_eq(at, T0 + 2 * 86400);
	/* EVSE 2: neither applies; nothing changes */
	cr_assert(ogw_multi_settles(p, 2, 2, 0, &at));
	cr_expect_eq(at, 0);

	cr_assert_eq(ogw_multi_combine(p, 1, 1, T0, 1801, 0, V, &s), 0);
	expect_periods(&s, (int[]){ 0, 600, 900, 1800 }, (double[]){ -1, 16, 10, -1 }, 4);
	s.open_end = true;
	cr_assert(ogw_multi_schedule_trim(&s));
	cr_expect_eq(s.from, T0 + 600);
	cr_expect_eq(s.duration_s, 1200);
	cr_expect_not(s.open_end, "nothing limits after its end");
	expect_periods(&s, (int[]){ 0, 300 }, (double[]){ 16, 10 }, 2);
	json_t *out = ogw_multi_schedule_profile(&s, OGW_OCPP16, false, 900, 1, 32);
	cr_expect_eq(json_integer_value(json_object_get(json_object_get(out, "chargingSchedule"),
							"duration")), 1200);
	json_decref(out);
	/* open-ended: the last period holds; no duration is sent */
	s.open_end = true;
	cr_expect_float_eq(ogw_multi_schedule_at(&s, T0 + 86400), 10, 1e-9);
	out = ogw_multi_schedule_profile(&s, OGW_OCPP201, true, 900, 1, 32);
	json_t *sched = json_array_get(json_object_get(out, "chargingSchedule"), 0);
	cr_expect_null(json_object_get(sched, "duration"));
	cr_expect_str_eq(json_string_value(json_object_get(out, "chargingProfilePurpose")),
			 "ChargingStationMaxProfile");
	json_decref(out);
	ogw_multi_schedule_clear(&s);

	/* nothing limits at all: nothing to send */
	cr_assert_eq(ogw_multi_combine(p, 1, 2, T0, 600, 0, V, &s), 0);
	cr_expect_not(ogw_multi_schedule_trim(&s));
	ogw_multi_schedule_clear(&s);
	json_decref(a);
	json_decref(r);
}
