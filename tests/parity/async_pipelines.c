/* Asynchronous pipeline creation: a compute and a render pipeline created
 * with the *Async calls and then used, and failing creations (bad entry
 * point, invalid shader) that report ValidationError with no pipeline. */
#include "util.h"

static const char *compute_src =
    "@group(0) @binding(0) var<storage, read_write> o : array<u32>;\n"
    "@compute @workgroup_size(8) fn main(@builtin(global_invocation_id) g : vec3u) { o[g.x] = 100u + g.x; }\n";
static const char *render_src =
    "@vertex fn vs(@builtin(vertex_index) i : u32) -> @builtin(position) vec4f {\n"
    "  var p = array<vec2f, 3>(vec2f(-1, -1), vec2f(3, -1), vec2f(-1, 3));\n"
    "  return vec4f(p[i], 0.0, 1.0);\n"
    "}\n"
    "@fragment fn fs() -> @location(0) vec4f { return vec4f(0.0, 0.5, 1.0, 1.0); }\n";

struct cp_result { int done; WGPUCreatePipelineAsyncStatus status; WGPUComputePipeline p; };
struct rp_result { int done; WGPUCreatePipelineAsyncStatus status; WGPURenderPipeline p; };

static void on_compute(WGPUCreatePipelineAsyncStatus status, WGPUComputePipeline p,
                       WGPUStringView message, void *u1, void *u2)
{
    (void)message; (void)u2;
    struct cp_result *r = u1;
    r->status = status;
    r->p = p;
    r->done = 1;
}

static void on_render(WGPUCreatePipelineAsyncStatus status, WGPURenderPipeline p,
                      WGPUStringView message, void *u1, void *u2)
{
    (void)message; (void)u2;
    struct rp_result *r = u1;
    r->status = status;
    r->p = p;
    r->done = 1;
}

static void compute_async(struct ctx *c, const char *src, const char *entry, struct cp_result *r)
{
    WGPUShaderModule m = make_shader(c, src);
    WGPUComputePipelineDescriptor d = {.compute = {.module = m, .entryPoint = sv(entry)}};
    WGPUCreateComputePipelineAsyncCallbackInfo ci = {
        .mode = WGPUCallbackMode_AllowProcessEvents, .callback = on_compute, .userdata1 = r,
    };
    wgpuDeviceCreateComputePipelineAsync(c->device, &d, ci);
    wgpuShaderModuleRelease(m);
}

int main(void)
{
    struct ctx c;
    ctx_init(&c);
    expect_uncaptured = 1;

    struct cp_result good = {0}, bad_entry = {0}, bad_shader = {0};
    compute_async(&c, compute_src, "main", &good);
    compute_async(&c, compute_src, "missing", &bad_entry);
    compute_async(&c, "this is not WGSL", "main", &bad_shader);

    WGPUShaderModule m = make_shader(&c, render_src);
    struct pipe_opts o = {0};
    struct render_desc rd;
    render_desc_init(&rd, m, &o);
    struct rp_result rgood = {0}, rbad = {0};
    WGPUCreateRenderPipelineAsyncCallbackInfo rci = {
        .mode = WGPUCallbackMode_AllowProcessEvents, .callback = on_render, .userdata1 = &rgood,
    };
    wgpuDeviceCreateRenderPipelineAsync(c.device, &rd.d, rci);
    rd.target.format = WGPUTextureFormat_Depth32Float; /* not a colour format */
    rci.userdata1 = &rbad;
    wgpuDeviceCreateRenderPipelineAsync(c.device, &rd.d, rci);
    wgpuShaderModuleRelease(m);

    CHECK(wait_until(c.instance, &good.done));
    CHECK(wait_until(c.instance, &bad_entry.done));
    CHECK(wait_until(c.instance, &bad_shader.done));
    CHECK(wait_until(c.instance, &rgood.done));
    CHECK(wait_until(c.instance, &rbad.done));
    say("compute: %s, pipeline %s", pipeline_status_name(good.status), good.p ? "yes" : "none");
    say("compute, missing entry point: %s, pipeline %s", pipeline_status_name(bad_entry.status),
        bad_entry.p ? "yes" : "none");
    say("compute, invalid shader: %s, pipeline %s", pipeline_status_name(bad_shader.status),
        bad_shader.p ? "yes" : "none");
    say("render: %s, pipeline %s", pipeline_status_name(rgood.status), rgood.p ? "yes" : "none");
    say("render, depth format as colour target: %s, pipeline %s", pipeline_status_name(rbad.status),
        rbad.p ? "yes" : "none");
    CHECK(good.status == WGPUCreatePipelineAsyncStatus_Success && good.p);
    CHECK(rgood.status == WGPUCreatePipelineAsyncStatus_Success && rgood.p);
    CHECK(bad_entry.status == WGPUCreatePipelineAsyncStatus_ValidationError && !bad_entry.p);

    if (good.p) {
        WGPUBuffer ob = make_buffer(&c, WGPUBufferUsage_Storage | WGPUBufferUsage_CopySrc, 64);
        WGPUBindGroupLayout bgl = wgpuComputePipelineGetBindGroupLayout(good.p, 0);
        WGPUBindGroup bg = bind_buffers(&c, bgl, 1, &ob);
        dispatch(&c, good.p, bg, 2);
        uint32_t out[16];
        CHECK(read_buffer(&c, ob, 0, out, sizeof out));
        say("async compute pipeline ran: o[0] %u o[15] %u", out[0], out[15]);
        wgpuBindGroupRelease(bg);
        wgpuBindGroupLayoutRelease(bgl);
        wgpuBufferRelease(ob);
        wgpuComputePipelineRelease(good.p);
    }
    if (rgood.p) {
        WGPUTexture t = make_texture(&c, WGPUTextureFormat_RGBA8Unorm, 4, 4, 1, 1, 1,
                                     WGPUTextureUsage_RenderAttachment | WGPUTextureUsage_CopySrc);
        WGPUTextureView v = view_of(t);
        WGPUCommandEncoder e = encoder(&c);
        WGPURenderPassEncoder rp = begin_pass(e, v, NULL, (WGPUColor){0, 0, 0, 1}, NULL);
        wgpuRenderPassEncoderSetPipeline(rp, rgood.p);
        wgpuRenderPassEncoderDraw(rp, 3, 1, 0, 0);
        wgpuRenderPassEncoderEnd(rp);
        wgpuRenderPassEncoderRelease(rp);
        submit(&c, e);
        uint8_t px[64];
        CHECK(read_texture(&c, t, 0, 0, 4, 4, 4, px));
        say_rgba("async render pipeline drew", px + 4 * 5);
        wgpuTextureViewRelease(v);
        wgpuTextureRelease(t);
        wgpuRenderPipelineRelease(rgood.p);
    }
    if (bad_entry.p) wgpuComputePipelineRelease(bad_entry.p);
    if (bad_shader.p) wgpuComputePipelineRelease(bad_shader.p);
    if (rbad.p) wgpuRenderPipelineRelease(rbad.p);
    say("uncaptured (the invalid shader module): %d", wait_uncaptured(&c, 1));
    ctx_release(&c);
    return finish();
}
