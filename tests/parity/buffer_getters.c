/* Buffer getters: size and usage as created (for several usages and sizes),
 * and the mapState transitions Unmapped -> Pending -> Mapped -> Unmapped,
 * mappedAtCreation -> Mapped, and after destroy. */
#include "util.h"

int main(void)
{
    struct ctx c;
    ctx_init(&c);

    struct { WGPUBufferUsage usage; uint64_t size; } cases[] = {
        {WGPUBufferUsage_MapRead | WGPUBufferUsage_CopyDst, 4},
        {WGPUBufferUsage_MapWrite | WGPUBufferUsage_CopySrc, 1024},
        {WGPUBufferUsage_Storage | WGPUBufferUsage_Uniform | WGPUBufferUsage_CopyDst, 65536},
        {WGPUBufferUsage_Vertex | WGPUBufferUsage_Index | WGPUBufferUsage_Indirect, 12},
        {WGPUBufferUsage_QueryResolve | WGPUBufferUsage_CopySrc, 8},
        {WGPUBufferUsage_Storage, 0},
        {WGPUBufferUsage_CopyDst, 3},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        WGPUBuffer b = make_buffer(&c, cases[i].usage, cases[i].size);
        say("buffer %zu: size %llu usage 0x%llx state %s", i,
            (unsigned long long)wgpuBufferGetSize(b), (unsigned long long)wgpuBufferGetUsage(b),
            map_state_name(wgpuBufferGetMapState(b)));
        CHECK(wgpuBufferGetSize(b) == cases[i].size && wgpuBufferGetUsage(b) == cases[i].usage);
        wgpuBufferRelease(b);
    }

    /* An invalid buffer still answers with what was asked for. */
    push_scope(&c, WGPUErrorFilter_Validation);
    WGPUBuffer inv = make_buffer(&c, WGPUBufferUsage_MapRead | WGPUBufferUsage_MapWrite, 32);
    say("invalid buffer: %s, size %llu usage 0x%llx", error_type_name(pop_scope(&c)),
        (unsigned long long)wgpuBufferGetSize(inv), (unsigned long long)wgpuBufferGetUsage(inv));
    wgpuBufferRelease(inv);

    WGPUBuffer b = make_buffer(&c, WGPUBufferUsage_MapRead | WGPUBufferUsage_CopyDst, 64);
    say("new: %s", map_state_name(wgpuBufferGetMapState(b)));
    struct map_result m;
    map_async(b, WGPUMapMode_Read, 0, 64, &m);
    say("after mapAsync: %s", map_state_name(wgpuBufferGetMapState(b)));
    CHECK(wait_until(c.instance, &m.done));
    say("after the callback (%s): %s", map_status_name(m.status), map_state_name(wgpuBufferGetMapState(b)));
    wgpuBufferUnmap(b);
    say("after unmap: %s", map_state_name(wgpuBufferGetMapState(b)));
    map_async(b, WGPUMapMode_Read, 0, 64, &m);
    wgpuBufferDestroy(b);
    say("destroyed while pending: %s", map_state_name(wgpuBufferGetMapState(b)));
    CHECK(wait_until(c.instance, &m.done));
    say("its callback: %s", map_status_name(m.status));
    say("size after destroy: %llu", (unsigned long long)wgpuBufferGetSize(b));
    wgpuBufferRelease(b);

    WGPUBufferDescriptor d = {.usage = WGPUBufferUsage_Uniform, .size = 16, .mappedAtCreation = 1};
    WGPUBuffer mc = wgpuDeviceCreateBuffer(c.device, &d);
    say("mappedAtCreation: %s", map_state_name(wgpuBufferGetMapState(mc)));
    wgpuBufferUnmap(mc);
    say("after unmap: %s", map_state_name(wgpuBufferGetMapState(mc)));
    wgpuBufferRelease(mc);

    ctx_release(&c);
    return finish();
}
