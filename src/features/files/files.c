/* SPDX-License-Identifier: MIT */
/*
 * Firmware for chargers that reach only the gateway. A CSMS's
 * UpdateFirmware (1.6, 2.x) or SignedUpdateFirmware on its way to a
 * charger gets the location of the gateway's own LAN file server, one
 * unguessable path per request; the gateway downloads the CSMS's URL
 * once (fetch.c, at the retrieve time, with the CSMS's retries) into
 * data_dir/files, bounded in size with the least recently used file
 * dropped, and serves it as it is: signed firmware's bytes and signature
 * fields are never touched. A charger asking before the download is done
 * waits on its connection. When the download fails after the retries,
 * the gateway tells the CSMS DownloadFailed itself, in the CSMS's version,
 * and answers the charger's own DownloadFailed that follows.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "ocppgw/log.h"
#include "ocppgw/loop.h"
#include "ocppgw/util.h"
#include "features/files/fetch.h"
#include "features/files/files.h"
#include "features/files/internal.h"
#include "session/session.h"

enum entry_state {
	ENTRY_WAITING,          /* before retrieveDateTime, or between attempts */
	ENTRY_FETCHING,
	ENTRY_READY,
	ENTRY_FAILED,
};

static const char *const state_names[] = {
	[ENTRY_WAITING] = "waiting",
	[ENTRY_FETCHING] = "fetching",
	[ENTRY_READY] = "ready",
	[ENTRY_FAILED] = "failed",
};

/* What the CSMS asked a charger, to tell it of a failed download. */
struct ask {
	lws_dll2_t list;
	char charger[OGW_ID_MAX + 1];
	char action[40];        /* the status notification, in the CSMS's version */
	json_t *request_id;     /* the CSMS's requestId, or NULL (1.6 UpdateFirmware) */
};

/* One URL of a CSMS, downloaded once for every charger that gets it. */
struct entry {
	lws_dll2_t list;        /* files->entries, least recently used first */
	struct ogw_files *fs;
	char *url;
	char path[440];
	enum entry_state state;
	uint64_t size;
	int attempts, attempts_max;
	int interval_s;
	uv_timer_t timer;
	struct ogw_fetch *fetch;
	lws_dll2_owner_t waiters;   /* connections waiting for it */
	lws_dll2_owner_t asks;
	unsigned int serving;       /* connections sending it now */
	lws_dll2_owner_t tokens;
	bool local;                 /* the operator's file (fwstore.c), url its name: never
	                               dropped or deleted here, not in files.max_size */
};

struct token {
	lws_dll2_t list;            /* entry->tokens */
	char hex[TOKEN_LEN + 1];
	struct entry *e;
};

struct ogw_files *ogw_files_of(struct ogw_gateway *gw)
{
	return gw->files;
}

struct ogw_files *ogw_files_toward_charger(const struct ogw_leg *from, const struct ogw_leg *to)
{
	return to->kind == OGW_SOUTH ? from->s->gw->files : NULL;
}

/* ---- the cache ------------------------------------------------------- */

static void entry_set_state(struct entry *e, enum entry_state st)
{
	ogw_debug(NULL, "file %s: %s -> %s", e->url, state_names[e->state], state_names[st]);
	e->state = st;
}

/* The download of @url, or with @local the operator's file named @url. */
static struct entry *entry_find(struct ogw_files *fs, const char *url, bool local)
{
	lws_start_foreach_dll(struct lws_dll2 *, d, lws_dll2_get_head(&fs->entries)) {
		struct entry *e = lws_container_of(d, struct entry, list);
		if (e->state != ENTRY_FAILED && e->local == local && !strcmp(e->url, url))
			return e;
	} lws_end_foreach_dll(d);
	return NULL;
}

static struct entry *token_find(struct ogw_files *fs, const char *hex)
{
	lws_start_foreach_dll(struct lws_dll2 *, d, lws_dll2_get_head(&fs->entries)) {
		struct entry *e = lws_container_of(d, struct entry, list);
		lws_start_foreach_dll(struct lws_dll2 *, t, lws_dll2_get_head(&e->tokens)) {
			struct token *tk = lws_container_of(t, struct token, list);
			if (!strcmp(tk->hex, hex))
				return e;
		} lws_end_foreach_dll(t);
	} lws_end_foreach_dll(d);
	return NULL;
}

static void ask_free(struct ask *a)
{
	lws_dll2_remove(&a->list);
	json_decref(a->request_id);
	free(a);
}

static void timer_closed(uv_handle_t *h)
{
	struct entry *e = h->data;
	free(e->url);
	free(e);
}

/* Drops @e: its tokens and what it still owes, and its file unless
 * @keep_file (a complete download at shutdown, for the next start). */
static void entry_release(struct entry *e, bool keep_file)
{
	ogw_fetch_cancel(e->fetch);
	e->fetch = NULL;
	if (e->state == ENTRY_READY && !e->local)
		e->fs->used -= e->size;
	if (!keep_file && !e->local) {
		char url_path[448];
		snprintf(url_path, sizeof(url_path), "%s.url", e->path);
		unlink(e->path);
		unlink(url_path);
	}
	lws_dll2_remove(&e->list);
	lws_start_foreach_dll_safe(struct lws_dll2 *, d, n, lws_dll2_get_head(&e->tokens)) {
		struct token *tk = lws_container_of(d, struct token, list);
		lws_dll2_remove(&tk->list);
		free(tk);
	} lws_end_foreach_dll_safe(d, n);
	lws_start_foreach_dll_safe(struct lws_dll2 *, d, n, lws_dll2_get_head(&e->asks)) {
		ask_free(lws_container_of(d, struct ask, list));
	} lws_end_foreach_dll_safe(d, n);
	uv_timer_stop(&e->timer);
	uv_close((uv_handle_t *)&e->timer, timer_closed);
}

static void entry_free(struct entry *e)
{
	entry_release(e, false);
}

/* Drops the least recently used ready files no one is reading until
 * @need more bytes fit under files.max_size: 0, or -ENOSPC. */
static int make_room(struct ogw_files *fs, const struct entry *keep, uint64_t need)
{
	uint64_t cap = fs->gw->conf.files_max_size;

	lws_start_foreach_dll_safe(struct lws_dll2 *, d, n, lws_dll2_get_head(&fs->entries)) {
		struct entry *e = lws_container_of(d, struct entry, list);
		if (fs->used + need <= cap)
			break;
		if (e != keep && e->state == ENTRY_READY && !e->serving && !e->local) {
			ogw_info(NULL, "file %s: dropped (%llu bytes) to make room", e->url,
				 (unsigned long long)e->size);
			entry_free(e);
		}
	} lws_end_foreach_dll_safe(d, n);
	return fs->used + need <= cap ? 0 : -ENOSPC;
}

/* Moves @e to the most recently used end. */
static void entry_touch(struct entry *e)
{
	lws_dll2_remove(&e->list);
	lws_dll2_add_tail(&e->list, &e->fs->entries);
	/* The file's mtime is its place in that order after a restart (the
	 * operator's files keep theirs: fwstore.c checks it). */
	if (e->state == ENTRY_READY && !e->local)
		utimensat(AT_FDCWD, e->path, NULL, 0);
}

/* ---- telling the CSMS ------------------------------------------------- */

static void status_answered(struct ogw_call *c, const struct ogw_frame *answer)
{
	(void)c;
	(void)answer;
}

/* The charger's own DownloadFailed the gateway owes an answer (it told
 * the CSMS already): counted in the session's state for this stage. */
static unsigned int *owed_of(struct ogw_session *s)
{
	return ogw_session_state(s, &ogw_files_stage);
}

static unsigned int owed(struct ogw_session *s)
{
	unsigned int *n = owed_of(s);
	return n ? *n : 0;
}

static void owed_add(struct ogw_session *s, int d)
{
	unsigned int *n = owed_of(s);
	if (n)
		*n = (unsigned int)((int)*n + d);
}

static void tell_failed(struct ogw_files *fs, struct ask *a, const char *why)
{
	struct ogw_session *s = ogw_session_find(fs->gw, a->charger);
	struct ogw_log_ctx lc = { .charger = a->charger, .leg = "north", .action = a->action };

	if (!s || ogw_session_standalone(s)) {
		ogw_warn(&lc, "firmware download failed (%s): no CSMS to tell", why);
		return;
	}
	json_t *p = json_pack("{s:s}", "status", "DownloadFailed");
	if (p && a->request_id)
		json_object_set(p, "requestId", a->request_id);
	ogw_warn(&lc, "firmware download failed (%s): the gateway reports DownloadFailed", why);
	if (!p || ogw_leg_call(ogw_session_primary(s), a->action, p, status_answered, NULL,
			       NULL) < 0) {
		ogw_err(&lc, "Failed to send DownloadFailed to the CSMS");
		return;
	}
	owed_add(s, 1);
}

/* ---- the file server -------------------------------------------------- */

static void conn_freed(uv_handle_t *h)
{
	struct conn *c = h->data;
	if (--c->handles)
		return;
	ogw_files_conn_tls_free(c);
	free(c->buf);
	free(c->reply);
	free(c);
}

void ogw_files_conn_close(struct conn *c)
{
	if (c->closing)
		return;
	c->closing = true;
	if (c->up)
		c->fs->up_ops->abandon(c);
	lws_dll2_remove(&c->wait);
	lws_dll2_remove(&c->list);
	if (c->e && c->fd >= 0)
		c->e->serving--;
	c->e = NULL;
	if (c->fd >= 0 && !c->fs_busy) {
		close(c->fd);
		c->fd = -1;
	}
	if (c->fs_busy)
		return;
	if (c->handles > 1) {
		uv_timer_stop(&c->idle);
		uv_close((uv_handle_t *)&c->idle, conn_freed);
	}
	uv_close((uv_handle_t *)&c->tcp, conn_freed);
}

static void idle_out(uv_timer_t *t)
{
	struct conn *c = t->data;
	ogw_warn(NULL, "file server: no progress on a connection for %d s: closed",
		 c->fs->gw->conf.files_idle_timeout_s);
	ogw_files_conn_close(c);
}

void ogw_files_conn_alive(struct conn *c)
{
	uv_timer_start(&c->idle, idle_out, (uint64_t)c->fs->gw->conf.files_idle_timeout_s * 1000, 0);
}

static void linger_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct conn *c = h->data;
	(void)hint;
	*buf = uv_buf_init(c->head, sizeof(c->head));
}

/* What the client still sends after its reply is read and dropped until it
 * closes or the idle timer ends it: closing a socket
 * with unread bytes makes the kernel reset it, and the reset can destroy
 * the reply before the client reads it (a 431 to an over-long head). The
 * idle timer is armed once as the linger starts and not again. */
static void linger_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
	(void)buf;
	if (n < 0)
		ogw_files_conn_close(st->data);
}

static void shut_done(uv_shutdown_t *sd, int status)
{
	/* UV_ECANCELED: the connection closed first; nothing to do either way */
	(void)sd;
	(void)status;
}

static void reply_written(uv_write_t *w, int status)
{
	struct conn *c = w->data;
	if (status < 0 || c->closing) {
		ogw_files_conn_close(c);
		return;
	}
	ogw_files_read_stop(c);
	ogw_files_conn_alive(c);  /* the linger gets one idle timeout, whatever ran before */
	c->sd.data = c;
	if (ogw_files_shutdown(c, shut_done) < 0 ||
	    ogw_files_read_start(c, linger_alloc, linger_read) < 0)
		ogw_files_conn_close(c);
}

/* A short answer, then the connection closes. */
void ogw_files_reply(struct conn *c, int code, const char *reason)
{
	if (c->closing)
		return;
	int n = asprintf(&c->reply, "HTTP/1.1 %d %s\r\nContent-Length: 0\r\n"
			 "Connection: close\r\n\r\n", code, reason);
	if (n < 0) {
		c->reply = NULL;
		ogw_files_conn_close(c);
		return;
	}
	c->out = uv_buf_init(c->reply, (unsigned int)n);
	c->wr.data = c;
	if (ogw_files_write(c, reply_written) < 0)
		ogw_files_conn_close(c);
}

static void chunk_read(uv_fs_t *r);

static void chunk_written(uv_write_t *w, int status)
{
	struct conn *c = w->data;
	if (status < 0 || c->closing) {
		ogw_files_conn_close(c);
		return;
	}
	ogw_files_conn_alive(c);
	c->fs_busy = true;
	c->out = uv_buf_init(c->buf, CHUNK);
	if (uv_fs_read(ogw_loop_uv(), &c->rd, c->fd, &c->out, 1, -1, chunk_read) < 0) {
		c->fs_busy = false;
		ogw_files_conn_close(c);
	}
}

static void chunk_read(uv_fs_t *r)
{
	struct conn *c = r->data;
	ssize_t n = r->result;

	uv_fs_req_cleanup(r);
	c->fs_busy = false;
	if (c->closing) {
		/* ogw_files_conn_close() waited for this read. */
		c->closing = false;
		ogw_files_conn_close(c);
		return;
	}
	if (n <= 0) {
		ogw_files_conn_close(c);
		return;
	}
	c->out = uv_buf_init(c->buf, (unsigned int)n);
	if (ogw_files_write(c, chunk_written) < 0)
		ogw_files_conn_close(c);
}

/* Sends the ready file of @e: the head, then CHUNK bytes at a time. */
static void conn_send(struct conn *c, struct entry *e)
{
	c->buf = malloc(CHUNK);
	c->fd = c->buf ? open(e->path, O_RDONLY | O_CLOEXEC) : -1;
	if (c->fd < 0) {
		ogw_err(NULL, "file %s: Failed to open %s: %s", e->url, e->path, strerror(errno));
		ogw_files_reply(c, 500, "Internal Server Error");
		return;
	}
	c->e = e;
	e->serving++;
	entry_touch(e);
	int n = snprintf(c->buf, CHUNK, "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
			 "Content-Length: %llu\r\nConnection: close\r\n\r\n",
			 (unsigned long long)e->size);
	c->out = uv_buf_init(c->buf, (unsigned int)n);
	c->wr.data = c;
	c->rd.data = c;
	if (ogw_files_write(c, chunk_written) < 0)
		ogw_files_conn_close(c);
}

/* What a waiting connection gets once @e settled. */
static void wake_waiters(struct entry *e)
{
	lws_start_foreach_dll_safe(struct lws_dll2 *, d, n, lws_dll2_get_head(&e->waiters)) {
		struct conn *c = lws_container_of(d, struct conn, wait);
		lws_dll2_remove(&c->wait);
		if (e->state == ENTRY_READY)
			conn_send(c, e);
		else
			ogw_files_reply(c, 503, "Service Unavailable");
	} lws_end_foreach_dll_safe(d, n);
}

static void conn_request(struct conn *c, const char *body)
{
	struct ogw_files_request req;
	struct entry *e;

	ogw_files_parse_request(c->head, &req);
	if (c->fs->up_ops && (req.method == OGW_FILES_PUT || req.method == OGW_FILES_POST)) {
		c->fs->up_ops->begin(c, &req, body);
		return;
	}
	ogw_files_read_stop(c);
	if (req.method != OGW_FILES_GET) {
		ogw_files_reply(c, 404, "Not Found");
		return;
	}
	e = token_find(c->fs, req.token);
	if (!e) {
		ogw_files_reply(c, 404, "Not Found");
		return;
	}
	switch (e->state) {
	case ENTRY_READY:
		conn_send(c, e);
		break;
	case ENTRY_WAITING:
	case ENTRY_FETCHING:
		/* The charger came before the download finished: it waits,
		 * however long the download takes (that has its own limits). */
		uv_timer_stop(&c->idle);
		lws_dll2_add_tail(&c->wait, &e->waiters);
		break;
	case ENTRY_FAILED:
		ogw_files_reply(c, 503, "Service Unavailable");
		break;
	}
}

static void head_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct conn *c = h->data;
	(void)suggested;
	if (c->up)
		*buf = uv_buf_init(c->buf, CHUNK);
	else
		*buf = uv_buf_init(c->head + c->n, (unsigned int)(sizeof(c->head) - 1 - c->n));
}

static void head_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
	struct conn *c = st->data;
	char *end;

	if (n < 0) {
		ogw_files_conn_close(c);
		return;
	}
	ogw_files_conn_alive(c);
	if (c->up) {
		c->fs->up_ops->body(c, buf->base, (size_t)n);
		return;
	}
	c->n += (size_t)n;
	c->head[c->n] = '\0';
	/* memmem, not strstr: a NUL a client sent must not hide the head's end */
	if ((end = memmem(c->head, c->n, "\r\n\r\n", 4))) {
		conn_request(c, end + 4);
		return;
	}
	if (c->n >= sizeof(c->head) - 1) {
		ogw_files_read_stop(c);
		ogw_files_reply(c, 431, "Request Header Fields Too Large");
	}
}

static void on_connection(uv_stream_t *server, int status)
{
	struct ogw_files *fs = server->data;
	struct conn *c;

	if (status < 0 || !(c = calloc(1, sizeof(*c))))
		return;
	c->fs = fs;
	c->fd = -1;
	uv_tcp_init(ogw_loop_uv(), &c->tcp);
	c->tcp.data = c;
	c->handles = 1;
	if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0) {
		uv_close((uv_handle_t *)&c->tcp, conn_freed);
		return;
	}
	uv_timer_init(ogw_loop_uv(), &c->idle);
	c->idle.data = c;
	c->handles = 2;
	ogw_files_conn_alive(c);
	lws_dll2_add_tail(&c->list, &fs->conns);
	if (fs->conns.count > CONNS_MAX) {
		ogw_warn(NULL, "file server: %d connections at once, refusing more", CONNS_MAX);
		ogw_files_reply(c, 503, "Service Unavailable");
		return;
	}
	if (fs->tls && ogw_files_conn_tls(c, fs->tls) < 0) {
		ogw_files_conn_close(c);
		return;
	}
	if (ogw_files_read_start(c, head_alloc, head_read) < 0)
		ogw_files_conn_close(c);
}

/* ---- downloading ------------------------------------------------------ */

static void attempt(uv_timer_t *t);

static void entry_failed(struct entry *e, const char *why)
{
	struct ogw_files *fs = e->fs;

	ogw_err(NULL, "file %s: download failed after %d attempt(s): %s", e->url, e->attempts, why);
	entry_set_state(e, ENTRY_FAILED);
	wake_waiters(e);
	lws_start_foreach_dll_safe(struct lws_dll2 *, d, n, lws_dll2_get_head(&e->asks)) {
		tell_failed(fs, lws_container_of(d, struct ask, list), why);
	} lws_end_foreach_dll_safe(d, n);
	/* The tokens stay until the entry goes: a charger still asking gets 503. */
	entry_free(e);
}

/* <n>.bin.url beside a downloaded file names its URL, so the next start
 * finds it again (cache_restore()). Without it the file is only lost to
 * the next run, so a failure is a warning. */
static void url_keep(const struct entry *e)
{
	char p[448];
	snprintf(p, sizeof(p), "%s.url", e->path);
	FILE *f = fopen(p, "we");
	bool ok = f && fputs(e->url, f) >= 0;
	if (f && fclose(f))
		ok = false;
	if (!ok) {
		ogw_warn(NULL, "file %s: Failed to note its URL in %s: %s (not kept across a "
			 "restart)", e->url, p, strerror(errno));
		unlink(p);
	}
}

static void fetched(void *arg, int rc, const char *why, uint64_t bytes)
{
	struct entry *e = arg;
	char part[448];

	e->fetch = NULL;
	snprintf(part, sizeof(part), "%s.part", e->path);
	if (rc == 0 && make_room(e->fs, e, bytes) < 0) {
		rc = -ENOSPC;
		why = "no room under files.max_size";
	}
	if (rc == 0 && rename(part, e->path) < 0) {
		rc = -errno;
		why = "renaming the file failed";
	}
	if (rc < 0) {
		unlink(part);
		ogw_warn(NULL, "file %s: attempt %d of %d failed: %s", e->url, e->attempts,
			 e->attempts_max, why);
		/* Over the cap or out of room: another attempt would end the same. */
		if (rc == -EFBIG || rc == -ENOSPC || e->attempts >= e->attempts_max) {
			entry_failed(e, why);
			return;
		}
		entry_set_state(e, ENTRY_WAITING);
		uv_timer_start(&e->timer, attempt, (uint64_t)e->interval_s * 1000, 0);
		return;
	}
	e->size = bytes;
	e->fs->used += bytes;
	ogw_info(NULL, "file %s: %llu bytes downloaded", e->url, (unsigned long long)bytes);
	url_keep(e);
	entry_set_state(e, ENTRY_READY);
	lws_start_foreach_dll_safe(struct lws_dll2 *, d, n, lws_dll2_get_head(&e->asks)) {
		ask_free(lws_container_of(d, struct ask, list));
	} lws_end_foreach_dll_safe(d, n);
	wake_waiters(e);
}

static void attempt(uv_timer_t *t)
{
	struct entry *e = t->data;
	struct ogw_conf *c = &e->fs->gw->conf;
	char part[448];

	if (!ogw_fetch_scheme_ok(e->url)) {
		entry_failed(e, "unsupported scheme (http, https, ftp, ftps are)");
		return;
	}
	e->attempts++;
	entry_set_state(e, ENTRY_FETCHING);
	snprintf(part, sizeof(part), "%s.part", e->path);
	uint64_t cap = c->files_max_file_size < c->files_max_size ? c->files_max_file_size
								   : c->files_max_size;
	int r = ogw_fetch_get(e->url, part, cap, fetched, e, &e->fetch);
	if (r < 0)
		fetched(e, r, strerror(-r), 0);
}

/* ---- the stage -------------------------------------------------------- */

static bool is_firmware(const char *action)
{
	return !strcmp(action, "UpdateFirmware") || !strcmp(action, "SignedUpdateFirmware");
}

/* The location member of a firmware request in version @ver. */
static json_t *location_holder(json_t *payload, enum ogw_ocpp ver, const char *action)
{
	if (ver == OGW_OCPP16 && !strcmp(action, "UpdateFirmware"))
		return payload;
	return json_object_get(payload, "firmware");
}

void ogw_files_token(char ret[TOKEN_LEN + 1])
{
	unsigned char rnd[TOKEN_LEN / 2];
	ogw_random_bytes(rnd, sizeof(rnd));
	ogw_hex_encode(rnd, sizeof(rnd), ret);
	ret[TOKEN_LEN] = '\0';
}

static int int_of(const json_t *o, const char *key, int dflt)
{
	const json_t *v = json_object_get(o, key);
	return json_is_integer(v) ? (int)json_integer_value(v) : dflt;
}

static struct entry *entry_new(struct ogw_files *fs, const char *url, const json_t *csms_req,
			       const json_t *holder)
{
	struct ogw_conf *c = &fs->gw->conf;
	struct entry *e = calloc(1, sizeof(*e));
	if (!e || !(e->url = strdup(url))) {
		free(e);
		return NULL;
	}
	e->fs = fs;
	snprintf(e->path, sizeof(e->path), "%s/%llu.bin", fs->dir,
		 (unsigned long long)++fs->next_name);
	/* OCPP 1.6 §6.53, 2.0.1 L01: retries and retryInterval are the
	 * CSMS's wish; the gateway caps both. */
	int retries = int_of(csms_req, "retries", 0);
	int interval = int_of(csms_req, "retryInterval", 30);
	e->attempts_max = 1 + (retries < 0 ? 0 : retries > c->files_max_retries ?
			       c->files_max_retries : retries);
	e->interval_s = interval < 0 ? 0 : interval > c->files_max_retry_interval_s ?
			c->files_max_retry_interval_s : interval;
	uv_timer_init(ogw_loop_uv(), &e->timer);
	e->timer.data = e;
	lws_dll2_add_tail(&e->list, &fs->entries);

	/* Not before retrieveDateTime (1.6 retrieveDate). */
	const char *when = json_string_value(json_object_get(holder, "retrieveDateTime"));
	if (!when)
		when = json_string_value(json_object_get(holder, "retrieveDate"));
	int64_t at = 0, now = (int64_t)time(NULL);
	uint64_t delay_ms = 0;
	if (when && ogw_time_parse_rfc3339(when, &at) == 0 && at > now)
		delay_ms = (uint64_t)(at - now) * 1000;
	uv_timer_start(&e->timer, attempt, delay_ms, 0);
	return e;
}

/* A path of its own on the file server for @charger to get @e: the
 * location (malloc'd), or NULL. @src names the file for the log. */
static char *offer_entry(struct ogw_files *fs, const char *charger, struct entry *e,
			 struct token *tk, const char *src)
{
	struct ogw_log_ctx lc = { .charger = charger, .leg = "south" };
	char name[NAME_MAX_LEN + 1], *loc = NULL;

	ogw_files_token(tk->hex);
	tk->e = e;
	lws_dll2_add_tail(&tk->list, &e->tokens);
	ogw_files_safe_name(src, name);
	if (asprintf(&loc, "%s/f/%s%s%s", fs->base, tk->hex, *name ? "/" : "", name) < 0)
		return NULL;
	ogw_info(&lc, "firmware %s (%s): the charger gets %s", src, state_names[e->state], loc);
	return loc;
}

/*
 * The location charger @charger gets for firmware @url (malloc'd in
 * *ret_loc): a path of its own on the file server, the download started
 * (or joined) with the retries of @req and the retrieve time in @holder.
 * @a (taken, may be NULL): whom to tell when the download fails.
 */
char *ogw_files_offer(struct ogw_files *fs, const char *charger, const char *url,
		      const json_t *req, const json_t *holder, struct ask *a)
{
	struct ogw_log_ctx lc = { .charger = charger, .leg = "south" };
	struct entry *e = entry_find(fs, url, false);
	struct token *tk = calloc(1, sizeof(*tk));

	if (!tk || (!e && !(e = entry_new(fs, url, req, holder)))) {
		ogw_err(&lc, "Failed to take the firmware download: out of memory");
		free(tk);
		if (a)
			ask_free(a);
		return NULL;
	}
	if (a && e->state == ENTRY_READY)
		ask_free(a);
	else if (a)
		lws_dll2_add_tail(&a->list, &e->asks);
	return offer_entry(fs, charger, e, tk, url);
}

char *ogw_files_offer_local(struct ogw_files *fs, const char *charger, const char *name,
			    const char *path, uint64_t size)
{
	struct entry *e = entry_find(fs, name, true);
	struct token *tk = calloc(1, sizeof(*tk));

	if (tk && !e) {
		e = calloc(1, sizeof(*e));
		if (e && !(e->url = strdup(name))) {
			free(e);
			e = NULL;
		}
		if (e) {
			/* ready at once: the file is on disk already */
			e->fs = fs;
			e->local = true;
			e->state = ENTRY_READY;
			e->size = size;
			e->attempts_max = 1;
			snprintf(e->path, sizeof(e->path), "%s", path);
			uv_timer_init(ogw_loop_uv(), &e->timer);
			e->timer.data = e;
			lws_dll2_add_tail(&e->list, &fs->entries);
		}
	}
	if (!tk || !e) {
		struct ogw_log_ctx lc = { .charger = charger, .leg = "south" };
		ogw_err(&lc, "Failed to offer firmware %s: out of memory", name);
		free(tk);
		return NULL;
	}
	return offer_entry(fs, charger, e, tk, name);
}

int ogw_files_forget_local(struct ogw_files *fs, const char *name)
{
	struct entry *e = entry_find(fs, name, true);
	if (e && e->serving)
		return -EBUSY;
	if (e)
		entry_free(e);
	return 0;
}

static enum ogw_stage_verdict files_on_relay(struct ogw_leg *from, struct ogw_leg *to,
					     const struct ogw_frame *f, const char *action,
					     json_t *payload, const struct ogw_tr_action *entry,
					     json_t *memo)
{
	struct ogw_files *fs = ogw_files_toward_charger(from, to);
	(void)entry, (void)memo;

	if (!fs || !is_firmware(action))
		return OGW_STAGE_CONTINUE;
	json_t *holder = location_holder(payload, to->ver, action);
	const char *url = json_string_value(json_object_get(holder, "location"));
	if (!url)
		return OGW_STAGE_CONTINUE;

	/* What the CSMS hears if the download fails: its own version's notification. */
	struct ask *a = calloc(1, sizeof(*a));
	if (a) {
		bool signed16 = from->ver == OGW_OCPP16 && !strcmp(f->action, "SignedUpdateFirmware");
		snprintf(a->charger, sizeof(a->charger), "%s", from->s->id);
		snprintf(a->action, sizeof(a->action), "%s",
			 signed16 ? "SignedFirmwareStatusNotification" : "FirmwareStatusNotification");
		if (from->ver != OGW_OCPP16 || signed16)
			a->request_id = json_incref(json_object_get(f->payload, "requestId"));
	}
	char *loc = ogw_files_offer(fs, from->s->id, url, f->payload, holder, a);
	if (!loc)
		return OGW_STAGE_CONTINUE;
	json_object_set_new(holder, "location", json_string(loc));
	free(loc);
	return OGW_STAGE_CHANGED;
}

static bool is_download_failed(const struct ogw_frame *f)
{
	const char *status = json_string_value(json_object_get(f->payload, "status"));
	return (!strcmp(f->action, "FirmwareStatusNotification") ||
		!strcmp(f->action, "SignedFirmwareStatusNotification")) &&
	       status && !strcmp(status, "DownloadFailed");
}

/* The charger's DownloadFailed after the gateway told the CSMS already:
 * answered here, so the CSMS hears of the failure once. */
static enum ogw_stage_verdict files_on_call(struct ogw_leg *from, struct ogw_frame *f)
{
	struct ogw_files *fs = ogw_files_of(from->s->gw);

	if (!fs || from->kind != OGW_SOUTH || !is_download_failed(f))
		return OGW_STAGE_CONTINUE;
	if (!owed(from->s))
		return OGW_STAGE_CONTINUE;
	owed_add(from->s, -1);
	json_t *empty = json_object();
	ogw_leg_send_result(from, f->action, f->id, empty);
	json_decref(empty);
	return OGW_STAGE_DONE;
}

const struct ogw_stage ogw_files_stage = {
	.name = "files",
	.state_size = sizeof(unsigned int),  /* DownloadFailed answers owed */
	.on_call = files_on_call,
	.on_relay = files_on_relay,
};

/* ---- start and stop --------------------------------------------------- */

/* @data_dir/@name into @ret, made if needed. */
static int dir_fresh(char *ret, size_t size, const char *data_dir, const char *name)
{
	snprintf(ret, size, "%s/%s", data_dir, name);
	if (mkdir(ret, 0700) < 0 && errno != EEXIST) {
		int r = -errno;
		ogw_err(NULL, "Failed to create %s: %s", ret, strerror(errno));
		return r;
	}
	return 0;
}

/* A complete download of an earlier run: <n>.bin with its <n>.bin.url. */
struct kept {
	char *url;
	unsigned long long n;
	uint64_t size;
	struct timespec mtime;
};

static int kept_older(const void *a, const void *b)
{
	const struct timespec *x = &((const struct kept *)a)->mtime;
	const struct timespec *y = &((const struct kept *)b)->mtime;
	return x->tv_sec != y->tv_sec ? (x->tv_sec < y->tv_sec ? -1 : 1) :
	       (x->tv_nsec < y->tv_nsec ? -1 : x->tv_nsec > y->tv_nsec);
}

/* The URL a sidecar names, or NULL. */
static char *url_read(const char *path)
{
	char buf[8192];
	FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return n && n < sizeof(buf) - 1 && strlen(buf) == n ? strdup(buf) : NULL;
}

/* The downloads of an earlier run become ready entries again, least
 * recently used first, as many as files.max_size and max_file_size allow;
 * everything else in the folder (a .part, a file without its URL) goes. */
static void cache_restore(struct ogw_files *fs)
{
	const struct ogw_conf *c = &fs->gw->conf;
	struct kept *k = NULL;
	size_t nk = 0, cap = 0;
	DIR *d = opendir(fs->dir);
	struct dirent *de;
	char p[1024];

	while (d && (de = readdir(d))) {
		unsigned long long n;
		int end = 0;
		struct stat st;
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", fs->dir, de->d_name);
		if (sscanf(de->d_name, "%llu.bin%n", &n, &end) == 1 && !de->d_name[end] &&
		    stat(p, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size <= c->files_max_file_size) {
			char up[1100];
			snprintf(up, sizeof(up), "%s.url", p);
			char *url = url_read(up);
			if (url && nk == cap) {
				struct kept *m = realloc(k, (cap = cap ? cap * 2 : 16) * sizeof(*k));
				if (!m) {
					free(url);
					url = NULL;
				} else {
					k = m;
				}
			}
			if (url) {
				k[nk++] = (struct kept){ url, n, (uint64_t)st.st_size, st.st_mtim };
				if (n > fs->next_name)
					fs->next_name = n;
				continue;
			}
		}
		if (sscanf(de->d_name, "%llu.bin.url%n", &n, &end) == 1 && !de->d_name[end])
			continue;   /* goes with its file below, or alone afterwards */
		unlink(p);
	}
	if (d)
		closedir(d);
	if (nk)
		qsort(k, nk, sizeof(*k), kept_older);
	for (size_t i = 0; i < nk; i++) {
		struct entry *e = calloc(1, sizeof(*e));
		if (!e) {
			free(k[i].url);
			continue;
		}
		e->fs = fs;
		e->url = k[i].url;
		snprintf(e->path, sizeof(e->path), "%s/%llu.bin", fs->dir, k[i].n);
		e->state = ENTRY_READY;
		e->size = k[i].size;
		e->attempts_max = 1;
		uv_timer_init(ogw_loop_uv(), &e->timer);
		e->timer.data = e;
		lws_dll2_add_tail(&e->list, &fs->entries);
		fs->used += e->size;
	}
	free(k);
	make_room(fs, NULL, 0);
	/* Sidecars whose file is gone (dropped above, or never complete). */
	d = opendir(fs->dir);
	while (d && (de = readdir(d))) {
		unsigned long long n;
		int end = 0;
		struct stat st;
		if (sscanf(de->d_name, "%llu.bin.url%n", &n, &end) != 1 || de->d_name[end])
			continue;
		snprintf(p, sizeof(p), "%s/%llu.bin", fs->dir, n);
		if (stat(p, &st) < 0) {
			snprintf(p, sizeof(p), "%s/%s", fs->dir, de->d_name);
			unlink(p);
		}
	}
	if (d)
		closedir(d);
	if (fs->entries.count)
		ogw_info(NULL, "files: %u download(s) of an earlier run kept, %llu bytes",
			 (unsigned int)fs->entries.count, (unsigned long long)fs->used);
}

static int listen_on(struct ogw_files *fs, const char *addr, int port)
{
	struct sockaddr_storage sa;
	int r = uv_ip4_addr(addr, port, (struct sockaddr_in *)&sa);
	if (r < 0)
		r = uv_ip6_addr(addr, port, (struct sockaddr_in6 *)&sa);
	if (r < 0)
		return r;
	uv_tcp_init(ogw_loop_uv(), &fs->listen);
	fs->listen.data = fs;
	fs->listening = true;
	r = uv_tcp_bind(&fs->listen, (struct sockaddr *)&sa, 0);
	if (r == 0)
		r = uv_listen((uv_stream_t *)&fs->listen, 128, on_connection);
	return r;
}

int ogw_files_start(struct ogw_gateway *gw)
{
	struct ogw_conf *c = &gw->conf;
	if (!c->files_addr)
		return 0;
	struct ogw_files *fs = calloc(1, sizeof(*fs));
	if (!fs)
		return -ENOMEM;
	fs->gw = gw;
	gw->files = fs;
	/* uploads: upload.c keeps what is still on its way (ogw_files_logs_start()). */
	int r = dir_fresh(fs->dir, sizeof(fs->dir), c->data_dir, "files");
	if (r == 0)
		r = dir_fresh(fs->updir, sizeof(fs->updir), c->data_dir, "uploads");
	if (r < 0)
		return r;
	cache_restore(fs);
	if (c->files_cert) {
		r = ogw_files_tls_new(c->files_cert, c->files_key, &fs->tls);
		if (r < 0)
			return r;
	}
	r = listen_on(fs, c->files_addr, c->files_port);
	if (r < 0) {
		ogw_err(NULL, "Failed to listen for file requests on %s:%d: %s", c->files_addr,
			c->files_port, uv_strerror(r));
		return r;
	}
	if (c->files_public_url)
		snprintf(fs->base, sizeof(fs->base), "%s", c->files_public_url);
	else
		snprintf(fs->base, sizeof(fs->base), strchr(c->files_addr, ':') ?
			 "%s://[%s]:%d" : "%s://%s:%d", fs->tls ? "https" : "http", c->files_addr,
			 c->files_port);
	size_t n = strlen(fs->base);
	if (n && fs->base[n - 1] == '/')
		fs->base[n - 1] = '\0';
	ogw_info(NULL, "file server on %s:%d (%s), chargers get %s/f/...", c->files_addr,
		 c->files_port, fs->tls ? "HTTPS" : "HTTP", fs->base);
	return 0;
}

/* After the connections' close callbacks (closed first, in the same turn):
 * their TLS contexts point into fs->tls. */
static void listen_closed(uv_handle_t *h)
{
	struct ogw_files *fs = h->data;
	ogw_files_tls_free(fs->tls);
	free(fs);
}

void ogw_files_stop(struct ogw_gateway *gw)
{
	struct ogw_files *fs = gw->files;
	if (!fs)
		return;
	lws_start_foreach_dll_safe(struct lws_dll2 *, d, n, lws_dll2_get_head(&fs->conns)) {
		ogw_files_conn_close(lws_container_of(d, struct conn, list));
	} lws_end_foreach_dll_safe(d, n);
	lws_start_foreach_dll_safe(struct lws_dll2 *, d, n, lws_dll2_get_head(&fs->entries)) {
		struct entry *e = lws_container_of(d, struct entry, list);
		entry_release(e, e->state == ENTRY_READY);
	} lws_end_foreach_dll_safe(d, n);
	if (fs->up_ops)
		fs->up_ops->stop(fs);
	ogw_fetch_shutdown();
	gw->files = NULL;
	if (fs->listening) {
		uv_close((uv_handle_t *)&fs->listen, listen_closed);
	} else {
		ogw_files_tls_free(fs->tls);
		free(fs);
	}
}
