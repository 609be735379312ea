/* SPDX-License-Identifier: MIT */
/*
 * The files a configuration names, checked before anything uses them: TLS
 * certificates, keys and CAs must be readable files, the schema directory
 * and data directory directories. Each error names the setting's file:line
 * (the file is read again for the line), or the flag or default that set
 * it. The loader (config.c) stays a pure parse: it never looks at the disk.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libconfig.h>

#include "internal.h"

enum kind { READ_FILE, READ_DIR, DATA_DIR };

static const struct named {
	const char *setting;
	const char *flag;     /* the command-line option that may set it, or NULL */
	size_t off;
	enum kind kind;
	bool gateway_only;    /* `ocppgw bridge` does not use it */
} named[] = {
	{ "tls.cert", NULL, offsetof(struct ogw_conf, tls_cert), READ_FILE, true },
	{ "tls.key", NULL, offsetof(struct ogw_conf, tls_key), READ_FILE, true },
	{ "tls.ca", NULL, offsetof(struct ogw_conf, tls_ca), READ_FILE, true },
	{ "csms.ca", NULL, offsetof(struct ogw_conf, csms_ca), READ_FILE, false },
	{ "csms.cert", NULL, offsetof(struct ogw_conf, csms_cert), READ_FILE, false },
	{ "csms.key", NULL, offsetof(struct ogw_conf, csms_key), READ_FILE, false },
	{ "mqtt.ca", NULL, offsetof(struct ogw_conf, mqtt_ca), READ_FILE, false },
	{ "mqtt.cert", NULL, offsetof(struct ogw_conf, mqtt_cert), READ_FILE, false },
	{ "mqtt.key", NULL, offsetof(struct ogw_conf, mqtt_key), READ_FILE, false },
	{ "ocpp.schema_dir", "--schema-dir", offsetof(struct ogw_conf, schema_dir), READ_DIR, false },
	{ "data_dir", "--data-dir", offsetof(struct ogw_conf, data_dir), DATA_DIR, true },
};

/* NULL when @path is fit for @kind, else what is wrong with it. */
static const char *problem(const char *path, enum kind kind)
{
	struct stat sb;
	if (stat(path, &sb) < 0) {
		/* the store makes its directory when it is missing */
		if (kind == DATA_DIR && errno == ENOENT)
			return NULL;
		return strerror(errno);
	}
	if (kind == READ_FILE && S_ISDIR(sb.st_mode))
		return "is a directory, not a file";
	if (kind != READ_FILE && !S_ISDIR(sb.st_mode))
		return "is not a directory";
	if (access(path, kind == DATA_DIR ? R_OK | W_OK | X_OK : R_OK) < 0)
		return kind == DATA_DIR && errno == EACCES ? "cannot be written: permission denied" :
		       strerror(errno);
	return NULL;
}

int ogw_conf_check_files(const struct ogw_conf *c, struct ogw_conf_errors *errs)
{
	config_t cfg;
	bool have_cfg = false, oom = false;
	size_t n = 0;

	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
		const char *path = *(char *const *)((const char *)c + named[i].off);
		if (named[i].gateway_only && c->bridge)
			continue;
		const char *why = path ? problem(path, named[i].kind) : NULL;
		if (!why)
			continue;
		n++;
		if (!have_cfg && c->source) {
			config_init(&cfg);
			have_cfg = config_read_file(&cfg, c->source);
			if (!have_cfg)
				config_destroy(&cfg);
		}
		const config_setting_t *s = have_cfg ? config_lookup(&cfg, named[i].setting) : NULL;
		const char *v = s ? config_setting_get_string(s) : NULL;
		if (v && !strcmp(v, path))
			add_error(errs, &oom, "%s:%u: %s: cannot use '%s': %s", c->source,
				  config_setting_source_line(s), named[i].setting, path, why);
		else
			add_error(errs, &oom, "%s%s%s: cannot use '%s': %s", named[i].flag ? named[i].flag : "",
				  named[i].flag ? " / " : "", named[i].setting, path, why);
	}
	if (have_cfg)
		config_destroy(&cfg);
	return oom ? -ENOMEM : n ? -EINVAL : 0;
}
