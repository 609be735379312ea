/* SPDX-License-Identifier: MIT */
/*
 * The file server's request head, read: the method and path decide the
 * door (GET /f/<token>, PUT|POST /u/<token>), the rest of the path is a
 * file name kept to safe characters, and the two headers uploads need are
 * found. Everything else in a head is ignored. What to answer is the
 * caller's (files.c, upload.c); this file only reads.
 */
#include <string.h>
#include <strings.h>

#include "features/files/request.h"

/* A header's value in @head (case-insensitive name), or NULL; *len set. */
static const char *header(const char *head, const char *name, size_t *len)
{
	size_t n = strlen(name);
	for (const char *p = strstr(head, "\r\n"); p && p[2] != '\r'; p = strstr(p + 2, "\r\n")) {
		if (!strncasecmp(p + 2, name, n) && p[2 + n] == ':') {
			const char *v = p + 3 + n;
			v += strspn(v, " \t");
			*len = strcspn(v, "\r\n");
			return v;
		}
	}
	return NULL;
}

static const struct {
	const char *prefix;
	enum ogw_files_method method;
} doors[] = {
	{ "GET /f/", OGW_FILES_GET },
	{ "PUT /u/", OGW_FILES_PUT },
	{ "POST /u/", OGW_FILES_POST },
};

void ogw_files_parse_request(const char *head, struct ogw_files_request *ret)
{
	const char *t = NULL, *v;
	size_t n, len;

	memset(ret, 0, sizeof(*ret));
	for (size_t i = 0; i < sizeof(doors) / sizeof(doors[0]) && !t; i++) {
		size_t plen = strlen(doors[i].prefix);
		if (!strncmp(head, doors[i].prefix, plen)) {
			t = head + plen;
			ret->method = doors[i].method;
		}
	}
	if (!t)
		return;
	n = strspn(t, "0123456789abcdef");
	if (n != TOKEN_LEN || (t[n] != ' ' && t[n] != '/')) {
		ret->method = OGW_FILES_NONE;
		return;
	}
	memcpy(ret->token, t, TOKEN_LEN);
	if (t[n] == '/') {
		char path[NAME_MAX_LEN + 2];
		size_t plen = strcspn(t + n, " ?\r\n");
		memcpy(path, t + n, plen < sizeof(path) - 1 ? plen : sizeof(path) - 1);
		path[plen < sizeof(path) - 1 ? plen : sizeof(path) - 1] = '\0';
		ogw_files_safe_name(path, ret->name);
	}
	/* Digits only: "12abc" or "-1" is no length at all (411), not 12 or 2^64-1. */
	if ((v = header(head, "Content-Length", &len)) && len >= 1 && len <= 19 &&
	    strspn(v, "0123456789") >= len) {
		ret->has_length = true;
		for (size_t i = 0; i < len; i++)
			ret->length = ret->length * 10 + (uint64_t)(v[i] - '0');
	}
	if ((v = header(head, "Content-Type", &len))) {
		ret->type = v;
		ret->type_len = len;
	}
}

void ogw_files_safe_name(const char *url, char ret[NAME_MAX_LEN + 1])
{
	const char *end = url + strcspn(url, "?#"), *start = end;
	size_t n = 0;

	while (start > url && start[-1] != '/')
		start--;
	for (const char *p = start; p < end && n < NAME_MAX_LEN; p++)
		if (ogw_files_name_char(*p))
			ret[n++] = *p;
	ret[n] = '\0';
}
