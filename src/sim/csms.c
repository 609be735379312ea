/* SPDX-License-Identifier: MIT */
/*
 * The responder CSMS: accepts chargers of every version (the subprotocol is
 * the first of the client's offer that it knows), answers each request with
 * a schema-valid, plausible response and validates every frame both ways.
 * On the same port, HTTP `POST /command` sends a CALL to a connected charger
 * and answers with the charger's response; `GET /chargers` lists them. It
 * keeps no state beyond the open connections.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocppgw/log.h"
#include "ocppgw/util.h"
#include "sim.h"

#define HEARTBEAT_S   300
#define COMMAND_TIMEOUT_S 30
#define TICK_US       100000   /* command deadlines, end of run */

struct conn {
	lws_dll2_t list;
	struct lws *wsi;
	enum ogw_ocpp v;
	lws_dll2_owner_t out;
	struct sim_rx rx;
	struct ogw_tracker tracker;   /* commands sent to the charger */
	char id[SIM_ID_MAX + 1];
};

/* One HTTP request; outlives its connection if a command is in flight. */
struct http_req {
	struct lws *wsi;              /* NULL once the HTTP connection closed */
	char *body;
	size_t len;
	int status;
	char *reply;
	bool waiting;                 /* a command is in flight for it */
};

struct http_pss {
	struct http_req *req;
};

static struct {
	const struct sim_opts *o;
	struct lws_context *ctx;
	lws_dll2_owner_t conns;
	lws_sorted_usec_list_t sul_tick;
	int64_t next_tx_id;
	uint64_t stop_at;
	uint64_t frames, answered, faults, commands;
} csms;

static void req_free(struct http_req *r)
{
	free(r->body);
	free(r->reply);
	free(r);
}

/* Sets the HTTP reply (taking @j) and asks to write it. */
static void http_reply(struct http_req *r, int status, json_t *j)
{
	r->waiting = false;
	if (!r->wsi) {
		json_decref(j);
		req_free(r);
		return;
	}
	r->status = status;
	r->reply = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	lws_callback_on_writable(r->wsi);
}

static json_t *id_info(void)
{
	return json_pack("{s:s}", "status", "Accepted");
}

/* Responses with content; everything else gets the smallest valid one. */
static json_t *respond(struct conn *c, const char *action, const json_t *req)
{
	char now[32];
	bool is16 = c->v == OGW_OCPP16;

	ogw_time_rfc3339(now);
	if (!strcmp(action, "BootNotification"))
		return json_pack("{s:s, s:i, s:s}", "currentTime", now, "interval", HEARTBEAT_S,
				 "status", "Accepted");
	if (!strcmp(action, "Heartbeat"))
		return json_pack("{s:s}", "currentTime", now);
	if (!strcmp(action, "Authorize"))
		return json_pack("{s:o}", is16 ? "idTagInfo" : "idTokenInfo", id_info());
	if (!strcmp(action, "StartTransaction"))
		return json_pack("{s:o, s:I}", "idTagInfo", id_info(), "transactionId",
				 (json_int_t)++csms.next_tx_id);
	if ((!strcmp(action, "StopTransaction") && json_object_get(req, "idTag")) ||
	    (!strcmp(action, "TransactionEvent") && json_object_get(req, "idToken")))
		return json_pack("{s:o}", is16 ? "idTagInfo" : "idTokenInfo", id_info());
	if (!strcmp(action, "DataTransfer"))
		return json_pack("{s:s}", "status", "Accepted");
	return NULL;
}

/* The smallest of a few candidates that the response schema accepts. */
static json_t *minimal(struct conn *c, const char *action)
{
	static const char *const candidates[] = { "{}", "{\"status\":\"Accepted\"}" };

	for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
		json_t *j = json_loads(candidates[i], 0, NULL);
		struct ogw_schema_fault f;

		if (j && sim_wire_check(c->v, action, true, j, &f) == 0)
			return j;
		json_decref(j);
	}
	return NULL;
}

static void send_error(struct conn *c, const char *id, enum ogw_err e, const char *desc)
{
	size_t len;
	char *buf = ogw_rpc_encode_error(LWS_PRE, OGW_MSG_CALLERROR, id, ogw_err_code(e, c->v),
					 desc, NULL, &len);

	sim_out_push(&c->out, c->wsi, buf, len);
}

static void answer_call(struct conn *c, const struct ogw_frame *fr)
{
	struct ogw_log_ctx lc = { .charger = c->id, .action = fr->action, .msg_id = fr->id };
	struct ogw_schema_fault f;
	json_t *res = NULL;
	size_t len;
	char *buf;
	int r;

	r = sim_wire_check(c->v, fr->action, false, fr->payload, &f);
	if (r == -ENOENT) {
		send_error(c, fr->id, OGW_ERR_NOT_IMPLEMENTED, "Unknown action");
		goto out;
	}
	if (r < 0) {
		ogw_warn(&lc, "Request fails its schema: %s", f.desc);
		csms.faults++;
		send_error(c, fr->id, f.err, f.desc);
		goto out;
	}
	res = respond(c, fr->action, fr->payload);
	if (!res)
		res = minimal(c, fr->action);
	if (!res) {
		send_error(c, fr->id, OGW_ERR_NOT_SUPPORTED, "Not supported by the responder");
		goto out;
	}
	if (sim_wire_check(c->v, fr->action, true, res, &f) < 0) {
		ogw_err(&lc, "Own response fails its schema: %s", f.desc);
		csms.faults++;
	}
	csms.answered++;
	buf = ogw_rpc_encode_result(LWS_PRE, fr->id, res, &len);
	sim_out_push(&c->out, c->wsi, buf, len);
out:
	json_decref(res);
}

static void pump(struct conn *c)
{
	struct ogw_call *call = ogw_tracker_next(&c->tracker);
	size_t len;
	char *buf;

	if (!call)
		return;
	ogw_rpc_new_id(call->id);
	call->deadline_us = ogw_now_us() + COMMAND_TIMEOUT_S * 1000000ull;
	buf = ogw_rpc_encode_call(LWS_PRE, OGW_MSG_CALL, call->id, call->action, call->payload,
				  &len);
	sim_out_push(&c->out, c->wsi, buf, len);
}

/* A command's end: the answer frame, or NULL when it timed out or the
 * charger went away. */
static void command_done(struct conn *c, struct ogw_call *call, const struct ogw_frame *fr)
{
	struct http_req *r = call->user;
	struct ogw_schema_fault f;
	json_t *j;

	if (!fr) {
		j = json_pack("{s:s}", "error", c->wsi ? "timeout" : "charger disconnected");
		http_reply(r, 504, j);
	} else if (fr->type == OGW_MSG_CALLRESULT) {
		j = json_pack("{s:O}", "result", fr->payload);
		if (sim_wire_check(c->v, call->action, true, fr->payload, &f) < 0) {
			csms.faults++;
			json_object_set_new(j, "schemaFault", json_string(f.desc));
		}
		http_reply(r, 200, j);
	} else {
		j = json_pack("{s:{s:s, s:s, s:O}}", "error", "code", fr->err_code,
			      "description", fr->err_desc ? fr->err_desc : "",
			      "details", fr->payload ? fr->payload : json_null());
		http_reply(r, 200, j);
	}
	ogw_call_free(call);
}

static void handle_frame(struct conn *c, const char *buf, size_t len)
{
	struct ogw_frame fr;
	struct ogw_rpc_fault fault;
	struct ogw_call *call;

	csms.frames++;
	if (ogw_frame_decode(buf, len, c->v, &fr, &fault) < 0) {
		struct ogw_log_ctx lc = { .charger = c->id, .msg_id = fault.id };

		ogw_warn(&lc, "Bad frame: %s", fault.desc);
		csms.faults++;
		if (fault.reply)
			send_error(c, fault.id, fault.err, fault.desc);
		return;
	}
	if (fr.type == OGW_MSG_CALL) {
		answer_call(c, &fr);
	} else if (fr.type == OGW_MSG_CALLRESULT || fr.type == OGW_MSG_CALLERROR) {
		call = ogw_tracker_take_answered(&c->tracker, fr.id);
		if (call) {
			command_done(c, call, &fr);
			pump(c);
		}
	}
	ogw_frame_release(&fr);
}

static struct conn *find_conn(const char *id)
{
	lws_start_foreach_dll(struct lws_dll2 *, d, lws_dll2_get_head(&csms.conns)) {
		struct conn *c = lws_container_of(d, struct conn, list);

		if (!strcmp(c->id, id))
			return c;
	} lws_end_foreach_dll(d);
	return NULL;
}

static void drain_one(struct ogw_call *call, void *arg)
{
	command_done(arg, call, NULL);
}

static int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
		       void *in, size_t len)
{
	struct conn **pc = user, *c = pc ? *pc : NULL;
	const char *buf;
	size_t blen;
	char uri[256];
	int r;

	switch (reason) {
	case LWS_CALLBACK_ESTABLISHED: {
		const char *slash;

		c = calloc(1, sizeof(*c));
		if (!c)
			return -1;
		*pc = c;
		c->wsi = wsi;
		ogw_tracker_init(&c->tracker, 16);
		if (ogw_ocpp_parse(lws_get_protocol(wsi)->name, &c->v) < 0)
			return -1;
		if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) < 0)
			uri[0] = '\0';
		slash = strrchr(uri, '/');
		slash = slash ? slash + 1 : uri;
		/* lws has percent-decoded the URI already. */
		if (!*slash || strlen(slash) >= sizeof(c->id))
			return -1;
		memcpy(c->id, slash, strlen(slash) + 1);
		lws_dll2_add_tail(&c->list, &csms.conns);
		break;
	}
	case LWS_CALLBACK_RECEIVE:
		if (!c)
			return -1;
		r = sim_rx_feed(&c->rx, wsi, in, len, &buf, &blen);
		if (r < 0)
			return -1;
		if (r > 0)
			handle_frame(c, buf, blen);
		break;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return c ? sim_out_write(&c->out, wsi) : -1;
	case LWS_CALLBACK_CLOSED:
		if (!c)
			break;
		c->wsi = NULL;
		lws_dll2_remove(&c->list);
		ogw_tracker_drain(&c->tracker, drain_one, c);
		sim_out_clear(&c->out);
		sim_rx_clear(&c->rx);
		free(c);
		*pc = NULL;
		break;
	default:
		break;
	}
	return 0;
}

static void run_command(struct http_req *r)
{
	json_t *j = json_loadb(r->body ? r->body : "", r->len, 0, NULL);
	const char *id = json_string_value(json_object_get(j, "charger"));
	const char *action = json_string_value(json_object_get(j, "action"));
	json_t *payload = json_object_get(j, "payload");
	struct ogw_schema_fault f;
	struct ogw_call *call;
	struct conn *c;
	int rc;

	csms.commands++;
	if (!id || !action || (payload && !json_is_object(payload))) {
		http_reply(r, 400, json_pack("{s:s}", "error",
					     "expected {\"charger\":ID,\"action\":NAME,\"payload\":{...}}"));
		goto out;
	}
	c = find_conn(id);
	if (!c) {
		http_reply(r, 404, json_pack("{s:s}", "error", "charger not connected"));
		goto out;
	}
	payload = payload ? json_incref(payload) : json_object();
	rc = sim_wire_check(c->v, action, false, payload, &f);
	if (rc < 0) {
		json_decref(payload);
		http_reply(r, 400, json_pack("{s:s}", "error",
					     rc == -ENOENT ? "action unknown to this version" : f.desc));
		goto out;
	}
	call = ogw_call_new(action, payload, UINT64_MAX);
	if (!call || ogw_tracker_push(&c->tracker, call) < 0) {
		ogw_call_free(call);
		http_reply(r, 503, json_pack("{s:s}", "error", "too many commands queued"));
		goto out;
	}
	call->user = r;
	r->waiting = true;
	pump(c);
out:
	json_decref(j);
}

static json_t *list_chargers(void)
{
	json_t *a = json_array();

	lws_start_foreach_dll(struct lws_dll2 *, d, lws_dll2_get_head(&csms.conns)) {
		struct conn *c = lws_container_of(d, struct conn, list);

		json_array_append_new(a, json_pack("{s:s, s:s}", "id", c->id,
						   "version", ogw_ocpp_name(c->v)));
	} lws_end_foreach_dll(d);
	return json_pack("{s:o}", "chargers", a);
}

static int write_reply(struct lws *wsi, struct http_req *r)
{
	unsigned char buf[LWS_PRE + 512], *start = buf + LWS_PRE, *p = start,
		*end = buf + sizeof(buf) - 1;
	size_t len = r->reply ? strlen(r->reply) : 0;
	unsigned char *body;
	int n;

	if (lws_add_http_common_headers(wsi, (unsigned int)r->status, "application/json", len,
					&p, end) ||
	    lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	body = malloc(LWS_PRE + len + 1);
	if (!body)
		return -1;
	memcpy(body + LWS_PRE, r->reply ? r->reply : "", len);
	n = lws_write(wsi, body + LWS_PRE, len, LWS_WRITE_HTTP_FINAL);
	free(body);
	if (n < 0)
		return -1;
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
			 void *in, size_t len)
{
	struct http_pss *pss = user;
	struct http_req *r = pss ? pss->req : NULL;
	char *nb;

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		r = calloc(1, sizeof(*r));
		if (!r)
			return -1;
		r->wsi = wsi;
		pss->req = r;
		if (lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0) {
			if (strcmp(in, "/command")) {
				http_reply(r, 404, json_pack("{s:s}", "error", "no such endpoint"));
			}
			return 0;   /* the body follows */
		}
		if (!strcmp(in, "/chargers"))
			http_reply(r, 200, list_chargers());
		else
			http_reply(r, 404, json_pack("{s:s}", "error", "no such endpoint"));
		return 0;
	case LWS_CALLBACK_HTTP_BODY:
		if (!r || r->reply || r->len + len > SIM_FRAME_MAX)
			return r && r->reply ? 0 : -1;
		nb = realloc(r->body, r->len + len + 1);
		if (!nb)
			return -1;
		r->body = nb;
		memcpy(r->body + r->len, in, len);
		r->len += len;
		return 0;
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		if (r && !r->reply && !r->waiting)
			run_command(r);
		return 0;
	case LWS_CALLBACK_HTTP_WRITEABLE:
		if (!r || !r->reply)
			return 0;
		{
			int rc;

			pss->req = NULL;  /* transaction_completed frees the pss */
			rc = write_reply(wsi, r);
			req_free(r);
			return rc;
		}
	case LWS_CALLBACK_CLOSED_HTTP:
		if (!r)
			return 0;
		pss->req = NULL;
		if (r->waiting)
			r->wsi = NULL;   /* freed when the command ends */
		else
			req_free(r);
		return 0;
	case LWS_CALLBACK_ESTABLISHED:
		return -1;           /* a WebSocket without a subprotocol we speak */
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

static void tick(lws_sorted_usec_list_t *sul)
{
	uint64_t now = ogw_now_us();

	lws_start_foreach_dll(struct lws_dll2 *, d, lws_dll2_get_head(&csms.conns)) {
		struct conn *c = lws_container_of(d, struct conn, list);
		struct ogw_call *call;

		while ((call = ogw_tracker_take_expired(&c->tracker, now))) {
			command_done(c, call, NULL);
			pump(c);
		}
	} lws_end_foreach_dll(d);
	if (sim_interrupted || now >= csms.stop_at) {
		ogw_loop_stop();
		return;
	}
	lws_sul_schedule(csms.ctx, 0, sul, tick, TICK_US);
}

static const struct lws_protocols protocols[] = {
	{ "http", http_callback, sizeof(struct http_pss), 0, 0, NULL, 0 },
	{ "ocpp1.6", ws_callback, sizeof(struct conn *), 4096, 0, NULL, 0 },
	{ "ocpp2.0.1", ws_callback, sizeof(struct conn *), 4096, 0, NULL, 0 },
	{ "ocpp2.1", ws_callback, sizeof(struct conn *), 4096, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

int sim_csms_run(const struct sim_opts *o)
{
	struct lws_context_creation_info info = { 0 };
	char iface[128];
	const char *colon;
	int port, r = 0;

	colon = o->listen ? strrchr(o->listen, ':') : NULL;
	if (!colon || (size_t)(colon - o->listen) >= sizeof(iface)) {
		fprintf(stderr, "--listen wants HOST:PORT\n");
		return -EINVAL;
	}
	memcpy(iface, o->listen, (size_t)(colon - o->listen));
	iface[colon - o->listen] = '\0';
	port = atoi(colon + 1);
	csms.o = o;
	info.port = port;          /* 0: the kernel chooses; printed below */
	info.iface = iface;
	info.protocols = protocols;
	info.count_threads = 1;
	info.fd_limit_per_thread = sim_fd_limit();
	info.pt_serv_buf_size = 8192;
	info.options = LWS_SERVER_OPTION_VALIDATE_UTF8;
	if (ogw_loop_init(&info, sim_on_loop_signal) < 0)
		return -ENOMEM;
	csms.ctx = lws_create_context(&info);
	if (!csms.ctx) {
		fprintf(stderr, "Failed to listen on %s\n", o->listen);
		return -EADDRINUSE;
	}
	printf("listening on %s:%d\n", iface,
	       lws_get_vhost_listen_port(lws_get_vhost_by_name(csms.ctx, "default")));
	fflush(stdout);
	csms.stop_at = o->duration > 0 ? ogw_now_us() + (uint64_t)(o->duration * 1e6) : UINT64_MAX;
	lws_sul_schedule(csms.ctx, 0, &csms.sul_tick, tick, TICK_US);
	ogw_loop_run();            /* until tick() stops it */
	ogw_loop_fini(csms.ctx);
	fprintf(stderr, "responder: %llu frames, %llu answered, %llu commands, %llu schema faults\n",
		(unsigned long long)csms.frames, (unsigned long long)csms.answered,
		(unsigned long long)csms.commands, (unsigned long long)csms.faults);
	if (csms.faults)
		r = 1;
	return r;
}
