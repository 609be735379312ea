/* SPDX-License-Identifier: MIT */
/*
 * A charger's own identity upstream (security profile 3 at the CSMS): the
 * client certificate `<csms.client_cert_dir>/<id>.pem` with its key
 * `<id>.key`. lws 4.1 holds a client certificate per vhost, so each charger
 * that has one gets its own client vhost, made on its first connect and
 * reused; a charger without one uses the gateway's north vhost (csms.cert
 * or no certificate). It decides which vhost; north.c connects.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libwebsockets.h>

#include "ocppgw/log.h"
#include "session/session.h"
#include "transport/tls.h"
#include "transport/transport.h"

struct north_id {
	lws_dll2_t list;          /* in gw->north_ids */
	struct lws_vhost *vh;
	struct timespec mtime;    /* of <id>.pem when vh was made: a new file, a new vhost */
	char id[OGW_ID_MAX + 1];
};

static struct north_id *find(struct ogw_gateway *gw, const char *id)
{
	lws_start_foreach_dll(struct lws_dll2 *, d, lws_dll2_get_head(&gw->north_ids)) {
		struct north_id *n = lws_container_of(d, struct north_id, list);
		if (!strcmp(n->id, id))
			return n;
	} lws_end_foreach_dll(d);
	return NULL;
}

/* A private key the group or others may read is refused, not used: the
 * key is the charger's identity at the CSMS. */
static int key_private(const char *key, struct ogw_log_ctx *lc)
{
	struct stat sb;
	if (stat(key, &sb) < 0) {
		int e = errno;
		ogw_err(lc, "csms.client_cert_dir: %s: %s (a certificate needs its key)", key,
			strerror(e));
		return -e;
	}
	if (sb.st_mode & (S_IRWXG | S_IRWXO)) {
		ogw_err(lc, "csms.client_cert_dir: refusing %s: mode %03o lets others read the "
			"charger's key (chmod 600 it)", key, (unsigned int)(sb.st_mode & 0777));
		return -EPERM;
	}
	return 0;
}

struct lws_vhost *ogw_north_vhost_create(struct ogw_gateway *gw, const char *name,
					const char *cert, const char *key)
{
	const struct ogw_conf *c = &gw->conf;
	struct lws_context_creation_info vi;

	memset(&vi, 0, sizeof(vi));
	vi.vhost_name = name;
	vi.port = CONTEXT_PORT_NO_LISTEN;
	vi.protocols = ogw_north_protocols;
	vi.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	vi.client_ssl_ca_filepath = c->csms_ca;
	/* csms.ca is the CSMS's trust, not an addition to the system's: and
	 * the system store, parsed into every client SSL_CTX, costs some
	 * 800 kB per vhost (docs/SECURITY.md) */
	if (c->csms_ca)
		vi.options |= LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
	vi.client_ssl_cert_filepath = cert;
	vi.client_ssl_private_key_filepath = key;
	ogw_tls_floor_client(&vi, &c->csms_tls_floor);
	return lws_create_vhost(gw->ctx, &vi);
}

int ogw_north_vhost_for(struct ogw_gateway *gw, const char *id, struct lws_vhost **ret)
{
	const char *dir = gw->conf.csms_client_cert_dir;
	struct ogw_log_ctx lc = { id, "north", NULL, NULL };
	char cert[4096], key[4096];
	struct stat sb;

	if (!dir || !gw->north_tls) {
		*ret = gw->north_vh;
		return 0;
	}
	snprintf(cert, sizeof(cert), "%s/%s.pem", dir, id);
	snprintf(key, sizeof(key), "%s/%s.key", dir, id);
	struct north_id *n = find(gw, id);
	if (stat(cert, &sb) < 0) {
		if (errno != ENOENT) {
			int e = errno;
			ogw_err(&lc, "csms.client_cert_dir: %s: %s", cert, strerror(e));
			return -e;
		}
		/* none of its own (any more): the gateway's, as configured */
		if (!n)
			ogw_debug(&lc, "no %s: presenting %s", cert,
				  gw->conf.csms_cert ? "csms.cert" : "no client certificate");
		*ret = gw->north_vh;
		return 0;
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
	struct lws_vhost *vh = ogw_north_vhost_create(gw, name, cert, key);
	if (!vh) {
		ogw_err(&lc, "Failed to load the charger's client certificate %s with %s (see the "
			"lws line above)", cert, key);
		return -EINVAL;
	}
	if (!n) {
		n = calloc(1, sizeof(*n));
		if (!n) {
			lws_vhost_destroy(vh);
			return -ENOMEM;
		}
		snprintf(n->id, sizeof(n->id), "%s", id);
		lws_dll2_add_tail(&n->list, &gw->north_ids);
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

void ogw_north_ids_free(struct ogw_gateway *gw)
{
	/* the vhosts went with the lws context */
	lws_start_foreach_dll_safe(struct lws_dll2 *, d, d1, lws_dll2_get_head(&gw->north_ids)) {
		lws_dll2_remove(d);
		free(lws_container_of(d, struct north_id, list));
	} lws_end_foreach_dll_safe(d, d1);
}
