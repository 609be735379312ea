/* SPDX-License-Identifier: MIT */
/*
 * A grid meter's reading, decoded: Modbus registers (int16 to float32, in
 * either word order, scaled) and a number found by an RFC 6901 JSON pointer
 * in an HTTP answer. Pure functions, no I/O; the poller
 * (src/features/balance/meter_poll.c) fetches, balance.c uses the result.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ocppgw/config.h"
#include "ocppgw/lb.h"

int ogw_lb_meter_words(enum ogw_meter_type type)
{
	return type == OGW_REG_INT16 || type == OGW_REG_UINT16 ? 1 : 2;
}

int ogw_lb_meter_decode(const struct ogw_meter_regs *r, const uint16_t *words, double *ret)
{
	/* Modbus sends each register high byte first (Modbus Application
	 * Protocol v1.1b3 §4.2); only the order of the two words of a 32-bit
	 * value differs between meters. */
	uint32_t hi = words[0], lo = ogw_lb_meter_words(r->type) == 2 ? words[1] : 0;
	uint32_t u32;
	double v;
	float f;

	if (r->low_word_first) {
		uint32_t t = hi;
		hi = lo;
		lo = t;
	}
	u32 = hi << 16 | lo;
	switch (r->type) {
	case OGW_REG_INT16:
		v = (int16_t)words[0];
		break;
	case OGW_REG_UINT16:
		v = words[0];
		break;
	case OGW_REG_INT32:
		v = (int32_t)u32;
		break;
	case OGW_REG_UINT32:
		v = u32;
		break;
	case OGW_REG_FLOAT32:
		memcpy(&f, &u32, sizeof(f));
		v = f;
		break;
	default:
		return -EINVAL;
	}
	v *= r->scale;
	if (!isfinite(v))
		return -EINVAL;
	*ret = v;
	return 0;
}

/* One reference token of @ptr starting at @p (after its '/'), unescaped
 * (~1 is '/', ~0 is '~'); false for a '~' followed by anything else. */
static bool pointer_token(const char *p, size_t n, char *out, size_t outlen)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (c == '~') {
			if (i + 1 >= n || (p[i + 1] != '0' && p[i + 1] != '1'))
				return false;
			c = p[++i] == '0' ? '~' : '/';
		}
		if (o + 1 >= outlen)
			return false;
		out[o++] = c;
	}
	out[o] = '\0';
	return true;
}

const json_t *ogw_lb_json_pointer(const json_t *root, const char *ptr)
{
	const json_t *v = root;
	char tok[256];

	if (*ptr && *ptr != '/')
		return NULL;
	while (v && *ptr == '/') {
		const char *next = strchr(ptr + 1, '/');
		size_t n = next ? (size_t)(next - ptr - 1) : strlen(ptr + 1);

		if (!pointer_token(ptr + 1, n, tok, sizeof(tok)))
			return NULL;
		if (json_is_object(v)) {
			v = json_object_get(v, tok);
		} else if (json_is_array(v)) {
			char *end;
			unsigned long i = strtoul(tok, &end, 10);
			/* RFC 6901 §4: digits only, no leading zero */
			if (!*tok || *end || (tok[0] == '0' && tok[1]) || tok[0] == '-' ||
			    tok[0] == '+' || tok[0] == ' ')
				return NULL;
			v = json_array_get(v, i);
		} else {
			return NULL;
		}
		ptr += n + 1;
	}
	return v;
}
