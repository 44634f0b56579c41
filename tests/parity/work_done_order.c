/* onSubmittedWorkDone ordering: callbacks registered after each of five
 * submits run in submit order; one registered with nothing submitted
 * still runs; a map requested before later submits completes with the data
 * of the submit before it. Prints the order the callbacks ran in. */
#include "util.h"

static const char *shader =
    "@group(0) @binding(0) var<storage, read_write> o : array<u32>;\n"
    "@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g : vec3u) {\n"
    "  for (var i = 0u; i < 64u; i++) { o[g.x] = o[g.x] * 3u + i; }\n"
    "}\n";

int main(void)
{
    struct ctx c;
    ctx_init(&c);

    struct work_result idle;
    work_done_async(&c, &idle);
    CHECK(wait_until(c.instance, &idle.done));
    say("with nothing submitted: %s", work_done_status_name(idle.status));

    WGPUBuffer ob = make_buffer(&c, WGPUBufferUsage_Storage | WGPUBufferUsage_CopySrc | WGPUBufferUsage_CopyDst,
                                64 * 64 * 4);
    WGPUBuffer rb = make_buffer(&c, WGPUBufferUsage_MapRead | WGPUBufferUsage_CopyDst, 16);
    WGPUComputePipeline pipe = make_compute(&c, shader, "main");
    WGPUBindGroupLayout bgl = wgpuComputePipelineGetBindGroupLayout(pipe, 0);
    WGPUBindGroup bg = bind_buffers(&c, bgl, 1, &ob);

    callback_seq = 0;
    struct work_result w[5];
    struct map_result m;
    for (int i = 0; i < 5; i++) {
        uint32_t marker = 1000u + (uint32_t)i;
        wgpuQueueWriteBuffer(c.queue, ob, 0, &marker, 4);
        WGPUCommandEncoder e = encoder(&c);
        WGPUComputePassEncoder p = wgpuCommandEncoderBeginComputePass(e, NULL);
        wgpuComputePassEncoderSetPipeline(p, pipe);
        wgpuComputePassEncoderSetBindGroup(p, 0, bg, 0, NULL);
        wgpuComputePassEncoderDispatchWorkgroups(p, 64, 1, 1);
        wgpuComputePassEncoderEnd(p);
        wgpuComputePassEncoderRelease(p);
        if (i == 2)
            wgpuCommandEncoderCopyBufferToBuffer(e, ob, 0, rb, 0, 16);
        submit(&c, e);
        work_done_async(&c, &w[i]);
        if (i == 2)
            map_async(rb, WGPUMapMode_Read, 0, 16, &m);
    }
    for (int i = 0; i < 5; i++)
        CHECK(wait_until(c.instance, &w[i].done));
    CHECK(wait_until(c.instance, &m.done));
    /* Only the relative order of the work-done callbacks is printed: where
     * the map callback falls among them is not specified. */
    int in_order = 1;
    for (int i = 1; i < 5; i++)
        in_order &= w[i].order > w[i - 1].order;
    say("work done callbacks in submit order: %s", in_order ? "yes" : "no");
    say("map callback after work done 2: %s", m.order > w[2].order ? "yes" : "no");
    say("statuses: %s %s %s %s %s", work_done_status_name(w[0].status), work_done_status_name(w[1].status),
        work_done_status_name(w[2].status), work_done_status_name(w[3].status),
        work_done_status_name(w[4].status));
    CHECK(in_order);

    /* The map saw submit 2's result: marker 1002 run through the shader. */
    uint32_t want = 1002;
    for (uint32_t i = 0; i < 64; i++)
        want = want * 3u + i;
    const uint32_t *q = wgpuBufferGetConstMappedRange(rb, 0, 16);
    say("map: %s, after submit 2: %s", map_status_name(m.status), q && q[0] == want ? "yes" : "no");
    CHECK(q && q[0] == want);
    wgpuBufferUnmap(rb);
    CHECK(events.uncaptured == 0);

    wgpuBindGroupRelease(bg);
    wgpuBindGroupLayoutRelease(bgl);
    wgpuComputePipelineRelease(pipe);
    wgpuBufferRelease(ob);
    wgpuBufferRelease(rb);
    ctx_release(&c);
    return finish();
}
