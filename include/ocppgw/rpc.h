/* SPDX-License-Identifier: MIT */
/*
 * OCPP-J RPC frames: decoding a text frame into its parts and encoding the
 * five message types. It knows nothing of actions or schemas; a frame that is
 * well formed here may still be rejected by validation.
 */
#ifndef OCPPGW_RPC_H
#define OCPPGW_RPC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "ocppgw/ocpp.h"

#define OGW_MSGID_MAX 36
/* Longest action name of any version is well below this. */
#define OGW_ACTION_MAX 48

enum ogw_msg_type {
	OGW_MSG_CALL = 2,
	OGW_MSG_CALLRESULT = 3,
	OGW_MSG_CALLERROR = 4,
	OGW_MSG_CALLRESULTERROR = 5, /* 2.1 only */
	OGW_MSG_SEND = 6,            /* 2.1 only */
};

struct ogw_frame {
	enum ogw_msg_type type;
	char id[OGW_MSGID_MAX + 1];
	const char *action;   /* CALL, SEND; borrowed from root */
	json_t *payload;      /* CALL, SEND, CALLRESULT: the payload; CALLERROR and
	                         CALLRESULTERROR: errorDetails. Borrowed from root. */
	const char *err_code; /* CALLERROR, CALLRESULTERROR; borrowed from root */
	const char *err_desc; /* borrowed from root */
	json_t *root;         /* owned: the whole decoded array */
	/* The text after the message id (from its closing quote on), when the
	 * id was written without escapes: a frame relayed unchanged is passed on
	 * as these bytes behind a new id (ogw_rpc_reframe). Borrowed from the
	 * buffer given to ogw_frame_decode(); NULL otherwise. */
	const char *rest;
	size_t rest_len;
};

/*
 * Why a frame could not be decoded, and what to answer. @reply false means
 * the rules say to ignore it (1.6 and 2.1: unknown message type; any
 * version: a malformed CALLRESULT or CALLERROR, which must never be answered).
 */
struct ogw_rpc_fault {
	enum ogw_err err;
	bool reply;
	char id[OGW_MSGID_MAX + 1]; /* "-1" when the id could not be read */
	char desc[160];
};

/*
 * Decodes one text frame for a connection speaking @v. On success fills
 * *ret (release with ogw_frame_release()) and returns 0. On failure returns
 * -EBADMSG with *fault filled and *ret untouched.
 */
int ogw_frame_decode(const char *buf, size_t len, enum ogw_ocpp v,
		     struct ogw_frame *ret, struct ogw_rpc_fault *fault);
void ogw_frame_release(struct ogw_frame *f);

/*
 * Encoders. Each returns a malloc'd buffer holding @headroom unused bytes
 * (for LWS_PRE) followed by the compact JSON text and a NUL; *ret_len is the
 * JSON length without headroom or NUL. NULL on ENOMEM. Payloads are
 * borrowed. Reals are printed with 15 significant digits, so a decimal that
 * came in with at most 15 digits goes out as it came.
 */
char *ogw_rpc_encode_call(size_t headroom, enum ogw_msg_type type /* CALL or SEND */,
			  const char *id, const char *action, const json_t *payload,
			  size_t *ret_len);
char *ogw_rpc_encode_result(size_t headroom, const char *id, const json_t *payload,
			    size_t *ret_len);
/* @type: CALLERROR or CALLRESULTERROR. @details NULL means {}. @desc is
 * truncated to 255 bytes on a character boundary (2.x errorDescription). */
char *ogw_rpc_encode_error(size_t headroom, enum ogw_msg_type type, const char *id,
			   const char *code, const char *desc, const json_t *details,
			   size_t *ret_len);

/*
 * A frame of @type with message id @id followed by @rest (a decoded frame's
 * rest): the same bytes as received, only the id changed. Same buffer rules
 * as the encoders.
 */
char *ogw_rpc_reframe(size_t headroom, enum ogw_msg_type type, const char *id,
		      const char *rest, size_t rest_len, size_t *ret_len);

/*
 * Best effort for frames that cannot be decoded (oversize, not JSON): reads
 * the message id from the head of the text, else writes "-1".
 */
void ogw_rpc_sniff_id(const char *buf, size_t len, char ret_id[OGW_MSGID_MAX + 1]);

/*
 * A fresh message id: a per-process random prefix plus a counter, so ids
 * never repeat for a station identity across connections or restarts
 * (OCPP 2.0.1 errata §4.2). Always at most 36 characters.
 */
void ogw_rpc_new_id(char ret[OGW_MSGID_MAX + 1]);

#endif
