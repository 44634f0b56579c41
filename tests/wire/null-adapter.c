/* A guest for null-adapter-test.sh: asks the host for an adapter and prints
 * what it got.
 *
 *   null-adapter          default options
 *   null-adapter null     backendType Null
 *
 * Prints "status: NAME" and "message: TEXT", and for an adapter also
 * "backend: NAME" and "device: NAME". Exits 0 once the request was
 * answered, 2 if it was not. */
#include <webgpu/webgpu.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

struct answer {
    bool done;
    WGPURequestAdapterStatus status;
    WGPUAdapter adapter;
    char message[512];
};

static void on_adapter(WGPURequestAdapterStatus s, WGPUAdapter a, WGPUStringView m, void *u1,
                       void *u2)
{
    (void)u2;
    struct answer *r = u1;
    size_t n = m.data ? (m.length == WGPU_STRLEN ? strlen(m.data) : m.length) : 0;
    if (n >= sizeof(r->message))
        n = sizeof(r->message) - 1;
    memcpy(r->message, m.data ? m.data : "", n);
    r->message[n] = 0;
    r->status = s;
    r->adapter = a;
    r->done = true;
}

static const char *status_name(WGPURequestAdapterStatus s)
{
    switch (s) {
    case WGPURequestAdapterStatus_Success: return "Success";
    case WGPURequestAdapterStatus_CallbackCancelled: return "CallbackCancelled";
    case WGPURequestAdapterStatus_Unavailable: return "Unavailable";
    case WGPURequestAdapterStatus_Error: return "Error";
    default: return "?";
    }
}

static const char *backend_name(WGPUBackendType b)
{
    switch (b) {
    case WGPUBackendType_Null: return "Null";
    case WGPUBackendType_Vulkan: return "Vulkan";
    default: return "other";
    }
}

int main(int argc, char **argv)
{
    bool want_null = argc > 1 && !strcmp(argv[1], "null");
    WGPUInstance instance = wgpuCreateInstance(NULL);
    if (!instance) {
        fprintf(stderr, "null-adapter: no instance (is a server running?)\n");
        return 2;
    }
    WGPURequestAdapterOptions opts = WGPU_REQUEST_ADAPTER_OPTIONS_INIT;
    if (want_null)
        opts.backendType = WGPUBackendType_Null;
    struct answer r = {0};
    WGPURequestAdapterCallbackInfo ci = WGPU_REQUEST_ADAPTER_CALLBACK_INFO_INIT;
    ci.mode = WGPUCallbackMode_AllowProcessEvents;
    ci.callback = on_adapter;
    ci.userdata1 = &r;
    wgpuInstanceRequestAdapter(instance, &opts, ci);
    for (int i = 0; i < 30000 && !r.done; i++) {
        wgpuInstanceProcessEvents(instance);
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
    if (!r.done) {
        fprintf(stderr, "null-adapter: the adapter request was never answered\n");
        return 2;
    }
    printf("status: %s\nmessage: %s\n", status_name(r.status), r.message);
    if (r.adapter) {
        WGPUAdapterInfo info = WGPU_ADAPTER_INFO_INIT;
        wgpuAdapterGetInfo(r.adapter, &info);
        printf("backend: %s\ndevice: %.*s\n", backend_name(info.backendType),
               (int)(info.device.length == WGPU_STRLEN ? strlen(info.device.data)
                                                        : info.device.length),
               info.device.data ? info.device.data : "");
        wgpuAdapterInfoFreeMembers(info);
        wgpuAdapterRelease(r.adapter);
    }
    wgpuInstanceRelease(instance);
    return 0;
}
