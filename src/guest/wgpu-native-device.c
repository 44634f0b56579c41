/* Adapters and devices as wgpu-native gives them: its requests answer
 * before they return (programs built for it read the adapter or device
 * right after the call), its error scopes pop at once, it enumerates
 * adapters, and its extras chained onto a device request are read here:
 * a trace path cannot be honoured and is dropped with a warning, native
 * limits are checked against what a guest device has (docs/using.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wgpu-native.h"

#define A(x) ((struct wgv_adapter *)(x))
#define I(x) ((struct wgv_instance *)(x))

/* ------------------------------------------------------------- adapters */

/* The WGPUInstanceBackend bit of a backend, 0 for one wgpu has none for. */
static uint64_t backend_bit(WGPUBackendType t)
{
    switch (t) {
    case WGPUBackendType_Vulkan: return WGPUInstanceBackend_Vulkan;
    case WGPUBackendType_OpenGL:
    case WGPUBackendType_OpenGLES: return WGPUInstanceBackend_GL;
    case WGPUBackendType_Metal: return WGPUInstanceBackend_Metal;
    case WGPUBackendType_D3D12: return WGPUInstanceBackend_DX12;
    case WGPUBackendType_WebGPU: return WGPUInstanceBackend_BrowserWebGPU;
    default: return 0;
    }
}

/* Whether an adapter is of a backend of `mask` (0: every backend). */
static bool backend_allowed(uint64_t mask, WGPUAdapter adapter)
{
    return !mask || (A(adapter)->have_state && (backend_bit(A(adapter)->info.backendType) & mask));
}

struct adapter_answer {
    bool done;
    WGPURequestAdapterStatus status;
    WGPUAdapter adapter;
    struct wgv_wn_message message;
};

static void adapter_answered(WGPURequestAdapterStatus status, WGPUAdapter adapter, WGPUStringView message,
                             void *userdata1, void *userdata2)
{
    (void)userdata2;
    struct adapter_answer *a = userdata1;
    a->done = true;
    a->status = status;
    a->adapter = adapter;
    wgv_wn_message_set(&a->message, message);
}

/* Asks the host for an adapter and waits for the answer; an adapter of a
 * backend `mask` leaves out is answered as none. */
static WGPUFuture request_adapter(WGPUInstance instance, WGPURequestAdapterOptions const *options,
                                  uint64_t mask, struct adapter_answer *ans)
{
    WGPURequestAdapterCallbackInfo mine = WGPU_REQUEST_ADAPTER_CALLBACK_INFO_INIT;
    mine.mode = WGPUCallbackMode_WaitAnyOnly;
    mine.callback = adapter_answered;
    mine.userdata1 = ans;
    WGPUFuture f = wgv_wire_wgpuInstanceRequestAdapter(instance, options, mine);
    if (f.id)
        wgv_wn_wait(I(instance)->base.client, f);
    if (!ans->done) {
        ans->status = WGPURequestAdapterStatus_Error;
        wgv_wn_message_set(&ans->message, (WGPUStringView){"webgpu-virtio: out of memory", WGPU_STRLEN});
    }
    if (ans->adapter && !backend_allowed(mask, ans->adapter)) {
        wgpuAdapterRelease(ans->adapter);
        ans->adapter = NULL;
        ans->status = WGPURequestAdapterStatus_Unavailable;
        wgv_wn_message_set(&ans->message, (WGPUStringView){
            "webgpu-virtio: the host's adapter is of none of the backends this instance allows",
            WGPU_STRLEN});
    }
    return f;
}

WGPU_EXPORT WGPUFuture wgpuInstanceRequestAdapter(WGPUInstance instance, WGPURequestAdapterOptions const *options,
                                                  WGPURequestAdapterCallbackInfo callbackInfo)
{
    struct adapter_answer ans = {0};
    WGPUFuture f = request_adapter(instance, options, I(instance)->backends, &ans);
    if (callbackInfo.callback)
        callbackInfo.callback(ans.status, ans.adapter, wgv_wn_message_view(&ans.message),
                              callbackInfo.userdata1, callbackInfo.userdata2);
    else if (ans.adapter)
        wgpuAdapterRelease(ans.adapter);
    free(ans.message.text);
    return f;
}

static bool same_adapter(WGPUAdapter x, WGPUAdapter y)
{
    const WGPUAdapterInfo *a = &A(x)->info, *b = &A(y)->info;
    return a->backendType == b->backendType && a->vendorID == b->vendorID && a->deviceID == b->deviceID &&
           a->device.length == b->device.length &&
           (!a->device.length || !memcmp(a->device.data, b->device.data, a->device.length));
}

/* The host answers each request with the adapter its preferences pick:
 * asking with each power preference finds every adapter it would give. */
WGPU_EXPORT size_t wgpuInstanceEnumerateAdapters(WGPUInstance instance,
                                                 WGPUInstanceEnumerateAdapterOptions const *options,
                                                 WGPUAdapter *adapters)
{
    static const WGPUPowerPreference prefs[] = {WGPUPowerPreference_Undefined,
                                                WGPUPowerPreference_HighPerformance,
                                                WGPUPowerPreference_LowPower};
    uint64_t mask = I(instance)->backends;
    if (options && options->backends)
        mask = mask ? mask & options->backends : options->backends;
    WGPUAdapter found[3];
    size_t n = 0;
    for (size_t i = 0; i < 3; i++) {
        WGPURequestAdapterOptions o = WGPU_REQUEST_ADAPTER_OPTIONS_INIT;
        o.powerPreference = prefs[i];
        struct adapter_answer ans = {0};
        request_adapter(instance, &o, mask, &ans);
        free(ans.message.text);
        if (!ans.adapter)
            continue;
        bool seen = false;
        for (size_t j = 0; j < n && !seen; j++)
            seen = same_adapter(found[j], ans.adapter);
        if (seen)
            wgpuAdapterRelease(ans.adapter);
        else
            found[n++] = ans.adapter;
    }
    for (size_t i = 0; i < n; i++) {
        if (adapters)
            adapters[i] = found[i];
        else
            wgpuAdapterRelease(found[i]);
    }
    return n;
}

/* --------------------------------------------------------------- devices */

struct device_answer {
    bool done;
    WGPURequestDeviceStatus status;
    WGPUDevice device;
    struct wgv_wn_message message;
};

static void device_answered(WGPURequestDeviceStatus status, WGPUDevice device, WGPUStringView message,
                            void *userdata1, void *userdata2)
{
    (void)userdata2;
    struct device_answer *d = userdata1;
    d->done = true;
    d->status = status;
    d->device = device;
    wgv_wn_message_set(&d->message, message);
}

/* A limit a request may have: undefined, or no better than `have`. */
static bool limit_ok(uint32_t want, uint32_t have, const char *name, char *why, size_t cap)
{
    if (want == WGPU_LIMIT_U32_UNDEFINED || want <= have)
        return true;
    snprintf(why, cap, "Limit '%s' value %u is better than allowed %u", name, want, have);
    return false;
}

/* The native and compatibility limits chained onto requiredLimits, checked
 * and taken off the copy `out` (no chained limits cross the wire); false,
 * with why, for one the device cannot have. Other links stay, for the host
 * to refuse as any unknown sType. */
static bool required_limits(const WGPULimits *in, const struct wgv_adapter *a, WGPULimits *out, char *why,
                            size_t cap)
{
    const WGPULimits *have = &a->limits;
    bool known = true;
    *out = *in;
    for (const WGPUChainedStruct *l = in->nextInChain; l; l = l->next) {
        if (l->sType == (WGPUSType)WGPUSType_NativeLimits) {
            const WGPUNativeLimits *n = (const WGPUNativeLimits *)l;
            if (!limit_ok(n->maxNonSamplerBindings, WGV_WN_MAX_NON_SAMPLER_BINDINGS, "maxNonSamplerBindings",
                          why, cap) ||
                !limit_ok(n->maxBindingArrayElementsPerShaderStage, 0, "maxBindingArrayElementsPerShaderStage",
                          why, cap) ||
                !limit_ok(n->maxBindingArraySamplerElementsPerShaderStage, 0,
                          "maxBindingArraySamplerElementsPerShaderStage", why, cap) ||
                !limit_ok(n->maxMultiviewViewCount, 0, "maxMultiviewViewCount", why, cap))
                return false;
        } else if (l->sType == WGPUSType_CompatibilityModeLimits) {
            const WGPUCompatibilityModeLimits *m = (const WGPUCompatibilityModeLimits *)l;
            if (!limit_ok(m->maxStorageBuffersInVertexStage, have->maxStorageBuffersPerShaderStage,
                          "maxStorageBuffersInVertexStage", why, cap) ||
                !limit_ok(m->maxStorageTexturesInVertexStage, have->maxStorageTexturesPerShaderStage,
                          "maxStorageTexturesInVertexStage", why, cap) ||
                !limit_ok(m->maxStorageBuffersInFragmentStage, have->maxStorageBuffersPerShaderStage,
                          "maxStorageBuffersInFragmentStage", why, cap) ||
                !limit_ok(m->maxStorageTexturesInFragmentStage, have->maxStorageTexturesPerShaderStage,
                          "maxStorageTexturesInFragmentStage", why, cap))
                return false;
        } else {
            known = false;
        }
    }
    if (known)
        out->nextInChain = NULL;
    return true;
}

/* A device descriptor's chain without its DeviceExtras: a trace of the
 * API calls would be written by the host's implementation, which has no
 * folder of the guest's, so the path is dropped with a warning (as
 * wgpu-native built without tracing does). Any other link keeps the chain,
 * for the host to refuse. */
static WGPUChainedStruct *device_chain(WGPUChainedStruct *chain)
{
    for (const WGPUChainedStruct *l = chain; l; l = l->next)
        if (l->sType != (WGPUSType)WGPUSType_DeviceExtras)
            return chain;
    for (const WGPUChainedStruct *l = chain; l; l = l->next) {
        const WGPUDeviceExtras *x = (const WGPUDeviceExtras *)l;
        if (x->tracePath.data && x->tracePath.length)
            wgv_wn_log(WGPULogLevel_Warn, "webgpu-virtio: DeviceExtras.tracePath is ignored: API traces "
                       "are not recorded through webgpu-virtio");
    }
    return NULL;
}

WGPU_EXPORT WGPUFuture wgpuAdapterRequestDevice(WGPUAdapter adapter, WGPUDeviceDescriptor const *descriptor,
                                                WGPURequestDeviceCallbackInfo callbackInfo)
{
    struct wgv_client *c = A(adapter)->base.client;
    struct device_answer ans = {0};
    WGPUDeviceDescriptor desc = WGPU_DEVICE_DESCRIPTOR_INIT;
    WGPULimits limits;
    char why[200] = "";
    bool ok = true;
    if (descriptor) {
        desc = *descriptor;
        desc.nextInChain = device_chain(desc.nextInChain);
        if (desc.requiredLimits) {
            ok = required_limits(desc.requiredLimits, A(adapter), &limits, why, sizeof(why));
            desc.requiredLimits = &limits;
        }
    }
    WGPUFuture f;
    if (ok) {
        WGPURequestDeviceCallbackInfo mine = WGPU_REQUEST_DEVICE_CALLBACK_INFO_INIT;
        mine.mode = WGPUCallbackMode_WaitAnyOnly;
        mine.callback = device_answered;
        mine.userdata1 = &ans;
        f = wgv_wire_wgpuAdapterRequestDevice(adapter, descriptor ? &desc : NULL, mine);
    } else {
        /* Refused here, as wgpu-native refuses it: the future completes
         * with the error, without the host. */
        f = wgv_future_create(c, WGV_CB_RequestDeviceCallback, WGPUCallbackMode_WaitAnyOnly,
                              (WGPUProc)device_answered, &ans, NULL, NULL);
        struct wgv_gcb_RequestDeviceCallback r = {WGPURequestDeviceStatus_Error, {why, WGPU_STRLEN}};
        wgv_future_complete_local(c, f.id, &r);
    }
    if (f.id)
        wgv_wn_wait(c, f);
    if (!ans.done) {
        ans.status = WGPURequestDeviceStatus_Error;
        wgv_wn_message_set(&ans.message, (WGPUStringView){"webgpu-virtio: out of memory", WGPU_STRLEN});
    }
    if (callbackInfo.callback)
        callbackInfo.callback(ans.status, ans.device, wgv_wn_message_view(&ans.message), callbackInfo.userdata1,
                              callbackInfo.userdata2);
    else if (ans.device)
        wgpuDeviceRelease(ans.device);
    free(ans.message.text);
    return f;
}

/* ----------------------------------------------------------- error scopes */

struct scope_answer {
    bool done;
    WGPUPopErrorScopeStatus status;
    WGPUErrorType type;
    struct wgv_wn_message message;
};

static void scope_answered(WGPUPopErrorScopeStatus status, WGPUErrorType type, WGPUStringView message,
                           void *userdata1, void *userdata2)
{
    (void)userdata2;
    struct scope_answer *s = userdata1;
    s->done = true;
    s->status = status;
    s->type = type;
    wgv_wn_message_set(&s->message, message);
}

WGPU_EXPORT WGPUFuture wgpuDevicePopErrorScope(WGPUDevice device, WGPUPopErrorScopeCallbackInfo callbackInfo)
{
    struct scope_answer ans = {0};
    WGPUPopErrorScopeCallbackInfo mine = WGPU_POP_ERROR_SCOPE_CALLBACK_INFO_INIT;
    mine.mode = WGPUCallbackMode_WaitAnyOnly;
    mine.callback = scope_answered;
    mine.userdata1 = &ans;
    WGPUFuture f = wgv_wire_wgpuDevicePopErrorScope(device, mine);
    if (f.id)
        wgv_wn_wait(((struct wgv_object *)device)->client, f);
    if (!ans.done) {
        ans.status = WGPUPopErrorScopeStatus_Error;
        ans.type = WGPUErrorType_NoError;
    }
    if (callbackInfo.callback)
        callbackInfo.callback(ans.status, ans.type, wgv_wn_message_view(&ans.message), callbackInfo.userdata1,
                              callbackInfo.userdata2);
    free(ans.message.text);
    return f;
}
