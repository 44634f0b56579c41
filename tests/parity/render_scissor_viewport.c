/* Viewport and scissor: a full-screen triangle drawn into a 4x4-pixel
 * scissor rectangle, then into an 8x8 viewport at (16,16), then with a
 * scissor rectangle outside the target (validation error). */
#include "util.h"

static const char *shader =
    "@vertex fn vs(@builtin(vertex_index) i : u32) -> @builtin(position) vec4f {\n"
    "  var p = array<vec2f, 3>(vec2f(-1, -1), vec2f(3, -1), vec2f(-1, 3));\n"
    "  return vec4f(p[i], 0.0, 1.0);\n"
    "}\n"
    "override r : f32 = 1.0;\n"
    "override g : f32 = 1.0;\n"
    "@fragment fn fs() -> @location(0) vec4f { return vec4f(r, g, 0.0, 1.0); }\n";

#define W 32
#define H 32

int main(void)
{
    struct ctx c;
    ctx_init(&c);

    WGPUConstantEntry red[2] = {{.key = sv("r"), .value = 1}, {.key = sv("g"), .value = 0}};
    WGPUConstantEntry green[2] = {{.key = sv("r"), .value = 0}, {.key = sv("g"), .value = 1}};
    struct pipe_opts o1 = {.constants = red, .constant_count = 2};
    struct pipe_opts o2 = {.constants = green, .constant_count = 2};
    WGPURenderPipeline pr = make_render(&c, shader, &o1);
    WGPURenderPipeline pg = make_render(&c, shader, &o2);
    WGPUTexture tex = make_texture(&c, WGPUTextureFormat_RGBA8Unorm, W, H, 1, 1, 1,
                                   WGPUTextureUsage_RenderAttachment | WGPUTextureUsage_CopySrc);
    WGPUTextureView view = view_of(tex);

    WGPUCommandEncoder enc = encoder(&c);
    WGPURenderPassEncoder rp = begin_pass(enc, view, NULL, (WGPUColor){0, 0, 0, 1}, NULL);
    wgpuRenderPassEncoderSetPipeline(rp, pr);
    wgpuRenderPassEncoderSetScissorRect(rp, 2, 3, 4, 4);
    wgpuRenderPassEncoderDraw(rp, 3, 1, 0, 0);
    wgpuRenderPassEncoderSetScissorRect(rp, 0, 0, W, H);
    wgpuRenderPassEncoderSetViewport(rp, 16.0f, 16.0f, 8.0f, 8.0f, 0.0f, 1.0f);
    wgpuRenderPassEncoderSetPipeline(rp, pg);
    wgpuRenderPassEncoderDraw(rp, 3, 1, 0, 0);
    wgpuRenderPassEncoderEnd(rp);
    wgpuRenderPassEncoderRelease(rp);
    submit(&c, enc);

    uint8_t px[W * H * 4];
    CHECK(read_texture(&c, tex, 0, 0, W, H, 4, px));
    int red_n = 0, green_n = 0, minx = W, miny = H, maxx = -1, maxy = -1;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            const uint8_t *p = px + 4 * (y * W + x);
            if (p[0] == 255) {
                red_n++;
                if (x < minx) minx = x;
                if (y < miny) miny = y;
                if (x > maxx) maxx = x;
                if (y > maxy) maxy = y;
            }
            green_n += p[1] == 255;
        }
    say("red pixels %d in x %d..%d y %d..%d", red_n, minx, maxx, miny, maxy);
    say("green pixels %d, (16,16) green %s, (24,24) green %s", green_n,
        px[4 * (16 * W + 16) + 1] == 255 ? "yes" : "no", px[4 * (24 * W + 24) + 1] == 255 ? "yes" : "no");
    CHECK(red_n == 16 && minx == 2 && miny == 3 && green_n == 64);

    push_scope(&c, WGPUErrorFilter_Validation);
    enc = encoder(&c);
    rp = begin_pass(enc, view, NULL, (WGPUColor){0, 0, 0, 1}, NULL);
    wgpuRenderPassEncoderSetScissorRect(rp, 30, 30, 4, 4);
    wgpuRenderPassEncoderEnd(rp);
    wgpuRenderPassEncoderRelease(rp);
    WGPUCommandBuffer cb = wgpuCommandEncoderFinish(enc, NULL);
    wgpuCommandBufferRelease(cb);
    wgpuCommandEncoderRelease(enc);
    say("scissor outside the target: %s", error_type_name(pop_scope(&c)));

    wgpuTextureViewRelease(view);
    wgpuTextureRelease(tex);
    wgpuRenderPipelineRelease(pr);
    wgpuRenderPipelineRelease(pg);
    ctx_release(&c);
    return finish();
}
