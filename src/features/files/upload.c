/* SPDX-License-Identifier: MIT */
/*
 * Logs and diagnostics through the gateway. A CSMS's GetDiagnostics (1.6)
 * or GetLog (1.6 security extension, 2.x) on its way to a charger gets the
 * gateway's upload endpoint as location (HTTP PUT or POST to
 * /u/<token>/[name]); the body is kept in data_dir/uploads and handed to
 * the CSMS's location with libcurl (fetch.c), again every
 * files.upload_retry_interval while the uplink fails. The charger's
 * "Uploaded" reaches the CSMS only once the file did: held and sent by the
 * gateway when the hand-over completes, or turned into UploadFailed when
 * the gateway never got the file or could not deliver it.
 * A file on its way (and an Uploaded the CSMS is still owed) survives a
 * restart: the list is one JSON value in the store's kv table, the files
 * stay in data_dir/uploads, and the hand-over resumes at start.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ocppgw/log.h"
#include "ocppgw/loop.h"
#include "ocppgw/store.h"
#include "features/files/fetch.h"
#include "features/files/files.h"
#include "features/files/ftpd.h"
#include "features/files/internal.h"

/* The uploads a restart must not lose, under the gateway's own kv row. */
#define UPLOADS_CHARGER ""
#define UPLOADS_KEY "files.uploads"

enum upload_state {
	UP_AWAITING,            /* the charger has not sent the file yet */
	UP_RECEIVING,
	UP_SENDING,             /* kept; being handed to the CSMS, or between tries */
	UP_DELIVERED,           /* the CSMS's host took it */
	UP_FAILED,              /* not received, or not delivered after the tries */
};

static const char *const up_state_names[] = {
	[UP_AWAITING] = "awaiting",
	[UP_RECEIVING] = "receiving",
	[UP_SENDING] = "sending",
	[UP_DELIVERED] = "delivered",
	[UP_FAILED] = "failed",
};

struct upload {
	lws_dll2_t list;            /* fs->uploads */
	struct ogw_files *fs;
	char token[TOKEN_LEN + 1];
	char charger[OGW_ID_MAX + 1];
	char *csms_url;             /* the location the CSMS gave */
	char *target;               /* where the file goes: csms_url and the charger's name */
	char notify[40];            /* the status notification in the CSMS's version */
	json_t *request_id;         /* the CSMS's requestId, or NULL (1.6 GetDiagnostics) */
	enum upload_state state;
	char path[440];
	int fd;
	char *post_type;            /* the charger POSTed with this Content-Type; NULL: PUT */
	uint64_t size;
	int attempts;
	uv_timer_t timer;
	struct ogw_fetch *xfer;
	bool held;                  /* the charger's Uploaded was answered here, the
	                               CSMS not told yet */
	bool telling;               /* our Uploaded is with the CSMS, unanswered */
	bool ftp;                   /* the charger was given an FTP location (ftpd.c) */
};

static void up_set_state(struct upload *u, enum upload_state st)
{
	struct ogw_log_ctx lc = { .charger = u->charger, .leg = "south" };
	ogw_debug(&lc, "log upload %s: %s -> %s", u->token, up_state_names[u->state],
		  up_state_names[st]);
	u->state = st;
}

static void up_closed(uv_handle_t *h)
{
	struct upload *u = h->data;
	json_decref(u->request_id);
	free(u->csms_url);
	free(u->target);
	free(u->post_type);
	free(u);
}

/* Whether a restart must bring @u back: its file is on its way, or the
 * CSMS is owed its Uploaded. */
static bool durable(const struct upload *u)
{
	return u->state == UP_SENDING || (u->state == UP_DELIVERED && u->held);
}

/* Writes the list of durable uploads (the store commits it with the loop's batch). */
static void uploads_save(struct ogw_files *fs)
{
	json_t *list = json_array();

	lws_start_foreach_dll(struct lws_dll2 *, d, lws_dll2_get_head(&fs->uploads)) {
		struct upload *u = lws_container_of(d, struct upload, list);
		if (durable(u))
			json_array_append_new(list, json_pack(
				"{s:s, s:s, s:s, s:s, s:s, s:O?, s:s?, s:I, s:i, s:b, s:b}",
				"token", u->token, "charger", u->charger, "csms_url", u->csms_url,
				"target", u->target, "notify", u->notify, "requestId", u->request_id,
				"postType", u->post_type, "size", (json_int_t)u->size,
				"attempts", u->attempts, "held", u->held,
				"delivered", u->state == UP_DELIVERED));
	} lws_end_foreach_dll(d);
	int r = json_array_size(list) ?
		ogw_store_kv_put(fs->gw->store, UPLOADS_CHARGER, UPLOADS_KEY, list) :
		ogw_store_kv_del(fs->gw->store, UPLOADS_CHARGER, UPLOADS_KEY);
	if (r < 0)
		ogw_err(NULL, "Failed to keep the log uploads in the store: %s", strerror(-r));
	json_decref(list);
}

/* Drops @u from memory; with @forget, its file and its place in the store too. */
static void up_release(struct upload *u, bool forget)
{
	bool was_durable = durable(u);

	ogw_fetch_cancel(u->xfer);
	u->xfer = NULL;
	if (u->ftp && u->fs->ftpd)
		ogw_ftpd_deny(u->fs->ftpd, u->token);
	if (u->fd >= 0)
		close(u->fd);
	if (u->size && u->state != UP_AWAITING) {
		u->fs->held -= u->size;
		if (forget)
			unlink(u->path);
	}
	lws_dll2_remove(&u->list);
	if (forget && was_durable)
		uploads_save(u->fs);
	uv_timer_stop(&u->timer);
	uv_close((uv_handle_t *)&u->timer, up_closed);
}

static void up_free(struct upload *u)
{
	up_release(u, true);
}

/* The latest upload the CSMS asked of @charger. */
static struct upload *up_of(struct ogw_files *fs, const char *charger)
{
	struct upload *found = NULL;
	lws_start_foreach_dll(struct lws_dll2 *, d, lws_dll2_get_head(&fs->uploads)) {
		struct upload *u = lws_container_of(d, struct upload, list);
		if (!strcmp(u->charger, charger))
			found = u;
	} lws_end_foreach_dll(d);
	return found;
}

static struct upload *up_by_token(struct ogw_files *fs, const char *hex)
{
	lws_start_foreach_dll(struct lws_dll2 *, d, lws_dll2_get_head(&fs->uploads)) {
		struct upload *u = lws_container_of(d, struct upload, list);
		if (!strcmp(u->token, hex))
			return u;
	} lws_end_foreach_dll(d);
	return NULL;
}

static bool tell(struct upload *u, const char *status);

static void retell(uv_timer_t *t)
{
	tell(t->data, "Uploaded");
}

/* The CSMS's answer to our Uploaded (@c->memo: the upload's token, @c->ctx
 * the gateway): the upload is done with only once the CSMS took it. */
static void told(struct ogw_call *c, const struct ogw_frame *answer)
{
	struct ogw_files *fs = ogw_files_of((struct ogw_gateway *)c->ctx);
	const char *token = json_string_value(c->memo);
	struct upload *u = fs && token ? up_by_token(fs, token) : NULL;

	if (!u)
		return;
	u->telling = false;
	if (answer && answer->type == OGW_MSG_CALLRESULT) {
		up_free(u);
		return;
	}
	struct ogw_log_ctx lc = { .charger = u->charger, .leg = "north", .action = u->notify };
	ogw_warn(&lc, "log upload %s: the CSMS did not take Uploaded (%s), again in %d s", u->token,
		 answer ? "CALLERROR" : "no answer", fs->gw->conf.files_upload_retry_s);
	uv_timer_start(&u->timer, retell, (uint64_t)fs->gw->conf.files_upload_retry_s * 1000, 0);
}

/* The gateway tells the CSMS @status of the log it asked for: false when
 * the charger has no CSMS leg up now (told when it has, on_leg()).
 * Uploaded is owed until the CSMS answers it (told()); UploadFailed is
 * said once. */
static bool tell(struct upload *u, const char *status)
{
	struct ogw_session *s = ogw_session_find(u->fs->gw, u->charger);
	struct ogw_log_ctx lc = { .charger = u->charger, .leg = "north", .action = u->notify };

	if (!s || ogw_session_standalone(s) || ogw_session_primary(s)->state != OGW_LEG_UP) {
		ogw_info(&lc, "log upload %s: %s, told once the charger's CSMS leg is up", u->token,
			 status);
		return false;
	}
	json_t *p = json_pack("{s:s}", "status", status);
	if (p && u->request_id)
		json_object_set(p, "requestId", u->request_id);
	ogw_info(&lc, "log upload to %s: the gateway reports %s", u->csms_url, status);
	bool owed = !strcmp(status, "Uploaded");
	json_t *memo = owed ? json_string(u->token) : NULL;
	if (!p || ogw_leg_call(ogw_session_primary(s), u->notify, p, told, u->fs->gw, memo) < 0) {
		ogw_err(&lc, "Failed to send %s %s to the CSMS", u->notify, status);
		return false;
	}
	u->telling = owed;
	return true;
}

/* ---- the hand-over to the CSMS --------------------------------------- */

static void send_try(uv_timer_t *t);

static void sent(void *arg, int rc, const char *why, uint64_t bytes)
{
	struct upload *u = arg;
	struct ogw_conf *c = &u->fs->gw->conf;
	struct ogw_log_ctx lc = { .charger = u->charger, .leg = "north" };

	u->xfer = NULL;
	if (rc == 0) {
		ogw_info(&lc, "log upload: %llu bytes delivered to %s",
			 (unsigned long long)bytes, u->target);
		up_set_state(u, UP_DELIVERED);
		if (u->held) {
			uploads_save(u->fs);
			tell(u, "Uploaded");
		} else if (up_of(u->fs, u->charger) != u) {
			up_free(u);   /* replaced: no Uploaded of the charger's will match it */
		}
		return;
	}
	if (u->attempts < c->files_upload_attempts) {
		ogw_warn(&lc, "log upload to %s: attempt %d of %d failed (%s), again in %d s",
			 u->target, u->attempts, c->files_upload_attempts, why,
			 c->files_upload_retry_s);
		uv_timer_start(&u->timer, send_try, (uint64_t)c->files_upload_retry_s * 1000, 0);
		return;
	}
	ogw_err(&lc, "log upload to %s: failed after %d attempts: %s", u->target, u->attempts, why);
	up_set_state(u, UP_FAILED);
	if (u->held)
		tell(u, "UploadFailed");
	/* Held or not, nothing more is owed: the charger's Uploaded to come
	 * becomes UploadFailed (ogw_files_upload_status()). */
	uploads_save(u->fs);
	if (u->held)
		up_free(u);
}

static void send_try(uv_timer_t *t)
{
	struct upload *u = t->data;
	u->attempts++;
	int r = ogw_fetch_send(u->target, u->path, u->post_type, sent, u, &u->xfer);
	if (r < 0)
		sent(u, r, strerror(-r), 0);
}

/* ---- the charger's side ---------------------------------------------- */

/* The most a charger's next log may have: max_file_size, and what is left
 * under max_size of the uploads kept. */
static uint64_t up_room(const struct ogw_files *fs)
{
	const struct ogw_conf *conf = &fs->gw->conf;
	uint64_t left = conf->files_max_size > fs->held ? conf->files_max_size - fs->held : 0;
	return left < conf->files_max_file_size ? left : conf->files_max_file_size;
}

/* Where the file goes: the CSMS's location, and the name the charger gave
 * appended to it (1.6 treats the location as a directory). */
static int up_set_target(struct upload *u, const char *name)
{
	const char *sep = u->csms_url[strlen(u->csms_url) - 1] == '/' ? "" : "/";
	free(u->target);
	if (asprintf(&u->target, "%s%s%s", u->csms_url, *name ? sep : "", name) < 0) {
		u->target = NULL;
		return -ENOMEM;
	}
	return 0;
}

static bool is_log_request(const char *action)
{
	return !strcmp(action, "GetDiagnostics") || !strcmp(action, "GetLog");
}

static enum ogw_stage_verdict logs_on_relay(struct ogw_leg *from, struct ogw_leg *to,
					    const struct ogw_frame *f, const char *action,
					    json_t *payload, const struct ogw_tr_action *entry,
					    json_t *memo)
{
	struct ogw_files *fs = ogw_files_toward_charger(from, to);
	(void)entry, (void)memo;

	if (!fs || !is_log_request(action))
		return OGW_STAGE_CONTINUE;
	/* 1.6 GetDiagnostics: location; GetLog (both versions): log.remoteLocation. */
	bool diag = !strcmp(action, "GetDiagnostics");
	json_t *holder = diag ? payload : json_object_get(payload, "log");
	const char *key = diag ? "location" : "remoteLocation";
	const char *url = json_string_value(json_object_get(holder, key));
	struct ogw_log_ctx lc = { .charger = from->s->id, .leg = "south", .action = action };

	if (!url)
		return OGW_STAGE_CONTINUE;
	if (!ogw_fetch_scheme_ok(url)) {
		/* Passed on as it is: the charger reports what it makes of it. */
		ogw_warn(&lc, "log location %s: unsupported scheme, passed through", url);
		return OGW_STAGE_CONTINUE;
	}
	struct upload *u = calloc(1, sizeof(*u));
	if (!u || !(u->csms_url = strdup(url))) {
		free(u);
		ogw_err(&lc, "Failed to take the log upload: out of memory");
		return OGW_STAGE_CONTINUE;
	}
	/* One log at a time per charger: a newer request replaces the last
	 * one unless its file is on its way (that one is delivered, and
	 * dropped then). */
	struct upload *old = up_of(fs, from->s->id);
	if (old && old->state != UP_SENDING && old->state != UP_RECEIVING)
		up_free(old);
	u->fs = fs;
	u->fd = -1;
	snprintf(u->charger, sizeof(u->charger), "%s", from->s->id);
	ogw_files_token(u->token);
	snprintf(u->path, sizeof(u->path), "%s/%s", fs->updir, u->token);
	bool csms16_diag = from->ver == OGW_OCPP16 && !strcmp(f->action, "GetDiagnostics");
	snprintf(u->notify, sizeof(u->notify), "%s",
		 csms16_diag ? "DiagnosticsStatusNotification" : "LogStatusNotification");
	if (!csms16_diag)
		u->request_id = json_incref(json_object_get(f->payload, "requestId"));
	uv_timer_init(ogw_loop_uv(), &u->timer);
	u->timer.data = u;
	lws_dll2_add_tail(&u->list, &fs->uploads);

	/* By FTP where the CSMS expects this charger to use FTP (files.ftp). */
	u->ftp = fs->ftpd && fs->ftp_base[0] &&
		 (fs->gw->conf.files_ftp_always || !strncasecmp(url, "ftp://", 6) ||
		  !strncasecmp(url, "ftps://", 7));
	char *loc = NULL;
	if (asprintf(&loc, u->ftp ? "%s/%s/" : "%s/u/%s/", u->ftp ? fs->ftp_base : fs->base,
		     u->token) < 0)
		return OGW_STAGE_CONTINUE;
	if (u->ftp)
		ogw_ftpd_allow(fs->ftpd, u->token, up_room(fs));
	ogw_info(&lc, "log for %s: the charger uploads to %s", url, loc);
	json_object_set_new(holder, key, json_string(loc));
	free(loc);
	return OGW_STAGE_CHANGED;
}

/* The charger's status notification about the log: "Uploaded" only once
 * the file reached the CSMS. */
static enum ogw_stage_verdict logs_on_call(struct ogw_leg *from, struct ogw_frame *f)
{
	struct ogw_files *fs = ogw_files_of(from->s->gw);

	if (!fs || !fs->up_ops || from->kind != OGW_SOUTH)
		return OGW_STAGE_CONTINUE;
	if (strcmp(f->action, "DiagnosticsStatusNotification") &&
	    strcmp(f->action, "LogStatusNotification"))
		return OGW_STAGE_CONTINUE;
	const char *status = json_string_value(json_object_get(f->payload, "status"));
	struct upload *u = up_of(fs, from->s->id);
	if (!u || !status)
		return OGW_STAGE_CONTINUE;
	if (!strcmp(status, "UploadFailed") || strcmp(status, "Uploaded")) {
		if (!strcmp(status, "UploadFailed") && u->state == UP_AWAITING)
			up_free(u);
		return OGW_STAGE_CONTINUE;
	}
	struct ogw_log_ctx lc = { .charger = from->s->id, .leg = "south", .action = f->action };
	switch (u->state) {
	case UP_DELIVERED:
		up_free(u);
		return OGW_STAGE_CONTINUE;
	case UP_RECEIVING:
		/* By FTP, the charger may hear 226 before the gateway hears of the
		 * file from its FTP server (another pipe): held like one on its way. */
		if (!u->ftp)
			goto no_file;
		/* fall through */
	case UP_SENDING: {
		/* Answered here; the CSMS hears Uploaded when its host has the file. */
		json_t *empty = json_object();
		ogw_leg_send_result(from, f->action, f->id, empty);
		json_decref(empty);
		u->held = true;
		uploads_save(fs);
		ogw_info(&lc, "Uploaded held until the file reaches %s",
			 u->target ? u->target : u->csms_url);
		return OGW_STAGE_DONE;
	}
	case UP_AWAITING:
	case UP_FAILED:
	no_file:
		ogw_warn(&lc, "the charger says Uploaded, but %s: the CSMS hears UploadFailed",
			 u->state == UP_FAILED ? "the file did not reach the CSMS" :
			 "the gateway has no complete file");
		json_object_set_new(f->payload, "status", json_string("UploadFailed"));
		up_free(u);
		return OGW_STAGE_CHANGED;
	}
	return OGW_STAGE_CONTINUE;
}

static void upload_body(struct conn *c, const char *data, size_t len);

static void upload_begin(struct conn *c, const struct ogw_files_request *req, const char *body)
{
	struct ogw_files *fs = c->fs;
	struct ogw_conf *conf = &fs->gw->conf;
	bool post = req->method == OGW_FILES_POST;
	const char *name = req->name;
	struct upload *u;

	u = up_by_token(fs, req->token);
	if (!u || u->state != UP_AWAITING) {
		ogw_files_reply(c, u ? 409 : 404, u ? "Conflict" : "Not Found");
		return;
	}
	struct ogw_log_ctx lc = { .charger = u->charger, .leg = "south" };
	if (!req->has_length) {
		ogw_warn(&lc, "log upload %s: no Content-Length, refused", u->token);
		ogw_files_reply(c, 411, "Length Required");
		return;
	}
	c->body_len = req->length;
	if (c->body_len > conf->files_max_file_size ||
	    fs->held + c->body_len > conf->files_max_size) {
		ogw_warn(&lc, "log upload %s: %llu bytes, over files.max_file_size or the room "
			 "left under files.max_size: refused", u->token,
			 (unsigned long long)c->body_len);
		ogw_files_reply(c, 413, "Payload Too Large");
		return;
	}
	if (post && req->type)
		u->post_type = strndup(req->type, req->type_len > 250 ? 250 : req->type_len);
	else if (post)
		u->post_type = strdup("application/octet-stream");
	up_set_target(u, name);
	c->buf = malloc(CHUNK);
	u->fd = open(u->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (!c->buf || !u->target || (post && !u->post_type) || u->fd < 0) {
		ogw_err(&lc, "log upload %s: Failed to keep the file: %s", u->token,
			u->fd < 0 ? strerror(errno) : "out of memory");
		ogw_files_reply(c, 500, "Internal Server Error");
		return;
	}
	u->size = c->body_len;
	fs->held += u->size;
	up_set_state(u, UP_RECEIVING);
	c->up = u;
	upload_body(c, body, (size_t)(c->head + c->n - body));
}

/* The whole body arrived: answer the charger and hand the file on. */
static void received(struct conn *c)
{
	struct upload *u = c->up;
	c->up = NULL;
	close(u->fd);
	u->fd = -1;
	ogw_files_read_stop(c);
	ogw_files_reply(c, u->post_type ? 200 : 201, u->post_type ? "OK" : "Created");
	up_set_state(u, UP_SENDING);
	uploads_save(u->fs);
	send_try(&u->timer);
}

static void upload_body(struct conn *c, const char *data, size_t len)
{
	struct upload *u = c->up;

	if (len > c->body_len - c->body_got)
		len = (size_t)(c->body_len - c->body_got);
	int r = ogw_files_write_all(u->fd, data, len);
	if (r < 0) {
		struct ogw_log_ctx lc = { .charger = u->charger, .leg = "south" };
		ogw_err(&lc, "log upload %s: Failed to write the file: %s", u->token, strerror(-r));
		c->up = NULL;
		up_set_state(u, UP_FAILED);
		ogw_files_read_stop(c);
		ogw_files_reply(c, 507, "Insufficient Storage");
		return;
	}
	c->body_got += len;
	if (c->body_got == c->body_len)
		received(c);
}

static void upload_abandon(struct conn *c)
{
	struct upload *u = c->up;
	struct ogw_log_ctx lc = { .charger = u->charger, .leg = "south" };

	ogw_warn(&lc, "log upload %s: the charger went away after %llu of %llu bytes", u->token,
		 (unsigned long long)c->body_got, (unsigned long long)c->body_len);
	c->up = NULL;
	close(u->fd);
	u->fd = -1;
	up_set_state(u, UP_FAILED);
}

/* At the stop: those on their way stay in the store and on disk. */
static void uploads_stop(struct ogw_files *fs)
{
	lws_start_foreach_dll_safe(struct lws_dll2 *, d, n, lws_dll2_get_head(&fs->uploads)) {
		struct upload *u = lws_container_of(d, struct upload, list);
		if (durable(u))
			ogw_info(NULL, "log upload to %s: kept for the next start", u->target);
		up_release(u, !durable(u));
	} lws_end_foreach_dll_safe(d, n);
	ogw_ftpd_stop(fs->ftpd);
	fs->ftpd = NULL;
}

/* The charger's CSMS leg is up: what it is owed is told now. */
static bool logs_on_leg(struct ogw_leg *l, enum ogw_leg_event ev)
{
	struct ogw_files *fs = ogw_files_of(l->s->gw);

	if (!fs || !fs->up_ops || ev != OGW_LEG_EV_UP || l != ogw_session_primary(l->s))
		return false;
	lws_start_foreach_dll_safe(struct lws_dll2 *, d, n, lws_dll2_get_head(&fs->uploads)) {
		struct upload *u = lws_container_of(d, struct upload, list);
		if (!strcmp(u->charger, l->s->id) && u->state == UP_DELIVERED && u->held &&
		    !u->telling)
			tell(u, "Uploaded");
	} lws_end_foreach_dll_safe(d, n);
	return false;
}

/* One upload of an earlier run from its stored form: false when it is unusable. */
static bool restore_one(struct ogw_files *fs, const json_t *o)
{
	const char *token = json_string_value(json_object_get(o, "token"));
	const char *charger = json_string_value(json_object_get(o, "charger"));
	const char *csms_url = json_string_value(json_object_get(o, "csms_url"));
	const char *target = json_string_value(json_object_get(o, "target"));
	const char *notify = json_string_value(json_object_get(o, "notify"));
	const char *post_type = json_string_value(json_object_get(o, "postType"));
	struct upload *u;
	struct stat st;

	if (!token || strlen(token) != TOKEN_LEN || strspn(token, "0123456789abcdef") != TOKEN_LEN ||
	    !charger || strlen(charger) > OGW_ID_MAX || !csms_url || !target || !notify ||
	    strlen(notify) >= sizeof(u->notify) || !(u = calloc(1, sizeof(*u))))
		return false;
	u->fs = fs;
	u->fd = -1;
	snprintf(u->token, sizeof(u->token), "%s", token);
	snprintf(u->charger, sizeof(u->charger), "%s", charger);
	snprintf(u->notify, sizeof(u->notify), "%s", notify);
	snprintf(u->path, sizeof(u->path), "%s/%s", fs->updir, token);
	u->csms_url = strdup(csms_url);
	u->target = strdup(target);
	u->post_type = post_type ? strdup(post_type) : NULL;
	/* Stored as null for a 1.6 GetDiagnostics, which has none. */
	json_t *rid = json_object_get(o, "requestId");
	u->request_id = json_is_integer(rid) ? json_incref(rid) : NULL;
	u->attempts = (int)json_integer_value(json_object_get(o, "attempts"));
	u->held = json_is_true(json_object_get(o, "held"));
	u->state = json_is_true(json_object_get(o, "delivered")) ? UP_DELIVERED : UP_SENDING;
	uv_timer_init(ogw_loop_uv(), &u->timer);
	u->timer.data = u;
	lws_dll2_add_tail(&u->list, &fs->uploads);
	if (!u->csms_url || !u->target || (post_type && !u->post_type) ||
	    (u->state == UP_SENDING && stat(u->path, &st) < 0)) {
		up_release(u, false);
		return false;
	}
	if (u->state == UP_SENDING) {
		u->size = (uint64_t)st.st_size;
		fs->held += u->size;
		uv_timer_start(&u->timer, send_try, 0, 0);
	}
	ogw_info(NULL, "log upload to %s: resumed (%s)", u->target, up_state_names[u->state]);
	return true;
}

/* The uploads an earlier run left; files in data_dir/uploads that none
 * of them names are dropped. */
static void uploads_restore(struct ogw_files *fs)
{
	json_t *list = ogw_store_kv_get(fs->gw->store, UPLOADS_CHARGER, UPLOADS_KEY, NULL), *o;
	size_t i, dropped = 0;

	json_array_foreach(list, i, o)
		dropped += !restore_one(fs, o);
	json_decref(list);
	if (dropped) {
		ogw_warn(NULL, "%zu stored log upload(s) could not be resumed", dropped);
		uploads_save(fs);
	}
	DIR *d = opendir(fs->updir);
	struct dirent *de;
	char p[1024];
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' || up_by_token(fs, de->d_name))
			continue;
		snprintf(p, sizeof(p), "%s/%s", fs->updir, de->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
}

/* ---- uploads by FTP (files.ftp, ftpd.c) ---- */

static struct upload *ftp_upload(struct ogw_files *fs, const char *token,
				 enum upload_state want)
{
	struct upload *u = up_by_token(fs, token);
	return u && u->ftp && u->state == want ? u : NULL;
}

static void ftp_begin(void *arg, const char *token, const char *name)
{
	struct upload *u = ftp_upload(arg, token, UP_AWAITING);
	if (!u)
		return;
	struct ogw_log_ctx lc = { .charger = u->charger, .leg = "south" };
	ogw_info(&lc, "log upload %s: the charger stores %s by FTP", u->token, name);
	up_set_state(u, UP_RECEIVING);
}

/* A transfer that did not complete: the charger may try again (its
 * request's retries), as if it had not begun. */
static void ftp_again(struct upload *u)
{
	up_set_state(u, UP_AWAITING);
	ogw_ftpd_allow(u->fs->ftpd, u->token, up_room(u->fs));
}

/* The file will not come: a charger that said Uploaded already (held)
 * will not try again, so the CSMS hears UploadFailed now. */
static void ftp_lost(struct upload *u, bool may_retry)
{
	if (u->held) {
		up_set_state(u, UP_FAILED);
		tell(u, "UploadFailed");
		up_free(u);
	} else if (may_retry) {
		ftp_again(u);
	} else {
		ogw_ftpd_deny(u->fs->ftpd, u->token);
		up_set_state(u, UP_FAILED);
	}
}

static void ftp_done(void *arg, const char *token, const char *name, uint64_t size,
		     const char *path)
{
	struct ogw_files *fs = arg;
	const struct ogw_conf *conf = &fs->gw->conf;
	struct upload *u = ftp_upload(fs, token, UP_RECEIVING);

	if (!u) {
		unlink(path);
		return;
	}
	struct ogw_log_ctx lc = { .charger = u->charger, .leg = "south" };
	if (size > conf->files_max_file_size || fs->held + size > conf->files_max_size) {
		/* the cap it was given, but other uploads took the room meanwhile */
		ogw_warn(&lc, "log upload %s: %llu bytes by FTP, over the room left under "
			 "files.max_size: dropped", u->token, (unsigned long long)size);
		unlink(path);
		ftp_lost(u, false);
		return;
	}
	int r = up_set_target(u, name);
	if (r == 0 && rename(path, u->path) < 0)
		r = -errno;
	if (r < 0) {
		ogw_err(&lc, "log upload %s: Failed to keep the file: %s", u->token, strerror(-r));
		unlink(path);
		ftp_lost(u, false);
		return;
	}
	ogw_ftpd_deny(fs->ftpd, u->token);
	u->size = size;
	fs->held += size;
	ogw_info(&lc, "log upload %s: %s received by FTP, %llu bytes", u->token, name,
		 (unsigned long long)size);
	up_set_state(u, UP_SENDING);
	uploads_save(fs);
	send_try(&u->timer);
}

static void ftp_failed(void *arg, const char *token, const char *name, const char *why)
{
	struct upload *u = ftp_upload(arg, token, UP_RECEIVING);
	if (!u)
		return;
	struct ogw_log_ctx lc = { .charger = u->charger, .leg = "south" };
	ogw_warn(&lc, "log upload %s: the charger's FTP upload of %s failed: %s", u->token,
		 name, why);
	ftp_lost(u, true);
}

/* The server (again) up: its ftp_base, and what it must expect. */
static void ftp_ready(void *arg)
{
	struct ogw_files *fs = arg;
	const struct ogw_conf *conf = &fs->gw->conf;

	if (conf->files_ftp_public_url) {
		snprintf(fs->ftp_base, sizeof(fs->ftp_base), "%s", conf->files_ftp_public_url);
	} else {
		/* the file server's host: http(s)://HOST[:port][/...] */
		const char *h = strstr(fs->base, "://");
		h = h ? h + 3 : fs->base;
		size_t hl = *h == '[' ? strcspn(h, "]") + 1 : strcspn(h, ":/");
		snprintf(fs->ftp_base, sizeof(fs->ftp_base), "ftp://%.*s:%d", (int)hl, h,
			 ogw_ftpd_port(fs->ftpd));
	}
	size_t n = strlen(fs->ftp_base);
	if (n && fs->ftp_base[n - 1] == '/')
		fs->ftp_base[n - 1] = '\0';
	lws_start_foreach_dll_safe(struct lws_dll2 *, d, n, lws_dll2_get_head(&fs->uploads)) {
		struct upload *u = lws_container_of(d, struct upload, list);
		if (u->ftp && (u->state == UP_AWAITING || u->state == UP_RECEIVING))
			ftp_lost(u, true);
	} lws_end_foreach_dll_safe(d, n);
}

static const struct ogw_ftpd_ops ftpd_ops = {
	.begin = ftp_begin,
	.done = ftp_done,
	.failed = ftp_failed,
	.ready = ftp_ready,
};

static int ftp_start(struct ogw_files *fs)
{
	const struct ogw_conf *c = &fs->gw->conf;
	char root[440];

	if (!c->files_ftp_addr)
		return 0;
	snprintf(root, sizeof(root), "%s/ftp", c->data_dir);
	struct ogw_ftpd_conf fc = {
		.server = c->files_ftp_server,
		.addr = c->files_ftp_addr,
		.port = c->files_ftp_port,
		.root = root,
		.pasv_first = c->files_ftp_pasv_first,
		.pasv_last = c->files_ftp_pasv_last,
		.masquerade = c->files_ftp_masquerade,
		.idle_timeout_s = c->files_idle_timeout_s,
	};
	return ogw_ftpd_start(&fc, &ftpd_ops, fs, &fs->ftpd);
}

static const struct ogw_files_upload_ops upload_ops = {
	.begin = upload_begin,
	.body = upload_body,
	.abandon = upload_abandon,
	.stop = uploads_stop,
};

int ogw_files_logs_start(struct ogw_gateway *gw)
{
	struct ogw_files *fs = ogw_files_of(gw);
	if (!fs)
		return 0;
	fs->up_ops = &upload_ops;
	uploads_restore(fs);
	return ftp_start(fs);
}

const struct ogw_stage ogw_logs_stage = {
	.name = "logs",
	.on_leg = logs_on_leg,
	.on_call = logs_on_call,
	.on_relay = logs_on_relay,
};
