/* SPDX-License-Identifier: MIT */
/*
 * The counters behind GET /metrics. The metrics stage counts frames,
 * CALLERRORs, validation failures and call latency as the session reports
 * them (struct ogw_frame_event); gauges (chargers, queue, uplink,
 * currents) are read when the metrics are rendered.
 */
#ifndef OGW_METRICS_H
#define OGW_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "ocppgw/rpc.h"
#include "session/stage.h"

struct ogw_gateway;

#define OGW_MET_SLOTS 1024        /* distinct label sets kept; more are dropped */
#define OGW_MET_BUCKETS 13        /* latency histogram buckets, +Inf included */

enum ogw_met_family {
	OGW_MET_FRAMES,           /* labels: leg, direction, type, action */
	OGW_MET_CALLERRORS,       /* labels: leg, direction, code */
	OGW_MET_INVALID,          /* labels: leg, direction */
};

struct ogw_met_counter {
	uint8_t used, family, leg, dir, type;
	char name[48];            /* action or error code, "" none */
	uint64_t n;
};

struct ogw_met_histogram {
	uint64_t bucket[OGW_MET_BUCKETS];
	uint64_t count;
	double sum_s;
};

/* A secondary CSMS's answers to the charger's CALLs (docs/MULTI_CSMS.md),
 * by its name, summed over the sessions that ended; the live ones' are
 * added when rendered. */
#define OGW_MET_SECONDARIES 64    /* distinct names kept; more are dropped */
struct ogw_met_secondary {
	char name[65];
	uint64_t answered, errors, unanswered, queued;
};

struct ogw_metrics {
	struct ogw_met_counter *slots;   /* OGW_MET_SLOTS, open addressing */
	uint64_t dropped;                /* increments that found no free slot */
	struct ogw_met_histogram latency[2];  /* per leg (enum ogw_leg_kind) */
	struct ogw_met_secondary *secondaries;  /* OGW_MET_SECONDARIES, by first use */
	unsigned int n_secondaries;
};

/* The gateway as a whole, now: what /metrics and GET /api/site show. */
struct ogw_site_figures {
	unsigned int chargers[4];     /* connected, by south enum ogw_ocpp */
	unsigned int north[4];        /* north legs by enum ogw_leg_state */
	double measured_a[3];         /* Current.Import summed over every EVSE, by grid phase */
	double allocated_a[3];        /* the gateway's limits on the grid phases each uses */
	int64_t queued;               /* store queue depth, < 0 unknown */
	double oldest_age_s;          /* age of the oldest queued message, 0 none */
	int64_t dead;                 /* dead letters, < 0 unknown */
	bool balancing;               /* load balancing is on */
	double site_limit_a[3];       /* its site limit in force by grid phase (< 0: none) */
	int meter_state;              /* grid meter: -1 none, 0 reading, 1 silent (fail-safe) */
	double meter_load_a[3];       /* ... the building's load by grid phase */
	bool dynamic_limit;           /* ... set by the API or MQTT */
};
void ogw_site_figures(struct ogw_gateway *gw, struct ogw_site_figures *ret);

extern const struct ogw_stage ogw_metrics_stage;
/* gw->metrics: 0 or -ENOMEM. */
int ogw_metrics_init(struct ogw_gateway *gw);
/* The whole exposition (Prometheus text format 0.0.4), malloc'd; NULL on ENOMEM. */
char *ogw_metrics_render(struct ogw_gateway *gw, size_t *ret_len);
void ogw_metrics_free(struct ogw_gateway *gw);

#endif
