/* SPDX-License-Identifier: MIT */
/*
 * The admin HTTP listener: a second lws vhost on the gateway's context, on
 * its own address (127.0.0.1:8080 by default). It reads a request (method,
 * path, body up to OGW_ADMIN_MAX_BODY), checks the credentials, hands it to
 * admin_routes.c and writes the answer. Auth: a Bearer token or Basic with
 * the PBKDF2 hash from the config, required whenever either is configured
 * (and the config refuses a non-loopback address without one).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "ocppgw/auth.h"
#include "ocppgw/log.h"
#include "ocppgw/util.h"
#include "admin.h"
#include "gw.h"

/* Per connection: only a pointer to the request under way. */
struct admin_conn {
	struct ogw_admin_req *req;
};

static const struct {
	enum lws_token_indexes tok;
	const char *method;
} methods[] = {
	{ WSI_TOKEN_GET_URI, "GET" },
	{ WSI_TOKEN_POST_URI, "POST" },
	{ WSI_TOKEN_PUT_URI, "PUT" },
	{ WSI_TOKEN_DELETE_URI, "DELETE" },
	{ WSI_TOKEN_PATCH_URI, "PATCH" },
	{ WSI_TOKEN_OPTIONS_URI, "OPTIONS" },
};

static void req_free(struct ogw_admin_req *r)
{
	lws_dll2_remove(&r->list);
	free(r->body);
	free(r->resp);
	free(r);
}

void ogw_admin_reply(struct ogw_admin_req *r, int status, const char *content_type,
		     const void *body, size_t len)
{
	r->waiting = false;
	if (!r->wsi) {
		req_free(r);
		return;
	}
	free(r->resp);
	r->resp = malloc(LWS_PRE + len + 1);
	r->status = r->resp ? status : 500;
	r->content_type = content_type;
	r->resp_len = r->resp ? len : 0;
	if (r->resp)
		memcpy(r->resp + LWS_PRE, body, len);
	lws_callback_on_writable(r->wsi);
}

void ogw_admin_reply_json(struct ogw_admin_req *r, int status, json_t *body)
{
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (!text) {
		static const char oom[] = "{\"error\":\"out of memory\"}";
		ogw_admin_reply(r, 500, "application/json", oom, sizeof(oom) - 1);
		return;
	}
	ogw_admin_reply(r, status, "application/json", text, strlen(text));
	free(text);
}

void ogw_admin_reply_error(struct ogw_admin_req *r, int status, const char *field,
			   const char *fmt, ...)
{
	char msg[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_t *o = json_pack("{s:s}", "error", msg);
	if (o && field)
		json_object_set_new(o, "field", json_string(field));
	ogw_admin_reply_json(r, status, o);
}

/* Bearer token or Basic user/password; true when nothing is configured. */
static bool authorized(struct lws *wsi, const struct ogw_conf *c)
{
	if (!c->admin_token && !c->admin_user)
		return true;
	char hdr[512];
	if (lws_hdr_copy(wsi, hdr, sizeof(hdr), WSI_TOKEN_HTTP_AUTHORIZATION) <= 0)
		return false;
	bool ok = false;
	if (c->admin_token && strncasecmp(hdr, "Bearer ", 7) == 0) {
		const char *t = hdr + 7;
		size_t n = strlen(t), m = strlen(c->admin_token);
		unsigned char diff = n != m;
		for (size_t i = 0; i < n && i < m; i++)
			diff |= (unsigned char)(t[i] ^ c->admin_token[i]);
		ok = !diff;
	} else if (c->admin_user && c->admin_password_hash) {
		char *user = NULL, *pass = NULL;
		size_t pass_len = 0;
		if (ogw_auth_parse_basic(hdr, &user, &pass, &pass_len) == 0)
			ok = strcmp(user, c->admin_user) == 0 &&
			     ogw_auth_verify(c->admin_password_hash, pass, pass_len);
		if (pass)
			ogw_memzero(pass, pass_len);
		free(user);
		free(pass);
	}
	ogw_memzero(hdr, sizeof(hdr));
	return ok;
}

static void dispatch(struct ogw_admin_req *r)
{
	if (r->denied) {
		ogw_admin_reply_error(r, 401, NULL, "authentication required");
		return;
	}
	ogw_admin_route(r);
	/* Waiting on a charger: the call's own timeout bounds the wait. */
	if (r->waiting && r->wsi)
		lws_set_timeout(r->wsi, NO_PENDING_TIMEOUT, 0);
}

static int on_request(struct lws *wsi, struct admin_conn *conn, const char *uri)
{
	struct ogw_gateway *gw = lws_context_user(lws_get_context(wsi));
	struct ogw_admin_req *r = calloc(1, sizeof(*r));
	if (!r)
		return -1;
	r->gw = gw;
	r->wsi = wsi;
	lws_dll2_add_tail(&r->list, &gw->admin_reqs);
	conn->req = r;
	snprintf(r->path, sizeof(r->path), "%s", uri);
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (lws_hdr_total_length(wsi, methods[i].tok) > 0) {
			snprintf(r->method, sizeof(r->method), "%s", methods[i].method);
			break;
		}
	if (!authorized(wsi, &gw->conf)) {
		ogw_info(NULL, "admin: %s %s refused: no valid credentials", r->method, r->path);
		r->denied = true;
	}
	char len_text[24];
	long content_len = 0;
	if (lws_hdr_copy(wsi, len_text, sizeof(len_text), WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0)
		content_len = strtol(len_text, NULL, 10);
	/* The answer waits for the whole body: lws reads it in any case. */
	r->body_due = content_len > 0;
	if (content_len > OGW_ADMIN_MAX_BODY)
		ogw_admin_reply_error(r, 413, "body", "body larger than %d bytes",
				      OGW_ADMIN_MAX_BODY);
	else if (!r->body_due)
		dispatch(r);
	return 0;
}

static int on_body(struct admin_conn *conn, const void *in, size_t len)
{
	struct ogw_admin_req *r = conn->req;
	if (!r || r->resp || r->waiting || r->denied)
		return 0;
	if (r->body_len + len > OGW_ADMIN_MAX_BODY) {
		ogw_admin_reply_error(r, 413, "body", "body larger than %d bytes",
				      OGW_ADMIN_MAX_BODY);
		return 0;
	}
	char *n = realloc(r->body, r->body_len + len + 1);
	if (!n)
		return -1;
	memcpy(n + r->body_len, in, len);
	r->body = n;
	r->body_len += len;
	r->body[r->body_len] = '\0';
	return 0;
}

static int on_writeable(struct lws *wsi, struct admin_conn *conn)
{
	struct ogw_admin_req *r = conn->req;
	if (!r || !r->resp || r->body_due)
		return 0;
	unsigned char hbuf[LWS_PRE + 1024], *start = hbuf + LWS_PRE, *p = start,
		*end = hbuf + sizeof(hbuf) - 1;
	const struct ogw_conf *c = &r->gw->conf;
	if (lws_add_http_common_headers(wsi, (unsigned int)r->status, r->content_type,
					r->resp_len, &p, end) ||
	    lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
					(const unsigned char *)"no-store", 8, &p, end))
		return -1;
	if (r->status == 401 && c->admin_user &&
	    lws_add_http_header_by_name(wsi, (const unsigned char *)"www-authenticate:",
					(const unsigned char *)"Basic realm=\"ocppgw\"", 20, &p,
					end))
		return -1;
	if (lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	if (r->resp_len && lws_write(wsi, r->resp + LWS_PRE, r->resp_len, LWS_WRITE_HTTP_FINAL) < 0)
		return -1;
	conn->req = NULL;
	req_free(r);
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* The connection is gone: a request still waiting on a charger stays, and
 * its answer is dropped when it comes (ogw_admin_reply with wsi NULL). */
static void on_closed(struct admin_conn *conn)
{
	struct ogw_admin_req *r = conn->req;
	conn->req = NULL;
	if (!r)
		return;
	r->wsi = NULL;
	if (!r->waiting)
		req_free(r);
}

static int admin_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
			  void *in, size_t len)
{
	struct admin_conn *conn = user;

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		if (conn->req)
			on_closed(conn);
		return on_request(wsi, conn, in ? (const char *)in : "/");
	case LWS_CALLBACK_HTTP_BODY:
		return on_body(conn, in, len);
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		if (!conn->req)
			return 0;
		conn->req->body_due = false;
		if (conn->req->resp)
			lws_callback_on_writable(wsi);
		else if (!conn->req->waiting)
			dispatch(conn->req);
		return 0;
	case LWS_CALLBACK_HTTP_WRITEABLE:
		return on_writeable(wsi, conn);
	case LWS_CALLBACK_CLOSED_HTTP:
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
		on_closed(conn);
		return 0;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

static const struct lws_protocols admin_protocols[] = {
	{ "http", admin_callback, sizeof(struct admin_conn), 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

int ogw_admin_start(struct ogw_gateway *gw)
{
	const struct ogw_conf *c = &gw->conf;
	if (!c->admin_addr)
		return 0;
	struct lws_context_creation_info vi;
	memset(&vi, 0, sizeof(vi));
	vi.vhost_name = "admin";
	vi.port = c->admin_port;
	vi.iface = strcmp(c->admin_addr, "0.0.0.0") ? c->admin_addr : NULL;
	vi.protocols = admin_protocols;
	vi.keepalive_timeout = 30;
	gw->admin_vh = lws_create_vhost(gw->ctx, &vi);
	if (!gw->admin_vh) {
		ogw_err(NULL, "Failed to listen for the admin API on %s:%d (address in use?)",
			c->admin_addr, c->admin_port);
		return -EADDRINUSE;
	}
	ogw_info(NULL, "admin API on http://%s:%d/%s", c->admin_addr,
		 lws_get_vhost_listen_port(gw->admin_vh),
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
		req_free(r);
	}
}
