/* Responses that wait (vu.h, "fences.c"). A response to a request with
 * VIRTIO_GPU_FLAG_FENCE tells the guest kernel that its fence retired, and
 * the kernel then treats every earlier fence of the same timeline as
 * retired too. So fenced responses go strictly in order per timeline: the
 * global one (fences without INFO_RING_IDX, all contexts together, as
 * QEMU's virgl path retires them) or one per (context, ring).
 *
 * The answer to a request that gives guest pages back (CTX_DETACH_RESOURCE,
 * RESOURCE_UNREF, RESOURCE_DETACH_BACKING) waits too, fenced or not: the
 * guest kernel frees the pages when it is answered, so it goes only once
 * every pump that could read them has passed the detach (docs/vm.md,
 * "Guest pages"). An unfenced one waits for nothing else and holds up
 * nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pump.h"
#include "vu.h"

void wgv_vu_request_begin(struct wgv_vu *vu)
{
    vu->req_seq = 0;
    vu->req_waits = 0;
    vu->req_ctx_fence = false;
}

static uint64_t request_seq(struct wgv_vu *vu)
{
    if (!vu->req_seq)
        vu->req_seq = ++vu->next_seq;
    return vu->req_seq;
}

void wgv_vu_await_detach(struct wgv_vu *vu, struct wgv_vu_pump *p, uint32_t id)
{
    if (wgv_vu_pump_detach(p, id, request_seq(vu)))
        vu->req_waits++;
}

void wgv_vu_await_fence(struct wgv_vu *vu, struct wgv_vu_pump *p, uint32_t ctx_id, uint32_t ring)
{
    (void)ctx_id;
    if (wgv_vu_pump_fence(p, ring, request_seq(vu))) {
        vu->req_waits++;
        vu->req_ctx_fence = true;
    }
}

bool wgv_vu_request_waits(const struct wgv_vu *vu)
{
    return vu->req_waits != 0;
}

void wgv_vu_answer_later(struct wgv_vu *vu, struct wgv_vu_fence *f, struct wgv_vq_chain *c,
                         const struct wgv_gpu_hdr *resp)
{
    memset(f, 0, sizeof(*f));
    f->seq = vu->req_seq;
    f->waiting = vu->req_waits;
    f->ctx_fence = vu->req_ctx_fence;
    f->ctx_id = resp->ctx_id;
    f->fenced = resp->flags & WGV_GPU_FLAG_FENCE;
    f->ring_timeline = resp->flags & WGV_GPU_FLAG_INFO_RING_IDX;
    f->ring_idx = resp->ring_idx;
    f->chain = *c;
    f->resp = *resp;
    free(f->chain.in); /* only the writable part is needed */
    f->chain.in = NULL;
    f->chain.in_len = 0;
    memset(c, 0, sizeof(*c));
    if (vu->fences_tail)
        vu->fences_tail->next = f;
    else
        vu->fences = f;
    vu->fences_tail = f;
    vu->nfences++;
}

void wgv_vu_fence_retired(struct wgv_vu *vu, uint64_t seq)
{
    pthread_mutex_lock(&vu->done_lock);
    if (seq && vu->ndone == vu->capdone) {
        unsigned cap = vu->capdone ? vu->capdone * 2 : 64;
        uint64_t *d = realloc(vu->done, cap * sizeof(*d));
        if (d) {
            vu->done = d;
            vu->capdone = cap;
        }
    }
    /* Without memory a retirement is lost: that answer never goes, which
     * stalls the guest but frees nothing early. */
    if (seq && vu->ndone < vu->capdone)
        vu->done[vu->ndone++] = seq;
    pthread_mutex_unlock(&vu->done_lock);
    uint64_t one = 1;
    ssize_t n = write(vu->wake_fd, &one, sizeof(one));
    (void)n;
}

static void mark_retired(struct wgv_vu *vu, uint64_t seq)
{
    for (struct wgv_vu_fence *f = vu->fences; f; f = f->next)
        if (f->seq == seq) {
            if (f->waiting)
                f->waiting--;
            return;
        }
}

/* Whether f's timeline is blocked by an earlier unfinished fence. */
struct blocked {
    bool global;
    unsigned n, cap;
    struct { uint32_t ctx; uint8_t ring; } *keys;
};

static bool is_blocked(const struct blocked *b, const struct wgv_vu_fence *f)
{
    if (!f->fenced)
        return false;
    if (!f->ring_timeline)
        return b->global;
    for (unsigned i = 0; i < b->n; i++)
        if (b->keys[i].ctx == f->ctx_id && b->keys[i].ring == f->ring_idx)
            return true;
    return false;
}

static void block(struct blocked *b, const struct wgv_vu_fence *f)
{
    if (!f->fenced)
        return;
    if (!f->ring_timeline) {
        b->global = true;
        return;
    }
    if (is_blocked(b, f))
        return;
    if (b->n == b->cap) {
        unsigned cap = b->cap ? b->cap * 2 : 8;
        void *k = realloc(b->keys, cap * sizeof(*b->keys));
        if (!k)
            return; /* then a later fence may go early: only the guest's view */
        b->keys = k;
        b->cap = cap;
    }
    b->keys[b->n].ctx = f->ctx_id;
    b->keys[b->n].ring = f->ring_idx;
    b->n++;
}

void wgv_vu_fences_flush(struct wgv_vu *vu)
{
    pthread_mutex_lock(&vu->done_lock);
    for (unsigned i = 0; i < vu->ndone; i++)
        mark_retired(vu, vu->done[i]);
    vu->ndone = 0;
    pthread_mutex_unlock(&vu->done_lock);
    struct wgv_vq *q = &vu->vq[WGV_VU_CTRLQ];
    /* A stopped queue (a paused VM, or a reset under way) gets nothing:
     * its ring may no longer be the guest's. */
    if (!q->started)
        return;
    struct blocked b = {0};
    bool sent = false;
    struct wgv_vu_fence *prev = NULL;
    for (struct wgv_vu_fence **l = &vu->fences; *l;) {
        struct wgv_vu_fence *f = *l;
        if (f->waiting && f->ctx_fence) {
            /* A context that is gone or ended owes no fence any more. */
            struct wgv_vu_ctx *ctx = wgv_vu_ctx_find(vu, f->ctx_id);
            if (!ctx || !ctx->pump || wgv_vu_pump_ended(ctx->pump))
                f->waiting = 0;
        }
        if (f->waiting || is_blocked(&b, f)) {
            block(&b, f);
            prev = f;
            l = &f->next;
            continue;
        }
        wgv_vq_push(q, f->chain.head, wgv_vu_respond(&f->chain, &f->resp, sizeof(f->resp)));
        sent = true;
        *l = f->next;
        if (vu->fences_tail == f)
            vu->fences_tail = prev;
        vu->nfences--;
        wgv_vq_chain_free(&f->chain);
        free(f);
    }
    free(b.keys);
    if (sent)
        wgv_vq_notify(q);
}

void wgv_vu_fences_drop(struct wgv_vu *vu)
{
    for (struct wgv_vu_fence *f = vu->fences, *next; f; f = next) {
        next = f->next;
        wgv_vq_chain_free(&f->chain);
        free(f);
    }
    vu->fences = vu->fences_tail = NULL;
    vu->nfences = 0;
    pthread_mutex_lock(&vu->done_lock);
    vu->ndone = 0;
    pthread_mutex_unlock(&vu->done_lock);
}
