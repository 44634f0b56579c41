/* wgvRelease: the guest dropped its last reference to an object. */
#include "context.h"

void wgv_host_exec_wgvRelease(struct wgv_context *ctx, struct wgv_ha_wgvRelease *a)
{
    struct wgv_slot *s = wgv_objects_get(&ctx->objects, a->object_type, a->object);
    if (!s || s->state == WGV_SLOT_RESERVED || s->state == WGV_SLOT_AWAITING) {
        wgv_context_fail(ctx, "release of %s %u (generation %u), which is not live",
                         a->object_type < WGV_OBJ_COUNT ? wgv_object_type_name[a->object_type] : "?",
                         wgv_handle_id(a->object), wgv_handle_gen(a->object));
        return;
    }
    if (a->object_type == WGV_OBJ_Instance)
        return; /* the context's own; it goes with the context */
    wgv_host_uncharge(ctx, s);
    if (s->state == WGV_SLOT_LIVE) {
        if (s->handle == ctx->error_device)
            ctx->error_device = NULL;
        if (a->object_type == WGV_OBJ_Buffer) {
            /* The guest dropped its last reference, which destroys the buffer
             * natively; the reference a pending map holds here must not keep
             * it alive, or the map would succeed instead of aborting. */
            for (struct wgv_pending *p = ctx->pending.next; p != &ctx->pending; p = p->next) {
                if (p->buffer == s->handle) {
                    ctx->procs->bufferDestroy(s->handle);
                    break;
                }
            }
        }
        wgv_host_release_object(ctx, a->object_type, s->handle);
    }
    wgv_objects_free(&ctx->objects, a->object_type, s);
}
