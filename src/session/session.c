/* SPDX-License-Identifier: MIT */
/*
 * A charger session: its south leg, one north leg per CSMS, and the
 * pipeline every frame takes between them (decode -> validate -> stages ->
 * translate -> encode -> the leg it goes to). Each leg is an endpoint with
 * its own call tracker and its own message ids; each north leg has its own
 * version and translator. Frames leave through the leg's transport (struct
 * ogw_leg_transport: src/transport/ws.c for WebSocket legs, north_mqtt.c
 * for the MQTT uplink); features join through the stages (stage.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libwebsockets.h>

#include "ocppgw/log.h"
#include "ocppgw/loop.h"
#include "ocppgw/util.h"
#include "session/session.h"

static const char *const leg_names[] = { [OGW_SOUTH] = "south", [OGW_NORTH] = "north" };
static const char *const leg_state_names[] = {
	[OGW_LEG_DOWN] = "down",
	[OGW_LEG_CONNECTING] = "connecting",
	[OGW_LEG_UP] = "up",
	[OGW_LEG_CLOSING] = "closing",
};

/* The translator between the south leg and north leg, @a and @b in either
 * order; NULL when both speak the same version. */
static inline const struct ogw_translator *pair_tr(const struct ogw_leg *a,
						   const struct ogw_leg *b)
{
	return ogw_leg_north(a->kind == OGW_NORTH ? a : b)->tr;
}

/* ---- translator environments: the primary's (s->env) and each
 * secondary's (struct ogw_secondary) ---------------------------------------- */

static const struct ogw_tr_env_ops secondary_env_ops;

/* The secondary @env belongs to, or NULL for the primary's (s->env). */
static struct ogw_secondary *env_secondary(struct ogw_tr_env *env)
{
	return env->ops == &secondary_env_ops ? lws_container_of(env, struct ogw_secondary, env) :
						NULL;
}

static struct ogw_session *env_s(struct ogw_tr_env *env)
{
	struct ogw_secondary *sec = env_secondary(env);
	return sec ? sec->s : ogw_env_session(env);
}

/* The north leg of secondary @sec. */
static struct ogw_leg *secondary_leg(const struct ogw_secondary *sec)
{
	const struct ogw_secondary *first =
		(const struct ogw_secondary *)(sec->s->north + sec->s->n_north);
	return &sec->s->north[1 + (sec - first)].leg;
}

/* The north leg of the pair @env serves. */
static struct ogw_leg *env_north(struct ogw_tr_env *env)
{
	struct ogw_secondary *sec = env_secondary(env);
	return sec ? secondary_leg(sec) : ogw_session_primary(ogw_env_session(env));
}

/* The translator of the pair @env serves (NULL: the same version). */
static const struct ogw_translator *env_tr(struct ogw_tr_env *env)
{
	return ogw_leg_north(env_north(env))->tr;
}

/* The environment of the pair of north leg @n. */
static struct ogw_tr_env *north_env(struct ogw_leg *n)
{
	struct ogw_secondary *sec = ogw_leg_secondary(n);
	return sec ? &sec->env : &n->s->env;
}

/* The environment of the pair of legs @a and @b, either order. */
static struct ogw_tr_env *pair_env(struct ogw_leg *a, struct ogw_leg *b)
{
	return north_env(a->kind == OGW_NORTH ? a : b);
}

static inline struct ogw_log_ctx leg_ctx(const struct ogw_leg *l, const char *action,
					 const char *msg_id)
{
	const struct ogw_secondary *sec = ogw_leg_secondary(l);
	return (struct ogw_log_ctx){ l->s->id, sec ? sec->leg_name : leg_names[l->kind], action,
				     msg_id };
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
	if (st == OGW_LEG_UP)
		l->rx_refused = false; /* a new connection: its messages are read */
}

/* ---- the stages (src/session/stage.h) ------------------------------------ */

/* Each stage's hook, in pipeline order. */
#define FOR_STAGES(gw, st, hook) \
	for (size_t i_ = 0; i_ < (gw)->pipeline.n; i_++) \
		for (const struct ogw_stage *st = (gw)->pipeline.stage[i_]; st && st->hook; st = NULL)

int ogw_pipeline_add(struct ogw_pipeline *p, const struct ogw_stage *st)
{
	if (p->n >= OGW_STAGES_MAX)
		return -ENOSPC;
	size_t a = OGW_STAGE_STATE_ALIGN;
	p->state_off[p->n] = p->state_size;
	p->state_size += (st->state_size + a - 1) / a * a;
	p->stage[p->n++] = st;
	return 0;
}

bool ogw_session_standalone(const struct ogw_session *s)
{
	return !s->gw->conf.csms_url;
}

/* A frame counted on @l (for metrics). */
static void tell_frame(struct ogw_leg *l, enum ogw_frame_event_kind kind, int dir,
		       enum ogw_msg_type type, const char *action, const char *err_code)
{
	struct ogw_frame_event ev = { kind, dir, type, action, err_code, l->call_sent_us };
	FOR_STAGES(l->s->gw, st, on_frame)
		st->on_frame(l, &ev);
}

/* A validated frame of the south leg, to every observer. */
static void secondaries_start_answered(struct ogw_session *s, const json_t *res);

static void observe(struct ogw_session *s, enum ogw_obs what, const char *action,
		    const json_t *payload)
{
	if (!payload)
		return;
	if (s->n_north > 1 && what == OGW_OBS_UP_RESULT && s->south.ver == OGW_OCPP16 &&
	    !strcmp(action, "StartTransaction"))
		secondaries_start_answered(s, payload);
	FOR_STAGES(s->gw, st, observe)
		st->observe(s, what, action, payload);
}

/* Leg @l went up or down; true when a stage keeps the session (south down). */
static bool tell_leg(struct ogw_leg *l, enum ogw_leg_event ev)
{
	bool kept = false;
	FOR_STAGES(l->s->gw, st, on_leg)
		kept |= st->on_leg(l, ev);
	return kept;
}

/* ---- session table ------------------------------------------------------ */

static void session_free(struct ogw_session *s);

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

void ogw_leg_close(struct ogw_leg *l, enum lws_close_status status)
{
	if (l->state == OGW_LEG_CLOSING || (l->tp->websocket && !l->wsi))
		return;
	l->close_status = status;
	leg_set_state(l, OGW_LEG_CLOSING);
	if (!l->tp->close(l))
		leg_set_state(l, OGW_LEG_DOWN);
}

static void leg_drop_queue(struct ogw_leg *l)
{
	if (l->tp && l->tp->drop_queue)
		l->tp->drop_queue(l);
}

/* Takes ownership of @buf (from an rpc encoder with OGW_LEG_HEADROOM). */
static void leg_send_take(struct ogw_leg *l, char *buf, size_t len)
{
	if (!buf) {
		struct ogw_log_ctx lc = leg_ctx(l, NULL, NULL);
		ogw_err(&lc, "Failed to encode a frame: out of memory");
		return;
	}
	if (l->state != OGW_LEG_UP) {
		free(buf);
		return;
	}
	l->tp->send_take(l, buf, buf + OGW_LEG_HEADROOM, len);
}

/* ---- answering ---------------------------------------------------------- */

/* A stage keeps back the answer to the charger's CALL @id (split by token
 * "ask": the charger gets the answer of the CSMS that owns the token,
 * known once they answered): CALLRESULT @res, or CALLERROR @code/@desc. */
static bool answer_held(struct ogw_leg *l, const char *id, const json_t *res, const char *code,
			const char *desc)
{
	if (l->kind != OGW_SOUTH || l->s->n_north < 2)
		return false;
	FOR_STAGES(l->s->gw, st, hold_answer)
		if (st->hold_answer(l, id, res, code, desc))
			return true;
	return false;
}

/* The answer to @action, the CALL @id that came in on @l. */
static void send_result(struct ogw_leg *l, const char *action, const char *id,
			const json_t *payload)
{
	if (!id[0])
		return; /* a call the gateway injected: nobody waits for the answer */
	if (answer_held(l, id, payload, NULL, NULL))
		return;
	if (l->kind == OGW_SOUTH)
		observe(l->s, OGW_OBS_UP_RESULT, action, payload);
	tell_frame(l, OGW_FRAME_SEEN, 1, OGW_MSG_CALLRESULT, action, NULL);
	struct ogw_log_ctx lc = leg_ctx(l, action, id);
	ogw_debug(&lc, "-> CALLRESULT");
	size_t len;
	char *buf = ogw_rpc_encode_result(OGW_LEG_HEADROOM, id, payload, &len);
	leg_send_take(l, buf, len);
}

static void send_error(struct ogw_leg *l, enum ogw_msg_type type, const char *id,
		       enum ogw_err err, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void send_error(struct ogw_leg *l, enum ogw_msg_type type, const char *id,
		       enum ogw_err err, const char *fmt, ...)
{
	char desc[256];
	va_list ap;
	if (!id[0])
		return;
	va_start(ap, fmt);
	vsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);
	if (type == OGW_MSG_CALLERROR && answer_held(l, id, NULL, ogw_err_code(err, l->ver), desc))
		return;
	tell_frame(l, OGW_FRAME_SEEN, 1, type, NULL, ogw_err_code(err, l->ver));
	size_t len;
	char *buf = ogw_rpc_encode_error(OGW_LEG_HEADROOM, type, id, ogw_err_code(err, l->ver), desc,
					 NULL, &len);
	leg_send_take(l, buf, len);
}

void ogw_leg_send_result(struct ogw_leg *l, const char *action, const char *id,
			 const json_t *payload)
{
	send_result(l, action, id, payload);
}

void ogw_leg_send_error(struct ogw_leg *l, const char *id, enum ogw_err err, const char *fmt, ...)
{
	char desc[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);
	send_error(l, OGW_MSG_CALLERROR, id, err, "%s", desc);
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
	l->call_sent_us = ogw_now_us();
	tell_frame(l, OGW_FRAME_SEEN, 1, c->type, c->action, NULL);
	struct ogw_log_ctx lc = leg_ctx(l, c->action, c->id);
	ogw_debug(&lc, "-> CALL (from %s id %s)",
		  leg_names[l->kind == OGW_SOUTH ? OGW_NORTH : OGW_SOUTH],
		  c->origin_id[0] ? c->origin_id : "gateway");
	size_t len;
	char *buf = c->rest ? ogw_rpc_reframe(OGW_LEG_HEADROOM, OGW_MSG_CALL, c->id, c->rest,
					      c->rest_len, &len) :
			      ogw_rpc_encode_call(OGW_LEG_HEADROOM, OGW_MSG_CALL, c->id, c->action,
						  c->payload, &len);
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

/* The shim of translator @t when it sits on @l (that leg speaks a
 * neighbour of the tables' version), else NULL. */
static const struct ogw_tr_shim *leg_shim(const struct ogw_leg *l, const struct ogw_translator *t)
{
	if (!t || !t->shim)
		return NULL;
	return (t->shim->leg == OGW_TR_UP) == (l->kind == OGW_NORTH) ? t->shim : NULL;
}

/*
 * A payload crossing the shim of translator @t on @l: going out on @l
 * (@to_leg) or coming in from it. Takes @in; returns a new reference, or
 * NULL with *err and @desc set (and *ret_nodata when nothing was left to
 * send). Without a shim on @l, @in comes back as it is.
 */
static json_t *shim_pass(struct ogw_leg *l, const struct ogw_translator *t, const char *action,
			 bool response, bool to_leg, json_t *in, enum ogw_err *err, char *desc,
			 size_t desclen, bool *ret_nodata)
{
	const struct ogw_tr_shim *sh = leg_shim(l, t);
	json_t *out = NULL;

	if (ret_nodata)
		*ret_nodata = false;
	if (!sh || !in)
		return in;
	int r = sh->adapt(action, response, to_leg, in, &out, err, desc, desclen);
	json_decref(in);
	if (r < 0) {
		if (ret_nodata)
			*ret_nodata = r == -ENODATA;
		struct ogw_log_ctx lc = leg_ctx(l, action, NULL);
		ogw_info(&lc, "not representable in OCPP %s: %s", ogw_ocpp_name(l->ver), desc);
		return NULL;
	}
	return out;
}

static void relay_done(struct ogw_call *c, const struct ogw_frame *answer);

/*
 * What a translator produced must be valid in the version it goes out in;
 * if not, that is a gateway bug, logged here, and the frame never leaves.
 */
bool ogw_payload_valid(struct ogw_leg *l, const char *action, bool response,
		       const json_t *payload, const char *what)
{
	const struct ogw_schema *sch = ogw_schema_get(l->s->gw->schemas[l->ver], action, response);
	struct ogw_schema_fault fault;
	if (!sch) {
		struct ogw_log_ctx lc = leg_ctx(l, action, NULL);
		ogw_err(&lc, "%s: %s is not an OCPP %s action", what, action, ogw_ocpp_name(l->ver));
		return false;
	}
	if (ogw_schema_validate(sch, payload, &fault) == 0)
		return true;
	tell_frame(l, OGW_FRAME_INVALID, 1, OGW_MSG_CALL, action, NULL);
	struct ogw_log_ctx lc = leg_ctx(l, action, NULL);
	ogw_err(&lc, "%s is invalid in OCPP %s: %s", what, ogw_ocpp_name(l->ver), fault.desc);
	return false;
}

/* Queues @payload (a new reference, taken) as a CALL on @l relaying the
 * call @origin_id of leg @from (NULL and "": the gateway's own). 0, or
 * -ENOBUFS when the leg's queue is full. */
static int leg_call_take(struct ogw_leg *l, const char *action, json_t *payload,
			 struct ogw_leg *from, const char *origin_id, ogw_call_done_fn done,
			 const void *ctx, json_t *memo, char *rest, size_t rest_len)
{
	struct ogw_gateway *gw = l->s->gw;
	if (l->kind == OGW_SOUTH)
		observe(l->s, OGW_OBS_DOWN_CALL, action, payload);
	struct ogw_call *c = ogw_call_new(action, payload,
					  ogw_now_us() + (uint64_t)gw->conf.response_timeout_ms * 1000);
	if (!c) {
		json_decref(memo);
		free(rest);
		return -ENOMEM;
	}
	snprintf(c->origin_id, sizeof(c->origin_id), "%s", origin_id);
	c->done = done;
	c->user = l;
	c->origin = from;
	c->ctx = ctx;
	c->memo = memo;
	c->rest = rest;
	c->rest_len = rest ? rest_len : 0;
	bool keep = false;
	if (rest && l->kind == OGW_SOUTH)
		FOR_STAGES(gw, st, needs_request)
			keep |= st->needs_request(action, c->payload);
	if (rest && !keep) {
		/* The bytes go out as they came; the tree is not needed any more
		 * (but by a stage that reads the request with its answer). */
		json_decref(c->payload);
		c->payload = NULL;
	}
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

/* Relayed call @c was answered with @res: every stage records it; the
 * first replacement of the answer (a new reference) wins, or NULL. */
static json_t *answered(struct ogw_call *c, const json_t *res)
{
	struct ogw_leg *l = c->user;
	json_t *replaced = NULL;
	FOR_STAGES(l->s->gw, st, on_answer) {
		json_t *r = st->on_answer(c, res);
		if (r && !replaced)
			replaced = r;
		else
			json_decref(r);
	}
	return replaced;
}

/* Relayed call @c went down with its leg: true when a stage answered for it. */
static bool salvaged(struct ogw_call *c)
{
	struct ogw_leg *l = c->user;
	FOR_STAGES(l->s->gw, st, on_lost)
		if (st->on_lost(c))
			return true;
	return false;
}

/* An answer (or none: timeout, leg lost) to a call we relayed on c->user's
 * leg; it goes back to the leg the call came from (c->origin), in that
 * leg's version. */
static void secondary_answered(struct ogw_call *c, const struct ogw_frame *answer);
static void secondary_replay(struct ogw_secondary *sec);
static bool owner_salvaged(struct ogw_call *c);

static void relay_answer(struct ogw_call *c, const struct ogw_frame *answer)
{
	struct ogw_leg *l = c->user;
	struct ogw_leg *back = c->origin;
	struct ogw_session *s = l->s;
	const struct ogw_translator *pair = pair_tr(l, back);
	const char *peer = l->kind == OGW_NORTH ? "CSMS" : "charger";

	if (back->in_pending)
		back->in_pending--;
	if (ogw_leg_secondary(l) && !c->origin_id[0]) {
		/* The charger's CALL as a secondary saw it: recorded only. */
		secondary_answered(c, answer);
		return;
	}
	if (!c->origin_id[0]) {
		/* A call the gateway injected in the CSMS's place: no one waits. */
		if (answer && answer->type == OGW_MSG_CALLRESULT)
			json_decref(answered(c, answer->payload));
		return;
	}
	if (!answer) {
		struct ogw_log_ctx lc = leg_ctx(l, c->action, c->id[0] ? c->id : NULL);
		if (c->deadline_us <= ogw_now_us()) {
			ogw_warn(&lc, "no answer within %d ms", s->gw->conf.response_timeout_ms);
			send_error(back, OGW_MSG_CALLERROR, c->origin_id, OGW_ERR_INTERNAL,
				   "%s did not answer %s within %d s", peer, c->action,
				   (s->gw->conf.response_timeout_ms + 999) / 1000);
		} else if (ogw_leg_secondary(l) ? !owner_salvaged(c) : !salvaged(c)) {
			/* the stages serve the primary; a secondary's is the session's */
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
		if (answer_held(back, c->origin_id, NULL, code, answer->err_desc))
			return;
		tell_frame(back, OGW_FRAME_SEEN, 1, OGW_MSG_CALLERROR, c->action, code);
		size_t len;
		char *buf = ogw_rpc_encode_error(OGW_LEG_HEADROOM, OGW_MSG_CALLERROR, c->origin_id, code,
						 answer->err_desc, answer->payload, &len);
		leg_send_take(back, buf, len);
		return;
	}

	const struct ogw_schema *sch = ogw_schema_get(s->gw->schemas[l->ver], c->action, true);
	struct ogw_schema_fault fault;
	if (sch && ogw_schema_validate(sch, answer->payload, &fault) < 0) {
		struct ogw_log_ctx lc = leg_ctx(l, c->action, answer->id);
		ogw_warn(&lc, "invalid CALLRESULT from %s: %s", peer, fault.desc);
		tell_frame(l, OGW_FRAME_INVALID, 0, OGW_MSG_CALLRESULT, c->action, NULL);
		send_error(back, OGW_MSG_CALLERROR, c->origin_id, OGW_ERR_INTERNAL,
			   "%s sent an invalid %s response: %s", peer, c->action, fault.desc);
		if (l->ver == OGW_OCPP21)
			send_error(l, OGW_MSG_CALLRESULTERROR, answer->id, fault.err, "%s",
				   fault.desc);
		return;
	}

	const struct ogw_tr_action *entry = c->ctx;
	/* The stages serve the primary: a secondary's exchanges pass them by. */
	json_t *replaced = ogw_leg_secondary(back) || ogw_leg_secondary(l) ?
				   NULL : answered(c, answer->payload);
	if (replaced) {
		send_result(back, c->action, c->origin_id, replaced);
		json_decref(replaced);
		return;
	}
	if (!entry || !entry->result) {
		if (answer->rest) {
			if (answer_held(back, c->origin_id, answer->payload, NULL, NULL))
				return;
			if (back->kind == OGW_SOUTH)
				observe(s, OGW_OBS_UP_RESULT, c->action, answer->payload);
			tell_frame(back, OGW_FRAME_SEEN, 1, OGW_MSG_CALLRESULT, c->action, NULL);
			struct ogw_log_ctx blc = leg_ctx(back, c->action, c->origin_id);
			ogw_debug(&blc, "-> CALLRESULT (answer from %s id %s)", leg_names[l->kind],
				  answer->id);
			size_t len = 0;
			char *buf = ogw_rpc_reframe(OGW_LEG_HEADROOM, OGW_MSG_CALLRESULT, c->origin_id,
						    answer->rest, answer->rest_len, &len);
			leg_send_take(back, buf, len);
		} else {
			send_result(back, c->action, c->origin_id, answer->payload);
		}
		return;
	}
	enum ogw_err serr = OGW_ERR_INTERNAL;
	char sdesc[200];
	json_t *res = shim_pass(l, pair, c->action, true, false, json_incref(answer->payload), &serr,
				sdesc, sizeof(sdesc), NULL);
	if (!res) {
		send_error(back, OGW_MSG_CALLERROR, c->origin_id, serr, "%s", sdesc);
		return;
	}
	json_t *out = NULL;
	int tr = entry->result(pair_env(l, back), c->memo, res, &out);
	json_decref(res);
	if (tr == 0 && out)
		out = shim_pass(back, pair, entry->action, true, true, out, &serr, sdesc,
				sizeof(sdesc), NULL);
	if (tr < 0 || !out) {
		struct ogw_log_ctx lc = leg_ctx(l, c->action, answer->id);
		ogw_err(&lc, "Failed to translate the %s response", c->action);
		send_error(back, OGW_MSG_CALLERROR, c->origin_id, OGW_ERR_INTERNAL,
			   "cannot translate the %s response", c->action);
		json_decref(out);
		return;
	}
	if (!ogw_payload_valid(back, entry->action, true, out, "translated response")) {
		send_error(back, OGW_MSG_CALLERROR, c->origin_id, OGW_ERR_INTERNAL,
			   "the %s response has no valid form in OCPP %s", entry->action,
			   ogw_ocpp_name(back->ver));
	} else {
		send_result(back, entry->action, c->origin_id, out);
	}
	json_decref(out);
}

/* A secondary's answer to the charger's CALL it owns (rule 4), the one
 * the charger got: counted as the answers to its copies are. */
static void owner_answered(struct ogw_secondary *sec, const struct ogw_call *c,
			   const struct ogw_frame *answer)
{
	struct ogw_leg *l = c->user;
	const struct ogw_schema *sch;
	struct ogw_schema_fault fault;
	if (!answer)
		sec->unanswered++;
	else if (answer->type == OGW_MSG_CALLERROR ||
		 ((sch = ogw_schema_get(l->s->gw->schemas[l->ver], c->action, true)) &&
		  ogw_schema_validate(sch, answer->payload, &fault) < 0))
		sec->errors++;
	else
		sec->answered++;
}

/* A CALL of the charger's in flight to the secondary that owns it. */
struct ogw_owned_call {
	char id[OGW_MSGID_MAX + 1];        /* the charger's */
	char action[OGW_ACTION_MAX + 1];   /* the charger's */
	json_t *payload;                   /* as the charger sent it */
};

static void owned_call_free(struct ogw_secondary *sec)
{
	if (sec->owned)
		json_decref(sec->owned->payload);
	free(sec->owned);
	sec->owned = NULL;
}

static void relay_done(struct ogw_call *c, const struct ogw_frame *answer)
{
	struct ogw_secondary *sec = ogw_leg_secondary(c->user);
	relay_answer(c, answer);
	if (!sec || !c->origin_id[0])
		return;
	if (sec->owned && !strcmp(sec->owned->id, c->origin_id))
		owned_call_free(sec);
	owner_answered(sec, c, answer);
	/* its queue waited for this answer (one CALL at a time) */
	secondary_replay(sec);
}

/* ---- receiving ---------------------------------------------------------- */

int ogw_leg_call(struct ogw_leg *l, const char *action, json_t *payload, ogw_call_done_fn done,
		 const void *ctx, json_t *memo)
{
	return leg_call_take(l, action, payload, NULL, "", done, ctx, memo, NULL, 0);
}

void ogw_session_withdraw(struct ogw_session *s)
{
	if (s->south.tp->withdraw)
		s->south.tp->withdraw(&s->south);
}

void ogw_session_answer_as_csms(struct ogw_session *s, const char *action, const char *origin_id,
				const struct ogw_tr_action *entry, json_t *memo,
				const json_t *result)
{
	struct ogw_call c;
	memset(&c, 0, sizeof(c));
	snprintf(c.action, sizeof(c.action), "%s", action);
	snprintf(c.origin_id, sizeof(c.origin_id), "%s", origin_id);
	c.user = ogw_session_primary(s);
	c.origin = &s->south;
	c.ctx = entry;
	c.memo = memo;
	c.deadline_us = UINT64_MAX;
	struct ogw_frame answer = { .type = OGW_MSG_CALLRESULT, .payload = (json_t *)result };
	s->south.in_pending++;
	relay_done(&c, &answer);
	json_decref(memo);
}

/* Sends @payload (taken) on to leg @to as the relay of CALL @f from @l. */
static void forward(struct ogw_leg *l, struct ogw_leg *to, const struct ogw_frame *f,
		    const char *action, json_t *payload, const struct ogw_tr_action *entry,
		    json_t *memo)
{
	struct ogw_session *s = l->s;

	/* A rewritten id: the tree goes out, not the received bytes. */
	bool mapped = false;
	/* The stages serve the primary: a secondary's exchanges pass them by. */
	bool primary = !ogw_leg_secondary(l) && !ogw_leg_secondary(to);
	FOR_STAGES(s->gw, st, on_relay) {
		if (!primary)
			break;
		enum ogw_stage_verdict v = st->on_relay(l, to, f, action, payload, entry, memo);
		if (v == OGW_STAGE_DONE)
			return;
		mapped |= v == OGW_STAGE_CHANGED;
	}
	if (f->type == OGW_MSG_SEND) {
		/* OCPP 2.1 SEND: unconfirmed, never tracked, may pass calls in flight. */
		size_t len;
		char id[OGW_MSGID_MAX + 1];
		ogw_rpc_new_id(id);
		char *buf = ogw_rpc_encode_call(OGW_LEG_HEADROOM, OGW_MSG_SEND, id, action, payload, &len);
		json_decref(payload);
		json_decref(memo);
		if (to->state == OGW_LEG_UP)
			leg_send_take(to, buf, len);
		else
			free(buf);
		return;
	}
	char *rest = NULL;
	if (!entry && f->rest && !mapped) {
		/* Relayed unchanged: keep the bytes, not the tree. */
		rest = malloc(f->rest_len);
		if (rest)
			memcpy(rest, f->rest, f->rest_len);
	}
	int r = leg_call_take(to, action, payload, l, f->id, relay_done, entry, memo, rest,
			      f->rest_len);
	if (r == -ENOBUFS) {
		struct ogw_log_ctx lc = leg_ctx(l, f->action, f->id);
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

/* A CALL from @l to @to between versions: the pair's translator entry
 * decides what becomes of it. */
static void translate_call(struct ogw_leg *l, struct ogw_leg *to, const struct ogw_frame *f)
{
	struct ogw_session *s = l->s;
	const struct ogw_translator *tr = pair_tr(l, to);
	enum ogw_tr_dir dir = l->kind == OGW_SOUTH ? OGW_TR_UP : OGW_TR_DOWN;
	const struct ogw_tr_action *entry = ogw_translator_action(tr, dir, f->action);
	struct ogw_log_ctx lc = leg_ctx(l, f->action, f->id);

	/* An action only a shimmed leg's version has never crosses the adapter:
	 * the shim's edge table answers it in that version. */
	const struct ogw_tr_shim *sh = leg_shim(l, tr);
	bool leg_only = sh && !ogw_schema_get(s->gw->schemas[sh->tables], f->action, false);
	if (leg_only)
		entry = ogw_translator_action(sh->edge, dir, f->action);
	if (!entry) {
		send_error(l, OGW_MSG_CALLERROR, f->id, OGW_ERR_NOT_SUPPORTED,
			   "%s has no counterpart in OCPP %s", f->action, ogw_ocpp_name(to->ver));
		return;
	}
	enum ogw_err serr = OGW_ERR_INTERNAL;
	char sdesc[200];
	bool nodata;
	json_t *in = leg_only ? json_incref(f->payload) :
		     shim_pass(l, tr, f->action, false, false, json_incref(f->payload), &serr,
			       sdesc, sizeof(sdesc), &nodata);
	if (!in) {
		send_error(l, OGW_MSG_CALLERROR, f->id, serr, "%s", sdesc);
		return;
	}
	struct ogw_tr_out out;
	memset(&out, 0, sizeof(out));
	s->cur_from = l;
	s->cur_frame = f;
	int r = entry->call(pair_env(l, to), in, &out);
	json_decref(in);
	s->cur_from = NULL;
	s->cur_frame = NULL;
	if (r < 0) {
		ogw_err(&lc, "Failed to translate: %s", strerror(-r));
		json_decref(out.payload);
		json_decref(out.memo);
		send_error(l, OGW_MSG_CALLERROR, f->id, OGW_ERR_INTERNAL,
			   "cannot translate %s to OCPP %s", f->action, ogw_ocpp_name(to->ver));
		return;
	}
	switch (out.outcome) {
	case OGW_TR_FORWARD:
		if (out.action && out.payload) {
			out.payload = shim_pass(to, tr, out.action, false, true, out.payload,
						&serr, sdesc, sizeof(sdesc), &nodata);
			if (!out.payload) {
				/* Nothing of it exists upstream: a notification is simply
				 * acknowledged, anything else refused. */
				json_decref(out.memo);
				json_t *no = nodata ? json_object() :
						       leg_shim(to, tr)->refusal(f->action);
				if (no && ogw_payload_valid(l, f->action, true, no, "local answer"))
					send_result(l, f->action, f->id, no);
				else
					send_error(l, OGW_MSG_CALLERROR, f->id, serr, "%s", sdesc);
				json_decref(no);
				return;
			}
		}
		if (!out.action || !out.payload ||
		    !ogw_payload_valid(to, out.action, false, out.payload, "translated call")) {
			json_decref(out.payload);
			json_decref(out.memo);
			send_error(l, OGW_MSG_CALLERROR, f->id, OGW_ERR_INTERNAL,
				   "%s has no valid form in OCPP %s", f->action,
				   ogw_ocpp_name(to->ver));
			return;
		}
		ogw_debug(&lc, "translated to %s %s", ogw_ocpp_name(to->ver), out.action);
		forward(l, to, f, out.action, out.payload, entry, out.memo);
		return;
	case OGW_TR_ANSWER:
		json_decref(out.memo);
		if (!leg_only)
			out.payload = shim_pass(l, tr, f->action, true, true, out.payload, &serr,
						sdesc, sizeof(sdesc), NULL);
		if (f->type == OGW_MSG_CALL && out.payload &&
		    ogw_payload_valid(l, f->action, true, out.payload, "local answer"))
			send_result(l, f->action, f->id, out.payload);
		else if (f->type == OGW_MSG_CALL)
			send_error(l, OGW_MSG_CALLERROR, f->id, OGW_ERR_INTERNAL,
				   "cannot answer %s", f->action);
		json_decref(out.payload);
		return;
	case OGW_TR_DEFER:
		json_decref(out.payload);
		json_decref(out.memo);
		return;
	case OGW_TR_ERROR:
		json_decref(out.payload);
		json_decref(out.memo);
		if (f->type == OGW_MSG_CALL)
			send_error(l, OGW_MSG_CALLERROR, f->id, out.err ? out.err : OGW_ERR_GENERIC,
				   "%s", out.desc[0] ? out.desc : "rejected by the gateway");
		return;
	}
}

/* A CALL from @from to @to, relayed as is or through the pair's translator. */
static void relay_call(struct ogw_leg *from, struct ogw_leg *to, struct ogw_frame *f)
{
	if (!pair_tr(from, to)) {
		json_incref(f->payload);
		forward(from, to, f, f->action, f->payload, NULL, NULL);
	} else {
		translate_call(from, to, f);
	}
}

/* ---- the secondaries (docs/MULTI_CSMS.md) ------------------------------- */

/* The 1.6 transactionId of StartTransaction answer @res, or -1. */
static int64_t start_id(const json_t *res)
{
	json_t *id = json_object_get(res, "transactionId");
	return json_is_integer(id) && json_integer_value(id) > 0 ? json_integer_value(id) : -1;
}

/* The 1.6 transaction the charger names @p is @x at @sec: a map
 * "txmap:<p>" in @sec's translator state, by which the charger's later
 * messages of it reach @sec with @sec's id (secondary_txid()). */
static void txmap_put(struct ogw_secondary *sec, int64_t p, int64_t x)
{
	char key[40];
	snprintf(key, sizeof(key), "txmap:%lld", (long long)p);
	ogw_tr_state_put(&sec->env, key, json_pack("{s:I}", "id", (json_int_t)x));
	struct ogw_log_ctx lc = { sec->s->id, sec->leg_name, "StartTransaction", NULL };
	ogw_info(&lc, "transaction %lld is %lld at this CSMS", (long long)p, (long long)x);
}

/* Pairs what is known of @sec's 1.6 starts: each start whose two ids are
 * known (the primary's, which the charger uses, and @sec's) is mapped. */
static void starts_pair(struct ogw_secondary *sec)
{
	while (sec->n_starts && sec->starts[0].p && sec->starts[0].x) {
		int64_t p = sec->starts[0].p, x = sec->starts[0].x;
		memmove(sec->starts, sec->starts + 1, --sec->n_starts * sizeof(sec->starts[0]));
		if (p > 0 && x > 0)
			txmap_put(sec, p, x);
	}
}

/* The key under which @sec's translator state keeps the id the gateway
 * gave a 1.6 start it answered for @sec, its owner, queued as row @seq. */
static void owned_start_key(char *key, size_t size, int64_t seq)
{
	snprintf(key, size, "ownstart:%lld", (long long)seq);
}

/* @sec answered (@delivered: it got it) the queued row @seq: if that was a
 * 1.6 start the gateway answered while @sec, its owner, was down, the id
 * @sec gave it (@res) is mapped to the one the charger uses. False when
 * @seq was no such start. */
static bool owned_start_answered(struct ogw_secondary *sec, int64_t seq, const json_t *res,
				 bool delivered)
{
	char key[40];
	owned_start_key(key, sizeof(key), seq);
	json_t *m = ogw_tr_state_get(&sec->env, key);
	json_t *local = json_object_get(m, "id");
	bool found = json_is_integer(local);
	int64_t x = res ? start_id(res) : -1;
	if (found && x > 0)
		txmap_put(sec, json_integer_value(local), x);
	if (found && delivered) /* else it is sent again, and answered again */
		ogw_tr_state_del(&sec->env, key);
	json_decref(m);
	return found;
}

/* A 1.6 StartTransaction goes to every CSMS: a slot for its two ids. */
static void starts_open(struct ogw_secondary *sec)
{
	if (sec->n_starts == OGW_SECONDARY_STARTS) /* never paired: forgotten */
		memmove(sec->starts, sec->starts + 1, --sec->n_starts * sizeof(sec->starts[0]));
	sec->starts[sec->n_starts].p = 0;
	sec->starts[sec->n_starts++].x = 0;
}

/* The charger got the primary's answer to its StartTransaction (the
 * newest open start: it sends one CALL at a time). */
static void secondaries_start_answered(struct ogw_session *s, const json_t *res)
{
	for (unsigned int i = 1; i < s->n_north; i++) {
		struct ogw_secondary *sec = ogw_leg_secondary(&s->north[i].leg);
		for (unsigned int k = sec->n_starts; k-- > 0;)
			if (!sec->starts[k].p) {
				sec->starts[k].p = start_id(res);
				break;
			}
		starts_pair(sec);
	}
}

/* The name of secondary @sec (its leg_name holds it: sec->conf may be a
 * reload's past). */
static const char *secondary_name(const struct ogw_secondary *sec)
{
	return sec->leg_name + strlen("north.");
}

/* What @sec would have answered the charger's CALL @action (@res in the
 * charger's version; NULL: nothing usable): recorded, never sent.
 * @delivered: the CSMS got the CALL (it answered, even with a CALLERROR). */
static void secondary_result(struct ogw_secondary *sec, const char *action, const json_t *res,
			     bool delivered)
{
	int64_t seq = sec->replay_seq;
	if (!delivered)
		sec->unanswered++;
	else if (res)
		sec->answered++; /* else a CALLERROR or an invalid answer: errors */
	if (seq) {
		/* the backlog sends one at a time: this is the answer to it */
		if (delivered)
			ogw_store_csms_queue_delete(sec->s->gw->store, seq);
		sec->replay_seq = 0;
	}
	if (sec->s->south.ver == OGW_OCPP16 && !strcmp(action, "StartTransaction") &&
	    !(seq && owned_start_answered(sec, seq, res, delivered))) {
		/* Its answers come in the order the starts went out. */
		for (unsigned int k = 0; k < sec->n_starts; k++)
			if (!sec->starts[k].x) {
				sec->starts[k].x = res ? start_id(res) : -1;
				break;
			}
		starts_pair(sec);
	}
	FOR_STAGES(sec->s->gw, st, on_secondary_answer)
		st->on_secondary_answer(secondary_leg(sec), action, res);
	secondary_replay(sec);
}

/* A secondary's answer (or none) to the charger's CALL @c: counted,
 * logged, run through its translator so its state follows, and dropped. */
static void secondary_answered(struct ogw_call *c, const struct ogw_frame *answer)
{
	struct ogw_leg *l = c->user;
	struct ogw_secondary *sec = ogw_leg_secondary(l);
	const struct ogw_tr_action *entry = c->ctx;
	struct ogw_log_ctx lc = leg_ctx(l, c->action, c->id[0] ? c->id : NULL);
	json_t *out = NULL;

	if (!answer) {
		ogw_info(&lc, "no answer from this CSMS: recorded");
	} else if (answer->type == OGW_MSG_CALLERROR) {
		sec->errors++;
		ogw_info(&lc, "CALLERROR %s from this CSMS: recorded, not forwarded",
			 answer->err_code);
	} else if (!ogw_payload_valid(l, c->action, true, answer->payload, "this CSMS's answer")) {
		sec->errors++;
	} else {
		ogw_info(&lc, "answer of this CSMS recorded, not forwarded");
		if (entry && entry->result) {
			enum ogw_err serr;
			char sdesc[200];
			json_t *res = shim_pass(l, ogw_leg_north(l)->tr, c->action, true, false,
						json_incref(answer->payload), &serr, sdesc,
						sizeof(sdesc), NULL);
			if (res && entry->result(&sec->env, c->memo, res, &out) < 0) {
				json_decref(out);
				out = NULL;
			}
			json_decref(res);
		} else {
			out = json_incref(answer->payload);
		}
	}
	secondary_result(sec, entry ? entry->action : c->action, out, answer != NULL);
	json_decref(out);
}

/* 1.6 @f as @sec must see it: a payload naming the transaction by the id
 * @sec gave it (a new reference), or NULL when @f goes as it is. */
static json_t *secondary_txid(struct ogw_secondary *sec, const struct ogw_frame *f)
{
	json_t *id = json_object_get(f->payload, "transactionId");
	if (sec->s->south.ver != OGW_OCPP16 || !json_is_integer(id))
		return NULL;
	char key[40];
	snprintf(key, sizeof(key), "txmap:%lld", (long long)json_integer_value(id));
	json_t *m = ogw_tr_state_get(&sec->env, key);
	json_t *x = json_object_get(m, "id");
	json_t *out = json_is_integer(x) ? json_deep_copy(f->payload) : NULL;
	if (out && json_object_set(out, "transactionId", x) < 0) {
		json_decref(out);
		out = NULL;
	}
	if (out && !strcmp(f->action, "StopTransaction"))
		ogw_tr_state_del(&sec->env, key);
	json_decref(m);
	return out;
}

/* The charger's CALL @f to the secondary on @to, in its version. Nobody
 * waits for the answer (an empty id: nothing of this leg's reaches the
 * charger); the payload is this leg's own, so a stage of the primary's
 * that rewrites ids in place does not touch it. */
static void fan_out(struct ogw_leg *from, struct ogw_leg *to, const struct ogw_frame *f)
{
	struct ogw_secondary *sec = ogw_leg_secondary(to);
	struct ogw_frame copy = *f;
	json_t *own = secondary_txid(sec, f);

	copy.id[0] = '\0';
	copy.root = NULL;
	if (!own && !f->rest)
		own = json_deep_copy(f->payload);
	if (own) {
		copy.payload = own;
		copy.rest = NULL;
	}
	if (copy.payload)
		relay_call(from, to, &copy);
	json_decref(own);
}

/* Whether the charger's CALL @f must reach a secondary even late: what
 * the primary's offline queue keeps (offline.queue). */
static bool secondary_keeps(const struct ogw_session *s, const struct ogw_frame *f)
{
	if (ogw_ocpp_is_tx_message(s->south.ver, f->action,
				   json_object_get(f->payload, "transactionId")))
		return true;
	return s->gw->conf.offline_queue_all && strcmp(f->action, "Heartbeat") &&
	       strcmp(f->action, "BootNotification");
}

/* The charger's CALL @f for secondary @to: sent now when its leg is up
 * with nothing waiting before it; queued for it (rule 5) when it must
 * arrive even late, or when the leg is up but messages wait before it;
 * while its leg is being opened, left to wait for the handshake in its
 * tracker (a charger's first BootNotification comes before any leg is
 * up); else (down, a message that need not arrive late) not delivered. */
static void secondary_send(struct ogw_leg *from, struct ogw_leg *to, const struct ogw_frame *f)
{
	struct ogw_secondary *sec = ogw_leg_secondary(to);
	struct ogw_session *s = from->s;
	/* One CALL at a time, as the charger sends them: the next waits for
	 * this CSMS's answer to the last (its translator may need it, e.g.
	 * the id it gave a transaction), which the charger did not wait for. */
	bool busy = ogw_tracker_count(&to->out) > 0;
	if (to->state == OGW_LEG_UP && !sec->backlog && !busy) {
		fan_out(from, to, f);
		return;
	}
	struct ogw_log_ctx lc = leg_ctx(to, f->action, NULL);
	const char *why = to->state != OGW_LEG_UP ? "it is down" :
			  sec->backlog ? "it is sent its queue" : "its answer to the last is awaited";
	if (f->type == OGW_MSG_CALL && !secondary_keeps(s, f) && to->state == OGW_LEG_CONNECTING) {
		fan_out(from, to, f);
		return;
	}
	/* Up, with messages before it: every CALL waits its turn, so the
	 * CSMS sees them in the charger's order. */
	bool keep = f->type == OGW_MSG_CALL &&
		    (secondary_keeps(s, f) || (to->state == OGW_LEG_UP && strcmp(f->action, "Heartbeat")));
	if (!keep) {
		sec->unanswered++;
		ogw_debug(&lc, "not delivered to this CSMS: %s", why);
		return;
	}
	int r = ogw_store_csms_queue_push(s->gw->store, s->id, secondary_name(sec), f->action,
					  f->payload, NULL);
	if (r < 0) {
		sec->unanswered++;
		ogw_err(&lc, "Failed to queue for this CSMS: %s", strerror(-r));
		return;
	}
	sec->backlog = true;
	sec->queued++;
	if (to->state == OGW_LEG_UP)
		ogw_debug(&lc, "queued for this CSMS: %s", why);
	else
		ogw_info(&lc, "queued for this CSMS: %s", why);
}

/*
 * The charger's CALL @f for secondary @to, the CSMS that owns its
 * transaction (rule 4), while @to cannot take it (down, or its queue holds
 * messages of the transactions it owns): answered by the gateway as the offline stage answers for
 * the primary (docs/OFFLINE.md: the same local answers, in the charger's
 * version: Authorize from the local list, the cache, local_list, then
 * offline.unknown_id; a 1.6 start gets a gateway-issued transactionId)
 * and, when it must arrive even late, queued for @to first (rule 5): the
 * answer never leaves before the message is in the store.
 */
static void owner_stands_in(struct ogw_leg *from, struct ogw_leg *to, const struct ogw_frame *f)
{
	struct ogw_secondary *sec = ogw_leg_secondary(to);
	struct ogw_session *s = from->s;
	struct ogw_log_ctx lc = leg_ctx(to, f->action, f->id);
	struct ogw_local_ctx lctx = { .store = s->gw->store, .conf = &s->gw->conf,
				      .charger = s->id, .ver = from->ver };
	enum ogw_err err = OGW_ERR_INTERNAL;
	char desc[200] = "no local answer";
	json_t *queued = NULL;
	json_t *ans = ogw_local_answer(&lctx, f->action, f->payload, &err, desc, sizeof(desc));

	if (ans && !ogw_payload_valid(from, f->action, true, ans, "local answer")) {
		json_decref(ans);
		ans = NULL;
		err = OGW_ERR_INTERNAL;
		snprintf(desc, sizeof(desc), "the gateway has no valid local answer to %s", f->action);
	}
	if (!ans) {
		send_error(from, OGW_MSG_CALLERROR, f->id, err, "%s", desc);
		return;
	}
	if (secondary_keeps(s, f)) {
		int64_t seq = 0;
		queued = json_deep_copy(f->payload);
		/* 2.x: the event happened while this CSMS could not be told */
		if (queued && from->ver != OGW_OCPP16 && !strcmp(f->action, "TransactionEvent") &&
		    to->state != OGW_LEG_UP)
			json_object_set_new(queued, "offline", json_true());
		int r = queued ? ogw_store_csms_queue_push(s->gw->store, s->id, secondary_name(sec),
							   f->action, queued, &seq) : -ENOMEM;
		json_t *local = json_object_get(ans, "transactionId");
		if (r == 0 && from->ver == OGW_OCPP16 && json_is_integer(local)) {
			char key[40];
			owned_start_key(key, sizeof(key), seq);
			r = ogw_tr_state_put(&sec->env, key, json_pack("{s:O}", "id", local));
		}
		json_decref(queued);
		if (r < 0) {
			ogw_err(&lc, "Failed to queue for this CSMS: %s; not acknowledged (the charger keeps it)",
				strerror(-r));
			send_error(from, OGW_MSG_CALLERROR, f->id, OGW_ERR_INTERNAL,
				   "the gateway cannot store %s (%s): not acknowledged, send it again",
				   f->action, r == -ENOSPC ? "store full" : strerror(-r));
			json_decref(ans);
			return;
		}
		sec->backlog = true;
		sec->owned_backlog = true;
		sec->queued++;
	}
	ogw_info(&lc, "owned by this CSMS, which %s: answered by the gateway%s",
		 to->state != OGW_LEG_UP ? "is down" : "is sent what waited for it",
		 queued ? ", queued for it" : "");
	send_result(from, f->action, f->id, ans);
	json_decref(ans);
}

/* The charger's CALL @f for secondary @to, the CSMS that owns its
 * transaction (rule 4), whose answer the charger gets: relayed when @to
 * can take it now (naming a 1.6 transaction by @to's own id), else
 * answered here and queued for @to (owner_stands_in()). */
static void owner_send(struct ogw_leg *from, struct ogw_leg *to, struct ogw_frame *f)
{
	struct ogw_secondary *sec = ogw_leg_secondary(to);
	/* the first attempt of its connection is worth waiting for, as the
	 * offline stage waits for the primary's. A transaction's message waits
	 * behind what was queued of owned transactions (their order is the
	 * owner's record); one that need not arrive late, or behind only the
	 * charger's other CALLs (queued while this CSMS answered slowly), goes
	 * now, and the owner answers it. */
	bool reachable = to->state == OGW_LEG_UP ||
			 (to->state == OGW_LEG_CONNECTING && ogw_leg_north(to)->reconnects == 0);
	if (!reachable || (sec->owned_backlog && secondary_keeps(from->s, f))) {
		owner_stands_in(from, to, f);
		return;
	}
	unsigned int before = ogw_tracker_count(&to->out);
	json_t *own = secondary_txid(sec, f);
	if (own) {
		struct ogw_frame copy = *f;
		copy.root = NULL;
		copy.payload = own;
		copy.rest = NULL;
		relay_call(from, to, &copy);
		json_decref(own);
	} else {
		relay_call(from, to, f);
	}
	/* on its way (not refused at once): kept as the charger sent it */
	if (ogw_tracker_count(&to->out) > before && !sec->owned &&
	    (sec->owned = calloc(1, sizeof(*sec->owned)))) {
		snprintf(sec->owned->id, sizeof(sec->owned->id), "%s", f->id);
		snprintf(sec->owned->action, sizeof(sec->owned->action), "%s", f->action);
		sec->owned->payload = json_incref(f->payload);
	}
}

/* The charger's CALL @c relayed to the secondary that owns it, lost with
 * its leg before an answer: answered here and queued for it, as one that
 * came while it was down (it may have got it: the replay may repeat it,
 * as the offline stage's may). False when its request is not known (a
 * second one in flight) or nobody waits any more. */
static bool owner_salvaged(struct ogw_call *c)
{
	struct ogw_leg *l = c->user;
	struct ogw_leg *back = c->origin;
	struct ogw_secondary *sec = ogw_leg_secondary(l);
	struct ogw_owned_call *oc = sec->owned;
	if (!oc || strcmp(oc->id, c->origin_id) || back->kind != OGW_SOUTH ||
	    back->state != OGW_LEG_UP || l->s->state != OGW_SESSION_ACTIVE || l->s->gw->stopping)
		return false;
	struct ogw_frame f = { .type = OGW_MSG_CALL, .action = oc->action, .payload = oc->payload };
	snprintf(f.id, sizeof(f.id), "%s", oc->id);
	struct ogw_log_ctx lc = leg_ctx(l, oc->action, oc->id);
	ogw_info(&lc, "this CSMS was lost with %s %s", oc->action,
		 c->id[0] ? "in flight (the replay may repeat it)" : "waiting");
	owner_stands_in(back, l, &f);
	return true;
}

/*
 * Split by token "ask" (rule 4): the charger's CALL @f (an Authorize) goes
 * to every CSMS now, to each secondary that is up past its queue (the
 * question cannot wait for a backlog: its tracker sends it after the call
 * in flight, within the call timeout), and to the primary. A secondary
 * that is not up, or that it could not go to, has refused it; the stages
 * hear each answer (on_secondary_answer, hold_answer).
 */
static void ask_every(struct ogw_leg *from, struct ogw_frame *f)
{
	struct ogw_session *s = from->s;
	for (unsigned int i = 1; i < s->n_north; i++) {
		struct ogw_leg *to = &s->north[i].leg;
		unsigned int before = ogw_tracker_count(&to->out);
		if (to->state == OGW_LEG_UP)
			fan_out(from, to, f);
		if (to->state != OGW_LEG_UP || ogw_tracker_count(&to->out) == before) {
			ogw_leg_secondary(to)->unanswered++;
			FOR_STAGES(s->gw, st, on_secondary_answer)
				st->on_secondary_answer(to, f->action, NULL);
		}
	}
	relay_call(from, ogw_session_primary(s), f);
}

/* Sends @sec's queue, oldest first, one message at a time, while its leg
 * is up. It waits for the leg's calls in flight (those sent while it was
 * opened), so the answer secondary_result() sees next is the queued
 * message's: each goes on from there (or from emitted_done()). */
static void secondary_replay(struct ogw_secondary *sec)
{
	struct ogw_leg *l = secondary_leg(sec);
	struct ogw_session *s = sec->s;
	if (sec->in_replay)
		return;
	sec->in_replay = true;
	while (sec->backlog && !sec->replay_seq && l->state == OGW_LEG_UP &&
	       s->state == OGW_SESSION_ACTIVE && !ogw_tracker_count(&l->out)) {
		struct ogw_log_ctx lc = leg_ctx(l, NULL, NULL);
		struct ogw_qmsg m;
		int r = ogw_store_csms_queue_next(s->gw->store, s->id, secondary_name(sec), &m);
		if (r == -ENOENT) {
			sec->backlog = false;
			sec->owned_backlog = false;
			break;
		}
		if (r < 0) {
			ogw_err(&lc, "Failed to read this CSMS's queue: %s", strerror(-r));
			break;
		}
		struct ogw_frame f = { .type = OGW_MSG_CALL, .action = m.action, .payload = m.payload };
		lc.action = m.action;
		ogw_info(&lc, "sent from this CSMS's queue (queued %lld s ago)",
			 (long long)(time(NULL) - m.queued_at_ms / 1000));
		sec->replay_seq = m.seq;
		fan_out(&s->south, l, &f);
		if (sec->replay_seq == m.seq && !ogw_tracker_count(&l->out)) {
			/* settled at once (its translator answered or refused it) */
			ogw_store_csms_queue_delete(s->gw->store, m.seq);
			sec->replay_seq = 0;
		}
		ogw_qmsg_clear(&m);
	}
	sec->in_replay = false;
}

/*
 * A charger's CALL goes to every CSMS (rule 1): to each secondary first,
 * as it came, then to the primary, whose answer (or the gateway's in its
 * place) the charger gets. A secondary down or slow delays nothing: its
 * copy waits on its own leg. Split by token (rule 4), a transaction's
 * message goes to the CSMS that owns it only (owner_send()), and an
 * Authorize "ask" routes to every CSMS at once (ask_every()).
 */
static void relay_up(struct ogw_leg *from, struct ogw_frame *f)
{
	struct ogw_session *s = from->s;
	int owner = -1;
	/* one CSMS: nothing to route, and no walk over the stages per frame */
	if (s->n_north > 1) {
		FOR_STAGES(s->gw, st, route) {
			if (owner == -1)
				owner = st->route(from, f);
		}
	}
	if (owner == OGW_ROUTE_ASK) {
		ask_every(from, f);
		return;
	}
	if (owner > 0 && (unsigned int)owner < s->n_north) {
		/* A transaction's message goes to the CSMS that owns it only
		 * (rule 4), which answers the charger. */
		owner_send(from, &s->north[owner].leg, f);
		return;
	}
	if (owner == 0) {
		relay_call(from, ogw_session_primary(s), f);
		return;
	}
	bool start = s->n_north > 1 && from->ver == OGW_OCPP16 && f->type == OGW_MSG_CALL &&
		     !strcmp(f->action, "StartTransaction");
	for (unsigned int i = 1; i < s->n_north; i++) {
		if (start)
			starts_open(ogw_leg_secondary(&s->north[i].leg));
		secondary_send(from, &s->north[i].leg, f);
	}
	relay_call(from, ogw_session_primary(s), f);
}

static void handle_call(struct ogw_leg *l, struct ogw_frame *f)
{
	struct ogw_session *s = l->s;
	struct ogw_log_ctx lc = leg_ctx(l, f->action, f->id);

	const struct ogw_schema *sch = ogw_schema_get(s->gw->schemas[l->ver], f->action, false);
	tell_frame(l, OGW_FRAME_SEEN, 0, f->type, sch ? f->action : NULL, NULL);
	if (!sch) {
		ogw_info(&lc, "unknown action rejected");
		send_error(l, OGW_MSG_CALLERROR, f->id, OGW_ERR_NOT_IMPLEMENTED,
			   "unknown action %s in OCPP %s", f->action, ogw_ocpp_name(l->ver));
		return;
	}
	struct ogw_schema_fault fault;
	if (ogw_schema_validate(sch, f->payload, &fault) < 0) {
		ogw_info(&lc, "invalid CALL rejected: %s", fault.desc);
		tell_frame(l, OGW_FRAME_INVALID, 0, f->type, f->action, NULL);
		if (f->type == OGW_MSG_CALL)
			send_error(l, OGW_MSG_CALLERROR, f->id, fault.err, "%s", fault.desc);
		return;
	}
	if (s->state != OGW_SESSION_ACTIVE) {
		send_error(l, OGW_MSG_CALLERROR, f->id, OGW_ERR_INTERNAL,
			   "charger session is closing");
		return;
	}
	if (l->kind == OGW_SOUTH)
		observe(s, OGW_OBS_UP_CALL, f->action, f->payload);
	if (l->kind == OGW_NORTH && s->south.state != OGW_LEG_UP && !s->own) {
		/* The charger is not connected (its session only lives on to
		 * deliver what it queued): the call would only wait for its
		 * timeout. */
		send_error(l, OGW_MSG_CALLERROR, f->id, OGW_ERR_INTERNAL,
			   "charger %s is not connected: %s not delivered", s->id, f->action);
		return;
	}
	FOR_STAGES(s->gw, st, on_call) {
		enum ogw_stage_verdict v = st->on_call(l, f);
		if (v == OGW_STAGE_DONE)
			return;
		if (v == OGW_STAGE_CHANGED)
			f->rest = NULL; /* the bytes are stale now */
	}
	if (s->own) {
		/* no charger behind it: a stage answers (features/certs), or nobody */
		send_error(l, OGW_MSG_CALLERROR, f->id, OGW_ERR_NOT_SUPPORTED,
			   "%s is the gateway's own identity: it takes no %s", s->id, f->action);
		return;
	}

	if (l->kind == OGW_SOUTH)
		relay_up(l, f);
	else
		relay_call(l, &s->south, f);
}

void ogw_session_inject_down(struct ogw_session *s, const char *action, json_t *payload)
{
	struct ogw_frame f = { .type = OGW_MSG_CALL, .action = action, .payload = payload };
	struct ogw_log_ctx lc = { s->id, "north", action, NULL };
	ogw_info(&lc, "the gateway sends %s in the CSMS's place", action);
	handle_call(ogw_session_primary(s), &f);
	json_decref(payload);
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
	tell_frame(l, OGW_FRAME_SEEN, 0, f->type, c->action, f->err_code);
	tell_frame(l, OGW_FRAME_ANSWERED, 0, f->type, c->action, NULL);
	if (l->kind == OGW_SOUTH && f->type == OGW_MSG_CALLRESULT) {
		observe(l->s, OGW_OBS_DOWN_RESULT, c->action, f->payload);
		FOR_STAGES(l->s->gw, st, observe_answer)
			st->observe_answer(l->s, c->action, c->payload, f->payload);
	}
	call_finish(c, f);
	leg_kick(l);
}

/* A message over max_frame_size: answer a CALL, fail the call an answer
 * was for, never keep the bytes. @head is what has arrived of it, @total
 * the size announced. */
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
	/* Answers are logged with their call's action in handle_answer(). */
	if (ogw_log_enabled(OGW_LOG_DEBUG) && f.action) {
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

void ogw_session_heard(struct ogw_leg *l)
{
	l->last_rx_us = ogw_now_us();
}

void ogw_session_refuse(struct ogw_leg *l, enum lws_close_status status, const char *why)
{
	if (l->rx_refused)
		return;
	struct ogw_log_ctx lc = leg_ctx(l, NULL, NULL);
	ogw_warn(&lc, "closing: %s", why);
	free(l->rx);
	l->rx = NULL;
	l->rx_len = 0;
	l->rx_refused = true;
	ogw_leg_close(l, status);
}

void ogw_session_rx(struct ogw_leg *l, const char *in, size_t len, size_t more, bool first,
		    bool final)
{
	size_t max = l->s->gw->conf.max_frame_size;
	size_t so_far = first ? 0 : l->rx_len;

	l->last_rx_us = ogw_now_us();
	if (l->rx_refused)
		return;
	if (so_far + len + more > max) {
		/* Refused on what the frame header announces, before its payload
		 * is read: a WebSocket peer announcing 2^40 bytes is not read for
		 * as long as it keeps sending (RFC 6455 §7.4.1: 1009). */
		const char *head = first ? in : l->rx;
		size_t head_len = first ? len : l->rx_len;
		handle_oversize(l, head ? head : "", head_len < OGW_SNIFF_BYTES ? head_len : OGW_SNIFF_BYTES,
				so_far + len + more);
		/* An MQTT payload has arrived whole: only its answer is refused. */
		if (l->tp->websocket)
			ogw_session_refuse(l, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
					   "message over max_frame_size");
		free(l->rx);
		l->rx = NULL;
		l->rx_len = 0;
		return;
	}
	if (first && final && !l->rx) {
		handle_frame(l, in, len);
		return;
	}
	if (first) {
		free(l->rx);
		l->rx = NULL;
		l->rx_len = 0;
	}
	char *n = realloc(l->rx, l->rx_len + len + 1);
	if (!n) {
		ogw_session_refuse(l, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION,
				   "out of memory for a fragmented message");
		return;
	}
	l->rx = n;
	memcpy(l->rx + l->rx_len, in, len);
	l->rx_len += len;
	if (!final)
		return;
	handle_frame(l, l->rx, l->rx_len);
	free(l->rx);
	l->rx = NULL;
	l->rx_len = 0;
}

/* ---- lifetime ----------------------------------------------------------- */

static void leg_init(struct ogw_session *s, struct ogw_leg *l, enum ogw_leg_kind kind,
		     enum ogw_ocpp ver, const struct ogw_leg_transport *tp)
{
	l->s = s;
	l->kind = kind;
	l->ver = ver;
	l->tp = tp;
	ogw_tracker_init(&l->out, (unsigned int)s->gw->conf.max_pending_calls);
}

/* The translator from @ver to @north_ver, NULL when none is needed; *ret_ok
 * false when one is needed and none exists. */
static const struct ogw_translator *translator_for(const char *id, enum ogw_ocpp ver,
						   enum ogw_ocpp north_ver, bool *ret_ok)
{
	*ret_ok = true;
	if (north_ver == ver)
		return NULL;
	const struct ogw_translator *tr = ogw_translator_find(ver, north_ver);
	if (!tr) {
		struct ogw_log_ctx lc = { id, "south", NULL, NULL };
		ogw_warn(&lc, "refused: no translator from OCPP %s to OCPP %s", ogw_ocpp_name(ver),
			 ogw_ocpp_name(north_ver));
		*ret_ok = false;
	}
	return tr;
}

/* The version secondary @c speaks to a charger speaking @ver. */
static enum ogw_ocpp secondary_ver(const struct ogw_csms_conf *c, enum ogw_ocpp ver)
{
	return c->upstream_ocpp < 0 ? ver : (enum ogw_ocpp)c->upstream_ocpp;
}

/* Whether this build can open a leg to secondary @c for charger @id
 * (speaking @ver): a ws:// or wss:// URL, and a translator to its
 * version. */
static bool secondary_usable(const char *id, enum ogw_ocpp ver, const struct ogw_csms_conf *c)
{
	struct ogw_log_ctx lc = { id, "north", NULL, NULL };
	bool ok;
	if (!ogw_conf_csms_secondary_wired(c)) {
		ogw_warn(&lc, "CSMS %s not connected: its URL is not ws://, wss://, mqtt:// or "
			 "mqtts://", c->name);
		return false;
	}
	translator_for(id, ver, secondary_ver(c, ver), &ok);
	return ok;
}

/* FNV-1a over a primary's connection settings (its URL and TLS files). */
static uint32_t primary_sig(const struct ogw_csms_conf *p)
{
	const char *parts[] = { p->url, p->ca, p->cert, p->key };
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		for (const char *c = parts[i] ? parts[i] : ""; *c; c++)
			h = (h ^ (unsigned char)*c) * 16777619u;
		h = (h ^ 0xff) * 16777619u; /* a separator no path holds */
	}
	return h;
}

/* A session in the table with no legs up yet: its primary north leg
 * speaking @north_ver through @tr, then a leg per usable secondary of the
 * charger's configuration (none in standalone mode); NULL when out of
 * memory. */
static struct ogw_session *session_alloc(struct ogw_gateway *gw, const char *id,
					 enum ogw_ocpp ver, enum ogw_ocpp north_ver,
					 const struct ogw_translator *tr)
{
	struct ogw_csms_view view = { .n_secondaries = 0 };
	unsigned int n_north = 1;
	if (gw->conf.csms_url)
		ogw_conf_csms_for(&gw->conf, id, ver, &view);
	/* the gateway's own identity (tls.identity) is the primary's business:
	 * its certificate requests go to no other CSMS */
	if (gw->conf.tls_identity && !strcmp(id, gw->conf.tls_identity))
		view.n_secondaries = 0;
	for (size_t i = 0; i < view.n_secondaries; i++)
		n_north += secondary_usable(id, ver, &view.secondaries[i]);
	if (gw->n_sessions + 1 > gw->table_size / 2 && table_grow(gw) < 0)
		return NULL;
	/* the secondaries' own state behind north[], only when there are any */
	struct ogw_session *s = calloc(1, ogw_session_state_base(n_north) + gw->pipeline.state_size);
	if (!s)
		return NULL;
	s->gw = gw;
	snprintf(s->id, sizeof(s->id), "%s", id);
	leg_init(s, &s->south, OGW_SOUTH, ver, gw->south_tp);
	s->n_north = n_north;
	s->primary_sig = primary_sig(&view.primary);
	leg_init(s, &s->north[0].leg, OGW_NORTH, north_ver, gw->north_tp);
	s->north[0].tr = tr;
	s->env.ops = &ogw_session_env_ops;
	for (size_t i = 0, k = 1; k < n_north; i++) {
		const struct ogw_csms_conf *c = &view.secondaries[i];
		/* the same test as secondary_usable(), which said why already */
		const struct ogw_translator *str =
			secondary_ver(c, ver) == ver ? NULL :
						       ogw_translator_find(ver, secondary_ver(c, ver));
		if (!ogw_conf_csms_secondary_wired(c) || (secondary_ver(c, ver) != ver && !str))
			continue;
		bool mqtt = !strncasecmp(c->url, "mqtt", 4);
		leg_init(s, &s->north[k].leg, OGW_NORTH, secondary_ver(c, ver),
			 mqtt ? gw->secondary_mqtt_tp : gw->secondary_tp);
		s->north[k].tr = str;
		struct ogw_secondary *sec = ogw_leg_secondary(&s->north[k].leg);
		sec->env.ops = &secondary_env_ops;
		sec->s = s;
		sec->conf = c;
		/* until its first up finds the store's queue empty */
		sec->backlog = true;
		sec->owned_backlog = true;
		snprintf(sec->leg_name, sizeof(sec->leg_name), "north.%s", c->name);
		k++;
	}
	s->connected_at = time(NULL);
	size_t b = id_hash(s->id) & (gw->table_size - 1);
	s->hnext = gw->table[b];
	gw->table[b] = s;
	gw->n_sessions++;
	FOR_STAGES(gw, st, on_session_new)
		if (st->on_session_new(s) < 0) {
			struct ogw_log_ctx lc = { s->id, NULL, NULL, NULL };
			ogw_err(&lc, "Failed to start its %s stage: out of memory", st->name);
			s->state = OGW_SESSION_CLOSING;
			table_remove(s);
			session_free(s);
			return NULL;
		}
	return s;
}

struct ogw_session *ogw_session_new(struct ogw_gateway *gw, const char *id, enum ogw_ocpp ver,
				    enum ogw_ocpp north_ver, struct lws *south_wsi,
				    const char *south_auth)
{
	bool standalone = !gw->conf.csms_url;
	if (standalone)
		north_ver = ver; /* the gateway itself answers, in the charger's version */
	bool ok;
	const struct ogw_translator *tr = translator_for(id, ver, north_ver, &ok);
	if (!ok)
		return NULL;
	struct ogw_session *old = ogw_session_find(gw, id);
	if (old && old->detached && old->state == OGW_SESSION_ACTIVE &&
	    old->south.ver == ver && ogw_session_primary(old)->ver == north_ver) {
		/* The charger is back while its queue is being delivered: it takes
		 * its session over, north leg and replay included. */
		old->detached = false;
		old->south.wsi = south_wsi;
		leg_set_state(&old->south, OGW_LEG_UP);
		old->south.last_rx_us = ogw_now_us();
		old->connected_at = time(NULL);
		if (south_auth && gw->conf.csms_pass_credentials && !old->south_auth)
			old->south_auth = strdup(south_auth);
		struct ogw_log_ctx lc = { id, "south", NULL, NULL };
		ogw_info(&lc, "charger reconnected, OCPP %s: resumes its session", ogw_ocpp_name(ver));
		tell_leg(&old->south, OGW_LEG_EV_UP);
		return old;
	}
	if (old) {
		struct ogw_log_ctx lc = { old->id, "south", NULL, NULL };
		ogw_info(&lc, "new connection for this identity replaces the old one");
		ogw_session_close(old, LWS_CLOSE_STATUS_POLICY_VIOLATION, "replaced");
	}
	struct ogw_session *s = session_alloc(gw, id, ver, north_ver, tr);
	if (!s)
		return NULL;
	s->south.wsi = south_wsi;
	s->south.state = OGW_LEG_UP;
	s->south.last_rx_us = ogw_now_us();
	if (south_auth && gw->conf.csms_pass_credentials)
		s->south_auth = strdup(south_auth);

	struct ogw_log_ctx lc = { s->id, "south", NULL, NULL };
	if (standalone)
		ogw_info(&lc, "charger connected, OCPP %s (standalone: answered by the gateway)",
			 ogw_ocpp_name(ver));
	else if (tr)
		ogw_info(&lc, "charger connected, OCPP %s, translated to OCPP %s upstream",
			 ogw_ocpp_name(ver), ogw_ocpp_name(north_ver));
	else
		ogw_info(&lc, "charger connected, OCPP %s", ogw_ocpp_name(ver));
	tell_leg(&s->south, OGW_LEG_EV_UP);
	if (!standalone)
		OGW_FOR_NORTH(s, n)
			n->tp->connect(n);
	return s;
}

struct ogw_session *ogw_session_new_detached(struct ogw_gateway *gw, const char *id,
					     enum ogw_ocpp ver, enum ogw_ocpp north_ver)
{
	bool ok;
	const struct ogw_translator *tr = translator_for(id, ver, north_ver, &ok);
	if (!ok || !gw->conf.csms_url || ogw_session_find(gw, id))
		return NULL;
	struct ogw_session *s = session_alloc(gw, id, ver, north_ver, tr);
	if (!s)
		return NULL;
	s->detached = true;
	OGW_FOR_NORTH(s, n)
		n->tp->connect(n);
	return s;
}

static void session_free(struct ogw_session *s)
{
	struct ogw_log_ctx lc = { s->id, NULL, NULL, NULL };
	ogw_debug(&lc, "session freed");
	OGW_FOR_NORTH(s, n)
		lws_sul_cancel(&ogw_leg_north(n)->sul_reconnect);
	/* In reverse: a stage may read the state of one before it. */
	for (size_t i = s->gw->pipeline.n; i-- > 0;)
		if (s->gw->pipeline.stage[i]->on_session_free)
			s->gw->pipeline.stage[i]->on_session_free(s);
	leg_drop_queue(&s->south);
	free(s->south.rx);
	OGW_FOR_NORTH(s, n) {
		leg_drop_queue(n);
		free(n->rx);
		if (ogw_leg_secondary(n))
			owned_call_free(ogw_leg_secondary(n));
	}
	if (s->south_auth) {
		ogw_memzero(s->south_auth, strlen(s->south_auth));
		free(s->south_auth);
	}
	s->gw->n_sessions--;
	free(s);
}

/* A closing session is freed once every leg is gone. */
static void maybe_free(struct ogw_session *s)
{
	if (s->state != OGW_SESSION_CLOSING || s->south.wsi)
		return;
	OGW_FOR_NORTH(s, n)
		if (n->wsi)
			return;
	session_free(s);
}

/* Closes north leg @l of a closing session. */
static void north_close(struct ogw_leg *l, enum lws_close_status status)
{
	if (l->state == OGW_LEG_CONNECTING && l->wsi) {
		/* No frames can be flushed before the handshake ends, and lws
		 * reports nothing more for a connection killed this way: detach
		 * it from the session first. */
		lws_set_wsi_user(l->wsi, NULL);
		lws_set_opaque_user_data(l->wsi, NULL);
		lws_set_timeout(l->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
		l->wsi = NULL;
		l->state = OGW_LEG_DOWN;
	} else {
		ogw_leg_close(l, status == LWS_CLOSE_STATUS_GOINGAWAY ? LWS_CLOSE_STATUS_GOINGAWAY :
									LWS_CLOSE_STATUS_NORMAL);
	}
}

void ogw_session_close(struct ogw_session *s, enum lws_close_status status, const char *why)
{
	if (s->state == OGW_SESSION_CLOSING)
		return;
	struct ogw_log_ctx lc = { s->id, NULL, NULL, NULL };
	ogw_info(&lc, "closing session: %s", why);
	s->state = OGW_SESSION_CLOSING;
	table_remove(s);
	/* Calls still waiting on any leg get their CALLERROR before the close
	 * frames, so no peer is left waiting on a reply. */
	leg_fail_calls(&s->south);
	OGW_FOR_NORTH(s, n) {
		lws_sul_cancel(&ogw_leg_north(n)->sul_reconnect);
		leg_fail_calls(n);
	}
	struct lws_dll2 *d;
	while ((d = lws_dll2_get_head(&s->pendings))) {
		struct ogw_tr_pending *p = lws_container_of(d, struct ogw_tr_pending, list);
		lws_dll2_remove(&p->list);
		lws_dll2_remove(&p->timeouts);
		free(p);
	}
	ogw_leg_close(&s->south, status);
	OGW_FOR_NORTH(s, n)
		north_close(n, status);
	maybe_free(s);
}

static void north_failed(struct ogw_leg *l, const char *why, bool was_up);

void ogw_session_leg_gone(struct ogw_leg *l)
{
	struct ogw_session *s = l->s;
	bool was_up = l->state == OGW_LEG_UP;
	l->wsi = NULL;
	leg_drop_queue(l);
	leg_set_state(l, OGW_LEG_DOWN);
	if (l->kind == OGW_SOUTH) {
		struct ogw_log_ctx lc = { s->id, "south", NULL, NULL };
		ogw_info(&lc, "charger disconnected");
		leg_fail_calls(l);
		/* May free the session: nothing touches it after this. */
		if (s->state == OGW_SESSION_CLOSING)
			maybe_free(s);
		else if (tell_leg(l, OGW_LEG_EV_DOWN))
			s->detached = true;
		else
			ogw_session_close(s, LWS_CLOSE_STATUS_NORMAL, "charger disconnected");
		return;
	}
	if (s->state == OGW_SESSION_ACTIVE)
		north_failed(l, "connection closed", was_up);
	else
		maybe_free(s);
}

void ogw_session_north_up(struct ogw_leg *l)
{
	ogw_leg_north(l)->reconnects = 0;
	l->last_rx_us = ogw_now_us();
	leg_set_state(l, OGW_LEG_UP);
	if (!ogw_leg_secondary(l)) /* the stages serve the primary */
		tell_leg(l, OGW_LEG_EV_UP);
	else
		secondary_replay(ogw_leg_secondary(l));
	leg_kick(l);
}

static void reconnect_cb(lws_sorted_usec_list_t *sul)
{
	struct ogw_leg *l = &lws_container_of(sul, struct ogw_north, sul_reconnect)->leg;
	if (l->s->state == OGW_SESSION_ACTIVE && !l->wsi)
		l->tp->connect(l);
}

/* North leg @l is gone or could not be opened: whatever waited for it is
 * answered now, and a reconnect is scheduled with exponential backoff and
 * jitter (a fleet must not reconnect in lockstep after a CSMS outage). */
void ogw_session_north_failed(struct ogw_leg *l, const char *why)
{
	north_failed(l, why, l->state == OGW_LEG_UP);
}

/* @was_up: the leg was up before it failed; the stages hear it went down
 * (a connect that failed is no news to them). */
static void north_failed(struct ogw_leg *l, const char *why, bool was_up)
{
	struct ogw_session *s = l->s;
	struct ogw_gateway *gw = s->gw;
	struct ogw_log_ctx lc = leg_ctx(l, NULL, NULL);

	leg_set_state(l, OGW_LEG_DOWN);
	leg_fail_calls(l);
	if (was_up)
		tell_leg(l, OGW_LEG_EV_DOWN);
	if (s->state != OGW_SESSION_ACTIVE || gw->stopping || ogw_session_standalone(s) ||
	    !l->tp->session_reconnects)
		return;
	struct ogw_north *n = ogw_leg_north(l);
	uint64_t delay = ogw_backoff_ms(n->reconnects++, gw->conf.reconnect_min_ms,
					gw->conf.reconnect_max_ms);
	ogw_info(&lc, "upstream %s; reconnecting in %llu ms", why, (unsigned long long)delay);
	lws_sul_schedule(gw->ctx, 0, &n->sul_reconnect, reconnect_cb, (lws_usec_t)delay * 1000);
}

void ogw_session_csms_reconfigured(struct ogw_gateway *gw)
{
	for (size_t i = 0; i < gw->table_size; i++) {
		struct ogw_session *s = gw->table[i], *next;
		for (; s; s = next) {
			next = s->hnext;
			struct ogw_csms_view view = { .n_secondaries = 0 };
			if (gw->conf.csms_url)
				ogw_conf_csms_for(&gw->conf, s->id, s->south.ver, &view);
			bool same = primary_sig(&view.primary) == s->primary_sig;
			for (unsigned int k = 1; same && k < s->n_north; k++) {
				struct ogw_leg *l = &s->north[k].leg;
				struct ogw_secondary *sec = ogw_leg_secondary(l);
				const struct ogw_csms_conf *now = NULL;
				for (size_t j = 0; j < view.n_secondaries; j++)
					if (!strcmp(view.secondaries[j].name, sec->conf->name))
						now = &view.secondaries[j];
				same = now && !strcmp(now->url, sec->conf->url) &&
				       secondary_ver(now, s->south.ver) == l->ver &&
				       ogw_str_same(now->ca, sec->conf->ca) &&
				       ogw_str_same(now->cert, sec->conf->cert) &&
				       ogw_str_same(now->key, sec->conf->key);
				if (same)
					sec->conf = now;
			}
			if (!same)
				ogw_session_close(s, LWS_CLOSE_STATUS_GOINGAWAY,
						  "its CSMSs changed: shown to the new ones on "
						  "reconnect");
		}
	}
}

void ogw_session_free_all(struct ogw_gateway *gw)
{
	for (size_t i = 0; i < gw->table_size; i++) {
		struct ogw_session *s = gw->table[i], *next;
		for (; s; s = next) {
			next = s->hnext;
			session_free(s);
		}
		gw->table[i] = NULL;
	}
}

/* Whether a call is in flight on any leg of @s. */
static bool session_busy(struct ogw_session *s)
{
	if (ogw_tracker_count(&s->south.out))
		return true;
	OGW_FOR_NORTH(s, n)
		if (ogw_tracker_count(&n->out))
			return true;
	return false;
}

/* Closes every session, or with @only_idle those with no call in flight
 * (used while stopping, so no reply in flight is lost). */
void ogw_session_close_all(struct ogw_gateway *gw, enum lws_close_status status, bool only_idle)
{
	for (size_t i = 0; i < gw->table_size; i++) {
		struct ogw_session *s = gw->table[i], *next;
		for (; s; s = next) {
			next = s->hnext;
			if (only_idle && session_busy(s))
				continue;
			ogw_session_close(s, status, gw->stopping ? "gateway stopping" : "closed");
		}
	}
}

/* ---- the translator environment (include/ocppgw/translator.h) ------------ */

static const char *env_charger(const struct ogw_tr_env *env)
{
	return env_s((struct ogw_tr_env *)env)->id;
}

struct emit_ctx {
	struct ogw_tr_env *env;
	ogw_tr_done_fn done;
	void *user;
};

static void emitted_done(struct ogw_call *c, const struct ogw_frame *answer)
{
	struct ogw_leg *l = c->user;
	struct emit_ctx *ec = (struct emit_ctx *)c->ctx;
	const json_t *result = NULL;

	json_t *salvaged = NULL;
	struct ogw_frame local = { .type = OGW_MSG_CALLRESULT };
	if (!answer && c->deadline_us > ogw_now_us()) {
		/* The CSMS went away with it: the gateway answers in its place. */
		FOR_STAGES(l->s->gw, st, on_lost_own)
			if (!salvaged)
				salvaged = st->on_lost_own(c);
		local.payload = salvaged;
		if (salvaged)
			answer = &local;
	}

	json_t *adapted = NULL;
	if (answer && answer->type == OGW_MSG_CALLRESULT &&
	    ogw_payload_valid(l, c->action, true, answer->payload, "answer to the gateway's call")) {
		enum ogw_err serr;
		char sdesc[200];
		adapted = shim_pass(l, env_tr(ec->env), c->action, true, false,
				    json_incref(answer->payload), &serr,
				    sdesc, sizeof(sdesc), NULL);
		result = adapted;
	}
	else if (answer && answer->type == OGW_MSG_CALLERROR) {
		struct ogw_log_ctx lc = leg_ctx(l, c->action, c->id);
		ogw_info(&lc, "gateway's call refused: %s %s", answer->err_code, answer->err_desc);
	}
	/* Always once, even while the session closes: the translator may owe
	 * a deferred answer on it. */
	if (ec->done)
		ec->done(ec->env, ec->user, result);
	json_decref(adapted);
	json_decref(salvaged);
	free(ec);
	if (ogw_leg_secondary(l)) /* its queue may wait for this call */
		secondary_replay(ogw_leg_secondary(l));
}

static int env_emit(struct ogw_tr_env *env, enum ogw_tr_dir dir, const char *action,
		    json_t *payload, ogw_tr_done_fn done, void *user)
{
	struct ogw_session *s = env_s(env);
	struct ogw_leg *l = dir == OGW_TR_UP ? env_north(env) : &s->south;

	if (!payload)
		return -EINVAL;
	enum ogw_err serr;
	char sdesc[200];
	payload = shim_pass(l, env_tr(env), action, false, true, payload, &serr, sdesc, sizeof(sdesc),
			    NULL);
	if (!payload)
		return -ERANGE;
	if (s->state != OGW_SESSION_ACTIVE ||
	    !ogw_payload_valid(l, action, false, payload, "gateway's own call")) {
		json_decref(payload);
		return s->state != OGW_SESSION_ACTIVE ? -ENOTCONN : -EINVAL;
	}
	struct emit_ctx *ec = malloc(sizeof(*ec));
	if (!ec) {
		json_decref(payload);
		return -ENOMEM;
	}
	ec->env = env;
	ec->done = done;
	ec->user = user;
	/* A stage may take it (and answer it in the peer's place) or rewrite
	 * its ids; the call is the stage's once taken. */
	struct ogw_call *c = ogw_call_new(action, json_incref(payload), UINT64_MAX);
	if (!c) {
		json_decref(payload);
		free(ec);
		return -ENOMEM;
	}
	c->done = emitted_done;
	c->user = l;
	c->ctx = ec;
	FOR_STAGES(s->gw, st, on_own_call)
		if (!ogw_leg_secondary(l) && st->on_own_call(l, c) == OGW_STAGE_DONE) {
			json_decref(payload);
			return 0;
		}
	c->ctx = NULL;
	ogw_call_free(c);
	int r = leg_call_take(l, action, payload, NULL, "", emitted_done, ec, NULL, NULL, 0);
	if (r < 0)
		free(ec);
	return r;
}

static struct ogw_tr_pending *defer_here(struct ogw_tr_env *env)
{
	struct ogw_session *s = env_s(env);
	if (!s->cur_from || !s->cur_frame)
		return NULL;
	struct ogw_tr_pending *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->env = env;
	p->from = s->cur_from;
	snprintf(p->id, sizeof(p->id), "%s", s->cur_frame->id);
	snprintf(p->action, sizeof(p->action), "%s", s->cur_frame->action);
	lws_dll2_add_tail(&p->list, &s->pendings);
	p->from->in_pending++;
	return p;
}

static void pending_expire(lws_sorted_usec_list_t *sul)
{
	struct ogw_gateway *gw = lws_container_of(sul, struct ogw_gateway, sul_pending);
	uint64_t now = ogw_now_us();
	struct lws_dll2 *d;

	while ((d = lws_dll2_get_head(&gw->pending_deadlines))) {
		struct ogw_tr_pending *p = lws_container_of(d, struct ogw_tr_pending, timeouts);
		if (p->deadline_us > now) {
			lws_sul_schedule(gw->ctx, 0, &gw->sul_pending, pending_expire,
					 (lws_usec_t)(p->deadline_us - now) + 1000);
			return;
		}
		struct ogw_log_ctx lc = leg_ctx(p->from, p->action, p->id);
		ogw_warn(&lc, "deferred answer (%s) not complete in time", p->key);
		ogw_tr_answer(p->env, p, NULL, OGW_ERR_INTERNAL,
			      "the answer could not be completed in time");
	}
}

static struct ogw_tr_pending *env_pending_find(struct ogw_tr_env *env, const char *key);

static struct ogw_tr_pending *env_defer(struct ogw_tr_env *env, const char *key)
{
	struct ogw_session *s = env_s(env);
	struct ogw_gateway *gw = s->gw;
	if (!key)
		return defer_here(env);
	if (!*key || strlen(key) >= sizeof(((struct ogw_tr_pending *)0)->key) ||
	    env_pending_find(env, key))
		return NULL;
	struct ogw_tr_pending *p = defer_here(env);
	if (!p)
		return NULL;
	snprintf(p->key, sizeof(p->key), "%s", key);
	p->deadline_us = ogw_now_us() + (uint64_t)gw->conf.response_timeout_ms * 1000;
	bool was_empty = !lws_dll2_get_head(&gw->pending_deadlines);
	lws_dll2_add_tail(&p->timeouts, &gw->pending_deadlines);
	if (was_empty)
		lws_sul_schedule(gw->ctx, 0, &gw->sul_pending, pending_expire,
				 (lws_usec_t)gw->conf.response_timeout_ms * 1000 + 1000);
	return p;
}

static struct ogw_tr_pending *env_pending_find(struct ogw_tr_env *env, const char *key)
{
	lws_start_foreach_dll(struct lws_dll2 *, d, lws_dll2_get_head(&env_s(env)->pendings)) {
		struct ogw_tr_pending *p = lws_container_of(d, struct ogw_tr_pending, list);
		if (p->env == env && p->key[0] && !strcmp(p->key, key))
			return p;
	} lws_end_foreach_dll(d);
	return NULL;
}

static void env_answer(struct ogw_tr_env *env, struct ogw_tr_pending *p, json_t *payload,
		       enum ogw_err err, const char *desc)
{
	struct ogw_leg *l = p->from;
	struct ogw_secondary *sec = env_secondary(env);
	if (l->in_pending)
		l->in_pending--;
	lws_dll2_remove(&p->list);
	lws_dll2_remove(&p->timeouts);
	if (sec && l->kind == OGW_SOUTH && !p->id[0]) {
		/* A secondary's answer to the charger's CALL: recorded, not sent
		 * (but the owner's of a transaction split by token: the charger
		 * waits for it under its own id).
		 * Its translator answers even when the CSMS did not (the leg
		 * went down under it): then it was not delivered. */
		secondary_result(sec, p->action, payload, secondary_leg(sec)->state == OGW_LEG_UP);
		json_decref(payload);
		free(p);
		return;
	}
	enum ogw_err serr = OGW_ERR_INTERNAL;
	char sdesc[200];
	payload = shim_pass(l, env_tr(env), p->action, true, true, payload, &serr, sdesc,
			    sizeof(sdesc), NULL);
	if (payload && ogw_payload_valid(l, p->action, true, payload, "deferred answer"))
		send_result(l, p->action, p->id, payload);
	else
		send_error(l, OGW_MSG_CALLERROR, p->id, payload ? OGW_ERR_INTERNAL :
			   (err ? err : OGW_ERR_GENERIC), "%s",
			   payload ? "cannot answer in this version" : (desc ? desc : "failed"));
	json_decref(payload);
	free(p);
}

/* The store key of translator state @key of @env: a secondary's are its
 * own, "csms.<name>/<key>", beside the primary's under the same charger. */
static const char *env_key(struct ogw_tr_env *env, const char *key, char *buf, size_t len)
{
	struct ogw_secondary *sec = env_secondary(env);
	if (!sec)
		return key;
	/* the name from leg_name: sec->conf may be a reload's past */
	snprintf(buf, len, "csms.%s/%s", secondary_name(sec), key);
	return buf;
}

static json_t *env_state_get(struct ogw_tr_env *env, const char *key)
{
	struct ogw_session *s = env_s(env);
	char buf[256];
	return ogw_store_kv_get(s->gw->store, s->id, env_key(env, key, buf, sizeof(buf)), NULL);
}

static int store_failed(struct ogw_session *s, const char *what, int r)
{
	struct ogw_log_ctx lc = { s->id, NULL, NULL, NULL };
	ogw_err(&lc, "Failed to %s translator state: %s", what, strerror(-r));
	return r;
}

static int env_state_put(struct ogw_tr_env *env, const char *key, json_t *value)
{
	struct ogw_session *s = env_s(env);
	char buf[256];
	int r = value ? ogw_store_kv_put(s->gw->store, s->id, env_key(env, key, buf, sizeof(buf)),
					 value) : -EINVAL;
	json_decref(value);
	return r < 0 ? store_failed(s, "write", r) : 0;
}

static int env_state_del(struct ogw_tr_env *env, const char *key)
{
	struct ogw_session *s = env_s(env);
	char buf[256];
	int r = ogw_store_kv_del(s->gw->store, s->id, env_key(env, key, buf, sizeof(buf)));
	return r < 0 ? store_failed(s, "delete", r) : 0;
}

static int64_t env_next_id(struct ogw_tr_env *env, const char *name)
{
	struct ogw_session *s = env_s(env);
	char buf[256];
	int err = 0;
	int64_t v = ogw_store_next_id(s->gw->store, s->id, env_key(env, name, buf, sizeof(buf)),
				      &err);
	if (err < 0)
		store_failed(s, "count in", err);
	return v;
}

static bool env_queued(struct ogw_tr_env *env, const char *txid)
{
	struct ogw_session *s = env_s(env);
	if (env_secondary(env))
		return false; /* the offline stage holds messages for the primary only */
	FOR_STAGES(s->gw, st, holds)
		if (st->holds(s, txid))
			return true;
	return false;
}

/* The translator cannot carry @action anywhere: a dead letter with the
 * reason, so the operator sees it in /api/site, /metrics and the log. */
static void env_lost(struct ogw_tr_env *env, const char *action, const json_t *payload,
		     const char *reason)
{
	struct ogw_session *s = env_s(env);
	struct ogw_log_ctx lc = { s->id, "south", action, NULL };
	struct ogw_secondary *sec = env_secondary(env);
	if (sec) {
		/* The dead letters are the primary's record: this CSMS misses it. */
		ogw_warn(&lc, "%s cannot be carried to CSMS %s (OCPP %s): %s", action,
			 sec->conf->name, ogw_ocpp_name(secondary_leg(sec)->ver), reason);
		return;
	}
	int64_t seq = 0;
	int r = ogw_store_queue_push(s->gw->store, s->id, ogw_ocpp_name(s->south.ver), action,
				     payload, NULL, &seq);
	if (r >= 0)
		r = ogw_store_queue_dead(s->gw->store, seq, "NotSupported", reason);
	ogw_err(&lc, "%s cannot be carried to the CSMS (OCPP %s): %s; %s", action,
		ogw_ocpp_name(ogw_session_primary(s)->ver), reason,
		r < 0 ? "and it could not be kept as a dead letter" : "kept as a dead letter");
}

/* Both environments have the same doors; the ops pointer tells a
 * secondary's (env_secondary()) apart from the primary's. */
#define ENV_OPS { \
	.charger = env_charger, \
	.emit = env_emit, \
	.defer = env_defer, \
	.pending_find = env_pending_find, \
	.answer = env_answer, \
	.state_get = env_state_get, \
	.state_put = env_state_put, \
	.state_del = env_state_del, \
	.next_id = env_next_id, \
	.queued = env_queued, \
	.lost = env_lost, \
}
const struct ogw_tr_env_ops ogw_session_env_ops = ENV_OPS;
static const struct ogw_tr_env_ops secondary_env_ops = ENV_OPS;

/*
 * Keepalive, one sweep every ping_interval for every leg: a leg silent for
 * an interval gets a ping, one silent for three is taken for dead. lws's own
 * idle policy does the same per connection with a timer it re-sorts into
 * one list on every frame received, which costs O(connections) per frame.
 */
static void keepalive_leg(struct ogw_leg *l, uint64_t now, uint64_t interval)
{
	if (l->state != OGW_LEG_UP || !l->tp->ping)
		return;
	uint64_t idle = now - l->last_rx_us;
	if (idle >= 3 * interval) {
		struct ogw_log_ctx lc = leg_ctx(l, NULL, NULL);
		ogw_warn(&lc, "no traffic for %llu s: connection taken for dead",
			 (unsigned long long)(idle / 1000000));
		l->tp->abort(l);
	} else if (idle >= interval) {
		l->tp->ping(l);
	}
}

void ogw_gateway_keepalive(lws_sorted_usec_list_t *sul)
{
	struct ogw_gateway *gw = lws_container_of(sul, struct ogw_gateway, sul_keepalive);
	uint64_t interval = (uint64_t)gw->conf.ping_interval_s * 1000000;
	uint64_t now = ogw_now_us();

	if (!interval)
		return;
	uint64_t t = ogw_loop_mark_start();
	for (size_t i = 0; i < gw->table_size; i++)
		for (struct ogw_session *s = gw->table[i]; s; s = s->hnext) {
			keepalive_leg(&s->south, now, interval);
			OGW_FOR_NORTH(s, n)
				keepalive_leg(n, now, interval);
		}
	ogw_loop_mark("keepalive sweep", t);
	lws_sul_schedule(gw->ctx, 0, &gw->sul_keepalive, ogw_gateway_keepalive,
			 (lws_usec_t)interval);
}
