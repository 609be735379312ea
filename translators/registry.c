/* SPDX-License-Identifier: MIT */
/*
 * The list of version translators and the lookup the session uses per
 * frame. Same-version pairs have no translator: the session relays them
 * untouched. The tables themselves live one pair per file beside this one.
 */
#include <string.h>

#include "ocppgw/translator.h"

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

const struct ogw_tr_action *ogw_translator_action(const struct ogw_translator *t,
						  enum ogw_tr_dir dir, const char *action)
{
	/* Tables are sorted by action name (a unit test checks). */
	const struct ogw_tr_action *tab = dir == OGW_TR_UP ? t->up : t->down;
	size_t lo = 0, hi = dir == OGW_TR_UP ? t->n_up : t->n_down;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(action, tab[mid].action);
		if (!c)
			return &tab[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}
