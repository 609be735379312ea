/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for what arrives on an MQTT up or down topic: the input
 * is the topic's <id> level, a newline, and the payload. The id level goes
 * through the gateway's and the bridge's steps (ogw_percent_decode, then
 * ogw_identity_check); an identity that passes must round-trip through
 * ogw_percent_encode, as the topics spell it. The payload is decoded as a
 * frame in each version and, when a CALL, checked against its schema, as
 * north_mqtt.c and the bridge do; every refusal must give a CALLERROR that
 * itself decodes as a CALLERROR (the answer published back must be valid
 * OCPP-J). Built and run by tests/fuzz/run.sh.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ocppgw/ocpp.h"
#include "ocppgw/rpc.h"
#include "ocppgw/schema.h"
#include "ocppgw/util.h"
#include "fuzz.h"

#define HEADROOM 16

static struct ogw_schema_set *sets[OGW_OCPP_COUNT];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_load_schemas(sets);
	return 0;
}

static void check_identity(const char *level, size_t len)
{
	char id[OGW_ID_MAX + 1], enc[OGW_ID_MAX * 3 + 1], back[OGW_ID_MAX + 1];

	if (ogw_percent_decode(level, len, id, sizeof(id)) < 0)
		return;
	if (ogw_identity_check(id, strlen(id)))
		return;
	size_t n = strlen(id);
	CHECK(n >= 1 && n <= OGW_ID_MAX, "identity of %zu characters passed", n);
	for (size_t i = 0; i < n; i++)
		CHECK(id[i] > 0x20 && id[i] < 0x7f && id[i] != ':' && id[i] != '/',
		      "identity with byte 0x%02x passed", (unsigned char)id[i]);
	ogw_percent_encode(id, enc, sizeof(enc));
	CHECK(!strchr(enc, '+') && !strchr(enc, '#') && !strchr(enc, '/'),
	      "topic level \"%s\" has an MQTT wildcard or separator", enc);
	CHECK(ogw_percent_decode(enc, strlen(enc), back, sizeof(back)) == 0 && !strcmp(back, id),
	      "identity \"%s\" does not round-trip through \"%s\"", id, enc);
}

/* The CALLERROR answering a refused frame must decode as one, with its id. */
static void check_answer(const char *id, enum ogw_err err, const char *desc, enum ogw_ocpp v)
{
	size_t len = 0;
	json_t *details = json_object();
	char *buf = ogw_rpc_encode_error(HEADROOM, OGW_MSG_CALLERROR, id, ogw_err_code(err, v), desc,
					 details, &len);
	json_decref(details);
	CHECK(buf, "encoding the CALLERROR failed");
	struct ogw_frame f;
	struct ogw_rpc_fault fault;
	CHECK(ogw_frame_decode(buf + HEADROOM, len, v, &f, &fault) == 0,
	      "the CALLERROR does not decode (%s): %s", fault.desc, buf + HEADROOM);
	CHECK(f.type == OGW_MSG_CALLERROR && !strcmp(f.id, id), "answer changed: %s", buf + HEADROOM);
	ogw_frame_release(&f);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	const char *nl = memchr(in, '\n', size);
	size_t level_len = nl ? (size_t)(nl - in) : size;
	const char *payload = nl ? nl + 1 : "";
	size_t plen = nl ? size - level_len - 1 : 0;

	check_identity(in, level_len);
	for (int v = 0; v < OGW_OCPP_COUNT; v++) {
		struct ogw_frame f;
		struct ogw_rpc_fault fault;
		memset(&fault, 0, sizeof(fault));
		if (ogw_frame_decode(payload, plen, (enum ogw_ocpp)v, &f, &fault) < 0) {
			if (fault.reply)
				check_answer(fault.id, fault.err, fault.desc, (enum ogw_ocpp)v);
			continue;
		}
		if (f.type == OGW_MSG_CALL) {
			const struct ogw_schema *s = ogw_schema_get(sets[v], f.action, false);
			struct ogw_schema_fault sf;
			if (!s)
				check_answer(f.id, OGW_ERR_NOT_IMPLEMENTED, "unknown action",
					     (enum ogw_ocpp)v);
			else if (ogw_schema_validate(s, f.payload, &sf) < 0)
				check_answer(f.id, sf.err, sf.desc, (enum ogw_ocpp)v);
		}
		ogw_frame_release(&f);
	}
	return 0;
}
