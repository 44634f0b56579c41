/* matmul: C = A x B for n x n f32 matrices on the GPU.
 *
 *   matmul [--n N] [--iters K] [--check]
 *
 * A and B hold reproducible random values in [-1, 1], uploaded with
 * wgpuQueueWriteBuffer. The shader tiles C into 32x32 blocks, one 16x16
 * workgroup per block: each round the workgroup stages a 32x32 tile of A and
 * of B in workgroup memory and each invocation accumulates a 2x2 group of
 * outputs. One untimed dispatch warms up; then K dispatches are submitted
 * and timed from the first submit to the onSubmittedWorkDone callback.
 *
 * C is read back through a MapRead buffer and compared with a CPU reference
 * (in double): every element when n <= 512 or with --check, otherwise 4096
 * sampled elements plus the four corners. An element passes when
 * |gpu - ref| <= 2 * n * eps(f32) * sum_k |a_ik * b_kj| + 1e-6, the bound of
 * an n-term f32 dot product. Exit status 0 only when every element passes.
 */
#include <float.h>
#include <inttypes.h>
#include <math.h>

#include "util.h"

#include "matmul-wgsl.h"

#define TILE 32u

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

/* xorshift64*: reproducible values in [-1, 1]. */
static float next_value(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    uint64_t x = rng_state * 0x2545F4914F6CDD1Dull;
    return (float)((double)(x >> 40) / (double)(1ull << 23) - 1.0);
}

static void usage(void)
{
    fprintf(stderr, "usage: matmul [--n N] [--iters K] [--check]\n");
}

/* Checks element (i, j); returns 1 when it is within the bound. */
static int check_element(const float *a, const float *b, const float *c, uint32_t n, uint32_t i,
                         uint32_t j, double *worst)
{
    double ref = 0.0, mag = 0.0;
    for (uint32_t k = 0; k < n; k++) {
        double p = (double)a[(size_t)i * n + k] * (double)b[(size_t)k * n + j];
        ref += p;
        mag += fabs(p);
    }
    double got = c[(size_t)i * n + j];
    double tol = 2.0 * n * (double)FLT_EPSILON * mag + 1e-6;
    double err = fabs(got - ref);
    if (err / tol > *worst)
        *worst = err / tol;
    if (err > tol) {
        printf("matmul: mismatch at (%" PRIu32 ", %" PRIu32 "): got %.9g, want %.9g (tolerance %.3g)\n",
               i, j, got, ref, tol);
        return 0;
    }
    return 1;
}

int main(int argc, char **argv)
{
    uint32_t n = 1024, iters = 5;
    int full_check = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--n") && i + 1 < argc)
            n = (uint32_t)strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--iters") && i + 1 < argc)
            iters = (uint32_t)strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--check"))
            full_check = 1;
        else {
            usage();
            return 2;
        }
    }
    if (n == 0 || n > 16384 || iters == 0) {
        usage();
        return 2;
    }

    struct gpu g;
    if (!gpu_init(&g))
        return 1;
    print_adapter(&g);

    size_t count = (size_t)n * n;
    uint64_t bytes = (uint64_t)count * sizeof(float);
    WGPULimits lim = {0};
    if (wgpuDeviceGetLimits(g.device, &lim) == WGPUStatus_Success &&
        (bytes > lim.maxStorageBufferBindingSize || bytes > lim.maxBufferSize)) {
        fprintf(stderr, "matmul: n=%" PRIu32 " needs %" PRIu64 "-byte buffers, above this device's limits\n",
                n, bytes);
        gpu_release(&g);
        return 1;
    }
    float *a = malloc(count * sizeof *a), *b = malloc(count * sizeof *b), *c = malloc(count * sizeof *c);
    if (!a || !b || !c) {
        fprintf(stderr, "matmul: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < count; i++)
        a[i] = next_value();
    for (size_t i = 0; i < count; i++)
        b[i] = next_value();

    WGPUBufferDescriptor in_desc = {.usage = WGPUBufferUsage_Storage | WGPUBufferUsage_CopyDst, .size = bytes};
    WGPUBufferDescriptor out_desc = {.usage = WGPUBufferUsage_Storage | WGPUBufferUsage_CopySrc, .size = bytes};
    WGPUBufferDescriptor read_desc = {.usage = WGPUBufferUsage_MapRead | WGPUBufferUsage_CopyDst, .size = bytes};
    WGPUBufferDescriptor dims_desc = {.usage = WGPUBufferUsage_Uniform | WGPUBufferUsage_CopyDst, .size = 16};
    WGPUBuffer ab = wgpuDeviceCreateBuffer(g.device, &in_desc);
    WGPUBuffer bb = wgpuDeviceCreateBuffer(g.device, &in_desc);
    WGPUBuffer cb = wgpuDeviceCreateBuffer(g.device, &out_desc);
    WGPUBuffer rb = wgpuDeviceCreateBuffer(g.device, &read_desc);
    WGPUBuffer db = wgpuDeviceCreateBuffer(g.device, &dims_desc);
    uint32_t dims[4] = {n, 0, 0, 0};
    wgpuQueueWriteBuffer(g.queue, ab, 0, a, (size_t)bytes);
    wgpuQueueWriteBuffer(g.queue, bb, 0, b, (size_t)bytes);
    wgpuQueueWriteBuffer(g.queue, db, 0, dims, sizeof dims);

    WGPUShaderModule m = make_shader(&g, matmul_wgsl);
    WGPUComputePipelineDescriptor pd = {.compute = {.module = m, .entryPoint = sv("main")}};
    WGPUComputePipeline pipe = wgpuDeviceCreateComputePipeline(g.device, &pd);
    WGPUBindGroupLayout bgl = wgpuComputePipelineGetBindGroupLayout(pipe, 0);
    WGPUBindGroupEntry e[4] = {
        {.binding = 0, .buffer = ab, .size = WGPU_WHOLE_SIZE},
        {.binding = 1, .buffer = bb, .size = WGPU_WHOLE_SIZE},
        {.binding = 2, .buffer = cb, .size = WGPU_WHOLE_SIZE},
        {.binding = 3, .buffer = db, .size = WGPU_WHOLE_SIZE},
    };
    WGPUBindGroupDescriptor bgd = {.layout = bgl, .entryCount = 4, .entries = e};
    WGPUBindGroup bg = wgpuDeviceCreateBindGroup(g.device, &bgd);
    uint32_t groups = (n + TILE - 1) / TILE;

    /* K + 1 command buffers, each one dispatch; the first is the warm-up. */
    WGPUCommandBuffer *cmds = calloc(iters + 1, sizeof *cmds);
    for (uint32_t k = 0; k <= iters; k++) {
        WGPUCommandEncoder enc = wgpuDeviceCreateCommandEncoder(g.device, NULL);
        WGPUComputePassEncoder pass = wgpuCommandEncoderBeginComputePass(enc, NULL);
        wgpuComputePassEncoderSetPipeline(pass, pipe);
        wgpuComputePassEncoderSetBindGroup(pass, 0, bg, 0, NULL);
        wgpuComputePassEncoderDispatchWorkgroups(pass, groups, groups, 1);
        wgpuComputePassEncoderEnd(pass);
        wgpuComputePassEncoderRelease(pass);
        if (k == iters)
            wgpuCommandEncoderCopyBufferToBuffer(enc, cb, 0, rb, 0, bytes);
        cmds[k] = wgpuCommandEncoderFinish(enc, NULL);
        wgpuCommandEncoderRelease(enc);
    }
    wgpuQueueSubmit(g.queue, 1, &cmds[0]);
    int ok = queue_wait(&g);

    double t0 = now_s();
    for (uint32_t k = 1; k <= iters; k++)
        wgpuQueueSubmit(g.queue, 1, &cmds[k]);
    ok &= queue_wait(&g);
    double dt = now_s() - t0;
    double flops = 2.0 * (double)n * n * n * iters;
    printf("n %" PRIu32 ", %" PRIu32 " dispatches of %" PRIu32 "x%" PRIu32 " workgroups: %.3f s, %.2f GFLOP/s\n",
           n, iters, groups, groups, dt, flops / dt * 1e-9);

    ok &= map_read(&g, rb, (size_t)bytes);
    const float *mapped = ok ? wgpuBufferGetConstMappedRange(rb, 0, (size_t)bytes) : NULL;
    int correct = 0;
    if (!mapped || g.errors) {
        printf("matmul: %s\n", g.errors ? "WebGPU reported errors" : "could not read the result back");
    } else {
        memcpy(c, mapped, (size_t)bytes);
        double worst = 0.0;
        size_t checked = 0, bad = 0;
        if (full_check || n <= 512) {
            for (uint32_t i = 0; i < n && bad < 10; i++)
                for (uint32_t j = 0; j < n && bad < 10; j++, checked++)
                    bad += !check_element(a, b, c, n, i, j, &worst);
        } else {
            uint32_t corners[4][2] = {{0, 0}, {0, n - 1}, {n - 1, 0}, {n - 1, n - 1}};
            for (int q = 0; q < 4; q++, checked++)
                bad += !check_element(a, b, c, n, corners[q][0], corners[q][1], &worst);
            uint64_t s = 12345;
            for (int q = 0; q < 4096 && bad < 10; q++, checked++) {
                s = s * 6364136223846793005ull + 1442695040888963407ull;
                uint32_t i = (uint32_t)((s >> 33) % n);
                s = s * 6364136223846793005ull + 1442695040888963407ull;
                uint32_t j = (uint32_t)((s >> 33) % n);
                bad += !check_element(a, b, c, n, i, j, &worst);
            }
        }
        printf("checked %zu elements%s, worst error %.3f of tolerance\n", checked,
               full_check || n <= 512 ? " (all)" : " (sampled)", worst);
        correct = bad == 0;
        if (correct)
            printf("matmul: ok\n");
    }
    if (mapped)
        wgpuBufferUnmap(rb);

    for (uint32_t k = 0; k <= iters; k++)
        wgpuCommandBufferRelease(cmds[k]);
    free(cmds);
    wgpuBindGroupRelease(bg);
    wgpuBindGroupLayoutRelease(bgl);
    wgpuComputePipelineRelease(pipe);
    wgpuShaderModuleRelease(m);
    wgpuBufferRelease(ab);
    wgpuBufferRelease(bb);
    wgpuBufferRelease(cb);
    wgpuBufferRelease(rb);
    wgpuBufferRelease(db);
    gpu_release(&g);
    free(a);
    free(b);
    free(c);
    return correct ? 0 : 1;
}
