/* SPDX-License-Identifier: MIT */
/*
 * Loads the gateway's libconfig file over defaults, checking every setting
 * against one table of names, types and ranges and reporting each problem as
 * "file:line: message" without stopping at the first. It opens no sockets and
 * reads no file but the config itself; certificates are checked by their users.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "ocppgw/auth.h"
#include "ocppgw/config.h"
#include "ocppgw/log.h"
#include "ocppgw/mqtt.h"
#include "ocppgw/util.h"
#include "internal.h"

#define MAX_CHARGER_ID 48
#define MAX_GROUP_NAME 64
#define MAX_TOKEN 36          /* 2.x IdToken.idToken; a 1.6 idTag is at most 20 */
#define UPSTREAM_UNSET (-1)
#define MAX_SECONDS 3600.0

static void add_msg(struct ogw_conf_errors *errs, bool *oom, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static void add_msg(struct ogw_conf_errors *errs, bool *oom, const char *fmt, va_list ap)
{
	char *msg = NULL, **grown;

	if (vasprintf(&msg, fmt, ap) < 0) {
		*oom = true;
		return;
	}
	grown = realloc(errs->msgs, (errs->n + 1) * sizeof(*grown));
	if (!grown) {
		free(msg);
		*oom = true;
		return;
	}
	errs->msgs = grown;
	errs->msgs[errs->n++] = msg;
}

void add_error(struct ogw_conf_errors *errs, bool *oom, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_msg(errs, oom, fmt, ap);
	va_end(ap);
}

void setting_error(struct loader *ld, const config_setting_t *s, const char *fmt, ...)
{
	const char *file = config_setting_source_file(s);
	char *text = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		text = NULL;
	va_end(ap);
	if (!text) {
		ld->oom = true;
		return;
	}
	add_error(ld->errs, &ld->oom, "%s:%u: %s", file ? file : ld->path,
		  config_setting_source_line(s), text);
	free(text);
	ld->n_errors++;
}

void free_secret(char *s)
{
	if (!s)
		return;
	ogw_memzero(s, strlen(s));
	free(s);
}

/* Stores a copy of @v ("" meaning NULL) in *@slot, freeing the old value. */
void replace_string(struct loader *ld, char **slot, const char *v, bool secret)
{
	char *copy = NULL;

	if (v && *v) {
		copy = strdup(v);
		if (!copy) {
			ld->oom = true;
			return;
		}
	}
	if (secret)
		free_secret(*slot);
	else
		free(*slot);
	*slot = copy;
}

const char *get_string(struct loader *ld, const config_setting_t *s, const char *name)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		setting_error(ld, s, "%s: expected a string", name);
		return NULL;
	}
	return config_setting_get_string(s);
}

static bool get_integer(const config_setting_t *s, long long *ret)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
		*ret = config_setting_get_int(s);
		return true;
	case CONFIG_TYPE_INT64:
		*ret = config_setting_get_int64(s);
		return true;
	default:
		return false;
	}
}

bool get_number(const config_setting_t *s, double *ret)
{
	long long i;

	if (get_integer(s, &i)) {
		*ret = (double)i;
		return true;
	}
	if (config_setting_type(s) == CONFIG_TYPE_FLOAT) {
		*ret = config_setting_get_float(s);
		return true;
	}
	return false;
}

/* Shared by the loader and ogw_conf_check: NULL when fine, else the problem. */
static const char *listen_problem(int rc)
{
	return rc == -ERANGE ? "port must be between 1 and 65535"
			     : "expected ADDR:PORT, [IPv6]:PORT or :PORT";
}

static const char *path_prefix_problem(const char *p)
{
	if (!p || !*p)
		return NULL;
	if (p[0] != '/')
		return "must start with '/' (or be empty to accept any path)";
	if (p[strlen(p) - 1] == '/')
		return "must not end with '/'";
	return NULL;
}

const char *url_problem(const char *url)
{
	static const char *const schemes[] = { "ws://", "wss://", "mqtt://", "mqtts://" };
	const char *host = NULL;

	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (strncasecmp(url, schemes[i], strlen(schemes[i])) == 0)
			host = url + strlen(schemes[i]);
	if (!host || !*host || *host == '/' || strpbrk(url, " \t\r\n"))
		return "expected ws://, wss://, mqtt:// or mqtts:// and a host";
	return NULL;
}

/* A topic level of our own: no wildcard, no separator, not empty. */
static const char *topic_level_problem(const char *v)
{
	if (!v || !*v)
		return "must not be empty";
	if (strpbrk(v, "+#") || v[0] == '/' || v[strlen(v) - 1] == '/' || strpbrk(v, " \t\r\n"))
		return "must not contain '+', '#' or spaces, nor start or end with '/'";
	return NULL;
}

bool charger_id_ok(const char *id)
{
	size_t len = strlen(id);

	if (len < 1 || len > MAX_CHARGER_ID)
		return false;
	for (const unsigned char *p = (const unsigned char *)id; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f || *p == ':' || *p == '/')
			return false;
	return true;
}

/* "ADDR:PORT" into *addr / *port; with @may_be_empty, "" sets no address. */
static void parse_address(struct loader *ld, const config_setting_t *s, const char *name,
			  bool may_be_empty, char **addr_slot, int *port_slot)
{
	const char *v = get_string(ld, s, name);
	char *addr = NULL;
	int port = 0, rc;

	if (!v)
		return;
	if (*v || !may_be_empty) {
		rc = ogw_conf_parse_listen(v, &addr, &port);
		if (rc == -ENOMEM) {
			ld->oom = true;
			return;
		}
		if (rc < 0) {
			setting_error(ld, s, "%s: %s%s", name, listen_problem(rc),
				      may_be_empty ? ", or \"\" for none" : "");
			return;
		}
	}
	free(*addr_slot);
	*addr_slot = addr;
	*port_slot = port;
}

static void parse_listen(struct loader *ld, const config_setting_t *s, const char *name,
			 void *base, const struct field *f)
{
	struct ogw_conf *c = base;
	(void)f;
	parse_address(ld, s, name, false, &c->listen_addr, &c->listen_port);
}

/* admin.listen: like listen, and "" turns the admin listener off. */
static void parse_admin_listen(struct loader *ld, const config_setting_t *s, const char *name,
			       void *base, const struct field *f)
{
	struct ogw_conf *c = base;
	(void)f;
	parse_address(ld, s, name, true, &c->admin_addr, &c->admin_port);
}

/* files.listen: like admin.listen; "" (the default) keeps the file server off. */
static void parse_files_listen(struct loader *ld, const config_setting_t *s, const char *name,
			       void *base, const struct field *f)
{
	struct ogw_conf *c = base;
	(void)f;
	parse_address(ld, s, name, true, &c->files_addr, &c->files_port);
}

/* files.ftp.listen: "" (the default) starts no FTP server. */
static void parse_ftp_listen(struct loader *ld, const config_setting_t *s, const char *name,
			     void *base, const struct field *f)
{
	struct ogw_conf *c = base;
	(void)f;
	parse_address(ld, s, name, true, &c->files_ftp_addr, &c->files_ftp_port);
}

/* files.ftp.passive_ports = "30000-30019": the data connections' ports. */
static void parse_passive_ports(struct loader *ld, const config_setting_t *s, const char *name,
				void *base, const struct field *f)
{
	struct ogw_conf *c = base;
	const char *v = get_string(ld, s, name);
	int first, last, end = 0;
	(void)f;

	if (!v)
		return;
	if (sscanf(v, "%d-%d%n", &first, &last, &end) != 2 || v[end] || first < 1 ||
	    last > 65535 || first > last || last - first >= 1000) {
		setting_error(ld, s, "%s: expected \"FIRST-LAST\", ports 1-65535, at most 1000 "
			      "of them, e.g. \"30000-30019\"", name);
		return;
	}
	c->files_ftp_pasv_first = first;
	c->files_ftp_pasv_last = last;
}

static void parse_path_prefix(struct loader *ld, const config_setting_t *s, const char *name,
			      void *base, const struct field *f)
{
	struct ogw_conf *c = base;
	const char *v = get_string(ld, s, name), *problem;
	char *copy;

	(void)f;
	if (!v)
		return;
	problem = path_prefix_problem(v);
	if (problem) {
		setting_error(ld, s, "%s: %s", name, problem);
		return;
	}
	/* unlike optional paths, "" is a value here: any path is accepted */
	copy = strdup(v);
	if (!copy) {
		ld->oom = true;
		return;
	}
	free(c->path_prefix);
	c->path_prefix = copy;
}

void parse_url(struct loader *ld, const config_setting_t *s, const char *name,
		      void *base, const struct field *f)
{
	const char *v = get_string(ld, s, name), *problem;

	if (!v)
		return;
	problem = *v ? url_problem(v) : NULL;
	if (problem) {
		setting_error(ld, s, "%s: %s", name, problem);
		return;
	}
	replace_string(ld, (char **)((char *)base + f->off), v, false);
}

static void parse_mode(struct loader *ld, const config_setting_t *s, const char *name,
		       void *base, const struct field *f)
{
	struct ogw_conf *c = base;
	const char *v = get_string(ld, s, name);

	(void)f;
	if (!v)
		return;
	if (strcmp(v, "gateway") == 0)
		c->bridge = false;
	else if (strcmp(v, "bridge") == 0)
		c->bridge = true;
	else
		setting_error(ld, s, "%s: expected gateway or bridge", name);
}

static void parse_topic_level(struct loader *ld, const config_setting_t *s, const char *name,
			      void *base, const struct field *f)
{
	const char *v = get_string(ld, s, name), *problem;

	if (!v)
		return;
	problem = *v ? topic_level_problem(v) : NULL;
	if (problem) {
		setting_error(ld, s, "%s: %s", name, problem);
		return;
	}
	replace_string(ld, (char **)((char *)base + f->off), v, false);
}

static void parse_log_level(struct loader *ld, const config_setting_t *s, const char *name,
			    void *base, const struct field *f)
{
	struct ogw_conf *c = base;
	const char *v = get_string(ld, s, name);
	enum ogw_log_level level;

	(void)f;
	if (!v)
		return;
	if (ogw_log_level_parse(v, &level) < 0) {
		setting_error(ld, s, "%s: expected error, warn, info or debug", name);
		return;
	}
	c->log_level = level;
}

static void parse_charger_id(struct loader *ld, const config_setting_t *s, const char *name,
			     void *base, const struct field *f)
{
	const char *v = get_string(ld, s, name);

	if (!v)
		return;
	if (!charger_id_ok(v)) {
		setting_error(ld, s, "%s: must be 1 to 48 printable ASCII characters, "
			      "no ':', '/' or space", name);
		return;
	}
	replace_string(ld, (char **)((char *)base + f->off), v, false);
}

static void parse_password_hash(struct loader *ld, const config_setting_t *s, const char *name,
				void *base, const struct field *f)
{
	const char *v = get_string(ld, s, name);

	if (!v)
		return;
	if (*v && ogw_auth_hash_check_format(v) < 0) {
		setting_error(ld, s, "%s: expected $pbkdf2-sha256$<iterations>$<salt>$<hash>",
			      name);
		return;
	}
	replace_string(ld, (char **)((char *)base + f->off), v, true);
}

/* "1.6", "2.0.1" or "2.1" into the int at @f->off; "" unsets (-1). */
void parse_upstream_ocpp(struct loader *ld, const config_setting_t *s, const char *name,
				void *base, const struct field *f)
{
	const char *v = get_string(ld, s, name);
	enum ogw_ocpp ver;

	if (!v)
		return;
	if (!*v) {
		*(int *)((char *)base + f->off) = UPSTREAM_UNSET;
		return;
	}
	if (ogw_ocpp_parse(v, &ver) < 0) {
		setting_error(ld, s, "%s: expected 1.6, 2.0.1 or 2.1", name);
		return;
	}
	*(int *)((char *)base + f->off) = (int)ver;
}

static void parse_data_dir(struct loader *ld, const config_setting_t *s, const char *name,
			   void *base, const struct field *f)
{
	const char *v = get_string(ld, s, name);

	if (!v)
		return;
	if (!*v) {
		setting_error(ld, s, "%s: must not be empty", name);
		return;
	}
	replace_string(ld, (char **)((char *)base + f->off), v, false);
}

void parse_group_name(struct loader *ld, const config_setting_t *s, const char *name,
			     void *base, const struct field *f)
{
	const char *v = get_string(ld, s, name);

	if (!v)
		return;
	if (!*v || strlen(v) > MAX_GROUP_NAME) {
		setting_error(ld, s, "%s: must be 1 to %d characters", name, MAX_GROUP_NAME);
		return;
	}
	replace_string(ld, (char **)((char *)base + f->off), v, false);
}

bool token_ok(const char *v)
{
	bool ok = *v && strlen(v) <= MAX_TOKEN;

	for (const unsigned char *p = (const unsigned char *)v; ok && *p; p++)
		ok = *p >= 0x20 && *p != 0x7f;
	return ok;
}

/* An idTag / idToken: 1 to MAX_TOKEN printable characters. */
static void parse_token(struct loader *ld, const config_setting_t *s, const char *name,
			void *base, const struct field *f)
{
	const char *v = get_string(ld, s, name);

	if (!v)
		return;
	if (!token_ok(v)) {
		setting_error(ld, s, "%s: must be 1 to %d printable characters", name, MAX_TOKEN);
		return;
	}
	replace_string(ld, (char **)((char *)base + f->off), v, false);
}

/* The statuses an operator can give a token; the version-specific ones
 * (ConcurrentTx, NoCredit, ...) only come from a CSMS. */
static void parse_token_status(struct loader *ld, const config_setting_t *s, const char *name,
			       void *base, const struct field *f)
{
	static const char *const statuses[] = { "Accepted", "Blocked", "Expired", "Invalid" };
	const char *v = get_string(ld, s, name);

	if (!v)
		return;
	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		if (strcmp(v, statuses[i]) == 0) {
			replace_string(ld, (char **)((char *)base + f->off), v, false);
			return;
		}
	}
	setting_error(ld, s, "%s: expected Accepted, Blocked, Expired or Invalid", name);
}

/* RFC 3339 date-time; "" unsets. */
static void parse_time(struct loader *ld, const config_setting_t *s, const char *name,
		       void *base, const struct field *f)
{
	const char *v = get_string(ld, s, name);
	int64_t t;

	if (!v)
		return;
	if (*v && ogw_time_parse_rfc3339(v, &t) < 0) {
		setting_error(ld, s, "%s: expected an RFC 3339 time, e.g. 2027-01-01T00:00:00Z",
			      name);
		return;
	}
	replace_string(ld, (char **)((char *)base + f->off), v, false);
}

/* admin.token: sent in a header, so printable, without spaces, and short
 * enough to fit any admin.max_header_size. */
static void parse_admin_token(struct loader *ld, const config_setting_t *s, const char *name,
			      void *base, const struct field *f)
{
	const char *v = get_string(ld, s, name);

	if (!v)
		return;
	bool ok = strlen(v) <= OGW_ADMIN_MAX_TOKEN;
	for (const unsigned char *p = (const unsigned char *)v; ok && *p; p++)
		ok = *p > 0x20 && *p < 0x7f;
	if (!ok) {
		setting_error(ld, s, "%s: must be at most %d printable characters without spaces",
			      name, OGW_ADMIN_MAX_TOKEN);
		return;
	}
	replace_string(ld, (char **)((char *)base + f->off), v, true);
}

static void parse_chargers(struct loader *ld, const config_setting_t *s, const char *name,
			   void *base, const struct field *f);
static void parse_local_list(struct loader *ld, const config_setting_t *s, const char *name,
			     void *base, const struct field *f);
static void parse_group_members(struct loader *ld, const config_setting_t *s, const char *name,
				void *base, const struct field *f);
static void parse_groups(struct loader *ld, const config_setting_t *s, const char *name,
			 void *base, const struct field *f);

static void parse_profiles(struct loader *ld, const config_setting_t *s, const char *name,
			   void *base, const struct field *f);
static void parse_listeners(struct loader *ld, const config_setting_t *s, const char *name,
			    void *base, const struct field *f);

static const struct field tls_fields[] = {
	{ .name = "cert", .kind = F_STRING, .off = offsetof(struct ogw_conf, tls_cert) },
	{ .name = "key", .kind = F_STRING, .off = offsetof(struct ogw_conf, tls_key) },
	{ .name = "ca", .kind = F_STRING, .off = offsetof(struct ogw_conf, tls_ca) },
	{ .name = "crl", .kind = F_STRING, .off = offsetof(struct ogw_conf, tls_crl) },
	{ .name = "require_client_cert", .kind = F_BOOL,
	  .off = offsetof(struct ogw_conf, tls_require_client_cert) },
	{ .name = "identity", .kind = F_SPECIAL, .off = offsetof(struct ogw_conf, tls_identity),
	  .special = parse_charger_id },
	{ .name = "min_version", .kind = F_SPECIAL,
	  .off = offsetof(struct ogw_conf, tls_floor.min_version),
	  .special = conf_parse_tls_version },
	{ .name = "ciphers", .kind = F_SPECIAL, .off = offsetof(struct ogw_conf, tls_floor.ciphers),
	  .special = conf_parse_ciphers },
	{ 0 },
};

static const struct field csms_fields[] = {
	{ .name = "url", .kind = F_SPECIAL, .off = offsetof(struct ogw_conf, csms_url),
	  .special = parse_url },
	{ .name = "ca", .kind = F_STRING, .off = offsetof(struct ogw_conf, csms_ca) },
	{ .name = "cert", .kind = F_STRING, .off = offsetof(struct ogw_conf, csms_cert) },
	{ .name = "key", .kind = F_STRING, .off = offsetof(struct ogw_conf, csms_key) },
	{ .name = "request_certificates", .kind = F_BOOL,
	  .off = offsetof(struct ogw_conf, request_certificates) },
	{ .name = "certificate_renew_days", .kind = F_INT,
	  .off = offsetof(struct ogw_conf, certificate_renew_days), .min = 1, .max = 3650 },
	{ .name = "certificate_organization", .kind = F_STRING,
	  .off = offsetof(struct ogw_conf, certificate_organization) },
	{ .name = "client_cert_dir", .kind = F_STRING,
	  .off = offsetof(struct ogw_conf, csms_client_cert_dir) },
	{ .name = "tls_min_version", .kind = F_SPECIAL,
	  .off = offsetof(struct ogw_conf, csms_tls_floor.min_version),
	  .special = conf_parse_tls_version },
	{ .name = "ciphers", .kind = F_SPECIAL,
	  .off = offsetof(struct ogw_conf, csms_tls_floor.ciphers), .special = conf_parse_ciphers },
	{ .name = "security_event_interval", .kind = F_SECONDS,
	  .off = offsetof(struct ogw_conf, security_event_interval_s), .min = 0, .max = MAX_SECONDS },
	{ .name = "pass_credentials", .kind = F_BOOL,
	  .off = offsetof(struct ogw_conf, csms_pass_credentials) },
	{ .name = "secondaries", .kind = F_SPECIAL, .off = offsetof(struct ogw_conf, csms_multi),
	  .special = ogw_conf_parse_secondaries },
	{ .name = "token_routing", .kind = F_SPECIAL,
	  .off = offsetof(struct ogw_conf, csms_multi.token_routing),
	  .special = ogw_conf_parse_token_routing },
	{ .name = "ping_interval", .kind = F_SECONDS,
	  .off = offsetof(struct ogw_conf, ping_interval_s), .min = 0, .max = MAX_SECONDS },
	{ .name = "reconnect_min", .kind = F_MS,
	  .off = offsetof(struct ogw_conf, reconnect_min_ms), .max = MAX_SECONDS },
	{ .name = "reconnect_max", .kind = F_MS,
	  .off = offsetof(struct ogw_conf, reconnect_max_ms), .max = MAX_SECONDS },
	{ 0 },
};

static const struct field mqtt_fields[] = {
	{ .name = "url", .kind = F_SPECIAL, .off = offsetof(struct ogw_conf, mqtt_url),
	  .special = parse_url },
	{ .name = "prefix", .kind = F_SPECIAL, .off = offsetof(struct ogw_conf, mqtt_prefix),
	  .special = parse_topic_level },
	{ .name = "client_id", .kind = F_STRING, .off = offsetof(struct ogw_conf, mqtt_client_id) },
	{ .name = "username", .kind = F_STRING, .off = offsetof(struct ogw_conf, mqtt_username) },
	{ .name = "password", .kind = F_STRING, .off = offsetof(struct ogw_conf, mqtt_password),
	  .secret = true },
	{ .name = "ca", .kind = F_STRING, .off = offsetof(struct ogw_conf, mqtt_ca) },
	{ .name = "cert", .kind = F_STRING, .off = offsetof(struct ogw_conf, mqtt_cert) },
	{ .name = "key", .kind = F_STRING, .off = offsetof(struct ogw_conf, mqtt_key) },
	{ .name = "keepalive", .kind = F_SECONDS,
	  .off = offsetof(struct ogw_conf, mqtt_keepalive_s), .min = 5, .max = MAX_SECONDS },
	{ .name = "share", .kind = F_SPECIAL, .off = offsetof(struct ogw_conf, mqtt_share),
	  .special = parse_topic_level },
	{ .name = "max_buffered", .kind = F_INT,
	  .off = offsetof(struct ogw_conf, mqtt_max_buffered), .min = 1, .max = 100000 },
	{ 0 },
};

static const struct field ocpp_fields[] = {
	{ .name = "response_timeout", .kind = F_MS,
	  .off = offsetof(struct ogw_conf, response_timeout_ms), .max = MAX_SECONDS },
	{ .name = "max_frame_size", .kind = F_SIZE,
	  .off = offsetof(struct ogw_conf, max_frame_size), .min = 1024, .max = 16 * 1024 * 1024 },
	{ .name = "max_pending_calls", .kind = F_INT,
	  .off = offsetof(struct ogw_conf, max_pending_calls), .min = 1, .max = 1024 },
	{ .name = "schema_dir", .kind = F_STRING, .off = offsetof(struct ogw_conf, schema_dir) },
	{ 0 },
};

static const struct field offline_fields[] = {
	{ .name = "heartbeat_interval", .kind = F_SECONDS,
	  .off = offsetof(struct ogw_conf, offline_heartbeat_s), .min = 1, .max = 86400 },
	{ .name = "unknown_id", .kind = F_WORDS,
	  .off = offsetof(struct ogw_conf, offline_accept_unknown), .words = { "reject", "accept" } },
	{ .name = "queue", .kind = F_WORDS, .off = offsetof(struct ogw_conf, offline_queue_all),
	  .words = { "transactions", "all" } },
	{ .name = "message_attempts", .kind = F_INT,
	  .off = offsetof(struct ogw_conf, offline_attempts), .min = 1, .max = 100 },
	{ .name = "retry_interval", .kind = F_SECONDS,
	  .off = offsetof(struct ogw_conf, offline_retry_s), .min = 1, .max = MAX_SECONDS },
	{ .name = "stop_on_invalid_id", .kind = F_BOOL,
	  .off = offsetof(struct ogw_conf, offline_stop_invalid) },
	{ .name = "auth_cache_size", .kind = F_INT,
	  .off = offsetof(struct ogw_conf, offline_cache_max), .min = 1, .max = 1000000 },
	{ 0 },
};

static const struct field log_fields[] = {
	{ .name = "level", .kind = F_SPECIAL, .special = parse_log_level },
	{ .name = "format", .kind = F_WORDS, .off = offsetof(struct ogw_conf, log_json),
	  .words = { "text", "json" } },
	{ 0 },
};

static const struct field admin_fields[] = {
	{ .name = "listen", .kind = F_SPECIAL, .special = parse_admin_listen },
	{ .name = "token", .kind = F_SPECIAL, .off = offsetof(struct ogw_conf, admin_token),
	  .special = parse_admin_token },
	{ .name = "user", .kind = F_STRING, .off = offsetof(struct ogw_conf, admin_user) },
	{ .name = "password_hash", .kind = F_SPECIAL,
	  .off = offsetof(struct ogw_conf, admin_password_hash), .special = parse_password_hash },
	{ .name = "max_header_size", .kind = F_SIZE,
	  .off = offsetof(struct ogw_conf, admin_max_header_size), .min = 4096, .max = 1048576 },
	{ .name = "max_body_size", .kind = F_SIZE,
	  .off = offsetof(struct ogw_conf, admin_max_body_size), .min = 1024, .max = 16777216 },
	{ .name = "idle_timeout", .kind = F_SECONDS,
	  .off = offsetof(struct ogw_conf, admin_idle_timeout_s), .min = 1, .max = 3600 },
	{ 0 },
};

static const struct field files_ftp_fields[] = {
	{ .name = "listen", .kind = F_SPECIAL, .special = parse_ftp_listen },
	{ .name = "public_url", .kind = F_STRING,
	  .off = offsetof(struct ogw_conf, files_ftp_public_url) },
	{ .name = "passive_ports", .kind = F_SPECIAL, .special = parse_passive_ports },
	{ .name = "masquerade", .kind = F_STRING,
	  .off = offsetof(struct ogw_conf, files_ftp_masquerade) },
	{ .name = "uploads", .kind = F_WORDS, .off = offsetof(struct ogw_conf, files_ftp_always),
	  .words = { "auto", "always" } },
	{ .name = "server", .kind = F_STRING, .off = offsetof(struct ogw_conf, files_ftp_server) },
	{ 0 },
};

static const struct field files_fields[] = {
	{ .name = "listen", .kind = F_SPECIAL, .special = parse_files_listen },
	{ .name = "public_url", .kind = F_STRING, .off = offsetof(struct ogw_conf, files_public_url) },
	{ .name = "cert", .kind = F_STRING, .off = offsetof(struct ogw_conf, files_cert) },
	{ .name = "key", .kind = F_STRING, .off = offsetof(struct ogw_conf, files_key) },
	{ .name = "max_size", .kind = F_SIZE, .off = offsetof(struct ogw_conf, files_max_size),
	  .min = 1024, .max = 1099511627776.0 },
	{ .name = "max_file_size", .kind = F_SIZE,
	  .off = offsetof(struct ogw_conf, files_max_file_size), .min = 1024, .max = 1099511627776.0 },
	{ .name = "max_retries", .kind = F_INT, .off = offsetof(struct ogw_conf, files_max_retries),
	  .min = 0, .max = 100 },
	{ .name = "max_retry_interval", .kind = F_SECONDS,
	  .off = offsetof(struct ogw_conf, files_max_retry_interval_s), .min = 0, .max = MAX_SECONDS },
	{ .name = "upload_attempts", .kind = F_INT,
	  .off = offsetof(struct ogw_conf, files_upload_attempts), .min = 1, .max = 100000 },
	{ .name = "idle_timeout", .kind = F_SECONDS,
	  .off = offsetof(struct ogw_conf, files_idle_timeout_s), .min = 1, .max = 3600 },
	{ .name = "upload_retry_interval", .kind = F_SECONDS,
	  .off = offsetof(struct ogw_conf, files_upload_retry_s), .min = 1, .max = MAX_SECONDS },
	{ .name = "ftp", .kind = F_GROUP, .sub = files_ftp_fields },
	/* the operator's firmware files (PUT /api/firmware/files/<name>) */
	{ .name = "firmware_max_files", .kind = F_INT,
	  .off = offsetof(struct ogw_conf, files_firmware_max_files), .min = 1, .max = 1000 },
	{ .name = "firmware_max_size", .kind = F_SIZE,
	  .off = offsetof(struct ogw_conf, files_firmware_max_size), .min = 1024,
	  .max = 1099511627776.0 },
	{ 0 },
};

static const struct field root_fields[] = {
	{ .name = "mode", .kind = F_SPECIAL, .special = parse_mode },
	{ .name = "listen", .kind = F_SPECIAL, .special = parse_listen },
	{ .name = "path_prefix", .kind = F_SPECIAL, .special = parse_path_prefix },
	{ .name = "require_auth", .kind = F_BOOL, .off = offsetof(struct ogw_conf, require_auth) },
	{ .name = "data_dir", .kind = F_SPECIAL, .off = offsetof(struct ogw_conf, data_dir),
	  .special = parse_data_dir },
	{ .name = "upstream_ocpp", .kind = F_SPECIAL, .off = offsetof(struct ogw_conf, upstream_ocpp),
	  .special = parse_upstream_ocpp },
	{ .name = "store_max_size", .kind = F_SIZE, .off = offsetof(struct ogw_conf, store_max_size),
	  .min = 0, .max = 1099511627776.0 },
	{ .name = "store_max_events", .kind = F_INT,
	  .off = offsetof(struct ogw_conf, store_max_events), .min = 100, .max = 10000000 },
	{ .name = "history_interval_s", .kind = F_INT,
	  .off = offsetof(struct ogw_conf, history_interval_s), .min = 1, .max = 3600 },
	{ .name = "tls", .kind = F_GROUP, .sub = tls_fields },
	{ .name = "profiles", .kind = F_SPECIAL, .off = offsetof(struct ogw_conf, profiles),
	  .special = parse_profiles },
	{ .name = "listeners", .kind = F_SPECIAL, .special = parse_listeners },
	{ .name = "csms", .kind = F_GROUP, .sub = csms_fields },
	{ .name = "mqtt", .kind = F_GROUP, .sub = mqtt_fields },
	{ .name = "ocpp", .kind = F_GROUP, .sub = ocpp_fields },
	{ .name = "log", .kind = F_GROUP, .sub = log_fields },
	{ .name = "offline", .kind = F_GROUP, .sub = offline_fields },
	{ .name = "admin", .kind = F_GROUP, .sub = admin_fields },
	{ .name = "files", .kind = F_GROUP, .sub = files_fields },
	{ .name = "chargers", .kind = F_SPECIAL, .special = parse_chargers },
	{ .name = "local_list", .kind = F_SPECIAL, .special = parse_local_list },
	{ .name = "groups", .kind = F_SPECIAL, .special = parse_groups },
	{ .name = "load_balancing", .kind = F_SPECIAL, .special = ogw_conf_parse_lb },
	{ 0 },
};

/* Fields of struct ogw_charger_conf, one list entry. */
static const struct field charger_fields[] = {
	{ .name = "id", .kind = F_SPECIAL, .off = offsetof(struct ogw_charger_conf, id),
	  .special = parse_charger_id },
	{ .name = "password_hash", .kind = F_SPECIAL,
	  .off = offsetof(struct ogw_charger_conf, password_hash), .special = parse_password_hash },
	{ .name = "upstream_user", .kind = F_STRING,
	  .off = offsetof(struct ogw_charger_conf, upstream_user) },
	{ .name = "upstream_password", .kind = F_STRING,
	  .off = offsetof(struct ogw_charger_conf, upstream_password), .secret = true },
	{ .name = "upstream_ocpp", .kind = F_SPECIAL,
	  .off = offsetof(struct ogw_charger_conf, upstream_ocpp), .special = parse_upstream_ocpp },
	{ .name = "csms", .kind = F_SPECIAL, .off = offsetof(struct ogw_charger_conf, csms),
	  .special = ogw_conf_parse_csms_block },
	{ .name = "security_profile", .kind = F_INT,
	  .off = offsetof(struct ogw_charger_conf, security_profile), .min = 1, .max = 3 },
	{ 0 },
};

/* Fields of struct ogw_group_conf, one list entry. */
static const struct field group_fields[] = {
	{ .name = "name", .kind = F_SPECIAL, .off = offsetof(struct ogw_group_conf, name),
	  .special = parse_group_name },
	{ .name = "upstream_ocpp", .kind = F_SPECIAL,
	  .off = offsetof(struct ogw_group_conf, upstream_ocpp), .special = parse_upstream_ocpp },
	{ .name = "security_profile", .kind = F_INT,
	  .off = offsetof(struct ogw_group_conf, security_profile), .min = 1, .max = 3 },
	{ .name = "chargers", .kind = F_SPECIAL, .special = parse_group_members },
	{ .name = "csms", .kind = F_SPECIAL, .off = offsetof(struct ogw_group_conf, csms),
	  .special = ogw_conf_parse_csms_block },
	{ 0 },
};

/* Fields of struct ogw_local_entry, one local_list entry. */
static const struct field local_entry_fields[] = {
	{ .name = "id", .kind = F_SPECIAL, .off = offsetof(struct ogw_local_entry, token),
	  .special = parse_token },
	{ .name = "status", .kind = F_SPECIAL, .off = offsetof(struct ogw_local_entry, status),
	  .special = parse_token_status },
	{ .name = "expiry", .kind = F_SPECIAL, .off = offsetof(struct ogw_local_entry, expiry),
	  .special = parse_time },
	{ .name = "group", .kind = F_SPECIAL, .off = offsetof(struct ogw_local_entry, group),
	  .special = parse_token },
	{ 0 },
};

static void parse_field(struct loader *ld, const config_setting_t *s, const char *name,
			void *base, const struct field *f)
{
	void *slot = (char *)base + f->off;
	long long i;
	double d;

	switch (f->kind) {
	case F_STRING: {
		const char *v = get_string(ld, s, name);
		if (v)
			replace_string(ld, slot, v, f->secret);
		break;
	}
	case F_BOOL:
		if (config_setting_type(s) != CONFIG_TYPE_BOOL)
			setting_error(ld, s, "%s: expected true or false", name);
		else
			*(bool *)slot = config_setting_get_bool(s);
		break;
	case F_INT:
	case F_SIZE:
		if (!get_integer(s, &i))
			setting_error(ld, s, "%s: expected an integer", name);
		else if (i < (long long)f->min || i > (long long)f->max)
			setting_error(ld, s, "%s: must be between %.0f and %.0f", name,
				      f->min, f->max);
		else if (f->kind == F_INT)
			*(int *)slot = (int)i;
		else
			*(size_t *)slot = (size_t)i;
		break;
	case F_MS:
		if (!get_number(s, &d))
			setting_error(ld, s, "%s: expected a number", name);
		else if (!(d > 0 && d <= f->max))
			setting_error(ld, s, "%s: must be > 0 and <= %.0f seconds", name, f->max);
		else
			*(int *)slot = d * 1000 < 1 ? 1 : (int)lround(d * 1000);
		break;
	case F_SECONDS:
		if (!get_number(s, &d))
			setting_error(ld, s, "%s: expected a number", name);
		else if (d != floor(d))
			setting_error(ld, s, "%s: expected whole seconds", name);
		else if (d < f->min || d > f->max)
			setting_error(ld, s, "%s: must be between %.0f and %.0f seconds", name,
				      f->min, f->max);
		else
			*(int *)slot = (int)d;
		break;
	case F_WORDS: {
		const char *v = get_string(ld, s, name);
		if (!v)
			break;
		if (strcmp(v, f->words[0]) == 0 || strcmp(v, f->words[1]) == 0)
			*(bool *)slot = strcmp(v, f->words[1]) == 0;
		else
			setting_error(ld, s, "%s: expected %s or %s", name, f->words[0], f->words[1]);
		break;
	}
	case F_SPECIAL:
		f->special(ld, s, name, base, f);
		break;
	case F_GROUP:
		if (config_setting_type(s) != CONFIG_TYPE_GROUP)
			setting_error(ld, s, "%s: expected a group { ... }", name);
		else
			walk_group(ld, s, f->sub, name, base);
		break;
	}
}

void walk_group(struct loader *ld, const config_setting_t *group,
		const struct field *table, const char *prefix, void *base)
{
	int n = config_setting_length(group);

	for (int i = 0; i < n && !ld->oom; i++) {
		const config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
		const char *key = config_setting_name(s);
		const struct field *f = table;
		char *name = NULL;

		if (asprintf(&name, "%s%s%s", prefix, *prefix ? "." : "", key) < 0) {
			ld->oom = true;
			return;
		}
		while (f->name && strcmp(f->name, key) != 0)
			f++;
		if (f->name)
			parse_field(ld, s, name, base, f);
		else
			setting_error(ld, s, "unknown setting '%s'", name);
		free(name);
	}
}

static void charger_free(void *elem)
{
	struct ogw_charger_conf *ch = elem;

	free(ch->id);
	free_secret(ch->password_hash);
	free(ch->upstream_user);
	free_secret(ch->upstream_password);
	ogw_csms_set_conf_free(ch->csms);
	memset(ch, 0, sizeof(*ch));
}

static void local_entry_free(void *elem)
{
	struct ogw_local_entry *e = elem;

	free(e->token);
	free(e->status);
	free(e->expiry);
	free(e->group);
	memset(e, 0, sizeof(*e));
}

bool is_list(const config_setting_t *s)
{
	int type = config_setting_type(s);

	return type == CONFIG_TYPE_LIST ||
	       (type == CONFIG_TYPE_ARRAY && config_setting_length(s) == 0);
}

void free_list(const struct list_spec *spec, void *list, size_t n)
{
	if (!list)
		return;
	for (size_t i = 0; i < n; i++)
		spec->free((char *)list + i * spec->size);
	free(list);
}

static const char *list_key(const struct list_spec *spec, const void *list, int i)
{
	return *(char *const *)((const char *)list + (size_t)i * spec->size + spec->key_off);
}

/* The parsed entries of @s (calloc'd, one spare zeroed element), or NULL
 * when @s has errors (reported) or memory ran out. *ret_n: their count. */
void *load_list(struct loader *ld, const config_setting_t *s, const char *name,
		       const struct list_spec *spec, int *ret_n)
{
	const config_setting_t **key_settings = NULL;
	size_t errors_before = ld->n_errors;
	char *list = NULL;
	int n;

	if (!is_list(s)) {
		setting_error(ld, s, "%s: expected a list ( { %s = ...; }, ... )", name, spec->key);
		return NULL;
	}
	n = config_setting_length(s);
	list = calloc((size_t)n + 1, spec->size);
	key_settings = calloc((size_t)n + 1, sizeof(*key_settings));
	if (!list || !key_settings) {
		ld->oom = true;
		goto out;
	}
	for (int i = 0; i < n && !ld->oom; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		char *elem = list + (size_t)i * spec->size, *ename = NULL;

		if (spec->upstream_unset)
			*(int *)(elem + spec->upstream_off) = UPSTREAM_UNSET;
		if (asprintf(&ename, "%s[%d]", name, i) < 0) {
			ld->oom = true;
			break;
		}
		if (config_setting_type(e) != CONFIG_TYPE_GROUP) {
			setting_error(ld, e, "%s: expected a group { %s = ...; }", ename, spec->key);
		} else {
			walk_group(ld, e, spec->fields, ename, elem);
			key_settings[i] = config_setting_get_member(e, spec->key);
			if (!key_settings[i])
				setting_error(ld, e, "%s: missing %s", ename, spec->key);
		}
		free(ename);
	}
	for (int i = 0; i < n && !ld->oom; i++) {
		for (int j = 0; j < i && list_key(spec, list, i); j++) {
			if (!list_key(spec, list, j) ||
			    strcmp(list_key(spec, list, i), list_key(spec, list, j)) != 0)
				continue;
			setting_error(ld, key_settings[i], "%s[%d].%s: duplicate %s '%s', "
				      "first at line %u", name, i, spec->key, spec->what,
				      list_key(spec, list, i),
				      config_setting_source_line(key_settings[j]));
			break;
		}
	}
out:
	free(key_settings);
	if (list && !ld->oom && ld->n_errors == errors_before) {
		*ret_n = n;
		return list;
	}
	free_list(spec, list, (size_t)n);
	return NULL;
}

/* Swaps @list in for the old list at *@slot / *@n_slot. */
void replace_list(const struct list_spec *spec, void *slot, size_t *n_slot,
			 void *list, int n)
{
	free_list(spec, *(void **)slot, *n_slot);
	*(void **)slot = list;
	*n_slot = (size_t)n;
}

static const struct list_spec charger_list = {
	.size = sizeof(struct ogw_charger_conf), .fields = charger_fields, .key = "id",
	.key_off = offsetof(struct ogw_charger_conf, id), .what = "id",
	.upstream_unset = true, .upstream_off = offsetof(struct ogw_charger_conf, upstream_ocpp),
	.free = charger_free,
};

static const struct list_spec local_list = {
	.size = sizeof(struct ogw_local_entry), .fields = local_entry_fields, .key = "id",
	.key_off = offsetof(struct ogw_local_entry, token), .what = "id",
	.free = local_entry_free,
};

static void parse_chargers(struct loader *ld, const config_setting_t *s, const char *name,
			   void *base, const struct field *f)
{
	struct ogw_conf *c = base;
	int n = 0;
	void *list = load_list(ld, s, name, &charger_list, &n);

	(void)f;
	if (list)
		replace_list(&charger_list, &c->chargers, &c->n_chargers, list, n);
}

static void parse_local_list(struct loader *ld, const config_setting_t *s, const char *name,
			     void *base, const struct field *f)
{
	struct ogw_conf *c = base;
	int n = 0;
	struct ogw_local_entry *list = load_list(ld, s, name, &local_list, &n);

	(void)f;
	if (!list)
		return;
	/* An entry without a status is one the operator lets charge. */
	for (int i = 0; i < n && !ld->oom; i++)
		if (!list[i].status && !(list[i].status = strdup("Accepted")))
			ld->oom = true;
	if (ld->oom) {
		free_list(&local_list, list, (size_t)n);
		return;
	}
	replace_list(&local_list, &c->local_list, &c->n_local_list, list, n);
}

static void group_free(void *elem)
{
	struct ogw_group_conf *g = elem;

	free(g->name);
	for (size_t i = 0; i < g->n_chargers; i++)
		free(g->chargers[i]);
	free(g->chargers);
	ogw_csms_set_conf_free(g->csms);
	memset(g, 0, sizeof(*g));
}

/* chargers = [ "CP1", "CP2" ] inside a group: ids, each checked. */
static void parse_group_members(struct loader *ld, const config_setting_t *s, const char *name,
				void *base, const struct field *f)
{
	struct ogw_group_conf *g = base;
	size_t errors_before = ld->n_errors;
	char **ids = NULL;
	int type = config_setting_type(s), n;

	(void)f;
	if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST) {
		setting_error(ld, s, "%s: expected a list of charger ids [ \"CP1\", ... ]", name);
		return;
	}
	n = config_setting_length(s);
	ids = calloc((size_t)n + 1, sizeof(*ids));
	if (!ids) {
		ld->oom = true;
		return;
	}
	for (int i = 0; i < n && !ld->oom; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *v;

		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			setting_error(ld, e, "%s[%d]: expected a string", name, i);
			continue;
		}
		v = config_setting_get_string(e);
		if (!charger_id_ok(v)) {
			setting_error(ld, e, "%s[%d]: must be 1 to 48 printable ASCII characters, "
				      "no ':', '/' or space", name, i);
			continue;
		}
		ids[i] = strdup(v);
		if (!ids[i])
			ld->oom = true;
	}
	if (ld->oom || ld->n_errors != errors_before) {
		for (int i = 0; i < n; i++)
			free(ids[i]);
		free(ids);
		return;
	}
	for (size_t i = 0; i < g->n_chargers; i++)
		free(g->chargers[i]);
	free(g->chargers);
	g->chargers = ids;
	g->n_chargers = (size_t)n;
}

/* The setting of member @k of group entry @e (for its line). */
static const config_setting_t *member_setting(const config_setting_t *e, size_t k)
{
	const config_setting_t *members = config_setting_get_member(e, "chargers");

	return config_setting_get_elem(members, (unsigned)k);
}

/* A charger in two groups (or twice in one) would have two settings. */
static void check_group_members(struct loader *ld, const config_setting_t *s, const char *name,
				const struct ogw_group_conf *list, int n)
{
	for (int i = 0; i < n && !ld->oom; i++) {
		const config_setting_t *gi = config_setting_get_elem(s, (unsigned)i);

		for (size_t k = 0; k < list[i].n_chargers; k++) {
			const char *id = list[i].chargers[k];
			bool found = false;

			for (int j = 0; j <= i && !found; j++) {
				const config_setting_t *gj = config_setting_get_elem(s, (unsigned)j);
				size_t end = j == i ? k : list[j].n_chargers;

				for (size_t m = 0; m < end && !found; m++) {
					if (strcmp(id, list[j].chargers[m]) != 0)
						continue;
					setting_error(ld, member_setting(gi, k),
						      "%s[%d].chargers[%zu]: charger '%s' is already "
						      "in group '%s' at line %u", name, i, k, id,
						      list[j].name, config_setting_source_line(
							      member_setting(gj, m)));
					found = true;
				}
			}
		}
	}
}

static const struct list_spec group_list = {
	.size = sizeof(struct ogw_group_conf), .fields = group_fields, .key = "name",
	.key_off = offsetof(struct ogw_group_conf, name), .what = "group",
	.upstream_unset = true, .upstream_off = offsetof(struct ogw_group_conf, upstream_ocpp),
	.free = group_free,
};

static void parse_groups(struct loader *ld, const config_setting_t *s, const char *name,
			 void *base, const struct field *f)
{
	struct ogw_conf *c = base;
	size_t errors_before = ld->n_errors;
	int n = 0;
	struct ogw_group_conf *list = load_list(ld, s, name, &group_list, &n);

	(void)f;
	if (!list)
		return;
	check_group_members(ld, s, name, list, n);
	if (ld->oom || ld->n_errors != errors_before)
		free_list(&group_list, list, (size_t)n);
	else
		replace_list(&group_list, &c->groups, &c->n_groups, list, n);
}

/* profiles = [ 1, 2, 3 ]: a non-empty array of distinct profiles. */
static void parse_profiles(struct loader *ld, const config_setting_t *s, const char *name,
			   void *base, const struct field *f)
{
	unsigned int mask = 0;
	int n = config_setting_length(s);

	if ((config_setting_type(s) != CONFIG_TYPE_ARRAY && !is_list(s)) || n == 0) {
		setting_error(ld, s, "%s: expected a list of security profiles, e.g. [ 2, 3 ]", name);
		return;
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		if (config_setting_type(e) != CONFIG_TYPE_INT || config_setting_get_int(e) < 1 ||
		    config_setting_get_int(e) > 3) {
			setting_error(ld, e, "%s: security profiles are 1, 2 and 3", name);
			return;
		}
		mask |= 1u << config_setting_get_int(e);
	}
	*(unsigned int *)((char *)base + f->off) = mask;
}

static void parse_listener_listen(struct loader *ld, const config_setting_t *s, const char *name,
				  void *base, const struct field *f)
{
	struct ogw_listener_conf *l = base;
	(void)f;
	parse_address(ld, s, name, false, &l->addr, &l->port);
	if (l->addr)
		replace_string(ld, &l->listen, config_setting_get_string(s), false);
}

static const struct field listener_tls_fields[] = {
	{ .name = "cert", .kind = F_STRING, .off = offsetof(struct ogw_listener_conf, tls_cert) },
	{ .name = "key", .kind = F_STRING, .off = offsetof(struct ogw_listener_conf, tls_key) },
	{ .name = "ca", .kind = F_STRING, .off = offsetof(struct ogw_listener_conf, tls_ca) },
	{ .name = "crl", .kind = F_STRING, .off = offsetof(struct ogw_listener_conf, tls_crl) },
	{ .name = "require_client_cert", .kind = F_BOOL,
	  .off = offsetof(struct ogw_listener_conf, tls_require_client_cert) },
	{ .name = "min_version", .kind = F_SPECIAL,
	  .off = offsetof(struct ogw_listener_conf, tls_floor.min_version),
	  .special = conf_parse_tls_version },
	{ .name = "ciphers", .kind = F_SPECIAL,
	  .off = offsetof(struct ogw_listener_conf, tls_floor.ciphers),
	  .special = conf_parse_ciphers },
	{ 0 },
};

static const struct field listener_fields[] = {
	{ .name = "listen", .kind = F_SPECIAL, .special = parse_listener_listen },
	{ .name = "profiles", .kind = F_SPECIAL, .off = offsetof(struct ogw_listener_conf, profiles),
	  .special = parse_profiles },
	{ .name = "tls", .kind = F_GROUP, .sub = listener_tls_fields },
	{ 0 },
};

static void listener_free(void *elem)
{
	struct ogw_listener_conf *l = elem;

	free(l->listen);
	free(l->addr);
	free(l->tls_cert);
	free(l->tls_key);
	free(l->tls_ca);
	free(l->tls_crl);
	free(l->tls_floor.ciphers);
	memset(l, 0, sizeof(*l));
}

static const struct list_spec listener_list = {
	.size = sizeof(struct ogw_listener_conf), .fields = listener_fields, .key = "listen",
	.key_off = offsetof(struct ogw_listener_conf, listen), .what = "listener",
	.free = listener_free,
};

static void parse_listeners(struct loader *ld, const config_setting_t *s, const char *name,
			    void *base, const struct field *f)
{
	struct ogw_conf *c = base;
	int n = 0;
	struct ogw_listener_conf *list = load_list(ld, s, name, &listener_list, &n);

	(void)f;
	if (!list)
		return;
	/* the floor's defaults, as for tls.* (a list entry starts zeroed) */
	for (int i = 0; i < n && !ld->oom; i++) {
		if (!list[i].tls_floor.min_version)
			list[i].tls_floor.min_version = OGW_TLS_1_2;
		if (!list[i].tls_floor.ciphers)
			replace_string(ld, &list[i].tls_floor.ciphers, ogw_tls_default_ciphers(), false);
	}
	if (ld->oom)
		free_list(&listener_list, list, (size_t)n);
	else
		replace_list(&listener_list, &c->listeners, &c->n_listeners, list, n);
}

static char *must_strdup(const char *s)
{
	char *copy = strdup(s);

	/* defaults are set once at startup; there is nothing to fall back to */
	if (!copy)
		abort();
	return copy;
}

void ogw_conf_defaults(struct ogw_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->listen_addr = must_strdup("0.0.0.0");
	c->listen_port = 9000;
	c->path_prefix = must_strdup("/ocpp");
	c->tls_floor.min_version = OGW_TLS_1_2;
	c->tls_floor.ciphers = must_strdup(ogw_tls_default_ciphers());
	c->csms_tls_floor.min_version = OGW_TLS_1_2;
	c->csms_tls_floor.ciphers = must_strdup(ogw_tls_default_ciphers());
	c->ping_interval_s = 30;
	c->reconnect_min_ms = 1000;
	c->reconnect_max_ms = 60000;
	c->response_timeout_ms = 30000;
	c->max_frame_size = 65536;
	c->max_pending_calls = 16;
	c->store_max_events = 20000;
	c->history_interval_s = 10;
	c->data_dir = must_strdup("/var/lib/ocppgw");
	c->admin_addr = must_strdup("127.0.0.1");
	c->admin_port = 8080;
	c->admin_max_header_size = 8192;
	c->admin_max_body_size = 65536;
	c->admin_idle_timeout_s = 30;
	c->files_max_size = 256 * 1024 * 1024;
	c->files_max_file_size = 64 * 1024 * 1024;
	c->files_max_retries = 5;
	c->files_max_retry_interval_s = 600;
	c->files_upload_attempts = 60;
	c->files_upload_retry_s = 60;
	c->files_idle_timeout_s = 60;
	c->files_ftp_server = must_strdup(OGW_FTPD_PATH);
	c->files_firmware_max_files = 16;
	c->files_firmware_max_size = (size_t)1024 * 1024 * 1024;
	c->mqtt_prefix = must_strdup("ocpp");
	c->mqtt_keepalive_s = 30;
	c->mqtt_max_buffered = 100;
	c->upstream_ocpp = UPSTREAM_UNSET;
	c->csms_multi.token_routing = OGW_TOKEN_ROUTING_PRIMARY;
	c->log_level = OGW_LOG_INFO;
	c->log_json = false;
	c->offline_heartbeat_s = 300;
	c->offline_accept_unknown = false;
	c->offline_queue_all = false;
	c->offline_attempts = 3;
	c->offline_retry_s = 60;
	c->security_event_interval_s = 60;
	c->certificate_renew_days = 30;
	c->offline_stop_invalid = true;
	c->offline_cache_max = 10000;
}

int ogw_conf_load_file(struct ogw_conf *c, const char *path, struct ogw_conf_errors *errs)
{
	struct loader ld = { .errs = errs, .path = path };
	int old_min = c->reconnect_min_ms, old_max = c->reconnect_max_ms;
	config_t cfg;
	int rc;

	config_init(&cfg);
	errno = 0;
	if (!config_read_file(&cfg, path)) {
		int err = errno;

		if (config_error_type(&cfg) == CONFIG_ERR_FILE_IO)
			add_error(errs, &ld.oom, "%s: cannot read the file: %s", path,
				  strerror(err ? err : EIO));
		else
			add_error(errs, &ld.oom, "%s:%d: %s",
				  config_error_file(&cfg) ? config_error_file(&cfg) : path,
				  config_error_line(&cfg), config_error_text(&cfg));
		rc = ld.oom ? -ENOMEM : -EINVAL;
		goto out;
	}
	walk_group(&ld, config_root_setting(&cfg), root_fields, "", c);
	if (c->reconnect_min_ms > c->reconnect_max_ms) {
		config_setting_t *s = config_lookup(&cfg, "csms.reconnect_min");

		if (!s)
			s = config_lookup(&cfg, "csms.reconnect_max");
		if (s) {
			setting_error(&ld, s, "csms.reconnect_min: must not exceed csms.reconnect_max");
			/* never leave a value the file got wrong in @c */
			c->reconnect_min_ms = old_min;
			c->reconnect_max_ms = old_max;
		}
	}
	if (!ld.oom) {
		free(c->source);
		c->source = strdup(path);
		if (!c->source)
			ld.oom = true;
	}
	rc = ld.oom ? -ENOMEM : ld.n_errors ? -EINVAL : 0;
out:
	config_destroy(&cfg);
	return rc;
}

struct checker {
	const struct ogw_conf *conf;
	struct ogw_conf_errors *errs;
	size_t n_errors;
	bool oom;
};

static void check_error(struct checker *ck, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void check_error(struct checker *ck, const char *fmt, ...)
{
	char *text = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		text = NULL;
	va_end(ap);
	if (!text) {
		ck->oom = true;
		return;
	}
	/* cross-field problems have no single line; name the file when known */
	if (ck->conf->source)
		add_error(ck->errs, &ck->oom, "%s: %s", ck->conf->source, text);
	else
		add_error(ck->errs, &ck->oom, "%s", text);
	free(text);
	ck->n_errors++;
}

/* The same ranges as the loader, for values set by command-line overrides. */
static bool is_ws_url(const char *url)
{
	return !strncasecmp(url, "ws://", 5) || !strncasecmp(url, "wss://", 6);
}

/* A group's or charger's own primary (csms { url = ...; }) is another
 * WebSocket CSMS beside csms.url: the MQTT uplink is one broker connection
 * for the whole gateway, and the bridge and a standalone gateway have no
 * primary to replace. */
static void check_own_primary(struct checker *ck, const struct ogw_conf *c, const char *what,
			      const char *name, const struct ogw_csms_set_conf *set)
{
	if (!set || !set->url)
		return;
	if (!c->csms_url || c->bridge)
		check_error(ck, "%s '%s': csms.url: a primary of its own needs the gateway's "
			    "csms.url (and not the bridge)", what, name);
	else if (!is_ws_url(c->csms_url) || !is_ws_url(set->url))
		check_error(ck, "%s '%s': csms.url: a primary of its own is a ws:// or wss:// "
			    "CSMS beside a ws:// or wss:// csms.url (the MQTT uplink is one broker "
			    "for every charger)", what, name);
	if (set->cert && !set->key)
		check_error(ck, "%s '%s': csms.cert is set without csms.key", what, name);
}

static void check_own_primaries(struct checker *ck, const struct ogw_conf *c)
{
	for (size_t i = 0; i < c->n_groups; i++)
		check_own_primary(ck, c, "groups", c->groups[i].name, c->groups[i].csms);
	for (size_t i = 0; i < c->n_chargers; i++)
		check_own_primary(ck, c, "chargers", c->chargers[i].id, c->chargers[i].csms);
}

static void check_ranges(struct checker *ck, const struct field *table, const char *prefix)
{
	for (const struct field *f = table; f->name; f++) {
		const void *slot = (const char *)ck->conf + f->off;
		const char *dot = *prefix ? "." : "";
		double v;

		switch (f->kind) {
		case F_GROUP:
			check_ranges(ck, f->sub, f->name);
			continue;
		case F_INT:
			v = *(const int *)slot;
			break;
		case F_SECONDS:
			v = *(const int *)slot;
			if (v < f->min || v > f->max)
				check_error(ck, "%s%s%s: must be between %.0f and %.0f seconds",
					    prefix, dot, f->name, f->min, f->max);
			continue;
		case F_SIZE:
			v = (double)*(const size_t *)slot;
			break;
		case F_MS:
			v = *(const int *)slot;
			if (v <= 0 || v > f->max * 1000)
				check_error(ck, "%s%s%s: must be > 0 and <= %.0f seconds",
					    prefix, dot, f->name, f->max);
			continue;
		default:
			continue;
		}
		if (v < f->min || v > f->max)
			check_error(ck, "%s%s%s: must be between %.0f and %.0f", prefix, dot,
				    f->name, f->min, f->max);
	}
}

static bool is_mqtt_url(const char *url)
{
	return url && (!strncasecmp(url, "mqtt://", 7) || !strncasecmp(url, "mqtts://", 8));
}

/* mqtt(s)://host[:port]/<site>: exactly one topic level after the host. */
const char *mqtt_site_problem(const char *url)
{
	const char *path = strchr(strstr(url, "://") + 3, '/');
	size_t n;

	if (!path || !path[1])
		return "expected mqtt(s)://host[:port]/<site>: the site is missing";
	path++;
	n = strlen(path);
	while (n && path[n - 1] == '/')
		n--;
	if (memchr(path, '/', n) || memchr(path, '#', n) || (memchr(path, '+', n) && n != 1))
		return "the site is one topic level: no '/', '#', nor '+' but a whole \"+\"";
	return NULL;
}

/* The MQTT uplink (csms.url mqtt://) and the bridge (mqtt.url, csms.url ws://). */
static void check_mqtt(struct checker *ck, const struct ogw_conf *c)
{
	const char *problem;

	problem = c->mqtt_url ? url_problem(c->mqtt_url) : NULL;
	if (problem)
		check_error(ck, "mqtt.url: %s", problem);
	if (c->mqtt_url && !is_mqtt_url(c->mqtt_url))
		check_error(ck, "mqtt.url: expected mqtt:// or mqtts://");
	else if (c->mqtt_url && !url_problem(c->mqtt_url) && mqtt_site_problem(c->mqtt_url))
		check_error(ck, "mqtt.url: %s", mqtt_site_problem(c->mqtt_url));
	if (!c->bridge && is_mqtt_url(c->csms_url) && !url_problem(c->csms_url)) {
		problem = mqtt_site_problem(c->csms_url);
		if (!problem && strstr(c->csms_url, "/+"))
			problem = "a gateway publishes for one site, not \"+\"";
		if (problem)
			check_error(ck, "csms.url: %s", problem);
	}
	if (c->bridge && !c->mqtt_url)
		check_error(ck, "mode bridge needs mqtt.url (or --mqtt URL)");
	if (c->bridge && is_mqtt_url(c->csms_url))
		check_error(ck, "csms.url: the bridge connects to a WebSocket CSMS, ws:// or wss://");
	if (!c->bridge && c->mqtt_url)
		check_error(ck, "mqtt.url is the bridge's broker; a gateway's broker is csms.url");
	if (!c->bridge && c->mqtt_share)
		check_error(ck, "mqtt.share is for the bridge only");
	problem = topic_level_problem(c->mqtt_prefix);
	if (problem)
		check_error(ck, "mqtt.prefix: %s", problem);
	if (c->mqtt_cert && !c->mqtt_key)
		check_error(ck, "mqtt.cert is set without mqtt.key");
	if (c->mqtt_key && !c->mqtt_cert)
		check_error(ck, "mqtt.key is set without mqtt.cert");
	if (c->mqtt_password && !c->mqtt_username)
		check_error(ck, "mqtt.password is set without mqtt.username");
}

/* A listener's explicit profiles against its TLS: 1 is ws://, 2 and 3 wss://, 3
 * verifies charger certificates against a CA. */
static void check_listener(struct checker *ck, const char *what, unsigned int profiles,
			   const char *cert, const char *key, const char *ca, const char *crl,
			   bool require_cert)
{
	(void)key;
	if (crl && (!ca || !cert))
		check_error(ck, "%s: tls.crl needs tls.ca (the CAs whose revocations it lists)", what);
	/* without `profiles` they follow the TLS settings, nothing to check */
	if (!profiles)
		return;
	unsigned int p = profiles;
	if ((p & (1u << 1)) && cert)
		check_error(ck, "%s: security profile 1 is ws://, without tls", what);
	if ((p & ((1u << 2) | (1u << 3))) && !cert)
		check_error(ck, "%s: security profiles 2 and 3 need tls.cert and tls.key", what);
	if ((p & (1u << 3)) && cert && !ca)
		check_error(ck, "%s: security profile 3 needs tls.ca to verify chargers", what);
	if (require_cert && (p & (1u << 2)))
		check_error(ck, "%s: tls.require_client_cert leaves no room for profile 2", what);
}

int ogw_conf_check(const struct ogw_conf *c, struct ogw_conf_errors *errs)
{
	struct checker ck = { .conf = c, .errs = errs };
	const char *problem;

	if (!c->listen_addr || !*c->listen_addr)
		check_error(&ck, "listen: no address");
	if (c->listen_port < 1 || c->listen_port > 65535)
		check_error(&ck, "listen: %s", listen_problem(-ERANGE));
	problem = path_prefix_problem(c->path_prefix);
	if (problem)
		check_error(&ck, "path_prefix: %s", problem);
	if (c->tls_cert && !c->tls_key)
		check_error(&ck, "tls.cert is set without tls.key");
	if (c->tls_key && !c->tls_cert)
		check_error(&ck, "tls.key is set without tls.cert");
	if (c->tls_require_client_cert && !c->tls_cert)
		check_error(&ck, "tls.require_client_cert needs tls.cert and tls.key");
	if (c->tls_require_client_cert && !c->tls_ca)
		check_error(&ck, "tls.require_client_cert needs tls.ca to verify chargers");
	/* the identity's certificate replaces tls.cert: it needs one to start
	 * with, and a CSMS over OCPP-J to sign it */
	if (c->tls_identity && !c->tls_cert)
		check_error(&ck, "tls.identity needs tls.cert and tls.key to serve until the CSMS "
			    "has signed the gateway's own certificate");
	if (c->tls_identity && (!c->csms_url || is_mqtt_url(c->csms_url)))
		check_error(&ck, "tls.identity needs csms.url (ws:// or wss://): the CSMS signs the "
			    "gateway's certificate");
	check_listener(&ck, "listen", c->profiles, c->tls_cert, c->tls_key, c->tls_ca, c->tls_crl,
		       c->tls_require_client_cert);
	for (size_t i = 0; i < c->n_listeners; i++) {
		const struct ogw_listener_conf *l = &c->listeners[i];
		char what[64];
		snprintf(what, sizeof(what), "listeners[%zu] (%s)", i, l->listen);
		if (!l->addr)
			check_error(&ck, "listeners[%zu]: missing listen", i);
		if ((!l->tls_cert) != (!l->tls_key))
			check_error(&ck, "%s: tls.cert and tls.key go together", what);
		check_listener(&ck, what, l->profiles, l->tls_cert, l->tls_key, l->tls_ca,
			       l->tls_crl, l->tls_require_client_cert);
	}
	for (size_t i = 0; i < c->n_chargers; i++) {
		const struct ogw_charger_conf *ch = &c->chargers[i];
		int p = ogw_conf_security_profile(c, ch->id);
		/* OCPP profiles 1 and 2 are Basic auth (SEC16, A00.FR.2xx) */
		if ((p == 1 || p == 2) && !ch->password_hash)
			check_error(&ck, "chargers: '%s' is bound to security profile %d, which needs "
				    "its password_hash", ch->id, p);
	}
	problem = c->csms_url ? url_problem(c->csms_url) : NULL;
	if (problem)
		check_error(&ck, "csms.url: %s", problem);
	if (!c->files_cert != !c->files_key)
		check_error(&ck, "files.cert and files.key go together (HTTPS)");
	if (c->files_ftp_addr && !c->files_addr)
		check_error(&ck, "files.ftp.listen needs files.listen (the file server's settings "
			    "and storage)");
	problem = c->files_ftp_public_url && strncmp(c->files_ftp_public_url, "ftp://", 6) ?
		  "expected an ftp:// URL" : NULL;
	if (problem)
		check_error(&ck, "files.ftp.public_url: %s", problem);
	if (c->csms_cert && !c->csms_key)
		check_error(&ck, "csms.cert is set without csms.key");
	if (c->csms_key && !c->csms_cert)
		check_error(&ck, "csms.key is set without csms.cert");
	if (!c->data_dir || !*c->data_dir)
		check_error(&ck, "data_dir: must not be empty");
	check_mqtt(&ck, c);
	if (c->bridge && c->csms_multi.n_secondaries)
		check_error(&ck, "csms.secondaries: the bridge connects each charger to one CSMS");
	check_own_primaries(&ck, c);
	if (c->upstream_ocpp < UPSTREAM_UNSET || c->upstream_ocpp >= OGW_OCPP_COUNT)
		check_error(&ck, "upstream_ocpp: expected 1.6, 2.0.1 or 2.1");
	if (c->admin_addr && !ogw_conf_is_loopback(c->admin_addr) && !c->admin_token &&
	    !(c->admin_user && c->admin_password_hash))
		check_error(&ck, "admin.listen: %s is not a loopback address: set admin.token, "
			    "or admin.user and admin.password_hash", c->admin_addr);
	if (!c->admin_user != !c->admin_password_hash)
		check_error(&ck, "admin.user and admin.password_hash go together");
	check_ranges(&ck, root_fields, "");
	if (c->reconnect_min_ms > c->reconnect_max_ms)
		check_error(&ck, "csms.reconnect_min: must not exceed csms.reconnect_max");
	return ck.oom ? -ENOMEM : ck.n_errors ? -EINVAL : 0;
}

void ogw_conf_clear(struct ogw_conf *c)
{
	if (!c)
		return;
	free(c->listen_addr);
	free(c->path_prefix);
	free(c->tls_cert);
	free(c->tls_key);
	free(c->tls_ca);
	free(c->tls_crl);
	free(c->tls_identity);
	free(c->tls_floor.ciphers);
	free(c->csms_tls_floor.ciphers);
	free(c->csms_url);
	free(c->csms_ca);
	free(c->csms_cert);
	free(c->csms_key);
	free(c->csms_client_cert_dir);
	free(c->certificate_organization);
	ogw_csms_set_conf_clear(&c->csms_multi);
	free(c->schema_dir);
	free(c->data_dir);
	free(c->mqtt_url);
	free(c->mqtt_prefix);
	free(c->mqtt_client_id);
	free(c->mqtt_username);
	free_secret(c->mqtt_password);
	free(c->mqtt_ca);
	free(c->mqtt_cert);
	free(c->mqtt_key);
	free(c->mqtt_share);
	free(c->admin_addr);
	free_secret(c->admin_token);
	free(c->admin_user);
	free_secret(c->admin_password_hash);
	free(c->files_addr);
	free(c->files_public_url);
	free(c->files_cert);
	free(c->files_key);
	free(c->files_ftp_addr);
	free(c->files_ftp_public_url);
	free(c->files_ftp_masquerade);
	free(c->files_ftp_server);
	free_list(&charger_list, c->chargers, c->n_chargers);
	free_list(&group_list, c->groups, c->n_groups);
	free_list(&listener_list, c->listeners, c->n_listeners);
	free_list(&local_list, c->local_list, c->n_local_list);
	ogw_lb_conf_free(c->lb);
	free(c->source);
	memset(c, 0, sizeof(*c));
}

void ogw_conf_errors_clear(struct ogw_conf_errors *errs)
{
	if (!errs)
		return;
	for (size_t i = 0; i < errs->n; i++)
		free(errs->msgs[i]);
	free(errs->msgs);
	errs->msgs = NULL;
	errs->n = 0;
}

const struct ogw_charger_conf *ogw_conf_charger(const struct ogw_conf *c, const char *id)
{
	if (!c || !id)
		return NULL;
	for (size_t i = 0; i < c->n_chargers; i++)
		if (strcmp(c->chargers[i].id, id) == 0)
			return &c->chargers[i];
	return NULL;
}

const struct ogw_group_conf *conf_group_of(const struct ogw_conf *c, const char *id)
{
	for (size_t i = 0; i < c->n_groups; i++)
		for (size_t k = 0; k < c->groups[i].n_chargers; k++)
			if (strcmp(c->groups[i].chargers[k], id) == 0)
				return &c->groups[i];
	return NULL;
}

int ogw_conf_security_profile(const struct ogw_conf *c, const char *id)
{
	const struct ogw_charger_conf *ch = ogw_conf_charger(c, id);
	const struct ogw_group_conf *g = c && id ? conf_group_of(c, id) : NULL;

	if (ch && ch->security_profile)
		return ch->security_profile;
	return g ? g->security_profile : 0;
}

unsigned int ogw_conf_profiles(unsigned int profiles, bool tls, bool require_client_cert)
{
	if (profiles)
		return profiles;
	if (!tls)
		return 1u << 1;
	return require_client_cert ? 1u << 3 : (1u << 2) | (1u << 3);
}

int ogw_conf_upstream_for(const struct ogw_conf *c, const char *id, enum ogw_ocpp south)
{
	const struct ogw_charger_conf *ch = ogw_conf_charger(c, id);
	const struct ogw_group_conf *g = c && id ? conf_group_of(c, id) : NULL;

	if (ch && ch->upstream_ocpp != UPSTREAM_UNSET)
		return ch->upstream_ocpp;
	if (g && g->upstream_ocpp != UPSTREAM_UNSET)
		return g->upstream_ocpp;
	if (c && c->upstream_ocpp != UPSTREAM_UNSET)
		return c->upstream_ocpp;
	return (int)south;
}

static int parse_port(const char *s, int *ret)
{
	long v = 0;

	if (!*s)
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (*p - '0');
		if (v > 65535)
			return -ERANGE;
	}
	if (v < 1)
		return -ERANGE;
	*ret = (int)v;
	return 0;
}

/* By the address's value, not its spelling ("127.evil.example" is a name).
 * "localhost" passes here; the gateway checks what it resolved to when it
 * binds (src/features/admin/admin.c). */
bool ogw_conf_is_loopback(const char *addr)
{
	struct in_addr a4;
	struct in6_addr a6;
	if (inet_aton(addr, &a4))
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, addr, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6) || (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
	return strcmp(addr, "localhost") == 0;
}

int ogw_conf_parse_listen(const char *s, char **ret_addr, int *ret_port)
{
	const char *addr, *colon;
	size_t addr_len;
	char *copy;
	int port = 0, rc;

	if (!s)
		return -EINVAL;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || close == s + 1 || close[1] != ':')
			return -EINVAL;
		addr = s + 1;
		addr_len = (size_t)(close - addr);
		colon = close + 1;
		if (memchr(addr, '[', addr_len))
			return -EINVAL;
	} else {
		colon = strchr(s, ':');
		/* an IPv6 address needs brackets, or its port would be ambiguous */
		if (!colon || strchr(colon + 1, ':') || memchr(s, ']', (size_t)(colon - s)))
			return -EINVAL;
		addr = s;
		addr_len = (size_t)(colon - s);
	}
	rc = parse_port(colon + 1, &port);
	if (rc < 0)
		return rc;
	if (addr_len == 0) {
		/* ":PORT" listens on every IPv4 address, as the default does */
		addr = "0.0.0.0";
		addr_len = strlen(addr);
	}
	if (memchr(addr, ' ', addr_len) || memchr(addr, '/', addr_len))
		return -EINVAL;
	copy = strndup(addr, addr_len);
	if (!copy)
		return -ENOMEM;
	*ret_addr = copy;
	*ret_port = port;
	return 0;
}

void ogw_conf_mqtt_opts(const struct ogw_conf *c, struct ogw_mqtt_opts *o)
{
	o->username = c->mqtt_username;
	o->password = c->mqtt_password;
	o->ca = c->mqtt_ca;
	o->cert = c->mqtt_cert;
	o->key = c->mqtt_key;
	/* the broker link carries OCPP: the CSMS leg's floor */
	o->tls_version = c->csms_tls_floor.min_version == OGW_TLS_1_3 ? "tlsv1.3" : "tlsv1.2";
	o->ciphers = c->csms_tls_floor.ciphers;
	o->keepalive_s = c->mqtt_keepalive_s;
	o->reconnect_min_ms = c->reconnect_min_ms;
	o->reconnect_max_ms = c->reconnect_max_ms;
}
