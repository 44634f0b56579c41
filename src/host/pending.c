/* Callbacks owed to the guest: pending records, the generated thunks'
 * wgv_host_callback that turns a backend callback into a reply, and the
 * encoding of replies. */
#include "context.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "protocol.h"

void wgv_host_send_reply(struct wgv_context *ctx, unsigned kind, unsigned callback, uint64_t key,
                         const uint32_t *shapes, const void *const *args, unsigned count)
{
    if (ctx->closing || (ctx->lost && kind != WGV_REPLY_CONTEXT_LOST))
        return;
    struct wgv_writer *w = &ctx->reply;
    w->len = 0;
    w->failed = false;
    struct wgv_reply_header h = {0, (uint16_t)kind, (uint16_t)callback, key};
    wgv_writer_put(w, &h, sizeof(h));
    for (unsigned i = 0; i < count; i++)
        wgv_encode(&wgv_host_abi, &ctx->ops, shapes[i], args[i], w);
    if (w->failed || w->len > WGV_MESSAGE_MAX) {
        wgv_context_fail(ctx, "reply of kind %u does not fit in a message", kind);
        return;
    }
    h.size = (uint32_t)w->len;
    memcpy(w->data, &h, sizeof(h));
    if (!ctx->io.reply(ctx->io.user, w->data, w->len) && kind != WGV_REPLY_CONTEXT_LOST)
        wgv_context_fail(ctx, "the guest's reply ring is not draining");
}

uint64_t wgv_context_poll_max_ns(const struct wgv_context *ctx, uint64_t waited_ns)
{
    const uint64_t floor = 1000 * 1000, ceiling = 8 * 1000 * 1000;
    if (!ctx->cpu_adapter || waited_ns / 16 <= floor)
        return floor;
    return waited_ns / 16 < ceiling ? waited_ns / 16 : ceiling;
}

uint64_t wgv_context_oldest_pending_ns(const struct wgv_context *ctx)
{
    /* The list is in call order: the first that counts is the oldest. */
    for (const struct wgv_pending *p = ctx->pending.next; p != &ctx->pending; p = p->next) {
        if (!p->owed)
            continue;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t age = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec - p->since_ns;
        return age > 0 ? (uint64_t)age : 1;
    }
    return 0;
}

size_t wgv_context_pending_records(const struct wgv_context *ctx)
{
    return ctx->pending_records;
}

struct wgv_pending *wgv_host_pending_new(struct wgv_context *ctx, unsigned callback,
                                         uint64_t key, uint64_t result, bool repeat)
{
    struct wgv_pending *p = calloc(1, sizeof(*p));
    if (!p) {
        wgv_context_fail(ctx, "out of memory for a pending callback");
        return NULL;
    }
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    p->since_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    p->callback = (uint16_t)callback;
    p->key = key;
    p->result = result;
    p->repeat = repeat;
    p->next = &ctx->pending;
    p->prev = ctx->pending.prev;
    p->prev->next = p;
    ctx->pending.prev = p;
    ctx->pending_records++;
    /* Device events may never fire (a device that is never lost): only
     * callbacks that will fire count as owed. */
    p->owed = !repeat && callback != WGV_CB_DeviceLostCallback;
    if (p->owed)
        ctx->pending_count++;
    if (result) {
        /* The object's slot waits for the callback instead of the call. */
        for (unsigned i = 0; i < ctx->cmd_claims; i++) {
            struct wgv_slot *s = ctx->cmd_claim[i];
            if (s->state == WGV_SLOT_RESERVED)
                s->state = WGV_SLOT_AWAITING;
        }
    }
    return p;
}

void wgv_host_pending_free(struct wgv_context *ctx, struct wgv_pending *p)
{
    if (p->errors)
        wgv_host_pending_free(ctx, p->errors);
    p->prev->next = p->next;
    p->next->prev = p->prev;
    ctx->pending_records--;
    if (p->owed)
        ctx->pending_count--;
    free(p);
}

/* The object type a callback delivers (generated from the descriptions). */
static unsigned callback_object_type(unsigned callback)
{
    return callback < WGV_CB_COUNT ? wgv_callback_delivers[callback] : WGV_OBJ_NONE;
}

void wgv_host_callback(void *context, void *pending, unsigned callback, const void *args,
                       void *object)
{
    struct wgv_context *ctx = context;
    struct wgv_pending *p = pending;
    if (p->fence) {
        if (--p->fence->remaining == 0) {
            if (ctx->closing)
                free(p->fence);
            else
                wgv_host_fence_retire_later(ctx, p->fence);
        }
        wgv_host_pending_free(ctx, p);
        return;
    }
    if (ctx->closing) {
        if (object && callback_object_type(callback))
            wgv_host_release_object(ctx, callback_object_type(callback), object);
        if (!p->repeat) {
            if (p->buffer)
                ctx->procs->bufferRelease(p->buffer);
            wgv_host_pending_free(ctx, p);
        }
        return;
    }
    struct wgv_hcb_RequestAdapterCallback withheld;
    if (callback == WGV_CB_RequestAdapterCallback && object &&
        !wgv_host_adapter_allowed(ctx, object)) {
        ctx->procs->adapterRelease(object);
        object = NULL;
        withheld = wgv_host_adapter_unavailable(WGV_NULL_ONLY);
        args = &withheld;
    }
    unsigned type = callback_object_type(callback);
    if (type && p->result) {
        struct wgv_slot *s = wgv_objects_get(&ctx->objects, type, p->result);
        if (object && s && s->state == WGV_SLOT_AWAITING) {
            wgv_host_store(ctx, type, p->result, object);
            if (callback == WGV_CB_RequestAdapterCallback) {
                wgv_host_send_adapter_state(ctx, object, p->result);
            } else if (callback == WGV_CB_RequestDeviceCallback) {
                void *queue = ctx->procs->deviceGetQueue(object);
                wgv_host_store(ctx, WGV_OBJ_Queue, p->queue, queue);
                struct wgv_slot *q = wgv_objects_get(&ctx->objects, WGV_OBJ_Queue, p->queue);
                if (q)
                    q->device = p->result;
                wgv_host_send_device_state(ctx, object, p->result);
                if (!ctx->error_device)
                    ctx->error_device = object;
            }
        } else {
            if (object)
                wgv_host_release_object(ctx, type, object);
            if (s)
                s->state = WGV_SLOT_ERROR;
            struct wgv_slot *q = p->queue ? wgv_objects_get(&ctx->objects, WGV_OBJ_Queue, p->queue) : NULL;
            if (q)
                q->state = WGV_SLOT_ERROR;
        }
    }
    if (callback == WGV_CB_BufferMapCallback && p->buffer) {
        const struct wgv_hcb_BufferMapCallback *a = args;
        if (a->status == WGPUMapAsyncStatus_Success && p->map_size) {
            const void *src = ctx->procs->bufferGetConstMappedRange(p->buffer, (size_t)p->map_offset,
                                                                    (size_t)p->map_size);
            if (src)
                wgv_copy(ctx->copier, ctx->io.bulk + p->shm_offset, src, p->map_size);
        }
        ctx->procs->bufferRelease(p->buffer);
        p->buffer = NULL;
        if (p->answered) {
            /* The guest answered it already; an error the backend found
             * reaches the guest through the device's error callbacks. */
            wgv_host_pending_free(ctx, p);
            return;
        }
    }
    if (callback == WGV_CB_DeviceLostCallback && ctx->error_device == object)
        ctx->error_device = NULL;
    const uint32_t shape = wgv_callback_shape[callback];
    wgv_host_send_reply(ctx, WGV_REPLY_CALLBACK, callback, p->key, &shape, &args, 1);
    if (!p->repeat)
        wgv_host_pending_free(ctx, p);
}
