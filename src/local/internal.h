/* SPDX-License-Identifier: MIT */
/*
 * Private to src/local: the authorization decision the answers share, and
 * the conversions between the store's version-neutral token record
 * {status, expiry, group, group_type} and each version's idTagInfo /
 * idTokenInfo.
 */
#ifndef OGW_LOCAL_INTERNAL_H
#define OGW_LOCAL_INTERNAL_H

#include <jansson.h>
#include <stdint.h>

#include "ocppgw/local.h"

/* The idTagInfo (1.6) or idTokenInfo (2.x) for @token in ctx->ver: a new
 * reference, or NULL (*ret_err < 0) when the store failed. */
json_t *ogw_local_authorize(const struct ogw_local_ctx *ctx, const char *token, int *ret_err);

/* The token a request names: 1.6 "idTag", 2.x "idToken": {"idToken"}. */
const char *ogw_local_token_of(enum ogw_ocpp ver, const json_t *req);

/* 1.6 idTagInfo or 2.x idTokenInfo -> the neutral record (new reference,
 * NULL when @tag_info has no status) and its expiry in unix s (0: none). */
json_t *ogw_local_info_from(enum ogw_ocpp ver, const json_t *tag_info, int64_t *ret_expires);

#endif
