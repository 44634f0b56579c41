/* Mapping edge cases: mapAsync while mapped and while pending, unmap while
 * pending, out-of-range and misaligned map ranges, the wrong mode, a mapped
 * buffer used in a submit, and GetMappedRange / ReadMappedRange outside the
 * mapped range (NULL / Error). Prints each callback status and error type. */
#include "util.h"

static WGPUBuffer buf(struct ctx *c, WGPUBufferUsage u)
{
    return make_buffer(c, u, 64);
}

int main(void)
{
    struct ctx c;
    ctx_init(&c);
    WGPUBufferUsage R = WGPUBufferUsage_MapRead | WGPUBufferUsage_CopyDst;
    WGPUBufferUsage W = WGPUBufferUsage_MapWrite | WGPUBufferUsage_CopySrc;
    struct map_result m1, m2;

    /* Map while mapped. */
    WGPUBuffer b = buf(&c, R);
    uint32_t pattern[16];
    for (uint32_t i = 0; i < 16; i++) pattern[i] = i * 0x01010101u;
    wgpuQueueWriteBuffer(c.queue, b, 0, pattern, sizeof pattern);
    say("first map: %s", map_status_name(map_wait(&c, b, WGPUMapMode_Read, 0, 64)));
    push_scope(&c, WGPUErrorFilter_Validation);
    map_async(b, WGPUMapMode_Read, 0, 64, &m2);
    CHECK(wait_until(c.instance, &m2.done));
    WGPUErrorType t = pop_scope(&c);
    say("map while mapped: %s, error %s, state %s", map_status_name(m2.status), error_type_name(t),
        map_state_name(wgpuBufferGetMapState(b)));

    /* Ranges of a buffer mapped [0, 64) for reading. */
    const uint32_t *whole = wgpuBufferGetConstMappedRange(b, 0, 64);
    say("const range [0,64): %s, word 5 %08x", whole ? "ok" : "NULL", whole ? whole[5] : 0);
    say("const range [8,16): %s", wgpuBufferGetConstMappedRange(b, 8, 8) ? "ok" : "NULL");
    say("const range [60,68): %s", wgpuBufferGetConstMappedRange(b, 60, 8) ? "ok" : "NULL");
    say("const range [72,76): %s", wgpuBufferGetConstMappedRange(b, 72, 4) ? "ok" : "NULL");
    say("const range [4,8) (offset not a multiple of 8): %s", wgpuBufferGetConstMappedRange(b, 4, 4) ? "ok" : "NULL");
    say("const range [0,6) (size not a multiple of 4): %s", wgpuBufferGetConstMappedRange(b, 0, 6) ? "ok" : "NULL");
    say("const range whole from 32: %s", wgpuBufferGetConstMappedRange(b, 32, WGPU_WHOLE_MAP_SIZE) ? "ok" : "NULL");
    say("mutable range of a read mapping: %s", wgpuBufferGetMappedRange(b, 0, 64) ? "ok" : "NULL");
    uint32_t rd[2] = {0, 0};
    WGPUStatus st = wgpuBufferReadMappedRange(b, 8, rd, 8);
    say("ReadMappedRange [8,16): %s %08x %08x", st == WGPUStatus_Success ? "Success" : "Error", rd[0], rd[1]);
    st = wgpuBufferReadMappedRange(b, 64, rd, 8);
    say("ReadMappedRange [64,72): %s", st == WGPUStatus_Success ? "Success" : "Error");
    wgpuBufferUnmap(b);
    say("const range after unmap: %s", wgpuBufferGetConstMappedRange(b, 0, 64) ? "ok" : "NULL");
    wgpuBufferRelease(b);

    /* A sub-range mapping only exposes that range. */
    b = buf(&c, R);
    say("map [16,48): %s", map_status_name(map_wait(&c, b, WGPUMapMode_Read, 16, 32)));
    say("range [16,48): %s", wgpuBufferGetConstMappedRange(b, 16, 32) ? "ok" : "NULL");
    say("range [0,16): %s", wgpuBufferGetConstMappedRange(b, 0, 16) ? "ok" : "NULL");
    say("range [40,56): %s", wgpuBufferGetConstMappedRange(b, 40, 16) ? "ok" : "NULL");
    wgpuBufferUnmap(b);

    /* Map while pending: the second fails, the first succeeds. */
    push_scope(&c, WGPUErrorFilter_Validation);
    map_async(b, WGPUMapMode_Read, 0, 64, &m1);
    map_async(b, WGPUMapMode_Read, 0, 64, &m2);
    CHECK(wait_until(c.instance, &m1.done));
    CHECK(wait_until(c.instance, &m2.done));
    t = pop_scope(&c);
    say("map while pending: first %s, second %s, error %s", map_status_name(m1.status),
        map_status_name(m2.status), error_type_name(t));
    wgpuBufferUnmap(b);

    /* Unmap while pending. */
    map_async(b, WGPUMapMode_Read, 0, 64, &m1);
    wgpuBufferUnmap(b);
    say("state after unmap while pending: %s", map_state_name(wgpuBufferGetMapState(b)));
    CHECK(wait_until(c.instance, &m1.done));
    say("unmap while pending: %s", map_status_name(m1.status));
    CHECK(m1.status == WGPUMapAsyncStatus_Aborted);

    /* Bad map requests. */
    struct { const char *name; WGPUMapMode mode; size_t off, size; } bad[] = {
        {"range past the end", WGPUMapMode_Read, 32, 64},
        {"offset 4", WGPUMapMode_Read, 4, 8},
        {"size 6", WGPUMapMode_Read, 0, 6},
        {"Write on a MapRead buffer", WGPUMapMode_Write, 0, 64},
        {"mode None", WGPUMapMode_None, 0, 64},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        push_scope(&c, WGPUErrorFilter_Validation);
        WGPUMapAsyncStatus s = map_wait(&c, b, bad[i].mode, bad[i].off, bad[i].size);
        WGPUErrorType t = pop_scope(&c);
        say("%s: %s, error %s, state %s", bad[i].name, map_status_name(s), error_type_name(t),
            map_state_name(wgpuBufferGetMapState(b)));
        if (s == WGPUMapAsyncStatus_Success)
            wgpuBufferUnmap(b);
    }

    /* A buffer without map usage. */
    WGPUBuffer nomap = buf(&c, WGPUBufferUsage_CopyDst);
    push_scope(&c, WGPUErrorFilter_Validation);
    WGPUMapAsyncStatus s = map_wait(&c, nomap, WGPUMapMode_Read, 0, 64);
    say("map a buffer without MapRead: %s, error %s", map_status_name(s), error_type_name(pop_scope(&c)));
    wgpuBufferRelease(nomap);

    /* Using a mapped buffer in a submit. */
    WGPUBuffer w = buf(&c, W);
    say("map for writing: %s", map_status_name(map_wait(&c, w, WGPUMapMode_Write, 0, 64)));
    say("mutable range of a write mapping: %s", wgpuBufferGetMappedRange(w, 0, 64) ? "ok" : "NULL");
    push_scope(&c, WGPUErrorFilter_Validation);
    WGPUCommandEncoder e = encoder(&c);
    wgpuCommandEncoderCopyBufferToBuffer(e, w, 0, b, 0, 64);
    submit(&c, e);
    say("submit using a mapped buffer: %s", error_type_name(pop_scope(&c)));
    wgpuBufferUnmap(w);

    /* Release while pending: the callback still comes. */
    map_async(w, WGPUMapMode_Write, 0, 64, &m1);
    wgpuBufferRelease(w);
    CHECK(wait_until(c.instance, &m1.done));
    say("released while pending: %s", map_status_name(m1.status));

    queue_wait(&c);
    say("uncaptured: %d", events.uncaptured);
    CHECK(events.uncaptured == 0);
    wgpuBufferRelease(b);
    ctx_release(&c);
    return finish();
}
