/* SPDX-License-Identifier: MIT */
/*
 * The list of version translators and the lookup the session uses per
 * frame. Same-version pairs have no translator: the session relays them
 * untouched. The tables themselves live one pair per file beside this one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ocppgw/translator.h"
#include "common.h"

extern const struct ogw_translator ogw_tr_v16_v201;
extern const struct ogw_translator ogw_tr_v201_v16;
extern const struct ogw_translator ogw_tr_v21_v201;
extern const struct ogw_translator ogw_tr_v201_v21;
extern const struct ogw_translator ogw_tr_v16_v21;
extern const struct ogw_translator ogw_tr_v21_v16;

static const struct ogw_translator *const translators[] = {
	&ogw_tr_v16_v201,
	&ogw_tr_v201_v16,
	&ogw_tr_v21_v201,
	&ogw_tr_v201_v21,
	&ogw_tr_v16_v21,
	&ogw_tr_v21_v16,
	NULL,
};

const struct ogw_translator *ogw_translator_find(enum ogw_ocpp south, enum ogw_ocpp north)
{
	for (size_t i = 0; translators[i]; i++)
		if (translators[i]->south == south && translators[i]->north == north)
			return translators[i];
	return NULL;
}

static int cmp_name(const void *name, const void *elem)
{
	return strcmp(name, *(const char *const *)elem);
}

const void *ogw_tr_table_find(const void *table, size_t n, size_t size, const char *name)
{
	return n ? bsearch(name, table, n, size, cmp_name) : NULL;
}

int ogw_tr_out_answer(struct ogw_tr_out *out, json_t *payload)
{
	if (!payload)
		return -ENOMEM;
	out->outcome = OGW_TR_ANSWER;
	out->payload = payload;
	return 0;
}

int ogw_tr_out_status(struct ogw_tr_out *out, const char *status)
{
	return ogw_tr_out_answer(out, json_pack("{s:s}", "status", status));
}

const struct ogw_tr_action *ogw_translator_action(const struct ogw_translator *t,
						  enum ogw_tr_dir dir, const char *action)
{
	if (dir == OGW_TR_UP)
		return ogw_tr_table_find(t->up, t->n_up, sizeof(*t->up), action);
	return ogw_tr_table_find(t->down, t->n_down, sizeof(*t->down), action);
}
