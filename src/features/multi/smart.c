/* SPDX-License-Identifier: MIT */
/*
 * Smart charging from several CSMSs, combined (docs/MULTI_CSMS.md, rule 3):
 * in a session with secondaries, every CSMS's SetChargingProfile and
 * ClearChargingProfile (the primary's too) stops here. The gateway records
 * it per CSMS (in the session and in the store), answers that CSMS itself,
 * and gives the charger one profile of its own per kind: the lowest limit
 * over the CSMSs at every instant (combine.c). A session with one CSMS has
 * no state here and passes every frame by. What the load balancer makes of
 * the combined limit is the balancer's: it reads the gateway's profile as
 * it reads a CSMS's (docs/LOAD_BALANCING.md).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ocppgw/log.h"
#include "ocppgw/ocpp.h"
#include "ocppgw/store.h"
#include "features/balance/balance.h"
#include "features/multi/multi.h"
#include "features/state/state.h"
#include "session/session.h"

/* The gateway's combined profiles: ids apart from a CSMS's (numbered from
 * 1) and from the balancer's (770000000...). */
#define ID_CAP 771000000
#define ID_DEFAULT (ID_CAP + 100)        /* + EVSE, 0 for the whole charger */
#define N_EVSE (OGW_STATE_MAX_EVSE + 1)
#define SENT_CAP ((uint64_t)1 << N_EVSE) /* bit e: ID_DEFAULT + e is on the charger */
#define PER_CSMS 16                      /* profiles one CSMS may keep per charger */
#define OPEN_A 1000.0                    /* a gap no CSMS limits, between two limits */
#define HORIZON_S 86400                  /* a schedule that never settles: this far ahead */
#define SETTLED_MAX_S (7 * 86400)        /* ... or one that settles later than this */
#define STORE_KEY "multi.smart"

/* One profile a CSMS set, in that CSMS's version. */
struct rec {
	json_t *body;            /* its csChargingProfiles / chargingProfile */
	time_t received;
	char tx[40];             /* TxProfile: the charger's transaction it was set in */
	int64_t tx_started;      /* ... and its start (unix s) */
	int evse;
	unsigned int csms;       /* index in s->north[] */
	bool v16;
};

struct smart {
	struct ogw_session *s;
	lws_sorted_usec_list_t sul;  /* the next apply(): soon, or the horizon's refresh */
	struct rec *rec;
	size_t n;
	uint64_t sent;           /* which of the gateway's profiles the charger holds */
	json_t *last[N_EVSE + 1];  /* what each says (EVSE, N_EVSE: Max), to send only changes */
	int sent_level;          /* the highest stack level of theirs, -1: none */
	bool ready;              /* the charger booted: our calls may go */
	bool due;                /* apply() owed once it is */
};

static struct smart **slot(const struct ogw_session *s)
{
	return ogw_session_state(s, &ogw_multi_smart_stage);
}

static struct smart *smart_of(const struct ogw_session *s)
{
	struct smart **p = slot(s);
	return p ? *p : NULL;
}

/* A CSMS's name as the store keeps it: "primary" or the secondary's name. */
static const char *csms_name(struct ogw_session *s, unsigned int i)
{
	return i == 0 ? "primary"
		      : ogw_leg_secondary(&s->north[i].leg)->leg_name + strlen("north.");
}

static bool is_cap(const json_t *body)
{
	const char *p = json_string_value(json_object_get(body, "chargingProfilePurpose"));
	return p && (!strcmp(p, "ChargePointMaxProfile") || !strcmp(p, "ChargingStationMaxProfile"));
}

static bool is_tx(const json_t *body)
{
	const char *p = json_string_value(json_object_get(body, "chargingProfilePurpose"));
	return p && !strcmp(p, "TxProfile");
}

static json_int_t profile_id(const struct rec *r)
{
	return json_integer_value(json_object_get(r->body, r->v16 ? "chargingProfileId" : "id"));
}

static void rec_drop(struct smart *sm, size_t i)
{
	json_decref(sm->rec[i].body);
	sm->rec[i] = sm->rec[--sm->n];
}

/* ---- the store: every record of the charger under one key ----------------- */

static void save(struct smart *sm)
{
	struct ogw_session *s = sm->s;
	json_t *all = json_array();
	int r = -ENOMEM;

	for (size_t i = 0; all && i < sm->n; i++) {
		const struct rec *x = &sm->rec[i];
		if (json_array_append_new(all, json_pack("{s:s, s:i, s:b, s:I, s:s, s:I, s:O}",
							 "csms", csms_name(s, x->csms), "evse",
							 x->evse, "v16", x->v16, "received",
							 (json_int_t)x->received, "tx", x->tx,
							 "txStarted", (json_int_t)x->tx_started,
							 "profile", x->body)) < 0)
			goto out;
	}
	r = sm->n ? ogw_store_kv_put(s->gw->store, s->id, STORE_KEY, all)
		  : ogw_store_kv_del(s->gw->store, s->id, STORE_KEY);
out:
	json_decref(all);
	if (r < 0) {
		struct ogw_log_ctx lc = { s->id, NULL, NULL, NULL };
		ogw_err(&lc, "Failed to store the CSMSs' charging profiles: %s (kept in memory)",
			strerror(-r));
	}
}

/* What the store kept (@all, taken); a CSMS this session no longer has is
 * forgotten, every one when it has no secondary any more. What the charger
 * was given from them all is to be given again, or cleared. */
static void load(struct smart *sm, json_t *all)
{
	struct ogw_session *s = sm->s;
	json_t *x;
	size_t i, dropped = 0;

	sm->rec = calloc(json_array_size(all) + 1, sizeof(*sm->rec));
	json_array_foreach(all, i, x) {
		const char *name = json_string_value(json_object_get(x, "csms"));
		unsigned int c = 0;
		while (c < s->n_north && (!name || strcmp(csms_name(s, c), name) != 0))
			c++;
		json_t *body = json_object_get(x, "profile");
		int evse = (int)json_integer_value(json_object_get(x, "evse"));
		if (json_is_object(body) && evse >= 0 && evse < N_EVSE)
			sm->sent |= is_cap(body) ? SENT_CAP : (uint64_t)1 << evse;
		if (!sm->rec || c == s->n_north || s->n_north < 2 || !json_is_object(body)) {
			dropped++;
			continue;
		}
		struct rec *r = &sm->rec[sm->n++];
		r->body = json_incref(body);
		r->csms = c;
		r->evse = evse;
		r->v16 = json_is_true(json_object_get(x, "v16"));
		r->received = (time_t)json_integer_value(json_object_get(x, "received"));
		const char *tx = json_string_value(json_object_get(x, "tx"));
		snprintf(r->tx, sizeof(r->tx), "%s", tx ? tx : "");
		r->tx_started = json_integer_value(json_object_get(x, "txStarted"));
	}
	json_decref(all);
	if (dropped)
		save(sm);
}

/* ---- what the charger gets ------------------------------------------------- */

static void kick(struct smart *sm, unsigned int ms);

static void forget_said(struct smart *sm)
{
	for (int k = 0; k <= N_EVSE; k++) {
		json_decref(sm->last[k]);
		sm->last[k] = NULL;
	}
}

static void sent_done(struct ogw_tr_env *env, void *user, const json_t *result)
{
	struct ogw_session *s = ogw_env_session(env);
	const char *st = json_string_value(json_object_get(result, "status"));

	if (st && !strcmp(st, "Accepted"))
		return;
	struct ogw_log_ctx lc = { s->id, "south", (const char *)user, NULL };
	ogw_warn(&lc, "the charger did not take the CSMSs' combined profile: %s",
		 st ? st : "no answer");
	/* what it holds is unknown now: the next change sends everything */
	if (smart_of(s))
		forget_said(smart_of(s));
}

static void send_down(struct smart *sm, const char *action, json_t *payload)
{
	struct ogw_session *s = sm->s;
	int r = ogw_tr_emit(&s->env, OGW_TR_DOWN, action, payload, sent_done, (void *)action);

	if (r < 0) {
		struct ogw_log_ctx lc = { s->id, "south", action, NULL };
		ogw_warn(&lc, "the CSMSs' combined profile not sent: %s", strerror(-r));
	}
}

/* The EVSE's transaction as the state stage knows it: its id ("" none)
 * and start (0 none). */
static const struct ogw_evse_state *evse_state(struct ogw_session *s, int evse)
{
	const struct ogw_charger_state *cs = ogw_state_of(s);
	for (int i = 0; evse > 0 && i < cs->n_evse; i++)
		if (cs->evse[i].id == evse)
			return &cs->evse[i];
	return NULL;
}

/* Whether TxProfile @r's transaction runs: the charger state says so, or
 * it knows of none on that EVSE (after a gateway restart; the profile
 * goes when a StopTransaction / TransactionEvent Ended names it). */
static bool tx_runs(struct ogw_session *s, const struct rec *r)
{
	const struct ogw_evse_state *e = evse_state(s, r->evse);
	return !e || !e->tx_id[0] || !strcmp(e->tx_id, r->tx);
}

/*
 * The stack level of the gateway's profile on @evse: the highest a CSMS
 * used there (the charger takes that level), below the balancer's own on this
 * charger, so that neither replaces the other (same purpose and level,
 * 1.6 §3.13.2): the balancer's profile wins and is capped by ours.
 */
static int level_for(struct smart *sm, const struct ogw_multi_profile *p, size_t n, int evse)
{
	int level = 0, bal = ogw_balance_stack_level(sm->s);

	for (size_t i = 0; i < n; i++) {
		if (p[i].evse != evse && p[i].evse != 0)
			continue;
		json_int_t l = json_integer_value(json_object_get(p[i].body, "stackLevel"));
		if (l > level)
			level = (int)l;
	}
	if (bal >= 0 && level >= bal)
		level = bal > 0 ? bal - 1 : 0;
	return level;
}

/* What schedule @s at @level limits from @now on, in wall-clock instants:
 * equal for two computations that give the charger the same limits (a
 * first period in force already counts from "now", whenever that was). */
static json_t *said_json(const struct ogw_multi_schedule *s, int level, time_t now)
{
	json_t *o = json_pack("[i, b, I]", level, s->open_end,
			      (json_int_t)(s->open_end ? 0 : s->from + s->duration_s));

	for (size_t i = 0; o && i < s->n; i++) {
		time_t at = s->from + s->periods[i].start_s;
		if (json_array_append_new(o, json_pack("[I, f]", (json_int_t)(at > now ? at : 0),
						       s->periods[i].limit_a)) < 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

/* Sends the combination of @p on EVSE @evse (@cap: the Max profile; @tx
 * the start of its transaction, 0 none), or clears the gateway's profile
 * there when nothing limits. Returns when it must be computed again (0:
 * never). */
static time_t send_one(struct smart *sm, struct ogw_multi_profile *p, size_t n, int evse, bool cap,
		       int64_t tx, time_t now)
{
	struct ogw_session *s = sm->s;
	bool v16 = s->south.ver == OGW_OCPP16;
	uint64_t bit = cap ? SENT_CAP : (uint64_t)1 << evse;
	int id = cap ? ID_CAP : ID_DEFAULT + evse;
	double voltage = s->gw->conf.lb ? s->gw->conf.lb->voltage : 230.0;
	struct ogw_multi_schedule sch;
	time_t settle, refresh = 0;
	int dur = HORIZON_S;

	bool open = ogw_multi_settles(p, n, evse, tx, &settle) && settle < now + SETTLED_MAX_S;
	if (open)
		dur = settle > now ? (int)(settle - now) + 1 : 1;
	else
		refresh = now + HORIZON_S / 2;
	if (ogw_multi_combine(p, n, evse, now, dur, tx, voltage, &sch) < 0) {
		struct ogw_log_ctx lc = { s->id, "south", "SetChargingProfile", NULL };
		ogw_err(&lc, "Failed to combine the CSMSs' profiles: out of memory");
		return now + 1;
	}
	sch.open_end = open;
	if (!ogw_multi_schedule_trim(&sch)) {
		ogw_multi_schedule_clear(&sch);
		if (sm->sent & bit)
			send_down(sm, "ClearChargingProfile",
				  json_pack("{s:i}", v16 ? "id" : "chargingProfileId", id));
		sm->sent &= ~bit;
		return refresh;
	}
	int level = level_for(sm, p, n, evse);
	json_t *said = said_json(&sch, level, now);
	json_t **last = &sm->last[cap ? N_EVSE : evse];
	if (level > sm->sent_level)
		sm->sent_level = level;
	if ((sm->sent & bit) && said && *last && json_equal(said, *last)) {
		/* the same limits from the same instants: the charger has them */
		json_decref(said);
		ogw_multi_schedule_clear(&sch);
		return refresh;
	}
	json_decref(*last);
	*last = said;
	json_t *body = ogw_multi_schedule_profile(&sch, s->south.ver, cap, id, level, OPEN_A);
	ogw_multi_schedule_clear(&sch);
	send_down(sm, "SetChargingProfile",
		  body ? json_pack("{s:i, s:o}", v16 ? "connectorId" : "evseId", evse,
				   v16 ? "csChargingProfiles" : "chargingProfile", body) : NULL);
	sm->sent |= bit;
	return refresh;
}

/*
 * Gives the charger the combination of every CSMS's profiles: one Max
 * profile from their Max profiles; one TxDefault for EVSE 0 from their
 * profiles there; one per EVSE a CSMS named or a transaction runs on
 * (which combines EVSE 0's with its own and its transaction's), which
 * overrides EVSE 0's there as a CSMS's would.
 */
static void apply(struct smart *sm)
{
	struct ogw_session *s = sm->s;
	struct ogw_multi_profile *cap = calloc(sm->n + 1, sizeof(*cap));
	struct ogw_multi_profile *rest = calloc(sm->n + 1, sizeof(*rest));
	size_t n_cap = 0, n_rest = 0;
	uint64_t evses = 0;
	int64_t txs[N_EVSE] = { 0 };  /* each EVSE's transaction's start */
	time_t now = time(NULL), next = 0;

	sm->due = !sm->ready || s->south.state != OGW_LEG_UP;
	if (sm->due)
		goto out;
	if (!cap || !rest) {
		kick(sm, 1000);
		goto out;
	}
	sm->sent_level = -1;  /* the highest of what the charger holds, from here */
	for (size_t i = 0; i < sm->n; i++) {
		const struct rec *r = &sm->rec[i];
		struct ogw_multi_profile mp = { .body = r->body, .v16 = r->v16, .evse = r->evse,
						.received = r->received, .csms = r->csms };
		if (is_cap(r->body)) {
			cap[n_cap++] = mp;
			continue;
		}
		/* a TxProfile counts while its transaction runs (1.6 §3.13.1) */
		if (is_tx(r->body) && !tx_runs(s, r))
			continue;
		if (is_tx(r->body))
			txs[r->evse] = r->tx_started;
		rest[n_rest++] = mp;
		if (r->evse > 0)
			evses |= (uint64_t)1 << r->evse;
	}
	const struct ogw_charger_state *cs = ogw_state_of(s);
	for (int i = 0; i < cs->n_evse; i++)
		if (cs->evse[i].tx_id[0] && cs->evse[i].id < N_EVSE) {
			txs[cs->evse[i].id] = cs->evse[i].tx_started;
			if (n_rest)
				evses |= (uint64_t)1 << cs->evse[i].id;
		}
	time_t t[N_EVSE + 1];
	t[0] = send_one(sm, cap, n_cap, 0, true, 0, now);
	for (int e = 0; e < N_EVSE; e++) {
		if (e == 0 || (evses | sm->sent) & ((uint64_t)1 << e))
			t[e + 1] = send_one(sm, rest, e && !(evses & ((uint64_t)1 << e)) ? 0 : n_rest,
					    e, false, txs[e], now);
		else
			t[e + 1] = 0;
	}
	for (int e = 0; e <= N_EVSE; e++)
		if (t[e] && (!next || t[e] < next))
			next = t[e];
	if (next)
		kick(sm, (unsigned int)((next - now) * 1000));
out:
	free(cap);
	free(rest);
}

static void tick(lws_sorted_usec_list_t *sul)
{
	apply(lws_container_of(sul, struct smart, sul));
}

static void kick(struct smart *sm, unsigned int ms)
{
	struct ogw_gateway *gw = sm->s->gw;

	if (gw->ctx && !gw->stopping)
		lws_sul_schedule(gw->ctx, 0, &sm->sul, tick, (lws_usec_t)ms * 1000);
}

/* ---- what a CSMS sends ------------------------------------------------------- */

/* The answer @v gives with @status (2.x: and @reason when refused). */
static json_t *status_json(enum ogw_ocpp v, const char *status, const char *reason)
{
	json_t *o = json_pack("{s:s}", "status", status);
	if (o && reason && v != OGW_OCPP16)
		json_object_set_new(o, "statusInfo", json_pack("{s:s}", "reasonCode", reason));
	return o;
}

/* A new profile replaces the CSMS's own with its id, or with its purpose
 * and stack level on the same EVSE (1.6 §3.13.2, 2.0.1 K01.FR.05). */
static bool replaces(const struct rec *old, const struct rec *new)
{
	if (old->csms != new->csms)
		return false;
	if (profile_id(old) == profile_id(new))
		return true;
	json_t *a = old->body, *b = new->body;
	return old->evse == new->evse &&
	       json_integer_value(json_object_get(a, "stackLevel")) ==
	       json_integer_value(json_object_get(b, "stackLevel")) &&
	       json_equal(json_object_get(a, "chargingProfilePurpose"),
			  json_object_get(b, "chargingProfilePurpose"));
}

/* Why CSMS @c's SetChargingProfile @p (in @v) cannot be recorded, or NULL;
 * *ret_rec filled when it can. */
static const char *check_set(struct smart *sm, unsigned int c, enum ogw_ocpp v, const json_t *p,
			     struct rec *ret_rec)
{
	bool v16 = v == OGW_OCPP16;
	json_t *body = json_object_get(p, v16 ? "csChargingProfiles" : "chargingProfile");
	json_int_t evse = json_integer_value(json_object_get(p, v16 ? "connectorId" : "evseId"));
	const char *purpose = json_string_value(json_object_get(body, "chargingProfilePurpose"));
	const char *kind = json_string_value(json_object_get(body, "chargingProfileKind"));
	size_t mine = 0;

	if (evse < 0 || evse >= N_EVSE)
		return "UnknownEvse";
	/* 2.0.1 K01.FR.22: external constraints are not a CSMS's; 2.1's
	 * PriorityCharging and LocalGeneration raise or inform: not combined */
	if (!purpose || (!is_cap(body) && strcmp(purpose, "TxDefaultProfile") != 0 &&
			 strcmp(purpose, "TxProfile") != 0))
		return "UnsupportedPurpose";
	if (kind && !strcmp(kind, "Dynamic"))
		return "UnsupportedKind";
	/* 1.6 §3.13.1 / 2.0.1 K01: the Max profile on the whole charger; a
	 * TxProfile on an EVSE with a transaction running */
	if (is_cap(body) && evse != 0)
		return "InvalidEvse";
	const struct ogw_evse_state *e = evse_state(sm->s, (int)evse);
	if (is_tx(body) && (!e || !e->tx_id[0]))
		return "TxNotFound";
	*ret_rec = (struct rec){ .body = body, .received = time(NULL), .evse = (int)evse,
				 .csms = c, .v16 = v16 };
	if (is_tx(body)) {
		snprintf(ret_rec->tx, sizeof(ret_rec->tx), "%s", e->tx_id);
		ret_rec->tx_started = e->tx_started;
	}
	/* what it replaces does not count */
	for (size_t i = 0; i < sm->n; i++)
		mine += sm->rec[i].csms == c && !replaces(&sm->rec[i], ret_rec);
	return mine >= PER_CSMS ? "TooManyProfiles" : NULL;
}

static json_t *on_set(struct smart *sm, unsigned int c, enum ogw_ocpp v, const json_t *p,
		      const char **ret_reason)
{
	struct rec r;

	*ret_reason = check_set(sm, c, v, p, &r);
	if (*ret_reason)
		return status_json(v, "Rejected", *ret_reason);
	json_t *copy = json_deep_copy(r.body);
	struct rec *grown = copy ? realloc(sm->rec, (sm->n + 1) * sizeof(*grown)) : NULL;
	if (!grown) {
		json_decref(copy);
		return status_json(v, "Rejected", *ret_reason = "OutOfMemory");
	}
	sm->rec = grown;
	r.body = copy;
	for (size_t i = sm->n; i-- > 0;)
		if (replaces(&sm->rec[i], &r))
			rec_drop(sm, i);
	sm->rec[sm->n++] = r;
	return status_json(v, "Accepted", NULL);
}

/* ClearChargingProfile (1.6 §5.3, 2.0.1 K10): by id, or by the criteria
 * given (EVSE, purpose, stack level); none at all clears every profile,
 * here every one of that CSMS. */
static json_t *on_clear(struct smart *sm, unsigned int c, enum ogw_ocpp v, const json_t *p)
{
	bool v16 = v == OGW_OCPP16;
	const json_t *crit = v16 ? p : json_object_get(p, "chargingProfileCriteria");
	const json_t *id = json_object_get(p, v16 ? "id" : "chargingProfileId");
	const json_t *evse = json_object_get(crit, v16 ? "connectorId" : "evseId");
	const json_t *level = json_object_get(crit, "stackLevel");
	const json_t *purpose = json_object_get(crit, "chargingProfilePurpose");
	size_t hit = 0;

	for (size_t i = sm->n; i-- > 0;) {
		const struct rec *r = &sm->rec[i];
		bool match = json_is_integer(id) ? profile_id(r) == json_integer_value(id) :
			(!evse || json_integer_value(evse) == r->evse) &&
			(!level || json_equal(level, json_object_get(r->body, "stackLevel"))) &&
			(!purpose || json_equal(purpose, json_object_get(r->body,
									 "chargingProfilePurpose")));
		if (r->csms == c && match) {
			rec_drop(sm, i);
			hit++;
		}
	}
	return status_json(v, hit ? "Accepted" : "Unknown", NULL);
}

static enum ogw_stage_verdict smart_on_call(struct ogw_leg *from, struct ogw_frame *f)
{
	struct ogw_session *s = from->s;
	struct smart *sm = smart_of(s);
	bool set = !strcmp(f->action, "SetChargingProfile");
	const char *reason = NULL;

	if (!sm || s->n_north < 2 || from->kind != OGW_NORTH || f->type != OGW_MSG_CALL ||
	    (!set && strcmp(f->action, "ClearChargingProfile") != 0))
		return OGW_STAGE_CONTINUE;
	unsigned int c = (unsigned int)(ogw_leg_north(from) - s->north);
	size_t before = sm->n;
	json_t *res = set ? on_set(sm, c, from->ver, f->payload, &reason)
			  : on_clear(sm, c, from->ver, f->payload);
	struct ogw_log_ctx lc = { s->id, c ? ogw_leg_secondary(from)->leg_name : "north",
				  f->action, f->id };
	const char *st = json_string_value(json_object_get(res, "status"));
	if (reason)
		ogw_info(&lc, "%s's profile refused: %s", csms_name(s, c), reason);
	else
		ogw_info(&lc, "%s: %s; %zu profile%s of the CSMSs now, combined for the charger",
			 csms_name(s, c), st ? st : "?", sm->n, sm->n == 1 ? "" : "s");
	if (!reason && (set || sm->n != before)) {
		save(sm);
		apply(sm);
	}
	if (res)
		ogw_leg_send_result(from, f->action, f->id, res);
	else
		ogw_leg_send_error(from, f->id, OGW_ERR_INTERNAL, "out of memory");
	json_decref(res);
	return OGW_STAGE_DONE;
}

/* ---- what the charger does ---------------------------------------------------- */

/* The charger's transaction @tx ended: its TxProfiles go (1.6 §3.13.1). */
static void tx_ended(struct smart *sm, const char *tx)
{
	size_t before = sm->n;

	for (size_t i = sm->n; tx && i-- > 0;)
		if (is_tx(sm->rec[i].body) && !strcmp(sm->rec[i].tx, tx))
			rec_drop(sm, i);
	if (sm->n != before)
		save(sm);
}

static void smart_observe(struct ogw_session *s, enum ogw_obs what, const char *action,
			  const json_t *payload)
{
	struct smart *sm = smart_of(s);
	char buf[24];

	if (!sm)
		return;
	if (what == OGW_OBS_DOWN_CALL && !strcmp(action, "SetChargingProfile")) {
		/* the balancer's own profile at or below ours: ours go below it */
		const json_t *body = json_object_get(payload, s->south.ver == OGW_OCPP16 ?
						     "csChargingProfiles" : "chargingProfile");
		json_int_t id = json_integer_value(json_object_get(
			body, s->south.ver == OGW_OCPP16 ? "chargingProfileId" : "id"));
		json_int_t level = json_integer_value(json_object_get(body, "stackLevel"));
		if ((id < ID_CAP || id > ID_DEFAULT + N_EVSE) && sm->sent && level > 0 &&
		    level <= sm->sent_level)
			kick(sm, 0);
		return;
	}
	bool was = sm->ready;
	if (what == OGW_OBS_UP_RESULT && !strcmp(action, "BootNotification")) {
		const char *st = json_string_value(json_object_get(payload, "status"));
		sm->ready = st && !strcmp(st, "Accepted");
	} else if (what == OGW_OBS_UP_CALL && strcmp(action, "BootNotification") != 0) {
		sm->ready = true;  /* it booted before this session saw it */
	}
	if (!sm->n && !sm->sent)
		return;
	if (sm->ready && (!was || sm->due)) {
		forget_said(sm);  /* a charger (re)connected: everything again */
		kick(sm, 0);
		return;
	}
	/* a transaction's start or end changes what its EVSE gets */
	const char *event = json_string_value(json_object_get(payload, "eventType"));
	if (what == OGW_OBS_UP_CALL && !strcmp(action, "StopTransaction")) {
		snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(
			 json_object_get(payload, "transactionId")));
		tx_ended(sm, buf);
		kick(sm, 0);
	} else if (what == OGW_OBS_UP_CALL && !strcmp(action, "TransactionEvent") && event &&
		   strcmp(event, "Updated") != 0) {
		if (!strcmp(event, "Ended"))
			tx_ended(sm, json_string_value(json_object_get(
				json_object_get(payload, "transactionInfo"), "transactionId")));
		kick(sm, 0);
	} else if (what == OGW_OBS_UP_RESULT && !strcmp(action, "StartTransaction")) {
		kick(sm, 0);
	}
}

static bool smart_on_leg(struct ogw_leg *l, enum ogw_leg_event ev)
{
	struct smart *sm = smart_of(l->s);

	if (sm && l->kind == OGW_SOUTH && ev == OGW_LEG_EV_DOWN)
		sm->ready = false;
	return false;
}

/* A session with secondaries gets the state, and one whose charger still
 * holds the gateway's combined profiles from when it had some (to clear
 * them once it is up: the primary's own go to the charger again). */
static int smart_session_new(struct ogw_session *s)
{
	json_t *all = ogw_store_kv_get(s->gw->store, s->id, STORE_KEY, NULL);

	if (s->n_north < 2 && !all)
		return 0;
	struct smart *sm = calloc(1, sizeof(*sm));
	if (!sm) {
		json_decref(all);
		return -ENOMEM;
	}
	sm->s = s;
	sm->sent_level = -1;
	*slot(s) = sm;
	load(sm, all);
	return 0;
}

static void smart_session_free(struct ogw_session *s)
{
	struct smart *sm = smart_of(s);

	if (!sm)
		return;
	lws_sul_cancel(&sm->sul);
	forget_said(sm);
	for (size_t i = 0; i < sm->n; i++)
		json_decref(sm->rec[i].body);
	free(sm->rec);
	free(sm);
	*slot(s) = NULL;
}

const struct ogw_stage ogw_multi_smart_stage = {
	.name = "multi-smart",
	.state_size = sizeof(struct smart *),  /* made for sessions with secondaries only */
	.on_session_new = smart_session_new,
	.on_session_free = smart_session_free,
	.on_leg = smart_on_leg,
	.on_call = smart_on_call,
	.observe = smart_observe,
};
