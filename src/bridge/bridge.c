/* SPDX-License-Identifier: MIT */
/*
 * The cloud bridge: MQTT topics of the gateways (<prefix>/<site>/<id>/up,
 * .../state) on one side, one WebSocket per charger to a standard CSMS on
 * the other, in the charger's north version as the state topic announces
 * it. Frames pass unchanged and keep their message ids (the gateway's north
 * leg is the OCPP endpoint); CALLs are checked against their version's
 * schema in both directions and answered with a CALLERROR when they fail.
 * Up-frames wait (bounded) while a charger's WebSocket (re)connects.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <libwebsockets.h>

#include "ocppgw/bridge.h"
#include "ocppgw/log.h"
#include "ocppgw/loop.h"
#include "ocppgw/mqtt.h"
#include "ocppgw/rpc.h"
#include "ocppgw/schema.h"
#include "ocppgw/util.h"

#define TOPIC_MAX 512
#define BUCKETS 4096
#define RECENT 16             /* up-CALL ids remembered against QoS 1 duplicates */
#define GATEWAY_LEVEL "$gateway"
/* lws_write()'s private opcode for a close frame in lws 4.1 (see session.c). */
#define LWS_WRITE_CLOSE_FRAME 4

enum ws_state { WS_DOWN = 0, WS_CONNECTING, WS_UP, WS_CLOSING };
static const char *const ws_state_names[] = { "down", "connecting", "up", "closing" };

/* A frame for the CSMS: LWS_PRE bytes of headroom, then the text. */
struct qitem {
	lws_dll2_t list;
	size_t len;
	unsigned char data[];
};

struct charger {
	struct charger *hnext;
	struct bridge *b;
	char site[128];
	char enc[OGW_ID_MAX * 3 + 1];  /* the id as its topic level spells it */
	char id[OGW_ID_MAX + 1];
	enum ogw_ocpp ver;
	bool ver_known;
	bool online;
	enum ws_state state;
	struct lws *wsi;
	lws_dll2_owner_t q;        /* frames for the CSMS, in arrival order */
	lws_dll2_owner_t early;    /* up-frames that came before the state did */
	lws_sorted_usec_list_t sul_reconnect;
	unsigned int attempts;
	char recent[RECENT][OGW_MSGID_MAX + 1];
	unsigned int recent_next;
	char *rx;                  /* a fragmented WebSocket message */
	size_t rx_len;
	bool rx_refused;           /* over max_frame_size: closing, rest unread */
};

struct bridge {
	struct ogw_conf conf;
	struct lws_context *ctx;
	struct lws_vhost *vh;
	struct ogw_mqtt *mqtt;
	struct ogw_schema_set *schemas[OGW_OCPP_COUNT];
	char csms_host[256];
	int csms_port;
	char csms_path[512];
	bool csms_tls;
	struct charger *table[BUCKETS];
	uv_timer_t stop_timer;
	uv_signal_t sig_int, sig_term, sig_hup;
	bool loop_ready;
	bool stopping;
};

static volatile int stop_requested;

static struct ogw_log_ctx charger_ctx(const struct charger *c)
{
	return (struct ogw_log_ctx){ c->id, "bridge", NULL, NULL };
}

/* The one door for a charger's WebSocket state. */
static void set_state(struct charger *c, enum ws_state st)
{
	if (c->state == st)
		return;
	struct ogw_log_ctx lc = charger_ctx(c);
	ogw_log(st == WS_UP || c->state == WS_UP ? OGW_LOG_INFO : OGW_LOG_DEBUG, &lc,
		"websocket %s -> %s", ws_state_names[c->state], ws_state_names[st]);
	c->state = st;
}

static size_t bucket_of(const char *site, const char *enc)
{
	size_t h = 2166136261u;
	for (const char *p = site; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	h = (h ^ '/') * 16777619u;
	for (const char *p = enc; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return h & (BUCKETS - 1);
}

static struct charger *charger_get(struct bridge *b, const char *site, const char *enc,
				   bool create)
{
	size_t k = bucket_of(site, enc);
	for (struct charger *c = b->table[k]; c; c = c->hnext)
		if (!strcmp(c->site, site) && !strcmp(c->enc, enc))
			return c;
	if (!create)
		return NULL;
	char id[OGW_ID_MAX + 1];
	if (strlen(site) >= sizeof(((struct charger *)0)->site) ||
	    strlen(enc) >= sizeof(((struct charger *)0)->enc) ||
	    ogw_percent_decode(enc, strlen(enc), id, sizeof(id)) < 0 ||
	    ogw_identity_check(id, strlen(id)))
		return NULL;
	struct charger *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->b = b;
	snprintf(c->site, sizeof(c->site), "%s", site);
	snprintf(c->enc, sizeof(c->enc), "%s", enc);
	snprintf(c->id, sizeof(c->id), "%s", id);
	c->hnext = b->table[k];
	b->table[k] = c;
	return c;
}

static void queue_clear(lws_dll2_owner_t *q)
{
	struct lws_dll2 *d;
	while ((d = lws_dll2_get_head(q))) {
		lws_dll2_remove(d);
		free(lws_container_of(d, struct qitem, list));
	}
}

/* A copy of @text at the end of @q, behind LWS_PRE bytes of headroom. */
static int queue_add(lws_dll2_owner_t *q, const char *text, size_t len)
{
	struct qitem *it = malloc(sizeof(*it) + LWS_PRE + len);
	if (!it)
		return -ENOMEM;
	memset(&it->list, 0, sizeof(it->list));
	it->len = len;
	memcpy(it->data + LWS_PRE, text, len);
	lws_dll2_add_tail(&it->list, q);
	return 0;
}

static void topic_of(const struct charger *c, const char *leaf, char out[TOPIC_MAX])
{
	snprintf(out, TOPIC_MAX, "%s/%s/%s/%s", c->b->conf.mqtt_prefix, c->site, c->enc, leaf);
}

/* A frame for the charger's gateway; none once the bridge is stopping. */
static void publish_down(struct charger *c, const char *text, size_t len)
{
	char topic[TOPIC_MAX];
	struct ogw_log_ctx lc = charger_ctx(c);

	topic_of(c, "down", topic);
	if (!c->b->mqtt)
		ogw_info(&lc, "bridge stopping: frame for %s dropped", topic);
	else if (ogw_mqtt_publish(c->b->mqtt, topic, text, len, false) < 0)
		ogw_err(&lc, "Failed to publish on %s", topic);
}

/* ---- checking frames ------------------------------------------------------ */

/*
 * A frame of @c's version, checked as the gateway checks it: its structure,
 * and a CALL's action and payload against the version's schema. 0: pass it
 * on. Else a CALLERROR for the sender is in *ret_reply (malloc'd, with
 * @headroom bytes before it; NULL when the rules say to ignore), and the
 * problem was logged. With @ret_dup, a CALL whose id this charger sent
 * lately is reported there (QoS 1 redelivery).
 */
static int check_frame(struct charger *c, const char *buf, size_t len, const char *from,
		       size_t headroom, char **ret_reply, size_t *ret_len, bool *ret_dup)
{
	struct ogw_frame f;
	struct ogw_rpc_fault fault;
	struct ogw_schema_fault sf;
	struct ogw_log_ctx lc = charger_ctx(c);
	enum ogw_err err;
	const char *desc;
	char text[256];

	*ret_reply = NULL;
	if (ret_dup)
		*ret_dup = false;
	if (ogw_frame_decode(buf, len, c->ver, &f, &fault) < 0) {
		ogw_warn(&lc, "bad frame from %s%s: %s", from, fault.reply ? "" : " ignored",
			 fault.desc);
		if (fault.reply)
			*ret_reply = ogw_rpc_encode_error(headroom, OGW_MSG_CALLERROR, fault.id,
							  ogw_err_code(fault.err, c->ver),
							  fault.desc, NULL, ret_len);
		return -EBADMSG;
	}
	if (f.type != OGW_MSG_CALL && f.type != OGW_MSG_SEND) {
		ogw_frame_release(&f);
		return 0;
	}
	const struct ogw_schema *sch = ogw_schema_get(c->b->schemas[c->ver], f.action, false);
	if (!sch) {
		err = OGW_ERR_NOT_IMPLEMENTED;
		snprintf(text, sizeof(text), "unknown action %s in OCPP %s", f.action,
			 ogw_ocpp_name(c->ver));
		desc = text;
	} else if (ogw_schema_validate(sch, f.payload, &sf) < 0) {
		err = sf.err;
		snprintf(text, sizeof(text), "%s", sf.desc);
		desc = text;
	} else {
		/* QoS 1 may deliver a message twice; the gateway's ids never repeat. */
		for (unsigned int i = 0; ret_dup && i < RECENT; i++)
			if (!strcmp(c->recent[i], f.id))
				*ret_dup = true;
		if (ret_dup && !*ret_dup) {
			snprintf(c->recent[c->recent_next], sizeof(c->recent[0]), "%s", f.id);
			c->recent_next = (c->recent_next + 1) % RECENT;
		}
		ogw_frame_release(&f);
		return 0;
	}
	lc.action = f.action;
	lc.msg_id = f.id;
	ogw_warn(&lc, "CALL from %s rejected: %s", from, desc);
	if (f.type == OGW_MSG_CALL)
		*ret_reply = ogw_rpc_encode_error(headroom, OGW_MSG_CALLERROR, f.id,
						  ogw_err_code(err, c->ver), desc, NULL, ret_len);
	ogw_frame_release(&f);
	return -EINVAL;
}

/* ---- the WebSocket to the CSMS ------------------------------------------- */

static void ws_connect(struct charger *c);

static void reconnect_cb(lws_sorted_usec_list_t *sul)
{
	struct charger *c = lws_container_of(sul, struct charger, sul_reconnect);
	if (c->online && c->state == WS_DOWN && !c->b->stopping)
		ws_connect(c);
}

/* The gateway's one backoff (ogw_backoff_ms()), as its north legs use. */
static void schedule_reconnect(struct charger *c, const char *why)
{
	struct bridge *b = c->b;
	if (!c->online || b->stopping)
		return;
	uint64_t delay = ogw_backoff_ms(c->attempts++, b->conf.reconnect_min_ms,
					b->conf.reconnect_max_ms);
	struct ogw_log_ctx lc = charger_ctx(c);
	ogw_info(&lc, "CSMS %s; reconnecting in %llu ms", why, (unsigned long long)delay);
	lws_sul_schedule(b->ctx, 0, &c->sul_reconnect, reconnect_cb, (lws_usec_t)delay * 1000);
}

static void ws_connect(struct charger *c)
{
	struct bridge *b = c->b;
	char path[sizeof(b->csms_path) + sizeof(c->enc) + 2], host[300];
	struct lws_client_connect_info ci;

	if (!c->ver_known || c->state != WS_DOWN)
		return;
	lws_sul_cancel(&c->sul_reconnect);
	snprintf(path, sizeof(path), "%s/%s", b->csms_path, c->enc);
	snprintf(host, sizeof(host), "%s:%d", b->csms_host, b->csms_port);
	memset(&ci, 0, sizeof(ci));
	ci.context = b->ctx;
	ci.vhost = b->vh;
	ci.address = b->csms_host;
	ci.port = b->csms_port;
	ci.path = path;
	ci.host = host;
	ci.origin = host;
	ci.ssl_connection = b->csms_tls ? LCCSCF_USE_SSL : 0;
	ci.protocol = ogw_ocpp_subprotocol(c->ver);
	ci.local_protocol_name = "ocpp-bridge";
	ci.userdata = c;
	ci.pwsi = &c->wsi;
	set_state(c, WS_CONNECTING);
	if (!lws_client_connect_via_info(&ci) && c->state == WS_CONNECTING) {
		c->wsi = NULL;
		set_state(c, WS_DOWN);
		schedule_reconnect(c, "connect failed");
	}
}

/* Closes the charger's WebSocket (it went offline, or we stop). */
static void ws_close(struct charger *c)
{
	lws_sul_cancel(&c->sul_reconnect);
	if (c->state == WS_CONNECTING && c->wsi) {
		lws_set_wsi_user(c->wsi, NULL);
		lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
		c->wsi = NULL;
		set_state(c, WS_DOWN);
	} else if (c->state == WS_UP) {
		set_state(c, WS_CLOSING);
		lws_callback_on_writable(c->wsi);
	}
}

/* Queues @text for the CSMS; written at once when the WebSocket is up. */
static int enqueue(struct charger *c, const char *text, size_t len)
{
	if (c->q.count >= (unsigned int)c->b->conf.mqtt_max_buffered)
		return -ENOBUFS;
	int r = queue_add(&c->q, text, len);
	if (r < 0)
		return r;
	if (c->state == WS_UP)
		lws_callback_on_writable(c->wsi);
	return 0;
}

static int ws_writeable(struct charger *c)
{
	struct lws_dll2 *d = lws_dll2_get_head(&c->q);
	if (c->state == WS_CLOSING) {
		unsigned char cf[LWS_PRE + 2];
		cf[LWS_PRE] = (unsigned char)(LWS_CLOSE_STATUS_NORMAL >> 8);
		cf[LWS_PRE + 1] = (unsigned char)(LWS_CLOSE_STATUS_NORMAL & 0xff);
		lws_write(c->wsi, cf + LWS_PRE, 2, (enum lws_write_protocol)LWS_WRITE_CLOSE_FRAME);
		return -1;
	}
	if (!d || c->state != WS_UP)
		return 0;
	struct qitem *it = lws_container_of(d, struct qitem, list);
	int n = lws_write(c->wsi, it->data + LWS_PRE, it->len, LWS_WRITE_TEXT);
	lws_dll2_remove(d);
	free(it);
	if (n < 0)
		return -1;
	if (lws_dll2_get_head(&c->q))
		lws_callback_on_writable(c->wsi);
	return 0;
}

/* A whole message from the CSMS: checked, then published on the down topic. */
static void ws_message(struct charger *c, const char *buf, size_t len)
{
	char *reply;
	size_t rlen;

	if (check_frame(c, buf, len, "CSMS", LWS_PRE, &reply, &rlen, NULL) < 0) {
		if (reply && c->state == WS_UP &&
		    lws_write(c->wsi, (unsigned char *)reply + LWS_PRE, rlen, LWS_WRITE_TEXT) < 0)
			lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
		free(reply);
		return;
	}
	publish_down(c, buf, len);
}

/* Reassembles a message from the CSMS. A message whose frame headers
 * announce more than max_frame_size is not read to its end: the connection
 * closes (RFC 6455 §7.4.1: 1009) from the next writeable callback, since
 * lws 4.1 crashes when RECEIVE returns -1 in the middle of a frame. -1 when
 * memory ran out. */
static int ws_rx(struct charger *c, struct lws *wsi, const char *in, size_t len)
{
	size_t max = c->b->conf.max_frame_size;
	bool first = lws_is_first_fragment(wsi), final = lws_is_final_fragment(wsi);
	size_t total = (first ? 0 : c->rx_len) + len + lws_remaining_packet_payload(wsi);
	struct ogw_log_ctx lc = charger_ctx(c);

	if (c->rx_refused)
		return 0;
	if (total > max) {
		ogw_warn(&lc, "message from CSMS announces %zu bytes, over max_frame_size %zu: "
			 "closing", total, max);
		c->rx_refused = true;
		lws_callback_on_writable(wsi);
		free(c->rx);
		c->rx = NULL;
		c->rx_len = 0;
		return 0;
	}
	if (first && final && !c->rx) {
		ws_message(c, in, len);
		return 0;
	}
	if (first) {
		free(c->rx);
		c->rx = NULL;
		c->rx_len = 0;
	}
	char *n = realloc(c->rx, c->rx_len + len);
	if (!n) {
		ogw_err(&lc, "Failed to keep a message from CSMS: out of memory");
		free(c->rx);
		c->rx = NULL;
		c->rx_len = 0;
		return -1;
	}
	memcpy(n + c->rx_len, in, len);
	c->rx = n;
	c->rx_len += len;
	if (final) {
		ws_message(c, c->rx, c->rx_len);
		free(c->rx);
		c->rx = NULL;
		c->rx_len = 0;
	}
	return 0;
}

static void ws_gone(struct charger *c, const char *why)
{
	c->wsi = NULL;
	set_state(c, WS_DOWN);
	schedule_reconnect(c, why);
}

static int bridge_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		     size_t len)
{
	struct charger *c = user;

	switch (reason) {
	case LWS_CALLBACK_CLIENT_FILTER_PRE_ESTABLISH: {
		char proto[32] = "";
		if (!c)
			return -1;
		lws_hdr_copy(wsi, proto, sizeof(proto), WSI_TOKEN_PROTOCOL);
		if (strcmp(proto, ogw_ocpp_subprotocol(c->ver))) {
			struct ogw_log_ctx lc = charger_ctx(c);
			ogw_warn(&lc, "CSMS agreed to subprotocol '%s', not %s: closing", proto,
				 ogw_ocpp_subprotocol(c->ver));
			return -1;
		}
		return 0;
	}
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		if (!c || !c->online)
			return -1;
		c->wsi = wsi;
		c->attempts = 0;
		c->rx_refused = false;
		set_state(c, WS_UP);
		if (lws_dll2_get_head(&c->q))
			lws_callback_on_writable(wsi);
		return 0;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		return c ? ws_rx(c, wsi, in, len) : 0;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		if (c && c->rx_refused) {
			lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, NULL, 0);
			return -1;
		}
		return c ? ws_writeable(c) : 0;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		if (c) {
			struct ogw_log_ctx lc = charger_ctx(c);
			ogw_info(&lc, "connection to CSMS failed: %s",
				 in ? (const char *)in : "unknown error");
			ws_gone(c, "connection failed");
		}
		return 0;
	case LWS_CALLBACK_CLIENT_CLOSED:
		if (c)
			ws_gone(c, "connection closed");
		return 0;
	default:
		return 0;
	}
}

static const struct lws_protocols bridge_protocols[] = {
	{ "ocpp-bridge", bridge_cb, 0, 4096, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

/* ---- the MQTT side --------------------------------------------------------- */

static void answer_up(struct charger *c, char *reply, size_t len)
{
	if (reply)
		publish_down(c, reply, len);
	free(reply);
}

/* An up-frame: checked, then queued for the charger's WebSocket. */
static void on_up(struct charger *c, const char *payload, size_t len)
{
	struct ogw_log_ctx lc = charger_ctx(c);
	char *reply;
	size_t rlen;
	bool dup;

	if (!c->ver_known) {
		/* After a restart of ours, the broker hands over what it kept for
		 * our session before the retained states of the new subscription. */
		if (c->early.count >= (unsigned int)c->b->conf.mqtt_max_buffered ||
		    queue_add(&c->early, payload, len) < 0)
			ogw_warn(&lc, "frame before the charger's state (no version known): dropped");
		return;
	}
	if (len > c->b->conf.max_frame_size) {
		ogw_warn(&lc, "frame of %zu bytes exceeds max_frame_size: dropped", len);
		return;
	}
	if (check_frame(c, payload, len, "gateway", 0, &reply, &rlen, &dup) < 0) {
		answer_up(c, reply, rlen);
		return;
	}
	if (dup) {
		ogw_info(&lc, "duplicate delivery of a CALL dropped");
		return;
	}
	/* Under a shared subscription the state may not open the WebSocket:
	 * the first frame does. */
	c->online = true;
	if (c->state == WS_DOWN && lws_dll2_is_detached(&c->sul_reconnect.list))
		ws_connect(c);
	int r = enqueue(c, payload, len);
	if (r < 0) {
		ogw_warn(&lc, "%zu frames wait for the CSMS already: frame dropped",
			 (size_t)c->q.count);
		struct ogw_frame f;
		struct ogw_rpc_fault fault;
		if (ogw_frame_decode(payload, len, c->ver, &f, &fault) == 0) {
			if (f.type == OGW_MSG_CALL)
				reply = ogw_rpc_encode_error(0, OGW_MSG_CALLERROR, f.id,
							     ogw_err_code(OGW_ERR_INTERNAL, c->ver),
							     "CSMS unavailable: too many frames waiting",
							     NULL, &rlen);
			ogw_frame_release(&f);
			answer_up(c, reply, rlen);
		}
	}
}

static void go_offline(struct charger *c)
{
	if (c->online) {
		struct ogw_log_ctx lc = charger_ctx(c);
		ogw_info(&lc, "charger offline at its gateway");
	}
	c->online = false;
	queue_clear(&c->q);
	queue_clear(&c->early);
	ws_close(c);
}

static void on_state(struct bridge *b, struct charger *c, const char *site, const char *payload,
		     size_t len)
{
	json_error_t jerr;
	json_t *doc = json_loadb(payload, len, 0, &jerr);
	json_t *online = doc ? json_object_get(doc, "online") : NULL;
	enum ogw_ocpp ver;

	if (!len) { /* a retained state being cleared */
		json_decref(doc);
		return;
	}
	if (!json_is_boolean(online)) {
		ogw_warn(NULL, "mqtt: state of %s/%s is not {\"online\": bool, ...}: ignored", site,
			 c ? c->id : GATEWAY_LEVEL);
		json_decref(doc);
		return;
	}
	if (!c) {
		/* The gateway's will: every charger of the site is gone with it. */
		if (!json_is_true(online))
			for (size_t i = 0; i < BUCKETS; i++)
				for (struct charger *k = b->table[i]; k; k = k->hnext)
					if (!strcmp(k->site, site))
						go_offline(k);
		json_decref(doc);
		return;
	}
	if (!json_is_true(online)) {
		go_offline(c);
		json_decref(doc);
		return;
	}
	const char *north = json_string_value(json_object_get(doc, "north"));
	if (!north || ogw_ocpp_parse(north, &ver) < 0) {
		struct ogw_log_ctx lc = charger_ctx(c);
		ogw_warn(&lc, "state names no OCPP version (\"north\"): ignored");
		json_decref(doc);
		return;
	}
	json_decref(doc);
	if (c->ver_known && c->ver != ver && c->state != WS_DOWN) {
		/* Another version from now on: a new WebSocket for it. */
		ws_close(c);
	}
	c->ver = ver;
	c->ver_known = true;
	bool was = c->online;
	c->online = true;
	if (!was) {
		struct ogw_log_ctx lc = charger_ctx(c);
		ogw_info(&lc, "charger online at its gateway, OCPP %s upstream",
			 ogw_ocpp_name(ver));
	}
	if (!b->conf.mqtt_share && c->state == WS_DOWN)
		ws_connect(c);
	struct lws_dll2 *d;
	while ((d = lws_dll2_get_head(&c->early))) {
		struct qitem *it = lws_container_of(d, struct qitem, list);
		struct ogw_log_ctx lc = charger_ctx(c);
		ogw_debug(&lc, "frame held until the state came: passed on");
		lws_dll2_remove(d);
		on_up(c, (const char *)it->data + LWS_PRE, it->len);
		free(it);
	}
}

static bool says_online(const char *payload, size_t len)
{
	json_t *doc = json_loadb(payload, len, 0, NULL);
	bool online = json_is_true(json_object_get(doc, "online"));
	json_decref(doc);
	return online;
}

/* <prefix>/<site>/<id>/up or .../state; anything else is logged and dropped. */
static void on_message(void *arg, const char *topic, const char *payload, size_t len)
{
	struct bridge *b = arg;
	const char *prefix = b->conf.mqtt_prefix;
	size_t plen = strlen(prefix);
	char site[128], level[OGW_ID_MAX * 3 + 1];
	const char *p = topic + plen + 1, *slash, *leaf;

	if (strncmp(topic, prefix, plen) || topic[plen] != '/' || !(slash = strchr(p, '/')) ||
	    (size_t)(slash - p) >= sizeof(site))
		goto bad;
	memcpy(site, p, (size_t)(slash - p));
	site[slash - p] = '\0';
	p = slash + 1;
	if (!(slash = strchr(p, '/')) || (size_t)(slash - p) >= sizeof(level) || slash == p)
		goto bad;
	memcpy(level, p, (size_t)(slash - p));
	level[slash - p] = '\0';
	leaf = slash + 1;
	bool is_state = !strcmp(leaf, "state");
	if (!is_state && strcmp(leaf, "up"))
		goto bad;
	if (is_state && !strcmp(level, GATEWAY_LEVEL)) {
		on_state(b, NULL, site, payload, len);
		return;
	}
	/* A retained offline state of a charger never seen creates nothing. */
	struct charger *c = charger_get(b, site, level, !is_state || says_online(payload, len));
	if (!c && is_state)
		return;
	if (!c)
		goto bad;
	if (is_state)
		on_state(b, c, site, payload, len);
	else
		on_up(c, payload, len);
	return;
bad:
	ogw_warn(NULL, "mqtt: message on unexpected topic %s dropped", topic);
}

static void on_connected(void *arg, bool session_present)
{
	struct bridge *b = arg;
	const struct ogw_conf *c = &b->conf;
	struct ogw_mqtt_url u;
	char topic[TOPIC_MAX];

	(void)session_present; /* subscribing again brings the retained states back */
	ogw_mqtt_parse_url(c->mqtt_url, &u);
	snprintf(topic, sizeof(topic), "%s/%s/+/state", c->mqtt_prefix, u.site);
	if (ogw_mqtt_subscribe(b->mqtt, topic) < 0)
		ogw_err(NULL, "mqtt: Failed to subscribe to %s", topic);
	if (c->mqtt_share)
		snprintf(topic, sizeof(topic), "$share/%s/%s/%s/+/up", c->mqtt_share,
			 c->mqtt_prefix, u.site);
	else
		snprintf(topic, sizeof(topic), "%s/%s/+/up", c->mqtt_prefix, u.site);
	if (ogw_mqtt_subscribe(b->mqtt, topic) < 0)
		ogw_err(NULL, "mqtt: Failed to subscribe to %s", topic);
	ogw_info(NULL, "mqtt: bridge subscribed to %s", topic);
}

/* ---- setup and teardown ---------------------------------------------------- */

static int parse_csms(struct bridge *b)
{
	char tmp[1024];
	const char *prot, *addr, *path;
	int port;

	if (!b->conf.csms_url ||
	    snprintf(tmp, sizeof(tmp), "%s", b->conf.csms_url) >= (int)sizeof(tmp) ||
	    lws_parse_uri(tmp, &prot, &addr, &port, &path) || !*addr ||
	    (strcmp(prot, "ws") && strcmp(prot, "wss")))
		return -EINVAL;
	b->csms_tls = !strcmp(prot, "wss");
	snprintf(b->csms_host, sizeof(b->csms_host), "%s", addr);
	b->csms_port = port;
	size_t plen = strlen(path);
	while (plen && path[plen - 1] == '/')
		plen--;
	snprintf(b->csms_path, sizeof(b->csms_path), "/%.*s", (int)plen, path);
	if (!strcmp(b->csms_path, "/"))
		b->csms_path[0] = '\0';
	return 0;
}

static int load_schemas(struct bridge *b)
{
	for (int v = 0; v < OGW_OCPP_COUNT; v++) {
		char err[512] = "", dir[4096];
		int r;
		if (b->conf.schema_dir) {
			snprintf(dir, sizeof(dir), "%s/%s", b->conf.schema_dir,
				 ogw_ocpp_name((enum ogw_ocpp)v));
			r = ogw_schema_set_load_dir(dir, &b->schemas[v], err, sizeof(err));
		} else {
			r = ogw_schema_set_load_builtin((enum ogw_ocpp)v, &b->schemas[v], err,
							sizeof(err));
		}
		if (r < 0) {
			ogw_err(NULL, "Failed to load OCPP %s schemas: %s",
				ogw_ocpp_name((enum ogw_ocpp)v), err);
			return r;
		}
	}
	return 0;
}

static struct bridge *the_bridge;

static void stop_done(uv_timer_t *t)
{
	(void)t;
	ogw_loop_stop();
}

/* Stops: every WebSocket gets its close frame, the broker a DISCONNECT. */
static void begin_stop(struct bridge *b)
{
	if (b->stopping)
		return;
	b->stopping = true;
	ogw_info(NULL, "bridge stopping");
	for (size_t i = 0; i < BUCKETS; i++)
		for (struct charger *c = b->table[i]; c; c = c->hnext) {
			c->online = false;
			ws_close(c);
		}
	b->mqtt = ogw_mqtt_free(b->mqtt);
	uv_timer_start(&b->stop_timer, stop_done, 300, 0);
}

static void on_signal(int sig)
{
	if (sig == SIGHUP) {
		ogw_warn(NULL, "the bridge reads its configuration at start only: restart it "
			 "to apply changes");
		return;
	}
	stop_requested = 1;
	if (the_bridge)
		begin_stop(the_bridge);
}

/* lws leaves signals alone on a foreign loop: the loop watches them. */
static void on_uv_signal(uv_signal_t *h, int sig)
{
	(void)h;
	on_signal(sig);
}

static void lws_log_emit(int level, const char *line)
{
	size_t n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	ogw_log(level == LLL_ERR ? OGW_LOG_WARN : OGW_LOG_DEBUG, NULL, "lws: %.*s", (int)n, line);
}

static int start(struct bridge *b)
{
	const struct ogw_conf *c = &b->conf;
	struct lws_context_creation_info ci;
	struct ogw_mqtt_opts o;
	char client_id[256], host[64] = "";
	int r;

	memset(&o, 0, sizeof(o));
	if (ogw_mqtt_parse_url(c->mqtt_url, &o.url) < 0) {
		ogw_err(NULL, "mqtt url '%s': expected mqtt://host[:port]/<site or +>",
			c->mqtt_url);
		return -EINVAL;
	}
	if (parse_csms(b) < 0) {
		ogw_err(NULL, "csms url '%s': expected ws://host[:port]/path or wss://...",
			c->csms_url ? c->csms_url : "");
		return -EINVAL;
	}
	r = load_schemas(b);
	if (r < 0)
		return r;

	lws_set_log_level(ogw_log_enabled(OGW_LOG_DEBUG) ? LLL_ERR | LLL_WARN : LLL_ERR,
			  lws_log_emit);
	memset(&ci, 0, sizeof(ci));
	ci.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	ci.count_threads = 1;
	r = ogw_loop_init(&ci, on_signal);
	if (r < 0) {
		ogw_err(NULL, "Failed to create the event loop: %s", uv_strerror(r));
		return -EIO;
	}
	b->loop_ready = true;
	uv_timer_init(ogw_loop_uv(), &b->stop_timer);
	uv_signal_init(ogw_loop_uv(), &b->sig_int);
	uv_signal_init(ogw_loop_uv(), &b->sig_term);
	uv_signal_start(&b->sig_int, on_uv_signal, SIGINT);
	uv_signal_start(&b->sig_term, on_uv_signal, SIGTERM);
	uv_signal_init(ogw_loop_uv(), &b->sig_hup);
	uv_signal_start(&b->sig_hup, on_uv_signal, SIGHUP);
	b->ctx = lws_create_context(&ci);
	if (!b->ctx) {
		ogw_err(NULL, "Failed to create the event loop");
		return -ENOMEM;
	}
	memset(&ci, 0, sizeof(ci));
	ci.vhost_name = "bridge";
	ci.port = CONTEXT_PORT_NO_LISTEN;
	ci.protocols = bridge_protocols;
	ci.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	ci.client_ssl_ca_filepath = c->csms_ca;
	ci.client_ssl_cert_filepath = c->csms_cert;
	ci.client_ssl_private_key_filepath = c->csms_key;
	/* the gateway's north leg's floor (transport/tls.c): csms.tls_min_version, csms.ciphers */
	ci.ssl_client_options_set = ogw_tls_options_below(c->csms_tls_floor.min_version);
	ci.client_ssl_cipher_list = c->csms_tls_floor.ciphers;
	b->vh = lws_create_vhost(b->ctx, &ci);
	if (!b->vh) {
		ogw_err(NULL, "Failed to set up the CSMS client (TLS files?)");
		return -EINVAL;
	}
	gethostname(host, sizeof(host) - 1);
	snprintf(client_id, sizeof(client_id), "ocppgw-bridge-%s-%s%s%s", host,
		 strcmp(o.url.site, "+") ? o.url.site : "all", c->mqtt_share ? "-" : "",
		 c->mqtt_share ? c->mqtt_share : "");
	o.client_id = c->mqtt_client_id ? c->mqtt_client_id : client_id;
	ogw_conf_mqtt_opts(c, &o);
	static const struct ogw_mqtt_handlers handlers = {
		.connected = on_connected,
		.message = on_message,
	};
	r = ogw_mqtt_new(&o, &handlers, b, &b->mqtt);
	if (r < 0) {
		ogw_err(NULL, "mqtt: Failed to create the client: %s", strerror(-r));
		return r;
	}
	ogw_info(NULL, "bridging %s to %s", c->mqtt_url, c->csms_url);
	return 0;
}

int ogw_bridge_run(struct ogw_conf *conf)
{
	struct bridge *b = calloc(1, sizeof(*b));
	int r;

	if (!b) {
		ogw_conf_clear(conf);
		return 1;
	}
	b->conf = *conf;
	memset(conf, 0, sizeof(*conf));
	the_bridge = b;
	r = start(b);
	if (r == 0 && !stop_requested)
		ogw_loop_run();
	the_bridge = NULL;
	b->mqtt = ogw_mqtt_free(b->mqtt);
	if (b->loop_ready) {
		uv_timer_stop(&b->stop_timer);
		uv_close((uv_handle_t *)&b->stop_timer, NULL);
		uv_close((uv_handle_t *)&b->sig_int, NULL);
		uv_close((uv_handle_t *)&b->sig_term, NULL);
		uv_close((uv_handle_t *)&b->sig_hup, NULL);
		ogw_loop_fini(b->ctx);
	}
	for (size_t i = 0; i < BUCKETS; i++) {
		struct charger *c = b->table[i], *next;
		for (; c; c = next) {
			next = c->hnext;
			queue_clear(&c->q);
			queue_clear(&c->early);
			free(c->rx);
			free(c);
		}
	}
	for (int v = 0; v < OGW_OCPP_COUNT; v++)
		ogw_schema_set_free(b->schemas[v]);
	ogw_conf_clear(&b->conf);
	free(b);
	ogw_info(NULL, "bridge stopped");
	return r < 0 ? 1 : 0;
}
