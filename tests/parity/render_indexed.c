/* Indexed drawing: a quad from a uint16 index buffer, the same quad moved by
 * baseVertex from a uint32 index buffer at an offset, and two instances with
 * a per-instance colour buffer. */
#include "util.h"

static const char *shader =
    "struct V { @builtin(position) pos : vec4f, @location(0) color : vec4f }\n"
    "@vertex fn vs(@location(0) p : vec2f, @location(1) shift : vec2f, @location(2) c : vec4f) -> V {\n"
    "  return V(vec4f(p + shift, 0.0, 1.0), c);\n"
    "}\n"
    "@fragment fn fs(v : V) -> @location(0) vec4f { return v.color; }\n";

#define W 32
#define H 32

int main(void)
{
    struct ctx c;
    ctx_init(&c);

    /* Two copies of a quad of side 0.5: vertices 0-3 at the lower left,
     * 4-7 at the upper right (reached with baseVertex 4). */
    float pos[16] = {
        -1.0f, -1.0f, -0.5f, -1.0f, -0.5f, -0.5f, -1.0f, -0.5f,
        0.5f, 0.5f, 1.0f, 0.5f, 1.0f, 1.0f, 0.5f, 1.0f,
    };
    /* Per-instance: shift (x, y) and colour. */
    float inst[2 * 6] = {
        0.0f, 0.0f, 1.0f, 0.0f, 0.0f, 1.0f,
        0.0f, -1.0f, 0.0f, 1.0f, 0.0f, 1.0f,
    };
    uint16_t idx16[8] = {0, 1, 2, 0, 2, 3, 0, 0};
    uint32_t idx32[2 + 6] = {99, 99, 0, 1, 2, 0, 2, 3};

    WGPUBuffer pb = make_buffer_data(&c, WGPUBufferUsage_Vertex, pos, sizeof pos);
    WGPUBuffer ib = make_buffer_data(&c, WGPUBufferUsage_Vertex, inst, sizeof inst);
    WGPUBuffer i16 = make_buffer_data(&c, WGPUBufferUsage_Index, idx16, sizeof idx16);
    WGPUBuffer i32 = make_buffer_data(&c, WGPUBufferUsage_Index, idx32, sizeof idx32);

    WGPUVertexAttribute pa = {.format = WGPUVertexFormat_Float32x2, .offset = 0, .shaderLocation = 0};
    WGPUVertexAttribute ia[2] = {
        {.format = WGPUVertexFormat_Float32x2, .offset = 0, .shaderLocation = 1},
        {.format = WGPUVertexFormat_Float32x4, .offset = 8, .shaderLocation = 2},
    };
    WGPUVertexBufferLayout vbl[2] = {
        {.stepMode = WGPUVertexStepMode_Vertex, .arrayStride = 8, .attributeCount = 1, .attributes = &pa},
        {.stepMode = WGPUVertexStepMode_Instance, .arrayStride = 24, .attributeCount = 2, .attributes = ia},
    };
    struct pipe_opts o = {.buffers = vbl, .buffer_count = 2};
    WGPURenderPipeline pipe = make_render(&c, shader, &o);

    WGPUTexture tex = make_texture(&c, WGPUTextureFormat_RGBA8Unorm, W, H, 1, 1, 1,
                                   WGPUTextureUsage_RenderAttachment | WGPUTextureUsage_CopySrc);
    WGPUTextureView view = view_of(tex);
    WGPUCommandEncoder enc = encoder(&c);
    WGPURenderPassEncoder rp = begin_pass(enc, view, NULL, (WGPUColor){0, 0, 0, 1}, NULL);
    wgpuRenderPassEncoderSetPipeline(rp, pipe);
    wgpuRenderPassEncoderSetVertexBuffer(rp, 0, pb, 0, WGPU_WHOLE_SIZE);
    wgpuRenderPassEncoderSetVertexBuffer(rp, 1, ib, 0, WGPU_WHOLE_SIZE);
    /* Lower-left quad, instance 0 only (red). */
    wgpuRenderPassEncoderSetIndexBuffer(rp, i16, WGPUIndexFormat_Uint16, 0, 12);
    wgpuRenderPassEncoderDrawIndexed(rp, 6, 1, 0, 0, 0);
    /* Upper-right quad via baseVertex 4 from index 2 of the uint32 buffer,
     * instances 0 (red, in place) and 1 (green, shifted down by 1.0). */
    wgpuRenderPassEncoderSetIndexBuffer(rp, i32, WGPUIndexFormat_Uint32, 8, WGPU_WHOLE_SIZE);
    wgpuRenderPassEncoderDrawIndexed(rp, 6, 2, 0, 4, 0);
    wgpuRenderPassEncoderEnd(rp);
    wgpuRenderPassEncoderRelease(rp);
    submit(&c, enc);

    static uint8_t px[W * H * 4];
    CHECK(read_texture(&c, tex, 0, 0, W, H, 4, px));
    int red = 0, green = 0, black = 0;
    for (int i = 0; i < W * H; i++) {
        const uint8_t *p = px + 4 * i;
        red += p[0] == 255 && p[1] == 0;
        green += p[0] == 0 && p[1] == 255;
        black += p[0] == 0 && p[1] == 0 && p[2] == 0;
    }
    /* Rows run top to bottom: NDC y = +1 is row 0. */
    say_rgba("lower left (2,29)", px + 4 * (29 * W + 2));
    say_rgba("upper right (29,2)", px + 4 * (2 * W + 29));
    say_rgba("right middle (29,18)", px + 4 * (18 * W + 29));
    say_rgba("centre (16,16)", px + 4 * (16 * W + 16));
    say("red %d green %d black %d", red, green, black);
    CHECK(red == 2 * 8 * 8 && green == 8 * 8 && black == W * H - 3 * 64);

    wgpuTextureViewRelease(view);
    wgpuTextureRelease(tex);
    wgpuRenderPipelineRelease(pipe);
    wgpuBufferRelease(pb);
    wgpuBufferRelease(ib);
    wgpuBufferRelease(i16);
    wgpuBufferRelease(i32);
    ctx_release(&c);
    return finish();
}
