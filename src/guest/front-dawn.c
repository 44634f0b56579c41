/* What only the pinned Dawn's webgpu.h has, in libwebgpu_dawn.so: instance
 * capabilities in place of instance features, the adapter's subgroup-matrix
 * configurations chained onto its info, device ticks, synchronous device
 * creation, and the functions that import host memory, which a guest has
 * none of to share (docs/using.md). The rest of the front is shared. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest.h"

#define A(x) ((struct wgv_adapter *)(x))
#define D(x) ((struct wgv_device *)(x))

/* ------------------------------------------------------------- instance */

WGPU_EXPORT WGPUInstance wgpuCreateInstance(WGPUInstanceDescriptor const *descriptor)
{
    bool timed = false;
    if (descriptor) {
        /* A DawnTogglesDescriptor here would configure the host's instance,
         * which belongs to the host's operator: it is not sent. */
        if (descriptor->capabilities.timedWaitAnyMaxCount > WGV_TIMED_WAIT_ANY_MAX)
            return NULL;
        timed = descriptor->capabilities.timedWaitAnyEnable;
    }
    return wgv_instance_new(timed);
}

WGPU_EXPORT WGPUStatus wgpuGetInstanceCapabilities(WGPUInstanceCapabilities *capabilities)
{
    if (!capabilities || capabilities->nextInChain)
        return WGPUStatus_Error;
    capabilities->timedWaitAnyEnable = 1;
    capabilities->timedWaitAnyMaxCount = WGV_TIMED_WAIT_ANY_MAX;
    return WGPUStatus_Success;
}

WGPU_EXPORT WGPUStatus wgpuInstanceGetWGSLLanguageFeatures(WGPUInstance instance,
                                                           WGPUSupportedWGSLLanguageFeatures *features)
{
    if (!features)
        return WGPUStatus_Error;
    return wgv_instance_wgsl_features(instance, features) ? WGPUStatus_Success : WGPUStatus_Error;
}

WGPU_EXPORT void wgpuSurfacePresent(WGPUSurface surface)
{
    (void)surface; /* a guest has no surface (instance.c) */
}

/* No chained limits cross the wire; Dawn's own are not filled here. */
WGPUStatus wgv_front_limits(const WGPULimits *have, WGPUChainedStruct *chain)
{
    (void)have, (void)chain;
    return WGPUStatus_Error;
}

/* -------------------------------------------------------------- adapter */

/* What the Dawn front keeps of an adapter besides the shared state. */
struct dawn_adapter {
    size_t config_count;
    WGPUSubgroupMatrixConfig *configs;
};

void wgv_front_adapter_state(struct wgv_adapter *a, const WGPUAdapterInfo *decoded)
{
    for (const WGPUChainedStruct *l = decoded->nextInChain; l; l = l->next) {
        if (l->sType != WGPUSType_AdapterPropertiesSubgroupMatrixConfigs)
            continue;
        const WGPUAdapterPropertiesSubgroupMatrixConfigs *sg = (const void *)l;
        struct dawn_adapter *da = calloc(1, sizeof(*da));
        if (!da)
            return;
        if (sg->configCount) {
            da->configs = malloc(sg->configCount * sizeof(*da->configs));
            if (!da->configs) {
                free(da);
                return;
            }
            memcpy(da->configs, sg->configs, sg->configCount * sizeof(*da->configs));
            da->config_count = sg->configCount;
        }
        wgv_front_adapter_free(a);
        a->front = da;
    }
}

WGPUStatus wgv_front_adapter_info(struct wgv_adapter *a, WGPUAdapterInfo *info)
{
    const struct dawn_adapter *da = a->front;
    /* As Dawn: an output this library cannot fill, or one whose feature
     * the adapter lacks, is an error. */
    for (WGPUChainedStruct *l = info->nextInChain; l; l = l->next)
        if (l->sType != WGPUSType_AdapterPropertiesSubgroupMatrixConfigs ||
            !wgv_features_has(&a->features, WGPUFeatureName_ChromiumExperimentalSubgroupMatrix))
            return WGPUStatus_Error;
    for (WGPUChainedStruct *l = info->nextInChain; l; l = l->next) {
        WGPUAdapterPropertiesSubgroupMatrixConfigs *sg = (void *)l;
        sg->configCount = 0;
        sg->configs = NULL;
        if (!da || !da->config_count)
            continue;
        WGPUSubgroupMatrixConfig *copy = malloc(da->config_count * sizeof(*copy));
        if (!copy)
            return WGPUStatus_Error;
        memcpy(copy, da->configs, da->config_count * sizeof(*copy));
        sg->configs = copy;
        sg->configCount = da->config_count;
    }
    return WGPUStatus_Success;
}

void wgv_front_adapter_free(struct wgv_adapter *a)
{
    struct dawn_adapter *da = a->front;
    if (da)
        free(da->configs);
    free(da);
    a->front = NULL;
}

WGPU_EXPORT void wgpuAdapterPropertiesSubgroupMatrixConfigsFreeMembers(
    WGPUAdapterPropertiesSubgroupMatrixConfigs value)
{
    free((void *)value.configs);
}

WGPU_EXPORT void wgpuAdapterPropertiesMemoryHeapsFreeMembers(WGPUAdapterPropertiesMemoryHeaps value)
{
    free((void *)value.heapInfo); /* never filled here: GetInfo refuses the chain */
}

WGPU_EXPORT void wgpuDawnDrmFormatCapabilitiesFreeMembers(WGPUDawnDrmFormatCapabilities value)
{
    free((void *)value.properties); /* never filled here */
}

WGPU_EXPORT WGPUInstance wgpuAdapterGetInstance(WGPUAdapter adapter)
{
    struct wgv_object *inst = A(adapter)->base.parent;
    if (inst)
        wgv_object_add_ref(inst);
    return (WGPUInstance)inst;
}

/* A host's per-format DRM modifiers describe its memory, not the guest's. */
WGPU_EXPORT WGPUStatus wgpuAdapterGetFormatCapabilities(WGPUAdapter adapter, WGPUTextureFormat format,
                                                        WGPUDawnFormatCapabilities *capabilities)
{
    (void)adapter, (void)format, (void)capabilities;
    return WGPUStatus_Error;
}

struct sync_device {
    WGPUDevice device;
};

static void sync_device_done(WGPURequestDeviceStatus status, WGPUDevice device, WGPUStringView message,
                             void *userdata1, void *userdata2)
{
    (void)message, (void)userdata2;
    struct sync_device *s = userdata1;
    s->device = status == WGPURequestDeviceStatus_Success ? device : NULL;
}

/* Dawn's synchronous device creation: requestDevice, waited for. */
WGPU_EXPORT WGPUDevice wgpuAdapterCreateDevice(WGPUAdapter adapter, WGPUDeviceDescriptor const *descriptor)
{
    struct sync_device s = {NULL};
    WGPURequestDeviceCallbackInfo ci = WGPU_REQUEST_DEVICE_CALLBACK_INFO_INIT;
    ci.mode = WGPUCallbackMode_WaitAnyOnly;
    ci.callback = sync_device_done;
    ci.userdata1 = &s;
    WGPUFutureWaitInfo wait = {wgpuAdapterRequestDevice(adapter, descriptor, ci), 0};
    wgv_client_wait_any(A(adapter)->base.client, 1, &wait, UINT64_MAX, true);
    return s.device;
}

/* --------------------------------------------------------------- device */

WGPU_EXPORT WGPUAdapter wgpuDeviceGetAdapter(WGPUDevice device)
{
    struct wgv_adapter *a = D(device)->adapter;
    if (a)
        wgv_object_add_ref(&a->base);
    return (WGPUAdapter)a;
}

/* Dawn's tick does the device's pending work and fires what is due: here,
 * the commands are sent and the host's replies read. */
WGPU_EXPORT void wgpuDeviceTick(WGPUDevice device)
{
    wgv_client_process_events(D(device)->base.client);
}

/* Dawn's log messages about a device (its driver's warnings among them)
 * stay in the host's log, which is the host operator's; the callback is
 * kept so that setting it is valid, and receives nothing. */
WGPU_EXPORT void wgpuDeviceSetLoggingCallback(WGPUDevice device, WGPULoggingCallbackInfo callbackInfo)
{
    (void)device, (void)callbackInfo;
}

/* --------------------------------------------- host memory and browsers
 * Sharing host memory (buffers, textures, fences, external textures,
 * AHardwareBuffers) and the browser's copy helpers need the host's own
 * handles, which a guest never has: each reports a validation error on the
 * device, as Dawn does for a descriptor it cannot import, and gives no
 * object. Methods of objects that can therefore never exist do nothing. */

static void not_for_guests(WGPUDevice device, const char *what)
{
    char msg[160];
    int n = snprintf(msg, sizeof(msg), "%s is not available to a guest: it needs the host's own "
                                       "memory or handles", what);
    wgpuDeviceInjectError(device, WGPUErrorType_Validation, (WGPUStringView){msg, (size_t)n});
}

WGPU_EXPORT WGPUSharedBufferMemory wgpuDeviceImportSharedBufferMemory(
    WGPUDevice device, WGPUSharedBufferMemoryDescriptor const *descriptor)
{
    (void)descriptor;
    not_for_guests(device, "wgpuDeviceImportSharedBufferMemory");
    return NULL;
}

WGPU_EXPORT WGPUSharedTextureMemory wgpuDeviceImportSharedTextureMemory(
    WGPUDevice device, WGPUSharedTextureMemoryDescriptor const *descriptor)
{
    (void)descriptor;
    not_for_guests(device, "wgpuDeviceImportSharedTextureMemory");
    return NULL;
}

WGPU_EXPORT WGPUSharedFence wgpuDeviceImportSharedFence(WGPUDevice device,
                                                        WGPUSharedFenceDescriptor const *descriptor)
{
    (void)descriptor;
    not_for_guests(device, "wgpuDeviceImportSharedFence");
    return NULL;
}

WGPU_EXPORT WGPUExternalTexture wgpuDeviceCreateExternalTexture(
    WGPUDevice device, WGPUExternalTextureDescriptor const *externalTextureDescriptor)
{
    (void)externalTextureDescriptor;
    not_for_guests(device, "wgpuDeviceCreateExternalTexture");
    return NULL;
}

WGPU_EXPORT WGPUExternalTexture wgpuDeviceCreateErrorExternalTexture(WGPUDevice device)
{
    not_for_guests(device, "wgpuDeviceCreateErrorExternalTexture");
    return NULL;
}

WGPU_EXPORT WGPUStatus wgpuDeviceGetAHardwareBufferProperties(WGPUDevice device, void *handle,
                                                              WGPUAHardwareBufferProperties *properties)
{
    (void)device, (void)handle, (void)properties;
    return WGPUStatus_Error;
}

WGPU_EXPORT void wgpuQueueCopyTextureForBrowser(WGPUQueue queue, WGPUTexelCopyTextureInfo const *source,
                                                WGPUTexelCopyTextureInfo const *destination,
                                                WGPUExtent3D const *copySize,
                                                WGPUCopyTextureForBrowserOptions const *options)
{
    (void)source, (void)destination, (void)copySize, (void)options;
    struct wgv_object *q = (struct wgv_object *)queue;
    not_for_guests((WGPUDevice)q->parent, "wgpuQueueCopyTextureForBrowser");
}

WGPU_EXPORT void wgpuQueueCopyExternalTextureForBrowser(WGPUQueue queue,
                                                        WGPUImageCopyExternalTexture const *source,
                                                        WGPUTexelCopyTextureInfo const *destination,
                                                        WGPUExtent3D const *copySize,
                                                        WGPUCopyTextureForBrowserOptions const *options)
{
    (void)source, (void)destination, (void)copySize, (void)options;
    struct wgv_object *q = (struct wgv_object *)queue;
    not_for_guests((WGPUDevice)q->parent, "wgpuQueueCopyExternalTextureForBrowser");
}

WGPU_EXPORT void wgpuExternalTextureDestroy(WGPUExternalTexture externalTexture)
{
    (void)externalTexture;
}

WGPU_EXPORT void wgpuExternalTextureExpire(WGPUExternalTexture externalTexture)
{
    (void)externalTexture;
}

WGPU_EXPORT void wgpuExternalTextureRefresh(WGPUExternalTexture externalTexture)
{
    (void)externalTexture;
}

WGPU_EXPORT WGPUStatus wgpuSharedBufferMemoryBeginAccess(WGPUSharedBufferMemory m, WGPUBuffer buffer,
                                                         WGPUSharedBufferMemoryBeginAccessDescriptor const *d)
{
    (void)m, (void)buffer, (void)d;
    return WGPUStatus_Error;
}

WGPU_EXPORT WGPUBuffer wgpuSharedBufferMemoryCreateBuffer(WGPUSharedBufferMemory m,
                                                          WGPUBufferDescriptor const *descriptor)
{
    (void)m, (void)descriptor;
    return NULL;
}

WGPU_EXPORT WGPUStatus wgpuSharedBufferMemoryEndAccess(WGPUSharedBufferMemory m, WGPUBuffer buffer,
                                                       WGPUSharedBufferMemoryEndAccessState *state)
{
    (void)m, (void)buffer, (void)state;
    return WGPUStatus_Error;
}

WGPU_EXPORT void wgpuSharedBufferMemoryEndAccessStateFreeMembers(WGPUSharedBufferMemoryEndAccessState v)
{
    (void)v;
}

WGPU_EXPORT WGPUStatus wgpuSharedBufferMemoryGetProperties(WGPUSharedBufferMemory m,
                                                           WGPUSharedBufferMemoryProperties *properties)
{
    (void)m, (void)properties;
    return WGPUStatus_Error;
}

WGPU_EXPORT WGPUBool wgpuSharedBufferMemoryIsDeviceLost(WGPUSharedBufferMemory m)
{
    (void)m;
    return 1;
}

WGPU_EXPORT void wgpuSharedBufferMemorySetLabel(WGPUSharedBufferMemory m, WGPUStringView label)
{
    (void)m, (void)label;
}

WGPU_EXPORT void wgpuSharedFenceExportInfo(WGPUSharedFence fence, WGPUSharedFenceExportInfo *info)
{
    (void)fence, (void)info;
}

WGPU_EXPORT WGPUStatus wgpuSharedTextureMemoryBeginAccess(WGPUSharedTextureMemory m, WGPUTexture texture,
                                                          WGPUSharedTextureMemoryBeginAccessDescriptor const *d)
{
    (void)m, (void)texture, (void)d;
    return WGPUStatus_Error;
}

WGPU_EXPORT WGPUTexture wgpuSharedTextureMemoryCreateTexture(WGPUSharedTextureMemory m,
                                                             WGPUTextureDescriptor const *descriptor)
{
    (void)m, (void)descriptor;
    return NULL;
}

WGPU_EXPORT WGPUStatus wgpuSharedTextureMemoryEndAccess(WGPUSharedTextureMemory m, WGPUTexture texture,
                                                        WGPUSharedTextureMemoryEndAccessState *state)
{
    (void)m, (void)texture, (void)state;
    return WGPUStatus_Error;
}

WGPU_EXPORT void wgpuSharedTextureMemoryEndAccessStateFreeMembers(WGPUSharedTextureMemoryEndAccessState v)
{
    (void)v;
}

WGPU_EXPORT WGPUStatus wgpuSharedTextureMemoryGetProperties(WGPUSharedTextureMemory m,
                                                            WGPUSharedTextureMemoryProperties *properties)
{
    (void)m, (void)properties;
    return WGPUStatus_Error;
}

WGPU_EXPORT WGPUBool wgpuSharedTextureMemoryIsDeviceLost(WGPUSharedTextureMemory m)
{
    (void)m;
    return 1;
}

WGPU_EXPORT void wgpuSharedTextureMemorySetLabel(WGPUSharedTextureMemory m, WGPUStringView label)
{
    (void)m, (void)label;
}

/* --------------------------------------------------------- error objects
 * The host makes Dawn's error buffer or texture; the guest keeps what the
 * getters answer, as for a valid one. */

bool wgv_guest_hook_wgpuDeviceCreateErrorBuffer(struct wgv_client *c,
                                                struct wgv_ga_wgpuDeviceCreateErrorBuffer *a)
{
    (void)c;
    struct wgv_buffer *b = (struct wgv_buffer *)a->result;
    b->map_state = WGPUBufferMapState_Unmapped;
    if (a->descriptor) {
        b->size = a->descriptor->size;
        b->usage = a->descriptor->usage;
    }
    return true;
}

bool wgv_guest_hook_wgpuDeviceCreateErrorTexture(struct wgv_client *c,
                                                 struct wgv_ga_wgpuDeviceCreateErrorTexture *a)
{
    struct wgv_ga_wgpuDeviceCreateTexture t = {a->device, a->descriptor, a->result};
    return wgv_guest_hook_wgpuDeviceCreateTexture(c, &t);
}
