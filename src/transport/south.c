/* SPDX-License-Identifier: MIT */
/*
 * The south side: the WebSocket server chargers connect to. It decides at
 * the HTTP upgrade who may connect (path prefix, identity rules, charger
 * list, Basic auth, client certificate, subprotocol) and hands each
 * accepted connection to a session. Frames are the session's business.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "ocppgw/auth.h"
#include "ocppgw/log.h"
#include "ocppgw/util.h"
#include "features/credentials/credentials.h"
#include "features/events/events.h"
#include "features/security/security.h"
#include "session/session.h"
#include "transport/door.h"
#include "transport/tls.h"
#include "transport/transport.h"

struct south_pss {
	struct ogw_session *s;
};

/* Writes a small plain-text HTTP response; lws then closes the connection. */
static int http_reject(struct lws *wsi, unsigned int status, const char *body, bool challenge)
{
	uint8_t buf[LWS_PRE + 1024];
	uint8_t *start = buf + LWS_PRE, *p = start, *end = buf + sizeof(buf) - 1;
	size_t blen = strlen(body);

	if (lws_add_http_common_headers(wsi, status, "text/plain", blen, &p, end))
		return -1;
	if (challenge &&
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_WWW_AUTHENTICATE,
					 (const uint8_t *)"Basic realm=\"ocppgw\"", 20, &p, end))
		return -1;
	if (lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	if (blen) {
		memcpy(start, body, blen);
		if (lws_write(wsi, start, blen, LWS_WRITE_HTTP_FINAL) < 0)
			return -1;
	}
	return 1;
}

const char *ogw_http_identity_check(struct lws *wsi, const char *seg, size_t len)
{
	/* lws 4.1 ends the path at a %0D or %0A it decoded and skips the rest
	 * of the request line, "HTTP/1.1" included: "/ocpp/a%0D%0Ab" arrives
	 * as "/ocpp/a". The missing version tells. */
	if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP) <= 0)
		return "identity contains a control character";
	return ogw_identity_check(seg, len);
}

/*
 * The identity is what follows "<path_prefix>/", percent-decoded by lws
 * (OCPP-J: the URL is the endpoint plus "/" and the percent-encoded
 * identity), and must pass ogw_identity_check(). A query string is refused
 * rather than ignored: OCPP-J gives it no meaning, and ignoring it would let
 * two URLs name one charger. Returns 0, or the HTTP status to refuse with
 * and in @ret_reason why.
 */
static unsigned int identity_from_uri(const struct ogw_gateway *gw, struct lws *wsi,
				      char id[OGW_ID_MAX + 1], const char **ret_reason)
{
	char uri[1024];
	int n = lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI);
	*ret_reason = "no such charger";
	if (n <= 0) {
		*ret_reason = "request path missing or too long";
		return HTTP_STATUS_BAD_REQUEST;
	}
	if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_URI_ARGS) > 0) {
		*ret_reason = "a query string is not part of an OCPP-J connection URL";
		return HTTP_STATUS_BAD_REQUEST;
	}
	const char *prefix = gw->conf.path_prefix ? gw->conf.path_prefix : "";
	size_t plen = strlen(prefix);
	if ((size_t)n <= plen || strncmp(uri, prefix, plen) || uri[plen] != '/')
		return HTTP_STATUS_NOT_FOUND;
	/* lws has percent-decoded the URI already: decoding again would turn
	 * an identity like "A%2B" (sent as A%252B) into "A+". The length is
	 * lws's, not strlen(): a NUL inside must not shorten the identity. */
	const char *seg = uri + plen + 1;
	size_t len = (size_t)n - plen - 1;
	const char *problem = ogw_http_identity_check(wsi, seg, len);
	if (problem) {
		*ret_reason = problem;
		return HTTP_STATUS_BAD_REQUEST;
	}
	memcpy(id, seg, len);
	id[len] = '\0';
	return 0;
}

/* A charger's login refused: logged, and recorded as a login-refused event
 * for the operator (rate-capped there: a flood of bad logins cannot push
 * the rest of the event log out). */
static void refused(struct ogw_gateway *gw, const char *id, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void refused(struct ogw_gateway *gw, const char *id, const char *fmt, ...)
{
	char why[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	struct ogw_log_ctx lc = { id, "south", NULL, NULL };
	ogw_warn(&lc, "refused: %s", why);
	ogw_events_login_refused(gw, id, why);
}

/* Whether the upgrade offers an OCPP version we speak; the first such in
 * *@ret. */
static bool offers_ocpp(struct lws *wsi, enum ogw_ocpp *ret)
{
	char list[256];
	if (lws_hdr_copy(wsi, list, sizeof(list), WSI_TOKEN_PROTOCOL) <= 0)
		return false;
	for (char *save = NULL, *tok = strtok_r(list, ", \t", &save); tok;
	     tok = strtok_r(NULL, ", \t", &save)) {
		enum ogw_ocpp v;
		if (!strncmp(tok, "ocpp", 4) && ogw_ocpp_parse(tok, &v) == 0) {
			*ret = v;
			return true;
		}
	}
	return false;
}

/* A charger bound to a security profile (chargers[].security_profile or
 * its group's) connects only through a listener for that profile: a
 * profile-3 charger on the ws:// port is a downgrade. 0 or 403. */
static unsigned int check_profile(struct ogw_gateway *gw, const struct ogw_south_door *d,
				  const char *id, int profile, const char **ret_why)
{
	if (!profile || (d->profiles & (1u << profile)))
		return 0;
	*ret_why = "not a listener for its security profile";
	refused(gw, id, "bound to security profile %d, and %s is not a listener for it",
		profile, d->what);
	return HTTP_STATUS_FORBIDDEN;
}

/* Security profiles 1 and 2: Basic auth with username = identity (OCPP-J
 * 1.6 §6.2.2, 1.6 security A00.FR.204). Returns 0 or an HTTP status. */
static unsigned int check_basic_auth(struct ogw_gateway *gw, struct lws *wsi,
				     const char *id, int profile, const char **ret_why)
{
	const struct ogw_charger_conf *cc = ogw_conf_charger(&gw->conf, id);
	/* a password the CSMS set (credentials.c) comes first; the
	 * configured one stays valid as the operator's fallback */
	int changed = ogw_credentials_check(gw, id, NULL, 0);
	/* profiles 1 and 2 are Basic auth whatever require_auth says */
	bool need = (cc && cc->password_hash) || gw->conf.require_auth || changed != -ENOENT ||
		    profile == 1 || profile == 2;
	if (!need)
		return 0;
	if ((!cc || !cc->password_hash) && changed == -ENOENT) {
		refused(gw, id, "%s and no password is configured for it",
			gw->conf.require_auth ? "require_auth is on" : "security profile 1 or 2");
		*ret_why = "no password is configured for it";
		return HTTP_STATUS_UNAUTHORIZED;
	}
	char hdr[512];
	if (lws_hdr_copy(wsi, hdr, sizeof(hdr), WSI_TOKEN_HTTP_AUTHORIZATION) <= 0) {
		refused(gw, id, "no Basic auth");
		*ret_why = "no Basic auth";
		return HTTP_STATUS_UNAUTHORIZED;
	}
	char *user = NULL, *pass = NULL;
	size_t pass_len = 0;
	unsigned int status = HTTP_STATUS_UNAUTHORIZED;
	if (ogw_auth_parse_basic(hdr, &user, &pass, &pass_len) < 0) {
		refused(gw, id, "malformed Authorization header");
		*ret_why = "malformed Authorization header";
		goto out;
	}
	if (strcmp(user, id)) {
		refused(gw, id, "Basic auth user '%.64s' is not the identity", user);
		*ret_why = "Basic auth user is not the identity";
		goto out;
	}
	if (ogw_credentials_check(gw, id, pass, pass_len) &&
	    (!cc || !cc->password_hash || !ogw_auth_verify(cc->password_hash, pass, pass_len))) {
		refused(gw, id, "wrong password");
		*ret_why = "wrong password";
		goto out;
	}
	status = 0;
out:
	ogw_memzero(hdr, sizeof(hdr));
	if (pass) {
		ogw_memzero(pass, pass_len);
		free(pass);
	}
	free(user);
	return status;
}

/* Security profile 3: a certificate that chains to the listener's CA
 * (OpenSSL checked that in the handshake) and whose CN is the identity;
 * asked of every charger on a listener that requires certificates and of
 * every charger bound to profile 3. */
static unsigned int check_client_cert(struct ogw_gateway *gw, const struct ogw_south_door *d,
				      struct lws *wsi, const char *id, int profile,
				      const char **ret_why)
{
	if (!d->require_cert && profile != 3)
		return 0;
	union lws_tls_cert_info_results ir;
	memset(&ir, 0, sizeof(ir));
	if (!d->tls || lws_tls_peer_cert_info(wsi, LWS_TLS_CERT_INFO_COMMON_NAME, &ir,
					      sizeof(ir.ns.name) - 1) < 0) {
		refused(gw, id, "security profile 3 and no client certificate");
		*ret_why = "no client certificate";
		return HTTP_STATUS_FORBIDDEN;
	}
	if (strcmp(ir.ns.name, id)) {
		refused(gw, id, "client certificate CN is not the identity");
		*ret_why = "client certificate CN is not the identity";
		return HTTP_STATUS_FORBIDDEN;
	}
	return 0;
}

static int confirm_upgrade(struct ogw_gateway *gw, struct lws *wsi)
{
	char id[OGW_ID_MAX + 1], text[128];
	const char *why;
	unsigned int st;

	if (gw->stopping)
		return http_reject(wsi, HTTP_STATUS_SERVICE_UNAVAILABLE, "gateway stopping\n", false);
	st = identity_from_uri(gw, wsi, id, &why);
	if (st) {
		/* Refused before any session is looked up: a bad identity can
		 * never stand in for, or replace, a connected charger. */
		snprintf(text, sizeof(text), "%s\n", why);
		if (st == HTTP_STATUS_BAD_REQUEST)
			ogw_info(NULL, "south: upgrade refused: %s", why);
		return http_reject(wsi, st, text, false);
	}
	/* the gateway's own identity at the CSMS: its session has no charger,
	 * and a charger taking the name would take that session over */
	if (gw->conf.tls_identity && !strcmp(id, gw->conf.tls_identity)) {
		refused(gw, id, "the gateway's own identity (tls.identity) is not a charger's");
		return http_reject(wsi, HTTP_STATUS_NOT_FOUND, "no such charger\n", false);
	}
	if (gw->conf.n_chargers && !ogw_conf_charger(&gw->conf, id)) {
		refused(gw, id, "unknown charger (not in the charger list)");
		return http_reject(wsi, HTTP_STATUS_NOT_FOUND, "no such charger\n", false);
	}
	enum ogw_ocpp offered;
	if (!offers_ocpp(wsi, &offered)) {
		struct ogw_log_ctx lc = { id, "south", NULL, NULL };
		ogw_warn(&lc, "refused: offers none of ocpp1.6, ocpp2.0.1, ocpp2.1");
		return http_reject(wsi, HTTP_STATUS_BAD_REQUEST,
				   "offer one of the subprotocols ocpp1.6, ocpp2.0.1, ocpp2.1\n",
				   false);
	}
	const struct ogw_south_door *door = ogw_south_door_of(wsi, &gw->south_listen);
	if (!door)
		return http_reject(wsi, HTTP_STATUS_SERVICE_UNAVAILABLE, "unknown listener\n", false);
	int profile = ogw_conf_security_profile(&gw->conf, id);
	st = check_profile(gw, door, id, profile, &why);
	if (st) {
		ogw_security_login_failed(gw, id, offered, OGW_SEC_DOWNGRADE, why);
		return http_reject(wsi, st, "not a listener for this charger's security profile\n",
				   false);
	}
	st = check_client_cert(gw, door, wsi, id, profile, &why);
	if (st) {
		ogw_security_login_failed(gw, id, offered, OGW_SEC_CERTIFICATE, why);
		return http_reject(wsi, st, "certificate does not match the identity\n", false);
	}
	st = check_basic_auth(gw, wsi, id, profile, &why);
	if (st) {
		ogw_security_login_failed(gw, id, offered, OGW_SEC_PASSWORD, why);
		return http_reject(wsi, st, "unauthorized\n", true);
	}
	return 0;
}

static struct ogw_gateway *gw_of(struct lws *wsi)
{
	return lws_context_user(lws_get_context(wsi));
}

static int south_http_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user,
			 void *in, size_t len)
{
	switch (reason) {
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		return confirm_upgrade(gw_of(wsi), wsi);
	case LWS_CALLBACK_OPENSSL_PERFORM_CLIENT_CERT_VERIFICATION:
		/* lws takes our return value over OpenSSL's verdict (@len is
		 * preverify_ok): a certificate from a CA we do not trust must fail
		 * the handshake, whatever its CN says. */
		if (!len)
			ogw_events_login_refused(gw_of(wsi), NULL, "TLS client certificate rejected "
						 "(not from a trusted CA, or expired)");
		return len ? 0 : 1;
	case LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS: {
		/* a fake wsi on the vhost being made: its user is right here */
		const struct ogw_south_door *d = lws_vhost_user(lws_get_vhost(wsi));
		if (d && d->optional_cert)
			ogw_tls_server_cert_optional(user);
		/* serves the certificate of tls.identity once there is one */
		if (user)
			ogw_tls_server_serve_own(user);
		/* non-zero: lws makes no vhost, the listener does not open */
		return d && d->crl && ogw_tls_server_load_crl(user, d->crl) < 0;
	}
	case LWS_CALLBACK_SSL_INFO: {
		char peer[64];  /* "[IPv6]:port" */
		int alert = ogw_tls_server_info(wsi, in, peer, sizeof(peer));
		if (alert)
			ogw_security_tls_failed(gw_of(wsi), alert, peer);
		return 0;
	}
	case LWS_CALLBACK_HTTP:
		return http_reject(wsi, HTTP_STATUS_NOT_FOUND,
				   "ocppgw: chargers connect here over WebSocket\n", false);
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		gw_of(wsi)->woken(gw_of(wsi));
		return 0;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static int south_ws_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		       size_t len)
{
	struct south_pss *pss = user;

	switch (reason) {
	case LWS_CALLBACK_ESTABLISHED: {
		struct ogw_gateway *gw = gw_of(wsi);
		char id[OGW_ID_MAX + 1];
		const char *why;
		if (identity_from_uri(gw, wsi, id, &why))
			return -1;
		char auth[512] = "";
		if (gw->conf.csms_pass_credentials)
			lws_hdr_copy(wsi, auth, sizeof(auth), WSI_TOKEN_HTTP_AUTHORIZATION);
		enum ogw_ocpp v = (enum ogw_ocpp)lws_get_protocol(wsi)->id;
		enum ogw_ocpp north = (enum ogw_ocpp)ogw_conf_upstream_for(&gw->conf, id, v);
		/* a charger still connected, not one whose session outlived it */
		struct ogw_session *old = ogw_session_find(gw, id);
		bool replaces = old && !old->detached && old->state == OGW_SESSION_ACTIVE &&
				old->south.state == OGW_LEG_UP;
		pss->s = ogw_session_new(gw, id, v, north, wsi, auth[0] ? auth : NULL);
		if (pss->s && replaces) {
			char peer[64], detail[96];
			lws_get_peer_simple(wsi, peer, sizeof(peer));
			snprintf(detail, sizeof(detail), "a new connection from %s", peer);
			ogw_security_connection_replaced(gw, id, v, detail);
		}
		if (!pss->s)
			lws_close_reason(wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION,
					 (unsigned char *)"no translator", 13);
		ogw_memzero(auth, sizeof(auth));
		return pss->s ? 0 : -1;
	}
	case LWS_CALLBACK_RECEIVE:
		if (!pss->s)
			return 0;
		if (lws_frame_is_binary(wsi)) {
			/* OCPP-J is JSON text (J16 §4, J201 §4.1.2): RFC 6455 §7.4.1 1003. */
			ogw_session_refuse(&pss->s->south, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE,
					   "binary frame");
			return 0;
		}
		ogw_session_rx(&pss->s->south, in, len, lws_remaining_packet_payload(wsi),
			       lws_is_first_fragment(wsi), lws_is_final_fragment(wsi));
		return 0;
	case LWS_CALLBACK_RECEIVE_PONG:
		if (pss->s)
			ogw_session_heard(&pss->s->south);
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		if (!pss->s)
			return 0;
		return ogw_ws_writeable(&pss->s->south) ? -1 : 0;
	case LWS_CALLBACK_CLOSED:
		if (pss->s) {
			struct ogw_session *s = pss->s;
			pss->s = NULL;
			ogw_session_leg_gone(&s->south);
		}
		return 0;
	default:
		return 0;
	}
}

/* Frames of up to this size arrive in one callback; larger ones are
 * reassembled by the session. Kept small: lws allocates it per connection. */
#define SOUTH_RX 2048

const struct lws_protocols ogw_south_protocols[] = {
	{ "http", south_http_cb, 0, 0, 0, NULL, 0 },
	{ "ocpp1.6", south_ws_cb, sizeof(struct south_pss), SOUTH_RX, OGW_OCPP16, NULL, 0 },
	{ "ocpp2.0.1", south_ws_cb, sizeof(struct south_pss), SOUTH_RX, OGW_OCPP201, NULL, 0 },
	{ "ocpp2.1", south_ws_cb, sizeof(struct south_pss), SOUTH_RX, OGW_OCPP21, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};
