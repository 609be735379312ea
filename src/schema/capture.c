/* SPDX-License-Identifier: MIT */
/*
 * `ocppgw validate`: checks a capture (one OCPP-J frame per line) against a
 * schema set and prints one verdict per frame plus a summary. It pairs each
 * CALLRESULT with the earlier CALL of the same id; it does not judge frame
 * order, timing or which side sent a frame.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "internal.h"
#include "ocppgw/ocpp.h"
#include "ocppgw/rpc.h"
#include "ocppgw/schema.h"

/* A CALL's action as remembered for its reply: answered once it had one. */
struct pending {
	const struct ogw_schema *resp; /* NULL: the action has no response schema */
	const char *action;            /* interned in the set */
	bool answered;
};

/* CALLs seen so far: @ids maps a message id to its index in @v. */
struct pending_list {
	json_t *ids;
	struct pending *v;
	size_t n, cap;
};

static const char *type_name(enum ogw_msg_type t)
{
	switch (t) {
	case OGW_MSG_CALL: return "CALL";
	case OGW_MSG_CALLRESULT: return "CALLRESULT";
	case OGW_MSG_CALLERROR: return "CALLERROR";
	case OGW_MSG_CALLRESULTERROR: return "CALLRESULTERROR";
	case OGW_MSG_SEND: return "SEND";
	}
	return "?";
}

/* Strips the line end and surrounding blanks; returns the new length. */
static size_t trim(char *line, size_t len, char **start)
{
	char *s = line;
	while (len && (s[len - 1] == '\n' || s[len - 1] == '\r' || s[len - 1] == ' ' ||
		       s[len - 1] == '\t'))
		len--;
	while (len && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	*start = s;
	return len;
}

static struct pending *find_pending(struct pending_list *pl, const char *id)
{
	json_t *idx = json_object_get(pl->ids, id);
	return idx ? &pl->v[json_integer_value(idx)] : NULL;
}

/* 0, or -ENOMEM. A repeated id keeps its first CALL. */
static int add_pending(struct pending_list *pl, const char *id, const struct ogw_schema *req,
		       const struct ogw_schema *resp)
{
	json_t *idx;

	if (json_object_get(pl->ids, id))
		return 0;
	if (pl->n == pl->cap) {
		size_t cap = pl->cap ? pl->cap * 2 : 64;
		struct pending *m = realloc(pl->v, cap * sizeof(*m));
		if (!m)
			return -ENOMEM;
		pl->v = m;
		pl->cap = cap;
	}
	idx = json_integer((json_int_t)pl->n);
	if (!idx || json_object_set_new(pl->ids, id, idx) < 0)
		return -ENOMEM;
	pl->v[pl->n++] = (struct pending){ .resp = resp, .action = req->action };
	return 0;
}

int ogw_schema_check_capture(const struct ogw_schema_set *s, enum ogw_ocpp v, FILE *in,
			     const char *in_name, FILE *out)
{
	struct pending_list pl = { .ids = json_object() };
	char *line = NULL;
	size_t cap = 0, frames = 0, invalid = 0, lineno = 0;
	ssize_t got;
	int r = 1;

	if (!pl.ids) {
		fprintf(out, "%s: out of memory\n", in_name);
		goto out;
	}
	while ((got = getline(&line, &cap, in)) >= 0) {
		struct ogw_frame f;
		struct ogw_rpc_fault rf;
		struct ogw_schema_fault fault = { 0 };
		const char *why = NULL, *action = "-";
		char *text;
		bool ok;

		lineno++;
		size_t len = trim(line, (size_t)got, &text);
		if (len == 0)
			continue;
		frames++;
		if (ogw_frame_decode(text, len, v, &f, &rf) < 0) {
			invalid++;
			fprintf(out, "line %zu: INVALID - %s: %s\n", lineno, rf.id, rf.desc);
			continue;
		}
		switch (f.type) {
		case OGW_MSG_CALL:
		case OGW_MSG_SEND: {
			const struct ogw_schema *req = ogw_schema_get(s, f.action, false);
			action = f.action;
			ok = false;
			if (!req) {
				why = "unknown action";
				break;
			}
			if (f.type == OGW_MSG_CALL &&
			    add_pending(&pl, f.id, req, ogw_schema_get(s, f.action, true)) < 0) {
				ogw_frame_release(&f);
				fprintf(out, "%s: out of memory at line %zu\n", in_name, lineno);
				goto out;
			}
			ok = ogw_schema_validate(req, f.payload, &fault) == 0;
			break;
		}
		case OGW_MSG_CALLRESULT: {
			struct pending *p = find_pending(&pl, f.id);
			ok = false;
			if (!p) {
				why = "no earlier CALL with this id";
				break;
			}
			action = p->action;
			if (p->answered) {
				why = "the CALL with this id was already answered";
				break;
			}
			p->answered = true;
			if (!p->resp) {
				why = "no response schema for this action";
				break;
			}
			ok = ogw_schema_validate(p->resp, f.payload, &fault) == 0;
			break;
		}
		default: {
			/* An error frame has no payload schema; it still answers
			 * the CALL it names. */
			struct pending *p = find_pending(&pl, f.id);
			if (p) {
				action = p->action;
				p->answered = true;
			}
			ok = true;
			break;
		}
		}
		if (ok) {
			fprintf(out, "line %zu: OK %s %s %s\n", lineno, type_name(f.type), action,
				f.id);
		} else {
			invalid++;
			fprintf(out, "line %zu: INVALID %s %s: %s\n", lineno, action, f.id,
				why ? why : fault.desc);
		}
		ogw_frame_release(&f);
	}
	if (ferror(in)) {
		fprintf(out, "%s: read error after line %zu\n", in_name, lineno);
		goto out;
	}
	fprintf(out, "%zu frames, %zu invalid\n", frames, invalid);
	r = invalid ? 1 : 0;
out:
	free(line);
	free(pl.v);
	json_decref(pl.ids);
	return r;
}
