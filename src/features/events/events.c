/* SPDX-License-Identifier: MIT */
/*
 * The events stage: turns what the session core shows it into short
 * operator-readable rows in the store (src/store/events.c). A row joins
 * the store's group commit lazily, so recording costs one prepared INSERT
 * on the loop and never an fsync of its own. It only reads frames.
 *
 * A charger's connection is "connect" when the core says its leg is up
 * (at the handshake, or when it takes back its detached session), and
 * "disconnect" when it says the leg is gone; a CSMS's leg for it is
 * "csms-up" and "csms-down" the same way. A refused login is told by the
 * charger door (ogw_events_login_refused()).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ocppgw/log.h"
#include "ocppgw/store.h"
#include "ocppgw/util.h"
#include "features/events/events.h"
#include "session/session.h"
#include "util/utf8.h"

#define TEXT_MAX 240   /* a row's text: a line on the page */
/* Refused logins recorded per minute at most: anyone can knock on the
 * charger door, and the event log is a ring the rest must survive in. */
#define REFUSED_PER_MIN 30

/* Per session: whether its charger's connection is already recorded. */
struct ev_slot {
	bool south_up;
};

static bool store_failing;   /* logged once until a write works again */
static struct {
	uint64_t window_us;       /* the minute being counted */
	int n;                    /* recorded in it */
	int skipped;              /* not recorded since the last one that was */
} refused_rate;

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void note_v(struct ogw_gateway *gw, const char *charger, const char *kind,
		   const char *fmt, va_list ap)
{
	char text[TEXT_MAX + 1];
	vsnprintf(text, sizeof(text), fmt, ap);
	/* The cap may cut a charger's multi-byte character in two: end at the
	 * last whole one, so the row stays text a JSON answer can carry. */
	size_t len = strlen(text), ok = 0;
	for (size_t k; ok < len && (k = ogw_utf8_seq_len((const unsigned char *)text + ok,
							   len - ok)) > 0;)
		ok += k;
	text[ok] = '\0';
	struct ogw_event ev = { wall_ms(), charger, kind, text };
	int r = ogw_store_event_add(gw->store, &ev, gw->conf.store_max_events);
	if (r < 0 && !store_failing) {
		struct ogw_log_ctx lc = { charger, NULL, NULL, NULL };
		ogw_warn(&lc, "Failed to record a %s event: %s", kind, strerror(-r));
	}
	store_failing = r < 0;
}

void ogw_events_note(struct ogw_gateway *gw, const char *charger, const char *kind,
		     const char *fmt, ...)
{
	if (!gw || !gw->store)
		return;
	va_list ap;
	va_start(ap, fmt);
	note_v(gw, charger, kind, fmt, ap);
	va_end(ap);
}

void ogw_events_login_refused(struct ogw_gateway *gw, const char *charger, const char *why)
{
	uint64_t now = ogw_now_us();
	if (now - refused_rate.window_us >= 60000000ull) {
		refused_rate.window_us = now;
		refused_rate.n = 0;
	}
	if (refused_rate.n >= REFUSED_PER_MIN) {
		refused_rate.skipped++;
		return;
	}
	refused_rate.n++;
	int skipped = refused_rate.skipped;
	refused_rate.skipped = 0;
	if (skipped)
		ogw_events_note(gw, charger, "login-refused", "%s (and %d more refused logins not "
				"recorded)", why, skipped);
	else
		ogw_events_note(gw, charger, "login-refused", "%s", why);
}

static struct ev_slot *slot_of(struct ogw_session *s)
{
	return ogw_session_state(s, &ogw_events_stage);
}

/* A session ends: its charger's leg, if it was up, goes with it (the core
 * says nothing of south legs of sessions it closes itself). */
static void events_session_free(struct ogw_session *s)
{
	struct ev_slot *e = slot_of(s);
	if (e && e->south_up)
		ogw_events_note(s->gw, s->id, "disconnect", s->gw->stopping ?
				"disconnected (the gateway stops)" : "disconnected (session closed)");
}

/* Which CSMS a north leg talks to, for the text. */
static void csms_leg(struct ogw_leg *l, enum ogw_leg_event ev)
{
	struct ogw_session *s = l->s;
	size_t i = 0;
	while (i < s->n_north && &s->north[i].leg != l)
		i++;
	char which[32] = "CSMS";
	if (s->n_north > 1)
		snprintf(which, sizeof(which), i ? "secondary CSMS %zu" : "primary CSMS", i);
	if (ev == OGW_LEG_EV_DOWN && s->gw->stopping)
		return;  /* the gateway closes it: not the CSMS going away */
	if (ev == OGW_LEG_EV_UP)
		ogw_events_note(s->gw, s->id, "csms-up", "%s connection up, OCPP %s", which,
				ogw_ocpp_name(l->ver));
	else
		ogw_events_note(s->gw, s->id, "csms-down", "%s connection lost", which);
}

static bool events_on_leg(struct ogw_leg *l, enum ogw_leg_event ev)
{
	struct ev_slot *e = slot_of(l->s);
	if (!e)
		return false;
	if (l->kind != OGW_SOUTH) {
		csms_leg(l, ev);
		return false;
	}
	if (ev == OGW_LEG_EV_UP && !e->south_up) {
		e->south_up = true;
		ogw_events_note(l->s->gw, l->s->id, "connect", "connected, OCPP %s",
				ogw_ocpp_name(l->ver));
	} else if (ev == OGW_LEG_EV_DOWN && e->south_up) {
		e->south_up = false;
		ogw_events_note(l->s->gw, l->s->id, "disconnect", "disconnected (code %d)",
				(int)l->close_status);
	}
	return false;
}

static void events_on_frame(struct ogw_leg *l, const struct ogw_frame_event *ev)
{
	struct ogw_session *s = l->s;
	if (ev->kind != OGW_FRAME_SEEN)
		return;
	/* The south leg only: a CSMS's CALLERROR relayed to the charger is
	 * one row, not two; one to a call of the gateway's own ends as a
	 * dead letter, a row of its own. */
	if (ev->err_code && l->kind == OGW_SOUTH)
		ogw_events_note(s->gw, s->id, "callerror", "CALLERROR %s %s the charger%s%s",
				ev->err_code, ev->dir == 0 ? "from" : "to",
				ev->action ? " on " : "", ev->action ? ev->action : "");
}

static const char *str(const json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));
	return v ? v : "";
}

static void on_boot(struct ogw_session *s, const json_t *p)
{
	const json_t *cs = json_object_get(p, "chargingStation");
	if (cs)
		ogw_events_note(s->gw, s->id, "boot", "boot: %s %s (%s)", str(cs, "vendorName"),
				str(cs, "model"), str(p, "reason"));
	else
		ogw_events_note(s->gw, s->id, "boot", "boot: %s %s", str(p, "chargePointVendor"),
				str(p, "chargePointModel"));
}

/* 1.6: an errorCode other than NoError, or Faulted; 2.x: Faulted. */
static void on_status(struct ogw_session *s, const json_t *p)
{
	const char *err = str(p, "errorCode"), *st = str(p, "status");
	if (*err && strcmp(err, "NoError") != 0)
		ogw_events_note(s->gw, s->id, "fault", "connector %d %s: %s%s%s",
				(int)json_integer_value(json_object_get(p, "connectorId")), st, err,
				*str(p, "info") ? ", " : "", str(p, "info"));
	else if (!strcmp(st, "Faulted") || !strcmp(str(p, "connectorStatus"), "Faulted"))
		ogw_events_note(s->gw, s->id, "fault", "EVSE %d connector %d Faulted",
				(int)json_integer_value(json_object_get(p, "evseId")),
				(int)json_integer_value(json_object_get(p, "connectorId")));
}

static void on_security(struct ogw_session *s, const json_t *p)
{
	ogw_events_note(s->gw, s->id, "security", "%s%s%s", str(p, "type"),
			*str(p, "techInfo") ? ": " : "", str(p, "techInfo"));
}

static const struct {
	const char *action;
	void (*fn)(struct ogw_session *s, const json_t *p);
} observed[] = {
	{ "BootNotification", on_boot },
	{ "StatusNotification", on_status },
	{ "SecurityEventNotification", on_security },
};

static void events_observe(struct ogw_session *s, enum ogw_obs what, const char *action,
			   const json_t *payload)
{
	if (what != OGW_OBS_UP_CALL || !action)
		return;
	for (size_t i = 0; i < sizeof(observed) / sizeof(observed[0]); i++)
		if (!strcmp(observed[i].action, action))
			observed[i].fn(s, payload);
}

const struct ogw_stage ogw_events_stage = {
	.name = "events",
	.state_size = sizeof(struct ev_slot),
	.on_session_free = events_session_free,
	.on_leg = events_on_leg,
	.observe = events_observe,
	.on_frame = events_on_frame,
};
