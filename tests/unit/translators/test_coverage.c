/* SPDX-License-Identifier: MIT */
/*
 * Coverage of every version translator the registry has: each table is
 * sorted and covers every action of its source version and direction
 * (schemas/<version>/actions.json), and docs/TRANSLATION.md lists every
 * action of every pair exactly as the tables say, between its generated
 * markers. The expected block is written to translation-tables.md (or to
 * $OGW_TRANSLATION_OUT) so tools/gen-translation-doc.sh can splice it in.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ocppgw/translator.h"

#define BEGIN_MARK "<!-- BEGIN GENERATED TABLES: tools/gen-translation-doc.sh -->\n"
#define END_MARK "<!-- END GENERATED TABLES -->\n"

static const char *const kind_names[] = {
	[OGW_TR_MAPPED] = "mapped",
	[OGW_TR_SYNTHESIZED] = "synthesized",
	[OGW_TR_LOCAL] = "local",
	[OGW_TR_REJECTED] = "rejected",
};

/* A 2.1 SEND goes charger -> CSMS. */
static bool dir_matches(const char *dirtext, enum ogw_tr_dir dir)
{
	if (!strcmp(dirtext, "both"))
		return true;
	if (dir == OGW_TR_UP)
		return !strcmp(dirtext, "up") || !strcmp(dirtext, "send");
	return !strcmp(dirtext, "down");
}

static json_t *load_actions(enum ogw_ocpp v)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/schemas/%s/actions.json", OGW_SRC_DIR, ogw_ocpp_name(v));
	json_t *doc = json_load_file(path, 0, NULL);
	cr_assert_not_null(doc, "cannot read %s", path);
	return doc;
}

/* The leg @dir's calls come from speaks this version... */
static enum ogw_ocpp leg_version(const struct ogw_translator *tr, enum ogw_tr_dir dir)
{
	return dir == OGW_TR_UP ? tr->south : tr->north;
}

/* ...and the table for them is written in this one (a shim on that leg
 * adapts between the two). */
static enum ogw_ocpp table_version(const struct ogw_translator *tr, enum ogw_tr_dir dir)
{
	if (tr->shim && (dir == OGW_TR_DOWN) == (tr->shim->leg == OGW_TR_UP))
		return tr->shim->tables;
	return leg_version(tr, dir);
}

static void check_table(const struct ogw_translator *tr, enum ogw_tr_dir dir)
{
	enum ogw_ocpp src = table_version(tr, dir);
	const struct ogw_tr_action *tab = dir == OGW_TR_UP ? tr->up : tr->down;
	size_t n = dir == OGW_TR_UP ? tr->n_up : tr->n_down;
	const char *pair = dir == OGW_TR_UP ? "up" : "down";
	json_t *doc = load_actions(src);
	json_t *actions = json_object_get(doc, "actions");
	const char *name;
	json_t *v;

	for (size_t i = 0; i < n; i++) {
		json_t *d = json_object_get(actions, tab[i].action);
		if (i)
			cr_expect_lt(strcmp(tab[i - 1].action, tab[i].action), 0,
				     "%s->%s %s table not sorted at %s", ogw_ocpp_name(tr->south),
				     ogw_ocpp_name(tr->north), pair, tab[i].action);
		cr_expect(d && dir_matches(json_string_value(d), dir),
			  "%s->%s: %s entry %s is not a %s %s action", ogw_ocpp_name(tr->south),
			  ogw_ocpp_name(tr->north), pair, tab[i].action, ogw_ocpp_name(src), pair);
		cr_expect((unsigned)tab[i].kind <= OGW_TR_REJECTED && tab[i].target && tab[i].call,
			  "%s: kind, target and call() are required", tab[i].action);
	}
	json_object_foreach(actions, name, v) {
		if (dir_matches(json_string_value(v), dir))
			cr_expect_not_null(ogw_translator_action(tr, dir, name),
					   "%s->%s: %s action %s has no %s entry",
					   ogw_ocpp_name(tr->south), ogw_ocpp_name(tr->north),
					   ogw_ocpp_name(src), name, pair);
	}
	json_decref(doc);
}

/* ---- the expected markdown --------------------------------------------- */

struct buf {
	char *s;
	size_t len, cap;
};

static void put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	for (;;) {
		va_start(ap, fmt);
		int n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		cr_assert_geq(n, 0);
		if (b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		b->cap = (b->cap + (size_t)n) * 2 + 256;
		b->s = realloc(b->s, b->cap);
		cr_assert_not_null(b->s);
	}
}

/* Table cells cannot hold a bare '|'. */
static void put_cell(struct buf *b, const char *text)
{
	for (const char *p = text; *p; p++)
		put(b, *p == '|' ? "\\|" : "%c", *p);
}

static void put_rows(struct buf *b, const struct ogw_translator *tr, enum ogw_tr_dir dir)
{
	const struct ogw_tr_action *tab = dir == OGW_TR_UP ? tr->up : tr->down;
	size_t n = dir == OGW_TR_UP ? tr->n_up : tr->n_down;
	for (size_t i = 0; i < n; i++) {
		put(b, "| %s | %s | %s | ", dir == OGW_TR_UP ? "up" : "down", tab[i].action,
		    kind_names[tab[i].kind]);
		put_cell(b, tab[i].target ? tab[i].target : "");
		put(b, " |\n");
	}
	if (table_version(tr, dir) == leg_version(tr, dir))
		return;
	/* Actions only the shimmed leg's version has: refused by the session. */
	json_t *leg = load_actions(leg_version(tr, dir)), *tables = load_actions(table_version(tr, dir));
	const char *name;
	json_t *v;
	json_object_foreach(json_object_get(leg, "actions"), name, v) {
		if (!dir_matches(json_string_value(v), dir) ||
		    json_object_get(json_object_get(tables, "actions"), name))
			continue;
		const struct ogw_tr_action *e = ogw_translator_action(tr->shim->edge, dir, name);
		cr_expect_not_null(e, "%s->%s: %s only in OCPP %s has no edge entry",
				   ogw_ocpp_name(tr->south), ogw_ocpp_name(tr->north), name,
				   ogw_ocpp_name(leg_version(tr, dir)));
		if (!e)
			continue;
		put(b, "| %s | %s | %s | ", dir == OGW_TR_UP ? "up" : "down", name,
		    kind_names[e->kind]);
		put_cell(b, e->target ? e->target : "");
		put(b, " |\n");
	}
	json_decref(leg);
	json_decref(tables);
}

/* Every ordered pair of different versions, in enum order. */
static void expected_block(struct buf *b)
{
	put(b, "%s", BEGIN_MARK);
	for (int s = 0; s < OGW_OCPP_COUNT; s++) {
		for (int n = 0; n < OGW_OCPP_COUNT; n++) {
			if (s == n)
				continue;
			const struct ogw_translator *tr = ogw_translator_find(s, n);
			put(b, "\n### %s charger, %s CSMS\n\n", ogw_ocpp_name(s), ogw_ocpp_name(n));
			if (!tr) {
				put(b, "**Not available**: the charger is refused at connect.\n");
				continue;
			}
			if (tr->shim)
				put(b, "The %s charger / %s CSMS tables, with every payload on the %s "
				    "leg passed through the %s <-> %s adapter.\n\n",
				    ogw_ocpp_name(tr->shim->leg == OGW_TR_UP ? tr->south :
						  tr->shim->tables),
				    ogw_ocpp_name(tr->shim->leg == OGW_TR_UP ? tr->shim->tables :
						  tr->north),
				    tr->shim->leg == OGW_TR_UP ? "north" : "south",
				    ogw_ocpp_name(tr->shim->tables),
				    ogw_ocpp_name(tr->shim->leg == OGW_TR_UP ? tr->north : tr->south));
			put(b, "| Direction | Action | Kind | Becomes |\n|---|---|---|---|\n");
			put_rows(b, tr, OGW_TR_UP);
			put_rows(b, tr, OGW_TR_DOWN);
		}
	}
	put(b, "\n%s", END_MARK);
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *s;
	long n;
	cr_assert_not_null(f, "cannot open %s", path);
	cr_assert_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	cr_assert_geq(n, 0);
	rewind(f);
	s = malloc((size_t)n + 1);
	cr_assert_not_null(s);
	cr_assert_eq(fread(s, 1, (size_t)n, f), (size_t)n);
	s[n] = '\0';
	fclose(f);
	return s;
}

Test(coverage, tables)
{
	size_t found = 0;
	for (int s = 0; s < OGW_OCPP_COUNT; s++) {
		for (int n = 0; n < OGW_OCPP_COUNT; n++) {
			const struct ogw_translator *tr = ogw_translator_find(s, n);
			if (s == n) {
				cr_expect_null(tr, "%s: same-version pairs are relayed untouched",
					       ogw_ocpp_name(s));
				continue;
			}
			if (!tr)
				continue;
			found++;
			cr_expect(tr->south == (enum ogw_ocpp)s && tr->north == (enum ogw_ocpp)n);
			check_table(tr, OGW_TR_UP);
			check_table(tr, OGW_TR_DOWN);
		}
	}
	/* the 2.x pairs are always built */
	cr_expect_geq(found, 2);
}

Test(coverage, translation_doc)
{
	struct buf b = { 0 };
	const char *out = getenv("OGW_TRANSLATION_OUT");
	char path[1024], cwd[512];
	char *doc, *begin, *end;
	FILE *f;

	expected_block(&b);
	if (!out)
		out = "translation-tables.md";
	f = fopen(out, "w");
	cr_assert_not_null(f, "cannot write %s", out);
	cr_assert_eq(fwrite(b.s, 1, b.len, f), b.len);
	fclose(f);

	snprintf(path, sizeof(path), "%s/docs/TRANSLATION.md", OGW_SRC_DIR);
	doc = read_file(path);
	begin = strstr(doc, BEGIN_MARK);
	end = begin ? strstr(begin, END_MARK) : NULL;
	cr_assert(begin && end, "%s: generated-table markers missing", path);
	end += strlen(END_MARK);
	*end = '\0';
	cr_expect_str_eq(begin, b.s,
			 "docs/TRANSLATION.md tables differ from the translators: run "
			 "tools/gen-translation-doc.sh (expected block in %s/%s)",
			 out[0] == '/' ? "" : getcwd(cwd, sizeof(cwd)), out);
	free(doc);
	free(b.s);
}
