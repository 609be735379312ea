/* SPDX-License-Identifier: MIT */
/*
 * The numbering of a 2.x station's connectors for a 1.6 peer
 * (connector_map.h): learning a connector, and the lookups both ways. Pure
 * functions on the map's JSON; docs/TRANSLATION.md "Connector numbering"
 * gives the rule.
 */
#include <errno.h>
#include <limits.h>

#include <jansson.h>

#include "connector_map.h"

static long long pair_evse(const json_t *p)
{
	return json_integer_value(json_array_get(p, 0));
}

static long long pair_conn(const json_t *p)
{
	return json_integer_value(json_array_get(p, 1));
}

/* The 1.6 id of (@evse, @conn) in @map, or 0. */
static long long find(const json_t *map, long long evse, long long conn)
{
	for (size_t i = 0; i < json_array_size(map); i++) {
		const json_t *p = json_array_get(map, i);
		if (pair_evse(p) == evse && pair_conn(p) == conn)
			return (long long)i + 1;
	}
	return 0;
}

/* Whether EVSE @evse has any connector in @map. */
static bool has_evse(const json_t *map, long long evse)
{
	for (size_t i = 0; i < json_array_size(map); i++)
		if (pair_evse(json_array_get(map, i)) == evse)
			return true;
	return false;
}

static int append(json_t *map, long long evse, long long conn)
{
	if (json_array_size(map) >= OGW_CMAP_MAX)
		return -ERANGE;
	return json_array_append_new(map, json_pack("[I, I]", (json_int_t)evse, (json_int_t)conn))
		       ? -ENOMEM : 0;
}

long long ogw_cmap_learn(json_t *map, long long evse, long long conn, bool *ret_changed)
{
	size_t before = json_array_size(map);
	long long id;
	int r = 0;

	if (ret_changed)
		*ret_changed = false;
	if (evse <= 0)
		return 0;
	if (conn < 1)
		conn = 1;
	if ((id = find(map, evse, conn)))
		return id;
	/* Checked first, so that a refused connector adds nothing. */
	if (evse > OGW_CMAP_MAX || conn > OGW_CMAP_MAX)
		return -ERANGE;
	for (long long e = 1; e < evse && !r; e++)
		if (!has_evse(map, e))
			r = append(map, e, 1);
	for (long long c = 1; c < conn && !r; c++)
		if (!find(map, evse, c))
			r = append(map, evse, c);
	if (!r)
		r = append(map, evse, conn);
	if (r) {
		while (json_array_size(map) > before)
			json_array_remove(map, json_array_size(map) - 1);
		return r;
	}
	if (ret_changed)
		*ret_changed = true;
	return (long long)json_array_size(map);
}

long long ogw_cmap_to16(const json_t *map, long long evse, long long conn)
{
	json_t *copy = json_is_array(map) ? json_copy((json_t *)map) : json_array();
	long long id = copy ? ogw_cmap_learn(copy, evse, conn, NULL) : -ENOMEM;

	json_decref(copy);
	return id;
}

void ogw_cmap_from16(const json_t *map, long long id16, long long *ret_evse,
		     long long *ret_conn)
{
	size_t n = json_array_size(map);

	if (id16 <= 0) {
		*ret_evse = 0;
		*ret_conn = 0;
	} else if ((size_t)id16 <= n) {
		*ret_evse = pair_evse(json_array_get(map, id16 - 1));
		*ret_conn = pair_conn(json_array_get(map, id16 - 1));
	} else {
		long long last = 0;
		for (size_t i = 0; i < n; i++)
			if (pair_evse(json_array_get(map, i)) > last)
				last = pair_evse(json_array_get(map, i));
		*ret_evse = id16 - (long long)n > LLONG_MAX - last ? LLONG_MAX
								    : last + id16 - (long long)n;
		*ret_conn = 1;
	}
}

size_t ogw_cmap_count(const json_t *map)
{
	return json_array_size(map);
}
