/* clearBuffer: zeroes a middle range, the whole rest of a buffer
 * (WGPU_WHOLE_SIZE from an offset), and rejects unaligned ranges. */
#include "util.h"

int main(void)
{
    struct ctx c;
    ctx_init(&c);

    uint8_t data[256];
    memset(data, 0x5A, sizeof data);
    WGPUBuffer b = make_buffer_data(&c, WGPUBufferUsage_CopySrc, data, sizeof data);
    WGPUBuffer b2 = make_buffer_data(&c, WGPUBufferUsage_CopySrc, data, sizeof data);

    WGPUCommandEncoder enc = encoder(&c);
    wgpuCommandEncoderClearBuffer(enc, b, 64, 32);
    wgpuCommandEncoderClearBuffer(enc, b2, 200, WGPU_WHOLE_SIZE);
    submit(&c, enc);

    uint8_t out[256], out2[256];
    CHECK(read_buffer(&c, b, 0, out, sizeof out));
    CHECK(read_buffer(&c, b2, 0, out2, sizeof out2));
    int zeros = 0, zeros2 = 0, first = -1, first2 = -1;
    for (int i = 0; i < 256; i++) {
        if (!out[i]) { zeros++; if (first < 0) first = i; }
        if (!out2[i]) { zeros2++; if (first2 < 0) first2 = i; }
    }
    say("clear(64, 32): %d zero bytes from %d, byte 63 %02x byte 96 %02x", zeros, first, out[63], out[96]);
    say("clear(200, whole): %d zero bytes from %d", zeros2, first2);
    CHECK(zeros == 32 && first == 64 && zeros2 == 56 && first2 == 200);

    const uint64_t bad[3][2] = {{2, 8}, {0, 6}, {128, 256}};
    for (int i = 0; i < 3; i++) {
        push_scope(&c, WGPUErrorFilter_Validation);
        enc = encoder(&c);
        wgpuCommandEncoderClearBuffer(enc, b, bad[i][0], bad[i][1]);
        WGPUCommandBuffer cb = wgpuCommandEncoderFinish(enc, NULL);
        wgpuCommandBufferRelease(cb);
        wgpuCommandEncoderRelease(enc);
        say("clear(%llu, %llu): %s", (unsigned long long)bad[i][0], (unsigned long long)bad[i][1],
            error_type_name(pop_scope(&c)));
    }

    wgpuBufferRelease(b);
    wgpuBufferRelease(b2);
    ctx_release(&c);
    return finish();
}
