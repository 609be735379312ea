/* SPDX-License-Identifier: MIT */
/*
 * The gateway's listening sockets (chargers and admin API), opened here
 * rather than by lws: an address binds exactly that address (a host name is
 * resolved once, at start, and every address it names is bound), an address
 * that cannot be bound stops the start with the reason, and each accepted
 * connection is handed to its lws vhost. lws 4.1's vhost `iface` binds `*`
 * for an IPv4 address and quietly binds nothing for a name, hence this file.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "ocppgw/log.h"
#include "ocppgw/loop.h"
#include "session/session.h"
#include "transport/transport.h"

/* How long accepting pauses when the process is out of descriptors. */
#define ACCEPT_PAUSE_MS 100

void ogw_listen_format(const struct sockaddr *sa, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN] = "?";
	int port = 0;
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		port = ntohs(s6->sin6_port);
		snprintf(buf, size, "[%s]:%d", host, port);
		return;
	}
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
	inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
	snprintf(buf, size, "%s:%d", host, ntohs(s4->sin_port));
}

bool ogw_listen_is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family != AF_INET6)
		return false;
	const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
	return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
}

static void on_acceptable(uv_poll_t *h, int status, int events);

static void start_polling(struct ogw_listener *l)
{
	for (size_t i = 0; i < l->n; i++)
		uv_poll_start(&l->socks[i].poll, UV_READABLE, on_acceptable);
}

static void resume_accept(uv_timer_t *t)
{
	start_polling(t->data);
}

static void on_acceptable(uv_poll_t *h, int status, int events)
{
	struct ogw_listen_sock *s = h->data;
	struct ogw_listener *l = s->owner;
	(void)events;
	if (status < 0)
		return;
	/* Bounded, so one busy listener cannot starve the loop. */
	for (int i = 0; i < 64; i++) {
		int fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
			    errno == ECONNABORTED)
				return;
			/* Out of descriptors: the poll is level-triggered and would
			 * spin; stop accepting for a moment instead. */
			ogw_warn(NULL, "%s listener: accept failed: %s", l->door, strerror(errno));
			for (size_t k = 0; k < l->n; k++)
				uv_poll_stop(&l->socks[k].poll);
			uv_timer_start(&l->pause, resume_accept, ACCEPT_PAUSE_MS, 0);
			return;
		}
		lws_sock_file_fd_type desc = { .sockfd = fd };
		if (!lws_adopt_descriptor_vhost(l->vh, (lws_adoption_type)l->adopt_flags, desc,
						l->protocol, NULL))
			/* lws closes the descriptor when adoption fails */
			ogw_warn(NULL, "%s listener: lws refused a connection", l->door);
	}
}

/* One socket bound to @ai: 0, or a negative errno with @err saying why. */
static int bind_one(struct ogw_listen_sock *s, const struct addrinfo *ai)
{
	int one = 1;
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			ai->ai_protocol);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* "[::]" is every address, IPv4 ones too (the one way to ask for both
	 * families); any other IPv6 address is that address alone. */
	int v6only = ai->ai_family == AF_INET6 &&
		     !IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)ai->ai_addr)->sin6_addr);
	if (ai->ai_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only)) < 0)
		goto fail;
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, SOMAXCONN) < 0)
		goto fail;
	s->addr_len = sizeof(s->addr);
	if (getsockname(fd, (struct sockaddr *)&s->addr, &s->addr_len) < 0)
		goto fail;
	s->fd = fd;
	return 0;
fail:;
	int r = -errno;
	close(fd);
	return r;
}

static bool same_addr(const struct ogw_listener *l, const struct addrinfo *ai)
{
	for (size_t i = 0; i < l->n; i++) {
		struct sockaddr_storage want;
		memcpy(&want, ai->ai_addr, ai->ai_addrlen);
		/* the bound address has its port filled in; compare hosts only */
		if (l->socks[i].addr.ss_family != ai->ai_family)
			continue;
		if (ai->ai_family == AF_INET &&
		    ((struct sockaddr_in *)&l->socks[i].addr)->sin_addr.s_addr ==
			    ((struct sockaddr_in *)&want)->sin_addr.s_addr)
			return true;
		if (ai->ai_family == AF_INET6 &&
		    !memcmp(&((struct sockaddr_in6 *)&l->socks[i].addr)->sin6_addr,
			    &((struct sockaddr_in6 *)&want)->sin6_addr, sizeof(struct in6_addr)))
			return true;
	}
	return false;
}

int ogw_listen_open(struct ogw_listener *l, const char *addr, int port, char *err,
		    size_t err_size)
{
	struct addrinfo hints, *res = NULL;
	char service[8];
	int r;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(service, sizeof(service), "%d", port);
	l->n = 0;
	r = getaddrinfo(addr, service, &hints, &res);
	if (r) {
		snprintf(err, err_size, "cannot resolve %s: %s", addr,
			 r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
		return -EADDRNOTAVAIL;
	}
	for (const struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) || same_addr(l, ai))
			continue;
		if (l->n == OGW_LISTEN_MAX_ADDRS)
			break;
		r = bind_one(&l->socks[l->n], ai);
		if (r < 0) {
			char where[INET6_ADDRSTRLEN + 16];
			ogw_listen_format(ai->ai_addr, where, sizeof(where));
			/* name the configured spelling too when it was not this */
			size_t n = strlen(addr);
			const char *host = where[0] == '[' ? where + 1 : where;
			bool same = !strncmp(host, addr, n) && strchr("]:", host[n]);
			snprintf(err, err_size, "cannot listen on %s%s%s%s: %s", where,
				 same ? "" : " (", same ? "" : addr, same ? "" : ")", strerror(-r));
			goto fail;
		}
		l->n++;
	}
	freeaddrinfo(res);
	res = NULL;
	if (!l->n) {
		snprintf(err, err_size, "%s names no IPv4 or IPv6 address", addr);
		return -EADDRNOTAVAIL;
	}
	return 0;
fail:
	freeaddrinfo(res);
	for (size_t i = 0; i < l->n; i++)
		close(l->socks[i].fd);
	l->n = 0;
	return r;
}

void ogw_listen_describe(const struct ogw_listener *l, const char *prefix, const char *suffix,
			 char *buf, size_t size)
{
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < l->n && used < size; i++) {
		char a[INET6_ADDRSTRLEN + 16];
		ogw_listen_format((const struct sockaddr *)&l->socks[i].addr, a, sizeof(a));
		int n = snprintf(buf + used, size - used, "%s%s%s%s", i ? " and " : "", prefix, a,
				 suffix);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

void ogw_listen_start(struct ogw_listener *l, struct lws_vhost *vh, const char *protocol,
		      int adopt_flags, const char *door)
{
	l->vh = vh;
	l->protocol = protocol;
	l->adopt_flags = adopt_flags;
	l->door = door;
	uv_timer_init(ogw_loop_uv(), &l->pause);
	l->pause.data = l;
	for (size_t i = 0; i < l->n; i++) {
		struct ogw_listen_sock *s = &l->socks[i];
		s->owner = l;
		uv_poll_init(ogw_loop_uv(), &s->poll, s->fd);
		s->poll.data = s;
	}
	start_polling(l);
	l->started = true;
}

static void sock_closed(uv_handle_t *h)
{
	struct ogw_listen_sock *s = h->data;
	close(s->fd);
	s->fd = -1;
}

void ogw_listen_close(struct ogw_listener *l)
{
	if (!l->started) {
		for (size_t i = 0; i < l->n; i++)
			close(l->socks[i].fd);
		l->n = 0;
		return;
	}
	for (size_t i = 0; i < l->n; i++) {
		uv_poll_stop(&l->socks[i].poll);
		uv_close((uv_handle_t *)&l->socks[i].poll, sock_closed);
	}
	uv_timer_stop(&l->pause);
	uv_close((uv_handle_t *)&l->pause, NULL);
	l->started = false;
	l->n = 0;
}
