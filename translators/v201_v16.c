/* SPDX-License-Identifier: MIT */
/*
 * Translator for an OCPP 2.0.1 charging station behind an OCPP 1.6 (+security
 * extension) central system: one function per action and direction, mapping
 * fields, enums, ids and configuration keys after REFERENCE.md §3-§4, and
 * keeping the per-charger state the mapping needs (transaction id map,
 * pending log/firmware requests). It does no I/O: everything goes through
 * the session's ogw_tr_* environment.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "ocppgw/ocpp.h"
#include "ocppgw/translator.h"
#include "common.h"
#include "connector_map.h"
#include "v21_adapt.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* 1.6 CiString20Type: idTag, chargePointVendor (S16 §7). */
#define IDTAG16_MAX 20
#define VENDOR16_MAX 20
/* 1.6 StatusNotification.info is CiString50. */
#define INFO16_MAX 50
/* 2.0.1 remoteLocation / firmware location are string[512]; 1.6 has no bound. */
#define LOCATION201_MAX 512
#define KEY_MAX 96

static const char PNC_VENDOR[] = "org.openchargealliance.iso15118pnc";

/* ---- small helpers ------------------------------------------------------ */

struct str_pair {
	const char *from;
	const char *to;
};

static const char *map_str(const struct str_pair *t, size_t n, const char *from,
			   const char *dflt)
{
	for (size_t i = 0; from && i < n; i++)
		if (!strcmp(t[i].from, from))
			return t[i].to;
	return dflt;
}

static bool in_list(const char *const *list, size_t n, const char *s)
{
	for (size_t i = 0; s && i < n; i++)
		if (!strcmp(list[i], s))
			return true;
	return false;
}

/* Equal strings, or both absent. */
static bool str_eq_opt(const char *a, const char *b)
{
	return a && b ? !strcmp(a, b) : a == b;
}

/* Takes @payload and @memo. */
static int out_forward(struct ogw_tr_out *out, const char *action, json_t *payload,
		       json_t *memo)
{
	if (!payload) {
		json_decref(memo);
		return -ENOMEM;
	}
	out->outcome = OGW_TR_FORWARD;
	out->action = action;
	out->payload = payload;
	out->memo = memo;
	return 0;
}

static int out_error(struct ogw_tr_out *out, enum ogw_err err, const char *desc)
{
	out->outcome = OGW_TR_ERROR;
	out->err = err;
	snprintf(out->desc, sizeof(out->desc), "%s", desc);
	return 0;
}

/* Characters (code points) in UTF-8 @s, the unit of JSON Schema maxLength. */
static size_t utf8_len(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/* The first @max characters of @s as a JSON string. */
static json_t *str_trunc(const char *s, size_t max)
{
	size_t i = 0, n = 0;
	while (s[i] && n < max) {
		i++;
		while (((unsigned char)s[i] & 0xC0) == 0x80)
			i++;
		n++;
	}
	return json_stringn(s, i);
}

/* Copies the member @key of @src into @dst when present (under @as if set). */
static int copy_opt(json_t *dst, const json_t *src, const char *key, const char *as)
{
	json_t *v = json_object_get(src, key);
	if (!v)
		return 0;
	return json_object_set_new(dst, as ? as : key, json_deep_copy(v)) ? -ENOMEM : 0;
}

static int set_int(json_t *obj, const char *key, long long v)
{
	return json_object_set_new(obj, key, json_integer(v)) ? -ENOMEM : 0;
}

static const char *get_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* 1.6 DataTransfer.data is a string; 2.0.1's is any JSON. Non-strings are
 * sent JSON-encoded. */
static int data_to16(json_t *dst, const json_t *src)
{
	json_t *d = json_object_get(src, "data");
	char *text;
	int r;

	if (!d || json_is_string(d))
		return copy_opt(dst, src, "data", NULL);
	text = json_dumps(d, JSON_ENCODE_ANY | JSON_COMPACT);
	if (!text)
		return -ENOMEM;
	r = json_object_set_new(dst, "data", json_string(text)) ? -ENOMEM : 0;
	free(text);
	return r;
}

/* 10^m, by repeated multiplication (no libm in this layer). */
static double scale10(double v, long long m)
{
	for (; m > 0 && m <= 30; m--)
		v *= 10;
	for (; m < 0 && m >= -30; m++)
		v /= 10;
	return v;
}

static long long round_ll(double v)
{
	return (long long)(v < 0 ? v - 0.5 : v + 0.5);
}

/* 1.6 SampledValue.value is a decimal string. */
static json_t *num_string(double v)
{
	char buf[40];
	if (v > -9e15 && v < 9e15 && v == (double)(long long)v)
		snprintf(buf, sizeof(buf), "%lld", (long long)v);
	else
		snprintf(buf, sizeof(buf), "%.15g", v);
	return json_string(buf);
}

/* ---- ids and authorization --------------------------------------------- */

/* S16 §3.9 recommends RFID UIDs in hex, so a hex idTag is taken for an
 * ISO14443 card; anything else is a central token (REFERENCE §3). */
static json_t *idtoken_from16(const char *tag)
{
	size_t n = strlen(tag);
	bool hex = n > 0 && n % 2 == 0 && strspn(tag, "0123456789abcdefABCDEF") == n;
	return json_pack("{s:s, s:s}", "idToken", tag, "type", hex ? "ISO14443" : "Central");
}

/* 1.6 IdTagInfo -> 2.0.1 IdTokenInfoType. The statuses of 1.6 all exist in
 * 2.0.1 under the same names. */
static json_t *idtokeninfo_from16(const json_t *info)
{
	const char *parent = get_str(info, "parentIdTag");
	json_t *r = json_pack("{s:s}", "status", get_str(info, "status"));

	if (!r)
		return NULL;
	if (copy_opt(r, info, "expiryDate", "cacheExpiryDateTime") ||
	    (parent && json_object_set_new(r, "groupIdToken",
					   json_pack("{s:s, s:s}", "idToken", parent,
						     "type", "Central")))) {
		json_decref(r);
		return NULL;
	}
	return r;
}

/* {"idTokenInfo": ...} from a 1.6 answer's idTagInfo, or {} without one. */
static json_t *answer_with_info(const json_t *result16)
{
	json_t *info = json_object_get(result16, "idTagInfo");
	return info ? json_pack("{s:o}", "idTokenInfo", idtokeninfo_from16(info)) : json_object();
}

/* ---- meter values ------------------------------------------------------- */

static const char *const measurands16[] = {
	"Energy.Active.Export.Register", "Energy.Active.Import.Register",
	"Energy.Reactive.Export.Register", "Energy.Reactive.Import.Register",
	"Energy.Active.Export.Interval", "Energy.Active.Import.Interval",
	"Energy.Reactive.Export.Interval", "Energy.Reactive.Import.Interval",
	"Power.Active.Export", "Power.Active.Import", "Power.Offered",
	"Power.Reactive.Export", "Power.Reactive.Import", "Power.Factor",
	"Current.Import", "Current.Export", "Current.Offered", "Voltage", "Frequency",
	"Temperature", "SoC", "RPM",
};

static const char *const units16[] = {
	"Wh", "kWh", "varh", "kvarh", "W", "kW", "VA", "kVA", "var", "kvar",
	"A", "V", "K", "Celsius", "Fahrenheit", "Percent",
};

/* Which samples of a 2.0.1 reading go to 1.6. A 1.6 charger sends no
 * Transaction.Begin sample while the transaction runs: meterStart is that
 * reading, and a signed one goes with the StopTransaction's
 * transactionData, before the Transaction.End values (OCA application note
 * "Signed Meter Values in OCPP", 1.6). */
enum mv_pick {
	MV_ALL,          /* every sample */
	MV_NO_BEGIN,     /* all but Transaction.Begin ones */
	MV_SIGNED_BEGIN, /* only the signed data of Transaction.Begin ones */
};

/*
 * Appends the 1.6 form of 2.0.1 SampledValueType @sv to @arr, as @pick
 * says. 1.6 has no multiplier, so it is folded into the value; a unit 1.6
 * cannot name (Hz, ...) is left out. A measurand 1.6 lacks (Energy.*.Net,
 * Energy.Apparent.*) drops the sample. A signedMeterValue adds a second
 * sample with format SignedData whose value is signedMeterData as the meter
 * signed it (an OCMF string carries its own signing method), as a 1.6
 * charger sends it. The plain sample keeps the station's own reading.
 */
static int sampled_to16(const json_t *sv, enum mv_pick pick, json_t *arr)
{
	json_t *uom = json_object_get(sv, "unitOfMeasure");
	json_t *signed_mv = json_object_get(sv, "signedMeterValue");
	const char *measurand = get_str(sv, "measurand");
	const char *unit = get_str(uom, "unit");
	bool begin = str_eq_opt(get_str(sv, "context"), "Transaction.Begin");
	json_t *s16 = NULL, *sig = NULL;
	int r = -ENOMEM;

	if (measurand && !in_list(measurands16, N(measurands16), measurand))
		return 0;
	if ((pick == MV_NO_BEGIN && begin) ||
	    (pick == MV_SIGNED_BEGIN && (!begin || !get_str(signed_mv, "signedMeterData"))))
		return 0;
	s16 = json_pack("{s:o}", "value",
			num_string(scale10(json_number_value(json_object_get(sv, "value")),
					   json_integer_value(json_object_get(uom, "multiplier")))));
	if (!s16)
		goto out;
	if (copy_opt(s16, sv, "context", NULL) || copy_opt(s16, sv, "measurand", NULL) ||
	    copy_opt(s16, sv, "phase", NULL) || copy_opt(s16, sv, "location", NULL))
		goto out;
	if (in_list(units16, N(units16), unit) &&
	    json_object_set_new(s16, "unit", json_string(unit)))
		goto out;
	if (get_str(signed_mv, "signedMeterData")) {
		sig = json_deep_copy(s16);
		if (!sig ||
		    json_object_set(sig, "value", json_object_get(signed_mv, "signedMeterData")) ||
		    json_object_set_new(sig, "format", json_string("SignedData")))
			goto out;
	}
	if ((pick != MV_SIGNED_BEGIN && json_array_append(arr, s16)) ||
	    (sig && json_array_append(arr, sig)))
		goto out;
	r = 0;
out:
	json_decref(s16);
	json_decref(sig);
	return r;
}

/* 2.0.1 [MeterValueType] -> 1.6 [MeterValue] as @pick says, possibly
 * empty; NULL on ENOMEM. */
static json_t *metervalues_to16(const json_t *mvs, enum mv_pick pick)
{
	json_t *res = json_array(), *mv, *sv;
	size_t i, j;

	if (!res)
		return NULL;
	json_array_foreach(mvs, i, mv) {
		json_t *svs = json_array();
		if (!svs)
			goto fail;
		json_array_foreach(json_object_get(mv, "sampledValue"), j, sv) {
			if (sampled_to16(sv, pick, svs)) {
				json_decref(svs);
				goto fail;
			}
		}
		if (json_array_size(svs) &&
		    json_array_append_new(res, json_pack("{s:O, s:o}", "timestamp",
							 json_object_get(mv, "timestamp"),
							 "sampledValue", svs)))
			goto fail;
		if (!json_array_size(svs))
			json_decref(svs);
	}
	return res;
fail:
	json_decref(res);
	return NULL;
}

/* The last Energy.Active.Import.Register reading (the default measurand) of
 * the whole station side, in Wh. false when there is none. */
static bool energy_wh(const json_t *mvs, long long *ret)
{
	json_t *mv, *sv;
	size_t i, j;
	bool found = false;

	json_array_foreach(mvs, i, mv) {
		json_array_foreach(json_object_get(mv, "sampledValue"), j, sv) {
			const char *m = get_str(sv, "measurand");
			json_t *uom = json_object_get(sv, "unitOfMeasure");
			const char *unit = get_str(uom, "unit");
			double v;

			if ((m && strcmp(m, "Energy.Active.Import.Register")) ||
			    json_object_get(sv, "phase"))
				continue;
			if (unit && strcmp(unit, "Wh") && strcmp(unit, "kWh"))
				continue;
			v = scale10(json_number_value(json_object_get(sv, "value")),
				    json_integer_value(json_object_get(uom, "multiplier")));
			*ret = round_ll(unit && !strcmp(unit, "kWh") ? v * 1000 : v);
			found = true;
		}
	}
	return found;
}

/* ---- status mapping ----------------------------------------------------- */

/*
 * chargingState inside a 1.6 transaction (StartTransaction sent, no
 * StopTransaction yet) -> 1.6 ChargePointStatus, after REFERENCE §3
 * "2.0.1 -> 1.6": Preparing is never sent there. EVConnected (plugged, no
 * energy offered) is SuspendedEVSE once the EV has charged, before that
 * nothing (te_messages()); Idle (the cable left while the
 * transaction runs on, StopTxOnEVSideDisconnect false) is SuspendedEV, the
 * status a 1.6 charger keeps in that case.
 */
static const struct str_pair charging_state16[] = {
	{ "Charging", "Charging" },
	{ "EVConnected", "SuspendedEVSE" },
	{ "Idle", "SuspendedEV" },
	{ "SuspendedEV", "SuspendedEV" },
	{ "SuspendedEVSE", "SuspendedEVSE" },
};

/* 2.0.1 stoppedReason -> 1.6 StopTransaction.reason; the rest is Other.
 * ImmediateReset is HardReset unless the 1.6 Reset that caused it was Soft
 * (stop_reason_of()). */
static const struct str_pair stop_reason16[] = {
	{ "DeAuthorized", "DeAuthorized" },
	{ "EVDisconnected", "EVDisconnected" },
	{ "EmergencyStop", "EmergencyStop" },
	{ "ImmediateReset", "HardReset" },
	{ "Local", "Local" },
	{ "Other", "Other" },
	{ "PowerLoss", "PowerLoss" },
	{ "Reboot", "Reboot" },
	{ "Remote", "Remote" },
};

/* ---- durable state ------------------------------------------------------
 * "tx:<2.x id>"  {"evse", "idTag", "meterStart" and "timestamp" (set once
 *                the 1.6 transaction starts), "authTs" (when the idTag became
 *                known), "ts0" and "wh0" (first event time and reading), "begin16" (the
 *                signed Transaction.Begin samples, 1.6 [MeterValue]),
 *                "reservationId", "cs" (chargingState), "cs16" (last
 *                1.6 status sent inside the transaction), "id16", "charged"
 *                (energy flowed), "remote" (remoteStartId without a known
 *                idTag), "finish" (Finishing follows the stop),
 *                "invalid" (idToken unusable in 1.6),
 *                "queue": [{"seq", "action", "payload"}] (1.6 calls
 *                held until id16 is known)}
 *                "conn" and "c16": its connector, 2.x and 1.6 numbering
 * "tx16:<n>"     {"id": "<2.x id>"}
 * "connectors"   {"list": [[evseId, connectorId], ...]}: 1.6 connector n
 *                is entry n-1 (connector_map.h)
 * "evse:<n>"     {"tx": "<2.x id>", "c16"} while a transaction runs on EVSE
 *                n (on 1.6 connector c16), then {"finishing": true, "c16"}
 *                until the station reports that connector other than
 *                Occupied
 * "meter:<n>"    {"wh"}: the last Energy.Active.Import.Register of EVSE n
 * "conn:<c16>"   {"status": last 2.x status, "sent": last 1.6 status} of
 *                1.6 connector c16
 * "fault:<n>"    {"<component>/<variable>/<connectorId>": {"errorCode",
 *                "info", "vendorErrorCode"}} for the problems raised on
 *                EVSE n (connectorId 0: on the whole EVSE)
 * "held"         {"evse", "conn", "status"}: a Faulted waiting for its
 *                problem (held_flush)
 * "remote"       {"list": [{"id": remoteStartId, "idTag"}]}, the last
 *                REMOTE_KEEP remote starts
 * "ended"        {"list": ["<2.x id>"]}, the last ENDED_KEEP transactions
 *                stopped, so a repeated Ended stops nothing twice
 * "reset"        {"type": "Soft"} from a 1.6 Soft Reset to the next boot
 * "log:<req>"    {"via": "GetLog" | "GetDiagnostics"}
 * "fw:<req>"     {"signed": true} for SignedUpdateFirmware requests
 * "report"       {"requestId", "configurationKey": [1.6 KeyValue]} while a
 *                GetConfiguration without keys collects the station's
 *                NotifyReport parts (one collection per charger)
 */

#define REMOTE_KEEP 8
#define ENDED_KEEP 32

static json_t *state_get_tx(struct ogw_tr_env *env, const char *txid)
{
	char key[KEY_MAX];
	snprintf(key, sizeof(key), "tx:%s", txid);
	return ogw_tr_state_get(env, key);
}

static json_t *state_get_num(struct ogw_tr_env *env, const char *prefix, long long n)
{
	char key[KEY_MAX];
	snprintf(key, sizeof(key), "%s:%lld", prefix, n);
	return ogw_tr_state_get(env, key);
}

/* Takes @v. */
static int state_put_num(struct ogw_tr_env *env, const char *prefix, long long n, json_t *v)
{
	char key[KEY_MAX];
	if (!v)
		return -ENOMEM;
	snprintf(key, sizeof(key), "%s:%lld", prefix, n);
	return ogw_tr_state_put(env, key, v);
}

static int state_del_num(struct ogw_tr_env *env, const char *prefix, long long n)
{
	char key[KEY_MAX];
	snprintf(key, sizeof(key), "%s:%lld", prefix, n);
	return ogw_tr_state_del(env, key);
}

/* Takes @tx. */
static int state_put_tx(struct ogw_tr_env *env, const char *txid, json_t *tx)
{
	char key[KEY_MAX];
	snprintf(key, sizeof(key), "tx:%s", txid);
	return ogw_tr_state_put(env, key, tx);
}

/* The 2.x id of 1.6 transaction @id16 (a new reference), or NULL. */
static json_t *txid_of16(struct ogw_tr_env *env, long long id16)
{
	json_t *m = state_get_num(env, "tx16", id16);
	json_t *id = json_incref(json_object_get(m, "id"));
	json_decref(m);
	return json_is_string(id) ? id : (json_decref(id), NULL);
}

/* Appends @item (taken) to the list of state object @name, keeping the
 * last @keep items. */
static int state_list_push(struct ogw_tr_env *env, const char *name, json_t *item, size_t keep)
{
	json_t *st = ogw_tr_state_get(env, name), *list;

	if (!st)
		st = json_object();
	list = json_object_get(st, "list");
	if (st && !json_is_array(list) && json_object_set_new(st, "list", (list = json_array())))
		list = NULL;
	if (!item || !list || json_array_append_new(list, item)) {
		json_decref(st);
		return -ENOMEM;
	}
	while (json_array_size(list) > keep)
		json_array_remove(list, 0);
	return ogw_tr_state_put(env, name, st);
}

/* Whether transaction @txid was stopped already (its Ended handled). */
static bool tx_ended(struct ogw_tr_env *env, const char *txid)
{
	json_t *st = ogw_tr_state_get(env, "ended"), *v;
	bool found = false;
	size_t i;

	json_array_foreach(json_object_get(st, "list"), i, v)
		found = found || !strcmp(json_string_value(v), txid);
	json_decref(st);
	return found;
}

/* The idTag a 1.6 RemoteStartTransaction gave with @remote_id (a new
 * reference), or NULL. */
static json_t *remote_idtag(struct ogw_tr_env *env, long long remote_id)
{
	json_t *st = ogw_tr_state_get(env, "remote"), *v, *tag = NULL;
	size_t i;

	json_array_foreach(json_object_get(st, "list"), i, v)
		if (json_integer_value(json_object_get(v, "id")) == remote_id)
			tag = json_object_get(v, "idTag");
	tag = json_incref(tag);
	json_decref(st);
	return tag;
}

/* The last energy register known for EVSE @evse, in Wh. */
static bool meter_get(struct ogw_tr_env *env, long long evse, long long *ret)
{
	json_t *m = state_get_num(env, "meter", evse);
	json_t *wh = json_object_get(m, "wh");
	bool found = json_is_integer(wh);

	if (found)
		*ret = json_integer_value(wh);
	json_decref(m);
	return found;
}

/* Keeps the last register reading in @mvs (2.0.1 MeterValueType list) as
 * EVSE @evse's, the meterStart/meterStop of later transactions there. */
static int meter_note(struct ogw_tr_env *env, long long evse, const json_t *mvs)
{
	long long wh;

	if (!energy_wh(mvs, &wh))
		return 0;
	return state_put_num(env, "meter", evse, json_pack("{s:I}", "wh", (json_int_t)wh));
}

/* ---- connector numbering ------------------------------------------------
 * The station's connectors as the central system numbers them: the map of
 * connector_map.h in the state "connectors", learned from what the station
 * names (its statuses, transactions, problems, reports), never from what
 * the central system names. */

/* The map (a new reference), empty when nothing is known; NULL on ENOMEM. */
static json_t *cmap_get(struct ogw_tr_env *env)
{
	json_t *st = ogw_tr_state_get(env, "connectors");
	json_t *map = json_incref(json_object_get(st, "list"));

	json_decref(st);
	if (json_is_array(map))
		return map;
	json_decref(map);
	return json_array();
}

static int cmap_put(struct ogw_tr_env *env, json_t *map)
{
	json_t *st = json_pack("{s:O}", "list", map);
	return st ? ogw_tr_state_put(env, "connectors", st) : -ENOMEM;
}

/* The 1.6 connectorId of the station's connector (@evse, @conn), learned
 * when new; a negative errno (-ERANGE: the map is full). */
static long long conn16_learn(struct ogw_tr_env *env, long long evse, long long conn)
{
	json_t *map = cmap_get(env);
	bool changed = false;
	long long id = map ? ogw_cmap_learn(map, evse, conn, &changed) : -ENOMEM;
	int r;

	if (id >= 0 && changed && (r = cmap_put(env, map)))
		id = r;
	json_decref(map);
	return id;
}

/* The station's connector (@ret_evse, @ret_conn) of 1.6 connector @id16. */
static void conn_of16(struct ogw_tr_env *env, long long id16, long long *ret_evse,
		      long long *ret_conn)
{
	json_t *map = cmap_get(env);

	ogw_cmap_from16(map, id16, ret_evse, ret_conn);
	json_decref(map);
}

/* The "c16" of @obj (a transaction, an "evse:<n>" record) on EVSE @evse;
 * state written before connectors were numbered has none and meant
 * connector 1 of the EVSE. */
static long long c16_of(struct ogw_tr_env *env, const json_t *obj, long long evse)
{
	json_t *c16 = json_object_get(obj, "c16"), *map;
	long long id;

	if (json_is_integer(c16))
		return json_integer_value(c16);
	map = cmap_get(env);
	id = ogw_cmap_to16(map, evse, 1);
	json_decref(map);
	return id > 0 ? id : 0;
}

static long long tx_c16(struct ogw_tr_env *env, const json_t *tx)
{
	return c16_of(env, tx, json_integer_value(json_object_get(tx, "evse")));
}

/* The station's connectorId of transaction @tx. */
static long long tx_conn(const json_t *tx)
{
	json_t *c = json_object_get(tx, "conn");
	return json_is_integer(c) ? json_integer_value(c) : 1;
}

/* EVSE @evse's record "evse:<n>" (a new reference) when it concerns 1.6
 * connector @id16 (a transaction or a stop there), else NULL. */
static json_t *evse_rec_on(struct ogw_tr_env *env, long long evse, long long id16)
{
	json_t *e = state_get_num(env, "evse", evse);

	if (e && c16_of(env, e, evse) != id16) {
		json_decref(e);
		e = NULL;
	}
	return e;
}

/* Drops a finished transaction's state and remembers it stopped. Its
 * connector stays Finishing when the stop left the cable plugged
 * ("finish"). */
static int tx_forget(struct ogw_tr_env *env, const char *txid, const json_t *tx)
{
	json_t *id16 = json_object_get(tx, "id16");
	long long evse = json_integer_value(json_object_get(tx, "evse"));
	json_t *e = state_get_num(env, "evse", evse);
	char key[KEY_MAX];
	int r = 0;

	if (e && !strcmp(get_str(e, "tx") ? get_str(e, "tx") : "", txid))
		r = json_is_true(json_object_get(tx, "finish"))
			    ? state_put_num(env, "evse", evse,
					    json_pack("{s:b, s:I}", "finishing", 1, "c16",
						      (json_int_t)tx_c16(env, tx)))
			    : state_del_num(env, "evse", evse);
	json_decref(e);
	if (!r && id16)
		r = state_del_num(env, "tx16", json_integer_value(id16));
	if (!r)
		r = state_list_push(env, "ended", json_string(txid), ENDED_KEEP);
	snprintf(key, sizeof(key), "tx:%s", txid);
	return r ? r : ogw_tr_state_del(env, key);
}

/* ======================================================================== */
/* UP: 2.0.1 charging station -> 1.6 central system                         */
/* ======================================================================== */

/* The emitted calls whose answers carry nothing for the charger (messages
 * it was already answered for); a lost answer is not retried here. */
static void ignore_answer(struct ogw_tr_env *env, void *user, const json_t *result)
{
	(void)env;
	(void)user;
	(void)result;
}

/* Answers for 2.0.1-only notifications the gateway takes as the CSMS. */
static int up_local_empty(struct ogw_tr_env *env, const json_t *payload,
			  struct ogw_tr_out *out)
{
	(void)env;
	(void)payload;
	return ogw_tr_out_answer(out, json_object());
}

/* K15: Rejected tells the EV no schedule is coming from a CSMS. */
static int up_ev_charging_needs(struct ogw_tr_env *env, const json_t *payload,
				struct ogw_tr_out *out)
{
	(void)env;
	(void)payload;
	return ogw_tr_out_answer(out, json_pack("{s:s}", "status", "Rejected"));
}

static int up_ev_charging_schedule(struct ogw_tr_env *env, const json_t *payload,
				   struct ogw_tr_out *out)
{
	(void)env;
	(void)payload;
	return ogw_tr_out_answer(out, json_pack("{s:s}", "status", "Accepted"));
}

/* ---- Plug & Charge ------------------------------------------------------ */

/* ISO 15118 messages travel in 1.6 as DataTransfer with the PnC vendor id and
 * the 2.0.1 action as messageId, data being the 2.0.1 payload as JSON text
 * (REFERENCE §2, LIB charge_point_impl.cpp). */
static int pnc_forward(const char *action, const json_t *payload, struct ogw_tr_out *out)
{
	char *text = json_dumps(payload, JSON_COMPACT);
	json_t *p;

	if (!text)
		return -ENOMEM;
	p = json_pack("{s:s, s:s, s:s}", "vendorId", PNC_VENDOR, "messageId", action, "data", text);
	free(text);
	return out_forward(out, "DataTransfer", p, json_string(action));
}

/* The 2.0.1 answer inside a PnC DataTransfer.conf (it must hold @field),
 * or @fallback (taken). */
static json_t *pnc_answer_with(const json_t *result, const char *field, json_t *fallback)
{
	const char *data = get_str(result, "data");
	json_t *v;

	if (strcmp(get_str(result, "status"), "Accepted") || !data)
		return fallback;
	v = json_loads(data, 0, NULL);
	if (!json_is_object(v) || !json_object_get(v, field)) {
		json_decref(v);
		return fallback;
	}
	json_decref(fallback);
	return v;
}

static json_t *pnc_answer(const json_t *result, json_t *fallback)
{
	return pnc_answer_with(result, "status", fallback);
}

/* ---- Authorize ---------------------------------------------------------- */

/* A Plug & Charge authorization (iso15118CertificateHashData or a
 * certificate to check) goes whole in the PnC DataTransfer "Authorize";
 * a plain one is 1.6 Authorize. */
static int up_authorize(struct ogw_tr_env *env, const json_t *payload,
			struct ogw_tr_out *out)
{
	const char *tok = get_str(json_object_get(payload, "idToken"), "idToken");
	(void)env;

	if (json_object_get(payload, "iso15118CertificateHashData") ||
	    json_object_get(payload, "certificate"))
		return pnc_forward("Authorize", payload, out);
	/* A 1.6 central system cannot know a token it cannot be sent. */
	if (utf8_len(tok) > IDTAG16_MAX)
		return ogw_tr_out_answer(out, json_pack("{s:{s:s}}", "idTokenInfo", "status", "Invalid"));
	return out_forward(out, "Authorize", json_pack("{s:s}", "idTag", tok), NULL);
}

static int res_authorize(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
			 json_t **ret)
{
	(void)env;
	/* A central system without Plug & Charge cannot vouch for the
	 * contract: Unknown, not Accepted. */
	*ret = memo ? pnc_answer_with(result, "idTokenInfo",
				      json_pack("{s:{s:s}}", "idTokenInfo", "status", "Unknown"))
		    : answer_with_info(result);
	return *ret ? 0 : -ENOMEM;
}

/* ---- BootNotification --------------------------------------------------- */

/* A rebooted 1.6 charger forgets that a stop left its cable plugged: the
 * EVSEs Finishing until the station reports them otherwise are Preparing
 * again (EVSE ids run from 1 without gaps, 2.0.1 B01). */
static int finishing_forget(struct ogw_tr_env *env)
{
	json_t *map = cmap_get(env);
	/* every EVSE up to the highest known has a connector in the map */
	long long n_known = (long long)ogw_cmap_count(map);
	int r = 0;

	json_decref(map);
	for (long long n = 1; !r; n++) {
		json_t *e = state_get_num(env, "evse", n);
		bool known = e || n <= n_known;

		if (json_is_true(json_object_get(e, "finishing")))
			r = state_del_num(env, "evse", n);
		json_decref(e);
		if (!known)
			break;
	}
	return r;
}

static int up_boot(struct ogw_tr_env *env, const json_t *payload, struct ogw_tr_out *out)
{
	json_t *cs = json_object_get(payload, "chargingStation");
	json_t *modem = json_object_get(cs, "modem");
	json_t *req;
	int r = ogw_tr_state_del(env, "reset");

	if (r || (r = finishing_forget(env)))
		return r;
	/* vendorName is string[50] in 2.0.1, CiString20 in 1.6: truncated rather
	 * than refused, since refusing would keep the station from booting and
	 * the vendor name carries no protocol meaning. */
	req = json_pack("{s:o, s:O}", "chargePointVendor", str_trunc(get_str(cs, "vendorName"),
								     VENDOR16_MAX),
			"chargePointModel", json_object_get(cs, "model"));
	if (!req || copy_opt(req, cs, "serialNumber", "chargePointSerialNumber") ||
	    copy_opt(req, cs, "firmwareVersion", NULL) || copy_opt(req, modem, "iccid", NULL) ||
	    copy_opt(req, modem, "imsi", NULL)) {
		json_decref(req);
		return -ENOMEM;
	}
	return out_forward(out, "BootNotification", req, NULL);
}

/* ---- Heartbeat ---------------------------------------------------------- */

static int held_flush(struct ogw_tr_env *env, long long evse, long long conn);

static int up_heartbeat(struct ogw_tr_env *env, const json_t *payload, struct ogw_tr_out *out)
{
	int r = held_flush(env, -1, 0);
	(void)payload;
	return r ? r : out_forward(out, "Heartbeat", json_object(), NULL);
}

/* ---- StatusNotification and faults ---------------------------------------- */

/* Whether the 1.6 transaction of @tx has started (StartTransaction sent or
 * on its way): from then on its status follows the charging state. */
static bool tx_in16(const json_t *tx)
{
	return json_object_get(tx, "meterStart") != NULL;
}

/* The 1.6 status of 1.6 connector @id16 (on EVSE @evse) when 2.0.1 says
 * Occupied (REFERENCE §3): inside a 1.6 transaction on it the charging
 * state's, after one Finishing until the station reports it otherwise,
 * else Preparing (a cable plugged into a connector of an EVSE whose
 * transaction runs on another is waiting too). */
static const char *occupied_status16(struct ogw_tr_env *env, long long evse, long long id16)
{
	json_t *e = evse_rec_on(env, evse, id16), *tx = NULL;
	const char *st = json_is_true(json_object_get(e, "finishing")) ? "Finishing" : "Preparing";

	if (get_str(e, "tx"))
		tx = state_get_tx(env, get_str(e, "tx"));
	if (tx_in16(tx))
		st = map_str(charging_state16, N(charging_state16), get_str(tx, "cs"), "Charging");
	json_decref(tx);
	json_decref(e);
	return st;
}

/* Standardized components (2.0.1 Part 2 Appendix 3) whose problem has a
 * 1.6 ChargePointErrorCode; then variables; anything else is OtherError. */
static const struct str_pair fault_component16[] = {
	{ "CPPWMController", "EVCommunicationError" },
	{ "ConnectedEV", "EVCommunicationError" },
	{ "ConnectorPlugRetentionLock", "ConnectorLockFailure" },
	{ "ControlMetering", "PowerMeterFailure" },
	{ "Controller", "InternalError" },
	{ "DataLink", "WeakSignal" },
	{ "EVRetentionLock", "ConnectorLockFailure" },
	{ "ExternalTemperatureSensor", "HighTemperature" },
	{ "FiscalMetering", "PowerMeterFailure" },
	{ "GroundIsolationProtection", "GroundFailure" },
	{ "OverCurrentProtection", "OverCurrentFailure" },
	{ "PowerContactor", "PowerSwitchFailure" },
	{ "RCD", "GroundFailure" },
	{ "TemperatureSensor", "HighTemperature" },
	{ "TokenReader", "ReaderFailure" },
};

static const struct str_pair fault_variable16[] = {
	{ "OverCurrent", "OverCurrentFailure" },
	{ "OverVoltage", "OverVoltage" },
	{ "Temperature", "HighTemperature" },
	{ "UnderVoltage", "UnderVoltage" },
};

/* 1.6 ChargePointErrorCodes a station may name as techCode (the 1.6 -> 2.0.1
 * direction puts the 1.6 errorCode there): the station's own word wins. */
static const char *const error_codes16[] = {
	"ConnectorLockFailure", "EVCommunicationError", "GroundFailure", "HighTemperature",
	"InternalError", "LocalListConflict", "OverCurrentFailure", "OverVoltage",
	"PowerMeterFailure", "PowerSwitchFailure", "ReaderFailure", "ResetFailure",
	"UnderVoltage", "WeakSignal",
};

/* Boolean variables whose true value is a fault of their component. */
static const char *const fault_flags[] = { "Operated", "Problem", "Tripped" };

/* The connector a problem's key ("<component>/<variable>/<connectorId>")
 * names, 0 for the whole EVSE. */
static long long fault_conn(const char *key)
{
	const char *slash = strrchr(key, '/');
	return slash ? strtoll(slash + 1, NULL, 10) : 0;
}

/* The first problem still raised on connector @conn of EVSE @evse, or on
 * the EVSE as a whole (a new reference), or NULL. @conn 0: any. */
static json_t *fault_active(struct ogw_tr_env *env, long long evse, long long conn)
{
	json_t *f = state_get_num(env, "fault", evse), *v, *res = NULL;
	const char *k;

	json_object_foreach(f, k, v) {
		long long c = fault_conn(k);
		if (!c || !conn || c == conn) {
			res = json_incref(v);
			break;
		}
	}
	json_decref(f);
	return res;
}

/* The 1.6 status of the station's connector (@evse, @conn), 1.6
 * connector @id16, whose last 2.0.1 status is @st (NULL: none reported
 * yet); *ret_fault gets the problem that makes it Faulted. */
static const char *conn_status16(struct ogw_tr_env *env, long long evse, long long conn,
				 long long id16, const char *st, json_t **ret_fault)
{
	if (!st) {
		/* No report from the station yet: a transaction (or the stop
		 * of one) on it says it is in use. */
		json_t *e = evse_rec_on(env, evse, id16);
		st = e ? "Occupied" : "Available";
		json_decref(e);
	}
	*ret_fault = fault_active(env, evse, conn);
	if (*ret_fault)
		return "Faulted";
	return strcmp(st, "Occupied") ? st : occupied_status16(env, evse, id16);
}

/* A 1.6 StatusNotification; @fault (borrowed) gives errorCode, info and
 * vendorErrorCode when it is set. */
static json_t *status16(long long connector, const char *status, const json_t *fault,
			const json_t *ts)
{
	const char *code = fault ? get_str(fault, "errorCode")
				 : !strcmp(status, "Faulted") ? "OtherError" : "NoError";
	json_t *st = json_pack("{s:I, s:s, s:s}", "connectorId", (json_int_t)connector,
			       "errorCode", code, "status", status);

	if (st && ((ts && json_object_set(st, "timestamp", (json_t *)ts)) ||
		   copy_opt(st, fault, "info", NULL) || copy_opt(st, fault, "vendorErrorCode", NULL))) {
		json_decref(st);
		return NULL;
	}
	return st;
}

/*
 * A station's Faulted with no problem known yet is held ("held": {"evse",
 * "conn", "status": the 1.6 StatusNotification}): 2.0.1 names the problem
 * in the NotifyEvent that follows it, and a 1.6 charger raises a fault
 * once, with its code. That event drops the held status for its own; any
 * other message of the station (a Heartbeat at the latest) sends it first,
 * so a fault the station never explains still reaches the central system.
 * @evse >= 0: a problem raised on connector @conn of that EVSE (0: on the
 * EVSE), which replaces the held status of that connector.
 */
static int held_flush(struct ogw_tr_env *env, long long evse, long long conn)
{
	json_t *held = ogw_tr_state_get(env, "held");
	long long hconn = json_integer_value(json_object_get(held, "conn"));
	int r = 0;

	if (!held)
		return 0;
	if (json_integer_value(json_object_get(held, "evse")) != evse ||
	    (conn && hconn && conn != hconn))
		r = ogw_tr_emit(env, OGW_TR_UP, "StatusNotification",
				json_incref(json_object_get(held, "status")), ignore_answer, NULL);
	if (!r)
		r = ogw_tr_state_del(env, "held");
	json_decref(held);
	return r;
}

/*
 * Each connector of the station is a 1.6 connector of its own, numbered as
 * the map says (docs/TRANSLATION.md "Connector numbering"); EVSE 0 is
 * connector 0. A repeated Faulted is answered here: it brings no new
 * problem (those come as NotifyEvent).
 */
static int up_status(struct ogw_tr_env *env, const json_t *payload, struct ogw_tr_out *out)
{
	const char *st = get_str(payload, "connectorStatus"), *st16;
	long long evse = json_integer_value(json_object_get(payload, "evseId"));
	long long conn = json_integer_value(json_object_get(payload, "connectorId"));
	json_t *cs = NULL, *fault = NULL, *e, *sn;
	long long id16;
	int r;

	if ((r = held_flush(env, -1, 0)))
		goto out;
	if ((id16 = conn16_learn(env, evse, conn)) < 0) {
		if (id16 != -ERANGE)
			return (int)id16;
		ogw_tr_lost(env, "StatusNotification", payload,
			    "more connectors than a 1.6 numbering of this station holds");
		return ogw_tr_out_answer(out, json_object());
	}
	r = -ENOMEM;
	cs = state_get_num(env, "conn", id16);
	if (!cs)
		cs = json_object();
	if (!cs || json_object_set_new(cs, "status", json_string(st)))
		goto out;
	st16 = conn_status16(env, evse, conn, id16, st, &fault);
	if (strcmp(st16, "Finishing") && strcmp(st16, "Faulted")) {
		/* The connector left the state a stop put it in. */
		e = evse_rec_on(env, evse, id16);
		if (json_is_true(json_object_get(e, "finishing")))
			state_del_num(env, "evse", evse);
		json_decref(e);
	}
	if (!strcmp(st16, "Faulted") && str_eq_opt(get_str(cs, "sent"), st16)) {
		r = state_put_num(env, "conn", id16, json_incref(cs));
		if (!r)
			r = ogw_tr_out_answer(out, json_object());
		goto out;
	}
	if (json_object_set_new(cs, "sent", json_string(st16)) ||
	    (r = state_put_num(env, "conn", id16, json_incref(cs))))
		goto out;
	sn = status16(id16, st16, fault, json_object_get(payload, "timestamp"));
	if (sn && !fault && !strcmp(st16, "Faulted")) {
		r = ogw_tr_state_put(env, "held", json_pack("{s:I, s:I, s:o}", "evse",
							    (json_int_t)evse, "conn",
							    (json_int_t)conn, "status", sn));
		if (!r)
			r = ogw_tr_out_answer(out, json_object());
		goto out;
	}
	r = out_forward(out, "StatusNotification", sn, NULL);
out:
	json_decref(fault);
	json_decref(cs);
	return r;
}

/* ---- MeterValues -------------------------------------------------------- */

/* The 1.6 connector EVSE @evse's readings are given on: the one its
 * transaction (or the stop of one) is on, else its first connector. A
 * negative errno. */
static long long evse_conn16(struct ogw_tr_env *env, long long evse)
{
	json_t *e = evse > 0 ? state_get_num(env, "evse", evse) : NULL;
	long long id16 = e ? c16_of(env, e, evse) : conn16_learn(env, evse, 1);

	json_decref(e);
	return id16;
}

static int up_metervalues(struct ogw_tr_env *env, const json_t *payload,
			  struct ogw_tr_out *out)
{
	json_t *mvs = json_object_get(payload, "meterValue");
	long long evse = json_integer_value(json_object_get(payload, "evseId")), id16;
	json_t *mv;
	int r = held_flush(env, -1, 0);

	if (r)
		return r;
	if ((id16 = evse_conn16(env, evse)) < 0) {
		if (id16 != -ERANGE)
			return (int)id16;
		ogw_tr_lost(env, "MeterValues", payload,
			    "more connectors than a 1.6 numbering of this station holds");
		return ogw_tr_out_answer(out, json_object());
	}
	if (!(mv = metervalues_to16(mvs, MV_ALL)))
		return -ENOMEM;
	/* EVSE 0 is the station's main meter, no connector's register. */
	if (evse > 0 && (r = meter_note(env, evse, mvs))) {
		json_decref(mv);
		return r;
	}
	return out_forward(out, "MeterValues",
			   json_pack("{s:I, s:o}", "connectorId", (json_int_t)id16, "meterValue", mv),
			   NULL);
}

/* ---- TransactionEvent ----------------------------------------------------
 * Started -> StartTransaction, Updated -> MeterValues / StatusNotification,
 * Ended -> StopTransaction. 1.6 needs an idTag and a register reading to
 * start a transaction, and the central system's integer id on every later
 * message. The 1.6 transaction starts at the event that makes both known
 * (REFERENCE §3, docs/TRANSLATION.md "2.0.1 station, 1.6 central system"):
 * the idTag is the event's idToken, or the idTag of the 1.6 remote start
 * named by remoteStartId; meterStart the register then (the event's, else
 * the last the EVSE reported). Until then events are answered at once and
 * their readings go out as the connector's. The event that starts it is
 * held (DEFER) until StartTransaction.conf: then the id is stored, the queue
 * is sent in order and the event answered with idTokenInfo. Emitted calls
 * and forwarded ones share the north queue, so 1.6 sees them in event order.
 */

/* The 1.6 calls a transaction's queue can hold, as static strings for
 * ogw_tr_emit() and out->action. */
static const char *const queued16[] = { "MeterValues", "StatusNotification", "StopTransaction" };

static const char *queued_action(const json_t *item)
{
	const char *a = get_str(item, "action");
	for (size_t i = 0; a && i < N(queued16); i++)
		if (!strcmp(queued16[i], a))
			return queued16[i];
	return NULL;
}

struct tx_start {                   /* an emitted StartTransaction */
	struct ogw_tr_pending *pending; /* the held TransactionEvent, or NULL */
	long long seq;                  /* its seqNo */
	bool want_info;                 /* it carried an idToken */
	char txid[40];
};

/* Drops the queued calls of event @seq (an event being retried or failed).
 * A dropped StatusNotification also drops the 1.6 status it recorded, so
 * the retry reports it again. */
static int queue_drop_seq(json_t *tx, long long seq)
{
	json_t *q = json_object_get(tx, "queue");
	for (size_t i = json_array_size(q); i-- > 0;) {
		json_t *item = json_array_get(q, i);
		if (json_integer_value(json_object_get(item, "seq")) != seq)
			continue;
		if (!strcmp(get_str(item, "action"), "StatusNotification"))
			json_object_del(tx, "cs16");
		if (json_array_remove(q, i))
			return -ENOMEM;
	}
	return 0;
}

/* Emits the queue items @items (their payloads with 1.6 transaction id
 * @id16 where they take one). Sets *ret_ended when they held the
 * StopTransaction (may be NULL). */
static int items_emit(struct ogw_tr_env *env, const json_t *items, long long id16,
		      bool *ret_ended)
{
	json_t *item;
	size_t i;
	int r;

	json_array_foreach(items, i, item) {
		const char *action = queued_action(item);
		json_t *p = json_deep_copy(json_object_get(item, "payload"));

		if (!p || !action) {
			json_decref(p);
			return p ? -EINVAL : -ENOMEM;
		}
		if (strcmp(action, "StatusNotification") && set_int(p, "transactionId", id16)) {
			json_decref(p);
			return -ENOMEM;
		}
		if (!strcmp(action, "StopTransaction") && ret_ended)
			*ret_ended = true;
		r = ogw_tr_emit(env, OGW_TR_UP, action, p, ignore_answer, NULL);
		if (r)
			return r;
	}
	return 0;
}

/* Sends every queued call of @tx with its 1.6 transaction id @id16. Sets
 * *ret_ended when the queue held the StopTransaction. */
static int queue_flush(struct ogw_tr_env *env, json_t *tx, long long id16, bool *ret_ended)
{
	int r;

	*ret_ended = false;
	r = items_emit(env, json_object_get(tx, "queue"), id16, ret_ended);
	if (!r)
		json_object_del(tx, "queue");
	return r;
}

static void start_done(struct ogw_tr_env *env, void *user, const json_t *result)
{
	struct tx_start *ctx = user;
	json_t *tx = state_get_tx(env, ctx->txid), *ans = NULL;
	json_t *id = json_object_get(result, "transactionId");
	bool ended = false;

	if (!tx) {
		/* Forgotten meanwhile. */
		ans = json_object();
		goto out;
	}
	if (!json_is_integer(id)) {
		/* No id: drop what this event queued; the station retries it (its
		 * TransactionEvent queue) and the next attempt restarts. */
		queue_drop_seq(tx, ctx->seq);
		state_put_tx(env, ctx->txid, tx);
		goto out;
	}
	if (set_int(tx, "id16", json_integer_value(id)) ||
	    state_put_num(env, "tx16", json_integer_value(id),
			  json_pack("{s:s}", "id", ctx->txid)) ||
	    queue_flush(env, tx, json_integer_value(id), &ended)) {
		json_decref(tx);
		goto out;
	}
	if (ended) {
		tx_forget(env, ctx->txid, tx);
		json_decref(tx);
	} else {
		state_put_tx(env, ctx->txid, tx);
	}
	ans = ctx->want_info ? answer_with_info(result) : json_object();
out:
	if (ctx->pending)
		ogw_tr_answer(env, ctx->pending, ans, OGW_ERR_GENERIC,
			      "the central system did not confirm StartTransaction");
	else
		json_decref(ans);
	free(ctx);
}

/* Appends the 1.6 call @action/@payload (taken) to @list as a queue item. */
static int msg_add(json_t *list, long long seq, const char *action, json_t *payload)
{
	if (!payload)
		return -ENOMEM;
	return json_array_append_new(list, json_pack("{s:I, s:s, s:o}", "seq", (json_int_t)seq,
						     "action", action, "payload", payload))
		       ? -ENOMEM : 0;
}

/* The 1.6 StopTransaction.reason for 2.0.1 stoppedReason @reason. */
static const char *stop_reason_of(struct ogw_tr_env *env, const char *reason)
{
	json_t *rs;
	bool soft;

	if (!reason)
		return "Local"; /* E01: absent means Local in both versions */
	if (strcmp(reason, "ImmediateReset"))
		return map_str(stop_reason16, N(stop_reason16), reason, "Other");
	rs = ogw_tr_state_get(env, "reset");
	soft = str_eq_opt(get_str(rs, "type"), "Soft");
	json_decref(rs);
	return soft ? "SoftReset" : "HardReset";
}

/*
 * Updates @tx from event @ev and appends the 1.6 calls it becomes inside
 * the 1.6 transaction to @msgs (without transactionId): a StatusNotification
 * when the 1.6 status changes, MeterValues, and at Ended the
 * StopTransaction (its transactionData led by the signed start reading),
 * then Finishing when the cable stays plugged.
 */
static int te_messages(struct ogw_tr_env *env, const json_t *ev, json_t *tx, json_t *msgs)
{
	const char *type = get_str(ev, "eventType");
	json_t *ts = json_object_get(ev, "timestamp");
	json_t *info = json_object_get(ev, "transactionInfo");
	const char *st16;
	const char *tok = get_str(json_object_get(ev, "idToken"), "idToken");
	const char *reason = get_str(info, "stoppedReason");
	long long seq = json_integer_value(json_object_get(ev, "seqNo"));
	long long evse = json_integer_value(json_object_get(tx, "evse")), wh;
	long long id16 = tx_c16(env, tx);
	json_t *mv = NULL, *stop;
	int r = -ENOMEM;

	if (!tx_in16(tx)) {
		r = 0;
		goto out;
	}
	st16 = map_str(charging_state16, N(charging_state16), get_str(tx, "cs"), NULL);
	/* A 1.6 charger goes from Preparing straight to Charging when energy
	 * flows: plugged before any energy is still that wait, not a suspension
	 * (the station started its transaction at plug-in). */
	if (str_eq_opt(get_str(tx, "cs"), "EVConnected") &&
	    !json_is_true(json_object_get(tx, "charged")))
		st16 = NULL;
	if (strcmp(type, "Ended") && st16 && !str_eq_opt(st16, get_str(tx, "cs16"))) {
		/* While a problem is raised the connector stays Faulted (the
		 * transaction goes on); its clearing reports the state then. */
		json_t *fault = fault_active(env, evse, tx_conn(tx));
		bool faulted = fault != NULL;

		json_decref(fault);
		if (json_object_set_new(tx, "cs16", json_string(st16)) ||
		    (!faulted &&
		     msg_add(msgs, seq, "StatusNotification", status16(id16, st16, NULL, ts))))
			goto out;
	}
	mv = metervalues_to16(json_object_get(ev, "meterValue"), MV_NO_BEGIN);
	if (!mv)
		goto out;
	if (strcmp(type, "Ended")) {
		r = json_array_size(mv) ? msg_add(msgs, seq, "MeterValues",
						  json_pack("{s:I, s:O}", "connectorId",
							    (json_int_t)id16, "meterValue", mv))
					: 0;
		goto out;
	}
	if (!meter_get(env, evse, &wh))
		wh = json_integer_value(json_object_get(tx, "meterStart"));
	stop = json_pack("{s:I, s:O, s:s}", "meterStop", (json_int_t)wh, "timestamp", ts,
			 "reason", stop_reason_of(env, reason));
	if (json_array_size(json_object_get(tx, "begin16")) &&
	    json_array_insert(mv, 0, json_array_get(json_object_get(tx, "begin16"), 0)))
		goto out;
	if (!stop || (json_array_size(mv) && json_object_set(stop, "transactionData", mv)) ||
	    (tok && utf8_len(tok) <= IDTAG16_MAX &&
	     json_object_set_new(stop, "idTag", json_string(tok)))) {
		json_decref(stop);
		goto out;
	}
	if (msg_add(msgs, seq, "StopTransaction", stop))
		goto out;
	/* A stop that leaves the cable plugged is followed by Finishing (1.6
	 * §7.7); the station itself reports nothing while it stays Occupied. */
	r = 0;
	if (!str_eq_opt(get_str(tx, "cs"), "Idle") && !str_eq_opt(reason, "EVDisconnected") &&
	    (json_object_set_new(tx, "finish", json_true()) ||
	     msg_add(msgs, seq, "StatusNotification", status16(id16, "Finishing", NULL, ts))))
		r = -ENOMEM;
out:
	json_decref(mv);
	return r;
}

/* Keeps what event @ev tells of its transaction @tx: the charging state,
 * whether energy flowed, the first register reading. */
static int te_track(const json_t *ev, json_t *tx)
{
	const char *cs = get_str(json_object_get(ev, "transactionInfo"), "chargingState");
	long long wh;

	if (cs && (json_object_set_new(tx, "cs", json_string(cs)) ||
		   (!strcmp(cs, "Charging") && json_object_set_new(tx, "charged", json_true()))))
		return -ENOMEM;
	if (!json_object_get(tx, "wh0") && energy_wh(json_object_get(ev, "meterValue"), &wh) &&
	    set_int(tx, "wh0", wh))
		return -ENOMEM;
	if (!json_object_get(tx, "begin16")) {
		json_t *begin = metervalues_to16(json_object_get(ev, "meterValue"), MV_SIGNED_BEGIN);
		if (!begin || (json_array_size(begin) && json_object_set(tx, "begin16", begin))) {
			json_decref(begin);
			return -ENOMEM;
		}
		json_decref(begin);
	}
	return 0;
}

/* The connector of EVSE @evse the station reports Occupied (the one a
 * transaction whose events name no connector is on), else 1. */
static long long evse_occupied_conn(struct ogw_tr_env *env, long long evse)
{
	json_t *map = cmap_get(env);
	long long conn = 1;

	for (size_t i = ogw_cmap_count(map); i-- > 0;) {
		json_t *pair = json_array_get(map, i), *cs;
		if (json_integer_value(json_array_get(pair, 0)) != evse)
			continue;
		cs = state_get_num(env, "conn", (long long)i + 1);
		if (str_eq_opt(get_str(cs, "status"), "Occupied"))
			conn = json_integer_value(json_array_get(pair, 1));
		json_decref(cs);
	}
	json_decref(map);
	return conn;
}

/* Places @tx on the connector event @ev names (E01: the first event names
 * the EVSE, single-EVSE stations may omit it; the connector may come
 * later), keeping the EVSE's record "evse:<n>" in step. */
static int te_place(struct ogw_tr_env *env, const json_t *ev, const char *txid, json_t *tx)
{
	json_t *evse = json_object_get(ev, "evse");
	json_t *cid = json_object_get(evse, "connectorId");
	long long n = json_integer_value(json_object_get(tx, "evse"));
	long long conn, id16;

	if (json_object_get(tx, "c16") && (!json_is_integer(cid) || tx_in16(tx) ||
					   json_integer_value(cid) == tx_conn(tx)))
		return 0;
	conn = json_is_integer(cid) ? json_integer_value(cid) : evse_occupied_conn(env, n);
	if ((id16 = conn16_learn(env, n, conn)) < 0)
		return (int)id16;
	if (set_int(tx, "conn", conn) || set_int(tx, "c16", id16))
		return -ENOMEM;
	return state_put_num(env, "evse", n,
			     json_pack("{s:s, s:I}", "tx", txid, "c16", (json_int_t)id16));
}

/* First sight of a transaction (normally its Started event). */
static int te_new(struct ogw_tr_env *env, const json_t *ev, const char *txid, json_t **ret)
{
	json_t *evse = json_object_get(json_object_get(ev, "evse"), "id");
	long long n = evse ? json_integer_value(evse) : 1;
	json_t *tx = json_pack("{s:I, s:O}", "evse", (json_int_t)n, "ts0",
			       json_object_get(ev, "timestamp"));
	int r = -ENOMEM;

	if (!tx || copy_opt(tx, ev, "reservationId", NULL) || (r = te_place(env, ev, txid, tx))) {
		json_decref(tx);
		return r;
	}
	*ret = tx;
	return 0;
}

/* Emits StartTransaction for @tx and holds event @ev until its answer. */
static int te_start(struct ogw_tr_env *env, const json_t *ev, const char *txid, json_t *tx,
		    struct ogw_tr_out *out)
{
	long long seq = json_integer_value(json_object_get(ev, "seqNo"));
	struct tx_start *ctx = calloc(1, sizeof(*ctx));
	json_t *start;
	int r = -ENOMEM;

	if (!ctx)
		return -ENOMEM;
	ctx->seq = seq;
	ctx->want_info = json_object_get(ev, "idToken") != NULL;
	snprintf(ctx->txid, sizeof(ctx->txid), "%s", txid);
	start = json_pack("{s:I, s:O, s:O, s:O}", "connectorId", (json_int_t)tx_c16(env, tx),
			  "idTag", json_object_get(tx, "idTag"), "meterStart",
			  json_object_get(tx, "meterStart"), "timestamp",
			  json_object_get(tx, "timestamp"));
	if (!start || copy_opt(start, tx, "reservationId", NULL) ||
	    state_put_tx(env, txid, json_incref(tx))) {
		json_decref(start);
		goto fail;
	}
	r = ogw_tr_emit(env, OGW_TR_UP, "StartTransaction", start, start_done, ctx);
	if (r) {
		/* Undo, so the station's retry of this event starts again. */
		queue_drop_seq(tx, seq);
		state_put_tx(env, txid, json_incref(tx));
		goto fail;
	}
	/* From here ctx belongs to start_done. */
	ctx->pending = ogw_tr_defer(env);
	if (!ctx->pending)
		return -ENOMEM;
	out->outcome = OGW_TR_DEFER;
	return 0;
fail:
	free(ctx);
	return r;
}

/* Takes the idTag the 1.6 transaction will carry from event @ev: its
 * idToken, else the idTag of the remote start its remoteStartId names. */
static int te_idtag(struct ogw_tr_env *env, const json_t *ev, json_t *tx)
{
	json_t *info = json_object_get(ev, "transactionInfo");
	json_t *rsid = json_object_get(info, "remoteStartId"), *tag = NULL;
	const char *tok = get_str(json_object_get(ev, "idToken"), "idToken");

	if (json_object_get(tx, "idTag") || json_object_get(tx, "id16") ||
	    json_object_get(tx, "invalid"))
		return 0;
	if (tok && utf8_len(tok) > IDTAG16_MAX)
		/* 1.6 cannot carry it: the station is told Invalid. */
		return json_object_set_new(tx, "invalid", json_true()) ? -ENOMEM : 0;
	if (tok)
		tag = json_string(tok);
	else if (json_is_integer(rsid) && !(tag = remote_idtag(env, json_integer_value(rsid))))
		/* Not ours (or forgotten): the idToken may still come. */
		return json_object_set(tx, "remote", rsid) ? -ENOMEM : 0;
	if (!tag)
		return 0;
	if (json_object_set_new(tx, "idTag", tag) ||
	    json_object_set(tx, "authTs", json_object_get(ev, "timestamp")))
		return -ENOMEM;
	return 0;
}

/*
 * Starts the 1.6 transaction of @tx once it has an idTag and a register
 * reading: meterStart is the register when the idTag became known (a
 * plug-first session starts at authorization). When energy flowed before
 * that, or the idTag comes only with Ended, the 1.6 transaction covers the
 * whole 2.0.1 one: its first reading and time. An Ended event without any
 * reading starts it at 0 (the transaction is not lost) and says so in a
 * dead letter.
 */
static int te_meter_start(struct ogw_tr_env *env, const json_t *ev, json_t *tx)
{
	long long evse = json_integer_value(json_object_get(tx, "evse")), wh;
	bool ended = !strcmp(get_str(ev, "eventType"), "Ended");
	bool whole = ended || json_is_true(json_object_get(tx, "charged"));

	if (!json_object_get(tx, "idTag") || tx_in16(tx))
		return 0;
	if (whole && json_object_get(tx, "wh0")) {
		wh = json_integer_value(json_object_get(tx, "wh0"));
	} else if (!meter_get(env, evse, &wh)) {
		if (!ended)
			return 0;
		ogw_tr_lost(env, "TransactionEvent", ev,
			    "no Energy.Active.Import.Register reading for this transaction: the 1.6 "
			    "StartTransaction and StopTransaction carry meter 0");
		wh = 0;
	}
	if (set_int(tx, "meterStart", wh) ||
	    json_object_set(tx, "timestamp", json_object_get(tx, whole ? "ts0" : "authTs")))
		return -ENOMEM;
	return 0;
}

/* An event of a transaction that never became a 1.6 one: it is answered
 * here; its readings are the connector's; at Ended a transaction that
 * delivered energy or was remote-started without a usable idTag becomes a
 * dead letter, since 1.6 has no way to report it. */
static int te_outside16(struct ogw_tr_env *env, const json_t *ev, const char *txid, json_t *tx,
			struct ogw_tr_out *out)
{
	const char *tok = get_str(json_object_get(ev, "idToken"), "idToken");
	json_t *mv = metervalues_to16(json_object_get(ev, "meterValue"), MV_NO_BEGIN);
	int r = -ENOMEM;

	if (!mv)
		return -ENOMEM;
	if (json_array_size(mv) &&
	    (r = ogw_tr_emit(env, OGW_TR_UP, "MeterValues",
			     json_pack("{s:I, s:O}", "connectorId", (json_int_t)tx_c16(env, tx),
				       "meterValue", mv), ignore_answer, NULL)))
		goto out;
	if (!strcmp(get_str(ev, "eventType"), "Ended")) {
		if (json_object_get(tx, "invalid") || json_object_get(tx, "remote") ||
		    json_is_true(json_object_get(tx, "charged")))
			ogw_tr_lost(env, "TransactionEvent", ev,
				    json_object_get(tx, "invalid")
					    ? "the transaction's idToken is longer than a 1.6 idTag"
					    : "the transaction never had an idTag 1.6 can carry "
					      "(unknown remoteStartId, no idToken): no StartTransaction");
		r = tx_forget(env, txid, tx);
	} else {
		r = state_put_tx(env, txid, json_incref(tx));
	}
	if (!r)
		r = ogw_tr_out_answer(out, tok && json_object_get(tx, "invalid")
						   ? json_pack("{s:{s:s}}", "idTokenInfo", "status",
							       "Invalid")
						   : json_object());
out:
	json_decref(mv);
	return r;
}

static int up_transaction(struct ogw_tr_env *env, const json_t *payload,
			  struct ogw_tr_out *out)
{
	const char *txid = get_str(json_object_get(payload, "transactionInfo"), "transactionId");
	const char *tok = get_str(json_object_get(payload, "idToken"), "idToken");
	bool ended = !strcmp(get_str(payload, "eventType"), "Ended");
	long long seq = json_integer_value(json_object_get(payload, "seqNo"));
	json_t *tx = state_get_tx(env, txid), *msgs = json_array(), *q, *id16, *after = NULL;
	int r = -ENOMEM;

	if (!msgs || (r = held_flush(env, -1, 0)))
		goto out;
	r = -ENOMEM;
	if (!tx && tx_ended(env, txid)) {
		/* Some stations repeat Ended at shutdown: the 1.6 transaction is
		 * over and must not stop twice. */
		ogw_tr_lost(env, "TransactionEvent", payload,
			    "an event of a transaction already stopped (StopTransaction was sent); "
			    "answered and not sent again");
		r = ogw_tr_out_answer(out, json_object());
		goto out;
	}
	if (!tx && (r = te_new(env, payload, txid, &tx)))
		goto out;
	if ((r = te_place(env, payload, txid, tx)))
		goto out;
	if ((r = meter_note(env, json_integer_value(json_object_get(tx, "evse")),
			    json_object_get(payload, "meterValue"))) ||
	    (r = te_track(payload, tx)) || (r = te_idtag(env, payload, tx)) ||
	    (r = te_meter_start(env, payload, tx)))
		goto out;
	r = -ENOMEM;
	if (queue_drop_seq(tx, seq) || te_messages(env, payload, tx, msgs))
		goto out;
	if (!tx_in16(tx)) {
		r = te_outside16(env, payload, txid, tx, out);
		goto out;
	}

	id16 = json_object_get(tx, "id16");
	if (id16) {
		/* Known id: the calls before the carrier (the StopTransaction at
		 * Ended, else the last) are emitted; its answer gives the station
		 * its idTokenInfo; the calls after it follow its answer. */
		size_t n = json_array_size(msgs), carrier = n ? n - 1 : 0;
		json_t *item, *memo;
		size_t i;

		json_array_foreach(msgs, i, item)
			if (!strcmp(get_str(item, "action"), "StopTransaction"))
				carrier = i;
		after = json_array();
		if (!after)
			goto out;
		json_array_foreach(msgs, i, item) {
			json_t *p = json_object_get(item, "payload");
			if (i > carrier) {
				if (json_array_append(after, item))
					goto out;
				continue;
			}
			if (strcmp(get_str(item, "action"), "StatusNotification") &&
			    set_int(p, "transactionId", json_integer_value(id16)))
				goto out;
			if (i < carrier &&
			    (r = ogw_tr_emit(env, OGW_TR_UP, queued_action(item), json_incref(p),
					     ignore_answer, NULL)))
				goto out;
		}
		if ((r = state_put_tx(env, txid, json_incref(tx))))
			goto out;
		if (!n) {
			r = ogw_tr_out_answer(out, json_object());
			goto out;
		}
		item = json_array_get(msgs, carrier);
		memo = json_pack("{s:s, s:b, s:b, s:I}", "tx", txid, "end", ended, "info",
				 tok != NULL, "id16", json_integer_value(id16));
		if (memo && json_array_size(after) && json_object_set(memo, "after", after)) {
			json_decref(memo);
			memo = NULL;
		}
		r = memo ? out_forward(out, queued_action(item),
				       json_incref(json_object_get(item, "payload")), memo)
			 : -ENOMEM;
		goto out;
	}

	q = json_object_get(tx, "queue");
	if (!q && json_object_set_new(tx, "queue", (q = json_array())))
		goto out;
	if (json_array_extend(q, msgs))
		goto out;
	/* No id yet: the StartTransaction goes now, with everything queued so
	 * far (again, when the last one failed or its answer was lost with a
	 * gateway restart: 2.0.1 stations send no event while one is
	 * unanswered). */
	r = te_start(env, payload, txid, tx, out);
out:
	json_decref(after);
	json_decref(msgs);
	json_decref(tx);
	return r;
}

static int res_transaction(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
			   json_t **ret)
{
	const char *txid = get_str(memo, "tx");
	int r = items_emit(env, json_object_get(memo, "after"),
			   json_integer_value(json_object_get(memo, "id16")), NULL);

	if (!r && json_is_true(json_object_get(memo, "end"))) {
		json_t *tx = state_get_tx(env, txid);
		if (tx)
			r = tx_forget(env, txid, tx);
		json_decref(tx);
	}
	*ret = json_is_true(json_object_get(memo, "info")) ? answer_with_info(result)
							    : json_object();
	return *ret ? r : -ENOMEM;
}

/* ---- NotifyEvent -------------------------------------------------------- */

/* Sends the 1.6 status of the station's connector (@evse, @conn) once a
 * problem was raised there (@rec, borrowed) or cleared (@rec NULL: the
 * status it has without it, or with one still raised). */
static int fault_status(struct ogw_tr_env *env, long long evse, long long conn,
			const json_t *rec, const json_t *ts)
{
	long long id16 = conn16_learn(env, evse, conn);
	json_t *cs, *fault = NULL, *sn = NULL;
	const char *st16 = "Faulted";
	int r = -ENOMEM;

	if (id16 < 0)
		return (int)id16;
	cs = state_get_num(env, "conn", id16);
	if (!cs)
		cs = json_object();
	if (!cs)
		goto out;
	if (!rec)
		st16 = conn_status16(env, evse, conn, id16, get_str(cs, "status"), &fault);
	sn = status16(id16, st16, rec ? rec : fault, ts);
	if (!sn || json_object_set_new(cs, "sent", json_string(st16)) ||
	    (r = state_put_num(env, "conn", id16, json_incref(cs)))) {
		json_decref(sn);
		goto out;
	}
	r = ogw_tr_emit(env, OGW_TR_UP, "StatusNotification", sn, ignore_answer, NULL);
out:
	json_decref(fault);
	json_decref(cs);
	return r;
}

/* fault_status() for each connector a problem on (@evse, @conn) concerns:
 * that connector, every connector of the EVSE for a problem of the EVSE
 * (@conn 0), connector 0 for the station's (@evse 0). */
static int fault_statuses(struct ogw_tr_env *env, long long evse, long long conn,
			  const json_t *rec, const json_t *ts)
{
	json_t *map;
	bool any = false;
	int r = 0;

	if (evse <= 0 || conn > 0)
		return fault_status(env, evse, evse > 0 ? conn : 0, rec, ts);
	if (!(map = cmap_get(env)))
		return -ENOMEM;
	for (size_t i = 0; !r && i < ogw_cmap_count(map); i++) {
		json_t *pair = json_array_get(map, i);
		if (json_integer_value(json_array_get(pair, 0)) != evse)
			continue;
		any = true;
		r = fault_status(env, evse, json_integer_value(json_array_get(pair, 1)), rec, ts);
	}
	json_decref(map);
	return r || any ? r : fault_status(env, evse, 1, rec, ts);
}

/*
 * A problem the station raises (a Problem/Tripped/Operated flag set, or an
 * alert on a component 1.6 has an error code for) makes the 1.6
 * connector(s) it concerns Faulted with the closest ChargePointErrorCode,
 * techCode as vendorErrorCode; the 1.6 status returns (errorCode NoError)
 * when the last problem there clears. The event itself is the gateway's to
 * take.
 */
static int notify_fault(struct ogw_tr_env *env, const json_t *ev)
{
	json_t *comp = json_object_get(ev, "component");
	const char *cname = get_str(comp, "name");
	const char *vname = get_str(json_object_get(ev, "variable"), "name");
	const char *tech_code = get_str(ev, "techCode");
	const char *code = in_list(error_codes16, N(error_codes16), tech_code)
				   ? tech_code
				   : map_str(fault_component16, N(fault_component16), cname,
					     map_str(fault_variable16, N(fault_variable16), vname,
						     NULL));
	bool flag = in_list(fault_flags, N(fault_flags), vname);
	long long evse = json_integer_value(json_object_get(json_object_get(comp, "evse"), "id"));
	long long conn = json_integer_value(json_object_get(json_object_get(comp, "evse"),
							    "connectorId"));
	bool cleared = json_is_true(json_object_get(ev, "cleared")) ||
		       (flag && strcasecmp(get_str(ev, "actualValue"), "true"));
	json_t *faults, *rec = NULL;
	const char *tech = get_str(ev, "techInfo");
	char key[160];
	int r = -ENOMEM;

	if (!flag && (!code || !str_eq_opt(get_str(ev, "trigger"), "Alerting")))
		return 0;
	snprintf(key, sizeof(key), "%s/%s/%lld", cname, vname, conn);
	faults = state_get_num(env, "fault", evse);
	if (!faults)
		faults = json_object();
	if (!faults)
		return -ENOMEM;
	if ((r = held_flush(env, cleared ? -1 : evse, conn)) ||
	    (cleared && !json_object_get(faults, key))) {
		json_decref(faults);
		return r;
	}
	r = -ENOMEM;
	if (cleared) {
		json_object_del(faults, key);
	} else {
		rec = json_pack("{s:s}", "errorCode", code ? code : "OtherError");
		if (!rec || (tech && json_object_set_new(rec, "info", str_trunc(tech, INFO16_MAX))) ||
		    copy_opt(rec, ev, "techCode", "vendorErrorCode") ||
		    json_object_set(faults, key, rec))
			goto out;
	}
	r = json_object_size(faults) ? state_put_num(env, "fault", evse, json_incref(faults))
				     : state_del_num(env, "fault", evse);
	if (!r)
		r = fault_statuses(env, evse, conn, rec, json_object_get(ev, "timestamp"));
out:
	json_decref(rec);
	json_decref(faults);
	return r;
}

static int up_notify_event(struct ogw_tr_env *env, const json_t *payload,
			   struct ogw_tr_out *out)
{
	json_t *ev;
	size_t i;
	int r;

	json_array_foreach(json_object_get(payload, "eventData"), i, ev)
		if ((r = notify_fault(env, ev)))
			return r;
	return ogw_tr_out_answer(out, json_object());
}

/* ---- LogStatusNotification ---------------------------------------------- */

struct log_status {
	const char *status;   /* 2.0.1 UploadLogStatusEnumType */
	const char *diag16;   /* 1.6 DiagnosticsStatus */
	const char *log16;    /* SEC16 UploadLogStatusEnumType */
	bool final;           /* the upload is over */
};

static const struct log_status log_status_map[] = {
	{ "AcceptedCanceled", "UploadFailed", "UploadFailure", true },
	{ "BadMessage", "UploadFailed", "BadMessage", true },
	{ "Idle", "Idle", "Idle", false },
	{ "NotSupportedOperation", "UploadFailed", "NotSupportedOperation", true },
	{ "PermissionDenied", "UploadFailed", "PermissionDenied", true },
	{ "UploadFailure", "UploadFailed", "UploadFailure", true },
	{ "Uploaded", "Uploaded", "Uploaded", true },
	{ "Uploading", "Uploading", "Uploading", false },
};

/* A log requested by SEC16 GetLog is reported with LogStatusNotification,
 * one requested by GetDiagnostics (or none known) with
 * DiagnosticsStatusNotification. */
static int up_log_status(struct ogw_tr_env *env, const json_t *payload,
			 struct ogw_tr_out *out)
{
	const char *st = get_str(payload, "status");
	json_t *req = json_object_get(payload, "requestId");
	json_t *s = req ? state_get_num(env, "log", json_integer_value(req)) : NULL;
	const struct log_status *m = &log_status_map[0];
	bool via_getlog = str_eq_opt(get_str(s, "via"), "GetLog");
	int r = 0;

	for (size_t i = 0; i < N(log_status_map); i++)
		if (!strcmp(log_status_map[i].status, st))
			m = &log_status_map[i];
	json_decref(s);
	if (s && m->final)
		r = state_del_num(env, "log", json_integer_value(req));
	if (r)
		return r;
	if (via_getlog) {
		json_t *p = json_pack("{s:s}", "status", m->log16);
		if (p && copy_opt(p, payload, "requestId", NULL)) {
			json_decref(p);
			return -ENOMEM;
		}
		return out_forward(out, "LogStatusNotification", p, NULL);
	}
	return out_forward(out, "DiagnosticsStatusNotification",
			   json_pack("{s:s}", "status", m->diag16), NULL);
}

/* ---- FirmwareStatusNotification ----------------------------------------- */

struct fw_status {
	const char *status;   /* 2.0.1 FirmwareStatusEnumType (= SEC16's) */
	const char *fw16;     /* 1.6 core FirmwareStatus */
	bool final;
};

static const struct fw_status fw_status_map[] = {
	{ "DownloadFailed", "DownloadFailed", true },
	{ "DownloadPaused", "Downloading", false },
	{ "DownloadScheduled", "Idle", false },
	{ "Downloaded", "Downloaded", false },
	{ "Downloading", "Downloading", false },
	{ "Idle", "Idle", false },
	{ "InstallRebooting", "Installing", false },
	{ "InstallScheduled", "Downloaded", false },
	{ "InstallVerificationFailed", "InstallationFailed", true },
	{ "InstallationFailed", "InstallationFailed", true },
	{ "Installed", "Installed", true },
	{ "Installing", "Installing", false },
	{ "InvalidSignature", "InstallationFailed", true },
	{ "SignatureVerified", "Downloaded", false },
};

static int up_firmware_status(struct ogw_tr_env *env, const json_t *payload,
			      struct ogw_tr_out *out)
{
	const char *st = get_str(payload, "status");
	json_t *req = json_object_get(payload, "requestId");
	json_t *s = req ? state_get_num(env, "fw", json_integer_value(req)) : NULL;
	const struct fw_status *m = &fw_status_map[5];
	bool is_signed = s != NULL;
	int r = 0;

	json_decref(s);
	for (size_t i = 0; i < N(fw_status_map); i++)
		if (!strcmp(fw_status_map[i].status, st))
			m = &fw_status_map[i];
	if (is_signed && m->final)
		r = state_del_num(env, "fw", json_integer_value(req));
	if (r)
		return r;
	if (is_signed)
		return out_forward(out, "SignedFirmwareStatusNotification",
				   json_pack("{s:s, s:O}", "status", st, "requestId", req), NULL);
	return out_forward(out, "FirmwareStatusNotification",
			   json_pack("{s:s}", "status", m->fw16), NULL);
}

/* ---- security ----------------------------------------------------------- */

static int up_security_event(struct ogw_tr_env *env, const json_t *payload,
			     struct ogw_tr_out *out)
{
	json_t *p = json_pack("{s:O, s:O}", "type", json_object_get(payload, "type"),
			      "timestamp", json_object_get(payload, "timestamp"));
	(void)env;
	if (p && copy_opt(p, payload, "techInfo", NULL)) {
		json_decref(p);
		return -ENOMEM;
	}
	return out_forward(out, "SecurityEventNotification", p, NULL);
}

static int up_sign_certificate(struct ogw_tr_env *env, const json_t *payload,
			       struct ogw_tr_out *out)
{
	const char *type = get_str(payload, "certificateType");
	(void)env;

	if (type && !strcmp(type, "V2GCertificate"))
		return pnc_forward("SignCertificate", payload, out);
	return out_forward(out, "SignCertificate",
			   json_pack("{s:O}", "csr", json_object_get(payload, "csr")), NULL);
}

static int res_sign_certificate(struct ogw_tr_env *env, const json_t *memo,
				const json_t *result, json_t **ret)
{
	(void)env;
	if (memo)
		*ret = pnc_answer(result, json_pack("{s:s}", "status", "Rejected"));
	else
		*ret = json_pack("{s:O}", "status", json_object_get(result, "status"));
	return *ret ? 0 : -ENOMEM;
}

static int up_get_15118_cert(struct ogw_tr_env *env, const json_t *payload,
			     struct ogw_tr_out *out)
{
	(void)env;
	return pnc_forward("Get15118EVCertificate", payload, out);
}

static int res_get_15118_cert(struct ogw_tr_env *env, const json_t *memo,
			      const json_t *result, json_t **ret)
{
	(void)env;
	(void)memo;
	*ret = pnc_answer(result, json_pack("{s:s, s:s}", "status", "Failed", "exiResponse", ""));
	return *ret ? 0 : -ENOMEM;
}

static int up_get_cert_status(struct ogw_tr_env *env, const json_t *payload,
			      struct ogw_tr_out *out)
{
	(void)env;
	return pnc_forward("GetCertificateStatus", payload, out);
}

static int res_get_cert_status(struct ogw_tr_env *env, const json_t *memo,
			       const json_t *result, json_t **ret)
{
	(void)env;
	(void)memo;
	*ret = pnc_answer(result, json_pack("{s:s}", "status", "Failed"));
	return *ret ? 0 : -ENOMEM;
}

/* ---- DataTransfer (up) -------------------------------------------------- */

static int up_data_transfer(struct ogw_tr_env *env, const json_t *payload,
			    struct ogw_tr_out *out)
{
	json_t *p = json_pack("{s:O}", "vendorId", json_object_get(payload, "vendorId"));
	(void)env;
	if (p && (copy_opt(p, payload, "messageId", NULL) || data_to16(p, payload))) {
		json_decref(p);
		return -ENOMEM;
	}
	return out_forward(out, "DataTransfer", p, NULL);
}

/* The 1.6 answer's data string is valid 2.0.1 "any" as it is. */

/* ======================================================================== */
/* DOWN: 1.6 central system -> 2.0.1 charging station                       */
/* ======================================================================== */

/* {status} of a 2.0.1 answer, through @map when given (statusInfo and
 * customData have no 1.6 field). */
static int status_only(const json_t *result, const struct str_pair *map, size_t n,
		       json_t **ret)
{
	const char *st = get_str(result, "status");
	*ret = json_pack("{s:s}", "status", map ? map_str(map, n, st, st) : st);
	return *ret ? 0 : -ENOMEM;
}

static int res_status(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
		      json_t **ret)
{
	(void)env;
	(void)memo;
	return status_only(result, NULL, 0, ret);
}

/* The station's EVSE of 1.6 connector @id16. */
static long long evse_of16(struct ogw_tr_env *env, long long id16)
{
	long long evse, conn;

	conn_of16(env, id16, &evse, &conn);
	return evse;
}

/* 2.0.1 EVSEType of 1.6 connector @id16 (> 0), with its connectorId when
 * @with_conn. */
static json_t *evse_obj(struct ogw_tr_env *env, long long id16, bool with_conn)
{
	long long evse, conn;

	conn_of16(env, id16, &evse, &conn);
	return with_conn ? json_pack("{s:I, s:I}", "id", (json_int_t)evse, "connectorId",
				     (json_int_t)conn)
			 : json_pack("{s:I}", "id", (json_int_t)evse);
}

/* ---- charging profiles -------------------------------------------------- */

static const struct str_pair purpose201[] = {
	{ "ChargePointMaxProfile", "ChargingStationMaxProfile" },
	{ "TxDefaultProfile", "TxDefaultProfile" },
	{ "TxProfile", "TxProfile" },
};

/* 1.6 ChargingProfile -> 2.0.1 ChargingProfileType: one schedule, given the
 * profile's id (the only id it needs to be unique against); the integer
 * transactionId through the id map. -ENOENT for an unknown transaction,
 * -EINVAL for a schedule without periods (2.0.1 needs one). */
static int profile_from16(struct ogw_tr_env *env, const json_t *p16, json_t **ret)
{
	json_t *cs = json_object_get(p16, "chargingSchedule");
	json_t *periods = json_object_get(cs, "chargingSchedulePeriod");
	json_t *tid = json_object_get(p16, "transactionId");
	json_t *sched = NULL, *p = NULL, *txid = NULL;
	int r = -ENOMEM;

	if (!json_array_size(periods))
		return -EINVAL;
	if (tid && !(txid = txid_of16(env, json_integer_value(tid))))
		return -ENOENT;
	sched = json_pack("{s:O, s:O, s:O}", "id", json_object_get(p16, "chargingProfileId"),
			  "chargingRateUnit", json_object_get(cs, "chargingRateUnit"),
			  "chargingSchedulePeriod", periods);
	if (!sched || copy_opt(sched, cs, "startSchedule", NULL) ||
	    copy_opt(sched, cs, "duration", NULL) || copy_opt(sched, cs, "minChargingRate", NULL))
		goto out;
	p = json_pack("{s:O, s:O, s:s, s:O, s:[O]}", "id", json_object_get(p16, "chargingProfileId"),
		      "stackLevel", json_object_get(p16, "stackLevel"),
		      "chargingProfilePurpose",
		      map_str(purpose201, N(purpose201), get_str(p16, "chargingProfilePurpose"),
			      "TxProfile"),
		      "chargingProfileKind", json_object_get(p16, "chargingProfileKind"),
		      "chargingSchedule", sched);
	if (!p || copy_opt(p, p16, "recurrencyKind", NULL) || copy_opt(p, p16, "validFrom", NULL) ||
	    copy_opt(p, p16, "validTo", NULL) ||
	    (txid && json_object_set(p, "transactionId", txid)))
		goto out;
	*ret = json_incref(p);
	r = 0;
out:
	json_decref(p);
	json_decref(sched);
	json_decref(txid);
	return r;
}

/* ---- RemoteStart / RemoteStop ------------------------------------------- */

static int down_remote_start(struct ogw_tr_env *env, const json_t *payload,
			     struct ogw_tr_out *out)
{
	json_t *cp = json_object_get(payload, "chargingProfile");
	json_int_t rsid = (json_int_t)ogw_tr_next_id(env, "remoteStart");
	json_t *req, *prof = NULL;
	int r;

	long long id16 = json_integer_value(json_object_get(payload, "connectorId"));

	req = json_pack("{s:o, s:I}", "idToken", idtoken_from16(get_str(payload, "idTag")),
			"remoteStartId", rsid);
	/* 2.0.1 starts on an EVSE: the station picks the connector the cable
	 * is in (its StartTransaction names that one). */
	if (!req || (id16 > 0 && set_int(req, "evseId", evse_of16(env, id16)))) {
		json_decref(req);
		return -ENOMEM;
	}
	/* 2.0.1 may start it without the idToken (F01/F02: Started carries
	 * remoteStartId): the 1.6 StartTransaction then takes this idTag. */
	r = state_list_push(env, "remote",
			    json_pack("{s:I, s:O}", "id", rsid, "idTag",
				      json_object_get(payload, "idTag")), REMOTE_KEEP);
	if (r) {
		json_decref(req);
		return r;
	}
	if (cp) {
		r = profile_from16(env, cp, &prof);
		if (r == -ENOENT || r == -EINVAL) {
			json_decref(req);
			return ogw_tr_out_answer(out, json_pack("{s:s}", "status", "Rejected"));
		}
		if (r || json_object_set_new(req, "chargingProfile", prof)) {
			json_decref(req);
			return r ? r : -ENOMEM;
		}
	}
	return out_forward(out, "RequestStartTransaction", req, NULL);
}

static int down_remote_stop(struct ogw_tr_env *env, const json_t *payload,
			    struct ogw_tr_out *out)
{
	json_t *txid = txid_of16(env, json_integer_value(json_object_get(payload, "transactionId")));

	if (!txid)
		return ogw_tr_out_answer(out, json_pack("{s:s}", "status", "Rejected"));
	return out_forward(out, "RequestStopTransaction",
			   json_pack("{s:o}", "transactionId", txid), NULL);
}

/* ---- Reset / ChangeAvailability / UnlockConnector ----------------------- */

/* 1.6 Reset.conf has no Scheduled, and a 1.6 Reset promises a reset now:
 * a station that only schedules one has not done what was asked, so the
 * central system hears Rejected (and may ask again, Hard). */
static const struct str_pair reset_status16[] = {
	{ "Scheduled", "Rejected" },
};

/*
 * Both 1.6 resets are 2.0.1 Immediate: 1.6 Soft restarts the software at
 * once, stopping transactions gracefully (S16 §5.14), which is what
 * Immediate does (B12: Ended with ImmediateReset first); OnIdle could wait
 * for hours. A Soft reset is remembered until the next boot so that the
 * transactions it stops end with reason SoftReset.
 */
static int down_reset(struct ogw_tr_env *env, const json_t *payload, struct ogw_tr_out *out)
{
	int r = str_eq_opt(get_str(payload, "type"), "Soft")
			? ogw_tr_state_put(env, "reset", json_pack("{s:s}", "type", "Soft"))
			: ogw_tr_state_del(env, "reset");

	if (r)
		return r;
	return out_forward(out, "Reset", json_pack("{s:s}", "type", "Immediate"), NULL);
}

static int res_reset(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
		     json_t **ret)
{
	(void)env;
	(void)memo;
	return status_only(result, reset_status16, N(reset_status16), ret);
}

/* 2.0.1 EVSEType takes a connectorId (G03): the 1.6 connector's own
 * availability changes, not its EVSE's. */
static int down_change_availability(struct ogw_tr_env *env, const json_t *payload,
				    struct ogw_tr_out *out)
{
	long long c = json_integer_value(json_object_get(payload, "connectorId"));
	json_t *p = json_pack("{s:O}", "operationalStatus", json_object_get(payload, "type"));

	/* connectorId 0 is the whole charge point: no evse. */
	if (p && c > 0 && json_object_set_new(p, "evse", evse_obj(env, c, true))) {
		json_decref(p);
		return -ENOMEM;
	}
	return out_forward(out, "ChangeAvailability", p, NULL);
}

static const struct str_pair unlock_status16[] = {
	{ "OngoingAuthorizedTransaction", "UnlockFailed" },
	{ "UnknownConnector", "NotSupported" },
};

static int down_unlock(struct ogw_tr_env *env, const json_t *payload, struct ogw_tr_out *out)
{
	long long evse, conn;

	conn_of16(env, json_integer_value(json_object_get(payload, "connectorId")), &evse, &conn);
	return out_forward(out, "UnlockConnector",
			   json_pack("{s:I, s:I}", "evseId", (json_int_t)evse, "connectorId",
				     (json_int_t)conn), NULL);
}

static int res_unlock(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
		      json_t **ret)
{
	(void)env;
	(void)memo;
	return status_only(result, unlock_status16, N(unlock_status16), ret);
}

/* ---- configuration (REFERENCE §4) --------------------------------------- *
 * The rows are translators/config_keys.def, shared with v16_v201.c. A 1.6
 * key with no row (BlinkRepeat, LightIntensity, the maxLimit keys) is
 * unknown to the central system; NumberOfConnectors and
 * SupportedFeatureProfiles are synthesized from a report (below). */

/* The row of a reported or read variable: station-level rows take no evse
 * and no component instance; ConnectorPhaseRotation takes the
 * ChargingStation (its entry 0) or EVSE n (entry n), in *ret_conn. */
static const struct ogw_cfg_key *config_by_variable(const json_t *component,
						   const json_t *variable, long long *ret_conn)
{
	const json_t *evse = json_object_get(component, "evse");
	const struct ogw_cfg_key *k;

	if (json_object_get(component, "instance"))
		return NULL;
	k = ogw_cfg_by_variable(get_str(component, "name"), get_str(variable, "name"),
				get_str(variable, "instance"), NULL);
	if (!k)
		return NULL;
	if (k->form != OGW_CFG_PER_CONNECTOR) {
		*ret_conn = 0;
		return evse ? NULL : k;
	}
	if (!strcmp(get_str(component, "name"), "ChargingStation")) {
		*ret_conn = 0;
		return evse ? NULL : k;
	}
	*ret_conn = json_integer_value(json_object_get(evse, "id"));
	if (*ret_conn < 1 || (json_object_get(evse, "connectorId") &&
			      json_integer_value(json_object_get(evse, "connectorId")) != 1))
		return NULL;
	return k;
}

/* {component, variable} of @k (the shape both GetVariableData and
 * SetVariableData start from); for a per-connector row, connector @conn's. */
static json_t *config_ref(const struct ogw_cfg_key *k, long long conn)
{
	json_t *v;

	if (k->form == OGW_CFG_PER_CONNECTOR && !conn)
		v = json_pack("{s:{s:s}, s:{s:s}}", "component", "name", "ChargingStation",
			      "variable", "name", k->variable);
	else if (k->form == OGW_CFG_PER_CONNECTOR)
		v = json_pack("{s:{s:s, s:{s:I}}, s:{s:s}}", "component", "name", k->component,
			      "evse", "id", (json_int_t)conn, "variable", "name", k->variable);
	else
		v = json_pack("{s:{s:s}, s:{s:s}}", "component", "name", k->component, "variable",
			      "name", k->variable);
	if (v && k->instance &&
	    json_object_set_new(json_object_get(v, "variable"), "instance",
				json_string(k->instance))) {
		json_decref(v);
		return NULL;
	}
	return v;
}

/* The station's shape as its last full report showed it ("inventory":
 * {"evses": n, "features": "Core,..."}), or NULL (a new reference). */
static json_t *inventory_get(struct ogw_tr_env *env)
{
	json_t *inv = ogw_tr_state_get(env, "inventory");
	if (inv && !json_is_integer(json_object_get(inv, "evses"))) {
		json_decref(inv);
		return NULL;
	}
	return inv;
}

/* SEC16 A00.FR.205 sets AuthorizationKey as 16-20 bytes in hex; 2.0.1
 * BasicAuthPassword is the password text itself (REFERENCE §1). Bytes that
 * are printable ASCII are that text. Other bytes have no 2.0.1 text form:
 * the station gets the hex digits themselves, the text 1.6 chargers send
 * as their password for such a key (the gateway's password record takes
 * it back as is, src/gateway/credentials.c). NULL when it is no key. */
static json_t *auth_key_decode(const char *hex)
{
	char buf[21];
	size_t n = strlen(hex);

	if (n % 2 || n < 32 || n > 40 || strspn(hex, "0123456789abcdefABCDEF") != n)
		return NULL;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned int b;
		if (sscanf(hex + 2 * i, "%2x", &b) != 1)
			return NULL;
		if (b < 0x20 || b > 0x7e)
			return json_string(hex);
		buf[i] = (char)b;
	}
	buf[n / 2] = '\0';
	return json_string(buf);
}

/* The SetVariableData in @data for EVSE @evse's variable, or NULL. */
static json_t *set_data_of(const json_t *data, long long evse)
{
	json_t *d;
	size_t i;

	json_array_foreach(data, i, d) {
		json_t *e = json_object_get(json_object_get(d, "component"), "evse");
		if (e ? json_integer_value(json_object_get(e, "id")) == evse : !evse)
			return d;
	}
	return NULL;
}

/* Appends to @data a SetVariableData per EVSE named by an entry of 1.6 list
 * @list ("0.RST, 1.RTS"), entry n being for the EVSE of 1.6 connector n in
 * connector map @map: the variable is the EVSE's, so of two connectors of
 * one EVSE the later entry wins. -EINVAL when an entry is not
 * "<connector>.<value>". */
static int per_connector_set(json_t *data, const struct ogw_cfg_key *k, const char *list,
			     const json_t *map)
{
	char *copy = strdup(list), *save = NULL, *item, *dot, *end;
	int r = copy ? 0 : -ENOMEM;

	for (item = copy ? strtok_r(copy, ",", &save) : NULL; item && !r;
	     item = strtok_r(NULL, ",", &save)) {
		long long conn, evse, c;
		json_t *d;
		while (*item == ' ')
			item++;
		for (end = item + strlen(item); end > item && end[-1] == ' ';)
			*--end = '\0';
		dot = strchr(item, '.');
		conn = dot ? strtoll(item, &end, 10) : -1;
		if (!dot || end != dot || conn < 0 || !dot[1]) {
			r = -EINVAL;
			break;
		}
		ogw_cmap_from16(map, conn, &evse, &c);
		if ((d = set_data_of(data, evse))) {
			if (json_object_set_new(d, "attributeValue", json_string(dot + 1)))
				r = -ENOMEM;
			continue;
		}
		d = config_ref(k, evse);
		if (!d || json_object_set_new(d, "attributeValue", json_string(dot + 1)) ||
		    json_array_append_new(data, d))
			r = -ENOMEM;
	}
	free(copy);
	return !r && !json_array_size(data) ? -EINVAL : r;
}

static int down_change_configuration(struct ogw_tr_env *env, const json_t *payload,
				     struct ogw_tr_out *out)
{
	const struct ogw_cfg_key *k = ogw_cfg_by_key(get_str(payload, "key"));
	const char *value = get_str(payload, "value");
	json_t *all = json_array(), *data, *v, *map;
	int r;

	if (!all)
		return -ENOMEM;
	if (!k) {
		json_decref(all);
		return ogw_tr_out_answer(out, json_pack("{s:s}", "status", "NotSupported"));
	}
	if (k->form == OGW_CFG_PER_CONNECTOR) {
		map = cmap_get(env);
		r = map ? per_connector_set(all, k, value, map) : -ENOMEM;
		json_decref(map);
		if (r < 0) {
			json_decref(all);
			return r == -EINVAL ? ogw_tr_out_answer(out, json_pack("{s:s}", "status",
									       "Rejected"))
					    : r;
		}
		return out_forward(out, "SetVariables", json_pack("{s:o}", "setVariableData", all),
				   NULL);
	}
	v = k->form == OGW_CFG_HEX ? auth_key_decode(value) : json_string(value);
	if (!v) {
		json_decref(all);
		return ogw_tr_out_answer(out, json_pack("{s:s}", "status", "Rejected"));
	}
	data = config_ref(k, 0);
	if (!data || json_object_set_new(data, "attributeValue", v) ||
	    json_array_append_new(all, data)) {
		json_decref(all);
		return -ENOMEM;
	}
	return out_forward(out, "SetVariables", json_pack("{s:o}", "setVariableData", all), NULL);
}

/* 2.0.1 SetVariableStatus -> 1.6 ConfigurationStatus, in rising order of
 * how bad it is: a list key set in parts answers with its worst part.
 * UnknownComponent, UnknownVariable, NotSupportedAttributeType are
 * NotSupported. */
static const char *const config_status16[] = { "Accepted", "RebootRequired", "Rejected",
					       "NotSupported" };

static int res_change_configuration(struct ogw_tr_env *env, const json_t *memo,
				    const json_t *result, json_t **ret)
{
	const json_t *item;
	size_t i, worst = 0;
	(void)env;
	(void)memo;

	json_array_foreach(json_object_get(result, "setVariableResult"), i, item) {
		const char *s = get_str(item, "attributeStatus");
		size_t rank = N(config_status16) - 1;
		for (size_t j = 0; s && j < N(config_status16); j++)
			if (!strcmp(config_status16[j], s))
				rank = j;
		if (rank > worst)
			worst = rank;
	}
	*ret = json_pack("{s:s}", "status", config_status16[worst]);
	return *ret ? 0 : -ENOMEM;
}

/* Appends the GetVariableData of row @k to @data: per connector, the
 * station's and each EVSE's the last report showed. */
static int config_refs(json_t *data, const struct ogw_cfg_key *k, long long evses)
{
	for (long long c = 0; c <= (k->form == OGW_CFG_PER_CONNECTOR ? evses : 0); c++)
		if (json_array_append_new(data, config_ref(k, c)))
			return -ENOMEM;
	return 0;
}

/* GetVariables for every row of the table. */
static json_t *get_variables_all(struct ogw_tr_env *env)
{
	json_t *inv = inventory_get(env), *data = json_array();
	long long evses = json_integer_value(json_object_get(inv, "evses"));

	json_decref(inv);
	for (size_t i = 0; data && i < ogw_cfg_n_keys; i++)
		if (config_refs(data, &ogw_cfg_keys[i], evses)) {
			json_decref(data);
			return NULL;
		}
	return data ? json_pack("{s:o}", "getVariableData", data) : NULL;
}

/* The keys the gateway says for the station (new reference, a list of 1.6
 * KeyValue) from inventory @inv, or NULL when it has none; the connectors
 * are those of its connector map, at least one per EVSE. */
static json_t *inventory_keys(struct ogw_tr_env *env, const json_t *inv)
{
	json_int_t evses = json_integer_value(json_object_get(inv, "evses"));
	json_t *keys, *map;
	char n[24];

	if (!inv)
		return NULL;
	map = cmap_get(env);
	if ((json_int_t)ogw_cmap_count(map) > evses)
		evses = (json_int_t)ogw_cmap_count(map);
	json_decref(map);
	keys = json_pack("[{s:s, s:b, s:O}]", "key", "SupportedFeatureProfiles", "readonly", 1,
			 "value", json_object_get(inv, "features"));
	/* a report that showed no EVSE says nothing of the connectors */
	snprintf(n, sizeof(n), "%lld", (long long)evses);
	if (keys && evses > 0 &&
	    json_array_insert_new(keys, 0, json_pack("{s:s, s:b, s:s}", "key", "NumberOfConnectors",
						     "readonly", 1, "value", n)))
		keys = (json_decref(keys), NULL);
	return keys;
}

/* The memo res_get_configuration() reads for "every key" (@keys NULL) or
 * for the keys @keys of a GetConfiguration the gateway answers in full
 * first: nothing requested is unknown yet. */
static json_t *memo_all(const json_t *keys)
{
	json_t *m = json_pack("{s:[], s:b}", "unknown", "all", 1);
	if (m && keys && json_object_set(m, "keys", (json_t *)keys))
		m = (json_decref(m), NULL);
	return m;
}

/* A 1.6 KeyValue for @k. 1.6 values are CiString500, 2.0.1 ones up to
 * 2500: longer ones are cut. */
static json_t *key_value16(const struct ogw_cfg_key *k, bool readonly, const char *value)
{
	json_t *kv = json_pack("{s:s, s:b}", "key", k->key, "readonly", readonly);
	if (kv && value && json_object_set_new(kv, "value", str_trunc(value, 500))) {
		json_decref(kv);
		return NULL;
	}
	return kv;
}

static json_t *key_find(const json_t *list, const char *key)
{
	json_t *kv;
	size_t i;

	json_array_foreach(list, i, kv)
		if (key && get_str(kv, "key") && !strcasecmp(get_str(kv, "key"), key))
			return kv;
	return NULL;
}

/* Adds entry "@conn.@value" to the 1.6 list of per-connector row @k in
 * KeyValue list @known (1.6 §9.1.7: "0.RST,1.RTS", written without the
 * spaces of the spec's example, as 1.6 chargers list it; either is read). */
static int list_add(json_t *known, const struct ogw_cfg_key *k, bool readonly, long long conn,
		    const char *value)
{
	json_t *kv = key_find(known, k->key);
	const char *old = get_str(kv, "value");
	char text[520];   /* a 1.6 value holds 500 */

	if (!value)
		return 0;
	snprintf(text, sizeof(text), "%s%s%lld.%s", old ? old : "", old ? "," : "", conn, value);
	if (kv)
		return json_object_set_new(kv, "value", str_trunc(text, 500)) ? -ENOMEM : 0;
	return json_array_append_new(known, key_value16(k, readonly, text)) ? -ENOMEM : 0;
}

/* list_add() for EVSE @evse's value: an entry for each 1.6 connector of
 * the EVSE in connector map @map (entry 0 for the station's). */
static int list_add_evse(json_t *known, const struct ogw_cfg_key *k, bool readonly,
			 const json_t *map, long long evse, const char *value)
{
	bool any = false;

	if (evse <= 0)
		return list_add(known, k, readonly, 0, value);
	for (size_t i = 0; i < ogw_cmap_count(map); i++)
		if (json_integer_value(json_array_get(json_array_get(map, i), 0)) == evse) {
			any = true;
			if (list_add(known, k, readonly, (long long)i + 1, value))
				return -ENOMEM;
		}
	return any ? 0 : list_add(known, k, readonly, ogw_cmap_to16(map, evse, 1), value);
}

/* Whether @key is in the list of key names @keys. */
static bool key_named(const json_t *keys, const char *key)
{
	const json_t *k;
	size_t i;

	json_array_foreach(keys, i, k)
		if (key && !strcasecmp(json_string_value(k), key))
			return true;
	return false;
}

/* Keeps in @known only the keys of @keys (all when NULL), and adds those
 * it lacks to @unknown. */
static int keys_filter(json_t *known, json_t *unknown, const json_t *keys)
{
	const json_t *k;
	size_t i = 0;

	if (!keys)
		return 0;
	while (i < json_array_size(known)) {
		if (key_named(keys, get_str(json_array_get(known, i), "key")))
			i++;
		else
			json_array_remove(known, i);
	}
	json_array_foreach(keys, i, k)
		if (!key_find(known, json_string_value(k)) && json_array_append(unknown, (json_t *)k))
			return -ENOMEM;
	return 0;
}

/* The answer to a GetConfiguration from @known and @unknown (new reference). */
static json_t *config_answer(const json_t *known, const json_t *unknown)
{
	json_t *res = json_object();
	if (res && ((json_array_size(known) && json_object_set(res, "configurationKey", (json_t *)known)) ||
		    (json_array_size(unknown) && json_object_set(res, "unknownKey", (json_t *)unknown))))
		res = (json_decref(res), NULL);
	return res;
}

/* Appends KeyValue list @more (taken; NULL: nothing) to @known, keys it
 * already has excepted. */
static int keys_append(json_t *known, json_t *more)
{
	json_t *kv;
	size_t i;
	int r = 0;

	json_array_foreach(more, i, kv)
		if (!key_find(known, get_str(kv, "key")) && json_array_append(known, kv))
			r = -ENOMEM;
	json_decref(more);
	return r;
}

static int res_get_configuration(struct ogw_tr_env *env, const json_t *memo,
				 const json_t *result, json_t **ret)
{
	json_t *known = json_array(), *unknown = json_deep_copy(json_object_get(memo, "unknown"));
	bool all = json_is_true(json_object_get(memo, "all"));
	json_t *item, *inv = all ? inventory_get(env) : NULL, *map = cmap_get(env);
	size_t i;
	int r = -ENOMEM;

	if (!known || !unknown || !map)
		goto out;
	json_array_foreach(json_object_get(result, "getVariableResult"), i, item) {
		long long conn;
		const struct ogw_cfg_key *k = config_by_variable(json_object_get(item, "component"),
								json_object_get(item, "variable"), &conn);
		const char *value = get_str(item, "attributeValue");
		bool accepted = !strcmp(get_str(item, "attributeStatus"), "Accepted");

		if (!k)
			continue;
		if (k->form == OGW_CFG_PER_CONNECTOR) {
			if (accepted && list_add_evse(known, k, k->readonly, map, conn, value))
				goto out;
			continue;
		}
		if (!accepted) {
			/* unknownKey lists requested keys; "every key" asked for none. */
			if (!all && json_array_append_new(unknown, json_string(k->key)))
				goto out;
			continue;
		}
		if (json_array_append_new(known, key_value16(k, k->readonly, value)))
			goto out;
	}
	/* a per-connector key none of whose parts was read, and the keys the
	 * gateway says for the station */
	json_array_foreach(json_object_get(memo, "lists"), i, item)
		if (!key_find(known, json_string_value(item)) && json_array_append(unknown, item))
			goto out;
	if (keys_append(known, json_deep_copy(json_object_get(memo, "synth"))) ||
	    keys_append(known, inventory_keys(env, inv)) ||
	    keys_filter(known, unknown, json_object_get(memo, "keys")) ||
	    !(*ret = config_answer(known, unknown)))
		goto out;
	r = 0;
out:
	json_decref(map);
	json_decref(inv);
	json_decref(known);
	json_decref(unknown);
	return r;
}

/*
 * GetConfiguration without keys (or with an empty list) asks for a
 * FullInventory GetBaseReport (B07) and answers from the NotifyReport parts
 * it brings (its requestId, the last part with tbc false), so the
 * central system gets every mapped key the station has, not only those
 * GetVariables could name, and the keys 1.6 requires that no variable
 * holds: NumberOfConnectors (the EVSEs the report shows, 1.6 connector n
 * being EVSE n) and SupportedFeatureProfiles (below). What the report
 * showed of the station is kept ("inventory") for later requests. The CALL
 * is deferred under "report:<requestId>" and its parts are gathered in the
 * state "report". A GetConfiguration naming one of those keys while the
 * gateway has no inventory takes the same path, answered with the keys it
 * named.
 *
 * A refused GetBaseReport (any status but Accepted, a CALLERROR, no
 * answer) falls back to one GetVariables for every row of the table;
 * when that cannot be sent or gets no answer either, the central system
 * gets a CALLERROR: an empty configurationKey list would claim the station
 * has no configuration at all. While one collection runs, another
 * GetConfiguration without keys takes the GetVariables path at once.
 */
struct report_req {                 /* user of the gateway's calls for a report */
	long long request;
	json_t *keys;               /* the keys asked for, or NULL for all */
};

static void report_req_free(struct report_req *ctx)
{
	if (ctx)
		json_decref(ctx->keys);
	free(ctx);
}

static void report_key(char *buf, size_t len, long long request)
{
	snprintf(buf, len, "report:%lld", request);
}

static struct ogw_tr_pending *report_pending(struct ogw_tr_env *env, long long request)
{
	char key[KEY_MAX];
	report_key(key, sizeof(key), request);
	return ogw_tr_pending_find(env, key);
}

/* The collection state, if it belongs to @request (a new reference). */
static json_t *report_state(struct ogw_tr_env *env, long long request)
{
	json_t *st = ogw_tr_state_get(env, "report");
	if (st && json_integer_value(json_object_get(st, "requestId")) != request) {
		json_decref(st);
		return NULL;
	}
	return st;
}

static void report_forget(struct ogw_tr_env *env, long long request)
{
	json_t *st = report_state(env, request);
	if (st)
		ogw_tr_state_del(env, "report");
	json_decref(st);
}

static void report_fallback_done(struct ogw_tr_env *env, void *user, const json_t *result)
{
	struct report_req *ctx = user;
	struct ogw_tr_pending *p = report_pending(env, ctx->request);
	json_t *memo = NULL, *ans = NULL;

	if (p && result) {
		memo = memo_all(ctx->keys);
		if (!memo || res_get_configuration(env, memo, result, &ans))
			ans = NULL;
	}
	report_req_free(ctx);
	if (!p)
		return;    /* answered by the session's timeout meanwhile */
	ogw_tr_answer(env, p, ans, result ? OGW_ERR_INTERNAL : OGW_ERR_GENERIC,
		      result ? "out of memory" :
			       "the charging station answered neither GetBaseReport nor GetVariables");
	json_decref(memo);
}

static void report_started(struct ogw_tr_env *env, void *user, const json_t *result)
{
	struct report_req *ctx = user;
	const char *status = get_str(result, "status");
	struct ogw_tr_pending *p;
	json_t *payload;

	if (status && !strcmp(status, "Accepted")) {
		report_req_free(ctx);
		return;    /* the NotifyReport parts answer it */
	}
	report_forget(env, ctx->request);
	p = report_pending(env, ctx->request);
	if (!p) {
		report_req_free(ctx);
		return;
	}
	/* ctx goes to report_fallback_done, unless the emit fails. */
	payload = get_variables_all(env);
	if (payload &&
	    !ogw_tr_emit(env, OGW_TR_DOWN, "GetVariables", payload, report_fallback_done, ctx))
		return;
	report_req_free(ctx);
	ogw_tr_answer(env, p, NULL, OGW_ERR_GENERIC,
		      "the charging station refused GetBaseReport and GetVariables could not be sent");
}

/* The fallback as a FORWARD, when the report cannot even start. */
static int forward_all(struct ogw_tr_env *env, struct ogw_tr_out *out, const json_t *keys)
{
	return out_forward(out, "GetVariables", get_variables_all(env), memo_all(keys));
}

/* @keys (borrowed): the keys asked for, or NULL for all. */
static int report_start(struct ogw_tr_env *env, struct ogw_tr_out *out, const json_t *keys)
{
	json_t *st = ogw_tr_state_get(env, "report"), *req;
	long long request = json_integer_value(json_object_get(st, "requestId"));
	bool busy = st && report_pending(env, request);
	struct report_req *ctx;
	char key[KEY_MAX];

	json_decref(st);
	if (busy)
		return forward_all(env, out, keys);
	request = ogw_tr_next_id(env, "requestId");
	ctx = request > 0 ? calloc(1, sizeof(*ctx)) : NULL;
	st = json_pack("{s:I, s:[], s:{}}", "requestId", (json_int_t)request, "configurationKey",
		       "seen");
	/* No id, no memory or no store: the GetVariables path needs neither. */
	if (!ctx || !st || (keys && json_object_set(st, "keys", (json_t *)keys)) ||
	    ogw_tr_state_put(env, "report", json_incref(st))) {
		json_decref(st);
		report_req_free(ctx);
		return forward_all(env, out, keys);
	}
	json_decref(st);
	ctx->request = request;
	ctx->keys = json_incref((json_t *)keys);
	req = json_pack("{s:I, s:s}", "requestId", (json_int_t)request, "reportBase",
			"FullInventory");
	if (!req || ogw_tr_emit(env, OGW_TR_DOWN, "GetBaseReport", req, report_started, ctx)) {
		report_req_free(ctx);
		ogw_tr_state_del(env, "report");
		return forward_all(env, out, keys);
	}
	/* From here ctx belongs to report_started. */
	report_key(key, sizeof(key), request);
	if (!ogw_tr_defer_keyed(env, key)) {
		ogw_tr_state_del(env, "report");
		return -ENOMEM;
	}
	out->outcome = OGW_TR_DEFER;
	return 0;
}

/* The Actual attribute of a reported variable (type defaults to Actual). */
static const json_t *actual_attribute(const json_t *item)
{
	const json_t *a;
	size_t i;

	json_array_foreach(json_object_get(item, "variableAttribute"), i, a) {
		const char *type = get_str(a, "type");
		if (!type || !strcmp(type, "Actual"))
			return a;
	}
	return NULL;
}

/*
 * What a report shows of the station's shape, in @seen: "evses" the
 * highest EVSE id of any component, and per functional block of a 1.6
 * feature profile whether the station has it (its controller component
 * reported, and its Available variable, if reported, not false).
 */
static int report_seen(json_t *seen, const json_t *item)
{
	static const char *const blocks[] = { "LocalAuthListCtrlr", "ReservationCtrlr",
					      "SmartChargingCtrlr" };
	const json_t *comp = json_object_get(item, "component");
	const json_t *evse = json_object_get(comp, "evse");
	json_int_t id = json_integer_value(json_object_get(evse, "id"));
	const char *name = get_str(comp, "name");

	if (id > json_integer_value(json_object_get(seen, "evses")) &&
	    json_object_set_new(seen, "evses", json_integer(id)))
		return -ENOMEM;
	if (!in_list(blocks, N(blocks), name))
		return 0;
	if (!str_eq_opt(get_str(json_object_get(item, "variable"), "name"), "Available"))
		return json_object_get(seen, name) ? 0
		       : json_object_set_new(seen, name, json_true()) ? -ENOMEM : 0;
	return json_object_set_new(seen, name,
				   json_boolean(!str_eq_opt(get_str(actual_attribute(item), "value"),
							    "false")))
		       ? -ENOMEM
		       : 0;
}

/* The inventory (new reference) from what a full report showed. Core,
 * FirmwareManagement and RemoteTrigger are functions every 2.0.1 station
 * has (B, F06, L01 in the Core certification profile); the other profiles
 * follow their functional block. */
static json_t *report_inventory(const json_t *seen)
{
	static const struct str_pair profiles[] = {
		{ "LocalAuthListCtrlr", "LocalAuthListManagement" },
		{ "ReservationCtrlr", "Reservation" },
		{ "SmartChargingCtrlr", "SmartCharging" },
	};
	char features[160] = "Core,FirmwareManagement,RemoteTrigger";

	for (size_t i = 0; i < N(profiles); i++)
		if (json_is_true(json_object_get(seen, profiles[i].from))) {
			strcat(features, ",");
			strcat(features, profiles[i].to);
		}
	return json_pack("{s:I, s:s}", "evses", json_integer_value(json_object_get(seen, "evses")),
			 "features", features);
}

/*
 * Adds the 1.6 KeyValue of every mapped variable in @report_data to @list
 * and what it shows of the station to @seen: station-level rows from the
 * station-level component (no evse, no instance, as GetVariables reads
 * it), first report of a key wins; per-connector rows from each EVSE's
 * variable. readonly is mutability ReadOnly (absent means ReadWrite); a
 * variable without a value (WriteOnly) keeps the key without one. Keys
 * come from the table, all within CiString50; values longer than
 * CiString500 are cut, as on the GetVariables path.
 */
static int report_collect(json_t *list, json_t *seen, const json_t *map,
			  const json_t *report_data)
{
	const json_t *item;
	size_t i;

	json_array_foreach(report_data, i, item) {
		const json_t *comp = json_object_get(item, "component");
		long long conn;
		const struct ogw_cfg_key *k = config_by_variable(comp, json_object_get(item, "variable"),
								&conn);
		const json_t *attr = actual_attribute(item);
		const char *mutability = get_str(attr, "mutability");
		bool readonly = mutability && !strcmp(mutability, "ReadOnly");
		const char *value = get_str(attr, "value");

		if (report_seen(seen, item))
			return -ENOMEM;
		if (!k || !attr)
			continue;
		if (k->form == OGW_CFG_PER_CONNECTOR) {
			/* One 1.6 key for several variables: its accessibility is
			 * 1.6's (the table's), as on the GetVariables path. */
			if (list_add_evse(list, k, k->readonly, map, conn, value))
				return -ENOMEM;
			continue;
		}
		if (key_find(list, k->key))
			continue;
		if (json_array_append_new(list, key_value16(k, readonly, value)))
			return -ENOMEM;
	}
	return 0;
}

/* The answer to the GetConfiguration a finished report collection @st
 * serves, keeping what it showed of the station (new reference). */
static json_t *report_answer(struct ogw_tr_env *env, json_t *st)
{
	json_t *list = json_object_get(st, "configurationKey"), *unknown = json_array();
	json_t *inv = report_inventory(json_object_get(st, "seen")), *ans = NULL;

	if (inv && unknown && !keys_append(list, inventory_keys(env, inv)) &&
	    !keys_filter(list, unknown, json_object_get(st, "keys")))
		ans = config_answer(list, unknown);
	if (inv)
		ogw_tr_state_put(env, "inventory", json_incref(inv));
	json_decref(inv);
	json_decref(unknown);
	return ans;
}

static int pair_cmp(const void *a, const void *b)
{
	const long long *x = a, *y = b;
	return x[0] != y[0] ? (x[0] > y[0]) - (x[0] < y[0]) : (x[1] > y[1]) - (x[1] < y[1]);
}

/* Learns into connector map @map the connectors report part @report_data
 * shows (a component's evse, connector 1 when it names none), in (evse,
 * connector) order: a full report is the station's whole picture. A
 * station with more connectors than the map holds keeps the first ones. */
static int report_learn(json_t *map, const json_t *report_data, bool *ret_changed)
{
	long long pairs[OGW_CMAP_MAX][2];
	size_t n = 0, i, j;
	const json_t *item;

	json_array_foreach(report_data, i, item) {
		const json_t *evse = json_object_get(json_object_get(item, "component"), "evse");
		long long e = json_integer_value(json_object_get(evse, "id"));
		long long c = json_integer_value(json_object_get(evse, "connectorId"));

		if (e <= 0 || e > OGW_CMAP_MAX || c > OGW_CMAP_MAX)
			continue;
		c = c < 1 ? 1 : c;
		for (j = 0; j < n && (pairs[j][0] != e || pairs[j][1] != c); j++)
			;
		if (j == n && n < N(pairs)) {
			pairs[n][0] = e;
			pairs[n++][1] = c;
		}
	}
	qsort(pairs, n, sizeof(pairs[0]), pair_cmp);
	for (i = 0; i < n; i++) {
		bool changed;
		long long id = ogw_cmap_learn(map, pairs[i][0], pairs[i][1], &changed);
		if (id == -ENOMEM)
			return -ENOMEM;
		*ret_changed = *ret_changed || changed;
	}
	return 0;
}

/*
 * NotifyReport: the gateway is the station's CSMS, so every part is answered
 * {} at once. Parts of a collection in progress are gathered; the last one
 * (tbc false) answers the GetConfiguration. A part for a collection that is
 * over (timed out) drops what was gathered for it.
 */
static int up_notify_report(struct ogw_tr_env *env, const json_t *payload,
			    struct ogw_tr_out *out)
{
	long long request = json_integer_value(json_object_get(payload, "requestId"));
	struct ogw_tr_pending *p = report_pending(env, request);
	json_t *st = report_state(env, request), *list = json_object_get(st, "configurationKey");
	json_t *seen = json_object_get(st, "seen"), *map = cmap_get(env);
	bool learned = false;
	int r;

	/* Whoever asked for it, a report shows the station's connectors. */
	r = map ? report_learn(map, json_object_get(payload, "reportData"), &learned) : -ENOMEM;
	if (!r && learned)
		r = cmap_put(env, map);
	json_decref(map);
	if (r) {
		json_decref(st);
		return r;
	}
	if (!p || !json_is_array(list) || !json_is_object(seen)) {
		/* A pending without state: the GetVariables fallback answers it. */
		if (!p && st)
			ogw_tr_state_del(env, "report");
		json_decref(st);
		return ogw_tr_out_answer(out, json_object());
	}
	map = cmap_get(env);
	r = map ? report_collect(list, seen, map, json_object_get(payload, "reportData"))
		: -ENOMEM;
	json_decref(map);
	if (!r && json_is_true(json_object_get(payload, "tbc")))
		r = ogw_tr_state_put(env, "report", json_incref(st));
	else if (!r)
		ogw_tr_answer(env, p, report_answer(env, st), OGW_ERR_INTERNAL, "out of memory");
	if (r) /* a part lost: better no answer than a wrong one */
		ogw_tr_answer(env, p, NULL, OGW_ERR_INTERNAL, "the report could not be kept");
	if (r || !json_is_true(json_object_get(payload, "tbc")))
		ogw_tr_state_del(env, "report");
	json_decref(st);
	/* The station's part was fine whatever became of it here. */
	return ogw_tr_out_answer(out, json_object());
}

/* Keys 1.6 requires that no 2.0.1 variable holds: the gateway says them
 * from the station's inventory. */
static bool key_synthesized(const char *key)
{
	return !strcasecmp(key, "NumberOfConnectors") || !strcasecmp(key, "SupportedFeatureProfiles");
}

/*
 * GetConfiguration with keys -> GetVariables for the mapped keys (per
 * connector: the station's and each known EVSE's); unmapped ones are
 * unknownKey at once. NumberOfConnectors and SupportedFeatureProfiles come
 * from the inventory; without one, and for ConnectorPhaseRotation whose
 * EVSEs are unknown, the whole request takes the report path. Without
 * keys: the report above.
 */
static int down_get_configuration(struct ogw_tr_env *env, const json_t *payload,
				  struct ogw_tr_out *out)
{
	json_t *keys = json_object_get(payload, "key");
	json_t *inv = inventory_get(env), *synth = inventory_keys(env, inv);
	long long evses = json_integer_value(json_object_get(inv, "evses"));
	json_t *data = NULL, *unknown = NULL, *lists = NULL, *memo, *k;
	size_t i;
	int r = -ENOMEM;

	if (!json_array_size(keys)) {
		r = report_start(env, out, NULL);
		goto out;
	}
	data = json_array();
	unknown = json_array();
	lists = json_array();
	if (!data || !unknown || !lists || (inv && !synth))
		goto out;
	json_array_foreach(keys, i, k) {
		const char *name = json_string_value(k);
		const struct ogw_cfg_key *c = ogw_cfg_by_key(name);
		if (!inv && (key_synthesized(name) || (c && c->form == OGW_CFG_PER_CONNECTOR))) {
			r = report_start(env, out, keys);
			goto out;
		}
		if (key_synthesized(name)) {
			if (!key_find(synth, name) && json_array_append(unknown, k))
				goto out;
			continue;
		}
		if (c ? config_refs(data, c, evses) : json_array_append(unknown, k))
			goto out;
		if (c && c->form == OGW_CFG_PER_CONNECTOR &&
		    json_array_append_new(lists, json_string(c->key)))
			goto out;
	}
	/* the inventory's keys, as far as they were asked for (those it
	 * lacks are listed unknown by the mapped path already) */
	if (synth) {
		json_t *none = json_array();
		int e = none ? keys_filter(synth, none, keys) : -ENOMEM;
		json_decref(none);
		if (e)
			goto out;
	}
	if (!json_array_size(data)) {
		r = ogw_tr_out_answer(out, config_answer(synth, unknown));
		goto out;
	}
	memo = json_pack("{s:O, s:b, s:O, s:O}", "unknown", unknown, "all", 0, "lists", lists,
			 "synth", synth ? synth : json_null());
	r = out_forward(out, "GetVariables", json_pack("{s:O}", "getVariableData", data), memo);
out:
	json_decref(lists);
	json_decref(synth);
	json_decref(inv);
	json_decref(data);
	json_decref(unknown);
	return r;
}

/* ---- plain mappings ------------------------------------------------------ */

static int down_clear_cache(struct ogw_tr_env *env, const json_t *payload,
			    struct ogw_tr_out *out)
{
	(void)env;
	(void)payload;
	return out_forward(out, "ClearCache", json_object(), NULL);
}

static int down_cancel_reservation(struct ogw_tr_env *env, const json_t *payload,
				   struct ogw_tr_out *out)
{
	(void)env;
	return out_forward(out, "CancelReservation", json_deep_copy(payload), NULL);
}

static int down_certificate_signed(struct ogw_tr_env *env, const json_t *payload,
				   struct ogw_tr_out *out)
{
	(void)env;
	return out_forward(out, "CertificateSigned", json_deep_copy(payload), NULL);
}

static int down_delete_certificate(struct ogw_tr_env *env, const json_t *payload,
				   struct ogw_tr_out *out)
{
	(void)env;
	return out_forward(out, "DeleteCertificate", json_deep_copy(payload), NULL);
}

static const struct str_pair cert_use201[] = {
	{ "CentralSystemRootCertificate", "CSMSRootCertificate" },
	{ "ManufacturerRootCertificate", "ManufacturerRootCertificate" },
};

static int down_install_certificate(struct ogw_tr_env *env, const json_t *payload,
				    struct ogw_tr_out *out)
{
	(void)env;
	return out_forward(out, "InstallCertificate",
			   json_pack("{s:s, s:O}", "certificateType",
				     map_str(cert_use201, N(cert_use201),
					     get_str(payload, "certificateType"), NULL),
				     "certificate", json_object_get(payload, "certificate")), NULL);
}

static int down_get_installed_certs(struct ogw_tr_env *env, const json_t *payload,
				    struct ogw_tr_out *out)
{
	(void)env;
	return out_forward(out, "GetInstalledCertificateIds",
			   json_pack("{s:[s]}", "certificateType",
				     map_str(cert_use201, N(cert_use201),
					     get_str(payload, "certificateType"), NULL)), NULL);
}

static int res_get_installed_certs(struct ogw_tr_env *env, const json_t *memo,
				   const json_t *result, json_t **ret)
{
	json_t *hashes = json_array(), *chain, *res = NULL;
	size_t i;
	int r = -ENOMEM;
	(void)env;
	(void)memo;

	if (!hashes)
		goto out;
	json_array_foreach(json_object_get(result, "certificateHashDataChain"), i, chain) {
		json_t *h = json_object_get(chain, "certificateHashData");
		if (json_array_append_new(hashes,
					  json_pack("{s:O, s:O, s:O, s:O}", "hashAlgorithm",
						    json_object_get(h, "hashAlgorithm"),
						    "issuerNameHash", json_object_get(h, "issuerNameHash"),
						    "issuerKeyHash", json_object_get(h, "issuerKeyHash"),
						    "serialNumber", json_object_get(h, "serialNumber"))))
			goto out;
	}
	res = json_pack("{s:O}", "status", json_object_get(result, "status"));
	if (!res || (json_array_size(hashes) && json_object_set(res, "certificateHashData", hashes)))
		goto out;
	*ret = json_incref(res);
	r = 0;
out:
	json_decref(res);
	json_decref(hashes);
	return r;
}

/* The 2.0.1 messages a 1.6 central system sends a Plug & Charge station
 * inside DataTransfer (OCA "Using ISO 15118 Plug & Charge with OCPP 1.6"). */
static const char *const pnc_down[] = {
	"CertificateSigned", "DeleteCertificate", "GetInstalledCertificateIds",
	"InstallCertificate", "TriggerMessage",
};

/* A PnC DataTransfer is unwrapped into the 2.0.1 message it carries (its
 * answer wrapped back in res_data_transfer); other DataTransfers pass, a
 * 1.6 string being valid 2.0.1 "any" as it is. A PnC message whose data is
 * no JSON object is refused with DataTransfer's Rejected. */
static int down_data_transfer(struct ogw_tr_env *env, const json_t *payload,
			      struct ogw_tr_out *out)
{
	const char *msg = get_str(payload, "messageId");
	const char *data = get_str(payload, "data");
	json_t *inner;
	(void)env;

	if (!str_eq_opt(get_str(payload, "vendorId"), PNC_VENDOR) ||
	    !in_list(pnc_down, N(pnc_down), msg))
		return out_forward(out, "DataTransfer", json_deep_copy(payload), NULL);
	inner = data ? json_loads(data, 0, NULL) : NULL;
	if (!json_is_object(inner)) {
		json_decref(inner);
		return ogw_tr_out_status(out, "Rejected");
	}
	for (size_t i = 0; i < N(pnc_down); i++)
		if (!strcmp(pnc_down[i], msg))
			return out_forward(out, pnc_down[i], inner, json_string(pnc_down[i]));
	json_decref(inner);
	return -EINVAL;
}

static int res_data_transfer(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
			     json_t **ret)
{
	json_t *p;
	(void)env;

	if (json_is_string(memo)) {
		char *text = json_dumps(result, JSON_COMPACT);
		*ret = text ? json_pack("{s:s, s:s}", "status", "Accepted", "data", text) : NULL;
		free(text);
		return *ret ? 0 : -ENOMEM;
	}
	p = json_pack("{s:O}", "status", json_object_get(result, "status"));
	if (p && data_to16(p, result)) {
		json_decref(p);
		p = NULL;
	}
	*ret = p;
	return p ? 0 : -ENOMEM;
}

static int down_get_local_list_version(struct ogw_tr_env *env, const json_t *payload,
				       struct ogw_tr_out *out)
{
	(void)env;
	(void)payload;
	return out_forward(out, "GetLocalListVersion", json_object(), NULL);
}

static int res_get_local_list_version(struct ogw_tr_env *env, const json_t *memo,
				      const json_t *result, json_t **ret)
{
	(void)env;
	(void)memo;
	*ret = json_pack("{s:O}", "listVersion", json_object_get(result, "versionNumber"));
	return *ret ? 0 : -ENOMEM;
}

static int down_send_local_list(struct ogw_tr_env *env, const json_t *payload,
				struct ogw_tr_out *out)
{
	json_t *list = json_array(), *item, *p = NULL;
	size_t i;
	(void)env;

	if (!list)
		return -ENOMEM;
	json_array_foreach(json_object_get(payload, "localAuthorizationList"), i, item) {
		json_t *info = json_object_get(item, "idTagInfo");
		json_t *e = json_pack("{s:o}", "idToken", idtoken_from16(get_str(item, "idTag")));
		if (!e || (info && json_object_set_new(e, "idTokenInfo", idtokeninfo_from16(info))) ||
		    json_array_append_new(list, e))
			goto fail;
	}
	p = json_pack("{s:O, s:O}", "versionNumber", json_object_get(payload, "listVersion"),
		      "updateType", json_object_get(payload, "updateType"));
	/* 2.0.1 wants the list absent rather than empty. */
	if (!p || (json_array_size(list) && json_object_set(p, "localAuthorizationList", list)))
		goto fail;
	json_decref(list);
	return out_forward(out, "SendLocalList", p, NULL);
fail:
	json_decref(p);
	json_decref(list);
	return -ENOMEM;
}

static int down_reserve_now(struct ogw_tr_env *env, const json_t *payload,
			    struct ogw_tr_out *out)
{
	long long c = json_integer_value(json_object_get(payload, "connectorId"));
	const char *parent = get_str(payload, "parentIdTag");
	json_t *p;

	p = json_pack("{s:O, s:O, s:o}", "id", json_object_get(payload, "reservationId"),
		      "expiryDateTime", json_object_get(payload, "expiryDate"),
		      "idToken", idtoken_from16(get_str(payload, "idTag")));
	/* 2.0.1 reserves an EVSE (H01), never one of its connectors. */
	if (!p || (c > 0 && set_int(p, "evseId", evse_of16(env, c))) ||
	    (parent && json_object_set_new(p, "groupIdToken", idtoken_from16(parent)))) {
		json_decref(p);
		return -ENOMEM;
	}
	return out_forward(out, "ReserveNow", p, NULL);
}

/* ---- smart charging ------------------------------------------------------ */

/* 1.6 lets a TxProfile omit transactionId (the running transaction is
 * meant); 2.0.1 requires it (K01.FR.03): the transaction running on 1.6
 * connector @connector is named, -ENOENT when none runs there. */
static int tx_profile_bind(struct ogw_tr_env *env, long long connector, json_t *prof)
{
	json_t *e = connector > 0 ? evse_rec_on(env, evse_of16(env, connector), connector) : NULL;
	json_t *txid = json_object_get(e, "tx");
	int r = -ENOENT;

	if (json_is_string(txid))
		r = json_object_set(prof, "transactionId", txid) ? -ENOMEM : 0;
	json_decref(e);
	return r;
}

static int down_set_charging_profile(struct ogw_tr_env *env, const json_t *payload,
				     struct ogw_tr_out *out)
{
	json_t *prof = NULL;
	int r = profile_from16(env, json_object_get(payload, "csChargingProfiles"), &prof);

	if (!r && str_eq_opt(get_str(prof, "chargingProfilePurpose"), "TxProfile") &&
	    !json_object_get(prof, "transactionId"))
		r = tx_profile_bind(env, json_integer_value(json_object_get(payload, "connectorId")),
				    prof);
	if (r == -ENOENT || r == -EINVAL) {
		json_decref(prof);
		return ogw_tr_out_answer(out, json_pack("{s:s}", "status", "Rejected"));
	}
	if (r) {
		json_decref(prof);
		return r;
	}
	/* 2.0.1 profiles are an EVSE's (K01): the one of the 1.6 connector. */
	return out_forward(out, "SetChargingProfile",
			   json_pack("{s:I, s:o}", "evseId",
				     (json_int_t)evse_of16(env, json_integer_value(
							 json_object_get(payload, "connectorId"))),
				     "chargingProfile", prof), NULL);
}

static int down_clear_charging_profile(struct ogw_tr_env *env, const json_t *payload,
				       struct ogw_tr_out *out)
{
	const char *purpose = get_str(payload, "chargingProfilePurpose");
	json_t *p = json_object(), *crit = json_object();
	json_t *c16 = json_object_get(payload, "connectorId");
	int r = -ENOMEM;

	if (!p || !crit || copy_opt(p, payload, "id", "chargingProfileId") ||
	    (c16 && set_int(crit, "evseId", evse_of16(env, json_integer_value(c16)))) ||
	    copy_opt(crit, payload, "stackLevel", NULL) ||
	    (purpose && json_object_set_new(crit, "chargingProfilePurpose",
					    json_string(map_str(purpose201, N(purpose201), purpose,
								purpose)))) ||
	    (json_object_size(crit) && json_object_set(p, "chargingProfileCriteria", crit)))
		goto out;
	r = out_forward(out, "ClearChargingProfile", json_incref(p), NULL);
out:
	json_decref(p);
	json_decref(crit);
	return r;
}

static int down_get_composite_schedule(struct ogw_tr_env *env, const json_t *payload,
				       struct ogw_tr_out *out)
{
	json_t *c16 = json_object_get(payload, "connectorId");
	json_t *p = json_pack("{s:O, s:I}", "duration", json_object_get(payload, "duration"),
			      "evseId", (json_int_t)evse_of16(env, json_integer_value(c16)));

	if (p && copy_opt(p, payload, "chargingRateUnit", NULL)) {
		json_decref(p);
		return -ENOMEM;
	}
	/* The answer names the connector asked for, not the first of its EVSE. */
	return out_forward(out, "GetCompositeSchedule", p, json_incref(c16));
}

/* 1.6 limits are multiples of 0.1 (S16 §7.12). */
static json_t *limit16(const json_t *limit)
{
	return json_real((double)round_ll(json_number_value(limit) * 10) / 10);
}

static int res_get_composite_schedule(struct ogw_tr_env *env, const json_t *memo,
				      const json_t *result, json_t **ret)
{
	json_t *s = json_object_get(result, "schedule"), *per, *periods = NULL, *sched = NULL;
	json_t *res = json_pack("{s:O}", "status", json_object_get(result, "status"));
	size_t i;
	int r = -ENOMEM;
	(void)env;

	if (!res)
		goto out;
	if (s) {
		periods = json_array();
		if (!periods)
			goto out;
		json_array_foreach(json_object_get(s, "chargingSchedulePeriod"), i, per) {
			json_t *p16 = json_pack("{s:O, s:o}", "startPeriod",
						json_object_get(per, "startPeriod"), "limit",
						limit16(json_object_get(per, "limit")));
			if (!p16 || copy_opt(p16, per, "numberPhases", NULL) ||
			    json_array_append_new(periods, p16)) {
				json_decref(p16);
				goto out;
			}
		}
		sched = json_pack("{s:O, s:O, s:O, s:O}", "duration", json_object_get(s, "duration"),
				  "startSchedule", json_object_get(s, "scheduleStart"),
				  "chargingRateUnit", json_object_get(s, "chargingRateUnit"),
				  "chargingSchedulePeriod", periods);
		if (!sched || json_object_set(res, "connectorId", (json_t *)memo) ||
		    copy_opt(res, s, "scheduleStart", NULL) ||
		    json_object_set(res, "chargingSchedule", sched))
			goto out;
	}
	*ret = json_incref(res);
	r = 0;
out:
	json_decref(res);
	json_decref(periods);
	json_decref(sched);
	return r;
}

/* ---- triggers ------------------------------------------------------------ */

static const struct str_pair trigger201[] = {
	{ "BootNotification", "BootNotification" },
	{ "DiagnosticsStatusNotification", "LogStatusNotification" },
	{ "FirmwareStatusNotification", "FirmwareStatusNotification" },
	{ "Heartbeat", "Heartbeat" },
	{ "LogStatusNotification", "LogStatusNotification" },
	{ "MeterValues", "MeterValues" },
	{ "SignChargePointCertificate", "SignChargingStationCertificate" },
	{ "StatusNotification", "StatusNotification" },
};

/* TriggerMessage and ExtendedTriggerMessage: a 2.0.1 StatusNotification
 * trigger names the connector (F06), the others its EVSE. */
static int down_trigger(struct ogw_tr_env *env, const json_t *payload, struct ogw_tr_out *out)
{
	const char *msg = map_str(trigger201, N(trigger201), get_str(payload, "requestedMessage"),
				  NULL);
	long long c = json_integer_value(json_object_get(payload, "connectorId"));
	json_t *p = json_pack("{s:s}", "requestedMessage", msg), *evse;

	if (p && json_object_get(payload, "connectorId") && c > 0) {
		evse = evse_obj(env, c, !strcmp(msg, "StatusNotification"));
		if (!evse || json_object_set_new(p, "evse", evse)) {
			json_decref(p);
			return -ENOMEM;
		}
	}
	return out_forward(out, "TriggerMessage", p, NULL);
}

/* ---- firmware and logs ---------------------------------------------------- */

static int down_update_firmware(struct ogw_tr_env *env, const json_t *payload,
				struct ogw_tr_out *out)
{
	const char *loc = get_str(payload, "location");
	json_t *p;

	if (utf8_len(loc) > LOCATION201_MAX)
		return out_error(out, OGW_ERR_PROPERTY_CONSTRAINT,
				 "location longer than the 512 characters OCPP 2.0.1 allows");
	p = json_pack("{s:I, s:{s:s, s:O}}", "requestId",
		      (json_int_t)ogw_tr_next_id(env, "firmware"), "firmware", "location", loc,
		      "retrieveDateTime", json_object_get(payload, "retrieveDate"));
	if (p && (copy_opt(p, payload, "retries", NULL) ||
		  copy_opt(p, payload, "retryInterval", NULL))) {
		json_decref(p);
		return -ENOMEM;
	}
	return out_forward(out, "UpdateFirmware", p, NULL);
}

/* 1.6 UpdateFirmware.conf is empty: whatever the station says. */
static int res_update_firmware(struct ogw_tr_env *env, const json_t *memo,
			       const json_t *result, json_t **ret)
{
	(void)env;
	(void)memo;
	(void)result;
	*ret = json_object();
	return *ret ? 0 : -ENOMEM;
}

static int down_signed_update_firmware(struct ogw_tr_env *env, const json_t *payload,
				       struct ogw_tr_out *out)
{
	json_t *req = json_object_get(payload, "requestId");
	int r = state_put_num(env, "fw", json_integer_value(req), json_pack("{s:b}", "signed", 1));

	if (r)
		return r;
	/* SEC16 SignedUpdateFirmware is 2.0.1 UpdateFirmware field for field. */
	return out_forward(out, "UpdateFirmware", json_deep_copy(payload), NULL);
}

/* Remembers who asked for log @request, so its LogStatusNotification goes
 * back in the matching 1.6 message. */
static int log_remember(struct ogw_tr_env *env, long long request, const char *via)
{
	return state_put_num(env, "log", request, json_pack("{s:s}", "via", via));
}

static int down_get_diagnostics(struct ogw_tr_env *env, const json_t *payload,
				struct ogw_tr_out *out)
{
	const char *loc = get_str(payload, "location");
	long long req;
	json_t *p;
	int r;

	if (utf8_len(loc) > LOCATION201_MAX)
		return out_error(out, OGW_ERR_PROPERTY_CONSTRAINT,
				 "location longer than the 512 characters OCPP 2.0.1 allows");
	req = ogw_tr_next_id(env, "log");
	p = json_pack("{s:{s:s}, s:s, s:I}", "log", "remoteLocation", loc, "logType",
		      "DiagnosticsLog", "requestId", (json_int_t)req);
	if (!p || copy_opt(json_object_get(p, "log"), payload, "startTime", "oldestTimestamp") ||
	    copy_opt(json_object_get(p, "log"), payload, "stopTime", "latestTimestamp") ||
	    copy_opt(p, payload, "retries", NULL) || copy_opt(p, payload, "retryInterval", NULL)) {
		json_decref(p);
		return -ENOMEM;
	}
	r = log_remember(env, req, "GetDiagnostics");
	if (r) {
		json_decref(p);
		return r;
	}
	return out_forward(out, "GetLog", p, NULL);
}

static int res_get_diagnostics(struct ogw_tr_env *env, const json_t *memo,
			       const json_t *result, json_t **ret)
{
	const char *st = get_str(result, "status");
	(void)env;
	(void)memo;
	/* No fileName tells the central system there is nothing to upload. */
	*ret = json_object();
	if (*ret && !strcmp(st, "Accepted") && copy_opt(*ret, result, "filename", "fileName")) {
		json_decref(*ret);
		*ret = NULL;
	}
	return *ret ? 0 : -ENOMEM;
}

static int down_get_log(struct ogw_tr_env *env, const json_t *payload, struct ogw_tr_out *out)
{
	int r = log_remember(env, json_integer_value(json_object_get(payload, "requestId")),
			     "GetLog");
	if (r)
		return r;
	/* SEC16 GetLog is 2.0.1 GetLog field for field. */
	return out_forward(out, "GetLog", json_deep_copy(payload), NULL);
}

static int res_get_log(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
		       json_t **ret)
{
	(void)env;
	(void)memo;
	*ret = json_pack("{s:O}", "status", json_object_get(result, "status"));
	if (*ret && copy_opt(*ret, result, "filename", NULL)) {
		json_decref(*ret);
		*ret = NULL;
	}
	return *ret ? 0 : -ENOMEM;
}

/* ======================================================================== */

/* Sorted by action name (binary search in ogw_translator_action()). */
static const struct ogw_tr_action up_actions[] = {
	{ "Authorize", OGW_TR_MAPPED, "Authorize or DataTransfer (ISO 15118 PnC)", up_authorize,
	  res_authorize },
	{ "BootNotification", OGW_TR_MAPPED, "BootNotification", up_boot, NULL },
	{ "ClearedChargingLimit", OGW_TR_LOCAL, "answered locally", up_local_empty, NULL },
	{ "DataTransfer", OGW_TR_MAPPED, "DataTransfer", up_data_transfer, NULL },
	{ "FirmwareStatusNotification", OGW_TR_MAPPED,
	  "FirmwareStatusNotification or SignedFirmwareStatusNotification", up_firmware_status,
	  NULL },
	{ "Get15118EVCertificate", OGW_TR_MAPPED, "DataTransfer (ISO 15118 PnC)",
	  up_get_15118_cert, res_get_15118_cert },
	{ "GetCertificateStatus", OGW_TR_MAPPED, "DataTransfer (ISO 15118 PnC)",
	  up_get_cert_status, res_get_cert_status },
	{ "Heartbeat", OGW_TR_MAPPED, "Heartbeat", up_heartbeat, NULL },
	{ "LogStatusNotification", OGW_TR_MAPPED,
	  "DiagnosticsStatusNotification or LogStatusNotification", up_log_status, NULL },
	{ "MeterValues", OGW_TR_MAPPED, "MeterValues", up_metervalues, NULL },
	{ "NotifyChargingLimit", OGW_TR_LOCAL, "answered locally", up_local_empty, NULL },
	{ "NotifyCustomerInformation", OGW_TR_LOCAL, "answered locally", up_local_empty, NULL },
	{ "NotifyDisplayMessages", OGW_TR_LOCAL, "answered locally", up_local_empty, NULL },
	{ "NotifyEVChargingNeeds", OGW_TR_LOCAL, "answered locally", up_ev_charging_needs, NULL },
	{ "NotifyEVChargingSchedule", OGW_TR_LOCAL, "answered locally", up_ev_charging_schedule, NULL },
	{ "NotifyEvent", OGW_TR_SYNTHESIZED, "StatusNotification (connector Problem)",
	  up_notify_event, NULL },
	{ "NotifyMonitoringReport", OGW_TR_LOCAL, "answered locally", up_local_empty, NULL },
	{ "NotifyReport", OGW_TR_LOCAL, "answered locally (parts of a GetConfiguration report)",
	  up_notify_report, NULL },
	{ "PublishFirmwareStatusNotification", OGW_TR_LOCAL, "answered locally", up_local_empty, NULL },
	{ "ReportChargingProfiles", OGW_TR_LOCAL, "answered locally", up_local_empty, NULL },
	{ "ReservationStatusUpdate", OGW_TR_LOCAL, "answered locally", up_local_empty, NULL },
	{ "SecurityEventNotification", OGW_TR_MAPPED, "SecurityEventNotification",
	  up_security_event, NULL },
	{ "SignCertificate", OGW_TR_MAPPED, "SignCertificate or DataTransfer (ISO 15118 PnC)",
	  up_sign_certificate, res_sign_certificate },
	{ "StatusNotification", OGW_TR_MAPPED, "StatusNotification", up_status, NULL },
	{ "TransactionEvent", OGW_TR_SYNTHESIZED,
	  "StartTransaction, MeterValues, StatusNotification, StopTransaction", up_transaction,
	  res_transaction },
};

static const struct ogw_tr_action down_actions[] = {
	{ "CancelReservation", OGW_TR_MAPPED, "CancelReservation", down_cancel_reservation,
	  res_status },
	{ "CertificateSigned", OGW_TR_MAPPED, "CertificateSigned", down_certificate_signed,
	  res_status },
	{ "ChangeAvailability", OGW_TR_MAPPED, "ChangeAvailability", down_change_availability,
	  res_status },
	{ "ChangeConfiguration", OGW_TR_MAPPED, "SetVariables", down_change_configuration,
	  res_change_configuration },
	{ "ClearCache", OGW_TR_MAPPED, "ClearCache", down_clear_cache, res_status },
	{ "ClearChargingProfile", OGW_TR_MAPPED, "ClearChargingProfile",
	  down_clear_charging_profile, res_status },
	{ "DataTransfer", OGW_TR_MAPPED,
	  "DataTransfer, or the ISO 15118 PnC message it carries", down_data_transfer,
	  res_data_transfer },
	{ "DeleteCertificate", OGW_TR_MAPPED, "DeleteCertificate", down_delete_certificate,
	  res_status },
	{ "ExtendedTriggerMessage", OGW_TR_MAPPED, "TriggerMessage", down_trigger, res_status },
	{ "GetCompositeSchedule", OGW_TR_MAPPED, "GetCompositeSchedule",
	  down_get_composite_schedule, res_get_composite_schedule },
	{ "GetConfiguration", OGW_TR_MAPPED,
	  "GetVariables, or GetBaseReport (+ NotifyReport) without keys", down_get_configuration,
	  res_get_configuration },
	{ "GetDiagnostics", OGW_TR_MAPPED, "GetLog", down_get_diagnostics, res_get_diagnostics },
	{ "GetInstalledCertificateIds", OGW_TR_MAPPED, "GetInstalledCertificateIds",
	  down_get_installed_certs, res_get_installed_certs },
	{ "GetLocalListVersion", OGW_TR_MAPPED, "GetLocalListVersion",
	  down_get_local_list_version, res_get_local_list_version },
	{ "GetLog", OGW_TR_MAPPED, "GetLog", down_get_log, res_get_log },
	{ "InstallCertificate", OGW_TR_MAPPED, "InstallCertificate", down_install_certificate,
	  res_status },
	{ "RemoteStartTransaction", OGW_TR_MAPPED, "RequestStartTransaction", down_remote_start,
	  res_status },
	{ "RemoteStopTransaction", OGW_TR_MAPPED, "RequestStopTransaction", down_remote_stop,
	  res_status },
	{ "ReserveNow", OGW_TR_MAPPED, "ReserveNow", down_reserve_now, res_status },
	{ "Reset", OGW_TR_MAPPED, "Reset", down_reset, res_reset },
	{ "SendLocalList", OGW_TR_MAPPED, "SendLocalList", down_send_local_list, res_status },
	{ "SetChargingProfile", OGW_TR_MAPPED, "SetChargingProfile", down_set_charging_profile,
	  res_status },
	{ "SignedUpdateFirmware", OGW_TR_MAPPED, "UpdateFirmware", down_signed_update_firmware,
	  res_status },
	{ "TriggerMessage", OGW_TR_MAPPED, "TriggerMessage", down_trigger, res_status },
	{ "UnlockConnector", OGW_TR_MAPPED, "UnlockConnector", down_unlock, res_unlock },
	{ "UpdateFirmware", OGW_TR_MAPPED, "UpdateFirmware", down_update_firmware,
	  res_update_firmware },
};

const struct ogw_translator ogw_tr_v201_v16 = {
	.south = OGW_OCPP201,
	.north = OGW_OCPP16,
	.up = up_actions,
	.n_up = N(up_actions),
	.down = down_actions,
	.n_down = N(down_actions),
};

/* The same tables for a 2.1 charger: the south leg's payloads pass through
 * the 2.0.1 <-> 2.1 adapter (translators/v21_v201.c). */
const struct ogw_translator ogw_tr_v21_v16 = {
	.south = OGW_OCPP21,
	.north = OGW_OCPP16,
	.up = up_actions,
	.n_up = N(up_actions),
	.down = down_actions,
	.n_down = N(down_actions),
	.shim = &ogw_tr21_shim_south,
};
