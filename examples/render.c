/* render: an offscreen render of a textured triangle, saved as a PNG.
 *
 *   render [--out FILE.png] [--size N]
 *
 * An 8x8 checkerboard texture (orange and blue texels, made here and
 * uploaded with wgpuQueueWriteTexture) is sampled with a nearest, repeating
 * sampler onto a triangle whose vertices come from a vertex buffer (position
 * and texture coordinate). The render pass clears an N x N RGBA8Unorm
 * texture (default 256, at least 64) to a dark background and draws the triangle; the
 * result is copied into a buffer with 256-byte-aligned rows, mapped, and
 * written as a PNG by the small writer below (stored deflate blocks, its own
 * CRC-32 and Adler-32; no zlib).
 *
 * Checks: the background colour in the corners, and every pixel whose
 * expected colour is unambiguous (inside the triangle and not on a checker
 * edge, or clearly outside it) against the colour computed on the CPU.
 * Prints the timing and "render: ok"; exit status 0 only when all match.
 */
#include <math.h>

#include "util.h"

static const char *shader =
    "struct V { @builtin(position) pos : vec4f, @location(0) uv : vec2f }\n"
    "@group(0) @binding(0) var tex : texture_2d<f32>;\n"
    "@group(0) @binding(1) var samp : sampler;\n"
    "@vertex fn vs(@location(0) p : vec2f, @location(1) uv : vec2f) -> V {\n"
    "  return V(vec4f(p, 0.0, 1.0), uv);\n"
    "}\n"
    "@fragment fn fs(v : V) -> @location(0) vec4f {\n"
    "  return textureSample(tex, samp, v.uv);\n"
    "}\n";

#define TEX 8
static const uint8_t color_a[4] = {240, 120, 32, 255};  /* orange */
static const uint8_t color_b[4] = {32, 96, 224, 255};   /* blue */
static const uint8_t background[4] = {16, 16, 24, 255};

/* The triangle: NDC position and texture coordinate. The coordinates are an
 * affine function of the position, u = (x + 0.9) * 1.25 and
 * v = (0.9 - y) * 1.25, so the texture repeats 2.25 times across. */
struct vertex { float x, y, u, v; };
static const struct vertex tri[3] = {
    {-0.9f, 0.9f, 0.0f, 0.0f},
    {0.9f, 0.9f, 2.25f, 0.0f},
    {-0.9f, -0.9f, 0.0f, 2.25f},
};

/* ---- PNG writer ----------------------------------------------------------- */

static uint32_t crc_table[256];

static void crc_init(void)
{
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[n] = c;
    }
}

static uint32_t crc_update(uint32_t crc, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        crc = crc_table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
    return crc;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

static int write_chunk(FILE *f, const char type[4], const uint8_t *data, size_t len)
{
    uint8_t head[8], tail[4];
    put_be32(head, (uint32_t)len);
    memcpy(head + 4, type, 4);
    uint32_t crc = crc_update(0xFFFFFFFFu, head + 4, 4);
    crc = crc_update(crc, data, len) ^ 0xFFFFFFFFu;
    put_be32(tail, crc);
    return fwrite(head, 1, 8, f) == 8 && (len == 0 || fwrite(data, 1, len, f) == len) &&
           fwrite(tail, 1, 4, f) == 4;
}

/* Writes `rgba` (w x h, tightly packed) as an 8-bit RGBA PNG. The zlib
 * stream holds stored (uncompressed) deflate blocks of at most 65535 bytes. */
static int write_png(const char *path, const uint8_t *rgba, uint32_t w, uint32_t h)
{
    size_t raw_len = (size_t)h * (1 + (size_t)w * 4); /* filter byte + row */
    size_t blocks = raw_len / 65535 + 1;
    size_t z_len = 2 + raw_len + blocks * 5 + 4;
    uint8_t *z = malloc(z_len);
    if (!z)
        return 0;
    size_t o = 0;
    z[o++] = 0x78; /* deflate, 32 KiB window */
    z[o++] = 0x01; /* no preset dictionary, fastest; (0x78 << 8 | 0x01) % 31 == 0 */
    uint32_t s1 = 1, s2 = 0; /* Adler-32 of the raw data */
    size_t done = 0, row_pos = 0;
    uint32_t y = 0;
    while (done < raw_len) {
        size_t n = raw_len - done < 65535 ? raw_len - done : 65535;
        z[o++] = done + n == raw_len ? 1 : 0; /* BFINAL, BTYPE 00 (stored) */
        z[o++] = (uint8_t)n; z[o++] = (uint8_t)(n >> 8);
        z[o++] = (uint8_t)~n; z[o++] = (uint8_t)(~n >> 8);
        for (size_t i = 0; i < n; i++) {
            uint8_t byte;
            if (row_pos == 0)
                byte = 0; /* filter: none */
            else
                byte = rgba[(size_t)y * w * 4 + row_pos - 1];
            if (++row_pos == 1 + (size_t)w * 4) {
                row_pos = 0;
                y++;
            }
            z[o++] = byte;
            s1 = (s1 + byte) % 65521;
            s2 = (s2 + s1) % 65521;
        }
        done += n;
    }
    put_be32(z + o, (s2 << 16) | s1);
    o += 4;

    static const uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    uint8_t ihdr[13];
    put_be32(ihdr, w);
    put_be32(ihdr + 4, h);
    ihdr[8] = 8;  /* bit depth */
    ihdr[9] = 6;  /* colour type: RGBA */
    ihdr[10] = 0; /* compression: deflate */
    ihdr[11] = 0; /* filter method 0 */
    ihdr[12] = 0; /* no interlace */
    FILE *f = fopen(path, "wb");
    int ok = f != NULL;
    ok = ok && fwrite(signature, 1, 8, f) == 8;
    ok = ok && write_chunk(f, "IHDR", ihdr, sizeof ihdr);
    ok = ok && write_chunk(f, "IDAT", z, o);
    ok = ok && write_chunk(f, "IEND", NULL, 0);
    if (f)
        ok = (fclose(f) == 0) && ok;
    free(z);
    return ok;
}

/* ---- expected image -------------------------------------------------------- */

/* 1 inside, 0 outside, -1 too close to an edge to say (pixel centre in NDC). */
static int classify(double x, double y, double margin)
{
    /* Inside: x >= -0.9, y <= 0.9, and on the upper-left side of the edge
     * from (0.9, 0.9) to (-0.9, -0.9), i.e. y >= x. */
    double d[3] = {x + 0.9, 0.9 - y, (y - x) / sqrt(2.0)};
    int inside = 1;
    for (int i = 0; i < 3; i++) {
        if (fabs(d[i]) < margin)
            return -1;
        if (d[i] < 0)
            inside = 0;
    }
    return inside;
}

/* The texel colour at (u, v), or NULL when (u, v) is within `margin` texels
 * of a texel edge. */
static const uint8_t *expected_texel(double u, double v, double margin)
{
    double tu = u * TEX, tv = v * TEX;
    if (fabs(tu - floor(tu + 0.5)) < margin || fabs(tv - floor(tv + 0.5)) < margin)
        return NULL;
    int ix = (int)floor(tu) % TEX, iy = (int)floor(tv) % TEX;
    return ((ix + iy) & 1) ? color_b : color_a;
}

static void usage(void)
{
    fprintf(stderr, "usage: render [--out FILE.png] [--size N]\n");
}

int main(int argc, char **argv)
{
    const char *out = "render.png";
    uint32_t size = 256;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--out") && i + 1 < argc)
            out = argv[++i];
        else if (!strcmp(argv[i], "--size") && i + 1 < argc)
            size = (uint32_t)strtoul(argv[++i], NULL, 10);
        else {
            usage();
            return 2;
        }
    }
    if (size < 64 || size > 4096) {
        usage();
        return 2;
    }
    crc_init();
    double t_start = now_s();

    struct gpu g;
    if (!gpu_init(&g))
        return 1;
    print_adapter(&g);

    /* The checkerboard texture. */
    uint8_t texels[TEX * TEX * 4];
    for (int y = 0; y < TEX; y++)
        for (int x = 0; x < TEX; x++)
            memcpy(texels + 4 * (y * TEX + x), ((x + y) & 1) ? color_b : color_a, 4);
    WGPUTextureDescriptor td = {
        .usage = WGPUTextureUsage_TextureBinding | WGPUTextureUsage_CopyDst,
        .dimension = WGPUTextureDimension_2D, .size = {TEX, TEX, 1},
        .format = WGPUTextureFormat_RGBA8Unorm, .mipLevelCount = 1, .sampleCount = 1,
    };
    WGPUTexture tex = wgpuDeviceCreateTexture(g.device, &td);
    WGPUTexelCopyTextureInfo dst = {.texture = tex, .aspect = WGPUTextureAspect_All};
    WGPUTexelCopyBufferLayout layout = {.bytesPerRow = TEX * 4, .rowsPerImage = TEX};
    WGPUExtent3D tex_size = {TEX, TEX, 1};
    wgpuQueueWriteTexture(g.queue, &dst, texels, sizeof texels, &layout, &tex_size);
    WGPUTextureView tex_view = wgpuTextureCreateView(tex, NULL);
    WGPUSamplerDescriptor sd = {
        .addressModeU = WGPUAddressMode_Repeat, .addressModeV = WGPUAddressMode_Repeat,
        .addressModeW = WGPUAddressMode_Repeat, .magFilter = WGPUFilterMode_Nearest,
        .minFilter = WGPUFilterMode_Nearest, .mipmapFilter = WGPUMipmapFilterMode_Nearest,
        .lodMinClamp = 0.0f, .lodMaxClamp = 32.0f, .maxAnisotropy = 1,
    };
    WGPUSampler sampler = wgpuDeviceCreateSampler(g.device, &sd);

    /* The vertex buffer. */
    WGPUBufferDescriptor vbd = {.usage = WGPUBufferUsage_Vertex | WGPUBufferUsage_CopyDst, .size = sizeof tri};
    WGPUBuffer vb = wgpuDeviceCreateBuffer(g.device, &vbd);
    wgpuQueueWriteBuffer(g.queue, vb, 0, tri, sizeof tri);

    /* The pipeline. */
    WGPUShaderModule m = make_shader(&g, shader);
    WGPUVertexAttribute attrs[2] = {
        {.format = WGPUVertexFormat_Float32x2, .offset = 0, .shaderLocation = 0},
        {.format = WGPUVertexFormat_Float32x2, .offset = 8, .shaderLocation = 1},
    };
    WGPUVertexBufferLayout vbl = {.stepMode = WGPUVertexStepMode_Vertex, .arrayStride = sizeof(struct vertex),
                                  .attributeCount = 2, .attributes = attrs};
    WGPUColorTargetState target = {.format = WGPUTextureFormat_RGBA8Unorm, .writeMask = WGPUColorWriteMask_All};
    WGPUFragmentState fs = {.module = m, .entryPoint = sv("fs"), .targetCount = 1, .targets = &target};
    WGPURenderPipelineDescriptor rpd = {
        .vertex = {.module = m, .entryPoint = sv("vs"), .bufferCount = 1, .buffers = &vbl},
        .primitive = {.topology = WGPUPrimitiveTopology_TriangleList, .frontFace = WGPUFrontFace_CCW,
                      .cullMode = WGPUCullMode_None},
        .multisample = {.count = 1, .mask = 0xFFFFFFFFu},
        .fragment = &fs,
    };
    WGPURenderPipeline pipe = wgpuDeviceCreateRenderPipeline(g.device, &rpd);
    WGPUBindGroupLayout bgl = wgpuRenderPipelineGetBindGroupLayout(pipe, 0);
    WGPUBindGroupEntry be[2] = {{.binding = 0, .textureView = tex_view}, {.binding = 1, .sampler = sampler}};
    WGPUBindGroupDescriptor bgd = {.layout = bgl, .entryCount = 2, .entries = be};
    WGPUBindGroup bg = wgpuDeviceCreateBindGroup(g.device, &bgd);

    /* The target and the readback buffer (rows padded to 256 bytes). */
    WGPUTextureDescriptor rtd = {
        .usage = WGPUTextureUsage_RenderAttachment | WGPUTextureUsage_CopySrc,
        .dimension = WGPUTextureDimension_2D, .size = {size, size, 1},
        .format = WGPUTextureFormat_RGBA8Unorm, .mipLevelCount = 1, .sampleCount = 1,
    };
    WGPUTexture rt = wgpuDeviceCreateTexture(g.device, &rtd);
    WGPUTextureView rt_view = wgpuTextureCreateView(rt, NULL);
    uint32_t row = (size * 4 + 255) & ~255u;
    uint64_t read_size = (uint64_t)row * size;
    WGPUBufferDescriptor rbd = {.usage = WGPUBufferUsage_MapRead | WGPUBufferUsage_CopyDst, .size = read_size};
    WGPUBuffer rb = wgpuDeviceCreateBuffer(g.device, &rbd);
    if (!queue_wait(&g)) /* uploads done: time the render alone */
        fprintf(stderr, "render: waiting for the uploads failed\n");

    double t_render = now_s();
    WGPUCommandEncoder enc = wgpuDeviceCreateCommandEncoder(g.device, NULL);
    WGPURenderPassColorAttachment ca = {
        .view = rt_view, .depthSlice = WGPU_DEPTH_SLICE_UNDEFINED,
        .loadOp = WGPULoadOp_Clear, .storeOp = WGPUStoreOp_Store,
        .clearValue = {background[0] / 255.0, background[1] / 255.0, background[2] / 255.0, 1.0},
    };
    WGPURenderPassDescriptor pass_desc = {.colorAttachmentCount = 1, .colorAttachments = &ca};
    WGPURenderPassEncoder pass = wgpuCommandEncoderBeginRenderPass(enc, &pass_desc);
    wgpuRenderPassEncoderSetPipeline(pass, pipe);
    wgpuRenderPassEncoderSetBindGroup(pass, 0, bg, 0, NULL);
    wgpuRenderPassEncoderSetVertexBuffer(pass, 0, vb, 0, WGPU_WHOLE_SIZE);
    wgpuRenderPassEncoderDraw(pass, 3, 1, 0, 0);
    wgpuRenderPassEncoderEnd(pass);
    wgpuRenderPassEncoderRelease(pass);
    WGPUTexelCopyTextureInfo src = {.texture = rt, .aspect = WGPUTextureAspect_All};
    WGPUTexelCopyBufferInfo bdst = {.layout = {.offset = 0, .bytesPerRow = row, .rowsPerImage = size}, .buffer = rb};
    WGPUExtent3D copy = {size, size, 1};
    wgpuCommandEncoderCopyTextureToBuffer(enc, &src, &bdst, &copy);
    WGPUCommandBuffer cb = wgpuCommandEncoderFinish(enc, NULL);
    wgpuQueueSubmit(g.queue, 1, &cb);
    wgpuCommandBufferRelease(cb);
    wgpuCommandEncoderRelease(enc);
    int ok = queue_wait(&g);
    double t_done = now_s();
    ok = ok && map_read(&g, rb, (size_t)read_size);
    double t_mapped = now_s();

    uint8_t *img = malloc((size_t)size * size * 4);
    const uint8_t *mapped = ok ? wgpuBufferGetConstMappedRange(rb, 0, (size_t)read_size) : NULL;
    int correct = 0;
    if (!img || !mapped || g.errors) {
        printf("render: %s\n", g.errors ? "WebGPU reported errors" : "could not read the image back");
    } else {
        for (uint32_t y = 0; y < size; y++)
            memcpy(img + (size_t)y * size * 4, mapped + (size_t)y * row, (size_t)size * 4);

        /* A few named pixels, then every unambiguous one. */
        long checked = 0, bad = 0;
        uint32_t corners[3][2] = {{0, 0}, {size - 1, 0}, {size - 1, size - 1}};
        for (int i = 0; i < 3; i++) {
            const uint8_t *p = img + 4 * ((size_t)corners[i][1] * size + corners[i][0]);
            checked++;
            if (memcmp(p, background, 4)) {
                bad++;
                printf("render: mismatch at corner (%u, %u): %u %u %u %u, want background\n",
                       corners[i][0], corners[i][1], p[0], p[1], p[2], p[3]);
            }
        }
        const uint8_t *first_in = NULL;
        double margin_px = 1.5;
        for (uint32_t y = 0; y < size; y++) {
            for (uint32_t x = 0; x < size; x++) {
                double nx = (x + 0.5) / size * 2.0 - 1.0, ny = 1.0 - (y + 0.5) / size * 2.0;
                int in = classify(nx, ny, margin_px * 2.0 / size);
                const uint8_t *want;
                if (in < 0)
                    continue;
                if (in) {
                    double u = (nx + 0.9) * 1.25, v = (0.9 - ny) * 1.25;
                    want = expected_texel(u, v, margin_px * 2.0 / size * 1.25 * TEX);
                    if (!want)
                        continue;
                } else {
                    want = background;
                }
                const uint8_t *p = img + 4 * ((size_t)y * size + x);
                checked++;
                if (in && !first_in)
                    first_in = p;
                if (memcmp(p, want, 4)) {
                    if (bad++ < 5)
                        printf("render: mismatch at (%u, %u): %u %u %u %u, want %u %u %u %u\n", x, y,
                               p[0], p[1], p[2], p[3], want[0], want[1], want[2], want[3]);
                }
            }
        }
        /* Named pixels: the centres of the first two checker cells of the
         * top row (orange, then blue) and the top-left corner. */
        for (int cell = 0; cell < 2; cell++) {
            double u = (cell + 0.5) / TEX, v = 0.5 / TEX;
            uint32_t px = (uint32_t)((u / 1.25 - 0.9 + 1.0) / 2.0 * size);
            uint32_t py = (uint32_t)((1.0 - (0.9 - v / 1.25)) / 2.0 * size);
            const uint8_t *p = img + 4 * ((size_t)py * size + px);
            const uint8_t *want = cell ? color_b : color_a;
            printf("texel cell (%d, 0) at pixel (%u, %u): %u %u %u (%s)\n", cell, px, py, p[0], p[1], p[2],
                   cell ? "blue" : "orange");
            checked++;
            if (memcmp(p, want, 4)) {
                bad++;
                printf("render: mismatch at (%u, %u): want %u %u %u\n", px, py, want[0], want[1], want[2]);
            }
        }
        printf("corner (0, 0): %u %u %u (background)\n", img[0], img[1], img[2]);
        printf("checked %ld of %u pixels, %ld wrong\n", checked, size * size, bad);
        correct = bad == 0 && first_in != NULL;
    }
    if (mapped)
        wgpuBufferUnmap(rb);

    int saved = img && mapped && write_png(out, img, size, size);
    if (saved)
        printf("wrote %s (%ux%u)\n", out, size, size);
    else
        printf("render: could not write %s\n", out);
    printf("render %.1f ms, readback %.1f ms, total %.1f ms\n", (t_done - t_render) * 1e3,
           (t_mapped - t_done) * 1e3, (now_s() - t_start) * 1e3);
    if (correct && saved)
        printf("render: ok\n");

    free(img);
    wgpuBufferRelease(rb);
    wgpuTextureViewRelease(rt_view);
    wgpuTextureRelease(rt);
    wgpuBindGroupRelease(bg);
    wgpuBindGroupLayoutRelease(bgl);
    wgpuRenderPipelineRelease(pipe);
    wgpuShaderModuleRelease(m);
    wgpuBufferRelease(vb);
    wgpuSamplerRelease(sampler);
    wgpuTextureViewRelease(tex_view);
    wgpuTextureRelease(tex);
    gpu_release(&g);
    return correct && saved ? 0 : 1;
}
