/* SPDX-License-Identifier: MIT */
/*
 * libcurl's multi interface driven by the libuv loop, as curl's
 * multi-uv example does it: curl tells which sockets to watch
 * (CURLMOPT_SOCKETFUNCTION -> one uv_poll_t each) and when to call it
 * back (CURLMOPT_TIMERFUNCTION -> one uv_timer_t); the loop's events go
 * to curl_multi_socket_action(). Bodies go to and from disk one curl
 * buffer at a time (at most 16 KiB per write() or read()), which is the
 * only disk work done on the loop. It knows nothing of OCPP.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <uv.h>

#include "ocppgw/loop.h"
#include "features/files/fetch.h"

#define SCHEMES "http,https,ftp,ftps"

struct ogw_fetch {
	CURL *easy;
	struct curl_slist *headers;
	int fd;
	uint64_t bytes, max_bytes;
	bool over_cap;
	bool write_failed;
	int write_errno;          /* ... why (0: a write of nothing) */
	ogw_fetch_done_fn done;
	void *arg;
	char err[CURL_ERROR_SIZE];
};

/* One watched socket. */
struct sock {
	uv_poll_t poll;
	curl_socket_t fd;
};

static CURLM *multi;
static uv_timer_t timer;
static bool timer_on;

static void finish(struct ogw_fetch *f, CURLcode res)
{
	long code = 0;
	char why[CURL_ERROR_SIZE + 64];
	int rc = 0;

	curl_easy_getinfo(f->easy, CURLINFO_RESPONSE_CODE, &code);
	if (f->over_cap || res == CURLE_FILESIZE_EXCEEDED) {
		rc = -EFBIG;
		snprintf(why, sizeof(why), "larger than the cap of %llu bytes",
			 (unsigned long long)f->max_bytes);
	} else if (f->write_failed) {
		rc = -EIO;
		snprintf(why, sizeof(why), "writing the file failed: %s",
			 f->write_errno ? strerror(f->write_errno) : "nothing written");
	} else if (res != CURLE_OK) {
		rc = res == CURLE_PARTIAL_FILE ? -EPIPE : -EIO;
		snprintf(why, sizeof(why), "%s%s%s", curl_easy_strerror(res), *f->err ? ": " : "",
			 f->err);
	} else {
		snprintf(why, sizeof(why), "ok");
	}
	if (rc == 0 && code >= 300 && code < 600 && code != 226 && code != 250) {
		rc = -EIO;
		snprintf(why, sizeof(why), "the server answered %ld", code);
	}
	curl_multi_remove_handle(multi, f->easy);
	curl_easy_cleanup(f->easy);
	curl_slist_free_all(f->headers);
	if (f->fd >= 0)
		close(f->fd);
	ogw_fetch_done_fn done = f->done;
	void *arg = f->arg;
	uint64_t bytes = f->bytes;
	free(f);
	done(arg, rc, why, bytes);
}

static void check_done(void)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		struct ogw_fetch *f = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&f);
		finish(f, m->data.result);
	}
}

static void on_timeout(uv_timer_t *t)
{
	int running;
	(void)t;
	curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done();
}

static int set_timer(CURLM *m, long timeout_ms, void *userp)
{
	(void)m;
	(void)userp;
	if (timeout_ms < 0) {
		uv_timer_stop(&timer);
		return 0;
	}
	/* Never from inside curl: a 0 timeout runs on the next loop turn. */
	uv_timer_start(&timer, on_timeout, (uint64_t)timeout_ms, 0);
	return 0;
}

static void on_poll(uv_poll_t *p, int status, int events)
{
	struct sock *sk = p->data;
	int flags = 0, running;

	if (status < 0)
		flags = CURL_CSELECT_ERR;
	if (!status && (events & UV_READABLE))
		flags |= CURL_CSELECT_IN;
	if (!status && (events & UV_WRITABLE))
		flags |= CURL_CSELECT_OUT;
	curl_multi_socket_action(multi, sk->fd, flags, &running);
	check_done();
}

static void sock_free(uv_handle_t *h)
{
	free(h->data);
}

static int watch(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct sock *sk = socketp;
	(void)e;
	(void)userp;

	if (what == CURL_POLL_REMOVE) {
		if (sk) {
			uv_poll_stop(&sk->poll);
			uv_close((uv_handle_t *)&sk->poll, sock_free);
			curl_multi_assign(multi, s, NULL);
		}
		return 0;
	}
	if (!sk) {
		sk = calloc(1, sizeof(*sk));
		if (!sk)
			return -1;
		sk->fd = s;
		if (uv_poll_init_socket(ogw_loop_uv(), &sk->poll, s) < 0) {
			free(sk);
			return -1;
		}
		sk->poll.data = sk;
		curl_multi_assign(multi, s, sk);
	}
	int ev = (what & CURL_POLL_IN ? UV_READABLE : 0) | (what & CURL_POLL_OUT ? UV_WRITABLE : 0);
	uv_poll_start(&sk->poll, ev, on_poll);
	return 0;
}

static int multi_ready(void)
{
	if (multi)
		return 0;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -EIO;
	multi = curl_multi_init();
	if (!multi)
		return -ENOMEM;
	curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, watch);
	curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, set_timer);
	uv_timer_init(ogw_loop_uv(), &timer);
	timer_on = true;
	return 0;
}

static size_t on_body(char *ptr, size_t size, size_t n, void *arg)
{
	struct ogw_fetch *f = arg;
	size_t len = size * n, off = 0;

	if (f->bytes + len > f->max_bytes) {
		f->over_cap = true;
		return 0;
	}
	while (off < len) {
		ssize_t w = write(f->fd, ptr + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			f->write_failed = true;
			f->write_errno = w < 0 ? errno : 0;
			return 0;
		}
		off += (size_t)w;
	}
	f->bytes += len;
	return len;
}

static size_t on_read(char *ptr, size_t size, size_t n, void *arg)
{
	struct ogw_fetch *f = arg;
	ssize_t r;

	do
		r = read(f->fd, ptr, size * n);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return CURL_READFUNC_ABORT;
	f->bytes += (uint64_t)r;
	return (size_t)r;
}

bool ogw_fetch_scheme_ok(const char *url)
{
	static const char *const schemes[] = { "http://", "https://", "ftp://", "ftps://" };
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (!strncasecmp(url, schemes[i], strlen(schemes[i])))
			return true;
	return false;
}

/* An easy handle for @url with what every transfer shares. */
static int begin(const char *url, int fd, ogw_fetch_done_fn done, void *arg,
		 struct ogw_fetch **ret)
{
	int r = multi_ready();
	if (r < 0)
		return r;
	struct ogw_fetch *f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->fd = fd;
	f->done = done;
	f->arg = arg;
	f->easy = curl_easy_init();
	if (!f->easy) {
		free(f);
		return -ENOMEM;
	}
	CURL *e = f->easy;
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, f);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, f->err);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, SCHEMES);
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(e, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 30L);
	/* A server that stalls is a failed attempt, not a transfer held forever. */
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, 60L);
	/* A fresh FTP control connection per transfer: a second upload on one
	 * kept from the last stalled until CONNECTTIMEOUT (Debian's libcurl
	 * 7.88, multi_socket on libuv; files-ftp.test.mjs). Transfers are few. */
	if (!strncasecmp(url, "ftp", 3))
		curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
	*ret = f;
	return 0;
}

static int start(struct ogw_fetch *f)
{
	if (curl_multi_add_handle(multi, f->easy) != CURLM_OK) {
		curl_easy_cleanup(f->easy);
		curl_slist_free_all(f->headers);
		close(f->fd);
		free(f);
		return -EIO;
	}
	return 0;
}

int ogw_fetch_get(const char *url, const char *path, uint64_t max_bytes, ogw_fetch_done_fn done,
		  void *arg, struct ogw_fetch **ret)
{
	struct ogw_fetch *f;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	int r = begin(url, fd, done, arg, &f);
	if (r < 0) {
		close(fd);
		return r;
	}
	f->max_bytes = max_bytes;
	curl_easy_setopt(f->easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(f->easy, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(f->easy, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max_bytes);
	curl_easy_setopt(f->easy, CURLOPT_FAILONERROR, 1L);
	r = start(f);
	if (r < 0)
		return r;
	*ret = f;
	return 0;
}

int ogw_fetch_send(const char *url, const char *path, const char *post_type,
		   ogw_fetch_done_fn done, void *arg, struct ogw_fetch **ret)
{
	struct ogw_fetch *f;
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	int r = begin(url, fd, done, arg, &f);
	if (r < 0) {
		close(fd);
		return r;
	}
	f->max_bytes = (uint64_t)st.st_size;
	curl_easy_setopt(f->easy, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(f->easy, CURLOPT_READDATA, f);
	/* No "Expect: 100-continue": the body goes at once. */
	f->headers = curl_slist_append(NULL, "Expect:");
	if (post_type) {
		char ct[300];
		snprintf(ct, sizeof(ct), "Content-Type: %s", post_type);
		f->headers = f->headers ? curl_slist_append(f->headers, ct) : NULL;
		curl_easy_setopt(f->easy, CURLOPT_POST, 1L);
		curl_easy_setopt(f->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)st.st_size);
	} else {
		curl_easy_setopt(f->easy, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(f->easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t)st.st_size);
	}
	curl_easy_setopt(f->easy, CURLOPT_HTTPHEADER, f->headers);
	r = start(f);
	if (r < 0)
		return r;
	*ret = f;
	return 0;
}

void ogw_fetch_cancel(struct ogw_fetch *f)
{
	if (!f)
		return;
	curl_multi_remove_handle(multi, f->easy);
	curl_easy_cleanup(f->easy);
	curl_slist_free_all(f->headers);
	if (f->fd >= 0)
		close(f->fd);
	free(f);
}

void ogw_fetch_shutdown(void)
{
	if (!multi)
		return;
	curl_multi_cleanup(multi);
	multi = NULL;
	if (timer_on) {
		uv_timer_stop(&timer);
		uv_close((uv_handle_t *)&timer, NULL);
		timer_on = false;
	}
	curl_global_cleanup();
}
