/* SPDX-License-Identifier: MIT */
/*
 * The load-balancing allocator: a pure function from a tree of limits (site
 * -> groups -> chargers -> EVSEs) and the active charging sessions to a
 * current limit per session. It does no I/O, keeps no state and knows
 * nothing of OCPP; the gateway (src/features/balance/balance.c) feeds it
 * and sends the result. docs/LOAD_BALANCING.md describes the algorithm.
 *
 * Guarantees of ogw_lb_allocate() (checked by tests/unit/lb/):
 *  - on every node and every grid phase, the sum of the limits of the
 *    sessions below it never exceeds the node's limit;
 *  - each session gets 0 or at least its min_a, and never more than its
 *    max_a, its CSMS limit or (when it draws less than offered) its draw
 *    plus the headroom;
 *  - who waits at 0 is decided by priority, then arrival;
 *  - what remains is shared max-min fairly (water-filling), higher priority
 *    tiers first;
 *  - limits are rounded down to 0.1 A (OCPP: at most one decimal).
 */
#ifndef OCPPGW_LB_H
#define OCPPGW_LB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ocppgw/config.h"

#define OGW_LB_PHASES 3

/* A node of the limit tree. Parents come before their children. */
struct ogw_lb_node {
	int parent;           /* index of the parent node (< this one's), -1: a root */
	double limit_a;       /* A on each grid phase, < 0: none */
	double limit_w;       /* W over the node's phases, < 0: none */
	int phases;           /* 1-3: the W limit spreads over this many phases */
	bool per_phase;       /* phase_a holds a limit of its own per grid phase */
	double phase_a[OGW_LB_PHASES]; /* A on each grid phase beside limit_a/_w (the
	                                  lower applies), < 0: none; a grid meter's
	                                  headroom, which differs by phase */
};

/* How a charger offers its phases to a car: OCPP numberPhases and, with
 * one, the line (2.x phaseToUse). */
struct ogw_lb_mode {
	int phases;                   /* 1 or 3 */
	int line;                     /* with one phase: the EVSE's line, 0-2 (L1-L3) */
};

/* An active session on an EVSE. */
struct ogw_lb_session {
	int node;                     /* the EVSE's node (or its charger's) */
	int phases;                   /* phases the car draws on, 1-3 */
	int grid_phase[OGW_LB_PHASES];/* grid phase (0-2) of the EVSE's L1, L2, L3:
	                                 the charger's rotation, a permutation */
	double min_a;                 /* below this the car cannot charge (6 A) */
	double max_a;                 /* the most the EVSE/car takes */
	int priority;                 /* higher is served first */
	int64_t arrival;              /* earlier waits less among equal priorities */
	double measured_a[OGW_LB_PHASES]; /* draw on the EVSE's L1..L3, < 0 unknown */
	double offered_a;             /* the limit last sent to it, < 0 none */
	double csms_limit_a;          /* the CSMS's own limit, < 0 none */
	int line;                     /* the EVSE line (0-2) of its first phase: one
	                                 phase on line 2 is the EVSE's L3 */
	/* Phase switching (ogw_lb_allocate_phases): */
	bool may_switch;              /* its mode may change now: the charger switches
	                                 between 1 and 3 phases, and its last switch is
	                                 long enough ago */
	struct ogw_lb_mode mode;      /* the mode in force (phases 0: none) */
	int car_phases;               /* phases the car takes when offered three, 0:
	                                 unknown (three) */
	unsigned int lines;           /* lines one phase may go on, bit k: L(k+1);
	                                 0: L1 only (no phaseToUse) */
};

struct ogw_lb_params {
	double voltage;               /* nominal V per phase, for W limits (230) */
	double headroom_a;            /* margin over a car's draw when it takes
	                                 less than offered (2 A) */
};

/* A node's limit in A per phase (W converted at @p->voltage over its
 * phases), or a negative value when it has none. */
double ogw_lb_node_limit_a(const struct ogw_lb_params *p, const struct ogw_lb_node *n);

/* A node's limit on grid phase @k: ogw_lb_node_limit_a(), lowered to its
 * phase_a[k] where it has one; < 0: none. */
double ogw_lb_node_phase_limit_a(const struct ogw_lb_params *p, const struct ogw_lb_node *n,
				 int k);

/* The most session @s may get whatever the others do (max_a, the CSMS's
 * limit, its draw plus headroom when it takes less than offered). */
double ogw_lb_session_cap_a(const struct ogw_lb_params *p, const struct ogw_lb_session *s);

/*
 * Fills ret_a[0..n_sessions-1] with each session's limit in A per phase.
 * 0, or -EINVAL when the input is malformed (a parent after its child, a
 * node index out of range, phases outside 1-3, a rotation that is not a
 * permutation, min_a > max_a, a non-positive voltage); ret_a is then
 * untouched. -ENOMEM on allocation failure.
 */
int ogw_lb_allocate(const struct ogw_lb_params *p, const struct ogw_lb_node *nodes,
		    size_t n_nodes, const struct ogw_lb_session *sessions, size_t n_sessions,
		    double *ret_a);

/* The grid phase (0-2) of session @s's @k-th phase (k < s->phases). */
int ogw_lb_session_grid_phase(const struct ogw_lb_session *s, int k);

/* Puts @s in @mode: its phases and line follow (three phases: as many as
 * the car takes, from L1; one: on mode.line). */
void ogw_lb_session_set_mode(struct ogw_lb_session *s, struct ogw_lb_mode mode);

/*
 * ogw_lb_allocate(), where each session with may_switch may also be put on
 * three phases or one (on a line of its @lines): the modes that let the
 * most sessions charge, earlier ranks first (priority, then arrival),
 * and among those the most current summed over the phases in use. A mode
 * other than the one in force must gain at least the switching session's
 * min_a over all phases, so a small gain never switches a car. Fills
 * ret_a and ret_mode (the mode each session gets; without may_switch its
 * own) for each session. Errors as ogw_lb_allocate().
 */
int ogw_lb_allocate_phases(const struct ogw_lb_params *p, const struct ogw_lb_node *nodes,
			   size_t n_nodes, const struct ogw_lb_session *sessions,
			   size_t n_sessions, double *ret_a, struct ogw_lb_mode *ret_mode);

/*
 * The building's load a grid meter shows, filtered (A per grid phase):
 * what the meter measures (@meter_a) less the chargers' own draw
 * (@chargers_a), taken at once when it rises and half-way on each reading
 * when it falls, so a dip between two readings does not hand the chargers
 * current the next peak takes back. @load_a holds the previous value
 * (@first: none yet) and gets the new one.
 */
void ogw_lb_meter_load(double load_a[OGW_LB_PHASES], const double meter_a[OGW_LB_PHASES],
		       const double chargers_a[OGW_LB_PHASES], bool first);

/* The site limit the fuse leaves beside the building's @load_a on each grid
 * phase: the fuse less that phase's load, never below 0. */
void ogw_lb_meter_limits_a(double fuse_a, const double load_a[OGW_LB_PHASES],
			   double ret_a[OGW_LB_PHASES]);

/* meter.c: a polled grid meter's reading, decoded. */
/* How many 16-bit registers a value of @type takes (1 or 2). */
int ogw_lb_meter_words(enum ogw_meter_type type);
/* The value @r's registers hold (@words as received, ogw_lb_meter_words()
 * of them), times r->scale: 0 with *ret, or -EINVAL when it is no finite
 * number (a float32 NaN or infinity). */
int ogw_lb_meter_decode(const struct ogw_meter_regs *r, const uint16_t *words, double *ret);
/* The value RFC 6901 pointer @ptr names in @root ("" is @root itself), or
 * NULL when there is none (a missing member, an index out of range or not
 * a number, a malformed escape). Borrowed. */
const json_t *ogw_lb_json_pointer(const json_t *root, const char *ptr);

#endif
