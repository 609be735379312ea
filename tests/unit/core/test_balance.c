/* SPDX-License-Identifier: MIT */
/*
 * How the balancer reads a CSMS's charging profile (src/features/balance/balance.c):
 * the period in force now, in A per phase, for 1.6 and 2.x shapes,
 * Absolute, Relative and Recurring kinds, W limits, duration and validity;
 * and the dynamic site limit's bounds.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>

#include "features/balance/balance.h"
#include "session/session.h"

#define T0 1700000000  /* 2023-11-14T22:13:20Z */

/* A JSON fixture, parsed (the caller drops it). */
static json_t *fixture(const char *json)
{
	json_error_t err;
	json_t *p = json_loads(json, 0, &err);

	cr_assert_not_null(p, "bad fixture: %s", err.text);
	return p;
}

static double limit_of(const char *json, bool v16, time_t now, int64_t tx_started)
{
	json_t *p = fixture(json);
	double l = ogw_balance_profile_limit(p, v16, now, T0, tx_started, 230);
	json_decref(p);
	return l;
}

static const char abs16[] =
	"{\"chargingProfileId\":1,\"stackLevel\":0,\"chargingProfilePurpose\":\"TxDefaultProfile\","
	"\"chargingProfileKind\":\"Absolute\",\"chargingSchedule\":{\"chargingRateUnit\":\"A\","
	"\"startSchedule\":\"2023-11-14T22:13:20Z\",\"duration\":3600,"
	"\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":16},"
	"{\"startPeriod\":600,\"limit\":10.5}]}}";

Test(balance_profile, absolute_periods_in_force)
{
	cr_assert_float_eq(limit_of(abs16, true, T0 - 1, 0), -1, 1e-9);  /* not yet */
	cr_assert_float_eq(limit_of(abs16, true, T0, 0), 16, 1e-9);
	cr_assert_float_eq(limit_of(abs16, true, T0 + 599, 0), 16, 1e-9);
	cr_assert_float_eq(limit_of(abs16, true, T0 + 600, 0), 10.5, 1e-9);
	cr_assert_float_eq(limit_of(abs16, true, T0 + 3600, 0), -1, 1e-9);  /* duration over */
}

Test(balance_profile, watts_per_phase_and_2x_shape)
{
	const char *w201 =
		"{\"id\":3,\"stackLevel\":1,\"chargingProfilePurpose\":\"TxDefaultProfile\","
		"\"chargingProfileKind\":\"Relative\",\"chargingSchedule\":[{\"id\":1,"
		"\"chargingRateUnit\":\"W\",\"chargingSchedulePeriod\":[{\"startPeriod\":0,"
		"\"limit\":11040},{\"startPeriod\":60,\"limit\":2300,\"numberPhases\":1}]}]}";

	/* Relative: from the transaction's start; W over 3 phases by default */
	cr_assert_float_eq(limit_of(w201, false, T0 + 100, T0 + 50), 16, 1e-9);
	cr_assert_float_eq(limit_of(w201, false, T0 + 200, T0 + 50), 10, 1e-9);
	/* no transaction: from when it was received */
	cr_assert_float_eq(limit_of(w201, false, T0 + 30, 0), 16, 1e-9);
}

Test(balance_profile, recurring_and_validity)
{
	const char *daily =
		"{\"chargingProfileId\":2,\"stackLevel\":0,\"chargingProfilePurpose\":"
		"\"ChargePointMaxProfile\",\"chargingProfileKind\":\"Recurring\",\"recurrencyKind\":"
		"\"Daily\",\"validTo\":\"2023-11-20T00:00:00Z\",\"chargingSchedule\":{"
		"\"chargingRateUnit\":\"A\",\"startSchedule\":\"2023-11-14T00:00:00Z\","
		"\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":32},"
		"{\"startPeriod\":28800,\"limit\":6}]}}";
	time_t day = 1699920000;  /* 2023-11-14T00:00:00Z */

	cr_assert_float_eq(limit_of(daily, true, day + 86400 * 2 + 3600, 0), 32, 1e-9);
	cr_assert_float_eq(limit_of(daily, true, day + 86400 * 2 + 9 * 3600, 0), 6, 1e-9);
	cr_assert_float_eq(limit_of(daily, true, day + 86400 * 7, 0), -1, 1e-9);  /* validTo */
	cr_assert_float_eq(ogw_balance_profile_limit(NULL, true, T0, T0, 0, 230), -1, 1e-9);
}

/* The dynamic site limit as the API and MQTT set it: never above the
 * configured limit, never negative; without a context nothing is sent. */
Test(balance_site_limit, bounded_by_the_configured_limit)
{
	struct ogw_gateway gw = { 0 };
	struct ogw_conf_errors errs = { 0 };
	char err[128] = "";
	json_t *site;

	ogw_conf_defaults(&gw.conf);
	cr_assert_eq(ogw_conf_load_file(&gw.conf, LB_EXAMPLE, &errs), 0);
	cr_assert_eq(ogw_balance_init(&gw), 0);
	cr_assert_eq(ogw_balance_set_site_limit(&gw, 250.5, err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "site limit must be between 0 and 250.0 A per phase");
	cr_assert_eq(ogw_balance_set_site_limit(&gw, -1, err, sizeof(err)), -EINVAL);
	cr_assert_eq(ogw_balance_set_site_limit(&gw, NAN, err, sizeof(err)), -EINVAL);
	cr_assert_eq(ogw_balance_set_site_limit(&gw, 120, err, sizeof(err)), 0);
	site = ogw_balance_site_json(&gw);
	cr_assert_float_eq(json_real_value(json_object_get(site, "dynamicLimitA")), 120, 1e-9);
	json_decref(site);
	cr_assert_eq(ogw_balance_set_site_limit(&gw, 0, err, sizeof(err)), 0);
	ogw_balance_free(&gw);
	ogw_conf_clear(&gw.conf);
	ogw_conf_errors_clear(&errs);
}

Test(balance_site_limit, refused_without_load_balancing)
{
	struct ogw_gateway gw = { 0 };
	char err[128] = "";

	ogw_conf_defaults(&gw.conf);
	cr_assert_eq(ogw_balance_init(&gw), 0);
	cr_assert_eq(ogw_balance_set_site_limit(&gw, 10, err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "load balancing is not configured");
	ogw_balance_free(&gw);
	ogw_conf_clear(&gw.conf);
}

/* ---- the 1.6 TxProfile's transactionId ---------------------------------- */

static void tx_id_is(const char *tx_id, bool v16, const char *want)
{
	json_t *v = ogw_balance_tx_id_json(tx_id, v16);
	char *got = v ? json_dumps(v, JSON_ENCODE_ANY) : NULL;

	if (!want)
		cr_assert_null(v, "%s: expected none, got %s", tx_id, got);
	else
		cr_assert_str_eq(got ? got : "(none)", want, "%s", tx_id);
	free(got);
	json_decref(v);
}

Test(balance_tx_id, v16_integer_or_left_out)
{
	tx_id_is("42", true, "42");
	tx_id_is("-7", true, "-7");
	/* never a made-up transaction 0 */
	tx_id_is("a1b2", true, NULL);
	tx_id_is("12x", true, NULL);
	tx_id_is("", true, NULL);
	tx_id_is("99999999999", true, NULL);  /* beyond a 1.6 integer */
	tx_id_is("0f7c2a4e-uuid", false, "\"0f7c2a4e-uuid\"");
}

/* ---- which ClearChargingProfile may take the balancer's profiles off ---- */

static bool hits(const char *json, bool v16)
{
	json_t *p = fixture(json);
	bool h = ogw_balance_clear_hits_ours(p, v16, 8);
	json_decref(p);
	return h;
}

Test(balance_clear, v16_criteria)
{
	cr_assert(hits("{}", true), "no criteria clears everything");
	cr_assert(hits("{\"connectorId\":1}", true));
	cr_assert(hits("{\"stackLevel\":8}", true));
	cr_assert(hits("{\"chargingProfilePurpose\":\"TxDefaultProfile\"}", true));
	cr_assert(hits("{\"chargingProfilePurpose\":\"ChargePointMaxProfile\",\"connectorId\":0}",
		       true));
	cr_assert(hits("{\"id\":770000101}", true), "our TxDefault's id");
	cr_assert_not(hits("{\"id\":3}", true), "a CSMS id");
	cr_assert_not(hits("{\"stackLevel\":2}", true), "another level");
	cr_assert_not(hits("{\"chargingProfilePurpose\":\"TxProfile\",\"connectorId\":0}", true));
	cr_assert_not(hits("{\"chargingProfilePurpose\":\"ChargePointMaxProfile\","
			   "\"connectorId\":1}", true));
}

Test(balance_clear, v2_criteria)
{
	cr_assert(hits("{}", false));
	cr_assert(hits("{\"chargingProfileCriteria\":{\"evseId\":1}}", false));
	cr_assert(hits("{\"chargingProfileCriteria\":{\"chargingProfilePurpose\":"
		       "\"ChargingStationMaxProfile\",\"stackLevel\":8}}", false));
	cr_assert(hits("{\"chargingProfileId\":770000000}", false));
	cr_assert(hits("{\"chargingProfileCriteria\":{\"evseId\":1,\"chargingProfilePurpose\":"
		       "\"ChargingStationExternalConstraints\"}}", false), "ours on an EVSE");
	cr_assert_not(hits("{\"chargingProfileId\":12}", false));
	cr_assert_not(hits("{\"chargingProfileCriteria\":{\"stackLevel\":0}}", false));
}

/* ---- ChargeProfileMaxStackLevel as the charger answers it --------------- */

static int level_of(const char *json, bool v16)
{
	json_t *p = fixture(json);
	int n = ogw_balance_max_level(p, v16);
	json_decref(p);
	return n;
}

Test(balance_level, read_from_either_version)
{
	cr_assert_eq(level_of("{\"configurationKey\":[{\"key\":\"ChargeProfileMaxStackLevel\","
			      "\"readonly\":true,\"value\":\"5\"}]}", true), 5);
	cr_assert_eq(level_of("{\"configurationKey\":[],\"unknownKey\":"
			      "[\"ChargeProfileMaxStackLevel\"]}", true), -1);
	cr_assert_eq(level_of("{\"configurationKey\":[{\"key\":\"ChargeProfileMaxStackLevel\","
			      "\"readonly\":true,\"value\":\"ten\"}]}", true), -1);
	cr_assert_eq(level_of("{\"getVariableResult\":[{\"attributeStatus\":\"Accepted\","
			      "\"attributeValue\":\"12\",\"component\":{\"name\":"
			      "\"SmartChargingCtrlr\"},\"variable\":{\"name\":"
			      "\"ProfileStackLevel\"}}]}", false), 12);
	cr_assert_eq(level_of("{\"getVariableResult\":[{\"attributeStatus\":\"UnknownVariable\","
			      "\"component\":{\"name\":\"SmartChargingCtrlr\"},\"variable\":"
			      "{\"name\":\"ProfileStackLevel\"}}]}", false), -1);
	cr_assert_eq(level_of("{\"getVariableResult\":[{\"attributeStatus\":\"Accepted\","
			      "\"attributeValue\":\"-3\",\"component\":{\"name\":\"x\"},"
			      "\"variable\":{\"name\":\"y\"}}]}", false), -1);
}

/* ---- 2.x chargingPriority from the CSMS --------------------------------- */

static bool prio_of(const char *json, int *ret)
{
	json_t *p = fixture(json);
	bool ok = ogw_balance_charging_priority(p, ret);
	json_decref(p);
	return ok;
}

Test(balance_priority, from_the_transaction_event_response)
{
	int p = 99;

	cr_assert_not(prio_of("{}", &p));
	cr_assert_eq(p, 99, "untouched when absent");
	cr_assert(prio_of("{\"idTokenInfo\":{\"status\":\"Accepted\",\"chargingPriority\":-3}}", &p));
	cr_assert_eq(p, -3);
	/* the top-level one overrules idTokenInfo's (2.0.1 TransactionEventResponse) */
	cr_assert(prio_of("{\"chargingPriority\":7,\"idTokenInfo\":{\"status\":\"Accepted\","
			  "\"chargingPriority\":-3}}", &p));
	cr_assert_eq(p, 7);
	cr_assert_not(prio_of("{\"chargingPriority\":12}", &p), "out of -9..9");
}
