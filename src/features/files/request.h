/* SPDX-License-Identifier: MIT */
/*
 * The file server's request head, read (request.c): which of its two doors
 * a charger knocks at (GET /f/<token>, PUT|POST /u/<token>), the file name
 * after the token, Content-Length and Content-Type. Pure: no I/O, no state,
 * so the fuzz target (tests/fuzz/fuzz_files.c) runs it alone.
 */
#ifndef OGW_FILES_REQUEST_H
#define OGW_FILES_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOKEN_LEN 32           /* hex digits: 128 random bits */
#define NAME_MAX_LEN 64        /* a file name kept at the end of a path */

enum ogw_files_method {
	OGW_FILES_NONE = 0,      /* nothing the server serves: 404 */
	OGW_FILES_GET,           /* GET /f/<token>[/name] */
	OGW_FILES_PUT,           /* PUT /u/<token>[/name] */
	OGW_FILES_POST,          /* POST /u/<token>[/name] */
};

struct ogw_files_request {
	enum ogw_files_method method;
	char token[TOKEN_LEN + 1];     /* lowercase hex; "" with OGW_FILES_NONE */
	char name[NAME_MAX_LEN + 1];   /* [A-Za-z0-9._-] after the token, may be "" */
	bool has_length;               /* Content-Length: 1 to 19 digits */
	uint64_t length;
	const char *type;              /* Content-Type's value inside the head, or NULL */
	size_t type_len;
};

/* Reads @head, a request line and headers ending in CRLF CRLF, as a C
 * string (a NUL ends it early: what follows is not read). */
void ogw_files_parse_request(const char *head, struct ogw_files_request *ret);

/* The file name at the end of @url's path, only [A-Za-z0-9._-]. */
void ogw_files_safe_name(const char *url, char ret[NAME_MAX_LEN + 1]);
/* A character a file name kept here may have: letters, digits, ".-_". */
static inline bool ogw_files_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '-' || c == '_';
}

#endif
