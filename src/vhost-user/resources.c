/* The daemon's resources (vu.h, "resources.c"): a hash table by id, and
 * backing memory given as guest-physical scatter lists, checked entry by
 * entry against guest RAM, with the offset where each piece starts so that
 * a range is found by binary search (a transfer reads thousands of rows
 * from lists of up to 262144 entries). */
#include <stdlib.h>
#include <string.h>

#include "vu.h"

static unsigned bucket(uint32_t id)
{
    return (id * 2654435761u) >> 24 & (WGV_VU_RES_BUCKETS - 1);
}

struct wgv_vu_resource *wgv_vu_res_find(const struct wgv_vu *vu, uint32_t id)
{
    for (struct wgv_vu_resource *r = vu->res[bucket(id)]; r; r = r->next)
        if (r->id == id)
            return r;
    return NULL;
}

struct wgv_vu_resource *wgv_vu_res_add(struct wgv_vu *vu, uint32_t id, enum wgv_vu_res_kind kind)
{
    if (id == 0 || wgv_vu_res_find(vu, id) || vu->nresources >= vu->cfg.max_resources)
        return NULL;
    struct wgv_vu_resource *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->id = id;
    r->kind = kind;
    unsigned b = bucket(id);
    r->next = vu->res[b];
    vu->res[b] = r;
    vu->nresources++;
    return r;
}

void wgv_vu_res_drop_backing(struct wgv_vu_resource *r)
{
    free(r->runs);
    free(r->iov);
    free(r->iov_at);
    r->runs = NULL;
    r->iov = NULL;
    r->iov_at = NULL;
    r->nruns = r->niov = 0;
    r->backing_size = 0;
}

void wgv_vu_res_remove(struct wgv_vu *vu, struct wgv_vu_resource *r)
{
    for (struct wgv_vu_resource **l = &vu->res[bucket(r->id)]; *l; l = &(*l)->next)
        if (*l == r) {
            *l = r->next;
            break;
        }
    if (r->kind == WGV_VU_RES_2D)
        vu->bytes_2d -= r->size;
    vu->nresources--;
    wgv_vu_res_drop_backing(r);
    free(r->pixels);
    free(r);
}

uint32_t wgv_vu_res_set_backing(struct wgv_vu *vu, struct wgv_vu_resource *r, const uint8_t *ents,
                                uint32_t n)
{
    if (n == 0 || n > WGV_VU_MAX_ENTRIES)
        return WGV_GPU_RESP_ERR_INVALID_PARAMETER;
    struct wgv_vu_run *runs = malloc(n * sizeof(*runs));
    struct wgv_iovec *iov = malloc(n * sizeof(*iov));
    uint64_t *at = malloc(n * sizeof(*at));
    if (!runs || !iov || !at) {
        free(runs);
        free(iov);
        free(at);
        return WGV_GPU_RESP_ERR_OUT_OF_MEMORY;
    }
    uint64_t total = 0;
    unsigned niov = 0;
    for (uint32_t i = 0; i < n; i++) {
        struct wgv_gpu_mem_entry e;
        memcpy(&e, ents + (size_t)i * sizeof(e), sizeof(e));
        void *host = wgv_vu_mem_gpa(&vu->mem, e.addr, e.length);
        if (!host || total + e.length < total) {
            wgv_vu_log(vu, "resource %u: scatter entry %u (0x%llx, %u bytes) is not in guest RAM",
                       r->id, i, (unsigned long long)e.addr, e.length);
            free(runs);
            free(iov);
            free(at);
            return WGV_GPU_RESP_ERR_INVALID_PARAMETER;
        }
        runs[i] = (struct wgv_vu_run){e.addr, e.length};
        if (niov && (uint8_t *)iov[niov - 1].base + iov[niov - 1].len == host) {
            iov[niov - 1].len += e.length;
        } else {
            at[niov] = total;
            iov[niov++] = (struct wgv_iovec){host, e.length};
        }
        total += e.length;
    }
    wgv_vu_res_drop_backing(r);
    r->runs = runs;
    r->nruns = n;
    r->iov = iov;
    r->iov_at = at;
    r->niov = niov;
    r->backing_size = total;
    return WGV_GPU_RESP_OK_NODATA;
}

/* The piece holding backing offset `offset` (< backing_size): the last
 * whose start is at or before it. */
static unsigned piece_of(const struct wgv_vu_resource *r, uint64_t offset)
{
    unsigned lo = 0, hi = r->niov; /* iov_at[lo] <= offset < iov_at[hi] */
    while (hi - lo > 1) {
        unsigned mid = lo + (hi - lo) / 2;
        if (r->iov_at[mid] <= offset)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* Walks [offset, offset + len) of the backing, calling fn on each piece. */
static bool walk(const struct wgv_vu_resource *r, uint64_t offset, size_t len,
                 void (*fn)(uint8_t *guest, uint8_t *ours, size_t n), uint8_t *ours)
{
    if (!r->iov || offset > r->backing_size || len > r->backing_size - offset)
        return false;
    if (!len)
        return true;
    unsigned i = piece_of(r, offset);
    offset -= r->iov_at[i];
    for (; i < r->niov && len; i++) {
        size_t n = r->iov[i].len - offset < len ? r->iov[i].len - offset : len;
        fn((uint8_t *)r->iov[i].base + offset, ours, n);
        ours += n;
        len -= n;
        offset = 0;
    }
    return true;
}

static void copy_in(uint8_t *guest, uint8_t *ours, size_t n)
{
    memcpy(ours, guest, n);
}

static void copy_out(uint8_t *guest, uint8_t *ours, size_t n)
{
    memcpy(guest, ours, n);
}

bool wgv_vu_res_read(const struct wgv_vu_resource *r, uint64_t offset, void *dst, size_t len)
{
    return walk(r, offset, len, copy_in, dst);
}

bool wgv_vu_res_write(const struct wgv_vu_resource *r, uint64_t offset, const void *src, size_t len)
{
    return walk(r, offset, len, copy_out, (uint8_t *)(uintptr_t)src);
}

void wgv_vu_res_clear(struct wgv_vu *vu)
{
    for (unsigned b = 0; b < WGV_VU_RES_BUCKETS; b++)
        while (vu->res[b])
            wgv_vu_res_remove(vu, vu->res[b]);
    vu->scanout_res = 0;
}
