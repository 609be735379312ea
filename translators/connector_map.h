/* SPDX-License-Identifier: MIT */
/*
 * Private to translators/: how a 1.6 peer numbers the connectors of a 2.x
 * one. 2.x names a connector (evseId, connectorId), 1.6 one flat
 * connectorId. The map is a JSON array of [evseId, connectorId] pairs, 1.6
 * connector n being entry n-1; the translator keeps it in its durable
 * state, these functions keep nothing. Connector 0 is the whole charger in
 * both numberings.
 */
#ifndef OCPPGW_TR_CONNECTOR_MAP_H
#define OCPPGW_TR_CONNECTOR_MAP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* The most connectors a map holds: every size a station controls is capped. */
#define OGW_CMAP_MAX 64

/*
 * The 1.6 connectorId of 2.x connector (@evse, @conn), adding it to @map
 * when it is new, after the connectors the 2.x numbering says exist before
 * it that the map lacks (connectors 1..@conn-1 of its EVSE, connector 1 of
 * each lower EVSE; 2.0.1 numbers both from 1 without gaps), in (evse,
 * connector) order. Numbers once given never change. @evse 0 is 0; a
 * @conn below 1 is connector 1. *ret_changed (may be NULL) tells whether
 * @map grew. -ERANGE when it would outgrow OGW_CMAP_MAX, -ENOMEM.
 */
long long ogw_cmap_learn(json_t *map, long long evse, long long conn, bool *ret_changed);
/* The same without changing @map: what the number would be. */
long long ogw_cmap_to16(const json_t *map, long long evse, long long conn);
/*
 * The 2.x connector of 1.6 connector @id16. Beyond the map it is as if
 * the station had further EVSEs of one connector each (a map that knows
 * nothing yet gives EVSE n for connector n). @id16 0 (or below) is
 * (0, 0).
 */
void ogw_cmap_from16(const json_t *map, long long id16, long long *ret_evse,
		     long long *ret_conn);
/* How many connectors @map knows. */
size_t ogw_cmap_count(const json_t *map);

#endif
