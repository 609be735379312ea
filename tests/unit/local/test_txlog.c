/* SPDX-License-Identifier: MIT */
/*
 * The transaction log fed with a charger's frames as the session sees them:
 * a 1.6 sequence (start waiting for its id, meter values in Wh and kWh,
 * stop) and a 2.0.1 one (TransactionEvent Started/Updated/Ended with
 * energy in kWh and Wh), offline marks, and frames that must not create
 * rows.
 */
#include <string.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "ocppgw/local.h"
#include "ocppgw/store.h"

#include "helpers.h"

static void feed(struct ogw_local_rec *rec, bool from_charger, bool response, const char *action,
		 const char *payload, bool offline)
{
	json_t *p = J(payload);
	ogw_local_rec_observe(rec, from_charger, response, action, p, offline);
	json_decref(p);
}

static const json_t *only_row(json_t *rows)
{
	cr_assert_eq(json_array_size(rows), 1, "rows: %zu", json_array_size(rows));
	return json_array_get(rows, 0);
}

#define FIELD_STR(row, k) json_string_value(json_object_get(row, k))
#define FIELD_INT(row, k) json_integer_value(json_object_get(row, k))
#define FIELD_REAL(row, k) json_number_value(json_object_get(row, k))

Test(txlog, sequence_16)
{
	struct fixture f;

	fixture_open(&f);
	struct ogw_local_rec *rec = ogw_local_rec_new(f.store, "CP16", OGW_OCPP16);
	cr_assert_not_null(rec);
	/* an answer without its request records nothing */
	feed(rec, true, true, "StartTransaction", "{\"transactionId\": 9,"
	     " \"idTagInfo\": {\"status\": \"Accepted\"}}", false);
	json_t *rows = ogw_store_tx_list(f.store, NULL, false, 0);
	cr_assert_eq(json_array_size(rows), 0);
	json_decref(rows);

	feed(rec, true, false, "StartTransaction", "{\"connectorId\": 2, \"idTag\": \"TAG1\","
	     " \"meterStart\": 1000, \"timestamp\": \"2027-01-01T00:00:00Z\"}", true);
	feed(rec, true, true, "StartTransaction", "{\"transactionId\": 1000000001,"
	     " \"idTagInfo\": {\"status\": \"Accepted\"}}", true);
	rows = ogw_store_tx_list(f.store, "CP16", true, 0);
	const json_t *r = only_row(rows);
	cr_assert_str_eq(FIELD_STR(r, "tx_id"), "1000000001");
	cr_assert_eq(FIELD_INT(r, "connector"), 2);
	cr_assert_str_eq(FIELD_STR(r, "id_tag"), "TAG1");
	cr_assert_eq(FIELD_INT(r, "started"), 1798761600);
	cr_assert_float_eq(FIELD_REAL(r, "energy_wh"), 0, 1e-9, "open: 0 so far");
	cr_assert(json_is_true(json_object_get(r, "offline")));
	json_decref(rows);

	/* meter values: the register in kWh counts, other measurands and phases do not */
	feed(rec, true, false, "MeterValues", "{\"connectorId\": 2, \"transactionId\": 1000000001,"
	     " \"meterValue\": [{\"timestamp\": \"2027-01-01T00:15:00Z\", \"sampledValue\": ["
	     " {\"value\": \"3.5\", \"unit\": \"kWh\"},"
	     " {\"value\": \"99999\", \"measurand\": \"Energy.Active.Import.Register\", \"phase\": \"L1\"},"
	     " {\"value\": \"16\", \"measurand\": \"Current.Import\", \"unit\": \"A\"}]}]}", true);
	feed(rec, true, true, "MeterValues", "{}", true);
	rows = ogw_store_tx_list(f.store, "CP16", true, 0);
	cr_assert_float_eq(FIELD_REAL(only_row(rows), "meter_last_wh"), 3500, 1e-9);
	json_decref(rows);
	/* a CALL from the CSMS starts or stops nothing */
	feed(rec, false, false, "RemoteStopTransaction", "{\"transactionId\": 1000000001}", false);

	feed(rec, true, false, "StopTransaction", "{\"transactionId\": 1000000001, \"meterStop\": 7000,"
	     " \"timestamp\": \"2027-01-01T01:00:00Z\", \"idTag\": \"OTHER\"}", false);
	rows = ogw_store_tx_list(f.store, "CP16", false, 0);
	r = only_row(rows);
	cr_assert_eq(FIELD_INT(r, "stopped"), 1798765200);
	cr_assert_float_eq(FIELD_REAL(r, "meter_start_wh"), 1000, 1e-9);
	cr_assert_float_eq(FIELD_REAL(r, "meter_last_wh"), 7000, 1e-9);
	cr_assert_float_eq(FIELD_REAL(r, "energy_wh"), 6000, 1e-9);
	cr_assert_str_eq(FIELD_STR(r, "stop_reason"), "Local", "no reason means Local");
	cr_assert_str_eq(FIELD_STR(r, "id_tag"), "TAG1", "the starting tag stays");
	json_decref(rows);

	/* a second transaction, online, comes first in the list */
	feed(rec, true, false, "StartTransaction", "{\"connectorId\": 1, \"idTag\": \"TAG2\","
	     " \"meterStart\": 0, \"timestamp\": \"2027-01-01T02:00:00Z\"}", false);
	feed(rec, true, true, "StartTransaction", "{\"transactionId\": 42,"
	     " \"idTagInfo\": {\"status\": \"Accepted\"}}", false);
	feed(rec, true, false, "StopTransaction", "{\"transactionId\": 42, \"meterStop\": 10,"
	     " \"timestamp\": \"2027-01-01T02:10:00Z\", \"reason\": \"EVDisconnected\"}", false);
	rows = ogw_store_tx_list(f.store, NULL, false, 0);
	cr_assert_eq(json_array_size(rows), 2);
	r = json_array_get(rows, 0);
	cr_assert_str_eq(FIELD_STR(r, "tx_id"), "42");
	cr_assert(json_is_false(json_object_get(r, "offline")));
	cr_assert_str_eq(FIELD_STR(r, "stop_reason"), "EVDisconnected");
	json_decref(rows);
	rec = ogw_local_rec_free(rec);
	cr_assert_null(rec);
	ogw_local_rec_free(NULL);
	fixture_close(&f);
}

Test(txlog, sequence_201)
{
	struct fixture f;

	fixture_open(&f);
	struct ogw_local_rec *rec = ogw_local_rec_new(f.store, "CP201", OGW_OCPP201);
	feed(rec, true, false, "TransactionEvent", "{\"eventType\": \"Started\","
	     " \"timestamp\": \"2027-01-01T00:00:00Z\", \"triggerReason\": \"Authorized\", \"seqNo\": 0,"
	     " \"offline\": true, \"transactionInfo\": {\"transactionId\": \"a1b2\"},"
	     " \"idToken\": {\"idToken\": \"TAG9\", \"type\": \"ISO14443\"},"
	     " \"evse\": {\"id\": 1, \"connectorId\": 1},"
	     " \"meterValue\": [{\"timestamp\": \"2027-01-01T00:00:00Z\", \"sampledValue\": ["
	     "  {\"value\": 1.5, \"context\": \"Transaction.Begin\","
	     "   \"unitOfMeasure\": {\"unit\": \"kWh\"}}]}]}", false);
	feed(rec, true, true, "TransactionEvent", "{\"idTokenInfo\": {\"status\": \"Accepted\"}}", false);
	feed(rec, true, false, "TransactionEvent", "{\"eventType\": \"Updated\","
	     " \"timestamp\": \"2027-01-01T00:30:00Z\", \"triggerReason\": \"MeterValuePeriodic\","
	     " \"seqNo\": 1, \"transactionInfo\": {\"transactionId\": \"a1b2\"},"
	     " \"meterValue\": [{\"timestamp\": \"2027-01-01T00:30:00Z\", \"sampledValue\": ["
	     "  {\"value\": 3, \"unitOfMeasure\": {\"unit\": \"Wh\", \"multiplier\": 3}}]}]}", false);
	json_t *rows = ogw_store_tx_list(f.store, NULL, true, 0);
	const json_t *r = only_row(rows);
	cr_assert_float_eq(FIELD_REAL(r, "meter_start_wh"), 1500, 1e-9);
	cr_assert_float_eq(FIELD_REAL(r, "meter_last_wh"), 3000, 1e-9);
	cr_assert(json_is_true(json_object_get(r, "offline")), "the event said offline");
	json_decref(rows);

	feed(rec, true, false, "TransactionEvent", "{\"eventType\": \"Ended\","
	     " \"timestamp\": \"2027-01-01T01:00:00Z\", \"triggerReason\": \"EVCommunicationLost\","
	     " \"seqNo\": 2, \"transactionInfo\": {\"transactionId\": \"a1b2\","
	     " \"stoppedReason\": \"EVDisconnected\"},"
	     " \"meterValue\": [{\"timestamp\": \"2027-01-01T01:00:00Z\", \"sampledValue\": ["
	     "  {\"value\": 4500, \"context\": \"Transaction.End\","
	     "   \"measurand\": \"Energy.Active.Import.Register\"}]}]}", false);
	rows = ogw_store_tx_list(f.store, "CP201", false, 0);
	r = only_row(rows);
	cr_assert_str_eq(FIELD_STR(r, "tx_id"), "a1b2");
	cr_assert_eq(FIELD_INT(r, "evse"), 1);
	cr_assert_eq(FIELD_INT(r, "connector"), 1);
	cr_assert_str_eq(FIELD_STR(r, "id_tag"), "TAG9");
	cr_assert_eq(FIELD_INT(r, "started"), 1798761600);
	cr_assert_eq(FIELD_INT(r, "stopped"), 1798765200);
	cr_assert_float_eq(FIELD_REAL(r, "energy_wh"), 3000, 1e-9);
	cr_assert_str_eq(FIELD_STR(r, "stop_reason"), "EVDisconnected");
	json_decref(rows);

	/* the session's offline flag marks a start too; junk makes no row */
	feed(rec, true, false, "TransactionEvent", "{\"eventType\": \"Started\","
	     " \"timestamp\": \"2027-01-01T02:00:00Z\", \"triggerReason\": \"CablePluggedIn\","
	     " \"seqNo\": 0, \"transactionInfo\": {\"transactionId\": \"c3\"}}", true);
	feed(rec, true, false, "TransactionEvent", "{\"eventType\": \"Started\"}", true);
	feed(rec, true, false, "StartTransaction", "{\"connectorId\": 1}", true);
	rows = ogw_store_tx_list(f.store, NULL, false, 0);
	cr_assert_eq(json_array_size(rows), 2);
	cr_assert_str_eq(FIELD_STR(json_array_get(rows, 0), "tx_id"), "c3");
	cr_assert(json_is_true(json_object_get(json_array_get(rows, 0), "offline")));
	cr_assert(json_is_null(json_object_get(json_array_get(rows, 0), "energy_wh")));
	json_decref(rows);
	ogw_local_rec_free(rec);
	fixture_close(&f);
}
