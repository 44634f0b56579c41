/* Fences: one work-done callback per live queue; a fence retires after the
 * last, and retired fences are reported to the embedder at the next poll. */
#include "context.h"

#include <stdlib.h>

void wgv_host_fence_retire_later(struct wgv_context *ctx, struct wgv_fence *f)
{
    if (ctx->retired_count == ctx->retired_cap) {
        unsigned cap = ctx->retired_cap ? ctx->retired_cap * 2 : 8;
        struct wgv_fence **r = realloc(ctx->retired, cap * sizeof(*r));
        if (!r) {
            free(f);
            return;
        }
        ctx->retired = r;
        ctx->retired_cap = cap;
    }
    ctx->retired[ctx->retired_count++] = f;
}

int wgv_context_fence(struct wgv_context *ctx, uint32_t ring, uint64_t fence_id)
{
    struct wgv_fence *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    f->ring = ring;
    f->id = fence_id;
    /* One work-done callback per live queue; the fence retires after the
     * last. A context without queues retires it at the next poll. */
    struct wgv_table *queues = &ctx->objects.tables[WGV_OBJ_Queue];
    f->remaining = 1; /* held until every queue has been asked */
    for (uint32_t id = 1; id < queues->len && !ctx->lost; id++) {
        struct wgv_slot *s = &queues->slots[id];
        if (s->state != WGV_SLOT_LIVE)
            continue;
        struct wgv_pending *p = wgv_host_pending_new(ctx, WGV_CB_QueueWorkDoneCallback, 0, 0, false);
        if (!p)
            break;
        p->fence = f;
        f->remaining++;
        WGPUQueueWorkDoneCallbackInfo ci = WGPU_QUEUE_WORK_DONE_CALLBACK_INFO_INIT;
        ci.mode = WGPUCallbackMode_AllowProcessEvents;
        ci.callback = wgv_hcb_QueueWorkDoneCallback_thunk;
        ci.userdata1 = ctx;
        ci.userdata2 = p;
        ctx->procs->queueOnSubmittedWorkDone(s->handle, ci);
    }
    if (--f->remaining == 0)
        wgv_host_fence_retire_later(ctx, f);
    return 0;
}

void wgv_host_report_fences(struct wgv_context *ctx)
{
    for (unsigned i = 0; i < ctx->retired_count; i++) {
        struct wgv_fence *f = ctx->retired[i];
        if (ctx->host->config.fence_retired)
            ctx->host->config.fence_retired(ctx->host->config.user, ctx->id, f->ring, f->id);
        free(f);
    }
    ctx->retired_count = 0;
}
