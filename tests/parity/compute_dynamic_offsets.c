/* Dynamic offsets: one uniform buffer holds four 256-byte-aligned parameter
 * blocks and one storage buffer four output slots; an explicit layout with
 * hasDynamicOffset lets each dispatch pick its block and slot. */
#include "util.h"

static const char *shader =
    "struct Block { value : u32, count : u32 }\n"
    "@group(0) @binding(0) var<uniform> block : Block;\n"
    "@group(0) @binding(1) var<storage, read_write> slot : array<u32, 64>;\n"
    "@compute @workgroup_size(64)\n"
    "fn main(@builtin(local_invocation_index) i : u32) {\n"
    "  if (i < block.count) { slot[i] = block.value + i; } else { slot[i] = 0u; }\n"
    "}\n";

#define STRIDE 256u

int main(void)
{
    struct ctx c;
    ctx_init(&c);

    WGPULimits lim = {0};
    CHECK(wgpuDeviceGetLimits(c.device, &lim) == WGPUStatus_Success);
    say("minUniformBufferOffsetAlignment <= 256: %s", lim.minUniformBufferOffsetAlignment <= 256 ? "yes" : "no");
    say("minStorageBufferOffsetAlignment <= 256: %s", lim.minStorageBufferOffsetAlignment <= 256 ? "yes" : "no");

    uint8_t ubytes[4 * STRIDE];
    memset(ubytes, 0, sizeof ubytes);
    for (uint32_t k = 0; k < 4; k++) {
        uint32_t blk[2] = {1000u * (k + 1), 16u * (k + 1)};
        memcpy(ubytes + k * STRIDE, blk, sizeof blk);
    }
    WGPUBuffer ub = make_buffer_data(&c, WGPUBufferUsage_Uniform, ubytes, sizeof ubytes);
    WGPUBuffer sb = make_buffer(&c, WGPUBufferUsage_Storage | WGPUBufferUsage_CopySrc, 4 * STRIDE);

    WGPUBindGroupLayoutEntry le[2] = {
        {.binding = 0, .visibility = WGPUShaderStage_Compute,
         .buffer = {.type = WGPUBufferBindingType_Uniform, .hasDynamicOffset = 1, .minBindingSize = 8}},
        {.binding = 1, .visibility = WGPUShaderStage_Compute,
         .buffer = {.type = WGPUBufferBindingType_Storage, .hasDynamicOffset = 1, .minBindingSize = 256}},
    };
    WGPUBindGroupLayoutDescriptor bgld = {.entryCount = 2, .entries = le};
    WGPUBindGroupLayout bgl = wgpuDeviceCreateBindGroupLayout(c.device, &bgld);
    WGPUPipelineLayoutDescriptor pld = {.bindGroupLayoutCount = 1, .bindGroupLayouts = &bgl};
    WGPUPipelineLayout pl = wgpuDeviceCreatePipelineLayout(c.device, &pld);
    WGPUShaderModule m = make_shader(&c, shader);
    WGPUComputePipelineDescriptor cpd = {.layout = pl, .compute = {.module = m, .entryPoint = sv("main")}};
    WGPUComputePipeline pipe = wgpuDeviceCreateComputePipeline(c.device, &cpd);

    WGPUBindGroupEntry be[2] = {
        {.binding = 0, .buffer = ub, .offset = 0, .size = 8},
        {.binding = 1, .buffer = sb, .offset = 0, .size = 256},
    };
    WGPUBindGroupDescriptor bgd = {.layout = bgl, .entryCount = 2, .entries = be};
    WGPUBindGroup bg = wgpuDeviceCreateBindGroup(c.device, &bgd);

    /* Block k goes to slot 3 - k. */
    WGPUCommandEncoder enc = encoder(&c);
    WGPUComputePassEncoder pass = wgpuCommandEncoderBeginComputePass(enc, NULL);
    wgpuComputePassEncoderSetPipeline(pass, pipe);
    for (uint32_t k = 0; k < 4; k++) {
        uint32_t offs[2] = {k * STRIDE, (3 - k) * STRIDE};
        wgpuComputePassEncoderSetBindGroup(pass, 0, bg, 2, offs);
        wgpuComputePassEncoderDispatchWorkgroups(pass, 1, 1, 1);
    }
    wgpuComputePassEncoderEnd(pass);
    wgpuComputePassEncoderRelease(pass);
    submit(&c, enc);

    uint32_t out[4 * STRIDE / 4];
    CHECK(read_buffer(&c, sb, 0, out, sizeof out));
    for (uint32_t s = 0; s < 4; s++) {
        uint32_t k = 3 - s, base = 1000u * (k + 1), count = 16u * (k + 1);
        const uint32_t *v = out + s * (STRIDE / 4);
        int bad = 0, nonzero = 0;
        for (uint32_t i = 0; i < 64; i++) {
            bad += v[i] != (i < count ? base + i : 0u);
            nonzero += v[i] != 0;
        }
        CHECK(bad == 0);
        say("slot %u: first %u nonzero %d mismatches %d", s, v[0], nonzero, bad);
    }

    /* An unaligned dynamic offset is a validation error. */
    push_scope(&c, WGPUErrorFilter_Validation);
    enc = encoder(&c);
    pass = wgpuCommandEncoderBeginComputePass(enc, NULL);
    wgpuComputePassEncoderSetPipeline(pass, pipe);
    uint32_t bad_offs[2] = {4, 0};
    wgpuComputePassEncoderSetBindGroup(pass, 0, bg, 2, bad_offs);
    wgpuComputePassEncoderDispatchWorkgroups(pass, 1, 1, 1);
    wgpuComputePassEncoderEnd(pass);
    wgpuComputePassEncoderRelease(pass);
    WGPUCommandBuffer cb = wgpuCommandEncoderFinish(enc, NULL);
    wgpuCommandBufferRelease(cb);
    wgpuCommandEncoderRelease(enc);
    WGPUErrorType t = pop_scope(&c);
    CHECK(t == WGPUErrorType_Validation);
    say("unaligned dynamic offset: %s", error_type_name(t));

    wgpuBindGroupRelease(bg);
    wgpuComputePipelineRelease(pipe);
    wgpuShaderModuleRelease(m);
    wgpuPipelineLayoutRelease(pl);
    wgpuBindGroupLayoutRelease(bgl);
    wgpuBufferRelease(ub);
    wgpuBufferRelease(sb);
    ctx_release(&c);
    return finish();
}
