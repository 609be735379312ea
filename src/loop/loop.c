/* SPDX-License-Identifier: MIT */
/*
 * The event loop every ocppgw program runs on: one libuv loop, given to lws
 * as its foreign loop (see include/ocppgw/loop.h for why). It does not know
 * what runs on it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "ocppgw/loop.h"

static uv_loop_t loop;
static void *foreign_loops[1] = { &loop };
static ogw_loop_signal_fn signal_handler;
/* lws writes NULL here when a context's destruction has fully finished. */
static struct lws_context *live_ctx;

static void lws_signal(void *event_lib_handle, int signum)
{
	(void)event_lib_handle;
	if (signal_handler)
		signal_handler(signum);
}

/*
 * The stall watch (OGW_LOOP_STALL_MS=N in the environment): a loop turn
 * that kept the thread busy for N ms or more, every connection waiting, is
 * written to stderr with the work marked in it (ogw_loop_mark()); what is
 * not marked is I/O callbacks (frames) and unmarked timers. A turn runs
 * from one poll to the next; busy is its wall time less the time the poll
 * slept, of which cpu was spent on this thread; the rest is waiting for a
 * core (involuntary switches) or for the disk (voluntary switches, one of
 * them the poll's own sleep). Off, it costs one branch per mark.
 */
static struct {
	uint64_t min_us;        /* 0: off */
	uint64_t turn_us;       /* this turn's poll was about to start */
	uint64_t idle_ns;       /* the loop's idle time then */
	uint64_t cpu_us;        /* the thread's CPU time then */
	struct rusage ru;       /* its context switches then */
	uint64_t marked_us;     /* the marks' sum */
	char notes[512];
	size_t len;
	uv_prepare_t prepare;
} stall;

static uint64_t clock_us(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static uint64_t mono_us(void)
{
	return clock_us(CLOCK_MONOTONIC);
}

uint64_t ogw_loop_mark_start(void)
{
	return stall.min_us ? mono_us() : 0;
}

void ogw_loop_mark(const char *what, uint64_t since_us)
{
	if (!stall.min_us || !since_us)
		return;
	uint64_t took = mono_us() - since_us;
	stall.marked_us += took;
	if (took < 1000 || stall.len >= sizeof(stall.notes) - 1)
		return;
	int n = snprintf(stall.notes + stall.len, sizeof(stall.notes) - stall.len, ", %s %.1f ms",
			 what, (double)took / 1000);
	if (n > 0)
		stall.len += (size_t)n < sizeof(stall.notes) - stall.len ?
				     (size_t)n : sizeof(stall.notes) - 1 - stall.len;
}

static void stall_prepare(uv_prepare_t *h)
{
	uint64_t now = mono_us(), idle = uv_metrics_idle_time(h->loop);
	uint64_t slept = (idle - stall.idle_ns) / 1000, wall = now - stall.turn_us;
	uint64_t busy = wall > slept ? wall - slept : 0;
	if (stall.turn_us && busy >= stall.min_us) {
		struct rusage ru;
		getrusage(RUSAGE_THREAD, &ru);
		char line[768];
		int n = snprintf(line, sizeof(line),
				 "loop: at %.3f s busy %.1f ms, cpu %.1f ms, switches %ld involuntary, %ld voluntary "
				 "(unmarked %.1f ms)%.*s\n",
				 (double)now / 1e6, (double)busy / 1000,
				 (double)(clock_us(CLOCK_THREAD_CPUTIME_ID) - stall.cpu_us) / 1000,
				 ru.ru_nivcsw - stall.ru.ru_nivcsw, ru.ru_nvcsw - stall.ru.ru_nvcsw,
				 (double)(busy > stall.marked_us ? busy - stall.marked_us : 0) / 1000,
				 (int)stall.len, stall.notes);
		if (n > 0)
			(void)!write(2, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
	}
	stall.len = 0;
	stall.marked_us = 0;
	stall.turn_us = mono_us();
	stall.idle_ns = uv_metrics_idle_time(h->loop);
	stall.cpu_us = clock_us(CLOCK_THREAD_CPUTIME_ID);
	getrusage(RUSAGE_THREAD, &stall.ru);
}

static void stall_watch_start(void)
{
	const char *env = getenv("OGW_LOOP_STALL_MS");
	long ms = env ? strtol(env, NULL, 10) : 0;
	if (ms <= 0 || uv_loop_configure(&loop, UV_METRICS_IDLE_TIME) < 0)
		return;
	stall.min_us = (uint64_t)ms * 1000;
	uv_prepare_init(&loop, &stall.prepare);
	uv_prepare_start(&stall.prepare, stall_prepare);
	uv_unref((uv_handle_t *)&stall.prepare);
}

int ogw_loop_init(struct lws_context_creation_info *info, ogw_loop_signal_fn on_signal)
{
	int r = uv_loop_init(&loop);

	if (r < 0)
		return r;
	signal_handler = on_signal;
	stall_watch_start();
	/* A daemon must crash on SIGSEGV, not spin waiting for a debugger. */
	info->options |= LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_UV_NO_SIGSEGV_SIGFPE_SPIN;
	info->foreign_loops = foreign_loops;
	info->signal_cb = lws_signal;
	info->pcontext = &live_ctx;
	return 0;
}

uv_loop_t *ogw_loop_uv(void)
{
	return &loop;
}

void ogw_loop_run(void)
{
	uv_run(&loop, UV_RUN_DEFAULT);
}

void ogw_loop_stop(void)
{
	uv_stop(&loop);
}

void ogw_loop_fini(struct lws_context *ctx)
{
	/* On a foreign loop lws tears the context down through the loop: keep
	 * it turning until lws says it is done (bounded, in case it never
	 * does), then let the loop close what is left. */
	live_ctx = ctx;
	if (ctx)
		lws_context_destroy(ctx);
	for (int i = 0; i < 2000 && live_ctx; i++)
		if (!uv_run(&loop, UV_RUN_NOWAIT))
			usleep(1000);
	for (int i = 0; i < 1000 && uv_run(&loop, UV_RUN_NOWAIT); i++)
		;
	if (stall.min_us) {
		uv_close((uv_handle_t *)&stall.prepare, NULL);
		uv_run(&loop, UV_RUN_NOWAIT);
		stall.min_us = 0;
	}
	uv_loop_close(&loop);
}
