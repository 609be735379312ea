/* SPDX-License-Identifier: MIT */
/*
 * `ocppgw validate` logic: a golden capture per version whose schemas and
 * fixtures exist (tests/fixtures/schema/<version>/capture.txt) must print
 * exactly capture.expected; plus the edge cases of an empty capture and an
 * undecodable line.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocppgw/ocpp.h"
#include "ocppgw/schema.h"

#include "helpers.h"

static char *slurp(FILE *f)
{
	long n;
	cr_assert_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	char *buf = calloc(1, (size_t)n + 1);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	return buf;
}

/* Runs the checker on @text and returns its output (free it). */
static char *check_text(const struct ogw_schema_set *s, enum ogw_ocpp v, const char *text,
			int *ret)
{
	FILE *in = fmemopen((void *)text, strlen(text), "r");
	FILE *out = tmpfile();
	cr_assert(in && out);
	*ret = ogw_schema_check_capture(s, v, in, "test", out);
	char *res = slurp(out);
	fclose(in);
	fclose(out);
	return res;
}

static void check_golden(enum ogw_ocpp v)
{
	char rel[256], path[1024], err[512];
	struct ogw_schema_set *s = NULL;

	snprintf(rel, sizeof(rel), "tests/fixtures/schema/%s/capture.txt", ogw_ocpp_name(v));
	fixture_path(path, sizeof(path), rel);
	FILE *in = fopen(path, "r");
	if (!in)
		cr_skip_test("no capture fixture for %s yet", ogw_ocpp_name(v));
	int r = ogw_schema_set_load_builtin(v, &s, err, sizeof(err));
	if (r == -ENOENT) {
		fclose(in);
		cr_skip_test("%s", err);
	}
	cr_assert_eq(r, 0, "%s", err);

	FILE *out = tmpfile();
	cr_assert_not_null(out);
	r = ogw_schema_check_capture(s, v, in, rel, out);
	char *got = slurp(out);
	fclose(out);
	fclose(in);

	snprintf(rel, sizeof(rel), "tests/fixtures/schema/%s/capture.expected", ogw_ocpp_name(v));
	fixture_path(path, sizeof(path), rel);
	FILE *ef = fopen(path, "r");
	cr_assert_not_null(ef, "%s", path);
	char *want = slurp(ef);
	fclose(ef);

	cr_expect_str_eq(got, want);
	cr_expect_eq(r, 1, "a capture with invalid frames returns 1");
	free(got);
	free(want);
	ogw_schema_set_free(s);
}

Test(capture, golden_16) { check_golden(OGW_OCPP16); }
Test(capture, golden_201) { check_golden(OGW_OCPP201); }
Test(capture, golden_21) { check_golden(OGW_OCPP21); }

Test(capture, all_valid_returns_0)
{
	struct ogw_schema_set *s = load_set("tests/fixtures/oca-style/1.6");
	int r;
	char *out = check_text(s, OGW_OCPP16,
			       "[2,\"1\",\"Heartbeat\",{}]\r\n\r\n"
			       "[3,\"1\",{\"currentTime\":\"2025-01-01T00:00:00Z\"}]", &r);
	cr_expect_str_eq(out, "line 1: OK CALL Heartbeat 1\n"
			      "line 3: OK CALLRESULT Heartbeat 1\n"
			      "2 frames, 0 invalid\n");
	cr_expect_eq(r, 0);
	free(out);
	ogw_schema_set_free(s);
}

Test(capture, empty_and_undecodable)
{
	struct ogw_schema_set *s = load_set("tests/fixtures/oca-style/1.6");
	int r;
	char *out = check_text(s, OGW_OCPP16, "", &r);
	cr_expect_str_eq(out, "0 frames, 0 invalid\n");
	cr_expect_eq(r, 0);
	free(out);

	out = check_text(s, OGW_OCPP16, "not json\n[2,\"1\",\"Authorize\"]\n", &r);
	cr_expect(strncmp(out, "line 1: INVALID - -1: ", 22) == 0, "%s", out);
	cr_expect(strstr(out, "\nline 2: INVALID - 1: ") != NULL, "%s", out);
	cr_expect(strstr(out, "\n2 frames, 2 invalid\n") != NULL, "%s", out);
	cr_expect_eq(r, 1);
	free(out);
	ogw_schema_set_free(s);
}

Test(capture, response_without_schema)
{
	/* keywords/ has TypesRequest.json but no TypesResponse.json. */
	struct ogw_schema_set *s = load_set("tests/fixtures/schema/keywords");
	int r;
	char *out = check_text(s, OGW_OCPP16,
			       "[2,\"t\",\"Types\",{\"s\":\"x\",\"must\":1}]\n[3,\"t\",{}]\n", &r);
	cr_expect_str_eq(out, "line 1: OK CALL Types t\n"
			      "line 2: INVALID Types t: no response schema for this action\n"
			      "2 frames, 1 invalid\n");
	cr_expect_eq(r, 1);
	free(out);
	ogw_schema_set_free(s);
}
