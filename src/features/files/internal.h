/* SPDX-License-Identifier: MIT */
/*
 * What files.c (firmware, the file server) and upload.c (logs) share: the
 * feature's state, one file server connection, and the calls between them.
 * Not for use outside src/features/files.
 */
#ifndef OGW_FILES_INTERNAL_H
#define OGW_FILES_INTERNAL_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>

#include <jansson.h>
#include <libwebsockets.h>
#include <uv.h>

#include "features/files/request.h"
#include "session/session.h"

#define HEAD_MAX 4096          /* a charger's request line and headers */
#define CONNS_MAX 64           /* file server connections at once */
#define CHUNK 65536

struct entry;
struct rollout;
struct upload;

/* One connection to the file server. */
struct conn {
	uv_tcp_t tcp;
	uv_timer_t idle;            /* no progress for files.idle_timeout: closed */
	int handles;                /* of tcp and idle, not closed yet */
	lws_dll2_t list;            /* files->conns */
	lws_dll2_t wait;            /* entry->waiters */
	struct ogw_files *fs;
	struct entry *e;            /* set while sending it */
	struct upload *up;          /* set while receiving it */
	char head[HEAD_MAX];
	size_t n;
	int fd;
	bool fs_busy;               /* a uv_fs_read is in flight */
	bool closing;
	uint64_t body_len, body_got;
	uv_fs_t rd;
	uv_write_t wr;
	uv_shutdown_t sd;           /* after a short reply: our side done, theirs drained */
	uv_buf_t out;
	char *buf;
	char *reply;                /* a short reply's text */
	struct conn_tls *tls;       /* HTTPS (tls.c), NULL: plain */
};

struct ogw_files {
	struct ogw_gateway *gw;
	char dir[400];              /* data_dir/files: downloads */
	char updir[400];            /* data_dir/uploads: logs on their way to the CSMS */
	char base[256];             /* what a charger's location starts with */
	uv_tcp_t listen;
	bool listening;
	lws_dll2_owner_t entries;
	lws_dll2_owner_t conns;
	lws_dll2_owner_t uploads;
	uint64_t used;              /* bytes of ready downloads */
	uint64_t held;              /* bytes of uploads kept */
	uint64_t next_name;
	const struct ogw_files_upload_ops *up_ops;
	struct ogw_files_tls *tls;  /* tls.c: HTTPS with files.cert/key, NULL: plain HTTP */
	struct rollout *rollout;    /* rollout.c: the last one started, or NULL */
	struct fwstore *fw;         /* fwstore.c: the operator's firmware files */
	unsigned int rollouts;      /* started so far: their ids */
	struct ogw_ftpd *ftpd;      /* upload.c: files.ftp's server, NULL: none */
	char ftp_base[256];         /* ftp://host:port a charger's FTP location starts
	                               with; "" until the server is ready */
};

/* All of @data to @fd, a short write() continued: 0, or -errno (-EIO for
 * a write() of nothing). One socket read's worth at a time, on the loop,
 * as the uploads of charger logs (upload.c) and firmware files (fwstore.c)
 * arrive. */
static inline int ogw_files_write_all(int fd, const void *data, size_t len)
{
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, (const char *)data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		off += (size_t)w;
	}
	return 0;
}

/* tls.c: a connection's I/O, plain or HTTPS, with libuv's callback types
 * (a write sends c->out; its callback gets &c->wr with .data = c). */
struct ogw_files_tls;
int ogw_files_tls_new(const char *cert, const char *key, struct ogw_files_tls **ret);
void ogw_files_tls_free(struct ogw_files_tls *t);
int ogw_files_conn_tls(struct conn *c, struct ogw_files_tls *cfg);
void ogw_files_conn_tls_free(struct conn *c);
int ogw_files_read_start(struct conn *c, uv_alloc_cb alloc, uv_read_cb read);
void ogw_files_read_stop(struct conn *c);
int ogw_files_write(struct conn *c, uv_write_cb cb);
int ogw_files_shutdown(struct conn *c, uv_shutdown_cb cb);

/* files.c */
/* The feature's state, NULL when files.listen is not set. */
struct ogw_files *ogw_files_of(struct ogw_gateway *gw);
/* The same for a CALL going from @from to @to: NULL unless @to is a charger. */
struct ogw_files *ogw_files_toward_charger(const struct ogw_leg *from, const struct ogw_leg *to);
/* @c made progress: its idle timeout starts again. */
void ogw_files_conn_alive(struct conn *c);
void ogw_files_reply(struct conn *c, int code, const char *reason);
void ogw_files_conn_close(struct conn *c);
struct ask;
char *ogw_files_offer(struct ogw_files *fs, const char *charger, const char *url,
		      const json_t *req, const json_t *holder, struct ask *a);
/* The same for the operator's file @name at @path (fwstore.c): served as it
 * is, one entry for every charger, never dropped by the cache. */
char *ogw_files_offer_local(struct ogw_files *fs, const char *charger, const char *name,
			    const char *path, uint64_t size);
/* Chargers given @name are refused from now on (404): 0, or -EBUSY while
 * one is downloading it (its Content-Length is the file's as it was). */
int ogw_files_forget_local(struct ogw_files *fs, const char *name);
/* Random hex into @ret. */
void ogw_files_token(char ret[TOKEN_LEN + 1]);

/* fwstore.c, for rollout.c: the operator's file @name (its path, size and
 * sha256 hex), or -ENOENT. */
int ogw_fw_lookup(struct ogw_files *fs, const char *name, char *ret_path, size_t pathlen,
		  uint64_t *ret_size, char ret_sha[65]);
/* A running rollout takes (@hold) or gives back @name: it cannot be
 * replaced or deleted while taken. -ENOENT: no such file. */
int ogw_fw_hold(struct ogw_files *fs, const char *name, bool hold);

/*
 * upload.c's part of the file server, registered by ogw_files_logs_start()
 * (the gateway calls it after ogw_files_start()), so that files.c, which
 * upload.c uses, never calls upload.c by name. NULL: no uploads.
 */
struct ogw_files_upload_ops {
	/* "PUT|POST /u/<token>[/<name>]": the head of @c (ending at @body, with
	 * the first bytes of the body after it) is read into @req; takes the body. */
	void (*begin)(struct conn *c, const struct ogw_files_request *req, const char *body);
	/* More of the body @c is receiving. */
	void (*body)(struct conn *c, const char *data, size_t len);
	/* @c went away before its body was complete. */
	void (*abandon)(struct conn *c);
	/* The gateway stops: every upload dropped. */
	void (*stop)(struct ogw_files *fs);
};

#endif
