/* SPDX-License-Identifier: MIT */
/*
 * Tests of the 1.6 charger -> 2.0.1 CSMS translator: golden fixtures for
 * every one-to-one mapping and every local answer, then the flows with
 * state (transactions, device model, reports, profile cache). The fake
 * environment validates every payload against the schemas; these tests
 * check the values. The session's side (queues, SQLite) is not exercised.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fake_env.h"
#include "ocppgw/translator.h"

extern const struct ogw_translator ogw_tr_v16_v201;

static const struct ogw_translator *tr = &ogw_tr_v16_v201;

static char *dump(const json_t *j)
{
	return json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
}

static void assert_json_eq(const json_t *got, const json_t *want, const char *what)
{
	if (!json_equal(got, want)) {
		char *g = dump(got), *w = dump(want);
		cr_assert_fail("%s:\n  got  %s\n  want %s", what, g ? g : "NULL", w ? w : "NULL");
	}
}

static void put_state(struct ogw_tr_env *env, const json_t *state)
{
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)state, key, v)
		cr_assert_eq(ogw_tr_state_put(env, key, json_deep_copy(v)), 0);
}

/* Entries of the state other than the connectors' last statuses, which
 * stay by design (they tell a later stop whether the EV is plugged). */
static size_t state_left(struct ogw_tr_env *env)
{
	json_t *st = fake_env_state(env);
	return json_object_size(st) - (json_object_get(st, "status") ? 1 : 0);
}

Test(v16_v201, tables_complete_and_sorted)
{
	cr_assert_eq(ogw_translator_find(OGW_OCPP16, OGW_OCPP201), tr);
	fake_assert_tables(tr);
}

Test(v16_v201, golden_forwards)
{
	json_t *doc = fake_fixture("v16_v201/golden.json"), *c;
	size_t i;

	json_array_foreach(json_object_get(doc, "cases"), i, c) {
		struct ogw_tr_env *env = fake_env_new(tr);
		const char *name = json_string_value(json_object_get(c, "name"));
		enum ogw_tr_dir dir = strcmp(json_string_value(json_object_get(c, "dir")), "up")
					      ? OGW_TR_DOWN
					      : OGW_TR_UP;
		const char *action = json_string_value(json_object_get(c, "action"));
		json_t *fwd = json_object_get(c, "forward");
		struct ogw_tr_out out;

		if (json_object_get(c, "state"))
			put_state(env, json_object_get(c, "state"));
		fake_env_call(env, dir, action, json_object_get(c, "payload"), &out);
		cr_assert_eq(out.outcome, OGW_TR_FORWARD, "%s: outcome %d", name, out.outcome);
		cr_assert_str_eq(out.action, json_string_value(json_object_get(fwd, "action")), "%s",
				 name);
		assert_json_eq(out.payload, json_object_get(fwd, "payload"), name);
		if (json_object_get(c, "result")) {
			json_t *ret = fake_env_result(env, dir, action, &out,
						      json_object_get(c, "result"));
			assert_json_eq(ret, json_object_get(c, "answer"), name);
			json_decref(ret);
		}
		cr_assert_eq(fake_env_n_emitted(env), 0, "%s emitted calls", name);
		fake_out_clear(&out);
		fake_env_free(env);
	}
	json_decref(doc);
}

Test(v16_v201, golden_local_answers)
{
	json_t *doc = fake_fixture("v16_v201/local.json"), *c;
	size_t i;

	json_array_foreach(json_object_get(doc, "cases"), i, c) {
		struct ogw_tr_env *env = fake_env_new(tr);
		const char *action = json_string_value(json_object_get(c, "action"));
		struct ogw_tr_out out;

		fake_env_call(env, OGW_TR_DOWN, action, json_object_get(c, "payload"), &out);
		cr_assert_eq(out.outcome, OGW_TR_ANSWER, "case %zu %s: outcome %d", i, action,
			     out.outcome);
		assert_json_eq(out.payload, json_object_get(c, "answer"), action);
		cr_assert_eq(fake_env_n_emitted(env), 0, "%s emitted calls", action);
		fake_out_clear(&out);
		fake_env_free(env);
	}
	json_decref(doc);
}

/* Every REJECTED entry is covered by local.json with an exact answer. */
Test(v16_v201, every_rejected_action_has_a_local_case)
{
	json_t *doc = fake_fixture("v16_v201/local.json"), *c;
	size_t i, j;

	for (i = 0; i < tr->n_down; i++) {
		bool found = false;
		if (tr->down[i].kind != OGW_TR_REJECTED)
			continue;
		json_array_foreach(json_object_get(doc, "cases"), j, c)
			found |= !strcmp(json_string_value(json_object_get(c, "action")),
					 tr->down[i].action);
		cr_expect(found, "%s has no case in local.json", tr->down[i].action);
	}
	json_decref(doc);
}

/* ---- StatusNotification ----------------------------------------------------- */

Test(v16_v201, status_maps_connector_to_evse)
{
	struct ogw_tr_env *env = fake_env_new(tr);
	struct ogw_tr_out out;

	fake_env_call_text(env, OGW_TR_UP, "StatusNotification",
			   "{\"connectorId\":2,\"errorCode\":\"NoError\",\"status\":\"SuspendedEV\","
			   "\"timestamp\":\"2026-01-01T00:00:00Z\"}",
			   &out);
	cr_assert_eq(out.outcome, OGW_TR_FORWARD);
	cr_assert_str_eq(out.action, "StatusNotification");
	fake_assert_str(out.payload, "connectorStatus", "Occupied");
	fake_assert_int(out.payload, "evseId", 2);
	fake_assert_int(out.payload, "connectorId", 1);
	fake_assert_str(out.payload, "timestamp", "2026-01-01T00:00:00Z");
	/* no transaction, no error: nothing else */
	cr_assert_eq(fake_env_n_emitted(env), 0);
	fake_out_clear(&out);

	/* timestamp is optional in 1.6, required in 2.0.1 */
	fake_env_call_text(env, OGW_TR_UP, "StatusNotification",
			   "{\"connectorId\":1,\"errorCode\":\"NoError\",\"status\":\"Finishing\"}", &out);
	cr_assert(json_is_string(fake_path(out.payload, "timestamp")));
	fake_out_clear(&out);
	fake_env_free(env);
}

Test(v16_v201, status_error_emits_notify_event)
{
	struct ogw_tr_env *env = fake_env_new(tr);
	struct ogw_tr_out out;
	const struct fake_call *c;

	fake_env_call_text(env, OGW_TR_UP, "StatusNotification",
			   "{\"connectorId\":1,\"errorCode\":\"GroundFailure\",\"status\":\"Faulted\","
			   "\"vendorErrorCode\":\"E42\",\"timestamp\":\"2026-01-01T00:00:00Z\"}",
			   &out);
	cr_assert_eq(out.outcome, OGW_TR_FORWARD);
	fake_assert_str(out.payload, "connectorStatus", "Faulted");
	cr_assert_eq(fake_env_n_emitted(env), 1);
	c = fake_env_emitted(env, 0);
	cr_assert_eq(c->dir, OGW_TR_UP);
	cr_assert_str_eq(c->action, "NotifyEvent");
	fake_assert_int(c->payload, "seqNo", 0);
	cr_assert(json_is_false(fake_path(c->payload, "tbc")));
	fake_assert_str(c->payload, "eventData[0].trigger", "Alerting");
	fake_assert_str(c->payload, "eventData[0].component.name", "Connector");
	fake_assert_int(c->payload, "eventData[0].component.evse.id", 1);
	fake_assert_str(c->payload, "eventData[0].variable.name", "Problem");
	fake_assert_str(c->payload, "eventData[0].techCode", "GroundFailure");
	fake_assert_str(c->payload, "eventData[0].techInfo", "E42");
	fake_assert_str(c->payload, "eventData[0].timestamp", "2026-01-01T00:00:00Z");
	fake_out_clear(&out);
	fake_env_free(env);
}

Test(v16_v201, status_connector_zero_answered_locally)
{
	struct ogw_tr_env *env = fake_env_new(tr);
	struct ogw_tr_out out;

	fake_env_call_text(env, OGW_TR_UP, "StatusNotification",
			   "{\"connectorId\":0,\"errorCode\":\"NoError\",\"status\":\"Available\"}", &out);
	cr_assert_eq(out.outcome, OGW_TR_ANSWER);
	cr_assert_eq(json_object_size(out.payload), 0);
	cr_assert_eq(fake_env_n_emitted(env), 0);
	fake_out_clear(&out);

	/* an error of the whole charger is still reported, on ChargingStation */
	fake_env_call_text(env, OGW_TR_UP, "StatusNotification",
			   "{\"connectorId\":0,\"errorCode\":\"PowerMeterFailure\",\"status\":\"Faulted\"}",
			   &out);
	cr_assert_eq(out.outcome, OGW_TR_ANSWER);
	cr_assert_eq(fake_env_n_emitted(env), 1);
	fake_assert_str(fake_env_emitted(env, 0)->payload, "eventData[0].component.name",
			"ChargingStation");
	fake_out_clear(&out);
	fake_env_free(env);
}

/* ---- a whole remote-started transaction --------------------------------------- */

/* Runs StartTransaction on connector 1 and answers the emitted event with
 * @reply; returns the 2.0.1 transaction id in @uuid and the answer. */
static const struct fake_answer *start_tx(struct ogw_tr_env *env, const char *reply, char uuid[37])
{
	struct ogw_tr_out out;
	size_t first = fake_env_n_emitted(env), answers = fake_env_n_answers(env);
	const struct fake_call *c;

	fake_env_call_text(env, OGW_TR_UP, "StartTransaction",
			   "{\"connectorId\":1,\"idTag\":\"AA11\",\"meterStart\":1000,"
			   "\"timestamp\":\"2026-01-01T10:00:00Z\",\"reservationId\":3}",
			   &out);
	cr_assert_eq(out.outcome, OGW_TR_DEFER);
	cr_assert_eq(fake_env_n_emitted(env), first + 1);
	cr_assert_eq(fake_env_n_pending(env), 1);
	c = fake_env_emitted(env, first);
	cr_assert_str_eq(c->action, "TransactionEvent");
	snprintf(uuid, 37, "%s", json_string_value(fake_path(c->payload, "transactionInfo.transactionId")));
	cr_assert_eq(strlen(uuid), 36);
	fake_env_reply_text(env, first, reply);
	cr_assert_eq(fake_env_n_pending(env), 0);
	cr_assert_eq(fake_env_n_answers(env), answers + 1);
	return fake_env_answer(env, answers);
}

static void stop_tx(struct ogw_tr_env *env, int id16);

/* Connector 1 shown @status by the charger. */
static void conn1_status(struct ogw_tr_env *env, const char *status)
{
	struct ogw_tr_out out;
	char body[200];

	snprintf(body, sizeof(body),
		 "{\"connectorId\":1,\"errorCode\":\"NoError\",\"status\":\"%s\","
		 "\"timestamp\":\"2026-01-01T10:00:00Z\"}", status);
	fake_env_call_text(env, OGW_TR_UP, "StatusNotification", body, &out);
	fake_out_clear(&out);
}

/* The answer to the CSMS's RequestStartTransaction, or NULL while none. */
static const struct fake_answer *request_start_answer(struct ogw_tr_env *env)
{
	for (size_t i = 0; i < fake_env_n_answers(env); i++)
		if (!strcmp(fake_env_answer(env, i)->action, "RequestStartTransaction"))
			return fake_env_answer(env, i);
	return NULL;
}

/* A RequestStartTransaction for plugged-in connector 1: the gateway holds
 * it, sends the charger RemoteStartTransaction and returns its index. */
static size_t request_start_plugged_in(struct ogw_tr_env *env)
{
	struct ogw_tr_out out;
	long rst;

	conn1_status(env, "Preparing");
	fake_env_call_text(env, OGW_TR_DOWN, "RequestStartTransaction",
			   "{\"evseId\":1,\"remoteStartId\":7,"
			   "\"idToken\":{\"idToken\":\"AA11\",\"type\":\"Central\"}}",
			   &out);
	cr_assert_eq(out.outcome, OGW_TR_DEFER);
	fake_out_clear(&out);
	rst = fake_env_find(env, "RemoteStartTransaction", 0);
	cr_assert_geq(rst, 0);
	cr_assert_eq(fake_env_emitted(env, rst)->dir, OGW_TR_DOWN);
	fake_assert_str(fake_env_emitted(env, rst)->payload, "idTag", "AA11");
	fake_assert_int(fake_env_emitted(env, rst)->payload, "connectorId", 1);
	return (size_t)rst;
}

/* Finding 19 (F02): plugged in first, a 2.x station's transaction already
 * runs when the CSMS starts it remotely and the answer names it. The 1.6
 * charger answers before its StartTransaction: the CSMS's answer waits for
 * the Started event, then names that transaction. */
Test(v16_v201, remote_start_after_plug_in_names_its_transaction)
{
	struct ogw_tr_env *env = fake_env_new(tr);
	struct ogw_tr_out out;
	const struct fake_answer *a;
	const struct fake_call *c;
	long started;
	char uuid[37];

	fake_env_reply_text(env, request_start_plugged_in(env), "{\"status\":\"Accepted\"}");
	cr_assert_null(request_start_answer(env), "answered before the transaction exists");

	fake_env_call_text(env, OGW_TR_UP, "StartTransaction",
			   "{\"connectorId\":1,\"idTag\":\"AA11\",\"meterStart\":1000,"
			   "\"timestamp\":\"2026-01-01T10:00:05Z\"}",
			   &out);
	fake_out_clear(&out);
	started = fake_env_find(env, "TransactionEvent", 0);
	cr_assert_geq(started, 0);
	c = fake_env_emitted(env, started);
	fake_assert_str(c->payload, "triggerReason", "RemoteStart");
	fake_assert_int(c->payload, "transactionInfo.remoteStartId", 7);
	snprintf(uuid, sizeof(uuid), "%s",
		 json_string_value(fake_path(c->payload, "transactionInfo.transactionId")));
	cr_assert_null(request_start_answer(env), "answered before the CSMS has the Started event");

	fake_env_reply_text(env, started, "{}");
	a = request_start_answer(env);
	cr_assert_not_null(a);
	fake_assert_str(a->payload, "status", "Accepted");
	fake_assert_str(a->payload, "transactionId", uuid);
	cr_assert_eq(fake_env_n_pending(env), 0);
	fake_env_free(env);
}

/* A held remote start the charger refuses is answered at once; one no
 * transaction follows is answered, without an id, when the EV leaves. */
Test(v16_v201, remote_start_after_plug_in_without_a_transaction)
{
	struct ogw_tr_env *env = fake_env_new(tr);
	const struct fake_answer *a;
	struct ogw_tr_out out;
	char uuid[37];

	size_t rst = request_start_plugged_in(env);

	/* the EV leaves before the charger answers: its answer decides */
	conn1_status(env, "Available");
	cr_assert_null(request_start_answer(env));
	fake_env_reply_text(env, rst, "{\"status\":\"Rejected\"}");
	a = request_start_answer(env);
	cr_assert_not_null(a);
	fake_assert_str(a->payload, "status", "Rejected");
	fake_env_free(env);

	env = fake_env_new(tr);
	fake_env_reply_text(env, request_start_plugged_in(env), "{\"status\":\"Accepted\"}");
	cr_assert_null(request_start_answer(env));
	conn1_status(env, "Preparing");
	cr_assert_null(request_start_answer(env));
	conn1_status(env, "Available");
	a = request_start_answer(env);
	cr_assert_not_null(a);
	fake_assert_str(a->payload, "status", "Accepted");
	cr_assert_null(fake_path(a->payload, "transactionId"));
	cr_assert_eq(fake_env_n_pending(env), 0);
	fake_env_free(env);

	/* a Preparing a transaction has ended since (the charger showed no
	 * Charging) is no plug-in: the remote start goes through unheld */
	env = fake_env_new(tr);
	conn1_status(env, "Preparing");
	start_tx(env, "{}", uuid);
	stop_tx(env, 1);
	fake_env_call_text(env, OGW_TR_DOWN, "RequestStartTransaction",
			   "{\"evseId\":1,\"remoteStartId\":8,"
			   "\"idToken\":{\"idToken\":\"AA11\",\"type\":\"Central\"}}",
			   &out);
	cr_assert_eq(out.outcome, OGW_TR_FORWARD);
	fake_out_clear(&out);
	fake_env_free(env);
}

Test(v16_v201, transaction_remote_start_to_stop)
{
	struct ogw_tr_env *env = fake_env_new(tr);
	struct ogw_tr_out out;
	const struct fake_call *c;
	const struct fake_answer *a;
	json_t *ret;
	char uuid[37], text[512];

	/* RequestStartTransaction leaves its remoteStartId for the start */
	fake_env_call_text(env, OGW_TR_DOWN, "RequestStartTransaction",
			   "{\"evseId\":1,\"remoteStartId\":77,"
			   "\"idToken\":{\"idToken\":\"AA11\",\"type\":\"ISO14443\"}}",
			   &out);
	cr_assert_eq(out.outcome, OGW_TR_FORWARD);
	cr_assert_str_eq(out.action, "RemoteStartTransaction");
	fake_assert_str(out.payload, "idTag", "AA11");
	fake_assert_int(out.payload, "connectorId", 1);
	ret = fake_env_result_text(env, OGW_TR_DOWN, "RequestStartTransaction", &out,
				   "{\"status\":\"Accepted\"}");
	fake_assert_str(ret, "status", "Accepted");
	json_decref(ret);
	fake_out_clear(&out);

	a = start_tx(env, "{\"idTokenInfo\":{\"status\":\"Blocked\"}}", uuid);
	fake_assert_int(a->payload, "transactionId", 1);
	fake_assert_str(a->payload, "idTagInfo.status", "Blocked");
	c = fake_env_emitted(env, 0);
	fake_assert_str(c->payload, "eventType", "Started");
	fake_assert_int(c->payload, "seqNo", 0);
	fake_assert_str(c->payload, "triggerReason", "RemoteStart");
	fake_assert_int(c->payload, "transactionInfo.remoteStartId", 77);
	fake_assert_int(c->payload, "evse.id", 1);
	fake_assert_int(c->payload, "evse.connectorId", 1);
	fake_assert_str(c->payload, "idToken.idToken", "AA11");
	fake_assert_str(c->payload, "idToken.type", "ISO14443");
	fake_assert_int(c->payload, "reservationId", 3);
	fake_assert_int(c->payload, "meterValue[0].sampledValue[0].value", 1000);
	fake_assert_str(c->payload, "meterValue[0].sampledValue[0].context", "Transaction.Begin");
	fake_assert_str(c->payload, "meterValue[0].sampledValue[0].measurand",
			"Energy.Active.Import.Register");
	/* the remote start was used up */
	cr_assert_null(json_object_get(fake_env_state(env), "remote:1"));

	/* periodic meter values become TransactionEvent Updated, seqNo 1 */
	fake_env_call_text(env, OGW_TR_UP, "MeterValues",
			   "{\"connectorId\":1,\"transactionId\":1,\"meterValue\":[{\"timestamp\":"
			   "\"2026-01-01T10:15:00Z\",\"sampledValue\":[{\"value\":\"1.5\",\"unit\":\"kWh\","
			   "\"context\":\"Sample.Periodic\",\"measurand\":\"Energy.Active.Import.Register\"},"
			   "{\"value\":\"40\",\"measurand\":\"Temperature\",\"unit\":\"Celcius\"}]}]}",
			   &out);
	cr_assert_eq(out.outcome, OGW_TR_FORWARD);
	cr_assert_str_eq(out.action, "TransactionEvent");
	fake_assert_str(out.payload, "eventType", "Updated");
	fake_assert_str(out.payload, "triggerReason", "MeterValuePeriodic");
	fake_assert_int(out.payload, "seqNo", 1);
	fake_assert_str(out.payload, "transactionInfo.transactionId", uuid);
	fake_assert_str(out.payload, "meterValue[0].sampledValue[0].unitOfMeasure.unit", "Wh");
	fake_assert_int(out.payload, "meterValue[0].sampledValue[0].unitOfMeasure.multiplier", 3);
	cr_assert_eq(json_array_size(fake_path(out.payload, "meterValue[0].sampledValue")), 1,
		     "Temperature has no 2.0.1 measurand");
	ret = fake_env_result_text(env, OGW_TR_UP, "MeterValues", &out, "{\"totalCost\":1.2}");
	cr_assert_eq(json_object_size(ret), 0);
	json_decref(ret);
	fake_out_clear(&out);

	/* Charging during the transaction: also a ChargingStateChanged event */
	fake_env_call_text(env, OGW_TR_UP, "StatusNotification",
			   "{\"connectorId\":1,\"errorCode\":\"NoError\",\"status\":\"Charging\"}", &out);
	cr_assert_eq(out.outcome, OGW_TR_FORWARD);
	fake_out_clear(&out);
	cr_assert_eq(fake_env_n_emitted(env), 2);
	c = fake_env_emitted(env, 1);
	cr_assert_str_eq(c->action, "TransactionEvent");
	fake_assert_str(c->payload, "triggerReason", "ChargingStateChanged");
	fake_assert_str(c->payload, "transactionInfo.chargingState", "Charging");
	fake_assert_int(c->payload, "seqNo", 2);

	/* the CSMS asks about it, then stops it by its 2.0.1 id */
	snprintf(text, sizeof(text), "{\"transactionId\":\"%s\"}", uuid);
	fake_env_call_text(env, OGW_TR_DOWN, "GetTransactionStatus", text, &out);
	cr_assert_eq(out.outcome, OGW_TR_ANSWER);
	cr_assert(json_is_true(fake_path(out.payload, "ongoingIndicator")));
	cr_assert(json_is_false(fake_path(out.payload, "messagesInQueue")));
	fake_out_clear(&out);
	/* while the gateway's offline queue holds some of it */
	fake_env_set_queued(env, true);
	fake_env_call_text(env, OGW_TR_DOWN, "GetTransactionStatus", text, &out);
	cr_assert(json_is_true(fake_path(out.payload, "messagesInQueue")));
	fake_out_clear(&out);
	fake_env_set_queued(env, false);
	fake_env_call_text(env, OGW_TR_DOWN, "RequestStopTransaction", text, &out);
	cr_assert_eq(out.outcome, OGW_TR_FORWARD);
	cr_assert_str_eq(out.action, "RemoteStopTransaction");
	fake_assert_int(out.payload, "transactionId", 1);
	fake_out_clear(&out);

	fake_env_call_text(env, OGW_TR_UP, "StopTransaction",
			   "{\"transactionId\":1,\"meterStop\":4200,\"timestamp\":\"2026-01-01T11:00:00Z\","
			   "\"reason\":\"Remote\",\"idTag\":\"AA11\",\"transactionData\":[{\"timestamp\":"
			   "\"2026-01-01T10:59:00Z\",\"sampledValue\":[{\"value\":\"4.1\",\"unit\":\"kWh\"}]}]}",
			   &out);
	cr_assert_eq(out.outcome, OGW_TR_DEFER);
	cr_assert_eq(fake_env_n_emitted(env), 3);
	c = fake_env_emitted(env, 2);
	fake_assert_str(c->payload, "eventType", "Ended");
	fake_assert_int(c->payload, "seqNo", 3);
	fake_assert_str(c->payload, "triggerReason", "RemoteStop");
	fake_assert_str(c->payload, "transactionInfo.stoppedReason", "Remote");
	/* the CSMS stopped it, not a token: the Ended event names none (the
	 * CSMS prices an Ended without one), and the EV is still plugged */
	cr_assert_null(fake_path(c->payload, "idToken"));
	fake_assert_str(c->payload, "transactionInfo.chargingState", "EVConnected");
	fake_assert_str(c->payload, "meterValue[0].timestamp", "2026-01-01T10:59:00Z");
	fake_assert_int(c->payload, "meterValue[1].sampledValue[0].value", 4200);
	fake_assert_str(c->payload, "meterValue[1].sampledValue[0].context", "Transaction.End");
	fake_env_reply_text(env, 2, "{\"totalCost\":3.5}");
	a = fake_env_answer(env, 1);
	cr_assert_str_eq(a->action, "StopTransaction");
	cr_assert_null(fake_path(a->payload, "idTagInfo"));

	/* the transaction is gone from the state */
	fake_env_call_text(env, OGW_TR_DOWN, "GetTransactionStatus", text, &out);
	cr_assert(json_is_false(fake_path(out.payload, "ongoingIndicator")));
	fake_out_clear(&out);
	cr_assert_eq(state_left(env), 0, "state left: %s",
		     dump(fake_env_state(env)));
	fake_env_free(env);
}

Test(v16_v201, start_without_csms_is_accepted_with_gateway_id)
{
	struct ogw_tr_env *env = fake_env_new(tr);
	const struct fake_answer *a;
	struct ogw_tr_out out;
	char uuid[37];

	a = start_tx(env, NULL, uuid);
	fake_assert_int(a->payload, "transactionId", 1);
	fake_assert_str(a->payload, "idTagInfo.status", "Accepted");
	fake_assert_str(fake_env_emitted(env, 0)->payload, "triggerReason", "Authorized");

	/* and when the event cannot even be queued */
	fake_env_fail_emit(env, -EIO);
	fake_env_call_text(env, OGW_TR_UP, "StartTransaction",
			   "{\"connectorId\":2,\"idTag\":\"BB\",\"meterStart\":0,"
			   "\"timestamp\":\"2026-01-01T10:00:00Z\"}",
			   &out);
	cr_assert_eq(out.outcome, OGW_TR_DEFER);
	cr_assert_eq(fake_env_n_pending(env), 0);
	fake_assert_int(fake_env_answer(env, 1)->payload, "transactionId", 2);
	fake_env_free(env);
}

Test(v16_v201, stop_reasons_and_unknown_transaction)
{
	struct ogw_tr_env *env = fake_env_new(tr);
	struct ogw_tr_out out;
	const struct fake_call *c;
	char uuid[37];

	/* a transaction the gateway does not know is acknowledged, and the
	 * stop the CSMS cannot get is a dead letter with its reason */
	fake_env_call_text(env, OGW_TR_UP, "StopTransaction",
			   "{\"transactionId\":99,\"meterStop\":1,\"timestamp\":\"2026-01-01T11:00:00Z\"}",
			   &out);
	cr_assert_eq(out.outcome, OGW_TR_ANSWER);
	cr_assert_eq(fake_env_n_emitted(env), 0);
	cr_assert_eq(fake_env_n_lost(env), 1);
	cr_assert_str_eq(fake_env_lost(env, 0)->action, "StopTransaction");
	fake_assert_int(fake_env_lost(env, 0)->payload, "meterStop", 1);
	fake_out_clear(&out);

	start_tx(env, "{}", uuid);
	fake_env_call_text(env, OGW_TR_UP, "StopTransaction",
			   "{\"transactionId\":1,\"meterStop\":1,\"timestamp\":\"2026-01-01T11:00:00Z\","
			   "\"reason\":\"SoftReset\"}",
			   &out);
	c = fake_env_emitted(env, 1);
	fake_assert_str(c->payload, "transactionInfo.stoppedReason", "ImmediateReset");
	fake_assert_str(c->payload, "triggerReason", "ResetCommand");
	cr_assert_null(fake_path(c->payload, "idToken"));
	fake_env_reply(env, 1, NULL);
	cr_assert_null(fake_path(fake_env_answer(env, 1)->payload, "idTagInfo"));

	/* absent reason means Local (J16E 2.5) */
	start_tx(env, "{}", uuid);
	fake_env_call_text(env, OGW_TR_UP, "StopTransaction",
			   "{\"transactionId\":2,\"meterStop\":1,\"timestamp\":\"2026-01-01T11:00:00Z\"}",
			   &out);
	c = fake_env_emitted(env, 3);
	fake_assert_str(c->payload, "transactionInfo.stoppedReason", "Local");
	fake_assert_str(c->payload, "triggerReason", "StopAuthorized");
	fake_env_reply_text(env, 3, "{}");
	cr_assert_eq(fake_env_n_pending(env), 0);
	fake_env_free(env);
}

/* An OCMF blob with a reading at the start (B) and one at the end (E). */
#define OCMF_BLOB "OCMF|{\\\"FV\\\":\\\"1.0\\\",\\\"RD\\\":[{\\\"TM\\\":\\\"2026-01-01T10:00:00,000+0000 S\\\"," \
	"\\\"TX\\\":\\\"B\\\",\\\"RV\\\":1.0,\\\"RI\\\":\\\"1-b:1.8.0\\\",\\\"RU\\\":\\\"kWh\\\"},{\\\"TX\\\":\\\"E\\\"," \
	"\\\"RV\\\":4.2,\\\"RI\\\":\\\"1-b:1.8.0\\\",\\\"RU\\\":\\\"kWh\\\"}]}|{\\\"SA\\\":\\\"ECDSA-brainpool256r1-SHA256\\\"," \
	"\\\"SD\\\":\\\"3045\\\"}"

/* Finding 9: a signed sample carries its own reading, never a 0. */
Test(v16_v201, meter_values_trigger_and_signed_data)
{
	struct ogw_tr_env *env = fake_env_new(tr);
	struct ogw_tr_out out;
	const json_t *ev;
	char uuid[37];

	start_tx(env, "{}", uuid);
	/* the reading comes out of the OCMF blob: the end reading for
	 * Transaction.End, in Wh with multiplier 3, and the blob's method */
	fake_env_call_text(env, OGW_TR_UP, "MeterValues",
			   "{\"connectorId\":1,\"transactionId\":1,\"meterValue\":[{\"timestamp\":"
			   "\"2026-01-01T10:15:00Z\",\"sampledValue\":[{\"value\":\"" OCMF_BLOB "\","
			   "\"format\":\"SignedData\",\"context\":\"Trigger\"}]}]}",
			   &out);
	fake_assert_str(out.payload, "triggerReason", "Trigger");
	ev = out.payload;
	cr_assert(json_real_value(fake_path(ev, "meterValue[0].sampledValue[0].value")) == 4.2);
	fake_assert_str(ev, "meterValue[0].sampledValue[0].unitOfMeasure.unit", "Wh");
	fake_assert_int(ev, "meterValue[0].sampledValue[0].unitOfMeasure.multiplier", 3);
	fake_assert_str(ev, "meterValue[0].sampledValue[0].signedMeterValue.encodingMethod", "OCMF");
	fake_assert_str(ev, "meterValue[0].sampledValue[0].signedMeterValue.signingMethod",
			"ECDSA-brainpool256r1-SHA256");
	cr_assert(!strncmp(json_string_value(fake_path(
				   ev, "meterValue[0].sampledValue[0].signedMeterValue.signedMeterData")),
			   "OCMF|", 5));
	fake_out_clear(&out);
	cr_assert_eq(fake_env_n_lost(env), 0);

	/* a blob without a reading joins the plain sample of the same quantity */
	fake_env_call_text(env, OGW_TR_UP, "MeterValues",
			   "{\"connectorId\":1,\"transactionId\":1,\"meterValue\":[{\"timestamp\":"
			   "\"2026-01-01T10:16:00Z\",\"sampledValue\":["
			   "{\"value\":\"OCMF|{}|{}\",\"format\":\"SignedData\",\"measurand\":\"Energy.Active.Import.Register\"},"
			   "{\"value\":\"2100\",\"measurand\":\"Energy.Active.Import.Register\",\"unit\":\"Wh\"}]}]}",
			   &out);
	ev = out.payload;
	cr_assert_eq(json_array_size(fake_path(ev, "meterValue[0].sampledValue")), 1);
	fake_assert_int(ev, "meterValue[0].sampledValue[0].value", 2100);
	fake_assert_str(ev, "meterValue[0].sampledValue[0].signedMeterValue.signedMeterData",
			"OCMF|{}|{}");
	fake_assert_str(ev, "meterValue[0].sampledValue[0].signedMeterValue.signingMethod",
			"ECDSA-secp256r1-SHA256");
	fake_out_clear(&out);

	/* alone, or in a format 2.0.1 cannot name: given up with a reason,
	 * never sent as a reading of 0 */
	fake_env_call_text(env, OGW_TR_UP, "MeterValues",
			   "{\"connectorId\":1,\"transactionId\":1,\"meterValue\":[{\"timestamp\":"
			   "\"2026-01-01T10:17:00Z\",\"sampledValue\":["
			   "{\"value\":\"OCMF|{}|{}\",\"format\":\"SignedData\"},"
			   "{\"value\":\"AAECAw==\",\"format\":\"SignedData\"}]}]}",
			   &out);
	cr_assert_eq(out.outcome, OGW_TR_ANSWER);
	fake_out_clear(&out);
	cr_assert_eq(fake_env_n_lost(env), 2);
	cr_assert_str_eq(fake_env_lost(env, 0)->action, "MeterValues");
	cr_assert(strstr(fake_env_lost(env, 0)->reason, "reading"));
	cr_assert(strstr(fake_env_lost(env, 1)->reason, "OCMF"));

	/* the Transaction.End reading of a StopTransaction is the blob's end */
	fake_env_call_text(env, OGW_TR_UP, "StopTransaction",
			   "{\"transactionId\":1,\"meterStop\":4200,\"timestamp\":\"2026-01-01T11:00:00Z\","
			   "\"transactionData\":[{\"timestamp\":\"2026-01-01T11:00:00Z\",\"sampledValue\":"
			   "[{\"value\":\"" OCMF_BLOB "\",\"format\":\"SignedData\",\"context\":\"Transaction.End\"}]}]}",
			   &out);
	ev = fake_env_emitted(env, fake_env_n_emitted(env) - 1)->payload;
	cr_assert(json_real_value(fake_path(ev, "meterValue[0].sampledValue[0].value")) == 4.2);
	fake_assert_str(ev, "meterValue[0].sampledValue[0].context", "Transaction.End");
	fake_env_reply_text(env, fake_env_n_emitted(env) - 1, "{}");
	fake_out_clear(&out);

	/* only samples 2.0.1 cannot express: answered, nothing sent */
	fake_env_call_text(env, OGW_TR_UP, "MeterValues",
			   "{\"connectorId\":1,\"meterValue\":[{\"timestamp\":\"2026-01-01T10:15:00Z\","
			   "\"sampledValue\":[{\"value\":\"900\",\"measurand\":\"RPM\"}]}]}",
			   &out);
	cr_assert_eq(out.outcome, OGW_TR_ANSWER);
	fake_out_clear(&out);
	fake_env_free(env);
}

/* ---- device model ------------------------------------------------------------- */

Test(v16_v201, get_variables_through_get_configuration)
{
	struct ogw_tr_env *env = fake_env_new(tr);
	struct ogw_tr_out out;
	const struct fake_call *c;
	const json_t *res;

	fake_env_call_text(env, OGW_TR_DOWN, "GetVariables",
			   "{\"getVariableData\":["
			   "{\"component\":{\"name\":\"OCPPCommCtrlr\"},\"variable\":{\"name\":\"HeartbeatInterval\"}},"
			   "{\"component\":{\"name\":\"OCPPCommCtrlr\"},\"variable\":{\"name\":\"MessageAttempts\","
			   "\"instance\":\"TransactionEvent\"}},"
			   "{\"component\":{\"name\":\"AuthCtrlr\"},\"variable\":{\"name\":\"Nope\"}},"
			   "{\"component\":{\"name\":\"Nope\"},\"variable\":{\"name\":\"X\"}},"
			   "{\"component\":{\"name\":\"TxCtrlr\"},\"variable\":{\"name\":\"StopTxOnInvalidId\"},"
			   "\"attributeType\":\"Target\"},"
			   "{\"component\":{\"name\":\"SecurityCtrlr\"},\"variable\":{\"name\":\"BasicAuthPassword\"}},"
			   "{\"component\":{\"name\":\"ReservationCtrlr\"},\"variable\":{\"name\":\"NonEvseSpecific\"}}]}",
			   &out);
	cr_assert_eq(out.outcome, OGW_TR_DEFER);
	cr_assert_eq(fake_env_n_emitted(env), 1);
	c = fake_env_emitted(env, 0);
	cr_assert_eq(c->dir, OGW_TR_DOWN);
	cr_assert_str_eq(c->action, "GetConfiguration");
	fake_assert_str(c->payload, "key[0]", "HeartbeatInterval");
	fake_assert_str(c->payload, "key[1]", "TransactionMessageAttempts");
	fake_assert_str(c->payload, "key[2]", "AuthorizationKey");
	fake_assert_str(c->payload, "key[3]", "ReserveConnectorZeroSupported");
	cr_assert_eq(json_array_size(fake_path(c->payload, "key")), 4);
	fake_env_reply_text(env, 0,
			    "{\"configurationKey\":["
			    "{\"key\":\"HeartbeatInterval\",\"readonly\":false,\"value\":\"300\"},"
			    "{\"key\":\"TransactionMessageAttempts\",\"readonly\":true,\"value\":\"3\"},"
			    "{\"key\":\"AuthorizationKey\",\"readonly\":false}],"
			    "\"unknownKey\":[\"ReserveConnectorZeroSupported\"]}");
	res = fake_env_answer(env, 0)->payload;
	fake_assert_str(res, "getVariableResult[0].attributeStatus", "Accepted");
	fake_assert_str(res, "getVariableResult[0].attributeValue", "300");
	fake_assert_str(res, "getVariableResult[1].attributeStatus", "Accepted");
	fake_assert_str(res, "getVariableResult[1].attributeValue", "3");
	fake_assert_str(res, "getVariableResult[1].variable.instance", "TransactionEvent");
	fake_assert_str(res, "getVariableResult[2].attributeStatus", "UnknownVariable");
	fake_assert_str(res, "getVariableResult[3].attributeStatus", "UnknownComponent");
	fake_assert_str(res, "getVariableResult[4].attributeStatus", "NotSupportedAttributeType");
	fake_assert_str(res, "getVariableResult[4].attributeType", "Target");
	fake_assert_str(res, "getVariableResult[5].attributeStatus", "Rejected");
	cr_assert_null(fake_path(res, "getVariableResult[5].attributeValue"));
	fake_assert_str(res, "getVariableResult[6].attributeStatus", "UnknownVariable");
	fake_env_free(env);
}

Test(v16_v201, get_variables_charger_silent)
{
	struct ogw_tr_env *env = fake_env_new(tr);
	struct ogw_tr_out out;

	fake_env_call_text(env, OGW_TR_DOWN, "GetVariables",
			   "{\"getVariableData\":[{\"component\":{\"name\":\"OCPPCommCtrlr\"},"
			   "\"variable\":{\"name\":\"HeartbeatInterval\"}}]}",
			   &out);
	fake_env_reply(env, 0, NULL);
	fake_assert_str(fake_env_answer(env, 0)->payload, "getVariableResult[0].attributeStatus",
			"Rejected");
	fake_env_free(env);
}

Test(v16_v201, set_variables_one_change_configuration_each)
{
	struct ogw_tr_env *env = fake_env_new(tr);
	struct ogw_tr_out out;
	const json_t *res;

	fake_env_call_text(env, OGW_TR_DOWN, "SetVariables",
			   "{\"setVariableData\":["
			   "{\"component\":{\"name\":\"OCPPCommCtrlr\"},\"variable\":{\"name\":\"HeartbeatInterval\"},"
			   "\"attributeValue\":\"120\"},"
			   "{\"component\":{\"name\":\"Nope\"},\"variable\":{\"name\":\"X\"},\"attributeValue\":\"1\"},"
			   "{\"component\":{\"name\":\"SecurityCtrlr\"},\"variable\":{\"name\":\"BasicAuthPassword\"},"
			   "\"attributeValue\":\"AB\"},"
			   "{\"component\":{\"name\":\"TxCtrlr\"},\"variable\":{\"name\":\"StopTxOnInvalidId\"},"
			   "\"attributeValue\":\"true\"},"
			   "{\"component\":{\"name\":\"SampledDataCtrlr\"},\"variable\":{\"name\":\"TxUpdatedMeasurands\"},"
			   "\"attributeValue\":\"Voltage\"}]}",
			   &out);
	cr_assert_eq(out.outcome, OGW_TR_DEFER);
	cr_assert_eq(fake_env_n_emitted(env), 4);
	fake_assert_str(fake_env_emitted(env, 0)->payload, "key", "HeartbeatInterval");
	fake_assert_str(fake_env_emitted(env, 0)->payload, "value", "120");
	/* 1.6 keeps the password as hex (J16 §6.2.2) */
	fake_assert_str(fake_env_emitted(env, 1)->payload, "key", "AuthorizationKey");
	fake_assert_str(fake_env_emitted(env, 1)->payload, "value", "4142");
	fake_assert_str(fake_env_emitted(env, 2)->payload, "key", "StopTransactionOnInvalidId");
	fake_assert_str(fake_env_emitted(env, 3)->payload, "key", "MeterValuesSampledData");

	/* answers may come in any order; the answer waits for all */
	fake_env_reply_text(env, 1, "{\"status\":\"RebootRequired\"}");
	fake_env_reply_text(env, 0, "{\"status\":\"Accepted\"}");
	fake_env_reply_text(env, 3, "{\"status\":\"NotSupported\"}");
	cr_assert_eq(fake_env_n_answers(env), 0);
	fake_env_reply(env, 2, NULL);
	cr_assert_eq(fake_env_n_answers(env), 1);
	res = fake_env_answer(env, 0)->payload;
	fake_assert_str(res, "setVariableResult[0].attributeStatus", "Accepted");
	fake_assert_str(res, "setVariableResult[1].attributeStatus", "UnknownComponent");
	fake_assert_str(res, "setVariableResult[2].attributeStatus", "RebootRequired");
	fake_assert_str(res, "setVariableResult[3].attributeStatus", "Rejected");
	fake_assert_str(res, "setVariableResult[4].attributeStatus", "UnknownVariable");
	fake_assert_str(res, "setVariableResult[4].variable.name", "TxUpdatedMeasurands");
	fake_env_free(env);
}

Test(v16_v201, set_variables_when_nothing_can_be_queued)
{
	struct ogw_tr_env *env = fake_env_new(tr);
	struct ogw_tr_out out;

	fake_env_fail_emit(env, -ENOBUFS);
	fake_env_call_text(env, OGW_TR_DOWN, "SetVariables",
			   "{\"setVariableData\":["
			   "{\"component\":{\"name\":\"OCPPCommCtrlr\"},\"variable\":{\"name\":\"HeartbeatInterval\"},"
			   "\"attributeValue\":\"120\"},"
			   "{\"component\":{\"name\":\"TxCtrlr\"},\"variable\":{\"name\":\"StopTxOnInvalidId\"},"
			   "\"attributeValue\":\"true\"}]}",
			   &out);
	cr_assert_eq(out.outcome, OGW_TR_DEFER);
	cr_assert_eq(fake_env_n_answers(env), 1);
	fake_assert_str(fake_env_answer(env, 0)->payload, "setVariableResult[1].attributeStatus",
			"Rejected");
	fake_env_free(env);
}

/* A GetConfiguration.conf with @n mapped keys (one row per key) plus one
 * key that has no 2.0.1 variable. */
static json_t *config_conf(size_t n)
{
	static const char *const keys[] = {
		"AllowOfflineTxForUnknownId", "AuthorizationCacheEnabled", "AuthorizeRemoteTxRequests",
		"LocalAuthorizeOffline", "LocalPreAuthorize", "ClockAlignedDataInterval",
		"MeterValuesAlignedData", "StopTxnAlignedData", "MeterValueSampleInterval",
		"MeterValuesSampledData", "StopTxnSampledData", "ConnectionTimeOut",
		"StopTransactionOnEVSideDisconnect", "StopTransactionOnInvalidId",
		"MaxEnergyOnInvalidId", "HeartbeatInterval", "MinimumStatusDuration", "ResetRetries",
		"TransactionMessageAttempts", "TransactionMessageRetryInterval",
		"UnlockConnectorOnEVSideDisconnect", "WebSocketPingInterval", "ConnectorPhaseRotation",
		"GetConfigurationMaxKeys", "LocalAuthListEnabled",
	};
	json_t *list = json_array();
	cr_assert_leq(n, sizeof(keys) / sizeof(keys[0]));
	json_array_append_new(list, json_pack("{s:s, s:b, s:s}", "key", "BlinkRepeat", "readonly", 0,
					      "value", "3"));
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, json_pack("{s:s, s:b, s:s}", "key", keys[i], "readonly",
						      i == 0, "value",
						      strcmp(keys[i], "ConnectorPhaseRotation")
							      ? "1"
							      : "0.RST, 1.RTS"));
	return json_pack("{s:o}", "configurationKey", list);
}

Test(v16_v201, base_report_in_parts)
{
	struct ogw_tr_env *env = fake_env_new(tr);
	struct ogw_tr_out out;
	const struct fake_call *c;
	json_t *conf = config_conf(25);

	fake_env_call_text(env, OGW_TR_DOWN, "GetBaseReport",
			   "{\"requestId\":8,\"reportBase\":\"FullInventory\"}", &out);
	cr_assert_eq(out.outcome, OGW_TR_DEFER);
	c = fake_env_emitted(env, 0);
	cr_assert_str_eq(c->action, "GetConfiguration");
	cr_assert_eq(json_object_size(c->payload), 0);
	fake_env_reply(env, 0, conf);
	fake_assert_str(fake_env_answer(env, 0)->payload, "status", "Accepted");
	cr_assert_eq(fake_env_n_emitted(env), 3);

	c = fake_env_emitted(env, 1);
	cr_assert_str_eq(c->action, "NotifyReport");
	cr_assert_eq(c->dir, OGW_TR_UP);
	fake_assert_int(c->payload, "requestId", 8);
	fake_assert_int(c->payload, "seqNo", 0);
	cr_assert(json_is_true(fake_path(c->payload, "tbc")));
	cr_assert_eq(json_array_size(fake_path(c->payload, "reportData")), 20);
	fake_assert_str(c->payload, "reportData[0].component.name", "AuthCtrlr");
	fake_assert_str(c->payload, "reportData[0].variable.name", "OfflineTxForUnknownIdEnabled");
	fake_assert_str(c->payload, "reportData[0].variableAttribute[0].mutability", "ReadOnly");
	fake_assert_str(c->payload, "reportData[0].variableAttribute[0].value", "1");
	fake_assert_str(c->payload, "reportData[1].variableAttribute[0].mutability", "ReadWrite");
	/* one variable per key: ClockAlignedDataInterval is Interval only */
	fake_assert_str(c->payload, "reportData[5].variable.name", "Interval");
	fake_assert_str(c->payload, "reportData[6].variable.name", "Measurands");

	c = fake_env_emitted(env, 2);
	fake_assert_int(c->payload, "seqNo", 1);
	cr_assert(json_is_false(fake_path(c->payload, "tbc")));
	/* ConnectorPhaseRotation "0.RST, 1.RTS" is two variables: the
	 * station's and EVSE 1's */
	cr_assert_eq(json_array_size(fake_path(c->payload, "reportData")), 6);
	fake_assert_str(c->payload, "reportData[2].component.name", "ChargingStation");
	fake_assert_str(c->payload, "reportData[2].variable.name", "PhaseRotation");
	fake_assert_str(c->payload, "reportData[2].variableAttribute[0].value", "RST");
	fake_assert_str(c->payload, "reportData[3].component.name", "EVSE");
	fake_assert_int(c->payload, "reportData[3].component.evse.id", 1);
	fake_assert_str(c->payload, "reportData[3].variableAttribute[0].value", "RTS");
	fake_assert_str(c->payload, "reportData[4].variable.instance", "GetVariables");
	json_decref(conf);
	fake_env_free(env);
}

Test(v16_v201, report_filtered_empty_and_failed)
{
	struct ogw_tr_env *env = fake_env_new(tr);
	struct ogw_tr_out out;
	json_t *conf = config_conf(25);

	fake_env_call_text(env, OGW_TR_DOWN, "GetReport",
			   "{\"requestId\":9,\"componentVariable\":[{\"component\":{\"name\":\"SampledDataCtrlr\"},"
			   "\"variable\":{\"name\":\"TxEndedInterval\"}},{\"component\":{\"name\":\"AuthCtrlr\"}}]}",
			   &out);
	fake_env_reply(env, 0, conf);
	fake_assert_str(fake_env_answer(env, 0)->payload, "status", "Accepted");
	cr_assert_eq(fake_env_n_emitted(env), 2);
	/* TxEndedInterval has no 1.6 key of its own: only AuthCtrlr's four */
	cr_assert_eq(json_array_size(fake_path(fake_env_emitted(env, 1)->payload, "reportData")), 4);
	fake_assert_str(fake_env_emitted(env, 1)->payload, "reportData[3].component.name",
			"AuthCtrlr");

	fake_env_call_text(env, OGW_TR_DOWN, "GetReport",
			   "{\"requestId\":10,\"componentVariable\":[{\"component\":{\"name\":\"Nope\"}}]}",
			   &out);
	fake_env_reply(env, 2, conf);
	fake_assert_str(fake_env_answer(env, 1)->payload, "status", "EmptyResultSet");
	cr_assert_eq(fake_env_n_emitted(env), 3);

	fake_env_call_text(env, OGW_TR_DOWN, "GetBaseReport",
			   "{\"requestId\":11,\"reportBase\":\"SummaryInventory\"}", &out);
	fake_env_reply(env, 3, NULL);
	fake_assert_str(fake_env_answer(env, 2)->payload, "status", "Rejected");
	cr_assert_eq(fake_env_n_emitted(env), 4);
	json_decref(conf);
	fake_env_free(env);
}

/* ---- charging profile cache ---------------------------------------------------- */

Test(v16_v201, charging_profiles_cached_for_get_and_cleared)
{
	struct ogw_tr_env *env = fake_env_new(tr);
	struct ogw_tr_out out;
	const struct fake_call *c;
	json_t *ret;
	const char *set =
		"{\"evseId\":1,\"chargingProfile\":{\"id\":5,\"stackLevel\":1,"
		"\"chargingProfilePurpose\":\"TxDefaultProfile\",\"chargingProfileKind\":\"Absolute\","
		"\"chargingSchedule\":[{\"id\":1,\"chargingRateUnit\":\"A\",\"startSchedule\":"
		"\"2026-01-01T00:00:00Z\",\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":16}]}]}}";

	fake_env_call_text(env, OGW_TR_DOWN, "SetChargingProfile", set, &out);
	ret = fake_env_result_text(env, OGW_TR_DOWN, "SetChargingProfile", &out,
				   "{\"status\":\"Accepted\"}");
	json_decref(ret);
	fake_out_clear(&out);
	/* the same profile again replaces, not duplicates */
	fake_env_call_text(env, OGW_TR_DOWN, "SetChargingProfile", set, &out);
	ret = fake_env_result_text(env, OGW_TR_DOWN, "SetChargingProfile", &out,
				   "{\"status\":\"Accepted\"}");
	json_decref(ret);
	fake_out_clear(&out);

	fake_env_call_text(env, OGW_TR_DOWN, "GetChargingProfiles",
			   "{\"requestId\":4,\"evseId\":1,\"chargingProfile\":{\"chargingProfilePurpose\":"
			   "\"TxDefaultProfile\"}}",
			   &out);
	cr_assert_eq(out.outcome, OGW_TR_DEFER);
	fake_assert_str(fake_env_answer(env, 0)->payload, "status", "Accepted");
	cr_assert_eq(fake_env_n_emitted(env), 1);
	c = fake_env_emitted(env, 0);
	cr_assert_str_eq(c->action, "ReportChargingProfiles");
	fake_assert_int(c->payload, "requestId", 4);
	fake_assert_int(c->payload, "evseId", 1);
	fake_assert_str(c->payload, "chargingLimitSource", "CSO");
	cr_assert_eq(json_array_size(fake_path(c->payload, "chargingProfile")), 1);
	fake_assert_int(c->payload, "chargingProfile[0].id", 5);

	/* criteria that do not match */
	fake_env_call_text(env, OGW_TR_DOWN, "GetChargingProfiles",
			   "{\"requestId\":5,\"chargingProfile\":{\"chargingLimitSource\":[\"EMS\"]}}", &out);
	cr_assert_eq(out.outcome, OGW_TR_ANSWER);
	fake_assert_str(out.payload, "status", "NoProfiles");
	fake_out_clear(&out);

	fake_env_call_text(env, OGW_TR_DOWN, "ClearChargingProfile", "{\"chargingProfileId\":5}", &out);
	fake_assert_int(out.payload, "id", 5);
	ret = fake_env_result_text(env, OGW_TR_DOWN, "ClearChargingProfile", &out,
				   "{\"status\":\"Accepted\"}");
	json_decref(ret);
	fake_out_clear(&out);
	fake_env_call_text(env, OGW_TR_DOWN, "GetChargingProfiles",
			   "{\"requestId\":6,\"chargingProfile\":{}}", &out);
	fake_assert_str(out.payload, "status", "NoProfiles");
	fake_out_clear(&out);
	fake_env_free(env);
}

Test(v16_v201, remote_start_with_tx_profile_and_any_connector)
{
	struct ogw_tr_env *env = fake_env_new(tr);
	struct ogw_tr_out out;
	char uuid[37];

	fake_env_call_text(env, OGW_TR_DOWN, "RequestStartTransaction",
			   "{\"remoteStartId\":5,\"idToken\":{\"idToken\":\"AA11\",\"type\":\"ISO14443\"},"
			   "\"chargingProfile\":{\"id\":2,\"stackLevel\":0,\"chargingProfilePurpose\":\"TxProfile\","
			   "\"chargingProfileKind\":\"Relative\",\"chargingSchedule\":[{\"id\":1,"
			   "\"chargingRateUnit\":\"W\",\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":7400}]}]}}",
			   &out);
	cr_assert_eq(out.outcome, OGW_TR_FORWARD);
	cr_assert_null(fake_path(out.payload, "connectorId"));
	fake_assert_str(out.payload, "chargingProfile.chargingProfilePurpose", "TxProfile");
	fake_assert_int(out.payload, "chargingProfile.chargingSchedule.chargingSchedulePeriod[0].limit",
			7400);
	fake_out_clear(&out);
	/* the charger picked connector 1: the pending remote start still applies */
	start_tx(env, "{}", uuid);
	fake_assert_str(fake_env_emitted(env, 0)->payload, "triggerReason", "RemoteStart");
	fake_assert_int(fake_env_emitted(env, 0)->payload, "transactionInfo.remoteStartId", 5);
	fake_env_free(env);
}

/* ---- reservations: ReservationStatusUpdate synthesized -------------------------- */

/* ReserveNow @id for @idtag on EVSE @evse (0: any) until @expiry, answered
 * @status by the charger. */
static void reserve(struct ogw_tr_env *env, int id, int evse, const char *expiry,
		    const char *idtag, const char *status)
{
	json_t *req = json_pack("{s:i, s:s, s:{s:s, s:s}}", "id", id, "expiryDateTime", expiry,
				"idToken", "idToken", idtag, "type", "ISO14443");
	json_t *res = json_pack("{s:s}", "status", status), *ret;
	struct ogw_tr_out out;

	if (evse)
		json_object_set_new(req, "evseId", json_integer(evse));
	fake_env_call(env, OGW_TR_DOWN, "ReserveNow", req, &out);
	cr_assert_eq(out.outcome, OGW_TR_FORWARD);
	ret = fake_env_result(env, OGW_TR_DOWN, "ReserveNow", &out, res);
	fake_assert_str(ret, "status", status);
	json_decref(ret);
	json_decref(res);
	json_decref(req);
	fake_out_clear(&out);
}

/* The charger's StatusNotification @status on @connector at @ts. */
static void status16(struct ogw_tr_env *env, int connector, const char *status, const char *ts,
		     struct ogw_tr_out *out)
{
	json_t *p = json_pack("{s:i, s:s, s:s, s:s}", "connectorId", connector, "errorCode",
			      "NoError", "status", status, "timestamp", ts);
	fake_env_call(env, OGW_TR_UP, "StatusNotification", p, out);
	json_decref(p);
}

/* A status that ends reservation @id: the StatusNotification goes first,
 * then ReservationStatusUpdate @update; the charger's answer follows the
 * CSMS's. */
static void assert_status_then_update(struct ogw_tr_env *env, const struct ogw_tr_out *out,
				      size_t first, const char *status, int id, const char *update)
{
	const struct fake_call *c;
	size_t answers = fake_env_n_answers(env);

	cr_assert_eq(out->outcome, OGW_TR_DEFER);
	cr_assert_eq(fake_env_n_emitted(env), first + 2);
	c = fake_env_emitted(env, first);
	cr_assert_eq(c->dir, OGW_TR_UP);
	cr_assert_str_eq(c->action, "StatusNotification");
	fake_assert_str(c->payload, "connectorStatus", status);
	c = fake_env_emitted(env, first + 1);
	cr_assert_eq(c->dir, OGW_TR_UP);
	cr_assert_str_eq(c->action, "ReservationStatusUpdate");
	fake_assert_int(c->payload, "reservationId", id);
	fake_assert_str(c->payload, "reservationUpdateStatus", update);
	cr_assert_eq(json_object_size(c->payload), 2);
	fake_env_reply_text(env, first, "{}");
	fake_env_reply_text(env, first + 1, "{}");
	cr_assert_eq(fake_env_n_answers(env), answers + 1);
	cr_assert_str_eq(fake_env_answer(env, answers)->action, "StatusNotification");
	cr_assert_eq(json_object_size(fake_env_answer(env, answers)->payload), 0);
}

Test(v16_v201, reservation_used_by_its_transaction)
{
	struct ogw_tr_env *env = fake_env_new(tr);
	struct ogw_tr_out out;
	char uuid[37];

	/* refused reservations are not kept */
	reserve(env, 2, 1, "2026-01-01T12:00:00Z", "AA11", "Occupied");
	cr_assert_eq(state_left(env), 0);

	reserve(env, 3, 1, "2026-01-01T12:00:00Z", "AA11", "Accepted");
	fake_assert_int(fake_env_state(env), "rsv:3.evse", 1);
	fake_assert_str(fake_env_state(env), "rsv:3.idTag", "AA11");
	fake_assert_str(fake_env_state(env), "rsv:3.expiry", "2026-01-01T12:00:00Z");
	fake_assert_int(fake_env_state(env), "rsvconn:1.id", 3);

	status16(env, 1, "Reserved", "2026-01-01T09:59:00Z", &out);
	cr_assert_eq(out.outcome, OGW_TR_FORWARD);
	fake_assert_str(out.payload, "connectorStatus", "Reserved");
	fake_out_clear(&out);
	/* the EV is plugged in before the StartTransaction: not an end yet */
	status16(env, 1, "Preparing", "2026-01-01T09:59:30Z", &out);
	cr_assert_eq(out.outcome, OGW_TR_FORWARD);
	fake_out_clear(&out);
	cr_assert_eq(fake_env_n_emitted(env), 0);

	/* start_tx() names reservationId 3: used, no update */
	start_tx(env, "{}", uuid);
	fake_assert_int(fake_env_emitted(env, 0)->payload, "reservationId", 3);
	cr_assert_eq(fake_env_n_emitted(env), 1);
	cr_assert_null(json_object_get(fake_env_state(env), "rsv:3"));
	cr_assert_null(json_object_get(fake_env_state(env), "rsvconn:1"));
	fake_env_free(env);
}

Test(v16_v201, reservation_used_without_its_id_and_taken_by_another)
{
	struct ogw_tr_env *env = fake_env_new(tr);
	struct ogw_tr_out out;
	const struct fake_call *c;

	/* a StartTransaction without reservationId by the reserved idTag (1.6
	 * idTags are case-insensitive) uses it, and the event names it */
	reserve(env, 4, 2, "2026-01-01T12:00:00Z", "BB22", "Accepted");
	fake_env_call_text(env, OGW_TR_UP, "StartTransaction",
			   "{\"connectorId\":2,\"idTag\":\"bb22\",\"meterStart\":0,"
			   "\"timestamp\":\"2026-01-01T10:00:00Z\"}",
			   &out);
	cr_assert_eq(fake_env_n_emitted(env), 1);
	fake_assert_int(fake_env_emitted(env, 0)->payload, "reservationId", 4);
	cr_assert_null(json_object_get(fake_env_state(env), "rsv:4"));

	/* another idTag took the connector: Started, then Removed */
	reserve(env, 5, 3, "2026-01-01T12:00:00Z", "CC33", "Accepted");
	fake_env_call_text(env, OGW_TR_UP, "StartTransaction",
			   "{\"connectorId\":3,\"idTag\":\"DD44\",\"meterStart\":0,"
			   "\"timestamp\":\"2026-01-01T10:00:00Z\"}",
			   &out);
	cr_assert_eq(fake_env_n_emitted(env), 3);
	c = fake_env_emitted(env, 1);
	cr_assert_str_eq(c->action, "TransactionEvent");
	cr_assert_null(fake_path(c->payload, "reservationId"));
	c = fake_env_emitted(env, 2);
	cr_assert_str_eq(c->action, "ReservationStatusUpdate");
	fake_assert_int(c->payload, "reservationId", 5);
	fake_assert_str(c->payload, "reservationUpdateStatus", "Removed");
	cr_assert_null(json_object_get(fake_env_state(env), "rsv:5"));
	cr_assert_null(json_object_get(fake_env_state(env), "rsvconn:3"));
	fake_env_reply_text(env, 0, "{}");
	fake_env_reply_text(env, 1, "{}");
	fake_env_free(env);
}

Test(v16_v201, reservation_removed)
{
	struct ogw_tr_env *env = fake_env_new(tr);
	struct ogw_tr_out out;
	json_t *ret;

	/* Reserved -> Available before the expiry, no transaction */
	reserve(env, 6, 1, "2026-01-01T12:00:00Z", "AA11", "Accepted");
	status16(env, 1, "Reserved", "2026-01-01T10:00:00Z", &out);
	fake_out_clear(&out);
	status16(env, 1, "Available", "2026-01-01T11:00:00Z", &out);
	assert_status_then_update(env, &out, 0, "Available", 6, "Removed");
	cr_assert_eq(state_left(env), 0, "state left: %s",
		     dump(fake_env_state(env)));

	/* the connector going Faulted ends it too (1.6 §3.11) */
	reserve(env, 7, 2, "2026-01-01T12:00:00Z", "AA11", "Accepted");
	status16(env, 2, "Faulted", "2026-01-01T11:00:00Z", &out);
	assert_status_then_update(env, &out, 2, "Faulted", 7, "Removed");
	cr_assert_eq(state_left(env), 0);

	/* a ReserveNow with a known id moves that reservation */
	reserve(env, 8, 1, "2026-01-01T12:00:00Z", "AA11", "Accepted");
	reserve(env, 8, 2, "2026-01-01T12:00:00Z", "AA11", "Accepted");
	cr_assert_null(json_object_get(fake_env_state(env), "rsvconn:1"));
	fake_assert_int(fake_env_state(env), "rsvconn:2.id", 8);

	/* cancelled by the CSMS: no update (H02), and the Available that
	 * follows is only a status */
	fake_env_call_text(env, OGW_TR_DOWN, "CancelReservation", "{\"reservationId\":8}", &out);
	ret = fake_env_result_text(env, OGW_TR_DOWN, "CancelReservation", &out,
				   "{\"status\":\"Accepted\"}");
	fake_assert_str(ret, "status", "Accepted");
	json_decref(ret);
	fake_out_clear(&out);
	cr_assert_eq(state_left(env), 0);
	status16(env, 2, "Available", "2026-01-01T11:00:00Z", &out);
	cr_assert_eq(out.outcome, OGW_TR_FORWARD);
	fake_out_clear(&out);
	cr_assert_eq(fake_env_n_emitted(env), 4);

	/* a cancel the charger refuses leaves the reservation watched */
	reserve(env, 9, 1, "2026-01-01T12:00:00Z", "AA11", "Accepted");
	fake_env_call_text(env, OGW_TR_DOWN, "CancelReservation", "{\"reservationId\":9}", &out);
	ret = fake_env_result_text(env, OGW_TR_DOWN, "CancelReservation", &out,
				   "{\"status\":\"Rejected\"}");
	json_decref(ret);
	fake_out_clear(&out);
	fake_assert_int(fake_env_state(env), "rsv:9.evse", 1);
	fake_env_free(env);
}

Test(v16_v201, reservation_expired)
{
	struct ogw_tr_env *env = fake_env_new(tr);
	struct ogw_tr_out out;

	/* exactly at the expiry, written with another offset */
	reserve(env, 10, 1, "2026-01-01T10:00:00Z", "AA11", "Accepted");
	status16(env, 1, "Reserved", "2026-01-01T09:00:00Z", &out);
	fake_out_clear(&out);
	status16(env, 1, "Available", "2026-01-01T11:00:00.000+01:00", &out);
	assert_status_then_update(env, &out, 0, "Available", 10, "Expired");
	cr_assert_eq(state_left(env), 0);

	/* a second before it: Removed */
	reserve(env, 11, 1, "2026-01-01T10:00:00Z", "AA11", "Accepted");
	status16(env, 1, "Available", "2026-01-01T10:59:59.999+01:00", &out);
	assert_status_then_update(env, &out, 2, "Available", 11, "Removed");

	/* no timestamp: the gateway's clock, long past this expiry */
	reserve(env, 12, 1, "2020-01-01T10:00:00Z", "AA11", "Accepted");
	fake_env_call_text(env, OGW_TR_UP, "StatusNotification",
			   "{\"connectorId\":1,\"errorCode\":\"NoError\",\"status\":\"Available\"}", &out);
	assert_status_then_update(env, &out, 4, "Available", 12, "Expired");
	cr_assert_eq(state_left(env), 0);
	fake_env_free(env);
}

Test(v16_v201, reservation_any_connector)
{
	struct ogw_tr_env *env = fake_env_new(tr);
	struct ogw_tr_out out;
	const struct fake_call *c;

	/* no EVSE: 1.6 connector 0; a connector's own status says nothing of it */
	reserve(env, 13, 0, "2026-01-01T10:00:00Z", "AA11", "Accepted");
	fake_assert_int(fake_env_state(env), "rsvconn:0.id", 13);
	status16(env, 1, "Available", "2026-01-01T09:00:00Z", &out);
	cr_assert_eq(out.outcome, OGW_TR_FORWARD);
	fake_out_clear(&out);
	cr_assert_eq(fake_env_n_emitted(env), 0);
	/* the first status at or after its expiry reports it */
	status16(env, 2, "Available", "2026-01-01T10:00:01Z", &out);
	assert_status_then_update(env, &out, 0, "Available", 13, "Expired");
	cr_assert_eq(state_left(env), 0);

	/* the whole charger going Unavailable removes it */
	reserve(env, 14, 0, "2026-01-01T12:00:00Z", "AA11", "Accepted");
	status16(env, 0, "Unavailable", "2026-01-01T11:00:00Z", &out);
	cr_assert_eq(out.outcome, OGW_TR_ANSWER);
	fake_out_clear(&out);
	cr_assert_eq(fake_env_n_emitted(env), 3);
	c = fake_env_emitted(env, 2);
	cr_assert_str_eq(c->action, "ReservationStatusUpdate");
	fake_assert_int(c->payload, "reservationId", 14);
	fake_assert_str(c->payload, "reservationUpdateStatus", "Removed");
	cr_assert_eq(state_left(env), 0);
	fake_env_free(env);
}

/* ---- Reset OnIdle ---------------------------------------------------------------- */

static void boot_reason_is(struct ogw_tr_env *env, const char *reason);

/* StopTransaction of 1.6 transaction @id16; answers its event with {}. */
static void stop_tx(struct ogw_tr_env *env, int id16)
{
	struct ogw_tr_out out;
	json_t *p = json_pack("{s:i, s:i, s:s, s:s}", "transactionId", id16, "meterStop", 10,
			      "timestamp", "2026-01-01T11:00:00Z", "reason", "Local");
	size_t first = fake_env_n_emitted(env);

	fake_env_call(env, OGW_TR_UP, "StopTransaction", p, &out);
	cr_assert_eq(out.outcome, OGW_TR_DEFER);
	cr_assert_str_eq(fake_env_emitted(env, first)->action, "TransactionEvent");
	/* nothing for the charger before its stop is answered */
	cr_assert_eq(fake_env_n_emitted(env), first + 1);
	fake_env_reply_text(env, first, "{}");
	json_decref(p);
}

Test(v16_v201, reset_on_idle_without_transaction)
{
	struct ogw_tr_env *env = fake_env_new(tr);
	struct ogw_tr_out out;
	json_t *ret;
	char uuid[37];

	/* a transaction that has ended leaves nothing to wait for */
	start_tx(env, "{}", uuid);
	stop_tx(env, 1);
	fake_env_call_text(env, OGW_TR_DOWN, "Reset", "{\"type\":\"OnIdle\"}", &out);
	cr_assert_eq(out.outcome, OGW_TR_FORWARD);
	cr_assert_str_eq(out.action, "Reset");
	fake_assert_str(out.payload, "type", "Soft");
	ret = fake_env_result_text(env, OGW_TR_DOWN, "Reset", &out, "{\"status\":\"Rejected\"}");
	fake_assert_str(ret, "status", "Rejected");
	json_decref(ret);
	fake_out_clear(&out);
	cr_assert_eq(state_left(env), 0, "state left: %s",
		     dump(fake_env_state(env)));
	fake_env_free(env);
}

Test(v16_v201, reset_on_idle_waits_for_the_last_stop)
{
	struct ogw_tr_env *env = fake_env_new(tr);
	struct ogw_tr_out out;
	const struct fake_call *c;
	char uuid[37];

	start_tx(env, "{}", uuid);
	fake_env_call_text(env, OGW_TR_UP, "StartTransaction",
			   "{\"connectorId\":2,\"idTag\":\"BB\",\"meterStart\":0,"
			   "\"timestamp\":\"2026-01-01T10:00:00Z\"}",
			   &out);
	fake_env_reply_text(env, 1, "{}");

	fake_env_call_text(env, OGW_TR_DOWN, "Reset", "{\"type\":\"OnIdle\"}", &out);
	cr_assert_eq(out.outcome, OGW_TR_ANSWER);
	fake_assert_str(out.payload, "status", "Scheduled");
	fake_out_clear(&out);
	cr_assert_eq(fake_env_n_emitted(env), 2);
	cr_assert_not_null(json_object_get(fake_env_state(env), "reset"));

	/* one transaction still runs after the first stop */
	stop_tx(env, 1);
	cr_assert_eq(fake_env_n_emitted(env), 3);
	cr_assert_eq(fake_env_find(env, "Reset", 0), -1);

	/* the last stop answered: the charger gets Reset Soft, once */
	stop_tx(env, 2);
	cr_assert_eq(fake_env_n_emitted(env), 5);
	cr_assert_str_eq(fake_env_answer(env, 3)->action, "StopTransaction");
	c = fake_env_emitted(env, 4);
	cr_assert_eq(c->dir, OGW_TR_DOWN);
	cr_assert_str_eq(c->action, "Reset");
	fake_assert_str(c->payload, "type", "Soft");
	fake_env_reply_text(env, 4, "{\"status\":\"Accepted\"}");
	/* the charger comes back saying nothing of why: the CSMS hears of
	 * the reset it asked for */
	boot_reason_is(env, "RemoteReset");
	cr_assert_eq(state_left(env), 0, "state left: %s",
		     dump(fake_env_state(env)));
	fake_env_free(env);
}

/* The 2.0.1 reason of the charger's next boot, which the CSMS accepts. */
static void boot_reason_is(struct ogw_tr_env *env, const char *reason)
{
	struct ogw_tr_out out;
	json_t *ret;

	fake_env_call_text(env, OGW_TR_UP, "BootNotification",
			   "{\"chargePointVendor\":\"V\",\"chargePointModel\":\"M\"}", &out);
	fake_assert_str(out.payload, "reason", reason);
	ret = fake_env_result_text(env, OGW_TR_UP, "BootNotification", &out,
				   "{\"status\":\"Accepted\",\"currentTime\":"
				   "\"2026-01-01T10:00:00Z\",\"interval\":300}");
	json_decref(ret);
	fake_out_clear(&out);
}

/* B11/B12: a boot after a Reset the charger accepted is a RemoteReset, once;
 * a refused Reset leaves the next boot a PowerUp. */
Test(v16_v201, boot_after_an_accepted_reset_is_remote_reset)
{
	struct ogw_tr_env *env = fake_env_new(tr);
	struct ogw_tr_out out;
	json_t *ret;

	boot_reason_is(env, "PowerUp");
	fake_env_call_text(env, OGW_TR_DOWN, "Reset", "{\"type\":\"Immediate\"}", &out);
	fake_assert_str(out.payload, "type", "Hard");
	ret = fake_env_result_text(env, OGW_TR_DOWN, "Reset", &out, "{\"status\":\"Rejected\"}");
	fake_assert_str(ret, "status", "Rejected");
	json_decref(ret);
	boot_reason_is(env, "PowerUp");

	ret = fake_env_result_text(env, OGW_TR_DOWN, "Reset", &out, "{\"status\":\"Accepted\"}");
	fake_assert_str(ret, "status", "Accepted");
	json_decref(ret);
	fake_out_clear(&out);
	boot_reason_is(env, "RemoteReset");
	boot_reason_is(env, "PowerUp");
	cr_assert_eq(state_left(env), 0, "state left: %s", dump(fake_env_state(env)));
	fake_env_free(env);
}

Test(v16_v201, reset_immediate_replaces_a_scheduled_one)
{
	struct ogw_tr_env *env = fake_env_new(tr);
	struct ogw_tr_out out;
	char uuid[37];

	start_tx(env, "{}", uuid);
	fake_env_call_text(env, OGW_TR_DOWN, "Reset", "{\"type\":\"OnIdle\"}", &out);
	fake_assert_str(out.payload, "status", "Scheduled");
	fake_out_clear(&out);
	fake_env_call_text(env, OGW_TR_DOWN, "Reset", "{\"type\":\"Immediate\"}", &out);
	cr_assert_eq(out.outcome, OGW_TR_FORWARD);
	fake_assert_str(out.payload, "type", "Hard");
	fake_out_clear(&out);
	cr_assert_null(json_object_get(fake_env_state(env), "reset"));
	/* the stop the hard reset causes sends no second reset */
	stop_tx(env, 1);
	cr_assert_eq(fake_env_find(env, "Reset", 0), -1);
	fake_env_free(env);
}

Test(v16_v201, reset_on_idle_ignores_a_transaction_lost_on_its_connector)
{
	struct ogw_tr_env *env = fake_env_new(tr);
	struct ogw_tr_out out;
	char uuid[37];

	/* a second start on connector 1 means the first is over for the charger */
	start_tx(env, "{}", uuid);
	start_tx(env, "{}", uuid);
	cr_assert_eq(json_array_size(fake_path(fake_env_state(env), "running.tx")), 1);
	fake_env_call_text(env, OGW_TR_DOWN, "Reset", "{\"type\":\"OnIdle\"}", &out);
	fake_assert_str(out.payload, "status", "Scheduled");
	fake_out_clear(&out);
	stop_tx(env, 2);
	cr_assert_str_eq(fake_env_emitted(env, 3)->action, "Reset");
	fake_env_free(env);
}

/* ---- issue 20: what the CSMS concludes ------------------------------------------ */

/* A StartTransaction of @idtag on connector @c, answered Accepted by the
 * CSMS; the Started event's uuid in @uuid, the event's index returned. */
static size_t start_on(struct ogw_tr_env *env, int c, const char *idtag, int id16, char uuid[37])
{
	size_t at = fake_env_n_emitted(env);
	struct ogw_tr_out out;
	json_t *p = json_pack("{s:i, s:s, s:i, s:s}", "connectorId", c, "idTag", idtag,
			      "meterStart", 1000, "timestamp", "2026-01-01T10:00:00Z");

	fake_env_call(env, OGW_TR_UP, "StartTransaction", p, &out);
	json_decref(p);
	cr_assert_eq(out.outcome, OGW_TR_DEFER);
	snprintf(uuid, 37, "%s",
		 json_string_value(fake_path(fake_env_emitted(env, at)->payload,
					     "transactionInfo.transactionId")));
	fake_env_reply_text(env, at, "{\"idTokenInfo\":{\"status\":\"Accepted\"}}");
	fake_assert_int(fake_env_answer(env, fake_env_n_answers(env) - 1)->payload, "transactionId",
			id16);
	return at;
}

/* The Ended event of StopTransaction @stop_json (emitted, a borrowed payload). */
static const json_t *stop_on(struct ogw_tr_env *env, const char *stop_json)
{
	size_t at = fake_env_n_emitted(env);
	struct ogw_tr_out out;

	fake_env_call_text(env, OGW_TR_UP, "StopTransaction", stop_json, &out);
	cr_assert_eq(out.outcome, OGW_TR_DEFER);
	cr_assert_eq(fake_env_n_emitted(env), at + 1);
	fake_assert_str(fake_env_emitted(env, at)->payload, "eventType", "Ended");
	/* the CSMS answers; the event stays recorded */
	fake_env_reply_text(env, at, "{}");
	return fake_env_emitted(env, at)->payload;
}

/* Finding 16: the token belongs in Ended only when it stopped the transaction. */
Test(v16_v201, ended_names_a_token_only_when_the_driver_stopped)
{
	struct ogw_tr_env *env = fake_env_new(tr);
	const json_t *ev;
	char uuid[37];

	/* the driver badges the same card: StopAuthorized with that token,
	 * typed as the Started event typed it */
	start_on(env, 1, "04A2B3C4", 1, uuid);
	ev = stop_on(env, "{\"transactionId\":1,\"meterStop\":5000,\"timestamp\":"
			  "\"2026-01-01T11:00:00Z\",\"reason\":\"Local\",\"idTag\":\"04A2B3C4\"}");
	fake_assert_str(ev, "triggerReason", "StopAuthorized");
	fake_assert_str(ev, "idToken.idToken", "04A2B3C4");
	fake_assert_str(ev, "idToken.type", "ISO14443");

	/* no reason is Local (J16E 2.5): the token stopped it */
	start_on(env, 1, "TAG65159", 2, uuid);
	ev = stop_on(env, "{\"transactionId\":2,\"meterStop\":5000,\"timestamp\":"
			  "\"2026-01-01T11:00:00Z\",\"idTag\":\"TAG65159\"}");
	fake_assert_str(ev, "idToken.type", "Local");

	/* the EV left, or the CSMS deauthorized it: 1.6 still sends the
	 * idTag, 2.0.1 names no token, so the CSMS prices the transaction */
	start_on(env, 1, "04A2B3C4", 3, uuid);
	ev = stop_on(env, "{\"transactionId\":3,\"meterStop\":5000,\"timestamp\":"
			  "\"2026-01-01T11:00:00Z\",\"reason\":\"EVDisconnected\",\"idTag\":\"04A2B3C4\"}");
	cr_assert_null(fake_path(ev, "idToken"));
	start_on(env, 1, "04A2B3C4", 4, uuid);
	ev = stop_on(env, "{\"transactionId\":4,\"meterStop\":5000,\"timestamp\":"
			  "\"2026-01-01T11:00:00Z\",\"reason\":\"DeAuthorized\",\"idTag\":\"04A2B3C4\"}");
	cr_assert_null(fake_path(ev, "idToken"));
	fake_env_free(env);
}

/* Finding 17: Ended leaves the EVSE Idle or EVConnected, never Charging. */
Test(v16_v201, ended_says_whether_the_ev_is_still_plugged)
{
	struct ogw_tr_env *env = fake_env_new(tr);
	struct ogw_tr_out out;
	const json_t *ev;
	char uuid[37];

	/* stopped while charging: the cable is still in (Finishing follows) */
	start_on(env, 1, "04A2B3C4", 1, uuid);
	status16(env, 1, "Charging", "2026-01-01T10:01:00Z", &out);
	fake_out_clear(&out);
	ev = stop_on(env, "{\"transactionId\":1,\"meterStop\":5000,\"timestamp\":"
			  "\"2026-01-01T11:00:00Z\",\"reason\":\"Remote\"}");
	fake_assert_str(ev, "transactionInfo.chargingState", "EVConnected");

	/* the EV left first: the stop reason says so */
	start_on(env, 1, "04A2B3C4", 2, uuid);
	ev = stop_on(env, "{\"transactionId\":2,\"meterStop\":5000,\"timestamp\":"
			  "\"2026-01-01T11:00:00Z\",\"reason\":\"EVDisconnected\"}");
	fake_assert_str(ev, "transactionInfo.chargingState", "Idle");

	/* the connector was shown Available before the stop came */
	start_on(env, 2, "04A2B3C4", 3, uuid);
	status16(env, 2, "Available", "2026-01-01T10:59:00Z", &out);
	fake_out_clear(&out);
	ev = stop_on(env, "{\"transactionId\":3,\"meterStop\":5000,\"timestamp\":"
			  "\"2026-01-01T11:00:00Z\",\"reason\":\"Other\"}");
	fake_assert_str(ev, "transactionInfo.chargingState", "Idle");
	fake_assert_int(ev, "evse.id", 2);
	fake_env_free(env);
}

/* Finding 18: the token's type from its form, or the one the CSMS gave. */
Test(v16_v201, id_token_type_from_its_form)
{
	static const struct {
		const char *tag, *type;
	} cases[] = {
		{ "04A2B3C4", "ISO14443" },          /* 4-byte UID */
		{ "04A2B3C4D5E680", "ISO14443" },    /* 7-byte UID */
		{ "E004010203040506", "ISO15693" },  /* 8-byte UID */
		{ "DE-8AA-C-12345678-9", "eMAID" },
		{ "DE8AAC12345678", "eMAID" },
		{ "TAG65159", "Local" },             /* refused as ISO14443 by a CSMS */
		{ "A1B2C", "Local" },
		{ "12345", "Local" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ogw_tr_env *env = fake_env_new(tr);
		struct ogw_tr_out out;
		json_t *p = json_pack("{s:s}", "idTag", cases[i].tag);

		fake_env_call(env, OGW_TR_UP, "Authorize", p, &out);
		fake_assert_str(out.payload, "idToken.idToken", cases[i].tag);
		cr_assert_str_eq(json_string_value(fake_path(out.payload, "idToken.type")),
				 cases[i].type, "%s", cases[i].tag);
		fake_out_clear(&out);
		json_decref(p);
		fake_env_free(env);
	}
}

Test(v16_v201, remote_start_keeps_the_csms_token_type)
{
	struct ogw_tr_env *env = fake_env_new(tr);
	struct ogw_tr_out out;
	const json_t *ev;
	json_t *ret;
	char uuid[37];
	size_t at;

	/* hex in form, but the CSMS called it a Central token */
	fake_env_call_text(env, OGW_TR_DOWN, "RequestStartTransaction",
			   "{\"evseId\":1,\"remoteStartId\":5,"
			   "\"idToken\":{\"idToken\":\"04A2B3C4\",\"type\":\"Central\"}}",
			   &out);
	ret = fake_env_result_text(env, OGW_TR_DOWN, "RequestStartTransaction", &out,
				   "{\"status\":\"Accepted\"}");
	/* nothing has started yet: no transactionId */
	cr_assert_null(fake_path(ret, "transactionId"));
	json_decref(ret);
	fake_out_clear(&out);
	/* a charger that authorizes remote starts first (AuthorizeRemoteTxRequests)
	 * asks for the token the CSMS knows */
	fake_env_call_text(env, OGW_TR_UP, "Authorize", "{\"idTag\":\"04A2B3C4\"}", &out);
	fake_assert_str(out.payload, "idToken.type", "Central");
	fake_out_clear(&out);
	at = start_on(env, 1, "04A2B3C4", 1, uuid);
	cr_assert_null(fake_path(fake_env_state(env), "tokens"), "the start used the token up");
	ev = fake_env_emitted(env, at)->payload;
	fake_assert_str(ev, "triggerReason", "RemoteStart");
	fake_assert_str(ev, "idToken.type", "Central");
	/* and a Local stop with it names the same token */
	ev = stop_on(env, "{\"transactionId\":1,\"meterStop\":5000,\"timestamp\":"
			  "\"2026-01-01T11:00:00Z\",\"reason\":\"Local\",\"idTag\":\"04A2B3C4\"}");
	fake_assert_str(ev, "idToken.type", "Central");

	/* a charger that starts another token keeps the form's type */
	fake_env_call_text(env, OGW_TR_DOWN, "RequestStartTransaction",
			   "{\"evseId\":1,\"remoteStartId\":6,"
			   "\"idToken\":{\"idToken\":\"TAG1\",\"type\":\"KeyCode\"}}",
			   &out);
	fake_out_clear(&out);
	at = start_on(env, 1, "04A2B3C4", 2, uuid);
	fake_assert_str(fake_env_emitted(env, at)->payload, "idToken.type", "ISO14443");
	fake_env_free(env);
}

/* Finding 19: a transaction that has started is named in the answer. */
Test(v16_v201, request_start_answer_names_a_started_transaction)
{
	struct ogw_tr_env *env = fake_env_new(tr);
	struct ogw_tr_out out, any;
	json_t *ret;
	char uuid[37], uuid2[37];

	/* the charger sends its StartTransaction before it answers */
	fake_env_call_text(env, OGW_TR_DOWN, "RequestStartTransaction",
			   "{\"evseId\":1,\"remoteStartId\":5,"
			   "\"idToken\":{\"idToken\":\"04A2B3C4\",\"type\":\"ISO14443\"}}",
			   &out);
	start_on(env, 1, "04A2B3C4", 1, uuid);
	ret = fake_env_result_text(env, OGW_TR_DOWN, "RequestStartTransaction", &out,
				   "{\"status\":\"Accepted\"}");
	fake_assert_str(ret, "status", "Accepted");
	fake_assert_str(ret, "transactionId", uuid);
	json_decref(ret);

	/* for any EVSE: the transaction of that token */
	fake_env_call_text(env, OGW_TR_DOWN, "RequestStartTransaction",
			   "{\"remoteStartId\":6,\"idToken\":{\"idToken\":\"0A0B0C0D\",\"type\":\"ISO14443\"}}",
			   &any);
	start_on(env, 2, "0A0B0C0D", 2, uuid2);
	ret = fake_env_result_text(env, OGW_TR_DOWN, "RequestStartTransaction", &any,
				   "{\"status\":\"Accepted\"}");
	fake_assert_str(ret, "transactionId", uuid2);
	json_decref(ret);

	/* a refused start names none */
	ret = fake_env_result_text(env, OGW_TR_DOWN, "RequestStartTransaction", &out,
				   "{\"status\":\"Rejected\"}");
	cr_assert_null(fake_path(ret, "transactionId"));
	json_decref(ret);
	fake_out_clear(&out);
	fake_out_clear(&any);
	fake_env_free(env);
}

/* ---- finding 4: one configuration table, one variable per key ------------------- */

static const struct {
	const char *key, *component, *variable, *instance;
} cfg_rows[] = {
#define CFG_KEY(key, component, variable, instance, form, readonly) \
	{ key, component, variable, instance },
#include "../../../translators/config_keys.def"
#undef CFG_KEY
};

Test(v16_v201, config_table_has_no_collisions)
{
	size_t n = sizeof(cfg_rows) / sizeof(cfg_rows[0]);

	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++) {
			/* 1.6 -> 2.0.1: one variable per key (keys are case-insensitive) */
			cr_assert(strcasecmp(cfg_rows[i].key, cfg_rows[j].key), "key %s twice",
				  cfg_rows[i].key);
			/* 2.0.1 -> 1.6: one key per variable */
			cr_assert(strcmp(cfg_rows[i].component, cfg_rows[j].component) ||
					  strcmp(cfg_rows[i].variable, cfg_rows[j].variable) ||
					  (cfg_rows[i].instance && cfg_rows[j].instance &&
					   strcmp(cfg_rows[i].instance, cfg_rows[j].instance)) ||
					  !cfg_rows[i].instance != !cfg_rows[j].instance,
				  "%s.%s is both %s and %s", cfg_rows[i].component,
				  cfg_rows[i].variable, cfg_rows[i].key, cfg_rows[j].key);
		}
}

/* A variable with no 1.6 key of its own is unknown, not its neighbour. */
Test(v16_v201, set_variables_never_writes_a_neighbour_key)
{
	struct ogw_tr_env *env = fake_env_new(tr);
	struct ogw_tr_out out;

	fake_env_call_text(env, OGW_TR_DOWN, "SetVariables",
			   "{\"setVariableData\":["
			   "{\"component\":{\"name\":\"SampledDataCtrlr\"},\"variable\":{\"name\":\"TxEndedInterval\"},\"attributeValue\":\"0\"},"
			   "{\"component\":{\"name\":\"SampledDataCtrlr\"},\"variable\":{\"name\":\"TxStartedMeasurands\"},\"attributeValue\":\"Voltage\"},"
			   "{\"component\":{\"name\":\"AlignedDataCtrlr\"},\"variable\":{\"name\":\"TxEndedInterval\"},\"attributeValue\":\"0\"}]}",
			   &out);
	/* answered at once: the charger's MeterValueSampleInterval and
	 * MeterValuesSampledData are untouched */
	cr_assert_eq(out.outcome, OGW_TR_ANSWER);
	cr_assert_eq(fake_env_n_emitted(env), 0);
	for (int i = 0; i < 3; i++) {
		char path[64];
		snprintf(path, sizeof(path), "setVariableResult[%d].attributeStatus", i);
		fake_assert_str(out.payload, path, "UnknownVariable");
	}
	fake_out_clear(&out);

	/* the primary variables still reach their keys */
	fake_env_call_text(env, OGW_TR_DOWN, "SetVariables",
			   "{\"setVariableData\":["
			   "{\"component\":{\"name\":\"SampledDataCtrlr\"},\"variable\":{\"name\":\"TxEndedMeasurands\"},\"attributeValue\":\"Energy.Active.Import.Register\"},"
			   "{\"component\":{\"name\":\"AlignedDataCtrlr\"},\"variable\":{\"name\":\"Interval\"},\"attributeValue\":\"900\"}]}",
			   &out);
	cr_assert_eq(out.outcome, OGW_TR_DEFER);
	fake_assert_str(fake_env_emitted(env, 0)->payload, "key", "StopTxnSampledData");
	fake_assert_str(fake_env_emitted(env, 1)->payload, "key", "ClockAlignedDataInterval");
	fake_env_reply_text(env, 0, "{\"status\":\"Accepted\"}");
	fake_env_reply_text(env, 1, "{\"status\":\"RebootRequired\"}");
	fake_assert_str(fake_env_answer(env, 0)->payload, "setVariableResult[1].attributeStatus",
			"RebootRequired");
	fake_out_clear(&out);
	fake_env_free(env);
}

/* Finding 11: ConnectorPhaseRotation is a per-connector list. */
Test(v16_v201, phase_rotation_per_connector)
{
	struct ogw_tr_env *env = fake_env_new(tr);
	struct ogw_tr_out out;

	fake_env_call_text(env, OGW_TR_DOWN, "GetVariables",
			   "{\"getVariableData\":["
			   "{\"component\":{\"name\":\"EVSE\",\"evse\":{\"id\":2}},\"variable\":{\"name\":\"PhaseRotation\"}},"
			   "{\"component\":{\"name\":\"ChargingStation\"},\"variable\":{\"name\":\"PhaseRotation\"}},"
			   "{\"component\":{\"name\":\"EVSE\",\"evse\":{\"id\":3}},\"variable\":{\"name\":\"PhaseRotation\"}}]}",
			   &out);
	cr_assert_eq(out.outcome, OGW_TR_DEFER);
	/* one key asked once */
	cr_assert_eq(json_array_size(fake_path(fake_env_emitted(env, 0)->payload, "key")), 1);
	fake_env_reply_text(env, 0,
			    "{\"configurationKey\":[{\"key\":\"ConnectorPhaseRotation\",\"readonly\":false,"
			    "\"value\":\"0.RST, 1.RST, 2.RTS\"}]}");
	fake_assert_str(fake_env_answer(env, 0)->payload, "getVariableResult[0].attributeValue", "RTS");
	fake_assert_str(fake_env_answer(env, 0)->payload, "getVariableResult[1].attributeValue", "RST");
	fake_assert_str(fake_env_answer(env, 0)->payload, "getVariableResult[2].attributeStatus",
			"UnknownVariable");
	fake_out_clear(&out);

	fake_env_call_text(env, OGW_TR_DOWN, "SetVariables",
			   "{\"setVariableData\":[{\"component\":{\"name\":\"EVSE\",\"evse\":{\"id\":2}},"
			   "\"variable\":{\"name\":\"PhaseRotation\"},\"attributeValue\":\"TSR\"}]}",
			   &out);
	fake_assert_str(fake_env_emitted(env, 1)->payload, "key", "ConnectorPhaseRotation");
	fake_assert_str(fake_env_emitted(env, 1)->payload, "value", "2.TSR");
	fake_env_reply_text(env, 1, "{\"status\":\"Accepted\"}");
	fake_assert_str(fake_env_answer(env, 1)->payload, "setVariableResult[0].attributeStatus",
			"Accepted");
	fake_out_clear(&out);
	fake_env_free(env);
}

extern const struct ogw_translator ogw_tr_v201_v16;

/* The other direction: a 1.6 central system's list becomes each EVSE's
 * variable, and the worst part answers. */
Test(v16_v201, phase_rotation_list_to_a_201_station)
{
	struct ogw_tr_env *env = fake_env_new(&ogw_tr_v201_v16);
	struct ogw_tr_out out;
	json_t *ret;

	fake_env_call_text(env, OGW_TR_DOWN, "ChangeConfiguration",
			   "{\"key\":\"ConnectorPhaseRotation\",\"value\":\"0.RST, 1.RTS\"}", &out);
	cr_assert_eq(out.outcome, OGW_TR_FORWARD);
	cr_assert_str_eq(out.action, "SetVariables");
	fake_assert_str(out.payload, "setVariableData[0].component.name", "ChargingStation");
	fake_assert_str(out.payload, "setVariableData[0].attributeValue", "RST");
	fake_assert_str(out.payload, "setVariableData[1].component.name", "EVSE");
	fake_assert_int(out.payload, "setVariableData[1].component.evse.id", 1);
	fake_assert_str(out.payload, "setVariableData[1].attributeValue", "RTS");
	ret = fake_env_result_text(env, OGW_TR_DOWN, "ChangeConfiguration", &out,
				   "{\"setVariableResult\":["
				   "{\"attributeStatus\":\"Accepted\",\"component\":{\"name\":\"ChargingStation\"},\"variable\":{\"name\":\"PhaseRotation\"}},"
				   "{\"attributeStatus\":\"RebootRequired\",\"component\":{\"name\":\"EVSE\",\"evse\":{\"id\":1}},\"variable\":{\"name\":\"PhaseRotation\"}}]}");
	fake_assert_str(ret, "status", "RebootRequired");
	json_decref(ret);
	fake_out_clear(&out);

	/* TxEndedInterval's neighbour key: MeterValueSampleInterval is
	 * TxUpdatedInterval only */
	fake_env_call_text(env, OGW_TR_DOWN, "ChangeConfiguration",
			   "{\"key\":\"MeterValueSampleInterval\",\"value\":\"60\"}", &out);
	cr_assert_eq(json_array_size(fake_path(out.payload, "setVariableData")), 1);
	fake_assert_str(out.payload, "setVariableData[0].variable.name", "TxUpdatedInterval");
	fake_out_clear(&out);
	fake_env_free(env);
}

/* Finding 7: a 1.6 error is a Problem of its connector until NoError clears it. */
Test(v16_v201, problem_cleared_per_connector)
{
	struct ogw_tr_env *env = fake_env_new(tr);
	struct ogw_tr_out out;
	const json_t *ev;

	/* two connectors fault: two EVSEs' connectors, with their own codes */
	fake_env_call_text(env, OGW_TR_UP, "StatusNotification",
			   "{\"connectorId\":1,\"errorCode\":\"GroundFailure\",\"status\":\"Faulted\"}", &out);
	fake_out_clear(&out);
	fake_env_call_text(env, OGW_TR_UP, "StatusNotification",
			   "{\"connectorId\":2,\"errorCode\":\"OverCurrentFailure\",\"status\":\"Faulted\"}",
			   &out);
	fake_out_clear(&out);
	cr_assert_eq(fake_env_n_emitted(env), 2);
	ev = fake_env_emitted(env, 1)->payload;
	fake_assert_int(ev, "eventData[0].component.evse.id", 2);
	fake_assert_int(ev, "eventData[0].component.evse.connectorId", 1);
	fake_assert_str(ev, "eventData[0].techCode", "OverCurrentFailure");
	fake_assert_str(ev, "eventData[0].actualValue", "true");

	/* the same error again is no new event (no flapping) */
	fake_env_call_text(env, OGW_TR_UP, "StatusNotification",
			   "{\"connectorId\":1,\"errorCode\":\"GroundFailure\",\"status\":\"Unavailable\"}",
			   &out);
	fake_out_clear(&out);
	cr_assert_eq(fake_env_n_emitted(env), 2);

	/* NoError on connector 1 clears its Problem only */
	fake_env_call_text(env, OGW_TR_UP, "StatusNotification",
			   "{\"connectorId\":1,\"errorCode\":\"NoError\",\"status\":\"Available\"}", &out);
	fake_out_clear(&out);
	cr_assert_eq(fake_env_n_emitted(env), 3);
	ev = fake_env_emitted(env, 2)->payload;
	cr_assert_str_eq(fake_env_emitted(env, 2)->action, "NotifyEvent");
	fake_assert_int(ev, "eventData[0].component.evse.id", 1);
	fake_assert_str(ev, "eventData[0].variable.name", "Problem");
	fake_assert_str(ev, "eventData[0].actualValue", "false");
	cr_assert(json_is_true(fake_path(ev, "eventData[0].cleared")));
	/* a second NoError says nothing more */
	fake_env_call_text(env, OGW_TR_UP, "StatusNotification",
			   "{\"connectorId\":1,\"errorCode\":\"NoError\",\"status\":\"Available\"}", &out);
	fake_out_clear(&out);
	cr_assert_eq(fake_env_n_emitted(env), 3);
	/* connector 2's stands until it clears */
	fake_assert_str(fake_env_state(env), "problem.2", "OverCurrentFailure");
	cr_assert_null(fake_path(fake_env_state(env), "problem.1"));
	fake_env_free(env);
}

/* A SetChargingProfile of @purpose (id @id, EVSE 1, with @txid or none)
 * the charger accepts. */
static void profile_set(struct ogw_tr_env *env, int id, const char *purpose, const char *txid)
{
	struct ogw_tr_out out;
	json_t *ret, *p = json_pack(
		"{s:i, s:{s:i, s:i, s:s, s:s, s:[{s:i, s:s, s:[{s:i, s:i}]}]}}", "evseId", 1,
		"chargingProfile", "id", id, "stackLevel", id, "chargingProfilePurpose", purpose,
		"chargingProfileKind", "Relative", "chargingSchedule", "id", 1, "chargingRateUnit", "A",
		"chargingSchedulePeriod", "startPeriod", 0, "limit", 16);

	if (txid)
		json_object_set_new(json_object_get(p, "chargingProfile"), "transactionId",
				    json_string(txid));
	fake_env_call(env, OGW_TR_DOWN, "SetChargingProfile", p, &out);
	cr_assert_eq(out.outcome, OGW_TR_FORWARD);
	ret = fake_env_result_text(env, OGW_TR_DOWN, "SetChargingProfile", &out,
				   "{\"status\":\"Accepted\"}");
	json_decref(ret);
	fake_out_clear(&out);
	json_decref(p);
}

/* The profile ids GetChargingProfiles @req_json reports, as "5,7" (empty:
 * NoProfiles). */
static void profiles_reported(struct ogw_tr_env *env, const char *req_json, char ret[64])
{
	size_t at = fake_env_n_emitted(env);
	struct ogw_tr_out out;

	ret[0] = '\0';
	fake_env_call_text(env, OGW_TR_DOWN, "GetChargingProfiles", req_json, &out);
	for (size_t i = at; i < fake_env_n_emitted(env); i++) {
		const json_t *list = fake_path(fake_env_emitted(env, i)->payload, "chargingProfile");
		fake_assert_str(fake_env_emitted(env, i)->payload, "chargingLimitSource", "CSO");
		for (size_t j = 0; j < json_array_size(list); j++)
			snprintf(ret + strlen(ret), 64 - strlen(ret), "%s%lld", *ret ? "," : "",
				 (long long)json_integer_value(
					 json_object_get(json_array_get(list, j), "id")));
	}
	fake_out_clear(&out);
}

/* Finding 12: TxProfiles go with their transaction; sources are real. */
Test(v16_v201, profile_cache_drops_tx_profiles_at_the_end)
{
	struct ogw_tr_env *env = fake_env_new(tr);
	char uuid[37], ids[64];

	start_on(env, 1, "04A2B3C4", 1, uuid);
	profile_set(env, 5, "TxDefaultProfile", NULL);
	profile_set(env, 6, "TxProfile", uuid);
	/* no transactionId: the transaction running on EVSE 1 */
	profile_set(env, 7, "TxProfile", NULL);
	profiles_reported(env, "{\"requestId\":1,\"chargingProfile\":{}}", ids);
	cr_assert_str_eq(ids, "5,6,7");
	/* the cache holds nothing but what the CSMS set: source CSO */
	profiles_reported(env, "{\"requestId\":2,\"chargingProfile\":{\"chargingLimitSource\":[\"EMS\"]}}",
			  ids);
	cr_assert_str_eq(ids, "");

	stop_on(env, "{\"transactionId\":1,\"meterStop\":5000,\"timestamp\":\"2026-01-01T11:00:00Z\"}");
	profiles_reported(env, "{\"requestId\":3,\"chargingProfile\":{}}", ids);
	cr_assert_str_eq(ids, "5");
	fake_env_free(env);
}

/* Finding 6: a 1.6 Plug & Charge charger's DataTransfer is the 2.0.1
 * message for a 2.0.1 CSMS, and its answer goes back wrapped. */
Test(v16_v201, plug_and_charge_unwrapped)
{
	struct ogw_tr_env *env = fake_env_new(tr);
	struct ogw_tr_out out;
	json_t *ret, *inner;

	fake_env_call_text(env, OGW_TR_UP, "DataTransfer",
			   "{\"vendorId\":\"org.openchargealliance.iso15118pnc\",\"messageId\":\"Authorize\","
			   "\"data\":\"{\\\"idToken\\\":{\\\"idToken\\\":\\\"DE8AAC12345678\\\",\\\"type\\\":\\\"eMAID\\\"}}\"}",
			   &out);
	cr_assert_eq(out.outcome, OGW_TR_FORWARD);
	cr_assert_str_eq(out.action, "Authorize");
	fake_assert_str(out.payload, "idToken.type", "eMAID");
	ret = fake_env_result_text(env, OGW_TR_UP, "DataTransfer", &out,
				   "{\"idTokenInfo\":{\"status\":\"Accepted\"},\"certificateStatus\":\"Accepted\"}");
	fake_assert_str(ret, "status", "Accepted");
	inner = fake_json(json_string_value(json_object_get(ret, "data")));
	fake_assert_str(inner, "idTokenInfo.status", "Accepted");
	fake_assert_str(inner, "certificateStatus", "Accepted");
	json_decref(inner);
	json_decref(ret);
	fake_out_clear(&out);

	fake_env_call_text(env, OGW_TR_UP, "DataTransfer",
			   "{\"vendorId\":\"org.openchargealliance.iso15118pnc\",\"messageId\":\"Get15118EVCertificate\","
			   "\"data\":\"{\\\"iso15118SchemaVersion\\\":\\\"urn:iso:15118:2:2013:MsgDef\\\","
			   "\\\"action\\\":\\\"Install\\\",\\\"exiRequest\\\":\\\"AAEC\\\"}\"}",
			   &out);
	cr_assert_str_eq(out.action, "Get15118EVCertificate");
	fake_assert_str(out.payload, "action", "Install");
	fake_out_clear(&out);

	/* data no CSMS could read: refused at once, and recorded */
	fake_env_call_text(env, OGW_TR_UP, "DataTransfer",
			   "{\"vendorId\":\"org.openchargealliance.iso15118pnc\",\"messageId\":\"SignCertificate\","
			   "\"data\":\"not json\"}",
			   &out);
	cr_assert_eq(out.outcome, OGW_TR_ANSWER);
	fake_assert_str(out.payload, "status", "Rejected");
	cr_assert_eq(fake_env_n_lost(env), 1);
	fake_out_clear(&out);

	/* another vendor's DataTransfer stays a DataTransfer */
	fake_env_call_text(env, OGW_TR_UP, "DataTransfer",
			   "{\"vendorId\":\"com.acme\",\"messageId\":\"Authorize\",\"data\":\"{}\"}", &out);
	cr_assert_str_eq(out.action, "DataTransfer");
	fake_out_clear(&out);
	fake_env_free(env);
}

/* Finding 11, keyed: the list is read from every EVSE the inventory knows,
 * and the required keys come from it; without one, a report first. */
Test(v16_v201, get_configuration_keys_from_a_201_station)
{
	struct ogw_tr_env *env = fake_env_new(&ogw_tr_v201_v16);
	struct ogw_tr_out out;
	const struct fake_call *c;
	json_t *ret;

	/* no inventory yet: NumberOfConnectors asks for the report, and the
	 * answer holds only the keys asked for */
	fake_env_call_text(env, OGW_TR_DOWN, "GetConfiguration",
			   "{\"key\":[\"NumberOfConnectors\",\"HeartbeatInterval\",\"BlinkRepeat\"]}", &out);
	cr_assert_eq(out.outcome, OGW_TR_DEFER);
	c = fake_env_emitted(env, 0);
	cr_assert_str_eq(c->action, "GetBaseReport");
	fake_env_reply_text(env, 0, "{\"status\":\"Accepted\"}");
	fake_out_clear(&out);
	fake_env_call_text(env, OGW_TR_UP, "NotifyReport",
			   "{\"requestId\":1,\"generatedAt\":\"2026-01-01T00:00:00Z\",\"seqNo\":0,\"reportData\":["
			   "{\"component\":{\"name\":\"OCPPCommCtrlr\"},\"variable\":{\"name\":\"HeartbeatInterval\"},"
			   "\"variableAttribute\":[{\"value\":\"300\"}]},"
			   "{\"component\":{\"name\":\"OCPPCommCtrlr\"},\"variable\":{\"name\":\"WebSocketPingInterval\"},"
			   "\"variableAttribute\":[{\"value\":\"30\"}]},"
			   "{\"component\":{\"name\":\"ReservationCtrlr\"},\"variable\":{\"name\":\"Available\"},"
			   "\"variableAttribute\":[{\"value\":\"false\"}]},"
			   "{\"component\":{\"name\":\"LocalAuthListCtrlr\"},\"variable\":{\"name\":\"Enabled\"},"
			   "\"variableAttribute\":[{\"value\":\"true\"}]},"
			   "{\"component\":{\"name\":\"ChargingStation\"},\"variable\":{\"name\":\"PhaseRotation\"},"
			   "\"variableAttribute\":[{\"value\":\"RST\"}]},"
			   "{\"component\":{\"name\":\"EVSE\",\"evse\":{\"id\":2}},\"variable\":{\"name\":\"PhaseRotation\"},"
			   "\"variableAttribute\":[{\"value\":\"RTS\"}]},"
			   "{\"component\":{\"name\":\"EVSE\",\"evse\":{\"id\":1}},\"variable\":{\"name\":\"PhaseRotation\"},"
			   "\"variableAttribute\":[{\"value\":\"RST\"}]}]}",
			   &out);
	fake_out_clear(&out);
	cr_assert_eq(fake_env_n_answers(env), 1);
	ret = fake_env_answer(env, 0)->payload;
	cr_assert_eq(json_array_size(json_object_get(ret, "configurationKey")), 2,
		     "only the keys asked for");
	fake_assert_str(ret, "configurationKey[0].key", "HeartbeatInterval");
	fake_assert_str(ret, "configurationKey[1].key", "NumberOfConnectors");
	fake_assert_str(ret, "configurationKey[1].value", "2");
	fake_assert_str(ret, "unknownKey[0]", "BlinkRepeat");
	/* the report's shape is kept: a reservation controller not Available
	 * is no Reservation profile */
	fake_assert_int(fake_env_state(env), "inventory.evses", 2);
	fake_assert_str(fake_env_state(env), "inventory.features",
			"Core,FirmwareManagement,RemoteTrigger,LocalAuthListManagement");

	/* with the inventory: GetVariables for the station and both EVSEs */
	fake_env_call_text(env, OGW_TR_DOWN, "GetConfiguration",
			   "{\"key\":[\"ConnectorPhaseRotation\",\"SupportedFeatureProfiles\"]}", &out);
	cr_assert_eq(out.outcome, OGW_TR_FORWARD);
	cr_assert_str_eq(out.action, "GetVariables");
	cr_assert_eq(json_array_size(fake_path(out.payload, "getVariableData")), 3);
	fake_assert_int(out.payload, "getVariableData[2].component.evse.id", 2);
	ret = fake_env_result_text(env, OGW_TR_DOWN, "GetConfiguration", &out,
				   "{\"getVariableResult\":["
				   "{\"attributeStatus\":\"Accepted\",\"attributeValue\":\"RST\",\"component\":{\"name\":\"ChargingStation\"},\"variable\":{\"name\":\"PhaseRotation\"}},"
				   "{\"attributeStatus\":\"Accepted\",\"attributeValue\":\"RST\",\"component\":{\"name\":\"EVSE\",\"evse\":{\"id\":1}},\"variable\":{\"name\":\"PhaseRotation\"}},"
				   "{\"attributeStatus\":\"Accepted\",\"attributeValue\":\"TSR\",\"component\":{\"name\":\"EVSE\",\"evse\":{\"id\":2}},\"variable\":{\"name\":\"PhaseRotation\"}}]}");
	fake_assert_str(ret, "configurationKey[0].key", "ConnectorPhaseRotation");
	fake_assert_str(ret, "configurationKey[0].value", "0.RST,1.RST,2.TSR");
	fake_assert_str(ret, "configurationKey[1].key", "SupportedFeatureProfiles");
	cr_assert_null(fake_path(ret, "unknownKey"));
	json_decref(ret);
	fake_out_clear(&out);
	fake_env_free(env);
}

/* Finding 6, the CSMS's side: ISO 15118 certificate calls reach a 1.6
 * charger as Plug & Charge DataTransfer, and its answer comes back. */
Test(v16_v201, plug_and_charge_certificates_wrapped)
{
	struct ogw_tr_env *env = fake_env_new(tr);
	struct ogw_tr_out out;
	json_t *ret, *inner;

	fake_env_call_text(env, OGW_TR_DOWN, "InstallCertificate",
			   "{\"certificateType\":\"V2GRootCertificate\",\"certificate\":\"-----BEGIN CERTIFICATE-----\"}",
			   &out);
	cr_assert_eq(out.outcome, OGW_TR_FORWARD);
	cr_assert_str_eq(out.action, "DataTransfer");
	fake_assert_str(out.payload, "vendorId", "org.openchargealliance.iso15118pnc");
	fake_assert_str(out.payload, "messageId", "InstallCertificate");
	inner = fake_json(json_string_value(json_object_get(out.payload, "data")));
	fake_assert_str(inner, "certificateType", "V2GRootCertificate");
	json_decref(inner);
	ret = fake_env_result_text(env, OGW_TR_DOWN, "InstallCertificate", &out,
				   "{\"status\":\"Accepted\",\"data\":\"{\\\"status\\\":\\\"Failed\\\"}\"}");
	fake_assert_str(ret, "status", "Failed");
	json_decref(ret);
	/* a charger without Plug & Charge: refused */
	ret = fake_env_result_text(env, OGW_TR_DOWN, "InstallCertificate", &out,
				   "{\"status\":\"UnknownVendorId\"}");
	fake_assert_str(ret, "status", "Rejected");
	json_decref(ret);
	fake_out_clear(&out);

	/* a CSMS root still goes the SEC16 way */
	fake_env_call_text(env, OGW_TR_DOWN, "InstallCertificate",
			   "{\"certificateType\":\"CSMSRootCertificate\",\"certificate\":\"-----BEGIN CERTIFICATE-----\"}",
			   &out);
	cr_assert_str_eq(out.action, "InstallCertificate");
	fake_out_clear(&out);

	fake_env_call_text(env, OGW_TR_DOWN, "CertificateSigned",
			   "{\"certificateType\":\"V2GCertificate\",\"certificateChain\":\"-----BEGIN CERTIFICATE-----\"}",
			   &out);
	fake_assert_str(out.payload, "messageId", "CertificateSigned");
	ret = fake_env_result_text(env, OGW_TR_DOWN, "CertificateSigned", &out,
				   "{\"status\":\"Accepted\",\"data\":\"{\\\"status\\\":\\\"Accepted\\\"}\"}");
	fake_assert_str(ret, "status", "Accepted");
	json_decref(ret);
	fake_out_clear(&out);

	fake_env_call_text(env, OGW_TR_DOWN, "GetInstalledCertificateIds",
			   "{\"certificateType\":[\"V2GCertificateChain\"]}", &out);
	fake_assert_str(out.payload, "messageId", "GetInstalledCertificateIds");
	ret = fake_env_result_text(env, OGW_TR_DOWN, "GetInstalledCertificateIds", &out,
				   "{\"status\":\"Rejected\"}");
	fake_assert_str(ret, "status", "NotFound");
	json_decref(ret);
	fake_out_clear(&out);

	fake_env_call_text(env, OGW_TR_DOWN, "TriggerMessage",
			   "{\"requestedMessage\":\"SignV2GCertificate\"}", &out);
	cr_assert_eq(out.outcome, OGW_TR_FORWARD);
	fake_assert_str(out.payload, "messageId", "TriggerMessage");
	fake_out_clear(&out);
	fake_env_free(env);
}
