/* SPDX-License-Identifier: MIT */
/*
 * A password the CSMS changed on the charger: the stage sees every
 * down-call the charger answered and keeps an accepted new password.
 * check(): 0 when @pass is the kept one (or, @pass NULL, when one is
 * kept), -EACCES when it is not, -ENOENT when none is kept.
 * upstream(): the north leg's password kept for @id (malloc'd), or NULL.
 */
#ifndef OGW_CREDENTIALS_H
#define OGW_CREDENTIALS_H

#include <stddef.h>

#include "session/session.h"

extern const struct ogw_stage ogw_credentials_stage;

int ogw_credentials_check(const struct ogw_gateway *gw, const char *id, const void *pass, size_t len);
char *ogw_credentials_upstream(struct ogw_gateway *gw, const char *id);

#endif
