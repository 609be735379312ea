/* SPDX-License-Identifier: MIT */
/*
 * 1.6 charger, 2.0.1 CSMS: meter values. 1.6 samples as 2.0.1
 * SampledValueType (units, measurands with no 2.0.1 form dropped), signed
 * OCMF data as signedMeterValue with its reading, and MeterValues as a
 * transaction's Updated event or plain meter values.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ocppgw/translator.h"
#include "internal.h"

/* ---- meter values ------------------------------------------------------- */

struct unit_map {
	const char *unit16;
	const char *unit;
	int multiplier;
};

/* 1.6 kilo-units become the base unit with multiplier 3; "Celcius" is a
 * 1.6 spelling chargers really send (J16E 2.1). */
static const struct unit_map units[] = {
	{ "Celcius", "Celsius", 0 },
	{ "kVA", "VA", 3 },
	{ "kW", "W", 3 },
	{ "kWh", "Wh", 3 },
	{ "kvar", "var", 3 },
	{ "kvarh", "varh", 3 },
};

/* 1.6 measurands with no 2.0.1 counterpart: their samples are dropped. */
static const char *const gone_measurands[] = { "Temperature", "RPM" };

static bool measurand_gone(const char *m)
{
	for (size_t i = 0; m && i < N_OF(gone_measurands); i++)
		if (!strcmp(gone_measurands[i], m))
			return true;
	return false;
}

static json_t *unit_of_measure(const char *unit16)
{
	for (size_t i = 0; i < N_OF(units); i++)
		if (!strcmp(units[i].unit16, unit16))
			return units[i].multiplier ? json_pack("{s:s, s:i}", "unit", units[i].unit,
							       "multiplier", units[i].multiplier)
						   : json_pack("{s:s}", "unit", units[i].unit);
	return json_pack("{s:s}", "unit", unit16);
}

/* A 1.6 value text as a JSON number, or NULL when it is not a number. */
static json_t *number(const char *text)
{
	char *end;
	double d;
	long long ll;

	if (!text || !*text)
		return NULL;
	ll = strtoll(text, &end, 10);
	if (!*end)
		return json_integer(ll);
	d = strtod(text, &end);
	return *end ? NULL : json_real(d);
}

/* ---- signed meter values ----------------------------------------------------- *
 * 1.6 SignedData puts the signed blob in value and says nothing else.
 * 2.0.1 wants the reading as a number beside signedMeterValue{data,
 * signingMethod, encodingMethod, publicKey}. An OCMF blob (the format
 * German calibration law meters use) names its reading and method; other
 * formats cannot be read by the gateway. docs/TRANSLATION.md "Signed meter
 * values". */

/* OCMF's default signature algorithm (OCMF §5.3, when "SA" is absent). */
#define OCMF_DEFAULT_SA "ECDSA-secp256r1-SHA256"
#define SIGNED_DATA_MAX 2500   /* 2.0.1 signedMeterData */

/* The OCMF reading types that end a transaction (OCMF §5.2 "TX"). */
static bool ocmf_ends(const char *tx)
{
	return tx && tx[0] && !tx[1] && strchr("ELRAP", tx[0]);
}

/*
 * The reading and signature method of OCMF blob @blob
 * ("OCMF|{payload}|{signature}") for a sample of @context: the reading
 * that opened (TX "B") or closed the transaction for Transaction.Begin or
 * .End, else the last one. The reading's value (a new reference) goes to
 * *ret_value, its unit to *ret_unit (1.6 spelling), the method to
 * ret_method. -EINVAL when @blob is no OCMF with a reading.
 */
static int ocmf_reading(const char *blob, const char *context, json_t **ret_value,
			char ret_unit[16], char ret_method[51])
{
	json_error_t err;
	json_t *payload, *sig = NULL, *rd, *pick = NULL;
	const char *sa;
	size_t i;

	if (strncmp(blob, "OCMF|", 5) ||
	    !(payload = json_loads(blob + 5, JSON_DISABLE_EOF_CHECK, &err)))
		return -EINVAL;
	if (blob[5 + err.position] == '|')
		sig = json_loads(blob + 6 + err.position, 0, &err);
	json_array_foreach(json_object_get(payload, "RD"), i, rd) {
		const char *tx = tr_str(rd, "TX");
		if (!json_is_number(json_object_get(rd, "RV")))
			continue;
		if (!context || (strcmp(context, "Transaction.Begin") &&
				 strcmp(context, "Transaction.End")) || !pick)
			pick = rd;
		if (context && ((!strcmp(context, "Transaction.Begin") && tx && !strcmp(tx, "B")) ||
				(!strcmp(context, "Transaction.End") && ocmf_ends(tx))))
			pick = rd;
	}
	sa = tr_str(sig, "SA");
	if (pick) {
		*ret_value = json_incref(json_object_get(pick, "RV"));
		snprintf(ret_unit, 16, "%s", tr_str(pick, "RU") ? tr_str(pick, "RU") : "kWh");
		snprintf(ret_method, 51, "%s", sa && *sa ? sa : OCMF_DEFAULT_SA);
	}
	json_decref(sig);
	json_decref(payload);
	return pick ? 0 : -EINVAL;
}

/*
 * One 1.6 SampledValue as a 2.0.1 SampledValueType in *ret, or *ret NULL
 * when it has no 2.0.1 form (a gone measurand, a raw value that is not a
 * number). A signed one is left to signed_value().
 */
static int sampled_value(const json_t *in, json_t **ret)
{
	const char *unit = tr_str(in, "unit");
	json_t *v = number(tr_str(in, "value"));
	json_t *sv = NULL;
	int r = -ENOMEM;

	*ret = NULL;
	if (measurand_gone(tr_str(in, "measurand")) || !v) {
		r = 0;
		goto out;
	}
	sv = json_pack("{s:O}", "value", v);
	if (!sv || ogw_tr_copy(sv, NULL, in, "context") || ogw_tr_copy(sv, NULL, in, "measurand") ||
	    ogw_tr_copy(sv, NULL, in, "phase") || ogw_tr_copy(sv, NULL, in, "location"))
		goto out;
	if (unit && json_object_set_new(sv, "unitOfMeasure", unit_of_measure(unit)))
		goto out;
	*ret = json_incref(sv);
	r = 0;
out:
	json_decref(sv);
	json_decref(v);
	return r;
}

static bool is_signed(const json_t *sv)
{
	return tr_str(sv, "format") && !strcmp(tr_str(sv, "format"), "SignedData");
}

/* Whether 1.6 samples @a and @b measure the same thing. */
static bool same_quantity(const json_t *a, const json_t *b)
{
	return tr_same(tr_str(a, "measurand"), tr_str(b, "measurand")) &&
	       tr_same(tr_str(a, "phase"), tr_str(b, "phase")) &&
	       tr_same(tr_str(a, "context"), tr_str(b, "context")) &&
	       tr_same(tr_str(a, "location"), tr_str(b, "location"));
}

/*
 * Signed 1.6 sample @in of MeterValue @mv (whose plain samples are already
 * in @svs, in the order of @mv's, skipped ones absent) into @svs: an OCMF
 * blob becomes a sample of its own reading, carrying the blob, its
 * method, encodingMethod OCMF and an empty publicKey (as a 2.0.1 station
 * with PublicKeyWithSignedMeterValue Never: the CSMS knows the meter's key
 * from elsewhere); without a reading in the blob, the blob joins the plain
 * sample of the same quantity. What cannot be carried (another format, a
 * blob over 2500 characters, no reading anywhere) is given up with a
 * reason: a reading of 0 would be billed.
 */
static int signed_value(struct ogw_tr_env *env, const char *action, const json_t *msg,
			const json_t *mv, const json_t *in, json_t *svs)
{
	const char *blob = tr_str(in, "value");
	json_t *value = NULL, *sv = NULL, *smv = NULL, *one;
	char unit[16], method[51];
	size_t i;
	int r = 0;

	if (!blob || strlen(blob) > SIGNED_DATA_MAX || strncmp(blob, "OCMF|", 5)) {
		ogw_tr_lost(env, action, msg,
			    blob && strlen(blob) > SIGNED_DATA_MAX
				    ? "signed meter value over 2500 characters (2.0.1 signedMeterData)"
				    : "signed meter value not in OCMF: 2.0.1 cannot name its signing method");
		return 0;
	}
	if (ocmf_reading(blob, tr_str(in, "context"), &value, unit, method)) {
		snprintf(method, sizeof(method), "%s", OCMF_DEFAULT_SA);
		unit[0] = '\0';
	}
	smv = json_pack("{s:s, s:s, s:s, s:s}", "signedMeterData", blob, "signingMethod", method,
			"encodingMethod", "OCMF", "publicKey", "");
	if (!smv)
		goto nomem;
	if (value) {
		json_t *copy = json_deep_copy(in);
		if (!copy || json_object_set_new(copy, "unit", json_string(unit)) ||
		    json_object_del(copy, "format") ||
		    json_object_set_new(copy, "value", json_string("0")) ||
		    sampled_value(copy, &sv) < 0) {
			json_decref(copy);
			goto nomem;
		}
		json_decref(copy);
		if (sv &&
		    (json_object_set(sv, "value", value) ||
		     json_object_set(sv, "signedMeterValue", smv) || json_array_append(svs, sv)))
			goto nomem;
		goto out;
	}
	/* the plain sample of the same quantity gets the blob */
	json_array_foreach(json_object_get(mv, "sampledValue"), i, one) {
		json_t *twin;
		size_t j;
		if (is_signed(one) || !same_quantity(one, in))
			continue;
		json_array_foreach(svs, j, twin) {
			if (json_object_get(twin, "signedMeterValue") ||
			    !tr_same(tr_str(twin, "measurand"), tr_str(one, "measurand")) ||
			    !tr_same(tr_str(twin, "phase"), tr_str(one, "phase")) ||
			    !tr_same(tr_str(twin, "context"), tr_str(one, "context")))
				continue;
			if (json_object_set(twin, "signedMeterValue", smv))
				goto nomem;
			goto out;
		}
	}
	ogw_tr_lost(env, action, msg, "signed meter value without a reading the CSMS could bill");
	goto out;
nomem:
	r = -ENOMEM;
out:
	json_decref(sv);
	json_decref(smv);
	json_decref(value);
	return r;
}

/* 1.6 MeterValue[] -> 2.0.1 MeterValueType[] in *ret (possibly empty:
 * meter values left without samples are dropped). @action and @msg are
 * the 1.6 message, for what has to be given up. */
int tr16_meter_values(struct ogw_tr_env *env, const char *action, const json_t *msg,
		      const json_t *in, json_t **ret)
{
	json_t *arr = json_array(), *mv;
	size_t i;
	int r = -ENOMEM;

	if (!arr)
		return -ENOMEM;
	json_array_foreach(in, i, mv) {
		json_t *svs = json_array(), *sv, *one;
		size_t j;
		if (!svs)
			goto out;
		/* plain samples first, so a signed one can join its twin */
		json_array_foreach(json_object_get(mv, "sampledValue"), j, sv) {
			if (is_signed(sv))
				continue;
			if ((r = sampled_value(sv, &one)) < 0 ||
			    (one && json_array_append_new(svs, one))) {
				json_decref(svs);
				r = -ENOMEM;
				goto out;
			}
		}
		json_array_foreach(json_object_get(mv, "sampledValue"), j, sv) {
			if (is_signed(sv) &&
			    (r = signed_value(env, action, msg, mv, sv, svs)) < 0) {
				json_decref(svs);
				goto out;
			}
		}
		if (!json_array_size(svs)) {
			json_decref(svs);
			continue;
		}
		if (json_array_append_new(arr, json_pack("{s:O, s:o}", "timestamp",
							 json_object_get(mv, "timestamp"),
							 "sampledValue", svs))) {
			r = -ENOMEM;
			goto out;
		}
	}
	*ret = json_incref(arr);
	r = 0;
out:
	json_decref(arr);
	return r;
}

/* The energy register reading a StartTransaction/StopTransaction carries. */
json_t *tr16_energy_reading(const char *timestamp, json_int_t wh, const char *context)
{
	return json_pack("{s:s, s:[{s:I, s:s, s:s, s:{s:s}}]}", "timestamp", timestamp,
			 "sampledValue", "value", wh, "context", context, "measurand",
			 "Energy.Active.Import.Register", "unitOfMeasure", "unit", "Wh");
}

/* Sample.Periodic -> MeterValuePeriodic and so on (REFERENCE §3). */
static const struct ogw_tr_map meter_trigger[] = {
	{ "Sample.Clock", "MeterValueClock" },
	{ "Sample.Periodic", "MeterValuePeriodic" },
	{ "Trigger", "Trigger" },
};

/* The context of the first sample that has one. */
static const char *first_context(const json_t *meter_value)
{
	size_t i, j;
	json_t *mv, *sv;
	json_array_foreach(meter_value, i, mv)
		json_array_foreach(json_object_get(mv, "sampledValue"), j, sv)
			if (tr_str(sv, "context"))
				return tr_str(sv, "context");
	return NULL;
}

/* ---- MeterValues --------------------------------------------------------- */

int tr16_up_meter(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	json_int_t c = tr_int(p, "connectorId");
	json_t *mv = NULL, *tx = NULL, *ev;
	char uuid[37];
	int r;

	if ((r = tr16_meter_values(env, "MeterValues", p, json_object_get(p, "meterValue"), &mv)) <
	    0)
		return r;
	/* nothing left that 2.0.1 can express (e.g. only Temperature) */
	if (!json_array_size(mv)) {
		r = ogw_tr_out_answer(out, json_object());
		goto out;
	}
	if (!tr_has(p, "transactionId") || tr16_tx_uuid(env, tr_int(p, "transactionId"), uuid) ||
	    !(tx = ogw_tr_state_get(env, S_KEY("tx", uuid)))) {
		/* no transaction the CSMS knows of: plain meter values of the EVSE */
		r = ogw_tr_forward(out, "MeterValues",
				   json_pack("{s:I, s:O}", "evseId", c, "meterValue", mv), NULL);
		goto out;
	}
	ev = tr16_tx_event("Updated",
			   json_string_value(json_object_get(json_array_get(mv, 0), "timestamp")),
			   MAP(meter_trigger, first_context(json_object_get(p, "meterValue")),
			       "MeterValuePeriodic"),
			   tr16_tx_take_seq(env, uuid, tx), uuid, tr_int(tx, "evse"));
	if (ev && json_object_set(ev, "meterValue", mv))
		ev = (json_decref(ev), NULL);
	r = ogw_tr_forward(out, "TransactionEvent", ev, NULL);
out:
	json_decref(tx);
	json_decref(mv);
	return r;
}
