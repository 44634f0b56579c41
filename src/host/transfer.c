/* Transfers larger than the bulk area, host side (docs/protocol.md, "Large
 * transfers"): the commands that copy chunks between the bulk area and a
 * buffer's mapping, and the staging of one wgpuQueueWriteTexture's bytes.
 * Every range a guest names is checked against the bulk area here and
 * against the buffer's mapping by the backend; a range that does not fit
 * the bulk area, or staged chunks out of order, end the context. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "context.h"
#include "protocol.h"

/* The live backend buffer a raw handle names; NULL for an error buffer (the
 * guest may map one at creation); ends the context for any other handle. */
static bool mapped_buffer(struct wgv_context *ctx, const char *what, uint64_t handle,
                          void **buffer)
{
    struct wgv_slot *s = wgv_objects_get(&ctx->objects, WGV_OBJ_Buffer, handle);
    if (!s || (s->state != WGV_SLOT_LIVE && s->state != WGV_SLOT_ERROR)) {
        wgv_context_fail(ctx, "%s: buffer %u (generation %u) is not a live buffer", what,
                         wgv_handle_id(handle), wgv_handle_gen(handle));
        return false;
    }
    *buffer = s->state == WGV_SLOT_LIVE ? s->handle : NULL;
    return true;
}

/* The bulk range of a chunk; ends the context when it does not fit. */
static bool chunk_range(struct wgv_context *ctx, const char *what, uint64_t shm_offset,
                        uint64_t size, uint64_t offset)
{
    if (!wgv_host_bulk_range_ok(ctx, shm_offset, size) || size > SIZE_MAX ||
        offset > SIZE_MAX || size > SIZE_MAX - offset) {
        wgv_context_fail(ctx, "%s: shared-memory range %llu+%llu (buffer offset %llu) is out of "
                         "bounds", what, (unsigned long long)shm_offset,
                         (unsigned long long)size, (unsigned long long)offset);
        return false;
    }
    return true;
}

void wgv_host_exec_wgvBufferReadMapped(struct wgv_context *ctx, struct wgv_ha_wgvBufferReadMapped *a)
{
    void *buffer;
    if (!mapped_buffer(ctx, "readMapped", a->buffer, &buffer) ||
        !chunk_range(ctx, "readMapped", a->shm_offset, a->size, a->offset))
        return;
    /* The backend checks the range against its mapping: mapped, inside it,
     * aligned. A mapping that ended (the guest unmapped meanwhile, the
     * device was lost) is answered with an error. */
    const void *src = buffer ? ctx->procs->bufferGetConstMappedRange(buffer, (size_t)a->offset,
                                                                     (size_t)a->size)
                             : NULL;
    struct wgv_hcb_BufferMapCallback r = {WGPUMapAsyncStatus_Error, {"", 0}};
    if (src) {
        wgv_copy(ctx->copier, ctx->io.bulk + a->shm_offset, src, (size_t)a->size);
        r.status = WGPUMapAsyncStatus_Success;
    }
    const uint32_t shape = wgv_callback_shape[WGV_CB_BufferMapCallback];
    const void *args = &r;
    wgv_host_send_reply(ctx, WGV_REPLY_CALLBACK, WGV_CB_BufferMapCallback, a->future, &shape,
                        &args, 1);
}

void wgv_host_exec_wgvBufferWriteMapped(struct wgv_context *ctx,
                                        struct wgv_ha_wgvBufferWriteMapped *a)
{
    void *buffer;
    if (!mapped_buffer(ctx, "writeMapped", a->buffer, &buffer) ||
        !chunk_range(ctx, "writeMapped", a->shm_offset, a->size, a->offset))
        return;
    /* NULL unless that range is mapped for writing: the bytes then have
     * nowhere to go, as at an unmap. */
    void *dst = buffer ? ctx->procs->bufferGetMappedRange(buffer, (size_t)a->offset,
                                                          (size_t)a->size)
                       : NULL;
    if (dst)
        wgv_copy(ctx->copier, dst, ctx->io.bulk + a->shm_offset, (size_t)a->size);
}

void wgv_host_staging_free(struct wgv_context *ctx)
{
    struct wgv_staging *st = &ctx->staging;
    if (st->data) {
        free(st->data);
        ctx->memory_used -= st->total;
    }
    *st = (struct wgv_staging){0};
}

void wgv_host_exec_wgvStageBytes(struct wgv_context *ctx, struct wgv_ha_wgvStageBytes *a)
{
    struct wgv_staging *st = &ctx->staging;
    if (!wgv_host_bulk_range_ok(ctx, a->shm_offset, a->size) || !a->size) {
        wgv_context_fail(ctx, "stageBytes: shared-memory range %llu+%llu is out of bounds or empty",
                         (unsigned long long)a->shm_offset, (unsigned long long)a->size);
        return;
    }
    if (a->offset == 0) {
        /* A new staging; one left unfinished before it is dropped. */
        wgv_host_staging_free(ctx);
        if (!a->total || a->total > SIZE_MAX) {
            wgv_context_fail(ctx, "stageBytes: a total of %llu bytes is invalid",
                             (unsigned long long)a->total);
            return;
        }
        st->active = true;
        st->total = a->total;
        /* Charged to the memory quota like a buffer while it waits. Past
         * the quota the chunks are dropped and the staged command reports
         * out-of-memory on its device. */
        const struct wgv_policy *pol = &ctx->policy;
        if (a->total <= pol->max_memory && ctx->memory_used <= pol->max_memory - a->total &&
            (st->data = malloc((size_t)a->total)))
            ctx->memory_used += a->total;
        st->refused = !st->data;
    }
    if (!st->active || a->total != st->total || a->offset != st->filled ||
        a->size > st->total - st->filled) {
        wgv_context_fail(ctx, "stageBytes: chunk %llu+%llu of %llu does not continue the staged "
                         "bytes (%llu of %llu)", (unsigned long long)a->offset,
                         (unsigned long long)a->size, (unsigned long long)a->total,
                         (unsigned long long)st->filled, (unsigned long long)st->total);
        return;
    }
    if (st->data)
        memcpy(st->data + st->filled, ctx->io.bulk + a->shm_offset, (size_t)a->size);
    st->filled += a->size;
}

void wgv_host_exec_wgpuQueueWriteTexture(struct wgv_context *ctx,
                                         struct wgv_ha_wgpuQueueWriteTexture *a)
{
    if (!a->staged) {
        ctx->procs->queueWriteTexture(a->queue, a->destination, a->data, a->dataSize,
                                      a->dataLayout, a->writeSize);
        return;
    }
    struct wgv_staging *st = &ctx->staging;
    if (a->staged != 1 || a->dataSize || !st->active || st->filled != st->total) {
        wgv_context_fail(ctx, "writeTexture: staged flag %u with %zu bytes of its own, but %llu "
                         "of %llu bytes staged", a->staged, (size_t)a->dataSize,
                         (unsigned long long)st->filled, (unsigned long long)st->total);
        return;
    }
    if (st->data)
        ctx->procs->queueWriteTexture(a->queue, a->destination, st->data, (size_t)st->total,
                                      a->dataLayout, a->writeSize);
    else {
        char msg[192];
        snprintf(msg, sizeof(msg), "writeTexture of %llu bytes: this context's memory limit is "
                 "%llu bytes (%llu in use)", (unsigned long long)st->total,
                 (unsigned long long)ctx->policy.max_memory, (unsigned long long)ctx->memory_used);
        wgv_host_report_error(ctx, WGPUErrorType_OutOfMemory, msg);
    }
    wgv_host_staging_free(ctx);
}
