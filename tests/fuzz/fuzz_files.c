/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the LAN file server's request head reader
 * (ogw_files_parse_request(), src/features/files/request.c), which sees
 * whatever a device on the chargers' network sends. A door is only one of
 * GET /f/, PUT /u/, POST /u/ followed by exactly 32 lowercase hex digits;
 * the file name holds only [A-Za-z0-9._-] and fits; a length is read only
 * from digits and printed back is found in the head; Content-Type lies
 * inside the head with no line break in it; and the head cut after its
 * first CRLF CRLF reads the same. Any broken rule aborts. Built and run by
 * tests/fuzz/run.sh.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "features/files/request.h"
#include "fuzz.h"

static const char *const prefixes[] = {
	[OGW_FILES_GET] = "GET /f/", [OGW_FILES_PUT] = "PUT /u/", [OGW_FILES_POST] = "POST /u/",
};

static void check(const char *head, const struct ogw_files_request *r)
{
	size_t hlen = strlen(head);

	CHECK(memchr(r->token, '\0', sizeof(r->token)), "token not terminated");
	CHECK(memchr(r->name, '\0', sizeof(r->name)), "name not terminated");
	if (r->method == OGW_FILES_NONE) {
		CHECK(!r->token[0] && !r->name[0] && !r->has_length && !r->type,
		      "a refused head carries a token, name, length or type");
		return;
	}
	CHECK(r->method <= OGW_FILES_POST, "method %d", (int)r->method);
	const char *p = prefixes[r->method];
	CHECK(!strncmp(head, p, strlen(p)), "method %d without its prefix", (int)r->method);
	CHECK(strlen(r->token) == TOKEN_LEN && strspn(r->token, "0123456789abcdef") == TOKEN_LEN,
	      "token '%s'", r->token);
	CHECK(!strncmp(head + strlen(p), r->token, TOKEN_LEN), "token not the path's");
	CHECK(strspn(r->name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
	      strlen(r->name), "name '%s'", r->name);
	if (r->has_length) {
		char digits[24];
		snprintf(digits, sizeof(digits), "%llu", (unsigned long long)r->length);
		CHECK(strstr(head, digits), "length %s is not in the head", digits);
	} else {
		CHECK(r->length == 0, "a length without has_length");
	}
	if (r->type) {
		CHECK(r->type >= head && r->type + r->type_len <= head + hlen, "type outside the head");
		CHECK(!memchr(r->type, '\r', r->type_len) && !memchr(r->type, '\n', r->type_len),
		      "a line break in the type");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The server hands the parser a NUL-terminated head: the same here,
	 * in a buffer of exactly that size so ASan sees any read past it. */
	char *head = malloc(size + 1);
	struct ogw_files_request r, again;

	if (!head)
		return 0;
	memcpy(head, data, size);
	head[size] = '\0';
	ogw_files_parse_request(head, &r);
	check(head, &r);
	char *end = strstr(head, "\r\n\r\n");
	if (end) {
		size_t cut = (size_t)(end + 4 - head);
		char *alone = malloc(cut + 1);
		if (alone) {
			memcpy(alone, head, cut);
			alone[cut] = '\0';
			ogw_files_parse_request(alone, &again);
			CHECK(again.method == r.method && !strcmp(again.token, r.token) &&
			      !strcmp(again.name, r.name) && again.has_length == r.has_length &&
			      again.length == r.length && !again.type == !r.type &&
			      (!r.type || (again.type - alone == r.type - head &&
					   again.type_len == r.type_len)),
			      "the head alone reads differently");
			free(alone);
		}
	}
	free(head);
	return 0;
}
