/* SPDX-License-Identifier: MIT */
/*
 * The durable store: one SQLite database in WAL mode, checked and migrated
 * forward at open, with every statement prepared once and reused. It never
 * resets or repairs a database it cannot read, and it does not log: errors
 * go back to the caller as negative errno (and a message at open).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "ocppgw/json.h"
#include "ocppgw/store.h"
#include "internal.h"
#include "ocppgw/log.h"
#include "ocppgw/util.h"

#define STORE_FILE "ocppgw.db"
/* "OGW1": tells our database apart from any other SQLite file. */
#define STORE_APPLICATION_ID 0x4f475731
/* Another process (an operator's sqlite3 shell) may hold the lock briefly;
 * waiting longer would stall the event loop. */
#define STORE_BUSY_TIMEOUT_MS 1000
/* With the syncer: the log is checkpointed past this many pages, as
 * SQLite's own auto-checkpoint would. */
#define STORE_CHECKPOINT_PAGES 1000

/* Migration N (1-based) takes the schema from version N-1 to N. Append only:
 * a released migration is never edited. */
static const char *const store_migrations[] = {
	/* 1: translator state and durable counters */
	"CREATE TABLE kv(charger TEXT, key TEXT, value TEXT NOT NULL,"
	" PRIMARY KEY(charger, key)) WITHOUT ROWID;"
	"CREATE TABLE counters(charger TEXT, name TEXT, value INTEGER NOT NULL,"
	" PRIMARY KEY(charger, name)) WITHOUT ROWID;",
	/* 2: offline operation: the outbound queue, dead letters, the
	 * authorization list and cache, and the transactions seen */
	"CREATE TABLE queue(seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" charger TEXT NOT NULL, ver TEXT NOT NULL, action TEXT NOT NULL,"
	" payload TEXT NOT NULL, meta TEXT, queued_at INTEGER NOT NULL,"
	" attempts INTEGER NOT NULL DEFAULT 0, sent INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX queue_by_charger ON queue(charger, seq);"
	"CREATE TABLE dead_letter(seq INTEGER PRIMARY KEY, charger TEXT NOT NULL,"
	" ver TEXT NOT NULL, action TEXT NOT NULL, payload TEXT NOT NULL, meta TEXT,"
	" queued_at INTEGER NOT NULL, failed_at INTEGER NOT NULL, attempts INTEGER NOT NULL,"
	" error_code TEXT, error_desc TEXT);"
	"CREATE TABLE auth(charger TEXT NOT NULL, kind INTEGER NOT NULL, token TEXT NOT NULL,"
	" info TEXT NOT NULL, expires INTEGER, updated INTEGER NOT NULL,"
	" PRIMARY KEY(charger, kind, token)) WITHOUT ROWID;"
	"CREATE TABLE transactions(charger TEXT NOT NULL, tx_id TEXT NOT NULL,"
	" evse INTEGER, connector INTEGER, id_tag TEXT, started INTEGER, stopped INTEGER,"
	" meter_start_wh REAL, meter_last_wh REAL, stop_reason TEXT, offline INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY(charger, tx_id));"
	"CREATE INDEX transactions_by_start ON transactions(started);",
	/* 3: what happened, for the operator (events.c): a ring of rows,
	 * oldest dropped past the cap */
	"CREATE TABLE events(seq INTEGER PRIMARY KEY AUTOINCREMENT, at_ms INTEGER NOT NULL,"
	" charger TEXT, kind TEXT NOT NULL, text TEXT NOT NULL);"
	"CREATE INDEX events_by_charger ON events(charger, seq);",
	/* 4: each secondary CSMS's own queue (csms_queue.c, docs/MULTI_CSMS.md) */
	"CREATE TABLE csms_queue(seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" charger TEXT NOT NULL, csms TEXT NOT NULL, action TEXT NOT NULL,"
	" payload TEXT NOT NULL, queued_at INTEGER NOT NULL);"
	"CREATE INDEX csms_queue_by_leg ON csms_queue(charger, csms, seq);",
	/* 5: history (history.c): per series and tier, one row per time bucket,
	 * a running mean of each value over its n samples */
	"CREATE TABLE history(series TEXT NOT NULL, tier INTEGER NOT NULL, at_ms INTEGER NOT NULL,"
	" n INTEGER NOT NULL, v1 REAL, v2 REAL, v3 REAL, v4 REAL, v5 REAL, v6 REAL, v7 REAL,"
	" PRIMARY KEY(series, tier, at_ms)) WITHOUT ROWID;",
};
#define STORE_SCHEMA_VERSION ((int)(sizeof(store_migrations) / sizeof(store_migrations[0])))

enum store_stmt {
	STMT_KV_GET,
	STMT_KV_PUT,
	STMT_KV_DEL,
	STMT_NEXT_ID,
	STMT_BEGIN,
	STMT_COMMIT,
	STMT_ROLLBACK,
	STMT_COUNT,
};
_Static_assert(STMT_COUNT == OGW_STORE_CORE_STMTS, "OGW_STORE_CORE_STMTS is out of date");

static const char *const store_sql[STMT_COUNT] = {
	[STMT_KV_GET] = "SELECT value FROM kv WHERE charger = ?1 AND key = ?2",
	[STMT_KV_PUT] = "INSERT INTO kv(charger, key, value) VALUES(?1, ?2, ?3)"
			" ON CONFLICT(charger, key) DO UPDATE SET value = excluded.value",
	[STMT_KV_DEL] = "DELETE FROM kv WHERE charger = ?1 AND key = ?2",
	[STMT_NEXT_ID] = "INSERT INTO counters(charger, name, value) VALUES(?1, ?2, 1)"
			 " ON CONFLICT(charger, name) DO UPDATE SET value = value + 1"
			 " RETURNING value",
	[STMT_BEGIN] = "BEGIN IMMEDIATE",
	[STMT_COMMIT] = "COMMIT",
	[STMT_ROLLBACK] = "ROLLBACK",
};


/* Maps an SQLite result code to the negative errno the API promises. */
int ogw_store_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return 0;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_READONLY:
	case SQLITE_CANTOPEN:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_TOOBIG:
		return -EMSGSIZE;
	default:
		return -EIO;
	}
}

/* For a step that did not finish: never 0, even for an unexpected SQLITE_ROW. */
static int store_step_errno(int rc)
{
	int r = ogw_store_errno(rc);

	return r < 0 ? r : -EIO;
}

static const char *store_cause(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_NOTADB:
		return "not an SQLite database (refusing to touch it)";
	case SQLITE_CORRUPT:
		return "database is corrupt (refusing to touch it)";
	case SQLITE_FULL:
		return "no space left on device";
	case SQLITE_READONLY:
	case SQLITE_CANTOPEN:
	case SQLITE_PERM:
		return "permission denied or read-only (the database and its directory must be writable)";
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return "database is locked by another process";
	default:
		return NULL;
	}
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Fills @err for SQLite failure @rc while doing @what on @path; returns the errno. */
static int store_fail(sqlite3 *db, int rc, const char *path, const char *what,
		      char *err, size_t errlen)
{
	const char *cause = store_cause(rc);

	if (cause)
		set_err(err, errlen, "%s: %s: %s (%s)", path, what, cause,
			db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
	else
		set_err(err, errlen, "%s: %s: %s", path, what,
			db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
	return ogw_store_errno(rc);
}

/* Runs @sql and returns the first column of its first row in *@ret (0 when
 * there is no row). An SQLite result code. */
static int store_query_int(sqlite3 *db, const char *sql, int64_t *ret)
{
	sqlite3_stmt *s = NULL;
	int rc;

	rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
	if (rc != SQLITE_OK)
		goto out;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*ret = sqlite3_column_int64(s, 0);
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE) {
		*ret = 0;
		rc = SQLITE_OK;
	}
out:
	sqlite3_finalize(s);
	return rc;
}

/* PRAGMA quick_check: the first problem it reports goes into @err. Reading
 * only, so a foreign or damaged file is left as it was. */
static int store_check(sqlite3 *db, const char *path, char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	const char *text;
	int rc, r = 0;

	rc = sqlite3_prepare_v2(db, "PRAGMA quick_check(1)", -1, &s, NULL);
	if (rc != SQLITE_OK) {
		r = store_fail(db, rc, path, "Failed to read", err, errlen);
		goto out;
	}
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		r = store_fail(db, rc, path, "Failed to read", err, errlen);
		goto out;
	}
	text = (const char *)sqlite3_column_text(s, 0);
	if (!text || strcmp(text, "ok") != 0) {
		set_err(err, errlen, "%s: database failed its integrity check (refusing to touch it): %s",
			path, text ? text : "no result");
		r = -EIO;
	}
out:
	sqlite3_finalize(s);
	return r;
}

/* A database with tables but not our application id is someone else's. */
static int store_check_owner(sqlite3 *db, const char *path, bool *ret_fresh,
			     char *err, size_t errlen)
{
	int64_t app_id = 0, n_tables = 0; /* gcc -O3 cannot see that rc == SQLITE_OK sets them */
	int rc;

	rc = store_query_int(db, "PRAGMA application_id", &app_id);
	if (rc == SQLITE_OK)
		rc = store_query_int(db, "SELECT count(*) FROM sqlite_master", &n_tables);
	if (rc != SQLITE_OK)
		return store_fail(db, rc, path, "Failed to read", err, errlen);
	if (app_id == STORE_APPLICATION_ID) {
		*ret_fresh = false;
		return 0;
	}
	if (app_id == 0 && n_tables == 0) {
		*ret_fresh = true;
		return 0;
	}
	set_err(err, errlen, "%s: not an ocppgw database (application_id 0x%llx, %lld tables)",
		path, (unsigned long long)app_id, (long long)n_tables);
	return -EIO;
}

static int store_exec(sqlite3 *db, const char *sql, const char *path, const char *what,
		      char *err, size_t errlen)
{
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		return store_fail(db, rc, path, what, err, errlen);
	return 0;
}

static int store_pragmas(sqlite3 *db, const char *path, char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	const char *mode;
	int rc, r;

	rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &s, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		r = store_fail(db, rc, path, "Failed to enable WAL", err, errlen);
		goto out;
	}
	mode = (const char *)sqlite3_column_text(s, 0);
	if (!mode || strcmp(mode, "wal") != 0) {
		set_err(err, errlen, "%s: Failed to enable WAL: journal mode stays %s", path,
			mode ? mode : "unknown");
		r = -EIO;
		goto out;
	}
	/* synchronous=FULL: a message acknowledged to a charger is on disk. */
	r = store_exec(db, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;", path,
		       "Failed to set pragmas", err, errlen);
out:
	sqlite3_finalize(s);
	return r;
}

/* Applies the missing migrations in one transaction; sets *ret_version. */
static int store_migrate(sqlite3 *db, const char *path, bool fresh, int *ret_version,
			 char *err, size_t errlen)
{
	char sql[128];
	int64_t version = 0; /* set when rc == SQLITE_OK, which gcc -O3 cannot see */
	bool in_tx = false;
	int rc, r;

	/* Up to date: nothing to write, so take no write lock. A reader
	 * (`ocppgw sessions`) opening the store while the gateway's batch
	 * holds the lock would otherwise wait, then fail. */
	if (!fresh && store_query_int(db, "SELECT value FROM meta WHERE key = 'schema_version'",
				      &version) == SQLITE_OK && version == STORE_SCHEMA_VERSION) {
		*ret_version = (int)version;
		return 0;
	}
	r = store_exec(db, "BEGIN IMMEDIATE", path, "Failed to start migration", err, errlen);
	if (r < 0)
		goto out;
	in_tx = true;
	if (fresh) {
		snprintf(sql, sizeof(sql), "PRAGMA application_id = %d", STORE_APPLICATION_ID);
		r = store_exec(db, sql, path, "Failed to initialize", err, errlen);
		if (r < 0)
			goto out;
	}
	r = store_exec(db, "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY,"
			   " value INTEGER NOT NULL) WITHOUT ROWID",
		       path, "Failed to create the meta table", err, errlen);
	if (r < 0)
		goto out;
	rc = store_query_int(db, "SELECT value FROM meta WHERE key = 'schema_version'", &version);
	if (rc != SQLITE_OK) {
		r = store_fail(db, rc, path, "Failed to read the schema version", err, errlen);
		goto out;
	}
	if (version > STORE_SCHEMA_VERSION) {
		set_err(err, errlen, "%s: created by a newer ocppgw (schema %lld > %d)", path,
			(long long)version, STORE_SCHEMA_VERSION);
		r = -ENOTSUP;
		goto out;
	}
	if (version < 0) {
		set_err(err, errlen, "%s: invalid schema version %lld", path, (long long)version);
		r = -EIO;
		goto out;
	}
	if (version == STORE_SCHEMA_VERSION)
		goto out;
	for (int v = (int)version + 1; v <= STORE_SCHEMA_VERSION; v++) {
		snprintf(sql, sizeof(sql), "Failed to migrate to schema %d", v);
		r = store_exec(db, store_migrations[v - 1], path, sql, err, errlen);
		if (r < 0)
			goto out;
	}
	snprintf(sql, sizeof(sql), "INSERT INTO meta(key, value) VALUES('schema_version', %d)"
		 " ON CONFLICT(key) DO UPDATE SET value = excluded.value", STORE_SCHEMA_VERSION);
	r = store_exec(db, sql, path, "Failed to record the schema version", err, errlen);
	if (r < 0)
		goto out;
	version = STORE_SCHEMA_VERSION;
out:
	if (in_tx) {
		if (r == 0)
			r = store_exec(db, "COMMIT", path, "Failed to commit migration", err, errlen);
		if (r < 0)
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	}
	if (r == 0)
		*ret_version = (int)version;
	return r;
}

static int store_mkdir(const char *dir, char *err, size_t errlen)
{
	struct stat sb;

	if (mkdir(dir, 0700) == 0)
		return 0;
	if (errno != EEXIST) {
		int e = errno;

		set_err(err, errlen, "%s: Failed to create the data directory: %s", dir, strerror(e));
		return -e;
	}
	if (stat(dir, &sb) < 0) {
		int e = errno;

		set_err(err, errlen, "%s: %s", dir, strerror(e));
		return -e;
	}
	if (!S_ISDIR(sb.st_mode)) {
		set_err(err, errlen, "%s: not a directory", dir);
		return -ENOTDIR;
	}
	return 0;
}

int ogw_store_open(const char *dir, struct ogw_store **ret, char *err, size_t errlen)
{
	struct ogw_store *st = NULL;
	char *path = NULL;
	bool fresh = false;
	int rc, r;

	if (!dir || !*dir || !ret) {
		set_err(err, errlen, "store: no data directory given");
		return -EINVAL;
	}
	r = store_mkdir(dir, err, errlen);
	if (r < 0)
		goto out;
	if (asprintf(&path, "%s/%s", dir, STORE_FILE) < 0) {
		path = NULL;
		r = -ENOMEM;
		goto out;
	}
	st = calloc(1, sizeof(*st));
	if (!st) {
		r = -ENOMEM;
		goto out;
	}
	/* SQLite would call a directory "unable to open" or read-only: say
	 * what it is. An empty file is what SQLite itself leaves before its
	 * first write, so it becomes a new store, and the log says so. */
	struct stat sb;
	if (stat(path, &sb) == 0) {
		if (S_ISDIR(sb.st_mode) || !S_ISREG(sb.st_mode)) {
			set_err(err, errlen, "%s: is %s, not the store file: move it away", path,
				S_ISDIR(sb.st_mode) ? "a directory" : "not a regular file");
			r = S_ISDIR(sb.st_mode) ? -EISDIR : -EINVAL;
			goto out;
		}
		st->origin = sb.st_size ? OGW_STORE_EXISTING : OGW_STORE_WAS_EMPTY;
	} else {
		st->origin = OGW_STORE_CREATED;
	}
	/* The gateway uses one connection from one thread. */
	rc = sqlite3_open_v2(path, &st->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		r = store_fail(st->db, rc, path, "Failed to open", err, errlen);
		goto out;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, STORE_BUSY_TIMEOUT_MS);
	/* SQLite falls back to read-only without an error when the file is not
	 * writable; the store would then fail at its first write. */
	if (sqlite3_db_readonly(st->db, "main") == 1) {
		set_err(err, errlen, "%s: Failed to open for writing: permission denied", path);
		r = -EACCES;
		goto out;
	}
	/* Read-only checks first, so a foreign or damaged file stays untouched. */
	r = store_check(st->db, path, err, errlen);
	if (r < 0)
		goto out;
	r = store_check_owner(st->db, path, &fresh, err, errlen);
	if (r < 0)
		goto out;
	r = store_pragmas(st->db, path, err, errlen);
	if (r < 0)
		goto out;
	r = store_migrate(st->db, path, fresh, &st->schema_version, err, errlen);
	if (r < 0)
		goto out;
	for (int i = 0; i < STMT_COUNT; i++) {
		rc = sqlite3_prepare_v3(st->db, store_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
					&st->stmt[i], NULL);
		if (rc != SQLITE_OK) {
			r = store_fail(st->db, rc, path, "Failed to prepare statements", err, errlen);
			goto out;
		}
	}
	*ret = st;
	st = NULL;
out:
	ogw_store_close(st);
	free(path);
	return r;
}

/* Runs one of the argument-less statements (BEGIN, COMMIT, ROLLBACK). */
static int store_run(struct ogw_store *st, enum store_stmt which)
{
	sqlite3_stmt *s = st->stmt[which];
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : ogw_store_errno(rc) ? ogw_store_errno(rc) : -EIO;
}

/* SQLite ends the whole transaction by itself on some errors (SQLITE_FULL
 * does, whatever savepoints there are): then every write of the batch so
 * far is gone, and whoever holds frames for it must know. */
static void batch_check(struct ogw_store *st)
{
	if (st->in_tx && sqlite3_get_autocommit(st->db)) {
		st->in_tx = false;
		st->lost = true;
	}
}

int ogw_store_take_lost(struct ogw_store *st)
{
	if (!st)
		return 0;
	batch_check(st);
	bool lost = st->lost;
	st->lost = false;
	return lost ? -ECANCELED : 0;
}

/* With batching on, the first write of a batch opens its transaction. */
static int batch_open(struct ogw_store *st)
{
	batch_check(st);
	if (!st->batching || st->in_tx)
		return 0;
	int r = store_run(st, STMT_BEGIN);
	if (r == 0) {
		st->in_tx = true;
		st->hold = false;
		st->opened_us = ogw_now_us();
	}
	return r;
}

int ogw_store_write_begin(struct ogw_store *st)
{
	int r = batch_open(st);
	if (r == 0 && st->in_tx)
		st->hold = true;
	return r;
}

int ogw_store_write_begin_lazy(struct ogw_store *st)
{
	return batch_open(st);
}

void ogw_store_set_batching(struct ogw_store *st, bool on)
{
	if (!on)
		ogw_store_commit(st);
	st->batching = on;
}

int ogw_store_set_max_size(struct ogw_store *st, size_t bytes)
{
	int64_t page = 0;
	int r = ogw_store_errno(store_query_int(st->db, "PRAGMA page_size", &page));
	if (r < 0 || page <= 0)
		return r < 0 ? r : -EIO;
	/* max_page_count never goes below the pages in use; 0 means no cap. */
	int64_t pages = bytes ? (int64_t)(bytes / (size_t)page) : 4294967294LL;
	char sql[64];
	snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %lld", (long long)(pages ? pages : 1));
	int64_t got = 0;
	return ogw_store_errno(store_query_int(st->db, sql, &got));
}

bool ogw_store_uncommitted(const struct ogw_store *st)
{
	return st && st->in_tx && st->hold;
}

bool ogw_store_commit_due(const struct ogw_store *st)
{
	return st && (st->lost || (st->in_tx && (st->hold || sqlite3_get_autocommit(st->db) ||
						 ogw_now_us() - st->opened_us >= OGW_STORE_LAZY_US)));
}

/*
 * The syncer (ogw_store_sync_in_background()): a thread with its own
 * connection that makes log-only commits durable (one fdatasync of the
 * write-ahead log) and checkpoints the log, so that neither happens on the
 * event loop. The loop pokes it through an eventfd, never waits for it and
 * shares no lock with it; SQLite's file locks order the checkpoint against
 * the loop's writes. A sync works on the file, whatever descriptor asks
 * for it, so the thread syncs its own descriptor of the log.
 */
struct store_syncer {
	pthread_t thread;
	sqlite3 *db;                 /* checkpoints only */
	int efd;                     /* pokes from the loop */
	int wal_fd;                  /* the write-ahead log, for fdatasync */
	atomic_bool checkpoint_due;  /* the log passed STORE_CHECKPOINT_PAGES */
	atomic_bool stop;
};

static void *syncer_run(void *arg)
{
	struct store_syncer *sy = arg;
	uint64_t n;
	while (!atomic_load(&sy->stop)) {
		if (read(sy->efd, &n, sizeof(n)) != (ssize_t)sizeof(n)) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (atomic_load(&sy->stop))
			break;
		/* A checkpoint syncs the log before it copies it. */
		if (atomic_exchange(&sy->checkpoint_due, false))
			sqlite3_wal_checkpoint_v2(sy->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		else
			fdatasync(sy->wal_fd);
	}
	return NULL;
}

static void syncer_poke(struct store_syncer *sy)
{
	uint64_t one = 1;
	(void)!write(sy->efd, &one, sizeof(one));
}

static struct store_syncer *syncer_stop(struct store_syncer *sy)
{
	if (!sy)
		return NULL;
	atomic_store(&sy->stop, true);
	syncer_poke(sy);
	pthread_join(sy->thread, NULL);
	sqlite3_close(sy->db);
	close(sy->efd);
	close(sy->wal_fd);
	free(sy);
	return NULL;
}

/* Called by SQLite after each commit on the loop's connection, in place of
 * its auto-checkpoint. */
static int syncer_wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct store_syncer *sy = arg;
	(void)db;
	(void)name;
	if (pages >= STORE_CHECKPOINT_PAGES) {
		atomic_store(&sy->checkpoint_due, true);
		syncer_poke(sy);
	}
	return SQLITE_OK;
}

int ogw_store_sync_in_background(struct ogw_store *st)
{
	const char *path = sqlite3_db_filename(st->db, "main");
	char *wal = NULL;
	int r = -ENOMEM;
	struct store_syncer *sy = calloc(1, sizeof(*sy));
	if (!sy || !path || asprintf(&wal, "%s-wal", path) < 0) {
		wal = NULL;
		goto fail;
	}
	sy->efd = sy->wal_fd = -1;
	int rc = sqlite3_open_v2(path, &sy->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(sy->db, "PRAGMA synchronous = FULL", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		r = ogw_store_errno(rc);
		goto fail;
	}
	/* The loop's connection has written (migrations, pragmas), so the log
	 * exists; it stays while a connection is open. */
	sy->efd = eventfd(0, EFD_CLOEXEC);
	sy->wal_fd = open(wal, O_RDONLY | O_CLOEXEC);
	if (sy->efd < 0 || sy->wal_fd < 0) {
		r = -errno;
		goto fail;
	}
	sqlite3_busy_timeout(sy->db, STORE_BUSY_TIMEOUT_MS);
	r = -pthread_create(&sy->thread, NULL, syncer_run, sy);
	if (r < 0)
		goto fail;
	/* The loop's commits no longer sync; the ones that hold frames back
	 * sync the log themselves (ogw_store_commit()). */
	sqlite3_exec(st->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL);
	sqlite3_wal_hook(st->db, syncer_wal_hook, sy);
	st->syncer = sy;
	free(wal);
	return 0;
fail:
	if (sy) {
		sqlite3_close(sy->db);
		if (sy->efd >= 0)
			close(sy->efd);
		if (sy->wal_fd >= 0)
			close(sy->wal_fd);
	}
	free(sy);
	free(wal);
	return r < 0 ? r : -EIO;
}

/* With the syncer: what a commit holding frames back wrote is on disk
 * before the frames go (the connection itself no longer syncs). */
static int store_sync_log(struct ogw_store *st)
{
	sqlite3_file *log = NULL;
	int rc = sqlite3_file_control(st->db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &log);
	if (rc != SQLITE_OK || !log || !log->pMethods)
		return -EIO;
	rc = log->pMethods->xSync(log, SQLITE_SYNC_NORMAL);
	return rc == SQLITE_OK ? 0 : ogw_store_errno(rc) ? ogw_store_errno(rc) : -EIO;
}

int ogw_store_commit(struct ogw_store *st)
{
	if (!st)
		return 0;
	batch_check(st);
	int r = 0;
	if (st->in_tx) {
		st->in_tx = false;
		r = store_run(st, STMT_COMMIT);
		if (r < 0 && !sqlite3_get_autocommit(st->db))
			store_run(st, STMT_ROLLBACK);
		else if (r == 0 && st->syncer && st->hold)
			r = store_sync_log(st);
		else if (r == 0 && st->syncer)
			syncer_poke(st->syncer);
	}
	if (r < 0 || st->lost) {
		/* A full disk: hand the write-ahead log's space back, so the next
		 * batch (smaller, or after deliveries freed rows) can fit. */
		sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	}
	if (st->lost) {
		st->lost = false;
		return r < 0 ? r : -ECANCELED;
	}
	return r;
}

sqlite3_stmt *ogw_store_stmt(struct ogw_store *st, const char *sql)
{
	for (size_t i = 0; i < st->n_cache; i++)
		if (st->cache[i].sql == sql)
			return st->cache[i].stmt;
	sqlite3_stmt *s = NULL;
	int rc = st->n_cache < OGW_STORE_MAX_STMTS ?
		 sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) :
		 SQLITE_NOMEM;
	if (rc != SQLITE_OK) {
		ogw_err(NULL, "store: Failed to prepare \"%.60s\": %s", sql,
			st->n_cache < OGW_STORE_MAX_STMTS ? sqlite3_errmsg(st->db) :
							    "too many statements");
		sqlite3_finalize(s);
		return NULL;
	}
	st->cache[st->n_cache++] = (struct ogw_store_cached){ sql, s };
	return s;
}

int ogw_store_step_done(struct ogw_store *st, sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);
	int r = rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : ogw_store_errno(rc);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW && !r)
		r = -EIO;
	(void)st;
	ogw_store_release(s);
	return r;
}

struct ogw_store *ogw_store_close(struct ogw_store *st)
{
	if (!st)
		return NULL;
	ogw_store_commit(st);
	if (st->syncer) {
		sqlite3_wal_hook(st->db, NULL, NULL);
		st->syncer = syncer_stop(st->syncer);
		/* what the last log-only commits wrote, before the close checkpoints */
		store_sync_log(st);
	}
	for (size_t i = 0; i < st->n_cache; i++)
		sqlite3_finalize(st->cache[i].stmt);
	for (int i = 0; i < STMT_COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	sqlite3_close(st->db);
	free(st);
	return NULL;
}

enum ogw_store_origin ogw_store_origin(const struct ogw_store *st)
{
	return st->origin;
}

int ogw_store_schema_version(struct ogw_store *st)
{
	return st->schema_version;
}

/* Binds the (charger, key) pair every statement starts with. */
static int store_bind_key(sqlite3_stmt *s, const char *charger, const char *key)
{
	int rc;

	rc = sqlite3_bind_text(s, 1, charger, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
	return rc;
}

/* Leaves @s ready for its next use and drops the borrowed bindings. */
json_t *ogw_store_rows_json(sqlite3_stmt *s, json_t *(*row_json)(sqlite3_stmt *s))
{
	json_t *out = json_array();
	int rc = SQLITE_DONE;
	while (out && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		json_t *row = row_json(s);
		if (!row || json_array_append_new(out, row) < 0) {
			json_decref(out);
			out = NULL;
		}
	}
	ogw_store_release(s);
	if (out && rc != SQLITE_DONE) {
		json_decref(out);
		return NULL;
	}
	return out;
}

void ogw_store_release(sqlite3_stmt *s)
{
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

int ogw_store_bind_json(sqlite3_stmt *s, int i, const json_t *v)
{
	if (!v)
		return sqlite3_bind_null(s, i);
	char *text = ogw_json_text(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (!text)
		return SQLITE_NOMEM;
	return sqlite3_bind_text(s, i, text, -1, free);
}

/* A stored value: what json_dumps() wrote parses in one pass (scalars and
 * non-ASCII text go to jansson). */
static json_t *store_json(const char *text, size_t len)
{
	json_t *v = ogw_json_quick(text, len);
	return v ? v : json_loadb(text, len, JSON_DECODE_ANY, NULL);
}

json_t *ogw_store_column_json(sqlite3_stmt *s, int i)
{
	const char *text = (const char *)sqlite3_column_text(s, i);
	return text ? store_json(text, (size_t)sqlite3_column_bytes(s, i)) : NULL;
}

json_t *ogw_store_kv_get(struct ogw_store *st, const char *charger, const char *key,
			 int *ret_err)
{
	sqlite3_stmt *s;
	json_t *value = NULL;
	int rc, r = 0;

	if (!st || !charger || !key) {
		r = -EINVAL;
		goto out;
	}
	s = st->stmt[STMT_KV_GET];
	rc = store_bind_key(s, charger, key);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const char *text = (const char *)sqlite3_column_text(s, 0);
		size_t len = (size_t)sqlite3_column_bytes(s, 0);

		/* Only this file writes the column; unparsable text is damage. */
		value = text ? store_json(text, len) : NULL;
		if (!value)
			r = text ? -EIO : ogw_store_errno(sqlite3_errcode(st->db));
	} else if (rc != SQLITE_DONE) {
		r = ogw_store_errno(rc);
	}
	ogw_store_release(s);
out:
	if (ret_err)
		*ret_err = r;
	return value;
}

int ogw_store_kv_put(struct ogw_store *st, const char *charger, const char *key,
		     const json_t *value)
{
	sqlite3_stmt *s;
	char *text = NULL;
	int rc, r = 0;

	if (!st || !charger || !key || !value)
		return -EINVAL;
	r = ogw_store_write_begin(st);
	if (r < 0)
		return r;
	text = ogw_json_text(value, JSON_COMPACT | JSON_ENCODE_ANY);
	if (!text)
		return -ENOMEM;
	s = st->stmt[STMT_KV_PUT];
	rc = store_bind_key(s, charger, key);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(s, 3, text, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc != SQLITE_DONE)
		r = store_step_errno(rc);
	ogw_store_release(s);
	free(text);
	return r;
}

int ogw_store_kv_del(struct ogw_store *st, const char *charger, const char *key)
{
	sqlite3_stmt *s;
	int rc, r = 0;

	if (!st || !charger || !key)
		return -EINVAL;
	r = ogw_store_write_begin(st);
	if (r < 0)
		return r;
	s = st->stmt[STMT_KV_DEL];
	rc = store_bind_key(s, charger, key);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc != SQLITE_DONE)
		r = store_step_errno(rc);
	ogw_store_release(s);
	return r;
}

int64_t ogw_store_next_id(struct ogw_store *st, const char *charger, const char *name,
			  int *ret_err)
{
	sqlite3_stmt *s;
	int64_t id = 0;
	int rc, r = 0;

	if (!st || !charger || !name) {
		r = -EINVAL;
		goto out;
	}
	r = ogw_store_write_begin(st);
	if (r < 0)
		goto out;
	s = st->stmt[STMT_NEXT_ID];
	rc = store_bind_key(s, charger, name);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		id = sqlite3_column_int64(s, 0);
		/* The upsert commits when the statement runs to completion. */
		rc = sqlite3_step(s);
	}
	if (rc != SQLITE_DONE) {
		id = 0;
		r = store_step_errno(rc);
	}
	ogw_store_release(s);
out:
	if (ret_err)
		*ret_err = r;
	return id;
}
