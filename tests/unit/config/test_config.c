/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the config loader: defaults, the shipped example, a full
 * valid file, and every kind of error with its exact "file:line: message".
 * Small cases are written to a temporary file next to their expectations;
 * larger ones live in tests/fixtures/config.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "ocppgw/auth.h"
#include "ocppgw/config.h"
#include "helpers.h"

/* One setting, one error on line @line. */
static void expect_one_error(const char *text, const char *want)
{
	struct loaded l;

	load_text(&l, text);
	cr_expect_eq(l.rc, -EINVAL, "for: %s", text);
	expect_errors(&l.errs, l.path, &want, 1);
	loaded_free(&l);
}

static void expect_ok(const char *text, struct loaded *l)
{
	load_text(l, text);
	for (size_t i = 0; i < l->errs.n; i++)
		cr_log_error("%s", l->errs.msgs[i]);
	cr_assert_eq(l->rc, 0, "for: %s", text);
	cr_assert_eq(l->errs.n, 0);
}

/* @text loads, and ogw_conf_check() finds exactly the @n errors @want. */
static void expect_check_errors(const char *text, const char *const *want, size_t n)
{
	struct loaded l;

	expect_ok(text, &l);
	cr_assert_eq(ogw_conf_check(&l.conf, &l.errs), -EINVAL);
	expect_errors(&l.errs, l.path, want, n);
	loaded_free(&l);
}

static void assert_defaults(const struct ogw_conf *c)
{
	cr_assert_str_eq(c->listen_addr, "0.0.0.0");
	cr_assert_eq(c->listen_port, 9000);
	cr_assert_str_eq(c->path_prefix, "/ocpp");
	cr_assert_null(c->tls_cert);
	cr_assert_null(c->tls_key);
	cr_assert_null(c->tls_ca);
	cr_assert_not(c->tls_require_client_cert);
	cr_assert_eq(c->tls_floor.min_version, OGW_TLS_1_2);
	cr_assert_str_eq(c->tls_floor.ciphers, ogw_tls_default_ciphers());
	cr_assert_eq(c->csms_tls_floor.min_version, OGW_TLS_1_2);
	cr_assert_str_eq(c->csms_tls_floor.ciphers, ogw_tls_default_ciphers());
	cr_assert_not(c->require_auth);
	cr_assert_null(c->csms_url);
	cr_assert_null(c->csms_ca);
	cr_assert_null(c->csms_cert);
	cr_assert_null(c->csms_key);
	cr_assert_not(c->csms_pass_credentials);
	cr_assert_eq(c->ping_interval_s, 30);
	cr_assert_eq(c->reconnect_min_ms, 1000);
	cr_assert_eq(c->reconnect_max_ms, 60000);
	cr_assert_eq(c->response_timeout_ms, 30000);
	cr_assert_eq(c->max_frame_size, 65536);
	cr_assert_eq(c->max_pending_calls, 16);
	cr_assert_eq(c->store_max_events, 20000);
	cr_assert_eq(c->history_interval_s, 10);
	cr_assert_null(c->schema_dir);
	cr_assert_eq(c->log_level, OGW_LOG_INFO);
	cr_assert_not(c->log_json);
	cr_assert_eq(c->n_chargers, 0);
	cr_assert_null(c->chargers);
	cr_assert_str_eq(c->data_dir, "/var/lib/ocppgw");
	cr_assert_eq(c->upstream_ocpp, -1);
	cr_assert_eq(c->n_groups, 0);
	cr_assert_null(c->groups);
	cr_assert_eq(c->offline_heartbeat_s, 300);
	cr_assert_not(c->offline_accept_unknown);
	cr_assert_not(c->offline_queue_all);
	cr_assert_eq(c->offline_attempts, 3);
	cr_assert_eq(c->offline_retry_s, 60);
	cr_assert(c->offline_stop_invalid);
	cr_assert_eq(c->offline_cache_max, 10000);
	cr_assert_eq(c->n_local_list, 0);
	cr_assert_null(c->local_list);
}

Test(config, defaults)
{
	struct ogw_conf c;
	struct ogw_conf_errors errs = { 0 };

	ogw_conf_defaults(&c);
	assert_defaults(&c);
	cr_assert_null(c.source);
	cr_assert_eq(ogw_conf_check(&c, &errs), 0);
	cr_assert_eq(errs.n, 0);
	ogw_conf_clear(&c);
	cr_assert_null(c.listen_addr);
}

Test(config, shipped_example_loads_cleanly)
{
	struct loaded l;

	load_fixture(&l, SHIPPED_CONF);
	for (size_t i = 0; i < l.errs.n; i++)
		cr_log_error("%s", l.errs.msgs[i]);
	cr_assert_eq(l.rc, 0);
	cr_assert_eq(l.errs.n, 0);
	cr_assert_eq(ogw_conf_check(&l.conf, &l.errs), 0);
	assert_defaults(&l.conf);
	cr_assert_str_eq(l.conf.source, SHIPPED_CONF);
	loaded_free(&l);
}

Test(config, full_valid_file)
{
	struct loaded l;
	const struct ogw_charger_conf *ch;

	load_fixture(&l, FIXTURES "/full.conf");
	for (size_t i = 0; i < l.errs.n; i++)
		cr_log_error("%s", l.errs.msgs[i]);
	cr_assert_eq(l.rc, 0);
	cr_assert_eq(ogw_conf_check(&l.conf, &l.errs), 0);
	cr_assert_eq(l.errs.n, 0);

	cr_assert_str_eq(l.conf.listen_addr, "::1");
	cr_assert_eq(l.conf.listen_port, 9443);
	cr_assert_str_eq(l.conf.path_prefix, "/steve/websocket/CentralSystemService");
	cr_assert(l.conf.require_auth);
	cr_assert_str_eq(l.conf.tls_cert, "/etc/ocppgw/server.pem");
	cr_assert_str_eq(l.conf.tls_key, "/etc/ocppgw/server.key");
	cr_assert_str_eq(l.conf.tls_ca, "/etc/ocppgw/chargers-ca.pem");
	cr_assert(l.conf.tls_require_client_cert);
	cr_assert_str_eq(l.conf.csms_url, "wss://csms.example.com/ocpp");
	cr_assert_str_eq(l.conf.csms_ca, "/etc/ssl/csms-ca.pem");
	cr_assert_str_eq(l.conf.csms_cert, "/etc/ocppgw/client.pem");
	cr_assert_str_eq(l.conf.csms_key, "/etc/ocppgw/client.key");
	cr_assert(l.conf.csms_pass_credentials);
	cr_assert_eq(l.conf.ping_interval_s, 0);
	cr_assert_eq(l.conf.reconnect_min_ms, 2000);
	cr_assert_eq(l.conf.reconnect_max_ms, 120500);
	cr_assert_eq(l.conf.response_timeout_ms, 12500);
	cr_assert_eq(l.conf.max_frame_size, 1048576);
	cr_assert_eq(l.conf.max_pending_calls, 4);
	cr_assert_str_eq(l.conf.schema_dir, "/usr/share/ocppgw/schemas");
	cr_assert_eq(l.conf.log_level, OGW_LOG_DEBUG);
	cr_assert(l.conf.log_json);
	cr_assert_str_eq(l.conf.source, FIXTURES "/full.conf");
	cr_assert_str_eq(l.conf.data_dir, "/srv/ocppgw");
	cr_assert_eq(l.conf.upstream_ocpp, OGW_OCPP21);

	cr_assert_eq(l.conf.n_chargers, 3);
	ch = ogw_conf_charger(&l.conf, "CP001");
	cr_assert_not_null(ch);
	cr_assert_eq(ch->upstream_ocpp, OGW_OCPP16);
	cr_assert_str_eq(ch->upstream_user, "site1-CP001");
	cr_assert_str_eq(ch->upstream_password, "north-secret");
	cr_assert(ogw_auth_verify(ch->password_hash, "correct horse battery", 21));
	ch = ogw_conf_charger(&l.conf, "AL1000");
	cr_assert_not_null(ch);
	cr_assert_null(ch->upstream_user);
	cr_assert_null(ch->upstream_password);
	cr_assert_eq(ch->upstream_ocpp, -1);
	cr_assert(ogw_auth_verify(ch->password_hash, "\x01\x23\x45\x67\x89\xab\xcd\xef\x01\x23"
				  "\x45\x67\x89\xab\xcd\xef\x01\x23\x45\x67", 20));
	ch = ogw_conf_charger(&l.conf, "open-charger");
	cr_assert_not_null(ch);
	cr_assert_null(ch->password_hash, "an empty hash means no Basic auth");
	cr_assert_null(ogw_conf_charger(&l.conf, "CP002"));
	cr_assert_null(ogw_conf_charger(&l.conf, "cp001"), "ids are case-sensitive");

	cr_assert_eq(l.conf.n_groups, 2);
	cr_assert_str_eq(l.conf.groups[0].name, "garage-a");
	cr_assert_eq(l.conf.groups[0].upstream_ocpp, OGW_OCPP201);
	cr_assert_eq(l.conf.groups[0].n_chargers, 3);
	cr_assert_str_eq(l.conf.groups[0].chargers[0], "CP001");
	cr_assert_str_eq(l.conf.groups[0].chargers[1], "AL1000");
	cr_assert_str_eq(l.conf.groups[0].chargers[2], "not-listed");
	cr_assert_str_eq(l.conf.groups[1].name, "no-override");
	cr_assert_eq(l.conf.groups[1].upstream_ocpp, -1);
	cr_assert_eq(l.conf.groups[1].n_chargers, 1);
	cr_assert_str_eq(l.conf.groups[1].chargers[0], "open-charger");

	cr_assert_eq(l.conf.offline_heartbeat_s, 600);
	cr_assert(l.conf.offline_accept_unknown);
	cr_assert(l.conf.offline_queue_all);
	cr_assert_eq(l.conf.offline_attempts, 5);
	cr_assert_eq(l.conf.offline_retry_s, 30);
	cr_assert_not(l.conf.offline_stop_invalid);
	cr_assert_eq(l.conf.offline_cache_max, 500);
	cr_assert_eq(l.conf.n_local_list, 3);
	cr_assert_str_eq(l.conf.local_list[0].token, "TAG1");
	cr_assert_str_eq(l.conf.local_list[0].status, "Accepted");
	cr_assert_str_eq(l.conf.local_list[0].expiry, "2027-01-01T00:00:00Z");
	cr_assert_str_eq(l.conf.local_list[0].group, "G1");
	cr_assert_str_eq(l.conf.local_list[1].status, "Blocked");
	cr_assert_null(l.conf.local_list[1].expiry);
	cr_assert_null(l.conf.local_list[1].group);
	cr_assert_str_eq(l.conf.local_list[2].status, "Accepted", "status defaults to Accepted");
	loaded_free(&l);
}

Test(config, upstream_for_precedence)
{
	struct ogw_conf c;
	struct loaded l;

	load_fixture(&l, FIXTURES "/full.conf");
	cr_assert_eq(l.rc, 0);
	/* the charger's own setting beats its group's */
	cr_assert_eq(ogw_conf_upstream_for(&l.conf, "CP001", OGW_OCPP201), OGW_OCPP16);
	/* the group's beats the global one, listed charger or not */
	cr_assert_eq(ogw_conf_upstream_for(&l.conf, "AL1000", OGW_OCPP16), OGW_OCPP201);
	cr_assert_eq(ogw_conf_upstream_for(&l.conf, "not-listed", OGW_OCPP16), OGW_OCPP201);
	/* a group without a setting falls through to the global one */
	cr_assert_eq(ogw_conf_upstream_for(&l.conf, "open-charger", OGW_OCPP16), OGW_OCPP21);
	cr_assert_eq(ogw_conf_upstream_for(&l.conf, "elsewhere", OGW_OCPP16), OGW_OCPP21);
	loaded_free(&l);

	/* nothing set anywhere: the charger's own version */
	ogw_conf_defaults(&c);
	cr_assert_eq(ogw_conf_upstream_for(&c, "CP001", OGW_OCPP16), OGW_OCPP16);
	cr_assert_eq(ogw_conf_upstream_for(&c, "CP001", OGW_OCPP21), OGW_OCPP21);
	ogw_conf_clear(&c);

	/* a charger with its own setting and no global one */
	expect_ok("chargers = ( { id = \"CP1\"; upstream_ocpp = \"2.0.1\"; },\n"
		  "  { id = \"CP2\"; } );\n", &l);
	cr_assert_eq(ogw_conf_upstream_for(&l.conf, "CP1", OGW_OCPP16), OGW_OCPP201);
	cr_assert_eq(ogw_conf_upstream_for(&l.conf, "CP2", OGW_OCPP16), OGW_OCPP16);
	loaded_free(&l);
}

Test(config, upstream_ocpp_values)
{
	static const struct { const char *text; int want; } good[] = {
		{ "1.6", OGW_OCPP16 }, { "2.0.1", OGW_OCPP201 }, { "2.1", OGW_OCPP21 }, { "", -1 },
	};
	struct loaded l;
	char text[128];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(text, sizeof(text), "upstream_ocpp = \"%s\";\n", good[i].text);
		expect_ok(text, &l);
		cr_assert_eq(l.conf.upstream_ocpp, good[i].want, "%s", good[i].text);
		loaded_free(&l);
	}
	expect_one_error("upstream_ocpp = \"2.0\";\n",
			 "1: upstream_ocpp: expected 1.6, 2.0.1 or 2.1");
	expect_one_error("\nupstream_ocpp = 201;\n", "2: upstream_ocpp: expected a string");
	expect_one_error("chargers = ( { id = \"CP1\";\n  upstream_ocpp = \"1.5\"; } );\n",
			 "2: chargers[0].upstream_ocpp: expected 1.6, 2.0.1 or 2.1");
	expect_one_error("groups = ( { name = \"g\";\n\n upstream_ocpp = \"2\"; } );\n",
			 "3: groups[0].upstream_ocpp: expected 1.6, 2.0.1 or 2.1");
}

Test(config, data_dir_values)
{
	struct loaded l;

	expect_ok("data_dir = \"/var/lib/ocppgw-test\";\n", &l);
	cr_assert_str_eq(l.conf.data_dir, "/var/lib/ocppgw-test");
	loaded_free(&l);
	expect_ok("data_dir = \"state\";\n", &l);
	cr_assert_str_eq(l.conf.data_dir, "state", "relative to the working directory");
	loaded_free(&l);
	expect_one_error("data_dir = \"\";\n", "1: data_dir: must not be empty");
	expect_one_error("data_dir = true;\n", "1: data_dir: expected a string");
}

Test(config, groups_valid_forms)
{
	struct loaded l;

	expect_ok("groups = (\n"
		  "  { name = \"a\"; chargers = [ \"CP1\" ]; },\n"
		  "  { name = \"b\"; chargers = ( \"CP2\", \"CP3\" ); },\n"
		  "  { name = \"empty\"; chargers = []; },\n"
		  "  { name = \"none\"; upstream_ocpp = \"1.6\"; }\n"
		  ");\n", &l);
	cr_assert_eq(l.conf.n_groups, 4);
	cr_assert_eq(l.conf.groups[1].n_chargers, 2);
	cr_assert_str_eq(l.conf.groups[1].chargers[1], "CP3");
	cr_assert_eq(l.conf.groups[2].n_chargers, 0);
	cr_assert_eq(l.conf.groups[3].n_chargers, 0);
	cr_assert_eq(l.conf.groups[3].upstream_ocpp, OGW_OCPP16);
	cr_assert_eq(l.conf.n_chargers, 0, "groups do not make a charger list");
	loaded_free(&l);

	expect_ok("groups = ();\n", &l);
	cr_assert_eq(l.conf.n_groups, 0);
	loaded_free(&l);
}

Test(config, charger_in_two_groups_names_both_lines)
{
	expect_one_error("groups = (\n"
			 "  { name = \"a\"; chargers = [ \"CP1\", \"CP2\" ]; },\n"
			 "  { name = \"b\";\n"
			 "    chargers = [ \"CP3\",\n"
			 "                 \"CP2\" ]; }\n"
			 ");\n",
			 "5: groups[1].chargers[1]: charger 'CP2' is already in group 'a' at line 2");
	expect_one_error("groups = ( { name = \"a\"; chargers = [\n \"CP1\",\n \"CP1\" ]; } );\n",
			 "3: groups[0].chargers[1]: charger 'CP1' is already in group 'a' at line 2");
}

Test(config, group_errors)
{
	char want[160];

	expect_one_error("groups = (\n  { name = \"a\"; },\n  { name = \"a\"; }\n);\n",
			 "3: groups[1].name: duplicate group 'a', first at line 2");
	expect_one_error("groups = (\n  { chargers = [ \"CP1\" ]; }\n);\n",
			 "2: groups[0]: missing name");
	expect_one_error("groups = ( { name = \"\"; } );\n",
			 "1: groups[0].name: must be 1 to 64 characters");
	snprintf(want, sizeof(want), "groups = ( { name = \"%065d\"; } );\n", 0);
	expect_one_error(want, "1: groups[0].name: must be 1 to 64 characters");
	expect_one_error("groups = { name = \"a\"; };\n",
			 "1: groups: expected a list ( { name = ...; }, ... )");
	expect_one_error("groups = ( \"a\" );\n", "1: groups[0]: expected a group { name = ...; }");
	expect_one_error("groups = ( { name = \"a\"; chargers = \"CP1\"; } );\n",
			 "1: groups[0].chargers: expected a list of charger ids [ \"CP1\", ... ]");
	expect_one_error("groups = ( { name = \"a\";\n chargers = ( \"CP1\",\n 2 ); } );\n",
			 "3: groups[0].chargers[1]: expected a string");
	expect_one_error("groups = ( { name = \"a\"; chargers = [ \"CP 1\" ]; } );\n",
			 "1: groups[0].chargers[0]: must be 1 to 48 printable ASCII characters, "
			 "no ':', '/' or space");
	expect_one_error("groups = ( { name = \"a\";\n  members = [ \"CP1\" ]; } );\n",
			 "2: unknown setting 'groups[0].members'");
}

Test(config, later_file_overrides_only_what_it_sets)
{
	struct loaded l;

	load_fixture(&l, FIXTURES "/full.conf");
	cr_assert_eq(l.rc, 0);
	l.rc = ogw_conf_load_file(&l.conf, SHIPPED_CONF, &l.errs);
	cr_assert_eq(l.rc, 0);
	/* the shipped file sets these back to their defaults ... */
	cr_assert_str_eq(l.conf.listen_addr, "0.0.0.0");
	cr_assert_null(l.conf.tls_cert, "an empty string unsets");
	cr_assert_eq(l.conf.log_level, OGW_LOG_INFO);
	cr_assert_str_eq(l.conf.data_dir, "/var/lib/ocppgw");
	/* ... but leaves csms.url, upstream_ocpp, chargers and groups alone */
	cr_assert_str_eq(l.conf.csms_url, "wss://csms.example.com/ocpp");
	cr_assert_eq(l.conf.upstream_ocpp, OGW_OCPP21);
	cr_assert_eq(l.conf.n_chargers, 3);
	cr_assert_eq(l.conf.n_groups, 2);
	cr_assert_str_eq(l.conf.source, SHIPPED_CONF);
	loaded_free(&l);
}

Test(config, missing_file)
{
	struct loaded l;
	const char *want = " cannot read the file: No such file or directory";

	load_fixture(&l, FIXTURES "/does-not-exist.conf");
	cr_assert_eq(l.rc, -EINVAL);
	expect_errors(&l.errs, FIXTURES "/does-not-exist.conf", &want, 1);
	loaded_free(&l);
}

Test(config, parse_error_names_its_line)
{
	struct loaded l;

	load_fixture(&l, FIXTURES "/parse-error.conf");
	cr_assert_eq(l.rc, -EINVAL);
	cr_assert_eq(l.errs.n, 1);
	cr_assert_str_eq(l.errs.msgs[0], FIXTURES "/parse-error.conf:3: syntax error");
	loaded_free(&l);

	/* a setting given twice stops the parser too */
	expect_one_error("listen = \":9000\";\nlog = { level = \"info\";\n level = \"debug\"; };\n",
			 "3: duplicate setting name");
}

Test(config, unknown_settings)
{
	expect_one_error("listne = \":9000\";\n", "1: unknown setting 'listne'");
	expect_one_error("ocpp = {\n  foo = 1;\n};\n", "2: unknown setting 'ocpp.foo'");
	expect_one_error("log = { level = \"info\"; };\ntls = {\n\n  certificate = \"x\"; };\n",
			 "4: unknown setting 'tls.certificate'");
	expect_one_error("chargers = (\n { id = \"A\"; },\n { id = \"B\";\n   pin = 1; }\n);\n",
			 "4: unknown setting 'chargers[1].pin'");
}

Test(config, wrong_types)
{
	expect_one_error("ocpp = { response_timeout = \"30\"; };\n",
			 "1: ocpp.response_timeout: expected a number");
	expect_one_error("require_auth = 1;\n", "1: require_auth: expected true or false");
	expect_one_error("listen = 9000;\n", "1: listen: expected a string");
	expect_one_error("ocpp = 5;\n", "1: ocpp: expected a group { ... }");
	expect_one_error("ocpp = { max_pending_calls = 2.5; };\n",
			 "1: ocpp.max_pending_calls: expected an integer");
	expect_one_error("csms = { ping_interval = true; };\n",
			 "1: csms.ping_interval: expected a number");
	expect_one_error("tls = { cert = 1; };\n", "1: tls.cert: expected a string");
	expect_one_error("chargers = { id = \"A\"; };\n",
			 "1: chargers: expected a list ( { id = ...; }, ... )");
	expect_one_error("chargers = ( \"A\" );\n", "1: chargers[0]: expected a group { id = ...; }");
}

Test(config, listen_port_range)
{
	struct loaded l;

	expect_one_error("listen = \"0.0.0.0:0\";\n", "1: listen: port must be between 1 and 65535");
	expect_one_error("\nlisten = \":65536\";\n", "2: listen: port must be between 1 and 65535");
	expect_one_error("listen = \"9000\";\n", "1: listen: expected ADDR:PORT, [IPv6]:PORT or :PORT");
	expect_ok("listen = \":65535\";\n", &l);
	cr_assert_eq(l.conf.listen_port, 65535);
	cr_assert_str_eq(l.conf.listen_addr, "0.0.0.0");
	loaded_free(&l);
}

Test(config, seconds_ranges_and_forms)
{
	struct loaded l;

	expect_one_error("ocpp = { response_timeout = 0; };\n",
			 "1: ocpp.response_timeout: must be > 0 and <= 3600 seconds");
	expect_one_error("ocpp = { response_timeout = 3600.5; };\n",
			 "1: ocpp.response_timeout: must be > 0 and <= 3600 seconds");
	expect_one_error("csms = { reconnect_min = -1.0; };\n",
			 "1: csms.reconnect_min: must be > 0 and <= 3600 seconds");
	expect_one_error("csms = { reconnect_max = 4000; };\n",
			 "1: csms.reconnect_max: must be > 0 and <= 3600 seconds");
	expect_one_error("csms = { ping_interval = -1; };\n",
			 "1: csms.ping_interval: must be between 0 and 3600 seconds");
	expect_one_error("csms = { ping_interval = 3601; };\n",
			 "1: csms.ping_interval: must be between 0 and 3600 seconds");
	expect_one_error("csms = { ping_interval = 2.5; };\n",
			 "1: csms.ping_interval: expected whole seconds");

	expect_ok("ocpp = { response_timeout = 3600; };\ncsms = { ping_interval = 10.0;\n"
		  "reconnect_min = 0.25; reconnect_max = 1; };\n", &l);
	cr_assert_eq(l.conf.response_timeout_ms, 3600000);
	cr_assert_eq(l.conf.ping_interval_s, 10);
	cr_assert_eq(l.conf.reconnect_min_ms, 250);
	cr_assert_eq(l.conf.reconnect_max_ms, 1000);
	loaded_free(&l);
}

Test(config, reconnect_min_above_max)
{
	struct loaded l;
	const char *want = "3: csms.reconnect_min: must not exceed csms.reconnect_max";

	load_text(&l, "csms = {\n  reconnect_max = 5;\n  reconnect_min = 10;\n};\n");
	cr_assert_eq(l.rc, -EINVAL);
	expect_errors(&l.errs, l.path, &want, 1);
	/* the bad pair is not kept */
	cr_assert_eq(l.conf.reconnect_min_ms, 1000);
	cr_assert_eq(l.conf.reconnect_max_ms, 60000);
	loaded_free(&l);

	/* against the default maximum of 60 s */
	expect_one_error("csms = { reconnect_min = 61; };\n",
			 "1: csms.reconnect_min: must not exceed csms.reconnect_max");
}

Test(config, size_and_count_ranges)
{
	struct loaded l;

	expect_one_error("ocpp = { max_frame_size = 1023; };\n",
			 "1: ocpp.max_frame_size: must be between 1024 and 16777216");
	expect_one_error("ocpp = { max_frame_size = 16777217; };\n",
			 "1: ocpp.max_frame_size: must be between 1024 and 16777216");
	expect_one_error("ocpp = { max_pending_calls = 0; };\n",
			 "1: ocpp.max_pending_calls: must be between 1 and 1024");
	expect_one_error("ocpp = { max_pending_calls = 1025; };\n",
			 "1: ocpp.max_pending_calls: must be between 1 and 1024");
	expect_one_error("ocpp = { max_frame_size = 4294967296L; };\n",
			 "1: ocpp.max_frame_size: must be between 1024 and 16777216");
	expect_ok("ocpp = { max_frame_size = 1024; max_pending_calls = 1024; };\n", &l);
	cr_assert_eq(l.conf.max_frame_size, 1024);
	cr_assert_eq(l.conf.max_pending_calls, 1024);
	loaded_free(&l);
	/* top-level integers: one past each end refused, the lowest taken */
	static const struct {
		const char *name;
		long min, max;
		size_t off;
	} ints[] = {
		{ "store_max_events", 100, 10000000, offsetof(struct ogw_conf, store_max_events) },
		{ "history_interval_s", 1, 3600, offsetof(struct ogw_conf, history_interval_s) },
	};
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		char text[64], want[128];
		snprintf(want, sizeof(want), "1: %s: must be between %ld and %ld", ints[i].name,
			 ints[i].min, ints[i].max);
		snprintf(text, sizeof(text), "%s = %ld;\n", ints[i].name, ints[i].min - 1);
		expect_one_error(text, want);
		snprintf(text, sizeof(text), "%s = %ld;\n", ints[i].name, ints[i].max + 1);
		expect_one_error(text, want);
		snprintf(text, sizeof(text), "%s = %ld;\n", ints[i].name, ints[i].min);
		expect_ok(text, &l);
		cr_assert_eq(*(const int *)((const char *)&l.conf + ints[i].off), ints[i].min, "%s",
			     ints[i].name);
		loaded_free(&l);
	}
}

Test(config, csms_url_schemes)
{
	static const char *const good[] = {
		"ws://csms.example.com/ocpp", "wss://csms.example.com:443/ocpp",
		"mqtt://broker.local", "mqtts://broker.local:8883",
	};
	struct loaded l;
	char text[128];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(text, sizeof(text), "csms = { url = \"%s\"; };\n", good[i]);
		expect_ok(text, &l);
		cr_assert_str_eq(l.conf.csms_url, good[i]);
		loaded_free(&l);
	}
	expect_one_error("csms = { url = \"http://csms.example.com\"; };\n",
			 "1: csms.url: expected ws://, wss://, mqtt:// or mqtts:// and a host");
	expect_one_error("csms = { url = \"ws://\"; };\n",
			 "1: csms.url: expected ws://, wss://, mqtt:// or mqtts:// and a host");
	expect_one_error("csms = { url = \"csms.example.com\"; };\n",
			 "1: csms.url: expected ws://, wss://, mqtt:// or mqtts:// and a host");
	expect_ok("csms = { url = \"\"; };\n", &l);
	cr_assert_null(l.conf.csms_url);
	loaded_free(&l);
}

Test(config, charger_ids)
{
	const char *msg = "must be 1 to 48 printable ASCII characters, no ':', '/' or space";
	char want[160], text[160];
	struct loaded l;

	snprintf(want, sizeof(want), "1: chargers[0].id: %s", msg);
	expect_one_error("chargers = ( { id = \"\"; } );\n", want);
	expect_one_error("chargers = ( { id = \"CP:1\"; } );\n", want);
	expect_one_error("chargers = ( { id = \"site/CP1\"; } );\n", want);
	expect_one_error("chargers = ( { id = \"CP 1\"; } );\n", want);
	snprintf(text, sizeof(text), "chargers = ( { id = \"%049d\"; } );\n", 0);
	expect_one_error(text, want);
	expect_one_error("chargers = (\n  { password_hash = \"\"; }\n);\n", "2: chargers[0]: missing id");

	snprintf(text, sizeof(text), "chargers = ( { id = \"%048d\"; } );\n", 0);
	expect_ok(text, &l);
	cr_assert_eq(l.conf.n_chargers, 1);
	cr_assert_eq(strlen(l.conf.chargers[0].id), 48);
	loaded_free(&l);
}

Test(config, duplicate_charger_names_both_lines)
{
	expect_one_error("chargers = (\n  { id = \"CP1\"; },\n  { id = \"CP2\"; },\n"
			 "  { id = \"CP1\"; }\n);\n",
			 "4: chargers[2].id: duplicate id 'CP1', first at line 2");
}

Test(config, password_hash_format)
{
	expect_one_error("chargers = ( { id = \"CP1\";\n  password_hash = \"secret\"; } );\n",
			 "2: chargers[0].password_hash: "
			 "expected $pbkdf2-sha256$<iterations>$<salt>$<hash>");
	expect_one_error("chargers = ( { id = \"CP1\"; password_hash = "
			 "\"$pbkdf2-sha256$10$AAECAwQFBgcICQoLDA0ODw==$"
			 "X+DILeVuX9mNHCAvEDeDlaquCYUTD7rdkkZXdsCyl/Q=\"; } );\n",
			 "1: chargers[0].password_hash: "
			 "expected $pbkdf2-sha256$<iterations>$<salt>$<hash>");
}

Test(config, path_prefix_rules)
{
	struct loaded l;

	expect_one_error("path_prefix = \"ocpp\";\n",
			 "1: path_prefix: must start with '/' (or be empty to accept any path)");
	expect_one_error("path_prefix = \"/ocpp/\";\n", "1: path_prefix: must not end with '/'");
	expect_one_error("path_prefix = \"/\";\n", "1: path_prefix: must not end with '/'");
	expect_ok("path_prefix = \"\";\n", &l);
	cr_assert_str_eq(l.conf.path_prefix, "", "empty accepts any path, it is not unset");
	loaded_free(&l);
	expect_ok("path_prefix = \"/a/b\";\n", &l);
	cr_assert_str_eq(l.conf.path_prefix, "/a/b");
	loaded_free(&l);
}

Test(config, log_names)
{
	struct loaded l;

	expect_one_error("log = { level = \"verbose\"; };\n",
			 "1: log.level: expected error, warn, info or debug");
	expect_one_error("log = { format = \"xml\"; };\n", "1: log.format: expected text or json");
	expect_ok("log = { level = \"warn\"; format = \"json\"; };\n", &l);
	cr_assert_eq(l.conf.log_level, OGW_LOG_WARN);
	cr_assert(l.conf.log_json);
	loaded_free(&l);
}

Test(config, empty_optional_paths_are_unset)
{
	struct loaded l;

	expect_ok("tls = { cert = \"\"; key = \"\"; ca = \"\"; };\n"
		  "csms = { ca = \"\"; cert = \"\"; key = \"\"; };\n"
		  "ocpp = { schema_dir = \"\"; };\n"
		  "chargers = ( { id = \"CP1\"; upstream_user = \"\"; upstream_password = \"\"; } );\n",
		  &l);
	cr_assert_null(l.conf.tls_cert);
	cr_assert_null(l.conf.tls_key);
	cr_assert_null(l.conf.tls_ca);
	cr_assert_null(l.conf.csms_ca);
	cr_assert_null(l.conf.csms_cert);
	cr_assert_null(l.conf.csms_key);
	cr_assert_null(l.conf.schema_dir);
	cr_assert_null(l.conf.chargers[0].upstream_user);
	cr_assert_null(l.conf.chargers[0].upstream_password);
	loaded_free(&l);
}

Test(config, many_errors_all_reported)
{
	static const char *const want[] = {
		"2: listen: port must be between 1 and 65535",
		"3: path_prefix: must start with '/' (or be empty to accept any path)",
		"5: ocpp.response_timeout: expected a number",
		"6: ocpp.max_frame_size: must be between 1024 and 16777216",
		"7: unknown setting 'ocpp.foo'",
		"9: log.level: expected error, warn, info or debug",
		"9: log.format: expected text or json",
		"10: csms.url: expected ws://, wss://, mqtt:// or mqtts:// and a host",
		"12: chargers[0].id: must be 1 to 48 printable ASCII characters, no ':', '/' or space",
		"13: chargers[1].password_hash: expected $pbkdf2-sha256$<iterations>$<salt>$<hash>",
		"14: chargers[2].id: duplicate id 'CP2', first at line 13",
		"16: upstream_ocpp: expected 1.6, 2.0.1 or 2.1",
		"17: data_dir: must not be empty",
		("19: groups[0].chargers[1]: must be 1 to 48 printable ASCII characters, "
		 "no ':', '/' or space"),
		"20: groups[1].upstream_ocpp: expected a string",
		"10: csms.reconnect_min: must not exceed csms.reconnect_max",
	};
	struct loaded l;

	load_fixture(&l, FIXTURES "/many-errors.conf");
	cr_assert_eq(l.rc, -EINVAL);
	expect_errors(&l.errs, FIXTURES "/many-errors.conf", want, sizeof(want) / sizeof(want[0]));
	loaded_free(&l);
}

Test(config, check_cross_field_rules)
{
	static const char *const want[] = {
		" tls.cert is set without tls.key",
		" tls.require_client_cert needs tls.ca to verify chargers",
		" csms.key is set without csms.cert",
	};
	expect_check_errors("tls = { cert = \"/s.pem\"; require_client_cert = true; };\n"
			    "csms = { key = \"/c.key\"; };\n", want, 3);
}

/* The file server's HTTPS takes a certificate and its key, or neither. */
Test(config, files_cert_needs_its_key)
{
	static const char *const want[] = {
		" files.cert and files.key go together (HTTPS)",
	};
	expect_check_errors("files = { listen = \"127.0.0.1:8090\"; cert = \"/f.pem\"; };\n",
			    want, 1);
}

/* files.ftp: its settings read, each bad one named with its line. */
Test(config, files_ftp)
{
	struct loaded l;

	expect_ok("files = { listen = \"127.0.0.1:8090\";\n"
		  "  ftp = { listen = \"0.0.0.0:2121\"; passive_ports = \"30000-30009\";\n"
		  "    masquerade = \"192.0.2.1\"; uploads = \"always\"; server = \"/x/ftpd\"; }; };\n",
		  &l);
	cr_assert_str_eq(l.conf.files_ftp_addr, "0.0.0.0");
	cr_assert_eq(l.conf.files_ftp_port, 2121);
	cr_assert_eq(l.conf.files_ftp_pasv_first, 30000);
	cr_assert_eq(l.conf.files_ftp_pasv_last, 30009);
	cr_assert_str_eq(l.conf.files_ftp_masquerade, "192.0.2.1");
	cr_assert(l.conf.files_ftp_always);
	cr_assert_str_eq(l.conf.files_ftp_server, "/x/ftpd");
	cr_assert_eq(ogw_conf_check(&l.conf, &l.errs), 0);
	loaded_free(&l);

	/* the defaults: no FTP server, "auto", the installed program */
	expect_ok("files = { listen = \"127.0.0.1:8090\"; };\n", &l);
	cr_assert_null(l.conf.files_ftp_addr);
	cr_assert_not(l.conf.files_ftp_always);
	cr_assert_str_eq(l.conf.files_ftp_server, OGW_FTPD_PATH);
	loaded_free(&l);

	static const char *const passive =
		"2: files.ftp.passive_ports: expected \"FIRST-LAST\", ports 1-65535, at most 1000 "
		"of them, e.g. \"30000-30019\"";
	expect_one_error("files = {\n ftp = { passive_ports = \"9-3\"; }; };\n", passive);
	expect_one_error("files = {\n ftp = { passive_ports = \"1-2000\"; }; };\n", passive);
	expect_one_error("files = {\n ftp = { passive_ports = \"30000-30009x\"; }; };\n", passive);
	expect_one_error("files = {\n ftp = { uploads = \"never\"; }; };\n",
			 "2: files.ftp.uploads: expected auto or always");

	static const char *const want[] = {
		" files.ftp.listen needs files.listen (the file server's settings and storage)",
		" files.ftp.public_url: expected an ftp:// URL",
	};
	expect_check_errors("files = { ftp = { listen = \"0.0.0.0:2121\"; public_url = \"http://x\"; "
			    "}; };\n", want, 2);
}

/* files.ftp.server is checked only when an FTP server is to be started. */
Test(config, files_ftp_server_checked_when_used)
{
	struct loaded l;

	load_text(&l, "files = { listen = \"127.0.0.1:8090\";\n"
		      "  ftp = { server = \"/nonexistent/ftpd\"; }; };\n");
	cr_assert_eq(l.rc, 0);
	cr_expect_eq(ogw_conf_check_files(&l.conf, &l.errs), 0);
	loaded_free(&l);

	load_text(&l, "files = { listen = \"127.0.0.1:8090\";\n"
		      "  ftp = { listen = \"0.0.0.0:2121\";\n"
		      "    server = \"/nonexistent/ftpd\"; }; };\n");
	cr_assert_eq(l.rc, 0);
	cr_expect_eq(ogw_conf_check_files(&l.conf, &l.errs), -EINVAL);
	cr_assert_eq(l.errs.n, 1);
	char *want = NULL;
	cr_assert_geq(asprintf(&want, "%s:3: files.ftp.server: cannot use '/nonexistent/ftpd': "
			       "No such file or directory", l.path), 0);
	cr_expect_str_eq(l.errs.msgs[0], want);
	free(want);
	loaded_free(&l);

	/* a file without any x bit (root may run whatever has one): the
	 * config file of another load, made 0600 by load_text() */
	struct loaded plain;
	char text[256];
	load_text(&plain, "\n");
	snprintf(text, sizeof(text), "files = { listen = \"127.0.0.1:8090\";\n"
		 "  ftp = { listen = \"0.0.0.0:2121\"; server = \"%s\"; }; };\n", plain.path);
	load_text(&l, text);
	cr_expect_eq(ogw_conf_check_files(&l.conf, &l.errs), -EINVAL);
	cr_expect(l.errs.n == 1 && strstr(l.errs.msgs[0], "cannot be run: permission denied"),
		  "%s", l.errs.n ? l.errs.msgs[0] : "(no error)");
	loaded_free(&l);
	loaded_free(&plain);
}

Test(config, check_catches_bad_overrides)
{
	static const char *const want[] = {
		"listen: port must be between 1 and 65535",
		"path_prefix: must not end with '/'",
		"tls.key is set without tls.cert",
		"csms.url: expected ws://, wss://, mqtt:// or mqtts:// and a host",
		"data_dir: must not be empty",
		"upstream_ocpp: expected 1.6, 2.0.1 or 2.1",
		"ocpp.response_timeout: must be > 0 and <= 3600 seconds",
		"ocpp.max_frame_size: must be between 1024 and 16777216",
		"csms.reconnect_min: must not exceed csms.reconnect_max",
	};
	struct ogw_conf_errors errs = { 0 };
	struct ogw_conf c;

	ogw_conf_defaults(&c);
	c.listen_port = 0;
	free(c.path_prefix);
	c.path_prefix = strdup("/ocpp/");
	c.tls_key = strdup("/k.pem");
	c.csms_url = strdup("https://x");
	free(c.data_dir);
	c.data_dir = strdup("");
	c.upstream_ocpp = OGW_OCPP_COUNT;
	c.response_timeout_ms = 0;
	c.max_frame_size = 10;
	c.reconnect_min_ms = 70000;
	cr_assert_eq(ogw_conf_check(&c, &errs), -EINVAL);
	cr_assert_eq(errs.n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < errs.n; i++)
		cr_expect_str_eq(errs.msgs[i], want[i]);
	ogw_conf_errors_clear(&errs);
	cr_assert_eq(errs.n, 0);
	ogw_conf_clear(&c);
}

static void expect_listen(const char *s, const char *addr, int port)
{
	char *a = NULL;
	int p = 0;

	cr_assert_eq(ogw_conf_parse_listen(s, &a, &p), 0, "%s", s);
	cr_assert_str_eq(a, addr, "%s", s);
	cr_assert_eq(p, port, "%s", s);
	free(a);
}

Test(config, parse_listen_forms)
{
	static const char *const invalid[] = {
		"", "9000", "::1:9000", "[::1]9000", "[]:80", "[::1:80", "host:", "host:12x",
		"host:+80", "host:-1", ":", "[::1]:", "a b:80",
	};
	char *a = (char *)"untouched";
	int p = -7;

	expect_listen("0.0.0.0:9000", "0.0.0.0", 9000);
	expect_listen("127.0.0.1:1", "127.0.0.1", 1);
	expect_listen("localhost:8080", "localhost", 8080);
	expect_listen("[::1]:9443", "::1", 9443);
	expect_listen("[fe80::1%eth0]:80", "fe80::1%eth0", 80);
	expect_listen(":65535", "0.0.0.0", 65535);
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
		cr_expect_eq(ogw_conf_parse_listen(invalid[i], &a, &p), -EINVAL, "'%s'", invalid[i]);
	cr_assert_eq(ogw_conf_parse_listen("host:0", &a, &p), -ERANGE);
	cr_assert_eq(ogw_conf_parse_listen("host:65536", &a, &p), -ERANGE);
	cr_assert_eq(ogw_conf_parse_listen("[::]:99999999999", &a, &p), -ERANGE);
	cr_assert_str_eq(a, "untouched");
	cr_assert_eq(p, -7);
}

Test(config, offline_values_and_ranges)
{
	struct loaded l;

	expect_ok("offline = { unknown_id = \"reject\"; queue = \"transactions\";\n"
		  "  heartbeat_interval = 1; message_attempts = 100; retry_interval = 3600.0; };\n",
		  &l);
	cr_assert_not(l.conf.offline_accept_unknown);
	cr_assert_not(l.conf.offline_queue_all);
	cr_assert_eq(l.conf.offline_heartbeat_s, 1);
	cr_assert_eq(l.conf.offline_attempts, 100);
	cr_assert_eq(l.conf.offline_retry_s, 3600);
	cr_assert(l.conf.offline_stop_invalid, "untouched settings keep their defaults");
	loaded_free(&l);

	expect_one_error("offline = {\n unknown_id = \"allow\"; };\n",
			 "2: offline.unknown_id: expected reject or accept");
	expect_one_error("offline = { queue = \"some\"; };\n",
			 "1: offline.queue: expected transactions or all");
	expect_one_error("offline = { heartbeat_interval = 0; };\n",
			 "1: offline.heartbeat_interval: must be between 1 and 86400 seconds");
	expect_one_error("offline = { heartbeat_interval = 86401; };\n",
			 "1: offline.heartbeat_interval: must be between 1 and 86400 seconds");
	expect_one_error("offline = { message_attempts = 0; };\n",
			 "1: offline.message_attempts: must be between 1 and 100");
	expect_one_error("offline = { retry_interval = 3601; };\n",
			 "1: offline.retry_interval: must be between 1 and 3600 seconds");
	expect_one_error("offline = { stop_on_invalid_id = \"yes\"; };\n",
			 "1: offline.stop_on_invalid_id: expected true or false");
	expect_one_error("offline = { auth_cache_size = 0; };\n",
			 "1: offline.auth_cache_size: must be between 1 and 1000000");
	expect_one_error("offline = { unknown = 1; };\n", "1: unknown setting 'offline.unknown'");
	expect_one_error("offline = 3;\n", "1: offline: expected a group { ... }");
}

Test(config, local_list_errors)
{
	struct loaded l;
	char text[160];

	expect_ok("local_list = ();\n", &l);
	cr_assert_eq(l.conf.n_local_list, 0);
	loaded_free(&l);

	expect_one_error("local_list = (\n { id = \"A\"; },\n { id = \"A\"; }\n);\n",
			 "3: local_list[1].id: duplicate id 'A', first at line 2");
	expect_one_error("local_list = ( { status = \"Accepted\"; } );\n",
			 "1: local_list[0]: missing id");
	expect_one_error("local_list = ( { id = \"A\"; status = \"Fine\"; } );\n",
			 "1: local_list[0].status: expected Accepted, Blocked, Expired or Invalid");
	expect_one_error("local_list = ( { id = \"A\";\n expiry = \"next year\"; } );\n",
			 "2: local_list[0].expiry: expected an RFC 3339 time, "
			 "e.g. 2027-01-01T00:00:00Z");
	expect_one_error("local_list = ( { id = \"\"; } );\n",
			 "1: local_list[0].id: must be 1 to 36 printable characters");
	snprintf(text, sizeof(text), "local_list = ( { id = \"%037d\"; } );\n", 0);
	expect_one_error(text, "1: local_list[0].id: must be 1 to 36 printable characters");
	expect_one_error("local_list = ( { id = \"A\"; group = 5; } );\n",
			 "1: local_list[0].group: expected a string");
	expect_one_error("local_list = ( { id = \"A\"; colour = \"red\"; } );\n",
			 "1: unknown setting 'local_list[0].colour'");
	expect_one_error("local_list = { id = \"A\"; };\n",
			 "1: local_list: expected a list ( { id = ...; }, ... )");
	expect_one_error("local_list = ( \"A\" );\n",
			 "1: local_list[0]: expected a group { id = ...; }");

	/* a later file's list replaces the earlier one as a whole */
	expect_ok("local_list = ( { id = \"A\"; expiry = \"\"; }, { id = \"B\"; } );\n", &l);
	cr_assert_eq(l.conf.n_local_list, 2);
	cr_assert_null(l.conf.local_list[0].expiry, "\"\" is no expiry");
	cr_assert_eq(ogw_conf_load_file(&l.conf, FIXTURES "/full.conf", &l.errs), 0);
	cr_assert_eq(l.conf.n_local_list, 3);
	cr_assert_str_eq(l.conf.local_list[0].token, "TAG1");
	loaded_free(&l);
}

Test(config, admin_listener)
{
	struct loaded l;
	struct ogw_conf_errors errs = { 0 };

	ogw_conf_defaults(&l.conf);
	cr_assert_str_eq(l.conf.admin_addr, "127.0.0.1");
	cr_assert_eq(l.conf.admin_port, 8080);
	cr_assert_eq(ogw_conf_check(&l.conf, &errs), 0, "loopback needs no credentials");
	ogw_conf_clear(&l.conf);

	expect_ok("admin = { listen = \"\"; };\n", &l);
	cr_assert_null(l.conf.admin_addr, "\"\" turns the admin listener off");
	loaded_free(&l);

	expect_ok("admin = { listen = \"[::1]:8081\"; token = \"t\"; };\n", &l);
	cr_assert_str_eq(l.conf.admin_addr, "::1");
	cr_assert_eq(l.conf.admin_port, 8081);
	cr_assert_str_eq(l.conf.admin_token, "t");
	loaded_free(&l);

	expect_one_error("admin = {\n listen = \"8080\"; };\n",
			 "2: admin.listen: expected ADDR:PORT, [IPv6]:PORT or :PORT, or \"\" for none");
	expect_one_error("admin = { password_hash = \"plain\"; };\n",
			 "1: admin.password_hash: expected "
			 "$pbkdf2-sha256$<iterations>$<salt>$<hash>");
}

Test(config, admin_off_loopback_needs_credentials)
{
	struct loaded l;
	struct ogw_conf_errors errs = { 0 };

	expect_ok("admin = { listen = \"0.0.0.0:8080\"; };\n", &l);
	cr_assert_eq(ogw_conf_check(&l.conf, &errs), -EINVAL);
	cr_assert_eq(errs.n, 1);
	cr_assert_not_null(strstr(errs.msgs[0], ": admin.listen: 0.0.0.0 is not a loopback address: "
				  "set admin.token, or admin.user and admin.password_hash"),
			   "%s", errs.msgs[0]);
	ogw_conf_errors_clear(&errs);
	loaded_free(&l);

	expect_ok("admin = { listen = \"0.0.0.0:8080\"; user = \"ops\"; };\n", &l);
	cr_assert_eq(ogw_conf_check(&l.conf, &errs), -EINVAL, "a user without a hash");
	ogw_conf_errors_clear(&errs);
	loaded_free(&l);

	char *hash = ogw_auth_hash("pw", 2);
	cr_assert_not_null(hash);
	char text[512];
	snprintf(text, sizeof(text), "admin = { listen = \"0.0.0.0:8080\"; user = \"ops\"; "
		 "password_hash = \"%s\"; };\n", hash);
	free(hash);
	expect_ok(text, &l);
	cr_assert_eq(ogw_conf_check(&l.conf, &errs), 0);
	loaded_free(&l);

	expect_ok("admin = { listen = \"10.1.2.3:8080\"; token = \"secret\"; };\n", &l);
	cr_assert_eq(ogw_conf_check(&l.conf, &errs), 0);
	loaded_free(&l);
}

Test(config, mqtt_group_and_mode)
{
	struct loaded l;

	expect_ok("mode = \"bridge\";\n"
		  "csms = { url = \"wss://csms/ocpp\"; };\n"
		  "mqtt = { url = \"mqtts://broker:8883/+\"; prefix = \"fleet/eu\"; client_id = \"b1\";\n"
		  "  username = \"u\"; password = \"p\"; keepalive = 10; ca = \"/ca.pem\";\n"
		  "  cert = \"/c.pem\"; key = \"/c.key\"; share = \"bridges\"; max_buffered = 7; };\n",
		  &l);
	cr_expect(l.conf.bridge);
	cr_expect_str_eq(l.conf.mqtt_url, "mqtts://broker:8883/+");
	cr_expect_str_eq(l.conf.mqtt_prefix, "fleet/eu");
	cr_expect_str_eq(l.conf.mqtt_client_id, "b1");
	cr_expect_str_eq(l.conf.mqtt_password, "p");
	cr_expect_eq(l.conf.mqtt_keepalive_s, 10);
	cr_expect_str_eq(l.conf.mqtt_share, "bridges");
	cr_expect_eq(l.conf.mqtt_max_buffered, 7);
	cr_expect_eq(ogw_conf_check(&l.conf, &l.errs), 0);
	loaded_free(&l);

	struct ogw_conf c;
	ogw_conf_defaults(&c);
	cr_expect_str_eq(c.mqtt_prefix, "ocpp");
	cr_expect_eq(c.mqtt_keepalive_s, 30);
	cr_expect_eq(c.mqtt_max_buffered, 100);
	cr_expect_not(c.bridge);
	ogw_conf_clear(&c);
}

Test(config, mqtt_setting_errors)
{
	expect_one_error("mode = \"cloud\";\n", "1: mode: expected gateway or bridge");
	expect_one_error("mqtt = { prefix = \"a/+\"; };\n",
			 "1: mqtt.prefix: must not contain '+', '#' or spaces, nor start or end "
			 "with '/'");
	expect_one_error("mqtt = { keepalive = 1; };\n",
			 "1: mqtt.keepalive: must be between 5 and 3600 seconds");
	expect_one_error("mqtt = { url = \"tcp://x\"; };\n",
			 "1: mqtt.url: expected ws://, wss://, mqtt:// or mqtts:// and a host");
}

Test(config, mqtt_cross_checks)
{
	static const char *const gateway_want[] = {
		"mqtt.url is the bridge's broker; a gateway's broker is csms.url",
		"mqtt.share is for the bridge only",
		"mqtt.cert is set without mqtt.key",
	};
	static const char *const bridge_want[] = {
		"mode bridge needs mqtt.url (or --mqtt URL)",
		"csms.url: the bridge connects to a WebSocket CSMS, ws:// or wss://",
	};
	static const char *const site_want[] = {
		"csms.url: expected mqtt(s)://host[:port]/<site>: the site is missing",
	};
	struct ogw_conf_errors errs = { 0 };
	struct ogw_conf c;

	ogw_conf_defaults(&c);
	c.csms_url = strdup("mqtt://broker/site-1");
	cr_expect_eq(ogw_conf_check(&c, &errs), 0);
	c.mqtt_url = strdup("mqtt://broker/+");
	c.mqtt_share = strdup("g");
	c.mqtt_cert = strdup("/c.pem");
	cr_assert_eq(ogw_conf_check(&c, &errs), -EINVAL);
	cr_assert_eq(errs.n, 3);
	for (size_t i = 0; i < errs.n; i++)
		cr_expect_str_eq(errs.msgs[i], gateway_want[i]);
	ogw_conf_errors_clear(&errs);
	ogw_conf_clear(&c);

	ogw_conf_defaults(&c);
	c.bridge = true;
	c.csms_url = strdup("mqtt://broker/site-1");
	cr_assert_eq(ogw_conf_check(&c, &errs), -EINVAL);
	cr_assert_eq(errs.n, 2);
	for (size_t i = 0; i < errs.n; i++)
		cr_expect_str_eq(errs.msgs[i], bridge_want[i]);
	ogw_conf_errors_clear(&errs);
	ogw_conf_clear(&c);

	ogw_conf_defaults(&c);
	c.csms_url = strdup("mqtt://broker:1883");
	cr_assert_eq(ogw_conf_check(&c, &errs), -EINVAL);
	cr_assert_eq(errs.n, 1);
	cr_expect_str_eq(errs.msgs[0], site_want[0]);
	ogw_conf_errors_clear(&errs);
	ogw_conf_clear(&c);
}

/* The TLS floor: both spellings map to OpenSSL's, duplicates collapse,
 * and anything below 1.2 or outside the OCPP list is an error. */
Test(config, tls_floor)
{
	struct loaded l;

	load_text(&l, "tls = {\n"
		      "  min_version = \"1.3\";\n"
		      "  ciphers = \"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 ECDHE-ECDSA-AES128-GCM-SHA256,"
		      "TLS_RSA_WITH_AES_256_GCM_SHA384\";\n"
		      "};\n"
		      "csms = { ciphers = [ \"ECDHE-RSA-AES256-GCM-SHA384\" ]; };\n");
	cr_assert_eq(l.rc, 0);
	cr_assert_eq(l.conf.tls_floor.min_version, OGW_TLS_1_3);
	cr_assert_str_eq(l.conf.tls_floor.ciphers, "ECDHE-ECDSA-AES128-GCM-SHA256:AES256-GCM-SHA384");
	cr_assert_eq(l.conf.csms_tls_floor.min_version, OGW_TLS_1_2);
	cr_assert_str_eq(l.conf.csms_tls_floor.ciphers, "ECDHE-RSA-AES256-GCM-SHA384");
	loaded_free(&l);

	/* AES256-GCM-SHA384 is a substring of the ECDHE name, not the same suite */
	load_text(&l, "tls = { ciphers = \"ECDHE-ECDSA-AES256-GCM-SHA384:AES256-GCM-SHA384\"; };\n");
	cr_assert_eq(l.rc, 0);
	cr_assert_str_eq(l.conf.tls_floor.ciphers, "ECDHE-ECDSA-AES256-GCM-SHA384:AES256-GCM-SHA384");
	loaded_free(&l);

	load_text(&l, "tls = {\n  min_version = \"1.0\";\n  ciphers = ( \"AES128-SHA\", 5 );\n};\n"
		      "csms = {\n  tls_min_version = 1.2;\n  ciphers = 3;\n};\n");
	const char *const want[] = {
		"2: tls.min_version: TLS 1.0 is below the floor of 1.2 the OCPP security "
		"specification sets",
		"3: tls.ciphers: 'AES128-SHA' is not a TLS 1.2 suite the OCPP security specification "
		"lists (ECDHE-ECDSA, ECDHE-RSA or RSA with AES-GCM)",
		"3: tls.ciphers: expected a string",
		"6: csms.tls_min_version: expected a string",
		"7: csms.ciphers: expected a string or a list of suite names",
	};
	cr_assert_eq(l.rc, -EINVAL);
	expect_errors(&l.errs, l.path, want, sizeof(want) / sizeof(want[0]));
	/* a refused value leaves the default in place */
	cr_assert_str_eq(l.conf.tls_floor.ciphers, ogw_tls_default_ciphers());
	loaded_free(&l);
}

/* listeners: each entry's address, profiles and TLS, the floor's defaults
 * filled in; security_profile from the charger, else its group. */
Test(config, listeners_and_security_profiles)
{
	struct loaded l;

	load_text(&l, "profiles = [ 1 ];\n"
		      "listeners = (\n"
		      "  { listen = \"127.0.0.1:9443\"; profiles = [ 3, 2 ];\n"
		      "    tls = { cert = \"s.pem\"; key = \"s.key\"; ca = \"ca.pem\"; }; },\n"
		      "  { listen = \"[::1]:9444\"; tls = { cert = \"s.pem\"; key = \"s.key\";\n"
		      "    min_version = \"1.3\"; }; }\n"
		      ");\n"
		      "chargers = ( { id = \"A\"; security_profile = 2; password_hash = \"\"; },"
		      " { id = \"B\"; } );\n"
		      "groups = ( { name = \"g\"; security_profile = 3; chargers = [ \"A\", \"B\" ]; } );\n");
	for (size_t i = 0; i < l.errs.n; i++)
		cr_log_error("%s", l.errs.msgs[i]);
	cr_assert_eq(l.rc, 0);
	cr_assert_eq(l.conf.profiles, 1u << 1);
	cr_assert_eq(l.conf.n_listeners, 2);
	cr_assert_str_eq(l.conf.listeners[0].addr, "127.0.0.1");
	cr_assert_eq(l.conf.listeners[0].port, 9443);
	cr_assert_eq(l.conf.listeners[0].profiles, (1u << 2) | (1u << 3));
	cr_assert_str_eq(l.conf.listeners[0].tls_ca, "ca.pem");
	cr_assert_eq(l.conf.listeners[0].tls_floor.min_version, OGW_TLS_1_2);
	cr_assert_str_eq(l.conf.listeners[0].tls_floor.ciphers, ogw_tls_default_ciphers());
	cr_assert_eq(l.conf.listeners[1].tls_floor.min_version, OGW_TLS_1_3);
	cr_assert_eq(ogw_conf_profiles(l.conf.listeners[1].profiles, true, false),
		     (1u << 2) | (1u << 3));
	cr_assert_eq(ogw_conf_profiles(0, false, false), 1u << 1);
	cr_assert_eq(ogw_conf_profiles(0, true, true), 1u << 3);
	cr_assert_eq(ogw_conf_security_profile(&l.conf, "A"), 2);
	cr_assert_eq(ogw_conf_security_profile(&l.conf, "B"), 3);
	cr_assert_eq(ogw_conf_security_profile(&l.conf, "C"), 0);
	loaded_free(&l);
}

/* Issue 14's settings: the chargers' certificates upstream, failed-login
 * reports, CRLs; defaults, values, ranges and the CRL's need of a CA. */
Test(config, security_settings)
{
	struct loaded l;

	expect_ok("", &l);
	cr_assert_eq(l.conf.security_event_interval_s, 60);
	cr_assert_eq(l.conf.certificate_renew_days, 30);
	cr_assert_not(l.conf.request_certificates);
	cr_assert_null(l.conf.csms_client_cert_dir);
	cr_assert_null(l.conf.tls_crl);
	loaded_free(&l);

	expect_ok("csms = { client_cert_dir = \"/etc/ocppgw/chargers\"; request_certificates = true;\n"
		  "  certificate_renew_days = 7; certificate_organization = \"CPO\";\n"
		  "  security_event_interval = 0; };\n"
		  "listeners = ( { listen = \"127.0.0.1:9443\";\n"
		  "  tls = { cert = \"/s.pem\"; key = \"/s.key\"; ca = \"/ca.pem\"; crl = \"/crl.pem\"; }; } );\n",
		  &l);
	cr_assert_str_eq(l.conf.csms_client_cert_dir, "/etc/ocppgw/chargers");
	cr_assert(l.conf.request_certificates);
	cr_assert_eq(l.conf.certificate_renew_days, 7);
	cr_assert_str_eq(l.conf.certificate_organization, "CPO");
	cr_assert_eq(l.conf.security_event_interval_s, 0);
	cr_assert_str_eq(l.conf.listeners[0].tls_crl, "/crl.pem");
	loaded_free(&l);

	load_text(&l, "csms = {\n  certificate_renew_days = 0;\n  security_event_interval = 3601;\n};\n");
	const char *const bad[] = {
		"2: csms.certificate_renew_days: must be between 1 and 3650",
		"3: csms.security_event_interval: must be between 0 and 3600 seconds",
	};
	cr_assert_eq(l.rc, -EINVAL);
	expect_errors(&l.errs, l.path, bad, 2);
	loaded_free(&l);

	static const char *const want[] = { " listen: tls.crl needs tls.ca (the CAs whose "
					    "revocations it lists)" };
	expect_check_errors("tls = { cert = \"/s.pem\"; key = \"/s.key\"; crl = \"/crl.pem\"; };\n",
			    want, 1);
}

/* files: off by default; listen, caps and retry settings read with their ranges. */
Test(config, files)
{
	struct loaded l;

	ogw_conf_defaults(&l.conf);
	cr_assert_null(l.conf.files_addr, "the file server is off unless files.listen is set");
	cr_assert_eq(l.conf.files_max_size, 256 * 1024 * 1024);
	cr_assert_eq(l.conf.files_max_file_size, 64 * 1024 * 1024);
	cr_assert_eq(l.conf.files_max_retries, 5);
	cr_assert_eq(l.conf.files_upload_attempts, 60);
	cr_assert_eq(l.conf.files_idle_timeout_s, 60);
	ogw_conf_clear(&l.conf);

	expect_ok("files = { listen = \"127.0.0.1:8090\"; public_url = \"http://10.0.0.2:8090\";\n"
		  " max_size = 1048576; max_file_size = 65536; max_retries = 2;\n"
		  " max_retry_interval = 5; upload_attempts = 3; upload_retry_interval = 7;\n"
		  " idle_timeout = 9; };\n", &l);
	cr_assert_str_eq(l.conf.files_addr, "127.0.0.1");
	cr_assert_eq(l.conf.files_port, 8090);
	cr_assert_str_eq(l.conf.files_public_url, "http://10.0.0.2:8090");
	cr_assert_eq(l.conf.files_max_size, 1048576);
	cr_assert_eq(l.conf.files_max_file_size, 65536);
	cr_assert_eq(l.conf.files_max_retries, 2);
	cr_assert_eq(l.conf.files_max_retry_interval_s, 5);
	cr_assert_eq(l.conf.files_upload_attempts, 3);
	cr_assert_eq(l.conf.files_upload_retry_s, 7);
	cr_assert_eq(l.conf.files_idle_timeout_s, 9);
	loaded_free(&l);

	expect_one_error("files = { max_retries = 101; };\n",
			 "1: files.max_retries: must be between 0 and 100");
	expect_one_error("files = { idle_timeout = 0; };\n",
			 "1: files.idle_timeout: must be between 1 and 3600 seconds");
	expect_one_error("files = { listen = \"8090\"; };\n",
			 "1: files.listen: expected ADDR:PORT, [IPv6]:PORT or :PORT, or \"\" for none");
}

Test(config, tls_identity)
{
	static const char *const want[] = {
		" tls.identity needs tls.cert and tls.key to serve until the CSMS has signed the "
		"gateway's own certificate",
		" tls.identity needs csms.url (ws:// or wss://): the CSMS signs the gateway's "
		"certificate",
	};
	struct loaded l;

	expect_one_error("tls = {\n  identity = \"LC 7\"; };\n",
			 "2: tls.identity: must be 1 to 48 printable ASCII characters, no ':', '/' or "
			 "space");
	expect_ok("tls = { identity = \"LC-SITE-7\"; };\n", &l);
	cr_assert_str_eq(l.conf.tls_identity, "LC-SITE-7");
	cr_assert_eq(ogw_conf_check(&l.conf, &l.errs), -EINVAL);
	expect_errors(&l.errs, l.path, want, 2);
	loaded_free(&l);
	expect_ok("tls = { cert = \"/s.pem\"; key = \"/s.key\"; identity = \"LC-SITE-7\"; };\n"
		  "csms = { url = \"ws://csms.example/ocpp\"; };\n", &l);
	cr_assert_eq(ogw_conf_check(&l.conf, &l.errs), 0);
	loaded_free(&l);
}
