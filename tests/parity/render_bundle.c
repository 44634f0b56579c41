/* Render bundles: draws recorded once in a bundle (pipeline, vertex buffer,
 * bind group) and executed in two passes over different targets, plus a
 * bundle whose colour format does not match the pass (validation error). */
#include "util.h"

static const char *shader =
    "@group(0) @binding(0) var<uniform> color : vec4f;\n"
    "@vertex fn vs(@location(0) p : vec2f) -> @builtin(position) vec4f { return vec4f(p, 0.0, 1.0); }\n"
    "@fragment fn fs() -> @location(0) vec4f { return color; }\n";

#define W 16
#define H 16

int main(void)
{
    struct ctx c;
    ctx_init(&c);

    float verts[12] = {-1, -1, 0, -1, 0, 0, -1, -1, 0, 0, -1, 0}; /* lower-left quarter */
    float col[4] = {0, 1, 1, 1};
    WGPUBuffer vb = make_buffer_data(&c, WGPUBufferUsage_Vertex, verts, sizeof verts);
    WGPUBuffer ub = make_buffer_data(&c, WGPUBufferUsage_Uniform, col, sizeof col);
    WGPUVertexAttribute a = {.format = WGPUVertexFormat_Float32x2, .offset = 0, .shaderLocation = 0};
    WGPUVertexBufferLayout vbl = {.stepMode = WGPUVertexStepMode_Vertex, .arrayStride = 8,
                                  .attributeCount = 1, .attributes = &a};
    struct pipe_opts o = {.buffers = &vbl, .buffer_count = 1};
    WGPURenderPipeline pipe = make_render(&c, shader, &o);
    WGPUBindGroupLayout bgl = wgpuRenderPipelineGetBindGroupLayout(pipe, 0);
    WGPUBindGroup bg = bind_buffers(&c, bgl, 1, &ub);

    WGPUTextureFormat fmt = WGPUTextureFormat_RGBA8Unorm;
    WGPURenderBundleEncoderDescriptor bd = {.colorFormatCount = 1, .colorFormats = &fmt, .sampleCount = 1};
    WGPURenderBundleEncoder be = wgpuDeviceCreateRenderBundleEncoder(c.device, &bd);
    wgpuRenderBundleEncoderSetPipeline(be, pipe);
    wgpuRenderBundleEncoderSetBindGroup(be, 0, bg, 0, NULL);
    wgpuRenderBundleEncoderSetVertexBuffer(be, 0, vb, 0, WGPU_WHOLE_SIZE);
    wgpuRenderBundleEncoderDraw(be, 6, 1, 0, 0);
    WGPURenderBundle bundle = wgpuRenderBundleEncoderFinish(be, NULL);
    wgpuRenderBundleEncoderRelease(be);

    WGPUTexture t1 = make_texture(&c, fmt, W, H, 1, 1, 1, WGPUTextureUsage_RenderAttachment | WGPUTextureUsage_CopySrc);
    WGPUTexture t2 = make_texture(&c, fmt, W, H, 1, 1, 1, WGPUTextureUsage_RenderAttachment | WGPUTextureUsage_CopySrc);
    WGPUTextureView v1 = view_of(t1), v2 = view_of(t2);
    WGPUCommandEncoder enc = encoder(&c);
    WGPURenderPassEncoder rp = begin_pass(enc, v1, NULL, (WGPUColor){0, 0, 0, 1}, NULL);
    wgpuRenderPassEncoderExecuteBundles(rp, 1, &bundle);
    wgpuRenderPassEncoderEnd(rp);
    wgpuRenderPassEncoderRelease(rp);
    rp = begin_pass(enc, v2, NULL, (WGPUColor){1, 0, 0, 1}, NULL);
    wgpuRenderPassEncoderExecuteBundles(rp, 1, &bundle);
    wgpuRenderPassEncoderExecuteBundles(rp, 1, &bundle);
    wgpuRenderPassEncoderEnd(rp);
    wgpuRenderPassEncoderRelease(rp);
    submit(&c, enc);

    uint8_t p1[W * H * 4], p2[W * H * 4];
    CHECK(read_texture(&c, t1, 0, 0, W, H, 4, p1));
    CHECK(read_texture(&c, t2, 0, 0, W, H, 4, p2));
    int cyan1 = 0, cyan2 = 0;
    for (int i = 0; i < W * H; i++) {
        cyan1 += p1[4 * i] == 0 && p1[4 * i + 1] == 255 && p1[4 * i + 2] == 255;
        cyan2 += p2[4 * i] == 0 && p2[4 * i + 1] == 255 && p2[4 * i + 2] == 255;
    }
    say("pass 1: cyan %d, corner %u %u %u", cyan1, p1[0], p1[1], p1[2]);
    say("pass 2: cyan %d, corner %u %u %u", cyan2, p2[0], p2[1], p2[2]);
    CHECK(cyan1 == 64 && cyan2 == 64);

    WGPUTextureFormat other = WGPUTextureFormat_BGRA8Unorm;
    bd.colorFormats = &other;
    be = wgpuDeviceCreateRenderBundleEncoder(c.device, &bd);
    WGPURenderBundle wrong = wgpuRenderBundleEncoderFinish(be, NULL);
    wgpuRenderBundleEncoderRelease(be);
    push_scope(&c, WGPUErrorFilter_Validation);
    enc = encoder(&c);
    rp = begin_pass(enc, v1, NULL, (WGPUColor){0, 0, 0, 1}, NULL);
    wgpuRenderPassEncoderExecuteBundles(rp, 1, &wrong);
    wgpuRenderPassEncoderEnd(rp);
    wgpuRenderPassEncoderRelease(rp);
    WGPUCommandBuffer cb = wgpuCommandEncoderFinish(enc, NULL);
    wgpuCommandBufferRelease(cb);
    wgpuCommandEncoderRelease(enc);
    say("bundle with another colour format: %s", error_type_name(pop_scope(&c)));

    wgpuRenderBundleRelease(wrong);
    wgpuRenderBundleRelease(bundle);
    wgpuTextureViewRelease(v1);
    wgpuTextureViewRelease(v2);
    wgpuTextureRelease(t1);
    wgpuTextureRelease(t2);
    wgpuBindGroupRelease(bg);
    wgpuBindGroupLayoutRelease(bgl);
    wgpuRenderPipelineRelease(pipe);
    wgpuBufferRelease(vb);
    wgpuBufferRelease(ub);
    ctx_release(&c);
    return finish();
}
