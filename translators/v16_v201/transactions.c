/* SPDX-License-Identifier: MIT */
/*
 * 1.6 charger, 2.0.1 CSMS: transactions. The gateway owns the 2.0.1
 * transaction ids and the TransactionEvent seqNo, kept in the per-charger
 * state: StartTransaction and StopTransaction become Started and Ended
 * events, RequestStart/StopTransaction the 1.6 remote calls. Meter values
 * are metering.c's; no queueing or retrying here (the session does those).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "ocppgw/translator.h"
#include "ocppgw/util.h"
#include "internal.h"

#define TX_OPEN_MAX 64       /* open transactions a Reset OnIdle waits on */

/* ---- transactions in the state ------------------------------------------ *
 * "tx16:<n>"  -> {"id": uuid}                     the 1.6 id the charger uses
 * "tx:<uuid>" -> {"id16", "seqNo", "evse", "idTag", "remoteStartId"?}
 * "conn:<c>"  -> {"tx": uuid}                     the transaction on connector c
 * "remote:<c>"-> {"remoteStartId"}                a RequestStartTransaction waiting
 *                                                 for its StartTransaction (c 0: any)
 * "running"   -> {"tx": [uuid...]}                the open transactions, oldest first
 * "reset"     -> {}                               a Reset OnIdle waiting for them
 * "rebooting" -> {}                               a Reset the charger accepted: its
 *                                                 next boot is a RemoteReset
 * "rstok:<c>" -> {}                               the charger accepted the held
 *                                                 RequestStartTransaction of c
 *
 * A RequestStartTransaction for plugged-in connector c is held (deferred
 * CALL "rst:<c>") until the CSMS has the transaction it names (tr16_rst_answer()).
 */

/* The transaction uuid in member @member of state entry @key into @ret.
 * 0, or -ENOENT. */
static int state_uuid(struct ogw_tr_env *env, const char *key, const char *member, char ret[37])
{
	json_t *m = ogw_tr_state_get(env, key);
	const char *id = tr_str(m, member);
	int r = -ENOENT;

	if (id && strlen(id) < 37) {
		strcpy(ret, id);
		r = 0;
	}
	json_decref(m);
	return r;
}

/* The 2.0.1 id of 1.6 transaction @id16 into @ret. 0, or -ENOENT. */
int tr16_tx_uuid(struct ogw_tr_env *env, json_int_t id16, char ret[37])
{
	return state_uuid(env, N_KEY("tx16", id16), "id", ret);
}

/* The uuid of the transaction running on connector @c, or -ENOENT. */
int tr16_conn_tx(struct ogw_tr_env *env, json_int_t c, char ret[37])
{
	return state_uuid(env, N_KEY("conn", c), "tx", ret);
}

/* Answers the RequestStartTransaction waiting on connector @c (if one
 * does) Accepted, naming transaction @uuid when there is one. */
void tr16_rst_answer(struct ogw_tr_env *env, json_int_t c, const char *uuid)
{
	struct ogw_tr_pending *p = ogw_tr_pending_find(env, N_KEY("rst", c));
	json_t *a = ogw_tr_state_get(env, N_KEY("rstok", c));

	if (a)
		ogw_tr_state_del(env, N_KEY("rstok", c));
	json_decref(a);
	if (!p)
		return;
	a = json_pack("{s:s}", "status", "Accepted");
	if (a && uuid && json_object_set_new(a, "transactionId", json_string(uuid)))
		a = (json_decref(a), NULL);
	ogw_tr_answer_later(env, p, a);
}

/* Takes the next seqNo of transaction @uuid (state @tx, borrowed, updated
 * and stored). */
json_int_t tr16_tx_take_seq(struct ogw_tr_env *env, const char *uuid, json_t *tx)
{
	json_int_t seq = tr_int(tx, "seqNo");
	json_object_set_new(tx, "seqNo", json_integer(seq + 1));
	ogw_tr_state_put_new(env, S_KEY("tx", uuid), json_incref(tx));
	return seq;
}

/* A TransactionEvent skeleton; callers add meterValue, idToken and the rest. */
json_t *tr16_tx_event(const char *type, const char *timestamp, const char *trigger, json_int_t seq,
		      const char *uuid, json_int_t evse)
{
	return json_pack("{s:s, s:s, s:s, s:I, s:{s:s}, s:{s:I, s:i}}",
			 "eventType", type, "timestamp", timestamp, "triggerReason", trigger,
			 "seqNo", seq, "transactionInfo", "transactionId", uuid,
			 "evse", "id", evse, "connectorId", 1);
}

/* Adds @uuid to the open transactions or removes it. Past TX_OPEN_MAX the
 * oldest is forgotten: a charger that never stops its transactions must not
 * grow the state without end. */
static int running_update(struct ogw_tr_env *env, const char *uuid, bool add)
{
	json_t *s = ogw_tr_state_get(env, "running"), *list = json_object_get(s, "tx"), *v;
	size_t i;

	if (!json_is_array(list)) {
		json_decref(s);
		if (!(s = json_pack("{s:[]}", "tx")))
			return -ENOMEM;
		list = json_object_get(s, "tx");
	}
	json_array_foreach(list, i, v) {
		if (json_is_string(v) && !strcmp(json_string_value(v), uuid)) {
			json_array_remove(list, i);
			break;
		}
	}
	if (add && json_array_size(list) >= TX_OPEN_MAX)
		json_array_remove(list, 0);
	if (add && json_array_append_new(list, json_string(uuid))) {
		json_decref(s);
		return -ENOMEM;
	}
	if (!json_array_size(list)) {
		json_decref(s);
		return ogw_tr_state_del(env, "running");
	}
	return ogw_tr_state_put(env, "running", s);
}

bool tr16_tx_running(struct ogw_tr_env *env)
{
	json_t *s = ogw_tr_state_get(env, "running");
	bool r = json_array_size(json_object_get(s, "tx")) > 0;
	json_decref(s);
	return r;
}

/* ---- StartTransaction ---------------------------------------------------- */

struct tx_answer_ctx {
	struct ogw_tr_pending *p;
	json_int_t id16;   /* StartTransaction: the id to answer with; Stop: 0 */
	json_int_t c;      /* StartTransaction: its connector and 2.0.1 id */
	char uuid[37];
};

/* Answers StartTransaction.conf/StopTransaction.conf from the
 * TransactionEventResponse. Without one (CSMS unreachable) a start is
 * answered Accepted with the gateway's id and a stop with no idTagInfo:
 * the charger must not retry a transaction the gateway already owns.
 * Offline authorization is the auth feature's job. */
static void tx_answer_done(struct ogw_tr_env *env, void *user, const json_t *result)
{
	struct tx_answer_ctx *ctx = user;
	json_t *info = json_object_get(result, "idTokenInfo");
	json_t *conf = json_object();

	if (conf && info && json_object_set_new(conf, "idTagInfo", tr16_idtaginfo16(info)))
		conf = (json_decref(conf), NULL);
	if (conf && ctx->id16) {
		if ((!info && json_object_set_new(conf, "idTagInfo",
						  json_pack("{s:s}", "status", "Accepted"))) ||
		    json_object_set_new(conf, "transactionId", json_integer(ctx->id16)))
			conf = (json_decref(conf), NULL);
	}
	ogw_tr_answer_later(env, ctx->p, conf);
	if (!ctx->id16)
		tr16_reset_when_idle(env);
	else
		tr16_rst_answer(env, ctx->c, ctx->uuid);
	free(ctx);
}

/* What a RequestStartTransaction left for connector @c (or for any
 * connector), taken out of the state (new reference), or NULL. */
static json_t *take_remote_start(struct ogw_tr_env *env, json_int_t c)
{
	json_int_t conns[2] = { c, 0 };
	for (size_t i = 0; i < N_OF(conns); i++) {
		json_t *r = ogw_tr_state_get(env, N_KEY("remote", conns[i]));
		if (r) {
			ogw_tr_state_del(env, N_KEY("remote", conns[i]));
			return r;
		}
	}
	return NULL;
}

/* The type the CSMS gave token @idtag in remote start @remote, or NULL
 * when the charger started with another token. */
static const char *remote_type(const json_t *remote, const char *idtag)
{
	const char *given = tr_str(remote, "idToken");
	return given && idtag && !strcasecmp(given, idtag) ? tr_str(remote, "type") : NULL;
}

int tr16_up_start(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	json_int_t c = tr_int(p, "connectorId");
	json_int_t id16 = ogw_tr_next_id(env, "tx16");
	const char *ts = tr_str(p, "timestamp");
	const char *idtag = tr_str(p, "idTag");
	json_t *remote_req = id16 > 0 ? take_remote_start(env, c) : NULL;
	json_int_t remote = remote_req ? tr_int(remote_req, "remoteStartId") : -1;
	/* the token the CSMS sent keeps the type it gave (F01): the Started
	 * event names the token it knows (the remote start for this
	 * connector's, else one the CSMS sent for another) */
	json_t *kept = id16 > 0 ? tr16_token_type(env, idtag) : NULL;
	const char *type = remote_type(remote_req, idtag) ? remote_type(remote_req, idtag)
							   : json_string_value(kept);
	struct tx_answer_ctx *ctx = NULL;
	struct rsv_ends ends = { .n = 0 };
	json_t *tx = NULL, *ev = NULL;
	char uuid[37], prev[37];
	int r = -ENOMEM;

	if (id16 <= 0)
		return id16 < 0 ? (int)id16 : -EIO;
	ogw_uuid4(uuid);
	tx = json_pack("{s:I, s:i, s:I, s:s, s:s}", "id16", id16, "seqNo", 1, "evse", c, "idTag",
		       idtag, "type", type ? type : tr16_idtag_type(idtag));
	if (!tx || (remote >= 0 && json_object_set_new(tx, "remoteStartId", json_integer(remote))))
		goto out;
	if ((r = ogw_tr_state_put_new(env, N_KEY("tx16", id16), json_pack("{s:s}", "id", uuid))) <
		0 ||
	    (r = ogw_tr_state_put_new(env, S_KEY("tx", uuid), json_incref(tx))) < 0 ||
	    /* a connector runs one transaction: one still open there was lost */
	    (!tr16_conn_tx(env, c, prev) && (r = running_update(env, prev, false)) < 0) ||
	    (r = ogw_tr_state_put_new(env, N_KEY("conn", c), json_pack("{s:s}", "tx", uuid))) < 0 ||
	    (r = running_update(env, uuid, true)) < 0)
		goto out;
	/* a transaction ends Preparing, even from a charger that shows no
	 * Charging after it: a later remote start is no plug-in's */
	if (tr16_conn_preparing(env, c))
		tr16_status_keep(env, c, "Charging");
	r = -ENOMEM;
	ev = tr16_tx_event("Started", ts, remote >= 0 ? "RemoteStart" : "Authorized", 0, uuid, c);
	if (!ev ||
	    json_object_set_new(ev, "meterValue",
				json_pack("[o]", tr16_energy_reading(ts, tr_int(p, "meterStart"),
								     "Transaction.Begin"))) ||
	    json_object_set_new(ev, "idToken", tr16_id_token_typed(idtag, type)) ||
	    ogw_tr_copy(ev, NULL, p, "reservationId") ||
	    (remote >= 0 && json_object_set_new(json_object_get(ev, "transactionInfo"),
						"remoteStartId", json_integer(remote))) ||
	    tr16_rsv_start(env, p, ev, &ends))
		goto out;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx || !(ctx->p = ogw_tr_defer(env)))
		goto out;
	ctx->id16 = id16;
	ctx->c = c;
	strcpy(ctx->uuid, uuid);
	tr16_token_forget(env, idtag);
	out->outcome = OGW_TR_DEFER;
	ogw_tr_emit_then(env, OGW_TR_UP, "TransactionEvent", json_incref(ev), tx_answer_done, ctx);
	ctx = NULL;
	r = 0;
out:
	/* after the Started event: a connector taken from its reservation */
	tr16_rsv_ends_emit(env, &ends, ts);
	free(ctx);
	json_decref(ev);
	json_decref(tx);
	json_decref(remote_req);
	json_decref(kept);
	return r;
}

/* ---- StopTransaction ----------------------------------------------------- */

struct stop_row {
	const char *reason16;
	const char *stopped;   /* stoppedReason */
	const char *trigger;   /* triggerReason */
};

/* REFERENCE §3 "StopTransaction.reason"; resets -> ImmediateReset,
 * UnlockCommand -> Other with triggerReason UnlockCommand (a choice). */
static const struct stop_row stop_rows[] = {
	{ "DeAuthorized", "DeAuthorized", "Deauthorized" },
	{ "EVDisconnected", "EVDisconnected", "EVCommunicationLost" },
	{ "EmergencyStop", "EmergencyStop", "AbnormalCondition" },
	{ "HardReset", "ImmediateReset", "ResetCommand" },
	{ "Local", "Local", "StopAuthorized" },
	{ "Other", "Other", "AbnormalCondition" },
	{ "PowerLoss", "PowerLoss", "AbnormalCondition" },
	{ "Reboot", "Reboot", "ResetCommand" },
	{ "Remote", "Remote", "RemoteStop" },
	{ "SoftReset", "ImmediateReset", "ResetCommand" },
	{ "UnlockCommand", "Other", "UnlockCommand" },
};

static const struct stop_row *stop_row(const char *reason16)
{
	/* J16E 2.5: an absent reason means Local */
	const char *reason = reason16 ? reason16 : "Local";
	for (size_t i = 0; i < N_OF(stop_rows); i++)
		if (!strcmp(stop_rows[i].reason16, reason))
			return &stop_rows[i];
	return &stop_rows[5];
}

/*
 * The idToken of an Ended event (new reference), or NULL when it has none.
 * 2.0.1 names a token in Ended only when a token stopped the transaction
 * (E07: the driver's token, triggerReason StopAuthorized); a CSMS prices
 * an Ended without one as the end of the transaction the Started token
 * opened. 1.6 puts the idTag in every StopTransaction it has, so it is
 * carried only for a Local stop (reason Local or absent, J16E 2.5), typed
 * as the Started token was when it is the same token.
 */
static json_t *stop_token(const json_t *p, const json_t *tx)
{
	const char *reason = tr_str(p, "reason"), *idtag = tr_str(p, "idTag");

	if (!idtag || (reason && strcmp(reason, "Local")))
		return NULL;
	return tr16_id_token_typed(idtag,
				   tr_str(tx, "idTag") && !strcasecmp(tr_str(tx, "idTag"), idtag)
				       ? tr_str(tx, "type")
				       : NULL);
}

/*
 * The chargingState an Ended event reports: Idle when the EV has left
 * (the stop reason says so, or the connector was last shown Available),
 * else EVConnected (the cable is still plugged: 1.6 shows Finishing after
 * the stop). 2.0.1 E06: the Ended event carries the state the EVSE is
 * left in, so the CSMS does not keep the transaction Charging.
 */
static const char *stop_charging_state(struct ogw_tr_env *env, const json_t *p, json_int_t c)
{
	json_t *st;
	bool gone;

	if (tr_str(p, "reason") && !strcmp(tr_str(p, "reason"), "EVDisconnected"))
		return "Idle";
	st = ogw_tr_state_get(env, "status");
	gone = tr_str(st, N_KEY("", c) + 1) && !strcmp(tr_str(st, N_KEY("", c) + 1), "Available");
	json_decref(st);
	return gone ? "Idle" : "EVConnected";
}

int tr16_up_stop(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	const struct stop_row *row = stop_row(tr_str(p, "reason"));
	const char *ts = tr_str(p, "timestamp");
	struct tx_answer_ctx *ctx = NULL;
	json_t *tx = NULL, *ev = NULL, *mv = NULL, *token = NULL;
	char uuid[37];
	int r;

	/* a transaction the gateway never started (e.g. from before it was
	 * installed): the CSMS cannot know it, so the charger is answered and
	 * its stop kept as a dead letter for the operator */
	if (tr16_tx_uuid(env, tr_int(p, "transactionId"), uuid) ||
	    !(tx = ogw_tr_state_get(env, S_KEY("tx", uuid)))) {
		ogw_tr_lost(env, "StopTransaction", p,
			    "a transaction the gateway never started: the CSMS has no id for it");
		return ogw_tr_out_answer(out, json_object());
	}
	if ((r = tr16_meter_values(env, "StopTransaction", p, json_object_get(p, "transactionData"),
				   &mv)) < 0)
		goto out;
	r = -ENOMEM;
	if (json_array_append_new(mv, tr16_energy_reading(ts, tr_int(p, "meterStop"),
							   "Transaction.End")))
		goto out;
	ev = tr16_tx_event("Ended", ts, row->trigger, tr16_tx_take_seq(env, uuid, tx), uuid,
			   tr_int(tx, "evse"));
	token = stop_token(p, tx);
	if (!ev || json_object_set(ev, "meterValue", mv) ||
	    json_object_set_new(json_object_get(ev, "transactionInfo"), "stoppedReason",
				json_string(row->stopped)) ||
	    json_object_set_new(json_object_get(ev, "transactionInfo"), "chargingState",
				json_string(stop_charging_state(env, p, tr_int(tx, "evse")))) ||
	    (token && json_object_set(ev, "idToken", token)))
		goto out;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx || !(ctx->p = ogw_tr_defer(env)))
		goto out;
	/* the event carries all the CSMS needs: the mapping can go now */
	ogw_tr_state_del(env, N_KEY("tx16", tr_int(p, "transactionId")));
	ogw_tr_state_del(env, S_KEY("tx", uuid));
	ogw_tr_state_del(env, N_KEY("conn", tr_int(tx, "evse")));
	running_update(env, uuid, false);
	tr16_cache_tx_ended(env, uuid);
	out->outcome = OGW_TR_DEFER;
	ogw_tr_emit_then(env, OGW_TR_UP, "TransactionEvent", json_incref(ev), tx_answer_done, ctx);
	ctx = NULL;
	r = 0;
out:
	free(ctx);
	json_decref(token);
	json_decref(ev);
	json_decref(mv);
	json_decref(tx);
	return r;
}

/* ---- remote start/stop ---------------------------------------------------- */

/* The charger's RemoteStartTransaction.conf for plugged-in connector
 * (intptr_t)@user: refused, or accepted with the transaction already
 * open, it answers the CSMS now; else once the Started event is through
 * (tx_answer_done()) or the connector leaves Preparing without one. */
static void request_start_answered(struct ogw_tr_env *env, void *user, const json_t *result)
{
	json_int_t c = (json_int_t)(intptr_t)user;
	struct ogw_tr_pending *p = ogw_tr_pending_find(env, N_KEY("rst", c));
	json_t *a = NULL;
	char uuid[37];

	if (!p)
		return;
	if (!result) {
		ogw_tr_answer(env, p, NULL, OGW_ERR_INTERNAL,
			      "the charger did not answer RemoteStartTransaction");
		return;
	}
	if (!tr_same(tr_str(result, "status"), "Accepted")) {
		ogw_tr_status_result(result, NULL, 0, &a);
		ogw_tr_answer_later(env, p, a);
	} else if (!tr16_conn_tx(env, c, uuid)) {
		tr16_rst_answer(env, c, uuid);
	} else if (ogw_tr_state_put(env, N_KEY("rstok", c), json_object()) < 0) {
		tr16_rst_answer(env, c, NULL);
	}
}

/*
 * 2.0.1 F02: with the EV plugged in first, a 2.x station's transaction
 * runs before the CSMS starts it remotely, and the answer names it. A 1.6
 * charger answers RemoteStartTransaction before its StartTransaction, so
 * the gateway holds the CSMS's CALL (deferred "rst:<c>") until the Started
 * event of that StartTransaction has reached the CSMS, and names it then.
 */
static int request_start_plugged(struct ogw_tr_env *env, json_int_t c, json_t *req,
				 struct ogw_tr_out *out)
{
	struct ogw_tr_pending *p = ogw_tr_defer_keyed(env, N_KEY("rst", c));

	if (!p)
		return -ENOMEM;
	out->outcome = OGW_TR_DEFER;
	if (ogw_tr_emit(env, OGW_TR_DOWN, "RemoteStartTransaction", json_incref(req),
			request_start_answered, (void *)(intptr_t)c) < 0)
		ogw_tr_answer(env, p, NULL, OGW_ERR_INTERNAL, "the charger cannot be reached");
	return 0;
}

int tr16_down_request_start(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	const char *idtag = tr16_idtag16(json_object_get(p, "idToken"));
	const json_t *cp = json_object_get(p, "chargingProfile");
	json_int_t c = tr_int(p, "evseId");
	json_t *req = NULL, *prof = NULL;
	char uuid[37];
	int r;

	/* 1.6 cannot carry a token over 20 characters; a start profile must be
	 * a TxProfile (S16 §5.11) */
	if (!idtag || (cp && strcmp(tr_str(cp, "chargingProfilePurpose"), "TxProfile")))
		return ogw_tr_out_status(out, "Rejected");
	if (cp && (r = tr16_profile16(env, cp, &prof)) < 0)
		return r == -EINVAL ? ogw_tr_out_status(out, "Rejected") : r;
	req = json_pack("{s:s}", "idTag", idtag);
	if (!req || (c && json_object_set_new(req, "connectorId", json_integer(c))) ||
	    (prof && json_object_set(req, "chargingProfile", prof))) {
		r = -ENOMEM;
		goto out;
	}
	/* remembered for the StartTransaction that follows (RemoteStart
	 * trigger, and the token's type) */
	if ((r = ogw_tr_state_put_new(env, N_KEY("remote", c),
				      json_pack("{s:O, s:s, s:O}", "remoteStartId",
						json_object_get(p, "remoteStartId"), "idToken",
						idtag, "type",
						json_object_get(json_object_get(p, "idToken"),
								"type")))) < 0)
		goto out;
	tr16_token_keep(env, idtag, tr_str(json_object_get(p, "idToken"), "type"));
	if (c > 0 && tr16_conn_preparing(env, c) && tr16_conn_tx(env, c, uuid) == -ENOENT &&
	    !ogw_tr_pending_find(env, N_KEY("rst", c))) {
		r = request_start_plugged(env, c, req, out);
		goto out;
	}
	r = ogw_tr_forward(out, "RemoteStartTransaction", json_incref(req),
			   json_pack("{s:I, s:s}", "evseId", c, "idToken", idtag));
out:
	json_decref(prof);
	json_decref(req);
	return r;
}

/*
 * 2.0.1 F01.FR.?? (RequestStartTransactionResponse.transactionId): when
 * the transaction has already started, the answer names it. A 1.6
 * charger that sends its StartTransaction before it answers (or that was
 * already charging that token on the connector) has one by now: the
 * transaction on the EVSE asked for, or for any EVSE the one of that token.
 */
int tr16_down_request_start_result(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
				   json_t **ret)
{
	json_t *running = ogw_tr_state_get(env, "running"), *id, *tx;
	const char *found = NULL;
	char uuid[37];
	size_t i;
	int r;

	if ((r = ogw_tr_status_result(result, NULL, 0, ret)) < 0 ||
	    strcmp(tr_str(result, "status"), "Accepted"))
		goto out;
	if (tr_int(memo, "evseId") > 0) {
		if (!tr16_conn_tx(env, tr_int(memo, "evseId"), uuid))
			found = uuid;
	} else {
		json_array_foreach(json_object_get(running, "tx"), i, id) {
			tx = ogw_tr_state_get(env, S_KEY("tx", json_string_value(id)));
			if (tr_str(tx, "idTag") &&
			    !strcasecmp(tr_str(tx, "idTag"), tr_str(memo, "idToken")) &&
			    strlen(json_string_value(id)) < sizeof(uuid)) {
				strcpy(uuid, json_string_value(id));
				found = uuid;
			}
			json_decref(tx);
		}
	}
	if (found && json_object_set_new(*ret, "transactionId", json_string(found)))
		r = -ENOMEM;
out:
	json_decref(running);
	if (r < 0)
		*ret = (json_decref(*ret), NULL);
	return r;
}

int tr16_down_request_stop(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	json_t *tx = ogw_tr_state_get(env, S_KEY("tx", tr_str(p, "transactionId")));
	json_t *id16 = json_object_get(tx, "id16");
	int r = id16 ? ogw_tr_forward(out, "RemoteStopTransaction",
				      json_pack("{s:O}", "transactionId", id16), NULL)
		     : ogw_tr_out_status(out, "Rejected");
	json_decref(tx);
	return r;
}

/* ---- transactions the charger cannot be asked about ------------------------ */

int tr16_down_tx_status(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	json_t *tx = tr_has(p, "transactionId")
			 ? ogw_tr_state_get(env, S_KEY("tx", tr_str(p, "transactionId")))
			 : NULL;
	/* The charger's own queue is empty (the gateway answers every
	 * transaction message); what waits is in the gateway's. */
	json_t *a = json_pack("{s:b}", "messagesInQueue",
			      ogw_tr_queued(env, tr_has(p, "transactionId")
							 ? tr_str(p, "transactionId")
							 : NULL));

	if (a && tr_has(p, "transactionId") &&
	    json_object_set_new(a, "ongoingIndicator", json_boolean(tx != NULL)))
		a = (json_decref(a), NULL);
	json_decref(tx);
	return ogw_tr_out_answer(out, a);
}
