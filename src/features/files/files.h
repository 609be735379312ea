/* SPDX-License-Identifier: MIT */
/*
 * Firmware and logs through the gateway (docs/FILES.md): the stage that
 * rewrites firmware and log locations to the gateway's LAN file server,
 * the download cache and the log uploads behind it (files.c, upload.c).
 */
#ifndef OGW_FILES_H
#define OGW_FILES_H

#include <stdint.h>

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
/* fwstore.c: the operator's firmware files in data_dir/firmware, for a
 * rollout with "file" (docs/FILES.md). Negative errno returns with @err
 * saying why: -ENOTSUP without files.listen, -EINVAL a bad name, -ENOENT
 * no such file, -EBUSY a running rollout or a charger's download uses it,
 * -EFBIG over files.max_file_size, -EDQUOT over firmware_max_files or
 * firmware_max_size, -ENOSPC the disk is full. */
struct ogw_fw_put;
/* At start, after ogw_files_start(): the files an earlier run kept. */
int ogw_fw_start(struct ogw_gateway *gw);
/* Before ogw_files_stop(): uploads under way are cut (their owners free them). */
void ogw_fw_stop(struct ogw_gateway *gw);
/* NULL when @name is one (letters, digits, ".-_", 1 to 64, no leading '.'), else why not. */
const char *ogw_fw_name_check(const char *name);
/* An upload of @size bytes as @name, written as it comes (ogw_fw_put_write()). */
int ogw_fw_put_begin(struct ogw_gateway *gw, const char *name, uint64_t size,
		     struct ogw_fw_put **ret, char *err, size_t errlen);
/* -errno: -ENOSPC/-EDQUOT when the disk is full. */
int ogw_fw_put_write(struct ogw_fw_put *p, const void *data, size_t len);
/* Takes @p. The whole body came: {"file", "size", "sha256"}, or NULL
 * with *ret_rc and @err. */
json_t *ogw_fw_put_commit(struct ogw_fw_put *p, int *ret_rc, char *err, size_t errlen);
/* Takes @p: the client went away; nothing is left. NULL-safe. */
void ogw_fw_put_abort(struct ogw_fw_put *p);
/* {"files": [{"name", "size", "sha256", "mtime"}], "bytes", "max_files",
 * "max_size"}; NULL without files.listen. */
json_t *ogw_fw_list_json(struct ogw_gateway *gw);
int ogw_fw_delete(struct ogw_gateway *gw, const char *name, char *err, size_t errlen);
/* Stops transfers, closes the server and its connections. NULL-safe. */
void ogw_files_stop(struct ogw_gateway *gw);

#endif
