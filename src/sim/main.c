/* SPDX-License-Identifier: MIT */
/*
 * ocppgw-sim: command line, limits and signals, then either the charger
 * fleet (fleet.c, optionally in load mode) or the responder CSMS (csms.c).
 * It only parses and dispatches; the behaviour lives in the other files.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "ocppgw/log.h"
#include "sim.h"

volatile int sim_interrupted;

static const char usage[] =
"Usage: ocppgw-sim --url ws://HOST:PORT/PATH [options]     simulate a charger fleet\n"
"       ocppgw-sim --load --url URL --rate R [options]      measure a CSMS or proxy\n"
"       ocppgw-sim --csms --listen HOST:PORT                 run the responder CSMS\n"
"\n"
"Fleet:\n"
"  --url URL            ws:// or wss:// endpoint; each charger appends /<identity>\n"
"  --count N            chargers (default 1)\n"
"  --mix V:W,...        versions and weights (default 1.6:60,2.0.1:30,2.1:10)\n"
"  --duration S         real seconds to run (default 60; load mode: after the\n"
"                       ramp; responder: until stopped, 0 also means that)\n"
"  --evses E            EVSEs per charger (default 1)\n"
"  --connectors C       connectors per EVSE, 2.x status (default 1)\n"
"  --id-pattern FMT     identity, printf with the 1-based index (default SIM%%05d)\n"
"  --password P         HTTP Basic auth, user = identity\n"
"  --ca FILE            CA bundle for wss://\n"
"  --insecure           accept any server certificate\n"
"  --time-scale X       simulated seconds per real second (default 1)\n"
"  --meter-interval S   simulated seconds between meter values (default 60)\n"
"  --session S          mean session length, simulated s (default 1800)\n"
"  --idle S             mean gap between sessions, simulated s (default 600)\n"
"  --seed N             randomness of session lengths (default 1)\n"
"  --car-amps A         what the car draws per phase without limit (default 32)\n"
"  --phases N           phases used (default 3)\n"
"  --timeout S          answer deadline for each CALL, real s (default 30)\n"
"  --ramp R             connections started per second (default 500; 0 = all)\n"
"Load mode:\n"
"  --load               after the ramp, send Heartbeat, StatusNotification,\n"
"                       MeterValues/TransactionEvent and Authorize at --rate\n"
"  --rate R             messages per second across the fleet (default 100)\n"
"  --json               print the report as one JSON object\n"
"Responder:\n"
"  --csms               answer chargers instead of simulating them\n"
"  --listen HOST:PORT   where (port 0: any free port; the first line printed is\n"
"                       \"listening on HOST:PORT\")\n"
"  Commands: POST /command {\"charger\":ID,\"action\":NAME,\"payload\":{...}} sends\n"
"  a CALL to a connected charger and answers {\"result\":{...}} or\n"
"  {\"error\":{\"code\",\"description\",\"details\"}} (404: not connected,\n"
"  400: payload not valid for its version, 504: no answer in 30 s).\n"
"  GET /chargers lists the connected chargers and their versions.\n"
"Common:\n"
"  -v, --verbose        more log (twice: debug)\n"
"  -q, --quiet          errors only\n"
"  -h, --help\n"
"\n"
"Exit status: 0 when every call succeeded and every frame was schema-valid,\n"
"1 otherwise, 2 on bad usage.\n";

enum opt {
	O_URL = 256, O_COUNT, O_MIX, O_DURATION, O_EVSES, O_CONNECTORS, O_ID_PATTERN,
	O_PASSWORD, O_CA, O_INSECURE, O_TIME_SCALE, O_METER, O_SESSION, O_IDLE, O_SEED,
	O_CAR_AMPS, O_PHASES, O_TIMEOUT, O_LOAD, O_RATE, O_RAMP, O_JSON, O_CSMS, O_LISTEN,
};

static const struct option long_opts[] = {
	{ "url", required_argument, NULL, O_URL },
	{ "count", required_argument, NULL, O_COUNT },
	{ "mix", required_argument, NULL, O_MIX },
	{ "duration", required_argument, NULL, O_DURATION },
	{ "evses", required_argument, NULL, O_EVSES },
	{ "connectors", required_argument, NULL, O_CONNECTORS },
	{ "id-pattern", required_argument, NULL, O_ID_PATTERN },
	{ "password", required_argument, NULL, O_PASSWORD },
	{ "ca", required_argument, NULL, O_CA },
	{ "insecure", no_argument, NULL, O_INSECURE },
	{ "time-scale", required_argument, NULL, O_TIME_SCALE },
	{ "meter-interval", required_argument, NULL, O_METER },
	{ "session", required_argument, NULL, O_SESSION },
	{ "idle", required_argument, NULL, O_IDLE },
	{ "seed", required_argument, NULL, O_SEED },
	{ "car-amps", required_argument, NULL, O_CAR_AMPS },
	{ "phases", required_argument, NULL, O_PHASES },
	{ "timeout", required_argument, NULL, O_TIMEOUT },
	{ "load", no_argument, NULL, O_LOAD },
	{ "rate", required_argument, NULL, O_RATE },
	{ "ramp", required_argument, NULL, O_RAMP },
	{ "json", no_argument, NULL, O_JSON },
	{ "csms", no_argument, NULL, O_CSMS },
	{ "listen", required_argument, NULL, O_LISTEN },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int number(const char *s, double min, double max, double *ret)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(s, &end);
	if (errno || end == s || *end || d < min || d > max)
		return -EINVAL;
	*ret = d;
	return 0;
}

/* "1.6:60,2.0.1:30,2.1:10" */
static int parse_mix(const char *s, unsigned int mix[OGW_OCPP_COUNT])
{
	char buf[128], *save = NULL, *tok;
	unsigned int total = 0;

	if (snprintf(buf, sizeof(buf), "%s", s) >= (int)sizeof(buf))
		return -EINVAL;
	memset(mix, 0, sizeof(unsigned int) * OGW_OCPP_COUNT);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(tok, ':');
		enum ogw_ocpp v;
		double w = 1;

		if (colon)
			*colon = '\0';
		if (ogw_ocpp_parse(tok, &v) < 0 || (colon && number(colon + 1, 0, 1e6, &w) < 0))
			return -EINVAL;
		mix[v] = (unsigned int)w;
		total += mix[v];
	}
	return total ? 0 : -EINVAL;
}

/* Format must take exactly one integer conversion. */
static bool good_pattern(const char *p)
{
	int convs = 0;

	for (const char *s = p; *s; s++) {
		if (*s != '%')
			continue;
		if (s[1] == '%') {
			s++;
			continue;
		}
		s += strspn(s + 1, "0123456789-+ ") + 1;
		if (*s != 'd' && *s != 'u')
			return false;
		convs++;
	}
	return convs == 1;
}

unsigned int sim_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 1024;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur > 1000000 ? 1000000 : (unsigned int)rl.rlim_cur;
}

/* Signals lws on libuv catches itself arrive here, on the loop thread. */
void sim_on_loop_signal(int sig)
{
	(void)sig;
	sim_interrupted = 1;
}

static void on_signal(int sig)
{
	(void)sig;
	sim_interrupted = 1;
}

static int parse(int argc, char **argv, struct sim_opts *o)
{
	double d;
	int c;

	while ((c = getopt_long(argc, argv, "vqh", long_opts, NULL)) != -1) {
		int r = 0;

		switch (c) {
		case O_URL: o->url = optarg; break;
		case O_COUNT: r = number(optarg, 1, 200000, &d); o->count = (unsigned int)d; break;
		case O_MIX: r = parse_mix(optarg, o->mix); break;
		case O_DURATION: r = number(optarg, 0, 1e7, &o->duration); break;
		case O_EVSES: r = number(optarg, 1, 64, &d); o->evses = (unsigned int)d; break;
		case O_CONNECTORS: r = number(optarg, 1, 8, &d); o->connectors = (unsigned int)d; break;
		case O_ID_PATTERN: o->id_pattern = optarg; r = good_pattern(optarg) ? 0 : -EINVAL; break;
		case O_PASSWORD: o->password = optarg; break;
		case O_CA: o->ca = optarg; break;
		case O_INSECURE: o->insecure = true; break;
		case O_TIME_SCALE: r = number(optarg, 0.001, 1e6, &o->time_scale); break;
		case O_METER: r = number(optarg, 1, 1e6, &o->meter_interval); break;
		case O_SESSION: r = number(optarg, 1, 1e7, &o->session); break;
		case O_IDLE: r = number(optarg, 0, 1e7, &o->idle); break;
		case O_SEED: r = number(optarg, 0, 4e9, &d); o->seed = (unsigned int)d; break;
		case O_CAR_AMPS: r = number(optarg, 0, 1000, &o->car_amps); break;
		case O_PHASES: r = number(optarg, 1, 3, &d); o->phases = (unsigned int)d; break;
		case O_TIMEOUT: r = number(optarg, 0.1, 3600, &o->timeout); break;
		case O_LOAD: o->load = true; break;
		case O_RATE: r = number(optarg, 0, 1e7, &o->rate); break;
		case O_RAMP: r = number(optarg, 0, 1e6, &o->ramp); break;
		case O_JSON: o->json = true; break;
		case O_CSMS: o->csms = true; break;
		case O_LISTEN: o->listen = optarg; break;
		case 'v': o->verbose++; break;
		case 'q': o->verbose = -1; break;
		case 'h': fputs(usage, stdout); exit(0);
		default: return -EINVAL;
		}
		if (r < 0) {
			fprintf(stderr, "Bad value for --%s: %s\n", long_opts[c - O_URL].name, optarg);
			return r;
		}
	}
	if (optind < argc || (o->csms && !o->listen) || (!o->csms && !o->url)) {
		fputs(usage, stderr);
		return -EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sim_opts o = {
		.count = 1, .mix = { 60, 30, 10 }, .duration = -1, .evses = 1, .connectors = 1,
		.id_pattern = "SIM%05d", .time_scale = 1, .meter_interval = 60, .session = 1800,
		.idle = 600, .seed = 1, .car_amps = 32, .phases = 3, .timeout = 30, .rate = 100,
		.ramp = 500,
	};
	struct sigaction sa = { .sa_handler = on_signal };
	int r;

	if (parse(argc, argv, &o) < 0)
		return 2;
	/* A fleet runs 60 s unless told; a responder until it is stopped. */
	if (o.duration < 0)
		o.duration = o.csms ? 0 : 60;
	ogw_log_setup(o.verbose < 0 ? OGW_LOG_ERR : o.verbose == 0 ? OGW_LOG_WARN :
		      o.verbose == 1 ? OGW_LOG_INFO : OGW_LOG_DEBUG, false);
	lws_set_log_level(o.verbose >= 2 ? LLL_ERR | LLL_WARN | LLL_NOTICE : LLL_ERR, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sim_fd_limit();
	r = sim_wire_init();
	if (r < 0)
		return 1;
	r = o.csms ? sim_csms_run(&o) : sim_fleet_run(&o);
	sim_wire_fini();
	return r == 0 ? 0 : 1;
}
