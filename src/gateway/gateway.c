/* SPDX-License-Identifier: MIT */
/*
 * The gateway object: one lws context and event loop thread carrying the
 * south listener, the north client vhost and every timer; signal handling
 * (stop, reload) folded into that loop; the configuration it runs on; the
 * MQTT uplink's broker connection when the CSMS URL is mqtt(s)://.
 * Per-frame work lives in session.c.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>

#include <libwebsockets.h>

#include "ocppgw/log.h"
#include "ocppgw/loop.h"
#include "ocppgw/util.h"
#include "features/admin/admin_door.h"
#include "features/balance/balance.h"
#include "features/certs/certs.h"
#include "features/credentials/credentials.h"
#include "features/events/events.h"
#include "features/history/history.h"
#include "features/files/files.h"
#include "features/metrics/metrics.h"
#include "features/multi/multi.h"
#include "features/offline/offline.h"
#include "features/security/security.h"
#include "features/state/state.h"
#include "session/session.h"
#include "transport/door.h"
#include "transport/tls.h"
#include "transport/transport.h"

/* Set from signal handlers, read on the loop after lws_cancel_service(). */
static volatile sig_atomic_t sig_stop, sig_reload;
static struct lws_context *sig_ctx;
static struct ogw_gateway *sig_gw;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		sig_reload = 1;
	else
		sig_stop = 1;
	if (sig_ctx)
		lws_cancel_service(sig_ctx);
}

static void lws_log_emit(int level, const char *line)
{
	size_t n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	ogw_log(level == LLL_ERR ? OGW_LOG_WARN : OGW_LOG_DEBUG, NULL, "lws: %.*s", (int)n, line);
}

/* While stopping: close each session as soon as it has no call in flight,
 * and everything once the grace period is over. */
static void stop_tick(lws_sorted_usec_list_t *sul)
{
	struct ogw_gateway *gw = lws_container_of(sul, struct ogw_gateway, sul_stop);
	uint64_t now = ogw_now_us();
	bool late = now >= gw->stop_deadline_us;

	ogw_session_close_all(gw, LWS_CLOSE_STATUS_GOINGAWAY, !late);
	if (!gw->n_sessions || now >= gw->stop_deadline_us + 2000000) {
		gw->done = true;
		ogw_loop_stop();
		return;
	}
	lws_sul_schedule(gw->ctx, 0, &gw->sul_stop, stop_tick, 20 * LWS_US_PER_MS);
}

static void begin_stop(struct ogw_gateway *gw)
{
	if (gw->stopping)
		return;
	gw->stopping = true;
	uint64_t grace_ms = (uint64_t)gw->conf.response_timeout_ms;
	if (grace_ms > 10000)
		grace_ms = 10000;
	gw->stop_deadline_us = ogw_now_us() + grace_ms * 1000;
	ogw_info(NULL, "stopping: %zu charger(s) connected", gw->n_sessions);
	stop_tick(&gw->sul_stop);
}

/* SIGHUP: a fresh configuration replaces the running one. The charger list,
 * credentials, timeouts and logging apply at once; a charger taken off the
 * list is disconnected. Listener, TLS and CSMS address need a restart. */
static void reload(struct ogw_gateway *gw)
{
	struct ogw_conf nc;
	if (!gw->reload || gw->reload(&nc, gw->reload_arg) < 0) {
		ogw_err(NULL, "reload failed: keeping the running configuration");
		return;
	}
	if (!ogw_str_same(nc.listen_addr, gw->conf.listen_addr) ||
	    nc.listen_port != gw->conf.listen_port || !ogw_str_same(nc.csms_url, gw->conf.csms_url) ||
	    !ogw_str_same(nc.tls_cert, gw->conf.tls_cert) || !ogw_str_same(nc.tls_key, gw->conf.tls_key) ||
	    !ogw_str_same(nc.csms_ca, gw->conf.csms_ca) || !ogw_str_same(nc.path_prefix, gw->conf.path_prefix) ||
	    !ogw_str_same(nc.tls_crl, gw->conf.tls_crl) ||
	    !ogw_str_same(nc.data_dir, gw->conf.data_dir) ||
	    nc.tls_floor.min_version != gw->conf.tls_floor.min_version ||
	    !ogw_str_same(nc.tls_floor.ciphers, gw->conf.tls_floor.ciphers) ||
	    nc.csms_tls_floor.min_version != gw->conf.csms_tls_floor.min_version ||
	    !ogw_str_same(nc.csms_tls_floor.ciphers, gw->conf.csms_tls_floor.ciphers) ||
	    nc.profiles != gw->conf.profiles || nc.n_listeners != gw->conf.n_listeners ||
	    !ogw_str_same(nc.files_addr, gw->conf.files_addr) || nc.files_port != gw->conf.files_port ||
	    !ogw_str_same(nc.files_public_url, gw->conf.files_public_url) ||
	    !ogw_str_same(nc.files_cert, gw->conf.files_cert) ||
	    !ogw_str_same(nc.files_key, gw->conf.files_key))
		ogw_warn(NULL, "listen, listeners, profiles, path_prefix, tls, data_dir, csms "
			 "address and files.listen/public_url changes apply after a restart, as do "
			 "files.cert and files.key");
	if (!ogw_str_same(nc.files_ftp_addr, gw->conf.files_ftp_addr) ||
	    nc.files_ftp_port != gw->conf.files_ftp_port ||
	    !ogw_str_same(nc.files_ftp_public_url, gw->conf.files_ftp_public_url) ||
	    !ogw_str_same(nc.files_ftp_masquerade, gw->conf.files_ftp_masquerade) ||
	    !ogw_str_same(nc.files_ftp_server, gw->conf.files_ftp_server) ||
	    nc.files_ftp_pasv_first != gw->conf.files_ftp_pasv_first ||
	    nc.files_ftp_pasv_last != gw->conf.files_ftp_pasv_last)
		ogw_warn(NULL, "files.ftp changes (but for files.ftp.uploads) apply after a restart");
	/* The store stays where it was opened. */
	char *keep_dir = nc.data_dir;
	nc.data_dir = gw->conf.data_dir;
	gw->conf.data_dir = keep_dir;
	/* Keep what is bound to sockets already; take the rest. */
	char *keep[] = { nc.listen_addr, nc.csms_url, nc.path_prefix, nc.tls_identity };
	nc.listen_addr = gw->conf.listen_addr;
	nc.csms_url = gw->conf.csms_url;
	nc.path_prefix = gw->conf.path_prefix;
	nc.tls_identity = gw->conf.tls_identity;  /* its session is open under it */
	nc.listen_port = gw->conf.listen_port;
	gw->conf.listen_addr = keep[0];
	gw->conf.csms_url = keep[1];
	gw->conf.path_prefix = keep[2];
	gw->conf.tls_identity = keep[3];
	struct ogw_conf old = gw->conf;
	gw->conf = nc;
	ogw_session_csms_reconfigured(gw);
	ogw_conf_clear(&old);
	ogw_log_setup(gw->conf.log_level, gw->conf.log_json);
	ogw_balance_reconfigured(gw);
	ogw_limit_mqtt_follow(gw);
	ogw_meter_poll_follow(gw);

	size_t dropped = 0;
	if (gw->conf.n_chargers) {
		for (size_t i = 0; i < gw->table_size; i++) {
			struct ogw_session *s = gw->table[i], *next;
			for (; s; s = next) {
				next = s->hnext;
				if (!s->own && !ogw_conf_charger(&gw->conf, s->id)) {
					ogw_session_close(s, LWS_CLOSE_STATUS_POLICY_VIOLATION,
							  "no longer in the charger list");
					dropped++;
				}
			}
		}
	}
	ogw_info(NULL, "configuration reloaded: %zu charger(s) listed, %zu disconnected",
		 gw->conf.n_chargers, dropped);
}

static void gateway_signalled(struct ogw_gateway *gw)
{
	if (sig_reload) {
		sig_reload = 0;
		reload(gw);
	}
	if (sig_stop)
		begin_stop(gw);
}

static int load_schemas(struct ogw_gateway *gw)
{
	for (int v = 0; v < OGW_OCPP_COUNT; v++) {
		char err[512] = "";
		int r;
		if (gw->conf.schema_dir) {
			char dir[4096];
			snprintf(dir, sizeof(dir), "%s/%s", gw->conf.schema_dir,
				 ogw_ocpp_name((enum ogw_ocpp)v));
			r = ogw_schema_set_load_dir(dir, &gw->schemas[v], err, sizeof(err));
		} else {
			r = ogw_schema_set_load_builtin((enum ogw_ocpp)v, &gw->schemas[v], err,
							sizeof(err));
		}
		if (r < 0) {
			ogw_err(NULL, "Failed to load OCPP %s schemas: %s",
				ogw_ocpp_name((enum ogw_ocpp)v), err);
			return r;
		}
		ogw_debug(NULL, "OCPP %s: %zu actions", ogw_ocpp_name((enum ogw_ocpp)v),
			  ogw_schema_set_actions(gw->schemas[v]));
	}
	return 0;
}

static unsigned int raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 1024;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur > 1048576 ? 1048576 : (unsigned int)rl.rlim_cur;
}

/* The charger listeners' upgrade rules, the lws vhosts' users: `listen`
 * first, then `listeners` in order. One gateway per process (as sig_gw). */
static struct ogw_south_door *doors;
static size_t n_doors;

/* Opens one charger listener: its sockets (@sock), its vhost, its rules. */
static int open_door(struct ogw_gateway *gw, struct ogw_south_door *d, struct ogw_listener *sock,
		     const struct ogw_listener_conf *lc, size_t idx)
{
	struct lws_context_creation_info vi;
	char err[256], where[OGW_LISTEN_MAX_ADDRS * 64], name[32];

	int r = ogw_listen_open(sock, lc->addr, lc->port, err, sizeof(err));
	if (r < 0) {
		ogw_err(NULL, "Failed to listen for chargers (%s = %s:%d): %s", d->what, lc->addr,
			lc->port, err);
		return r;
	}
	d->tls = lc->tls_cert != NULL;
	d->profiles = ogw_conf_profiles(lc->profiles, d->tls, lc->tls_require_client_cert);
	/* Profile 3 without 2 means every charger here shows a certificate;
	 * with 2, a certificate is asked for but may be missing. Without
	 * `profiles`, tls.require_client_cert alone decides, as it always did. */
	d->require_cert = lc->tls_require_client_cert ||
			  (lc->profiles && d->profiles == (1u << 3));
	d->optional_cert = !d->require_cert && lc->profiles && (lc->profiles & (1u << 3));
	d->crl = lc->tls_crl;
	memset(&vi, 0, sizeof(vi));
	snprintf(name, sizeof(name), idx ? "south-%zu" : "south", idx);
	vi.vhost_name = name;
	vi.port = CONTEXT_PORT_NO_LISTEN_SERVER;  /* listen.c owns the sockets */
	vi.protocols = ogw_south_protocols;
	vi.user = d;
	if (d->tls) {
		vi.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		vi.ssl_cert_filepath = lc->tls_cert;
		vi.ssl_private_key_filepath = lc->tls_key;
		vi.ssl_ca_filepath = lc->tls_ca;
		/* lws loads the CA and verifies only with this option; an
		 * optional certificate is relaxed in south.c's
		 * LOAD_EXTRA_SERVER_VERIFY_CERTS */
		if (d->require_cert || d->optional_cert)
			vi.options |= LWS_SERVER_OPTION_REQUIRE_VALID_OPENSSL_CLIENT_CERT;
		ogw_tls_floor_server(&vi, &lc->tls_floor);
	}
	d->vh = lws_create_vhost(gw->ctx, &vi);
	if (!d->vh) {
		ogw_err(NULL, "Failed to set up the charger listener %s%s", d->what, d->tls ?
			" (tls.cert, tls.key, tls.ca or tls.crl not usable: see the line above)" : "");
		ogw_listen_close(sock);
		return -EINVAL;
	}
	ogw_listen_start(sock, d->vh, NULL,
			 LWS_ADOPT_SOCKET | LWS_ADOPT_HTTP | LWS_ADOPT_ALLOW_SSL, "charger");
	ogw_listen_describe(sock, "", "", where, sizeof(where));
	char prof[16] = "";
	for (int p = 1; p <= 3; p++)
		if (d->profiles & (1u << p))
			snprintf(prof + strlen(prof), sizeof(prof) - strlen(prof), "%s%d",
				 prof[0] ? "," : "", p);
	if (d->tls)
		ogw_info(NULL, "listening on %s (wss, TLS %s or later, profiles %s)", where,
			 ogw_tls_version_name(lc->tls_floor.min_version), prof);
	else
		ogw_info(NULL, "listening on %s (ws, profiles %s)", where, prof);
	return 0;
}

static int create_vhosts(struct ogw_gateway *gw)
{
	const struct ogw_conf *c = &gw->conf;

	/* Every other door before the south listener: its "listening on" line
	 * means ready, so a port taken elsewhere fails the start before it. */
	int r = ogw_admin_start(gw);
	if (r == 0)
		r = ogw_files_start(gw);
	if (r < 0)
		return r;
	doors = calloc(c->n_listeners + 1, sizeof(*doors));
	if (!doors)
		return -ENOMEM;
	n_doors = c->n_listeners + 1;
	ogw_south_doors_set(doors, n_doors);
	/* `listeners` first: `listen`'s line is the one that means ready */
	for (size_t i = 0; i < c->n_listeners; i++) {
		snprintf(doors[i + 1].what, sizeof(doors[i + 1].what), "listeners[%zu] (%s)", i,
			 c->listeners[i].listen);
		r = open_door(gw, &doors[i + 1], &doors[i + 1].listen, &c->listeners[i], i + 1);
		if (r < 0)
			return r;
	}
	const struct ogw_listener_conf main_conf = {
		.addr = c->listen_addr, .port = c->listen_port, .profiles = c->profiles,
		.tls_cert = c->tls_cert, .tls_key = c->tls_key, .tls_ca = c->tls_ca, .tls_crl = c->tls_crl,
		.tls_require_client_cert = c->tls_require_client_cert, .tls_floor = c->tls_floor,
	};
	snprintf(doors[0].what, sizeof(doors[0].what), "listen");
	r = open_door(gw, &doors[0], &gw->south_listen, &main_conf, 0);
	if (r < 0)
		return r;
	gw->south_vh = doors[0].vh;

	gw->north_vh = ogw_north_vhost_create(gw, "north", c->csms_ca, c->csms_cert, c->csms_key);
	if (!gw->north_vh) {
		ogw_err(NULL, "Failed to set up the CSMS client (TLS files?)");
		return -EINVAL;
	}
	if (c->csms_url)
		ogw_info(NULL, "relaying to %s", c->csms_url);
	else
		ogw_info(NULL, "standalone: no CSMS configured, the gateway answers chargers itself");
	if (c->ping_interval_s > 0)
		lws_sul_schedule(gw->ctx, 0, &gw->sul_keepalive, ogw_gateway_keepalive,
				 (lws_usec_t)c->ping_interval_s * LWS_US_PER_SEC);
	return 0;
}

/* After every poll: the iteration's store writes become durable before the
 * frames they allowed go out (the session holds those back meanwhile). */
static void commit_due(struct ogw_gateway *gw)
{
	if (!ogw_store_commit_due(gw->store))
		return;
	bool held = ogw_store_uncommitted(gw->store);
	uint64_t t = ogw_loop_mark_start();
	int r = ogw_store_commit(gw->store);
	ogw_loop_mark(held ? "store commit (frames held)" : "store commit (log only)", t);
	if (r < 0)
		ogw_offline_commit_failed(gw, r);
}

static void commit_store(uv_check_t *h)
{
	commit_due(h->data);
}

/* Log writes hold no frame back and wait for a busier iteration, or for
 * this tick on an idle loop: `ocppgw sessions` lags a second at most. */
static void commit_tick(uv_timer_t *t)
{
	commit_due(t->data);
}

/* The signals lws watches on the loop arrive here, on the loop thread. */
static void loop_signal(int sig)
{
	on_signal(sig);
	if (sig_gw)
		gateway_signalled(sig_gw);
}

/* Installed before the listener exists, so a stop signal sent as soon as
 * "listening on" is logged is never fatal. */
static void catch_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/*
 * The pipeline, in order: every hook of every stage runs top to bottom.
 * Offline comes first (it answers or takes what the CSMS cannot get now,
 * and maps ids before anything reads them); the charger state observes
 * before the balancer, which reads it; metrics count, then events record
 * (read-only, so their place changes no frame). Files comes last: it
 * rewrites firmware and log locations only once offline has let the CALL
 * through.
 */
static const struct ogw_stage *const pipeline[] = {
	&ogw_multi_stage,        /* features/multi: a secondary CSMS's CALLs on its allow list only */
	&ogw_offline_stage,      /* features/offline: local answers, queue, replay, id maps, tx log */
	&ogw_state_stage,        /* features/state: what the charger reported */
	&ogw_history_stage,      /* features/history: a minute of chart samples */
	&ogw_multi_smart_stage,  /* features/multi: several CSMSs' charging profiles, combined */
	&ogw_balance_stage,      /* features/balance: site load balancing */
	&ogw_credentials_stage,  /* features/credentials: passwords the CSMS changed */
	&ogw_certs_stage,        /* features/certs: the chargers' north certificates */
	&ogw_metrics_stage,      /* features/metrics: counters for /metrics */
	&ogw_events_stage,       /* features/events: the operator's event log */
	&ogw_files_stage,        /* features/files: firmware through the gateway */
	&ogw_logs_stage,         /* features/files: logs through the gateway */
	&ogw_rollout_stage,      /* features/files: the operator's firmware rollouts */
};

static int pipeline_build(struct ogw_gateway *gw)
{
	for (size_t i = 0; i < sizeof(pipeline) / sizeof(pipeline[0]); i++) {
		int r = ogw_pipeline_add(&gw->pipeline, pipeline[i]);
		if (r < 0)
			return r;
	}
	return ogw_metrics_init(gw);
}

int ogw_gateway_new(struct ogw_conf *conf, ogw_gateway_reload_fn reload_fn, void *reload_arg,
		    struct ogw_gateway **ret)
{
	struct ogw_gateway *gw = calloc(1, sizeof(*gw));
	int r;
	if (!gw)
		return -ENOMEM;
	gw->conf = *conf;
	memset(conf, 0, sizeof(*conf));
	gw->reload = reload_fn;
	gw->reload_arg = reload_arg;
	gw->woken = gateway_signalled;

	const char *url = gw->conf.csms_url ? gw->conf.csms_url : "";
	bool mqtt = !strncasecmp(url, "mqtt://", 7) || !strncasecmp(url, "mqtts://", 8);
	gw->south_tp = &ogw_ws_transport;
	gw->north_tp = mqtt ? &ogw_mqtt_transport : &ogw_ws_north_transport;
	gw->secondary_tp = &ogw_ws_north_transport;
	gw->secondary_mqtt_tp = &ogw_mqtt_transport;
	r = mqtt || !gw->conf.csms_url ? 0 : ogw_north_parse_url(gw, url);
	if (r < 0) {
		ogw_err(NULL, "csms url '%s': expected ws://host[:port]/path or wss://...",
			gw->conf.csms_url ? gw->conf.csms_url : "");
		goto fail;
	}
	r = load_schemas(gw);
	if (r < 0)
		goto fail;
	r = pipeline_build(gw);
	if (r < 0)
		goto fail;
	char err[512] = "";
	r = ogw_store_open(gw->conf.data_dir, &gw->store, err, sizeof(err));
	if (r < 0) {
		ogw_err(NULL, "Failed to open the store: %s", err);
		goto fail;
	}
	static const char *const origins[] = {
		[OGW_STORE_EXISTING] = "",
		[OGW_STORE_CREATED] = ": new store",
		[OGW_STORE_WAS_EMPTY] = ": new store (the file was empty)",
	};
	ogw_info(NULL, "store %s/ocppgw.db (schema %d)%s", gw->conf.data_dir,
		 ogw_store_schema_version(gw->store), origins[ogw_store_origin(gw->store)]);
	if (gw->conf.store_max_size) {
		r = ogw_store_set_max_size(gw->store, gw->conf.store_max_size);
		if (r < 0) {
			ogw_err(NULL, "Failed to set store_max_size: %s", strerror(-r));
			goto fail;
		}
	}
	ogw_store_set_batching(gw->store, true);
	/* The loop never waits for a sync nothing is held for, nor for a
	 * checkpoint (issue 19). */
	r = ogw_store_sync_in_background(gw->store);
	if (r < 0)
		ogw_warn(NULL, "store: Failed to start its sync thread (%s): the event loop syncs "
			 "and checkpoints itself", strerror(-r));

	lws_set_log_level(ogw_log_enabled(OGW_LOG_DEBUG) ? LLL_ERR | LLL_WARN : LLL_ERR,
			  lws_log_emit);
	struct lws_context_creation_info ci;
	memset(&ci, 0, sizeof(ci));
	ci.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	ci.count_threads = 1;
	ci.fd_limit_per_thread = raise_nofile();
	ci.user = gw;
	catch_signals();
	r = ogw_random_start();
	if (r < 0) {
		ogw_err(NULL, "Failed to read random bytes from the kernel: %s", strerror(-r));
		goto fail;
	}
	r = ogw_loop_init(&ci, loop_signal);
	if (r < 0) {
		ogw_err(NULL, "Failed to create the event loop: %s", uv_strerror(r));
		goto fail;
	}
	gw->loop_ready = true;
	gw->ctx = lws_create_context(&ci);
	sig_ctx = gw->ctx;
	sig_gw = gw;
	if (!gw->ctx) {
		ogw_err(NULL, "Failed to create the event loop");
		r = -ENOMEM;
		goto fail;
	}
	r = create_vhosts(gw);
	if (r < 0)
		goto fail;
	if (gw->north_tp == &ogw_mqtt_transport) {
		r = ogw_north_mqtt_start(gw);
		if (r < 0)
			goto fail;
	}
	r = ogw_balance_init(gw);
	if (r < 0)
		goto fail;
	ogw_limit_mqtt_follow(gw);
	ogw_meter_poll_follow(gw);
	r = ogw_history_start(gw);
	if (r < 0)
		goto fail;
	r = ogw_files_logs_start(gw);
	if (r < 0)
		goto fail;
	r = ogw_fw_start(gw);
	if (r < 0)
		goto fail;
	ogw_rollout_restore(gw);
	uv_check_init(ogw_loop_uv(), &gw->store_commit);
	gw->store_commit.data = gw;
	uv_check_start(&gw->store_commit, commit_store);
	uv_timer_init(ogw_loop_uv(), &gw->store_tick);
	gw->store_tick.data = gw;
	uv_timer_start(&gw->store_tick, commit_tick, OGW_STORE_LAZY_MS, OGW_STORE_LAZY_MS);
	gw->store_commit_on = true;
	ogw_offline_restore(gw);
	ogw_certs_own_start(gw);
	*ret = gw;
	return 0;
fail:
	ogw_gateway_free(gw);
	return r;
}

int ogw_gateway_run(struct ogw_gateway *gw)
{
	/* A signal that came before the loop ran is handled here; later ones
	 * wake the loop through lws_cancel_service(). */
	if (sig_stop || sig_reload)
		gateway_signalled(gw);
	if (!gw->done)
		ogw_loop_run();
	ogw_info(NULL, "stopped");
	return 0;
}

struct ogw_gateway *ogw_gateway_free(struct ogw_gateway *gw)
{
	if (!gw)
		return NULL;
	gw->limit_mqtt = ogw_limit_mqtt_stop(gw->limit_mqtt);
	gw->meter_poll = ogw_meter_poll_stop(gw->meter_poll);
	ogw_balance_free(gw);  /* its timer lives in the context */
	ogw_security_free(gw); /* and these */
	ogw_tls_server_own_free();
	ogw_history_stop(gw);
	ogw_rollout_stop(gw);
	ogw_fw_stop(gw);
	ogw_files_stop(gw);
	if (gw->store_commit_on) {
		uv_check_stop(&gw->store_commit);
		uv_close((uv_handle_t *)&gw->store_commit, NULL);
		uv_timer_stop(&gw->store_tick);
		uv_close((uv_handle_t *)&gw->store_tick, NULL);
	}
	ogw_listen_close(&gw->south_listen);
	for (size_t i = 1; i < n_doors; i++)
		ogw_listen_close(&doors[i].listen);
	ogw_listen_close(&gw->admin_listen);
	if (gw->loop_ready) {
		/* Sessions still open (a hard stop) go down with the context. */
		sig_ctx = NULL;
		sig_gw = NULL;
		gw->stopping = true;
		ogw_north_mqtt_stop(gw);
		ogw_loop_fini(gw->ctx);
	}
	ogw_north_ids_free(gw);
	ogw_admin_stop(gw);
	ogw_session_free_all(gw);
	free(gw->table);
	ogw_metrics_free(gw);
	for (int v = 0; v < OGW_OCPP_COUNT; v++)
		ogw_schema_set_free(gw->schemas[v]);
	ogw_store_close(gw->store);
	ogw_conf_clear(&gw->conf);
	ogw_south_doors_set(NULL, 0);
	free(doors);
	doors = NULL;
	n_doors = 0;
	free(gw);
	return NULL;
}
