/* SPDX-License-Identifier: MIT */
/*
 * The operator's event log: its stage (connects, disconnects, boots,
 * faults, security events, CALLERRORs seen on the legs, CSMS connections
 * up and down), refused charger logins, and the one call
 * other features use to add what only they know (dead letters, limit
 * changes). Rows go to the store's events table (bounded).
 */
#ifndef OGW_FEATURES_EVENTS_H
#define OGW_FEATURES_EVENTS_H

#include "session/stage.h"

struct ogw_gateway;

extern const struct ogw_stage ogw_events_stage;

/* Records an event of @kind about @charger (NULL: the site) now. Never
 * fails the caller: a row the store cannot take is logged and lost. */
void ogw_events_note(struct ogw_gateway *gw, const char *charger, const char *kind,
		     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* A charger's login refused at the door (@charger NULL: before its
 * identity is known, a TLS certificate), @why a short reason. At most a
 * few a minute are recorded; the next one recorded says how many were not. */
void ogw_events_login_refused(struct ogw_gateway *gw, const char *charger, const char *why);

#endif
