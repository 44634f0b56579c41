/* Hand-written buffer commands: createBuffer (memory quota), mapAsync and
 * unmap (the mapping's bytes through the bulk area). */
#include "context.h"

#include <string.h>
#include <time.h>

void wgv_host_exec_wgpuBufferMapAsync(struct wgv_context *ctx, struct wgv_ha_wgpuBufferMapAsync *a)
{
    /* stream: the guest reads the mapping in chunks (wgvBufferReadMapped)
     * and names no bulk range here. */
    if (a->stream > 1 || a->answered > 1 || (a->answered && a->stream)) {
        wgv_context_fail(ctx, "mapAsync: flags stream %u, answered %u: each is 0 or 1, not both 1",
                         a->stream, a->answered);
        return;
    }
    if (!a->stream && !wgv_host_ops_bulk_get(ctx, a->shm_offset, a->size)) {
        wgv_context_fail(ctx, "mapAsync: shared-memory range %llu+%llu is out of bounds",
                         (unsigned long long)a->shm_offset, (unsigned long long)a->size);
        return;
    }
    struct wgv_pending *p = wgv_host_pending_new(ctx, WGV_CB_BufferMapCallback,
                                                 a->callbackInfo_future, 0, false);
    if (!p)
        return;
    p->buffer = a->buffer;
    p->map_offset = a->offset;
    /* what the callback copies: nothing for a map the guest answered, whose
     * bytes the guest has put there itself */
    p->map_size = a->stream || a->answered ? 0 : a->size;
    p->shm_offset = a->shm_offset;
    p->answered = a->answered;
    ctx->procs->bufferAddRef(a->buffer);
    WGPUBufferMapCallbackInfo ci = WGPU_BUFFER_MAP_CALLBACK_INFO_INIT;
    ci.mode = WGPUCallbackMode_AllowProcessEvents;
    ci.callback = wgv_hcb_BufferMapCallback_thunk;
    ci.userdata1 = ctx;
    ci.userdata2 = p;
    ctx->procs->bufferMapAsync(a->buffer, a->mode, a->offset, a->size, ci);
}

/* The map of `buffer` the guest answered itself, if the backend has not
 * resolved it yet. */
static struct wgv_pending *answered_map(struct wgv_context *ctx, void *buffer)
{
    for (struct wgv_pending *p = ctx->pending.next; p != &ctx->pending; p = p->next)
        if (p->answered && p->buffer == buffer)
            return p;
    return NULL;
}

/* The bytes of a map the guest answered go into the backend's mapping, so
 * that map must be resolved first. The guest answers only maps of buffers
 * no unfinished submission reads, which the backend resolves at its next
 * event processing; a guest that answered early waits here, in its own
 * context, for the work it submitted. */
static void settle_answered_map(struct wgv_context *ctx, void *buffer)
{
    unsigned rounds = 0;
    while (!ctx->lost && answered_map(ctx, buffer)) {
        ctx->procs->instanceProcessEvents(ctx->instance);
        if (answered_map(ctx, buffer) && ++rounds > 1) {
            struct timespec ts = {0, rounds < 64 ? 10 * 1000 : 200 * 1000};
            nanosleep(&ts, NULL);
        }
    }
}

void wgv_host_exec_wgpuBufferUnmap(struct wgv_context *ctx, struct wgv_ha_wgpuBufferUnmap *a)
{
    settle_answered_map(ctx, a->buffer);
    if (a->shm_size) {
        const void *src = wgv_host_ops_bulk_get(ctx, a->shm_offset, a->shm_size);
        if (!src || a->shm_size > SIZE_MAX || a->map_offset > SIZE_MAX) {
            wgv_context_fail(ctx, "unmap: shared-memory range %llu+%llu is out of bounds",
                             (unsigned long long)a->shm_offset, (unsigned long long)a->shm_size);
            return;
        }
        /* The backend says whether that range is mapped for writing. */
        void *dst = ctx->procs->bufferGetMappedRange(a->buffer, (size_t)a->map_offset,
                                                     (size_t)a->shm_size);
        if (dst)
            wgv_copy(ctx->copier, dst, src, a->shm_size);
    }
    ctx->procs->bufferUnmap(a->buffer);
}

void wgv_host_exec_wgpuDeviceCreateBuffer(struct wgv_context *ctx,
                                          struct wgv_ha_wgpuDeviceCreateBuffer *a)
{
    uint64_t bytes = a->descriptor ? a->descriptor->size : 0;
    /* A buffer mapped at creation gets host memory for its mapping even
     * when it is an error buffer, so only an unmapped one may be left to
     * the backend's own limit check. */
    if (bytes > ctx->policy.max_memory - ctx->memory_used && !a->descriptor->mappedAtCreation &&
        wgv_host_beyond_device_limits(ctx, a->device, bytes, NULL))
        bytes = 0; /* the backend refuses it and allocates nothing */
    if (!wgv_host_charge(ctx, bytes, "createBuffer"))
        return;
    wgv_host_store_charged(ctx, WGV_OBJ_Buffer, a->result,
                           ctx->procs->deviceCreateBuffer(a->device, a->descriptor), bytes);
}
