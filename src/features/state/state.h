/* SPDX-License-Identifier: MIT */
/*
 * What the gateway knows of a charger, from the frames it saw on the south
 * leg (its stage observes them): boot information, each EVSE's status, its active
 * transaction, its latest meter readings and the limits that apply to it.
 * Filled by state.c; read by the admin API, metrics and the load balancer.
 * Units: W, Wh, A; a value < 0 means unknown.
 */
#ifndef OGW_STATE_H
#define OGW_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "ocppgw/ocpp.h"
#include "session/stage.h"

#define OGW_STATE_MAX_EVSE 32  /* EVSE (2.x) or connector (1.6) ids 1..32 */

struct ogw_evse_state {
	int id;                   /* 2.x evseId, 1.6 connectorId (>= 1) */
	char status[24];          /* last StatusNotification status, "" unknown */
	char tx_id[40];           /* active transaction as the charger names it, "" none */
	char id_tag[40];          /* who started it, "" unknown */
	int64_t tx_started;       /* unix s, 0 when no transaction */
	double energy_wh;         /* last Energy.Active.Import.Register */
	double power_w;           /* last Power.Active.Import */
	double current_a[3];      /* last Current.Import on the EVSE's L1, L2, L3 */
	int phases_used;          /* phases the car draws on (1-3), 0 unknown */
	double offered_a;         /* last Current.Offered */
	double csms_limit_a;      /* the CSMS's own limit for it (its profiles), < 0 none */
	double gw_limit_a;        /* the gateway's allocation sent to it, < 0 none */
	int64_t updated;          /* unix s of the last reading */
};

struct ogw_charger_state {
	char vendor[51];
	char model[51];
	char serial[51];
	char firmware[51];
	int64_t boot_at;          /* unix s of the last BootNotification, 0 none */
	int64_t last_seen;        /* unix s of the last frame from the charger */
	int n_evse;               /* evse[0..n_evse-1] in use, in id order */
	struct ogw_evse_state *evse;  /* grown as ids appear (realloc) */
	/* 1.6 StartTransaction between the CALL and its answer (which carries
	 * the transaction id); start_connector 0: none pending. */
	int start_connector;
	char start_id_tag[40];
	double start_meter_wh;
	int64_t start_at;
};

/* The EVSE with @id, created when absent (NULL: out of memory or id out of
 * 1..OGW_STATE_MAX_EVSE). */
struct ogw_evse_state *ogw_state_evse(struct ogw_charger_state *cs, int id);
void ogw_state_clear(struct ogw_charger_state *cs);

extern const struct ogw_stage ogw_state_stage;
/* What the gateway knows of @s's charger (never NULL for a live session). */
struct ogw_charger_state *ogw_state_of(const struct ogw_session *s);
/* The state observer's core, for tests (@now: unix s). */
void ogw_state_update(struct ogw_charger_state *cs, enum ogw_ocpp ver, enum ogw_obs what,
		      const char *action, const json_t *payload, int64_t now);

#endif
