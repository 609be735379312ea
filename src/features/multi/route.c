/* SPDX-License-Identifier: MIT */
/*
 * Split by token: which CSMS a transaction belongs to, from the secondaries'
 * token lists and prefixes, or from whichever CSMS accepts the token
 * (primary first). Reads tokens and Authorize answers from payloads of
 * either version. Pure (docs/MULTI_CSMS.md).
 */
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "ocppgw/config.h"
#include "ocppgw/ocpp.h"
#include "features/multi/multi.h"

int ogw_multi_token_owner(const struct ogw_csms_view *view, const char *token)
{
	int best = -1;
	size_t best_len = 0;

	if (view->token_routing == OGW_TOKEN_ROUTING_PRIMARY || !token)
		return OGW_MULTI_PRIMARY;
	/* a token listed outright beats any prefix; the earlier secondary
	 * wins a tie, so the order of the list is the order of precedence */
	for (size_t i = 0; i < view->n_secondaries; i++) {
		const struct ogw_csms_conf *cs = &view->secondaries[i];
		for (size_t k = 0; k < cs->n_tokens; k++)
			if (strcasecmp(cs->tokens[k], token) == 0)
				return (int)i + 1;
	}
	for (size_t i = 0; i < view->n_secondaries; i++) {
		const struct ogw_csms_conf *cs = &view->secondaries[i];
		for (size_t k = 0; k < cs->n_token_prefixes; k++) {
			size_t len = strlen(cs->token_prefixes[k]);
			if (len > best_len && strncasecmp(cs->token_prefixes[k], token, len) == 0) {
				best = (int)i + 1;
				best_len = len;
			}
		}
	}
	if (best > 0)
		return best;
	return view->token_routing == OGW_TOKEN_ROUTING_ASK ? OGW_MULTI_UNDECIDED
							     : OGW_MULTI_PRIMARY;
}

int ogw_multi_ask_owner(const enum ogw_multi_answer *answers, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (answers[i] == OGW_MULTI_ACCEPTED)
			return (int)i;
		/* a later CSMS's Accepted counts only once this one refused */
		if (answers[i] == OGW_MULTI_PENDING)
			return OGW_MULTI_UNDECIDED;
	}
	return OGW_MULTI_PRIMARY;
}

const char *ogw_multi_call_token(enum ogw_ocpp v, const char *action, const json_t *payload)
{
	if (v == OGW_OCPP16) {
		if (strcmp(action, "Authorize") && strcmp(action, "StartTransaction"))
			return NULL;
		return json_string_value(json_object_get(payload, "idTag"));
	}
	if (strcmp(action, "Authorize") && strcmp(action, "TransactionEvent"))
		return NULL;
	return json_string_value(json_object_get(json_object_get(payload, "idToken"), "idToken"));
}

enum ogw_multi_answer ogw_multi_authorize_answer(enum ogw_ocpp v, const json_t *result)
{
	const json_t *info = json_object_get(result, v == OGW_OCPP16 ? "idTagInfo" : "idTokenInfo");
	const char *status = json_string_value(json_object_get(info, "status"));

	return status && !strcmp(status, "Accepted") ? OGW_MULTI_ACCEPTED : OGW_MULTI_REFUSED;
}
