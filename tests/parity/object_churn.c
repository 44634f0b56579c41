/* Many objects created and released in a loop: 500 rounds of buffer,
 * texture, view, sampler, bind group layout, bind group, shader module,
 * command encoder and command buffer (with AddRef/Release pairs), then a
 * compute job proves the device still works and nothing leaked an error.
 *
 * Every round submits and every 25th waits: Dawn frees a released object's
 * Vulkan resources only once a later submission completes. Without that,
 * about 127 rounds of "create a bind group layout and a bind group, release
 * both" exhaust the process's memory mappings (vm.max_map_count) through
 * lavapipe's descriptor pools and crash inside lavapipe. */
#include "util.h"

#define ROUNDS 500

static const char *shader =
    "@group(0) @binding(0) var<storage, read_write> o : array<u32>;\n"
    "@compute @workgroup_size(1) fn main() { o[0] = o[0] + 1u; }\n";

int main(void)
{
    struct ctx c;
    ctx_init(&c);

    WGPUBindGroupLayoutEntry le = {.binding = 0, .visibility = WGPUShaderStage_Compute,
                                   .buffer = {.type = WGPUBufferBindingType_Storage}};
    WGPUBindGroupLayoutDescriptor bgld = {.entryCount = 1, .entries = &le};
    unsigned created = 0;
    for (int i = 0; i < ROUNDS; i++) {
        WGPUBuffer b = make_buffer(&c, WGPUBufferUsage_Storage | WGPUBufferUsage_CopyDst, 256 + 4 * (uint64_t)(i % 16));
        wgpuBufferAddRef(b);
        WGPUTexture t = make_texture(&c, WGPUTextureFormat_RGBA8Unorm, 8 + (uint32_t)(i % 8), 8, 1, 1, 1,
                                     WGPUTextureUsage_TextureBinding);
        WGPUTextureView v = view_of(t);
        WGPUSamplerDescriptor sd = {
            .addressModeU = WGPUAddressMode_Repeat, .addressModeV = WGPUAddressMode_Repeat,
            .addressModeW = WGPUAddressMode_Repeat, .magFilter = WGPUFilterMode_Linear,
            .minFilter = WGPUFilterMode_Linear, .mipmapFilter = WGPUMipmapFilterMode_Linear,
            .lodMaxClamp = 32.0f, .maxAnisotropy = 1,
        };
        WGPUSampler s = wgpuDeviceCreateSampler(c.device, &sd);
        WGPUBindGroupLayout bgl = wgpuDeviceCreateBindGroupLayout(c.device, &bgld);
        WGPUBindGroup bg = bind_buffers(&c, bgl, 1, &b);
        WGPUShaderModule m = (i % 50 == 0) ? make_shader(&c, shader) : NULL;
        WGPUCommandEncoder e = encoder(&c);
        wgpuCommandEncoderClearBuffer(e, b, 0, 256);
        WGPUCommandBuffer cb = wgpuCommandEncoderFinish(e, NULL);
        wgpuQueueSubmit(c.queue, 1, &cb);
        created += 9 + (m != NULL);
        wgpuCommandBufferRelease(cb);
        wgpuCommandEncoderRelease(e);
        if (m)
            wgpuShaderModuleRelease(m);
        wgpuBindGroupRelease(bg);
        wgpuBindGroupLayoutRelease(bgl);
        wgpuSamplerRelease(s);
        wgpuTextureViewRelease(v);
        wgpuTextureRelease(t);
        wgpuBufferRelease(b);
        wgpuBufferRelease(b);
        if (i % 25 == 24)
            CHECK(queue_wait(&c) == WGPUQueueWorkDoneStatus_Success);
    }
    say("rounds %d, objects created and released %u", ROUNDS, created);

    WGPUComputePipeline pipe = make_compute(&c, shader, "main");
    WGPUBuffer ob = make_buffer(&c, WGPUBufferUsage_Storage | WGPUBufferUsage_CopySrc, 4);
    WGPUBindGroupLayout bgl = wgpuComputePipelineGetBindGroupLayout(pipe, 0);
    WGPUBindGroup bg = bind_buffers(&c, bgl, 1, &ob);
    for (int i = 0; i < 10; i++)
        dispatch(&c, pipe, bg, 1);
    uint32_t out = 0;
    CHECK(read_buffer(&c, ob, 0, &out, 4));
    say("device still works: counter %u", out);
    CHECK(out == 10);

    wgpuBindGroupRelease(bg);
    wgpuBindGroupLayoutRelease(bgl);
    wgpuBufferRelease(ob);
    wgpuComputePipelineRelease(pipe);
    ctx_release(&c);
    return finish();
}
