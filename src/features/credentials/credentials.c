/* SPDX-License-Identifier: MIT */
/*
 * Charger passwords a CSMS changes (1.6 ChangeConfiguration
 * AuthorizationKey, 2.x SetVariables SecurityCtrlr.BasicAuthPassword):
 * once the charger accepts, the gateway keeps the new password's hash in
 * its store, so the charger's reconnection with it is let in, and the
 * password it sends the CSMS for that charger follows. The configured
 * password_hash is left as it is: the operator's file stays the fallback.
 * It sees only what the south leg carried; it changes no frame.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ocppgw/auth.h"
#include "ocppgw/log.h"
#include "ocppgw/store.h"
#include "ocppgw/util.h"
#include "features/credentials/credentials.h"
#include "session/session.h"

#define PASSWORD_KEY "auth.password"   /* {"hash": ["$pbkdf2-sha256$...", ...]}: the
                                          forms the charger may send it in */
#define UPSTREAM_KEY "auth.upstream"   /* {"password": the north leg's password} */
#define PASSWORD_MAX 250               /* 1.6 values hold 500 hex digits */

static const char *str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static bool taken(const char *status)
{
	return status && (!strcmp(status, "Accepted") || !strcmp(status, "RebootRequired"));
}

/* The password a 1.6 ChangeConfiguration @req set, when @ans accepts it. */
static const char *password16(const char *action, const json_t *req, const json_t *ans)
{
	if (strcmp(action, "ChangeConfiguration") || !str(req, "key") ||
	    strcasecmp(str(req, "key"), "AuthorizationKey") || !taken(str(ans, "status")))
		return NULL;
	return str(req, "value");
}

static bool is(const char *a, const char *b)
{
	return a && !strcmp(a, b);
}

static bool is_basic_auth_password(const json_t *item)
{
	const json_t *comp = json_object_get(item, "component");
	const char *type = str(item, "attributeType");

	return is(str(comp, "name"), "SecurityCtrlr") && !json_object_get(comp, "evse") &&
	       is(str(json_object_get(item, "variable"), "name"), "BasicAuthPassword") &&
	       (!type || is(type, "Actual"));
}

/* The password a 2.x SetVariables @req set, when @ans accepts it. */
static const char *password2x(const char *action, const json_t *req, const json_t *ans)
{
	const json_t *res, *data;
	const char *found = NULL;
	size_t i, j;

	if (strcmp(action, "SetVariables"))
		return NULL;
	json_array_foreach(json_object_get(ans, "setVariableResult"), i, res) {
		if (!is_basic_auth_password(res) || !taken(str(res, "attributeStatus")))
			continue;
		json_array_foreach(json_object_get(req, "setVariableData"), j, data)
			if (is_basic_auth_password(data))
				found = str(data, "attributeValue");
	}
	return found;
}

static bool credentials_needs_request(const char *action, const json_t *req)
{
	const json_t *data;
	size_t i;

	if (!strcmp(action, "ChangeConfiguration"))
		return str(req, "key") && !strcasecmp(str(req, "key"), "AuthorizationKey");
	if (strcmp(action, "SetVariables"))
		return false;
	json_array_foreach(json_object_get(req, "setVariableData"), i, data)
		if (is_basic_auth_password(data))
			return true;
	return false;
}

/* Whether 2.x password @pw is a 1.6 AuthorizationKey carried as is: 16-20
 * bytes in hex that are no printable text, which the 1.6 -> 2.x translator
 * gives the station as the hex digits themselves (translators/v201_v16/configuration.c
 * auth_key_decode()); printable ones it gives decoded. */
static bool key_as_is(const char *pw, size_t len)
{
	unsigned char bytes[20];
	size_t n;

	if (len < 32 || len > 40 || ogw_hex_decode(pw, len, bytes, sizeof(bytes), &n) < 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (bytes[i] < 0x20 || bytes[i] > 0x7e)
			return true;
	return false;
}

/*
 * @pw (as the charger got it, in @from's form) as the leg of version @to
 * writes it into *ret (malloc'd, or NULL): 1.6 writes the
 * AuthorizationKey in hex (SEC16 A00.FR.205), 2.x the password itself.
 */
static char *password_as(const char *pw, enum ogw_ocpp from, enum ogw_ocpp to)
{
	size_t len = strlen(pw), n;
	char *out;

	if ((from == OGW_OCPP16) == (to == OGW_OCPP16))
		return strdup(pw);
	if (to == OGW_OCPP16) {
		if (key_as_is(pw, len))
			return strdup(pw);
		if (!(out = malloc(2 * len + 1)))
			return NULL;
		ogw_hex_encode(pw, len, out);
		return out;
	}
	if (!(out = malloc(len / 2 + 1)))
		return NULL;
	if (ogw_hex_decode(pw, len, out, len / 2 + 1, &n) < 0) {
		free(out);
		return strdup(pw);   /* a charger that took a key not in hex */
	}
	out[n] = '\0';
	return out;
}

static void secret_free(char *s)
{
	if (s) {
		ogw_memzero(s, strlen(s));
		free(s);
	}
}

static void credentials_observe_answer(struct ogw_session *s, const char *action,
				       const json_t *req, const json_t *ans)
{
	enum ogw_ocpp south = s->south.ver;
	const struct ogw_charger_conf *cc = ogw_conf_charger(&s->gw->conf, s->id);
	const char *pw = south == OGW_OCPP16 ? password16(action, req, ans)
					     : password2x(action, req, ans);
	struct ogw_log_ctx lc = { s->id, "south", action, NULL };
	char *hash, *up, *raw = NULL;
	json_t *v;

	if (!pw || !*pw || strlen(pw) > 2 * PASSWORD_MAX)
		return;
	hash = ogw_auth_hash(pw, strlen(pw));
	v = hash ? json_pack("{s:[s]}", "hash", hash) : NULL;
	/* a 1.6 charger may send the AuthorizationKey's bytes as they are,
	 * printable ones too (OCPP-J 1.6 §6.2.2), not only its hex */
	if (v && south == OGW_OCPP16 && (raw = password_as(pw, south, OGW_OCPP201)) &&
	    strcmp(raw, pw)) {
		char *h2 = ogw_auth_hash(raw, strlen(raw));
		if (!h2 || json_array_append_new(json_object_get(v, "hash"), json_string(h2)))
			v = (json_decref(v), NULL);
		free(h2);
	}
	secret_free(raw);
	if (!v || ogw_store_kv_put(s->gw->store, s->id, PASSWORD_KEY, v) < 0) {
		ogw_err(&lc, "Failed to keep the charger's new password: it will be refused "
			     "when it reconnects with it");
		goto out;
	}
	ogw_info(&lc, "the CSMS changed the charger's password: the gateway now lets it in with it");
	/* the north leg says the charger's password in the CSMS's version */
	up = password_as(pw, south, ogw_session_primary(s)->ver);
	if (up && cc && cc->upstream_password) {
		json_t *u = json_pack("{s:s}", "password", up);
		if (!u || ogw_store_kv_put(s->gw->store, s->id, UPSTREAM_KEY, u) < 0)
			ogw_err(&lc, "Failed to keep the new upstream password");
		json_decref(u);
	}
	if (up && s->south_auth) {
		char *basic = ogw_auth_make_basic(s->id, up, strlen(up));
		if (basic) {
			secret_free(s->south_auth);
			s->south_auth = basic;
		}
	}
	secret_free(up);
out:
	json_decref(v);
	if (hash)
		secret_free(hash);
}

const struct ogw_stage ogw_credentials_stage = {
	.name = "credentials",
	.observe_answer = credentials_observe_answer,
	.needs_request = credentials_needs_request,
};

int ogw_credentials_check(const struct ogw_gateway *gw, const char *id, const void *pass, size_t len)
{
	json_t *v = ogw_store_kv_get(gw->store, id, PASSWORD_KEY, NULL), *hash;
	int r = json_array_size(json_object_get(v, "hash")) ? -EACCES : -ENOENT;
	size_t i;

	json_array_foreach(json_object_get(v, "hash"), i, hash)
		if (json_is_string(hash) && (!pass || ogw_auth_verify(json_string_value(hash), pass, len)))
			r = 0;
	json_decref(v);
	return r;
}

char *ogw_credentials_upstream(struct ogw_gateway *gw, const char *id)
{
	json_t *v = ogw_store_kv_get(gw->store, id, UPSTREAM_KEY, NULL);
	char *pw = str(v, "password") ? strdup(str(v, "password")) : NULL;

	json_decref(v);
	return pw;
}
