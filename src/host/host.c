/* The host: loading the backend and checking its ABI, listing adapters,
 * the Null-adapter policy, what the handshake announces, the log. */
#include "context.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"

void wgv_host_log(struct wgv_host *host, enum wgv_log_level level, const char *fmt, ...)
{
    if (!host->config.log)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    host->config.log(host->config.user, level, msg);
}

static bool backend_speaks_our_abi(struct wgv_backend *b, char *err, size_t errlen)
{
    for (const char *const *s = wgv_backend_abi_exports; *s; s++) {
        if (!wgv_backend_has_symbol(b, *s)) {
            snprintf(err, errlen,
                     "backend: %s does not speak the %s ABI this host was built for "
                     "(it lacks %s)", b->path, wgv_backend_abi_name, *s);
            return false;
        }
    }
    for (const char *const *s = wgv_backend_abi_lacks; *s; s++) {
        if (wgv_backend_has_symbol(b, *s)) {
            snprintf(err, errlen,
                     "backend: %s does not speak the %s ABI this host was built for "
                     "(it exports %s, which that ABI lacks)", b->path, wgv_backend_abi_name, *s);
            return false;
        }
    }
    return true;
}

struct wgv_host *wgv_host_create(const struct wgv_host_config *config, char *err, size_t errlen)
{
    struct wgv_host *host = calloc(1, sizeof(*host));
    if (!host) {
        snprintf(err, errlen, "host: out of memory");
        return NULL;
    }
    if (config)
        host->config = *config;
    host->backend = wgv_backend_open(host->config.backend_path, err, errlen);
    if (!host->backend || !backend_speaks_our_abi(host->backend, err, errlen)) {
        wgv_backend_close(host->backend);
        free(host);
        return NULL;
    }
    return host;
}

void wgv_host_destroy(struct wgv_host *host)
{
    if (!host)
        return;
    wgv_backend_close(host->backend);
    free(host);
}

bool wgv_host_allows_null_adapter(const struct wgv_host *host)
{
    return (host->config.flags & WGV_HOST_ALLOW_NULL_ADAPTER) ||
           host->config.force_backend == WGPUBackendType_Null;
}

struct adapter_answer {
    WGPUAdapter adapter;
    bool done;
};

static void on_listed_adapter(WGPURequestAdapterStatus status, WGPUAdapter adapter,
                              WGPUStringView message, void *userdata1, void *userdata2)
{
    (void)message, (void)userdata2;
    struct adapter_answer *a = userdata1;
    a->adapter = status == WGPURequestAdapterStatus_Success ? adapter : NULL;
    a->done = true;
}

/* The adapter the backend gives for a backend type (Undefined: its
 * default), or NULL. */
static WGPUAdapter request_listed_adapter(const struct wgv_procs *p, WGPUInstance instance,
                                          WGPUBackendType type)
{
    WGPURequestAdapterOptions opts = WGPU_REQUEST_ADAPTER_OPTIONS_INIT;
    opts.backendType = type;
    struct adapter_answer a = {0};
    WGPURequestAdapterCallbackInfo ci = WGPU_REQUEST_ADAPTER_CALLBACK_INFO_INIT;
    ci.mode = WGPUCallbackMode_AllowProcessEvents;
    ci.callback = on_listed_adapter;
    ci.userdata1 = &a;
    p->instanceRequestAdapter(instance, &opts, ci);
    for (int spins = 0; !a.done && spins < 100000; spins++)
        p->instanceProcessEvents(instance);
    return a.adapter;
}

static void copy_view(char *dst, size_t cap, WGPUStringView v)
{
    size_t n = v.data ? (v.length == WGPU_STRLEN ? strlen(v.data) : v.length) : 0;
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, v.data ? v.data : "", n);
    dst[n] = 0;
}

unsigned wgv_host_list_adapters(struct wgv_host *host, struct wgv_host_adapter *out, unsigned cap)
{
    const struct wgv_procs *p = &host->backend->procs;
    WGPUInstance instance = p->createInstance(NULL);
    if (!instance)
        return 0;
    static const WGPUBackendType kinds[] = {WGPUBackendType_Undefined, WGPUBackendType_Vulkan,
                                            WGPUBackendType_Null};
    /* A forced backend is the only one contexts will ask for: no other is
     * loaded (a GPU driver's start-up is not free, nor leak-free). */
    WGPUBackendType forced = (WGPUBackendType)host->config.force_backend;
    size_t nkinds = forced ? 1 : sizeof(kinds) / sizeof(kinds[0]);
    struct wgv_host_adapter seen[3];
    unsigned count = 0;
    for (size_t k = 0; k < nkinds; k++) {
        WGPUAdapter adapter = request_listed_adapter(p, instance, forced ? forced : kinds[k]);
        if (!adapter)
            continue;
        WGPUAdapterInfo info = WGPU_ADAPTER_INFO_INIT;
        struct wgv_host_adapter a = {{0}, {0}, false};
        if (p->adapterGetInfo(adapter, &info) == WGPUStatus_Success) {
            uint32_t wire = wgv_enum_to_wire(&wgv_host_abi.enums[WGV_ENUM_BackendType],
                                             info.backendType);
            const char *name = wgv_enum_entry_name(WGV_ENUM_BackendType, wire);
            copy_view(a.name, sizeof(a.name), info.device);
            snprintf(a.backend, sizeof(a.backend), "%s", name ? name : "?");
            a.null_backend = info.backendType == WGPUBackendType_Null;
            p->adapterInfoFreeMembers(info);
        }
        p->adapterRelease(adapter);
        bool dup = false;
        for (unsigned i = 0; i < count; i++)
            dup |= !strcmp(seen[i].name, a.name) && !strcmp(seen[i].backend, a.backend);
        if (dup)
            continue;
        seen[count] = a;
        if (count < cap)
            out[count] = a;
        count++;
    }
    p->instanceRelease(instance);
    return count;
}

/* A warm instance is the backend's instance itself. */
struct wgv_warm_instance *wgv_host_warm_instance(struct wgv_host *host)
{
    const struct wgv_procs *p = &host->backend->procs;
    WGPUInstance instance = p->createInstance(NULL);
    if (!instance)
        return NULL;
    /* The instance keeps what finding an adapter started (the loader, the
     * driver, its physical devices) for the guest's own request. */
    WGPUAdapter adapter = request_listed_adapter(p, instance,
                                                 (WGPUBackendType)host->config.force_backend);
    if (adapter)
        p->adapterRelease(adapter);
    return (struct wgv_warm_instance *)instance;
}

void wgv_warm_instance_free(struct wgv_host *host, struct wgv_warm_instance *warm)
{
    if (warm)
        host->backend->procs.instanceRelease((WGPUInstance)warm);
}

uint32_t wgv_host_protocol_version(void)
{
    return WGV_PROTOCOL_VERSION;
}

size_t wgv_host_capset(const struct wgv_host *host, void *buf, size_t cap)
{
    (void)host;
    /* magic "WGVC", protocol version, largest message, reserved */
    const uint32_t capset[4] = {0x43564757u, WGV_PROTOCOL_VERSION, WGV_MESSAGE_MAX, 0};
    if (cap < sizeof(capset))
        return 0;
    memcpy(buf, capset, sizeof(capset));
    return sizeof(capset);
}
