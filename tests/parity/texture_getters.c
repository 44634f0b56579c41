/* Texture and query-set getters: width, height, depthOrArrayLayers, mip
 * level count, sample count, dimension, format (printed by name, since the
 * two ABIs number formats differently) and usage. */
#include "util.h"

static const char *dim_name(WGPUTextureDimension d)
{
    switch (d) {
    case WGPUTextureDimension_1D: return "1D";
    case WGPUTextureDimension_2D: return "2D";
    case WGPUTextureDimension_3D: return "3D";
    default: return "?";
    }
}

int main(void)
{
    struct ctx c;
    ctx_init(&c);

    struct { WGPUTextureDimension dim; WGPUExtent3D size; WGPUTextureFormat format;
             uint32_t mips, samples; WGPUTextureUsage usage; } cases[] = {
        {WGPUTextureDimension_2D, {64, 32, 1}, WGPUTextureFormat_RGBA8Unorm, 7, 1,
         WGPUTextureUsage_TextureBinding | WGPUTextureUsage_CopyDst},
        {WGPUTextureDimension_2D, {16, 16, 6}, WGPUTextureFormat_RGBA8UnormSrgb, 1, 1,
         WGPUTextureUsage_TextureBinding},
        {WGPUTextureDimension_2D, {8, 8, 1}, WGPUTextureFormat_BGRA8Unorm, 1, 4,
         WGPUTextureUsage_RenderAttachment},
        {WGPUTextureDimension_3D, {8, 4, 2}, WGPUTextureFormat_R32Float, 1, 1,
         WGPUTextureUsage_StorageBinding | WGPUTextureUsage_CopySrc},
        {WGPUTextureDimension_1D, {128, 1, 1}, WGPUTextureFormat_RG8Unorm, 1, 1,
         WGPUTextureUsage_CopySrc | WGPUTextureUsage_CopyDst},
        {WGPUTextureDimension_2D, {20, 10, 1}, WGPUTextureFormat_Depth24PlusStencil8, 1, 1,
         WGPUTextureUsage_RenderAttachment},
        {WGPUTextureDimension_2D, {4, 4, 1}, WGPUTextureFormat_RGBA16Float, 3, 1,
         WGPUTextureUsage_RenderAttachment | WGPUTextureUsage_TextureBinding},
        {WGPUTextureDimension_2D, {4, 4, 1}, WGPUTextureFormat_Depth32Float, 1, 1,
         WGPUTextureUsage_TextureBinding},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        WGPUTextureDescriptor d = {
            .usage = cases[i].usage, .dimension = cases[i].dim, .size = cases[i].size,
            .format = cases[i].format, .mipLevelCount = cases[i].mips, .sampleCount = cases[i].samples,
        };
        push_scope(&c, WGPUErrorFilter_Validation);
        WGPUTexture t = wgpuDeviceCreateTexture(c.device, &d);
        WGPUErrorType err = pop_scope(&c);
        say("texture %zu (%s): %s %ux%ux%u mips %u samples %u format %s usage 0x%llx", i,
            error_type_name(err), dim_name(wgpuTextureGetDimension(t)), wgpuTextureGetWidth(t),
            wgpuTextureGetHeight(t), wgpuTextureGetDepthOrArrayLayers(t), wgpuTextureGetMipLevelCount(t),
            wgpuTextureGetSampleCount(t), format_name(wgpuTextureGetFormat(t)),
            (unsigned long long)wgpuTextureGetUsage(t));
        CHECK(err == WGPUErrorType_NoError);
        CHECK(wgpuTextureGetFormat(t) == cases[i].format && wgpuTextureGetWidth(t) == cases[i].size.width);
        wgpuTextureRelease(t);
    }

    WGPUQuerySetDescriptor qd = {.type = WGPUQueryType_Occlusion, .count = 17};
    WGPUQuerySet qs = wgpuDeviceCreateQuerySet(c.device, &qd);
    say("query set: count %u type %s", wgpuQuerySetGetCount(qs),
        wgpuQuerySetGetType(qs) == WGPUQueryType_Occlusion ? "Occlusion" : "other");
    wgpuQuerySetRelease(qs);

    ctx_release(&c);
    return finish();
}
