/* Transfers larger than the shared bulk area (docs/protocol.md, "Large
 * transfers"): a writeBuffer of 1.25 S MiB read back by one MapRead of the
 * whole buffer, a mappedAtCreation buffer of S MiB copied and read back, a
 * MapWrite of nearly S MiB, a writeTexture of S MiB into a texture array,
 * and an invalid chunked writeBuffer that must give exactly one error.
 * Every result is checked against its pattern (one word every 4 KiB and
 * both ends); upload and readback times are printed.
 *
 * Usage: large-transfers [WGV_SERVER_BINARY [--bulk-kib K]] [--mib S] [--name NAME]
 *                        [--only CASE]
 *
 * With a server binary it starts a private wgv-server (with a bulk area of
 * K KiB if given) and runs against it; without one it uses whatever the
 * library finds (inside a VM: virtio-gpu). Built with -DWGV_NATIVE it runs
 * on Dawn directly, for comparison. S defaults to 1024; the closing line is
 * "NAME: N passed, M failed" (default large-transfers). */
#ifdef WGV_NATIVE
#include <wgv/backend-dawn.h>
#else
#include <webgpu/webgpu.h>
#endif

#include <errno.h>
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

#define MIB (1ull << 20)

static uint64_t mib = 1024;
static const char *only; /* run this case alone */

#define CASE(fn)                                                                \
    do {                                                                        \
        if (!only || !strcmp(only, #fn))                                        \
            RUN(fn);                                                            \
    } while (0)

/* ------------------------------------------------------------- the host */

static pid_t server_pid;
static char server_dir[64], server_sock[96];

static bool server_start(const char *bin, const char *bulk_kib)
{
    snprintf(server_dir, sizeof(server_dir), "/tmp/wgv-large.XXXXXX");
    if (!mkdtemp(server_dir))
        return false;
    snprintf(server_sock, sizeof(server_sock), "%s/s", server_dir);
    server_pid = fork();
    if (server_pid < 0)
        return false;
    if (server_pid == 0) {
        if (bulk_kib)
            execl(bin, bin, "--socket", server_sock, "--bulk-kib", bulk_kib, (char *)NULL);
        else
            execl(bin, bin, "--socket", server_sock, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 400; i++) {
        struct stat st;
        if (stat(server_sock, &st) == 0) {
            setenv("WGV_SERVER", server_sock, 1);
            return true;
        }
        struct timespec ts = {0, 25 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return false;
}

static void server_stop(void)
{
    if (server_pid <= 0)
        return;
    kill(server_pid, SIGTERM);
    while (waitpid(server_pid, NULL, 0) < 0 && errno == EINTR) {
    }
    server_pid = 0;
    unlink(server_sock);
    rmdir(server_dir);
}

/* ------------------------------------------------------------- helpers */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void report(const char *what, uint64_t bytes, double seconds)
{
    printf("  %-34s %7.1f MiB in %6.3f s: %6.2f GB/s\n", what, (double)bytes / (double)MIB,
           seconds, seconds > 0 ? (double)bytes / seconds / 1e9 : 0.0);
    fflush(stdout);
}

static uint32_t pattern(uint64_t word, uint32_t seed)
{
    return (uint32_t)(word * 2654435761u) ^ seed;
}

static void fill(uint32_t *w, uint64_t words, uint32_t seed)
{
    for (uint64_t i = 0; i < words; i++)
        w[i] = pattern(i, seed);
}

/* Checks one word every 4 KiB and the first and last 64 words: `first` is
 * the pattern index of w[0]. */
static bool check_words(const char *what, const uint32_t *w, uint64_t words, uint64_t first,
                        uint32_t seed)
{
    for (uint64_t i = 0; i < words;) {
        if (w[i] != pattern(first + i, seed)) {
            fprintf(stderr, "  %s: word %llu is %08x, not %08x\n", what, (unsigned long long)i,
                    w[i], pattern(first + i, seed));
            return false;
        }
        if (i < 64 || i + 64 >= words)
            i++;
        else if (i + 1024 + 64 < words)
            i += 1024;
        else
            i = words - 64;
    }
    return true;
}

struct gpu {
    WGPUInstance instance;
    WGPUAdapter adapter;
    WGPUDevice device;
    WGPUQueue queue;
    int uncaptured;
};
static struct gpu g;

static void wait_for(volatile int *flag)
{
    double deadline = now_s() + 300;
    while (!*flag && now_s() < deadline) {
        wgpuInstanceProcessEvents(g.instance);
        if (!*flag) {
            struct timespec nap = {0, 50 * 1000};
            nanosleep(&nap, NULL);
        }
    }
}

static void on_adapter(WGPURequestAdapterStatus s, WGPUAdapter a, WGPUStringView m, void *u1, void *u2)
{
    (void)m, (void)u2;
    if (s == WGPURequestAdapterStatus_Success)
        g.adapter = a;
    *(int *)u1 = 1;
}

static void on_device(WGPURequestDeviceStatus s, WGPUDevice d, WGPUStringView m, void *u1, void *u2)
{
    (void)u2;
    if (s == WGPURequestDeviceStatus_Success)
        g.device = d;
    else
        fprintf(stderr, "  requestDevice: %.*s\n", (int)(m.length == WGPU_STRLEN ? 200 : m.length),
                m.data ? m.data : "");
    *(int *)u1 = 1;
}

static void on_error(WGPUDevice const *d, WGPUErrorType t, WGPUStringView m, void *u1, void *u2)
{
    (void)d, (void)t, (void)u1, (void)u2;
    g.uncaptured++;
    fprintf(stderr, "  uncaptured error: %.*s\n",
            (int)(m.length == WGPU_STRLEN ? strlen(m.data) : m.length), m.data ? m.data : "");
}

static bool gpu_init(void)
{
    g.instance = wgpuCreateInstance(NULL);
    if (!g.instance)
        return false;
    int done = 0;
    WGPURequestAdapterCallbackInfo ai = {.mode = WGPUCallbackMode_AllowProcessEvents,
                                         .callback = on_adapter, .userdata1 = &done};
    wgpuInstanceRequestAdapter(g.instance, NULL, ai);
    wait_for(&done);
    if (!g.adapter)
        return false;
    WGPULimits limits = WGPU_LIMITS_INIT;
    if (wgpuAdapterGetLimits(g.adapter, &limits) != WGPUStatus_Success)
        return false;
    uint64_t need = mib * MIB * 5 / 4;
    if (limits.maxBufferSize < need) {
        fprintf(stderr, "  the adapter's largest buffer is %llu bytes, %llu needed\n",
                (unsigned long long)limits.maxBufferSize, (unsigned long long)need);
        return false;
    }
    WGPULimits want = WGPU_LIMITS_INIT;
    want.maxBufferSize = need;
    WGPUDeviceDescriptor dd = WGPU_DEVICE_DESCRIPTOR_INIT;
    dd.requiredLimits = &want;
    dd.uncapturedErrorCallbackInfo.callback = on_error;
    done = 0;
    WGPURequestDeviceCallbackInfo di = {.mode = WGPUCallbackMode_AllowProcessEvents,
                                        .callback = on_device, .userdata1 = &done};
    wgpuAdapterRequestDevice(g.adapter, &dd, di);
    wait_for(&done);
    if (!g.device)
        return false;
    g.queue = wgpuDeviceGetQueue(g.device);
    return true;
}

static void gpu_fini(void)
{
    if (g.queue)
        wgpuQueueRelease(g.queue);
    if (g.device)
        wgpuDeviceRelease(g.device);
    if (g.adapter)
        wgpuAdapterRelease(g.adapter);
    if (g.instance) {
        wgpuInstanceProcessEvents(g.instance);
        wgpuInstanceRelease(g.instance);
    }
}

static WGPUBuffer buffer(WGPUBufferUsage usage, uint64_t size, bool mapped)
{
    WGPUBufferDescriptor d = WGPU_BUFFER_DESCRIPTOR_INIT;
    d.usage = usage;
    d.size = size;
    d.mappedAtCreation = mapped;
    return wgpuDeviceCreateBuffer(g.device, &d);
}

static void on_done(WGPUQueueWorkDoneStatus s, WGPUStringView m, void *u1, void *u2)
{
    (void)s, (void)m, (void)u2;
    *(int *)u1 = 1;
}

static void queue_idle(void)
{
    int done = 0;
    WGPUQueueWorkDoneCallbackInfo ci = {.mode = WGPUCallbackMode_AllowProcessEvents,
                                        .callback = on_done, .userdata1 = &done};
    wgpuQueueOnSubmittedWorkDone(g.queue, ci);
    wait_for(&done);
}

struct map { int done; WGPUMapAsyncStatus status; };

static void on_map(WGPUMapAsyncStatus s, WGPUStringView m, void *u1, void *u2)
{
    (void)m, (void)u2;
    struct map *r = u1;
    r->status = s;
    r->done = 1;
}

/* Maps and waits; the status. */
static WGPUMapAsyncStatus map(WGPUBuffer b, WGPUMapMode mode, uint64_t offset, uint64_t size)
{
    struct map r = {0, WGPUMapAsyncStatus_Error};
    WGPUBufferMapCallbackInfo ci = {.mode = WGPUCallbackMode_AllowProcessEvents,
                                    .callback = on_map, .userdata1 = &r};
    wgpuBufferMapAsync(b, mode, (size_t)offset, (size_t)size, ci);
    wait_for(&r.done);
    return r.status;
}

static void copy_buffer(WGPUBuffer from, WGPUBuffer to, uint64_t size)
{
    WGPUCommandEncoder e = wgpuDeviceCreateCommandEncoder(g.device, NULL);
    wgpuCommandEncoderCopyBufferToBuffer(e, from, 0, to, 0, size);
    WGPUCommandBuffer cb = wgpuCommandEncoderFinish(e, NULL);
    wgpuQueueSubmit(g.queue, 1, &cb);
    wgpuCommandBufferRelease(cb);
    wgpuCommandEncoderRelease(e);
}

/* Maps `b` for reading, checks it against the pattern, times the map. */
static bool read_back(const char *what, WGPUBuffer b, uint64_t size, uint32_t seed)
{
    double t0 = now_s();
    WGPUMapAsyncStatus s = map(b, WGPUMapMode_Read, 0, size);
    double t1 = now_s();
    CHECK(s == WGPUMapAsyncStatus_Success);
    if (s != WGPUMapAsyncStatus_Success)
        return false;
    const uint32_t *w = wgpuBufferGetConstMappedRange(b, 0, (size_t)size);
    CHECK(w != NULL);
    bool ok = w && check_words(what, w, size / 4, 0, seed);
    CHECK(ok);
    report(what, size, t1 - t0);
    wgpuBufferUnmap(b);
    return ok;
}

/* --------------------------------------------------------------- cases */

/* writeBuffer of 1.25 S MiB into a MapRead buffer, then one map of it all. */
static void write_buffer_then_map_read(void)
{
    uint64_t size = mib * MIB * 5 / 4;
    uint32_t *data = malloc(size);
    CHECK(data != NULL);
    if (!data)
        return;
    fill(data, size / 4, 0x1234);
    WGPUBuffer b = buffer(WGPUBufferUsage_MapRead | WGPUBufferUsage_CopyDst, size, false);
    double t0 = now_s();
    wgpuQueueWriteBuffer(g.queue, b, 0, data, (size_t)size);
    queue_idle();
    report("writeBuffer, until work done", size, now_s() - t0);
    free(data);
    read_back("mapAsync(Read) of all of it", b, size, 0x1234);
    wgpuBufferRelease(b);
    CHECK(g.uncaptured == 0);
}

/* One MapRead buffer of 0.625 S MiB (a mapping kept in guest memory) read
 * back, rewritten and read back again, then its second half alone: each
 * mapping shows the buffer's bytes of the moment, also when the guest
 * reuses the memory of the previous one. */
static void mapping_again_sees_new_bytes(void)
{
    uint64_t size = mib * MIB * 5 / 8;
    uint32_t *data = malloc(size);
    CHECK(data != NULL);
    if (!data)
        return;
    WGPUBuffer b = buffer(WGPUBufferUsage_MapRead | WGPUBufferUsage_CopyDst, size, false);
    static const uint32_t seeds[] = {0x51, 0x52};
    for (int i = 0; i < 2; i++) {
        fill(data, size / 4, seeds[i]);
        wgpuQueueWriteBuffer(g.queue, b, 0, data, (size_t)size);
        queue_idle();
        read_back(i ? "mapAsync(Read) again, new bytes" : "mapAsync(Read), first bytes", b, size,
                  seeds[i]);
    }
    uint64_t half = size / 2;
    CHECK(map(b, WGPUMapMode_Read, half, size - half) == WGPUMapAsyncStatus_Success);
    const uint32_t *w = wgpuBufferGetConstMappedRange(b, (size_t)half, (size_t)(size - half));
    CHECK(w && check_words("second half", w, (size - half) / 4, half / 4, 0x52));
    wgpuBufferUnmap(b);
    free(data);
    wgpuBufferRelease(b);
    CHECK(g.uncaptured == 0);
}

/* A mappedAtCreation buffer of S MiB, filled, copied, read back. */
static void mapped_at_creation_copied(void)
{
    uint64_t size = mib * MIB;
    WGPUBuffer src = buffer(WGPUBufferUsage_CopySrc, size, true);
    uint32_t *w = wgpuBufferGetMappedRange(src, 0, (size_t)size);
    CHECK(w != NULL);
    if (!w) {
        wgpuBufferRelease(src);
        return;
    }
    CHECK(w[0] == 0 && w[size / 4 - 1] == 0);
    fill(w, size / 4, 0xabcd);
    double t0 = now_s();
    wgpuBufferUnmap(src);
    WGPUBuffer dst = buffer(WGPUBufferUsage_MapRead | WGPUBufferUsage_CopyDst, size, false);
    copy_buffer(src, dst, size);
    queue_idle();
    report("unmap of mappedAtCreation + copy", size, now_s() - t0);
    read_back("mapAsync(Read) of the copy", dst, size, 0xabcd);
    wgpuBufferRelease(src);
    wgpuBufferRelease(dst);
    CHECK(g.uncaptured == 0);
}

/* A MapWrite mapping of all but 64 KiB at each end: it starts as the
 * buffer's (zero) contents; what is written lands there and nowhere else. */
static void map_write_range(void)
{
    uint64_t size = mib * MIB, edge = 64 << 10, len = size - 2 * edge;
    WGPUBuffer src = buffer(WGPUBufferUsage_MapWrite | WGPUBufferUsage_CopySrc, size, false);
    double t0 = now_s();
    WGPUMapAsyncStatus s = map(src, WGPUMapMode_Write, edge, len);
    report("mapAsync(Write)", len, now_s() - t0);
    CHECK(s == WGPUMapAsyncStatus_Success);
    uint32_t *w = s == WGPUMapAsyncStatus_Success ? wgpuBufferGetMappedRange(src, (size_t)edge,
                                                                             (size_t)len) : NULL;
    CHECK(w != NULL);
    CHECK(wgpuBufferGetMappedRange(src, 0, 64) == NULL);
    if (w) {
        CHECK(w[0] == 0 && w[len / 8] == 0 && w[len / 4 - 1] == 0);
        fill(w, len / 4, 0x5a5a);
    }
    t0 = now_s();
    wgpuBufferUnmap(src);
    WGPUBuffer dst = buffer(WGPUBufferUsage_MapRead | WGPUBufferUsage_CopyDst, size, false);
    copy_buffer(src, dst, size);
    queue_idle();
    report("unmap of MapWrite + copy", len, now_s() - t0);
    s = map(dst, WGPUMapMode_Read, 0, size);
    CHECK(s == WGPUMapAsyncStatus_Success);
    const uint32_t *r = s == WGPUMapAsyncStatus_Success
                            ? wgpuBufferGetConstMappedRange(dst, 0, (size_t)size) : NULL;
    CHECK(r != NULL);
    if (r) {
        CHECK(check_words("the written range", r + edge / 4, len / 4, 0, 0x5a5a));
        CHECK(r[0] == 0 && r[edge / 4 - 1] == 0 && r[(edge + len) / 4] == 0 && r[size / 4 - 1] == 0);
        wgpuBufferUnmap(dst);
    }
    wgpuBufferRelease(src);
    wgpuBufferRelease(dst);
    CHECK(g.uncaptured == 0);
}

/* writeTexture of S MiB (RGBA32Uint, 4096 wide, 4 layers) from data with a
 * 256-byte offset, read back with a copy into a buffer. */
static void write_texture_layers(void)
{
    const uint32_t width = 4096, layers = 4, texel = 16, bpr = width * texel;
    uint32_t height = (uint32_t)(mib * MIB / layers / bpr);
    if (!height)
        height = 1;
    uint64_t size = (uint64_t)bpr * height * layers, offset = 256;
    uint8_t *data = malloc(offset + size);
    CHECK(data != NULL);
    if (!data)
        return;
    memset(data, 0xee, offset);
    fill((uint32_t *)(data + offset), size / 4, 0x7777);
    WGPUTextureDescriptor td = WGPU_TEXTURE_DESCRIPTOR_INIT;
    td.usage = WGPUTextureUsage_CopyDst | WGPUTextureUsage_CopySrc;
    td.size = (WGPUExtent3D){width, height, layers};
    td.format = WGPUTextureFormat_RGBA32Uint;
    WGPUTexture t = wgpuDeviceCreateTexture(g.device, &td);
    WGPUTexelCopyTextureInfo dst = {.texture = t, .aspect = WGPUTextureAspect_All};
    WGPUTexelCopyBufferLayout layout = {.offset = offset, .bytesPerRow = bpr, .rowsPerImage = height};
    WGPUExtent3D extent = {width, height, layers};
    double t0 = now_s();
    wgpuQueueWriteTexture(g.queue, &dst, data, (size_t)(offset + size), &layout, &extent);
    queue_idle();
    report("writeTexture, until work done", size, now_s() - t0);
    free(data);
    WGPUBuffer out = buffer(WGPUBufferUsage_MapRead | WGPUBufferUsage_CopyDst, size, false);
    WGPUCommandEncoder e = wgpuDeviceCreateCommandEncoder(g.device, NULL);
    WGPUTexelCopyBufferInfo ob = {.layout = {.offset = 0, .bytesPerRow = bpr, .rowsPerImage = height},
                                  .buffer = out};
    wgpuCommandEncoderCopyTextureToBuffer(e, &dst, &ob, &extent);
    WGPUCommandBuffer cb = wgpuCommandEncoderFinish(e, NULL);
    wgpuQueueSubmit(g.queue, 1, &cb);
    wgpuCommandBufferRelease(cb);
    wgpuCommandEncoderRelease(e);
    read_back("mapAsync(Read) of the texture copy", out, size, 0x7777);
    wgpuBufferRelease(out);
    wgpuTextureRelease(t);
    CHECK(g.uncaptured == 0);
}

/* A writeBuffer of 20 MiB that runs 4 bytes past its buffer: one error, as
 * natively, and none of its bytes written. */
static void invalid_large_write_one_error(void)
{
    uint64_t size = 20 * MIB;
    uint32_t *data = malloc(size);
    CHECK(data != NULL);
    if (!data)
        return;
    fill(data, size / 4, 0x99);
    WGPUBuffer b = buffer(WGPUBufferUsage_MapRead | WGPUBufferUsage_CopyDst, size, false);
    wgpuQueueWriteBuffer(g.queue, b, 4, data, (size_t)size);
    free(data);
    queue_idle();
    double deadline = now_s() + 2;
    while (now_s() < deadline) {
        wgpuInstanceProcessEvents(g.instance);
        struct timespec nap = {0, 1000 * 1000};
        nanosleep(&nap, NULL);
    }
    CHECK_MSG(g.uncaptured == 1, "%d errors", g.uncaptured);
    g.uncaptured = 0;
    CHECK(map(b, WGPUMapMode_Read, 0, size) == WGPUMapAsyncStatus_Success);
    const uint32_t *w = wgpuBufferGetConstMappedRange(b, 0, (size_t)size);
    CHECK(w && w[0] == 0 && w[size / 8] == 0 && w[size / 4 - 1] == 0);
    wgpuBufferUnmap(b);
    wgpuBufferRelease(b);
}

int main(int argc, char **argv)
{
    const char *server = NULL, *bulk_kib = NULL, *name = "large-transfers";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--bulk-kib") && i + 1 < argc)
            bulk_kib = argv[++i];
        else if (!strcmp(argv[i], "--mib") && i + 1 < argc)
            mib = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--name") && i + 1 < argc)
            name = argv[++i];
        else if (!strcmp(argv[i], "--only") && i + 1 < argc)
            only = argv[++i];
        else if (argv[i][0] != '-' && !server)
            server = argv[i];
        else {
            fprintf(stderr, "usage: large-transfers [WGV_SERVER_BINARY [--bulk-kib K]] "
                            "[--mib S] [--name NAME] [--only CASE]\n");
            return 2;
        }
    }
    if (mib < 1)
        mib = 1;
    signal(SIGPIPE, SIG_IGN);
    if (server && !server_start(server, bulk_kib)) {
        printf("FAIL wgv-server %s did not start\n%s: 0 passed, 1 failed\n", server, name);
        server_stop();
        return 1;
    }
    printf("%s: S = %llu MiB%s%s%s\n", name, (unsigned long long)mib,
           server ? ", private wgv-server" : "", bulk_kib ? ", bulk area KiB " : "",
           bulk_kib ? bulk_kib : "");
    if (!gpu_init()) {
        printf("FAIL no device\n%s: 0 passed, 1 failed\n", name);
        gpu_fini();
        server_stop();
        return 1;
    }
    CASE(write_buffer_then_map_read);
    CASE(mapped_at_creation_copied);
    CASE(mapping_again_sees_new_bytes);
    CASE(map_write_range);
    CASE(write_texture_layers);
    CASE(invalid_large_write_one_error);
    gpu_fini();
    server_stop();
    return harness_finish(name);
}
