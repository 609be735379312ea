/* SPDX-License-Identifier: MIT */
/*
 * The durable store: one SQLite database (WAL) under the data directory,
 * holding what must survive a restart or a crash. Its schema is versioned
 * and migrated forward at open; a store that cannot be read is an error at
 * start, never a silent reset. Every call runs on the event loop thread and
 * returns once the data is committed.
 */
#ifndef OCPPGW_STORE_H
#define OCPPGW_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ogw_store;

/* Creates @dir if needed (0700) and opens or creates @dir/ocppgw.db,
 * migrating it to the current schema. 0, or a negative errno with a message
 * naming the file and the cause (permissions, corruption, newer schema) in
 * @err. */
int ogw_store_open(const char *dir, struct ogw_store **ret, char *err, size_t errlen);
/* NULL-safe; returns NULL. */
struct ogw_store *ogw_store_close(struct ogw_store *st);
/* The schema version the open database is at. */
int ogw_store_schema_version(struct ogw_store *st);

/* Per-charger JSON values under string keys (translator state: transaction
 * id maps, seqNo, pending requests). get: a new reference, or NULL when
 * absent (or on error, then *ret_err < 0 if @ret_err is given). */
json_t *ogw_store_kv_get(struct ogw_store *st, const char *charger, const char *key,
			 int *ret_err);
/* Writes @value (borrowed) durably. 0 or a negative errno (-ENOSPC when
 * the disk is full, -EIO otherwise). */
int ogw_store_kv_put(struct ogw_store *st, const char *charger, const char *key,
		     const json_t *value);
int ogw_store_kv_del(struct ogw_store *st, const char *charger, const char *key);
/* Next value of the per-charger durable counter @name: 1, 2, 3, ... Never
 * repeats, even across crashes. 0 and *ret_err < 0 on failure. */
int64_t ogw_store_next_id(struct ogw_store *st, const char *charger, const char *name,
			  int *ret_err);

/*
 * Group commit. With batching on, writes join one open transaction that
 * ogw_store_commit() ends. The gateway commits once per event-loop
 * iteration, before it polls again, and holds back the frames it produced
 * in that iteration until then: a charger is never acknowledged before what
 * its message changed is on disk, at one fsync per iteration instead of one
 * per write. A failed commit rolls the batch back and returns its errno.
 */
void ogw_store_set_batching(struct ogw_store *st, bool on);
bool ogw_store_uncommitted(const struct ogw_store *st);
int ogw_store_commit(struct ogw_store *st);

#endif
