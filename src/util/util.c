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

void ogw_time_rfc3339(char ret[32])
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (!gmtime_r(&ts.tv_sec, &tm) || tm.tm_year < -1900 || tm.tm_year > 9999 - 1900) {
		/* A clock outside RFC 3339's four-digit years: keep the text well formed. */
		memcpy(ret, "1970-01-01T00:00:00.000Z", 25);
		return;
	}
	/* The modulos only tell the compiler the field widths. */
	snprintf(ret, 32, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ",
		 (unsigned int)(tm.tm_year + 1900) % 10000u, (unsigned int)(tm.tm_mon + 1) % 100u,
		 (unsigned int)tm.tm_mday % 100u, (unsigned int)tm.tm_hour % 100u,
		 (unsigned int)tm.tm_min % 100u, (unsigned int)tm.tm_sec % 100u,
		 (unsigned int)(ts.tv_nsec / 1000000) % 1000u);
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
