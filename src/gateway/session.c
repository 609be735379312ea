/* SPDX-License-Identifier: MIT */
/*
 * A charger session: its two legs, and the pipeline every frame takes
 * between them (decode -> validate -> stages -> translate -> encode -> other
 * leg). Each leg is an endpoint with its own call tracker and its own
 * message ids. Sockets are not touched here beyond asking lws for a
 * writeable callback; south.c and north.c own the lws callbacks.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "ocppgw/log.h"
#include "ocppgw/util.h"
#include "gw.h"

/* A queued outgoing frame: this header, LWS_PRE bytes, then the text. The
 * rpc encoders leave room for both, so a frame is one allocation. */
struct wq_item {
	lws_dll2_t list;
	size_t len;
};
#define WQ_HEAD (((sizeof(struct wq_item) + 15) / 16) * 16)
#define WQ_HEADROOM (WQ_HEAD + LWS_PRE)

/* A peer that stops reading gets this much queued before we drop it. */
#define WQ_MAX_BYTES(gw) (4 * (gw)->conf.max_frame_size + 65536)

/* How much of an oversize message is kept to read its type and id. */
#define SNIFF_BYTES 128

static const char *const leg_names[] = { [OGW_SOUTH] = "south", [OGW_NORTH] = "north" };
static const char *const leg_state_names[] = {
	[OGW_LEG_DOWN] = "down",
	[OGW_LEG_CONNECTING] = "connecting",
	[OGW_LEG_UP] = "up",
	[OGW_LEG_CLOSING] = "closing",
};

static inline struct ogw_leg *other_leg(struct ogw_leg *l)
{
	return l->kind == OGW_SOUTH ? &l->s->north : &l->s->south;
}

static inline struct ogw_log_ctx leg_ctx(const struct ogw_leg *l, const char *action,
					 const char *msg_id)
{
	return (struct ogw_log_ctx){ l->s->id, leg_names[l->kind], action, msg_id };
}

/* The one door for leg state changes. */
static void leg_set_state(struct ogw_leg *l, enum ogw_leg_state st)
{
	if (l->state == st)
		return;
	struct ogw_log_ctx lc = leg_ctx(l, NULL, NULL);
	ogw_log(st == OGW_LEG_UP || l->state == OGW_LEG_UP ? OGW_LOG_INFO : OGW_LOG_DEBUG, &lc,
		"leg %s -> %s", leg_state_names[l->state], leg_state_names[st]);
	l->state = st;
}

/* ---- session table ------------------------------------------------------ */

static size_t id_hash(const char *id)
{
	size_t h = 2166136261u;
	for (; *id; id++)
		h = (h ^ (unsigned char)*id) * 16777619u;
	return h;
}

static int table_grow(struct ogw_gateway *gw)
{
	size_t nsize = gw->table_size ? gw->table_size * 2 : 1024;
	struct ogw_session **nt = calloc(nsize, sizeof(*nt));
	if (!nt)
		return -ENOMEM;
	for (size_t i = 0; i < gw->table_size; i++) {
		struct ogw_session *s = gw->table[i], *next;
		for (; s; s = next) {
			next = s->hnext;
			size_t b = id_hash(s->id) & (nsize - 1);
			s->hnext = nt[b];
			nt[b] = s;
		}
	}
	free(gw->table);
	gw->table = nt;
	gw->table_size = nsize;
	return 0;
}

struct ogw_session *ogw_session_find(struct ogw_gateway *gw, const char *id)
{
	if (!gw->table_size)
		return NULL;
	for (struct ogw_session *s = gw->table[id_hash(id) & (gw->table_size - 1)]; s;
	     s = s->hnext)
		if (!strcmp(s->id, id))
			return s;
	return NULL;
}

static void table_remove(struct ogw_session *s)
{
	struct ogw_gateway *gw = s->gw;
	if (!gw->table_size)
		return;
	struct ogw_session **pp = &gw->table[id_hash(s->id) & (gw->table_size - 1)];
	for (; *pp; pp = &(*pp)->hnext) {
		if (*pp == s) {
			*pp = s->hnext;
			s->hnext = NULL;
			return;
		}
	}
}

/* ---- writing ------------------------------------------------------------ */

static void leg_request_close(struct ogw_leg *l, enum lws_close_status status)
{
	if (!l->wsi || l->state == OGW_LEG_CLOSING)
		return;
	l->close_status = status;
	leg_set_state(l, OGW_LEG_CLOSING);
	lws_callback_on_writable(l->wsi);
}

/* Takes ownership of @buf (from an rpc encoder with WQ_HEADROOM). */
static void leg_send_take(struct ogw_leg *l, char *buf, size_t len)
{
	if (!buf) {
		struct ogw_log_ctx lc = leg_ctx(l, NULL, NULL);
		ogw_err(&lc, "Failed to encode a frame: out of memory");
		return;
	}
	if (!l->wsi || l->state == OGW_LEG_DOWN || l->state == OGW_LEG_CONNECTING ||
	    l->state == OGW_LEG_CLOSING) {
		free(buf);
		return;
	}
	if (l->wq_bytes + len > WQ_MAX_BYTES(l->s->gw)) {
		struct ogw_log_ctx lc = leg_ctx(l, NULL, NULL);
		ogw_warn(&lc, "peer is not reading (%zu bytes queued): closing", l->wq_bytes);
		free(buf);
		leg_request_close(l, LWS_CLOSE_STATUS_POLICY_VIOLATION);
		return;
	}
	struct wq_item *it = (struct wq_item *)buf;
	memset(it, 0, sizeof(*it));
	it->len = len;
	lws_dll2_add_tail(&it->list, &l->wq);
	l->wq_bytes += len;
	lws_callback_on_writable(l->wsi);
}

int ogw_session_writeable(struct ogw_leg *l)
{
	struct lws_dll2 *d = lws_dll2_get_head(&l->wq);
	if (d) {
		struct wq_item *it = lws_container_of(d, struct wq_item, list);
		unsigned char *data = (unsigned char *)it + WQ_HEADROOM;
		int n = lws_write(l->wsi, data, it->len, LWS_WRITE_TEXT);
		lws_dll2_remove(&it->list);
		l->wq_bytes -= it->len;
		free(it);
		if (n < 0)
			return -1;
		if (lws_dll2_get_head(&l->wq)) {
			lws_callback_on_writable(l->wsi);
			return 0;
		}
	}
	if (l->state == OGW_LEG_CLOSING) {
		lws_close_reason(l->wsi, l->close_status, NULL, 0);
		return -1;
	}
	return 0;
}

static void wq_clear(struct ogw_leg *l)
{
	struct lws_dll2 *d;
	while ((d = lws_dll2_get_head(&l->wq))) {
		lws_dll2_remove(d);
		free(lws_container_of(d, struct wq_item, list));
	}
	l->wq_bytes = 0;
}

/* ---- answering ---------------------------------------------------------- */

static void send_result(struct ogw_leg *l, const char *id, const json_t *payload)
{
	size_t len;
	char *buf = ogw_rpc_encode_result(WQ_HEADROOM, id, payload, &len);
	leg_send_take(l, buf, len);
}

static void send_error(struct ogw_leg *l, enum ogw_msg_type type, const char *id,
		       enum ogw_err err, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void send_error(struct ogw_leg *l, enum ogw_msg_type type, const char *id,
		       enum ogw_err err, const char *fmt, ...)
{
	char desc[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);
	size_t len;
	char *buf = ogw_rpc_encode_error(WQ_HEADROOM, type, id, ogw_err_code(err, l->ver), desc,
					 NULL, &len);
	leg_send_take(l, buf, len);
}

/* ---- call tracking ------------------------------------------------------ */

static void deadline_arm(struct ogw_gateway *gw)
{
	struct lws_dll2 *d = lws_dll2_get_head(&gw->deadlines);
	if (!d) {
		lws_sul_cancel(&gw->sul_deadline);
		return;
	}
	struct ogw_call *c = lws_container_of(d, struct ogw_call, timeouts);
	uint64_t now = ogw_now_us();
	lws_usec_t in = c->deadline_us > now ? (lws_usec_t)(c->deadline_us - now) : 0;
	lws_sul_schedule(gw->ctx, 0, &gw->sul_deadline, ogw_gateway_deadline_check, in + 1000);
}

/* Finishes a call that left its tracker: tells whoever waits, frees it. */
static void call_finish(struct ogw_call *c, const struct ogw_frame *answer)
{
	lws_dll2_remove(&c->timeouts);
	c->done(c, answer);
	ogw_call_free(c);
}

/* Sends the next waiting call of @l if nothing is outstanding. */
static void leg_kick(struct ogw_leg *l)
{
	if (l->state != OGW_LEG_UP)
		return;
	struct ogw_call *c = ogw_tracker_next(&l->out);
	if (!c)
		return;
	ogw_rpc_new_id(c->id);
	struct ogw_log_ctx lc = leg_ctx(l, c->action, c->id);
	ogw_debug(&lc, "-> CALL (from %s id %s)", leg_names[other_leg(l)->kind],
		  c->origin_id[0] ? c->origin_id : "gateway");
	size_t len;
	char *buf = ogw_rpc_encode_call(WQ_HEADROOM, OGW_MSG_CALL, c->id, c->action, c->payload,
					&len);
	leg_send_take(l, buf, len);
}

void ogw_gateway_deadline_check(lws_sorted_usec_list_t *sul)
{
	struct ogw_gateway *gw = lws_container_of(sul, struct ogw_gateway, sul_deadline);
	uint64_t now = ogw_now_us();
	struct lws_dll2 *d;

	while ((d = lws_dll2_get_head(&gw->deadlines))) {
		struct ogw_call *head = lws_container_of(d, struct ogw_call, timeouts);
		if (head->deadline_us > now)
			break;
		struct ogw_leg *l = head->user;
		struct ogw_call *c;
		bool took_head = false;
		while ((c = ogw_tracker_take_expired(&l->out, now))) {
			took_head |= c == head;
			call_finish(c, NULL);
		}
		if (!took_head) /* not tracked any more: never spin on it */
			lws_dll2_remove(&head->timeouts);
		leg_kick(l);
	}
	deadline_arm(gw);
}

static void relay_done(struct ogw_call *c, const struct ogw_frame *answer);

/* Queues @payload (a new reference, taken) as a CALL on @l relaying the
 * peer's call @origin_id. 0, or -ENOBUFS when the leg's queue is full. */
static int leg_call_take(struct ogw_leg *l, const char *action, json_t *payload,
			 const char *origin_id)
{
	struct ogw_gateway *gw = l->s->gw;
	struct ogw_call *c = ogw_call_new(action, payload,
					  ogw_now_us() + (uint64_t)gw->conf.response_timeout_ms * 1000);
	if (!c)
		return -ENOMEM;
	snprintf(c->origin_id, sizeof(c->origin_id), "%s", origin_id);
	c->done = relay_done;
	c->user = l;
	int r = ogw_tracker_push(&l->out, c);
	if (r < 0) {
		ogw_call_free(c);
		return r;
	}
	bool was_empty = !lws_dll2_get_head(&gw->deadlines);
	lws_dll2_add_tail(&c->timeouts, &gw->deadlines);
	if (was_empty)
		deadline_arm(gw);
	leg_kick(l);
	return 0;
}

static void fail_call(struct ogw_call *c, void *arg)
{
	(void)arg;
	call_finish(c, NULL);
}

/* Drops everything @l was sending: each waiting peer gets its CALLERROR. */
static void leg_fail_calls(struct ogw_leg *l)
{
	ogw_tracker_drain(&l->out, fail_call, NULL);
}

/* An answer (or none: timeout, leg lost) to a call we relayed on c->user's
 * leg; it goes back to the leg the call came from, in that leg's version. */
static void relay_done(struct ogw_call *c, const struct ogw_frame *answer)
{
	struct ogw_leg *l = c->user;
	struct ogw_leg *back = other_leg(l);
	struct ogw_session *s = l->s;
	const char *peer = l->kind == OGW_NORTH ? "CSMS" : "charger";

	if (back->in_pending)
		back->in_pending--;
	if (!answer) {
		struct ogw_log_ctx lc = leg_ctx(l, c->action, c->id[0] ? c->id : NULL);
		if (c->deadline_us <= ogw_now_us()) {
			ogw_warn(&lc, "no answer within %d ms", s->gw->conf.response_timeout_ms);
			send_error(back, OGW_MSG_CALLERROR, c->origin_id, OGW_ERR_INTERNAL,
				   "%s did not answer %s within %d s", peer, c->action,
				   (s->gw->conf.response_timeout_ms + 999) / 1000);
		} else {
			send_error(back, OGW_MSG_CALLERROR, c->origin_id, OGW_ERR_INTERNAL,
				   "%s unavailable: %s not delivered",
				   l->kind == OGW_NORTH ? "upstream CSMS" : "charger", c->action);
		}
		return;
	}

	if (answer->type == OGW_MSG_CALLERROR) {
		enum ogw_err e = OGW_ERR_GENERIC;
		const char *code = answer->err_code;
		if (ogw_err_parse(code, &e) == 0)
			code = ogw_err_code(e, back->ver);
		else
			code = ogw_err_code(OGW_ERR_GENERIC, back->ver);
		size_t len;
		char *buf = ogw_rpc_encode_error(WQ_HEADROOM, OGW_MSG_CALLERROR, c->origin_id, code,
						 answer->err_desc, answer->payload, &len);
		leg_send_take(back, buf, len);
		return;
	}

	const struct ogw_schema *sch = ogw_schema_get(s->gw->schemas[l->ver], c->action, true);
	struct ogw_schema_fault fault;
	if (sch && ogw_schema_validate(sch, answer->payload, &fault) < 0) {
		struct ogw_log_ctx lc = leg_ctx(l, c->action, answer->id);
		ogw_warn(&lc, "invalid CALLRESULT from %s: %s", peer, fault.desc);
		send_error(back, OGW_MSG_CALLERROR, c->origin_id, OGW_ERR_INTERNAL,
			   "%s sent an invalid %s response: %s", peer, c->action, fault.desc);
		if (l->ver == OGW_OCPP21)
			send_error(l, OGW_MSG_CALLRESULTERROR, answer->id, fault.err, "%s",
				   fault.desc);
		return;
	}

	json_t *out = NULL;
	enum ogw_tr_dir dir = l->kind == OGW_NORTH ? OGW_TR_UP : OGW_TR_DOWN;
	if (s->tr->result(&s->tr_ctx, dir, c->action, answer->payload, &out) < 0) {
		send_error(back, OGW_MSG_CALLERROR, c->origin_id, OGW_ERR_INTERNAL,
			   "cannot translate the %s response", c->action);
		return;
	}
	send_result(back, c->origin_id, out);
	json_decref(out);
}

/* ---- pipeline stages ---------------------------------------------------- */

/*
 * A stage sees each validated CALL before translation and may answer it
 * itself (then the CALL goes no further). Later features (offline store,
 * authorization cache, load balancer) add their stages to this table.
 */
struct ogw_stage {
	const char *name;
	/* 0: pass it on; 1: the stage answered it. */
	int (*on_call)(struct ogw_leg *from, const struct ogw_frame *f);
};

/* With the CSMS unreachable and no reconnect under way, a charger's CALL
 * would only wait for its timeout: say so at once. */
static int stage_uplink(struct ogw_leg *from, const struct ogw_frame *f)
{
	struct ogw_leg *north = &from->s->north;
	if (from->kind != OGW_SOUTH || north->state == OGW_LEG_UP ||
	    north->state == OGW_LEG_CONNECTING)
		return 0;
	send_error(from, OGW_MSG_CALLERROR, f->id, OGW_ERR_INTERNAL,
		   "upstream CSMS unavailable: %s not delivered", f->action);
	return 1;
}

static const struct ogw_stage stages[] = {
	{ "uplink", stage_uplink },
};

/* ---- receiving ---------------------------------------------------------- */

static void handle_call(struct ogw_leg *l, const struct ogw_frame *f)
{
	struct ogw_session *s = l->s;
	struct ogw_log_ctx lc = leg_ctx(l, f->action, f->id);
	struct ogw_leg *to = other_leg(l);

	const struct ogw_schema *sch = ogw_schema_get(s->gw->schemas[l->ver], f->action, false);
	if (!sch) {
		ogw_info(&lc, "unknown action rejected");
		send_error(l, OGW_MSG_CALLERROR, f->id, OGW_ERR_NOT_IMPLEMENTED,
			   "unknown action %s in OCPP %s", f->action, ogw_ocpp_name(l->ver));
		return;
	}
	struct ogw_schema_fault fault;
	if (ogw_schema_validate(sch, f->payload, &fault) < 0) {
		ogw_info(&lc, "invalid CALL rejected: %s", fault.desc);
		if (f->type == OGW_MSG_CALL)
			send_error(l, OGW_MSG_CALLERROR, f->id, fault.err, "%s", fault.desc);
		return;
	}
	if (s->state != OGW_SESSION_ACTIVE) {
		send_error(l, OGW_MSG_CALLERROR, f->id, OGW_ERR_INTERNAL,
			   "charger session is closing");
		return;
	}
	for (size_t i = 0; i < sizeof(stages) / sizeof(stages[0]); i++)
		if (stages[i].on_call(l, f))
			return;

	const char *action;
	json_t *payload;
	enum ogw_tr_dir dir = l->kind == OGW_SOUTH ? OGW_TR_UP : OGW_TR_DOWN;
	if (s->tr->call(&s->tr_ctx, dir, f->action, f->payload, &action, &payload) < 0) {
		send_error(l, OGW_MSG_CALLERROR, f->id, OGW_ERR_NOT_SUPPORTED,
			   "%s has no counterpart in OCPP %s", f->action, ogw_ocpp_name(to->ver));
		return;
	}

	if (f->type == OGW_MSG_SEND) {
		/* OCPP 2.1 SEND: unconfirmed, never tracked, may pass calls in flight. */
		size_t len;
		char id[OGW_MSGID_MAX + 1];
		ogw_rpc_new_id(id);
		char *buf = ogw_rpc_encode_call(WQ_HEADROOM, OGW_MSG_SEND, id, action, payload, &len);
		json_decref(payload);
		if (to->state == OGW_LEG_UP)
			leg_send_take(to, buf, len);
		else
			free(buf);
		return;
	}

	int r = leg_call_take(to, action, payload, f->id);
	if (r == -ENOBUFS) {
		ogw_warn(&lc, "too many pending calls: rejected");
		send_error(l, OGW_MSG_CALLERROR, f->id, OGW_ERR_GENERIC,
			   "too many pending calls (limit %d): send one CALL at a time",
			   s->gw->conf.max_pending_calls);
		return;
	}
	if (r < 0) {
		send_error(l, OGW_MSG_CALLERROR, f->id, OGW_ERR_INTERNAL, "out of memory");
		return;
	}
	l->in_pending++;
}

static void handle_answer(struct ogw_leg *l, const struct ogw_frame *f)
{
	struct ogw_call *c = ogw_tracker_take_answered(&l->out, f->id);
	if (!c) {
		struct ogw_log_ctx lc = leg_ctx(l, NULL, f->id);
		ogw_warn(&lc, "%s for unknown message id ignored",
			 f->type == OGW_MSG_CALLRESULT ? "CALLRESULT" : "CALLERROR");
		return;
	}
	struct ogw_log_ctx lc = leg_ctx(l, c->action, f->id);
	ogw_debug(&lc, "<- %s", f->type == OGW_MSG_CALLRESULT ? "CALLRESULT" : "CALLERROR");
	call_finish(c, f);
	leg_kick(l);
}

/* A message over max_frame_size: answer a CALL, fail the call an answer
 * was for, never keep the bytes. */
static void handle_oversize(struct ogw_leg *l, const char *head, size_t head_len, size_t total)
{
	char id[OGW_MSGID_MAX + 1];
	ogw_rpc_sniff_id(head, head_len, id);
	size_t i = 0;
	while (i < head_len && (head[i] == '[' || head[i] == ' ' || head[i] == '\t' ||
				head[i] == '\r' || head[i] == '\n'))
		i++;
	char type = i < head_len ? head[i] : '?';
	struct ogw_log_ctx lc = leg_ctx(l, NULL, id);
	ogw_warn(&lc, "message of %zu bytes exceeds max_frame_size %zu", total,
		 l->s->gw->conf.max_frame_size);
	if (type == '3' || type == '4') {
		struct ogw_call *c = ogw_tracker_take_answered(&l->out, id);
		if (!c)
			return;
		struct ogw_frame err = {
			.type = OGW_MSG_CALLERROR,
			.err_code = ogw_err_code(OGW_ERR_INTERNAL, l->ver),
			.err_desc = "answer exceeded the gateway's max_frame_size",
		};
		snprintf(err.id, sizeof(err.id), "%s", id);
		call_finish(c, &err);
		leg_kick(l);
		return;
	}
	if (type == '6')
		return;
	send_error(l, OGW_MSG_CALLERROR, id, OGW_ERR_RPC_FRAMEWORK,
		   "message of %zu bytes exceeds the limit of %zu bytes", total,
		   l->s->gw->conf.max_frame_size);
}

static void handle_frame(struct ogw_leg *l, const char *buf, size_t len)
{
	struct ogw_frame f;
	struct ogw_rpc_fault fault;

	if (ogw_frame_decode(buf, len, l->ver, &f, &fault) < 0) {
		struct ogw_log_ctx lc = leg_ctx(l, NULL, fault.id);
		ogw_info(&lc, "bad frame%s: %s", fault.reply ? "" : " ignored", fault.desc);
		if (fault.reply)
			send_error(l, OGW_MSG_CALLERROR, fault.id, fault.err, "%s", fault.desc);
		return;
	}
	if (ogw_log_enabled(OGW_LOG_DEBUG)) {
		struct ogw_log_ctx lc = leg_ctx(l, f.action, f.id);
		ogw_debug(&lc, "<- frame type %d, %zu bytes", (int)f.type, len);
	}
	switch (f.type) {
	case OGW_MSG_CALL:
	case OGW_MSG_SEND:
		handle_call(l, &f);
		break;
	case OGW_MSG_CALLRESULT:
	case OGW_MSG_CALLERROR:
		handle_answer(l, &f);
		break;
	case OGW_MSG_CALLRESULTERROR: {
		struct ogw_log_ctx lc = leg_ctx(l, NULL, f.id);
		ogw_warn(&lc, "peer rejected our CALLRESULT: %s %s", f.err_code, f.err_desc);
		break;
	}
	}
	ogw_frame_release(&f);
}

void ogw_session_rx(struct ogw_leg *l, const char *in, size_t len, bool first, bool final)
{
	size_t max = l->s->gw->conf.max_frame_size;

	if (first && final && !l->rx) {
		if (len > max)
			handle_oversize(l, in, len < SNIFF_BYTES ? len : SNIFF_BYTES, len);
		else
			handle_frame(l, in, len);
		return;
	}
	if (first) {
		free(l->rx);
		l->rx = NULL;
		l->rx_len = l->rx_total = 0;
	}
	l->rx_total += len;
	if (l->rx_total <= max) {
		char *n = realloc(l->rx, l->rx_len + len + 1);
		if (!n) {
			l->rx_total = SIZE_MAX / 2; /* treat as oversize: drop it */
		} else {
			l->rx = n;
			memcpy(l->rx + l->rx_len, in, len);
			l->rx_len += len;
		}
	} else if (l->rx_len > SNIFF_BYTES) {
		/* Over the limit: keep only the head, to read the type and id. */
		char *n = realloc(l->rx, SNIFF_BYTES);
		if (n)
			l->rx = n;
		l->rx_len = SNIFF_BYTES;
	} else if (!l->rx) {
		l->rx = malloc(SNIFF_BYTES);
		if (l->rx) {
			l->rx_len = len < SNIFF_BYTES ? len : SNIFF_BYTES;
			memcpy(l->rx, in, l->rx_len);
		}
	}
	if (!final)
		return;
	if (l->rx_total > max)
		handle_oversize(l, l->rx ? l->rx : "", l->rx ? l->rx_len : 0, l->rx_total);
	else if (l->rx)
		handle_frame(l, l->rx, l->rx_len);
	free(l->rx);
	l->rx = NULL;
	l->rx_len = l->rx_total = 0;
}

/* ---- lifetime ----------------------------------------------------------- */

static void leg_init(struct ogw_session *s, struct ogw_leg *l, enum ogw_leg_kind kind,
		     enum ogw_ocpp ver)
{
	l->s = s;
	l->kind = kind;
	l->ver = ver;
	ogw_tracker_init(&l->out, (unsigned int)s->gw->conf.max_pending_calls);
}

struct ogw_session *ogw_session_new(struct ogw_gateway *gw, const char *id, enum ogw_ocpp ver,
				    struct lws *south_wsi, const char *south_auth)
{
	struct ogw_session *old = ogw_session_find(gw, id);
	if (old) {
		struct ogw_log_ctx lc = { old->id, "south", NULL, NULL };
		ogw_info(&lc, "new connection for this identity replaces the old one");
		ogw_session_close(old, LWS_CLOSE_STATUS_POLICY_VIOLATION, "replaced");
	}
	if (gw->n_sessions + 1 > gw->table_size / 2 && table_grow(gw) < 0)
		return NULL;

	struct ogw_session *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->gw = gw;
	snprintf(s->id, sizeof(s->id), "%s", id);
	leg_init(s, &s->south, OGW_SOUTH, ver);
	leg_init(s, &s->north, OGW_NORTH, ver);
	s->south.wsi = south_wsi;
	s->south.state = OGW_LEG_UP;
	s->tr = ogw_translator_find(ver, ver);
	s->tr_ctx = (struct ogw_tr_ctx){ s->id, ver, ver };
	if (south_auth && gw->conf.csms_pass_credentials)
		s->south_auth = strdup(south_auth);
	s->connected_at = time(NULL);

	size_t b = id_hash(s->id) & (gw->table_size - 1);
	s->hnext = gw->table[b];
	gw->table[b] = s;
	gw->n_sessions++;

	struct ogw_log_ctx lc = { s->id, "south", NULL, NULL };
	ogw_info(&lc, "charger connected, OCPP %s", ogw_ocpp_name(ver));
	ogw_north_connect(s);
	return s;
}

static void session_free(struct ogw_session *s)
{
	struct ogw_log_ctx lc = { s->id, NULL, NULL, NULL };
	ogw_debug(&lc, "session freed");
	lws_sul_cancel(&s->sul_reconnect);
	wq_clear(&s->south);
	wq_clear(&s->north);
	free(s->south.rx);
	free(s->north.rx);
	if (s->south_auth) {
		ogw_memzero(s->south_auth, strlen(s->south_auth));
		free(s->south_auth);
	}
	s->gw->n_sessions--;
	free(s);
}

static void maybe_free(struct ogw_session *s)
{
	if (s->state == OGW_SESSION_CLOSING && !s->south.wsi && !s->north.wsi)
		session_free(s);
}

void ogw_session_close(struct ogw_session *s, enum lws_close_status status, const char *why)
{
	if (s->state == OGW_SESSION_CLOSING)
		return;
	struct ogw_log_ctx lc = { s->id, NULL, NULL, NULL };
	ogw_info(&lc, "closing session: %s", why);
	s->state = OGW_SESSION_CLOSING;
	table_remove(s);
	lws_sul_cancel(&s->sul_reconnect);
	/* Calls still waiting on either leg get their CALLERROR before the
	 * close frames, so no peer is left waiting on a reply. */
	leg_fail_calls(&s->south);
	leg_fail_calls(&s->north);
	leg_request_close(&s->south, status);
	if (s->north.state == OGW_LEG_CONNECTING && s->north.wsi) {
		/* No frames can be flushed before the handshake ends. */
		lws_set_timeout(s->north.wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
	} else {
		leg_request_close(&s->north, status == LWS_CLOSE_STATUS_GOINGAWAY ?
					     LWS_CLOSE_STATUS_GOINGAWAY : LWS_CLOSE_STATUS_NORMAL);
	}
	maybe_free(s);
}

void ogw_session_leg_gone(struct ogw_leg *l)
{
	struct ogw_session *s = l->s;
	l->wsi = NULL;
	wq_clear(l);
	leg_set_state(l, OGW_LEG_DOWN);
	if (l->kind == OGW_SOUTH) {
		struct ogw_log_ctx lc = { s->id, "south", NULL, NULL };
		ogw_info(&lc, "charger disconnected");
		/* May free the session: nothing touches it after this. */
		ogw_session_close(s, LWS_CLOSE_STATUS_NORMAL, "charger disconnected");
		return;
	}
	if (s->state == OGW_SESSION_ACTIVE)
		ogw_session_north_failed(s, "connection closed");
	else
		maybe_free(s);
}

void ogw_session_north_up(struct ogw_session *s)
{
	s->reconnects = 0;
	leg_set_state(&s->north, OGW_LEG_UP);
	leg_kick(&s->north);
}

static void reconnect_cb(lws_sorted_usec_list_t *sul)
{
	struct ogw_session *s = lws_container_of(sul, struct ogw_session, sul_reconnect);
	if (s->state == OGW_SESSION_ACTIVE && !s->north.wsi)
		ogw_north_connect(s);
}

/* The north leg is gone or could not be opened: whatever waited for it is
 * answered now, and a reconnect is scheduled with exponential backoff and
 * jitter (a fleet must not reconnect in lockstep after a CSMS outage). */
void ogw_session_north_failed(struct ogw_session *s, const char *why)
{
	struct ogw_gateway *gw = s->gw;
	struct ogw_log_ctx lc = { s->id, "north", NULL, NULL };

	leg_set_state(&s->north, OGW_LEG_DOWN);
	leg_fail_calls(&s->north);
	if (s->state != OGW_SESSION_ACTIVE || gw->stopping)
		return;
	uint64_t delay = (uint64_t)gw->conf.reconnect_min_ms;
	for (unsigned int i = 0; i < s->reconnects && delay < (uint64_t)gw->conf.reconnect_max_ms;
	     i++)
		delay *= 2;
	if (delay > (uint64_t)gw->conf.reconnect_max_ms)
		delay = (uint64_t)gw->conf.reconnect_max_ms;
	uint16_t r = 0;
	ogw_random_bytes(&r, sizeof(r));
	delay = delay / 2 + (delay / 2) * r / 65535;
	s->reconnects++;
	ogw_info(&lc, "upstream %s; reconnecting in %llu ms", why, (unsigned long long)delay);
	lws_sul_schedule(gw->ctx, 0, &s->sul_reconnect, reconnect_cb, (lws_usec_t)delay * 1000);
}

/* Closes every session, or with @only_idle those with no call in flight
 * (used while stopping, so no reply in flight is lost). */
void ogw_session_close_all(struct ogw_gateway *gw, enum lws_close_status status, bool only_idle)
{
	for (size_t i = 0; i < gw->table_size; i++) {
		struct ogw_session *s = gw->table[i], *next;
		for (; s; s = next) {
			next = s->hnext;
			if (only_idle && (ogw_tracker_count(&s->north.out) ||
					  ogw_tracker_count(&s->south.out)))
				continue;
			ogw_session_close(s, status, gw->stopping ? "gateway stopping" : "closed");
		}
	}
}
