/* SPDX-License-Identifier: MIT */
/*
 * A charger listener as the upgrade checks see it:
 * which security profiles may connect through it and how it treats client
 * certificates. The gateway makes one per listener (`listen` and each of
 * `listeners`); south.c reads it for every upgrade.
 */
#ifndef OGW_TRANSPORT_DOOR_H
#define OGW_TRANSPORT_DOOR_H

#include <stdbool.h>

#include "session/session.h"

struct ogw_south_door {
	struct ogw_listener listen;  /* the sockets; `listen`'s are gw->south_listen */
	struct lws_vhost *vh;
	unsigned int profiles;    /* bit p: a charger bound to profile p may use it */
	bool tls;
	bool require_cert;        /* every charger here shows a certificate */
	bool optional_cert;       /* asked for and verified when shown (profiles 2+3) */
	const char *crl;          /* tls.crl: loaded into the vhost's SSL_CTX */
	char what[80];            /* "listen" or "listeners[N] (ADDR:PORT)" for log lines */
};

/* door.c: the gateway's doors, `listen`'s first (its sockets are @main). */
void ogw_south_doors_set(const struct ogw_south_door *d, size_t n);
/* The door @wsi was accepted through, or NULL. */
const struct ogw_south_door *ogw_south_door_of(struct lws *wsi, const struct ogw_listener *main);

#endif
