/* SPDX-License-Identifier: MIT */
/*
 * The compiled form of a schema, shared by the compiler (compile.c) and the
 * validator (validate.c). Nodes live in their set's arena and are never
 * freed one by one; nothing here is visible outside src/schema.
 */
#ifndef OGW_SCHEMA_INTERNAL_H
#define OGW_SCHEMA_INTERNAL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "ocppgw/ocpp.h"
#include "ocppgw/schema.h"

/* JSON types a node accepts; 0 means any. */
enum {
	SCH_T_NULL = 1 << 0,
	SCH_T_BOOL = 1 << 1,
	SCH_T_INT = 1 << 2,
	SCH_T_NUM = 1 << 3, /* set together with SCH_T_INT: a number may be integral */
	SCH_T_STR = 1 << 4,
	SCH_T_ARR = 1 << 5,
	SCH_T_OBJ = 1 << 6,
};

/* sch_node.flags */
enum {
	SCH_F_NO_EXTRA = 1 << 0,  /* additionalProperties: false */
	SCH_F_DATETIME = 1 << 1,  /* format: date-time */
	SCH_F_URI = 1 << 2,       /* format: uri */
	SCH_F_CONST = 1 << 3,     /* the one enum value came from "const" */
	SCH_F_ENUM_JSON = 1 << 4, /* enum values are json_t, not all strings */
};

/* sch_num.flags */
enum {
	SCH_N_MIN = 1 << 0,
	SCH_N_MAX = 1 << 1,
	SCH_N_XMIN = 1 << 2, /* the minimum itself is excluded */
	SCH_N_XMAX = 1 << 3,
	SCH_N_MULT = 1 << 4,
};

#define SCH_NO_LIMIT UINT32_MAX

struct sch_node;

struct sch_prop {
	const char *name;           /* interned */
	const struct sch_node *node; /* NULL: any value (named only by "required") */
	uint8_t required;
};

/* Numeric bounds; most nodes have none, so they sit behind a pointer. */
struct sch_num {
	double min, max, mult;
	uint8_t flags;
};

struct sch_node {
	uint8_t types;
	uint8_t flags;
	uint16_t nprops;  /* props, sorted by name for bsearch */
	uint16_t nreq;    /* how many of them are required */
	uint16_t nenum;
	uint32_t min_len, max_len;     /* code points; SCH_NO_LIMIT */
	uint32_t min_items, max_items; /* SCH_NO_LIMIT */
	const struct sch_prop *props;
	const struct sch_node *items;  /* NULL: any item */
	union {
		const char *const *str;   /* interned strings */
		json_t *const *json;      /* SCH_F_ENUM_JSON; owned by the set */
	} enumv;
	const struct sch_num *num;     /* NULL: no numeric keyword */
};

struct ogw_schema {
	const struct sch_node *root;
	const char *action; /* interned */
};

/* Built-in schema files, generated into schemas_builtin.c by
 * tools/embed-schemas.py. */
struct ogw_schema_builtin_file {
	const char *name;
	const char *text;
	size_t len;
};
extern const struct ogw_schema_builtin_file *const ogw_schema_builtin_files[OGW_OCPP_COUNT];
extern const size_t ogw_schema_builtin_counts[OGW_OCPP_COUNT];

#endif
