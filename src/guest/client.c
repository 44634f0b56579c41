/* The client: one connection to a host context. Encodes commands, reads
 * replies, keeps futures and object ids. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "guest.h"
#include "protocol.h"
#include "transfer.h"

/* Bytes of commands one ring record holds, at most (larger commands get a
 * record of their own): the host then copies, frames and releases once
 * for a run of small commands instead of once each. */
#define WGV_RECORD_BATCH 4096
/* A staged range's `until` while the command naming it is being encoded. */
#define WGV_STAGED_ENCODING UINT64_MAX

static void client_lost(struct wgv_client *c, const char *reason);
static void client_waiting(void *user);

/* ---------------------------------------------------------------- ids */

static bool idmap_take(struct wgv_idmap *m, uint32_t *id, uint32_t *gen)
{
    if (m->free_len) {
        *id = m->free_ids[--m->free_len];
    } else {
        if (m->len == 0)
            m->len = 1; /* id 0 is null */
        if (m->len >= m->cap) {
            uint32_t cap = m->cap ? m->cap * 2 : 64;
            uint32_t *g = realloc(m->gens, (size_t)cap * sizeof(*g));
            if (!g)
                return false;
            memset(g + m->cap, 0, (size_t)(cap - m->cap) * sizeof(*g));
            m->gens = g;
            m->cap = cap;
        }
        *id = m->len++;
    }
    *gen = ++m->gens[*id];
    return true;
}

static void idmap_put(struct wgv_idmap *m, uint32_t id)
{
    if (m->free_len == m->free_cap) {
        uint32_t cap = m->free_cap ? m->free_cap * 2 : 64;
        uint32_t *f = realloc(m->free_ids, (size_t)cap * sizeof(*f));
        if (!f)
            return; /* the id is never reused: harmless */
        m->free_ids = f;
        m->free_cap = cap;
    }
    m->free_ids[m->free_len++] = id;
}

/* ------------------------------------------------------------- objects */

static void fire_all(struct wgv_client *c, struct wgv_future *list);
static struct wgv_future *cancel_all_locked(struct wgv_client *c);
static struct wgv_future *future_find(struct wgv_client *c, uint64_t id, struct wgv_future ***link);

static size_t object_size(unsigned type)
{
    switch (type) {
    case WGV_OBJ_Buffer: return sizeof(struct wgv_buffer);
    case WGV_OBJ_Texture: return sizeof(struct wgv_texture);
    case WGV_OBJ_QuerySet: return sizeof(struct wgv_query_set);
    case WGV_OBJ_Adapter: return sizeof(struct wgv_adapter);
    case WGV_OBJ_Device: return sizeof(struct wgv_device);
    case WGV_OBJ_Instance: return sizeof(struct wgv_instance);
    case WGV_OBJ_Queue: return sizeof(struct wgv_queue);
    case WGV_OBJ_CommandEncoder: return sizeof(struct wgv_command_encoder);
    case WGV_OBJ_CommandBuffer: return sizeof(struct wgv_command_buffer);
    default: return sizeof(struct wgv_object);
    }
}

struct wgv_object *wgv_object_create(struct wgv_client *c, unsigned type, struct wgv_object *parent)
{
    struct wgv_object *o = calloc(1, object_size(type));
    if (!o)
        return NULL;
    pthread_mutex_lock(&c->lock);
    bool ok = idmap_take(&c->ids[type], &o->id, &o->gen);
    pthread_mutex_unlock(&c->lock);
    if (!ok) {
        free(o);
        return NULL;
    }
    o->type = (uint16_t)type;
    atomic_init(&o->refs, 1);
    o->client = c;
    o->parent = parent;
    atomic_fetch_add(&c->refs, 1);
    return o;
}

void wgv_object_add_ref(struct wgv_object *o)
{
    if (o)
        atomic_fetch_add(&o->refs, 1);
}

static void object_free_state(struct wgv_object *o)
{
    struct wgv_client *c = o->client;
    switch (o->type) {
    case WGV_OBJ_Buffer: {
        struct wgv_buffer *b = (struct wgv_buffer *)o;
        /* The host may still write a pending map's bytes there until it
         * has read the release. */
        if (b->has_shm)
            wgv_client_release_later(c, b->shm_offset, b->shm_size);
        wgv_transfer_private_drop(b);
        free(b->shadow);
        break;
    }
    case WGV_OBJ_Adapter: {
        struct wgv_adapter *a = (struct wgv_adapter *)o;
        free((void *)a->info.vendor.data);
        free((void *)a->info.architecture.data);
        free((void *)a->info.device.data);
        free((void *)a->info.description.data);
        free(a->features.names);
        wgv_front_adapter_free(a);
        break;
    }
    case WGV_OBJ_Device: {
        struct wgv_device *d = (struct wgv_device *)o;
        free(d->features.names);
        break;
    }
    default:
        break;
    }
}

void wgv_object_release(struct wgv_object *o)
{
    if (!o || atomic_fetch_sub(&o->refs, 1) != 1)
        return;
    struct wgv_client *c = o->client;
    struct wgv_object *dep[2] = {NULL, NULL};
    if (o->type == WGV_OBJ_Device) {
        struct wgv_device *d = (struct wgv_device *)o;
        dep[0] = d->queue;
        dep[1] = &d->adapter->base;
    }
    struct wgv_future *cancelled = NULL;
    pthread_mutex_lock(&c->lock);
    if (o->type == WGV_OBJ_Device)
        wgv_device_end_locked(c, (struct wgv_device *)o, true);
    else if (o->type == WGV_OBJ_Buffer)
        wgv_futures_drop_object(c, o);
    else if (o->type == WGV_OBJ_Instance)
        cancelled = cancel_all_locked(c);
    if (o->type != WGV_OBJ_Instance) {
        struct wgv_ga_wgvRelease a = {o->type, wgv_object_handle(o)};
        wgv_client_send_locked(c, WGV_OP_wgvRelease, &a);
    }
    object_free_state(o);
    idmap_put(&c->ids[o->type], o->id);
    pthread_mutex_unlock(&c->lock);
    /* Callbacks this release completed fire before it returns, as they do
     * natively: a device's lost callback (AllowSpontaneous), or everything
     * an instance still owed. */
    fire_all(c, cancelled);
    wgv_client_fire_spontaneous(c);
    /* The buffers its copies read, released without the lock held. */
    if (o->type == WGV_OBJ_CommandEncoder)
        wgv_buffer_uses_free(&((struct wgv_command_encoder *)o)->uses);
    else if (o->type == WGV_OBJ_CommandBuffer)
        wgv_buffer_uses_free(&((struct wgv_command_buffer *)o)->uses);
    free(o);
    for (int i = 0; i < 2; i++)
        if (dep[i])
            wgv_object_release(dep[i]);
    wgv_client_unref(c);
}

/* ---------------------------------------------------------------- codec */

static uint64_t ops_object_to_wire(void *user, uint16_t type, const void *native)
{
    (void)user, (void)type;
    return wgv_object_handle(native);
}

static bool ops_object_from_wire(void *user, uint16_t type, uint64_t handle, void **native)
{
    /* Replies never carry objects. */
    (void)user, (void)type, (void)handle, (void)native;
    return false;
}

static bool ops_bulk_put(void *user, const void *data, uint64_t size, uint64_t *offset)
{
    return wgv_client_stage(user, data, size, offset);
}

/* -------------------------------------------------------------- client */

struct wgv_client *wgv_client_create(char *err, size_t errlen)
{
    struct wgv_client *c = calloc(1, sizeof(*c));
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->t = wgv_transport_open(err, errlen);
    c->reply_buf = malloc(WGV_MESSAGE_MAX);
    c->copier = wgv_copier_create(WGV_COPY_HELPERS_AUTO);
    if (!c->t || !c->reply_buf) {
        if (c->t)
            c->t->destroy(c->t);
        free(c->reply_buf);
        wgv_copier_destroy(c->copier);
        free(c);
        return NULL;
    }
    /* Recursive: a generated function holds the lock across its hook, and
     * hooks and object creation take it again. */
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&c->lock, &attr);
    pthread_mutexattr_destroy(&attr);
    atomic_init(&c->refs, 1);
    wgv_writer_init(&c->w);
    wgv_bulk_init(&c->bulk, c->t->bulk_size);
    c->t->waiting = client_waiting;
    c->t->waiting_user = c;
    c->next_future = 1;
    c->ops = (struct wgv_codec_ops){
        .object_to_wire = ops_object_to_wire,
        .object_from_wire = ops_object_from_wire,
        .bulk_put = c->t->bulk ? ops_bulk_put : NULL,
        .user = c,
    };
    return c;
}

void wgv_client_unref(struct wgv_client *c)
{
    if (atomic_fetch_sub(&c->refs, 1) != 1)
        return;
    wgv_client_flush_locked(c);
    c->t->destroy(c->t);
    for (int pass = 0; pass < 2; pass++) {
        struct wgv_future **list = pass ? &c->deferred : &c->futures;
        while (*list) {
            struct wgv_future *f = *list;
            *list = f->next;
            free(f->reply);
            free(f);
        }
    }
    for (unsigned i = 0; i < WGV_OBJ_COUNT; i++) {
        free(c->ids[i].gens);
        free(c->ids[i].free_ids);
    }
    wgv_bulk_fini(&c->bulk);
    wgv_writer_free(&c->w);
    free(c->wgsl_features);
    free(c->reply_buf);
    wgv_copier_destroy(c->copier);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

/* Records a bulk range the host may still read until the command stream
 * has been consumed past `until`; false if the list cannot grow. */
static bool staged_push(struct wgv_bulk *b, uint64_t offset, uint64_t size, uint64_t until)
{
    if (b->staged_len == b->staged_cap) {
        size_t cap = b->staged_cap ? b->staged_cap * 2 : 16;
        struct wgv_staged *s = realloc(b->staged, cap * sizeof(*s));
        if (!s)
            return false;
        b->staged = s;
        b->staged_cap = cap;
    }
    b->staged[b->staged_len++] = (struct wgv_staged){offset, size, until};
    return true;
}

static void reclaim_staging(struct wgv_client *c)
{
    struct wgv_bulk *b = &c->bulk;
    if (!b->staged_len)
        return;
    uint64_t done = c->t->consumed(c->t);
    size_t keep = 0;
    for (size_t i = 0; i < b->staged_len; i++) {
        if (b->staged[i].until && b->staged[i].until <= done)
            wgv_bulk_release(b, b->staged[i].offset, b->staged[i].size);
        else
            b->staged[keep++] = b->staged[i];
    }
    b->staged_len = keep;
}

bool wgv_client_bulk_alloc(struct wgv_client *c, uint64_t size, uint64_t *offset)
{
    /* Ranges the host has finished with go back first, so the same (warm)
     * pages are reused instead of fresh ones. */
    struct wgv_bulk *b = &c->bulk;
    reclaim_staging(c);
    if (wgv_bulk_alloc(b, size, offset))
        return true;
    if (size > b->size || !b->staged_len)
        return false;
    /* Let the host catch up with what still holds ranges, then try again. */
    wgv_client_flush_locked(c);
    uint64_t want = c->t->produced(c->t);
    for (int spins = 0; c->t->consumed(c->t) < want && !c->lost && spins < 1000000; spins++) {
        /* Replies are read meanwhile: the host may be waiting on them. */
        client_waiting(c);
        struct timespec ts = {0, 20000};
        nanosleep(&ts, NULL);
    }
    reclaim_staging(c);
    return wgv_bulk_alloc(b, size, offset);
}

bool wgv_client_stage(struct wgv_client *c, const void *data, uint64_t size, uint64_t *offset)
{
    /* Called with the lock held, while a command is being encoded. */
    struct wgv_bulk *b = &c->bulk;
    if (!wgv_client_bulk_alloc(c, size, offset))
        return false;
    wgv_copy(c->copier, c->t->bulk + *offset, data, size);
    /* Freed once the host has consumed the command that names it; where
     * that command ends is known once its record is in the ring
     * (WGV_STAGED_ENCODING while the command is being encoded, 0 once it
     * is in the record being filled). */
    if (!staged_push(b, *offset, size, WGV_STAGED_ENCODING)) {
        wgv_bulk_release(b, *offset, size);
        return false;
    }
    return true;
}

void wgv_client_send_locked(struct wgv_client *c, unsigned opcode, const void *args)
{
    if (c->lost)
        return;
    struct wgv_writer *w = &c->w;
    w->len = 0;
    w->failed = false;
    struct wgv_cmd_header h = {0, (uint16_t)opcode, 0};
    wgv_writer_put(w, &h, sizeof(h));
    wgv_encode(&wgv_guest_abi, &c->ops, wgv_command_shape[opcode], args, w);
    if (w->failed || w->len > WGV_MESSAGE_MAX) {
        /* Too big for one message even with bulk data by reference (or out
         * of memory): the guest cannot express it, so the context ends the
         * way a hostile one would, with a reason. */
        char why[160];
        snprintf(why, sizeof(why), "%s: command of %zu bytes is too large",
                 wgv_command_name[opcode], w->len);
        client_lost(c, why);
        return;
    }
    h.size = (uint32_t)w->len;
    memcpy(w->data, &h, sizeof(h));
    uint8_t *rec = wgv_client_reserve_locked(c, w->len);
    if (!rec)
        return;
    memcpy(rec, w->data, w->len);
    wgv_client_commit_locked(c, opcode, w->len);
}

/* Bulk ranges whose last use was in the record just put in the ring are
 * free once the host is past it (not those of a command still being
 * encoded, which are WGV_STAGED_ENCODING). */
static void staged_sent(struct wgv_client *c)
{
    struct wgv_bulk *b = &c->bulk;
    for (size_t i = b->staged_len; i-- > 0;) {
        if (b->staged[i].until == WGV_STAGED_ENCODING)
            continue;
        if (b->staged[i].until != 0)
            break;
        b->staged[i].until = c->t->produced(c->t);
    }
}

void wgv_client_close_locked(struct wgv_client *c)
{
    if (!c->rec)
        return;
    size_t len = c->rec_len;
    c->rec = NULL;
    if (!c->t->commit(c->t, len)) {
        client_lost(c, "the connection to the host was lost");
        return;
    }
    staged_sent(c);
}

void wgv_client_flush_locked(struct wgv_client *c)
{
    wgv_client_close_locked(c);
    c->t->flush(c->t);
}

uint8_t *wgv_client_reserve_locked(struct wgv_client *c, size_t size)
{
    if (c->lost)
        return NULL;
    if (c->rec && c->rec_cap - c->rec_len >= size)
        return c->rec + c->rec_len;
    wgv_client_close_locked(c);
    if (c->lost)
        return NULL;
    /* A command too large to share a record, or a ring too small for
     * batches, gets a record of its own. */
    bool alone = size > WGV_RECORD_BATCH / 2 || c->t->record_max < 8 * WGV_RECORD_BATCH;
    size_t cap = alone ? size : WGV_RECORD_BATCH;
    uint8_t *rec = c->t->reserve(c->t, cap);
    if (!rec) {
        client_lost(c, "the connection to the host was lost");
        return NULL;
    }
    c->rec = rec;
    c->rec_len = 0;
    c->rec_cap = cap;
    if (!alone) {
        /* A batch: its header's size, the ring record's size word, covers
         * the commands after it. */
        struct wgv_cmd_header h = {0, WGV_OP_wgvBatch, 0};
        memcpy(rec, &h, sizeof(h));
        c->rec_len = sizeof(h);
    }
    return rec + c->rec_len;
}

void wgv_client_commit_locked(struct wgv_client *c, unsigned opcode, size_t size)
{
    c->rec_len += size;
    struct wgv_bulk *b = &c->bulk;
    /* What this command staged is now in the record. */
    for (size_t i = b->staged_len; i-- > 0 && b->staged[i].until == WGV_STAGED_ENCODING;)
        b->staged[i].until = 0;
    if (opcode == WGV_OP_wgpuQueueSubmit) {
        /* A submit starts GPU work: the host sees it now. */
        wgv_client_flush_locked(c);
    } else if ((b->staged_len && b->staged[b->staged_len - 1].until == 0) ||
               c->rec_cap - c->rec_len < WGV_RECORD_BATCH / 8) {
        /* A command that staged bulk data goes out with its record at once,
         * so that the range's release is tied to a position in the ring;
         * so does a record that is (nearly) full. */
        wgv_client_close_locked(c);
    }
}

void wgv_client_send(struct wgv_client *c, unsigned opcode, const void *args)
{
    pthread_mutex_lock(&c->lock);
    wgv_client_send_locked(c, opcode, args);
    pthread_mutex_unlock(&c->lock);
}

/* -------------------------------------------------------------- futures */

WGPUFuture wgv_future_create(struct wgv_client *c, unsigned callback, WGPUCallbackMode mode,
                             WGPUProc fn, void *userdata1, void *userdata2,
                             struct wgv_object *object)
{
    struct wgv_future *f = calloc(1, sizeof(*f));
    if (!f)
        return (WGPUFuture){0};
    f->callback = (uint16_t)callback;
    f->mode = mode;
    f->fn = fn;
    f->userdata1 = userdata1;
    f->userdata2 = userdata2;
    f->object = object;
    wgv_object_add_ref(object);
    pthread_mutex_lock(&c->lock);
    f->id = c->next_future++;
    f->next = c->futures;
    c->futures = f;
    pthread_mutex_unlock(&c->lock);
    return (WGPUFuture){f->id};
}

void wgv_future_make_event(struct wgv_client *c, uint64_t id, bool repeat)
{
    pthread_mutex_lock(&c->lock);
    for (struct wgv_future *f = c->futures; f; f = f->next) {
        if (f->id == id) {
            f->repeat = repeat;
            if (!f->weak) {
                f->weak = true;
                /* wgv_future_create took a reference; events hold none. */
                atomic_fetch_sub(&f->object->refs, 1);
            }
        }
    }
    pthread_mutex_unlock(&c->lock);
}

/* Completes a pending map as Aborted (lock held). */
static void map_abort(struct wgv_client *c, struct wgv_future *f, const char *why)
{
    struct wgv_gcb_BufferMapCallback a = {WGPUMapAsyncStatus_Aborted, {why, WGPU_STRLEN}};
    if (f->state == WGV_FUTURE_PENDING)
        wgv_future_complete_locked(c, f, &a);
    else
        f->aborted = true; /* answered, not yet fired */
}

void wgv_future_abort(struct wgv_client *c, uint64_t id)
{
    struct wgv_future *f = future_find(c, id, NULL);
    if (f && f->callback == WGV_CB_BufferMapCallback)
        map_abort(c, f, "The buffer was unmapped or destroyed before the mapping was resolved.");
}

void wgv_futures_drop_object(struct wgv_client *c, struct wgv_object *o)
{
    for (struct wgv_future **l = &c->futures; *l;) {
        struct wgv_future *f = *l;
        if (f->weak && f->object == o && f->callback == WGV_CB_BufferMapCallback) {
            map_abort(c, f, "The buffer was released before the mapping was resolved.");
            f->object = NULL;
            l = &f->next;
        } else if (f->weak && f->object == o && f->state == WGV_FUTURE_PENDING) {
            *l = f->next;
            free(f->reply);
            free(f);
        } else {
            if (f->weak && f->object == o)
                f->object = NULL; /* completed, not yet fired */
            l = &f->next;
        }
    }
}

void wgv_client_release_later(struct wgv_client *c, uint64_t offset, uint64_t size)
{
    /* Called after the command that ends the range's use was sent (in the
     * open record, which goes out now). If the list cannot grow, the range
     * leaks rather than being reused too early. */
    staged_push(&c->bulk, offset, size, 0);
    if (c->rec)
        wgv_client_close_locked(c);
    else
        staged_sent(c);
}

bool wgv_future_complete_locked(struct wgv_client *c, struct wgv_future *f, const void *args)
{
    struct wgv_writer w;
    wgv_writer_init(&w);
    struct wgv_reply_header h = {0, WGV_REPLY_CALLBACK, f->callback, f->id};
    wgv_writer_put(&w, &h, sizeof(h));
    wgv_encode(&wgv_guest_abi, &c->ops, wgv_callback_shape[f->callback], args, &w);
    if (w.failed) {
        wgv_writer_free(&w);
        return false;
    }
    h.size = (uint32_t)w.len;
    memcpy(w.data, &h, sizeof(h));
    free(f->reply);
    f->reply = w.data;
    f->reply_len = w.len;
    if (f->state != WGV_FUTURE_READY)
        f->ready_seq = ++c->next_ready_seq;
    f->state = WGV_FUTURE_READY;
    if (f->mode == WGPUCallbackMode_AllowSpontaneous)
        c->spontaneous_ready = true;
    return true;
}

void wgv_future_complete_local(struct wgv_client *c, uint64_t id, const void *args)
{
    pthread_mutex_lock(&c->lock);
    for (struct wgv_future *f = c->futures; f; f = f->next) {
        if (f->id == id && f->state == WGV_FUTURE_PENDING) {
            wgv_future_complete_locked(c, f, args);
            break;
        }
    }
    pthread_mutex_unlock(&c->lock);
}

/* The host is gone: every future still pending completes now, as it would
 * on a lost device (lock held). Device-lost callbacks come first, then the
 * rest in the order they were issued. Repeating events never fire again. */
static void lose_pending_futures(struct wgv_client *c)
{
    _Alignas(16) uint8_t args[256];
    uint64_t base = c->next_ready_seq;
    bool any = false;
    for (struct wgv_future *f = c->futures; f; f = f->next) {
        if (f->state != WGV_FUTURE_PENDING || f->repeat)
            continue;
        if (!wgv_lost_callback_args(f->callback, WGPUDeviceLostReason_Unknown, c->lost_reason,
                                    args, sizeof(args)) ||
            !wgv_future_complete_locked(c, f, args))
            continue;
        bool first = f->callback == WGV_CB_DeviceLostCallback;
        f->ready_seq = base + (first ? 0 : c->next_future) + f->id;
        any = true;
    }
    if (any)
        c->next_ready_seq = base + 2 * c->next_future + 1;
}

static struct wgv_future *future_find(struct wgv_client *c, uint64_t id, struct wgv_future ***link)
{
    for (struct wgv_future **l = &c->futures; *l; l = &(*l)->next) {
        if ((*l)->id == id) {
            if (link)
                *link = l;
            return *l;
        }
    }
    return NULL;
}

struct wgv_future *wgv_future_get_locked(struct wgv_client *c, uint64_t id)
{
    return future_find(c, id, NULL);
}

/* Defined in callbacks.c: applies a reply's effects on guest state and
 * calls the application. Takes ownership of f. */
void wgv_future_fire(struct wgv_client *c, struct wgv_future *f);
/* Applies adapter or device state from a reply. */
void wgv_apply_state(struct wgv_client *c, const struct wgv_reply_header *h, const void *body,
                     size_t len);

/* The connection is over: say why once, and lose every device (lock held). */
static void client_lost(struct wgv_client *c, const char *reason)
{
    if (c->lost)
        return;
    c->lost = true;
    c->rec = NULL; /* nothing more goes to the host */
    snprintf(c->lost_reason, sizeof(c->lost_reason), "%.255s", reason);
    fprintf(stderr, "webgpu-virtio: %s\n", c->lost_reason);
    lose_pending_futures(c);
}

static void handle_lost(struct wgv_client *c, const uint8_t *body, size_t len)
{
    uint64_t n = 0;
    if (len >= 8)
        memcpy(&n, body, 8);
    if (n > len - 8)
        n = len >= 8 ? len - 8 : 0;
    char reason[300];
    snprintf(reason, sizeof(reason), "the host ended this context: %.*s", (int)n, body + 8);
    client_lost(c, reason);
}

/* Takes a reference for the time a callback runs, unless the count has
 * already reached zero (a release on another thread is under way). */
static bool object_try_ref(struct wgv_object *o)
{
    int n = atomic_load(&o->refs);
    while (n > 0)
        if (atomic_compare_exchange_weak(&o->refs, &n, n + 1))
            return true;
    return false;
}

/* Moves *link's future to the end of a fire list (lock held). A future
 * that held no reference on its object (events, maps) takes one while it
 * fires, so that another callback releasing the object cannot free it. */
static void unlink_for_firing(struct wgv_future **link, struct wgv_future ***tail)
{
    struct wgv_future *f = *link;
    *link = f->next;
    f->next = NULL;
    if (f->weak) {
        if (f->object && !object_try_ref(f->object))
            f->object = NULL;
        f->weak = false;
    }
    **tail = f;
    *tail = &f->next;
}

/* Reads replies; returns the spontaneous futures to fire (unlinked), those
 * read while a send waited first. */
static struct wgv_future *pump_locked(struct wgv_client *c)
{
    struct wgv_future *fire = c->deferred, **fire_tail = &fire;
    c->deferred = NULL;
    while (*fire_tail)
        fire_tail = &(*fire_tail)->next;
    for (;;) {
        long n = c->t->recv(c->t, c->reply_buf, WGV_MESSAGE_MAX);
        if (n == 0)
            break;
        if (n < 0 || (size_t)n < sizeof(struct wgv_reply_header)) {
            client_lost(c, "the connection to the host was lost");
            break;
        }
        struct wgv_reply_header h;
        memcpy(&h, c->reply_buf, sizeof(h));
        const uint8_t *body = c->reply_buf + sizeof(h);
        size_t len = (size_t)n - sizeof(h);
        if (h.kind == WGV_REPLY_CONTEXT_LOST) {
            handle_lost(c, body, len);
            continue;
        }
        if (h.kind == WGV_REPLY_ADAPTER_STATE || h.kind == WGV_REPLY_DEVICE_STATE ||
            h.kind == WGV_REPLY_INSTANCE_STATE) {
            wgv_apply_state(c, &h, body, len);
            continue;
        }
        struct wgv_future **link;
        struct wgv_future *f = future_find(c, h.key, &link);
        if (h.kind != WGV_REPLY_CALLBACK || !f || f->callback != h.callback)
            continue;
        /* Completed in the guest already (the device was destroyed or
         * released first): the host's later answer changes nothing. */
        if (f->state != WGV_FUTURE_PENDING && !f->repeat)
            continue;
        if (f->repeat) {
            /* An event that may fire again: fire a copy. */
            struct wgv_future *copy = malloc(sizeof(*copy));
            if (!copy)
                continue;
            *copy = *f;
            copy->repeat = false;
            copy->weak = false;
            /* The device may be on its way out on another thread. */
            if (copy->object && !object_try_ref(copy->object))
                copy->object = NULL;
            copy->reply = malloc((size_t)n);
            if (!copy->reply) {
                free(copy);
                continue;
            }
            memcpy(copy->reply, c->reply_buf, (size_t)n);
            copy->reply_len = (size_t)n;
            copy->ready_seq = ++c->next_ready_seq;
            copy->next = NULL;
            *fire_tail = copy;
            fire_tail = &copy->next;
            continue;
        }
        f->reply = malloc((size_t)n);
        if (!f->reply)
            continue;
        memcpy(f->reply, c->reply_buf, (size_t)n);
        f->reply_len = (size_t)n;
        f->state = WGV_FUTURE_READY;
        f->ready_seq = ++c->next_ready_seq;
        if (f->mode == WGPUCallbackMode_AllowSpontaneous)
            unlink_for_firing(link, &fire_tail);
    }
    /* Futures made since a loss complete too. */
    if (c->lost)
        lose_pending_futures(c);
    /* Spontaneous futures completed without a reply fire now rather than
     * at some later call. */
    if (c->spontaneous_ready) {
        c->spontaneous_ready = false;
        for (struct wgv_future **l = &c->futures; *l;) {
            struct wgv_future *f = *l;
            if (f->state == WGV_FUTURE_READY && f->mode == WGPUCallbackMode_AllowSpontaneous)
                unlink_for_firing(l, &fire_tail);
            else
                l = &f->next;
        }
    }
    return fire;
}

/* Callbacks fire in the order their replies arrived, which is the order
 * the host's implementation called them. */
static struct wgv_future *sort_by_arrival(struct wgv_future *list)
{
    struct wgv_future *sorted = NULL;
    while (list) {
        struct wgv_future *f = list;
        list = list->next;
        struct wgv_future **l = &sorted;
        while (*l && (*l)->ready_seq <= f->ready_seq)
            l = &(*l)->next;
        f->next = *l;
        *l = f;
    }
    return sorted;
}

static void fire_all(struct wgv_client *c, struct wgv_future *list)
{
    list = sort_by_arrival(list);
    while (list) {
        struct wgv_future *next = list->next;
        wgv_future_fire(c, list);
        list = next;
    }
}

void wgv_client_pump(struct wgv_client *c)
{
    pthread_mutex_lock(&c->lock);
    wgv_client_flush_locked(c);
    struct wgv_future *fire = pump_locked(c);
    pthread_mutex_unlock(&c->lock);
    fire_all(c, fire);
}

/* A send waits for room in the command ring (lock held): read replies
 * so that the host is not stuck on a full reply ring; what they complete
 * fires once the lock is released. */
static void client_waiting(void *user)
{
    struct wgv_client *c = user;
    struct wgv_future *fire = pump_locked(c);
    if (!fire)
        return;
    struct wgv_future **tail = &fire;
    while (*tail)
        tail = &(*tail)->next;
    *tail = c->deferred;
    c->deferred = fire;
    c->spontaneous_ready = true;
}

void wgv_client_wait_consumed(struct wgv_client *c, uint64_t pos)
{
    wgv_client_flush_locked(c);
    long pause = 20000;
    for (int i = 0; c->t->consumed(c->t) < pos && !c->lost && i < 100000; i++) {
        client_waiting(c);
        struct timespec ts = {0, pause};
        nanosleep(&ts, NULL);
        pause = pause * 2 > 1000000 ? 1000000 : pause * 2;
    }
}

void wgv_client_fire_spontaneous(struct wgv_client *c)
{
    if (!c->spontaneous_ready)
        return; /* a hint, rechecked under the lock */
    /* The pump fires what is deferred and what completed without a reply
     * (and whatever replies have arrived meanwhile). */
    wgv_client_pump(c);
}

/* The instance is released: every callback not yet fired, pending or
 * ready, fires now with its CallbackCancelled status, in the order the
 * futures were made. Returns them unlinked (lock held). */
static struct wgv_future *cancel_all_locked(struct wgv_client *c)
{
    _Alignas(16) uint8_t args[256];
    struct wgv_future *fire = NULL, **tail = &fire;
    uint64_t base = c->next_ready_seq;
    for (struct wgv_future **l = &c->futures; *l;) {
        struct wgv_future *f = *l;
        if (f->repeat ||
            !wgv_cancelled_callback_args(f->callback, "The instance was released.", args,
                                         sizeof(args)) ||
            !wgv_future_complete_locked(c, f, args)) {
            l = &f->next;
            continue;
        }
        f->ready_seq = base + f->id;
        unlink_for_firing(l, &tail);
    }
    c->next_ready_seq = base + c->next_future + 1;
    return fire;
}

void wgv_client_process_events(struct wgv_client *c)
{
    pthread_mutex_lock(&c->lock);
    wgv_client_flush_locked(c);
    struct wgv_future *fire = pump_locked(c), **tail = &fire;
    while (*tail)
        tail = &(*tail)->next;
    for (struct wgv_future **l = &c->futures; *l;) {
        struct wgv_future *f = *l;
        if (f->state == WGV_FUTURE_READY && f->mode != WGPUCallbackMode_WaitAnyOnly)
            unlink_for_firing(l, &tail);
        else
            l = &f->next;
    }
    pthread_mutex_unlock(&c->lock);
    fire_all(c, fire);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

WGPUWaitStatus wgv_client_wait_any(struct wgv_client *c, size_t count, WGPUFutureWaitInfo *infos,
                                   uint64_t timeout_ns, bool timed_allowed)
{
    if (count && !infos)
        return WGPUWaitStatus_Error;
    if (timeout_ns > 0 && !timed_allowed)
        return WGPUWaitStatus_Error;
    uint64_t start = now_ns();
    uint64_t deadline = timeout_ns > UINT64_MAX - start ? UINT64_MAX : start + timeout_ns;
    for (;;) {
        pthread_mutex_lock(&c->lock);
        wgv_client_flush_locked(c);
        struct wgv_future *fire = pump_locked(c), **tail = &fire;
        while (*tail)
            tail = &(*tail)->next;
        bool any = false;
        for (size_t i = 0; i < count; i++) {
            struct wgv_future **link;
            struct wgv_future *f = future_find(c, infos[i].future.id, &link);
            if (!f) {
                /* Already completed (or never issued by this client). */
                if (infos[i].future.id && infos[i].future.id < c->next_future) {
                    infos[i].completed = true;
                    any = true;
                }
                continue;
            }
            if (f->state == WGV_FUTURE_READY) {
                unlink_for_firing(link, &tail);
                infos[i].completed = true;
                any = true;
            }
        }
        bool lost = c->lost;
        uint64_t point = c->t->wait_point(c->t);
        pthread_mutex_unlock(&c->lock);
        fire_all(c, fire);
        if (any)
            return WGPUWaitStatus_Success;
        if (lost)
            return WGPUWaitStatus_Error;
        uint64_t now = now_ns();
        if (timeout_ns == 0 || now >= deadline)
            return WGPUWaitStatus_TimedOut;
        c->t->wait(c->t, point, deadline == UINT64_MAX ? -1 : (int64_t)(deadline - now));
    }
}
