/* SPDX-License-Identifier: MIT */
/*
 * Private to the gateway layer: one admin HTTP request, between admin.c
 * (the lws listener: headers, body, auth, writing the answer) and
 * admin_routes.c (what each endpoint does). A request outlives its
 * connection when a charger call is out for it: the client may go away
 * first, and the answer is then dropped (wsi is NULL by then).
 */
#ifndef OGW_ADMIN_H
#define OGW_ADMIN_H

#include <jansson.h>
#include <libwebsockets.h>
#include <stdbool.h>
#include <stddef.h>

#include "features/admin/admin_http.h"

#define OGW_ADMIN_MAX_ARGS 2

struct ogw_gateway;
struct ogw_admin_req;

/* A body a route takes as it arrives (a firmware file), never whole in
 * memory: set by the route at the request's head (admin_routes.c). */
struct ogw_admin_sink {
	/* @len more bytes: 0, or < 0 after answering (the rest is not read) */
	int (*write)(struct ogw_admin_req *r, const char *data, size_t len);
	/* the whole body came: answers */
	void (*done)(struct ogw_admin_req *r);
	/* the client went away or stalled first: nothing is kept, no answer */
	void (*abandon)(struct ogw_admin_req *r);
};

struct ogw_admin_req {
	lws_dll2_t list;              /* gw->admin_reqs */
	struct ogw_gateway *gw;
	struct lws *wsi;              /* NULL once the client went away */
	char method[8];
	char path[OGW_HTTP_MAX_TARGET + 1];
	char query[OGW_HTTP_MAX_TARGET + 1];  /* as sent: ogw_http_query_get() */
	char args[OGW_ADMIN_MAX_ARGS][128];  /* the route's '*' segments */
	char *body;
	size_t body_len;
	bool streamed;                /* routed at its head, the body still to come: */
	bool has_length;              /* its Content-Length, given or not */
	size_t content_length;
	const struct ogw_admin_sink *sink;  /* set by the route that takes the body */
	void *sink_ctx;
	bool head_only;               /* HEAD: answer as GET, without the body */
	bool keep_alive;              /* the client keeps the connection */
	bool denied;                  /* no valid credentials: 401 unless the route is open */
	bool no_challenge;            /* no WWW-Authenticate on a 401 (the page asks) */
	bool waiting;                 /* a charger call is out for this request */
	uint64_t deadline_us;         /* when that call times out */
	/* the answer's body, resp_len bytes */
	int status;
	const char *content_type;
	unsigned char *resp;
	size_t resp_len;
};

/* admin_reply.c: set the answer and have it written (or dropped when the
 * client is gone). Each takes what it is given. */
void ogw_admin_reply(struct ogw_admin_req *r, int status, const char *content_type,
		     const void *body, size_t len);
void ogw_admin_reply_json(struct ogw_admin_req *r, int status, json_t *body);
/* {"error": message, "field": @field (when not NULL)} */
void ogw_admin_reply_error(struct ogw_admin_req *r, int status, const char *field,
			   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* admin_reply.c: unlinks @r from the gateway's list and frees it. */
void ogw_admin_req_free(struct ogw_admin_req *r);

/* admin_routes.c: answers @r now, or sets r->waiting and answers later
 * (or, for a streamed request, sets r->sink). */
void ogw_admin_route(struct ogw_admin_req *r);
/* admin_routes.c: whether a request's body goes to a sink (admin_http.h's
 * ogw_http_limits.streamed). */
bool ogw_admin_streamed(const char *method, const char *path);

/* admin_page.c (generated from status.html) */
extern const char ogw_admin_page[];
extern const size_t ogw_admin_page_len;

#endif
