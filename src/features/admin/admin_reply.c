/* SPDX-License-Identifier: MIT */
/*
 * One admin request's answer: the routes (admin_routes.c) set it here, and
 * the listener (admin.c) writes it when lws says the connection is
 * writable, or it is dropped with the request when the client went away
 * first. Kept apart from both so that neither calls the other back.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "ocppgw/json.h"
#include "features/admin/admin.h"

void ogw_admin_req_free(struct ogw_admin_req *r)
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
		ogw_admin_req_free(r);
		return;
	}
	free(r->resp);
	r->resp = malloc(len + 1);
	if (!r->resp) {
		/* no answer to give: the client sees the connection close */
		lws_set_timeout(r->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
		return;
	}
	r->status = status;
	r->content_type = content_type;
	r->resp_len = len;
	memcpy(r->resp, body, len);
	lws_callback_on_writable(r->wsi);
}

void ogw_admin_reply_json(struct ogw_admin_req *r, int status, json_t *body)
{
	char *text = body ? ogw_json_text(body, JSON_COMPACT) : NULL;
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
