/* SPDX-License-Identifier: MIT */
/*
 * Logging: text or JSON lines on stderr. Lines about a charger carry its id
 * and leg; lines about a frame also carry the action and message id, so one
 * frame can be followed from the south leg to the north leg.
 */
#ifndef OCPPGW_LOG_H
#define OCPPGW_LOG_H

#include <stdbool.h>

enum ogw_log_level {
	OGW_LOG_ERR = 0,
	OGW_LOG_WARN,
	OGW_LOG_INFO,
	OGW_LOG_DEBUG,
};

/* Any field may be NULL. */
struct ogw_log_ctx {
	const char *charger;
	const char *leg;     /* "south", "north" */
	const char *action;
	const char *msg_id;
};

void ogw_log_setup(enum ogw_log_level level, bool json);
bool ogw_log_enabled(enum ogw_log_level level);
/* "error", "warn", "info", "debug". 0 or -EINVAL. */
int ogw_log_level_parse(const char *s, enum ogw_log_level *ret);
void ogw_log(enum ogw_log_level level, const struct ogw_log_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define ogw_err(ctx, ...)   ogw_log(OGW_LOG_ERR, ctx, __VA_ARGS__)
#define ogw_warn(ctx, ...)  ogw_log(OGW_LOG_WARN, ctx, __VA_ARGS__)
#define ogw_info(ctx, ...)  ogw_log(OGW_LOG_INFO, ctx, __VA_ARGS__)
#define ogw_debug(ctx, ...) \
	do { if (ogw_log_enabled(OGW_LOG_DEBUG)) ogw_log(OGW_LOG_DEBUG, ctx, __VA_ARGS__); } while (0)

#endif
