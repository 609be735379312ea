/* SPDX-License-Identifier: MIT */
/*
 * Puts a leg's TLS floor on the vhost lws is about to create. lws 4.1 (built
 * on OpenSSL here) passes ssl_options_set to SSL_CTX_set_options and the
 * cipher lists to SSL_CTX_set_cipher_list, so the floor holds from the
 * first handshake; the names were checked against the OCPP list when the
 * configuration was loaded (src/config/tls.c). It also serves the
 * certificate the gateway obtained for itself (tls.identity) on every wss
 * listener from the next handshake: lws loads tls.cert once, into the
 * vhost's SSL_CTX, and has no call to load another, so a certificate
 * callback on that SSL_CTX gives each new connection the current one
 * (features/certs says which it is).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <libwebsockets.h>
#include <openssl/pem.h>

#include "ocppgw/config.h"
#include "ocppgw/log.h"
#include "features/certs/certs.h"
#include "transport/tls.h"
#include "transport/transport.h"

void ogw_tls_floor_server(struct lws_context_creation_info *vi, const struct ogw_tls_floor *f)
{
	vi->ssl_options_set |= ogw_tls_options_below(f->min_version) | SSL_OP_CIPHER_SERVER_PREFERENCE;
	vi->ssl_cipher_list = f->ciphers;
	vi->ssl_info_event_mask |= SSL_CB_ALERT;
}

void ogw_tls_floor_client(struct lws_context_creation_info *vi, const struct ogw_tls_floor *f)
{
	vi->ssl_client_options_set |= ogw_tls_options_below(f->min_version);
	vi->client_ssl_cipher_list = f->ciphers;
}

/* Logs @ret, an alert that went one way in a handshake, if it is fatal;
 * then returns true with the peer's address in @addr. */
static bool log_alert(int fd, int where, int ret, const char *leg, const char *peer, char *addr,
		      size_t addr_size)
{
	if (!(where & SSL_CB_ALERT) || (ret >> 8) != SSL3_AL_FATAL)
		return false;
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);
	snprintf(addr, addr_size, "?");
	if (fd >= 0 && !getpeername(fd, (struct sockaddr *)&sa, &len))
		ogw_listen_format((struct sockaddr *)&sa, addr, addr_size);
	struct ogw_log_ctx lc = { NULL, leg, NULL, NULL };
	ogw_warn(&lc, "TLS handshake with %s %s failed: alert \"%s\" %s", peer, addr,
		 SSL_alert_desc_string_long(ret), where & SSL_CB_READ ? "received" : "sent");
	return true;
}

void ogw_tls_server_cert_optional(void *ssl_ctx)
{
	/* lws set SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT with its own
	 * callback (which hands the verdict to south.c); keep the callback */
	SSL_CTX_set_verify(ssl_ctx, SSL_VERIFY_PEER, SSL_CTX_get_verify_callback(ssl_ctx));
}

int ogw_tls_server_load_crl(void *ssl_ctx, const char *path)
{
	X509_STORE *st = SSL_CTX_get_cert_store(ssl_ctx);
	X509_LOOKUP *lu = st ? X509_STORE_add_lookup(st, X509_LOOKUP_file()) : NULL;
	int n = lu ? X509_load_crl_file(lu, path, X509_FILETYPE_PEM) : 0;

	if (n <= 0) {
		ogw_err(NULL, "tls.crl: %s holds no CRL in PEM: %s", path,
			ERR_reason_error_string(ERR_peek_last_error()) ?
			ERR_reason_error_string(ERR_peek_last_error()) : "unreadable");
		ERR_clear_error();
		return -EINVAL;
	}
	/* the leaf's issuer must have a CRL in the file: a missing one fails
	 * the handshake rather than letting a revoked charger through */
	X509_STORE_set_flags(st, X509_V_FLAG_CRL_CHECK);
	ogw_info(NULL, "tls.crl: %d CRL(s) from %s", n, path);
	return 0;
}

int ogw_tls_server_info(struct lws *wsi, const void *in, char *peer, size_t peer_size)
{
	const struct lws_ssl_info *si = in;
	if (!log_alert(lws_get_socket_fd(wsi), si->where, si->ret, "south", "the charger at", peer,
		       peer_size))
		return 0;
	return si->where & SSL_CB_WRITE ? si->ret & 0xff : 0;
}

/* The certificate the gateway obtained for itself, as loaded for OpenSSL. */
static struct {
	unsigned int gen;       /* ogw_certs_own_served()'s generation it is */
	X509 *leaf;
	EVP_PKEY *key;
	STACK_OF(X509) *chain;  /* what follows the leaf in its file */
} own;

static void own_clear(void)
{
	X509_free(own.leaf);
	EVP_PKEY_free(own.key);
	if (own.chain)
		sk_X509_pop_free(own.chain, X509_free);
	memset(&own, 0, sizeof(own));
}

static int own_load(const char *cert, const char *key);

/* Before the server picks its certificate, in every handshake: the
 * obtained one replaces whatever the SSL_CTX holds (tls.cert, of
 * whatever key type: SSL_certs_clear() drops every slot). A new one is
 * read from its files once, at the first handshake after it came. */
static int serve_own(SSL *ssl, void *arg)
{
	const char *cert, *key;
	unsigned int gen = ogw_certs_own_served(&cert, &key);

	(void)arg;
	if (gen && gen != own.gen) {
		int r = own_load(cert, key);
		own.gen = gen;  /* one try per certificate: no log line per handshake */
		if (r < 0)
			ogw_err(NULL, "Failed to load the gateway's own certificate %s for OpenSSL: "
				"%s; serving the one before", cert, r == -EINVAL ?
				"not a certificate with its key" : strerror(-r));
	}
	if (!own.leaf)
		return 1;
	SSL_certs_clear(ssl);
	return SSL_use_cert_and_key(ssl, own.leaf, own.key, own.chain, 1) == 1;
}

void ogw_tls_server_serve_own(void *ssl_ctx)
{
	SSL_CTX_set_cert_cb(ssl_ctx, serve_own, NULL);
}

/* @cert (the leaf, then its chain) and @key, which must match, in place
 * of the loaded ones: 0, -EINVAL, or the open's errno (the ones before
 * stay). */
static int own_load(const char *cert, const char *key)
{
	FILE *cf = fopen(cert, "r"), *kf = fopen(key, "r");
	X509 *leaf = NULL, *x;
	EVP_PKEY *pk = NULL;
	STACK_OF(X509) *chain = sk_X509_new_null();
	int r = -EINVAL;

	if (!cf || !kf) {
		r = -errno;
		goto out;
	}
	leaf = PEM_read_X509(cf, NULL, NULL, NULL);
	while (leaf && chain && (x = PEM_read_X509(cf, NULL, NULL, NULL)))
		if (!sk_X509_push(chain, x))
			X509_free(x);
	pk = PEM_read_PrivateKey(kf, NULL, NULL, NULL);
	ERR_clear_error();  /* the end of the file reads as an error */
	if (!leaf || !pk || !chain || X509_check_private_key(leaf, pk) != 1)
		goto out;
	unsigned int gen = own.gen;
	own_clear();
	own.gen = gen;
	own.leaf = leaf;
	own.key = pk;
	own.chain = chain;
	leaf = NULL;
	pk = NULL;
	chain = NULL;
	r = 0;
out:
	ERR_clear_error();
	if (cf)
		fclose(cf);
	if (kf)
		fclose(kf);
	X509_free(leaf);
	EVP_PKEY_free(pk);
	if (chain)
		sk_X509_pop_free(chain, X509_free);
	return r;
}

void ogw_tls_server_own_free(void)
{
	own_clear();
}

static void client_info(const SSL *ssl, int where, int ret)
{
	char addr[INET6_ADDRSTRLEN + 16];
	log_alert(SSL_get_fd(ssl), where, ret, "north", "the CSMS at", addr, sizeof(addr));
}

void ogw_tls_client_ctx_ready(void *ssl_ctx)
{
	SSL_CTX_set_info_callback(ssl_ctx, client_info);
}
