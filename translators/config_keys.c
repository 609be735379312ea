/* SPDX-License-Identifier: MIT */
/*
 * The 1.6 configuration key <-> 2.0.1 device-model variable table
 * (config_keys.def) as an array both translators search. Only the lookups
 * live here; what a value looks like on each side is the translators' job.
 */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "common.h"

const struct ogw_cfg_key ogw_cfg_keys[] = {
#define CFG_KEY(key, component, variable, instance, form, readonly) \
	{ key, component, variable, instance, form, readonly },
#include "config_keys.def"
#undef CFG_KEY
};

const size_t ogw_cfg_n_keys = sizeof(ogw_cfg_keys) / sizeof(ogw_cfg_keys[0]);

const struct ogw_cfg_key *ogw_cfg_by_key(const char *key)
{
	for (size_t i = 0; key && i < ogw_cfg_n_keys; i++)
		if (!strcasecmp(ogw_cfg_keys[i].key, key))
			return &ogw_cfg_keys[i];
	return NULL;
}

static bool same(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* Whether @component names row @k's component: a per-connector row's
 * connector 0 is the station itself. */
static bool component_is(const struct ogw_cfg_key *k, const char *component)
{
	return !strcmp(k->component, component) ||
	       (k->form == OGW_CFG_PER_CONNECTOR && !strcmp(component, "ChargingStation"));
}

const struct ogw_cfg_key *ogw_cfg_by_variable(const char *component, const char *name,
					      const char *instance, bool *ret_known)
{
	bool known = false;

	for (size_t i = 0; component && name && i < ogw_cfg_n_keys; i++) {
		const struct ogw_cfg_key *k = &ogw_cfg_keys[i];
		if (!component_is(k, component))
			continue;
		known = true;
		if (!strcmp(k->variable, name) && same(k->instance, instance)) {
			if (ret_known)
				*ret_known = true;
			return k;
		}
	}
	if (ret_known)
		*ret_known = known;
	return NULL;
}
