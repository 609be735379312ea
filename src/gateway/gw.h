/* SPDX-License-Identifier: MIT */
/*
 * Private to the gateway layer: the gateway object (one lws context, the
 * south listener, the north client vhost, the session table) and the charger
 * session (south leg + north leg + translator + state). Nothing outside
 * src/gateway/ sees these structs; main() uses include/ocppgw/gateway.h.
 */
#ifndef OGW_GW_H
#define OGW_GW_H

#include <libwebsockets.h>
#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "ocppgw/config.h"
#include "ocppgw/gateway.h"
#include "ocppgw/ocpp.h"
#include "ocppgw/rpc.h"
#include "ocppgw/schema.h"
#include "ocppgw/store.h"
#include "ocppgw/tracker.h"
#include "ocppgw/translator.h"
#include "metrics.h"
#include "state.h"

#define OGW_ID_MAX 48  /* 2.x identifierString: at most 48 characters */

struct ogw_session;
struct ogw_balance;
struct ogw_balance_charger;

enum ogw_leg_kind {
	OGW_SOUTH = 0,  /* the charger's connection to us */
	OGW_NORTH,      /* our connection to the CSMS for that charger */
};

enum ogw_leg_state {
	OGW_LEG_DOWN = 0,   /* no connection; north: waiting to reconnect */
	OGW_LEG_CONNECTING, /* north only: handshake under way */
	OGW_LEG_UP,
	OGW_LEG_CLOSING,    /* flushing queued frames, then a close frame */
};

/* One WebSocket of a session. */
struct ogw_leg {
	struct ogw_session *s;
	enum ogw_leg_kind kind;
	enum ogw_leg_state state;
	enum ogw_ocpp ver;
	struct lws *wsi;
	struct ogw_tracker out;     /* CALLs we send on this leg */
	unsigned int in_pending;    /* CALLs received here, not yet answered */
	lws_dll2_owner_t wq;        /* encoded frames waiting for WRITEABLE */
	size_t wq_bytes;
	enum lws_close_status close_status;
	uint64_t last_rx_us;        /* anything heard from the peer, pongs included */
	bool ping_due;              /* the keepalive sweep wants a ping sent */
	uint64_t call_sent_us;      /* when the outstanding CALL went out (metrics) */
	char *rx;                   /* reassembly of a fragmented message */
	size_t rx_len;
	size_t rx_total;            /* bytes seen of the current message */
};

/* What a translator sees of its session (include/ocppgw/translator.h). */
struct ogw_tr_env {
	struct ogw_session *s;
};

/* A CALL a translator answers later. */
struct ogw_tr_pending {
	lws_dll2_t list;            /* the session's pendings */
	lws_dll2_t timeouts;        /* keyed ones: the gateway's pending_deadlines */
	struct ogw_leg *from;
	char id[OGW_MSGID_MAX + 1];
	char action[OGW_ACTION_MAX + 1];
	char key[48];               /* "" unless deferred with a key */
	uint64_t deadline_us;
};

enum ogw_session_state {
	OGW_SESSION_ACTIVE = 0,
	OGW_SESSION_CLOSING,        /* legs closing; freed when both are gone */
};

struct ogw_session {
	struct ogw_session *hnext;  /* session table chain */
	struct ogw_gateway *gw;
	enum ogw_session_state state;
	char id[OGW_ID_MAX + 1];
	struct ogw_leg south;
	struct ogw_leg north;
	const struct ogw_translator *tr;  /* NULL: same version, relayed as is */
	struct ogw_tr_env env;
	lws_dll2_owner_t pendings;        /* deferred answers owed to either leg */
	/* The CALL being translated right now, for ogw_tr_defer(). */
	struct ogw_leg *cur_from;
	const struct ogw_frame *cur_frame;
	char *south_auth;           /* the charger's Authorization header, kept
	                               only when csms.pass_credentials is on */
	lws_sorted_usec_list_t sul_reconnect;
	unsigned int reconnects;    /* consecutive failed north attempts */
	time_t connected_at;
	struct ogw_charger_state cs;      /* state.c, from the south leg's frames */
	struct ogw_balance_charger *balance;  /* balance.c; NULL until it needs one */
};

struct ogw_gateway {
	struct lws_context *ctx;
	struct lws_vhost *south_vh;
	struct lws_vhost *north_vh;
	struct ogw_conf conf;
	ogw_gateway_reload_fn reload;
	void *reload_arg;
	struct ogw_schema_set *schemas[OGW_OCPP_COUNT];
	struct ogw_store *store;

	/* north endpoint, parsed once from conf.csms_url */
	char north_host[256];
	int north_port;
	char north_path[512];
	bool north_tls;

	struct ogw_session **table;
	size_t table_size;          /* a power of two */
	size_t n_sessions;

	/* Every tracked call of every leg in push order. All calls get the same
	 * timeout, so push order is deadline order: one timer serves them all. */
	lws_dll2_owner_t deadlines;
	lws_sorted_usec_list_t sul_deadline;
	/* Keyed deferred answers, oldest first (one timeout for all, too). */
	lws_dll2_owner_t pending_deadlines;
	lws_sorted_usec_list_t sul_pending;

	lws_sorted_usec_list_t sul_keepalive;

	struct ogw_metrics metrics;
	struct lws_vhost *admin_vh;     /* NULL: no admin listener */
	lws_dll2_owner_t admin_reqs;    /* admin requests alive (admin.c) */

	struct ogw_balance *balance;      /* balance.c: site load balancing */

	/* Commits the store's batch after each poll, before the next one. */
	uv_check_t store_commit;
	bool store_commit_on;

	lws_sorted_usec_list_t sul_stop;
	bool stopping;
	uint64_t stop_deadline_us;
	bool done;
	bool loop_ready;
};

/* session.c */
struct ogw_session *ogw_session_find(struct ogw_gateway *gw, const char *id);
struct ogw_session *ogw_session_new(struct ogw_gateway *gw, const char *id, enum ogw_ocpp ver,
				    enum ogw_ocpp north_ver, struct lws *south_wsi,
				    const char *south_auth);
void ogw_session_close(struct ogw_session *s, enum lws_close_status status, const char *why);
void ogw_session_leg_gone(struct ogw_leg *l);
void ogw_session_north_up(struct ogw_session *s);
void ogw_session_north_failed(struct ogw_session *s, const char *why);
void ogw_session_rx(struct ogw_leg *l, const char *in, size_t len, bool first, bool final);
void ogw_session_heard(struct ogw_leg *l);
void ogw_gateway_keepalive(lws_sorted_usec_list_t *sul);
int ogw_session_writeable(struct ogw_leg *l);
void ogw_session_close_all(struct ogw_gateway *gw, enum lws_close_status status,
			   bool only_idle);
void ogw_gateway_deadline_check(lws_sorted_usec_list_t *sul);

/*
 * observe.c: every validated frame on a south leg, in the charger's version,
 * goes to the session's observers (charger state, transaction log, load
 * balancer, ...) before it leaves. Observers only read; they never answer.
 *   UP_CALL      a CALL from the charger      (payload: its request)
 *   UP_RESULT    our CALLRESULT to that CALL  (payload: the response; the
 *                request's action, whichever leg or local answer produced it)
 *   DOWN_CALL    a CALL we send the charger   (relayed or the gateway's own)
 *   DOWN_RESULT  the charger's CALLRESULT to it
 */
enum ogw_obs {
	OGW_OBS_UP_CALL,
	OGW_OBS_UP_RESULT,
	OGW_OBS_DOWN_CALL,
	OGW_OBS_DOWN_RESULT,
};
void ogw_session_observe(struct ogw_session *s, enum ogw_obs what, const char *action,
			 const json_t *payload);

/* state.c: the charger state observer, and its core for tests (@now: unix s). */
void ogw_state_observe(struct ogw_session *s, enum ogw_obs what, const char *action,
		       const json_t *payload);
void ogw_state_update(struct ogw_charger_state *cs, enum ogw_ocpp ver, enum ogw_obs what,
		      const char *action, const json_t *payload, int64_t now);

/* admin.c: the admin HTTP listener on the gateway's context. */
int ogw_admin_start(struct ogw_gateway *gw);
void ogw_admin_stop(struct ogw_gateway *gw);

/* balance.c: site load balancing (docs/LOAD_BALANCING.md). The observer
 * records the CSMS's profiles and reacts to sessions and draw; the site
 * JSON and the dynamic site limit serve the API and MQTT. */
int ogw_balance_init(struct ogw_gateway *gw);
void ogw_balance_free(struct ogw_gateway *gw);
void ogw_balance_reconfigured(struct ogw_gateway *gw);
void ogw_balance_observe(struct ogw_session *s, enum ogw_obs what, const char *action,
			 const json_t *payload);
void ogw_balance_session_free(struct ogw_session *s);
json_t *ogw_balance_site_json(struct ogw_gateway *gw);
/* The external limit (A per phase) on the site, never above the configured
 * one; the allocation follows at once. 0, or -EINVAL with @err set. */
int ogw_balance_set_site_limit(struct ogw_gateway *gw, double amps_per_phase, char *err,
			       size_t errlen);
/* The limit a charging profile (@body: 1.6 csChargingProfiles or 2.x
 * chargingProfile) sets at @now in A per phase, or < 0 when none of its
 * periods is in force (OCPP 1.6 §3.13.1 / 2.0.1 K01: the last period whose
 * startPeriod has passed; W over numberPhases at @voltage). @received
 * stands in for a missing startSchedule, @tx_started (> 0) starts a
 * Relative profile. */
double ogw_balance_profile_limit(const json_t *body, bool v16, time_t now, time_t received,
				 int64_t tx_started, double voltage);

/* gateway.c: the loop was woken by lws_cancel_service() (a signal). */
void ogw_gateway_signalled(struct ogw_gateway *gw);

/* north.c */
void ogw_north_connect(struct ogw_session *s);
int ogw_north_parse_url(struct ogw_gateway *gw, const char *url);
extern const struct lws_protocols ogw_north_protocols[];

/* south.c */
extern const struct lws_protocols ogw_south_protocols[];

#endif
