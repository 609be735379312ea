/* SPDX-License-Identifier: MIT */
/*
 * A charger's own identity at the CSMS, obtained over OCPP (security
 * profile 3 upstream, OCPP 2.0.1 A02 / 1.6 security extension): when a
 * charger's north leg comes up without a certificate of its own, or with
 * one that expires within csms.certificate_renew_days, the gateway makes an
 * EC P-256 key (mbedTLS), a CSR with CN = the identity, and sends
 * SignCertificate as that charger. The CSMS's CertificateSigned whose
 * certificate is for that key is the gateway's: it is installed in
 * <data_dir>/certs (key 0600), answered there, and never reaches the
 * charger; any other CertificateSigned is the charger's and passes. The
 * north leg presents the new certificate from its next connection
 * (transport/north.c picks the file up); a leg that stays up asks when its
 * renewal point comes. A certificate the operator put in
 * csms.client_cert_dir is never replaced.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/ecp.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>
#include <mbedtls/x509_csr.h>

#include "ocppgw/log.h"
#include "ocppgw/util.h"
#include "features/certs/certs.h"
#include "session/session.h"

#define PENDING_S 3600  /* a request younger than this is waited for, not repeated */
#define PEM_MAX 4096

bool ogw_certs_path(const struct ogw_gateway *gw, const char *id, const char *suffix, char *buf,
		    size_t size)
{
	int n = snprintf(buf, size, "%s/certs/%s%s", gw->conf.data_dir, id, suffix);
	return n > 0 && (size_t)n < size;
}

static int rng(void *ctx, unsigned char *buf, size_t len)
{
	(void)ctx;
	return ogw_random_bytes(buf, len) ? -1 : 0;
}

/* Writes @len bytes to @path through a temporary file, mode 0600. */
static int write_private(const char *path, const void *data, size_t len)
{
	char tmp[4200];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	int r = 0;
	if (fchmod(fd, 0600) < 0 || write(fd, data, len) != (ssize_t)len || fsync(fd) < 0)
		r = errno ? -errno : -EIO;
	close(fd);
	if (!r && rename(tmp, path) < 0)
		r = -errno;
	if (r)
		unlink(tmp);
	return r;
}

/* Seconds from now until the certificate in @path expires; -ENOENT when
 * there is none, another negative errno when it cannot be read. */
static int64_t expires_in(const char *path)
{
	mbedtls_x509_crt crt;
	mbedtls_x509_crt_init(&crt);
	int64_t r;
	if (access(path, F_OK) < 0) {
		r = -errno;
	} else if (mbedtls_x509_crt_parse_file(&crt, path) != 0) {
		r = -EINVAL;
	} else {
		const mbedtls_x509_time *t = &crt.valid_to;
		struct tm tm = { .tm_year = t->year - 1900, .tm_mon = t->mon - 1, .tm_mday = t->day,
				 .tm_hour = t->hour, .tm_min = t->min, .tm_sec = t->sec };
		r = (int64_t)timegm(&tm) - (int64_t)time(NULL);
		if (r < 0)
			r = 0;
	}
	mbedtls_x509_crt_free(&crt);
	return r;
}

/* Seconds until @id's certificate is due for a request (0: now, and why
 * in @why), or -1: not for the gateway to ask (the operator's certificate,
 * or a request pending). */
static int64_t due_in(struct ogw_gateway *gw, const char *id, const char **why)
{
	char path[4200];
	struct stat sb;

	/* the operator's certificate wins */
	if (gw->conf.csms_client_cert_dir &&
	    snprintf(path, sizeof(path), "%s/%s.pem", gw->conf.csms_client_cert_dir, id) <
		    (int)sizeof(path) && access(path, F_OK) == 0)
		return -1;
	if (!ogw_certs_path(gw, id, ".key.new", path, sizeof(path)))
		return -1;
	if (stat(path, &sb) == 0 && time(NULL) - sb.st_mtime < PENDING_S)
		return -1;
	ogw_certs_path(gw, id, ".pem", path, sizeof(path));
	int64_t left = expires_in(path);
	if (left == -ENOENT) {
		*why = "it has no certificate of its own";
		return 0;
	}
	if (left < 0) {
		*why = "its certificate cannot be read";
		return 0;
	}
	int64_t early = (int64_t)gw->conf.certificate_renew_days * 86400;
	*why = left ? "its certificate expires soon" : "its certificate has expired";
	return left <= early ? 0 : left - early;
}

/* A new key for @id in <id>.key.new and its CSR (PEM) in @csr. */
static int make_key_and_csr(struct ogw_gateway *gw, const char *id, unsigned char *csr,
			    size_t csr_size)
{
	mbedtls_pk_context pk;
	mbedtls_x509write_csr w;
	unsigned char pem[PEM_MAX];
	char subject[OGW_ID_MAX + 300], path[4200];
	int r;

	mbedtls_pk_init(&pk);
	mbedtls_x509write_csr_init(&w);
	if (mbedtls_pk_setup(&pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) ||
	    mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(pk), rng, NULL) ||
	    mbedtls_pk_write_key_pem(&pk, pem, sizeof(pem))) {
		r = -EIO;
		goto out;
	}
	/* an identity has no ',' (ogw_identity_check), the one character
	 * mbedTLS 2.28 reads as the end of a name's value */
	snprintf(subject, sizeof(subject), "CN=%s%s%s", id,
		 gw->conf.certificate_organization ? ",O=" : "",
		 gw->conf.certificate_organization ? gw->conf.certificate_organization : "");
	mbedtls_x509write_csr_set_md_alg(&w, MBEDTLS_MD_SHA256);
	mbedtls_x509write_csr_set_key(&w, &pk);
	if (mbedtls_x509write_csr_set_subject_name(&w, subject) ||
	    mbedtls_x509write_csr_pem(&w, csr, csr_size, rng, NULL)) {
		r = -EINVAL;
		goto out;
	}
	snprintf(path, sizeof(path), "%s/certs", gw->conf.data_dir);
	if (mkdir(path, 0700) < 0 && errno != EEXIST) {
		r = -errno;
		goto out;
	}
	ogw_certs_path(gw, id, ".key.new", path, sizeof(path));
	r = write_private(path, pem, strlen((char *)pem));
out:
	ogw_memzero(pem, sizeof(pem));
	mbedtls_x509write_csr_free(&w);
	mbedtls_pk_free(&pk);
	return r;
}

static void sign_done(struct ogw_tr_env *env, void *user, const json_t *result)
{
	struct ogw_session *s = ogw_env_session(env);
	const char *status = json_string_value(json_object_get(result, "status"));
	struct ogw_log_ctx lc = { s->id, "north", "SignCertificate", NULL };
	char path[4200];

	(void)user;
	if (status && !strcmp(status, "Accepted")) {
		ogw_info(&lc, "the CSMS accepted the CSR: waiting for its CertificateSigned");
		return;
	}
	ogw_warn(&lc, "the CSMS %s the CSR: asking again at the next connection",
		 status ? "rejected" : "did not answer");
	if (ogw_certs_path(s->gw, s->id, ".key.new", path, sizeof(path)))
		unlink(path);
}

static void request(struct ogw_session *s, struct ogw_leg *l, const char *why)
{
	unsigned char csr[PEM_MAX];
	struct ogw_log_ctx lc = { s->id, "north", "SignCertificate", NULL };

	int r = make_key_and_csr(s->gw, s->id, csr, sizeof(csr));
	if (r < 0) {
		ogw_err(&lc, "Failed to make a key and CSR in %s/certs: %s", s->gw->conf.data_dir,
			strerror(-r));
		return;
	}
	/* 2.x names the certificate's use; 1.6 has one kind */
	json_t *p = l->ver == OGW_OCPP16 ?
		    json_pack("{s:s}", "csr", (char *)csr) :
		    json_pack("{s:s, s:s}", "csr", (char *)csr, "certificateType",
			      "ChargingStationCertificate");
	ogw_info(&lc, "%s: asking the CSMS to sign a new key", why);
	r = p ? ogw_tr_emit(&s->env, OGW_TR_UP, "SignCertificate", p, sign_done, NULL) : -ENOMEM;
	if (r < 0)
		ogw_err(&lc, "Failed to send SignCertificate: %s", strerror(-r));
}

/* A session's renewal timer: a north leg that stays up past the renewal
 * point asks without waiting for a reconnect. Allocated only with
 * csms.request_certificates: a charger's own state is the pointer. */
struct certs_renewal {
	struct ogw_session *s;
	lws_sorted_usec_list_t sul;
};

struct certs_state {
	struct certs_renewal *renewal;
};

static struct certs_renewal *renewal(struct ogw_session *s)
{
	return ((struct certs_state *)ogw_session_state(s, &ogw_certs_stage))->renewal;
}

static void check(struct ogw_session *s);

static void renewal_due(lws_sorted_usec_list_t *sul)
{
	struct certs_renewal *r = lws_container_of(sul, struct certs_renewal, sul);
	check(r->s);
}

/* Asks now when it is time, else arms the timer for when it will be. */
static void check(struct ogw_session *s)
{
	struct ogw_leg *l = ogw_session_primary(s);
	const char *why = "";

	if (s->state != OGW_SESSION_ACTIVE || l->state != OGW_LEG_UP)
		return;
	int64_t in = due_in(s->gw, s->id, &why);
	if (in == 0) {
		request(s, l, why);
		return;
	}
	struct certs_renewal *r = renewal(s);
	if (in < 0 || !r)
		return;
	/* lws timers take microseconds: a day's worth at most, then look again */
	lws_sul_schedule(s->gw->ctx, 0, &r->sul, renewal_due,
			 (lws_usec_t)(in < 86400 ? in : 86400) * LWS_US_PER_SEC);
}

static int certs_new(struct ogw_session *s)
{
	if (!s->gw->conf.request_certificates || !s->gw->north_tls)
		return 0;
	struct certs_renewal *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->s = s;
	((struct certs_state *)ogw_session_state(s, &ogw_certs_stage))->renewal = r;
	return 0;
}

static void certs_free(struct ogw_session *s)
{
	struct certs_renewal *r = renewal(s);
	if (!r)
		return;
	lws_sul_cancel(&r->sul);
	free(r);
	((struct certs_state *)ogw_session_state(s, &ogw_certs_stage))->renewal = NULL;
}

static bool certs_on_leg(struct ogw_leg *l, enum ogw_leg_event ev)
{
	struct certs_renewal *r = renewal(l->s);

	if (!r || l != ogw_session_primary(l->s))
		return false;
	if (ev == OGW_LEG_EV_UP)
		check(l->s);
	else
		lws_sul_cancel(&r->sul);
	return false;
}

/* Whether the subject CN of @crt is @id. */
static bool cn_is(const mbedtls_x509_crt *crt, const char *id)
{
	for (const mbedtls_x509_name *n = &crt->subject; n; n = n->next)
		if (!MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid))
			return n->val.len == strlen(id) && !memcmp(n->val.p, id, n->val.len);
	return false;
}

/*
 * @chain (PEM) against @id's pending key: 1 when its first certificate is
 * for that key and fit to use (then installed), 0 when it is for another
 * key (the charger's own request), a negative errno when it is for the
 * key but not usable (@why says what).
 */
static int install(struct ogw_gateway *gw, const char *id, const char *chain, const char **why)
{
	char key_new[4200], key[4200], pem[4200];
	mbedtls_x509_crt crt;
	mbedtls_pk_context pk;
	int r = 0;

	mbedtls_x509_crt_init(&crt);
	mbedtls_pk_init(&pk);
	if (!ogw_certs_path(gw, id, ".key.new", key_new, sizeof(key_new)) ||
	    !ogw_certs_path(gw, id, ".key", key, sizeof(key)) ||
	    !ogw_certs_path(gw, id, ".pem", pem, sizeof(pem)) ||
	    mbedtls_pk_parse_keyfile(&pk, key_new, NULL) != 0 ||
	    mbedtls_x509_crt_parse(&crt, (const unsigned char *)chain, strlen(chain) + 1) < 0 ||
	    mbedtls_pk_check_pair(&crt.pk, &pk) != 0)
		goto out;  /* not for the gateway's key */
	r = -EINVAL;
	if (!cn_is(&crt, id)) {
		*why = "its CN is not the identity";
		goto out;
	}
	if (mbedtls_x509_time_is_past(&crt.valid_to) || mbedtls_x509_time_is_future(&crt.valid_from)) {
		*why = "it is not valid now";
		goto out;
	}
	/* the certificate first: a key without its certificate is never used */
	r = write_private(pem, chain, strlen(chain));
	if (r == 0 && rename(key_new, key) < 0)
		r = -errno;
	if (r < 0) {
		*why = strerror(-r);
		goto out;
	}
	r = 1;
out:
	mbedtls_pk_free(&pk);
	mbedtls_x509_crt_free(&crt);
	return r;
}

static enum ogw_stage_verdict certs_on_call(struct ogw_leg *from, struct ogw_frame *f)
{
	struct ogw_session *s = from->s;
	const char *chain = json_string_value(json_object_get(f->payload, "certificateChain"));
	const char *type = json_string_value(json_object_get(f->payload, "certificateType"));
	const char *why = "";

	if (from->kind != OGW_NORTH || strcmp(f->action, "CertificateSigned") || !chain ||
	    (type && strcmp(type, "ChargingStationCertificate")))
		return OGW_STAGE_CONTINUE;
	int r = install(s->gw, s->id, chain, &why);
	if (r == 0)
		return OGW_STAGE_CONTINUE;
	struct ogw_log_ctx lc = { s->id, "north", "CertificateSigned", NULL };
	if (r > 0)
		ogw_info(&lc, "installed the charger's new client certificate: presented from "
			 "the next connection to the CSMS");
	else
		ogw_warn(&lc, "refused the certificate for the gateway's key: %s", why);
	json_t *ans = json_pack("{s:s}", "status", r > 0 ? "Accepted" : "Rejected");
	ogw_leg_send_result(from, f->action, f->id, ans);
	json_decref(ans);
	return OGW_STAGE_DONE;
}

const struct ogw_stage ogw_certs_stage = {
	.name = "certs",
	.state_size = sizeof(struct certs_state),
	.on_session_new = certs_new,
	.on_session_free = certs_free,
	.on_leg = certs_on_leg,
	.on_call = certs_on_call,
};
