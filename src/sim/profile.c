/* SPDX-License-Identifier: MIT */
/*
 * Charging profiles as a charger keeps and obeys them: parsing a 1.6 or 2.x
 * profile, installing and clearing by the stacking rules, and evaluating the
 * limit in force (OCPP 1.6 §3.13: the minimum of the Max profile and Tx, or
 * TxDefault when there is no Tx; highest stack level wins). Limits are held
 * in A per phase; W is converted at 230 V per phase. No I/O here.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim.h"

/* Field names that differ between 1.6 and 2.x; 2.0.1 and 2.1 agree. */
static const struct {
	const char *id, *schedule;
	bool schedule_is_array, tx_is_string;
} fields[2] = {
	{ "chargingProfileId", "chargingSchedule", false, false },
	{ "id",                "chargingSchedule", true,  true },
};

static const struct {
	const char *name;
	enum sim_purpose purpose;
} purposes[] = {
	{ "ChargePointMaxProfile",              SIM_PURPOSE_MAX },
	{ "ChargingStationMaxProfile",          SIM_PURPOSE_MAX },
	{ "TxDefaultProfile",                   SIM_PURPOSE_TX_DEFAULT },
	{ "TxProfile",                          SIM_PURPOSE_TX },
	{ "ChargingStationExternalConstraints", SIM_PURPOSE_EXTERNAL },
};

enum sim_purpose sim_profile_purpose(const char *s)
{
	for (size_t i = 0; s && i < sizeof(purposes) / sizeof(purposes[0]); i++)
		if (!strcmp(purposes[i].name, s))
			return purposes[i].purpose;
	return SIM_PURPOSE_OTHER;
}

/* RFC 3339 to unix seconds; 0 when absent or unreadable. */
static int64_t parse_time(const json_t *j)
{
	const char *s = json_string_value(j), *p;
	struct tm tm = { 0 };
	int64_t t;

	if (!s)
		return 0;
	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!p)
		return 0;
	t = timegm(&tm);
	if (*p == '.')
		while (*++p >= '0' && *p <= '9')
			;
	if ((*p == '+' || *p == '-') && strlen(p) >= 6) {
		int off = atoi(p + 1) * 3600 + atoi(p + 4) * 60;

		t += *p == '+' ? -off : off;
	}
	return t;
}

void sim_profile_release(struct sim_profile *p)
{
	free(p->periods);
	json_decref(p->raw);
	memset(p, 0, sizeof(*p));
}

int sim_profile_parse(enum ogw_ocpp v, const json_t *j, int evse, unsigned int phases,
		      struct sim_profile *ret)
{
	unsigned int fv = v == OGW_OCPP16 ? 0 : 1;
	const json_t *sched = json_object_get(j, fields[fv].schedule), *periods, *tx;
	struct sim_profile p = { 0 };
	bool unit_w;
	size_t i;
	int r = -EINVAL;

	if (fields[fv].schedule_is_array)
		sched = json_array_get(sched, 0);
	periods = json_object_get(sched, "chargingSchedulePeriod");
	if (!json_is_object(sched) || !json_array_size(periods))
		goto out;
	p.id = (int)json_integer_value(json_object_get(j, fields[fv].id));
	p.evse = evse;
	p.stack_level = (int)json_integer_value(json_object_get(j, "stackLevel"));
	p.purpose = sim_profile_purpose(json_string_value(json_object_get(j, "chargingProfilePurpose")));
	const char *kind = json_string_value(json_object_get(j, "chargingProfileKind"));
	p.relative = kind && !strcmp(kind, "Relative");
	p.recurring = kind && !strcmp(kind, "Recurring");
	const char *rec = json_string_value(json_object_get(j, "recurrencyKind"));
	p.recurring_weekly = rec && !strcmp(rec, "Weekly");
	p.valid_from = parse_time(json_object_get(j, "validFrom"));
	p.valid_to = parse_time(json_object_get(j, "validTo"));
	p.start = parse_time(json_object_get(sched, "startSchedule"));
	p.duration = (int32_t)json_integer_value(json_object_get(sched, "duration"));
	tx = json_object_get(j, "transactionId");
	if (json_is_string(tx))
		snprintf(p.tx_id, sizeof(p.tx_id), "%s", json_string_value(tx));
	else if (json_is_integer(tx))
		snprintf(p.tx_id, sizeof(p.tx_id), "%lld", (long long)json_integer_value(tx));
	const char *unit = json_string_value(json_object_get(sched, "chargingRateUnit"));
	unit_w = unit && !strcmp(unit, "W");

	p.periods = calloc(json_array_size(periods), sizeof(*p.periods));
	if (!p.periods) {
		r = -ENOMEM;
		goto out;
	}
	for (i = 0; i < json_array_size(periods); i++) {
		const json_t *pe = json_array_get(periods, i), *lim = json_object_get(pe, "limit");
		json_int_t nph = json_integer_value(json_object_get(pe, "numberPhases"));
		double l = json_is_number(lim) ? json_number_value(lim) : INFINITY;

		if (unit_w)
			l /= SIM_VOLTS * (double)(nph > 0 ? (unsigned int)nph : phases);
		p.periods[i].start = (int32_t)json_integer_value(json_object_get(pe, "startPeriod"));
		p.periods[i].amps = (float)l;
	}
	p.nperiods = (unsigned int)i;
	p.raw = json_deep_copy(j);
	if (!p.raw) {
		r = -ENOMEM;
		goto out;
	}
	*ret = p;
	memset(&p, 0, sizeof(p));
	r = 0;
out:
	sim_profile_release(&p);
	return r;
}

int sim_profiles_add(struct sim_profiles *ps, struct sim_profile *p)
{
	struct sim_profile *np;

	for (unsigned int i = 0; i < ps->n; i++) {
		struct sim_profile *o = &ps->p[i];

		if (o->id == p->id || (o->evse == p->evse && o->purpose == p->purpose &&
				       o->stack_level == p->stack_level)) {
			sim_profile_release(o);
			*o = *p;
			memset(p, 0, sizeof(*p));
			return 0;
		}
	}
	np = realloc(ps->p, (ps->n + 1) * sizeof(*np));
	if (!np)
		return -ENOMEM;
	ps->p = np;
	ps->p[ps->n++] = *p;
	memset(p, 0, sizeof(*p));
	return 0;
}

static void remove_at(struct sim_profiles *ps, unsigned int i)
{
	sim_profile_release(&ps->p[i]);
	ps->p[i] = ps->p[--ps->n];
}

unsigned int sim_profiles_clear(struct sim_profiles *ps, int id, int evse, int purpose,
				int stack_level)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < ps->n;) {
		const struct sim_profile *p = &ps->p[i];

		if ((id < 0 || p->id == id) && (evse < 0 || p->evse == evse) &&
		    (purpose < 0 || (int)p->purpose == purpose) &&
		    (stack_level < 0 || p->stack_level == stack_level)) {
			remove_at(ps, i);
			n++;
		} else {
			i++;
		}
	}
	return n;
}

void sim_profiles_end_tx(struct sim_profiles *ps, const char *tx_id)
{
	for (unsigned int i = 0; i < ps->n;) {
		const struct sim_profile *p = &ps->p[i];

		if (p->purpose == SIM_PURPOSE_TX && (!p->tx_id[0] || !strcmp(p->tx_id, tx_id)))
			remove_at(ps, i);
		else
			i++;
	}
}

void sim_profiles_free(struct sim_profiles *ps)
{
	while (ps->n)
		remove_at(ps, ps->n - 1);
	free(ps->p);
	ps->p = NULL;
}

/* Where in its schedule @p is at @now: the offset in s, or -1 when inactive. */
static int64_t offset_of(const struct sim_profile *p, int64_t tx_start, int64_t now)
{
	int64_t start, off;

	if ((p->valid_from && now < p->valid_from) || (p->valid_to && now >= p->valid_to))
		return -1;
	if (p->relative)
		start = tx_start ? tx_start : now;
	else
		start = p->start ? p->start : (p->valid_from ? p->valid_from : now);
	off = now - start;
	if (p->recurring && off >= 0)
		off %= p->recurring_weekly ? 7 * 86400 : 86400;
	if (off < 0 || (p->duration > 0 && off >= p->duration))
		return -1;
	return off;
}

/* The limit of @p at @now, or NAN when it has no period in force. */
static double limit_of(const struct sim_profile *p, int64_t tx_start, int64_t now)
{
	int64_t off = offset_of(p, tx_start, now);
	double l = NAN;

	if (off < 0)
		return NAN;
	for (unsigned int i = 0; i < p->nperiods; i++)
		if (p->periods[i].start <= off)
			l = p->periods[i].amps;
	return l;
}

static bool applies(const struct sim_profile *p, int evse, const char *tx_id)
{
	switch (p->purpose) {
	case SIM_PURPOSE_MAX:
	case SIM_PURPOSE_EXTERNAL:
		return true;
	case SIM_PURPOSE_TX_DEFAULT:
		return p->evse == 0 || p->evse == evse;
	case SIM_PURPOSE_TX:
		return p->evse == evse && tx_id[0] && (!p->tx_id[0] || !strcmp(p->tx_id, tx_id));
	default:
		return false;
	}
}

double sim_profiles_limit(const struct sim_profiles *ps, int evse, const char *tx_id,
			  int64_t tx_start, int64_t now)
{
	/* Best stack level seen per group; TxDefault on the EVSE beats one on 0. */
	struct { int level; double amps; } best[SIM_PURPOSE_OTHER + 1];
	double lim;

	for (size_t g = 0; g <= SIM_PURPOSE_OTHER; g++)
		best[g].level = -1, best[g].amps = NAN;
	for (unsigned int i = 0; i < ps->n; i++) {
		const struct sim_profile *p = &ps->p[i];
		int level = p->stack_level;
		double l;

		if (!applies(p, evse, tx_id))
			continue;
		l = limit_of(p, tx_start, now);
		if (isnan(l))
			continue;
		if (p->purpose == SIM_PURPOSE_TX_DEFAULT && p->evse == evse)
			level += 1 << 20;
		if (level > best[p->purpose].level) {
			best[p->purpose].level = level;
			best[p->purpose].amps = l;
		}
	}
	lim = INFINITY;
	if (!isnan(best[SIM_PURPOSE_MAX].amps))
		lim = fmin(lim, best[SIM_PURPOSE_MAX].amps);
	if (!isnan(best[SIM_PURPOSE_EXTERNAL].amps))
		lim = fmin(lim, best[SIM_PURPOSE_EXTERNAL].amps);
	if (!isnan(best[SIM_PURPOSE_TX].amps))
		lim = fmin(lim, best[SIM_PURPOSE_TX].amps);
	else if (!isnan(best[SIM_PURPOSE_TX_DEFAULT].amps))
		lim = fmin(lim, best[SIM_PURPOSE_TX_DEFAULT].amps);
	return isinf(lim) ? -1.0 : lim;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

json_t *sim_profiles_composite(const struct sim_profiles *ps, int evse, const char *tx_id,
			       int64_t tx_start, int64_t now, int duration, bool unit_w,
			       unsigned int phases, double max_amps)
{
	size_t cap = 1, n = 0;
	int64_t *pts;
	json_t *out = NULL;
	double prev = NAN;

	for (unsigned int i = 0; i < ps->n; i++)
		cap += ps->p[i].nperiods + 1;
	pts = calloc(cap, sizeof(*pts));
	if (!pts)
		goto out;
	pts[n++] = now;
	/* Every period boundary of every profile within the window; a
	 * boundary is where the composite may change. */
	for (unsigned int i = 0; i < ps->n; i++) {
		const struct sim_profile *p = &ps->p[i];
		int64_t off = offset_of(p, tx_start, now);
		int64_t base = off >= 0 ? now - off : (p->relative ? now :
			(p->start ? p->start : now));

		for (unsigned int k = 0; k < p->nperiods; k++) {
			int64_t t = base + p->periods[k].start;

			if (t > now && t < now + duration)
				pts[n++] = t;
		}
		if (p->duration > 0 && base + p->duration > now && base + p->duration < now + duration)
			pts[n++] = base + p->duration;
	}
	qsort(pts, n, sizeof(*pts), cmp_i64);
	out = json_array();
	for (size_t i = 0; out && i < n; i++) {
		double a, l;

		if (i && pts[i] == pts[i - 1])
			continue;
		a = sim_profiles_limit(ps, evse, tx_id, tx_start, pts[i]);
		if (a < 0)
			a = max_amps;
		if (a == prev)
			continue;
		prev = a;
		l = unit_w ? a * SIM_VOLTS * phases : a;
		json_array_append_new(out, json_pack("{s:i, s:f, s:i}", "startPeriod",
						     (int)(pts[i] - now), "limit",
						     round(l * 10) / 10, "numberPhases", (int)phases));
	}
out:
	free(pts);
	return out;
}
