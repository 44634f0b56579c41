/* What only wgpu-native's headers have, in libwgpu_native.so: its instance
 * extras, version, log, report, and the limits wgpu.h chains onto WGPULimits
 * (docs/using.md, "The wgpu-native front"). Adapters and devices are in
 * wgpu-native-device.c, submissions and polling in wgpu-native-queue.c, the
 * commands wgpu.h adds in wgpu-native-commands.c; the rest of the front is
 * shared with the other two. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "standard-abi.h"
#include "wgpu-native.h"

/* The wgpu-native release whose headers this front speaks: 29.0.1.1, one
 * byte each, as wgpuGetVersion encodes it. */
#define WGV_WN_VERSION ((29u << 24) | (0u << 16) | (1u << 8) | 1u)

/* ------------------------------------------------------------------- log */

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static WGPULogCallback log_callback;
static void *log_userdata;
static _Atomic int log_level = WGPULogLevel_Off;

WGPU_EXPORT void wgpuSetLogCallback(WGPULogCallback callback, void *userdata)
{
    pthread_mutex_lock(&log_lock);
    log_callback = callback;
    log_userdata = userdata;
    pthread_mutex_unlock(&log_lock);
}

WGPU_EXPORT void wgpuSetLogLevel(WGPULogLevel level)
{
    log_level = (int)level;
}

void wgv_wn_log(WGPULogLevel level, const char *fmt, ...)
{
    if (level == WGPULogLevel_Off || (int)level > log_level)
        return;
    pthread_mutex_lock(&log_lock);
    WGPULogCallback cb = log_callback;
    void *ud = log_userdata;
    pthread_mutex_unlock(&log_lock);
    if (!cb)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    cb(level, (WGPUStringView){msg, WGPU_STRLEN}, ud);
}

void wgv_wn_message_set(struct wgv_wn_message *m, WGPUStringView s)
{
    free(m->text);
    m->text = NULL;
    if (!s.data)
        return;
    size_t n = s.length == WGPU_STRLEN ? strlen(s.data) : s.length;
    m->text = malloc(n + 1);
    if (m->text) {
        memcpy(m->text, s.data, n);
        m->text[n] = 0;
    }
}

void wgv_wn_wait(struct wgv_client *c, WGPUFuture f)
{
    WGPUFutureWaitInfo w = {f, 0};
    wgv_client_wait_any(c, 1, &w, UINT64_MAX, true);
}

/* ------------------------------------------------------------- instance */

/* InstanceExtras configures a wgpu of the application's own: of it, a guest
 * honours the backends (the host's adapter must be of one of them) and
 * ignores what only a local wgpu has (flags, shader compilers, GL, display
 * handles, memory budgets). */
WGPU_EXPORT WGPUInstance wgpuCreateInstance(WGPUInstanceDescriptor const *descriptor)
{
    uint64_t backends = 0;
    for (const WGPUChainedStruct *l = descriptor ? descriptor->nextInChain : NULL; l; l = l->next) {
        if (l->sType != (WGPUSType)WGPUSType_InstanceExtras)
            continue;
        const WGPUInstanceExtras *x = (const WGPUInstanceExtras *)l;
        backends = x->backends;
        wgv_wn_log(WGPULogLevel_Info, "webgpu-virtio: InstanceExtras: backends 0x%llx used; the rest "
                   "configures a local wgpu and is ignored", (unsigned long long)backends);
    }
    WGPUInstance instance = wgv_instance_new_standard(descriptor);
    if (instance)
        ((struct wgv_instance *)instance)->backends = backends;
    return instance;
}

WGPU_EXPORT uint32_t wgpuGetVersion(void)
{
    return WGV_WN_VERSION;
}

/* wgpu-native reports its registries; the guest reports the objects it
 * holds of each type (allocated and kept, as an application holds them
 * all; none released and still alive, since the guest frees an object at
 * its last release). */
WGPU_EXPORT void wgpuGenerateReport(WGPUInstance instance, WGPUGlobalReport *report)
{
    if (!report)
        return;
    memset(report, 0, sizeof(*report));
    struct wgv_client *c = ((struct wgv_object *)instance)->client;
    struct {
        WGPURegistryReport *r;
        unsigned type;
    } rows[] = {
        {&report->hub.adapters, WGV_OBJ_Adapter}, {&report->hub.devices, WGV_OBJ_Device},
        {&report->hub.queues, WGV_OBJ_Queue}, {&report->hub.pipelineLayouts, WGV_OBJ_PipelineLayout},
        {&report->hub.shaderModules, WGV_OBJ_ShaderModule},
        {&report->hub.bindGroupLayouts, WGV_OBJ_BindGroupLayout},
        {&report->hub.bindGroups, WGV_OBJ_BindGroup}, {&report->hub.commandBuffers, WGV_OBJ_CommandBuffer},
        {&report->hub.renderBundles, WGV_OBJ_RenderBundle},
        {&report->hub.renderPipelines, WGV_OBJ_RenderPipeline},
        {&report->hub.computePipelines, WGV_OBJ_ComputePipeline},
        {&report->hub.querySets, WGV_OBJ_QuerySet}, {&report->hub.buffers, WGV_OBJ_Buffer},
        {&report->hub.textures, WGV_OBJ_Texture}, {&report->hub.textureViews, WGV_OBJ_TextureView},
        {&report->hub.samplers, WGV_OBJ_Sampler},
    };
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const struct wgv_idmap *m = &c->ids[rows[i].type];
        size_t issued = m->len ? m->len - 1 : 0; /* id 0 is never issued */
        size_t live = issued > m->free_len ? issued - m->free_len : 0;
        rows[i].r->numAllocated = live;
        rows[i].r->numKeptFromUser = live;
    }
    pthread_mutex_unlock(&c->lock);
}

/* --------------------------------------------------------------- limits */

static const WGPUChainedStruct *limits_link_ok(const WGPUChainedStruct *l)
{
    return l->sType == (WGPUSType)WGPUSType_NativeLimits || l->sType == WGPUSType_CompatibilityModeLimits
               ? l : NULL;
}

/* wgpu.h's NativeLimits, and the standard's CompatibilityModeLimits, which
 * a device of the core features (every device of the host's) has equal to
 * the core limits they narrow. */
WGPUStatus wgv_front_limits(const WGPULimits *have, WGPUChainedStruct *chain)
{
    for (const WGPUChainedStruct *l = chain; l; l = l->next)
        if (!limits_link_ok(l))
            return WGPUStatus_Error;
    for (WGPUChainedStruct *l = chain; l; l = l->next) {
        if (l->sType == (WGPUSType)WGPUSType_NativeLimits) {
            WGPUNativeLimits *n = (WGPUNativeLimits *)l;
            n->maxNonSamplerBindings = WGV_WN_MAX_NON_SAMPLER_BINDINGS;
            n->maxBindingArrayElementsPerShaderStage = 0;
            n->maxBindingArraySamplerElementsPerShaderStage = 0;
            n->maxMultiviewViewCount = 0;
        } else {
            WGPUCompatibilityModeLimits *m = (WGPUCompatibilityModeLimits *)l;
            m->maxStorageBuffersInVertexStage = have->maxStorageBuffersPerShaderStage;
            m->maxStorageTexturesInVertexStage = have->maxStorageTexturesPerShaderStage;
            m->maxStorageBuffersInFragmentStage = have->maxStorageBuffersPerShaderStage;
            m->maxStorageTexturesInFragmentStage = have->maxStorageTexturesPerShaderStage;
        }
    }
    return WGPUStatus_Success;
}
