// SPDX-License-Identifier: MIT
/*
 * libwebsockets' random bytes, from the kernel, a page at a time.
 *
 * lws 4.1 masks every frame a WebSocket client sends (RFC 6455, 5.3) with
 * four bytes from lws_get_random(), which is one read() of /dev/urandom:
 * a system call for each frame the gateway relays to a CSMS, one in seven
 * of all it made per relayed call (`bench/run.sh --syscalls`, see
 * docs/PERFORMANCE.md). This definition takes the library's place (lws
 * calls it through its PLT, so the executable's copy is the one bound) and
 * hands out bytes from a 4 KiB pool filled by getrandom(2): the same
 * kernel generator, one call per 1,024 frames. A byte is wiped from the
 * pool once handed out.
 *
 * Only the loop thread runs lws, so the pool has no lock. A child the
 * gateway forks execs at once (the FTP server), so no copy of the pool
 * ever hands out the same bytes twice.
 */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "transport/transport.h"

static unsigned char pool[4096];
static size_t pool_left;      /* the unused bytes are the pool's last ones */

/* /dev/urandom, what lws read: getrandom() without GRND_NONBLOCK would wait
 * for the kernel's generator to be seeded, which the loop must not do. */
static int fill_urandom(unsigned char *p, size_t len)
{
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (len) {
		ssize_t n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int r = n < 0 ? -errno : -EIO;
			close(fd);
			return r;
		}
		p += n;
		len -= (size_t)n;
	}
	close(fd);
	return 0;
}

static int fill(unsigned char *p, size_t len)
{
	while (len) {
		ssize_t n = getrandom(p, len, GRND_NONBLOCK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fill_urandom(p, len);  /* EAGAIN: early boot; ENOSYS */
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int ogw_random_start(void)
{
	int r = fill(pool, sizeof(pool));
	if (r == 0)
		pool_left = sizeof(pool);
	return r;
}

size_t lws_get_random(struct lws_context *context, void *buf, size_t len)
{
	unsigned char *out = buf;
	size_t done = 0;

	(void)context;
	if (len > sizeof(pool) / 4)
		return fill(out, len) == 0 ? len : 0;
	while (done < len) {
		if (!pool_left) {
			if (fill(pool, sizeof(pool)) < 0)
				break;
			pool_left = sizeof(pool);
		}
		size_t n = len - done < pool_left ? len - done : pool_left;
		unsigned char *from = pool + sizeof(pool) - pool_left;
		memcpy(out + done, from, n);
		explicit_bzero(from, n);
		pool_left -= n;
		done += n;
	}
	return done;
}
