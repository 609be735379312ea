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
#include <sys/socket.h>

#include <uv.h>

#include "ocppgw/config.h"
#include "ocppgw/gateway.h"
#include "ocppgw/local.h"
#include "ocppgw/ocpp.h"
#include "ocppgw/rpc.h"
#include "ocppgw/schema.h"
#include "ocppgw/store.h"
#include "ocppgw/tracker.h"
#include "ocppgw/translator.h"
#include "ocppgw/util.h"
#include "features/metrics/metrics.h"
#include "features/state/state.h"


struct ogw_session;
struct ogw_north_mqtt;
struct ogw_balance;
struct ogw_balance_charger;
struct ogw_limit_mqtt;

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

struct ogw_leg;

/*
 * How a leg's frames leave: an lws WebSocket (ogw_ws_transport, session.c)
 * or, for the north leg, an MQTT topic pair (ogw_mqtt_transport,
 * north_mqtt.c). The session calls these; what comes in arrives through
 * ogw_session_rx() and the leg's doors whatever the transport.
 */
struct ogw_leg_transport {
	const char *name;
	/* North only: opens the leg (ends in ogw_session_north_up() or
	 * ogw_session_north_failed()). */
	void (*connect)(struct ogw_session *s);
	/* Sends one text frame @text of @len bytes; the leg is UP. Takes @buf,
	 * the allocation @text sits in (behind the session's headroom). */
	void (*send_take)(struct ogw_leg *l, char *buf, const char *text, size_t len);
	/* Begins closing with l->close_status: true while the close is under
	 * way (ogw_session_leg_gone() reports its end), false when the leg is
	 * closed already. */
	bool (*close)(struct ogw_leg *l);
	/* Keepalive of an idle leg, and dropping a dead one; NULL: the
	 * transport keeps itself alive (MQTT keepalive). */
	void (*ping)(struct ogw_leg *l);
	void (*abort)(struct ogw_leg *l);
	/* Whether a lost leg gets the session's own reconnect timer; false:
	 * the transport brings the leg up again itself. */
	bool session_reconnects;
};
extern const struct ogw_leg_transport ogw_ws_transport;
extern const struct ogw_leg_transport ogw_mqtt_transport;

/* One connection of a session: a WebSocket, or the MQTT uplink's topics. */
struct ogw_leg {
	struct ogw_session *s;
	enum ogw_leg_kind kind;
	enum ogw_leg_state state;
	enum ogw_ocpp ver;
	const struct ogw_leg_transport *tp;
	struct lws *wsi;            /* WebSocket legs only */
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
	bool rx_refused;            /* over max_frame_size: closing, rest unread */
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

/*
 * Offline operation (offline.c): while the CSMS cannot be reached, the
 * gateway answers the charger itself and queues what the CSMS must receive
 * in the store; when it can, it delivers the charger's last boot and then
 * the queue, in order, one message at a time.
 */
struct ogw_offline {
	int64_t backlog;            /* this charger's messages in the store's queue */
	int64_t inflight;           /* seq of the queued message on the north leg, 0 none */
	int64_t acked;              /* highest seq the CSMS took (its row may outlive a
	                               failed delete: it is never sent again) */
	bool boot_due;              /* the CSMS has not seen the charger's last boot */
	bool boot_inflight;
	bool detached;              /* the charger is gone: the session lives on to deliver */
	bool retry_wait;            /* sul_retry is armed: no replay until it fires */
	bool versions_saved;        /* "offline.versions" is in the store */
	lws_sorted_usec_list_t sul_retry;
	json_t *txmap;              /* north 1.6: gateway-issued id -> the CSMS's id */
	lws_dll2_owner_t done_q;    /* local answers to the gateway's own calls */
	lws_sorted_usec_list_t sul_done;
	struct ogw_local_rec *rec;  /* the transaction log's state for this charger */
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
	struct ogw_offline off;
	lws_sorted_usec_list_t sul_reconnect;
	unsigned int reconnects;    /* consecutive failed north attempts */
	time_t connected_at;
	struct ogw_charger_state cs;      /* state.c, from the south leg's frames */
	struct ogw_balance_charger *balance;  /* balance.c; NULL until it needs one */
};

/* listen.c: the sockets of one door (chargers or admin API), every address
 * its configured address names, each connection handed to an lws vhost. */
#define OGW_LISTEN_MAX_ADDRS 4
struct ogw_listener {
	struct lws_vhost *vh;
	const char *protocol;  /* the vhost protocol a connection starts on */
	int adopt_flags;       /* LWS_ADOPT_* */
	const char *door;      /* "charger" or "admin", for log lines */
	bool started;
	size_t n;
	struct ogw_listen_sock {
		struct ogw_listener *owner;
		int fd;
		uv_poll_t poll;
		struct sockaddr_storage addr;  /* as bound, port included */
		socklen_t addr_len;
	} socks[OGW_LISTEN_MAX_ADDRS];
	uv_timer_t pause;      /* accepting paused: out of descriptors */
};

struct ogw_gateway {
	struct lws_context *ctx;
	struct ogw_listener south_listen;
	struct ogw_listener admin_listen;
	struct lws_vhost *south_vh;
	struct lws_vhost *north_vh;
	struct ogw_conf conf;
	ogw_gateway_reload_fn reload;
	void *reload_arg;
	struct ogw_schema_set *schemas[OGW_OCPP_COUNT];
	struct ogw_store *store;

	/* north endpoint, parsed once from conf.csms_url: a WebSocket URL, or
	 * the MQTT uplink (then north_mqtt is set) */
	const struct ogw_leg_transport *north_tp;
	struct ogw_north_mqtt *north_mqtt;
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
	uv_timer_t store_tick;      /* commits a batch of log writes on an idle loop */
	bool store_commit_on;

	lws_sorted_usec_list_t sul_stop;
	bool stopping;
	uint64_t stop_deadline_us;
	bool done;
	bool loop_ready;
};

/* session.c */
struct ogw_session *ogw_session_find(struct ogw_gateway *gw, const char *id);
/* The session a translator environment belongs to (session.c fills in
 * ogw_session_env_ops for every session). */
extern const struct ogw_tr_env_ops ogw_session_env_ops;
static inline struct ogw_session *ogw_env_session(struct ogw_tr_env *env)
{
	return lws_container_of(env, struct ogw_session, env);
}
struct ogw_session *ogw_session_new(struct ogw_gateway *gw, const char *id, enum ogw_ocpp ver,
				    enum ogw_ocpp north_ver, struct lws *south_wsi,
				    const char *south_auth);
void ogw_session_close(struct ogw_session *s, enum lws_close_status status, const char *why);
void ogw_session_leg_gone(struct ogw_leg *l);
void ogw_session_north_up(struct ogw_session *s);
void ogw_session_north_failed(struct ogw_session *s, const char *why);
/* @len bytes of a message arrived on @l; @more bytes of the same frame are
 * announced and still to come (WebSocket; 0 for MQTT); @first and @final
 * mark the message's first and last fragment. */
void ogw_session_rx(struct ogw_leg *l, const char *in, size_t len, size_t more, bool first,
		    bool final);
/* The peer on @l broke the transport's rules (@why, for the log): nothing
 * more it sends is read, and the leg closes with @status. */
void ogw_session_refuse(struct ogw_leg *l, enum lws_close_status status, const char *why);
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

/*
 * credentials.c: a password the CSMS changed on the charger. observe()
 * sees every down-call the charger answered (@req as sent, @ans its
 * CALLRESULT) and keeps an accepted new password. check(): 0 when @pass
 * is the kept one (or, @pass NULL, when one is kept), -EACCES when it is
 * not, -ENOENT when none is kept.
 * upstream(): the north leg's password kept for @id (malloc'd), or NULL.
 * watched(): whether down-call @req sets a password (observe() needs it).
 */
void ogw_credentials_observe(struct ogw_session *s, const char *action, const json_t *req,
			     const json_t *ans);
bool ogw_credentials_watched(const char *action, const json_t *req);
int ogw_credentials_check(const struct ogw_gateway *gw, const char *id, const void *pass, size_t len);
char *ogw_credentials_upstream(struct ogw_gateway *gw, const char *id);

/* session.c, for offline.c: the pipeline's doors. */
void ogw_leg_send_result(struct ogw_leg *l, const char *action, const char *id,
			 const json_t *payload);
void ogw_leg_send_error(struct ogw_leg *l, const char *id, enum ogw_err err, const char *fmt,
			...) __attribute__((format(printf, 4, 5)));
/* A CALL of the gateway's own on @l (@payload taken); @done gets its answer. */
int ogw_leg_call(struct ogw_leg *l, const char *action, json_t *payload,
		 ogw_call_done_fn done, const void *ctx, json_t *memo);
/* Drops the frames held for a failed commit and closes the charger's leg,
 * so it sends again what it was not acknowledged for. */
void ogw_session_withdraw(struct ogw_session *s);
/* Answers the charger's CALL @origin_id as if the CSMS had answered its
 * relay @action (north version) with @result: translated back through
 * @entry/@memo (may be NULL), validated, sent. Takes @memo. */
void ogw_session_answer_as_csms(struct ogw_session *s, const char *action, const char *origin_id,
				const struct ogw_tr_action *entry, json_t *memo,
				const json_t *result);
/* A CALL the gateway makes in the CSMS's place (north version), taken
 * through the pipeline to the charger like one from the CSMS; its answer
 * goes nowhere. */
void ogw_session_inject_down(struct ogw_session *s, const char *action, json_t *payload);
bool ogw_payload_valid(struct ogw_leg *l, const char *action, bool response,
		       const json_t *payload, const char *what);
struct ogw_session *ogw_session_new_detached(struct ogw_gateway *gw, const char *id,
					     enum ogw_ocpp ver, enum ogw_ocpp north_ver);

/* offline.c */
bool ogw_offline_standalone(const struct ogw_session *s);
void ogw_offline_init(struct ogw_session *s);
void ogw_offline_release(struct ogw_session *s);
/* A CALL from the charger, translated to @action/@payload (north version)
 * and about to go north: true when the gateway answers it itself (and
 * queues it); then @payload and @memo are taken. */
bool ogw_offline_take(struct ogw_leg *from, const struct ogw_frame *f, const char *action,
		      json_t *payload, const struct ogw_tr_action *entry, json_t *memo);
/* Whether the gateway answers @action (north version) itself now. */
bool ogw_offline_answers(struct ogw_session *s, const char *action, const json_t *payload);
/* A call of the gateway's own towards the CSMS (translators' ogw_tr_emit)
 * that ogw_offline_answers(): takes @c and runs its done function on the
 * next loop turn with the local answer. */
void ogw_offline_take_emit(struct ogw_session *s, struct ogw_call *c);
/* A charger's call relayed north failed with the leg: queue it and answer
 * locally instead. True when it did. */
bool ogw_offline_salvage(struct ogw_call *c);
/* The same for a call of the gateway's own: its local answer (a new
 * reference) or NULL. */
json_t *ogw_offline_salvage_emit(struct ogw_call *c);
/* North 1.6 id reconciliation at the north boundary: up rewrites
 * gateway-issued ids to the CSMS's, down the other way. True if changed. */
bool ogw_offline_map_up(struct ogw_session *s, const char *action, json_t *payload);
/* Whether @s's queue holds messages of 2.x transaction @txid (any when NULL). */
bool ogw_offline_queued(struct ogw_session *s, const char *txid);
bool ogw_offline_map_down(struct ogw_session *s, const char *action, json_t *payload);
/* A relayed CALL (c) answered with CALLRESULT @res: records what the CSMS
 * said (auth cache, local list) and what it implies. */
void ogw_offline_relayed(struct ogw_call *c, const json_t *res);
/* The charger's answer @res to GetTransactionStatus (c), corrected for what
 * the gateway still holds (a new reference, or NULL when unchanged). */
json_t *ogw_offline_tx_status(struct ogw_call *c, const json_t *res);
void ogw_offline_north_up(struct ogw_session *s);
void ogw_offline_kick(struct ogw_session *s);
/* The charger went away: true when the session stays to deliver its queue. */
bool ogw_offline_detach(struct ogw_session *s);
/* At start: a detached session for every charger with queued messages. */
void ogw_offline_restore(struct ogw_gateway *gw);
/* A group commit failed: frames it held are dropped, chargers told. */
void ogw_offline_commit_failed(struct ogw_gateway *gw, int err);

/* state.c: the charger state observer, and its core for tests (@now: unix s). */
void ogw_state_observe(struct ogw_session *s, enum ogw_obs what, const char *action,
		       const json_t *payload);
void ogw_state_update(struct ogw_charger_state *cs, enum ogw_ocpp ver, enum ogw_obs what,
		      const char *action, const json_t *payload, int64_t now);

/* listen.c. Binds every address @addr names (a name is resolved now);
 * a negative errno with @err saying why when any of them cannot be bound. */
int ogw_listen_open(struct ogw_listener *l, const char *addr, int port, char *err,
		    size_t err_size);
/* Hands each accepted connection to @vh, adopted with @adopt_flags. */
void ogw_listen_start(struct ogw_listener *l, struct lws_vhost *vh, const char *protocol,
		      int adopt_flags, const char *door);
void ogw_listen_close(struct ogw_listener *l);
/* "A and B": each bound address between @prefix and @suffix. */
void ogw_listen_describe(const struct ogw_listener *l, const char *prefix, const char *suffix,
			 char *buf, size_t size);
void ogw_listen_format(const struct sockaddr *sa, char *buf, size_t size);
bool ogw_listen_is_loopback(const struct sockaddr *sa);

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
/* Drops the external limit: the configured one applies again. 0, or
 * -EINVAL when balancing is off. */
int ogw_balance_clear_site_limit(struct ogw_gateway *gw);
/* A limit as the API and MQTT take it: a number (A per phase), {"amps": N}
 * or {"watts": N} (W over the site's phases at its voltage). 0 with
 * *ret_a (not range-checked), or -EINVAL with the field at fault and @err. */
int ogw_balance_parse_limit(const struct ogw_gateway *gw, const json_t *v, double *ret_a,
			    const char **ret_field, char *err, size_t errlen);
double ogw_balance_watts_to_amps(const struct ogw_gateway *gw, double watts);
/* The site limit: configured, scheduled, dynamic and in force (A per phase),
 * {"enabled": false, ...} when balancing is off. */
json_t *ogw_balance_limit_json(struct ogw_gateway *gw);
/* The site limit in force (A per phase, < 0: none) and whether a dynamic
 * one is set; false when balancing is off. */
bool ogw_balance_limit_now(struct ogw_gateway *gw, double *ret_a, bool *ret_dynamic);
/* Grid phase (0-2) of charger @id's L1, L2, L3 (configured rotation). */
const int *ogw_balance_rotation(const struct ogw_gateway *gw, const char *id);

/* balance_mqtt.c: the dynamic site limit over MQTT (docs/LOAD_BALANCING.md).
 * A message on <prefix>/<site>/$gateway/limit, from the MQTT uplink's
 * connection or the limit client's: a bad one is logged and ignored. */
void ogw_balance_limit_message(struct ogw_gateway *gw, const char *topic, const char *payload,
			       size_t len);
/* load_balancing.limit_mqtt: a client of its own that only receives the
 * limit (NULL on failure, logged); stop is NULL-safe and returns NULL. */
struct ogw_limit_mqtt *ogw_limit_mqtt_start(struct ogw_gateway *gw, const char *url);
struct ogw_limit_mqtt *ogw_limit_mqtt_stop(struct ogw_limit_mqtt *lm);
const char *ogw_limit_mqtt_url(const struct ogw_limit_mqtt *lm);
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

/* north_mqtt.c: the MQTT uplink, one broker connection for every charger */
int ogw_north_mqtt_start(struct ogw_gateway *gw);
void ogw_north_mqtt_stop(struct ogw_gateway *gw);

/* south.c */
extern const struct lws_protocols ogw_south_protocols[];
/* ogw_identity_check() of a path segment lws decoded in the request on
 * @wsi, plus what lws hid from it (a decoded CR or LF cuts the path). Both
 * HTTP doors that take a charger id (charger upgrade, admin API) use it. */
const char *ogw_http_identity_check(struct lws *wsi, const char *seg, size_t len);

#endif
