/* Validation errors: one bad descriptor or call per case, each inside
 * Validation, OutOfMemory and Internal error scopes; prints the error type
 * the scopes report (the first that is not NoError). */
#include "util.h"

static struct ctx c;

static WGPUErrorType catch_any(void (*fn)(void))
{
    push_scope(&c, WGPUErrorFilter_Internal);
    push_scope(&c, WGPUErrorFilter_OutOfMemory);
    push_scope(&c, WGPUErrorFilter_Validation);
    fn();
    WGPUErrorType v = pop_scope(&c), o = pop_scope(&c), i = pop_scope(&c);
    if (v != WGPUErrorType_NoError) return v;
    if (o != WGPUErrorType_NoError) return o;
    return i;
}

static void buffer(WGPUBufferUsage u, uint64_t size, int mapped)
{
    WGPUBufferDescriptor d = {.usage = u, .size = size, .mappedAtCreation = (WGPUBool)mapped};
    WGPUBuffer b = wgpuDeviceCreateBuffer(c.device, &d);
    if (b) wgpuBufferRelease(b);
}

static void texture(uint32_t w, uint32_t mips, uint32_t samples, WGPUTextureFormat f, WGPUTextureUsage u)
{
    WGPUTextureDescriptor d = {
        .usage = u, .dimension = WGPUTextureDimension_2D, .size = {w, 8, 1},
        .format = f, .mipLevelCount = mips, .sampleCount = samples,
    };
    wgpuTextureRelease(wgpuDeviceCreateTexture(c.device, &d));
}

static void sampler(float lmin, float lmax, uint16_t aniso)
{
    WGPUSamplerDescriptor d = {
        .addressModeU = WGPUAddressMode_ClampToEdge, .addressModeV = WGPUAddressMode_ClampToEdge,
        .addressModeW = WGPUAddressMode_ClampToEdge, .magFilter = WGPUFilterMode_Nearest,
        .minFilter = WGPUFilterMode_Nearest, .mipmapFilter = WGPUMipmapFilterMode_Nearest,
        .lodMinClamp = lmin, .lodMaxClamp = lmax, .maxAnisotropy = aniso,
    };
    wgpuSamplerRelease(wgpuDeviceCreateSampler(c.device, &d));
}

static void good_buffer(void) { buffer(WGPUBufferUsage_Storage, 64, 0); }
static void map_read_write(void) { buffer(WGPUBufferUsage_MapRead | WGPUBufferUsage_MapWrite, 64, 0); }
static void mapped_size_6(void) { buffer(WGPUBufferUsage_CopySrc, 6, 1); }
static void map_read_storage(void) { buffer(WGPUBufferUsage_MapRead | WGPUBufferUsage_Storage, 64, 0); }
static void huge_buffer(void) { buffer(WGPUBufferUsage_Storage, (uint64_t)1 << 52, 0); }
static void zero_width(void) { texture(0, 1, 1, WGPUTextureFormat_RGBA8Unorm, WGPUTextureUsage_TextureBinding); }
static void too_many_mips(void) { texture(8, 10, 1, WGPUTextureFormat_RGBA8Unorm, WGPUTextureUsage_TextureBinding); }
static void three_samples(void) { texture(8, 1, 3, WGPUTextureFormat_RGBA8Unorm, WGPUTextureUsage_RenderAttachment); }
static void depth_storage(void) { texture(8, 1, 1, WGPUTextureFormat_Depth32Float, WGPUTextureUsage_StorageBinding); }
static void no_usage(void) { texture(8, 1, 1, WGPUTextureFormat_RGBA8Unorm, WGPUTextureUsage_None); }
static void lod_inverted(void) { sampler(5.0f, 1.0f, 1); }
static void aniso_nearest(void) { sampler(0.0f, 32.0f, 4); }

static void duplicate_binding(void)
{
    WGPUBindGroupLayoutEntry e[2] = {
        {.binding = 3, .visibility = WGPUShaderStage_Compute, .buffer = {.type = WGPUBufferBindingType_Uniform}},
        {.binding = 3, .visibility = WGPUShaderStage_Compute, .buffer = {.type = WGPUBufferBindingType_Storage}},
    };
    WGPUBindGroupLayoutDescriptor d = {.entryCount = 2, .entries = e};
    wgpuBindGroupLayoutRelease(wgpuDeviceCreateBindGroupLayout(c.device, &d));
}

static WGPUBindGroupLayout uniform_layout(void)
{
    WGPUBindGroupLayoutEntry e = {.binding = 0, .visibility = WGPUShaderStage_Compute,
                                  .buffer = {.type = WGPUBufferBindingType_Uniform}};
    WGPUBindGroupLayoutDescriptor d = {.entryCount = 1, .entries = &e};
    return wgpuDeviceCreateBindGroupLayout(c.device, &d);
}

static void bind_group_missing_entry(void)
{
    WGPUBindGroupLayout l = uniform_layout();
    WGPUBindGroupDescriptor d = {.layout = l, .entryCount = 0, .entries = NULL};
    wgpuBindGroupRelease(wgpuDeviceCreateBindGroup(c.device, &d));
    wgpuBindGroupLayoutRelease(l);
}

static void bind_group_wrong_usage(void)
{
    WGPUBindGroupLayout l = uniform_layout();
    WGPUBuffer b = make_buffer(&c, WGPUBufferUsage_Storage, 64);
    WGPUBindGroupEntry e = {.binding = 0, .buffer = b, .size = WGPU_WHOLE_SIZE};
    WGPUBindGroupDescriptor d = {.layout = l, .entryCount = 1, .entries = &e};
    wgpuBindGroupRelease(wgpuDeviceCreateBindGroup(c.device, &d));
    wgpuBufferRelease(b);
    wgpuBindGroupLayoutRelease(l);
}

static void shader_syntax(void)
{
    wgpuShaderModuleRelease(make_shader(&c, "fn main( {"));
}

static void missing_entry_point(void)
{
    wgpuComputePipelineRelease(make_compute(&c, "@compute @workgroup_size(1) fn main() {}", "nope"));
}

static void workgroup_too_large(void)
{
    wgpuComputePipelineRelease(make_compute(&c, "@compute @workgroup_size(1024, 1024) fn main() {}", "main"));
}

static void fragment_format_mismatch(void)
{
    struct pipe_opts o = {.format = WGPUTextureFormat_R32Uint};
    wgpuRenderPipelineRelease(make_render(&c,
        "@vertex fn vs() -> @builtin(position) vec4f { return vec4f(0.0); }\n"
        "@fragment fn fs() -> @location(0) vec4f { return vec4f(1.0); }\n", &o));
}

static void finish_twice(void)
{
    WGPUCommandEncoder e = encoder(&c);
    wgpuCommandBufferRelease(wgpuCommandEncoderFinish(e, NULL));
    wgpuCommandBufferRelease(wgpuCommandEncoderFinish(e, NULL));
    wgpuCommandEncoderRelease(e);
}

static void submit_twice(void)
{
    WGPUCommandEncoder e = encoder(&c);
    WGPUCommandBuffer cb = wgpuCommandEncoderFinish(e, NULL);
    wgpuQueueSubmit(c.queue, 1, &cb);
    wgpuQueueSubmit(c.queue, 1, &cb);
    wgpuCommandBufferRelease(cb);
    wgpuCommandEncoderRelease(e);
}

static void dispatch_without_pipeline(void)
{
    WGPUCommandEncoder e = encoder(&c);
    WGPUComputePassEncoder p = wgpuCommandEncoderBeginComputePass(e, NULL);
    wgpuComputePassEncoderDispatchWorkgroups(p, 1, 1, 1);
    wgpuComputePassEncoderEnd(p);
    wgpuComputePassEncoderRelease(p);
    wgpuCommandBufferRelease(wgpuCommandEncoderFinish(e, NULL));
    wgpuCommandEncoderRelease(e);
}

static void pass_without_attachments(void)
{
    WGPUCommandEncoder e = encoder(&c);
    WGPURenderPassDescriptor d = {.colorAttachmentCount = 0};
    WGPURenderPassEncoder p = wgpuCommandEncoderBeginRenderPass(e, &d);
    wgpuRenderPassEncoderEnd(p);
    wgpuRenderPassEncoderRelease(p);
    wgpuCommandBufferRelease(wgpuCommandEncoderFinish(e, NULL));
    wgpuCommandEncoderRelease(e);
}

static void pass_not_ended(void)
{
    WGPUCommandEncoder e = encoder(&c);
    WGPUComputePassEncoder p = wgpuCommandEncoderBeginComputePass(e, NULL);
    wgpuCommandBufferRelease(wgpuCommandEncoderFinish(e, NULL));
    wgpuComputePassEncoderRelease(p);
    wgpuCommandEncoderRelease(e);
}

static void submit_destroyed_buffer(void)
{
    WGPUBuffer a = make_buffer(&c, WGPUBufferUsage_CopySrc, 16);
    WGPUBuffer b = make_buffer(&c, WGPUBufferUsage_CopyDst, 16);
    WGPUCommandEncoder e = encoder(&c);
    wgpuCommandEncoderCopyBufferToBuffer(e, a, 0, b, 0, 16);
    WGPUCommandBuffer cb = wgpuCommandEncoderFinish(e, NULL);
    wgpuBufferDestroy(a);
    wgpuQueueSubmit(c.queue, 1, &cb);
    wgpuCommandBufferRelease(cb);
    wgpuCommandEncoderRelease(e);
    wgpuBufferRelease(a);
    wgpuBufferRelease(b);
}

static void write_destroyed_buffer(void)
{
    WGPUBuffer b = make_buffer(&c, WGPUBufferUsage_CopyDst, 16);
    wgpuBufferDestroy(b);
    uint32_t x[4] = {0};
    wgpuQueueWriteBuffer(c.queue, b, 0, x, sizeof x);
    wgpuBufferRelease(b);
}

static void depth_aspect_of_color(void)
{
    WGPUTexture t = make_texture(&c, WGPUTextureFormat_RGBA8Unorm, 4, 4, 1, 1, 1, WGPUTextureUsage_TextureBinding);
    WGPUTextureViewDescriptor d = {
        .format = WGPUTextureFormat_Undefined, .dimension = WGPUTextureViewDimension_2D,
        .mipLevelCount = 1, .arrayLayerCount = 1, .aspect = WGPUTextureAspect_DepthOnly,
    };
    wgpuTextureViewRelease(wgpuTextureCreateView(t, &d));
    wgpuTextureRelease(t);
}

static void query_set_too_big(void)
{
    WGPUQuerySetDescriptor d = {.type = WGPUQueryType_Occlusion, .count = 100000};
    wgpuQuerySetRelease(wgpuDeviceCreateQuerySet(c.device, &d));
}

static void pipeline_layout_too_many_groups(void)
{
    WGPUBindGroupLayout l = uniform_layout();
    WGPUBindGroupLayout ls[9] = {l, l, l, l, l, l, l, l, l};
    WGPUPipelineLayoutDescriptor d = {.bindGroupLayoutCount = 9, .bindGroupLayouts = ls};
    wgpuPipelineLayoutRelease(wgpuDeviceCreatePipelineLayout(c.device, &d));
    wgpuBindGroupLayoutRelease(l);
}

int main(void)
{
    ctx_init(&c);
    struct { const char *name; void (*fn)(void); } cases[] = {
        {"valid storage buffer", good_buffer},
        {"buffer MapRead|MapWrite", map_read_write},
        {"buffer MapRead|Storage", map_read_storage},
        {"mappedAtCreation size 6", mapped_size_6},
        {"buffer of 2^52 bytes", huge_buffer},
        {"texture width 0", zero_width},
        {"texture 10 mips on 8x8", too_many_mips},
        {"texture 3 samples", three_samples},
        {"Depth32Float storage texture", depth_storage},
        {"texture without usage", no_usage},
        {"sampler lodMin > lodMax", lod_inverted},
        {"sampler anisotropy with nearest", aniso_nearest},
        {"layout duplicate binding", duplicate_binding},
        {"bind group missing entry", bind_group_missing_entry},
        {"bind group wrong buffer usage", bind_group_wrong_usage},
        {"pipeline layout 9 groups", pipeline_layout_too_many_groups},
        {"shader syntax error", shader_syntax},
        {"missing entry point", missing_entry_point},
        {"workgroup 1024x1024", workgroup_too_large},
        {"fragment output vs R32Uint", fragment_format_mismatch},
        {"encoder finished twice", finish_twice},
        {"command buffer submitted twice", submit_twice},
        {"dispatch without pipeline", dispatch_without_pipeline},
        {"render pass without attachments", pass_without_attachments},
        {"finish with an open pass", pass_not_ended},
        {"submit using a destroyed buffer", submit_destroyed_buffer},
        {"write to a destroyed buffer", write_destroyed_buffer},
        {"depth aspect view of a colour texture", depth_aspect_of_color},
        {"occlusion query set of 100000", query_set_too_big},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        WGPUErrorType t = catch_any(cases[i].fn);
        say("%s: %s", cases[i].name, error_type_name(t));
        CHECK(i == 0 ? t == WGPUErrorType_NoError : t != WGPUErrorType_NoError);
    }
    queue_wait(&c);
    say("uncaptured: %d", events.uncaptured);
    CHECK(events.uncaptured == 0);
    ctx_release(&c);
    return finish();
}
