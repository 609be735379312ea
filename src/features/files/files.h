/* SPDX-License-Identifier: MIT */
/*
 * Firmware and logs through the gateway (docs/FILES.md): the stage that
 * rewrites firmware and log locations to the gateway's LAN file server,
 * the download cache and the log uploads behind it (files.c, upload.c).
 */
#ifndef OGW_FILES_H
#define OGW_FILES_H

#include "session/session.h"

extern const struct ogw_stage ogw_files_stage;

/* Opens data_dir/files and the file server when files.listen is set
 * (0 when it is not: the stage then passes every location through). */
int ogw_files_start(struct ogw_gateway *gw);
/* upload.c: log uploads join the file server (after ogw_files_start()). */
extern const struct ogw_stage ogw_logs_stage;
void ogw_files_logs_start(struct ogw_gateway *gw);
/* Stops transfers, closes the server and its connections. NULL-safe. */
void ogw_files_stop(struct ogw_gateway *gw);

#endif
