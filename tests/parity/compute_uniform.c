/* Compute reading its parameters from a uniform buffer: y = x * scale + bias
 * over f32, then the same pipeline again after the uniform is rewritten. */
#include "util.h"

static const char *shader =
    "struct Params { scale : f32, bias : f32, count : u32, _pad : u32 }\n"
    "@group(0) @binding(0) var<uniform> params : Params;\n"
    "@group(0) @binding(1) var<storage, read> xs : array<f32>;\n"
    "@group(0) @binding(2) var<storage, read_write> ys : array<f32>;\n"
    "@compute @workgroup_size(32)\n"
    "fn main(@builtin(global_invocation_id) id : vec3u) {\n"
    "  if (id.x >= params.count) { return; }\n"
    "  ys[id.x] = xs[id.x] * params.scale + params.bias;\n"
    "}\n";

#define N 256

struct params { float scale, bias; uint32_t count, pad; };

int main(void)
{
    struct ctx c;
    ctx_init(&c);

    float xs[N], ys[N];
    for (int i = 0; i < N; i++)
        xs[i] = (float)i * 0.5f;
    struct params p = {2.0f, 0.25f, 200, 0};

    WGPUBuffer ub = make_buffer_data(&c, WGPUBufferUsage_Uniform, &p, sizeof p);
    WGPUBuffer xb = make_buffer_data(&c, WGPUBufferUsage_Storage, xs, sizeof xs);
    WGPUBuffer yb = make_buffer(&c, WGPUBufferUsage_Storage | WGPUBufferUsage_CopySrc |
                                        WGPUBufferUsage_CopyDst, sizeof ys);
    WGPUComputePipeline pipe = make_compute(&c, shader, "main");
    WGPUBindGroupLayout bgl = wgpuComputePipelineGetBindGroupLayout(pipe, 0);
    WGPUBuffer bufs[3] = {ub, xb, yb};
    WGPUBindGroup bg = bind_buffers(&c, bgl, 3, bufs);

    for (int round = 0; round < 2; round++) {
        if (round == 1) {
            p.scale = -1.0f;
            p.bias = 100.0f;
            p.count = N;
            wgpuQueueWriteBuffer(c.queue, ub, 0, &p, sizeof p);
        }
        dispatch(&c, pipe, bg, N / 32);
        CHECK(read_buffer(&c, yb, 0, ys, sizeof ys));
        int bad = 0;
        for (uint32_t i = 0; i < N; i++) {
            float want = i < p.count ? xs[i] * p.scale + p.bias : (round == 0 ? 0.0f : ys[i]);
            bad += ys[i] != want;
        }
        CHECK(bad == 0);
        say("round %d: scale %.2f bias %.2f count %u: y[1] %.3f y[199] %.3f y[200] %.3f mismatches %d",
            round, p.scale, p.bias, p.count, ys[1], ys[199], ys[200], bad);
    }

    wgpuBindGroupRelease(bg);
    wgpuBindGroupLayoutRelease(bgl);
    wgpuComputePipelineRelease(pipe);
    wgpuBufferRelease(ub);
    wgpuBufferRelease(xb);
    wgpuBufferRelease(yb);
    ctx_release(&c);
    return finish();
}
