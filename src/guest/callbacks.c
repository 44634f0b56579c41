/* Replies become callbacks: decode, apply their effect on guest state (map
 * state, adapter and device state, results of async creation), call the
 * application. */
#include <stdlib.h>
#include <string.h>

#include "guest.h"
#include "protocol.h"
#include "transfer.h"

void wgv_future_fire(struct wgv_client *c, struct wgv_future *f);
void wgv_apply_state(struct wgv_client *c, const struct wgv_reply_header *h, const void *body,
                     size_t len);

/* Which callbacks deliver an object, and what success is, come from the
 * descriptions (api/wiregen.py). */
static bool callback_succeeded(unsigned cb, const void *args)
{
    return wgv_guest_callback_succeeded(cb, args);
}

static bool delivers_object(unsigned cb)
{
    return cb < WGV_CB_COUNT && wgv_callback_delivers[cb] != WGV_OBJ_NONE;
}

#define SET_ARGS(type, ...)                                                      \
    do {                                                                         \
        if (cap < sizeof(struct type))                                           \
            return false;                                                        \
        *(struct type *)args = (struct type){__VA_ARGS__};                       \
    } while (0)

bool wgv_lost_callback_args(unsigned cb, WGPUDeviceLostReason why, const char *message,
                            void *args, size_t cap)
{
    /* As measured natively on a destroyed device (tests/parity/
     * device_destroy.c, teardown.c): maps abort, work done and error scopes
     * succeed with nothing to report, async pipelines succeed with an object
     * that is as lost as its device, compilation info is empty. */
    static const WGPUCompilationInfo no_messages = WGPU_COMPILATION_INFO_INIT;
    WGPUStringView msg = {message, WGPU_STRLEN};
    WGPUStringView none = {"", 0};
    memset(args, 0, cap);
    switch (cb) {
    case WGV_CB_BufferMapCallback:
        SET_ARGS(wgv_gcb_BufferMapCallback, WGPUMapAsyncStatus_Aborted, msg);
        return true;
    case WGV_CB_CompilationInfoCallback:
        SET_ARGS(wgv_gcb_CompilationInfoCallback, WGPUCompilationInfoRequestStatus_Success,
                 &no_messages);
        return true;
    case WGV_CB_CreateComputePipelineAsyncCallback:
        SET_ARGS(wgv_gcb_CreateComputePipelineAsyncCallback, WGPUCreatePipelineAsyncStatus_Success,
                 none);
        return true;
    case WGV_CB_CreateRenderPipelineAsyncCallback:
        SET_ARGS(wgv_gcb_CreateRenderPipelineAsyncCallback, WGPUCreatePipelineAsyncStatus_Success,
                 none);
        return true;
    case WGV_CB_DeviceLostCallback:
        SET_ARGS(wgv_gcb_DeviceLostCallback, why, msg);
        return true;
    case WGV_CB_PopErrorScopeCallback:
        SET_ARGS(wgv_gcb_PopErrorScopeCallback, WGPUPopErrorScopeStatus_Success,
                 WGPUErrorType_NoError, none);
        return true;
    case WGV_CB_QueueWorkDoneCallback:
        SET_ARGS(wgv_gcb_QueueWorkDoneCallback, WGPUQueueWorkDoneStatus_Success, none);
        return true;
    case WGV_CB_RequestAdapterCallback:
        SET_ARGS(wgv_gcb_RequestAdapterCallback, WGPURequestAdapterStatus_Error, msg);
        return true;
    case WGV_CB_RequestDeviceCallback:
        SET_ARGS(wgv_gcb_RequestDeviceCallback, WGPURequestDeviceStatus_Error, msg);
        return true;
    default:
        return false; /* uncaptured errors: nothing more is reported */
    }
}

bool wgv_cancelled_callback_args(unsigned cb, const char *message, void *args, size_t cap)
{
    WGPUStringView msg = {message, WGPU_STRLEN};
    memset(args, 0, cap);
    switch (cb) {
    case WGV_CB_BufferMapCallback:
        SET_ARGS(wgv_gcb_BufferMapCallback, WGPUMapAsyncStatus_CallbackCancelled, msg);
        return true;
    case WGV_CB_CompilationInfoCallback:
        SET_ARGS(wgv_gcb_CompilationInfoCallback, WGPUCompilationInfoRequestStatus_CallbackCancelled,
                 NULL);
        return true;
    case WGV_CB_CreateComputePipelineAsyncCallback:
        SET_ARGS(wgv_gcb_CreateComputePipelineAsyncCallback,
                 WGPUCreatePipelineAsyncStatus_CallbackCancelled, msg);
        return true;
    case WGV_CB_CreateRenderPipelineAsyncCallback:
        SET_ARGS(wgv_gcb_CreateRenderPipelineAsyncCallback,
                 WGPUCreatePipelineAsyncStatus_CallbackCancelled, msg);
        return true;
    case WGV_CB_DeviceLostCallback:
        SET_ARGS(wgv_gcb_DeviceLostCallback, WGPUDeviceLostReason_CallbackCancelled, msg);
        return true;
    case WGV_CB_PopErrorScopeCallback:
        SET_ARGS(wgv_gcb_PopErrorScopeCallback, WGPUPopErrorScopeStatus_CallbackCancelled,
                 WGPUErrorType_NoError, msg);
        return true;
    case WGV_CB_QueueWorkDoneCallback:
        SET_ARGS(wgv_gcb_QueueWorkDoneCallback, WGPUQueueWorkDoneStatus_CallbackCancelled, msg);
        return true;
    case WGV_CB_RequestAdapterCallback:
        SET_ARGS(wgv_gcb_RequestAdapterCallback, WGPURequestAdapterStatus_CallbackCancelled, msg);
        return true;
    case WGV_CB_RequestDeviceCallback:
        SET_ARGS(wgv_gcb_RequestDeviceCallback, WGPURequestDeviceStatus_CallbackCancelled, msg);
        return true;
    default:
        return false;
    }
}

#undef SET_ARGS

static void map_done(struct wgv_client *c, struct wgv_buffer *b, uint64_t future, bool ok)
{
    pthread_mutex_lock(&c->lock);
    if (b->map_future == future) {
        b->map_future = 0;
        if (ok) {
            b->map_state = WGPUBufferMapState_Mapped;
            wgv_map_write_confirmed(b, b->has_shm ? c->t->bulk + b->shm_offset : NULL);
        } else {
            b->map_state = WGPUBufferMapState_Unmapped;
            if (b->has_shm) {
                wgv_bulk_release(&c->bulk, b->shm_offset, b->shm_size);
                b->has_shm = false;
            }
            wgv_transfer_private_free(b);
        }
    }
    pthread_mutex_unlock(&c->lock);
}

void wgv_future_fire(struct wgv_client *c, struct wgv_future *f)
{
    unsigned shape = wgv_callback_shape[f->callback];
    const struct wgv_shape *s = &wgv_guest_abi.shapes[shape];
    _Alignas(16) uint8_t args[256];
    struct wgv_arena arena;
    wgv_arena_init(&arena, 1u << 26);
    struct wgv_reader r;
    const struct wgv_reply_header *h = f->reply;
    wgv_reader_init(&r, (const uint8_t *)f->reply + sizeof(*h), f->reply_len - sizeof(*h));
    bool decoded = s->size <= sizeof(args) &&
                   wgv_decode(&wgv_guest_abi, &c->ops, shape, args, &r, &arena);
    if (decoded) {
        bool ok = callback_succeeded(f->callback, args);
        void *obj = f->object;
        /* Before the application hears of it (it may map a buffer next). */
        if (f->callback == WGV_CB_QueueWorkDoneCallback &&
            ((struct wgv_gcb_QueueWorkDoneCallback *)args)->status == WGPUQueueWorkDoneStatus_Success)
            wgv_map_write_work_done(c, f);
        if (f->callback == WGV_CB_DeviceLostCallback && f->object)
            ((struct wgv_device *)f->object)->lost = true;
        if (f->callback == WGV_CB_BufferMapCallback) {
            /* A map the application ended first (unmap, destroy, release)
             * was completed as Aborted then, or, if the host had answered
             * already, is marked so: a success becomes Aborted. */
            struct wgv_gcb_BufferMapCallback *a = (void *)args;
            const char *why;
            if (f->aborted && a->status == WGPUMapAsyncStatus_Success) {
                a->status = WGPUMapAsyncStatus_Aborted;
                a->message = (WGPUStringView){"The buffer was unmapped or destroyed before the "
                                              "mapping was resolved.", WGPU_STRLEN};
            }
            /* A mapping in guest memory gets its bytes before the callback. */
            if (f->object && a->status == WGPUMapAsyncStatus_Success &&
                !wgv_transfer_pull(c, (struct wgv_buffer *)f->object, f->id, &why)) {
                a->status = WGPUMapAsyncStatus_Aborted;
                a->message = (WGPUStringView){why, WGPU_STRLEN};
            }
            if (f->object)
                map_done(c, (struct wgv_buffer *)f->object, f->id,
                         a->status == WGPUMapAsyncStatus_Success);
        }
        if (delivers_object(f->callback) && !ok && f->object) {
            /* The creation failed: the application gets NULL and the
             * reserved object (and a device's queue) goes away. */
            if (f->callback == WGV_CB_RequestDeviceCallback) {
                struct wgv_device *d = (struct wgv_device *)f->object;
                if (d->queue) {
                    wgv_object_release(d->queue);
                    d->queue = NULL;
                }
            }
            wgv_object_release(f->object);
            obj = NULL;
        }
        if (f->fn)
            wgv_guest_invoke_callback(f->callback, f->fn, args, obj, f->userdata1, f->userdata2);
    }
    wgv_arena_free(&arena);
    if (!f->weak)
        wgv_object_release(f->object);
    free(f->reply);
    free(f);
}

/* ------------------------------------------------------ adapter, device */

static struct wgv_object *awaited_object(struct wgv_client *c, unsigned cb, uint64_t handle)
{
    for (struct wgv_future *f = c->futures; f; f = f->next)
        if (f->callback == cb && f->object && wgv_object_handle(f->object) == handle)
            return f->object;
    return NULL;
}

WGPUStringView wgv_string_copy(WGPUStringView s)
{
    size_t n = s.data ? s.length : 0;
    char *p = malloc(n + 1);
    if (!p)
        return (WGPUStringView){NULL, 0};
    if (n)
        memcpy(p, s.data, n);
    p[n] = 0;
    return (WGPUStringView){p, n};
}

/* What the codec gives a value the standard has no name for (a feature of
 * the host's implementation only): such entries are left out of lists. */
#define WGV_UNNAMED_VALUE 0x7FFFFFFEu

void wgv_features_set(struct wgv_features *f, const WGPUFeatureName *names, size_t count)
{
    free(f->names);
    f->names = NULL;
    f->count = 0;
    if (!count)
        return;
    f->names = malloc(count * sizeof(*names));
    if (!f->names)
        return;
    for (size_t i = 0; i < count; i++)
        if ((uint32_t)names[i] != WGV_UNNAMED_VALUE)
            f->names[f->count++] = names[i];
}

bool wgv_features_has(const struct wgv_features *f, WGPUFeatureName name)
{
    for (size_t i = 0; i < f->count; i++)
        if (f->names[i] == name)
            return true;
    return false;
}

void wgv_features_get(const struct wgv_features *f, WGPUSupportedFeatures *out)
{
    out->featureCount = 0;
    out->features = NULL;
    if (!f->count)
        return;
    WGPUFeatureName *copy = malloc(f->count * sizeof(*copy));
    if (!copy)
        return;
    memcpy(copy, f->names, f->count * sizeof(*copy));
    out->features = copy;
    out->featureCount = f->count;
}

void wgv_apply_state(struct wgv_client *c, const struct wgv_reply_header *h, const void *body,
                     size_t len)
{
    /* Called with the client lock held. */
    struct wgv_reader r;
    struct wgv_arena arena;
    wgv_reader_init(&r, body, len);
    wgv_arena_init(&arena, 1u << 24);
    WGPUAdapterInfo info;
    WGPULimits limits;
    WGPUSupportedFeatures features;
    WGPUSupportedWGSLLanguageFeatures wgsl;
    if (h->kind == WGV_REPLY_INSTANCE_STATE) {
        if (wgv_decode(&wgv_guest_abi, &c->ops, WGV_SHAPE_SupportedWGSLLanguageFeatures, &wgsl, &r,
                       &arena)) {
            size_t n = wgsl.featureCount;
            free(c->wgsl_features);
            c->wgsl_features = n ? malloc(n * sizeof(*wgsl.features)) : NULL;
            c->wgsl_feature_count = 0;
            for (size_t i = 0; c->wgsl_features && i < n; i++)
                if ((uint32_t)wgsl.features[i] != WGV_UNNAMED_VALUE)
                    c->wgsl_features[c->wgsl_feature_count++] = wgsl.features[i];
            c->have_wgsl_features = true;
        }
    } else if (h->kind == WGV_REPLY_ADAPTER_STATE) {
        struct wgv_adapter *a = (struct wgv_adapter *)awaited_object(c, WGV_CB_RequestAdapterCallback, h->key);
        if (a && wgv_decode(&wgv_guest_abi, &c->ops, WGV_SHAPE_AdapterInfo, &info, &r, &arena) &&
            wgv_decode(&wgv_guest_abi, &c->ops, WGV_SHAPE_Limits, &limits, &r, &arena) &&
            wgv_decode(&wgv_guest_abi, &c->ops, WGV_SHAPE_SupportedFeatures, &features, &r, &arena)) {
            a->info = info;
            a->info.nextInChain = NULL;
            a->info.vendor = wgv_string_copy(info.vendor);
            a->info.architecture = wgv_string_copy(info.architecture);
            a->info.device = wgv_string_copy(info.device);
            a->info.description = wgv_string_copy(info.description);
            a->limits = limits;
            a->limits.nextInChain = NULL;
            wgv_features_set(&a->features, features.features, features.featureCount);
            wgv_front_adapter_state(a, &info);
            a->have_state = true;
        }
    } else {
        struct wgv_device *d = (struct wgv_device *)awaited_object(c, WGV_CB_RequestDeviceCallback, h->key);
        if (d && wgv_decode(&wgv_guest_abi, &c->ops, WGV_SHAPE_Limits, &limits, &r, &arena) &&
            wgv_decode(&wgv_guest_abi, &c->ops, WGV_SHAPE_SupportedFeatures, &features, &r, &arena)) {
            d->limits = limits;
            d->limits.nextInChain = NULL;
            wgv_features_set(&d->features, features.features, features.featureCount);
            d->have_state = true;
        }
    }
    wgv_arena_free(&arena);
}
