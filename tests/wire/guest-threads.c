/* Many threads using one device through the guest library at once, with
 * no lock of the application's: each thread creates its objects, uploads,
 * dispatches, maps and checks its result in a different callback mode
 * (uploading every other round through a write map of its own buffer),
 * while another thread keeps calling wgpuInstanceProcessEvents and a third
 * floods the command ring. Built in the normal build and, by make check,
 * with ThreadSanitizer (build-tsan), which fails it on any data race in the
 * guest library.
 *
 * Built three times: against the standard header (guest-threads), against
 * the pinned Dawn's, linked to libwebgpu_dawn.so (guest-threads-dawn, with
 * GUEST_THREADS_DAWN), where the device asks for Dawn's
 * ImplicitDeviceSynchronization: the promise that any thread may call
 * anything, which this test holds the library to; and against wgpu-native's,
 * linked to libwgpu_native.so (guest-threads-wgpu-native), whose objects
 * are all usable from any thread.
 *
 * Usage: guest-threads WGV_SERVER_BINARY (a private server is started). */
#include <webgpu/webgpu.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
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

#ifdef GUEST_THREADS_DAWN
#define SUITE "guest-threads-dawn"
#elif defined(GUEST_THREADS_WGPU_NATIVE)
#define SUITE "guest-threads-wgpu-native"
#else
#define SUITE "guest-threads"
#endif

#define WORKERS 8
#define ROUNDS 40
#define N 64

static WGPUInstance instance;
static WGPUAdapter adapter;
static WGPUDevice device;
static WGPUQueue queue;
static WGPUComputePipeline pipeline;
static atomic_int workers_left;
static atomic_int spontaneous_errors;

static const char *shader =
    "@group(0) @binding(0) var<storage, read_write> v : array<u32, 64>;\n"
    "@compute @workgroup_size(64) fn main(@builtin(local_invocation_index) k : u32) {\n"
    "  v[k] = v[k] * 3u + k;\n"
    "}\n";

/* ------------------------------------------------------------ callbacks */

struct flag {
    atomic_int done;
    atomic_int status;
};

static void on_map(WGPUMapAsyncStatus s, WGPUStringView m, void *u1, void *u2)
{
    (void)m, (void)u2;
    struct flag *f = u1;
    atomic_store(&f->status, (int)s);
    atomic_fetch_add(&f->done, 1);
}

static void on_done(WGPUQueueWorkDoneStatus s, WGPUStringView m, void *u1, void *u2)
{
    (void)m, (void)u2;
    struct flag *f = u1;
    atomic_store(&f->status, (int)s);
    atomic_fetch_add(&f->done, 1);
}

static void on_uncaptured(WGPUDevice const *d, WGPUErrorType t, WGPUStringView m, void *u1, void *u2)
{
    (void)d, (void)t, (void)u1, (void)u2;
    fprintf(stderr, "uncaptured error: %.*s\n", (int)(m.length == WGPU_STRLEN ? strlen(m.data) : m.length),
            m.data);
    atomic_fetch_add(&spontaneous_errors, 1);
}

static void on_adapter(WGPURequestAdapterStatus s, WGPUAdapter a, WGPUStringView m, void *u1, void *u2)
{
    (void)m, (void)u2;
    if (s == WGPURequestAdapterStatus_Success)
        *(WGPUAdapter *)u1 = a;
}

static void on_device(WGPURequestDeviceStatus s, WGPUDevice d, WGPUStringView m, void *u1, void *u2)
{
    (void)m, (void)u2;
    if (s == WGPURequestDeviceStatus_Success)
        *(WGPUDevice *)u1 = d;
}

/* Waits for a flag in the way its mode allows. */
static bool wait_flag(struct flag *f, WGPUCallbackMode mode, WGPUFuture future)
{
    if (mode == WGPUCallbackMode_WaitAnyOnly) {
        WGPUFutureWaitInfo w = {future, 0};
        return wgpuInstanceWaitAny(instance, 1, &w, UINT64_MAX) == WGPUWaitStatus_Success &&
               atomic_load(&f->done) == 1;
    }
    for (long i = 0; i < 20L * 1000 * 1000 && !atomic_load(&f->done); i++) {
        if (mode == WGPUCallbackMode_AllowProcessEvents || i % 64 == 0)
            wgpuInstanceProcessEvents(instance);
        if (i > 1000) {
            struct timespec ts = {0, 50 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    return atomic_load(&f->done) == 1;
}

/* -------------------------------------------------------------- workers */

struct worker {
    pthread_t thread;
    uint32_t id;
    int bad;
    WGPUBuffer upload; /* reused on odd rounds: write maps the guest answers */
};

static WGPUBuffer make_buffer(uint64_t size, WGPUBufferUsage usage)
{
    WGPUBufferDescriptor bd = WGPU_BUFFER_DESCRIPTOR_INIT;
    bd.size = size;
    bd.usage = usage;
    return wgpuDeviceCreateBuffer(device, &bd);
}

static void round_trip(struct worker *w, int round)
{
    static const WGPUCallbackMode modes[] = {WGPUCallbackMode_WaitAnyOnly,
                                             WGPUCallbackMode_AllowProcessEvents,
                                             WGPUCallbackMode_AllowSpontaneous};
    WGPUCallbackMode mode = modes[(w->id + (uint32_t)round) % 3];
    WGPUBuffer data = make_buffer(4 * N, WGPUBufferUsage_Storage | WGPUBufferUsage_CopySrc |
                                             WGPUBufferUsage_CopyDst);
    WGPUBuffer back = make_buffer(4 * N, WGPUBufferUsage_MapRead | WGPUBufferUsage_CopyDst);
    uint32_t in[N];
    for (uint32_t k = 0; k < N; k++)
        in[k] = w->id * 1000 + (uint32_t)round * 10 + k;
    /* Odd rounds upload through the worker's own mappable buffer, which
     * the last round's copy read: its map may be answered in the guest
     * once that round's work-done callback has come, whichever thread's
     * submissions came between. */
    bool via_upload = round % 2 == 1;
    if (via_upload) {
        struct flag up = {0, 0};
        WGPUBufferMapCallbackInfo ui = WGPU_BUFFER_MAP_CALLBACK_INFO_INIT;
        ui.mode = mode, ui.callback = on_map, ui.userdata1 = &up;
        WGPUFuture uf = wgpuBufferMapAsync(w->upload, WGPUMapMode_Write, 0, 4 * N, ui);
        uint32_t *p = wait_flag(&up, mode, uf) && atomic_load(&up.status) == WGPUMapAsyncStatus_Success
                          ? wgpuBufferGetMappedRange(w->upload, 0, 4 * N)
                          : NULL;
        if (!p)
            w->bad++;
        else
            memcpy(p, in, sizeof(in));
        wgpuBufferUnmap(w->upload);
    } else {
        wgpuQueueWriteBuffer(queue, data, 0, in, sizeof(in));
    }

    WGPUBindGroupEntry e = WGPU_BIND_GROUP_ENTRY_INIT;
    e.binding = 0;
    e.buffer = data;
    e.size = 4 * N;
    WGPUBindGroupDescriptor bgd = WGPU_BIND_GROUP_DESCRIPTOR_INIT;
    bgd.layout = wgpuComputePipelineGetBindGroupLayout(pipeline, 0);
    bgd.entryCount = 1;
    bgd.entries = &e;
    WGPUBindGroup bg = wgpuDeviceCreateBindGroup(device, &bgd);
    WGPUCommandEncoder enc = wgpuDeviceCreateCommandEncoder(device, NULL);
    if (via_upload)
        wgpuCommandEncoderCopyBufferToBuffer(enc, w->upload, 0, data, 0, 4 * N);
    WGPUComputePassEncoder pass = wgpuCommandEncoderBeginComputePass(enc, NULL);
    wgpuComputePassEncoderSetPipeline(pass, pipeline);
    wgpuComputePassEncoderSetBindGroup(pass, 0, bg, 0, NULL);
    wgpuComputePassEncoderDispatchWorkgroups(pass, 1, 1, 1);
    wgpuComputePassEncoderEnd(pass);
    wgpuCommandEncoderCopyBufferToBuffer(enc, data, 0, back, 0, 4 * N);
    WGPUCommandBuffer cb = wgpuCommandEncoderFinish(enc, NULL);
    wgpuQueueSubmit(queue, 1, &cb);

    struct flag done = {0, 0};
    WGPUQueueWorkDoneCallbackInfo qi = WGPU_QUEUE_WORK_DONE_CALLBACK_INFO_INIT;
    qi.mode = mode, qi.callback = on_done, qi.userdata1 = &done;
    WGPUFuture df = wgpuQueueOnSubmittedWorkDone(queue, qi);
    struct flag mapped = {0, 0};
    WGPUBufferMapCallbackInfo mi = WGPU_BUFFER_MAP_CALLBACK_INFO_INIT;
    mi.mode = mode, mi.callback = on_map, mi.userdata1 = &mapped;
    WGPUFuture mf = wgpuBufferMapAsync(back, WGPUMapMode_Read, 0, 4 * N, mi);
    bool ok = wait_flag(&mapped, mode, mf) && wait_flag(&done, mode, df);
    ok = ok && atomic_load(&mapped.status) == WGPUMapAsyncStatus_Success &&
         atomic_load(&done.status) == WGPUQueueWorkDoneStatus_Success;
    const uint32_t *out = ok ? wgpuBufferGetConstMappedRange(back, 0, 4 * N) : NULL;
    if (!out || wgpuBufferGetMapState(back) != WGPUBufferMapState_Mapped) {
        w->bad++;
    } else {
        for (uint32_t k = 0; k < N; k++)
            if (out[k] != in[k] * 3u + k) {
                w->bad++;
                break;
            }
        wgpuBufferUnmap(back);
    }
    wgpuCommandBufferRelease(cb);
    wgpuComputePassEncoderRelease(pass);
    wgpuCommandEncoderRelease(enc);
    wgpuBindGroupRelease(bg);
    wgpuBindGroupLayoutRelease(bgd.layout);
    wgpuBufferRelease(back);
    wgpuBufferRelease(data);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    w->upload = make_buffer(4 * N, WGPUBufferUsage_MapWrite | WGPUBufferUsage_CopySrc);
    for (int r = 0; r < ROUNDS; r++)
        round_trip(w, r);
    wgpuBufferRelease(w->upload);
    atomic_fetch_sub(&workers_left, 1);
    return NULL;
}

/* Keeps calling ProcessEvents while the workers run. */
static void *pumper_main(void *arg)
{
    (void)arg;
    while (atomic_load(&workers_left) > 0) {
        wgpuInstanceProcessEvents(instance);
        struct timespec ts = {0, 100 * 1000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

/* Floods the command ring with uploads and objects made and released. */
static void *flooder_main(void *arg)
{
    (void)arg;
    WGPUBuffer b = make_buffer(64 * 1024, WGPUBufferUsage_CopyDst);
    static uint8_t chunk[3000];
    for (int i = 0; atomic_load(&workers_left) > 0 && i < 200000; i++) {
        wgpuQueueWriteBuffer(queue, b, (uint64_t)(i % 16) * 4096, chunk, sizeof(chunk));
        if (i % 16 == 0) {
            WGPUBuffer t = make_buffer(256, WGPUBufferUsage_Uniform);
            wgpuBufferRelease(t);
        }
    }
    wgpuBufferRelease(b);
    return NULL;
}

/* ---------------------------------------------------------------- setup */

static pid_t server_pid;
static char server_dir[64];

static bool start_server(const char *bin)
{
    snprintf(server_dir, sizeof(server_dir), "/tmp/wgv-threads.XXXXXX");
    if (!mkdtemp(server_dir))
        return false;
    static char sock[96];
    snprintf(sock, sizeof(sock), "%s/s", server_dir);
    server_pid = fork();
    if (server_pid == 0) {
        execl(bin, bin, "--socket", sock, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 400; i++) {
        struct stat st;
        if (stat(sock, &st) == 0)
            break;
        struct timespec ts = {0, 25 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    setenv("WGV_SERVER", sock, 1);
    return server_pid > 0;
}

static void stop_server(void)
{
    if (server_pid > 0) {
        kill(server_pid, SIGTERM);
        while (waitpid(server_pid, NULL, 0) < 0 && errno == EINTR) {
        }
    }
    char sock[96];
    snprintf(sock, sizeof(sock), "%s/s", server_dir);
    unlink(sock);
    rmdir(server_dir);
}

static bool setup(void)
{
    WGPUInstanceDescriptor id = WGPU_INSTANCE_DESCRIPTOR_INIT;
#ifdef GUEST_THREADS_DAWN
    id.capabilities.timedWaitAnyEnable = 1;
#else
    WGPUInstanceFeatureName f = WGPUInstanceFeatureName_TimedWaitAny;
    id.requiredFeatureCount = 1;
    id.requiredFeatures = &f;
#endif
    instance = wgpuCreateInstance(&id);
    if (!instance)
        return false;
    WGPURequestAdapterCallbackInfo ac = WGPU_REQUEST_ADAPTER_CALLBACK_INFO_INIT;
    ac.mode = WGPUCallbackMode_WaitAnyOnly, ac.callback = on_adapter, ac.userdata1 = &adapter;
    WGPUFutureWaitInfo w = {wgpuInstanceRequestAdapter(instance, NULL, ac), 0};
    wgpuInstanceWaitAny(instance, 1, &w, UINT64_MAX);
    if (!adapter)
        return false;
    WGPUDeviceDescriptor dd = WGPU_DEVICE_DESCRIPTOR_INIT;
    dd.uncapturedErrorCallbackInfo.callback = on_uncaptured;
#ifdef GUEST_THREADS_DAWN
    WGPUFeatureName sync = WGPUFeatureName_ImplicitDeviceSynchronization;
    if (!wgpuAdapterHasFeature(adapter, sync)) {
        fprintf(stderr, "the adapter lacks ImplicitDeviceSynchronization\n");
        return false;
    }
    dd.requiredFeatureCount = 1;
    dd.requiredFeatures = &sync;
#endif
    WGPURequestDeviceCallbackInfo dc = WGPU_REQUEST_DEVICE_CALLBACK_INFO_INIT;
    dc.mode = WGPUCallbackMode_WaitAnyOnly, dc.callback = on_device, dc.userdata1 = &device;
    w = (WGPUFutureWaitInfo){wgpuAdapterRequestDevice(adapter, &dd, dc), 0};
    wgpuInstanceWaitAny(instance, 1, &w, UINT64_MAX);
    if (!device)
        return false;
    queue = wgpuDeviceGetQueue(device);
    WGPUShaderSourceWGSL src = WGPU_SHADER_SOURCE_WGSL_INIT;
    src.code = (WGPUStringView){shader, WGPU_STRLEN};
    WGPUShaderModuleDescriptor md = WGPU_SHADER_MODULE_DESCRIPTOR_INIT;
    md.nextInChain = &src.chain;
    WGPUShaderModule m = wgpuDeviceCreateShaderModule(device, &md);
    WGPUComputePipelineDescriptor pd = WGPU_COMPUTE_PIPELINE_DESCRIPTOR_INIT;
    pd.compute.module = m;
    pipeline = wgpuDeviceCreateComputePipeline(device, &pd);
    wgpuShaderModuleRelease(m);
    return pipeline != NULL;
}

static void test_threads_share_a_device_without_a_lock(void)
{
    struct worker w[WORKERS];
    pthread_t pumper, flooder;
    atomic_store(&workers_left, WORKERS);
    for (uint32_t i = 0; i < WORKERS; i++) {
        w[i] = (struct worker){.id = i};
        pthread_create(&w[i].thread, NULL, worker_main, &w[i]);
    }
    pthread_create(&pumper, NULL, pumper_main, NULL);
    pthread_create(&flooder, NULL, flooder_main, NULL);
    for (int i = 0; i < WORKERS; i++) {
        pthread_join(w[i].thread, NULL);
        CHECK_MSG(w[i].bad == 0, "worker %d: %d of %d rounds wrong", i, w[i].bad, ROUNDS);
    }
    pthread_join(pumper, NULL);
    pthread_join(flooder, NULL);
    CHECK(atomic_load(&spontaneous_errors) == 0);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: guest-threads WGV_SERVER_BINARY\n");
        return 2;
    }
    if (!start_server(argv[1]) || !setup()) {
        fprintf(stderr, "no server, adapter, device or pipeline\n");
        stop_server();
        printf(SUITE ": 0 passed, 1 failed\n");
        return 1;
    }
    RUN(test_threads_share_a_device_without_a_lock);
    wgpuComputePipelineRelease(pipeline);
    wgpuQueueRelease(queue);
    wgpuDeviceRelease(device);
    wgpuAdapterRelease(adapter);
    wgpuInstanceRelease(instance);
    stop_server();
    return harness_finish(SUITE);
}
