/* MapWrite: write through GetMappedRange and WriteMappedRange, unmap, copy
 * into a MapRead buffer and read it back with GetConstMappedRange and
 * ReadMappedRange; then map the same buffer again (its contents persist). */
#include "util.h"

int main(void)
{
    struct ctx c;
    ctx_init(&c);

    WGPUBuffer w = make_buffer(&c, WGPUBufferUsage_MapWrite | WGPUBufferUsage_CopySrc, 256);
    WGPUBuffer r = make_buffer(&c, WGPUBufferUsage_MapRead | WGPUBufferUsage_CopyDst, 256);

    say("map for writing: %s", map_status_name(map_wait(&c, w, WGPUMapMode_Write, 0, 256)));
    uint32_t *p = wgpuBufferGetMappedRange(w, 0, 128);
    CHECK(p != NULL);
    int zero = 1;
    for (int i = 0; p && i < 32; i++) {
        zero &= p[i] == 0;
        p[i] = 0xC0DE0000u + (uint32_t)i;
    }
    say("new buffer reads as zero: %s", zero ? "yes" : "no");
    uint32_t tail[32];
    for (int i = 0; i < 32; i++)
        tail[i] = 0xFEED0000u + (uint32_t)i;
    WGPUStatus st = wgpuBufferWriteMappedRange(w, 128, tail, sizeof tail);
    say("WriteMappedRange [128,256): %s", st == WGPUStatus_Success ? "Success" : "Error");
    st = wgpuBufferWriteMappedRange(w, 250, tail, 8);
    say("WriteMappedRange [250,258): %s", st == WGPUStatus_Success ? "Success" : "Error");
    wgpuBufferUnmap(w);

    WGPUCommandEncoder e = encoder(&c);
    wgpuCommandEncoderCopyBufferToBuffer(e, w, 0, r, 0, 256);
    submit(&c, e);
    say("map for reading: %s", map_status_name(map_wait(&c, r, WGPUMapMode_Read, 0, 256)));
    const uint32_t *q = wgpuBufferGetConstMappedRange(r, 0, 256);
    CHECK(q != NULL);
    int bad = 0;
    for (int i = 0; q && i < 64; i++)
        bad += q[i] != (i < 32 ? 0xC0DE0000u + (uint32_t)i : 0xFEED0000u + (uint32_t)(i - 32));
    uint32_t two[2];
    st = wgpuBufferReadMappedRange(r, 128, two, 8);
    say("read back: mismatches %d, words 30..33 %08x %08x %08x %08x (the last two by ReadMappedRange)", bad, q ? q[30] : 0,
        q ? q[31] : 0, two[0], two[1]);
    CHECK(bad == 0 && st == WGPUStatus_Success && two[0] == 0xFEED0000u && two[1] == 0xFEED0001u);
    wgpuBufferUnmap(r);

    /* Mapping the write buffer again shows what was written before. */
    say("map for writing again: %s", map_status_name(map_wait(&c, w, WGPUMapMode_Write, 64, 64)));
    const uint32_t *again = wgpuBufferGetConstMappedRange(w, 64, 64);
    say("contents kept: %s", again && again[0] == 0xC0DE0010u ? "yes" : "no");
    wgpuBufferUnmap(w);

    wgpuBufferRelease(w);
    wgpuBufferRelease(r);
    ctx_release(&c);
    return finish();
}
