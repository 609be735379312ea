/* SPDX-License-Identifier: MIT */
/*
 * libmosquitto driven by the process's libuv loop: the client's socket is
 * watched with uv_poll (readable always, writable while libmosquitto has
 * bytes queued), one uv timer runs mosquitto_loop_misc() every second while
 * a connection exists (keepalive pings, retries) and waits out the
 * reconnect backoff while none does. In-flight QoS 1 messages survive a
 * reconnect inside libmosquitto, unless the owner asks to forget them. No
 * thread, no blocking call but the DNS lookup of the broker's name.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mosquitto.h>
#include <uv.h>

#include "ocppgw/log.h"
#include "ocppgw/loop.h"
#include "ocppgw/mqtt.h"
#include "ocppgw/util.h"

#define MISC_INTERVAL_MS 1000

struct ogw_mqtt {
	struct mosquitto *mosq;
	struct ogw_mqtt_handlers h;
	void *arg;
	struct ogw_mqtt_opts o;   /* with copies of its strings */
	uv_poll_t *poll;          /* the socket being watched; NULL when none */
	int poll_events;
	uv_timer_t timer;         /* misc while a socket exists, else the backoff */
	unsigned int attempts;    /* failed connects since the last CONNACK */
	unsigned int handles;     /* uv handles not closed yet (freed at 0) */
	bool started;             /* mosquitto_connect_async() was called once */
	bool connected;           /* CONNACK accepted */
	bool freeing;
};

static void opts_free(struct ogw_mqtt_opts *o)
{
	char *strings[] = {
		(char *)o->client_id, (char *)o->username, (char *)o->password, (char *)o->ca,
		(char *)o->cert, (char *)o->key, (char *)o->will_topic, (char *)o->will_payload,
	};
	if (strings[2])
		ogw_memzero(strings[2], strlen(strings[2]));
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
		free(strings[i]);
	memset(o, 0, sizeof(*o));
}

/* @dst takes @src with copies of its strings; -ENOMEM leaves some unset. */
static int opts_copy(struct ogw_mqtt_opts *dst, const struct ogw_mqtt_opts *src)
{
	const char **strings[] = {
		&dst->client_id, &dst->username, &dst->password, &dst->ca, &dst->cert,
		&dst->key, &dst->will_topic, &dst->will_payload,
	};
	int r = 0;

	*dst = *src;
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		if (!*strings[i])
			continue;
		*strings[i] = strdup(*strings[i]);
		if (!*strings[i])
			r = -ENOMEM;
	}
	return r;
}

int ogw_mqtt_parse_url(const char *url, struct ogw_mqtt_url *ret)
{
	struct ogw_mqtt_url u;
	const char *p;

	memset(&u, 0, sizeof(u));
	if (!strncasecmp(url, "mqtt://", 7)) {
		p = url + 7;
		u.port = 1883;
	} else if (!strncasecmp(url, "mqtts://", 8)) {
		p = url + 8;
		u.tls = true;
		u.port = 8883;
	} else {
		return -EINVAL;
	}
	size_t hlen = strcspn(p, ":/");
	if (!hlen || hlen >= sizeof(u.host))
		return -EINVAL;
	memcpy(u.host, p, hlen);
	p += hlen;
	if (*p == ':') {
		char *end;
		long port = strtol(p + 1, &end, 10);
		if (end == p + 1 || port < 1 || port > 65535)
			return -EINVAL;
		u.port = (int)port;
		p = end;
	}
	if (*p == '/')
		p++;
	size_t slen = strlen(p);
	while (slen && p[slen - 1] == '/')
		slen--;
	/* One topic level: no '/', and no wildcard but a whole "+". */
	if (!slen || slen >= sizeof(u.site) || memchr(p, '/', slen) || memchr(p, '#', slen) ||
	    (memchr(p, '+', slen) && slen != 1))
		return -EINVAL;
	memcpy(u.site, p, slen);
	*ret = u;
	return 0;
}

static void connect_now(struct ogw_mqtt *m);

static void handle_closed(uv_handle_t *h)
{
	struct ogw_mqtt *m = h->data;
	if (h != (uv_handle_t *)&m->timer)
		free(h);
	if (--m->handles == 0) {
		mosquitto_destroy(m->mosq);
		opts_free(&m->o);
		free(m);
	}
}

static void timer_cb(uv_timer_t *t);

/* Stops watching the socket (libmosquitto has closed it or is about to). */
static void unwatch(struct ogw_mqtt *m)
{
	if (!m->poll)
		return;
	uv_poll_stop(m->poll);
	uv_close((uv_handle_t *)m->poll, handle_closed);
	m->poll = NULL;
}

/* The connection is gone: schedule the next attempt, exponential backoff
 * with jitter so a fleet of gateways does not come back in lockstep. */
static void drop(struct ogw_mqtt *m, const char *why)
{
	bool was = m->connected;

	unwatch(m);
	m->connected = false;
	if (m->freeing)
		return;
	uint64_t delay = ogw_backoff_ms(m->attempts++, m->o.reconnect_min_ms, m->o.reconnect_max_ms);
	ogw_log(was ? OGW_LOG_WARN : OGW_LOG_INFO, NULL,
		"mqtt: %s:%d %s; reconnecting in %llu ms", m->o.url.host, m->o.url.port, why,
		(unsigned long long)delay);
	uv_timer_start(&m->timer, timer_cb, delay, 0);
	if (was && m->h.lost)
		m->h.lost(m->arg, why);
}

static void poll_cb(uv_poll_t *p, int status, int events);

/* Watches for writable too while libmosquitto has bytes queued. */
static void rewatch(struct ogw_mqtt *m)
{
	if (!m->poll)
		return;
	int ev = UV_READABLE | (mosquitto_want_write(m->mosq) ? UV_WRITABLE : 0);
	if (ev != m->poll_events) {
		m->poll_events = ev;
		uv_poll_start(m->poll, ev, poll_cb);
	}
}

/* After any libmosquitto call that may have read, written or closed. */
static void settle(struct ogw_mqtt *m, int rc)
{
	if (rc == MOSQ_ERR_SUCCESS && mosquitto_socket(m->mosq) < 0)
		rc = MOSQ_ERR_NO_CONN;
	if (rc != MOSQ_ERR_SUCCESS) {
		drop(m, rc == MOSQ_ERR_ERRNO ? "connection lost" : mosquitto_strerror(rc));
		return;
	}
	rewatch(m);
}

static void poll_cb(uv_poll_t *p, int status, int events)
{
	struct ogw_mqtt *m = p->data;
	int rc = MOSQ_ERR_SUCCESS;

	if (status < 0) {
		drop(m, uv_strerror(status));
		return;
	}
	if (events & UV_READABLE)
		rc = mosquitto_loop_read(m->mosq, 1);
	/* The read may have dropped the connection and run the handlers. */
	if (rc == MOSQ_ERR_SUCCESS && m->poll == p && (events & UV_WRITABLE))
		rc = mosquitto_loop_write(m->mosq, 1);
	if (m->poll == p)
		settle(m, rc);
}

static void timer_cb(uv_timer_t *t)
{
	struct ogw_mqtt *m = t->data;

	if (!m->poll) {
		connect_now(m);
		return;
	}
	settle(m, mosquitto_loop_misc(m->mosq));
}

static int configure(struct ogw_mqtt *m);

static void connect_now(struct ogw_mqtt *m)
{
	if (m->started && m->o.forget_unacked) {
		/* A fresh client state: nothing of the last connection is resent. */
		if (mosquitto_reinitialise(m->mosq, m->o.client_id, false, m) != MOSQ_ERR_SUCCESS ||
		    configure(m) < 0) {
			drop(m, "cannot reset the client");
			return;
		}
		m->started = false;
	}
	int rc = m->started ? mosquitto_reconnect_async(m->mosq) :
			      mosquitto_connect_async(m->mosq, m->o.url.host, m->o.url.port,
						      m->o.keepalive_s);
	m->started = true;
	int fd = mosquitto_socket(m->mosq);
	if (rc != MOSQ_ERR_SUCCESS || fd < 0) {
		drop(m, rc == MOSQ_ERR_ERRNO ? strerror(errno) :
			rc ? mosquitto_strerror(rc) : "no socket");
		return;
	}
	m->poll = calloc(1, sizeof(*m->poll));
	if (!m->poll || uv_poll_init_socket(ogw_loop_uv(), m->poll, fd) < 0) {
		free(m->poll);
		m->poll = NULL;
		drop(m, "cannot watch the socket");
		return;
	}
	m->poll->data = m;
	m->handles++;
	m->poll_events = 0;
	rewatch(m);
	uv_timer_start(&m->timer, timer_cb, MISC_INTERVAL_MS, MISC_INTERVAL_MS);
}

static void on_connect(struct mosquitto *mosq, void *arg, int rc, int flags,
		       const mosquitto_property *props)
{
	struct ogw_mqtt *m = arg;
	(void)mosq;
	(void)props;
	if (rc) {
		/* libmosquitto drops the socket on the next loop call. */
		ogw_warn(NULL, "mqtt: %s:%d refused the connection: %s", m->o.url.host, m->o.url.port,
			 mosquitto_connack_string(rc));
		return;
	}
	m->connected = true;
	m->attempts = 0;
	ogw_info(NULL, "mqtt: connected to %s:%d%s", m->o.url.host, m->o.url.port,
		 flags & 1 ? " (session resumed)" : "");
	if (m->h.connected)
		m->h.connected(m->arg, flags & 1);
}

static void on_message(struct mosquitto *mosq, void *arg, const struct mosquitto_message *msg)
{
	struct ogw_mqtt *m = arg;
	(void)mosq;
	if (m->h.message && !m->freeing)
		m->h.message(m->arg, msg->topic, msg->payload ? msg->payload : "",
			     (size_t)msg->payloadlen);
}

static int configure(struct ogw_mqtt *m)
{
	const struct ogw_mqtt_opts *o = &m->o;
	int rc = mosquitto_int_option(m->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
	/* One small message per OCPP frame: Nagle would hold each back. */
	if (!rc)
		rc = mosquitto_int_option(m->mosq, MOSQ_OPT_TCP_NODELAY, 1);
	/* libmosquitto's default lets 20 QoS 1 messages wait for their PUBACK
	 * and queues the rest until one arrives, which is read only once per
	 * loop turn: with a turn of 10 ms under load that caps a whole site's
	 * uplink at 2,000 messages/s. The gateway already bounds what each
	 * charger has in flight (max_pending_calls), so no second cap here. */
	if (!rc)
		rc = mosquitto_max_inflight_messages_set(m->mosq, 0);
	if (!rc && o->username)
		rc = mosquitto_username_pw_set(m->mosq, o->username, o->password);
	if (!rc && o->url.tls)
		rc = mosquitto_tls_set(m->mosq, o->ca, o->ca ? NULL : "/etc/ssl/certs", o->cert,
				       o->key, NULL);
	/* libmosquitto 2 reads tls_version as the lowest version it allows */
	if (!rc && o->url.tls && (o->tls_version || o->ciphers))
		rc = mosquitto_tls_opts_set(m->mosq, 1, o->tls_version, o->ciphers);
	if (!rc && o->will_topic)
		rc = mosquitto_will_set(m->mosq, o->will_topic, (int)strlen(o->will_payload),
					o->will_payload, 1, true);
	if (rc) {
		ogw_err(NULL, "mqtt: Failed to configure the client: %s", mosquitto_strerror(rc));
		return -EINVAL;
	}
	mosquitto_connect_v5_callback_set(m->mosq, on_connect);
	mosquitto_message_callback_set(m->mosq, on_message);
	return 0;
}

int ogw_mqtt_new(const struct ogw_mqtt_opts *o, const struct ogw_mqtt_handlers *h, void *arg,
		 struct ogw_mqtt **ret)
{
	static bool lib_ready;
	struct ogw_mqtt *m;

	if (!o->client_id || !*o->client_id)
		return -EINVAL;
	if (!lib_ready) {
		mosquitto_lib_init();
		lib_ready = true;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->h = *h;
	m->arg = arg;
	if (opts_copy(&m->o, o) < 0) {
		opts_free(&m->o);
		free(m);
		return -ENOMEM;
	}
	/* clean_session false: the broker keeps our subscriptions and the QoS 1
	 * messages for us while we are away. */
	m->mosq = mosquitto_new(o->client_id, false, m);
	if (!m->mosq) {
		opts_free(&m->o);
		free(m);
		return -ENOMEM;
	}
	if (configure(m) < 0) {
		mosquitto_destroy(m->mosq);
		opts_free(&m->o);
		free(m);
		return -EINVAL;
	}
	uv_timer_init(ogw_loop_uv(), &m->timer);
	m->timer.data = m;
	m->handles = 1;
	ogw_info(NULL, "mqtt: %s://%s:%d as client '%s'", o->url.tls ? "mqtts" : "mqtt",
		 o->url.host, o->url.port, o->client_id);
	connect_now(m);
	*ret = m;
	return 0;
}

bool ogw_mqtt_connected(const struct ogw_mqtt *m)
{
	return m && m->connected;
}

int ogw_mqtt_publish(struct ogw_mqtt *m, const char *topic, const void *payload, size_t len,
		     bool retain)
{
	if (len > 268435455)
		return -EMSGSIZE;
	int rc = mosquitto_publish(m->mosq, NULL, topic, (int)len, payload, 1, retain);
	if (m->poll)
		settle(m, rc == MOSQ_ERR_NO_CONN ? MOSQ_ERR_SUCCESS : rc);
	switch (rc) {
	case MOSQ_ERR_SUCCESS:
	case MOSQ_ERR_NO_CONN:
	case MOSQ_ERR_CONN_LOST:
	case MOSQ_ERR_ERRNO:
		/* Queued: libmosquitto sends it once connected again. */
		return 0;
	case MOSQ_ERR_NOMEM:
		return -ENOMEM;
	default:
		return -EINVAL;
	}
}

int ogw_mqtt_subscribe(struct ogw_mqtt *m, const char *pattern)
{
	int rc = mosquitto_subscribe(m->mosq, NULL, pattern, 1);
	if (m->poll)
		settle(m, rc == MOSQ_ERR_NO_CONN ? MOSQ_ERR_SUCCESS : rc);
	return rc == MOSQ_ERR_SUCCESS ? 0 : rc == MOSQ_ERR_NOMEM ? -ENOMEM : -EINVAL;
}

struct ogw_mqtt *ogw_mqtt_free(struct ogw_mqtt *m)
{
	if (!m)
		return NULL;
	m->freeing = true;
	if (m->connected) {
		mosquitto_disconnect(m->mosq);
		/* Flush what is queued (the DISCONNECT, last state updates). */
		for (int i = 0; i < 50 && mosquitto_want_write(m->mosq); i++)
			if (mosquitto_loop_write(m->mosq, 1) != MOSQ_ERR_SUCCESS)
				break;
	}
	unwatch(m);
	uv_timer_stop(&m->timer);
	uv_close((uv_handle_t *)&m->timer, handle_closed);
	return NULL;
}
