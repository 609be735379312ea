/* SPDX-License-Identifier: MIT */
/*
 * The allocator behind include/ocppgw/lb.h: admission at minimum current in
 * priority-then-arrival order, then max-min fair water-filling per priority
 * tier, over one constraint per (node, grid phase); the choice between
 * three phases and one for chargers that switch; and what a grid meter
 * leaves the chargers under the main fuse. Pure: no I/O, no state between
 * calls; the caller owns every array.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

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
		if (s->measured_a[(s->line + k) % OGW_LB_PHASES] > drawn)
			drawn = s->measured_a[(s->line + k) % OGW_LB_PHASES];
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
	    s->phases > OGW_LB_PHASES || !(s->min_a >= 0) || !(s->min_a <= s->max_a) ||
	    s->line < 0 || s->line >= OGW_LB_PHASES)
		return false;
	if (s->may_switch && ((s->mode.phases != 1 && s->mode.phases != 3) || s->mode.line < 0 ||
			      s->mode.line >= OGW_LB_PHASES || s->car_phases < 0 ||
			      s->car_phases > OGW_LB_PHASES || s->lines > 7u))
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

int ogw_lb_session_grid_phase(const struct ogw_lb_session *s, int k)
{
	return s->grid_phase[(s->line + k) % OGW_LB_PHASES];
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
				w->cons[at++] = (size_t)v * OGW_LB_PHASES +
						(size_t)ogw_lb_session_grid_phase(&ss[i], k);
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

/* ---- phase switching ------------------------------------------------------ */

/* Each run tries a few hundred modes at most, whatever the fleet. */
#define MAX_TRIES 2000

void ogw_lb_session_set_mode(struct ogw_lb_session *s, struct ogw_lb_mode mode)
{
	s->mode = mode;
	if (mode.phases == 1) {
		s->phases = 1;
		s->line = mode.line;
	} else {
		s->phases = s->car_phases >= 1 && s->car_phases <= OGW_LB_PHASES ? s->car_phases
										  : OGW_LB_PHASES;
		s->line = 0;
	}
}

/* One way of setting every session's mode, with its allocation. */
struct trial {
	struct ogw_lb_session *ss;
	double *a;
};

struct search {
	const struct ogw_lb_params *p;
	const struct ogw_lb_node *nodes;
	size_t n_nodes, n;
	size_t *order;               /* sessions by rank */
	unsigned int tries;
};

static bool same_mode(struct ogw_lb_mode a, struct ogw_lb_mode b)
{
	return a.phases == b.phases && (a.phases != 1 || a.line == b.line);
}

/* Whether @x beats @y: a session charging in one and not the other decides,
 * the best-ranked such first; else @x needs the most current summed over
 * the phases in use, by one minimum current of a session whose mode
 * differs (what makes a switch worth the car's pause). */
static bool better(const struct search *sr, const struct trial *x, const struct trial *y)
{
	double tx = 0, ty = 0, gain = 0;

	for (size_t r = 0; r < sr->n; r++) {
		size_t i = sr->order[r];
		if ((x->a[i] > 0) != (y->a[i] > 0))
			return x->a[i] > 0;
	}
	for (size_t i = 0; i < sr->n; i++) {
		tx += x->a[i] * x->ss[i].phases;
		ty += y->a[i] * y->ss[i].phases;
		if (!same_mode(x->ss[i].mode, y->ss[i].mode))
			gain = fmax(gain, x->ss[i].min_a);
	}
	return gain > 0 && tx >= ty + gain - EPS;
}

static int evaluate(struct search *sr, struct trial *t)
{
	sr->tries++;
	return ogw_lb_allocate(sr->p, sr->nodes, sr->n_nodes, t->ss, sr->n, t->a);
}

/* The modes session @s may take: three phases, or one on each line it may use. */
static size_t modes_of(const struct ogw_lb_session *s, struct ogw_lb_mode ret[4])
{
	size_t n = 0;

	ret[n++] = (struct ogw_lb_mode){ .phases = 3 };
	for (int k = 0; k < OGW_LB_PHASES; k++)
		if ((s->lines ? s->lines : 1u) & (1u << k))
			ret[n++] = (struct ogw_lb_mode){ .phases = 1, .line = k };
	return n;
}

/* Moves one switching session at a time to another mode while that is
 * better, best-ranked first, until nothing improves. @t holds its
 * allocation; @scratch is the same size. */
static int improve(struct search *sr, struct trial *t, struct trial *scratch)
{
	bool moved = true;
	int r = 0;

	while (moved && r == 0 && sr->tries < MAX_TRIES) {
		moved = false;
		for (size_t o = 0; o < sr->n && r == 0; o++) {
			size_t i = sr->order[o];
			struct ogw_lb_mode m[4];
			if (!t->ss[i].may_switch)
				continue;
			for (size_t k = 0, nm = modes_of(&t->ss[i], m); k < nm && r == 0; k++) {
				if (same_mode(m[k], t->ss[i].mode) || sr->tries >= MAX_TRIES)
					continue;
				memcpy(scratch->ss, t->ss, sr->n * sizeof(*t->ss));
				ogw_lb_session_set_mode(&scratch->ss[i], m[k]);
				r = evaluate(sr, scratch);
				if (r == 0 && better(sr, scratch, t)) {
					struct trial swap = *t;
					*t = *scratch;
					*scratch = swap;
					moved = true;
				}
			}
		}
	}
	return r;
}

/* Starting points besides the modes in force: every switching session on
 * three phases; every one on one phase, spread over the grid phases in
 * rank order (the fewest such sessions first). */
static void start_from(const struct search *sr, struct trial *t, bool three)
{
	unsigned int on[OGW_LB_PHASES] = { 0 };

	for (size_t o = 0; o < sr->n; o++) {
		struct ogw_lb_session *s = &t->ss[sr->order[o]];
		struct ogw_lb_mode m[4], pick = { .phases = 3 };
		if (!s->may_switch)
			continue;
		for (size_t k = 1, nm = modes_of(s, m); !three && k < nm; k++)
			if (pick.phases == 3 ||
			    on[s->grid_phase[m[k].line]] < on[s->grid_phase[pick.line]])
				pick = m[k];
		if (pick.phases == 1)
			on[s->grid_phase[pick.line]]++;
		ogw_lb_session_set_mode(s, pick);
	}
}

static void trial_free(struct trial *t)
{
	free(t->ss);
	free(t->a);
}

int ogw_lb_allocate_phases(const struct ogw_lb_params *p, const struct ogw_lb_node *nodes,
			   size_t n_nodes, const struct ogw_lb_session *sessions,
			   size_t n_sessions, double *ret_a, struct ogw_lb_mode *ret_mode)
{
	struct search sr = { .p = p, .nodes = nodes, .n_nodes = n_nodes, .n = n_sessions };
	struct trial t[4] = { 0 };  /* best, scratch, other start, its scratch */
	int r = validate(p, nodes, n_nodes, sessions, n_sessions);

	if (r < 0)
		return r;
	r = -ENOMEM;
	sr.order = malloc((n_sessions + 1) * sizeof(*sr.order));
	for (size_t k = 0; k < 4; k++) {
		t[k].ss = malloc((n_sessions + 1) * sizeof(*t[k].ss));
		t[k].a = calloc(n_sessions + 1, sizeof(*t[k].a));
		if (!t[k].ss || !t[k].a)
			goto out;
	}
	if (!sr.order)
		goto out;
	for (size_t i = 0; i < n_sessions; i++)
		sr.order[i] = i;
	qsort_r(sr.order, n_sessions, sizeof(*sr.order), by_rank, (void *)sessions);
	/* from the modes in force, then from each other start: the best wins,
	 * by the margin better() asks of any change */
	memcpy(t[0].ss, sessions, n_sessions * sizeof(*sessions));
	r = evaluate(&sr, &t[0]);
	if (r == 0)
		r = improve(&sr, &t[0], &t[1]);
	for (int three = 1; three >= 0 && r == 0; three--) {
		memcpy(t[2].ss, sessions, n_sessions * sizeof(*sessions));
		start_from(&sr, &t[2], three);
		r = evaluate(&sr, &t[2]);
		if (r == 0)
			r = improve(&sr, &t[2], &t[3]);
		if (r == 0 && better(&sr, &t[2], &t[0])) {
			struct trial swap = t[0];
			t[0] = t[2];
			t[2] = swap;
		}
	}
	if (r < 0)
		goto out;
	for (size_t i = 0; i < n_sessions; i++) {
		ret_a[i] = t[0].a[i];
		ret_mode[i] = t[0].ss[i].mode.phases ? t[0].ss[i].mode :
			      (struct ogw_lb_mode){ .phases = t[0].ss[i].phases,
						    .line = t[0].ss[i].line };
	}
out:
	for (size_t k = 0; k < 4; k++)
		trial_free(&t[k]);
	free(sr.order);
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
