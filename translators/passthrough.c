/* SPDX-License-Identifier: MIT */
/*
 * The same-version translator: both legs speak one version, so a frame's
 * action and payload travel unchanged (only message ids differ per leg,
 * which the session handles). Version pairs register here beside it.
 */
#include <errno.h>
#include <stddef.h>

#include "ocppgw/translator.h"

static int passthrough_call(const struct ogw_tr_ctx *ctx, enum ogw_tr_dir dir,
			    const char *action, json_t *payload, const char **ret_action,
			    json_t **ret_payload)
{
	(void)ctx;
	(void)dir;
	*ret_action = action;
	*ret_payload = json_incref(payload);
	return 0;
}

static int passthrough_result(const struct ogw_tr_ctx *ctx, enum ogw_tr_dir dir,
			      const char *action, json_t *payload, json_t **ret_payload)
{
	(void)ctx;
	(void)dir;
	(void)action;
	*ret_payload = json_incref(payload);
	return 0;
}

static const struct ogw_translator passthrough[OGW_OCPP_COUNT] = {
	[OGW_OCPP16] = { OGW_OCPP16, OGW_OCPP16, passthrough_call, passthrough_result },
	[OGW_OCPP201] = { OGW_OCPP201, OGW_OCPP201, passthrough_call, passthrough_result },
	[OGW_OCPP21] = { OGW_OCPP21, OGW_OCPP21, passthrough_call, passthrough_result },
};

const struct ogw_translator *ogw_translator_find(enum ogw_ocpp south, enum ogw_ocpp north)
{
	if (south >= OGW_OCPP_COUNT || north >= OGW_OCPP_COUNT)
		return NULL;
	if (south == north)
		return &passthrough[south];
	return NULL;
}
