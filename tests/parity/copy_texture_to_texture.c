/* copyTextureToTexture: a sub-rectangle between two textures, a copy from
 * mip level 0 into mip level 1 of another texture, and the error for
 * mismatched formats. */
#include "util.h"

int main(void)
{
    struct ctx c;
    ctx_init(&c);

    WGPUTextureUsage u = WGPUTextureUsage_CopyDst | WGPUTextureUsage_CopySrc;
    WGPUTexture a = make_texture(&c, WGPUTextureFormat_RGBA8Unorm, 8, 8, 1, 1, 1, u);
    WGPUTexture b = make_texture(&c, WGPUTextureFormat_RGBA8Unorm, 16, 16, 1, 2, 1, u);
    WGPUTexture f = make_texture(&c, WGPUTextureFormat_R32Float, 8, 8, 1, 1, 1, u);

    uint8_t data[8 * 8 * 4];
    for (int i = 0; i < 64; i++) {
        data[4 * i] = (uint8_t)i; data[4 * i + 1] = (uint8_t)(255 - i);
        data[4 * i + 2] = (uint8_t)(i * 3); data[4 * i + 3] = 255;
    }
    WGPUTexelCopyTextureInfo dst = {.texture = a, .aspect = WGPUTextureAspect_All};
    WGPUTexelCopyBufferLayout layout = {.bytesPerRow = 32, .rowsPerImage = 8};
    WGPUExtent3D full = {8, 8, 1};
    wgpuQueueWriteTexture(c.queue, &dst, data, sizeof data, &layout, &full);

    WGPUCommandEncoder enc = encoder(&c);
    WGPUTexelCopyTextureInfo s = {.texture = a, .origin = {2, 2, 0}, .aspect = WGPUTextureAspect_All};
    WGPUTexelCopyTextureInfo d = {.texture = b, .mipLevel = 0, .origin = {10, 12, 0}, .aspect = WGPUTextureAspect_All};
    WGPUExtent3D rect = {4, 3, 1};
    wgpuCommandEncoderCopyTextureToTexture(enc, &s, &d, &rect);
    WGPUTexelCopyTextureInfo s2 = {.texture = a, .aspect = WGPUTextureAspect_All};
    WGPUTexelCopyTextureInfo d2 = {.texture = b, .mipLevel = 1, .aspect = WGPUTextureAspect_All};
    wgpuCommandEncoderCopyTextureToTexture(enc, &s2, &d2, &full);
    submit(&c, enc);

    static uint8_t l0[16 * 16 * 4], l1[8 * 8 * 4];
    CHECK(read_texture(&c, b, 0, 0, 16, 16, 4, l0));
    CHECK(read_texture(&c, b, 1, 0, 8, 8, 4, l1));
    int bad = 0, nonzero = 0;
    for (int y = 0; y < 16; y++)
        for (int x = 0; x < 16; x++) {
            const uint8_t *p = l0 + 4 * (y * 16 + x);
            int inside = x >= 10 && x < 14 && y >= 12 && y < 15;
            if (inside)
                bad += memcmp(p, data + 4 * ((y - 12 + 2) * 8 + (x - 10 + 2)), 4) != 0;
            else
                bad += p[0] || p[1] || p[2] || p[3];
            nonzero += p[3] != 0;
        }
    CHECK(bad == 0 && nonzero == 12);
    CHECK(memcmp(l1, data, sizeof data) == 0);
    say("level 0: %d texels copied, mismatches %d", nonzero, bad);
    say_rgba("level 0 (10,12)", l0 + 4 * (12 * 16 + 10));
    say("level 1 equals source: %s", memcmp(l1, data, sizeof data) == 0 ? "yes" : "no");

    push_scope(&c, WGPUErrorFilter_Validation);
    enc = encoder(&c);
    WGPUTexelCopyTextureInfo fd = {.texture = f, .aspect = WGPUTextureAspect_All};
    wgpuCommandEncoderCopyTextureToTexture(enc, &s2, &fd, &full);
    WGPUCommandBuffer cb = wgpuCommandEncoderFinish(enc, NULL);
    wgpuCommandBufferRelease(cb);
    wgpuCommandEncoderRelease(enc);
    say("RGBA8Unorm to R32Float: %s", error_type_name(pop_scope(&c)));

    wgpuTextureRelease(a);
    wgpuTextureRelease(b);
    wgpuTextureRelease(f);
    ctx_release(&c);
    return finish();
}
