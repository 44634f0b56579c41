/* Contexts and the 3D commands (vu.h, "gpu-3d.c"): CTX_CREATE/DESTROY,
 * attaching resources, buffer resources (RESOURCE_CREATE_3D) and guest blobs
 * (RESOURCE_CREATE_BLOB), and SUBMIT_3D carrying the transport records of
 * docs/vm.md (SETUP, KICK). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "pump.h"
#include "virtgpu-records.h"
#include "vu.h"

#define TAKE(var, in, len) (len >= sizeof(var) ? (memcpy(&var, in, sizeof(var)), true) : false)

struct wgv_vu_ctx *wgv_vu_ctx_find(const struct wgv_vu *vu, uint32_t id)
{
    for (unsigned i = 0; i < vu->nctxs; i++)
        if (vu->ctxs[i]->id == id)
            return vu->ctxs[i];
    return NULL;
}

static bool ctx_has(const struct wgv_vu_ctx *ctx, uint32_t res)
{
    for (unsigned i = 0; i < ctx->nres; i++)
        if (ctx->res[i] == res)
            return true;
    return false;
}

static void ctx_drop(struct wgv_vu_ctx *ctx, uint32_t res)
{
    for (unsigned i = 0; i < ctx->nres; i++)
        if (ctx->res[i] == res) {
            ctx->res[i] = ctx->res[--ctx->nres];
            return;
        }
}

static bool pump_alive(const struct wgv_vu_ctx *ctx)
{
    return ctx->pump && !wgv_vu_pump_ended(ctx->pump);
}

void wgv_vu_ctx_lose(struct wgv_vu *vu, struct wgv_vu_ctx *ctx, const char *fmt, ...)
{
    if (ctx->lost[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->lost, sizeof(ctx->lost), fmt, ap);
    va_end(ap);
    /* Guest-made: logged with --verbose only (the host library warns when it
     * ends a running context), so a guest cannot flood the log. */
    wgv_vu_log(vu, "context %u lost: %s", ctx->id, ctx->lost);
    if (ctx->pump)
        wgv_vu_pump_kill(ctx->pump, ctx->lost);
}

/* The resource stops being shared memory (its pump unmaps its own view). */
static void release_shm(struct wgv_vu *vu, struct wgv_vu_ctx *ctx)
{
    struct wgv_vu_resource *r = ctx->shm_res ? wgv_vu_res_find(vu, ctx->shm_res) : NULL;
    if (r && r->shm_ctx == ctx->id)
        r->shm_ctx = 0;
}

void wgv_vu_ctx_destroy(struct wgv_vu *vu, struct wgv_vu_ctx *ctx)
{
    if (ctx->pump) {
        /* Its shared memory is no longer the context's: what the pump
         * writes on its way out lands in private memory. The resources it
         * had attached are waited for by their UNREF (the pump stays in
         * the dying list until it has ended). */
        wgv_vu_pump_revoke(ctx->pump);
        wgv_vu_pump_stop(ctx->pump);
        *wgv_vu_pump_next(ctx->pump) = vu->dying;
        vu->dying = ctx->pump;
        ctx->pump = NULL;
    }
    release_shm(vu, ctx);
    for (unsigned i = 0; i < vu->nctxs; i++)
        if (vu->ctxs[i] == ctx) {
            vu->ctxs[i] = vu->ctxs[--vu->nctxs];
            break;
        }
    wgv_vu_log(vu, "context %u destroyed", ctx->id);
    free(ctx->res);
    free(ctx);
}

void wgv_vu_reap_pumps(struct wgv_vu *vu, bool wait)
{
    for (struct wgv_vu_pump **l = &vu->dying; *l;) {
        struct wgv_vu_pump *p = *l;
        if (wait || wgv_vu_pump_ended(p)) {
            *l = *wgv_vu_pump_next(p);
            wgv_vu_pump_join(p);
        } else {
            l = wgv_vu_pump_next(p);
        }
    }
    /* Pumps of live contexts that ended (lost): keep the reason. */
    for (unsigned i = 0; i < vu->nctxs; i++) {
        struct wgv_vu_ctx *ctx = vu->ctxs[i];
        if (ctx->pump && (wait || wgv_vu_pump_ended(ctx->pump))) {
            if (!ctx->lost[0])
                snprintf(ctx->lost, sizeof(ctx->lost), "%s",
                         wgv_vu_pump_ended(ctx->pump) && *wgv_vu_pump_reason(ctx->pump)
                             ? wgv_vu_pump_reason(ctx->pump)
                             : "ended");
            wgv_vu_pump_join(ctx->pump);
            ctx->pump = NULL;
            release_shm(vu, ctx);
        }
    }
}

/* The context's shared memory goes away: the guest's normal teardown
 * (its kernel detaches a process's buffers before destroying its context)
 * or a guest pulling the memory from under a running context. Either way
 * the pump lets go of the pages before the request is answered, and the
 * context ends. */
static void shm_gone(struct wgv_vu *vu, struct wgv_vu_ctx *ctx, struct wgv_vu_resource *r,
                     const char *how)
{
    if (ctx->pump)
        wgv_vu_pump_revoke(ctx->pump);
    r->shm_ctx = 0;
    if (ctx->lost[0])
        return;
    snprintf(ctx->lost, sizeof(ctx->lost), "its shared memory (resource %u) was %s", r->id, how);
    wgv_vu_log(vu, "context %u ends: %s", ctx->id, ctx->lost);
    /* Nobody reads a context-lost reply in memory that is gone: just end. */
    if (ctx->pump)
        wgv_vu_pump_stop(ctx->pump);
}

void wgv_vu_ctxs_forget_resource(struct wgv_vu *vu, struct wgv_vu_resource *r, bool unref)
{
    for (unsigned i = 0; i < vu->nctxs; i++) {
        struct wgv_vu_ctx *ctx = vu->ctxs[i];
        if (!ctx_has(ctx, r->id))
            continue;
        if (r->shm_ctx == ctx->id)
            shm_gone(vu, ctx, r, unref ? "unreferenced" : "detached");
        if (unref)
            ctx_drop(ctx, r->id);
    }
    /* Every pump that may read the pages, whether its context still has
     * the resource, detached it a moment ago, or was destroyed: the answer
     * waits until each has let go. */
    for (unsigned i = 0; i < vu->nctxs; i++) {
        struct wgv_vu_pump *p = vu->ctxs[i]->pump;
        if (p && wgv_vu_pump_uses(p, r->id))
            wgv_vu_await_detach(vu, p, r->id);
    }
    for (struct wgv_vu_pump *p = vu->dying; p; p = *wgv_vu_pump_next(p))
        if (wgv_vu_pump_uses(p, r->id))
            wgv_vu_await_detach(vu, p, r->id);
}

void wgv_vu_pumps_pause(struct wgv_vu *vu)
{
    for (unsigned i = 0; i < vu->nctxs; i++)
        if (vu->ctxs[i]->pump)
            wgv_vu_pump_pause(vu->ctxs[i]->pump);
    for (struct wgv_vu_pump *p = vu->dying; p; p = *wgv_vu_pump_next(p))
        wgv_vu_pump_pause(p);
    for (unsigned i = 0; i < vu->nctxs; i++)
        if (vu->ctxs[i]->pump)
            wgv_vu_pump_wait_paused(vu->ctxs[i]->pump);
    for (struct wgv_vu_pump *p = vu->dying; p; p = *wgv_vu_pump_next(p))
        wgv_vu_pump_wait_paused(p);
}

void wgv_vu_pumps_resume(struct wgv_vu *vu)
{
    for (unsigned i = 0; i < vu->nctxs; i++)
        if (vu->ctxs[i]->pump)
            wgv_vu_pump_resume(vu->ctxs[i]->pump);
    for (struct wgv_vu_pump *p = vu->dying; p; p = *wgv_vu_pump_next(p))
        wgv_vu_pump_resume(p);
}

void wgv_vu_ctxs_backing_attached(struct wgv_vu *vu, struct wgv_vu_resource *r)
{
    for (unsigned i = 0; i < vu->nctxs; i++) {
        struct wgv_vu_ctx *ctx = vu->ctxs[i];
        if (ctx_has(ctx, r->id) && pump_alive(ctx))
            wgv_vu_pump_attach(ctx->pump, r->id, r->iov, r->niov);
    }
}

static uint32_t ctx_create(struct wgv_vu *vu, const struct wgv_gpu_hdr *h, const uint8_t *in,
                           size_t len)
{
    struct wgv_gpu_ctx_create c;
    if (!TAKE(c, in, len) || c.nlen > sizeof(c.debug_name))
        return WGV_GPU_RESP_ERR_INVALID_PARAMETER;
    uint32_t capset = c.context_init & WGV_GPU_CONTEXT_INIT_CAPSET_MASK;
    bool init = vu->acked_features & (1ull << WGV_GPU_F_CONTEXT_INIT);
    if ((c.context_init && !init) || (c.context_init & ~WGV_GPU_CONTEXT_INIT_CAPSET_MASK) ||
        (capset != 0 && capset != WGV_VIRTIO_CAPSET_ID))
        return WGV_GPU_RESP_ERR_INVALID_PARAMETER;
    if (h->ctx_id == 0 || wgv_vu_ctx_find(vu, h->ctx_id))
        return WGV_GPU_RESP_ERR_INVALID_CONTEXT_ID;
    if (vu->nctxs >= vu->cfg.max_contexts)
        return WGV_GPU_RESP_ERR_OUT_OF_MEMORY;
    if (vu->nctxs == vu->capctxs) {
        unsigned cap = vu->capctxs ? vu->capctxs * 2 : 8;
        struct wgv_vu_ctx **a = realloc(vu->ctxs, cap * sizeof(*a));
        if (!a)
            return WGV_GPU_RESP_ERR_OUT_OF_MEMORY;
        vu->ctxs = a;
        vu->capctxs = cap;
    }
    struct wgv_vu_ctx *ctx = calloc(1, sizeof(*ctx));
    if (!ctx)
        return WGV_GPU_RESP_ERR_OUT_OF_MEMORY;
    ctx->id = h->ctx_id;
    ctx->capset = capset;
    for (uint32_t i = 0; i < c.nlen; i++)
        ctx->name[i] = (c.debug_name[i] >= 0x20 && c.debug_name[i] < 0x7f) ? c.debug_name[i] : '?';
    vu->ctxs[vu->nctxs++] = ctx;
    wgv_vu_log(vu, "context %u created (\"%s\", capset %u)", ctx->id, ctx->name, capset);
    return WGV_GPU_RESP_OK_NODATA;
}

static uint32_t ctx_attach(struct wgv_vu *vu, struct wgv_vu_ctx *ctx, const uint8_t *in,
                           size_t len, bool attach)
{
    struct wgv_gpu_resource_id c;
    if (!TAKE(c, in, len))
        return WGV_GPU_RESP_ERR_INVALID_PARAMETER;
    struct wgv_vu_resource *r = wgv_vu_res_find(vu, c.resource_id);
    if (!r)
        return WGV_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    if (!attach) {
        if (!ctx_has(ctx, r->id))
            return WGV_GPU_RESP_ERR_INVALID_RESOURCE_ID;
        if (r->shm_ctx == ctx->id)
            shm_gone(vu, ctx, r, "detached from the context");
        else if (ctx->pump && wgv_vu_pump_uses(ctx->pump, r->id))
            /* Answered once the pump has run what came before and let go. */
            wgv_vu_await_detach(vu, ctx->pump, r->id);
        ctx_drop(ctx, r->id);
        return WGV_GPU_RESP_OK_NODATA;
    }
    if (ctx_has(ctx, r->id))
        return WGV_GPU_RESP_OK_NODATA;
    if (ctx->nres >= WGV_VU_CTX_RESOURCES_MAX)
        return WGV_GPU_RESP_ERR_OUT_OF_MEMORY;
    if (ctx->nres == ctx->capres) {
        unsigned cap = ctx->capres ? ctx->capres * 2 : 16;
        uint32_t *a = realloc(ctx->res, cap * sizeof(*a));
        if (!a)
            return WGV_GPU_RESP_ERR_OUT_OF_MEMORY;
        ctx->res = a;
        ctx->capres = cap;
    }
    ctx->res[ctx->nres++] = r->id;
    if (r->iov && r->kind != WGV_VU_RES_2D && pump_alive(ctx))
        wgv_vu_pump_attach(ctx->pump, r->id, r->iov, r->niov);
    return WGV_GPU_RESP_OK_NODATA;
}

static uint32_t create_3d(struct wgv_vu *vu, const uint8_t *in, size_t len)
{
    struct wgv_gpu_resource_create_3d c;
    if (!TAKE(c, in, len))
        return WGV_GPU_RESP_ERR_INVALID_PARAMETER;
    /* Only buffers (target 0): they carry shared memory and data. */
    if (c.target != 0 || c.width == 0 || c.height != 1 || c.depth != 1 || c.array_size != 1 ||
        c.last_level != 0 || c.nr_samples > 1)
        return WGV_GPU_RESP_ERR_INVALID_PARAMETER;
    if (c.resource_id == 0 || wgv_vu_res_find(vu, c.resource_id))
        return WGV_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    struct wgv_vu_resource *r = wgv_vu_res_add(vu, c.resource_id, WGV_VU_RES_3D);
    if (!r)
        return WGV_GPU_RESP_ERR_OUT_OF_MEMORY;
    r->format = c.format;
    r->size = c.width;
    return WGV_GPU_RESP_OK_NODATA;
}

static uint32_t create_blob(struct wgv_vu *vu, const uint8_t *in, size_t len)
{
    struct wgv_gpu_resource_create_blob c;
    if (!TAKE(c, in, len))
        return WGV_GPU_RESP_ERR_INVALID_PARAMETER;
    if (!(vu->acked_features & (1ull << WGV_GPU_F_RESOURCE_BLOB)))
        return WGV_GPU_RESP_ERR_UNSPEC;
    /* Guest memory only: the host never creates memory the guest sees. */
    if (c.blob_mem != WGV_GPU_BLOB_MEM_GUEST || c.size == 0 || c.nr_entries == 0 ||
        c.nr_entries > WGV_VU_MAX_ENTRIES ||
        (len - sizeof(c)) / sizeof(struct wgv_gpu_mem_entry) < c.nr_entries)
        return WGV_GPU_RESP_ERR_INVALID_PARAMETER;
    if (c.resource_id == 0 || wgv_vu_res_find(vu, c.resource_id))
        return WGV_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    struct wgv_vu_resource *r = wgv_vu_res_add(vu, c.resource_id, WGV_VU_RES_BLOB);
    if (!r)
        return WGV_GPU_RESP_ERR_OUT_OF_MEMORY;
    r->size = c.size;
    uint32_t rc = wgv_vu_res_set_backing(vu, r, in + sizeof(c), c.nr_entries);
    if (rc == WGV_GPU_RESP_OK_NODATA && r->backing_size < c.size)
        rc = WGV_GPU_RESP_ERR_INVALID_PARAMETER;
    if (rc != WGV_GPU_RESP_OK_NODATA)
        wgv_vu_res_remove(vu, r);
    return rc;
}

/* Refuses SETUP: the reason goes into the control page (when the resource
 * can take it), the context is lost. */
static uint32_t refuse_setup(struct wgv_vu *vu, struct wgv_vu_ctx *ctx,
                             const struct wgv_vu_resource *r, const char *reason)
{
    if (r) {
        char text[WGV_VREC_REFUSE_REASON_MAX];
        snprintf(text, sizeof(text), "%s", reason);
        uint32_t magic = WGV_VREC_REFUSE_MAGIC;
        wgv_vu_res_write(r, WGV_VREC_REFUSE_REASON_OFFSET, text, strlen(text) + 1);
        wgv_vu_res_write(r, 0, &magic, sizeof(magic));
    }
    wgv_vu_ctx_lose(vu, ctx, "SETUP refused: %s", reason);
    return WGV_GPU_RESP_ERR_INVALID_PARAMETER;
}

static bool size_within(const char *what, uint64_t size, uint64_t max, char *why, size_t n)
{
    if (size <= max)
        return true;
    snprintf(why, n, "%s of %llu bytes exceeds the host's limit of %llu", what,
             (unsigned long long)size, (unsigned long long)max);
    return false;
}

static uint32_t setup(struct wgv_vu *vu, struct wgv_vu_ctx *ctx, const struct wgv_vrec_setup *s)
{
    if (ctx->shm_res || ctx->pump) {
        wgv_vu_ctx_lose(vu, ctx, "second SETUP");
        return WGV_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    struct wgv_vu_resource *r = wgv_vu_res_find(vu, s->resource_id);
    if (!r || !ctx_has(ctx, r->id)) {
        wgv_vu_ctx_lose(vu, ctx, "SETUP names resource %u, not attached to the context",
                        s->resource_id);
        return WGV_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    }
    if (r->kind == WGV_VU_RES_2D || !r->iov) {
        wgv_vu_ctx_lose(vu, ctx, "SETUP resource %u has no backing or is not a buffer", r->id);
        return WGV_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    }
    if (r->shm_ctx) {
        wgv_vu_ctx_lose(vu, ctx, "SETUP resource %u is context %u's shared memory", r->id,
                        r->shm_ctx);
        return WGV_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    }
    char why[256];
    if (s->protocol_version != wgv_host_protocol_version()) {
        snprintf(why, sizeof(why), "guest speaks protocol version %u, host speaks %u",
                 s->protocol_version, wgv_host_protocol_version());
        return refuse_setup(vu, ctx, r, why);
    }
    struct wgv_shm_sizes sizes = {s->cmd_ring, s->reply_ring, s->bulk};
    if (!size_within("command ring", sizes.cmd_ring, vu->cfg.max_shm.cmd_ring, why, sizeof(why)) ||
        !size_within("reply ring", sizes.reply_ring, vu->cfg.max_shm.reply_ring, why, sizeof(why)) ||
        !size_within("bulk area", sizes.bulk, vu->cfg.max_shm.bulk, why, sizeof(why)) ||
        !wgv_shm_sizes_valid(&sizes, why, sizeof(why)))
        return refuse_setup(vu, ctx, r, why);
    uint64_t total = wgv_shm_total_size(&sizes);
    if (total > r->size || total > r->backing_size) {
        snprintf(why, sizeof(why), "shared memory of %llu bytes does not fit resource %u (%llu bytes)",
                 (unsigned long long)total, r->id,
                 (unsigned long long)(r->size < r->backing_size ? r->size : r->backing_size));
        return refuse_setup(vu, ctx, r, why);
    }
    void *map = wgv_vu_mem_map_runs(&vu->mem, r->runs, r->nruns, total, why, sizeof(why));
    if (!map)
        return refuse_setup(vu, ctx, r, why);
    struct wgv_vu_pump *p = wgv_vu_pump_start(vu, ctx->id, map, &sizes, why, sizeof(why));
    if (!p) {
        munmap(map, (size_t)total);
        return refuse_setup(vu, ctx, r, why);
    }
    ctx->pump = p;
    ctx->shm_res = r->id;
    r->shm_ctx = ctx->id;
    /* What the context already has attached becomes visible to it. */
    for (unsigned i = 0; i < ctx->nres; i++) {
        struct wgv_vu_resource *a = wgv_vu_res_find(vu, ctx->res[i]);
        if (a && a != r && a->iov && a->kind != WGV_VU_RES_2D)
            wgv_vu_pump_attach(p, a->id, a->iov, a->niov);
    }
    return WGV_GPU_RESP_OK_NODATA;
}

static uint32_t submit(struct wgv_vu *vu, struct wgv_vu_ctx *ctx, const uint8_t *in, size_t len,
                       bool *wait)
{
    struct wgv_gpu_submit_3d c;
    if (!TAKE(c, in, len) || c.size > len - sizeof(c))
        return WGV_GPU_RESP_ERR_INVALID_PARAMETER;
    if (ctx->lost[0])
        return WGV_GPU_RESP_ERR_UNSPEC;
    const uint8_t *p = in + sizeof(c);
    uint32_t rc = WGV_GPU_RESP_OK_NODATA;
    for (uint32_t off = 0; off < c.size && rc == WGV_GPU_RESP_OK_NODATA;) {
        uint32_t head[2];
        if (c.size - off < sizeof(head)) {
            wgv_vu_ctx_lose(vu, ctx, "truncated transport record at offset %u", off);
            return WGV_GPU_RESP_ERR_INVALID_PARAMETER;
        }
        memcpy(head, p + off, sizeof(head));
        uint32_t type = head[0], size = head[1];
        if (size < WGV_VREC_HEADER_SIZE || size % 8 || size > c.size - off) {
            wgv_vu_ctx_lose(vu, ctx, "transport record of type %u has a bad size %u", type, size);
            return WGV_GPU_RESP_ERR_INVALID_PARAMETER;
        }
        if (type == WGV_VREC_SETUP && size == WGV_VREC_SETUP_SIZE) {
            struct wgv_vrec_setup s;
            memcpy(&s, p + off, sizeof(s));
            rc = setup(vu, ctx, &s);
        } else if (type == WGV_VREC_KICK && size == WGV_VREC_KICK_SIZE) {
            if (pump_alive(ctx))
                wgv_vu_pump_kick(ctx->pump);
        } else {
            wgv_vu_ctx_lose(vu, ctx, "transport record of type %u and size %u is unknown", type,
                            size);
            return WGV_GPU_RESP_ERR_INVALID_PARAMETER;
        }
        off += size;
    }
    *wait = rc == WGV_GPU_RESP_OK_NODATA;
    return rc;
}

uint32_t wgv_vu_cmd_3d(struct wgv_vu *vu, const struct wgv_gpu_hdr *h, const uint8_t *in,
                       size_t len, bool *wait)
{
    *wait = false;
    if (h->type == WGV_GPU_CMD_CTX_CREATE)
        return ctx_create(vu, h, in, len);
    if (h->type == WGV_GPU_CMD_RESOURCE_CREATE_3D)
        return create_3d(vu, in, len);
    if (h->type == WGV_GPU_CMD_RESOURCE_CREATE_BLOB)
        return create_blob(vu, in, len);
    struct wgv_vu_ctx *ctx = wgv_vu_ctx_find(vu, h->ctx_id);
    if (!ctx)
        return WGV_GPU_RESP_ERR_INVALID_CONTEXT_ID;
    switch (h->type) {
    case WGV_GPU_CMD_CTX_DESTROY:
        wgv_vu_ctx_destroy(vu, ctx);
        return WGV_GPU_RESP_OK_NODATA;
    case WGV_GPU_CMD_CTX_ATTACH_RESOURCE:
        return ctx_attach(vu, ctx, in, len, true);
    case WGV_GPU_CMD_CTX_DETACH_RESOURCE:
        return ctx_attach(vu, ctx, in, len, false);
    case WGV_GPU_CMD_TRANSFER_TO_HOST_3D:
    case WGV_GPU_CMD_TRANSFER_FROM_HOST_3D: {
        /* The backing is the storage: nothing to copy. */
        struct wgv_gpu_transfer_host_3d t;
        if (!TAKE(t, in, len))
            return WGV_GPU_RESP_ERR_INVALID_PARAMETER;
        struct wgv_vu_resource *r = wgv_vu_res_find(vu, t.resource_id);
        if (!r || r->kind == WGV_VU_RES_2D || !ctx_has(ctx, r->id))
            return WGV_GPU_RESP_ERR_INVALID_RESOURCE_ID;
        return WGV_GPU_RESP_OK_NODATA;
    }
    case WGV_GPU_CMD_SUBMIT_3D:
        return submit(vu, ctx, in, len, wait);
    default:
        return WGV_GPU_RESP_ERR_UNSPEC;
    }
}
