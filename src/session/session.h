/* SPDX-License-Identifier: MIT */
/*
 * The public session header, what transports and features use: the gateway
 * object (one lws context, the doors, the session table, the pipeline) and
 * the charger session (its legs, translator and per-stage slots), with the
 * session's doors. Feature state is not here: each stage keeps its own in
 * the session's slot (src/session/stage.h). main() uses
 * include/ocppgw/gateway.h.
 */
#ifndef OGW_SESSION_H
#define OGW_SESSION_H

#include <libwebsockets.h>
#include <stdbool.h>
#include <stddef.h>
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
#include "session/stage.h"


struct ogw_session;
struct ogw_north_mqtt;
struct ogw_balance;
struct ogw_limit_mqtt;
struct ogw_meter_poll;
struct ogw_history;
struct ogw_metrics;

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

/* Room every encoded frame leaves in front of its text: the WebSocket
 * transport's queue item and lws's LWS_PRE (src/transport/ws.c). */
#define OGW_LEG_HEADROOM (32 + LWS_PRE)
/* How much of an oversize message is kept to read its type and id. */
#define OGW_SNIFF_BYTES 128

/*
 * How a leg's frames leave: an lws WebSocket (ogw_ws_transport,
 * src/transport/ws.c) or, for the north leg, an MQTT topic pair
 * (ogw_mqtt_transport, src/transport/north_mqtt.c). The session calls these; what comes in arrives through
 * ogw_session_rx() and the leg's doors whatever the transport.
 */
struct ogw_leg_transport {
	const char *name;
	/* North only: opens north leg @l (ends in ogw_session_north_up() or
	 * ogw_session_north_failed()). */
	void (*connect)(struct ogw_leg *l);
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
	/* Drops what is queued to be written (the leg is gone); NULL:
	 * nothing is ever queued. */
	void (*drop_queue)(struct ogw_leg *l);
	/* A group commit failed: every answer queued on @l that it held
	 * becomes a refusal (the charger sends its message again); NULL:
	 * nothing waits for commits here. */
	void (*withdraw)(struct ogw_leg *l);
	/* Whether a lost leg gets the session's own reconnect timer; false:
	 * the transport brings the leg up again itself. */
	bool session_reconnects;
	/* A WebSocket (l->wsi): a message over max_frame_size is refused
	 * before it is read, and the leg closes with a close frame. */
	bool websocket;
};
/* One connection of a session: a WebSocket, or the MQTT uplink's topics.
 * Each leg is an OCPP endpoint of its own (version, ids, tracker, write
 * queue). Fields ordered so that none leaves a hole: two legs or more per
 * charger (docs/PERFORMANCE.md, memory per charger). */
struct ogw_leg {
	struct ogw_session *s;
	const struct ogw_leg_transport *tp;
	struct lws *wsi;            /* WebSocket legs only */
	struct ogw_tracker out;     /* CALLs we send on this leg */
	unsigned int in_pending;    /* CALLs received here, not yet answered */
	enum lws_close_status close_status;
	lws_dll2_owner_t wq;        /* encoded frames waiting for WRITEABLE */
	size_t wq_bytes;
	uint64_t last_rx_us;        /* anything heard from the peer, pongs included */
	uint64_t call_sent_us;      /* when the outstanding CALL went out (metrics) */
	char *rx;                   /* reassembly of a fragmented message */
	size_t rx_len;
	enum ogw_leg_kind kind;
	enum ogw_leg_state state;
	enum ogw_ocpp ver;
	bool ping_due;              /* the keepalive sweep wants a ping sent */
	bool rx_refused;            /* over max_frame_size: closing, rest unread */
};

/* A north leg: the leg to one CSMS and what belongs to that CSMS. */
struct ogw_north {
	struct ogw_leg leg;
	const struct ogw_translator *tr;  /* south <-> this CSMS; NULL: same
	                                     version, relayed as is */
	lws_sorted_usec_list_t sul_reconnect;
	unsigned int reconnects;    /* consecutive failed attempts */
};

/*
 * What a secondary CSMS's leg needs besides struct ogw_north (docs/
 * MULTI_CSMS.md): its own translator environment, so its translator keeps
 * its own durable state, and the record of its answers. Allocated behind
 * north[] in the session's one allocation, and only for sessions that have
 * secondaries: a session with the primary alone costs nothing more.
 */
#define OGW_SECONDARY_STARTS 4
struct ogw_secondary {
	struct ogw_tr_env env;             /* its pair's environment (emits UP go to its leg) */
	struct ogw_session *s;
	const struct ogw_csms_conf *conf;  /* borrowed from gw->conf */
	char leg_name[72];                 /* "north.<name>", for log lines */
	/* 1.6 StartTransactions sent here and not yet paired, oldest first:
	 * the primary's transactionId (@p, which the charger then uses) and
	 * this CSMS's (@x) for the same start; 0 not known yet, -1 none. A
	 * pair makes the map by which the charger's later messages of that
	 * transaction reach this CSMS with its own id. */
	struct { int64_t p, x; } starts[OGW_SECONDARY_STARTS];
	unsigned int n_starts;
	/* Its own queue (rule 5, the store's csms_queue): while it is down or
	 * has a backlog, the charger's transaction messages wait there and
	 * everything else is not delivered; replayed one at a time. */
	/* The charger's CALL of a transaction it owns (rule 4) in flight to
	 * it, as the charger sent it: answered here and queued if its leg is
	 * lost before it answers (owner_salvaged()). NULL: none. */
	struct ogw_owned_call *owned;
	bool backlog;                      /* its queue may hold messages */
	bool owned_backlog;                /* ... of transactions it owns (rule 4) */
	bool in_replay;                    /* secondary_replay() is running */
	int64_t replay_seq;                /* the queued message in flight, 0: none */
	/* Its answers to the charger's CALLs, recorded, never forwarded. */
	uint64_t answered, errors, unanswered, queued;
};

/* The north leg @l is (@l->kind is OGW_NORTH). */
static inline struct ogw_north *ogw_leg_north(const struct ogw_leg *l)
{
	return lws_container_of(l, struct ogw_north, leg);
}

/* A CALL a translator answers later. */
struct ogw_tr_pending {
	lws_dll2_t list;            /* the session's pendings */
	lws_dll2_t timeouts;        /* keyed ones: the gateway's pending_deadlines */
	struct ogw_leg *from;
	char id[OGW_MSGID_MAX + 1];
	char action[OGW_ACTION_MAX + 1];
	char key[48];               /* "" unless deferred with a key */
	struct ogw_tr_env *env;     /* the environment it was deferred in */
	uint64_t deadline_us;
};

enum ogw_session_state {
	OGW_SESSION_ACTIVE = 0,
	OGW_SESSION_CLOSING,        /* legs closing; freed when all are gone */
};

struct ogw_session {
	struct ogw_session *hnext;  /* session table chain */
	struct ogw_gateway *gw;
	enum ogw_session_state state;
	char id[OGW_ID_MAX + 1];
	struct ogw_leg south;
	/* The translator environment: the primary's pair (its emits UP go to
	 * north[0]); features emit to the charger through it. */
	struct ogw_tr_env env;
	lws_dll2_owner_t pendings;        /* deferred answers owed to either leg */
	/* The CALL being translated right now, for ogw_tr_defer(). */
	struct ogw_leg *cur_from;
	const struct ogw_frame *cur_frame;
	char *south_auth;           /* the charger's Authorization header, kept
	                               only when csms.pass_credentials is on */
	bool detached;              /* the charger is gone; a stage keeps the session
	                               (offline: to deliver its queue) */
	bool own;                   /* the gateway's own identity (tls.identity): no
	                               charger ever; its north leg stays up */
	unsigned int n_north;       /* legs in north[] */
	uint32_t primary_sig;       /* of its primary's url, ca, cert, key at start:
	                               a reload that changes them closes the session */
	time_t connected_at;
	/* One leg per CSMS the charger is shown to, allocated with the session:
	 * north[0] is the primary, whose answers the charger gets; one in
	 * standalone mode too (never connected: the gateway answers in its
	 * version). Behind north[n_north], in the same allocation, one struct
	 * ogw_secondary per secondary (ogw_leg_secondary()). */
	struct ogw_north north[];
};

/* The secondary north leg @l is, or NULL (the primary, the south leg). */
static inline struct ogw_secondary *ogw_leg_secondary(const struct ogw_leg *l)
{
	const struct ogw_session *s = l->s;
	if (l->kind != OGW_NORTH || s->n_north < 2)
		return NULL;
	size_t i = (size_t)(ogw_leg_north(l) - s->north);
	return i ? (struct ogw_secondary *)(s->north + s->n_north) + (i - 1) : NULL;
}

/* The primary CSMS's leg. */
static inline struct ogw_leg *ogw_session_primary(struct ogw_session *s)
{
	return &s->north[0].leg;
}

/* The north leg after @l in @s->north[], or NULL. */
static inline struct ogw_leg *ogw_north_next(const struct ogw_session *s, const struct ogw_leg *l)
{
	const struct ogw_north *n = ogw_leg_north(l) + 1;
	return n < s->north + s->n_north ? (struct ogw_leg *)&n->leg : NULL;
}

/* Every north leg @l of session @s, the primary first. */
#define OGW_FOR_NORTH(s, l) \
	for (struct ogw_leg *l = ogw_session_primary(s); l; l = ogw_north_next((s), l))

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
	const struct ogw_leg_transport *south_tp;  /* WebSocket */
	const struct ogw_leg_transport *north_tp;
	const struct ogw_leg_transport *secondary_tp;  /* WebSocket, for secondaries */
	const struct ogw_leg_transport *secondary_mqtt_tp;  /* ... with an mqtt(s):// URL */
	struct ogw_north_mqtt *north_mqtt;  /* the MQTT uplinks: the primary's first, when
	                                       it is one, then each secondary's broker */
	char north_host[256];
	int north_port;
	char north_path[512];
	bool north_tls;
	lws_dll2_owner_t security_seen;  /* failed logins reported per charger
	                                    (features/security) */
	lws_dll2_owner_t north_ids;  /* client vhosts, one per charger certificate
	                                in csms.client_cert_dir (transport/north.c) */

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

	struct ogw_pipeline pipeline;   /* the stages, in order (src/gateway/gateway.c) */
	struct ogw_metrics *metrics;    /* features/metrics */
	struct lws_vhost *admin_vh;     /* NULL: no admin listener */
	lws_dll2_owner_t admin_reqs;    /* admin requests alive (admin.c) */

	struct ogw_balance *balance;      /* balance.c: site load balancing */
	struct ogw_limit_mqtt *limit_mqtt;  /* balance_mqtt.c: load_balancing.limit_mqtt's client */
	struct ogw_meter_poll *meter_poll;  /* meter_poll.c: the Modbus / HTTP grid meter */
	struct ogw_history *history;      /* features/history: the charts' sampler */
	struct ogw_files *files;          /* features/files: firmware cache and file server */

	/* Commits the store's batch after each poll, before the next one. */
	uv_check_t store_commit;
	uv_timer_t store_tick;      /* commits a batch of log writes on an idle loop */
	bool store_commit_on;

	/* The loop was woken by lws_cancel_service() (a signal): gateway.c's
	 * handler, called from the lws callback that sees it (south.c). */
	void (*woken)(struct ogw_gateway *gw);

	lws_sorted_usec_list_t sul_stop;
	bool stopping;
	uint64_t stop_deadline_us;
	bool done;
	bool loop_ready;
};

/* session.c */
struct ogw_session *ogw_session_find(struct ogw_gateway *gw, const char *id);
/* The session the primary's translator environment (s->env) belongs to
 * (session.c fills in ogw_session_env_ops for every session). A
 * secondary's environment is session.c's own business: features only see
 * s->env. */
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
void ogw_session_north_up(struct ogw_leg *l);
void ogw_session_north_failed(struct ogw_leg *l, const char *why);
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
/* Begins closing leg @l with @status (the transport writes its close). */
void ogw_leg_close(struct ogw_leg *l, enum lws_close_status status);
void ogw_session_close_all(struct ogw_gateway *gw, enum lws_close_status status,
			   bool only_idle);
void ogw_gateway_deadline_check(lws_sorted_usec_list_t *sul);
/* At the gateway's end: frees the sessions the loop left (a hard stop). */
void ogw_session_free_all(struct ogw_gateway *gw);
/* The configuration was reloaded (the old one is still readable): each
 * session's secondaries follow their new settings by name; a session whose
 * secondaries' URLs or versions changed, or are gone, is closed (the
 * charger reconnects to the new set). */
void ogw_session_csms_reconfigured(struct ogw_gateway *gw);

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
/* Answers the charger's CALL @origin_id as if the primary CSMS had answered
 * its relay @action (its version) with @result: translated back through
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

/* Where the stages' states begin in the allocation of a session with
 * @n_north north legs: right after north[] and the secondaries' struct
 * ogw_secondary, at OGW_STAGE_STATE_ALIGN. */
static inline size_t ogw_session_state_base(unsigned int n_north)
{
	size_t a = OGW_STAGE_STATE_ALIGN;
	size_t end = sizeof(struct ogw_session) + n_north * sizeof(struct ogw_north) +
		     (n_north - 1) * sizeof(struct ogw_secondary);
	return (end + a - 1) / a * a;
}

/* The state_size bytes of stage @st (a stage of gw->pipeline) in session
 * @s; NULL when @st is not in the pipeline or keeps no state. */
static inline void *ogw_session_state(const struct ogw_session *s, const struct ogw_stage *st)
{
	const struct ogw_pipeline *p = &s->gw->pipeline;
	for (size_t i = 0; i < p->n; i++)
		if (p->stage[i] == st)
			return st->state_size ? (char *)s + ogw_session_state_base(s->n_north) +
							p->state_off[i]
					      : NULL;
	return NULL;
}
/* Appends @st to the pipeline (at gateway start): 0, or -ENOSPC. */
int ogw_pipeline_add(struct ogw_pipeline *p, const struct ogw_stage *st);
/* No CSMS is configured: the gateway answers every charger itself. */
bool ogw_session_standalone(const struct ogw_session *s);


#endif
