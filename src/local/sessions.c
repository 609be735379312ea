/* SPDX-License-Identifier: MIT */
/*
 * The transaction log as the operator reads it: store rows turned into
 * sessions (RFC 3339 times, kWh), the CSV both `ocppgw sessions` and
 * GET /api/sessions?format=csv print (one writer, so they cannot differ),
 * energy sums per charger and per token, and the dates their filters take.
 * It reads nothing itself: callers pass the rows.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ocppgw/local.h"
#include "ocppgw/util.h"

/* A store row (see ogw_store_tx_list) as the operator sees it: times as
 * RFC 3339 (null when unknown or open), energy in kWh. */
static json_t *session_of(const json_t *row)
{
	char started[32] = "", stopped[32] = "";
	json_int_t t0 = json_integer_value(json_object_get(row, "started"));
	json_int_t t1 = json_integer_value(json_object_get(row, "stopped"));
	const json_t *wh = json_object_get(row, "energy_wh");

	if (t0)
		ogw_time_format_rfc3339(t0, started);
	if (t1)
		ogw_time_format_rfc3339(t1, stopped);
	return json_pack("{s:O, s:O, s:O, s:O, s:O, s:o, s:o, s:o, s:O, s:O}",
			 "charger", json_object_get(row, "charger"),
			 "tx_id", json_object_get(row, "tx_id"),
			 "evse", json_object_get(row, "evse"),
			 "connector", json_object_get(row, "connector"),
			 "id_tag", json_object_get(row, "id_tag"),
			 "started", t0 ? json_string(started) : json_null(),
			 "stopped", t1 ? json_string(stopped) : json_null(),
			 "energy_kwh", json_is_number(wh) ? json_real(json_number_value(wh) / 1000)
							  : json_null(),
			 "stop_reason", json_object_get(row, "stop_reason"),
			 "offline", json_object_get(row, "offline"));
}

json_t *ogw_sessions_view(const json_t *rows)
{
	json_t *out = json_array();
	size_t i;
	const json_t *row;
	json_array_foreach(rows, i, row) {
		if (!out || json_array_append_new(out, session_of(row)) < 0) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}

/* RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled. */
static void csv_field(FILE *out, const char *s, bool last)
{
	if (s && strpbrk(s, ",\"\r\n")) {
		fputc('"', out);
		for (const char *p = s; *p; p++) {
			if (*p == '"')
				fputc('"', out);
			fputc(*p, out);
		}
		fputc('"', out);
	} else if (s) {
		fputs(s, out);
	}
	fputc(last ? '\n' : ',', out);
}

static const char *const csv_columns[] = {
	"charger", "tx_id", "evse", "connector", "id_tag", "started", "stopped", "energy_kwh",
	"stop_reason", "offline",
};
#define N_COLUMNS (sizeof(csv_columns) / sizeof(csv_columns[0]))

char *ogw_sessions_csv(const json_t *sessions, size_t *ret_len)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	if (!out)
		return NULL;
	const json_t *s;
	size_t i;
	for (size_t c = 0; c < N_COLUMNS; c++)
		csv_field(out, csv_columns[c], c + 1 == N_COLUMNS);
	json_array_foreach(sessions, i, s) {
		for (size_t c = 0; c < N_COLUMNS; c++) {
			const json_t *v = json_object_get(s, csv_columns[c]);
			char num[32];
			const char *text = json_string_value(v);
			if (json_is_integer(v))
				snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
			else if (json_is_real(v))
				snprintf(num, sizeof(num), "%.3f", json_real_value(v));
			else if (json_is_boolean(v))
				snprintf(num, sizeof(num), "%s", json_is_true(v) ? "true" : "false");
			if (json_is_number(v) || json_is_boolean(v))
				text = num;
			csv_field(out, text, c + 1 == N_COLUMNS);
		}
	}
	bool failed = ferror(out) != 0;
	if (fclose(out) != 0 || failed) {
		free(buf);
		return NULL;
	}
	*ret_len = len;
	return buf;
}

/* @sums[@key] += @kwh */
static int add_to(json_t *sums, const char *key, double kwh)
{
	json_t *cur = json_object_get(sums, key);
	return json_object_set_new(sums, key, json_real(json_number_value(cur) + kwh));
}

json_t *ogw_sessions_sums(const json_t *sessions)
{
	json_t *by_charger = json_object(), *by_token = json_object();
	double total = 0;
	const json_t *s;
	size_t i;
	int r = by_charger && by_token ? 0 : -1;
	json_array_foreach(sessions, i, s) {
		const json_t *kwh = json_object_get(s, "energy_kwh");
		if (r < 0 || !json_is_number(kwh))
			continue;
		const char *tag = json_string_value(json_object_get(s, "id_tag"));
		total += json_number_value(kwh);
		r = add_to(by_charger, json_string_value(json_object_get(s, "charger")),
			   json_number_value(kwh));
		if (r == 0)
			r = add_to(by_token, tag ? tag : "", json_number_value(kwh));
	}
	if (r < 0) {
		json_decref(by_charger);
		json_decref(by_token);
		return NULL;
	}
	return json_pack("{s:f, s:o, s:o}", "energy_kwh", total, "by_charger", by_charger,
			 "by_token", by_token);
}

int ogw_sessions_parse_time(const char *s, int64_t *ret)
{
	struct tm tm = { 0 };
	const char *end = strptime(s, "%Y-%m-%d", &tm);
	if (end && !*end) {
		/* strptime takes 2026-02-31; timegm would make it March 3 */
		int mday = tm.tm_mday, mon = tm.tm_mon;
		time_t t = timegm(&tm);
		if (tm.tm_mday != mday || tm.tm_mon != mon)
			return -EINVAL;
		*ret = (int64_t)t;
		return 0;
	}
	return ogw_time_parse_rfc3339(s, ret);
}
