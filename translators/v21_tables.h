/* SPDX-License-Identifier: MIT */
/*
 * Private to the 2.1 <-> 2.0.1 field adapter: the shape of its tables. The
 * tables themselves are generated at build time (v21_adapt_tables.c, by
 * tools/gen-adapter21.py from schemas/src/ocpp201.def, ocpp21.def and
 * translators/v21_adapt.rules); v21_adapt.c walks them.
 */
#ifndef OCPPGW_TR_V21_TABLES_H
#define OCPPGW_TR_V21_TABLES_H

#include <limits.h>
#include <stddef.h>

/*
 * A message is adapted by walking it along a table per object type that
 * lists only the fields where the two versions differ (the rest pass as
 * they are). A field's rules run in table order.
 */
enum tr21_op {
	OP_END = 0,
	OP_SUB,      /* object, or array of objects, of the type in .sub */
	OP_DROP,     /* the target has no such field */
	OP_ENUM,     /* value (or each array item) through .en */
	OP_MAXLEN,   /* identifiers and URLs: longer ones are refused */
	OP_TRUNC,    /* human-readable text: cut to the target's limit */
	OP_RANGE,    /* integer bounds only the target has */
	OP_ROUND,    /* number where the target wants an integer */
	OP_REQUIRE,  /* optional in the source, required by the target */
	OP_DEFAULT,  /* the same, with a value to supply */
	OP_PHASES,   /* schedule periods: per-phase limits folded into limit */
};

#define F_REQ     1u  /* OP_SUB: the target requires the field */
#define F_LENIENT 2u  /* OP_SUB on an array: items that cannot be represented
                         are dropped instead of refusing the message (reports) */

struct tr21_enum;

struct tr21_field {
	const char *name;
	enum tr21_op op;
	unsigned flags;
	const struct tr21_field *sub;  /* OP_SUB */
	const struct tr21_enum *en;    /* OP_ENUM */
	const char *dflt;              /* OP_DEFAULT */
	long long lo, hi;              /* OP_RANGE (LLONG_MIN/MAX: no bound); OP_MAXLEN/OP_TRUNC: hi */
};

struct tr21_map {
	const char *from;
	const char *to;  /* NULL: no counterpart (the enum's fallback applies) */
};

struct tr21_enum {
	const char *const *only;      /* when set, the target's values: any other is a miss */
	const struct tr21_map *map;   /* source-only values, NULL-terminated */
	const char *fallback;         /* a miss becomes this; NULL: refused */
};

/* The tables of one message; NULL: that part is the same in both versions. */
struct tr21_msg {
	const char *action;
	const struct tr21_field *req, *res;
};

/* Per direction, the messages whose tables are not empty, sorted by action:
 * dn = 2.1 -> 2.0.1, up = 2.0.1 -> 2.1. */
extern const struct tr21_msg ogw_tr21_dn_msgs[];
extern const size_t ogw_tr21_n_dn_msgs;
extern const struct tr21_msg ogw_tr21_up_msgs[];
extern const size_t ogw_tr21_n_up_msgs;

#endif
