/* Write maps the guest answers itself (docs/protocol.md, "Answered write
 * maps"). A buffer whose only usages are MapWrite and CopySrc changes only
 * through its mappings, so once the guest has seen its whole contents it
 * knows them from then on. A write map of such a buffer that no unfinished
 * submission reads is one the host would grant at once: the guest grants
 * it without waiting for a reply and tells the host to map the buffer
 * without answering. The host still maps it before the unmap's bytes go in,
 * so the backend sees every mapping as it would natively.
 *
 * What the guest needs to know it keeps here: which mappable buffers each
 * command encoder's copies read (passed on to its command buffer), the
 * queue serial of the last submission that reads each one, and the highest
 * serial a work-done callback has vouched for. */
#include <stdlib.h>
#include <string.h>

#include "guest.h"

#define B(x) ((struct wgv_buffer *)(x))
#define Q(x) ((struct wgv_queue *)(x))

/* Buffers whose maps may be answered: mappable for writing, read only by
 * copies, small enough for the guest to keep a copy of. */
static bool answerable(const struct wgv_buffer *b)
{
    const WGPUBufferUsage other = ~(WGPUBufferUsage)(WGPUBufferUsage_MapWrite | WGPUBufferUsage_CopySrc);
    return b->size && b->size <= WGV_MAP_WRITE_SHADOW_MAX &&
           (b->usage & WGPUBufferUsage_MapWrite) && !(b->usage & other);
}

bool wgv_map_write_can_answer(struct wgv_client *c, struct wgv_buffer *b, WGPUMapMode mode,
                              uint64_t offset, uint64_t size)
{
    if (!answerable(b) || mode != WGPUMapMode_Write || !b->shadow || !b->confirmed ||
        b->untracked || b->destroyed || c->lost || b->map_state != WGPUBufferMapState_Unmapped)
        return false;
    /* Anything the backend could refuse goes to it instead. */
    if (!size || offset % 8 || size % 4 || offset > b->size || size > b->size - offset)
        return false;
    struct wgv_object *parent = b->base.parent;
    if (!parent || parent->type != WGV_OBJ_Device)
        return false;
    struct wgv_device *d = (struct wgv_device *)parent;
    if (d->lost || !d->queue)
        return false;
    return b->last_use <= Q(d->queue)->serial_done;
}

void wgv_map_write_confirmed(struct wgv_buffer *b, const uint8_t *bytes)
{
    if (!answerable(b))
        return;
    bool known = b->shadow && b->confirmed;
    b->confirmed = true;
    if (known || !bytes || b->map_offset != 0 || b->map_size != b->size)
        return;
    if (!b->shadow)
        b->shadow = malloc((size_t)b->size);
    if (b->shadow)
        memcpy(b->shadow, bytes, (size_t)b->size);
}

void wgv_map_write_unmapped(struct wgv_buffer *b, const uint8_t *bytes)
{
    if (!answerable(b) || !bytes || !(b->map_mode & WGPUMapMode_Write))
        return;
    if (!b->shadow) {
        /* Only a mapping of the whole buffer tells the guest all of it. */
        if (b->map_offset != 0 || b->map_size != b->size || !(b->shadow = malloc((size_t)b->size)))
            return;
    }
    if (b->map_offset <= b->size && b->map_size <= b->size - b->map_offset)
        memcpy(b->shadow + b->map_offset, bytes, (size_t)b->map_size);
}

void wgv_map_write_work_done(struct wgv_client *c, struct wgv_future *f)
{
    struct wgv_queue *q = Q(f->object);
    if (!q || !f->work_serial)
        return;
    pthread_mutex_lock(&c->lock);
    if (q->serial_done < f->work_serial)
        q->serial_done = f->work_serial;
    pthread_mutex_unlock(&c->lock);
}

/* Records that `u`'s commands read b (lock held). A use that cannot be
 * recorded makes the buffer's maps go to the host from then on. */
static void record_use(struct wgv_buffer_uses *u, struct wgv_buffer *b)
{
    if (!b || !answerable(b))
        return;
    for (uint32_t i = 0; i < u->len; i++)
        if (u->items[i] == b)
            return;
    if (u->len == u->cap) {
        uint32_t cap = u->cap ? u->cap * 2 : 4;
        struct wgv_buffer **items = cap > u->cap ? realloc(u->items, cap * sizeof(*items)) : NULL;
        if (!items) {
            b->untracked = true;
            return;
        }
        u->items = items;
        u->cap = cap;
    }
    wgv_object_add_ref(&b->base);
    u->items[u->len++] = b;
}

void wgv_buffer_uses_free(struct wgv_buffer_uses *u)
{
    for (uint32_t i = 0; i < u->len; i++)
        wgv_object_release(&u->items[i]->base);
    free(u->items);
    *u = (struct wgv_buffer_uses){0};
}

bool wgv_guest_hook_wgpuCommandEncoderCopyBufferToBuffer(
    struct wgv_client *c, struct wgv_ga_wgpuCommandEncoderCopyBufferToBuffer *a)
{
    (void)c;
    if (a->commandEncoder)
        record_use(&((struct wgv_command_encoder *)a->commandEncoder)->uses, B(a->source));
    return true;
}

bool wgv_guest_hook_wgpuCommandEncoderCopyBufferToTexture(
    struct wgv_client *c, struct wgv_ga_wgpuCommandEncoderCopyBufferToTexture *a)
{
    (void)c;
    if (a->commandEncoder && a->source)
        record_use(&((struct wgv_command_encoder *)a->commandEncoder)->uses, B(a->source->buffer));
    return true;
}

bool wgv_guest_hook_wgpuCommandEncoderFinish(struct wgv_client *c,
                                             struct wgv_ga_wgpuCommandEncoderFinish *a)
{
    (void)c;
    struct wgv_command_encoder *e = (struct wgv_command_encoder *)a->commandEncoder;
    struct wgv_command_buffer *cb = (struct wgv_command_buffer *)a->result;
    if (e && cb) {
        /* An encoder cannot be used after finish, valid or not. */
        cb->uses = e->uses;
        e->uses = (struct wgv_buffer_uses){0};
    }
    return true;
}

bool wgv_guest_hook_wgpuQueueSubmit(struct wgv_client *c, struct wgv_ga_wgpuQueueSubmit *a)
{
    (void)c;
    if (!a->queue)
        return true;
    /* The lock is held until the command is sent: serials follow the wire. */
    uint64_t serial = ++Q(a->queue)->serial;
    for (size_t i = 0; a->commands && i < a->commandCount; i++) {
        const struct wgv_command_buffer *cb = (const struct wgv_command_buffer *)a->commands[i];
        for (uint32_t j = 0; cb && j < cb->uses.len; j++)
            cb->uses.items[j]->last_use = serial;
    }
    return true;
}

bool wgv_guest_hook_wgpuQueueOnSubmittedWorkDone(struct wgv_client *c,
                                                 struct wgv_ga_wgpuQueueOnSubmittedWorkDone *a)
{
    struct wgv_future *f = a->queue ? wgv_future_get_locked(c, a->callbackInfo_future) : NULL;
    if (f)
        f->work_serial = Q(a->queue)->serial;
    return true;
}
