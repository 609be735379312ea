/* SPDX-License-Identifier: MIT */
/*
 * The TLS floor (tls.min_version, tls.ciphers and the csms.* pair) put on
 * the SSL_CTX lws makes for a vhost: its server side for a charger
 * listener, its client side for the CSMS.
 */
#ifndef OGW_TRANSPORT_TLS_H
#define OGW_TRANSPORT_TLS_H

#include <libwebsockets.h>

#include "ocppgw/config.h"
#include "ocppgw/log.h"

void ogw_tls_floor_server(struct lws_context_creation_info *vi, const struct ogw_tls_floor *f);
void ogw_tls_floor_client(struct lws_context_creation_info *vi, const struct ogw_tls_floor *f);
/* A fatal TLS alert either way is logged with why and the peer's address:
 * lws's own line for a failed handshake is often "SSL err 1" with an empty
 * OpenSSL queue. South: on LWS_CALLBACK_SSL_INFO (@in). North: lws 4.1
 * asks for no info events on client connections, so the client SSL_CTX
 * gets its own callback on LWS_CALLBACK_OPENSSL_LOAD_EXTRA_CLIENT_VERIFY_CERTS
 * (@ssl_ctx is that callback's user). */
/* Profiles 2 and 3 on one listener: a client certificate is asked for and
 * verified when shown, but its absence no longer fails the handshake.
 * @ssl_ctx: the user of LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS. */
void ogw_tls_server_cert_optional(void *ssl_ctx);
/* tls.crl: the CRLs in PEM file @path join the verification of client
 * certificates on @ssl_ctx (the same callback's user), checked for every
 * charger certificate. 0, or -EINVAL when the file holds no CRL (logged). */
int ogw_tls_server_load_crl(void *ssl_ctx, const char *path);
/* On LWS_CALLBACK_SSL_INFO (@in): logs a fatal alert; returns the TLS
 * alert code (RFC 8446 §6) when the gateway sent one, with the charger's
 * address in @peer, else 0. */
int ogw_tls_server_info(struct lws *wsi, const void *in, char *peer, size_t peer_size);
/* The gateway's own certificate (tls.identity): ogw_tls_server_serve_own()
 * on a listener's SSL_CTX (the LOAD_EXTRA_SERVER_VERIFY_CERTS user) makes
 * every handshake there serve the one ogw_certs_own_served() names,
 * tls.cert until there is one; own_free() forgets it (at gateway free). */
void ogw_tls_server_serve_own(void *ssl_ctx);
void ogw_tls_server_own_free(void);
void ogw_tls_client_ctx_ready(void *ssl_ctx);

#endif
