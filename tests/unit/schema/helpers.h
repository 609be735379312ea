/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the schema tests: fixture paths, loading a schema set
 * or a JSON fixture, and editing a JSON value at a fault-style path
 * ("a.b[2].c"). Test code only; nothing here ships.
 */
#ifndef OGW_TEST_SCHEMA_HELPERS_H
#define OGW_TEST_SCHEMA_HELPERS_H

#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocppgw/schema.h"

/* OGW_SRC_DIR comes from meson: the project's source root. */
static inline void fixture_path(char *buf, size_t size, const char *rel)
{
	snprintf(buf, size, "%s/%s", OGW_SRC_DIR, rel);
}

static inline struct ogw_schema_set *load_set(const char *rel)
{
	char dir[1024], err[512] = "";
	struct ogw_schema_set *s = NULL;
	fixture_path(dir, sizeof(dir), rel);
	int r = ogw_schema_set_load_dir(dir, &s, err, sizeof(err));
	cr_assert_eq(r, 0, "loading %s: %s", rel, err);
	return s;
}

static inline json_t *load_json(const char *rel)
{
	char path[1024];
	json_error_t je;
	fixture_path(path, sizeof(path), rel);
	json_t *j = json_load_file(path, JSON_DECODE_ANY, &je);
	cr_assert_not_null(j, "%s:%d: %s", rel, je.line, je.text);
	return j;
}

/*
 * Finds the container holding the last segment of @path and that segment.
 * 0, or -ENOENT when a step does not exist.
 */
static inline int path_parent(json_t *root, const char *path, json_t **ret_parent,
			      char *ret_key, size_t keysz, long *ret_index)
{
	json_t *cur = root;
	const char *p = path;

	for (;;) {
		char key[128];
		long index = -1;
		size_t n = 0;
		if (*p == '[') {
			index = strtol(p + 1, (char **)&p, 10);
			if (*p++ != ']')
				return -ENOENT;
		} else {
			while (*p && *p != '.' && *p != '[' && n + 1 < sizeof(key))
				key[n++] = *p++;
			key[n] = '\0';
		}
		if (*p == '.')
			p++;
		if (!*p) {
			*ret_parent = cur;
			*ret_index = index;
			snprintf(ret_key, keysz, "%s", index < 0 ? key : "");
			return 0;
		}
		cur = index >= 0 ? json_array_get(cur, (size_t)index) : json_object_get(cur, key);
		if (!cur)
			return -ENOENT;
	}
}

/* Sets (steals @v) or, with @v NULL, deletes the value at @path. */
static inline void edit_at(json_t *root, const char *path, json_t *v)
{
	json_t *parent;
	char key[128];
	long index;
	int r;

	cr_assert_eq(path_parent(root, path, &parent, key, sizeof(key), &index), 0,
		     "no such path %s", path);
	if (index >= 0)
		r = v ? json_array_set_new(parent, (size_t)index, v)
		      : json_array_remove(parent, (size_t)index);
	else
		r = v ? json_object_set_new(parent, key, v) : json_object_del(parent, key);
	cr_assert_eq(r, 0, "cannot edit %s", path);
}

#endif
