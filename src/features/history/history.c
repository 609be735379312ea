/* SPDX-License-Identifier: MIT */
/*
 * The history sampler: what the status page charts, written to the store
 * every history_interval_s. An interval's chargers are sampled in slices
 * spread over it, so no single loop turn samples them all (issue 19: 5,000
 * chargers in one turn held every frame for 50-90 ms). A series' samples
 * of one minute (the finest bucket) are averaged in memory and written
 * once, at the minute's last sample (issue 19: a write per sample, three
 * upserts and three trims, was 14 % of the gateway's CPU at 5,000
 * chargers); a read of the series through the API, the charger leaving and
 * the gateway stopping write what is pending first. A write is lazy (it
 * joins the next group commit and holds no frame back), so the loop never
 * waits for the disk on its account. It reads what the charger state and
 * the load balancer already know; it sends nothing to anyone.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <uv.h>

#include "ocppgw/log.h"
#include "ocppgw/loop.h"
#include "ocppgw/store.h"
#include "features/history/history.h"
#include "features/metrics/metrics.h"
#include "features/state/state.h"
#include "session/session.h"

#define SITE_SERIES ""               /* no charger id is empty */
#define SWEEP_MS (3600 * 1000)       /* series no longer written are trimmed hourly */
#define SLICE_MS 100                 /* an interval is sampled in slices this long */

/* What the values of a sample are, as the API names them. */
static const char *const site_columns[] = {
	"l1A", "l2A", "l3A", "limitA", "building1A", "building2A", "building3A",
};
static const char *const charger_columns[] = { "powerW", "l1A", "l2A", "l3A" };
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))
#define N_SITE N_OF(site_columns)
#define N_CHARGER N_OF(charger_columns)
_Static_assert(N_SITE <= OGW_HISTORY_VALUES, "too many site values");
_Static_assert(N_CHARGER <= OGW_HISTORY_VALUES, "too many charger values");

/* A series' samples of one minute not yet in the store: their count and
 * each value's running mean (NAN: no sample had it). */
struct pending {
	int64_t minute_ms;           /* the finest bucket they fall in */
	uint32_t n;                  /* 0: nothing pending */
};
struct charger_pending {         /* each session's, as the stage's state */
	struct pending p;
	double mean[N_CHARGER];
};

struct ogw_history {
	uv_timer_t tick;
	struct ogw_gateway *gw;
	int64_t swept_ms;            /* last global trim */
	unsigned int slice;          /* the next slice of the interval */
	size_t cursor;               /* the next bucket of gw->table to sample */
	bool failing;                /* a write failed: logged once until one works */
	struct pending site;
	double site_mean[N_SITE];
};

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void site_values(struct ogw_gateway *gw, double v[OGW_HISTORY_VALUES])
{
	struct ogw_site_figures f;
	ogw_site_figures(gw, &f);
	for (int p = 0; p < 3; p++)
		v[p] = f.measured_a[p];
	/* one limit column: the tightest phase's (a grid meter makes them differ) */
	v[3] = NAN;
	for (int p = 0; f.balancing && p < 3; p++)
		if (f.site_limit_a[p] >= 0 && (isnan(v[3]) || f.site_limit_a[p] < v[3]))
			v[3] = f.site_limit_a[p];
	/* the building's load: only while the grid meter is reading */
	for (int p = 0; p < 3; p++)
		v[4 + p] = f.meter_state == 0 ? f.meter_load_a[p] : NAN;
}

/* Power summed over the EVSEs that report it (none: no value); current by
 * the charger's own phases. */
static void charger_values(const struct ogw_session *s, double v[OGW_HISTORY_VALUES])
{
	const struct ogw_charger_state *cs = ogw_state_of(s);
	v[0] = NAN;
	for (int p = 0; p < 3; p++)
		v[1 + p] = 0;
	for (int i = 0; i < cs->n_evse; i++) {
		const struct ogw_evse_state *e = &cs->evse[i];
		if (e->power_w >= 0)
			v[0] = (isnan(v[0]) ? 0 : v[0]) + e->power_w;
		for (int p = 0; p < 3; p++)
			v[1 + p] += e->current_a[p] > 0 ? e->current_a[p] : 0;
	}
}

static void write_pending(struct ogw_gateway *gw, const char *series, struct pending *p,
			  const double *mean, size_t n_values)
{
	if (!p->n || !gw->store)
		return;
	double v[OGW_HISTORY_VALUES];
	for (size_t k = 0; k < OGW_HISTORY_VALUES; k++)
		v[k] = k < n_values ? mean[k] : NAN;
	int r = ogw_store_history_merge(gw->store, series, p->minute_ms, p->n, v);
	p->n = 0;
	/* gw->history is gone once the sampler stopped (the last writes) */
	bool *failing = gw->history ? &gw->history->failing : NULL;
	if (r < 0 && !(failing && *failing)) {
		struct ogw_log_ctx lc = { *series ? series : NULL, NULL, NULL, NULL };
		ogw_warn(&lc, "Failed to record history: %s", strerror(-r));
	}
	if (failing)
		*failing = r < 0;
}

static int64_t minute_of(int64_t ms)
{
	return ms - ms % ogw_history_tiers[0].step_ms;
}

/* One sample of @series into its pending minute, written when the series'
 * next sample, an interval on, falls in another minute. */
static void sample(struct ogw_gateway *gw, const char *series, struct pending *p, double *mean,
		   size_t n_values, const double *v, int64_t now_ms)
{
	int64_t minute = minute_of(now_ms);
	if (p->n && p->minute_ms != minute)
		write_pending(gw, series, p, mean, n_values);
	if (!p->n) {
		p->minute_ms = minute;
		for (size_t k = 0; k < n_values; k++)
			mean[k] = NAN;
	}
	/* the store's running mean (history.c): a sample without a value leaves it */
	for (size_t k = 0; k < n_values; k++)
		if (isfinite(v[k]))
			mean[k] = isnan(mean[k]) ? v[k] : mean[k] + (v[k] - mean[k]) / (p->n + 1);
	p->n++;
	if (minute_of(now_ms + (int64_t)gw->conf.history_interval_s * 1000) != minute)
		write_pending(gw, series, p, mean, n_values);
}

static struct charger_pending *pending_of(const struct ogw_session *s)
{
	return ogw_session_state(s, &ogw_history_stage);
}

/* Samples the connected chargers of the session table's buckets [@from, @to). */
static void sample_buckets(struct ogw_gateway *gw, size_t from, size_t to, int64_t now_ms)
{
	double v[OGW_HISTORY_VALUES];
	for (size_t i = from; i < to && i < gw->table_size; i++)
		for (const struct ogw_session *s = gw->table[i]; s; s = s->hnext) {
			if (s->state != OGW_SESSION_ACTIVE || s->south.state != OGW_LEG_UP)
				continue;
			for (size_t k = 0; k < OGW_HISTORY_VALUES; k++)
				v[k] = NAN;
			charger_values(s, v);
			struct charger_pending *cp = pending_of(s);
			sample(gw, s->id, &cp->p, cp->mean, N_CHARGER, v, now_ms);
		}
}

/*
 * One slice: the site at the first, then the next share of the session
 * table's buckets (ids hash evenly over them), so that each charger is
 * sampled once an interval. A table that grows meanwhile moves sessions
 * between buckets: one of them may then be sampled twice or not at all in
 * that interval, which a running mean bears.
 */
static void sample_slice(struct ogw_history *h, int64_t now_ms)
{
	struct ogw_gateway *gw = h->gw;
	unsigned int slices = (unsigned int)((int64_t)gw->conf.history_interval_s * 1000 / SLICE_MS);
	if (!gw->store)
		return;
	if (!slices)
		slices = 1;
	if (h->slice == 0) {
		double v[OGW_HISTORY_VALUES];
		for (size_t k = 0; k < OGW_HISTORY_VALUES; k++)
			v[k] = NAN;
		site_values(gw, v);
		sample(gw, SITE_SERIES, &h->site, h->site_mean, N_SITE, v, now_ms);
		h->cursor = 0;
	}
	h->slice++;
	size_t end = h->slice >= slices ? gw->table_size : gw->table_size * h->slice / slices;
	sample_buckets(gw, h->cursor, end, now_ms);
	h->cursor = end;
	if (h->slice >= slices) {
		h->slice = 0;
		if (now_ms - h->swept_ms >= SWEEP_MS) {
			h->swept_ms = now_ms;
			ogw_store_history_trim(gw->store, now_ms);
		}
	}
}

static void on_tick(uv_timer_t *t)
{
	struct ogw_history *h = t->data;
	uint64_t t0 = ogw_loop_mark_start();
	sample_slice(h, wall_ms());
	ogw_loop_mark("history slice", t0);
}

int ogw_history_start(struct ogw_gateway *gw)
{
	struct ogw_history *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->gw = gw;
	/* the first sweep an interval after start, not at once */
	h->swept_ms = wall_ms() - SWEEP_MS + (int64_t)gw->conf.history_interval_s * 1000;
	uv_timer_init(ogw_loop_uv(), &h->tick);
	h->tick.data = h;
	/* the first slice (the site's sample) an interval after start */
	uint64_t every = (uint64_t)gw->conf.history_interval_s * 1000;
	uv_timer_start(&h->tick, on_tick, every, every < SLICE_MS ? every : SLICE_MS);
	gw->history = h;
	return 0;
}

static void closed(uv_handle_t *handle)
{
	free(handle->data);
}

void ogw_history_stop(struct ogw_gateway *gw)
{
	if (!gw || !gw->history)
		return;
	struct ogw_history *h = gw->history;
	uv_timer_stop(&h->tick);
	gw->history = NULL;
	/* the site's last minute; each charger's goes as its session does */
	write_pending(gw, SITE_SERIES, &h->site, h->site_mean, N_SITE);
	uv_close((uv_handle_t *)&h->tick, closed);
}

json_t *ogw_history_json(struct ogw_gateway *gw, const char *charger, int64_t step_ms,
			 int64_t from_ms, int64_t to_ms)
{
	int tier = 0;
	while (tier < OGW_HISTORY_TIERS - 1 && ogw_history_tiers[tier].step_ms < step_ms)
		tier++;
	const char *const *names = charger ? charger_columns : site_columns;
	size_t n = charger ? N_CHARGER : N_SITE;
	/* what the series has pending first, so the answer holds every sample */
	struct ogw_session *s = charger ? ogw_session_find(gw, charger) : NULL;
	if (s) {
		struct charger_pending *cp = pending_of(s);
		write_pending(gw, charger, &cp->p, cp->mean, N_CHARGER);
	} else if (!charger && gw->history) {
		write_pending(gw, SITE_SERIES, &gw->history->site, gw->history->site_mean, N_SITE);
	}
	json_t *points = ogw_store_history_list(gw->store, charger ? charger : SITE_SERIES, tier,
						from_ms, to_ms, (int)n, 0);
	if (!points)
		return NULL;
	json_t *columns = json_array();
	json_array_append_new(columns, json_string("t"));
	for (size_t k = 0; k < n; k++)
		json_array_append_new(columns, json_string(names[k]));
	return json_pack("{s:o, s:I, s:I, s:I, s:o, s:o}", "charger",
			 charger ? json_string(charger) : json_null(),
			 "step", (json_int_t)(ogw_history_tiers[tier].step_ms / 1000),
			 "from", (json_int_t)from_ms, "to", (json_int_t)to_ms,
			 "columns", columns, "points", points);
}

static void history_session_free(struct ogw_session *s)
{
	struct charger_pending *cp = pending_of(s);
	write_pending(s->gw, s->id, &cp->p, cp->mean, N_CHARGER);
}

_Static_assert(_Alignof(struct charger_pending) <= OGW_STAGE_STATE_ALIGN, "stage state alignment");

const struct ogw_stage ogw_history_stage = {
	.name = "history",
	.state_size = sizeof(struct charger_pending),
	.on_session_free = history_session_free,
};
