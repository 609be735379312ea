/* SPDX-License-Identifier: MIT */
/*
 * The allocator behind include/ocppgw/lb.h: admission at minimum current in
 * priority-then-arrival order, then max-min fair water-filling per priority
 * tier, over one constraint per (node, grid phase); and what a grid meter
 * leaves the chargers under the main fuse. Pure: no I/O, no state between
 * calls; the caller owns every array.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#include "ocppgw/lb.h"

#define EPS 1e-9

/* Per call: constraint slack and each session's constraint list. */
struct work {
	const struct ogw_lb_session *ss;
	size_t n;
	double *slack;       /* per node*3 + grid phase; HUGE_VAL: no limit */
	size_t *cons;        /* constraints of session i: cons[off[i] .. off[i+1]) */
	size_t *off;
	double *cap;
	size_t *order;       /* sessions by priority desc, arrival asc */
	bool *open;          /* still rising in the current fill */
	unsigned int *cnt;   /* per constraint: rising sessions on it */
};

double ogw_lb_node_limit_a(const struct ogw_lb_params *p, const struct ogw_lb_node *n)
{
	double a = n->limit_a;

	if (n->limit_w >= 0) {
		/* OCPP 1.6 §7.12: I per phase = P / (U nominal x phases) */
		double w = n->limit_w / (p->voltage * (n->phases >= 1 ? n->phases : 3));
		if (a < 0 || w < a)
			a = w;
	}
	return a;
}

double ogw_lb_node_phase_limit_a(const struct ogw_lb_params *p, const struct ogw_lb_node *n,
				 int k)
{
	double a = ogw_lb_node_limit_a(p, n);

	if (n->per_phase && n->phase_a[k] >= 0 && (a < 0 || n->phase_a[k] < a))
		a = n->phase_a[k];
	return a;
}

double ogw_lb_session_cap_a(const struct ogw_lb_params *p, const struct ogw_lb_session *s)
{
	double cap = s->max_a, drawn = -1;

	if (s->csms_limit_a >= 0 && s->csms_limit_a < cap)
		cap = s->csms_limit_a;
	for (int k = 0; k < s->phases && k < OGW_LB_PHASES; k++)
		if (s->measured_a[k] > drawn)
			drawn = s->measured_a[k];
	/* A car taking well under its offer (full battery, its own limit)
	 * keeps its draw plus a margin to grow; the rest goes to others. */
	if (drawn >= 0 && s->offered_a >= 0 && drawn < s->offered_a - p->headroom_a) {
		double keep = fmax(s->min_a, drawn + p->headroom_a);
		if (keep < cap)
			cap = keep;
	}
	return cap;
}

static bool session_valid(const struct ogw_lb_session *s, size_t n_nodes)
{
	unsigned int seen = 0;

	if (s->node < 0 || (size_t)s->node >= n_nodes || s->phases < 1 ||
	    s->phases > OGW_LB_PHASES || !(s->min_a >= 0) || !(s->min_a <= s->max_a))
		return false;
	for (int k = 0; k < OGW_LB_PHASES; k++) {
		if (s->grid_phase[k] < 0 || s->grid_phase[k] >= OGW_LB_PHASES)
			return false;
		seen |= 1u << s->grid_phase[k];
	}
	return seen == 7u;
}

static int validate(const struct ogw_lb_params *p, const struct ogw_lb_node *nodes,
		    size_t n_nodes, const struct ogw_lb_session *ss, size_t n)
{
	if (!p || !(p->voltage > 0) || !(p->headroom_a >= 0))
		return -EINVAL;
	for (size_t i = 0; i < n_nodes; i++)
		if (nodes[i].parent >= (int)i || nodes[i].parent < -1 || nodes[i].phases < 1 ||
		    nodes[i].phases > OGW_LB_PHASES)
			return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!session_valid(&ss[i], n_nodes))
			return -EINVAL;
	return 0;
}

static int by_rank(const void *a, const void *b, void *arg)
{
	const struct ogw_lb_session *base = arg;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	const struct ogw_lb_session *x = &base[i], *y = &base[j];

	if (x->priority != y->priority)
		return x->priority > y->priority ? -1 : 1;
	if (x->arrival != y->arrival)
		return x->arrival < y->arrival ? -1 : 1;
	return i < j ? -1 : i > j;
}

static int work_init(struct work *w, const struct ogw_lb_params *p,
		     const struct ogw_lb_node *nodes, size_t n_nodes,
		     const struct ogw_lb_session *ss, size_t n)
{
	size_t total = 0;

	w->ss = ss;
	w->n = n;
	w->slack = malloc((n_nodes * OGW_LB_PHASES + 1) * sizeof(*w->slack));
	w->cnt = calloc(n_nodes * OGW_LB_PHASES + 1, sizeof(*w->cnt));
	w->off = malloc((n + 1) * sizeof(*w->off));
	w->cap = malloc((n + 1) * sizeof(*w->cap));
	w->order = malloc((n + 1) * sizeof(*w->order));
	w->open = calloc(n + 1, sizeof(*w->open));
	if (!w->slack || !w->cnt || !w->off || !w->cap || !w->order || !w->open)
		return -ENOMEM;
	for (size_t i = 0; i < n_nodes; i++)
		for (int k = 0; k < OGW_LB_PHASES; k++) {
			double lim = ogw_lb_node_phase_limit_a(p, &nodes[i], k);
			w->slack[i * OGW_LB_PHASES + (size_t)k] = lim < 0 ? HUGE_VAL : lim;
		}
	for (size_t i = 0; i < n; i++) {
		w->off[i] = total;
		for (int v = ss[i].node; v >= 0; v = nodes[v].parent)
			total += (size_t)ss[i].phases;
	}
	w->off[n] = total;
	w->cons = malloc((total + 1) * sizeof(*w->cons));
	if (!w->cons)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		size_t at = w->off[i];
		for (int v = ss[i].node; v >= 0; v = nodes[v].parent)
			for (int k = 0; k < ss[i].phases; k++)
				w->cons[at++] = (size_t)v * OGW_LB_PHASES + (size_t)ss[i].grid_phase[k];
		w->cap[i] = ogw_lb_session_cap_a(p, &ss[i]);
		w->order[i] = i;
	}
	qsort_r(w->order, n, sizeof(*w->order), by_rank, (void *)ss);
	return 0;
}

static void work_free(struct work *w)
{
	free(w->slack);
	free(w->cnt);
	free(w->off);
	free(w->cap);
	free(w->order);
	free(w->open);
	free(w->cons);
}

/* The smallest slack on session @i's constraints. */
static double min_slack(const struct work *w, size_t i)
{
	double m = HUGE_VAL;

	for (size_t c = w->off[i]; c < w->off[i + 1]; c++)
		m = fmin(m, w->slack[w->cons[c]]);
	return m;
}

static void take(struct work *w, size_t i, double amps)
{
	for (size_t c = w->off[i]; c < w->off[i + 1]; c++)
		w->slack[w->cons[c]] -= amps;
}

/* Sessions in rank order get their minimum while it fits everywhere on
 * their path; the others wait at 0. */
static void admit(struct work *w, double *alloc)
{
	for (size_t r = 0; r < w->n; r++) {
		size_t i = w->order[r];
		const struct ogw_lb_session *s = &w->ss[i];

		alloc[i] = 0;
		if (w->cap[i] < s->min_a || w->cap[i] <= 0 || min_slack(w, i) < s->min_a - EPS)
			continue;
		alloc[i] = s->min_a;
		take(w, i, s->min_a);
	}
}

/* Freezes open sessions at their cap or on a saturated constraint; returns
 * how many stay open. */
static size_t freeze(struct work *w, const size_t *tier, size_t nt, const double *alloc)
{
	size_t left = 0;

	for (size_t t = 0; t < nt; t++) {
		size_t i = tier[t];
		if (!w->open[i])
			continue;
		if (alloc[i] >= w->cap[i] - EPS || min_slack(w, i) <= EPS)
			w->open[i] = false;
		else
			left++;
	}
	return left;
}

/*
 * Max-min fair filling of one priority tier: the lowest sessions rise
 * together until one reaches its cap, a constraint it shares saturates,
 * or they catch up with the next level. Each round closes a session, a
 * constraint or a level, so it ends within n + constraints rounds.
 */
static void fill_tier(struct work *w, const size_t *tier, size_t nt, double *alloc)
{
	size_t open;

	for (size_t t = 0; t < nt; t++)
		w->open[tier[t]] = alloc[tier[t]] > 0;  /* admitted */
	open = freeze(w, tier, nt, alloc);
	while (open > 0) {
		double level = HUGE_VAL, next = HUGE_VAL;

		for (size_t t = 0; t < nt; t++)
			if (w->open[tier[t]])
				level = fmin(level, alloc[tier[t]]);
		for (size_t t = 0; t < nt; t++) {
			size_t i = tier[t];
			if (!w->open[i])
				continue;
			if (alloc[i] > level + EPS) {
				next = fmin(next, alloc[i]);
				continue;
			}
			next = fmin(next, w->cap[i]);
			for (size_t c = w->off[i]; c < w->off[i + 1]; c++)
				w->cnt[w->cons[c]]++;
		}
		for (size_t t = 0; t < nt; t++) {
			size_t i = tier[t];
			if (!w->open[i] || alloc[i] > level + EPS)
				continue;
			for (size_t c = w->off[i]; c < w->off[i + 1]; c++) {
				size_t k = w->cons[c];
				if (w->cnt[k])
					next = fmin(next, level + w->slack[k] / w->cnt[k]);
			}
		}
		for (size_t t = 0; t < nt; t++) {
			size_t i = tier[t];
			if (!w->open[i] || alloc[i] > level + EPS)
				continue;
			for (size_t c = w->off[i]; c < w->off[i + 1]; c++)
				w->cnt[w->cons[c]] = 0;
			if (next > alloc[i]) {
				take(w, i, next - alloc[i]);
				alloc[i] = next;
			}
		}
		open = freeze(w, tier, nt, alloc);
	}
}

int ogw_lb_allocate(const struct ogw_lb_params *p, const struct ogw_lb_node *nodes,
		    size_t n_nodes, const struct ogw_lb_session *sessions, size_t n_sessions,
		    double *ret_a)
{
	struct work w = { 0 };
	double *alloc = NULL;
	int r = validate(p, nodes, n_nodes, sessions, n_sessions);

	if (r < 0)
		return r;
	alloc = calloc(n_sessions + 1, sizeof(*alloc));
	r = alloc ? work_init(&w, p, nodes, n_nodes, sessions, n_sessions) : -ENOMEM;
	if (r < 0)
		goto out;
	admit(&w, alloc);
	for (size_t a = 0, b; a < n_sessions; a = b) {
		for (b = a + 1; b < n_sessions &&
		     sessions[w.order[b]].priority == sessions[w.order[a]].priority; b++)
			;
		fill_tier(&w, w.order + a, b - a, alloc);
	}
	/* OCPP limits carry one decimal: rounding down keeps every sum within
	 * its limit (the nudge only absorbs floating-point noise). */
	for (size_t i = 0; i < n_sessions; i++)
		ret_a[i] = floor(alloc[i] * 10 + 1e-6) / 10;
out:
	work_free(&w);
	free(alloc);
	return r;
}

void ogw_lb_meter_load(double load_a[OGW_LB_PHASES], const double meter_a[OGW_LB_PHASES],
		       const double chargers_a[OGW_LB_PHASES], bool first)
{
	for (int k = 0; k < OGW_LB_PHASES; k++) {
		double now = meter_a[k] - fmax(chargers_a[k], 0);
		load_a[k] = first || now >= load_a[k] ? now : (load_a[k] + now) / 2;
	}
}

void ogw_lb_meter_limits_a(double fuse_a, const double load_a[OGW_LB_PHASES],
			   double ret_a[OGW_LB_PHASES])
{
	for (int k = 0; k < OGW_LB_PHASES; k++)
		ret_a[k] = fmax(fuse_a - load_a[k], 0);
}
