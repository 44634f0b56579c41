/* libwgv-safe-toggles.so: preloaded (LD_PRELOAD) into a program that uses
 * Dawn directly, it applies the toggle policy webgpu-virtio's host applies
 * to a guest: instance toggles are not set at all, adapter and device
 * toggles off the built-in allowlist (src/host/toggle-allowlist.h) are
 * dropped. The LLM benchmark runs ggml natively twice, with the toggles it
 * asks for (skip_validation, disable_robustness, ...) and under this
 * library, so that the cost of Dawn's safety and the cost of the wire are
 * told apart (docs/llm.md).
 *
 * It interposes wgpuCreateInstance, wgpuInstanceRequestAdapter and
 * wgpuAdapterRequestDevice, trims each DawnTogglesDescriptor in the chain
 * of the descriptor it is given (in place: the program's own descriptor,
 * which ggml builds on its stack for the call) and calls Dawn's function.
 * Each dropped toggle is named once on stderr. */
#include <wgv/backend-dawn.h>

#include <dlfcn.h>
#include <stdio.h>

#include "toggle-allowlist.h"

#define EXPORT __attribute__((visibility("default")))

/* The Dawn function `name`, the next definition after this library's. */
static void *next_fn(const char *name)
{
    void *f = dlsym(RTLD_NEXT, name);
    if (!f)
        fprintf(stderr, "wgv-safe-toggles: no %s after this library\n", name);
    return f;
}

/* Keeps the allowed names of a list (all of them dropped when `none`);
 * returns the new count. */
static size_t trim(const char *what, const char **names, size_t count, bool none)
{
    size_t kept = 0;
    for (size_t i = 0; i < count; i++) {
        const char *n = names[i] ? names[i] : "";
        if (!none && wgv_toggle_builtin_allowed(n))
            names[kept++] = n;
        else
            fprintf(stderr, "wgv-safe-toggles: %s toggle '%s' dropped\n", what, n);
    }
    return kept;
}

static void trim_chain(const char *what, const WGPUChainedStruct *chain, bool none)
{
    for (const WGPUChainedStruct *l = chain; l; l = l->next) {
        if (l->sType != WGPUSType_DawnTogglesDescriptor)
            continue;
        WGPUDawnTogglesDescriptor *t = (WGPUDawnTogglesDescriptor *)(uintptr_t)l;
        t->enabledToggleCount = trim(what, (const char **)t->enabledToggles, t->enabledToggleCount, none);
        t->disabledToggleCount = trim(what, (const char **)t->disabledToggles, t->disabledToggleCount, none);
    }
}

EXPORT WGPUInstance wgpuCreateInstance(const WGPUInstanceDescriptor *descriptor)
{
    WGPUInstance (*real)(const WGPUInstanceDescriptor *);
    *(void **)&real = next_fn("wgpuCreateInstance");
    if (!real)
        return NULL;
    if (descriptor)
        trim_chain("instance", descriptor->nextInChain, true);
    return real(descriptor);
}

EXPORT WGPUFuture wgpuInstanceRequestAdapter(WGPUInstance instance, const WGPURequestAdapterOptions *options,
                                             WGPURequestAdapterCallbackInfo callbackInfo)
{
    WGPUFuture (*real)(WGPUInstance, const WGPURequestAdapterOptions *, WGPURequestAdapterCallbackInfo);
    *(void **)&real = next_fn("wgpuInstanceRequestAdapter");
    if (!real)
        return (WGPUFuture){0};
    if (options)
        trim_chain("adapter", options->nextInChain, false);
    return real(instance, options, callbackInfo);
}

EXPORT WGPUFuture wgpuAdapterRequestDevice(WGPUAdapter adapter, const WGPUDeviceDescriptor *descriptor,
                                           WGPURequestDeviceCallbackInfo callbackInfo)
{
    WGPUFuture (*real)(WGPUAdapter, const WGPUDeviceDescriptor *, WGPURequestDeviceCallbackInfo);
    *(void **)&real = next_fn("wgpuAdapterRequestDevice");
    if (!real)
        return (WGPUFuture){0};
    if (descriptor)
        trim_chain("device", descriptor->nextInChain, false);
    return real(adapter, descriptor, callbackInfo);
}
