/* SPDX-License-Identifier: MIT */
/*
 * Walks a jansson value against a compiled schema and reports the first
 * fault with its OCPP error, field path and a human description. It never
 * allocates: the path is only built, from the leaf up, once a fault is found.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "internal.h"
#include "ocppgw/ocpp.h"
#include "ocppgw/schema.h"

/* Only recursive schemas can get this deep; OCPP payloads stay below 10. */
#define VALIDATE_DEPTH_MAX 64
/* An enum listing in a message stops after this many bytes. */
#define ENUM_LIST_MAX 120
/* Longest instance value quoted in a message, and longest key in a path. */
#define QUOTE_MAX 40
#define KEY_MAX 64

struct vctx {
	struct ogw_schema_fault *fault;
	char msg[sizeof(((struct ogw_schema_fault *)0)->desc)];
	int depth;
};

__attribute__((format(printf, 3, 4)))
static int fail(struct vctx *c, enum ogw_err e, const char *fmt, ...)
{
	va_list ap;
	c->fault->err = e;
	c->fault->path[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(c->msg, sizeof(c->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Bytes of @s (length @len) that fit in @max without splitting a character. */
static size_t utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
		max--;
	return max;
}

/* Prepends a path segment: a key ("a" -> "key.a") or an index ("[3].a").
 * When the path would overflow, its deepest end is cut. */
static void path_prepend(struct ogw_schema_fault *f, const char *key, size_t keylen,
			 size_t index)
{
	char seg[KEY_MAX + 24];
	size_t n, old = strlen(f->path);

	if (key) {
		size_t k = utf8_cut(key, keylen, KEY_MAX);
		memcpy(seg, key, k);
		n = k;
		if (k < keylen) {
			memcpy(seg + n, "...", 3);
			n += 3;
		}
	} else {
		n = (size_t)snprintf(seg, sizeof(seg), "[%zu]", index);
	}
	if (old && f->path[0] != '[')
		seg[n++] = '.';
	if (n >= sizeof(f->path))
		n = sizeof(f->path) - 1;
	if (old + n >= sizeof(f->path))
		old = utf8_cut(f->path, old, sizeof(f->path) - 1 - n);
	memmove(f->path + n, f->path, old);
	memcpy(f->path, seg, n);
	f->path[n + old] = '\0';
}

/* A short rendering of @v for messages: a quoted string or a number. */
static void describe(const json_t *v, char *buf, size_t size)
{
	switch (json_typeof(v)) {
	case JSON_STRING: {
		size_t len = json_string_length(v);
		size_t n = utf8_cut(json_string_value(v), len, QUOTE_MAX);
		snprintf(buf, size, "\"%.*s%s\"", (int)n, json_string_value(v),
			 n < len ? "..." : "");
		break;
	}
	case JSON_INTEGER:
		snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		snprintf(buf, size, "%.15g", json_real_value(v));
		break;
	case JSON_TRUE:
		snprintf(buf, size, "true");
		break;
	case JSON_FALSE:
		snprintf(buf, size, "false");
		break;
	case JSON_NULL:
		snprintf(buf, size, "null");
		break;
	case JSON_OBJECT:
		snprintf(buf, size, "an object");
		break;
	case JSON_ARRAY:
		snprintf(buf, size, "an array");
		break;
	}
}

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "object";
	case JSON_ARRAY: return "array";
	case JSON_STRING: return "string";
	case JSON_INTEGER: return "integer";
	case JSON_REAL: return "number";
	case JSON_TRUE:
	case JSON_FALSE: return "boolean";
	case JSON_NULL: return "null";
	}
	return "?";
}

static uint8_t type_bit(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return SCH_T_OBJ;
	case JSON_ARRAY: return SCH_T_ARR;
	case JSON_STRING: return SCH_T_STR;
	case JSON_INTEGER: return SCH_T_INT;
	case JSON_REAL: return SCH_T_NUM;
	case JSON_TRUE:
	case JSON_FALSE: return SCH_T_BOOL;
	case JSON_NULL: return SCH_T_NULL;
	}
	return 0;
}

static int fail_type(struct vctx *c, uint8_t want, const json_t *v)
{
	static const struct {
		uint8_t bit;
		const char *name;
	} names[] = {
		{ SCH_T_OBJ, "object" }, { SCH_T_ARR, "array" },   { SCH_T_STR, "string" },
		{ SCH_T_NUM, "number" }, { SCH_T_INT, "integer" }, { SCH_T_BOOL, "boolean" },
		{ SCH_T_NULL, "null" },
	};
	char list[96] = "";
	size_t o = 0;

	if (want & SCH_T_NUM)
		want &= (uint8_t)~SCH_T_INT; /* "number" covers integers */
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(want & names[i].bit))
			continue;
		int n = snprintf(list + o, sizeof(list) - o, "%s%s", o ? " or " : "", names[i].name);
		if (n > 0 && o + (size_t)n < sizeof(list))
			o += (size_t)n;
	}
	return fail(c, OGW_ERR_TYPE_CONSTRAINT, "expected %s, got %s", list, type_name(v));
}

static bool json_same(const json_t *a, const json_t *b)
{
	if (json_is_number(a) && json_is_number(b))
		return json_number_value(a) == json_number_value(b);
	return json_equal(a, b);
}

static int fail_enum(struct vctx *c, const struct sch_node *n, const json_t *v)
{
	char val[QUOTE_MAX + 16], list[ENUM_LIST_MAX + 8];
	size_t o = 0;

	describe(v, val, sizeof(val));
	for (size_t i = 0; i < n->nenum; i++) {
		char one[QUOTE_MAX + 16];
		if (n->flags & SCH_F_ENUM_JSON)
			describe(n->enumv.json[i], one, sizeof(one));
		else if (n->flags & SCH_F_CONST)
			snprintf(one, sizeof(one), "\"%s\"", n->enumv.str[i]);
		else
			snprintf(one, sizeof(one), "%s", n->enumv.str[i]);
		size_t need = strlen(one) + (i ? 2 : 0);
		if (o + need > ENUM_LIST_MAX) {
			snprintf(list + o, sizeof(list) - o, ", ...");
			break;
		}
		o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", i ? ", " : "", one);
	}
	if (n->flags & SCH_F_CONST)
		return fail(c, OGW_ERR_PROPERTY_CONSTRAINT, "%s is not %s", val, list);
	return fail(c, OGW_ERR_PROPERTY_CONSTRAINT, "%s is not one of %s", val, list);
}

static int check_enum(struct vctx *c, const struct sch_node *n, const json_t *v)
{
	if (n->flags & SCH_F_ENUM_JSON) {
		for (size_t i = 0; i < n->nenum; i++)
			if (json_same(v, n->enumv.json[i]))
				return 0;
		return fail_enum(c, n, v);
	}
	const char *s = json_string_value(v);
	if (s) {
		for (size_t i = 0; i < n->nenum; i++) {
			const char *e = n->enumv.str[i];
			/* strcmp stops at an embedded NUL; the length check does not. */
			if (strcmp(s, e) == 0 && json_string_length(v) == strlen(e))
				return 0;
		}
	}
	return fail_enum(c, n, v);
}

static size_t code_points(const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xC0) != 0x80;
	return n;
}

static bool digits(const char *s, int n, int *ret)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*ret = v;
	return true;
}

/* RFC 3339 §5.6 date-time, with its ranges (leap years, second 60). */
static bool is_date_time(const char *s, size_t len)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, mo, d, h, mi, sec, oh, om;
	size_t i = 19;

	if (len < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
	    s[7] != '-' || !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
	    !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &mi) ||
	    s[16] != ':' || !digits(s + 17, 2, &sec))
		return false;
	if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 60)
		return false;
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (d > mdays[mo - 1] + (mo == 2 && leap))
		return false;
	if (s[i] == '.') {
		size_t start = ++i;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == start)
			return false;
	}
	if (i < len && (s[i] == 'Z' || s[i] == 'z'))
		return i + 1 == len;
	if (i + 6 != len || (s[i] != '+' && s[i] != '-') || !digits(s + i + 1, 2, &oh) ||
	    s[i + 3] != ':' || !digits(s + i + 4, 2, &om))
		return false;
	return oh <= 23 && om <= 59;
}

static bool is_alpha(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z');
}

static bool is_hex(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'F') || (ch >= 'a' && ch <= 'f');
}

/* RFC 3986: scheme ":" rest, where the rest holds only URI characters and
 * well-formed percent escapes. The parts after the scheme are not parsed. */
static bool is_uri(const char *s, size_t len)
{
	size_t i = 0;

	if (len == 0 || !is_alpha(s[0]))
		return false;
	while (i < len && (is_alpha(s[i]) || (s[i] >= '0' && s[i] <= '9') || s[i] == '+' ||
			   s[i] == '-' || s[i] == '.'))
		i++;
	if (i == len || s[i] != ':')
		return false;
	for (i++; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch <= 0x20 || ch >= 0x7F || strchr("\"<>\\^`{|}", ch))
			return false;
		if (ch == '%' && (i + 2 >= len || !is_hex(s[i + 1]) || !is_hex(s[i + 2])))
			return false;
	}
	return true;
}

static int check_string(struct vctx *c, const struct sch_node *n, const json_t *v)
{
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);

	/* Bytes bound code points from above, so most strings need no count. */
	if (n->max_len != SCH_NO_LIMIT && len > n->max_len &&
	    code_points(s, len) > n->max_len)
		return fail(c, OGW_ERR_PROPERTY_CONSTRAINT, "longer than %u characters",
			    (unsigned)n->max_len);
	if (n->min_len && (len < n->min_len || code_points(s, len) < n->min_len))
		return fail(c, OGW_ERR_PROPERTY_CONSTRAINT, "shorter than %u characters",
			    (unsigned)n->min_len);
	if ((n->flags & SCH_F_DATETIME) && !is_date_time(s, len)) {
		char val[QUOTE_MAX + 16];
		describe(v, val, sizeof(val));
		return fail(c, OGW_ERR_PROPERTY_CONSTRAINT, "%s is not an RFC 3339 date-time", val);
	}
	if ((n->flags & SCH_F_URI) && !is_uri(s, len)) {
		char val[QUOTE_MAX + 16];
		describe(v, val, sizeof(val));
		return fail(c, OGW_ERR_PROPERTY_CONSTRAINT, "%s is not a URI", val);
	}
	return 0;
}

static int check_number(struct vctx *c, const struct sch_num *num, const json_t *v)
{
	double x = json_number_value(v);
	char val[48];

	if ((num->flags & SCH_N_MIN) && ((num->flags & SCH_N_XMIN) ? x <= num->min : x < num->min)) {
		describe(v, val, sizeof(val));
		return fail(c, OGW_ERR_PROPERTY_CONSTRAINT, "%s is %s %.15g", val,
			    (num->flags & SCH_N_XMIN) ? "not greater than" : "less than the minimum",
			    num->min);
	}
	if ((num->flags & SCH_N_MAX) && ((num->flags & SCH_N_XMAX) ? x >= num->max : x > num->max)) {
		describe(v, val, sizeof(val));
		return fail(c, OGW_ERR_PROPERTY_CONSTRAINT, "%s is %s %.15g", val,
			    (num->flags & SCH_N_XMAX) ? "not less than" : "more than the maximum",
			    num->max);
	}
	if (num->flags & SCH_N_MULT) {
		/* Decimal steps such as 0.1 are inexact in binary: allow rounding
		 * noise relative to the quotient. */
		double q = x / num->mult;
		if (!isfinite(q) || fabs(q - nearbyint(q)) > 1e-9 * fmax(1.0, fabs(q))) {
			describe(v, val, sizeof(val));
			return fail(c, OGW_ERR_PROPERTY_CONSTRAINT, "%s is not a multiple of %.15g",
				    val, num->mult);
		}
	}
	return 0;
}

static int check(struct vctx *c, const struct sch_node *n, const json_t *v);

static int prop_key_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct sch_prop *)elem)->name);
}

static int check_object(struct vctx *c, const struct sch_node *n, json_t *v)
{
	int r;

	if (n->nreq) {
		for (size_t i = 0; i < n->nprops; i++) {
			const struct sch_prop *p = &n->props[i];
			if (p->required && !json_object_get(v, p->name)) {
				fail(c, OGW_ERR_OCCURRENCE_CONSTRAINT, "required property missing");
				path_prepend(c->fault, p->name, strlen(p->name), 0);
				return -EINVAL;
			}
		}
	}
	for (void *it = json_object_iter(v); it; it = json_object_iter_next(v, it)) {
		const char *key = json_object_iter_key(it);
		size_t klen = json_object_iter_key_len(it);
		/* A key with a NUL inside matches no schema name. */
		const struct sch_prop *p = strlen(key) != klen || !n->nprops ? NULL :
			bsearch(key, n->props, n->nprops, sizeof(*n->props), prop_key_cmp);
		if (!p) {
			if (!(n->flags & SCH_F_NO_EXTRA))
				continue;
			fail(c, OGW_ERR_FORMAT_VIOLATION, "property not allowed");
			path_prepend(c->fault, key, klen, 0);
			return -EINVAL;
		}
		if ((r = check(c, p->node, json_object_iter_value(it))) < 0) {
			path_prepend(c->fault, key, klen, 0);
			return r;
		}
	}
	return 0;
}

static int check_array(struct vctx *c, const struct sch_node *n, const json_t *v)
{
	size_t cnt = json_array_size(v);
	int r;

	if (cnt < n->min_items)
		return fail(c, OGW_ERR_OCCURRENCE_CONSTRAINT, "fewer than %u items",
			    (unsigned)n->min_items);
	if (n->max_items != SCH_NO_LIMIT && cnt > n->max_items)
		return fail(c, OGW_ERR_OCCURRENCE_CONSTRAINT, "more than %u items",
			    (unsigned)n->max_items);
	if (!n->items)
		return 0;
	for (size_t i = 0; i < cnt; i++) {
		if ((r = check(c, n->items, json_array_get(v, i))) < 0) {
			path_prepend(c->fault, NULL, 0, i);
			return r;
		}
	}
	return 0;
}

static int check(struct vctx *c, const struct sch_node *n, const json_t *v)
{
	uint8_t bit;
	int r = 0;

	if (!n)
		return 0;
	if (++c->depth > VALIDATE_DEPTH_MAX) {
		r = fail(c, OGW_ERR_FORMAT_VIOLATION, "nested too deeply");
		goto out;
	}
	bit = type_bit(v);
	if (n->types && !(n->types & bit)) {
		double d = bit == SCH_T_NUM ? json_real_value(v) : 0;
		/* "integer" takes 1.0: JSON does not tell integers from reals. */
		if (!(bit == SCH_T_NUM && (n->types & SCH_T_INT) && d == floor(d) && isfinite(d))) {
			r = fail_type(c, n->types, v);
			goto out;
		}
	}
	if (n->nenum && (r = check_enum(c, n, v)) < 0)
		goto out;
	switch (bit) {
	case SCH_T_STR:
		r = check_string(c, n, v);
		break;
	case SCH_T_INT:
	case SCH_T_NUM:
		if (n->num)
			r = check_number(c, n->num, v);
		break;
	case SCH_T_ARR:
		r = check_array(c, n, v);
		break;
	case SCH_T_OBJ:
		/* jansson's iterators take a non-const object; nothing is changed. */
		r = check_object(c, n, (json_t *)v);
		break;
	default:
		break;
	}
out:
	c->depth--;
	return r;
}

int ogw_schema_validate(const struct ogw_schema *s, const json_t *instance,
			struct ogw_schema_fault *fault)
{
	struct vctx c = { .fault = fault };
	int r;

	fault->err = OGW_ERR_NONE;
	fault->path[0] = '\0';
	fault->desc[0] = '\0';
	if (!s || !instance) {
		fault->err = OGW_ERR_INTERNAL;
		snprintf(fault->desc, sizeof(fault->desc), "no schema or no instance");
		return -EINVAL;
	}
	r = check(&c, s->root, instance);
	if (r < 0) {
		int n = snprintf(fault->desc, sizeof(fault->desc), "%s: %s",
				 fault->path[0] ? fault->path : "(root)", c.msg);
		if (n >= (int)sizeof(fault->desc)) {
			size_t cut = utf8_cut(fault->desc, sizeof(fault->desc) - 1,
					      sizeof(fault->desc) - 4);
			memcpy(fault->desc + cut, "...", 4);
		}
	}
	return r;
}
