/* Adapter and device facts that are fixed on a given machine: backend and
 * adapter type, whether the info strings are present, features asked for
 * by name, and limits as 'at least' / 'at most' checks (the wire may clamp
 * limits, so exact values are never printed). */
#include "util.h"

static void info(const char *who, WGPUAdapterInfo *i)
{
    say("%s: backend %s, type %s, vendor %s, device %s, description %s", who,
        backend_name(i->backendType), adapter_type_name(i->adapterType),
        i->vendor.length && i->vendor.data ? "present" : "empty",
        i->device.length && i->device.data ? "present" : "empty",
        i->description.length && i->description.data ? "present" : "empty");
}

static void limits(const char *who, const WGPULimits *l)
{
    /* The WebGPU core defaults: every adapter must reach them. */
    say("%s: maxTextureDimension2D >= 8192: %s", who, l->maxTextureDimension2D >= 8192 ? "yes" : "no");
    say("%s: maxTextureArrayLayers >= 256: %s", who, l->maxTextureArrayLayers >= 256 ? "yes" : "no");
    say("%s: maxBindGroups >= 4: %s", who, l->maxBindGroups >= 4 ? "yes" : "no");
    say("%s: maxStorageBuffersPerShaderStage >= 8: %s", who, l->maxStorageBuffersPerShaderStage >= 8 ? "yes" : "no");
    say("%s: maxUniformBufferBindingSize >= 65536: %s", who, l->maxUniformBufferBindingSize >= 65536 ? "yes" : "no");
    say("%s: maxStorageBufferBindingSize >= 128 MiB: %s", who, l->maxStorageBufferBindingSize >= (128u << 20) ? "yes" : "no");
    say("%s: maxBufferSize >= 256 MiB: %s", who, l->maxBufferSize >= (256u << 20) ? "yes" : "no");
    say("%s: minUniformBufferOffsetAlignment <= 256: %s", who, l->minUniformBufferOffsetAlignment <= 256 ? "yes" : "no");
    say("%s: maxComputeInvocationsPerWorkgroup >= 256: %s", who, l->maxComputeInvocationsPerWorkgroup >= 256 ? "yes" : "no");
    say("%s: maxComputeWorkgroupStorageSize >= 16384: %s", who, l->maxComputeWorkgroupStorageSize >= 16384 ? "yes" : "no");
    say("%s: maxComputeWorkgroupsPerDimension >= 65535: %s", who, l->maxComputeWorkgroupsPerDimension >= 65535 ? "yes" : "no");
    say("%s: maxVertexAttributes >= 16: %s", who, l->maxVertexAttributes >= 16 ? "yes" : "no");
    say("%s: maxColorAttachments >= 8: %s", who, l->maxColorAttachments >= 8 ? "yes" : "no");
    CHECK(l->maxBindGroups >= 4 && l->maxTextureDimension2D >= 8192);
}

int main(void)
{
    struct ctx c;
    ctx_init(&c);

    WGPUAdapterInfo ai = {0};
    CHECK(wgpuAdapterGetInfo(c.adapter, &ai) == WGPUStatus_Success);
    info("adapter", &ai);
    WGPUAdapterInfo di = {0};
    CHECK(wgpuDeviceGetAdapterInfo(c.device, &di) == WGPUStatus_Success);
    info("device's adapter", &di);
    say("same backend and type: %s",
        ai.backendType == di.backendType && ai.adapterType == di.adapterType ? "yes" : "no");
    wgpuAdapterInfoFreeMembers(ai);
    wgpuAdapterInfoFreeMembers(di);

    WGPULimits al = {0}, dl = {0};
    CHECK(wgpuAdapterGetLimits(c.adapter, &al) == WGPUStatus_Success);
    CHECK(wgpuDeviceGetLimits(c.device, &dl) == WGPUStatus_Success);
    limits("adapter", &al);
    limits("device", &dl);
    say("device limits within the adapter's: %s",
        dl.maxBufferSize <= al.maxBufferSize && dl.maxBindGroups <= al.maxBindGroups &&
        dl.maxComputeInvocationsPerWorkgroup <= al.maxComputeInvocationsPerWorkgroup ? "yes" : "no");

    struct { const char *name; WGPUFeatureName f; } feats[] = {
        {"TimestampQuery", WGPUFeatureName_TimestampQuery},
        {"Depth32FloatStencil8", WGPUFeatureName_Depth32FloatStencil8},
        {"IndirectFirstInstance", WGPUFeatureName_IndirectFirstInstance},
        {"ShaderF16", WGPUFeatureName_ShaderF16},
        {"Float32Filterable", WGPUFeatureName_Float32Filterable},
        {"BGRA8UnormStorage", WGPUFeatureName_BGRA8UnormStorage},
    };
    for (size_t i = 0; i < sizeof feats / sizeof feats[0]; i++)
        say("feature %s: adapter %s, device (not requested) %s", feats[i].name,
            wgpuAdapterHasFeature(c.adapter, feats[i].f) ? "yes" : "no",
            wgpuDeviceHasFeature(c.device, feats[i].f) ? "yes" : "no");

    /* The device's feature list agrees with HasFeature. */
    WGPUSupportedFeatures sf = {0};
    wgpuDeviceGetFeatures(c.device, &sf);
    int agree = 1;
    for (size_t i = 0; i < sf.featureCount; i++)
        agree &= wgpuDeviceHasFeature(c.device, sf.features[i]) != 0;
    say("device feature list agrees with HasFeature: %s", agree ? "yes" : "no");
    CHECK(agree);
    wgpuSupportedFeaturesFreeMembers(sf);

    say("WGSL readonly_and_readwrite_storage_textures: %s",
        wgpuInstanceHasWGSLLanguageFeature(c.instance, WGPUWGSLLanguageFeatureName_ReadonlyAndReadwriteStorageTextures) ? "yes" : "no");

    /* Requesting a limit above the adapter's fails the device request. */
    WGPULimits too_much = al;
    too_much.nextInChain = NULL;
    too_much.maxBindGroups = al.maxBindGroups + 1;
    WGPUDeviceDescriptor dd = {.requiredLimits = &too_much};
    struct util_device_req r = {0};
    WGPURequestDeviceCallbackInfo ci = {.mode = WGPUCallbackMode_AllowProcessEvents,
                                        .callback = util_on_device, .userdata1 = &r};
    wgpuAdapterRequestDevice(c.adapter, &dd, ci);
    CHECK(wait_until(c.instance, &r.done));
    say("device with maxBindGroups above the adapter's: %s",
        r.status == WGPURequestDeviceStatus_Success ? "Success" : "Error");
    if (r.device)
        wgpuDeviceRelease(r.device);

    ctx_release(&c);
    return finish();
}
