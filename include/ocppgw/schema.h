/* SPDX-License-Identifier: MIT */
/*
 * JSON Schema validation for OCPP payloads: the draft-04/06/07 subset the
 * OCA schemas use (type, properties, required, additionalProperties, enum,
 * const, maxLength, minLength, minimum, maximum, multipleOf, items, minItems,
 * maxItems, $ref into definitions, format date-time and uri). Schemas are
 * compiled once when loaded; validating never reparses schema text.
 *
 * A schema set holds one OCPP version's request and response schemas and is
 * also that version's registry of known actions.
 */
#ifndef OCPPGW_SCHEMA_H
#define OCPPGW_SCHEMA_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "ocppgw/ocpp.h"

struct ogw_schema_set;
struct ogw_schema;

/*
 * Loads every *.json file in @dir. File names tell action and kind:
 * <Action>Request.json and <Action>Response.json (this project's schemas/
 * and the OCA's 2.x files), or <Action>.json and <Action>Response.json (the
 * OCA's 1.6 files). 0, or a negative errno with a message naming the file
 * (and JSON line) in @err.
 */
int ogw_schema_set_load_dir(const char *dir, struct ogw_schema_set **ret,
			    char *err, size_t errlen);
/* This project's own schemas for @v, built into the binary. */
int ogw_schema_set_load_builtin(enum ogw_ocpp v, struct ogw_schema_set **ret,
				char *err, size_t errlen);
/* NULL-safe; returns NULL. */
struct ogw_schema_set *ogw_schema_set_free(struct ogw_schema_set *s);

/* The schema of @action's request (@response false) or response, or NULL
 * when the set does not know it. */
const struct ogw_schema *ogw_schema_get(const struct ogw_schema_set *s, const char *action,
					bool response);
/* Number of actions known (an action with a request schema counts once). */
size_t ogw_schema_set_actions(const struct ogw_schema_set *s);

struct ogw_schema_fault {
	enum ogw_err err;  /* which CALLERROR code the fault deserves */
	char path[160];    /* JSON path of the offending field, e.g. "idTagInfo.status" or "meterValue[0].timestamp"; "" for the root */
	char desc[224];    /* human text naming the path and the rule */
};

/* 0 when @instance is valid; -EINVAL with *fault filled when it is not. */
int ogw_schema_validate(const struct ogw_schema *s, const json_t *instance,
			struct ogw_schema_fault *fault);

/*
 * `ocppgw validate`: reads a capture from @in (one frame per line, as on the
 * wire), prints a verdict per frame to @out, each error with its field path.
 * A CALLRESULT is checked against the response schema of the CALL with the
 * same id earlier in the capture. Returns 0 when every frame is valid, 1
 * otherwise.
 */
int ogw_schema_check_capture(const struct ogw_schema_set *s, enum ogw_ocpp v, FILE *in,
			     const char *in_name, FILE *out);

#endif
