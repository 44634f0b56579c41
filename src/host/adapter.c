/* Hand-written commands of the instance and adapters: requestAdapter (the
 * Null-adapter policy) and requestDevice (limits capped by the policy, the
 * device's events), and the state replies their callbacks send. */
#include "context.h"

#include <string.h>

#include "protocol.h"

struct wgv_hcb_RequestAdapterCallback wgv_host_adapter_unavailable(const char *why)
{
    struct wgv_hcb_RequestAdapterCallback r;
    memset(&r, 0, sizeof(r));
    r.status = WGPURequestAdapterStatus_Unavailable;
    r.message = (WGPUStringView){why, strlen(why)};
    return r;
}

/* Whether an adapter the backend found may go to the guest: Dawn's Null
 * adapter only where the host allows it. */
bool wgv_host_adapter_allowed(struct wgv_context *ctx, void *adapter)
{
    if (wgv_host_allows_null_adapter(ctx->host))
        return true;
    WGPUAdapterInfo info = WGPU_ADAPTER_INFO_INIT;
    if (ctx->procs->adapterGetInfo(adapter, &info) != WGPUStatus_Success)
        return false;
    bool is_null = info.backendType == WGPUBackendType_Null;
    ctx->procs->adapterInfoFreeMembers(info);
    if (is_null)
        wgv_host_log(ctx->host, WGV_LOG_INFO, "context %u: Dawn's Null adapter withheld from "
                     "the guest (the host allows it only with --null)", ctx->id);
    return !is_null;
}

void wgv_host_send_adapter_state(struct wgv_context *ctx, void *adapter, uint64_t handle)
{
    WGPUAdapterInfo info = WGPU_ADAPTER_INFO_INIT;
    WGPULimits limits = WGPU_LIMITS_INIT;
    WGPUSupportedFeatures features = WGPU_SUPPORTED_FEATURES_INIT;
    /* The subgroup-matrix shapes travel chained onto the info, as Dawn
     * gives them (an extension on the wire, docs/protocol.md). */
    WGPUAdapterPropertiesSubgroupMatrixConfigs sg = WGPU_ADAPTER_PROPERTIES_SUBGROUP_MATRIX_CONFIGS_INIT;
    bool has_sg = ctx->procs->adapterHasFeature(adapter, WGPUFeatureName_ChromiumExperimentalSubgroupMatrix);
    if (has_sg)
        info.nextInChain = &sg.chain;
    if (ctx->procs->adapterGetInfo(adapter, &info) != WGPUStatus_Success && has_sg) {
        info.nextInChain = NULL;
        has_sg = false;
        ctx->procs->adapterGetInfo(adapter, &info);
    }
    ctx->procs->adapterGetLimits(adapter, &limits);
    ctx->procs->adapterGetFeatures(adapter, &features);
    if (info.adapterType == WGPUAdapterType_CPU)
        ctx->cpu_adapter = true;
    /* The guest is told the policy's limits where they are lower. */
    if (limits.maxBufferSize > ctx->policy.max_memory)
        limits.maxBufferSize = ctx->policy.max_memory;
    if (limits.maxStorageBufferBindingSize > ctx->policy.max_memory)
        limits.maxStorageBufferBindingSize = ctx->policy.max_memory;
    const uint32_t shapes[] = {WGV_SHAPE_AdapterInfo, WGV_SHAPE_Limits, WGV_SHAPE_SupportedFeatures};
    const void *const args[] = {&info, &limits, &features};
    wgv_host_send_reply(ctx, WGV_REPLY_ADAPTER_STATE, 0, handle, shapes, args, 3);
    ctx->procs->adapterInfoFreeMembers(info);
    if (has_sg)
        ctx->procs->adapterPropertiesSubgroupMatrixConfigsFreeMembers(sg);
    ctx->procs->supportedFeaturesFreeMembers(features);
}

void wgv_host_send_device_state(struct wgv_context *ctx, void *device, uint64_t handle)
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

void wgv_host_exec_wgpuInstanceRequestAdapter(struct wgv_context *ctx,
                                              struct wgv_ha_wgpuInstanceRequestAdapter *a)
{
    WGPURequestAdapterOptions options = WGPU_REQUEST_ADAPTER_OPTIONS_INIT;
    if (a->options)
        options = *a->options;
    wgv_host_filter_toggles(ctx, "adapter", options.nextInChain);
    if (ctx->host->config.force_backend)
        options.backendType = (WGPUBackendType)ctx->host->config.force_backend;
    struct wgv_pending *p = wgv_host_pending_new(ctx, WGV_CB_RequestAdapterCallback,
                                                 a->callbackInfo_future, a->result, false);
    if (!p)
        return;
    if (options.backendType == WGPUBackendType_Null && !wgv_host_allows_null_adapter(ctx->host)) {
        struct wgv_hcb_RequestAdapterCallback no =
            wgv_host_adapter_unavailable(WGV_NULL_NOT_OFFERED);
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
    wgv_host_filter_toggles(ctx, "device", desc.nextInChain);
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
    lost->errors = error;
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
