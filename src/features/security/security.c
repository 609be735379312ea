/* SPDX-License-Identifier: MIT */
/*
 * A charger that fails to log in at the gateway is reported to its CSMS,
 * as that charger, with a SecurityEventNotification: the gateway is the
 * CSMS the charger talks to, so its refusal is the charger's
 * "FailedToAuthenticateAtCsms" (1.6 security extension:
 * "FailedToAuthenticateAtCentralSystem"), whatever failed (password,
 * certificate, a downgrade to another listener); techInfo says which.
 * One report per charger per csms.security_event_interval: a charger
 * guessing passwords costs the CSMS one message per interval, whose
 * techInfo counts the failures since the last. It does not decide who may
 * log in (south.c does) and sends nothing for unknown identities.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libwebsockets.h>

#include "ocppgw/log.h"
#include "ocppgw/util.h"
#include "features/events/events.h"
#include "features/offline/offline.h"
#include "features/security/security.h"
#include "session/session.h"

/* One charger's reports: when the last went, what came since. */
struct seen {
	lws_dll2_t list;                /* in gw->security_seen */
	struct ogw_gateway *gw;
	lws_sorted_usec_list_t sul;     /* the summary of what was held back */
	uint64_t last_us;               /* when the last report went; 0 never */
	unsigned int held;              /* failures since, not reported yet */
	enum ogw_ocpp offered;
	char last_why[64];
	char id[OGW_ID_MAX + 1];
};

static const char *const why_text[] = {
	[OGW_SEC_PASSWORD] = "password",
	[OGW_SEC_CERTIFICATE] = "client certificate",
	[OGW_SEC_DOWNGRADE] = "listener below its security profile",
};

static struct seen *seen_of(struct ogw_gateway *gw, const char *id)
{
	lws_start_foreach_dll(struct lws_dll2 *, d, lws_dll2_get_head(&gw->security_seen)) {
		struct seen *e = lws_container_of(d, struct seen, list);
		if (!strcmp(e->id, id))
			return e;
	} lws_end_foreach_dll(d);
	struct seen *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->gw = gw;
	snprintf(e->id, sizeof(e->id), "%s", id);
	lws_dll2_add_tail(&e->list, &gw->security_seen);
	return e;
}

/* Sends (or queues) one SecurityEventNotification for @e with @info. */
static void report(struct seen *e, const char *info)
{
	struct ogw_gateway *gw = e->gw;
	struct ogw_session *s = ogw_session_find(gw, e->id);
	struct ogw_log_ctx lc = { e->id, "north", "SecurityEventNotification", NULL };
	enum ogw_ocpp north = s ? ogw_session_primary(s)->ver :
			      (enum ogw_ocpp)ogw_conf_upstream_for(&gw->conf, e->id, e->offered);
	char now[32];
	int r;

	ogw_time_rfc3339(now);
	/* SEC16 and 2.0.1 appendix 1: the credentials the station gave were
	 * rejected by the CSMS, which the gateway is to the charger */
	json_t *p = json_pack("{s:s, s:s, s:s}", "type", north == OGW_OCPP16 ?
			      "FailedToAuthenticateAtCentralSystem" : "FailedToAuthenticateAtCsms",
			      "timestamp", now, "techInfo", info);
	if (!p)
		return;
	if (s)
		r = ogw_tr_emit(&s->env, OGW_TR_UP, "SecurityEventNotification", p, NULL, NULL);
	else
		r = ogw_offline_deliver_as(gw, e->id, e->offered, north,
					   "SecurityEventNotification", p);
	if (r < 0)
		ogw_warn(&lc, "Failed to report the failed login to the CSMS: %s", strerror(-r));
	else
		ogw_info(&lc, "failed login reported to the CSMS: %s", info);
	ogw_events_note(gw, e->id, "security", "failed login reported to the CSMS: %s", info);
	e->last_us = ogw_now_us();
}

static void summary_due(lws_sorted_usec_list_t *sul)
{
	struct seen *e = lws_container_of(sul, struct seen, sul);
	char info[256];

	if (!e->held)
		return;
	snprintf(info, sizeof(info), "ocppgw refused %u more logins (last: %s)", e->held,
		 e->last_why);
	e->held = 0;
	report(e, info);
}

void ogw_security_login_failed(struct ogw_gateway *gw, const char *id, enum ogw_ocpp offered,
			       enum ogw_security_failure why, const char *detail)
{
	/* an identity nobody configured has no CSMS to hear of it */
	if (!gw->conf.csms_url || gw->stopping ||
	    (!ogw_conf_charger(&gw->conf, id) && !ogw_session_find(gw, id)))
		return;
	struct seen *e = seen_of(gw, id);
	if (!e)
		return;
	uint64_t gap = (uint64_t)gw->conf.security_event_interval_s * 1000000u;
	uint64_t now = ogw_now_us();
	e->offered = offered;
	snprintf(e->last_why, sizeof(e->last_why), "%s: %s", why_text[why], detail);
	if (e->last_us && now - e->last_us < gap) {
		/* the first held back arms the summary at the interval's end */
		if (!e->held++)
			lws_sul_schedule(gw->ctx, 0, &e->sul, summary_due,
					 (lws_usec_t)(e->last_us + gap - now));
		return;
	}
	char info[256];
	snprintf(info, sizeof(info), "ocppgw refused the login: %s", e->last_why);
	report(e, info);
}

void ogw_security_free(struct ogw_gateway *gw)
{
	lws_start_foreach_dll_safe(struct lws_dll2 *, d, d1,
				   lws_dll2_get_head(&gw->security_seen)) {
		struct seen *e = lws_container_of(d, struct seen, list);
		lws_sul_cancel(&e->sul);
		lws_dll2_remove(d);
		free(e);
	} lws_end_foreach_dll_safe(d, d1);
}
