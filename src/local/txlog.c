/* SPDX-License-Identifier: MIT */
/*
 * The transaction log of one charger, fed with its south frames: which
 * transactions ran, for whom, from when to when and how much energy they
 * took, whether the CSMS was reachable or not. 1.6 learns a transaction's
 * id only from the StartTransaction answer, so the request waits here
 * until then (a charger has one CALL outstanding at a time, OCPP-J §4.1.1).
 * It reads messages and writes rows; it never changes a frame.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "internal.h"
#include "ocppgw/log.h"
#include "ocppgw/local.h"
#include "ocppgw/store.h"
#include "ocppgw/util.h"

#define ENERGY_MEASURAND "Energy.Active.Import.Register"
/* Meter readings of a running transaction are written at most this often
 * (start and stop always are): a log, not a meter archive, and a write per
 * MeterValues would cost every relayed frame a store commit. */
#define METER_WRITE_PERIOD_S 60

struct ogw_local_rec {
	struct ogw_store *store;
	char *charger;
	enum ogw_ocpp ver;
	json_t *start_req;      /* 1.6 StartTransaction awaiting its answer */
	bool start_offline;
	char meter_tx[40];      /* the transaction whose reading was written last */
	time_t meter_at;        /* and when */
};

/* Whether a running transaction's reading is due for the log. */
static bool meter_due(struct ogw_local_rec *rec, const char *tx_id)
{
	time_t now = time(NULL);
	if (!strcmp(rec->meter_tx, tx_id) && now - rec->meter_at < METER_WRITE_PERIOD_S)
		return false;
	snprintf(rec->meter_tx, sizeof(rec->meter_tx), "%s", tx_id);
	rec->meter_at = now;
	return true;
}

struct ogw_local_rec *ogw_local_rec_new(struct ogw_store *store, const char *charger,
					enum ogw_ocpp ver)
{
	if (!store || !charger || (unsigned)ver >= OGW_OCPP_COUNT)
		return NULL;
	struct ogw_local_rec *rec = calloc(1, sizeof(*rec));
	if (!rec)
		return NULL;
	rec->charger = strdup(charger);
	if (!rec->charger) {
		free(rec);
		return NULL;
	}
	rec->store = store;
	rec->ver = ver;
	return rec;
}

struct ogw_local_rec *ogw_local_rec_free(struct ogw_local_rec *rec)
{
	if (!rec)
		return NULL;
	json_decref(rec->start_req);
	free(rec->charger);
	free(rec);
	return NULL;
}

/* A message's timestamp, or now when it has none the gateway can read. */
static int64_t time_of(const json_t *payload)
{
	int64_t t;
	const char *s = json_string_value(json_object_get(payload, "timestamp"));

	return s && ogw_time_parse_rfc3339(s, &t) == 0 && t > 0 ? t : (int64_t)time(NULL);
}

/* One sampled value in Wh when it is the import energy register, else < 0.
 * 1.6: value is text, unit "Wh" (default) or "kWh", measurand defaults to
 * the register. 2.x: value is a number, unitOfMeasure {unit, multiplier}. */
static double sample_wh(enum ogw_ocpp ver, const json_t *sv)
{
	const char *measurand = json_string_value(json_object_get(sv, "measurand"));
	const char *phase = json_string_value(json_object_get(sv, "phase"));
	const char *format = json_string_value(json_object_get(sv, "format"));
	const char *unit;
	double v;
	char *end;

	if ((measurand && strcmp(measurand, ENERGY_MEASURAND) != 0) || phase ||
	    (format && strcmp(format, "SignedData") == 0))
		return -1;
	if (ver == OGW_OCPP16) {
		const char *text = json_string_value(json_object_get(sv, "value"));
		if (!text)
			return -1;
		v = strtod(text, &end);
		if (end == text || *end)
			return -1;
		unit = json_string_value(json_object_get(sv, "unit"));
	} else {
		const json_t *uom = json_object_get(sv, "unitOfMeasure");
		if (!json_is_number(json_object_get(sv, "value")))
			return -1;
		v = json_number_value(json_object_get(sv, "value"));
		v *= pow(10, (double)json_integer_value(json_object_get(uom, "multiplier")));
		unit = json_string_value(json_object_get(uom, "unit"));
	}
	if (unit && strcmp(unit, "kWh") == 0)
		v *= 1000;
	else if (unit && strcmp(unit, "Wh") != 0)
		return -1;
	return isfinite(v) && v >= 0 ? v : -1;
}

/* The energy register readings of a meterValue array: the one sampled at
 * the transaction's begin into *ret_begin, the latest into *ret_last
 * (either < 0 when absent). */
static void energy_of(enum ogw_ocpp ver, const json_t *meter_values, double *ret_begin,
		      double *ret_last)
{
	const json_t *mv, *sv;
	size_t i, k;

	*ret_begin = *ret_last = -1;
	json_array_foreach(meter_values, i, mv) {
		json_array_foreach(json_object_get(mv, "sampledValue"), k, sv) {
			double wh = sample_wh(ver, sv);
			const char *context = json_string_value(json_object_get(sv, "context"));
			if (wh < 0)
				continue;
			if (context && strcmp(context, "Transaction.Begin") == 0)
				*ret_begin = wh;
			*ret_last = wh;
		}
	}
}

static struct ogw_txrec unknown_tx(const struct ogw_local_rec *rec, const char *tx_id)
{
	return (struct ogw_txrec){ .charger = rec->charger, .tx_id = tx_id,
				   .meter_start_wh = -1, .meter_last_wh = -1 };
}

/* 1.6 StartTransaction.conf: the request now has its transaction id. */
static int started_16(struct ogw_local_rec *rec, const json_t *res)
{
	const json_t *req = rec->start_req, *id = json_object_get(res, "transactionId");
	char tx_id[24];

	if (!req || !json_is_integer(id))
		return 0;
	snprintf(tx_id, sizeof(tx_id), "%" JSON_INTEGER_FORMAT, json_integer_value(id));
	struct ogw_txrec t = unknown_tx(rec, tx_id);
	t.connector = (int)json_integer_value(json_object_get(req, "connectorId"));
	t.id_tag = json_string_value(json_object_get(req, "idTag"));
	t.started = time_of(req);
	if (json_is_number(json_object_get(req, "meterStart")))
		t.meter_start_wh = t.meter_last_wh = json_number_value(json_object_get(req, "meterStart"));
	t.offline = rec->start_offline;
	return ogw_store_tx_upsert(rec->store, &t);
}

static int stopped_16(struct ogw_local_rec *rec, const json_t *req)
{
	const json_t *id = json_object_get(req, "transactionId");
	const char *reason = json_string_value(json_object_get(req, "reason"));
	char tx_id[24];

	if (!json_is_integer(id))
		return 0;
	snprintf(tx_id, sizeof(tx_id), "%" JSON_INTEGER_FORMAT, json_integer_value(id));
	struct ogw_txrec t = unknown_tx(rec, tx_id);
	t.stopped = time_of(req);
	if (json_is_number(json_object_get(req, "meterStop")))
		t.meter_last_wh = json_number_value(json_object_get(req, "meterStop"));
	/* S16 §6.49: no reason means Local */
	t.stop_reason = reason ? reason : "Local";
	return ogw_store_tx_upsert(rec->store, &t);
}

static int meter_values_16(struct ogw_local_rec *rec, const json_t *req)
{
	const json_t *id = json_object_get(req, "transactionId");
	double begin, last;
	char tx_id[24];

	if (!json_is_integer(id))
		return 0;
	snprintf(tx_id, sizeof(tx_id), "%" JSON_INTEGER_FORMAT, json_integer_value(id));
	if (!meter_due(rec, tx_id))
		return 0;
	energy_of(rec->ver, json_object_get(req, "meterValue"), &begin, &last);
	if (begin < 0 && last < 0)
		return 0;
	struct ogw_txrec t = unknown_tx(rec, tx_id);
	t.connector = (int)json_integer_value(json_object_get(req, "connectorId"));
	t.meter_start_wh = begin;
	t.meter_last_wh = last;
	return ogw_store_tx_upsert(rec->store, &t);
}

static int transaction_event(struct ogw_local_rec *rec, const json_t *req, bool offline)
{
	const json_t *info = json_object_get(req, "transactionInfo");
	const json_t *evse = json_object_get(req, "evse");
	const char *type = json_string_value(json_object_get(req, "eventType"));
	const char *tx_id = json_string_value(json_object_get(info, "transactionId"));
	double begin, last;

	if (!type || !tx_id || !*tx_id)
		return 0;
	bool started = strcmp(type, "Started") == 0, ended = strcmp(type, "Ended") == 0;
	if (!started && !ended && !meter_due(rec, tx_id))
		return 0;
	struct ogw_txrec t = unknown_tx(rec, tx_id);
	t.evse = (int)json_integer_value(json_object_get(evse, "id"));
	t.connector = (int)json_integer_value(json_object_get(evse, "connectorId"));
	if (!ended)
		t.id_tag = ogw_local_token_of(rec->ver, req);
	energy_of(rec->ver, json_object_get(req, "meterValue"), &begin, &last);
	t.meter_start_wh = started && begin < 0 ? last : begin;
	t.meter_last_wh = last;
	if (started) {
		t.started = time_of(req);
		/* offline: the event happened while the station was offline */
		t.offline = offline || json_is_true(json_object_get(req, "offline"));
	}
	if (ended) {
		const char *reason = json_string_value(json_object_get(info, "stoppedReason"));
		t.stopped = time_of(req);
		t.stop_reason = reason ? reason : "Local";
	}
	return ogw_store_tx_upsert(rec->store, &t);
}

void ogw_local_rec_observe(struct ogw_local_rec *rec, bool from_charger, bool response,
			   const char *action, const json_t *payload, bool offline)
{
	int r = 0;

	/* The CSMS's calls to the charger start or stop nothing by themselves:
	 * the charger's own messages that follow do. */
	if (!rec || !from_charger || !action || !json_is_object(payload))
		return;
	if (rec->ver == OGW_OCPP16 && strcmp(action, "StartTransaction") == 0) {
		if (!response) {
			json_decref(rec->start_req);
			rec->start_req = json_deep_copy(payload);
			rec->start_offline = offline;
			return;
		}
		rec->start_offline = rec->start_offline || offline;
		r = started_16(rec, payload);
		json_decref(rec->start_req);
		rec->start_req = NULL;
	} else if (response) {
		return;
	} else if (rec->ver == OGW_OCPP16 && strcmp(action, "StopTransaction") == 0) {
		r = stopped_16(rec, payload);
	} else if (rec->ver == OGW_OCPP16 && strcmp(action, "MeterValues") == 0) {
		r = meter_values_16(rec, payload);
	} else if (rec->ver != OGW_OCPP16 && strcmp(action, "TransactionEvent") == 0) {
		r = transaction_event(rec, payload, offline);
	}
	if (r < 0) {
		struct ogw_log_ctx lc = { .charger = rec->charger, .action = action };
		ogw_err(&lc, "Failed to record the transaction: %s", strerror(-r));
	}
}
