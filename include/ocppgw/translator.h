/* SPDX-License-Identifier: MIT */
/*
 * Version translators: per-action functions from one OCPP version to
 * another, JSON in and JSON out, with the session's context passed in. They
 * do no I/O and keep no globals, so each can be tested from a fixture. The
 * session picks one translator per charger (south version -> north version)
 * and runs every CALL and CALLRESULT through it.
 */
#ifndef OCPPGW_TRANSLATOR_H
#define OCPPGW_TRANSLATOR_H

#include <jansson.h>

#include "ocppgw/ocpp.h"

/* What a translator may read or keep about one charger. */
struct ogw_tr_ctx {
	const char *charger_id;
	enum ogw_ocpp south;
	enum ogw_ocpp north;
};

enum ogw_tr_dir {
	OGW_TR_UP = 0,   /* charger -> CSMS: CALLs from the south leg */
	OGW_TR_DOWN,     /* CSMS -> charger: CALLs from the north leg */
};

struct ogw_translator {
	enum ogw_ocpp south;
	enum ogw_ocpp north;
	/*
	 * Translates a CALL travelling in @dir. On success sets *ret_action
	 * (a static string) and *ret_payload (a new reference) and returns 0.
	 * Returns a negative errno when the action has no counterpart; the
	 * caller then answers the CALL itself.
	 */
	int (*call)(const struct ogw_tr_ctx *ctx, enum ogw_tr_dir dir, const char *action,
		    json_t *payload, const char **ret_action, json_t **ret_payload);
	/*
	 * Translates the CALLRESULT of a CALL that went out as @action (the
	 * translated name) in @dir, back into the caller's version. Sets
	 * *ret_payload (a new reference). 0 or a negative errno.
	 */
	int (*result)(const struct ogw_tr_ctx *ctx, enum ogw_tr_dir dir, const char *action,
		      json_t *payload, json_t **ret_payload);
};

/* The translator for a charger speaking @south behind a CSMS speaking
 * @north, or NULL when the gateway has none for that pair. */
const struct ogw_translator *ogw_translator_find(enum ogw_ocpp south, enum ogw_ocpp north);

#endif
