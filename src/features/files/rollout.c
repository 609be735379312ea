/* SPDX-License-Identifier: MIT */
/*
 * A firmware rollout the operator starts from the admin API (POST
 * /api/firmware): one URL or one file uploaded to the gateway (fwstore.c),
 * a list of chargers, updated in waves of N. Each charger gets
 * UpdateFirmware in its own version from the gateway itself, with a
 * location on the gateway's file server (the URL downloaded once, files.c;
 * the file served as it is); the next wave starts when every charger of
 * the last one has reported Installed or failed, and the rollout stops when more than
 * max_failures chargers failed. It needs no CSMS. The stage only observes
 * the chargers' FirmwareStatusNotifications. One rollout at a time (the
 * last one is kept for GET /api/firmware), kept in the store at every
 * change: after a restart a running one goes on where it was, the
 * chargers of its wave in progress sent UpdateFirmware again once they are
 * back (the file server's locations of the last run are gone with it).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocppgw/log.h"
#include "ocppgw/loop.h"
#include "ocppgw/store.h"
#include "ocppgw/util.h"
#include "features/files/fetch.h"
#include "features/files/files.h"
#include "features/files/internal.h"

#define ROLLOUT_MAX_CHARGERS 10000
/* The store row (charger "", the gateway's own) holding the last rollout. */
#define ROLLOUT_KEY "files.rollout"
/* After a restart with no charger of the running wave to send to again,
 * the chargers get this long (at most) to come back before the next wave. */
#define RESUME_GRACE_S 30

/* CH_RESEND: sent before a restart, to be sent again when it is back */
enum ch_state { CH_PENDING, CH_SENT, CH_INSTALLED, CH_FAILED, CH_RESEND };
static const char *const ch_names[] = {
	[CH_PENDING] = "pending", [CH_SENT] = "sent", [CH_INSTALLED] = "installed",
	[CH_FAILED] = "failed", [CH_RESEND] = "resending",
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
	char *url;                  /* a URL's rollout, or NULL */
	char *file;                 /* an uploaded file's (fwstore.c), or NULL */
	char sha256[65];            /* the file's when the rollout started */
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

static void ro_discard(struct rollout *r)
{
	free(r->url);
	free(r->file);
	free(r->ch);
	free(r);
}

/* A rollout of @url or of the uploaded @file, room for @n chargers; its
 * timer not started yet (ro_discard() undoes it), or NULL. */
static struct rollout *ro_new(const char *url, const char *file, size_t n)
{
	struct rollout *r = calloc(1, sizeof(*r));
	if (r && (url ? (r->url = strdup(url)) : (r->file = strdup(file))) &&
	    (r->ch = calloc(n, sizeof(*r->ch))))
		return r;
	if (r)
		ro_discard(r);
	return NULL;
}

static void ro_closed(uv_handle_t *h)
{
	ro_discard(h->data);
}

static void ro_free(struct rollout *r)
{
	if (!r)
		return;
	if (r->state == RO_RUNNING && r->file && r->gw->files)
		ogw_fw_hold(r->gw->files, r->file, false);
	uv_timer_stop(&r->timer);
	uv_close((uv_handle_t *)&r->timer, ro_closed);
}

/* Keeps @r in the store (committed with the loop's batch). */
static void ro_save(struct rollout *r)
{
	json_t *doc = ogw_rollout_json(r->gw);
	if (doc)
		json_object_set_new(doc, "next", json_integer((json_int_t)r->next));
	int rc = doc ? ogw_store_kv_put(r->gw->store, "", ROLLOUT_KEY, doc) : -ENOMEM;
	if (rc < 0)
		ogw_err(NULL, "firmware rollout %u: Failed to keep it in the store: %s", r->gen,
			strerror(-rc));
	json_decref(doc);
}

static void ro_set_state(struct rollout *r, enum ro_state st)
{
	ogw_info(NULL, "firmware rollout %u: %s -> %s (wave %d, %d failed)", r->gen,
		 ro_names[r->state], ro_names[st], r->wave, r->failures);
	/* Once it ends, its file may be replaced or deleted again. */
	if (r->state == RO_RUNNING && st != RO_RUNNING && r->file)
		ogw_fw_hold(r->gw->files, r->file, false);
	r->state = st;
	ro_save(r);
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
	ro_save(r);
}

static void next_wave(struct ogw_gateway *gw, struct rollout *r);

/* Whether the wave has settled; then the next one, or the end. */
static void wave_check(struct ogw_gateway *gw, struct rollout *r)
{
	if (r->state != RO_RUNNING)
		return;
	for (size_t i = 0; i < r->next; i++)
		if (r->ch[i].state == CH_SENT || r->ch[i].state == CH_RESEND)
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
	/* the location is the file server's, set below */
	if (v16)
		p = json_pack("{s:s, s:s}", "location", "", "retrieveDate", now);
	else
		p = json_pack("{s:I, s:{s:s, s:s}}", "requestId", (json_int_t)(r->gen * 100000 + i),
			      "firmware", "location", "", "retrieveDateTime", now);
	holder = v16 ? p : json_object_get(p, "firmware");
	char path[512], sha[65];
	uint64_t size;
	if (r->file && (ogw_fw_lookup(gw->files, r->file, path, sizeof(path), &size, sha) < 0 ||
			strcmp(sha, r->sha256))) {
		/* only by hand, between two runs: the API refuses it while the rollout runs */
		json_decref(p);
		ch_set(r, c, CH_FAILED, "the firmware file is gone or changed");
		return false;
	}
	char *loc = !p ? NULL : r->file ? ogw_files_offer_local(gw->files, c->id, r->file, path, size)
				       : ogw_files_offer(gw->files, c->id, r->url, p, holder, NULL);
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
		else if (r->ch[i].state == CH_RESEND)
			ch_set(r, &r->ch[i], CH_FAILED, "not back after the gateway's restart");
	wave_check(r->gw, r);
}

/* Restored between two waves: the chargers had their grace to come back. */
static void resume_late(uv_timer_t *t)
{
	struct rollout *r = t->data;
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
		ro_save(r);
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

	if (!r || r->state != RO_RUNNING || what != OGW_OBS_UP_CALL)
		return;
	/* back after the gateway's restart: its UpdateFirmware again */
	for (size_t i = 0; i < r->next; i++)
		if (r->ch[i].state == CH_RESEND && !strcmp(r->ch[i].id, s->id)) {
			send_one(s->gw, r, i);
			wave_check(s->gw, r);
			return;
		}
	if (!status || (strcmp(action, "FirmwareStatusNotification") &&
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
	const json_t *loc = json_object_get(body, "location"), *file = json_object_get(body, "file");
	const char *url = json_string_value(loc), *name = json_string_value(file);
	const json_t *list = json_object_get(body, "chargers"), *v;
	char sha[65] = "";
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
	*ret_field = loc ? "file" : "location";
	if (!loc == !file) {
		snprintf(err, errlen, "%s: give either location (a URL) or file (the name of a file "
			 "uploaded with PUT /api/firmware/files/<name>)%s", *ret_field,
			 loc ? ", not both" : "");
		return -EINVAL;
	}
	*ret_field = "location";
	if (loc && (!url || !ogw_fetch_scheme_ok(url))) {
		snprintf(err, errlen, "location: expected an http, https, ftp or ftps URL");
		return -EINVAL;
	}
	*ret_field = "file";
	const char *why = name ? ogw_fw_name_check(name) : "expected a file name";
	if (file && why) {
		snprintf(err, errlen, "file: %s", why);
		return -EINVAL;
	}
	if (file && ogw_fw_lookup(fs, name, NULL, 0, NULL, sha) < 0) {
		snprintf(err, errlen, "file: no firmware file %s (GET /api/firmware/files lists "
			 "them)", name);
		return -ENOENT;
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
	if (!(r = ro_new(url, name, json_array_size(list)))) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	memcpy(r->sha256, sha, sizeof(sha));
	if (r->file)
		ogw_fw_hold(fs, r->file, true);
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
	ogw_info(NULL, "firmware rollout %u: %s%s to %zu charger(s), waves of %d, stop above %d "
		 "failure(s)", r->gen, url ? url : "file ", url ? "" : name, r->n, wave_size,
		 max_failures);
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
	json_t *o = json_pack("{s:i, s:s, s:i, s:i, s:i, s:i, s:i, s:o}", "id", r->gen, "state",
			      ro_names[r->state], "wave_size", r->wave_size, "max_failures",
			      r->max_failures, "charger_timeout", r->timeout_s, "wave", r->wave,
			      "failures", r->failures, "chargers", list);
	if (o && r->file) {
		json_object_set_new(o, "file", json_string(r->file));
		json_object_set_new(o, "sha256", json_string(r->sha256));
	} else if (o) {
		json_object_set_new(o, "location", json_string(r->url));
	}
	return o;
}

static int name_index(const char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; name && i < n; i++)
		if (!strcmp(names[i], name))
			return (int)i;
	return -1;
}

/* @doc (ro_save()'s) as a rollout; NULL when it is not one. */
static struct rollout *ro_parse(struct ogw_gateway *gw, const json_t *doc)
{
	const json_t *list = json_object_get(doc, "chargers"), *o;
	const char *url = json_string_value(json_object_get(doc, "location"));
	const char *file = json_string_value(json_object_get(doc, "file"));
	const char *sha = json_string_value(json_object_get(doc, "sha256"));
	int st = name_index(ro_names, sizeof(ro_names) / sizeof(ro_names[0]),
			    json_string_value(json_object_get(doc, "state")));
	size_t n = json_array_size(list), i;
	if (!url == !file || (file && (ogw_fw_name_check(file) || !sha || strlen(sha) != 64)) ||
	    st < 0 || !n || n > ROLLOUT_MAX_CHARGERS)
		return NULL;
	struct rollout *r = ro_new(url, file, n);
	if (!r)
		return NULL;
	if (file)
		snprintf(r->sha256, sizeof(r->sha256), "%s", sha);
	r->gw = gw;
	r->n = n;
	r->state = (enum ro_state)st;
	r->gen = (unsigned int)json_integer_value(json_object_get(doc, "id"));
	r->wave_size = (int)json_integer_value(json_object_get(doc, "wave_size"));
	r->max_failures = (int)json_integer_value(json_object_get(doc, "max_failures"));
	r->timeout_s = (int)json_integer_value(json_object_get(doc, "charger_timeout"));
	r->wave = (int)json_integer_value(json_object_get(doc, "wave"));
	r->failures = (int)json_integer_value(json_object_get(doc, "failures"));
	json_int_t next = json_integer_value(json_object_get(doc, "next"));
	r->next = next > 0 && (size_t)next <= n ? (size_t)next : 0;
	bool ok = r->wave_size > 0 && r->timeout_s > 0 && r->max_failures >= 0;
	json_array_foreach(list, i, o) {
		const char *id = json_string_value(json_object_get(o, "id"));
		int cs = name_index(ch_names, sizeof(ch_names) / sizeof(ch_names[0]),
				    json_string_value(json_object_get(o, "state")));
		const char *detail = json_string_value(json_object_get(o, "detail"));
		ok = ok && id && *id && strlen(id) <= OGW_ID_MAX && cs >= 0;
		if (!ok)
			break;
		snprintf(r->ch[i].id, sizeof(r->ch[i].id), "%s", id);
		r->ch[i].state = (enum ch_state)cs;
		snprintf(r->ch[i].detail, sizeof(r->ch[i].detail), "%s", detail ? detail : "");
		r->ch[i].wave = (int)json_integer_value(json_object_get(o, "wave"));
	}
	if (!ok) {
		ro_discard(r);
		return NULL;
	}
	uv_timer_init(ogw_loop_uv(), &r->timer);
	r->timer.data = r;
	return r;
}

void ogw_rollout_restore(struct ogw_gateway *gw)
{
	struct ogw_files *fs = gw->files;
	json_t *doc = fs ? ogw_store_kv_get(gw->store, "", ROLLOUT_KEY, NULL) : NULL;
	if (!doc)
		return;
	struct rollout *r = ro_parse(gw, doc);
	json_decref(doc);
	if (!r) {
		ogw_warn(NULL, "firmware rollout: the one kept in the store is unreadable: dropped");
		ogw_store_kv_del(gw->store, "", ROLLOUT_KEY);
		return;
	}
	fs->rollout = r;
	fs->rollouts = r->gen;
	if (r->state != RO_RUNNING)
		return;
	if (r->file && ogw_fw_hold(fs, r->file, true) < 0)
		ogw_warn(NULL, "firmware rollout %u: its file %s is gone: the chargers still to "
			 "send to fail", r->gen, r->file);
	size_t again = 0;
	for (size_t i = 0; i < r->next; i++)
		if (r->ch[i].state == CH_SENT) {
			r->ch[i].state = CH_RESEND;
			again++;
		}
	ogw_info(NULL, "firmware rollout %u: resumed at wave %d (%zu charger(s) to send to again "
		 "once back, %d failed so far)", r->gen, r->wave, again, r->failures);
	ro_save(r);
	if (again)
		uv_timer_start(&r->timer, wave_late, (uint64_t)r->timeout_s * 1000, 0);
	else
		uv_timer_start(&r->timer, resume_late,
			       (uint64_t)(r->timeout_s < RESUME_GRACE_S ? r->timeout_s :
									   RESUME_GRACE_S) * 1000,
			       0);
}

void ogw_rollout_stop(struct ogw_gateway *gw)
{
	if (gw->files) {
		ro_free(gw->files->rollout);
		gw->files->rollout = NULL;
	}
}
