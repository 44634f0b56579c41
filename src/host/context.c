/* Host contexts: decode a guest's commands, run them on the backend, turn
 * backend callbacks into replies. */
#include "context.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "protocol.h"

/* Decoded arguments of one command may take at most this much memory. */
#define WGV_ARENA_LIMIT (64u << 20)
/* Policy defaults (struct wgv_policy). */
#define WGV_DEFAULT_MAX_MEMORY (4ull << 30)
#define WGV_DEFAULT_MAX_OBJECTS (1u << 20)
#define WGV_DEFAULT_MAX_SHADER_BYTES (16ull << 20)

static void host_log(struct wgv_host *host, enum wgv_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void host_log(struct wgv_host *host, enum wgv_log_level level, const char *fmt, ...)
{
    if (!host->config.log)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    host->config.log(host->config.user, level, msg);
}

/* ------------------------------------------------------------------ host */

static bool backend_speaks_our_abi(struct wgv_backend *b, char *err, size_t errlen)
{
    for (const char *const *s = wgv_backend_abi_exports; *s; s++) {
        if (!wgv_backend_has_symbol(b, *s)) {
            snprintf(err, errlen,
                     "backend: %s does not speak the %s ABI this host was built for "
                     "(it lacks %s)", b->path, wgv_backend_abi_name, *s);
            return false;
        }
    }
    for (const char *const *s = wgv_backend_abi_lacks; *s; s++) {
        if (wgv_backend_has_symbol(b, *s)) {
            snprintf(err, errlen,
                     "backend: %s does not speak the %s ABI this host was built for "
                     "(it exports %s, which that ABI lacks)", b->path, wgv_backend_abi_name, *s);
            return false;
        }
    }
    return true;
}

struct wgv_host *wgv_host_create(const struct wgv_host_config *config, char *err, size_t errlen)
{
    struct wgv_host *host = calloc(1, sizeof(*host));
    if (!host) {
        snprintf(err, errlen, "host: out of memory");
        return NULL;
    }
    if (config)
        host->config = *config;
    host->backend = wgv_backend_open(host->config.backend_path, err, errlen);
    if (!host->backend || !backend_speaks_our_abi(host->backend, err, errlen)) {
        wgv_backend_close(host->backend);
        free(host);
        return NULL;
    }
    return host;
}

void wgv_host_destroy(struct wgv_host *host)
{
    if (!host)
        return;
    wgv_backend_close(host->backend);
    free(host);
}

bool wgv_host_allows_null_adapter(const struct wgv_host *host)
{
    return (host->config.flags & WGV_HOST_ALLOW_NULL_ADAPTER) ||
           host->config.force_backend == WGPUBackendType_Null;
}

struct adapter_answer {
    WGPUAdapter adapter;
    bool done;
};

static void on_listed_adapter(WGPURequestAdapterStatus status, WGPUAdapter adapter,
                              WGPUStringView message, void *userdata1, void *userdata2)
{
    (void)message, (void)userdata2;
    struct adapter_answer *a = userdata1;
    a->adapter = status == WGPURequestAdapterStatus_Success ? adapter : NULL;
    a->done = true;
}

/* The adapter the backend gives for a backend type (Undefined: its
 * default), or NULL. */
static WGPUAdapter request_listed_adapter(const struct wgv_procs *p, WGPUInstance instance,
                                          WGPUBackendType type)
{
    WGPURequestAdapterOptions opts = WGPU_REQUEST_ADAPTER_OPTIONS_INIT;
    opts.backendType = type;
    struct adapter_answer a = {0};
    WGPURequestAdapterCallbackInfo ci = WGPU_REQUEST_ADAPTER_CALLBACK_INFO_INIT;
    ci.mode = WGPUCallbackMode_AllowProcessEvents;
    ci.callback = on_listed_adapter;
    ci.userdata1 = &a;
    p->instanceRequestAdapter(instance, &opts, ci);
    for (int spins = 0; !a.done && spins < 100000; spins++)
        p->instanceProcessEvents(instance);
    return a.adapter;
}

static void copy_view(char *dst, size_t cap, WGPUStringView v)
{
    size_t n = v.data ? (v.length == WGPU_STRLEN ? strlen(v.data) : v.length) : 0;
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, v.data ? v.data : "", n);
    dst[n] = 0;
}

unsigned wgv_host_list_adapters(struct wgv_host *host, struct wgv_host_adapter *out, unsigned cap)
{
    const struct wgv_procs *p = &host->backend->procs;
    WGPUInstance instance = p->createInstance(NULL);
    if (!instance)
        return 0;
    static const WGPUBackendType kinds[] = {WGPUBackendType_Undefined, WGPUBackendType_Vulkan,
                                            WGPUBackendType_Null};
    /* A forced backend is the only one contexts will ask for: no other is
     * loaded (a GPU driver's start-up is not free, nor leak-free). */
    WGPUBackendType forced = (WGPUBackendType)host->config.force_backend;
    size_t nkinds = forced ? 1 : sizeof(kinds) / sizeof(kinds[0]);
    struct wgv_host_adapter seen[3];
    unsigned count = 0;
    for (size_t k = 0; k < nkinds; k++) {
        WGPUAdapter adapter = request_listed_adapter(p, instance, forced ? forced : kinds[k]);
        if (!adapter)
            continue;
        WGPUAdapterInfo info = WGPU_ADAPTER_INFO_INIT;
        struct wgv_host_adapter a = {{0}, {0}, false};
        if (p->adapterGetInfo(adapter, &info) == WGPUStatus_Success) {
            uint32_t wire = wgv_enum_to_wire(&wgv_host_abi.enums[WGV_ENUM_BackendType],
                                             info.backendType);
            const char *name = wgv_enum_entry_name(WGV_ENUM_BackendType, wire);
            copy_view(a.name, sizeof(a.name), info.device);
            snprintf(a.backend, sizeof(a.backend), "%s", name ? name : "?");
            a.null_backend = info.backendType == WGPUBackendType_Null;
            p->adapterInfoFreeMembers(info);
        }
        p->adapterRelease(adapter);
        bool dup = false;
        for (unsigned i = 0; i < count; i++)
            dup |= !strcmp(seen[i].name, a.name) && !strcmp(seen[i].backend, a.backend);
        if (dup)
            continue;
        seen[count] = a;
        if (count < cap)
            out[count] = a;
        count++;
    }
    p->instanceRelease(instance);
    return count;
}

uint32_t wgv_host_protocol_version(void)
{
    return WGV_PROTOCOL_VERSION;
}

size_t wgv_host_capset(const struct wgv_host *host, void *buf, size_t cap)
{
    (void)host;
    /* magic "WGVC", protocol version, largest message, reserved */
    const uint32_t capset[4] = {0x43564757u, WGV_PROTOCOL_VERSION, WGV_MESSAGE_MAX, 0};
    if (cap < sizeof(capset))
        return 0;
    memcpy(buf, capset, sizeof(capset));
    return sizeof(capset);
}

/* --------------------------------------------------------------- replies */

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

void wgv_context_fail(struct wgv_context *ctx, const char *fmt, ...)
{
    if (ctx->lost)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->lost_reason, sizeof(ctx->lost_reason), fmt, ap);
    va_end(ap);
    ctx->lost = true;
    host_log(ctx->host, WGV_LOG_WARN, "context %u lost: %s", ctx->id, ctx->lost_reason);
    /* The reason travels as a bare string after the header. */
    struct wgv_writer *w = &ctx->reply;
    w->len = 0;
    w->failed = false;
    size_t n = strlen(ctx->lost_reason);
    struct wgv_reply_header h = {0, WGV_REPLY_CONTEXT_LOST, 0, 0};
    wgv_writer_put(w, &h, sizeof(h));
    wgv_put_u64(w, n);
    wgv_writer_put(w, ctx->lost_reason, n);
    wgv_writer_align(w, 8);
    if (w->failed || ctx->closing)
        return;
    h.size = (uint32_t)w->len;
    memcpy(w->data, &h, sizeof(h));
    ctx->io.reply(ctx->io.user, w->data, w->len);
}

/* --------------------------------------------------------------- objects */

static uint64_t ops_object_to_wire(void *user, uint16_t type, const void *native)
{
    /* Replies carry no objects: the guest named them before asking. */
    (void)user, (void)type, (void)native;
    return 0;
}

static bool ops_object_from_wire(void *user, uint16_t type, uint64_t handle, void **native)
{
    struct wgv_context *ctx = user;
    struct wgv_slot *s = wgv_objects_get(&ctx->objects, type, handle);
    if (!s)
        return false;
    if (!ctx->cmd_receiver) {
        ctx->cmd_receiver = s;
        ctx->cmd_receiver_type = type;
        ctx->cmd_receiver_handle = handle;
    }
    if (s->state == WGV_SLOT_ERROR) {
        /* Using an error object is the application's mistake, reported by
         * WebGPU's rules: the call becomes a validation error. */
        ctx->cmd_error_object = true;
        *native = NULL;
        return true;
    }
    if (s->state != WGV_SLOT_LIVE)
        return false;
    *native = s->handle;
    return true;
}

static bool ops_new_object(void *user, uint16_t type, uint64_t handle)
{
    struct wgv_context *ctx = user;
    if (ctx->cmd_claims >= WGV_CLAIMS_MAX)
        return false;
    bool over = ctx->objects.live >= ctx->objects.max_objects;
    struct wgv_slot *s = wgv_objects_claim(&ctx->objects, type, handle, &ctx->cmd_claim_why);
    if (!s)
        return false;
    ctx->cmd_over_quota |= over;
    ctx->cmd_claim[ctx->cmd_claims++] = s;
    return true;
}

static const void *ops_bulk_get(void *user, uint64_t offset, uint64_t size)
{
    struct wgv_context *ctx = user;
    if (!ctx->io.bulk || offset > ctx->io.bulk_size || size > ctx->io.bulk_size - offset)
        return NULL;
    return ctx->io.bulk + offset;
}

/* ------------------------------------------------------------- resources */

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

static const void *ops_resource_get(void *user, uint32_t id, uint64_t offset, uint64_t size,
                                    struct wgv_arena *arena)
{
    struct wgv_context *ctx = user;
    struct wgv_resource *r = find_resource(ctx, id);
    if (!r || offset > r->size || size > r->size - offset)
        return NULL;
    /* Find the piece holding `offset`; a range inside one piece is used in
     * place, one that spans pieces is gathered into the arena. */
    unsigned i = 0;
    while (offset >= r->iov[i].len) {
        offset -= r->iov[i].len;
        i++;
    }
    if (size <= r->iov[i].len - offset)
        return (const uint8_t *)r->iov[i].base + offset;
    uint8_t *out = wgv_arena_alloc(arena, size, 16);
    if (!out)
        return NULL;
    for (uint64_t done = 0; done < size; i++, offset = 0) {
        uint64_t n = r->iov[i].len - offset;
        if (n > size - done)
            n = size - done;
        memcpy(out + done, (const uint8_t *)r->iov[i].base + offset, n);
        done += n;
    }
    return out;
}

/* ----------------------------------------------------------------- fences */

static void fence_retire_later(struct wgv_context *ctx, struct wgv_fence *f)
{
    if (ctx->retired_count == ctx->retired_cap) {
        unsigned cap = ctx->retired_cap ? ctx->retired_cap * 2 : 8;
        struct wgv_fence **r = realloc(ctx->retired, cap * sizeof(*r));
        if (!r) {
            free(f);
            return;
        }
        ctx->retired = r;
        ctx->retired_cap = cap;
    }
    ctx->retired[ctx->retired_count++] = f;
}

int wgv_context_fence(struct wgv_context *ctx, uint32_t ring, uint64_t fence_id)
{
    struct wgv_fence *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    f->ring = ring;
    f->id = fence_id;
    /* One work-done callback per live queue; the fence retires after the
     * last. A context without queues retires it at the next poll. */
    struct wgv_table *queues = &ctx->objects.tables[WGV_OBJ_Queue];
    f->remaining = 1; /* held until every queue has been asked */
    for (uint32_t id = 1; id < queues->len && !ctx->lost; id++) {
        struct wgv_slot *s = &queues->slots[id];
        if (s->state != WGV_SLOT_LIVE)
            continue;
        struct wgv_pending *p = wgv_host_pending_new(ctx, WGV_CB_QueueWorkDoneCallback, 0, 0, false);
        if (!p)
            break;
        p->fence = f;
        f->remaining++;
        WGPUQueueWorkDoneCallbackInfo ci = WGPU_QUEUE_WORK_DONE_CALLBACK_INFO_INIT;
        ci.mode = WGPUCallbackMode_AllowProcessEvents;
        ci.callback = wgv_hcb_QueueWorkDoneCallback_thunk;
        ci.userdata1 = ctx;
        ci.userdata2 = p;
        ctx->procs->queueOnSubmittedWorkDone(s->handle, ci);
    }
    if (--f->remaining == 0)
        fence_retire_later(ctx, f);
    return 0;
}

static void report_fences(struct wgv_context *ctx)
{
    for (unsigned i = 0; i < ctx->retired_count; i++) {
        struct wgv_fence *f = ctx->retired[i];
        if (ctx->host->config.fence_retired)
            ctx->host->config.fence_retired(ctx->host->config.user, ctx->id, f->ring, f->id);
        free(f);
    }
    ctx->retired_count = 0;
}

void wgv_host_store(struct wgv_context *ctx, unsigned type, uint64_t handle, void *object)
{
    struct wgv_slot *s = wgv_objects_get(&ctx->objects, type, handle);
    if (!s || (s->state != WGV_SLOT_RESERVED && s->state != WGV_SLOT_AWAITING)) {
        if (object)
            wgv_host_release_object(ctx, type, object);
        return;
    }
    if (!object) {
        s->state = WGV_SLOT_ERROR;
        return;
    }
    s->handle = object;
    s->state = WGV_SLOT_LIVE;
}

/* ---------------------------------------------------------------- context */

struct wgv_context *wgv_context_create(struct wgv_host *host, uint32_t id,
                                       const struct wgv_context_io *io)
{
    struct wgv_context *ctx = calloc(1, sizeof(*ctx));
    if (!ctx)
        return NULL;
    ctx->host = host;
    ctx->procs = &host->backend->procs;
    ctx->id = id;
    ctx->io = *io;
    ctx->policy = host->config.policy;
    if (!ctx->policy.max_memory)
        ctx->policy.max_memory = WGV_DEFAULT_MAX_MEMORY;
    if (!ctx->policy.max_objects)
        ctx->policy.max_objects = WGV_DEFAULT_MAX_OBJECTS;
    if (!ctx->policy.max_shader_bytes)
        ctx->policy.max_shader_bytes = WGV_DEFAULT_MAX_SHADER_BYTES;
    wgv_objects_init(&ctx->objects, ctx->policy.max_objects);
    wgv_arena_init(&ctx->arena, WGV_ARENA_LIMIT);
    wgv_writer_init(&ctx->reply);
    ctx->pending.next = ctx->pending.prev = &ctx->pending;
    ctx->ops = (struct wgv_codec_ops){
        .object_to_wire = ops_object_to_wire,
        .object_from_wire = ops_object_from_wire,
        .new_object = ops_new_object,
        .bulk_get = ops_bulk_get,
        .resource_get = ops_resource_get,
        .user = ctx,
    };
    ctx->instance = ctx->procs->createInstance(NULL);
    if (!ctx->instance) {
        host_log(host, WGV_LOG_ERROR, "context %u: the backend created no instance", id);
        wgv_context_destroy(ctx);
        return NULL;
    }
    /* The guest's instance is always handle 1, generation 1. */
    struct wgv_slot *s = wgv_objects_claim(&ctx->objects, WGV_OBJ_Instance, (1ull << 32) | 1,
                                           NULL);
    s->handle = ctx->instance;
    s->state = WGV_SLOT_LIVE;
    /* What the guest's instance getters answer. */
    WGPUSupportedWGSLLanguageFeatures wgsl = WGPU_SUPPORTED_WGSL_LANGUAGE_FEATURES_INIT;
    ctx->procs->instanceGetWGSLLanguageFeatures(ctx->instance, &wgsl);
    const uint32_t shape = WGV_SHAPE_SupportedWGSLLanguageFeatures;
    const void *arg = &wgsl;
    wgv_host_send_reply(ctx, WGV_REPLY_INSTANCE_STATE, 0, 0, &shape, &arg, 1);
    ctx->procs->supportedWGSLLanguageFeaturesFreeMembers(wgsl);
    return ctx;
}

static void pending_free(struct wgv_context *ctx, struct wgv_pending *p)
{
    p->prev->next = p->next;
    p->next->prev = p->prev;
    if (p->owed)
        ctx->pending_count--;
    free(p);
}

void wgv_context_destroy(struct wgv_context *ctx)
{
    if (!ctx)
        return;
    ctx->closing = true;
    /* Children first, devices, adapters and the instance last: the type
     * order of the table does not matter to a refcounted backend, but
     * releasing dependents first keeps its teardown simple. */
    static const unsigned last[] = {WGV_OBJ_Queue, WGV_OBJ_Device, WGV_OBJ_Adapter};
    for (unsigned pass = 0; pass < 2; pass++) {
        for (unsigned t = 1; t < WGV_OBJ_COUNT; t++) {
            bool is_last = false;
            for (unsigned i = 0; i < sizeof(last) / sizeof(last[0]); i++)
                is_last |= last[i] == t;
            if (t == WGV_OBJ_Instance || is_last != (pass == 1))
                continue;
            struct wgv_table *tab = &ctx->objects.tables[t];
            for (uint32_t id = 1; id < tab->len; id++) {
                struct wgv_slot *s = &tab->slots[id];
                if (s->state == WGV_SLOT_LIVE && s->handle)
                    wgv_host_release_object(ctx, t, s->handle);
                wgv_objects_free(&ctx->objects, t, s);
            }
        }
    }
    if (ctx->instance) {
        /* Let the backend finish callbacks that still point at us. */
        ctx->procs->instanceProcessEvents(ctx->instance);
        ctx->procs->instanceRelease(ctx->instance);
    }
    while (ctx->pending.next != &ctx->pending) {
        struct wgv_pending *p = ctx->pending.next;
        if (p->buffer)
            ctx->procs->bufferRelease(p->buffer);
        if (p->fence && --p->fence->remaining == 0)
            free(p->fence);
        pending_free(ctx, p);
    }
    for (unsigned i = 0; i < ctx->retired_count; i++)
        free(ctx->retired[i]);
    free(ctx->retired);
    wgv_host_staging_free(ctx);
    while (ctx->resource_count)
        wgv_context_detach_resource(ctx, ctx->resources[0].id);
    free(ctx->resources);
    wgv_objects_fini(&ctx->objects);
    wgv_arena_free(&ctx->arena);
    wgv_writer_free(&ctx->reply);
    free(ctx->cmd_copy);
    free(ctx);
}

void wgv_context_kill(struct wgv_context *ctx, const char *reason)
{
    wgv_context_fail(ctx, "%s", reason);
}

const char *wgv_context_lost_reason(const struct wgv_context *ctx)
{
    return ctx->lost ? ctx->lost_reason : NULL;
}

size_t wgv_context_live_objects(const struct wgv_context *ctx)
{
    /* The instance slot is the context's own. */
    return ctx->objects.live ? ctx->objects.live - 1 : 0;
}

int wgv_context_poll(struct wgv_context *ctx)
{
    /* Owed callbacks, or device events the commands just run may have
     * caused (a destroyed device's loss), come from the backend here. */
    if (ctx->instance && (ctx->pending_count || ctx->ran))
        ctx->procs->instanceProcessEvents(ctx->instance);
    ctx->ran = false;
    report_fences(ctx);
    return ctx->pending_count;
}

/* --------------------------------------------------------------- pending */

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

/* The object type a callback delivers (generated from the descriptions). */
static unsigned callback_object_type(unsigned callback)
{
    return callback < WGV_CB_COUNT ? wgv_callback_delivers[callback] : WGV_OBJ_NONE;
}

/* What a guest is told when the host withholds Dawn's Null adapter. */
#define WGV_NULL_ONLY "webgpu-virtio: the host has no GPU adapter (only Dawn's Null backend); " \
                      "start the server with --null to use it"
#define WGV_NULL_NOT_OFFERED "webgpu-virtio: the host does not offer Dawn's Null backend; " \
                             "start the server with --null to use it"

static struct wgv_hcb_RequestAdapterCallback adapter_unavailable(const char *why)
{
    struct wgv_hcb_RequestAdapterCallback r;
    memset(&r, 0, sizeof(r));
    r.status = WGPURequestAdapterStatus_Unavailable;
    r.message = (WGPUStringView){why, strlen(why)};
    return r;
}

/* Whether an adapter the backend found may go to the guest: Dawn's Null
 * adapter only where the host allows it. */
static bool adapter_allowed(struct wgv_context *ctx, void *adapter)
{
    if (wgv_host_allows_null_adapter(ctx->host))
        return true;
    WGPUAdapterInfo info = WGPU_ADAPTER_INFO_INIT;
    if (ctx->procs->adapterGetInfo(adapter, &info) != WGPUStatus_Success)
        return false;
    bool is_null = info.backendType == WGPUBackendType_Null;
    ctx->procs->adapterInfoFreeMembers(info);
    if (is_null)
        host_log(ctx->host, WGV_LOG_INFO, "context %u: Dawn's Null adapter withheld from the "
                 "guest (the host allows it only with --null)", ctx->id);
    return !is_null;
}

static void send_adapter_state(struct wgv_context *ctx, void *adapter, uint64_t handle)
{
    WGPUAdapterInfo info = WGPU_ADAPTER_INFO_INIT;
    WGPULimits limits = WGPU_LIMITS_INIT;
    WGPUSupportedFeatures features = WGPU_SUPPORTED_FEATURES_INIT;
    ctx->procs->adapterGetInfo(adapter, &info);
    ctx->procs->adapterGetLimits(adapter, &limits);
    ctx->procs->adapterGetFeatures(adapter, &features);
    /* The guest is told the policy's limits where they are lower. */
    if (limits.maxBufferSize > ctx->policy.max_memory)
        limits.maxBufferSize = ctx->policy.max_memory;
    if (limits.maxStorageBufferBindingSize > ctx->policy.max_memory)
        limits.maxStorageBufferBindingSize = ctx->policy.max_memory;
    const uint32_t shapes[] = {WGV_SHAPE_AdapterInfo, WGV_SHAPE_Limits, WGV_SHAPE_SupportedFeatures};
    const void *const args[] = {&info, &limits, &features};
    wgv_host_send_reply(ctx, WGV_REPLY_ADAPTER_STATE, 0, handle, shapes, args, 3);
    ctx->procs->adapterInfoFreeMembers(info);
    ctx->procs->supportedFeaturesFreeMembers(features);
}

static void send_device_state(struct wgv_context *ctx, void *device, uint64_t handle)
{
    WGPULimits limits = WGPU_LIMITS_INIT;
    WGPUSupportedFeatures features = WGPU_SUPPORTED_FEATURES_INIT;
    ctx->procs->deviceGetLimits(device, &limits);
    ctx->procs->deviceGetFeatures(device, &features);
    const uint32_t shapes[] = {WGV_SHAPE_Limits, WGV_SHAPE_SupportedFeatures};
    const void *const args[] = {&limits, &features};
    wgv_host_send_reply(ctx, WGV_REPLY_DEVICE_STATE, 0, handle, shapes, args, 2);
    ctx->procs->supportedFeaturesFreeMembers(features);
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
                fence_retire_later(ctx, p->fence);
        }
        pending_free(ctx, p);
        return;
    }
    if (ctx->closing) {
        if (object && callback_object_type(callback))
            wgv_host_release_object(ctx, callback_object_type(callback), object);
        if (!p->repeat) {
            if (p->buffer)
                ctx->procs->bufferRelease(p->buffer);
            pending_free(ctx, p);
        }
        return;
    }
    struct wgv_hcb_RequestAdapterCallback withheld;
    if (callback == WGV_CB_RequestAdapterCallback && object && !adapter_allowed(ctx, object)) {
        ctx->procs->adapterRelease(object);
        object = NULL;
        withheld = adapter_unavailable(WGV_NULL_ONLY);
        args = &withheld;
    }
    unsigned type = callback_object_type(callback);
    if (type && p->result) {
        struct wgv_slot *s = wgv_objects_get(&ctx->objects, type, p->result);
        if (object && s && s->state == WGV_SLOT_AWAITING) {
            wgv_host_store(ctx, type, p->result, object);
            if (callback == WGV_CB_RequestAdapterCallback) {
                send_adapter_state(ctx, object, p->result);
            } else if (callback == WGV_CB_RequestDeviceCallback) {
                void *queue = ctx->procs->deviceGetQueue(object);
                wgv_host_store(ctx, WGV_OBJ_Queue, p->queue, queue);
                struct wgv_slot *q = wgv_objects_get(&ctx->objects, WGV_OBJ_Queue, p->queue);
                if (q)
                    q->device = p->result;
                send_device_state(ctx, object, p->result);
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
                memcpy(ctx->io.bulk + p->shm_offset, src, p->map_size);
        }
        ctx->procs->bufferRelease(p->buffer);
        p->buffer = NULL;
    }
    if (callback == WGV_CB_DeviceLostCallback && ctx->error_device == object)
        ctx->error_device = NULL;
    const uint32_t shape = wgv_callback_shape[callback];
    wgv_host_send_reply(ctx, WGV_REPLY_CALLBACK, callback, p->key, &shape, &args, 1);
    if (!p->repeat)
        pending_free(ctx, p);
}

/* ---------------------------------------------------------------- decode */

/* The handle of the device a command concerns: its receiver, or the
 * receiver's device (0 for commands of the instance or an adapter). */
static uint64_t command_device_handle(struct wgv_context *ctx)
{
    if (!ctx->cmd_receiver)
        return 0;
    if (ctx->cmd_receiver_type == WGV_OBJ_Device)
        return ctx->cmd_receiver_handle;
    return ctx->cmd_receiver->device;
}

/* That device's backend object if it is still alive. Objects only name
 * their device's handle: a device the guest released is gone, and an error
 * object outliving it must not lead to it. */
static void *command_device(struct wgv_context *ctx)
{
    struct wgv_slot *d = wgv_objects_get(&ctx->objects, WGV_OBJ_Device, command_device_handle(ctx));
    return d && d->state == WGV_SLOT_LIVE ? d->handle : NULL;
}

static void report_error(struct wgv_context *ctx, WGPUErrorType type, const char *what)
{
    void *device = command_device(ctx);
    /* A command of the instance or an adapter concerns no device: the
     * context's first one hears of it. One whose device is gone is
     * reported nowhere, as its device would have been lost. */
    if (!device && !command_device_handle(ctx))
        device = ctx->error_device;
    if (device)
        ctx->procs->deviceInjectError(device, type, (WGPUStringView){what, strlen(what)});
}

/* Host memory charged for an object beyond what it is given explicitly:
 * rough upper bounds of what the backend keeps for it. */
static uint64_t object_cost(unsigned type)
{
    switch (type) {
    case WGV_OBJ_Device: return 32ull << 20;
    case WGV_OBJ_Adapter: return 1ull << 20;
    case WGV_OBJ_ComputePipeline:
    case WGV_OBJ_RenderPipeline: return 1ull << 20;
    case WGV_OBJ_ShaderModule: return 256ull << 10;
    case WGV_OBJ_Buffer:
    case WGV_OBJ_Texture: return 0; /* charged by their size */
    default: return 4096;
    }
}

/* The object type of the i-th object a command creates. */
static unsigned claim_type(unsigned shape, unsigned i)
{
    const struct wgv_shape *s = &wgv_host_abi.shapes[shape];
    unsigned n = 0;
    for (uint16_t m = 0; m < s->member_count; m++)
        if (s->members[m].kind == WGV_K_NEW_OBJECT && n++ == i)
            return s->members[m].type;
    return WGV_OBJ_NONE;
}

static bool charge(struct wgv_context *ctx, uint64_t bytes, const char *what);

/* A skipped command's future is still answered, once, with a failure: an
 * application waits for every callback it asked for. */
static void answer_failed(struct wgv_context *ctx, unsigned callback, uint64_t key,
                          const char *const *statuses)
{
    const struct wgv_shape *s = &wgv_host_abi.shapes[wgv_callback_shape[callback]];
    _Alignas(16) uint8_t args[256];
    _Alignas(16) uint8_t zero[256];
    if (s->size > sizeof(args))
        return;
    memset(args, 0, sizeof(args));
    memset(zero, 0, sizeof(zero));
    static const char text[] = "the command named an invalid object or went past a quota";
    for (uint16_t i = 0; i < s->member_count; i++) {
        const struct wgv_member *m = &s->members[i];
        if (m->flags & WGV_M_ABSENT)
            continue;
        if (m->kind == WGV_K_ENUM) {
            /* The first of the preferred entries this enum has. */
            const struct wgv_enum *e = &wgv_host_abi.enums[m->type];
            for (const char *const *want = statuses; *want; want++) {
                uint32_t w;
                for (w = 0; w < e->count; w++) {
                    const char *n = wgv_enum_entry_name(m->type, w);
                    if (n && !strcmp(n, *want))
                        break;
                }
                if (w < e->count) {
                    memcpy(args + m->offset, &e->native[w], 4);
                    break;
                }
            }
        } else if (m->kind == WGV_K_STRING) {
            WGPUStringView v = {text, sizeof(text) - 1};
            memcpy(args + m->offset, &v, sizeof(v));
        } else if (m->kind == WGV_K_STRUCT_PTR) {
            const uint8_t *p = zero; /* an empty struct (no messages) */
            memcpy(args + m->offset, &p, sizeof(p));
        }
    }
    const uint32_t shape = wgv_callback_shape[callback];
    const void *a = args;
    wgv_host_send_reply(ctx, WGV_REPLY_CALLBACK, callback, key, &shape, &a, 1);
}

static void answer_skipped(struct wgv_context *ctx, unsigned opcode, const void *args)
{
    static const char *const failed[] = {"Error", "ValidationError", "CallbackCancelled", NULL};
    static const char *const creation[] = {"FailedCreation", NULL};
    unsigned callback = wgv_command_callback[opcode];
    if (!callback)
        return;
    const struct wgv_shape *s = &wgv_host_abi.shapes[wgv_command_shape[opcode]];
    bool first = true;
    for (uint16_t i = 0; i < s->member_count; i++) {
        const struct wgv_member *m = &s->members[i];
        if (m->kind != WGV_K_FUTURE)
            continue;
        uint64_t key;
        memcpy(&key, (const uint8_t *)args + m->offset, 8);
        if (first)
            answer_failed(ctx, callback, key, failed);
        else if (opcode == WGV_OP_wgpuAdapterRequestDevice && !strcmp(m->name, "lost_future"))
            answer_failed(ctx, WGV_CB_DeviceLostCallback, key, creation);
        first = false;
    }
}

static bool run_command(struct wgv_context *ctx, const uint8_t *cmd, size_t size)
{
    struct wgv_cmd_header h;
    memcpy(&h, cmd, sizeof(h));
    if (h.opcode == 0 || h.opcode >= WGV_OP_COUNT || !wgv_host_exec[h.opcode]) {
        wgv_context_fail(ctx, "decode: unknown opcode %u", h.opcode);
        return false;
    }
    unsigned shape = wgv_command_shape[h.opcode];
    void *args = wgv_arena_alloc(&ctx->arena, wgv_host_abi.shapes[shape].size, 16);
    if (!args) {
        wgv_context_fail(ctx, "decode: out of memory");
        return false;
    }
    struct wgv_reader r;
    wgv_reader_init(&r, cmd + sizeof(h), size - sizeof(h));
    ctx->cmd_claims = 0;
    ctx->cmd_error_object = false;
    ctx->cmd_over_quota = false;
    ctx->cmd_claim_why = NULL;
    ctx->cmd_receiver = NULL;
    if (!wgv_decode(&wgv_host_abi, &ctx->ops, shape, args, &r, &ctx->arena)) {
        /* A refused claim is the decoder's last step: say why. */
        wgv_context_fail(ctx, "decode: %s: %s%s%s", wgv_command_name[h.opcode], r.error,
                         ctx->cmd_claim_why ? ": " : "",
                         ctx->cmd_claim_why ? ctx->cmd_claim_why : "");
        return false;
    }
    if (r.pos != r.len) {
        wgv_context_fail(ctx, "decode: %s: %zu bytes left over", wgv_command_name[h.opcode],
                         r.len - r.pos);
        return false;
    }
    /* Host memory the new objects will hold, beyond what their own
     * handlers charge (buffers, textures): a flood of devices or pipelines
     * must hit the quota too. */
    uint64_t cost = 0;
    for (unsigned i = 0; i < ctx->cmd_claims; i++)
        cost += object_cost(claim_type(shape, i));
    bool ran = false;
    char msg[192];
    if (ctx->cmd_over_quota) {
        snprintf(msg, sizeof(msg), "%s: this context already holds %u objects, its limit",
                 wgv_command_name[h.opcode], ctx->policy.max_objects);
        report_error(ctx, WGPUErrorType_OutOfMemory, msg);
    } else if (r.unsupported[0] || ctx->cmd_error_object) {
        snprintf(msg, sizeof(msg), "%s: %s", wgv_command_name[h.opcode],
                 r.unsupported[0] ? r.unsupported : "an argument is an invalid object");
        report_error(ctx, WGPUErrorType_Validation, msg);
    } else if (charge(ctx, cost, wgv_command_name[h.opcode])) {
        wgv_host_exec[h.opcode](ctx, args);
        ran = true;
    }
    if (!ran)
        answer_skipped(ctx, h.opcode, args);
    /* Objects the command made belong to its device and carry their cost;
     * those it should have made and did not are error objects. */
    uint64_t device = command_device_handle(ctx);
    for (unsigned i = 0; i < ctx->cmd_claims; i++) {
        struct wgv_slot *c = ctx->cmd_claim[i];
        c->device = device;
        if (ran)
            c->bytes += object_cost(claim_type(shape, i));
        if (c->state == WGV_SLOT_RESERVED)
            c->state = WGV_SLOT_ERROR;
    }
    return !ctx->lost;
}

int wgv_context_submit(struct wgv_context *ctx, const void *bytes, size_t len)
{
    if (ctx->lost)
        return -1;
    /* One private copy: the guest may rewrite shared memory while we decode. */
    if (len > ctx->cmd_copy_cap) {
        uint8_t *c = realloc(ctx->cmd_copy, len);
        if (!c) {
            wgv_context_fail(ctx, "out of memory for %zu command bytes", len);
            return -1;
        }
        ctx->cmd_copy = c;
        ctx->cmd_copy_cap = len;
    }
    memcpy(ctx->cmd_copy, bytes, len);
    return wgv_context_submit_copied(ctx, ctx->cmd_copy, len);
}

int wgv_context_submit_copied(struct wgv_context *ctx, const void *bytes, size_t len)
{
    if (ctx->lost)
        return -1;
    ctx->ran = true;
    const uint8_t *cmds = bytes;
    size_t pos = 0;
    while (pos < len) {
        uint32_t size;
        if (len - pos < sizeof(struct wgv_cmd_header)) {
            wgv_context_fail(ctx, "decode: %zu trailing bytes are not a command", len - pos);
            return -1;
        }
        memcpy(&size, cmds + pos, 4);
        if (size < sizeof(struct wgv_cmd_header) || size % 8 || size > len - pos) {
            wgv_context_fail(ctx, "decode: command size %u at byte %zu is invalid (%zu left)",
                             size, pos, len - pos);
            return -1;
        }
        bool ok = run_command(ctx, cmds + pos, size);
        wgv_arena_reset(&ctx->arena);
        if (!ok)
            return -1;
        pos += size;
    }
    return 0;
}

/* ----------------------------------------------------- hand-written commands */

void wgv_host_exec_wgvRelease(struct wgv_context *ctx, struct wgv_ha_wgvRelease *a)
{
    struct wgv_slot *s = wgv_objects_get(&ctx->objects, a->object_type, a->object);
    if (!s || s->state == WGV_SLOT_RESERVED || s->state == WGV_SLOT_AWAITING) {
        wgv_context_fail(ctx, "release of %s %u (generation %u), which is not live",
                         a->object_type < WGV_OBJ_COUNT ? wgv_object_type_name[a->object_type] : "?",
                         wgv_handle_id(a->object), wgv_handle_gen(a->object));
        return;
    }
    if (a->object_type == WGV_OBJ_Instance)
        return; /* the context's own; it goes with the context */
    ctx->memory_used -= s->bytes;
    if (s->state == WGV_SLOT_LIVE) {
        if (s->handle == ctx->error_device)
            ctx->error_device = NULL;
        if (a->object_type == WGV_OBJ_Buffer) {
            /* The guest dropped its last reference, which destroys the buffer
             * natively; the reference a pending map holds here must not keep
             * it alive, or the map would succeed instead of aborting. */
            for (struct wgv_pending *p = ctx->pending.next; p != &ctx->pending; p = p->next) {
                if (p->buffer == s->handle) {
                    ctx->procs->bufferDestroy(s->handle);
                    break;
                }
            }
        }
        wgv_host_release_object(ctx, a->object_type, s->handle);
    }
    wgv_objects_free(&ctx->objects, a->object_type, s);
}

void wgv_host_exec_wgpuInstanceRequestAdapter(struct wgv_context *ctx,
                                              struct wgv_ha_wgpuInstanceRequestAdapter *a)
{
    WGPURequestAdapterOptions options = WGPU_REQUEST_ADAPTER_OPTIONS_INIT;
    if (a->options)
        options = *a->options;
    if (ctx->host->config.force_backend)
        options.backendType = (WGPUBackendType)ctx->host->config.force_backend;
    struct wgv_pending *p = wgv_host_pending_new(ctx, WGV_CB_RequestAdapterCallback,
                                                 a->callbackInfo_future, a->result, false);
    if (!p)
        return;
    if (options.backendType == WGPUBackendType_Null && !wgv_host_allows_null_adapter(ctx->host)) {
        struct wgv_hcb_RequestAdapterCallback no = adapter_unavailable(WGV_NULL_NOT_OFFERED);
        wgv_host_callback(ctx, p, WGV_CB_RequestAdapterCallback, &no, NULL);
        return;
    }
    WGPURequestAdapterCallbackInfo ci = WGPU_REQUEST_ADAPTER_CALLBACK_INFO_INIT;
    ci.mode = WGPUCallbackMode_AllowProcessEvents;
    ci.callback = wgv_hcb_RequestAdapterCallback_thunk;
    ci.userdata1 = ctx;
    ci.userdata2 = p;
    ctx->procs->instanceRequestAdapter(a->instance, &options, ci);
}

void wgv_host_exec_wgpuAdapterRequestDevice(struct wgv_context *ctx,
                                            struct wgv_ha_wgpuAdapterRequestDevice *a)
{
    WGPUDeviceDescriptor desc = WGPU_DEVICE_DESCRIPTOR_INIT;
    WGPULimits limits;
    if (a->descriptor)
        desc = *a->descriptor;
    if (desc.requiredLimits) {
        /* Requests above the policy get the policy (the adapter said so). */
        limits = *desc.requiredLimits;
        if (limits.maxBufferSize != WGPU_LIMIT_U64_UNDEFINED && limits.maxBufferSize > ctx->policy.max_memory)
            limits.maxBufferSize = ctx->policy.max_memory;
        if (limits.maxStorageBufferBindingSize != WGPU_LIMIT_U64_UNDEFINED &&
            limits.maxStorageBufferBindingSize > ctx->policy.max_memory)
            limits.maxStorageBufferBindingSize = ctx->policy.max_memory;
        desc.requiredLimits = &limits;
    }
    struct wgv_pending *lost = wgv_host_pending_new(ctx, WGV_CB_DeviceLostCallback,
                                                    a->lost_future, 0, false);
    struct wgv_pending *error = wgv_host_pending_new(ctx, WGV_CB_UncapturedErrorCallback,
                                                     a->error_future, 0, true);
    struct wgv_pending *p = wgv_host_pending_new(ctx, WGV_CB_RequestDeviceCallback,
                                                 a->callbackInfo_future, a->result, false);
    if (!lost || !error || !p)
        return;
    p->queue = a->queue;
    desc.deviceLostCallbackInfo.mode = WGPUCallbackMode_AllowProcessEvents;
    desc.deviceLostCallbackInfo.callback = wgv_hcb_DeviceLostCallback_thunk;
    desc.deviceLostCallbackInfo.userdata1 = ctx;
    desc.deviceLostCallbackInfo.userdata2 = lost;
    desc.uncapturedErrorCallbackInfo.callback = wgv_hcb_UncapturedErrorCallback_thunk;
    desc.uncapturedErrorCallbackInfo.userdata1 = ctx;
    desc.uncapturedErrorCallbackInfo.userdata2 = error;
    WGPURequestDeviceCallbackInfo ci = WGPU_REQUEST_DEVICE_CALLBACK_INFO_INIT;
    ci.mode = WGPUCallbackMode_AllowProcessEvents;
    ci.callback = wgv_hcb_RequestDeviceCallback_thunk;
    ci.userdata1 = ctx;
    ci.userdata2 = p;
    ctx->procs->adapterRequestDevice(a->adapter, &desc, ci);
}

void wgv_host_exec_wgpuBufferMapAsync(struct wgv_context *ctx, struct wgv_ha_wgpuBufferMapAsync *a)
{
    /* stream: the guest reads the mapping in chunks (wgvBufferReadMapped)
     * and names no bulk range here. */
    if (a->stream > 1) {
        wgv_context_fail(ctx, "mapAsync: stream flag %u is not 0 or 1", a->stream);
        return;
    }
    if (!a->stream && !ops_bulk_get(ctx, a->shm_offset, a->size)) {
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
    p->map_size = a->stream ? 0 : a->size; /* what the callback copies */
    p->shm_offset = a->shm_offset;
    ctx->procs->bufferAddRef(a->buffer);
    WGPUBufferMapCallbackInfo ci = WGPU_BUFFER_MAP_CALLBACK_INFO_INIT;
    ci.mode = WGPUCallbackMode_AllowProcessEvents;
    ci.callback = wgv_hcb_BufferMapCallback_thunk;
    ci.userdata1 = ctx;
    ci.userdata2 = p;
    ctx->procs->bufferMapAsync(a->buffer, a->mode, a->offset, a->size, ci);
}

void wgv_host_exec_wgpuBufferUnmap(struct wgv_context *ctx, struct wgv_ha_wgpuBufferUnmap *a)
{
    if (a->shm_size) {
        const void *src = ops_bulk_get(ctx, a->shm_offset, a->shm_size);
        if (!src || a->shm_size > SIZE_MAX || a->map_offset > SIZE_MAX) {
            wgv_context_fail(ctx, "unmap: shared-memory range %llu+%llu is out of bounds",
                             (unsigned long long)a->shm_offset, (unsigned long long)a->shm_size);
            return;
        }
        /* The backend says whether that range is mapped for writing. */
        void *dst = ctx->procs->bufferGetMappedRange(a->buffer, (size_t)a->map_offset,
                                                     (size_t)a->shm_size);
        if (dst)
            memcpy(dst, src, a->shm_size);
    }
    ctx->procs->bufferUnmap(a->buffer);
}

/* ------------------------------------------------------------ quotas */

/* Charges `bytes` to the context's memory, or reports out-of-memory on the
 * command's device and returns false (the result becomes an error object). */
static bool charge(struct wgv_context *ctx, uint64_t bytes, const char *what)
{
    if (bytes <= ctx->policy.max_memory && ctx->memory_used <= ctx->policy.max_memory - bytes) {
        ctx->memory_used += bytes;
        return true;
    }
    char msg[192];
    snprintf(msg, sizeof(msg), "%s of %llu bytes: this context's memory limit is %llu bytes "
             "(%llu in use)", what, (unsigned long long)bytes,
             (unsigned long long)ctx->policy.max_memory, (unsigned long long)ctx->memory_used);
    report_error(ctx, WGPUErrorType_OutOfMemory, msg);
    return false;
}

static void store_charged(struct wgv_context *ctx, unsigned type, uint64_t handle, void *object,
                          uint64_t bytes)
{
    wgv_host_store(ctx, type, handle, object);
    struct wgv_slot *s = wgv_objects_get(&ctx->objects, type, handle);
    if (s && s->state == WGV_SLOT_LIVE)
        s->bytes = bytes;
    else
        ctx->memory_used -= bytes;
}

/* Whether the backend itself refuses a buffer or texture for the device's
 * limits: then it reports its own validation error, as natively, and the
 * quota has nothing to add. */
static bool beyond_device_limits(struct wgv_context *ctx, void *device, uint64_t buffer_size,
                                 const WGPUTextureDescriptor *t)
{
    WGPULimits l = WGPU_LIMITS_INIT;
    if (ctx->procs->deviceGetLimits(device, &l) != WGPUStatus_Success)
        return false;
    if (!t)
        return buffer_size > l.maxBufferSize;
    uint32_t w = t->size.width, h = t->size.height, d = t->size.depthOrArrayLayers;
    switch (t->dimension) {
    case WGPUTextureDimension_1D:
        return w > l.maxTextureDimension1D;
    case WGPUTextureDimension_3D:
        return w > l.maxTextureDimension3D || h > l.maxTextureDimension3D ||
               d > l.maxTextureDimension3D;
    default:
        return w > l.maxTextureDimension2D || h > l.maxTextureDimension2D ||
               d > l.maxTextureArrayLayers;
    }
}

void wgv_host_exec_wgpuDeviceCreateBuffer(struct wgv_context *ctx,
                                          struct wgv_ha_wgpuDeviceCreateBuffer *a)
{
    uint64_t bytes = a->descriptor ? a->descriptor->size : 0;
    /* A buffer mapped at creation gets host memory for its mapping even
     * when it is an error buffer, so only an unmapped one may be left to
     * the backend's own limit check. */
    if (bytes > ctx->policy.max_memory - ctx->memory_used && !a->descriptor->mappedAtCreation &&
        beyond_device_limits(ctx, a->device, bytes, NULL))
        bytes = 0; /* the backend refuses it and allocates nothing */
    if (!charge(ctx, bytes, "createBuffer"))
        return;
    store_charged(ctx, WGV_OBJ_Buffer, a->result,
                  ctx->procs->deviceCreateBuffer(a->device, a->descriptor), bytes);
}

/* An upper bound of a texture's memory: 16 bytes a texel (the largest
 * format), every mip level, every sample. */
static uint64_t texture_bytes(const WGPUTextureDescriptor *d)
{
    uint64_t w = d->size.width, h = d->size.height, l = d->size.depthOrArrayLayers;
    uint64_t total = 0;
    uint32_t mips = d->mipLevelCount ? d->mipLevelCount : 1;
    for (uint32_t m = 0; m < mips && m < 32; m++) {
        uint64_t texels = (w ? w : 1) * (h ? h : 1);
        if (texels > UINT64_MAX / 16 / (l ? l : 1))
            return UINT64_MAX;
        uint64_t level = texels * (l ? l : 1) * 16;
        if (level > UINT64_MAX - total)
            return UINT64_MAX;
        total += level;
        w >>= 1, h >>= 1;
        if (d->dimension == WGPUTextureDimension_3D)
            l >>= 1;
    }
    uint64_t samples = d->sampleCount ? d->sampleCount : 1;
    return total > UINT64_MAX / samples ? UINT64_MAX : total * samples;
}

void wgv_host_exec_wgpuDeviceCreateTexture(struct wgv_context *ctx,
                                           struct wgv_ha_wgpuDeviceCreateTexture *a)
{
    uint64_t bytes = a->descriptor ? texture_bytes(a->descriptor) : 0;
    if (bytes > ctx->policy.max_memory - ctx->memory_used &&
        beyond_device_limits(ctx, a->device, 0, a->descriptor))
        bytes = 0; /* the backend refuses it and allocates nothing */
    if (!charge(ctx, bytes, "createTexture"))
        return;
    store_charged(ctx, WGV_OBJ_Texture, a->result,
                  ctx->procs->deviceCreateTexture(a->device, a->descriptor), bytes);
}

void wgv_host_exec_wgpuDeviceCreateShaderModule(struct wgv_context *ctx,
                                                struct wgv_ha_wgpuDeviceCreateShaderModule *a)
{
    uint64_t source = 0;
    for (const WGPUChainedStruct *c = a->descriptor ? a->descriptor->nextInChain : NULL; c;
         c = c->next) {
        if (c->sType == WGPUSType_ShaderSourceWGSL)
            source += ((const WGPUShaderSourceWGSL *)c)->code.length;
        else if (c->sType == WGPUSType_ShaderSourceSPIRV)
            source += (uint64_t)((const WGPUShaderSourceSPIRV *)c)->codeSize * 4;
    }
    if (source > ctx->policy.max_shader_bytes) {
        char msg[160];
        snprintf(msg, sizeof(msg), "createShaderModule: %llu bytes of source exceed this "
                 "context's limit of %llu", (unsigned long long)source,
                 (unsigned long long)ctx->policy.max_shader_bytes);
        report_error(ctx, WGPUErrorType_Validation, msg);
        return;
    }
    wgv_host_store(ctx, WGV_OBJ_ShaderModule, a->result,
                   ctx->procs->deviceCreateShaderModule(a->device, a->descriptor));
}

/* ------------------------------------------- for transfer.c (large transfers) */

void wgv_host_report_error(struct wgv_context *ctx, WGPUErrorType type, const char *what)
{
    report_error(ctx, type, what);
}

bool wgv_host_bulk_range_ok(const struct wgv_context *ctx, uint64_t offset, uint64_t size)
{
    return ctx->io.bulk && offset <= ctx->io.bulk_size && size <= ctx->io.bulk_size - offset;
}
