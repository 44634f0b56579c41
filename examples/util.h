/* Helpers shared by the examples.
 *
 * The examples are built twice from the same source: natively against the
 * pinned Dawn (-DWGV_NATIVE, Dawn's header, linked to Dawn) and against the
 * standard webgpu.h, linked to the guest library. So they use only what both
 * ABIs share: wgpuCreateInstance(NULL), callbacks in AllowProcessEvents mode
 * driven by wgpuInstanceProcessEvents (no WaitAny, no instance features), and
 * texture formats by name.
 */
#ifndef WGV_EXAMPLES_UTIL_H
#define WGV_EXAMPLES_UTIL_H

#ifdef WGV_NATIVE
#include <wgv/backend-dawn.h>
#else
#include <webgpu/webgpu.h>
#endif

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* Pumps wgpuInstanceProcessEvents until *flag is non-zero; callbacks run
 * inside that call on this thread. Naps between polls so that the driver's
 * threads get the CPU. Returns 0 after 120 s without progress. */
static inline int wait_until(WGPUInstance instance, volatile int *flag)
{
    double deadline = now_s() + 120.0;
    for (unsigned i = 0; !*flag; i++) {
        wgpuInstanceProcessEvents(instance);
        if (*flag)
            break;
        if (i < 64)
            continue;
        if (now_s() > deadline) {
            fprintf(stderr, "wait_until: timed out\n");
            return 0;
        }
        struct timespec nap = {0, 50 * 1000};
        nanosleep(&nap, NULL);
    }
    return 1;
}

/* Length of a WGPUStringView's text (0 for a null view). */
static inline int sv_len(WGPUStringView v)
{
    if (!v.data)
        return 0;
    return (int)(v.length == WGPU_STRLEN ? strlen(v.data) : v.length);
}

struct gpu {
    WGPUInstance instance;
    WGPUAdapter adapter;
    WGPUDevice device;
    WGPUQueue queue;
    int errors; /* uncaptured errors seen */
};

struct ex_request { int done, ok; void *object; };

static inline void ex_on_adapter(WGPURequestAdapterStatus status, WGPUAdapter adapter,
                                 WGPUStringView message, void *u1, void *u2)
{
    (void)u2;
    struct ex_request *r = u1;
    r->ok = status == WGPURequestAdapterStatus_Success;
    r->object = adapter;
    if (!r->ok)
        fprintf(stderr, "requestAdapter: %.*s\n", sv_len(message), message.data ? message.data : "");
    r->done = 1;
}

static inline void ex_on_device(WGPURequestDeviceStatus status, WGPUDevice device,
                                WGPUStringView message, void *u1, void *u2)
{
    (void)u2;
    struct ex_request *r = u1;
    r->ok = status == WGPURequestDeviceStatus_Success;
    r->object = device;
    if (!r->ok)
        fprintf(stderr, "requestDevice: %.*s\n", sv_len(message), message.data ? message.data : "");
    r->done = 1;
}

static inline void ex_on_error(WGPUDevice const *device, WGPUErrorType type, WGPUStringView message,
                               void *u1, void *u2)
{
    (void)device; (void)u2;
    struct gpu *g = u1;
    g->errors++;
    fprintf(stderr, "webgpu error %d: %.*s\n", (int)type, sv_len(message),
            message.data ? message.data : "");
}

/* Instance (from `desc`, which may be NULL), the adapter `options` pick
 * (NULL: the default one), device and queue; 0 on failure (reported). */
static inline int gpu_init_with(struct gpu *g, const WGPUInstanceDescriptor *desc,
                                const WGPURequestAdapterOptions *options)
{
    memset(g, 0, sizeof *g);
    g->instance = wgpuCreateInstance(desc);
    if (!g->instance) {
        fprintf(stderr, "wgpuCreateInstance failed\n");
        return 0;
    }
    struct ex_request ar = {0};
    WGPURequestAdapterCallbackInfo aci = {.mode = WGPUCallbackMode_AllowProcessEvents,
                                          .callback = ex_on_adapter, .userdata1 = &ar};
    wgpuInstanceRequestAdapter(g->instance, options, aci);
    if (!wait_until(g->instance, &ar.done) || !ar.ok)
        return 0;
    g->adapter = ar.object;

    /* Ask for the adapter's storage-buffer limits, which can exceed the
     * defaults that a device gets otherwise. */
    WGPULimits limits = {0};
    int have_limits = wgpuAdapterGetLimits(g->adapter, &limits) == WGPUStatus_Success;
    limits.nextInChain = NULL;
    WGPUDeviceDescriptor dd = {
        .label = sv("example device"),
        .requiredLimits = have_limits ? &limits : NULL,
        .defaultQueue = {.label = sv("example queue")},
        .uncapturedErrorCallbackInfo = {.callback = ex_on_error, .userdata1 = g},
    };
    struct ex_request dr = {0};
    WGPURequestDeviceCallbackInfo dci = {.mode = WGPUCallbackMode_AllowProcessEvents,
                                         .callback = ex_on_device, .userdata1 = &dr};
    wgpuAdapterRequestDevice(g->adapter, &dd, dci);
    if (!wait_until(g->instance, &dr.done) || !dr.ok)
        return 0;
    g->device = dr.object;
    g->queue = wgpuDeviceGetQueue(g->device);
    return 1;
}

/* gpu_init_with a default instance. */
static inline int gpu_init(struct gpu *g)
{
    return gpu_init_with(g, NULL, NULL);
}

static inline void gpu_release(struct gpu *g)
{
    if (g->queue) wgpuQueueRelease(g->queue);
    if (g->device) wgpuDeviceRelease(g->device);
    if (g->adapter) wgpuAdapterRelease(g->adapter);
    if (g->instance) {
        wgpuInstanceProcessEvents(g->instance);
        wgpuInstanceRelease(g->instance);
    }
    memset(g, 0, sizeof *g);
}

/* Prints "adapter: NAME (BACKEND)" from the adapter's info. */
static inline void print_adapter(struct gpu *g)
{
    WGPUAdapterInfo info = {0};
    if (wgpuAdapterGetInfo(g->adapter, &info) != WGPUStatus_Success) {
        printf("adapter: (no info)\n");
        return;
    }
    const char *backend = "other";
    switch (info.backendType) {
    case WGPUBackendType_Null: backend = "Null"; break;
    case WGPUBackendType_Vulkan: backend = "Vulkan"; break;
    case WGPUBackendType_Metal: backend = "Metal"; break;
    case WGPUBackendType_D3D12: backend = "D3D12"; break;
    case WGPUBackendType_OpenGL: backend = "OpenGL"; break;
    default: break;
    }
    int len = sv_len(info.device);
    printf("adapter: %.*s (%s)\n", len ? len : 7, len ? info.device.data : "unnamed", backend);
    wgpuAdapterInfoFreeMembers(info);
}

static inline WGPUShaderModule make_shader(struct gpu *g, const char *wgsl)
{
    WGPUShaderSourceWGSL src = {.chain = {.sType = WGPUSType_ShaderSourceWGSL}, .code = sv(wgsl)};
    WGPUShaderModuleDescriptor d = {.nextInChain = &src.chain};
    return wgpuDeviceCreateShaderModule(g->device, &d);
}

struct ex_done { int done; int status; };

static inline void ex_on_work_done(WGPUQueueWorkDoneStatus status, WGPUStringView message,
                                   void *u1, void *u2)
{
    (void)message; (void)u2;
    struct ex_done *d = u1;
    d->status = (int)status;
    d->done = 1;
}

/* Waits until everything submitted so far has run; 1 on success. */
static inline int queue_wait(struct gpu *g)
{
    struct ex_done d = {0};
    WGPUQueueWorkDoneCallbackInfo ci = {.mode = WGPUCallbackMode_AllowProcessEvents,
                                        .callback = ex_on_work_done, .userdata1 = &d};
    wgpuQueueOnSubmittedWorkDone(g->queue, ci);
    return wait_until(g->instance, &d.done) && d.status == (int)WGPUQueueWorkDoneStatus_Success;
}

static inline void ex_on_map(WGPUMapAsyncStatus status, WGPUStringView message, void *u1, void *u2)
{
    (void)message; (void)u2;
    struct ex_done *d = u1;
    d->status = (int)status;
    d->done = 1;
}

/* Maps `b` for reading and waits; 1 on success. */
static inline int map_read(struct gpu *g, WGPUBuffer b, size_t size)
{
    struct ex_done d = {0};
    WGPUBufferMapCallbackInfo ci = {.mode = WGPUCallbackMode_AllowProcessEvents,
                                    .callback = ex_on_map, .userdata1 = &d};
    wgpuBufferMapAsync(b, WGPUMapMode_Read, 0, size, ci);
    return wait_until(g->instance, &d.done) && d.status == (int)WGPUMapAsyncStatus_Success;
}

#endif
