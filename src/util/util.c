/* SPDX-License-Identifier: MIT */
/*
 * Clocks, RFC 3339 time text, hex, percent-encoding and secret wiping. Pure
 * helpers with no state; randomness lives in random.c and logging in log.c.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ocppgw/util.h"

uint64_t ogw_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* @t (unix s) as RFC 3339 UTC, with milliseconds when @ms >= 0. */
static void format_time(time_t t, int ms, char ret[32])
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || tm.tm_year < -1900 || tm.tm_year > 9999 - 1900) {
		/* A clock outside RFC 3339's four-digit years: keep the text well formed. */
		t = 0;
		gmtime_r(&t, &tm);
	}
	/* The modulos only tell the compiler the field widths. */
	int n = snprintf(ret, 32, "%04u-%02u-%02uT%02u:%02u:%02u",
			 (unsigned int)(tm.tm_year + 1900) % 10000u,
			 (unsigned int)(tm.tm_mon + 1) % 100u, (unsigned int)tm.tm_mday % 100u,
			 (unsigned int)tm.tm_hour % 100u, (unsigned int)tm.tm_min % 100u,
			 (unsigned int)tm.tm_sec % 100u);
	if (ms >= 0)
		snprintf(ret + n, 32 - (size_t)n, ".%03uZ", (unsigned int)ms % 1000u);
	else
		snprintf(ret + n, 32 - (size_t)n, "Z");
}

void ogw_time_rfc3339(char ret[32])
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	format_time(ts.tv_sec, (int)(ts.tv_nsec / 1000000), ret);
}

/* Reads exactly @n digits at *@p (advancing it); -1 when they are not there. */
static int read_digits(const char **p, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++, (*p)++) {
		if (**p < '0' || **p > '9')
			return -1;
		v = v * 10 + (**p - '0');
	}
	return v;
}

int ogw_time_parse_rfc3339(const char *s, int64_t *ret)
{
	struct tm tm = { 0 };
	const char *p = s;
	int off = 0;

	if (!s)
		return -EINVAL;
	int year = read_digits(&p, 4), mon = (*p++ == '-') ? read_digits(&p, 2) : -1;
	int day = mon >= 0 && *p++ == '-' ? read_digits(&p, 2) : -1;
	int hour = day >= 0 && (*p == 'T' || *p == 't' || *p == ' ') ? (p++, read_digits(&p, 2)) : -1;
	int min = hour >= 0 && *p++ == ':' ? read_digits(&p, 2) : -1;
	int sec = min >= 0 && *p++ == ':' ? read_digits(&p, 2) : -1;
	if (year < 0 || mon < 1 || mon > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 ||
	    min < 0 || min > 59 || sec < 0 || sec > 60)
		return -EINVAL;
	if (*p == '.') {
		if (p[1] < '0' || p[1] > '9')
			return -EINVAL;
		while (*++p >= '0' && *p <= '9')
			;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		const char *q = p + 1;
		int oh = read_digits(&q, 2), om = oh >= 0 && *q++ == ':' ? read_digits(&q, 2) : -1;

		if (oh < 0 || oh > 23 || om < 0 || om > 59)
			return -EINVAL;
		off = (*p == '+' ? 1 : -1) * (oh * 3600 + om * 60);
		p = q;
	} else {
		return -EINVAL;
	}
	if (*p)
		return -EINVAL;
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	time_t t = timegm(&tm);
	/* timegm normalises 2026-02-31 to March: such a date is not a date */
	struct tm back;
	if (!gmtime_r(&t, &back) || back.tm_mday != day)
		return -EINVAL;
	*ret = (int64_t)t - off;
	return 0;
}

void ogw_time_format_rfc3339(int64_t t, char ret[32])
{
	format_time((time_t)t, -1, ret);
}

static int hex_val(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void ogw_hex_encode(const void *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *p = in;

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 0xf];
	}
	out[2 * len] = '\0';
}

int ogw_hex_decode(const char *in, size_t len, void *out, size_t outsz, size_t *ret_len)
{
	unsigned char *p = out;

	if (len % 2)
		return -EINVAL;
	if (len / 2 > outsz)
		return -ENOSPC;
	for (size_t i = 0; i < len; i += 2) {
		int hi = hex_val((unsigned char)in[i]);
		int lo = hex_val((unsigned char)in[i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		p[i / 2] = (unsigned char)(hi << 4 | lo);
	}
	if (ret_len)
		*ret_len = len / 2;
	return 0;
}

void ogw_memzero(void *p, size_t len)
{
	if (p && len)
		explicit_bzero(p, len);
}

void ogw_percent_encode(const char *in, char *out, size_t outsz)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *in && o + 4 <= outsz; in++) {
		unsigned char c = (unsigned char)*in;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	if (outsz)
		out[o] = '\0';
}

int ogw_percent_decode(const char *in, size_t len, char *out, size_t outsz)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c == '%') {
			if (len - i < 3 || ogw_hex_decode(in + i + 1, 2, &c, 1, NULL) < 0)
				return -EINVAL;
			i += 2;
		}
		if (!c || o + 1 >= outsz)
			return -EINVAL;
		out[o++] = (char)c;
	}
	if (!outsz)
		return -EINVAL;
	out[o] = '\0';
	return 0;
}

/* OCPP 2.0.1 Part 2 identifierString is a-z, A-Z, 0-9 and "*-_=:+|@.";
 * Part 4 §3.1.1 takes ':' out (it ends the Basic auth user name). Case is
 * kept as given. "." and ".." are refused although made of allowed
 * characters: appended to the CSMS URL they would name another path. */
const char *ogw_identity_check(const char *id, size_t len)
{
	static const char punct[] = "*-_=+|@.";
	size_t dots = 0;

	if (len == 0)
		return "identity is empty";
	if (len > OGW_ID_MAX)
		return "identity is longer than 48 characters";
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)id[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    (c && strchr(punct, c))) {
			dots += c == '.';
			continue;
		}
		if (c == '\0')
			return "identity contains a NUL byte";
		if (c < 0x20 || c == 0x7f)
			return "identity contains a control character";
		if (c >= 0x80)
			return "identity contains a byte outside US-ASCII";
		if (c == ':')
			return "identity contains ':', the Basic auth separator";
		return "identity contains a character outside a-z A-Z 0-9 * - _ = + | @ .";
	}
	if (dots == len && len <= 2)
		return "identity is '.' or '..', a path segment";
	return NULL;
}
