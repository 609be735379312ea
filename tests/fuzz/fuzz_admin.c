/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the admin API's HTTP request head parser
 * (src/features/admin/admin_http.c), with the default limits and with tiny ones.
 * A refusal must carry a 4xx/5xx status and a reason; a complete head must
 * be a served method, a decoded path of text, a length within the limit and
 * an Authorization inside the head; a head is decided by its own bytes (the
 * same answer without what follows it) and no prefix of a good head is
 * refused or complete. The query of a complete head goes through the
 * parameter decoder (ogw_http_query_get) for the names the API reads: a
 * found value is text without control characters that fits its buffer.
 * Any broken rule aborts, which libFuzzer reports as a crash. Built and
 * run by tests/fuzz/run.sh.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "features/admin/admin_http.h"

#define CHECK(cond, ...)                                                                \
	do {                                                                            \
		if (!(cond)) {                                                          \
			fprintf(stderr, "fuzz_admin: %s:%d: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                                   \
			fputc('\n', stderr);                                            \
			abort();                                                        \
		}                                                                       \
	} while (0)

static const char *const served[] = { "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH",
				      "OPTIONS" };

static void check_head(const char *buf, long rc, const struct ogw_http_limits *lim,
		       const struct ogw_http_head *h)
{
	bool known = false;
	for (size_t i = 0; i < sizeof(served) / sizeof(served[0]); i++)
		known |= !strcmp(h->method, served[i]);
	CHECK(known, "method '%.8s' is not one that is served", h->method);
	CHECK(memchr(h->path, '\0', sizeof(h->path)), "path not terminated");
	CHECK(h->path[0] == '/', "path '%s' does not start with /", h->path);
	for (const unsigned char *p = (const unsigned char *)h->path; *p; p++)
		CHECK(*p >= 0x20 && *p != 0x7f, "control character 0x%02x in the path", *p);
	CHECK(h->content_length <= lim->max_body || h->streamed, "length %zu over %zu",
	      h->content_length, lim->max_body);
	CHECK(h->streamed == (lim->streamed && lim->streamed(h->method, h->path)),
	      "streamed %d for %s %s", h->streamed, h->method, h->path);
	CHECK(h->has_length || !h->content_length, "a length of %zu without Content-Length",
	      h->content_length);
	CHECK((size_t)rc <= lim->max_head, "head of %ld bytes over %zu", rc, lim->max_head);
	if (h->authorization)
		CHECK(h->authorization >= buf &&
		      h->authorization + h->authorization_len <= buf + rc,
		      "Authorization outside the head");
}

/* Every name the API's routes read from a query, and one that is not. */
static const char *const params[] = { "charger", "kind", "since", "limit", "from", "to",
				      "format", "" };

static void check_query(const struct ogw_http_head *h)
{
	CHECK(memchr(h->query, '\0', sizeof(h->query)), "query not terminated");
	for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
		char out[64];
		memset(out, 0x55, sizeof(out));
		int r = ogw_http_query_get(h->query, params[i], out, sizeof(out));
		CHECK(r == 1 || r == 0 || r == -EINVAL, "query_get '%s': %d", params[i], r);
		if (r != 1)
			continue;
		CHECK(memchr(out, '\0', sizeof(out)), "value of '%s' not terminated", params[i]);
		for (const unsigned char *p = (const unsigned char *)out; *p; p++)
			CHECK(*p >= 0x20 && *p != 0x7f, "control character 0x%02x in '%s'", *p,
			      params[i]);
	}
}

static void check_refusal(const struct ogw_http_head *h)
{
	CHECK(h->status >= 400 && h->status <= 505, "status %d", h->status);
	CHECK(memchr(h->reason, '\0', sizeof(h->reason)) && h->reason[0], "no reason");
}

static void run(const char *buf, size_t len, const struct ogw_http_limits *lim)
{
	struct ogw_http_head h, g;
	long rc = ogw_http_parse_head(buf, len, lim, &h);
	CHECK(rc <= (long)len, "head of %ld bytes from %zu", rc, len);
	if (rc < 0) {
		check_refusal(&h);
		return;
	}
	if (rc == 0)
		return;
	check_head(buf, rc, lim, &h);
	check_query(&h);
	/* the head alone gives the same answer */
	long again = ogw_http_parse_head(buf, (size_t)rc, lim, &g);
	CHECK(again == rc, "head alone: %ld, with what follows: %ld", again, rc);
	CHECK(!strcmp(g.path, h.path) && g.content_length == h.content_length,
	      "head alone parsed differently");
	/* a good head cut short is only ever "not yet" */
	size_t cuts[] = { (size_t)rc - 1, (size_t)rc / 2, 1 };
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		long part = ogw_http_parse_head(buf, cuts[i], lim, &g);
		CHECK(part == 0, "%zu of %ld bytes of a good head gave %ld (%d %s)", cuts[i], rc,
		      part, g.status, g.reason);
	}
}

/* As the admin API streams PUT /api/firmware/files/<name>. */
static bool streams(const char *method, const char *path)
{
	return !strcmp(method, "PUT") && !strncmp(path, "/s/", 3);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct ogw_http_limits defaults = { .max_head = 8192, .max_body = 65536,
							 .streamed = streams };
	static const struct ogw_http_limits tiny = { .max_head = 96, .max_body = 16 };
	/* A copy of exactly @size bytes: ASan sees any read past the end. */
	char *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	run(buf, size, &defaults);
	run(buf, size, &tiny);
	free(buf);
	return 0;
}
