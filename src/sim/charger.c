/* SPDX-License-Identifier: MIT */
/*
 * One simulated charger's connection: connect with back-off, boot, send its
 * CALLs one at a time through the rpc tracker, answer the CSMS, validate
 * every frame both ways, and keep transaction messages queued across drops
 * (OCPP 1.6 §3.7). What a charger does between connections (sessions, meter
 * values) lives in session.c; how it answers commands in answer.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocppgw/log.h"
#include "ocppgw/util.h"
#include "sim.h"

/* Reconnect back-off: 1 s doubling to 30 s, with jitter. */
static const uint32_t backoff_ms[] = { 1000, 2000, 4000, 8000, 16000, 30000 };
static const lws_retry_bo_t backoff = {
	.retry_ms_table = backoff_ms,
	.retry_ms_table_count = sizeof(backoff_ms) / sizeof(backoff_ms[0]),
	.conceal_count = LWS_RETRY_CONCEAL_ALWAYS,
	.jitter_percent = 25,
};

static const char *const state_names[] = {
	[SIM_CH_IDLE] = "idle",           [SIM_CH_CONNECTING] = "connecting",
	[SIM_CH_BOOTING] = "booting",     [SIM_CH_ACCEPTED] = "accepted",
	[SIM_CH_BACKOFF] = "backoff",     [SIM_CH_DONE] = "done",
};

static void set_state(struct sim_charger *ch, enum sim_charger_state s)
{
	struct ogw_log_ctx lc = { .charger = ch->id };

	if (ch->state == s)
		return;
	ogw_debug(&lc, "%s -> %s", state_names[ch->state], state_names[s]);
	ch->state = (uint8_t)s;
}

uint64_t sim_charger_us(const struct sim_charger *ch, double sim_s)
{
	return (uint64_t)(sim_s * 1e6 / ch->fleet->o->time_scale);
}

uint32_t sim_charger_rand(struct sim_charger *ch)
{
	uint32_t x = ch->rng;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	ch->rng = x;
	return x;
}

/* Transaction-related messages are queued while offline (OCPP 1.6 §3.7). */
static bool tx_message(const struct ogw_call *c)
{
	return !strcmp(c->action, "TransactionEvent") || !strcmp(c->action, "StartTransaction") ||
	       !strcmp(c->action, "StopTransaction") ||
	       (!strcmp(c->action, "MeterValues") && json_object_get(c->payload, "transactionId"));
}

void sim_charger_init(struct sim_charger *ch, struct sim_fleet *f, unsigned int index)
{
	const struct sim_opts *o = f->o;

	ch->fleet = f;
	ch->index = index;
	ch->rng = (o->seed + 1) * 2654435761u ^ (index + 1) * 40503u;
	if (!ch->rng)
		ch->rng = 1;
	ch->hb_interval = 300;
	ch->meter_interval = (unsigned int)o->meter_interval;
	ch->local_list_version = 0;
	ogw_tracker_init(&ch->tracker, SIM_QUEUE_MAX);
	snprintf(ch->id, sizeof(ch->id), o->id_pattern, index + 1);
	for (unsigned int i = 0; i < o->evses; i++) {
		struct sim_evse *e = &ch->evse[i];

		e->ch = ch;
		e->id = (uint8_t)(i + 1);
		e->reservation_id = -1;
		e->remote_start_id = -1;
	}
}

static void connect_now(lws_sorted_usec_list_t *sul);

static void schedule_reconnect(struct sim_charger *ch, uint64_t us)
{
	set_state(ch, SIM_CH_BACKOFF);
	if (!us)
		us = (uint64_t)lws_retry_get_delay_ms(ch->fleet->ctx, &backoff, &ch->retries,
						      NULL) * 1000u;
	lws_sul_schedule(ch->fleet->ctx, 0, &ch->sul_conn, connect_now, (lws_usec_t)us);
}

static void url_path(const struct sim_charger *ch, char *buf, size_t size)
{
	const struct sim_fleet *f = ch->fleet;
	size_t n = (size_t)snprintf(buf, size, "%s%s", f->path,
				    f->path[strlen(f->path) - 1] == '/' ? "" : "/");

	for (const char *p = ch->id; *p && n + 4 < size; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    strchr("-._~", *p))
			buf[n++] = *p;
		else
			n += (size_t)snprintf(buf + n, size - n, "%%%02X", (unsigned char)*p);
	}
	buf[n] = '\0';
}

static void connect_now(lws_sorted_usec_list_t *sul)
{
	struct sim_charger *ch = lws_container_of(sul, struct sim_charger, sul_conn);
	struct sim_fleet *f = ch->fleet;
	struct lws_client_connect_info i = { 0 };
	char path[512];

	if (f->stopping)
		return;
	url_path(ch, path, sizeof(path));
	i.context = f->ctx;
	i.vhost = f->vh;
	i.address = f->host;
	i.port = f->port;
	i.path = path;
	i.host = f->host;
	i.origin = f->host;
	i.protocol = ogw_ocpp_subprotocol(ch->v);
	i.local_protocol_name = "ocpp-sim";
	i.opaque_user_data = ch;
	i.pwsi = &ch->wsi;
	if (f->tls) {
		i.ssl_connection = LCCSCF_USE_SSL;
		if (f->o->insecure)
			i.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED | LCCSCF_ALLOW_EXPIRED |
					    LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK |
					    LCCSCF_ALLOW_INSECURE;
	}
	set_state(ch, SIM_CH_CONNECTING);
	ch->connect_us = ogw_now_us();
	if (!lws_client_connect_via_info(&i)) {
		ch->wsi = NULL;
		f->stats.connect_failures++;
		schedule_reconnect(ch, 0);
	}
}

void sim_charger_start(struct sim_charger *ch)
{
	ch->fleet->started++;
	connect_now(&ch->sul_conn);
}

/* Encodes and queues @c with a fresh id; the deadline starts now. */
static void send_call(struct sim_charger *ch, struct ogw_call *c)
{
	struct sim_fleet *f = ch->fleet;
	struct ogw_schema_fault fault;
	uint64_t now = ogw_now_us();
	size_t len;
	char *buf;

	ogw_rpc_new_id(c->id);
	if (sim_wire_check(ch->v, c->action, false, c->payload, &fault) < 0) {
		struct ogw_log_ctx lc = { .charger = ch->id, .action = c->action };

		ogw_err(&lc, "Own request fails its schema: %s", fault.desc);
		f->stats.schema_faults++;
	}
	buf = ogw_rpc_encode_call(LWS_PRE, c->type, c->id, c->action, c->payload, &len);
	if (buf && ogw_log_enabled(OGW_LOG_DEBUG)) {
		struct ogw_log_ctx lc = { .charger = ch->id, .action = c->action, .msg_id = c->id };

		ogw_debug(&lc, "> %s", buf + LWS_PRE);
	}
	if (sim_out_push(&ch->out, ch->wsi, buf, len) < 0)
		return;
	c->deadline_us = now + (uint64_t)(f->o->timeout * 1e6);
	ch->sent_us = now;
	f->stats.calls_sent++;
	if (!f->stats.first_send_us)
		f->stats.first_send_us = now;
}

void sim_charger_send_boot(struct sim_charger *ch)
{
	if (ch->boot || !ch->wsi)
		return;
	ch->boot = ogw_call_new("BootNotification", sim_msg_boot(ch), UINT64_MAX);
	sim_charger_pump(ch);
}

void sim_charger_pump(struct sim_charger *ch)
{
	struct ogw_call *c = ch->tracker.outstanding;
	/* A call kept across a drop is outstanding for the tracker but was not
	 * sent on this connection (deadline unset). */
	bool busy = c && c->deadline_us != UINT64_MAX;

	if (!ch->wsi || (ch->state != SIM_CH_BOOTING && ch->state != SIM_CH_ACCEPTED))
		return;
	/* Only one CALL in flight (OCPP-J); the boot goes ahead of the queue. */
	if (ch->boot) {
		if (!busy && ch->boot->deadline_us == UINT64_MAX)
			send_call(ch, ch->boot);
		return;
	}
	if (ch->state != SIM_CH_ACCEPTED || busy)
		return;
	if (c) {
		send_call(ch, c);
		return;
	}
	c = ogw_tracker_next(&ch->tracker);
	if (c)
		send_call(ch, c);
}

int sim_charger_call(struct sim_charger *ch, const char *action, json_t *payload)
{
	struct ogw_call *c;
	int r;

	if (!payload)
		return -ENOMEM;
	c = ogw_call_new(action, payload, UINT64_MAX);
	if (!c)
		return -ENOMEM;
	/* Offline only transaction messages wait; while booting every call
	 * waits for the Accepted (pump sends nothing before it), so what a
	 * CSMS's command starts in that moment is not lost. */
	if (ch->state != SIM_CH_ACCEPTED && ch->state != SIM_CH_BOOTING && !tx_message(c)) {
		ogw_call_free(c);
		return -ENOTCONN;
	}
	r = ogw_tracker_push(&ch->tracker, c);
	if (r < 0) {
		ch->fleet->stats.lost++;
		ogw_call_free(c);
	}
	return r;
}

static void heartbeat(lws_sorted_usec_list_t *sul)
{
	struct sim_charger *ch = lws_container_of(sul, struct sim_charger, sul_hb);

	if (ch->fleet->stopping || ch->state == SIM_CH_DONE)
		return;
	if (ch->state == SIM_CH_ACCEPTED && !ch->fleet->o->load) {
		sim_charger_call(ch, "Heartbeat", sim_msg_heartbeat());
		sim_charger_pump(ch);
	}
	lws_sul_schedule(ch->fleet->ctx, 0, &ch->sul_hb, heartbeat,
			 (lws_usec_t)sim_charger_us(ch, ch->hb_interval ? ch->hb_interval : 300));
}

static void boot_retry(lws_sorted_usec_list_t *sul)
{
	struct sim_charger *ch = lws_container_of(sul, struct sim_charger, sul_conn);

	if (ch->state == SIM_CH_BOOTING && !ch->fleet->stopping) {
		sim_charger_send_boot(ch);
		sim_charger_pump(ch);
	}
}

static void accepted(struct sim_charger *ch)
{
	struct sim_fleet *f = ch->fleet;
	bool first = !ch->ever_accepted;

	set_state(ch, SIM_CH_ACCEPTED);
	ch->rebooting = false;
	if (first) {
		ch->ever_accepted = true;
		f->accepted_now++;
	}
	lws_sul_schedule(f->ctx, 0, &ch->sul_hb, heartbeat,
			 (lws_usec_t)sim_charger_us(ch, ch->hb_interval));
	sim_session_resume(ch);
}

static void boot_answered(struct sim_charger *ch, const json_t *res)
{
	const char *status = json_string_value(json_object_get(res, "status"));
	json_int_t interval = json_integer_value(json_object_get(res, "interval"));

	if (status && !strcmp(status, "Accepted")) {
		if (interval > 0)
			ch->hb_interval = (unsigned int)interval;
		accepted(ch);
		return;
	}
	/* Pending or Rejected: try again after the interval given (1.6 §4.2). */
	lws_sul_schedule(ch->fleet->ctx, 0, &ch->sul_conn, boot_retry,
			 (lws_usec_t)sim_charger_us(ch, interval > 0 ? (double)interval : 10));
}

static void send_error(struct sim_charger *ch, const char *id, enum ogw_err e, const char *desc)
{
	size_t len;
	char *buf = ogw_rpc_encode_error(LWS_PRE, OGW_MSG_CALLERROR, id, ogw_err_code(e, ch->v),
					 desc, NULL, &len);

	sim_out_push(&ch->out, ch->wsi, buf, len);
}

static void handle_call(struct sim_charger *ch, const struct ogw_frame *fr)
{
	struct sim_fleet *f = ch->fleet;
	struct ogw_log_ctx lc = { .charger = ch->id, .action = fr->action, .msg_id = fr->id };
	struct ogw_schema_fault fault;
	enum ogw_err err = OGW_ERR_NONE;
	json_t *res = NULL;
	size_t len;
	char *buf;
	int r;

	f->stats.calls_answered++;
	r = sim_wire_check(ch->v, fr->action, false, fr->payload, &fault);
	if (r == -ENOENT) {
		send_error(ch, fr->id, OGW_ERR_NOT_IMPLEMENTED, "Unknown action");
		goto out;
	}
	if (r < 0) {
		ogw_warn(&lc, "Request from the CSMS fails its schema: %s", fault.desc);
		f->stats.schema_faults++;
		send_error(ch, fr->id, fault.err, fault.desc);
		goto out;
	}
	sim_answer(ch, fr->action, fr->payload, &res, &err);
	if (!res) {
		send_error(ch, fr->id, err, err == OGW_ERR_NOT_SUPPORTED ? "Not supported by the simulator" : "");
		goto out;
	}
	if (sim_wire_check(ch->v, fr->action, true, res, &fault) < 0) {
		ogw_err(&lc, "Own response fails its schema: %s", fault.desc);
		f->stats.schema_faults++;
	}
	buf = ogw_rpc_encode_result(LWS_PRE, fr->id, res, &len);
	sim_out_push(&ch->out, ch->wsi, buf, len);
out:
	json_decref(res);
}

static void handle_answer(struct sim_charger *ch, const struct ogw_frame *fr)
{
	struct sim_fleet *f = ch->fleet;
	struct ogw_schema_fault fault;
	struct ogw_call *c;
	uint64_t now = ogw_now_us();
	bool boot = false;

	if (ch->boot && !strcmp(ch->boot->id, fr->id)) {
		c = ch->boot;
		ch->boot = NULL;
		boot = true;
	} else {
		c = ogw_tracker_take_answered(&ch->tracker, fr->id);
	}
	struct ogw_log_ctx lc = { .charger = ch->id, .action = c ? c->action : NULL,
				  .msg_id = fr->id };
	if (!c) {
		ogw_debug(&lc, "Answer to no outstanding call");
		return;
	}
	bool measured = ch->sent_us >= f->measure_from_us;

	if (measured) {
		/* seconds of the load phase, or of the run outside load mode */
		uint64_t from = f->measure_from_us ? f->measure_from_us : f->t0_us;
		sim_stats_add_call(&f->stats, ch->sent_us - from, now - ch->sent_us);
		f->stats.last_answer_us = now;
	}
	if (fr->type != OGW_MSG_CALLRESULT) {
		ogw_warn(&lc, "CALLERROR %s: %s", fr->err_code, fr->err_desc ? fr->err_desc : "");
		f->stats.call_errors++;
		if (boot)
			lws_sul_schedule(f->ctx, 0, &ch->sul_conn, boot_retry,
					 (lws_usec_t)sim_charger_us(ch, 10));
	} else if (sim_wire_check(ch->v, c->action, true, fr->payload, &fault) < 0) {
		ogw_warn(&lc, "Response fails its schema: %s", fault.desc);
		f->stats.schema_faults++;
	} else {
		f->stats.calls_ok += measured;
		if (boot)
			boot_answered(ch, fr->payload);
		else
			sim_session_answer(ch, c->action, c->payload, fr->payload);
	}
	ogw_call_free(c);
}

static void handle_frame(struct sim_charger *ch, const char *buf, size_t len)
{
	struct ogw_frame fr;
	struct ogw_rpc_fault fault;

	if (ogw_log_enabled(OGW_LOG_DEBUG)) {
		struct ogw_log_ctx lc = { .charger = ch->id };

		ogw_debug(&lc, "< %.*s", (int)len, buf);
	}
	if (ogw_frame_decode(buf, len, ch->v, &fr, &fault) < 0) {
		struct ogw_log_ctx lc = { .charger = ch->id, .msg_id = fault.id };

		ogw_warn(&lc, "Bad frame from the CSMS: %s", fault.desc);
		ch->fleet->stats.schema_faults++;
		if (fault.reply)
			send_error(ch, fault.id, fault.err, fault.desc);
		return;
	}
	if (fr.type == OGW_MSG_CALL)
		handle_call(ch, &fr);
	else if (fr.type == OGW_MSG_CALLRESULT || fr.type == OGW_MSG_CALLERROR)
		handle_answer(ch, &fr);
	ogw_frame_release(&fr);
	sim_charger_pump(ch);
}

static void count_lost(struct ogw_call *c, void *arg)
{
	struct sim_charger *ch = arg;

	if (c->deadline_us != UINT64_MAX)
		ch->fleet->stats.timeouts++;
	ogw_call_free(c);
}

/* The connection is gone: the boot and any non-transaction call in flight
 * are lost; a transaction message in flight is sent again after reconnect. */
static void disconnected(struct sim_charger *ch)
{
	struct ogw_call *c = ch->tracker.outstanding;

	ch->wsi = NULL;
	sim_out_clear(&ch->out);
	sim_rx_clear(&ch->rx);
	ch->boot = ogw_call_free(ch->boot);
	lws_sul_cancel(&ch->sul_hb);
	if (c && !tx_message(c)) {
		c = ogw_tracker_take_answered(&ch->tracker, c->id);
		ch->fleet->stats.lost++;
		ogw_call_free(c);
	} else if (c) {
		c->deadline_us = UINT64_MAX;
	}
	if (ch->state == SIM_CH_DONE || ch->fleet->stopping) {
		set_state(ch, SIM_CH_DONE);
		ogw_tracker_drain(&ch->tracker, count_lost, ch);
		return;
	}
	schedule_reconnect(ch, ch->rebooting ? 500000 : 0);
}

void sim_charger_tick(struct sim_charger *ch, uint64_t now_us)
{
	struct ogw_call *c;

	if (ch->boot && ch->boot->deadline_us <= now_us) {
		ch->fleet->stats.timeouts++;
		ch->boot = ogw_call_free(ch->boot);
		lws_sul_schedule(ch->fleet->ctx, 0, &ch->sul_conn, boot_retry, 1);
	}
	while ((c = ogw_tracker_take_expired(&ch->tracker, now_us))) {
		struct ogw_log_ctx lc = { .charger = ch->id, .action = c->action, .msg_id = c->id };

		ogw_warn(&lc, "No answer within %.0f s", ch->fleet->o->timeout);
		ch->fleet->stats.timeouts++;
		ogw_call_free(c);
		sim_charger_pump(ch);
	}
}

static void close_now(lws_sorted_usec_list_t *sul)
{
	struct sim_charger *ch = lws_container_of(sul, struct sim_charger, sul_conn);

	if (ch->wsi)
		lws_set_timeout(ch->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

void sim_charger_reboot(struct sim_charger *ch, const char *reason)
{
	for (unsigned int i = 0; i < ch->fleet->o->evses; i++)
		sim_session_stop(&ch->evse[i], reason);
	ch->rebooting = true;
	/* Let the response and the stop messages go out first. */
	lws_sul_schedule(ch->fleet->ctx, 0, &ch->sul_conn, close_now, 300000);
}

void sim_charger_stop(struct sim_charger *ch)
{
	lws_sul_cancel(&ch->sul_conn);
	lws_sul_cancel(&ch->sul_hb);
	for (unsigned int i = 0; i < ch->fleet->o->evses; i++)
		lws_sul_cancel(&ch->evse[i].sul);
	set_state(ch, SIM_CH_DONE);
	if (ch->wsi)
		lws_set_timeout(ch->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
	else
		ogw_tracker_drain(&ch->tracker, count_lost, ch);
}

void sim_charger_fini(struct sim_charger *ch)
{
	ogw_tracker_drain(&ch->tracker, count_lost, ch);
	ch->boot = ogw_call_free(ch->boot);
	sim_out_clear(&ch->out);
	sim_rx_clear(&ch->rx);
	sim_profiles_free(&ch->profiles);
	sim_keys_free(ch);
}

void sim_charger_load_one(struct sim_charger *ch)
{
	struct sim_evse *e = &ch->evse[0];
	uint32_t r = sim_charger_rand(ch) % 100;
	const char *action = "Heartbeat";
	json_t *p;

	if (r < 20) {
		p = sim_msg_heartbeat();
	} else if (r < 40) {
		action = "StatusNotification";
		p = sim_msg_status(ch, e, 1);
	} else if (r < 90 && e->state == SIM_EVSE_CHARGING) {
		e->energy_wh += e->amps * SIM_VOLTS * ch->fleet->o->phases / 3600.0;
		p = sim_msg_tx_meter(ch, e, "Sample.Periodic", &action);
		e->seq_no++;
	} else {
		action = "Authorize";
		p = sim_msg_authorize(ch, e->id_tag);
	}
	sim_charger_call(ch, action, p);
	sim_charger_pump(ch);
}

int sim_charger_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
			 void *in, size_t len)
{
	struct sim_charger *ch = lws_get_opaque_user_data(wsi);
	const char *buf;
	size_t blen;
	int r;

	(void)user;
	if (!ch)
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	switch (reason) {
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
		if (ch->fleet->o->password) {
			unsigned char **p = in, *end = *p + len;
			char cred[256], b64[360], hdr[400];

			snprintf(cred, sizeof(cred), "%s:%s", ch->id, ch->fleet->o->password);
			lws_b64_encode_string(cred, (int)strlen(cred), b64, sizeof(b64));
			snprintf(hdr, sizeof(hdr), "Basic %s", b64);
			ogw_memzero(cred, sizeof(cred));
			if (lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_AUTHORIZATION,
							 (unsigned char *)hdr, (int)strlen(hdr), p, end))
				return -1;
		}
		break;
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		ch->wsi = wsi;
		ch->retries = 0;
		ch->fleet->stats.connects++;
		sim_hist_add(&ch->fleet->stats.connect, ogw_now_us() - ch->connect_us);
		if (ch->ever_accepted && !ch->rebooting) {
			accepted(ch);   /* no new boot after a mere drop (REFERENCE §1) */
		} else {
			set_state(ch, SIM_CH_BOOTING);
			sim_charger_send_boot(ch);
		}
		sim_charger_pump(ch);
		break;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		r = sim_rx_feed(&ch->rx, wsi, in, len, &buf, &blen);
		if (r < 0)
			return -1;
		if (r > 0)
			handle_frame(ch, buf, blen);
		break;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		return sim_out_write(&ch->out, wsi);
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
		struct ogw_log_ctx lc = { .charger = ch->id };

		ogw_debug(&lc, "Connection failed: %s", in ? (const char *)in : "");
		ch->fleet->stats.connect_failures++;
		lws_set_opaque_user_data(wsi, NULL);
		disconnected(ch);
		break;
	}
	case LWS_CALLBACK_CLIENT_CLOSED:
		if (ch->state != SIM_CH_DONE && !ch->fleet->stopping)
			ch->fleet->stats.disconnects++;
		lws_set_opaque_user_data(wsi, NULL);
		disconnected(ch);
		break;
	case LWS_CALLBACK_WSI_DESTROY:
		/* Some handshake failures end here without CONNECTION_ERROR. */
		lws_set_opaque_user_data(wsi, NULL);
		if (ch->wsi == wsi || ch->state == SIM_CH_CONNECTING) {
			ch->fleet->stats.connect_failures++;
			disconnected(ch);
		}
		break;
	default:
		break;
	}
	return 0;
}
