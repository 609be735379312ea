/* SPDX-License-Identifier: MIT */
/*
 * The common OCPP frame parsed in one pass over its bytes (ocppgw/json.h).
 *
 * jansson's parser reads a byte at a time through a stream with a UTF-8
 * decoder, appends each string byte to a buffer and copies it again: a
 * quarter of the gateway's instructions per relayed call went there
 * (bench/callgrind.sh, docs/PERFORMANCE.md). This parser builds the same
 * jansson tree from the same text, for the subset real frames are made of,
 * and gives up on anything else, which jansson then parses (and explains,
 * when it is wrong). What it takes, jansson takes too and makes the same
 * tree of (tests/fuzz/fuzz_frame.c checks it on every input):
 *
 *   - an array or object at the top, at most QUICK_DEPTH deep, nothing
 *     but white space after it;
 *   - strings of printable ASCII, with the two-character escapes; no
 *     \u escape, no byte >= 0x80 (jansson checks UTF-8), no control byte;
 *   - integers of at most 18 digits (no overflow), reals strtod() takes
 *     finite, in JSON's grammar (no leading zero, digits after '.' and
 *     after the exponent);
 *   - true, false, null;
 *   - no key twice in an object (the frames are parsed with
 *     JSON_REJECT_DUPLICATES).
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ocppgw/json.h"

#define QUICK_DEPTH 32
/* Longest number token taken; strtod() reads a terminated copy. */
#define QUICK_NUM_MAX 40

struct quick {
	const char *p;
	const char *end;
	char *scratch;      /* unescaped strings */
	size_t scratch_cap;
};

static json_t *value(struct quick *q, int depth);

static void skip_ws(struct quick *q)
{
	while (q->p < q->end && (*q->p == ' ' || *q->p == '\n' || *q->p == '\r' || *q->p == '\t'))
		q->p++;
}

static bool literal(struct quick *q, const char *word, size_t len)
{
	if ((size_t)(q->end - q->p) < len || memcmp(q->p, word, len) != 0)
		return false;
	q->p += len;
	return true;
}

/* At the opening quote. Sets *ret and *ret_len to the string's bytes, in
 * the text itself when it has no escape, else in q->scratch. */
static bool string(struct quick *q, const char **ret, size_t *ret_len)
{
	const char *s = ++q->p, *run;
	size_t n = 0;

	while (q->p < q->end) {
		unsigned char c = (unsigned char)*q->p;
		if (c == '"') {
			*ret = s;
			*ret_len = (size_t)(q->p++ - s);
			return true;
		}
		if (c == '\\')
			break;
		if (c < 0x20 || c >= 0x80)
			return false;
		q->p++;
	}
	if (q->p >= q->end)
		return false;
	/* Escapes: the whole string, unescaped, into the scratch buffer (no
	 * longer than its text). */
	for (run = q->p; run < q->end && *run != '"'; run += *run == '\\' ? 2 : 1)
		;
	size_t most = (size_t)(run - s);
	if (most > q->scratch_cap) {
		char *b = realloc(q->scratch, most);
		if (!b)
			return false;
		q->scratch = b;
		q->scratch_cap = most;
	}
	memcpy(q->scratch, s, (size_t)(q->p - s));
	n = (size_t)(q->p - s);
	while (q->p < q->end) {
		unsigned char c = (unsigned char)*q->p;
		if (c == '"') {
			q->p++;
			*ret = q->scratch;
			*ret_len = n;
			return true;
		}
		if (c < 0x20 || c >= 0x80)
			return false;
		if (c != '\\') {
			q->scratch[n++] = (char)c;
			q->p++;
			continue;
		}
		if (q->end - q->p < 2)
			return false;
		switch (q->p[1]) {
		case '"': c = '"'; break;
		case '\\': c = '\\'; break;
		case '/': c = '/'; break;
		case 'b': c = '\b'; break;
		case 'f': c = '\f'; break;
		case 'n': c = '\n'; break;
		case 'r': c = '\r'; break;
		case 't': c = '\t'; break;
		default: return false;  /* \u and anything else: jansson's */
		}
		q->scratch[n++] = (char)c;
		q->p += 2;
	}
	return false;
}

static bool digit(const struct quick *q, const char *p)
{
	return p < q->end && *p >= '0' && *p <= '9';
}

static json_t *number(struct quick *q)
{
	const char *s = q->p, *p = q->p;
	bool real = false;

	if (*p == '-')
		p++;
	if (!digit(q, p))
		return NULL;
	if (*p == '0' && digit(q, p + 1))
		return NULL;  /* a leading zero */
	while (digit(q, p))
		p++;
	if (p < q->end && *p == '.') {
		real = true;
		if (!digit(q, ++p))
			return NULL;
		while (digit(q, p))
			p++;
	}
	if (p < q->end && (*p == 'e' || *p == 'E')) {
		real = true;
		p++;
		if (p < q->end && (*p == '+' || *p == '-'))
			p++;
		if (!digit(q, p))
			return NULL;
		while (digit(q, p))
			p++;
	}
	size_t len = (size_t)(p - s);
	if (!real) {
		bool neg = *s == '-';
		const char *d = s + neg;
		if ((size_t)(p - d) > 18)
			return NULL;  /* could overflow: jansson decides */
		json_int_t v = 0;
		for (; d < p; d++)
			v = v * 10 + (*d - '0');
		q->p = p;
		return json_integer(neg ? -v : v);
	}
	if (len > QUICK_NUM_MAX)
		return NULL;
	char tok[QUICK_NUM_MAX + 1];
	memcpy(tok, s, len);
	tok[len] = '\0';
	double v = strtod(tok, NULL);
	if (!isfinite(v))
		return NULL;
	q->p = p;
	return json_real(v);
}

/* Past white space: true at @c, which is taken. */
static bool take(struct quick *q, char c)
{
	skip_ws(q);
	if (q->p >= q->end || *q->p != c)
		return false;
	q->p++;
	return true;
}

/* After a member of an array or object: 1 at its end @close, 0 after the
 * comma before the next member, -1 at anything else. */
static int next_member(struct quick *q, char close)
{
	if (take(q, close))
		return 1;
	return take(q, ',') ? 0 : -1;
}

static json_t *array(struct quick *q, int depth)
{
	json_t *a = json_array();
	int more = 0;

	q->p++;
	if (a && take(q, ']'))
		return a;
	while (a && more == 0) {
		json_t *v = value(q, depth);
		if (!v || json_array_append_new(a, v) < 0)
			break;
		if ((more = next_member(q, ']')) == 1)
			return a;
	}
	json_decref(a);
	return NULL;
}

static json_t *object(struct quick *q, int depth)
{
	json_t *o = json_object();
	const char *key;
	size_t klen;
	int more = 0;

	q->p++;
	if (o && take(q, '}'))
		return o;
	while (o && more == 0) {
		skip_ws(q);
		if (q->p >= q->end || *q->p != '"' || !string(q, &key, &klen))
			break;
		/* A key with escapes sits in the scratch buffer, which the value
		 * may reuse: it is copied out first. Others stay in the text. */
		char kbuf[64], *k = NULL;
		if (key == q->scratch) {
			if (!(k = klen <= sizeof(kbuf) ? kbuf : malloc(klen)))
				break;
			memcpy(k, key, klen);
			key = k;
		}
		json_t *v = NULL;
		if (!json_object_getn(o, key, klen) && take(q, ':'))
			v = value(q, depth);
		int r = v ? json_object_setn_new_nocheck(o, key, klen, v) : -1;
		if (k && k != kbuf)
			free(k);
		if (r < 0)
			break;
		if ((more = next_member(q, '}')) == 1)
			return o;
	}
	json_decref(o);
	return NULL;
}

static json_t *value(struct quick *q, int depth)
{
	const char *s;
	size_t len;

	skip_ws(q);
	if (q->p >= q->end)
		return NULL;
	switch (*q->p) {
	case '{':
		return depth < QUICK_DEPTH ? object(q, depth + 1) : NULL;
	case '[':
		return depth < QUICK_DEPTH ? array(q, depth + 1) : NULL;
	case '"':
		return string(q, &s, &len) ? json_stringn_nocheck(s, len) : NULL;
	case 't':
		return literal(q, "true", 4) ? json_true() : NULL;
	case 'f':
		return literal(q, "false", 5) ? json_false() : NULL;
	case 'n':
		return literal(q, "null", 4) ? json_null() : NULL;
	default:
		return number(q);
	}
}

json_t *ogw_json_quick(const char *buf, size_t len)
{
	struct quick q = { .p = buf, .end = buf + len };
	json_t *root = NULL;

	skip_ws(&q);
	if (q.p < q.end && (*q.p == '[' || *q.p == '{'))
		root = value(&q, 0);
	free(q.scratch);
	if (!root)
		return NULL;
	skip_ws(&q);
	if (q.p != q.end) {
		json_decref(root);
		return NULL;
	}
	return root;
}
