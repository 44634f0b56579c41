/* A guest program (the standard webgpu.h, the guest library) that asks the
 * host for absurd amounts of memory and work through the ordinary API. Each
 * request must come back as a WebGPU error (validation or out-of-memory),
 * never as a crash of the host, and the device must keep working after.
 * Run by the hostile suite against its server; prints "result: ok". */
#include "../parity/util.h"

/* Runs `what` between an out-of-memory and a validation scope and returns
 * the one error it raised (NoError when none, 0 when a pop failed). */
#define CAUGHT(c, result, what)                                                 \
    do {                                                                        \
        push_scope(c, WGPUErrorFilter_OutOfMemory);                             \
        push_scope(c, WGPUErrorFilter_Validation);                              \
        what;                                                                   \
        WGPUErrorType v_ = pop_scope(c), o_ = pop_scope(c);                     \
        (result) = v_ != WGPUErrorType_NoError ? v_ : o_;                       \
        if (v_ != WGPUErrorType_NoError && o_ != WGPUErrorType_NoError)         \
            (result) = (WGPUErrorType)0;                                        \
    } while (0)

static int is_error(WGPUErrorType t)
{
    return t == WGPUErrorType_Validation || t == WGPUErrorType_OutOfMemory;
}

static void buffer_case(struct ctx *c, const char *name, uint64_t size, WGPUBufferUsage usage,
                        int mapped)
{
    WGPUBuffer b = NULL;
    WGPUErrorType t;
    WGPUBufferDescriptor d = {.usage = usage, .size = size, .mappedAtCreation = mapped};
    CAUGHT(c, t, b = wgpuDeviceCreateBuffer(c->device, &d));
    void *range = b && mapped ? wgpuBufferGetMappedRange(b, 0, 4096) : NULL;
    say("%s: %s%s", name, error_type_name(t), mapped ? (range ? ", mapped" : ", not mapped") : "");
    /* A buffer that cannot exist is an error; mappedAtCreation of one may
     * also come back as no buffer at all, as the standard allows. */
    CHECK(is_error(t) || (mapped && !b));
    CHECK(!range);
    if (b)
        wgpuBufferRelease(b);
}

static void texture_case(struct ctx *c, const char *name, WGPUTextureDimension dim, uint32_t w,
                         uint32_t h, uint32_t depth, WGPUTextureFormat format)
{
    WGPUTexture tex = NULL;
    WGPUErrorType t;
    WGPUTextureDescriptor d = {
        .usage = WGPUTextureUsage_TextureBinding | WGPUTextureUsage_CopyDst,
        .dimension = dim,
        .size = {w, h, depth},
        .format = format,
        .mipLevelCount = 1,
        .sampleCount = 1,
    };
    CAUGHT(c, t, tex = wgpuDeviceCreateTexture(c->device, &d));
    say("%s: %s", name, error_type_name(t));
    CHECK(is_error(t));
    if (tex)
        wgpuTextureRelease(tex);
}

int main(void)
{
    struct ctx c;
    ctx_init(&c);
    WGPUErrorType t;

    buffer_case(&c, "buffer of 2^62 bytes", 1ull << 62, WGPUBufferUsage_CopyDst, 0);
    buffer_case(&c, "buffer of 2^64-4 bytes", UINT64_MAX - 3, WGPUBufferUsage_Storage, 0);
    buffer_case(&c, "mapped-at-creation buffer of 2^62 bytes", 1ull << 62,
                WGPUBufferUsage_MapWrite | WGPUBufferUsage_CopySrc, 1);
    texture_case(&c, "texture 65536x65536", WGPUTextureDimension_2D, 65536, 65536, 1,
                 WGPUTextureFormat_RGBA8Unorm);
    texture_case(&c, "texture 65536x65536x65536 3D", WGPUTextureDimension_3D, 65536, 65536,
                 65536, WGPUTextureFormat_RGBA32Float);
    texture_case(&c, "texture 4294967295x1 with 4294967295 layers", WGPUTextureDimension_2D,
                 UINT32_MAX, 1, UINT32_MAX, WGPUTextureFormat_RGBA32Float);

    /* Work of absurd size on a small, real buffer. */
    WGPUBuffer small = make_buffer(&c, WGPUBufferUsage_CopyDst | WGPUBufferUsage_CopySrc, 256);
    size_t big = 64u << 20;
    uint8_t *junk = calloc(1, big);
    CAUGHT(&c, t, wgpuQueueWriteBuffer(c.queue, small, 0, junk, big));
    say("writeBuffer of 64 MiB into 256 bytes: %s", error_type_name(t));
    CHECK(t == WGPUErrorType_Validation);
    CAUGHT(&c, t, wgpuQueueWriteBuffer(c.queue, small, 1ull << 62, junk, 256));
    say("writeBuffer at offset 2^62: %s", error_type_name(t));
    CHECK(t == WGPUErrorType_Validation);
    free(junk);

    WGPUCommandEncoder enc = encoder(&c);
    wgpuCommandEncoderCopyBufferToBuffer(enc, small, 0, small, 1ull << 62, 1ull << 62);
    WGPUCommandBuffer cb = NULL;
    CAUGHT(&c, t, cb = wgpuCommandEncoderFinish(enc, NULL));
    say("copy of 2^62 bytes: %s", error_type_name(t));
    CHECK(t == WGPUErrorType_Validation);
    wgpuCommandBufferRelease(cb);
    wgpuCommandEncoderRelease(enc);

    WGPUComputePipeline pipe = make_compute(&c, "@compute @workgroup_size(1) fn main() {}", "main");
    enc = encoder(&c);
    WGPUComputePassEncoder pass = wgpuCommandEncoderBeginComputePass(enc, NULL);
    wgpuComputePassEncoderSetPipeline(pass, pipe);
    wgpuComputePassEncoderDispatchWorkgroups(pass, UINT32_MAX, UINT32_MAX, UINT32_MAX);
    wgpuComputePassEncoderEnd(pass);
    wgpuComputePassEncoderRelease(pass);
    CAUGHT(&c, t, cb = wgpuCommandEncoderFinish(enc, NULL));
    say("dispatch of 2^96 workgroups: %s", error_type_name(t));
    CHECK(t == WGPUErrorType_Validation);
    wgpuCommandBufferRelease(cb);
    wgpuCommandEncoderRelease(enc);
    wgpuComputePipelineRelease(pipe);

    /* The device still works. */
    uint32_t in[64], out[64];
    for (uint32_t i = 0; i < 64; i++)
        in[i] = i * 2654435761u;
    wgpuQueueWriteBuffer(c.queue, small, 0, in, sizeof in);
    CHECK(read_buffer(&c, small, 0, out, sizeof out));
    int same = memcmp(in, out, sizeof in) == 0;
    say("device still works: %s", same ? "yes" : "no");
    CHECK(same);
    wgpuBufferRelease(small);
    ctx_release(&c);
    return finish();
}
