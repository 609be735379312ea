/* SPDX-License-Identifier: MIT */
/*
 * Failed charger logins, and connections that replace a connected
 * charger's, told to the charger's CSMS as a SecurityEventNotification
 * from that charger, rate limited per charger. The transports call
 * ogw_security_login_failed() where they refuse and
 * ogw_security_connection_replaced() where a new connection takes over.
 */
#ifndef OGW_SECURITY_H
#define OGW_SECURITY_H

#include "session/session.h"

/* What a login failed on; each becomes a security event type per version. */
enum ogw_security_failure {
	OGW_SEC_PASSWORD,      /* no, a malformed or a wrong Basic auth */
	OGW_SEC_CERTIFICATE,   /* profile 3: no client certificate, or another CN */
	OGW_SEC_DOWNGRADE,     /* a listener its security profile does not allow */
	OGW_SEC_REPLACED,      /* not a failure: a new connection took the identity over */
};

/*
 * Charger @id (a known one: listed, or with a session) failed to log in
 * for @why; @offered is the OCPP version it asked for (the CSMS's version
 * follows from it as for a session). Sent on its session's north leg, or
 * queued and delivered by a session the gateway opens for it; at most one
 * per csms.security_event_interval per charger, the rest counted in the
 * next. @detail (a log line's words) goes into techInfo.
 */
void ogw_security_login_failed(struct ogw_gateway *gw, const char *id, enum ogw_ocpp offered,
			       enum ogw_security_failure why, const char *detail);
/*
 * A new connection of charger @id (OCPP @offered) replaced the one that
 * was connected; @detail (where it came from) goes into techInfo. Queued
 * in the store like a transaction message and delivered on the new
 * session's north leg once it is up; rate limited with the failed logins.
 */
void ogw_security_connection_replaced(struct ogw_gateway *gw, const char *id,
				      enum ogw_ocpp offered, const char *detail);
/* Forgets the rate limiter's state (at gateway free). */
void ogw_security_free(struct ogw_gateway *gw);

#endif
