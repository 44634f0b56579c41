/* Buffers in the guest: state for the getters, and mapping through bulk
 * shared memory (the host copies mapped bytes in before the map callback
 * and out again at unmap), or, for mappings too large for it, through
 * guest memory streamed in chunks (transfer.c). Some write maps the guest
 * answers itself (map-write.c). */
#include <stdlib.h>
#include <string.h>

#include "guest.h"
#include "transfer.h"

#define B(x) ((struct wgv_buffer *)(x))

bool wgv_guest_hook_wgpuDeviceCreateBuffer(struct wgv_client *c, struct wgv_ga_wgpuDeviceCreateBuffer *a)
{
    struct wgv_buffer *b = B(a->result);
    const WGPUBufferDescriptor *d = a->descriptor;
    b->map_state = WGPUBufferMapState_Unmapped;
    if (!d)
        return true;
    b->size = d->size;
    b->usage = d->usage;
    if (d->mappedAtCreation && d->size % 4 == 0) {
        pthread_mutex_lock(&c->lock);
        uint64_t off = 0;
        bool bulk = !d->size || wgv_transfer_map_bulk(c, d->size, &off);
        if (!bulk) {
            b->priv = wgv_transfer_private_alloc(d->size);
            b->priv_size = b->priv ? d->size : 0;
        }
        if (bulk || b->priv) {
            if (bulk && d->size)
                memset(c->t->bulk + off, 0, d->size);
            b->has_shm = bulk && d->size != 0;
            b->shm_offset = off;
            b->shm_size = bulk ? d->size : 0;
            b->map_state = WGPUBufferMapState_Mapped;
            b->map_mode = WGPUMapMode_Write;
            b->map_offset = 0;
            b->map_size = d->size;
        }
        pthread_mutex_unlock(&c->lock);
    }
    return true;
}

bool wgv_guest_hook_wgpuBufferMapAsync(struct wgv_client *c, struct wgv_ga_wgpuBufferMapAsync *a)
{
    struct wgv_buffer *b = B(a->buffer);
    uint64_t size = a->size;
    if (size == WGPU_WHOLE_MAP_SIZE)
        size = b->size > a->offset ? b->size - a->offset : 0;
    a->size = (size_t)size;
    pthread_mutex_lock(&c->lock);
    if (b->map_state != WGPUBufferMapState_Unmapped) {
        /* The backend refuses a second mapping with its own error; it
         * copies nothing, so no shared memory is set aside. */
        a->shm_offset = 0;
        a->size = 0;
        pthread_mutex_unlock(&c->lock);
        return true;
    }
    /* A write map the guest can answer itself (map-write.c). */
    bool answer = wgv_map_write_can_answer(c, b, a->mode, a->offset, size);
    /* A mapping the bulk area cannot hold lives in guest memory: the host
     * keeps its own mapping and the bytes are pulled in chunks once it
     * succeeds (wgv_transfer_pull), before the callback runs. */
    uint64_t off = 0;
    bool stream = size && !wgv_transfer_map_bulk(c, size, &off);
    answer = answer && !stream;
    if (answer)
        memcpy(c->t->bulk + off, b->shadow + a->offset, size);
    if (stream && !wgv_transfer_private_take(b, size)) {
        pthread_mutex_unlock(&c->lock);
        struct wgv_gcb_BufferMapCallback r = {
            WGPUMapAsyncStatus_Error,
            {"webgpu-virtio: no memory left for this mapping", WGPU_STRLEN}};
        wgv_future_complete_local(c, a->callbackInfo_future, &r);
        return false;
    }
    b->map_state = WGPUBufferMapState_Pending;
    b->map_mode = a->mode;
    b->map_offset = a->offset;
    b->map_size = size;
    b->has_shm = size != 0 && !stream;
    b->shm_offset = off;
    b->shm_size = stream ? 0 : size;
    b->map_future = a->callbackInfo_future;
    a->shm_offset = off;
    a->stream = stream;
    a->answered = answer;
    pthread_mutex_unlock(&c->lock);
    /* The application may release the buffer while the map is pending. */
    wgv_future_make_event(c, a->callbackInfo_future, false);
    if (answer) {
        struct wgv_gcb_BufferMapCallback r = {WGPUMapAsyncStatus_Success, {"", 0}};
        wgv_future_complete_local(c, a->callbackInfo_future, &r);
    }
    return true;
}

/* Ends the guest's side of a mapping (lock held). */
static void end_mapping(struct wgv_client *c, struct wgv_buffer *b)
{
    if (b->map_future)
        wgv_future_abort(c, b->map_future);
    if (b->has_shm)
        wgv_client_release_later(c, b->shm_offset, b->shm_size);
    wgv_transfer_private_free(b);
    b->has_shm = false;
    b->map_future = 0;
    b->map_state = WGPUBufferMapState_Unmapped;
}

bool wgv_guest_hook_wgpuBufferUnmap(struct wgv_client *c, struct wgv_ga_wgpuBufferUnmap *a)
{
    struct wgv_buffer *b = B(a->buffer);
    pthread_mutex_lock(&c->lock);
    if (b->map_state == WGPUBufferMapState_Mapped && (b->map_mode & WGPUMapMode_Write) && b->has_shm) {
        a->map_offset = b->map_offset;
        a->shm_offset = b->shm_offset;
        a->shm_size = b->map_size;
        wgv_map_write_unmapped(b, c->t->bulk + b->shm_offset);
    }
    /* A mapping in guest memory goes to the host's mapping first. */
    wgv_transfer_push(c, b);
    /* The command goes out before the range can be reused. */
    wgv_client_send_locked(c, WGV_OP_wgpuBufferUnmap, a);
    end_mapping(c, b);
    pthread_mutex_unlock(&c->lock);
    return false;
}

bool wgv_guest_hook_wgpuBufferDestroy(struct wgv_client *c, struct wgv_ga_wgpuBufferDestroy *a)
{
    struct wgv_buffer *b = B(a->buffer);
    pthread_mutex_lock(&c->lock);
    wgv_client_send_locked(c, WGV_OP_wgpuBufferDestroy, a);
    end_mapping(c, b);
    b->destroyed = true;
    pthread_mutex_unlock(&c->lock);
    return false;
}

/* The mapped bytes of [offset, offset+size), or NULL as the backend would
 * refuse them: not mapped, misaligned, or out of the mapped range. */
static void *mapped_range(struct wgv_buffer *b, size_t offset, size_t size, bool writable)
{
    if (b->map_state != WGPUBufferMapState_Mapped || (!b->has_shm && !b->priv))
        return NULL;
    if (writable && !(b->map_mode & WGPUMapMode_Write))
        return NULL;
    if (offset % 8)
        return NULL;
    if (size == WGPU_WHOLE_MAP_SIZE) {
        if (offset < b->map_offset || offset > b->map_offset + b->map_size)
            return NULL;
        size = (size_t)(b->map_offset + b->map_size - offset);
    }
    if (size % 4 || offset < b->map_offset || size > b->map_size ||
        offset - b->map_offset > b->map_size - size)
        return NULL;
    if (b->priv)
        return b->priv + (offset - b->map_offset);
    return b->base.client->t->bulk + b->shm_offset + (offset - b->map_offset);
}

/* mapped_range under the client lock: a map callback may be changing the
 * buffer's state on another thread. */
static void *mapped_range_locked(struct wgv_buffer *b, size_t offset, size_t size, bool writable)
{
    struct wgv_client *c = b->base.client;
    pthread_mutex_lock(&c->lock);
    void *p = mapped_range(b, offset, size, writable);
    pthread_mutex_unlock(&c->lock);
    return p;
}

WGPU_EXPORT void *wgpuBufferGetMappedRange(WGPUBuffer buffer, size_t offset, size_t size)
{
    return mapped_range_locked(B(buffer), offset, size, true);
}

WGPU_EXPORT void const *wgpuBufferGetConstMappedRange(WGPUBuffer buffer, size_t offset, size_t size)
{
    return mapped_range_locked(B(buffer), offset, size, false);
}

WGPU_EXPORT WGPUStatus wgpuBufferReadMappedRange(WGPUBuffer buffer, size_t offset, void *data,
                                                 size_t size)
{
    const void *src = mapped_range_locked(B(buffer), offset, size, false);
    if (!src || (size && !data))
        return WGPUStatus_Error;
    memcpy(data, src, size);
    return WGPUStatus_Success;
}

WGPU_EXPORT WGPUStatus wgpuBufferWriteMappedRange(WGPUBuffer buffer, size_t offset,
                                                  void const *data, size_t size)
{
    void *dst = mapped_range_locked(B(buffer), offset, size, true);
    if (!dst || (size && !data))
        return WGPUStatus_Error;
    memcpy(dst, data, size);
    return WGPUStatus_Success;
}

WGPU_EXPORT WGPUBufferMapState wgpuBufferGetMapState(WGPUBuffer buffer)
{
    struct wgv_client *c = B(buffer)->base.client;
    pthread_mutex_lock(&c->lock);
    WGPUBufferMapState s = B(buffer)->map_state;
    pthread_mutex_unlock(&c->lock);
    return s;
}

WGPU_EXPORT uint64_t wgpuBufferGetSize(WGPUBuffer buffer)
{
    return B(buffer)->size;
}

WGPU_EXPORT WGPUBufferUsage wgpuBufferGetUsage(WGPUBuffer buffer)
{
    return B(buffer)->usage;
}
