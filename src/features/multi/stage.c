/* SPDX-License-Identifier: MIT */
/*
 * The multi-CSMS stage, first in the pipeline: a CALL from a secondary CSMS
 * reaches the charger only when its action is on that CSMS's allow list
 * (docs/MULTI_CSMS.md, rule 2); otherwise the gateway answers it with the
 * configured refusal and the charger never sees it. It also names the CSMS
 * a transaction's messages belong to when split by token (rule 4), and
 * keeps, per session, which CSMS owns each open transaction; with "ask" it
 * holds the charger's Authorize answer until every CSMS before the first
 * that accepted has refused, and remembers that owner for the token's
 * next start. The fan-out of the charger's CALLs to every CSMS, and each
 * secondary's queue and the answers given while its owner is down, are
 * the session's (src/session/session.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

/* token_routing "ask": the charger's Authorize of a token no list names,
 * sent to every CSMS, and what each answered so far (by index in
 * s->north[]). The charger's answer is held until the owner is known. */
struct multi_ask {
	char id[OGW_MSGID_MAX + 1];        /* the charger's CALL */
	char *token;
	bool primary_in;                   /* the primary's answer is in (held) */
	json_t *primary_res;               /* its CALLRESULT, or NULL: a CALLERROR */
	char err_code[40];
	char err_desc[256];
	unsigned int n;                    /* s->n_north */
	json_t **accepted;                 /* n: a secondary's Accepted answer, to forward */
	enum ogw_multi_answer answer[];    /* n of them */
};

/* The owners "ask" decided, by token, for the transactions they start. */
#define MULTI_DECIDED_MAX 4

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
	struct multi_ask *ask;  /* an Authorize waiting for every CSMS, or NULL */
	/* An Authorize settled before the primary answered (it was not up):
	 * the charger got its answer, the primary's is dropped when it comes. */
	char late_id[OGW_MSGID_MAX + 1];
	struct {
		char *token;
		int leg;
	} decided[MULTI_DECIDED_MAX];  /* newest first */
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

/* ---- "ask": whichever CSMS accepts the token, primary first -------------- */

static void ask_free(struct multi_ask *a)
{
	if (!a)
		return;
	json_decref(a->primary_res);
	for (unsigned int i = 0; a->accepted && i < a->n; i++)
		json_decref(a->accepted[i]);
	free(a->accepted);
	free(a->token);
	free(a);
}

/* The owner "ask" decided for @token, or the primary. */
static int decided_leg(const struct multi_owned *o, const char *token)
{
	for (unsigned int i = 0; i < MULTI_DECIDED_MAX && o->decided[i].token; i++)
		if (!strcasecmp(o->decided[i].token, token))
			return o->decided[i].leg;
	return 0;
}

/* Remembers @leg as the owner of @token's next transactions (taking
 * @token), replacing what was decided for it before. */
static void decided_put(struct multi_owned *o, char *token, int leg)
{
	unsigned int i = 0;
	while (i < MULTI_DECIDED_MAX - 1 && o->decided[i].token &&
	       strcasecmp(o->decided[i].token, token))
		i++;
	free(o->decided[i].token);
	memmove(o->decided + 1, o->decided, i * sizeof(o->decided[0]));
	o->decided[0].token = token;
	o->decided[0].leg = leg;
}

/* Begins asking every CSMS about the charger's Authorize @f of @token:
 * OGW_ROUTE_ASK, or the primary (0) when one is already being asked or
 * without memory. The primary not up counts as a refusal (the gateway
 * answers in its place); the session tells which secondaries are down. */
static int ask_begin(struct ogw_session *s, struct multi_owned *o, const struct ogw_frame *f,
		     const char *token)
{
	if (o->ask)
		return 0; /* a charger sends one CALL at a time: not worth a queue */
	struct multi_ask *a = calloc(1, sizeof(*a) + s->n_north * sizeof(a->answer[0]));
	if (!a)
		return 0;
	a->n = s->n_north;
	a->token = strdup(token);
	a->accepted = calloc(a->n, sizeof(a->accepted[0]));
	if (!a->token || !a->accepted) {
		ask_free(a);
		return 0;
	}
	snprintf(a->id, sizeof(a->id), "%s", f->id);
	if (s->north[0].leg.state != OGW_LEG_UP)
		a->answer[0] = OGW_MULTI_REFUSED;
	o->ask = a;
	return OGW_ROUTE_ASK;
}

/* Once the owner is known (@leg): the charger gets its answer (the
 * primary's own when every CSMS refused), the token is remembered for its
 * next start, and the asking is over. */
static void ask_settle(struct ogw_session *s, struct multi_owned *o, int leg)
{
	struct multi_ask *a = o->ask;
	struct ogw_log_ctx lc = { s->id, NULL, "Authorize", a->id };
	o->ask = NULL; /* what goes to the charger now is not held */
	if (!a->primary_in)
		snprintf(o->late_id, sizeof(o->late_id), "%s", a->id);
	if (leg)
		ogw_info(&lc, "the token is %s's: the first to accept it",
			 ogw_leg_secondary(&s->north[leg].leg)->leg_name);
	else
		ogw_info(&lc, "the token is the primary's: %s", a->answer[0] == OGW_MULTI_ACCEPTED ?
			 "it accepted it" : "every CSMS refused it (the primary's answer)");
	if (leg) {
		ogw_leg_send_result(&s->south, "Authorize", a->id, a->accepted[leg]);
	} else if (a->primary_res) {
		ogw_leg_send_result(&s->south, "Authorize", a->id, a->primary_res);
	} else {
		enum ogw_err e = OGW_ERR_INTERNAL;
		ogw_err_parse(a->err_code, &e);
		ogw_leg_send_error(&s->south, a->id, e, "%s", a->err_desc);
	}
	decided_put(o, a->token, leg);
	a->token = NULL;
	ask_free(a);
}

/* Settles once the answers so far decide the owner (and, when that is
 * the primary, its held answer is in). */
static void ask_try(struct ogw_session *s, struct multi_owned *o)
{
	struct multi_ask *a = o->ask;
	int leg = ogw_multi_ask_owner(a->answer, a->n);
	if (leg != OGW_MULTI_UNDECIDED && (leg > 0 || a->primary_in))
		ask_settle(s, o, leg);
}

/* A secondary's answer to the Authorize being asked (none: refused). */
static void multi_secondary_answer(struct ogw_leg *l, const char *action, const json_t *res)
{
	struct ogw_session *s = l->s;
	struct multi_owned *o = *owned_slot(s);
	size_t i = (size_t)(ogw_leg_north(l) - s->north);
	if (!o || !o->ask || strcmp(action, "Authorize") || i >= o->ask->n ||
	    o->ask->answer[i] != OGW_MULTI_PENDING)
		return;
	o->ask->answer[i] = res ? ogw_multi_authorize_answer(s->south.ver, res) : OGW_MULTI_REFUSED;
	if (o->ask->answer[i] == OGW_MULTI_ACCEPTED)
		o->ask->accepted[i] = json_incref((json_t *)res);
	ask_try(s, o);
}

/* The primary's answer to the Authorize being asked, on its way to the
 * charger: kept until the owner is known. */
static bool multi_hold_answer(struct ogw_leg *south, const char *id, const json_t *res,
			      const char *err_code, const char *err_desc)
{
	struct ogw_session *s = south->s;
	struct multi_owned *o = *owned_slot(s);
	if (o && o->late_id[0] && !strcmp(o->late_id, id)) {
		o->late_id[0] = '\0'; /* the charger has its answer */
		return true;
	}
	if (!o || !o->ask || o->ask->primary_in || strcmp(o->ask->id, id))
		return false;
	struct multi_ask *a = o->ask;
	a->primary_in = true;
	a->primary_res = json_incref((json_t *)res);
	snprintf(a->err_code, sizeof(a->err_code), "%s", err_code ? err_code : "");
	snprintf(a->err_desc, sizeof(a->err_desc), "%s", err_desc ? err_desc : "");
	if (a->answer[0] == OGW_MULTI_PENDING)
		a->answer[0] = res ? ogw_multi_authorize_answer(s->south.ver, res) : OGW_MULTI_REFUSED;
	ask_try(s, o);
	return true;
}

/*
 * Rule 4: a transaction's messages go to the CSMS that owns it only. Its
 * owner is decided by the first message naming its token (1.6
 * StartTransaction, 2.x TransactionEvent); a transaction no token decided
 * (or the primary's) is the primary's. Authorize goes to the token's owner;
 * under "ask", one of a token no list names goes to every CSMS
 * (OGW_ROUTE_ASK) and its start to the CSMS that accepted it. Everything
 * else goes to every CSMS (-1).
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
	int owner = token && starts ? ogw_multi_token_owner(&view, token) : OGW_MULTI_PRIMARY;
	if (owner == OGW_MULTI_UNDECIDED && !strcmp(f->action, "Authorize"))
		return ask_begin(s, o, f, token);
	/* a token no list names starts a transaction for the CSMS that
	 * accepted its Authorize ("ask"), else the primary's */
	leg = owner == OGW_MULTI_UNDECIDED ? decided_leg(o, token) : owner_leg(s, &view, owner);
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
	if (*slot) {
		ask_free((*slot)->ask);
		for (unsigned int i = 0; i < MULTI_DECIDED_MAX; i++)
			free((*slot)->decided[i].token);
	}
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
	.on_secondary_answer = multi_secondary_answer,
	.hold_answer = multi_hold_answer,
};
