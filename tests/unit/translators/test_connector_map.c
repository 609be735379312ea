/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the connector map (translators/connector_map.h): how a 1.6
 * central system numbers a 2.x station's connectors, learned from what the
 * station names and looked up both ways. Pure functions on JSON, no
 * environment.
 */
#include <criterion/criterion.h>
#include <errno.h>

#include <jansson.h>

#include "connector_map.h"

static long long learn(json_t *map, long long evse, long long conn)
{
	return ogw_cmap_learn(map, evse, conn, NULL);
}

static void assert_from16(const json_t *map, long long id16, long long evse, long long conn)
{
	long long e = -1, c = -1;

	ogw_cmap_from16(map, id16, &e, &c);
	cr_assert_eq(e, evse, "1.6 connector %lld: EVSE %lld, want %lld", id16, e, evse);
	cr_assert_eq(c, conn, "1.6 connector %lld: connector %lld, want %lld", id16, c, conn);
}

/* A station reporting its boot picture in order: (evse, connector) order,
 * from 1, the way a 1.6 charger of the same hardware numbers them. */
Test(connector_map, boot_picture_in_order)
{
	json_t *map = json_array();
	bool changed = false;

	cr_assert_eq(ogw_cmap_learn(map, 1, 1, &changed), 1);
	cr_assert(changed);
	cr_assert_eq(learn(map, 1, 2), 2);
	cr_assert_eq(learn(map, 2, 1), 3);
	cr_assert_eq(ogw_cmap_count(map), 3);
	assert_from16(map, 1, 1, 1);
	assert_from16(map, 2, 1, 2);
	assert_from16(map, 3, 2, 1);
	/* Seen again: the same number, the map unchanged. */
	cr_assert_eq(ogw_cmap_learn(map, 1, 2, &changed), 2);
	cr_assert_not(changed);
	cr_assert_eq(ogw_cmap_count(map), 3);
	json_decref(map);
}

/* A connector seen before those the 2.x numbering says exist below it
 * numbers them first, so single-connector EVSEs keep "connector n is EVSE
 * n" whatever order their statuses come in. */
Test(connector_map, lower_connectors_numbered_first)
{
	json_t *map = json_array();

	cr_assert_eq(learn(map, 3, 1), 3);
	assert_from16(map, 1, 1, 1);
	assert_from16(map, 2, 2, 1);
	cr_assert_eq(learn(map, 1, 1), 1);
	cr_assert_eq(learn(map, 2, 1), 2);
	/* (4, 2) brings (4, 1) along. */
	cr_assert_eq(learn(map, 4, 2), 5);
	cr_assert_eq(learn(map, 4, 1), 4);
	json_decref(map);
}

/* Numbers never change once given: a second connector of a lower EVSE
 * that shows up late gets the next number. */
Test(connector_map, numbers_are_stable)
{
	json_t *map = json_array();

	learn(map, 1, 1);
	learn(map, 2, 1);
	cr_assert_eq(learn(map, 1, 2), 3);
	assert_from16(map, 1, 1, 1);
	assert_from16(map, 2, 2, 1);
	assert_from16(map, 3, 1, 2);
	json_decref(map);
}

/* Connector 0 is the whole charger both ways; a missing connectorId is 1. */
Test(connector_map, charger_and_missing_connector)
{
	json_t *map = json_array();

	cr_assert_eq(learn(map, 0, 0), 0);
	cr_assert_eq(ogw_cmap_count(map), 0);
	assert_from16(map, 0, 0, 0);
	cr_assert_eq(learn(map, 1, 0), 1);
	assert_from16(map, 1, 1, 1);
	json_decref(map);
}

/* Beyond what is known, 1.6 numbers are further EVSEs of one connector
 * each: with nothing known, connector n is EVSE n. */
Test(connector_map, beyond_the_map)
{
	json_t *map = json_array();

	assert_from16(map, 2, 2, 1);
	learn(map, 1, 1);
	learn(map, 1, 2);
	assert_from16(map, 3, 2, 1);
	assert_from16(map, 4, 3, 1);
	json_decref(map);
}

/* The lookup without learning says what learning would give and changes
 * nothing. */
Test(connector_map, to16_does_not_learn)
{
	json_t *map = json_array();

	learn(map, 1, 1);
	cr_assert_eq(ogw_cmap_to16(map, 1, 1), 1);
	cr_assert_eq(ogw_cmap_to16(map, 2, 2), 3);
	cr_assert_eq(ogw_cmap_count(map), 1);
	cr_assert_eq(ogw_cmap_to16(NULL, 2, 1), 2);
	json_decref(map);
}

/* The station controls its ids: a map never outgrows OGW_CMAP_MAX, and a
 * refused connector adds nothing (not even the ones below it). */
Test(connector_map, capped)
{
	json_t *map = json_array();
	bool changed = true;

	cr_assert_eq(ogw_cmap_learn(map, 1000000, 1, &changed), -ERANGE);
	cr_assert_not(changed);
	cr_assert_eq(ogw_cmap_count(map), 0);
	cr_assert_eq(learn(map, 1, OGW_CMAP_MAX + 1), -ERANGE);
	cr_assert_eq(learn(map, OGW_CMAP_MAX, 1), OGW_CMAP_MAX);
	cr_assert_eq(learn(map, 1, 2), -ERANGE);
	cr_assert_eq(ogw_cmap_count(map), OGW_CMAP_MAX);
	cr_assert_eq(learn(map, 7, 1), 7, "known connectors keep their numbers");
	json_decref(map);
}
