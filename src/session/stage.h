/* SPDX-License-Identifier: MIT */
/*
 * The stage interface: how a feature (offline store, id maps, charger
 * state, balancer, credentials, metrics) joins a session's pipeline. A
 * feature fills in one struct ogw_stage; src/gateway/gateway.c lists them
 * once, in pipeline order, and the session calls each hook in that order.
 * The session never calls a feature by name; a stage never calls another.
 */
#ifndef OGW_STAGE_H
#define OGW_STAGE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "ocppgw/rpc.h"
#include "ocppgw/tracker.h"
#include "ocppgw/translator.h"

struct ogw_session;
struct ogw_leg;

/* What a hook that sees a frame says about it. */
enum ogw_stage_verdict {
	OGW_STAGE_CONTINUE = 0,   /* the next stage, then the session, goes on */
	OGW_STAGE_DONE,           /* the stage answered or took the frame: it goes no further */
	OGW_STAGE_CHANGED,        /* the stage rewrote the payload: the received bytes are stale */
};

/*
 * What the session observes on a south leg, in the charger's version.
 *   UP_CALL      a CALL from the charger      (payload: its request)
 *   UP_RESULT    our CALLRESULT to that CALL  (payload: the response; the
 *                request's action, whichever leg or local answer produced it)
 *   DOWN_CALL    a CALL we send the charger   (relayed or the gateway's own)
 *   DOWN_RESULT  the charger's CALLRESULT to it
 */
enum ogw_obs {
	OGW_OBS_UP_CALL,
	OGW_OBS_UP_RESULT,
	OGW_OBS_DOWN_CALL,
	OGW_OBS_DOWN_RESULT,
};

/* A frame counted on a leg (any leg, any version): for metrics. */
enum ogw_frame_event_kind {
	OGW_FRAME_SEEN,           /* a frame crossed the leg */
	OGW_FRAME_INVALID,        /* a payload failed its schema */
	OGW_FRAME_ANSWERED,       /* a CALL sent at sent_us was answered now */
};
struct ogw_frame_event {
	enum ogw_frame_event_kind kind;
	int dir;                  /* 0 received from the leg's peer, 1 sent to it */
	enum ogw_msg_type type;
	const char *action;       /* NULL: not known to the schemas */
	const char *err_code;     /* a CALLERROR's code, else NULL */
	uint64_t sent_us;
};

enum ogw_leg_event {
	OGW_LEG_EV_UP,            /* the leg is up (north: after its handshake) */
	OGW_LEG_EV_DOWN,          /* the leg is gone */
};

/*
 * One stage. Every hook is optional (NULL: the stage has nothing to do
 * there). Hooks run in the order of the registration list; the first
 * that says DONE ends the walk.
 */
struct ogw_stage {
	const char *name;

	/* Bytes of per-session state the stage keeps: the session allocates
	 * them with itself, zeroed (one allocation per charger, whatever the
	 * stages), at OGW_STAGE_STATE_ALIGN, and ogw_session_state() finds
	 * them. 0: none. */
	size_t state_size;

	/* A session was made (0, or a negative errno: the session is not
	 * made) or is being freed. on_session_free also runs for a session
	 * whose on_session_new never ran (another stage failed first): its
	 * state is still all zeroes then. */
	int (*on_session_new)(struct ogw_session *s);
	void (*on_session_free)(struct ogw_session *s);

	/* Leg @l went up or down. For a south leg going down: true when the
	 * stage keeps the session alive without its charger (detached). */
	bool (*on_leg)(struct ogw_leg *l, enum ogw_leg_event ev);

	/* A validated CALL (or SEND) that came in on @from, before
	 * translation. DONE: the stage answered it. CHANGED: it rewrote
	 * f->payload in place (the session drops the received bytes). */
	enum ogw_stage_verdict (*on_call)(struct ogw_leg *from, struct ogw_frame *f);

	/* A CALL from @from about to be queued on @to as @action/@payload, in
	 * @to's version, after translation (@entry, @memo: the translator's;
	 * NULL when relayed as is). DONE: the stage took it (@payload and
	 * @memo are its now, and it answers @from). CHANGED: it rewrote
	 * @payload (ids). */
	enum ogw_stage_verdict (*on_relay)(struct ogw_leg *from, struct ogw_leg *to,
					   const struct ogw_frame *f, const char *action,
					   json_t *payload, const struct ogw_tr_action *entry,
					   json_t *memo);

	/* A call of the gateway's own (a translator's emit) about to be queued
	 * on @to. DONE: the stage took @c and will run c->done exactly once.
	 * CHANGED: it rewrote c->payload. */
	enum ogw_stage_verdict (*on_own_call)(struct ogw_leg *to, struct ogw_call *c);

	/* A relayed call @c (c->user: the leg it went out on) was answered
	 * with CALLRESULT @res. The stage may record it; it may replace the
	 * answer the waiting peer gets by returning a new reference. */
	json_t *(*on_answer)(struct ogw_call *c, const json_t *res);

	/* Relayed call @c went down with its leg before an answer: true when
	 * the stage answered the waiting peer itself (salvaged it). */
	bool (*on_lost)(struct ogw_call *c);
	/* The same for a call of the gateway's own: the answer it gets in
	 * place of the peer's (a new reference), or NULL. */
	json_t *(*on_lost_own)(struct ogw_call *c);

	/* Observers of the south leg (see enum ogw_obs): they only read. */
	void (*observe)(struct ogw_session *s, enum ogw_obs what, const char *action,
			const json_t *payload);
	/* The charger's CALLRESULT @res to down-call @action whose request
	 * was @req (kept for the stages that say needs_request()). */
	void (*observe_answer)(struct ogw_session *s, const char *action, const json_t *req,
			       const json_t *res);
	/* Whether observe_answer() needs the request tree of down-call @action
	 * (else relayed bytes are sent without keeping it). */
	bool (*needs_request)(const char *action, const json_t *req);

	/* Which CSMS the charger's CALL @f belongs to (split by token,
	 * docs/MULTI_CSMS.md rule 4): the index in s->north[] of the only
	 * CSMS it goes to, whose answer the charger gets, or -1: every CSMS
	 * (rule 1), or OGW_ROUTE_ASK: every CSMS now, each secondary past its
	 * queue (an Authorize under token_routing "ask"; the stage picks the
	 * answer the charger gets with on_secondary_answer and hold_answer).
	 * The first stage with an answer other than -1 decides. */
	int (*route)(struct ogw_leg *from, const struct ogw_frame *f);
	/* A secondary's answer to a charger's CALL @action that went to every
	 * CSMS, in the charger's version: @res its CALLRESULT, or NULL (a
	 * CALLERROR, an invalid answer, none: down, timed out, not sent).
	 * Read only; nothing of it reaches the charger. */
	void (*on_secondary_answer)(struct ogw_leg *l, const char *action, const json_t *res);
	/* The answer to the charger's CALL @id (a session with secondaries)
	 * is about to leave on @south: CALLRESULT @res, or (@res NULL) a
	 * CALLERROR @err_code / @err_desc. True: the stage keeps it back and
	 * sends the charger an answer itself later (ogw_leg_send_result /
	 * ogw_leg_send_error), exactly once. */
	bool (*hold_answer)(struct ogw_leg *south, const char *id, const json_t *res,
			    const char *err_code, const char *err_desc);
	/* Every frame counted on any leg. */
	void (*on_frame)(struct ogw_leg *l, const struct ogw_frame_event *ev);

	/* Translators ask whether the stage still holds messages of 2.x
	 * transaction @txid (any transaction when NULL) for the CSMS. */
	bool (*holds)(struct ogw_session *s, const char *txid);
};

/* route(): the charger's CALL goes to every CSMS at once (see route). */
#define OGW_ROUTE_ASK (-2)

#define OGW_STAGES_MAX 16  /* 12 in use (gateway.c): room for a few more */
/* Each stage's state starts at a multiple of this: pointers, 64-bit
 * integers and doubles, what stage states hold (not max_align_t's 16, which
 * would pad every small state per charger). */
#define OGW_STAGE_STATE_ALIGN _Alignof(uint64_t)

/* The pipeline, in order; built once at gateway start (gateway.c). */
struct ogw_pipeline {
	const struct ogw_stage *stage[OGW_STAGES_MAX];
	size_t state_off[OGW_STAGES_MAX];  /* each stage's state in the session's block */
	size_t state_size;                 /* all of them, each aligned */
	size_t n;
};

#endif
