/* Device destruction: a pending map and a pending work-done callback when
 * wgpuDeviceDestroy is called, the device-lost callback (once, with reason
 * Destroyed), and what calls on the lost device do afterwards: objects are
 * still created, errors are no longer reported, maps fail. */
#include "util.h"

int main(void)
{
    struct ctx c;
    ctx_init(&c);

    WGPUBuffer rb = make_buffer(&c, WGPUBufferUsage_MapRead | WGPUBufferUsage_CopyDst, 64);
    WGPUBuffer src = make_buffer(&c, WGPUBufferUsage_CopySrc, 64);
    WGPUCommandEncoder e = encoder(&c);
    wgpuCommandEncoderCopyBufferToBuffer(e, src, 0, rb, 0, 64);
    submit(&c, e);

    struct map_result m;
    struct work_result w;
    map_async(rb, WGPUMapMode_Read, 0, 64, &m);
    work_done_async(&c, &w);
    say("before destroy: lost %d, map state %s", events.lost, map_state_name(wgpuBufferGetMapState(rb)));

    wgpuDeviceDestroy(c.device);
    CHECK(wait_until(c.instance, &m.done));
    CHECK(wait_until(c.instance, &w.done));
    CHECK(wait_until(c.instance, &events.lost));
    say("pending map: %s", map_status_name(m.status));
    say("pending work done: %s", work_done_status_name(w.status));
    say("lost: %d reason %s", events.lost, lost_reason_name(events.lost_reason));
    say("map state after destroy: %s", map_state_name(wgpuBufferGetMapState(rb)));

    /* After loss: creation returns objects, errors are swallowed. */
    push_scope(&c, WGPUErrorFilter_Validation);
    WGPUBuffer bad = make_buffer(&c, WGPUBufferUsage_MapRead | WGPUBufferUsage_MapWrite, 16);
    say("object created on a lost device: %s", bad ? "yes" : "no");
    say("error scope on a lost device: %s", error_type_name(pop_scope(&c)));
    say("uncaptured on a lost device: %d", events.uncaptured);
    if (bad)
        wgpuBufferRelease(bad);

    WGPUBuffer late = make_buffer(&c, WGPUBufferUsage_MapRead, 16);
    say("map on a lost device: %s", map_status_name(map_wait(&c, late, WGPUMapMode_Read, 0, 16)));
    say("work done on a lost device: %s", work_done_status_name(queue_wait(&c)));
    wgpuDeviceDestroy(c.device);
    pump_events(c.instance, 3);
    say("lost after a second destroy: %d", events.lost);

    wgpuBufferRelease(late);
    wgpuBufferRelease(rb);
    wgpuBufferRelease(src);
    ctx_release(&c);
    say("lost after release: %d", events.lost);
    CHECK(events.lost == 1 && events.lost_reason == WGPUDeviceLostReason_Destroyed);
    return finish();
}
