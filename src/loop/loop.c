/* SPDX-License-Identifier: MIT */
/*
 * The event loop every ocppgw program runs on: one libuv loop, given to lws
 * as its foreign loop (see include/ocppgw/loop.h for why). It does not know
 * what runs on it.
 */
#include <uv.h>

#include "ocppgw/loop.h"

static uv_loop_t loop;
static void *foreign_loops[1] = { &loop };
static ogw_loop_signal_fn signal_handler;

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
	if (ctx)
		lws_context_destroy(ctx);
	/* lws closes its handles asynchronously: let the loop finish them. */
	for (int i = 0; i < 1000 && uv_run(&loop, UV_RUN_NOWAIT); i++)
		;
	uv_loop_close(&loop);
}
