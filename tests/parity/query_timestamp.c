/* Timestamp queries, only where the adapter has TimestampQuery: prints
 * whether it has; without the feature, creating a timestamp query set is a
 * validation error; with it, a compute pass writes begin/end timestamps that
 * are resolved and must not run backwards. Values are never printed. */
#include "util.h"

static const char *shader =
    "@group(0) @binding(0) var<storage, read_write> o : array<u32>;\n"
    "@compute @workgroup_size(64)\n"
    "fn main(@builtin(global_invocation_id) g : vec3u) { o[g.x] = g.x * g.x; }\n";

int main(void)
{
    struct ctx c;
    ctx_init(&c);

    int has = wgpuAdapterHasFeature(c.adapter, WGPUFeatureName_TimestampQuery) != 0;
    say("adapter has TimestampQuery: %s", has ? "yes" : "no");
    say("device without it has TimestampQuery: %s",
        wgpuDeviceHasFeature(c.device, WGPUFeatureName_TimestampQuery) ? "yes" : "no");

    push_scope(&c, WGPUErrorFilter_Validation);
    WGPUQuerySetDescriptor qd = {.type = WGPUQueryType_Timestamp, .count = 2};
    WGPUQuerySet qs = wgpuDeviceCreateQuerySet(c.device, &qd);
    say("timestamp query set without the feature: %s", error_type_name(pop_scope(&c)));
    wgpuQuerySetRelease(qs);

    if (has) {
        WGPUFeatureName f = WGPUFeatureName_TimestampQuery;
        struct ctx c2 = c;
        c2.device = util_request_device(&c, 1, &f);
        CHECK(c2.device != NULL);
        if (c2.device) {
            c2.queue = wgpuDeviceGetQueue(c2.device);
            say("device with it has TimestampQuery: %s",
                wgpuDeviceHasFeature(c2.device, WGPUFeatureName_TimestampQuery) ? "yes" : "no");
            qs = wgpuDeviceCreateQuerySet(c2.device, &qd);
            WGPUBuffer ob = make_buffer(&c2, WGPUBufferUsage_Storage, 64 * 64 * 4);
            WGPUBuffer rb = make_buffer(&c2, WGPUBufferUsage_QueryResolve | WGPUBufferUsage_CopySrc, 16);
            WGPUComputePipeline pipe = make_compute(&c2, shader, "main");
            WGPUBindGroupLayout bgl = wgpuComputePipelineGetBindGroupLayout(pipe, 0);
            WGPUBindGroup bg = bind_buffers(&c2, bgl, 1, &ob);
            WGPUPassTimestampWrites tw = {.querySet = qs, .beginningOfPassWriteIndex = 0, .endOfPassWriteIndex = 1};
            WGPUComputePassDescriptor cpd = {.timestampWrites = &tw};
            WGPUCommandEncoder enc = encoder(&c2);
            WGPUComputePassEncoder pass = wgpuCommandEncoderBeginComputePass(enc, &cpd);
            wgpuComputePassEncoderSetPipeline(pass, pipe);
            wgpuComputePassEncoderSetBindGroup(pass, 0, bg, 0, NULL);
            wgpuComputePassEncoderDispatchWorkgroups(pass, 64, 1, 1);
            wgpuComputePassEncoderEnd(pass);
            wgpuComputePassEncoderRelease(pass);
            wgpuCommandEncoderResolveQuerySet(enc, qs, 0, 2, rb, 0);
            submit(&c2, enc);
            uint64_t ts[2];
            CHECK(read_buffer(&c2, rb, 0, ts, sizeof ts));
            say("end >= begin: %s", ts[1] >= ts[0] ? "yes" : "no");
            CHECK(ts[1] >= ts[0]);
            wgpuBindGroupRelease(bg);
            wgpuBindGroupLayoutRelease(bgl);
            wgpuComputePipelineRelease(pipe);
            wgpuBufferRelease(ob);
            wgpuBufferRelease(rb);
            wgpuQuerySetRelease(qs);
            wgpuQueueRelease(c2.queue);
            wgpuDeviceRelease(c2.device);
        }
    }

    ctx_release(&c);
    return finish();
}
