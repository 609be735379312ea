/* SPDX-License-Identifier: MIT */
/*
 * Counters for GET /metrics and the site figures both the metrics and the
 * admin API show. Counters live in one open-addressing table keyed by
 * (family, leg, direction, type, name); the gauges are computed from the
 * sessions, their state trackers and the store when rendered. Nothing here
 * writes to a socket: admin.c serves the text.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ocppgw/util.h"
#include "features/balance/balance.h"
#include "features/metrics/metrics.h"
#include "features/state/state.h"
#include "session/session.h"

/* Upper bounds of the latency buckets, seconds; the last is +Inf. */
static const double bucket_le[OGW_MET_BUCKETS - 1] = {
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
};
static const char *const leg_label[] = { "south", "north" };
static const char *const dir_label[] = { "in", "out" };
static const char *const leg_state_label[] = { "down", "connecting", "up", "closing" };

static const char *type_label(unsigned int type)
{
	static const char *const names[] = {
		[OGW_MSG_CALL] = "CALL", [OGW_MSG_CALLRESULT] = "CALLRESULT",
		[OGW_MSG_CALLERROR] = "CALLERROR", [OGW_MSG_CALLRESULTERROR] = "CALLRESULTERROR",
		[OGW_MSG_SEND] = "SEND",
	};
	return type < sizeof(names) / sizeof(names[0]) && names[type] ? names[type] : "unknown";
}

static struct ogw_met_counter *slot(struct ogw_metrics *m, int family, int leg, int dir,
				    int type, const char *name)
{
	if (!m->slots) {
		m->slots = calloc(OGW_MET_SLOTS, sizeof(*m->slots));
		if (!m->slots)
			return NULL;
	}
	/* the name as the slot keeps it: cut to 47 bytes (no snprintf: this
	 * runs for every frame) */
	char key[48];
	size_t n = name ? strnlen(name, sizeof(key) - 1) : 0;
	memcpy(key, name ? name : "", n);
	key[n] = '\0';
	uint32_t h = 2166136261u ^ (uint32_t)(family << 24 | leg << 16 | dir << 8 | type);
	for (const char *p = key; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	for (unsigned int i = 0; i < OGW_MET_SLOTS; i++) {
		struct ogw_met_counter *c = &m->slots[(h + i) & (OGW_MET_SLOTS - 1)];
		if (!c->used) {
			*c = (struct ogw_met_counter){ .used = 1, .family = (uint8_t)family,
						       .leg = (uint8_t)leg, .dir = (uint8_t)dir,
						       .type = (uint8_t)type };
			memcpy(c->name, key, sizeof(key));
			return c;
		}
		if (c->family == family && c->leg == leg && c->dir == dir && c->type == type &&
		    strcmp(c->name, key) == 0)
			return c;
	}
	m->dropped++;
	return NULL;
}

static void count(struct ogw_metrics *m, int family, int leg, int dir, int type,
		  const char *name)
{
	struct ogw_met_counter *c = slot(m, family, leg, dir, type, name);
	if (c)
		c->n++;
}

static void count_latency(struct ogw_metrics *m, int leg, uint64_t sent_us)
{
	uint64_t now = ogw_now_us();
	if (!sent_us || now < sent_us || leg < 0 || leg > 1)
		return;
	double s = (double)(now - sent_us) / 1e6;
	struct ogw_met_histogram *h = &m->latency[leg];
	unsigned int b = 0;
	while (b < OGW_MET_BUCKETS - 1 && s > bucket_le[b])
		b++;
	h->bucket[b]++;
	h->count++;
	h->sum_s += s;
}

/* The stage: every frame the session reports on any leg. An action is a
 * label only when the schemas know it; a peer's CALLERROR code only when
 * OCPP defines it. */
static void metrics_on_frame(struct ogw_leg *l, const struct ogw_frame_event *ev)
{
	struct ogw_metrics *m = l->s->gw->metrics;
	int leg = (int)l->kind;
	enum ogw_err e;

	if (!m)
		return;
	switch (ev->kind) {
	case OGW_FRAME_SEEN:
		count(m, OGW_MET_FRAMES, leg, ev->dir, (int)ev->type,
		      ev->action && *ev->action ? ev->action : "unknown");
		if (ev->err_code)
			count(m, OGW_MET_CALLERRORS, leg, ev->dir, 0,
			      ogw_err_parse(ev->err_code, &e) == 0 ? ev->err_code : "other");
		break;
	case OGW_FRAME_INVALID:
		count(m, OGW_MET_INVALID, leg, ev->dir, 0, NULL);
		break;
	case OGW_FRAME_ANSWERED:
		count_latency(m, leg, ev->sent_us);
		break;
	}
}

/* The entry for secondary @name in @t (@n used of OGW_MET_SECONDARIES), made
 * at its first use; NULL when the table is full or out of memory. */
static struct ogw_met_secondary *secondary_slot(struct ogw_met_secondary **t, unsigned int *n,
						const char *name)
{
	if (!*t && !(*t = calloc(OGW_MET_SECONDARIES, sizeof(**t))))
		return NULL;
	for (unsigned int i = 0; i < *n; i++)
		if (!strcmp((*t)[i].name, name))
			return &(*t)[i];
	if (*n == OGW_MET_SECONDARIES)
		return NULL;
	struct ogw_met_secondary *e = &(*t)[(*n)++];
	snprintf(e->name, sizeof(e->name), "%s", name);
	return e;
}

static void secondary_add(struct ogw_met_secondary *e, const struct ogw_secondary *sec)
{
	e->answered += sec->answered;
	e->errors += sec->errors;
	e->unanswered += sec->unanswered;
	e->queued += sec->queued;
}

static const char *secondary_label(const struct ogw_secondary *sec)
{
	return sec->leg_name + strlen("north.");
}

/* A session ends: its secondaries' counts join the sums of the ended
 * ones, so the counters never go down. */
static void metrics_session_free(struct ogw_session *s)
{
	struct ogw_metrics *m = s->gw->metrics;
	for (unsigned int k = 1; m && k < s->n_north; k++) {
		const struct ogw_secondary *sec = ogw_leg_secondary(&s->north[k].leg);
		struct ogw_met_secondary *e =
			secondary_slot(&m->secondaries, &m->n_secondaries, secondary_label(sec));
		if (e)
			secondary_add(e, sec);
		else
			m->dropped++;
	}
}

const struct ogw_stage ogw_metrics_stage = {
	.name = "metrics",
	.on_frame = metrics_on_frame,
	.on_session_free = metrics_session_free,
};

int ogw_metrics_init(struct ogw_gateway *gw)
{
	gw->metrics = calloc(1, sizeof(*gw->metrics));
	return gw->metrics ? 0 : -ENOMEM;
}

void ogw_metrics_free(struct ogw_gateway *gw)
{
	if (!gw->metrics)
		return;
	free(gw->metrics->secondaries);
	free(gw->metrics->slots);
	free(gw->metrics);
	gw->metrics = NULL;
}

/* ---- site figures --------------------------------------------------------- */

static void add_charger(const struct ogw_session *s, struct ogw_site_figures *f)
{
	if (s->state != OGW_SESSION_ACTIVE || s->own)  /* the gateway's own is no charger */
		return;
	/* by grid phase: the charger's L1..L3 through its rotation */
	const int *grid = ogw_balance_rotation(s->gw, s->id);
	f->chargers[s->south.ver]++;
	f->north[s->north[0].leg.state]++; /* the primary CSMS's leg */
	for (int i = 0; i < ogw_state_of(s)->n_evse; i++) {
		const struct ogw_evse_state *e = &ogw_state_of(s)->evse[i];
		int phases = e->phases_used > 0 ? e->phases_used : 3;
		for (int p = 0; p < 3; p++) {
			if (e->current_a[p] > 0)
				f->measured_a[grid[p]] += e->current_a[p];
			if (e->gw_limit_a >= 0 && p < phases)
				f->allocated_a[grid[p]] += e->gw_limit_a;
		}
	}
}

void ogw_site_figures(struct ogw_gateway *gw, struct ogw_site_figures *ret)
{
	memset(ret, 0, sizeof(*ret));
	for (size_t i = 0; i < gw->table_size; i++)
		for (const struct ogw_session *s = gw->table[i]; s; s = s->hnext)
			add_charger(s, ret);
	int64_t oldest_ms = 0;
	ret->queued = ogw_store_queue_count(gw->store, NULL, &oldest_ms);
	if (ret->queued > 0 && oldest_ms > 0) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		int64_t now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
		ret->oldest_age_s = now_ms > oldest_ms ? (double)(now_ms - oldest_ms) / 1000 : 0;
	}
	ret->dead = ogw_store_dead_count(gw->store, NULL);
	ret->balancing = ogw_balance_limit_now(gw, ret->site_limit_a, &ret->dynamic_limit);
	ret->meter_state = ogw_balance_meter_state(gw, ret->meter_load_a);
}

/* ---- exposition --------------------------------------------------------------- */

/* A label value: backslash, double quote and newline escaped. */
static void put_label(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', f);
		if (*v == '\n') {
			fputs("\\n", f);
			continue;
		}
		fputc(*v, f);
	}
}

static void family_head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void render_counters(FILE *f, const struct ogw_metrics *m, int family)
{
	for (unsigned int i = 0; m->slots && i < OGW_MET_SLOTS; i++) {
		const struct ogw_met_counter *c = &m->slots[i];
		if (!c->used || c->family != family)
			continue;
		switch (family) {
		case OGW_MET_FRAMES:
			fprintf(f, "ocppgw_frames_total{leg=\"%s\",direction=\"%s\",type=\"%s\","
				"action=\"", leg_label[c->leg], dir_label[c->dir],
				type_label(c->type));
			break;
		case OGW_MET_CALLERRORS:
			fprintf(f, "ocppgw_callerrors_total{leg=\"%s\",direction=\"%s\",code=\"",
				leg_label[c->leg], dir_label[c->dir]);
			break;
		default:
			fprintf(f, "ocppgw_validation_failures_total{leg=\"%s\",direction=\"%s\"} "
				"%llu\n", leg_label[c->leg], dir_label[c->dir],
				(unsigned long long)c->n);
			continue;
		}
		put_label(f, c->name);
		fprintf(f, "\"} %llu\n", (unsigned long long)c->n);
	}
}

static void render_latency(FILE *f, const struct ogw_metrics *m)
{
	family_head(f, "ocppgw_call_latency_seconds", "histogram",
		    "Time from a CALL sent on a leg to its answer.");
	for (int leg = 0; leg < 2; leg++) {
		const struct ogw_met_histogram *h = &m->latency[leg];
		uint64_t cum = 0;
		for (int b = 0; b < OGW_MET_BUCKETS; b++) {
			cum += h->bucket[b];
			if (b < OGW_MET_BUCKETS - 1)
				fprintf(f, "ocppgw_call_latency_seconds_bucket{leg=\"%s\",le=\"%g\"} "
					"%llu\n", leg_label[leg], bucket_le[b],
					(unsigned long long)cum);
			else
				fprintf(f, "ocppgw_call_latency_seconds_bucket{leg=\"%s\",le=\"+Inf\"} "
					"%llu\n", leg_label[leg], (unsigned long long)cum);
		}
		fprintf(f, "ocppgw_call_latency_seconds_sum{leg=\"%s\"} %.6f\n", leg_label[leg],
			h->sum_s);
		fprintf(f, "ocppgw_call_latency_seconds_count{leg=\"%s\"} %llu\n", leg_label[leg],
			(unsigned long long)h->count);
	}
}

static void render_phases(FILE *f, const char *name, const char *help, const double a[3])
{
	family_head(f, name, "gauge", help);
	for (int p = 0; p < 3; p++)
		fprintf(f, "%s{phase=\"L%d\"} %.3f\n", name, p + 1, a[p]);
}

/* What the render of the secondaries gathers: per name, the counters
 * (ended sessions plus live ones), legs by state and the queue's depth. */
struct secondary_view {
	struct ogw_met_secondary *t;
	unsigned int n;
	unsigned int legs[OGW_MET_SECONDARIES][4];
	int64_t depth[OGW_MET_SECONDARIES];
	double oldest_s[OGW_MET_SECONDARIES];
	int64_t now_ms;
};

static void secondary_depth(void *ctx, const char *csms, int64_t n, int64_t oldest_ms)
{
	struct secondary_view *v = ctx;
	struct ogw_met_secondary *e = secondary_slot(&v->t, &v->n, csms);
	if (!e)
		return;
	size_t i = (size_t)(e - v->t);
	v->depth[i] = n;
	v->oldest_s[i] = v->now_ms > oldest_ms ? (double)(v->now_ms - oldest_ms) / 1000 : 0;
}

static void render_secondaries(FILE *f, struct ogw_gateway *gw)
{
	struct ogw_metrics *m = gw->metrics;
	struct secondary_view *v = calloc(1, sizeof(*v));
	if (!v)
		return;
	if (m->n_secondaries && (v->t = calloc(OGW_MET_SECONDARIES, sizeof(*v->t))))
		memcpy(v->t, m->secondaries, m->n_secondaries * sizeof(*v->t));
	v->n = v->t ? m->n_secondaries : 0;
	for (size_t i = 0; i < gw->table_size; i++)
		for (const struct ogw_session *s = gw->table[i]; s; s = s->hnext)
			for (unsigned int k = 1; k < s->n_north; k++) {
				const struct ogw_leg *l = &s->north[k].leg;
				const struct ogw_secondary *sec = ogw_leg_secondary(l);
				struct ogw_met_secondary *e =
					secondary_slot(&v->t, &v->n, secondary_label(sec));
				if (!e)
					continue;
				secondary_add(e, sec);
				v->legs[e - v->t][l->state & 3]++;
			}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	v->now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	ogw_store_csms_queue_depths(gw->store, secondary_depth, v);

	family_head(f, "ocppgw_secondary_calls_total", "counter",
		    "The charger's CALLs to each secondary CSMS by what became of them: "
		    "answered, errors (CALLERROR or invalid), unanswered (down, timed out, "
		    "not delivered), queued (put in its queue).");
	static const char *const result[] = { "answered", "errors", "unanswered", "queued" };
	for (unsigned int i = 0; i < v->n; i++) {
		const uint64_t n[] = { v->t[i].answered, v->t[i].errors, v->t[i].unanswered,
				       v->t[i].queued };
		for (int r = 0; r < 4; r++) {
			fputs("ocppgw_secondary_calls_total{csms=\"", f);
			put_label(f, v->t[i].name);
			fprintf(f, "\",result=\"%s\"} %llu\n", result[r], (unsigned long long)n[r]);
		}
	}
	family_head(f, "ocppgw_secondary_legs", "gauge",
		    "Secondary CSMS legs (one per connected charger shown to it) by state.");
	for (unsigned int i = 0; i < v->n; i++)
		for (int st = 0; st < 4; st++) {
			fputs("ocppgw_secondary_legs{csms=\"", f);
			put_label(f, v->t[i].name);
			fprintf(f, "\",state=\"%s\"} %u\n", leg_state_label[st], v->legs[i][st]);
		}
	family_head(f, "ocppgw_secondary_queue_depth", "gauge",
		    "Messages waiting in each secondary CSMS's queue, over every charger.");
	for (unsigned int i = 0; i < v->n; i++) {
		fputs("ocppgw_secondary_queue_depth{csms=\"", f);
		put_label(f, v->t[i].name);
		fprintf(f, "\"} %lld\n", (long long)v->depth[i]);
	}
	family_head(f, "ocppgw_secondary_queue_oldest_age_seconds", "gauge",
		    "Age of the oldest message in each secondary CSMS's queue, 0 when empty.");
	for (unsigned int i = 0; i < v->n; i++) {
		fputs("ocppgw_secondary_queue_oldest_age_seconds{csms=\"", f);
		put_label(f, v->t[i].name);
		fprintf(f, "\"} %.3f\n", v->oldest_s[i]);
	}
	free(v->t);
	free(v);
}

char *ogw_metrics_render(struct ogw_gateway *gw, size_t *ret_len)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	struct ogw_site_figures sf;
	ogw_site_figures(gw, &sf);

	family_head(f, "ocppgw_chargers_connected", "gauge",
		    "Chargers connected, by the OCPP version they speak.");
	for (int v = 0; v < OGW_OCPP_COUNT; v++)
		fprintf(f, "ocppgw_chargers_connected{ocpp=\"%s\"} %u\n",
			ogw_ocpp_name((enum ogw_ocpp)v), sf.chargers[v]);
	family_head(f, "ocppgw_uplink_legs", "gauge",
		    "North legs (one per connected charger) by state.");
	for (int st = 0; st < 4; st++)
		fprintf(f, "ocppgw_uplink_legs{state=\"%s\"} %u\n", leg_state_label[st],
			sf.north[st]);
	family_head(f, "ocppgw_uplink_up", "gauge",
		    "1 when every connected charger's north leg is up.");
	fprintf(f, "ocppgw_uplink_up %d\n", sf.north[OGW_LEG_UP] ==
		sf.chargers[0] + sf.chargers[1] + sf.chargers[2]);

	family_head(f, "ocppgw_frames_total", "counter", "OCPP-J frames by leg, direction, "
		    "message type and action.");
	render_counters(f, gw->metrics, OGW_MET_FRAMES);
	family_head(f, "ocppgw_callerrors_total", "counter",
		    "CALLERROR frames by leg, direction and error code.");
	render_counters(f, gw->metrics, OGW_MET_CALLERRORS);
	family_head(f, "ocppgw_validation_failures_total", "counter",
		    "Payloads that failed schema validation, by leg and direction.");
	render_counters(f, gw->metrics, OGW_MET_INVALID);
	family_head(f, "ocppgw_metrics_dropped_total", "counter",
		    "Counter increments lost because the label table was full.");
	fprintf(f, "ocppgw_metrics_dropped_total %llu\n", (unsigned long long)gw->metrics->dropped);
	render_latency(f, gw->metrics);
	render_secondaries(f, gw);

	family_head(f, "ocppgw_queue_depth", "gauge",
		    "Messages in the store's outbound queue.");
	fprintf(f, "ocppgw_queue_depth %lld\n", (long long)(sf.queued > 0 ? sf.queued : 0));
	family_head(f, "ocppgw_queue_oldest_age_seconds", "gauge",
		    "Age of the oldest queued message, 0 when the queue is empty.");
	fprintf(f, "ocppgw_queue_oldest_age_seconds %.3f\n", sf.oldest_age_s);
	family_head(f, "ocppgw_dead_letters", "gauge",
		    "Messages the CSMS refused for good.");
	fprintf(f, "ocppgw_dead_letters %lld\n", (long long)(sf.dead > 0 ? sf.dead : 0));
	render_phases(f, "ocppgw_measured_current_amperes",
		      "Current.Import summed over every EVSE, per grid phase.", sf.measured_a);
	render_phases(f, "ocppgw_allocated_current_amperes",
		      "The gateway's current limits summed over every EVSE, per grid phase.",
		      sf.allocated_a);
	family_head(f, "ocppgw_balancing_enabled", "gauge", "1 while load balancing is on.");
	fprintf(f, "ocppgw_balancing_enabled %d\n", sf.balancing);
	family_head(f, "ocppgw_site_limit_amperes", "gauge",
		    "The site limit in force per grid phase (configured, dynamic or the grid meter's, the lowest); "
		    "only while balancing is on.");
	for (int p = 0; sf.balancing && p < 3; p++)
		if (sf.site_limit_a[p] >= 0)
			fprintf(f, "ocppgw_site_limit_amperes{phase=\"L%d\"} %.3f\n", p + 1,
				sf.site_limit_a[p]);
	family_head(f, "ocppgw_site_dynamic_limit_active", "gauge",
		    "1 while a dynamic site limit (API or MQTT) is set.");
	fprintf(f, "ocppgw_site_dynamic_limit_active %d\n", sf.balancing && sf.dynamic_limit);
	if (sf.balancing && sf.meter_state >= 0) {
		family_head(f, "ocppgw_grid_meter_failsafe", "gauge",
			    "1 while the grid meter is silent and its fail-safe site limit "
			    "applies; only with a meter configured.");
		fprintf(f, "ocppgw_grid_meter_failsafe %d\n", sf.meter_state);
		render_phases(f, "ocppgw_grid_meter_load_amperes",
			      "The building's load (the grid meter less the chargers), filtered, "
			      "per grid phase.", sf.meter_load_a);
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	*ret_len = len;
	return buf;
}
