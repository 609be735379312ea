/* SPDX-License-Identifier: MIT */
/*
 * A charging session on one EVSE: plug in, Authorize, start, meter values at
 * the configured interval, stop, unplug, idle, again. The simulated car draws
 * --car-amps per phase, capped by the charging profiles in force, so a load
 * balancer's effect shows in the meter values. It builds no JSON itself
 * (messages.c does) and never touches the socket (charger.c does).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ocppgw/log.h"
#include "ocppgw/util.h"
#include "sim.h"

#define NEVER UINT64_MAX
#define HANDLING_S 2.0   /* simulated seconds between plug and authorize, stop and unplug */

static const char *const evse_state_names[] = {
	[SIM_EVSE_FREE] = "free",             [SIM_EVSE_PLUGGED] = "plugged",
	[SIM_EVSE_AUTHORIZING] = "authorizing", [SIM_EVSE_CHARGING] = "charging",
	[SIM_EVSE_FINISHING] = "finishing",
};

static void set_state(struct sim_evse *e, enum sim_evse_state s)
{
	struct ogw_log_ctx lc = { .charger = e->ch->id };

	if (e->state == s)
		return;
	ogw_debug(&lc, "evse %u: %s -> %s", e->id, evse_state_names[e->state], evse_state_names[s]);
	e->state = (uint8_t)s;
}

static const struct sim_opts *opts(const struct sim_evse *e)
{
	return e->ch->fleet->o;
}

/* A random duration around @mean simulated seconds (0.5x .. 1.5x). */
static uint64_t around(struct sim_evse *e, double mean)
{
	double f = 0.5 + (double)(sim_charger_rand(e->ch) % 1000) / 1000.0;

	return sim_charger_us(e->ch, mean * f);
}

static void wake(lws_sorted_usec_list_t *sul);

static void schedule(struct sim_evse *e)
{
	uint64_t next = e->step_at_us, now = ogw_now_us();

	if (e->state == SIM_EVSE_CHARGING && e->meter_at_us < next)
		next = e->meter_at_us;
	if (next == NEVER || e->ch->fleet->stopping) {
		lws_sul_cancel(&e->sul);
		return;
	}
	lws_sul_schedule(e->ch->fleet->ctx, 0, &e->sul, wake,
			 (lws_usec_t)(next > now ? next - now : 1));
}

void sim_session_send_status(struct sim_evse *e)
{
	unsigned int n = e->ch->v == OGW_OCPP16 ? 1 : opts(e)->connectors;

	for (unsigned int c = 1; c <= n; c++)
		sim_charger_call(e->ch, "StatusNotification", sim_msg_status(e->ch, e, c));
}

/* Adds the energy drawn since the last sample. */
static void integrate(struct sim_evse *e, uint64_t now)
{
	double dt = (double)(now - e->sampled_us) / 1e6 * opts(e)->time_scale;

	if (e->state == SIM_EVSE_CHARGING)
		e->energy_wh += e->amps * SIM_VOLTS * opts(e)->phases * dt / 3600.0;
	e->sampled_us = now;
}

/* The car takes what it wants up to the limit in force; below 6 A it
 * pauses (SuspendedEVSE), as IEC 61851-1 allows no less. */
static void apply_limit(struct sim_evse *e)
{
	struct sim_charger *ch = e->ch;
	double lim = sim_profiles_limit(&ch->profiles, e->id, e->tx_id, e->tx_start, time(NULL));
	double want = opts(e)->car_amps;
	bool was = e->suspended;

	if (lim >= 0 && lim < want)
		want = lim;
	e->suspended = want < SIM_MIN_AMPS;
	e->amps = e->suspended ? 0 : floor(want * 10) / 10;
	if (was == e->suspended || e->state != SIM_EVSE_CHARGING)
		return;
	if (ch->v == OGW_OCPP16) {
		sim_session_send_status(e);
	} else {
		sim_charger_call(ch, "TransactionEvent", sim_msg_tx_state(ch, e));
		e->seq_no++;
	}
}

static void start_tx(struct sim_evse *e)
{
	struct sim_charger *ch = e->ch;
	const char *action = NULL;
	uint64_t now = ogw_now_us();
	json_t *p;

	set_state(e, SIM_EVSE_CHARGING);
	e->seq_no = 0;
	e->tx_start = time(NULL);
	e->sampled_us = now;
	if (ch->v == OGW_OCPP16) {
		e->tx_id16 = -(int)e->id;   /* until StartTransaction.conf names it */
		e->tx_id[0] = '\0';
	} else {
		ogw_uuid4(e->tx_id);
	}
	apply_limit(e);
	p = sim_msg_tx_start(ch, e, &action);
	sim_charger_call(ch, action, p);
	e->seq_no++;
	e->reservation_id = -1;
	if (ch->v == OGW_OCPP16)
		sim_session_send_status(e);
	if (opts(e)->load) {
		e->meter_at_us = e->step_at_us = NEVER;
	} else {
		e->meter_at_us = now + sim_charger_us(ch, ch->meter_interval ? ch->meter_interval : 60);
		e->step_at_us = now + around(e, opts(e)->session);
	}
}

static void plug(struct sim_evse *e)
{
	set_state(e, SIM_EVSE_PLUGGED);
	if (!e->id_tag[0] || !e->remote)
		snprintf(e->id_tag, sizeof(e->id_tag), "TAG%05u", sim_charger_rand(e->ch) % 100000);
	sim_session_send_status(e);
	e->step_at_us = ogw_now_us() + sim_charger_us(e->ch, HANDLING_S);
}

static void authorize(struct sim_evse *e)
{
	/* Offline, the local authorization decides (LocalAuthorizeOffline). */
	if (e->ch->state != SIM_CH_ACCEPTED ||
	    sim_charger_call(e->ch, "Authorize", sim_msg_authorize(e->ch, e->id_tag)) < 0) {
		start_tx(e);
		return;
	}
	set_state(e, SIM_EVSE_AUTHORIZING);
	e->step_at_us = ogw_now_us() + (uint64_t)(opts(e)->timeout * 2e6);
}

static void unplug(struct sim_evse *e)
{
	set_state(e, SIM_EVSE_FREE);
	e->remote = false;
	e->remote_start_id = -1;
	e->id_tag[0] = '\0';
	if (e->pending_unavailable) {
		e->unavailable = true;
		e->pending_unavailable = false;
	}
	sim_session_send_status(e);
	e->step_at_us = ogw_now_us() + around(e, opts(e)->idle);
}

static void step(struct sim_evse *e)
{
	switch (e->state) {
	case SIM_EVSE_FREE:
		if (e->unavailable || e->reservation_id >= 0)
			e->step_at_us = ogw_now_us() + around(e, opts(e)->idle);
		else
			plug(e);
		break;
	case SIM_EVSE_PLUGGED:
		authorize(e);
		break;
	case SIM_EVSE_AUTHORIZING:
		start_tx(e);            /* no answer: decide locally */
		break;
	case SIM_EVSE_CHARGING:
		sim_session_stop(e, "EVDisconnected");
		break;
	case SIM_EVSE_FINISHING:
		unplug(e);
		break;
	}
}

void sim_session_send_meter(struct sim_evse *e, const char *context)
{
	const char *action = NULL;
	json_t *p;

	integrate(e, ogw_now_us());
	p = sim_msg_tx_meter(e->ch, e, context, &action);
	sim_charger_call(e->ch, action, p);
	e->seq_no++;
}

static void wake(lws_sorted_usec_list_t *sul)
{
	struct sim_evse *e = lws_container_of(sul, struct sim_evse, sul);
	uint64_t now = ogw_now_us();

	if (e->ch->fleet->stopping)
		return;
	if (e->state == SIM_EVSE_CHARGING && now >= e->meter_at_us) {
		integrate(e, now);
		apply_limit(e);  /* schedules move on with time */
		sim_session_send_meter(e, "Sample.Periodic");
		e->meter_at_us = now + sim_charger_us(e->ch, e->ch->meter_interval ?
						      e->ch->meter_interval : 60);
	}
	if (now >= e->step_at_us)
		step(e);
	schedule(e);
	sim_charger_pump(e->ch);
}

void sim_session_begin(struct sim_evse *e)
{
	if (e->state != SIM_EVSE_FREE)
		return;
	if (opts(e)->load) {
		snprintf(e->id_tag, sizeof(e->id_tag), "LOAD%05u", e->ch->index % 100000);
		start_tx(e);
	} else {
		/* Stagger the fleet: the first plug-in comes within one idle time. */
		e->step_at_us = ogw_now_us() +
			sim_charger_us(e->ch, opts(e)->idle * (double)(sim_charger_rand(e->ch) % 1000) / 1000.0);
	}
	schedule(e);
}

void sim_session_resume(struct sim_charger *ch)
{
	for (unsigned int i = 0; i < opts(&ch->evse[0])->evses; i++) {
		struct sim_evse *e = &ch->evse[i];

		sim_session_send_status(e);
		if (!lws_dll2_is_detached(&e->sul.list) || e->state != SIM_EVSE_FREE)
			continue;
		sim_session_begin(e);
	}
}

int sim_session_remote_start(struct sim_evse *e, const char *id_tag, int remote_start_id)
{
	if (e->unavailable || e->state == SIM_EVSE_CHARGING || e->state == SIM_EVSE_AUTHORIZING ||
	    e->state == SIM_EVSE_FINISHING)
		return -EBUSY;
	e->remote = true;
	e->remote_start_id = remote_start_id;
	snprintf(e->id_tag, sizeof(e->id_tag), "%s", id_tag);
	if (e->state == SIM_EVSE_FREE)
		plug(e);
	/* AuthorizeRemoteTxRequests is false: start without Authorize. */
	start_tx(e);
	schedule(e);
	return 0;
}

void sim_session_stop(struct sim_evse *e, const char *reason)
{
	struct sim_charger *ch = e->ch;
	const char *action = NULL;
	json_t *p;

	if (e->state != SIM_EVSE_CHARGING) {
		if (e->state == SIM_EVSE_PLUGGED || e->state == SIM_EVSE_AUTHORIZING)
			unplug(e);
		schedule(e);
		return;
	}
	integrate(e, ogw_now_us());
	p = sim_msg_tx_stop(ch, e, reason, &action);
	sim_charger_call(ch, action, p);
	e->seq_no++;
	sim_profiles_end_tx(&ch->profiles, e->tx_id);
	set_state(e, SIM_EVSE_FINISHING);
	e->amps = 0;
	e->suspended = false;
	if (ch->v == OGW_OCPP16)
		sim_session_send_status(e);
	e->tx_id[0] = '\0';
	e->step_at_us = ogw_now_us() + sim_charger_us(ch, HANDLING_S);
	schedule(e);
}

void sim_session_limit_changed(struct sim_evse *e)
{
	if (e->state != SIM_EVSE_CHARGING)
		return;
	integrate(e, ogw_now_us());
	apply_limit(e);
}

struct sim_evse *sim_session_find_tx(struct sim_charger *ch, const json_t *tx_id)
{
	for (unsigned int i = 0; i < opts(&ch->evse[0])->evses; i++) {
		struct sim_evse *e = &ch->evse[i];

		if (e->state != SIM_EVSE_CHARGING)
			continue;
		if (json_is_integer(tx_id) && e->tx_id16 == json_integer_value(tx_id))
			return e;
		if (json_is_string(tx_id) && !strcmp(e->tx_id, json_string_value(tx_id)))
			return e;
	}
	return NULL;
}

static struct sim_evse *evse_by_id(struct sim_charger *ch, json_int_t id)
{
	if (id < 1 || id > (json_int_t)opts(&ch->evse[0])->evses)
		return NULL;
	return &ch->evse[id - 1];
}

/* 1.6: StartTransaction.conf names the transaction; messages already queued
 * with the provisional id get the real one. */
static void tx_named(struct sim_charger *ch, struct sim_evse *e, int id)
{
	int provisional = e->tx_id16;

	e->tx_id16 = id;
	snprintf(e->tx_id, sizeof(e->tx_id), "%d", id);
	lws_start_foreach_dll(struct lws_dll2 *, d, lws_dll2_get_head(&ch->tracker.waiting)) {
		struct ogw_call *c = lws_container_of(d, struct ogw_call, list);
		json_t *t = json_object_get(c->payload, "transactionId");

		if (json_is_integer(t) && json_integer_value(t) == provisional)
			json_object_set_new(c->payload, "transactionId", json_integer(id));
	} lws_end_foreach_dll(d);
}

static bool accepted_info(const json_t *res, const char *field)
{
	const char *st = json_string_value(json_object_get(json_object_get(res, field), "status"));

	return !st || !strcmp(st, "Accepted");
}

void sim_session_answer(struct sim_charger *ch, const char *action, const json_t *req,
			const json_t *res)
{
	struct sim_evse *e;

	if (!strcmp(action, "Authorize")) {
		const json_t *tag = json_object_get(req, "idTag");
		const char *t = tag ? json_string_value(tag) :
			json_string_value(json_object_get(json_object_get(req, "idToken"), "idToken"));

		for (unsigned int i = 0; i < opts(&ch->evse[0])->evses; i++) {
			e = &ch->evse[i];
			if (e->state != SIM_EVSE_AUTHORIZING || !t || strcmp(e->id_tag, t))
				continue;
			if (accepted_info(res, ch->v == OGW_OCPP16 ? "idTagInfo" : "idTokenInfo"))
				start_tx(e);
			else
				unplug(e);
			schedule(e);
		}
	} else if (!strcmp(action, "StartTransaction")) {
		e = evse_by_id(ch, json_integer_value(json_object_get(req, "connectorId")));
		if (!e || e->state != SIM_EVSE_CHARGING || e->tx_id16 >= 0)
			return;
		tx_named(ch, e, (int)json_integer_value(json_object_get(res, "transactionId")));
		if (!accepted_info(res, "idTagInfo"))
			sim_session_stop(e, "DeAuthorized");
	} else if (!strcmp(action, "TransactionEvent") && json_object_get(req, "idToken") &&
		   !accepted_info(res, "idTokenInfo")) {
		e = sim_session_find_tx(ch, json_object_get(json_object_get(req, "transactionInfo"),
							    "transactionId"));
		if (e)
			sim_session_stop(e, "Other");
	}
}
