/* SPDX-License-Identifier: MIT */
/*
 * The transports' doors for the gateway (src/gateway): the listening
 * sockets, the lws server (south) and client (north) protocols, and the
 * MQTT uplink. What they deliver goes into the session (session.h).
 */
#ifndef OGW_TRANSPORT_H
#define OGW_TRANSPORT_H

#include <libwebsockets.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "session/session.h"

/* listen.c. Binds every address @addr names (a name is resolved now);
 * a negative errno with @err saying why when any of them cannot be bound. */
int ogw_listen_open(struct ogw_listener *l, const char *addr, int port, char *err,
		    size_t err_size);
/* Hands each accepted connection to @vh, adopted with @adopt_flags. */
void ogw_listen_start(struct ogw_listener *l, struct lws_vhost *vh, const char *protocol,
		      int adopt_flags, const char *door);
void ogw_listen_close(struct ogw_listener *l);
/* "A and B": each bound address between @prefix and @suffix. */
void ogw_listen_describe(const struct ogw_listener *l, const char *prefix, const char *suffix,
			 char *buf, size_t size);
void ogw_listen_format(const struct sockaddr *sa, char *buf, size_t size);
bool ogw_listen_is_loopback(const struct sockaddr *sa);

/* ws.c: the WebSocket leg transport (a charger's leg); the lws callbacks
 * call writeable() on LWS_CALLBACK_*_WRITEABLE (non-zero: close the
 * connection). Its operations, for ogw_ws_north_transport: */
extern const struct ogw_leg_transport ogw_ws_transport;
int ogw_ws_writeable(struct ogw_leg *l);
void ogw_ws_send_take(struct ogw_leg *l, char *buf, const char *text, size_t len);
bool ogw_ws_close(struct ogw_leg *l);
void ogw_ws_ping(struct ogw_leg *l);
void ogw_ws_abort(struct ogw_leg *l);
void ogw_ws_drop_queue(struct ogw_leg *l);
void ogw_ws_withdraw(struct ogw_leg *l);

/* north.c: a north leg over WebSocket, ws.c's operations plus the client
 * connect to <csms url>/<id>. */
extern const struct ogw_leg_transport ogw_ws_north_transport;
void ogw_north_connect(struct ogw_leg *l);
int ogw_north_parse_url(struct ogw_gateway *gw, const char *url);
extern const struct lws_protocols ogw_north_protocols[];

/* north.c: a client vhost trusting @ca (NULL: the system's CAs) with
 * csms.tls' floor that presents @cert with @key (both NULL: no
 * certificate). */
struct lws_vhost *ogw_north_vhost_create(struct ogw_gateway *gw, const char *name,
					const char *ca, const char *cert, const char *key);
/* The client vhost for @id's primary north leg into *@ret: its own (with
 * the primary's @ca) when csms.client_cert_dir or, with
 * csms.request_certificates, <data_dir>/certs holds <id>.pem (made once,
 * remade when the file changes); else *@ret is left as it is (the vhost
 * of the primary's configured files). A negative errno (logged) when its
 * certificate cannot be used: an unreadable file, a key others may read. */
int ogw_north_vhost_for(struct ogw_gateway *gw, const char *id, const char *ca,
			struct lws_vhost **ret);
/* Frees the list once the lws context (and its vhosts) is gone. */
void ogw_north_ids_free(struct ogw_gateway *gw);

/* north_mqtt.c: the MQTT uplink, one broker connection for every charger */
extern const struct ogw_leg_transport ogw_mqtt_transport;
int ogw_north_mqtt_start(struct ogw_gateway *gw);
void ogw_north_mqtt_stop(struct ogw_gateway *gw);

/* random.c: lws_get_random() from a pool of kernel random bytes (the
 * WebSocket client's frame masks without a read() each). Fills the pool
 * before the loop runs; 0 or -errno. */
int ogw_random_start(void);

/* south.c */
extern const struct lws_protocols ogw_south_protocols[];
/* ogw_identity_check() of a path segment lws decoded in the request on
 * @wsi, plus what lws hid from it (a decoded CR or LF cuts the path). Both
 * HTTP doors that take a charger id (charger upgrade, admin API) use it. */
const char *ogw_http_identity_check(struct lws *wsi, const char *seg, size_t len);

#endif
