/* SPDX-License-Identifier: MIT */
/*
 * The allocator's guarantees over thousands of random trees and sessions:
 * no node exceeded on any grid phase, 0 or >= minimum, never above a
 * session's cap, who waits follows priority then arrival, and every
 * session below its cap is held by a saturated constraint on which it has
 * the largest share of its tier (max-min fairness). Nodes may carry a limit
 * of their own per grid phase (a grid meter's headroom).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "ocppgw/lb.h"

#define ROUNDS 4000
#define MAX_NODES 24
#define MAX_SESSIONS 24
#define TOL 1e-6

static const int rotations[6][3] = {
	{ 0, 1, 2 }, { 1, 2, 0 }, { 2, 0, 1 }, { 0, 2, 1 }, { 1, 0, 2 }, { 2, 1, 0 },
};

/* xorshift: the same sequence on every run, so a failure reproduces */
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static unsigned int rnd(unsigned int n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned int)(rng % n);
}

struct site {
	struct ogw_lb_node nodes[MAX_NODES];
	size_t nn;
	struct ogw_lb_session ss[MAX_SESSIONS];
	size_t n;
	double a[MAX_SESSIONS];
};

static void random_site(struct site *st)
{
	st->nn = 1 + rnd(MAX_NODES);
	for (size_t i = 0; i < st->nn; i++) {
		struct ogw_lb_node *v = &st->nodes[i];
		v->parent = i == 0 ? -1 : (int)rnd((unsigned int)i);
		v->phases = 1 + (int)rnd(3);
		v->limit_a = rnd(5) == 0 ? -1 : (double)rnd(120);
		v->limit_w = rnd(6) == 0 ? (double)(rnd(60000)) : -1;
		/* a grid meter's headroom: a limit of its own on each phase */
		v->per_phase = rnd(4) == 0;
		for (int k = 0; k < 3; k++)
			v->phase_a[k] = rnd(4) == 0 ? -1 : (double)rnd(120);
	}
	st->n = rnd(MAX_SESSIONS + 1);
	for (size_t i = 0; i < st->n; i++) {
		struct ogw_lb_session *s = &st->ss[i];
		const int *rot = rotations[rnd(6)];
		s->node = (int)rnd((unsigned int)st->nn);
		s->phases = 1 + (int)rnd(3);
		for (int k = 0; k < 3; k++) {
			s->grid_phase[k] = rot[k];
			s->measured_a[k] = rnd(3) == 0 ? -1 : (double)rnd(33);
		}
		s->min_a = 6 + rnd(3);
		s->max_a = s->min_a + rnd(30);
		s->priority = (int)rnd(3);
		s->arrival = rnd(50);
		s->offered_a = rnd(4) == 0 ? -1 : (double)rnd(33);
		s->csms_limit_a = rnd(4) == 0 ? (double)rnd(40) : -1;
	}
}

static bool on_path(const struct site *st, int node, int v)
{
	for (int u = node; u >= 0; u = st->nodes[u].parent)
		if (u == v)
			return true;
	return false;
}

static bool uses_phase(const struct ogw_lb_session *s, int phase)
{
	for (int k = 0; k < s->phases; k++)
		if (s->grid_phase[k] == phase)
			return true;
	return false;
}

/* Load on (v, phase) from the sessions in @a (or their minimum where
 * @at_min), restricted by @only (NULL: all). */
static double load(const struct site *st, int v, int phase, const double *a)
{
	double sum = 0;

	for (size_t i = 0; i < st->n; i++)
		if (on_path(st, st->ss[i].node, v) && uses_phase(&st->ss[i], phase))
			sum += a[i];
	return sum;
}

static double limit_of(const struct ogw_lb_params *p, const struct site *st, int v, int phase)
{
	double lim = ogw_lb_node_limit_a(p, &st->nodes[v]);
	const struct ogw_lb_node *n = &st->nodes[v];

	if (n->per_phase && n->phase_a[phase] >= 0 && (lim < 0 || n->phase_a[phase] < lim))
		lim = n->phase_a[phase];
	return lim < 0 ? HUGE_VAL : lim;
}

static bool ranks_before(const struct ogw_lb_session *x, size_t i,
			 const struct ogw_lb_session *y, size_t j)
{
	if (x->priority != y->priority)
		return x->priority > y->priority;
	if (x->arrival != y->arrival)
		return x->arrival < y->arrival;
	return i < j;
}

/* A waiting session did not fit at its minimum beside those ranked before
 * it that got one. */
static void check_waiting(const struct ogw_lb_params *p, const struct site *st, size_t i)
{
	const struct ogw_lb_session *s = &st->ss[i];
	double before[MAX_SESSIONS] = { 0 };

	if (ogw_lb_session_cap_a(p, s) < s->min_a)
		return;
	for (size_t j = 0; j < st->n; j++)
		if (j != i && st->a[j] > 0 && ranks_before(&st->ss[j], j, s, i))
			before[j] = st->ss[j].min_a;
	for (int v = s->node; v >= 0; v = st->nodes[v].parent)
		for (int k = 0; k < s->phases; k++)
			if (load(st, v, s->grid_phase[k], before) + s->min_a >
			    limit_of(p, st, v, s->grid_phase[k]) + TOL)
				return;
	cr_assert_fail("session %zu waits though its minimum fits", i);
}

/* A session below its cap sits on a saturated constraint where no other
 * session of its tier holds more than it, unless held at its minimum. */
static void check_bottleneck(const struct ogw_lb_params *p, const struct site *st, size_t i)
{
	const struct ogw_lb_session *s = &st->ss[i];
	double room = 0.1 * (double)st->n + TOL;

	for (int v = s->node; v >= 0; v = st->nodes[v].parent) {
		for (int k = 0; k < s->phases; k++) {
			int ph = s->grid_phase[k];
			bool largest = true;
			if (load(st, v, ph, st->a) < limit_of(p, st, v, ph) - room)
				continue;
			for (size_t j = 0; j < st->n && largest; j++) {
				const struct ogw_lb_session *o = &st->ss[j];
				if (j == i || o->priority != s->priority || !on_path(st, o->node, v) ||
				    !uses_phase(o, ph))
					continue;
				if (st->a[j] > st->a[i] + 0.1 + TOL && st->a[j] > o->min_a + TOL)
					largest = false;
			}
			if (largest)
				return;
		}
	}
	cr_assert_fail("session %zu (%.1f A, cap %.1f) could rise", i, st->a[i],
		       ogw_lb_session_cap_a(p, s));
}

Test(lb_property, invariants_hold_on_random_sites)
{
	const struct ogw_lb_params p = { .voltage = 230, .headroom_a = 2 };
	struct site st = { 0 };  /* what random_site() leaves out stays 0 */

	for (int round = 0; round < ROUNDS; round++) {
		random_site(&st);
		cr_assert_eq(ogw_lb_allocate(&p, st.nodes, st.nn, st.ss, st.n, st.a), 0);
		for (size_t v = 0; v < st.nn; v++)
			for (int ph = 0; ph < 3; ph++)
				cr_assert(load(&st, (int)v, ph, st.a) <= limit_of(&p, &st, (int)v, ph) + TOL,
					  "round %d: node %zu phase %d over its limit", round, v, ph);
		for (size_t i = 0; i < st.n; i++) {
			const struct ogw_lb_session *s = &st.ss[i];
			double cap = ogw_lb_session_cap_a(&p, s);
			cr_assert(st.a[i] == 0 || st.a[i] >= s->min_a - TOL,
				  "round %d: session %zu below its minimum", round, i);
			cr_assert(st.a[i] <= cap + TOL, "round %d: session %zu above its cap", round, i);
			if (st.a[i] == 0)
				check_waiting(&p, &st, i);
			else if (st.a[i] < cap - 0.1 - TOL)
				check_bottleneck(&p, &st, i);
		}
	}
}
