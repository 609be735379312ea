/* SPDX-License-Identifier: MIT */
/*
 * Puts a leg's TLS floor on the vhost lws is about to create. lws 4.1 (built
 * on OpenSSL here) passes ssl_options_set to SSL_CTX_set_options and the
 * cipher lists to SSL_CTX_set_cipher_list, so the floor holds from the
 * first handshake; the names were checked against the OCPP list when the
 * configuration was loaded (src/config/tls.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sys/socket.h>

#include <libwebsockets.h>

#include "ocppgw/config.h"
#include "ocppgw/log.h"
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

/* Logs @ret, an alert that went one way in a handshake, if it is fatal. */
static void log_alert(int fd, int where, int ret, const char *leg, const char *peer)
{
	if (!(where & SSL_CB_ALERT) || (ret >> 8) != SSL3_AL_FATAL)
		return;
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);
	char addr[INET6_ADDRSTRLEN + 16] = "?";
	if (fd >= 0 && !getpeername(fd, (struct sockaddr *)&sa, &len))
		ogw_listen_format((struct sockaddr *)&sa, addr, sizeof(addr));
	struct ogw_log_ctx lc = { NULL, leg, NULL, NULL };
	ogw_warn(&lc, "TLS handshake with %s %s failed: alert \"%s\" %s", peer, addr,
		 SSL_alert_desc_string_long(ret), where & SSL_CB_READ ? "received" : "sent");
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

void ogw_tls_server_info(struct lws *wsi, const void *in)
{
	const struct lws_ssl_info *si = in;
	log_alert(lws_get_socket_fd(wsi), si->where, si->ret, "south", "the charger at");
}

static void client_info(const SSL *ssl, int where, int ret)
{
	log_alert(SSL_get_fd(ssl), where, ret, "north", "the CSMS at");
}

void ogw_tls_client_ctx_ready(void *ssl_ctx)
{
	SSL_CTX_set_info_callback(ssl_ctx, client_info);
}
