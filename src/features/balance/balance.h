/* SPDX-License-Identifier: MIT */
/*
 * Site load balancing (docs/LOAD_BALANCING.md): its stage observes the
 * south legs; the rest serves the gateway, the admin API and MQTT.
 */
#ifndef OGW_BALANCE_H
#define OGW_BALANCE_H

#include <stdbool.h>
#include <time.h>

#include <jansson.h>

#include "features/balance/profile.h"
#include "session/session.h"

struct ogw_limit_mqtt;
struct ogw_meter_poll;

extern const struct ogw_stage ogw_balance_stage;

/* balance.c: site load balancing (docs/LOAD_BALANCING.md). The observer
 * records the CSMS's profiles and reacts to sessions and draw; the site
 * JSON and the dynamic site limit serve the API and MQTT. */
int ogw_balance_init(struct ogw_gateway *gw);
void ogw_balance_free(struct ogw_gateway *gw);
void ogw_balance_reconfigured(struct ogw_gateway *gw);
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
/* The site limit in force on each grid phase (A, < 0: none; a grid meter
 * makes them differ) and whether a dynamic one is set; false when
 * balancing is off. */
bool ogw_balance_limit_now(struct ogw_gateway *gw, double ret_a[3], bool *ret_dynamic);
/* The grid meter: -1 none configured, 0 reading, 1 silent (the fail-safe
 * is in force); with the building's load by grid phase in @ret_load_a. */
int ogw_balance_meter_state(struct ogw_gateway *gw, double ret_load_a[3]);
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
/* Whether it reads the grid meter too. */
bool ogw_limit_mqtt_meter(const struct ogw_limit_mqtt *lm);
/* Starts, replaces or stops gw->limit_mqtt as the configuration now says
 * (after ogw_balance_init() and ogw_balance_reconfigured()). */
void ogw_limit_mqtt_follow(struct ogw_gateway *gw);
/* A TxProfile's transactionId for the charger's version: a string in 2.x;
 * in 1.6 the integer @tx_id spells, or NULL when it is not one (then the
 * profile goes without it, never with a made-up 0). */
json_t *ogw_balance_tx_id_json(const char *tx_id, bool v16);
/* The stack level of the balancer's profiles on @s's charger, or -1 when
 * balancing is off: another profile of the gateway's goes below it. */
int ogw_balance_stack_level(const struct ogw_session *s);
/* Whether ClearChargingProfile request @req (the charger's version) may
 * remove a profile the balancer keeps at @stack_level: one of its ids, or
 * criteria (none, or evse / purpose / stackLevel) that match one. */
bool ogw_balance_clear_hits_ours(const json_t *req, bool v16, int stack_level);
/* The charger's ChargeProfileMaxStackLevel from its GetConfiguration (1.6)
 * or GetVariables (2.x, SmartChargingCtrlr.ProfileStackLevel) answer, or
 * -1 when it did not give one. */
int ogw_balance_max_level(const json_t *res, bool v16);
/* The chargingPriority (-9..9) of a 2.x TransactionEventResponse (the
 * top-level one, else idTokenInfo's): true with *ret_priority, false when
 * it gives none. */
bool ogw_balance_charging_priority(const json_t *res, int *ret_priority);
/* A grid meter reading (A by grid phase, @amps[3]): the building's load
 * becomes the meter less the chargers, the site limit the fuse less that
 * (docs/LOAD_BALANCING.md "The grid meter"). 0, or -EINVAL with @err for
 * a reading that cannot be one or without a configured meter. */
int ogw_balance_set_meter(struct ogw_gateway *gw, const double amps[3], char *err,
			  size_t errlen);
/* balance_mqtt.c: a reading on <prefix>/<site>/$gateway/meter: a number
 * (every phase), [L1, L2, L3] or {"L1": A, "L2": A, "L3": A}; a bad one is
 * logged and ignored (the fail-safe follows if no good one comes). */
void ogw_balance_meter_message(struct ogw_gateway *gw, const char *topic, const char *payload,
			       size_t len);

/* meter_poll.c: the grid meter polled over Modbus TCP or HTTP on a thread
 * of its own (load_balancing.meter.modbus / .http); each reading goes to
 * ogw_balance_set_meter() on the loop. start: NULL on failure (logged);
 * stop is NULL-safe, never waits, and returns NULL. */
struct ogw_meter_poll *ogw_meter_poll_start(struct ogw_gateway *gw);
struct ogw_meter_poll *ogw_meter_poll_stop(struct ogw_meter_poll *mp);
/* Starts, replaces or stops gw->meter_poll as the configuration now says
 * (after ogw_balance_init() and ogw_balance_reconfigured()). */
void ogw_meter_poll_follow(struct ogw_gateway *gw);

#endif
