/* Mip levels: a 16x16 texture with 4 levels, each filled with its own colour
 * by writeTexture; a shader samples each level with an explicit LOD through
 * the full view and through a view of levels 2-3; then level 1 is cleared by
 * a render pass into a single-level view and read back. */
#include "util.h"

static const char *shader =
    "@group(0) @binding(0) var t : texture_2d<f32>;\n"
    "@group(0) @binding(1) var s : sampler;\n"
    "@vertex fn vs(@builtin(vertex_index) i : u32) -> @builtin(position) vec4f {\n"
    "  var p = array<vec2f, 3>(vec2f(-1, -1), vec2f(3, -1), vec2f(-1, 3));\n"
    "  return vec4f(p[i], 0.0, 1.0);\n"
    "}\n"
    "@fragment fn fs(@builtin(position) pos : vec4f) -> @location(0) vec4f {\n"
    "  return textureSampleLevel(t, s, vec2f(0.5, 0.5), floor(pos.x));\n"
    "}\n";

static const uint8_t level_colors[4][4] = {
    {255, 0, 0, 255}, {0, 255, 0, 255}, {0, 0, 255, 255}, {255, 255, 0, 255},
};

static void sample_levels(struct ctx *c, WGPURenderPipeline pipe, WGPUTextureView v,
                          WGPUSampler s, const char *name)
{
    WGPUBindGroupLayout bgl = wgpuRenderPipelineGetBindGroupLayout(pipe, 0);
    WGPUBindGroupEntry e[2] = {{.binding = 0, .textureView = v}, {.binding = 1, .sampler = s}};
    WGPUBindGroupDescriptor bgd = {.layout = bgl, .entryCount = 2, .entries = e};
    WGPUBindGroup bg = wgpuDeviceCreateBindGroup(c->device, &bgd);
    WGPUTexture target = make_texture(c, WGPUTextureFormat_RGBA8Unorm, 4, 1, 1, 1, 1,
                                      WGPUTextureUsage_RenderAttachment | WGPUTextureUsage_CopySrc);
    WGPUTextureView tv = view_of(target);
    WGPUCommandEncoder enc = encoder(c);
    WGPURenderPassEncoder rp = begin_pass(enc, tv, NULL, (WGPUColor){0, 0, 0, 0}, NULL);
    wgpuRenderPassEncoderSetPipeline(rp, pipe);
    wgpuRenderPassEncoderSetBindGroup(rp, 0, bg, 0, NULL);
    wgpuRenderPassEncoderDraw(rp, 3, 1, 0, 0);
    wgpuRenderPassEncoderEnd(rp);
    wgpuRenderPassEncoderRelease(rp);
    submit(c, enc);
    uint8_t px[16];
    CHECK(read_texture(c, target, 0, 0, 4, 1, 4, px));
    for (int i = 0; i < 4; i++) {
        char what[64];
        snprintf(what, sizeof what, "%s lod %d", name, i);
        say_rgba(what, px + 4 * i);
    }
    wgpuTextureViewRelease(tv);
    wgpuTextureRelease(target);
    wgpuBindGroupRelease(bg);
    wgpuBindGroupLayoutRelease(bgl);
}

int main(void)
{
    struct ctx c;
    ctx_init(&c);

    WGPUTexture tex = make_texture(&c, WGPUTextureFormat_RGBA8Unorm, 16, 16, 1, 4, 1,
                                   WGPUTextureUsage_TextureBinding | WGPUTextureUsage_CopyDst |
                                       WGPUTextureUsage_CopySrc | WGPUTextureUsage_RenderAttachment);
    say("mip levels %u", wgpuTextureGetMipLevelCount(tex));
    for (uint32_t l = 0; l < 4; l++) {
        uint32_t side = 16u >> l;
        uint8_t data[16 * 16 * 4];
        for (uint32_t i = 0; i < side * side; i++)
            memcpy(data + 4 * i, level_colors[l], 4);
        WGPUTexelCopyTextureInfo dst = {.texture = tex, .mipLevel = l, .aspect = WGPUTextureAspect_All};
        WGPUTexelCopyBufferLayout layout = {.bytesPerRow = side * 4, .rowsPerImage = side};
        WGPUExtent3D size = {side, side, 1};
        wgpuQueueWriteTexture(c.queue, &dst, data, side * side * 4, &layout, &size);
    }

    WGPUSamplerDescriptor sd = {
        .addressModeU = WGPUAddressMode_ClampToEdge, .addressModeV = WGPUAddressMode_ClampToEdge,
        .addressModeW = WGPUAddressMode_ClampToEdge,
        .magFilter = WGPUFilterMode_Nearest, .minFilter = WGPUFilterMode_Nearest,
        .mipmapFilter = WGPUMipmapFilterMode_Nearest, .lodMaxClamp = 32.0f, .maxAnisotropy = 1,
    };
    WGPUSampler s = wgpuDeviceCreateSampler(c.device, &sd);
    struct pipe_opts o = {0};
    WGPURenderPipeline pipe = make_render(&c, shader, &o);

    WGPUTextureView all = view_of(tex);
    sample_levels(&c, pipe, all, s, "full view");
    WGPUTextureViewDescriptor vd = {
        .format = WGPUTextureFormat_RGBA8Unorm, .dimension = WGPUTextureViewDimension_2D,
        .baseMipLevel = 2, .mipLevelCount = 2, .baseArrayLayer = 0, .arrayLayerCount = 1,
        .aspect = WGPUTextureAspect_All,
    };
    WGPUTextureView upper = wgpuTextureCreateView(tex, &vd);
    sample_levels(&c, pipe, upper, s, "levels 2-3");

    /* Render into level 1 only. */
    vd.baseMipLevel = 1;
    vd.mipLevelCount = 1;
    WGPUTextureView l1 = wgpuTextureCreateView(tex, &vd);
    WGPUCommandEncoder enc = encoder(&c);
    WGPURenderPassEncoder rp = begin_pass(enc, l1, NULL, (WGPUColor){1, 0, 1, 1}, NULL);
    wgpuRenderPassEncoderEnd(rp);
    wgpuRenderPassEncoderRelease(rp);
    submit(&c, enc);
    uint8_t px0[16 * 16 * 4], px1[8 * 8 * 4];
    CHECK(read_texture(&c, tex, 0, 0, 16, 16, 4, px0));
    CHECK(read_texture(&c, tex, 1, 0, 8, 8, 4, px1));
    say_rgba("level 0 after clearing level 1", px0);
    say_rgba("level 1 after clearing level 1", px1 + 4 * 63);
    CHECK(px0[0] == 255 && px0[1] == 0 && px1[0] == 255 && px1[2] == 255);

    /* A view past the last level is a validation error. */
    push_scope(&c, WGPUErrorFilter_Validation);
    vd.baseMipLevel = 3;
    vd.mipLevelCount = 2;
    WGPUTextureView bad = wgpuTextureCreateView(tex, &vd);
    say("view of levels 3-4: %s", error_type_name(pop_scope(&c)));
    wgpuTextureViewRelease(bad);

    wgpuTextureViewRelease(l1);
    wgpuTextureViewRelease(upper);
    wgpuTextureViewRelease(all);
    wgpuRenderPipelineRelease(pipe);
    wgpuSamplerRelease(s);
    wgpuTextureRelease(tex);
    ctx_release(&c);
    return finish();
}
