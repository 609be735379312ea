/* SPDX-License-Identifier: MIT */
/*
 * The one event loop of a process: libuv (epoll), handed to lws as a
 * foreign loop. lws's own poll() loop scans every connection on each
 * wake-up, which at thousands of chargers costs more than the OCPP work;
 * and this lws build ships libuv as a plugin without lws_uv_getloop(), so
 * we own the uv loop. Other sockets and timers (MQTT) can join it.
 */
#ifndef OCPPGW_LOOP_H
#define OCPPGW_LOOP_H

#include <libwebsockets.h>
#include <uv.h>

/* Called on the loop thread for SIGINT, SIGTERM and SIGHUP. */
typedef void (*ogw_loop_signal_fn)(int signum);

/* Before lws_create_context(): sets up the loop and points @info at it.
 * lws on libuv watches signals itself and by default tears the context
 * down without close frames; @on_signal takes that over. */
int ogw_loop_init(struct lws_context_creation_info *info, ogw_loop_signal_fn on_signal);
uv_loop_t *ogw_loop_uv(void);
/* Runs until ogw_loop_stop() is called from a callback or timer. */
void ogw_loop_run(void);
void ogw_loop_stop(void);
/* Destroys @ctx (may be NULL) and lets the loop close what lws left. */
void ogw_loop_fini(struct lws_context *ctx);

#endif
