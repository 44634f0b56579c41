/* writeBuffer: overlapping writes land in call order, a write after a
 * submitted copy does not affect what the copy read, data is captured at the
 * call (the caller may reuse its memory at once), and misaligned or
 * out-of-range writes are validation errors. */
#include "util.h"

int main(void)
{
    struct ctx c;
    ctx_init(&c);

    WGPUBuffer b = make_buffer(&c, WGPUBufferUsage_CopyDst | WGPUBufferUsage_CopySrc, 64);
    WGPUBuffer snap = make_buffer(&c, WGPUBufferUsage_CopyDst | WGPUBufferUsage_CopySrc, 64);
    uint32_t tmp[16];

    for (int i = 0; i < 16; i++) tmp[i] = 0x11111111u;
    wgpuQueueWriteBuffer(c.queue, b, 0, tmp, 64);
    for (int i = 0; i < 16; i++) tmp[i] = 0x22222222u;   /* reuse the same memory */
    wgpuQueueWriteBuffer(c.queue, b, 16, tmp, 16);
    for (int i = 0; i < 16; i++) tmp[i] = 0x33333333u;
    wgpuQueueWriteBuffer(c.queue, b, 24, tmp, 16);

    WGPUCommandEncoder enc = encoder(&c);
    wgpuCommandEncoderCopyBufferToBuffer(enc, b, 0, snap, 0, 64);
    submit(&c, enc);
    for (int i = 0; i < 16; i++) tmp[i] = 0x44444444u;
    wgpuQueueWriteBuffer(c.queue, b, 0, tmp, 64);

    uint32_t o[16], s[16];
    CHECK(read_buffer(&c, b, 0, o, sizeof o));
    CHECK(read_buffer(&c, snap, 0, s, sizeof s));
    say("snapshot: %08x %08x %08x %08x %08x %08x %08x %08x", s[0], s[3], s[4], s[5], s[6], s[7], s[9], s[10]);
    say("after: %08x %08x", o[0], o[15]);
    CHECK(s[3] == 0x11111111u && s[4] == 0x22222222u && s[5] == 0x22222222u &&
          s[6] == 0x33333333u && s[9] == 0x33333333u && s[10] == 0x11111111u);
    CHECK(o[0] == 0x44444444u);

    /* Many small writes in one go. */
    for (uint32_t i = 0; i < 16; i++)
        wgpuQueueWriteBuffer(c.queue, b, i * 4, &i, 4);
    CHECK(read_buffer(&c, b, 0, o, sizeof o));
    int bad = 0;
    for (uint32_t i = 0; i < 16; i++)
        bad += o[i] != i;
    CHECK(bad == 0);
    say("16 word writes: mismatches %d", bad);

    struct { const char *name; uint64_t off; size_t size; } cases[3] = {
        {"offset 2", 2, 4}, {"size 6", 0, 6}, {"past the end", 60, 8},
    };
    for (int i = 0; i < 3; i++) {
        push_scope(&c, WGPUErrorFilter_Validation);
        wgpuQueueWriteBuffer(c.queue, b, cases[i].off, tmp, cases[i].size);
        say("%s: %s", cases[i].name, error_type_name(pop_scope(&c)));
    }
    WGPUBuffer nodst = make_buffer(&c, WGPUBufferUsage_CopySrc, 16);
    push_scope(&c, WGPUErrorFilter_Validation);
    wgpuQueueWriteBuffer(c.queue, nodst, 0, tmp, 16);
    say("buffer without CopyDst: %s", error_type_name(pop_scope(&c)));

    wgpuBufferRelease(nodst);
    wgpuBufferRelease(b);
    wgpuBufferRelease(snap);
    ctx_release(&c);
    return finish();
}
