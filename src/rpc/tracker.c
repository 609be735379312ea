/* SPDX-License-Identifier: MIT */
/*
 * Call tracking for one direction of one leg: one outstanding CALL, later
 * ones waiting in order, each with an absolute monotonic deadline the
 * caller set. Pure bookkeeping on lws_dll2 lists; no I/O, no timers, no
 * logging: the session layer drives it and reports what happened.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libwebsockets.h>

#include "ocppgw/tracker.h"

struct ogw_call *ogw_call_new(const char *action, json_t *payload, uint64_t deadline_us)
{
	struct ogw_call *c = NULL;
	size_t n;

	if (!action)
		goto out;
	n = strlen(action);
	if (n == 0 || n > OGW_ACTION_MAX)
		goto out;
	c = calloc(1, sizeof(*c));
	if (!c)
		goto out;
	memcpy(c->action, action, n + 1);
	c->type = OGW_MSG_CALL;
	c->payload = payload;
	payload = NULL;
	c->deadline_us = deadline_us;
out:
	json_decref(payload);
	return c;
}

struct ogw_call *ogw_call_free(struct ogw_call *c)
{
	if (!c)
		return NULL;
	if (!lws_dll2_is_detached(&c->list))
		lws_dll2_remove(&c->list);
	json_decref(c->payload);
	json_decref(c->memo);
	free(c->rest);
	free(c);
	return NULL;
}

void ogw_tracker_init(struct ogw_tracker *t, unsigned int max_waiting)
{
	memset(t, 0, sizeof(*t));
	t->max_waiting = max_waiting;
}

int ogw_tracker_push(struct ogw_tracker *t, struct ogw_call *c)
{
	if (!c || !lws_dll2_is_detached(&c->list))
		return -EINVAL;
	if ((unsigned int)t->waiting.count >= t->max_waiting)
		return -ENOBUFS;
	lws_dll2_add_tail(&c->list, &t->waiting);
	return 0;
}

static struct ogw_call *call_of(struct lws_dll2 *d)
{
	return lws_container_of(d, struct ogw_call, list);
}

struct ogw_call *ogw_tracker_next(struct ogw_tracker *t)
{
	struct lws_dll2 *d;

	if (t->outstanding)
		return NULL;
	d = lws_dll2_get_head(&t->waiting);
	if (!d)
		return NULL;
	lws_dll2_remove(d);
	t->outstanding = call_of(d);
	return t->outstanding;
}

struct ogw_call *ogw_tracker_take_answered(struct ogw_tracker *t, const char *id)
{
	struct ogw_call *c = t->outstanding;

	if (!c || !id || strcmp(c->id, id) != 0)
		return NULL;
	t->outstanding = NULL;
	return c;
}

struct ogw_call *ogw_tracker_take_expired(struct ogw_tracker *t, uint64_t now_us)
{
	struct ogw_call *c = t->outstanding;

	if (c && c->deadline_us <= now_us) {
		t->outstanding = NULL;
		return c;
	}
	lws_start_foreach_dll_safe(struct lws_dll2 *, d, d1, lws_dll2_get_head(&t->waiting)) {
		c = call_of(d);
		if (c->deadline_us <= now_us) {
			lws_dll2_remove(d);
			return c;
		}
	} lws_end_foreach_dll_safe(d, d1);
	return NULL;
}

uint64_t ogw_tracker_next_deadline(const struct ogw_tracker *t)
{
	uint64_t min = t->outstanding ? t->outstanding->deadline_us : UINT64_MAX;

	for (const struct lws_dll2 *d = t->waiting.head; d; d = d->next) {
		const struct ogw_call *c = lws_container_of(d, struct ogw_call, list);

		if (c->deadline_us < min)
			min = c->deadline_us;
	}
	return min;
}

unsigned int ogw_tracker_count(const struct ogw_tracker *t)
{
	return (t->outstanding ? 1u : 0u) + (unsigned int)t->waiting.count;
}

void ogw_tracker_drain(struct ogw_tracker *t, void (*fn)(struct ogw_call *c, void *arg),
		       void *arg)
{
	struct ogw_call *c = t->outstanding;
	struct lws_dll2 *d;

	t->outstanding = NULL;
	if (c)
		fn(c, arg);
	while ((d = lws_dll2_get_head(&t->waiting))) {
		lws_dll2_remove(d);
		fn(call_of(d), arg);
	}
}
