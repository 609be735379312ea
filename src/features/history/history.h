/* SPDX-License-Identifier: MIT */
/*
 * The charts' history: a timer samples the site (load per grid phase, its
 * limit, the building's load when a grid meter reports it) and each
 * connected charger (power, current per phase) every history_interval_s,
 * the chargers spread over the interval in slices, into the store's
 * history table (src/store/history.c), a minute's samples averaged in
 * memory first. The admin API reads it back with ogw_history_json().
 */
#ifndef OGW_FEATURES_HISTORY_H
#define OGW_FEATURES_HISTORY_H

#include <stdint.h>

#include <jansson.h>

#include "session/stage.h"

struct ogw_gateway;

/* Each session's pending minute of samples, written when the session goes. */
extern const struct ogw_stage ogw_history_stage;

/* Starts sampling (gw->history): 0 or -ENOMEM. */
int ogw_history_start(struct ogw_gateway *gw);
/* Stops it; the memory goes when the loop closes the timer. NULL-safe. */
void ogw_history_stop(struct ogw_gateway *gw);
/* The buckets of @charger (NULL: the site) in the tier whose step is
 * @step_ms, starting in [@from_ms, @to_ms): {"charger", "step" (s),
 * "from", "to" (ms), "columns": ["t", names...], "points": [[t, ...]]}.
 * NULL on a store error. */
json_t *ogw_history_json(struct ogw_gateway *gw, const char *charger, int64_t step_ms,
			 int64_t from_ms, int64_t to_ms);

#endif
