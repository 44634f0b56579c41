/* Indirect dispatch: a first pass writes the workgroup counts, a second pass
 * is dispatched from them with dispatchWorkgroupsIndirect. */
#include "util.h"

static const char *shader =
    "@group(0) @binding(0) var<storage, read_write> args : array<u32, 4>;\n"
    "@group(0) @binding(1) var<storage, read_write> hits : array<atomic<u32>, 4>;\n"
    "@compute @workgroup_size(1)\n"
    "fn setup() { args[1] = 5u; args[2] = 3u; args[3] = 2u; }\n"
    "@compute @workgroup_size(4)\n"
    "fn work(@builtin(workgroup_id) w : vec3u, @builtin(num_workgroups) n : vec3u) {\n"
    "  atomicAdd(&hits[0], 1u);\n"
    "  atomicMax(&hits[1], n.x * 10000u + n.y * 100u + n.z);\n"
    "  atomicMax(&hits[2], w.x * 10000u + w.y * 100u + w.z);\n"
    "}\n";

int main(void)
{
    struct ctx c;
    ctx_init(&c);

    uint32_t init[4] = {0, 0, 0, 0};
    WGPUBuffer args = make_buffer_data(&c, WGPUBufferUsage_Storage | WGPUBufferUsage_Indirect |
                                               WGPUBufferUsage_CopySrc, init, sizeof init);
    WGPUBuffer hits = make_buffer_data(&c, WGPUBufferUsage_Storage | WGPUBufferUsage_CopySrc, init, sizeof init);

    WGPUShaderModule m = make_shader(&c, shader);
    WGPUBindGroupLayoutEntry le[2] = {
        {.binding = 0, .visibility = WGPUShaderStage_Compute, .buffer = {.type = WGPUBufferBindingType_Storage}},
        {.binding = 1, .visibility = WGPUShaderStage_Compute, .buffer = {.type = WGPUBufferBindingType_Storage}},
    };
    WGPUBindGroupLayoutDescriptor bgld = {.entryCount = 2, .entries = le};
    WGPUBindGroupLayout bgl = wgpuDeviceCreateBindGroupLayout(c.device, &bgld);
    WGPUPipelineLayoutDescriptor pld = {.bindGroupLayoutCount = 1, .bindGroupLayouts = &bgl};
    WGPUPipelineLayout pl = wgpuDeviceCreatePipelineLayout(c.device, &pld);
    WGPUComputePipelineDescriptor d1 = {.layout = pl, .compute = {.module = m, .entryPoint = sv("setup")}};
    WGPUComputePipelineDescriptor d2 = {.layout = pl, .compute = {.module = m, .entryPoint = sv("work")}};
    WGPUComputePipeline setup = wgpuDeviceCreateComputePipeline(c.device, &d1);
    WGPUComputePipeline work = wgpuDeviceCreateComputePipeline(c.device, &d2);
    WGPUBuffer bufs[2] = {args, hits};
    WGPUBindGroup bg = bind_buffers(&c, bgl, 2, bufs);

    /* First pass: `setup` writes the dispatch arguments into args. */
    WGPUCommandEncoder enc = encoder(&c);
    WGPUComputePassEncoder pass = wgpuCommandEncoderBeginComputePass(enc, NULL);
    wgpuComputePassEncoderSetPipeline(pass, setup);
    wgpuComputePassEncoderSetBindGroup(pass, 0, bg, 0, NULL);
    wgpuComputePassEncoderDispatchWorkgroups(pass, 1, 1, 1);
    wgpuComputePassEncoderEnd(pass);
    wgpuComputePassEncoderRelease(pass);
    submit(&c, enc);

    /* Second pass: args is the indirect buffer now, and a buffer may not be
     * writable storage and indirect in one dispatch, so slot 0 gets a
     * scratch buffer. */
    WGPUBuffer scratch = make_buffer(&c, WGPUBufferUsage_Storage, 16);
    WGPUBuffer bufs2[2] = {scratch, hits};
    WGPUBindGroup bg2 = bind_buffers(&c, bgl, 2, bufs2);
    enc = encoder(&c);
    pass = wgpuCommandEncoderBeginComputePass(enc, NULL);
    wgpuComputePassEncoderSetPipeline(pass, work);
    wgpuComputePassEncoderSetBindGroup(pass, 0, bg2, 0, NULL);
    wgpuComputePassEncoderDispatchWorkgroupsIndirect(pass, args, 4);
    wgpuComputePassEncoderEnd(pass);
    wgpuComputePassEncoderRelease(pass);
    submit(&c, enc);

    uint32_t a[4], h[4];
    CHECK(read_buffer(&c, args, 0, a, sizeof a));
    CHECK(read_buffer(&c, hits, 0, h, sizeof h));
    say("indirect args: %u %u %u", a[1], a[2], a[3]);
    say("invocations %u num_workgroups %u last workgroup %u", h[0], h[1], h[2]);
    CHECK(h[0] == 5 * 3 * 2 * 4);
    CHECK(h[1] == 50302);
    CHECK(h[2] == 40201);

    /* An indirect offset that is not a multiple of 4 is a validation error. */
    push_scope(&c, WGPUErrorFilter_Validation);
    enc = encoder(&c);
    pass = wgpuCommandEncoderBeginComputePass(enc, NULL);
    wgpuComputePassEncoderSetPipeline(pass, work);
    wgpuComputePassEncoderSetBindGroup(pass, 0, bg2, 0, NULL);
    wgpuComputePassEncoderDispatchWorkgroupsIndirect(pass, args, 2);
    wgpuComputePassEncoderEnd(pass);
    wgpuComputePassEncoderRelease(pass);
    WGPUCommandBuffer cb = wgpuCommandEncoderFinish(enc, NULL);
    wgpuCommandBufferRelease(cb);
    wgpuCommandEncoderRelease(enc);
    say("unaligned indirect offset: %s", error_type_name(pop_scope(&c)));

    wgpuBindGroupRelease(bg);
    wgpuBindGroupRelease(bg2);
    wgpuComputePipelineRelease(setup);
    wgpuComputePipelineRelease(work);
    wgpuPipelineLayoutRelease(pl);
    wgpuBindGroupLayoutRelease(bgl);
    wgpuShaderModuleRelease(m);
    wgpuBufferRelease(args);
    wgpuBufferRelease(hits);
    wgpuBufferRelease(scratch);
    ctx_release(&c);
    return finish();
}
