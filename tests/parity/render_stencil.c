/* Stencil: a first draw writes reference 1 into a Depth24PlusStencil8
 * attachment (Replace) over the left half; a second, full-screen draw only
 * passes where the stencil equals 1; a third increments with wrap. */
#include "util.h"

static const char *shader =
    "struct U { rect : vec4f, color : vec4f }\n"
    "@group(0) @binding(0) var<uniform> u : U;\n"
    "@vertex fn vs(@builtin(vertex_index) i : u32) -> @builtin(position) vec4f {\n"
    "  let x = select(u.rect.x, u.rect.z, i == 1u || i == 2u || i == 4u);\n"
    "  let y = select(u.rect.y, u.rect.w, i == 2u || i == 4u || i == 5u);\n"
    "  return vec4f(x, y, 0.5, 1.0);\n"
    "}\n"
    "@fragment fn fs() -> @location(0) vec4f { return u.color; }\n";

#define W 16
#define H 16

static WGPURenderPipeline stencil_pipeline(struct ctx *c, WGPUCompareFunction cmp, WGPUStencilOperation pass)
{
    WGPUShaderModule m = make_shader(c, shader);
    struct pipe_opts o = {.depth = WGPUTextureFormat_Depth24PlusStencil8, .depth_compare = WGPUCompareFunction_Always};
    struct render_desc rd;
    render_desc_init(&rd, m, &o);
    WGPUStencilFaceState f = {.compare = cmp, .failOp = WGPUStencilOperation_Keep,
                              .depthFailOp = WGPUStencilOperation_Keep, .passOp = pass};
    rd.depth.stencilFront = f;
    rd.depth.stencilBack = f;
    rd.depth.depthWriteEnabled = WGPUOptionalBool_False;
    WGPURenderPipeline p = wgpuDeviceCreateRenderPipeline(c->device, &rd.d);
    wgpuShaderModuleRelease(m);
    return p;
}

int main(void)
{
    struct ctx c;
    ctx_init(&c);

    float u[3][64];
    memset(u, 0, sizeof u);
    float rects[3][8] = {
        {-1, -1, 0, 1, 1, 0, 0, 1},   /* left half, red (writes stencil) */
        {-1, -1, 1, 1, 0, 1, 0, 1},   /* full, green where stencil == 1 */
        {-1, -1, 1, 0, 0, 0, 1, 1},   /* bottom half, blue, increment-wrap */
    };
    for (int i = 0; i < 3; i++)
        memcpy(u[i], rects[i], sizeof rects[i]);
    WGPUBuffer ub = make_buffer_data(&c, WGPUBufferUsage_Uniform, u, sizeof u);

    WGPURenderPipeline write = stencil_pipeline(&c, WGPUCompareFunction_Always, WGPUStencilOperation_Replace);
    WGPURenderPipeline test = stencil_pipeline(&c, WGPUCompareFunction_Equal, WGPUStencilOperation_Keep);
    WGPURenderPipeline incr = stencil_pipeline(&c, WGPUCompareFunction_Always, WGPUStencilOperation_IncrementWrap);
    WGPURenderPipeline pipes[3] = {write, test, incr};
    WGPUBindGroup bgs[3];
    for (int i = 0; i < 3; i++) {
        WGPUBindGroupLayout l = wgpuRenderPipelineGetBindGroupLayout(pipes[i], 0);
        WGPUBindGroupEntry e = {.binding = 0, .buffer = ub, .offset = 256u * (uint64_t)i, .size = 32};
        WGPUBindGroupDescriptor d = {.layout = l, .entryCount = 1, .entries = &e};
        bgs[i] = wgpuDeviceCreateBindGroup(c.device, &d);
        wgpuBindGroupLayoutRelease(l);
    }

    WGPUTexture color = make_texture(&c, WGPUTextureFormat_RGBA8Unorm, W, H, 1, 1, 1,
                                     WGPUTextureUsage_RenderAttachment | WGPUTextureUsage_CopySrc);
    WGPUTexture ds = make_texture(&c, WGPUTextureFormat_Depth24PlusStencil8, W, H, 1, 1, 1,
                                  WGPUTextureUsage_RenderAttachment | WGPUTextureUsage_CopySrc);
    WGPUTextureView cv = view_of(color), dv = view_of(ds);
    WGPURenderPassColorAttachment ca = {
        .view = cv, .depthSlice = WGPU_DEPTH_SLICE_UNDEFINED, .loadOp = WGPULoadOp_Clear,
        .storeOp = WGPUStoreOp_Store, .clearValue = {0, 0, 0, 1},
    };
    WGPURenderPassDepthStencilAttachment da = {
        .view = dv, .depthLoadOp = WGPULoadOp_Clear, .depthStoreOp = WGPUStoreOp_Store, .depthClearValue = 1.0f,
        .stencilLoadOp = WGPULoadOp_Clear, .stencilStoreOp = WGPUStoreOp_Store, .stencilClearValue = 255,
    };
    WGPURenderPassDescriptor rpd = {.colorAttachmentCount = 1, .colorAttachments = &ca, .depthStencilAttachment = &da};
    WGPUCommandEncoder enc = encoder(&c);
    WGPURenderPassEncoder rp = wgpuCommandEncoderBeginRenderPass(enc, &rpd);
    wgpuRenderPassEncoderSetStencilReference(rp, 1);
    for (int i = 0; i < 3; i++) {
        wgpuRenderPassEncoderSetPipeline(rp, pipes[i]);
        wgpuRenderPassEncoderSetBindGroup(rp, 0, bgs[i], 0, NULL);
        wgpuRenderPassEncoderDraw(rp, 6, 1, 0, 0);
    }
    wgpuRenderPassEncoderEnd(rp);
    wgpuRenderPassEncoderRelease(rp);
    /* Copy the stencil aspect out as well. */
    WGPUBuffer sb = make_buffer(&c, WGPUBufferUsage_CopyDst | WGPUBufferUsage_CopySrc, 256 * H);
    WGPUTexelCopyTextureInfo src = {.texture = ds, .aspect = WGPUTextureAspect_StencilOnly};
    WGPUTexelCopyBufferInfo dst = {.layout = {.bytesPerRow = 256, .rowsPerImage = H}, .buffer = sb};
    WGPUExtent3D size = {W, H, 1};
    wgpuCommandEncoderCopyTextureToBuffer(enc, &src, &dst, &size);
    submit(&c, enc);

    uint8_t px[W * H * 4];
    static uint8_t st[256 * H];
    CHECK(read_texture(&c, color, 0, 0, W, H, 4, px));
    CHECK(read_buffer(&c, sb, 0, st, sizeof st));
    /* Quadrants: top-left (4,4), top-right (12,4), bottom-left (4,12), bottom-right (12,12). */
    int pts[4][2] = {{4, 4}, {12, 4}, {4, 12}, {12, 12}};
    const char *names[4] = {"top left", "top right", "bottom left", "bottom right"};
    for (int i = 0; i < 4; i++) {
        const uint8_t *p = px + 4 * (pts[i][1] * W + pts[i][0]);
        say("%s: colour %u %u %u stencil %u", names[i], p[0], p[1], p[2], st[pts[i][1] * 256 + pts[i][0]]);
    }
    CHECK(px[4 * (4 * W + 4) + 1] == 255 && px[4 * (4 * W + 12)] == 0 && px[4 * (4 * W + 12) + 1] == 0);
    CHECK(st[4 * 256 + 4] == 1 && st[4 * 256 + 12] == 255 && st[12 * 256 + 4] == 2 && st[12 * 256 + 12] == 0);

    wgpuBufferRelease(sb);
    wgpuTextureViewRelease(cv);
    wgpuTextureViewRelease(dv);
    wgpuTextureRelease(color);
    wgpuTextureRelease(ds);
    for (int i = 0; i < 3; i++) {
        wgpuBindGroupRelease(bgs[i]);
        wgpuRenderPipelineRelease(pipes[i]);
    }
    wgpuBufferRelease(ub);
    ctx_release(&c);
    return finish();
}
