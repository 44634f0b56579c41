/* Memory the embedder attaches to a context (one mapping or a scatter
 * list), and the decoder's access to it by resource id. */
#include "context.h"

#include <stdlib.h>
#include <string.h>

#define WGV_RESOURCE_PIECES_MAX 4096
#define WGV_RESOURCES_MAX 4096

static struct wgv_resource *find_resource(struct wgv_context *ctx, uint32_t id)
{
    for (unsigned i = 0; i < ctx->resource_count; i++)
        if (ctx->resources[i].id == id)
            return &ctx->resources[i];
    return NULL;
}

int wgv_context_attach_resource(struct wgv_context *ctx, uint32_t id,
                                const struct wgv_iovec *iov, unsigned count)
{
    if (!id || !count || count > WGV_RESOURCE_PIECES_MAX || find_resource(ctx, id) ||
        ctx->resource_count >= WGV_RESOURCES_MAX)
        return -1;
    uint64_t size = 0;
    for (unsigned i = 0; i < count; i++) {
        if (!iov[i].base || iov[i].len > UINT64_MAX - size)
            return -1;
        size += iov[i].len;
    }
    struct wgv_resource *r = realloc(ctx->resources, (ctx->resource_count + 1) * sizeof(*r));
    if (!r)
        return -1;
    ctx->resources = r;
    struct wgv_iovec *copy = malloc(count * sizeof(*copy));
    if (!copy)
        return -1;
    memcpy(copy, iov, count * sizeof(*copy));
    ctx->resources[ctx->resource_count++] = (struct wgv_resource){id, count, copy, size};
    return 0;
}

void wgv_context_detach_resource(struct wgv_context *ctx, uint32_t id)
{
    struct wgv_resource *r = find_resource(ctx, id);
    if (!r)
        return;
    free(r->iov);
    *r = ctx->resources[--ctx->resource_count];
}

const void *wgv_host_ops_resource_get(void *user, uint32_t id, uint64_t offset, uint64_t size,
                                      struct wgv_arena *arena)
{
    struct wgv_context *ctx = user;
    struct wgv_resource *r = find_resource(ctx, id);
    if (!r || offset > r->size || size > r->size - offset)
        return NULL;
    /* An empty range (at the end, or of a resource of no bytes) lies in no
     * piece: any pointer into the resource will do, the decoder passes
     * none on. */
    if (!size)
        return r->iov[0].base;
    /* Find the piece holding `offset`, skipping empty ones: one exists,
     * since at least `size` bytes follow it. A range inside one piece is
     * used in place, one that spans pieces is gathered into the arena. */
    unsigned i = 0;
    while (i < r->count && offset >= r->iov[i].len) {
        offset -= r->iov[i].len;
        i++;
    }
    if (i == r->count)
        return NULL;
    if (size <= r->iov[i].len - offset)
        return (const uint8_t *)r->iov[i].base + offset;
    uint8_t *out = wgv_arena_alloc(arena, size, 16);
    if (!out)
        return NULL;
    for (uint64_t done = 0; done < size; i++, offset = 0) {
        if (i == r->count)
            return NULL;
        uint64_t n = r->iov[i].len - offset;
        if (n > size - done)
            n = size - done;
        memcpy(out + done, (const uint8_t *)r->iov[i].base + offset, n);
        done += n;
    }
    return out;
}
