/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for several CSMSs per charger in the config: a plain csms.url
 * is one primary and nothing more; secondaries, allow lists, refusals and
 * token routing at the root, per group and per charger, each level over
 * the next; and every mistake named by file:line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "ocppgw/config.h"
#include "helpers.h"

Test(config_csms, plain_csms_url_is_one_primary)
{
	struct loaded l;
	struct ogw_csms_view v;

	load_text(&l, "csms = { url = \"wss://csms.example/ocpp\"; ca = \"/ca.pem\"; };\n"
		      "chargers = ( { id = \"CP1\"; upstream_user = \"u\"; upstream_password = \"p\";"
		      " upstream_ocpp = \"2.0.1\"; } );\n");
	cr_assert_eq(l.rc, 0);
	ogw_conf_csms_for(&l.conf, "CP1", OGW_OCPP16, &v);
	cr_expect_str_eq(v.primary.name, "primary");
	cr_expect_str_eq(v.primary.url, "wss://csms.example/ocpp");
	cr_expect_str_eq(v.primary.ca, "/ca.pem");
	cr_expect_str_eq(v.primary.user, "u");
	cr_expect_str_eq(v.primary.password, "p");
	cr_expect_eq(v.primary.upstream_ocpp, OGW_OCPP201);
	cr_expect_eq(v.n_secondaries, 0);
	cr_expect_eq(v.token_routing, OGW_TOKEN_ROUTING_PRIMARY);
	/* an unlisted charger keeps its own version towards the primary */
	ogw_conf_csms_for(&l.conf, "OTHER", OGW_OCPP16, &v);
	cr_expect_eq(v.primary.upstream_ocpp, OGW_OCPP16);
	cr_expect_null(v.primary.user);
	cr_expect_eq(ogw_conf_check(&l.conf, &l.errs), 0);
	loaded_free(&l);
}

Test(config_csms, no_csms_at_all_is_no_primary)
{
	struct loaded l;
	struct ogw_csms_view v;

	load_text(&l, "listen = \"127.0.0.1:9000\";\n");
	cr_assert_eq(l.rc, 0);
	ogw_conf_csms_for(&l.conf, "CP1", OGW_OCPP201, &v);
	cr_expect_null(v.primary.url);
	cr_expect_eq(v.n_secondaries, 0);
	loaded_free(&l);
}

Test(config_csms, shipped_example_loads_and_resolves_per_group)
{
	struct loaded l;
	struct ogw_csms_view v;

	load_fixture(&l, MULTI_EXAMPLE);
	cr_assert_eq(l.rc, 0);
	cr_assert_eq(ogw_conf_check(&l.conf, &l.errs), 0);

	/* outside the group: the global list, one read-only energy manager */
	ogw_conf_csms_for(&l.conf, "CP-VISITOR", OGW_OCPP16, &v);
	cr_expect_str_eq(v.primary.url, "wss://billing.example.com/ocpp");
	cr_assert_eq(v.n_secondaries, 1);
	cr_expect_str_eq(v.secondaries[0].name, "energy");
	cr_expect_eq(v.secondaries[0].upstream_ocpp, OGW_OCPP201);
	cr_expect_not(v.secondaries[0].allow_set);
	cr_expect_eq(v.secondaries[0].refusal, OGW_CSMS_REFUSE_REJECT);
	cr_expect_eq(v.token_routing, OGW_TOKEN_ROUTING_PRIMARY);

	/* in the staff group: its own list and routing, the global primary */
	ogw_conf_csms_for(&l.conf, "CP-STAFF-2", OGW_OCPP16, &v);
	cr_expect_str_eq(v.primary.url, "wss://billing.example.com/ocpp");
	cr_expect_eq(v.token_routing, OGW_TOKEN_ROUTING_ASK);
	cr_assert_eq(v.n_secondaries, 2);
	const struct ogw_csms_conf *emp = &v.secondaries[1];
	cr_expect_str_eq(emp->name, "employer");
	cr_expect_eq(emp->upstream_ocpp, OGW_OCPP16);
	cr_expect_str_eq(emp->user, "site-7");
	cr_expect_str_eq(emp->password, "change-me");
	cr_expect(emp->allow_set);
	cr_assert_eq(emp->n_allow, 4);
	cr_expect_str_eq(emp->allow[2], "RemoteStartTransaction");
	cr_expect_eq(emp->refusal, OGW_CSMS_REFUSE_CALLERROR);
	cr_assert_eq(emp->n_tokens, 1);
	cr_expect_str_eq(emp->tokens[0], "04A2B3C4D5E6F7");
	cr_assert_eq(emp->n_token_prefixes, 1);
	cr_expect_str_eq(emp->token_prefixes[0], "EMP-");
	loaded_free(&l);
}

Test(config_csms, each_level_replaces_what_it_sets)
{
	struct loaded l;
	struct ogw_csms_view v;

	load_text(&l,
		  "csms = { url = \"ws://a.example/ocpp\"; token_routing = \"list\";\n"
		  "  secondaries = ( { name = \"s1\"; url = \"ws://s1.example/ocpp\"; } ); };\n"
		  "groups = ( { name = \"g\"; chargers = [ \"CP1\", \"CP2\", \"CP3\" ];\n"
		  "  csms = { url = \"wss://g.example/ocpp\"; ca = \"/g-ca.pem\"; }; } );\n"
		  "chargers = (\n"
		  "  { id = \"CP2\"; csms = { secondaries = (); }; },\n"
		  "  { id = \"CP3\"; csms = { url = \"ws://cp3.example/ocpp\"; token_routing = \"ask\";\n"
		  "    secondaries = ( { name = \"s2\"; url = \"mqtt://127.0.0.1/site\"; },\n"
		  "                    { name = \"s3\"; url = \"ws://s3.example/ocpp\"; } ); }; },\n"
		  "  { id = \"CP4\"; }\n"
		  ");\n");
	cr_assert_eq(l.rc, 0);
	cr_assert_eq(ogw_conf_check(&l.conf, &l.errs), 0);

	/* group: its primary, the global secondaries and routing */
	ogw_conf_csms_for(&l.conf, "CP1", OGW_OCPP16, &v);
	cr_expect_str_eq(v.primary.url, "wss://g.example/ocpp");
	cr_expect_str_eq(v.primary.ca, "/g-ca.pem");
	cr_assert_eq(v.n_secondaries, 1);
	cr_expect_str_eq(v.secondaries[0].name, "s1");
	cr_expect_eq(v.token_routing, OGW_TOKEN_ROUTING_LIST);

	/* an empty list at the charger removes the inherited secondaries */
	ogw_conf_csms_for(&l.conf, "CP2", OGW_OCPP16, &v);
	cr_expect_str_eq(v.primary.url, "wss://g.example/ocpp");
	cr_expect_eq(v.n_secondaries, 0);

	/* the charger's own everything, the group's CA still inherited */
	ogw_conf_csms_for(&l.conf, "CP3", OGW_OCPP16, &v);
	cr_expect_str_eq(v.primary.url, "ws://cp3.example/ocpp");
	cr_expect_str_eq(v.primary.ca, "/g-ca.pem");
	cr_assert_eq(v.n_secondaries, 2);
	cr_expect_str_eq(v.secondaries[0].url, "mqtt://127.0.0.1/site");
	cr_expect_str_eq(v.secondaries[1].name, "s3");
	cr_expect_eq(v.token_routing, OGW_TOKEN_ROUTING_ASK);

	/* listed without a csms block: the global set */
	ogw_conf_csms_for(&l.conf, "CP4", OGW_OCPP16, &v);
	cr_expect_str_eq(v.primary.url, "ws://a.example/ocpp");
	cr_expect_eq(v.n_secondaries, 1);
	loaded_free(&l);
}

Test(config_csms, every_bad_setting_names_its_line)
{
	struct loaded l;
	static const char *const want[] = {
		"3: csms.secondaries[0].name: must be 1 to 64 characters",
		"4: csms.secondaries[0].url: expected ws://, wss://, mqtt:// or mqtts:// and a host",
		"5: csms.secondaries[0].allow[1]: must be an OCPP action name, e.g. \"GetVariables\"",
		"6: csms.secondaries[0].refusal: expected callerror or reject",
		"7: csms.secondaries[0].tokens[0]: must be 1 to 36 printable characters",
		"8: unknown setting 'csms.secondaries[0].colour'",
		"10: csms.secondaries[2].name: duplicate CSMS 'x', first at line 9",
		"12: csms.token_routing: expected primary, list or ask",
		"14: chargers[0].csms: expected a group { ... }",
		"15: unknown setting 'groups[0].csms.upstream_ocpp'",
	};

	load_text(&l,
		  "csms = { url = \"ws://a.example/ocpp\";\n"                          /* 1 */
		  "  secondaries = ( {\n"                                               /* 2 */
		  "    name = \"\";\n"                                                  /* 3 */
		  "    url = \"http://b.example\";\n"                                   /* 4 */
		  "    allow = [ \"GetVariables\", \"Get Variables\" ];\n"              /* 5 */
		  "    refusal = \"ignore\";\n"                                         /* 6 */
		  "    tokens = [ \"0123456789012345678901234567890123456789\" ];\n"    /* 7 */
		  "    colour = \"red\"; },\n"                                          /* 8 */
		  "    { name = \"x\"; url = \"ws://d.example\"; },\n"                  /* 9 */
		  "    { name = \"x\"; url = \"ws://f.example\"; } );\n"                /* 10 */
		  "\n"                                                                  /* 11 */
		  "  token_routing = \"any\"; };\n"                                     /* 12 */
		  "chargers = (\n"                                                      /* 13 */
		  "  { id = \"CP1\"; csms = \"ws://g.example\"; } );\n"                 /* 14 */
		  "groups = ( { name = \"g\"; csms = { upstream_ocpp = \"1.6\"; }; } );\n"); /* 15 */
	cr_expect_eq(l.rc, -EINVAL);
	expect_errors(&l.errs, l.path, want, sizeof(want) / sizeof(want[0]));
	/* nothing the file got wrong is kept */
	cr_expect_eq(l.conf.csms_multi.n_secondaries, 0);
	cr_expect_eq(l.conf.csms_multi.token_routing, OGW_TOKEN_ROUTING_PRIMARY);
	loaded_free(&l);
}

Test(config_csms, every_incomplete_entry_names_its_line)
{
	struct loaded l;
	static const char *const want[] = {
		"2: csms.secondaries[0]: missing url",
		"3: csms.secondaries[1].name: \"primary\" names csms.url",
		"4: csms.secondaries[2]: cert and key go together",
		"5: csms.secondaries[3].url: expected mqtt(s)://host[:port]/<site>: the site is missing",
		"7: groups[0].csms: cert and key go together",
	};

	load_text(&l,
		  "csms = { url = \"ws://a.example/ocpp\"; secondaries = (\n"          /* 1 */
		  "    { name = \"n\"; },\n"                                           /* 2 */
		  "    { name = \"primary\"; url = \"ws://c.example\"; },\n"           /* 3 */
		  "    { name = \"k\"; url = \"ws://d.example\"; key = \"/k.pem\"; },\n" /* 4 */
		  "    { name = \"m\"; url = \"mqtt://127.0.0.1\"; } ); };\n"          /* 5 */
		  "groups = ( { name = \"g\";\n"                                       /* 6 */
		  "  csms = { url = \"wss://g.example\"; cert = \"/c.pem\"; }; } );\n"); /* 7 */
	cr_expect_eq(l.rc, -EINVAL);
	expect_errors(&l.errs, l.path, want, sizeof(want) / sizeof(want[0]));
	loaded_free(&l);
}

Test(config_csms, the_bridge_has_one_csms)
{
	struct loaded l;

	load_text(&l, "mode = \"bridge\";\n"
		      "mqtt = { url = \"mqtt://127.0.0.1/+\"; };\n"
		      "csms = { url = \"ws://a.example/ocpp\";\n"
		      "  secondaries = ( { name = \"s\"; url = \"ws://b.example/ocpp\"; } ); };\n");
	cr_assert_eq(l.rc, 0);
	cr_expect_eq(ogw_conf_check(&l.conf, &l.errs), -EINVAL);
	cr_assert_eq(l.errs.n, 1);
	cr_expect(strstr(l.errs.msgs[0], ": csms.secondaries: the bridge connects each charger "
			 "to one CSMS") != NULL, "%s", l.errs.msgs[0]);
	loaded_free(&l);
}

/* A group's or charger's own primary is a WebSocket CSMS beside a
 * WebSocket csms.url: the MQTT uplink is one broker for the gateway. */
Test(config_csms, an_own_primary_is_a_websocket_csms)
{
	static const struct {
		const char *text;
		const char *error;  /* NULL: fine */
	} cases[] = {
		{ "csms = { url = \"ws://a/ocpp\"; };\n"
		  "groups = ( { name = \"g\"; chargers = [ \"CP1\" ]; "
		  "csms = { url = \"wss://c/ocpp\"; ca = \"/c.pem\"; }; } );\n", NULL },
		{ "csms = { url = \"mqtt://broker/site\"; };\n"
		  "groups = ( { name = \"g\"; chargers = [ \"CP1\" ]; "
		  "csms = { url = \"ws://c/ocpp\"; }; } );\n",
		  "groups 'g': csms.url: a primary of its own is a ws:// or wss:// CSMS beside a "
		  "ws:// or wss:// csms.url" },
		{ "csms = { url = \"ws://a/ocpp\"; };\n"
		  "chargers = ( { id = \"CP1\"; csms = { url = \"mqtt://broker/site\"; }; } );\n",
		  "chargers 'CP1': csms.url: a primary of its own is a ws:// or wss:// CSMS" },
		{ "chargers = ( { id = \"CP1\"; csms = { url = \"ws://c/ocpp\"; }; } );\n",
		  "chargers 'CP1': csms.url: a primary of its own needs the gateway's csms.url" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct loaded l;

		load_text(&l, cases[i].text);
		cr_assert_eq(l.rc, 0, "case %zu", i);
		int r = ogw_conf_check(&l.conf, &l.errs);
		if (!cases[i].error) {
			cr_expect_eq(r, 0, "case %zu: %s", i, l.errs.n ? l.errs.msgs[0] : "");
		} else {
			cr_expect_eq(r, -EINVAL, "case %zu", i);
			bool found = false;
			for (size_t k = 0; k < l.errs.n; k++)
				found = found || strstr(l.errs.msgs[k], cases[i].error);
			cr_expect(found, "case %zu: %s", i, l.errs.n ? l.errs.msgs[0] : "(no error)");
		}
		loaded_free(&l);
	}
}

Test(config_csms, missing_tls_files_name_their_line)
{
	struct loaded l;

	load_text(&l, "csms = { url = \"ws://a.example/ocpp\"; secondaries = (\n"
		      "  { name = \"s\"; url = \"wss://b.example/ocpp\";\n"
		      "    ca = \"/nonexistent/ca.pem\"; } ); };\n"
		      "chargers = ( { id = \"CP1\"; csms = {\n"
		      "  cert = \"/nonexistent/c.pem\"; key = \"/etc\"; }; } );\n");
	cr_assert_eq(l.rc, 0);
	cr_expect_eq(ogw_conf_check_files(&l.conf, &l.errs), -EINVAL);
	cr_assert_eq(l.errs.n, 3);
	char *want[3] = { NULL };
	cr_assert_geq(asprintf(&want[0], "%s:3: csms.secondaries[0].ca: cannot use "
			       "'/nonexistent/ca.pem': No such file or directory", l.path), 0);
	cr_assert_geq(asprintf(&want[1], "%s:5: chargers[0].csms.cert: cannot use "
			       "'/nonexistent/c.pem': No such file or directory", l.path), 0);
	cr_assert_geq(asprintf(&want[2], "%s:5: chargers[0].csms.key: cannot use "
			       "'/etc': is a directory, not a file", l.path), 0);
	for (size_t i = 0; i < 3; i++) {
		cr_expect_str_eq(l.errs.msgs[i], want[i]);
		free(want[i]);
	}
	loaded_free(&l);
}

Test(config_csms, secondaries_are_capped)
{
	struct loaded l;
	char text[4096];
	int len = snprintf(text, sizeof(text), "csms = { url = \"ws://a.example/ocpp\";\n"
			   "  secondaries = (");
	for (int i = 0; i < 17; i++)
		len += snprintf(text + len, sizeof(text) - (size_t)len,
				"%s{ name = \"s%d\"; url = \"ws://b.example\"; }", i ? ", " : "", i);
	snprintf(text + len, sizeof(text) - (size_t)len, "); };\n");
	static const char *const want[] = { "2: csms.secondaries: at most 16 secondaries" };

	load_text(&l, text);
	cr_expect_eq(l.rc, -EINVAL);
	expect_errors(&l.errs, l.path, want, 1);
	cr_expect_eq(l.conf.csms_multi.n_secondaries, 0);
	loaded_free(&l);
}

/* Every csms setting is acted on now (docs/MULTI_CSMS.md): each of these
 * loads and passes the checks, with no "not built" warning left to give. */
Test(config_csms, every_csms_setting_loads_and_checks)
{
	static const char *const cases[] = {
		"csms = { url = \"ws://a/ocpp\"; };\n",
		"csms = { url = \"ws://a/ocpp\"; token_routing = \"primary\"; };\n",
		/* a ws://, wss://, mqtt:// secondary is connected, with its own
		 * TLS files too */
		"csms = { url = \"ws://a/ocpp\"; secondaries = ( { name = \"b\"; "
		  "url = \"ws://b/ocpp\"; } ); };\n",
		"csms = { url = \"ws://a/ocpp\"; secondaries = ( { name = \"b\"; "
		  "url = \"wss://b/ocpp\"; ca = \"/b-ca.pem\"; cert = \"/b.pem\"; "
		  "key = \"/b.key\"; } ); };\n",
		"csms = { url = \"ws://a/ocpp\"; secondaries = ( { name = \"b\"; "
		  "url = \"ws://b/ocpp\"; }, { name = \"m\"; url = \"mqtt://broker/site\"; } ); };\n",
		/* a secondary's charging profiles are combined with the others' */
		"csms = { url = \"ws://a/ocpp\"; secondaries = ( { name = \"b\"; "
		  "url = \"ws://b/ocpp\"; allow = [ \"GetConfiguration\", \"SetChargingProfile\" ]; } ); };\n",
		/* split by token: list and ask */
		"csms = { url = \"ws://a/ocpp\"; token_routing = \"list\"; };\n",
		"csms = { url = \"ws://a/ocpp\"; token_routing = \"ask\"; };\n",
		"csms = { url = \"ws://a/ocpp\"; };\n"
		  "groups = ( { name = \"g\"; chargers = [ \"CP1\" ]; "
		  "csms = { url = \"ws://c/ocpp\"; }; } );\n",
		"csms = { url = \"ws://a/ocpp\"; };\n"
		  "chargers = ( { id = \"CP1\"; csms = { secondaries = (); }; } );\n",
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct loaded l;

		load_text(&l, cases[i]);
		cr_assert_eq(l.rc, 0, "case %zu", i);
		int r = ogw_conf_check(&l.conf, &l.errs);
		cr_expect_eq(r, 0, "case %zu: %s", i, l.errs.n ? l.errs.msgs[0] : "");
		loaded_free(&l);
	}
}
