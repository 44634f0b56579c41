/* Shared helpers for the parity programs.
 *
 * Every parity program is built from the same source for each variant:
 * natively against the pinned Dawn (-DWGV_NATIVE, Dawn's header, linked to
 * Dawn), against the standard webgpu.h linked to the guest library, against
 * Dawn's header linked to its front, and against wgpu-native's headers
 * (-DWGV_WGPU_NATIVE) linked to its front. Only what the ABIs share is used
 * here: wgpuCreateInstance(NULL), callbacks in AllowProcessEvents mode, and
 * wgpuInstanceProcessEvents to drive them (no WaitAny, no instance
 * features). Through the wgpu-native front, adapter and device requests
 * and error-scope pops answer before they return, as wgpu-native does; the
 * programs wait the same way for both.
 *
 * A program's stdout is its transcript, compared byte for byte between the
 * builds: print results, statuses and error types, never pointers, times or
 * message texts. Failed checks go to stderr and make the program exit 1.
 */
#ifndef WGV_PARITY_UTIL_H
#define WGV_PARITY_UTIL_H

#if defined(WGV_NATIVE)
#include <wgv/backend-dawn.h>
#elif defined(WGV_WGPU_NATIVE)
#include <webgpu/wgpu.h>
#else
#include <webgpu/webgpu.h>
#endif

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- transcript and checks ---------------------------------------------- */

static int util_failures;

/* One transcript line. */
#define say(...) (printf(__VA_ARGS__), fputc('\n', stdout))

/* A check that is not part of the transcript: a failure is reported on
 * stderr with its line and makes finish() return 1. */
#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__,  \
                    #cond);                                                    \
            util_failures++;                                                   \
        }                                                                      \
    } while (0)

/* How many uncaptured errors the program means to cause (-1: any number).
 * finish() counts any other number as a failed check, so that a mistake
 * in a test's own setup cannot pass unnoticed. */
static int expect_uncaptured;
static inline int util_uncaptured_count(void);

/* Ends the transcript; returns the exit status. */
static inline int finish(void)
{
    int n = util_uncaptured_count();
    if (expect_uncaptured >= 0 && n != expect_uncaptured) {
        fprintf(stderr, "finish: %d uncaptured errors, expected %d\n", n, expect_uncaptured);
        util_failures++;
    }
    say("result: %s", util_failures ? "FAIL" : "ok");
    fflush(stdout);
    return util_failures ? 1 : 0;
}

static inline double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline WGPUStringView sv(const char *s)
{
    WGPUStringView v = {.data = s, .length = WGPU_STRLEN};
    return v;
}

/* ---- names for the enums a transcript prints ----------------------------- */

static inline const char *error_type_name(WGPUErrorType t)
{
    switch (t) {
    case WGPUErrorType_NoError: return "NoError";
    case WGPUErrorType_Validation: return "Validation";
    case WGPUErrorType_OutOfMemory: return "OutOfMemory";
    case WGPUErrorType_Internal: return "Internal";
    case WGPUErrorType_Unknown: return "Unknown";
    default: return "?";
    }
}

static inline const char *map_status_name(WGPUMapAsyncStatus s)
{
    switch (s) {
    case WGPUMapAsyncStatus_Success: return "Success";
    case WGPUMapAsyncStatus_CallbackCancelled: return "CallbackCancelled";
    case WGPUMapAsyncStatus_Error: return "Error";
    case WGPUMapAsyncStatus_Aborted: return "Aborted";
    default: return "?";
    }
}

static inline const char *map_state_name(WGPUBufferMapState s)
{
    switch (s) {
    case WGPUBufferMapState_Unmapped: return "Unmapped";
    case WGPUBufferMapState_Pending: return "Pending";
    case WGPUBufferMapState_Mapped: return "Mapped";
    default: return "?";
    }
}

static inline const char *lost_reason_name(WGPUDeviceLostReason r)
{
    switch (r) {
    case WGPUDeviceLostReason_Unknown: return "Unknown";
    case WGPUDeviceLostReason_Destroyed: return "Destroyed";
    case WGPUDeviceLostReason_CallbackCancelled: return "CallbackCancelled";
    case WGPUDeviceLostReason_FailedCreation: return "FailedCreation";
    default: return "?";
    }
}

static inline const char *pipeline_status_name(WGPUCreatePipelineAsyncStatus s)
{
    switch (s) {
    case WGPUCreatePipelineAsyncStatus_Success: return "Success";
    case WGPUCreatePipelineAsyncStatus_CallbackCancelled: return "CallbackCancelled";
    case WGPUCreatePipelineAsyncStatus_ValidationError: return "ValidationError";
    case WGPUCreatePipelineAsyncStatus_InternalError: return "InternalError";
    default: return "?";
    }
}

static inline const char *work_done_status_name(WGPUQueueWorkDoneStatus s)
{
    switch (s) {
    case WGPUQueueWorkDoneStatus_Success: return "Success";
    case WGPUQueueWorkDoneStatus_CallbackCancelled: return "CallbackCancelled";
    case WGPUQueueWorkDoneStatus_Error: return "Error";
    default: return "?";
    }
}

static inline const char *backend_name(WGPUBackendType b)
{
    switch (b) {
    case WGPUBackendType_Undefined: return "Undefined";
    case WGPUBackendType_Null: return "Null";
    case WGPUBackendType_WebGPU: return "WebGPU";
    case WGPUBackendType_D3D11: return "D3D11";
    case WGPUBackendType_D3D12: return "D3D12";
    case WGPUBackendType_Metal: return "Metal";
    case WGPUBackendType_Vulkan: return "Vulkan";
    case WGPUBackendType_OpenGL: return "OpenGL";
    case WGPUBackendType_OpenGLES: return "OpenGLES";
    default: return "?";
    }
}

static inline const char *adapter_type_name(WGPUAdapterType t)
{
    switch (t) {
    case WGPUAdapterType_DiscreteGPU: return "DiscreteGPU";
    case WGPUAdapterType_IntegratedGPU: return "IntegratedGPU";
    case WGPUAdapterType_CPU: return "CPU";
    case WGPUAdapterType_Unknown: return "Unknown";
    default: return "?";
    }
}

/* Texture format values differ between the two ABIs; names do not. */
static inline const char *format_name(WGPUTextureFormat f)
{
    switch (f) {
    case WGPUTextureFormat_Undefined: return "Undefined";
    case WGPUTextureFormat_R8Unorm: return "R8Unorm";
    case WGPUTextureFormat_RG8Unorm: return "RG8Unorm";
    case WGPUTextureFormat_R32Float: return "R32Float";
    case WGPUTextureFormat_R32Uint: return "R32Uint";
    case WGPUTextureFormat_RGBA8Unorm: return "RGBA8Unorm";
    case WGPUTextureFormat_RGBA8UnormSrgb: return "RGBA8UnormSrgb";
    case WGPUTextureFormat_RGBA8Uint: return "RGBA8Uint";
    case WGPUTextureFormat_BGRA8Unorm: return "BGRA8Unorm";
    case WGPUTextureFormat_RGBA16Float: return "RGBA16Float";
    case WGPUTextureFormat_RGBA32Float: return "RGBA32Float";
    case WGPUTextureFormat_Depth16Unorm: return "Depth16Unorm";
    case WGPUTextureFormat_Depth24Plus: return "Depth24Plus";
    case WGPUTextureFormat_Depth24PlusStencil8: return "Depth24PlusStencil8";
    case WGPUTextureFormat_Depth32Float: return "Depth32Float";
    default: return "other";
    }
}

/* ---- waiting on futures -------------------------------------------------- */

/* Seconds wait_until() waits before it gives up (WGV_PARITY_TIMEOUT). */
static inline double util_timeout_s(void)
{
    const char *e = getenv("WGV_PARITY_TIMEOUT");
    double t = e ? atof(e) : 0.0;
    return t > 0.0 ? t : 30.0;
}

/* Pumps wgpuInstanceProcessEvents until *flag becomes non-zero (callbacks run
 * inside that call, on this thread). Spins a little, then naps so that the
 * driver's own threads get the CPU. Returns 1, or 0 on timeout. */
static inline int wait_until(WGPUInstance instance, volatile int *flag)
{
    double deadline = 0.0;
    for (unsigned i = 0; !*flag; i++) {
        wgpuInstanceProcessEvents(instance);
        if (*flag)
            break;
        if (i < 64)
            continue;
        if (deadline == 0.0)
            deadline = now_s() + util_timeout_s();
        else if (now_s() > deadline) {
            fprintf(stderr, "wait_until: timed out\n");
            return 0;
        }
        struct timespec nap = {0, 100 * 1000};
        nanosleep(&nap, NULL);
    }
    return 1;
}

/* Processes events a few times without waiting for anything in particular:
 * used to show that nothing fires. */
static inline void pump_events(WGPUInstance instance, int rounds)
{
    for (int i = 0; i < rounds; i++) {
        wgpuInstanceProcessEvents(instance);
        struct timespec nap = {0, 1000 * 1000};
        nanosleep(&nap, NULL);
    }
}

/* ---- instance, adapter, device ------------------------------------------- */

struct ctx {
    WGPUInstance instance;
    WGPUAdapter adapter;
    WGPUDevice device;
    WGPUQueue queue;
};

/* What the device-level callbacks saw; a program prints from here only after
 * it waited, so that the transcript does not depend on when they arrive. */
struct device_events {
    int lost;                       /* device-lost callback count */
    WGPUDeviceLostReason lost_reason;
    int uncaptured;                 /* uncaptured-error callback count */
    WGPUErrorType last_uncaptured;
    int uncaptured_by_type[8];
};
static struct device_events events;

static inline int util_uncaptured_count(void)
{
    return events.uncaptured;
}

static inline void util_on_lost(WGPUDevice const *device, WGPUDeviceLostReason reason,
                                WGPUStringView message, void *u1, void *u2)
{
    (void)device; (void)message; (void)u1; (void)u2;
    events.lost++;
    events.lost_reason = reason;
}

static inline void util_on_uncaptured(WGPUDevice const *device, WGPUErrorType type,
                                      WGPUStringView message, void *u1, void *u2)
{
    (void)device; (void)message; (void)u1; (void)u2;
    events.uncaptured++;
    events.last_uncaptured = type;
    if ((unsigned)type < 8)
        events.uncaptured_by_type[type]++;
}

struct util_adapter_req { int done; WGPURequestAdapterStatus status; WGPUAdapter adapter; };
struct util_device_req { int done; WGPURequestDeviceStatus status; WGPUDevice device; };

static inline void util_on_adapter(WGPURequestAdapterStatus status, WGPUAdapter adapter,
                                   WGPUStringView message, void *u1, void *u2)
{
    (void)message; (void)u2;
    struct util_adapter_req *r = u1;
    r->status = status;
    r->adapter = adapter;
    r->done = 1;
}

static inline void util_on_device(WGPURequestDeviceStatus status, WGPUDevice device,
                                  WGPUStringView message, void *u1, void *u2)
{
    (void)message; (void)u2;
    struct util_device_req *r = u1;
    r->status = status;
    r->device = device;
    r->done = 1;
}

/* Chained onto the device descriptor of util_request_device, and the
 * instance descriptor ctx_init uses (NULL: none). */
static WGPUChainedStruct *util_device_chain;
static const WGPUInstanceDescriptor *util_instance_descriptor;

/* Requests a device from ctx->adapter with the given features (may be 0)
 * and the util's lost / uncaptured-error callbacks. */
static inline WGPUDevice util_request_device(struct ctx *c, size_t feature_count,
                                             const WGPUFeatureName *features)
{
    WGPUDeviceDescriptor dd = {
        .nextInChain = util_device_chain,
        .label = sv("parity device"),
        .requiredFeatureCount = feature_count,
        .requiredFeatures = features,
        .defaultQueue = {.label = sv("parity queue")},
        .deviceLostCallbackInfo = {
            .mode = WGPUCallbackMode_AllowProcessEvents,
            .callback = util_on_lost,
        },
        .uncapturedErrorCallbackInfo = {.callback = util_on_uncaptured},
    };
    struct util_device_req dr = {0};
    WGPURequestDeviceCallbackInfo ci = {
        .mode = WGPUCallbackMode_AllowProcessEvents,
        .callback = util_on_device,
        .userdata1 = &dr,
    };
    wgpuAdapterRequestDevice(c->adapter, &dd, ci);
    if (!wait_until(c->instance, &dr.done) || dr.status != WGPURequestDeviceStatus_Success)
        return NULL;
    return dr.device;
}

/* Creates the instance, default adapter and a device with `features`.
 * Exits with status 1 when any of them is missing. */
static inline void ctx_init_features(struct ctx *c, size_t feature_count,
                                     const WGPUFeatureName *features)
{
    memset(c, 0, sizeof *c);
    c->instance = wgpuCreateInstance(util_instance_descriptor);
    if (!c->instance) {
        say("no instance");
        exit(1);
    }
    struct util_adapter_req ar = {0};
    WGPURequestAdapterCallbackInfo ci = {
        .mode = WGPUCallbackMode_AllowProcessEvents,
        .callback = util_on_adapter,
        .userdata1 = &ar,
    };
    wgpuInstanceRequestAdapter(c->instance, NULL, ci);
    if (!wait_until(c->instance, &ar.done) || ar.status != WGPURequestAdapterStatus_Success) {
        say("no adapter");
        exit(1);
    }
    c->adapter = ar.adapter;
    /* Dawn falls back to its Null backend when it finds no GPU driver; that
     * validates but executes nothing, so no result would be right. */
    WGPUAdapterInfo info = {0};
    if (wgpuAdapterGetInfo(c->adapter, &info) == WGPUStatus_Success) {
        int null_backend = info.backendType == WGPUBackendType_Null;
        wgpuAdapterInfoFreeMembers(info);
        if (null_backend) {
            say("adapter: Null backend (no GPU driver found); these programs need one that executes");
            exit(1);
        }
    }
    c->device = util_request_device(c, feature_count, features);
    if (!c->device) {
        say("no device");
        exit(1);
    }
    c->queue = wgpuDeviceGetQueue(c->device);
}

static inline void ctx_init(struct ctx *c)
{
    ctx_init_features(c, 0, NULL);
}

/* Releases everything ctx_init made (the device is destroyed by its last
 * release; the lost callback that follows only updates `events`). */
static inline void ctx_release(struct ctx *c)
{
    if (c->queue)
        wgpuQueueRelease(c->queue);
    if (c->device)
        wgpuDeviceRelease(c->device);
    if (c->adapter)
        wgpuAdapterRelease(c->adapter);
    if (c->instance) {
        wgpuInstanceProcessEvents(c->instance);
        wgpuInstanceRelease(c->instance);
    }
    memset(c, 0, sizeof *c);
}

/* Waits (at most a few seconds) until the uncaptured-error callback has run
 * `n` times in all: natively it runs inside the erroring call, through the
 * wire it arrives later. Returns the count reached. */
static inline int wait_uncaptured(struct ctx *c, int n)
{
    double deadline = now_s() + 5.0;
    while (events.uncaptured < n && now_s() < deadline) {
        wgpuInstanceProcessEvents(c->instance);
        if (events.uncaptured >= n)
            break;
        struct timespec nap = {0, 200 * 1000};
        nanosleep(&nap, NULL);
    }
    return events.uncaptured;
}

/* ---- futures the programs wait on ---------------------------------------- */

struct map_result { int done; WGPUMapAsyncStatus status; int order; };
struct work_result { int done; WGPUQueueWorkDoneStatus status; int order; };
struct scope_result { int done; WGPUPopErrorScopeStatus status; WGPUErrorType type; };

/* A counter callbacks stamp into their result, to print the order they ran. */
static int callback_seq;

static inline void util_on_map(WGPUMapAsyncStatus status, WGPUStringView message, void *u1, void *u2)
{
    (void)message; (void)u2;
    struct map_result *r = u1;
    r->status = status;
    r->order = ++callback_seq;
    r->done = 1;
}

static inline void util_on_work_done(WGPUQueueWorkDoneStatus status, WGPUStringView message,
                                     void *u1, void *u2)
{
    (void)u2; (void)message;
    struct work_result *r = u1;
    r->status = status;
    r->order = ++callback_seq;
    r->done = 1;
}

static inline void util_on_pop(WGPUPopErrorScopeStatus status, WGPUErrorType type,
                               WGPUStringView message, void *u1, void *u2)
{
    (void)message; (void)u2;
    struct scope_result *r = u1;
    r->status = status;
    r->type = type;
    r->done = 1;
}

/* Starts a map; the result lands in *r. */
static inline void map_async(WGPUBuffer b, WGPUMapMode mode, size_t offset, size_t size,
                             struct map_result *r)
{
    memset(r, 0, sizeof *r);
    WGPUBufferMapCallbackInfo ci = {
        .mode = WGPUCallbackMode_AllowProcessEvents,
        .callback = util_on_map,
        .userdata1 = r,
    };
    wgpuBufferMapAsync(b, mode, offset, size, ci);
}

/* Maps and waits; returns the status. */
static inline WGPUMapAsyncStatus map_wait(struct ctx *c, WGPUBuffer b, WGPUMapMode mode,
                                          size_t offset, size_t size)
{
    struct map_result r;
    map_async(b, mode, offset, size, &r);
    if (!wait_until(c->instance, &r.done))
        return (WGPUMapAsyncStatus)0;
    return r.status;
}

static inline void work_done_async(struct ctx *c, struct work_result *r)
{
    memset(r, 0, sizeof *r);
    WGPUQueueWorkDoneCallbackInfo ci = {
        .mode = WGPUCallbackMode_AllowProcessEvents,
        .callback = util_on_work_done,
        .userdata1 = r,
    };
    wgpuQueueOnSubmittedWorkDone(c->queue, ci);
}

/* Waits until the queue has finished everything submitted so far. */
static inline WGPUQueueWorkDoneStatus queue_wait(struct ctx *c)
{
    struct work_result r;
    work_done_async(c, &r);
    if (!wait_until(c->instance, &r.done))
        return (WGPUQueueWorkDoneStatus)0;
    return r.status;
}

static inline void push_scope(struct ctx *c, WGPUErrorFilter filter)
{
    wgpuDevicePushErrorScope(c->device, filter);
}

/* Pops the innermost error scope and returns the error type it caught
 * (WGPUErrorType_NoError when none; 0 when the pop itself failed). */
static inline WGPUErrorType pop_scope(struct ctx *c)
{
    struct scope_result r = {0};
    WGPUPopErrorScopeCallbackInfo ci = {
        .mode = WGPUCallbackMode_AllowProcessEvents,
        .callback = util_on_pop,
        .userdata1 = &r,
    };
    wgpuDevicePopErrorScope(c->device, ci);
    if (!wait_until(c->instance, &r.done) || r.status != WGPUPopErrorScopeStatus_Success)
        return (WGPUErrorType)0;
    return r.type;
}

/* ---- objects -------------------------------------------------------------- */

static inline WGPUShaderModule make_shader(struct ctx *c, const char *wgsl)
{
    WGPUShaderSourceWGSL src = {
        .chain = {.sType = WGPUSType_ShaderSourceWGSL},
        .code = sv(wgsl),
    };
    WGPUShaderModuleDescriptor d = {.nextInChain = &src.chain};
    return wgpuDeviceCreateShaderModule(c->device, &d);
}

static inline WGPUBuffer make_buffer(struct ctx *c, WGPUBufferUsage usage, uint64_t size)
{
    WGPUBufferDescriptor d = {.usage = usage, .size = size};
    return wgpuDeviceCreateBuffer(c->device, &d);
}

/* A buffer filled with `data` (size a multiple of 4). */
static inline WGPUBuffer make_buffer_data(struct ctx *c, WGPUBufferUsage usage, const void *data,
                                          uint64_t size)
{
    WGPUBuffer b = make_buffer(c, usage | WGPUBufferUsage_CopyDst, size);
    wgpuQueueWriteBuffer(c->queue, b, 0, data, (size_t)size);
    return b;
}

/* A compute pipeline with the layout inferred from `wgsl` ("auto"). */
static inline WGPUComputePipeline make_compute(struct ctx *c, const char *wgsl, const char *entry)
{
    WGPUShaderModule m = make_shader(c, wgsl);
    WGPUComputePipelineDescriptor d = {
        .compute = {.module = m, .entryPoint = sv(entry)},
    };
    WGPUComputePipeline p = wgpuDeviceCreateComputePipeline(c->device, &d);
    wgpuShaderModuleRelease(m);
    return p;
}

static inline void submit(struct ctx *c, WGPUCommandEncoder enc)
{
    WGPUCommandBuffer cb = wgpuCommandEncoderFinish(enc, NULL);
    wgpuQueueSubmit(c->queue, 1, &cb);
    wgpuCommandBufferRelease(cb);
    wgpuCommandEncoderRelease(enc);
}

static inline WGPUCommandEncoder encoder(struct ctx *c)
{
    return wgpuDeviceCreateCommandEncoder(c->device, NULL);
}

/* Copies `size` bytes at `offset` of `src` (which needs CopySrc) into `out`
 * through a MapRead staging buffer. Returns 1 on success. */
static inline int read_buffer(struct ctx *c, WGPUBuffer src, uint64_t offset, void *out,
                              uint64_t size)
{
    uint64_t padded = (size + 3) & ~(uint64_t)3;
    WGPUBuffer staging = make_buffer(c, WGPUBufferUsage_MapRead | WGPUBufferUsage_CopyDst, padded);
    WGPUCommandEncoder enc = encoder(c);
    wgpuCommandEncoderCopyBufferToBuffer(enc, src, offset, staging, 0, padded);
    submit(c, enc);
    int ok = map_wait(c, staging, WGPUMapMode_Read, 0, (size_t)padded) == WGPUMapAsyncStatus_Success;
    if (ok) {
        const void *p = wgpuBufferGetConstMappedRange(staging, 0, (size_t)padded);
        ok = p != NULL;
        if (ok)
            memcpy(out, p, (size_t)size);
        wgpuBufferUnmap(staging);
    }
    wgpuBufferRelease(staging);
    return ok;
}

/* A 2D texture. */
static inline WGPUTexture make_texture(struct ctx *c, WGPUTextureFormat format, uint32_t w,
                                       uint32_t h, uint32_t layers, uint32_t mips,
                                       uint32_t samples, WGPUTextureUsage usage)
{
    WGPUTextureDescriptor d = {
        .usage = usage,
        .dimension = WGPUTextureDimension_2D,
        .size = {w, h, layers},
        .format = format,
        .mipLevelCount = mips,
        .sampleCount = samples,
    };
    return wgpuDeviceCreateTexture(c->device, &d);
}

/* Reads one layer of one mip level of a texture with `bpp` bytes per texel
 * into `out` (tightly packed rows). Returns 1 on success. */
static inline int read_texture(struct ctx *c, WGPUTexture tex, uint32_t mip, uint32_t layer,
                               uint32_t w, uint32_t h, uint32_t bpp, void *out)
{
    uint32_t row = (w * bpp + 255) & ~255u;
    WGPUBuffer staging = make_buffer(c, WGPUBufferUsage_MapRead | WGPUBufferUsage_CopyDst,
                                     (uint64_t)row * h);
    WGPUCommandEncoder enc = encoder(c);
    WGPUTexelCopyTextureInfo src = {
        .texture = tex, .mipLevel = mip, .origin = {0, 0, layer}, .aspect = WGPUTextureAspect_All,
    };
    WGPUTexelCopyBufferInfo dst = {
        .layout = {.offset = 0, .bytesPerRow = row, .rowsPerImage = h},
        .buffer = staging,
    };
    WGPUExtent3D size = {w, h, 1};
    wgpuCommandEncoderCopyTextureToBuffer(enc, &src, &dst, &size);
    submit(c, enc);
    int ok = map_wait(c, staging, WGPUMapMode_Read, 0, WGPU_WHOLE_MAP_SIZE) == WGPUMapAsyncStatus_Success;
    if (ok) {
        const uint8_t *p = wgpuBufferGetConstMappedRange(staging, 0, (size_t)row * h);
        ok = p != NULL;
        for (uint32_t y = 0; ok && y < h; y++)
            memcpy((uint8_t *)out + (size_t)y * w * bpp, p + (size_t)y * row, (size_t)w * bpp);
        wgpuBufferUnmap(staging);
    }
    wgpuBufferRelease(staging);
    return ok;
}

/* A render pass with one colour attachment cleared to `clear`, and optionally
 * a depth attachment cleared to 1.0. */
static inline WGPURenderPassEncoder begin_pass(WGPUCommandEncoder enc, WGPUTextureView color,
                                               WGPUTextureView resolve, WGPUColor clear,
                                               WGPUTextureView depth)
{
    WGPURenderPassColorAttachment ca = {
        .view = color,
        .depthSlice = WGPU_DEPTH_SLICE_UNDEFINED,
        .resolveTarget = resolve,
        .loadOp = WGPULoadOp_Clear,
        .storeOp = WGPUStoreOp_Store,
        .clearValue = clear,
    };
    WGPURenderPassDepthStencilAttachment da = {
        .view = depth,
        .depthLoadOp = WGPULoadOp_Clear,
        .depthStoreOp = WGPUStoreOp_Store,
        .depthClearValue = 1.0f,
    };
    WGPURenderPassDescriptor rp = {
        .colorAttachmentCount = 1,
        .colorAttachments = &ca,
        .depthStencilAttachment = depth ? &da : NULL,
    };
    return wgpuCommandEncoderBeginRenderPass(enc, &rp);
}

/* Prints an RGBA8 texel as a transcript fragment. */
static inline void say_rgba(const char *what, const uint8_t *px)
{
    say("%s: %u %u %u %u", what, px[0], px[1], px[2], px[3]);
}

/* ---- render pipelines ---------------------------------------------------- */

/* What a test render pipeline varies; zero fields take the usual defaults
 * (triangle list, RGBA8Unorm target, no blending, no depth, 1 sample, auto
 * layout). */
struct pipe_opts {
    const char *vs, *fs;                  /* entry points, default "vs" / "fs" */
    const WGPUVertexBufferLayout *buffers;
    size_t buffer_count;
    WGPUTextureFormat format;
    const WGPUBlendState *blend;
    WGPUTextureFormat depth;              /* Undefined: no depth-stencil state */
    WGPUCompareFunction depth_compare;    /* default Less */
    uint32_t samples;
    WGPUPrimitiveTopology topology;
    WGPUPipelineLayout layout;
    const WGPUConstantEntry *constants;   /* for the fragment stage */
    size_t constant_count;
};

/* A render pipeline descriptor and the structs it points into: keep it in
 * place (it points into itself) while the descriptor is in use. */
struct render_desc {
    WGPURenderPipelineDescriptor d;
    WGPUFragmentState fragment;
    WGPUColorTargetState target;
    WGPUDepthStencilState depth;
};

static inline void render_desc_init(struct render_desc *rd, WGPUShaderModule m,
                                    const struct pipe_opts *o)
{
    memset(rd, 0, sizeof *rd);
    rd->target.format = o->format ? o->format : WGPUTextureFormat_RGBA8Unorm;
    rd->target.blend = o->blend;
    rd->target.writeMask = WGPUColorWriteMask_All;
    rd->fragment.module = m;
    rd->fragment.entryPoint = sv(o->fs ? o->fs : "fs");
    rd->fragment.constantCount = o->constant_count;
    rd->fragment.constants = o->constants;
    rd->fragment.targetCount = 1;
    rd->fragment.targets = &rd->target;
    WGPUStencilFaceState keep = {
        .compare = WGPUCompareFunction_Always,
        .failOp = WGPUStencilOperation_Keep,
        .depthFailOp = WGPUStencilOperation_Keep,
        .passOp = WGPUStencilOperation_Keep,
    };
    rd->depth.format = o->depth;
    rd->depth.depthWriteEnabled = WGPUOptionalBool_True;
    rd->depth.depthCompare = o->depth_compare ? o->depth_compare : WGPUCompareFunction_Less;
    rd->depth.stencilFront = keep;
    rd->depth.stencilBack = keep;
    rd->depth.stencilReadMask = 0xFFFFFFFFu;
    rd->depth.stencilWriteMask = 0xFFFFFFFFu;
    rd->d.layout = o->layout;
    rd->d.vertex.module = m;
    rd->d.vertex.entryPoint = sv(o->vs ? o->vs : "vs");
    rd->d.vertex.bufferCount = o->buffer_count;
    rd->d.vertex.buffers = o->buffers;
    rd->d.primitive.topology = o->topology ? o->topology : WGPUPrimitiveTopology_TriangleList;
    rd->d.primitive.frontFace = WGPUFrontFace_CCW;
    rd->d.primitive.cullMode = WGPUCullMode_None;
    rd->d.depthStencil = o->depth ? &rd->depth : NULL;
    rd->d.multisample.count = o->samples ? o->samples : 1;
    rd->d.multisample.mask = 0xFFFFFFFFu;
    rd->d.fragment = &rd->fragment;
}

static inline WGPURenderPipeline make_render(struct ctx *c, const char *wgsl,
                                             const struct pipe_opts *o)
{
    WGPUShaderModule m = make_shader(c, wgsl);
    struct render_desc rd;
    render_desc_init(&rd, m, o);
    WGPURenderPipeline p = wgpuDeviceCreateRenderPipeline(c->device, &rd.d);
    wgpuShaderModuleRelease(m);
    return p;
}

/* A bind group over buffers at bindings 0..n-1 (whole buffers). */
static inline WGPUBindGroup bind_buffers(struct ctx *c, WGPUBindGroupLayout layout,
                                         size_t n, const WGPUBuffer *buffers)
{
    WGPUBindGroupEntry e[8];
    memset(e, 0, sizeof e);
    for (size_t i = 0; i < n && i < 8; i++) {
        e[i].binding = (uint32_t)i;
        e[i].buffer = buffers[i];
        e[i].size = WGPU_WHOLE_SIZE;
    }
    WGPUBindGroupDescriptor d = {.layout = layout, .entryCount = n, .entries = e};
    return wgpuDeviceCreateBindGroup(c->device, &d);
}

/* Runs `pipe` once over `groups` workgroups with group 0 = `bg`. */
static inline void dispatch(struct ctx *c, WGPUComputePipeline pipe, WGPUBindGroup bg,
                            uint32_t groups)
{
    WGPUCommandEncoder enc = encoder(c);
    WGPUComputePassEncoder pass = wgpuCommandEncoderBeginComputePass(enc, NULL);
    wgpuComputePassEncoderSetPipeline(pass, pipe);
    wgpuComputePassEncoderSetBindGroup(pass, 0, bg, 0, NULL);
    wgpuComputePassEncoderDispatchWorkgroups(pass, groups, 1, 1);
    wgpuComputePassEncoderEnd(pass);
    wgpuComputePassEncoderRelease(pass);
    submit(c, enc);
}

static inline WGPUTextureView view_of(WGPUTexture t)
{
    return wgpuTextureCreateView(t, NULL);
}

/* FNV-1a over bytes: a compact, exact fingerprint of an image or buffer. */
static inline uint32_t fnv1a(const void *data, size_t n)
{
    const uint8_t *p = data;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

#endif
