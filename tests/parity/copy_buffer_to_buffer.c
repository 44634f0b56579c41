/* copyBufferToBuffer: several copies with offsets in one encoder, a chain
 * A -> B -> C across two submits, and the validation errors for unaligned
 * size, out-of-range source, and a source without CopySrc. */
#include "util.h"

static WGPUErrorType copy_error(struct ctx *c, WGPUBuffer src, uint64_t so, WGPUBuffer dst,
                                uint64_t dof, uint64_t size)
{
    push_scope(c, WGPUErrorFilter_Validation);
    WGPUCommandEncoder enc = encoder(c);
    wgpuCommandEncoderCopyBufferToBuffer(enc, src, so, dst, dof, size);
    WGPUCommandBuffer cb = wgpuCommandEncoderFinish(enc, NULL);
    wgpuCommandBufferRelease(cb);
    wgpuCommandEncoderRelease(enc);
    return pop_scope(c);
}

int main(void)
{
    struct ctx c;
    ctx_init(&c);

    uint32_t a[64];
    for (int i = 0; i < 64; i++)
        a[i] = 0xA0000000u + (uint32_t)i;
    WGPUBufferUsage u = WGPUBufferUsage_CopySrc | WGPUBufferUsage_CopyDst;
    WGPUBuffer A = make_buffer_data(&c, u, a, sizeof a);
    WGPUBuffer B = make_buffer(&c, u, sizeof a);
    WGPUBuffer C = make_buffer(&c, u, sizeof a);

    WGPUCommandEncoder enc = encoder(&c);
    wgpuCommandEncoderCopyBufferToBuffer(enc, A, 0, B, 128, 64);    /* a[0..16) -> B[32..48) */
    wgpuCommandEncoderCopyBufferToBuffer(enc, A, 192, B, 0, 16);    /* a[48..52) -> B[0..4) */
    wgpuCommandEncoderCopyBufferToBuffer(enc, A, 252, B, 252, 4);   /* last word */
    submit(&c, enc);
    enc = encoder(&c);
    wgpuCommandEncoderCopyBufferToBuffer(enc, B, 0, C, 0, 256);
    wgpuCommandEncoderCopyBufferToBuffer(enc, A, 64, C, 64, 8);     /* a[16..18) -> C[16..18) */
    submit(&c, enc);

    uint32_t b[64], cc[64];
    CHECK(read_buffer(&c, B, 0, b, sizeof b));
    CHECK(read_buffer(&c, C, 0, cc, sizeof cc));
    say("B[0] %08x B[3] %08x B[4] %08x B[32] %08x B[47] %08x B[48] %08x B[63] %08x",
        b[0], b[3], b[4], b[32], b[47], b[48], b[63]);
    say("C[0] %08x C[16] %08x C[17] %08x C[18] %08x C[32] %08x", cc[0], cc[16], cc[17], cc[18], cc[32]);
    CHECK(b[0] == a[48] && b[4] == 0 && b[32] == a[0] && b[47] == a[15] && b[63] == a[63]);
    CHECK(cc[16] == a[16] && cc[17] == a[17] && cc[18] == 0 && cc[32] == a[0]);

    WGPUBuffer nosrc = make_buffer(&c, WGPUBufferUsage_CopyDst, 64);
    say("unaligned size: %s", error_type_name(copy_error(&c, A, 0, B, 0, 6)));
    say("unaligned offset: %s", error_type_name(copy_error(&c, A, 2, B, 0, 8)));
    say("source out of range: %s", error_type_name(copy_error(&c, A, 240, B, 0, 32)));
    say("source without CopySrc: %s", error_type_name(copy_error(&c, nosrc, 0, B, 0, 16)));
    say("same buffer: %s", error_type_name(copy_error(&c, A, 0, A, 128, 16)));
    say("valid copy: %s", error_type_name(copy_error(&c, A, 0, B, 0, 16)));

    wgpuBufferRelease(nosrc);
    wgpuBufferRelease(A);
    wgpuBufferRelease(B);
    wgpuBufferRelease(C);
    ctx_release(&c);
    return finish();
}
