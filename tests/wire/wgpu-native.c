/* What only wgpu-native's wgpu.h has, through libwgpu_native.so and a
 * server: the version, the log, adapter enumeration and its backends,
 * requests that answer before they return, native limits, submission
 * indices and wgpuDevicePoll waiting for submitted work, the report, and
 * the answers for what a guest cannot serve (docs/using.md). Written as a
 * program for wgpu-native is: callback modes left at zero. */
#include <webgpu/wgpu.h>

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "harness.h"

static WGPUInstance instance;
static WGPUAdapter adapter;
static WGPUDevice device;
static WGPUQueue queue;

/* ------------------------------------------------------------ callbacks */

struct log_seen {
    int messages;
    WGPULogLevel level;
    char text[256];
};

static void on_log(WGPULogLevel level, WGPUStringView message, void *userdata)
{
    struct log_seen *s = userdata;
    s->messages++;
    s->level = level;
    size_t n = message.length == WGPU_STRLEN ? strlen(message.data) : message.length;
    if (n >= sizeof(s->text))
        n = sizeof(s->text) - 1;
    memcpy(s->text, message.data, n);
    s->text[n] = 0;
}

struct adapter_answer {
    int calls;
    WGPURequestAdapterStatus status;
    WGPUAdapter adapter;
};

static void on_adapter(WGPURequestAdapterStatus s, WGPUAdapter a, WGPUStringView m, void *u1, void *u2)
{
    (void)m, (void)u2;
    struct adapter_answer *r = u1;
    r->calls++;
    r->status = s;
    r->adapter = a;
}

struct device_answer {
    int calls;
    WGPURequestDeviceStatus status;
    WGPUDevice device;
};

static void on_device(WGPURequestDeviceStatus s, WGPUDevice d, WGPUStringView m, void *u1, void *u2)
{
    (void)m, (void)u2;
    struct device_answer *r = u1;
    r->calls++;
    r->status = s;
    r->device = d;
}

struct map_answer {
    int calls;
    WGPUMapAsyncStatus status;
};

static void on_map(WGPUMapAsyncStatus s, WGPUStringView m, void *u1, void *u2)
{
    (void)m, (void)u2;
    struct map_answer *r = u1;
    r->calls++;
    r->status = s;
}

struct scope_answer {
    int calls;
    WGPUPopErrorScopeStatus status;
    WGPUErrorType type;
};

static void on_pop(WGPUPopErrorScopeStatus s, WGPUErrorType t, WGPUStringView m, void *u1, void *u2)
{
    (void)m, (void)u2;
    struct scope_answer *r = u1;
    r->calls++;
    r->status = s;
    r->type = t;
}

/* An instance whose InstanceExtras allows `backends` (0: all). */
static WGPUInstance instance_for(uint64_t backends)
{
    WGPUInstanceExtras extras;
    memset(&extras, 0, sizeof(extras));
    extras.chain.sType = (WGPUSType)WGPUSType_InstanceExtras;
    extras.backends = backends;
    WGPUInstanceDescriptor d = WGPU_INSTANCE_DESCRIPTOR_INIT;
    d.nextInChain = &extras.chain;
    return wgpuCreateInstance(&d);
}

/* Pops an error scope; the answer is there when the call returns. */
static WGPUErrorType pop_scope(void)
{
    struct scope_answer r = {0};
    wgpuDevicePopErrorScope(device, (WGPUPopErrorScopeCallbackInfo){.callback = on_pop, .userdata1 = &r});
    CHECK(r.calls == 1 && r.status == WGPUPopErrorScopeStatus_Success);
    return r.type;
}

/* ---------------------------------------------------------------- tests */

static void test_version_is_the_release_whose_headers_it_speaks(void)
{
    uint32_t v = wgpuGetVersion();
    CHECK_MSG(v == ((29u << 24) | (0u << 16) | (1u << 8) | 1u), "version 0x%08x", v);
    CHECK(wgpuGetProcAddress((WGPUStringView){"wgpuDevicePoll", WGPU_STRLEN}) == (WGPUProc)wgpuDevicePoll);
}

static void test_adapter_request_answers_before_it_returns(void)
{
    instance = instance_for(0);
    CHECK(instance != NULL);
    if (!instance)
        return;
    struct adapter_answer r = {0};
    wgpuInstanceRequestAdapter(instance, NULL,
                               (WGPURequestAdapterCallbackInfo){.callback = on_adapter, .userdata1 = &r});
    CHECK(r.calls == 1 && r.status == WGPURequestAdapterStatus_Success && r.adapter);
    adapter = r.adapter;
    wgpuInstanceProcessEvents(instance);
    CHECK(r.calls == 1);
}

static void test_enumerate_adapters_returns_the_hosts_adapter(void)
{
    size_t n = wgpuInstanceEnumerateAdapters(instance, NULL, NULL);
    CHECK_MSG(n >= 1 && n <= 3, "%zu adapters", n);
    WGPUAdapter list[3] = {NULL, NULL, NULL};
    size_t m = wgpuInstanceEnumerateAdapters(instance, NULL, list);
    CHECK(m == n);
    WGPUAdapterInfo want = WGPU_ADAPTER_INFO_INIT, got = WGPU_ADAPTER_INFO_INIT;
    CHECK(wgpuAdapterGetInfo(adapter, &want) == WGPUStatus_Success);
    bool found = false;
    for (size_t i = 0; i < m && i < 3; i++) {
        CHECK(list[i] != NULL);
        if (list[i] && wgpuAdapterGetInfo(list[i], &got) == WGPUStatus_Success) {
            found |= got.backendType == want.backendType && got.deviceID == want.deviceID &&
                     got.device.length == want.device.length &&
                     !memcmp(got.device.data, want.device.data, got.device.length);
            wgpuAdapterInfoFreeMembers(got);
        }
        if (list[i])
            wgpuAdapterRelease(list[i]);
    }
    CHECK(found);
    /* Options naming only a backend the host's adapter is not of find none. */
    uint64_t other = want.backendType == WGPUBackendType_Metal ? WGPUInstanceBackend_DX12
                                                               : WGPUInstanceBackend_Metal;
    WGPUInstanceEnumerateAdapterOptions only = {.backends = other};
    CHECK(wgpuInstanceEnumerateAdapters(instance, &only, NULL) == 0);
    wgpuAdapterInfoFreeMembers(want);
}

static void test_instance_extras_backends_choose_the_adapter(void)
{
    WGPUAdapterInfo info = WGPU_ADAPTER_INFO_INIT;
    CHECK(wgpuAdapterGetInfo(adapter, &info) == WGPUStatus_Success);
    uint64_t other = info.backendType == WGPUBackendType_Metal ? WGPUInstanceBackend_DX12
                                                               : WGPUInstanceBackend_Metal;
    wgpuAdapterInfoFreeMembers(info);
    WGPUInstance narrow = instance_for(other);
    CHECK(narrow != NULL);
    if (!narrow)
        return;
    struct adapter_answer r = {0};
    wgpuInstanceRequestAdapter(narrow, NULL,
                               (WGPURequestAdapterCallbackInfo){.callback = on_adapter, .userdata1 = &r});
    CHECK(r.calls == 1 && r.status == WGPURequestAdapterStatus_Unavailable && !r.adapter);
    wgpuInstanceRelease(narrow);
}

static void test_log_callback_and_level_are_accepted_and_used(void)
{
    struct log_seen seen = {0};
    wgpuSetLogCallback(on_log, &seen);
    /* Off (the default): nothing is passed on. */
    WGPUDeviceExtras extras = {.chain = {.sType = (WGPUSType)WGPUSType_DeviceExtras},
                               .tracePath = {"/tmp/trace", WGPU_STRLEN}};
    WGPUDeviceDescriptor d = WGPU_DEVICE_DESCRIPTOR_INIT;
    d.nextInChain = &extras.chain;
    struct device_answer r = {0};
    wgpuAdapterRequestDevice(adapter, &d, (WGPURequestDeviceCallbackInfo){.callback = on_device, .userdata1 = &r});
    CHECK(r.calls == 1 && r.status == WGPURequestDeviceStatus_Success && r.device);
    CHECK(seen.messages == 0);
    if (r.device)
        wgpuDeviceRelease(r.device);
    /* Warn: the ignored trace path is reported; the device is made. */
    wgpuSetLogLevel(WGPULogLevel_Warn);
    memset(&r, 0, sizeof(r));
    wgpuAdapterRequestDevice(adapter, &d, (WGPURequestDeviceCallbackInfo){.callback = on_device, .userdata1 = &r});
    CHECK(r.calls == 1 && r.status == WGPURequestDeviceStatus_Success && r.device);
    CHECK_MSG(seen.messages == 1 && seen.level == WGPULogLevel_Warn && strstr(seen.text, "tracePath"),
              "%d messages, last \"%s\"", seen.messages, seen.text);
    if (r.device)
        wgpuDeviceRelease(r.device);
    wgpuSetLogLevel(WGPULogLevel_Off);
    wgpuSetLogCallback(NULL, NULL);
}

static void test_native_limits_are_requested_and_reported(void)
{
    /* More binding-array elements than a guest device has: refused at once. */
    WGPUNativeLimits native = WGPU_NATIVE_LIMITS_INIT;
    native.maxBindingArrayElementsPerShaderStage = 16;
    WGPULimits limits = WGPU_LIMITS_INIT;
    limits.nextInChain = &native.chain;
    WGPUDeviceDescriptor d = WGPU_DEVICE_DESCRIPTOR_INIT;
    d.requiredLimits = &limits;
    struct device_answer r = {0};
    wgpuAdapterRequestDevice(adapter, &d, (WGPURequestDeviceCallbackInfo){.callback = on_device, .userdata1 = &r});
    CHECK(r.calls == 1 && r.status == WGPURequestDeviceStatus_Error && !r.device);
    /* Undefined native limits are granted. */
    native = (WGPUNativeLimits)WGPU_NATIVE_LIMITS_INIT;
    memset(&r, 0, sizeof(r));
    wgpuAdapterRequestDevice(adapter, &d, (WGPURequestDeviceCallbackInfo){.callback = on_device, .userdata1 = &r});
    CHECK(r.calls == 1 && r.status == WGPURequestDeviceStatus_Success && r.device);
    device = r.device;
    if (!device)
        return;
    queue = wgpuDeviceGetQueue(device);
    WGPUCompatibilityModeLimits compat = WGPU_COMPATIBILITY_MODE_LIMITS_INIT;
    WGPUNativeLimits got = WGPU_NATIVE_LIMITS_INIT;
    got.chain.next = &compat.chain;
    WGPULimits have = WGPU_LIMITS_INIT;
    have.nextInChain = &got.chain;
    CHECK(wgpuDeviceGetLimits(device, &have) == WGPUStatus_Success);
    CHECK(have.nextInChain == &got.chain);
    CHECK(got.maxNonSamplerBindings > 0 && got.maxNonSamplerBindings != WGPU_LIMIT_U32_UNDEFINED);
    CHECK(got.maxBindingArrayElementsPerShaderStage == 0 && got.maxMultiviewViewCount == 0);
    CHECK(compat.maxStorageBuffersInVertexStage == have.maxStorageBuffersPerShaderStage);
    CHECK(compat.maxStorageTexturesInFragmentStage == have.maxStorageTexturesPerShaderStage);
}

static void test_poll_waits_for_submitted_work(void)
{
    static const char *wgsl =
        "@group(0) @binding(0) var<storage, read_write> v: array<u32>;\n"
        "@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3u) {\n"
        "  v[id.x] = v[id.x] * 2u + 1u;\n"
        "}\n";
    enum { N = 256 };
    uint32_t in[N];
    for (uint32_t i = 0; i < N; i++)
        in[i] = i;
    WGPUShaderSourceWGSL src = WGPU_SHADER_SOURCE_WGSL_INIT;
    src.code = (WGPUStringView){wgsl, WGPU_STRLEN};
    WGPUShaderModuleDescriptor md = WGPU_SHADER_MODULE_DESCRIPTOR_INIT;
    md.nextInChain = &src.chain;
    WGPUShaderModule module = wgpuDeviceCreateShaderModule(device, &md);
    WGPUComputePipelineDescriptor pd = WGPU_COMPUTE_PIPELINE_DESCRIPTOR_INIT;
    pd.compute.module = module;
    pd.compute.entryPoint = (WGPUStringView){"main", WGPU_STRLEN};
    WGPUComputePipeline pipeline = wgpuDeviceCreateComputePipeline(device, &pd);
    WGPUBufferDescriptor bd = WGPU_BUFFER_DESCRIPTOR_INIT;
    bd.usage = WGPUBufferUsage_Storage | WGPUBufferUsage_CopySrc | WGPUBufferUsage_CopyDst;
    bd.size = sizeof(in);
    WGPUBuffer storage = wgpuDeviceCreateBuffer(device, &bd);
    bd.usage = WGPUBufferUsage_MapRead | WGPUBufferUsage_CopyDst;
    WGPUBuffer staging = wgpuDeviceCreateBuffer(device, &bd);
    wgpuQueueWriteBuffer(queue, storage, 0, in, sizeof(in));
    WGPUBindGroupEntry entry = WGPU_BIND_GROUP_ENTRY_INIT;
    entry.binding = 0;
    entry.buffer = storage;
    entry.size = sizeof(in);
    WGPUBindGroupDescriptor bgd = WGPU_BIND_GROUP_DESCRIPTOR_INIT;
    bgd.layout = wgpuComputePipelineGetBindGroupLayout(pipeline, 0);
    bgd.entryCount = 1;
    bgd.entries = &entry;
    WGPUBindGroup group = wgpuDeviceCreateBindGroup(device, &bgd);

    WGPUSubmissionIndex last = 0;
    for (int round = 0; round < 3; round++) {
        WGPUCommandEncoder enc = wgpuDeviceCreateCommandEncoder(device, NULL);
        WGPUComputePassEncoder pass = wgpuCommandEncoderBeginComputePass(enc, NULL);
        wgpuComputePassEncoderSetPipeline(pass, pipeline);
        wgpuComputePassEncoderSetBindGroup(pass, 0, group, 0, NULL);
        wgpuComputePassEncoderDispatchWorkgroups(pass, N / 64, 1, 1);
        wgpuComputePassEncoderEnd(pass);
        wgpuComputePassEncoderRelease(pass);
        if (round == 2)
            wgpuCommandEncoderCopyBufferToBuffer(enc, storage, 0, staging, 0, sizeof(in));
        WGPUCommandBuffer cb = wgpuCommandEncoderFinish(enc, NULL);
        WGPUSubmissionIndex index = wgpuQueueSubmitForIndex(queue, 1, &cb);
        CHECK_MSG(index > last, "index %llu after %llu", (unsigned long long)index, (unsigned long long)last);
        last = index;
        wgpuCommandBufferRelease(cb);
        wgpuCommandEncoderRelease(enc);
    }
    /* As wgpu-native's own examples do: map, then poll with wait. */
    struct map_answer map = {0};
    wgpuBufferMapAsync(staging, WGPUMapMode_Read, 0, sizeof(in),
                       (WGPUBufferMapCallbackInfo){.callback = on_map, .userdata1 = &map});
    CHECK(wgpuDevicePoll(device, 1, &last));
    CHECK_MSG(map.calls == 1 && map.status == WGPUMapAsyncStatus_Success, "%d calls, status %d", map.calls,
              (int)map.status);
    const uint32_t *out = wgpuBufferGetConstMappedRange(staging, 0, sizeof(in));
    CHECK(out != NULL);
    int wrong = 0;
    for (uint32_t i = 0; out && i < N; i++)
        wrong += out[i] != ((i * 2 + 1) * 2 + 1) * 2 + 1;
    CHECK_MSG(wrong == 0, "%d wrong values", wrong);
    wgpuBufferUnmap(staging);
    /* Nothing in flight: a poll without waiting says the queue is empty. */
    CHECK(wgpuDevicePoll(device, 0, NULL));
    CHECK(wgpuQueueGetTimestampPeriod(queue) == 1.0f);

    wgpuBindGroupRelease(group);
    wgpuBindGroupLayoutRelease(bgd.layout);
    wgpuBufferRelease(storage);
    wgpuBufferRelease(staging);
    wgpuComputePipelineRelease(pipeline);
    wgpuShaderModuleRelease(module);
}

static void test_error_scope_pops_before_it_returns(void)
{
    wgpuDevicePushErrorScope(device, WGPUErrorFilter_Validation);
    WGPUBufferDescriptor bd = WGPU_BUFFER_DESCRIPTOR_INIT;
    bd.usage = WGPUBufferUsage_MapRead | WGPUBufferUsage_MapWrite; /* never valid together */
    bd.size = 16;
    WGPUBuffer b = wgpuDeviceCreateBuffer(device, &bd);
    CHECK(pop_scope() == WGPUErrorType_Validation);
    wgpuBufferRelease(b);
    wgpuDevicePushErrorScope(device, WGPUErrorFilter_Validation);
    CHECK(pop_scope() == WGPUErrorType_NoError);
}

static void test_commands_of_features_the_host_lacks_are_validation_errors(void)
{
    WGPUTextureDescriptor td = WGPU_TEXTURE_DESCRIPTOR_INIT;
    td.usage = WGPUTextureUsage_CopyDst;
    td.size = (WGPUExtent3D){4, 4, 1};
    td.format = WGPUTextureFormat_RGBA8Unorm;
    WGPUTexture t = wgpuDeviceCreateTexture(device, &td);
    wgpuDevicePushErrorScope(device, WGPUErrorFilter_Validation);
    WGPUCommandEncoder enc = wgpuDeviceCreateCommandEncoder(device, NULL);
    WGPUImageSubresourceRange range = {.aspect = WGPUTextureAspect_All, .mipLevelCount = 1, .arrayLayerCount = 1};
    wgpuCommandEncoderClearTexture(enc, t, &range);
    WGPUCommandBuffer cb = wgpuCommandEncoderFinish(enc, NULL);
    CHECK(pop_scope() == WGPUErrorType_Validation);
    wgpuCommandBufferRelease(cb);
    wgpuCommandEncoderRelease(enc);
    wgpuTextureRelease(t);
    /* Immediates and timestamps inside passes reach the host's commands of
     * Dawn's names, which refuse them on a device without their feature or
     * layout. */
    uint32_t data = 7;
    wgpuDevicePushErrorScope(device, WGPUErrorFilter_Validation);
    enc = wgpuDeviceCreateCommandEncoder(device, NULL);
    WGPUComputePassEncoder pass = wgpuCommandEncoderBeginComputePass(enc, NULL);
    wgpuComputePassEncoderSetImmediates(pass, 0, &data, sizeof(data));
    wgpuComputePassEncoderEnd(pass);
    wgpuComputePassEncoderRelease(pass);
    cb = wgpuCommandEncoderFinish(enc, NULL);
    CHECK(pop_scope() == WGPUErrorType_Validation);
    wgpuCommandBufferRelease(cb);
    wgpuCommandEncoderRelease(enc);
    /* A native feature the wire cannot name fails the device request. */
    WGPUFeatureName f = (WGPUFeatureName)WGPUNativeFeature_PipelineStatisticsQuery;
    WGPUDeviceDescriptor d = WGPU_DEVICE_DESCRIPTOR_INIT;
    d.requiredFeatureCount = 1;
    d.requiredFeatures = &f;
    struct device_answer r = {0};
    wgpuAdapterRequestDevice(adapter, &d, (WGPURequestDeviceCallbackInfo){.callback = on_device, .userdata1 = &r});
    CHECK(r.calls == 1 && r.status == WGPURequestDeviceStatus_Error && !r.device);
    CHECK(!wgpuDeviceHasFeature(device, (WGPUFeatureName)WGPUNativeFeature_PipelineStatisticsQuery));
}

/* A bind group layout with one storage-buffer entry, the entry carrying
 * `extras` (NULL: none); returns the error it raised. */
static WGPUErrorType layout_error(const WGPUBindGroupLayoutEntryExtras *extras)
{
    WGPUBindGroupLayoutEntry e = WGPU_BIND_GROUP_LAYOUT_ENTRY_INIT;
    e.nextInChain = extras ? (WGPUChainedStruct *)&extras->chain : NULL;
    e.binding = 0;
    e.visibility = WGPUShaderStage_Compute;
    e.buffer.type = WGPUBufferBindingType_Storage;
    WGPUBindGroupLayoutDescriptor d = WGPU_BIND_GROUP_LAYOUT_DESCRIPTOR_INIT;
    d.entryCount = 1;
    d.entries = &e;
    wgpuDevicePushErrorScope(device, WGPUErrorFilter_Validation);
    WGPUBindGroupLayout l = wgpuDeviceCreateBindGroupLayout(device, &d);
    WGPUErrorType t = pop_scope();
    wgpuBindGroupLayoutRelease(l);
    return t;
}

static void test_extras_asking_nothing_change_nothing(void)
{
    /* Zeroed extras, as a program fills them in before setting what it
     * wants, describe the plain object. */
    WGPUBindGroupLayoutEntryExtras le = {.chain = {.sType = (WGPUSType)WGPUSType_BindGroupLayoutEntryExtras}};
    CHECK(layout_error(&le) == WGPUErrorType_NoError);
    WGPUSamplerDescriptorExtras se = {.chain = {.sType = (WGPUSType)WGPUSType_SamplerDescriptorExtras}};
    WGPUSamplerDescriptor sd = WGPU_SAMPLER_DESCRIPTOR_INIT;
    sd.nextInChain = &se.chain;
    WGPUQuerySetDescriptorExtras qe = {.chain = {.sType = (WGPUSType)WGPUSType_QuerySetDescriptorExtras}};
    WGPUQuerySetDescriptor qd = WGPU_QUERY_SET_DESCRIPTOR_INIT;
    qd.nextInChain = &qe.chain;
    qd.type = WGPUQueryType_Occlusion;
    qd.count = 4;
    wgpuDevicePushErrorScope(device, WGPUErrorFilter_Validation);
    WGPUSampler sampler = wgpuDeviceCreateSampler(device, &sd);
    WGPUQuerySet qs = wgpuDeviceCreateQuerySet(device, &qd);
    CHECK(pop_scope() == WGPUErrorType_NoError);
    CHECK(wgpuQuerySetGetCount(qs) == 4);
    wgpuSamplerRelease(sampler);
    wgpuQuerySetRelease(qs);
    /* Asking for something through them (a binding array here) is what the
     * host's device cannot do: a validation error, as wgpu-native gives on a
     * device without the feature. */
    le.count = 4;
    CHECK(layout_error(&le) == WGPUErrorType_Validation);
    CHECK(layout_error(NULL) == WGPUErrorType_NoError);
    /* A compatibility-mode setting, which a core device ignores. */
    WGPUTextureBindingViewDimension vd = WGPU_TEXTURE_BINDING_VIEW_DIMENSION_INIT;
    vd.textureBindingViewDimension = WGPUTextureViewDimension_2DArray;
    WGPUTextureDescriptor td = WGPU_TEXTURE_DESCRIPTOR_INIT;
    td.nextInChain = &vd.chain;
    td.usage = WGPUTextureUsage_TextureBinding;
    td.size = (WGPUExtent3D){4, 4, 2};
    td.format = WGPUTextureFormat_RGBA8Unorm;
    wgpuDevicePushErrorScope(device, WGPUErrorFilter_Validation);
    WGPUTexture t = wgpuDeviceCreateTexture(device, &td);
    CHECK(pop_scope() == WGPUErrorType_NoError);
    wgpuTextureRelease(t);
}

static void test_report_counts_the_objects_held(void)
{
    WGPUGlobalReport before, after;
    wgpuGenerateReport(instance, &before);
    WGPUBufferDescriptor bd = WGPU_BUFFER_DESCRIPTOR_INIT;
    bd.usage = WGPUBufferUsage_CopyDst;
    bd.size = 16;
    WGPUBuffer b[3];
    for (int i = 0; i < 3; i++)
        b[i] = wgpuDeviceCreateBuffer(device, &bd);
    wgpuGenerateReport(instance, &after);
    CHECK(after.hub.buffers.numAllocated == before.hub.buffers.numAllocated + 3);
    CHECK(after.hub.devices.numAllocated >= 1 && after.hub.queues.numAllocated >= 1);
    for (int i = 0; i < 3; i++)
        wgpuBufferRelease(b[i]);
    wgpuGenerateReport(instance, &after);
    CHECK(after.hub.buffers.numAllocated == before.hub.buffers.numAllocated);
}

int main(void)
{
    RUN(test_version_is_the_release_whose_headers_it_speaks);
    RUN(test_adapter_request_answers_before_it_returns);
    if (!adapter)
        return harness_finish("wgpu-native");
    RUN(test_enumerate_adapters_returns_the_hosts_adapter);
    RUN(test_instance_extras_backends_choose_the_adapter);
    RUN(test_log_callback_and_level_are_accepted_and_used);
    RUN(test_native_limits_are_requested_and_reported);
    if (device) {
        RUN(test_poll_waits_for_submitted_work);
        RUN(test_error_scope_pops_before_it_returns);
        RUN(test_commands_of_features_the_host_lacks_are_validation_errors);
        RUN(test_extras_asking_nothing_change_nothing);
        RUN(test_report_counts_the_objects_held);
        wgpuQueueRelease(queue);
        wgpuDeviceRelease(device);
    }
    wgpuAdapterRelease(adapter);
    wgpuInstanceRelease(instance);
    return harness_finish("wgpu-native");
}
