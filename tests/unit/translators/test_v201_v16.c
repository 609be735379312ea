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
			       "\"idToken\":{\"idToken\":\"AABBCCDD\",\"type\":\"ISO14443\"},"
			       "\"meterValue\":[{\"timestamp\":\"2024-05-01T10:00:00Z\",\"sampledValue\":"
			       "[{\"value\":1234,\"measurand\":\"Energy.Active.Import.Register\"}]}]}");

	cr_assert_not_null(a);
	fake_env_fail_emit(env, -EIO);
	cr_assert_eq(a->call(env, ev, &out), -EIO);
	cr_assert_eq(json_array_size(fake_path(fake_env_state(env), "tx:T1.queue")), 0);
	cr_assert_null(fake_path(fake_env_state(env), "tx:T1.cs16"));
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

/* ---- issue 20: what the 1.6 central system concludes ---------------------- */

/* Runs the up TransactionEvent @json and returns its outcome. */
static enum ogw_tr_outcome te(struct ogw_tr_env *env, const char *json, struct ogw_tr_out *out)
{
	fake_out_clear(out);
	fake_env_call_text(env, OGW_TR_UP, "TransactionEvent", json, out);
	return out->outcome;
}

/* The statuses of the StatusNotifications the gateway emitted itself, in
 * order, as one comma-separated string. */
static void statuses(struct ogw_tr_env *env, char *buf, size_t len)
{
	buf[0] = '\0';
	for (size_t i = 0; i < fake_env_n_emitted(env); i++) {
		const struct fake_call *c = fake_env_emitted(env, i);
		if (strcmp(c->action, "StatusNotification"))
			continue;
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", buf[0] ? "," : "",
			 json_string_value(json_object_get(c->payload, "status")));
	}
}

#define EV(type, seq, extra)                                                              \
	"{\"eventType\":\"" type "\",\"timestamp\":\"2024-05-01T10:0" #seq ":00Z\","        \
	"\"triggerReason\":\"Trigger\",\"seqNo\":" #seq ",\"evse\":{\"id\":1,\"connectorId\":1}," \
	extra "}"
#define REG(wh) \
	"\"meterValue\":[{\"timestamp\":\"2024-05-01T10:00:00Z\",\"sampledValue\":[{\"value\":" \
	#wh ",\"measurand\":\"Energy.Active.Import.Register\"}]}]"

/* Answers the gateway's StartTransaction with 1.6 id @id16; returns its
 * index among the emitted calls. */
static long confirm_start(struct ogw_tr_env *env, int id16)
{
	long start = fake_env_find(env, "StartTransaction", 0);
	char res[96];

	cr_assert_geq(start, 0, "no StartTransaction");
	snprintf(res, sizeof(res), "{\"idTagInfo\":{\"status\":\"Accepted\"},\"transactionId\":%d}",
		 id16);
	fake_env_reply_text(env, (size_t)start, res);
	return start;
}

/* Finding 1: a remote start whose Started carries remoteStartId and no
 * idToken reaches the central system as StartTransaction with the
 * RemoteStart's idTag, and its Ended as StopTransaction. */
Test(issue20, remote_start_without_idtoken_is_billed)
{
	struct ogw_tr_env *env = fake_env_new(&ogw_tr_v201_v16);
	struct ogw_tr_out out = { 0 };
	long start, stop;
	json_t *rs;

	fake_env_call_text(env, OGW_TR_DOWN, "RemoteStartTransaction",
			   "{\"connectorId\":1,\"idTag\":\"REMOTE42\"}", &out);
	cr_assert_eq(out.outcome, OGW_TR_FORWARD);
	rs = json_incref(json_object_get(out.payload, "remoteStartId"));
	fake_out_clear(&out);
	{
		char ev[600];
		snprintf(ev, sizeof(ev),
			 EV("Started", 0, "\"transactionInfo\":{\"transactionId\":\"R1\","
					  "\"chargingState\":\"Charging\",\"remoteStartId\":%lld}," REG(5000)),
			 (long long)json_integer_value(rs));
		cr_assert_eq(te(env, ev, &out), OGW_TR_DEFER);
	}
	start = fake_env_find(env, "StartTransaction", 0);
	cr_assert_geq(start, 0, "no StartTransaction for a remote-started transaction");
	fake_assert_str(fake_env_emitted(env, start)->payload, "idTag", "REMOTE42");
	fake_assert_int(fake_env_emitted(env, start)->payload, "meterStart", 5000);
	confirm_start(env, 31);
	cr_assert_eq(te(env, EV("Ended", 5, "\"transactionInfo\":{\"transactionId\":\"R1\","
					    "\"chargingState\":\"Idle\",\"stoppedReason\":\"EVDisconnected\"},"
					    REG(7500)), &out), OGW_TR_FORWARD);
	cr_assert_str_eq(out.action, "StopTransaction");
	fake_assert_int(out.payload, "transactionId", 31);
	fake_assert_int(out.payload, "meterStop", 7500);
	stop = fake_env_find(env, "StopTransaction", 0);
	cr_assert_eq(stop, -1, "StopTransaction is the forwarded call, not a second one");
	cr_assert_eq(fake_env_n_lost(env), 0);
	json_decref(rs);
	fake_out_clear(&out);
	fake_env_free(env);
}

/* Finding 1: an unknown remoteStartId and no idToken until Ended is never
 * dropped silently: a dead letter says why. */
Test(issue20, unknown_remote_start_is_a_dead_letter)
{
	struct ogw_tr_env *env = fake_env_new(&ogw_tr_v201_v16);
	struct ogw_tr_out out = { 0 };

	te(env, EV("Started", 0, "\"transactionInfo\":{\"transactionId\":\"R2\","
				 "\"chargingState\":\"Charging\",\"remoteStartId\":999}," REG(10)), &out);
	cr_assert_eq(out.outcome, OGW_TR_ANSWER);
	te(env, EV("Ended", 1, "\"transactionInfo\":{\"transactionId\":\"R2\","
			       "\"stoppedReason\":\"Local\"}," REG(20)), &out);
	cr_assert_eq(out.outcome, OGW_TR_ANSWER);
	cr_assert_eq(fake_env_find(env, "StopTransaction", 0), -1);
	cr_assert_eq(fake_env_n_lost(env), 1, "a transaction vanished silently");
	cr_assert_str_eq(fake_env_lost(env, 0)->action, "TransactionEvent");
	fake_out_clear(&out);
	fake_env_free(env);
}

/* Finding 2: a plug-first session shows Preparing before StartTransaction,
 * the charging state inside it (never Preparing), Finishing after a stop
 * with the cable plugged, Available after unplug. */
Test(issue20, plug_first_status_timeline)
{
	struct ogw_tr_env *env = fake_env_new(&ogw_tr_v201_v16);
	struct ogw_tr_out out = { 0 };
	char seen[256];
	long start;

	fake_out_clear(&out);
	fake_env_call_text(env, OGW_TR_UP, "StatusNotification",
			   "{\"timestamp\":\"2024-05-01T10:00:00Z\",\"connectorStatus\":\"Occupied\","
			   "\"evseId\":1,\"connectorId\":1}", &out);
	fake_assert_str(out.payload, "status", "Preparing");
	cr_assert_eq(te(env, EV("Started", 0, "\"transactionInfo\":{\"transactionId\":\"P1\","
					      "\"chargingState\":\"EVConnected\"}," REG(1000)), &out),
		     OGW_TR_ANSWER);
	cr_assert_eq(fake_env_find(env, "StartTransaction", 0), -1, "started before authorization");
	cr_assert_eq(te(env, EV("Updated", 1, "\"transactionInfo\":{\"transactionId\":\"P1\","
					      "\"chargingState\":\"EVConnected\"},"
					      "\"idToken\":{\"idToken\":\"AABBCCDD\",\"type\":\"ISO14443\"}," REG(1001)),
			&out), OGW_TR_DEFER);
	start = fake_env_find(env, "StartTransaction", 0);
	fake_assert_int(fake_env_emitted(env, start)->payload, "meterStart", 1001);
	fake_assert_str(fake_env_emitted(env, start)->payload, "timestamp", "2024-05-01T10:01:00Z");
	confirm_start(env, 5);
	/* The station's own report while the transaction runs. */
	fake_out_clear(&out);
	fake_env_call_text(env, OGW_TR_UP, "StatusNotification",
			   "{\"timestamp\":\"2024-05-01T10:01:30Z\",\"connectorStatus\":\"Occupied\","
			   "\"evseId\":1,\"connectorId\":1}", &out);
	cr_assert_str_neq(json_string_value(json_object_get(out.payload, "status")), "Preparing");
	cr_assert_eq(te(env, EV("Updated", 2, "\"transactionInfo\":{\"transactionId\":\"P1\","
					      "\"chargingState\":\"Charging\"}"), &out), OGW_TR_FORWARD);
	fake_assert_str(out.payload, "status", "Charging");
	cr_assert_eq(te(env, EV("Ended", 3, "\"transactionInfo\":{\"transactionId\":\"P1\","
					    "\"chargingState\":\"EVConnected\",\"stoppedReason\":\"Local\"},"
					    REG(9000)), &out), OGW_TR_FORWARD);
	cr_assert_str_eq(out.action, "StopTransaction");
	fake_assert_int(out.payload, "meterStop", 9000);
	json_decref(fake_env_result_text(env, OGW_TR_UP, "TransactionEvent", &out, "{}"));
	statuses(env, seen, sizeof(seen));
	/* Plugged before any energy is no suspension: a 1.6 charger goes from
	 * Preparing straight to Charging (the forwarded one above). */
	cr_assert_str_eq(seen, "Finishing", "emitted statuses: %s", seen);
	/* Still plugged: Finishing, then Available when the cable leaves. */
	fake_out_clear(&out);
	fake_env_call_text(env, OGW_TR_UP, "StatusNotification",
			   "{\"timestamp\":\"2024-05-01T10:04:00Z\",\"connectorStatus\":\"Occupied\","
			   "\"evseId\":1,\"connectorId\":1}", &out);
	fake_assert_str(out.payload, "status", "Finishing");
	fake_out_clear(&out);
	fake_env_call_text(env, OGW_TR_UP, "StatusNotification",
			   "{\"timestamp\":\"2024-05-01T10:05:00Z\",\"connectorStatus\":\"Available\","
			   "\"evseId\":1,\"connectorId\":1}", &out);
	fake_assert_str(out.payload, "status", "Available");
	fake_out_clear(&out);
	fake_env_call_text(env, OGW_TR_UP, "StatusNotification",
			   "{\"timestamp\":\"2024-05-01T10:06:00Z\",\"connectorStatus\":\"Occupied\","
			   "\"evseId\":1,\"connectorId\":1}", &out);
	fake_assert_str(out.payload, "status", "Preparing");
	fake_out_clear(&out);
	fake_env_free(env);
}

/* Finding 3: a Started without a register reading takes the EVSE's last
 * known one (here from MeterValues), never 0; so does meterStop. */
Test(issue20, meter_start_from_last_known_register)
{
	struct ogw_tr_env *env = fake_env_new(&ogw_tr_v201_v16);
	struct ogw_tr_out out = { 0 };
	long start;

	fake_env_call_text(env, OGW_TR_UP, "MeterValues",
			   "{\"evseId\":1,\"meterValue\":[{\"timestamp\":\"2024-05-01T09:59:00Z\","
			   "\"sampledValue\":[{\"value\":12.345,\"measurand\":\"Energy.Active.Import.Register\","
			   "\"unitOfMeasure\":{\"unit\":\"kWh\"}}]}]}", &out);
	cr_assert_eq(te(env, EV("Started", 0, "\"transactionInfo\":{\"transactionId\":\"M1\","
					      "\"chargingState\":\"Charging\"},"
					      "\"idToken\":{\"idToken\":\"AABBCCDD\",\"type\":\"ISO14443\"}"),
			&out), OGW_TR_DEFER);
	start = fake_env_find(env, "StartTransaction", 0);
	fake_assert_int(fake_env_emitted(env, start)->payload, "meterStart", 12345);
	confirm_start(env, 8);
	te(env, EV("Ended", 1, "\"transactionInfo\":{\"transactionId\":\"M1\","
			       "\"chargingState\":\"Idle\",\"stoppedReason\":\"EVDisconnected\"}"), &out);
	cr_assert_str_eq(out.action, "StopTransaction");
	fake_assert_int(out.payload, "meterStop", 12345);
	fake_out_clear(&out);
	fake_env_free(env);
}

/* Finding 3: with no reading at all, StartTransaction waits for the first
 * one instead of sending 0. */
Test(issue20, meter_start_waits_for_a_reading)
{
	struct ogw_tr_env *env = fake_env_new(&ogw_tr_v201_v16);
	struct ogw_tr_out out = { 0 };
	long start;

	cr_assert_eq(te(env, EV("Started", 0, "\"transactionInfo\":{\"transactionId\":\"M2\","
					      "\"chargingState\":\"EVConnected\"},"
					      "\"idToken\":{\"idToken\":\"AABBCCDD\",\"type\":\"ISO14443\"}"),
			&out), OGW_TR_ANSWER);
	cr_assert_eq(fake_env_find(env, "StartTransaction", 0), -1);
	cr_assert_eq(te(env, EV("Updated", 1, "\"transactionInfo\":{\"transactionId\":\"M2\"},"
					      REG(4242)), &out), OGW_TR_DEFER);
	start = fake_env_find(env, "StartTransaction", 0);
	fake_assert_int(fake_env_emitted(env, start)->payload, "meterStart", 4242);
	confirm_start(env, 9);
	fake_out_clear(&out);
	fake_env_free(env);
}

/* Finding 15: an Ended repeated at shutdown stops nothing twice. */
Test(issue20, duplicate_ended_is_answered_locally)
{
	struct ogw_tr_env *env = fake_env_new(&ogw_tr_v201_v16);
	struct ogw_tr_out out = { 0 };
	const char *end = EV("Ended", 1, "\"transactionInfo\":{\"transactionId\":\"D1\","
					 "\"chargingState\":\"Idle\",\"stoppedReason\":\"Local\"},"
					 "\"idToken\":{\"idToken\":\"AABBCCDD\",\"type\":\"ISO14443\"}," REG(300));
	long start;

	te(env, EV("Started", 0, "\"transactionInfo\":{\"transactionId\":\"D1\"},"
				 "\"idToken\":{\"idToken\":\"AABBCCDD\",\"type\":\"ISO14443\"}," REG(100)), &out);
	start = confirm_start(env, 3);
	cr_assert_eq(te(env, end, &out), OGW_TR_FORWARD);
	json_decref(fake_env_result_text(env, OGW_TR_UP, "TransactionEvent", &out,
					 "{\"idTagInfo\":{\"status\":\"Accepted\"}}"));
	cr_assert_eq(te(env, end, &out), OGW_TR_ANSWER);
	cr_assert_eq(fake_env_find(env, "StopTransaction", 0), -1);
	cr_assert_eq(fake_env_find(env, "StartTransaction", (size_t)start + 1), -1,
		     "a repeated Ended started a second transaction");
	cr_assert_eq(fake_env_n_lost(env), 1, "the duplicate is logged");
	fake_out_clear(&out);
	fake_env_free(env);
}

/* Finding 5: a TxProfile without transactionId names the EVSE's running
 * transaction (K01.FR.03), or is rejected when none runs. */
Test(issue20, tx_profile_gets_the_running_transaction)
{
	struct ogw_tr_env *env = fake_env_new(&ogw_tr_v201_v16);
	struct ogw_tr_out out = { 0 };
	const char *prof = "{\"connectorId\":1,\"csChargingProfiles\":{\"chargingProfileId\":7,"
			   "\"stackLevel\":0,\"chargingProfilePurpose\":\"TxProfile\","
			   "\"chargingProfileKind\":\"Relative\",\"chargingSchedule\":{"
			   "\"chargingRateUnit\":\"A\",\"chargingSchedulePeriod\":[{\"startPeriod\":0,"
			   "\"limit\":16}]}}}";

	fake_env_call_text(env, OGW_TR_DOWN, "SetChargingProfile", prof, &out);
	cr_assert_eq(out.outcome, OGW_TR_ANSWER);
	fake_assert_str(out.payload, "status", "Rejected");
	te(env, EV("Started", 0, "\"transactionInfo\":{\"transactionId\":\"TX-9\"}"), &out);
	fake_out_clear(&out);
	fake_env_call_text(env, OGW_TR_DOWN, "SetChargingProfile", prof, &out);
	cr_assert_eq(out.outcome, OGW_TR_FORWARD);
	fake_assert_str(out.payload, "chargingProfile.transactionId", "TX-9");
	fake_out_clear(&out);
	fake_env_free(env);
}

/* Finding 10: Soft is Immediate (not OnIdle), its stops say SoftReset, and
 * a Scheduled answer is not reported as Accepted. */
Test(issue20, soft_reset_is_immediate)
{
	struct ogw_tr_env *env = fake_env_new(&ogw_tr_v201_v16);
	struct ogw_tr_out out = { 0 };
	json_t *res;

	fake_env_call_text(env, OGW_TR_DOWN, "Reset", "{\"type\":\"Soft\"}", &out);
	fake_assert_str(out.payload, "type", "Immediate");
	res = fake_env_result_text(env, OGW_TR_DOWN, "Reset", &out, "{\"status\":\"Scheduled\"}");
	fake_assert_str(res, "status", "Rejected");
	json_decref(res);
	te(env, EV("Started", 0, "\"transactionInfo\":{\"transactionId\":\"S1\"},"
				 "\"idToken\":{\"idToken\":\"AABBCCDD\",\"type\":\"ISO14443\"}," REG(1)), &out);
	confirm_start(env, 4);
	te(env, EV("Ended", 1, "\"transactionInfo\":{\"transactionId\":\"S1\","
			       "\"stoppedReason\":\"ImmediateReset\"}," REG(2)), &out);
	fake_assert_str(out.payload, "reason", "SoftReset");
	fake_out_clear(&out);
	fake_env_free(env);
}

/* Finding 7: a NotifyEvent problem is Faulted with the closest error code
 * and techCode, and clears back to the real status with NoError; the
 * second connector of an EVSE is a 1.6 connector of its own, so it neither
 * flaps nor hides the first. */
Test(issue20, fault_raised_and_cleared)
{
	struct ogw_tr_env *env = fake_env_new(&ogw_tr_v201_v16);
	struct ogw_tr_out out = { 0 };
	const struct fake_call *c;
	const char *ev = "{\"generatedAt\":\"2024-05-01T10:00:00Z\",\"seqNo\":0,\"eventData\":[{"
			 "\"eventId\":1,\"timestamp\":\"2024-05-01T10:00:00Z\",\"trigger\":\"Delta\","
			 "\"actualValue\":\"%s\",\"techCode\":\"E42\",\"eventNotificationType\":\"HardWiredNotification\","
			 "\"component\":{\"name\":\"ConnectorPlugRetentionLock\",\"evse\":{\"id\":1,\"connectorId\":1}},"
			 "\"variable\":{\"name\":\"Problem\"}}]}";
	char buf[700];

	fake_env_call_text(env, OGW_TR_UP, "StatusNotification",
			   "{\"timestamp\":\"2024-05-01T09:00:00Z\",\"connectorStatus\":\"Occupied\","
			   "\"evseId\":1,\"connectorId\":1}", &out);
	fake_out_clear(&out);
	/* Connector 2 of the same EVSE reports Available: 1.6 connector 2. */
	fake_env_call_text(env, OGW_TR_UP, "StatusNotification",
			   "{\"timestamp\":\"2024-05-01T09:00:01Z\",\"connectorStatus\":\"Available\","
			   "\"evseId\":1,\"connectorId\":2}", &out);
	cr_assert_eq(out.outcome, OGW_TR_FORWARD);
	fake_assert_int(out.payload, "connectorId", 2);
	fake_assert_str(out.payload, "status", "Available");
	fake_out_clear(&out);
	snprintf(buf, sizeof(buf), ev, "true");
	fake_env_call_text(env, OGW_TR_UP, "NotifyEvent", buf, &out);
	cr_assert_eq(fake_env_n_emitted(env), 1, "a problem of connector 1 concerns it alone");
	c = fake_env_emitted(env, 0);
	fake_assert_int(c->payload, "connectorId", 1);
	fake_assert_str(c->payload, "status", "Faulted");
	fake_assert_str(c->payload, "errorCode", "ConnectorLockFailure");
	fake_assert_str(c->payload, "vendorErrorCode", "E42");
	fake_out_clear(&out);
	snprintf(buf, sizeof(buf), ev, "false");
	fake_env_call_text(env, OGW_TR_UP, "NotifyEvent", buf, &out);
	c = fake_env_emitted(env, 1);
	fake_assert_int(c->payload, "connectorId", 1);
	fake_assert_str(c->payload, "status", "Preparing");
	fake_assert_str(c->payload, "errorCode", "NoError");
	fake_out_clear(&out);
	fake_env_free(env);
}

/* Finding 7: a station's Faulted, then the NotifyEvent naming the problem
 * (techCode a 1.6 error code), then Available and the clearing event: the
 * 1.6 central system sees the fault raised once with its code, and cleared
 * once, as from a 1.6 charger. */
Test(issue20, fault_raised_once_with_the_station_code)
{
	struct ogw_tr_env *env = fake_env_new(&ogw_tr_v201_v16);
	struct ogw_tr_out out = { 0 };
	const char *ev = "{\"generatedAt\":\"2024-05-01T10:00:00Z\",\"seqNo\":0,\"eventData\":[{"
			 "\"eventId\":1,\"timestamp\":\"2024-05-01T10:00:00Z\",\"trigger\":\"Alerting\","
			 "\"actualValue\":\"%s\",%s\"eventNotificationType\":\"HardWiredNotification\","
			 "\"component\":{\"name\":\"Connector\",\"evse\":{\"id\":1,\"connectorId\":1}},"
			 "\"variable\":{\"name\":\"Problem\"}}]}";
	const char *st = "{\"timestamp\":\"2024-05-01T10:00:00Z\",\"connectorStatus\":\"%s\","
			 "\"evseId\":1,\"connectorId\":1}";
	char buf[700];

	snprintf(buf, sizeof(buf), st, "Faulted");
	fake_env_call_text(env, OGW_TR_UP, "StatusNotification", buf, &out);
	cr_assert_eq(out.outcome, OGW_TR_ANSWER, "Faulted sent before its problem is known");
	fake_out_clear(&out);
	snprintf(buf, sizeof(buf), ev, "true", "\"techCode\":\"GroundFailure\",");
	fake_env_call_text(env, OGW_TR_UP, "NotifyEvent", buf, &out);
	cr_assert_eq(fake_env_n_emitted(env), 1);
	fake_assert_str(fake_env_emitted(env, 0)->payload, "status", "Faulted");
	fake_assert_str(fake_env_emitted(env, 0)->payload, "errorCode", "GroundFailure");
	fake_out_clear(&out);
	snprintf(buf, sizeof(buf), st, "Available");
	fake_env_call_text(env, OGW_TR_UP, "StatusNotification", buf, &out);
	cr_assert_eq(out.outcome, OGW_TR_ANSWER, "the fault raised again while it lasts");
	fake_out_clear(&out);
	snprintf(buf, sizeof(buf), ev, "false", "\"cleared\":true,");
	fake_env_call_text(env, OGW_TR_UP, "NotifyEvent", buf, &out);
	cr_assert_eq(fake_env_n_emitted(env), 2);
	fake_assert_str(fake_env_emitted(env, 1)->payload, "status", "Available");
	fake_assert_str(fake_env_emitted(env, 1)->payload, "errorCode", "NoError");
	fake_out_clear(&out);
	/* A Faulted the station never explains still goes out, before its next
	 * message. */
	snprintf(buf, sizeof(buf), st, "Faulted");
	fake_env_call_text(env, OGW_TR_UP, "StatusNotification", buf, &out);
	fake_out_clear(&out);
	fake_env_call_text(env, OGW_TR_UP, "Heartbeat", "{}", &out);
	cr_assert_eq(fake_env_n_emitted(env), 3);
	fake_assert_str(fake_env_emitted(env, 2)->payload, "status", "Faulted");
	fake_assert_str(fake_env_emitted(env, 2)->payload, "errorCode", "OtherError");
	fake_out_clear(&out);
	fake_env_free(env);
}

/* Finding 9: signed readings reach 1.6 as a 1.6 charger sends them: the
 * meter's signed string as the SignedData value, next to the station's own
 * register reading (no 0); the signed start reading leads the
 * StopTransaction's transactionData, and no Transaction.Begin sample goes
 * out while the transaction runs (meterStart is that reading). */
#define SIGNED_SV(wh, ctx, data)                                                          \
	"{\"value\":" #wh ",\"context\":\"" ctx "\","                                        \
	"\"measurand\":\"Energy.Active.Import.Register\",\"signedMeterValue\":{"            \
	"\"signedMeterData\":\"" data "\",\"signingMethod\":\"ECDSA-secp256r1-SHA256\","  \
	"\"encodingMethod\":\"OCMF\",\"publicKey\":\"UEs=\"}}"
Test(issue20, signed_meter_values_as_a_16_charger_sends_them)
{
	struct ogw_tr_env *env = fake_env_new(&ogw_tr_v201_v16);
	struct ogw_tr_out out = { 0 };
	json_t *data, *svs;

	te(env, EV("Started", 0, "\"transactionInfo\":{\"transactionId\":\"G1\"},"
				 "\"idToken\":{\"idToken\":\"AABBCCDD\",\"type\":\"ISO14443\"},"
				 "\"meterValue\":[{\"timestamp\":\"2024-05-01T10:00:00Z\",\"sampledValue\":["
				 SIGNED_SV(100, "Transaction.Begin", "OCMF|begin") "]}]"), &out);
	fake_assert_int(fake_env_emitted(env, fake_env_find(env, "StartTransaction", 0))->payload,
			"meterStart", 100);
	confirm_start(env, 6);
	cr_assert_eq(fake_env_find(env, "MeterValues", 0), -1,
		     "a Transaction.Begin sample went out during the transaction");
	te(env, EV("Ended", 1, "\"transactionInfo\":{\"transactionId\":\"G1\",\"chargingState\":\"Idle\","
			       "\"stoppedReason\":\"Local\"},\"meterValue\":[{\"timestamp\":\"2024-05-01T10:01:00Z\","
			       "\"sampledValue\":[" SIGNED_SV(900, "Transaction.End", "OCMF|end") "]}]"), &out);
	cr_assert_str_eq(out.action, "StopTransaction");
	fake_assert_int(out.payload, "meterStop", 900);
	data = json_object_get(out.payload, "transactionData");
	cr_assert_eq(json_array_size(data), 2);
	svs = fake_path(data, "[0].sampledValue");
	cr_assert_eq(json_array_size(svs), 1, "the start reading is meterStart; only its signature");
	fake_assert_str(svs, "[0].format", "SignedData");
	fake_assert_str(svs, "[0].context", "Transaction.Begin");
	fake_assert_str(svs, "[0].value", "OCMF|begin");
	fake_assert_str(data, "[0].timestamp", "2024-05-01T10:00:00Z");
	svs = fake_path(data, "[1].sampledValue");
	cr_assert_eq(json_array_size(svs), 2);
	fake_assert_str(svs, "[0].value", "900");
	fake_assert_str(svs, "[1].format", "SignedData");
	fake_assert_str(svs, "[1].context", "Transaction.End");
	fake_assert_str(svs, "[1].value", "OCMF|end");
	fake_out_clear(&out);
	fake_env_free(env);
}

/* Finding 6: a 1.6 central system's Plug & Charge DataTransfer reaches the
 * station as the 2.0.1 message it carries, and its answer goes back
 * wrapped; an Authorize with certificate hash data goes in the PnC
 * DataTransfer instead of losing the hashes. */
Test(issue20, plug_and_charge_both_ways)
{
	struct ogw_tr_env *env = fake_env_new(&ogw_tr_v201_v16);
	struct ogw_tr_out out = { 0 };
	json_t *res, *inner;

	fake_env_call_text(env, OGW_TR_DOWN, "DataTransfer",
			   "{\"vendorId\":\"org.openchargealliance.iso15118pnc\",\"messageId\":"
			   "\"CertificateSigned\",\"data\":\"{\\\"certificateChain\\\":\\\"-----BEGIN "
			   "CERTIFICATE-----\\\",\\\"certificateType\\\":\\\"V2GCertificate\\\"}\"}", &out);
	cr_assert_eq(out.outcome, OGW_TR_FORWARD);
	cr_assert_str_eq(out.action, "CertificateSigned");
	fake_assert_str(out.payload, "certificateType", "V2GCertificate");
	res = fake_env_result_text(env, OGW_TR_DOWN, "DataTransfer", &out, "{\"status\":\"Accepted\"}");
	fake_assert_str(res, "status", "Accepted");
	inner = json_loads(json_string_value(json_object_get(res, "data")), 0, NULL);
	fake_assert_str(inner, "status", "Accepted");
	json_decref(inner);
	json_decref(res);
	fake_out_clear(&out);

	fake_env_call_text(env, OGW_TR_DOWN, "DataTransfer",
			   "{\"vendorId\":\"org.openchargealliance.iso15118pnc\",\"messageId\":"
			   "\"TriggerMessage\",\"data\":\"{\\\"requestedMessage\\\":\\\"SignV2GCertificate\\\"}\"}",
			   &out);
	cr_assert_str_eq(out.action, "TriggerMessage");
	fake_assert_str(out.payload, "requestedMessage", "SignV2GCertificate");
	fake_out_clear(&out);

	fake_env_call_text(env, OGW_TR_UP, "Authorize",
			   "{\"idToken\":{\"idToken\":\"DE8ACC12345678901234567\",\"type\":\"eMAID\"},"
			   "\"iso15118CertificateHashData\":[{\"hashAlgorithm\":\"SHA256\","
			   "\"issuerNameHash\":\"aa\",\"issuerKeyHash\":\"bb\",\"serialNumber\":\"01\","
			   "\"responderURL\":\"http://ocsp.example\"}]}", &out);
	cr_assert_str_eq(out.action, "DataTransfer");
	fake_assert_str(out.payload, "messageId", "Authorize");
	inner = json_loads(json_string_value(json_object_get(out.payload, "data")), 0, NULL);
	fake_assert_str(inner, "iso15118CertificateHashData[0].serialNumber", "01");
	json_decref(inner);
	res = fake_env_result_text(env, OGW_TR_UP, "Authorize", &out,
				   "{\"status\":\"Accepted\",\"data\":\"{\\\"idTokenInfo\\\":{\\\"status\\\":"
				   "\\\"Accepted\\\"},\\\"certificateStatus\\\":\\\"Accepted\\\"}\"}");
	fake_assert_str(res, "idTokenInfo.status", "Accepted");
	fake_assert_str(res, "certificateStatus", "Accepted");
	json_decref(res);
	fake_out_clear(&out);
	fake_env_free(env);
}

/* Finding 7: a transaction's state changes do not hide a raised problem
 * (1.6 Faulted keeps the transaction); its clearing reports the state the
 * transaction is in. */
Test(issue20, fault_survives_charging_state_changes)
{
	struct ogw_tr_env *env = fake_env_new(&ogw_tr_v201_v16);
	struct ogw_tr_out out = { 0 };
	const char *ev = "{\"generatedAt\":\"2024-05-01T10:00:00Z\",\"seqNo\":0,\"eventData\":[{"
			 "\"eventId\":1,\"timestamp\":\"2024-05-01T10:00:00Z\",\"trigger\":\"Alerting\","
			 "\"actualValue\":\"85\",%s\"eventNotificationType\":\"HardWiredMonitor\","
			 "\"component\":{\"name\":\"TemperatureSensor\",\"evse\":{\"id\":1}},"
			 "\"variable\":{\"name\":\"Temperature\"}}]}";
	char buf[700], seen[256];

	te(env, EV("Started", 0, "\"transactionInfo\":{\"transactionId\":\"F1\",\"chargingState\":\"Charging\"},"
				 "\"idToken\":{\"idToken\":\"AABBCCDD\",\"type\":\"ISO14443\"}," REG(1)), &out);
	confirm_start(env, 2);
	fake_out_clear(&out);
	snprintf(buf, sizeof(buf), ev, "");
	fake_env_call_text(env, OGW_TR_UP, "NotifyEvent", buf, &out);
	cr_assert_eq(te(env, EV("Updated", 1, "\"transactionInfo\":{\"transactionId\":\"F1\","
					      "\"chargingState\":\"SuspendedEVSE\"}"), &out), OGW_TR_ANSWER);
	fake_out_clear(&out);
	snprintf(buf, sizeof(buf), ev, "\"cleared\":true,");
	fake_env_call_text(env, OGW_TR_UP, "NotifyEvent", buf, &out);
	statuses(env, seen, sizeof(seen));
	cr_assert_str_eq(seen, "Charging,Faulted,SuspendedEVSE", "emitted statuses: %s", seen);
	fake_assert_str(fake_env_emitted(env, fake_env_n_emitted(env) - 2)->payload, "errorCode",
			"HighTemperature");
	fake_out_clear(&out);
	fake_env_free(env);
}

/* ---- connector numbering (finding 7) --------------------------------------- */

/* Runs @action in @dir on @json and returns the outcome (@out holds it). */
static enum ogw_tr_outcome call(struct ogw_tr_env *env, enum ogw_tr_dir dir, const char *action,
				const char *json, struct ogw_tr_out *out)
{
	fake_out_clear(out);
	fake_env_call_text(env, dir, action, json, out);
	return out->outcome;
}

/* A station of EVSE 1 with two connectors and EVSE 2 with one, as its
 * boot-time statuses show it: 1.6 connectors 1, 2 and 3. */
static struct ogw_tr_env *two_connector_station(void)
{
	static const char *const conns[] = { "1,\"connectorId\":1", "1,\"connectorId\":2",
					     "2,\"connectorId\":1" };
	struct ogw_tr_env *env = fake_env_new(&ogw_tr_v201_v16);
	struct ogw_tr_out out = { 0 };
	char buf[200];

	for (size_t i = 0; i < 3; i++) {
		snprintf(buf, sizeof(buf), "{\"timestamp\":\"2024-05-01T09:00:00Z\","
			 "\"connectorStatus\":\"Available\",\"evseId\":%s}", conns[i]);
		cr_assert_eq(call(env, OGW_TR_UP, "StatusNotification", buf, &out), OGW_TR_FORWARD);
		fake_assert_int(out.payload, "connectorId", (long long)i + 1);
	}
	fake_out_clear(&out);
	return env;
}

/* A session on the second connector of EVSE 1 is 1.6 connector 2 from
 * start to stop: StartTransaction, its statuses, the EVSE's meter values;
 * a cable plugged into connector 1 meanwhile is connector 1 Preparing. */
Test(connectors, session_on_second_connector)
{
	struct ogw_tr_env *env = two_connector_station();
	struct ogw_tr_out out = { 0 };
	long start;

	te(env, "{\"eventType\":\"Started\",\"timestamp\":\"2024-05-01T10:00:00Z\","
		"\"triggerReason\":\"Authorized\",\"seqNo\":0,\"evse\":{\"id\":1,\"connectorId\":2},"
		"\"transactionInfo\":{\"transactionId\":\"M1\",\"chargingState\":\"Charging\"},"
		"\"idToken\":{\"idToken\":\"AABBCCDD\",\"type\":\"ISO14443\"}," REG(500) "}", &out);
	start = confirm_start(env, 9);
	fake_assert_int(fake_env_emitted(env, (size_t)start)->payload, "connectorId", 2);
	cr_assert_eq(call(env, OGW_TR_UP, "StatusNotification",
			  "{\"timestamp\":\"2024-05-01T10:00:01Z\",\"connectorStatus\":\"Occupied\","
			  "\"evseId\":1,\"connectorId\":2}", &out), OGW_TR_FORWARD);
	fake_assert_int(out.payload, "connectorId", 2);
	fake_assert_str(out.payload, "status", "Charging");
	cr_assert_eq(call(env, OGW_TR_UP, "StatusNotification",
			  "{\"timestamp\":\"2024-05-01T10:00:02Z\",\"connectorStatus\":\"Occupied\","
			  "\"evseId\":1,\"connectorId\":1}", &out), OGW_TR_FORWARD);
	fake_assert_int(out.payload, "connectorId", 1);
	fake_assert_str(out.payload, "status", "Preparing");
	cr_assert_eq(call(env, OGW_TR_UP, "MeterValues",
			  "{\"evseId\":1,\"meterValue\":[{\"timestamp\":\"2024-05-01T10:00:03Z\","
			  "\"sampledValue\":[{\"value\":600}]}]}", &out), OGW_TR_FORWARD);
	fake_assert_int(out.payload, "connectorId", 2);
	/* TxProfile without transactionId: the one running on that connector;
	 * 1.6 connector 1 has none, though its EVSE has. */
	cr_assert_eq(call(env, OGW_TR_DOWN, "SetChargingProfile",
			  "{\"connectorId\":2,\"csChargingProfiles\":{\"chargingProfileId\":5,"
			  "\"stackLevel\":1,\"chargingProfilePurpose\":\"TxProfile\","
			  "\"chargingProfileKind\":\"Relative\",\"chargingSchedule\":{"
			  "\"chargingRateUnit\":\"A\",\"chargingSchedulePeriod\":[{\"startPeriod\":0,"
			  "\"limit\":16}]}}}", &out), OGW_TR_FORWARD);
	fake_assert_int(out.payload, "evseId", 1);
	fake_assert_str(out.payload, "chargingProfile.transactionId", "M1");
	cr_assert_eq(call(env, OGW_TR_DOWN, "SetChargingProfile",
			  "{\"connectorId\":1,\"csChargingProfiles\":{\"chargingProfileId\":6,"
			  "\"stackLevel\":1,\"chargingProfilePurpose\":\"TxProfile\","
			  "\"chargingProfileKind\":\"Relative\",\"chargingSchedule\":{"
			  "\"chargingRateUnit\":\"A\",\"chargingSchedulePeriod\":[{\"startPeriod\":0,"
			  "\"limit\":16}]}}}", &out), OGW_TR_ANSWER);
	fake_assert_str(out.payload, "status", "Rejected");
	/* Ended with the cable in: StopTransaction, then connector 2 Finishing. */
	te(env, "{\"eventType\":\"Ended\",\"timestamp\":\"2024-05-01T10:09:00Z\","
		"\"triggerReason\":\"StopAuthorized\",\"seqNo\":1,\"evse\":{\"id\":1,\"connectorId\":2},"
		"\"transactionInfo\":{\"transactionId\":\"M1\",\"chargingState\":\"EVConnected\","
		"\"stoppedReason\":\"Local\"}," REG(900) "}", &out);
	cr_assert_eq(out.outcome, OGW_TR_FORWARD);
	cr_assert_str_eq(out.action, "StopTransaction");
	json_decref(fake_env_result_text(env, OGW_TR_UP, "TransactionEvent", &out, "{}"));
	{
		const struct fake_call *fin = fake_env_emitted(env, fake_env_n_emitted(env) - 1);
		cr_assert_str_eq(fin->action, "StatusNotification");
		fake_assert_int(fin->payload, "connectorId", 2);
		fake_assert_str(fin->payload, "status", "Finishing");
	}
	/* Connector 1 Occupied again is still Preparing, not connector 2's Finishing. */
	cr_assert_eq(call(env, OGW_TR_UP, "StatusNotification",
			  "{\"timestamp\":\"2024-05-01T10:09:01Z\",\"connectorStatus\":\"Occupied\","
			  "\"evseId\":1,\"connectorId\":1}", &out), OGW_TR_FORWARD);
	fake_assert_str(out.payload, "status", "Preparing");
	fake_out_clear(&out);
	fake_env_free(env);
}

/* Calls of the central system aimed at a 1.6 connector reach its EVSE and
 * connector; where 2.0.1 acts on an EVSE only (remote start, reservation,
 * profiles), the connector's EVSE. */
Test(connectors, central_system_calls_reach_the_connector)
{
	struct ogw_tr_env *env = two_connector_station();
	struct ogw_tr_out out = { 0 };
	json_t *res;

	cr_assert_eq(call(env, OGW_TR_DOWN, "UnlockConnector", "{\"connectorId\":2}", &out),
		     OGW_TR_FORWARD);
	fake_assert_int(out.payload, "evseId", 1);
	fake_assert_int(out.payload, "connectorId", 2);
	cr_assert_eq(call(env, OGW_TR_DOWN, "UnlockConnector", "{\"connectorId\":3}", &out),
		     OGW_TR_FORWARD);
	fake_assert_int(out.payload, "evseId", 2);
	fake_assert_int(out.payload, "connectorId", 1);
	cr_assert_eq(call(env, OGW_TR_DOWN, "ChangeAvailability",
			  "{\"connectorId\":2,\"type\":\"Inoperative\"}", &out), OGW_TR_FORWARD);
	fake_assert_int(out.payload, "evse.id", 1);
	fake_assert_int(out.payload, "evse.connectorId", 2);
	cr_assert_eq(call(env, OGW_TR_DOWN, "RemoteStartTransaction",
			  "{\"connectorId\":3,\"idTag\":\"AABBCCDD\"}", &out), OGW_TR_FORWARD);
	fake_assert_int(out.payload, "evseId", 2);
	cr_assert_eq(call(env, OGW_TR_DOWN, "ReserveNow",
			  "{\"connectorId\":2,\"expiryDate\":\"2024-05-01T11:00:00Z\","
			  "\"idTag\":\"AABBCCDD\",\"reservationId\":4}", &out), OGW_TR_FORWARD);
	fake_assert_int(out.payload, "evseId", 1);
	cr_assert_eq(call(env, OGW_TR_DOWN, "TriggerMessage",
			  "{\"requestedMessage\":\"StatusNotification\",\"connectorId\":2}", &out),
		     OGW_TR_FORWARD);
	fake_assert_int(out.payload, "evse.id", 1);
	fake_assert_int(out.payload, "evse.connectorId", 2);
	cr_assert_eq(call(env, OGW_TR_DOWN, "TriggerMessage",
			  "{\"requestedMessage\":\"MeterValues\",\"connectorId\":3}", &out),
		     OGW_TR_FORWARD);
	fake_assert_int(out.payload, "evse.id", 2);
	cr_assert_null(fake_path(out.payload, "evse.connectorId"));
	cr_assert_eq(call(env, OGW_TR_DOWN, "ClearChargingProfile", "{\"connectorId\":3}", &out),
		     OGW_TR_FORWARD);
	fake_assert_int(out.payload, "chargingProfileCriteria.evseId", 2);
	cr_assert_eq(call(env, OGW_TR_DOWN, "GetCompositeSchedule",
			  "{\"connectorId\":2,\"duration\":600}", &out), OGW_TR_FORWARD);
	fake_assert_int(out.payload, "evseId", 1);
	res = fake_env_result_text(env, OGW_TR_DOWN, "GetCompositeSchedule", &out,
				   "{\"status\":\"Accepted\",\"schedule\":{\"evseId\":1,\"duration\":600,"
				   "\"scheduleStart\":\"2024-05-01T10:00:00Z\",\"chargingRateUnit\":\"A\","
				   "\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":16}]}}");
	fake_assert_int(res, "connectorId", 2);
	json_decref(res);
	fake_out_clear(&out);
	fake_env_free(env);
}

/* A problem of the whole EVSE makes each of its connectors Faulted, and
 * none of another EVSE's; its clearing gives each its own status back. */
Test(connectors, evse_problem_faults_its_connectors)
{
	struct ogw_tr_env *env = two_connector_station();
	struct ogw_tr_out out = { 0 };
	const char *ev = "{\"generatedAt\":\"2024-05-01T10:00:00Z\",\"seqNo\":0,\"eventData\":[{"
			 "\"eventId\":1,\"timestamp\":\"2024-05-01T10:00:00Z\",\"trigger\":\"Delta\","
			 "\"actualValue\":\"%s\",\"eventNotificationType\":\"HardWiredNotification\","
			 "\"component\":{\"name\":\"RCD\",\"evse\":{\"id\":1}},"
			 "\"variable\":{\"name\":\"Tripped\"}}]}";
	char buf[600];

	call(env, OGW_TR_UP, "StatusNotification",
	     "{\"timestamp\":\"2024-05-01T09:30:00Z\",\"connectorStatus\":\"Occupied\","
	     "\"evseId\":1,\"connectorId\":2}", &out);
	snprintf(buf, sizeof(buf), ev, "true");
	call(env, OGW_TR_UP, "NotifyEvent", buf, &out);
	cr_assert_eq(fake_env_n_emitted(env), 2);
	for (size_t i = 0; i < 2; i++) {
		fake_assert_int(fake_env_emitted(env, i)->payload, "connectorId", (long long)i + 1);
		fake_assert_str(fake_env_emitted(env, i)->payload, "status", "Faulted");
		fake_assert_str(fake_env_emitted(env, i)->payload, "errorCode", "GroundFailure");
	}
	snprintf(buf, sizeof(buf), ev, "false");
	call(env, OGW_TR_UP, "NotifyEvent", buf, &out);
	cr_assert_eq(fake_env_n_emitted(env), 4);
	fake_assert_str(fake_env_emitted(env, 2)->payload, "status", "Available");
	fake_assert_str(fake_env_emitted(env, 3)->payload, "status", "Preparing");
	fake_out_clear(&out);
	fake_env_free(env);
}

/* The map persists: a report read in any order numbers the connectors in
 * (evse, connector) order; NumberOfConnectors counts them and
 * ConnectorPhaseRotation lists each with its EVSE's value (and sets the
 * EVSE's from either connector's entry, the later winning). */
Test(connectors, report_and_configuration)
{
	struct ogw_tr_env *env = fake_env_new(&ogw_tr_v201_v16);
	struct ogw_tr_out out = { 0 };
	json_t *res;

	cr_assert_eq(call(env, OGW_TR_UP, "NotifyReport",
			  "{\"requestId\":77,\"generatedAt\":\"2024-05-01T09:00:00Z\",\"seqNo\":0,"
			  "\"reportData\":["
			  "{\"component\":{\"name\":\"Connector\",\"evse\":{\"id\":2,\"connectorId\":1}},"
			  "\"variable\":{\"name\":\"Available\"},\"variableAttribute\":[{\"value\":\"true\"}]},"
			  "{\"component\":{\"name\":\"Connector\",\"evse\":{\"id\":1,\"connectorId\":2}},"
			  "\"variable\":{\"name\":\"Available\"},\"variableAttribute\":[{\"value\":\"true\"}]},"
			  "{\"component\":{\"name\":\"Connector\",\"evse\":{\"id\":1,\"connectorId\":1}},"
			  "\"variable\":{\"name\":\"Available\"},\"variableAttribute\":[{\"value\":\"true\"}]}"
			  "]}", &out), OGW_TR_ANSWER);
	fake_assert_int(fake_env_state(env), "connectors.list[1][1]", 2);
	cr_assert_eq(call(env, OGW_TR_UP, "StatusNotification",
			  "{\"timestamp\":\"2024-05-01T09:00:00Z\",\"connectorStatus\":\"Available\","
			  "\"evseId\":2,\"connectorId\":1}", &out), OGW_TR_FORWARD);
	fake_assert_int(out.payload, "connectorId", 3);
	cr_assert_eq(ogw_tr_state_put(env, "inventory",
				      fake_json("{\"evses\":2,\"features\":\"Core\"}")), 0);
	cr_assert_eq(call(env, OGW_TR_DOWN, "GetConfiguration",
			  "{\"key\":[\"NumberOfConnectors\"]}", &out), OGW_TR_ANSWER);
	fake_assert_str(out.payload, "configurationKey[0].value", "3");
	cr_assert_eq(call(env, OGW_TR_DOWN, "GetConfiguration",
			  "{\"key\":[\"ConnectorPhaseRotation\"]}", &out), OGW_TR_FORWARD);
	res = fake_env_result_text(env, OGW_TR_DOWN, "GetConfiguration", &out,
				   "{\"getVariableResult\":["
				   "{\"attributeStatus\":\"Accepted\",\"attributeValue\":\"RST\","
				   "\"component\":{\"name\":\"ChargingStation\"},\"variable\":{\"name\":\"PhaseRotation\"}},"
				   "{\"attributeStatus\":\"Accepted\",\"attributeValue\":\"RTS\","
				   "\"component\":{\"name\":\"EVSE\",\"evse\":{\"id\":1}},\"variable\":{\"name\":\"PhaseRotation\"}},"
				   "{\"attributeStatus\":\"Accepted\",\"attributeValue\":\"STR\","
				   "\"component\":{\"name\":\"EVSE\",\"evse\":{\"id\":2}},\"variable\":{\"name\":\"PhaseRotation\"}}]}");
	fake_assert_str(res, "configurationKey[0].value", "0.RST,1.RTS,2.RTS,3.STR");
	json_decref(res);
	cr_assert_eq(call(env, OGW_TR_DOWN, "ChangeConfiguration",
			  "{\"key\":\"ConnectorPhaseRotation\",\"value\":\"1.RST,2.TRS,3.SRT\"}", &out),
		     OGW_TR_FORWARD);
	cr_assert_eq(json_array_size(json_object_get(out.payload, "setVariableData")), 2);
	fake_assert_int(out.payload, "setVariableData[0].component.evse.id", 1);
	fake_assert_str(out.payload, "setVariableData[0].attributeValue", "TRS");
	fake_assert_int(out.payload, "setVariableData[1].component.evse.id", 2);
	fake_assert_str(out.payload, "setVariableData[1].attributeValue", "SRT");
	fake_out_clear(&out);
	fake_env_free(env);
}

/* A transaction whose events name only the EVSE (E01 requires the
 * connectorId in no event) is on the connector the station reports
 * Occupied there, not on the EVSE's first. */
Test(connectors, transaction_without_connector_id)
{
	struct ogw_tr_env *env = two_connector_station();
	struct ogw_tr_out out = { 0 };
	long start;

	call(env, OGW_TR_UP, "StatusNotification",
	     "{\"timestamp\":\"2024-05-01T09:59:00Z\",\"connectorStatus\":\"Occupied\","
	     "\"evseId\":1,\"connectorId\":2}", &out);
	te(env, "{\"eventType\":\"Started\",\"timestamp\":\"2024-05-01T10:00:00Z\","
		"\"triggerReason\":\"Authorized\",\"seqNo\":0,\"evse\":{\"id\":1},"
		"\"transactionInfo\":{\"transactionId\":\"M2\"},"
		"\"idToken\":{\"idToken\":\"AABBCCDD\",\"type\":\"ISO14443\"}," REG(500) "}", &out);
	start = confirm_start(env, 10);
	fake_assert_int(fake_env_emitted(env, (size_t)start)->payload, "connectorId", 2);
	fake_out_clear(&out);
	fake_env_free(env);
}
