/* SPDX-License-Identifier: MIT */
/*
 * The admin HTTP listener: a second lws vhost on the gateway's context, on
 * its own address (127.0.0.1:8080 by default), whose connections lws hands
 * over raw: the bytes go through admin_http.c's parser (limits from the
 * admin.* settings, refusals answered with their status and reason), the
 * credentials are checked, admin_routes.c answers (through admin_reply.c)
 * and this file writes the HTTP/1.1 response, keeping the connection for the next request. Auth: a Bearer token or Basic with
 * the PBKDF2 hash from the config, required whenever either is configured
 * (and the config refuses a non-loopback address without one).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <libwebsockets.h>

#include "ocppgw/auth.h"
#include "ocppgw/log.h"
#include "ocppgw/util.h"
#include "features/admin/admin.h"
#include "features/admin/admin_door.h"
#include "session/session.h"
#include "transport/transport.h"

/* Per connection (lws zeroes it at adoption): the bytes received and not
 * used yet, the head of the request whose body is still coming, and the
 * request under way (being answered, or waiting on a charger). */
struct admin_conn {
	struct ogw_gateway *gw;
	char *buf;
	size_t len, cap;
	long head_len;                /* > 0: head parsed, body still due */
	struct ogw_http_head head;
	struct ogw_admin_req *req;
	bool answered;                /* a whole answer went out on it */
	bool continued;               /* "100 Continue" sent for this request */
	bool closing;                 /* close once the answer is written */
	bool draining;                /* written and shut down: wait for the peer */
	size_t stream_left;           /* a streamed body's bytes still to come */
};

/* Equal in time that depends on @given's length only, never on where the
 * first difference is, nor on how long @secret is. */
static bool ct_equal(const char *given, size_t given_len, const char *secret)
{
	size_t secret_len = strlen(secret);
	unsigned char diff = given_len != secret_len;
	for (size_t i = 0; i < given_len; i++)
		diff |= (unsigned char)(given[i] ^ secret[secret_len ? i % secret_len : 0]);
	return !diff;
}

/* Bearer token or Basic user/password; true when nothing is configured.
 * The password hash runs whether the user is right or not, so a wrong
 * user name takes as long as a wrong password. */
static bool authorized(const struct ogw_conf *c, const char *hdr, size_t len)
{
	if (!c->admin_token && !c->admin_user)
		return true;
	if (!hdr)
		return false;
	if (c->admin_token && len >= 7 && strncasecmp(hdr, "Bearer ", 7) == 0)
		return ct_equal(hdr + 7, len - 7, c->admin_token);
	if (!c->admin_user || !c->admin_password_hash)
		return false;
	char *copy = strndup(hdr, len), *user = NULL, *pass = NULL;
	size_t pass_len = 0;
	bool ok = false;
	if (copy && ogw_auth_parse_basic(copy, &user, &pass, &pass_len) == 0) {
		bool user_ok = ct_equal(user, strlen(user), c->admin_user);
		bool pass_ok = ogw_auth_verify(c->admin_password_hash, pass, pass_len);
		ok = user_ok & pass_ok;
	}
	if (copy)
		ogw_memzero(copy, len);
	if (pass)
		ogw_memzero(pass, pass_len);
	free(copy);
	free(user);
	free(pass);
	return ok;
}

static const struct {
	int status;
	const char *text;
} reasons[] = {
	{ 200, "OK" }, { 201, "Created" }, { 202, "Accepted" }, { 400, "Bad Request" }, { 401, "Unauthorized" }, { 404, "Not Found" },
	{ 405, "Method Not Allowed" }, { 408, "Request Timeout" }, { 409, "Conflict" },
	{ 411, "Length Required" },
	{ 413, "Content Too Large" }, { 414, "URI Too Long" }, { 417, "Expectation Failed" },
	{ 431, "Request Header Fields Too Large" }, { 500, "Internal Server Error" },
	{ 501, "Not Implemented" }, { 502, "Bad Gateway" }, { 503, "Service Unavailable" },
	{ 504, "Gateway Timeout" }, { 505, "HTTP Version Not Supported" },
	{ 507, "Insufficient Storage" },
};

static const char *reason_text(int status)
{
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].status == status)
			return reasons[i].text;
	return "Unknown";
}

static struct ogw_admin_req *req_new(struct ogw_gateway *gw, struct lws *wsi)
{
	struct ogw_admin_req *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->gw = gw;
	r->wsi = wsi;
	lws_dll2_add_tail(&r->list, &gw->admin_reqs);
	return r;
}

static void dispatch(struct ogw_admin_req *r)
{
	ogw_admin_route(r);
}

/* The parser refused the request: answer why and close, since what
 * follows on the connection cannot be trusted to start a request. */
static int refuse(struct lws *wsi, struct admin_conn *conn)
{
	struct ogw_admin_req *r = req_new(conn->gw, wsi);
	if (!r)
		return -1;
	ogw_info(NULL, "admin: request refused with %d: %s", conn->head.status, conn->head.reason);
	conn->req = r;
	conn->closing = true;
	ogw_admin_reply_error(r, conn->head.status, conn->head.field, "%s", conn->head.reason);
	return 0;
}

/* "100 Continue" once per request that asked: curl waits a second for it
 * before sending a body. */
static int send_continue(struct lws *wsi, struct admin_conn *conn)
{
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
	unsigned char out[LWS_PRE + sizeof(cont)];

	if (!conn->head.expect_continue || conn->continued)
		return 0;
	memcpy(out + LWS_PRE, cont, sizeof(cont) - 1);
	conn->continued = true;
	return lws_write(wsi, out + LWS_PRE, sizeof(cont) - 1, LWS_WRITE_RAW) < 0 ? -1 : 0;
}

/* The request of the head parsed in @conn, credentials checked. */
static struct ogw_admin_req *req_of_head(struct lws *wsi, struct admin_conn *conn)
{
	struct ogw_admin_req *r = req_new(conn->gw, wsi);
	const struct ogw_http_head *h = &conn->head;
	if (!r)
		return NULL;
	r->head_only = !strcmp(h->method, "HEAD");
	snprintf(r->method, sizeof(r->method), "%s", r->head_only ? "GET" : h->method);
	memcpy(r->path, h->path, sizeof(r->path));
	memcpy(r->query, h->query, sizeof(r->query));
	r->keep_alive = h->keep_alive;
	r->no_challenge = h->no_challenge;
	if (!authorized(&conn->gw->conf, h->authorization, h->authorization_len)) {
		ogw_info(NULL, "admin: %s %s refused: no valid credentials", h->method, r->path);
		r->denied = true;
	}
	return r;
}

/* Up to what the streamed body still lacks of @in goes to the route's
 * sink, and the route answers once it is whole: the bytes taken. */
static size_t stream_feed(struct admin_conn *conn, const char *in, size_t len)
{
	struct ogw_admin_req *r = conn->req;
	const struct ogw_admin_sink *sink = r->sink;
	size_t n = len < conn->stream_left ? len : conn->stream_left;

	if (n && sink->write(r, in, n) < 0) {
		/* answered (a full disk): what follows cannot be a request */
		r->sink = NULL;
		conn->stream_left = 0;
		conn->closing = true;
		return len;
	}
	conn->stream_left -= n;
	if (!conn->stream_left) {
		r->sink = NULL;
		sink->done(r);
	}
	return n;
}

/* A streamed request (a firmware file's PUT) is routed at its head: the
 * route refuses it at once, or takes the body as it arrives. */
static int stream_start(struct lws *wsi, struct admin_conn *conn)
{
	size_t head_len = (size_t)conn->head_len;
	struct ogw_admin_req *r = req_of_head(wsi, conn);

	if (!r)
		return -1;
	r->streamed = true;
	r->has_length = conn->head.has_length;
	r->content_length = conn->head.content_length;
	conn->head_len = 0;
	conn->req = r;
	/* the idle timeout now bounds the wait for each part of the body */
	lws_set_timer_usecs(wsi, (lws_usec_t)conn->gw->conf.admin_idle_timeout_s *
				 LWS_US_PER_SEC);
	dispatch(r);
	if (!r->sink) {
		/* answered at its head: a body that may follow is not read */
		conn->closing = true;
		conn->len = 0;
		return 0;
	}
	if (send_continue(wsi, conn) < 0)
		return -1;
	conn->stream_left = r->content_length;
	size_t body = conn->len - head_len;
	size_t took = stream_feed(conn, conn->buf + head_len, body);
	if (conn->closing) {
		conn->len = 0;
		return 0;
	}
	memmove(conn->buf, conn->buf + head_len + took, body - took);
	conn->len = body - took;
	return 0;
}

/* Whole requests in conn->buf are answered one at a time, in order. */
static int process(struct lws *wsi, struct admin_conn *conn)
{
	const struct ogw_conf *c = &conn->gw->conf;
	const struct ogw_http_limits lim = { .max_head = c->admin_max_header_size,
					     .max_body = c->admin_max_body_size,
					     .streamed = ogw_admin_streamed };
	if (conn->req || conn->closing)
		return 0;
	if (!conn->head_len) {
		conn->head_len = ogw_http_parse_head(conn->buf, conn->len, &lim, &conn->head);
		if (conn->head_len < 0) {
			conn->head_len = 0;
			return refuse(wsi, conn);
		}
		if (!conn->head_len)
			return 0;
		conn->continued = false;
		if (conn->head.streamed)
			return stream_start(wsi, conn);
	}
	size_t whole = (size_t)conn->head_len + conn->head.content_length;
	if (conn->len < whole)
		return send_continue(wsi, conn);

	struct ogw_admin_req *r = req_of_head(wsi, conn);
	if (!r)
		return -1;
	const struct ogw_http_head *h = &conn->head;
	if (h->content_length) {
		r->body = malloc(h->content_length + 1);
		if (!r->body) {
			ogw_admin_req_free(r);
			return -1;
		}
		memcpy(r->body, conn->buf + conn->head_len, h->content_length);
		r->body[h->content_length] = '\0';
		r->body_len = h->content_length;
	}
	/* The head's pointers go with these bytes: nothing reads them after. */
	memmove(conn->buf, conn->buf + whole, conn->len - whole);
	conn->len -= whole;
	conn->head_len = 0;
	conn->req = r;
	/* Waiting on a charger: the call's own timeout bounds the wait. */
	lws_set_timer_usecs(wsi, LWS_SET_TIMER_USEC_CANCEL);
	dispatch(r);
	return 0;
}

static int on_rx(struct lws *wsi, struct admin_conn *conn, const void *in, size_t len)
{
	const struct ogw_conf *c = &conn->gw->conf;
	if (conn->draining || conn->closing)
		return 0;
	if (conn->req && conn->req->sink) {
		lws_set_timer_usecs(wsi, (lws_usec_t)c->admin_idle_timeout_s * LWS_US_PER_SEC);
		size_t took = stream_feed(conn, in, len);
		in = (const char *)in + took;
		len -= took;
		if (!len || conn->closing)
			return 0;
	}
	/* A head, a body and the next head: more is a client not waiting for
	 * its answers, and is cut off. */
	size_t most = 2 * c->admin_max_header_size + c->admin_max_body_size + 8;
	if (conn->len + len > most) {
		if (conn->req) {
			ogw_info(NULL, "admin: client sent %zu bytes ahead of its answers: closed",
				 conn->len + len);
			return -1;
		}
		/* the parser has seen enough to answer 431 or 413 */
		len = most - conn->len;
	}
	if (conn->len + len + 1 > conn->cap) {
		size_t cap = conn->cap ? conn->cap : 1024;
		while (cap < conn->len + len + 1)
			cap *= 2;
		char *n = realloc(conn->buf, cap);
		if (!n)
			return -1;
		conn->buf = n;
		conn->cap = cap;
	}
	memcpy(conn->buf + conn->len, in, len);
	conn->len += len;
	return process(wsi, conn);
}

static int on_writeable(struct lws *wsi, struct admin_conn *conn)
{
	struct ogw_admin_req *r = conn->req;
	if (conn->draining)
		return 0;
	if (!r || !r->resp) {
		if (!conn->closing || r)
			return 0;
		/* The answer is out of lws's hands: shut our side down and let
		 * the client close, so what it still sends cannot turn the close
		 * into a reset that loses the answer. */
		shutdown(lws_get_socket_fd(wsi), SHUT_WR);
		conn->draining = true;
		lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, 2);
		return 0;
	}
	const struct ogw_conf *c = &r->gw->conf;
	bool keep = r->keep_alive && !conn->closing;
	size_t body_len = r->head_only ? 0 : r->resp_len;
	char head[512];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "Cache-Control: no-store\r\n%s%s\r\n",
			 r->status, reason_text(r->status), r->content_type, r->resp_len,
			 r->status == 401 && c->admin_user && !r->no_challenge ?
				 "WWW-Authenticate: Basic realm=\"ocppgw\"\r\n" : "",
			 keep ? "" : "Connection: close\r\n");
	if (n < 0 || (size_t)n >= sizeof(head))
		return -1;
	unsigned char *out = malloc(LWS_PRE + (size_t)n + body_len);
	if (!out)
		return -1;
	memcpy(out + LWS_PRE, head, (size_t)n);
	memcpy(out + LWS_PRE + n, r->resp, body_len);
	int w = lws_write(wsi, out + LWS_PRE, (size_t)n + body_len, LWS_WRITE_RAW);
	free(out);
	conn->req = NULL;
	ogw_admin_req_free(r);
	if (w < 0)
		return -1;
	conn->answered = true;
	if (!keep) {
		conn->closing = true;
		lws_callback_on_writable(wsi);  /* again once lws has sent it all */
		return 0;
	}
	lws_set_timer_usecs(wsi, (lws_usec_t)c->admin_idle_timeout_s * LWS_US_PER_SEC);
	return process(wsi, conn);
}

/* Nothing whole came within admin.idle_timeout: 408 to a client that is
 * part way through a request (or never sent one), a quiet close to one
 * idle between requests. */
static int on_idle(struct lws *wsi, struct admin_conn *conn)
{
	if (conn->req && conn->req->sink) {
		/* a streamed body stalled: dropped with the connection (on_closed()) */
		ogw_info(NULL, "admin: %s %s: no more of the body within %d s: closed",
			 conn->req->method, conn->req->path, conn->gw->conf.admin_idle_timeout_s);
		return -1;
	}
	if (conn->req || conn->closing || conn->draining)
		return 0;
	if (!conn->len && conn->answered)
		return -1;
	struct ogw_admin_req *r = req_new(conn->gw, wsi);
	if (!r)
		return -1;
	conn->req = r;
	conn->closing = true;
	ogw_admin_reply_error(r, 408, NULL, "no whole request within %d s",
			      conn->gw->conf.admin_idle_timeout_s);
	return 0;
}

/* The connection is gone: a request still waiting on a charger stays, and
 * its answer is dropped when it comes (ogw_admin_reply with wsi NULL). */
static void on_closed(struct admin_conn *conn)
{
	struct ogw_admin_req *r = conn->req;
	conn->req = NULL;
	free(conn->buf);
	conn->buf = NULL;
	conn->len = conn->cap = 0;
	if (!r)
		return;
	if (r->sink) {
		r->sink->abandon(r);
		r->sink = NULL;
	}
	r->wsi = NULL;
	if (!r->waiting)
		ogw_admin_req_free(r);
}

static int admin_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
			  void *in, size_t len)
{
	struct admin_conn *conn = user;

	/* lws calls some reasons before a connection has its state (and on
	 * the vhost itself): those have nothing of ours to look at. */
	if (!conn)
		return 0;
	switch (reason) {
	case LWS_CALLBACK_RAW_ADOPT:
		conn->gw = lws_context_user(lws_get_context(wsi));
		lws_set_timer_usecs(wsi, (lws_usec_t)conn->gw->conf.admin_idle_timeout_s *
					 LWS_US_PER_SEC);
		return 0;
	case LWS_CALLBACK_RAW_RX:
		return conn->gw ? on_rx(wsi, conn, in, len) : -1;
	case LWS_CALLBACK_RAW_WRITEABLE:
		return conn->gw ? on_writeable(wsi, conn) : 0;
	case LWS_CALLBACK_TIMER:
		return conn->gw ? on_idle(wsi, conn) : 0;
	case LWS_CALLBACK_RAW_CLOSE:
		on_closed(conn);
		return 0;
	default:
		return 0;
	}
}

static const struct lws_protocols admin_protocols[] = {
	{ "ogw-admin", admin_callback, sizeof(struct admin_conn), 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

int ogw_admin_start(struct ogw_gateway *gw)
{
	const struct ogw_conf *c = &gw->conf;
	char err[256], where[OGW_LISTEN_MAX_ADDRS * 64];
	if (!c->admin_addr)
		return 0;
	int r = ogw_listen_open(&gw->admin_listen, c->admin_addr, c->admin_port, err,
				sizeof(err));
	if (r < 0) {
		ogw_err(NULL, "Failed to listen for the admin API (admin.listen = %s:%d): %s",
			c->admin_addr, c->admin_port, err);
		return r;
	}
	/* Open without credentials only where only this machine can reach it:
	 * judged on the addresses bound, not on how they were written. */
	for (size_t i = 0; i < gw->admin_listen.n && !c->admin_token && !c->admin_user; i++) {
		const struct sockaddr *sa = (const struct sockaddr *)&gw->admin_listen.socks[i].addr;
		if (!ogw_listen_is_loopback(sa)) {
			ogw_listen_format(sa, where, sizeof(where));
			ogw_err(NULL, "Failed to start the admin API: %s (from %s) is not a loopback "
				"address: set admin.token, or admin.user and admin.password_hash",
				where, c->admin_addr);
			return -EACCES;
		}
	}
	struct lws_context_creation_info vi;
	memset(&vi, 0, sizeof(vi));
	vi.vhost_name = "admin";
	/* listen.c owns the sockets. Not NO_LISTEN_SERVER like the charger
	 * vhost: lws hands an HTTP connection to the first vhost with its
	 * port, and that must be the charger one. */
	vi.port = CONTEXT_PORT_NO_LISTEN;
	vi.protocols = admin_protocols;
	gw->admin_vh = lws_create_vhost(gw->ctx, &vi);
	if (!gw->admin_vh) {
		ogw_err(NULL, "Failed to set up the admin API");
		return -ENOMEM;
	}
	/* Raw: this file reads HTTP itself (admin_http.c), with its own limits. */
	ogw_listen_start(&gw->admin_listen, gw->admin_vh, admin_protocols[0].name,
			 LWS_ADOPT_SOCKET, "admin");
	ogw_listen_describe(&gw->admin_listen, "http://", "/", where, sizeof(where));
	ogw_info(NULL, "admin API on %s%s", where,
		 c->admin_token || c->admin_user ? " (authentication required)" : "");
	return 0;
}

/* Requests whose connection is gone but whose charger never answered
 * (a hard stop) are freed here. */
void ogw_admin_stop(struct ogw_gateway *gw)
{
	struct lws_dll2 *d;
	while ((d = lws_dll2_get_head(&gw->admin_reqs))) {
		struct ogw_admin_req *r = lws_container_of(d, struct ogw_admin_req, list);
		ogw_admin_req_free(r);
	}
}
