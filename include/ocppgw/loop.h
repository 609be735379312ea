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

#include <stdint.h>

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
/* The stall watch (OGW_LOOP_STALL_MS, see loop.c): names work done in the
 * current loop turn. ogw_loop_mark_start() before it (0 when the watch is
 * off), ogw_loop_mark(what, start) after; a mark under 1 ms is dropped. */
uint64_t ogw_loop_mark_start(void);
void ogw_loop_mark(const char *what, uint64_t since_us);

#endif
