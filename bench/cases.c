/* The cases of wgv-bench; see cases.h. Each case keeps the objects it
 * set up for one size until another case or size runs, so repetitions time
 * the work alone. */
#include <math.h>
#include <stdbool.h>

#include "cases.h"
#include "util.h"

#define LLM_BLOCKS_MAX 8

/* The decode case: a pool of parameter buffers, batches of submissions, at
 * most two batches in flight, and nodes per step (a GPT-2 124M token's
 * graph has about this many). */
#define DECODE_POOL 16
#define DECODE_BATCH 8
#define DECODE_NODES 192

/* The one case whose objects are cached. */
struct bench_cache {
    char name[16];
    uint64_t size;
    WGPUBuffer buf[4];
    /* The LLM cases' weight blocks, each with its dims and bind group. */
    int blocks;
    uint32_t block_cols[LLM_BLOCKS_MAX];
    WGPUBuffer block_buf[LLM_BLOCKS_MAX], block_dims[LLM_BLOCKS_MAX];
    WGPUBindGroup block_group[LLM_BLOCKS_MAX];
    /* The decode case's parameter pool: mappable buffers, the uniforms
     * they are copied into, and a bind group for each. */
    WGPUBuffer pool_host[DECODE_POOL], pool_uniform[DECODE_POOL];
    WGPUBindGroup pool_group[DECODE_POOL];
    WGPUBindGroupLayout layout;
    WGPUBindGroup group;
    WGPUComputePipeline compute;
    WGPURenderPipeline render;
    WGPUTexture target;
    WGPUTextureView view;
    void *host; /* host memory of uploads and readbacks */
};

struct bench_state {
    struct gpu g;
    struct bench_cache c;
};

/* -------------------------------------------------------------- shaders */

/* matmul_wgsl: the matmul example's shader. */
#include "matmul-wgsl.h"
/* llm_gemv_wgsl, llm_gemm_wgsl: the LLM cases' shaders. */
#include "llm-wgsl.h"

/* One invocation bumps a counter: the smallest dispatch with an effect. */
static const char *tiny_wgsl =
    "@group(0) @binding(0) var<storage, read_write> counter : array<atomic<u32>>;\n"
    "@compute @workgroup_size(1)\n"
    "fn main() { atomicAdd(&counter[0], 1u); }\n";

/* A small triangle at the centre, in a flat colour. */
static const char *draw_wgsl =
    "@vertex fn vs(@builtin(vertex_index) i : u32) -> @builtin(position) vec4f {\n"
    "  let p = array(vec2f(-0.05, -0.05), vec2f(0.05, -0.05), vec2f(0.0, 0.05));\n"
    "  return vec4f(p[i], 0.0, 1.0);\n"
    "}\n"
    "@fragment fn fs() -> @location(0) vec4f { return vec4f(0.2, 0.6, 0.9, 1.0); }\n";

/* A decode step's small element-wise kernel, its parameters in a uniform. */
static const char *decode_wgsl =
    "struct P { scale : f32, n : u32, pad0 : u32, pad1 : u32 };\n"
    "@group(0) @binding(0) var<storage, read_write> x : array<f32>;\n"
    "@group(0) @binding(1) var<uniform> p : P;\n"
    "@compute @workgroup_size(64)\n"
    "fn main(@builtin(global_invocation_id) id : vec3u) {\n"
    "  if (id.x < p.n) { x[id.x] = x[id.x] * p.scale + 1.0; }\n"
    "}\n";

/* ------------------------------------------------------------- helpers */

/* Blocks in wgpuInstanceWaitAny until `f` completes: the way to wait that
 * costs no polling on either side. 1 on success. */
static int wait_future(struct gpu *g, WGPUFuture f)
{
    WGPUFutureWaitInfo w = {.future = f};
    return wgpuInstanceWaitAny(g->instance, 1, &w, UINT64_MAX) == WGPUWaitStatus_Success && w.completed;
}

static void on_work_done(WGPUQueueWorkDoneStatus status, WGPUStringView message, void *u1, void *u2)
{
    (void)message; (void)u2;
    *(int *)u1 = status == WGPUQueueWorkDoneStatus_Success;
}

/* Waits until everything submitted so far has run; 1 on success. */
static int work_done(struct gpu *g)
{
    int ok = 0;
    WGPUQueueWorkDoneCallbackInfo ci = {.mode = WGPUCallbackMode_WaitAnyOnly,
                                        .callback = on_work_done, .userdata1 = &ok};
    return wait_future(g, wgpuQueueOnSubmittedWorkDone(g->queue, ci)) && ok;
}

static void on_mapped(WGPUMapAsyncStatus status, WGPUStringView message, void *u1, void *u2)
{
    (void)message; (void)u2;
    *(int *)u1 = status == WGPUMapAsyncStatus_Success;
}

/* Spins on wgpuInstanceProcessEvents until *flag is set (10 s at most):
 * the lowest latency either side can give, for the round-trip case. */
static int spin_until(struct gpu *g, volatile int *flag)
{
    double deadline = now_s() + 10.0;
    for (unsigned i = 0; !*flag; i++) {
        wgpuInstanceProcessEvents(g->instance);
        if ((i & 1023) == 1023 && now_s() > deadline)
            return 0;
    }
    return 1;
}

static void on_flag_done(WGPUQueueWorkDoneStatus status, WGPUStringView message, void *u1, void *u2)
{
    (void)message; (void)u2;
    *(volatile int *)u1 = status == WGPUQueueWorkDoneStatus_Success ? 1 : 2;
}

static void on_flag_mapped(WGPUMapAsyncStatus status, WGPUStringView message, void *u1, void *u2)
{
    (void)message; (void)u2;
    *(volatile int *)u1 = status == WGPUMapAsyncStatus_Success ? 1 : 2;
}

/* Maps [0, size) of `b` for reading and waits; 1 on success. */
static int map_for_read(struct gpu *g, WGPUBuffer b, size_t size)
{
    int ok = 0;
    WGPUBufferMapCallbackInfo ci = {.mode = WGPUCallbackMode_WaitAnyOnly, .callback = on_mapped,
                                    .userdata1 = &ok};
    return wait_future(g, wgpuBufferMapAsync(b, WGPUMapMode_Read, 0, size, ci)) && ok;
}

/* WGV_BENCH_NULL=1: Dawn's Null backend on both sides, which validates and
 * records but runs nothing, so only the wire's own cost remains. It moves no
 * bytes either: cases then leave the results they read unchecked. */
static bool null_backend(void)
{
    const char *v = getenv("WGV_BENCH_NULL");
    return v && *v && strcmp(v, "0");
}

static void cache_release(struct bench_cache *c)
{
    for (int i = 0; i < 4; i++)
        if (c->buf[i])
            wgpuBufferRelease(c->buf[i]);
    for (int i = 0; i < DECODE_POOL; i++) {
        if (c->pool_group[i]) wgpuBindGroupRelease(c->pool_group[i]);
        if (c->pool_host[i]) wgpuBufferRelease(c->pool_host[i]);
        if (c->pool_uniform[i]) wgpuBufferRelease(c->pool_uniform[i]);
    }
    for (int i = 0; i < c->blocks; i++) {
        if (c->block_group[i]) wgpuBindGroupRelease(c->block_group[i]);
        if (c->block_buf[i]) wgpuBufferRelease(c->block_buf[i]);
        if (c->block_dims[i]) wgpuBufferRelease(c->block_dims[i]);
    }
    if (c->group) wgpuBindGroupRelease(c->group);
    if (c->layout) wgpuBindGroupLayoutRelease(c->layout);
    if (c->compute) wgpuComputePipelineRelease(c->compute);
    if (c->render) wgpuRenderPipelineRelease(c->render);
    if (c->view) wgpuTextureViewRelease(c->view);
    if (c->target) {
        wgpuTextureDestroy(c->target);
        wgpuTextureRelease(c->target);
    }
    free(c->host);
    memset(c, 0, sizeof *c);
}

static WGPUBuffer make_buffer(struct gpu *g, WGPUBufferUsage usage, uint64_t size)
{
    WGPUBufferDescriptor d = {.usage = usage, .size = size};
    return wgpuDeviceCreateBuffer(g->device, &d);
}

static WGPUComputePipeline make_compute(struct gpu *g, const char *wgsl)
{
    WGPUShaderModule m = make_shader(g, wgsl);
    WGPUComputePipelineDescriptor pd = {.compute = {.module = m, .entryPoint = sv("main")}};
    WGPUComputePipeline p = wgpuDeviceCreateComputePipeline(g->device, &pd);
    wgpuShaderModuleRelease(m);
    return p;
}

/* A bind group of `count` whole buffers at bindings 0.. for layout 0 of p. */
static void bind_buffers(struct gpu *g, struct bench_cache *c, int count)
{
    c->layout = wgpuComputePipelineGetBindGroupLayout(c->compute, 0);
    WGPUBindGroupEntry e[4];
    memset(e, 0, sizeof e);
    for (int i = 0; i < count; i++) {
        e[i].binding = (uint32_t)i;
        e[i].buffer = c->buf[i];
        e[i].size = WGPU_WHOLE_SIZE;
    }
    WGPUBindGroupDescriptor d = {.layout = c->layout, .entryCount = (size_t)count, .entries = e};
    c->group = wgpuDeviceCreateBindGroup(g->device, &d);
}

static void submit(struct gpu *g, WGPUCommandEncoder enc)
{
    WGPUCommandBuffer cb = wgpuCommandEncoderFinish(enc, NULL);
    wgpuQueueSubmit(g->queue, 1, &cb);
    wgpuCommandBufferRelease(cb);
    wgpuCommandEncoderRelease(enc);
}

/* One compute pass of `dispatches` dispatches of (x, y, 1) workgroups. */
static void encode_dispatches(struct gpu *g, struct bench_cache *c, uint64_t dispatches, uint32_t x,
                              uint32_t y)
{
    WGPUCommandEncoder enc = wgpuDeviceCreateCommandEncoder(g->device, NULL);
    WGPUComputePassEncoder pass = wgpuCommandEncoderBeginComputePass(enc, NULL);
    wgpuComputePassEncoderSetPipeline(pass, c->compute);
    wgpuComputePassEncoderSetBindGroup(pass, 0, c->group, 0, NULL);
    for (uint64_t i = 0; i < dispatches; i++)
        wgpuComputePassEncoderDispatchWorkgroups(pass, x, y, 1);
    wgpuComputePassEncoderEnd(pass);
    wgpuComputePassEncoderRelease(pass);
    submit(g, enc);
}

/* Host memory filled with a pattern and touched, so page faults are not
 * timed. */
static void *host_memory(uint64_t size)
{
    uint8_t *p = malloc(size ? size : 1);
    if (p)
        for (uint64_t i = 0; i < size; i++)
            p[i] = (uint8_t)(i * 131 + 7);
    return p;
}

/* ---------------------------------------------------------------- cases */

/* Each case has a setup (objects for one size, untimed) and a run of
 * `iters` repetitions (timed); run returns the work done, or -1. */
struct bench_case {
    const char *name;
    int (*setup)(struct gpu *g, struct bench_cache *c, uint64_t size, char *err, size_t errlen);
    double (*run)(struct gpu *g, struct bench_cache *c, uint64_t size, uint64_t iters);
};

static int matmul_setup(struct gpu *g, struct bench_cache *c, uint64_t n, char *err, size_t errlen)
{
    uint64_t bytes = n * n * 4;
    WGPULimits lim = {0};
    if (n == 0 || n > 16384 ||
        (wgpuDeviceGetLimits(g->device, &lim) == WGPUStatus_Success &&
         (bytes > lim.maxStorageBufferBindingSize || bytes > lim.maxBufferSize))) {
        snprintf(err, errlen, "matmul n=%llu does not fit this device", (unsigned long long)n);
        return -1;
    }
    c->buf[0] = make_buffer(g, WGPUBufferUsage_Storage | WGPUBufferUsage_CopyDst, bytes);
    c->buf[1] = make_buffer(g, WGPUBufferUsage_Storage | WGPUBufferUsage_CopyDst, bytes);
    c->buf[2] = make_buffer(g, WGPUBufferUsage_Storage, bytes);
    c->buf[3] = make_buffer(g, WGPUBufferUsage_Uniform | WGPUBufferUsage_CopyDst, 16);
    float *m = malloc(bytes);
    if (!m) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (uint64_t i = 0; i < n * n; i++)
        m[i] = (float)((i * 2654435761u) % 2001) / 1000.0f - 1.0f;
    wgpuQueueWriteBuffer(g->queue, c->buf[0], 0, m, bytes);
    wgpuQueueWriteBuffer(g->queue, c->buf[1], 0, m, bytes);
    free(m);
    uint32_t dims[4] = {(uint32_t)n, 0, 0, 0};
    wgpuQueueWriteBuffer(g->queue, c->buf[3], 0, dims, sizeof dims);
    c->compute = make_compute(g, matmul_wgsl);
    bind_buffers(g, c, 4);
    return 0;
}

static double matmul_run(struct gpu *g, struct bench_cache *c, uint64_t n, uint64_t iters)
{
    uint32_t groups = (uint32_t)((n + 31) / 32);
    /* One command buffer per multiply, as an inference loop submits. */
    for (uint64_t k = 0; k < iters; k++)
        encode_dispatches(g, c, 1, groups, groups);
    if (!work_done(g))
        return -1;
    return 2.0 * (double)n * (double)n * (double)n * (double)iters;
}

/* LLM-shaped multiplies: a batch of `m` activations (1: generating a
 * token; 512: processing a prompt) times a weight matrix of k inputs and n
 * outputs, in column blocks that each fit one binding. */
static int llm_setup(struct gpu *g, struct bench_cache *c, uint64_t m, uint32_t k, uint32_t n, char *err,
                     size_t errlen)
{
    WGPULimits lim = {0};
    if (wgpuDeviceGetLimits(g->device, &lim) != WGPUStatus_Success) {
        snprintf(err, errlen, "cannot read the device's limits");
        return -1;
    }
    uint64_t bind = lim.maxStorageBufferBindingSize < lim.maxBufferSize ? lim.maxStorageBufferBindingSize
                                                                         : lim.maxBufferSize;
    uint32_t per = 0;
    int blocks = 1;
    for (; blocks <= LLM_BLOCKS_MAX; blocks++) {
        per = ((n + (uint32_t)blocks - 1) / (uint32_t)blocks + 63) & ~63u;
        if ((uint64_t)per * k * 4 <= bind)
            break;
    }
    if (m == 0 || m > 4096 || blocks > LLM_BLOCKS_MAX || m * k * 4 > bind || m * n * 4 > bind) {
        snprintf(err, errlen, "batch %llu of %ux%u weights does not fit this device", (unsigned long long)m, k,
                 n);
        return -1;
    }
    uint64_t largest = (uint64_t)per * k > m * k ? (uint64_t)per * k : m * k;
    float *fill = malloc(largest * 4);
    if (!fill) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (uint64_t i = 0; i < largest; i++)
        fill[i] = (float)((i * 2654435761u) % 2001) / 1000.0f - 1.0f;
    c->buf[0] = make_buffer(g, WGPUBufferUsage_Storage | WGPUBufferUsage_CopyDst, m * k * 4);
    wgpuQueueWriteBuffer(g->queue, c->buf[0], 0, fill, m * k * 4);
    c->buf[2] = make_buffer(g, WGPUBufferUsage_Storage, m * n * 4);
    c->compute = make_compute(g, m < 8 ? llm_gemv_wgsl : llm_gemm_wgsl);
    c->layout = wgpuComputePipelineGetBindGroupLayout(c->compute, 0);
    uint32_t col0 = 0;
    for (c->blocks = 0; col0 < n; c->blocks++) {
        int i = c->blocks;
        uint32_t nb = n - col0 < per ? n - col0 : per;
        c->block_cols[i] = nb;
        c->block_buf[i] = make_buffer(g, WGPUBufferUsage_Storage | WGPUBufferUsage_CopyDst, (uint64_t)k * nb * 4);
        wgpuQueueWriteBuffer(g->queue, c->block_buf[i], 0, fill, (uint64_t)k * nb * 4);
        uint32_t dims[8] = {(uint32_t)m, k, nb, n, col0, 0, 0, 0};
        c->block_dims[i] = make_buffer(g, WGPUBufferUsage_Uniform | WGPUBufferUsage_CopyDst, sizeof dims);
        wgpuQueueWriteBuffer(g->queue, c->block_dims[i], 0, dims, sizeof dims);
        WGPUBindGroupEntry e[4] = {
            {.binding = 0, .buffer = c->buf[0], .size = WGPU_WHOLE_SIZE},
            {.binding = 1, .buffer = c->block_buf[i], .size = WGPU_WHOLE_SIZE},
            {.binding = 2, .buffer = c->buf[2], .size = WGPU_WHOLE_SIZE},
            {.binding = 3, .buffer = c->block_dims[i], .size = WGPU_WHOLE_SIZE},
        };
        WGPUBindGroupDescriptor d = {.layout = c->layout, .entryCount = 4, .entries = e};
        c->block_group[i] = wgpuDeviceCreateBindGroup(g->device, &d);
        col0 += nb;
    }
    free(fill);
    return 0;
}

/* One command buffer per multiply: a dispatch per weight block. */
static double llm_run(struct gpu *g, struct bench_cache *c, uint64_t m, uint32_t k, uint32_t n, uint64_t iters)
{
    for (uint64_t it = 0; it < iters; it++) {
        WGPUCommandEncoder enc = wgpuDeviceCreateCommandEncoder(g->device, NULL);
        WGPUComputePassEncoder pass = wgpuCommandEncoderBeginComputePass(enc, NULL);
        wgpuComputePassEncoderSetPipeline(pass, c->compute);
        for (int i = 0; i < c->blocks; i++) {
            wgpuComputePassEncoderSetBindGroup(pass, 0, c->block_group[i], 0, NULL);
            if (m < 8)
                wgpuComputePassEncoderDispatchWorkgroups(pass, (c->block_cols[i] + 63) / 64, 1, 1);
            else
                wgpuComputePassEncoderDispatchWorkgroups(pass, (c->block_cols[i] + 31) / 32,
                                                         (uint32_t)((m + 31) / 32), 1);
        }
        wgpuComputePassEncoderEnd(pass);
        wgpuComputePassEncoderRelease(pass);
        submit(g, enc);
    }
    if (!work_done(g))
        return -1;
    return 2.0 * (double)m * (double)k * (double)n * (double)iters;
}

/* A 4096-wide model's attention output projection (4096 x 4096) and its
 * feed-forward up projection (4096 x 11008), as in Llama 2 7B. */
static int llm_proj_setup(struct gpu *g, struct bench_cache *c, uint64_t m, char *err, size_t errlen)
{
    return llm_setup(g, c, m, 4096, 4096, err, errlen);
}

static double llm_proj_run(struct gpu *g, struct bench_cache *c, uint64_t m, uint64_t iters)
{
    return llm_run(g, c, m, 4096, 4096, iters);
}

static int llm_ffn_setup(struct gpu *g, struct bench_cache *c, uint64_t m, char *err, size_t errlen)
{
    return llm_setup(g, c, m, 4096, 11008, err, errlen);
}

static double llm_ffn_run(struct gpu *g, struct bench_cache *c, uint64_t m, uint64_t iters)
{
    return llm_run(g, c, m, 4096, 11008, iters);
}

static int tiny_setup(struct gpu *g, struct bench_cache *c)
{
    c->buf[0] = make_buffer(g, WGPUBufferUsage_Storage | WGPUBufferUsage_CopySrc, 256);
    c->compute = make_compute(g, tiny_wgsl);
    bind_buffers(g, c, 1);
    return 0;
}

static int storm_setup(struct gpu *g, struct bench_cache *c, uint64_t size, char *err, size_t errlen)
{
    if (size == 0) {
        snprintf(err, errlen, "storm: size is dispatches per command buffer, at least 1");
        return -1;
    }
    return tiny_setup(g, c);
}

/* iters command buffers of `size` dispatches each. */
static double storm_run(struct gpu *g, struct bench_cache *c, uint64_t size, uint64_t iters)
{
    for (uint64_t k = 0; k < iters; k++)
        encode_dispatches(g, c, size, 1, 1);
    if (!work_done(g))
        return -1;
    return (double)size * (double)iters;
}

static int roundtrip_setup(struct gpu *g, struct bench_cache *c, uint64_t size, char *err, size_t errlen)
{
    if (size != 0 && size != 4) {
        snprintf(err, errlen, "roundtrip: size is 0 (empty submit) or 4 (a 4-byte read)");
        return -1;
    }
    tiny_setup(g, c);
    c->buf[1] = make_buffer(g, WGPUBufferUsage_MapRead | WGPUBufferUsage_CopyDst, 256);
    return 0;
}

/* size 0: empty submit + onSubmittedWorkDone; size 4: a dispatch, a copy
 * into a MapRead buffer, mapAsync and the read of 4 bytes. Both sides wait
 * in wgpuInstanceWaitAny, or with WGV_BENCH_SPIN=1 spin on
 * wgpuInstanceProcessEvents (the lowest latency where a core is free for
 * the spinning). */
static double roundtrip_run(struct gpu *g, struct bench_cache *c, uint64_t size, uint64_t iters)
{
    uint32_t last = 0;
    bool check = !null_backend();
    const char *mode = getenv("WGV_BENCH_SPIN");
    bool spin = mode && *mode && strcmp(mode, "0");
    for (uint64_t k = 0; k < iters; k++) {
        volatile int flag = 0;
        if (size == 0) {
            wgpuQueueSubmit(g->queue, 0, NULL);
            WGPUQueueWorkDoneCallbackInfo ci = {.mode = WGPUCallbackMode_AllowProcessEvents,
                                                .callback = on_flag_done, .userdata1 = (void *)&flag};
            if (spin)
                wgpuQueueOnSubmittedWorkDone(g->queue, ci);
            if (spin ? !spin_until(g, &flag) || flag != 1 : !work_done(g))
                return -1;
            continue;
        }
        WGPUCommandEncoder enc = wgpuDeviceCreateCommandEncoder(g->device, NULL);
        WGPUComputePassEncoder pass = wgpuCommandEncoderBeginComputePass(enc, NULL);
        wgpuComputePassEncoderSetPipeline(pass, c->compute);
        wgpuComputePassEncoderSetBindGroup(pass, 0, c->group, 0, NULL);
        wgpuComputePassEncoderDispatchWorkgroups(pass, 1, 1, 1);
        wgpuComputePassEncoderEnd(pass);
        wgpuComputePassEncoderRelease(pass);
        wgpuCommandEncoderCopyBufferToBuffer(enc, c->buf[0], 0, c->buf[1], 0, 4);
        submit(g, enc);
        WGPUBufferMapCallbackInfo mi = {.mode = WGPUCallbackMode_AllowProcessEvents,
                                        .callback = on_flag_mapped, .userdata1 = (void *)&flag};
        if (spin)
            wgpuBufferMapAsync(c->buf[1], WGPUMapMode_Read, 0, 4, mi);
        if (spin ? !spin_until(g, &flag) || flag != 1 : !map_for_read(g, c->buf[1], 4))
            return -1;
        const uint32_t *v = wgpuBufferGetConstMappedRange(c->buf[1], 0, 4);
        uint32_t now = v ? *v : 0;
        wgpuBufferUnmap(c->buf[1]);
        if (!v || (check && now <= last))
            return -1; /* the counter must have moved */
        last = now;
    }
    return (double)iters;
}

static int upload_setup(struct gpu *g, struct bench_cache *c, uint64_t size, char *err, size_t errlen)
{
    if (size == 0 || size % 4) {
        snprintf(err, errlen, "upload: size must be a positive multiple of 4");
        return -1;
    }
    c->buf[0] = make_buffer(g, WGPUBufferUsage_Storage | WGPUBufferUsage_CopyDst, size);
    c->host = host_memory(size);
    if (!c->host) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

/* Each repetition: writeBuffer, an empty submit, onSubmittedWorkDone. */
static double upload_run(struct gpu *g, struct bench_cache *c, uint64_t size, uint64_t iters)
{
    for (uint64_t k = 0; k < iters; k++) {
        wgpuQueueWriteBuffer(g->queue, c->buf[0], 0, c->host, size);
        wgpuQueueSubmit(g->queue, 0, NULL);
        if (!work_done(g))
            return -1;
    }
    return (double)size * (double)iters;
}

static int readback_setup(struct gpu *g, struct bench_cache *c, uint64_t size, char *err, size_t errlen)
{
    if (size == 0 || size % 4) {
        snprintf(err, errlen, "readback: size must be a positive multiple of 4");
        return -1;
    }
    c->buf[0] = make_buffer(g, WGPUBufferUsage_Storage | WGPUBufferUsage_CopySrc | WGPUBufferUsage_CopyDst,
                            size);
    c->buf[1] = make_buffer(g, WGPUBufferUsage_MapRead | WGPUBufferUsage_CopyDst, size);
    c->host = host_memory(size);
    if (!c->host) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    wgpuQueueWriteBuffer(g->queue, c->buf[0], 0, c->host, size);
    memset(c->host, 0, size);
    return 0;
}

/* Each repetition: a copy into the MapRead buffer, mapAsync, and every
 * byte copied out of the mapped range. */
static double readback_run(struct gpu *g, struct bench_cache *c, uint64_t size, uint64_t iters)
{
    for (uint64_t k = 0; k < iters; k++) {
        WGPUCommandEncoder enc = wgpuDeviceCreateCommandEncoder(g->device, NULL);
        wgpuCommandEncoderCopyBufferToBuffer(enc, c->buf[0], 0, c->buf[1], 0, size);
        submit(g, enc);
        if (!map_for_read(g, c->buf[1], size))
            return -1;
        const void *p = wgpuBufferGetConstMappedRange(c->buf[1], 0, size);
        if (!p)
            return -1;
        memcpy(c->host, p, size);
        wgpuBufferUnmap(c->buf[1]);
    }
    /* The pattern written at setup: byte i is i * 131 + 7. */
    const uint8_t *h = c->host;
    if (!null_backend() && h[size - 1] != (uint8_t)((size - 1) * 131 + 7))
        return -1;
    return (double)size * (double)iters;
}

static int churn_setup(struct gpu *g, struct bench_cache *c, uint64_t size, char *err, size_t errlen)
{
    if (size == 0 || size > 100000) {
        snprintf(err, errlen, "churn: size is objects of each kind per batch, 1 to 100000");
        return -1;
    }
    tiny_setup(g, c);
    c->host = calloc(size, 3 * sizeof(void *));
    if (!c->host) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

/* Each repetition: `size` buffers, bind groups and command encoders
 * created, then released, then a round trip so all of it has happened. */
static double churn_run(struct gpu *g, struct bench_cache *c, uint64_t size, uint64_t iters)
{
    WGPUBuffer *bufs = c->host;
    WGPUBindGroup *groups = (WGPUBindGroup *)(bufs + size);
    WGPUCommandEncoder *encs = (WGPUCommandEncoder *)(groups + size);
    for (uint64_t k = 0; k < iters; k++) {
        for (uint64_t i = 0; i < size; i++) {
            bufs[i] = make_buffer(g, WGPUBufferUsage_Storage, 256);
            WGPUBindGroupEntry e = {.binding = 0, .buffer = bufs[i], .size = WGPU_WHOLE_SIZE};
            WGPUBindGroupDescriptor d = {.layout = c->layout, .entryCount = 1, .entries = &e};
            groups[i] = wgpuDeviceCreateBindGroup(g->device, &d);
            encs[i] = wgpuDeviceCreateCommandEncoder(g->device, NULL);
        }
        for (uint64_t i = 0; i < size; i++) {
            wgpuCommandEncoderRelease(encs[i]);
            wgpuBindGroupRelease(groups[i]);
            wgpuBufferRelease(bufs[i]);
        }
        wgpuQueueSubmit(g->queue, 0, NULL);
        if (!work_done(g))
            return -1;
    }
    return 3.0 * (double)size * (double)iters;
}

static int render_setup(struct gpu *g, struct bench_cache *c, uint64_t size, char *err, size_t errlen)
{
    if (size == 0 || size > 1000000) {
        snprintf(err, errlen, "render: size is draws per pass, 1 to 1000000");
        return -1;
    }
    WGPUShaderModule m = make_shader(g, draw_wgsl);
    WGPUColorTargetState target = {.format = WGPUTextureFormat_RGBA8Unorm, .writeMask = WGPUColorWriteMask_All};
    WGPUFragmentState fs = {.module = m, .entryPoint = sv("fs"), .targetCount = 1, .targets = &target};
    WGPURenderPipelineDescriptor rpd = {
        .vertex = {.module = m, .entryPoint = sv("vs")},
        .primitive = {.topology = WGPUPrimitiveTopology_TriangleList, .frontFace = WGPUFrontFace_CCW,
                      .cullMode = WGPUCullMode_None},
        .multisample = {.count = 1, .mask = 0xFFFFFFFFu},
        .fragment = &fs,
    };
    c->render = wgpuDeviceCreateRenderPipeline(g->device, &rpd);
    wgpuShaderModuleRelease(m);
    WGPUTextureDescriptor td = {
        .usage = WGPUTextureUsage_RenderAttachment, .dimension = WGPUTextureDimension_2D,
        .size = {256, 256, 1}, .format = WGPUTextureFormat_RGBA8Unorm, .mipLevelCount = 1, .sampleCount = 1,
    };
    c->target = wgpuDeviceCreateTexture(g->device, &td);
    c->view = wgpuTextureCreateView(c->target, NULL);
    return 0;
}

/* Each repetition: one render pass of `size` draws of a small triangle. */
static double render_run(struct gpu *g, struct bench_cache *c, uint64_t size, uint64_t iters)
{
    for (uint64_t k = 0; k < iters; k++) {
        WGPUCommandEncoder enc = wgpuDeviceCreateCommandEncoder(g->device, NULL);
        WGPURenderPassColorAttachment ca = {
            .view = c->view, .depthSlice = WGPU_DEPTH_SLICE_UNDEFINED,
            .loadOp = WGPULoadOp_Clear, .storeOp = WGPUStoreOp_Store, .clearValue = {0, 0, 0, 1},
        };
        WGPURenderPassDescriptor pd = {.colorAttachmentCount = 1, .colorAttachments = &ca};
        WGPURenderPassEncoder pass = wgpuCommandEncoderBeginRenderPass(enc, &pd);
        wgpuRenderPassEncoderSetPipeline(pass, c->render);
        for (uint64_t i = 0; i < size; i++)
            wgpuRenderPassEncoderDraw(pass, 3, 1, 0, 0);
        wgpuRenderPassEncoderEnd(pass);
        wgpuRenderPassEncoderRelease(pass);
        submit(g, enc);
    }
    if (!work_done(g))
        return -1;
    return (double)size * (double)iters;
}

static int decode_setup(struct gpu *g, struct bench_cache *c, uint64_t size, char *err, size_t errlen)
{
    if (size == 0 || size > (1u << 24)) {
        snprintf(err, errlen, "decode: size is elements per kernel, 1 to 16777216");
        return -1;
    }
    c->buf[0] = make_buffer(g, WGPUBufferUsage_Storage | WGPUBufferUsage_CopyDst, size * 4);
    c->compute = make_compute(g, decode_wgsl);
    c->layout = wgpuComputePipelineGetBindGroupLayout(c->compute, 0);
    for (int i = 0; i < DECODE_POOL; i++) {
        c->pool_host[i] = make_buffer(g, WGPUBufferUsage_MapWrite | WGPUBufferUsage_CopySrc, 16);
        c->pool_uniform[i] = make_buffer(g, WGPUBufferUsage_Uniform | WGPUBufferUsage_CopyDst, 16);
        WGPUBindGroupEntry e[2] = {
            {.binding = 0, .buffer = c->buf[0], .size = WGPU_WHOLE_SIZE},
            {.binding = 1, .buffer = c->pool_uniform[i], .size = WGPU_WHOLE_SIZE},
        };
        WGPUBindGroupDescriptor d = {.layout = c->layout, .entryCount = 2, .entries = e};
        c->pool_group[i] = wgpuDeviceCreateBindGroup(g->device, &d);
    }
    return 0;
}

/* One node: its parameters written through a write map of the next pool
 * buffer (waited for, as ggml's WebGPU backend waits), copied into that
 * slot's uniform, and the kernel over `size` elements. */
static WGPUCommandBuffer decode_node(struct gpu *g, struct bench_cache *c, uint64_t size, int slot)
{
    int mapped = 0;
    WGPUBufferMapCallbackInfo mi = {.mode = WGPUCallbackMode_WaitAnyOnly, .callback = on_mapped,
                                    .userdata1 = &mapped};
    if (!wait_future(g, wgpuBufferMapAsync(c->pool_host[slot], WGPUMapMode_Write, 0, 16, mi)) || !mapped)
        return NULL;
    uint32_t *p = wgpuBufferGetMappedRange(c->pool_host[slot], 0, 16);
    if (!p)
        return NULL;
    float scale = 0.999f;
    memcpy(&p[0], &scale, 4);
    p[1] = (uint32_t)size;
    p[2] = p[3] = 0;
    wgpuBufferUnmap(c->pool_host[slot]);
    WGPUCommandEncoder enc = wgpuDeviceCreateCommandEncoder(g->device, NULL);
    wgpuCommandEncoderCopyBufferToBuffer(enc, c->pool_host[slot], 0, c->pool_uniform[slot], 0, 16);
    WGPUComputePassEncoder pass = wgpuCommandEncoderBeginComputePass(enc, NULL);
    wgpuComputePassEncoderSetPipeline(pass, c->compute);
    wgpuComputePassEncoderSetBindGroup(pass, 0, c->pool_group[slot], 0, NULL);
    wgpuComputePassEncoderDispatchWorkgroups(pass, (uint32_t)((size + 63) / 64), 1, 1);
    wgpuComputePassEncoderEnd(pass);
    wgpuComputePassEncoderRelease(pass);
    WGPUCommandBuffer cb = wgpuCommandEncoderFinish(enc, NULL);
    wgpuCommandEncoderRelease(enc);
    return cb;
}

/* Each repetition: one decode step of DECODE_NODES nodes, submitted in
 * batches of DECODE_BATCH with a work-done future each, waiting for the
 * oldest batch while two are in flight (a pool slot is reused two batches
 * later, when its batch is done). */
static double decode_run(struct gpu *g, struct bench_cache *c, uint64_t size, uint64_t iters)
{
    WGPUFuture flight[2];
    int ok[2] = {0, 0}, head = 0, in_flight = 0, failed = 0;
    uint64_t node = 0;
    for (uint64_t k = 0; k < iters && !failed; k++) {
        for (int b = 0; b < DECODE_NODES / DECODE_BATCH && !failed; b++) {
            if (in_flight == 2) {
                failed = !wait_future(g, flight[head]) || !ok[head];
                head ^= 1;
                in_flight--;
            }
            WGPUCommandBuffer cbs[DECODE_BATCH];
            int n = 0;
            for (; n < DECODE_BATCH && !failed; n++, node++)
                failed = !(cbs[n] = decode_node(g, c, size, (int)(node % DECODE_POOL)));
            if (!failed)
                wgpuQueueSubmit(g->queue, DECODE_BATCH, cbs);
            for (int i = 0; i < n; i++)
                if (cbs[i])
                    wgpuCommandBufferRelease(cbs[i]);
            int slot = (head + in_flight) % 2;
            ok[slot] = 0;
            WGPUQueueWorkDoneCallbackInfo ci = {.mode = WGPUCallbackMode_WaitAnyOnly,
                                                .callback = on_work_done, .userdata1 = &ok[slot]};
            flight[slot] = wgpuQueueOnSubmittedWorkDone(g->queue, ci);
            in_flight++;
        }
    }
    for (; in_flight > 0; in_flight--, head ^= 1)
        failed |= !wait_future(g, flight[head]) || !ok[head];
    return failed ? -1 : (double)DECODE_NODES * (double)iters;
}

static const struct bench_case cases[] = {
    {"matmul", matmul_setup, matmul_run},
    {"storm", storm_setup, storm_run},
    {"roundtrip", roundtrip_setup, roundtrip_run},
    {"upload", upload_setup, upload_run},
    {"readback", readback_setup, readback_run},
    {"churn", churn_setup, churn_run},
    {"render", render_setup, render_run},
    {"llm-proj", llm_proj_setup, llm_proj_run},
    {"llm-ffn", llm_ffn_setup, llm_ffn_run},
    {"decode", decode_setup, decode_run},
};

/* -------------------------------------------------------------- the API */

struct bench_state *bench_state_create(void)
{
    struct bench_state *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    /* Blocking waits with a timeout need the TimedWaitAny instance feature,
     * which the two headers spell differently. */
#ifdef WGV_NATIVE
    WGPUInstanceDescriptor d = {.capabilities = {.timedWaitAnyEnable = 1, .timedWaitAnyMaxCount = 1}};
#else
    static const WGPUInstanceFeatureName timed = WGPUInstanceFeatureName_TimedWaitAny;
    WGPUInstanceDescriptor d = {.requiredFeatureCount = 1, .requiredFeatures = &timed};
#endif
    WGPURequestAdapterOptions null_adapter = {.backendType = WGPUBackendType_Null};
    if (!gpu_init_with(&s->g, &d, null_backend() ? &null_adapter : NULL)) {
        free(s);
        return NULL;
    }
    return s;
}

void bench_state_adapter(struct bench_state *s, char *buf, size_t cap)
{
    WGPUAdapterInfo info = {0};
    if (wgpuAdapterGetInfo(s->g.adapter, &info) != WGPUStatus_Success) {
        snprintf(buf, cap, "unknown adapter");
        return;
    }
    int len = sv_len(info.device);
    snprintf(buf, cap, "%.*s", len ? len : 7, len ? info.device.data : "unnamed");
    wgpuAdapterInfoFreeMembers(info);
}

static int timed(struct bench_state *s, const struct bench_case *bc, uint64_t size, uint64_t iters,
                 struct bench_result *out)
{
    int errors = s->g.errors;
    double t0 = now_s();
    double amount = bc->run(&s->g, &s->c, size, iters);
    double t1 = now_s();
    if (amount < 0 || s->g.errors != errors)
        return -1;
    out->seconds = t1 - t0;
    out->amount = amount;
    out->iters = iters;
    return 0;
}

int bench_case_run(struct bench_state *s, const char *name, uint64_t size, uint64_t iters,
                   double budget_s, struct bench_result *out, char *err, size_t errlen)
{
    const struct bench_case *bc = NULL;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (!strcmp(cases[i].name, name))
            bc = &cases[i];
    if (!bc) {
        snprintf(err, errlen, "unknown case %s", name);
        return -1;
    }
    if (strcmp(s->c.name, name) || s->c.size != size) {
        cache_release(&s->c);
        int errors = s->g.errors;
        if (bc->setup(&s->g, &s->c, size, err, errlen) < 0 || !work_done(&s->g) ||
            s->g.errors != errors) {
            if (!*err)
                snprintf(err, errlen, "%s: setup failed", name);
            cache_release(&s->c);
            return -1;
        }
        snprintf(s->c.name, sizeof s->c.name, "%s", name);
        s->c.size = size;
    }
    if (iters == 0) {
        /* Calibrate: one repetition (warming up too), then as many as fit. */
        struct bench_result one;
        if (timed(s, bc, size, 1, &one) < 0) {
            snprintf(err, errlen, "%s: the calibration run failed", name);
            return -1;
        }
        double n = floor(budget_s / (one.seconds > 1e-7 ? one.seconds : 1e-7));
        iters = n < 1 ? 1 : n > 1e6 ? 1000000 : (uint64_t)n;
    }
    if (timed(s, bc, size, iters, out) < 0) {
        snprintf(err, errlen, "%s: the run failed (see the errors above)", name);
        return -1;
    }
    return 0;
}

void bench_state_destroy(struct bench_state *s)
{
    if (!s)
        return;
    cache_release(&s->c);
    gpu_release(&s->g);
    free(s);
}
