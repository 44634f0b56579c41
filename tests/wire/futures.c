/* Futures through the wire, with the standard header's instance features
 * (the native baseline cannot ask for TimedWaitAny the standard's way, so
 * this suite runs against the guest library only): wgpuInstanceWaitAny with
 * timeout 0, finite and infinite, and the three callback modes. */
#include <webgpu/webgpu.h>

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

    wgpuQueueRelease(queue);
    wgpuDeviceRelease(device);
    wgpuAdapterRelease(adapter);
    wgpuInstanceRelease(instance);
    return harness_finish("futures");
}
