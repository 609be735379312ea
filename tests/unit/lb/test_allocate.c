/* SPDX-License-Identifier: MIT */
/*
 * The allocator on hand-made sites: one phase, three phases, rotated
 * single-phase cars, more cars than the limit serves at minimum,
 * priorities, cars drawing less than offered, W limits and limit changes.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>

#include "ocppgw/lb.h"

static const struct ogw_lb_params params = { .voltage = 230, .headroom_a = 2 };

/* A car on @node using @phases phases, rotation L1L2L3, 6-32 A, nothing
 * measured, no CSMS limit. */
static struct ogw_lb_session car(int node, int phases)
{
	return (struct ogw_lb_session){
		.node = node, .phases = phases, .grid_phase = { 0, 1, 2 },
		.min_a = 6, .max_a = 32, .measured_a = { -1, -1, -1 },
		.offered_a = -1, .csms_limit_a = -1,
	};
}

static struct ogw_lb_node node(int parent, double limit_a)
{
	return (struct ogw_lb_node){ .parent = parent, .limit_a = limit_a, .limit_w = -1,
				     .phases = 3 };
}

static void run(const struct ogw_lb_node *nodes, size_t nn, const struct ogw_lb_session *ss,
		size_t n, double *out)
{
	cr_assert_eq(ogw_lb_allocate(&params, nodes, nn, ss, n, out), 0);
}

/* Runs the allocator and checks each session's limit against @want. */
#define EXPECT(nodes, ss, ...)                                                          \
	expect_alloc(nodes, sizeof(nodes) / sizeof(nodes[0]), ss,                       \
		     sizeof(ss) / sizeof(ss[0]), (const double[]){ __VA_ARGS__ })

static void expect_alloc(const struct ogw_lb_node *nodes, size_t nn,
			 const struct ogw_lb_session *ss, size_t n, const double *want)
{
	double got[16];

	cr_assert_leq(n, 16);
	cr_assert_eq(ogw_lb_allocate(&params, nodes, nn, ss, n, got), 0);
	for (size_t i = 0; i < n; i++)
		cr_expect_float_eq(got[i], want[i], 1e-9, "session %zu: got %.1f A, want %.1f A", i,
				   got[i], want[i]);
}

Test(lb, single_phase_shared_fairly)
{
	struct ogw_lb_node nodes[] = { node(-1, 40) };
	struct ogw_lb_session ss[] = { car(0, 1), car(0, 1), car(0, 1) };
	double a[3];

	run(nodes, 1, ss, 3, a);
	for (int i = 0; i < 3; i++)
		cr_assert_float_eq(a[i], 13.3, 1e-9, "car %d got %.1f", i, a[i]);
}

Test(lb, three_phase_limited_by_site_and_max)
{
	struct ogw_lb_node nodes[] = { node(-1, 50) };
	struct ogw_lb_session ss[] = { car(0, 3), car(0, 3) };

	EXPECT(nodes, ss, 25, 25);
	nodes[0].limit_a = 100;  /* plenty: each stops at its own max */
	EXPECT(nodes, ss, 32, 32);
}

Test(lb, rotated_single_phase_cars_fill_other_phases)
{
	/* 20 A per phase: a 3-phase car and two 1-phase cars, one of them on
	 * a charger wired L2L3L1 so its L1 lands on grid L2. */
	struct ogw_lb_node nodes[] = { node(-1, 20) };
	struct ogw_lb_session ss[] = { car(0, 3), car(0, 1), car(0, 1) };
	ss[2].grid_phase[0] = 1;
	ss[2].grid_phase[1] = 2;
	ss[2].grid_phase[2] = 0;

	/* grid L1 and L2 each carry the 3-phase car and one 1-phase car */
	EXPECT(nodes, ss, 10, 10, 10);
	/* Both single-phase cars on grid L1: they share L1, the 3-phase car
	 * is held by L1 too, and grid L2/L3 stay below the limit. */
	ss[2].grid_phase[0] = 0;
	ss[2].grid_phase[1] = 1;
	ss[2].grid_phase[2] = 2;
	EXPECT(nodes, ss, 6.6, 6.6, 6.6);
}

Test(lb, mixed_fleet_respects_groups)
{
	/* site 63 A, floor1 32 A (two 3-phase cars), floor2 unlimited (one
	 * 1-phase car on a charger wired L3L1L2) */
	struct ogw_lb_node nodes[] = { node(-1, 63), node(0, 32), node(0, -1), node(1, 32),
				       node(1, 32), node(2, 16) };
	struct ogw_lb_session ss[] = { car(3, 3), car(4, 3), car(5, 1) };
	ss[2].grid_phase[0] = 2;
	ss[2].grid_phase[1] = 0;
	ss[2].grid_phase[2] = 1;

	/* floor1 halved; the 1-phase car held by its EVSE's own limit */
	EXPECT(nodes, ss, 16, 16, 16);
}

Test(lb, more_cars_than_minimum_capacity_wait_by_arrival)
{
	struct ogw_lb_node nodes[] = { node(-1, 20) };
	struct ogw_lb_session ss[4];
	double a[4];

	for (int i = 0; i < 4; i++) {
		ss[i] = car(0, 3);
		ss[i].arrival = 100 - i;  /* the last one listed came first */
	}
	run(nodes, 1, ss, 4, a);
	/* three fit at 6 A: the one that came last (index 0) waits */
	cr_assert_float_eq(a[0], 0, 1e-9);
	for (int i = 1; i < 4; i++)
		cr_assert(a[i] >= 6 && a[i] <= 20 / 3.0 + 1e-9, "car %d: %.1f", i, a[i]);
}

Test(lb, priority_decides_who_waits_and_who_fills_first)
{
	struct ogw_lb_node nodes[] = { node(-1, 40) };
	struct ogw_lb_session ss[] = { car(0, 3), car(0, 3), car(0, 3) };

	ss[0].arrival = 1;
	ss[1].arrival = 2;
	ss[2].arrival = 3;
	ss[2].priority = 5;  /* came last but matters most */
	/* each gets 6; the priority car then takes up to its max before the
	 * others get more: 40 - 12 = 28 for it */
	EXPECT(nodes, ss, 6, 6, 28);
	nodes[0].limit_a = 13;  /* room for two at minimum */
	EXPECT(nodes, ss, 6, 0, 7);
}

Test(lb, car_drawing_less_gives_the_rest_back)
{
	struct ogw_lb_node nodes[] = { node(-1, 40) };
	struct ogw_lb_session ss[] = { car(0, 3), car(0, 3) };

	/* offered 20 A, drawing 8: it keeps 8 + 2 A headroom */
	ss[0].offered_a = 20;
	ss[0].measured_a[0] = 8;
	ss[0].measured_a[1] = 7.5;
	ss[0].measured_a[2] = 8;
	EXPECT(nodes, ss, 10, 30);
	/* drawing what it was offered: back to a fair share */
	ss[0].offered_a = 10;
	ss[0].measured_a[0] = ss[0].measured_a[1] = ss[0].measured_a[2] = 9.8;
	EXPECT(nodes, ss, 20, 20);
}

Test(lb, csms_limit_caps_and_can_pause)
{
	struct ogw_lb_node nodes[] = { node(-1, 40) };
	struct ogw_lb_session ss[] = { car(0, 3), car(0, 3) };

	ss[0].csms_limit_a = 10;
	EXPECT(nodes, ss, 10, 30);
	ss[0].csms_limit_a = 4;  /* below the minimum: pause, not 4 A */
	EXPECT(nodes, ss, 0, 32);
}

Test(lb, watt_limits_convert_per_phase)
{
	/* 22 kW over 3 phases at 230 V: 31.88 A per phase */
	struct ogw_lb_node nodes[] = { { .parent = -1, .limit_a = -1, .limit_w = 22000,
					 .phases = 3 } };
	struct ogw_lb_session ss[] = { car(0, 3), car(0, 3) };

	cr_assert_float_eq(ogw_lb_node_limit_a(&params, &nodes[0]), 22000 / 690.0, 1e-9);
	EXPECT(nodes, ss, 15.9, 15.9);
}

Test(lb, limit_changes_follow)
{
	struct ogw_lb_node nodes[] = { node(-1, 64) };
	struct ogw_lb_session ss[] = { car(0, 3), car(0, 3) };

	EXPECT(nodes, ss, 32, 32);
	nodes[0].limit_a = 30;
	EXPECT(nodes, ss, 15, 15);
	nodes[0].limit_a = 11;  /* one at minimum: equal rank, the first listed */
	EXPECT(nodes, ss, 11, 0);
	nodes[0].limit_a = 0;
	EXPECT(nodes, ss, 0, 0);
}

Test(lb, malformed_input_is_refused)
{
	struct ogw_lb_node nodes[] = { node(-1, 64), node(0, 32) };
	struct ogw_lb_session ss[] = { car(1, 3) };
	double a[1] = { 42 };

	nodes[0].parent = 1;
	cr_assert_eq(ogw_lb_allocate(&params, nodes, 2, ss, 1, a), -EINVAL);
	nodes[0].parent = -1;
	ss[0].grid_phase[1] = 0;  /* not a permutation */
	cr_assert_eq(ogw_lb_allocate(&params, nodes, 2, ss, 1, a), -EINVAL);
	ss[0] = car(2, 3);
	cr_assert_eq(ogw_lb_allocate(&params, nodes, 2, ss, 1, a), -EINVAL);
	ss[0] = car(1, 3);
	ss[0].min_a = 40;
	cr_assert_eq(ogw_lb_allocate(&params, nodes, 2, ss, 1, a), -EINVAL);
	cr_assert_float_eq(a[0], 42, 0);
	cr_assert_eq(ogw_lb_allocate(&params, nodes, 2, NULL, 0, a), 0);
}

/* The grid meter: the building's load is the meter less the chargers,
 * taken at once when it rises, half-way per reading when it falls; the
 * site keeps the fuse less the load on each phase. */
Test(lb_meter, load_rises_at_once_falls_slowly)
{
	double load[3], lim[3];
	const double chargers[3] = { 20, 20, 0 };

	ogw_lb_meter_load(load, (const double[]){ 30, 25, 12 }, chargers, true);
	cr_assert_float_eq(load[0], 10, 1e-9);
	cr_assert_float_eq(load[1], 5, 1e-9);
	cr_assert_float_eq(load[2], 12, 1e-9);
	ogw_lb_meter_limits_a(40, load, lim);
	cr_assert_float_eq(lim[0], 30, 1e-9, "40 A less L1's 10 A");
	cr_assert_float_eq(lim[1], 35, 1e-9, "40 A less L2's 5 A");
	cr_assert_float_eq(lim[2], 28, 1e-9, "40 A less L3's 12 A");
	/* L1 jumps to 30 A of building load: at once */
	ogw_lb_meter_load(load, (const double[]){ 50, 25, 12 }, chargers, false);
	cr_assert_float_eq(load[0], 30, 1e-9);
	ogw_lb_meter_limits_a(40, load, lim);
	cr_assert_float_eq(lim[0], 10, 1e-9);
	cr_assert_float_eq(lim[2], 28, 1e-9, "the other phases keep theirs");
	/* and drops back to 10 A: half-way per reading */
	ogw_lb_meter_load(load, (const double[]){ 30, 25, 12 }, chargers, false);
	cr_assert_float_eq(load[0], 20, 1e-9);
	ogw_lb_meter_load(load, (const double[]){ 30, 25, 12 }, chargers, false);
	cr_assert_float_eq(load[0], 15, 1e-9);
	/* a building over the fuse leaves nothing, never a negative limit */
	ogw_lb_meter_load(load, (const double[]){ 90, 25, 12 }, chargers, false);
	ogw_lb_meter_limits_a(40, load, lim);
	cr_assert_float_eq(lim[0], 0, 1e-9);
	/* export (negative grid current) leaves more than the fuse */
	ogw_lb_meter_load(load, (const double[]){ -10, -10, -10 }, (const double[]){ 0, 0, 0 }, true);
	ogw_lb_meter_limits_a(40, load, lim);
	cr_assert_float_eq(lim[1], 50, 1e-9);
}
