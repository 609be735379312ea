/* SPDX-License-Identifier: MIT */
/*
 * The FTP server's child process (ftpd.h): started with pipes on its
 * standard input and output, its lines read on the loop, started again
 * after a growing pause when it exits, ended at the stop. Its standard
 * error is the gateway's (a Python traceback lands in the same log).
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "ocppgw/log.h"
#include "ocppgw/loop.h"
#include "ocppgw/util.h"
#include "features/files/ftpd.h"

#define LINE_MAX_LEN 2048
#define RESTART_MIN_MS 1000
#define RESTART_MAX_MS 60000
/* A child that lived this long was healthy: the pause starts again small. */
#define HEALTHY_MS 30000

struct ogw_ftpd {
	char *server, *addr, *root, *masquerade;
	int port, pasv_first, pasv_last, idle_timeout_s;
	const struct ogw_ftpd_ops *ops;
	void *arg;
	uv_process_t proc;
	uv_pipe_t in, out;          /* its stdin (we write), its stdout (we read) */
	uv_timer_t restart;
	int handles;                /* open, of proc, in, out and restart */
	bool child;                 /* proc, in and out are open */
	bool stopping;
	unsigned int early_exits;   /* in a row, for the pause before the next start */
	uint64_t started_ms;
	int listening;              /* the port, once it said ready */
	char line[LINE_MAX_LEN];
	size_t n;
	bool skipping;              /* the rest of an over-long line */
};

struct ftpd_write {
	uv_write_t req;
	char data[];
};

static void handle_closed(uv_handle_t *h)
{
	struct ogw_ftpd *d = h->data;
	if (--d->handles == 0 && d->stopping) {
		free(d->server);
		free(d->addr);
		free(d->root);
		free(d->masquerade);
		free(d);
	}
}

static void close_child(struct ogw_ftpd *d)
{
	if (!d->child)
		return;
	d->child = false;
	d->listening = 0;
	uv_close((uv_handle_t *)&d->proc, handle_closed);
	uv_close((uv_handle_t *)&d->in, handle_closed);
	uv_close((uv_handle_t *)&d->out, handle_closed);
}

static int spawn_child(struct ogw_ftpd *d);

static void restart_due(uv_timer_t *t)
{
	struct ogw_ftpd *d = t->data;
	if (!d->stopping && !d->child)
		spawn_child(d);
}

static void schedule_restart(struct ogw_ftpd *d)
{
	uint64_t pause = ogw_backoff_ms(d->early_exits, RESTART_MIN_MS, RESTART_MAX_MS);
	ogw_warn(NULL, "FTP server: started again in %" PRIu64 " ms", pause);
	uv_timer_start(&d->restart, restart_due, pause, 0);
}

static void child_exited(uv_process_t *p, int64_t status, int sig)
{
	struct ogw_ftpd *d = p->data;
	uint64_t lived = uv_now(ogw_loop_uv()) - d->started_ms;

	if (sig)
		ogw_err(NULL, "FTP server (pid %d) killed by signal %d", p->pid, sig);
	else
		ogw_err(NULL, "FTP server (pid %d) exited with status %" PRId64, p->pid, status);
	d->early_exits = lived >= HEALTHY_MS ? 0 : d->early_exits + 1;
	close_child(d);
	if (!d->stopping)
		schedule_restart(d);
}

/* One whole line from the child. */
static void child_says(struct ogw_ftpd *d, char *line)
{
	char *save = NULL;
	char *what = strtok_r(line, " ", &save);
	if (!what)
		return;
	if (!strcmp(what, "log")) {
		char *level = strtok_r(NULL, " ", &save);
		const char *text = save && *save ? save : "";
		enum ogw_log_level lv = !level ? OGW_LOG_INFO :
			!strcmp(level, "error") ? OGW_LOG_ERR :
			!strcmp(level, "warning") ? OGW_LOG_WARN :
			!strcmp(level, "debug") ? OGW_LOG_DEBUG : OGW_LOG_INFO;
		ogw_log(lv, NULL, "FTP server: %s", text);
		return;
	}
	if (!strcmp(what, "ready")) {
		char *port = strtok_r(NULL, " ", &save);
		d->listening = port ? atoi(port) : 0;
		ogw_info(NULL, "FTP server for log uploads (%s, pid %d) on %s:%d", d->server,
			 d->proc.pid, d->addr, d->listening);
		d->ops->ready(d->arg);
		return;
	}
	char *token = strtok_r(NULL, " ", &save);
	char *name = strtok_r(NULL, " ", &save);
	if (!token || !name) {
		ogw_warn(NULL, "FTP server: a line not understood: %s", what);
		return;
	}
	if (!strcmp(what, "begin")) {
		d->ops->begin(d->arg, token, name);
	} else if (!strcmp(what, "done")) {
		char *size = strtok_r(NULL, " ", &save);
		char path[1024];
		snprintf(path, sizeof(path), "%s/%s/%s", d->root, token, name);
		d->ops->done(d->arg, token, name, size ? strtoull(size, NULL, 10) : 0, path);
	} else if (!strcmp(what, "failed")) {
		(void)strtok_r(NULL, " ", &save);  /* the bytes it got */
		d->ops->failed(d->arg, token, name, save && *save ? save : "no reason given");
	} else {
		ogw_warn(NULL, "FTP server: a line not understood: %s", what);
	}
}

static void alloc_buf(uv_handle_t *h, size_t want, uv_buf_t *buf)
{
	struct ogw_ftpd *d = h->data;
	(void)want;
	buf->base = d->line + d->n;
	buf->len = sizeof(d->line) - d->n - 1;
}

static void child_output(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct ogw_ftpd *d = s->data;
	(void)buf;

	if (nread < 0) {
		/* its exit is reported by child_exited() */
		uv_read_stop(s);
		return;
	}
	d->n += (size_t)nread;
	char *start = d->line, *nl;
	while ((nl = memchr(start, '\n', (size_t)(d->line + d->n - start)))) {
		*nl = '\0';
		if (!d->skipping)
			child_says(d, start);
		d->skipping = false;
		start = nl + 1;
		if (!d->child)
			return;
	}
	size_t rest = (size_t)(d->line + d->n - start);
	if (rest == sizeof(d->line) - 1) {
		ogw_warn(NULL, "FTP server: a line over %d bytes dropped", LINE_MAX_LEN);
		d->skipping = true;
		rest = 0;
	}
	memmove(d->line, start, rest);
	d->n = rest;
}

static int spawn_child(struct ogw_ftpd *d)
{
	char listen[300], idle[16], pasv[32];
	snprintf(listen, sizeof(listen), strchr(d->addr, ':') ? "[%s]:%d" : "%s:%d", d->addr,
		 d->port);
	snprintf(idle, sizeof(idle), "%d", d->idle_timeout_s);
	char *args[16];
	int k = 0;
	args[k++] = d->server;
	args[k++] = "--listen";
	args[k++] = listen;
	args[k++] = "--root";
	args[k++] = d->root;
	args[k++] = "--idle-timeout";
	args[k++] = idle;
	if (d->pasv_first) {
		snprintf(pasv, sizeof(pasv), "%d-%d", d->pasv_first, d->pasv_last);
		args[k++] = "--passive-ports";
		args[k++] = pasv;
	}
	if (d->masquerade) {
		args[k++] = "--masquerade";
		args[k++] = d->masquerade;
	}
	args[k] = NULL;

	uv_loop_t *loop = ogw_loop_uv();
	uv_pipe_init(loop, &d->in, 0);
	uv_pipe_init(loop, &d->out, 0);
	d->in.data = d->out.data = d->proc.data = d;
	uv_stdio_container_t stdio[3] = {
		{ .flags = UV_CREATE_PIPE | UV_READABLE_PIPE, .data.stream = (uv_stream_t *)&d->in },
		{ .flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&d->out },
		{ .flags = UV_INHERIT_FD, .data.fd = STDERR_FILENO },
	};
	uv_process_options_t o = {
		.exit_cb = child_exited,
		.file = d->server,
		.args = args,
		.stdio = stdio,
		.stdio_count = 3,
	};
	d->handles += 3;
	d->child = true;
	d->n = 0;
	d->skipping = false;
	d->started_ms = uv_now(loop);
	int r = uv_spawn(loop, &d->proc, &o);
	if (r < 0) {
		ogw_err(NULL, "Failed to start the FTP server %s: %s (is its interpreter, python3, "
			"installed?)", d->server, uv_strerror(r));
		d->early_exits++;
		close_child(d);
		if (!d->stopping)
			schedule_restart(d);
		return r;
	}
	uv_read_start((uv_stream_t *)&d->out, alloc_buf, child_output);
	return 0;
}

int ogw_ftpd_start(const struct ogw_ftpd_conf *c, const struct ogw_ftpd_ops *ops, void *arg,
		   struct ogw_ftpd **ret)
{
	/* The program was checked with the config's other files (src/config/files.c). */
	struct ogw_ftpd *d = calloc(1, sizeof(*d));
	if (!d || !(d->server = strdup(c->server)) || !(d->addr = strdup(c->addr)) ||
	    !(d->root = strdup(c->root)) ||
	    (c->masquerade && !(d->masquerade = strdup(c->masquerade)))) {
		if (d) {
			free(d->server);
			free(d->addr);
			free(d->root);
			free(d);
		}
		return -ENOMEM;
	}
	d->port = c->port;
	d->pasv_first = c->pasv_first;
	d->pasv_last = c->pasv_last;
	d->idle_timeout_s = c->idle_timeout_s;
	d->ops = ops;
	d->arg = arg;
	uv_timer_init(ogw_loop_uv(), &d->restart);
	d->restart.data = d;
	d->handles = 1;
	spawn_child(d);
	*ret = d;
	return 0;
}

static void written(uv_write_t *req, int status)
{
	struct ftpd_write *w = (struct ftpd_write *)req;  /* its first member */
	(void)status;
	free(w);
}

static void say(struct ogw_ftpd *d, const char *fmt, ...)
{
	if (!d->child || !d->listening)
		return;     /* told again when it is ready */
	char text[200];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(text))
		return;
	struct ftpd_write *w = malloc(sizeof(*w) + (size_t)n);
	if (!w)
		return;
	memcpy(w->data, text, (size_t)n);
	uv_buf_t b = uv_buf_init(w->data, (unsigned int)n);
	if (uv_write(&w->req, (uv_stream_t *)&d->in, &b, 1, written) < 0)
		free(w);
}

void ogw_ftpd_allow(struct ogw_ftpd *d, const char *token, uint64_t cap)
{
	say(d, "allow %s %" PRIu64 "\n", token, cap);
}

void ogw_ftpd_deny(struct ogw_ftpd *d, const char *token)
{
	say(d, "deny %s\n", token);
}

int ogw_ftpd_port(const struct ogw_ftpd *d)
{
	return d->listening;
}

void ogw_ftpd_stop(struct ogw_ftpd *d)
{
	if (!d)
		return;
	d->stopping = true;
	if (d->child)
		uv_process_kill(&d->proc, SIGTERM);
	close_child(d);
	uv_timer_stop(&d->restart);
	uv_close((uv_handle_t *)&d->restart, handle_closed);
}
