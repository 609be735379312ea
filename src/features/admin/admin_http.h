/* SPDX-License-Identifier: MIT */
/*
 * Private to the gateway layer: the admin API's HTTP/1.1 request head
 * parser (admin_http.c), apart from admin.h so the fuzz target
 * (tests/fuzz/fuzz_admin.c) needs nothing but libc to use it.
 */
#ifndef OGW_ADMIN_HTTP_H
#define OGW_ADMIN_HTTP_H

#include <stdbool.h>
#include <stddef.h>

/* The longest request target (path and query) taken: 414 beyond. */
#define OGW_HTTP_MAX_TARGET 2048

/* admin_http.c: one request head, parsed from the bytes received. */
struct ogw_http_limits {
	size_t max_head;  /* request line and header fields: 431 beyond */
	size_t max_body;  /* Content-Length: 413 beyond */
	/* true for a request whose body the caller streams (a firmware file):
	 * its Content-Length is the caller's to check. NULL: none. */
	bool (*streamed)(const char *method, const char *path);
};

struct ogw_http_head {
	char method[8];                        /* one of those admin.c serves */
	char path[OGW_HTTP_MAX_TARGET + 1];    /* percent-decoded, no query */
	char query[OGW_HTTP_MAX_TARGET + 1];   /* after '?', as sent ("" when none) */
	size_t content_length;
	bool has_length;                       /* Content-Length was given */
	bool streamed;                         /* the limits' streamed() said so */
	const char *authorization;             /* into the parsed bytes; NULL: none */
	size_t authorization_len;
	bool keep_alive;
	bool no_challenge;                     /* X-Requested-With: a script asks, so a
	                                          401 must not make the browser prompt */
	bool expect_continue;                  /* "Expect: 100-continue" */
	/* when refused: the status to answer, the header or part at fault
	 * (NULL: the request as a whole) and why */
	int status;
	const char *field;
	char reason[160];
};

/* 0: the head is not complete yet; > 0: it is, and that many bytes long;
 * < 0: refused, @ret's status, field and reason say how to answer. Reads
 * only @buf[0..@len), keeps nothing. */
long ogw_http_parse_head(const char *buf, size_t len, const struct ogw_http_limits *lim,
			 struct ogw_http_head *ret);

/* Parameter @name of @query ("a=1&b=x%20y") percent-decoded into @out:
 * 1 found, 0 absent, -EINVAL not UTF-8 text or longer than @outlen - 1. */
int ogw_http_query_get(const char *query, const char *name, char *out, size_t outlen);

#endif
