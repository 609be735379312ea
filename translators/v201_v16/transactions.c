/* SPDX-License-Identifier: MIT */
/*
 * Transactions of a 2.0.1 station shown to a 1.6 central system:
 * TransactionEvent -> StartTransaction / MeterValues / StatusNotification /
 * StopTransaction, Authorize, remote start and stop, reservations and the
 * local authorization list and cache. Part of
 * the translator whose tables are table.c; no I/O, everything goes
 * through the session's ogw_tr_* environment.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "ocppgw/ocpp.h"
#include "ocppgw/translator.h"
#include "../common.h"
#include "../connector_map.h"
#include "internal.h"
#include "../v21_adapt.h"

/* 2.0.1 stoppedReason -> 1.6 StopTransaction.reason; the rest is Other.
 * ImmediateReset is HardReset unless the 1.6 Reset that caused it was Soft
 * (stop_reason_of()). */
static const struct ogw_tr_map stop_reason16[] = {
	{ "DeAuthorized", "DeAuthorized" },
	{ "EVDisconnected", "EVDisconnected" },
	{ "EmergencyStop", "EmergencyStop" },
	{ "ImmediateReset", "HardReset" },
	{ "Local", "Local" },
	{ "Other", "Other" },
	{ "PowerLoss", "PowerLoss" },
	{ "Reboot", "Reboot" },
	{ "Remote", "Remote" },
};

/* Whether transaction @txid was stopped already (its Ended handled). */
static bool tx_ended(struct ogw_tr_env *env, const char *txid)
{
	json_t *st = ogw_tr_state_get(env, "ended"), *v;
	bool found = false;
	size_t i;

	json_array_foreach(json_object_get(st, "list"), i, v)
		found = found || !strcmp(json_string_value(v), txid);
	json_decref(st);
	return found;
}

/* The idTag a 1.6 RemoteStartTransaction gave with @remote_id (a new
 * reference), or NULL. */
static json_t *remote_idtag(struct ogw_tr_env *env, long long remote_id)
{
	json_t *st = ogw_tr_state_get(env, "remote"), *v, *tag = NULL;
	size_t i;

	json_array_foreach(json_object_get(st, "list"), i, v)
		if (json_integer_value(json_object_get(v, "id")) == remote_id)
			tag = json_object_get(v, "idTag");
	tag = json_incref(tag);
	json_decref(st);
	return tag;
}

/* Drops a finished transaction's state and remembers it stopped. Its
 * connector stays Finishing when the stop left the cable plugged
 * ("finish"). */
static int tx_forget(struct ogw_tr_env *env, const char *txid, const json_t *tx)
{
	json_t *id16 = json_object_get(tx, "id16");
	long long evse = json_integer_value(json_object_get(tx, "evse"));
	json_t *e = tr201_state_get_num(env, "evse", evse);
	char key[KEY_MAX];
	int r = 0;

	if (e && !strcmp(tr_str(e, "tx") ? tr_str(e, "tx") : "", txid))
		r = json_is_true(json_object_get(tx, "finish"))
			    ? tr201_state_put_num(env, "evse", evse,
						 json_pack("{s:b, s:I}", "finishing", 1, "c16",
						      (json_int_t)tr201_tx_c16(env, tx)))
			    : tr201_state_del_num(env, "evse", evse);
	json_decref(e);
	if (!r && id16)
		r = tr201_state_del_num(env, "tx16", json_integer_value(id16));
	if (!r)
		r = tr201_state_list_push(env, "ended", json_string(txid), ENDED_KEEP);
	snprintf(key, sizeof(key), "tx:%s", txid);
	return r ? r : ogw_tr_state_del(env, key);
}

/* ---- Authorize ---------------------------------------------------------- */

/* A Plug & Charge authorization (iso15118CertificateHashData or a
 * certificate to check) goes whole in the PnC DataTransfer "Authorize";
 * a plain one is 1.6 Authorize. */
int tr201_up_authorize(struct ogw_tr_env *env, const json_t *payload,
		      struct ogw_tr_out *out)
{
	const char *tok = tr_str(json_object_get(payload, "idToken"), "idToken");
	(void)env;

	if (json_object_get(payload, "iso15118CertificateHashData") ||
	    json_object_get(payload, "certificate"))
		return tr201_pnc_forward("Authorize", payload, out);
	/* A 1.6 central system cannot know a token it cannot be sent. */
	if (utf8_len(tok) > IDTAG16_MAX)
		return ogw_tr_out_answer(out, json_pack("{s:{s:s}}", "idTokenInfo", "status", "Invalid"));
	return ogw_tr_forward(out, "Authorize", json_pack("{s:s}", "idTag", tok), NULL);
}

int tr201_res_authorize(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
		       json_t **ret)
{
	(void)env;
	/* A central system without Plug & Charge cannot vouch for the
	 * contract: Unknown, not Accepted. */
	*ret = memo ? tr201_pnc_answer_with(result, "idTokenInfo",
					   json_pack("{s:{s:s}}", "idTokenInfo", "status", "Unknown"))
		    : tr201_answer_with_info(result);
	return *ret ? 0 : -ENOMEM;
}

/* Whether the 1.6 transaction of @tx has started (StartTransaction sent or
 * on its way): from then on its status follows the charging state. */
bool tr201_tx_in16(const json_t *tx)
{
	return json_object_get(tx, "meterStart") != NULL;
}

/* ---- TransactionEvent ----------------------------------------------------
 * Started -> StartTransaction, Updated -> MeterValues / StatusNotification,
 * Ended -> StopTransaction. 1.6 needs an idTag and a register reading to
 * start a transaction, and the central system's integer id on every later
 * message. The 1.6 transaction starts at the event that makes both known
 * (REFERENCE §3, docs/TRANSLATION.md "2.0.1 station, 1.6 central system"):
 * the idTag is the event's idToken, or the idTag of the 1.6 remote start
 * named by remoteStartId; meterStart the register then (the event's, else
 * the last the EVSE reported). Until then events are answered at once and
 * their readings go out as the connector's. The event that starts it is
 * held (DEFER) until StartTransaction.conf: then the id is stored, the queue
 * is sent in order and the event answered with idTokenInfo. Emitted calls
 * and forwarded ones share the north queue, so 1.6 sees them in event order.
 */

/* The 1.6 calls a transaction's queue can hold, as static strings for
 * ogw_tr_emit() and out->action. */
static const char *const queued16[] = { "MeterValues", "StatusNotification", "StopTransaction" };

static const char *queued_action(const json_t *item)
{
	const char *a = tr_str(item, "action");
	for (size_t i = 0; a && i < N(queued16); i++)
		if (!strcmp(queued16[i], a))
			return queued16[i];
	return NULL;
}

struct tx_start {                   /* an emitted StartTransaction */
	struct ogw_tr_pending *pending; /* the held TransactionEvent, or NULL */
	long long seq;                  /* its seqNo */
	bool want_info;                 /* it carried an idToken */
	char txid[40];
};

/* Drops the queued calls of event @seq (an event being retried or failed).
 * A dropped StatusNotification also drops the 1.6 status it recorded, so
 * the retry reports it again. */
static int queue_drop_seq(json_t *tx, long long seq)
{
	json_t *q = json_object_get(tx, "queue");
	for (size_t i = json_array_size(q); i-- > 0;) {
		json_t *item = json_array_get(q, i);
		if (json_integer_value(json_object_get(item, "seq")) != seq)
			continue;
		if (!strcmp(tr_str(item, "action"), "StatusNotification"))
			json_object_del(tx, "cs16");
		if (json_array_remove(q, i))
			return -ENOMEM;
	}
	return 0;
}

/* Emits the queue items @items (their payloads with 1.6 transaction id
 * @id16 where they take one). Sets *ret_ended when they held the
 * StopTransaction (may be NULL). */
static int items_emit(struct ogw_tr_env *env, const json_t *items, long long id16,
		      bool *ret_ended)
{
	json_t *item;
	size_t i;
	int r;

	json_array_foreach(items, i, item) {
		const char *action = queued_action(item);
		json_t *p = json_deep_copy(json_object_get(item, "payload"));

		if (!p || !action) {
			json_decref(p);
			return p ? -EINVAL : -ENOMEM;
		}
		if (strcmp(action, "StatusNotification") && set_int(p, "transactionId", id16)) {
			json_decref(p);
			return -ENOMEM;
		}
		if (!strcmp(action, "StopTransaction") && ret_ended)
			*ret_ended = true;
		r = ogw_tr_emit(env, OGW_TR_UP, action, p, tr201_ignore_answer, NULL);
		if (r)
			return r;
	}
	return 0;
}

/* Sends every queued call of @tx with its 1.6 transaction id @id16. Sets
 * *ret_ended when the queue held the StopTransaction. */
static int queue_flush(struct ogw_tr_env *env, json_t *tx, long long id16, bool *ret_ended)
{
	int r;

	*ret_ended = false;
	r = items_emit(env, json_object_get(tx, "queue"), id16, ret_ended);
	if (!r)
		json_object_del(tx, "queue");
	return r;
}

static void start_done(struct ogw_tr_env *env, void *user, const json_t *result)
{
	struct tx_start *ctx = user;
	json_t *tx = tr201_state_get_tx(env, ctx->txid), *ans = NULL;
	json_t *id = json_object_get(result, "transactionId");
	bool ended = false;

	if (!tx) {
		/* Forgotten meanwhile. */
		ans = json_object();
		goto out;
	}
	if (!json_is_integer(id)) {
		/* No id: drop what this event queued; the station retries it (its
		 * TransactionEvent queue) and the next attempt restarts. */
		queue_drop_seq(tx, ctx->seq);
		tr201_state_put_tx(env, ctx->txid, tx);
		goto out;
	}
	if (set_int(tx, "id16", json_integer_value(id)) ||
	    tr201_state_put_num(env, "tx16", json_integer_value(id),
			       json_pack("{s:s}", "id", ctx->txid)) ||
	    queue_flush(env, tx, json_integer_value(id), &ended)) {
		json_decref(tx);
		goto out;
	}
	if (ended) {
		tx_forget(env, ctx->txid, tx);
		json_decref(tx);
	} else {
		tr201_state_put_tx(env, ctx->txid, tx);
	}
	ans = ctx->want_info ? tr201_answer_with_info(result) : json_object();
out:
	if (ctx->pending)
		ogw_tr_answer(env, ctx->pending, ans, OGW_ERR_GENERIC,
			      "the central system did not confirm StartTransaction");
	else
		json_decref(ans);
	free(ctx);
}

/* Appends the 1.6 call @action/@payload (taken) to @list as a queue item. */
static int msg_add(json_t *list, long long seq, const char *action, json_t *payload)
{
	if (!payload)
		return -ENOMEM;
	return json_array_append_new(list, json_pack("{s:I, s:s, s:o}", "seq", (json_int_t)seq,
						     "action", action, "payload", payload))
		       ? -ENOMEM : 0;
}

/* The 1.6 StopTransaction.reason for 2.0.1 stoppedReason @reason. */
static const char *stop_reason_of(struct ogw_tr_env *env, const char *reason)
{
	json_t *rs;
	bool soft;

	if (!reason)
		return "Local"; /* E01: absent means Local in both versions */
	if (strcmp(reason, "ImmediateReset"))
		return ogw_tr_map_str(stop_reason16, N(stop_reason16), reason, "Other");
	rs = ogw_tr_state_get(env, "reset");
	soft = tr_same(tr_str(rs, "type"), "Soft");
	json_decref(rs);
	return soft ? "SoftReset" : "HardReset";
}

/*
 * Updates @tx from event @ev and appends the 1.6 calls it becomes inside
 * the 1.6 transaction to @msgs (without transactionId): a StatusNotification
 * when the 1.6 status changes, MeterValues, and at Ended the
 * StopTransaction (its transactionData led by the signed start reading),
 * then Finishing when the cable stays plugged.
 */
static int te_messages(struct ogw_tr_env *env, const json_t *ev, json_t *tx, json_t *msgs)
{
	const char *type = tr_str(ev, "eventType");
	json_t *ts = json_object_get(ev, "timestamp");
	json_t *info = json_object_get(ev, "transactionInfo");
	const char *st16;
	const char *tok = tr_str(json_object_get(ev, "idToken"), "idToken");
	const char *reason = tr_str(info, "stoppedReason");
	long long seq = json_integer_value(json_object_get(ev, "seqNo"));
	long long evse = json_integer_value(json_object_get(tx, "evse")), wh;
	long long id16 = tr201_tx_c16(env, tx);
	json_t *mv = NULL, *stop;
	int r = -ENOMEM;

	if (!tr201_tx_in16(tx)) {
		r = 0;
		goto out;
	}
	st16 = ogw_tr_map_str(charging_state16, N(charging_state16), tr_str(tx, "cs"), NULL);
	/* A 1.6 charger goes from Preparing straight to Charging when energy
	 * flows: plugged before any energy is still that wait, not a suspension
	 * (the station started its transaction at plug-in). */
	if (tr_same(tr_str(tx, "cs"), "EVConnected") &&
	    !json_is_true(json_object_get(tx, "charged")))
		st16 = NULL;
	if (strcmp(type, "Ended") && st16 && !tr_same(st16, tr_str(tx, "cs16"))) {
		/* While a problem is raised the connector stays Faulted (the
		 * transaction goes on); its clearing reports the state then. */
		json_t *fault = tr201_fault_active(env, evse, tr201_tx_conn(tx));
		bool faulted = fault != NULL;

		json_decref(fault);
		if (json_object_set_new(tx, "cs16", json_string(st16)) ||
		    (!faulted &&
		     msg_add(msgs, seq, "StatusNotification", tr201_status16(id16, st16, NULL, ts))))
			goto out;
	}
	mv = tr201_metervalues_to16(json_object_get(ev, "meterValue"), MV_NO_BEGIN);
	if (!mv)
		goto out;
	if (strcmp(type, "Ended")) {
		r = json_array_size(mv) ? msg_add(msgs, seq, "MeterValues",
						  json_pack("{s:I, s:O}", "connectorId",
							    (json_int_t)id16, "meterValue", mv))
					: 0;
		goto out;
	}
	if (!tr201_meter_get(env, evse, &wh))
		wh = json_integer_value(json_object_get(tx, "meterStart"));
	stop = json_pack("{s:I, s:O, s:s}", "meterStop", (json_int_t)wh, "timestamp", ts,
			 "reason", stop_reason_of(env, reason));
	if (json_array_size(json_object_get(tx, "begin16")) &&
	    json_array_insert(mv, 0, json_array_get(json_object_get(tx, "begin16"), 0)))
		goto out;
	if (!stop || (json_array_size(mv) && json_object_set(stop, "transactionData", mv)) ||
	    (tok && utf8_len(tok) <= IDTAG16_MAX &&
	     json_object_set_new(stop, "idTag", json_string(tok)))) {
		json_decref(stop);
		goto out;
	}
	if (msg_add(msgs, seq, "StopTransaction", stop))
		goto out;
	/* A stop that leaves the cable plugged is followed by Finishing (1.6
	 * §7.7); the station itself reports nothing while it stays Occupied. */
	r = 0;
	if (!tr_same(tr_str(tx, "cs"), "Idle") && !tr_same(reason, "EVDisconnected") &&
	    (json_object_set_new(tx, "finish", json_true()) ||
	     msg_add(msgs, seq, "StatusNotification", tr201_status16(id16, "Finishing", NULL, ts))))
		r = -ENOMEM;
out:
	json_decref(mv);
	return r;
}

/* Keeps what event @ev tells of its transaction @tx: the charging state,
 * whether energy flowed, the first register reading. */
static int te_track(const json_t *ev, json_t *tx)
{
	const char *cs = tr_str(json_object_get(ev, "transactionInfo"), "chargingState");
	long long wh;

	if (cs && (json_object_set_new(tx, "cs", json_string(cs)) ||
		   (!strcmp(cs, "Charging") && json_object_set_new(tx, "charged", json_true()))))
		return -ENOMEM;
	if (!json_object_get(tx, "wh0") && tr201_energy_wh(json_object_get(ev, "meterValue"), &wh) &&
	    set_int(tx, "wh0", wh))
		return -ENOMEM;
	if (!json_object_get(tx, "begin16")) {
		json_t *begin = tr201_metervalues_to16(json_object_get(ev, "meterValue"), MV_SIGNED_BEGIN);
		if (!begin || (json_array_size(begin) && json_object_set(tx, "begin16", begin))) {
			json_decref(begin);
			return -ENOMEM;
		}
		json_decref(begin);
	}
	return 0;
}

/* The connector of EVSE @evse the station reports Occupied (the one a
 * transaction whose events name no connector is on), else 1. */
static long long evse_occupied_conn(struct ogw_tr_env *env, long long evse)
{
	json_t *map = tr201_cmap_get(env);
	long long conn = 1;

	for (size_t i = ogw_cmap_count(map); i-- > 0;) {
		json_t *pair = json_array_get(map, i), *cs;
		if (json_integer_value(json_array_get(pair, 0)) != evse)
			continue;
		cs = tr201_state_get_num(env, "conn", (long long)i + 1);
		if (tr_same(tr_str(cs, "status"), "Occupied"))
			conn = json_integer_value(json_array_get(pair, 1));
		json_decref(cs);
	}
	json_decref(map);
	return conn;
}

/* Places @tx on the connector event @ev names (E01: the first event names
 * the EVSE, single-EVSE stations may omit it; the connector may come
 * later), keeping the EVSE's record "evse:<n>" in step. */
static int te_place(struct ogw_tr_env *env, const json_t *ev, const char *txid, json_t *tx)
{
	json_t *evse = json_object_get(ev, "evse");
	json_t *cid = json_object_get(evse, "connectorId");
	long long n = json_integer_value(json_object_get(tx, "evse"));
	long long conn, id16;

	if (json_object_get(tx, "c16") && (!json_is_integer(cid) || tr201_tx_in16(tx) ||
					   json_integer_value(cid) == tr201_tx_conn(tx)))
		return 0;
	conn = json_is_integer(cid) ? json_integer_value(cid) : evse_occupied_conn(env, n);
	if ((id16 = tr201_conn16_learn(env, n, conn)) < 0)
		return (int)id16;
	if (set_int(tx, "conn", conn) || set_int(tx, "c16", id16))
		return -ENOMEM;
	return tr201_state_put_num(env, "evse", n,
				  json_pack("{s:s, s:I}", "tx", txid, "c16", (json_int_t)id16));
}

/* First sight of a transaction (normally its Started event). */
static int te_new(struct ogw_tr_env *env, const json_t *ev, const char *txid, json_t **ret)
{
	json_t *evse = json_object_get(json_object_get(ev, "evse"), "id");
	long long n = evse ? json_integer_value(evse) : 1;
	json_t *tx = json_pack("{s:I, s:O}", "evse", (json_int_t)n, "ts0",
			       json_object_get(ev, "timestamp"));
	int r = -ENOMEM;

	if (!tx || copy_opt(tx, ev, "reservationId", NULL) || (r = te_place(env, ev, txid, tx))) {
		json_decref(tx);
		return r;
	}
	*ret = tx;
	return 0;
}

/* Emits StartTransaction for @tx and holds event @ev until its answer. */
static int te_start(struct ogw_tr_env *env, const json_t *ev, const char *txid, json_t *tx,
		    struct ogw_tr_out *out)
{
	long long seq = json_integer_value(json_object_get(ev, "seqNo"));
	struct tx_start *ctx = calloc(1, sizeof(*ctx));
	json_t *start;
	int r = -ENOMEM;

	if (!ctx)
		return -ENOMEM;
	ctx->seq = seq;
	ctx->want_info = json_object_get(ev, "idToken") != NULL;
	snprintf(ctx->txid, sizeof(ctx->txid), "%s", txid);
	start = json_pack("{s:I, s:O, s:O, s:O}", "connectorId", (json_int_t)tr201_tx_c16(env, tx),
			  "idTag", json_object_get(tx, "idTag"), "meterStart",
			  json_object_get(tx, "meterStart"), "timestamp",
			  json_object_get(tx, "timestamp"));
	if (!start || copy_opt(start, tx, "reservationId", NULL) ||
	    tr201_state_put_tx(env, txid, json_incref(tx))) {
		json_decref(start);
		goto fail;
	}
	r = ogw_tr_emit(env, OGW_TR_UP, "StartTransaction", start, start_done, ctx);
	if (r) {
		/* Undo, so the station's retry of this event starts again. */
		queue_drop_seq(tx, seq);
		tr201_state_put_tx(env, txid, json_incref(tx));
		goto fail;
	}
	/* From here ctx belongs to start_done. */
	ctx->pending = ogw_tr_defer(env);
	if (!ctx->pending)
		return -ENOMEM;
	out->outcome = OGW_TR_DEFER;
	return 0;
fail:
	free(ctx);
	return r;
}

/* Takes the idTag the 1.6 transaction will carry from event @ev: its
 * idToken, else the idTag of the remote start its remoteStartId names. */
static int te_idtag(struct ogw_tr_env *env, const json_t *ev, json_t *tx)
{
	json_t *info = json_object_get(ev, "transactionInfo");
	json_t *rsid = json_object_get(info, "remoteStartId"), *tag = NULL;
	const char *tok = tr_str(json_object_get(ev, "idToken"), "idToken");

	if (json_object_get(tx, "idTag") || json_object_get(tx, "id16") ||
	    json_object_get(tx, "invalid"))
		return 0;
	if (tok && utf8_len(tok) > IDTAG16_MAX)
		/* 1.6 cannot carry it: the station is told Invalid. */
		return json_object_set_new(tx, "invalid", json_true()) ? -ENOMEM : 0;
	if (tok)
		tag = json_string(tok);
	else if (json_is_integer(rsid) && !(tag = remote_idtag(env, json_integer_value(rsid))))
		/* Not ours (or forgotten): the idToken may still come. */
		return json_object_set(tx, "remote", rsid) ? -ENOMEM : 0;
	if (!tag)
		return 0;
	if (json_object_set_new(tx, "idTag", tag) ||
	    json_object_set(tx, "authTs", json_object_get(ev, "timestamp")))
		return -ENOMEM;
	return 0;
}

/*
 * Starts the 1.6 transaction of @tx once it has an idTag and a register
 * reading: meterStart is the register when the idTag became known (a
 * plug-first session starts at authorization). When energy flowed before
 * that, or the idTag comes only with Ended, the 1.6 transaction covers the
 * whole 2.0.1 one: its first reading and time. An Ended event without any
 * reading starts it at 0 (the transaction is not lost) and says so in a
 * dead letter.
 */
static int te_meter_start(struct ogw_tr_env *env, const json_t *ev, json_t *tx)
{
	long long evse = json_integer_value(json_object_get(tx, "evse")), wh;
	bool ended = !strcmp(tr_str(ev, "eventType"), "Ended");
	bool whole = ended || json_is_true(json_object_get(tx, "charged"));

	if (!json_object_get(tx, "idTag") || tr201_tx_in16(tx))
		return 0;
	if (whole && json_object_get(tx, "wh0")) {
		wh = json_integer_value(json_object_get(tx, "wh0"));
	} else if (!tr201_meter_get(env, evse, &wh)) {
		if (!ended)
			return 0;
		ogw_tr_lost(env, "TransactionEvent", ev,
			    "no Energy.Active.Import.Register reading for this transaction: the 1.6 "
			    "StartTransaction and StopTransaction carry meter 0");
		wh = 0;
	}
	if (set_int(tx, "meterStart", wh) ||
	    json_object_set(tx, "timestamp", json_object_get(tx, whole ? "ts0" : "authTs")))
		return -ENOMEM;
	return 0;
}

/* An event of a transaction that never became a 1.6 one: it is answered
 * here; its readings are the connector's; at Ended a transaction that
 * delivered energy or was remote-started without a usable idTag becomes a
 * dead letter, since 1.6 has no way to report it. */
static int te_outside16(struct ogw_tr_env *env, const json_t *ev, const char *txid, json_t *tx,
			struct ogw_tr_out *out)
{
	const char *tok = tr_str(json_object_get(ev, "idToken"), "idToken");
	json_t *mv = tr201_metervalues_to16(json_object_get(ev, "meterValue"), MV_NO_BEGIN);
	int r = -ENOMEM;

	if (!mv)
		return -ENOMEM;
	if (json_array_size(mv) &&
	    (r = ogw_tr_emit(env, OGW_TR_UP, "MeterValues",
			     json_pack("{s:I, s:O}", "connectorId", (json_int_t)tr201_tx_c16(env, tx),
				       "meterValue", mv), tr201_ignore_answer, NULL)))
		goto out;
	if (!strcmp(tr_str(ev, "eventType"), "Ended")) {
		if (json_object_get(tx, "invalid") || json_object_get(tx, "remote") ||
		    json_is_true(json_object_get(tx, "charged")))
			ogw_tr_lost(env, "TransactionEvent", ev,
				    json_object_get(tx, "invalid")
					    ? "the transaction's idToken is longer than a 1.6 idTag"
					    : "the transaction never had an idTag 1.6 can carry "
					      "(unknown remoteStartId, no idToken): no StartTransaction");
		r = tx_forget(env, txid, tx);
	} else {
		r = tr201_state_put_tx(env, txid, json_incref(tx));
	}
	if (!r)
		r = ogw_tr_out_answer(out, tok && json_object_get(tx, "invalid")
						   ? json_pack("{s:{s:s}}", "idTokenInfo", "status",
							       "Invalid")
						   : json_object());
out:
	json_decref(mv);
	return r;
}

int tr201_up_transaction(struct ogw_tr_env *env, const json_t *payload,
			struct ogw_tr_out *out)
{
	const char *txid = tr_str(json_object_get(payload, "transactionInfo"), "transactionId");
	const char *tok = tr_str(json_object_get(payload, "idToken"), "idToken");
	bool ended = !strcmp(tr_str(payload, "eventType"), "Ended");
	long long seq = json_integer_value(json_object_get(payload, "seqNo"));
	json_t *tx = tr201_state_get_tx(env, txid), *msgs = json_array(), *q, *id16, *after = NULL;
	int r = -ENOMEM;

	if (!msgs || (r = tr201_held_flush(env, -1, 0)))
		goto out;
	r = -ENOMEM;
	if (!tx && tx_ended(env, txid)) {
		/* Some stations repeat Ended at shutdown: the 1.6 transaction is
		 * over and must not stop twice. */
		ogw_tr_lost(env, "TransactionEvent", payload,
			    "an event of a transaction already stopped (StopTransaction was sent); "
			    "answered and not sent again");
		r = ogw_tr_out_answer(out, json_object());
		goto out;
	}
	if (!tx && (r = te_new(env, payload, txid, &tx)))
		goto out;
	if ((r = te_place(env, payload, txid, tx)))
		goto out;
	if ((r = tr201_meter_note(env, json_integer_value(json_object_get(tx, "evse")),
				 json_object_get(payload, "meterValue"))) ||
	    (r = te_track(payload, tx)) || (r = te_idtag(env, payload, tx)) ||
	    (r = te_meter_start(env, payload, tx)))
		goto out;
	r = -ENOMEM;
	if (queue_drop_seq(tx, seq) || te_messages(env, payload, tx, msgs))
		goto out;
	if (!tr201_tx_in16(tx)) {
		r = te_outside16(env, payload, txid, tx, out);
		goto out;
	}

	id16 = json_object_get(tx, "id16");
	if (id16) {
		/* Known id: the calls before the carrier (the StopTransaction at
		 * Ended, else the last) are emitted; its answer gives the station
		 * its idTokenInfo; the calls after it follow its answer. */
		size_t n = json_array_size(msgs), carrier = n ? n - 1 : 0;
		json_t *item, *memo;
		size_t i;

		json_array_foreach(msgs, i, item)
			if (!strcmp(tr_str(item, "action"), "StopTransaction"))
				carrier = i;
		after = json_array();
		if (!after)
			goto out;
		json_array_foreach(msgs, i, item) {
			json_t *p = json_object_get(item, "payload");
			if (i > carrier) {
				if (json_array_append(after, item))
					goto out;
				continue;
			}
			if (strcmp(tr_str(item, "action"), "StatusNotification") &&
			    set_int(p, "transactionId", json_integer_value(id16)))
				goto out;
			if (i < carrier &&
			    (r = ogw_tr_emit(env, OGW_TR_UP, queued_action(item), json_incref(p),
					     tr201_ignore_answer, NULL)))
				goto out;
		}
		if ((r = tr201_state_put_tx(env, txid, json_incref(tx))))
			goto out;
		if (!n) {
			r = ogw_tr_out_answer(out, json_object());
			goto out;
		}
		item = json_array_get(msgs, carrier);
		memo = json_pack("{s:s, s:b, s:b, s:I}", "tx", txid, "end", ended, "info",
				 tok != NULL, "id16", json_integer_value(id16));
		if (memo && json_array_size(after) && json_object_set(memo, "after", after)) {
			json_decref(memo);
			memo = NULL;
		}
		r = memo ? ogw_tr_forward(out, queued_action(item),
				       json_incref(json_object_get(item, "payload")), memo)
			 : -ENOMEM;
		goto out;
	}

	q = json_object_get(tx, "queue");
	if (!q && json_object_set_new(tx, "queue", (q = json_array())))
		goto out;
	if (json_array_extend(q, msgs))
		goto out;
	/* No id yet: the StartTransaction goes now, with everything queued so
	 * far (again, when the last one failed or its answer was lost with a
	 * gateway restart: 2.0.1 stations send no event while one is
	 * unanswered). */
	r = te_start(env, payload, txid, tx, out);
out:
	json_decref(after);
	json_decref(msgs);
	json_decref(tx);
	return r;
}

int tr201_res_transaction(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
			 json_t **ret)
{
	const char *txid = tr_str(memo, "tx");
	int r = items_emit(env, json_object_get(memo, "after"),
			   json_integer_value(json_object_get(memo, "id16")), NULL);

	if (!r && json_is_true(json_object_get(memo, "end"))) {
		json_t *tx = tr201_state_get_tx(env, txid);
		if (tx)
			r = tx_forget(env, txid, tx);
		json_decref(tx);
	}
	*ret = json_is_true(json_object_get(memo, "info")) ? tr201_answer_with_info(result)
							    : json_object();
	return *ret ? r : -ENOMEM;
}

/* ---- RemoteStart / RemoteStop ------------------------------------------- */

int tr201_down_remote_start(struct ogw_tr_env *env, const json_t *payload,
			   struct ogw_tr_out *out)
{
	json_t *cp = json_object_get(payload, "chargingProfile");
	json_int_t rsid = (json_int_t)ogw_tr_next_id(env, "remoteStart");
	json_t *req, *prof = NULL;
	int r;

	long long id16 = json_integer_value(json_object_get(payload, "connectorId"));

	req = json_pack("{s:o, s:I}", "idToken", tr201_idtoken_from16(tr_str(payload, "idTag")),
			"remoteStartId", rsid);
	/* 2.0.1 starts on an EVSE: the station picks the connector the cable
	 * is in (its StartTransaction names that one). */
	if (!req || (id16 > 0 && set_int(req, "evseId", tr201_evse_of16(env, id16)))) {
		json_decref(req);
		return -ENOMEM;
	}
	/* 2.0.1 may start it without the idToken (F01/F02: Started carries
	 * remoteStartId): the 1.6 StartTransaction then takes this idTag. */
	r = tr201_state_list_push(env, "remote",
				 json_pack("{s:I, s:O}", "id", rsid, "idTag",
				      json_object_get(payload, "idTag")), REMOTE_KEEP);
	if (r) {
		json_decref(req);
		return r;
	}
	if (cp) {
		r = tr201_profile_from16(env, cp, &prof);
		if (r == -ENOENT || r == -EINVAL) {
			json_decref(req);
			return ogw_tr_out_answer(out, json_pack("{s:s}", "status", "Rejected"));
		}
		if (r || json_object_set_new(req, "chargingProfile", prof)) {
			json_decref(req);
			return r ? r : -ENOMEM;
		}
	}
	return ogw_tr_forward(out, "RequestStartTransaction", req, NULL);
}

int tr201_down_remote_stop(struct ogw_tr_env *env, const json_t *payload,
			  struct ogw_tr_out *out)
{
	json_t *txid = tr201_txid_of16(env, json_integer_value(json_object_get(payload, "transactionId")));

	if (!txid)
		return ogw_tr_out_answer(out, json_pack("{s:s}", "status", "Rejected"));
	return ogw_tr_forward(out, "RequestStopTransaction",
			   json_pack("{s:o}", "transactionId", txid), NULL);
}

/* ---- authorization cache, reservations, local list ------------------------ */

int tr201_down_clear_cache(struct ogw_tr_env *env, const json_t *payload,
			  struct ogw_tr_out *out)
{
	(void)env;
	(void)payload;
	return ogw_tr_forward(out, "ClearCache", json_object(), NULL);
}

int tr201_down_cancel_reservation(struct ogw_tr_env *env, const json_t *payload,
				 struct ogw_tr_out *out)
{
	(void)env;
	return ogw_tr_forward(out, "CancelReservation", json_deep_copy(payload), NULL);
}

int tr201_down_get_local_list_version(struct ogw_tr_env *env, const json_t *payload,
				     struct ogw_tr_out *out)
{
	(void)env;
	(void)payload;
	return ogw_tr_forward(out, "GetLocalListVersion", json_object(), NULL);
}

int tr201_res_get_local_list_version(struct ogw_tr_env *env, const json_t *memo,
				    const json_t *result, json_t **ret)
{
	(void)env;
	(void)memo;
	*ret = json_pack("{s:O}", "listVersion", json_object_get(result, "versionNumber"));
	return *ret ? 0 : -ENOMEM;
}

int tr201_down_send_local_list(struct ogw_tr_env *env, const json_t *payload,
			      struct ogw_tr_out *out)
{
	json_t *list = json_array(), *item, *p = NULL;
	size_t i;
	(void)env;

	if (!list)
		return -ENOMEM;
	json_array_foreach(json_object_get(payload, "localAuthorizationList"), i, item) {
		json_t *info = json_object_get(item, "idTagInfo");
		json_t *e = json_pack("{s:o}", "idToken", tr201_idtoken_from16(tr_str(item, "idTag")));
		if (!e || (info && json_object_set_new(e, "idTokenInfo", tr201_idtokeninfo_from16(info))) ||
		    json_array_append_new(list, e))
			goto fail;
	}
	p = json_pack("{s:O, s:O}", "versionNumber", json_object_get(payload, "listVersion"),
		      "updateType", json_object_get(payload, "updateType"));
	/* 2.0.1 wants the list absent rather than empty. */
	if (!p || (json_array_size(list) && json_object_set(p, "localAuthorizationList", list)))
		goto fail;
	json_decref(list);
	return ogw_tr_forward(out, "SendLocalList", p, NULL);
fail:
	json_decref(p);
	json_decref(list);
	return -ENOMEM;
}

int tr201_down_reserve_now(struct ogw_tr_env *env, const json_t *payload,
			  struct ogw_tr_out *out)
{
	long long c = json_integer_value(json_object_get(payload, "connectorId"));
	const char *parent = tr_str(payload, "parentIdTag");
	json_t *p;

	p = json_pack("{s:O, s:O, s:o}", "id", json_object_get(payload, "reservationId"),
		      "expiryDateTime", json_object_get(payload, "expiryDate"),
		      "idToken", tr201_idtoken_from16(tr_str(payload, "idTag")));
	/* 2.0.1 reserves an EVSE (H01), never one of its connectors. */
	if (!p || (c > 0 && set_int(p, "evseId", tr201_evse_of16(env, c))) ||
	    (parent && json_object_set_new(p, "groupIdToken", tr201_idtoken_from16(parent)))) {
		json_decref(p);
		return -ENOMEM;
	}
	return ogw_tr_forward(out, "ReserveNow", p, NULL);
}
