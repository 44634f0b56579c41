/* Samplers: a 4x4 checkerboard texture drawn over a 16x16 target with
 * texture coordinates 0..2 through nearest+repeat, nearest+clamp-to-edge,
 * nearest+mirror-repeat and linear+repeat samplers. */
#include "util.h"

static const char *shader =
    "@group(0) @binding(0) var t : texture_2d<f32>;\n"
    "@group(0) @binding(1) var s : sampler;\n"
    "struct V { @builtin(position) pos : vec4f, @location(0) uv : vec2f }\n"
    "@vertex fn vs(@builtin(vertex_index) i : u32) -> V {\n"
    "  var p = array<vec2f, 6>(vec2f(-1, -1), vec2f(1, -1), vec2f(1, 1),\n"
    "                          vec2f(-1, -1), vec2f(1, 1), vec2f(-1, 1));\n"
    "  let q = p[i];\n"
    "  return V(vec4f(q, 0.0, 1.0), vec2f(q.x + 1.0, 1.0 - q.y));\n"
    "}\n"
    "@fragment fn fs(v : V) -> @location(0) vec4f { return textureSample(t, s, v.uv); }\n";

#define W 16
#define H 16

int main(void)
{
    struct ctx c;
    ctx_init(&c);

    /* 4x4 texels: white where (x + y) is even, black otherwise; texel (0,0)
     * is red so that orientation shows. */
    uint8_t texels[4 * 4 * 4];
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++) {
            uint8_t v = ((x + y) & 1) ? 0 : 255;
            uint8_t *p = texels + 4 * (y * 4 + x);
            p[0] = v; p[1] = v; p[2] = v; p[3] = 255;
        }
    texels[1] = 0; texels[2] = 0;
    WGPUTexture src = make_texture(&c, WGPUTextureFormat_RGBA8Unorm, 4, 4, 1, 1, 1,
                                   WGPUTextureUsage_TextureBinding | WGPUTextureUsage_CopyDst);
    WGPUTexelCopyTextureInfo dst = {.texture = src, .aspect = WGPUTextureAspect_All};
    WGPUTexelCopyBufferLayout layout = {.bytesPerRow = 16, .rowsPerImage = 4};
    WGPUExtent3D size = {4, 4, 1};
    wgpuQueueWriteTexture(c.queue, &dst, texels, sizeof texels, &layout, &size);
    WGPUTextureView sv_ = view_of(src);

    struct pipe_opts o = {0};
    WGPURenderPipeline pipe = make_render(&c, shader, &o);
    WGPUBindGroupLayout bgl = wgpuRenderPipelineGetBindGroupLayout(pipe, 0);
    WGPUTexture target = make_texture(&c, WGPUTextureFormat_RGBA8Unorm, W, H, 1, 1, 1,
                                      WGPUTextureUsage_RenderAttachment | WGPUTextureUsage_CopySrc);
    WGPUTextureView tv = view_of(target);

    struct { const char *name; WGPUAddressMode mode; WGPUFilterMode filter; } cases[4] = {
        {"nearest repeat", WGPUAddressMode_Repeat, WGPUFilterMode_Nearest},
        {"nearest clamp", WGPUAddressMode_ClampToEdge, WGPUFilterMode_Nearest},
        {"nearest mirror", WGPUAddressMode_MirrorRepeat, WGPUFilterMode_Nearest},
        {"linear repeat", WGPUAddressMode_Repeat, WGPUFilterMode_Linear},
    };
    for (int k = 0; k < 4; k++) {
        WGPUSamplerDescriptor sd = {
            .addressModeU = cases[k].mode, .addressModeV = cases[k].mode,
            .addressModeW = cases[k].mode,
            .magFilter = cases[k].filter, .minFilter = cases[k].filter,
            .mipmapFilter = WGPUMipmapFilterMode_Nearest,
            .lodMinClamp = 0.0f, .lodMaxClamp = 32.0f, .maxAnisotropy = 1,
        };
        WGPUSampler s = wgpuDeviceCreateSampler(c.device, &sd);
        WGPUBindGroupEntry e[2] = {{.binding = 0, .textureView = sv_}, {.binding = 1, .sampler = s}};
        WGPUBindGroupDescriptor bgd = {.layout = bgl, .entryCount = 2, .entries = e};
        WGPUBindGroup bg = wgpuDeviceCreateBindGroup(c.device, &bgd);

        WGPUCommandEncoder enc = encoder(&c);
        WGPURenderPassEncoder rp = begin_pass(enc, tv, NULL, (WGPUColor){0, 0, 1, 1}, NULL);
        wgpuRenderPassEncoderSetPipeline(rp, pipe);
        wgpuRenderPassEncoderSetBindGroup(rp, 0, bg, 0, NULL);
        wgpuRenderPassEncoderDraw(rp, 6, 1, 0, 0);
        wgpuRenderPassEncoderEnd(rp);
        wgpuRenderPassEncoderRelease(rp);
        submit(&c, enc);

        uint8_t px[W * H * 4];
        CHECK(read_texture(&c, target, 0, 0, W, H, 4, px));
        /* Row 1: u runs 0..2 across 16 pixels, so one texel spans 2 pixels. */
        char row[W + 1];
        for (int x = 0; x < W; x++) {
            const uint8_t *p = px + 4 * (1 * W + x);
            row[x] = p[0] == 255 && p[1] == 0 ? 'R' : p[0] == 255 ? 'W' : p[0] == 0 ? 'B' : 'g';
        }
        row[W] = 0;
        say("%s: row1 %s fnv1a %08x", cases[k].name, row, fnv1a(px, sizeof px));
        if (k == 0) CHECK(strcmp(row, "RRBBWWBBRRBBWWBB") == 0);
        if (k == 1) CHECK(strcmp(row, "RRBBWWBBBBBBBBBB") == 0);
        if (k == 2) CHECK(strcmp(row, "RRBBWWBBBBWWBBRR") == 0);
        wgpuBindGroupRelease(bg);
        wgpuSamplerRelease(s);
    }

    wgpuTextureViewRelease(tv);
    wgpuTextureRelease(target);
    wgpuBindGroupLayoutRelease(bgl);
    wgpuRenderPipelineRelease(pipe);
    wgpuTextureViewRelease(sv_);
    wgpuTextureRelease(src);
    ctx_release(&c);
    return finish();
}
