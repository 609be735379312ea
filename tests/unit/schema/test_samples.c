/* SPDX-License-Identifier: MIT */
/*
 * The built-in schemas of each version against golden samples in
 * tests/fixtures/schema/<version>/: every file in valid/ must pass, and each
 * entry of cases.json edits one sample and expects one fault (error, path,
 * and sometimes the exact text). A version whose schemas or fixtures do not
 * exist yet is skipped, not passed.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ocppgw/ocpp.h"
#include "ocppgw/schema.h"

#include "helpers.h"

static struct ogw_schema_set *builtin_or_skip(enum ogw_ocpp v)
{
	struct ogw_schema_set *s = NULL;
	char err[512] = "";
	int r = ogw_schema_set_load_builtin(v, &s, err, sizeof(err));
	if (r == -ENOENT)
		cr_skip_test("no built-in schemas for %s yet: %s", ogw_ocpp_name(v), err);
	cr_assert_eq(r, 0, "built-in %s: %s", ogw_ocpp_name(v), err);
	return s;
}

static bool fixtures_exist(enum ogw_ocpp v)
{
	char path[1024], rel[128];
	snprintf(rel, sizeof(rel), "tests/fixtures/schema/%s/cases.json", ogw_ocpp_name(v));
	fixture_path(path, sizeof(path), rel);
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	fclose(f);
	return true;
}

/* "BootNotificationResponse.json" -> "BootNotification", response. */
static void split_name(const char *file, char *action, size_t size, bool *response)
{
	size_t n = strlen(file) - strlen(".json");
	*response = n > 8 && strncmp(file + n - 8, "Response", 8) == 0;
	if (*response)
		n -= 8;
	else if (n > 7 && strncmp(file + n - 7, "Request", 7) == 0)
		n -= 7;
	snprintf(action, size, "%.*s", (int)n, file);
}

static const struct ogw_schema *schema_for(const struct ogw_schema_set *s, const char *file)
{
	char action[64];
	bool response;
	split_name(file, action, sizeof(action), &response);
	const struct ogw_schema *sch = ogw_schema_get(s, action, response);
	cr_assert_not_null(sch, "no %s schema for %s", response ? "response" : "request", action);
	return sch;
}

static void check_valid_samples(enum ogw_ocpp v)
{
	char rel[256], dir[1024];
	size_t n = 0;

	if (!fixtures_exist(v))
		cr_skip_test("no fixtures for %s yet", ogw_ocpp_name(v));
	struct ogw_schema_set *s = builtin_or_skip(v);
	snprintf(rel, sizeof(rel), "tests/fixtures/schema/%s/valid", ogw_ocpp_name(v));
	fixture_path(dir, sizeof(dir), rel);
	DIR *d = opendir(dir);
	cr_assert_not_null(d, "%s", dir);
	for (struct dirent *de; (de = readdir(d));) {
		if (!strstr(de->d_name, ".json"))
			continue;
		char file[512];
		struct ogw_schema_fault f;
		snprintf(file, sizeof(file), "%s/%s", rel, de->d_name);
		json_t *j = load_json(file);
		int r = ogw_schema_validate(schema_for(s, de->d_name), j, &f);
		cr_expect_eq(r, 0, "%s: %s", file, f.desc);
		json_decref(j);
		n++;
	}
	closedir(d);
	cr_expect_geq(n, 6, "only %zu samples for %s", n, ogw_ocpp_name(v));
	ogw_schema_set_free(s);
}

static void check_cases(enum ogw_ocpp v)
{
	char rel[256];
	size_t i;
	json_t *c;

	if (!fixtures_exist(v))
		cr_skip_test("no fixtures for %s yet", ogw_ocpp_name(v));
	struct ogw_schema_set *s = builtin_or_skip(v);
	snprintf(rel, sizeof(rel), "tests/fixtures/schema/%s/cases.json", ogw_ocpp_name(v));
	json_t *cases = load_json(rel);
	cr_assert(json_array_size(cases) > 0);
	json_array_foreach(cases, i, c) {
		const char *sample = json_string_value(json_object_get(c, "sample"));
		const char *set = json_string_value(json_object_get(c, "set"));
		const char *del = json_string_value(json_object_get(c, "delete"));
		const char *err = json_string_value(json_object_get(c, "err"));
		const char *path = json_string_value(json_object_get(c, "path"));
		const char *desc = json_string_value(json_object_get(c, "desc"));
		char file[512];
		struct ogw_schema_fault f;

		cr_assert(sample && (set || del), "case %zu is malformed", i);
		snprintf(file, sizeof(file), "tests/fixtures/schema/%s/valid/%s", ogw_ocpp_name(v),
			 sample);
		json_t *j = load_json(file);
		if (set)
			edit_at(j, set, json_incref(json_object_get(c, "value")));
		else
			edit_at(j, del, NULL);
		int r = ogw_schema_validate(schema_for(s, sample), j, &f);
		if (!err) {
			cr_expect_eq(r, 0, "case %zu (%s %s): unexpected fault %s", i, sample,
				     set ? set : del, f.desc);
		} else {
			enum ogw_err want;
			cr_assert_eq(ogw_err_parse(err, &want), 0, "case %zu: bad err %s", i, err);
			cr_expect_eq(r, -EINVAL, "case %zu (%s %s): accepted", i, sample,
				     set ? set : del);
			cr_expect_eq(f.err, want, "case %zu (%s %s): err %d, want %s (%s)", i,
				     sample, set ? set : del, f.err, err, f.desc);
			cr_expect_str_eq(f.path, path ? path : "", "case %zu (%s): path", i, sample);
			if (desc)
				cr_expect_str_eq(f.desc, desc, "case %zu (%s): desc", i, sample);
		}
		json_decref(j);
	}
	json_decref(cases);
	ogw_schema_set_free(s);
}

/* The built-in copy and the folder it came from hold the same actions. */
static void check_builtin_matches_dir(enum ogw_ocpp v)
{
	struct ogw_schema_set *b = builtin_or_skip(v);
	char rel[64];
	snprintf(rel, sizeof(rel), "schemas/%s", ogw_ocpp_name(v));
	struct ogw_schema_set *d = load_set(rel);
	cr_expect_eq(ogw_schema_set_actions(b), ogw_schema_set_actions(d));
	cr_expect_not_null(ogw_schema_get(b, "BootNotification", false));
	cr_expect_not_null(ogw_schema_get(b, "BootNotification", true));
	cr_expect_null(ogw_schema_get(b, "BootNotificationRequest", false));
	cr_expect_null(ogw_schema_get(b, "bootnotification", false));
	ogw_schema_set_free(b);
	ogw_schema_set_free(d);
}

Test(samples, valid_16) { check_valid_samples(OGW_OCPP16); }
Test(samples, cases_16) { check_cases(OGW_OCPP16); }
Test(samples, builtin_16) { check_builtin_matches_dir(OGW_OCPP16); }
Test(samples, valid_201) { check_valid_samples(OGW_OCPP201); }
Test(samples, cases_201) { check_cases(OGW_OCPP201); }
Test(samples, builtin_201) { check_builtin_matches_dir(OGW_OCPP201); }
Test(samples, valid_21) { check_valid_samples(OGW_OCPP21); }
Test(samples, cases_21) { check_cases(OGW_OCPP21); }
Test(samples, builtin_21) { check_builtin_matches_dir(OGW_OCPP21); }

Test(samples, action_counts)
{
	/* REFERENCE.md §2: 28 + 11 actions in 1.6, 64 in 2.0.1, 91 in 2.1. */
	static const size_t want[OGW_OCPP_COUNT] = { 39, 64, 91 };
	size_t checked = 0;
	for (int v = 0; v < OGW_OCPP_COUNT; v++) {
		struct ogw_schema_set *s = NULL;
		char err[512];
		if (ogw_schema_set_load_builtin((enum ogw_ocpp)v, &s, err, sizeof(err)) == -ENOENT)
			continue;
		cr_expect_eq(ogw_schema_set_actions(s), want[v], "%s: %zu actions",
			     ogw_ocpp_name((enum ogw_ocpp)v), ogw_schema_set_actions(s));
		ogw_schema_set_free(s);
		checked++;
	}
	if (!checked)
		cr_skip_test("no built-in schemas yet");
}
