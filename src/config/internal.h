/* SPDX-License-Identifier: MIT */
/*
 * Private to src/config: the table-driven loader config.c runs (fields,
 * kinds, error reporting) and the helpers its sections share, so a
 * section in its own file (lb.c) reads and reports like the rest.
 */
#ifndef OGW_CONFIG_INTERNAL_H
#define OGW_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <libconfig.h>

#include "ocppgw/config.h"

struct loader {
	struct ogw_conf_errors *errs;
	const char *path;
	size_t n_errors;          /* found by this call, not the caller's earlier ones */
	bool oom;
};

struct field;
typedef void special_fn(struct loader *ld, const config_setting_t *s, const char *name,
			void *base, const struct field *f);

enum field_kind {
	F_STRING,     /* char *, "" means unset (NULL) */
	F_BOOL,
	F_INT,        /* int in [min, max] */
	F_SIZE,       /* size_t in [min, max] */
	F_MS,         /* seconds (int or float) in (0, max], stored as int milliseconds */
	F_SECONDS,    /* whole seconds (int or float) in [min, max], stored as int */
	F_WORDS,      /* one of two words, stored as bool: .words[0] false, [1] true */
	F_SPECIAL,    /* parsed and checked by .special */
	F_GROUP,      /* a nested group described by .sub, same base struct */
};

struct field {
	const char *name;
	enum field_kind kind;
	size_t off;
	double min, max;
	bool secret;          /* F_STRING: zeroed before it is freed */
	special_fn *special;
	const struct field *sub;
	const char *words[2];     /* F_WORDS */
};

/* One message into @errs (*@oom set when there is no memory for it). */
void add_error(struct ogw_conf_errors *errs, bool *oom, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* "file:line: message" for setting @s, counted in ld->n_errors. */
void setting_error(struct loader *ld, const config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The string value of @s, or NULL after reporting that it is not one. */
const char *get_string(struct loader *ld, const config_setting_t *s, const char *name);
bool get_number(const config_setting_t *s, double *ret);
/* "()" is a list; libconfig parses an empty "[]" as an array. */
bool is_list(const config_setting_t *s);
bool charger_id_ok(const char *id);
/* mqtt(s)://host[:port]/<site>: NULL, or what is wrong with the site. */
const char *mqtt_site_problem(const char *url);
/* Each member of @group through @table; unknown names are errors. */
void walk_group(struct loader *ld, const config_setting_t *group,
		const struct field *table, const char *prefix, void *base);

/* A list of groups ( { key = ...; ... }, ... ) of one element type, each
 * entry walked with .fields and identified by its unique .key. */
struct list_spec {
	size_t size;              /* of one element */
	const struct field *fields;
	const char *key;          /* the member naming an entry: "id", "name" */
	size_t key_off;           /* of its char * in the element */
	const char *what;         /* "duplicate <what> 'x'" */
	bool upstream_unset;      /* the element starts with upstream_ocpp unset */
	size_t upstream_off;
	void (*free)(void *elem);
};

/* The parsed entries of @s (calloc'd, one spare zeroed element), or NULL
 * when @s has errors (reported) or memory ran out. *ret_n: their count. */
void *load_list(struct loader *ld, const config_setting_t *s, const char *name,
		const struct list_spec *spec, int *ret_n);
void free_list(const struct list_spec *spec, void *list, size_t n);
/* Swaps @list in for the old list at *@slot / *@n_slot. */
void replace_list(const struct list_spec *spec, void *slot, size_t *n_slot, void *list, int n);
/* Stores a copy of @v ("" meaning NULL) in *@slot, freeing the old value. */
void replace_string(struct loader *ld, char **slot, const char *v, bool secret);
/* Zeroes, then frees; NULL-safe. */
void free_secret(char *s);
/* NULL when @url is a ws(s):// or mqtt(s):// URL with a host, else the problem. */
const char *url_problem(const char *url);
/* An idTag / idToken: 1 to 36 printable characters. */
bool token_ok(const char *v);
const struct ogw_group_conf *conf_group_of(const struct ogw_conf *c, const char *id);
/* Specials of config.c that csms.c uses for its own fields. */
special_fn parse_url, parse_upstream_ocpp, parse_group_name;

/* csms.c: csms.secondaries, csms.token_routing, and the csms { } block of a
 * group or charger. */
special_fn ogw_conf_parse_secondaries, ogw_conf_parse_token_routing, ogw_conf_parse_csms_block;
void ogw_csms_set_conf_clear(struct ogw_csms_set_conf *set);

/* lb.c: the load_balancing section (a root F_SPECIAL). */
void ogw_conf_parse_lb(struct loader *ld, const config_setting_t *s, const char *name,
		       void *base, const struct field *f);

/* tls.c: min_version (an int, OGW_TLS_*) and ciphers (a char *). */
void conf_parse_tls_version(struct loader *ld, const config_setting_t *s, const char *name,
			    void *base, const struct field *f);
void conf_parse_ciphers(struct loader *ld, const config_setting_t *s, const char *name,
			void *base, const struct field *f);

#endif
