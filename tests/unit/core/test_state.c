/* SPDX-License-Identifier: MIT */
/*
 * The charger state tracker (src/features/state/state.c): frames as a charger
 * sends them in 1.6, 2.0.1 and 2.1, fed as JSON text, and what the state
 * holds afterwards.
 */
#include <criterion/criterion.h>
#include <jansson.h>

#include "features/state/state.h"
#include "session/session.h"

static struct ogw_charger_state cs;

static void feed(enum ogw_ocpp ver, enum ogw_obs what, const char *action, const char *json)
{
	json_error_t err;
	json_t *p = json_loads(json, 0, &err);
	cr_assert_not_null(p, "bad fixture: %s", err.text);
	ogw_state_update(&cs, ver, what, action, p, 1000);
	json_decref(p);
}

static void reset(void)
{
	ogw_state_clear(&cs);
}

TestSuite(state, .init = reset, .fini = reset);

Test(state, evse_kept_in_id_order_and_bounded)
{
	cr_assert_not_null(ogw_state_evse(&cs, 3));
	cr_assert_not_null(ogw_state_evse(&cs, 1));
	cr_assert_not_null(ogw_state_evse(&cs, 2));
	cr_assert_eq(ogw_state_evse(&cs, 2), ogw_state_evse(&cs, 2));
	cr_assert_eq(cs.n_evse, 3);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(cs.evse[i].id, i + 1);
	cr_assert_null(ogw_state_evse(&cs, 0));
	cr_assert_null(ogw_state_evse(&cs, OGW_STATE_MAX_EVSE + 1));
	cr_assert_lt(cs.evse[0].energy_wh, 0, "new EVSE readings are unknown");
	cr_assert_lt(cs.evse[0].gw_limit_a, 0);
}

Test(state, boot_16)
{
	feed(OGW_OCPP16, OGW_OBS_UP_CALL, "BootNotification",
	     "{\"chargePointVendor\":\"ACME\",\"chargePointModel\":\"W1\","
	     "\"chargePointSerialNumber\":\"S-1\",\"firmwareVersion\":\"1.2\"}");
	cr_assert_str_eq(cs.vendor, "ACME");
	cr_assert_str_eq(cs.model, "W1");
	cr_assert_str_eq(cs.serial, "S-1");
	cr_assert_str_eq(cs.firmware, "1.2");
	cr_assert_eq(cs.boot_at, 1000);
	cr_assert_eq(cs.last_seen, 1000);
}

Test(state, boot_201)
{
	feed(OGW_OCPP201, OGW_OBS_UP_CALL, "BootNotification",
	     "{\"reason\":\"PowerUp\",\"chargingStation\":{\"vendorName\":\"V\",\"model\":\"M\","
	     "\"serialNumber\":\"SN\",\"firmwareVersion\":\"fw\"}}");
	cr_assert_str_eq(cs.vendor, "V");
	cr_assert_str_eq(cs.model, "M");
	cr_assert_str_eq(cs.serial, "SN");
	cr_assert_str_eq(cs.firmware, "fw");
}

Test(state, status_each_version)
{
	feed(OGW_OCPP16, OGW_OBS_UP_CALL, "StatusNotification",
	     "{\"connectorId\":2,\"errorCode\":\"NoError\",\"status\":\"Charging\"}");
	feed(OGW_OCPP16, OGW_OBS_UP_CALL, "StatusNotification",
	     "{\"connectorId\":0,\"errorCode\":\"NoError\",\"status\":\"Available\"}");
	cr_assert_eq(cs.n_evse, 1, "connector 0 is the charge point, not an EVSE");
	cr_assert_str_eq(ogw_state_evse(&cs, 2)->status, "Charging");
	ogw_state_clear(&cs);
	feed(OGW_OCPP21, OGW_OBS_UP_CALL, "StatusNotification",
	     "{\"timestamp\":\"2026-11-22T10:00:00Z\",\"connectorStatus\":\"Occupied\","
	     "\"evseId\":1,\"connectorId\":1}");
	cr_assert_str_eq(ogw_state_evse(&cs, 1)->status, "Occupied");
}

Test(state, transaction_16)
{
	feed(OGW_OCPP16, OGW_OBS_UP_CALL, "StartTransaction",
	     "{\"connectorId\":1,\"idTag\":\"TAG1\",\"meterStart\":500,"
	     "\"timestamp\":\"2026-11-22T10:00:00Z\"}");
	cr_assert_eq(cs.n_evse, 0, "nothing until the answer names the transaction");
	feed(OGW_OCPP16, OGW_OBS_UP_RESULT, "StartTransaction",
	     "{\"transactionId\":42,\"idTagInfo\":{\"status\":\"Accepted\"}}");
	struct ogw_evse_state *e = ogw_state_evse(&cs, 1);
	cr_assert_str_eq(e->tx_id, "42");
	cr_assert_str_eq(e->id_tag, "TAG1");
	cr_assert_eq(e->tx_started, 1795341600);
	cr_assert_float_eq(e->energy_wh, 500, 1e-9);

	feed(OGW_OCPP16, OGW_OBS_UP_CALL, "MeterValues",
	     "{\"connectorId\":1,\"transactionId\":42,\"meterValue\":[{\"timestamp\":"
	     "\"2026-11-22T10:01:00Z\",\"sampledValue\":["
	     "{\"value\":\"1.5\",\"unit\":\"kWh\"},"
	     "{\"value\":\"7.2\",\"measurand\":\"Power.Active.Import\",\"unit\":\"kW\"},"
	     "{\"value\":\"16.0\",\"measurand\":\"Current.Import\",\"phase\":\"L1\",\"unit\":\"A\"},"
	     "{\"value\":\"15.5\",\"measurand\":\"Current.Import\",\"phase\":\"L2\",\"unit\":\"A\"},"
	     "{\"value\":\"0\",\"measurand\":\"Current.Import\",\"phase\":\"L3\",\"unit\":\"A\"},"
	     "{\"value\":\"32\",\"measurand\":\"Current.Offered\",\"unit\":\"A\"}]}]}");
	e = ogw_state_evse(&cs, 1);
	cr_assert_float_eq(e->energy_wh, 1500, 1e-9);
	cr_assert_float_eq(e->power_w, 7200, 1e-9);
	cr_assert_float_eq(e->current_a[0], 16, 1e-9);
	cr_assert_float_eq(e->current_a[1], 15.5, 1e-9);
	cr_assert_float_eq(e->current_a[2], 0, 1e-9);
	cr_assert_eq(e->phases_used, 2);
	cr_assert_float_eq(e->offered_a, 32, 1e-9);
	cr_assert_eq(e->updated, 1000);

	feed(OGW_OCPP16, OGW_OBS_UP_CALL, "StopTransaction",
	     "{\"transactionId\":42,\"meterStop\":2000,\"timestamp\":\"2026-11-22T11:00:00Z\"}");
	e = ogw_state_evse(&cs, 1);
	cr_assert_str_eq(e->tx_id, "");
	cr_assert_eq(e->tx_started, 0);
	cr_assert_float_eq(e->energy_wh, 2000, 1e-9);
	cr_assert_lt(e->current_a[0], 0);
}

Test(state, rejected_start_16_leaves_no_transaction)
{
	feed(OGW_OCPP16, OGW_OBS_UP_CALL, "StartTransaction",
	     "{\"connectorId\":1,\"idTag\":\"BAD\",\"meterStart\":0,"
	     "\"timestamp\":\"2026-11-22T10:00:00Z\"}");
	feed(OGW_OCPP16, OGW_OBS_UP_RESULT, "StartTransaction",
	     "{\"transactionId\":7,\"idTagInfo\":{\"status\":\"Invalid\"}}");
	cr_assert_str_eq(ogw_state_evse(&cs, 1)->tx_id, "");
	cr_assert_eq(cs.start_connector, 0);
}

Test(state, current_without_phase_is_one_phase)
{
	feed(OGW_OCPP16, OGW_OBS_UP_CALL, "MeterValues",
	     "{\"connectorId\":1,\"meterValue\":[{\"timestamp\":\"2026-11-22T10:01:00Z\","
	     "\"sampledValue\":[{\"value\":\"10\",\"measurand\":\"Current.Import\"}]}]}");
	struct ogw_evse_state *e = ogw_state_evse(&cs, 1);
	cr_assert_float_eq(e->current_a[0], 10, 1e-9);
	cr_assert_float_eq(e->current_a[1], 0, 1e-9);
	cr_assert_eq(e->phases_used, 1);
}

Test(state, transaction_event_201)
{
	feed(OGW_OCPP201, OGW_OBS_UP_CALL, "TransactionEvent",
	     "{\"eventType\":\"Started\",\"timestamp\":\"2026-11-22T10:00:00Z\","
	     "\"triggerReason\":\"Authorized\",\"seqNo\":0,"
	     "\"transactionInfo\":{\"transactionId\":\"tx-9\"},"
	     "\"idToken\":{\"idToken\":\"TOK\",\"type\":\"ISO14443\"},"
	     "\"evse\":{\"id\":2,\"connectorId\":1},"
	     "\"meterValue\":[{\"timestamp\":\"2026-11-22T10:00:00Z\",\"sampledValue\":["
	     "{\"value\":12.5,\"measurand\":\"Energy.Active.Import.Register\","
	     "\"unitOfMeasure\":{\"unit\":\"kWh\"}}]}]}");
	struct ogw_evse_state *e = ogw_state_evse(&cs, 2);
	cr_assert_str_eq(e->tx_id, "tx-9");
	cr_assert_str_eq(e->id_tag, "TOK");
	cr_assert_eq(e->tx_started, 1795341600);
	cr_assert_float_eq(e->energy_wh, 12500, 1e-9);

	/* Updated without evse: found by its transaction id. */
	feed(OGW_OCPP201, OGW_OBS_UP_CALL, "TransactionEvent",
	     "{\"eventType\":\"Updated\",\"timestamp\":\"2026-11-22T10:05:00Z\","
	     "\"triggerReason\":\"MeterValuePeriodic\",\"seqNo\":1,"
	     "\"transactionInfo\":{\"transactionId\":\"tx-9\"},"
	     "\"meterValue\":[{\"timestamp\":\"2026-11-22T10:05:00Z\",\"sampledValue\":["
	     "{\"value\":11,\"measurand\":\"Power.Active.Import\",\"unitOfMeasure\":"
	     "{\"unit\":\"W\",\"multiplier\":3}},"
	     "{\"value\":16,\"measurand\":\"Current.Import\",\"phase\":\"L1\"},"
	     "{\"value\":16,\"measurand\":\"Current.Import\",\"phase\":\"L2\"},"
	     "{\"value\":16,\"measurand\":\"Current.Import\",\"phase\":\"L3\"}]}]}");
	e = ogw_state_evse(&cs, 2);
	cr_assert_float_eq(e->power_w, 11000, 1e-9);
	cr_assert_eq(e->phases_used, 3);
	cr_assert_float_eq(e->current_a[2], 16, 1e-9);
	cr_assert_eq(e->tx_started, 1795341600, "start time kept on Updated");

	feed(OGW_OCPP201, OGW_OBS_UP_CALL, "TransactionEvent",
	     "{\"eventType\":\"Ended\",\"timestamp\":\"2026-11-22T11:00:00Z\","
	     "\"triggerReason\":\"EVDeparted\",\"seqNo\":2,"
	     "\"transactionInfo\":{\"transactionId\":\"tx-9\",\"stoppedReason\":\"EVDisconnected\"}}");
	e = ogw_state_evse(&cs, 2);
	cr_assert_str_eq(e->tx_id, "");
	cr_assert_eq(e->phases_used, 0);
}

Test(state, meter_values_21_and_unreadable_values)
{
	feed(OGW_OCPP21, OGW_OBS_UP_CALL, "MeterValues",
	     "{\"evseId\":1,\"meterValue\":[{\"timestamp\":\"2026-11-22T10:00:00Z\","
	     "\"sampledValue\":[{\"value\":3000},{\"value\":6,\"measurand\":\"Current.Offered\"},"
	     "{\"value\":230,\"measurand\":\"Voltage\"}]}]}");
	struct ogw_evse_state *e = ogw_state_evse(&cs, 1);
	cr_assert_float_eq(e->energy_wh, 3000, 1e-9);
	cr_assert_float_eq(e->offered_a, 6, 1e-9);
	feed(OGW_OCPP16, OGW_OBS_UP_CALL, "MeterValues",
	     "{\"connectorId\":1,\"meterValue\":[{\"timestamp\":\"2026-11-22T10:00:00Z\","
	     "\"sampledValue\":[{\"value\":\"not a number\"}]}]}");
	cr_assert_float_eq(ogw_state_evse(&cs, 1)->energy_wh, 3000, 1e-9);
}

Test(state, last_seen_only_on_calls_from_the_charger)
{
	feed(OGW_OCPP16, OGW_OBS_DOWN_CALL, "Reset", "{\"type\":\"Soft\"}");
	cr_assert_eq(cs.last_seen, 0);
	feed(OGW_OCPP16, OGW_OBS_UP_CALL, "Heartbeat", "{}");
	cr_assert_eq(cs.last_seen, 1000);
}
