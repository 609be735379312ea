/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for OCPP-J frames: every decoding fault per version and whether
 * it is answered, id length limits, round trips of unicode, nested payloads,
 * reals and integers, the encoders' output and headroom, id sniffing and
 * fresh ids.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "ocppgw/rpc.h"

static const enum ogw_ocpp all_versions[] = { OGW_OCPP16, OGW_OCPP201, OGW_OCPP21 };

static void expect_fault(const char *text, enum ogw_ocpp v, enum ogw_err err, bool reply,
			 const char *id)
{
	struct ogw_frame f;
	struct ogw_rpc_fault fault;

	memset(&f, 0xa5, sizeof(f));
	memset(&fault, 0, sizeof(fault));
	cr_assert_eq(ogw_frame_decode(text, strlen(text), v, &f, &fault), -EBADMSG,
		     "%s decoded in %d", text, v);
	cr_assert_eq(fault.err, err, "%s (v%d): err %d, want %d", text, v, fault.err, err);
	cr_assert_eq(fault.reply, reply, "%s (v%d): reply %d", text, v, fault.reply);
	cr_assert_str_eq(fault.id, id, "%s (v%d)", text, v);
	cr_assert_gt(strlen(fault.desc), 0, "%s: a fault says why", text);
	cr_assert_eq(f.id[0], (char)0xa5, "*ret untouched on failure");
}

static void expect_fault_all(const char *text, enum ogw_err err, bool reply, const char *id)
{
	for (size_t i = 0; i < 3; i++)
		expect_fault(text, all_versions[i], err, reply, id);
}

static void decode_ok(const char *text, enum ogw_ocpp v, struct ogw_frame *f)
{
	struct ogw_rpc_fault fault = { 0 };
	int rc = ogw_frame_decode(text, strlen(text), v, f, &fault);

	cr_assert_eq(rc, 0, "%s: %s", text, fault.desc);
}

Test(decode, not_json)
{
	expect_fault_all("", OGW_ERR_RPC_FRAMEWORK, true, "-1");
	expect_fault_all("hello", OGW_ERR_RPC_FRAMEWORK, true, "-1");
	expect_fault_all("[2,\"abc\",\"Heartbeat\",{", OGW_ERR_RPC_FRAMEWORK, true, "abc");
	expect_fault_all("[2,\"abc\",\"Heartbeat\",{}]x", OGW_ERR_RPC_FRAMEWORK, true, "abc");
	/* invalid UTF-8 and duplicate keys are not JSON we accept */
	expect_fault_all("[2,\"u\",\"A\",{\"k\":\"\xff\"}]", OGW_ERR_RPC_FRAMEWORK, true, "u");
	expect_fault_all("[2,\"d\",\"A\",{\"k\":1,\"k\":2}]", OGW_ERR_RPC_FRAMEWORK, true, "d");
	/* a broken answer is still an answer: never answered */
	expect_fault_all("[3,\"r\",{", OGW_ERR_RPC_FRAMEWORK, false, "r");
	expect_fault_all("[4,\"e\",\"GenericError\",", OGW_ERR_RPC_FRAMEWORK, false, "e");
}

Test(decode, not_a_call_array)
{
	expect_fault_all("{\"a\":1}", OGW_ERR_RPC_FRAMEWORK, true, "-1");
	expect_fault_all("\"text\"", OGW_ERR_RPC_FRAMEWORK, true, "-1");
	expect_fault_all("42", OGW_ERR_RPC_FRAMEWORK, true, "-1");
	expect_fault_all("[]", OGW_ERR_RPC_FRAMEWORK, true, "-1");
	expect_fault_all("[\"2\",\"x\",\"A\",{}]", OGW_ERR_RPC_FRAMEWORK, true, "x");
	expect_fault_all("[2.0,\"x\",\"A\",{}]", OGW_ERR_RPC_FRAMEWORK, true, "x");
	expect_fault_all("[null]", OGW_ERR_RPC_FRAMEWORK, true, "-1");
}

Test(decode, bad_message_id)
{
	expect_fault_all("[2]", OGW_ERR_RPC_FRAMEWORK, true, "-1");
	expect_fault_all("[2,17,\"Heartbeat\",{}]", OGW_ERR_RPC_FRAMEWORK, true, "-1");
	expect_fault_all("[2,null,\"Heartbeat\",{}]", OGW_ERR_RPC_FRAMEWORK, true, "-1");
	expect_fault_all("[2,\"\",\"Heartbeat\",{}]", OGW_ERR_RPC_FRAMEWORK, true, "-1");
	/* a bad id on an answer is not answered */
	expect_fault_all("[3,17,{}]", OGW_ERR_RPC_FRAMEWORK, false, "-1");
	expect_fault_all("[4,\"\",\"GenericError\",\"\",{}]", OGW_ERR_RPC_FRAMEWORK, false, "-1");
}

Test(decode, id_length_36_and_37)
{
	const char *id36 = "123456789012345678901234567890123456";
	char text[128];
	struct ogw_frame f;
	struct ogw_rpc_fault fault;

	snprintf(text, sizeof(text), "[2,\"%s\",\"Heartbeat\",{}]", id36);
	decode_ok(text, OGW_OCPP201, &f);
	cr_assert_str_eq(f.id, id36);
	ogw_frame_release(&f);

	snprintf(text, sizeof(text), "[2,\"%sX\",\"Heartbeat\",{}]", id36);
	expect_fault_all(text, OGW_ERR_RPC_FRAMEWORK, true, "-1");
	cr_assert_eq(ogw_frame_decode(text, strlen(text), OGW_OCPP16, &f, &fault), -EBADMSG);
	cr_assert_str_eq(fault.desc, "message id longer than 36 characters");
}

Test(decode, unknown_message_type)
{
	const char *t7 = "[7,\"m1\",\"Heartbeat\",{}]";

	expect_fault(t7, OGW_OCPP201, OGW_ERR_MESSAGE_TYPE_NOT_SUPPORTED, true, "m1");
	expect_fault(t7, OGW_OCPP16, OGW_ERR_MESSAGE_TYPE_NOT_SUPPORTED, false, "m1");
	expect_fault(t7, OGW_OCPP21, OGW_ERR_MESSAGE_TYPE_NOT_SUPPORTED, false, "m1");
	expect_fault("[0,\"m1\"]", OGW_OCPP201, OGW_ERR_MESSAGE_TYPE_NOT_SUPPORTED, true, "m1");
	expect_fault("[-3,\"m1\"]", OGW_OCPP201, OGW_ERR_MESSAGE_TYPE_NOT_SUPPORTED, true, "m1");
	expect_fault("[99999999999999,\"m1\"]", OGW_OCPP201, OGW_ERR_MESSAGE_TYPE_NOT_SUPPORTED,
		     true, "m1");
	/* an unknown type with an unreadable id: answered with "-1" in 2.0.1 */
	expect_fault("[7]", OGW_OCPP201, OGW_ERR_MESSAGE_TYPE_NOT_SUPPORTED, true, "-1");
	expect_fault("[7]", OGW_OCPP16, OGW_ERR_MESSAGE_TYPE_NOT_SUPPORTED, false, "-1");
}

Test(decode, send_and_callresulterror_only_in_21)
{
	const char *send = "[6,\"s1\",\"NotifyPeriodicEventStream\",{\"id\":1}]";
	const char *cre = "[5,\"r1\",\"FormatViolation\",\"bad\",{}]";
	struct ogw_frame f;

	expect_fault(send, OGW_OCPP16, OGW_ERR_MESSAGE_TYPE_NOT_SUPPORTED, false, "s1");
	expect_fault(send, OGW_OCPP201, OGW_ERR_MESSAGE_TYPE_NOT_SUPPORTED, true, "s1");
	expect_fault(cre, OGW_OCPP16, OGW_ERR_MESSAGE_TYPE_NOT_SUPPORTED, false, "r1");
	expect_fault(cre, OGW_OCPP201, OGW_ERR_MESSAGE_TYPE_NOT_SUPPORTED, true, "r1");

	decode_ok(send, OGW_OCPP21, &f);
	cr_assert_eq(f.type, OGW_MSG_SEND);
	cr_assert_str_eq(f.id, "s1");
	cr_assert_str_eq(f.action, "NotifyPeriodicEventStream");
	cr_assert_eq(json_integer_value(json_object_get(f.payload, "id")), 1);
	ogw_frame_release(&f);

	decode_ok(cre, OGW_OCPP21, &f);
	cr_assert_eq(f.type, OGW_MSG_CALLRESULTERROR);
	cr_assert_str_eq(f.err_code, "FormatViolation");
	cr_assert_str_eq(f.err_desc, "bad");
	cr_assert(json_is_object(f.payload));
	cr_assert_null(f.action);
	ogw_frame_release(&f);
}

Test(decode, malformed_call)
{
	expect_fault_all("[2,\"c\",\"Heartbeat\"]", OGW_ERR_RPC_FRAMEWORK, true, "c");
	expect_fault_all("[2,\"c\",\"Heartbeat\",{},{}]", OGW_ERR_RPC_FRAMEWORK, true, "c");
	expect_fault_all("[2,\"c\",5,{}]", OGW_ERR_RPC_FRAMEWORK, true, "c");
	expect_fault_all("[2,\"c\",\"\",{}]", OGW_ERR_RPC_FRAMEWORK, true, "c");
	expect_fault_all("[2,\"c\",\"Heartbeat\",[]]", OGW_ERR_RPC_FRAMEWORK, true, "c");
	expect_fault_all("[2,\"c\",\"Heartbeat\",null]", OGW_ERR_RPC_FRAMEWORK, true, "c");
	expect_fault_all("[2,\"c\",\"Heartbeat\",\"{}\"]", OGW_ERR_RPC_FRAMEWORK, true, "c");
}

Test(decode, action_length)
{
	char action[OGW_ACTION_MAX + 2], text[256];
	struct ogw_frame f;

	memset(action, 'A', OGW_ACTION_MAX);
	action[OGW_ACTION_MAX] = '\0';
	snprintf(text, sizeof(text), "[2,\"c\",\"%s\",{}]", action);
	decode_ok(text, OGW_OCPP16, &f);
	cr_assert_str_eq(f.action, action);
	ogw_frame_release(&f);
	strcat(action, "A");
	snprintf(text, sizeof(text), "[2,\"c\",\"%s\",{}]", action);
	expect_fault_all(text, OGW_ERR_RPC_FRAMEWORK, true, "c");
}

Test(decode, malformed_send_is_not_answered)
{
	expect_fault("[6,\"s\",\"NotifyPeriodicEventStream\"]", OGW_OCPP21, OGW_ERR_RPC_FRAMEWORK,
		     false, "s");
	expect_fault("[6,\"s\",\"\",{}]", OGW_OCPP21, OGW_ERR_RPC_FRAMEWORK, false, "s");
	expect_fault("[6,\"\",\"X\",{}]", OGW_OCPP21, OGW_ERR_RPC_FRAMEWORK, false, "-1");
}

Test(decode, malformed_answers_are_not_answered)
{
	expect_fault_all("[3,\"r\"]", OGW_ERR_RPC_FRAMEWORK, false, "r");
	expect_fault_all("[3,\"r\",{},{}]", OGW_ERR_RPC_FRAMEWORK, false, "r");
	expect_fault_all("[3,\"r\",[]]", OGW_ERR_RPC_FRAMEWORK, false, "r");
	expect_fault_all("[4,\"e\",\"GenericError\",\"\"]", OGW_ERR_RPC_FRAMEWORK, false, "e");
	expect_fault_all("[4,\"e\",\"GenericError\",\"\",{},1]", OGW_ERR_RPC_FRAMEWORK, false, "e");
	expect_fault_all("[4,\"e\",1,\"\",{}]", OGW_ERR_RPC_FRAMEWORK, false, "e");
	expect_fault_all("[4,\"e\",\"GenericError\",null,{}]", OGW_ERR_RPC_FRAMEWORK, false, "e");
	expect_fault_all("[4,\"e\",\"GenericError\",\"\",[]]", OGW_ERR_RPC_FRAMEWORK, false, "e");
	expect_fault("[5,\"e\",\"GenericError\",\"\"]", OGW_OCPP21, OGW_ERR_RPC_FRAMEWORK, false, "e");
}

Test(decode, fault_desc_names_the_problem)
{
	struct ogw_frame f;
	struct ogw_rpc_fault fault;
	const char *t = "[3,\"r\",[]]";

	cr_assert_eq(ogw_frame_decode(t, strlen(t), OGW_OCPP16, &f, &fault), -EBADMSG);
	cr_assert_str_eq(fault.desc, "payload is not an object");
	t = "[2,\"c\",\"Heartbeat\"]";
	cr_assert_eq(ogw_frame_decode(t, strlen(t), OGW_OCPP16, &f, &fault), -EBADMSG);
	cr_assert_str_eq(fault.desc, "CALL must have 4 elements");
}

Test(decode, well_formed_frames)
{
	struct ogw_frame f;

	decode_ok(" [ 2 , \"id-1\" , \"BootNotification\" , {\"a\":{\"b\":[1,{\"c\":\"\xe2\x82\xac\"}]}} ] ",
		  OGW_OCPP16, &f);
	cr_assert_eq(f.type, OGW_MSG_CALL);
	cr_assert_str_eq(f.id, "id-1");
	cr_assert_str_eq(f.action, "BootNotification");
	cr_assert_str_eq(json_string_value(json_object_get(
		json_array_get(json_object_get(json_object_get(f.payload, "a"), "b"), 1), "c")),
		"\xe2\x82\xac");
	cr_assert_null(f.err_code);
	ogw_frame_release(&f);
	cr_assert_null(f.root);

	decode_ok("[3,\"r\",{}]", OGW_OCPP201, &f);
	cr_assert_eq(f.type, OGW_MSG_CALLRESULT);
	cr_assert(json_is_object(f.payload));
	cr_assert_null(f.action);
	ogw_frame_release(&f);

	decode_ok("[4,\"e\",\"OccurenceConstraintViolation\",\"missing\",{\"k\":\"v\"}]",
		  OGW_OCPP16, &f);
	cr_assert_eq(f.type, OGW_MSG_CALLERROR);
	cr_assert_str_eq(f.err_code, "OccurenceConstraintViolation");
	cr_assert_str_eq(f.err_desc, "missing");
	cr_assert_str_eq(json_string_value(json_object_get(f.payload, "k")), "v");
	ogw_frame_release(&f);
	ogw_frame_release(NULL);
}

/* decode @text, encode it back with the matching encoder, compare */
static void round_trip(const char *text, enum ogw_ocpp v)
{
	struct ogw_frame f;
	char *out = NULL;
	size_t len = 0;

	decode_ok(text, v, &f);
	switch (f.type) {
	case OGW_MSG_CALL:
	case OGW_MSG_SEND:
		out = ogw_rpc_encode_call(0, f.type, f.id, f.action, f.payload, &len);
		break;
	case OGW_MSG_CALLRESULT:
		out = ogw_rpc_encode_result(0, f.id, f.payload, &len);
		break;
	default:
		out = ogw_rpc_encode_error(0, f.type, f.id, f.err_code, f.err_desc, f.payload, &len);
		break;
	}
	cr_assert_not_null(out);
	cr_assert_str_eq(out, text);
	cr_assert_eq(len, strlen(text));
	free(out);
	ogw_frame_release(&f);
}

Test(encode, round_trips)
{
	round_trip("[2,\"1\",\"MeterValues\",{\"v\":230.1,\"w\":0.1,\"i\":42,\"neg\":-7,"
		   "\"big\":9007199254740993,\"e\":1.5e-7,\"z\":0,\"f\":false,\"n\":null}]",
		   OGW_OCPP16);
	round_trip("[2,\"\xc3\xa9\",\"DataTransfer\",{\"s\":\"\xf0\x9f\x98\x80 \xe2\x82\xac \\\"q\\\" "
		   "\\\\ \\n\\t\\u0001\",\"a\":[[],{},[1,[2,[3]]]]}]", OGW_OCPP201);
	round_trip("[3,\"r\",{\"currentTime\":\"2026-11-22T07:00:00.123Z\",\"interval\":300}]",
		   OGW_OCPP201);
	round_trip("[4,\"e\",\"FormationViolation\",\"bad \\\"x\\\"\",{\"d\":1}]", OGW_OCPP16);
	round_trip("[5,\"e\",\"GenericError\",\"\",{}]", OGW_OCPP21);
	round_trip("[6,\"s\",\"NotifyPeriodicEventStream\",{\"data\":[{\"t\":0,\"v\":\"1.0\"}]}]",
		   OGW_OCPP21);
}

Test(encode, integers_stay_integers_reals_stay_reals)
{
	json_t *p = json_pack("{s:I,s:f,s:f,s:f}", "i", (json_int_t)230, "r", 230.0, "d", 230.1,
			      "t", 0.1);
	char *out;

	out = ogw_rpc_encode_result(0, "x", p, NULL);
	cr_assert_str_eq(out, "[3,\"x\",{\"i\":230,\"r\":230.0,\"d\":230.1,\"t\":0.1}]");
	free(out);
	json_decref(p);
}

/* The payload's text is what json_dumps() writes with the flags frames are
 * written with, byte for byte: escapes, UTF-8, reals, integer limits. */
Test(encode, payload_text_is_janssons)
{
	static const char *const payloads[] = {
		("{\"r\":[1e20,1e-5,1.5e300,-2.5e-300,0.1,100.0,-0.0,0.0,-7.0,123456789.123456789,"
		 "999999999999999.0,-999999999999999.0,1e15,1e16,4503599627370497.0]}"),
		"{\"s\":\"\\u0001\\u001f\\u007f \\\" \\\\ / \\b\\f\\n\\r\\t\"}",
		"{\"u\":\"\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\",\"k\\u0002y\":1}",
		"{\"i\":[9223372036854775807,-9223372036854775808,0,-1]}",
		"{\"n\":[true,false,null,[],{},[[{}]]]}",
	};
	for (size_t i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
		json_error_t err;
		json_t *p = json_loads(payloads[i], 0, &err);
		cr_assert_not_null(p, "fixture %zu: %s", i, err.text);
		char *want = json_dumps(p, JSON_COMPACT | JSON_REAL_PRECISION(15) | JSON_ENCODE_ANY);
		char *out = ogw_rpc_encode_result(0, "x", p, NULL);
		cr_assert_not_null(out);
		cr_assert_eq(strncmp(out, "[3,\"x\",", 7), 0);
		cr_assert_eq(strlen(out), 7 + strlen(want) + 1);
		cr_assert_eq(strncmp(out + 7, want, strlen(want)), 0, "\n  %s\n  %s", out, want);
		free(out);
		free(want);
		json_decref(p);
	}
}

Test(encode, headroom_and_length)
{
	json_t *p = json_object();
	size_t len = 0;
	char *out = ogw_rpc_encode_call(16, OGW_MSG_CALL, "abc", "Heartbeat", p, &len);

	cr_assert_not_null(out);
	cr_assert_str_eq(out + 16, "[2,\"abc\",\"Heartbeat\",{}]");
	cr_assert_eq(len, strlen(out + 16));
	free(out);
	out = ogw_rpc_encode_call(0, OGW_MSG_SEND, "abc", "NotifyPeriodicEventStream", NULL, &len);
	cr_assert_str_eq(out, "[6,\"abc\",\"NotifyPeriodicEventStream\",{}]");
	free(out);
	cr_assert_null(ogw_rpc_encode_call(0, OGW_MSG_CALLRESULT, "a", "B", p, &len));
	cr_assert_null(ogw_rpc_encode_error(0, OGW_MSG_CALL, "a", "B", "", p, &len));
	json_decref(p);
}

Test(encode, large_payload_grows)
{
	json_t *p = json_object(), *arr = json_array();
	struct ogw_frame f;
	size_t len = 0;
	char *out;

	for (int i = 0; i < 5000; i++)
		json_array_append_new(arr, json_real(i + 0.25));
	json_object_set_new(p, "values", arr);
	out = ogw_rpc_encode_result(32, "big", p, &len);
	cr_assert_not_null(out);
	cr_assert_gt(len, 5000 * 4);
	cr_assert_eq(out[32 + len], '\0');
	decode_ok(out + 32, OGW_OCPP201, &f);
	cr_assert(json_equal(f.payload, p));
	ogw_frame_release(&f);
	free(out);
	json_decref(p);
}

Test(encode, error_description_cut_on_character)
{
	char desc[300], want[300], *out, expect[512];

	/* 254 ASCII bytes then a 3-byte euro sign: 257 bytes, the euro goes */
	memset(desc, 'a', 254);
	memcpy(desc + 254, "\xe2\x82\xac", 4);
	memcpy(want, desc, 254);
	want[254] = '\0';
	out = ogw_rpc_encode_error(0, OGW_MSG_CALLERROR, "1", "GenericError", desc, NULL, NULL);
	snprintf(expect, sizeof(expect), "[4,\"1\",\"GenericError\",\"%s\",{}]", want);
	cr_assert_str_eq(out, expect);
	free(out);

	/* exactly 255 bytes stays whole */
	memset(desc, 'b', 252);
	memcpy(desc + 252, "\xe2\x82\xac", 4);
	out = ogw_rpc_encode_error(0, OGW_MSG_CALLERROR, "1", "GenericError", desc, NULL, NULL);
	snprintf(expect, sizeof(expect), "[4,\"1\",\"GenericError\",\"%s\",{}]", desc);
	cr_assert_str_eq(out, expect);
	free(out);
}

Test(encode, hostile_strings_stay_valid_json)
{
	json_t *details = json_pack("{s:s}", "k", "v");
	struct ogw_frame f;
	char *out;

	out = ogw_rpc_encode_error(0, OGW_MSG_CALLRESULTERROR, "i\"d", "Code\\",
				   "line\nbreak \x01 \xff end \x7f", details, NULL);
	cr_assert_not_null(out);
	cr_assert_str_eq(out, "[5,\"i\\\"d\",\"Code\\\\\",\"line\\nbreak \\u0001 \\ufffd end \x7f\","
			 "{\"k\":\"v\"}]");
	decode_ok(out, OGW_OCPP21, &f);
	cr_assert_str_eq(f.id, "i\"d");
	cr_assert_str_eq(f.err_desc, "line\nbreak \x01 \xef\xbf\xbd end \x7f");
	ogw_frame_release(&f);
	free(out);
	json_decref(details);
}

Test(sniff, ids)
{
	char id[OGW_MSGID_MAX + 1];
	const char *t;

	t = "[2,\"abc\",\"Heart";
	ogw_rpc_sniff_id(t, strlen(t), id);
	cr_assert_str_eq(id, "abc");
	t = " \n[ 3 ,\t\"x-1\"";
	ogw_rpc_sniff_id(t, strlen(t), id);
	cr_assert_str_eq(id, "x-1");
	t = "[2,\"123456789012345678901234567890123456\",";
	ogw_rpc_sniff_id(t, strlen(t), id);
	cr_assert_str_eq(id, "123456789012345678901234567890123456");

	const char *bad[] = {
		"", "x", "[", "[2", "[2,", "[2,\"", "[2,\"abc", "[2,\"\"", "[2,5,", "{\"a\":1}",
		"[2,\"a\\\"b\",", "[2,\"1234567890123456789012345678901234567\",", "[\"2\",\"a\"",
		"[2,\"a\nb\"", "[2,\"\xff\"",
		/* Found by fuzz_mqtt: only the first character used to be checked. */
		"[2,\"seed-s\xffnd\",", "[2,\"ab\xc3\",",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ogw_rpc_sniff_id(bad[i], strlen(bad[i]), id);
		cr_assert_str_eq(id, "-1", "%s", bad[i]);
	}
	/* @len is honoured */
	t = "[2,\"abcdef\"";
	ogw_rpc_sniff_id(t, 7, id);
	cr_assert_str_eq(id, "-1");
	ogw_rpc_sniff_id(NULL, 0, id);
	cr_assert_str_eq(id, "-1");
}

static int cmp_id(const void *a, const void *b)
{
	return strcmp(a, b);
}

Test(new_id, unique_and_short)
{
	enum { N = 100000 };
	char (*ids)[OGW_MSGID_MAX + 1] = calloc(N, sizeof(*ids));

	cr_assert_not_null(ids);
	for (int i = 0; i < N; i++) {
		size_t n;

		ogw_rpc_new_id(ids[i]);
		n = strlen(ids[i]);
		cr_assert(n > 0 && n <= OGW_MSGID_MAX, "%s", ids[i]);
		cr_assert_eq(strspn(ids[i], "0123456789abcdef-"), n, "%s", ids[i]);
	}
	cr_assert_eq(strncmp(ids[0], ids[N - 1], 17), 0, "one prefix per process");
	qsort(ids, N, sizeof(*ids), cmp_id);
	for (int i = 1; i < N; i++)
		cr_assert_str_neq(ids[i - 1], ids[i]);
	free(ids);
}

/* A frame relayed unchanged keeps its bytes; only the id is replaced. */
static void check_reframe(const char *in, enum ogw_msg_type type, const char *want)
{
	struct ogw_frame f;
	struct ogw_rpc_fault fault;
	size_t len;

	cr_assert_eq(ogw_frame_decode(in, strlen(in), OGW_OCPP201, &f, &fault), 0, "%s", in);
	cr_assert_not_null(f.rest, "%s", in);
	char *out = ogw_rpc_reframe(16, type, "new-id", f.rest, f.rest_len, &len);
	cr_assert_not_null(out);
	cr_assert_eq(len, strlen(want));
	cr_assert_str_eq(out + 16, want);
	free(out);
	ogw_frame_release(&f);
}

Test(reframe, keeps_bytes_after_the_id)
{
	check_reframe("[2,\"a1\",\"Heartbeat\",{}]", OGW_MSG_CALL,
		      "[2,\"new-id\",\"Heartbeat\",{}]");
	check_reframe("[2, \"a1\" , \"DataTransfer\", {\"vendorId\":\"x\",\"data\":1.10}]",
		      OGW_MSG_CALL, "[2,\"new-id\" , \"DataTransfer\", {\"vendorId\":\"x\",\"data\":1.10}]");
	check_reframe("[3,\"a1\",{\"currentTime\":\"2026-11-22T07:00:00Z\"}]", OGW_MSG_CALLRESULT,
		      "[3,\"new-id\",{\"currentTime\":\"2026-11-22T07:00:00Z\"}]");
}

Test(reframe, escaped_id_has_no_rest)
{
	const char *in = "[2,\"a\\u0031\",\"Heartbeat\",{}]";
	struct ogw_frame f;
	struct ogw_rpc_fault fault;

	cr_assert_eq(ogw_frame_decode(in, strlen(in), OGW_OCPP201, &f, &fault), 0);
	cr_assert_str_eq(f.id, "a1");
	cr_assert_null(f.rest);
	ogw_frame_release(&f);
}
