/* SPDX-License-Identifier: MIT */
/*
 * The admin API's door for the gateway: its HTTP listener on the
 * gateway's lws context (admin.c).
 */
#ifndef OGW_ADMIN_DOOR_H
#define OGW_ADMIN_DOOR_H

struct ogw_gateway;

/* admin.c: the admin HTTP listener on the gateway's context. */
int ogw_admin_start(struct ogw_gateway *gw);
void ogw_admin_stop(struct ogw_gateway *gw);

#endif
