/* SPDX-License-Identifier: MIT */
/*
 * `ocppgw sessions`: the transactions the gateway recorded, from the store
 * under the configured data directory, as CSV or JSON. It opens the store
 * like the gateway does (WAL, busy timeout), so it works while the gateway
 * runs; it never creates a store that is not there.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "commands.h"
#include "ocppgw/config.h"
#include "ocppgw/store.h"
#include "ocppgw/util.h"

#define SESSIONS_LIMIT_MAX 10000000

static void sessions_usage(FILE *f)
{
	fputs("Usage: ocppgw sessions [OPTIONS]\n"
	      "List the charging sessions (transactions) the gateway recorded, newest first.\n"
	      "\n"
	      "  -c, --config FILE      read data_dir from this config file\n"
	      "      --data-dir DIR     the store's directory (overrides the file;\n"
	      "                         default /var/lib/ocppgw)\n"
	      "      --format csv|json  output format (default csv)\n"
	      "      --charger ID       only this charger's sessions\n"
	      "      --open             only sessions still running\n"
	      "      --limit N          at most N sessions (default: all)\n"
	      "  -h, --help             this text\n"
	      "\n"
	      "Columns: charger, tx_id, evse, connector, id_tag, started, stopped (RFC 3339,\n"
	      "UTC; empty while open), energy_kwh (last meter reading - first), stop_reason,\n"
	      "offline (true: started while the CSMS was unreachable).\n",
	      f);
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Exit status 2 with "ocppgw sessions: <message>" and a pointer to --help. */
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("ocppgw sessions: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'ocppgw sessions --help'.\n", stderr);
	return 2;
}

/* RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled. */
static void csv_field(FILE *out, const char *s, bool last)
{
	if (s && strpbrk(s, ",\"\r\n")) {
		fputc('"', out);
		for (const char *p = s; *p; p++) {
			if (*p == '"')
				fputc('"', out);
			fputc(*p, out);
		}
		fputc('"', out);
	} else if (s) {
		fputs(s, out);
	}
	fputc(last ? '\n' : ',', out);
}

/* A store row (see ogw_store_tx_list) as the command shows it: times as
 * RFC 3339 (null when unknown or open), energy in kWh. */
static json_t *session_of(const json_t *row)
{
	char started[32] = "", stopped[32] = "";
	json_int_t t0 = json_integer_value(json_object_get(row, "started"));
	json_int_t t1 = json_integer_value(json_object_get(row, "stopped"));
	const json_t *wh = json_object_get(row, "energy_wh");

	if (t0)
		ogw_time_format_rfc3339(t0, started);
	if (t1)
		ogw_time_format_rfc3339(t1, stopped);
	return json_pack("{s:O, s:O, s:O, s:O, s:O, s:o, s:o, s:o, s:O, s:O}",
			 "charger", json_object_get(row, "charger"),
			 "tx_id", json_object_get(row, "tx_id"),
			 "evse", json_object_get(row, "evse"),
			 "connector", json_object_get(row, "connector"),
			 "id_tag", json_object_get(row, "id_tag"),
			 "started", t0 ? json_string(started) : json_null(),
			 "stopped", t1 ? json_string(stopped) : json_null(),
			 "energy_kwh", json_is_number(wh) ? json_real(json_number_value(wh) / 1000)
							  : json_null(),
			 "stop_reason", json_object_get(row, "stop_reason"),
			 "offline", json_object_get(row, "offline"));
}

static const char *const csv_columns[] = {
	"charger", "tx_id", "evse", "connector", "id_tag", "started", "stopped", "energy_kwh",
	"stop_reason", "offline",
};
#define N_COLUMNS (sizeof(csv_columns) / sizeof(csv_columns[0]))

static void print_csv(FILE *out, const json_t *sessions)
{
	const json_t *s;
	size_t i;

	for (size_t c = 0; c < N_COLUMNS; c++)
		csv_field(out, csv_columns[c], c + 1 == N_COLUMNS);
	json_array_foreach(sessions, i, s) {
		for (size_t c = 0; c < N_COLUMNS; c++) {
			const json_t *v = json_object_get(s, csv_columns[c]);
			char num[32];
			const char *text = json_string_value(v);
			if (json_is_integer(v))
				snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
			else if (json_is_real(v))
				snprintf(num, sizeof(num), "%.3f", json_real_value(v));
			else if (json_is_boolean(v))
				snprintf(num, sizeof(num), "%s", json_is_true(v) ? "true" : "false");
			if (json_is_number(v) || json_is_boolean(v))
				text = num;
			csv_field(out, text, c + 1 == N_COLUMNS);
		}
	}
}

/* Defaults, then the config file, then --data-dir. */
static int sessions_data_dir(const char *config_path, const char *data_dir, char **ret)
{
	struct ogw_conf conf;
	struct ogw_conf_errors errs = { 0 };
	int r = 0;

	ogw_conf_defaults(&conf);
	if (config_path && ogw_conf_load_file(&conf, config_path, &errs) < 0) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
		r = -EINVAL;
	}
	if (r == 0)
		*ret = strdup(data_dir ? data_dir : conf.data_dir);
	if (r == 0 && !*ret)
		r = -ENOMEM;
	ogw_conf_errors_clear(&errs);
	ogw_conf_clear(&conf);
	return r;
}

int ogw_cmd_sessions(int argc, char **argv)
{
	enum { OPT_DATA_DIR = 256, OPT_FORMAT, OPT_CHARGER, OPT_OPEN, OPT_LIMIT };
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "data-dir", required_argument, NULL, OPT_DATA_DIR },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "charger", required_argument, NULL, OPT_CHARGER },
		{ "open", no_argument, NULL, OPT_OPEN },
		{ "limit", required_argument, NULL, OPT_LIMIT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = NULL, *data_dir = NULL, *charger = NULL;
	bool json = false, open_only = false;
	long limit = 0;
	char *end, *dir = NULL, *path = NULL, err[512] = "";
	struct ogw_store *st = NULL;
	json_t *rows = NULL, *sessions = NULL;
	int c, status;

	/* getopt's own messages name argv[0] */
	static char name[] = "ocppgw sessions";
	argv[0] = name;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config_path = optarg; break;
		case OPT_DATA_DIR:
			if (!*optarg)
				return usage_error("--data-dir: must not be empty");
			data_dir = optarg;
			break;
		case OPT_FORMAT:
			if (strcmp(optarg, "csv") != 0 && strcmp(optarg, "json") != 0)
				return usage_error("--format: expected csv or json, got '%s'", optarg);
			json = strcmp(optarg, "json") == 0;
			break;
		case OPT_CHARGER:
			if (!*optarg)
				return usage_error("--charger: must not be empty");
			charger = optarg;
			break;
		case OPT_OPEN: open_only = true; break;
		case OPT_LIMIT:
			errno = 0;
			limit = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || limit < 1 || limit > SESSIONS_LIMIT_MAX)
				return usage_error("--limit: expected a whole number from 1 to 10000000, "
						   "got '%s'", optarg);
			break;
		case 'h': sessions_usage(stdout); return 0;
		default: fputs("Try 'ocppgw sessions --help'.\n", stderr); return 2;
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);

	if (sessions_data_dir(config_path, data_dir, &dir) < 0)
		return 2;
	status = 1;
	if (asprintf(&path, "%s/ocppgw.db", dir) < 0) {
		path = NULL;
		goto out;
	}
	/* ogw_store_open would create it: a mistyped directory is not an empty list */
	if (access(path, F_OK) < 0) {
		fprintf(stderr, "ocppgw sessions: %s: %s (is the data directory right?)\n", path,
			strerror(errno));
		goto out;
	}
	if (ogw_store_open(dir, &st, err, sizeof(err)) < 0) {
		fprintf(stderr, "ocppgw sessions: %s\n", err);
		goto out;
	}
	rows = ogw_store_tx_list(st, charger, open_only, (int)limit);
	sessions = json_array();
	if (!rows || !sessions) {
		fprintf(stderr, "ocppgw sessions: %s: Failed to read the transactions\n", path);
		goto out;
	}
	size_t i;
	const json_t *row;
	json_array_foreach(rows, i, row)
		json_array_append_new(sessions, session_of(row));
	if (json) {
		json_dumpf(sessions, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
		fputc('\n', stdout);
	} else {
		print_csv(stdout, sessions);
	}
	status = fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
	if (status)
		fprintf(stderr, "ocppgw sessions: Failed to write the output: %s\n", strerror(errno));
out:
	json_decref(sessions);
	json_decref(rows);
	ogw_store_close(st);
	free(path);
	free(dir);
	return status;
}
