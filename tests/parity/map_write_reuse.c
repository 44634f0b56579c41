/* An upload buffer reused the way parameter pools and staging rings reuse
 * one: mapped for writing, filled, copied from, over and over; sometimes
 * after the copy's work is known done (through the wire the guest then
 * answers the map itself) and sometimes while the copy may still run. Each
 * mapping shows what the last one wrote, each copy carries its own round's
 * values, partial mappings keep the rest, a submit that reads the buffer
 * while it is mapped fails validation, and an unmap before the callback
 * aborts the map. */
#include "util.h"

#define ROUNDS 24
#define WORDS 64 /* 256 bytes */

int main(void)
{
    struct ctx c;
    ctx_init(&c);

    WGPUBuffer up = make_buffer(&c, WGPUBufferUsage_MapWrite | WGPUBufferUsage_CopySrc, 4 * WORDS);
    WGPUBuffer dst = make_buffer(&c, WGPUBufferUsage_CopySrc | WGPUBufferUsage_CopyDst, 4 * WORDS * ROUNDS);
    uint32_t last[WORDS] = {0};
    int stale = 0, failed_maps = 0;
    for (int round = 0; round < ROUNDS; round++) {
        /* Two rounds in three wait for the last copy first. */
        if (round % 3 != 2)
            CHECK(queue_wait(&c) == WGPUQueueWorkDoneStatus_Success);
        if (map_wait(&c, up, WGPUMapMode_Write, 0, 4 * WORDS) != WGPUMapAsyncStatus_Success) {
            failed_maps++;
            continue;
        }
        uint32_t *p = wgpuBufferGetMappedRange(up, 0, 4 * WORDS);
        CHECK(p != NULL);
        for (int i = 0; p && i < WORDS; i++) {
            stale += p[i] != last[i];
            p[i] = last[i] = (uint32_t)round * 1000u + (uint32_t)i;
        }
        wgpuBufferUnmap(up);
        WGPUCommandEncoder e = encoder(&c);
        wgpuCommandEncoderCopyBufferToBuffer(e, up, 0, dst, 4u * WORDS * (uint64_t)round, 4 * WORDS);
        submit(&c, e);
    }
    say("%d rounds: maps failed %d, words unlike the last mapping's %d", ROUNDS, failed_maps, stale);

    static uint32_t got[WORDS * ROUNDS];
    int wrong = 0;
    if (read_buffer(&c, dst, 0, got, sizeof got))
        for (int i = 0; i < WORDS * ROUNDS; i++)
            wrong += got[i] != (uint32_t)(i / WORDS) * 1000u + (uint32_t)(i % WORDS);
    else
        wrong = -1;
    say("copies carried each round's values: %s (%d words wrong)", wrong == 0 ? "yes" : "no", wrong);

    /* A part of it, then the whole: the part changed, the rest kept. */
    CHECK(queue_wait(&c) == WGPUQueueWorkDoneStatus_Success);
    say("map [64,128): %s", map_status_name(map_wait(&c, up, WGPUMapMode_Write, 64, 64)));
    uint32_t *part = wgpuBufferGetMappedRange(up, 64, 64);
    for (int i = 0; part && i < 16; i++)
        part[i] = last[16 + i] = 0xABC00000u + (uint32_t)i;
    wgpuBufferUnmap(up);
    say("map the whole: %s", map_status_name(map_wait(&c, up, WGPUMapMode_Write, 0, 4 * WORDS)));
    const uint32_t *all = wgpuBufferGetConstMappedRange(up, 0, 4 * WORDS);
    int differ = 0;
    for (int i = 0; all && i < WORDS; i++)
        differ += all[i] != last[i];
    say("contents after the partial map: %s (%d words differ)", all && differ == 0 ? "as written" : "NOT",
        differ);

    /* Still mapped: a submit that copies from it fails validation. */
    push_scope(&c, WGPUErrorFilter_Validation);
    WGPUCommandEncoder e = encoder(&c);
    wgpuCommandEncoderCopyBufferToBuffer(e, up, 0, dst, 0, 4 * WORDS);
    submit(&c, e);
    say("submit reading the mapped buffer: %s", error_type_name(pop_scope(&c)));
    wgpuBufferUnmap(up);

    /* Unmapped before its callback: the map is aborted. */
    CHECK(queue_wait(&c) == WGPUQueueWorkDoneStatus_Success);
    struct map_result r;
    map_async(up, WGPUMapMode_Write, 0, 4 * WORDS, &r);
    wgpuBufferUnmap(up);
    CHECK(wait_until(c.instance, &r.done));
    say("unmapped before the callback: %s, state %s", map_status_name(r.status),
        map_state_name(wgpuBufferGetMapState(up)));
    say("map again: %s", map_status_name(map_wait(&c, up, WGPUMapMode_Write, 0, 4 * WORDS)));
    all = wgpuBufferGetConstMappedRange(up, 0, 4 * WORDS);
    differ = 0;
    for (int i = 0; all && i < WORDS; i++)
        differ += all[i] != last[i];
    say("contents kept: %s", all && differ == 0 ? "yes" : "no");
    wgpuBufferUnmap(up);

    wgpuBufferRelease(dst);
    wgpuBufferRelease(up);
    ctx_release(&c);
    return finish();
}
