/* Adapters and devices in the guest: their info, limits and features come
 * from the host once, with the adapter or device; the getters read them. */
#include <stdlib.h>
#include <string.h>

#include "guest.h"

#define A(x) ((struct wgv_adapter *)(x))
#define D(x) ((struct wgv_device *)(x))

bool wgv_guest_hook_wgpuAdapterRequestDevice(struct wgv_client *c,
                                             struct wgv_ga_wgpuAdapterRequestDevice *a)
{
    struct wgv_device *d = D(a->result);
    d->adapter = A(a->adapter);
    wgv_object_add_ref(&d->adapter->base);
    d->queue = (struct wgv_object *)a->queue;
    d->queue->parent = &d->base; /* callbacks on the queue are owed for the device */
    WGPUDeviceDescriptor desc = WGPU_DEVICE_DESCRIPTOR_INIT;
    if (a->descriptor)
        desc = *a->descriptor;
    d->lost_info = desc.deviceLostCallbackInfo;
    d->error_info = desc.uncapturedErrorCallbackInfo;
    WGPUCallbackMode lost_mode = d->lost_info.mode ? d->lost_info.mode : WGPUCallbackMode_AllowProcessEvents;
    WGPUFuture lost = wgv_future_create(c, WGV_CB_DeviceLostCallback, lost_mode,
                                        (WGPUProc)d->lost_info.callback, d->lost_info.userdata1,
                                        d->lost_info.userdata2, &d->base);
    WGPUFuture error = wgv_future_create(c, WGV_CB_UncapturedErrorCallback,
                                         WGPUCallbackMode_AllowSpontaneous,
                                         (WGPUProc)d->error_info.callback, d->error_info.userdata1,
                                         d->error_info.userdata2, &d->base);
    wgv_future_make_event(c, lost.id, false);
    wgv_future_make_event(c, error.id, true);
    d->lost_future = lost.id;
    d->error_key = error.id;
    a->lost_future = lost.id;
    a->error_future = error.id;
    return true;
}

static WGPUStatus get_info(struct wgv_adapter *a, WGPUAdapterInfo *info)
{
    if (!info || !a->have_state)
        return WGPUStatus_Error;
    /* The front fills the chained outputs first, or refuses them. */
    WGPUStatus st = wgv_front_adapter_info(a, info);
    if (st != WGPUStatus_Success)
        return st;
    WGPUChainedStruct *chain = info->nextInChain;
    *info = a->info;
    info->nextInChain = chain;
    info->vendor = wgv_string_copy(a->info.vendor);
    info->architecture = wgv_string_copy(a->info.architecture);
    info->device = wgv_string_copy(a->info.device);
    info->description = wgv_string_copy(a->info.description);
    return WGPUStatus_Success;
}

static WGPUStatus get_limits(bool have, const WGPULimits *from, WGPULimits *limits)
{
    if (!limits || !have)
        return WGPUStatus_Error;
    /* No chained limits cross the wire: the front fills those its ABI
     * defines from the standard ones, or refuses the chain. */
    WGPUChainedStruct *chain = limits->nextInChain;
    if (chain && wgv_front_limits(from, chain) != WGPUStatus_Success)
        return WGPUStatus_Error;
    *limits = *from;
    limits->nextInChain = chain;
    return WGPUStatus_Success;
}

WGPU_EXPORT WGPUStatus wgpuAdapterGetInfo(WGPUAdapter adapter, WGPUAdapterInfo *info)
{
    return get_info(A(adapter), info);
}

WGPU_EXPORT WGPUStatus wgpuAdapterGetLimits(WGPUAdapter adapter, WGPULimits *limits)
{
    return get_limits(A(adapter)->have_state, &A(adapter)->limits, limits);
}

WGPU_EXPORT void wgpuAdapterGetFeatures(WGPUAdapter adapter, WGPUSupportedFeatures *features)
{
    wgv_features_get(&A(adapter)->features, features);
}

WGPU_EXPORT WGPUBool wgpuAdapterHasFeature(WGPUAdapter adapter, WGPUFeatureName feature)
{
    return wgv_features_has(&A(adapter)->features, feature);
}

WGPU_EXPORT void wgpuAdapterInfoFreeMembers(WGPUAdapterInfo adapterInfo)
{
    free((void *)adapterInfo.vendor.data);
    free((void *)adapterInfo.architecture.data);
    free((void *)adapterInfo.device.data);
    free((void *)adapterInfo.description.data);
}

WGPU_EXPORT void wgpuSupportedFeaturesFreeMembers(WGPUSupportedFeatures supportedFeatures)
{
    free((void *)supportedFeatures.features);
}

WGPU_EXPORT WGPUStatus wgpuDeviceGetAdapterInfo(WGPUDevice device, WGPUAdapterInfo *info)
{
    return get_info(D(device)->adapter, info);
}

WGPU_EXPORT WGPUStatus wgpuDeviceGetLimits(WGPUDevice device, WGPULimits *limits)
{
    return get_limits(D(device)->have_state, &D(device)->limits, limits);
}

WGPU_EXPORT void wgpuDeviceGetFeatures(WGPUDevice device, WGPUSupportedFeatures *features)
{
    wgv_features_get(&D(device)->features, features);
}

WGPU_EXPORT WGPUBool wgpuDeviceHasFeature(WGPUDevice device, WGPUFeatureName feature)
{
    return wgv_features_has(&D(device)->features, feature);
}

WGPU_EXPORT WGPUQueue wgpuDeviceGetQueue(WGPUDevice device)
{
    wgv_object_add_ref(D(device)->queue);
    return (WGPUQueue)D(device)->queue;
}

WGPU_EXPORT WGPUFuture wgpuDeviceGetLostFuture(WGPUDevice device)
{
    return (WGPUFuture){D(device)->lost_future};
}

bool wgv_guest_hook_wgpuDeviceDestroy(struct wgv_client *c, struct wgv_ga_wgpuDeviceDestroy *a)
{
    /* As natively, the device is lost at once: callbacks owed for it
     * complete now (the host's later answers are ignored), and
     * AllowSpontaneous ones fire before wgpuDeviceDestroy returns. */
    pthread_mutex_lock(&c->lock);
    wgv_client_send_locked(c, WGV_OP_wgpuDeviceDestroy, a);
    wgv_device_end_locked(c, D(a->device), false);
    pthread_mutex_unlock(&c->lock);
    return false;
}

/* Whether a future is owed for the device or one of its objects. */
static bool owed_for(const struct wgv_future *f, const struct wgv_object *device)
{
    return f->object && (f->object == device || f->object->parent == device);
}

void wgv_device_end_locked(struct wgv_client *c, struct wgv_device *d, bool released)
{
    static const char why[] = "The device was destroyed.";
    _Alignas(16) uint8_t args[256];
    d->lost = true;
    for (struct wgv_future **l = &c->futures; *l;) {
        struct wgv_future *f = *l;
        bool ours = owed_for(f, &d->base);
        if (ours && f->state == WGV_FUTURE_PENDING && !f->repeat &&
            wgv_lost_callback_args(f->callback, WGPUDeviceLostReason_Destroyed, why, args,
                                   sizeof(args)))
            wgv_future_complete_locked(c, f, args);
        if (released && f->weak && f->object == &d->base) {
            if (f->repeat) { /* its uncaptured errors: no more */
                *l = f->next;
                free(f->reply);
                free(f);
                continue;
            }
            f->object = NULL; /* the lost callback gets a NULL device */
        }
        l = &f->next;
    }
}
