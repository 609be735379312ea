/* SPDX-License-Identifier: MIT */
/*
 * Private to the store: the database handle and the helpers every table
 * module (store.c: kv and counters; queue.c; auth.c; txlog.c; events.c;
 * history.c) shares. A module keeps its SQL in static const strings and
 * gets prepared statements for them from ogw_store_stmt(), which prepares
 * each once and keeps it.
 */
#ifndef OGW_STORE_INTERNAL_H
#define OGW_STORE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <sqlite3.h>

#include "ocppgw/store.h"

#define OGW_STORE_CORE_STMTS 7  /* store.c's own statements */
#define OGW_STORE_MAX_STMTS 96  /* the modules' statements, prepared on first use */

struct store_syncer;

struct ogw_store_cached {
	const char *sql;            /* compared by address: the module's constant */
	sqlite3_stmt *stmt;
};

struct ogw_store {
	sqlite3 *db;
	int schema_version;
	enum ogw_store_origin origin;
	sqlite3_stmt *stmt[OGW_STORE_CORE_STMTS];
	struct ogw_store_cached cache[OGW_STORE_MAX_STMTS];
	size_t n_cache;
	bool batching;      /* writes join one transaction until ogw_store_commit() */
	bool in_tx;         /* that transaction is open */
	bool lost;          /* SQLite rolled a batch back by itself (disk full) */
	bool hold;          /* the batch has a write frames must wait for */
	uint64_t opened_us; /* when the batch's transaction was opened */
	struct store_syncer *syncer; /* ogw_store_sync_in_background(), else NULL */
};

/* The prepared statement for @sql (a string constant of the caller), or
 * NULL (logged) when it cannot be prepared. Reset it with
 * ogw_store_release() after use. */
sqlite3_stmt *ogw_store_stmt(struct ogw_store *st, const char *sql);
/* Maps an SQLite result code to a negative errno (0 for OK/ROW/DONE):
 * -ENOSPC disk full, -EACCES read-only, -ENOMEM, -EBUSY, -EMSGSIZE, -EIO. */
int ogw_store_errno(int rc);
/* Unix time in ms (queued_at of both queues). */
int64_t ogw_store_now_ms(void);
/* Call before any write: with batching on, opens the batch's transaction;
 * frames then wait for its commit (ogw_store_uncommitted()). */
int ogw_store_write_begin(struct ogw_store *st);
/* The same for a write nothing is acknowledged on (a log row): it joins the
 * batch without holding frames back, and a batch of only such writes is
 * committed at most once a second (OGW_STORE_LAZY_US). */
int ogw_store_write_begin_lazy(struct ogw_store *st);
#define OGW_STORE_LAZY_US ((uint64_t)OGW_STORE_LAZY_MS * 1000)
/* Resets @s and clears its bindings. */
void ogw_store_release(sqlite3_stmt *s);
/* Binds @v (borrowed; NULL binds SQL NULL) as compact JSON text; the
 * statement owns the copy. An SQLite result code. */
int ogw_store_bind_json(sqlite3_stmt *s, int i, const json_t *v);
/* Column @i parsed as JSON: a new reference, NULL when NULL or unreadable. */
json_t *ogw_store_column_json(sqlite3_stmt *s, int i);
/* Runs the bound query @s to its end, each row made an object by @row_json;
 * releases @s. The rows as a JSON array, NULL on error. */
json_t *ogw_store_rows_json(sqlite3_stmt *s, json_t *(*row_json)(sqlite3_stmt *s));
/* Runs a write statement already bound: 0 or a negative errno. Releases it. */
int ogw_store_step_done(struct ogw_store *st, sqlite3_stmt *s);

#endif
