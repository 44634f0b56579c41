/* Every texture format both ABIs name, created through each build: the
 * same formats must succeed or fail with the same error, which checks the
 * translation of every WGPUTextureFormat value between the standard's
 * numbering and Dawn's (RGBA8Unorm is 0x16 in one and 0x12 in the other).
 * Formats a feature gates (compressed, 16-bit norm, ...) fail the same way
 * on both unless the adapter has the feature and the device enabled it. */
#include "util.h"

#define F(name) {WGPUTextureFormat_##name, #name}

static const struct {
    WGPUTextureFormat format;
    const char *name;
} formats[] = {
    F(R8Unorm),
    F(R8Snorm),
    F(R8Uint),
    F(R8Sint),
    F(R16Unorm),
    F(R16Snorm),
    F(R16Uint),
    F(R16Sint),
    F(R16Float),
    F(RG8Unorm),
    F(RG8Snorm),
    F(RG8Uint),
    F(RG8Sint),
    F(R32Float),
    F(R32Uint),
    F(R32Sint),
    F(RG16Unorm),
    F(RG16Snorm),
    F(RG16Uint),
    F(RG16Sint),
    F(RG16Float),
    F(RGBA8Unorm),
    F(RGBA8UnormSrgb),
    F(RGBA8Snorm),
    F(RGBA8Uint),
    F(RGBA8Sint),
    F(BGRA8Unorm),
    F(BGRA8UnormSrgb),
    F(RGB10A2Uint),
    F(RGB10A2Unorm),
    F(RG11B10Ufloat),
    F(RGB9E5Ufloat),
    F(RG32Float),
    F(RG32Uint),
    F(RG32Sint),
    F(RGBA16Unorm),
    F(RGBA16Snorm),
    F(RGBA16Uint),
    F(RGBA16Sint),
    F(RGBA16Float),
    F(RGBA32Float),
    F(RGBA32Uint),
    F(RGBA32Sint),
    F(Stencil8),
    F(Depth16Unorm),
    F(Depth24Plus),
    F(Depth24PlusStencil8),
    F(Depth32Float),
    F(Depth32FloatStencil8),
    F(BC1RGBAUnorm),
    F(BC1RGBAUnormSrgb),
    F(BC2RGBAUnorm),
    F(BC2RGBAUnormSrgb),
    F(BC3RGBAUnorm),
    F(BC3RGBAUnormSrgb),
    F(BC4RUnorm),
    F(BC4RSnorm),
    F(BC5RGUnorm),
    F(BC5RGSnorm),
    F(BC6HRGBUfloat),
    F(BC6HRGBFloat),
    F(BC7RGBAUnorm),
    F(BC7RGBAUnormSrgb),
    F(ETC2RGB8Unorm),
    F(ETC2RGB8UnormSrgb),
    F(ETC2RGB8A1Unorm),
    F(ETC2RGB8A1UnormSrgb),
    F(ETC2RGBA8Unorm),
    F(ETC2RGBA8UnormSrgb),
    F(EACR11Unorm),
    F(EACR11Snorm),
    F(EACRG11Unorm),
    F(EACRG11Snorm),
    F(ASTC4x4Unorm),
    F(ASTC4x4UnormSrgb),
    F(ASTC5x4Unorm),
    F(ASTC5x4UnormSrgb),
    F(ASTC5x5Unorm),
    F(ASTC5x5UnormSrgb),
    F(ASTC6x5Unorm),
    F(ASTC6x5UnormSrgb),
    F(ASTC6x6Unorm),
    F(ASTC6x6UnormSrgb),
    F(ASTC8x5Unorm),
    F(ASTC8x5UnormSrgb),
    F(ASTC8x6Unorm),
    F(ASTC8x6UnormSrgb),
    F(ASTC8x8Unorm),
    F(ASTC8x8UnormSrgb),
    F(ASTC10x5Unorm),
    F(ASTC10x5UnormSrgb),
    F(ASTC10x6Unorm),
    F(ASTC10x6UnormSrgb),
    F(ASTC10x8Unorm),
    F(ASTC10x8UnormSrgb),
    F(ASTC10x10Unorm),
    F(ASTC10x10UnormSrgb),
    F(ASTC12x10Unorm),
    F(ASTC12x10UnormSrgb),
    F(ASTC12x12Unorm),
    F(ASTC12x12UnormSrgb),
};

static int is_depth_or_stencil(const char *name)
{
    return !strncmp(name, "Depth", 5) || !strncmp(name, "Stencil", 7);
}

int main(void)
{
    struct ctx c;
    ctx_init(&c);
    int created = 0;
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
        WGPUTextureDescriptor d = WGPU_TEXTURE_DESCRIPTOR_INIT;
        d.size = (WGPUExtent3D){4, 4, 1};
        d.format = formats[i].format;
        d.usage = WGPUTextureUsage_TextureBinding |
                  (is_depth_or_stencil(formats[i].name) ? WGPUTextureUsage_RenderAttachment
                                                         : WGPUTextureUsage_CopyDst);
        push_scope(&c, WGPUErrorFilter_Validation);
        WGPUTexture t = wgpuDeviceCreateTexture(c.device, &d);
        WGPUTextureView v = wgpuTextureCreateView(t, NULL);
        WGPUErrorType e = pop_scope(&c);
        int same = wgpuTextureGetFormat(t) == formats[i].format;
        CHECK(same);
        say("%s: %s", formats[i].name, error_type_name(e));
        if (e == WGPUErrorType_NoError)
            created++;
        wgpuTextureViewRelease(v);
        wgpuTextureRelease(t);
    }
    say("formats created: %d of %zu", created, sizeof formats / sizeof formats[0]);
    CHECK(created > 40);
    ctx_release(&c);
    return finish();
}
