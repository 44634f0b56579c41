/* WGSL's numeric builtins in f32 and f16, one pipeline each, in a shader
 * with a workgroup barrier. A CPU Vulkan driver compiles some of them to
 * calls into the C maths library (exp2f, powf, ...) that its JIT resolves in
 * the host process; the wire variant proves the host process provides them
 * (wgv-server itself uses no maths library). */
#include "util.h"

#include <math.h>

#define N 256

/* One row: the expression of `x` (f32) or `h` (f16) whose f32 value each
 * invocation writes. */
static const struct {
    const char *name;
    int f16;
    const char *expr;
} rows[] = {
    {"exp", 0, "exp(x)"},
    {"exp2", 0, "exp2(x)"},
    {"log", 0, "log(abs(x) + 0.5)"},
    {"log2", 0, "log2(abs(x) + 0.5)"},
    {"pow", 0, "pow(abs(x) + 0.25, 1.7)"},
    {"sin cos", 0, "sin(x) + cos(x)"},
    {"tan", 0, "tan(x * 0.5)"},
    {"tanh", 0, "tanh(x)"},
    {"sinh cosh", 0, "sinh(x) - cosh(x)"},
    {"asin acos", 0, "asin(x * 0.4) + acos(x * 0.4)"},
    {"atan2", 0, "atan2(x, 1.5)"},
    {"sqrt inverseSqrt", 0, "sqrt(abs(x)) + inverseSqrt(abs(x) + 1.0)"},
    {"round fract", 0, "round(x * 3.0) + fract(x * 3.0)"},
    {"fma", 0, "fma(x, 1.25, -0.5)"},
    {"exp f16", 1, "f32(exp(h))"},
    {"exp2 f16", 1, "f32(exp2(h))"},
    {"log2 f16", 1, "f32(log2(abs(h) + 0.5h))"},
    {"pow f16", 1, "f32(pow(abs(h) + 0.25h, 1.5h))"},
    {"tanh f16", 1, "f32(tanh(h))"},
    {"sin f16", 1, "f32(sin(h))"},
    {"erf-like f16", 1, "f32(h * (1.0h + tanh(0.79788h * (h + 0.044715h * h * h * h))))"},
};

int main(void)
{
    struct ctx c;
    WGPUFeatureName f16 = WGPUFeatureName_ShaderF16;
    ctx_init_features(&c, 1, &f16);

    float in[N];
    for (int i = 0; i < N; i++)
        in[i] = -1.5f + 3.5f * (float)i / (float)(N - 1);
    WGPUBuffer src = make_buffer_data(&c, WGPUBufferUsage_Storage, in, sizeof in);
    WGPUBuffer dst = make_buffer(&c, WGPUBufferUsage_Storage | WGPUBufferUsage_CopySrc, sizeof in);

    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        char wgsl[1024];
        snprintf(wgsl, sizeof wgsl,
                 "%s"
                 "@group(0) @binding(0) var<storage, read> src : array<f32>;\n"
                 "@group(0) @binding(1) var<storage, read_write> dst : array<f32>;\n"
                 "var<workgroup> tile : array<f32, 64>;\n"
                 "@compute @workgroup_size(64)\n"
                 "fn main(@builtin(global_invocation_id) id : vec3u,\n"
                 "        @builtin(local_invocation_index) l : u32) {\n"
                 "  tile[l] = src[id.x];\n"
                 "  workgroupBarrier();\n"
                 "  let x = tile[63u - l];\n"
                 "%s"
                 "  dst[id.x] = %s;\n"
                 "}\n",
                 rows[r].f16 ? "enable f16;\n" : "", rows[r].f16 ? "  let h = f16(x);\n" : "",
                 rows[r].expr);
        WGPUComputePipeline pipe = make_compute(&c, wgsl, "main");
        WGPUBindGroupLayout bgl = wgpuComputePipelineGetBindGroupLayout(pipe, 0);
        WGPUBindGroupEntry entries[2] = {
            {.binding = 0, .buffer = src, .size = WGPU_WHOLE_SIZE},
            {.binding = 1, .buffer = dst, .size = WGPU_WHOLE_SIZE},
        };
        WGPUBindGroupDescriptor bgd = {.layout = bgl, .entryCount = 2, .entries = entries};
        WGPUBindGroup bg = wgpuDeviceCreateBindGroup(c.device, &bgd);

        WGPUCommandEncoder enc = encoder(&c);
        WGPUComputePassEncoder pass = wgpuCommandEncoderBeginComputePass(enc, NULL);
        wgpuComputePassEncoderSetPipeline(pass, pipe);
        wgpuComputePassEncoderSetBindGroup(pass, 0, bg, 0, NULL);
        wgpuComputePassEncoderDispatchWorkgroups(pass, N / 64, 1, 1);
        wgpuComputePassEncoderEnd(pass);
        wgpuComputePassEncoderRelease(pass);
        submit(&c, enc);

        float out[N];
        CHECK(read_buffer(&c, dst, 0, out, sizeof out));
        double sum = 0;
        int finite = 0;
        for (int i = 0; i < N; i++) {
            if (isfinite(out[i])) {
                finite++;
                sum += out[i];
            }
        }
        say("%-18s finite %3d sum %.3f first %.4f last %.4f", rows[r].name, finite, sum,
            (double)out[0], (double)out[N - 1]);

        wgpuBindGroupRelease(bg);
        wgpuBindGroupLayoutRelease(bgl);
        wgpuComputePipelineRelease(pipe);
    }

    wgpuBufferRelease(src);
    wgpuBufferRelease(dst);
    ctx_release(&c);
    return finish();
}
