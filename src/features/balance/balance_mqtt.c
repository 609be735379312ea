/* SPDX-License-Identifier: MIT */
/*
 * The dynamic site limit over MQTT: an energy manager (or a site meter's
 * controller) publishes the limit on <prefix>/<site>/$gateway/limit. With
 * an MQTT uplink the gateway reads it on that connection (north_mqtt.c);
 * with a WebSocket uplink load_balancing.limit_mqtt opens a small client
 * of its own here that only subscribes to that topic. Both hand the
 * payload to ogw_balance_limit_message(); a bad one is logged, never
 * fatal. With load_balancing.meter the same client also reads the grid
 * meter on <prefix>/<site>/$gateway/meter. The limit and the meter's
 * headroom themselves live in balance.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ocppgw/log.h"
#include "ocppgw/mqtt.h"
#include "features/balance/balance.h"
#include "session/session.h"

#define LIMIT_LEVEL "$gateway/limit"
#define METER_LEVEL "$gateway/meter"

struct ogw_limit_mqtt {
	struct ogw_gateway *gw;
	struct ogw_mqtt *client;
	char *url;
	char topic[512];
	char meter_topic[512];      /* "": no meter configured */
};

void ogw_balance_limit_message(struct ogw_gateway *gw, const char *topic, const char *payload,
			       size_t len)
{
	char err[160];
	const char *field = "amps";
	double amps = -1;
	json_error_t jerr;
	json_t *v;
	size_t n = len;

	while (n && (payload[n - 1] == ' ' || payload[n - 1] == '\n' || payload[n - 1] == '\r' ||
		     payload[n - 1] == '\t'))
		n--;
	/* An empty payload deletes a retained limit: the configured one applies. */
	v = n ? json_loadb(payload, n, JSON_DECODE_ANY, &jerr) : json_null();
	if (!v) {
		ogw_warn(NULL, "mqtt: site limit on %s ignored: not JSON (%s)", topic, jerr.text);
		return;
	}
	if (json_is_null(v)) {
		ogw_info(NULL, "mqtt: site limit on %s cleared", topic);
		if (ogw_balance_clear_site_limit(gw) < 0)
			ogw_warn(NULL, "mqtt: site limit on %s ignored: load balancing is off", topic);
	} else if (ogw_balance_parse_limit(gw, v, &amps, &field, err, sizeof(err)) < 0 ||
		   ogw_balance_set_site_limit(gw, amps, err, sizeof(err)) < 0) {
		ogw_warn(NULL, "mqtt: site limit on %s ignored: %s", topic, err);
	}
	json_decref(v);
}

/* A reading's three phases: a number (each phase), [L1, L2, L3] or
 * {"L1": A, "L2": A, "L3": A}; false when it is none of these. */
static bool meter_phases(const json_t *v, double ret_a[3])
{
	static const char *const names[] = { "L1", "L2", "L3" };

	for (int k = 0; k < 3; k++) {
		const json_t *x = json_is_number(v) ? v : json_is_array(v) ?
				  json_array_get(v, (size_t)k) : json_object_get(v, names[k]);
		if (!json_is_number(x) || (json_is_array(v) && json_array_size(v) != 3))
			return false;
		ret_a[k] = json_number_value(x);
	}
	return true;
}

void ogw_balance_meter_message(struct ogw_gateway *gw, const char *topic, const char *payload,
			       size_t len)
{
	char err[160];
	double amps[3];
	json_error_t jerr;
	json_t *v = json_loadb(payload, len, JSON_DECODE_ANY, &jerr);

	if (!v)
		ogw_warn(NULL, "mqtt: meter reading on %s ignored: not JSON (%s)", topic, jerr.text);
	else if (!meter_phases(v, amps))
		ogw_warn(NULL, "mqtt: meter reading on %s ignored: expected a number, [L1, L2, L3] "
			 "or {\"L1\": A, \"L2\": A, \"L3\": A}", topic);
	else if (ogw_balance_set_meter(gw, amps, err, sizeof(err)) < 0)
		ogw_warn(NULL, "mqtt: meter reading on %s ignored: %s", topic, err);
	json_decref(v);
}

static void on_connected(void *arg, bool session_present)
{
	struct ogw_limit_mqtt *lm = arg;

	(void)session_present;  /* subscribing again is harmless; a retained limit comes */
	if (ogw_mqtt_subscribe(lm->client, lm->topic) < 0)
		ogw_err(NULL, "mqtt: Failed to subscribe to %s", lm->topic);
	else
		ogw_info(NULL, "load balancing: site limit from %s", lm->topic);
	if (lm->meter_topic[0] && ogw_mqtt_subscribe(lm->client, lm->meter_topic) < 0)
		ogw_err(NULL, "mqtt: Failed to subscribe to %s", lm->meter_topic);
}

/* The limit in force stays while the broker is away. */
static void on_lost(void *arg, const char *why)
{
	struct ogw_limit_mqtt *lm = arg;

	ogw_warn(NULL, "load balancing: limit broker %s lost (%s); the site limit stays",
		 lm->url, why);
}

static void on_message(void *arg, const char *topic, const char *payload, size_t len)
{
	struct ogw_limit_mqtt *lm = arg;

	if (!strcmp(topic, lm->topic))
		ogw_balance_limit_message(lm->gw, topic, payload, len);
	else if (lm->meter_topic[0] && !strcmp(topic, lm->meter_topic))
		ogw_balance_meter_message(lm->gw, topic, payload, len);
	else
		ogw_warn(NULL, "mqtt: message on unexpected topic %s dropped", topic);
}

struct ogw_limit_mqtt *ogw_limit_mqtt_start(struct ogw_gateway *gw, const char *url)
{
	static const struct ogw_mqtt_handlers handlers = {
		.connected = on_connected,
		.lost = on_lost,
		.message = on_message,
	};
	const struct ogw_conf *c = &gw->conf;
	struct ogw_limit_mqtt *lm = calloc(1, sizeof(*lm));
	struct ogw_mqtt_opts o;
	char client_id[256];
	int r = -ENOMEM;

	memset(&o, 0, sizeof(o));
	if (!lm || !(lm->url = strdup(url)))
		goto fail;
	lm->gw = gw;
	r = ogw_mqtt_parse_url(url, &o.url);
	if (r < 0)
		goto fail;
	snprintf(lm->topic, sizeof(lm->topic), "%s/%s/%s", c->mqtt_prefix, o.url.site,
		 LIMIT_LEVEL);
	if (c->lb && c->lb->meter_fuse_a >= 0)
		snprintf(lm->meter_topic, sizeof(lm->meter_topic), "%s/%s/%s", c->mqtt_prefix,
			 o.url.site, METER_LEVEL);
	snprintf(client_id, sizeof(client_id), "ocppgw-limit-%s", o.url.site);
	o.client_id = client_id;
	ogw_conf_mqtt_opts(c, &o);
	r = ogw_mqtt_new(&o, &handlers, lm, &lm->client);
	if (r < 0)
		goto fail;
	return lm;
fail:
	ogw_err(NULL, "load balancing: Failed to start the limit client for %s: %s", url,
		strerror(-r));
	ogw_limit_mqtt_stop(lm);
	return NULL;
}

struct ogw_limit_mqtt *ogw_limit_mqtt_stop(struct ogw_limit_mqtt *lm)
{
	if (!lm)
		return NULL;
	ogw_mqtt_free(lm->client);
	free(lm->url);
	free(lm);
	return NULL;
}

const char *ogw_limit_mqtt_url(const struct ogw_limit_mqtt *lm)
{
	return lm ? lm->url : NULL;
}

bool ogw_limit_mqtt_meter(const struct ogw_limit_mqtt *lm)
{
	return lm && lm->meter_topic[0];
}

/* The limit client runs while balancing is on with limit_mqtt set; a new
 * URL, or a meter added or gone (a reload), replaces it. Without a loop
 * (unit tests) there is none. The gateway calls this after the balancer
 * is made or reconfigured, so that the balancer never calls this file. */
void ogw_limit_mqtt_follow(struct ogw_gateway *gw)
{
	const struct ogw_lb_conf *lb = gw->conf.lb && gw->conf.lb->enabled && gw->balance ?
					       gw->conf.lb : NULL;
	const char *want = lb && gw->ctx ? lb->limit_mqtt : NULL;
	const char *have = ogw_limit_mqtt_url(gw->limit_mqtt);
	bool meter = lb && lb->meter_fuse_a >= 0;

	if ((!want && !have) ||
	    (want && have && !strcmp(want, have) && meter == ogw_limit_mqtt_meter(gw->limit_mqtt)))
		return;
	gw->limit_mqtt = ogw_limit_mqtt_stop(gw->limit_mqtt);
	if (want)
		gw->limit_mqtt = ogw_limit_mqtt_start(gw, want);
}
