/* SPDX-License-Identifier: MIT */
/*
 * The event loop every ocppgw program runs on: one libuv loop, given to lws
 * as its foreign loop (see include/ocppgw/loop.h for why). It does not know
 * what runs on it.
 */
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

int ogw_loop_init(struct lws_context_creation_info *info, ogw_loop_signal_fn on_signal)
{
	int r = uv_loop_init(&loop);

	if (r < 0)
		return r;
	signal_handler = on_signal;
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
	uv_loop_close(&loop);
}
