/* SPDX-License-Identifier: MIT */
/*
 * Private to the files of the 2.0.1-station / 1.6-central-system translator
 * (translators/v201_v16/, split by concern; table.c holds the action tables): the
 * limits, tables and helpers they share. Functions named tr201_* are
 * documented at their definitions.
 */
#ifndef OCPPGW_TR_V201_V16_INTERNAL_H
#define OCPPGW_TR_V201_V16_INTERNAL_H

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "ocppgw/translator.h"
#include "../common.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* 1.6 CiString20Type: idTag, chargePointVendor (S16 §7). */
#define IDTAG16_MAX 20
#define VENDOR16_MAX 20

/* 1.6 StatusNotification.info is CiString50. */
#define INFO16_MAX 50

/* 2.0.1 remoteLocation / firmware location are string[512]; 1.6 has no bound. */
#define LOCATION201_MAX 512
#define KEY_MAX 96


/* ---- small helpers ------------------------------------------------------ */

static inline bool in_list(const char *const *list, size_t n, const char *s)
{
	for (size_t i = 0; s && i < n; i++)
		if (!strcmp(list[i], s))
			return true;
	return false;
}

static inline int out_error(struct ogw_tr_out *out, enum ogw_err err, const char *desc)
{
	out->outcome = OGW_TR_ERROR;
	out->err = err;
	snprintf(out->desc, sizeof(out->desc), "%s", desc);
	return 0;
}

/* Characters (code points) in UTF-8 @s, the unit of JSON Schema maxLength. */
static inline size_t utf8_len(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/* The first @max characters of @s as a JSON string. */
static inline json_t *str_trunc(const char *s, size_t max)
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
static inline int copy_opt(json_t *dst, const json_t *src, const char *key, const char *as)
{
	json_t *v = json_object_get(src, key);
	if (!v)
		return 0;
	return json_object_set_new(dst, as ? as : key, json_deep_copy(v)) ? -ENOMEM : 0;
}

static inline int set_int(json_t *obj, const char *key, long long v)
{
	return json_object_set_new(obj, key, json_integer(v)) ? -ENOMEM : 0;
}

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
static const struct ogw_tr_map charging_state16[] = {
	{ "Charging", "Charging" },
	{ "EVConnected", "SuspendedEVSE" },
	{ "Idle", "SuspendedEV" },
	{ "SuspendedEV", "SuspendedEV" },
	{ "SuspendedEVSE", "SuspendedEVSE" },
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
 *                "invalid" (idToken unusable in 1.6), "conn" and "c16"
 *                (its connector, 2.x and 1.6 numbering),
 *                "queue": [{"seq", "action", "payload"}] (1.6 calls
 *                held until id16 is known)}
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
 *                problem (tr201_held_flush)
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

/* shared.c */
double tr201_scale10(double v, long long m);
long long tr201_round_ll(double v);
json_t *tr201_num_string(double v);
json_t *tr201_idtoken_from16(const char *tag);
json_t *tr201_idtokeninfo_from16(const json_t *info);
json_t *tr201_answer_with_info(const json_t *result16);
json_t *tr201_state_get_tx(struct ogw_tr_env *env, const char *txid);
json_t *tr201_state_get_num(struct ogw_tr_env *env, const char *prefix, long long n);
int tr201_state_put_num(struct ogw_tr_env *env, const char *prefix, long long n, json_t *v);
int tr201_state_del_num(struct ogw_tr_env *env, const char *prefix, long long n);
int tr201_state_put_tx(struct ogw_tr_env *env, const char *txid, json_t *tx);
json_t *tr201_txid_of16(struct ogw_tr_env *env, long long id16);
int tr201_state_list_push(struct ogw_tr_env *env, const char *name, json_t *item, size_t keep);
json_t *tr201_cmap_get(struct ogw_tr_env *env);
int tr201_cmap_put(struct ogw_tr_env *env, json_t *map);
long long tr201_conn16_learn(struct ogw_tr_env *env, long long evse, long long conn);
void tr201_conn_of16(struct ogw_tr_env *env, long long id16, long long *ret_evse,
		    long long *ret_conn);
long long tr201_c16_of(struct ogw_tr_env *env, const json_t *obj, long long evse);
long long tr201_tx_c16(struct ogw_tr_env *env, const json_t *tx);
long long tr201_tx_conn(const json_t *tx);
json_t *tr201_evse_rec_on(struct ogw_tr_env *env, long long evse, long long id16);
void tr201_ignore_answer(struct ogw_tr_env *env, void *user, const json_t *result);
int tr201_up_local_empty(struct ogw_tr_env *env, const json_t *payload,
			struct ogw_tr_out *out);
int tr201_status_only(const json_t *result, const struct ogw_tr_map *map, size_t n,
		     json_t **ret);
int tr201_res_status(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
		    json_t **ret);
long long tr201_evse_of16(struct ogw_tr_env *env, long long id16);
json_t *tr201_evse_obj(struct ogw_tr_env *env, long long id16, bool with_conn);

/* metering.c */
json_t *tr201_metervalues_to16(const json_t *mvs, enum mv_pick pick);
bool tr201_energy_wh(const json_t *mvs, long long *ret);
bool tr201_meter_get(struct ogw_tr_env *env, long long evse, long long *ret);
int tr201_meter_note(struct ogw_tr_env *env, long long evse, const json_t *mvs);
int tr201_up_metervalues(struct ogw_tr_env *env, const json_t *payload,
			struct ogw_tr_out *out);

/* status.c */
int tr201_up_boot(struct ogw_tr_env *env, const json_t *payload, struct ogw_tr_out *out);
int tr201_up_heartbeat(struct ogw_tr_env *env, const json_t *payload, struct ogw_tr_out *out);
json_t *tr201_fault_active(struct ogw_tr_env *env, long long evse, long long conn);
json_t *tr201_status16(long long connector, const char *status, const json_t *fault,
		      const json_t *ts);
int tr201_held_flush(struct ogw_tr_env *env, long long evse, long long conn);
int tr201_up_status(struct ogw_tr_env *env, const json_t *payload, struct ogw_tr_out *out);
int tr201_up_notify_event(struct ogw_tr_env *env, const json_t *payload,
			 struct ogw_tr_out *out);
int tr201_down_reset(struct ogw_tr_env *env, const json_t *payload, struct ogw_tr_out *out);
int tr201_res_reset(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
		   json_t **ret);
int tr201_down_change_availability(struct ogw_tr_env *env, const json_t *payload,
				  struct ogw_tr_out *out);
int tr201_down_unlock(struct ogw_tr_env *env, const json_t *payload, struct ogw_tr_out *out);
int tr201_res_unlock(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
		    json_t **ret);
int tr201_down_trigger(struct ogw_tr_env *env, const json_t *payload, struct ogw_tr_out *out);

/* transactions.c */
int tr201_up_authorize(struct ogw_tr_env *env, const json_t *payload,
		      struct ogw_tr_out *out);
int tr201_res_authorize(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
		       json_t **ret);
bool tr201_tx_in16(const json_t *tx);
int tr201_up_transaction(struct ogw_tr_env *env, const json_t *payload,
			struct ogw_tr_out *out);
int tr201_res_transaction(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
			 json_t **ret);
int tr201_down_remote_start(struct ogw_tr_env *env, const json_t *payload,
			   struct ogw_tr_out *out);
int tr201_down_remote_stop(struct ogw_tr_env *env, const json_t *payload,
			  struct ogw_tr_out *out);
int tr201_down_clear_cache(struct ogw_tr_env *env, const json_t *payload,
			  struct ogw_tr_out *out);
int tr201_down_cancel_reservation(struct ogw_tr_env *env, const json_t *payload,
				 struct ogw_tr_out *out);
int tr201_down_get_local_list_version(struct ogw_tr_env *env, const json_t *payload,
				     struct ogw_tr_out *out);
int tr201_res_get_local_list_version(struct ogw_tr_env *env, const json_t *memo,
				    const json_t *result, json_t **ret);
int tr201_down_send_local_list(struct ogw_tr_env *env, const json_t *payload,
			      struct ogw_tr_out *out);
int tr201_down_reserve_now(struct ogw_tr_env *env, const json_t *payload,
			  struct ogw_tr_out *out);

/* smart_charging.c */
int tr201_up_ev_charging_needs(struct ogw_tr_env *env, const json_t *payload,
			      struct ogw_tr_out *out);
int tr201_up_ev_charging_schedule(struct ogw_tr_env *env, const json_t *payload,
				 struct ogw_tr_out *out);
int tr201_profile_from16(struct ogw_tr_env *env, const json_t *p16, json_t **ret);
int tr201_down_set_charging_profile(struct ogw_tr_env *env, const json_t *payload,
				   struct ogw_tr_out *out);
int tr201_down_clear_charging_profile(struct ogw_tr_env *env, const json_t *payload,
				     struct ogw_tr_out *out);
int tr201_down_get_composite_schedule(struct ogw_tr_env *env, const json_t *payload,
				     struct ogw_tr_out *out);
int tr201_res_get_composite_schedule(struct ogw_tr_env *env, const json_t *memo,
				    const json_t *result, json_t **ret);

/* configuration.c */
int tr201_down_change_configuration(struct ogw_tr_env *env, const json_t *payload,
				   struct ogw_tr_out *out);
int tr201_res_change_configuration(struct ogw_tr_env *env, const json_t *memo,
				  const json_t *result, json_t **ret);
int tr201_res_get_configuration(struct ogw_tr_env *env, const json_t *memo,
			       const json_t *result, json_t **ret);
int tr201_up_notify_report(struct ogw_tr_env *env, const json_t *payload,
			  struct ogw_tr_out *out);
int tr201_down_get_configuration(struct ogw_tr_env *env, const json_t *payload,
				struct ogw_tr_out *out);

/* certificates.c */
int tr201_pnc_forward(const char *action, const json_t *payload, struct ogw_tr_out *out);
json_t *tr201_pnc_answer_with(const json_t *result, const char *field, json_t *fallback);
int tr201_up_security_event(struct ogw_tr_env *env, const json_t *payload,
			   struct ogw_tr_out *out);
int tr201_up_sign_certificate(struct ogw_tr_env *env, const json_t *payload,
			     struct ogw_tr_out *out);
int tr201_res_sign_certificate(struct ogw_tr_env *env, const json_t *memo,
			      const json_t *result, json_t **ret);
int tr201_up_get_15118_cert(struct ogw_tr_env *env, const json_t *payload,
			   struct ogw_tr_out *out);
int tr201_res_get_15118_cert(struct ogw_tr_env *env, const json_t *memo,
			    const json_t *result, json_t **ret);
int tr201_up_get_cert_status(struct ogw_tr_env *env, const json_t *payload,
			    struct ogw_tr_out *out);
int tr201_res_get_cert_status(struct ogw_tr_env *env, const json_t *memo,
			     const json_t *result, json_t **ret);
int tr201_up_data_transfer(struct ogw_tr_env *env, const json_t *payload,
			  struct ogw_tr_out *out);
int tr201_down_certificate_signed(struct ogw_tr_env *env, const json_t *payload,
				 struct ogw_tr_out *out);
int tr201_down_delete_certificate(struct ogw_tr_env *env, const json_t *payload,
				 struct ogw_tr_out *out);
int tr201_down_install_certificate(struct ogw_tr_env *env, const json_t *payload,
				  struct ogw_tr_out *out);
int tr201_down_get_installed_certs(struct ogw_tr_env *env, const json_t *payload,
				  struct ogw_tr_out *out);
int tr201_res_get_installed_certs(struct ogw_tr_env *env, const json_t *memo,
				 const json_t *result, json_t **ret);
int tr201_down_data_transfer(struct ogw_tr_env *env, const json_t *payload,
			    struct ogw_tr_out *out);
int tr201_res_data_transfer(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
			   json_t **ret);

/* firmware.c */
int tr201_up_log_status(struct ogw_tr_env *env, const json_t *payload,
		       struct ogw_tr_out *out);
int tr201_up_firmware_status(struct ogw_tr_env *env, const json_t *payload,
			    struct ogw_tr_out *out);
int tr201_down_update_firmware(struct ogw_tr_env *env, const json_t *payload,
			      struct ogw_tr_out *out);
int tr201_res_update_firmware(struct ogw_tr_env *env, const json_t *memo,
			     const json_t *result, json_t **ret);
int tr201_down_signed_update_firmware(struct ogw_tr_env *env, const json_t *payload,
				     struct ogw_tr_out *out);
int tr201_down_get_diagnostics(struct ogw_tr_env *env, const json_t *payload,
			      struct ogw_tr_out *out);
int tr201_res_get_diagnostics(struct ogw_tr_env *env, const json_t *memo,
			     const json_t *result, json_t **ret);
int tr201_down_get_log(struct ogw_tr_env *env, const json_t *payload, struct ogw_tr_out *out);
int tr201_res_get_log(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
		     json_t **ret);

#endif
