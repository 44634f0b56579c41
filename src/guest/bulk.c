/* A first-fit allocator over the bulk shared memory. Ranges are few and
 * short-lived (staging of large writes, mapped buffers), so a sorted free
 * list is enough. */
#include <stdlib.h>

#include "guest.h"

/* Ranges are handed out in multiples of this (and so aligned to it). */
#define WGV_BULK_ALIGN 256u

void wgv_bulk_init(struct wgv_bulk *b, uint64_t size)
{
    b->size = size;
    b->free_list = NULL;
    b->staged = NULL;
    b->staged_len = b->staged_cap = 0;
    if (size) {
        b->free_list = malloc(sizeof(*b->free_list));
        if (b->free_list)
            *b->free_list = (struct wgv_bulk_block){0, size, NULL};
    }
}

void wgv_bulk_fini(struct wgv_bulk *b)
{
    while (b->free_list) {
        struct wgv_bulk_block *n = b->free_list->next;
        free(b->free_list);
        b->free_list = n;
    }
    free(b->staged);
    b->staged = NULL;
}

bool wgv_bulk_alloc(struct wgv_bulk *b, uint64_t size, uint64_t *offset)
{
    if (!size || size > b->size)
        return false;
    size = (size + WGV_BULK_ALIGN - 1) & ~(uint64_t)(WGV_BULK_ALIGN - 1);
    for (struct wgv_bulk_block **l = &b->free_list; *l; l = &(*l)->next) {
        struct wgv_bulk_block *blk = *l;
        if (blk->size < size)
            continue;
        *offset = blk->offset;
        blk->offset += size;
        blk->size -= size;
        if (!blk->size) {
            *l = blk->next;
            free(blk);
        }
        return true;
    }
    return false;
}

void wgv_bulk_release(struct wgv_bulk *b, uint64_t offset, uint64_t size)
{
    if (!size)
        return;
    size = (size + WGV_BULK_ALIGN - 1) & ~(uint64_t)(WGV_BULK_ALIGN - 1);
    struct wgv_bulk_block **l = &b->free_list;
    while (*l && (*l)->offset < offset)
        l = &(*l)->next;
    struct wgv_bulk_block *next = *l;
    /* Merge with the previous block if it ends here. */
    struct wgv_bulk_block *prev = NULL;
    for (struct wgv_bulk_block *p = b->free_list; p && p != next; p = p->next)
        prev = p;
    if (prev && prev->offset + prev->size == offset) {
        prev->size += size;
        if (next && prev->offset + prev->size == next->offset) {
            prev->size += next->size;
            prev->next = next->next;
            free(next);
        }
        return;
    }
    if (next && offset + size == next->offset) {
        next->offset = offset;
        next->size += size;
        return;
    }
    struct wgv_bulk_block *blk = malloc(sizeof(*blk));
    if (!blk)
        return; /* the range is lost to this client: harmless */
    *blk = (struct wgv_bulk_block){offset, size, next};
    *l = blk;
}
