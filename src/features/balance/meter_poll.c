/* SPDX-License-Identifier: MIT */
/*
 * The polled grid meter: load_balancing.meter.modbus (Modbus TCP, libmodbus)
 * or meter.http (JSON over HTTP, libcurl). Each poll yields the three phase
 * currents (or powers, converted at the configured voltage) and hands them
 * to ogw_balance_set_meter(), which owns the headroom and the fail-safe; a
 * failed poll only logs, so silence brings the fail-safe by itself.
 *
 * Both libraries block (libmodbus on connect and on every answer, curl's
 * easy interface for a whole transfer), so each meter is polled on a thread
 * of its own beside the loop, which hands every result back through a
 * uv_async: the event loop never waits on a meter, however slow or dead.
 * One thread serves both sources, so Modbus and HTTP share the same hand-
 * over, timing and logging (curl's multi interface on the loop would have
 * needed a second path for the same job).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>
#include <modbus.h>
#include <uv.h>

#include "ocppgw/lb.h"
#include "ocppgw/log.h"
#include "ocppgw/loop.h"
#include "features/balance/balance.h"
#include "session/session.h"

#define HTTP_MAX_BODY (64 * 1024)  /* a meter's JSON; more is not a meter */

struct ogw_meter_poll {
	/* the loop's side only */
	struct ogw_gateway *gw;
	uv_async_t async;
	char logged[200];           /* the last failure logged, "" after a good poll */
	/* set before the thread starts, then read-only */
	struct ogw_meter_poll_conf conf;  /* deep copy: a reload may free the config */
	enum ogw_meter_source source;
	double voltage;
	char desc[300];             /* "modbus 127.0.0.1:1502 unit 1" / the URL */
	pthread_t thread;
	/* shared, under mu */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;                  /* the loop let go: no uv_async_send any more */
	int refs;                   /* the loop (until the async is closed) and the thread */
	bool fresh;                 /* a result the loop has not taken yet */
	bool ok;
	double amps[3];
	char err[200];
};

/* ---- the thread ------------------------------------------------------------- */

/* A phase's value as A: W (power) / voltage. */
static double to_amps(const struct ogw_meter_poll *mp, bool power, double v)
{
	return power ? v / mp->voltage : v;
}

static int modbus_poll(struct ogw_meter_poll *mp, modbus_t **ctx, double ret_a[3], char *err,
		       size_t errlen)
{
	const struct ogw_meter_regs *r = &mp->conf.regs;
	int words = ogw_lb_meter_words(r->type);
	char port[8];

	if (!*ctx) {
		uint32_t s = (uint32_t)mp->conf.timeout_s;
		uint32_t us = (uint32_t)((mp->conf.timeout_s - s) * 1e6);

		snprintf(port, sizeof(port), "%d", mp->conf.port);
		*ctx = mp->conf.device ?
		       modbus_new_rtu(mp->conf.device, mp->conf.baud, mp->conf.parity,
				      mp->conf.data_bits, mp->conf.stop_bits) :
		       modbus_new_tcp_pi(mp->conf.host, port);
		if (!*ctx) {
			snprintf(err, errlen, "%s", modbus_strerror(errno));
			return -1;
		}
		/* the connect waits this long too (libmodbus tcp connect) */
		modbus_set_response_timeout(*ctx, s, us);
		modbus_set_byte_timeout(*ctx, s, us);
		modbus_set_slave(*ctx, mp->conf.unit);
		if (modbus_connect(*ctx) < 0) {
			snprintf(err, errlen, "connect: %s", modbus_strerror(errno));
			goto drop;
		}
	}
	for (int k = 0; k < 3; k++) {
		uint16_t regs[2] = { 0, 0 };
		int n = r->input ? modbus_read_input_registers(*ctx, r->addr[k], words, regs)
				 : modbus_read_registers(*ctx, r->addr[k], words, regs);
		if (n != words) {
			snprintf(err, errlen, "L%d (register %d): %s", k + 1, r->addr[k],
				 n < 0 ? modbus_strerror(errno) : "short answer");
			goto drop;
		}
		if (ogw_lb_meter_decode(r, regs, &ret_a[k]) < 0) {
			if (words == 2)
				snprintf(err, errlen, "L%d (register %d): 0x%04x 0x%04x holds no "
					 "number", k + 1, r->addr[k], regs[0], regs[1]);
			else
				snprintf(err, errlen, "L%d (register %d): 0x%04x holds no number",
					 k + 1, r->addr[k], regs[0]);
			return -1;  /* the link is fine: keep it */
		}
		ret_a[k] = to_amps(mp, r->power, ret_a[k]);
	}
	return 0;
drop:
	/* a timed-out answer may still arrive: a new connection cannot mistake
	 * it for the next one */
	modbus_close(*ctx);
	modbus_free(*ctx);
	*ctx = NULL;
	return -1;
}

struct body {
	char *data;
	size_t len;
	bool too_long;
};

static size_t body_write(char *p, size_t size, size_t n, void *arg)
{
	struct body *b = arg;
	size_t add = size * n;
	char *grown;

	if (b->len + add > HTTP_MAX_BODY) {
		b->too_long = true;
		return 0;  /* curl stops the transfer */
	}
	grown = realloc(b->data, b->len + add + 1);
	if (!grown)
		return 0;
	memcpy(grown + b->len, p, add);
	b->data = grown;
	b->len += add;
	b->data[b->len] = '\0';
	return add;
}

static int http_poll(struct ogw_meter_poll *mp, CURL *curl, double ret_a[3], char *err,
		     size_t errlen)
{
	struct body b = { 0 };
	long status = 0;
	json_error_t jerr;
	json_t *root = NULL;
	CURLcode cr;
	int r = -1;

	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
	cr = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	if (b.too_long)
		snprintf(err, errlen, "answer larger than %d bytes", HTTP_MAX_BODY);
	else if (cr != CURLE_OK)
		snprintf(err, errlen, "%s", curl_easy_strerror(cr));
	else if (status != 200)
		snprintf(err, errlen, "HTTP status %ld", status);
	else if (!(root = json_loadb(b.data ? b.data : "", b.len, JSON_DECODE_ANY, &jerr)))
		snprintf(err, errlen, "not JSON (%s)", jerr.text);
	else
		r = 0;
	for (int k = 0; k < 3 && r == 0; k++) {
		const json_t *v = ogw_lb_json_pointer(root, mp->conf.pointer[k]);
		if (!json_is_number(v)) {
			snprintf(err, errlen, "L%d: no number at \"%s\"", k + 1, mp->conf.pointer[k]);
			r = -1;
		} else {
			ret_a[k] = to_amps(mp, mp->conf.http_power,
					   json_number_value(v) * mp->conf.http_scale);
		}
	}
	json_decref(root);
	free(b.data);
	return r;
}

static CURL *http_open(const struct ogw_meter_poll *mp)
{
	CURL *curl = curl_easy_init();
	long ms = (long)(mp->conf.timeout_s * 1000);

	if (!curl)
		return NULL;
	curl_easy_setopt(curl, CURLOPT_URL, mp->conf.url);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  /* a thread: no SIGALRM for DNS */
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, ms);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, ms);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, body_write);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "ocppgw-meter");
	return curl;
}

static void drop_ref(struct ogw_meter_poll *mp)
{
	int left;

	pthread_mutex_lock(&mp->mu);
	left = --mp->refs;
	pthread_mutex_unlock(&mp->mu);
	if (left)
		return;
	pthread_mutex_destroy(&mp->mu);
	pthread_cond_destroy(&mp->cv);
	free(mp->conf.host);
	free(mp->conf.device);
	free(mp->conf.url);
	for (int k = 0; k < 3; k++)
		free(mp->conf.pointer[k]);
	free(mp);
}

static void *poll_thread(void *arg)
{
	struct ogw_meter_poll *mp = arg;
	modbus_t *mb = NULL;
	CURL *curl = mp->source == OGW_METER_HTTP ? http_open(mp) : NULL;
	struct timespec due;

	clock_gettime(CLOCK_MONOTONIC, &due);
	for (;;) {
		double amps[3] = { 0, 0, 0 };
		char err[200] = "";
		int r;

		if (mp->source == OGW_METER_MODBUS) {
			r = modbus_poll(mp, &mb, amps, err, sizeof(err));
		} else if (curl) {
			r = http_poll(mp, curl, amps, err, sizeof(err));
		} else {
			snprintf(err, sizeof(err), "curl_easy_init failed");
			r = -1;
		}

		/* the next poll on a fixed beat, whatever this one took */
		due.tv_nsec += (long)((mp->conf.interval_s - (long)mp->conf.interval_s) * 1e9);
		due.tv_sec += (time_t)mp->conf.interval_s + due.tv_nsec / 1000000000;
		due.tv_nsec %= 1000000000;
		pthread_mutex_lock(&mp->mu);
		if (!mp->stop) {
			mp->ok = r == 0;
			memcpy(mp->amps, amps, sizeof(amps));
			snprintf(mp->err, sizeof(mp->err), "%s", err);
			mp->fresh = true;
			uv_async_send(&mp->async);
		}
		while (!mp->stop && pthread_cond_timedwait(&mp->cv, &mp->mu, &due) != ETIMEDOUT)
			;
		bool stop = mp->stop;
		pthread_mutex_unlock(&mp->mu);
		if (stop)
			break;
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > due.tv_sec + 1)
			due = now;  /* a poll that took many intervals: no burst to catch up */
	}
	if (mb) {
		modbus_close(mb);
		modbus_free(mb);
	}
	if (curl)
		curl_easy_cleanup(curl);
	drop_ref(mp);
	return NULL;
}

/* ---- the loop's side ----------------------------------------------------------- */

static void on_result(uv_async_t *a)
{
	struct ogw_meter_poll *mp = a->data;
	double amps[3];
	char err[200], why[160];
	bool ok, fresh;

	pthread_mutex_lock(&mp->mu);
	fresh = mp->fresh;
	ok = mp->ok;
	memcpy(amps, mp->amps, sizeof(amps));
	snprintf(err, sizeof(err), "%s", mp->err);
	mp->fresh = false;
	pthread_mutex_unlock(&mp->mu);
	if (!fresh)
		return;
	if (ok && ogw_balance_set_meter(mp->gw, amps, why, sizeof(why)) < 0) {
		ok = false;
		snprintf(err, sizeof(err), "reading ignored: %s", why);
	}
	/* log a failure when it starts or changes, not on every poll */
	if (ok && mp->logged[0]) {
		ogw_info(NULL, "load balancing: grid meter %s answers again", mp->desc);
		mp->logged[0] = '\0';
	} else if (!ok && strcmp(err, mp->logged)) {
		ogw_warn(NULL, "load balancing: grid meter %s: %s", mp->desc, err);
		snprintf(mp->logged, sizeof(mp->logged), "%s", err);
	}
}

static void async_closed(uv_handle_t *h)
{
	drop_ref(h->data);
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

struct ogw_meter_poll *ogw_meter_poll_start(struct ogw_gateway *gw)
{
	static bool curl_ready;
	const struct ogw_lb_conf *lb = gw->conf.lb;
	struct ogw_meter_poll *mp = calloc(1, sizeof(*mp));
	pthread_condattr_t ca;
	sigset_t all, old;
	int r = -ENOMEM;

	if (!mp)
		goto fail;
	mp->gw = gw;
	mp->source = lb->meter_source;
	mp->voltage = lb->voltage;
	mp->conf = lb->meter_poll;
	mp->conf.host = dup_or_null(lb->meter_poll.host);
	mp->conf.device = dup_or_null(lb->meter_poll.device);
	mp->conf.url = dup_or_null(lb->meter_poll.url);
	for (int k = 0; k < 3; k++)
		mp->conf.pointer[k] = dup_or_null(lb->meter_poll.pointer[k]);
	if (mp->source == OGW_METER_MODBUS && mp->conf.device)
		snprintf(mp->desc, sizeof(mp->desc), "modbus %s unit %d", mp->conf.device,
			 mp->conf.unit);
	else if (mp->source == OGW_METER_MODBUS)
		snprintf(mp->desc, sizeof(mp->desc), "modbus %s:%d unit %d", mp->conf.host,
			 mp->conf.port, mp->conf.unit);
	else
		snprintf(mp->desc, sizeof(mp->desc), "%s", mp->conf.url ? mp->conf.url : "?");
	/* curl_global_init is not thread-safe in every build: once, here, on
	 * the loop's thread, before any poller starts */
	if (mp->source == OGW_METER_HTTP && !curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			r = -EIO;
			goto fail_free;
		}
		curl_ready = true;
	}
	pthread_mutex_init(&mp->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&mp->cv, &ca);
	pthread_condattr_destroy(&ca);
	mp->refs = 2;
	mp->async.data = mp;
	r = uv_async_init(ogw_loop_uv(), &mp->async, on_result);
	if (r < 0) {
		r = -EIO;
		mp->refs = 1;
		drop_ref(mp);
		goto fail;
	}
	/* signals stay with the loop's thread: the poller starts with all blocked */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = -pthread_create(&mp->thread, NULL, poll_thread, mp);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r < 0) {
		mp->refs = 1;  /* the async's close takes the last one */
		uv_close((uv_handle_t *)&mp->async, async_closed);
		goto fail;
	}
	pthread_detach(mp->thread);
	ogw_info(NULL, "load balancing: grid meter %s, polled every %g s", mp->desc,
		 mp->conf.interval_s);
	return mp;
fail_free:
	free(mp->conf.host);
	free(mp->conf.device);
	free(mp->conf.url);
	for (int k = 0; k < 3; k++)
		free(mp->conf.pointer[k]);
	free(mp);
fail:
	ogw_err(NULL, "load balancing: Failed to start the grid meter poller: %s", strerror(-r));
	return NULL;
}

/* The thread may be inside a blocking call: it is told to stop, not
 * waited for; whichever of the two lets go last frees the poller. */
struct ogw_meter_poll *ogw_meter_poll_stop(struct ogw_meter_poll *mp)
{
	if (!mp)
		return NULL;
	pthread_mutex_lock(&mp->mu);
	mp->stop = true;
	pthread_cond_signal(&mp->cv);
	pthread_mutex_unlock(&mp->mu);
	uv_close((uv_handle_t *)&mp->async, async_closed);
	return NULL;
}

/* Whether @mp polls what @lb now describes. */
static bool same_meter(const struct ogw_meter_poll *mp, const struct ogw_lb_conf *lb)
{
	const struct ogw_meter_poll_conf *a = &mp->conf, *b = &lb->meter_poll;

	if (mp->source != lb->meter_source || mp->voltage != lb->voltage ||
	    a->interval_s != b->interval_s || a->timeout_s != b->timeout_s ||
	    a->port != b->port || a->unit != b->unit || a->regs.input != b->regs.input ||
	    a->regs.type != b->regs.type || a->regs.low_word_first != b->regs.low_word_first ||
	    a->regs.scale != b->regs.scale || a->regs.power != b->regs.power ||
	    memcmp(a->regs.addr, b->regs.addr, sizeof(a->regs.addr)) ||
	    a->http_scale != b->http_scale || a->http_power != b->http_power ||
	    a->baud != b->baud || a->parity != b->parity || a->data_bits != b->data_bits ||
	    a->stop_bits != b->stop_bits)
		return false;
	if (strcmp(a->host ? a->host : "", b->host ? b->host : "") ||
	    strcmp(a->device ? a->device : "", b->device ? b->device : "") ||
	    strcmp(a->url ? a->url : "", b->url ? b->url : ""))
		return false;
	for (int k = 0; k < 3; k++)
		if (strcmp(a->pointer[k] ? a->pointer[k] : "", b->pointer[k] ? b->pointer[k] : ""))
			return false;
	return true;
}

void ogw_meter_poll_follow(struct ogw_gateway *gw)
{
	const struct ogw_lb_conf *lb = gw->conf.lb && gw->conf.lb->enabled && gw->balance ?
					       gw->conf.lb : NULL;
	bool want = lb && gw->ctx && lb->meter_fuse_a >= 0 && lb->meter_source != OGW_METER_MQTT;

	if (gw->meter_poll && want && same_meter(gw->meter_poll, lb))
		return;
	gw->meter_poll = ogw_meter_poll_stop(gw->meter_poll);
	if (want)
		gw->meter_poll = ogw_meter_poll_start(gw);
}
