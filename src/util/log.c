/* SPDX-License-Identifier: MIT */
/*
 * Log lines on stderr, as text or as one JSON object per line, each written
 * with a single write() so lines from several processes never interleave.
 * Every field is escaped (control bytes, invalid UTF-8), because charger ids
 * and message ids come from the network. It does not rotate or buffer.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ocppgw/log.h"
#include "ocppgw/util.h"
#include "utf8.h"

/* Longer lines are cut; a log line is not a data channel. */
#define LOG_LINE_MAX 4096
#define LOG_MSG_MAX 3072
/* Each context field is cut to this many bytes of output, so the message
 * always has room after them. */
#define LOG_FIELD_MAX 256

static enum ogw_log_level log_level = OGW_LOG_INFO;
static bool log_json;

static const struct {
	const char *name;  /* for parsing and JSON */
	const char *label; /* text lines, padded to one width */
} log_levels[] = {
	[OGW_LOG_ERR] = { "error", "ERROR" },
	[OGW_LOG_WARN] = { "warn", "WARN " },
	[OGW_LOG_INFO] = { "info", "INFO " },
	[OGW_LOG_DEBUG] = { "debug", "DEBUG" },
};

struct line {
	char buf[LOG_LINE_MAX];
	size_t len;
	size_t cap; /* room for content; the tail ("}\n") is reserved past it */
	bool full;
};

void ogw_log_setup(enum ogw_log_level level, bool json)
{
	if ((unsigned int)level > OGW_LOG_DEBUG)
		level = OGW_LOG_DEBUG;
	log_level = level;
	log_json = json;
}

bool ogw_log_enabled(enum ogw_log_level level)
{
	return level <= log_level;
}

int ogw_log_level_parse(const char *s, enum ogw_log_level *ret)
{
	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(log_levels) / sizeof(log_levels[0]); i++) {
		if (strcmp(s, log_levels[i].name) == 0) {
			*ret = (enum ogw_log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

static void put(struct line *l, const char *s, size_t n)
{
	if (l->full || n > l->cap - l->len) {
		l->full = true;
		return;
	}
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

static void puts_raw(struct line *l, const char *s)
{
	put(l, s, strlen(s));
}

/* Appends @s escaped for a JSON string (@json) or for a text line, where
 * control bytes and invalid UTF-8 become \xNN so a hostile id cannot forge
 * a line. Stops at the first unit that does not fit. */
static void put_escaped(struct line *l, const char *s, bool json)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);

	while (n > 0 && !l->full) {
		char esc[8];
		size_t k = ogw_utf8_seq_len(p, n);

		if (k == 0) {
			if (json)
				put(l, "\\ufffd", 6);
			else {
				snprintf(esc, sizeof(esc), "\\x%02x", *p);
				put(l, esc, 4);
			}
			k = 1;
		} else if (*p == '\n') {
			put(l, "\\n", 2);
		} else if (*p == '\r') {
			put(l, "\\r", 2);
		} else if (*p == '\t') {
			put(l, "\\t", 2);
		} else if (*p < 0x20 || *p == 0x7f) {
			if (json)
				snprintf(esc, sizeof(esc), "\\u%04x", *p);
			else
				snprintf(esc, sizeof(esc), "\\x%02x", *p);
			put(l, esc, strlen(esc));
		} else if (json && (*p == '"' || *p == '\\')) {
			esc[0] = '\\';
			esc[1] = (char)*p;
			put(l, esc, 2);
		} else {
			put(l, (const char *)p, k);
		}
		p += k;
		n -= k;
	}
}

/* Room kept free for the end of a JSON line: '}' '\n'. */
#define JSON_TAIL 2

/* Writes ,"key":"value" or nothing when not even the key fits; a value is
 * cut rather than the object left open, so every line stays valid JSON. */
static void json_field(struct line *l, const char *key, const char *val, size_t limit)
{
	size_t end = sizeof(l->buf) - JSON_TAIL;

	if (!val || l->full || l->len + strlen(key) + 6 > end)
		return;
	l->cap = end;
	puts_raw(l, ",\"");
	puts_raw(l, key);
	puts_raw(l, "\":\"");
	l->cap = end - 1 - l->len > limit ? l->len + limit : end - 1;
	put_escaped(l, val, true);
	l->cap = end;
	l->full = false;
	puts_raw(l, "\"");
}

static void format_json(struct line *l, enum ogw_log_level level, const char *ts,
			const struct ogw_log_ctx *ctx, const char *msg)
{
	puts_raw(l, "{\"ts\":\"");
	puts_raw(l, ts);
	puts_raw(l, "\",\"level\":\"");
	puts_raw(l, log_levels[level].name);
	puts_raw(l, "\"");
	json_field(l, "charger", ctx->charger, LOG_FIELD_MAX);
	json_field(l, "leg", ctx->leg, LOG_FIELD_MAX);
	json_field(l, "action", ctx->action, LOG_FIELD_MAX);
	json_field(l, "msg_id", ctx->msg_id, LOG_FIELD_MAX);
	json_field(l, "msg", msg, SIZE_MAX);
	l->cap = sizeof(l->buf);
	l->full = false;
	puts_raw(l, "}\n");
}

/* A context field in a text line, cut to LOG_FIELD_MAX bytes. */
static void text_field(struct line *l, const char *val)
{
	size_t cap = l->cap;

	if (l->cap - l->len > LOG_FIELD_MAX)
		l->cap = l->len + LOG_FIELD_MAX;
	put_escaped(l, val, false);
	l->cap = cap;
	l->full = false;
}

static void format_text(struct line *l, enum ogw_log_level level, const char *ts,
			const struct ogw_log_ctx *ctx, const char *msg)
{
	puts_raw(l, ts);
	puts_raw(l, " ");
	puts_raw(l, log_levels[level].label);
	puts_raw(l, " ");
	if (ctx->charger || ctx->leg) {
		puts_raw(l, "[");
		if (ctx->charger)
			text_field(l, ctx->charger);
		if (ctx->charger && ctx->leg)
			puts_raw(l, " ");
		if (ctx->leg)
			text_field(l, ctx->leg);
		puts_raw(l, "] ");
	}
	if (ctx->action)
		text_field(l, ctx->action);
	if (ctx->action && ctx->msg_id)
		puts_raw(l, " ");
	if (ctx->msg_id)
		text_field(l, ctx->msg_id);
	if (ctx->action || ctx->msg_id)
		puts_raw(l, ": ");
	put_escaped(l, msg, false);
	l->cap = sizeof(l->buf);
	l->full = false;
	puts_raw(l, "\n");
}

void ogw_log(enum ogw_log_level level, const struct ogw_log_ctx *ctx, const char *fmt, ...)
{
	static const struct ogw_log_ctx none;
	char msg[LOG_MSG_MAX];
	char ts[32];
	struct line l;
	va_list ap;
	int saved_errno = errno; /* so callers can log with %m and still read errno */

	if ((unsigned int)level > OGW_LOG_DEBUG || !ogw_log_enabled(level))
		return;
	if (!ctx)
		ctx = &none;
	va_start(ap, fmt);
	if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		msg[0] = '\0';
	va_end(ap);
	ogw_time_rfc3339(ts);

	l.len = 0;
	l.full = false;
	l.cap = sizeof(l.buf) - JSON_TAIL; /* the tail: '}' '\n', or just '\n' */
	if (log_json)
		format_json(&l, level, ts, ctx, msg);
	else
		format_text(&l, level, ts, ctx, msg);

	while (write(STDERR_FILENO, l.buf, l.len) < 0 && errno == EINTR)
		;
	errno = saved_errno;
}
