/* SPDX-License-Identifier: MIT */
/*
 * The session's observers: each sees every validated frame of the south leg
 * in the charger's own version (see enum ogw_obs in gw.h) and keeps what it
 * needs (boot info, connector states, transactions, meter values, profiles).
 * Observers read only: they never answer, delay or change a frame.
 */
#include <stdlib.h>
#include <string.h>

#include "ocppgw/log.h"
#include "session/session.h"

typedef void observer_fn(struct ogw_session *s, enum ogw_obs what, const char *action,
			 const json_t *payload);

/* Boots are worth an info line: vendor, model, firmware as the charger said. */
static void observe_boot(struct ogw_session *s, enum ogw_obs what, const char *action,
			 const json_t *payload)
{
	if (what != OGW_OBS_UP_CALL || strcmp(action, "BootNotification") != 0)
		return;
	char *text = json_dumps(payload, JSON_COMPACT);
	struct ogw_log_ctx lc = { s->id, "south", action, NULL };
	ogw_info(&lc, "boot: %.300s", text ? text : "");
	free(text);
}

/* The transaction log (src/local): every transaction the charger runs, with
 * its energy, whoever answered it. */
static void observe_txlog(struct ogw_session *s, enum ogw_obs what, const char *action,
			  const json_t *payload)
{
	bool offline = ogw_offline_standalone(s) || s->north.state != OGW_LEG_UP;
	ogw_local_rec_observe(s->off.rec, what == OGW_OBS_UP_CALL || what == OGW_OBS_UP_RESULT,
			      what == OGW_OBS_UP_RESULT || what == OGW_OBS_DOWN_RESULT, action,
			      payload, offline);
}

static observer_fn *const observers[] = {
	observe_boot,
	observe_txlog,
	ogw_state_observe,
	ogw_balance_observe,     /* after the state: it reads s->cs */
};

void ogw_session_observe(struct ogw_session *s, enum ogw_obs what, const char *action,
			 const json_t *payload)
{
	if (!payload)
		return;
	for (size_t i = 0; i < sizeof(observers) / sizeof(observers[0]); i++)
		observers[i](s, what, action, payload);
}
