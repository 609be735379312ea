/* SPDX-License-Identifier: MIT */
/*
 * What each admin endpoint does (docs/API.md): the route table, the JSON
 * views of chargers and the site, and the commands sent to chargers. Each
 * command is built in the charger's own OCPP version and sent with the
 * gateway's own-call mechanism (ogw_tr_emit); the charger's answer comes
 * back as the HTTP response. No socket work here: admin.c does that.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ocppgw/local.h"
#include "ocppgw/store.h"
#include "ocppgw/util.h"
#include "features/admin/admin.h"
#include "features/balance/balance.h"
#include "features/history/history.h"
#include "features/files/files.h"
#include "features/metrics/metrics.h"
#include "features/state/state.h"
#include "session/session.h"

/* ---- JSON views ---------------------------------------------------------------- */

static json_t *time_or_null(int64_t t)
{
	if (t <= 0)
		return json_null();
	char buf[32];
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

static json_t *num_or_null(double v)
{
	return v < 0 ? json_null() : json_real(v);
}

/* The limit that applies to an EVSE: the gateway's, else the CSMS's, else
 * what the charger offers. */
static double evse_limit(const struct ogw_evse_state *e)
{
	return e->gw_limit_a >= 0 ? e->gw_limit_a : e->csms_limit_a >= 0 ? e->csms_limit_a :
								      e->offered_a;
}

static json_t *evse_json(const struct ogw_evse_state *e)
{
	json_t *tx = json_null();
	if (e->tx_id[0])
		tx = json_pack("{s:s, s:s, s:o}", "id", e->tx_id, "idTag", e->id_tag, "startedAt",
			       time_or_null(e->tx_started));
	json_t *cur = json_array();
	for (int p = 0; p < 3; p++)
		json_array_append_new(cur, num_or_null(e->current_a[p]));
	return json_pack("{s:i, s:s, s:o, s:o, s:o, s:o, s:i, s:o, s:o, s:o, s:o, s:o}",
			 "id", e->id, "status", e->status[0] ? e->status : "Unknown",
			 "transaction", tx, "energyWh", num_or_null(e->energy_wh),
			 "powerW", num_or_null(e->power_w), "currentA", cur,
			 "phasesUsed", e->phases_used, "offeredA", num_or_null(e->offered_a),
			 "limitA", num_or_null(evse_limit(e)),
			 "csmsLimitA", num_or_null(e->csms_limit_a),
			 "gwLimitA", num_or_null(e->gw_limit_a), "updatedAt", time_or_null(e->updated));
}

static const char *const leg_state_names[] = { "down", "connecting", "up", "closing" };

/* Each secondary CSMS of @s: its leg and its answers to the charger's
 * CALLs (docs/MULTI_CSMS.md). */
static json_t *secondaries_json(struct ogw_gateway *gw, const struct ogw_session *s)
{
	json_t *a = json_array();
	for (unsigned int i = 1; a && i < s->n_north; i++) {
		const struct ogw_leg *l = &s->north[i].leg;
		const struct ogw_secondary *sec = ogw_leg_secondary(l);
		const char *name = sec->leg_name + strlen("north.");
		int64_t q = ogw_store_csms_queue_count(gw->store, s->id, name);
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I}", "name", name,
						   "upstreamOcpp", ogw_ocpp_name(l->ver),
						   "north", leg_state_names[l->state],
						   "answered", (json_int_t)sec->answered,
						   "errors", (json_int_t)sec->errors,
						   "unanswered", (json_int_t)sec->unanswered,
						   "queued", (json_int_t)(q > 0 ? q : 0)));
	}
	return a;
}
static json_t *charger_json(struct ogw_gateway *gw, const struct ogw_session *s)
{
	const struct ogw_charger_state *cs = ogw_state_of(s);
	json_t *evses = json_array();
	double draw[3] = { 0, 0, 0 }, limit = 0;
	bool any_limit = false;
	for (int i = 0; i < cs->n_evse; i++) {
		const struct ogw_evse_state *e = &cs->evse[i];
		json_array_append_new(evses, evse_json(e));
		for (int p = 0; p < 3; p++)
			draw[p] += e->current_a[p] > 0 ? e->current_a[p] : 0;
		if (evse_limit(e) >= 0) {
			limit += evse_limit(e);
			any_limit = true;
		}
	}
	json_t *boot = json_null();
	if (cs->boot_at)
		boot = json_pack("{s:s, s:s, s:s, s:s, s:o}", "vendor", cs->vendor, "model",
				 cs->model, "serial", cs->serial, "firmware", cs->firmware, "at",
				 time_or_null(cs->boot_at));
	int64_t queued = ogw_store_queue_count(gw->store, s->id, NULL);
	const struct ogw_north *up = &s->north[0]; /* the primary CSMS's leg */
	json_t *j = json_pack("{s:s, s:b, s:s, s:s, s:b, s:s, s:o, s:o, s:o, s:I, s:o, s:[f,f,f], s:o}",
			 "id", s->id, "connected", 1, "ocpp", ogw_ocpp_name(s->south.ver),
			 "upstreamOcpp", ogw_ocpp_name(up->leg.ver), "translated", up->tr != NULL,
			 "north", leg_state_names[up->leg.state],
			 "connectedSince", time_or_null((int64_t)s->connected_at),
			 "lastSeen", time_or_null(cs->last_seen), "boot", boot,
			 "queued", (json_int_t)(queued > 0 ? queued : 0), "evses", evses,
			 "currentA", draw[0], draw[1], draw[2],
			 "limitA", any_limit ? json_real(limit) : json_null());
	if (j && s->n_north > 1)
		json_object_set_new(j, "secondaries", secondaries_json(gw, s));
	return j;
}

/* A charger in the configured list that is not connected. */
static json_t *absent_json(const char *id)
{
	return json_pack("{s:s, s:b, s:n, s:n, s:[]}", "id", id, "connected", 0, "ocpp",
			 "north", "evses");
}

static struct ogw_session *connected(struct ogw_gateway *gw, const char *id)
{
	struct ogw_session *s = ogw_session_find(gw, id);
	return s && s->state == OGW_SESSION_ACTIVE && s->south.state == OGW_LEG_UP ? s : NULL;
}

static int by_id(const void *a, const void *b)
{
	return strcmp((*(struct ogw_session *const *)a)->id, (*(struct ogw_session *const *)b)->id);
}

/* ---- read-only endpoints ---------------------------------------------------------- */

static void get_page(struct ogw_admin_req *r)
{
	ogw_admin_reply(r, 200, "text/html; charset=utf-8", ogw_admin_page, ogw_admin_page_len);
}

static void get_metrics(struct ogw_admin_req *r)
{
	size_t len = 0;
	char *text = ogw_metrics_render(r->gw, &len);
	if (!text) {
		ogw_admin_reply_error(r, 500, NULL, "out of memory");
		return;
	}
	ogw_admin_reply(r, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
	free(text);
}

static void get_chargers(struct ogw_admin_req *r)
{
	struct ogw_gateway *gw = r->gw;
	struct ogw_session **list = calloc(gw->n_sessions + 1, sizeof(*list));
	size_t n = 0;
	if (!list) {
		ogw_admin_reply_error(r, 500, NULL, "out of memory");
		return;
	}
	for (size_t i = 0; i < gw->table_size; i++)
		for (struct ogw_session *s = gw->table[i]; s && n < gw->n_sessions; s = s->hnext)
			if (s->state == OGW_SESSION_ACTIVE && !s->own) /* the gateway is no charger */
				list[n++] = s;
	qsort(list, n, sizeof(*list), by_id);
	json_t *out = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(out, charger_json(gw, list[i]));
	for (size_t i = 0; i < gw->conf.n_chargers; i++)
		if (!connected(gw, gw->conf.chargers[i].id) &&
		    (!gw->conf.tls_identity || strcmp(gw->conf.chargers[i].id, gw->conf.tls_identity)))
			json_array_append_new(out, absent_json(gw->conf.chargers[i].id));
	free(list);
	ogw_admin_reply_json(r, 200, out);
}

/* Not connected: 503 for a charger the gateway knows (configured), 404 else. */
static struct ogw_session *charger_or_reply(struct ogw_admin_req *r)
{
	const char *id = r->args[0];
	struct ogw_session *s = connected(r->gw, id);
	if (s)
		return s;
	if (ogw_conf_charger(&r->gw->conf, id))
		ogw_admin_reply_error(r, 503, NULL, "charger %s is not connected", id);
	else
		ogw_admin_reply_error(r, 404, NULL, "unknown charger %s", id);
	return NULL;
}

static void get_charger(struct ogw_admin_req *r)
{
	if (!connected(r->gw, r->args[0]) && ogw_conf_charger(&r->gw->conf, r->args[0])) {
		ogw_admin_reply_json(r, 200, absent_json(r->args[0]));
		return;
	}
	struct ogw_session *s = charger_or_reply(r);
	if (s)
		ogw_admin_reply_json(r, 200, charger_json(r->gw, s));
}

/* ---- events ------------------------------------------------------------------ */

#define EVENTS_LIMIT_DEFAULT 200
#define EVENTS_LIMIT_MAX 1000

/* Query parameter @name into @out: 1 given, 0 absent; on bad text answers
 * 400 naming it and returns -1. */
static int query_param(struct ogw_admin_req *r, const char *name, char *out, size_t outlen)
{
	int got = ogw_http_query_get(r->query, name, out, outlen);
	if (got < 0)
		ogw_admin_reply_error(r, 400, name, "%s: not text of at most %zu bytes", name,
				      outlen - 1);
	return got < 0 ? -1 : got;
}

/* @v as unix ms: digits are ms already; else a day ("2026-12-04", its UTC
 * midnight) or an RFC 3339 time. */
static bool parse_since(const char *v, int64_t *ret_ms)
{
	if (*v >= '0' && *v <= '9' && strspn(v, "0123456789") == strlen(v)) {
		*ret_ms = strtoll(v, NULL, 10);
		return strlen(v) <= 15;
	}
	int64_t t;
	if (ogw_sessions_parse_time(v, &t) < 0)
		return false;
	*ret_ms = t * 1000;
	return true;
}

/* Parameter @name as an integer from 1 to @max, @dflt when absent; on a bad
 * one answers 400 naming it and returns false. */
static bool query_limit(struct ogw_admin_req *r, const char *name, long dflt, long max,
			long *ret)
{
	char v[12], *end = NULL;
	int got = query_param(r, name, v, sizeof(v));
	if (got < 0)
		return false;
	*ret = got ? strtol(v, &end, 10) : dflt;
	if (got && (!*v || *end || *ret < 1 || *ret > max)) {
		ogw_admin_reply_error(r, 400, name, "%s: expected an integer from 1 to %ld", name,
				      max);
		return false;
	}
	return true;
}

/* Parameter "charger": 1 given (a valid identity), 0 absent; -1 answered 400. */
static int query_charger(struct ogw_admin_req *r, char out[OGW_ID_MAX + 1])
{
	int got = query_param(r, "charger", out, OGW_ID_MAX + 1);
	const char *why = got > 0 ? ogw_identity_check(out, strlen(out)) : NULL;
	if (why) {
		ogw_admin_reply_error(r, 400, "charger", "charger: %s", why);
		return -1;
	}
	return got;
}

/* Parameter @name as an instant (parse_since): 1 given, 0 absent, -1
 * answered 400. */
static int query_ms(struct ogw_admin_req *r, const char *name, int64_t *ret_ms)
{
	char v[40];
	int got = query_param(r, name, v, sizeof(v));
	if (got > 0 && !parse_since(v, ret_ms)) {
		ogw_admin_reply_error(r, 400, name, "%s: expected unix milliseconds, a day "
				      "(2026-12-04) or an RFC 3339 time (2026-12-04T03:00:00Z)", name);
		return -1;
	}
	return got;
}

static void get_events(struct ogw_admin_req *r)
{
	char charger[OGW_ID_MAX + 1], kind[24];
	long n;
	int64_t since_ms = 0;
	int has_charger = query_charger(r, charger);
	int has_kind = has_charger < 0 ? -1 : query_param(r, "kind", kind, sizeof(kind));
	if (has_kind < 0 || query_ms(r, "since", &since_ms) < 0 ||
	    !query_limit(r, "limit", EVENTS_LIMIT_DEFAULT, EVENTS_LIMIT_MAX, &n))
		return;
	if (has_kind && (!*kind || strspn(kind, "abcdefghijklmnopqrstuvwxyz-") != strlen(kind))) {
		ogw_admin_reply_error(r, 400, "kind", "kind: expected a word like fault or "
				      "dead-letter");
		return;
	}
	json_t *rows = ogw_store_event_list(r->gw->store, has_charger ? charger : NULL,
					    has_kind ? kind : NULL, since_ms, (int)n);
	if (!rows) {
		ogw_admin_reply_error(r, 500, NULL, "cannot read the events from the store");
		return;
	}
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row) {
		int64_t ms = json_integer_value(json_object_get(row, "at"));
		json_object_set_new(row, "time", time_or_null(ms / 1000));
	}
	ogw_admin_reply_json(r, 200, rows);
}

/* ---- history (the charts) ---------------------------------------------------------- */

#define HISTORY_SPAN_DEFAULT_MS ((int64_t)3600 * 1000)
#define HISTORY_POINTS_AUTO 2000     /* a step chosen for the caller: at most this many */
#define HISTORY_POINTS_MAX 20000     /* a step the caller chose */

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Without a step: the finest tier that still holds @from and gives few
 * enough points. */
static int64_t history_auto_step(int64_t from, int64_t to, int64_t now)
{
	for (int t = 0; t < OGW_HISTORY_TIERS; t++) {
		const struct ogw_history_tier *tier = &ogw_history_tiers[t];
		if (now - from <= tier->keep_ms && (to - from) / tier->step_ms <= HISTORY_POINTS_AUTO)
			return tier->step_ms;
	}
	return ogw_history_tiers[OGW_HISTORY_TIERS - 1].step_ms;
}

static void get_history(struct ogw_admin_req *r)
{
	char charger[OGW_ID_MAX + 1];
	int64_t now = now_ms(), from = 0, to = now;
	long step_s = 0;
	int has_charger = query_charger(r, charger);
	int has_from = has_charger < 0 ? -1 : query_ms(r, "from", &from);
	if (has_from < 0 || query_ms(r, "to", &to) < 0 ||
	    !query_limit(r, "step", 0, 86400, &step_s))
		return;
	if (!has_from)
		from = to - HISTORY_SPAN_DEFAULT_MS;
	if (from >= to) {
		ogw_admin_reply_error(r, 400, "from", "from: must be before to");
		return;
	}
	int64_t step_ms = (int64_t)step_s * 1000;
	if (step_s) {
		int t = 0;
		while (t < OGW_HISTORY_TIERS && ogw_history_tiers[t].step_ms != step_ms)
			t++;
		if (t == OGW_HISTORY_TIERS) {
			ogw_admin_reply_error(r, 400, "step", "step: expected 60, 900 or 3600 (seconds)");
			return;
		}
		if ((to - from) / step_ms > HISTORY_POINTS_MAX) {
			ogw_admin_reply_error(r, 400, "step", "step: more than %d points between from and to: "
					      "choose a larger step or a shorter span",
					      HISTORY_POINTS_MAX);
			return;
		}
	} else {
		step_ms = history_auto_step(from, to, now);
	}
	json_t *out = ogw_history_json(r->gw, has_charger ? charger : NULL, step_ms, from, to);
	if (!out) {
		ogw_admin_reply_error(r, 500, NULL, "cannot read the history from the store");
		return;
	}
	ogw_admin_reply_json(r, 200, out);
}

/* ---- sessions (the transaction log) -------------------------------------------- */

#define SESSIONS_LIMIT_DEFAULT 1000
#define SESSIONS_LIMIT_MAX 100000

/* Parameter @name as a time (ogw_sessions_parse_time): 1 given, 0 absent,
 * -1 answered 400. */
static int query_time(struct ogw_admin_req *r, const char *name, int64_t *ret)
{
	char v[40];
	int got = query_param(r, name, v, sizeof(v));
	if (got > 0 && ogw_sessions_parse_time(v, ret) < 0) {
		ogw_admin_reply_error(r, 400, name, "%s: expected a day (2026-12-04) or an "
				      "RFC 3339 time (2026-12-04T03:00:00Z)", name);
		return -1;
	}
	return got;
}

static void get_sessions(struct ogw_admin_req *r)
{
	char charger[OGW_ID_MAX + 1], format[8];
	int64_t from = 0, to = 0;
	long n;
	int has_charger = query_charger(r, charger);
	int has_format = has_charger < 0 ? -1 : query_param(r, "format", format, sizeof(format));
	if (has_format < 0 || query_time(r, "from", &from) < 0 || query_time(r, "to", &to) < 0 ||
	    !query_limit(r, "limit", SESSIONS_LIMIT_DEFAULT, SESSIONS_LIMIT_MAX, &n))
		return;
	bool csv = has_format && !strcmp(format, "csv");
	if (has_format && !csv && strcmp(format, "json") != 0) {
		ogw_admin_reply_error(r, 400, "format", "format: expected csv or json");
		return;
	}
	json_t *rows = ogw_store_tx_list_between(r->gw->store, has_charger ? charger : NULL, false,
						 from, to, (int)n);
	json_t *sessions = rows ? ogw_sessions_view(rows) : NULL;
	json_decref(rows);
	if (!sessions) {
		ogw_admin_reply_error(r, 500, NULL, "cannot read the transactions from the store");
		return;
	}
	if (csv) {
		size_t len = 0;
		char *text = ogw_sessions_csv(sessions, &len);
		json_decref(sessions);
		if (!text) {
			ogw_admin_reply_error(r, 500, NULL, "out of memory");
			return;
		}
		ogw_admin_reply(r, 200, "text/csv; charset=utf-8", text, len);
		free(text);
		return;
	}
	json_t *sums = ogw_sessions_sums(sessions);
	if (!sums) {
		json_decref(sessions);
		ogw_admin_reply_error(r, 500, NULL, "out of memory");
		return;
	}
	ogw_admin_reply_json(r, 200, json_pack("{s:o, s:o}", "sessions", sessions, "sums", sums));
}

/* GET /api/site is built from these sections, each adding its keys; a
 * feature adds its own (the load balancer: limits and allocation). */
typedef void site_section_fn(struct ogw_gateway *gw, const struct ogw_site_figures *f,
			     json_t *site);

static void site_uplink(struct ogw_gateway *gw, const struct ogw_site_figures *f, json_t *site)
{
	unsigned int total = f->chargers[0] + f->chargers[1] + f->chargers[2];
	json_t *by_ver = json_object();
	for (int v = 0; v < OGW_OCPP_COUNT; v++)
		json_object_set_new(by_ver, ogw_ocpp_name((enum ogw_ocpp)v),
				    json_integer(f->chargers[v]));
	json_object_set_new(site, "chargers", json_pack("{s:i, s:o}", "connected", total,
							 "byOcpp", by_ver));
	json_object_set_new(site, "uplink",
			    json_pack("{s:s, s:i, s:i, s:i}", "state",
				      /* no CSMS: the gateway is the central system */
				      !gw->conf.csms_url ? "standalone" :
				      !total ? "idle" : f->north[OGW_LEG_UP] == total ? "up" :
				      f->north[OGW_LEG_UP] ? "partial" : "down",
				      "legsUp", f->north[OGW_LEG_UP],
				      "legsConnecting", f->north[OGW_LEG_CONNECTING],
				      "legsDown", f->north[OGW_LEG_DOWN] + f->north[OGW_LEG_CLOSING]));
}

static void site_queue(struct ogw_gateway *gw, const struct ogw_site_figures *f, json_t *site)
{
	(void)gw;
	json_object_set_new(site, "queue", json_pack("{s:I, s:f, s:I}",
						     "depth", (json_int_t)(f->queued > 0 ? f->queued : 0),
						     "oldestAgeSeconds", f->oldest_age_s,
						     "deadLetters", (json_int_t)(f->dead > 0 ? f->dead : 0)));
}

static void site_phases(struct ogw_gateway *gw, const struct ogw_site_figures *f, json_t *site)
{
	(void)gw;
	json_object_set_new(site, "phases",
			    json_pack("{s:[f,f,f], s:[f,f,f]}", "measuredA", f->measured_a[0],
				      f->measured_a[1], f->measured_a[2], "allocatedA",
				      f->allocated_a[0], f->allocated_a[1], f->allocated_a[2]));
}

/* The load balancer: the site limit ("limits", phaseA null when balancing
 * is off) and its last allocation ("balancing": {"enabled": false} when off). */
static void site_balancing(struct ogw_gateway *gw, const struct ogw_site_figures *f,
			   json_t *site)
{
	(void)f;
	json_object_set_new(site, "limits", ogw_balance_limit_json(gw));
	json_object_set_new(site, "balancing", ogw_balance_site_json(gw));
}

static site_section_fn *const site_sections[] = {
	site_uplink,
	site_queue,
	site_phases,
	site_balancing,
};

static void get_site(struct ogw_admin_req *r)
{
	struct ogw_site_figures f;
	ogw_site_figures(r->gw, &f);
	json_t *site = json_object();
	for (size_t i = 0; i < sizeof(site_sections) / sizeof(site_sections[0]); i++)
		site_sections[i](r->gw, &f, site);
	ogw_admin_reply_json(r, 200, site);
}

/* ---- the dynamic site limit -------------------------------------------------------- */

/* 503 when balancing is off: there is no site limit to set. */
static bool balancing_or_reply(struct ogw_admin_req *r)
{
	const struct ogw_lb_conf *lb = r->gw->conf.lb;
	if (lb && lb->enabled)
		return true;
	ogw_admin_reply_error(r, 503, NULL, "load balancing is not %s: no site limit to set",
			      lb ? "enabled" : "configured");
	return false;
}

static void get_site_limit(struct ogw_admin_req *r)
{
	if (balancing_or_reply(r))
		ogw_admin_reply_json(r, 200, ogw_balance_limit_json(r->gw));
}

/* {"amps": N} (A per phase) or {"watts": N}: between 0 and the configured
 * site limit; the answer is the limit now in force. */
static void put_site_limit(struct ogw_admin_req *r)
{
	char err[200];
	const char *field = "body";
	double amps = -1;
	json_error_t jerr;
	json_t *body;

	if (!balancing_or_reply(r))
		return;
	body = r->body_len ? json_loadb(r->body, r->body_len, 0, &jerr) : NULL;
	if (!json_is_object(body)) {
		ogw_admin_reply_error(r, 400, "body", "body: expected a JSON object {\"amps\": N} "
				      "or {\"watts\": N}");
	} else if (ogw_balance_parse_limit(r->gw, body, &amps, &field, err, sizeof(err)) < 0) {
		ogw_admin_reply_error(r, 400, field, "%s", err);
	} else if (ogw_balance_set_site_limit(r->gw, amps, err, sizeof(err)) < 0) {
		/* the balancer speaks A per phase: say what the watts were */
		if (!strcmp(field, "watts"))
			ogw_admin_reply_error(r, 400, field, "watts: %.0f W is %.2f A per phase; %s",
					      json_number_value(json_object_get(body, "watts")), amps,
					      err);
		else
			ogw_admin_reply_error(r, 400, field, "amps: %s", err);
	} else {
		ogw_admin_reply_json(r, 200, ogw_balance_limit_json(r->gw));
	}
	json_decref(body);
}

static void delete_site_limit(struct ogw_admin_req *r)
{
	if (!balancing_or_reply(r))
		return;
	ogw_balance_clear_site_limit(r->gw);
	ogw_admin_reply_json(r, 200, ogw_balance_limit_json(r->gw));
}

/* ---- firmware rollouts (features/files/rollout.c) ---------------------------------- */

static void get_firmware(struct ogw_admin_req *r)
{
	ogw_admin_reply_json(r, 200, ogw_rollout_json(r->gw));
}

static void post_firmware(struct ogw_admin_req *r)
{
	json_error_t jerr;
	json_t *body = r->body_len ? json_loadb(r->body, r->body_len, 0, &jerr) : NULL;
	const char *field = "body";
	char err[200];
	int rc;

	if (!json_is_object(body)) {
		ogw_admin_reply_error(r, 400, "body", "body: expected a JSON object {\"location\": "
				      "URL or \"file\": name, \"chargers\": [ids], \"wave_size\": N, "
				      "\"max_failures\": N}");
	} else if ((rc = ogw_rollout_start(r->gw, body, &field, err, sizeof(err))) < 0) {
		ogw_admin_reply_error(r, rc == -EINVAL ? 400 : rc == -ENOENT ? 404 :
				      rc == -ENOMEM ? 500 : 409, field, "%s", err);
	} else {
		ogw_admin_reply_json(r, 202, ogw_rollout_json(r->gw));
	}
	json_decref(body);
}

/* ---- the operator's firmware files (features/files/fwstore.c) ------------------------ */

#define FW_FILES "/api/firmware/files/"

bool ogw_admin_streamed(const char *method, const char *path)
{
	return !strcmp(method, "PUT") && !strncmp(path, FW_FILES, strlen(FW_FILES));
}

/* fwstore.c's errors as HTTP statuses, and the field at fault. */
static int fw_status(int rc, const char **ret_field)
{
	*ret_field = rc == -EINVAL || rc == -ENOENT ? "name" : rc == -EFBIG ? "body" : NULL;
	switch (rc) {
	case -EINVAL: return 400;
	case -ENOENT: return 404;
	case -EBUSY: case -ENOTSUP: return 409;
	case -EFBIG: return 413;
	case -EDQUOT: case -ENOSPC: return 507;
	default: return 500;
	}
}

static void fw_reply_error(struct ogw_admin_req *r, int rc, const char *err)
{
	const char *field;
	int status = fw_status(rc, &field);
	ogw_admin_reply_error(r, status, field, "%s", err);
}

static int fw_sink_write(struct ogw_admin_req *r, const char *data, size_t len)
{
	int rc = ogw_fw_put_write(r->sink_ctx, data, len);
	if (rc == 0)
		return 0;
	ogw_fw_put_abort(r->sink_ctx);
	r->sink_ctx = NULL;
	ogw_admin_reply_error(r, rc == -ENOSPC || rc == -EDQUOT ? 507 : 500, "body",
			      "body: Failed to write the file: %s", strerror(-rc));
	return rc;
}

static void fw_sink_done(struct ogw_admin_req *r)
{
	char err[300];
	int rc;
	json_t *o = ogw_fw_put_commit(r->sink_ctx, &rc, err, sizeof(err));
	r->sink_ctx = NULL;
	if (o)
		ogw_admin_reply_json(r, 201, o);
	else
		fw_reply_error(r, rc, err);
}

static void fw_sink_abandon(struct ogw_admin_req *r)
{
	ogw_fw_put_abort(r->sink_ctx);
	r->sink_ctx = NULL;
}

static const struct ogw_admin_sink fw_sink = {
	.write = fw_sink_write,
	.done = fw_sink_done,
	.abandon = fw_sink_abandon,
};

/* PUT /api/firmware/files/<name>: the body is the file, streamed to disk. */
static void put_firmware_file(struct ogw_admin_req *r)
{
	struct ogw_fw_put *p;
	char err[300];
	int rc;

	if (!r->has_length) {
		ogw_admin_reply_error(r, 411, "Content-Length", "Content-Length: required (the "
				      "file's size; curl -T sends it)");
	} else if (!r->content_length) {
		ogw_admin_reply_error(r, 400, "body", "body: empty: send the file's bytes");
	} else if ((rc = ogw_fw_put_begin(r->gw, r->args[0], r->content_length, &p, err,
					  sizeof(err))) < 0) {
		fw_reply_error(r, rc, err);
	} else {
		r->sink = &fw_sink;
		r->sink_ctx = p;
	}
}

static void get_firmware_files(struct ogw_admin_req *r)
{
	json_t *o = ogw_fw_list_json(r->gw);
	if (o)
		ogw_admin_reply_json(r, 200, o);
	else
		ogw_admin_reply_error(r, 409, NULL, "the file server is off: set files.listen");
}

static void delete_firmware_file(struct ogw_admin_req *r)
{
	char err[300];
	int rc = ogw_fw_delete(r->gw, r->args[0], err, sizeof(err));
	if (rc < 0)
		fw_reply_error(r, rc, err);
	else
		ogw_admin_reply_json(r, 200, json_pack("{s:s}", "deleted", r->args[0]));
}

/* ---- commands to a charger --------------------------------------------------------- */

/* What a command builder has to work with, and what it fills in. */
struct cmd {
	struct ogw_admin_req *r;
	struct ogw_session *s;
	const json_t *body;        /* a JSON object ({} when there was no body) */
	bool v16;
	const char *action;        /* set by the builder */
	json_t *payload;           /* set by the builder */
	json_t *extra;             /* optional: more keys for the HTTP answer */
};

/* Body field readers: false after replying 400 naming the field. */
static bool body_int(struct cmd *c, const char *field, long min, long max, bool required,
		     long *ret)
{
	const json_t *v = json_object_get(c->body, field);
	if (!v && !required)
		return true;
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
		ogw_admin_reply_error(c->r, 400, field, "%s: expected an integer from %ld to %ld",
				      field, min, max);
		return false;
	}
	*ret = (long)json_integer_value(v);
	return true;
}

static bool body_str(struct cmd *c, const char *field, size_t max, bool required,
		     const char **ret)
{
	const json_t *v = json_object_get(c->body, field);
	if (!v && !required)
		return true;
	if (!json_is_string(v) || !json_string_length(v) || json_string_length(v) > max) {
		ogw_admin_reply_error(c->r, 400, field, "%s: expected a string of 1 to %zu characters",
				      field, max);
		return false;
	}
	*ret = json_string_value(v);
	return true;
}

static const struct ogw_evse_state *evse_find(const struct ogw_charger_state *cs, long id)
{
	for (int i = 0; i < cs->n_evse; i++)
		if (cs->evse[i].id == id)
			return &cs->evse[i];
	return NULL;
}

static json_t *id_token(const char *tag)
{
	return json_pack("{s:s, s:s}", "idToken", tag, "type", "Central");
}

static size_t id_tag_max(const struct cmd *c)
{
	return c->v16 ? 20 : 36;
}

/* An EVSE the charger reported Available: @want, or the first one. */
static bool available_evse(struct cmd *c, long want, long *ret)
{
	const struct ogw_charger_state *cs = ogw_state_of(c->s);
	if (want) {
		const struct ogw_evse_state *e = evse_find(cs, want);
		if (!e && cs->n_evse) {
			ogw_admin_reply_error(c->r, 400, "evse", "evse: charger %s has no EVSE %ld",
					      c->s->id, want);
			return false;
		}
		if (!e || strcmp(e->status, "Available") != 0) {
			ogw_admin_reply_error(c->r, 503, "evse", "EVSE %ld of %s is not available (%s)",
					      want, c->s->id, e && e->status[0] ? e->status : "no status yet");
			return false;
		}
		*ret = want;
		return true;
	}
	for (int i = 0; i < cs->n_evse; i++)
		if (strcmp(cs->evse[i].status, "Available") == 0) {
			*ret = cs->evse[i].id;
			return true;
		}
	ogw_admin_reply_error(c->r, 503, NULL, "no EVSE of %s is available", c->s->id);
	return false;
}

static bool build_reserve(struct cmd *c)
{
	long evse = 0, expires_in = 900, rid = -1;
	const char *tag = NULL, *expiry = NULL;
	if (!body_str(c, "idTag", id_tag_max(c), true, &tag) ||
	    !body_int(c, "evse", 1, OGW_STATE_MAX_EVSE, false, &evse) ||
	    !body_str(c, "expiry", 40, false, &expiry) ||
	    !body_int(c, "expiresIn", 1, 7 * 86400, false, &expires_in) ||
	    !body_int(c, "reservationId", 0, 2147483647, false, &rid))
		return false;
	char when[32];
	if (expiry) {
		struct tm tm;
		memset(&tm, 0, sizeof(tm));
		const char *end = strptime(expiry, "%Y-%m-%dT%H:%M:%S", &tm);
		if (!end) {
			ogw_admin_reply_error(c->r, 400, "expiry",
					      "expiry: expected RFC 3339 time, e.g. 2026-11-22T12:00:00Z");
			return false;
		}
		snprintf(when, sizeof(when), "%s", expiry);
	} else {
		time_t t = time(NULL) + expires_in;
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	if (!available_evse(c, evse, &evse))
		return false;
	if (rid < 0)
		rid = (long)(ogw_tr_next_id(&c->s->env, "admin.reservation") & 0x7fffffff);
	c->action = "ReserveNow";
	c->payload = c->v16 ?
		json_pack("{s:i, s:s, s:s, s:i}", "connectorId", (int)evse, "expiryDate", when,
			  "idTag", tag, "reservationId", (int)rid) :
		json_pack("{s:i, s:s, s:o, s:i}", "id", (int)rid, "expiryDateTime", when,
			  "idToken", id_token(tag), "evseId", (int)evse);
	c->extra = json_pack("{s:i, s:i, s:s}", "reservationId", (int)rid, "evse", (int)evse,
			     "expiry", when);
	return true;
}

static bool build_cancel(struct cmd *c)
{
	char *end;
	long rid = strtol(c->r->args[1], &end, 10);
	if (*end || end == c->r->args[1] || rid < 0 || rid > 2147483647) {
		ogw_admin_reply_error(c->r, 400, "reservationId",
				      "reservationId: expected an integer in the path");
		return false;
	}
	c->action = "CancelReservation";
	c->payload = json_pack("{s:i}", "reservationId", (int)rid);
	return true;
}

static bool build_start(struct cmd *c)
{
	long evse = 0;
	const char *tag = NULL;
	if (!body_str(c, "idTag", id_tag_max(c), true, &tag) ||
	    !body_int(c, "evse", 1, OGW_STATE_MAX_EVSE, false, &evse))
		return false;
	if (c->v16) {
		c->action = "RemoteStartTransaction";
		c->payload = json_pack("{s:s}", "idTag", tag);
		if (evse)
			json_object_set_new(c->payload, "connectorId", json_integer(evse));
		return true;
	}
	long rsid = (long)(ogw_tr_next_id(&c->s->env, "admin.remote_start") & 0x7fffffff);
	c->action = "RequestStartTransaction";
	c->payload = json_pack("{s:o, s:i}", "idToken", id_token(tag), "remoteStartId", (int)rsid);
	if (evse)
		json_object_set_new(c->payload, "evseId", json_integer(evse));
	c->extra = json_pack("{s:i}", "remoteStartId", (int)rsid);
	return true;
}

/* The transaction to stop: "transactionId" in the body, else the one on
 * "evse", else the charger's only active one. */
static bool build_stop(struct cmd *c)
{
	const json_t *given = json_object_get(c->body, "transactionId");
	char tx[40] = "";
	long evse = 0;
	if (json_is_integer(given)) {
		snprintf(tx, sizeof(tx), "%lld", (long long)json_integer_value(given));
	} else if (json_is_string(given) && json_string_length(given) &&
		   json_string_length(given) < sizeof(tx)) {
		snprintf(tx, sizeof(tx), "%s", json_string_value(given));
	} else if (given) {
		ogw_admin_reply_error(c->r, 400, "transactionId",
				      "transactionId: expected a string or an integer");
		return false;
	} else {
		if (!body_int(c, "evse", 1, OGW_STATE_MAX_EVSE, false, &evse))
			return false;
		const struct ogw_charger_state *cs = ogw_state_of(c->s);
		int found = 0;
		for (int i = 0; i < cs->n_evse; i++)
			if (cs->evse[i].tx_id[0] && (!evse || cs->evse[i].id == evse)) {
				snprintf(tx, sizeof(tx), "%s", cs->evse[i].tx_id);
				found++;
			}
		if (found != 1) {
			ogw_admin_reply_error(c->r, found ? 400 : 409, "transactionId",
					      found ? "transactionId: %s has several transactions, "
						      "name one" :
						      "no active transaction on %s: name a "
						      "transactionId", c->s->id);
			return false;
		}
	}
	if (c->v16) {
		char *end;
		long long id = strtoll(tx, &end, 10);
		if (*end) {
			ogw_admin_reply_error(c->r, 400, "transactionId",
					      "transactionId: OCPP 1.6 needs an integer");
			return false;
		}
		c->action = "RemoteStopTransaction";
		c->payload = json_pack("{s:I}", "transactionId", (json_int_t)id);
	} else {
		c->action = "RequestStopTransaction";
		c->payload = json_pack("{s:s}", "transactionId", tx);
	}
	return true;
}

/* Reset types by version: 1.6 Soft/Hard, 2.x OnIdle/Immediate. */
static const struct {
	const char *name, *v16, *v2x;
} reset_types[] = {
	{ "Soft", "Soft", "OnIdle" },
	{ "OnIdle", "Soft", "OnIdle" },
	{ "Hard", "Hard", "Immediate" },
	{ "Immediate", "Hard", "Immediate" },
};

static bool build_reset(struct cmd *c)
{
	const char *type = "Soft";
	if (!body_str(c, "type", 16, false, &type))
		return false;
	for (size_t i = 0; i < sizeof(reset_types) / sizeof(reset_types[0]); i++)
		if (strcmp(reset_types[i].name, type) == 0) {
			c->action = "Reset";
			c->payload = json_pack("{s:s}", "type",
					       c->v16 ? reset_types[i].v16 : reset_types[i].v2x);
			return true;
		}
	ogw_admin_reply_error(c->r, 400, "type",
			      "type: expected Soft, Hard, OnIdle or Immediate");
	return false;
}

static bool build_unlock(struct cmd *c)
{
	long evse = 0, connector = 1;
	if (!body_int(c, "evse", 1, OGW_STATE_MAX_EVSE, true, &evse) ||
	    !body_int(c, "connector", 1, 16, false, &connector))
		return false;
	c->action = "UnlockConnector";
	c->payload = c->v16 ? json_pack("{s:i}", "connectorId", (int)evse) :
			      json_pack("{s:i, s:i}", "evseId", (int)evse, "connectorId",
					(int)connector);
	return true;
}

static bool build_availability(struct cmd *c)
{
	long evse = 0;
	const json_t *op = json_object_get(c->body, "operative");
	if (!json_is_boolean(op)) {
		ogw_admin_reply_error(c->r, 400, "operative", "operative: expected true or false");
		return false;
	}
	if (!body_int(c, "evse", 0, OGW_STATE_MAX_EVSE, false, &evse))
		return false;
	const char *status = json_is_true(op) ? "Operative" : "Inoperative";
	c->action = "ChangeAvailability";
	if (c->v16) {
		c->payload = json_pack("{s:i, s:s}", "connectorId", (int)evse, "type", status);
	} else {
		c->payload = json_pack("{s:s}", "operationalStatus", status);
		if (evse)
			json_object_set_new(c->payload, "evse", json_pack("{s:i}", "id", (int)evse));
	}
	return true;
}

static bool build_trigger(struct cmd *c)
{
	long evse = 0;
	const char *msg = NULL;
	if (!body_str(c, "message", 64, true, &msg) ||
	    !body_int(c, "evse", 1, OGW_STATE_MAX_EVSE, false, &evse))
		return false;
	c->action = "TriggerMessage";
	c->payload = json_pack("{s:s}", "requestedMessage", msg);
	if (evse && c->v16)
		json_object_set_new(c->payload, "connectorId", json_integer(evse));
	else if (evse)
		json_object_set_new(c->payload, "evse", json_pack("{s:i}", "id", (int)evse));
	return true;
}

/* Which body field an OCPP field came from, to name it in a 400. */
static const struct {
	const char *ocpp, *field;
} field_map[] = {
	{ "requestedMessage", "message" }, { "idTag", "idTag" }, { "idToken", "idTag" },
	{ "connectorId", "evse" }, { "evseId", "evse" }, { "evse", "evse" },
	{ "expiryDate", "expiry" }, { "transactionId", "transactionId" }, { "type", "type" },
};

static const char *body_field_of(const char *path)
{
	for (size_t i = 0; i < sizeof(field_map) / sizeof(field_map[0]); i++)
		if (strncmp(path, field_map[i].ocpp, strlen(field_map[i].ocpp)) == 0)
			return field_map[i].field;
	return "body";
}

struct cmd_call {
	struct ogw_admin_req *r;
	char charger[OGW_ID_MAX + 1];
	const char *action;
	json_t *extra;
};

/* The charger answered (@result), or did not (NULL: CALLERROR, timeout or
 * the charger went away). The HTTP client may be gone: then r->wsi is NULL
 * and ogw_admin_reply() only frees the request. */
static void cmd_done(struct ogw_tr_env *env, void *user, const json_t *result)
{
	struct cmd_call *cc = user;
	struct ogw_admin_req *r = cc->r;
	struct ogw_session *s = ogw_env_session(env);
	if (result) {
		json_t *out = json_pack("{s:s, s:s, s:O}", "charger", cc->charger, "action",
					cc->action, "response", result);
		if (out && cc->extra)
			json_object_update(out, cc->extra);
		ogw_admin_reply_json(r, 200, out);
	} else if (s->state != OGW_SESSION_ACTIVE || s->south.state != OGW_LEG_UP) {
		ogw_admin_reply_error(r, 503, NULL, "charger %s went away before answering %s",
				      cc->charger, cc->action);
	} else if (ogw_now_us() + 100000 >= r->deadline_us) {
		ogw_admin_reply_error(r, 504, NULL, "charger %s did not answer %s within %d ms",
				      cc->charger, cc->action, r->gw->conf.response_timeout_ms);
	} else {
		ogw_admin_reply_error(r, 502, NULL, "charger %s refused %s with a CALLERROR",
				      cc->charger, cc->action);
	}
	json_decref(cc->extra);
	free(cc);
}

static void run_command(struct ogw_admin_req *r, bool (*build)(struct cmd *c))
{
	struct ogw_session *s = charger_or_reply(r);
	if (!s)
		return;
	json_error_t jerr;
	json_t *body = r->body_len ? json_loadb(r->body, r->body_len, 0, &jerr) : json_object();
	if (!json_is_object(body)) {
		if (body)
			ogw_admin_reply_error(r, 400, "body", "body: expected a JSON object");
		else
			ogw_admin_reply_error(r, 400, "body", "body: invalid JSON at line %d: %s",
					      jerr.line, jerr.text);
		json_decref(body);
		return;
	}
	struct cmd c = { .r = r, .s = s, .body = body, .v16 = s->south.ver == OGW_OCPP16 };
	bool built = build(&c);
	json_decref(body);
	if (!built)
		goto fail;
	/* Checked here to name the field; ogw_tr_emit() checks it again. */
	const struct ogw_schema *sch = ogw_schema_get(r->gw->schemas[s->south.ver], c.action,
						      false);
	struct ogw_schema_fault fault;
	if (!c.payload || !sch || ogw_schema_validate(sch, c.payload, &fault) < 0) {
		ogw_admin_reply_error(r, 400, c.payload && sch ? body_field_of(fault.path) : "body",
				      "not a valid OCPP %s %s: %s", ogw_ocpp_name(s->south.ver),
				      c.action, c.payload && sch ? fault.desc : "out of memory");
		goto fail;
	}
	struct cmd_call *cc = calloc(1, sizeof(*cc));
	if (!cc) {
		ogw_admin_reply_error(r, 500, NULL, "out of memory");
		goto fail;
	}
	cc->r = r;
	snprintf(cc->charger, sizeof(cc->charger), "%s", s->id);
	cc->action = c.action;
	cc->extra = c.extra;
	r->waiting = true;
	r->deadline_us = ogw_now_us() + (uint64_t)r->gw->conf.response_timeout_ms * 1000;
	int rc = ogw_tr_emit(&s->env, OGW_TR_DOWN, c.action, c.payload, cmd_done, cc);
	if (rc < 0) {
		r->waiting = false;
		free(cc);
		ogw_admin_reply_error(r, rc == -ENOBUFS ? 503 : 500, NULL,
				      "cannot send %s to %s: %s", c.action, s->id, strerror(-rc));
		json_decref(c.extra);
	}
	return;
fail:
	json_decref(c.payload);
	json_decref(c.extra);
}

#define COMMAND(name, builder) \
	static void name(struct ogw_admin_req *r) { run_command(r, builder); }
COMMAND(post_reserve, build_reserve)
COMMAND(delete_reservation, build_cancel)
COMMAND(post_start, build_start)
COMMAND(post_stop, build_stop)
COMMAND(post_reset, build_reset)
COMMAND(post_unlock, build_unlock)
COMMAND(post_availability, build_availability)
COMMAND(post_trigger, build_trigger)

/* ---- routing --------------------------------------------------------------------- */

/* '*' in a pattern matches one path segment, kept in r->args. Only an
 * open route answers without credentials: the page, which holds no data
 * and asks for them itself (its login form). */
static const struct route {
	const char *method;
	const char *pattern;
	void (*handler)(struct ogw_admin_req *r);
	bool open;
} routes[] = {
	{ "GET", "/", get_page, true },
	{ "GET", "/metrics", get_metrics, false },
	{ "GET", "/api/site", get_site, false },
	{ "GET", "/api/events", get_events, false },
	{ "GET", "/api/history", get_history, false },
	{ "GET", "/api/sessions", get_sessions, false },
	{ "GET", "/api/site/limit", get_site_limit, false },
	{ "PUT", "/api/site/limit", put_site_limit, false },
	{ "DELETE", "/api/site/limit", delete_site_limit, false },
	{ "GET", "/api/firmware", get_firmware, false },
	{ "POST", "/api/firmware", post_firmware, false },
	{ "GET", "/api/firmware/files", get_firmware_files, false },
	{ "PUT", "/api/firmware/files/*", put_firmware_file, false },
	{ "DELETE", "/api/firmware/files/*", delete_firmware_file, false },
	{ "GET", "/api/chargers/*", get_charger, false }, /* first: takes "/api/chargers/" */
	{ "GET", "/api/chargers", get_chargers, false },
	{ "POST", "/api/chargers/*/reserve", post_reserve, false },
	{ "DELETE", "/api/chargers/*/reservations/*", delete_reservation, false },
	{ "POST", "/api/chargers/*/start", post_start, false },
	{ "POST", "/api/chargers/*/stop", post_stop, false },
	{ "POST", "/api/chargers/*/reset", post_reset, false },
	{ "POST", "/api/chargers/*/unlock", post_unlock, false },
	{ "POST", "/api/chargers/*/availability", post_availability, false },
	{ "POST", "/api/chargers/*/trigger", post_trigger, false },
};

static bool match(const char *pattern, const char *path, struct ogw_admin_req *r)
{
	int arg = 0;
	while (*pattern && *path) {
		if (*pattern == '*') {
			size_t n = strcspn(path, "/");
			if (!n || n >= sizeof(r->args[0]) || arg >= OGW_ADMIN_MAX_ARGS)
				return false;
			memcpy(r->args[arg], path, n);
			r->args[arg++][n] = '\0';
			path += n;
			pattern++;
			continue;
		}
		if (*pattern++ != *path++)
			return false;
	}
	/* A final '*' with nothing left is an empty segment: "/api/chargers/"
	 * (also what lws leaves of ".../%00") names a charger, not the list. */
	if (pattern[0] == '*' && !pattern[1] && !*path && arg < OGW_ADMIN_MAX_ARGS) {
		r->args[arg][0] = '\0';
		return true;
	}
	if (*path == '/' && path[1] == '\0')
		path++;
	return !*pattern && !*path;
}

/* Whether @r may be answered without credentials. */
static bool open_route(struct ogw_admin_req *r)
{
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (routes[i].open && !strcmp(routes[i].method, r->method) &&
		    match(routes[i].pattern, r->path, r))
			return true;
	return false;
}

void ogw_admin_route(struct ogw_admin_req *r)
{
	/* Before anything else: without credentials a request learns nothing,
	 * not even whether its path or charger id is valid. */
	if (r->denied && !open_route(r)) {
		ogw_admin_reply_error(r, 401, NULL, "authentication required");
		return;
	}
	/* A file name the route's '*' cannot hold (a '/', too long) is a bad
	 * name too, not an unknown path. */
	const char *why;
	if (!strncmp(r->path, FW_FILES, strlen(FW_FILES)) &&
	    (r->path[strlen(FW_FILES)] || strcmp(r->method, "GET")) &&
	    (why = ogw_fw_name_check(r->path + strlen(FW_FILES)))) {
		ogw_admin_reply_error(r, 400, "name", "name: %s", why);
		return;
	}
	bool path_known = false;
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (!match(routes[i].pattern, r->path, r))
			continue;
		path_known = true;
		/* Before the method: a bad id is a bad request whatever the
		 * method. The request parser (admin_http.c) already decoded the
		 * path and refused control characters and bytes that are not
		 * UTF-8; the identity rule is the charger door's. */
		const char *why = NULL;
		if (strncmp(routes[i].pattern, "/api/chargers/*", 15) == 0)
			why = ogw_identity_check(r->args[0], strlen(r->args[0]));
		if (why) {
			ogw_admin_reply_error(r, 400, NULL, "charger id: %s", why);
			return;
		}
		if (strcmp(routes[i].method, r->method) == 0) {
			routes[i].handler(r);
			return;
		}
	}
	if (path_known)
		ogw_admin_reply_error(r, 405, NULL, "%s is not allowed on %s", r->method, r->path);
	else
		ogw_admin_reply_error(r, 404, NULL, "no such endpoint: %s", r->path);
}
