/* SPDX-License-Identifier: MIT */
/*
 * The MQTT uplinks: one broker connection carries the north leg of every
 * charger as a topic pair, <prefix>/<site>/<id>/up and .../down, with a
 * retained .../state per charger and a retained <prefix>/<site>/$gateway/state
 * whose last will says the gateway is gone (docs/MQTT.md); the primary's
 * also takes the dynamic site limit on .../$gateway/limit. A secondary CSMS
 * with an mqtt(s):// URL (docs/MULTI_CSMS.md) gets an uplink of its own,
 * made at its first leg's connect, one per URL. A north leg is up while
 * its broker connection is; the session's pipeline does the rest exactly
 * as for a WebSocket. It buffers nothing of its own: while the broker is
 * away the legs are down and the session answers (or queues) for them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ocppgw/json.h"
#include "ocppgw/log.h"
#include "ocppgw/mqtt.h"
#include "ocppgw/util.h"
#include "features/balance/balance.h"
#include "session/session.h"
#include "transport/transport.h"

#define TOPIC_MAX 512
#define GATEWAY_LEVEL "$gateway"
/* Down-CALLs remembered against QoS 1 duplicates (at-least-once delivery,
 * redelivered right after a reconnect). Only for a minute: a CSMS that
 * counts its message ids may start again at 1 on a new WebSocket. */
#define RECENT_CALLS 256
#define RECENT_US (60ull * 1000000)

struct recent_call {
	char key[OGW_ID_MAX + OGW_MSGID_MAX + 2]; /* "<charger>\n<msg id>" */
	uint64_t at_us;
};

struct ogw_north_mqtt {
	struct ogw_north_mqtt *next;  /* gw->north_mqtt's list */
	struct ogw_gateway *gw;
	struct ogw_mqtt *client;
	char *url;                    /* the CSMS URL it carries (a copy) */
	char csms[65];                /* "": the primary's; else the secondary's name */
	char prefix[128];
	char site[128];
	/* Chargers whose retained state says online: the ones to mark offline
	 * once the broker is back, if they left while it was away. */
	char **announced;
	size_t n_announced;
	struct recent_call recent[RECENT_CALLS];
	unsigned int recent_next;
};

/* <prefix>/<site>/<encoded id>/<leaf>; the id's level as ogw_percent_encode()s it. */
static void topic_of(const struct ogw_north_mqtt *nm, const char *id, const char *leaf,
		     char out[TOPIC_MAX])
{
	char enc[OGW_ID_MAX * 3 + 1];
	ogw_percent_encode(id, enc, sizeof(enc));
	snprintf(out, TOPIC_MAX, "%s/%s/%s/%s", nm->prefix, nm->site, enc, leaf);
}

static void publish_json(struct ogw_north_mqtt *nm, const char *topic, json_t *doc)
{
	char *text = doc ? ogw_json_text(doc, JSON_COMPACT) : NULL;
	json_decref(doc);
	if (!text || ogw_mqtt_publish(nm->client, topic, text, strlen(text), true) < 0)
		ogw_err(NULL, "mqtt: Failed to publish %s", topic);
	free(text);
}

/* {"online", "since"}: since @since (a charger's connection), or now. */
static json_t *state_doc(bool online, time_t since)
{
	char when[32];
	struct tm tm;

	if (since && gmtime_r(&since, &tm))
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S.000Z", &tm);
	else
		ogw_time_rfc3339(when);
	return json_pack("{s:b, s:s}", "online", online, "since", when);
}

static ssize_t announced_index(const struct ogw_north_mqtt *nm, const char *id)
{
	for (size_t i = 0; i < nm->n_announced; i++)
		if (!strcmp(nm->announced[i], id))
			return (ssize_t)i;
	return -1;
}

static void announced_remove(struct ogw_north_mqtt *nm, size_t i)
{
	free(nm->announced[i]);
	nm->announced[i] = nm->announced[--nm->n_announced];
}

/* The CSMS URL north leg @l goes to. */
static const char *leg_url(const struct ogw_leg *l)
{
	const struct ogw_secondary *sec = ogw_leg_secondary(l);
	return sec ? sec->conf->url : l->s->gw->conf.csms_url;
}

static struct ogw_log_ctx leg_lc(const struct ogw_leg *l)
{
	const struct ogw_secondary *sec = ogw_leg_secondary(l);
	return (struct ogw_log_ctx){ l->s->id, sec ? sec->leg_name : "north", NULL, NULL };
}

/* The uplink carrying @url, or NULL. */
static struct ogw_north_mqtt *uplink_find(struct ogw_gateway *gw, const char *url)
{
	for (struct ogw_north_mqtt *nm = gw->north_mqtt; nm; nm = nm->next)
		if (url && !strcmp(nm->url, url))
			return nm;
	return NULL;
}

/* The north leg of @s that uplink @nm carries, or NULL. */
static struct ogw_leg *mqtt_leg(struct ogw_session *s, const struct ogw_north_mqtt *nm)
{
	OGW_FOR_NORTH(s, n)
		if (n->tp == &ogw_mqtt_transport && !strcmp(leg_url(n), nm->url))
			return n;
	return NULL;
}

static int uplink_start(struct ogw_gateway *gw, const struct ogw_csms_conf *sec,
			struct ogw_north_mqtt **ret);

/* The charger's retained state: online with the versions of @l (the
 * charger's and this uplink's), or offline. */
static void publish_state(struct ogw_north_mqtt *nm, struct ogw_leg *l, const char *id,
			  bool online)
{
	struct ogw_session *s = l ? l->s : NULL;
	char topic[TOPIC_MAX];
	json_t *doc = state_doc(online, online ? s->connected_at : 0);

	topic_of(nm, id, "state", topic);
	if (online && doc)
		json_object_update_new(doc, json_pack("{s:s, s:s}", "ocpp",
						      ogw_ocpp_name(s->south.ver), "north",
						      ogw_ocpp_name(l->ver)));
	publish_json(nm, topic, doc);
	ssize_t i = announced_index(nm, id);
	if (online && i < 0) {
		char **n = realloc(nm->announced, (nm->n_announced + 1) * sizeof(*n));
		char *copy = strdup(id);
		if (n)
			nm->announced = n;
		if (n && copy)
			nm->announced[nm->n_announced++] = copy;
		else
			free(copy);
	} else if (!online && i >= 0) {
		announced_remove(nm, (size_t)i);
	}
}

/* ---- the transport ------------------------------------------------------- */

static void mqtt_connect(struct ogw_leg *l)
{
	struct ogw_gateway *gw = l->s->gw;
	const struct ogw_secondary *sec = ogw_leg_secondary(l);
	struct ogw_north_mqtt *nm = uplink_find(gw, leg_url(l));

	/* a secondary's broker: connected at its first leg, then shared; the
	 * uplink brings its legs up once the broker accepts it */
	if (!nm && sec && !gw->stopping && uplink_start(gw, sec->conf, &nm) < 0) {
		struct ogw_log_ctx lc = leg_lc(l);
		ogw_err(&lc, "mqtt: Failed to start the uplink to %s", sec->conf->url);
	}
	if (!nm || !ogw_mqtt_connected(nm->client)) {
		ogw_session_north_failed(l, "MQTT broker unreachable");
		return;
	}
	publish_state(nm, l, l->s->id, true);
	ogw_session_north_up(l);
}

static void mqtt_send_take(struct ogw_leg *l, char *buf, const char *text, size_t len)
{
	struct ogw_north_mqtt *nm = uplink_find(l->s->gw, leg_url(l));
	char topic[TOPIC_MAX];

	if (!nm) { /* the gateway is being freed */
		free(buf);
		return;
	}
	topic_of(nm, l->s->id, "up", topic);
	int r = ogw_mqtt_publish(nm->client, topic, text, len, false);
	free(buf);
	if (r < 0) {
		struct ogw_log_ctx lc = leg_lc(l);
		ogw_err(&lc, "Failed to publish on %s: %s", topic, strerror(-r));
	}
}

/* The session ends: the charger is offline for the cloud (or will be
 * marked so once the broker is back). */
static bool mqtt_close(struct ogw_leg *l)
{
	struct ogw_north_mqtt *nm = uplink_find(l->s->gw, leg_url(l));

	if (nm && ogw_mqtt_connected(nm->client))
		publish_state(nm, l, l->s->id, false);
	return false;
}

const struct ogw_leg_transport ogw_mqtt_transport = {
	.name = "mqtt",
	.connect = mqtt_connect,
	.send_take = mqtt_send_take,
	.close = mqtt_close,
	.ping = NULL,  /* the MQTT keepalive covers every charger */
	.abort = NULL,
	.session_reconnects = false,
};

/* ---- the broker connection ---------------------------------------------- */

static void on_connected(void *arg, bool session_present)
{
	struct ogw_north_mqtt *nm = arg;
	struct ogw_gateway *gw = nm->gw;
	char topic[TOPIC_MAX];

	(void)session_present; /* subscribing again is harmless and covers a lost session */
	snprintf(topic, sizeof(topic), "%s/%s/+/down", nm->prefix, nm->site);
	if (ogw_mqtt_subscribe(nm->client, topic) < 0)
		ogw_err(NULL, "mqtt: Failed to subscribe to %s", topic);
	/* The retained states of the site: one saying online for a charger not
	 * here is left from before a restart of ours, and is corrected. */
	snprintf(topic, sizeof(topic), "%s/%s/+/state", nm->prefix, nm->site);
	if (ogw_mqtt_subscribe(nm->client, topic) < 0)
		ogw_err(NULL, "mqtt: Failed to subscribe to %s", topic);
	/* The dynamic site limit an energy manager publishes (balance_mqtt.c),
	 * on the primary's uplink only. */
	snprintf(topic, sizeof(topic), "%s/%s/%s/limit", nm->prefix, nm->site, GATEWAY_LEVEL);
	if (!nm->csms[0] && ogw_mqtt_subscribe(nm->client, topic) < 0)
		ogw_err(NULL, "mqtt: Failed to subscribe to %s", topic);
	snprintf(topic, sizeof(topic), "%s/%s/%s/state", nm->prefix, nm->site, GATEWAY_LEVEL);
	publish_json(nm, topic, state_doc(true, 0));
	for (size_t i = nm->n_announced; i-- > 0;) {
		struct ogw_session *s = ogw_session_find(gw, nm->announced[i]);
		if (!s || s->state != OGW_SESSION_ACTIVE)
			publish_state(nm, NULL, nm->announced[i], false);
	}
	for (size_t i = 0; i < gw->table_size; i++)
		for (struct ogw_session *s = gw->table[i]; s; s = s->hnext) {
			struct ogw_leg *l = mqtt_leg(s, nm);
			if (s->state != OGW_SESSION_ACTIVE || !l)
				continue;
			publish_state(nm, l, s->id, true);
			if (l->state != OGW_LEG_UP)
				ogw_session_north_up(l);
		}
}

static void on_lost(void *arg, const char *why)
{
	struct ogw_north_mqtt *nm = arg;
	struct ogw_gateway *gw = nm->gw;
	char reason[160];

	snprintf(reason, sizeof(reason), "MQTT broker connection lost (%s)", why);
	for (size_t i = 0; i < gw->table_size; i++) {
		struct ogw_session *s = gw->table[i], *next;
		for (; s; s = next) {
			next = s->hnext;
			struct ogw_leg *l = mqtt_leg(s, nm);
			if (s->state == OGW_SESSION_ACTIVE && l && l->state != OGW_LEG_DOWN)
				ogw_session_north_failed(l, reason);
		}
	}
}

/* Whether @payload is a CALL this charger got already (remembering it if not). */
static bool is_duplicate_call(struct ogw_north_mqtt *nm, const char *id, const char *payload,
			      size_t len)
{
	char msg_id[OGW_MSGID_MAX + 1], key[sizeof(nm->recent[0].key)];
	uint64_t now = ogw_now_us();
	size_t i = 0;

	while (i < len && (payload[i] == '[' || payload[i] == ' ' || payload[i] == '\t' ||
			   payload[i] == '\r' || payload[i] == '\n'))
		i++;
	if (i >= len || payload[i] != '2')
		return false;
	ogw_rpc_sniff_id(payload, len, msg_id);
	if (!strcmp(msg_id, "-1"))
		return false;
	snprintf(key, sizeof(key), "%s\n%s", id, msg_id);
	for (unsigned int k = 0; k < RECENT_CALLS; k++)
		if (now - nm->recent[k].at_us < RECENT_US && !strcmp(nm->recent[k].key, key))
			return true;
	snprintf(nm->recent[nm->recent_next].key, sizeof(key), "%s", key);
	nm->recent[nm->recent_next].at_us = now;
	nm->recent_next = (nm->recent_next + 1) % RECENT_CALLS;
	return false;
}

/* A retained state saying online for a charger with no session here. */
static void on_state(struct ogw_north_mqtt *nm, const char *id, const char *payload,
		     size_t len)
{
	struct ogw_session *s = ogw_session_find(nm->gw, id);
	if (s && s->state == OGW_SESSION_ACTIVE)
		return;
	json_t *doc = json_loadb(payload, len, 0, NULL);
	bool online = json_is_true(json_object_get(doc, "online"));
	json_decref(doc);
	if (!online)
		return;
	struct ogw_log_ctx lc = { id, "north", NULL, NULL };
	ogw_info(&lc, "mqtt: stale online state of a charger not connected here: marked offline");
	publish_state(nm, NULL, id, false);
}

/* A frame for a charger: <prefix>/<site>/<id>/down (or a state, above).
 * Anything else, or a charger not connected here, is dropped with a log
 * line. */
static void on_message(void *arg, const char *topic, const char *payload, size_t len)
{
	struct ogw_north_mqtt *nm = arg;
	size_t plen = strlen(nm->prefix), slen = strlen(nm->site);
	const char *level = topic + plen + 1 + slen + 1;
	char id[OGW_ID_MAX + 1];

	if (strncmp(topic, nm->prefix, plen) || topic[plen] != '/' ||
	    strncmp(topic + plen + 1, nm->site, slen) || topic[plen + 1 + slen] != '/') {
		ogw_warn(NULL, "mqtt: message on unexpected topic %s dropped", topic);
		return;
	}
	const char *end = strchr(level, '/');
	bool ours = end && (size_t)(end - level) == strlen(GATEWAY_LEVEL) &&
		    !strncmp(level, GATEWAY_LEVEL, strlen(GATEWAY_LEVEL));
	if (ours && !strcmp(end, "/limit") && !nm->csms[0]) {
		ogw_balance_limit_message(nm->gw, topic, payload, len);
		return;
	}
	if (ours && !strcmp(end, "/state"))
		return;
	if (!end || (strcmp(end, "/down") && strcmp(end, "/state")) ||
	    ogw_percent_decode(level, (size_t)(end - level), id, sizeof(id)) < 0 ||
	    ogw_identity_check(id, strlen(id))) {
		ogw_warn(NULL, "mqtt: message on unexpected topic %s dropped", topic);
		return;
	}
	if (!strcmp(end, "/state")) {
		on_state(nm, id, payload, len);
		return;
	}
	struct ogw_session *s = ogw_session_find(nm->gw, id);
	struct ogw_leg *l = s ? mqtt_leg(s, nm) : NULL;
	struct ogw_log_ctx lc = l ? leg_lc(l) : (struct ogw_log_ctx){ id, "north", NULL, NULL };
	if (!l || s->state != OGW_SESSION_ACTIVE || l->state != OGW_LEG_UP) {
		ogw_warn(&lc, "mqtt: frame of %zu bytes for a charger not connected here dropped",
			 len);
		return;
	}
	if (is_duplicate_call(nm, id, payload, len)) {
		ogw_info(&lc, "mqtt: second delivery of a CALL dropped");
		return;
	}
	ogw_session_rx(l, payload, len, 0, true, true);
}

/* Connects an uplink for the primary (@sec NULL: csms.url with the mqtt
 * settings) or for secondary @sec (its URL, user, password, ca, cert,
 * key), adding it to gw->north_mqtt. */
static int uplink_start(struct ogw_gateway *gw, const struct ogw_csms_conf *sec,
			struct ogw_north_mqtt **ret)
{
	const struct ogw_conf *c = &gw->conf;
	const char *url = sec ? sec->url : c->csms_url;
	struct ogw_mqtt_opts o;
	char will_topic[TOPIC_MAX], client_id[256];
	char *will = NULL;
	int r;

	memset(&o, 0, sizeof(o));
	if (ogw_mqtt_parse_url(url, &o.url) < 0 || !strcmp(o.url.site, "+")) {
		ogw_err(NULL, "%s%s url '%s': expected mqtt://host[:port]/<site> or mqtts://...",
			sec ? "csms.secondaries " : "csms", sec ? sec->name : "", url);
		return -EINVAL;
	}
	struct ogw_north_mqtt *nm = calloc(1, sizeof(*nm));
	if (!nm || !(nm->url = strdup(url))) {
		free(nm);
		return -ENOMEM;
	}
	nm->gw = gw;
	snprintf(nm->csms, sizeof(nm->csms), "%s", sec ? sec->name : "");
	snprintf(nm->prefix, sizeof(nm->prefix), "%s", c->mqtt_prefix);
	snprintf(nm->site, sizeof(nm->site), "%s", o.url.site);
	snprintf(will_topic, sizeof(will_topic), "%s/%s/%s/state", nm->prefix, nm->site,
		 GATEWAY_LEVEL);
	/* a secondary's id names it too: its broker may be the primary's */
	if (sec)
		snprintf(client_id, sizeof(client_id), "ocppgw-gw-%s-%s", nm->site, sec->name);
	else
		snprintf(client_id, sizeof(client_id), "ocppgw-gw-%s", nm->site);
	json_t *offline = json_pack("{s:b}", "online", false);
	will = offline ? ogw_json_text(offline, JSON_COMPACT) : NULL;
	json_decref(offline);
	ogw_conf_mqtt_opts(c, &o);
	o.client_id = !sec && c->mqtt_client_id ? c->mqtt_client_id : client_id;
	if (sec) {
		/* its own credentials, none unless set: mqtt.* are the primary's */
		o.username = sec->user;
		o.password = sec->password;
		o.ca = sec->ca;
		o.cert = sec->cert;
		o.key = sec->key;
	}
	o.will_topic = will_topic;
	o.will_payload = will ? will : "{\"online\":false}";
	/* A frame in flight when the broker went away was answered by the
	 * session (or queued for replay): sending it again too would deliver
	 * it twice. */
	o.forget_unacked = true;
	static const struct ogw_mqtt_handlers handlers = {
		.connected = on_connected,
		.lost = on_lost,
		.message = on_message,
	};
	r = ogw_mqtt_new(&o, &handlers, nm, &nm->client);
	free(will);
	if (r < 0) {
		ogw_err(NULL, "mqtt: Failed to create the client: %s", strerror(-r));
		free(nm->url);
		free(nm);
		return r;
	}
	/* the primary's first (a secondary's is added behind it) */
	struct ogw_north_mqtt **tail = &gw->north_mqtt;
	while (*tail)
		tail = &(*tail)->next;
	*tail = nm;
	if (sec)
		ogw_info(NULL, "mqtt: CSMS %s over %s", sec->name, url);
	*ret = nm;
	return 0;
}

int ogw_north_mqtt_start(struct ogw_gateway *gw)
{
	struct ogw_north_mqtt *nm;
	return uplink_start(gw, NULL, &nm);
}

void ogw_north_mqtt_stop(struct ogw_gateway *gw)
{
	char topic[TOPIC_MAX];

	while (gw->north_mqtt) {
		struct ogw_north_mqtt *nm = gw->north_mqtt;
		if (ogw_mqtt_connected(nm->client)) {
			for (size_t i = nm->n_announced; i-- > 0;)
				publish_state(nm, NULL, nm->announced[i], false);
			snprintf(topic, sizeof(topic), "%s/%s/%s/state", nm->prefix, nm->site,
				 GATEWAY_LEVEL);
			publish_json(nm, topic, json_pack("{s:b}", "online", false));
		}
		ogw_mqtt_free(nm->client);
		for (size_t i = 0; i < nm->n_announced; i++)
			free(nm->announced[i]);
		free(nm->announced);
		gw->north_mqtt = nm->next;
		free(nm->url);
		free(nm);
	}
}
