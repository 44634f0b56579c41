/* Seeds for fuzz-decoder: command streams with byte blocks by reference in
 * resource mode (mode 2), which no recorded stream has (wgv-server's guests
 * name bulk offsets; only virtio-gpu guests name resources). Each stream
 * gets an adapter, a device and a buffer, then writes into the buffer from
 * the resources fuzz-decoder attaches (fuzz/fuzz-decoder.c): in one piece,
 * across pieces and empty ones, empty ranges at the end, a range past it.
 *
 * Usage: seed-decoder OUTDIR */
#include <stdio.h>
#include <stdlib.h>

#include "encode.h"

#define OBJ(type, id) ((type)(uintptr_t)(id | 1ull << 32))

struct range {
    uint32_t resource;
    uint64_t offset, size;
};

static void command(struct wgv_writer *out, unsigned op, const void *args)
{
    struct wgv_writer w;
    test_encode_command(op, args, &w);
    wgv_writer_put(out, w.data, w.len);
    wgv_writer_free(&w);
}

/* queueWriteBuffer(queue 1, buffer 1, offset, <resource, offset, size>) */
static void write_from(struct wgv_writer *out, uint64_t at, struct range r)
{
    size_t start = out->len;
    struct wgv_cmd_header h = {0, WGV_OP_wgpuQueueWriteBuffer, 0};
    wgv_writer_put(out, &h, sizeof(h));
    wgv_put_u64(out, 1ull | 1ull << 32);
    wgv_put_u64(out, 1ull | 1ull << 32);
    wgv_put_u64(out, at);
    wgv_put_u32(out, 2);
    wgv_put_u64(out, r.size);
    wgv_put_u32(out, r.resource);
    wgv_put_u64(out, r.offset);
    h.size = (uint32_t)(out->len - start);
    memcpy(out->data + start, &h, sizeof(h));
}

static int write_stream(const char *dir, int n, const struct range *ranges, unsigned count)
{
    struct wgv_writer w;
    wgv_writer_init(&w);
    struct wgv_ga_wgpuInstanceRequestAdapter ra = {OBJ(WGPUInstance, 1), NULL, 1,
                                                   OBJ(WGPUAdapter, 1)};
    command(&w, WGV_OP_wgpuInstanceRequestAdapter, &ra);
    struct wgv_ga_wgpuAdapterRequestDevice rd = {OBJ(WGPUAdapter, 1), NULL, 2, OBJ(WGPUDevice, 1),
                                                 OBJ(WGPUQueue, 1), 3, 4};
    command(&w, WGV_OP_wgpuAdapterRequestDevice, &rd);
    WGPUBufferDescriptor d = WGPU_BUFFER_DESCRIPTOR_INIT;
    d.size = 1 << 17;
    d.usage = WGPUBufferUsage_CopyDst | WGPUBufferUsage_MapRead;
    struct wgv_ga_wgpuDeviceCreateBuffer cb = {OBJ(WGPUDevice, 1), &d, OBJ(WGPUBuffer, 1)};
    command(&w, WGV_OP_wgpuDeviceCreateBuffer, &cb);
    uint64_t at = 0;
    for (unsigned i = 0; i < count; i++) {
        write_from(&w, at, ranges[i]);
        at += (ranges[i].size + 3) & ~3ull;
    }
    char path[4096];
    snprintf(path, sizeof(path), "%s/resource-mode-%d.wgv", dir, n);
    FILE *f = fopen(path, "wb");
    int rc = f && fwrite(w.data, 1, w.len, f) == w.len ? 0 : -1;
    if (f && fclose(f) != 0)
        rc = -1;
    wgv_writer_free(&w);
    if (rc)
        fprintf(stderr, "seed-decoder: cannot write %s\n", path);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: seed-decoder OUTDIR\n");
        return 2;
    }
    /* Resource 1: 64 KiB in one piece; 2: pieces of 0, 17, 0, 4096, 1, 0,
     * 8192 bytes (12,306 in all); 3: one empty piece. */
    static const struct range inside[] = {{1, 0, 256}, {1, 65536 - 64, 64}, {2, 0, 16},
                                          {2, 17, 4096}, {2, 4113, 8192}};
    static const struct range across[] = {{2, 0, 12304}, {2, 12, 4104}, {2, 4112, 4}};
    static const struct range empty[] = {{1, 65536, 0}, {2, 12306, 0}, {3, 0, 0}, {2, 17, 0}};
    static const struct range beyond[] = {{1, 0, 64}, {2, 12300, 8}};
    return write_stream(argv[1], 1, inside, 5) || write_stream(argv[1], 2, across, 3) ||
                   write_stream(argv[1], 3, empty, 4) || write_stream(argv[1], 4, beyond, 2)
               ? 1
               : 0;
}
