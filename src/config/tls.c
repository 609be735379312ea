/* SPDX-License-Identifier: MIT */
/*
 * The TLS floor of both legs as configuration: `min_version` (1.2 or 1.3;
 * lower is refused) and `ciphers`, the TLS 1.2 suites the OCPP security
 * specification lists, by either spelling, turned into the OpenSSL list lws
 * hands to its SSL_CTX. Anything outside that table is an error with its
 * file:line. TLS 1.3 suites are all AEAD and stay OpenSSL's default.
 */
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>
#include <openssl/ssl.h>

#include "ocppgw/config.h"
#include "internal.h"

/*
 * OCPP 1.6 security whitepaper (Ed. 3) §4.1.x / OCPP 2.0.1 A00.FR.318-319:
 * a CSMS supports all four of ECDHE-ECDSA and RSA with AES-GCM; a charger
 * the ECDHE-ECDSA pair or the RSA pair. The ECDHE-RSA pair is the same
 * construction for an RSA certificate, with forward secrecy. Order is the
 * server's preference: forward secrecy first.
 */
static const struct {
	const char *iana;
	const char *openssl;
} ocpp_suites[] = {
	{ "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384" },
	{ "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256" },
	{ "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384" },
	{ "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256" },
	{ "TLS_RSA_WITH_AES_256_GCM_SHA384", "AES256-GCM-SHA384" },
	{ "TLS_RSA_WITH_AES_128_GCM_SHA256", "AES128-GCM-SHA256" },
};
#define N_SUITES (sizeof(ocpp_suites) / sizeof(ocpp_suites[0]))

const char *ogw_tls_default_ciphers(void)
{
	return "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256:"
	       "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:"
	       "AES256-GCM-SHA384:AES128-GCM-SHA256";
}

long ogw_tls_options_below(int min_version)
{
	long o = SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1;
	if (min_version >= OGW_TLS_1_3)
		o |= SSL_OP_NO_TLSv1_2;
	return o;
}

const char *ogw_tls_version_name(int v)
{
	return v == OGW_TLS_1_3 ? "1.3" : "1.2";
}

void conf_parse_tls_version(struct loader *ld, const config_setting_t *s, const char *name,
			    void *base, const struct field *f)
{
	const char *v = get_string(ld, s, name);

	if (!v)
		return;
	int *slot = (int *)((char *)base + f->off);
	if (!strcmp(v, "1.2"))
		*slot = OGW_TLS_1_2;
	else if (!strcmp(v, "1.3"))
		*slot = OGW_TLS_1_3;
	else if (!strcmp(v, "1.0") || !strcmp(v, "1.1"))
		setting_error(ld, s, "%s: TLS %s is below the floor of 1.2 the OCPP security "
			      "specification sets", name, v);
	else
		setting_error(ld, s, "%s: expected \"1.2\" or \"1.3\"", name);
}

/* The index in ocpp_suites[] of a suite named either way, or -1. */
static int suite_of(const char *name, size_t len)
{
	for (size_t i = 0; i < N_SUITES; i++) {
		const char *a = ocpp_suites[i].iana, *b = ocpp_suites[i].openssl;
		if ((strlen(a) == len && !strncmp(a, name, len)) ||
		    (strlen(b) == len && !strncmp(b, name, len)))
			return (int)i;
	}
	return -1;
}

/* Appends the suite @suite (@len bytes) to @out in OpenSSL's spelling,
 * once (@taken), or reports it. */
static bool add_suite(struct loader *ld, const config_setting_t *s, const char *name,
		      const char *suite, size_t len, bool taken[N_SUITES], char *out, size_t size)
{
	int i = suite_of(suite, len);
	if (i < 0) {
		setting_error(ld, s, "%s: '%.*s' is not a TLS 1.2 suite the OCPP security "
			      "specification lists (ECDHE-ECDSA, ECDHE-RSA or RSA with AES-GCM)",
			      name, (int)len, suite);
		return false;
	}
	if (taken[i])
		return true;
	taken[i] = true;
	if (*out)
		strncat(out, ":", size - strlen(out) - 1);
	strncat(out, ocpp_suites[i].openssl, size - strlen(out) - 1);
	return true;
}

/* A string of suites separated by ':' , ',' or spaces (OpenSSL habit), or
 * a list of strings; every suite must be in ocpp_suites[]. */
void conf_parse_ciphers(struct loader *ld, const config_setting_t *s, const char *name,
			void *base, const struct field *f)
{
	char out[512] = "";  /* all six suites take 170 bytes */
	bool taken[N_SUITES] = { false };
	bool ok = true;

	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		const char *p = config_setting_get_string(s);
		while (*p) {
			size_t len = strcspn(p, ":, ");
			if (len)
				ok &= add_suite(ld, s, name, p, len, taken, out, sizeof(out));
			p += len + (p[len] != '\0');
		}
	} else if (is_list(s) || config_setting_type(s) == CONFIG_TYPE_ARRAY) {
		for (int i = 0; i < config_setting_length(s); i++) {
			const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
			const char *v = get_string(ld, e, name);
			if (!v) {
				ok = false;
				continue;
			}
			ok &= add_suite(ld, e, name, v, strlen(v), taken, out, sizeof(out));
		}
	} else {
		setting_error(ld, s, "%s: expected a string or a list of suite names", name);
		return;
	}
	if (!ok)
		return;
	if (!*out) {
		setting_error(ld, s, "%s: names no suite", name);
		return;
	}
	char *copy = strdup(out);
	if (!copy) {
		ld->oom = true;
		return;
	}
	char **slot = (char **)((char *)base + f->off);
	free(*slot);
	*slot = copy;
}
