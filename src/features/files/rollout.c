/* SPDX-License-Identifier: MIT */
/*
 * A firmware rollout the operator starts from the admin API (POST
 * /api/firmware): one URL, a list of chargers, updated in waves of N. Each
 * charger gets UpdateFirmware in its own version from the gateway itself,
 * with a location on the gateway's file server (the URL downloaded once,
 * files.c); the next wave starts when every charger of the last one has
 * reported Installed or failed, and the rollout stops when more than
 * max_failures chargers failed. It needs no CSMS. The stage only observes
 * the chargers' FirmwareStatusNotifications; the state is in memory, one
 * rollout at a time (the last one is kept for GET /api/firmware).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocppgw/log.h"
#include "ocppgw/loop.h"
#include "ocppgw/util.h"
#include "features/files/fetch.h"
#include "features/files/files.h"
#include "features/files/internal.h"

#define ROLLOUT_MAX_CHARGERS 10000

enum ch_state { CH_PENDING, CH_SENT, CH_INSTALLED, CH_FAILED };
static const char *const ch_names[] = {
	[CH_PENDING] = "pending", [CH_SENT] = "sent", [CH_INSTALLED] = "installed",
	[CH_FAILED] = "failed",
};

enum ro_state { RO_RUNNING, RO_DONE, RO_STOPPED };
static const char *const ro_names[] = {
	[RO_RUNNING] = "running", [RO_DONE] = "done", [RO_STOPPED] = "stopped",
};

struct ro_charger {
	char id[OGW_ID_MAX + 1];
	enum ch_state state;
	char detail[64];            /* the last status the charger reported, or why it failed */
	int wave;
};

struct rollout {
	unsigned int gen;           /* tells answers of an earlier rollout apart */
	struct ogw_gateway *gw;
	char *url;
	int wave_size, max_failures;
	int timeout_s;              /* a wave's chargers have this long to report Installed */
	uv_timer_t timer;
	enum ro_state state;
	int wave, failures;
	size_t n, next;
	struct ro_charger *ch;
};


/* An UpdateFirmware's answer, for the rollout it belongs to. */
struct ro_call {
	struct ogw_gateway *gw;
	unsigned int gen;
	size_t i;
};

static void ro_closed(uv_handle_t *h)
{
	struct rollout *r = h->data;
	free(r->url);
	free(r->ch);
	free(r);
}

static void ro_free(struct rollout *r)
{
	if (!r)
		return;
	uv_timer_stop(&r->timer);
	uv_close((uv_handle_t *)&r->timer, ro_closed);
}

static void ro_set_state(struct rollout *r, enum ro_state st)
{
	ogw_info(NULL, "firmware rollout %u: %s -> %s (wave %d, %d failed)", r->gen,
		 ro_names[r->state], ro_names[st], r->wave, r->failures);
	r->state = st;
}

static void ch_set(struct rollout *r, struct ro_charger *c, enum ch_state st, const char *detail)
{
	struct ogw_log_ctx lc = { .charger = c->id, .leg = "south", .action = "UpdateFirmware" };
	ogw_info(&lc, "firmware rollout %u: %s -> %s%s%s", r->gen, ch_names[c->state],
		 ch_names[st], detail ? ": " : "", detail ? detail : "");
	c->state = st;
	snprintf(c->detail, sizeof(c->detail), "%s", detail ? detail : "");
	if (st == CH_FAILED)
		r->failures++;
}

static void next_wave(struct ogw_gateway *gw, struct rollout *r);

/* Whether the wave has settled; then the next one, or the end. */
static void wave_check(struct ogw_gateway *gw, struct rollout *r)
{
	if (r->state != RO_RUNNING)
		return;
	for (size_t i = 0; i < r->next; i++)
		if (r->ch[i].state == CH_SENT)
			return;
	uv_timer_stop(&r->timer);
	next_wave(gw, r);
}

static void answered(struct ogw_tr_env *env, void *user, const json_t *result)
{
	struct ro_call *rc = user;
	struct ogw_files *fs = rc->gw->files;   /* NULL once the gateway stops */
	struct rollout *r = fs ? fs->rollout : NULL;
	(void)env;

	if (r && r->gen == rc->gen && r->ch[rc->i].state == CH_SENT) {
		const char *status = json_string_value(json_object_get(result, "status"));
		/* 1.6 UpdateFirmware.conf is empty; 2.x says Accepted or not. */
		if (!result)
			ch_set(r, &r->ch[rc->i], CH_FAILED, "no answer to UpdateFirmware");
		else if (status && strcmp(status, "Accepted") && strcmp(status, "AcceptedCanceled"))
			ch_set(r, &r->ch[rc->i], CH_FAILED, status);
		wave_check(rc->gw, r);
	}
	free(rc);
}

/* UpdateFirmware for charger @i, in its version; false when it cannot go. */
static bool send_one(struct ogw_gateway *gw, struct rollout *r, size_t i)
{
	struct ro_charger *c = &r->ch[i];
	struct ogw_session *s = ogw_session_find(gw, c->id);
	char now[32];
	json_t *p, *holder;

	if (!s || s->south.state != OGW_LEG_UP) {
		ch_set(r, c, CH_FAILED, "not connected");
		return false;
	}
	ogw_time_rfc3339(now);
	bool v16 = s->south.ver == OGW_OCPP16;
	if (v16)
		p = json_pack("{s:s, s:s}", "location", r->url, "retrieveDate", now);
	else
		p = json_pack("{s:I, s:{s:s, s:s}}", "requestId", (json_int_t)(r->gen * 100000 + i),
			      "firmware", "location", r->url, "retrieveDateTime", now);
	holder = v16 ? p : json_object_get(p, "firmware");
	char *loc = p ? ogw_files_offer(gw->files, c->id, r->url, p, holder, NULL) : NULL;
	struct ro_call *rc = calloc(1, sizeof(*rc));
	if (!loc || !rc) {
		json_decref(p);
		free(loc);
		free(rc);
		ch_set(r, c, CH_FAILED, "out of memory");
		return false;
	}
	json_object_set_new(holder, "location", json_string(loc));
	free(loc);
	*rc = (struct ro_call){ .gw = gw, .gen = r->gen, .i = i };
	c->wave = r->wave;
	ch_set(r, c, CH_SENT, NULL);
	int rcode = ogw_tr_emit(&s->env, OGW_TR_DOWN, "UpdateFirmware", p, answered, rc);
	if (rcode < 0) {
		free(rc);
		ch_set(r, c, CH_FAILED, strerror(-rcode));
		return false;
	}
	return true;
}

/* The wave's time is up: who has not reported Installed failed. */
static void wave_late(uv_timer_t *t)
{
	struct rollout *r = t->data;
	char why[64];

	snprintf(why, sizeof(why), "no Installed within %d s", r->timeout_s);
	for (size_t i = 0; i < r->next; i++)
		if (r->ch[i].state == CH_SENT)
			ch_set(r, &r->ch[i], CH_FAILED, why);
	wave_check(r->gw, r);
}

static void next_wave(struct ogw_gateway *gw, struct rollout *r)
{
	/* A charger that cannot be sent to fails at once: the wave is filled
	 * from the next ones, unless that is one failure too many. */
	while (r->state == RO_RUNNING) {
		if (r->failures > r->max_failures) {
			ro_set_state(r, RO_STOPPED);
			return;
		}
		if (r->next == r->n) {
			ro_set_state(r, RO_DONE);
			return;
		}
		r->wave++;
		int sent = 0;
		for (int k = 0; k < r->wave_size && r->next < r->n; k++)
			sent += send_one(gw, r, r->next++);
		if (sent) {
			uv_timer_start(&r->timer, wave_late, (uint64_t)r->timeout_s * 1000, 0);
			return;
		}
	}
}

static bool is_failure(const char *status)
{
	static const char *const failed[] = {
		"DownloadFailed", "InstallationFailed", "InstallVerificationFailed",
		"InvalidSignature", "InstallRebootingFailed",
	};
	for (size_t i = 0; i < sizeof(failed) / sizeof(failed[0]); i++)
		if (!strcmp(status, failed[i]))
			return true;
	return false;
}

static void rollout_observe(struct ogw_session *s, enum ogw_obs what, const char *action,
			    const json_t *payload)
{
	struct ogw_files *fs = s->gw->files;
	struct rollout *r = fs ? fs->rollout : NULL;
	const char *status = json_string_value(json_object_get(payload, "status"));

	if (!r || r->state != RO_RUNNING || what != OGW_OBS_UP_CALL || !status ||
	    (strcmp(action, "FirmwareStatusNotification") &&
	     strcmp(action, "SignedFirmwareStatusNotification")))
		return;
	for (size_t i = 0; i < r->next; i++) {
		struct ro_charger *c = &r->ch[i];
		if (c->state != CH_SENT || strcmp(c->id, s->id))
			continue;
		if (!strcmp(status, "Installed"))
			ch_set(r, c, CH_INSTALLED, status);
		else if (is_failure(status))
			ch_set(r, c, CH_FAILED, status);
		else
			snprintf(c->detail, sizeof(c->detail), "%s", status);
		wave_check(s->gw, r);
		return;
	}
}

const struct ogw_stage ogw_rollout_stage = {
	.name = "rollout",
	.observe = rollout_observe,
};

static int int_field(const json_t *body, const char *key, int dflt, int min, int max, int *ret)
{
	const json_t *v = json_object_get(body, key);
	if (!v) {
		*ret = dflt;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return -EINVAL;
	*ret = (int)json_integer_value(v);
	return 0;
}

int ogw_rollout_start(struct ogw_gateway *gw, const json_t *body, const char **ret_field,
		      char *err, size_t errlen)
{
	const char *url = json_string_value(json_object_get(body, "location"));
	const json_t *list = json_object_get(body, "chargers"), *v;
	struct ogw_files *fs = gw->files;
	struct rollout *r, *cur = fs ? fs->rollout : NULL;
	size_t i;

	if (!fs) {
		*ret_field = NULL;
		snprintf(err, errlen, "the file server is off: set files.listen");
		return -ENOTSUP;
	}
	if (cur && cur->state == RO_RUNNING) {
		*ret_field = NULL;
		snprintf(err, errlen, "rollout %u is still running", cur->gen);
		return -EBUSY;
	}
	*ret_field = "location";
	if (!url || !ogw_fetch_scheme_ok(url)) {
		snprintf(err, errlen, "location: expected an http, https, ftp or ftps URL");
		return -EINVAL;
	}
	*ret_field = "chargers";
	if (!json_is_array(list) || !json_array_size(list) ||
	    json_array_size(list) > ROLLOUT_MAX_CHARGERS) {
		snprintf(err, errlen, "chargers: expected a list of 1 to %d charger ids",
			 ROLLOUT_MAX_CHARGERS);
		return -EINVAL;
	}
	json_array_foreach(list, i, v) {
		if (!json_is_string(v) || !json_string_length(v) ||
		    json_string_length(v) > OGW_ID_MAX) {
			snprintf(err, errlen, "chargers[%zu]: expected a charger id", i);
			return -EINVAL;
		}
	}
	int wave_size, max_failures;
	*ret_field = "wave_size";
	if (int_field(body, "wave_size", 1, 1, ROLLOUT_MAX_CHARGERS, &wave_size) < 0) {
		snprintf(err, errlen, "wave_size: expected a whole number from 1 to %d",
			 ROLLOUT_MAX_CHARGERS);
		return -EINVAL;
	}
	*ret_field = "max_failures";
	if (int_field(body, "max_failures", 0, 0, ROLLOUT_MAX_CHARGERS, &max_failures) < 0) {
		snprintf(err, errlen, "max_failures: expected a whole number from 0 to %d",
			 ROLLOUT_MAX_CHARGERS);
		return -EINVAL;
	}
	int timeout_s;
	*ret_field = "charger_timeout";
	if (int_field(body, "charger_timeout", 3600, 1, 7 * 86400, &timeout_s) < 0) {
		snprintf(err, errlen, "charger_timeout: expected whole seconds from 1 to %d",
			 7 * 86400);
		return -EINVAL;
	}
	*ret_field = NULL;
	r = calloc(1, sizeof(*r));
	if (!r || !(r->url = strdup(url)) || !(r->ch = calloc(json_array_size(list), sizeof(*r->ch)))) {
		if (r)
			free(r->url);
		free(r);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	r->gw = gw;
	r->timeout_s = timeout_s;
	uv_timer_init(ogw_loop_uv(), &r->timer);
	r->timer.data = r;
	json_array_foreach(list, i, v)
		snprintf(r->ch[i].id, sizeof(r->ch[i].id), "%s", json_string_value(v));
	r->n = json_array_size(list);
	r->wave_size = wave_size;
	r->max_failures = max_failures;
	r->gen = ++fs->rollouts;
	ro_free(cur);
	fs->rollout = r;
	ogw_info(NULL, "firmware rollout %u: %s to %zu charger(s), waves of %d, stop above %d "
		 "failure(s)", r->gen, url, r->n, wave_size, max_failures);
	next_wave(gw, r);
	return 0;
}

json_t *ogw_rollout_json(struct ogw_gateway *gw)
{
	struct rollout *r = gw->files ? gw->files->rollout : NULL;

	if (!r)
		return json_pack("{s:s}", "state", "none");
	json_t *list = json_array();
	for (size_t i = 0; i < r->n; i++)
		json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:i}", "id", r->ch[i].id,
						      "state", ch_names[r->ch[i].state], "detail",
						      r->ch[i].detail, "wave", r->ch[i].wave));
	return json_pack("{s:i, s:s, s:s, s:i, s:i, s:i, s:i, s:i, s:o}", "id", r->gen, "state",
			 ro_names[r->state], "location", r->url, "wave_size", r->wave_size,
			 "max_failures", r->max_failures, "charger_timeout", r->timeout_s, "wave",
			 r->wave, "failures", r->failures, "chargers", list);
}

void ogw_rollout_stop(struct ogw_gateway *gw)
{
	if (gw->files) {
		ro_free(gw->files->rollout);
		gw->files->rollout = NULL;
	}
}
