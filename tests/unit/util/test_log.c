/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for log lines: the text layout, that JSON lines are valid JSON
 * with the right fields even for hostile ids and over-long messages, level
 * filtering and parsing. stderr is captured through a pipe.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "ocppgw/log.h"

static int saved_stderr = -1;
static int pipe_fds[2];

static void capture_start(void)
{
	cr_assert_eq(pipe(pipe_fds), 0);
	/* big lines must not block the writer */
	fcntl(pipe_fds[1], F_SETPIPE_SZ, 1 << 20);
	saved_stderr = dup(STDERR_FILENO);
	cr_assert_geq(saved_stderr, 0);
	cr_assert_eq(dup2(pipe_fds[1], STDERR_FILENO), STDERR_FILENO);
}

/* Returns what was written, NUL-terminated, in @buf. */
static size_t capture_end(char *buf, size_t size)
{
	size_t n = 0;
	ssize_t r;

	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	close(pipe_fds[1]);
	while (n + 1 < size && (r = read(pipe_fds[0], buf + n, size - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = '\0';
	close(pipe_fds[0]);
	return n;
}

static char out[1 << 16];

Test(log, text_layout_all_fields)
{
	struct ogw_log_ctx ctx = { "CP001", "south", "BootNotification", "4f2a" };

	ogw_log_setup(OGW_LOG_INFO, false);
	capture_start();
	ogw_info(&ctx, "accepted %d", 7);
	capture_end(out, sizeof(out));
	cr_assert_eq(strlen(out), 24 + strlen(" INFO  [CP001 south] BootNotification 4f2a: accepted 7\n"), "%s", out);
	cr_assert_str_eq(out + 24, " INFO  [CP001 south] BootNotification 4f2a: accepted 7\n");
	cr_assert_eq(out[23], 'Z');
}

Test(log, text_layout_partial_fields)
{
	struct ogw_log_ctx charger_only = { .charger = "CP9" };
	struct ogw_log_ctx id_only = { .msg_id = "77" };

	ogw_log_setup(OGW_LOG_DEBUG, false);
	capture_start();
	ogw_warn(&charger_only, "a");
	ogw_err(NULL, "b");
	ogw_debug(&id_only, "c");
	capture_end(out, sizeof(out));
	cr_assert_not_null(strstr(out, " WARN  [CP9] a\n"), "%s", out);
	cr_assert_not_null(strstr(out, " ERROR b\n"), "%s", out);
	cr_assert_not_null(strstr(out, " DEBUG 77: c\n"), "%s", out);
}

Test(log, text_escapes_control_bytes)
{
	struct ogw_log_ctx ctx = { .charger = "CP\n001" };

	ogw_log_setup(OGW_LOG_INFO, false);
	capture_start();
	ogw_info(&ctx, "line\nforged \x01 \xff");
	capture_end(out, sizeof(out));
	cr_assert_eq(strchr(out, '\n'), out + strlen(out) - 1, "one line only: %s", out);
	cr_assert_not_null(strstr(out, "[CP\\n001] line\\nforged \\x01 \\xff\n"), "%s", out);
}

Test(log, level_filter)
{
	ogw_log_setup(OGW_LOG_WARN, true);
	cr_assert(ogw_log_enabled(OGW_LOG_ERR));
	cr_assert(ogw_log_enabled(OGW_LOG_WARN));
	cr_assert_not(ogw_log_enabled(OGW_LOG_INFO));
	capture_start();
	ogw_info(NULL, "hidden");
	ogw_debug(NULL, "hidden");
	ogw_warn(NULL, "shown");
	capture_end(out, sizeof(out));
	cr_assert_null(strstr(out, "hidden"));
	cr_assert_not_null(strstr(out, "shown"));
}

Test(log, level_parse)
{
	enum ogw_log_level l = OGW_LOG_INFO;

	cr_assert_eq(ogw_log_level_parse("error", &l), 0);
	cr_assert_eq(l, OGW_LOG_ERR);
	cr_assert_eq(ogw_log_level_parse("warn", &l), 0);
	cr_assert_eq(l, OGW_LOG_WARN);
	cr_assert_eq(ogw_log_level_parse("info", &l), 0);
	cr_assert_eq(l, OGW_LOG_INFO);
	cr_assert_eq(ogw_log_level_parse("debug", &l), 0);
	cr_assert_eq(l, OGW_LOG_DEBUG);
	cr_assert_eq(ogw_log_level_parse("verbose", &l), -EINVAL);
	cr_assert_eq(ogw_log_level_parse("", &l), -EINVAL);
	cr_assert_eq(ogw_log_level_parse(NULL, &l), -EINVAL);
	cr_assert_eq(l, OGW_LOG_DEBUG, "untouched on failure");
}

/* Parses every line of @text as JSON; returns the number of lines. */
static int check_json_lines(const char *text, json_t **last)
{
	const char *p = text;
	int lines = 0;

	while (*p) {
		const char *nl = strchr(p, '\n');
		json_error_t err;
		json_t *j;

		cr_assert_not_null(nl, "unterminated line");
		j = json_loadb(p, (size_t)(nl - p), 0, &err);
		cr_assert_not_null(j, "invalid JSON line (%s): %.*s", err.text, (int)(nl - p), p);
		cr_assert(json_is_object(j));
		cr_assert(json_is_string(json_object_get(j, "ts")));
		cr_assert(json_is_string(json_object_get(j, "level")));
		cr_assert(json_is_string(json_object_get(j, "msg")));
		if (last) {
			json_decref(*last);
			*last = j;
		} else {
			json_decref(j);
		}
		lines++;
		p = nl + 1;
	}
	return lines;
}

Test(log, json_fields)
{
	struct ogw_log_ctx ctx = { "CP001", "north", "Heartbeat", "id-1" };
	json_t *j = NULL;

	ogw_log_setup(OGW_LOG_INFO, true);
	capture_start();
	ogw_info(&ctx, "relayed in %d ms", 3);
	capture_end(out, sizeof(out));
	cr_assert_eq(check_json_lines(out, &j), 1);
	cr_assert_str_eq(json_string_value(json_object_get(j, "level")), "info");
	cr_assert_str_eq(json_string_value(json_object_get(j, "charger")), "CP001");
	cr_assert_str_eq(json_string_value(json_object_get(j, "leg")), "north");
	cr_assert_str_eq(json_string_value(json_object_get(j, "action")), "Heartbeat");
	cr_assert_str_eq(json_string_value(json_object_get(j, "msg_id")), "id-1");
	cr_assert_str_eq(json_string_value(json_object_get(j, "msg")), "relayed in 3 ms");
	cr_assert_eq(strlen(json_string_value(json_object_get(j, "ts"))), 24);
	json_decref(j);
}

Test(log, json_omits_absent_fields)
{
	json_t *j = NULL;

	ogw_log_setup(OGW_LOG_INFO, true);
	capture_start();
	ogw_err(NULL, "started");
	capture_end(out, sizeof(out));
	cr_assert_eq(check_json_lines(out, &j), 1);
	cr_assert_eq(json_object_size(j), 3);
	cr_assert_str_eq(json_string_value(json_object_get(j, "level")), "error");
	json_decref(j);
}

Test(log, json_hostile_strings)
{
	struct ogw_log_ctx ctx = { .charger = "C\"P\\1\n\x02", .msg_id = "\xc3\x28", .action = "\xe2\x82\xac" };
	json_t *j = NULL;

	ogw_log_setup(OGW_LOG_INFO, true);
	capture_start();
	ogw_info(&ctx, "tab\there \x7f \"q\" \\ \xff\xfe end");
	capture_end(out, sizeof(out));
	cr_assert_eq(check_json_lines(out, &j), 1, "%s", out);
	cr_assert_str_eq(json_string_value(json_object_get(j, "charger")), "C\"P\\1\n\x02");
	cr_assert_str_eq(json_string_value(json_object_get(j, "msg_id")), "\xef\xbf\xbd(");
	cr_assert_str_eq(json_string_value(json_object_get(j, "action")), "\xe2\x82\xac");
	cr_assert_str_eq(json_string_value(json_object_get(j, "msg")),
			 "tab\there \x7f \"q\" \\ \xef\xbf\xbd\xef\xbf\xbd end");
	json_decref(j);
}

Test(log, json_long_lines_stay_valid)
{
	static char big[8000];
	struct ogw_log_ctx ctx = { .charger = big };
	json_t *j = NULL;

	/* quotes double in size when escaped: the cut must not split an escape */
	memset(big, '"', sizeof(big) - 1);
	ogw_log_setup(OGW_LOG_INFO, true);
	capture_start();
	ogw_info(NULL, "%s", big);
	ogw_info(&ctx, "short");
	memset(big, 'x', sizeof(big) - 1);
	memcpy(big + 4000, "\xe2\x82\xac\xe2\x82\xac", 6);
	ogw_info(&ctx, "%s", big);
	capture_end(out, sizeof(out));
	cr_assert_eq(check_json_lines(out, &j), 3, "%s", out);
	cr_assert_leq(strlen(out), 3 * 4096);
	json_decref(j);
}
