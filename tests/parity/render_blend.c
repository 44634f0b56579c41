/* Blending: over a blue background, one quadrant each with
 * SrcAlpha/OneMinusSrcAlpha, additive, blend-constant and reverse-subtract
 * blending; prints the blended texel of each quadrant. */
#include "util.h"

static const char *shader =
    "struct U { color : vec4f, rect : vec4f }\n"
    "@group(0) @binding(0) var<uniform> u : U;\n"
    "@vertex fn vs(@builtin(vertex_index) i : u32) -> @builtin(position) vec4f {\n"
    "  let x = select(u.rect.x, u.rect.z, i == 1u || i == 2u || i == 4u);\n"
    "  let y = select(u.rect.y, u.rect.w, i == 2u || i == 4u || i == 5u);\n"
    "  return vec4f(x, y, 0.0, 1.0);\n"
    "}\n"
    "@fragment fn fs() -> @location(0) vec4f { return u.color; }\n";

#define W 16
#define H 16

struct uni { float color[4], rect[4]; float pad[56]; }; /* 256 bytes */

int main(void)
{
    struct ctx c;
    ctx_init(&c);

    WGPUBlendState alpha = {
        .color = {WGPUBlendOperation_Add, WGPUBlendFactor_SrcAlpha, WGPUBlendFactor_OneMinusSrcAlpha},
        .alpha = {WGPUBlendOperation_Add, WGPUBlendFactor_One, WGPUBlendFactor_OneMinusSrcAlpha},
    };
    WGPUBlendState add = {
        .color = {WGPUBlendOperation_Add, WGPUBlendFactor_One, WGPUBlendFactor_One},
        .alpha = {WGPUBlendOperation_Add, WGPUBlendFactor_One, WGPUBlendFactor_One},
    };
    WGPUBlendState constant = {
        .color = {WGPUBlendOperation_Add, WGPUBlendFactor_Constant, WGPUBlendFactor_OneMinusConstant},
        .alpha = {WGPUBlendOperation_Add, WGPUBlendFactor_One, WGPUBlendFactor_Zero},
    };
    WGPUBlendState subtract = {
        .color = {WGPUBlendOperation_ReverseSubtract, WGPUBlendFactor_One, WGPUBlendFactor_One},
        .alpha = {WGPUBlendOperation_Add, WGPUBlendFactor_Zero, WGPUBlendFactor_One},
    };
    const WGPUBlendState *modes[4] = {&alpha, &add, &constant, &subtract};
    const char *names[4] = {"alpha", "additive", "constant", "reverse-subtract"};
    struct uni u[4];
    memset(u, 0, sizeof u);
    float colors[4][4] = {{1, 0, 0, 0.5f}, {0, 0.25f, 0, 1}, {1, 1, 1, 1}, {0.5f, 0.5f, 0.5f, 1}};
    for (int i = 0; i < 4; i++) {
        memcpy(u[i].color, colors[i], sizeof colors[i]);
        /* Quadrant i: left/right by bit 0, top/bottom by bit 1. */
        float x0 = (i & 1) ? 0.0f : -1.0f, y0 = (i & 2) ? -1.0f : 0.0f;
        float r[4] = {x0, y0, x0 + 1.0f, y0 + 1.0f};
        memcpy(u[i].rect, r, sizeof r);
    }
    WGPUBuffer ub = make_buffer_data(&c, WGPUBufferUsage_Uniform, u, sizeof u);

    WGPURenderPipeline pipes[4];
    for (int i = 0; i < 4; i++) {
        struct pipe_opts o = {.blend = modes[i]};
        pipes[i] = make_render(&c, shader, &o);
    }
    WGPUTexture tex = make_texture(&c, WGPUTextureFormat_RGBA8Unorm, W, H, 1, 1, 1,
                                   WGPUTextureUsage_RenderAttachment | WGPUTextureUsage_CopySrc);
    WGPUTextureView view = view_of(tex);
    WGPUBindGroup bgs[4];
    for (int i = 0; i < 4; i++) {
        WGPUBindGroupEntry e = {.binding = 0, .buffer = ub, .offset = 256u * (uint64_t)i, .size = 32};
        WGPUBindGroupLayout l = wgpuRenderPipelineGetBindGroupLayout(pipes[i], 0);
        WGPUBindGroupDescriptor d = {.layout = l, .entryCount = 1, .entries = &e};
        bgs[i] = wgpuDeviceCreateBindGroup(c.device, &d);
        wgpuBindGroupLayoutRelease(l);
    }

    WGPUCommandEncoder enc = encoder(&c);
    WGPURenderPassEncoder rp = begin_pass(enc, view, NULL, (WGPUColor){0.0, 0.0, 1.0, 1.0}, NULL);
    WGPUColor k = {0.25, 0.5, 0.75, 1.0};
    wgpuRenderPassEncoderSetBlendConstant(rp, &k);
    for (int i = 0; i < 4; i++) {
        wgpuRenderPassEncoderSetPipeline(rp, pipes[i]);
        wgpuRenderPassEncoderSetBindGroup(rp, 0, bgs[i], 0, NULL);
        wgpuRenderPassEncoderDraw(rp, 6, 1, 0, 0);
    }
    wgpuRenderPassEncoderEnd(rp);
    wgpuRenderPassEncoderRelease(rp);
    submit(&c, enc);

    uint8_t px[W * H * 4];
    CHECK(read_texture(&c, tex, 0, 0, W, H, 4, px));
    /* Quadrant centres: 0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right. */
    int centres[4][2] = {{4, 4}, {12, 4}, {4, 12}, {12, 12}};
    for (int i = 0; i < 4; i++) {
        const uint8_t *p = px + 4 * (centres[i][1] * W + centres[i][0]);
        say("%s: %u %u %u %u", names[i], p[0], p[1], p[2], p[3]);
    }
    const uint8_t *a = px + 4 * (4 * W + 4);
    CHECK(a[0] >= 127 && a[0] <= 128 && a[2] >= 127 && a[2] <= 128);
    const uint8_t *d = px + 4 * (12 * W + 12);
    CHECK(d[0] == 0 && d[1] == 0 && d[2] >= 127 && d[2] <= 128);

    for (int i = 0; i < 4; i++) {
        wgpuBindGroupRelease(bgs[i]);
        wgpuRenderPipelineRelease(pipes[i]);
    }
    wgpuTextureViewRelease(view);
    wgpuTextureRelease(tex);
    wgpuBufferRelease(ub);
    ctx_release(&c);
    return finish();
}
