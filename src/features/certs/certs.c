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
 *
 * The gateway's own server certificate goes the same way (tls.identity):
 * a session with no charger, opened at start under that identity, asks
 * for it, and what the CSMS signs is served on the wss listeners from the
 * next handshake (transport/tls.c). Because chargers trust that
 * certificate through the root that signs it, a CSMS's DeleteCertificate
 * of that root going to a charger is refused here, and an InstallCertificate
 * of a new CSMS root makes the gateway ask for a certificate again.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/ecp.h>
#include <mbedtls/md.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>
#include <mbedtls/x509_csr.h>

#include "ocppgw/log.h"
#include "ocppgw/util.h"
#include "features/certs/certs.h"
#include "features/events/events.h"
#include "features/offline/offline.h"
#include "session/session.h"

#define PENDING_S 3600  /* a request younger than this is waited for, not repeated */
#define PEM_MAX 4096

bool ogw_certs_path(const struct ogw_gateway *gw, const char *id, const char *suffix, char *buf,
		    size_t size)
{
	int n = snprintf(buf, size, "%s/certs/%s%s", gw->conf.data_dir, id, suffix);
	return n > 0 && (size_t)n < size;
}

/* The certificate obtained for tls.identity, once it serves: its files
 * and a generation per new one (one gateway per process, as transport/tls.c
 * holds the certificate as OpenSSL loaded it). */
static struct {
	unsigned int gen;
	char pem[4200], key[4200];
} own_cert;

unsigned int ogw_certs_own_served(const char **ret_cert, const char **ret_key)
{
	if (own_cert.gen) {
		*ret_cert = own_cert.pem;
		*ret_key = own_cert.key;
	}
	return own_cert.gen;
}

/* Whether @id is the gateway's own identity (tls.identity). */
static bool is_own(const struct ogw_gateway *gw, const char *id)
{
	return gw->conf.tls_identity && !strcmp(gw->conf.tls_identity, id);
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

/* Whether a request for @id went out within PENDING_S (its new key is
 * waiting for the certificate), or its path does not fit. */
static bool request_pending(const struct ogw_gateway *gw, const char *id)
{
	char path[4200];
	struct stat sb;
	return !ogw_certs_path(gw, id, ".key.new", path, sizeof(path)) ||
	       (stat(path, &sb) == 0 && time(NULL) - sb.st_mtime < PENDING_S);
}

/* Seconds until @id's certificate is due for a request (0: now, and why
 * in @why), or -1: not for the gateway to ask (the operator's certificate,
 * or a request pending). */
static int64_t due_in(struct ogw_gateway *gw, const char *id, const char **why)
{
	char path[4200];

	/* the operator's certificate wins */
	if (gw->conf.csms_client_cert_dir &&
	    snprintf(path, sizeof(path), "%s/%s.pem", gw->conf.csms_client_cert_dir, id) <
		    (int)sizeof(path) && access(path, F_OK) == 0)
		return -1;
	if (request_pending(gw, id) || !ogw_certs_path(gw, id, ".pem", path, sizeof(path)))
		return -1;
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
	struct certs_renewal *r = renewal(s);
	int64_t in = due_in(s->gw, s->id, &why);
	/* the gateway's own identity asks once the CSMS has accepted its boot
	 * (2.0.1 B02/B03, 1.6 §4.2: a station whose boot is Pending or
	 * Rejected sends nothing else): looked at again each second */
	if (in == 0 && s->own && ogw_offline_boot_waits(s) && r) {
		lws_sul_schedule(s->gw->ctx, 0, &r->sul, renewal_due, LWS_US_PER_SEC);
		return;
	}
	if (in == 0) {
		request(s, l, why);
		return;
	}
	if (in < 0 || !r)
		return;
	/* lws timers take microseconds: a day's worth at most, then look again */
	lws_sul_schedule(s->gw->ctx, 0, &r->sul, renewal_due,
			 (lws_usec_t)(in < 86400 ? in : 86400) * LWS_US_PER_SEC);
}

static int certs_new(struct ogw_session *s)
{
	if (!is_own(s->gw, s->id) && (!s->gw->conf.request_certificates || !s->gw->north_tls))
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

/* Whether the first certificate in PEM file @pem is for the key in @key. */
static bool key_matches(const char *pem, const char *key)
{
	mbedtls_x509_crt crt;
	mbedtls_pk_context pk;
	mbedtls_x509_crt_init(&crt);
	mbedtls_pk_init(&pk);
	bool ok = mbedtls_x509_crt_parse_file(&crt, pem) >= 0 && crt.raw.len &&
		  mbedtls_pk_parse_keyfile(&pk, key, NULL) == 0 &&
		  mbedtls_pk_check_pair(&crt.pk, &pk) == 0;
	mbedtls_pk_free(&pk);
	mbedtls_x509_crt_free(&crt);
	return ok;
}

/* Serves <data_dir>/certs/<tls.identity>.pem on the wss listeners from the
 * next handshake when it is there and usable: 1 served, 0 none there, a
 * negative errno (@why says what) when it cannot be served. */
static int serve_own(struct ogw_gateway *gw, const char **why)
{
	char pem[4200], key[4200], until[32] = "?";
	const char *id = gw->conf.tls_identity;

	if (!ogw_certs_path(gw, id, ".pem", pem, sizeof(pem)) ||
	    !ogw_certs_path(gw, id, ".key", key, sizeof(key)))
		return 0;
	int64_t left = expires_in(pem);
	if (left == -ENOENT)
		return 0;
	if (left <= 0) {
		*why = left ? "it cannot be read" : "it has expired";
		return -EINVAL;
	}
	if (!key_matches(pem, key)) {
		*why = "it is not for the key beside it";
		return -EINVAL;
	}
	memcpy(own_cert.pem, pem, sizeof(pem));
	memcpy(own_cert.key, key, sizeof(key));
	own_cert.gen++;
	time_t end = time(NULL) + (time_t)left;
	struct tm tm;
	strftime(until, sizeof(until), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&end, &tm));
	struct ogw_log_ctx lc = { id, "south", NULL, NULL };
	ogw_info(&lc, "serving the certificate the CSMS signed for the gateway (valid until %s) "
		 "on the wss listeners from the next handshake", until);
	ogw_events_note(gw, id, "security", "serving the gateway's own certificate, valid until %s",
			until);
	return 1;
}

void ogw_certs_own_start(struct ogw_gateway *gw)
{
	const char *id = gw->conf.tls_identity;
	const char *why = "";

	if (!id)
		return;
	struct ogw_log_ctx lc = { id, "south", NULL, NULL };
	if (serve_own(gw, &why) < 0)
		ogw_warn(&lc, "the gateway's own certificate in %s/certs is not served (%s): "
			 "tls.cert serves until the CSMS signs a new one", gw->conf.data_dir, why);
	else if (!own_cert.gen)
		ogw_info(&lc, "tls.cert serves until the CSMS signs the gateway's own certificate");
	enum ogw_ocpp v = (enum ogw_ocpp)ogw_conf_upstream_for(&gw->conf, id, OGW_OCPP201);
	/* what a CSMS sees first from a charging station, the gateway's own
	 * in its place (2.0.1 B01, 1.6 §4.2) */
	json_t *boot = v == OGW_OCPP16 ?
		       json_pack("{s:s, s:s, s:s}", "chargePointVendor", "ocppgw",
				 "chargePointModel", "Local Controller", "firmwareVersion",
				 OGW_VERSION) :
		       json_pack("{s:s, s:{s:s, s:s, s:s}}", "reason", "PowerUp", "chargingStation",
				 "vendorName", "ocppgw", "model", "Local Controller",
				 "firmwareVersion", OGW_VERSION);
	int r = boot ? ogw_offline_boot_set(gw, id, boot) : -ENOMEM;
	json_decref(boot);
	if (r < 0)
		ogw_warn(&lc, "Failed to store the gateway's BootNotification: %s", strerror(-r));
	struct ogw_session *s = ogw_session_find(gw, id);
	if (!s)
		s = ogw_session_new_detached(gw, id, v, v);
	if (!s) {
		ogw_err(&lc, "Failed to open the gateway's own session at the CSMS");
		return;
	}
	s->own = true;
	ogw_info(&lc, "the gateway's own identity at the CSMS (OCPP %s)", ogw_ocpp_name(v));
}

/* The lowercase hex of @alg's hash of @len bytes at @p into @hex. */
static bool hash_hex(const char *alg, const unsigned char *p, size_t len, char *hex, size_t size)
{
	static const struct { const char *name; mbedtls_md_type_t md; } algs[] = {
		{ "SHA256", MBEDTLS_MD_SHA256 }, { "SHA384", MBEDTLS_MD_SHA384 },
		{ "SHA512", MBEDTLS_MD_SHA512 },
	};
	unsigned char out[64];
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		const mbedtls_md_info_t *md = mbedtls_md_info_from_type(algs[i].md);
		if (strcmp(alg, algs[i].name) || !md || mbedtls_md(md, p, len, out))
			continue;
		size_t n = mbedtls_md_get_size(md);
		if (size < 2 * n + 1)
			return false;
		for (size_t k = 0; k < n; k++)
			snprintf(hex + 2 * k, 3, "%02x", out[k]);
		return true;
	}
	return false;
}

/* Whether a certificate in PEM file @path was issued under the name
 * whose @alg hash is @want (hex, any case): the issuer of each certificate
 * of the chain, so the root on top as well as any CA below it. */
static bool chain_issued_by(const char *path, const char *alg, const char *want)
{
	mbedtls_x509_crt crt;
	char hex[129];
	bool hit = false;

	mbedtls_x509_crt_init(&crt);
	if (path && mbedtls_x509_crt_parse_file(&crt, path) >= 0)
		for (const mbedtls_x509_crt *c = &crt; c && c->raw.len && !hit; c = c->next)
			hit = hash_hex(alg, c->issuer_raw.p, c->issuer_raw.len, hex, sizeof(hex)) &&
			      !strcasecmp(hex, want);
	mbedtls_x509_crt_free(&crt);
	return hit;
}

/* The certificate the wss listeners serve: the one obtained over OCPP
 * once served (it replaces tls.cert on every listener), else tls.cert and
 * the listeners entries'; NULL when none is under the root @hash names. */
static const char *serving_cert_under(struct ogw_gateway *gw, const json_t *hash)
{
	static char own[4200];
	const char *alg = json_string_value(json_object_get(hash, "hashAlgorithm"));
	const char *name = json_string_value(json_object_get(hash, "issuerNameHash"));

	if (!alg || !name)
		return NULL;
	if (own_cert.gen)
		return ogw_certs_path(gw, gw->conf.tls_identity, ".pem", own, sizeof(own)) &&
		       chain_issued_by(own, alg, name) ? own : NULL;
	if (chain_issued_by(gw->conf.tls_cert, alg, name))
		return gw->conf.tls_cert;
	for (size_t i = 0; i < gw->conf.n_listeners; i++)
		if (chain_issued_by(gw->conf.listeners[i].tls_cert, alg, name))
			return gw->conf.listeners[i].tls_cert;
	return NULL;
}

/*
 * Certificate messages from the CSMS to a charger that concern the
 * gateway's own trust: the charger verifies the gateway's server
 * certificate with the CSMS roots it holds (OCPP 2.0.1 A00.FR.4xx / 1.6
 * security whitepaper: the station checks the server certificate against
 * its installed CSMS root). A DeleteCertificate of the root (or a CA) the
 * served certificate chains to would make that charger refuse the gateway
 * at its next connection, with no way back over OCPP: it is answered
 * Failed here and never reaches the charger. An InstallCertificate of a new
 * CSMS root passes, and is noted.
 */
static enum ogw_stage_verdict root_change(struct ogw_leg *from, struct ogw_frame *f)
{
	struct ogw_session *s = from->s;
	struct ogw_gateway *gw = s->gw;
	struct ogw_log_ctx lc = { s->id, "north", f->action, f->id };

	if (!strcmp(f->action, "InstallCertificate")) {
		const char *type = json_string_value(json_object_get(f->payload, "certificateType"));
		if (!type || (strcmp(type, "CSMSRootCertificate") &&
			      strcmp(type, "CentralSystemRootCertificate")))
			return OGW_STAGE_CONTINUE;
		ogw_warn(&lc, "the CSMS installs a new CSMS root on the charger: the gateway's own "
			 "certificate must come to chain to a root the charger holds%s",
			 gw->conf.tls_identity ? "; asking the CSMS for a new one" :
			 " (tls.cert is the operator's to replace)");
		ogw_events_note(gw, s->id, "security", "the CSMS installs a new CSMS root on the "
				"charger%s", gw->conf.tls_identity ?
				": the gateway asks for a new certificate of its own" : "");
		struct ogw_session *own = gw->conf.tls_identity ?
					  ogw_session_find(gw, gw->conf.tls_identity) : NULL;
		if (own && own->state == OGW_SESSION_ACTIVE &&
		    ogw_session_primary(own)->state == OGW_LEG_UP && !request_pending(gw, own->id) &&
		    !ogw_offline_boot_waits(own))
			request(own, ogw_session_primary(own), "a new CSMS root went to a charger");
		return OGW_STAGE_CONTINUE;
	}
	const char *served = serving_cert_under(gw, json_object_get(f->payload,
								    "certificateHashData"));
	if (!served)
		return OGW_STAGE_CONTINUE;
	ogw_warn(&lc, "refused the CSMS's DeleteCertificate for the charger: it names the root "
		 "of the gateway's server certificate (%s), and the charger would refuse the "
		 "gateway from its next connection", served);
	ogw_events_note(gw, s->id, "security", "refused a DeleteCertificate of the root that "
			"signs the gateway's server certificate");
	json_t *ans = from->ver == OGW_OCPP16 ?
		      json_pack("{s:s}", "status", "Failed") :
		      json_pack("{s:s, s:{s:s, s:s}}", "status", "Failed", "statusInfo", "reasonCode",
				"GatewayRootInUse", "additionalInfo",
				"ocppgw: this root signs the Local Controller's server certificate");
	ogw_leg_send_result(from, f->action, f->id, ans);
	json_decref(ans);
	return OGW_STAGE_DONE;
}

static enum ogw_stage_verdict certs_on_call(struct ogw_leg *from, struct ogw_frame *f)
{
	struct ogw_session *s = from->s;
	const char *chain = json_string_value(json_object_get(f->payload, "certificateChain"));
	const char *type = json_string_value(json_object_get(f->payload, "certificateType"));
	const char *why = "";

	if (from->kind != OGW_NORTH)
		return OGW_STAGE_CONTINUE;
	if (!s->own && (!strcmp(f->action, "DeleteCertificate") ||
			!strcmp(f->action, "InstallCertificate")))
		return root_change(from, f);
	if (strcmp(f->action, "CertificateSigned") || !chain ||
	    (type && strcmp(type, "ChargingStationCertificate")))
		return OGW_STAGE_CONTINUE;
	int r = install(s->gw, s->id, chain, &why);
	if (r == 0)
		return OGW_STAGE_CONTINUE;
	struct ogw_log_ctx lc = { s->id, "north", "CertificateSigned", NULL };
	if (r > 0 && is_own(s->gw, s->id))
		r = serve_own(s->gw, &why) < 0 ? -EINVAL : 1;
	else if (r > 0)
		ogw_info(&lc, "installed the charger's new client certificate: presented from "
			 "the next connection to the CSMS");
	if (r < 0)
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
