/* A guest whose host dies: every callback it is owed completes at once, in
 * every callback mode, with what a lost device gives natively; WaitAny
 * returns and nothing hangs or fires twice.
 *
 * Deterministic, not timed: each case starts its own wgv-server (argv[1]),
 * brings the program to a point, stops the server with SIGSTOP so that the
 * calls made next are certainly unanswered, makes them, then kills the
 * server with SIGKILL and reaps it before looking at the callbacks.
 *
 * Usage: host-gone WGV_SERVER_BINARY */
#include <webgpu/webgpu.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

static const char *server_bin;

/* ------------------------------------------------------------- the host */

struct host {
    pid_t pid;
    char dir[64], sock[96];
};

static bool host_start(struct host *h)
{
    snprintf(h->dir, sizeof(h->dir), "/tmp/wgv-host-gone.XXXXXX");
    if (!mkdtemp(h->dir))
        return false;
    snprintf(h->sock, sizeof(h->sock), "%s/s", h->dir);
    h->pid = fork();
    if (h->pid < 0)
        return false;
    if (h->pid == 0) {
        execl(server_bin, server_bin, "--socket", h->sock, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 400; i++) {
        struct stat st;
        if (stat(h->sock, &st) == 0)
            break;
        struct timespec ts = {0, 25 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    setenv("WGV_SERVER", h->sock, 1);
    return true;
}

static void host_freeze(struct host *h)
{
    kill(h->pid, SIGSTOP);
}

/* Kills the host and waits until it is gone (its socket closed). */
static void host_kill(struct host *h)
{
    if (h->pid <= 0)
        return;
    kill(h->pid, SIGKILL);
    while (waitpid(h->pid, NULL, 0) < 0 && errno == EINTR) {
    }
    h->pid = 0;
    unlink(h->sock);
    rmdir(h->dir);
}

static void *kill_later(void *arg)
{
    struct timespec ts = {0, 200 * 1000 * 1000};
    nanosleep(&ts, NULL);
    host_kill(arg);
    return NULL;
}

/* ------------------------------------------------------------ callbacks */

struct seen {
    int calls;
    int status;
    int type;
    bool object;
    char message[160];
};

static void keep_message(struct seen *s, WGPUStringView m)
{
    size_t n = m.data ? (m.length == WGPU_STRLEN ? strlen(m.data) : m.length) : 0;
    snprintf(s->message, sizeof(s->message), "%.*s", (int)n, n ? m.data : "");
}

static void on_adapter(WGPURequestAdapterStatus st, WGPUAdapter a, WGPUStringView m, void *u1, void *u2)
{
    struct seen *s = u1;
    s->calls++, s->status = (int)st, s->object = a != NULL;
    keep_message(s, m);
    if (u2 && a)
        *(WGPUAdapter *)u2 = a;
}

static void on_device(WGPURequestDeviceStatus st, WGPUDevice d, WGPUStringView m, void *u1, void *u2)
{
    struct seen *s = u1;
    s->calls++, s->status = (int)st, s->object = d != NULL;
    keep_message(s, m);
    if (u2 && d)
        *(WGPUDevice *)u2 = d;
}

static void on_lost(WGPUDevice const *d, WGPUDeviceLostReason r, WGPUStringView m, void *u1, void *u2)
{
    (void)d, (void)u2;
    struct seen *s = u1;
    s->calls++, s->status = (int)r;
    keep_message(s, m);
}

static void on_map(WGPUMapAsyncStatus st, WGPUStringView m, void *u1, void *u2)
{
    (void)u2;
    struct seen *s = u1;
    s->calls++, s->status = (int)st;
    keep_message(s, m);
}

static void on_done(WGPUQueueWorkDoneStatus st, WGPUStringView m, void *u1, void *u2)
{
    (void)m, (void)u2;
    struct seen *s = u1;
    s->calls++, s->status = (int)st;
}

static void on_pop(WGPUPopErrorScopeStatus st, WGPUErrorType t, WGPUStringView m, void *u1, void *u2)
{
    (void)m, (void)u2;
    struct seen *s = u1;
    s->calls++, s->status = (int)st, s->type = (int)t;
}

static void on_pipeline(WGPUCreatePipelineAsyncStatus st, WGPUComputePipeline p, WGPUStringView m,
                        void *u1, void *u2)
{
    (void)m, (void)u2;
    struct seen *s = u1;
    s->calls++, s->status = (int)st, s->object = p != NULL;
    if (p)
        wgpuComputePipelineRelease(p);
}

static void on_info(WGPUCompilationInfoRequestStatus st, const WGPUCompilationInfo *info, void *u1,
                    void *u2)
{
    (void)u2;
    struct seen *s = u1;
    s->calls++, s->status = (int)st, s->type = info ? (int)info->messageCount : -1;
}

/* ------------------------------------------------------------- the guest */

static WGPUInstance new_instance(void)
{
    WGPUInstanceFeatureName f = WGPUInstanceFeatureName_TimedWaitAny;
    WGPUInstanceDescriptor id = WGPU_INSTANCE_DESCRIPTOR_INIT;
    id.requiredFeatureCount = 1;
    id.requiredFeatures = &f;
    return wgpuCreateInstance(&id);
}

static WGPUAdapter get_adapter(WGPUInstance i)
{
    struct seen s = {0};
    WGPUAdapter a = NULL;
    WGPURequestAdapterCallbackInfo ci = WGPU_REQUEST_ADAPTER_CALLBACK_INFO_INIT;
    ci.mode = WGPUCallbackMode_WaitAnyOnly;
    ci.callback = on_adapter;
    ci.userdata1 = &s;
    ci.userdata2 = &a;
    WGPUFutureWaitInfo w = {wgpuInstanceRequestAdapter(i, NULL, ci), 0};
    wgpuInstanceWaitAny(i, 1, &w, UINT64_MAX);
    return a;
}

static WGPUDevice get_device(WGPUInstance i, WGPUAdapter a, WGPUCallbackMode lost_mode,
                             struct seen *lost)
{
    struct seen s = {0};
    WGPUDevice d = NULL;
    WGPUDeviceDescriptor dd = WGPU_DEVICE_DESCRIPTOR_INIT;
    dd.deviceLostCallbackInfo.mode = lost_mode;
    dd.deviceLostCallbackInfo.callback = on_lost;
    dd.deviceLostCallbackInfo.userdata1 = lost;
    WGPURequestDeviceCallbackInfo ci = WGPU_REQUEST_DEVICE_CALLBACK_INFO_INIT;
    ci.mode = WGPUCallbackMode_WaitAnyOnly;
    ci.callback = on_device;
    ci.userdata1 = &s;
    ci.userdata2 = &d;
    WGPUFutureWaitInfo w = {wgpuAdapterRequestDevice(a, &dd, ci), 0};
    wgpuInstanceWaitAny(i, 1, &w, UINT64_MAX);
    return d;
}

static const WGPUCallbackMode modes[] = {WGPUCallbackMode_WaitAnyOnly,
                                         WGPUCallbackMode_AllowProcessEvents,
                                         WGPUCallbackMode_AllowSpontaneous};
static const char *const mode_names[] = {"WaitAnyOnly", "AllowProcessEvents", "AllowSpontaneous"};

/* What the program does once the host is gone, in the futures' mode: one
 * ProcessEvents (AllowProcessEvents, AllowSpontaneous) or one unbounded
 * WaitAny per future (WaitAnyOnly), each of which must complete. */
static void collect(WGPUInstance i, WGPUCallbackMode mode, const WGPUFuture *futures, size_t n)
{
    if (mode != WGPUCallbackMode_WaitAnyOnly) {
        wgpuInstanceProcessEvents(i);
        return;
    }
    for (size_t k = 0; k < n; k++) {
        WGPUFutureWaitInfo w = {futures[k], 0};
        WGPUWaitStatus st = wgpuInstanceWaitAny(i, 1, &w, UINT64_MAX);
        CHECK_MSG(st == WGPUWaitStatus_Success && w.completed, "future %zu: WaitAny %d", k, (int)st);
    }
}

static bool names_the_connection(const char *m)
{
    return strstr(m, "connection") != NULL;
}

/* 1. The host dies before an adapter request is answered. */
static void adapter_request_unanswered(WGPUCallbackMode mode)
{
    struct host h;
    CHECK(host_start(&h));
    WGPUInstance i = new_instance();
    CHECK(i != NULL);
    if (!i) {
        host_kill(&h);
        return;
    }
    host_freeze(&h);
    struct seen s = {0};
    WGPURequestAdapterCallbackInfo ci = WGPU_REQUEST_ADAPTER_CALLBACK_INFO_INIT;
    ci.mode = mode;
    ci.callback = on_adapter;
    ci.userdata1 = &s;
    WGPUFuture f = wgpuInstanceRequestAdapter(i, NULL, ci);
    host_kill(&h);
    collect(i, mode, &f, 1);
    CHECK_MSG(s.calls == 1, "%d calls", s.calls);
    CHECK_MSG(s.status == WGPURequestAdapterStatus_Error && !s.object, "status %d", s.status);
    CHECK_MSG(names_the_connection(s.message), "message '%s'", s.message);
    wgpuInstanceProcessEvents(i);
    CHECK(s.calls == 1);
    wgpuInstanceRelease(i);
}

/* 2. The host dies before a device request is answered. */
static void device_request_unanswered(WGPUCallbackMode mode)
{
    struct host h;
    CHECK(host_start(&h));
    WGPUInstance i = new_instance();
    WGPUAdapter a = i ? get_adapter(i) : NULL;
    CHECK(a != NULL);
    if (!a) {
        host_kill(&h);
        if (i)
            wgpuInstanceRelease(i);
        return;
    }
    host_freeze(&h);
    struct seen s = {0};
    WGPURequestDeviceCallbackInfo ci = WGPU_REQUEST_DEVICE_CALLBACK_INFO_INIT;
    ci.mode = mode;
    ci.callback = on_device;
    ci.userdata1 = &s;
    WGPUFuture f = wgpuAdapterRequestDevice(a, NULL, ci);
    host_kill(&h);
    collect(i, mode, &f, 1);
    CHECK_MSG(s.calls == 1, "%d calls", s.calls);
    CHECK_MSG(s.status == WGPURequestDeviceStatus_Error && !s.object, "status %d", s.status);
    CHECK_MSG(names_the_connection(s.message), "message '%s'", s.message);
    wgpuAdapterRelease(a);
    wgpuInstanceRelease(i);
}

struct device_world {
    struct host h;
    WGPUInstance instance;
    WGPUAdapter adapter;
    WGPUDevice device;
    WGPUQueue queue;
    struct seen lost;
};

static bool world_start(struct device_world *w, WGPUCallbackMode lost_mode)
{
    memset(w, 0, sizeof(*w));
    if (!host_start(&w->h))
        return false;
    w->instance = new_instance();
    w->adapter = w->instance ? get_adapter(w->instance) : NULL;
    w->device = w->adapter ? get_device(w->instance, w->adapter, lost_mode, &w->lost) : NULL;
    if (!w->device)
        return false;
    w->queue = wgpuDeviceGetQueue(w->device);
    return true;
}

static void world_end(struct device_world *w)
{
    host_kill(&w->h);
    if (w->queue)
        wgpuQueueRelease(w->queue);
    if (w->device)
        wgpuDeviceRelease(w->device);
    if (w->adapter)
        wgpuAdapterRelease(w->adapter);
    if (w->instance)
        wgpuInstanceRelease(w->instance);
}

/* Work of every kind that owes a callback, issued while the host is
 * frozen; the statuses they must end with. */
struct owed {
    struct seen map, done, pop, pipeline, info;
    WGPUFuture futures[6];
    size_t count;
};

static void issue_owed(struct device_world *w, WGPUCallbackMode mode, WGPUBuffer buf,
                       WGPUShaderModule module, struct owed *o)
{
    memset(o, 0, sizeof(*o));
    WGPUBufferMapCallbackInfo mc = WGPU_BUFFER_MAP_CALLBACK_INFO_INIT;
    mc.mode = mode, mc.callback = on_map, mc.userdata1 = &o->map;
    o->futures[o->count++] = wgpuBufferMapAsync(buf, WGPUMapMode_Read, 0, 256, mc);
    WGPUQueueWorkDoneCallbackInfo qc = WGPU_QUEUE_WORK_DONE_CALLBACK_INFO_INIT;
    qc.mode = mode, qc.callback = on_done, qc.userdata1 = &o->done;
    o->futures[o->count++] = wgpuQueueOnSubmittedWorkDone(w->queue, qc);
    wgpuDevicePushErrorScope(w->device, WGPUErrorFilter_Validation);
    WGPUPopErrorScopeCallbackInfo pc = WGPU_POP_ERROR_SCOPE_CALLBACK_INFO_INIT;
    pc.mode = mode, pc.callback = on_pop, pc.userdata1 = &o->pop;
    o->futures[o->count++] = wgpuDevicePopErrorScope(w->device, pc);
    WGPUComputePipelineDescriptor pd = WGPU_COMPUTE_PIPELINE_DESCRIPTOR_INIT;
    pd.compute.module = module;
    WGPUCreateComputePipelineAsyncCallbackInfo cc = WGPU_CREATE_COMPUTE_PIPELINE_ASYNC_CALLBACK_INFO_INIT;
    cc.mode = mode, cc.callback = on_pipeline, cc.userdata1 = &o->pipeline;
    o->futures[o->count++] = wgpuDeviceCreateComputePipelineAsync(w->device, &pd, cc);
    WGPUCompilationInfoCallbackInfo ic = WGPU_COMPILATION_INFO_CALLBACK_INFO_INIT;
    ic.mode = mode, ic.callback = on_info, ic.userdata1 = &o->info;
    o->futures[o->count++] = wgpuShaderModuleGetCompilationInfo(module, ic);
}

static void check_owed(const struct owed *o, const char *when)
{
    CHECK_MSG(o->map.calls == 1 && o->map.status == WGPUMapAsyncStatus_Aborted,
              "%s: map %d calls, status %d", when, o->map.calls, o->map.status);
    CHECK_MSG(names_the_connection(o->map.message), "%s: map message '%s'", when, o->map.message);
    CHECK_MSG(o->done.calls == 1 && o->done.status == WGPUQueueWorkDoneStatus_Success,
              "%s: work done %d calls, status %d", when, o->done.calls, o->done.status);
    CHECK_MSG(o->pop.calls == 1 && o->pop.status == WGPUPopErrorScopeStatus_Success &&
                  o->pop.type == WGPUErrorType_NoError,
              "%s: pop %d calls, status %d type %d", when, o->pop.calls, o->pop.status, o->pop.type);
    CHECK_MSG(o->pipeline.calls == 1 && o->pipeline.status == WGPUCreatePipelineAsyncStatus_Success &&
                  o->pipeline.object,
              "%s: pipeline %d calls, status %d", when, o->pipeline.calls, o->pipeline.status);
    CHECK_MSG(o->info.calls == 1 && o->info.status == WGPUCompilationInfoRequestStatus_Success &&
                  o->info.type == 0,
              "%s: compilation info %d calls, status %d", when, o->info.calls, o->info.status);
}

static WGPUShaderModule trivial_module(WGPUDevice d)
{
    WGPUShaderSourceWGSL src = WGPU_SHADER_SOURCE_WGSL_INIT;
    src.code = (WGPUStringView){"@compute @workgroup_size(1) fn main() {}", WGPU_STRLEN};
    WGPUShaderModuleDescriptor md = WGPU_SHADER_MODULE_DESCRIPTOR_INIT;
    md.nextInChain = &src.chain;
    return wgpuDeviceCreateShaderModule(d, &md);
}

static WGPUBuffer readback_buffer(WGPUDevice d)
{
    WGPUBufferDescriptor bd = WGPU_BUFFER_DESCRIPTOR_INIT;
    bd.size = 256;
    bd.usage = WGPUBufferUsage_MapRead | WGPUBufferUsage_CopyDst;
    return wgpuDeviceCreateBuffer(d, &bd);
}

/* 3. The host dies with work of every kind in flight; then the program
 *    goes on calling as if nothing happened. */
static void work_in_flight(WGPUCallbackMode mode)
{
    struct device_world w;
    CHECK(world_start(&w, mode));
    if (!w.device) {
        world_end(&w);
        return;
    }
    WGPUShaderModule module = trivial_module(w.device);
    WGPUBuffer buf = readback_buffer(w.device);
    host_freeze(&w.h);
    struct owed o;
    issue_owed(&w, mode, buf, module, &o);
    WGPUFuture all[7];
    memcpy(all, o.futures, o.count * sizeof(all[0]));
    all[o.count] = wgpuDeviceGetLostFuture(w.device);
    host_kill(&w.h);
    collect(w.instance, mode, all, o.count + 1);
    check_owed(&o, "in flight");
    CHECK_MSG(w.lost.calls == 1 && w.lost.status == WGPUDeviceLostReason_Unknown,
              "lost %d calls, reason %d", w.lost.calls, w.lost.status);
    CHECK_MSG(names_the_connection(w.lost.message), "lost message '%s'", w.lost.message);
    CHECK(wgpuBufferGetMapState(buf) == WGPUBufferMapState_Unmapped);
    CHECK(wgpuBufferGetConstMappedRange(buf, 0, 256) == NULL);

    /* Calls after the loss: objects are still made, callbacks still come. */
    WGPUBuffer late = readback_buffer(w.device);
    CHECK(late != NULL);
    struct owed again;
    issue_owed(&w, mode, late, module, &again);
    collect(w.instance, mode, again.futures, again.count);
    check_owed(&again, "after the loss");
    wgpuInstanceProcessEvents(w.instance);
    CHECK(w.lost.calls == 1 && o.map.calls == 1 && again.done.calls == 1);

    wgpuBufferRelease(late);
    wgpuBufferRelease(buf);
    wgpuShaderModuleRelease(module);
    world_end(&w);
}

/* 4. The host dies while the program is blocked in an unbounded WaitAny. */
static void dies_during_wait_any(void)
{
    struct device_world w;
    CHECK(world_start(&w, WGPUCallbackMode_AllowProcessEvents));
    if (!w.device) {
        world_end(&w);
        return;
    }
    host_freeze(&w.h);
    struct seen done = {0};
    WGPUQueueWorkDoneCallbackInfo qc = WGPU_QUEUE_WORK_DONE_CALLBACK_INFO_INIT;
    qc.mode = WGPUCallbackMode_WaitAnyOnly, qc.callback = on_done, qc.userdata1 = &done;
    WGPUFutureWaitInfo wi = {wgpuQueueOnSubmittedWorkDone(w.queue, qc), 0};
    pthread_t killer;
    pthread_create(&killer, NULL, kill_later, &w.h);
    WGPUWaitStatus st = wgpuInstanceWaitAny(w.instance, 1, &wi, UINT64_MAX);
    pthread_join(killer, NULL);
    CHECK_MSG(st == WGPUWaitStatus_Success && wi.completed, "WaitAny %d", (int)st);
    CHECK(done.calls == 1 && done.status == WGPUQueueWorkDoneStatus_Success);
    wgpuInstanceProcessEvents(w.instance);
    CHECK(w.lost.calls == 1);
    world_end(&w);
}

/* 5. The host dies while the command ring is full and the program is
 *    waiting for room in it. */
static void dies_with_the_command_ring_full(void)
{
    struct device_world w;
    CHECK(world_start(&w, WGPUCallbackMode_AllowSpontaneous));
    if (!w.device) {
        world_end(&w);
        return;
    }
    WGPUBufferDescriptor bd = WGPU_BUFFER_DESCRIPTOR_INIT;
    bd.size = 64;
    bd.usage = WGPUBufferUsage_CopyDst;
    WGPUBuffer buf = wgpuDeviceCreateBuffer(w.device, &bd);
    host_freeze(&w.h);
    pthread_t killer;
    pthread_create(&killer, NULL, kill_later, &w.h);
    /* Far more than any command ring holds. */
    uint32_t word = 7;
    for (int k = 0; k < 2 * 1000 * 1000 && w.lost.calls == 0; k++) {
        wgpuQueueWriteBuffer(w.queue, buf, 0, &word, sizeof(word));
        if (k % 4096 == 0)
            wgpuInstanceProcessEvents(w.instance);
    }
    pthread_join(killer, NULL);
    wgpuInstanceProcessEvents(w.instance);
    CHECK_MSG(w.lost.calls == 1 && w.lost.status == WGPUDeviceLostReason_Unknown,
              "lost %d calls", w.lost.calls);
    wgpuBufferRelease(buf);
    world_end(&w);
}

#define EACH_MODE(fn)                                                           \
    static void fn##_all_modes(void)                                            \
    {                                                                           \
        for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {         \
            int before = harness_state.current_failed;                          \
            fn(modes[m]);                                                       \
            if (harness_state.current_failed != before)                         \
                fprintf(stderr, "  ... in mode %s\n", mode_names[m]);           \
        }                                                                       \
    }

EACH_MODE(adapter_request_unanswered)
EACH_MODE(device_request_unanswered)
EACH_MODE(work_in_flight)

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: host-gone WGV_SERVER_BINARY\n");
        return 2;
    }
    server_bin = argv[1];
    signal(SIGPIPE, SIG_IGN);
    RUN(adapter_request_unanswered_all_modes);
    RUN(device_request_unanswered_all_modes);
    RUN(work_in_flight_all_modes);
    RUN(dies_during_wait_any);
    RUN(dies_with_the_command_ring_full);
    return harness_finish("host-gone");
}
