/* SPDX-License-Identifier: MIT */
/*
 * The admin API's HTTP/1.1 request head parser: a pure function over the
 * bytes received so far, so it can be fuzzed alone (tests/fuzz/fuzz_admin.c).
 * It answers "need more", "head complete, N bytes" or a refusal with the
 * status and the reason to send back. It does not read bodies, check
 * credentials or route: admin.c and admin_routes.c do.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "features/admin/admin_http.h"
#include "util/utf8.h"

/* More than this many header fields is an attack, not a client. */
#define MAX_FIELDS 100
/* 18 digits always fit in a size_t on 64 bits and a long long anywhere. */
#define MAX_LENGTH_DIGITS 18

static const char *const methods[] = { "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH",
				       "OPTIONS" };

static long refuse(struct ogw_http_head *h, int status, const char *field, const char *fmt,
		   ...) __attribute__((format(printf, 4, 5)));

static long refuse(struct ogw_http_head *h, int status, const char *field, const char *fmt,
		   ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(h->reason, sizeof(h->reason), fmt, ap);
	va_end(ap);
	h->status = status;
	h->field = field;
	return -1;
}

/* RFC 9110 5.6.2 tchar */
static bool is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The target's path (up to '?'), percent-decoded into h->path. It must
 * decode to UTF-8 without control characters: every endpoint takes text. */
static long decode_path(struct ogw_http_head *h, const char *t, size_t n)
{
	size_t out = 0;
	if (!n || t[0] != '/')
		return refuse(h, 400, "path", "request target must be a path starting with '/'");
	for (size_t i = 0; i < n && t[i] != '?' && t[i] != '#'; i++) {
		unsigned char c = (unsigned char)t[i];
		if (c == '%') {
			int hi = i + 2 < n ? hex_value((unsigned char)t[i + 1]) : -1;
			int lo = hi >= 0 ? hex_value((unsigned char)t[i + 2]) : -1;
			if (lo < 0)
				return refuse(h, 400, "path", "path: '%%' must be followed by two "
					      "hex digits");
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		}
		if (c < 0x20 || c == 0x7f)
			return refuse(h, 400, "path", "path: control character %%%02X", c);
		h->path[out++] = (char)c;
	}
	h->path[out] = '\0';
	/* The query stays as sent: ogw_http_query_get() decodes a parameter. */
	size_t qs = 0, qn = 0;
	while (qs < n && t[qs] != '?' && t[qs] != '#')
		qs++;
	if (qs < n && t[qs] == '?')
		for (qs++; qs + qn < n && t[qs + qn] != '#'; qn++)
			;
	memcpy(h->query, t + qs, qn);
	h->query[qn] = '\0';
	for (size_t i = 0; i < out;) {
		size_t k = ogw_utf8_seq_len((const unsigned char *)h->path + i, out - i);
		if (!k)
			return refuse(h, 400, "path", "path: not UTF-8 once percent-decoded");
		i += k;
	}
	return 0;
}

/* "METHOD SP target SP HTTP/1.x" */
static long parse_request_line(struct ogw_http_head *h, const char *line, size_t n)
{
	const char *sp1 = memchr(line, ' ', n);
	if (!sp1 || sp1 == line)
		return refuse(h, 400, NULL, "malformed request line");
	size_t mlen = (size_t)(sp1 - line);
	const char *target = sp1 + 1;
	const char *sp2 = memchr(target, ' ', n - mlen - 1);
	if (!sp2)
		return refuse(h, 400, NULL, "malformed request line: expected "
			      "METHOD /path HTTP/1.1");
	size_t tlen = (size_t)(sp2 - target);
	const char *version = sp2 + 1;
	size_t vlen = n - (size_t)(version - line);

	for (size_t i = 0; i < mlen; i++)
		if (!is_tchar((unsigned char)line[i]))
			return refuse(h, 400, NULL, "malformed request line: bad method");
	h->method[0] = '\0';
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strlen(methods[i]) == mlen && !memcmp(methods[i], line, mlen))
			memcpy(h->method, methods[i], mlen + 1);
	if (!h->method[0])
		return refuse(h, 501, "method", "method %.*s is not implemented", (int)(mlen > 16 ? 16 : mlen),
			      line);
	if (tlen > OGW_HTTP_MAX_TARGET)
		return refuse(h, 414, "path", "request target longer than %d bytes",
			      OGW_HTTP_MAX_TARGET);
	for (size_t i = 0; i < tlen; i++)
		if ((unsigned char)target[i] <= 0x20 || (unsigned char)target[i] >= 0x7f)
			return refuse(h, 400, "path", "request target: byte 0x%02X not allowed",
				      (unsigned char)target[i]);
	if (vlen != 8 || memcmp(version, "HTTP/", 5) || version[6] != '.' ||
	    version[5] < '0' || version[5] > '9' || version[7] < '0' || version[7] > '9')
		return refuse(h, 400, NULL, "malformed request line: expected HTTP/1.1 at the end");
	if (version[5] != '1')
		return refuse(h, 505, NULL, "HTTP version %.3s is not supported: speak HTTP/1.1",
			      version + 5);
	h->keep_alive = version[7] != '0';
	return decode_path(h, target, tlen);
}

static bool value_is(const char *v, size_t n, const char *want)
{
	return strlen(want) == n && !strncasecmp(v, want, n);
}

/* Connection: a comma list of tokens; "close" and "keep-alive" matter. */
static void parse_connection(struct ogw_http_head *h, const char *v, size_t n)
{
	while (n) {
		size_t k = 0;
		while (k < n && v[k] != ',')
			k++;
		size_t a = 0, b = k;
		while (a < b && (v[a] == ' ' || v[a] == '\t'))
			a++;
		while (b > a && (v[b - 1] == ' ' || v[b - 1] == '\t'))
			b--;
		if (value_is(v + a, b - a, "close"))
			h->keep_alive = false;
		else if (value_is(v + a, b - a, "keep-alive"))
			h->keep_alive = true;
		v += k < n ? k + 1 : k;
		n -= k < n ? k + 1 : k;
	}
}

static long parse_field(struct ogw_http_head *h, const char *line, size_t n,
			const struct ogw_http_limits *lim, bool *seen_length)
{
	if (line[0] == ' ' || line[0] == '\t')
		return refuse(h, 400, NULL, "folded header lines are not accepted");
	const char *colon = memchr(line, ':', n);
	if (!colon || colon == line)
		return refuse(h, 400, NULL, "malformed header line: expected Name: value");
	size_t nlen = (size_t)(colon - line);
	for (size_t i = 0; i < nlen; i++)
		if (!is_tchar((unsigned char)line[i]))
			return refuse(h, 400, NULL, "malformed header name %.*s",
				      (int)(nlen > 40 ? 40 : nlen), line);
	const char *v = colon + 1;
	size_t vlen = n - nlen - 1;
	while (vlen && (*v == ' ' || *v == '\t'))
		v++, vlen--;
	while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
		vlen--;
	for (size_t i = 0; i < vlen; i++) {
		unsigned char c = (unsigned char)v[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return refuse(h, 400, NULL, "header %.*s: control character in the value",
				      (int)(nlen > 40 ? 40 : nlen), line);
	}

	if (nlen == 14 && !strncasecmp(line, "Content-Length", 14)) {
		if (*seen_length)
			return refuse(h, 400, "Content-Length", "Content-Length: given twice");
		*seen_length = true;
		size_t value = 0;
		if (!vlen)
			return refuse(h, 400, "Content-Length", "Content-Length: empty");
		for (size_t i = 0; i < vlen; i++)
			if (v[i] < '0' || v[i] > '9')
				return refuse(h, 400, "Content-Length", "Content-Length: expected a "
					      "number of bytes, got '%.*s'", (int)(vlen > 24 ? 24 : vlen), v);
		if (vlen > MAX_LENGTH_DIGITS)
			return refuse(h, 400, "Content-Length", "Content-Length: %zu digits is not "
				      "a length", vlen);
		for (size_t i = 0; i < vlen; i++)
			value = value * 10 + (size_t)(v[i] - '0');
		if (value > lim->max_body && !h->streamed)
			return refuse(h, 413, "body", "Content-Length: body of %zu bytes is "
				      "larger than the %zu allowed", value, lim->max_body);
		h->content_length = value;
		h->has_length = true;
	} else if (nlen == 17 && !strncasecmp(line, "Transfer-Encoding", 17)) {
		return refuse(h, 501, "Transfer-Encoding", "Transfer-Encoding is not supported: "
			      "send the body with Content-Length");
	} else if (nlen == 13 && !strncasecmp(line, "Authorization", 13)) {
		if (h->authorization)
			return refuse(h, 400, "Authorization", "Authorization: given twice");
		h->authorization = v;
		h->authorization_len = vlen;
	} else if (nlen == 16 && !strncasecmp(line, "X-Requested-With", 16)) {
		h->no_challenge = true;
	} else if (nlen == 10 && !strncasecmp(line, "Connection", 10)) {
		parse_connection(h, v, vlen);
	} else if (nlen == 6 && !strncasecmp(line, "Expect", 6)) {
		if (!value_is(v, vlen, "100-continue"))
			return refuse(h, 417, "Expect", "Expect: only 100-continue is supported");
		h->expect_continue = true;
	}
	return 0;
}

/* The end of the line starting at @p (its '\n'), or NULL. A CR is only
 * allowed right before that LF. */
static const char *line_end(const char *p, const char *end, bool *bad_cr)
{
	const char *lf = memchr(p, '\n', (size_t)(end - p));
	const char *cr = memchr(p, '\r', (size_t)((lf ? lf : end) - p));
	*bad_cr = cr && cr + 1 != (lf ? lf : end);
	if (cr && !lf && cr + 1 == end)
		*bad_cr = false;  /* the LF may still come */
	return lf;
}

long ogw_http_parse_head(const char *buf, size_t len, const struct ogw_http_limits *lim,
			 struct ogw_http_head *h)
{
	const char *p = buf, *end = buf + len;
	bool seen_length = false, bad_cr;
	size_t fields = 0;

	memset(h, 0, sizeof(*h));
	/* RFC 9112 2.2: empty lines before a request line are ignored. */
	while (p < end && (*p == '\r' || *p == '\n'))
		p++;
	if (p == end)
		return len > lim->max_head ? refuse(h, 400, NULL, "no request line") : 0;
	/* Refuse what cannot be HTTP without waiting for a whole line. */
	for (const char *q = p; q < end && *q != ' '; q++)
		if (!is_tchar((unsigned char)*q))
			return refuse(h, 400, NULL, "malformed request line: bad method");

	const char *lf = line_end(p, end, &bad_cr);
	if (bad_cr)
		return refuse(h, 400, NULL, "stray CR in the request line");
	if (!lf) {
		/* room for the method and version around the longest target */
		if ((size_t)(end - p) > OGW_HTTP_MAX_TARGET + 32)
			return refuse(h, 414, "path", "request target longer than %d bytes",
				      OGW_HTTP_MAX_TARGET);
		return len > lim->max_head ? refuse(h, 431, NULL, "request head larger than "
						    "%zu bytes", lim->max_head) : 0;
	}
	size_t n = (size_t)(lf - p) - (lf > p && lf[-1] == '\r');
	if (parse_request_line(h, p, n) < 0)
		return -1;
	h->streamed = lim->streamed && lim->streamed(h->method, h->path);
	p = lf + 1;

	for (;;) {
		if ((size_t)(p - buf) > lim->max_head)
			return refuse(h, 431, NULL, "request head larger than %zu bytes",
				      lim->max_head);
		lf = line_end(p, end, &bad_cr);
		if (bad_cr)
			return refuse(h, 400, NULL, "stray CR in a header line");
		if (!lf)
			return len > lim->max_head ? refuse(h, 431, NULL, "request head larger "
							    "than %zu bytes", lim->max_head) : 0;
		const char *line = p;
		n = (size_t)(lf - p) - (lf > p && lf[-1] == '\r');
		p = lf + 1;
		if (!n)
			break;
		if (++fields > MAX_FIELDS)
			return refuse(h, 431, NULL, "more than %d header fields", MAX_FIELDS);
		if (parse_field(h, line, n, lim, &seen_length) < 0)
			return -1;
	}
	if ((size_t)(p - buf) > lim->max_head)
		return refuse(h, 431, NULL, "request head larger than %zu bytes", lim->max_head);
	return (long)(p - buf);
}

/* Percent-decodes @n bytes of @v ('+' is a space) into @out; false when the
 * result is not UTF-8 text without control characters or does not fit. */
static bool decode_param(const char *v, size_t n, char *out, size_t outlen)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			int hi = i + 2 < n ? hex_value((unsigned char)v[i + 1]) : -1;
			int lo = hi >= 0 ? hex_value((unsigned char)v[i + 2]) : -1;
			if (lo < 0)
				return false;
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		}
		if (c < 0x20 || c == 0x7f || o + 1 >= outlen)
			return false;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	for (size_t i = 0; i < o;) {
		size_t k = ogw_utf8_seq_len((const unsigned char *)out + i, o - i);
		if (!k)
			return false;
		i += k;
	}
	return true;
}

int ogw_http_query_get(const char *query, const char *name, char *out, size_t outlen)
{
	size_t nlen = strlen(name);
	for (const char *p = query; p && *p;) {
		size_t plen = strcspn(p, "&");
		const char *eq = memchr(p, '=', plen);
		size_t klen = eq ? (size_t)(eq - p) : plen;
		if (klen == nlen && !memcmp(p, name, nlen)) {
			const char *v = eq ? eq + 1 : p + plen;
			return decode_param(v, (size_t)(p + plen - v), out, outlen) ? 1 : -EINVAL;
		}
		p += plen;
		if (*p == '&')
			p++;
	}
	return 0;
}
