/* SPDX-License-Identifier: MIT */
/*
 * A secondary CSMS's queue against a real database: per charger and CSMS,
 * oldest first, apart from the primary's queue and from other CSMSs', a
 * row gone once deleted, and the rows surviving a reopen.
 */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "ocppgw/store.h"

#define TMPSTORE_PREFIX "ogw-csmsq"
#include "tmpstore.h"

/* The new row's seq. */
static int64_t push(struct ogw_store *st, const char *charger, const char *csms,
		    const char *action, int meter)
{
	json_t *p = json_pack("{s:i}", "meter", meter);
	int64_t seq = 0;
	cr_assert_eq(ogw_store_csms_queue_push(st, charger, csms, action, p, &seq), 0);
	cr_assert_gt(seq, 0);
	json_decref(p);
	return seq;
}

/* The oldest row of @charger / @csms: its action and meter. */
static int64_t next(struct ogw_store *st, const char *charger, const char *csms,
		    const char *action, int meter)
{
	struct ogw_qmsg m;
	cr_assert_eq(ogw_store_csms_queue_next(st, charger, csms, &m), 0);
	cr_expect_str_eq(m.action, action);
	cr_expect_eq(json_integer_value(json_object_get(m.payload, "meter")), meter);
	cr_expect_gt(m.queued_at_ms, 0);
	int64_t seq = m.seq;
	ogw_qmsg_clear(&m);
	return seq;
}

Test(csms_queue, per_charger_and_csms_oldest_first, .init = setup, .fini = teardown)
{
	struct ogw_store *st = open_store();
	struct ogw_qmsg m;

	int64_t first = push(st, "CP1", "energy", "StartTransaction", 1);
	push(st, "CP1", "fleet", "StartTransaction", 2);
	push(st, "CP1", "energy", "StopTransaction", 3);
	push(st, "CP2", "energy", "MeterValues", 4);
	cr_expect_eq(ogw_store_csms_queue_count(st, "CP1", "energy"), 2);
	cr_expect_eq(ogw_store_csms_queue_count(st, "CP1", "fleet"), 1);
	cr_expect_eq(ogw_store_queue_count(st, NULL, NULL), 0, "the primary's queue is apart");

	cr_assert_eq(next(st, "CP1", "energy", "StartTransaction", 1), first,
		     "push names the row next reads");
	cr_assert_eq(ogw_store_csms_queue_delete(st, first), 0);
	ogw_store_close(st);

	st = open_store();
	cr_assert_eq(ogw_store_csms_queue_delete(st, next(st, "CP1", "energy", "StopTransaction", 3)), 0);
	cr_expect_eq(ogw_store_csms_queue_next(st, "CP1", "energy", &m), -ENOENT);
	next(st, "CP1", "fleet", "StartTransaction", 2);
	next(st, "CP2", "energy", "MeterValues", 4);
	ogw_store_close(st);
}
