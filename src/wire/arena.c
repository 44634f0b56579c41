/* The arena the decoder fills: a bump allocator with a quota, reset after
 * each command. */
#include "codec.h"

#include <stdlib.h>
#include <string.h>

/* Blocks are chained through their first word: growing never moves memory
 * already handed out for the command being decoded. */
struct arena_block {
    struct arena_block *older;
    size_t cap;
    _Alignas(16) uint8_t data[];
};

void wgv_arena_init(struct wgv_arena *a, size_t limit)
{
    memset(a, 0, sizeof(*a));
    a->limit = limit;
}

void *wgv_arena_alloc(struct wgv_arena *a, size_t size, size_t align)
{
    struct arena_block *b = (struct arena_block *)a->base;
    size_t start = b ? (a->used + align - 1) & ~(align - 1) : 0;
    if (size > a->limit || a->total > a->limit - size)
        return NULL;
    if (!b || start > b->cap || size > b->cap - start) {
        size_t cap = b ? b->cap * 2 : 4096;
        while (cap < size + align)
            cap *= 2;
        struct arena_block *nb = malloc(sizeof(*nb) + cap);
        if (!nb)
            return NULL;
        nb->older = b;
        nb->cap = cap;
        a->base = (uint8_t *)nb;
        b = nb;
        start = 0;
    }
    a->used = start + size;
    a->total += size;
    return b->data + start;
}

void wgv_arena_reset(struct wgv_arena *a)
{
    /* Keep the newest (largest) block for the next command. */
    struct arena_block *b = (struct arena_block *)a->base;
    if (b) {
        struct arena_block *old = b->older;
        while (old) {
            struct arena_block *next = old->older;
            free(old);
            old = next;
        }
        b->older = NULL;
    }
    a->used = 0;
    a->total = 0;
}

void wgv_arena_free(struct wgv_arena *a)
{
    wgv_arena_reset(a);
    free(a->base);
    a->base = NULL;
}
