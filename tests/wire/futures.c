/* Futures through the wire, with the standard header's instance features
 * (the native baseline cannot ask for TimedWaitAny the standard's way, so
 * this suite runs against the guest library only): wgpuInstanceWaitAny with
 * timeout 0, finite and infinite, the three callback modes, and the write
 * maps the guest answers without the host. */
#include <webgpu/webgpu.h>

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "harness.h"

static WGPUInstance instance;
static WGPUAdapter adapter;
static WGPUDevice device;
static WGPUQueue queue;

struct hits {
    int calls;
    WGPUQueueWorkDoneStatus status;
};

static void on_done(WGPUQueueWorkDoneStatus status, WGPUStringView message, void *u1, void *u2)
{
    (void)message, (void)u2;
    struct hits *h = u1;
    h->calls++;
    h->status = status;
}

static void on_adapter(WGPURequestAdapterStatus s, WGPUAdapter a, WGPUStringView m, void *u1, void *u2)
{
    (void)m, (void)u2;
    if (s == WGPURequestAdapterStatus_Success)
        *(WGPUAdapter *)u1 = a;
}

static void on_device(WGPURequestDeviceStatus s, WGPUDevice d, WGPUStringView m, void *u1, void *u2)
{
    (void)m, (void)u2;
    if (s == WGPURequestDeviceStatus_Success)
        *(WGPUDevice *)u1 = d;
}

/* A queue's work that takes long enough to be caught unfinished: a shader
 * that loops, dispatched many times. */
static void submit_slow_work(void)
{
    static const char *wgsl =
        "@group(0) @binding(0) var<storage, read_write> out: array<u32>;\n"
        "@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3u) {\n"
        "  var x = id.x;\n"
        "  for (var i = 0u; i < 20000u; i++) { x = x * 1664525u + 1013904223u; }\n"
        "  out[id.x] = x;\n"
        "}\n";
    WGPUShaderSourceWGSL src = WGPU_SHADER_SOURCE_WGSL_INIT;
    src.code = (WGPUStringView){wgsl, WGPU_STRLEN};
    WGPUShaderModuleDescriptor md = WGPU_SHADER_MODULE_DESCRIPTOR_INIT;
    md.nextInChain = &src.chain;
    WGPUShaderModule module = wgpuDeviceCreateShaderModule(device, &md);
    WGPUComputePipelineDescriptor pd = WGPU_COMPUTE_PIPELINE_DESCRIPTOR_INIT;
    pd.compute.module = module;
    WGPUComputePipeline pipe = wgpuDeviceCreateComputePipeline(device, &pd);
    WGPUBufferDescriptor bd = WGPU_BUFFER_DESCRIPTOR_INIT;
    bd.size = 4 * 64 * 64;
    bd.usage = WGPUBufferUsage_Storage;
    WGPUBuffer buf = wgpuDeviceCreateBuffer(device, &bd);
    WGPUBindGroupEntry e = WGPU_BIND_GROUP_ENTRY_INIT;
    e.binding = 0;
    e.buffer = buf;
    e.size = bd.size;
    WGPUBindGroupDescriptor bgd = WGPU_BIND_GROUP_DESCRIPTOR_INIT;
    bgd.layout = wgpuComputePipelineGetBindGroupLayout(pipe, 0);
    bgd.entryCount = 1;
    bgd.entries = &e;
    WGPUBindGroup bg = wgpuDeviceCreateBindGroup(device, &bgd);
    WGPUCommandEncoder enc = wgpuDeviceCreateCommandEncoder(device, NULL);
    WGPUComputePassEncoder pass = wgpuCommandEncoderBeginComputePass(enc, NULL);
    wgpuComputePassEncoderSetPipeline(pass, pipe);
    wgpuComputePassEncoderSetBindGroup(pass, 0, bg, 0, NULL);
    for (int i = 0; i < 8; i++)
        wgpuComputePassEncoderDispatchWorkgroups(pass, 64, 1, 1);
    wgpuComputePassEncoderEnd(pass);
    WGPUCommandBuffer cb = wgpuCommandEncoderFinish(enc, NULL);
    wgpuQueueSubmit(queue, 1, &cb);
    wgpuCommandBufferRelease(cb);
    wgpuComputePassEncoderRelease(pass);
    wgpuCommandEncoderRelease(enc);
    wgpuBindGroupRelease(bg);
    wgpuBindGroupLayoutRelease(bgd.layout);
    wgpuBufferRelease(buf);
    wgpuComputePipelineRelease(pipe);
    wgpuShaderModuleRelease(module);
}

static WGPUFuture work_done(WGPUCallbackMode mode, struct hits *h)
{
    WGPUQueueWorkDoneCallbackInfo ci = WGPU_QUEUE_WORK_DONE_CALLBACK_INFO_INIT;
    ci.mode = mode;
    ci.callback = on_done;
    ci.userdata1 = h;
    return wgpuQueueOnSubmittedWorkDone(queue, ci);
}

static void on_pop(WGPUPopErrorScopeStatus status, WGPUErrorType type, WGPUStringView message,
                   void *u1, void *u2)
{
    (void)status, (void)message;
    ++*(int *)u1;
    *(WGPUErrorType *)u2 = type;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void test_wait_any_with_timeout_zero_polls(void)
{
    submit_slow_work();
    struct hits h = {0};
    WGPUFutureWaitInfo w = {work_done(WGPUCallbackMode_WaitAnyOnly, &h), 0};
    CHECK(wgpuInstanceWaitAny(instance, 1, &w, 0) == WGPUWaitStatus_TimedOut);
    CHECK(!w.completed && h.calls == 0);
    CHECK(wgpuInstanceWaitAny(instance, 1, &w, UINT64_MAX) == WGPUWaitStatus_Success);
    CHECK(w.completed && h.calls == 1 && h.status == WGPUQueueWorkDoneStatus_Success);
    /* Once completed, it stays completed and never fires again. */
    w.completed = 0;
    CHECK(wgpuInstanceWaitAny(instance, 1, &w, 0) == WGPUWaitStatus_Success);
    CHECK(w.completed && h.calls == 1);
}

static void test_finite_timeout_times_out_then_infinite_completes(void)
{
    submit_slow_work();
    struct hits h = {0};
    WGPUFutureWaitInfo w = {work_done(WGPUCallbackMode_AllowProcessEvents, &h), 0};
    double t0 = now();
    WGPUWaitStatus s = wgpuInstanceWaitAny(instance, 1, &w, 1000 * 1000); /* 1 ms */
    double waited = now() - t0;
    CHECK_MSG(s == WGPUWaitStatus_TimedOut, "status %d", (int)s);
    CHECK_MSG(waited >= 0.0009, "returned after %.6f s", waited);
    CHECK(h.calls == 0);
    CHECK(wgpuInstanceWaitAny(instance, 1, &w, UINT64_MAX) == WGPUWaitStatus_Success);
    CHECK(w.completed && h.calls == 1);
}

static void test_wait_any_only_is_not_fired_by_process_events(void)
{
    struct hits h = {0};
    WGPUFutureWaitInfo w = {work_done(WGPUCallbackMode_WaitAnyOnly, &h), 0};
    for (int i = 0; i < 200; i++) {
        wgpuInstanceProcessEvents(instance);
        struct timespec ts = {0, 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    CHECK(h.calls == 0);
    CHECK(wgpuInstanceWaitAny(instance, 1, &w, UINT64_MAX) == WGPUWaitStatus_Success);
    CHECK(h.calls == 1);
}

static void test_allow_process_events_fires_in_process_events(void)
{
    struct hits h = {0};
    work_done(WGPUCallbackMode_AllowProcessEvents, &h);
    double deadline = now() + 30;
    while (h.calls == 0 && now() < deadline)
        wgpuInstanceProcessEvents(instance);
    CHECK(h.calls == 1);
}

static void test_spontaneous_fires_while_waiting_on_another(void)
{
    struct hits spont = {0}, other = {0};
    work_done(WGPUCallbackMode_AllowSpontaneous, &spont);
    submit_slow_work();
    WGPUFutureWaitInfo w = {work_done(WGPUCallbackMode_WaitAnyOnly, &other), 0};
    CHECK(wgpuInstanceWaitAny(instance, 1, &w, UINT64_MAX) == WGPUWaitStatus_Success);
    CHECK(other.calls == 1);
    CHECK(spont.calls == 1);
}

static void test_timed_wait_needs_the_instance_feature(void)
{
    WGPUInstance plain = wgpuCreateInstance(NULL);
    CHECK(plain != NULL);
    if (!plain)
        return;
    WGPUFutureWaitInfo w = {{12345}, 0};
    CHECK(wgpuInstanceWaitAny(plain, 1, &w, 1000) == WGPUWaitStatus_Error);
    wgpuInstanceRelease(plain);
    CHECK(wgpuHasInstanceFeature(WGPUInstanceFeatureName_TimedWaitAny));
    WGPUInstanceLimits limits = WGPU_INSTANCE_LIMITS_INIT;
    CHECK(wgpuGetInstanceLimits(&limits) == WGPUStatus_Success && limits.timedWaitAnyMaxCount >= 1);
}

static void test_get_proc_address_finds_every_function(void)
{
    CHECK(wgpuGetProcAddress((WGPUStringView){"wgpuDeviceCreateBuffer", WGPU_STRLEN}) ==
          (WGPUProc)wgpuDeviceCreateBuffer);
    CHECK(wgpuGetProcAddress((WGPUStringView){"wgpuQueueSubmitXYZ", 15}) ==
          (WGPUProc)wgpuQueueSubmit);
    CHECK(wgpuGetProcAddress((WGPUStringView){"wgpuNoSuchFunction", WGPU_STRLEN}) == NULL);
}

static void test_surface_creation_fails_cleanly(void)
{
    WGPUSurfaceDescriptor d = WGPU_SURFACE_DESCRIPTOR_INIT;
    CHECK(wgpuInstanceCreateSurface(instance, &d) == NULL);
}

/* ---- write maps the guest answers itself (src/guest/map-write.c) ---- */

struct map_hits {
    int calls;
    WGPUMapAsyncStatus status;
};

static void on_map(WGPUMapAsyncStatus status, WGPUStringView message, void *u1, void *u2)
{
    (void)message, (void)u2;
    struct map_hits *h = u1;
    h->calls++;
    h->status = status;
}

/* Maps for writing with an AllowSpontaneous callback; returns whether the
 * callback had run when wgpuBufferMapAsync returned (the guest answered),
 * then waits for it; *status gets its status. */
static bool map_write(WGPUBuffer b, uint64_t offset, uint64_t size, WGPUMapAsyncStatus *status)
{
    struct map_hits h = {0};
    WGPUBufferMapCallbackInfo ci = WGPU_BUFFER_MAP_CALLBACK_INFO_INIT;
    ci.mode = WGPUCallbackMode_AllowSpontaneous;
    ci.callback = on_map;
    ci.userdata1 = &h;
    WGPUFutureWaitInfo w = {wgpuBufferMapAsync(b, WGPUMapMode_Write, (size_t)offset, (size_t)size, ci), 0};
    bool at_once = h.calls == 1;
    CHECK(wgpuInstanceWaitAny(instance, 1, &w, UINT64_MAX) == WGPUWaitStatus_Success);
    CHECK(h.calls == 1);
    *status = h.status;
    return at_once;
}

static void wait_work_done(void)
{
    struct hits h = {0};
    WGPUFutureWaitInfo w = {work_done(WGPUCallbackMode_WaitAnyOnly, &h), 0};
    CHECK(wgpuInstanceWaitAny(instance, 1, &w, UINT64_MAX) == WGPUWaitStatus_Success);
    CHECK(h.calls == 1 && h.status == WGPUQueueWorkDoneStatus_Success);
}

/* Pops the device's error scope and waits for it: the type it caught
 * (WGPUErrorType_Unknown if the pop itself failed). */
static WGPUErrorType pop_error_scope(void)
{
    int calls = 0;
    WGPUErrorType type = WGPUErrorType_Unknown;
    WGPUPopErrorScopeCallbackInfo pc = WGPU_POP_ERROR_SCOPE_CALLBACK_INFO_INIT;
    pc.mode = WGPUCallbackMode_WaitAnyOnly;
    pc.callback = on_pop;
    pc.userdata1 = &calls;
    pc.userdata2 = &type;
    WGPUFutureWaitInfo w = {wgpuDevicePopErrorScope(device, pc), 0};
    CHECK(wgpuInstanceWaitAny(instance, 1, &w, UINT64_MAX) == WGPUWaitStatus_Success);
    CHECK(calls == 1);
    return type;
}

static WGPUBuffer upload_buffer(uint64_t size)
{
    WGPUBufferDescriptor bd = WGPU_BUFFER_DESCRIPTOR_INIT;
    bd.size = size;
    bd.usage = WGPUBufferUsage_MapWrite | WGPUBufferUsage_CopySrc;
    return wgpuDeviceCreateBuffer(device, &bd);
}

static void copy_and_submit(WGPUBuffer src, WGPUBuffer dst, uint64_t dst_offset, uint64_t size)
{
    WGPUCommandEncoder enc = wgpuDeviceCreateCommandEncoder(device, NULL);
    wgpuCommandEncoderCopyBufferToBuffer(enc, src, 0, dst, dst_offset, size);
    WGPUCommandBuffer cb = wgpuCommandEncoderFinish(enc, NULL);
    wgpuCommandEncoderRelease(enc);
    wgpuQueueSubmit(queue, 1, &cb);
    wgpuCommandBufferRelease(cb);
}

/* The first map goes to the host (the buffer might be invalid); once it has
 * succeeded, a map of the idle buffer is answered before mapAsync returns
 * and shows what was written last. */
static void test_idle_upload_map_is_answered_at_once(void)
{
    WGPUBuffer b = upload_buffer(256);
    WGPUMapAsyncStatus st;
    CHECK(!map_write(b, 0, 256, &st));
    CHECK(st == WGPUMapAsyncStatus_Success);
    uint32_t *p = wgpuBufferGetMappedRange(b, 0, 256);
    CHECK(p != NULL);
    for (int i = 0; p && i < 64; i++)
        p[i] = 0xA0000000u + (uint32_t)i;
    wgpuBufferUnmap(b);
    for (int round = 0; round < 3; round++) {
        CHECK(map_write(b, 0, 256, &st));
        CHECK(st == WGPUMapAsyncStatus_Success);
        CHECK(wgpuBufferGetMapState(b) == WGPUBufferMapState_Mapped);
        p = wgpuBufferGetMappedRange(b, 0, 256);
        int stale = 0;
        for (int i = 0; p && i < 64; i++) {
            stale += p[i] != (round ? 0xB0000000u + (uint32_t)(round - 1) * 64 : 0xA0000000u) + (uint32_t)i;
            p[i] = 0xB0000000u + (uint32_t)round * 64 + (uint32_t)i;
        }
        CHECK_MSG(stale == 0, "round %d: %d words differ from the last mapping", round, stale);
        wgpuBufferUnmap(b);
    }
    /* A part of it, then the whole: the part's bytes and the rest kept. */
    CHECK(map_write(b, 64, 64, &st));
    p = wgpuBufferGetMappedRange(b, 64, 64);
    for (int i = 0; p && i < 16; i++)
        p[i] = 0xC0000000u + (uint32_t)i;
    wgpuBufferUnmap(b);
    CHECK(map_write(b, 0, 256, &st));
    const uint32_t *q = wgpuBufferGetConstMappedRange(b, 0, 256);
    int wrong = 0;
    for (int i = 0; q && i < 64; i++)
        wrong += q[i] != (i >= 16 && i < 32 ? 0xC0000000u + (uint32_t)(i - 16)
                                             : 0xB0000000u + 2u * 64 + (uint32_t)i);
    CHECK_MSG(q && wrong == 0, "%d words wrong after a partial mapping", wrong);
    wgpuBufferUnmap(b);
    wgpuBufferRelease(b);
}

/* A buffer a submission reads is answered only once a work-done callback
 * has vouched for that submission; the copies carry each round's bytes. */
static void test_upload_map_waits_for_unfinished_copies(void)
{
    enum { ROUNDS = 12 };
    WGPUBuffer b = upload_buffer(256);
    WGPUBufferDescriptor bd = WGPU_BUFFER_DESCRIPTOR_INIT;
    bd.size = 256 * ROUNDS;
    bd.usage = WGPUBufferUsage_CopyDst | WGPUBufferUsage_MapRead;
    WGPUBuffer dst = wgpuDeviceCreateBuffer(device, &bd);
    WGPUMapAsyncStatus st;
    int answered = 0;
    for (int round = 0; round < ROUNDS; round++) {
        bool at_once = map_write(b, 0, 256, &st);
        CHECK(st == WGPUMapAsyncStatus_Success);
        /* Round 0: not yet mapped through the host. Odd rounds follow a
         * copy nobody asked to hear the end of. */
        if (round == 0 || round % 2 == 1)
            CHECK_MSG(!at_once, "round %d was answered at once", round);
        else
            CHECK_MSG(at_once, "round %d was not answered at once", round);
        answered += at_once;
        uint32_t *p = wgpuBufferGetMappedRange(b, 0, 256);
        for (int i = 0; p && i < 64; i++)
            p[i] = (uint32_t)round * 1000u + (uint32_t)i;
        wgpuBufferUnmap(b);
        if (round % 2 == 1)
            submit_slow_work();
        copy_and_submit(b, dst, 256u * (uint64_t)round, 256);
        if (round % 2 == 1)
            wait_work_done();
    }
    struct map_hits h = {0};
    WGPUBufferMapCallbackInfo ci = WGPU_BUFFER_MAP_CALLBACK_INFO_INIT;
    ci.mode = WGPUCallbackMode_WaitAnyOnly;
    ci.callback = on_map;
    ci.userdata1 = &h;
    WGPUFutureWaitInfo w = {wgpuBufferMapAsync(dst, WGPUMapMode_Read, 0, 256 * ROUNDS, ci), 0};
    CHECK(wgpuInstanceWaitAny(instance, 1, &w, UINT64_MAX) == WGPUWaitStatus_Success);
    const uint32_t *q = wgpuBufferGetConstMappedRange(dst, 0, 256 * ROUNDS);
    int wrong = 0;
    for (int i = 0; q && i < 64 * ROUNDS; i++)
        wrong += q[i] != (uint32_t)(i / 64) * 1000u + (uint32_t)(i % 64);
    CHECK_MSG(q && wrong == 0, "%d copied words wrong", wrong);
    CHECK(answered == ROUNDS / 2 - 1);
    wgpuBufferUnmap(dst);
    wgpuBufferRelease(dst);
    wgpuBufferRelease(b);
}

/* The host maps an answered buffer too: a submission that reads it while
 * it is mapped fails validation as it would natively. */
static void test_answered_map_still_blocks_submits(void)
{
    WGPUBuffer b = upload_buffer(256);
    WGPUBufferDescriptor bd = WGPU_BUFFER_DESCRIPTOR_INIT;
    bd.size = 256;
    bd.usage = WGPUBufferUsage_CopyDst;
    WGPUBuffer dst = wgpuDeviceCreateBuffer(device, &bd);
    WGPUMapAsyncStatus st;
    map_write(b, 0, 256, &st);
    wgpuBufferUnmap(b);
    CHECK(map_write(b, 0, 256, &st));
    wgpuDevicePushErrorScope(device, WGPUErrorFilter_Validation);
    copy_and_submit(b, dst, 0, 256);
    WGPUErrorType type = pop_error_scope();
    CHECK_MSG(type == WGPUErrorType_Validation, "error type %d", (int)type);
    wgpuBufferUnmap(b);
    wgpuBufferRelease(dst);
    wgpuBufferRelease(b);
}

/* An invalid buffer never has a map succeed through the host, so none of
 * its maps is answered: each gets the backend's error. */
static void test_invalid_buffer_maps_are_never_answered(void)
{
    WGPUBufferDescriptor bd = WGPU_BUFFER_DESCRIPTOR_INIT;
    bd.size = 258; /* mapped at creation, so a multiple of 4 is required */
    bd.usage = WGPUBufferUsage_MapWrite | WGPUBufferUsage_CopySrc;
    bd.mappedAtCreation = true;
    wgpuDevicePushErrorScope(device, WGPUErrorFilter_Validation);
    WGPUBuffer b = wgpuDeviceCreateBuffer(device, &bd);
    for (int i = 0; i < 2; i++) {
        WGPUMapAsyncStatus st;
        CHECK(!map_write(b, 0, 256, &st));
        CHECK_MSG(st != WGPUMapAsyncStatus_Success, "map %d of an invalid buffer succeeded", i);
    }
    CHECK(pop_error_scope() == WGPUErrorType_Validation);
    wgpuBufferRelease(b);
}

int main(void)
{
    WGPUInstanceFeatureName f = WGPUInstanceFeatureName_TimedWaitAny;
    WGPUInstanceDescriptor id = WGPU_INSTANCE_DESCRIPTOR_INIT;
    id.requiredFeatureCount = 1;
    id.requiredFeatures = &f;
    instance = wgpuCreateInstance(&id);
    if (!instance) {
        printf("futures: 0 passed, 1 failed\n");
        return 1;
    }
    WGPURequestAdapterCallbackInfo ac = WGPU_REQUEST_ADAPTER_CALLBACK_INFO_INIT;
    ac.mode = WGPUCallbackMode_WaitAnyOnly;
    ac.callback = on_adapter;
    ac.userdata1 = &adapter;
    WGPUFutureWaitInfo w = {wgpuInstanceRequestAdapter(instance, NULL, ac), 0};
    wgpuInstanceWaitAny(instance, 1, &w, UINT64_MAX);
    WGPURequestDeviceCallbackInfo dc = WGPU_REQUEST_DEVICE_CALLBACK_INFO_INIT;
    dc.mode = WGPUCallbackMode_WaitAnyOnly;
    dc.callback = on_device;
    dc.userdata1 = &device;
    w = (WGPUFutureWaitInfo){wgpuAdapterRequestDevice(adapter, NULL, dc), 0};
    wgpuInstanceWaitAny(instance, 1, &w, UINT64_MAX);
    if (!device) {
        printf("futures: 0 passed, 1 failed\n");
        return 1;
    }
    queue = wgpuDeviceGetQueue(device);

    RUN(test_wait_any_with_timeout_zero_polls);
    RUN(test_finite_timeout_times_out_then_infinite_completes);
    RUN(test_wait_any_only_is_not_fired_by_process_events);
    RUN(test_allow_process_events_fires_in_process_events);
    RUN(test_spontaneous_fires_while_waiting_on_another);
    RUN(test_timed_wait_needs_the_instance_feature);
    RUN(test_get_proc_address_finds_every_function);
    RUN(test_surface_creation_fails_cleanly);
    RUN(test_idle_upload_map_is_answered_at_once);
    RUN(test_upload_map_waits_for_unfinished_copies);
    RUN(test_answered_map_still_blocks_submits);
    RUN(test_invalid_buffer_maps_are_never_answered);

    wgpuQueueRelease(queue);
    wgpuDeviceRelease(device);
    wgpuAdapterRelease(adapter);
    wgpuInstanceRelease(instance);
    return harness_finish("futures");
}
