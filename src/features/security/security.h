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
	/* TLS handshakes the gateway refused, reported as its own identity
	 * (tls.identity): no charger is known before the HTTP request */
	OGW_SEC_TLS_VERSION,   /* below tls.min_version */
	OGW_SEC_TLS_CIPHER,    /* no suite in common */
	OGW_SEC_TLS_CERT,      /* a client certificate not from tls.ca, expired, revoked */
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
/*
 * The gateway sent fatal TLS alert @alert (RFC 8446 §6.2 codes) to the
 * charger at @peer: with tls.identity, a wrong version, no common suite or
 * a refused client certificate is reported as the gateway's own identity
 * (InvalidTLSVersion, InvalidTLSCipherSuite, InvalidChargingStationCertificate
 * / 1.6 InvalidChargePointCertificate), rate limited as a charger's events
 * are. Other alerts, or no tls.identity: nothing.
 */
void ogw_security_tls_failed(struct ogw_gateway *gw, int alert, const char *peer);
/* Forgets the rate limiter's state (at gateway free). */
void ogw_security_free(struct ogw_gateway *gw);

#endif
