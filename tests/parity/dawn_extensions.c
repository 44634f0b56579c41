/* What only the pinned Dawn's header has (built for the native and
 * wire-dawn variants alone): instance capabilities and timed waits, the
 * features a Dawn-built program checks for, GetInfo with the
 * subgroup-matrix chain, getters of the adapter and instance behind a
 * device, wgpuDeviceTick, injected errors (device and encoder), an error
 * buffer, synchronous device creation and WGSL language features Dawn adds.
 * The transcript must be the same natively and through the Dawn front. */
#include "util.h"

static const char *status_name(WGPUStatus s)
{
    return s == WGPUStatus_Success ? "Success" : s == WGPUStatus_Error ? "Error" : "?";
}

static void on_work_done(WGPUQueueWorkDoneStatus status, WGPUStringView message, void *u1, void *u2)
{
    (void)message, (void)u2;
    *(int *)u1 = status == WGPUQueueWorkDoneStatus_Success ? 1 : 2;
}

int main(void)
{
    WGPUInstanceCapabilities caps = WGPU_INSTANCE_CAPABILITIES_INIT;
    WGPUStatus st = wgpuGetInstanceCapabilities(&caps);
    say("instance capabilities: %s, timed waits %s, at least 1 future: %s", status_name(st),
        caps.timedWaitAnyEnable ? "yes" : "no", caps.timedWaitAnyMaxCount >= 1 ? "yes" : "no");

    WGPUInstanceDescriptor idesc = WGPU_INSTANCE_DESCRIPTOR_INIT;
    idesc.capabilities.timedWaitAnyEnable = 1;
    util_instance_descriptor = &idesc;
    struct ctx c;
    ctx_init(&c);

    WGPUFeatureName sync = WGPUFeatureName_ImplicitDeviceSynchronization;
    say("adapter has ShaderF16: %s, ImplicitDeviceSynchronization: %s",
        wgpuAdapterHasFeature(c.adapter, WGPUFeatureName_ShaderF16) ? "yes" : "no",
        wgpuAdapterHasFeature(c.adapter, sync) ? "yes" : "no");

    /* The subgroup-matrix configurations chained onto GetInfo: where the
     * adapter lacks the feature, the answer must still agree with Dawn's. */
    WGPUAdapterPropertiesSubgroupMatrixConfigs sg = WGPU_ADAPTER_PROPERTIES_SUBGROUP_MATRIX_CONFIGS_INIT;
    WGPUAdapterInfo info = WGPU_ADAPTER_INFO_INIT;
    info.nextInChain = &sg.chain;
    st = wgpuAdapterGetInfo(c.adapter, &info);
    say("GetInfo with subgroup-matrix configurations: %s, feature %s, %zu configurations",
        status_name(st),
        wgpuAdapterHasFeature(c.adapter, WGPUFeatureName_ChromiumExperimentalSubgroupMatrix) ? "yes" : "no",
        st == WGPUStatus_Success ? sg.configCount : 0);
    if (st == WGPUStatus_Success) {
        wgpuAdapterInfoFreeMembers(info);
        wgpuAdapterPropertiesSubgroupMatrixConfigsFreeMembers(sg);
    }

    /* A device that asks for ImplicitDeviceSynchronization, created
     * synchronously. */
    WGPUDeviceDescriptor dd = WGPU_DEVICE_DESCRIPTOR_INIT;
    if (wgpuAdapterHasFeature(c.adapter, sync)) {
        dd.requiredFeatureCount = 1;
        dd.requiredFeatures = &sync;
    }
    WGPUDevice second = wgpuAdapterCreateDevice(c.adapter, &dd);
    say("wgpuAdapterCreateDevice: %s, has ImplicitDeviceSynchronization: %s", second ? "a device" : "none",
        second && wgpuDeviceHasFeature(second, sync) ? "yes" : "no");
    if (second)
        wgpuDeviceRelease(second);

    WGPUAdapter adapter = wgpuDeviceGetAdapter(c.device);
    WGPUInstance instance = wgpuAdapterGetInstance(c.adapter);
    say("device's adapter is the adapter: %s; adapter's instance is the instance: %s",
        adapter == c.adapter ? "yes" : "no", instance == c.instance ? "yes" : "no");
    wgpuAdapterRelease(adapter);
    wgpuInstanceRelease(instance);

    /* Timed wait on work done, driven by wgpuDeviceTick. */
    int done = 0;
    WGPUQueueWorkDoneCallbackInfo wd = {.mode = WGPUCallbackMode_WaitAnyOnly, .callback = on_work_done,
                                        .userdata1 = &done};
    WGPUFutureWaitInfo w = {wgpuQueueOnSubmittedWorkDone(c.queue, wd), 0};
    wgpuDeviceTick(c.device);
    WGPUWaitStatus ws = wgpuInstanceWaitAny(c.instance, 1, &w, 10ull * 1000 * 1000 * 1000);
    say("timed WaitAny on work done: %s, callback %s",
        ws == WGPUWaitStatus_Success ? "Success" : "not Success", done == 1 ? "Success" : "missing");

    /* Injected errors. */
    push_scope(&c, WGPUErrorFilter_Validation);
    wgpuDeviceInjectError(c.device, WGPUErrorType_Validation, sv("injected"));
    say("injected validation error: %s", error_type_name(pop_scope(&c)));
    push_scope(&c, WGPUErrorFilter_Validation);
    WGPUCommandEncoder enc = encoder(&c);
    wgpuCommandEncoderInjectValidationError(enc, sv("injected into an encoder"));
    WGPUCommandBuffer cb = wgpuCommandEncoderFinish(enc, NULL);
    wgpuCommandEncoderRelease(enc);
    if (cb)
        wgpuCommandBufferRelease(cb);
    say("encoder with an injected error, finished: %s", error_type_name(pop_scope(&c)));

    /* An error buffer: an object whose use is an error, with its getters. */
    push_scope(&c, WGPUErrorFilter_Validation);
    WGPUBufferDescriptor bd = WGPU_BUFFER_DESCRIPTOR_INIT;
    bd.size = 256;
    bd.usage = WGPUBufferUsage_CopyDst | WGPUBufferUsage_Storage;
    WGPUBuffer eb = wgpuDeviceCreateErrorBuffer(c.device, &bd);
    say("error buffer: size %llu, usage 0x%llx", (unsigned long long)wgpuBufferGetSize(eb),
        (unsigned long long)wgpuBufferGetUsage(eb));
    uint32_t zero = 0;
    wgpuQueueWriteBuffer(c.queue, eb, 0, &zero, sizeof zero);
    say("writing to it: %s", error_type_name(pop_scope(&c)));
    wgpuBufferRelease(eb);

    say("WGSL language feature SizedBindingArray: %s, TexelBuffers: %s",
        wgpuInstanceHasWGSLLanguageFeature(c.instance, WGPUWGSLLanguageFeatureName_SizedBindingArray) ? "yes" : "no",
        wgpuInstanceHasWGSLLanguageFeature(c.instance, WGPUWGSLLanguageFeatureName_TexelBuffers) ? "yes" : "no");

    ctx_release(&c);
    return finish();
}
