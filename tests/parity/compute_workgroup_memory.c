/* Workgroup memory: each workgroup of 256 invocations sums its 256 inputs by
 * a tree reduction in var<workgroup> storage with workgroupBarrier(). */
#include "util.h"

static const char *shader =
    "var<workgroup> part : array<u32, 256>;\n"
    "@group(0) @binding(0) var<storage, read> xs : array<u32>;\n"
    "@group(0) @binding(1) var<storage, read_write> sums : array<u32>;\n"
    "@compute @workgroup_size(256)\n"
    "fn main(@builtin(global_invocation_id) gid : vec3u,\n"
    "        @builtin(local_invocation_index) lid : u32,\n"
    "        @builtin(workgroup_id) wid : vec3u) {\n"
    "  part[lid] = xs[gid.x];\n"
    "  workgroupBarrier();\n"
    "  for (var stride = 128u; stride > 0u; stride = stride / 2u) {\n"
    "    if (lid < stride) { part[lid] = part[lid] + part[lid + stride]; }\n"
    "    workgroupBarrier();\n"
    "  }\n"
    "  if (lid == 0u) { sums[wid.x] = part[0]; }\n"
    "}\n";

#define GROUPS 16
#define N (GROUPS * 256)

int main(void)
{
    struct ctx c;
    ctx_init(&c);

    static uint32_t xs[N];
    uint32_t sums[GROUPS], want[GROUPS] = {0};
    uint32_t seed = 12345;
    for (int i = 0; i < N; i++) {
        seed = seed * 1103515245u + 12345u;
        xs[i] = (seed >> 16) & 0xFFF;
        want[i / 256] += xs[i];
    }

    WGPUBuffer xb = make_buffer_data(&c, WGPUBufferUsage_Storage, xs, sizeof xs);
    WGPUBuffer sb = make_buffer(&c, WGPUBufferUsage_Storage | WGPUBufferUsage_CopySrc, sizeof sums);
    WGPUComputePipeline pipe = make_compute(&c, shader, "main");
    WGPUBindGroupLayout bgl = wgpuComputePipelineGetBindGroupLayout(pipe, 0);
    WGPUBuffer bufs[2] = {xb, sb};
    WGPUBindGroup bg = bind_buffers(&c, bgl, 2, bufs);
    dispatch(&c, pipe, bg, GROUPS);
    CHECK(read_buffer(&c, sb, 0, sums, sizeof sums));

    int bad = 0;
    uint64_t total = 0;
    for (int g = 0; g < GROUPS; g++) {
        bad += sums[g] != want[g];
        total += sums[g];
    }
    CHECK(bad == 0);
    say("workgroups: %d", GROUPS);
    say("sum[0] %u sum[15] %u total %llu mismatches %d", sums[0], sums[GROUPS - 1],
        (unsigned long long)total, bad);

    wgpuBindGroupRelease(bg);
    wgpuBindGroupLayoutRelease(bgl);
    wgpuComputePipelineRelease(pipe);
    wgpuBufferRelease(xb);
    wgpuBufferRelease(sb);
    ctx_release(&c);
    return finish();
}
