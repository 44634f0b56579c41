/* Several threads submitting at once: each of 4 threads owns its buffers and
 * bind group and submits 25 small compute passes, then waits for its work
 * and reads its own result back. A Dawn device is not thread-safe, so a
 * mutex serialises every call on it (ProcessEvents included); the
 * interleaving varies from run to run, the printed results must not. */
#include <pthread.h>

#include "util.h"

#define THREADS 4
#define ITERS 25

static const char *shader =
    "@group(0) @binding(0) var<storage, read> x : array<u32, 4>;\n"
    "@group(0) @binding(1) var<storage, read_write> acc : array<u32, 64>;\n"
    "@compute @workgroup_size(64) fn main(@builtin(local_invocation_index) k : u32) {\n"
    "  acc[k] = acc[k] + x[0] * (k + 1u);\n"
    "}\n";

static struct ctx c;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static WGPUComputePipeline pipe;

struct worker {
    pthread_t thread;
    uint32_t id;
    uint32_t result[64];
    int ok;
};

/* Pumps events under the lock until *flag is set. */
static int locked_wait(volatile int *flag)
{
    for (int i = 0; i < 200000; i++) {
        pthread_mutex_lock(&lock);
        wgpuInstanceProcessEvents(c.instance);
        int done = *flag;
        pthread_mutex_unlock(&lock);
        if (done)
            return 1;
        struct timespec nap = {0, 100 * 1000};
        nanosleep(&nap, NULL);
    }
    return 0;
}

static void *work(void *arg)
{
    struct worker *w = arg;
    pthread_mutex_lock(&lock);
    WGPUBuffer in = make_buffer(&c, WGPUBufferUsage_Storage | WGPUBufferUsage_CopyDst, 16);
    WGPUBuffer acc = make_buffer(&c, WGPUBufferUsage_Storage | WGPUBufferUsage_CopySrc, 256);
    WGPUBuffer staging = make_buffer(&c, WGPUBufferUsage_MapRead | WGPUBufferUsage_CopyDst, 256);
    WGPUBindGroupLayout bgl = wgpuComputePipelineGetBindGroupLayout(pipe, 0);
    WGPUBuffer bufs[2] = {in, acc};
    WGPUBindGroup bg = bind_buffers(&c, bgl, 2, bufs);
    wgpuBindGroupLayoutRelease(bgl);
    pthread_mutex_unlock(&lock);

    for (uint32_t i = 0; i < ITERS; i++) {
        uint32_t x[4] = {i + w->id + 1, 0, 0, 0};
        pthread_mutex_lock(&lock);
        wgpuQueueWriteBuffer(c.queue, in, 0, x, sizeof x);
        WGPUCommandEncoder e = encoder(&c);
        WGPUComputePassEncoder p = wgpuCommandEncoderBeginComputePass(e, NULL);
        wgpuComputePassEncoderSetPipeline(p, pipe);
        wgpuComputePassEncoderSetBindGroup(p, 0, bg, 0, NULL);
        wgpuComputePassEncoderDispatchWorkgroups(p, 1, 1, 1);
        wgpuComputePassEncoderEnd(p);
        wgpuComputePassEncoderRelease(p);
        if (i == ITERS - 1)
            wgpuCommandEncoderCopyBufferToBuffer(e, acc, 0, staging, 0, 256);
        submit(&c, e);
        pthread_mutex_unlock(&lock);
        if (i % 5 == 0)
            sched_yield();
    }

    struct work_result done;
    pthread_mutex_lock(&lock);
    work_done_async(&c, &done);
    pthread_mutex_unlock(&lock);
    w->ok = locked_wait(&done.done) && done.status == WGPUQueueWorkDoneStatus_Success;

    struct map_result m;
    pthread_mutex_lock(&lock);
    map_async(staging, WGPUMapMode_Read, 0, 256, &m);
    pthread_mutex_unlock(&lock);
    w->ok &= locked_wait(&m.done) && m.status == WGPUMapAsyncStatus_Success;

    pthread_mutex_lock(&lock);
    const uint32_t *q = wgpuBufferGetConstMappedRange(staging, 0, 256);
    if (q)
        memcpy(w->result, q, sizeof w->result);
    else
        w->ok = 0;
    wgpuBufferUnmap(staging);
    wgpuBindGroupRelease(bg);
    wgpuBufferRelease(in);
    wgpuBufferRelease(acc);
    wgpuBufferRelease(staging);
    pthread_mutex_unlock(&lock);
    return NULL;
}

int main(void)
{
    ctx_init(&c);
    pipe = make_compute(&c, shader, "main");

    struct worker w[THREADS];
    memset(w, 0, sizeof w);
    for (uint32_t t = 0; t < THREADS; t++) {
        w[t].id = t;
        CHECK(pthread_create(&w[t].thread, NULL, work, &w[t]) == 0);
    }
    for (uint32_t t = 0; t < THREADS; t++)
        pthread_join(w[t].thread, NULL);

    for (uint32_t t = 0; t < THREADS; t++) {
        uint32_t sum_x = ITERS * (t + 1) + ITERS * (ITERS - 1) / 2;
        int bad = 0;
        for (uint32_t k = 0; k < 64; k++)
            bad += w[t].result[k] != sum_x * (k + 1);
        CHECK(w[t].ok && bad == 0);
        say("thread %u: waits %s, acc[0] %u acc[63] %u, mismatches %d", t, w[t].ok ? "ok" : "failed",
            w[t].result[0], w[t].result[63], bad);
    }

    wgpuComputePipelineRelease(pipe);
    ctx_release(&c);
    return finish();
}
