/* SPDX-License-Identifier: MIT */
/*
 * Private to translators/v16_v201/ (a 1.6 charger shown to a 2.0.1 CSMS as
 * a 2.0.1 charging station, per the tables of REFERENCE §3-4): what its
 * files share. The tr16_ functions are defined in the file named above
 * each group; the table's entries are in table.c.
 */
#ifndef OCPPGW_TR_V16_V201_INTERNAL_H
#define OCPPGW_TR_V16_V201_INTERNAL_H

#include <stdbool.h>

#include <jansson.h>

#include "ocppgw/translator.h"
#include "../common.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))
/* The mapping of @from in table @m, or @dflt. */
#define MAP(m, from, dflt) ogw_tr_map_str((m), N_OF(m), (from), (dflt))

/* State keys "<prefix>:<id>" and "<prefix>:<n>", each in a buffer of its own. */
#define S_KEY(prefix, id) ogw_tr_key_str((char[OGW_TR_KEY_MAX]){ 0 }, (prefix), (id))
#define N_KEY(prefix, n) ogw_tr_key_num((char[OGW_TR_KEY_MAX]){ 0 }, (prefix), (n))

/* A reservation a status or a StartTransaction has ended; at most two per
 * message (the connector's own and one for any connector). */
struct rsv_ends {
	size_t n;
	struct {
		json_int_t id, c;
		json_t *rsv;
	} e[2];
};

/* authorization.c */
const char *tr16_idtag_type(const char *idtag);
json_t *tr16_id_token_typed(const char *idtag, const char *type);
const char *tr16_idtag16(const json_t *token);
json_t *tr16_idtaginfo16(const json_t *info);
void tr16_token_keep(struct ogw_tr_env *env, const char *idtag, const char *type);
json_t *tr16_token_type(struct ogw_tr_env *env, const char *idtag);
void tr16_token_forget(struct ogw_tr_env *env, const char *idtag);
int tr16_up_authorize(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out);
int tr16_up_authorize_result(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
			     json_t **ret);
int tr16_down_clear_cache(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out);
int tr16_down_send_list(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out);
int tr16_down_send_list_result(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
			       json_t **ret);
int tr16_down_list_version(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out);
int tr16_down_list_version_result(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
				  json_t **ret);

/* transactions.c */
int tr16_tx_uuid(struct ogw_tr_env *env, json_int_t id16, char ret[37]);
int tr16_conn_tx(struct ogw_tr_env *env, json_int_t c, char ret[37]);
void tr16_rst_answer(struct ogw_tr_env *env, json_int_t c, const char *uuid);
json_int_t tr16_tx_take_seq(struct ogw_tr_env *env, const char *uuid, json_t *tx);
json_t *tr16_tx_event(const char *type, const char *timestamp, const char *trigger, json_int_t seq,
		      const char *uuid, json_int_t evse);
bool tr16_tx_running(struct ogw_tr_env *env);
int tr16_up_start(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out);
int tr16_up_stop(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out);
int tr16_down_request_start(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out);
int tr16_down_request_start_result(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
				   json_t **ret);
int tr16_down_request_stop(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out);
int tr16_down_tx_status(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out);

/* status.c */
void tr16_reset_when_idle(struct ogw_tr_env *env);
int tr16_up_boot(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out);
int tr16_up_boot_result(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
			json_t **ret);
int tr16_up_heartbeat(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out);
void tr16_status_keep(struct ogw_tr_env *env, json_int_t c, const char *status);
bool tr16_conn_preparing(struct ogw_tr_env *env, json_int_t c);
int tr16_up_status(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out);
int tr16_down_reset(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out);
int tr16_down_reset_result(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
			   json_t **ret);
int tr16_down_availability(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out);
int tr16_down_unlock(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out);
int tr16_down_unlock_result(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
			    json_t **ret);
int tr16_down_trigger(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out);

/* reservations.c */
void tr16_rsv_status(struct ogw_tr_env *env, json_int_t c, const char *status, const char *at,
		     struct rsv_ends *ret);
void tr16_rsv_ends_emit(struct ogw_tr_env *env, struct rsv_ends *ends, const char *at);
int tr16_rsv_start(struct ogw_tr_env *env, const json_t *p, json_t *ev, struct rsv_ends *ret);
int tr16_down_reserve(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out);
int tr16_down_reserve_result(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
			     json_t **ret);
int tr16_down_cancel_reservation(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out);
int tr16_down_cancel_reservation_result(struct ogw_tr_env *env, const json_t *memo,
					const json_t *result, json_t **ret);

/* metering.c */
int tr16_meter_values(struct ogw_tr_env *env, const char *action, const json_t *msg,
		      const json_t *in, json_t **ret);
json_t *tr16_energy_reading(const char *timestamp, json_int_t wh, const char *context);
int tr16_up_meter(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out);

/* smart_charging.c */
void tr16_cache_tx_ended(struct ogw_tr_env *env, const char *uuid);
int tr16_profile16(struct ogw_tr_env *env, const json_t *cp, json_t **ret);
int tr16_down_set_profile(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out);
int tr16_down_set_profile_result(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
				 json_t **ret);
int tr16_down_clear_profile(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out);
int tr16_down_clear_profile_result(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
				   json_t **ret);
int tr16_down_get_profiles(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out);
int tr16_down_composite(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out);
int tr16_down_composite_result(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
			       json_t **ret);

/* configuration.c */
int tr16_down_get_vars(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out);
int tr16_down_set_vars(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out);
int tr16_down_report(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out);

/* certificates.c */
int tr16_up_data(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out);
int tr16_up_data_result(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
			json_t **ret);
int tr16_pnc_forward(struct ogw_tr_out *out, const char *action, const json_t *p);
int tr16_result_status_or_pnc(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
			      json_t **ret);
int tr16_up_sign_certificate(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out);
int tr16_down_data(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out);
int tr16_down_data_result(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
			  json_t **ret);
int tr16_down_cert_signed(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out);
int tr16_down_install_cert(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out);
int tr16_down_delete_cert(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out);
int tr16_down_installed_certs(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out);
int tr16_down_installed_certs_result(struct ogw_tr_env *env, const json_t *memo,
				     const json_t *result, json_t **ret);

/* firmware_logs.c */
int tr16_up_diag_status(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out);
int tr16_up_fw_status(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out);
int tr16_up_signed_fw_status(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out);
int tr16_up_security_event(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out);
int tr16_up_log_status(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out);
int tr16_down_get_log(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out);
int tr16_down_get_log_result(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
			     json_t **ret);
int tr16_down_update_firmware(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out);
int tr16_down_update_firmware_result(struct ogw_tr_env *env, const json_t *memo,
				     const json_t *result, json_t **ret);

#endif
