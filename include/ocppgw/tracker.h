/* SPDX-License-Identifier: MIT */
/*
 * Call tracking for one direction of one leg: the CALLs this side sends,
 * at most one outstanding at a time, later ones waiting in order, each with
 * a deadline. Pure bookkeeping: no I/O and no timers, the caller drives it
 * with the time, so it can be tested without a loop.
 */
#ifndef OCPPGW_TRACKER_H
#define OCPPGW_TRACKER_H

#include <jansson.h>
#include <libwebsockets.h>
#include <stdint.h>

#include "ocppgw/rpc.h"

struct ogw_call;

/* Called once per call when it is answered (@answer is the CALLRESULT or
 * CALLERROR frame) or given up (@answer NULL: timeout, leg closed). */
typedef void (*ogw_call_done_fn)(struct ogw_call *c, const struct ogw_frame *answer);

struct ogw_call {
	lws_dll2_t list;                   /* the tracker's waiting list */
	lws_dll2_t timeouts;               /* not used by the tracker: free for the
	                                      owner's deadline-ordered list */
	char id[OGW_MSGID_MAX + 1];        /* id on the leg it is sent on; set when sent */
	char action[OGW_ACTION_MAX + 1];
	enum ogw_msg_type type;            /* CALL or SEND */
	json_t *payload;                   /* owned */
	uint64_t deadline_us;              /* monotonic; answer expected by then */
	/* Who is waiting for the answer: the peer's message id when this call
	 * relays a peer's CALL, "" for calls the gateway makes itself. */
	char origin_id[OGW_MSGID_MAX + 1];
	ogw_call_done_fn done;
	void *user;
	void *origin;                      /* borrowed: where a relayed CALL came from */
	const void *ctx;                   /* borrowed: what @done needs besides user */
	json_t *memo;                      /* owned: released with the call */
	char *rest;                        /* owned: the text after the id when the
	                                      call is relayed unchanged (see
	                                      ogw_rpc_reframe), else NULL */
	size_t rest_len;
};

struct ogw_tracker {
	lws_dll2_owner_t waiting;    /* not yet sent, oldest first */
	struct ogw_call *outstanding;
	unsigned int max_waiting;
};

/* Takes ownership of @payload. NULL on ENOMEM (payload then released). */
struct ogw_call *ogw_call_new(const char *action, json_t *payload, uint64_t deadline_us);
/* NULL-safe; returns NULL. */
struct ogw_call *ogw_call_free(struct ogw_call *c);

void ogw_tracker_init(struct ogw_tracker *t, unsigned int max_waiting);
/* Queues @c, taking ownership. -ENOBUFS when max_waiting calls already
 * wait; then the caller still owns @c. */
int ogw_tracker_push(struct ogw_tracker *t, struct ogw_call *c);
/* When nothing is outstanding and a call waits, makes the oldest one
 * outstanding and returns it for the caller to give an id and send. The
 * tracker keeps ownership. Otherwise NULL. */
struct ogw_call *ogw_tracker_next(struct ogw_tracker *t);
/* If the outstanding call has id @id, removes it and hands it to the caller;
 * otherwise NULL (an answer to an unknown id). */
struct ogw_call *ogw_tracker_take_answered(struct ogw_tracker *t, const char *id);
/* Removes and returns one call whose deadline is <= @now_us (the outstanding
 * one first, then waiting ones in order), or NULL. Caller owns it. */
struct ogw_call *ogw_tracker_take_expired(struct ogw_tracker *t, uint64_t now_us);
/* Earliest deadline of any tracked call, or UINT64_MAX. */
uint64_t ogw_tracker_next_deadline(const struct ogw_tracker *t);
/* Number of calls tracked (outstanding + waiting). */
unsigned int ogw_tracker_count(const struct ogw_tracker *t);
/* Removes every call, outstanding first, handing each to @fn (which owns it). */
void ogw_tracker_drain(struct ogw_tracker *t, void (*fn)(struct ogw_call *c, void *arg),
		       void *arg);

#endif
