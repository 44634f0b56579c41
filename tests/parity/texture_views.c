/* Texture views: a 2D array texture of 3 layers; each layer is cleared to its
 * own colour through a single-layer 2D view, then a compute shader reads all
 * layers through a 2d-array view with textureLoad; a view reinterpreting
 * RGBA8Unorm as RGBA8UnormSrgb (listed in viewFormats) is sampled too. */
#include "util.h"

static const char *shader =
    "@group(0) @binding(0) var layers : texture_2d_array<f32>;\n"
    "@group(0) @binding(1) var<storage, read_write> o : array<vec4f, 3>;\n"
    "@compute @workgroup_size(3)\n"
    "fn main(@builtin(local_invocation_index) i : u32) {\n"
    "  o[i] = textureLoad(layers, vec2i(1, 1), i32(i), 0);\n"
    "}\n";

int main(void)
{
    struct ctx c;
    ctx_init(&c);

    WGPUTextureFormat view_formats[1] = {WGPUTextureFormat_RGBA8UnormSrgb};
    WGPUTextureDescriptor td = {
        .usage = WGPUTextureUsage_RenderAttachment | WGPUTextureUsage_TextureBinding | WGPUTextureUsage_CopySrc,
        .dimension = WGPUTextureDimension_2D,
        .size = {4, 4, 3},
        .format = WGPUTextureFormat_RGBA8Unorm,
        .mipLevelCount = 1,
        .sampleCount = 1,
        .viewFormatCount = 1,
        .viewFormats = view_formats,
    };
    WGPUTexture tex = wgpuDeviceCreateTexture(c.device, &td);
    say("layers %u format %s", wgpuTextureGetDepthOrArrayLayers(tex), format_name(wgpuTextureGetFormat(tex)));

    WGPUColor colors[3] = {{1, 0, 0, 1}, {0, 0.5, 0, 1}, {0, 0, 1, 0.5}};
    WGPUCommandEncoder enc = encoder(&c);
    for (uint32_t l = 0; l < 3; l++) {
        WGPUTextureViewDescriptor vd = {
            .format = WGPUTextureFormat_RGBA8Unorm, .dimension = WGPUTextureViewDimension_2D,
            .baseMipLevel = 0, .mipLevelCount = 1, .baseArrayLayer = l, .arrayLayerCount = 1,
            .aspect = WGPUTextureAspect_All,
        };
        WGPUTextureView v = wgpuTextureCreateView(tex, &vd);
        WGPURenderPassEncoder rp = begin_pass(enc, v, NULL, colors[l], NULL);
        wgpuRenderPassEncoderEnd(rp);
        wgpuRenderPassEncoderRelease(rp);
        wgpuTextureViewRelease(v);
    }
    submit(&c, enc);

    WGPUComputePipeline pipe = make_compute(&c, shader, "main");
    WGPUBindGroupLayout bgl = wgpuComputePipelineGetBindGroupLayout(pipe, 0);
    WGPUBuffer ob = make_buffer(&c, WGPUBufferUsage_Storage | WGPUBufferUsage_CopySrc, 48);
    float out[12];
    WGPUTextureViewDescriptor avd = {
        .format = WGPUTextureFormat_RGBA8Unorm, .dimension = WGPUTextureViewDimension_2DArray,
        .baseMipLevel = 0, .mipLevelCount = 1, .baseArrayLayer = 0, .arrayLayerCount = 3,
        .aspect = WGPUTextureAspect_All,
    };
    const char *names[2] = {"unorm array view", "srgb array view"};
    for (int k = 0; k < 2; k++) {
        avd.format = k ? WGPUTextureFormat_RGBA8UnormSrgb : WGPUTextureFormat_RGBA8Unorm;
        WGPUTextureView av = wgpuTextureCreateView(tex, &avd);
        WGPUBindGroupEntry e[2] = {{.binding = 0, .textureView = av},
                                   {.binding = 1, .buffer = ob, .size = WGPU_WHOLE_SIZE}};
        WGPUBindGroupDescriptor bgd = {.layout = bgl, .entryCount = 2, .entries = e};
        WGPUBindGroup bg = wgpuDeviceCreateBindGroup(c.device, &bgd);
        dispatch(&c, pipe, bg, 1);
        CHECK(read_buffer(&c, ob, 0, out, sizeof out));
        for (int l = 0; l < 3; l++)
            say("%s layer %d: %.3f %.3f %.3f %.3f", names[k], l, out[4 * l], out[4 * l + 1],
                out[4 * l + 2], out[4 * l + 3]);
        wgpuBindGroupRelease(bg);
        wgpuTextureViewRelease(av);
    }
    CHECK(out[0] == 1.0f && out[5] > 0.2f && out[5] < 0.25f && out[10] == 1.0f); /* sRGB decode of 128 */

    /* A view format the texture did not list is a validation error. */
    push_scope(&c, WGPUErrorFilter_Validation);
    avd.format = WGPUTextureFormat_BGRA8Unorm;
    WGPUTextureView bad = wgpuTextureCreateView(tex, &avd);
    say("unlisted view format: %s", error_type_name(pop_scope(&c)));
    wgpuTextureViewRelease(bad);

    wgpuBufferRelease(ob);
    wgpuBindGroupLayoutRelease(bgl);
    wgpuComputePipelineRelease(pipe);
    wgpuTextureRelease(tex);
    ctx_release(&c);
    return finish();
}
