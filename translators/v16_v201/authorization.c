/* SPDX-License-Identifier: MIT */
/*
 * 1.6 charger, 2.0.1 CSMS: tokens and authorization. The 2.0.1 type of a
 * 1.6 idTag, IdTagInfo both ways, the types a CSMS gave in remote starts,
 * Authorize, ClearCache and the local list. Reservations are in
 * reservations.c.
 */
#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "ocppgw/translator.h"
#include "internal.h"

#define IDTAG16_MAX 20       /* 1.6 IdToken is CiString20 */
#define TOKENS_MAX 16        /* remote-start tokens whose type is kept */

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
		size_t n =
		    strspn(s, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");
		if (n < part[i] ||
		    (i == 0 &&
		     strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") < 2))
			return false;
		if (i == 2 && *s != 'C' && *s != 'c')
			return false;
		s += part[i];
		if (*s == '-')
			s++;
	}
	return !*s ||
	       (strspn(s, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") == 1 &&
		!s[1]);
}

/*
 * The 2.0.1 IdTokenType of a 1.6 idTag, from its form (1.6 has none):
 * the hex of a 4, 7 or 10 byte UID (8, 14, 20 digits) is an ISO 14443
 * card, of an 8 byte UID (16 digits) an ISO 15693 one; an eMAID is an
 * eMAID (an ISO 14443 manufacturer code is never two letters); anything else was issued by the central system (Central), the
 * only type whose form 2.0.1 leaves free. docs/TRANSLATION.md "idToken type".
 */
const char *tr16_idtag_type(const char *idtag)
{
	/* first: an eMAID without dashes may be all hex ("DE8AAC12345678"),
	 * while a 7-byte UID starts with its maker's code, never two letters */
	if (emaid(idtag))
		return "eMAID";
	if (hex_of(idtag, 8) || hex_of(idtag, 14) || hex_of(idtag, 20))
		return "ISO14443";
	/* a token the charger read that is no UID: Local, "no format
	 * defined"; one the CSMS issued keeps the type it gave (tr16_token_keep) */
	return hex_of(idtag, 16) ? "ISO15693" : "Local";
}

/* @idtag as a 2.0.1 IdTokenType, typed @type or by its form (NULL). */
json_t *tr16_id_token_typed(const char *idtag, const char *type)
{
	return json_pack("{s:s, s:s}", "idToken", idtag, "type",
			 type ? type : tr16_idtag_type(idtag));
}

/* A 2.0.1 IdTokenType's token when it fits a 1.6 idTag, else NULL. */
const char *tr16_idtag16(const json_t *token)
{
	const char *t = tr_str(token, "idToken");
	return t && strlen(t) <= IDTAG16_MAX ? t : NULL;
}

/* 2.0.1-only statuses become Invalid (REFERENCE §3, a choice). */
static const struct ogw_tr_map auth_status_to16[] = {
	{ "Accepted", "Accepted" },
	{ "Blocked", "Blocked" },
	{ "ConcurrentTx", "ConcurrentTx" },
	{ "Expired", "Expired" },
	{ "Invalid", "Invalid" },
};

/* 2.0.1 IdTokenInfoType -> 1.6 IdTagInfo (new reference). */
json_t *tr16_idtaginfo16(const json_t *info)
{
	const char *parent = tr16_idtag16(json_object_get(info, "groupIdToken"));
	json_t *r =
	    json_pack("{s:s}", "status", MAP(auth_status_to16, tr_str(info, "status"), "Invalid"));

	if (r && (ogw_tr_copy(r, "expiryDate", info, "cacheExpiryDateTime") ||
		  (parent && json_object_set_new(r, "parentIdTag", json_string(parent)))))
		r = (json_decref(r), NULL);
	return r;
}

/*
 * Tokens the CSMS sent in RequestStartTransaction and their types
 * ("tokens" -> {"<idTag>": type}), so the Authorize a 1.6 charger sends
 * for it first (AuthorizeRemoteTxRequests) names the same token. At most
 * TOKENS_MAX, the oldest forgotten first; a start with the token ends it.
 */
void tr16_token_keep(struct ogw_tr_env *env, const char *idtag, const char *type)
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
json_t *tr16_token_type(struct ogw_tr_env *env, const char *idtag)
{
	json_t *t = ogw_tr_state_get(env, "tokens");
	json_t *type = idtag ? json_incref(json_object_get(t, idtag)) : NULL;

	json_decref(t);
	return type;
}

void tr16_token_forget(struct ogw_tr_env *env, const char *idtag)
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

int tr16_up_authorize(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	json_t *type = tr16_token_type(env, tr_str(p, "idTag"));
	int r = ogw_tr_forward(out, "Authorize",
			       json_pack("{s:o}", "idToken",
					 tr16_id_token_typed(tr_str(p, "idTag"),
							     json_string_value(type))),
			       NULL);

	json_decref(type);
	return r;
}

int tr16_up_authorize_result(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
			     json_t **ret)
{
	(void)env;
	(void)memo;
	*ret = json_pack("{s:o}", "idTagInfo",
			 tr16_idtaginfo16(json_object_get(result, "idTokenInfo")));
	return *ret ? 0 : -ENOMEM;
}

/* ---- the authorization cache and the local list ----------------------------- */

int tr16_down_clear_cache(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	(void)env;
	(void)p;
	return ogw_tr_forward(out, "ClearCache", json_object(), NULL);
}

int tr16_down_send_list(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	json_t *list = json_array(), *e, *req = NULL;
	size_t i;
	int r = -ENOMEM;

	(void)env;
	if (!list)
		return -ENOMEM;
	json_array_foreach(json_object_get(p, "localAuthorizationList"), i, e) {
		const char *tag = tr16_idtag16(json_object_get(e, "idToken"));
		json_t *ad;
		if (!tag) {
			r = ogw_tr_out_status(out, "Failed");
			goto out;
		}
		ad = json_pack("{s:s}", "idTag", tag);
		if (!ad || json_array_append_new(list, ad))
			goto out;
		if (tr_has(e, "idTokenInfo") &&
		    json_object_set_new(ad, "idTagInfo",
					tr16_idtaginfo16(json_object_get(e, "idTokenInfo"))))
			goto out;
	}
	req = json_pack("{s:O, s:O}", "listVersion", json_object_get(p, "versionNumber"),
			"updateType", json_object_get(p, "updateType"));
	if (!req || (json_array_size(list) && json_object_set(req, "localAuthorizationList", list)))
		goto out;
	r = ogw_tr_forward(out, "SendLocalList", json_incref(req), NULL);
out:
	json_decref(req);
	json_decref(list);
	return r;
}

static const struct ogw_tr_map send_list_status[] = {
	{ "Accepted", "Accepted" },
	{ "Failed", "Failed" },
	{ "NotSupported", "Failed" },
	{ "VersionMismatch", "VersionMismatch" },
};

int tr16_down_send_list_result(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
			       json_t **ret)
{
	(void)env;
	(void)memo;
	return ogw_tr_status_result(result, send_list_status, N_OF(send_list_status), ret);
}

int tr16_down_list_version(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	(void)env;
	(void)p;
	return ogw_tr_forward(out, "GetLocalListVersion", json_object(), NULL);
}

int tr16_down_list_version_result(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
				  json_t **ret)
{
	json_int_t v = tr_int(result, "listVersion");
	(void)env;
	(void)memo;
	/* 1.6 -1 means "no list support"; 2.0.1 has only 0 for "no list" */
	*ret = json_pack("{s:I}", "versionNumber", v < 0 ? 0 : v);
	return *ret ? 0 : -ENOMEM;
}
