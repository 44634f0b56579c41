/* Depth testing: a near red quad, then a farther green quad overlapping it
 * and a nearer blue quad drawn last with depth writes and the Less test.
 * Reads back both the colour and the Depth32Float attachment. */
#include "util.h"

static const char *shader =
    "struct V { @builtin(position) pos : vec4f, @location(0) color : vec3f }\n"
    "@vertex fn vs(@location(0) p : vec3f, @location(1) c : vec3f) -> V {\n"
    "  return V(vec4f(p, 1.0), c);\n"
    "}\n"
    "@fragment fn fs(v : V) -> @location(0) vec4f { return vec4f(v.color, 1.0); }\n";

#define W 32
#define H 32

/* A quad as two triangles: x0..x1 across, y -0.5..0.5, at depth z. */
static void quad(float *v, float x0, float x1, float z, float r, float g, float b)
{
    float pts[6][2] = {{x0, -0.5f}, {x1, -0.5f}, {x1, 0.5f}, {x0, -0.5f}, {x1, 0.5f}, {x0, 0.5f}};
    for (int i = 0; i < 6; i++) {
        float *o = v + 6 * i;
        o[0] = pts[i][0]; o[1] = pts[i][1]; o[2] = z;
        o[3] = r; o[4] = g; o[5] = b;
    }
}

int main(void)
{
    struct ctx c;
    ctx_init(&c);

    float verts[3 * 6 * 6];
    quad(verts, -1.0f, 0.5f, 0.25f, 1, 0, 0);         /* red, near */
    quad(verts + 36, -0.5f, 1.0f, 0.75f, 0, 1, 0);    /* green, far, drawn later */
    quad(verts + 72, 0.0f, 1.0f, 0.5f, 0, 0, 1);      /* blue, between */
    WGPUBuffer vb = make_buffer_data(&c, WGPUBufferUsage_Vertex, verts, sizeof verts);
    WGPUVertexAttribute attrs[2] = {
        {.format = WGPUVertexFormat_Float32x3, .offset = 0, .shaderLocation = 0},
        {.format = WGPUVertexFormat_Float32x3, .offset = 12, .shaderLocation = 1},
    };
    WGPUVertexBufferLayout vbl = {.stepMode = WGPUVertexStepMode_Vertex, .arrayStride = 24,
                                  .attributeCount = 2, .attributes = attrs};
    struct pipe_opts o = {.buffers = &vbl, .buffer_count = 1, .depth = WGPUTextureFormat_Depth32Float};
    WGPURenderPipeline pipe = make_render(&c, shader, &o);

    WGPUTexture color = make_texture(&c, WGPUTextureFormat_RGBA8Unorm, W, H, 1, 1, 1,
                                     WGPUTextureUsage_RenderAttachment | WGPUTextureUsage_CopySrc);
    WGPUTexture depth = make_texture(&c, WGPUTextureFormat_Depth32Float, W, H, 1, 1, 1,
                                     WGPUTextureUsage_RenderAttachment | WGPUTextureUsage_CopySrc);
    WGPUTextureView cv = view_of(color), dv = view_of(depth);
    WGPUCommandEncoder enc = encoder(&c);
    WGPURenderPassEncoder rp = begin_pass(enc, cv, NULL, (WGPUColor){0, 0, 0, 1}, dv);
    wgpuRenderPassEncoderSetPipeline(rp, pipe);
    wgpuRenderPassEncoderSetVertexBuffer(rp, 0, vb, 0, WGPU_WHOLE_SIZE);
    wgpuRenderPassEncoderDraw(rp, 18, 1, 0, 0);
    wgpuRenderPassEncoderEnd(rp);
    wgpuRenderPassEncoderRelease(rp);
    submit(&c, enc);

    static uint8_t px[W * H * 4];
    static float dz[W * H];
    CHECK(read_texture(&c, color, 0, 0, W, H, 4, px));
    CHECK(read_texture(&c, depth, 0, 0, W, H, 4, dz));
    /* Columns: x=2 red only; x=10 red over green; x=20 red over green and
     * blue; x=28 blue over green. Row 16 is inside, row 2 outside. */
    int xs[4] = {2, 10, 20, 28};
    for (int i = 0; i < 4; i++) {
        const uint8_t *p = px + 4 * (16 * W + xs[i]);
        say("x=%d: colour %u %u %u depth %.3f", xs[i], p[0], p[1], p[2], dz[16 * W + xs[i]]);
    }
    say("outside: depth %.3f", dz[2 * W + 2]);
    CHECK(px[4 * (16 * W + 20)] == 255 && px[4 * (16 * W + 28) + 2] == 255);
    CHECK(dz[2 * W + 2] == 1.0f && dz[16 * W + 2] == 0.25f && dz[16 * W + 28] == 0.5f);

    wgpuTextureViewRelease(cv);
    wgpuTextureViewRelease(dv);
    wgpuTextureRelease(color);
    wgpuTextureRelease(depth);
    wgpuRenderPipelineRelease(pipe);
    wgpuBufferRelease(vb);
    ctx_release(&c);
    return finish();
}
