/* SPDX-License-Identifier: MIT */
/*
 * Loads schema sets (a directory or the built-in files) and compiles each
 * JSON Schema into compact nodes in one arena per set, with property names
 * and enum strings interned. It rejects keywords it cannot enforce rather
 * than ignoring them; it does not validate instances (validate.c does).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "internal.h"
#include "ocppgw/ocpp.h"
#include "ocppgw/rpc.h"
#include "ocppgw/schema.h"

#define ARENA_CHUNK (64 * 1024)
/* Deeper schemas than this are hostile or broken; OCA's go 8 levels deep. */
#define COMPILE_DEPTH_MAX 64

struct arena_chunk {
	struct arena_chunk *next;
	size_t used, size;
	_Alignas(max_align_t) unsigned char data[];
};

/* Bytes one schema file may have. */
#define SCHEMA_FILE_MAX (1024 * 1024)

struct sch_action {
	const char *name; /* interned */
	struct ogw_schema *req, *resp;
};

struct ogw_schema_set {
	struct arena_chunk *arena;
	struct sch_action *actions; /* sorted by name once loading ends */
	size_t nactions, cap_actions;
	size_t nrequests;
	json_t **owned; /* non-string enum and const values */
	size_t nowned, cap_owned;
	/* String interning, only while loading (open addressing). */
	const char **intern;
	size_t nintern, cap_intern;
};

/* A definition of the file being compiled; node NULL while it resolves. */
struct def_entry {
	const char *name;
	const struct sch_node *node;
};

struct cctx {
	struct ogw_schema_set *set;
	const char *file;
	json_t *defs;
	struct def_entry *defmap;
	size_t ndefs, cap_defs;
	const struct sch_node *root; /* for "$ref": "#" */
	int depth;
	char where[192]; /* JSON pointer of the schema part being compiled */
	size_t wlen;
	char *err;
	size_t errlen;
};

static void *arena_alloc(struct ogw_schema_set *s, size_t size)
{
	struct arena_chunk *c = s->arena;
	size = (size + 15) & ~(size_t)15;
	if (!c || c->size - c->used < size) {
		size_t cs = size > ARENA_CHUNK ? size : ARENA_CHUNK;
		c = malloc(sizeof(*c) + cs);
		if (!c)
			return NULL;
		c->size = cs;
		c->used = 0;
		c->next = s->arena;
		s->arena = c;
	}
	void *p = c->data + c->used;
	c->used += size;
	memset(p, 0, size);
	return p;
}

static uint32_t hash_str(const char *p, size_t len)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)p[i]) * 16777619u;
	return h;
}

static int intern_grow(struct ogw_schema_set *s)
{
	size_t cap = s->cap_intern ? s->cap_intern * 2 : 1024;
	const char **t = calloc(cap, sizeof(*t));
	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < s->cap_intern; i++) {
		const char *e = s->intern[i];
		if (!e)
			continue;
		size_t j = hash_str(e, strlen(e)) & (cap - 1);
		while (t[j])
			j = (j + 1) & (cap - 1);
		t[j] = e;
	}
	free(s->intern);
	s->intern = t;
	s->cap_intern = cap;
	return 0;
}

/* An arena copy of @p shared by every equal string of the set. */
static const char *intern(struct ogw_schema_set *s, const char *p, size_t len)
{
	if ((s->nintern + 1) * 2 > s->cap_intern && intern_grow(s) < 0)
		return NULL;
	size_t j = hash_str(p, len) & (s->cap_intern - 1);
	for (; s->intern[j]; j = (j + 1) & (s->cap_intern - 1)) {
		const char *e = s->intern[j];
		if (strncmp(e, p, len) == 0 && e[len] == '\0')
			return e;
	}
	char *c = arena_alloc(s, len + 1);
	if (!c)
		return NULL;
	memcpy(c, p, len);
	s->intern[j] = c;
	s->nintern++;
	return c;
}

static int own_json(struct ogw_schema_set *s, json_t *v)
{
	if (s->nowned == s->cap_owned) {
		size_t cap = s->cap_owned ? s->cap_owned * 2 : 16;
		json_t **n = realloc(s->owned, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		s->owned = n;
		s->cap_owned = cap;
	}
	s->owned[s->nowned++] = v;
	return 0;
}

struct ogw_schema_set *ogw_schema_set_free(struct ogw_schema_set *s)
{
	if (!s)
		return NULL;
	while (s->arena) {
		struct arena_chunk *n = s->arena->next;
		free(s->arena);
		s->arena = n;
	}
	for (size_t i = 0; i < s->nowned; i++)
		json_decref(s->owned[i]);
	free(s->owned);
	free(s->actions);
	free(s->intern);
	free(s);
	return NULL;
}

__attribute__((format(printf, 2, 3)))
static int cfail(struct cctx *c, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->errlen)
		snprintf(c->err, c->errlen, "%s: %s at %s", c->file, msg,
			 c->wlen ? c->where : "/");
	return -EINVAL;
}

/* Appends "/<seg>" (JSON pointer escaping skipped: it is only for humans). */
static size_t where_push(struct cctx *c, const char *seg)
{
	size_t old = c->wlen;
	int n = snprintf(c->where + old, sizeof(c->where) - old, "/%s", seg);
	if (n > 0)
		c->wlen = old + (size_t)n < sizeof(c->where) ? old + (size_t)n
							     : sizeof(c->where) - 1;
	return old;
}

static void where_pop(struct cctx *c, size_t old)
{
	c->wlen = old;
	c->where[old] = '\0';
}

enum kw {
	KW_IGNORED,
	KW_TYPE,
	KW_PROPERTIES,
	KW_REQUIRED,
	KW_ADDITIONAL,
	KW_ENUM,
	KW_CONST,
	KW_MAXLENGTH,
	KW_MINLENGTH,
	KW_MINIMUM,
	KW_MAXIMUM,
	KW_XMINIMUM,
	KW_XMAXIMUM,
	KW_MULTIPLEOF,
	KW_ITEMS,
	KW_MINITEMS,
	KW_MAXITEMS,
	KW_REF,
	KW_FORMAT,
	KW_DEFINITIONS,
};

static const struct kw_entry {
	const char *name;
	enum kw kw;
} keywords[] = {
	{ "$comment", KW_IGNORED },
	{ "$id", KW_IGNORED },
	{ "$ref", KW_REF },
	{ "$schema", KW_IGNORED },
	{ "additionalItems", KW_IGNORED },
	{ "additionalProperties", KW_ADDITIONAL },
	{ "comment", KW_IGNORED },
	{ "const", KW_CONST },
	{ "default", KW_IGNORED },
	{ "definitions", KW_DEFINITIONS },
	{ "description", KW_IGNORED },
	{ "enum", KW_ENUM },
	{ "exclusiveMaximum", KW_XMAXIMUM },
	{ "exclusiveMinimum", KW_XMINIMUM },
	{ "format", KW_FORMAT },
	{ "id", KW_IGNORED },
	{ "items", KW_ITEMS },
	{ "javaType", KW_IGNORED },
	{ "maxItems", KW_MAXITEMS },
	{ "maxLength", KW_MAXLENGTH },
	{ "maximum", KW_MAXIMUM },
	{ "minItems", KW_MINITEMS },
	{ "minLength", KW_MINLENGTH },
	{ "minimum", KW_MINIMUM },
	{ "multipleOf", KW_MULTIPLEOF },
	{ "properties", KW_PROPERTIES },
	{ "required", KW_REQUIRED },
	{ "title", KW_IGNORED },
	{ "type", KW_TYPE },
};

static int kw_cmp(const void *key, const void *elem)
{
	return strcmp(key, *(const char *const *)elem);
}

static int kw_lookup(const char *name, enum kw *ret)
{
	const void *k = bsearch(name, keywords, sizeof(keywords) / sizeof(keywords[0]),
				sizeof(keywords[0]), kw_cmp);
	if (!k)
		return -ENOENT;
	*ret = ((const struct kw_entry *)k)->kw;
	return 0;
}

static const struct {
	const char *name;
	uint8_t bits;
} type_names[] = {
	{ "null", SCH_T_NULL },   { "boolean", SCH_T_BOOL },
	{ "integer", SCH_T_INT }, { "number", SCH_T_NUM | SCH_T_INT },
	{ "string", SCH_T_STR },  { "array", SCH_T_ARR },
	{ "object", SCH_T_OBJ },
};

static int parse_type_name(struct cctx *c, const json_t *v, uint8_t *bits)
{
	const char *n = json_string_value(v);
	if (!n)
		return cfail(c, "\"type\" must be a string or an array of strings");
	for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++) {
		if (strcmp(n, type_names[i].name) == 0) {
			*bits |= type_names[i].bits;
			return 0;
		}
	}
	return cfail(c, "unknown type \"%.40s\"", n);
}

static int parse_type(struct cctx *c, const json_t *v, struct sch_node *n)
{
	int r;
	if (!json_is_array(v))
		return parse_type_name(c, v, &n->types);
	if (json_array_size(v) == 0)
		return cfail(c, "\"type\" is an empty array");
	for (size_t i = 0; i < json_array_size(v); i++)
		if ((r = parse_type_name(c, json_array_get(v, i), &n->types)) < 0)
			return r;
	return 0;
}

static int parse_count(struct cctx *c, const char *kw, const json_t *v, uint32_t *ret)
{
	json_int_t i;
	if (json_is_integer(v))
		i = json_integer_value(v);
	else if (json_is_real(v) && json_real_value(v) == floor(json_real_value(v)) &&
		 fabs(json_real_value(v)) < 1e15)
		i = (json_int_t)json_real_value(v);
	else
		return cfail(c, "\"%s\" must be a non-negative integer", kw);
	if (i < 0 || i >= (json_int_t)SCH_NO_LIMIT)
		return cfail(c, "\"%s\" out of range", kw);
	*ret = (uint32_t)i;
	return 0;
}

static int parse_number(struct cctx *c, const char *kw, const json_t *v, double *ret)
{
	if (!json_is_number(v))
		return cfail(c, "\"%s\" must be a number", kw);
	*ret = json_number_value(v);
	return 0;
}

static int compile(struct cctx *c, json_t *js, const struct sch_node **ret);

static int prop_cmp(const void *a, const void *b)
{
	return strcmp(((const struct sch_prop *)a)->name, ((const struct sch_prop *)b)->name);
}

static int parse_properties(struct cctx *c, json_t *props, json_t *req, struct sch_node *n)
{
	size_t np = 0, max;
	const char *key;
	json_t *v;
	int r;

	if (props && !json_is_object(props))
		return cfail(c, "\"properties\" must be an object");
	if (req && !json_is_array(req))
		return cfail(c, "\"required\" must be an array of strings");
	max = (props ? json_object_size(props) : 0) + (req ? json_array_size(req) : 0);
	if (max > UINT16_MAX)
		return cfail(c, "too many properties");
	if (max == 0)
		return 0;
	struct sch_prop *p = arena_alloc(c->set, max * sizeof(*p));
	if (!p)
		return -ENOMEM;

	if (props) {
		size_t old = where_push(c, "properties");
		for (void *it = json_object_iter(props); it;
		     it = json_object_iter_next(props, it)) {
			key = json_object_iter_key(it);
			v = json_object_iter_value(it);
			size_t w = where_push(c, key);
			if (strlen(key) != json_object_iter_key_len(it))
				return cfail(c, "property name contains NUL");
			p[np].name = intern(c->set, key, strlen(key));
			if (!p[np].name)
				return -ENOMEM;
			if ((r = compile(c, v, &p[np].node)) < 0)
				return r;
			np++;
			where_pop(c, w);
		}
		where_pop(c, old);
	}
	for (size_t i = 0; req && i < json_array_size(req); i++) {
		const json_t *e = json_array_get(req, i);
		const char *name = json_string_value(e);
		if (!name || strlen(name) != json_string_length(e))
			return cfail(c, "\"required\" must be an array of strings");
		size_t j;
		for (j = 0; j < np && strcmp(p[j].name, name) != 0; j++)
			;
		if (j == np) {
			p[np].name = intern(c->set, name, strlen(name));
			if (!p[np].name)
				return -ENOMEM;
			p[np++].node = NULL;
		}
		if (p[j].required)
			return cfail(c, "\"required\" names \"%.40s\" twice", name);
		p[j].required = 1;
		n->nreq++;
	}
	qsort(p, np, sizeof(*p), prop_cmp);
	n->props = p;
	n->nprops = (uint16_t)np;
	return 0;
}

static int parse_enum(struct cctx *c, json_t *en, json_t *cst, struct sch_node *n)
{
	json_t *one[1] = { cst };
	json_t **vals;
	size_t cnt;
	bool strings = true;

	if (en && cst)
		return cfail(c, "\"enum\" together with \"const\" is not supported");
	if (en) {
		if (!json_is_array(en) || json_array_size(en) == 0 ||
		    json_array_size(en) > UINT16_MAX)
			return cfail(c, "\"enum\" must be a non-empty array");
		cnt = json_array_size(en);
	} else {
		cnt = 1;
		n->flags |= SCH_F_CONST;
	}
	for (size_t i = 0; i < cnt; i++) {
		json_t *e = en ? json_array_get(en, i) : one[0];
		if (!json_is_string(e) || strlen(json_string_value(e)) != json_string_length(e))
			strings = false;
	}
	vals = arena_alloc(c->set, cnt * sizeof(void *));
	if (!vals)
		return -ENOMEM;
	for (size_t i = 0; i < cnt; i++) {
		json_t *e = en ? json_array_get(en, i) : one[0];
		if (strings) {
			const char *s = intern(c->set, json_string_value(e), json_string_length(e));
			if (!s)
				return -ENOMEM;
			((const char **)vals)[i] = s;
			continue;
		}
		json_t *copy = json_deep_copy(e);
		if (!copy || own_json(c->set, copy) < 0) {
			json_decref(copy);
			return -ENOMEM;
		}
		vals[i] = copy;
	}
	if (strings) {
		n->enumv.str = (const char *const *)vals;
	} else {
		n->enumv.json = vals;
		n->flags |= SCH_F_ENUM_JSON;
	}
	n->nenum = (uint16_t)cnt;
	return 0;
}

/* minimum/maximum with both exclusive forms: draft-04's boolean modifies the
 * plain bound, draft-06's number is a bound of its own; the stricter wins. */
static int parse_bound(struct cctx *c, json_t *plain, json_t *excl, bool lower,
		       struct sch_num *num)
{
	const char *pk = lower ? "minimum" : "maximum";
	const char *xk = lower ? "exclusiveMinimum" : "exclusiveMaximum";
	uint8_t has = lower ? SCH_N_MIN : SCH_N_MAX, xf = lower ? SCH_N_XMIN : SCH_N_XMAX;
	double *b = lower ? &num->min : &num->max;
	double x = 0;
	int r;

	if (plain) {
		if ((r = parse_number(c, pk, plain, b)) < 0)
			return r;
		num->flags |= has;
	}
	if (!excl)
		return 0;
	if (json_is_boolean(excl)) {
		if (!plain)
			return cfail(c, "boolean \"%s\" without \"%s\"", xk, pk);
		if (json_is_true(excl))
			num->flags |= xf;
		return 0;
	}
	if ((r = parse_number(c, xk, excl, &x)) < 0)
		return r;
	if (!(num->flags & has) || (lower ? x >= *b : x <= *b)) {
		*b = x;
		num->flags |= has | xf;
	}
	return 0;
}

static int resolve_def(struct cctx *c, const char *name, const struct sch_node **ret);

static int resolve_ref(struct cctx *c, const json_t *ref, const struct sch_node **ret)
{
	const char *s = json_string_value(ref);
	char name[128];
	size_t o = 0;

	if (!s)
		return cfail(c, "\"$ref\" must be a string");
	if (strcmp(s, "#") == 0) {
		if (!c->root)
			return cfail(c, "\"$ref\": \"#\" inside a root that is itself a $ref");
		*ret = c->root;
		return 0;
	}
	if (strncmp(s, "#/definitions/", 14) != 0 || !s[14])
		return cfail(c, "unsupported $ref \"%.60s\" (only #/definitions/Name)", s);
	for (const char *p = s + 14; *p; p++) {
		char ch = *p;
		if (ch == '/')
			return cfail(c, "unsupported $ref \"%.60s\"", s);
		if (ch == '~') {
			if (p[1] != '0' && p[1] != '1')
				return cfail(c, "bad escape in $ref \"%.60s\"", s);
			ch = *++p == '0' ? '~' : '/';
		}
		if (o + 1 >= sizeof(name))
			return cfail(c, "$ref name too long");
		name[o++] = ch;
	}
	name[o] = '\0';
	return resolve_def(c, name, ret);
}

static int compile_into(struct cctx *c, json_t *js, struct sch_node *n);

static int resolve_def(struct cctx *c, const char *name, const struct sch_node **ret)
{
	json_t *js;
	int r;

	for (size_t i = 0; i < c->ndefs; i++) {
		if (strcmp(c->defmap[i].name, name) == 0) {
			if (!c->defmap[i].node)
				return cfail(c, "$ref cycle through \"%.60s\"", name);
			*ret = c->defmap[i].node;
			return 0;
		}
	}
	js = c->defs ? json_object_get(c->defs, name) : NULL;
	if (!js)
		return cfail(c, "$ref to missing definition \"%.60s\"", name);
	if (c->ndefs == c->cap_defs) {
		size_t cap = c->cap_defs ? c->cap_defs * 2 : 32;
		struct def_entry *m = realloc(c->defmap, cap * sizeof(*m));
		if (!m)
			return -ENOMEM;
		c->defmap = m;
		c->cap_defs = cap;
	}
	size_t idx = c->ndefs++;
	c->defmap[idx].name = json_object_iter_key(json_object_iter_at(c->defs, name));
	c->defmap[idx].node = NULL;

	size_t w = c->wlen;
	char saved[sizeof(c->where)];
	memcpy(saved, c->where, sizeof(saved));
	c->wlen = 0;
	c->where[0] = '\0';
	where_push(c, "definitions");
	where_push(c, name);
	if (json_is_object(js) && json_object_get(js, "$ref")) {
		/* An alias: its node is the target's; a cycle of aliases has none. */
		const struct sch_node *t;
		if ((r = resolve_ref(c, json_object_get(js, "$ref"), &t)) < 0)
			return r;
		c->defmap[idx].node = t;
	} else if (json_is_object(js)) {
		struct sch_node *n = arena_alloc(c->set, sizeof(*n));
		if (!n)
			return -ENOMEM;
		c->defmap[idx].node = n; /* before compiling: recursion finds it */
		if ((r = compile_into(c, js, n)) < 0)
			return r;
	} else {
		const struct sch_node *t;
		if ((r = compile(c, js, &t)) < 0)
			return r;
		c->defmap[idx].node = t;
		if (!t) {
			/* "true": any value; a static node keeps "resolved" distinct
			 * from "resolving". */
			static const struct sch_node any = { .max_len = SCH_NO_LIMIT,
							     .max_items = SCH_NO_LIMIT };
			c->defmap[idx].node = &any;
		}
	}
	memcpy(c->where, saved, sizeof(saved));
	c->wlen = w;
	*ret = c->defmap[idx].node;
	return 0;
}

static int compile_into(struct cctx *c, json_t *js, struct sch_node *n)
{
	json_t *kv[KW_DEFINITIONS + 1] = { 0 };
	struct sch_num num = { 0 };
	int r = 0;

	if (++c->depth > COMPILE_DEPTH_MAX) {
		r = cfail(c, "schema nested too deeply");
		goto out;
	}
	for (void *it = json_object_iter(js); it; it = json_object_iter_next(js, it)) {
		const char *key = json_object_iter_key(it);
		enum kw k;
		if (kw_lookup(key, &k) < 0) {
			r = cfail(c, "unsupported keyword \"%.60s\"", key);
			goto out;
		}
		kv[k] = json_object_iter_value(it);
	}
	n->max_len = n->max_items = SCH_NO_LIMIT;
	if (kv[KW_TYPE] && (r = parse_type(c, kv[KW_TYPE], n)) < 0)
		goto out;
	if ((kv[KW_PROPERTIES] || kv[KW_REQUIRED]) &&
	    (r = parse_properties(c, kv[KW_PROPERTIES], kv[KW_REQUIRED], n)) < 0)
		goto out;
	if (kv[KW_ADDITIONAL]) {
		json_t *a = kv[KW_ADDITIONAL];
		if (json_is_false(a)) {
			n->flags |= SCH_F_NO_EXTRA;
		} else if (!json_is_true(a) && !(json_is_object(a) && json_object_size(a) == 0)) {
			r = cfail(c, "\"additionalProperties\" other than true or false is not supported");
			goto out;
		}
	}
	if ((kv[KW_ENUM] || kv[KW_CONST]) && (r = parse_enum(c, kv[KW_ENUM], kv[KW_CONST], n)) < 0)
		goto out;
	if (kv[KW_MAXLENGTH] && (r = parse_count(c, "maxLength", kv[KW_MAXLENGTH], &n->max_len)) < 0)
		goto out;
	if (kv[KW_MINLENGTH] && (r = parse_count(c, "minLength", kv[KW_MINLENGTH], &n->min_len)) < 0)
		goto out;
	if (kv[KW_MAXITEMS] && (r = parse_count(c, "maxItems", kv[KW_MAXITEMS], &n->max_items)) < 0)
		goto out;
	if (kv[KW_MINITEMS] && (r = parse_count(c, "minItems", kv[KW_MINITEMS], &n->min_items)) < 0)
		goto out;
	if ((r = parse_bound(c, kv[KW_MINIMUM], kv[KW_XMINIMUM], true, &num)) < 0 ||
	    (r = parse_bound(c, kv[KW_MAXIMUM], kv[KW_XMAXIMUM], false, &num)) < 0)
		goto out;
	if (kv[KW_MULTIPLEOF]) {
		if ((r = parse_number(c, "multipleOf", kv[KW_MULTIPLEOF], &num.mult)) < 0)
			goto out;
		if (!(num.mult > 0) || !isfinite(num.mult)) {
			r = cfail(c, "\"multipleOf\" must be greater than 0");
			goto out;
		}
		num.flags |= SCH_N_MULT;
	}
	if (num.flags) {
		struct sch_num *p = arena_alloc(c->set, sizeof(*p));
		if (!p) {
			r = -ENOMEM;
			goto out;
		}
		*p = num;
		n->num = p;
	}
	if (kv[KW_FORMAT]) {
		const char *f = json_string_value(kv[KW_FORMAT]);
		if (f && strcmp(f, "date-time") == 0) {
			n->flags |= SCH_F_DATETIME;
		} else if (f && strcmp(f, "uri") == 0) {
			n->flags |= SCH_F_URI;
		} else {
			r = cfail(c, "unsupported format \"%.40s\"", f ? f : "(not a string)");
			goto out;
		}
	}
	if (kv[KW_ITEMS]) {
		size_t w = where_push(c, "items");
		if (json_is_array(kv[KW_ITEMS])) {
			r = cfail(c, "\"items\" as an array (tuples) is not supported");
			goto out;
		}
		if ((r = compile(c, kv[KW_ITEMS], &n->items)) < 0)
			goto out;
		where_pop(c, w);
	}
out:
	c->depth--;
	return r;
}

/* *ret NULL means "any value" (true or an empty object). */
static int compile(struct cctx *c, json_t *js, const struct sch_node **ret)
{
	if (json_is_true(js) || (json_is_object(js) && json_object_size(js) == 0)) {
		*ret = NULL;
		return 0;
	}
	if (!json_is_object(js))
		return cfail(c, "a schema must be an object or true");
	/* Draft-04 to -07: keywords beside $ref are ignored. */
	json_t *ref = json_object_get(js, "$ref");
	if (ref)
		return resolve_ref(c, ref, ret);
	struct sch_node *n = arena_alloc(c->set, sizeof(*n));
	if (!n)
		return -ENOMEM;
	*ret = n;
	return compile_into(c, js, n);
}

static int compile_doc(struct ogw_schema_set *s, const char *file, json_t *doc,
		       const struct sch_node **ret, char *err, size_t errlen)
{
	struct cctx c = { .set = s, .file = file, .err = err, .errlen = errlen };
	int r;

	if (!json_is_object(doc)) {
		r = cfail(&c, "a schema must be a JSON object");
		goto out;
	}
	c.defs = json_object_get(doc, "definitions");
	if (c.defs && !json_is_object(c.defs)) {
		r = cfail(&c, "\"definitions\" must be an object");
		goto out;
	}
	if (json_object_get(doc, "$ref")) {
		r = compile(&c, doc, ret);
		goto out;
	}
	struct sch_node *root = arena_alloc(s, sizeof(*root));
	if (!root) {
		r = -ENOMEM;
		goto out;
	}
	c.root = root;
	r = compile_into(&c, doc, root);
	*ret = root;
out:
	free(c.defmap);
	return r;
}

static bool action_char(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
}

/* <Action>Request.json, <Action>Response.json, or OCA 1.6's <Action>.json. */
static int parse_file_name(const char *file, char action[OGW_ACTION_MAX + 1], bool *response)
{
	size_t n = strlen(file);
	if (n < 6 || strcmp(file + n - 5, ".json") != 0)
		return -EINVAL;
	n -= 5;
	*response = false;
	if (n > 8 && strncmp(file + n - 8, "Response", 8) == 0) {
		n -= 8;
		*response = true;
	} else if (n > 7 && strncmp(file + n - 7, "Request", 7) == 0) {
		n -= 7;
	}
	if (n == 0 || n > OGW_ACTION_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!action_char(file[i]))
			return -EINVAL;
	memcpy(action, file, n);
	action[n] = '\0';
	return 0;
}

/* Compiles @doc (borrowed) found in @file and files it under its action. */
static int add_schema(struct ogw_schema_set *s, const char *file, json_t *doc, char *err,
		      size_t errlen)
{
	char action[OGW_ACTION_MAX + 1];
	const struct sch_node *root;
	struct sch_action *a = NULL;
	bool response;
	int r;

	if (parse_file_name(file, action, &response) < 0) {
		snprintf(err, errlen, "%s: file name is not <Action>Request.json, "
			 "<Action>Response.json or <Action>.json", file);
		return -EINVAL;
	}
	const char *name = intern(s, action, strlen(action));
	if (!name)
		return -ENOMEM;
	for (size_t i = 0; i < s->nactions; i++)
		if (s->actions[i].name == name)
			a = &s->actions[i];
	if (a && (response ? a->resp : a->req)) {
		snprintf(err, errlen, "%s: a second %s schema for %s", file,
			 response ? "response" : "request", action);
		return -EEXIST;
	}
	if ((r = compile_doc(s, file, doc, &root, err, errlen)) < 0)
		return r;
	struct ogw_schema *sch = arena_alloc(s, sizeof(*sch));
	if (!sch)
		return -ENOMEM;
	sch->root = root;
	sch->action = name;
	if (!a) {
		if (s->nactions == s->cap_actions) {
			size_t cap = s->cap_actions ? s->cap_actions * 2 : 64;
			struct sch_action *m = realloc(s->actions, cap * sizeof(*m));
			if (!m)
				return -ENOMEM;
			s->actions = m;
			s->cap_actions = cap;
		}
		a = &s->actions[s->nactions++];
		*a = (struct sch_action){ .name = name };
	}
	if (response)
		a->resp = sch;
	else
		a->req = sch;
	return 0;
}

static int action_cmp(const void *a, const void *b)
{
	return strcmp(((const struct sch_action *)a)->name, ((const struct sch_action *)b)->name);
}

static void finish_set(struct ogw_schema_set *s)
{
	qsort(s->actions, s->nactions, sizeof(*s->actions), action_cmp);
	s->nrequests = 0;
	for (size_t i = 0; i < s->nactions; i++)
		if (s->actions[i].req)
			s->nrequests++;
	free(s->intern);
	s->intern = NULL;
	s->nintern = s->cap_intern = 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_schema_file(const char *n)
{
	size_t l = strlen(n);
	/* actions.json sits beside the schemas in schemas/<version>/: an index,
	 * not a schema. */
	return n[0] != '.' && l > 5 && strcmp(n + l - 5, ".json") == 0 &&
	       strcmp(n, "actions.json") != 0;
}

int ogw_schema_set_load_dir(const char *dir, struct ogw_schema_set **ret, char *err,
			    size_t errlen)
{
	struct ogw_schema_set *s = NULL;
	char **names = NULL;
	size_t nnames = 0, cap = 0;
	DIR *d = NULL;
	struct dirent *de;
	json_t *doc = NULL;
	int r;

	d = opendir(dir);
	if (!d) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		goto out;
	}
	while ((de = readdir(d))) {
		if (!is_schema_file(de->d_name))
			continue;
		if (nnames == cap) {
			cap = cap ? cap * 2 : 256;
			char **m = realloc(names, cap * sizeof(*m));
			if (!m) {
				r = -ENOMEM;
				goto out;
			}
			names = m;
		}
		if (!(names[nnames] = strdup(de->d_name))) {
			r = -ENOMEM;
			goto out;
		}
		nnames++;
	}
	if (nnames == 0) {
		r = -ENOENT;
		snprintf(err, errlen, "%s: no *.json schema files", dir);
		goto out;
	}
	qsort(names, nnames, sizeof(*names), name_cmp);
	if (!(s = calloc(1, sizeof(*s)))) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < nnames; i++) {
		char path[PATH_MAX];
		json_error_t je;
		if (snprintf(path, sizeof(path), "%s/%s", dir, names[i]) >= (int)sizeof(path)) {
			r = -ENAMETOOLONG;
			snprintf(err, errlen, "%s/%s: path too long", dir, names[i]);
			goto out;
		}
		/* A FIFO would block the start, a device or a giant file
		 * exhaust it: the largest OCPP schema is some 60 KiB. */
		struct stat sb;
		r = -EINVAL;
		if (stat(path, &sb) < 0) {
			r = -errno;
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (!S_ISREG(sb.st_mode)) {
			snprintf(err, errlen, "%s: not a regular file", path);
			goto out;
		}
		if (sb.st_size > SCHEMA_FILE_MAX) {
			snprintf(err, errlen, "%s: %lld bytes, more than the %d a schema may have",
				 path, (long long)sb.st_size, SCHEMA_FILE_MAX);
			goto out;
		}
		doc = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
		if (!doc) {
			r = -EINVAL;
			snprintf(err, errlen, "%s:%d: %s", path, je.line, je.text);
			goto out;
		}
		if ((r = add_schema(s, names[i], doc, err, errlen)) < 0)
			goto out;
		json_decref(doc);
		doc = NULL;
	}
	finish_set(s);
	*ret = s;
	s = NULL;
	r = 0;
out:
	if (r == -ENOMEM)
		snprintf(err, errlen, "%s: out of memory", dir);
	json_decref(doc);
	ogw_schema_set_free(s);
	for (size_t i = 0; i < nnames; i++)
		free(names[i]);
	free(names);
	if (d)
		closedir(d);
	return r;
}

int ogw_schema_set_load_builtin(enum ogw_ocpp v, struct ogw_schema_set **ret, char *err,
				size_t errlen)
{
	struct ogw_schema_set *s = NULL;
	json_t *doc = NULL;
	int r;

	if ((unsigned)v >= OGW_OCPP_COUNT) {
		snprintf(err, errlen, "unknown OCPP version %d", (int)v);
		return -EINVAL;
	}
	const struct ogw_schema_builtin_file *files = ogw_schema_builtin_files[v];
	size_t n = ogw_schema_builtin_counts[v];
	if (n == 0) {
		snprintf(err, errlen, "no built-in schemas for OCPP %s (schemas/%s was empty "
			 "when ocppgw was built)", ogw_ocpp_name(v), ogw_ocpp_name(v));
		return -ENOENT;
	}
	if (!(s = calloc(1, sizeof(*s)))) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		json_error_t je;
		doc = json_loadb(files[i].text, files[i].len, JSON_REJECT_DUPLICATES, &je);
		if (!doc) {
			r = -EINVAL;
			snprintf(err, errlen, "built-in %s/%s:%d: %s", ogw_ocpp_name(v),
				 files[i].name, je.line, je.text);
			goto out;
		}
		if ((r = add_schema(s, files[i].name, doc, err, errlen)) < 0)
			goto out;
		json_decref(doc);
		doc = NULL;
	}
	finish_set(s);
	*ret = s;
	s = NULL;
	r = 0;
out:
	if (r == -ENOMEM)
		snprintf(err, errlen, "built-in schemas %s: out of memory", ogw_ocpp_name(v));
	json_decref(doc);
	ogw_schema_set_free(s);
	return r;
}

static int action_key_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct sch_action *)elem)->name);
}

const struct ogw_schema *ogw_schema_get(const struct ogw_schema_set *s, const char *action,
					bool response)
{
	if (!s || !action || !s->nactions)
		return NULL;
	const struct sch_action *a =
		bsearch(action, s->actions, s->nactions, sizeof(*s->actions), action_key_cmp);
	if (!a)
		return NULL;
	return response ? a->resp : a->req;
}

size_t ogw_schema_set_actions(const struct ogw_schema_set *s)
{
	return s ? s->nrequests : 0;
}
