/* SPDX-License-Identifier: MIT */
/*
 * The gateway daemon as main() sees it: build it from a checked
 * configuration, run its event loop until SIGINT/SIGTERM, free it. SIGHUP
 * calls back into main() to build a fresh configuration, so command-line
 * overrides keep applying after a reload.
 */
#ifndef OCPPGW_GATEWAY_H
#define OCPPGW_GATEWAY_H

#include "ocppgw/config.h"

struct ogw_gateway;

/* Builds a complete configuration (defaults, file, overrides) into *ret.
 * 0, or negative with the errors already reported. */
typedef int (*ogw_gateway_reload_fn)(struct ogw_conf *ret, void *arg);

/* Takes ownership of *conf (it is zeroed). 0 or a negative errno; the
 * reason is logged. */
int ogw_gateway_new(struct ogw_conf *conf, ogw_gateway_reload_fn reload, void *reload_arg,
		    struct ogw_gateway **ret);
/* Runs until a stop signal; returns the process exit status. */
int ogw_gateway_run(struct ogw_gateway *gw);
/* NULL-safe; returns NULL. */
struct ogw_gateway *ogw_gateway_free(struct ogw_gateway *gw);

#endif
