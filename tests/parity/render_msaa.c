/* Multisampling: a triangle rendered at 4 samples per pixel and resolved into
 * a single-sample texture; edge pixels get intermediate colours. */
#include "util.h"

static const char *shader =
    "@vertex fn vs(@builtin(vertex_index) i : u32) -> @builtin(position) vec4f {\n"
    "  var p = array<vec2f, 3>(vec2f(-0.9, -0.9), vec2f(0.9, -0.7), vec2f(-0.3, 0.9));\n"
    "  return vec4f(p[i], 0.0, 1.0);\n"
    "}\n"
    "@fragment fn fs() -> @location(0) vec4f { return vec4f(1.0, 1.0, 1.0, 1.0); }\n";

#define W 32
#define H 32

int main(void)
{
    struct ctx c;
    ctx_init(&c);

    struct pipe_opts o = {.samples = 4};
    WGPURenderPipeline pipe = make_render(&c, shader, &o);
    WGPUTexture ms = make_texture(&c, WGPUTextureFormat_RGBA8Unorm, W, H, 1, 1, 4,
                                  WGPUTextureUsage_RenderAttachment);
    WGPUTexture resolved = make_texture(&c, WGPUTextureFormat_RGBA8Unorm, W, H, 1, 1, 1,
                                        WGPUTextureUsage_RenderAttachment | WGPUTextureUsage_CopySrc);
    say("sample counts: %u %u", wgpuTextureGetSampleCount(ms), wgpuTextureGetSampleCount(resolved));
    WGPUTextureView msv = view_of(ms), rv = view_of(resolved);

    WGPUCommandEncoder enc = encoder(&c);
    WGPURenderPassEncoder rp = begin_pass(enc, msv, rv, (WGPUColor){0, 0, 0, 1}, NULL);
    wgpuRenderPassEncoderSetPipeline(rp, pipe);
    wgpuRenderPassEncoderDraw(rp, 3, 1, 0, 0);
    wgpuRenderPassEncoderEnd(rp);
    wgpuRenderPassEncoderRelease(rp);
    submit(&c, enc);

    static uint8_t px[W * H * 4];
    CHECK(read_texture(&c, resolved, 0, 0, W, H, 4, px));
    int full = 0, empty = 0, partial = 0;
    for (int i = 0; i < W * H; i++) {
        uint8_t r = px[4 * i];
        if (r == 255) full++;
        else if (r == 0) empty++;
        else partial++;
    }
    say("full %d empty %d partial %d", full, empty, partial);
    say("image fnv1a %08x", fnv1a(px, sizeof px));
    CHECK(full > 100 && empty > 100 && partial > 10);

    /* A single-sample pipeline in a 4-sample pass is a validation error. */
    struct pipe_opts o1 = {0};
    WGPURenderPipeline single = make_render(&c, shader, &o1);
    push_scope(&c, WGPUErrorFilter_Validation);
    enc = encoder(&c);
    rp = begin_pass(enc, msv, rv, (WGPUColor){0, 0, 0, 1}, NULL);
    wgpuRenderPassEncoderSetPipeline(rp, single);
    wgpuRenderPassEncoderDraw(rp, 3, 1, 0, 0);
    wgpuRenderPassEncoderEnd(rp);
    wgpuRenderPassEncoderRelease(rp);
    WGPUCommandBuffer cb = wgpuCommandEncoderFinish(enc, NULL);
    wgpuCommandBufferRelease(cb);
    wgpuCommandEncoderRelease(enc);
    say("sample count mismatch: %s", error_type_name(pop_scope(&c)));

    wgpuRenderPipelineRelease(single);
    wgpuTextureViewRelease(msv);
    wgpuTextureViewRelease(rv);
    wgpuTextureRelease(ms);
    wgpuTextureRelease(resolved);
    wgpuRenderPipelineRelease(pipe);
    ctx_release(&c);
    return finish();
}
