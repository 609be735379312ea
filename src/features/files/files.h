/* SPDX-License-Identifier: MIT */
/*
 * Firmware through the gateway (files.c, docs/FILES.md): the stage that
 * rewrites a firmware location to the gateway's LAN file server, the
 * shared download cache behind it, and that server.
 */
#ifndef OGW_FILES_H
#define OGW_FILES_H

#include "session/session.h"

extern const struct ogw_stage ogw_files_stage;

/* Opens data_dir/files and the file server when files.listen is set
 * (0 when it is not: the stage then passes every location through). */
int ogw_files_start(struct ogw_gateway *gw);
/* Stops transfers, closes the server and its connections. NULL-safe. */
void ogw_files_stop(struct ogw_gateway *gw);

#endif
