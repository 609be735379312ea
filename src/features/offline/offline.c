/* SPDX-License-Identifier: MIT */
/*
 * Offline operation. While a charger's CSMS cannot be reached (or when no
 * CSMS is configured at all), the gateway answers the charger itself, in
 * the CSMS's version and through the translator like a real answer, and
 * queues what the CSMS must still receive in the store before that answer
 * leaves. When the north leg is up again it delivers the charger's last
 * boot, then the queue in order, one message at a time; a message leaves
 * the queue only on the CSMS's CALLRESULT (or, after its attempts, into the
 * dead letters). A session whose charger has gone stays to deliver.
 *
 * North 1.6 transactions started offline carry a gateway-issued id; once
 * the CSMS's StartTransaction.conf brings its own, ids are rewritten at the
 * north boundary in both directions (txmap), so translators and chargers
 * never see the change. The local answers themselves come from src/local.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ocppgw/local.h"
#include "ocppgw/log.h"
#include "ocppgw/util.h"
#include "features/events/events.h"
#include "features/offline/offline.h"
#include "session/session.h"

#define BOOT_KEY "offline.boot"          /* the charger's last boot, north version */
#define BOOT_DUE_KEY "offline.boot_due"  /* the CSMS has not seen that boot */
#define VERSIONS_KEY "offline.versions"  /* {"south", "north"} of the queued frames */
#define TXMAP_KEY "offline.txmap"        /* north 1.6: {"<gateway id>": csms id} */
#define TXMAP_MAX 256

/*
 * Per session (the stage's slot): while the CSMS cannot be reached, the
 * gateway answers the charger itself and queues what the CSMS must receive
 * in the store; when it can, it delivers the charger's last boot and then
 * the queue, in order, one message at a time.
 */
struct ogw_offline {
	struct ogw_session *s;
	int64_t backlog;            /* this charger's messages in the store's queue */
	int64_t inflight;           /* seq of the queued message on the north leg, 0 none */
	int64_t acked;              /* highest seq the CSMS took (its row may outlive a
	                               failed delete: it is never sent again) */
	bool boot_due;              /* the CSMS has not seen the charger's last boot */
	bool boot_inflight;
	bool retry_wait;            /* sul_retry is armed: no replay until it fires */
	bool versions_saved;        /* "offline.versions" is in the store */
	lws_sorted_usec_list_t sul_retry;
	json_t *txmap;              /* north 1.6: gateway-issued id -> the CSMS's id */
	lws_dll2_owner_t done_q;    /* local answers to the gateway's own calls */
	lws_sorted_usec_list_t sul_done;
	struct ogw_local_rec *rec;  /* the transaction log's state for this charger */
};

_Static_assert(_Alignof(struct ogw_offline) <= OGW_STAGE_STATE_ALIGN, "stage state alignment");

static struct ogw_offline *off(struct ogw_session *s)
{
	return ogw_session_state(s, &ogw_offline_stage);
}

/* The CSMS this stage answers for, queues for and replays to: the
 * primary's leg. The store's queue, boot and id map are per charger, not
 * per CSMS, so a secondary leg has no offline operation of its own yet. */
static struct ogw_leg *csms(struct ogw_session *s)
{
	return ogw_session_primary(s);
}

/* Whether @l is the leg this stage works for (a north leg of another CSMS
 * is not). */
static bool is_csms(const struct ogw_leg *l)
{
	return l == csms(l->s);
}

static void offline_kick(struct ogw_session *s);
static bool offline_map_up(struct ogw_session *s, const char *action, json_t *payload);

/* A local answer to a call of the gateway's own, run on the next loop turn. */
struct local_done {
	lws_dll2_t list;
	struct ogw_call *call;    /* owned */
	json_t *result;           /* owned; NULL: no answer (the store failed) */
};

static struct ogw_log_ctx log_ctx(const struct ogw_session *s, const char *leg,
				  const char *action)
{
	return (struct ogw_log_ctx){ s->id, leg, action, NULL };
}

static struct ogw_local_ctx local_ctx(const struct ogw_session *s, enum ogw_ocpp ver)
{
	return (struct ogw_local_ctx){
		.store = s->gw->store,
		.conf = &s->gw->conf,
		.charger = s->id,
		.ver = ver,
		.standalone = ogw_session_standalone(s),
	};
}

static bool is_action(const char *action, const char *const *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(action, set[i]))
			return true;
	return false;
}
#define IS_ACTION(a, set) is_action((a), (set), sizeof(set) / sizeof((set)[0]))

/* Transaction messages (REFERENCE §5): what the CSMS must receive even if
 * late. @payload is in @ver. */
static bool is_tx_message(enum ogw_ocpp ver, const char *action, const json_t *payload)
{
	return ogw_ocpp_is_tx_message(ver, action, json_object_get(payload, "transactionId"));
}

static bool is_queued(const struct ogw_session *s, const char *action, const json_t *payload)
{
	if (is_tx_message(s->north[0].leg.ver, action, payload))
		return true;
	/* A late heartbeat says nothing; a late boot is sent first anyway. */
	return s->gw->conf.offline_queue_all && strcmp(action, "Heartbeat") &&
	       strcmp(action, "BootNotification");
}

/* ---- persistent bits ------------------------------------------------------ */

static void store_warn(const struct ogw_session *s, const char *what, int r)
{
	struct ogw_log_ctx lc = log_ctx(s, NULL, NULL);
	ogw_err(&lc, "Failed to %s in the store: %s", what, strerror(-r));
}

static void kv_put(struct ogw_session *s, const char *key, const json_t *value)
{
	int r = ogw_store_kv_put(s->gw->store, s->id, key, value);
	if (r < 0)
		store_warn(s, key, r);
}

static void kv_del(struct ogw_session *s, const char *key)
{
	int r = ogw_store_kv_del(s->gw->store, s->id, key);
	if (r < 0)
		store_warn(s, key, r);
}

/* The boot the CSMS must see before anything else of this charger. */
static void remember_boot(struct ogw_session *s, const json_t *payload, bool delivered)
{
	kv_put(s, BOOT_KEY, payload);
	if (delivered) {
		if (off(s)->boot_due && !off(s)->boot_inflight) {
			off(s)->boot_due = false;
			kv_del(s, BOOT_DUE_KEY);
		}
		return;
	}
	if (!off(s)->boot_due) {
		off(s)->boot_due = true;
		json_t *t = json_true();
		kv_put(s, BOOT_DUE_KEY, t);
		json_decref(t);
	}
}

/* What a detached session needs to be rebuilt after a restart. */
static void save_versions(struct ogw_session *s)
{
	if (off(s)->versions_saved)
		return;
	json_t *v = json_pack("{s:s, s:s}", "south", ogw_ocpp_name(s->south.ver), "north",
			      ogw_ocpp_name(csms(s)->ver));
	if (v && ogw_store_kv_put(s->gw->store, s->id, VERSIONS_KEY, v) == 0)
		off(s)->versions_saved = true;
	json_decref(v);
}

static void txmap_save(struct ogw_session *s)
{
	if (json_object_size(off(s)->txmap))
		kv_put(s, TXMAP_KEY, off(s)->txmap);
	else
		kv_del(s, TXMAP_KEY);
}

/* ---- answering and queueing ----------------------------------------------- */

static bool offline_answers(struct ogw_session *s, const char *action, const json_t *payload)
{
	if (ogw_session_standalone(s))
		return true;
	/* Older messages are still on their way: newer transaction messages
	 * queue behind them, so the CSMS sees them in order. */
	if ((off(s)->backlog > 0 || off(s)->boot_due) && is_queued(s, action, payload))
		return true;
	if (csms(s)->state == OGW_LEG_UP)
		return false;
	/* The first attempt of a charger's connection is worth waiting for
	 * (the CSMS's own answer to its boot); once it failed, the gateway
	 * answers until the CSMS is back. */
	return !(csms(s)->state == OGW_LEG_CONNECTING && ogw_leg_north(csms(s))->reconnects == 0);
}

/*
 * Stores what the CSMS must receive of @action/@payload (north version, a
 * reference the caller keeps; it may be marked offline), answered locally
 * with @answer. 0, or a negative errno when it could not be stored: then
 * nothing may be acknowledged.
 */
static int hold(struct ogw_session *s, const char *action, json_t *payload, const json_t *answer,
		bool resend)
{
	if (!strcmp(action, "BootNotification")) {
		if (!ogw_session_standalone(s))
			remember_boot(s, payload, false);
		return 0;
	}
	if (ogw_session_standalone(s) || !is_queued(s, action, payload))
		return 0;
	json_t *meta = json_object();
	if (!meta)
		return -ENOMEM;
	if (csms(s)->ver == OGW_OCPP16 && !strcmp(action, "StartTransaction"))
		json_object_set(meta, "localTx", json_object_get(answer, "transactionId"));
	if (resend)
		json_object_set_new(meta, "resend", json_true());
	/* 2.x: the event happened while the CSMS could not be told. */
	if (csms(s)->ver != OGW_OCPP16 && !strcmp(action, "TransactionEvent") &&
	    csms(s)->state != OGW_LEG_UP && !resend)
		json_object_set_new(payload, "offline", json_true());
	save_versions(s);
	int r = ogw_store_queue_push(s->gw->store, s->id, ogw_ocpp_name(csms(s)->ver), action,
				    payload, meta, NULL);
	json_decref(meta);
	if (r < 0)
		return r;
	off(s)->backlog++;
	offline_kick(s);
	return 0;
}

/* The local CSMS's answer to @action/@payload in the north version. */
static json_t *local_answer(struct ogw_session *s, const char *action, const json_t *payload,
			    enum ogw_err *ret_err, char *desc, size_t desclen)
{
	struct ogw_local_ctx lctx = local_ctx(s, csms(s)->ver);
	*ret_err = OGW_ERR_INTERNAL;
	snprintf(desc, desclen, "no local answer");
	json_t *ans = ogw_local_answer(&lctx, action, payload, ret_err, desc, desclen);
	if (ans && !ogw_payload_valid(csms(s), action, true, ans, "local answer")) {
		json_decref(ans);
		*ret_err = OGW_ERR_INTERNAL;
		snprintf(desc, desclen, "the gateway has no valid local answer to %s", action);
		return NULL;
	}
	return ans;
}

/* After a failed write: if SQLite took the whole batch with it, the answers
 * held for that batch are withdrawn before anything else goes out. */
static void check_batch(struct ogw_session *s)
{
	int r = ogw_store_take_lost(s->gw->store);
	if (r < 0)
		ogw_offline_commit_failed(s->gw, r);
}

static void store_full_error(struct ogw_leg *from, const char *id, const char *action, int r)
{
	check_batch(from->s);
	struct ogw_log_ctx lc = log_ctx(from->s, "south", action);
	ogw_err(&lc, "Failed to queue %s: %s; not acknowledged (the charger keeps it)", action,
		strerror(-r));
	ogw_leg_send_error(from, id, OGW_ERR_INTERNAL,
			   "the gateway cannot store %s (%s): not acknowledged, send it again",
			   action, r == -ENOSPC ? "store full" : strerror(-r));
}

static bool offline_take(struct ogw_leg *from, const struct ogw_frame *f, const char *action,
			 json_t *payload, const struct ogw_tr_action *entry, json_t *memo)
{
	struct ogw_session *s = from->s;
	if (!offline_answers(s, action, payload)) {
		if (!strcmp(action, "BootNotification"))
			remember_boot(s, payload, true);
		return false;
	}
	enum ogw_err err;
	char desc[200];
	if (f->type == OGW_MSG_SEND) {
		/* 2.1 SEND: nothing to answer; kept only if the CSMS must see it. */
		json_t *none = json_object();
		int r = hold(s, action, payload, none, false);
		if (r < 0)
			store_warn(s, "queue a SEND", r);
		json_decref(none);
		goto out;
	}
	json_t *ans = local_answer(s, action, payload, &err, desc, sizeof(desc));
	if (!ans) {
		check_batch(s);
		ogw_leg_send_error(from, f->id, err, "%s", desc);
		goto out;
	}
	int r = hold(s, action, payload, ans, false);
	if (r < 0) {
		store_full_error(from, f->id, f->action, r);
		json_decref(ans);
		goto out;
	}
	if (ogw_log_enabled(OGW_LOG_DEBUG)) {
		struct ogw_log_ctx lc = { s->id, "south", f->action, f->id };
		ogw_debug(&lc, "answered by the gateway (%s)", ogw_session_standalone(s) ?
			  "standalone" : "CSMS unreachable or backlog");
	}
	ogw_session_answer_as_csms(s, action, f->id, entry, memo, ans);
	memo = NULL;
	json_decref(ans);
out:
	json_decref(memo);
	json_decref(payload);
	return true;
}

static void done_run(lws_sorted_usec_list_t *sul)
{
	struct ogw_offline *o = lws_container_of(sul, struct ogw_offline, sul_done);
	struct lws_dll2 *d;
	while ((d = lws_dll2_get_head(&o->done_q))) {
		struct local_done *ld = lws_container_of(d, struct local_done, list);
		lws_dll2_remove(&ld->list);
		struct ogw_frame answer = { .type = OGW_MSG_CALLRESULT, .payload = ld->result };
		ld->call->deadline_us = 0; /* nothing left to salvage */
		ld->call->done(ld->call, ld->result ? &answer : NULL);
		ogw_call_free(ld->call);
		json_decref(ld->result);
		free(ld);
	}
}

static void offline_take_emit(struct ogw_session *s, struct ogw_call *c)
{
	enum ogw_err err;
	char desc[200];
	json_t *ans = local_answer(s, c->action, c->payload, &err, desc, sizeof(desc));
	if (ans) {
		int r = hold(s, c->action, c->payload, ans, false);
		if (r < 0) {
			store_warn(s, "queue the gateway's own call", r);
			json_decref(ans);
			ans = NULL;
		}
	}
	struct local_done *ld = calloc(1, sizeof(*ld));
	if (!ld) {
		/* Still exactly once: the translator may owe an answer on it. */
		c->deadline_us = 0;
		c->done(c, NULL);
		ogw_call_free(c);
		json_decref(ans);
		return;
	}
	ld->call = c;
	ld->result = ans;
	lws_dll2_add_tail(&ld->list, &off(s)->done_q);
	lws_sul_schedule(s->gw->ctx, 0, &off(s)->sul_done, done_run, 1);
}

/* The payload of a tracked call: its tree, or parsed back from the bytes
 * it was relayed as. A new reference or NULL. */
static json_t *call_payload(const struct ogw_call *c)
{
	if (c->payload)
		return json_incref(c->payload);
	if (!c->rest)
		return NULL;
	/* rest is everything after the id: `","Action",{...}]`. */
	size_t len = c->rest_len + 2;
	char *text = malloc(len + 1);
	if (!text)
		return NULL;
	text[0] = '[';
	text[1] = '"';
	memcpy(text + 2, c->rest, c->rest_len);
	text[len] = '\0';
	json_t *arr = json_loadb(text, len, 0, NULL);
	free(text);
	json_t *p = json_incref(json_array_get(arr, 2));
	json_decref(arr);
	return p;
}

/* The local answer to call @c that the north leg lost, once what the CSMS
 * must still receive of it is stored; NULL when it cannot be. */
static json_t *salvage_answer(struct ogw_call *c)
{
	struct ogw_leg *l = c->user;
	struct ogw_session *s = l->s;
	json_t *payload = call_payload(c);
	if (!payload || s->state != OGW_SESSION_ACTIVE || s->gw->stopping ||
	    s->south.state != OGW_LEG_UP) {
		json_decref(payload);
		return NULL;
	}
	enum ogw_err err;
	char desc[200];
	json_t *ans = local_answer(s, c->action, payload, &err, desc, sizeof(desc));
	/* Sent already (it has an id on the leg): the CSMS may have it. */
	int r = ans ? hold(s, c->action, payload, ans, c->id[0] != '\0') : -EINVAL;
	json_decref(payload);
	if (r < 0) {
		check_batch(s);
		json_decref(ans);
		return NULL;
	}
	struct ogw_log_ctx lc = log_ctx(s, "north", c->action);
	ogw_info(&lc, "CSMS lost with %s %s: answered by the gateway", c->action,
		 c->id[0] ? "in flight (a resend may duplicate it)" : "waiting");
	return ans;
}

static json_t *offline_salvage_emit(struct ogw_call *c)
{
	return salvage_answer(c);
}

static bool offline_salvage(struct ogw_call *c)
{
	struct ogw_session *s = ((struct ogw_leg *)c->user)->s;
	json_t *ans = salvage_answer(c);
	if (!ans)
		return false;
	json_t *memo = c->memo;
	c->memo = NULL;
	ogw_session_answer_as_csms(s, c->action, c->origin_id, c->ctx, memo, ans);
	json_decref(ans);
	return true;
}

/* ---- north 1.6 transaction ids -------------------------------------------- */

static bool txmap_lookup_value(const json_t *map, json_int_t value, json_int_t *ret_key)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)map, k, v) {
		if (json_integer_value(v) == value) {
			*ret_key = strtoll(k, NULL, 10);
			return true;
		}
	}
	return false;
}

static bool offline_map_up(struct ogw_session *s, const char *action, json_t *payload)
{
	if (csms(s)->ver != OGW_OCPP16 || !json_object_size(off(s)->txmap))
		return false;
	if (strcmp(action, "MeterValues") && strcmp(action, "StopTransaction"))
		return false;
	json_t *id = json_object_get(payload, "transactionId");
	if (!json_is_integer(id))
		return false;
	char key[24];
	snprintf(key, sizeof(key), "%" JSON_INTEGER_FORMAT, json_integer_value(id));
	json_t *to = json_object_get(off(s)->txmap, key);
	if (!json_is_integer(to))
		return false;
	json_object_set(payload, "transactionId", to);
	return true;
}

static bool offline_map_down(struct ogw_session *s, const char *action, json_t *payload)
{
	if (csms(s)->ver != OGW_OCPP16 || !json_object_size(off(s)->txmap))
		return false;
	json_t *holder = NULL;
	if (!strcmp(action, "RemoteStopTransaction"))
		holder = payload;
	else if (!strcmp(action, "SetChargingProfile"))
		holder = json_object_get(payload, "csChargingProfiles");
	json_t *id = json_object_get(holder, "transactionId");
	json_int_t local;
	if (!json_is_integer(id) ||
	    !txmap_lookup_value(off(s)->txmap, json_integer_value(id), &local))
		return false;
	json_object_set_new(holder, "transactionId", json_integer(local));
	return true;
}

/* ---- replay --------------------------------------------------------------- */

static void retry_cb(lws_sorted_usec_list_t *sul)
{
	struct ogw_offline *o = lws_container_of(sul, struct ogw_offline, sul_retry);
	struct ogw_session *s = o->s;
	o->retry_wait = false;
	if (s->state == OGW_SESSION_ACTIVE && s->detached && !s->own && o->backlog <= 0 &&
	    !o->boot_due) {
		ogw_session_close(s, LWS_CLOSE_STATUS_NORMAL, "its queue is delivered");
		return;
	}
	offline_kick(s);
}

static void retry_later(struct ogw_session *s, int64_t ms)
{
	off(s)->retry_wait = true;
	lws_sul_schedule(s->gw->ctx, 0, &off(s)->sul_retry, retry_cb, (lws_usec_t)ms * 1000);
}

/* Whether a later queued message of this charger ends transaction @txid
 * (north version: a 1.6 integer id or a 2.x string id). */
/* Whether a message of this charger queued after @after (and not yet
 * delivered) matches @match. */
static bool queue_any(struct ogw_session *s, int64_t after,
		      bool (*match)(const struct ogw_qmsg *m, const void *arg), const void *arg)
{
	struct ogw_qmsg m;
	bool found = false;
	if (after < off(s)->acked)
		after = off(s)->acked;
	while (!found && ogw_store_queue_next(s->gw->store, s->id, after, &m) == 0) {
		after = m.seq;
		found = match(&m, arg);
		ogw_qmsg_clear(&m);
	}
	return found;
}

static const json_t *tx_event_id(const json_t *payload)
{
	return json_object_get(json_object_get(payload, "transactionInfo"), "transactionId");
}

/* @m ends the transaction @arg names (north version: a 1.6 integer id or a
 * 2.x string id). */
static bool ends_tx(const struct ogw_qmsg *m, const void *arg)
{
	const json_t *txid = arg;
	if (!strcmp(m->action, "StopTransaction"))
		return json_equal(json_object_get(m->payload, "transactionId"), txid);
	const char *ev = json_string_value(json_object_get(m->payload, "eventType"));
	return !strcmp(m->action, "TransactionEvent") && ev && !strcmp(ev, "Ended") &&
	       json_equal(tx_event_id(m->payload), txid);
}

/* The CSMS refused the id that started a transaction the gateway let start
 * offline: the charger is told to stop, as if the CSMS had answered at the
 * time (1.6 StopTransactionOnInvalidId, 2.x StopTxOnInvalidId). @queued_id
 * names the transaction as the queue does, @txid as the CSMS does. */
static void stop_refused(struct ogw_session *s, int64_t seq, const char *action,
			 const json_t *queued_id, const json_t *txid)
{
	struct ogw_log_ctx lc = log_ctx(s, "north", action);
	if (queue_any(s, seq, ends_tx, queued_id))
		return;
	if (!s->gw->conf.offline_stop_invalid || s->south.state != OGW_LEG_UP) {
		ogw_warn(&lc, "the CSMS refused the id of a transaction started offline;%s",
			 s->south.state != OGW_LEG_UP ? " the charger is not connected" :
			 " offline.stop_on_invalid_id is off");
		return;
	}
	ogw_warn(&lc, "the CSMS refused the id of a transaction started offline: stopping it");
	if (csms(s)->ver == OGW_OCPP16)
		ogw_session_inject_down(s, "RemoteStopTransaction",
					json_pack("{s:O}", "transactionId", txid));
	else
		ogw_session_inject_down(s, "RequestStopTransaction",
					json_pack("{s:O}", "transactionId", txid));
}

static const char *status_of(const json_t *info)
{
	const char *st = json_string_value(json_object_get(info, "status"));
	return st ? st : "Accepted";
}

/* A 1.6 StopTransaction the CSMS took: its id needs no mapping any more. */
static void txmap_forget(struct ogw_session *s, const char *action, const json_t *req)
{
	json_int_t local;
	json_t *id = json_object_get(req, "transactionId");
	if (csms(s)->ver != OGW_OCPP16 || strcmp(action, "StopTransaction") ||
	    !json_is_integer(id) ||
	    !txmap_lookup_value(off(s)->txmap, json_integer_value(id), &local))
		return;
	char key[24];
	snprintf(key, sizeof(key), "%" JSON_INTEGER_FORMAT, local);
	json_object_del(off(s)->txmap, key);
	txmap_save(s);
}

/* What a replayed message's answer changes: the CSMS's id for a
 * transaction started offline, a refused id, a finished mapping. */
static void reconcile(struct ogw_session *s, int64_t seq, const char *action, const json_t *req,
		      const json_t *meta, const json_t *res)
{
	struct ogw_offline *o = off(s);
	if (csms(s)->ver == OGW_OCPP16 && !strcmp(action, "StartTransaction")) {
		json_t *local = json_object_get(meta, "localTx");
		json_t *theirs = json_object_get(res, "transactionId");
		if (json_is_integer(local) && json_is_integer(theirs) &&
		    json_integer_value(local) != json_integer_value(theirs)) {
			char key[24];
			snprintf(key, sizeof(key), "%" JSON_INTEGER_FORMAT, json_integer_value(local));
			if (!o->txmap)
				o->txmap = json_object();
			if (json_object_size(o->txmap) >= TXMAP_MAX)
				json_object_del(o->txmap, json_object_iter_key(json_object_iter(o->txmap)));
			json_object_set(o->txmap, key, theirs);
			txmap_save(s);
			struct ogw_log_ctx lc = log_ctx(s, "north", action);
			ogw_info(&lc, "transaction %s started offline is %" JSON_INTEGER_FORMAT
				 " at the CSMS", key, json_integer_value(theirs));
		}
		if (strcmp(status_of(json_object_get(res, "idTagInfo")), "Accepted") &&
		    json_is_integer(theirs))
			stop_refused(s, seq, action, json_is_integer(local) ? local : theirs, theirs);
		return;
	}
	if (csms(s)->ver == OGW_OCPP16) {
		txmap_forget(s, action, req);
		return;
	}
	if (csms(s)->ver != OGW_OCPP16 && !strcmp(action, "TransactionEvent")) {
		const char *ev = json_string_value(json_object_get(req, "eventType"));
		json_t *info = json_object_get(res, "idTokenInfo");
		const json_t *txid = tx_event_id(req);
		if (info && strcmp(status_of(info), "Accepted") && ev && strcmp(ev, "Ended"))
			stop_refused(s, seq, action, txid, txid);
	}
}

static void replay_done(struct ogw_call *c, const struct ogw_frame *answer)
{
	struct ogw_leg *l = c->user;
	struct ogw_session *s = l->s;
	struct ogw_offline *o = off(s);
	int64_t seq = json_integer_value(json_object_get(c->memo, "seq"));
	int attempts = (int)json_integer_value(json_object_get(c->memo, "attempts"));
	int retry_ms = s->gw->conf.offline_retry_s * 1000;
	struct ogw_log_ctx lc = { s->id, "north", c->action, c->id };

	o->inflight = 0;
	if (s->state != OGW_SESSION_ACTIVE)
		return; /* it stays queued */
	if (!answer) {
		if (c->deadline_us <= ogw_now_us()) {
			ogw_warn(&lc, "no answer to queued %s: retry in %d s", c->action,
				 s->gw->conf.offline_retry_s);
			retry_later(s, retry_ms);
		}
		return; /* leg lost: the next north_up replays it */
	}
	if (answer->type == OGW_MSG_CALLERROR) {
		attempts++;
		int r;
		if (attempts >= s->gw->conf.offline_attempts) {
			ogw_err(&lc, "CSMS refused queued %s %d times (%s: %s): moved to dead letters",
				c->action, attempts, answer->err_code, answer->err_desc);
			r = ogw_store_queue_mark(s->gw->store, seq, attempts);
			if (r == 0)
				r = ogw_store_queue_dead(s->gw->store, seq, answer->err_code,
							 answer->err_desc);
			if (r == 0) {
				o->backlog--;
				ogw_events_note(s->gw, s->id, "dead-letter",
						"queued %s refused %d times (%s): dead letter",
						c->action, attempts, answer->err_code);
			}
			retry_later(s, r == 0 ? 0 : retry_ms);
		} else {
			ogw_warn(&lc, "CSMS refused queued %s (%s: %s): attempt %d of %d, retry in %d s",
				 c->action, answer->err_code, answer->err_desc, attempts,
				 s->gw->conf.offline_attempts,
				 s->gw->conf.offline_retry_s * attempts);
			r = ogw_store_queue_mark(s->gw->store, seq, attempts);
			retry_later(s, (int64_t)retry_ms * attempts);
		}
		if (r < 0)
			store_warn(s, "record a refusal", r);
		return;
	}
	if (!ogw_payload_valid(l, c->action, true, answer->payload, "CSMS answer to a queued message"))
		ogw_warn(&lc, "taken as delivered all the same");
	reconcile(s, seq, c->action, c->payload, json_object_get(c->memo, "meta"), answer->payload);
	struct ogw_local_ctx lctx = local_ctx(s, csms(s)->ver);
	ogw_local_observe(&lctx, true, c->action, c->payload, answer->payload);
	/* Delivered: never sent again, even when its row cannot be deleted now
	 * (a full disk); the next delivery deletes what is left up to it. */
	o->acked = seq;
	o->backlog--;
	int r = ogw_store_queue_delete_upto(s->gw->store, s->id, seq);
	if (r < 0) {
		store_warn(s, "delete a delivered message", r);
		check_batch(s);
	}
	ogw_debug(&lc, "queued %s delivered, %" PRId64 " left", c->action, o->backlog);
	if (s->detached && !s->own && o->backlog <= 0 && !o->boot_due)
		retry_later(s, 0); /* closes the session outside this callback */
	else
		offline_kick(s);
}

static void boot_done(struct ogw_call *c, const struct ogw_frame *answer)
{
	struct ogw_leg *l = c->user;
	struct ogw_session *s = l->s;
	struct ogw_offline *o = off(s);
	struct ogw_log_ctx lc = { s->id, "north", c->action, c->id };
	int retry_ms = s->gw->conf.offline_retry_s * 1000;

	o->boot_inflight = false;
	if (s->state != OGW_SESSION_ACTIVE)
		return;
	if (!answer) {
		if (c->deadline_us <= ogw_now_us())
			retry_later(s, retry_ms);
		return;
	}
	const char *status = answer->type == OGW_MSG_CALLRESULT ?
			     json_string_value(json_object_get(answer->payload, "status")) : NULL;
	if (status && !strcmp(status, "Accepted")) {
		ogw_info(&lc, "CSMS accepted the charger's boot: delivering %" PRId64
			 " queued messages", o->backlog);
		o->boot_due = false;
		kv_del(s, BOOT_DUE_KEY);
		offline_kick(s);
		return;
	}
	json_int_t interval = answer->type == OGW_MSG_CALLRESULT ?
			      json_integer_value(json_object_get(answer->payload, "interval")) : 0;
	int64_t wait = interval > 0 ? (int64_t)interval * 1000 : retry_ms;
	ogw_warn(&lc, "CSMS answered the charger's boot with %s: queued messages wait, boot again in %lld s",
		 status ? status : answer->err_code, (long long)(wait / 1000));
	retry_later(s, wait);
}

static void send_boot(struct ogw_session *s)
{
	struct ogw_offline *o = off(s);
	json_t *boot = ogw_store_kv_get(s->gw->store, s->id, BOOT_KEY, NULL);
	if (!boot || !ogw_payload_valid(csms(s), "BootNotification", false, boot, "stored boot")) {
		json_decref(boot);
		o->boot_due = false;
		kv_del(s, BOOT_DUE_KEY);
		offline_kick(s);
		return;
	}
	o->boot_inflight = true;
	if (ogw_leg_call(csms(s), "BootNotification", boot, boot_done, NULL, NULL) < 0) {
		o->boot_inflight = false;
		retry_later(s, 1000);
	}
}

static void offline_kick(struct ogw_session *s)
{
	struct ogw_offline *o = off(s);
	struct ogw_store *st = s->gw->store;

	if (s->state != OGW_SESSION_ACTIVE || csms(s)->state != OGW_LEG_UP || o->inflight ||
	    o->boot_inflight || o->retry_wait || s->gw->stopping)
		return;
	if (o->boot_due) {
		send_boot(s);
		return;
	}
	while (o->backlog > 0) {
		struct ogw_qmsg m;
		int r = ogw_store_queue_next(st, s->id, o->acked, &m);
		if (r == -ENOENT) {
			o->backlog = 0;
			break;
		}
		if (r < 0) {
			store_warn(s, "read the queue", r);
			retry_later(s, (int64_t)s->gw->conf.offline_retry_s * 1000);
			return;
		}
		struct ogw_log_ctx lc = log_ctx(s, "north", m.action);
		json_t *payload = json_incref(m.payload);
		offline_map_up(s, m.action, payload);
		if (strcmp(m.ver, ogw_ocpp_name(csms(s)->ver)) ||
		    !ogw_payload_valid(csms(s), m.action, false, payload, "queued message")) {
			ogw_err(&lc, "queued %s (OCPP %s) cannot go to this CSMS (OCPP %s): moved to dead letters",
				m.action, m.ver, ogw_ocpp_name(csms(s)->ver));
			if (ogw_store_queue_dead(st, m.seq, "FormationViolation",
						 "not valid for the CSMS's OCPP version") == 0) {
				o->backlog--;
				ogw_events_note(s->gw, s->id, "dead-letter",
						"queued %s (OCPP %s) not valid for the CSMS: dead letter",
						m.action, m.ver);
			}
			json_decref(payload);
			ogw_qmsg_clear(&m);
			continue;
		}
		json_t *memo = json_pack("{s:I, s:i, s:O?}", "seq", (json_int_t)m.seq, "attempts",
					 m.attempts, "meta", m.meta);
		r = ogw_store_queue_mark(st, m.seq, m.attempts);
		if (r < 0)
			store_warn(s, "mark a queued message sent", r);
		int64_t age_s = (int64_t)time(NULL) - m.queued_at_ms / 1000;
		ogw_info(&lc, "replaying %s queued %" PRId64 " s ago%s", m.action, age_s,
			 m.sent ? " (sent before: may be a duplicate)" : "");
		o->inflight = m.seq;
		r = ogw_leg_call(csms(s), m.action, payload, replay_done, NULL, memo);
		ogw_qmsg_clear(&m);
		if (r < 0) {
			o->inflight = 0;
			retry_later(s, 1000);
		}
		return;
	}
	if (s->detached && !s->own)
		retry_later(s, 0);
}

static void offline_north_up(struct ogw_session *s)
{
	struct ogw_offline *o = off(s);
	if (ogw_session_standalone(s))
		return;
	int64_t n = ogw_store_queue_count(s->gw->store, s->id, NULL);
	o->backlog = n > 0 ? n : 0;
	o->inflight = 0;
	o->boot_inflight = false;
	/* A session the gateway opened by itself presents the charger first. */
	if (s->detached && !o->boot_due) {
		json_t *boot = ogw_store_kv_get(s->gw->store, s->id, BOOT_KEY, NULL);
		o->boot_due = boot != NULL;
		json_decref(boot);
	}
	if (o->backlog || o->boot_due) {
		struct ogw_log_ctx lc = log_ctx(s, "north", NULL);
		ogw_info(&lc, "CSMS reachable: %" PRId64 " queued messages to deliver%s", o->backlog,
			 o->boot_due ? ", after the charger's boot" : "");
	}
	lws_sul_cancel(&o->sul_retry);
	o->retry_wait = false;
	offline_kick(s);
}

/* ---- what the CSMS said --------------------------------------------------- */

/* Calls whose answers the authorization list and cache learn from. */
static const char *const auth_up[] = { "Authorize", "StartTransaction", "StopTransaction",
				       "TransactionEvent" };
static const char *const auth_down[] = { "ClearCache", "SendLocalList" };

static void offline_relayed(struct ogw_call *c, const json_t *res)
{
	struct ogw_leg *l = c->user;
	struct ogw_session *s = l->s;
	bool up = l->kind == OGW_NORTH;
	if (up && !is_csms(l))
		return; /* what another CSMS said is not what the charger acts on */
	if (up ? !IS_ACTION(c->action, auth_up) : !IS_ACTION(c->action, auth_down))
		return;
	/* Only an answer with idTagInfo / idTokenInfo teaches the cache, and a
	 * 1.6 StopTransaction ends a mapping: no other needs the call parsed
	 * back from its bytes (a 2.x TransactionEvent's meter values, at every
	 * update; callgrind: 10 % of the gateway's instructions on the mixed load). */
	if (up && strcmp(c->action, "StopTransaction") &&
	    !json_object_get(res, "idTagInfo") && !json_object_get(res, "idTokenInfo"))
		return;
	json_t *req = call_payload(c);
	if (!req)
		return;
	struct ogw_local_ctx lctx = local_ctx(s, l->ver);
	ogw_local_observe(&lctx, up, c->action, req, res);
	if (up)
		txmap_forget(s, c->action, req);
	json_decref(req);
}

/* @m belongs to 2.x transaction @arg (any transaction when NULL). */
static bool in_tx(const struct ogw_qmsg *m, const void *arg)
{
	const char *txid = arg;
	const char *id = json_string_value(tx_event_id(m->payload));
	return !txid || (id && !strcmp(id, txid));
}

static bool offline_queued(struct ogw_session *s, const char *txid)
{
	return off(s)->backlog > 0 && queue_any(s, 0, in_tx, txid);
}

static json_t *offline_tx_status(struct ogw_call *c, const json_t *res)
{
	struct ogw_leg *l = c->user;
	struct ogw_session *s = l->s;
	if (csms(s)->ver == OGW_OCPP16 || off(s)->backlog <= 0 ||
	    json_is_true(json_object_get(res, "messagesInQueue")))
		return NULL;
	json_t *req = call_payload(c);
	bool queued = queue_any(s, 0, in_tx, json_string_value(json_object_get(req, "transactionId")));
	json_decref(req);
	if (!queued)
		return NULL;
	json_t *fixed = json_deep_copy(res);
	json_object_set_new(fixed, "messagesInQueue", json_true());
	return fixed;
}

/* ---- lifetime --------------------------------------------------------------- */

static int offline_new(struct ogw_session *s)
{
	struct ogw_offline *o = off(s);
	o->s = s;
	o->rec = ogw_local_rec_new(s->gw->store, s->id, s->south.ver);
	if (ogw_session_standalone(s))
		return 0;
	int64_t n = ogw_store_queue_count(s->gw->store, s->id, NULL);
	o->backlog = n > 0 ? n : 0;
	json_t *due = ogw_store_kv_get(s->gw->store, s->id, BOOT_DUE_KEY, NULL);
	o->boot_due = due != NULL;
	json_decref(due);
	if (csms(s)->ver == OGW_OCPP16)
		o->txmap = ogw_store_kv_get(s->gw->store, s->id, TXMAP_KEY, NULL);
	return 0;
}

static void offline_free(struct ogw_session *s)
{
	struct ogw_offline *o = off(s);
	if (!o->s)
		return; /* never started: another stage failed first */
	lws_sul_cancel(&o->sul_retry);
	lws_sul_cancel(&o->sul_done);
	/* Calls answered locally still get their answer exactly once. */
	done_run(&o->sul_done);
	json_decref(o->txmap);
	ogw_local_rec_free(o->rec);
	memset(o, 0, sizeof(*o));
}

static bool offline_detach(struct ogw_session *s)
{
	struct ogw_offline *o = off(s);
	if (ogw_session_standalone(s) || s->gw->stopping || (o->backlog <= 0 && !o->boot_due))
		return false;
	s->detached = true;
	struct ogw_log_ctx lc = log_ctx(s, NULL, NULL);
	ogw_info(&lc, "charger gone: its session stays to deliver %" PRId64 " queued messages",
		 o->backlog);
	offline_kick(s);
	return true;
}

/* ---- the stage ------------------------------------------------------------ */

static bool offline_on_leg(struct ogw_leg *l, enum ogw_leg_event ev)
{
	if (ev == OGW_LEG_EV_UP && is_csms(l))
		offline_north_up(l->s);
	return ev == OGW_LEG_EV_DOWN && l->kind == OGW_SOUTH && offline_detach(l->s);
}

/* Calls from the CSMS that name a 1.6 transaction the gateway started
 * offline carry the CSMS's id: the charger knows the gateway's. */
static enum ogw_stage_verdict offline_on_call(struct ogw_leg *from, struct ogw_frame *f)
{
	if (is_csms(from) && offline_map_down(from->s, f->action, f->payload))
		return OGW_STAGE_CHANGED;
	return OGW_STAGE_CONTINUE;
}

/* A charger's CALL the CSMS cannot take now is answered here (and queued
 * when the CSMS must still see it); one going north gets the CSMS's ids. */
static enum ogw_stage_verdict offline_on_relay(struct ogw_leg *from, struct ogw_leg *to,
					       const struct ogw_frame *f, const char *action,
					       json_t *payload, const struct ogw_tr_action *entry,
					       json_t *memo)
{
	if (from->kind == OGW_SOUTH && is_csms(to) &&
	    offline_take(from, f, action, payload, entry, memo))
		return OGW_STAGE_DONE;
	if (f->type == OGW_MSG_SEND || !is_csms(to))
		return OGW_STAGE_CONTINUE;
	return offline_map_up(to->s, action, payload) ? OGW_STAGE_CHANGED : OGW_STAGE_CONTINUE;
}

static enum ogw_stage_verdict offline_on_own_call(struct ogw_leg *to, struct ogw_call *c)
{
	if (!is_csms(to))
		return OGW_STAGE_CONTINUE;
	if (offline_answers(to->s, c->action, c->payload)) {
		/* Answered in the CSMS's place on the next turn of the loop:
		 * the translator is still inside its own call now. */
		offline_take_emit(to->s, c);
		return OGW_STAGE_DONE;
	}
	return offline_map_up(to->s, c->action, c->payload) ? OGW_STAGE_CHANGED :
							      OGW_STAGE_CONTINUE;
}

static json_t *offline_on_answer(struct ogw_call *c, const json_t *res)
{
	struct ogw_leg *l = c->user;
	offline_relayed(c, res);
	/* A charger's GetTransactionStatus answer, relayed as is: corrected
	 * for what the gateway still holds for the CSMS. */
	if (l->kind == OGW_SOUTH && !c->ctx && !strcmp(c->action, "GetTransactionStatus"))
		return offline_tx_status(c, res);
	return NULL;
}

static bool offline_on_lost(struct ogw_call *c)
{
	return is_csms(c->user) && offline_salvage(c);
}

static json_t *offline_on_lost_own(struct ogw_call *c)
{
	return is_csms(c->user) ? offline_salvage_emit(c) : NULL;
}

/* The transaction log (src/local): every transaction the charger runs, with
 * its energy, whoever answered it. */
static void offline_observe(struct ogw_session *s, enum ogw_obs what, const char *action,
			    const json_t *payload)
{
	bool offline = ogw_session_standalone(s) || csms(s)->state != OGW_LEG_UP;
	ogw_local_rec_observe(off(s)->rec, what == OGW_OBS_UP_CALL || what == OGW_OBS_UP_RESULT,
			      what == OGW_OBS_UP_RESULT || what == OGW_OBS_DOWN_RESULT, action,
			      payload, offline);
}

const struct ogw_stage ogw_offline_stage = {
	.name = "offline",
	.state_size = sizeof(struct ogw_offline),
	.on_session_new = offline_new,
	.on_session_free = offline_free,
	.on_leg = offline_on_leg,
	.on_call = offline_on_call,
	.on_relay = offline_on_relay,
	.on_own_call = offline_on_own_call,
	.on_answer = offline_on_answer,
	.on_lost = offline_on_lost,
	.on_lost_own = offline_on_lost_own,
	.observe = offline_observe,
	.holds = offline_queued,
};

struct restore_ctx {
	struct ogw_gateway *gw;
	unsigned int sessions;
};

static void restore_one(const char *charger, int64_t count, void *arg)
{
	struct restore_ctx *rc = arg;
	struct ogw_log_ctx lc = { charger, "north", NULL, NULL };
	json_t *v = ogw_store_kv_get(rc->gw->store, charger, VERSIONS_KEY, NULL);
	enum ogw_ocpp south, north;
	const char *sv = json_string_value(json_object_get(v, "south"));
	const char *nv = json_string_value(json_object_get(v, "north"));
	bool known = sv && nv && ogw_ocpp_parse(sv, &south) == 0 && ogw_ocpp_parse(nv, &north) == 0;
	json_decref(v);
	if (!known) {
		ogw_err(&lc, "%" PRId64 " queued messages, but their OCPP versions are unknown: not delivered",
			count);
		return;
	}
	if (ogw_session_new_detached(rc->gw, charger, south, north)) {
		ogw_info(&lc, "%" PRId64 " messages queued before the restart: delivering", count);
		rc->sessions++;
	}
}

void ogw_offline_restore(struct ogw_gateway *gw)
{
	if (!gw->conf.csms_url)
		return;
	struct restore_ctx rc = { gw, 0 };
	int r = ogw_store_queue_chargers(gw->store, restore_one, &rc);
	if (r < 0)
		ogw_err(NULL, "Failed to read the queue: %s", strerror(-r));
	int64_t dead = ogw_store_dead_count(gw->store, NULL);
	if (dead > 0)
		ogw_warn(NULL, "%" PRId64 " messages in the dead letters (the CSMS refused them)",
			 dead);
}

bool ogw_offline_boot_waits(struct ogw_session *s)
{
	return off(s)->boot_due || off(s)->boot_inflight;
}

int ogw_offline_boot_set(struct ogw_gateway *gw, const char *id, const json_t *payload)
{
	return ogw_store_kv_put(gw->store, id, BOOT_KEY, payload);
}

int ogw_offline_deliver_as(struct ogw_gateway *gw, const char *id, enum ogw_ocpp south,
			   enum ogw_ocpp north, const char *action, json_t *payload)
{
	int r = 0;
	/* a restart rebuilds the session from these (restore_one) */
	json_t *v = ogw_store_kv_get(gw->store, id, VERSIONS_KEY, NULL);
	if (!v) {
		v = json_pack("{s:s, s:s}", "south", ogw_ocpp_name(south), "north",
			      ogw_ocpp_name(north));
		r = v ? ogw_store_kv_put(gw->store, id, VERSIONS_KEY, v) : -ENOMEM;
	}
	json_decref(v);
	if (r == 0)
		r = ogw_store_queue_push(gw->store, id, ogw_ocpp_name(north), action, payload, NULL,
					 NULL);
	json_decref(payload);
	if (r < 0)
		return r;
	if (!ogw_session_find(gw, id) && !ogw_session_new_detached(gw, id, south, north)) {
		struct ogw_log_ctx lc = { id, "north", action, NULL };
		ogw_info(&lc, "queued: delivered when the charger connects");
	}
	return 0;
}

void ogw_offline_commit_failed(struct ogw_gateway *gw, int err)
{
	ogw_err(NULL, "Failed to %s: the answers held for it become refusals (CALLERROR), so "
		"the chargers keep their messages and send them again",
		err == -ECANCELED ? "store a batch (SQLite rolled it back: disk full?)" :
		err == -ENOSPC ? "commit to the store: disk full" : "commit to the store");
	for (size_t i = 0; i < gw->table_size; i++)
		for (struct ogw_session *s = gw->table[i]; s; s = s->hnext) {
			ogw_session_withdraw(s);
			int64_t n = ogw_store_queue_count(gw->store, s->id, NULL);
			off(s)->backlog = n > 0 ? n : 0;
			/* Deliveries pause: their bookkeeping did not stick either. */
			if (off(s)->backlog && !off(s)->retry_wait)
				retry_later(s, (int64_t)gw->conf.offline_retry_s * 1000);
		}
}
