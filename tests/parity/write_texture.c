/* writeTexture: tightly packed rows (bytesPerRow need not be 256-aligned
 * here), a data offset, a sub-rectangle at an origin, a write into layer 1
 * of an array texture, and the error for a too-small data size. */
#include "util.h"

int main(void)
{
    struct ctx c;
    ctx_init(&c);

    WGPUTexture t = make_texture(&c, WGPUTextureFormat_RGBA8Unorm, 5, 4, 2, 1, 1,
                                 WGPUTextureUsage_CopyDst | WGPUTextureUsage_CopySrc);
    uint8_t data[8 + 5 * 4 * 4];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 7 + 1);

    /* Whole layer 0: rows of 20 bytes, starting 8 bytes into the data. */
    WGPUTexelCopyTextureInfo dst = {.texture = t, .aspect = WGPUTextureAspect_All};
    WGPUTexelCopyBufferLayout layout = {.offset = 8, .bytesPerRow = 20, .rowsPerImage = 4};
    WGPUExtent3D full = {5, 4, 1};
    wgpuQueueWriteTexture(c.queue, &dst, data, sizeof data, &layout, &full);
    /* 2x2 at (3,2) of layer 1, rows of 8 bytes. */
    uint8_t small[16];
    memset(small, 0xC3, sizeof small);
    WGPUTexelCopyTextureInfo dst1 = {.texture = t, .origin = {3, 2, 1}, .aspect = WGPUTextureAspect_All};
    WGPUTexelCopyBufferLayout l1 = {.offset = 0, .bytesPerRow = 8, .rowsPerImage = 2};
    WGPUExtent3D two = {2, 2, 1};
    wgpuQueueWriteTexture(c.queue, &dst1, small, sizeof small, &l1, &two);

    uint8_t a[5 * 4 * 4], b[5 * 4 * 4];
    CHECK(read_texture(&c, t, 0, 0, 5, 4, 4, a));
    CHECK(read_texture(&c, t, 0, 1, 5, 4, 4, b));
    int same = memcmp(a, data + 8, sizeof a) == 0;
    int written = 0;
    for (int i = 0; i < 20; i++)
        written += b[4 * i] == 0xC3;
    CHECK(same && written == 4);
    CHECK(b[4 * (2 * 5 + 3)] == 0xC3 && b[4 * (3 * 5 + 4)] == 0xC3 && b[0] == 0);
    say("layer 0 matches data: %s", same ? "yes" : "no");
    say("layer 1: %d texels written, (3,2) %02x (2,2) %02x", written, b[4 * (2 * 5 + 3)], b[4 * (2 * 5 + 2)]);
    say("fnv1a %08x %08x", fnv1a(a, sizeof a), fnv1a(b, sizeof b));

    push_scope(&c, WGPUErrorFilter_Validation);
    wgpuQueueWriteTexture(c.queue, &dst, data, 40, &layout, &full);
    say("data too small: %s", error_type_name(pop_scope(&c)));
    push_scope(&c, WGPUErrorFilter_Validation);
    WGPUExtent3D too_big = {6, 4, 1};
    WGPUTexelCopyBufferLayout wide = {.offset = 0, .bytesPerRow = 24, .rowsPerImage = 4};
    static uint8_t big[24 * 4];
    wgpuQueueWriteTexture(c.queue, &dst, big, sizeof big, &wide, &too_big);
    say("write past the edge: %s", error_type_name(pop_scope(&c)));

    wgpuTextureRelease(t);
    ctx_release(&c);
    return finish();
}
