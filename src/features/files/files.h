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
int ogw_files_logs_start(struct ogw_gateway *gw);
/* rollout.c: firmware to a list of chargers in waves (POST /api/firmware). */
extern const struct ogw_stage ogw_rollout_stage;
/* Starts one from the request @body: 0; -EINVAL with *ret_field and @err
 * saying what is wrong; -EBUSY while one runs; -ENOTSUP without files.listen. */
int ogw_rollout_start(struct ogw_gateway *gw, const json_t *body, const char **ret_field,
		      char *err, size_t errlen);
/* The last rollout's progress ({"state": "none"} before the first). */
json_t *ogw_rollout_json(struct ogw_gateway *gw);
void ogw_rollout_stop(struct ogw_gateway *gw);
/* At start: the rollout an earlier run kept, going on if it was running. */
void ogw_rollout_restore(struct ogw_gateway *gw);
/* Stops transfers, closes the server and its connections. NULL-safe. */
void ogw_files_stop(struct ogw_gateway *gw);

#endif
