/* SPDX-License-Identifier: MIT */
/*
 * Which charger listener a connection came through, by the address it
 * was accepted on. Not by its lws vhost: lws 4.1 rebinds an HTTP request
 * to the first vhost of the same port number when no vhost name matches
 * the Host header, and every listener's vhost has the same (none), so
 * lws_get_vhost() names the wrong listener once the headers are read.
 */
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include <libwebsockets.h>

#include "transport/door.h"

static const struct ogw_south_door *doors;
static size_t n_doors;

void ogw_south_doors_set(const struct ogw_south_door *d, size_t n)
{
	doors = d;
	n_doors = n;
}

/* @bound (a listening socket) takes connections to @local. */
static bool takes(const struct sockaddr_storage *bound, const struct sockaddr_storage *local)
{
	if (bound->ss_family == AF_INET && local->ss_family == AF_INET) {
		const struct sockaddr_in *b = (const void *)bound, *l = (const void *)local;
		return b->sin_port == l->sin_port && (b->sin_addr.s_addr == htonl(INADDR_ANY) ||
						      b->sin_addr.s_addr == l->sin_addr.s_addr);
	}
	if (bound->ss_family != AF_INET6)
		return false;
	const struct sockaddr_in6 *b = (const void *)bound;
	if (local->ss_family == AF_INET)  /* "[::]" takes IPv4 too */
		return IN6_IS_ADDR_UNSPECIFIED(&b->sin6_addr) &&
		       b->sin6_port == ((const struct sockaddr_in *)(const void *)local)->sin_port;
	const struct sockaddr_in6 *l = (const void *)local;
	return b->sin6_port == l->sin6_port && (IN6_IS_ADDR_UNSPECIFIED(&b->sin6_addr) ||
						!memcmp(&b->sin6_addr, &l->sin6_addr, 16));
}

const struct ogw_south_door *ogw_south_door_of(struct lws *wsi, const struct ogw_listener *main)
{
	struct sockaddr_storage local;
	socklen_t len = sizeof(local);
	if (getsockname(lws_get_socket_fd(wsi), (struct sockaddr *)&local, &len) < 0)
		return NULL;
	for (size_t i = 0; i < n_doors; i++) {
		const struct ogw_listener *l = i ? &doors[i].listen : main;
		for (size_t k = 0; k < l->n; k++)
			if (takes(&l->socks[k].addr, &local))
				return &doors[i];
	}
	return NULL;
}
