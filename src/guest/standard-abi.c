/* What only the standard webgpu.h has (and so the standard front and the
 * wgpu-native front, not the Dawn one): instance features and limits asked
 * for in the instance descriptor, the texture getter the pinned Dawn lacks,
 * and an adapter info nothing is chained onto. */
#include <stdlib.h>
#include <string.h>

#include "standard-abi.h"

WGPUInstance wgv_instance_new_standard(WGPUInstanceDescriptor const *descriptor)
{
    bool timed = false;
    if (descriptor) {
        for (size_t i = 0; i < descriptor->requiredFeatureCount; i++) {
            WGPUInstanceFeatureName f = descriptor->requiredFeatures[i];
            if (f == WGPUInstanceFeatureName_TimedWaitAny)
                timed = true;
            else
                return NULL; /* a feature this implementation lacks */
        }
        if (descriptor->requiredLimits &&
            descriptor->requiredLimits->timedWaitAnyMaxCount > WGV_TIMED_WAIT_ANY_MAX)
            return NULL;
    }
    return wgv_instance_new(timed);
}

WGPU_EXPORT void wgpuGetInstanceFeatures(WGPUSupportedInstanceFeatures *features)
{
    static const WGPUInstanceFeatureName supported[] = {WGPUInstanceFeatureName_TimedWaitAny};
    WGPUInstanceFeatureName *copy = malloc(sizeof(supported));
    features->featureCount = copy ? 1 : 0;
    if (copy)
        memcpy(copy, supported, sizeof(supported));
    features->features = copy;
}

WGPU_EXPORT void wgpuSupportedInstanceFeaturesFreeMembers(WGPUSupportedInstanceFeatures f)
{
    free((void *)f.features);
}

WGPU_EXPORT WGPUStatus wgpuGetInstanceLimits(WGPUInstanceLimits *limits)
{
    if (!limits || limits->nextInChain)
        return WGPUStatus_Error;
    limits->timedWaitAnyMaxCount = WGV_TIMED_WAIT_ANY_MAX;
    return WGPUStatus_Success;
}

WGPU_EXPORT WGPUBool wgpuHasInstanceFeature(WGPUInstanceFeatureName feature)
{
    return feature == WGPUInstanceFeatureName_TimedWaitAny;
}

WGPU_EXPORT void wgpuInstanceGetWGSLLanguageFeatures(WGPUInstance instance,
                                                     WGPUSupportedWGSLLanguageFeatures *features)
{
    wgv_instance_wgsl_features(instance, features);
}

WGPU_EXPORT WGPUStatus wgpuSurfacePresent(WGPUSurface surface)
{
    (void)surface;
    return WGPUStatus_Error; /* a guest has no surface (instance.c) */
}

/* The standard ABI chains nothing onto an adapter's info. */
void wgv_front_adapter_state(struct wgv_adapter *a, const WGPUAdapterInfo *decoded)
{
    (void)a, (void)decoded;
}

WGPUStatus wgv_front_adapter_info(struct wgv_adapter *a, WGPUAdapterInfo *info)
{
    (void)a, (void)info;
    return WGPUStatus_Success;
}

void wgv_front_adapter_free(struct wgv_adapter *a)
{
    (void)a;
}

WGPU_EXPORT WGPUTextureViewDimension wgpuTextureGetTextureBindingViewDimension(WGPUTexture texture)
{
    return ((struct wgv_texture *)texture)->binding_view_dimension;
}
