/* SPDX-License-Identifier: MIT */
/*
 * Version translators: tables of per-action functions from one OCPP version
 * to another, JSON in and JSON out. A translator does no I/O and keeps no
 * globals: everything it needs from the session (the charger id, durable
 * per-charger state, calls of its own, answers it gives later) goes through
 * the environment handed to it, so each function can be tested from a
 * fixture with a test environment.
 *
 * Directions: UP is charger -> CSMS (a CALL from the south leg, its result
 * coming back from the north leg); DOWN is CSMS -> charger.
 */
#ifndef OCPPGW_TRANSLATOR_H
#define OCPPGW_TRANSLATOR_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ocppgw/ocpp.h"

enum ogw_tr_dir {
	OGW_TR_UP = 0,   /* charger -> CSMS */
	OGW_TR_DOWN,     /* CSMS -> charger */
};

/* The session as a translator sees it (implemented by the session, or by
 * a test double). */
struct ogw_tr_env;
/* A CALL whose answer the translator gives later (OGW_TR_DEFER). */
struct ogw_tr_pending;

/* What becomes of a CALL once its function has run. */
enum ogw_tr_outcome {
	OGW_TR_FORWARD = 0, /* send out.action/out.payload on the other leg; its
	                       CALLRESULT comes back through the entry's result() */
	OGW_TR_ANSWER,      /* answer the caller now with out.payload */
	OGW_TR_DEFER,       /* the function called ogw_tr_defer() and answers later */
	OGW_TR_ERROR,       /* answer the caller with CALLERROR out.err/out.desc */
};

struct ogw_tr_out {
	enum ogw_tr_outcome outcome;
	const char *action;  /* FORWARD: action on the other leg (a static string) */
	json_t *payload;     /* FORWARD, ANSWER: a new reference, taken by the session */
	json_t *memo;        /* FORWARD: optional new reference kept with the call and
	                        handed to result() (e.g. the original request) */
	enum ogw_err err;    /* ERROR */
	char desc[200];      /* ERROR: errorDescription */
};

/* How an action is handled, for docs/TRANSLATION.md and its test. */
enum ogw_tr_kind {
	OGW_TR_MAPPED = 0,   /* becomes the counterpart action(s) */
	OGW_TR_SYNTHESIZED,  /* mapped, and the gateway also emits other messages */
	OGW_TR_LOCAL,        /* answered by the gateway itself */
	OGW_TR_REJECTED,     /* refused with a status or a CALLERROR */
};

struct ogw_tr_action {
	const char *action;  /* the CALL's action in the caller's version */
	enum ogw_tr_kind kind;
	const char *target;  /* what it becomes, for the docs ("TransactionEvent") */
	/* Translates @payload (borrowed). Returns 0 with *out filled, or a
	 * negative errno on an internal failure (the caller gets InternalError). */
	int (*call)(struct ogw_tr_env *env, const json_t *payload, struct ogw_tr_out *out);
	/* For FORWARD: turns the CALLRESULT @result (borrowed) into the caller's
	 * version, as a new reference in *ret. NULL slot: passed unchanged. */
	int (*result)(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
		      json_t **ret);
};

/*
 * A translator whose tables speak a neighbour of one leg's version: the
 * 1.6 <-> 2.0.1 tables serve a 2.1 CSMS (or a 2.1 charger) when every
 * payload on that leg also passes through the 2.0.1 <-> 2.1 adapter. The
 * session applies it to everything crossing that leg, its own calls
 * included.
 */
struct ogw_tr_shim {
	enum ogw_tr_dir leg;       /* OGW_TR_UP: on the north leg; DOWN: the south leg */
	enum ogw_ocpp tables;      /* the version the tables speak on that leg */
	/* @to_leg: from the tables' version to the leg's; else back. 0 with a
	 * new reference in *ret, or a negative errno with *err and @desc set:
	 * -ERANGE (a value the target cannot hold), -ENODATA (nothing left to
	 * send). */
	int (*adapt)(const char *action, bool response, bool to_leg, const json_t *in,
		     json_t **ret, enum ogw_err *err, char *desc, size_t desclen);
	/* The answer refusing @action (new reference), or NULL. */
	json_t *(*refusal)(const char *action);
	/* Answers the actions only the leg's version has: its table for calls
	 * from that leg (they never pass the adapter). */
	const struct ogw_translator *edge;
};

struct ogw_translator {
	enum ogw_ocpp south;
	enum ogw_ocpp north;
	const struct ogw_tr_action *up;    /* every action the charger may send */
	size_t n_up;
	const struct ogw_tr_action *down;  /* every action the CSMS may send */
	size_t n_down;
	const struct ogw_tr_shim *shim;    /* NULL: the tables speak both legs' versions */
};

/* The translator for a charger speaking @south behind a CSMS speaking
 * @north, or NULL when the gateway has none for that pair. Same-version
 * pairs have none: the session relays those without translating. */
const struct ogw_translator *ogw_translator_find(enum ogw_ocpp south, enum ogw_ocpp north);
/* The entry for @action in @dir, or NULL. */
const struct ogw_tr_action *ogw_translator_action(const struct ogw_translator *t,
						  enum ogw_tr_dir dir, const char *action);

/* ---- the environment (implemented by the session) ----------------------
 *
 * A translator reaches its session only through this table, handed to every
 * call() and result() as @env: the session fills one in (src/gateway), the
 * unit tests another (tests/unit/translators/fake_env.c). The inline
 * wrappers below are what translators call; nothing in translators/ links
 * against the session.
 */

/* Runs once, never from inside emit(), with the CALLRESULT payload, or with
 * NULL after a CALLERROR, a timeout or a lost leg. */
typedef void (*ogw_tr_done_fn)(struct ogw_tr_env *env, void *user, const json_t *result);

struct ogw_tr_env_ops {
	/* The charger's identity. */
	const char *(*charger)(const struct ogw_tr_env *env);
	/*
	 * A call the gateway makes itself on the leg @dir points at (UP: to
	 * the CSMS, DOWN: to the charger), queued behind calls already waiting
	 * there in one FIFO with relayed calls; its answer is never forwarded
	 * and goes to @done (may be NULL). Takes @payload, even on failure. 0
	 * or a negative errno (then @done is not called).
	 */
	int (*emit)(struct ogw_tr_env *env, enum ogw_tr_dir dir, const char *action,
		    json_t *payload, ogw_tr_done_fn done, void *user);
	/*
	 * Inside a call() function: the CALL will be answered later (return
	 * with out->outcome = OGW_TR_DEFER). With a @key (else NULL) it is
	 * findable from another call's function (a report the charger sends in
	 * parts answers the CALL that asked for it); left unanswered for the
	 * response timeout, the session answers it with a CALLERROR and forgets
	 * the key. Do not keep the pointer across calls: find it again by key.
	 * NULL on ENOMEM or when @key is in use.
	 */
	struct ogw_tr_pending *(*defer)(struct ogw_tr_env *env, const char *key);
	/* The CALL deferred under @key and not answered yet, or NULL. */
	struct ogw_tr_pending *(*pending_find)(struct ogw_tr_env *env, const char *key);
	/* Answers a deferred CALL with @payload (taken), or with a CALLERROR
	 * when @payload is NULL. Frees @p. */
	void (*answer)(struct ogw_tr_env *env, struct ogw_tr_pending *p, json_t *payload,
		       enum ogw_err err, const char *desc);
	/*
	 * Durable per-charger state in the gateway's store: JSON objects under
	 * string keys, surviving restarts, e.g. "tx:<2.x id>" with a
	 * transaction's seqNo and 1.6 id. get returns a new reference or NULL;
	 * put takes @value. 0 or a negative errno.
	 */
	json_t *(*state_get)(struct ogw_tr_env *env, const char *key);
	int (*state_put)(struct ogw_tr_env *env, const char *key, json_t *value);
	int (*state_del)(struct ogw_tr_env *env, const char *key);
	/* A fresh positive integer unique for this charger (1.6 transactionId,
	 * 2.x requestId), from a durable counter named @name. */
	int64_t (*next_id)(struct ogw_tr_env *env, const char *name);
	/* Whether the gateway still holds messages for the CSMS (its offline
	 * queue) of transaction @txid, as the upstream version names it; any
	 * transaction when @txid is NULL. */
	bool (*queued)(struct ogw_tr_env *env, const char *txid);
	/*
	 * A message the translator cannot carry to the other leg in any form:
	 * the session records it as a dead letter with @reason (visible in
	 * /api/site, /metrics and the log), so nothing disappears silently.
	 * @action and @payload (borrowed) are as the caller sent them.
	 */
	void (*lost)(struct ogw_tr_env *env, const char *action, const json_t *payload,
		     const char *reason);
};

/* What a translator holds of its session. Implementations embed it and
 * find themselves from it (container_of). */
struct ogw_tr_env {
	const struct ogw_tr_env_ops *ops;
};

static inline const char *ogw_tr_charger(const struct ogw_tr_env *env)
{
	return env->ops->charger(env);
}

static inline int ogw_tr_emit(struct ogw_tr_env *env, enum ogw_tr_dir dir, const char *action,
			      json_t *payload, ogw_tr_done_fn done, void *user)
{
	return env->ops->emit(env, dir, action, payload, done, user);
}

static inline struct ogw_tr_pending *ogw_tr_defer(struct ogw_tr_env *env)
{
	return env->ops->defer(env, NULL);
}

static inline struct ogw_tr_pending *ogw_tr_defer_keyed(struct ogw_tr_env *env, const char *key)
{
	return key && *key ? env->ops->defer(env, key) : NULL;
}

static inline struct ogw_tr_pending *ogw_tr_pending_find(struct ogw_tr_env *env, const char *key)
{
	return env->ops->pending_find(env, key);
}

static inline void ogw_tr_answer(struct ogw_tr_env *env, struct ogw_tr_pending *p,
				 json_t *payload, enum ogw_err err, const char *desc)
{
	env->ops->answer(env, p, payload, err, desc);
}

static inline json_t *ogw_tr_state_get(struct ogw_tr_env *env, const char *key)
{
	return env->ops->state_get(env, key);
}

static inline int ogw_tr_state_put(struct ogw_tr_env *env, const char *key, json_t *value)
{
	return env->ops->state_put(env, key, value);
}

static inline int ogw_tr_state_del(struct ogw_tr_env *env, const char *key)
{
	return env->ops->state_del(env, key);
}

static inline int64_t ogw_tr_next_id(struct ogw_tr_env *env, const char *name)
{
	return env->ops->next_id(env, name);
}

static inline bool ogw_tr_queued(struct ogw_tr_env *env, const char *txid)
{
	return env->ops->queued(env, txid);
}

static inline void ogw_tr_lost(struct ogw_tr_env *env, const char *action, const json_t *payload,
			       const char *reason)
{
	env->ops->lost(env, action, payload, reason);
}

#endif
