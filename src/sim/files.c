/* SPDX-License-Identifier: MIT */
/*
 * Firmware and logs of a simulated charger: UpdateFirmware (1.6, 2.x) and
 * the 1.6 security extension's SignedUpdateFirmware download the file from
 * the location given, check a signature when one comes, and report the
 * status sequence a charger reports; GetDiagnostics (1.6) and GetLog (1.6
 * security extension, 2.x) upload a generated log. Transfers are libcurl's
 * multi interface on the sim's loop (src/features/files/fetch.c), so the
 * loop never waits for the network. Nothing is installed: "Installing" and
 * "Installed" follow a good download after a pause.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/base64.h>
#include <mbedtls/md.h>
#include <mbedtls/pk.h>
#include <mbedtls/rsa.h>
#include <mbedtls/x509_crt.h>

#include "features/files/fetch.h"
#include "ocppgw/log.h"
#include "ocppgw/util.h"
#include "sim.h"

#define FILE_MAX        (256ull << 20)  /* the largest firmware a sim charger takes */
#define STEP_S          1.0             /* simulated s between install steps */
#define ATTEMPTS_MAX    10              /* cap on the CSMS's retries + 1 */
#define RETRY_MAX_S     3600.0
#define LOG_LINES       1000            /* lines of a generated log */

/* What kind of transfer a request starts, and what the charger reports. */
enum xfer { K_FW16, K_FW_SIGNED16, K_FW2X, K_DIAG16, K_LOG };

static const struct xfer_kind {
	const char *notify;       /* the status notification's action */
	bool request_id;          /* it carries the request's requestId */
	bool upload;
	bool signature;           /* SignatureVerified / InvalidSignature exist */
	const char *busy, *done, *failed;
} kinds[] = {
	[K_FW16]        = { "FirmwareStatusNotification", false, false, false,
			    "Downloading", "Downloaded", "DownloadFailed" },
	[K_FW_SIGNED16] = { "SignedFirmwareStatusNotification", true, false, true,
			    "Downloading", "Downloaded", "DownloadFailed" },
	[K_FW2X]        = { "FirmwareStatusNotification", true, false, true,
			    "Downloading", "Downloaded", "DownloadFailed" },
	[K_DIAG16]      = { "DiagnosticsStatusNotification", false, true, false,
			    "Uploading", "Uploaded", "UploadFailed" },
	[K_LOG]         = { "LogStatusNotification", true, true, false,
			    "Uploading", "Uploaded", "UploadFailure" },
};

struct sim_transfer {
	lws_sorted_usec_list_t sul;
	struct sim_charger *ch;
	struct sim_transfer **slot;  /* &ch->fw or &ch->log, cleared when done */
	struct ogw_fetch *fetch;
	enum xfer kind;
	int request_id;
	unsigned int attempts_left;
	bool started;                /* the "busy" status went out */
	double retry_s;              /* simulated s between attempts */
	char *url;
	char *signature, *certificate;
	char path[PATH_MAX];
	unsigned char sha256[32];    /* a downloaded firmware's, when hashed */
	bool hashed;
};

static char tmp_dir[PATH_MAX];
static unsigned int next_file;

static const char *transfer_dir(void)
{
	const char *base = getenv("TMPDIR");

	if (tmp_dir[0])
		return tmp_dir;
	base = base && *base ? base : "/tmp";
	int n = snprintf(tmp_dir, sizeof(tmp_dir), "%s/ocppgw-sim-XXXXXX", base);
	/* A cut template has no XXXXXX left, and mkdtemp() would only say
	 * EINVAL: name the real cause. Every transfer then fails (the CSMS
	 * hears DownloadFailed / UploadFailed) and the charger carries on. */
	bool cut = n < 0 || (size_t)n >= sizeof(tmp_dir);
	if (cut || !mkdtemp(tmp_dir)) {
		ogw_err(NULL, "files: Failed to create a transfer directory under %s: %s", base,
			cut ? "path too long" : strerror(errno));
		tmp_dir[0] = '\0';
		return NULL;
	}
	return tmp_dir;
}

static void notify(struct sim_transfer *t, const char *status)
{
	struct ogw_log_ctx lc = { .charger = t->ch->id, .action = kinds[t->kind].notify };
	json_t *p = json_pack("{s:s}", "status", status);

	if (p && kinds[t->kind].request_id)
		json_object_set_new(p, "requestId", json_integer(t->request_id));
	ogw_debug(&lc, "%s %s", kinds[t->kind].upload ? "log" : "firmware", status);
	sim_charger_call(t->ch, kinds[t->kind].notify, p);
	sim_charger_pump(t->ch);
}

static struct sim_transfer *transfer_free(struct sim_transfer *t)
{
	if (!t)
		return NULL;
	lws_sul_cancel(&t->sul);
	ogw_fetch_cancel(t->fetch);
	if (t->path[0])
		unlink(t->path);
	if (t->slot && *t->slot == t)
		*t->slot = NULL;
	free(t->url);
	free(t->signature);
	free(t->certificate);
	free(t);
	return NULL;
}

static void schedule(struct sim_transfer *t, void (*cb)(lws_sorted_usec_list_t *), uint64_t us)
{
	lws_sul_schedule(t->ch->fleet->ctx, 0, &t->sul, cb, (lws_usec_t)(us ? us : 1));
}

/* -------------------------------------------------------------- signature */

static int file_sha256(const char *path, unsigned char hash[32])
{
	const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
	mbedtls_md_context_t ctx;
	unsigned char buf[65536];
	ssize_t n;
	int r = -EIO, fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	mbedtls_md_init(&ctx);
	if (mbedtls_md_setup(&ctx, md, 0) || mbedtls_md_starts(&ctx))
		goto out;
	/* A firmware image is read once, after its download: local disk, in
	 * 64 KiB steps, the one blocking read the sim does. */
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (mbedtls_md_update(&ctx, buf, (size_t)n))
			goto out;
	if (n == 0 && !mbedtls_md_finish(&ctx, hash))
		r = 0;
out:
	mbedtls_md_free(&ctx);
	close(fd);
	return r;
}

/* The charger's check of signed firmware (OCPP 1.6 security whitepaper
 * §4.3, 2.0.1 L01): @signature (base64) over the SHA-256 of the file, by
 * the key of @certificate (PEM). ECDSA, or RSA with PKCS#1 v1.5 or PSS. The
 * certificate's chain to a manufacturer root is not checked: the sim holds
 * no such root. */
static bool signature_ok(const struct sim_transfer *t, const char *certificate,
			 const char *signature)
{
	mbedtls_x509_crt crt;
	unsigned char sig[1024];
	size_t sig_len;
	bool ok = false;

	mbedtls_x509_crt_init(&crt);
	if (mbedtls_x509_crt_parse(&crt, (const unsigned char *)certificate, strlen(certificate) + 1) ||
	    mbedtls_base64_decode(sig, sizeof(sig), &sig_len, (const unsigned char *)signature,
				  strlen(signature)) ||
	    !t->hashed)
		goto out;
	ok = !mbedtls_pk_verify(&crt.pk, MBEDTLS_MD_SHA256, t->sha256, sizeof(t->sha256), sig,
				sig_len);
	if (!ok && mbedtls_pk_get_type(&crt.pk) == MBEDTLS_PK_RSA) {
		mbedtls_pk_rsassa_pss_options pss = { MBEDTLS_MD_SHA256, MBEDTLS_RSA_SALT_LEN_ANY };

		ok = !mbedtls_pk_verify_ext(MBEDTLS_PK_RSASSA_PSS, &pss, &crt.pk, MBEDTLS_MD_SHA256,
					    t->sha256, sizeof(t->sha256), sig, sig_len);
	}
out:
	mbedtls_x509_crt_free(&crt);
	return ok;
}

/* ------------------------------------------------------------ transfers */

static void attempt(lws_sorted_usec_list_t *sul);

static void installed(lws_sorted_usec_list_t *sul)
{
	struct sim_transfer *t = lws_container_of(sul, struct sim_transfer, sul);

	notify(t, "Installed");
	transfer_free(t);
}

static void installing(lws_sorted_usec_list_t *sul)
{
	struct sim_transfer *t = lws_container_of(sul, struct sim_transfer, sul);

	notify(t, "Installing");
	schedule(t, installed, sim_charger_us(t->ch, STEP_S));
}

static void downloaded(struct sim_transfer *t)
{
	notify(t, "Downloaded");
	if (kinds[t->kind].signature && t->signature && t->certificate) {
		bool ok = signature_ok(t, t->certificate, t->signature);

		notify(t, ok ? "SignatureVerified" : "InvalidSignature");
		if (!ok) {
			transfer_free(t);
			return;
		}
	}
	schedule(t, installing, sim_charger_us(t->ch, STEP_S));
}

static void transferred(void *arg, int rc, const char *why, uint64_t bytes)
{
	struct sim_transfer *t = arg;
	struct ogw_log_ctx lc = { .charger = t->ch->id };

	t->fetch = NULL;
	if (rc == 0 && !kinds[t->kind].upload) {
		/* what a charger checks a firmware image by; tests read it here */
		char hex[65] = "(unreadable)";
		t->hashed = file_sha256(t->path, t->sha256) == 0;
		if (t->hashed)
			ogw_hex_encode(t->sha256, sizeof(t->sha256), hex);
		ogw_info(&lc, "downloaded %s: %llu bytes, sha256 %s", t->url,
			 (unsigned long long)bytes, hex);
	} else if (rc == 0) {
		ogw_info(&lc, "uploaded to %s: %llu bytes", t->url, (unsigned long long)bytes);
	}
	if (rc == 0) {
		if (kinds[t->kind].upload) {
			notify(t, kinds[t->kind].done);
			transfer_free(t);
		} else {
			downloaded(t);
		}
		return;
	}
	ogw_warn(&lc, "%s %s failed (%u attempt(s) left): %s",
		 kinds[t->kind].upload ? "upload to" : "download of", t->url, t->attempts_left, why);
	if (t->attempts_left) {
		schedule(t, attempt, sim_charger_us(t->ch, t->retry_s));
		return;
	}
	notify(t, kinds[t->kind].failed);
	transfer_free(t);
}

static void attempt(lws_sorted_usec_list_t *sul)
{
	struct sim_transfer *t = lws_container_of(sul, struct sim_transfer, sul);
	int r;

	t->attempts_left--;
	if (!t->started) {
		t->started = true;
		notify(t, kinds[t->kind].busy);
	}
	if (kinds[t->kind].upload)
		r = ogw_fetch_send(t->url, t->path, NULL, transferred, t, &t->fetch);
	else
		r = ogw_fetch_get(t->url, t->path, FILE_MAX, transferred, t, &t->fetch);
	if (r < 0) {
		t->fetch = NULL;
		transferred(t, r, strerror(-r), 0);
	}
}

/* The generated log: a header naming the charger and the request, then
 * numbered lines. Tests rebuild the same bytes to compare. */
static int write_log(const struct sim_transfer *t, const char *log_type)
{
	FILE *f = fopen(t->path, "we");
	int r = 0;

	if (!f)
		return -errno;
	fprintf(f, "ocppgw-sim %s of %s, request %d\n", log_type, t->ch->id, t->request_id);
	for (unsigned int i = 0; i < LOG_LINES; i++)
		fprintf(f, "%04u %s: connector 1 available, nothing to report\n", i, t->ch->id);
	if (ferror(f))
		r = -EIO;
	if (fclose(f) && !r)
		r = -errno;
	return r;
}

static char *dup_field(const json_t *o, const char *field)
{
	const char *s = json_string_value(json_object_get(o, field));

	return s ? strdup(s) : NULL;
}

/* A new transfer of @kind in @slot, replacing one in progress (reported
 * through *ret_replaced). */
static struct sim_transfer *transfer_new(struct sim_charger *ch, struct sim_transfer **slot,
					 enum xfer kind, const json_t *req, bool *ret_replaced)
{
	const char *dir = transfer_dir();
	json_int_t retries = json_integer_value(json_object_get(req, "retries"));
	json_int_t interval = json_integer_value(json_object_get(req, "retryInterval"));
	struct sim_transfer *t;

	*ret_replaced = *slot != NULL;
	transfer_free(*slot);
	if (!dir)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->ch = ch;
	t->slot = slot;
	t->kind = kind;
	t->request_id = (int)json_integer_value(json_object_get(req, "requestId"));
	t->attempts_left = 1 + (unsigned int)(retries > 0 ? (retries < ATTEMPTS_MAX ? retries : ATTEMPTS_MAX - 1) : 0);
	t->retry_s = interval > 0 ? (interval < RETRY_MAX_S ? (double)interval : RETRY_MAX_S) : 30;
	snprintf(t->path, sizeof(t->path), "%s/%u-%s", dir, next_file++, kinds[kind].upload ? "log" : "fw");
	*slot = t;
	return t;
}

static json_t *firmware(struct sim_charger *ch, bool signed16, const json_t *req)
{
	enum xfer kind = ch->v == OGW_OCPP16 ? (signed16 ? K_FW_SIGNED16 : K_FW16) : K_FW2X;
	const json_t *fw = kind == K_FW16 ? req : json_object_get(req, "firmware");
	const char *when = json_string_value(json_object_get(fw, kind == K_FW16 ? "retrieveDate" :
								      "retrieveDateTime"));
	struct sim_transfer *t;
	bool replaced;
	int64_t at = 0, now = time(NULL);

	t = transfer_new(ch, &ch->fw, kind, req, &replaced);
	if (t) {
		t->url = dup_field(fw, "location");
		t->signature = dup_field(fw, "signature");
		t->certificate = dup_field(fw, "signingCertificate");
	}
	if (!t || !t->url) {
		transfer_free(t);
		return kind == K_FW16 ? json_object() : json_pack("{s:s}", "status", "Rejected");
	}
	if (when && ogw_time_parse_rfc3339(when, &at) < 0)
		at = now;
	/* Not before retrieveDate (1.6 §5.16, 2.0.1 L01.FR.01); the clock of
	 * the request is the wall clock, not the simulated one. */
	schedule(t, attempt, at > now ? (uint64_t)(at - now) * 1000000u : 0);
	if (kind == K_FW16)
		return json_object();
	/* 2.0.1 L01.FR.24: a new request cancels the one in progress. */
	return json_pack("{s:s}", "status", replaced ? "AcceptedCanceled" : "Accepted");
}

static json_t *log_upload(struct sim_charger *ch, bool diagnostics, const json_t *req)
{
	enum xfer kind = diagnostics ? K_DIAG16 : K_LOG;
	const char *location = json_string_value(diagnostics ? json_object_get(req, "location") :
		json_object_get(json_object_get(req, "log"), "remoteLocation"));
	const char *log_type = diagnostics ? "DiagnosticsLog" :
		json_string_value(json_object_get(req, "logType"));
	struct sim_transfer *t;
	bool replaced;
	char name[SIM_ID_MAX + 32];
	size_t len = location ? strlen(location) : 0;

	t = transfer_new(ch, &ch->log, kind, req, &replaced);
	if (t && !diagnostics)
		snprintf(name, sizeof(name), "%s-%d.log", ch->id, t->request_id);
	else
		snprintf(name, sizeof(name), "%s.log", ch->id);
	/* A location ending in '/' is a directory (1.6 §5.8): the file goes
	 * in it under its name; otherwise the location names the file. */
	if (t && location && asprintf(&t->url, "%s%s", location,
				      len && location[len - 1] == '/' ? name : "") < 0)
		t->url = NULL;
	if (!t || !t->url || write_log(t, log_type ? log_type : "DiagnosticsLog") < 0) {
		transfer_free(t);
		return diagnostics ? json_object() : json_pack("{s:s}", "status", "Rejected");
	}
	schedule(t, attempt, 0);
	if (diagnostics)
		return json_pack("{s:s}", "fileName", name);
	return json_pack("{s:s, s:s}", "status", replaced ? "AcceptedCanceled" : "Accepted",
			 "filename", name);
}

json_t *sim_files_request(struct sim_charger *ch, const char *action, const json_t *req)
{
	if (!strcmp(action, "UpdateFirmware"))
		return firmware(ch, false, req);
	if (!strcmp(action, "SignedUpdateFirmware"))
		return firmware(ch, true, req);
	return log_upload(ch, !strcmp(action, "GetDiagnostics"), req);
}

void sim_files_stop(struct sim_charger *ch)
{
	ch->fw = transfer_free(ch->fw);
	ch->log = transfer_free(ch->log);
}

void sim_files_shutdown(void)
{
	ogw_fetch_shutdown();
	if (tmp_dir[0])
		rmdir(tmp_dir);
	tmp_dir[0] = '\0';
}
