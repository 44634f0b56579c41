/* Occlusion queries: three queries around a visible quad, a quad hidden
 * behind it by the depth test, and no draw at all; resolved into a buffer
 * and read back. Prints whether each passed any samples, and the counts. */
#include "util.h"

static const char *shader =
    "@group(0) @binding(0) var<uniform> z : vec4f;\n"
    "@vertex fn vs(@builtin(vertex_index) i : u32) -> @builtin(position) vec4f {\n"
    "  var p = array<vec2f, 6>(vec2f(-0.5, -0.5), vec2f(0.5, -0.5), vec2f(0.5, 0.5),\n"
    "                          vec2f(-0.5, -0.5), vec2f(0.5, 0.5), vec2f(-0.5, 0.5));\n"
    "  return vec4f(p[i], z.x, 1.0);\n"
    "}\n"
    "@fragment fn fs() -> @location(0) vec4f { return vec4f(1.0); }\n";

#define W 16
#define H 16

int main(void)
{
    struct ctx c;
    ctx_init(&c);

    WGPUQuerySetDescriptor qd = {.type = WGPUQueryType_Occlusion, .count = 3};
    WGPUQuerySet qs = wgpuDeviceCreateQuerySet(c.device, &qd);
    say("query set: count %u type %s", wgpuQuerySetGetCount(qs),
        wgpuQuerySetGetType(qs) == WGPUQueryType_Occlusion ? "Occlusion" : "other");

    float zs[128] = {0};
    zs[0] = 0.25f;   /* near, at offset 0 */
    zs[64] = 0.75f;  /* far, at offset 256 */
    WGPUBuffer ub = make_buffer_data(&c, WGPUBufferUsage_Uniform, zs, sizeof zs);
    struct pipe_opts o = {.depth = WGPUTextureFormat_Depth24Plus};
    WGPURenderPipeline pipe = make_render(&c, shader, &o);
    WGPUBindGroupLayout bgl = wgpuRenderPipelineGetBindGroupLayout(pipe, 0);
    WGPUBindGroup bgs[2];
    for (int i = 0; i < 2; i++) {
        WGPUBindGroupEntry e = {.binding = 0, .buffer = ub, .offset = 256u * (uint64_t)i, .size = 16};
        WGPUBindGroupDescriptor d = {.layout = bgl, .entryCount = 1, .entries = &e};
        bgs[i] = wgpuDeviceCreateBindGroup(c.device, &d);
    }

    WGPUTexture color = make_texture(&c, WGPUTextureFormat_RGBA8Unorm, W, H, 1, 1, 1, WGPUTextureUsage_RenderAttachment);
    WGPUTexture depth = make_texture(&c, WGPUTextureFormat_Depth24Plus, W, H, 1, 1, 1, WGPUTextureUsage_RenderAttachment);
    WGPUTextureView cv = view_of(color), dv = view_of(depth);
    WGPUBuffer resolve = make_buffer(&c, WGPUBufferUsage_QueryResolve | WGPUBufferUsage_CopySrc, 3 * 8);

    WGPUCommandEncoder enc = encoder(&c);
    WGPURenderPassColorAttachment ca = {
        .view = cv, .depthSlice = WGPU_DEPTH_SLICE_UNDEFINED,
        .loadOp = WGPULoadOp_Clear, .storeOp = WGPUStoreOp_Store, .clearValue = {0, 0, 0, 1},
    };
    WGPURenderPassDepthStencilAttachment da = {
        .view = dv, .depthLoadOp = WGPULoadOp_Clear, .depthStoreOp = WGPUStoreOp_Store, .depthClearValue = 1.0f,
    };
    WGPURenderPassDescriptor rpd = {
        .colorAttachmentCount = 1, .colorAttachments = &ca, .depthStencilAttachment = &da,
        .occlusionQuerySet = qs,
    };
    WGPURenderPassEncoder rp = wgpuCommandEncoderBeginRenderPass(enc, &rpd);
    wgpuRenderPassEncoderSetPipeline(rp, pipe);
    wgpuRenderPassEncoderBeginOcclusionQuery(rp, 0);
    wgpuRenderPassEncoderSetBindGroup(rp, 0, bgs[0], 0, NULL);
    wgpuRenderPassEncoderDraw(rp, 6, 1, 0, 0);
    wgpuRenderPassEncoderEndOcclusionQuery(rp);
    wgpuRenderPassEncoderBeginOcclusionQuery(rp, 1);
    wgpuRenderPassEncoderSetBindGroup(rp, 0, bgs[1], 0, NULL);
    wgpuRenderPassEncoderDraw(rp, 6, 1, 0, 0);
    wgpuRenderPassEncoderEndOcclusionQuery(rp);
    wgpuRenderPassEncoderBeginOcclusionQuery(rp, 2);
    wgpuRenderPassEncoderEndOcclusionQuery(rp);
    wgpuRenderPassEncoderEnd(rp);
    wgpuRenderPassEncoderRelease(rp);
    wgpuCommandEncoderResolveQuerySet(enc, qs, 0, 3, resolve, 0);
    submit(&c, enc);

    uint64_t r[3];
    CHECK(read_buffer(&c, resolve, 0, r, sizeof r));
    say("visible quad: %s (%llu samples)", r[0] ? "passed" : "none", (unsigned long long)r[0]);
    say("hidden quad: %s (%llu samples)", r[1] ? "passed" : "none", (unsigned long long)r[1]);
    say("no draw: %s (%llu samples)", r[2] ? "passed" : "none", (unsigned long long)r[2]);
    CHECK(r[0] > 0 && r[1] == 0 && r[2] == 0);

    /* Resolving into a buffer without QueryResolve usage is an error. */
    WGPUBuffer plain = make_buffer(&c, WGPUBufferUsage_CopySrc, 3 * 8);
    push_scope(&c, WGPUErrorFilter_Validation);
    enc = encoder(&c);
    wgpuCommandEncoderResolveQuerySet(enc, qs, 0, 3, plain, 0);
    WGPUCommandBuffer cb = wgpuCommandEncoderFinish(enc, NULL);
    wgpuCommandBufferRelease(cb);
    wgpuCommandEncoderRelease(enc);
    say("resolve without QueryResolve usage: %s", error_type_name(pop_scope(&c)));

    wgpuBufferRelease(plain);
    wgpuBufferRelease(resolve);
    wgpuTextureViewRelease(cv);
    wgpuTextureViewRelease(dv);
    wgpuTextureRelease(color);
    wgpuTextureRelease(depth);
    for (int i = 0; i < 2; i++)
        wgpuBindGroupRelease(bgs[i]);
    wgpuBindGroupLayoutRelease(bgl);
    wgpuRenderPipelineRelease(pipe);
    wgpuBufferRelease(ub);
    wgpuQuerySetDestroy(qs);
    wgpuQuerySetRelease(qs);
    ctx_release(&c);
    return finish();
}
