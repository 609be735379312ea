/* SPDX-License-Identifier: MIT */
/*
 * The files a configuration names, checked before anything uses them: TLS
 * certificates, keys and CAs must be readable files, the schema directory
 * and data directory directories, and csms.client_cert_dir a directory
 * whose keys only their owner may read. Each error names the setting's file:line
 * (the file is read again for the line), or the flag or default that set
 * it. The loader (config.c) stays a pure parse: it never looks at the disk.
 */
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libconfig.h>

#include "internal.h"

enum kind { READ_FILE, READ_DIR, DATA_DIR, KEY_DIR, EXEC_FILE };

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
	{ "tls.crl", NULL, offsetof(struct ogw_conf, tls_crl), READ_FILE, true },
	{ "csms.ca", NULL, offsetof(struct ogw_conf, csms_ca), READ_FILE, false },
	{ "csms.cert", NULL, offsetof(struct ogw_conf, csms_cert), READ_FILE, false },
	{ "csms.key", NULL, offsetof(struct ogw_conf, csms_key), READ_FILE, false },
	{ "csms.client_cert_dir", NULL, offsetof(struct ogw_conf, csms_client_cert_dir), KEY_DIR,
	  true },
	{ "files.cert", NULL, offsetof(struct ogw_conf, files_cert), READ_FILE, true },
	{ "files.key", NULL, offsetof(struct ogw_conf, files_key), READ_FILE, true },
	{ "mqtt.ca", NULL, offsetof(struct ogw_conf, mqtt_ca), READ_FILE, false },
	{ "mqtt.cert", NULL, offsetof(struct ogw_conf, mqtt_cert), READ_FILE, false },
	{ "mqtt.key", NULL, offsetof(struct ogw_conf, mqtt_key), READ_FILE, false },
	{ "ocpp.schema_dir", "--schema-dir", offsetof(struct ogw_conf, schema_dir), READ_DIR, false },
	{ "data_dir", "--data-dir", offsetof(struct ogw_conf, data_dir), DATA_DIR, true },
};

/* NULL when no <id>.key in directory @path lets others read it, else
 * which one does (the gateway refuses to present it). */
static const char *open_key(const char *path)
{
	static char why[512];
	DIR *d = opendir(path);
	struct dirent *e;
	const char *found = NULL;

	if (!d)
		return NULL;
	while (!found && (e = readdir(d))) {
		size_t n = strlen(e->d_name);
		struct stat sb;
		char file[4096];
		if (n < 5 || strcmp(e->d_name + n - 4, ".key") ||
		    snprintf(file, sizeof(file), "%s/%s", path, e->d_name) >= (int)sizeof(file) ||
		    stat(file, &sb) < 0 || !(sb.st_mode & (S_IRWXG | S_IRWXO)))
			continue;
		snprintf(why, sizeof(why), "%s has mode %03o: a charger's key must be readable by "
			 "its owner only (chmod 600)", e->d_name, (unsigned int)(sb.st_mode & 0777));
		found = why;
	}
	closedir(d);
	return found;
}

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
	if ((kind == READ_FILE || kind == EXEC_FILE) && S_ISDIR(sb.st_mode))
		return "is a directory, not a file";
	if (kind != READ_FILE && kind != EXEC_FILE && !S_ISDIR(sb.st_mode))
		return "is not a directory";
	if (kind == EXEC_FILE && access(path, X_OK) < 0)
		return errno == EACCES ? "cannot be run: permission denied" : strerror(errno);
	if (access(path, kind == DATA_DIR ? R_OK | W_OK | X_OK : R_OK) < 0)
		return kind == DATA_DIR && errno == EACCES ? "cannot be written: permission denied" :
		       strerror(errno);
	return kind == KEY_DIR ? open_key(path) : NULL;
}

struct file_check {
	const struct ogw_conf *c;
	struct ogw_conf_errors *errs;
	config_t cfg;
	bool have_cfg, oom;
	size_t n;
};

/* @path of setting @setting (as the error names it: "a.b[0].c") against
 * @kind; a problem is reported at its line when the file set it. */
static void check_one(struct file_check *fc, const char *setting, const char *flag,
		      const char *path, enum kind kind)
{
	const char *why = path ? problem(path, kind) : NULL;
	char lookup[256];
	size_t k = 0;

	if (!why)
		return;
	fc->n++;
	if (!fc->have_cfg && fc->c->source) {
		config_init(&fc->cfg);
		fc->have_cfg = config_read_file(&fc->cfg, fc->c->source);
		if (!fc->have_cfg)
			config_destroy(&fc->cfg);
	}
	/* libconfig spells a list index as a path element: "a.b.[0].c" */
	for (const char *p = setting; *p && k + 2 < sizeof(lookup); p++) {
		if (*p == '[')
			lookup[k++] = '.';
		lookup[k++] = *p;
	}
	lookup[k] = '\0';
	const config_setting_t *s = fc->have_cfg ? config_lookup(&fc->cfg, lookup) : NULL;
	const char *v = s ? config_setting_get_string(s) : NULL;
	if (v && !strcmp(v, path))
		add_error(fc->errs, &fc->oom, "%s:%u: %s: cannot use '%s': %s", fc->c->source,
			  config_setting_source_line(s), setting, path, why);
	else
		add_error(fc->errs, &fc->oom, "%s%s%s: cannot use '%s': %s", flag ? flag : "",
			  flag ? " / " : "", setting, path, why);
}

/* The TLS files of a csms { } block at @prefix and of its secondaries. */
static void check_csms_set(struct file_check *fc, const char *prefix,
			   const struct ogw_csms_set_conf *set, bool own_primary)
{
	static const char *const names[] = { "ca", "cert", "key" };
	char setting[160];

	if (!set)
		return;
	for (size_t i = 0; own_primary && i < 3; i++) {
		const char *paths[] = { set->ca, set->cert, set->key };
		snprintf(setting, sizeof(setting), "%s.%s", prefix, names[i]);
		check_one(fc, setting, NULL, paths[i], READ_FILE);
	}
	for (size_t j = 0; j < set->n_secondaries; j++) {
		const struct ogw_csms_conf *cs = &set->secondaries[j];
		const char *paths[] = { cs->ca, cs->cert, cs->key };
		for (size_t i = 0; i < 3; i++) {
			snprintf(setting, sizeof(setting), "%s.secondaries[%zu].%s", prefix, j,
				 names[i]);
			check_one(fc, setting, NULL, paths[i], READ_FILE);
		}
	}
}

int ogw_conf_check_files(const struct ogw_conf *c, struct ogw_conf_errors *errs)
{
	struct file_check fc = { .c = c, .errs = errs };
	char prefix[64];

	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
		const char *path = *(char *const *)((const char *)c + named[i].off);
		if (named[i].gateway_only && c->bridge)
			continue;
		check_one(&fc, named[i].setting, named[i].flag, path, named[i].kind);
	}
	for (size_t i = 0; i < c->n_listeners && !c->bridge; i++) {
		const struct ogw_listener_conf *l = &c->listeners[i];
		const char *const files[] = { l->tls_cert, l->tls_key, l->tls_ca, l->tls_crl };
		const char *const names[] = { "cert", "key", "ca", "crl" };
		char setting[64];
		for (size_t k = 0; k < 4; k++) {
			snprintf(setting, sizeof(setting), "listeners[%zu].tls.%s", i, names[k]);
			check_one(&fc, setting, NULL, files[k], READ_FILE);
		}
	}
	/* the FTP server's program, only when one is to be started */
	if (c->files_ftp_addr && !c->bridge)
		check_one(&fc, "files.ftp.server", NULL, c->files_ftp_server, EXEC_FILE);
	check_csms_set(&fc, "csms", &c->csms_multi, false);
	for (size_t i = 0; i < c->n_groups; i++) {
		snprintf(prefix, sizeof(prefix), "groups[%zu].csms", i);
		check_csms_set(&fc, prefix, c->groups[i].csms, true);
	}
	for (size_t i = 0; i < c->n_chargers; i++) {
		snprintf(prefix, sizeof(prefix), "chargers[%zu].csms", i);
		check_csms_set(&fc, prefix, c->chargers[i].csms, true);
	}
	if (fc.have_cfg)
		config_destroy(&fc.cfg);
	return fc.oom ? -ENOMEM : fc.n ? -EINVAL : 0;
}
