/* mappedAtCreation: buffers without map usage (storage, vertex), with
 * MapWrite and with MapRead are writable at creation; after unmap the data
 * is in the buffer (read back by copy, or by mapping the MapRead one);
 * ranges outside the buffer are NULL. */
#include "util.h"

static WGPUBuffer created_mapped(struct ctx *c, WGPUBufferUsage u, uint64_t size, uint32_t seed)
{
    WGPUBufferDescriptor d = {.usage = u, .size = size, .mappedAtCreation = 1};
    WGPUBuffer b = wgpuDeviceCreateBuffer(c->device, &d);
    uint32_t *p = wgpuBufferGetMappedRange(b, 0, (size_t)size);
    CHECK(p != NULL);
    for (uint64_t i = 0; p && i < size / 4; i++)
        p[i] = seed + (uint32_t)i;
    return b;
}

int main(void)
{
    struct ctx c;
    ctx_init(&c);

    struct { const char *name; WGPUBufferUsage u; } kinds[] = {
        {"storage", WGPUBufferUsage_Storage | WGPUBufferUsage_CopySrc},
        {"vertex", WGPUBufferUsage_Vertex | WGPUBufferUsage_CopySrc},
        {"map-write", WGPUBufferUsage_MapWrite | WGPUBufferUsage_CopySrc},
        {"map-read", WGPUBufferUsage_MapRead},
    };
    for (uint32_t k = 0; k < 4; k++) {
        WGPUBuffer b = created_mapped(&c, kinds[k].u, 64, 1000u * (k + 1));
        say("%s: state %s, range [0,64) %s, [64,68) %s, [56,64) %s", kinds[k].name,
            map_state_name(wgpuBufferGetMapState(b)),
            wgpuBufferGetMappedRange(b, 0, 64) ? "ok" : "NULL",
            wgpuBufferGetMappedRange(b, 64, 4) ? "ok" : "NULL",
            wgpuBufferGetMappedRange(b, 56, 8) ? "ok" : "NULL");
        wgpuBufferUnmap(b);
        uint32_t out[16] = {0};
        if (k < 3) {
            CHECK(read_buffer(&c, b, 0, out, sizeof out));
        } else {
            CHECK(map_wait(&c, b, WGPUMapMode_Read, 0, 64) == WGPUMapAsyncStatus_Success);
            const uint32_t *q = wgpuBufferGetConstMappedRange(b, 0, 64);
            if (q)
                memcpy(out, q, sizeof out);
            wgpuBufferUnmap(b);
        }
        say("%s: after unmap %s, words %u %u", kinds[k].name, map_state_name(wgpuBufferGetMapState(b)),
            out[0], out[15]);
        CHECK(out[0] == 1000u * (k + 1) && out[15] == 1000u * (k + 1) + 15);
        wgpuBufferRelease(b);
    }

    /* A size that is not a multiple of 4 cannot be mapped at creation. */
    push_scope(&c, WGPUErrorFilter_Validation);
    WGPUBufferDescriptor d = {.usage = WGPUBufferUsage_CopySrc, .size = 10, .mappedAtCreation = 1};
    WGPUBuffer odd = wgpuDeviceCreateBuffer(c.device, &d);
    WGPUErrorType t = pop_scope(&c);
    say("size 10 mapped at creation: %s", error_type_name(t));
    if (odd)
        wgpuBufferRelease(odd);

    /* A zero-sized buffer mapped at creation. */
    d.size = 0;
    WGPUBuffer empty = wgpuDeviceCreateBuffer(c.device, &d);
    say("size 0 mapped at creation: state %s", map_state_name(wgpuBufferGetMapState(empty)));
    wgpuBufferUnmap(empty);
    wgpuBufferRelease(empty);

    ctx_release(&c);
    return finish();
}
