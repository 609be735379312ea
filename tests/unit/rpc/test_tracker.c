/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for call tracking: order, one outstanding call at a time,
 * answers by id, expiry of outstanding and waiting calls, the waiting cap,
 * deadlines and draining. No loop: the tests pass the time.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <criterion/criterion.h>

#include "ocppgw/tracker.h"

static struct ogw_call *mk(const char *action, uint64_t deadline)
{
	json_t *p = json_pack("{s:s}", "a", action);
	struct ogw_call *c;

	cr_assert_not_null(p);
	c = ogw_call_new(action, p, deadline);
	cr_assert_not_null(c);
	return c;
}

static struct ogw_call *send_next(struct ogw_tracker *t, const char *id)
{
	struct ogw_call *c = ogw_tracker_next(t);

	cr_assert_not_null(c);
	snprintf(c->id, sizeof(c->id), "%s", id);
	return c;
}

static void free_drained(struct ogw_call *c, void *arg)
{
	char *order = arg;

	strcat(order, c->action);
	ogw_call_free(c);
}

Test(tracker, call_new_rejects_bad_action)
{
	char longname[OGW_ACTION_MAX + 2];

	memset(longname, 'A', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	cr_assert_null(ogw_call_new(longname, json_object(), 1));
	cr_assert_null(ogw_call_new("", json_object(), 1));
	cr_assert_null(ogw_call_new(NULL, json_object(), 1));
	longname[OGW_ACTION_MAX] = '\0';
	struct ogw_call *c = ogw_call_new(longname, json_object(), 1);
	cr_assert_not_null(c);
	cr_assert_eq(c->type, OGW_MSG_CALL);
	cr_assert_str_eq(c->action, longname);
	cr_assert_null(ogw_call_free(c));
	cr_assert_null(ogw_call_free(NULL));
}

Test(tracker, order_and_one_outstanding)
{
	struct ogw_tracker t;
	struct ogw_call *c;
	char drained[64] = "";

	ogw_tracker_init(&t, 8);
	cr_assert_null(ogw_tracker_next(&t));
	cr_assert_eq(ogw_tracker_push(&t, mk("A", 100)), 0);
	cr_assert_eq(ogw_tracker_push(&t, mk("B", 200)), 0);
	cr_assert_eq(ogw_tracker_push(&t, mk("C", 300)), 0);
	cr_assert_eq(ogw_tracker_count(&t), 3);

	c = send_next(&t, "1");
	cr_assert_str_eq(c->action, "A");
	cr_assert_null(ogw_tracker_next(&t), "only one outstanding");
	cr_assert_eq(ogw_tracker_count(&t), 3);

	cr_assert_null(ogw_tracker_take_answered(&t, "2"), "wrong id");
	cr_assert_null(ogw_tracker_take_answered(&t, NULL));
	cr_assert_eq(ogw_tracker_take_answered(&t, "1"), c);
	cr_assert_null(ogw_tracker_take_answered(&t, "1"), "answered once");
	ogw_call_free(c);
	cr_assert_eq(ogw_tracker_count(&t), 2);

	c = send_next(&t, "2");
	cr_assert_str_eq(c->action, "B");
	c = ogw_tracker_take_answered(&t, "2");
	ogw_call_free(c);
	c = send_next(&t, "3");
	cr_assert_str_eq(c->action, "C");
	ogw_tracker_drain(&t, free_drained, drained);
	cr_assert_str_eq(drained, "C");
	cr_assert_eq(ogw_tracker_count(&t), 0);
	cr_assert_null(ogw_tracker_next(&t));
}

Test(tracker, answer_before_send_is_unknown)
{
	struct ogw_tracker t;
	char drained[64] = "";

	ogw_tracker_init(&t, 4);
	cr_assert_eq(ogw_tracker_push(&t, mk("A", 100)), 0);
	cr_assert_null(ogw_tracker_take_answered(&t, ""), "a waiting call has no id yet");
	ogw_tracker_drain(&t, free_drained, drained);
	cr_assert_str_eq(drained, "A");
}

Test(tracker, max_waiting)
{
	struct ogw_tracker t;
	struct ogw_call *extra;
	char drained[64] = "";

	ogw_tracker_init(&t, 2);
	cr_assert_eq(ogw_tracker_push(&t, mk("A", 1)), 0);
	cr_assert_eq(ogw_tracker_push(&t, mk("B", 1)), 0);
	extra = mk("X", 1);
	cr_assert_eq(ogw_tracker_push(&t, extra), -ENOBUFS);
	cr_assert_eq(ogw_tracker_count(&t), 2);
	/* the outstanding call does not count as waiting */
	send_next(&t, "a");
	cr_assert_eq(ogw_tracker_push(&t, extra), 0);
	extra = mk("Y", 1);
	cr_assert_eq(ogw_tracker_push(&t, extra), -ENOBUFS);
	ogw_call_free(extra);
	cr_assert_eq(ogw_tracker_count(&t), 3);
	ogw_tracker_drain(&t, free_drained, drained);
	cr_assert_str_eq(drained, "ABX", "outstanding first, then in order");
}

Test(tracker, push_twice_is_refused)
{
	struct ogw_tracker t;
	struct ogw_call *c = mk("A", 1);
	char drained[64] = "";

	ogw_tracker_init(&t, 4);
	cr_assert_eq(ogw_tracker_push(&t, c), 0);
	cr_assert_eq(ogw_tracker_push(&t, c), -EINVAL);
	cr_assert_eq(ogw_tracker_count(&t), 1);
	ogw_tracker_drain(&t, free_drained, drained);
	cr_assert_str_eq(drained, "A");
}

Test(tracker, expiry)
{
	struct ogw_tracker t;
	struct ogw_call *c;
	char drained[64] = "";

	ogw_tracker_init(&t, 8);
	cr_assert_eq(ogw_tracker_next_deadline(&t), UINT64_MAX);
	cr_assert_eq(ogw_tracker_push(&t, mk("A", 500)), 0);
	cr_assert_eq(ogw_tracker_push(&t, mk("B", 200)), 0);
	cr_assert_eq(ogw_tracker_push(&t, mk("C", 100)), 0);
	cr_assert_eq(ogw_tracker_push(&t, mk("D", 900)), 0);
	send_next(&t, "a");
	cr_assert_eq(ogw_tracker_next_deadline(&t), 100);

	cr_assert_null(ogw_tracker_take_expired(&t, 99));
	c = ogw_tracker_take_expired(&t, 100);
	cr_assert_not_null(c);
	cr_assert_str_eq(c->action, "C", "a waiting call expires too");
	ogw_call_free(c);
	cr_assert_eq(ogw_tracker_next_deadline(&t), 200);

	/* at 600 both A (outstanding) and B (waiting) are due: outstanding first */
	c = ogw_tracker_take_expired(&t, 600);
	cr_assert_str_eq(c->action, "A");
	ogw_call_free(c);
	c = ogw_tracker_take_expired(&t, 600);
	cr_assert_str_eq(c->action, "B");
	ogw_call_free(c);
	cr_assert_null(ogw_tracker_take_expired(&t, 600));
	cr_assert_eq(ogw_tracker_count(&t), 1);

	/* the outstanding slot is free again */
	c = send_next(&t, "d");
	cr_assert_str_eq(c->action, "D");
	cr_assert_eq(ogw_tracker_next_deadline(&t), 900);
	ogw_tracker_drain(&t, free_drained, drained);
	cr_assert_str_eq(drained, "D");
	cr_assert_eq(ogw_tracker_next_deadline(&t), UINT64_MAX);
}

Test(tracker, expired_in_order_among_waiting)
{
	struct ogw_tracker t;
	struct ogw_call *c;
	char drained[64] = "";

	ogw_tracker_init(&t, 8);
	cr_assert_eq(ogw_tracker_push(&t, mk("A", 50)), 0);
	cr_assert_eq(ogw_tracker_push(&t, mk("B", 10)), 0);
	cr_assert_eq(ogw_tracker_push(&t, mk("C", 999)), 0);
	c = ogw_tracker_take_expired(&t, 60);
	cr_assert_str_eq(c->action, "A");
	ogw_call_free(c);
	c = ogw_tracker_take_expired(&t, 60);
	cr_assert_str_eq(c->action, "B");
	ogw_call_free(c);
	cr_assert_null(ogw_tracker_take_expired(&t, 60));
	ogw_tracker_drain(&t, free_drained, drained);
	cr_assert_str_eq(drained, "C");
}

Test(tracker, free_detaches_from_waiting)
{
	struct ogw_tracker t;
	struct ogw_call *b = mk("B", 1);
	char drained[64] = "";

	ogw_tracker_init(&t, 8);
	cr_assert_eq(ogw_tracker_push(&t, mk("A", 1)), 0);
	cr_assert_eq(ogw_tracker_push(&t, b), 0);
	cr_assert_eq(ogw_tracker_push(&t, mk("C", 1)), 0);
	ogw_call_free(b);
	cr_assert_eq(ogw_tracker_count(&t), 2);
	ogw_tracker_drain(&t, free_drained, drained);
	cr_assert_str_eq(drained, "AC");
}
