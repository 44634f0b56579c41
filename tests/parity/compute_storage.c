/* Compute over storage buffers: a read-only input and a read-write output,
 * one invocation per element, with a partial last workgroup. */
#include "util.h"

static const char *shader =
    "@group(0) @binding(0) var<storage, read> src : array<u32>;\n"
    "@group(0) @binding(1) var<storage, read_write> dst : array<u32>;\n"
    "@compute @workgroup_size(64)\n"
    "fn main(@builtin(global_invocation_id) id : vec3u) {\n"
    "  let i = id.x;\n"
    "  if (i >= arrayLength(&dst)) { return; }\n"
    "  dst[i] = src[i] * 3u + i;\n"
    "}\n";

#define N 1000

int main(void)
{
    struct ctx c;
    ctx_init(&c);

    uint32_t in[N], out[N];
    for (uint32_t i = 0; i < N; i++)
        in[i] = i * 7u + 1u;

    WGPUBuffer src = make_buffer_data(&c, WGPUBufferUsage_Storage, in, sizeof in);
    WGPUBuffer dst = make_buffer(&c, WGPUBufferUsage_Storage | WGPUBufferUsage_CopySrc, sizeof out);
    WGPUComputePipeline pipe = make_compute(&c, shader, "main");
    WGPUBindGroupLayout bgl = wgpuComputePipelineGetBindGroupLayout(pipe, 0);
    WGPUBindGroupEntry entries[2] = {
        {.binding = 0, .buffer = src, .size = WGPU_WHOLE_SIZE},
        {.binding = 1, .buffer = dst, .size = WGPU_WHOLE_SIZE},
    };
    WGPUBindGroupDescriptor bgd = {.layout = bgl, .entryCount = 2, .entries = entries};
    WGPUBindGroup bg = wgpuDeviceCreateBindGroup(c.device, &bgd);

    WGPUCommandEncoder enc = encoder(&c);
    WGPUComputePassEncoder pass = wgpuCommandEncoderBeginComputePass(enc, NULL);
    wgpuComputePassEncoderSetPipeline(pass, pipe);
    wgpuComputePassEncoderSetBindGroup(pass, 0, bg, 0, NULL);
    wgpuComputePassEncoderDispatchWorkgroups(pass, (N + 63) / 64, 1, 1);
    wgpuComputePassEncoderEnd(pass);
    wgpuComputePassEncoderRelease(pass);
    submit(&c, enc);

    CHECK(read_buffer(&c, dst, 0, out, sizeof out));
    int bad = 0;
    uint64_t sum = 0;
    for (uint32_t i = 0; i < N; i++) {
        bad += out[i] != in[i] * 3u + i;
        sum += out[i];
    }
    CHECK(bad == 0);
    say("elements: %d", N);
    say("mismatches: %d", bad);
    say("out[0] %u out[999] %u sum %llu", out[0], out[N - 1], (unsigned long long)sum);

    wgpuBindGroupRelease(bg);
    wgpuBindGroupLayoutRelease(bgl);
    wgpuComputePipelineRelease(pipe);
    wgpuBufferRelease(src);
    wgpuBufferRelease(dst);
    ctx_release(&c);
    return finish();
}
