/* SPDX-License-Identifier: MIT */
/*
 * The fleet: one lws context and event loop for every simulated charger,
 * the connection ramp, the load-mode pacer (R messages/s across the fleet),
 * the end of the run and the report. The life of each charger is in
 * charger.c and session.c; this file only schedules them.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocppgw/log.h"
#include "ocppgw/loop.h"
#include "ocppgw/util.h"
#include "sim.h"

#define TICK_US        10000     /* ramp and phase changes */
#define SWEEP_US       250000    /* call deadlines */
#define LOAD_TICK_US   2000
#define GRACE_MAX_S    10.0      /* waiting for answers at the end */
#define CLOSE_MAX_US   3000000

enum phase { PH_RAMP, PH_RUN, PH_DRAIN, PH_CLOSE, PH_DONE };

static const struct lws_protocols protocols[] = {
	{ "ocpp-sim", sim_charger_callback, 0, 4096, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

static struct {
	enum phase phase;
	uint64_t phase_us, run_us, last_sweep_us;
} run;

static int parse_url(struct sim_fleet *f, const char *url)
{
	char buf[512];
	const char *prot, *ads, *path;
	int port;

	if (snprintf(buf, sizeof(buf), "%s", url) >= (int)sizeof(buf) ||
	    lws_parse_uri(buf, &prot, &ads, &port, &path))
		return -EINVAL;
	if (strcmp(prot, "ws") && strcmp(prot, "wss"))
		return -EINVAL;
	f->tls = !strcmp(prot, "wss");
	f->port = port;
	snprintf(f->host, sizeof(f->host), "%s", ads);
	snprintf(f->path, sizeof(f->path), "/%s", path);
	return 0;
}

/* Version of charger @i: the mix weights laid out in blocks over the fleet. */
static enum ogw_ocpp version_of(const struct sim_opts *o, unsigned int i)
{
	unsigned int total = 0, acc = 0;
	double pos;

	for (int v = 0; v < OGW_OCPP_COUNT; v++)
		total += o->mix[v];
	pos = ((double)i + 0.5) * total / o->count;
	for (int v = 0; v < OGW_OCPP_COUNT; v++) {
		acc += o->mix[v];
		if (pos < acc)
			return (enum ogw_ocpp)v;
	}
	return OGW_OCPP16;
}

static void set_phase(enum phase p)
{
	static const char *const names[] = { "ramp", "run", "drain", "close", "done" };

	ogw_debug(NULL, "fleet: %s -> %s", names[run.phase], names[p]);
	run.phase = p;
	run.phase_us = ogw_now_us();
}

static void load_tick(lws_sorted_usec_list_t *sul)
{
	struct sim_fleet *f = lws_container_of(sul, struct sim_fleet, sul_load);
	uint64_t now = ogw_now_us();
	const struct sim_opts *o = f->o;

	if (f->stopping)
		return;
	uint64_t t = ogw_loop_mark_start();
	f->load_credit += o->rate * (double)(now - f->load_last_us) / 1e6;
	f->load_last_us = now;
	if (f->load_credit > o->rate * 0.05 + 1)
		f->load_credit = o->rate * 0.05 + 1;   /* no catch-up bursts after a stall */
	while (f->load_credit >= 1) {
		struct sim_charger *ch = NULL;

		for (unsigned int tries = 0; tries < o->count && !ch; tries++) {
			struct sim_charger *c = &f->ch[f->load_next++ % o->count];

			if (c->state == SIM_CH_ACCEPTED)
				ch = c;
		}
		if (!ch)
			break;
		sim_charger_load_one(ch);
		f->load_credit -= 1;
	}
	ogw_loop_mark("load pacer", t);
	lws_sul_schedule(f->ctx, 0, &f->sul_load, load_tick, LOAD_TICK_US);
}

static void start_load(struct sim_fleet *f)
{
	/* Boot traffic is not part of the measured mix: answers to calls sent
	 * before now are not counted (charger.c checks measure_from_us). */
	memset(&f->stats.rtt, 0, sizeof(f->stats.rtt));
	memset(f->stats.sec, 0, sizeof(f->stats.sec));
	f->stats.n_sec = 0;
	f->stats.calls_ok = f->stats.calls_sent = 0;
	f->stats.first_send_us = f->stats.last_answer_us = 0;
	f->measure_from_us = ogw_now_us();
	f->load_last_us = ogw_now_us();
	lws_sul_schedule(f->ctx, 0, &f->sul_load, load_tick, LOAD_TICK_US);
	/* bench/ watches for this line to sample the proxy under load. */
	fprintf(stderr, "load: %u of %u chargers accepted, sending %.0f/s for %.0f s (from %.3f s)\n",
		f->accepted_now, f->o->count, f->o->rate, f->o->duration,
		(double)f->measure_from_us / 1e6);
}

static bool all_idle(const struct sim_fleet *f)
{
	for (unsigned int i = 0; i < f->o->count; i++) {
		const struct sim_charger *ch = &f->ch[i];

		if (ch->wsi && (ch->boot || ogw_tracker_count(&ch->tracker)))
			return false;
	}
	return true;
}

static bool all_closed(const struct sim_fleet *f)
{
	for (unsigned int i = 0; i < f->o->count; i++)
		if (f->ch[i].wsi)
			return false;
	return true;
}

static void tick(lws_sorted_usec_list_t *sul)
{
	struct sim_fleet *f = lws_container_of(sul, struct sim_fleet, sul_tick);
	const struct sim_opts *o = f->o;
	uint64_t now = ogw_now_us();
	double in_phase = (double)(now - run.phase_us) / 1e6;

	if (now - run.last_sweep_us >= SWEEP_US) {
		uint64_t t = ogw_loop_mark_start();
		run.last_sweep_us = now;
		for (unsigned int i = 0; i < o->count; i++)
			sim_charger_tick(&f->ch[i], now);
		ogw_loop_mark("deadline sweep", t);
	}
	if (sim_interrupted && run.phase < PH_DRAIN) {
		f->stopping = true;
		set_phase(PH_DRAIN);
	}
	switch (run.phase) {
	case PH_RAMP: {
		unsigned int want = o->ramp > 0 ? (unsigned int)fmin(o->count, in_phase * o->ramp + 1) :
			o->count;

		while (f->started < want)
			sim_charger_start(&f->ch[f->started]);
		/* Load mode measures once everyone is in and has sent what it
		 * sends after boot (its status, its transaction's start), or
		 * has had its chance: otherwise the measured phase begins with
		 * the tail of the ramp, thousands of connects and boots still
		 * in flight, and its latency is the ramp's, not the load's. */
		if (f->started == o->count &&
		    (!o->load || (f->accepted_now == o->count && all_idle(f)) ||
		     in_phase > o->count / fmax(o->ramp, 1) + o->timeout)) {
			set_phase(PH_RUN);
			run.run_us = now;
			if (o->load)
				start_load(f);
		}
		break;
	}
	case PH_RUN:
		if ((double)(now - (o->load ? run.run_us : f->t0_us)) / 1e6 >= o->duration) {
			f->stopping = true;
			f->stop_us = now;
			set_phase(PH_DRAIN);
		}
		break;
	case PH_DRAIN:
		if (!f->stop_us)
			f->stop_us = now;
		if (all_idle(f) || in_phase > fmin(o->timeout, GRACE_MAX_S)) {
			for (unsigned int i = 0; i < o->count; i++)
				sim_charger_stop(&f->ch[i]);
			set_phase(PH_CLOSE);
		}
		break;
	case PH_CLOSE:
		if (all_closed(f) || now - run.phase_us > CLOSE_MAX_US) {
			set_phase(PH_DONE);
			ogw_loop_stop();
			return;
		}
		break;
	case PH_DONE:
		return;
	}
	lws_sul_schedule(f->ctx, 0, &f->sul_tick, tick, TICK_US);
}

int sim_fleet_run(const struct sim_opts *o)
{
	struct lws_context_creation_info info = { 0 };
	struct sim_fleet f = { .o = o };
	struct sim_evse *evses = NULL;
	double elapsed;
	int r;

	r = parse_url(&f, o->url);
	if (r < 0) {
		fprintf(stderr, "Bad --url %s: want ws://HOST:PORT/PATH or wss://...\n", o->url);
		goto out;
	}
	f.ch = calloc(o->count, sizeof(*f.ch));
	evses = calloc((size_t)o->count * o->evses, sizeof(*evses));
	if (!f.ch || !evses) {
		r = -ENOMEM;
		goto out;
	}
	for (unsigned int i = 0; i < o->count; i++) {
		f.ch[i].evse = &evses[(size_t)i * o->evses];
		f.ch[i].v = version_of(o, i);
		sim_charger_init(&f.ch[i], &f, i);
	}
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.count_threads = 1;
	info.fd_limit_per_thread = sim_fd_limit();
	info.pt_serv_buf_size = 8192;
	info.timeout_secs = (unsigned int)fmax(o->timeout, 5);
	if (f.tls) {
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		info.client_ssl_ca_filepath = o->ca;
	}
	r = ogw_loop_init(&info, sim_on_loop_signal);
	if (r < 0)
		goto out;
	f.ctx = lws_create_context(&info);
	if (!f.ctx) {
		fprintf(stderr, "Failed to create the lws context\n");
		r = -ENOMEM;
		goto out;
	}
	f.t0_us = ogw_now_us();
	run.phase = PH_RAMP;
	run.phase_us = run.last_sweep_us = f.t0_us;
	lws_sul_schedule(f.ctx, 0, &f.sul_tick, tick, 1);
	ogw_loop_run();
	/* Transfers hold loop handles: closed while the loop still turns. */
	for (unsigned int i = 0; i < o->count; i++)
		sim_files_stop(&f.ch[i]);
	sim_files_shutdown();
	ogw_loop_fini(f.ctx);
	elapsed = (double)(f.stop_us - (o->load ? run.run_us : f.t0_us)) / 1e6;
	for (unsigned int i = 0; i < o->count; i++)
		sim_charger_fini(&f.ch[i]);
	sim_stats_report(&f.stats, o, f.accepted_now, elapsed, o->json);
	r = sim_stats_errors(&f.stats) || f.accepted_now < o->count ? 1 : 0;
out:
	free(evses);
	free(f.ch);
	return r;
}
