/* SPDX-License-Identifier: MIT */
/*
 * ocppgw's command line: the daemon (configuration from defaults, an
 * optional file and flags, in that order), `ocppgw bridge` (the MQTT to
 * WebSocket cloud bridge, the same configuration with mode = "bridge"),
 * `ocppgw validate` for captures, `ocppgw passwd` for charger password
 * hashes and `ocppgw sessions` for the recorded transactions. It only
 * parses and dispatches; the gateway itself lives in src/gateway/, the
 * bridge in src/bridge/.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "ocppgw/auth.h"
#include "ocppgw/bridge.h"
#include "ocppgw/config.h"
#include "ocppgw/gateway.h"
#include "ocppgw/json.h"
#include "ocppgw/log.h"
#include "ocppgw/schema.h"
#include "ocppgw/util.h"

/* Flags that override the file; NULL or negative means "not given". */
struct cli {
	const char *config_path;
	bool check_config;
	const char *listen;
	const char *admin;
	const char *csms;
	bool bridge;              /* `ocppgw bridge` */
	const char *mqtt;
	const char *share;
	const char *path_prefix;
	const char *schema_dir;
	const char *data_dir;
	const char *upstream_ocpp;
	double response_timeout;
	long max_frame_size;
	long max_pending_calls;
	bool log_json;
	int verbosity; /* -1 quiet, 0 as configured, 1 debug */
};

static void usage(FILE *f)
{
	fputs("Usage: ocppgw [OPTIONS]                 run the gateway\n"
	      "       ocppgw bridge --mqtt URL --csms URL [--share GROUP] [OPTIONS]\n"
	      "                                         run the MQTT to WebSocket cloud bridge\n"
	      "       ocppgw validate --ocpp VERSION [--schema-dir DIR] [FILE]\n"
	      "                                         check a capture, one frame per line\n"
	      "       ocppgw passwd                      hash a charger password read from stdin\n"
	      "       ocppgw sessions [--format csv|json] [--charger ID] [--open] [--limit N]\n"
	      "                                         list recorded sessions (see --help)\n"
	      "\n"
	      "Options (each overrides the config file):\n"
	      "  -c, --config FILE          libconfig file (see conf/ocppgw.conf)\n"
	      "      --check-config         check the configuration, print file:line errors\n"
	      "      --listen ADDR:PORT     where chargers connect (default 0.0.0.0:9000)\n"
	      "      --admin ADDR:PORT      admin API, metrics, status page (default\n"
	      "                             127.0.0.1:8080; \"\" for none)\n"
	      "      --csms URL             upstream CSMS, ws://host[:port]/path or wss://...,\n"
	      "                             or an MQTT broker, mqtt(s)://host[:port]/SITE\n"
	      "      --mqtt URL             bridge: the broker, mqtt(s)://host[:port]/SITE (+: all)\n"
	      "      --share GROUP          bridge: share the load with other bridges of GROUP\n"
	      "      --path-prefix PATH     URL prefix before the charger id (default /ocpp)\n"
	      "      --schema-dir DIR       load schemas from DIR/1.6, DIR/2.0.1, DIR/2.1\n"
	      "      --data-dir DIR         where the durable store lives (default /var/lib/ocppgw)\n"
	      "      --upstream-ocpp V      speak OCPP V (1.6, 2.0.1, 2.1) to the CSMS for every\n"
	      "                             charger; default: each charger's own version\n"
	      "      --response-timeout S   seconds to wait for an answer (default 30)\n"
	      "      --max-frame-size N     largest accepted message in bytes (default 65536)\n"
	      "      --max-pending-calls N  calls queued per leg and direction (default 16)\n"
	      "      --log-json             JSON lines instead of text\n"
	      "  -v, --verbose              debug logging (one line per frame)\n"
	      "  -q, --quiet                warnings and errors only\n"
	      "      --version              print the version\n"
	      "  -h, --help                 this text\n",
	      f);
}

static char *dup_or_die(const char *s)
{
	char *d = strdup(s);
	if (!d) {
		fputs("ocppgw: out of memory\n", stderr);
		exit(1);
	}
	return d;
}

static void replace(char **field, const char *value)
{
	free(*field);
	*field = value && *value ? dup_or_die(value) : NULL;
}

static void add_error(struct ogw_conf_errors *errs, const char *fmt, const char *arg)
{
	char **n = realloc(errs->msgs, (errs->n + 1) * sizeof(*n));
	if (!n)
		return;
	errs->msgs = n;
	if (asprintf(&errs->msgs[errs->n], fmt, arg) >= 0)
		errs->n++;
}

/* A flag's ADDR:PORT over the configured address; "" (when allowed) for none.
 * @error_fmt: the message for a bad value, with one %s for it. */
static int override_address(struct ogw_conf_errors *errs, const char *error_fmt, const char *value,
			    bool may_be_empty, char **addr_slot, int *port_slot)
{
	char *addr = NULL;
	int port = 0;
	if ((*value || !may_be_empty) && ogw_conf_parse_listen(value, &addr, &port) < 0) {
		add_error(errs, error_fmt, value);
		return -EINVAL;
	}
	free(*addr_slot);
	*addr_slot = addr;
	*port_slot = port;
	return 0;
}

/* Defaults, then the file, then the flags, then the cross-field checks. */
static int build_conf(const struct cli *cli, struct ogw_conf *ret, struct ogw_conf_errors *errs)
{
	int r = 0;
	ogw_conf_defaults(ret);
	if (cli->config_path && ogw_conf_load_file(ret, cli->config_path, errs) < 0)
		r = -EINVAL;
	if (cli->listen && override_address(errs, "--listen: expected ADDR:PORT, got '%s'",
					    cli->listen, false, &ret->listen_addr,
					    &ret->listen_port) < 0)
		r = -EINVAL;
	if (cli->admin && override_address(errs, "--admin: expected ADDR:PORT or \"\", got '%s'",
					   cli->admin, true, &ret->admin_addr, &ret->admin_port) < 0)
		r = -EINVAL;
	if (cli->csms)
		replace(&ret->csms_url, cli->csms);
	if (cli->bridge)
		ret->bridge = true;
	if (cli->mqtt)
		replace(&ret->mqtt_url, cli->mqtt);
	if (cli->share)
		replace(&ret->mqtt_share, cli->share);
	if (cli->path_prefix)
		replace(&ret->path_prefix, cli->path_prefix);
	if (cli->schema_dir)
		replace(&ret->schema_dir, cli->schema_dir);
	if (cli->data_dir)
		replace(&ret->data_dir, cli->data_dir);
	if (cli->upstream_ocpp) {
		enum ogw_ocpp v;
		if (ogw_ocpp_parse(cli->upstream_ocpp, &v) < 0) {
			add_error(errs, "--upstream-ocpp: expected 1.6, 2.0.1 or 2.1, got '%s'",
				  cli->upstream_ocpp);
			r = -EINVAL;
		} else {
			ret->upstream_ocpp = (int)v;
		}
	}
	if (cli->response_timeout > 0)
		ret->response_timeout_ms = (int)(cli->response_timeout * 1000 + 0.5);
	if (cli->max_frame_size > 0)
		ret->max_frame_size = (size_t)cli->max_frame_size;
	if (cli->max_pending_calls > 0)
		ret->max_pending_calls = (int)cli->max_pending_calls;
	if (cli->log_json)
		ret->log_json = true;
	if (cli->verbosity > 0)
		ret->log_level = OGW_LOG_DEBUG;
	else if (cli->verbosity < 0)
		ret->log_level = OGW_LOG_WARN;
	if (ogw_conf_check(ret, errs) < 0)
		r = -EINVAL;
	if (ogw_conf_check_files(ret, errs) < 0)
		r = -EINVAL;
	return r;
}

static void print_errors(const struct ogw_conf_errors *errs)
{
	for (size_t i = 0; i < errs->n; i++)
		fprintf(stderr, "%s\n", errs->msgs[i]);
}

static int reload_conf(struct ogw_conf *ret, void *arg)
{
	struct ogw_conf_errors errs = { 0 };
	int r = build_conf(arg, ret, &errs);
	for (size_t i = 0; i < errs.n; i++)
		ogw_err(NULL, "%s", errs.msgs[i]);
	ogw_conf_errors_clear(&errs);
	if (r < 0)
		ogw_conf_clear(ret);
	return r;
}

static long parse_long(const char *opt, const char *s, long min, long max)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < min || v > max) {
		fprintf(stderr, "ocppgw: %s: expected a whole number from %ld to %ld\n", opt, min, max);
		exit(2);
	}
	return v;
}

/* Seconds as ocpp.response_timeout takes them: fractions too. */
static double parse_seconds(const char *opt, const char *s, double max)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || *end || end == s || !(v > 0 && v <= max) || v * 1000 < 1) {
		fprintf(stderr, "ocppgw: %s: expected seconds, more than 0 (at least 0.001) and at "
			"most %.0f, fractions allowed (e.g. 2.5)\n", opt, max);
		exit(2);
	}
	return v;
}

static int cmd_validate(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ocpp", required_argument, NULL, 'o' },
		{ "schema-dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *ver = NULL, *dir = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'o': ver = optarg; break;
		case 'd': dir = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	enum ogw_ocpp v;
	if (!ver || ogw_ocpp_parse(ver, &v) < 0) {
		fputs("ocppgw validate: --ocpp 1.6|2.0.1|2.1 is required\n", stderr);
		return 2;
	}
	if (argc - optind > 1) {
		fputs("ocppgw validate: at most one capture file\n", stderr);
		return 2;
	}
	struct ogw_schema_set *set = NULL;
	char err[512] = "";
	int r;
	if (dir)
		r = ogw_schema_set_load_dir(dir, &set, err, sizeof(err));
	else
		r = ogw_schema_set_load_builtin(v, &set, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "ocppgw validate: %s\n", err);
		return 2;
	}
	const char *name = optind < argc ? argv[optind] : "-";
	FILE *in = strcmp(name, "-") ? fopen(name, "r") : stdin;
	if (!in) {
		fprintf(stderr, "ocppgw validate: %s: %s\n", name, strerror(errno));
		ogw_schema_set_free(set);
		return 2;
	}
	r = ogw_schema_check_capture(set, v, in, name, stdout);
	if (in != stdin)
		fclose(in);
	ogw_schema_set_free(set);
	return r;
}

static int cmd_passwd(void)
{
	char buf[1024];
	if (isatty(STDIN_FILENO))
		fputs("Password: ", stderr);
	if (!fgets(buf, sizeof(buf), stdin)) {
		fputs("ocppgw passwd: no password on standard input\n", stderr);
		return 2;
	}
	size_t n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	if (!n) {
		fputs("ocppgw passwd: empty password\n", stderr);
		return 2;
	}
	char *hash = ogw_auth_hash(buf, n);
	ogw_memzero(buf, sizeof(buf));
	if (!hash) {
		fputs("ocppgw passwd: hashing failed\n", stderr);
		return 1;
	}
	printf("%s\n", hash);
	free(hash);
	return 0;
}

enum {
	OPT_CHECK = 256, OPT_LISTEN, OPT_CSMS, OPT_PREFIX, OPT_SCHEMA_DIR, OPT_TIMEOUT,
	OPT_FRAME, OPT_PENDING, OPT_JSON, OPT_VERSION, OPT_DATA_DIR, OPT_UPSTREAM, OPT_ADMIN,
	OPT_MQTT, OPT_SHARE,
};

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, OPT_CHECK },
		{ "listen", required_argument, NULL, OPT_LISTEN },
		{ "admin", required_argument, NULL, OPT_ADMIN },
		{ "csms", required_argument, NULL, OPT_CSMS },
		{ "mqtt", required_argument, NULL, OPT_MQTT },
		{ "share", required_argument, NULL, OPT_SHARE },
		{ "path-prefix", required_argument, NULL, OPT_PREFIX },
		{ "schema-dir", required_argument, NULL, OPT_SCHEMA_DIR },
		{ "data-dir", required_argument, NULL, OPT_DATA_DIR },
		{ "upstream-ocpp", required_argument, NULL, OPT_UPSTREAM },
		{ "response-timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "max-frame-size", required_argument, NULL, OPT_FRAME },
		{ "max-pending-calls", required_argument, NULL, OPT_PENDING },
		{ "log-json", no_argument, NULL, OPT_JSON },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct cli cli;
	int c;

	/* jansson's small blocks from a pool (src/json/alloc.c), before any
	 * thread starts */
	ogw_json_pool_start();
	if (argc > 1 && !strcmp(argv[1], "validate"))
		return cmd_validate(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "passwd"))
		return cmd_passwd();
	if (argc > 1 && !strcmp(argv[1], "sessions"))
		return ogw_cmd_sessions(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "bridge")) {
		cli.bridge = true;
		argc--;
		argv++;
	}

	while ((c = getopt_long(argc, argv, "c:vqh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': cli.config_path = optarg; break;
		case OPT_CHECK: cli.check_config = true; break;
		case OPT_LISTEN: cli.listen = optarg; break;
		case OPT_ADMIN: cli.admin = optarg; break;
		case OPT_CSMS: cli.csms = optarg; break;
		case OPT_MQTT: cli.mqtt = optarg; break;
		case OPT_SHARE: cli.share = optarg; break;
		case OPT_PREFIX: cli.path_prefix = optarg; break;
		case OPT_SCHEMA_DIR: cli.schema_dir = optarg; break;
		case OPT_DATA_DIR: cli.data_dir = optarg; break;
		case OPT_UPSTREAM: cli.upstream_ocpp = optarg; break;
		case OPT_TIMEOUT:
			cli.response_timeout = parse_seconds("--response-timeout", optarg, 3600);
			break;
		case OPT_FRAME:
			cli.max_frame_size = parse_long("--max-frame-size", optarg, 1024, 16 << 20);
			break;
		case OPT_PENDING:
			cli.max_pending_calls = parse_long("--max-pending-calls", optarg, 1, 1024);
			break;
		case OPT_JSON: cli.log_json = true; break;
		case 'v': cli.verbosity = 1; break;
		case 'q': cli.verbosity = -1; break;
		case OPT_VERSION: printf("ocppgw %s\n", OGW_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ocppgw: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}

	struct ogw_conf conf;
	struct ogw_conf_errors errs = { 0 };
	int r = build_conf(&cli, &conf, &errs);
	print_errors(&errs);
	ogw_conf_errors_clear(&errs);
	if (cli.check_config) {
		if (r == 0)
			printf("%s: configuration OK\n", cli.config_path ? cli.config_path : "ocppgw");
		ogw_conf_clear(&conf);
		return r < 0 ? 2 : 0;
	}
	if (r < 0) {
		ogw_conf_clear(&conf);
		return 2;
	}

	ogw_log_setup(conf.log_level, conf.log_json);
	if (conf.bridge) {
		ogw_info(NULL, "ocppgw %s bridge starting", OGW_VERSION);
		return ogw_bridge_run(&conf);
	}
	ogw_info(NULL, "ocppgw %s starting", OGW_VERSION);
	struct ogw_gateway *gw = NULL;
	r = ogw_gateway_new(&conf, reload_conf, &cli, &gw);
	ogw_conf_clear(&conf);
	if (r < 0)
		return 1;
	int status = ogw_gateway_run(gw);
	ogw_gateway_free(gw);
	return status;
}
