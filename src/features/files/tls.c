/* SPDX-License-Identifier: MIT */
/*
 * The file server's connection I/O, plain or HTTPS (files.cert/files.key):
 * files.c and upload.c read, write and shut down a connection only
 * through the functions here, with libuv's own callback types, so the
 * server code is the same for both. With TLS, mbedTLS runs on memory
 * buffers: what libuv reads goes into the connection's ciphertext buffer
 * and mbedTLS takes it from there; what mbedTLS writes is collected and
 * handed to uv_write() after each call (the loop never waits). TLS 1.2
 * only (Debian's mbedTLS 2.28), with the cipher suites of the OCPP
 * security specification's list (docs/SECURITY.md "TLS"); the server's
 * certificate and key are read once at start.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include "ocppgw/log.h"
#include "features/files/internal.h"

#define TLS_IN_MAX (MBEDTLS_SSL_IN_CONTENT_LEN + 2048)

struct ogw_files_tls {
	mbedtls_ssl_config conf;
	mbedtls_x509_crt crt;
	mbedtls_pk_context key;
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
};

struct conn_tls {
	mbedtls_ssl_context ssl;
	bool handshaken;
	bool reading;               /* the server wants plaintext */
	uv_alloc_cb alloc;
	uv_read_cb read;
	unsigned char in[TLS_IN_MAX];  /* ciphertext read, not yet taken by mbedTLS */
	size_t in_off, in_n;
	char *out;                  /* ciphertext mbedTLS wrote, not yet handed to libuv */
	size_t out_n, out_cap;
};

/* One uv_write of ciphertext; @cb (may be NULL) is the server's. */
struct tls_write {
	uv_write_t req;
	struct conn *c;
	uv_write_cb cb;
	char data[];
};

/* The suites of the OCPP 2.0.1 security specification's TLS 1.2 list
 * that mbedTLS has (A00.FR.318/319). */
static const int suites[] = {
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	0,
};

static const char *tls_error(int rc, char *buf, size_t len)
{
	mbedtls_strerror(rc, buf, len);
	return buf;
}

int ogw_files_tls_new(const char *cert, const char *key, struct ogw_files_tls **ret)
{
	struct ogw_files_tls *t = calloc(1, sizeof(*t));
	char why[160];
	int rc;

	if (!t)
		return -ENOMEM;
	mbedtls_ssl_config_init(&t->conf);
	mbedtls_x509_crt_init(&t->crt);
	mbedtls_pk_init(&t->key);
	mbedtls_entropy_init(&t->entropy);
	mbedtls_ctr_drbg_init(&t->drbg);
	if ((rc = mbedtls_x509_crt_parse_file(&t->crt, cert)) != 0) {
		ogw_err(NULL, "files.cert %s: %s", cert, tls_error(rc, why, sizeof(why)));
		goto fail;
	}
	if ((rc = mbedtls_pk_parse_keyfile(&t->key, key, NULL)) != 0) {
		ogw_err(NULL, "files.key %s: %s", key, tls_error(rc, why, sizeof(why)));
		goto fail;
	}
	if ((rc = mbedtls_ctr_drbg_seed(&t->drbg, mbedtls_entropy_func, &t->entropy,
					(const unsigned char *)"ocppgw-files", 12)) != 0 ||
	    (rc = mbedtls_ssl_config_defaults(&t->conf, MBEDTLS_SSL_IS_SERVER,
					      MBEDTLS_SSL_TRANSPORT_STREAM,
					      MBEDTLS_SSL_PRESET_DEFAULT)) != 0) {
		ogw_err(NULL, "files: Failed to set up TLS: %s", tls_error(rc, why, sizeof(why)));
		goto fail;
	}
	mbedtls_ssl_conf_rng(&t->conf, mbedtls_ctr_drbg_random, &t->drbg);
	mbedtls_ssl_conf_min_version(&t->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
				     MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_ciphersuites(&t->conf, suites);
	if ((rc = mbedtls_ssl_conf_own_cert(&t->conf, &t->crt, &t->key)) != 0) {
		ogw_err(NULL, "files.cert %s and files.key %s: %s", cert, key,
			tls_error(rc, why, sizeof(why)));
		goto fail;
	}
	*ret = t;
	return 0;
fail:
	ogw_files_tls_free(t);
	return -EINVAL;
}

void ogw_files_tls_free(struct ogw_files_tls *t)
{
	if (!t)
		return;
	mbedtls_ssl_config_free(&t->conf);
	mbedtls_x509_crt_free(&t->crt);
	mbedtls_pk_free(&t->key);
	mbedtls_ctr_drbg_free(&t->drbg);
	mbedtls_entropy_free(&t->entropy);
	free(t);
}

/* ---- mbedTLS on memory buffers ----------------------------------------- */

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
	struct conn_tls *t = ctx;
	if (t->out_n + len > t->out_cap) {
		size_t cap = t->out_cap ? t->out_cap : 4096;
		while (cap < t->out_n + len)
			cap *= 2;
		char *n = realloc(t->out, cap);
		if (!n)
			return MBEDTLS_ERR_SSL_ALLOC_FAILED;
		t->out = n;
		t->out_cap = cap;
	}
	memcpy(t->out + t->out_n, buf, len);
	t->out_n += len;
	return (int)len;
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
	struct conn_tls *t = ctx;
	size_t have = t->in_n - t->in_off;
	if (!have)
		return MBEDTLS_ERR_SSL_WANT_READ;
	if (len > have)
		len = have;
	memcpy(buf, t->in + t->in_off, len);
	t->in_off += len;
	return (int)len;
}

static void tls_written(uv_write_t *req, int status)
{
	struct tls_write *w = lws_container_of(req, struct tls_write, req);
	struct conn *c = w->c;
	uv_write_cb cb = w->cb;
	free(w);
	if (cb) {
		c->wr.data = c;
		cb(&c->wr, status);
	}
}

/* Hands what mbedTLS wrote to libuv; @cb runs once it is written (even
 * when nothing was). 0 or a libuv error. */
static int flush(struct conn *c, uv_write_cb cb)
{
	struct conn_tls *t = c->tls;
	struct tls_write *w = malloc(sizeof(*w) + t->out_n);
	if (!w)
		return UV_ENOMEM;
	w->c = c;
	w->cb = cb;
	memcpy(w->data, t->out, t->out_n);
	uv_buf_t b = uv_buf_init(w->data, (unsigned int)t->out_n);
	t->out_n = 0;
	int r = uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, tls_written);
	if (r < 0)
		free(w);
	return r;
}

/* Plaintext for the server while it reads: as much as mbedTLS has. */
static void pump(struct conn *c)
{
	struct conn_tls *t = c->tls;
	char why[160];
	int rc;

	if (!t->handshaken) {
		rc = mbedtls_ssl_handshake(&t->ssl);
		if (t->out_n && flush(c, NULL) < 0)
			rc = MBEDTLS_ERR_SSL_ALLOC_FAILED;
		if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE)
			return;
		if (rc != 0) {
			ogw_warn(NULL, "file server: TLS handshake failed: %s",
				 tls_error(rc, why, sizeof(why)));
			uv_buf_t none = uv_buf_init(NULL, 0);
			t->read((uv_stream_t *)&c->tcp, UV_EPROTO, &none); /* it closes */
			return;
		}
		t->handshaken = true;
	}
	while (t->reading && !c->closing) {
		uv_buf_t buf = uv_buf_init(NULL, 0);
		t->alloc((uv_handle_t *)&c->tcp, 65536, &buf);
		if (!buf.base || !buf.len)
			return;
		rc = mbedtls_ssl_read(&t->ssl, (unsigned char *)buf.base, buf.len);
		if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE)
			break;
		if (rc > 0) {
			t->read((uv_stream_t *)&c->tcp, rc, &buf);
			continue;
		}
		/* the client's close_notify, or a broken record */
		t->read((uv_stream_t *)&c->tcp,
			rc == 0 || rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY ? UV_EOF : UV_ECONNRESET,
			&buf);
		return;
	}
	if (t->out_n && !c->closing)
		flush(c, NULL);
}

static void cipher_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct conn *c = h->data;
	struct conn_tls *t = c->tls;
	(void)hint;
	if (t->in_off) {
		memmove(t->in, t->in + t->in_off, t->in_n - t->in_off);
		t->in_n -= t->in_off;
		t->in_off = 0;
	}
	*buf = uv_buf_init((char *)t->in + t->in_n, (unsigned int)(sizeof(t->in) - t->in_n));
}

static void cipher_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
	struct conn *c = st->data;
	struct conn_tls *t = c->tls;
	(void)buf;
	if (n < 0) {
		/* the server's last reader closes on an error, reading or not */
		uv_buf_t none = uv_buf_init(NULL, 0);
		t->read(st, n, &none);
		return;
	}
	t->in_n += (size_t)n;
	pump(c);
}

/* ---- what files.c and upload.c call ------------------------------------ */

int ogw_files_conn_tls(struct conn *c, struct ogw_files_tls *cfg)
{
	struct conn_tls *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	mbedtls_ssl_init(&t->ssl);
	if (mbedtls_ssl_setup(&t->ssl, &cfg->conf) != 0) {
		mbedtls_ssl_free(&t->ssl);
		free(t);
		return -ENOMEM;
	}
	mbedtls_ssl_set_bio(&t->ssl, t, bio_send, bio_recv, NULL);
	c->tls = t;
	return 0;
}

void ogw_files_conn_tls_free(struct conn *c)
{
	struct conn_tls *t = c->tls;
	if (!t)
		return;
	mbedtls_ssl_free(&t->ssl);
	free(t->out);
	free(t);
	c->tls = NULL;
}

int ogw_files_read_start(struct conn *c, uv_alloc_cb alloc, uv_read_cb read)
{
	struct conn_tls *t = c->tls;
	if (!t)
		return uv_read_start((uv_stream_t *)&c->tcp, alloc, read);
	t->alloc = alloc;
	t->read = read;
	t->reading = true;
	/* the socket is read all along: the handshake and close_notify come
	 * through it whatever the server wants */
	int r = uv_read_start((uv_stream_t *)&c->tcp, cipher_alloc, cipher_read);
	return r == UV_EALREADY ? 0 : r;
}

void ogw_files_read_stop(struct conn *c)
{
	if (c->tls)
		c->tls->reading = false;
	else
		uv_read_stop((uv_stream_t *)&c->tcp);
}

int ogw_files_write(struct conn *c, uv_write_cb cb)
{
	struct conn_tls *t = c->tls;
	if (!t)
		return uv_write(&c->wr, (uv_stream_t *)&c->tcp, &c->out, 1, cb);
	size_t off = 0;
	while (off < c->out.len) {
		int rc = mbedtls_ssl_write(&t->ssl, (const unsigned char *)c->out.base + off,
					   c->out.len - off);
		if (rc < 0)
			return UV_EPROTO;
		off += (size_t)rc;
	}
	return flush(c, cb);
}

int ogw_files_shutdown(struct conn *c, uv_shutdown_cb cb)
{
	struct conn_tls *t = c->tls;
	if (t && t->handshaken) {
		mbedtls_ssl_close_notify(&t->ssl);
		if (t->out_n && flush(c, NULL) < 0)
			return UV_ENOMEM;
	}
	return uv_shutdown(&c->sd, (uv_stream_t *)&c->tcp, cb);
}
