/* SPDX-License-Identifier: MIT */
/*
 * Site load balancing, the gateway's side: builds the limit tree and the
 * active sessions from the configuration (conf.lb) and each charger's state
 * (s->cs), runs the allocator (src/lb/), and sends each charger its limits
 * as SetChargingProfile in its own OCPP version, answered to the gateway
 * and never forwarded. It also records the CSMS's own profiles (an
 * observer) so no limit it sends exceeds the CSMS's, and keeps a failsafe
 * Max profile on every charger. A dynamic site limit (admin API, MQTT via
 * balance_mqtt.c) caps the site below its configured limit. It talks only
 * to chargers, so it goes on while the uplink is down.
 * docs/LOAD_BALANCING.md describes the rules.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ocppgw/lb.h"
#include "ocppgw/log.h"
#include "ocppgw/util.h"
#include "features/balance/balance.h"
#include "features/events/events.h"
#include "features/state/state.h"
#include "session/session.h"

/* Our profile ids: far above what a CSMS numbers from 1, one per purpose
 * and EVSE, so ours never replace each other or the CSMS's by id. */
#define ID_MAX_PROFILE 770000000
#define ID_TX_DEFAULT (ID_MAX_PROFILE + 100)
#define ID_TX (ID_MAX_PROFILE + 200)
#define N_EVSE (OGW_STATE_MAX_EVSE + 1)
#define KICK_MS 50              /* coalesces the events of one burst */
#define FAILSAFE_AFTER_S 60     /* a Max profile falls to the failsafe share
                                   this long after it was sent */
#define NO_LIMIT (-1.0)
#define RETRY_US (60 * 1000000ull)  /* after a profile was refused or unanswered */

/* A CSMS profile as the charger got it, kept to evaluate it over time. */
struct csms_profile {
	json_t *body;               /* csChargingProfiles (1.6) / chargingProfile (2.x) */
	bool tx;                    /* purpose TxProfile */
	time_t received;
};

struct bal_evse {
	struct csms_profile csms;   /* its Tx or TxDefault profile from the CSMS */
	double sent_a;              /* the limit we last sent, < 0: none */
	bool sent_tx;               /* ... as a TxProfile (else TxDefaultProfile) */
	char sent_tx_id[40];        /* ... for that transaction */
	uint64_t sent_us;
	uint64_t retry_us;          /* refused: not again before this */
	double measured_ref[3];     /* draw when last allocated, for min_change */
	int csms_priority;          /* 2.x chargingPriority the CSMS gave ... */
	char priority_tx[40];       /* ... this transaction, "" none */
	struct ogw_lb_mode sent_mode;  /* phases (and line) last told, phases 0: none */
	uint64_t switched_us;       /* the last phase switch told, 0: none */
	time_t switched_at;         /* ... in wall time: readings before it are stale */
	int car_phases;             /* phases the car took when offered three ... */
	char car_tx[40];            /* ... in this transaction, "" none */
};

/* Per session (balance_of(s)). */
struct ogw_balance_charger {
	struct bal_evse evse[N_EVSE];
	struct csms_profile csms_default;  /* TxDefault for connector/EVSE 0 */
	struct csms_profile csms_max;      /* ChargePointMax / StationMax / External */
	bool ready;                 /* boot accepted: the charger takes our calls */
	bool level_asked;           /* its ChargeProfileMaxStackLevel was asked for */
	bool level_known;           /* ... and answered (or not): profiles may go */
	int max_level;              /* ... as it answered, < 0: unknown */
	bool no_external;           /* 2.x: refused ChargingStationExternalConstraints */
	char asked_tx[40];          /* the TransactionEvent awaiting its answer */
	double failsafe_a;          /* share sent in the Max profile, < 0: none */
	uint64_t failsafe_us;
	uint64_t failsafe_retry_us; /* refused: not again before this */
};

/* What a node of the last allocation was, for the site JSON. */
enum node_kind { NODE_SITE, NODE_GROUP, NODE_CHARGER, NODE_EVSE };

static const char *const node_kinds[] = { "site", "group", "charger", "evse" };

struct node_meta {
	enum node_kind kind;
	char name[65];              /* group name (<= 64) / charger id (<= 48); "" else */
	int evse;                   /* EVSE id */
	const struct ogw_lb_charger_conf *conf;  /* chargers: valid during a run only */
	struct ogw_session *s;      /* chargers: connected session, during a run only */
	double measured[3];         /* EVSE: draw by grid phase */
	double target_a;            /* EVSE: the limit it should have, < 0: none */
	double csms_a;              /* EVSE: the CSMS's limit, < 0: none */
	double failsafe_a;          /* charger: its failsafe share */
	bool active;                /* EVSE: has a transaction */
	struct ogw_lb_mode mode;    /* EVSE: the phases (and line) to tell */
};

struct tree {
	struct ogw_lb_node *nodes;
	struct node_meta *meta;
	size_t n, cap;
	struct ogw_lb_session *ss;
	int *ss_node;
	double *alloc;
	struct ogw_lb_mode *mode;   /* per session: its phases (and line) */
	size_t n_ss;
};

struct ogw_balance {
	struct ogw_gateway *gw;
	lws_sorted_usec_list_t sul;
	uint64_t due_us;            /* the tick scheduled, 0: none */
	double dynamic_a;           /* external site limit, < 0: none */
	int stack_level;            /* of what was sent, -1: balancing off */
	unsigned int lowering;      /* lowering calls in flight: raises wait */
	bool emitting;              /* our own call passes the observers */
	struct tree last;           /* the last allocation, for the JSON */
	time_t last_run;
	double meter_load[3];       /* the building's load by grid phase (filtered) */
	uint64_t meter_us;          /* its last good reading, 0: none yet */
	bool meter_silent;          /* the fail-safe is in force (logged once) */
};

/* Chargers that connect without being configured: balanced under the site. */
static const struct ogw_lb_charger_conf default_charger = {
	.lim = { .limit_a = NO_LIMIT, .limit_w = NO_LIMIT, .phases = 3 },
	.rotation = { 0, 1, 2 },
	.min_a = 6,
	.max_a = 32,
};

static const struct ogw_lb_conf *lb_conf(const struct ogw_gateway *gw)
{
	const struct ogw_lb_conf *lb = gw->conf.lb;
	return lb && lb->enabled ? lb : NULL;
}

/* ---- timing --------------------------------------------------------------- */

static void tick(lws_sorted_usec_list_t *sul);

/* Runs the allocation within @ms (an earlier request wins). */
static void kick(struct ogw_gateway *gw, unsigned int ms)
{
	struct ogw_balance *b = gw->balance;
	uint64_t due = ogw_now_us() + (uint64_t)ms * 1000;

	if (!b || !gw->ctx || gw->stopping || !lb_conf(gw) || (b->due_us && b->due_us <= due))
		return;
	b->due_us = due;
	lws_sul_schedule(gw->ctx, 0, &b->sul, tick, (lws_usec_t)ms * 1000);
	/* lws (4.1, on libuv) re-arms its timer only when it services an
	 * event: a kick from outside its callbacks (a meter reading handed
	 * over by uv_async, an MQTT message) would otherwise wait for the
	 * next socket event or the periodic run */
	lws_cancel_service(gw->ctx);
}

/* ---- time and limits ------------------------------------------------------ */

static struct ogw_lb_node node_of(const struct ogw_lb_limit *l, int parent, int minute)
{
	struct ogw_lb_node n = { .parent = parent, .phases = l->phases };

	n.limit_a = ogw_lb_limit_at(l, minute, &n.limit_w);
	return n;
}

static double min_limit(double a, double b)
{
	if (a < 0)
		return b;
	return b < 0 || a < b ? a : b;
}

static double csms_limit_now(const struct csms_profile *p, bool v16, time_t now,
			     int64_t tx_started, double voltage)
{
	return ogw_balance_profile_limit(p->body, v16, now, p->received, tx_started, voltage);
}

/* ---- the CSMS's profiles (an observer) -------------------------------------- */

static void csms_set(struct csms_profile *p, const json_t *body, bool tx)
{
	json_decref(p->body);
	p->body = json_deep_copy(body);
	p->tx = tx;
	p->received = time(NULL);
}

static void csms_clear(struct csms_profile *p)
{
	json_decref(p->body);
	memset(p, 0, sizeof(*p));
}

/* The session's balancer state in its stage slot; NULL until it needs one. */
static struct ogw_balance_charger *balance_of(const struct ogw_session *s)
{
	struct ogw_balance_charger **slot = ogw_session_state(s, &ogw_balance_stage);
	return *slot;
}

static struct ogw_balance_charger *charger_of(struct ogw_session *s)
{
	struct ogw_balance_charger **slot = ogw_session_state(s, &ogw_balance_stage);
	if (!*slot) {
		struct ogw_balance_charger *bc = calloc(1, sizeof(*bc));
		if (!bc)
			return NULL;
		bc->failsafe_a = NO_LIMIT;
		bc->max_level = -1;
		for (int i = 0; i < N_EVSE; i++)
			bc->evse[i].sent_a = NO_LIMIT;
		*slot = bc;
	}
	return *slot;
}

/*
 * The stack level of our profiles on @s: the top one the charger allows
 * (ChargeProfileMaxStackLevel), so no CSMS profile of the same purpose
 * can sit above ours (those at the top are moved one below it:
 * balance_on_relay); the configured one until the charger said.
 */
static int level_of(const struct ogw_session *s)
{
	const struct ogw_balance_charger *bc = balance_of(s);

	return bc && bc->max_level >= 0 ? bc->max_level : s->gw->conf.lb->stack_level;
}

int ogw_balance_stack_level(const struct ogw_session *s)
{
	return lb_conf(s->gw) ? level_of(s) : -1;
}

static bool purpose_is(const char *purpose, const char *const *names)
{
	for (; purpose && *names; names++)
		if (!strcmp(purpose, *names))
			return true;
	return false;
}

static const char *const max_purposes[] = {
	"ChargePointMaxProfile", "ChargingStationMaxProfile",
	"ChargingStationExternalConstraints", NULL,
};

static void record_set(struct ogw_session *s, struct ogw_balance_charger *bc, const json_t *p)
{
	bool v16 = s->south.ver == OGW_OCPP16;
	const json_t *body = json_object_get(p, v16 ? "csChargingProfiles" : "chargingProfile");
	json_int_t evse = json_integer_value(json_object_get(p, v16 ? "connectorId" : "evseId"));
	const char *purpose = json_string_value(json_object_get(body, "chargingProfilePurpose"));

	if (!body || evse < 0 || evse >= N_EVSE)
		return;
	if (purpose_is(purpose, max_purposes))
		csms_set(&bc->csms_max, body, false);
	else if (evse == 0)
		csms_set(&bc->csms_default, body, false);
	else
		csms_set(&bc->evse[evse].csms, body, purpose && !strcmp(purpose, "TxProfile"));
}

/* ClearChargingProfile: by id, or by evse/purpose/stack level; no
 * criterion at all clears every profile. */
static bool clear_matches(const struct csms_profile *p, bool v16, int evse, int this_evse,
			  json_int_t id, const char *purpose)
{
	const char *id_key = v16 ? "chargingProfileId" : "id";
	const char *pp;

	if (!p->body)
		return false;
	if (id >= 0)
		return json_integer_value(json_object_get(p->body, id_key)) == id;
	pp = json_string_value(json_object_get(p->body, "chargingProfilePurpose"));
	return (evse < 0 || evse == this_evse) && (!purpose || (pp && !strcmp(purpose, pp)));
}

static const char *const our_evse_purposes[] = {
	"TxDefaultProfile", "TxProfile", "ChargingStationExternalConstraints", NULL,
};
static const char *const external_purpose[] = { "ChargingStationExternalConstraints", NULL };

/*
 * 2.x: our limits are ChargingStationExternalConstraints, which the
 * charger combines with the CSMS's Max and Tx/TxDefault as a minimum
 * (2.0.1 K01), whatever their stack levels; a charger that refuses that
 * purpose gets TxDefault/Tx and Max like a 1.6 one.
 */
static bool external(const struct ogw_session *s)
{
	const struct ogw_balance_charger *bc = balance_of(s);

	return s->south.ver != OGW_OCPP16 && !(bc && bc->no_external);
}

bool ogw_balance_clear_hits_ours(const json_t *req, bool v16, int stack_level)
{
	const json_t *crit = v16 ? req : json_object_get(req, "chargingProfileCriteria");
	const json_t *idv = json_object_get(req, v16 ? "id" : "chargingProfileId");
	const json_t *ev = json_object_get(crit, v16 ? "connectorId" : "evseId");
	const json_t *lv = json_object_get(crit, "stackLevel");
	const char *purpose = json_string_value(json_object_get(crit, "chargingProfilePurpose"));

	if (json_is_integer(idv))
		return json_integer_value(idv) >= ID_MAX_PROFILE &&
		       json_integer_value(idv) < ID_TX + N_EVSE;
	if (json_is_integer(lv) && json_integer_value(lv) != stack_level)
		return false;
	if (!purpose || purpose_is(purpose, external_purpose))
		return true;  /* 2.x: external constraints on EVSE 0 and the others */
	/* ours: the Max profile on EVSE 0, Tx / TxDefault on EVSEs above 0 */
	if (purpose_is(purpose, max_purposes))
		return !json_is_integer(ev) || json_integer_value(ev) == 0;
	return purpose_is(purpose, our_evse_purposes) &&
	       (!json_is_integer(ev) || json_integer_value(ev) > 0);
}

static void record_clear(struct ogw_session *s, struct ogw_balance_charger *bc, const json_t *p)
{
	bool v16 = s->south.ver == OGW_OCPP16;
	const json_t *crit = v16 ? p : json_object_get(p, "chargingProfileCriteria");
	const json_t *idv = json_object_get(p, v16 ? "id" : "chargingProfileId");
	const json_t *ev = json_object_get(crit, v16 ? "connectorId" : "evseId");
	json_int_t id = json_is_integer(idv) ? json_integer_value(idv) : -1;
	int evse = json_is_integer(ev) ? (int)json_integer_value(ev) : -1;
	const char *purpose = json_string_value(json_object_get(crit, "chargingProfilePurpose"));

	if (clear_matches(&bc->csms_max, v16, evse, 0, id, purpose))
		csms_clear(&bc->csms_max);
	if (clear_matches(&bc->csms_default, v16, evse, 0, id, purpose))
		csms_clear(&bc->csms_default);
	for (int i = 1; i < N_EVSE; i++)
		if (clear_matches(&bc->evse[i].csms, v16, evse, i, id, purpose))
			csms_clear(&bc->evse[i].csms);
}

/* A draw change of at least min_change on any phase of any EVSE. */
static bool draw_moved(struct ogw_session *s, const struct ogw_balance_charger *bc, double min)
{
	for (int i = 0; i < ogw_state_of(s)->n_evse; i++) {
		const struct ogw_evse_state *e = &ogw_state_of(s)->evse[i];
		for (int k = 0; k < 3; k++)
			if (fabs(fmax(e->current_a[k], 0) - bc->evse[e->id].measured_ref[k]) >= min)
				return true;
	}
	return false;
}

bool ogw_balance_charging_priority(const json_t *res, int *ret_priority)
{
	/* 2.0.1 TransactionEventResponse: the top-level chargingPriority
	 * overrules the one in idTokenInfo */
	const json_t *p = json_object_get(res, "chargingPriority");

	if (!json_is_integer(p))
		p = json_object_get(json_object_get(res, "idTokenInfo"), "chargingPriority");
	if (!json_is_integer(p) || json_integer_value(p) < -9 || json_integer_value(p) > 9)
		return false;
	*ret_priority = (int)json_integer_value(p);
	return true;
}

/* The CSMS's chargingPriority for the transaction of the TransactionEvent
 * just answered: the session's priority in the allocator from now. */
static bool record_priority(struct ogw_session *s, struct ogw_balance_charger *bc,
			    const json_t *res)
{
	int prio;

	if (!bc->asked_tx[0] || !ogw_balance_charging_priority(res, &prio))
		return false;
	for (int i = 0; i < ogw_state_of(s)->n_evse; i++) {
		const struct ogw_evse_state *e = &ogw_state_of(s)->evse[i];
		if (e->id >= N_EVSE || strcmp(e->tx_id, bc->asked_tx) != 0)
			continue;
		bc->evse[e->id].csms_priority = prio;
		snprintf(bc->evse[e->id].priority_tx, sizeof(bc->evse[e->id].priority_tx), "%s",
			 e->tx_id);
	}
	return true;
}

static const char *const tx_actions[] = {
	"StartTransaction", "StopTransaction", "TransactionEvent", "StatusNotification", NULL,
};

static void balance_observe(struct ogw_session *s, enum ogw_obs what, const char *action,
			 const json_t *payload)
{
	struct ogw_gateway *gw = s->gw;
	const struct ogw_lb_conf *lb = lb_conf(gw);
	struct ogw_balance_charger *bc;

	if (!lb || !gw->balance || gw->balance->emitting || !(bc = charger_of(s)))
		return;
	if (what == OGW_OBS_DOWN_CALL && !strcmp(action, "SetChargingProfile")) {
		record_set(s, bc, payload);
		kick(gw, KICK_MS);
	} else if (what == OGW_OBS_DOWN_CALL && !strcmp(action, "ClearChargingProfile")) {
		record_clear(s, bc, payload);
		kick(gw, KICK_MS);
	} else if (what == OGW_OBS_UP_RESULT && !strcmp(action, "BootNotification")) {
		const char *st = json_string_value(json_object_get(payload, "status"));
		bc->ready = st && !strcmp(st, "Accepted");
		kick(gw, KICK_MS);
	} else if (what == OGW_OBS_UP_RESULT && !strcmp(action, "TransactionEvent")) {
		if (record_priority(s, bc, payload))
			kick(gw, KICK_MS);
	} else if (what == OGW_OBS_UP_CALL && strcmp(action, "BootNotification") != 0) {
		/* the charger waits for each answer: this is the one the next
		 * TransactionEvent result answers */
		if (!strcmp(action, "TransactionEvent")) {
			const char *tx = json_string_value(json_object_get(
				json_object_get(payload, "transactionInfo"), "transactionId"));
			snprintf(bc->asked_tx, sizeof(bc->asked_tx), "%s", tx ? tx : "");
		}
		/* anything else means the charger booted before we saw it */
		bool was = bc->ready;
		bc->ready = true;
		if (!was || purpose_is(action, tx_actions) ||
		    draw_moved(s, bc, lb->min_change_a))
			kick(gw, KICK_MS);
	} else if (what == OGW_OBS_UP_RESULT && !strcmp(action, "StartTransaction")) {
		kick(gw, KICK_MS);
	}
}

static bool balance_needs_request(const char *action, const json_t *req)
{
	(void)req;
	return !strcmp(action, "ClearChargingProfile");
}

/* Everything we keep on the charger goes out again at once. */
static void resend_now(struct ogw_session *s, struct ogw_balance_charger *bc)
{
	for (int i = 0; i < N_EVSE; i++) {
		bc->evse[i].sent_a = NO_LIMIT;
		bc->evse[i].retry_us = 0;
	}
	bc->failsafe_a = NO_LIMIT;
	bc->failsafe_retry_us = 0;
	kick(s->gw, 0);
}

/*
 * A ClearChargingProfile cannot say "all but the balancer's", so one that
 * may have taken ours off (no criteria, or criteria matching our stack
 * level / purpose / ids) is forwarded as the CSMS sent it, and once the
 * charger accepted it, everything we keep there is sent again at once.
 */
static void balance_observe_answer(struct ogw_session *s, const char *action, const json_t *req,
				   const json_t *res)
{
	const struct ogw_lb_conf *lb = lb_conf(s->gw);
	struct ogw_balance_charger *bc = balance_of(s);
	const char *st = json_string_value(json_object_get(res, "status"));

	if (!lb || !bc || !req || strcmp(action, "ClearChargingProfile") != 0 || !st ||
	    strcmp(st, "Accepted") != 0 ||
	    !ogw_balance_clear_hits_ours(req, s->south.ver == OGW_OCPP16, level_of(s)))
		return;
	struct ogw_log_ctx lc = { s->id, "south", action, NULL };
	ogw_info(&lc, "load balancing: the CSMS's clear may have removed ours; sending again");
	resend_now(s, bc);
}

/*
 * A CSMS profile of a purpose we use, at our stack level or above, would
 * replace ours or win over it (OCPP 1.6 §3.13.2, 2.0.1 K01): it goes one
 * level below ours. Its limit still counts: our target never exceeds the
 * CSMS's (evse_csms_limit), so only the order changes, not its meaning.
 */
static enum ogw_stage_verdict balance_on_relay(struct ogw_leg *from, struct ogw_leg *to,
					       const struct ogw_frame *f, const char *action,
					       json_t *payload, const struct ogw_tr_action *entry,
					       json_t *memo)
{
	(void)from, (void)f, (void)entry, (void)memo;
	if (to->kind != OGW_SOUTH || strcmp(action, "SetChargingProfile") != 0 ||
	    !lb_conf(to->s->gw) || !balance_of(to->s))
		return OGW_STAGE_CONTINUE;
	bool v16 = to->ver == OGW_OCPP16;
	json_t *body = json_object_get(payload, v16 ? "csChargingProfiles" : "chargingProfile");
	const char *purpose = json_string_value(json_object_get(body, "chargingProfilePurpose"));
	json_int_t at = json_integer_value(json_object_get(body, "stackLevel"));
	int level = level_of(to->s);

	bool ours = external(to->s) ? purpose_is(purpose, external_purpose) :
		    purpose_is(purpose, our_evse_purposes) || purpose_is(purpose, max_purposes);

	if (level <= 0 || at < level || !ours)
		return OGW_STAGE_CONTINUE;
	struct ogw_log_ctx lc = { to->s->id, "south", action, NULL };
	ogw_info(&lc, "load balancing: the CSMS's %s at stack level %lld goes to %d, below ours",
		 purpose, (long long)at, level - 1);
	json_object_set_new(body, "stackLevel", json_integer(level - 1));
	return OGW_STAGE_CHANGED;
}

static void balance_session_free(struct ogw_session *s)
{
	struct ogw_balance_charger *bc = balance_of(s);

	if (!bc)
		return;
	csms_clear(&bc->csms_max);
	csms_clear(&bc->csms_default);
	for (int i = 0; i < N_EVSE; i++)
		csms_clear(&bc->evse[i].csms);
	free(bc);
	*(struct ogw_balance_charger **)ogw_session_state(s, &ogw_balance_stage) = NULL;
	/* its cars are gone: the others may get more */
	kick(s->gw, KICK_MS);
}

const struct ogw_stage ogw_balance_stage = {
	.name = "balance",
	.state_size = sizeof(struct ogw_balance_charger *),  /* made when balancing needs it */
	.on_session_free = balance_session_free,
	.observe = balance_observe,    /* after the charger state's: it reads it */
	.observe_answer = balance_observe_answer,
	.on_relay = balance_on_relay,
	.needs_request = balance_needs_request,
};

/* ---- the tree ------------------------------------------------------------- */

static void tree_free(struct tree *t)
{
	free(t->nodes);
	free(t->meta);
	free(t->ss);
	free(t->ss_node);
	free(t->alloc);
	free(t->mode);
	memset(t, 0, sizeof(*t));
}

static int tree_add(struct tree *t, struct ogw_lb_node n, enum node_kind kind, const char *name)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct ogw_lb_node *nn = realloc(t->nodes, cap * sizeof(*nn));
		if (nn)
			t->nodes = nn;
		struct node_meta *nm = realloc(t->meta, cap * sizeof(*nm));
		if (nm)
			t->meta = nm;
		if (!nn || !nm)
			return -ENOMEM;
		t->cap = cap;
	}
	t->nodes[t->n] = n;
	memset(&t->meta[t->n], 0, sizeof(t->meta[t->n]));
	t->meta[t->n].kind = kind;
	snprintf(t->meta[t->n].name, sizeof(t->meta[t->n].name), "%s", name ? name : "");
	t->meta[t->n].target_a = NO_LIMIT;
	t->meta[t->n].csms_a = NO_LIMIT;
	t->meta[t->n].mode.phases = n.phases;
	return (int)t->n++;
}

/* The EVSE's state if the charger reported it (never creates one). */
static struct ogw_evse_state *evse_find(struct ogw_session *s, int id)
{
	for (int i = 0; s && i < ogw_state_of(s)->n_evse; i++)
		if (ogw_state_of(s)->evse[i].id == id)
			return &ogw_state_of(s)->evse[i];
	return NULL;
}

static bool session_live(const struct ogw_session *s)
{
	return s && s->state == OGW_SESSION_ACTIVE && s->south.state == OGW_LEG_UP;
}

static int local_minute(time_t now)
{
	struct tm tm;

	if (!localtime_r(&now, &tm))
		return 0;
	return tm.tm_hour * 60 + tm.tm_min;
}

static bool meter_fresh(const struct ogw_gateway *gw)
{
	const struct ogw_balance *b = gw->balance;

	return b->meter_us && ogw_now_us() - b->meter_us <
	       (uint64_t)gw->conf.lb->meter_timeout_s * 1000000;
}

/* What the grid meter leaves the chargers on each grid phase (A, < 0: no
 * limit of its own): the fuse less the building's load on that phase;
 * while the meter is silent, the fail-safe on all three (safe_a, else
 * nothing beyond the configured limit). */
static void meter_limit(const struct ogw_gateway *gw, double ret_a[3])
{
	const struct ogw_lb_conf *lb = gw->conf.lb;

	if (lb->meter_fuse_a >= 0 && meter_fresh(gw)) {
		ogw_lb_meter_limits_a(lb->meter_fuse_a, gw->balance->meter_load, ret_a);
		return;
	}
	for (int k = 0; k < 3; k++)
		ret_a[k] = lb->meter_fuse_a < 0 ? NO_LIMIT : lb->meter_safe_a;
}

/* The site node's limit: the configuration (schedule) and the dynamic one
 * on every phase, the grid meter's on each phase. */
static struct ogw_lb_node site_node(const struct ogw_gateway *gw, int minute)
{
	struct ogw_lb_params p = { .voltage = gw->conf.lb->voltage };
	struct ogw_lb_node n = node_of(&gw->conf.lb->site, -1, minute);

	if (gw->balance->dynamic_a >= 0) {
		n.limit_a = min_limit(ogw_lb_node_limit_a(&p, &n), gw->balance->dynamic_a);
		n.limit_w = NO_LIMIT;
	}
	meter_limit(gw, n.phase_a);
	n.per_phase = gw->conf.lb->meter_fuse_a >= 0;
	return n;
}

/* The meter's fail-safe comes and goes in one place, logged once each way. */
static void meter_follow(struct ogw_gateway *gw)
{
	struct ogw_balance *b = gw->balance;
	const struct ogw_lb_conf *lb = gw->conf.lb;
	bool silent = lb->meter_fuse_a >= 0 && !meter_fresh(gw);

	if (silent == b->meter_silent)
		return;
	b->meter_silent = silent;
	if (silent && lb->meter_safe_a >= 0) {
		ogw_warn(NULL, "load balancing: grid meter silent for %d s: fail-safe site limit "
			 "%.1f A per phase", lb->meter_timeout_s, lb->meter_safe_a);
		ogw_events_note(gw, NULL, "meter", "grid meter silent for %d s: fail-safe site "
				"limit %.1f A per phase", lb->meter_timeout_s, lb->meter_safe_a);
	} else if (silent) {
		ogw_warn(NULL, "load balancing: grid meter silent for %d s: the configured site "
			 "limit alone applies", lb->meter_timeout_s);
		ogw_events_note(gw, NULL, "meter", "grid meter silent for %d s: the configured "
				"site limit alone applies", lb->meter_timeout_s);
	} else {
		ogw_info(NULL, "load balancing: grid meter back, fail-safe over");
		ogw_events_note(gw, NULL, "meter", "grid meter back, fail-safe over");
	}
}

int ogw_balance_set_meter(struct ogw_gateway *gw, const double amps[3], char *err, size_t errlen)
{
	const struct ogw_lb_conf *lb = lb_conf(gw);
	struct ogw_balance *b = gw->balance;
	double chargers[3] = { 0, 0, 0 };

	if (!lb || !b || lb->meter_fuse_a < 0) {
		snprintf(err, errlen, "no grid meter is configured");
		return -EINVAL;
	}
	for (int k = 0; k < 3; k++) {
		/* negative: the site exports; beyond ten fuses: not a reading */
		if (!isfinite(amps[k]) || fabs(amps[k]) > 10 * lb->meter_fuse_a) {
			snprintf(err, errlen, "L%d: %g A is not a grid current under a %.1f A fuse",
				 k + 1, amps[k], lb->meter_fuse_a);
			return -EINVAL;
		}
	}
	/* the chargers' draw as of the last run, by grid phase */
	for (size_t v = 0; v < b->last.n; v++)
		if (b->last.meta[v].kind == NODE_EVSE)
			for (int k = 0; k < 3; k++)
				chargers[k] += b->last.meta[v].measured[k];
	ogw_lb_meter_load(b->meter_load, amps, chargers, !meter_fresh(gw));
	b->meter_us = ogw_now_us();
	kick(gw, KICK_MS);
	return 0;
}

static int add_charger(struct tree *t, const struct ogw_gateway *gw, int parent,
		       const struct ogw_lb_charger_conf *ch, const char *id, int minute,
		       time_t now)
{
	struct ogw_session *s = ogw_session_find((struct ogw_gateway *)gw, id);
	struct ogw_lb_node n = node_of(&ch->lim, parent, minute);
	int at;

	if (!session_live(s))
		s = NULL;
	if (s && balance_of(s)) {
		/* the CSMS's Max profile caps the whole charger */
		double v = gw->conf.lb->voltage;
		struct ogw_lb_params p = { .voltage = v };
		n.limit_a = min_limit(ogw_lb_node_limit_a(&p, &n),
				      csms_limit_now(&balance_of(s)->csms_max,
						     s->south.ver == OGW_OCPP16, now, 0, v));
		n.limit_w = NO_LIMIT;
	}
	at = tree_add(t, n, NODE_CHARGER, id);
	if (at < 0)
		return at;
	t->meta[at].conf = ch;
	t->meta[at].s = s;
	for (size_t i = 0; i < ch->n_evses; i++) {
		int e = tree_add(t, node_of(&ch->evses[i].lim, at, minute), NODE_EVSE, NULL);
		if (e < 0)
			return e;
		t->meta[e].evse = ch->evses[i].id;
	}
	for (int i = 0; s && i < ogw_state_of(s)->n_evse; i++) {
		bool known = false;
		for (size_t k = 0; k < ch->n_evses; k++)
			known |= ch->evses[k].id == ogw_state_of(s)->evse[i].id;
		if (known)
			continue;
		struct ogw_lb_node en = { .parent = at, .limit_a = NO_LIMIT, .limit_w = NO_LIMIT,
					  .phases = ch->lim.phases };
		int e = tree_add(t, en, NODE_EVSE, NULL);
		if (e < 0)
			return e;
		t->meta[e].evse = ogw_state_of(s)->evse[i].id;
	}
	/* A configured charger that never said which EVSEs it has: one. */
	if (!ch->n_evses && !(s && ogw_state_of(s)->n_evse)) {
		struct ogw_lb_node en = { .parent = at, .limit_a = NO_LIMIT, .limit_w = NO_LIMIT,
					  .phases = ch->lim.phases };
		int e = tree_add(t, en, NODE_EVSE, NULL);
		if (e < 0)
			return e;
		t->meta[e].evse = 1;
	}
	return 0;
}

static int build_tree(struct tree *t, const struct ogw_gateway *gw, time_t now)
{
	const struct ogw_lb_conf *lb = gw->conf.lb;
	int minute = local_minute(now), r;

	r = tree_add(t, site_node(gw, minute), NODE_SITE, NULL);
	for (size_t i = 0; r >= 0 && i < lb->n_chargers; i++)
		r = add_charger(t, gw, 0, &lb->chargers[i], lb->chargers[i].id, minute, now);
	for (size_t g = 0; r >= 0 && g < lb->n_groups; g++) {
		const struct ogw_lb_group_conf *gc = &lb->groups[g];
		int at = tree_add(t, node_of(&gc->lim, 0, minute), NODE_GROUP, gc->name);
		r = at;
		for (size_t i = 0; r >= 0 && i < gc->n_chargers; i++)
			r = add_charger(t, gw, at, &gc->chargers[i], gc->chargers[i].id, minute, now);
	}
	for (size_t b = 0; r >= 0 && b < gw->table_size; b++)
		for (struct ogw_session *s = gw->table[b]; r >= 0 && s; s = s->hnext)
			if (session_live(s) && !ogw_lb_conf_charger(lb, s->id, NULL))
				r = add_charger(t, gw, 0, &default_charger, s->id, minute, now);
	return r < 0 ? r : 0;
}

static struct ogw_lb_session session_base(const struct ogw_lb_charger_conf *ch, int node)
{
	struct ogw_lb_session ss = {
		.node = node, .phases = ch->lim.phases, .min_a = ch->min_a, .max_a = ch->max_a,
		.priority = ch->priority, .measured_a = { -1, -1, -1 }, .offered_a = NO_LIMIT,
		.csms_limit_a = NO_LIMIT,
	};

	memcpy(ss.grid_phase, ch->rotation, sizeof(ss.grid_phase));
	return ss;
}

/* The CSMS's limit for EVSE @e now: its own Tx/TxDefault profile, else the
 * charger-wide TxDefault (OCPP 1.6 §3.13.2: a connector's overrides 0's). */
static double evse_csms_limit(const struct ogw_session *s, int evse, int64_t tx_started,
			      double voltage, time_t now)
{
	const struct ogw_balance_charger *bc = balance_of(s);
	bool v16 = s->south.ver == OGW_OCPP16;

	if (!bc)
		return NO_LIMIT;
	return csms_limit_now(bc->evse[evse].csms.body ? &bc->evse[evse].csms : &bc->csms_default,
			      v16, now, tx_started, voltage);
}

/* A session whose charger refuses our profiles draws what it likes: its
 * draw (its maximum while unknown) is reserved first, before any other. */
static void unmanaged(struct ogw_lb_session *ss, const struct ogw_lb_charger_conf *ch)
{
	double drawn = -1;

	for (int k = 0; k < ss->phases; k++)
		drawn = fmax(drawn, ss->measured_a[k]);
	ss->min_a = ss->max_a = drawn >= 0 ? drawn : ch->max_a;
	ss->priority = INT_MAX;
	ss->arrival = INT64_MIN;
	ss->offered_a = NO_LIMIT;
	ss->csms_limit_a = NO_LIMIT;
}

/* The phases (and line) EVSE @evse was last told; before anything was,
 * all it is wired to. */
static struct ogw_lb_mode mode_in_force(const struct ogw_session *s,
					const struct ogw_lb_charger_conf *ch, int evse)
{
	const struct ogw_balance_charger *bc = s ? balance_of(s) : NULL;

	if (bc && bc->evse[evse].sent_mode.phases)
		return bc->evse[evse].sent_mode;
	return (struct ogw_lb_mode){ .phases = ch->lim.phases };
}

/*
 * A session on a charger that switches phases: the allocator may pick its
 * mode once phase_switch_interval has passed since its last switch; one
 * phase goes on the charger's L1, or on any line where the charger is told
 * which (2.x phaseToUse). The car's own phases count only from readings
 * taken on three phases after the last switch: until then it may draw on
 * all three.
 */
static void switching(struct ogw_lb_session *ss, struct ogw_session *s,
		      const struct ogw_lb_charger_conf *ch, const struct ogw_evse_state *e)
{
	struct bal_evse *be = balance_of(s) ? &balance_of(s)->evse[e->id] : NULL;
	uint64_t gap = (uint64_t)s->gw->conf.lb->phase_switch_interval_s * 1000000;

	if (!be)
		return;
	if (ss->mode.phases == 3 && e->phases_used >= 1 && e->updated > be->switched_at) {
		be->car_phases = e->phases_used;
		snprintf(be->car_tx, sizeof(be->car_tx), "%s", e->tx_id);
	}
	ss->car_phases = !strcmp(be->car_tx, e->tx_id) ? be->car_phases : 0;
	ss->lines = ch->phase_to_use && s->south.ver != OGW_OCPP16 ? 7u : 0u;
	ss->may_switch = !be->switched_us || ogw_now_us() - be->switched_us >= gap;
	ogw_lb_session_set_mode(ss, ss->mode);
}

/* One session per EVSE with a transaction on a live charger. */
static int build_sessions(struct tree *t, const struct ogw_gateway *gw, time_t now)
{
	t->ss = calloc(t->n + 1, sizeof(*t->ss));
	t->ss_node = calloc(t->n + 1, sizeof(*t->ss_node));
	t->alloc = calloc(t->n + 1, sizeof(*t->alloc));
	t->mode = calloc(t->n + 1, sizeof(*t->mode));
	if (!t->ss || !t->ss_node || !t->alloc || !t->mode)
		return -ENOMEM;
	for (size_t v = 0; v < t->n; v++) {
		struct node_meta *m = &t->meta[v];
		if (m->kind != NODE_EVSE)
			continue;
		const struct node_meta *cm = &t->meta[t->nodes[v].parent];
		struct ogw_session *s = cm->s;
		struct ogw_evse_state *e = evse_find(s, m->evse);
		if (s)
			m->csms_a = evse_csms_limit(s, m->evse, e ? e->tx_started : 0,
						    gw->conf.lb->voltage, now);
		m->mode = mode_in_force(s, cm->conf, m->evse);
		if (!e)
			continue;
		for (int k = 0; k < 3; k++)
			m->measured[cm->conf->rotation[k]] = fmax(e->current_a[k], 0);
		if (balance_of(s))  /* what min_change is measured from */
			for (int k = 0; k < 3; k++)
				balance_of(s)->evse[m->evse].measured_ref[k] = fmax(e->current_a[k], 0);
		e->csms_limit_a = m->csms_a;
		m->active = e->tx_id[0] != '\0';
		if (!m->active)
			continue;
		struct ogw_lb_session ss = session_base(cm->conf, (int)v);
		ss.mode = m->mode;
		if (cm->conf->phase_switching)
			switching(&ss, s, cm->conf, e);
		else if (e->phases_used >= 1 && e->phases_used < ss.phases)
			ss.phases = e->phases_used;
		ss.arrival = e->tx_started ? e->tx_started : (int64_t)now;
		memcpy(ss.measured_a, e->current_a, sizeof(ss.measured_a));
		ss.offered_a = balance_of(s) ? balance_of(s)->evse[m->evse].sent_a : NO_LIMIT;
		ss.csms_limit_a = m->csms_a;
		/* the CSMS's chargingPriority for this transaction (2.x) wins
		 * over the charger's configured one */
		if (balance_of(s) && !strcmp(balance_of(s)->evse[m->evse].priority_tx, e->tx_id))
			ss.priority = balance_of(s)->evse[m->evse].csms_priority;
		if (balance_of(s) && ogw_now_us() < balance_of(s)->evse[m->evse].retry_us) {
			unmanaged(&ss, cm->conf);
			ss.may_switch = false;
		}
		t->ss_node[t->n_ss] = (int)v;
		t->ss[t->n_ss++] = ss;
	}
	return 0;
}

/* What each grid phase of each node has left after the allocation. */
static double *slack_after(const struct tree *t, const struct ogw_lb_params *p)
{
	double *slack = malloc((t->n * 3 + 1) * sizeof(*slack));

	if (!slack)
		return NULL;
	for (size_t v = 0; v < t->n; v++)
		for (int k = 0; k < 3; k++) {
			double lim = ogw_lb_node_phase_limit_a(p, &t->nodes[v], k);
			slack[v * 3 + (size_t)k] = lim < 0 ? HUGE_VAL : lim;
		}
	for (size_t i = 0; i < t->n_ss; i++)
		for (int v = t->ss[i].node; v >= 0; v = t->nodes[v].parent)
			for (int k = 0; k < t->ss[i].phases; k++)
				slack[(size_t)v * 3 +
				      (size_t)ogw_lb_session_grid_phase(&t->ss[i], k)] -= t->alloc[i];
	return slack;
}

/*
 * Targets: an active EVSE gets its allocation; an idle one the minimum
 * while that still fits beside everything allocated and every idle EVSE
 * before it, else 0. So a car that plugs in starts at a safe limit, even
 * if all of them plug in at once, until the next run includes it.
 */
static int set_targets(struct tree *t, const struct ogw_lb_params *p)
{
	double *slack = slack_after(t, p);

	if (!slack)
		return -ENOMEM;
	for (size_t i = 0; i < t->n_ss; i++) {
		t->meta[t->ss_node[i]].target_a = t->alloc[i];
		t->meta[t->ss_node[i]].mode = t->mode[i];
	}
	for (size_t v = 0; v < t->n; v++) {
		struct node_meta *m = &t->meta[v];
		if (m->kind != NODE_EVSE || m->active)
			continue;
		const struct node_meta *cm = &t->meta[t->nodes[v].parent];
		struct ogw_lb_session ss = session_base(cm->conf, (int)v);
		double room = HUGE_VAL;
		if (cm->conf->phase_switching)  /* idle, it keeps the phases it was told */
			ogw_lb_session_set_mode(&ss, m->mode);
		for (int u = (int)v; u >= 0; u = t->nodes[u].parent)
			for (int k = 0; k < ss.phases; k++)
				room = fmin(room, slack[(size_t)u * 3 +
							(size_t)ogw_lb_session_grid_phase(&ss, k)]);
		bool fits = room >= ss.min_a && (m->csms_a < 0 || m->csms_a >= ss.min_a);
		m->target_a = fits ? ss.min_a : 0;
		for (int u = (int)v; fits && u >= 0; u = t->nodes[u].parent)
			for (int k = 0; k < ss.phases; k++)
				slack[(size_t)u * 3 +
				      (size_t)ogw_lb_session_grid_phase(&ss, k)] -= ss.min_a;
	}
	free(slack);
	return 0;
}

/*
 * Failsafe shares: the allocation with a car on every EVSE of every
 * charger (configured or connected), each charger's share being the sum
 * of its EVSEs'. What a charger falls back to if the gateway goes away.
 */
static int set_failsafe(struct tree *t, const struct ogw_lb_params *p)
{
	struct ogw_lb_session *all = calloc(t->n + 1, sizeof(*all));
	double *alloc = calloc(t->n + 1, sizeof(*alloc));
	int *at = calloc(t->n + 1, sizeof(*at));
	size_t n = 0;
	int r = -ENOMEM;

	if (!all || !alloc || !at)
		goto out;
	for (size_t v = 0; v < t->n; v++) {
		if (t->meta[v].kind != NODE_EVSE)
			continue;
		at[n] = (int)v;
		all[n++] = session_base(t->meta[t->nodes[v].parent].conf, (int)v);
	}
	r = ogw_lb_allocate(p, t->nodes, t->n, all, n, alloc);
	for (size_t i = 0; r == 0 && i < n; i++)
		t->meta[t->nodes[at[i]].parent].failsafe_a += alloc[i];
out:
	free(all);
	free(alloc);
	free(at);
	return r;
}

/* ---- sending ---------------------------------------------------------------- */

struct sent_ctx {
	int evse;                   /* 0: the Max profile */
	bool lowering;
	bool external;              /* purpose ChargingStationExternalConstraints */
	double limit_a;             /* EVSEs: the limit, for NotifyChargingLimit */
	int phases;
	int phase_to_use;           /* 2.x phaseToUse (1-3), 0: none */
};

static json_t *period_json(int start, double limit, int phases, int phase_to_use);

/*
 * A limit the charger took, told to a 2.x CSMS as an EMS's (2.0.1 K12:
 * NotifyChargingLimit, source EMS) while the uplink is up; a 1.6 CSMS has
 * no such message and sees it only in GetCompositeSchedule.
 */
static void notify_limit(struct ogw_session *s, const struct sent_ctx *sc)
{
	const struct ogw_leg *up = ogw_session_primary(s);

	if (up->ver == OGW_OCPP16 || up->state != OGW_LEG_UP)
		return;
	json_t *n = json_pack("{s:{s:s}, s:i, s:[{s:i, s:s, s:[o]}]}", "chargingLimit",
			      "chargingLimitSource", "EMS", "evseId", sc->evse, "chargingSchedule",
			      "id", ID_TX_DEFAULT + sc->evse, "chargingRateUnit", "A",
			      "chargingSchedulePeriod", period_json(0, sc->limit_a, sc->phases,
										sc->phase_to_use));
	if (n && ogw_tr_emit(&s->env, OGW_TR_UP, "NotifyChargingLimit", n, NULL, NULL) < 0) {
		struct ogw_log_ctx lc = { s->id, "north", "NotifyChargingLimit", NULL };
		ogw_warn(&lc, "load balancing: NotifyChargingLimit not sent");
	}
}

static void profile_done(struct ogw_tr_env *env, void *user, const json_t *result)
{
	struct ogw_session *s = ogw_env_session(env);
	struct sent_ctx *sc = user;
	struct ogw_balance *b = s->gw->balance;
	const char *st = json_string_value(json_object_get(result, "status"));

	if ((!st || strcmp(st, "Accepted") != 0) && balance_of(s) && sc->external && st) {
		struct ogw_log_ctx lc = { s->id, "south", "SetChargingProfile", NULL };
		ogw_warn(&lc, "ChargingStationExternalConstraints refused (%s): TxDefault and Max "
			 "profiles from now", st);
		balance_of(s)->no_external = true;
		resend_now(s, balance_of(s));
	} else if ((!st || strcmp(st, "Accepted") != 0) && balance_of(s)) {
		struct ogw_log_ctx lc = { s->id, "south", "SetChargingProfile", NULL };
		uint64_t retry = ogw_now_us() + RETRY_US;
		ogw_warn(&lc, "balancing profile for EVSE %d not accepted (%s); again in %llu s",
			 sc->evse, st ? st : "no answer", RETRY_US / 1000000);
		/* what the charger holds is unknown now: sent again, but not in
		 * a loop to a charger that refuses them */
		if (sc->evse > 0) {
			balance_of(s)->evse[sc->evse].sent_a = NO_LIMIT;
			balance_of(s)->evse[sc->evse].retry_us = retry;
		} else {
			balance_of(s)->failsafe_a = NO_LIMIT;
			balance_of(s)->failsafe_retry_us = retry;
		}
	}
	else if (st && sc->evse > 0)
		notify_limit(s, sc);
	if (b && sc->lowering && b->lowering > 0 && --b->lowering == 0)
		kick(s->gw, 0);
	free(sc);
}

/* A schedule period; @phase_to_use 0: none (1.6 has no such field). */
static json_t *period_json(int start, double limit, int phases, int phase_to_use)
{
	json_t *o = json_pack("{s:i, s:f, s:i}", "startPeriod", start, "limit",
			      floor(limit * 10) / 10, "numberPhases", phases);

	if (o && phase_to_use)
		json_object_set_new(o, "phaseToUse", json_integer(phase_to_use));
	return o;
}

/* A profile in @s's version: @periods (taken) under purpose @purpose. */
static json_t *profile_json(const struct ogw_session *s, int id, int evse, const char *purpose,
			    int stack, json_t *periods, const char *tx_id, bool absolute)
{
	bool v16 = s->south.ver == OGW_OCPP16;
	char now[32];
	json_t *sched, *body;

	ogw_time_rfc3339(now);
	sched = json_pack("{s:s, s:o}", "chargingRateUnit", "A", "chargingSchedulePeriod", periods);
	if (sched && absolute)
		json_object_set_new(sched, "startSchedule", json_string(now));
	if (sched && !v16)
		json_object_set_new(sched, "id", json_integer(id));
	body = json_pack("{s:i, s:i, s:s, s:s, s:o}", v16 ? "chargingProfileId" : "id", id,
			 "stackLevel", stack, "chargingProfilePurpose", purpose,
			 "chargingProfileKind", absolute ? "Absolute" : "Relative",
			 "chargingSchedule", v16 ? sched : json_pack("[o]", sched));
	json_t *txv = body && tx_id ? ogw_balance_tx_id_json(tx_id, v16) : NULL;
	if (txv)
		json_object_set_new(body, "transactionId", txv);
	return json_pack("{s:i, s:o}", v16 ? "connectorId" : "evseId", evse,
			 v16 ? "csChargingProfiles" : "chargingProfile", body);
}

json_t *ogw_balance_tx_id_json(const char *tx_id, bool v16)
{
	char *end;
	long long n;

	if (!v16)
		return json_string(tx_id);
	errno = 0;
	n = strtoll(tx_id, &end, 10);
	/* 1.6 transactionId is an integer: one that does not parse is left
	 * out (the TxProfile then applies to the running transaction, 1.6
	 * §7.13) rather than aimed at a transaction 0 the charger never had */
	if (!*tx_id || *end || errno || n < INT32_MIN || n > INT32_MAX)
		return NULL;
	return json_integer(n);
}

/* Our own @action on @s's south leg; with @track (a SetChargingProfile)
 * its answer goes to profile_done(), else it is ignored. Takes @payload. */
static int emit(struct ogw_session *s, const char *action, json_t *payload,
		const struct sent_ctx *track)
{
	struct ogw_balance *b = s->gw->balance;
	struct sent_ctx *sc = track ? malloc(sizeof(*sc)) : NULL;
	bool lowering = track && track->lowering;
	int r;

	if ((track && !sc) || !payload) {
		free(sc);
		json_decref(payload);
		return -ENOMEM;
	}
	if (sc)
		*sc = *track;
	b->emitting = true;
	r = ogw_tr_emit(&s->env, OGW_TR_DOWN, action, payload, sc ? profile_done : NULL, sc);
	b->emitting = false;
	if (r < 0) {
		struct ogw_log_ctx lc = { s->id, "south", action, NULL };
		ogw_warn(&lc, "load balancing: %s not sent: %s", action, strerror(-r));
		free(sc);
		return r;
	}
	if (sc && lowering)
		b->lowering++;
	return 0;
}

/* The EVSE lines mode @m offers, bit k: L(k+1). */
static unsigned int mode_lines(struct ogw_lb_mode m)
{
	return m.phases == 1 ? 1u << m.line : m.phases == 2 ? 3u : 7u;
}

static bool same_mode(struct ogw_lb_mode a, struct ogw_lb_mode b)
{
	return a.phases == b.phases && mode_lines(a) == mode_lines(b);
}

/*
 * A phase switch raises the current on some lines and lowers it on others
 * (3 -> 1 at a higher limit, 1 -> 3 at a lower one, one line to another).
 * The site must never see the raise before the lowering, so it goes in
 * two steps: first what is lower on every line (the new mode at the old
 * limit where it offers fewer lines, else the old mode at the new limit,
 * else 0 on the old line), sent and answered as a lowering; the rest is a
 * raise on the next run. Returns false when @was -> @now (limits @was_a,
 * @now_a) is no such mix; else sets *ret_mode and *ret_a to the first step.
 */
static bool switch_first_step(struct ogw_lb_mode was, double was_a, struct ogw_lb_mode now,
			      double now_a, struct ogw_lb_mode *ret_mode, double *ret_a)
{
	unsigned int gained = mode_lines(now) & ~mode_lines(was);
	unsigned int lost = mode_lines(was) & ~mode_lines(now);
	bool lower_everywhere = now_a <= was_a && (!gained || now_a <= 0);
	bool higher_everywhere = now_a >= was_a && (!lost || was_a <= 0);

	if (lower_everywhere || higher_everywhere)
		return false;
	*ret_mode = !gained ? now : was;
	*ret_a = !gained || !lost ? fmin(was_a, now_a) : 0;
	return true;
}

/*
 * Sends EVSE @m its target if it changed. Lowering goes at once; raising
 * waits for every lowering in flight (so the site never sees both at
 * once) and for min_interval since the EVSE's last profile. A phase
 * switch goes in two steps (switch_first_step). Returns the microseconds
 * until a held raise may go, or 0.
 */
static uint64_t send_evse(struct ogw_session *s, const struct node_meta *m,
			  const struct ogw_lb_charger_conf *ch, bool lowering_pass, uint64_t now_us)
{
	const struct ogw_lb_conf *lb = s->gw->conf.lb;
	struct bal_evse *be = &balance_of(s)->evse[m->evse];
	struct ogw_evse_state *e = evse_find(s, m->evse);
	double target = m->csms_a >= 0 ? fmin(m->target_a, m->csms_a) : m->target_a;
	struct ogw_lb_mode mode = m->mode;
	struct ogw_lb_mode was = be->sent_mode.phases ? be->sent_mode :
				 (struct ogw_lb_mode){ .phases = ch->lim.phases };
	/* a CSMS TxProfile would win over our TxDefault: answer it with ours
	 * (an external constraint is a minimum with it: no need) */
	bool ext = external(s);
	bool as_tx = !ext && m->active && be->csms.body && be->csms.tx;
	const char *tx_id = as_tx && e ? e->tx_id : NULL;
	bool changed = be->sent_a < 0 || fabs(target - be->sent_a) >= 0.1 || as_tx != be->sent_tx ||
		       !same_mode(mode, was) ||
		       (as_tx && strcmp(be->sent_tx_id, tx_id ? tx_id : "") != 0);
	bool lower = be->sent_a < 0 || target < be->sent_a;
	uint64_t gap = (uint64_t)lb->min_interval_s * 1000000;

	if (be->sent_a >= 0 && switch_first_step(was, be->sent_a, mode, target, &mode, &target))
		lower = true;
	else if (be->sent_a >= 0 && !same_mode(mode, was))
		lower = target <= be->sent_a &&
			(!(mode_lines(mode) & ~mode_lines(was)) || target <= 0);
	if (!changed || lower != lowering_pass || now_us < be->retry_us)
		return 0;
	if (!lower && (s->gw->balance->lowering || now_us - be->sent_us < gap))
		return s->gw->balance->lowering ? 0 : be->sent_us + gap - now_us;
	/* 2.x phaseToUse only where the charger picks the line (2.0.1 K01:
	 * ACPhaseSwitchingSupported) */
	int use = mode.phases == 1 && ch->phase_to_use && s->south.ver != OGW_OCPP16 ?
		  mode.line + 1 : 0;
	json_t *per = json_pack("[o]", period_json(0, target, mode.phases, use));
	json_t *p = profile_json(s, (as_tx ? ID_TX : ID_TX_DEFAULT) + m->evse, m->evse,
				 ext ? external_purpose[0] : as_tx ? "TxProfile" : "TxDefaultProfile",
				 level_of(s), per, tx_id, ext);
	struct sent_ctx track = { .evse = m->evse, .lowering = lower, .external = ext,
				  .limit_a = target, .phases = mode.phases, .phase_to_use = use };
	if (emit(s, "SetChargingProfile", p, &track) < 0)
		return 0;
	if (!same_mode(mode, was)) {
		struct ogw_log_ctx lc = { s->id, "south", "SetChargingProfile", NULL };
		ogw_info(&lc, "load balancing: EVSE %d switched from %d to %d phase%s%s at %.1f A",
			 m->evse, was.phases, mode.phases, mode.phases == 1 ? "" : "s",
			 use ? (const char *[]){ "", " (L1)", " (L2)", " (L3)" }[use] : "", target);
		be->switched_us = now_us;
		be->switched_at = time(NULL);
	}
	be->sent_mode = mode;
	be->sent_a = floor(target * 10) / 10;
	be->sent_tx = as_tx;
	snprintf(be->sent_tx_id, sizeof(be->sent_tx_id), "%s", tx_id ? tx_id : "");
	be->sent_us = now_us;
	if (e)
		e->gw_limit_a = be->sent_a;
	return 0;
}

/*
 * The failsafe: a Max profile for the whole charger, Absolute from now,
 * allowing everything (up to the CSMS's own Max) for FAILSAFE_AFTER_S, then
 * only the charger's failsafe share. Refreshed well before it falls, so
 * while the gateway runs its EVSE profiles rule; if it dies, every charger
 * drops to its share and the site stays within its limit.
 */
static void send_failsafe(struct ogw_session *s, const struct tree *t, size_t v, int phases,
			  time_t now, uint64_t now_us)
{
	struct ogw_balance_charger *bc = balance_of(s);
	const struct node_meta *m = &t->meta[v];
	const struct ogw_lb_conf *lb = s->gw->conf.lb;
	double share = floor(m->failsafe_a * 10) / 10, full = 0;
	double csms = csms_limit_now(&bc->csms_max, s->south.ver == OGW_OCPP16, now, 0,
				     lb->voltage);
	bool refresh = now_us - bc->failsafe_us >= (uint64_t)FAILSAFE_AFTER_S * 1000000 / 3;

	if (!lb->failsafe || now_us < bc->failsafe_retry_us ||
	    (bc->failsafe_a >= 0 && fabs(share - bc->failsafe_a) < 0.1 && !refresh))
		return;
	for (size_t u = v + 1; u < t->n && t->nodes[u].parent == (int)v; u++)
		full += m->conf->max_a;
	full = min_limit(full, csms);
	share = min_limit(share, csms);
	json_t *per = json_pack("[o, o]", period_json(0, fmax(full, share), phases, 0),
				period_json(FAILSAFE_AFTER_S, share, phases, 0));
	bool ext = external(s);
	json_t *p = profile_json(s, ID_MAX_PROFILE, 0, ext ? external_purpose[0] :
				 s->south.ver == OGW_OCPP16 ? "ChargePointMaxProfile" :
				 "ChargingStationMaxProfile", level_of(s), per, NULL, true);
	struct sent_ctx track = { .evse = 0, .external = ext,
				  .lowering = bc->failsafe_a >= 0 && share < bc->failsafe_a };
	if (emit(s, "SetChargingProfile", p, &track) == 0) {
		bc->failsafe_a = share;
		bc->failsafe_us = now_us;
	}
}

int ogw_balance_max_level(const json_t *res, bool v16)
{
	const json_t *item = json_array_get(json_object_get(res, v16 ? "configurationKey" :
							    "getVariableResult"), 0);
	const char *st = json_string_value(json_object_get(item, "attributeStatus"));
	const char *v = json_string_value(json_object_get(item, v16 ? "value" : "attributeValue"));
	const char *key = json_string_value(json_object_get(item, "key"));
	char *end;
	long n;

	if (!v || (!v16 && (!st || strcmp(st, "Accepted") != 0)) ||
	    (v16 && (!key || strcmp(key, "ChargeProfileMaxStackLevel") != 0)))
		return -1;
	errno = 0;
	n = strtol(v, &end, 10);
	return !*v || *end || errno || n < 0 || n > INT_MAX ? -1 : (int)n;
}

static void level_done(struct ogw_tr_env *env, void *user, const json_t *result)
{
	struct ogw_session *s = ogw_env_session(env);
	struct ogw_balance_charger *bc = balance_of(s);
	int n = ogw_balance_max_level(result, s->south.ver == OGW_OCPP16);

	(void)user;
	if (!bc || !lb_conf(s->gw))
		return;
	bc->level_known = true;
	if (n >= 0 && n != bc->max_level) {
		struct ogw_log_ctx lc = { s->id, "south", NULL, NULL };
		ogw_info(&lc, "load balancing: stack level %d, the charger's highest", n);
		bc->max_level = n;
	}
	resend_now(s, bc);  /* same ids: a new level replaces the old */
}

/* ChargeProfileMaxStackLevel (1.6) / SmartChargingCtrlr.ProfileStackLevel
 * (2.x), once per connection; a charger that does not say keeps the
 * configured level. */
static void ask_level(struct ogw_session *s, struct ogw_balance_charger *bc)
{
	json_t *req = s->south.ver == OGW_OCPP16 ?
		json_pack("{s:[s]}", "key", "ChargeProfileMaxStackLevel") :
		json_pack("{s:[{s:{s:s}, s:{s:s}}]}", "getVariableData", "component", "name",
			  "SmartChargingCtrlr", "variable", "name", "ProfileStackLevel");

	bc->level_asked = true;
	s->gw->balance->emitting = true;
	int r = ogw_tr_emit(&s->env, OGW_TR_DOWN, s->south.ver == OGW_OCPP16 ? "GetConfiguration" :
			    "GetVariables", req, level_done, NULL);
	s->gw->balance->emitting = false;
	if (r < 0)
		bc->level_asked = false;
}

/* A charger our profiles may go to: booted, its stack level settled. */
static bool takes_profiles(struct ogw_session *s)
{
	struct ogw_balance_charger *bc = s ? balance_of(s) : NULL;

	if (!bc || !bc->ready)
		return false;
	if (!bc->level_asked)
		ask_level(s, bc);
	return bc->level_known;
}

/* Both passes over every live, booted charger; the soonest held raise. */
static uint64_t send_all(struct tree *t, time_t now)
{
	uint64_t now_us = ogw_now_us(), wait = 0;

	for (int pass = 1; pass >= 0; pass--) {
		for (size_t v = 0; v < t->n; v++) {
			const struct node_meta *m = &t->meta[v];
			if (m->kind != NODE_EVSE)
				continue;
			const struct node_meta *cm = &t->meta[t->nodes[v].parent];
			struct ogw_session *s = cm->s;
			if (!s || !charger_of(s) || !takes_profiles(s))
				continue;
			uint64_t w = send_evse(s, m, cm->conf, pass == 1, now_us);
			if (w && (!wait || w < wait))
				wait = w;
		}
	}
	for (size_t v = 0; v < t->n; v++) {
		const struct node_meta *m = &t->meta[v];
		if (m->kind == NODE_CHARGER && takes_profiles(m->s))
			send_failsafe(m->s, t, v, m->conf->lim.phases, now, now_us);
	}
	return wait;
}

static void tick(lws_sorted_usec_list_t *sul)
{
	struct ogw_balance *b = lws_container_of(sul, struct ogw_balance, sul);
	struct ogw_gateway *gw = b->gw;
	struct tree t = { 0 };
	time_t now = time(NULL);
	uint64_t wait = 0;
	int r;

	b->due_us = 0;
	if (gw->stopping || !lb_conf(gw))
		return;
	meter_follow(gw);
	const struct ogw_lb_params p = { .voltage = gw->conf.lb->voltage,
					 .headroom_a = gw->conf.lb->headroom_a };
	r = build_tree(&t, gw, now);
	if (r == 0)
		r = build_sessions(&t, gw, now);
	if (r == 0)
		r = ogw_lb_allocate_phases(&p, t.nodes, t.n, t.ss, t.n_ss, t.alloc, t.mode);
	/* from here on each session counts on the phases it gets */
	for (size_t i = 0; r == 0 && i < t.n_ss; i++)
		if (t.ss[i].may_switch)
			ogw_lb_session_set_mode(&t.ss[i], t.mode[i]);
	if (r == 0)
		r = set_targets(&t, &p);
	if (r == 0)
		r = set_failsafe(&t, &p);
	if (r < 0) {
		ogw_err(NULL, "load balancing: allocation failed: %s", strerror(-r));
		tree_free(&t);
	} else {
		wait = send_all(&t, now);
		for (size_t v = 0; v < t.n; v++) {
			t.meta[v].conf = NULL;  /* may not outlive a reload */
			t.meta[v].s = NULL;
		}
		tree_free(&b->last);
		b->last = t;
		b->last_run = now;
	}
	uint64_t next = (uint64_t)gw->conf.lb->update_interval_s * 1000000;
	if (wait && wait < next)
		next = wait;
	if (meter_fresh(gw)) {  /* the fail-safe starts on time */
		uint64_t silent_at = b->meter_us + (uint64_t)gw->conf.lb->meter_timeout_s * 1000000;
		if (silent_at - ogw_now_us() < next)
			next = silent_at - ogw_now_us();
	}
	kick(gw, (unsigned int)(next / 1000) + 1);
}

/* ---- the gateway's entry points (balance.h) ----------------------------------- */

int ogw_balance_init(struct ogw_gateway *gw)
{
	gw->balance = calloc(1, sizeof(*gw->balance));
	if (!gw->balance)
		return -ENOMEM;
	gw->balance->gw = gw;
	gw->balance->dynamic_a = NO_LIMIT;
	gw->balance->stack_level = -1;
	ogw_balance_reconfigured(gw);
	return 0;
}

void ogw_balance_free(struct ogw_gateway *gw)
{
	if (!gw->balance)
		return;
	lws_sul_cancel(&gw->balance->sul);
	tree_free(&gw->balance->last);
	free(gw->balance);
	gw->balance = NULL;
}

/* Profile @id off the charger (1.6 / 2.x ClearChargingProfile). */
static void clear_profile(struct ogw_session *s, int id)
{
	emit(s, "ClearChargingProfile", json_pack("{s:i}", s->south.ver == OGW_OCPP16 ?
						  "id" : "chargingProfileId", id), NULL);
}

/*
 * Forgets what was sent to every charger so the next run sends it again
 * (a new stack level: our ids replace our old profiles), or with @clear
 * takes our profiles off the chargers (balancing switched off).
 */
static void forget_sent(struct ogw_gateway *gw, bool clear)
{
	for (size_t i = 0; i < gw->table_size; i++) {
		for (struct ogw_session *s = gw->table[i]; s; s = s->hnext) {
			struct ogw_balance_charger *bc = balance_of(s);
			if (!bc)
				continue;
			for (int e = 1; e < N_EVSE; e++) {
				if (clear && session_live(s) && bc->evse[e].sent_a >= 0)
					clear_profile(s, (bc->evse[e].sent_tx ? ID_TX : ID_TX_DEFAULT) + e);
				bc->evse[e].sent_a = NO_LIMIT;
			}
			if (clear && session_live(s) && bc->failsafe_a >= 0)
				clear_profile(s, ID_MAX_PROFILE);
			bc->failsafe_a = NO_LIMIT;
		}
	}
}

/* The configured site limit without its schedule (A per phase, < 0: none):
 * the most a dynamic limit may set. */
static double configured_site_a(const struct ogw_lb_conf *lb)
{
	struct ogw_lb_params p = { .voltage = lb->voltage };
	struct ogw_lb_node n = { .parent = -1, .limit_a = lb->site.limit_a,
				 .limit_w = lb->site.limit_w, .phases = lb->site.phases };

	return ogw_lb_node_limit_a(&p, &n);
}

/* After a reload: the same chargers, the new tree; a dynamic limit above
 * the new configured one is dropped. */
void ogw_balance_reconfigured(struct ogw_gateway *gw)
{
	const struct ogw_lb_conf *lb = lb_conf(gw);
	struct ogw_balance *b = gw->balance;
	int level = lb ? lb->stack_level : -1;

	if (!b)
		return;
	if (b->stack_level >= 0 && level != b->stack_level)
		forget_sent(gw, !lb);
	b->stack_level = level;
	if (!lb) {
		lws_sul_cancel(&b->sul);
		b->due_us = 0;
		return;
	}
	double conf_a = configured_site_a(lb);
	if (b->dynamic_a >= 0 && conf_a >= 0 && b->dynamic_a > conf_a)
		b->dynamic_a = NO_LIMIT;
	ogw_info(NULL, "load balancing on: stack level %d, every %d s", lb->stack_level,
		 lb->update_interval_s);
	kick(gw, 0);
}

int ogw_balance_set_site_limit(struct ogw_gateway *gw, double amps_per_phase, char *err,
			       size_t errlen)
{
	const struct ogw_lb_conf *lb = lb_conf(gw);
	double conf_a;

	if (!lb || !gw->balance) {
		snprintf(err, errlen, "load balancing is not configured");
		return -EINVAL;
	}
	conf_a = configured_site_a(lb);
	if (!isfinite(amps_per_phase) || amps_per_phase < 0 ||
	    (conf_a >= 0 && amps_per_phase > conf_a)) {
		snprintf(err, errlen, "site limit must be between 0 and %.1f A per phase", conf_a);
		return -EINVAL;
	}
	if (gw->balance->dynamic_a != amps_per_phase)
		ogw_events_note(gw, NULL, "limit", "site limit set to %.1f A per phase",
				amps_per_phase);
	gw->balance->dynamic_a = amps_per_phase;
	ogw_info(NULL, "load balancing: site limit set to %.1f A per phase", amps_per_phase);
	kick(gw, 0);
	return 0;
}

int ogw_balance_clear_site_limit(struct ogw_gateway *gw)
{
	if (!lb_conf(gw) || !gw->balance)
		return -EINVAL;
	if (gw->balance->dynamic_a >= 0) {
		ogw_info(NULL, "load balancing: dynamic site limit cleared, the configured one "
			 "applies");
		ogw_events_note(gw, NULL, "limit", "dynamic site limit cleared");
	}
	gw->balance->dynamic_a = NO_LIMIT;
	kick(gw, 0);
	return 0;
}

double ogw_balance_watts_to_amps(const struct ogw_gateway *gw, double watts)
{
	const struct ogw_lb_conf *lb = gw->conf.lb;

	return lb ? watts / (lb->voltage * lb->site.phases) : NO_LIMIT;
}

int ogw_balance_parse_limit(const struct ogw_gateway *gw, const json_t *v, double *ret_a,
			    const char **ret_field, char *err, size_t errlen)
{
	const json_t *amps = json_object_get(v, "amps"), *watts = json_object_get(v, "watts");

	*ret_field = "amps";
	if (json_is_number(v)) {
		*ret_a = json_number_value(v);
		return 0;
	}
	if (!json_is_object(v)) {
		*ret_field = "body";
		snprintf(err, errlen, "expected a number (A per phase), {\"amps\": N} or "
			 "{\"watts\": N}");
		return -EINVAL;
	}
	if (amps && watts) {
		snprintf(err, errlen, "amps: give amps or watts, not both");
		return -EINVAL;
	}
	if (!amps && !watts) {
		snprintf(err, errlen, "amps: missing (or watts)");
		return -EINVAL;
	}
	*ret_field = amps ? "amps" : "watts";
	if (!json_is_number(amps ? amps : watts)) {
		snprintf(err, errlen, "%s: expected a number", *ret_field);
		return -EINVAL;
	}
	*ret_a = amps ? json_number_value(amps) :
			ogw_balance_watts_to_amps(gw, json_number_value(watts));
	return 0;
}

static json_t *phases_json(const double *v)
{
	return json_pack("[f, f, f]", round(v[0] * 10) / 10, round(v[1] * 10) / 10,
			 round(v[2] * 10) / 10);
}

static json_t *amps_or_null(double a)
{
	return a < 0 ? json_null() : json_real(floor(a * 10) / 10);
}

bool ogw_balance_limit_now(struct ogw_gateway *gw, double ret_a[3], bool *ret_dynamic)
{
	const struct ogw_lb_conf *lb = lb_conf(gw);

	if (!lb || !gw->balance)
		return false;
	struct ogw_lb_params p = { .voltage = lb->voltage };
	struct ogw_lb_node n = site_node(gw, local_minute(time(NULL)));
	for (int k = 0; k < 3; k++)
		ret_a[k] = ogw_lb_node_phase_limit_a(&p, &n, k);
	*ret_dynamic = gw->balance->dynamic_a >= 0;
	return true;
}

int ogw_balance_meter_state(struct ogw_gateway *gw, double ret_load_a[3])
{
	const struct ogw_lb_conf *lb = lb_conf(gw);

	if (!lb || !gw->balance || lb->meter_fuse_a < 0)
		return -1;
	memcpy(ret_load_a, gw->balance->meter_load, sizeof(gw->balance->meter_load));
	return meter_fresh(gw) ? 0 : 1;
}

json_t *ogw_balance_limit_json(struct ogw_gateway *gw)
{
	const struct ogw_lb_conf *lb = lb_conf(gw);
	double phase_a[3], eff_a, meter_a[3];
	bool dynamic;

	if (!ogw_balance_limit_now(gw, phase_a, &dynamic))
		return json_pack("{s:b, s:n}", "enabled", 0, "phaseA");
	/* effectiveA: the tightest phase, what one number can say */
	eff_a = phase_a[0];
	for (int k = 1; k < 3; k++)
		eff_a = min_limit(eff_a, phase_a[k]);
	struct ogw_lb_params p = { .voltage = lb->voltage };
	struct ogw_lb_node sched = node_of(&lb->site, -1, local_minute(time(NULL)));
	json_t *o = json_pack("{s:b, s:o, s:o, s:o, s:o, s:b, s:[o, o, o], s:i, s:f}",
			 "enabled", 1, "configuredA", amps_or_null(configured_site_a(lb)),
			 "scheduledA", amps_or_null(ogw_lb_node_limit_a(&p, &sched)),
			 "dynamicA", amps_or_null(gw->balance->dynamic_a),
			 "effectiveA", amps_or_null(eff_a), "dynamic", dynamic,
			 "phaseA", amps_or_null(phase_a[0]), amps_or_null(phase_a[1]),
			 amps_or_null(phase_a[2]),
			 "phases", lb->site.phases, "voltage", lb->voltage);
	if (o && lb->meter_fuse_a >= 0) {
		const struct ogw_balance *b = gw->balance;
		static const char *const sources[] = { [OGW_METER_MQTT] = "mqtt",
			[OGW_METER_MODBUS] = "modbus", [OGW_METER_HTTP] = "http" };
		bool fresh = meter_fresh(gw);
		meter_limit(gw, meter_a);
		json_object_set_new(o, "meter", json_pack(
			"{s:s, s:s, s:f, s:[o, o, o], s:o, s:o, s:o}", "state", fresh ? "ok" : "silent",
			"source", sources[lb->meter_source], "fuseA", lb->meter_fuse_a,
			"limitA", amps_or_null(meter_a[0]), amps_or_null(meter_a[1]),
			amps_or_null(meter_a[2]),
			"loadA", b->meter_us ? phases_json(b->meter_load) : json_null(),
			"ageS", b->meter_us ? json_real(floor((ogw_now_us() - b->meter_us) / 1e5) / 10) :
			json_null(), "safeA", amps_or_null(lb->meter_safe_a)));
	}
	return o;
}

const int *ogw_balance_rotation(const struct ogw_gateway *gw, const char *id)
{
	const struct ogw_lb_charger_conf *ch = ogw_lb_conf_charger(gw->conf.lb, id, NULL);

	return ch ? ch->rotation : default_charger.rotation;
}

static json_t *node_json(const struct tree *t, const struct ogw_lb_params *p, size_t v,
			 const double (*alloc)[3], const double (*meas)[3])
{
	const struct node_meta *m = &t->meta[v];
	double lim = ogw_lb_node_limit_a(p, &t->nodes[v]);
	json_t *o = json_pack("{s:s, s:o, s:o, s:o}", "kind", node_kinds[m->kind],
			      "limitA", lim < 0 ? json_null() : json_real(floor(lim * 10) / 10),
			      "allocatedA", phases_json(alloc[v]), "measuredA",
			      phases_json(meas[v]));
	json_t *children = json_array();

	if (!o || !children) {
		json_decref(o);
		json_decref(children);
		return NULL;
	}
	if (m->kind == NODE_GROUP || m->kind == NODE_CHARGER)
		json_object_set_new(o, m->kind == NODE_GROUP ? "name" : "id", json_string(m->name));
	if (m->kind == NODE_CHARGER)
		json_object_set_new(o, "failsafeA", json_real(floor(m->failsafe_a * 10) / 10));
	if (m->kind == NODE_EVSE) {
		json_object_set_new(o, "id", json_integer(m->evse));
		json_object_set_new(o, "charging", json_boolean(m->active));
		json_object_set_new(o, "targetA", m->target_a < 0 ? json_null() :
				    json_real(m->target_a));
		json_object_set_new(o, "csmsLimitA", m->csms_a < 0 ? json_null() :
				    json_real(m->csms_a));
		json_object_set_new(o, "phases", json_integer(m->mode.phases));
	}
	for (size_t u = v + 1; u < t->n; u++)
		if (t->nodes[u].parent == (int)v)
			json_array_append_new(children, node_json(t, p, u, alloc, meas));
	json_object_set_new(o, "children", children);
	return o;
}

json_t *ogw_balance_site_json(struct ogw_gateway *gw)
{
	const struct ogw_lb_conf *lb = lb_conf(gw);
	const struct tree *t = gw->balance ? &gw->balance->last : NULL;
	double (*alloc)[3] = NULL, (*meas)[3] = NULL;
	json_t *o;

	if (!lb || !t || !t->n)
		return json_pack("{s:b, s:o}", "enabled", lb != NULL, "dynamicLimitA",
				 gw->balance && gw->balance->dynamic_a >= 0 ?
				 json_real(gw->balance->dynamic_a) : json_null());
	struct ogw_lb_params p = { .voltage = lb->voltage };
	alloc = calloc(t->n, sizeof(*alloc));
	meas = calloc(t->n, sizeof(*meas));
	if (!alloc || !meas) {
		free(alloc);
		free(meas);
		return NULL;
	}
	for (size_t i = 0; i < t->n_ss; i++)
		for (int v = t->ss[i].node; v >= 0; v = t->nodes[v].parent)
			for (int k = 0; k < t->ss[i].phases; k++)
				alloc[v][ogw_lb_session_grid_phase(&t->ss[i], k)] += t->alloc[i];
	for (size_t e = 0; e < t->n; e++)
		if (t->meta[e].kind == NODE_EVSE)
			for (int v = (int)e; v >= 0; v = t->nodes[v].parent)
				for (int k = 0; k < 3; k++)
					meas[v][k] += t->meta[e].measured[k];
	o = json_pack("{s:b, s:I, s:o, s:o}", "enabled", 1, "updated", (json_int_t)gw->balance->last_run,
		      "dynamicLimitA", gw->balance->dynamic_a < 0 ? json_null() :
		      json_real(gw->balance->dynamic_a), "site", node_json(t, &p, 0, alloc, meas));
	free(alloc);
	free(meas);
	return o;
}
