/* SPDX-License-Identifier: MIT */
/*
 * The 1.6 -> 2.0.1 translator: a 1.6 charger (with the 1.6 security
 * extension) shown to a 2.0.1 CSMS as a 2.0.1 charging station, per the
 * tables of REFERENCE §3-4. The gateway owns the 2.0.1 transaction ids, the
 * TransactionEvent seqNo and the device-model view of the 1.6 configuration
 * keys, all kept in the per-charger state. It does no queueing, retrying or
 * offline authorization: the session and the auth feature do those.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "ocppgw/translator.h"
#include "ocppgw/util.h"
#include "common.h"
#include "v21_adapt.h"

#define IDTAG16_MAX 20       /* 1.6 IdToken is CiString20 */
#define REPORT_CHUNK 20      /* reportData entries per NotifyReport */
#define PROFILE_CACHE_MAX 64 /* charging profiles remembered for GetChargingProfiles */
#define TX_OPEN_MAX 64       /* open transactions a Reset OnIdle waits on */
#define CONN_MAX 64          /* connectors whose last status is kept */
#define TOKENS_MAX 16        /* remote-start tokens whose type is kept */

/* ---- small tables and helpers ------------------------------------------- */

struct str_map {
	const char *from;
	const char *to;
};

static const char *map_str(const struct str_map *m, size_t n, const char *from, const char *dflt)
{
	if (from)
		for (size_t i = 0; i < n; i++)
			if (!strcmp(m[i].from, from))
				return m[i].to;
	return dflt;
}

#define MAP(m, from, dflt) map_str((m), sizeof(m) / sizeof((m)[0]), (from), (dflt))
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static const char *str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static bool same(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static json_int_t num(const json_t *obj, const char *key)
{
	return json_integer_value(json_object_get(obj, key));
}

static bool has(const json_t *obj, const char *key)
{
	return json_object_get(obj, key) != NULL;
}

/* Copies @key from @from to @to when present (under @as if not NULL). */
static int copy_field(json_t *to, const char *as, const json_t *from, const char *key)
{
	json_t *v = json_object_get(from, key);
	if (!v)
		return 0;
	return json_object_set(to, as ? as : key, v) ? -ENOMEM : 0;
}

static int forward(struct ogw_tr_out *out, const char *action, json_t *payload, json_t *memo)
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

/* The CALLRESULT's status, through @m when given, as {"status": ...}. */
static int status_result(const json_t *result, const struct str_map *m, size_t n,
			 json_t **ret)
{
	const char *s = str(result, "status");
	if (m)
		s = map_str(m, n, s, "Rejected");
	*ret = json_pack("{s:s}", "status", s ? s : "Rejected");
	return *ret ? 0 : -ENOMEM;
}

/* result() of every action whose status enum is a subset of the caller's. */
static int result_status(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
			 json_t **ret)
{
	(void)env;
	(void)memo;
	return status_result(result, NULL, 0, ret);
}

/* result() of actions whose response is empty in the caller's version. */
static int result_empty(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
			json_t **ret)
{
	(void)env;
	(void)memo;
	(void)result;
	*ret = json_object();
	return *ret ? 0 : -ENOMEM;
}

/*
 * ogw_tr_emit() for calls whose answer matters: when the call cannot even
 * be queued, @done runs at once with no result, so it always runs exactly
 * once and owns the cleanup of @user.
 */
static void emit_then(struct ogw_tr_env *env, enum ogw_tr_dir dir, const char *action,
		      json_t *payload, ogw_tr_done_fn done, void *user)
{
	if (!payload || ogw_tr_emit(env, dir, action, payload, done, user) < 0)
		done(env, user, NULL);
}

/* ogw_tr_emit() for notifications nobody waits for: a lost one is not an
 * error of the message that caused it (the session logs emit failures). */
static void emit_notify(struct ogw_tr_env *env, const char *action, json_t *payload)
{
	if (payload)
		ogw_tr_emit(env, OGW_TR_UP, action, payload, NULL, NULL);
}

/* Answers a deferred CALL, turning a failed allocation into InternalError. */
static void answer_later(struct ogw_tr_env *env, struct ogw_tr_pending *p, json_t *payload)
{
	ogw_tr_answer(env, p, payload, payload ? OGW_ERR_NONE : OGW_ERR_INTERNAL,
		      payload ? NULL : "out of memory");
}

static void now_text(char ret[32])
{
	ogw_time_rfc3339(ret);
}

/* ---- identifiers -------------------------------------------------------- */

/* Whether @s is @n hex digits. */
static bool hex_of(const char *s, size_t n)
{
	return strlen(s) == n && strspn(s, "0123456789abcdefABCDEF") == n;
}

/* An eMAID (ISO 15118-2 Annex H, DIN SPEC 91286): country, provider,
 * 'C', 8 characters of instance and an optional check digit, with or
 * without the dashes ("DE-8AA-C-12345678-9", "DE8AAC123456789"). */
static bool emaid(const char *s)
{
	static const size_t part[] = { 2, 3, 1, 8 };
	for (size_t i = 0; i < N_OF(part); i++) {
		size_t n = strspn(s, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");
		if (n < part[i] || (i == 0 && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") < 2))
			return false;
		if (i == 2 && *s != 'C' && *s != 'c')
			return false;
		s += part[i];
		if (*s == '-')
			s++;
	}
	return !*s || (strspn(s, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") == 1 &&
		       !s[1]);
}

/*
 * The 2.0.1 IdTokenType of a 1.6 idTag, from its form (1.6 has none):
 * the hex of a 4, 7 or 10 byte UID (8, 14, 20 digits) is an ISO 14443
 * card, of an 8 byte UID (16 digits) an ISO 15693 one; an eMAID is an
 * eMAID (an ISO 14443 manufacturer code is never two letters); anything else was issued by the central system (Central), the
 * only type whose form 2.0.1 leaves free. docs/TRANSLATION.md "idToken type".
 */
static const char *idtag_type(const char *idtag)
{
	/* first: an eMAID without dashes may be all hex ("DE8AAC12345678"),
	 * while a 7-byte UID starts with its maker's code, never two letters */
	if (emaid(idtag))
		return "eMAID";
	if (hex_of(idtag, 8) || hex_of(idtag, 14) || hex_of(idtag, 20))
		return "ISO14443";
	/* a token the charger read that is no UID: Local, "no format
	 * defined"; one the CSMS issued keeps the type it gave (token_keep) */
	return hex_of(idtag, 16) ? "ISO15693" : "Local";
}

/* @idtag as a 2.0.1 IdTokenType, typed @type or by its form (NULL). */
static json_t *id_token_typed(const char *idtag, const char *type)
{
	return json_pack("{s:s, s:s}", "idToken", idtag, "type", type ? type : idtag_type(idtag));
}

/* A 2.0.1 IdTokenType's token when it fits a 1.6 idTag, else NULL. */
static const char *idtag16(const json_t *token)
{
	const char *t = str(token, "idToken");
	return t && strlen(t) <= IDTAG16_MAX ? t : NULL;
}

/* 2.0.1-only statuses become Invalid (REFERENCE §3, a choice). */
static const struct str_map auth_status_to16[] = {
	{ "Accepted", "Accepted" },
	{ "Blocked", "Blocked" },
	{ "ConcurrentTx", "ConcurrentTx" },
	{ "Expired", "Expired" },
	{ "Invalid", "Invalid" },
};

/* 2.0.1 IdTokenInfoType -> 1.6 IdTagInfo (new reference). */
static json_t *idtaginfo16(const json_t *info)
{
	const char *parent = idtag16(json_object_get(info, "groupIdToken"));
	json_t *r = json_pack("{s:s}", "status", MAP(auth_status_to16, str(info, "status"), "Invalid"));

	if (r && (copy_field(r, "expiryDate", info, "cacheExpiryDateTime") ||
		  (parent && json_object_set_new(r, "parentIdTag", json_string(parent)))))
		r = (json_decref(r), NULL);
	return r;
}

/* ---- transactions in the state ------------------------------------------ *
 * "tx16:<n>"  -> {"id": uuid}                     the 1.6 id the charger uses
 * "tx:<uuid>" -> {"id16", "seqNo", "evse", "idTag", "remoteStartId"?}
 * "conn:<c>"  -> {"tx": uuid}                     the transaction on connector c
 * "remote:<c>"-> {"remoteStartId"}                a RequestStartTransaction waiting
 *                                                 for its StartTransaction (c 0: any)
 * "running"   -> {"tx": [uuid...]}                the open transactions, oldest first
 * "reset"     -> {}                               a Reset OnIdle waiting for them
 * "rebooting" -> {}                               a Reset the charger accepted: its
 *                                                 next boot is a RemoteReset
 * "rstok:<c>" -> {}                               the charger accepted the held
 *                                                 RequestStartTransaction of c
 *
 * A RequestStartTransaction for plugged-in connector c is held (deferred
 * CALL "rst:<c>") until the CSMS has the transaction it names (rst_answer()).
 */

/* State keys "<prefix>:<id>"; S_KEY/N_KEY give each a buffer of its own. */
static const char *key_str(char buf[96], const char *prefix, const char *id)
{
	snprintf(buf, 96, "%s:%s", prefix, id ? id : "");
	return buf;
}

static const char *key_num(char buf[96], const char *prefix, json_int_t n)
{
	snprintf(buf, 96, "%s:%lld", prefix, (long long)n);
	return buf;
}

#define S_KEY(prefix, id) key_str((char[96]){ 0 }, (prefix), (id))
#define N_KEY(prefix, n) key_num((char[96]){ 0 }, (prefix), (n))

/* ogw_tr_state_put() of a value that may have failed to build. */
static int state_put(struct ogw_tr_env *env, const char *key, json_t *value)
{
	return value ? ogw_tr_state_put(env, key, value) : -ENOMEM;
}

/* The 2.0.1 id of 1.6 transaction @id16 into @ret. 0, or -ENOENT. */
static int tx_uuid(struct ogw_tr_env *env, json_int_t id16, char ret[37])
{
	json_t *m = ogw_tr_state_get(env, N_KEY("tx16", id16));
	const char *id = str(m, "id");
	int r = -ENOENT;

	if (id && strlen(id) < 37) {
		strcpy(ret, id);
		r = 0;
	}
	json_decref(m);
	return r;
}

/* The uuid of the transaction running on connector @c, or -ENOENT. */
static int conn_tx(struct ogw_tr_env *env, json_int_t c, char ret[37])
{
	json_t *m = ogw_tr_state_get(env, N_KEY("conn", c));
	const char *id = str(m, "tx");
	int r = -ENOENT;

	if (id && strlen(id) < 37) {
		strcpy(ret, id);
		r = 0;
	}
	json_decref(m);
	return r;
}

/* Answers the RequestStartTransaction waiting on connector @c (if one
 * does) Accepted, naming transaction @uuid when there is one. */
static void rst_answer(struct ogw_tr_env *env, json_int_t c, const char *uuid)
{
	struct ogw_tr_pending *p = ogw_tr_pending_find(env, N_KEY("rst", c));
	json_t *a = ogw_tr_state_get(env, N_KEY("rstok", c));

	if (a)
		ogw_tr_state_del(env, N_KEY("rstok", c));
	json_decref(a);
	if (!p)
		return;
	a = json_pack("{s:s}", "status", "Accepted");
	if (a && uuid && json_object_set_new(a, "transactionId", json_string(uuid)))
		a = (json_decref(a), NULL);
	answer_later(env, p, a);
}

/* Takes the next seqNo of transaction @uuid (state @tx, borrowed, updated
 * and stored). */
static json_int_t tx_take_seq(struct ogw_tr_env *env, const char *uuid, json_t *tx)
{
	json_int_t seq = num(tx, "seqNo");
	json_object_set_new(tx, "seqNo", json_integer(seq + 1));
	state_put(env, S_KEY("tx", uuid), json_incref(tx));
	return seq;
}

/* A TransactionEvent skeleton; callers add meterValue, idToken and the rest. */
static json_t *tx_event(const char *type, const char *timestamp, const char *trigger,
			json_int_t seq, const char *uuid, json_int_t evse)
{
	return json_pack("{s:s, s:s, s:s, s:I, s:{s:s}, s:{s:I, s:i}}",
			 "eventType", type, "timestamp", timestamp, "triggerReason", trigger,
			 "seqNo", seq, "transactionInfo", "transactionId", uuid,
			 "evse", "id", evse, "connectorId", 1);
}

/* Adds @uuid to the open transactions or removes it. Past TX_OPEN_MAX the
 * oldest is forgotten: a charger that never stops its transactions must not
 * grow the state without end. */
static int running_update(struct ogw_tr_env *env, const char *uuid, bool add)
{
	json_t *s = ogw_tr_state_get(env, "running"), *list = json_object_get(s, "tx"), *v;
	size_t i;

	if (!json_is_array(list)) {
		json_decref(s);
		if (!(s = json_pack("{s:[]}", "tx")))
			return -ENOMEM;
		list = json_object_get(s, "tx");
	}
	json_array_foreach(list, i, v) {
		if (json_is_string(v) && !strcmp(json_string_value(v), uuid)) {
			json_array_remove(list, i);
			break;
		}
	}
	if (add && json_array_size(list) >= TX_OPEN_MAX)
		json_array_remove(list, 0);
	if (add && json_array_append_new(list, json_string(uuid))) {
		json_decref(s);
		return -ENOMEM;
	}
	if (!json_array_size(list)) {
		json_decref(s);
		return ogw_tr_state_del(env, "running");
	}
	return ogw_tr_state_put(env, "running", s);
}

static bool tx_running(struct ogw_tr_env *env)
{
	json_t *s = ogw_tr_state_get(env, "running");
	bool r = json_array_size(json_object_get(s, "tx")) > 0;
	json_decref(s);
	return r;
}

/* A Reset the charger accepted ("rebooting"): its next boot is a
 * RemoteReset (up_boot()). */
static void reset_accepted(struct ogw_tr_env *env, void *user, const json_t *result)
{
	(void)user;
	if (result && same(str(result, "status"), "Accepted"))
		ogw_tr_state_put(env, "rebooting", json_object());
}

/*
 * A Reset OnIdle answered Scheduled while transactions ran ("reset").
 * Once the last one's StopTransaction is answered, the charger gets the
 * Soft reset. The entry goes when the reset is sent, so no later stop sends
 * it twice; the charger's answer is dropped, as 2.0.1 has no message to
 * report a scheduled reset's outcome with.
 */
static void reset_when_idle(struct ogw_tr_env *env)
{
	json_t *pending, *req;

	if (tx_running(env) || !(pending = ogw_tr_state_get(env, "reset")))
		return;
	json_decref(pending);
	ogw_tr_state_del(env, "reset");
	if ((req = json_pack("{s:s}", "type", "Soft")))
		ogw_tr_emit(env, OGW_TR_DOWN, "Reset", req, reset_accepted, NULL);
}

/* ---- reservations in the state ------------------------------------------ *
 * "rsv:<id>"    -> {"evse", "expiry", "idTag"}  a reservation the charger accepted
 * "rsvconn:<c>" -> {"id"}                       the reservation on connector c (0: any)
 *
 * 2.0.1 has the station report a reservation that ends unused
 * (ReservationStatusUpdate, H01); 1.6 only shows it in the connector's
 * status, so the gateway watches the status and says it for the charger.
 */

/* RFC 3339 text (as both versions write dateTime) as milliseconds since the
 * epoch in *ret. 0, or -EINVAL when @s is not such a time. */
static int rfc3339_ms(const char *s, int64_t *ret)
{
	int y, mo, d, h, mi, sec, n = 0, digits = 0;
	int64_t ms = 0, off = 0, era, yoe, doy, doe;

	if (!s || sscanf(s, "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 ||
	    !n || y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -EINVAL;
	s += n;
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++)
			if (digits++ < 3)
				ms = ms * 10 + (*s - '0');
	while (digits > 0 && digits < 3)
		ms *= 10, digits++;
	if (*s == '+' || *s == '-') {
		int oh, om;
		if (sscanf(s + 1, "%2d:%2d%n", &oh, &om, &n) != 2 || s[1 + n] || oh > 23 || om > 59)
			return -EINVAL;
		off = (*s == '-' ? -1 : 1) * ((int64_t)oh * 60 + om) * 60000;
	} else if ((*s != 'Z' && *s != 'z') || s[1]) {
		return -EINVAL;
	}
	/* days from 1970-01-01 of a proleptic Gregorian date (the year is 0..9999) */
	y -= mo <= 2;
	era = y / 400;
	yoe = y - era * 400;
	doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	*ret = ((era * 146097 + doe - 719468) * 86400 + (int64_t)h * 3600 + mi * 60 + sec) * 1000 +
	       ms - off;
	return 0;
}

/* Whether @at (a charger's timestamp; unreadable: the gateway's time) is at
 * or after reservation @rsv's expiry. An unreadable expiry never passes. */
static bool rsv_expired(const json_t *rsv, const char *at)
{
	int64_t t, expiry;
	char now[32];

	if (rfc3339_ms(str(rsv, "expiry"), &expiry))
		return false;
	if (rfc3339_ms(at, &t)) {
		now_text(now);
		if (rfc3339_ms(now, &t))
			return false;
	}
	return t >= expiry;
}

/* Reservation @id (new reference) when it exists, and its connector in *ret_c. */
static json_t *rsv_get(struct ogw_tr_env *env, json_int_t id, json_int_t *ret_c)
{
	json_t *rsv = ogw_tr_state_get(env, N_KEY("rsv", id));
	if (rsv)
		*ret_c = num(rsv, "evse");
	return rsv;
}

/* The reservation on connector @c (new reference), its id in *ret_id. */
static json_t *rsv_on(struct ogw_tr_env *env, json_int_t c, json_int_t *ret_id)
{
	json_t *m = ogw_tr_state_get(env, N_KEY("rsvconn", c));
	json_t *rsv = NULL;
	json_int_t evse = -1;

	if (m && (rsv = rsv_get(env, num(m, "id"), &evse)) && evse == c)
		*ret_id = num(m, "id");
	else
		rsv = (json_decref(rsv), NULL);
	json_decref(m);
	return rsv;
}

/* Drops reservation @id (on connector @c) from the state. */
static void rsv_forget(struct ogw_tr_env *env, json_int_t id, json_int_t c)
{
	json_t *m = ogw_tr_state_get(env, N_KEY("rsvconn", c));
	if (m && num(m, "id") == id)
		ogw_tr_state_del(env, N_KEY("rsvconn", c));
	json_decref(m);
	ogw_tr_state_del(env, N_KEY("rsv", id));
}

/* Reservation @id on connector @c ended unused at @at: Expired when that is
 * at or after its expiry, else Removed. */
static void rsv_end(struct ogw_tr_env *env, json_int_t id, json_int_t c, const json_t *rsv,
		    const char *at)
{
	emit_notify(env, "ReservationStatusUpdate",
		    json_pack("{s:I, s:s}", "reservationId", id, "reservationUpdateStatus",
			      rsv_expired(rsv, at) ? "Expired" : "Removed"));
	rsv_forget(env, id, c);
}

/* Keeps reservation @req (a 2.0.1 ReserveNowRequest) the charger accepted.
 * 1.6 §5.13: a known reservationId replaces that reservation, wherever it
 * was; one on the same connector is replaced too. */
static int rsv_keep(struct ogw_tr_env *env, const json_t *req)
{
	json_int_t id = num(req, "id"), c = num(req, "evseId"), old_c, old_id;
	json_t *old = rsv_get(env, id, &old_c);
	int r;

	if (old)
		rsv_forget(env, id, old_c);
	json_decref(old);
	if ((old = rsv_on(env, c, &old_id)))
		rsv_forget(env, old_id, c);
	json_decref(old);
	if ((r = state_put(env, N_KEY("rsv", id),
			   json_pack("{s:I, s:O, s:s}", "evse", c, "expiry",
				     json_object_get(req, "expiryDateTime"), "idTag",
				     idtag16(json_object_get(req, "idToken"))))) < 0)
		return r;
	return state_put(env, N_KEY("rsvconn", c), json_pack("{s:I}", "id", id));
}

/* A reservation a status has ended; at most two per status (the
 * connector's own and one for any connector). */
struct rsv_ends {
	size_t n;
	struct {
		json_int_t id, c;
		json_t *rsv;
	} e[2];
};

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
static void rsv_status(struct ogw_tr_env *env, json_int_t c, const char *status, const char *at,
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
static void rsv_ends_emit(struct ogw_tr_env *env, struct rsv_ends *ends, const char *at)
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
 * that one is left in @ret for rsv_ends_emit().
 */
static int rsv_start(struct ogw_tr_env *env, const json_t *p, json_t *ev, struct rsv_ends *ret)
{
	json_int_t c = num(p, "connectorId"), id, rc;
	const char *tag;
	json_t *rsv;
	int r = 0;

	ret->n = 0;
	if (has(p, "reservationId")) {
		if ((rsv = rsv_get(env, num(p, "reservationId"), &rc)))
			rsv_forget(env, num(p, "reservationId"), rc);
		json_decref(rsv);
		return 0;
	}
	if (!c || !(rsv = rsv_on(env, c, &id)))
		return 0;
	tag = str(rsv, "idTag");
	if (!tag || strcasecmp(tag, str(p, "idTag"))) {
		rsv_ended(ret, id, c, rsv);
		return 0;
	}
	r = json_object_set_new(ev, "reservationId", json_integer(id)) ? -ENOMEM : 0;
	rsv_forget(env, id, c);
	json_decref(rsv);
	return r;
}

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
			return units[i].multiplier
				       ? json_pack("{s:s, s:i}", "unit", units[i].unit, "multiplier",
						   units[i].multiplier)
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
		const char *tx = str(rd, "TX");
		if (!json_is_number(json_object_get(rd, "RV")))
			continue;
		if (!context || (strcmp(context, "Transaction.Begin") &&
				 strcmp(context, "Transaction.End")) || !pick)
			pick = rd;
		if (context && ((!strcmp(context, "Transaction.Begin") && tx && !strcmp(tx, "B")) ||
				(!strcmp(context, "Transaction.End") && ocmf_ends(tx))))
			pick = rd;
	}
	sa = str(sig, "SA");
	if (pick) {
		*ret_value = json_incref(json_object_get(pick, "RV"));
		snprintf(ret_unit, 16, "%s", str(pick, "RU") ? str(pick, "RU") : "kWh");
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
	const char *unit = str(in, "unit");
	json_t *v = number(str(in, "value"));
	json_t *sv = NULL;
	int r = -ENOMEM;

	*ret = NULL;
	if (measurand_gone(str(in, "measurand")) || !v) {
		r = 0;
		goto out;
	}
	sv = json_pack("{s:O}", "value", v);
	if (!sv || copy_field(sv, NULL, in, "context") || copy_field(sv, NULL, in, "measurand") ||
	    copy_field(sv, NULL, in, "phase") || copy_field(sv, NULL, in, "location"))
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
	return str(sv, "format") && !strcmp(str(sv, "format"), "SignedData");
}

/* Whether 1.6 samples @a and @b measure the same thing. */
static bool same_quantity(const json_t *a, const json_t *b)
{
	return same(str(a, "measurand"), str(b, "measurand")) && same(str(a, "phase"), str(b, "phase")) &&
	       same(str(a, "context"), str(b, "context")) && same(str(a, "location"), str(b, "location"));
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
	const char *blob = str(in, "value");
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
	if (ocmf_reading(blob, str(in, "context"), &value, unit, method)) {
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
		if (sv && (json_object_set(sv, "value", value) ||
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
			    !same(str(twin, "measurand"), str(one, "measurand")) ||
			    !same(str(twin, "phase"), str(one, "phase")) ||
			    !same(str(twin, "context"), str(one, "context")))
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
static int meter_values(struct ogw_tr_env *env, const char *action, const json_t *msg,
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
			if (is_signed(sv) && (r = signed_value(env, action, msg, mv, sv, svs)) < 0) {
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
static json_t *energy_reading(const char *timestamp, json_int_t wh, const char *context)
{
	return json_pack("{s:s, s:[{s:I, s:s, s:s, s:{s:s}}]}", "timestamp", timestamp,
			 "sampledValue", "value", wh, "context", context, "measurand",
			 "Energy.Active.Import.Register", "unitOfMeasure", "unit", "Wh");
}

/* Sample.Periodic -> MeterValuePeriodic and so on (REFERENCE §3). */
static const struct str_map meter_trigger[] = {
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
			if (str(sv, "context"))
				return str(sv, "context");
	return NULL;
}

/* ======================================================================== *
 *  UP: 1.6 charger -> 2.0.1 CSMS                                           *
 * ======================================================================== */

static int up_boot(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	json_t *cs = json_pack("{s:O, s:O}", "vendorName", json_object_get(p, "chargePointVendor"),
			       "model", json_object_get(p, "chargePointModel"));
	json_t *rebooting = ogw_tr_state_get(env, "rebooting");
	const char *reason = rebooting ? "RemoteReset" : "PowerUp";

	json_decref(rebooting);
	if (!cs || copy_field(cs, "serialNumber", p, "chargePointSerialNumber") ||
	    copy_field(cs, NULL, p, "firmwareVersion"))
		goto fail;
	if (has(p, "iccid") || has(p, "imsi")) {
		json_t *modem = json_object();
		if (json_object_set_new(cs, "modem", modem) || copy_field(modem, NULL, p, "iccid") ||
		    copy_field(modem, NULL, p, "imsi"))
			goto fail;
	}
	/* reason is required in 2.0.1 and 1.6 never says why it booted: the
	 * gateway knows of the Reset it sent, else it was powered up */
	return forward(out, "BootNotification",
		       json_pack("{s:o, s:s}", "chargingStation", cs, "reason", reason), NULL);
fail:
	json_decref(cs);
	return -ENOMEM;
}

static int up_boot_result(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
			  json_t **ret)
{
	(void)memo;
	/* the boot after the reset is over once the CSMS took it */
	if (same(str(result, "status"), "Accepted"))
		ogw_tr_state_del(env, "rebooting");
	*ret = json_pack("{s:O, s:O, s:O}", "status", json_object_get(result, "status"),
			 "currentTime", json_object_get(result, "currentTime"), "interval",
			 json_object_get(result, "interval"));
	return *ret ? 0 : -ENOMEM;
}

static int up_heartbeat(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	(void)env;
	(void)p;
	return forward(out, "Heartbeat", json_object(), NULL);
}

/* ---- StatusNotification -------------------------------------------------- */

struct status_row {
	const char *status16;
	const char *connector;   /* 2.0.1 connectorStatus */
	const char *charging;    /* chargingState during a transaction, or NULL */
};

/* REFERENCE §3 "Status". */
static const struct status_row status_rows[] = {
	{ "Available", "Available", NULL },
	{ "Charging", "Occupied", "Charging" },
	{ "Faulted", "Faulted", NULL },
	{ "Finishing", "Occupied", "EVConnected" },
	{ "Preparing", "Occupied", "EVConnected" },
	{ "Reserved", "Reserved", NULL },
	{ "SuspendedEV", "Occupied", "SuspendedEV" },
	{ "SuspendedEVSE", "Occupied", "SuspendedEVSE" },
	{ "Unavailable", "Unavailable", NULL },
};

static const struct status_row *status_row(const char *status16)
{
	for (size_t i = 0; i < N_OF(status_rows); i++)
		if (!strcmp(status_rows[i].status16, status16))
			return &status_rows[i];
	return &status_rows[0];
}

/*
 * A charger error as a NotifyEvent on the Connector's (or, for connector 0,
 * the ChargingStation's) Problem variable: actualValue "true" with the 1.6
 * errorCode as techCode and vendorErrorCode (else info) as techInfo, or,
 * once the connector reports NoError again, "false" with cleared set
 * (2.0.1 N07: the return to normal is an event too). Connector n is EVSE
 * n's connector 1, so the connectors of a charger never share a Problem.
 */
static void notify_problem(struct ogw_tr_env *env, const json_t *p, const char *timestamp,
			   bool cleared)
{
	json_int_t c = num(p, "connectorId");
	char now[32];
	json_t *comp = c ? json_pack("{s:s, s:{s:I, s:i}}", "name", "Connector", "evse", "id", c,
				     "connectorId", 1)
			 : json_pack("{s:s}", "name", "ChargingStation");
	json_t *ev = json_pack("{s:I, s:s, s:s, s:s, s:o, s:{s:s}, s:s}", "eventId",
			       (json_int_t)ogw_tr_next_id(env, "event"), "timestamp", timestamp,
			       "trigger", "Alerting", "actualValue", cleared ? "false" : "true",
			       "component", comp, "variable", "name", "Problem",
			       "eventNotificationType", "HardWiredNotification");
	const char *info = str(p, "vendorErrorCode") ? str(p, "vendorErrorCode") : str(p, "info");

	if (ev && !cleared && copy_field(ev, "techCode", p, "errorCode"))
		ev = (json_decref(ev), NULL);
	if (ev && !cleared && info)
		json_object_set_new(ev, "techInfo", json_string(info));
	if (ev && cleared)
		json_object_set_new(ev, "cleared", json_true());
	now_text(now);
	emit_notify(env, "NotifyEvent",
		    ev ? json_pack("{s:s, s:i, s:b, s:[o]}", "generatedAt", now, "seqNo", 0, "tbc",
				   0, "eventData", ev)
		       : NULL);
}

/* Says a connector's error when it appears or changes, and its clearing
 * when the connector reports NoError again. The errors standing are kept
 * ("problem" -> {"<c>": errorCode}), at most CONN_MAX of them. */
static void problem_update(struct ogw_tr_env *env, const json_t *p, const char *timestamp)
{
	const char *code = str(p, "errorCode"), *key = N_KEY("", num(p, "connectorId")) + 1;
	json_t *st = ogw_tr_state_get(env, "problem");
	const char *was = str(st, key);
	bool fault = strcmp(code, "NoError") != 0;

	if (fault ? same(was, code) : !was) {
		json_decref(st);
		return;
	}
	notify_problem(env, p, timestamp, !fault);
	if (!st)
		st = json_object();
	if (!fault)
		json_object_del(st, key);
	else if (st && (was || json_object_size(st) < CONN_MAX))
		json_object_set_new(st, key, json_string(code));
	if (json_object_size(st)) {
		ogw_tr_state_put(env, "problem", st);
		return;
	}
	json_decref(st);
	ogw_tr_state_del(env, "problem");
}

/* P0-201 §2.2.1: transaction-related status moved to TransactionEvent. */
static void notify_charging_state(struct ogw_tr_env *env, json_int_t c, const char *state,
				  const char *timestamp)
{
	char uuid[37];
	json_t *tx, *ev;

	if (!state || conn_tx(env, c, uuid))
		return;
	tx = ogw_tr_state_get(env, S_KEY("tx", uuid));
	if (!tx)
		return;
	ev = tx_event("Updated", timestamp, "ChargingStateChanged", tx_take_seq(env, uuid, tx), uuid,
		      c);
	if (ev)
		json_object_set_new(json_object_get(ev, "transactionInfo"), "chargingState",
				    json_string(state));
	emit_notify(env, "TransactionEvent", ev);
	json_decref(tx);
}

static void status_done(struct ogw_tr_env *env, void *user, const json_t *result)
{
	(void)result;
	answer_later(env, user, json_object());
}

/* A status that ends reservations: the CSMS gets the connector's status
 * first, then each ReservationStatusUpdate (the order of the 2.0.1 test
 * cases, secondary), so the status is emitted and its answer deferred. */
static int status_then_rsv(struct ogw_tr_env *env, json_t *sn, struct rsv_ends *ends,
			   const char *ts, struct ogw_tr_out *out)
{
	struct ogw_tr_pending *pend = sn ? ogw_tr_defer(env) : NULL;
	int r = -ENOMEM;

	if (pend) {
		out->outcome = OGW_TR_DEFER;
		emit_then(env, OGW_TR_UP, "StatusNotification", sn, status_done, pend);
		r = 0;
	} else {
		json_decref(sn);
	}
	rsv_ends_emit(env, ends, ts);
	return r;
}

/* Keeps connector @c's last 1.6 status ("status" -> {"<c>": status}): it
 * says whether the EV is still plugged when a transaction stops. A
 * charger cannot grow it past CONN_MAX connectors. */
static void status_keep(struct ogw_tr_env *env, json_int_t c, const char *status)
{
	json_t *st = ogw_tr_state_get(env, "status");
	const char *key = N_KEY("", c) + 1;

	if (!st)
		st = json_object();
	if (st && (json_object_get(st, key) || json_object_size(st) < CONN_MAX) &&
	    !json_object_set_new(st, key, json_string(status))) {
		ogw_tr_state_put(env, "status", st);
		return;
	}
	json_decref(st);
}

/* Whether connector @c was last shown Preparing: the EV plugged in (or
 * the bay taken) and no transaction yet. */
static bool conn_preparing(struct ogw_tr_env *env, json_int_t c)
{
	json_t *st = ogw_tr_state_get(env, "status");
	bool r = same(str(st, N_KEY("", c) + 1), "Preparing");

	json_decref(st);
	return r;
}

static int up_status(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	const struct status_row *row = status_row(str(p, "status"));
	json_int_t c = num(p, "connectorId");
	char now[32], uuid[37];
	const char *ts = str(p, "timestamp");
	struct rsv_ends ends;
	json_t *sn, *accepted;

	if (!ts) {
		now_text(now);
		ts = now;
	}
	problem_update(env, p, ts);
	status_keep(env, c, row->status16);
	/* a remote start held for a plugged-in connector that the charger
	 * accepted and no transaction followed: nothing runs to name */
	if (strcmp(row->status16, "Preparing") && conn_tx(env, c, uuid) == -ENOENT &&
	    (accepted = ogw_tr_state_get(env, N_KEY("rstok", c)))) {
		json_decref(accepted);
		rst_answer(env, c, NULL);
	}
	rsv_status(env, c, row->status16, ts, &ends);
	/* connector 0 (the charger as a whole) has no 2.0.1 StatusNotification */
	if (!c) {
		rsv_ends_emit(env, &ends, ts);
		return ogw_tr_out_answer(out, json_object());
	}
	notify_charging_state(env, c, row->charging, ts);
	sn = json_pack("{s:s, s:s, s:I, s:i}", "timestamp", ts, "connectorStatus", row->connector,
		       "evseId", c, "connectorId", 1);
	if (ends.n)
		return status_then_rsv(env, sn, &ends, ts, out);
	return forward(out, "StatusNotification", sn, NULL);
}

/*
 * Tokens the CSMS sent in RequestStartTransaction and their types
 * ("tokens" -> {"<idTag>": type}), so the Authorize a 1.6 charger sends
 * for it first (AuthorizeRemoteTxRequests) names the same token. At most
 * TOKENS_MAX, the oldest forgotten first; a start with the token ends it.
 */
static void token_keep(struct ogw_tr_env *env, const char *idtag, const char *type)
{
	json_t *t = ogw_tr_state_get(env, "tokens");

	if (!json_is_object(t)) {
		json_decref(t);
		t = json_object();
	}
	json_object_del(t, idtag);
	while (t && json_object_size(t) >= TOKENS_MAX)
		json_object_del(t, json_object_iter_key(json_object_iter(t)));
	if (t && type && !json_object_set_new(t, idtag, json_string(type))) {
		ogw_tr_state_put(env, "tokens", t);
		return;
	}
	json_decref(t);
}

/* The type the CSMS gave @idtag in a remote start (a new reference), or NULL. */
static json_t *token_type(struct ogw_tr_env *env, const char *idtag)
{
	json_t *t = ogw_tr_state_get(env, "tokens");
	json_t *type = idtag ? json_incref(json_object_get(t, idtag)) : NULL;

	json_decref(t);
	return type;
}

static void token_forget(struct ogw_tr_env *env, const char *idtag)
{
	json_t *t = ogw_tr_state_get(env, "tokens");

	if (t && idtag && json_object_get(t, idtag)) {
		json_object_del(t, idtag);
		if (json_object_size(t)) {
			ogw_tr_state_put(env, "tokens", t);
			return;
		}
		ogw_tr_state_del(env, "tokens");
	}
	json_decref(t);
}

/* ---- Authorize ----------------------------------------------------------- */

static int up_authorize(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	json_t *type = token_type(env, str(p, "idTag"));
	int r = forward(out, "Authorize",
			json_pack("{s:o}", "idToken",
				  id_token_typed(str(p, "idTag"), json_string_value(type))),
			NULL);

	json_decref(type);
	return r;
}

static int up_authorize_result(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
			       json_t **ret)
{
	(void)env;
	(void)memo;
	*ret = json_pack("{s:o}", "idTagInfo", idtaginfo16(json_object_get(result, "idTokenInfo")));
	return *ret ? 0 : -ENOMEM;
}

/* ---- StartTransaction ---------------------------------------------------- */

struct tx_answer_ctx {
	struct ogw_tr_pending *p;
	json_int_t id16;   /* StartTransaction: the id to answer with; Stop: 0 */
	json_int_t c;      /* StartTransaction: its connector and 2.0.1 id */
	char uuid[37];
};

/* Answers StartTransaction.conf/StopTransaction.conf from the
 * TransactionEventResponse. Without one (CSMS unreachable) a start is
 * answered Accepted with the gateway's id and a stop with no idTagInfo:
 * the charger must not retry a transaction the gateway already owns.
 * Offline authorization is the auth feature's job. */
static void tx_answer_done(struct ogw_tr_env *env, void *user, const json_t *result)
{
	struct tx_answer_ctx *ctx = user;
	json_t *info = json_object_get(result, "idTokenInfo");
	json_t *conf = json_object();

	if (conf && info && json_object_set_new(conf, "idTagInfo", idtaginfo16(info)))
		conf = (json_decref(conf), NULL);
	if (conf && ctx->id16) {
		if ((!info && json_object_set_new(conf, "idTagInfo",
						  json_pack("{s:s}", "status", "Accepted"))) ||
		    json_object_set_new(conf, "transactionId", json_integer(ctx->id16)))
			conf = (json_decref(conf), NULL);
	}
	answer_later(env, ctx->p, conf);
	if (!ctx->id16)
		reset_when_idle(env);
	else
		rst_answer(env, ctx->c, ctx->uuid);
	free(ctx);
}

/* What a RequestStartTransaction left for connector @c (or for any
 * connector), taken out of the state (new reference), or NULL. */
static json_t *take_remote_start(struct ogw_tr_env *env, json_int_t c)
{
	json_int_t conns[2] = { c, 0 };
	for (size_t i = 0; i < N_OF(conns); i++) {
		json_t *r = ogw_tr_state_get(env, N_KEY("remote", conns[i]));
		if (r) {
			ogw_tr_state_del(env, N_KEY("remote", conns[i]));
			return r;
		}
	}
	return NULL;
}

/* The type the CSMS gave token @idtag in remote start @remote, or NULL
 * when the charger started with another token. */
static const char *remote_type(const json_t *remote, const char *idtag)
{
	const char *given = str(remote, "idToken");
	return given && idtag && !strcasecmp(given, idtag) ? str(remote, "type") : NULL;
}

static int up_start(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	json_int_t c = num(p, "connectorId");
	json_int_t id16 = ogw_tr_next_id(env, "tx16");
	const char *ts = str(p, "timestamp");
	const char *idtag = str(p, "idTag");
	json_t *remote_req = id16 > 0 ? take_remote_start(env, c) : NULL;
	json_int_t remote = remote_req ? num(remote_req, "remoteStartId") : -1;
	/* the token the CSMS sent keeps the type it gave (F01): the Started
	 * event names the token it knows (the remote start for this
	 * connector's, else one the CSMS sent for another) */
	json_t *kept = id16 > 0 ? token_type(env, idtag) : NULL;
	const char *type = remote_type(remote_req, idtag) ? remote_type(remote_req, idtag)
							   : json_string_value(kept);
	struct tx_answer_ctx *ctx = NULL;
	struct rsv_ends ends = { .n = 0 };
	json_t *tx = NULL, *ev = NULL;
	char uuid[37], prev[37];
	int r = -ENOMEM;

	if (id16 <= 0)
		return id16 < 0 ? (int)id16 : -EIO;
	ogw_uuid4(uuid);
	tx = json_pack("{s:I, s:i, s:I, s:s, s:s}", "id16", id16, "seqNo", 1, "evse", c, "idTag",
		       idtag, "type", type ? type : idtag_type(idtag));
	if (!tx || (remote >= 0 && json_object_set_new(tx, "remoteStartId", json_integer(remote))))
		goto out;
	if ((r = state_put(env, N_KEY("tx16", id16), json_pack("{s:s}", "id", uuid))) < 0 ||
	    (r = state_put(env, S_KEY("tx", uuid), json_incref(tx))) < 0 ||
	    /* a connector runs one transaction: one still open there was lost */
	    (!conn_tx(env, c, prev) && (r = running_update(env, prev, false)) < 0) ||
	    (r = state_put(env, N_KEY("conn", c), json_pack("{s:s}", "tx", uuid))) < 0 ||
	    (r = running_update(env, uuid, true)) < 0)
		goto out;
	/* a transaction ends Preparing, even from a charger that shows no
	 * Charging after it: a later remote start is no plug-in's */
	if (conn_preparing(env, c))
		status_keep(env, c, "Charging");
	r = -ENOMEM;
	ev = tx_event("Started", ts, remote >= 0 ? "RemoteStart" : "Authorized", 0, uuid, c);
	if (!ev ||
	    json_object_set_new(ev, "meterValue",
				json_pack("[o]", energy_reading(ts, num(p, "meterStart"),
								"Transaction.Begin"))) ||
	    json_object_set_new(ev, "idToken", id_token_typed(idtag, type)) ||
	    copy_field(ev, NULL, p, "reservationId") ||
	    (remote >= 0 && json_object_set_new(json_object_get(ev, "transactionInfo"),
						"remoteStartId", json_integer(remote))) ||
	    rsv_start(env, p, ev, &ends))
		goto out;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx || !(ctx->p = ogw_tr_defer(env)))
		goto out;
	ctx->id16 = id16;
	ctx->c = c;
	strcpy(ctx->uuid, uuid);
	token_forget(env, idtag);
	out->outcome = OGW_TR_DEFER;
	emit_then(env, OGW_TR_UP, "TransactionEvent", json_incref(ev), tx_answer_done, ctx);
	ctx = NULL;
	r = 0;
out:
	/* after the Started event: a connector taken from its reservation */
	rsv_ends_emit(env, &ends, ts);
	free(ctx);
	json_decref(ev);
	json_decref(tx);
	json_decref(remote_req);
	json_decref(kept);
	return r;
}

/* ---- MeterValues --------------------------------------------------------- */

static int up_meter(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	json_int_t c = num(p, "connectorId");
	json_t *mv = NULL, *tx = NULL, *ev;
	char uuid[37];
	int r;

	if ((r = meter_values(env, "MeterValues", p, json_object_get(p, "meterValue"), &mv)) < 0)
		return r;
	/* nothing left that 2.0.1 can express (e.g. only Temperature) */
	if (!json_array_size(mv)) {
		r = ogw_tr_out_answer(out, json_object());
		goto out;
	}
	if (!has(p, "transactionId") || tx_uuid(env, num(p, "transactionId"), uuid) ||
	    !(tx = ogw_tr_state_get(env, S_KEY("tx", uuid)))) {
		/* no transaction the CSMS knows of: plain meter values of the EVSE */
		r = forward(out, "MeterValues",
			    json_pack("{s:I, s:O}", "evseId", c, "meterValue", mv), NULL);
		goto out;
	}
	ev = tx_event("Updated", json_string_value(json_object_get(json_array_get(mv, 0), "timestamp")),
		      MAP(meter_trigger, first_context(json_object_get(p, "meterValue")),
			  "MeterValuePeriodic"),
		      tx_take_seq(env, uuid, tx), uuid, num(tx, "evse"));
	if (ev && json_object_set(ev, "meterValue", mv))
		ev = (json_decref(ev), NULL);
	r = forward(out, "TransactionEvent", ev, NULL);
out:
	json_decref(tx);
	json_decref(mv);
	return r;
}

static int up_meter_result(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
			   json_t **ret)
{
	return result_empty(env, memo, result, ret);
}

/* ---- StopTransaction ----------------------------------------------------- */

struct stop_row {
	const char *reason16;
	const char *stopped;   /* stoppedReason */
	const char *trigger;   /* triggerReason */
};

/* REFERENCE §3 "StopTransaction.reason"; resets -> ImmediateReset,
 * UnlockCommand -> Other with triggerReason UnlockCommand (a choice). */
static const struct stop_row stop_rows[] = {
	{ "DeAuthorized", "DeAuthorized", "Deauthorized" },
	{ "EVDisconnected", "EVDisconnected", "EVCommunicationLost" },
	{ "EmergencyStop", "EmergencyStop", "AbnormalCondition" },
	{ "HardReset", "ImmediateReset", "ResetCommand" },
	{ "Local", "Local", "StopAuthorized" },
	{ "Other", "Other", "AbnormalCondition" },
	{ "PowerLoss", "PowerLoss", "AbnormalCondition" },
	{ "Reboot", "Reboot", "ResetCommand" },
	{ "Remote", "Remote", "RemoteStop" },
	{ "SoftReset", "ImmediateReset", "ResetCommand" },
	{ "UnlockCommand", "Other", "UnlockCommand" },
};

static const struct stop_row *stop_row(const char *reason16)
{
	/* J16E 2.5: an absent reason means Local */
	const char *reason = reason16 ? reason16 : "Local";
	for (size_t i = 0; i < N_OF(stop_rows); i++)
		if (!strcmp(stop_rows[i].reason16, reason))
			return &stop_rows[i];
	return &stop_rows[5];
}

/* The transaction's TxProfiles leave the GetChargingProfiles cache ("profiles",
 * see profile_cache()) with it. */
static void cache_tx_ended(struct ogw_tr_env *env, const char *uuid)
{
	json_t *cache = ogw_tr_state_get(env, "profiles"), *list = json_object_get(cache, "list"), *e;
	size_t i = 0, n = json_array_size(list);

	while ((e = json_array_get(list, i))) {
		if (same(str(e, "tx"), uuid))
			json_array_remove(list, i);
		else
			i++;
	}
	if (cache && json_array_size(list) != n)
		ogw_tr_state_put(env, "profiles", json_incref(cache));
	json_decref(cache);
}

/*
 * The idToken of an Ended event (new reference), or NULL when it has none.
 * 2.0.1 names a token in Ended only when a token stopped the transaction
 * (E07: the driver's token, triggerReason StopAuthorized); a CSMS prices
 * an Ended without one as the end of the transaction the Started token
 * opened. 1.6 puts the idTag in every StopTransaction it has, so it is
 * carried only for a Local stop (reason Local or absent, J16E 2.5), typed
 * as the Started token was when it is the same token.
 */
static json_t *stop_token(const json_t *p, const json_t *tx)
{
	const char *reason = str(p, "reason"), *idtag = str(p, "idTag");

	if (!idtag || (reason && strcmp(reason, "Local")))
		return NULL;
	return id_token_typed(idtag, str(tx, "idTag") && !strcasecmp(str(tx, "idTag"), idtag)
					     ? str(tx, "type")
					     : NULL);
}

/*
 * The chargingState an Ended event reports: Idle when the EV has left
 * (the stop reason says so, or the connector was last shown Available),
 * else EVConnected (the cable is still plugged: 1.6 shows Finishing after
 * the stop). 2.0.1 E06: the Ended event carries the state the EVSE is
 * left in, so the CSMS does not keep the transaction Charging.
 */
static const char *stop_charging_state(struct ogw_tr_env *env, const json_t *p, json_int_t c)
{
	json_t *st;
	bool gone;

	if (str(p, "reason") && !strcmp(str(p, "reason"), "EVDisconnected"))
		return "Idle";
	st = ogw_tr_state_get(env, "status");
	gone = str(st, N_KEY("", c) + 1) && !strcmp(str(st, N_KEY("", c) + 1), "Available");
	json_decref(st);
	return gone ? "Idle" : "EVConnected";
}

static int up_stop(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	const struct stop_row *row = stop_row(str(p, "reason"));
	const char *ts = str(p, "timestamp");
	struct tx_answer_ctx *ctx = NULL;
	json_t *tx = NULL, *ev = NULL, *mv = NULL, *token = NULL;
	char uuid[37];
	int r;

	/* a transaction the gateway never started (e.g. from before it was
	 * installed): the CSMS cannot know it, so the charger is answered and
	 * its stop kept as a dead letter for the operator */
	if (tx_uuid(env, num(p, "transactionId"), uuid) ||
	    !(tx = ogw_tr_state_get(env, S_KEY("tx", uuid)))) {
		ogw_tr_lost(env, "StopTransaction", p,
			    "a transaction the gateway never started: the CSMS has no id for it");
		return ogw_tr_out_answer(out, json_object());
	}
	if ((r = meter_values(env, "StopTransaction", p, json_object_get(p, "transactionData"), &mv)) < 0)
		goto out;
	r = -ENOMEM;
	if (json_array_append_new(mv, energy_reading(ts, num(p, "meterStop"), "Transaction.End")))
		goto out;
	ev = tx_event("Ended", ts, row->trigger, tx_take_seq(env, uuid, tx), uuid, num(tx, "evse"));
	token = stop_token(p, tx);
	if (!ev || json_object_set(ev, "meterValue", mv) ||
	    json_object_set_new(json_object_get(ev, "transactionInfo"), "stoppedReason",
				json_string(row->stopped)) ||
	    json_object_set_new(json_object_get(ev, "transactionInfo"), "chargingState",
				json_string(stop_charging_state(env, p, num(tx, "evse")))) ||
	    (token && json_object_set(ev, "idToken", token)))
		goto out;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx || !(ctx->p = ogw_tr_defer(env)))
		goto out;
	/* the event carries all the CSMS needs: the mapping can go now */
	ogw_tr_state_del(env, N_KEY("tx16", num(p, "transactionId")));
	ogw_tr_state_del(env, S_KEY("tx", uuid));
	ogw_tr_state_del(env, N_KEY("conn", num(tx, "evse")));
	running_update(env, uuid, false);
	cache_tx_ended(env, uuid);
	out->outcome = OGW_TR_DEFER;
	emit_then(env, OGW_TR_UP, "TransactionEvent", json_incref(ev), tx_answer_done, ctx);
	ctx = NULL;
	r = 0;
out:
	free(ctx);
	json_decref(token);
	json_decref(ev);
	json_decref(mv);
	json_decref(tx);
	return r;
}

/* ---- DataTransfer (both directions) --------------------------------------- */

/* 1.6 data is a string, 2.0.1 data any JSON: non-strings travel as JSON text. */
static int data_as_string(json_t *to, const json_t *from)
{
	json_t *d = json_object_get(from, "data");
	char *text;
	int r;

	if (!d || json_is_string(d))
		return copy_field(to, NULL, from, "data");
	text = json_dumps(d, JSON_COMPACT | JSON_ENCODE_ANY);
	r = text && !json_object_set_new(to, "data", json_string(text)) ? 0 : -ENOMEM;
	free(text);
	return r;
}

static json_t *data_transfer(const json_t *p)
{
	json_t *r = json_pack("{s:O}", "vendorId", json_object_get(p, "vendorId"));
	if (r && (copy_field(r, NULL, p, "messageId") || data_as_string(r, p)))
		r = (json_decref(r), NULL);
	return r;
}

/*
 * Plug & Charge on a 1.6 charger ("Using ISO 15118 Plug & Charge with OCPP
 * 1.6", OCA): the 2.0.1 message travels as DataTransfer with this vendorId,
 * its name as messageId and its JSON as the data text, the answer likewise.
 * A 2.0.1 CSMS has those messages itself: the charger's are unwrapped and
 * the answers wrapped back.
 */
static const char PNC_VENDOR[] = "org.openchargealliance.iso15118pnc";

static const char *const pnc_up[] = { "Authorize", "Get15118EVCertificate",
				      "GetCertificateStatus", "SignCertificate" };

/* The 2.0.1 action a Plug & Charge DataTransfer @p carries, or NULL. */
static const char *pnc_action(const json_t *p)
{
	if (!same(str(p, "vendorId"), PNC_VENDOR))
		return NULL;
	for (size_t i = 0; i < N_OF(pnc_up); i++)
		if (same(str(p, "messageId"), pnc_up[i]))
			return pnc_up[i];
	return NULL;
}

static int up_data(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	const char *action = pnc_action(p);
	json_t *inner;

	if (!action)
		return forward(out, "DataTransfer", data_transfer(p), NULL);
	inner = str(p, "data") ? json_loads(str(p, "data"), 0, NULL) : NULL;
	if (!json_is_object(inner)) {
		/* nothing a CSMS could read: the charger hears it at once */
		json_decref(inner);
		ogw_tr_lost(env, "DataTransfer", p, "Plug & Charge data is not a JSON object");
		return ogw_tr_out_status(out, "Rejected");
	}
	return forward(out, action, inner, json_pack("{s:s}", "pnc", action));
}

static int up_data_result(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
			  json_t **ret)
{
	char *text;

	(void)env;
	if (str(memo, "pnc")) {
		/* the 2.0.1 answer, as the data text of an Accepted DataTransfer */
		text = json_dumps(result, JSON_COMPACT);
		*ret = text ? json_pack("{s:s, s:s}", "status", "Accepted", "data", text) : NULL;
		free(text);
		return *ret ? 0 : -ENOMEM;
	}
	*ret = json_pack("{s:O}", "status", json_object_get(result, "status"));
	if (*ret && data_as_string(*ret, result))
		*ret = (json_decref(*ret), NULL);
	return *ret ? 0 : -ENOMEM;
}

/* A 2.0.1 certificate call for the charger's ISO 15118 side, wrapped as
 * the Plug & Charge DataTransfer a 1.6 charger takes (see PNC_VENDOR). */
static int pnc_forward(struct ogw_tr_out *out, const char *action, const json_t *p)
{
	char *text = json_dumps(p, JSON_COMPACT);
	json_t *dt = text ? json_pack("{s:s, s:s, s:s}", "vendorId", PNC_VENDOR, "messageId", action,
				      "data", text)
			  : NULL;

	free(text);
	return forward(out, "DataTransfer", dt, json_pack("{s:s}", "pnc", action));
}

/*
 * The answer to a wrapped call (@memo from pnc_forward) from the charger's
 * DataTransfer.conf @result: its data is the 2.0.1 answer. A charger that
 * does not take Plug & Charge (UnknownVendorId, ...) or answers something
 * unreadable is answered {"status": @refusal}. 1 when @memo was no
 * wrapped call (nothing done), else 0 or -ENOMEM.
 */
static int pnc_result(const json_t *memo, const json_t *result, const char *refusal, json_t **ret)
{
	json_t *inner = NULL;

	if (!str(memo, "pnc"))
		return 1;
	if (same(str(result, "status"), "Accepted") && str(result, "data"))
		inner = json_loads(str(result, "data"), 0, NULL);
	if (!json_is_object(inner)) {
		json_decref(inner);
		inner = json_pack("{s:s}", "status", refusal);
	}
	*ret = inner;
	return inner ? 0 : -ENOMEM;
}

/* result() of the calls that may travel wrapped and whose status enum is a
 * subset of the caller's. */
static int result_status_or_pnc(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
				json_t **ret)
{
	int r = pnc_result(memo, result, "Rejected", ret);
	return r == 1 ? result_status(env, memo, result, ret) : r;
}

/* ---- firmware, diagnostics and security notifications -------------------- */

static const struct str_map diag_status[] = {
	{ "Idle", "Idle" },
	{ "UploadFailed", "UploadFailure" },
	{ "Uploaded", "Uploaded" },
	{ "Uploading", "Uploading" },
};

/* Adds the requestId remembered under @key (the last GetLog/UpdateFirmware). */
static int add_request_id(struct ogw_tr_env *env, json_t *to, const char *key)
{
	json_t *s = ogw_tr_state_get(env, key);
	int r = 0;
	if (s && json_is_integer(json_object_get(s, "requestId")))
		r = copy_field(to, NULL, s, "requestId");
	json_decref(s);
	return r;
}

static int up_diag_status(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	json_t *n = json_pack("{s:s}", "status", MAP(diag_status, str(p, "status"), "Idle"));
	if (n && add_request_id(env, n, "getlog"))
		n = (json_decref(n), NULL);
	return forward(out, "LogStatusNotification", n, NULL);
}

static int up_fw_status(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	/* the 1.6 values are a subset of the 2.0.1 ones */
	json_t *n = json_pack("{s:O}", "status", json_object_get(p, "status"));
	if (n && add_request_id(env, n, "firmware"))
		n = (json_decref(n), NULL);
	return forward(out, "FirmwareStatusNotification", n, NULL);
}

/* SignedFirmwareStatusNotification, SecurityEventNotification and
 * LogStatusNotification carry the same fields in both versions. */
static int up_signed_fw_status(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	(void)env;
	return forward(out, "FirmwareStatusNotification", json_deep_copy(p), NULL);
}

static int up_security_event(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	(void)env;
	return forward(out, "SecurityEventNotification", json_deep_copy(p), NULL);
}

static int up_log_status(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	(void)env;
	return forward(out, "LogStatusNotification", json_deep_copy(p), NULL);
}

static int up_sign_certificate(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	(void)env;
	return forward(out, "SignCertificate",
		       json_pack("{s:O, s:s}", "csr", json_object_get(p, "csr"), "certificateType",
				 "ChargingStationCertificate"),
		       NULL);
}

/* ======================================================================== *
 *  DOWN: 2.0.1 CSMS -> 1.6 charger                                          *
 * ======================================================================== */

/* ---- charging profiles --------------------------------------------------- */

static const struct str_map purpose_to16[] = {
	{ "ChargingStationMaxProfile", "ChargePointMaxProfile" },
	{ "TxDefaultProfile", "TxDefaultProfile" },
	{ "TxProfile", "TxProfile" },
};

/* 1.6 limits have one decimal (S16 §7.12). */
static json_t *limit16(const json_t *limit)
{
	double d = json_number_value(limit) * 10.0;
	long long tenths = (long long)(d >= 0 ? d + 0.5 : d - 0.5);
	return tenths % 10 ? json_real((double)tenths / 10.0) : json_integer(tenths / 10);
}

/*
 * A 2.0.1 ChargingProfileType as a 1.6 ChargingProfile in *ret: the first
 * schedule only (1.6 has one; salesTariff and phaseToUse have no 1.6
 * field), transactionId through the id map. -EINVAL when it cannot be
 * expressed (ChargingStationExternalConstraints, an unknown transaction).
 */
static int profile16(struct ogw_tr_env *env, const json_t *cp, json_t **ret)
{
	const char *purpose = MAP(purpose_to16, str(cp, "chargingProfilePurpose"), NULL);
	const json_t *sched = json_array_get(json_object_get(cp, "chargingSchedule"), 0);
	json_t *prof = NULL, *s16 = NULL, *periods = NULL, *per;
	size_t i;
	int r = -EINVAL;

	if (!purpose || !sched)
		return -EINVAL;
	prof = json_pack("{s:O, s:O, s:s, s:O}", "chargingProfileId", json_object_get(cp, "id"),
			 "stackLevel", json_object_get(cp, "stackLevel"), "chargingProfilePurpose",
			 purpose, "chargingProfileKind", json_object_get(cp, "chargingProfileKind"));
	s16 = json_pack("{s:O}", "chargingRateUnit", json_object_get(sched, "chargingRateUnit"));
	periods = json_array();
	if (!prof || !s16 || !periods)
		goto nomem;
	if (has(cp, "transactionId")) {
		json_t *tx = ogw_tr_state_get(env, S_KEY("tx", str(cp, "transactionId")));
		json_t *id16 = json_object_get(tx, "id16");
		int e = id16 ? json_object_set(prof, "transactionId", id16) : 0;
		json_decref(tx);
		if (e)
			goto nomem;
		if (!id16)
			goto out;
	}
	json_array_foreach(json_object_get(sched, "chargingSchedulePeriod"), i, per) {
		json_t *p16 = json_pack("{s:O, s:o}", "startPeriod", json_object_get(per, "startPeriod"),
					"limit", limit16(json_object_get(per, "limit")));
		if (!p16 || copy_field(p16, NULL, per, "numberPhases") ||
		    json_array_append_new(periods, p16))
			goto nomem;
	}
	if (copy_field(s16, NULL, sched, "duration") || copy_field(s16, NULL, sched, "startSchedule") ||
	    (has(sched, "minChargingRate") &&
	     json_object_set_new(s16, "minChargingRate",
				 limit16(json_object_get(sched, "minChargingRate")))) ||
	    json_object_set(s16, "chargingSchedulePeriod", periods) ||
	    copy_field(prof, NULL, cp, "recurrencyKind") || copy_field(prof, NULL, cp, "validFrom") ||
	    copy_field(prof, NULL, cp, "validTo") || json_object_set(prof, "chargingSchedule", s16))
		goto nomem;
	*ret = json_incref(prof);
	r = 0;
	goto out;
nomem:
	r = -ENOMEM;
out:
	json_decref(periods);
	json_decref(s16);
	json_decref(prof);
	return r;
}

/* The profile cache ("profiles" -> {"list": [{"evseId", "chargingProfile",
 * "source", "tx"?}]}) that answers GetChargingProfiles, which 1.6 cannot:
 * source is the chargingLimitSource the profile came with (CSO for the
 * CSMS's own), tx the transaction a TxProfile belongs to, so it goes when
 * that transaction ends (K01.FR.05: a TxProfile lives as long as its
 * transaction). */
static json_t *profile_cache(struct ogw_tr_env *env)
{
	json_t *c = ogw_tr_state_get(env, "profiles");
	if (!c || !json_is_array(json_object_get(c, "list"))) {
		json_decref(c);
		c = json_pack("{s:[]}", "list");
	}
	return c;
}

/* The cache entry of accepted SetChargingProfile @set (new reference): a
 * TxProfile without transactionId is for the transaction running on its
 * EVSE (K01.FR.03). Every profile the cache sees came from the CSMS: the
 * gateway's own limits (the balancer) never pass through it. */
static json_t *cache_entry(struct ogw_tr_env *env, const json_t *set)
{
	const json_t *cp = json_object_get(set, "chargingProfile");
	json_t *e = json_pack("{s:O, s:O, s:s}", "evseId", json_object_get(set, "evseId"),
			      "chargingProfile", cp, "source", "CSO");
	char uuid[37];

	if (!e || strcmp(str(cp, "chargingProfilePurpose"), "TxProfile"))
		return e;
	if (has(cp, "transactionId")) {
		if (copy_field(e, "tx", cp, "transactionId"))
			e = (json_decref(e), NULL);
	} else if (!conn_tx(env, num(set, "evseId"), uuid) &&
		   json_object_set_new(e, "tx", json_string(uuid))) {
		e = (json_decref(e), NULL);
	}
	return e;
}

/* Whether cached @entry matches ClearChargingProfile @req. */
static bool clear_matches(const json_t *req, const json_t *entry)
{
	const json_t *cp = json_object_get(entry, "chargingProfile");
	const json_t *crit = json_object_get(req, "chargingProfileCriteria");

	if (has(req, "chargingProfileId") && num(req, "chargingProfileId") != num(cp, "id"))
		return false;
	if (has(crit, "evseId") && num(crit, "evseId") != num(entry, "evseId"))
		return false;
	if (has(crit, "stackLevel") && num(crit, "stackLevel") != num(cp, "stackLevel"))
		return false;
	if (has(crit, "chargingProfilePurpose") &&
	    strcmp(str(crit, "chargingProfilePurpose"), str(cp, "chargingProfilePurpose")))
		return false;
	return true;
}

/* Removes cached profiles matching ClearChargingProfile @req, or, for
 * SetChargingProfile @set, those it replaces (same id, or same stackLevel
 * and purpose on the same EVSE: S16 §3.13.2), then adds @set. */
static int cache_update(struct ogw_tr_env *env, const json_t *req, const json_t *set)
{
	json_t *cache = profile_cache(env), *list, *e;
	const json_t *cp = json_object_get(set, "chargingProfile");
	size_t i = 0;

	if (!cache)
		return -ENOMEM;
	list = json_object_get(cache, "list");
	while ((e = json_array_get(list, i))) {
		const json_t *old = json_object_get(e, "chargingProfile");
		bool drop = req ? clear_matches(req, e)
				: num(old, "id") == num(cp, "id") ||
					  (num(e, "evseId") == num(set, "evseId") &&
					   num(old, "stackLevel") == num(cp, "stackLevel") &&
					   !strcmp(str(old, "chargingProfilePurpose"),
						   str(cp, "chargingProfilePurpose")));
		if (drop)
			json_array_remove(list, i);
		else
			i++;
	}
	if (set && json_array_size(list) < PROFILE_CACHE_MAX &&
	    json_array_append_new(list, cache_entry(env, set))) {
		json_decref(cache);
		return -ENOMEM;
	}
	return ogw_tr_state_put(env, "profiles", cache);
}


static int down_set_profile(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	json_t *prof = NULL;
	int r = profile16(env, json_object_get(p, "chargingProfile"), &prof);

	if (r == -EINVAL)
		return ogw_tr_out_status(out, "Rejected");
	if (r < 0)
		return r;
	return forward(out, "SetChargingProfile",
		       json_pack("{s:O, s:o}", "connectorId", json_object_get(p, "evseId"),
				 "csChargingProfiles", prof),
		       json_deep_copy(p));
}

static const struct str_map profile_status[] = {
	{ "Accepted", "Accepted" },
	{ "NotSupported", "Rejected" },
	{ "Rejected", "Rejected" },
};

static int down_set_profile_result(struct ogw_tr_env *env, const json_t *memo,
				   const json_t *result, json_t **ret)
{
	int r;
	if (!strcmp(str(result, "status"), "Accepted") && (r = cache_update(env, NULL, memo)) < 0)
		return r;
	return status_result(result, profile_status, N_OF(profile_status), ret);
}

static int down_clear_profile(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	const json_t *crit = json_object_get(p, "chargingProfileCriteria");
	const char *purpose = str(crit, "chargingProfilePurpose");
	json_t *c = json_object();

	(void)env;
	if (purpose && !MAP(purpose_to16, purpose, NULL)) {
		json_decref(c);
		return ogw_tr_out_status(out, "Unknown");
	}
	if (!c || copy_field(c, "id", p, "chargingProfileId") ||
	    copy_field(c, "connectorId", crit, "evseId") || copy_field(c, NULL, crit, "stackLevel") ||
	    (purpose && json_object_set_new(c, "chargingProfilePurpose",
					    json_string(MAP(purpose_to16, purpose, NULL))))) {
		json_decref(c);
		return -ENOMEM;
	}
	return forward(out, "ClearChargingProfile", c, json_deep_copy(p));
}

static int down_clear_profile_result(struct ogw_tr_env *env, const json_t *memo,
				     const json_t *result, json_t **ret)
{
	int r;
	if (!strcmp(str(result, "status"), "Accepted") && (r = cache_update(env, memo, NULL)) < 0)
		return r;
	return status_result(result, NULL, 0, ret);
}

static bool criteria_match(const json_t *req, const json_t *entry)
{
	const json_t *crit = json_object_get(req, "chargingProfile");
	const json_t *cp = json_object_get(entry, "chargingProfile");
	const json_t *ids = json_object_get(crit, "chargingProfileId");
	const json_t *sources = json_object_get(crit, "chargingLimitSource");
	json_t *v;
	size_t i;
	bool found;

	if (has(req, "evseId") && num(req, "evseId") != num(entry, "evseId"))
		return false;
	if (has(crit, "stackLevel") && num(crit, "stackLevel") != num(cp, "stackLevel"))
		return false;
	if (has(crit, "chargingProfilePurpose") &&
	    strcmp(str(crit, "chargingProfilePurpose"), str(cp, "chargingProfilePurpose")))
		return false;
	found = !ids;
	json_array_foreach(ids, i, v)
		found |= json_integer_value(v) == num(cp, "id");
	if (!found)
		return false;
	found = !sources;
	json_array_foreach(sources, i, v)
		found |= same(json_string_value(v), str(entry, "source") ? str(entry, "source") : "CSO");
	return found;
}

/* Answered from the cache of profiles set through the gateway; the report
 * follows the answer, one ReportChargingProfiles per EVSE. */
static int down_get_profiles(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	json_t *cache = profile_cache(env), *byevse = json_object(), *e, *list;
	struct ogw_tr_pending *pend;
	const char *evse;
	size_t i, left;
	int r = -ENOMEM;

	if (!cache || !byevse)
		goto out;
	json_array_foreach(json_object_get(cache, "list"), i, e) {
		char key[48];
		if (!criteria_match(p, e))
			continue;
		/* one report per EVSE and source: a report names one source */
		snprintf(key, sizeof(key), "%lld %s", (long long)num(e, "evseId"),
			 str(e, "source") ? str(e, "source") : "CSO");
		list = json_object_get(byevse, key);
		if (!list && json_object_set_new(byevse, key, list = json_array()))
			goto out;
		if (json_array_append(list, json_object_get(e, "chargingProfile")))
			goto out;
	}
	if (!json_object_size(byevse)) {
		r = ogw_tr_out_status(out, "NoProfiles");
		goto out;
	}
	if (!(pend = ogw_tr_defer(env)))
		goto out;
	out->outcome = OGW_TR_DEFER;
	answer_later(env, pend, json_pack("{s:s}", "status", "Accepted"));
	left = json_object_size(byevse);
	json_object_foreach(byevse, evse, list)
		emit_notify(env, "ReportChargingProfiles",
			    json_pack("{s:O, s:s, s:O, s:b, s:i}", "requestId",
				      json_object_get(p, "requestId"), "chargingLimitSource",
				      strchr(evse, ' ') + 1, "chargingProfile", list, "tbc",
				      --left > 0, "evseId", atoi(evse)));
	r = 0;
out:
	json_decref(byevse);
	json_decref(cache);
	return r;
}

static int down_composite(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	json_t *c = json_pack("{s:O, s:O}", "connectorId", json_object_get(p, "evseId"), "duration",
			      json_object_get(p, "duration"));
	(void)env;
	if (c && copy_field(c, NULL, p, "chargingRateUnit"))
		c = (json_decref(c), NULL);
	return forward(out, "GetCompositeSchedule", c, json_deep_copy(p));
}

/* The 2.0.1 schedule{} wraps the 1.6 fields; without scheduleStart or a
 * schedule the answer cannot carry one. */
static int down_composite_result(struct ogw_tr_env *env, const json_t *memo,
				 const json_t *result, json_t **ret)
{
	const json_t *s = json_object_get(result, "chargingSchedule");
	json_t *periods = json_array(), *per;
	size_t i;
	int r = -ENOMEM;

	(void)env;
	*ret = NULL;
	if (!periods || status_result(result, NULL, 0, ret))
		goto out;
	if (!s || !has(result, "scheduleStart") ||
	    !json_array_size(json_object_get(s, "chargingSchedulePeriod"))) {
		r = 0;
		goto out;
	}
	json_array_foreach(json_object_get(s, "chargingSchedulePeriod"), i, per)
		if (json_array_append_new(periods, json_deep_copy(per)))
			goto out;
	if (json_object_set_new(*ret, "schedule",
				json_pack("{s:O, s:I, s:I, s:O, s:O}", "chargingSchedulePeriod",
					  periods, "evseId",
					  has(result, "connectorId") ? num(result, "connectorId")
								     : num(memo, "evseId"),
					  "duration",
					  has(s, "duration") ? num(s, "duration") : num(memo, "duration"),
					  "scheduleStart", json_object_get(result, "scheduleStart"),
					  "chargingRateUnit", json_object_get(s, "chargingRateUnit"))))
		goto out;
	r = 0;
out:
	if (r < 0)
		*ret = (json_decref(*ret), NULL);
	json_decref(periods);
	return r;
}

/* ---- remote start/stop ---------------------------------------------------- */

/* The charger's RemoteStartTransaction.conf for plugged-in connector
 * (intptr_t)@user: refused, or accepted with the transaction already
 * open, it answers the CSMS now; else once the Started event is through
 * (tx_answer_done()) or the connector leaves Preparing without one. */
static void request_start_answered(struct ogw_tr_env *env, void *user, const json_t *result)
{
	json_int_t c = (json_int_t)(intptr_t)user;
	struct ogw_tr_pending *p = ogw_tr_pending_find(env, N_KEY("rst", c));
	json_t *a = NULL;
	char uuid[37];

	if (!p)
		return;
	if (!result) {
		ogw_tr_answer(env, p, NULL, OGW_ERR_INTERNAL,
			      "the charger did not answer RemoteStartTransaction");
		return;
	}
	if (!same(str(result, "status"), "Accepted")) {
		status_result(result, NULL, 0, &a);
		answer_later(env, p, a);
	} else if (!conn_tx(env, c, uuid)) {
		rst_answer(env, c, uuid);
	} else if (ogw_tr_state_put(env, N_KEY("rstok", c), json_object()) < 0) {
		rst_answer(env, c, NULL);
	}
}

/*
 * 2.0.1 F02: with the EV plugged in first, a 2.x station's transaction
 * runs before the CSMS starts it remotely, and the answer names it. A 1.6
 * charger answers RemoteStartTransaction before its StartTransaction, so
 * the gateway holds the CSMS's CALL (deferred "rst:<c>") until the Started
 * event of that StartTransaction has reached the CSMS, and names it then.
 */
static int request_start_plugged(struct ogw_tr_env *env, json_int_t c, json_t *req,
				 struct ogw_tr_out *out)
{
	struct ogw_tr_pending *p = ogw_tr_defer_keyed(env, N_KEY("rst", c));

	if (!p)
		return -ENOMEM;
	out->outcome = OGW_TR_DEFER;
	if (ogw_tr_emit(env, OGW_TR_DOWN, "RemoteStartTransaction", json_incref(req),
			request_start_answered, (void *)(intptr_t)c) < 0)
		ogw_tr_answer(env, p, NULL, OGW_ERR_INTERNAL, "the charger cannot be reached");
	return 0;
}

static int down_request_start(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	const char *idtag = idtag16(json_object_get(p, "idToken"));
	const json_t *cp = json_object_get(p, "chargingProfile");
	json_int_t c = num(p, "evseId");
	json_t *req = NULL, *prof = NULL;
	char uuid[37];
	int r;

	/* 1.6 cannot carry a token over 20 characters; a start profile must be
	 * a TxProfile (S16 §5.11) */
	if (!idtag || (cp && strcmp(str(cp, "chargingProfilePurpose"), "TxProfile")))
		return ogw_tr_out_status(out, "Rejected");
	if (cp && (r = profile16(env, cp, &prof)) < 0)
		return r == -EINVAL ? ogw_tr_out_status(out, "Rejected") : r;
	req = json_pack("{s:s}", "idTag", idtag);
	if (!req || (c && json_object_set_new(req, "connectorId", json_integer(c))) ||
	    (prof && json_object_set(req, "chargingProfile", prof))) {
		r = -ENOMEM;
		goto out;
	}
	/* remembered for the StartTransaction that follows (RemoteStart
	 * trigger, and the token's type) */
	if ((r = state_put(env, N_KEY("remote", c),
			   json_pack("{s:O, s:s, s:O}", "remoteStartId",
				     json_object_get(p, "remoteStartId"), "idToken", idtag, "type",
				     json_object_get(json_object_get(p, "idToken"), "type")))) < 0)
		goto out;
	token_keep(env, idtag, str(json_object_get(p, "idToken"), "type"));
	if (c > 0 && conn_preparing(env, c) && conn_tx(env, c, uuid) == -ENOENT &&
	    !ogw_tr_pending_find(env, N_KEY("rst", c))) {
		r = request_start_plugged(env, c, req, out);
		goto out;
	}
	r = forward(out, "RemoteStartTransaction", json_incref(req),
		    json_pack("{s:I, s:s}", "evseId", c, "idToken", idtag));
out:
	json_decref(prof);
	json_decref(req);
	return r;
}

/*
 * 2.0.1 F01.FR.?? (RequestStartTransactionResponse.transactionId): when
 * the transaction has already started, the answer names it. A 1.6
 * charger that sends its StartTransaction before it answers (or that was
 * already charging that token on the connector) has one by now: the
 * transaction on the EVSE asked for, or for any EVSE the one of that token.
 */
static int down_request_start_result(struct ogw_tr_env *env, const json_t *memo,
				     const json_t *result, json_t **ret)
{
	json_t *running = ogw_tr_state_get(env, "running"), *id, *tx;
	const char *found = NULL;
	char uuid[37];
	size_t i;
	int r;

	if ((r = status_result(result, NULL, 0, ret)) < 0 ||
	    strcmp(str(result, "status"), "Accepted"))
		goto out;
	if (num(memo, "evseId") > 0) {
		if (!conn_tx(env, num(memo, "evseId"), uuid))
			found = uuid;
	} else {
		json_array_foreach(json_object_get(running, "tx"), i, id) {
			tx = ogw_tr_state_get(env, S_KEY("tx", json_string_value(id)));
			if (str(tx, "idTag") && !strcasecmp(str(tx, "idTag"), str(memo, "idToken")) &&
			    strlen(json_string_value(id)) < sizeof(uuid)) {
				strcpy(uuid, json_string_value(id));
				found = uuid;
			}
			json_decref(tx);
		}
	}
	if (found && json_object_set_new(*ret, "transactionId", json_string(found)))
		r = -ENOMEM;
out:
	json_decref(running);
	if (r < 0)
		*ret = (json_decref(*ret), NULL);
	return r;
}

static int down_request_stop(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	json_t *tx = ogw_tr_state_get(env, S_KEY("tx", str(p, "transactionId")));
	json_t *id16 = json_object_get(tx, "id16");
	int r = id16 ? forward(out, "RemoteStopTransaction",
			       json_pack("{s:O}", "transactionId", id16), NULL)
		     : ogw_tr_out_status(out, "Rejected");
	json_decref(tx);
	return r;
}

/* ---- availability, reset, unlock, trigger ---------------------------------- */

static const struct str_map reset_type[] = {
	{ "Immediate", "Hard" },
	{ "OnIdle", "Soft" },
};

/* OnIdle while a transaction runs: 1.6 would stop it, so the gateway
 * answers Scheduled and sends Soft once the charger is idle (REFERENCE §3). */
static int down_reset(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	int r;

	/* 1.6 resets the whole charger only */
	if (has(p, "evseId"))
		return ogw_tr_out_status(out, "Rejected");
	if (!strcmp(str(p, "type"), "OnIdle") && tx_running(env)) {
		if ((r = state_put(env, "reset", json_object())) < 0)
			return r;
		return ogw_tr_out_status(out, "Scheduled");
	}
	/* a reset now leaves nothing to wait for */
	ogw_tr_state_del(env, "reset");
	return forward(out, "Reset",
		       json_pack("{s:s}", "type", MAP(reset_type, str(p, "type"), "Soft")), NULL);
}

/* An accepted Reset makes the charger's next boot a RemoteReset (B11). */
static int down_reset_result(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
			     json_t **ret)
{
	reset_accepted(env, NULL, result);
	return result_status(env, memo, result, ret);
}

static int down_availability(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	const json_t *evse = json_object_get(p, "evse");
	(void)env;
	/* one connector per EVSE: asking for a connector other than 1 is asking
	 * for one the charger does not show */
	if (evse && has(evse, "connectorId") && num(evse, "connectorId") != 1)
		return ogw_tr_out_status(out, "Rejected");
	return forward(out, "ChangeAvailability",
		       json_pack("{s:I, s:O}", "connectorId", evse ? num(evse, "id") : 0, "type",
				 json_object_get(p, "operationalStatus")),
		       NULL);
}

static int down_unlock(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	(void)env;
	if (num(p, "connectorId") != 1 || num(p, "evseId") <= 0)
		return ogw_tr_out_status(out, "UnknownConnector");
	return forward(out, "UnlockConnector",
		       json_pack("{s:O}", "connectorId", json_object_get(p, "evseId")), NULL);
}

static const struct str_map unlock_status[] = {
	{ "NotSupported", "UnlockFailed" },
	{ "UnlockFailed", "UnlockFailed" },
	{ "Unlocked", "Unlocked" },
};

static int down_unlock_result(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
			      json_t **ret)
{
	(void)env;
	(void)memo;
	return status_result(result, unlock_status, N_OF(unlock_status), ret);
}

struct trigger_row {
	const char *requested;    /* 2.0.1 requestedMessage */
	const char *action16;     /* TriggerMessage or ExtendedTriggerMessage (SEC16) */
	const char *requested16;
};

static const struct trigger_row trigger_rows[] = {
	{ "BootNotification", "TriggerMessage", "BootNotification" },
	{ "FirmwareStatusNotification", "TriggerMessage", "FirmwareStatusNotification" },
	{ "Heartbeat", "TriggerMessage", "Heartbeat" },
	{ "LogStatusNotification", "TriggerMessage", "DiagnosticsStatusNotification" },
	{ "MeterValues", "TriggerMessage", "MeterValues" },
	{ "SignChargingStationCertificate", "ExtendedTriggerMessage", "SignChargePointCertificate" },
	{ "StatusNotification", "TriggerMessage", "StatusNotification" },
	/* a triggered MeterValues of a running transaction becomes a
	 * TransactionEvent with triggerReason Trigger */
	{ "TransactionEvent", "TriggerMessage", "MeterValues" },
};

static int down_trigger(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	const char *requested = str(p, "requestedMessage");
	const json_t *evse = json_object_get(p, "evse");
	json_t *t;

	(void)env;
	for (size_t i = 0; i < N_OF(trigger_rows); i++) {
		if (strcmp(trigger_rows[i].requested, requested))
			continue;
		t = json_pack("{s:s}", "requestedMessage", trigger_rows[i].requested16);
		/* EVSE 0 is the station: 1.6 says so by leaving connectorId out */
		if (t && num(evse, "id") > 0 &&
		    json_object_set_new(t, "connectorId", json_integer(num(evse, "id"))))
			t = (json_decref(t), NULL);
		return forward(out, trigger_rows[i].action16, t, NULL);
	}
	/* the charger's ISO 15118 side signs its V2G certificate over Plug &
	 * Charge DataTransfer */
	if (!strcmp(requested, "SignV2GCertificate"))
		return pnc_forward(out, "TriggerMessage", p);
	/* SignCombinedCertificate, PublishFirmwareStatusNotification */
	return ogw_tr_out_status(out, "NotImplemented");
}

/* ---- authorization: cache, local list, reservations ------------------------ */

static int down_clear_cache(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	(void)env;
	(void)p;
	return forward(out, "ClearCache", json_object(), NULL);
}

static int down_send_list(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	json_t *list = json_array(), *e, *req = NULL;
	size_t i;
	int r = -ENOMEM;

	(void)env;
	if (!list)
		return -ENOMEM;
	json_array_foreach(json_object_get(p, "localAuthorizationList"), i, e) {
		const char *tag = idtag16(json_object_get(e, "idToken"));
		json_t *ad;
		if (!tag) {
			r = ogw_tr_out_status(out, "Failed");
			goto out;
		}
		ad = json_pack("{s:s}", "idTag", tag);
		if (!ad || json_array_append_new(list, ad))
			goto out;
		if (has(e, "idTokenInfo") &&
		    json_object_set_new(ad, "idTagInfo", idtaginfo16(json_object_get(e, "idTokenInfo"))))
			goto out;
	}
	req = json_pack("{s:O, s:O}", "listVersion", json_object_get(p, "versionNumber"),
			"updateType", json_object_get(p, "updateType"));
	if (!req || (json_array_size(list) && json_object_set(req, "localAuthorizationList", list)))
		goto out;
	r = forward(out, "SendLocalList", json_incref(req), NULL);
out:
	json_decref(req);
	json_decref(list);
	return r;
}

static const struct str_map send_list_status[] = {
	{ "Accepted", "Accepted" },
	{ "Failed", "Failed" },
	{ "NotSupported", "Failed" },
	{ "VersionMismatch", "VersionMismatch" },
};

static int down_send_list_result(struct ogw_tr_env *env, const json_t *memo,
				 const json_t *result, json_t **ret)
{
	(void)env;
	(void)memo;
	return status_result(result, send_list_status, N_OF(send_list_status), ret);
}

static int down_list_version(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	(void)env;
	(void)p;
	return forward(out, "GetLocalListVersion", json_object(), NULL);
}

static int down_list_version_result(struct ogw_tr_env *env, const json_t *memo,
				    const json_t *result, json_t **ret)
{
	json_int_t v = num(result, "listVersion");
	(void)env;
	(void)memo;
	/* 1.6 -1 means "no list support"; 2.0.1 has only 0 for "no list" */
	*ret = json_pack("{s:I}", "versionNumber", v < 0 ? 0 : v);
	return *ret ? 0 : -ENOMEM;
}

static int down_reserve(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	const char *tag = idtag16(json_object_get(p, "idToken"));
	const json_t *group = json_object_get(p, "groupIdToken");
	const char *parent = idtag16(group);
	json_t *r;

	(void)env;
	if (!tag || (group && !parent))
		return ogw_tr_out_status(out, "Rejected");
	r = json_pack("{s:I, s:O, s:s, s:O}", "connectorId", num(p, "evseId"), "expiryDate",
		      json_object_get(p, "expiryDateTime"), "idTag", tag, "reservationId",
		      json_object_get(p, "id"));
	if (r && parent && json_object_set_new(r, "parentIdTag", json_string(parent)))
		r = (json_decref(r), NULL);
	return forward(out, "ReserveNow", r, json_deep_copy(p));
}

/* An accepted reservation is watched until it ends (see rsv_status()). */
static int down_reserve_result(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
			       json_t **ret)
{
	int r;
	if (!strcmp(str(result, "status"), "Accepted") && (r = rsv_keep(env, memo)) < 0)
		return r;
	return status_result(result, NULL, 0, ret);
}

static int down_cancel_reservation(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	(void)env;
	return forward(out, "CancelReservation",
		       json_pack("{s:O}", "reservationId", json_object_get(p, "reservationId")),
		       json_deep_copy(p));
}

/* A reservation the CSMS cancelled is over with no ReservationStatusUpdate:
 * the station only answers and shows the connector Available (H02, as in
 * the 2.0.1 test case TC_H_17, secondary). */
static int down_cancel_reservation_result(struct ogw_tr_env *env, const json_t *memo,
					  const json_t *result, json_t **ret)
{
	json_int_t id = num(memo, "reservationId"), c;
	json_t *rsv;

	if (!strcmp(str(result, "status"), "Accepted") && (rsv = rsv_get(env, id, &c))) {
		rsv_forget(env, id, c);
		json_decref(rsv);
	}
	return status_result(result, NULL, 0, ret);
}

static int down_data(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	(void)env;
	return forward(out, "DataTransfer", data_transfer(p), NULL);
}

/* 1.6 data stays a string: 2.0.1 data is any JSON, a string included. */
static int down_data_result(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
			    json_t **ret)
{
	(void)env;
	(void)memo;
	*ret = json_pack("{s:O}", "status", json_object_get(result, "status"));
	if (*ret && copy_field(*ret, NULL, result, "data"))
		*ret = (json_decref(*ret), NULL);
	return *ret ? 0 : -ENOMEM;
}

/* ---- transactions the charger cannot be asked about ------------------------ */

static int down_tx_status(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	json_t *tx = has(p, "transactionId") ? ogw_tr_state_get(env, S_KEY("tx", str(p, "transactionId")))
					     : NULL;
	/* The charger's own queue is empty (the gateway answers every
	 * transaction message); what waits is in the gateway's. */
	json_t *a = json_pack("{s:b}", "messagesInQueue",
			      ogw_tr_queued(env, has(p, "transactionId") ? str(p, "transactionId") : NULL));

	if (a && has(p, "transactionId") &&
	    json_object_set_new(a, "ongoingIndicator", json_boolean(tx != NULL)))
		a = (json_decref(a), NULL);
	json_decref(tx);
	return ogw_tr_out_answer(out, a);
}

/* ---- the device model over 1.6 configuration keys --------------------------- *
 * The rows are translators/config_keys.def, shared with v201_v16.c. */

/* A variable as this translator reaches it: the row, and for a
 * per-connector row the connector (0: the ChargingStation component). */
struct cfg_ref {
	const struct ogw_cfg_key *k;
	json_int_t conn;
};

/*
 * The row of a 2.0.1 component/variable pair in *ret, or -ENOENT with
 * *ret_status saying why: UnknownComponent, UnknownVariable, or
 * NotSupportedAttributeType for attribute types other than Actual (1.6 keys
 * have only a value). Station-level rows take no evse and no component
 * instance; a per-connector row takes EVSE n (its connector 1, the one
 * connector a 1.6 connector is) or the ChargingStation.
 */
static int cfg_find(const json_t *data, struct cfg_ref *ret, const char **ret_status)
{
	const json_t *comp = json_object_get(data, "component");
	const json_t *var = json_object_get(data, "variable");
	const json_t *evse = json_object_get(comp, "evse");
	const char *type = str(data, "attributeType");
	bool known = false;
	const struct ogw_cfg_key *k =
		has(comp, "instance") ? NULL
				      : ogw_cfg_by_variable(str(comp, "name"), str(var, "name"),
							    str(var, "instance"), &known);

	*ret_status = known ? "UnknownVariable" : "UnknownComponent";
	if (k && k->form == OGW_CFG_PER_CONNECTOR) {
		bool station = !strcmp(str(comp, "name"), "ChargingStation");
		if (station == (evse != NULL) || num(evse, "id") < (station ? 0 : 1) ||
		    (has(evse, "connectorId") && num(evse, "connectorId") != 1)) {
			*ret_status = "UnknownComponent";
			return -ENOENT;
		}
		ret->conn = station ? 0 : num(evse, "id");
	} else if (k && evse) {
		*ret_status = "UnknownComponent";
		return -ENOENT;
	} else {
		ret->conn = 0;
	}
	if (!k)
		return -ENOENT;
	if (type && strcmp(type, "Actual")) {
		*ret_status = "NotSupportedAttributeType";
		return -ENOENT;
	}
	ret->k = k;
	return 0;
}

/*
 * Entry @conn of a 1.6 per-connector list ("0.RST, 1.RTS", 1.6 §9.1
 * ConnectorPhaseRotation) into @ret. 0, or -ENOENT when the list names
 * no such connector.
 */
static int list_entry(const char *list, json_int_t conn, char ret[64])
{
	while (list && *list) {
		const char *end = strchr(list, ',');
		size_t len = end ? (size_t)(end - list) : strlen(list);
		char *dot;
		char item[64];

		while (len && *list == ' ')
			list++, len--;
		while (len && list[len - 1] == ' ')
			len--;
		if (len < sizeof(item)) {
			memcpy(item, list, len);
			item[len] = '\0';
			dot = strchr(item, '.');
			if (dot && strtoll(item, NULL, 10) == conn && dot > item) {
				snprintf(ret, 64, "%s", dot + 1);
				return 0;
			}
		}
		list = end ? end + 1 : NULL;
	}
	return -ENOENT;
}

/* A result entry echoing @data's component, variable and attributeType. */
static json_t *var_result(const json_t *data, const char *status)
{
	json_t *r = json_pack("{s:s, s:O, s:O}", "attributeStatus", status, "component",
			      json_object_get(data, "component"), "variable",
			      json_object_get(data, "variable"));
	if (r && copy_field(r, NULL, data, "attributeType"))
		r = (json_decref(r), NULL);
	return r;
}

/* The configurationKey entry for @key in a GetConfiguration.conf, or NULL. */
static const json_t *config_key(const json_t *conf, const char *key)
{
	json_t *kv;
	size_t i;
	json_array_foreach(json_object_get(conf, "configurationKey"), i, kv)
		if (str(kv, "key") && !strcasecmp(str(kv, "key"), key))
			return kv;
	return NULL;
}

/* ---- GetVariables ---------------------------------------------------------- */

struct getvars_ctx {
	struct ogw_tr_pending *p;
	json_t *results;   /* getVariableResult, unmapped entries final */
	json_t *refs;      /* per entry: {"key", "conn"} or null */
};

/* The 2.0.1 value of @ref in 1.6 KeyValue @kv (borrowed: the key's text,
 * or @buf for a list entry), NULL when it has none to show. */
static const char *cfg_value(const struct cfg_ref *ref, const json_t *kv, char buf[64])
{
	if (ref->k->form == OGW_CFG_HEX)
		return NULL;   /* a password is WriteOnly in 2.0.1 */
	if (ref->k->form == OGW_CFG_PER_CONNECTOR)
		return list_entry(str(kv, "value"), ref->conn, buf) ? NULL : buf;
	return str(kv, "value");
}

static void getvars_done(struct ogw_tr_env *env, void *user, const json_t *result)
{
	struct getvars_ctx *ctx = user;
	json_t *rj;
	size_t i;

	json_array_foreach(ctx->refs, i, rj) {
		json_t *res = json_array_get(ctx->results, i);
		struct cfg_ref ref = { ogw_cfg_by_key(str(rj, "key")), num(rj, "conn") };
		const json_t *kv;
		const char *value;
		char buf[64];

		/* no answer: the mapped entries stay Rejected */
		if (!ref.k || !result)
			continue;
		kv = config_key(result, ref.k->key);
		value = kv ? cfg_value(&ref, kv, buf) : NULL;
		if (!kv || (ref.k->form == OGW_CFG_PER_CONNECTOR && !value))
			json_object_set_new(res, "attributeStatus", json_string("UnknownVariable"));
		else if (value && !json_object_set_new(res, "attributeValue", json_string(value)))
			json_object_set_new(res, "attributeStatus", json_string("Accepted"));
	}
	answer_later(env, ctx->p, json_pack("{s:O}", "getVariableResult", ctx->results));
	json_decref(ctx->results);
	json_decref(ctx->refs);
	free(ctx);
}

/* Adds @key to GetConfiguration's key list @wanted unless it is there. */
static int want_key(json_t *wanted, const char *key)
{
	json_t *k;
	size_t i;
	json_array_foreach(wanted, i, k)
		if (!strcmp(json_string_value(k), key))
			return 0;
	return json_array_append_new(wanted, json_string(key)) ? -ENOMEM : 0;
}

static int down_get_vars(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	struct getvars_ctx *ctx = calloc(1, sizeof(*ctx));
	json_t *wanted = json_array(), *data;
	size_t i;
	int r = -ENOMEM;

	if (!ctx || !wanted || !(ctx->results = json_array()) || !(ctx->refs = json_array()))
		goto out;
	json_array_foreach(json_object_get(p, "getVariableData"), i, data) {
		const char *status;
		struct cfg_ref ref;
		bool mapped = !cfg_find(data, &ref, &status);
		/* mapped entries stay Rejected unless the charger answers */
		if (json_array_append_new(ctx->results, var_result(data, mapped ? "Rejected" : status)) ||
		    json_array_append_new(ctx->refs,
					  mapped ? json_pack("{s:s, s:I}", "key", ref.k->key, "conn",
							     ref.conn)
						 : json_null()) ||
		    (mapped && want_key(wanted, ref.k->key)))
			goto out;
	}
	if (!json_array_size(wanted)) {
		r = ogw_tr_out_answer(out, json_pack("{s:O}", "getVariableResult", ctx->results));
		goto out;
	}
	if (!(ctx->p = ogw_tr_defer(env)))
		goto out;
	out->outcome = OGW_TR_DEFER;
	emit_then(env, OGW_TR_DOWN, "GetConfiguration", json_pack("{s:O}", "key", wanted),
		  getvars_done, ctx);
	ctx = NULL;
	r = 0;
out:
	if (ctx) {
		json_decref(ctx->results);
		json_decref(ctx->refs);
		free(ctx);
	}
	json_decref(wanted);
	return r;
}

/* ---- SetVariables ---------------------------------------------------------- */

struct setvars_ctx;
struct setvars_slot {
	struct setvars_ctx *ctx;
	size_t index;      /* into ctx->results */
};

struct setvars_ctx {
	struct ogw_tr_pending *p;
	json_t *results;
	size_t waiting;    /* ChangeConfiguration calls not answered yet */
	struct setvars_slot slots[];
};

static const struct str_map config_status[] = {
	{ "Accepted", "Accepted" },
	{ "NotSupported", "UnknownVariable" },
	{ "RebootRequired", "RebootRequired" },
	{ "Rejected", "Rejected" },
};

static void setvars_done(struct ogw_tr_env *env, void *user, const json_t *result)
{
	struct setvars_slot *slot = user;
	struct setvars_ctx *ctx = slot->ctx;

	if (result)
		json_object_set_new(json_array_get(ctx->results, slot->index), "attributeStatus",
				    json_string(MAP(config_status, str(result, "status"),
						    "Rejected")));
	if (--ctx->waiting)
		return;
	answer_later(env, ctx->p, json_pack("{s:O}", "setVariableResult", ctx->results));
	json_decref(ctx->results);
	free(ctx);
}

/* The ChangeConfiguration for one SetVariableData, or NULL (value too long
 * for 1.6, or no memory). A per-connector key is set with the one entry
 * of its list ("2.RST": 1.6 §9.1 lists are per connector). The hex form of
 * a password is zeroed after use. */
static json_t *change_config(const struct cfg_ref *ref, const char *value)
{
	size_t len = strlen(value);
	json_t *r;
	char *hex;

	if (ref->k->form == OGW_CFG_PER_CONNECTOR) {
		char entry[96];
		if (len > 60 || strchr(value, ','))
			return NULL;
		snprintf(entry, sizeof(entry), "%lld.%s", (long long)ref->conn, value);
		return json_pack("{s:s, s:s}", "key", ref->k->key, "value", entry);
	}
	if (ref->k->form == OGW_CFG_PLAIN)
		return len <= 500 ? json_pack("{s:s, s:s}", "key", ref->k->key, "value", value) : NULL;
	if (len > 250 || !(hex = malloc(2 * len + 1)))
		return NULL;
	ogw_hex_encode(value, len, hex);
	r = json_pack("{s:s, s:s}", "key", ref->k->key, "value", hex);
	ogw_memzero(hex, 2 * len + 1);
	free(hex);
	return r;
}

/* One ChangeConfiguration per variable (1.6 takes one key per request),
 * emitted in order; the answer waits for all of them. */
static int down_set_vars(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	const json_t *all = json_object_get(p, "setVariableData");
	size_t n = json_array_size(all), i, nslots = 0;
	struct setvars_ctx *ctx = calloc(1, sizeof(*ctx) + n * sizeof(ctx->slots[0]));
	json_t *data, *calls = json_array();
	int r = -ENOMEM;

	if (!ctx || !calls || !(ctx->results = json_array()))
		goto out;
	json_array_foreach(all, i, data) {
		const char *status;
		struct cfg_ref ref;
		bool mapped = !cfg_find(data, &ref, &status);
		json_t *cc = mapped ? change_config(&ref, str(data, "attributeValue")) : NULL;
		if (mapped && !cc)
			status = "Rejected";
		if (json_array_append_new(ctx->results, var_result(data, cc ? "Rejected" : status)))
			goto out_cc;
		if (cc) {
			ctx->slots[nslots] = (struct setvars_slot){ ctx, i };
			nslots++;
			if (json_array_append_new(calls, cc))
				goto out;
		}
		continue;
out_cc:
		json_decref(cc);
		goto out;
	}
	if (!nslots) {
		r = ogw_tr_out_answer(out, json_pack("{s:O}", "setVariableResult", ctx->results));
		goto out;
	}
	if (!(ctx->p = ogw_tr_defer(env)))
		goto out;
	out->outcome = OGW_TR_DEFER;
	ctx->waiting = nslots;
	/* the last done callback frees ctx: nothing may touch it after the loop */
	for (i = 0; i < nslots; i++)
		emit_then(env, OGW_TR_DOWN, "ChangeConfiguration",
			  json_incref(json_array_get(calls, i)), setvars_done, &ctx->slots[i]);
	ctx = NULL;
	r = 0;
out:
	if (ctx) {
		json_decref(ctx->results);
		free(ctx);
	}
	json_decref(calls);
	return r;
}

/* ---- GetBaseReport / GetReport ---------------------------------------------- */

struct report_ctx {
	struct ogw_tr_pending *p;
	json_t *request;   /* the GetBaseReport/GetReport request */
};

/* The component a reported variable sits on (new reference). */
static json_t *cfg_component(const struct cfg_ref *ref)
{
	if (ref->k->form != OGW_CFG_PER_CONNECTOR)
		return json_pack("{s:s}", "name", ref->k->component);
	if (!ref->conn)
		return json_pack("{s:s}", "name", "ChargingStation");
	return json_pack("{s:s, s:{s:I}}", "name", ref->k->component, "evse", "id", ref->conn);
}

/* Whether GetReport's componentVariable list (if any) selects @ref. */
static bool report_selects(const json_t *request, const struct cfg_ref *ref)
{
	const json_t *cvs = json_object_get(request, "componentVariable");
	json_t *comp = cfg_component(ref), *cv;
	bool r = !cvs;
	size_t i;

	json_array_foreach(cvs, i, cv) {
		const json_t *var = json_object_get(cv, "variable");
		const json_t *want = json_object_get(cv, "component");
		if (strcmp(str(want, "name"), str(comp, "name")) ||
		    (has(want, "evse") && num(json_object_get(want, "evse"), "id") !=
						  num(json_object_get(comp, "evse"), "id")))
			continue;
		if (!var || (!strcmp(str(var, "name"), ref->k->variable) &&
			     (!has(var, "instance") || same(str(var, "instance"), ref->k->instance))))
			r = true;
	}
	json_decref(comp);
	return r;
}

static json_t *report_entry(const struct cfg_ref *ref, const char *value, bool readonly)
{
	json_t *var = json_pack("{s:s}", "name", ref->k->variable);
	json_t *attr = json_pack("{s:s, s:s}", "type", "Actual", "mutability",
				 ref->k->form == OGW_CFG_HEX ? "WriteOnly"
				 : readonly		       ? "ReadOnly"
							       : "ReadWrite");
	if (var && ref->k->instance)
		json_object_set_new(var, "instance", json_string(ref->k->instance));
	if (attr && value && ref->k->form != OGW_CFG_HEX)
		json_object_set_new(attr, "value", json_string(value));
	return json_pack("{s:o, s:o, s:[o]}", "component", cfg_component(ref), "variable", var,
			 "variableAttribute", attr);
}

/* Appends the reportData entries of 1.6 KeyValue @kv (of row @k) to @data:
 * one per connector a per-connector list names, else one. */
static int report_key(json_t *data, const json_t *request, const struct ogw_cfg_key *k,
		      const json_t *kv)
{
	bool readonly = json_is_true(json_object_get(kv, "readonly"));
	const char *list = str(kv, "value");
	struct cfg_ref ref = { k, 0 };
	char buf[64];

	if (k->form != OGW_CFG_PER_CONNECTOR)
		return report_selects(request, &ref) &&
				       json_array_append_new(data, report_entry(&ref, list, readonly))
			       ? -ENOMEM
			       : 0;
	for (const char *at = list; at && *at; at = strchr(at, ',') ? strchr(at, ',') + 1 : NULL) {
		char *end;
		ref.conn = strtoll(at, &end, 10);
		if (end == at || list_entry(list, ref.conn, buf) || !report_selects(request, &ref))
			continue;
		if (json_array_append_new(data, report_entry(&ref, buf, readonly)))
			return -ENOMEM;
	}
	return 0;
}

/* The reportData of every mapped key the charger reported. */
static json_t *report_data(const json_t *request, const json_t *conf)
{
	json_t *data = json_array(), *kv;
	size_t i;

	json_array_foreach(json_object_get(conf, "configurationKey"), i, kv) {
		const struct ogw_cfg_key *k = ogw_cfg_by_key(str(kv, "key"));
		if (!data)
			return NULL;
		if (k && report_key(data, request, k, kv))
			data = (json_decref(data), NULL);
	}
	return data;
}

/* P1-201 §4.6 (B07/B08): answer first, then NotifyReport in parts with
 * seqNo 0.. and tbc on every part but the last. */
static void report_done(struct ogw_tr_env *env, void *user, const json_t *result)
{
	struct report_ctx *ctx = user;
	json_t *data = result ? report_data(ctx->request, result) : NULL;
	size_t n = json_array_size(data), parts = (n + REPORT_CHUNK - 1) / REPORT_CHUNK;
	char now[32];

	answer_later(env, ctx->p, json_pack("{s:s}", "status",
					    !result ? "Rejected"
					    : n     ? "Accepted"
						    : "EmptyResultSet"));
	now_text(now);
	for (size_t part = 0; part < parts; part++) {
		json_t *chunk = json_array();
		for (size_t i = part * REPORT_CHUNK; chunk && i < n && i < (part + 1) * REPORT_CHUNK; i++)
			if (json_array_append(chunk, json_array_get(data, i)))
				chunk = (json_decref(chunk), NULL);
		emit_notify(env, "NotifyReport",
			    chunk ? json_pack("{s:O, s:s, s:I, s:b, s:o}", "requestId",
					      json_object_get(ctx->request, "requestId"),
					      "generatedAt", now, "seqNo", (json_int_t)part, "tbc",
					      part + 1 < parts, "reportData", chunk)
				  : NULL);
	}
	json_decref(data);
	json_decref(ctx->request);
	free(ctx);
}

/* Every report base shows the same thing: the configuration keys that map
 * (1.6 has no inventory beyond them). componentCriteria are not applied. */
static int down_report(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	struct report_ctx *ctx = calloc(1, sizeof(*ctx));

	if (!ctx || !(ctx->request = json_deep_copy(p)) || !(ctx->p = ogw_tr_defer(env))) {
		if (ctx)
			json_decref(ctx->request);
		free(ctx);
		return -ENOMEM;
	}
	out->outcome = OGW_TR_DEFER;
	emit_then(env, OGW_TR_DOWN, "GetConfiguration", json_object(), report_done, ctx);
	return 0;
}

/* ---- logs and firmware ------------------------------------------------------ */

/* DiagnosticsLog -> GetDiagnostics, SecurityLog -> GetLog (SEC16). The
 * requestId is kept for the DiagnosticsStatusNotifications that follow. */
static int down_get_log(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	const json_t *log = json_object_get(p, "log");
	json_t *req;
	int r;

	if ((r = state_put(env, "getlog",
			   json_pack("{s:O}", "requestId", json_object_get(p, "requestId")))) < 0)
		return r;
	if (!strcmp(str(p, "logType"), "SecurityLog"))
		return forward(out, "GetLog", json_deep_copy(p), NULL);
	req = json_pack("{s:O}", "location", json_object_get(log, "remoteLocation"));
	if (req && (copy_field(req, NULL, p, "retries") || copy_field(req, NULL, p, "retryInterval") ||
		    copy_field(req, "startTime", log, "oldestTimestamp") ||
		    copy_field(req, "stopTime", log, "latestTimestamp")))
		req = (json_decref(req), NULL);
	return forward(out, "GetDiagnostics", req, NULL);
}

/* GetDiagnostics.conf names the file, or has none when there is nothing to
 * upload: that is a refusal in 2.0.1 terms. GetLog.conf maps field for field. */
static int down_get_log_result(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
			       json_t **ret)
{
	const char *file = str(result, "fileName") ? str(result, "fileName") : str(result, "filename");
	const char *status = str(result, "status");

	(void)env;
	(void)memo;
	*ret = json_pack("{s:s}", "status", status ? status : file ? "Accepted" : "Rejected");
	if (*ret && file && json_object_set_new(*ret, "filename", json_string(file)))
		*ret = (json_decref(*ret), NULL);
	return *ret ? 0 : -ENOMEM;
}

static int down_update_firmware(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	const json_t *fw = json_object_get(p, "firmware");
	json_t *req;
	int r;

	if ((r = state_put(env, "firmware",
			   json_pack("{s:O}", "requestId", json_object_get(p, "requestId")))) < 0)
		return r;
	if (has(fw, "signature")) {
		/* SEC16 needs the signing certificate with the signature */
		if (!has(fw, "signingCertificate"))
			return ogw_tr_out_status(out, "InvalidCertificate");
		return forward(out, "SignedUpdateFirmware", json_deep_copy(p), NULL);
	}
	req = json_pack("{s:O, s:O}", "location", json_object_get(fw, "location"), "retrieveDate",
			json_object_get(fw, "retrieveDateTime"));
	if (req && (copy_field(req, NULL, p, "retries") || copy_field(req, NULL, p, "retryInterval")))
		req = (json_decref(req), NULL);
	return forward(out, "UpdateFirmware", req, NULL);
}

/* 1.6 UpdateFirmware.conf is empty: the charger took it (REFERENCE §3). */
static int down_update_firmware_result(struct ogw_tr_env *env, const json_t *memo,
				       const json_t *result, json_t **ret)
{
	(void)env;
	(void)memo;
	*ret = json_pack("{s:s}", "status", has(result, "status") ? str(result, "status") : "Accepted");
	return *ret ? 0 : -ENOMEM;
}

/* ---- certificates (SEC16; the ISO 15118 ones over Plug & Charge DataTransfer) -- */

/* 2.0.1 certificate uses SEC16 knows; V2G and MO certificates go through
 * the PnC DataTransfer, which a CSMS uses directly. */
static const struct str_map cert_use_to16[] = {
	{ "CSMSRootCertificate", "CentralSystemRootCertificate" },
	{ "ManufacturerRootCertificate", "ManufacturerRootCertificate" },
};

/* The certificate uses only the Plug & Charge side knows. */
static const struct str_map pnc_cert_use[] = {
	{ "MORootCertificate", "MORootCertificate" },
	{ "V2GCertificateChain", "V2GCertificateChain" },
	{ "V2GRootCertificate", "V2GRootCertificate" },
};

static const struct str_map cert_use_to201[] = {
	{ "CentralSystemRootCertificate", "CSMSRootCertificate" },
	{ "ManufacturerRootCertificate", "ManufacturerRootCertificate" },
};

static int down_cert_signed(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	const char *type = str(p, "certificateType");
	(void)env;
	if (same(type, "V2GCertificate"))
		return pnc_forward(out, "CertificateSigned", p);
	if (type && strcmp(type, "ChargingStationCertificate"))
		return ogw_tr_out_status(out, "Rejected");
	return forward(out, "CertificateSigned",
		       json_pack("{s:O}", "certificateChain", json_object_get(p, "certificateChain")),
		       NULL);
}

static int down_install_cert(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	const char *type = MAP(cert_use_to16, str(p, "certificateType"), NULL);
	(void)env;
	/* V2G and MO roots live on the charger's ISO 15118 side */
	if (!type && MAP(pnc_cert_use, str(p, "certificateType"), NULL))
		return pnc_forward(out, "InstallCertificate", p);
	if (!type)
		return ogw_tr_out_status(out, "Rejected");
	return forward(out, "InstallCertificate",
		       json_pack("{s:s, s:O}", "certificateType", type, "certificate",
				 json_object_get(p, "certificate")),
		       NULL);
}

static int down_delete_cert(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	(void)env;
	return forward(out, "DeleteCertificate", json_deep_copy(p), NULL);
}

/* SEC16 asks for one type per request: the first requested type it knows
 * (absent list: the CSMS root certificates). */
static int down_installed_certs(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	const json_t *types = json_object_get(p, "certificateType");
	const char *type = types ? NULL : "CentralSystemRootCertificate";
	json_t *t;
	size_t i;

	(void)env;
	json_array_foreach(types, i, t)
		if (!type)
			type = MAP(cert_use_to16, json_string_value(t), NULL);
	/* only ISO 15118 certificates asked for: the Plug & Charge side */
	if (!type && json_array_size(types))
		return pnc_forward(out, "GetInstalledCertificateIds", p);
	if (!type)
		return ogw_tr_out_status(out, "NotFound");
	return forward(out, "GetInstalledCertificateIds",
		       json_pack("{s:s}", "certificateType", type),
		       json_pack("{s:s}", "certificateType", type));
}

static int down_installed_certs_result(struct ogw_tr_env *env, const json_t *memo,
				       const json_t *result, json_t **ret)
{
	json_t *chain = json_array(), *h;
	size_t i;
	int r = -ENOMEM;

	(void)env;
	*ret = NULL;
	if ((r = pnc_result(memo, result, "NotFound", ret)) != 1) {
		json_decref(chain);
		return r;
	}
	r = -ENOMEM;
	if (!chain || status_result(result, NULL, 0, ret))
		goto out;
	json_array_foreach(json_object_get(result, "certificateHashData"), i, h)
		if (json_array_append_new(chain,
					  json_pack("{s:O, s:s}", "certificateHashData", h,
						    "certificateType",
						    MAP(cert_use_to201, str(memo, "certificateType"),
							"CSMSRootCertificate"))))
			goto out;
	if (json_array_size(chain) && json_object_set(*ret, "certificateHashDataChain", chain))
		goto out;
	r = 0;
out:
	if (r < 0)
		*ret = (json_decref(*ret), NULL);
	json_decref(chain);
	return r;
}

/* ---- 2.0.1 functions a 1.6 charger has no counterpart for ------------------- */

/* Refused with the response's own status: nothing to relay them to. */
static int down_reject_status(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	(void)env;
	(void)p;
	return ogw_tr_out_status(out, "Rejected");
}

static int down_not_supported(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	(void)env;
	(void)p;
	return ogw_tr_out_status(out, "NotSupported");
}

static int down_unknown(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	(void)env;
	(void)p;
	return ogw_tr_out_status(out, "Unknown");
}

static int down_unpublish(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	(void)env;
	(void)p;
	return ogw_tr_out_status(out, "NoFirmware");
}

/* CostUpdated has an empty response: the cost cannot be shown on a 1.6
 * charger, so it is acknowledged and dropped. */
static int down_cost_updated(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	(void)env;
	(void)p;
	return ogw_tr_out_answer(out, json_object());
}

static int down_set_monitoring(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	json_t *results = json_array(), *d;
	size_t i;

	(void)env;
	json_array_foreach(json_object_get(p, "setMonitoringData"), i, d) {
		json_t *res = json_pack("{s:s, s:O, s:O, s:O, s:O}", "status", "Rejected", "type",
					json_object_get(d, "type"), "severity",
					json_object_get(d, "severity"), "component",
					json_object_get(d, "component"), "variable",
					json_object_get(d, "variable"));
		if (!results || !res || copy_field(res, NULL, d, "id") ||
		    json_array_append_new(results, res)) {
			json_decref(res);
			json_decref(results);
			return -ENOMEM;
		}
	}
	return ogw_tr_out_answer(out, json_pack("{s:o}", "setMonitoringResult", results));
}

static int down_clear_monitoring(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	json_t *results = json_array(), *id;
	size_t i;

	(void)env;
	json_array_foreach(json_object_get(p, "id"), i, id)
		if (!results || json_array_append_new(results, json_pack("{s:s, s:O}", "status",
									 "NotFound", "id", id))) {
			json_decref(results);
			return -ENOMEM;
		}
	return ogw_tr_out_answer(out, json_pack("{s:o}", "clearMonitoringResult", results));
}

/* ======================================================================== *
 *  The tables, sorted by action name (ogw_translator_action bisects them)   *
 * ======================================================================== */

static const struct ogw_tr_action up_actions[] = {
	{ "Authorize", OGW_TR_MAPPED, "Authorize", up_authorize, up_authorize_result },
	{ "BootNotification", OGW_TR_MAPPED, "BootNotification", up_boot, up_boot_result },
	{ "DataTransfer", OGW_TR_MAPPED,
	  "DataTransfer (Plug & Charge: Authorize, Get15118EVCertificate, GetCertificateStatus, "
	  "SignCertificate)", up_data, up_data_result },
	{ "DiagnosticsStatusNotification", OGW_TR_MAPPED, "LogStatusNotification", up_diag_status,
	  NULL },
	{ "FirmwareStatusNotification", OGW_TR_MAPPED, "FirmwareStatusNotification", up_fw_status,
	  NULL },
	{ "Heartbeat", OGW_TR_MAPPED, "Heartbeat", up_heartbeat, NULL },
	{ "LogStatusNotification", OGW_TR_MAPPED, "LogStatusNotification", up_log_status, NULL },
	{ "MeterValues", OGW_TR_MAPPED, "TransactionEvent (Updated) or MeterValues", up_meter,
	  up_meter_result },
	{ "SecurityEventNotification", OGW_TR_MAPPED, "SecurityEventNotification",
	  up_security_event, NULL },
	{ "SignCertificate", OGW_TR_MAPPED, "SignCertificate", up_sign_certificate, result_status },
	{ "SignedFirmwareStatusNotification", OGW_TR_MAPPED, "FirmwareStatusNotification",
	  up_signed_fw_status, NULL },
	{ "StartTransaction", OGW_TR_SYNTHESIZED,
	  "TransactionEvent (Started) (+ ReservationStatusUpdate)", up_start, NULL },
	{ "StatusNotification", OGW_TR_SYNTHESIZED,
	  "StatusNotification (+ NotifyEvent, TransactionEvent, ReservationStatusUpdate)", up_status,
	  NULL },
	{ "StopTransaction", OGW_TR_SYNTHESIZED, "TransactionEvent (Ended)", up_stop, NULL },
};

static const struct ogw_tr_action down_actions[] = {
	{ "CancelReservation", OGW_TR_MAPPED, "CancelReservation", down_cancel_reservation,
	  down_cancel_reservation_result },
	{ "CertificateSigned", OGW_TR_MAPPED,
	  "CertificateSigned (V2GCertificate: Plug & Charge DataTransfer)", down_cert_signed,
	  result_status_or_pnc },
	{ "ChangeAvailability", OGW_TR_MAPPED, "ChangeAvailability", down_availability,
	  result_status },
	{ "ClearCache", OGW_TR_MAPPED, "ClearCache", down_clear_cache, result_status },
	{ "ClearChargingProfile", OGW_TR_MAPPED, "ClearChargingProfile", down_clear_profile,
	  down_clear_profile_result },
	{ "ClearDisplayMessage", OGW_TR_REJECTED, "-", down_unknown, NULL },
	{ "ClearVariableMonitoring", OGW_TR_REJECTED, "-", down_clear_monitoring, NULL },
	{ "CostUpdated", OGW_TR_REJECTED, "-", down_cost_updated, NULL },
	{ "CustomerInformation", OGW_TR_REJECTED, "-", down_reject_status, NULL },
	{ "DataTransfer", OGW_TR_MAPPED, "DataTransfer", down_data, down_data_result },
	{ "DeleteCertificate", OGW_TR_MAPPED, "DeleteCertificate", down_delete_cert, result_status },
	{ "GetBaseReport", OGW_TR_SYNTHESIZED, "GetConfiguration (+ NotifyReport)", down_report,
	  NULL },
	{ "GetChargingProfiles", OGW_TR_LOCAL, "ReportChargingProfiles (from the gateway's cache)",
	  down_get_profiles, NULL },
	{ "GetCompositeSchedule", OGW_TR_MAPPED, "GetCompositeSchedule", down_composite,
	  down_composite_result },
	{ "GetDisplayMessages", OGW_TR_REJECTED, "-", down_unknown, NULL },
	{ "GetInstalledCertificateIds", OGW_TR_MAPPED,
	  "GetInstalledCertificateIds (ISO 15118 ones: Plug & Charge DataTransfer)",
	  down_installed_certs, down_installed_certs_result },
	{ "GetLocalListVersion", OGW_TR_MAPPED, "GetLocalListVersion", down_list_version,
	  down_list_version_result },
	{ "GetLog", OGW_TR_MAPPED, "GetDiagnostics or GetLog", down_get_log, down_get_log_result },
	{ "GetMonitoringReport", OGW_TR_REJECTED, "-", down_not_supported, NULL },
	{ "GetReport", OGW_TR_SYNTHESIZED, "GetConfiguration (+ NotifyReport)", down_report, NULL },
	{ "GetTransactionStatus", OGW_TR_LOCAL, "-", down_tx_status, NULL },
	{ "GetVariables", OGW_TR_MAPPED, "GetConfiguration", down_get_vars, NULL },
	{ "InstallCertificate", OGW_TR_MAPPED,
	  "InstallCertificate (V2G, MO roots: Plug & Charge DataTransfer)", down_install_cert,
	  result_status_or_pnc },
	{ "PublishFirmware", OGW_TR_REJECTED, "-", down_reject_status, NULL },
	{ "RequestStartTransaction", OGW_TR_MAPPED, "RemoteStartTransaction", down_request_start,
	  down_request_start_result },
	{ "RequestStopTransaction", OGW_TR_MAPPED, "RemoteStopTransaction", down_request_stop,
	  result_status },
	{ "ReserveNow", OGW_TR_SYNTHESIZED, "ReserveNow (+ ReservationStatusUpdate)", down_reserve,
	  down_reserve_result },
	{ "Reset", OGW_TR_SYNTHESIZED, "Reset (OnIdle in a transaction: Scheduled, Soft once idle)",
	  down_reset, down_reset_result },
	{ "SendLocalList", OGW_TR_MAPPED, "SendLocalList", down_send_list, down_send_list_result },
	{ "SetChargingProfile", OGW_TR_MAPPED, "SetChargingProfile", down_set_profile,
	  down_set_profile_result },
	{ "SetDisplayMessage", OGW_TR_REJECTED, "-", down_reject_status, NULL },
	{ "SetMonitoringBase", OGW_TR_REJECTED, "-", down_not_supported, NULL },
	{ "SetMonitoringLevel", OGW_TR_REJECTED, "-", down_reject_status, NULL },
	{ "SetNetworkProfile", OGW_TR_REJECTED, "-", down_reject_status, NULL },
	{ "SetVariableMonitoring", OGW_TR_REJECTED, "-", down_set_monitoring, NULL },
	{ "SetVariables", OGW_TR_MAPPED, "ChangeConfiguration (one per variable)", down_set_vars,
	  NULL },
	{ "TriggerMessage", OGW_TR_MAPPED,
	  "TriggerMessage or ExtendedTriggerMessage (SignV2GCertificate: Plug & Charge DataTransfer)",
	  down_trigger, result_status_or_pnc },
	{ "UnlockConnector", OGW_TR_MAPPED, "UnlockConnector", down_unlock, down_unlock_result },
	{ "UnpublishFirmware", OGW_TR_REJECTED, "-", down_unpublish, NULL },
	{ "UpdateFirmware", OGW_TR_MAPPED, "SignedUpdateFirmware or UpdateFirmware",
	  down_update_firmware, down_update_firmware_result },
};

const struct ogw_translator ogw_tr_v16_v201 = {
	.south = OGW_OCPP16,
	.north = OGW_OCPP201,
	.up = up_actions,
	.n_up = N_OF(up_actions),
	.down = down_actions,
	.n_down = N_OF(down_actions),
};

/* The same tables behind a 2.1 CSMS: the north leg's payloads pass through
 * the 2.0.1 <-> 2.1 adapter (translators/v21_v201.c). */
const struct ogw_translator ogw_tr_v16_v21 = {
	.south = OGW_OCPP16,
	.north = OGW_OCPP21,
	.up = up_actions,
	.n_up = N_OF(up_actions),
	.down = down_actions,
	.n_down = N_OF(down_actions),
	.shim = &ogw_tr21_shim_north,
};
