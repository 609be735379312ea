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
/* Where the open store came from: for the start-up log line. */
enum ogw_store_origin {
	OGW_STORE_EXISTING,   /* a store of ours, opened */
	OGW_STORE_CREATED,    /* there was no file: a new store */
	OGW_STORE_WAS_EMPTY,  /* a zero-byte file (as SQLite leaves one): a new store */
};
enum ogw_store_origin ogw_store_origin(const struct ogw_store *st);

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
/*
 * Takes the disk off the caller's thread where nothing waits for it. A
 * commit of a batch that holds frames back still returns once the batch is
 * on disk (it syncs the write-ahead log itself); a batch of log writes only
 * is committed without a sync, and a thread of the store's own, on its own
 * connection, syncs the log after it and checkpoints the log into the
 * database (which SQLite would otherwise do inside a commit, every 1,000
 * pages). A log write may then be lost to a power cut for a second or so
 * longer than before; a kill loses nothing committed. 0 or a negative
 * errno (the store then works as before).
 */
int ogw_store_sync_in_background(struct ogw_store *st);
/* Caps the database at about @bytes (0: no cap): past it, writes fail with
 * -ENOSPC as on a full disk. For flash-backed site controllers. */
int ogw_store_set_max_size(struct ogw_store *st, size_t bytes);
bool ogw_store_uncommitted(const struct ogw_store *st);
/* Whether the open batch should be committed now: it holds frames back,
 * or it only holds log writes and is OGW_STORE_LAZY_MS old. */
bool ogw_store_commit_due(const struct ogw_store *st);
#define OGW_STORE_LAZY_MS 1000
/* A failed commit rolls the batch back and returns its errno; a batch SQLite
 * rolled back by itself before (a full disk ends the whole transaction)
 * gives -ECANCELED. Either way the frames held for it must not go out. */
int ogw_store_commit(struct ogw_store *st);
/* -ECANCELED (once) when SQLite rolled the open batch back by itself since
 * the last call, else 0: right after a failed write, so that what the batch
 * held can be withdrawn before anything else is sent. */
int ogw_store_take_lost(struct ogw_store *st);

/* ---- a secondary CSMS's queue (csms_queue.c) -----------------------------
 * The charger's transaction messages secondary @csms must still receive,
 * in the charger's version, in arrival order; a row leaves once that CSMS
 * answered. push: *ret_seq (optional) gets the new row's seq. next: the
 * oldest (-ENOENT: none); ret->ver stays "". */
struct ogw_qmsg;
int ogw_store_csms_queue_push(struct ogw_store *st, const char *charger, const char *csms,
			      const char *action, const json_t *payload, int64_t *ret_seq);
int ogw_store_csms_queue_next(struct ogw_store *st, const char *charger, const char *csms,
			      struct ogw_qmsg *ret);
int ogw_store_csms_queue_delete(struct ogw_store *st, int64_t seq);
int64_t ogw_store_csms_queue_count(struct ogw_store *st, const char *charger, const char *csms);
/* Calls @each once per CSMS with anything queued, over every charger: its
 * name, how many messages wait, the oldest one's queued_at (ms). 0, or a
 * negative errno. */
int ogw_store_csms_queue_depths(struct ogw_store *st,
				void (*each)(void *ctx, const char *csms, int64_t n, int64_t oldest_ms),
				void *ctx);

/* ---- the outbound queue (queue.c) ---------------------------------------
 * Messages the CSMS must receive, per charger, in arrival order (seq is
 * global and increasing). A message leaves the queue only once the CSMS
 * answered it with a CALLRESULT, or, after its attempts, into dead_letter.
 */
struct ogw_qmsg {
	int64_t seq;
	char charger[49];
	char ver[8];              /* "1.6", "2.0.1", "2.1": the frame's version */
	char action[64];
	json_t *payload;          /* owned */
	json_t *meta;             /* owned; NULL or an object the gateway attached */
	int64_t queued_at_ms;     /* unix time, ms */
	int attempts;             /* CALLERRORs received so far */
	bool sent;                /* sent at least once: a resend may be a duplicate */
};
void ogw_qmsg_clear(struct ogw_qmsg *m);

/* Appends; *ret_seq (optional) gets the new message's seq. */
int ogw_store_queue_push(struct ogw_store *st, const char *charger, const char *ver,
			 const char *action, const json_t *payload, const json_t *meta,
			 int64_t *ret_seq);
/* The oldest message of @charger after @after_seq (0: the very first):
 * 0 and *ret filled, -ENOENT when there is none, or another negative errno. */
int ogw_store_queue_next(struct ogw_store *st, const char *charger, int64_t after_seq,
			 struct ogw_qmsg *ret);
/* Records a send (sent = 1) and the attempts so far. */
int ogw_store_queue_mark(struct ogw_store *st, int64_t seq, int attempts);
/* Replaces a queued message's payload (id reconciliation). */
int ogw_store_queue_set_payload(struct ogw_store *st, int64_t seq, const json_t *payload);
int ogw_store_queue_delete(struct ogw_store *st, int64_t seq);
/* Deletes @charger's messages up to and including @seq (delivered ones a
 * failed delete left behind, too). */
int ogw_store_queue_delete_upto(struct ogw_store *st, const char *charger, int64_t seq);
/* Moves the message to dead_letter with the CSMS's error. */
int ogw_store_queue_dead(struct ogw_store *st, int64_t seq, const char *code,
			 const char *desc);
/* Messages queued for @charger (NULL: all chargers); *ret_oldest_ms
 * (optional) gets the oldest one's queued_at, 0 when empty. <0 on error. */
int64_t ogw_store_queue_count(struct ogw_store *st, const char *charger,
			      int64_t *ret_oldest_ms);
int64_t ogw_store_dead_count(struct ogw_store *st, const char *charger);
/* Calls @fn for each charger with queued messages. */
int ogw_store_queue_chargers(struct ogw_store *st,
			     void (*fn)(const char *charger, int64_t count, void *arg), void *arg);
/* Dead letters as a JSON array of objects (charger, seq, action, payload,
 * queued_at, failed_at, attempts, error_code, error_desc); NULL on error. */
json_t *ogw_store_dead_list(struct ogw_store *st, const char *charger, int limit);

/* ---- authorization: local list and cache (auth.c) ------------------------
 * Per charger and token. @info is the version-neutral record
 * {"status": "Accepted"|"Blocked"|"Expired"|"Invalid"|"ConcurrentTx"|...,
 *  "expiry": "<RFC 3339>" (optional), "group": "<token>" (optional)}.
 * @expires: unix seconds, 0 for none.
 */
enum ogw_auth_kind {
	OGW_AUTH_CACHE = 0,       /* what the CSMS answered for the token */
	OGW_AUTH_LIST = 1,        /* the CSMS's local list (SendLocalList) */
};
int ogw_store_auth_put(struct ogw_store *st, const char *charger, enum ogw_auth_kind kind,
		       const char *token, const json_t *info, int64_t expires);
int ogw_store_auth_del(struct ogw_store *st, const char *charger, enum ogw_auth_kind kind,
		       const char *token);
/* Drops every entry of @kind for @charger. */
int ogw_store_auth_clear(struct ogw_store *st, const char *charger, enum ogw_auth_kind kind);
/* A new reference to the info, or NULL (absent: *ret_err 0; error: < 0).
 * *ret_expires (optional) gets the stored expiry. */
json_t *ogw_store_auth_get(struct ogw_store *st, const char *charger, enum ogw_auth_kind kind,
			   const char *token, int64_t *ret_expires, int *ret_err);
/* A token's local list entry and cache entry, read together (one read
 * where two calls of ogw_store_auth_get() take two): new references or
 * NULL where absent, each with its stored expiry (0 when none). 0, or < 0
 * with both NULL. */
int ogw_store_auth_get_both(struct ogw_store *st, const char *charger, const char *token,
			     json_t **ret_list, int64_t *ret_list_expires, json_t **ret_cache,
			     int64_t *ret_cache_expires);
int64_t ogw_store_auth_count(struct ogw_store *st, const char *charger,
			     enum ogw_auth_kind kind);
/* Keeps at most @max entries of @kind for @charger, dropping those whose
 * status is not Accepted first, then the least recently updated. */
int ogw_store_auth_trim(struct ogw_store *st, const char *charger, enum ogw_auth_kind kind,
			int64_t max);

/* ---- transactions seen (txlog.c) -----------------------------------------
 * One row per transaction of a charger, whatever the versions: what the
 * operator lists with `ocppgw sessions` and the API shows.
 */
struct ogw_txrec {
	const char *charger;
	const char *tx_id;        /* as the charger knows it (1.6: the integer as text) */
	int evse;                 /* 0 when unknown */
	int connector;            /* 0 when unknown */
	const char *id_tag;       /* NULL when none */
	int64_t started;          /* unix s, 0 unknown */
	int64_t stopped;          /* unix s, 0 while open */
	double meter_start_wh;    /* < 0 unknown */
	double meter_last_wh;     /* < 0 unknown */
	const char *stop_reason;  /* NULL while open */
	bool offline;             /* started while the CSMS was unreachable */
};
/* Inserts or updates the row (charger, tx_id); fields at their "unknown"
 * values leave the stored ones as they are. */
int ogw_store_tx_upsert(struct ogw_store *st, const struct ogw_txrec *tx);
/* Rows as a JSON array of objects, newest first; @charger NULL: all;
 * @open_only: stopped = 0; @limit <= 0: no limit. NULL on error. Each
 * object: charger, tx_id, evse, connector, started, stopped (0 as in the
 * struct), id_tag, stop_reason (null when none), meter_start_wh,
 * meter_last_wh, energy_wh (= last - start; null when either is unknown),
 * offline (boolean). */
json_t *ogw_store_tx_list(struct ogw_store *st, const char *charger, bool open_only,
			  int limit);
/* The same, of the rows started in [@from, @to) (unix s; 0: unbounded;
 * a bound leaves out rows whose start is unknown). */
json_t *ogw_store_tx_list_between(struct ogw_store *st, const char *charger, bool open_only,
				  int64_t from, int64_t to, int limit);

/* ---- events (events.c) ---------------------------------------------------
 * What happened, for the operator: connects, boots, faults, CALLERRORs,
 * dead letters, limit changes, security events. A log row: it joins the
 * batch lazily (holds no frame back); past @max rows the oldest go.
 */
struct ogw_event {
	int64_t at_ms;            /* unix ms */
	const char *charger;      /* NULL: the site or the gateway */
	const char *kind;         /* short word: "connect", "fault", ... */
	const char *text;
};
/* Appends @ev, then drops rows older than the newest @max (<= 0: keep
 * all). 0 or a negative errno. */
int ogw_store_event_add(struct ogw_store *st, const struct ogw_event *ev, int64_t max);
/* Events as a JSON array, oldest first, of {seq, at (ms), charger, kind,
 * text}: those after @since_ms (0: any), of @charger and of @kind (NULL:
 * all), the newest @limit of them (<= 0: no limit). NULL on error. */
json_t *ogw_store_event_list(struct ogw_store *st, const char *charger, const char *kind,
			     int64_t since_ms, int limit);
/* Rows kept now. */
int64_t ogw_store_event_count(struct ogw_store *st);

/* ---- history (history.c) --------------------------------------------------
 * Time series for the operator's charts: a series is the site ("") or a
 * charger's id, a sample up to OGW_HISTORY_VALUES numbers (NAN: none).
 * Each sample is averaged into one bucket of every tier; a tier keeps its
 * buckets for its span, so the table stays bounded however long the
 * gateway runs. A log row: it joins the batch lazily.
 */
#define OGW_HISTORY_VALUES 7
#define OGW_HISTORY_TIERS 3
struct ogw_history_tier {
	int64_t step_ms;          /* a bucket's width */
	int64_t keep_ms;          /* buckets older than this go */
};
/* Finest first: 1 min for a day, 15 min for 8 days, 1 h for 92 days. */
extern const struct ogw_history_tier ogw_history_tiers[OGW_HISTORY_TIERS];
/* Adds @n samples (n >= 1) of @series, whose running means are @v, all in
 * the finest tier's bucket of @at_ms, to every tier's bucket (a running
 * mean per value, weighted by @n: for a value every sample had, what @n
 * writes of one sample would leave), then drops that series' buckets past
 * each tier's keep. 0 or a negative errno. */
int ogw_store_history_merge(struct ogw_store *st, const char *series, int64_t at_ms,
			    unsigned int n, const double v[OGW_HISTORY_VALUES]);
/* Drops every series' buckets older than each tier's keep, as of @now_ms
 * (series no longer written). Returns the rows dropped or a negative errno. */
int64_t ogw_store_history_trim(struct ogw_store *st, int64_t now_ms);
/* The buckets of @series in tier @tier starting in [@from_ms, @to_ms), oldest
 * first, at most @limit: a JSON array of [at_ms, v1 .. v@n_values] (null
 * for no value). NULL on error. */
json_t *ogw_store_history_list(struct ogw_store *st, const char *series, int tier,
			       int64_t from_ms, int64_t to_ms, int n_values, int limit);
/* Rows kept now, of @series (NULL: all). */
int64_t ogw_store_history_count(struct ogw_store *st, const char *series);

#endif
