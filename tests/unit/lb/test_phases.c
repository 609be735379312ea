/* SPDX-License-Identifier: MIT */
/*
 * Phase switching in the allocator (ogw_lb_allocate_phases): when a car on
 * a charger that switches is put on one phase (and on which line), when it
 * stays on three, and that no switch ever breaks a limit or stops a car
 * ranked before the one it helps.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "ocppgw/lb.h"

static const struct ogw_lb_params params = { .voltage = 230, .headroom_a = 2 };

static const struct ogw_lb_mode THREE = { .phases = 3 };

static struct ogw_lb_mode one(int line)
{
	return (struct ogw_lb_mode){ .phases = 1, .line = line };
}

/* A car on a 3-phase charger wired L1L2L3, 6-@max A, on three phases now;
 * @lines: where one phase may go (0: L1 only, a 1.6 charger). */
static struct ogw_lb_session car(int node, double max, bool may_switch, unsigned int lines)
{
	struct ogw_lb_session s = {
		.node = node, .phases = 3, .grid_phase = { 0, 1, 2 }, .min_a = 6, .max_a = max,
		.measured_a = { -1, -1, -1 }, .offered_a = -1, .csms_limit_a = -1,
		.may_switch = may_switch, .lines = lines,
	};

	ogw_lb_session_set_mode(&s, THREE);
	return s;
}

/* A site with a limit of its own on each grid phase (a grid meter's). */
static struct ogw_lb_node site(double l1, double l2, double l3)
{
	return (struct ogw_lb_node){ .parent = -1, .limit_a = -1, .limit_w = -1, .phases = 3,
				     .per_phase = true, .phase_a = { l1, l2, l3 } };
}

static void run(const struct ogw_lb_node *nodes, size_t nn, const struct ogw_lb_session *ss,
		size_t n, double *a, struct ogw_lb_mode *m)
{
	cr_assert_eq(ogw_lb_allocate_phases(&params, nodes, nn, ss, n, a, m), 0);
}

static void expect_mode(struct ogw_lb_mode got, struct ogw_lb_mode want, size_t i)
{
	cr_expect_eq(got.phases, want.phases, "session %zu: %d phases, want %d", i, got.phases,
		     want.phases);
	if (want.phases == 1)
		cr_expect_eq(got.line, want.line, "session %zu: line L%d, want L%d", i,
			     got.line + 1, want.line + 1);
}

Test(phases, below_three_times_six_one_phase_charges)
{
	/* the building leaves 4 A on L1: three phases cannot start (6 A each),
	 * one phase on L2 can, at what L2 leaves */
	struct ogw_lb_node nodes[] = { site(4, 20, 20) };
	struct ogw_lb_session ss[] = { car(0, 16, true, 7) };
	struct ogw_lb_mode m[1];
	double a[1];

	run(nodes, 1, ss, 1, a, m);
	expect_mode(m[0], one(1), 0);
	cr_expect_float_eq(a[0], 16, 1e-9);
}

Test(phases, without_phase_to_use_the_charger_l1_decides)
{
	struct ogw_lb_node nodes[] = { site(4, 20, 20) };
	struct ogw_lb_session ss[] = { car(0, 16, true, 0) };
	struct ogw_lb_mode m[1];
	double a[1];

	/* a 1.6 charger puts one phase on its L1, which is grid L1: no help */
	run(nodes, 1, ss, 1, a, m);
	expect_mode(m[0], THREE, 0);
	cr_expect_float_eq(a[0], 0, 1e-9);
	/* wired L2L3L1, its L1 is grid L2: one phase charges */
	ss[0].grid_phase[0] = 1;
	ss[0].grid_phase[1] = 2;
	ss[0].grid_phase[2] = 0;
	run(nodes, 1, ss, 1, a, m);
	expect_mode(m[0], one(0), 0);
	cr_expect_float_eq(a[0], 16, 1e-9);
}

Test(phases, stays_on_three_while_three_fit)
{
	struct ogw_lb_node nodes[] = { site(10, 10, 10) };
	struct ogw_lb_session ss[] = { car(0, 16, true, 7) };
	struct ogw_lb_mode m[1];
	double a[1];

	run(nodes, 1, ss, 1, a, m);
	expect_mode(m[0], THREE, 0);
	cr_expect_float_eq(a[0], 10, 1e-9);
}

Test(phases, a_small_gain_does_not_switch)
{
	/* three phases at 6 A (18 A over the phases) against one at 20 A:
	 * 2 A more is less than one minimum current, the car stays */
	struct ogw_lb_node nodes[] = { site(6, 6, 20) };
	struct ogw_lb_session ss[] = { car(0, 32, true, 7) };
	struct ogw_lb_mode m[1];
	double a[1];

	run(nodes, 1, ss, 1, a, m);
	expect_mode(m[0], THREE, 0);
	cr_expect_float_eq(a[0], 6, 1e-9);
	/* ... one on L3 at 32 A is 14 A more: switched */
	nodes[0].phase_a[2] = 32;
	run(nodes, 1, ss, 1, a, m);
	expect_mode(m[0], one(2), 0);
	cr_expect_float_eq(a[0], 32, 1e-9);
}

Test(phases, back_to_three_when_the_headroom_returns)
{
	struct ogw_lb_node nodes[] = { site(32, 32, 32) };
	struct ogw_lb_session ss[] = { car(0, 16, true, 7) };
	struct ogw_lb_mode m[1];
	double a[1];

	ogw_lb_session_set_mode(&ss[0], one(1));
	run(nodes, 1, ss, 1, a, m);
	expect_mode(m[0], THREE, 0);
	cr_expect_float_eq(a[0], 16, 1e-9);
}

Test(phases, not_while_it_may_not_switch)
{
	struct ogw_lb_node nodes[] = { site(4, 20, 20) };
	struct ogw_lb_session ss[] = { car(0, 16, false, 7) };
	struct ogw_lb_mode m[1];
	double a[1];

	/* its last switch too recent (or a charger that does not switch):
	 * the mode in force stays, even where one phase would charge */
	run(nodes, 1, ss, 1, a, m);
	expect_mode(m[0], THREE, 0);
	cr_expect_float_eq(a[0], 0, 1e-9);
	ogw_lb_session_set_mode(&ss[0], one(1));
	nodes[0] = site(32, 32, 32);
	run(nodes, 1, ss, 1, a, m);
	expect_mode(m[0], one(1), 0);
	cr_expect_float_eq(a[0], 16, 1e-9);
}

Test(phases, switching_lets_a_second_car_charge)
{
	/* 10 A per phase: on three phases only one car starts (6 + 6 > 10);
	 * on one phase each, on different lines, both charge */
	struct ogw_lb_node nodes[] = { site(10, 10, 10) };
	struct ogw_lb_session ss[] = { car(0, 16, true, 7), car(0, 16, true, 7) };
	struct ogw_lb_mode m[2];
	double a[2];

	ss[0].arrival = 1;
	ss[1].arrival = 2;
	cr_assert_eq(ogw_lb_allocate(&params, nodes, 1, ss, 2, a), 0);
	cr_assert(a[0] > 0 && a[1] == 0, "without switching: %.1f, %.1f", a[0], a[1]);
	run(nodes, 1, ss, 2, a, m);
	cr_expect(a[0] >= 6 && a[1] >= 6, "both charge: %.1f, %.1f", a[0], a[1]);
	cr_expect_eq(m[0].phases + m[1].phases, 2);
	cr_expect_neq(m[0].line, m[1].line);
}

Test(phases, a_car_that_does_not_switch_keeps_its_place)
{
	/* a priority car on one phase of L1 (a single-phase car) takes L1;
	 * a 3-phase car behind it cannot start on three phases (4 A left on
	 * L1), but on one phase of L2 it can */
	struct ogw_lb_node nodes[] = { site(10, 16, 16) };
	struct ogw_lb_session ss[] = { car(0, 16, false, 0), car(0, 16, true, 7) };
	struct ogw_lb_mode m[2];
	double a[2];

	ss[0].phases = 1;
	ss[0].priority = 1;
	ss[0].mode = one(0);
	run(nodes, 1, ss, 2, a, m);
	cr_expect_float_eq(a[0], 10, 1e-9);
	expect_mode(m[1], one(1), 1);
	cr_expect_float_eq(a[1], 16, 1e-9);
}

Test(phases, a_single_phase_car_moves_to_the_line_with_room)
{
	/* a car that took one phase when offered three (car_phases 1) draws on
	 * its charger's L1, where the building leaves 7 A; phaseToUse puts it
	 * on L3 with 25 A */
	struct ogw_lb_node nodes[] = { site(7, 12, 25) };
	struct ogw_lb_session ss[] = { car(0, 32, true, 7) };
	struct ogw_lb_mode m[1];
	double a[1];

	ss[0].car_phases = 1;
	ogw_lb_session_set_mode(&ss[0], THREE);
	cr_assert_eq(ss[0].phases, 1);
	run(nodes, 1, ss, 1, a, m);
	expect_mode(m[0], one(2), 0);
	cr_expect_float_eq(a[0], 25, 1e-9);
}

Test(phases, the_first_ranked_car_still_charges)
{
	/* 6 A per phase: the priority car alone fits on three phases; moved
	 * to one phase it still charges, and the other one starts beside it */
	struct ogw_lb_node nodes[] = { site(6, 6, 6) };
	struct ogw_lb_session ss[] = { car(0, 16, true, 7), car(0, 16, true, 7) };
	struct ogw_lb_mode m[2];
	double a[2];

	ss[0].priority = 1;
	run(nodes, 1, ss, 2, a, m);
	cr_expect(a[0] >= 6, "the priority car charges: %.1f", a[0]);
	cr_expect(a[1] >= 6, "so does the other one: %.1f", a[1]);
}

Test(phases, malformed_modes_are_refused)
{
	struct ogw_lb_node nodes[] = { site(10, 10, 10) };
	struct ogw_lb_session ss[] = { car(0, 16, true, 7) };
	struct ogw_lb_mode m[1];
	double a[1] = { 42 };

	ss[0].mode.phases = 2;
	cr_expect_eq(ogw_lb_allocate_phases(&params, nodes, 1, ss, 1, a, m), -EINVAL);
	ss[0].mode = one(3);
	cr_expect_eq(ogw_lb_allocate_phases(&params, nodes, 1, ss, 1, a, m), -EINVAL);
	ss[0].mode = THREE;
	ss[0].lines = 8;
	cr_expect_eq(ogw_lb_allocate_phases(&params, nodes, 1, ss, 1, a, m), -EINVAL);
	cr_expect_float_eq(a[0], 42, 1e-9, "ret_a untouched");
}

/* Random sites: whatever modes are chosen, no node's limit is broken on
 * any grid phase, and each session gets 0 or at least its minimum. */
Test(phases, limits_hold_over_random_sites)
{
	srand(17);
	for (int round = 0; round < 500; round++) {
		struct ogw_lb_node nodes[4];
		struct ogw_lb_session ss[8];
		struct ogw_lb_mode m[8];
		double a[8], sum[4][3] = { { 0 } };
		size_t nn = 1 + (size_t)(rand() % 4), n = 1 + (size_t)(rand() % 8);

		for (size_t v = 0; v < nn; v++) {
			nodes[v] = site(rand() % 40, rand() % 40, rand() % 40);
			nodes[v].parent = v ? rand() % (int)v : -1;
		}
		for (size_t i = 0; i < n; i++) {
			ss[i] = car((int)(rand() % (int)nn), 6 + rand() % 27, rand() % 2,
				    (unsigned int)(rand() % 8));
			ss[i].priority = rand() % 3;
			ss[i].arrival = rand() % 100;
			ss[i].car_phases = rand() % 4;
			ogw_lb_session_set_mode(&ss[i], rand() % 2 ? THREE : one(rand() % 3));
		}
		run(nodes, nn, ss, n, a, m);
		for (size_t i = 0; i < n; i++) {
			struct ogw_lb_session s = ss[i];
			cr_assert(a[i] == 0 || a[i] >= s.min_a - 1e-9, "round %d: %.1f", round, a[i]);
			if (s.may_switch)
				ogw_lb_session_set_mode(&s, m[i]);
			else
				cr_assert(m[i].phases == s.mode.phases && m[i].line == s.mode.line);
			for (int v = s.node; v >= 0; v = nodes[v].parent)
				for (int k = 0; k < s.phases; k++)
					sum[v][ogw_lb_session_grid_phase(&s, k)] += a[i];
		}
		for (size_t v = 0; v < nn; v++)
			for (int k = 0; k < 3; k++)
				cr_assert(sum[v][k] <= nodes[v].phase_a[k] + 1e-6,
					  "round %d node %zu L%d: %.1f > %.1f", round, v, k + 1,
					  sum[v][k], nodes[v].phase_a[k]);
	}
}
