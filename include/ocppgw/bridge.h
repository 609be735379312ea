/* SPDX-License-Identifier: MIT */
/*
 * The cloud bridge (`ocppgw bridge`, mode = "bridge"): subscribes to the
 * gateways' MQTT topics and opens one WebSocket per charger to a standard
 * CSMS, so any off-the-shelf CSMS works behind the MQTT uplink
 * (docs/MQTT.md).
 */
#ifndef OCPPGW_BRIDGE_H
#define OCPPGW_BRIDGE_H

#include "ocppgw/config.h"

/* Takes ownership of *conf (cleared). Runs until SIGINT/SIGTERM; returns
 * the process exit status. */
int ogw_bridge_run(struct ogw_conf *conf);

#endif
