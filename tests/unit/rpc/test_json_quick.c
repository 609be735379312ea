/* SPDX-License-Identifier: MIT */
/*
 * The quick parser (src/json/quick.c) against jansson: what it
 * takes becomes the tree json_loadb() makes (types, values, key order);
 * what it leaves (NULL) is jansson's, wrong or merely outside its subset.
 */
#include <string.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "ocppgw/json.h"

static void same_as_jansson(const char *text)
{
	json_error_t err;
	json_t *q = ogw_json_quick(text, strlen(text));
	json_t *j = json_loadb(text, strlen(text), JSON_REJECT_DUPLICATES, &err);
	cr_assert_not_null(q, "quick left: %s", text);
	cr_assert_not_null(j, "jansson refused: %s", text);
	cr_assert(json_equal(q, j), "different trees: %s", text);
	/* the same text again, keys in the same order, reals to the bit */
	char *dq = json_dumps(q, JSON_COMPACT | JSON_REAL_PRECISION(17));
	char *dj = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(17));
	cr_assert_str_eq(dq, dj);
	free(dq);
	free(dj);
	json_decref(q);
	json_decref(j);
}

static void left_to_jansson(const char *text)
{
	json_t *q = ogw_json_quick(text, strlen(text));
	cr_assert_null(q, "quick took: %s", text);
}

Test(json_quick, frames)
{
	same_as_jansson("[2,\"19223201\",\"BootNotification\",{\"chargePointVendor\":\"VendorX\","
			"\"chargePointModel\":\"SingleSocketCharger\"}]");
	same_as_jansson("[3,\"19223201\",{\"currentTime\":\"2013-02-01T20:53:32.486Z\","
			"\"interval\":300,\"status\":\"Accepted\"}]");
	same_as_jansson(" [2, \"1\" ,\"MeterValues\", {\"connectorId\": 1, \"meterValue\": [{"
			"\"timestamp\": \"2026-01-01T00:00:00Z\", \"sampledValue\": [{\"value\": \"12.5\","
			" \"measurand\": \"Energy.Active.Import.Register\"}]}]}]\r\n\t");
	same_as_jansson("[4,\"x\",\"GenericError\",\"\",{}]");
	same_as_jansson("{}");
	same_as_jansson("[]");
	same_as_jansson("[[],{},[[]],{\"a\":{\"b\":[]}}]");
}

Test(json_quick, numbers)
{
	same_as_jansson("[0,-0,1,-1,123456789012345678,-123456789012345678]");
	same_as_jansson("[0.0,-0.0,1.5,-1.5,1e3,1E-3,1.25e+2,2.5E2,0.1,3.141592653589793]");
	same_as_jansson("[1e-320,4.9e-324,1.7976931348623157e308]");
	left_to_jansson("[1234567890123456789]");        /* 19 digits: jansson decides */
	left_to_jansson("[1e400]");                      /* overflow: jansson's error */
	left_to_jansson("[01]");
	left_to_jansson("[1.]");
	left_to_jansson("[.5]");
	left_to_jansson("[1e]");
	left_to_jansson("[+1]");
	left_to_jansson("[-]");
	left_to_jansson("[1.5x]");
}

Test(json_quick, strings)
{
	same_as_jansson("[\"\",\"a b\",\"\\\"q\\\"\",\"\\\\\",\"http:\\/\\/x\\/fw.bin\","
			"\"\\b\\f\\n\\r\\t\"]");
	same_as_jansson("{\"k\\\"ey\":\"v\",\"key\":\"\\\\v\",\"\":1}");
	/* escaped keys longer than the stack copy */
	same_as_jansson("{\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\\n\":"
			"\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\\t\"}");
	left_to_jansson("[\"\\u0041\"]");                  /* \u: jansson's */
	left_to_jansson("[\"caf\xc3\xa9\"]");               /* UTF-8: jansson checks it */
	left_to_jansson("[\"a\tb\"]");                      /* a raw control byte */
	left_to_jansson("[\"\\x\"]");
	left_to_jansson("[\"open");
	left_to_jansson("[\"open\\");
}

Test(json_quick, structure)
{
	left_to_jansson("");
	left_to_jansson("   ");
	left_to_jansson("\"top\"");                         /* not an array or object */
	left_to_jansson("1");
	left_to_jansson("[1,]");
	left_to_jansson("[,1]");
	left_to_jansson("[1 2]");
	left_to_jansson("{\"a\" 1}");
	left_to_jansson("{\"a\":1,}");
	left_to_jansson("{a:1}");
	left_to_jansson("{\"a\":1,\"a\":2}");               /* duplicate key */
	left_to_jansson("[1] x");
	cr_assert_null(ogw_json_quick("[1]\0", 4));
	left_to_jansson("[tru]");
	left_to_jansson("[nul]");
	left_to_jansson("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
	same_as_jansson("[true,false,null]");
}
