/* SPDX-License-Identifier: MIT */
/*
 * The north side: one WebSocket client per north leg to <csms url>/<id>, in
 * the version the leg's translator speaks upstream, with the charger's
 * configured (or, when allowed, its own) credentials, and its client
 * vhosts: the gateway's, and one per charger that has its own client
 * certificate in csms.client_cert_dir (lws 4.1 holds a client certificate
 * per vhost), made on its first connect and reused. Reconnect timing and
 * what happens to waiting calls belong to the session.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libwebsockets.h>

#include "ocppgw/auth.h"
#include "ocppgw/log.h"
#include "ocppgw/util.h"
#include "features/certs/certs.h"
#include "features/credentials/credentials.h"
#include "session/session.h"
#include "transport/tls.h"
#include "transport/transport.h"

/* A ws:// or wss:// @url, taken apart (the path without its trailing '/'). */
struct ws_url {
	char host[256];
	int port;
	char path[512];
	bool tls;
};

static int parse_ws_url(const char *url, struct ws_url *ret)
{
	char tmp[1024];
	const char *prot, *addr, *path;
	int port;

	if (snprintf(tmp, sizeof(tmp), "%s", url) >= (int)sizeof(tmp))
		return -EINVAL;
	if (lws_parse_uri(tmp, &prot, &addr, &port, &path))
		return -EINVAL;
	if (!strcmp(prot, "ws"))
		ret->tls = false;
	else if (!strcmp(prot, "wss"))
		ret->tls = true;
	else
		return -EPROTONOSUPPORT;
	if (!*addr)
		return -EINVAL;
	snprintf(ret->host, sizeof(ret->host), "%s", addr);
	ret->port = port;
	/* lws_parse_uri drops the leading '/' of the path. */
	size_t plen = strlen(path);
	while (plen && path[plen - 1] == '/')
		plen--;
	snprintf(ret->path, sizeof(ret->path), "/%.*s", (int)plen, path);
	if (!strcmp(ret->path, "/"))
		ret->path[0] = '\0';
	return 0;
}

int ogw_north_parse_url(struct ogw_gateway *gw, const char *url)
{
	struct ws_url u;
	int r = parse_ws_url(url, &u);
	if (r < 0)
		return r;
	gw->north_tls = u.tls;
	snprintf(gw->north_host, sizeof(gw->north_host), "%s", u.host);
	gw->north_port = u.port;
	snprintf(gw->north_path, sizeof(gw->north_path), "%s", u.path);
	return 0;
}

/* ---- client vhosts ---- */

/* A client vhost made for one charger's own certificate (id set), or for
 * a CSMS's own TLS files (a secondary's, or a group's or charger's own
 * primary: id empty, shared by every leg with the same three files). */
struct north_id {
	lws_dll2_t list;          /* in gw->north_ids */
	struct lws_vhost *vh;
	struct timespec mtime;    /* of <id>.pem when vh was made: a new file, a new vhost */
	char id[OGW_ID_MAX + 1];
	char *files;              /* "<ca>\n<cert>\n<key>" the vhost was made with */
};

static struct north_id *find(struct ogw_gateway *gw, const char *id, const char *files)
{
	lws_start_foreach_dll(struct lws_dll2 *, d, lws_dll2_get_head(&gw->north_ids)) {
		struct north_id *n = lws_container_of(d, struct north_id, list);
		if (!strcmp(n->id, id) && !strcmp(n->files, files))
			return n;
	} lws_end_foreach_dll(d);
	return NULL;
}

static struct north_id *remember(struct ogw_gateway *gw, const char *id, const char *files)
{
	struct north_id *n = calloc(1, sizeof(*n));
	if (!n || !(n->files = strdup(files))) {
		free(n);
		return NULL;
	}
	snprintf(n->id, sizeof(n->id), "%s", id);
	lws_dll2_add_tail(&n->list, &gw->north_ids);
	return n;
}

static void files_key(const char *ca, const char *cert, const char *key, char *buf, size_t len)
{
	snprintf(buf, len, "%s\n%s\n%s", ca ? ca : "", cert ? cert : "", key ? key : "");
}

/* A private key the group or others may read is refused, not used: the
 * key is the charger's identity at the CSMS. */
static int key_private(const char *key, struct ogw_log_ctx *lc)
{
	struct stat sb;
	if (stat(key, &sb) < 0) {
		int e = errno;
		ogw_err(lc, "%s: %s (a certificate needs its key)", key,
			strerror(e));
		return -e;
	}
	if (sb.st_mode & (S_IRWXG | S_IRWXO)) {
		ogw_err(lc, "refusing %s: mode %03o lets others read the "
			"charger's key (chmod 600 it)", key, (unsigned int)(sb.st_mode & 0777));
		return -EPERM;
	}
	return 0;
}

struct lws_vhost *ogw_north_vhost_create(struct ogw_gateway *gw, const char *name,
					const char *ca, const char *cert, const char *key)
{
	const struct ogw_conf *c = &gw->conf;
	struct lws_context_creation_info vi;

	memset(&vi, 0, sizeof(vi));
	vi.vhost_name = name;
	vi.port = CONTEXT_PORT_NO_LISTEN;
	vi.protocols = ogw_north_protocols;
	vi.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	vi.client_ssl_ca_filepath = ca;
	/* a CA is the CSMS's trust, not an addition to the system's: and
	 * the system store, parsed into every client SSL_CTX, costs some
	 * 800 kB per vhost (docs/SECURITY.md) */
	if (ca)
		vi.options |= LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
	vi.client_ssl_cert_filepath = cert;
	vi.client_ssl_private_key_filepath = key;
	ogw_tls_floor_client(&vi, &c->csms_tls_floor);
	return lws_create_vhost(gw->ctx, &vi);
}

/* The first of csms.client_cert_dir/<id>.pem (the operator's) and
 * <data_dir>/certs/<id>.pem (obtained over OCPP, features/certs) that is
 * there, with its key path: 1, 0 when neither is, or a negative errno. */
static int own_cert(struct ogw_gateway *gw, const char *id, char cert[4096], char key[4096],
		    struct stat *ret_sb, struct ogw_log_ctx *lc)
{
	for (int i = 0; i < 2; i++) {
		if (i == 0 && gw->conf.csms_client_cert_dir) {
			snprintf(cert, 4096, "%s/%s.pem", gw->conf.csms_client_cert_dir, id);
			snprintf(key, 4096, "%s/%s.key", gw->conf.csms_client_cert_dir, id);
		} else if (i == 1 && gw->conf.request_certificates) {
			if (!ogw_certs_path(gw, id, ".pem", cert, 4096) ||
			    !ogw_certs_path(gw, id, ".key", key, 4096))
				continue;
		} else {
			continue;
		}
		if (stat(cert, ret_sb) == 0)
			return 1;
		if (errno != ENOENT) {
			int e = errno;
			ogw_err(lc, "%s: %s", cert, strerror(e));
			return -e;
		}
	}
	return 0;
}

int ogw_north_vhost_for(struct ogw_gateway *gw, const char *id, const char *ca,
			struct lws_vhost **ret)
{
	struct ogw_log_ctx lc = { id, "north", NULL, NULL };
	char cert[4096], key[4096], files[4200];
	struct stat sb;

	files_key(ca, NULL, NULL, files, sizeof(files));
	struct north_id *n = find(gw, id, files);
	int found = own_cert(gw, id, cert, key, &sb, &lc);
	if (found <= 0) {
		/* none of its own (any more): the CSMS's, as configured */
		if (!found && !n)
			ogw_debug(&lc, "no client certificate of its own: presenting the "
				  "configured one, if any");
		return found;
	}
	int r = key_private(key, &lc);
	if (r < 0)
		return r;
	if (n && n->mtime.tv_sec == sb.st_mtim.tv_sec && n->mtime.tv_nsec == sb.st_mtim.tv_nsec) {
		*ret = n->vh;
		return 0;
	}
	char name[OGW_ID_MAX + 8];
	snprintf(name, sizeof(name), "north-%s", id);
	struct lws_vhost *vh = ogw_north_vhost_create(gw, name, ca, cert, key);
	if (!vh) {
		ogw_err(&lc, "Failed to load the charger's client certificate %s with %s (see the "
			"lws line above)", cert, key);
		return -EINVAL;
	}
	if (!n) {
		n = remember(gw, id, files);
		if (!n) {
			lws_vhost_destroy(vh);
			return -ENOMEM;
		}
	} else {
		/* a renewed certificate: the leg is down, so nothing uses the old one */
		lws_vhost_destroy(n->vh);
	}
	ogw_info(&lc, "presenting its own client certificate %s to the CSMS", cert);
	n->vh = vh;
	n->mtime = sb.st_mtim;
	*ret = vh;
	return 0;
}

/* The shared client vhost for a CSMS with TLS files of its own (@c's ca,
 * cert, key; NULL ones: none), made at its first use and kept: a
 * certificate renewed under the same path is read at the next restart. */
static int csms_vhost(struct ogw_gateway *gw, const struct ogw_csms_conf *c,
		      struct ogw_log_ctx *lc, struct lws_vhost **ret)
{
	char files[12600];
	files_key(c->ca, c->cert, c->key, files, sizeof(files));
	struct north_id *n = find(gw, "", files);
	if (n) {
		*ret = n->vh;
		return 0;
	}
	if (c->key) {
		int r = key_private(c->key, lc);
		if (r < 0)
			return r;
	}
	char name[80];
	snprintf(name, sizeof(name), "north-csms-%s", c->name);
	struct lws_vhost *vh = ogw_north_vhost_create(gw, name, c->ca, c->cert, c->key);
	if (!vh) {
		ogw_err(lc, "Failed to load the TLS files of CSMS %s (ca %s, cert %s): see the "
			"lws line above", c->name, c->ca ? c->ca : "-", c->cert ? c->cert : "-");
		return -EINVAL;
	}
	n = remember(gw, "", files);
	if (!n) {
		lws_vhost_destroy(vh);
		return -ENOMEM;
	}
	n->vh = vh;
	ogw_info(lc, "CSMS %s: its own TLS settings (ca %s, cert %s)", c->name,
		 c->ca ? c->ca : "the system's", c->cert ? c->cert : "none");
	*ret = vh;
	return 0;
}

void ogw_north_ids_free(struct ogw_gateway *gw)
{
	/* the vhosts went with the lws context */
	lws_start_foreach_dll_safe(struct lws_dll2 *, d, d1, lws_dll2_get_head(&gw->north_ids)) {
		lws_dll2_remove(d);
		struct north_id *n = lws_container_of(d, struct north_id, list);
		free(n->files);
		free(n);
	} lws_end_foreach_dll_safe(d, d1);
}

/* ---- connecting ---- */

void ogw_north_connect(struct ogw_leg *l)
{
	struct ogw_session *s = l->s;
	struct ogw_gateway *gw = s->gw;
	struct ogw_secondary *sec = ogw_leg_secondary(l);
	struct ws_url u;
	char enc[OGW_ID_MAX * 3 + 1], path[sizeof(u.path) + sizeof(enc) + 2];
	char host[300];
	struct lws_vhost *vh;

	struct ogw_log_ctx lc = { s->id, sec ? sec->leg_name : "north", NULL, NULL };
	struct ogw_csms_view view;
	const struct ogw_csms_conf *c = sec ? sec->conf : &view.primary;
	if (!sec)
		ogw_conf_csms_for(&gw->conf, s->id, s->south.ver, &view);
	/* the gateway's CSMS, or a secondary's URL, a group's or a charger's
	 * own primary */
	bool own_url = sec || !ogw_str_same(c->url, gw->conf.csms_url);
	if (!own_url) {
		u.tls = gw->north_tls;
		snprintf(u.host, sizeof(u.host), "%s", gw->north_host);
		u.port = gw->north_port;
		snprintf(u.path, sizeof(u.path), "%s", gw->north_path);
	} else if (parse_ws_url(c->url, &u) < 0) {
		/* the configuration checked it: only a bug gets here */
		ogw_session_north_failed(l, "URL not usable");
		return;
	}
	/* TLS: csms.ca/cert/key, or a CSMS's own files (a secondary with any
	 * of ca, cert, key; a group's or charger's primary); on the primary
	 * leg, the charger's own client certificate before both
	 * (docs/SECURITY.md) */
	vh = gw->north_vh;
	int r = 0;
	bool own_files = sec ? c->ca || c->cert || c->key :
			       !ogw_str_same(c->ca, gw->conf.csms_ca) ||
				       !ogw_str_same(c->cert, gw->conf.csms_cert) ||
				       !ogw_str_same(c->key, gw->conf.csms_key);
	if (u.tls && own_files)
		r = csms_vhost(gw, c, &lc, &vh);
	if (!r && !sec && u.tls)
		r = ogw_north_vhost_for(gw, s->id, c->ca, &vh);
	if (r < 0) {
		l->state = OGW_LEG_CONNECTING;
		ogw_session_north_failed(l, "its client certificate cannot be used");
		return;
	}
	ogw_percent_encode(s->id, enc, sizeof(enc));
	snprintf(path, sizeof(path), "%s/%s", u.path, enc);
	if ((u.tls && u.port == 443) || (!u.tls && u.port == 80))
		snprintf(host, sizeof(host), "%s", u.host);
	else
		snprintf(host, sizeof(host), "%s:%d", u.host, u.port);

	struct lws_client_connect_info ci;
	memset(&ci, 0, sizeof(ci));
	ci.context = gw->ctx;
	ci.vhost = vh;
	ci.address = u.host;
	ci.port = u.port;
	ci.path = path;
	ci.host = host;
	ci.origin = host;
	ci.ssl_connection = u.tls ? LCCSCF_USE_SSL : 0;
	ci.protocol = ogw_ocpp_subprotocol(l->ver);
	ci.local_protocol_name = "ocpp-north";
	ci.userdata = l;
	/* Also kept apart from the protocol binding: lws reports a connection
	 * that fails before it is bound (queued for a header table, refused)
	 * with a NULL user, and the session must still hear of it. */
	ci.opaque_user_data = l;
	ci.pwsi = &l->wsi;

	l->state = OGW_LEG_CONNECTING;
	ogw_debug(&lc, "connecting to %s%s:%d%s", u.tls ? "wss://" : "ws://", u.host, u.port,
		  path);
	if (!lws_client_connect_via_info(&ci) && l->state == OGW_LEG_CONNECTING) {
		l->wsi = NULL;
		ogw_session_north_failed(l, "connect failed");
	}
}

const struct ogw_leg_transport ogw_ws_north_transport = {
	.name = "websocket",
	.connect = ogw_north_connect,
	.send_take = ogw_ws_send_take,
	.close = ogw_ws_close,
	.ping = ogw_ws_ping,
	.abort = ogw_ws_abort,
	.drop_queue = ogw_ws_drop_queue,
	.withdraw = ogw_ws_withdraw,
	.session_reconnects = true,
	.websocket = true,
};

static int append_auth(struct ogw_leg *l, unsigned char **p, unsigned char *end)
{
	struct ogw_session *s = l->s;
	const struct ogw_charger_conf *cc = ogw_conf_charger(&s->gw->conf, s->id);
	const struct ogw_secondary *sec = ogw_leg_secondary(l);
	char *value = NULL;

	if (sec) {
		/* a secondary's own Basic auth, else none: the charger's
		 * credentials are the primary's business */
		const char *pw = sec->conf->password;
		if (!pw)
			return 0;
		value = ogw_auth_make_basic(sec->conf->user ? sec->conf->user : s->id, pw,
					    strlen(pw));
		if (!value)
			return -1;
	} else if (cc && cc->upstream_password) {
		/* the CSMS may have changed it since (credentials.c) */
		char *changed = ogw_credentials_upstream(s->gw, s->id);
		const char *pw = changed ? changed : cc->upstream_password;
		value = ogw_auth_make_basic(cc->upstream_user ? cc->upstream_user : s->id, pw,
					    strlen(pw));
		if (changed) {
			ogw_memzero(changed, strlen(changed));
			free(changed);
		}
		if (!value)
			return -1;
	} else if (s->south_auth) {
		value = strdup(s->south_auth);
		if (!value)
			return -1;
	} else {
		return 0;
	}
	int r = lws_add_http_header_by_token(l->wsi, WSI_TOKEN_HTTP_AUTHORIZATION,
					     (unsigned char *)value, (int)strlen(value), p, end);
	ogw_memzero(value, strlen(value));
	free(value);
	return r ? -1 : 0;
}

static int north_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		    size_t len)
{
	/* The north leg this connection is (NULL once its session let go). */
	struct ogw_leg *l = user ? user : lws_get_opaque_user_data(wsi);

	switch (reason) {
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
		if (!l)
			return 0;
		l->wsi = wsi;
		return append_auth(l, (unsigned char **)in, (*(unsigned char **)in) + len);
	case LWS_CALLBACK_CLIENT_FILTER_PRE_ESTABLISH: {
		/* The handshake headers are gone by CLIENT_ESTABLISHED. */
		if (!l)
			return -1;
		char proto[32] = "";
		lws_hdr_copy(wsi, proto, sizeof(proto), WSI_TOKEN_PROTOCOL);
		if (strcmp(proto, ogw_ocpp_subprotocol(l->ver))) {
			struct ogw_log_ctx lc = { l->s->id, "north", NULL, NULL };
			ogw_warn(&lc, "CSMS agreed to subprotocol '%s', not %s: closing", proto,
				 ogw_ocpp_subprotocol(l->ver));
			return -1;
		}
		return 0;
	}
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		if (!l || l->s->state != OGW_SESSION_ACTIVE)
			return -1;
		l->wsi = wsi;
		ogw_session_north_up(l);
		return 0;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		if (l)
			ogw_session_rx(l, in, len, lws_remaining_packet_payload(wsi),
				       lws_is_first_fragment(wsi),
				       lws_is_final_fragment(wsi));
		return 0;
	case LWS_CALLBACK_CLIENT_RECEIVE_PONG:
		if (l)
			ogw_session_heard(l);
		return 0;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		if (!l)
			return 0;
		return ogw_ws_writeable(l) ? -1 : 0;
	case LWS_CALLBACK_OPENSSL_LOAD_EXTRA_CLIENT_VERIFY_CERTS:
		ogw_tls_client_ctx_ready(user);
		return 0;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		if (l) {
			struct ogw_log_ctx lc = { l->s->id, "north", NULL, NULL };
			ogw_info(&lc, "connection to CSMS failed: %s",
				 in ? (const char *)in : "unknown error");
			ogw_session_leg_gone(l);
		}
		return 0;
	case LWS_CALLBACK_CLIENT_CLOSED:
		if (l)
			ogw_session_leg_gone(l);
		return 0;
	default:
		return 0;
	}
}

#define NORTH_RX 2048

const struct lws_protocols ogw_north_protocols[] = {
	{ "ocpp-north", north_cb, 0, NORTH_RX, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};
