/* SPDX-License-Identifier: MIT */
/*
 * The limit an OCPP charging profile sets at an instant, in A per phase:
 * its start (absolute, relative to the transaction, recurring), its
 * validity, its periods and their unit. Pure; see profile.h.
 */
#include <math.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ocppgw/util.h"
#include "features/balance/profile.h"

#define NO_LIMIT (-1.0)

/* RFC 3339, its offset applied; 0 when absent or unreadable. */
static time_t parse_time(const char *s)
{
	int64_t t = 0;
	return ogw_time_parse_rfc3339(s, &t) == 0 ? (time_t)t : 0;
}

const json_t *ogw_balance_profile_schedule(const json_t *body, bool v16)
{
	const json_t *sched = json_object_get(body, "chargingSchedule");

	return v16 ? sched : json_array_get(sched, 0);
}

time_t ogw_balance_profile_start(const json_t *body, bool v16, time_t received,
				 int64_t tx_started)
{
	const json_t *sched = ogw_balance_profile_schedule(body, v16);
	const char *kind = json_string_value(json_object_get(body, "chargingProfileKind"));
	time_t start = parse_time(json_string_value(json_object_get(sched, "startSchedule")));

	if (kind && !strcmp(kind, "Relative"))
		start = tx_started > 0 ? (time_t)tx_started : received;
	return start ? start : received;
}

double ogw_balance_profile_limit(const json_t *body, bool v16, time_t now, time_t received,
				 int64_t tx_started, double voltage)
{
	const json_t *sched, *periods, *per, *found = NULL;
	const char *kind;
	double elapsed, lim;
	size_t i;

	if (!body)
		return NO_LIMIT;
	sched = ogw_balance_profile_schedule(body, v16);
	kind = json_string_value(json_object_get(body, "chargingProfileKind"));
	elapsed = difftime(now, ogw_balance_profile_start(body, v16, received, tx_started));
	if (kind && !strcmp(kind, "Recurring")) {
		const char *rk = json_string_value(json_object_get(body, "recurrencyKind"));
		double span = rk && !strcmp(rk, "Weekly") ? 7 * 86400.0 : 86400.0;
		elapsed = fmod(elapsed, span);
		if (elapsed < 0)
			elapsed += span;
	}
	time_t vf = parse_time(json_string_value(json_object_get(body, "validFrom")));
	time_t vt = parse_time(json_string_value(json_object_get(body, "validTo")));
	const json_t *dur = json_object_get(sched, "duration");
	if ((vf && now < vf) || (vt && now >= vt) ||
	    (json_is_integer(dur) && elapsed >= (double)json_integer_value(dur)))
		return NO_LIMIT;
	periods = json_object_get(sched, "chargingSchedulePeriod");
	json_array_foreach(periods, i, per)
		if ((double)json_integer_value(json_object_get(per, "startPeriod")) <= elapsed)
			found = per;
	if (!found || !json_is_number(json_object_get(found, "limit")))
		return NO_LIMIT;
	lim = json_number_value(json_object_get(found, "limit"));
	const char *unit = json_string_value(json_object_get(sched, "chargingRateUnit"));
	if (unit && !strcmp(unit, "W")) {
		const json_t *np = json_object_get(found, "numberPhases");
		lim /= voltage * (json_is_integer(np) ? (double)json_integer_value(np) : 3.0);
	}
	return lim < 0 ? 0 : lim;
}
