/* SPDX-License-Identifier: MIT */
/*
 * Offline operation, seen from outside: its stage (the local answers, the
 * queue and replay, north 1.6 id maps, the transaction log) and the two
 * things the gateway asks of it at start and on a failed commit.
 */
#ifndef OGW_OFFLINE_H
#define OGW_OFFLINE_H

#include "session/session.h"

extern const struct ogw_stage ogw_offline_stage;

/* At start: a detached session for every charger with queued messages. */
void ogw_offline_restore(struct ogw_gateway *gw);
/* A call of the gateway's own as charger @id (@payload taken, in @north's
 * version) for a charger with no session: queued like a transaction
 * message and delivered by a session opened for it (closed once the queue
 * is empty), or by the charger's own when it connects first. 0 or a
 * negative errno (nothing queued). */
int ogw_offline_deliver_as(struct ogw_gateway *gw, const char *id, enum ogw_ocpp south,
			   enum ogw_ocpp north, const char *action, json_t *payload);
/* @payload (in the CSMS's version) becomes the BootNotification a session
 * the gateway opens as @id sends first: how the gateway's own identity
 * (tls.identity) presents itself. 0 or a negative errno. */
int ogw_offline_boot_set(struct ogw_gateway *gw, const char *id, const json_t *payload);
/* Whether session @s still owes the CSMS its boot (not sent, not answered,
 * or answered Pending / Rejected): what else it sends waits (2.0.1 B02). */
bool ogw_offline_boot_waits(struct ogw_session *s);
/* A group commit failed: frames it held are dropped, chargers told. */
void ogw_offline_commit_failed(struct ogw_gateway *gw, int err);

#endif
