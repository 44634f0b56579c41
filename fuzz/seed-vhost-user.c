/* Seeds for fuzz-vhost-user: inputs in its format (fuzz/fuzz-vhost-user.c)
 * that drive the device as a guest kernel does, so that the fuzzer starts
 * from requests that succeed instead of guessing each layout:
 *
 *   seed-2d        a 2D resource with backing, a scanout, transfers, a
 *                  flush, a cursor, then everything undone
 *   seed-3d-N      a context whose shared memory (a buffer resource of
 *                  guest pages) is set up, a second resource of scattered
 *                  pages attached to it, the command ring filled with the
 *                  start of recorded stream N, a KICK, the resource
 *                  detached and unreffed, the context destroyed
 *
 * Usage: seed-vhost-user OUTDIR [STREAM...] (streams as wgv-server
 * --record writes them: ring records, one after the other). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wgv-wire-ids.h"
#include "shm.h"
#include "virtgpu-records.h"
#include "virtio-gpu.h"

/* Where things lie in the fuzz target's guest RAM. */
#define SHM_GPA 0x100000u
#define RES2_GPA0 0x200000u
#define RES2_GPA1 0x300000u
#define RING_SIZE 65536u
#define CTX 1u
#define SHM_RES 1u
#define DATA_RES 2u

struct seed {
    uint8_t *bytes;
    size_t len, cap;
};

static void put(struct seed *s, const void *p, size_t n)
{
    if (s->len + n > s->cap) {
        s->cap = (s->len + n) * 2;
        s->bytes = realloc(s->bytes, s->cap);
        if (!s->bytes)
            abort();
    }
    memcpy(s->bytes + s->len, p, n);
    s->len += n;
}

static void op(struct seed *s, uint8_t code)
{
    put(s, &code, 1);
}

/* A request on the control (queue 0) or cursor (2) queue. */
static void request(struct seed *s, uint8_t queue, const void *req, size_t len)
{
    uint16_t n = (uint16_t)len;
    op(s, queue);
    put(s, &n, sizeof(n));
    put(s, req, len);
}

/* Bytes written into guest RAM, in writes of at most 64 KiB - 1. */
static void ram(struct seed *s, uint32_t gpa, const void *bytes, size_t len)
{
    const uint8_t *p = bytes;
    while (len) {
        uint16_t n = len > 0xfff8 ? 0xfff8 : (uint16_t)len;
        op(s, 3);
        put(s, &gpa, sizeof(gpa));
        put(s, &n, sizeof(n));
        put(s, p, n);
        p += n, gpa += n, len -= n;
    }
}

static struct wgv_gpu_hdr hdr(uint32_t type, uint32_t ctx)
{
    return (struct wgv_gpu_hdr){.type = type, .ctx_id = ctx};
}

static void resource_id_request(struct seed *s, uint32_t type, uint32_t ctx, uint32_t id)
{
    struct wgv_gpu_resource_id r = {hdr(type, ctx), id, 0};
    request(s, 0, &r, sizeof(r));
}

static void backing(struct seed *s, uint32_t id, const struct wgv_gpu_mem_entry *e, uint32_t n)
{
    struct wgv_gpu_attach_backing a = {hdr(WGV_GPU_CMD_RESOURCE_ATTACH_BACKING, 0), id, n};
    uint8_t req[256];
    memcpy(req, &a, sizeof(a));
    memcpy(req + sizeof(a), e, n * sizeof(*e));
    request(s, 0, req, sizeof(a) + n * sizeof(*e));
}

static void submit(struct seed *s, const void *records, uint32_t len)
{
    struct wgv_gpu_submit_3d c = {hdr(WGV_GPU_CMD_SUBMIT_3D, CTX), len, 0};
    c.hdr.flags = WGV_GPU_FLAG_FENCE;
    c.hdr.fence_id = 1;
    uint8_t req[128];
    memcpy(req, &c, sizeof(c));
    memcpy(req + sizeof(c), records, len);
    request(s, 0, req, sizeof(c) + len);
}

static void seed_2d(struct seed *s)
{
    uint8_t features = 3;
    put(s, &features, 1);
    struct wgv_gpu_hdr info = hdr(WGV_GPU_CMD_GET_DISPLAY_INFO, 0);
    request(s, 0, &info, sizeof(info));
    struct wgv_gpu_resource_create_2d c = {hdr(WGV_GPU_CMD_RESOURCE_CREATE_2D, 0), 3,
                                           WGV_GPU_FORMAT_B8G8R8A8_UNORM, 64, 64};
    request(s, 0, &c, sizeof(c));
    /* 16 KiB of pixels in two runs, the second not page-aligned. */
    struct wgv_gpu_mem_entry e[2] = {{0x400000, 8192, 0}, {0x500010, 8192, 0}};
    backing(s, 3, e, 2);
    uint8_t px[256];
    for (unsigned i = 0; i < sizeof(px); i++)
        px[i] = (uint8_t)(i * 7);
    ram(s, 0x400000, px, sizeof(px));
    struct wgv_gpu_set_scanout so = {hdr(WGV_GPU_CMD_SET_SCANOUT, 0), {0, 0, 64, 64}, 0, 3};
    request(s, 0, &so, sizeof(so));
    struct wgv_gpu_transfer_to_host_2d t = {hdr(WGV_GPU_CMD_TRANSFER_TO_HOST_2D, 0),
                                            {0, 0, 64, 64}, 0, 3, 0};
    request(s, 0, &t, sizeof(t));
    t.r = (struct wgv_gpu_rect){8, 30, 16, 4};
    t.offset = 30 * 256 + 32;
    request(s, 0, &t, sizeof(t));
    struct wgv_gpu_resource_flush f = {hdr(WGV_GPU_CMD_RESOURCE_FLUSH, 0), {0, 0, 64, 64}, 3, 0};
    request(s, 0, &f, sizeof(f));
    op(s, 4);
    struct wgv_gpu_update_cursor cur = {hdr(WGV_GPU_CMD_UPDATE_CURSOR, 0), 0, 10, 10, 0, 3, 1, 1,
                                        0};
    request(s, 2, &cur, sizeof(cur));
    cur.hdr.type = WGV_GPU_CMD_MOVE_CURSOR;
    request(s, 2, &cur, sizeof(cur));
    so.resource_id = 0;
    request(s, 0, &so, sizeof(so));
    resource_id_request(s, WGV_GPU_CMD_RESOURCE_DETACH_BACKING, 0, 3);
    resource_id_request(s, WGV_GPU_CMD_RESOURCE_UNREF, 0, 3);
    op(s, 4);
}

/* The start of a recorded stream that fits in the command ring: whole
 * records only. */
static size_t ring_part(const uint8_t *stream, size_t len)
{
    size_t pos = 0;
    while (pos + 8 <= len) {
        uint32_t n;
        memcpy(&n, stream + pos, 4);
        if (n < 8 || n % 8 || n > len - pos || pos + n > RING_SIZE)
            break;
        pos += n;
    }
    return pos;
}

static void seed_3d(struct seed *s, const uint8_t *stream, size_t stream_len)
{
    uint8_t features = 3;
    put(s, &features, 1);
    struct wgv_gpu_get_capset_info ci = {hdr(WGV_GPU_CMD_GET_CAPSET_INFO, 0), 0, 0};
    request(s, 0, &ci, sizeof(ci));
    struct wgv_gpu_get_capset cs = {hdr(WGV_GPU_CMD_GET_CAPSET, 0), WGV_VIRTIO_CAPSET_ID,
                                    WGV_VIRTIO_CAPSET_VERSION};
    request(s, 0, &cs, sizeof(cs));
    struct wgv_gpu_ctx_create cc = {hdr(WGV_GPU_CMD_CTX_CREATE, CTX), 4, WGV_VIRTIO_CAPSET_ID,
                                    "seed"};
    request(s, 0, &cc, sizeof(cc));
    /* The shared memory: a buffer resource over guest pages. */
    struct wgv_shm_sizes sizes = {RING_SIZE, RING_SIZE, RING_SIZE};
    uint32_t total = (uint32_t)wgv_shm_total_size(&sizes);
    struct wgv_gpu_resource_create_3d r3 = {.hdr = hdr(WGV_GPU_CMD_RESOURCE_CREATE_3D, CTX),
                                            .resource_id = SHM_RES, .width = total, .height = 1,
                                            .depth = 1, .array_size = 1};
    request(s, 0, &r3, sizeof(r3));
    struct wgv_gpu_mem_entry shm = {SHM_GPA, total, 0};
    backing(s, SHM_RES, &shm, 1);
    resource_id_request(s, WGV_GPU_CMD_CTX_ATTACH_RESOURCE, CTX, SHM_RES);
    /* A blob of two runs of guest pages, for byte blocks by resource. */
    struct {
        struct wgv_gpu_resource_create_blob b;
        struct wgv_gpu_mem_entry e[2];
    } blob = {{hdr(WGV_GPU_CMD_RESOURCE_CREATE_BLOB, CTX), DATA_RES, WGV_GPU_BLOB_MEM_GUEST, 0, 2,
               0, 12288},
              {{RES2_GPA0, 4096, 0}, {RES2_GPA1, 8192, 0}}};
    request(s, 0, &blob, sizeof(blob));
    resource_id_request(s, WGV_GPU_CMD_CTX_ATTACH_RESOURCE, CTX, DATA_RES);
    struct wgv_vrec_setup setup = {{WGV_VREC_SETUP, WGV_VREC_SETUP_SIZE}, SHM_RES,
                                   WGV_PROTOCOL_VERSION, RING_SIZE, RING_SIZE, RING_SIZE};
    submit(s, &setup, sizeof(setup));
    op(s, 4);
    /* The commands, then the ring's head moved past them, then a KICK. */
    size_t n = ring_part(stream, stream_len);
    uint64_t page = wgv_shm_page_size();
    ram(s, SHM_GPA + (uint32_t)page, stream, n);
    uint64_t head = n;
    ram(s, SHM_GPA + (uint32_t)offsetof(struct wgv_shm_control, cmd_ring.head), &head,
        sizeof(head));
    struct wgv_vrec_header kick = {WGV_VREC_KICK, WGV_VREC_KICK_SIZE};
    submit(s, &kick, sizeof(kick));
    op(s, 4);
    resource_id_request(s, WGV_GPU_CMD_CTX_DETACH_RESOURCE, CTX, DATA_RES);
    resource_id_request(s, WGV_GPU_CMD_RESOURCE_UNREF, 0, DATA_RES);
    op(s, 4);
    struct wgv_gpu_hdr destroy = hdr(WGV_GPU_CMD_CTX_DESTROY, CTX);
    request(s, 0, &destroy, sizeof(destroy));
    resource_id_request(s, WGV_GPU_CMD_RESOURCE_UNREF, 0, SHM_RES);
    op(s, 4);
}

static int write_seed(const char *dir, const char *name, struct seed *s)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(s->bytes, 1, s->len, f) != s->len || fclose(f) != 0) {
        fprintf(stderr, "seed-vhost-user: cannot write %s\n", path);
        return -1;
    }
    s->len = 0;
    return 0;
}

static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = malloc(RING_SIZE);
    *len = buf ? fread(buf, 1, RING_SIZE, f) : 0;
    fclose(f);
    return buf;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: seed-vhost-user OUTDIR [STREAM...]\n");
        return 2;
    }
    struct seed s = {0};
    seed_2d(&s);
    if (write_seed(argv[1], "seed-2d", &s) != 0)
        return 1;
    seed_3d(&s, NULL, 0);
    if (write_seed(argv[1], "seed-3d-0", &s) != 0)
        return 1;
    for (int i = 2; i < argc; i++) {
        size_t len;
        uint8_t *stream = read_all(argv[i], &len);
        if (!stream) {
            fprintf(stderr, "seed-vhost-user: cannot read %s\n", argv[i]);
            return 1;
        }
        seed_3d(&s, stream, len);
        free(stream);
        char name[32];
        snprintf(name, sizeof(name), "seed-3d-%d", i - 1);
        if (write_seed(argv[1], name, &s) != 0)
            return 1;
    }
    free(s.bytes);
    return 0;
}
