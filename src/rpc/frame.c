/* SPDX-License-Identifier: MIT */
/*
 * OCPP-J frames: decoding a text frame into type, id, action and payload,
 * with every malformation turned into one fault and the rule on whether to
 * answer it; encoding the five message types in one pass into a buffer with
 * headroom for lws; reading an id out of an undecodable frame; fresh ids.
 * It does not look inside payloads: that is schema validation's job.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "ocppgw/rpc.h"
#include "ocppgw/json.h"
#include "ocppgw/util.h"
#include "utf8.h"

/* 2.x errorDescription is string[255]. */
#define ERR_DESC_MAX 255

/* ---- decoding ---------------------------------------------------------- */

static void fault_set(struct ogw_rpc_fault *f, enum ogw_err err, bool reply, const char *id,
		      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void fault_set(struct ogw_rpc_fault *f, enum ogw_err err, bool reply, const char *id,
		      const char *fmt, ...)
{
	va_list ap;

	f->err = err;
	f->reply = reply;
	snprintf(f->id, sizeof(f->id), "%s", id && id[0] ? id : "-1");
	va_start(ap, fmt);
	vsnprintf(f->desc, sizeof(f->desc), fmt, ap);
	va_end(ap);
}

/* Reads "[<type>,\"<id>\"" from the head of @buf. Returns the type (or -1
 * when not even that is readable) and fills @ret_id, "-1" when unreadable.
 * Ids with escapes are not unescaped: they are reported as unreadable. */
static long sniff(const char *buf, size_t len, char ret_id[OGW_MSGID_MAX + 1])
{
	size_t i = 0, start;
	long type = -1;

	memcpy(ret_id, "-1", 3);
	if (!buf)
		return -1;
#define SKIP_WS() while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\n' || buf[i] == '\r')) i++
	SKIP_WS();
	if (i >= len || buf[i++] != '[')
		return -1;
	SKIP_WS();
	if (i >= len || buf[i] < '0' || buf[i] > '9')
		return -1;
	type = 0;
	while (i < len && buf[i] >= '0' && buf[i] <= '9') {
		if (type > 1000)
			return -1;
		type = type * 10 + (buf[i++] - '0');
	}
	SKIP_WS();
	if (i >= len || buf[i++] != ',')
		return type;
	SKIP_WS();
	if (i >= len || buf[i++] != '"')
		return type;
#undef SKIP_WS
	start = i;
	while (i < len && buf[i] != '"') {
		unsigned char c = (unsigned char)buf[i];

		if (c == '\\' || c < 0x20 || i - start >= OGW_MSGID_MAX)
			return type;
		i++;
	}
	if (i >= len || i == start)
		return type;
	/* The whole id, not its first character: an id that is not UTF-8
	 * would reach the peer changed (U+FFFD) in the CALLERROR's id. */
	for (size_t k = start, n; k < i; k += n)
		if (!(n = ogw_utf8_seq_len((const unsigned char *)buf + k, i - k)))
			return type;
	memcpy(ret_id, buf + start, i - start);
	ret_id[i - start] = '\0';
	return type;
}

void ogw_rpc_sniff_id(const char *buf, size_t len, char ret_id[OGW_MSGID_MAX + 1])
{
	sniff(buf, len, ret_id);
}

static bool type_known(long long t, enum ogw_ocpp v)
{
	if (t == OGW_MSG_CALL || t == OGW_MSG_CALLRESULT || t == OGW_MSG_CALLERROR)
		return true;
	return v == OGW_OCPP21 && (t == OGW_MSG_CALLRESULTERROR || t == OGW_MSG_SEND);
}

/* An answer (CALLRESULT, CALLERROR, CALLRESULTERROR) and a SEND are never
 * answered, however malformed. */
static bool type_answerable(long long t)
{
	return t == OGW_MSG_CALL;
}

/* NULL when @jid is a usable message id, else why not. */
static const char *id_problem(const json_t *jid)
{
	size_t n;

	if (!jid)
		return "message id missing";
	if (!json_is_string(jid))
		return "message id is not a string";
	n = json_string_length(jid);
	if (n == 0)
		return "message id is empty";
	if (n > OGW_MSGID_MAX)
		return "message id longer than 36 characters";
	return NULL;
}

/* Where the text after the id's closing quote starts, when the id stands
 * in @buf exactly as @id (no escapes); else NULL. @buf is known to be a
 * valid frame, so only the layout in front of the id is checked. */
static const char *id_end(const char *buf, size_t len, const char *id)
{
	size_t i = 0, idlen = strlen(id);
	while (i < len && buf[i] != '"')
		i++;
	if (i + 1 + idlen + 1 > len || memcmp(buf + i + 1, id, idlen) || buf[i + 1 + idlen] != '"')
		return NULL;
	return buf + i + 1 + idlen;
}

/* What jansson found wrong, said for the peer: its own text quotes the
 * input, which may be anything (invalid UTF-8 included). */
static const struct {
	enum json_error_code code;
	const char *what;
} json_faults[] = {
	{ json_error_invalid_utf8, "text is not valid UTF-8" },
	{ json_error_numeric_overflow, "number out of range" },
	{ json_error_null_character, "\\u0000 in a string" },
	{ json_error_duplicate_key, "duplicate object key" },
	{ json_error_stack_overflow, "nested deeper than 2048 levels" },
	{ json_error_premature_end_of_input, "text ends too early" },
	{ json_error_end_of_input_expected, "text after the end" },
	{ json_error_out_of_memory, "out of memory" },
};

static const char *json_fault_text(const json_error_t *jerr)
{
	for (size_t i = 0; i < sizeof(json_faults) / sizeof(json_faults[0]); i++)
		if (json_faults[i].code == json_error_code(jerr))
			return json_faults[i].what;
	return "syntax error";
}

int ogw_frame_decode(const char *buf, size_t len, enum ogw_ocpp v,
		     struct ogw_frame *ret, struct ogw_rpc_fault *fault)
{
	struct ogw_rpc_fault scratch;
	json_error_t jerr;
	json_t *root = NULL, *jid, *jaction = NULL, *payload = NULL, *jcode = NULL, *jdesc = NULL;
	const char *problem, *id;
	long long t;
	size_t n;
	int rc = -EBADMSG;

	if (!fault)
		fault = &scratch;
	/* The common frame in one pass; anything else, and every fault, is
	 * jansson's (ocppgw/json.h). */
	root = ogw_json_quick(buf, len);
	if (!root)
		root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		char sid[OGW_MSGID_MAX + 1];
		long st = sniff(buf, len, sid);

		fault_set(fault, OGW_ERR_RPC_FRAMEWORK, st < 0 || type_answerable(st) ||
			  !type_known(st, v), sid, "frame is not valid JSON: %s at byte %d",
			  json_fault_text(&jerr), jerr.position);
		goto out;
	}
	if (!json_is_array(root)) {
		fault_set(fault, OGW_ERR_RPC_FRAMEWORK, true, NULL, "frame is not a JSON array");
		goto out;
	}
	n = json_array_size(root);
	jid = json_array_get(root, 1);
	problem = id_problem(jid);
	id = problem ? NULL : json_string_value(jid);
	if (n == 0) {
		fault_set(fault, OGW_ERR_RPC_FRAMEWORK, true, NULL, "frame is an empty array");
		goto out;
	}
	if (!json_is_integer(json_array_get(root, 0))) {
		fault_set(fault, OGW_ERR_RPC_FRAMEWORK, true, id, "message type is not an integer");
		goto out;
	}
	t = json_integer_value(json_array_get(root, 0));
	if (!type_known(t, v)) {
		/* J16 and J21: ignore unknown types; J20 answers MessageTypeNotSupported. */
		fault_set(fault, OGW_ERR_MESSAGE_TYPE_NOT_SUPPORTED, v == OGW_OCPP201, id,
			  "message type %lld is not supported", t);
		goto out;
	}
	if (problem) {
		fault_set(fault, OGW_ERR_RPC_FRAMEWORK, type_answerable(t), NULL, "%s", problem);
		goto out;
	}

	switch (t) {
	case OGW_MSG_CALL:
	case OGW_MSG_SEND:
		jaction = json_array_get(root, 2);
		payload = json_array_get(root, 3);
		if (n != 4)
			problem = t == OGW_MSG_CALL ? "CALL must have 4 elements" :
						      "SEND must have 4 elements";
		else if (!json_is_string(jaction))
			problem = "action is not a string";
		else if (json_string_length(jaction) == 0)
			problem = "action is empty";
		else if (json_string_length(jaction) > OGW_ACTION_MAX)
			problem = "action name too long";
		else if (!json_is_object(payload))
			problem = "payload is not an object";
		break;
	case OGW_MSG_CALLRESULT:
		payload = json_array_get(root, 2);
		if (n != 3)
			problem = "CALLRESULT must have 3 elements";
		else if (!json_is_object(payload))
			problem = "payload is not an object";
		break;
	default: /* CALLERROR, CALLRESULTERROR */
		jcode = json_array_get(root, 2);
		jdesc = json_array_get(root, 3);
		payload = json_array_get(root, 4);
		if (n != 5)
			problem = t == OGW_MSG_CALLERROR ? "CALLERROR must have 5 elements" :
							   "CALLRESULTERROR must have 5 elements";
		else if (!json_is_string(jcode))
			problem = "error code is not a string";
		else if (!json_is_string(jdesc))
			problem = "error description is not a string";
		else if (!json_is_object(payload))
			problem = "error details is not an object";
		break;
	}
	if (problem) {
		fault_set(fault, OGW_ERR_RPC_FRAMEWORK, type_answerable(t), id, "%s", problem);
		goto out;
	}

	memset(ret, 0, sizeof(*ret));
	ret->type = (enum ogw_msg_type)t;
	memcpy(ret->id, id, json_string_length(jid) + 1);
	ret->action = jaction ? json_string_value(jaction) : NULL;
	ret->payload = payload;
	ret->err_code = jcode ? json_string_value(jcode) : NULL;
	ret->err_desc = jdesc ? json_string_value(jdesc) : NULL;
	ret->root = root;
	ret->rest = id_end(buf, len, ret->id);
	ret->rest_len = ret->rest ? len - (size_t)(ret->rest - buf) : 0;
	root = NULL;
	rc = 0;
out:
	json_decref(root);
	return rc;
}

void ogw_frame_release(struct ogw_frame *f)
{
	if (!f)
		return;
	json_decref(f->root);
	memset(f, 0, sizeof(*f));
}

/* ---- encoding ---------------------------------------------------------- */

/* The output grows in place: headroom first, then the JSON text. */
struct obuf {
	char *buf;
	size_t len; /* including headroom */
	size_t cap;
	bool failed;
};

static bool ob_init(struct obuf *b, size_t headroom, size_t guess)
{
	b->cap = headroom + guess;
	if (b->cap < headroom) /* overflow */
		return false;
	b->buf = malloc(b->cap);
	b->len = headroom;
	b->failed = !b->buf;
	return b->buf != NULL;
}

static void ob_put(struct obuf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (n >= b->cap - b->len) { /* keep one byte for the NUL */
		size_t cap = b->cap;
		char *p;

		while (n >= cap - b->len) {
			if (cap > SIZE_MAX / 2) {
				b->failed = true;
				return;
			}
			cap *= 2;
		}
		p = realloc(b->buf, cap);
		if (!p) {
			b->failed = true;
			return;
		}
		b->buf = p;
		b->cap = cap;
	}
	memcpy(b->buf + b->len, s, n);
	b->len += n;
}

/* Writes @s (at most @max bytes of it, cut on a character boundary) as a
 * JSON string, escaped as jansson would. Invalid UTF-8 becomes U+FFFD so
 * the output is always valid JSON text. */
static void ob_str(struct obuf *b, const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)p), used = 0;
	const unsigned char *run = p;

	ob_put(b, "\"", 1);
	while (n > 0) {
		size_t k = ogw_utf8_seq_len(p, n);
		char esc[8];
		const char *rep = NULL;
		size_t replen = 0;

		if (used + (k ? k : 1) > max)
			break;
		if (k == 0) {
			rep = "\\ufffd";
			replen = 6;
			k = 1;
		} else if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			rep = esc;
			replen = 2;
		} else if (*p < 0x20) {
			static const char short_esc[0x20] = {
				['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't',
			};

			if (short_esc[*p]) {
				esc[0] = '\\';
				esc[1] = short_esc[*p];
				replen = 2;
			} else {
				replen = (size_t)snprintf(esc, sizeof(esc), "\\u%04x", *p);
			}
			rep = esc;
		}
		if (rep) {
			ob_put(b, (const char *)run, (size_t)(p - run));
			ob_put(b, rep, replen);
			run = p + k;
		}
		p += k;
		n -= k;
		used += k;
	}
	ob_put(b, (const char *)run, (size_t)(p - run));
	ob_put(b, "\"", 1);
}

/* A string of a payload, escaped as jansson's json_dumps() does: the short
 * escapes, \u00XX with upper-case hex for the other bytes below 0x20, '/'
 * and non-ASCII as they are. Invalid UTF-8, which jansson refuses to
 * write, fails the frame. */
static void ob_jstr(struct obuf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n, *run = p;

	ob_put(b, "\"", 1);
	while (p < end) {
		char esc[8];
		size_t len = 2;

		if (*p >= 0x80) {
			size_t k = ogw_utf8_seq_len(p, (size_t)(end - p));
			if (!k) {
				b->failed = true;
				return;
			}
			p += k;
			continue;
		}
		if (*p >= 0x20 && *p != '"' && *p != '\\') {
			p++;
			continue;
		}
		esc[0] = '\\';
		switch (*p) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default: len = (size_t)snprintf(esc, sizeof(esc), "\\u%04X", *p); break;
		}
		ob_put(b, (const char *)run, (size_t)(p - run));
		ob_put(b, esc, len);
		run = ++p;
	}
	ob_put(b, (const char *)run, (size_t)(p - run));
	ob_put(b, "\"", 1);
}

/* A real as jansson writes it with JSON_REAL_PRECISION(15) (its
 * jsonp_dtostr()): "%.15g", ".0" added when that reads as an integer, and
 * no '+' or leading zeros in the exponent. */
static void ob_int(struct obuf *b, json_int_t v)
{
	char t[24], *p = t + sizeof(t);
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

	do
		*--p = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		*--p = '-';
	ob_put(b, p, (size_t)(t + sizeof(t) - p));
}

static void ob_real(struct obuf *b, double v)
{
	/* A whole number under 10^15 is its digits and ".0" ("%.15g" writes
	 * no exponent below 10^15); -0.0 keeps its sign through snprintf. */
	if (v > -1e15 && v < 1e15 && v == (double)(long long)v && !(v == 0 && signbit(v))) {
		ob_int(b, (json_int_t)v);
		ob_put(b, ".0", 2);
		return;
	}
	char t[48];
	int n = snprintf(t, sizeof(t), "%.15g", v);

	if (n < 0 || (size_t)n >= sizeof(t) - 3) {
		b->failed = true;
		return;
	}
	if (!strchr(t, '.') && !strchr(t, 'e')) {
		memcpy(t + n, ".0", 3);
		n += 2;
	}
	char *e = strchr(t, 'e');
	if (e) {
		char *from = e + 1, *to = e + 1;
		if (*from == '-')
			from = ++to;
		else if (*from == '+')
			from++;
		while (*from == '0' && from[1])
			from++;
		memmove(to, from, strlen(from) + 1);
		n = (int)strlen(t);
	}
	ob_put(b, t, (size_t)n);
}

/* @v as JSON text, byte for byte what json_dump_callback() writes with
 * JSON_COMPACT | JSON_REAL_PRECISION(15) | JSON_ENCODE_ANY (keys in
 * insertion order), without its per-byte
 * callbacks and UTF-8 decoding of every character (a quarter of a
 * translated frame's instructions went there). */
static void ob_value(struct obuf *b, const json_t *v)
{
	size_t i, n;
	void *it;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		ob_put(b, "{", 1);
		for (it = json_object_iter((json_t *)v), n = 0; it && !b->failed;
		     it = json_object_iter_next((json_t *)v, it), n++) {
			if (n)
				ob_put(b, ",", 1);
			ob_jstr(b, json_object_iter_key(it), json_object_iter_key_len(it));
			ob_put(b, ":", 1);
			ob_value(b, json_object_iter_value(it));
		}
		ob_put(b, "}", 1);
		break;
	case JSON_ARRAY:
		ob_put(b, "[", 1);
		for (i = 0, n = json_array_size(v); i < n && !b->failed; i++) {
			if (i)
				ob_put(b, ",", 1);
			ob_value(b, json_array_get(v, i));
		}
		ob_put(b, "]", 1);
		break;
	case JSON_STRING:
		ob_jstr(b, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		ob_int(b, json_integer_value(v));
		break;
	case JSON_REAL:
		ob_real(b, json_real_value(v));
		break;
	case JSON_TRUE:
		ob_put(b, "true", 4);
		break;
	case JSON_FALSE:
		ob_put(b, "false", 5);
		break;
	case JSON_NULL:
		ob_put(b, "null", 4);
		break;
	}
}

static void ob_json(struct obuf *b, const json_t *v)
{
	if (!v) {
		ob_put(b, "{}", 2);
		return;
	}
	ob_value(b, v);
}

static char *ob_finish(struct obuf *b, size_t headroom, size_t *ret_len)
{
	if (b->failed) {
		free(b->buf);
		return NULL;
	}
	b->buf[b->len] = '\0';
	if (ret_len)
		*ret_len = b->len - headroom;
	return b->buf;
}

/* A first guess that fits most OCPP frames without growing. */
#define ENCODE_GUESS 512

/* Starts every frame: headroom, then `[<type>,"<id>",`. */
static bool ob_open(struct obuf *b, size_t headroom, enum ogw_msg_type type, const char *id)
{
	const char head[3] = { '[', (char)('0' + type), ',' };

	if (!ob_init(b, headroom, ENCODE_GUESS))
		return false;
	ob_put(b, head, sizeof(head));
	ob_str(b, id, SIZE_MAX);
	ob_put(b, ",", 1);
	return true;
}

char *ogw_rpc_encode_call(size_t headroom, enum ogw_msg_type type, const char *id,
			  const char *action, const json_t *payload, size_t *ret_len)
{
	struct obuf b;

	if (type != OGW_MSG_CALL && type != OGW_MSG_SEND)
		return NULL;
	if (!ob_open(&b, headroom, type, id))
		return NULL;
	ob_str(&b, action, SIZE_MAX);
	ob_put(&b, ",", 1);
	ob_json(&b, payload);
	ob_put(&b, "]", 1);
	return ob_finish(&b, headroom, ret_len);
}

char *ogw_rpc_reframe(size_t headroom, enum ogw_msg_type type, const char *id,
		      const char *rest, size_t rest_len, size_t *ret_len)
{
	struct obuf b;

	if (!ob_open(&b, headroom, type, id))
		return NULL;
	/* ob_open wrote `[type,"id",` and the rest starts at the id's closing
	 * quote: drop the quote and comma it would repeat. */
	b.len -= 2;
	ob_put(&b, rest, rest_len);
	return ob_finish(&b, headroom, ret_len);
}

char *ogw_rpc_encode_result(size_t headroom, const char *id, const json_t *payload,
			    size_t *ret_len)
{
	struct obuf b;

	if (!ob_open(&b, headroom, OGW_MSG_CALLRESULT, id))
		return NULL;
	ob_json(&b, payload);
	ob_put(&b, "]", 1);
	return ob_finish(&b, headroom, ret_len);
}

char *ogw_rpc_encode_error(size_t headroom, enum ogw_msg_type type, const char *id,
			   const char *code, const char *desc, const json_t *details,
			   size_t *ret_len)
{
	struct obuf b;

	if (type != OGW_MSG_CALLERROR && type != OGW_MSG_CALLRESULTERROR)
		return NULL;
	if (!ob_open(&b, headroom, type, id))
		return NULL;
	ob_str(&b, code, SIZE_MAX);
	ob_put(&b, ",", 1);
	ob_str(&b, desc, ERR_DESC_MAX);
	ob_put(&b, ",", 1);
	ob_json(&b, details);
	ob_put(&b, "]", 1);
	return ob_finish(&b, headroom, ret_len);
}

/* ---- message ids ------------------------------------------------------- */

static pthread_mutex_t id_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_bool id_ready;
static atomic_uint_fast64_t id_counter;
static char id_prefix[17];

static void id_child_after_fork(void)
{
	/* A child must not continue the parent's sequence under its prefix. */
	atomic_store(&id_ready, false);
}

static void id_prefix_init(void)
{
	static bool atfork_set;
	unsigned char r[8];

	pthread_mutex_lock(&id_lock);
	if (atomic_load(&id_ready))
		goto out;
	if (!atfork_set)
		atfork_set = pthread_atfork(NULL, NULL, id_child_after_fork) == 0;
	if (ogw_random_bytes(r, sizeof(r)) < 0) {
		/* No entropy source: the clocks and pid still differ per process. */
		struct timespec ts;
		uint64_t mix;

		clock_gettime(CLOCK_REALTIME, &ts);
		mix = (uint64_t)ts.tv_sec * 1000000007u ^ (uint64_t)ts.tv_nsec ^
		      (uint64_t)getpid() << 40 ^ ogw_now_us() << 20;
		memcpy(r, &mix, sizeof(r));
	}
	ogw_hex_encode(r, sizeof(r), id_prefix);
	atomic_store(&id_counter, 0);
	atomic_store_explicit(&id_ready, true, memory_order_release);
out:
	pthread_mutex_unlock(&id_lock);
}

void ogw_rpc_new_id(char ret[OGW_MSGID_MAX + 1])
{
	static const char digits[] = "0123456789abcdef";
	char tmp[16];
	uint64_t n;
	size_t k = 0;

	if (!atomic_load_explicit(&id_ready, memory_order_acquire))
		id_prefix_init();
	n = atomic_fetch_add_explicit(&id_counter, 1, memory_order_relaxed);
	/* 16 prefix digits, '-', at most 16 counter digits: 33 characters. */
	memcpy(ret, id_prefix, 16);
	ret[16] = '-';
	do {
		tmp[k++] = digits[n & 0xf];
		n >>= 4;
	} while (n);
	for (size_t i = 0; i < k; i++)
		ret[17 + i] = tmp[k - 1 - i];
	ret[17 + k] = '\0';
}
