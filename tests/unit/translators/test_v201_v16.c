/* SPDX-License-Identifier: MIT */
/*
 * Golden tests of the 2.0.1-station / 1.6-central-system translator: every
 * file in tests/fixtures/translators/v201_v16/ is a scenario of steps (a
 * CALL with its expected outcome, the other leg's CALLRESULT, answers fed to
 * the gateway's own calls, the response timeout of a keyed deferral) with
 * the state before and after. The fake
 * environment checks every payload crossing it against the schemas; this
 * file checks the payloads against the fixtures.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ocppgw/ocpp.h"
#include "ocppgw/translator.h"

#include "fake_env.h"

extern const struct ogw_translator ogw_tr_v201_v16;

#define FIXTURE_DIR "v201_v16"

struct fixture_name {
	char name[128];
};

static void assert_json_eq(const json_t *got, const json_t *want, const char *file,
			   const char *what)
{
	char *g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	char *w = json_dumps(want, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	cr_assert(json_equal((json_t *)got, (json_t *)want), "%s: %s\n  got:  %s\n  want: %s",
		  file, what, g ? g : "(null)", w ? w : "(null)");
	free(g);
	free(w);
}

static enum ogw_tr_dir parse_dir(const char *file, const json_t *j)
{
	const char *d = json_string_value(json_object_get(j, "dir"));
	cr_assert(d && (!strcmp(d, "up") || !strcmp(d, "down")), "%s: dir must be up or down",
		  file);
	return strcmp(d, "up") ? OGW_TR_DOWN : OGW_TR_UP;
}

static const char *const outcome_names[] = {
	[OGW_TR_FORWARD] = "forward",
	[OGW_TR_ANSWER] = "answer",
	[OGW_TR_DEFER] = "defer",
	[OGW_TR_ERROR] = "error",
};

/* Runs the CALL of @step and checks its outcome (and result, if given). */
static void run_call(struct ogw_tr_env *env, const char *file, const json_t *step)
{
	enum ogw_tr_dir dir = parse_dir(file, step);
	const char *action = json_string_value(json_object_get(step, "action"));
	const json_t *expect = json_object_get(step, "expect");
	const char *outcome = json_string_value(json_object_get(expect, "outcome"));
	const json_t *want;
	struct ogw_tr_out out = { 0 };

	cr_assert_not_null(outcome, "%s: %s step without expect.outcome", file, action);
	fake_env_call(env, dir, action, json_object_get(step, "payload"), &out);
	cr_assert_str_eq(outcome_names[out.outcome], outcome, "%s: %s outcome", file, action);
	if (out.outcome == OGW_TR_FORWARD)
		cr_assert_str_eq(out.action, json_string_value(json_object_get(expect, "action")),
				 "%s: %s forwarded as", file, action);
	if (out.outcome == OGW_TR_ERROR)
		cr_assert_str_eq(ogw_err_code(out.err, dir == OGW_TR_UP ? OGW_OCPP201 : OGW_OCPP16),
				 json_string_value(json_object_get(expect, "err")),
				 "%s: %s error (%s)", file, action, out.desc);
	want = json_object_get(expect, "payload");
	if (out.outcome == OGW_TR_FORWARD || out.outcome == OGW_TR_ANSWER) {
		cr_assert_not_null(want, "%s: %s: expect.payload missing", file, action);
		assert_json_eq(out.payload, want, file, "payload");
	}
	if (json_object_get(step, "result")) {
		json_t *got;
		cr_assert_eq(out.outcome, OGW_TR_FORWARD, "%s: result for a non-forwarded call", file);
		got = fake_env_result(env, dir, action, &out, json_object_get(step, "result"));
		assert_json_eq(got, json_object_get(step, "result_expect"), file, "result");
		json_decref(got);
	}
	fake_out_clear(&out);
}

/* Feeds @step's replies to the gateway's own calls (by index in emission
 * order; a null result stands for a CALLERROR or timeout). */
static void run_replies(struct ogw_tr_env *env, const char *file, const json_t *step)
{
	const json_t *r;
	size_t i;

	json_array_foreach(json_object_get(step, "reply"), i, r) {
		const json_t *res = json_object_get(r, "result");
		cr_assert(json_is_integer(json_object_get(r, "call")), "%s: reply without call", file);
		fake_env_reply(env, (size_t)json_integer_value(json_object_get(r, "call")),
			       json_is_null(res) ? NULL : res);
	}
}

/* The calls emitted since @from must be exactly @want. */
static void check_emitted(struct ogw_tr_env *env, const char *file, size_t from,
			  const json_t *want)
{
	const json_t *w;
	size_t i;

	cr_assert_eq(fake_env_n_emitted(env) - from, json_array_size(want),
		     "%s: %zu calls emitted, %zu expected", file, fake_env_n_emitted(env) - from,
		     json_array_size(want));
	json_array_foreach(want, i, w) {
		const struct fake_call *c = fake_env_emitted(env, from + i);
		cr_assert_eq(c->dir, parse_dir(file, w), "%s: emitted call %zu direction", file, i);
		cr_assert_str_eq(c->action, json_string_value(json_object_get(w, "action")),
				 "%s: emitted call %zu", file, from + i);
		assert_json_eq(c->payload, json_object_get(w, "payload"), file, c->action);
	}
}

/* The deferred answers given since @from must be exactly @want. */
static void check_answers(struct ogw_tr_env *env, const char *file, size_t from,
			  const json_t *want)
{
	const json_t *w;
	size_t i;

	cr_assert_eq(fake_env_n_answers(env) - from, json_array_size(want),
		     "%s: %zu deferred answers, %zu expected", file, fake_env_n_answers(env) - from,
		     json_array_size(want));
	json_array_foreach(want, i, w) {
		const struct fake_answer *a = fake_env_answer(env, from + i);
		if (json_is_true(json_object_get(w, "error")))
			cr_assert_null(a->payload, "%s: answer %zu should be a CALLERROR", file, i);
		else
			assert_json_eq(a->payload, json_object_get(w, "payload"), file,
				       "deferred answer");
	}
}

/* Each key of @want must hold that value in the state; null means absent. */
static void check_state(struct ogw_tr_env *env, const char *file, const json_t *want)
{
	const char *key;
	const json_t *v;

	json_object_foreach((json_t *)want, key, v) {
		json_t *got = json_object_get(fake_env_state(env), key);
		if (json_is_null(v))
			cr_assert_null(got, "%s: state %s should be gone", file, key);
		else
			assert_json_eq(got, v, file, key);
	}
}

static void run_fixture(const char *name)
{
	char rel[256];
	json_t *fx, *steps, *step;
	struct ogw_tr_env *env = fake_env_new(&ogw_tr_v201_v16);
	const char *key;
	json_t *v;
	size_t i;

	snprintf(rel, sizeof(rel), FIXTURE_DIR "/%s", name);
	fx = fake_fixture(rel);
	json_object_foreach(json_object_get(fx, "state"), key, v)
		cr_assert_eq(ogw_tr_state_put(env, key, json_deep_copy(v)), 0, "%s: state %s", name,
			     key);
	steps = json_object_get(fx, "steps");
	cr_assert(json_array_size(steps) > 0, "%s: no steps", name);
	json_array_foreach(steps, i, step) {
		size_t n_emitted = fake_env_n_emitted(env), n_answers = fake_env_n_answers(env);

		if (json_object_get(step, "action"))
			run_call(env, name, step);
		run_replies(env, name, step);
		if (json_object_get(step, "expire"))
			cr_assert(fake_env_expire(env, json_string_value(json_object_get(step, "expire"))),
				  "%s: nothing deferred under %s", name,
				  json_string_value(json_object_get(step, "expire")));
		check_emitted(env, name, n_emitted, json_object_get(step, "emitted"));
		check_answers(env, name, n_answers, json_object_get(step, "answers"));
	}
	check_state(env, name, json_object_get(fx, "state_after"));
	cr_assert_eq(fake_env_n_pending(env),
		     (size_t)json_integer_value(json_object_get(fx, "pending_after")),
		     "%s: calls still deferred", name);
	json_decref(fx);
	fake_env_free(env);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct fixture_name *)a)->name, ((const struct fixture_name *)b)->name);
}

ParameterizedTestParameters(v201_v16, fixture)
{
	DIR *d = opendir(OGW_SRC_DIR "/tests/fixtures/translators/" FIXTURE_DIR);
	struct fixture_name *names = NULL;
	struct dirent *e;
	size_t n = 0, cap = 0;

	if (!d)
		return cr_make_param_array(struct fixture_name, NULL, 0);
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len < 6 || strcmp(e->d_name + len - 5, ".json") || len >= sizeof(names->name))
			continue;
		if (n == cap) {
			struct fixture_name *bigger = cr_calloc(cap ? cap * 2 : 64, sizeof(*names));
			if (!bigger)
				break;
			if (names)
				memcpy(bigger, names, n * sizeof(*names));
			cr_free(names);
			names = bigger;
			cap = cap ? cap * 2 : 64;
		}
		memcpy(names[n++].name, e->d_name, len + 1); /* len < sizeof name: checked above */
	}
	closedir(d);
	qsort(names, n, sizeof(*names), by_name);
	return cr_make_param_array(struct fixture_name, names, n);
}

ParameterizedTest(struct fixture_name *f, v201_v16, fixture)
{
	run_fixture(f->name);
}

Test(v201_v16, tables_complete_and_sorted)
{
	fake_assert_tables(&ogw_tr_v201_v16);
}

/* The fixture directory must hold a scenario for every entry of both tables
 * (files named <up|down>-<Action>*.json), so no action goes untested. */
Test(v201_v16, every_action_has_a_fixture)
{
	const struct ogw_translator *t = &ogw_tr_v201_v16;
	for (int d = 0; d < 2; d++) {
		const struct ogw_tr_action *tab = d ? t->down : t->up;
		size_t n = d ? t->n_down : t->n_up;
		for (size_t i = 0; i < n; i++) {
			char prefix[96];
			DIR *dir = opendir(OGW_SRC_DIR "/tests/fixtures/translators/" FIXTURE_DIR);
			struct dirent *e;
			bool found = false;

			cr_assert_not_null(dir);
			snprintf(prefix, sizeof(prefix), "%s-%s", d ? "down" : "up", tab[i].action);
			while (!found && (e = readdir(dir)))
				found = !strncmp(e->d_name, prefix, strlen(prefix)) &&
					(e->d_name[strlen(prefix)] == '.' ||
					 e->d_name[strlen(prefix)] == '-');
			closedir(dir);
			cr_expect(found, "no fixture %s*.json", prefix);
		}
	}
}

/* Running out of emits must not leave a half-started transaction: the
 * event fails and its retry starts over. */
Test(v201_v16, start_emit_failure_rolls_back)
{
	struct ogw_tr_env *env = fake_env_new(&ogw_tr_v201_v16);
	struct ogw_tr_out out = { 0 };
	const struct ogw_tr_action *a = ogw_translator_action(&ogw_tr_v201_v16, OGW_TR_UP,
							      "TransactionEvent");
	json_t *ev = fake_json("{\"eventType\":\"Started\",\"timestamp\":\"2024-05-01T10:00:00Z\","
			       "\"triggerReason\":\"Authorized\",\"seqNo\":0,"
			       "\"transactionInfo\":{\"transactionId\":\"T1\",\"chargingState\":\"Charging\"},"
			       "\"evse\":{\"id\":1,\"connectorId\":1},"
			       "\"idToken\":{\"idToken\":\"AABBCCDD\",\"type\":\"ISO14443\"}}");

	cr_assert_not_null(a);
	fake_env_fail_emit(env, -EIO);
	cr_assert_eq(a->call(env, ev, &out), -EIO);
	cr_assert_eq(json_array_size(fake_path(fake_env_state(env), "tx:T1.queue")), 0);
	cr_assert_null(fake_path(fake_env_state(env), "tx:T1.cs"));
	cr_assert_eq(fake_env_n_pending(env), 0);
	fake_env_fail_emit(env, 0);
	fake_env_call(env, OGW_TR_UP, "TransactionEvent", ev, &out);
	cr_assert_eq(out.outcome, OGW_TR_DEFER);
	cr_assert_eq(fake_env_n_emitted(env), 1);
	fake_assert_str(fake_env_emitted(env, 0)->payload, "idTag", "AABBCCDD");
	/* A lost answer: the held event gets a CALLERROR, nothing stays deferred. */
	fake_env_reply(env, 0, NULL);
	cr_assert_eq(fake_env_n_answers(env), 1);
	cr_assert_null(fake_env_answer(env, 0)->payload);
	cr_assert_eq(fake_env_n_pending(env), 0);
	fake_out_clear(&out);
	json_decref(ev);
	fake_env_free(env);
}

/* GetConfiguration without keys when the gateway cannot send GetBaseReport:
 * the GetVariables path, forwarded as a plain call, and no report state. */
Test(v201_v16, report_emit_failure_forwards_get_variables)
{
	struct ogw_tr_env *env = fake_env_new(&ogw_tr_v201_v16);
	struct ogw_tr_out out = { 0 };
	json_t *res;

	fake_env_fail_emit(env, -ENOTCONN);
	fake_env_call_text(env, OGW_TR_DOWN, "GetConfiguration", "{}", &out);
	cr_assert_eq(out.outcome, OGW_TR_FORWARD);
	cr_assert_str_eq(out.action, "GetVariables");
	cr_assert_eq(json_array_size(fake_path(out.payload, "getVariableData")), 42);
	cr_assert_eq(fake_env_n_pending(env), 0);
	cr_assert_null(json_object_get(fake_env_state(env), "report"));
	res = fake_env_result_text(env, OGW_TR_DOWN, "GetConfiguration", &out,
				   "{\"getVariableResult\":[{\"component\":{\"name\":\"OCPPCommCtrlr\"},"
				   "\"variable\":{\"name\":\"HeartbeatInterval\"},"
				   "\"attributeStatus\":\"Accepted\",\"attributeValue\":\"60\"}]}");
	fake_assert_str(res, "configurationKey[0].key", "HeartbeatInterval");
	fake_assert_str(res, "configurationKey[0].value", "60");
	cr_assert_null(json_object_get(res, "unknownKey"));
	json_decref(res);
	fake_out_clear(&out);
	fake_env_free(env);
}

/* GetBaseReport refused and the fallback GetVariables cannot be sent: the
 * central system gets a CALLERROR, nothing stays deferred or stored. */
Test(v201_v16, report_refused_and_fallback_unsent)
{
	struct ogw_tr_env *env = fake_env_new(&ogw_tr_v201_v16);
	struct ogw_tr_out out = { 0 };

	fake_env_call_text(env, OGW_TR_DOWN, "GetConfiguration", "{}", &out);
	cr_assert_eq(out.outcome, OGW_TR_DEFER);
	cr_assert_str_eq(fake_env_emitted(env, 0)->action, "GetBaseReport");
	cr_assert_not_null(json_object_get(fake_env_state(env), "report"));
	fake_env_fail_emit(env, -ENOTCONN);
	fake_env_reply_text(env, 0, "{\"status\":\"Rejected\"}");
	cr_assert_eq(fake_env_n_emitted(env), 1);
	cr_assert_eq(fake_env_n_answers(env), 1);
	cr_assert_null(fake_env_answer(env, 0)->payload);
	cr_assert_eq(fake_env_n_pending(env), 0);
	cr_assert_null(json_object_get(fake_env_state(env), "report"));
	fake_out_clear(&out);
	fake_env_free(env);
}

/* A value longer than 1.6's CiString500 is cut to 500 characters. */
Test(v201_v16, report_value_cut_to_cistring500)
{
	struct ogw_tr_env *env = fake_env_new(&ogw_tr_v201_v16);
	struct ogw_tr_out out = { 0 };
	char value[701];
	json_t *part;

	memset(value, 'A', sizeof(value) - 1);
	value[sizeof(value) - 1] = '\0';
	fake_env_call_text(env, OGW_TR_DOWN, "GetConfiguration", "{}", &out);
	fake_env_reply_text(env, 0, "{\"status\":\"Accepted\"}");
	part = json_pack("{s:i, s:s, s:i, s:[{s:{s:s}, s:{s:s}, s:[{s:s}]}]}", "requestId", 1,
			 "generatedAt", "2024-05-01T10:00:00Z", "seqNo", 0, "reportData",
			 "component", "name", "SecurityCtrlr", "variable", "name",
			 "OrganizationName", "variableAttribute", "value", value);
	cr_assert_not_null(part);
	fake_env_call(env, OGW_TR_UP, "NotifyReport", part, &out);
	cr_assert_eq(out.outcome, OGW_TR_ANSWER);
	cr_assert_eq(fake_env_n_answers(env), 1);
	fake_assert_str(fake_env_answer(env, 0)->payload, "configurationKey[0].key", "CpoName");
	cr_assert_eq(strlen(json_string_value(fake_path(fake_env_answer(env, 0)->payload,
							 "configurationKey[0].value"))),
		     500);
	json_decref(part);
	fake_out_clear(&out);
	fake_env_free(env);
}
