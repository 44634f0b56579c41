/* A guest program whose compute shader reads and writes storage arrays far
 * out of range. WebGPU's robustness must hold through the host: every
 * out-of-range access stays inside the binding (or is dropped), memory
 * next to it is untouched, reads yield values that exist in the binding or
 * zero, and the host survives. Prints "result: ok".
 *
 * Built with -DOOB_UNSAFE_TOGGLES against the pinned Dawn's header (and
 * linked to libwebgpu_dawn.so), the device asks for every toggle that would
 * switch those guarantees off (disable_robustness, skip_validation, ...):
 * the host must drop them, so the same checks hold. */
#include "../parity/util.h"

static const char *shader =
    "@group(0) @binding(0) var<storage, read_write> data : array<u32>;\n"
    "@group(0) @binding(1) var<storage, read_write> got : array<u32>;\n"
    "@group(0) @binding(2) var<storage, read_write> vec : array<vec4u, 4>;\n"
    "@compute @workgroup_size(64)\n"
    "fn main(@builtin(global_invocation_id) id : vec3u) {\n"
    "  let i = id.x;\n"
    "  let far = i * 1000003u + 0x40000000u;\n"
    "  got[i] = data[far];\n"
    "  got[i + 64u] = data[0xffffffffu - i];\n"
    "  var k = i32(i) - 1000000;\n"
    "  got[i + 128u] = vec[k].x;\n"
    "  data[far] = 0xdeadbeefu;\n"
    "  data[0xffffffffu - i] = 0x0badu;\n"
    "  vec[u32(k)] = vec4u(0x0badu);\n"
    "  got[i + 192u + far] = 7u;\n"
    "}\n";

#define WORDS 64 /* words of the `data` binding */

#ifdef OOB_UNSAFE_TOGGLES
/* Workgroup memory starts zeroed (what disable_workgroup_init switches
 * off): one dispatch fills it with a pattern, the next reads it before
 * writing. And a new buffer starts zeroed (what disabling
 * lazy_clear_resource_on_first_use switches off), even where a destroyed
 * one held a pattern. */
static const char *fill_shader =
    "var<workgroup> scratch : array<u32, 1024>;\n"
    "@group(0) @binding(0) var<storage, read_write> out : array<u32>;\n"
    "@compute @workgroup_size(64)\n"
    "fn fill(@builtin(local_invocation_index) i : u32) {\n"
    "  for (var k = i; k < 1024u; k += 64u) { scratch[k] = 0xa5a50000u + k; }\n"
    "  workgroupBarrier();\n"
    "  out[i] = scratch[(i * 7u) % 1024u];\n"
    "}\n"
    "@compute @workgroup_size(64)\n"
    "fn peek(@builtin(local_invocation_index) i : u32) {\n"
    "  var acc = 0u;\n"
    "  for (var k = i; k < 1024u; k += 64u) { acc |= scratch[k]; }\n"
    "  out[i] = acc;\n"
    "  workgroupBarrier();\n"
    "  scratch[i] = 1u;\n"
    "}\n";

static int fresh_memory_is_zero(struct ctx *c)
{
    WGPUBuffer out = make_buffer(c, WGPUBufferUsage_Storage | WGPUBufferUsage_CopySrc, 64 * 4);
    WGPUComputePipeline fill = make_compute(c, fill_shader, "fill");
    WGPUComputePipeline peek = make_compute(c, fill_shader, "peek");
    WGPUBindGroupLayout bgl = wgpuComputePipelineGetBindGroupLayout(fill, 0);
    WGPUBindGroupEntry e = {.binding = 0, .buffer = out, .size = WGPU_WHOLE_SIZE};
    WGPUBindGroupDescriptor bgd = {.layout = bgl, .entryCount = 1, .entries = &e};
    WGPUBindGroup bg = wgpuDeviceCreateBindGroup(c->device, &bgd);
    WGPUBindGroupLayout bgl2 = wgpuComputePipelineGetBindGroupLayout(peek, 0);
    bgd.layout = bgl2;
    WGPUBindGroup bg2 = wgpuDeviceCreateBindGroup(c->device, &bgd);
    int zero = 1;
    for (int round = 0; round < 4; round++) {
        WGPUCommandEncoder enc = encoder(c);
        WGPUComputePassEncoder pass = wgpuCommandEncoderBeginComputePass(enc, NULL);
        wgpuComputePassEncoderSetPipeline(pass, fill);
        wgpuComputePassEncoderSetBindGroup(pass, 0, bg, 0, NULL);
        wgpuComputePassEncoderDispatchWorkgroups(pass, 1, 1, 1);
        wgpuComputePassEncoderSetPipeline(pass, peek);
        wgpuComputePassEncoderSetBindGroup(pass, 0, bg2, 0, NULL);
        wgpuComputePassEncoderDispatchWorkgroups(pass, 1, 1, 1);
        wgpuComputePassEncoderEnd(pass);
        wgpuComputePassEncoderRelease(pass);
        submit(c, enc);
        uint32_t got[64];
        CHECK(read_buffer(c, out, 0, got, sizeof got));
        for (int i = 0; i < 64; i++)
            zero &= got[i] == 0;
    }
    say("workgroup memory starts zeroed: %s", zero ? "yes" : "no");
    /* A destroyed buffer's pattern must not show through a new one. */
    int clear = 1;
    for (int round = 0; round < 8; round++) {
        uint32_t pattern[1024];
        for (int i = 0; i < 1024; i++)
            pattern[i] = 0x5a5a0000u + (uint32_t)i;
        WGPUBuffer old = make_buffer_data(c, WGPUBufferUsage_Storage | WGPUBufferUsage_CopySrc,
                                          pattern, sizeof pattern);
        wgpuBufferDestroy(old);
        wgpuBufferRelease(old);
        WGPUBuffer fresh = make_buffer(c, WGPUBufferUsage_Storage | WGPUBufferUsage_CopySrc,
                                       sizeof pattern);
        uint32_t got[1024];
        CHECK(read_buffer(c, fresh, 0, got, sizeof got));
        for (int i = 0; i < 1024; i++)
            clear &= got[i] == 0;
        wgpuBufferRelease(fresh);
    }
    say("new buffers start zeroed: %s", clear ? "yes" : "no");
    wgpuBindGroupRelease(bg2);
    wgpuBindGroupLayoutRelease(bgl2);
    wgpuBindGroupRelease(bg);
    wgpuBindGroupLayoutRelease(bgl);
    wgpuComputePipelineRelease(peek);
    wgpuComputePipelineRelease(fill);
    wgpuBufferRelease(out);
    return zero && clear;
}
#endif

int main(void)
{
    struct ctx c;
#ifdef OOB_UNSAFE_TOGGLES
    static const char *const unsafe[] = {"disable_robustness", "skip_validation",
                                         "disable_workgroup_init", "allow_unsafe_apis",
                                         "disable_polyfills_on_integer_div_and_mod"};
    static const char *const off[] = {"lazy_clear_resource_on_first_use"};
    WGPUDawnTogglesDescriptor toggles = WGPU_DAWN_TOGGLES_DESCRIPTOR_INIT;
    toggles.enabledToggles = unsafe;
    toggles.enabledToggleCount = sizeof(unsafe) / sizeof(unsafe[0]);
    toggles.disabledToggles = off;
    toggles.disabledToggleCount = 1;
    util_device_chain = &toggles.chain;
    static const char *const unsafe_instance[] = {"allow_unsafe_apis"};
    WGPUDawnTogglesDescriptor itoggles = WGPU_DAWN_TOGGLES_DESCRIPTOR_INIT;
    itoggles.enabledToggles = unsafe_instance;
    itoggles.enabledToggleCount = 1;
    WGPUInstanceDescriptor idesc = WGPU_INSTANCE_DESCRIPTOR_INIT;
    idesc.nextInChain = &itoggles.chain;
    util_instance_descriptor = &idesc;
#endif
    ctx_init(&c);

    /* One buffer holds a guard zone, the `data` binding and another guard
     * zone: robust accesses may only land in the middle. */
    uint32_t whole[3 * WORDS];
    for (uint32_t i = 0; i < 3 * WORDS; i++)
        whole[i] = 0x51000000u + i;
    WGPUBuffer buf = make_buffer_data(&c, WGPUBufferUsage_Storage | WGPUBufferUsage_CopySrc,
                                      whole, sizeof whole);
    uint32_t vecs[16];
    for (uint32_t i = 0; i < 16; i++)
        vecs[i] = 0x52000000u + i;
    WGPUBuffer vbuf = make_buffer_data(&c, WGPUBufferUsage_Storage | WGPUBufferUsage_CopySrc,
                                       vecs, sizeof vecs);
    uint32_t sentinel[64];
    for (uint32_t i = 0; i < 64; i++)
        sentinel[i] = 0x53000000u + i;
    WGPUBuffer guard = make_buffer_data(&c, WGPUBufferUsage_Storage | WGPUBufferUsage_CopySrc,
                                        sentinel, sizeof sentinel);
    WGPUBuffer out = make_buffer(&c, WGPUBufferUsage_Storage | WGPUBufferUsage_CopySrc |
                                         WGPUBufferUsage_CopyDst, 256 * 4);

    WGPUComputePipeline pipe = make_compute(&c, shader, "main");
    WGPUBindGroupLayout bgl = wgpuComputePipelineGetBindGroupLayout(pipe, 0);
    WGPUBindGroupEntry entries[3] = {
        {.binding = 0, .buffer = buf, .offset = WORDS * 4, .size = WORDS * 4},
        {.binding = 1, .buffer = out, .size = WGPU_WHOLE_SIZE},
        {.binding = 2, .buffer = vbuf, .size = WGPU_WHOLE_SIZE},
    };
    WGPUBindGroupDescriptor bgd = {.layout = bgl, .entryCount = 3, .entries = entries};
    WGPUBindGroup bg = wgpuDeviceCreateBindGroup(c.device, &bgd);

    WGPUCommandEncoder enc = encoder(&c);
    WGPUComputePassEncoder pass = wgpuCommandEncoderBeginComputePass(enc, NULL);
    wgpuComputePassEncoderSetPipeline(pass, pipe);
    wgpuComputePassEncoderSetBindGroup(pass, 0, bg, 0, NULL);
    wgpuComputePassEncoderDispatchWorkgroups(pass, 1, 1, 1);
    wgpuComputePassEncoderEnd(pass);
    wgpuComputePassEncoderRelease(pass);
    submit(&c, enc);

    uint32_t after[3 * WORDS], got[256], vafter[16], gafter[64];
    CHECK(read_buffer(&c, buf, 0, after, sizeof after));
    CHECK(read_buffer(&c, out, 0, got, sizeof got));
    CHECK(read_buffer(&c, vbuf, 0, vafter, sizeof vafter));
    CHECK(read_buffer(&c, guard, 0, gafter, sizeof gafter));

    int guards = memcmp(after, whole, WORDS * 4) == 0 &&
                 memcmp(after + 2 * WORDS, whole + 2 * WORDS, WORDS * 4) == 0 &&
                 memcmp(gafter, sentinel, sizeof sentinel) == 0;
    say("memory around the binding and other buffers intact: %s", guards ? "yes" : "no");
    CHECK(guards);

    /* Writes may have landed inside the binding, with the values written. */
    int writes = 1;
    for (uint32_t i = WORDS; i < 2 * WORDS; i++)
        writes &= after[i] == whole[i] || after[i] == 0xdeadbeefu || after[i] == 0x0badu;
    for (uint32_t i = 0; i < 16; i++)
        writes &= vafter[i] == vecs[i] || vafter[i] == 0x0badu;
    say("out-of-range writes stayed in their binding: %s", writes ? "yes" : "no");
    CHECK(writes);

    /* Reads return a value of the binding (before or after a write) or 0. */
    int reads = 1;
    for (uint32_t i = 0; i < 128; i++) {
        uint32_t v = got[i];
        int in = v == 0 || v == 0xdeadbeefu || v == 0x0badu ||
                 (v >= whole[WORDS] && v <= whole[2 * WORDS - 1]);
        reads &= in;
    }
    for (uint32_t i = 128; i < 192; i++) {
        uint32_t v = got[i];
        reads &= v == 0 || v == 0x0badu || (v >= vecs[0] && v <= vecs[15]);
    }
    say("out-of-range reads returned values of their binding or zero: %s", reads ? "yes" : "no");
    CHECK(reads);

#ifdef OOB_UNSAFE_TOGGLES
    CHECK(fresh_memory_is_zero(&c));
#endif

    /* The device still works after. */
    uint32_t in[64], back[64];
    for (uint32_t i = 0; i < 64; i++)
        in[i] = i * 40503u;
    wgpuQueueWriteBuffer(c.queue, out, 0, in, sizeof in);
    CHECK(read_buffer(&c, out, 0, back, sizeof back));
    int works = memcmp(in, back, sizeof in) == 0;
    say("device still works: %s", works ? "yes" : "no");
    CHECK(works);

    wgpuBindGroupRelease(bg);
    wgpuBindGroupLayoutRelease(bgl);
    wgpuComputePipelineRelease(pipe);
    wgpuBufferRelease(buf);
    wgpuBufferRelease(vbuf);
    wgpuBufferRelease(guard);
    wgpuBufferRelease(out);
    ctx_release(&c);
    return finish();
}
