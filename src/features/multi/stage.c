/* SPDX-License-Identifier: MIT */
/*
 * The multi-CSMS stage, first in the pipeline: a CALL from a secondary CSMS
 * reaches the charger only when its action is on that CSMS's allow list
 * (docs/MULTI_CSMS.md, rule 2); otherwise the gateway answers it with the
 * configured refusal and the charger never sees it. It also names the CSMS
 * a transaction's messages belong to when split by token (rule 4), and
 * keeps, per session, which CSMS owns each open transaction. The fan-out
 * of the charger's CALLs to every CSMS is the session's
 * (src/session/session.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ocppgw/config.h"
#include "ocppgw/log.h"
#include "ocppgw/ocpp.h"
#include "features/multi/multi.h"
#include "session/session.h"

static enum ogw_stage_verdict multi_on_call(struct ogw_leg *from, struct ogw_frame *f)
{
	const struct ogw_secondary *sec = ogw_leg_secondary(from);
	struct ogw_multi_refusal no;

	if (!sec || ogw_multi_call_allowed(sec->conf, from->ver, f->action, &no))
		return OGW_STAGE_CONTINUE;
	struct ogw_log_ctx lc = { from->s->id, sec->leg_name, f->action, f->id };
	ogw_info(&lc, "refused: not on this CSMS's allow list");
	/* a SEND is never answered */
	if (f->type == OGW_MSG_CALL && no.payload)
		ogw_leg_send_result(from, f->action, f->id, no.payload);
	else if (f->type == OGW_MSG_CALL)
		ogw_leg_send_error(from, f->id, no.error, "%s is not allowed from this CSMS",
				   f->action);
	json_decref(no.payload);
	return OGW_STAGE_DONE;
}

/* The open transactions of a session split by token, and their owners
 * (an index in s->north[]); allocated at the first one. In memory only: a
 * transaction open across a gateway restart goes on to the primary. */
#define MULTI_OWNED_MAX 8
struct multi_owned {
	struct {
		char txid[40];
		int leg;
	} tx[MULTI_OWNED_MAX];
	unsigned int n;
	int start_leg;  /* 1.6: the owner of the StartTransaction awaiting its answer, or -1 */
};

static struct multi_owned **owned_slot(const struct ogw_session *s)
{
	return ogw_session_state(s, &ogw_multi_stage);
}

static struct multi_owned *owned_of(const struct ogw_session *s)
{
	struct multi_owned **slot = owned_slot(s);
	if (!*slot && (*slot = calloc(1, sizeof(**slot))))
		(*slot)->start_leg = -1;
	return *slot;
}

/* The owner of transaction @txid (forgotten when @end), or -1. */
static int owned_find(struct multi_owned *o, const char *txid, bool end)
{
	for (unsigned int i = 0; i < o->n; i++)
		if (!strcmp(o->tx[i].txid, txid)) {
			int leg = o->tx[i].leg;
			if (end)
				o->tx[i] = o->tx[--o->n];
			return leg;
		}
	return -1;
}

static void owned_add(struct ogw_session *s, struct multi_owned *o, const char *txid, int leg)
{
	if (owned_find(o, txid, false) >= 0)
		return;
	if (o->n == MULTI_OWNED_MAX) {
		/* a charger has a few connectors: the oldest was never ended */
		memmove(o->tx, o->tx + 1, --o->n * sizeof(o->tx[0]));
	}
	snprintf(o->tx[o->n].txid, sizeof(o->tx[0].txid), "%s", txid);
	o->tx[o->n++].leg = leg;
	struct ogw_log_ctx lc = { s->id, NULL, NULL, NULL };
	ogw_info(&lc, "transaction %s belongs to %s", txid,
		 leg ? ogw_leg_secondary(&s->north[leg].leg)->leg_name : "the primary");
}

/* The north leg of the CSMS @owner of @view names (ogw_multi_token_owner()):
 * the primary's (0) for the primary, or a secondary this session has no
 * leg to (an MQTT one). */
static int owner_leg(const struct ogw_session *s, const struct ogw_csms_view *view, int owner)
{
	if (owner <= 0)
		return 0;
	const char *name = view->secondaries[owner - 1].name;
	for (unsigned int i = 1; i < s->n_north; i++)
		if (!strcmp(ogw_leg_secondary(&s->north[i].leg)->leg_name + strlen("north."),
			    name))
			return (int)i;
	return 0;
}

/* The transaction id @f names, as text, in @buf; NULL when none. */
static const char *call_txid(enum ogw_ocpp v, const struct ogw_frame *f, char *buf, size_t size)
{
	if (v == OGW_OCPP16) {
		json_t *id = json_object_get(f->payload, "transactionId");
		if (!json_is_integer(id))
			return NULL;
		snprintf(buf, size, "%lld", (long long)json_integer_value(id));
		return buf;
	}
	if (strcmp(f->action, "TransactionEvent"))
		return NULL;
	json_t *info = json_object_get(f->payload, "transactionInfo");
	return json_string_value(json_object_get(info, "transactionId"));
}

/*
 * Rule 4: a transaction's messages go to the CSMS that owns it only. Its
 * owner is decided by the first message naming its token (1.6
 * StartTransaction, 2.x TransactionEvent); a transaction no token decided
 * (or the primary's) is the primary's. Authorize goes to the token's owner.
 * Everything else goes to every CSMS (-1).
 */
static int multi_route(struct ogw_leg *from, const struct ogw_frame *f)
{
	struct ogw_session *s = from->s;
	struct ogw_csms_view view;
	char buf[24];

	if (from->kind != OGW_SOUTH || f->type != OGW_MSG_CALL)
		return -1;
	ogw_conf_csms_for(&s->gw->conf, s->id, from->ver, &view);
	if (view.token_routing == OGW_TOKEN_ROUTING_PRIMARY)
		return -1;
	const char *txid = call_txid(from->ver, f, buf, sizeof(buf));
	const char *token = ogw_multi_call_token(from->ver, f->action, f->payload);
	const char *event = json_string_value(json_object_get(f->payload, "eventType"));
	bool ended = !strcmp(f->action, "StopTransaction") || (event && !strcmp(event, "Ended"));
	bool starts = !txid || (event && !strcmp(event, "Started"));
	if (!txid && !token)
		return -1;
	struct multi_owned *o = owned_of(s);
	if (!o)
		return -1;
	int leg = txid ? owned_find(o, txid, ended) : -1;
	if (leg >= 0)
		return leg;
	/* "ask" routes as "list" for the tokens its lists name; any other
	 * goes to the primary (asking every CSMS is not built) */
	leg = token && starts ? owner_leg(s, &view, ogw_multi_token_owner(&view, token)) : 0;
	if (from->ver == OGW_OCPP16 && !strcmp(f->action, "StartTransaction"))
		o->start_leg = leg;
	else if (txid && !ended && token)
		owned_add(s, o, txid, leg);
	return leg;
}

/* The charger got the answer to its 1.6 StartTransaction: the owner's id. */
static void multi_observe(struct ogw_session *s, enum ogw_obs what, const char *action,
			  const json_t *payload)
{
	struct multi_owned *o = *owned_slot(s);
	if (!o || what != OGW_OBS_UP_RESULT || o->start_leg < 0 ||
	    strcmp(action, "StartTransaction"))
		return;
	json_t *id = json_object_get(payload, "transactionId");
	char buf[24];
	if (json_is_integer(id)) {
		snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(id));
		owned_add(s, o, buf, o->start_leg);
	}
	o->start_leg = -1;
}

static void multi_session_free(struct ogw_session *s)
{
	struct multi_owned **slot = owned_slot(s);
	free(*slot);
	*slot = NULL;
}

const struct ogw_stage ogw_multi_stage = {
	.name = "multi",
	.state_size = sizeof(struct multi_owned *),
	.on_call = multi_on_call,
	.on_session_free = multi_session_free,
	.observe = multi_observe,
	.route = multi_route,
};
