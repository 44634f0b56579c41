/* The instance: creating one connects to a host; waiting and event
 * processing drive the client's replies. Surfaces have no display here.
 * How a descriptor asks for timed waits differs by ABI (front-*.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest.h"

#define I(x) ((struct wgv_instance *)(x))

WGPUInstance wgv_instance_new(bool timed_wait_any)
{
    char err[256];
    struct wgv_client *c = wgv_client_create(err, sizeof(err));
    if (!c) {
        fprintf(stderr, "webgpu-virtio: %s\n", err);
        return NULL;
    }
    struct wgv_instance *inst = I(wgv_object_create(c, WGV_OBJ_Instance, NULL));
    wgv_client_unref(c); /* the instance holds the client now */
    if (!inst)
        return NULL;
    inst->timed_wait_any = timed_wait_any;
    return (WGPUInstance)inst;
}

WGPU_EXPORT WGPUProc wgpuGetProcAddress(WGPUStringView procName)
{
    if (!procName.data)
        return NULL;
    size_t len = procName.length == WGPU_STRLEN ? strlen(procName.data) : procName.length;
    return wgv_guest_proc_address(procName.data, len);
}

WGPU_EXPORT WGPUWaitStatus wgpuInstanceWaitAny(WGPUInstance instance, size_t futureCount,
                                               WGPUFutureWaitInfo *futures, uint64_t timeoutNS)
{
    struct wgv_instance *inst = I(instance);
    if (timeoutNS > 0 && futureCount > WGV_TIMED_WAIT_ANY_MAX)
        return WGPUWaitStatus_Error;
    return wgv_client_wait_any(inst->base.client, futureCount, futures, timeoutNS,
                               inst->timed_wait_any);
}

WGPU_EXPORT void wgpuInstanceProcessEvents(WGPUInstance instance)
{
    wgv_client_process_events(I(instance)->base.client);
}

/* The host sends its instance's WGSL language features as the first reply;
 * the first question waits for it. */
static void wait_wgsl_features(struct wgv_client *c)
{
    for (int i = 0; i < 5000; i++) {
        wgv_client_pump(c);
        pthread_mutex_lock(&c->lock);
        bool done = c->have_wgsl_features || c->lost;
        uint64_t point = c->t->wait_point(c->t);
        pthread_mutex_unlock(&c->lock);
        if (done)
            return;
        c->t->wait(c->t, point, 1000 * 1000);
    }
}

bool wgv_instance_wgsl_features(WGPUInstance instance, WGPUSupportedWGSLLanguageFeatures *features)
{
    struct wgv_client *c = I(instance)->base.client;
    wait_wgsl_features(c);
    features->featureCount = 0;
    features->features = NULL;
    size_t n = c->wgsl_feature_count;
    if (!n)
        return true;
    WGPUWGSLLanguageFeatureName *copy = malloc(n * sizeof(*copy));
    if (!copy)
        return false;
    memcpy(copy, c->wgsl_features, n * sizeof(*copy));
    features->features = copy;
    features->featureCount = n;
    return true;
}

WGPU_EXPORT WGPUBool wgpuInstanceHasWGSLLanguageFeature(WGPUInstance instance,
                                                        WGPUWGSLLanguageFeatureName feature)
{
    struct wgv_client *c = I(instance)->base.client;
    wait_wgsl_features(c);
    for (size_t i = 0; i < c->wgsl_feature_count; i++)
        if (c->wgsl_features[i] == feature)
            return 1;
    return 0;
}

WGPU_EXPORT void wgpuSupportedWGSLLanguageFeaturesFreeMembers(WGPUSupportedWGSLLanguageFeatures f)
{
    free((void *)f.features);
}

/* ---------------------------------------------------------------- surfaces
 * A guest has no window on the host: creating a surface fails with a
 * message (docs/using.md); the other surface functions do nothing. */

WGPU_EXPORT WGPUSurface wgpuInstanceCreateSurface(WGPUInstance instance,
                                                  WGPUSurfaceDescriptor const *descriptor)
{
    (void)instance, (void)descriptor;
    fprintf(stderr, "webgpu-virtio: surfaces are not supported: a guest has no window on the "
                    "host; render to a texture and read it back\n");
    return NULL;
}

WGPU_EXPORT void wgpuSurfaceConfigure(WGPUSurface surface, WGPUSurfaceConfiguration const *config)
{
    (void)surface, (void)config;
}

WGPU_EXPORT WGPUStatus wgpuSurfaceGetCapabilities(WGPUSurface surface, WGPUAdapter adapter,
                                                  WGPUSurfaceCapabilities *capabilities)
{
    (void)surface, (void)adapter, (void)capabilities;
    return WGPUStatus_Error;
}

WGPU_EXPORT void wgpuSurfaceGetCurrentTexture(WGPUSurface surface, WGPUSurfaceTexture *surfaceTexture)
{
    (void)surface;
    if (surfaceTexture) {
        surfaceTexture->texture = NULL;
        surfaceTexture->status = WGPUSurfaceGetCurrentTextureStatus_Error;
    }
}

WGPU_EXPORT void wgpuSurfaceSetLabel(WGPUSurface surface, WGPUStringView label)
{
    (void)surface, (void)label;
}

WGPU_EXPORT void wgpuSurfaceUnconfigure(WGPUSurface surface)
{
    (void)surface;
}

WGPU_EXPORT void wgpuSurfaceCapabilitiesFreeMembers(WGPUSurfaceCapabilities capabilities)
{
    (void)capabilities;
}
