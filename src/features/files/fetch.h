/* SPDX-License-Identifier: MIT */
/*
 * Transfers with libcurl's multi interface on the gateway's libuv loop
 * (fetch.c): a URL downloaded into a file, a file uploaded to a URL. The
 * loop never waits for the network; the file side is written or read one
 * curl buffer (at most CURL_MAX_WRITE_SIZE, 16 KiB) per callback.
 */
#ifndef OGW_FILES_FETCH_H
#define OGW_FILES_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ogw_fetch;

/* A transfer ended: @rc 0, or a negative errno; @why says what went wrong
 * in words (libcurl's, or ours) for the log line; @bytes moved. */
typedef void (*ogw_fetch_done_fn)(void *arg, int rc, const char *why, uint64_t bytes);

/* The schemes transfers may use ("http,https,ftp,ftps"): whether @url has one. */
bool ogw_fetch_scheme_ok(const char *url);

/* Downloads @url into @path (created, truncated), at most @max_bytes.
 * @done runs once, later, from the loop (never from inside this call). */
int ogw_fetch_get(const char *url, const char *path, uint64_t max_bytes, ogw_fetch_done_fn done,
		  void *arg, struct ogw_fetch **ret);
/* Uploads the file @path to @url: HTTP(S) POST with Content-Type @post_type
 * when it is not NULL, else HTTP(S) PUT or FTP(S) STOR. An answer of 300 or
 * above is a failure. */
int ogw_fetch_send(const char *url, const char *path, const char *post_type,
		   ogw_fetch_done_fn done, void *arg, struct ogw_fetch **ret);
/* Stops transfer @f; its @done does not run. NULL-safe. */
void ogw_fetch_cancel(struct ogw_fetch *f);
/* Every transfer stopped, the multi handle and its loop handles closed. */
void ogw_fetch_shutdown(void);

#endif
