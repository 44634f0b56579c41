/* Host contexts: one guest's world from creation to destruction; ending
 * one (kill, lost reason), its live objects, and polling the backend. */
#include "context.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"

/* Decoded arguments of one command may take at most this much memory. */
#define WGV_ARENA_LIMIT (64u << 20)
/* Policy defaults (struct wgv_policy). */
#define WGV_DEFAULT_MAX_MEMORY (4ull << 30)
#define WGV_DEFAULT_MAX_OBJECTS (1u << 20)
#define WGV_DEFAULT_MAX_SHADER_BYTES (16ull << 20)

void wgv_context_fail(struct wgv_context *ctx, const char *fmt, ...)
{
    if (ctx->lost)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->lost_reason, sizeof(ctx->lost_reason), fmt, ap);
    va_end(ap);
    ctx->lost = true;
    wgv_host_log(ctx->host, WGV_LOG_WARN, "context %u lost: %s", ctx->id, ctx->lost_reason);
    /* The reason travels as a bare string after the header. */
    struct wgv_writer *w = &ctx->reply;
    w->len = 0;
    w->failed = false;
    size_t n = strlen(ctx->lost_reason);
    struct wgv_reply_header h = {0, WGV_REPLY_CONTEXT_LOST, 0, 0};
    wgv_writer_put(w, &h, sizeof(h));
    wgv_put_u64(w, n);
    wgv_writer_put(w, ctx->lost_reason, n);
    wgv_writer_align(w, 8);
    if (w->failed || ctx->closing)
        return;
    h.size = (uint32_t)w->len;
    memcpy(w->data, &h, sizeof(h));
    ctx->io.reply(ctx->io.user, w->data, w->len);
}

struct wgv_context *wgv_context_create(struct wgv_host *host, uint32_t id,
                                       const struct wgv_context_io *io)
{
    return wgv_context_create_warm(host, id, io, NULL);
}

struct wgv_context *wgv_context_create_warm(struct wgv_host *host, uint32_t id,
                                            const struct wgv_context_io *io,
                                            struct wgv_warm_instance *warm)
{
    struct wgv_context *ctx = calloc(1, sizeof(*ctx));
    if (!ctx) {
        wgv_warm_instance_free(host, warm);
        return NULL;
    }
    ctx->host = host;
    ctx->procs = &host->backend->procs;
    ctx->id = id;
    ctx->io = *io;
    ctx->policy = host->config.policy;
    if (!ctx->policy.max_memory)
        ctx->policy.max_memory = WGV_DEFAULT_MAX_MEMORY;
    if (!ctx->policy.max_objects)
        ctx->policy.max_objects = WGV_DEFAULT_MAX_OBJECTS;
    if (!ctx->policy.max_shader_bytes)
        ctx->policy.max_shader_bytes = WGV_DEFAULT_MAX_SHADER_BYTES;
    wgv_objects_init(&ctx->objects, ctx->policy.max_objects);
    wgv_arena_init(&ctx->arena, WGV_ARENA_LIMIT);
    wgv_writer_init(&ctx->reply);
    ctx->pending.next = ctx->pending.prev = &ctx->pending;
    ctx->ops = wgv_host_codec_ops(ctx);
    ctx->copier = wgv_copier_create(WGV_COPY_HELPERS_AUTO);
    ctx->instance = warm ? (WGPUInstance)warm : ctx->procs->createInstance(NULL);
    if (!ctx->instance) {
        wgv_host_log(host, WGV_LOG_ERROR, "context %u: the backend created no instance", id);
        wgv_context_destroy(ctx);
        return NULL;
    }
    /* The guest's instance is always handle 1, generation 1. */
    struct wgv_slot *s = wgv_objects_claim(&ctx->objects, WGV_OBJ_Instance, (1ull << 32) | 1,
                                           NULL);
    s->handle = ctx->instance;
    s->state = WGV_SLOT_LIVE;
    /* What the guest's instance getters answer. */
    WGPUSupportedWGSLLanguageFeatures wgsl = WGPU_SUPPORTED_WGSL_LANGUAGE_FEATURES_INIT;
    ctx->procs->instanceGetWGSLLanguageFeatures(ctx->instance, &wgsl);
    const uint32_t shape = WGV_SHAPE_SupportedWGSLLanguageFeatures;
    const void *arg = &wgsl;
    wgv_host_send_reply(ctx, WGV_REPLY_INSTANCE_STATE, 0, 0, &shape, &arg, 1);
    ctx->procs->supportedWGSLLanguageFeaturesFreeMembers(wgsl);
    return ctx;
}

void wgv_context_destroy(struct wgv_context *ctx)
{
    if (!ctx)
        return;
    ctx->closing = true;
    /* Children first, devices, adapters and the instance last: the type
     * order of the table does not matter to a refcounted backend, but
     * releasing dependents first keeps its teardown simple. */
    static const unsigned last[] = {WGV_OBJ_Queue, WGV_OBJ_Device, WGV_OBJ_Adapter};
    for (unsigned pass = 0; pass < 2; pass++) {
        for (unsigned t = 1; t < WGV_OBJ_COUNT; t++) {
            bool is_last = false;
            for (unsigned i = 0; i < sizeof(last) / sizeof(last[0]); i++)
                is_last |= last[i] == t;
            if (t == WGV_OBJ_Instance || is_last != (pass == 1))
                continue;
            struct wgv_table *tab = &ctx->objects.tables[t];
            for (uint32_t id = 1; id < tab->len; id++) {
                struct wgv_slot *s = &tab->slots[id];
                if (s->state == WGV_SLOT_LIVE && s->handle)
                    wgv_host_release_object(ctx, t, s->handle);
                wgv_host_uncharge(ctx, s);
                wgv_objects_free(&ctx->objects, t, s);
            }
        }
    }
    if (ctx->instance) {
        /* Let the backend finish callbacks that still point at us. */
        ctx->procs->instanceProcessEvents(ctx->instance);
        ctx->procs->instanceRelease(ctx->instance);
    }
    while (ctx->pending.next != &ctx->pending) {
        struct wgv_pending *p = ctx->pending.next;
        if (p->buffer)
            ctx->procs->bufferRelease(p->buffer);
        if (p->fence && --p->fence->remaining == 0)
            free(p->fence);
        wgv_host_pending_free(ctx, p);
    }
    for (unsigned i = 0; i < ctx->retired_count; i++)
        free(ctx->retired[i]);
    free(ctx->retired);
    wgv_host_staging_free(ctx);
    while (ctx->resource_count)
        wgv_context_detach_resource(ctx, ctx->resources[0].id);
    free(ctx->resources);
    wgv_objects_fini(&ctx->objects);
    wgv_arena_free(&ctx->arena);
    wgv_writer_free(&ctx->reply);
    free(ctx->cmd_copy);
    wgv_copier_destroy(ctx->copier);
    free(ctx);
}

void wgv_context_kill(struct wgv_context *ctx, const char *reason)
{
    wgv_context_fail(ctx, "%s", reason);
}

const char *wgv_context_lost_reason(const struct wgv_context *ctx)
{
    return ctx->lost ? ctx->lost_reason : NULL;
}

size_t wgv_context_live_objects(const struct wgv_context *ctx)
{
    /* The instance slot is the context's own. */
    return ctx->objects.live ? ctx->objects.live - 1 : 0;
}

int wgv_context_poll(struct wgv_context *ctx)
{
    /* Owed callbacks, or device events the commands just run may have
     * caused (a destroyed device's loss), come from the backend here. */
    if (ctx->instance && (ctx->pending_count || ctx->ran))
        ctx->procs->instanceProcessEvents(ctx->instance);
    ctx->ran = false;
    wgv_host_report_fences(ctx);
    return ctx->pending_count;
}
