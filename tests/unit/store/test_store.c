/* SPDX-License-Identifier: MIT */
/*
 * The durable store against real database files in a temporary directory:
 * creation, round trips, counters across reopen, migrations, and the failures
 * an operator meets (foreign or damaged file, newer schema, permissions, full
 * disk). It does not test crash durability, which needs a power cut.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <jansson.h>
#include <sqlite3.h>

#include "ocppgw/store.h"

static char tmpdir[64];
static char dbpath[256];

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void setup(void)
{
	strcpy(tmpdir, "/tmp/ogw-store-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	snprintf(dbpath, sizeof(dbpath), "%s/ocppgw.db", tmpdir);
}

static void teardown(void)
{
	if (getuid() == 0 && geteuid() != 0) {
		cr_assert_eq(seteuid(0), 0);
		cr_assert_eq(setegid(0), 0);
	}
	chmod(tmpdir, 0700);
	nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static struct ogw_store *open_ok(const char *dir)
{
	struct ogw_store *st = NULL;
	char err[512] = "";
	int r;

	r = ogw_store_open(dir, &st, err, sizeof(err));
	cr_assert_eq(r, 0, "open %s: %d %s", dir, r, err);
	cr_assert_not_null(st);
	return st;
}

static int open_fail(const char *dir, char *err, size_t errlen)
{
	struct ogw_store *st = NULL;
	int r;

	err[0] = '\0';
	r = ogw_store_open(dir, &st, err, errlen);
	cr_assert_lt(r, 0, "open %s should fail", dir);
	cr_assert_null(st);
	return r;
}

/* Runs @sql on the database file through a separate plain connection. */
static void raw_exec(const char *sql)
{
	sqlite3 *db = NULL;
	char *msg = NULL;

	cr_assert_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, &msg), SQLITE_OK, "%s: %s", sql, msg);
	sqlite3_close(db);
}

static char *read_all(const char *path, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long len;

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)len + 1);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	*ret_len = (size_t)len;
	return buf;
}

static void write_all(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	cr_assert_not_null(f);
	cr_assert_eq(fwrite(data, 1, len, f), len);
	fclose(f);
}

static bool exists(const char *suffix)
{
	char p[300];

	snprintf(p, sizeof(p), "%s%s", dbpath, suffix);
	return access(p, F_OK) == 0;
}

/* Root passes every permission check; act as nobody to meet them, keeping
 * the real id so teardown can take root back and clean up. */
static void drop_root(void)
{
	if (geteuid() != 0)
		return;
	cr_assert_eq(setegid(65534), 0);
	cr_assert_eq(seteuid(65534), 0);
}

TestSuite(store, .init = setup, .fini = teardown);

Test(store, open_creates_directory_and_database)
{
	char dir[160];
	struct ogw_store *st;
	struct stat sb;
	unsigned char hdr[20];
	int fd;

	snprintf(dir, sizeof(dir), "%s/data", tmpdir);
	st = open_ok(dir);
	cr_assert_eq(ogw_store_schema_version(st), 5);
	cr_assert_eq(stat(dir, &sb), 0);
	cr_assert_eq(sb.st_mode & 0777, 0700);
	ogw_store_close(st);

	snprintf(dbpath, sizeof(dbpath), "%s/ocppgw.db", dir);
	fd = open(dbpath, O_RDONLY);
	cr_assert_geq(fd, 0);
	cr_assert_eq(read(fd, hdr, sizeof(hdr)), (ssize_t)sizeof(hdr));
	close(fd);
	cr_assert_eq(memcmp(hdr, "SQLite format 3", 16), 0);
	/* File format read/write versions 2: WAL. */
	cr_assert_eq(hdr[18], 2);
	cr_assert_eq(hdr[19], 2);
}

Test(store, close_is_null_safe)
{
	cr_assert_null(ogw_store_close(NULL));
}

Test(store, kv_round_trip_nested_json)
{
	struct ogw_store *st = open_ok(tmpdir);
	json_t *v, *got;
	int err = 1;

	v = json_pack("{s:{s:[i,i,{s:s}],s:b},s:n,s:f,s:s}",
		      "txmap", "ids", 17, 42, "ref", "uuid-é", "open", 1,
		      "none", "ratio", 0.5, "seq", "x\"y");
	cr_assert_not_null(v);
	cr_assert_eq(ogw_store_kv_put(st, "CP1", "tx", v), 0);

	got = ogw_store_kv_get(st, "CP1", "tx", &err);
	cr_assert_eq(err, 0);
	cr_assert_not_null(got);
	cr_assert(json_equal(v, got));
	json_decref(got);

	/* Same key, other charger: absent, not an error. */
	err = 1;
	cr_assert_null(ogw_store_kv_get(st, "CP2", "tx", &err));
	cr_assert_eq(err, 0);

	/* Overwrite with a non-object value. */
	json_decref(v);
	v = json_integer(7);
	cr_assert_eq(ogw_store_kv_put(st, "CP1", "tx", v), 0);
	got = ogw_store_kv_get(st, "CP1", "tx", NULL);
	cr_assert(json_equal(v, got));
	json_decref(got);
	json_decref(v);

	cr_assert_eq(ogw_store_kv_del(st, "CP1", "tx"), 0);
	err = 1;
	cr_assert_null(ogw_store_kv_get(st, "CP1", "tx", &err));
	cr_assert_eq(err, 0);
	/* Deleting what is absent is fine. */
	cr_assert_eq(ogw_store_kv_del(st, "CP1", "tx"), 0);

	cr_assert_eq(ogw_store_kv_put(st, NULL, "tx", json_null()), -EINVAL);
	ogw_store_close(st);
}

Test(store, kv_survives_reopen)
{
	struct ogw_store *st = open_ok(tmpdir);
	json_t *v = json_pack("{s:[s,s]}", "pending", "a", "b"), *got;

	cr_assert_eq(ogw_store_kv_put(st, "CP1", "state", v), 0);
	ogw_store_close(st);
	st = open_ok(tmpdir);
	got = ogw_store_kv_get(st, "CP1", "state", NULL);
	cr_assert(json_equal(v, got));
	json_decref(got);
	json_decref(v);
	ogw_store_close(st);
}

Test(store, counters_monotonic_across_reopen)
{
	struct ogw_store *st = open_ok(tmpdir);
	int err = 1;

	cr_assert_eq(ogw_store_next_id(st, "CP1", "tx", &err), 1);
	cr_assert_eq(err, 0);
	cr_assert_eq(ogw_store_next_id(st, "CP1", "tx", NULL), 2);
	cr_assert_eq(ogw_store_next_id(st, "CP1", "tx", NULL), 3);
	/* Per charger and per name. */
	cr_assert_eq(ogw_store_next_id(st, "CP2", "tx", NULL), 1);
	cr_assert_eq(ogw_store_next_id(st, "CP1", "seqNo", NULL), 1);
	ogw_store_close(st);

	st = open_ok(tmpdir);
	cr_assert_eq(ogw_store_next_id(st, "CP1", "tx", NULL), 4);
	cr_assert_eq(ogw_store_next_id(st, "CP2", "tx", NULL), 2);
	err = 0;
	cr_assert_eq(ogw_store_next_id(st, "CP1", NULL, &err), 0);
	cr_assert_eq(err, -EINVAL);
	ogw_store_close(st);
}

Test(store, reopen_migrates_nothing_twice)
{
	struct ogw_store *st = open_ok(tmpdir);
	char *before, *after;
	size_t n_before, n_after;

	cr_assert_eq(ogw_store_next_id(st, "CP1", "tx", NULL), 1);
	ogw_store_close(st);
	before = read_all(dbpath, &n_before);

	/* Migration 1 has no IF NOT EXISTS: running it again would fail. A
	 * reopen that applies nothing writes nothing. */
	st = open_ok(tmpdir);
	cr_assert_eq(ogw_store_schema_version(st), 5);
	ogw_store_close(st);
	after = read_all(dbpath, &n_after);
	cr_assert_eq(n_before, n_after);
	cr_assert_eq(memcmp(before, after, n_before), 0);
	free(before);
	free(after);
}

Test(store, garbage_file_is_an_error_and_untouched)
{
	static const char junk[] = "this is not a database, it is a log file\n"
				   "with a second line that is long enough to fill a header\n";
	char err[512];
	char *after;
	size_t n;
	int r;

	write_all(dbpath, junk, sizeof(junk) - 1);
	r = open_fail(tmpdir, err, sizeof(err));
	cr_assert_eq(r, -EIO);
	cr_assert(strstr(err, dbpath), "%s", err);
	cr_assert(strstr(err, "not an SQLite database"), "%s", err);

	after = read_all(dbpath, &n);
	cr_assert_eq(n, sizeof(junk) - 1);
	cr_assert_eq(memcmp(after, junk, n), 0);
	free(after);
	cr_assert_not(exists("-wal"));
	cr_assert_not(exists("-shm"));
}

Test(store, damaged_database_is_an_error)
{
	struct ogw_store *st = open_ok(tmpdir);
	char err[512], *data;
	json_t *v = json_string("some state that fills pages of the kv table");
	char key[32];
	size_t n;
	int r;

	for (int i = 0; i < 300; i++) {
		snprintf(key, sizeof(key), "key-%d", i);
		cr_assert_eq(ogw_store_kv_put(st, "CP1", key, v), 0);
	}
	json_decref(v);
	ogw_store_close(st);

	/* Scribble over the b-tree pages after the first two. */
	data = read_all(dbpath, &n);
	cr_assert_gt(n, 4 * 4096);
	memset(data + 2 * 4096, 0x5a, n - 2 * 4096);
	write_all(dbpath, data, n);
	free(data);

	r = open_fail(tmpdir, err, sizeof(err));
	cr_assert_eq(r, -EIO, "%d %s", r, err);
	cr_assert(strstr(err, dbpath), "%s", err);
	cr_assert(strstr(err, "refusing to touch it"), "%s", err);
}

Test(store, foreign_sqlite_database_is_an_error)
{
	char err[512];

	raw_exec("CREATE TABLE photos(id INTEGER PRIMARY KEY, name TEXT)");
	cr_assert_eq(open_fail(tmpdir, err, sizeof(err)), -EIO);
	cr_assert(strstr(err, "not an ocppgw database"), "%s", err);
	cr_assert(strstr(err, dbpath), "%s", err);
}

Test(store, newer_schema_is_an_error)
{
	char err[512];

	ogw_store_close(open_ok(tmpdir));
	raw_exec("UPDATE meta SET value = 99 WHERE key = 'schema_version'");
	cr_assert_eq(open_fail(tmpdir, err, sizeof(err)), -ENOTSUP);
	cr_assert(strstr(err, "created by a newer ocppgw (schema 99 > 5)"), "%s", err);
	cr_assert(strstr(err, dbpath), "%s", err);
}

Test(store, unwritable_parent_directory_is_eacces)
{
	char dir[160], err[512];

	snprintf(dir, sizeof(dir), "%s/data", tmpdir);
	cr_assert_eq(chmod(tmpdir, 0555), 0);
	drop_root();
	cr_assert_eq(open_fail(dir, err, sizeof(err)), -EACCES);
	cr_assert(strstr(err, dir), "%s", err);
	cr_assert(strstr(err, "Permission denied"), "%s", err);
}

Test(store, unwritable_data_directory_is_eacces)
{
	char err[512];

	cr_assert_eq(chmod(tmpdir, 0555), 0);
	drop_root();
	cr_assert_eq(open_fail(tmpdir, err, sizeof(err)), -EACCES);
	cr_assert(strstr(err, dbpath), "%s", err);
	cr_assert(strstr(err, "permission denied"), "%s", err);
}

Test(store, read_only_database_is_eacces)
{
	char err[512];

	ogw_store_close(open_ok(tmpdir));
	cr_assert_eq(chmod(dbpath, 0444), 0);
	cr_assert_eq(chmod(tmpdir, 0777), 0);
	drop_root();
	cr_assert_eq(open_fail(tmpdir, err, sizeof(err)), -EACCES);
	cr_assert(strstr(err, dbpath), "%s", err);
	cr_assert(strstr(err, "permission denied"), "%s", err);
}

/* Runs on every connection opened after it is registered: a database that
 * may not grow past 32 pages (the schema and a few rows fit, a 1 MiB
 * value does not) stands in for a full disk. */
static int limit_pages(sqlite3 *db, char **msg, const void *api)
{
	(void)msg;
	(void)api;
	return sqlite3_exec(db, "PRAGMA max_page_count = 32", NULL, NULL, NULL);
}

Test(store, full_disk_is_enospc)
{
	struct ogw_store *st;
	char *big;
	json_t *v, *small, *got;
	int err = 1;

	cr_assert_eq(sqlite3_auto_extension((void (*)(void))limit_pages), SQLITE_OK);
	st = open_ok(tmpdir);

	big = malloc(1 << 20);
	cr_assert_not_null(big);
	memset(big, 'x', (1 << 20) - 1);
	big[(1 << 20) - 1] = '\0';
	v = json_string(big);
	free(big);
	cr_assert_eq(ogw_store_kv_put(st, "CP1", "big", v), -ENOSPC);
	json_decref(v);

	/* The failed write left nothing behind and the store still works. */
	cr_assert_null(ogw_store_kv_get(st, "CP1", "big", &err));
	cr_assert_eq(err, 0);
	small = json_true();
	cr_assert_eq(ogw_store_kv_put(st, "CP1", "small", small), 0);
	got = ogw_store_kv_get(st, "CP1", "small", NULL);
	cr_assert(json_equal(small, got));
	json_decref(got);
	cr_assert_eq(ogw_store_next_id(st, "CP1", "tx", NULL), 1);
	ogw_store_close(st);
}

/* Group commit: writes of a batch are visible to this connection at once,
 * to another only after ogw_store_commit(). */
Test(store, batch_commits_once)
{
	struct ogw_store *st = open_ok(tmpdir), *other = open_ok(tmpdir);
	json_t *v = json_pack("{s:i}", "seqNo", 3), *got;
	int err = 0;

	ogw_store_set_batching(st, true);
	cr_assert_not(ogw_store_uncommitted(st));
	cr_assert_eq(ogw_store_kv_put(st, "CP1", "tx:a", v), 0);
	cr_assert_eq(ogw_store_next_id(st, "CP1", "tx16", &err), 1);
	cr_assert(ogw_store_uncommitted(st));
	got = ogw_store_kv_get(st, "CP1", "tx:a", NULL);
	cr_assert(json_equal(v, got), "the batch reads its own writes");
	json_decref(got);
	cr_assert_null(ogw_store_kv_get(other, "CP1", "tx:a", &err), "not visible before commit");
	cr_assert_eq(ogw_store_commit(st), 0);
	cr_assert_not(ogw_store_uncommitted(st));
	got = ogw_store_kv_get(other, "CP1", "tx:a", NULL);
	cr_assert(json_equal(v, got), "visible after commit");
	json_decref(got);
	cr_assert_eq(ogw_store_commit(st), 0, "committing nothing is fine");
	json_decref(v);
	ogw_store_close(other);
	ogw_store_close(st);
}

static off_t file_size(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0 ? sb.st_size : -1;
}

/* With the sync thread (issue 19) the loop's commits never checkpoint: the
 * thread does, past 1,000 pages of log, so the database file grows without
 * the writer moving a page. What a batch held frames for is readable by
 * another connection once the commit returns, and everything survives the
 * close, which stops the thread first. */
Test(store, sync_thread_checkpoints_and_keeps_everything)
{
	struct ogw_store *st = open_ok(tmpdir);
	char key[32], big[2048];
	int err = 0;

	ogw_store_set_batching(st, true);
	cr_assert_eq(ogw_store_sync_in_background(st), 0);
	off_t before = file_size(dbpath);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	json_t *v = json_string(big);
	/* about 3,000 pages of log in 30 batches */
	for (int b = 0; b < 30; b++) {
		for (int i = 0; i < 100; i++) {
			snprintf(key, sizeof(key), "k%d", b * 100 + i);
			cr_assert_eq(ogw_store_kv_put(st, "CP1", key, v), 0);
		}
		cr_assert(ogw_store_uncommitted(st));
		cr_assert_eq(ogw_store_commit(st), 0);
	}
	for (int i = 0; i < 500 && file_size(dbpath) <= before + 2000 * 1024; i++)
		usleep(10000);
	cr_assert_gt(file_size(dbpath), before + 2000 * 1024,
		     "the thread checkpointed the log into the database (%lld -> %lld bytes)",
		     (long long)before, (long long)file_size(dbpath));
	struct ogw_store *other = open_ok(tmpdir);
	json_t *got = ogw_store_kv_get(other, "CP1", "k2999", &err);
	cr_assert(json_equal(v, got), "the last batch is there for another connection");
	json_decref(got);
	ogw_store_close(other);
	ogw_store_close(st);
	st = open_ok(tmpdir);
	for (int i = 0; i < 3000; i += 499) {
		snprintf(key, sizeof(key), "k%d", i);
		got = ogw_store_kv_get(st, "CP1", key, &err);
		cr_assert(json_equal(v, got), "%s survives the close", key);
		json_decref(got);
	}
	json_decref(v);
	ogw_store_close(st);
}
