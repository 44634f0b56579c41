/* Atomics: a 16-bin histogram with atomicAdd on storage memory, atomicMax
 * and atomicMin over all inputs, and a per-workgroup counter in workgroup
 * memory folded into storage with atomicAdd. */
#include "util.h"

static const char *shader =
    "struct Out { bins : array<atomic<u32>, 16>, maxv : atomic<u32>, minv : atomic<u32>,\n"
    "             groups : atomic<u32>, total : atomic<u32> }\n"
    "@group(0) @binding(0) var<storage, read> xs : array<u32>;\n"
    "@group(0) @binding(1) var<storage, read_write> o : Out;\n"
    "var<workgroup> local_count : atomic<u32>;\n"
    "@compute @workgroup_size(64)\n"
    "fn main(@builtin(global_invocation_id) gid : vec3u, @builtin(local_invocation_index) lid : u32) {\n"
    "  let x = xs[gid.x];\n"
    "  atomicAdd(&o.bins[x % 16u], 1u);\n"
    "  atomicMax(&o.maxv, x);\n"
    "  atomicMin(&o.minv, x);\n"
    "  atomicAdd(&local_count, 1u);\n"
    "  workgroupBarrier();\n"
    "  if (lid == 0u) {\n"
    "    atomicAdd(&o.groups, 1u);\n"
    "    atomicAdd(&o.total, atomicLoad(&local_count));\n"
    "  }\n"
    "}\n";

#define N 4096

int main(void)
{
    struct ctx c;
    ctx_init(&c);

    static uint32_t xs[N];
    uint32_t want[16] = {0}, maxv = 0, minv = 0xFFFFFFFFu;
    uint32_t seed = 7;
    for (int i = 0; i < N; i++) {
        seed = seed * 1664525u + 1013904223u;
        xs[i] = seed >> 8;
        want[xs[i] % 16]++;
        if (xs[i] > maxv) maxv = xs[i];
        if (xs[i] < minv) minv = xs[i];
    }
    uint32_t init[20] = {0};
    init[17] = 0xFFFFFFFFu; /* minv starts high */

    WGPUBuffer xb = make_buffer_data(&c, WGPUBufferUsage_Storage, xs, sizeof xs);
    WGPUBuffer ob = make_buffer_data(&c, WGPUBufferUsage_Storage | WGPUBufferUsage_CopySrc, init, sizeof init);
    WGPUComputePipeline pipe = make_compute(&c, shader, "main");
    WGPUBindGroupLayout bgl = wgpuComputePipelineGetBindGroupLayout(pipe, 0);
    WGPUBuffer bufs[2] = {xb, ob};
    WGPUBindGroup bg = bind_buffers(&c, bgl, 2, bufs);
    dispatch(&c, pipe, bg, N / 64);

    uint32_t out[20];
    CHECK(read_buffer(&c, ob, 0, out, sizeof out));
    int bad = 0;
    for (int b = 0; b < 16; b++)
        bad += out[b] != want[b];
    CHECK(bad == 0);
    CHECK(out[16] == maxv && out[17] == minv);
    CHECK(out[18] == N / 64 && out[19] == N);
    say("bins: %u %u %u %u ... %u (mismatches %d)", out[0], out[1], out[2], out[3], out[15], bad);
    say("max %s min %s", out[16] == maxv ? "right" : "wrong", out[17] == minv ? "right" : "wrong");
    say("workgroups counted %u, invocations counted %u", out[18], out[19]);

    wgpuBindGroupRelease(bg);
    wgpuBindGroupLayoutRelease(bgl);
    wgpuComputePipelineRelease(pipe);
    wgpuBufferRelease(xb);
    wgpuBufferRelease(ob);
    ctx_release(&c);
    return finish();
}
