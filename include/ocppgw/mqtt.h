/* SPDX-License-Identifier: MIT */
/*
 * One MQTT client (libmosquitto) on the process's event loop: its socket is
 * watched with uv_poll, keepalive and reconnects run on a uv timer, and no
 * second thread ever exists (mosquitto_loop_start() is never called). It
 * knows nothing about OCPP: the gateway's north leg and the cloud bridge
 * give it topics and payloads.
 */
#ifndef OCPPGW_MQTT_H
#define OCPPGW_MQTT_H

#include <stdbool.h>
#include <stddef.h>

struct ogw_mqtt;

/* A broker address: mqtt://host[:1883]/<site> or mqtts://host[:8883]/<site>. */
struct ogw_mqtt_url {
	char host[256];
	int port;
	bool tls;
	char site[128];           /* the path's single level; "+" means every site */
};
/* 0, or -EINVAL (with no host, or a path of more than one level). */
int ogw_mqtt_parse_url(const char *url, struct ogw_mqtt_url *ret);

struct ogw_mqtt_opts {
	struct ogw_mqtt_url url;
	const char *client_id;    /* required: the persistent session's name */
	const char *username;     /* NULL: none */
	const char *password;
	const char *ca;           /* mqtts: CA file; NULL: the system's */
	const char *cert;         /* mqtts: client certificate and key, or NULL */
	const char *key;
	const char *tls_version;  /* mqtts: the lowest version, "tlsv1.2" or "tlsv1.3" */
	const char *ciphers;      /* mqtts: TLS 1.2 suites (OpenSSL list), or NULL */
	int keepalive_s;
	int reconnect_min_ms;
	int reconnect_max_ms;
	const char *will_topic;   /* NULL: no last will */
	const char *will_payload; /* published retained, QoS 1 */
	/* On a lost connection, forget the QoS 1 messages the broker has not
	 * acknowledged instead of sending them again after the reconnect: for a
	 * publisher whose every unacknowledged message was answered (or queued
	 * for replay) by someone else meanwhile. The broker's side of the
	 * persistent session (subscriptions, messages for us) is kept. */
	bool forget_unacked;
};

struct ogw_mqtt_handlers {
	/* The broker accepted us; @session_present: it kept our subscriptions. */
	void (*connected)(void *arg, bool session_present);
	/* The connection is gone; a reconnect is scheduled already. */
	void (*lost)(void *arg, const char *why);
	void (*message)(void *arg, const char *topic, const char *payload, size_t len);
};

/* Starts connecting at once (and keeps reconnecting with backoff). */
int ogw_mqtt_new(const struct ogw_mqtt_opts *o, const struct ogw_mqtt_handlers *h, void *arg,
		 struct ogw_mqtt **ret);
bool ogw_mqtt_connected(const struct ogw_mqtt *m);
/* QoS 1 publish; messages leave in call order. 0 or a negative errno. */
int ogw_mqtt_publish(struct ogw_mqtt *m, const char *topic, const void *payload, size_t len,
		     bool retain);
int ogw_mqtt_subscribe(struct ogw_mqtt *m, const char *pattern);
/* Sends DISCONNECT (so the will is not published) and frees @m once the loop
 * has closed its handles. NULL-safe; returns NULL. */
struct ogw_mqtt *ogw_mqtt_free(struct ogw_mqtt *m);

#endif
