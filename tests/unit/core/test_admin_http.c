/* SPDX-License-Identifier: MIT */
/*
 * The admin API's HTTP request head parser (src/features/admin/admin_http.c) on
 * requests as clients send them and as attackers do: what it takes from a
 * good head, and the status, field and reason of each refusal; query
 * parameters decoded one by one.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "features/admin/admin_http.h"

static const struct ogw_http_limits lim = { .max_head = 8192, .max_body = 65536 };

static long parse(const char *text, struct ogw_http_head *h)
{
	return ogw_http_parse_head(text, strlen(text), &lim, h);
}

Test(admin_http, a_whole_head)
{
	struct ogw_http_head h;
	const char *req = "POST /api/chargers/CP%201/reset?x=1 HTTP/1.1\r\nHost: a\r\n"
			  "Content-Length: 15\r\nAuthorization:  Bearer tok  \r\n\r\n{\"type\":\"Hard\"}";
	long rc = parse(req, &h);
	cr_assert_eq(rc, (long)(strstr(req, "\r\n\r\n") + 4 - req));
	cr_assert_str_eq(h.method, "POST");
	cr_assert_str_eq(h.path, "/api/chargers/CP 1/reset", "decoded, query apart");
	cr_assert_str_eq(h.query, "x=1", "the query kept as sent");
	cr_assert_eq(h.content_length, 15);
	cr_assert_eq(h.authorization_len, 10);
	cr_assert(!strncmp(h.authorization, "Bearer tok", 10), "value trimmed");
	cr_assert(h.keep_alive, "HTTP/1.1 keeps the connection");
}

Test(admin_http, not_yet)
{
	struct ogw_http_head h;
	cr_assert_eq(parse("", &h), 0);
	cr_assert_eq(parse("GET /api/si", &h), 0);
	cr_assert_eq(parse("GET / HTTP/1.1\r\nHost: x\r\n", &h), 0);
	cr_assert_eq(parse("GET / HTTP/1.1\r\nHost: x\r\n\r", &h), 0);
}

Test(admin_http, http10_and_connection)
{
	struct ogw_http_head h;
	cr_assert_gt(parse("GET / HTTP/1.0\r\n\r\n", &h), 0);
	cr_assert_not(h.keep_alive);
	cr_assert_gt(parse("GET / HTTP/1.0\nConnection: Keep-Alive\n\n", &h), 0);
	cr_assert(h.keep_alive, "bare LF ends lines too");
	cr_assert_gt(parse("GET / HTTP/1.1\r\nConnection: foo, close\r\n\r\n", &h), 0);
	cr_assert_not(h.keep_alive);
}

static void refused(const char *text, int status, const char *field, const char *reason)
{
	struct ogw_http_head h;
	cr_assert_lt(parse(text, &h), 0, "accepted: %s", text);
	cr_assert_eq(h.status, status, "%s: %d %s", text, h.status, h.reason);
	if (field)
		cr_assert_str_eq(h.field ? h.field : "(none)", field, "%s", text);
	cr_assert(strstr(h.reason, reason), "%s: reason '%s' lacks '%s'", text, h.reason, reason);
}

Test(admin_http, content_length)
{
	const char *post = "POST /x HTTP/1.1\r\nContent-Length: ";
	char buf[128];
	static const char *const bad[] = { "-5", "abc", "2, 2", "0x10", "+3", "1 2" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(buf, sizeof(buf), "%s%s\r\n\r\n", post, bad[i]);
		refused(buf, 400, "Content-Length", "expected a number of bytes");
	}
	snprintf(buf, sizeof(buf), "%s99999999999999999999\r\n\r\n", post);
	refused(buf, 400, "Content-Length", "20 digits is not a length");
	snprintf(buf, sizeof(buf), "%s65537\r\n\r\n", post);
	refused(buf, 413, "body", "larger than the 65536 allowed");
	refused("POST /x HTTP/1.1\r\nContent-Length: 1\r\ncontent-length: 1\r\n\r\n", 400,
		"Content-Length", "given twice");
}

static bool streams(const char *method, const char *path)
{
	return !strcmp(method, "PUT") && !strncmp(path, "/api/firmware/files/", 20);
}

/* A firmware file's PUT: its length is the admin API's to check, not max_body's. */
Test(admin_http, streamed_body)
{
	const struct ogw_http_limits sl = { .max_head = 8192, .max_body = 65536,
					    .streamed = streams };
	struct ogw_http_head h;
	const char *big = "PUT /api/firmware/files/fw.bin HTTP/1.1\r\nContent-Length: "
			  "209715200\r\n\r\n";
	cr_assert_gt(ogw_http_parse_head(big, strlen(big), &sl, &h), 0);
	cr_assert(h.streamed);
	cr_assert(h.has_length);
	cr_assert_eq(h.content_length, 209715200);
	const char *none = "PUT /api/firmware/files/fw.bin HTTP/1.1\r\n\r\n";
	cr_assert_gt(ogw_http_parse_head(none, strlen(none), &sl, &h), 0);
	cr_assert(h.streamed);
	cr_assert_not(h.has_length, "no Content-Length: the route answers 411");
	const char *other = "PUT /api/site/limit HTTP/1.1\r\nContent-Length: 209715200\r\n\r\n";
	cr_assert_lt(ogw_http_parse_head(other, strlen(other), &sl, &h), 0);
	cr_assert_eq(h.status, 413, "other routes keep max_body");
	const char *post = "POST /api/firmware/files/fw.bin HTTP/1.1\r\nContent-Length: 70000\r\n\r\n";
	cr_assert_lt(ogw_http_parse_head(post, strlen(post), &sl, &h), 0);
	cr_assert_eq(h.status, 413, "only PUT streams");
}

Test(admin_http, request_line)
{
	refused("TRACE / HTTP/1.1\r\n\r\n", 501, "method", "method TRACE is not implemented");
	refused("get / HTTP/1.1\r\n\r\n", 501, "method", "method get");
	refused("GET / HTTP/2.0\r\n\r\n", 505, NULL, "2.0 is not supported");
	refused("GET / HTTX/1.1\r\n\r\n", 400, NULL, "malformed request line");
	refused("GET  / HTTP/1.1\r\n\r\n", 400, NULL, "malformed request line");
	refused("GET * HTTP/1.1\r\n\r\n", 400, "path", "must be a path");
	refused("\x16\x03\x01", 400, NULL, "bad method");
}

Test(admin_http, paths)
{
	refused("GET /a%00b HTTP/1.1\r\n\r\n", 400, "path", "control character %00");
	refused("GET /a%0D%0Ab HTTP/1.1\r\n\r\n", 400, "path", "control character %0D");
	refused("GET /%FF HTTP/1.1\r\n\r\n", 400, "path", "not UTF-8");
	refused("GET /%4 HTTP/1.1\r\n\r\n", 400, "path", "two hex digits");
	struct ogw_http_head h;
	cr_assert_gt(parse("GET /%C3%A9 HTTP/1.1\r\n\r\n", &h), 0);
	cr_assert_str_eq(h.path, "/\xc3\xa9");
}

Test(admin_http, sizes)
{
	static char buf[12000];
	memset(buf, 0, sizeof(buf));
	strcpy(buf, "GET /");
	memset(buf + 5, 'a', 5000);
	strcat(buf, " HTTP/1.1\r\n\r\n");
	refused(buf, 414, "path", "longer than 2048 bytes");
	buf[2100] = '\0';  /* no end of line yet, and already too long */
	refused(buf, 414, "path", "longer than 2048 bytes");
	strcpy(buf, "GET / HTTP/1.1\r\nX: ");
	memset(buf + strlen(buf), 'x', 9000);
	refused(buf, 431, NULL, "larger than 8192 bytes");
	strcpy(buf, "GET / HTTP/1.1\r\n");
	for (int i = 0; i < 101; i++)
		strcat(buf, "A: b\r\n");
	strcat(buf, "\r\n");
	refused(buf, 431, NULL, "more than 100 header fields");
}

Test(admin_http, fields)
{
	refused("GET / HTTP/1.1\r\nA: 1\r\n b\r\n\r\n", 400, NULL, "folded");
	refused("GET / HTTP/1.1\r\nA b: 1\r\n\r\n", 400, NULL, "malformed header name");
	refused("GET / HTTP/1.1\r\n: 1\r\n\r\n", 400, NULL, "malformed header line");
	refused("GET / HTTP/1.1\r\nA: x\x01y\r\n\r\n", 400, NULL, "control character");
	refused("GET / HTTP/1.1\rA: 1\r\n\r\n", 400, NULL, "stray CR");
	refused("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501, "Transfer-Encoding",
		"send the body with Content-Length");
	refused("POST / HTTP/1.1\r\nExpect: 200-ok\r\n\r\n", 417, "Expect", "100-continue");
	refused("GET / HTTP/1.1\r\nAuthorization: a\r\nAuthorization: b\r\n\r\n", 400,
		"Authorization", "given twice");
	struct ogw_http_head h;
	cr_assert_gt(parse("PUT / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n", &h), 0);
	cr_assert(h.expect_continue);
}

Test(admin_http, query_parameters)
{
	struct ogw_http_head h;
	char v[16];
	cr_assert_gt(parse("GET /api/events?charger=CP%201&limit=5&flag#frag HTTP/1.1\r\n\r\n",
			   &h), 0);
	cr_assert_str_eq(h.path, "/api/events");
	cr_assert_str_eq(h.query, "charger=CP%201&limit=5&flag", "up to the fragment");
	cr_assert_eq(ogw_http_query_get(h.query, "charger", v, sizeof(v)), 1);
	cr_assert_str_eq(v, "CP 1");
	cr_assert_eq(ogw_http_query_get(h.query, "limit", v, sizeof(v)), 1);
	cr_assert_str_eq(v, "5");
	cr_assert_eq(ogw_http_query_get(h.query, "flag", v, sizeof(v)), 1);
	cr_assert_str_eq(v, "", "a name alone is an empty value");
	cr_assert_eq(ogw_http_query_get(h.query, "since", v, sizeof(v)), 0, "absent");
	cr_assert_eq(ogw_http_query_get(h.query, "lim", v, sizeof(v)), 0, "whole names only");

	cr_assert_eq(ogw_http_query_get("a=x+y", "a", v, sizeof(v)), 1);
	cr_assert_str_eq(v, "x y", "'+' is a space");
	cr_assert_eq(ogw_http_query_get("a=%0A", "a", v, sizeof(v)), -EINVAL, "control");
	cr_assert_eq(ogw_http_query_get("a=%FF", "a", v, sizeof(v)), -EINVAL, "not UTF-8");
	cr_assert_eq(ogw_http_query_get("a=%4", "a", v, sizeof(v)), -EINVAL, "cut escape");
	cr_assert_eq(ogw_http_query_get("a=0123456789abcdef", "a", v, sizeof(v)), -EINVAL,
		     "longer than the buffer");
	cr_assert_gt(parse("GET /x HTTP/1.1\r\n\r\n", &h), 0);
	cr_assert_str_eq(h.query, "", "no query");
}
