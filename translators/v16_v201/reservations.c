/* SPDX-License-Identifier: MIT */
/*
 * 1.6 charger, 2.0.1 CSMS: reservations. ReserveNow and CancelReservation,
 * and the ReservationStatusUpdate a 2.0.1 station sends and a 1.6 charger
 * does not: the gateway watches the charger's statuses and transactions
 * and says when a reservation ends unused.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "ocppgw/translator.h"
#include "ocppgw/util.h"
#include "internal.h"

/* ---- reservations in the state ------------------------------------------ *
 * "rsv:<id>"    -> {"evse", "expiry", "idTag"}  a reservation the charger accepted
 * "rsvconn:<c>" -> {"id"}                       the reservation on connector c (0: any)
 *
 * 2.0.1 has the station report a reservation that ends unused
 * (ReservationStatusUpdate, H01); 1.6 only shows it in the connector's
 * status, so the gateway watches the status and says it for the charger.
 */

/* Whether @at (a charger's timestamp; unreadable: the gateway's time) is at
 * or after reservation @rsv's expiry. An unreadable expiry never passes. */
static bool rsv_expired(const json_t *rsv, const char *at)
{
	int64_t t, expiry;
	char now[32];

	if (ogw_tr_time_ms(tr_str(rsv, "expiry"), &expiry))
		return false;
	if (ogw_tr_time_ms(at, &t)) {
		ogw_time_rfc3339(now);
		if (ogw_tr_time_ms(now, &t))
			return false;
	}
	return t >= expiry;
}

/* Reservation @id (new reference) when it exists, and its connector in *ret_c. */
static json_t *rsv_get(struct ogw_tr_env *env, json_int_t id, json_int_t *ret_c)
{
	json_t *rsv = ogw_tr_state_get(env, N_KEY("rsv", id));
	if (rsv)
		*ret_c = tr_int(rsv, "evse");
	return rsv;
}

/* The reservation on connector @c (new reference), its id in *ret_id. */
static json_t *rsv_on(struct ogw_tr_env *env, json_int_t c, json_int_t *ret_id)
{
	json_t *m = ogw_tr_state_get(env, N_KEY("rsvconn", c));
	json_t *rsv = NULL;
	json_int_t evse = -1;

	if (m && (rsv = rsv_get(env, tr_int(m, "id"), &evse)) && evse == c)
		*ret_id = tr_int(m, "id");
	else
		rsv = (json_decref(rsv), NULL);
	json_decref(m);
	return rsv;
}

/* Drops reservation @id (on connector @c) from the state. */
static void rsv_forget(struct ogw_tr_env *env, json_int_t id, json_int_t c)
{
	json_t *m = ogw_tr_state_get(env, N_KEY("rsvconn", c));
	if (m && tr_int(m, "id") == id)
		ogw_tr_state_del(env, N_KEY("rsvconn", c));
	json_decref(m);
	ogw_tr_state_del(env, N_KEY("rsv", id));
}

/* Reservation @id on connector @c ended unused at @at: Expired when that is
 * at or after its expiry, else Removed. */
static void rsv_end(struct ogw_tr_env *env, json_int_t id, json_int_t c, const json_t *rsv,
		    const char *at)
{
	ogw_tr_emit_notify(env, "ReservationStatusUpdate",
			   json_pack("{s:I, s:s}", "reservationId", id, "reservationUpdateStatus",
				     rsv_expired(rsv, at) ? "Expired" : "Removed"));
	rsv_forget(env, id, c);
}

/* Keeps reservation @req (a 2.0.1 ReserveNowRequest) the charger accepted.
 * 1.6 §5.13: a known reservationId replaces that reservation, wherever it
 * was; one on the same connector is replaced too. */
static int rsv_keep(struct ogw_tr_env *env, const json_t *req)
{
	json_int_t id = tr_int(req, "id"), c = tr_int(req, "evseId"), old_c, old_id;
	json_t *old = rsv_get(env, id, &old_c);
	int r;

	if (old)
		rsv_forget(env, id, old_c);
	json_decref(old);
	if ((old = rsv_on(env, c, &old_id)))
		rsv_forget(env, old_id, c);
	json_decref(old);
	if ((r = ogw_tr_state_put_new(env, N_KEY("rsv", id),
				      json_pack("{s:I, s:O, s:s}", "evse", c, "expiry",
						json_object_get(req, "expiryDateTime"), "idTag",
						tr16_idtag16(json_object_get(req, "idToken"))))) <
	    0)
		return r;
	return ogw_tr_state_put_new(env, N_KEY("rsvconn", c), json_pack("{s:I}", "id", id));
}

static void rsv_ended(struct rsv_ends *ends, json_int_t id, json_int_t c, json_t *rsv)
{
	ends->e[ends->n].id = id;
	ends->e[ends->n].c = c;
	ends->e[ends->n++].rsv = rsv;
}

/*
 * The reservations StatusNotification @status of connector @c at @at ends
 * unused. A reserved connector shown Available, Unavailable or Faulted has
 * lost its reservation (1.6 §3.11: a reservation ends on Faulted or
 * Unavailable; expired or cancelled, the connector becomes Available). The
 * Occupied states end nothing yet: a plugged-in EV shows Preparing before
 * the StartTransaction that uses the reservation. A reservation for any
 * connector ends when the whole charger is Unavailable or Faulted, and,
 * since no connector shows it, when a status comes at or after its expiry.
 */
void tr16_rsv_status(struct ogw_tr_env *env, json_int_t c, const char *status, const char *at,
		     struct rsv_ends *ret)
{
	bool out_of_order = !strcmp(status, "Unavailable") || !strcmp(status, "Faulted");
	json_int_t id;
	json_t *rsv;

	ret->n = 0;
	if (c && (rsv = rsv_on(env, c, &id))) {
		if (out_of_order || !strcmp(status, "Available"))
			rsv_ended(ret, id, c, rsv);
		else
			json_decref(rsv);
	}
	if ((rsv = rsv_on(env, 0, &id))) {
		if ((!c && out_of_order) || rsv_expired(rsv, at))
			rsv_ended(ret, id, 0, rsv);
		else
			json_decref(rsv);
	}
}

/* Says each ended reservation upstream and drops it. */
void tr16_rsv_ends_emit(struct ogw_tr_env *env, struct rsv_ends *ends, const char *at)
{
	for (size_t i = 0; i < ends->n; i++) {
		rsv_end(env, ends->e[i].id, ends->e[i].c, ends->e[i].rsv, at);
		json_decref(ends->e[i].rsv);
	}
	ends->n = 0;
}

/*
 * What StartTransaction @p does to the reservations: the one it names is
 * used (no update: TransactionEvent carries its id). Without a
 * reservationId, a transaction on a reserved connector uses the
 * reservation when its idTag is the reserved one (its id is then added to
 * @ev, the Started event), and otherwise has taken the connector from it:
 * that one is left in @ret for tr16_rsv_ends_emit().
 */
int tr16_rsv_start(struct ogw_tr_env *env, const json_t *p, json_t *ev, struct rsv_ends *ret)
{
	json_int_t c = tr_int(p, "connectorId"), id, rc;
	const char *tag;
	json_t *rsv;
	int r = 0;

	ret->n = 0;
	if (tr_has(p, "reservationId")) {
		if ((rsv = rsv_get(env, tr_int(p, "reservationId"), &rc)))
			rsv_forget(env, tr_int(p, "reservationId"), rc);
		json_decref(rsv);
		return 0;
	}
	if (!c || !(rsv = rsv_on(env, c, &id)))
		return 0;
	tag = tr_str(rsv, "idTag");
	if (!tag || strcasecmp(tag, tr_str(p, "idTag"))) {
		rsv_ended(ret, id, c, rsv);
		return 0;
	}
	r = json_object_set_new(ev, "reservationId", json_integer(id)) ? -ENOMEM : 0;
	rsv_forget(env, id, c);
	json_decref(rsv);
	return r;
}

int tr16_down_reserve(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	const char *tag = tr16_idtag16(json_object_get(p, "idToken"));
	const json_t *group = json_object_get(p, "groupIdToken");
	const char *parent = tr16_idtag16(group);
	json_t *r;

	(void)env;
	if (!tag || (group && !parent))
		return ogw_tr_out_status(out, "Rejected");
	r = json_pack("{s:I, s:O, s:s, s:O}", "connectorId", tr_int(p, "evseId"), "expiryDate",
		      json_object_get(p, "expiryDateTime"), "idTag", tag, "reservationId",
		      json_object_get(p, "id"));
	if (r && parent && json_object_set_new(r, "parentIdTag", json_string(parent)))
		r = (json_decref(r), NULL);
	return ogw_tr_forward(out, "ReserveNow", r, json_deep_copy(p));
}

/* An accepted reservation is watched until it ends (see tr16_rsv_status()). */
int tr16_down_reserve_result(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
			     json_t **ret)
{
	int r;
	if (!strcmp(tr_str(result, "status"), "Accepted") && (r = rsv_keep(env, memo)) < 0)
		return r;
	return ogw_tr_status_result(result, NULL, 0, ret);
}

int tr16_down_cancel_reservation(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	(void)env;
	return ogw_tr_forward(out, "CancelReservation",
			      json_pack("{s:O}", "reservationId",
					json_object_get(p, "reservationId")),
			      json_deep_copy(p));
}

/* A reservation the CSMS cancelled is over with no ReservationStatusUpdate:
 * the station only answers and shows the connector Available (H02, as in
 * the 2.0.1 test case TC_H_17, secondary). */
int tr16_down_cancel_reservation_result(struct ogw_tr_env *env, const json_t *memo,
					const json_t *result, json_t **ret)
{
	json_int_t id = tr_int(memo, "reservationId"), c;
	json_t *rsv;

	if (!strcmp(tr_str(result, "status"), "Accepted") && (rsv = rsv_get(env, id, &c))) {
		rsv_forget(env, id, c);
		json_decref(rsv);
	}
	return ogw_tr_status_result(result, NULL, 0, ret);
}
