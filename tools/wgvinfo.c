/* wgvinfo: the host's WebGPU adapters, their backend, limits and features,
 * named in the standard webgpu.h's terms (what a guest sees), like
 * `vulkaninfo --summary`. --json prints one JSON document for scripts. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "wgv-host-wire.h"

struct adapter_result {
    WGPUAdapter adapter;
    int done;
};

static void on_adapter(WGPURequestAdapterStatus status, WGPUAdapter adapter, WGPUStringView message,
                       void *userdata1, void *userdata2)
{
    (void)message, (void)userdata2;
    struct adapter_result *r = userdata1;
    r->adapter = status == WGPURequestAdapterStatus_Success ? adapter : NULL;
    r->done = 1;
}

/* The standard's name of a backend enum value. */
static const char *std_name(unsigned enum_id, uint32_t native)
{
    uint32_t wire = wgv_enum_to_wire(&wgv_host_abi.enums[enum_id], native);
    const char *n = wgv_enum_entry_name(enum_id, wire);
    return n ? n : "(not in the standard)";
}

static void print_string(FILE *f, WGPUStringView s, int json)
{
    size_t n = s.data ? (s.length == WGPU_STRLEN ? strlen(s.data) : s.length) : 0;
    if (!json) {
        fprintf(f, "%.*s", (int)n, s.data ? s.data : "");
        return;
    }
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s.data[i];
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

/* Prints one adapter; returns whether it is Dawn's Null adapter. */
static bool print_adapter(WGPUAdapter a, const struct wgv_procs *p, int json, int first)
{
    WGPUAdapterInfo info = WGPU_ADAPTER_INFO_INIT;
    WGPULimits limits = WGPU_LIMITS_INIT;
    WGPUSupportedFeatures features = WGPU_SUPPORTED_FEATURES_INIT;
    p->adapterGetInfo(a, &info);
    p->adapterGetLimits(a, &limits);
    p->adapterGetFeatures(a, &features);
    bool is_null = info.backendType == WGPUBackendType_Null;
    const struct wgv_shape *ls = &wgv_host_abi.shapes[WGV_SHAPE_Limits];
    if (json) {
        printf("%s\n    {\"device\": ", first ? "" : ",");
        print_string(stdout, info.device, 1);
        printf(", \"vendor\": ");
        print_string(stdout, info.vendor, 1);
        printf(", \"architecture\": ");
        print_string(stdout, info.architecture, 1);
        printf(", \"description\": ");
        print_string(stdout, info.description, 1);
        printf(",\n     \"backendType\": \"%s\", \"adapterType\": \"%s\", \"vendorID\": %u, \"deviceID\": %u,\n",
               std_name(WGV_ENUM_BackendType, info.backendType),
               std_name(WGV_ENUM_AdapterType, info.adapterType), info.vendorID, info.deviceID);
        printf("     \"null_backend\": %s,\n", is_null ? "true" : "false");
        printf("     \"limits\": {");
    } else {
        printf("adapter: ");
        print_string(stdout, info.device, 0);
        if (is_null)
            printf("  [NULL: Dawn's Null backend, no GPU; it validates and draws nothing, and "
                   "guests get it only from a host started with --null]");
        printf("\n  vendor: ");
        print_string(stdout, info.vendor, 0);
        printf(" (0x%04x)  architecture: ", info.vendorID);
        print_string(stdout, info.architecture, 0);
        printf("\n  description: ");
        print_string(stdout, info.description, 0);
        printf("\n  backend: %s  type: %s  device id: 0x%04x\n  limits:\n",
               std_name(WGV_ENUM_BackendType, info.backendType),
               std_name(WGV_ENUM_AdapterType, info.adapterType), info.deviceID);
    }
    /* The limits are listed from the wire's description of WGPULimits. */
    int n = 0;
    for (uint16_t i = 0; i < ls->member_count; i++) {
        const struct wgv_member *m = &ls->members[i];
        if (m->kind == WGV_K_CHAIN || (m->flags & WGV_M_ABSENT))
            continue;
        unsigned long long v = 0;
        if (m->size == 4) {
            uint32_t x;
            memcpy(&x, (const char *)&limits + m->offset, 4);
            v = x;
        } else {
            uint64_t x;
            memcpy(&x, (const char *)&limits + m->offset, 8);
            v = x;
        }
        if (json)
            printf("%s\"%s\": %llu", n++ ? ", " : "", m->name, v);
        else
            printf("    %-44s %llu\n", m->name, v);
    }
    if (json)
        printf("},\n     \"features\": [");
    else
        printf("  features:\n");
    for (size_t i = 0; i < features.featureCount; i++) {
        const char *name = std_name(WGV_ENUM_FeatureName, features.features[i]);
        if (json)
            printf("%s\"%s\"", i ? ", " : "", name);
        else
            printf("    %s\n", name);
    }
    if (json)
        printf("]}");
    p->adapterInfoFreeMembers(info);
    p->supportedFeaturesFreeMembers(features);
    return is_null;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: wgvinfo [--json] [--backend PATH]\n"
               "  Lists the adapters of the host WebGPU implementation (default: $%s or the\n"
               "  bundled Dawn) in the standard webgpu.h's terms.\n", WGV_BACKEND_ENV);
}

int main(int argc, char **argv)
{
    const char *path = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--backend") && i + 1 < argc) {
            path = argv[++i];
        } else if (!strcmp(argv[i], "--json")) {
            json = 1;
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    char err[512];
    struct wgv_backend *b = wgv_backend_open(path, err, sizeof(err));
    if (!b) {
        fprintf(stderr, "wgvinfo: %s\n", err);
        return 1;
    }
    const struct wgv_procs *p = &b->procs;
    WGPUInstance instance = p->createInstance(NULL);
    if (!instance) {
        fprintf(stderr, "wgvinfo: %s created no instance\n", b->path);
        wgv_backend_close(b);
        return 1;
    }
    if (json)
        printf("{\"backend_library\": \"%s\", \"abi\": \"%s\", \"protocol\": %u,\n  \"adapters\": [",
               b->path, wgv_backend_abi_name, WGV_PROTOCOL_VERSION);
    else
        printf("backend library: %s (%s ABI, %zu procs)\nwire protocol: 0x%08x\n\n", b->path,
               wgv_backend_abi_name, wgv_proc_count, WGV_PROTOCOL_VERSION);
    /* The default adapter, then each backend the guest could ask for. */
    static const WGPUBackendType kinds[] = {WGPUBackendType_Undefined, WGPUBackendType_Vulkan,
                                            WGPUBackendType_Null};
    WGPUAdapter seen[3] = {0};
    int count = 0, gpu = 0;
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        WGPURequestAdapterOptions opts = WGPU_REQUEST_ADAPTER_OPTIONS_INIT;
        opts.backendType = kinds[k];
        struct adapter_result r = {0};
        WGPURequestAdapterCallbackInfo ci = WGPU_REQUEST_ADAPTER_CALLBACK_INFO_INIT;
        ci.mode = WGPUCallbackMode_AllowProcessEvents;
        ci.callback = on_adapter;
        ci.userdata1 = &r;
        p->instanceRequestAdapter(instance, &opts, ci);
        for (int spins = 0; !r.done && spins < 100000; spins++)
            p->instanceProcessEvents(instance);
        if (!r.adapter)
            continue;
        WGPUAdapterInfo info = WGPU_ADAPTER_INFO_INIT;
        p->adapterGetInfo(r.adapter, &info);
        int dup = 0;
        for (int i = 0; i < count; i++) {
            WGPUAdapterInfo other = WGPU_ADAPTER_INFO_INIT;
            p->adapterGetInfo(seen[i], &other);
            dup |= other.backendType == info.backendType && other.deviceID == info.deviceID &&
                   other.vendorID == info.vendorID;
            p->adapterInfoFreeMembers(other);
        }
        p->adapterInfoFreeMembers(info);
        if (dup) {
            p->adapterRelease(r.adapter);
            continue;
        }
        if (!print_adapter(r.adapter, p, json, count == 0))
            gpu = 1;
        if (!json)
            printf("\n");
        seen[count++] = r.adapter;
    }
    if (json)
        printf("\n  ]}\n");
    for (int i = 0; i < count; i++)
        p->adapterRelease(seen[i]);
    p->instanceRelease(instance);
    wgv_backend_close(b);
    if (!count) {
        fprintf(stderr, "wgvinfo: no adapter found (is a Vulkan driver installed? on a machine "
                        "without a GPU, Mesa's lavapipe provides one)\n");
        return 1;
    }
    if (!gpu)
        fprintf(stderr, "wgvinfo: WARNING: only Dawn's Null adapter was found, no GPU (is a "
                        "Vulkan driver installed? on a machine without a GPU, Mesa's lavapipe "
                        "provides one); wgv-server gives guests no adapter unless run with --null\n");
    return 0;
}
