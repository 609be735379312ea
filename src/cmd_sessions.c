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
#include "ocppgw/local.h"
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
	      "      --from DATE        only sessions started at or after DATE\n"
	      "      --to DATE          only sessions started before DATE (DATE: 2026-12-04,\n"
	      "                         UTC midnight, or an RFC 3339 time)\n"
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
	enum { OPT_DATA_DIR = 256, OPT_FORMAT, OPT_CHARGER, OPT_OPEN, OPT_LIMIT, OPT_FROM, OPT_TO };
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "data-dir", required_argument, NULL, OPT_DATA_DIR },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "charger", required_argument, NULL, OPT_CHARGER },
		{ "open", no_argument, NULL, OPT_OPEN },
		{ "limit", required_argument, NULL, OPT_LIMIT },
		{ "from", required_argument, NULL, OPT_FROM },
		{ "to", required_argument, NULL, OPT_TO },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = NULL, *data_dir = NULL, *charger = NULL;
	bool json = false, open_only = false;
	long limit = 0;
	int64_t from = 0, to = 0;
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
		case OPT_FROM:
		case OPT_TO:
			if (ogw_sessions_parse_time(optarg, c == OPT_FROM ? &from : &to) < 0)
				return usage_error("--%s: expected a date (2026-12-04) or an RFC 3339 "
						   "time, got '%s'", c == OPT_FROM ? "from" : "to",
						   optarg);
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
	rows = ogw_store_tx_list_between(st, charger, open_only, from, to, (int)limit);
	sessions = rows ? ogw_sessions_view(rows) : NULL;
	if (!sessions) {
		fprintf(stderr, "ocppgw sessions: %s: Failed to read the transactions\n", path);
		goto out;
	}
	if (json) {
		json_dumpf(sessions, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
		fputc('\n', stdout);
	} else {
		size_t len = 0;
		char *csv = ogw_sessions_csv(sessions, &len);
		if (!csv) {
			fprintf(stderr, "ocppgw sessions: Failed to write the output: out of memory\n");
			goto out;
		}
		fwrite(csv, 1, len, stdout);
		free(csv);
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
