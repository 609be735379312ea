/* SPDX-License-Identifier: MIT */
/*
 * The validator keyword by keyword on small hand-written schemas
 * (tests/fixtures/schema/keywords), the loader's refusals (unknown keyword
 * or format, $ref cycles, bad names), and loading folders laid out like the
 * OCA's published 1.6 and 2.0.1 schemas (tests/fixtures/oca-style).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "ocppgw/ocpp.h"
#include "ocppgw/schema.h"

#include "helpers.h"

static struct ogw_schema_set *kw;

static void load_keywords(void)
{
	kw = load_set("tests/fixtures/schema/keywords");
}

static void free_keywords(void)
{
	kw = ogw_schema_set_free(kw);
}

/* Validates @text against @action's request; returns the fault's err
 * (OGW_ERR_NONE when valid) and copies the path to @path. */
static enum ogw_err run(const char *action, const char *text, char *path, size_t size)
{
	json_error_t je;
	struct ogw_schema_fault f;
	const struct ogw_schema *s = ogw_schema_get(kw, action, false);
	cr_assert_not_null(s, "no schema %s", action);
	json_t *j = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
	cr_assert_not_null(j, "bad test JSON %s: %s", text, je.text);
	int r = ogw_schema_validate(s, j, &f);
	json_decref(j);
	if (r == 0)
		return OGW_ERR_NONE;
	cr_assert_eq(r, -EINVAL);
	if (path)
		snprintf(path, size, "%s", f.path);
	return f.err;
}

#define VALID(action, text) \
	cr_expect_eq(run(action, text, NULL, 0), OGW_ERR_NONE, "%s should pass", text)
#define FAULT(action, text, want, wantpath) do {                                      \
		char p_[160];                                                         \
		cr_expect_eq(run(action, text, p_, sizeof(p_)), want, "%s: wrong err", text); \
		cr_expect_str_eq(p_, wantpath, "%s: wrong path", text);                \
	} while (0)

TestSuite(keywords, .init = load_keywords, .fini = free_keywords);

Test(keywords, type)
{
	VALID("Types", "{\"s\":\"x\",\"must\":0}");
	VALID("Types", "{\"s\":\"x\",\"must\":null,\"i\":-3,\"n\":1,\"b\":false,\"o\":{\"k\":1,\"x\":2},"
		       "\"a\":[\"q\"],\"sn\":null,\"z\":null,\"any\":[{}],\"anyToo\":7}");
	VALID("Types", "{\"s\":\"x\",\"must\":1,\"i\":4.0,\"n\":2.5,\"sn\":\"v\",\"unknown\":1}");
	FAULT("Types", "[]", OGW_ERR_TYPE_CONSTRAINT, "");
	FAULT("Types", "{\"s\":1,\"must\":0}", OGW_ERR_TYPE_CONSTRAINT, "s");
	FAULT("Types", "{\"s\":\"x\",\"must\":0,\"i\":4.5}", OGW_ERR_TYPE_CONSTRAINT, "i");
	FAULT("Types", "{\"s\":\"x\",\"must\":0,\"i\":true}", OGW_ERR_TYPE_CONSTRAINT, "i");
	FAULT("Types", "{\"s\":\"x\",\"must\":0,\"n\":\"1\"}", OGW_ERR_TYPE_CONSTRAINT, "n");
	FAULT("Types", "{\"s\":\"x\",\"must\":0,\"b\":0}", OGW_ERR_TYPE_CONSTRAINT, "b");
	FAULT("Types", "{\"s\":\"x\",\"must\":0,\"o\":[]}", OGW_ERR_TYPE_CONSTRAINT, "o");
	FAULT("Types", "{\"s\":\"x\",\"must\":0,\"o\":{\"k\":\"1\"}}", OGW_ERR_TYPE_CONSTRAINT, "o.k");
	FAULT("Types", "{\"s\":\"x\",\"must\":0,\"a\":[\"q\",2]}", OGW_ERR_TYPE_CONSTRAINT, "a[1]");
	FAULT("Types", "{\"s\":\"x\",\"must\":0,\"sn\":3}", OGW_ERR_TYPE_CONSTRAINT, "sn");
	FAULT("Types", "{\"s\":\"x\",\"must\":0,\"z\":0}", OGW_ERR_TYPE_CONSTRAINT, "z");
}

Test(keywords, required)
{
	/* "must" is required without being in properties: any value will do. */
	FAULT("Types", "{\"s\":\"x\"}", OGW_ERR_OCCURRENCE_CONSTRAINT, "must");
	FAULT("Types", "{\"must\":\"x\"}", OGW_ERR_OCCURRENCE_CONSTRAINT, "s");
	FAULT("Tree", "{\"root\":{\"children\":[{\"name\":\"a\"},{}]}}",
	      OGW_ERR_OCCURRENCE_CONSTRAINT, "root.name");
	FAULT("Tree", "{\"root\":{\"name\":\"r\",\"children\":[{\"name\":\"a\"},{}]}}",
	      OGW_ERR_OCCURRENCE_CONSTRAINT, "root.children[1].name");
}

Test(keywords, additional_properties)
{
	FAULT("Draft4", "{\"gt1\":1}", OGW_ERR_FORMAT_VIOLATION, "gt1");
	VALID("Draft4", "{}");
}

Test(keywords, key_with_nul)
{
	/* A key with a NUL inside is not the property it starts with. */
	const struct ogw_schema *s = ogw_schema_get(kw, "Draft4", false);
	struct ogw_schema_fault f;
	json_t *j = json_object();
	cr_assert_eq(json_object_setn_new(j, "gt0\0x", 5, json_integer(1)), 0);
	cr_expect_eq(ogw_schema_validate(s, j, &f), -EINVAL);
	cr_expect_eq(f.err, OGW_ERR_FORMAT_VIOLATION);
	cr_expect_str_eq(f.path, "gt0");
	json_decref(j);
}

Test(keywords, exclusive_draft04)
{
	VALID("Draft4", "{\"gt0\":0.001,\"ge0\":0,\"lt10\":9,\"le10\":10}");
	FAULT("Draft4", "{\"gt0\":0}", OGW_ERR_PROPERTY_CONSTRAINT, "gt0");
	FAULT("Draft4", "{\"ge0\":-0.5}", OGW_ERR_PROPERTY_CONSTRAINT, "ge0");
	FAULT("Draft4", "{\"lt10\":10}", OGW_ERR_PROPERTY_CONSTRAINT, "lt10");
	FAULT("Draft4", "{\"le10\":11}", OGW_ERR_PROPERTY_CONSTRAINT, "le10");
	FAULT("Draft4", "{\"le10\":10.5}", OGW_ERR_TYPE_CONSTRAINT, "le10");
}

Test(keywords, exclusive_draft06_and_multiple)
{
	VALID("Draft6", "{\"gt0\":1e-9,\"lt100\":99.99,\"both\":5.5,\"step\":0.07,\"five\":-20}");
	VALID("Draft6", "{\"step\":1234.56,\"five\":15}");
	VALID("Draft6", "{\"step\":0.3}");
	FAULT("Draft6", "{\"gt0\":0}", OGW_ERR_PROPERTY_CONSTRAINT, "gt0");
	FAULT("Draft6", "{\"gt0\":-1}", OGW_ERR_PROPERTY_CONSTRAINT, "gt0");
	FAULT("Draft6", "{\"lt100\":100}", OGW_ERR_PROPERTY_CONSTRAINT, "lt100");
	/* minimum 3 and exclusiveMinimum 5: the stricter bound holds. */
	FAULT("Draft6", "{\"both\":5}", OGW_ERR_PROPERTY_CONSTRAINT, "both");
	FAULT("Draft6", "{\"both\":4}", OGW_ERR_PROPERTY_CONSTRAINT, "both");
	FAULT("Draft6", "{\"step\":0.075}", OGW_ERR_PROPERTY_CONSTRAINT, "step");
	FAULT("Draft6", "{\"five\":7}", OGW_ERR_PROPERTY_CONSTRAINT, "five");
	FAULT("Draft6", "{\"five\":-25}", OGW_ERR_PROPERTY_CONSTRAINT, "five");
	FAULT("Draft6", "{\"five\":25}", OGW_ERR_PROPERTY_CONSTRAINT, "five");
}

Test(keywords, strings)
{
	VALID("Strings", "{\"code\":\"ab\"}");
	VALID("Strings", "{\"code\":\"\\u00e4\\u00f6\\u00fc\\u00df\"}"); /* 4 code points, 8 bytes */
	VALID("Strings", "{\"code\":\"\\ud83d\\ude00\\ud83d\\ude00\"}");  /* 2 code points, 8 bytes */
	FAULT("Strings", "{\"code\":\"a\"}", OGW_ERR_PROPERTY_CONSTRAINT, "code");
	FAULT("Strings", "{\"code\":\"abcde\"}", OGW_ERR_PROPERTY_CONSTRAINT, "code");
	FAULT("Strings", "{\"code\":\"\\u00e4\\u00f6\\u00fc\\u00df\\u00e4\"}",
	      OGW_ERR_PROPERTY_CONSTRAINT, "code");
	FAULT("Strings", "{\"code\":\"\\u00e4\"}", OGW_ERR_PROPERTY_CONSTRAINT, "code");
}

Test(keywords, enum_and_const)
{
	VALID("Strings", "{\"mixed\":\"on\"}");
	VALID("Strings", "{\"mixed\":1}");
	VALID("Strings", "{\"mixed\":1.0}");
	VALID("Strings", "{\"mixed\":2.5}");
	VALID("Strings", "{\"mixed\":null}");
	VALID("Strings", "{\"mixed\":true}");
	VALID("Strings", "{\"mixed\":{\"k\":[1]}}");
	FAULT("Strings", "{\"mixed\":\"off\"}", OGW_ERR_PROPERTY_CONSTRAINT, "mixed");
	FAULT("Strings", "{\"mixed\":false}", OGW_ERR_PROPERTY_CONSTRAINT, "mixed");
	FAULT("Strings", "{\"mixed\":{\"k\":[2]}}", OGW_ERR_PROPERTY_CONSTRAINT, "mixed");
	VALID("Strings", "{\"kind\":\"fixed\",\"answer\":42}");
	FAULT("Strings", "{\"kind\":\"fixe\"}", OGW_ERR_PROPERTY_CONSTRAINT, "kind");
	FAULT("Strings", "{\"kind\":\"fixed\\u0000\"}", OGW_ERR_PROPERTY_CONSTRAINT, "kind");
	FAULT("Strings", "{\"answer\":\"42\"}", OGW_ERR_PROPERTY_CONSTRAINT, "answer");
}

Test(keywords, format_uri)
{
	VALID("Strings", "{\"url\":\"wss://csms.example.com:443/ocpp/CP%201\"}");
	VALID("Strings", "{\"url\":\"urn:oid:1.2.3\"}");
	VALID("Strings", "{\"url\":\"ftp+ssl:\"}");
	FAULT("Strings", "{\"url\":\"csms.example.com\"}", OGW_ERR_PROPERTY_CONSTRAINT, "url");
	FAULT("Strings", "{\"url\":\"1http://x\"}", OGW_ERR_PROPERTY_CONSTRAINT, "url");
	FAULT("Strings", "{\"url\":\"ht_tp://x\"}", OGW_ERR_PROPERTY_CONSTRAINT, "url");
	FAULT("Strings", "{\"url\":\"http://a b\"}", OGW_ERR_PROPERTY_CONSTRAINT, "url");
	FAULT("Strings", "{\"url\":\"http://x/%zz\"}", OGW_ERR_PROPERTY_CONSTRAINT, "url");
	FAULT("Strings", "{\"url\":\":nothing\"}", OGW_ERR_PROPERTY_CONSTRAINT, "url");
	FAULT("Strings", "{\"url\":\"\"}", OGW_ERR_PROPERTY_CONSTRAINT, "url");
}

Test(keywords, format_date_time)
{
	static const char *good[] = {
		"2025-01-01T00:00:00Z", "2025-01-01t00:00:00z", "2024-02-29T12:00:00+14:00",
		"2025-12-31T23:59:60.123456789-00:30", "2000-02-29T00:00:00.0Z",
	};
	static const char *bad[] = {
		"2025-01-01", "2025-01-01T00:00Z", "2025-01-01 00:00:00Z", "2025-1-01T00:00:00Z",
		"2025-00-10T00:00:00Z", "2025-04-31T00:00:00Z", "1900-02-29T00:00:00Z",
		"2025-01-01T24:00:00Z", "2025-01-01T00:60:00Z", "2025-01-01T00:00:61Z",
		"2025-01-01T00:00:00", "2025-01-01T00:00:00.Z", "2025-01-01T00:00:00+0100",
		"2025-01-01T00:00:00+24:00", "2025-01-01T00:00:00Zjunk", "２０２５-01-01T00:00:00Z",
	};
	char text[128];
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(text, sizeof(text), "{\"at\":\"%s\"}", good[i]);
		VALID("Strings", text);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "{\"at\":\"%s\"}", bad[i]);
		FAULT("Strings", text, OGW_ERR_PROPERTY_CONSTRAINT, "at");
	}
}

Test(keywords, items_counts)
{
	VALID("Strings", "{\"tags\":[\"a\"]}");
	VALID("Strings", "{\"tags\":[\"a\",\"abc\"]}");
	FAULT("Strings", "{\"tags\":[]}", OGW_ERR_OCCURRENCE_CONSTRAINT, "tags");
	FAULT("Strings", "{\"tags\":[\"a\",\"b\",\"c\"]}", OGW_ERR_OCCURRENCE_CONSTRAINT, "tags");
	FAULT("Strings", "{\"tags\":[\"a\",\"abcd\"]}", OGW_ERR_PROPERTY_CONSTRAINT, "tags[1]");
}

Test(keywords, ref_recursion)
{
	VALID("Tree", "{\"root\":{\"name\":\"r\",\"children\":[{\"name\":\"a\",\"children\":"
		      "[{\"name\":\"b\",\"children\":[]}]}]}}");
	VALID("Tree", "{\"again\":{\"again\":{\"root\":{\"name\":\"x\"}}}}");
	FAULT("Tree", "{\"root\":{\"name\":\"r\",\"children\":[{\"name\":\"a\",\"children\":"
		      "[{\"name\":\"toolongname\"}]}]}}",
	      OGW_ERR_PROPERTY_CONSTRAINT, "root.children[0].children[0].name");
	FAULT("Tree", "{\"again\":{\"again\":{\"extra\":1}}}", OGW_ERR_FORMAT_VIOLATION,
	      "again.again.extra");
	FAULT("Tree", "{\"root\":{\"name\":\"r\",\"children\":[{\"name\":\"1\"},{\"name\":\"2\"},"
		      "{\"name\":\"3\"},{\"name\":\"4\"}]}}",
	      OGW_ERR_OCCURRENCE_CONSTRAINT, "root.children");
}

Test(keywords, deep_recursion_is_capped)
{
	/* 200 levels of "again": the schema allows it, the depth cap does not. */
	char text[200 * 10 + 16];
	size_t o = 0;
	for (int i = 0; i < 200; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o, "{\"again\":");
	o += (size_t)snprintf(text + o, sizeof(text) - o, "{}");
	for (int i = 0; i < 200; i++)
		text[o++] = '}';
	text[o] = '\0';
	cr_expect_eq(run("Tree", text, NULL, 0), OGW_ERR_FORMAT_VIOLATION);
}

Test(keywords, messages)
{
	const struct ogw_schema *s = ogw_schema_get(kw, "Strings", false);
	struct ogw_schema_fault f;
	json_t *j = json_pack("{s:s}", "mixed", "nope");
	cr_assert_eq(ogw_schema_validate(s, j, &f), -EINVAL);
	cr_expect_str_eq(f.desc, "mixed: \"nope\" is not one of \"on\", 1, 2.5, null, true, an object");
	json_decref(j);

	j = json_pack("{s:s}", "kind", "other");
	cr_assert_eq(ogw_schema_validate(s, j, &f), -EINVAL);
	cr_expect_str_eq(f.desc, "kind: \"other\" is not \"fixed\"");
	json_decref(j);

	/* Root faults name the root; long keys and values are cut. */
	s = ogw_schema_get(kw, "Types", false);
	j = json_pack("[]");
	cr_assert_eq(ogw_schema_validate(s, j, &f), -EINVAL);
	cr_expect_str_eq(f.path, "");
	cr_expect_str_eq(f.desc, "(root): expected object, got array");
	json_decref(j);

	char key[400];
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	s = ogw_schema_get(kw, "Draft4", false);
	j = json_pack("{s:i}", key, 1);
	cr_assert_eq(ogw_schema_validate(s, j, &f), -EINVAL);
	cr_expect_lt(strlen(f.path), sizeof(f.path));
	cr_expect(strstr(f.path, "...") != NULL, "long key not marked as cut: %s", f.path);
	cr_expect(strstr(f.desc, ": property not allowed") != NULL, "%s", f.desc);
	json_decref(j);
}

Test(keywords, lookup)
{
	cr_expect_not_null(ogw_schema_get(kw, "Tree", true));
	cr_expect_not_null(ogw_schema_get(kw, "Only", true));
	cr_expect_null(ogw_schema_get(kw, "Only", false));
	cr_expect_null(ogw_schema_get(kw, "Types", true));
	cr_expect_null(ogw_schema_get(kw, "Nope", false));
	cr_expect_null(ogw_schema_get(kw, "", false));
	/* Only actions with a request count. */
	cr_expect_eq(ogw_schema_set_actions(kw), 5);
}

static void expect_load_error(const char *rel, int want, const char *const *needles)
{
	char dir[1024], err[512] = "";
	struct ogw_schema_set *s = NULL;
	fixture_path(dir, sizeof(dir), rel);
	cr_expect_eq(ogw_schema_set_load_dir(dir, &s, err, sizeof(err)), want, "%s: %s", rel, err);
	cr_expect_null(s);
	for (; *needles; needles++)
		cr_expect(strstr(err, *needles) != NULL, "%s: \"%s\" lacks \"%s\"", rel, err,
			  *needles);
}

Test(loader, unknown_keyword_names_file_and_keyword)
{
	static const char *const n[] = { "PatternRequest.json", "\"pattern\"",
					 "/properties/idTag", NULL };
	expect_load_error("tests/fixtures/schema/bad-keyword", -EINVAL, n);
}

Test(loader, unknown_format)
{
	static const char *const n[] = { "EmailRequest.json", "format \"email\"", NULL };
	expect_load_error("tests/fixtures/schema/bad-format", -EINVAL, n);
}

Test(loader, ref_cycle)
{
	static const char *const n[] = { "LoopRequest.json", "cycle", NULL };
	expect_load_error("tests/fixtures/schema/bad-ref", -EINVAL, n);
}

Test(loader, missing_and_empty_dirs)
{
	static const char *const none[] = { "no *.json", NULL };
	static const char *const missing[] = { "does-not-exist", NULL };
	expect_load_error("tests/fixtures/schema/does-not-exist", -ENOENT, missing);
	/* A folder of folders holds no schema files. */
	expect_load_error("tests/fixtures/oca-style", -ENOENT, none);
}

Test(loader, free_is_null_safe)
{
	cr_expect_null(ogw_schema_set_free(NULL));
	cr_expect_null(ogw_schema_get(NULL, "Authorize", false));
	cr_expect_eq(ogw_schema_set_actions(NULL), 0);
}

Test(oca_style, v16_names)
{
	struct ogw_schema_set *s = load_set("tests/fixtures/oca-style/1.6");
	struct ogw_schema_fault f;
	cr_expect_eq(ogw_schema_set_actions(s), 2);
	const struct ogw_schema *req = ogw_schema_get(s, "Authorize", false);
	const struct ogw_schema *resp = ogw_schema_get(s, "Authorize", true);
	cr_assert_not_null(req);
	cr_assert_not_null(resp);
	cr_assert_not_null(ogw_schema_get(s, "Heartbeat", false));
	cr_assert_not_null(ogw_schema_get(s, "Heartbeat", true));

	json_t *j = json_pack("{s:s}", "idTag", "ABC");
	cr_expect_eq(ogw_schema_validate(req, j, &f), 0);
	json_decref(j);
	j = json_pack("{s:{s:s}}", "idTagInfo", "status", "Invalid");
	cr_expect_eq(ogw_schema_validate(resp, j, &f), 0);
	json_decref(j);
	j = json_pack("{s:{s:s}}", "idTagInfo", "status", "Unknown");
	cr_expect_eq(ogw_schema_validate(resp, j, &f), -EINVAL);
	cr_expect_eq(f.err, OGW_ERR_PROPERTY_CONSTRAINT);
	cr_expect_str_eq(f.path, "idTagInfo.status");
	json_decref(j);
	ogw_schema_set_free(s);
}

Test(oca_style, v201_definitions)
{
	struct ogw_schema_set *s = load_set("tests/fixtures/oca-style/2.0.1");
	struct ogw_schema_fault f;
	cr_expect_eq(ogw_schema_set_actions(s), 1);
	const struct ogw_schema *req = ogw_schema_get(s, "Authorize", false);
	const struct ogw_schema *resp = ogw_schema_get(s, "Authorize", true);
	cr_assert_not_null(req);
	cr_assert_not_null(resp);

	json_t *j = json_pack("{s:{s:s,s:s},s:{s:s,s:i}}", "idToken", "idToken", "04A1",
			      "type", "ISO14443", "customData", "vendorId", "acme", "extra", 1);
	cr_expect_eq(ogw_schema_validate(req, j, &f), 0, "%s", f.desc);
	json_decref(j);
	j = json_pack("{s:{s:s,s:s}}", "idToken", "idToken", "04A1", "type", "RFID");
	cr_expect_eq(ogw_schema_validate(req, j, &f), -EINVAL);
	cr_expect_str_eq(f.path, "idToken.type");
	json_decref(j);
	j = json_pack("{s:{s:s,s:[]}}", "idTokenInfo", "status", "Accepted", "evseId");
	cr_expect_eq(ogw_schema_validate(resp, j, &f), -EINVAL);
	cr_expect_eq(f.err, OGW_ERR_OCCURRENCE_CONSTRAINT);
	cr_expect_str_eq(f.path, "idTokenInfo.evseId");
	json_decref(j);
	ogw_schema_set_free(s);
}
