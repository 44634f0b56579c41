/* Pipeline-overridable constants: a named f32, a numeric @id, and the
 * workgroup size itself, once with defaults and once overridden. */
#include "util.h"

static const char *shader =
    "override factor : f32 = 1.0;\n"
    "@id(7) override offset : u32 = 0u;\n"
    "override wg : u32 = 64u;\n"
    "@group(0) @binding(0) var<storage, read_write> o : array<u32>;\n"
    "@compute @workgroup_size(wg)\n"
    "fn main(@builtin(global_invocation_id) gid : vec3u, @builtin(local_invocation_index) lid : u32) {\n"
    "  if (gid.x >= arrayLength(&o)) { return; }\n"
    "  o[gid.x] = u32(f32(gid.x) * factor) + offset + 100000u * (wg - lid - 1u) / wg;\n"
    "}\n";

#define N 128

static void run(struct ctx *c, const char *name, size_t count, const WGPUConstantEntry *constants,
                uint32_t wg, float factor, uint32_t offset)
{
    WGPUShaderModule m = make_shader(c, shader);
    WGPUComputePipelineDescriptor d = {
        .compute = {.module = m, .entryPoint = sv("main"), .constantCount = count, .constants = constants},
    };
    push_scope(c, WGPUErrorFilter_Validation);
    WGPUComputePipeline pipe = wgpuDeviceCreateComputePipeline(c->device, &d);
    WGPUErrorType t = pop_scope(c);
    say("%s: pipeline %s", name, error_type_name(t));
    if (t == WGPUErrorType_NoError) {
        WGPUBuffer ob = make_buffer(c, WGPUBufferUsage_Storage | WGPUBufferUsage_CopySrc, N * 4);
        WGPUBindGroupLayout bgl = wgpuComputePipelineGetBindGroupLayout(pipe, 0);
        WGPUBindGroup bg = bind_buffers(c, bgl, 1, &ob);
        dispatch(c, pipe, bg, N / wg);
        uint32_t out[N];
        CHECK(read_buffer(c, ob, 0, out, sizeof out));
        int bad = 0;
        for (uint32_t i = 0; i < N; i++) {
            uint32_t lid = i % wg;
            bad += out[i] != (uint32_t)((float)i * factor) + offset + 100000u * (wg - lid - 1u) / wg;
        }
        CHECK(bad == 0);
        say("%s: o[0] %u o[1] %u o[127] %u mismatches %d", name, out[0], out[1], out[N - 1], bad);
        wgpuBindGroupRelease(bg);
        wgpuBindGroupLayoutRelease(bgl);
        wgpuBufferRelease(ob);
    }
    wgpuComputePipelineRelease(pipe);
    wgpuShaderModuleRelease(m);
}

int main(void)
{
    struct ctx c;
    ctx_init(&c);

    run(&c, "defaults", 0, NULL, 64, 1.0f, 0);
    WGPUConstantEntry all[3] = {
        {.key = sv("factor"), .value = 2.5},
        {.key = sv("7"), .value = 1000},
        {.key = sv("wg"), .value = 32},
    };
    run(&c, "overridden", 3, all, 32, 2.5f, 1000);
    WGPUConstantEntry unknown[1] = {{.key = sv("no_such_constant"), .value = 1}};
    run(&c, "unknown key", 1, unknown, 64, 1.0f, 0);

    ctx_release(&c);
    return finish();
}
