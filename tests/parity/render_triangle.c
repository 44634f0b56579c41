/* A render pass into an RGBA8Unorm texture: clear, one triangle from a vertex
 * buffer (float32x2 position, unorm8x4 colour), copy to a buffer, read back. */
#include "util.h"

static const char *shader =
    "struct V { @builtin(position) pos : vec4f, @location(0) color : vec4f }\n"
    "@vertex fn vs(@location(0) p : vec2f, @location(1) c : vec4f) -> V {\n"
    "  return V(vec4f(p, 0.0, 1.0), c);\n"
    "}\n"
    "@fragment fn fs(v : V) -> @location(0) vec4f { return v.color; }\n";

#define W 64
#define H 64

struct vertex { float x, y; uint8_t rgba[4]; };

int main(void)
{
    struct ctx c;
    ctx_init(&c);

    struct vertex verts[3] = {
        {-0.75f, -0.75f, {255, 0, 0, 255}},
        {0.75f, -0.75f, {255, 0, 0, 255}},
        {0.0f, 0.75f, {255, 0, 0, 255}},
    };
    WGPUBuffer vb = make_buffer_data(&c, WGPUBufferUsage_Vertex, verts, sizeof verts);
    WGPUVertexAttribute attrs[2] = {
        {.format = WGPUVertexFormat_Float32x2, .offset = 0, .shaderLocation = 0},
        {.format = WGPUVertexFormat_Unorm8x4, .offset = 8, .shaderLocation = 1},
    };
    WGPUVertexBufferLayout vbl = {
        .stepMode = WGPUVertexStepMode_Vertex, .arrayStride = sizeof(struct vertex),
        .attributeCount = 2, .attributes = attrs,
    };
    struct pipe_opts o = {.buffers = &vbl, .buffer_count = 1};
    WGPURenderPipeline pipe = make_render(&c, shader, &o);

    WGPUTexture tex = make_texture(&c, WGPUTextureFormat_RGBA8Unorm, W, H, 1, 1, 1,
                                   WGPUTextureUsage_RenderAttachment | WGPUTextureUsage_CopySrc);
    WGPUTextureView view = view_of(tex);
    WGPUCommandEncoder enc = encoder(&c);
    WGPURenderPassEncoder rp = begin_pass(enc, view, NULL, (WGPUColor){0.0, 0.0, 1.0, 1.0}, NULL);
    wgpuRenderPassEncoderSetPipeline(rp, pipe);
    wgpuRenderPassEncoderSetVertexBuffer(rp, 0, vb, 0, WGPU_WHOLE_SIZE);
    wgpuRenderPassEncoderDraw(rp, 3, 1, 0, 0);
    wgpuRenderPassEncoderEnd(rp);
    wgpuRenderPassEncoderRelease(rp);
    submit(&c, enc);

    static uint8_t px[W * H * 4];
    CHECK(read_texture(&c, tex, 0, 0, W, H, 4, px));
    int red = 0, blue = 0, other = 0;
    for (int i = 0; i < W * H; i++) {
        const uint8_t *p = px + 4 * i;
        if (p[0] == 255 && p[1] == 0 && p[2] == 0 && p[3] == 255) red++;
        else if (p[0] == 0 && p[1] == 0 && p[2] == 255 && p[3] == 255) blue++;
        else other++;
    }
    say_rgba("corner (0,0)", px);
    say_rgba("centre (32,32)", px + 4 * (32 * W + 32));
    say_rgba("top centre (32,4)", px + 4 * (4 * W + 32));
    say("red %d blue %d other %d", red, blue, other);
    say("image fnv1a %08x", fnv1a(px, sizeof px));
    CHECK(px[0] == 0 && px[2] == 255);
    CHECK(px[4 * (32 * W + 32)] == 255 && px[4 * (32 * W + 32) + 2] == 0);
    CHECK(red > 1000 && blue > 1000 && other == 0);

    wgpuTextureViewRelease(view);
    wgpuTextureRelease(tex);
    wgpuRenderPipelineRelease(pipe);
    wgpuBufferRelease(vb);
    ctx_release(&c);
    return finish();
}
