/* SPDX-License-Identifier: MIT */
/*
 * The helpers every version pair shares (declared in common.h): copying
 * and mapping JSON members, reading RFC 3339 times, the outcomes a
 * translator function gives, and the environment calls wrapped with the
 * error handling each pair would otherwise repeat. No pair's rules here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ocppgw/json.h"
#include "ocppgw/translator.h"
#include "common.h"

int ogw_tr_copy(json_t *to, const char *as, const json_t *from, const char *key)
{
	json_t *v = json_object_get(from, key);
	if (!v)
		return 0;
	return json_object_set(to, as ? as : key, v) ? -ENOMEM : 0;
}

const char *ogw_tr_map_str(const struct ogw_tr_map *m, size_t n, const char *from,
			   const char *dflt)
{
	if (from)
		for (size_t i = 0; i < n; i++)
			if (!strcmp(m[i].from, from))
				return m[i].to;
	return dflt;
}

int ogw_tr_time_ms(const char *s, int64_t *ret)
{
	int y, mo, d, h, mi, sec, n = 0, digits = 0;
	int64_t ms = 0, off = 0, era, yoe, doy, doe;

	if (!s || sscanf(s, "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 ||
	    !n || y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -EINVAL;
	s += n;
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++)
			if (digits++ < 3)
				ms = ms * 10 + (*s - '0');
	while (digits > 0 && digits < 3)
		ms *= 10, digits++;
	if (*s == '+' || *s == '-') {
		int oh, om;
		if (sscanf(s + 1, "%2d:%2d%n", &oh, &om, &n) != 2 || s[1 + n] || oh > 23 || om > 59)
			return -EINVAL;
		off = (*s == '-' ? -1 : 1) * ((int64_t)oh * 60 + om) * 60000;
	} else if ((*s != 'Z' && *s != 'z') || s[1]) {
		return -EINVAL;
	}
	/* days from 1970-01-01 of a proleptic Gregorian date (the year is 0..9999) */
	y -= mo <= 2;
	era = y / 400;
	yoe = y - era * 400;
	doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	*ret = ((era * 146097 + doe - 719468) * 86400 + (int64_t)h * 3600 + mi * 60 + sec) * 1000 +
	       ms - off;
	return 0;
}

int ogw_tr_data_to16(json_t *to, const json_t *from)
{
	json_t *d = json_object_get(from, "data");
	char *text;
	int r;

	if (!d || json_is_string(d))
		return ogw_tr_copy(to, NULL, from, "data");
	text = ogw_json_text(d, JSON_COMPACT | JSON_ENCODE_ANY);
	r = text && !json_object_set_new(to, "data", json_string(text)) ? 0 : -ENOMEM;
	free(text);
	return r;
}

int ogw_tr_forward(struct ogw_tr_out *out, const char *action, json_t *payload, json_t *memo)
{
	if (!payload) {
		json_decref(memo);
		return -ENOMEM;
	}
	out->outcome = OGW_TR_FORWARD;
	out->action = action;
	out->payload = payload;
	out->memo = memo;
	return 0;
}

int ogw_tr_status_result(const json_t *result, const struct ogw_tr_map *m, size_t n,
			 json_t **ret)
{
	const char *s = tr_str(result, "status");
	if (m)
		s = ogw_tr_map_str(m, n, s, "Rejected");
	*ret = json_pack("{s:s}", "status", s ? s : "Rejected");
	return *ret ? 0 : -ENOMEM;
}

int ogw_tr_result_status(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
			 json_t **ret)
{
	(void)env;
	(void)memo;
	return ogw_tr_status_result(result, NULL, 0, ret);
}

int ogw_tr_result_empty(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
			json_t **ret)
{
	(void)env;
	(void)memo;
	(void)result;
	*ret = json_object();
	return *ret ? 0 : -ENOMEM;
}

void ogw_tr_emit_then(struct ogw_tr_env *env, enum ogw_tr_dir dir, const char *action,
		      json_t *payload, ogw_tr_done_fn done, void *user)
{
	if (!payload || ogw_tr_emit(env, dir, action, payload, done, user) < 0)
		done(env, user, NULL);
}

void ogw_tr_emit_notify(struct ogw_tr_env *env, const char *action, json_t *payload)
{
	if (payload)
		ogw_tr_emit(env, OGW_TR_UP, action, payload, NULL, NULL);
}

void ogw_tr_answer_later(struct ogw_tr_env *env, struct ogw_tr_pending *p, json_t *payload)
{
	ogw_tr_answer(env, p, payload, payload ? OGW_ERR_NONE : OGW_ERR_INTERNAL,
		      payload ? NULL : "out of memory");
}

int ogw_tr_state_put_new(struct ogw_tr_env *env, const char *key, json_t *value)
{
	return value ? ogw_tr_state_put(env, key, value) : -ENOMEM;
}

const char *ogw_tr_key_str(char buf[OGW_TR_KEY_MAX], const char *prefix, const char *id)
{
	snprintf(buf, OGW_TR_KEY_MAX, "%s:%s", prefix, id ? id : "");
	return buf;
}

const char *ogw_tr_key_num(char buf[OGW_TR_KEY_MAX], const char *prefix, json_int_t n)
{
	snprintf(buf, OGW_TR_KEY_MAX, "%s:%lld", prefix, (long long)n);
	return buf;
}
