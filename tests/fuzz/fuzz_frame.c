/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the OCPP-J frame layer (src/rpc/frame.c): every input
 * is decoded as a 1.6, 2.0.1 and 2.1 frame. A fault must be well formed;
 * a frame that decodes is re-encoded as the gateway would send it, and that
 * text must decode again to the same frame (the gateway never emits a frame
 * its own peer would reject). The quick parser (src/json/quick.c)
 * takes nothing jansson refuses and builds the tree jansson builds: same
 * types, same values, same key order; and frame.c writes a payload byte
 * for byte as json_dumps() does. Any broken rule aborts, which
 * libFuzzer reports as a crash. Built and run by tests/fuzz/run.sh.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ocppgw/ocpp.h"
#include "ocppgw/rpc.h"
#include "ocppgw/json.h"
#include "fuzz.h"

#define HEADROOM 16
/* As frame.c dumps payloads: the same flags make both sides comparable. */
#define DUMP_FLAGS (JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(15) | JSON_ENCODE_ANY)

static bool str_ok(const char *s, size_t cap)
{
	return memchr(s, '\0', cap) != NULL;
}

static void check_fault(const struct ogw_rpc_fault *f, enum ogw_ocpp v)
{
	CHECK(str_ok(f->id, sizeof(f->id)), "fault id not terminated");
	CHECK(str_ok(f->desc, sizeof(f->desc)), "fault desc not terminated");
	CHECK(f->id[0] != '\0', "fault id is empty (must be \"-1\" when unknown)");
	CHECK(f->err > OGW_ERR_NONE && f->err < OGW_ERR_COUNT, "fault err %d", (int)f->err);
	CHECK(ogw_err_code(f->err, v) != NULL, "no error code for %d", (int)f->err);
}

static char *encode(const struct ogw_frame *f, size_t *ret_len)
{
	switch (f->type) {
	case OGW_MSG_CALL:
	case OGW_MSG_SEND:
		return ogw_rpc_encode_call(HEADROOM, f->type, f->id, f->action, f->payload, ret_len);
	case OGW_MSG_CALLRESULT:
		return ogw_rpc_encode_result(HEADROOM, f->id, f->payload, ret_len);
	case OGW_MSG_CALLERROR:
	case OGW_MSG_CALLRESULTERROR:
		return ogw_rpc_encode_error(HEADROOM, f->type, f->id, f->err_code, f->err_desc,
					    f->payload, ret_len);
	}
	CHECK(0, "decoded an unknown type %d", (int)f->type);
	return NULL;
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static void check_same_payload(const json_t *a, const json_t *b)
{
	char *da = json_dumps(a, DUMP_FLAGS), *db = json_dumps(b, DUMP_FLAGS);
	CHECK(da && db, "json_dumps failed");
	CHECK(!strcmp(da, db), "payload changed:\n  %s\n  %s", da, db);
	free(da);
	free(db);
}

/* The frame writer's payload text is jansson's, byte for byte. */
static void check_writer(const json_t *payload)
{
	static const char pre[] = "[3,\"w\",";
	size_t len = 0;
	char *buf = ogw_rpc_encode_result(HEADROOM, "w", payload, &len);
	char *want = json_dumps(payload, JSON_COMPACT | JSON_REAL_PRECISION(15) | JSON_ENCODE_ANY);
	CHECK(!buf == !want, "one of writer and jansson refused the payload");
	if (buf) {
		const char *text = buf + HEADROOM;
		size_t n = strlen(want);
		CHECK(len == sizeof(pre) - 1 + n + 1 && !memcmp(text, pre, sizeof(pre) - 1) &&
		      !memcmp(text + sizeof(pre) - 1, want, n),
		      "the writer differs from jansson:\n  %s\n  %s", text, want);
	}
	free(buf);
	free(want);
}

static void roundtrip(const struct ogw_frame *f, enum ogw_ocpp v)
{
	check_writer(f->payload);
	size_t len = 0;
	char *buf = encode(f, &len);
	CHECK(buf, "encoding a decoded frame failed");
	const char *text = buf + HEADROOM;
	CHECK(strlen(text) == len, "encoded length %zu, text %zu", len, strlen(text));

	struct ogw_frame g;
	struct ogw_rpc_fault fault;
	memset(&fault, 0, sizeof(fault));
	int rc = ogw_frame_decode(text, len, v, &g, &fault);
	CHECK(rc == 0, "re-encoded frame does not decode (%s): %s", fault.desc, text);
	CHECK(g.type == f->type, "type %d -> %d", (int)f->type, (int)g.type);
	CHECK(!strcmp(g.id, f->id), "id \"%s\" -> \"%s\"", f->id, g.id);
	CHECK(same_str(g.action, f->action), "action changed: %s", text);
	CHECK(same_str(g.err_code, f->err_code), "error code changed: %s", text);
	if (f->err_desc) {
		/* Cut to 255 bytes on a character boundary (2.x string[255]). */
		size_t n = strlen(g.err_desc);
		CHECK(n <= 255, "errorDescription of %zu bytes", n);
		CHECK(!strncmp(g.err_desc, f->err_desc, n), "errorDescription changed: %s", text);
	}
	check_same_payload(f->payload, g.payload);

	/* Encoding is a fixed point after one pass. */
	size_t len2 = 0;
	char *buf2 = encode(&g, &len2);
	CHECK(buf2, "second encoding failed");
	CHECK(len2 == len && !memcmp(buf2 + HEADROOM, text, len),
	      "encoding not stable:\n  %s\n  %s", text, buf2 + HEADROOM);
	free(buf2);
	ogw_frame_release(&g);
	free(buf);
}

/* The same tree: json_equal() and, for objects, the keys in the same order
 * (the gateway encodes in insertion order). */
static void check_same_tree(const json_t *a, const json_t *b)
{
	CHECK(json_typeof(a) == json_typeof(b), "type %d vs %d", (int)json_typeof(a),
	      (int)json_typeof(b));
	CHECK(json_equal(a, b), "values differ");
	if (json_is_array(a)) {
		for (size_t i = 0; i < json_array_size(a); i++)
			check_same_tree(json_array_get(a, i), json_array_get(b, i));
	} else if (json_is_object(a)) {
		void *ia = json_object_iter((json_t *)a), *ib = json_object_iter((json_t *)b);
		for (; ia && ib; ia = json_object_iter_next((json_t *)a, ia),
				 ib = json_object_iter_next((json_t *)b, ib)) {
			size_t la = json_object_iter_key_len(ia), lb = json_object_iter_key_len(ib);
			CHECK(la == lb && !memcmp(json_object_iter_key(ia), json_object_iter_key(ib), la),
			      "key order differs");
			check_same_tree(json_object_iter_value(ia), json_object_iter_value(ib));
		}
		CHECK(!ia && !ib, "key counts differ");
	} else if (json_is_real(a)) {
		double x = json_real_value(a), y = json_real_value(b);
		CHECK(!memcmp(&x, &y, sizeof(x)), "reals differ in their bits");
	}
}

static void check_quick(const uint8_t *data, size_t size)
{
	json_t *q = ogw_json_quick((const char *)data, size);
	if (!q)
		return;
	json_error_t err;
	json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &err);
	CHECK(j, "quick took what jansson refuses: %s", err.text);
	check_same_tree(q, j);
	json_decref(q);
	json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_quick(data, size);

	char sniffed[OGW_MSGID_MAX + 1];

	ogw_rpc_sniff_id((const char *)data, size, sniffed);
	CHECK(strlen(sniffed) >= 1 && strlen(sniffed) <= OGW_MSGID_MAX, "sniffed id");

	for (int v = 0; v < OGW_OCPP_COUNT; v++) {
		struct ogw_frame f;
		struct ogw_rpc_fault fault;
		memset(&fault, 0, sizeof(fault));
		int rc = ogw_frame_decode((const char *)data, size, (enum ogw_ocpp)v, &f, &fault);
		if (rc) {
			CHECK(rc == -EBADMSG, "rc %d", rc);
			check_fault(&fault, (enum ogw_ocpp)v);
			continue;
		}
		CHECK(f.root && f.payload, "decoded frame without root or payload");
		CHECK(f.id[0] && strlen(f.id) <= OGW_MSGID_MAX, "bad id \"%s\"", f.id);
		CHECK(v == OGW_OCPP21 || (f.type != OGW_MSG_SEND && f.type != OGW_MSG_CALLRESULTERROR),
		      "type %d accepted for version %d", (int)f.type, v);
		roundtrip(&f, (enum ogw_ocpp)v);
		ogw_frame_release(&f);
	}
	return 0;
}
