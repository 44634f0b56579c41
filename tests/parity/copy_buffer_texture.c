/* copyBufferToTexture and copyTextureToBuffer: a 2-layer RGBA8 texture
 * filled from a buffer with 256-byte rows and rowsPerImage padding at a
 * non-zero origin, read back with other offsets, and the errors for an
 * unaligned bytesPerRow and a copy past the texture's edge. */
#include "util.h"

#define TW 8
#define TH 6

int main(void)
{
    struct ctx c;
    ctx_init(&c);

    WGPUTexture tex = make_texture(&c, WGPUTextureFormat_RGBA8Unorm, TW, TH, 2, 1, 1,
                                   WGPUTextureUsage_CopyDst | WGPUTextureUsage_CopySrc);
    /* Source: 4x3 texels per layer, 2 layers, rows of 256 bytes, 4 rows per
     * image (one padding row), starting at byte 512. */
    static uint8_t src[512 + 2 * 4 * 256];
    memset(src, 0xEE, sizeof src);
    for (int l = 0; l < 2; l++)
        for (int y = 0; y < 3; y++)
            for (int x = 0; x < 4; x++) {
                uint8_t *p = src + 512 + l * 1024 + y * 256 + x * 4;
                p[0] = (uint8_t)(x * 10); p[1] = (uint8_t)(y * 10); p[2] = (uint8_t)(l * 100); p[3] = 255;
            }
    WGPUBuffer sb = make_buffer_data(&c, WGPUBufferUsage_CopySrc, src, sizeof src);

    WGPUCommandEncoder enc = encoder(&c);
    WGPUTexelCopyBufferInfo bsrc = {.layout = {.offset = 512, .bytesPerRow = 256, .rowsPerImage = 4}, .buffer = sb};
    WGPUTexelCopyTextureInfo tdst = {.texture = tex, .mipLevel = 0, .origin = {3, 2, 0}, .aspect = WGPUTextureAspect_All};
    WGPUExtent3D size = {4, 3, 2};
    wgpuCommandEncoderCopyBufferToTexture(enc, &bsrc, &tdst, &size);
    submit(&c, enc);

    /* Read the whole of both layers back: rows of 256 bytes, 6 rows each,
     * starting at byte 256 of the destination. */
    WGPUBuffer db = make_buffer(&c, WGPUBufferUsage_CopyDst | WGPUBufferUsage_CopySrc, 256 + 2 * TH * 256);
    enc = encoder(&c);
    WGPUTexelCopyTextureInfo tsrc = {.texture = tex, .aspect = WGPUTextureAspect_All};
    WGPUTexelCopyBufferInfo bdst = {.layout = {.offset = 256, .bytesPerRow = 256, .rowsPerImage = TH}, .buffer = db};
    WGPUExtent3D all = {TW, TH, 2};
    wgpuCommandEncoderCopyTextureToBuffer(enc, &tsrc, &bdst, &all);
    submit(&c, enc);
    static uint8_t out[256 + 2 * TH * 256];
    CHECK(read_buffer(&c, db, 0, out, sizeof out));

    int bad = 0, written = 0;
    for (int l = 0; l < 2; l++)
        for (int y = 0; y < TH; y++)
            for (int x = 0; x < TW; x++) {
                const uint8_t *p = out + 256 + l * TH * 256 + y * 256 + x * 4;
                int inside = x >= 3 && x < 7 && y >= 2 && y < 5;
                uint8_t want[4] = {0, 0, 0, 0};
                if (inside) {
                    want[0] = (uint8_t)((x - 3) * 10); want[1] = (uint8_t)((y - 2) * 10);
                    want[2] = (uint8_t)(l * 100); want[3] = 255;
                    written++;
                }
                bad += memcmp(p, want, 4) != 0;
            }
    CHECK(bad == 0 && written == 24);
    say("texels written %d mismatches %d", written, bad);
    say_rgba("layer 1 (6,4)", out + 256 + TH * 256 + 4 * 256 + 6 * 4);
    say("fnv1a %08x", fnv1a(out, sizeof out));

    push_scope(&c, WGPUErrorFilter_Validation);
    enc = encoder(&c);
    WGPUTexelCopyBufferInfo badrow = {.layout = {.offset = 0, .bytesPerRow = 100, .rowsPerImage = 3}, .buffer = sb};
    WGPUExtent3D one = {4, 3, 1};
    tdst.origin = (WGPUOrigin3D){0, 0, 0};
    wgpuCommandEncoderCopyBufferToTexture(enc, &badrow, &tdst, &one);
    WGPUCommandBuffer cb = wgpuCommandEncoderFinish(enc, NULL);
    wgpuCommandBufferRelease(cb);
    wgpuCommandEncoderRelease(enc);
    say("bytesPerRow 100: %s", error_type_name(pop_scope(&c)));

    push_scope(&c, WGPUErrorFilter_Validation);
    enc = encoder(&c);
    tdst.origin = (WGPUOrigin3D){6, 0, 0};
    wgpuCommandEncoderCopyBufferToTexture(enc, &bsrc, &tdst, &one);
    cb = wgpuCommandEncoderFinish(enc, NULL);
    wgpuCommandBufferRelease(cb);
    wgpuCommandEncoderRelease(enc);
    say("copy past the edge: %s", error_type_name(pop_scope(&c)));

    wgpuBufferRelease(sb);
    wgpuBufferRelease(db);
    wgpuTextureRelease(tex);
    ctx_release(&c);
    return finish();
}
