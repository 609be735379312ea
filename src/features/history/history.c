/* SPDX-License-Identifier: MIT */
/*
 * The history sampler: what the status page charts, written to the store
 * every history_interval_s. A sample is a lazy store write (it joins the
 * next group commit and holds no frame back), so the loop never waits for
 * the disk on its account; and an interval's chargers are sampled in
 * slices spread over it, so no single loop turn writes them all (issue 19:
 * 5,000 chargers in one turn held every frame for 50-90 ms). It reads what
 * the charger state and the load balancer already know; it sends nothing
 * to anyone.
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
_Static_assert(N_OF(site_columns) <= OGW_HISTORY_VALUES, "too many site values");
_Static_assert(N_OF(charger_columns) <= OGW_HISTORY_VALUES, "too many charger values");

struct ogw_history {
	uv_timer_t tick;
	struct ogw_gateway *gw;
	int64_t swept_ms;            /* last global trim */
	unsigned int slice;          /* the next slice of the interval */
	size_t cursor;               /* the next bucket of gw->table to sample */
	bool failing;                /* a write failed: logged once until one works */
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

static void record(struct ogw_gateway *gw, const char *series, int64_t now_ms,
		   const double v[OGW_HISTORY_VALUES])
{
	int r = ogw_store_history_add(gw->store, series, now_ms, v);
	if (r < 0 && !gw->history->failing) {
		struct ogw_log_ctx lc = { *series ? series : NULL, NULL, NULL, NULL };
		ogw_warn(&lc, "Failed to record history: %s", strerror(-r));
	}
	gw->history->failing = r < 0;
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
			record(gw, s->id, now_ms, v);
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
		record(gw, SITE_SERIES, now_ms, v);
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
	uv_timer_stop(&gw->history->tick);
	uv_close((uv_handle_t *)&gw->history->tick, closed);
	gw->history = NULL;
}

json_t *ogw_history_json(struct ogw_gateway *gw, const char *charger, int64_t step_ms,
			 int64_t from_ms, int64_t to_ms)
{
	int tier = 0;
	while (tier < OGW_HISTORY_TIERS - 1 && ogw_history_tiers[tier].step_ms < step_ms)
		tier++;
	const char *const *names = charger ? charger_columns : site_columns;
	size_t n = charger ? N_OF(charger_columns) : N_OF(site_columns);
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
