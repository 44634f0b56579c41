/* Transfers of any size through the bounded bulk area (docs/protocol.md,
 * "Large transfers"):
 *
 *  - wgpuQueueWriteBuffer larger than a chunk becomes several writes at
 *    offset + k, each staged in the bulk area (waiting for the host to
 *    consume earlier chunks when the area is full);
 *  - wgpuQueueWriteTexture larger than a chunk is staged on the host
 *    (wgvStageBytes, chunk by chunk) and then written by one command;
 *  - a mapping larger than a zero-copy range allows lives in guest memory:
 *    a successful map pulls the host's mapped bytes chunk by chunk
 *    (wgvBufferReadMapped, answered in order) before the map's callback
 *    runs, and the unmap of a writable one pushes them back
 *    (wgvBufferWriteMapped) before the unmap. */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "transfer.h"

/* Pull requests in flight at once. */
#define PULL_WINDOW 4
/* Chunks of one upload the host may not have consumed yet. */
#define UPLOAD_WINDOW 4
/* A piece sent inline when the bulk area has no room at all: well below
 * one message. */
#define INLINE_PIECE (256ull << 10)

static uint64_t round_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}

uint64_t wgv_transfer_chunk(const struct wgv_client *c)
{
    uint64_t chunk = (c->t->bulk_size / 8) & ~255ull;
    if (chunk > WGV_TRANSFER_CHUNK_MAX)
        chunk = WGV_TRANSFER_CHUNK_MAX;
    return chunk < 256 ? 256 : chunk;
}

/* Bulk bytes held by something other than staging the host is about to
 * be done with: zero-copy mappings, pulls in flight. */
static uint64_t bulk_held(const struct wgv_bulk *b)
{
    uint64_t idle = 0;
    for (const struct wgv_bulk_block *blk = b->free_list; blk; blk = blk->next)
        idle += blk->size;
    for (size_t i = 0; i < b->staged_len; i++)
        idle += round_up(b->staged[i].size, 256);
    return idle >= b->size ? 0 : b->size - idle;
}

bool wgv_transfer_map_bulk(struct wgv_client *c, uint64_t size, uint64_t *offset)
{
    uint64_t area = c->bulk.size;
    if (!c->t->bulk || bulk_held(&c->bulk) + round_up(size, 256) > area / 2)
        return false;
    return wgv_client_bulk_alloc(c, size, offset);
}

uint8_t *wgv_transfer_private_alloc(uint64_t size)
{
    if (!size || size > SIZE_MAX)
        return NULL;
    /* Anonymous memory is zero until written and costs nothing until then. */
    void *p = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

bool wgv_transfer_private_take(struct wgv_buffer *b, uint64_t size)
{
    if (b->spare && b->spare_size >= size) {
        b->priv = b->spare;
        b->priv_size = b->spare_size;
        b->spare = NULL;
        return true;
    }
    b->priv = wgv_transfer_private_alloc(size);
    b->priv_size = b->priv ? size : 0;
    return b->priv != NULL;
}

void wgv_transfer_private_free(struct wgv_buffer *b)
{
    if (!b->priv)
        return;
    if (b->spare)
        munmap(b->spare, (size_t)b->spare_size);
    b->spare = b->priv;
    b->spare_size = b->priv_size;
    b->priv = NULL;
}

void wgv_transfer_private_drop(struct wgv_buffer *b)
{
    wgv_transfer_private_free(b);
    if (b->spare)
        munmap(b->spare, (size_t)b->spare_size);
    b->spare = NULL;
}

/* A bulk range for the next chunk: `*size` bytes, or fewer (halving down to
 * WGV_TRANSFER_CHUNK_MIN, keeping a multiple of 4) when the area is
 * crowded. Waits for the host to consume staged chunks first (lock held). */
static bool chunk_alloc(struct wgv_client *c, uint64_t *size, uint64_t *offset)
{
    if (!c->t->bulk)
        return false;
    for (uint64_t want = *size;; want = (want / 2) & ~3ull) {
        if (wgv_client_bulk_alloc(c, want, offset)) {
            *size = want;
            return true;
        }
        if (want <= WGV_TRANSFER_CHUNK_MIN)
            return false;
    }
}

/* ------------------------------------------------------------ uploads */

/* Where the command of each of an upload's last chunks ends in the command
 * stream. A new chunk first waits for the host to be past the command of
 * the chunk UPLOAD_WINDOW places back: its range is then taken back and
 * reused, so that an upload cycles through a few warm bulk pages instead of
 * touching the whole area (fresh pages cost both sides a fault). */
struct window {
    uint64_t sent[UPLOAD_WINDOW];
    unsigned n;
};

static void window_wait(struct wgv_client *c, struct window *w)
{
    if (w->n >= UPLOAD_WINDOW)
        wgv_client_wait_consumed(c, w->sent[w->n % UPLOAD_WINDOW]);
}

static void window_sent(struct wgv_client *c, struct window *w)
{
    w->sent[w->n++ % UPLOAD_WINDOW] = c->t->produced(c->t);
}

/* The size of the next piece of an upload: what the bulk area can take
 * now, or an inline piece when it cannot (lock held). */
static uint64_t upload_piece(struct wgv_client *c, uint64_t want)
{
    uint64_t off, got = want;
    if (chunk_alloc(c, &got, &off)) {
        /* The encoder takes the same range again when it stages the piece. */
        wgv_bulk_release(&c->bulk, off, got);
        return got;
    }
    return want < INLINE_PIECE ? want : INLINE_PIECE;
}

/* Whether the backend would take this write as a whole, as far as the
 * guest knows the buffer (lock held). */
static bool write_buffer_valid(const struct wgv_ga_wgpuQueueWriteBuffer *a)
{
    const struct wgv_buffer *b = (const struct wgv_buffer *)a->buffer;
    return a->bufferOffset % 4 == 0 && a->size % 4 == 0 && (b->usage & WGPUBufferUsage_CopyDst) &&
           b->map_state == WGPUBufferMapState_Unmapped && !b->destroyed &&
           a->bufferOffset <= b->size && a->size <= b->size - a->bufferOffset;
}

bool wgv_guest_hook_wgpuQueueWriteBuffer(struct wgv_client *c, struct wgv_ga_wgpuQueueWriteBuffer *a)
{
    uint64_t chunk = wgv_transfer_chunk(c);
    if (a->size <= chunk || !a->data || !a->buffer)
        return true;
    pthread_mutex_lock(&c->lock);
    struct wgv_ga_wgpuQueueWriteBuffer piece = *a;
    const uint8_t *data = a->data;
    if (!write_buffer_valid(a)) {
        /* Pieces of a write the backend refuses could succeed one by one.
         * Its last piece alone keeps every reason for refusing it (offset
         * and size alignment, the end past the buffer, usage, state): one
         * error, nothing written, as natively. */
        uint64_t tail = a->size % chunk ? a->size % chunk : chunk;
        piece.bufferOffset = a->bufferOffset + (a->size - tail);
        piece.data = data + (a->size - tail);
        piece.size = (size_t)tail;
        wgv_client_send_locked(c, WGV_OP_wgpuQueueWriteBuffer, &piece);
        pthread_mutex_unlock(&c->lock);
        return false;
    }
    struct window win = {{0}, 0};
    for (uint64_t k = 0; k < a->size && !c->lost;) {
        window_wait(c, &win);
        uint64_t n = upload_piece(c, a->size - k < chunk ? a->size - k : chunk);
        piece.bufferOffset = a->bufferOffset + k;
        piece.data = data + k;
        piece.size = (size_t)n;
        wgv_client_send_locked(c, WGV_OP_wgpuQueueWriteBuffer, &piece);
        window_sent(c, &win);
        k += n;
    }
    pthread_mutex_unlock(&c->lock);
    return false;
}

/* Stages `size` bytes on the host in chunks (wgvStageBytes); false if the
 * bulk area has no room at all (lock held). */
static bool stage_on_host(struct wgv_client *c, const uint8_t *data, uint64_t size)
{
    uint64_t chunk = wgv_transfer_chunk(c);
    struct window win = {{0}, 0};
    for (uint64_t k = 0; k < size && !c->lost;) {
        uint64_t n = size - k < chunk ? size - k : chunk, off;
        window_wait(c, &win);
        if (!chunk_alloc(c, &n, &off))
            return false;
        wgv_copy(c->copier, c->t->bulk + off, data + k, (size_t)n);
        struct wgv_ga_wgvStageBytes s = {size, k, n, off};
        wgv_client_send_locked(c, WGV_OP_wgvStageBytes, &s);
        wgv_client_release_later(c, off, n);
        window_sent(c, &win);
        k += n;
    }
    return true;
}

bool wgv_guest_hook_wgpuQueueWriteTexture(struct wgv_client *c,
                                          struct wgv_ga_wgpuQueueWriteTexture *a)
{
    if (a->dataSize <= wgv_transfer_chunk(c) || !a->data || !a->dataLayout)
        return true;
    pthread_mutex_lock(&c->lock);
    const uint8_t *data = a->data;
    uint64_t size = a->dataSize;
    WGPUTexelCopyBufferLayout layout = *a->dataLayout;
    /* The bytes before the layout's offset are never read: they stay here
     * (writeTexture puts no alignment rule on the offset). */
    if (layout.offset <= size) {
        data += layout.offset;
        size -= layout.offset;
        layout.offset = 0;
    }
    struct wgv_ga_wgpuQueueWriteTexture w = *a;
    w.dataLayout = &layout;
    w.data = data;
    w.dataSize = (size_t)size;
    if (size > wgv_transfer_chunk(c) && stage_on_host(c, data, size)) {
        w.data = NULL;
        w.dataSize = 0;
        w.staged = 1;
    }
    wgv_client_send_locked(c, WGV_OP_wgpuQueueWriteTexture, &w);
    pthread_mutex_unlock(&c->lock);
    return false;
}

/* ------------------------------------------------------------ mappings */

struct pull_slot {
    uint64_t future, offset, size, shm;
    int status;
    bool done;
};

static void pull_answered(WGPUMapAsyncStatus status, WGPUStringView message, void *user1,
                          void *user2)
{
    (void)message, (void)user2;
    struct pull_slot *s = user1;
    s->status = (int)status;
    s->done = true;
}

/* Asks the host for the next chunk of the mapping (lock held); false when
 * no bulk range is free now. */
static bool pull_request(struct wgv_client *c, uint64_t handle, struct pull_slot *s,
                         uint64_t offset, uint64_t size)
{
    uint64_t shm;
    if (!chunk_alloc(c, &size, &shm))
        return false;
    *s = (struct pull_slot){0, offset, size, shm, WGPUMapAsyncStatus_Error, false};
    /* Answered as a map callback keyed by this future; it fires only in
     * the wait below. */
    s->future = wgv_future_create(c, WGV_CB_BufferMapCallback, WGPUCallbackMode_WaitAnyOnly,
                                  (WGPUProc)pull_answered, s, NULL, NULL).id;
    if (!s->future) {
        wgv_bulk_release(&c->bulk, shm, size);
        return false;
    }
    struct wgv_ga_wgvBufferReadMapped r = {handle, offset, size, shm, s->future};
    wgv_client_send_locked(c, WGV_OP_wgvBufferReadMapped, &r);
    return true;
}

bool wgv_transfer_pull(struct wgv_client *c, struct wgv_buffer *b, uint64_t map_future,
                       const char **why)
{
    pthread_mutex_lock(&c->lock);
    if (!b->priv || b->map_future != map_future) {
        pthread_mutex_unlock(&c->lock);
        return true;
    }
    uint64_t base = b->map_offset, total = b->map_size, handle = wgv_object_handle(&b->base);
    uint64_t chunk = wgv_transfer_chunk(c);
    pthread_mutex_unlock(&c->lock);

    struct pull_slot slots[PULL_WINDOW];
    unsigned first = 0, inflight = 0;
    uint64_t next = 0;
    *why = NULL;
    for (;;) {
        pthread_mutex_lock(&c->lock);
        while (!*why && inflight < PULL_WINDOW && next < total) {
            uint64_t n = total - next < chunk ? total - next : chunk;
            struct pull_slot *s = &slots[(first + inflight) % PULL_WINDOW];
            if (c->lost) {
                *why = "the connection to the host was lost";
            } else if (!pull_request(c, handle, s, base + next, n)) {
                if (!inflight)
                    *why = "webgpu-virtio: no shared memory left to read this mapping";
                break;
            } else {
                next += s->size;
                inflight++;
            }
        }
        pthread_mutex_unlock(&c->lock);
        if (!inflight)
            break;
        /* Answers come in order: the oldest first. Every request is waited
         * for, even after a failure, since its slot is on this stack. */
        struct pull_slot *s = &slots[first];
        while (!s->done) {
            WGPUFutureWaitInfo info = {{s->future}, false};
            wgv_client_wait_any(c, 1, &info, UINT64_MAX, true);
        }
        pthread_mutex_lock(&c->lock);
        if (*why) {
            /* already failed: only collecting */
        } else if (b->map_future != map_future || !b->priv) {
            *why = "The buffer was unmapped or destroyed before the mapping was resolved.";
        } else if (s->status != WGPUMapAsyncStatus_Success) {
            *why = c->lost ? "the connection to the host was lost"
                           : "the host's mapping ended before its bytes were read";
        } else {
            wgv_copy(c->copier, b->priv + (s->offset - base), c->t->bulk + s->shm,
                     (size_t)s->size);
        }
        /* The host has answered (or is gone): the range is free. */
        wgv_bulk_release(&c->bulk, s->shm, s->size);
        pthread_mutex_unlock(&c->lock);
        first = (first + 1) % PULL_WINDOW;
        inflight--;
    }
    return *why == NULL;
}

void wgv_transfer_push(struct wgv_client *c, struct wgv_buffer *b)
{
    if (!b->priv || b->map_state != WGPUBufferMapState_Mapped || !(b->map_mode & WGPUMapMode_Write))
        return;
    uint64_t chunk = wgv_transfer_chunk(c), handle = wgv_object_handle(&b->base);
    struct window win = {{0}, 0};
    for (uint64_t k = 0; k < b->map_size && !c->lost;) {
        uint64_t n = b->map_size - k < chunk ? b->map_size - k : chunk, off;
        window_wait(c, &win);
        if (!chunk_alloc(c, &n, &off)) {
            fprintf(stderr, "webgpu-virtio: no shared memory left to write back a mapping of "
                            "%llu bytes; %llu were written\n",
                    (unsigned long long)b->map_size, (unsigned long long)k);
            return;
        }
        wgv_copy(c->copier, c->t->bulk + off, b->priv + k, (size_t)n);
        struct wgv_ga_wgvBufferWriteMapped w = {handle, b->map_offset + k, n, off};
        wgv_client_send_locked(c, WGV_OP_wgvBufferWriteMapped, &w);
        wgv_client_release_later(c, off, n);
        window_sent(c, &win);
        k += n;
    }
}
