/* SPDX-License-Identifier: MIT */
/*
 * Tests of the two OCPP 2.x translators (2.1 charger behind a 2.0.1 CSMS
 * and the reverse): every golden fixture under tests/fixtures/translators/
 * v21_v201/ and v201_v21/ runs through the fake session, which validates
 * each payload against the project's schemas, and each table is checked
 * against schemas/<version>/actions.json. It does not test the session.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_env.h"
#include "ocppgw/translator.h"
#include "../../../translators/v21_adapt.h"

/* ---- tables ------------------------------------------------------------- */

/* A 2.1 SEND goes charger -> CSMS, so it belongs in the up table. */
static bool dir_matches(const char *dirtext, enum ogw_tr_dir dir)
{
	if (!strcmp(dirtext, "both"))
		return true;
	if (dir == OGW_TR_UP)
		return !strcmp(dirtext, "up") || !strcmp(dirtext, "send");
	return !strcmp(dirtext, "down");
}

static void check_table(const struct ogw_translator *tr, enum ogw_tr_dir dir)
{
	enum ogw_ocpp src = dir == OGW_TR_UP ? tr->south : tr->north;
	const struct ogw_tr_action *tab = dir == OGW_TR_UP ? tr->up : tr->down;
	size_t n = dir == OGW_TR_UP ? tr->n_up : tr->n_down;
	const char *dname = dir == OGW_TR_UP ? "up" : "down";
	char path[1024];
	json_t *doc, *actions, *v;
	const char *name;

	snprintf(path, sizeof(path), "%s/schemas/%s/actions.json", OGW_SRC_DIR, ogw_ocpp_name(src));
	doc = json_load_file(path, 0, NULL);
	cr_assert_not_null(doc, "cannot read %s", path);
	actions = json_object_get(doc, "actions");
	for (size_t i = 0; i < n; i++) {
		json_t *d = json_object_get(actions, tab[i].action);
		if (i)
			cr_expect_lt(strcmp(tab[i - 1].action, tab[i].action), 0,
				     "%s table not sorted at %s", dname, tab[i].action);
		cr_expect(d && dir_matches(json_string_value(d), dir),
			  "%s entry %s is not a %s %s action", dname, tab[i].action,
			  ogw_ocpp_name(src), dname);
		cr_expect_not_null(tab[i].call, "%s: no call()", tab[i].action);
		cr_expect(tab[i].target && tab[i].target[0], "%s: no target", tab[i].action);
		cr_expect(tab[i].kind != OGW_TR_MAPPED || !strcmp(tab[i].target, tab[i].action),
			  "%s: a mapped 2.x action keeps its name", tab[i].action);
	}
	json_object_foreach(actions, name, v) {
		if (dir_matches(json_string_value(v), dir))
			cr_expect_not_null(ogw_translator_action(tr, dir, name),
					   "%s action %s (%s) has no %s entry", ogw_ocpp_name(src),
					   name, json_string_value(v), dname);
	}
	json_decref(doc);
}

Test(tables, v21_v201)
{
	const struct ogw_translator *tr = ogw_translator_find(OGW_OCPP21, OGW_OCPP201);
	cr_assert_not_null(tr);
	check_table(tr, OGW_TR_UP);
	check_table(tr, OGW_TR_DOWN);
}

Test(tables, v201_v21)
{
	const struct ogw_translator *tr = ogw_translator_find(OGW_OCPP201, OGW_OCPP21);
	cr_assert_not_null(tr);
	check_table(tr, OGW_TR_UP);
	check_table(tr, OGW_TR_DOWN);
}

/* ---- golden fixtures ------------------------------------------------------ */

static const struct {
	const char *name;
	enum ogw_tr_outcome outcome;
} outcomes[] = {
	{ "FORWARD", OGW_TR_FORWARD },
	{ "ANSWER", OGW_TR_ANSWER },
	{ "ERROR", OGW_TR_ERROR },
};

static void expect_json(const char *fx, const char *what, const json_t *got, const json_t *want)
{
	char *g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	char *w = json_dumps(want, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	cr_expect(json_equal(got, want), "%s: %s\n  got:  %s\n  want: %s", fx, what,
		  g ? g : "(null)", w ? w : "(null)");
	free(g);
	free(w);
}

/*
 * One fixture: {"dir", "action", "payload", "outcome", "expect" (FORWARD,
 * ANSWER), "error" (ERROR: the CALLERROR code), and for FORWARD optionally
 * "result" (the other leg's CALLRESULT) with "expect_result" (the caller's
 * CALLRESULT, or "error" when it cannot be represented)}.
 */
static void run_fixture(const struct ogw_translator *tr, const char *rel)
{
	json_t *fx = fake_fixture(rel);
	const char *dtext = json_string_value(json_object_get(fx, "dir"));
	const char *action = json_string_value(json_object_get(fx, "action"));
	const char *otext = json_string_value(json_object_get(fx, "outcome"));
	enum ogw_tr_dir dir;
	struct ogw_tr_env *env = fake_env_new(tr);
	struct ogw_tr_out out;
	size_t i;

	cr_assert(dtext && action && otext, "%s: dir, action and outcome are required", rel);
	dir = strcmp(dtext, "up") ? OGW_TR_DOWN : OGW_TR_UP;
	fake_env_call(env, dir, action, json_object_get(fx, "payload"), &out);
	for (i = 0; i < sizeof(outcomes) / sizeof(outcomes[0]); i++)
		if (!strcmp(outcomes[i].name, otext))
			break;
	cr_assert_lt(i, sizeof(outcomes) / sizeof(outcomes[0]), "%s: outcome %s", rel, otext);
	cr_expect_eq(out.outcome, outcomes[i].outcome, "%s: outcome %d, want %s (%s)", rel,
		     out.outcome, otext, out.desc);

	if (out.outcome == OGW_TR_ERROR) {
		enum ogw_err want = OGW_ERR_NONE;
		cr_expect_eq(ogw_err_parse(json_string_value(json_object_get(fx, "error")), &want), 0,
			     "%s: \"error\" must name a CALLERROR code", rel);
		cr_expect_eq(out.err, want, "%s: error %s, desc %s", rel,
			     ogw_err_code(out.err, OGW_OCPP21), out.desc);
		cr_expect(out.desc[0], "%s: CALLERROR without a description", rel);
	} else if (out.outcome == OGW_TR_FORWARD || out.outcome == OGW_TR_ANSWER) {
		expect_json(rel, "payload", out.payload, json_object_get(fx, "expect"));
	}
	if (out.outcome == OGW_TR_FORWARD) {
		const char *fwd = json_string_value(json_object_get(fx, "forward_action"));
		json_t *result = json_object_get(fx, "result");
		json_t *want = json_object_get(fx, "expect_result");
		cr_expect_str_eq(out.action, fwd ? fwd : action, "%s: forwarded action", rel);
		if (result && json_is_string(want)) {
			/* cannot be represented: the session answers InternalError */
			const struct ogw_tr_action *a = ogw_translator_action(tr, dir, action);
			json_t *ret = NULL;
			cr_expect_neq(a->result(env, out.memo, result, &ret), 0,
				      "%s: result() accepted what it cannot represent", rel);
			cr_expect_null(ret, "%s: result() failed but returned a payload", rel);
		} else if (result) {
			json_t *ret = fake_env_result(env, dir, action, &out, result);
			expect_json(rel, "result", ret, want);
			json_decref(ret);
		}
	}
	cr_expect_eq(fake_env_n_emitted(env), 0, "%s: 2.x translators emit nothing", rel);
	fake_out_clear(&out);
	fake_env_free(env);
	json_decref(fx);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs every *.json fixture of @pair; returns how many ran. */
static size_t run_pair(const struct ogw_translator *tr, const char *pair)
{
	char dir[1024], rel[512];
	char **names = NULL;
	size_t n = 0;
	struct dirent *e;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/tests/fixtures/translators/%s", OGW_SRC_DIR, pair);
	d = opendir(dir);
	cr_assert_not_null(d, "cannot open %s", dir);
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len < 6 || strcmp(e->d_name + len - 5, ".json"))
			continue;
		names = realloc(names, (n + 1) * sizeof(*names));
		cr_assert_not_null(names);
		names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; i < n; i++) {
		snprintf(rel, sizeof(rel), "%s/%s", pair, names[i]);
		run_fixture(tr, rel);
		free(names[i]);
	}
	free(names);
	return n;
}

Test(fixtures, v21_v201)
{
	const struct ogw_translator *tr = ogw_translator_find(OGW_OCPP21, OGW_OCPP201);
	cr_assert_not_null(tr);
	cr_expect_gt(run_pair(tr, "v21_v201"), 10);
}

Test(fixtures, v201_v21)
{
	const struct ogw_translator *tr = ogw_translator_find(OGW_OCPP201, OGW_OCPP21);
	cr_assert_not_null(tr);
	cr_expect_gt(run_pair(tr, "v201_v21"), 10);
}

/* ---- every shared action, both ways ----------------------------------------- */

/* An unchanged minimal payload of every shared action: the adapter must
 * pass what needs no change untouched, whichever way it goes. */
static const struct {
	const char *action;
	bool response;
	const char *json;
} unchanged[] = {
	{ "Heartbeat", false, "{}" },
	{ "Heartbeat", true, "{\"currentTime\":\"2025-01-01T00:00:00Z\"}" },
	{ "StatusNotification", false, "{\"timestamp\":\"2025-01-01T00:00:00Z\","
	  "\"connectorStatus\":\"Occupied\",\"evseId\":1,\"connectorId\":1}" },
	{ "GetLocalListVersion", true, "{\"versionNumber\":7}" },
	{ "CostUpdated", false, "{\"totalCost\":1.5,\"transactionId\":\"tx-1\"}" },
	{ "BootNotification", false, "{\"reason\":\"PowerUp\",\"chargingStation\":"
	  "{\"model\":\"M\",\"vendorName\":\"V\"}}" },
};

Test(adapter, passes_unchanged_payloads)
{
	for (size_t i = 0; i < sizeof(unchanged) / sizeof(unchanged[0]); i++) {
		json_t *in = fake_json(unchanged[i].json);
		json_t *down = NULL, *up = NULL;
		struct ogw_tr21_fault f;
		cr_assert_eq(ogw_tr21_adapt_down(unchanged[i].action, unchanged[i].response, in,
						 &down, &f), 0, "%s", unchanged[i].action);
		cr_assert_eq(ogw_tr21_adapt_up(unchanged[i].action, unchanged[i].response, in, &up,
					       &f), 0, "%s", unchanged[i].action);
		fake_assert_valid(OGW_OCPP201, unchanged[i].action, unchanged[i].response, down);
		fake_assert_valid(OGW_OCPP21, unchanged[i].action, unchanged[i].response, up);
		cr_expect(json_equal(in, down) && json_equal(in, up), "%s changed",
			  unchanged[i].action);
		json_decref(in);
		json_decref(down);
		json_decref(up);
	}
}

Test(adapter, truncates_text_by_code_point)
{
	/* 600 two-byte characters: cut to 512 characters, not bytes */
	char text[1300] = "";
	for (int i = 0; i < 600; i++)
		strcat(text, "\xc3\xa9");
	json_t *in = json_pack("{s:s,s:{s:s,s:s}}", "status", "Accepted", "statusInfo",
			       "reasonCode", "r", "additionalInfo", text);
	json_t *out = NULL;
	struct ogw_tr21_fault f;
	cr_assert_eq(ogw_tr21_adapt_down("ClearCache", true, in, &out, &f), 0);
	fake_assert_valid(OGW_OCPP201, "ClearCache", true, out);
	cr_expect_eq(strlen(json_string_value(fake_path(out, "statusInfo.additionalInfo"))), 1024);
	json_decref(in);
	json_decref(out);
}

/* ---- issue 20, finding 13: 2.1 -> 2.0.1 keeps what a CSMS relies on ------- */

/* Adapts @json (@action's request) to 2.0.1 and checks it is valid there. */
static json_t *down201(const char *action, const char *json)
{
	json_t *in = fake_json(json), *out = NULL;
	struct ogw_tr21_fault f;

	cr_assert_eq(ogw_tr21_adapt_down(action, false, in, &out, &f), 0, "%s: %s", action, f.desc);
	fake_assert_valid(OGW_OCPP201, action, false, out);
	json_decref(in);
	return out;
}

#define PROFILE(unit, period)                                                              \
	"{\"evseId\":1,\"chargingProfile\":{\"id\":3,\"stackLevel\":0,"                       \
	"\"chargingProfilePurpose\":\"TxDefaultProfile\",\"chargingProfileKind\":\"Absolute\"," \
	"\"chargingSchedule\":[{\"id\":1,\"chargingRateUnit\":\"" unit "\","                 \
	"\"chargingSchedulePeriod\":[" period "]}]}}"

/* No phase may get more than the 2.1 CSMS allowed it: the 2.0.1 limit
 * (one for all phases) is the tightest per-phase limit. */
Test(issue20, per_phase_limits_never_overload_a_phase)
{
	json_t *a = down201("SetChargingProfile",
			    PROFILE("A", "{\"startPeriod\":0,\"limit\":32,\"limit_L2\":16,\"limit_L3\":20}"));
	json_t *w = down201("SetChargingProfile",
			    PROFILE("W", "{\"startPeriod\":0,\"limit\":7000,\"limit_L2\":4000,"
					 "\"limit_L3\":7000,\"numberPhases\":3}"));
	json_t *plain = down201("SetChargingProfile",
				PROFILE("W", "{\"startPeriod\":0,\"limit\":11000}"));
	const char *per = "chargingProfile.chargingSchedule[0].chargingSchedulePeriod[0]";
	char path[128];

	snprintf(path, sizeof(path), "%s.limit", per);
	fake_assert_int(a, path, 16);
	/* W: 2.0.1's limit is the sum over 3 phases, each at most 4000 W */
	fake_assert_int(w, path, 12000);
	fake_assert_int(plain, path, 11000);
	snprintf(path, sizeof(path), "%s.limit_L2", per);
	cr_assert_null(fake_path(a, path));
	json_decref(a);
	json_decref(w);
	json_decref(plain);
}

#define TX21(trigger, type, extra)                                                     \
	"{\"eventType\":\"" type "\",\"timestamp\":\"2025-03-01T10:00:00Z\","              \
	"\"triggerReason\":\"" trigger "\",\"seqNo\":2,\"transactionInfo\":{"             \
	"\"transactionId\":\"tx-c\"" extra

/* costDetails is kept (in customData), a cost limit is not reported as a
 * withdrawn token, and the Ended it causes says LocalOutOfCredit. */
Test(issue20, cost_facts_are_kept)
{
	json_t *ev = down201("TransactionEvent",
			     TX21("CostLimitReached", "Ended", "},\"costDetails\":{\"totalCost\":{"
				  "\"currency\":\"EUR\",\"typeOfCost\":\"NormalCost\",\"total\":{"
				  "\"inclTax\":4.2}},\"totalUsage\":{\"energy\":9000,\"chargingTime\":"
				  "3600,\"idleTime\":0}}}"));
	json_t *tariff = down201("TransactionEvent",
				 TX21("TariffNotAccepted", "Updated", ",\"chargingState\":\"EVConnected\"}}"));

	cr_assert_str_neq(json_string_value(json_object_get(ev, "triggerReason")), "Deauthorized");
	/* 2.0.1's trigger for a pre-paid limit, as its own stations say it */
	fake_assert_str(ev, "triggerReason", "EnergyLimitReached");
	fake_assert_str(ev, "transactionInfo.stoppedReason", "LocalOutOfCredit");
	fake_assert_str(ev, "customData.triggerReason", "CostLimitReached");
	fake_assert_str(ev, "customData.costDetails.totalCost.currency", "EUR");
	cr_assert_eq(json_real_value(fake_path(ev, "customData.costDetails.totalCost.total.inclTax")),
		     4.2);
	cr_assert_str_neq(json_string_value(json_object_get(tariff, "triggerReason")), "Deauthorized");
	fake_assert_str(tariff, "customData.triggerReason", "TariffNotAccepted");
	json_decref(ev);
	json_decref(tariff);
}
