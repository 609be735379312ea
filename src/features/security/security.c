/* SPDX-License-Identifier: MIT */
/*
 * A charger that fails to log in at the gateway is reported to its CSMS,
 * as that charger, with a SecurityEventNotification: the gateway is the
 * CSMS the charger talks to, so its refusal is the charger's
 * "FailedToAuthenticateAtCsms" (1.6 security extension:
 * "FailedToAuthenticateAtCentralSystem"), whatever failed (password,
 * certificate, a downgrade to another listener); techInfo says which.
 * A connection that replaces a connected charger's (two boxes with one
 * identity, or someone who learned its credentials) is reported too, as
 * "ConnectionReplaced" (a type of the gateway's own: neither security
 * events list has one; both types are strings the lists only suggest).
 * One report per charger per csms.security_event_interval, whatever its
 * kind: a charger guessing passwords, or two boxes taking one identity
 * from each other, costs the CSMS one message per interval, whose
 * techInfo counts the events since the last. A charger whose north leg is
 * not up has its report queued in the store like a transaction message.
 * It does not decide who may log in (south.c does) and sends nothing for
 * unknown identities. TLS handshakes the gateway refuses (a version below
 * the floor, no common suite, a bad client certificate) concern no known
 * charger: with tls.identity they are reported as the gateway itself.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libwebsockets.h>
#include <openssl/ssl.h>

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
	unsigned int held;              /* events since, not reported yet */
	unsigned int held_replaced;     /* of which replaced connections */
	enum ogw_security_failure last; /* the kind of the last one */
	enum ogw_ocpp offered;
	char last_why[64];
	char id[OGW_ID_MAX + 1];
};

static const char *const why_text[] = {
	[OGW_SEC_PASSWORD] = "password",
	[OGW_SEC_CERTIFICATE] = "client certificate",
	[OGW_SEC_DOWNGRADE] = "listener below its security profile",
	[OGW_SEC_REPLACED] = "connection replaced",
	[OGW_SEC_TLS_VERSION] = "TLS version",
	[OGW_SEC_TLS_CIPHER] = "TLS cipher suite",
	[OGW_SEC_TLS_CERT] = "TLS client certificate",
};

/* The event type of each kind, in OCPP 1.6 (security extension, SEC16)
 * and 2.x (2.0.1 appendix 1). */
static const char *const event_type[][2] = {
	[OGW_SEC_PASSWORD] = { "FailedToAuthenticateAtCentralSystem", "FailedToAuthenticateAtCsms" },
	[OGW_SEC_CERTIFICATE] = { "FailedToAuthenticateAtCentralSystem",
				  "FailedToAuthenticateAtCsms" },
	[OGW_SEC_DOWNGRADE] = { "FailedToAuthenticateAtCentralSystem", "FailedToAuthenticateAtCsms" },
	[OGW_SEC_REPLACED] = { "ConnectionReplaced", "ConnectionReplaced" },
	[OGW_SEC_TLS_VERSION] = { "InvalidTLSVersion", "InvalidTLSVersion" },
	[OGW_SEC_TLS_CIPHER] = { "InvalidTLSCipherSuite", "InvalidTLSCipherSuite" },
	[OGW_SEC_TLS_CERT] = { "InvalidChargePointCertificate", "InvalidChargingStationCertificate" },
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
	const char *what = e->last == OGW_SEC_REPLACED ? "replaced connection" :
			   e->last >= OGW_SEC_TLS_VERSION ? "failed TLS handshake" : "failed login";
	char now[32];
	int r;

	ogw_time_rfc3339(now);
	/* a failed login: the credentials the station gave were rejected by
	 * the CSMS, which the gateway is to the charger */
	json_t *p = json_pack("{s:s, s:s, s:s}", "type",
			      event_type[e->last][north == OGW_OCPP16 ? 0 : 1],
			      "timestamp", now, "techInfo", info);
	if (!p)
		return;
	/* a leg that is not up (a session just opened, a CSMS away) keeps
	 * it in the store, delivered when the leg is */
	bool now_up = s && ogw_session_primary(s)->state == OGW_LEG_UP;
	if (now_up)
		r = ogw_tr_emit(&s->env, OGW_TR_UP, "SecurityEventNotification", p, NULL, NULL);
	else
		r = ogw_offline_deliver_as(gw, e->id, e->offered, north,
					   "SecurityEventNotification", p);
	const char *how = now_up ? "reported to the CSMS" : "queued for the CSMS";
	if (r < 0)
		ogw_warn(&lc, "Failed to report the %s to the CSMS: %s", what, strerror(-r));
	else
		ogw_info(&lc, "%s %s: %s", what, how, info);
	ogw_events_note(gw, e->id, "security", "%s %s: %s", what, how, info);
	e->last_us = ogw_now_us();
}

static void summary_due(lws_sorted_usec_list_t *sul)
{
	struct seen *e = lws_container_of(sul, struct seen, sul);
	char info[256];
	unsigned int refused = e->held - e->held_replaced;

	if (!e->held)
		return;
	if (!e->held_replaced)
		snprintf(info, sizeof(info), "ocppgw refused %u more logins (last: %s)", refused,
			 e->last_why);
	else if (!refused)
		snprintf(info, sizeof(info), "ocppgw saw %u more replaced connections (last: %s)",
			 e->held_replaced, e->last_why);
	else
		snprintf(info, sizeof(info), "ocppgw refused %u more logins and saw %u more "
			 "replaced connections (last: %s)", refused, e->held_replaced, e->last_why);
	e->held = 0;
	e->held_replaced = 0;
	report(e, info);
}

/* Reports event @why of charger @id now, or counts it into the summary at
 * the end of its interval. */
static void security_event(struct ogw_gateway *gw, const char *id, enum ogw_ocpp offered,
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
	e->last = why;
	/* cut to the field's size: a techInfo is short (50 characters in 1.6) */
	if (snprintf(e->last_why, sizeof(e->last_why), "%s: %s", why_text[why], detail) < 0)
		e->last_why[0] = '\0';
	if (e->last_us && now - e->last_us < gap) {
		/* the first held back arms the summary at the interval's end */
		e->held_replaced += why == OGW_SEC_REPLACED;
		if (!e->held++)
			lws_sul_schedule(gw->ctx, 0, &e->sul, summary_due,
					 (lws_usec_t)(e->last_us + gap - now));
		return;
	}
	char info[256];
	snprintf(info, sizeof(info), "ocppgw%s: %s",
		 why == OGW_SEC_REPLACED ? "" : why >= OGW_SEC_TLS_VERSION ?
		 " refused a TLS handshake" : " refused the login", e->last_why);
	report(e, info);
}

void ogw_security_tls_failed(struct ogw_gateway *gw, int alert, const char *peer)
{
	enum ogw_security_failure why;
	char detail[128];

	if (!gw->conf.tls_identity)
		return;
	switch (alert) {
	case SSL_AD_PROTOCOL_VERSION:
		why = OGW_SEC_TLS_VERSION;
		break;
	case SSL_AD_HANDSHAKE_FAILURE:     /* OpenSSL's "no shared cipher" */
	case SSL_AD_INSUFFICIENT_SECURITY:
		why = OGW_SEC_TLS_CIPHER;
		break;
	case SSL_AD_BAD_CERTIFICATE:
	case SSL_AD_UNSUPPORTED_CERTIFICATE:
	case SSL_AD_CERTIFICATE_REVOKED:
	case SSL_AD_CERTIFICATE_EXPIRED:
	case SSL_AD_CERTIFICATE_UNKNOWN:
	case SSL_AD_UNKNOWN_CA:
	case SSL_AD_CERTIFICATE_REQUIRED:
		why = OGW_SEC_TLS_CERT;
		break;
	default:  /* broken or scanning clients: nothing about security */
		return;
	}
	snprintf(detail, sizeof(detail), "alert \"%s\" sent to %s",
		 SSL_alert_desc_string_long(SSL3_AL_FATAL << 8 | alert), peer);
	struct ogw_session *s = ogw_session_find(gw, gw->conf.tls_identity);
	enum ogw_ocpp v = s ? ogw_session_primary(s)->ver : OGW_OCPP201;
	security_event(gw, gw->conf.tls_identity, v, why, detail);
}

void ogw_security_login_failed(struct ogw_gateway *gw, const char *id, enum ogw_ocpp offered,
			       enum ogw_security_failure why, const char *detail)
{
	security_event(gw, id, offered, why, detail);
}

void ogw_security_connection_replaced(struct ogw_gateway *gw, const char *id,
				      enum ogw_ocpp offered, const char *detail)
{
	security_event(gw, id, offered, OGW_SEC_REPLACED, detail);
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
