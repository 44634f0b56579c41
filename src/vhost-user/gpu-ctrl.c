/* The control and cursor queues: taking requests, dispatching them, the 2D
 * commands a Linux guest issues at boot, capsets, and responses (fenced
 * ones through fences.c). The 3D commands are in gpu-3d.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pump.h"
#include "virtgpu-records.h"
#include "vu.h"

/* A response with room for the largest we send (a capset). */
struct resp {
    struct wgv_gpu_hdr hdr;
    uint8_t body[512];
};

uint32_t wgv_vu_respond(const struct wgv_vq_chain *c, const void *resp, size_t len)
{
    if (c->out_len >= len)
        return (uint32_t)wgv_vq_write(c, resp, len);
    if (c->out_len < sizeof(struct wgv_gpu_hdr))
        return 0;
    /* Too little room for the answer: say so in the header. */
    struct wgv_gpu_hdr h;
    memcpy(&h, resp, sizeof(h));
    h.type = WGV_GPU_RESP_ERR_INVALID_PARAMETER;
    return (uint32_t)wgv_vq_write(c, &h, sizeof(h));
}

static bool rect_inside(const struct wgv_gpu_rect *r, uint32_t width, uint32_t height)
{
    return r->x <= width && r->width <= width - r->x && r->y <= height &&
           r->height <= height - r->y;
}

static bool format_ok(uint32_t f)
{
    switch (f) {
    case WGV_GPU_FORMAT_B8G8R8A8_UNORM: case WGV_GPU_FORMAT_B8G8R8X8_UNORM:
    case WGV_GPU_FORMAT_A8R8G8B8_UNORM: case WGV_GPU_FORMAT_X8R8G8B8_UNORM:
    case WGV_GPU_FORMAT_R8G8B8A8_UNORM: case WGV_GPU_FORMAT_X8B8G8R8_UNORM:
    case WGV_GPU_FORMAT_A8B8G8R8_UNORM: case WGV_GPU_FORMAT_R8G8B8X8_UNORM:
        return true;
    default:
        return false;
    }
}

/* Copies a request's fixed part; false if it is shorter. */
#define TAKE(var, in, len) (len >= sizeof(var) ? (memcpy(&var, in, sizeof(var)), true) : false)

static uint32_t create_2d(struct wgv_vu *vu, const uint8_t *in, size_t len)
{
    struct wgv_gpu_resource_create_2d c;
    if (!TAKE(c, in, len))
        return WGV_GPU_RESP_ERR_INVALID_PARAMETER;
    if (!format_ok(c.format) || c.width == 0 || c.height == 0 || c.width > 16384 ||
        c.height > 16384)
        return WGV_GPU_RESP_ERR_INVALID_PARAMETER;
    uint64_t bytes = (uint64_t)c.width * c.height * 4;
    if (bytes > vu->cfg.max_2d_bytes - vu->bytes_2d)
        return WGV_GPU_RESP_ERR_OUT_OF_MEMORY;
    if (c.resource_id == 0 || wgv_vu_res_find(vu, c.resource_id))
        return WGV_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    uint8_t *pixels = calloc(1, (size_t)bytes);
    if (!pixels)
        return WGV_GPU_RESP_ERR_OUT_OF_MEMORY;
    struct wgv_vu_resource *r = wgv_vu_res_add(vu, c.resource_id, WGV_VU_RES_2D);
    if (!r) {
        free(pixels);
        return WGV_GPU_RESP_ERR_OUT_OF_MEMORY;
    }
    r->format = c.format;
    r->width = c.width;
    r->height = c.height;
    r->size = bytes;
    r->pixels = pixels;
    vu->bytes_2d += bytes;
    return WGV_GPU_RESP_OK_NODATA;
}

static void scanout_off(struct wgv_vu *vu)
{
    vu->scanout_res = 0;
    wgv_vu_display_scanout(&vu->display, 0, 0, NULL, 0);
}

static uint32_t unref(struct wgv_vu *vu, const uint8_t *in, size_t len)
{
    struct wgv_gpu_resource_id c;
    if (!TAKE(c, in, len))
        return WGV_GPU_RESP_ERR_INVALID_PARAMETER;
    struct wgv_vu_resource *r = wgv_vu_res_find(vu, c.resource_id);
    if (!r)
        return WGV_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    if (vu->scanout_res == r->id)
        scanout_off(vu);
    wgv_vu_ctxs_forget_resource(vu, r, true);
    wgv_vu_res_remove(vu, r);
    return WGV_GPU_RESP_OK_NODATA;
}

static void show(struct wgv_vu *vu, struct wgv_gpu_rect rect)
{
    /* Only what lies inside the scanout's rectangle, in its coordinates. */
    const struct wgv_gpu_rect *s = &vu->scanout_rect;
    uint32_t x0 = rect.x > s->x ? rect.x : s->x, y0 = rect.y > s->y ? rect.y : s->y;
    uint64_t x1 = (uint64_t)rect.x + rect.width, y1 = (uint64_t)rect.y + rect.height;
    if (x1 > (uint64_t)s->x + s->width)
        x1 = (uint64_t)s->x + s->width;
    if (y1 > (uint64_t)s->y + s->height)
        y1 = (uint64_t)s->y + s->height;
    if (x1 <= x0 || y1 <= y0)
        return;
    wgv_vu_display_update(&vu->display, x0 - s->x, y0 - s->y, (uint32_t)(x1 - x0),
                          (uint32_t)(y1 - y0));
}

/* The 2D resource `id` names, or NULL (none, or a 3D one). */
static struct wgv_vu_resource *find_2d(const struct wgv_vu *vu, uint32_t id)
{
    struct wgv_vu_resource *r = wgv_vu_res_find(vu, id);
    return r && r->kind == WGV_VU_RES_2D ? r : NULL;
}

static uint32_t set_scanout(struct wgv_vu *vu, const uint8_t *in, size_t len)
{
    struct wgv_gpu_set_scanout c;
    if (!TAKE(c, in, len))
        return WGV_GPU_RESP_ERR_INVALID_PARAMETER;
    if (c.scanout_id != 0)
        return WGV_GPU_RESP_ERR_INVALID_SCANOUT_ID;
    if (c.resource_id == 0) {
        scanout_off(vu);
        return WGV_GPU_RESP_OK_NODATA;
    }
    struct wgv_vu_resource *r = find_2d(vu, c.resource_id);
    if (!r)
        return WGV_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    if (!rect_inside(&c.r, r->width, r->height) || !c.r.width || !c.r.height)
        return WGV_GPU_RESP_ERR_INVALID_PARAMETER;
    vu->scanout_res = r->id;
    vu->scanout_rect = c.r;
    wgv_vu_display_scanout(&vu->display, c.r.width, c.r.height,
                           r->pixels + ((size_t)c.r.y * r->width + c.r.x) * 4, (size_t)r->width * 4);
    show(vu, c.r);
    return WGV_GPU_RESP_OK_NODATA;
}

static uint32_t flush(struct wgv_vu *vu, const uint8_t *in, size_t len)
{
    struct wgv_gpu_resource_flush c;
    if (!TAKE(c, in, len))
        return WGV_GPU_RESP_ERR_INVALID_PARAMETER;
    struct wgv_vu_resource *r = find_2d(vu, c.resource_id);
    if (!r)
        return WGV_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    if (!rect_inside(&c.r, r->width, r->height))
        return WGV_GPU_RESP_ERR_INVALID_PARAMETER;
    if (vu->scanout_res == r->id)
        show(vu, c.r);
    return WGV_GPU_RESP_OK_NODATA;
}

static uint32_t transfer_2d(struct wgv_vu *vu, const uint8_t *in, size_t len)
{
    struct wgv_gpu_transfer_to_host_2d c;
    if (!TAKE(c, in, len))
        return WGV_GPU_RESP_ERR_INVALID_PARAMETER;
    struct wgv_vu_resource *r = find_2d(vu, c.resource_id);
    if (!r)
        return WGV_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    if (!r->iov || !rect_inside(&c.r, r->width, r->height))
        return WGV_GPU_RESP_ERR_INVALID_PARAMETER;
    uint64_t stride = (uint64_t)r->width * 4, row = (uint64_t)c.r.width * 4;
    for (uint32_t y = 0; y < c.r.height; y++) {
        /* The guest's offset names the rectangle's first pixel in its copy. */
        uint64_t src = c.offset + stride * y;
        if (src < c.offset)
            return WGV_GPU_RESP_ERR_INVALID_PARAMETER;
        uint8_t *dst = r->pixels + ((uint64_t)(c.r.y + y) * r->width + c.r.x) * 4;
        if (!wgv_vu_res_read(r, src, dst, (size_t)row))
            return WGV_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    return WGV_GPU_RESP_OK_NODATA;
}

static uint32_t attach_backing(struct wgv_vu *vu, const uint8_t *in, size_t len)
{
    struct wgv_gpu_attach_backing c;
    if (!TAKE(c, in, len))
        return WGV_GPU_RESP_ERR_INVALID_PARAMETER;
    struct wgv_vu_resource *r = wgv_vu_res_find(vu, c.resource_id);
    if (!r)
        return WGV_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    if (r->iov || r->kind == WGV_VU_RES_BLOB)
        return WGV_GPU_RESP_ERR_UNSPEC;
    if (c.nr_entries > WGV_VU_MAX_ENTRIES ||
        (len - sizeof(c)) / sizeof(struct wgv_gpu_mem_entry) < c.nr_entries)
        return WGV_GPU_RESP_ERR_INVALID_PARAMETER;
    uint32_t rc = wgv_vu_res_set_backing(vu, r, in + sizeof(c), c.nr_entries);
    if (rc == WGV_GPU_RESP_OK_NODATA)
        wgv_vu_ctxs_backing_attached(vu, r);
    return rc;
}

static uint32_t detach_backing(struct wgv_vu *vu, const uint8_t *in, size_t len)
{
    struct wgv_gpu_resource_id c;
    if (!TAKE(c, in, len))
        return WGV_GPU_RESP_ERR_INVALID_PARAMETER;
    struct wgv_vu_resource *r = wgv_vu_res_find(vu, c.resource_id);
    if (!r)
        return WGV_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    if (!r->iov)
        return WGV_GPU_RESP_ERR_UNSPEC;
    wgv_vu_ctxs_forget_resource(vu, r, false);
    wgv_vu_res_drop_backing(r);
    return WGV_GPU_RESP_OK_NODATA;
}

static uint32_t display_info(struct resp *out, size_t *len)
{
    struct wgv_gpu_resp_display_info d;
    memset(&d, 0, sizeof(d));
    d.pmodes[0].r.width = WGV_VU_DISPLAY_WIDTH;
    d.pmodes[0].r.height = WGV_VU_DISPLAY_HEIGHT;
    d.pmodes[0].enabled = 1;
    memcpy(out->body, (uint8_t *)&d + sizeof(d.hdr), sizeof(d) - sizeof(d.hdr));
    *len = sizeof(d);
    return WGV_GPU_RESP_OK_DISPLAY_INFO;
}

static uint32_t capset_info(struct wgv_vu *vu, const uint8_t *in, size_t inlen, struct resp *out,
                            size_t *len)
{
    struct wgv_gpu_get_capset_info c;
    if (!TAKE(c, in, inlen) || c.capset_index != 0)
        return WGV_GPU_RESP_ERR_INVALID_PARAMETER;
    uint32_t body[4] = {WGV_VIRTIO_CAPSET_ID, WGV_VIRTIO_CAPSET_VERSION, (uint32_t)vu->capset_len, 0};
    memcpy(out->body, body, sizeof(body));
    *len = sizeof(struct wgv_gpu_resp_capset_info);
    return WGV_GPU_RESP_OK_CAPSET_INFO;
}

static uint32_t capset(struct wgv_vu *vu, const uint8_t *in, size_t inlen, struct resp *out,
                       size_t *len)
{
    struct wgv_gpu_get_capset c;
    /* Version 0 is what a guest asking for "any" sends (the kernel lets
     * it through); there is no older version to give. */
    if (!TAKE(c, in, inlen) || c.capset_id != WGV_VIRTIO_CAPSET_ID ||
        c.capset_version > WGV_VIRTIO_CAPSET_VERSION)
        return WGV_GPU_RESP_ERR_INVALID_PARAMETER;
    memcpy(out->body, vu->capset, vu->capset_len);
    *len = sizeof(out->hdr) + vu->capset_len;
    return WGV_GPU_RESP_OK_CAPSET;
}

static const char *cmd_name(uint32_t type)
{
    switch (type) {
    case WGV_GPU_CMD_GET_DISPLAY_INFO: return "GET_DISPLAY_INFO";
    case WGV_GPU_CMD_RESOURCE_CREATE_2D: return "RESOURCE_CREATE_2D";
    case WGV_GPU_CMD_RESOURCE_UNREF: return "RESOURCE_UNREF";
    case WGV_GPU_CMD_SET_SCANOUT: return "SET_SCANOUT";
    case WGV_GPU_CMD_RESOURCE_FLUSH: return "RESOURCE_FLUSH";
    case WGV_GPU_CMD_TRANSFER_TO_HOST_2D: return "TRANSFER_TO_HOST_2D";
    case WGV_GPU_CMD_RESOURCE_ATTACH_BACKING: return "RESOURCE_ATTACH_BACKING";
    case WGV_GPU_CMD_RESOURCE_DETACH_BACKING: return "RESOURCE_DETACH_BACKING";
    case WGV_GPU_CMD_GET_CAPSET_INFO: return "GET_CAPSET_INFO";
    case WGV_GPU_CMD_GET_CAPSET: return "GET_CAPSET";
    case WGV_GPU_CMD_CTX_CREATE: return "CTX_CREATE";
    case WGV_GPU_CMD_CTX_DESTROY: return "CTX_DESTROY";
    case WGV_GPU_CMD_CTX_ATTACH_RESOURCE: return "CTX_ATTACH_RESOURCE";
    case WGV_GPU_CMD_CTX_DETACH_RESOURCE: return "CTX_DETACH_RESOURCE";
    case WGV_GPU_CMD_RESOURCE_CREATE_3D: return "RESOURCE_CREATE_3D";
    case WGV_GPU_CMD_SUBMIT_3D: return "SUBMIT_3D";
    case WGV_GPU_CMD_RESOURCE_CREATE_BLOB: return "RESOURCE_CREATE_BLOB";
    default: return "command";
    }
}

static void handle(struct wgv_vu *vu, struct wgv_vq_chain *c)
{
    struct wgv_vq *q = &vu->vq[WGV_VU_CTRLQ];
    struct wgv_gpu_hdr h;
    if (c->in_len < sizeof(h)) {
        struct wgv_gpu_hdr e = {.type = WGV_GPU_RESP_ERR_UNSPEC};
        wgv_vu_log(vu, "control request of %zu bytes: shorter than a header", c->in_len);
        wgv_vq_push(q, c->head, wgv_vu_respond(c, &e, sizeof(e)));
        wgv_vq_chain_free(c);
        return;
    }
    memcpy(&h, c->in, sizeof(h));
    struct resp out;
    memset(&out, 0, sizeof(out));
    size_t len = sizeof(out.hdr);
    /* Room for a late answer before anything is done: a request that
     * gives pages back must not be answered early for want of memory. */
    struct wgv_vu_fence *later = malloc(sizeof(*later));
    if (!later) {
        out.hdr.type = WGV_GPU_RESP_ERR_OUT_OF_MEMORY;
        wgv_vq_push(q, c->head, wgv_vu_respond(c, &out, len));
        wgv_vq_chain_free(c);
        return;
    }
    wgv_vu_request_begin(vu);
    bool wait = false;
    uint32_t rc;
    switch (h.type) {
    case WGV_GPU_CMD_GET_DISPLAY_INFO: rc = display_info(&out, &len); break;
    case WGV_GPU_CMD_RESOURCE_CREATE_2D: rc = create_2d(vu, c->in, c->in_len); break;
    case WGV_GPU_CMD_RESOURCE_UNREF: rc = unref(vu, c->in, c->in_len); break;
    case WGV_GPU_CMD_SET_SCANOUT: rc = set_scanout(vu, c->in, c->in_len); break;
    case WGV_GPU_CMD_RESOURCE_FLUSH: rc = flush(vu, c->in, c->in_len); break;
    case WGV_GPU_CMD_TRANSFER_TO_HOST_2D: rc = transfer_2d(vu, c->in, c->in_len); break;
    case WGV_GPU_CMD_RESOURCE_ATTACH_BACKING: rc = attach_backing(vu, c->in, c->in_len); break;
    case WGV_GPU_CMD_RESOURCE_DETACH_BACKING: rc = detach_backing(vu, c->in, c->in_len); break;
    case WGV_GPU_CMD_GET_CAPSET_INFO: rc = capset_info(vu, c->in, c->in_len, &out, &len); break;
    case WGV_GPU_CMD_GET_CAPSET: rc = capset(vu, c->in, c->in_len, &out, &len); break;
    case WGV_GPU_CMD_CTX_CREATE:
    case WGV_GPU_CMD_CTX_DESTROY:
    case WGV_GPU_CMD_CTX_ATTACH_RESOURCE:
    case WGV_GPU_CMD_CTX_DETACH_RESOURCE:
    case WGV_GPU_CMD_RESOURCE_CREATE_3D:
    case WGV_GPU_CMD_TRANSFER_TO_HOST_3D:
    case WGV_GPU_CMD_TRANSFER_FROM_HOST_3D:
    case WGV_GPU_CMD_SUBMIT_3D:
    case WGV_GPU_CMD_RESOURCE_CREATE_BLOB:
        rc = wgv_vu_cmd_3d(vu, &h, c->in, c->in_len, &wait);
        break;
    default:
        /* EDID, UUIDs, scanout blobs and host-mapped blobs are not offered. */
        rc = WGV_GPU_RESP_ERR_UNSPEC;
        break;
    }
    if (rc >= WGV_GPU_RESP_ERR_UNSPEC)
        wgv_vu_log(vu, "%s (0x%x) of context %u failed: 0x%x", cmd_name(h.type), h.type,
                   h.ctx_id, rc);
    if (rc >= WGV_GPU_RESP_ERR_UNSPEC)
        len = sizeof(out.hdr);
    out.hdr.type = rc;
    bool fenced = h.flags & WGV_GPU_FLAG_FENCE;
    if (fenced) {
        /* The response carries the fence and goes in its turn. */
        out.hdr.flags = WGV_GPU_FLAG_FENCE;
        out.hdr.fence_id = h.fence_id;
        out.hdr.ctx_id = h.ctx_id;
        bool ring = (h.flags & WGV_GPU_FLAG_INFO_RING_IDX) &&
                    (vu->acked_features & (1ull << WGV_GPU_F_CONTEXT_INIT));
        if (ring) {
            out.hdr.flags |= WGV_GPU_FLAG_INFO_RING_IDX;
            out.hdr.ring_idx = h.ring_idx;
        }
        struct wgv_vu_ctx *ctx = wait ? wgv_vu_ctx_find(vu, h.ctx_id) : NULL;
        if (ctx && ctx->pump && !wgv_vu_pump_ended(ctx->pump))
            wgv_vu_await_fence(vu, ctx->pump, h.ctx_id, ring ? h.ring_idx : 0);
    }
    if (!fenced && !wgv_vu_request_waits(vu)) {
        free(later);
        wgv_vq_push(q, c->head, wgv_vu_respond(c, &out, len));
        wgv_vq_chain_free(c);
        return;
    }
    /* Only the header goes late: the requests that wait answer nothing more. */
    wgv_vu_answer_later(vu, later, c, &out.hdr);
    wgv_vu_fences_flush(vu);
}

/* Serves up to one queue's worth of requests from q with `serve` (chains
 * that fail validation are returned with no response); true if more are
 * waiting. A guest that keeps a queue full must not keep the main loop
 * from the front-end's messages. */
static bool process_queue(struct wgv_vu *vu, struct wgv_vq *q, const char *name, size_t in_max,
                          void (*serve)(struct wgv_vu *vu, struct wgv_vq *q, struct wgv_vq_chain *c))
{
    if (!q->started || !q->enabled || !q->used)
        return false;
    uint16_t before = q->used_idx;
    bool more = false;
    for (unsigned taken = 0;; taken++) {
        if (taken == q->num) {
            more = true;
            break;
        }
        /* At most a queue's worth of answers owed: a guest kernel cannot
         * have more requests out (each holds descriptors), so only one
         * that reuses them would, and it waits until they are answered. */
        if (q == &vu->vq[WGV_VU_CTRLQ] && vu->nfences >= q->num)
            break;
        struct wgv_vq_chain c;
        char err[160];
        int rc = wgv_vq_pop(q, &vu->mem, in_max, &c, err, sizeof(err));
        if (rc == WGV_VQ_EMPTY)
            break;
        if (rc == WGV_VQ_BROKEN) {
            wgv_vu_warn(vu, "%s queue: %s; queue stopped until reset", name, err);
            break;
        }
        if (rc == WGV_VQ_BAD_CHAIN) {
            wgv_vu_log(vu, "%s queue: %s", name, err);
            wgv_vq_push(q, c.head, 0);
            continue;
        }
        serve(vu, q, &c);
    }
    if (q->used_idx != before)
        wgv_vq_notify(q);
    return more;
}

static void serve_ctrl(struct wgv_vu *vu, struct wgv_vq *q, struct wgv_vq_chain *c)
{
    (void)q;
    handle(vu, c);
}

/* Cursor requests have no response (as in QEMU's own device); the cursor is
 * drawn by the guest into its framebuffer otherwise. */
static void serve_cursor(struct wgv_vu *vu, struct wgv_vq *q, struct wgv_vq_chain *c)
{
    (void)vu;
    wgv_vq_push(q, c->head, 0);
    wgv_vq_chain_free(c);
}

bool wgv_vu_serve_bytes(struct wgv_vu *vu, unsigned qi, const void *req, size_t len, void *resp,
                        size_t cap)
{
    bool ctrl = qi != WGV_VU_CURSORQ;
    struct wgv_vq *q = &vu->vq[ctrl ? WGV_VU_CTRLQ : WGV_VU_CURSORQ];
    if (ctrl && vu->nfences >= q->num) {
        wgv_vu_fences_flush(vu);
        if (vu->nfences >= q->num)
            return false;
    }
    if (len > WGV_VU_REQUEST_MAX)
        len = WGV_VU_REQUEST_MAX;
    struct wgv_vq_chain c = {0};
    c.in = malloc(len ? len : 1);
    c.out = malloc(sizeof(*c.out));
    if (!c.in || !c.out) {
        wgv_vq_chain_free(&c);
        return false;
    }
    memcpy(c.in, req, len);
    c.in_len = len;
    if (resp && cap) {
        c.out[0] = (struct wgv_iovec){resp, cap};
        c.out_count = 1;
        c.out_len = cap;
    }
    if (ctrl)
        serve_ctrl(vu, q, &c);
    else
        serve_cursor(vu, q, &c);
    return true;
}

bool wgv_vu_process_ctrl(struct wgv_vu *vu)
{
    return process_queue(vu, &vu->vq[WGV_VU_CTRLQ], "control", WGV_VU_REQUEST_MAX, serve_ctrl);
}

bool wgv_vu_process_cursor(struct wgv_vu *vu)
{
    return process_queue(vu, &vu->vq[WGV_VU_CURSORQ], "cursor", 4096, serve_cursor);
}
