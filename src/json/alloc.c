/* SPDX-License-Identifier: MIT */
/*
 * jansson's memory (issue 19). A frame decoded is a tree of small
 * allocations (an object, its hash buckets, a pair per key, a string and
 * its copy per value) freed a moment later; on a heap that also holds
 * thousands of chargers' sessions, glibc's malloc spends more and more
 * on them as the fleet grows (free chunks consolidated and sorted:
 * `bench/run.sh --profile` put the malloc family at 8 % of the gateway's
 * CPU at 1,000 chargers and 16 % at 5,000 and 9,900).
 *
 * So, in the gateway, jansson allocates its small blocks (up to 256
 * bytes) from size classes of 16 bytes: each class a free list, filled
 * from 64 KiB slabs of one class carved from an address range reserved
 * once. A block's class is its slab's, found from its address: no header,
 * nothing searched, no lock (each thread its own free lists and slabs; a
 * block freed on another thread joins that thread's list). Larger blocks
 * go to malloc. The memory is kept for reuse, never returned: what
 * jansson holds at its peak stays resident (a few MiB at 10,000 chargers).
 * Under AddressSanitizer the pool stays off, so use-after-free and leaks
 * of jansson values are still caught there.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <jansson.h>

#include "ocppgw/json.h"

#define GRAIN 16                          /* malloc's alignment */
#define CLASSES 16                        /* 16, 32, .. 256 bytes */
#define SLAB_SHIFT 16                     /* a slab: 64 KiB */
#define SLAB_SIZE ((size_t)1 << SLAB_SHIFT)
#define REGION_SHIFT 30                   /* 1 GiB of address space */
#define REGION_SIZE ((size_t)1 << REGION_SHIFT)

#if defined(__SANITIZE_ADDRESS__)
#define POOL_OFF 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define POOL_OFF 1
#endif
#endif

static char *region;                      /* NULL: the pool is off */
static atomic_size_t region_used;         /* bytes carved into slabs */
/* each slab's class, 1..CLASSES */
static unsigned char slab_class[REGION_SIZE >> SLAB_SHIFT];

struct block {
	struct block *next;
};

struct cache {
	struct block *free[CLASSES + 1];
	char *next[CLASSES + 1];              /* the class's slab: carved up to here */
	char *end[CLASSES + 1];
};
static _Thread_local struct cache cache;

static bool in_pool(const void *p)
{
	return region && (const char *)p >= region && (const char *)p < region + REGION_SIZE;
}

/* A new slab for class @c, or false: the range is used up (malloc then). */
static bool slab_new(struct cache *k, unsigned int c)
{
	size_t off = atomic_fetch_add(&region_used, SLAB_SIZE);
	if (off > REGION_SIZE - SLAB_SIZE)
		return false;
	/* reserved without access: a slab costs memory once it is used */
	if (mprotect(region + off, SLAB_SIZE, PROT_READ | PROT_WRITE) != 0)
		return false;
	slab_class[off >> SLAB_SHIFT] = (unsigned char)c;
	k->next[c] = region + off;
	k->end[c] = region + off + SLAB_SIZE;
	return true;
}

static void *pool_malloc(size_t n)
{
	unsigned int c = n ? (unsigned int)((n + GRAIN - 1) / GRAIN) : 1;
	if (n > CLASSES * GRAIN)
		return malloc(n);
	struct cache *k = &cache;
	struct block *b = k->free[c];
	if (b) {
		k->free[c] = b->next;
		return b;
	}
	if (k->next[c] == k->end[c] && !slab_new(k, c))
		return malloc(n);
	void *p = k->next[c];
	k->next[c] += (size_t)c * GRAIN;
	/* a slab's size is not a multiple of every class: the tail is left */
	if ((size_t)(k->end[c] - k->next[c]) < (size_t)c * GRAIN)
		k->next[c] = k->end[c];
	return p;
}

static void pool_free(void *p)
{
	if (!in_pool(p)) {
		free(p);
		return;
	}
	unsigned int c = slab_class[((const char *)p - region) >> SLAB_SHIFT];
	struct block *b = p;
	b->next = cache.free[c];
	cache.free[c] = b;
}

bool ogw_json_pool_start(void)
{
#ifdef POOL_OFF
	(void)pool_malloc;
	return false;
#else
	if (region)
		return true;
	void *r = mmap(NULL, REGION_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		       -1, 0);
	if (r == MAP_FAILED)
		return false;
	region = r;
	json_set_alloc_funcs(pool_malloc, pool_free);
	return true;
#endif
}

bool ogw_json_pool_owns(const void *p)
{
	return in_pool(p);
}

char *ogw_json_text(const json_t *v, size_t flags)
{
	char *text = json_dumps(v, flags);
	if (!text || !in_pool(text))
		return text;
	/* jansson's own block: the caller frees with free() */
	size_t n = strlen(text) + 1;
	char *copy = malloc(n);
	if (copy)
		memcpy(copy, text, n);
	pool_free(text);
	return copy;
}
