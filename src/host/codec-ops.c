/* The decoder's callbacks (struct wgv_codec_ops): handles to backend
 * objects, slots claimed for new objects, the bulk area; and storing what a
 * command created into its claimed slot. */
#include "context.h"

static uint64_t ops_object_to_wire(void *user, uint16_t type, const void *native)
{
    /* Replies carry no objects: the guest named them before asking. */
    (void)user, (void)type, (void)native;
    return 0;
}

static bool ops_object_from_wire(void *user, uint16_t type, uint64_t handle, void **native)
{
    struct wgv_context *ctx = user;
    struct wgv_slot *s = wgv_objects_get(&ctx->objects, type, handle);
    if (!s)
        return false;
    if (!ctx->cmd_receiver) {
        ctx->cmd_receiver = s;
        ctx->cmd_receiver_type = type;
        ctx->cmd_receiver_handle = handle;
    }
    if (s->state == WGV_SLOT_ERROR) {
        /* Using an error object is the application's mistake, reported by
         * WebGPU's rules: the call becomes a validation error. */
        ctx->cmd_error_object = true;
        *native = NULL;
        return true;
    }
    if (s->state != WGV_SLOT_LIVE)
        return false;
    if (s->record && s != ctx->cmd_receiver && s->record->seen != ctx->cmd_serial) {
        /* A bundle or command buffer: what its recording holds may change
         * hands when the command runs (wgv_host_kept). */
        struct wgv_named *n = wgv_arena_alloc(&ctx->arena, sizeof(*n), sizeof(void *));
        if (!n)
            return false;
        *n = (struct wgv_named){ctx->cmd_named, s->record, handle, type};
        ctx->cmd_named = n;
        s->record->seen = ctx->cmd_serial;
    }
    *native = s->handle;
    return true;
}

static bool ops_new_object(void *user, uint16_t type, uint64_t handle)
{
    struct wgv_context *ctx = user;
    if (ctx->cmd_claims >= WGV_CLAIMS_MAX)
        return false;
    bool over = ctx->objects.live >= ctx->objects.max_objects;
    struct wgv_slot *s = wgv_objects_claim(&ctx->objects, type, handle, &ctx->cmd_claim_why);
    if (!s)
        return false;
    ctx->cmd_over_quota |= over;
    ctx->cmd_claim[ctx->cmd_claims++] = s;
    return true;
}

const void *wgv_host_ops_bulk_get(void *user, uint64_t offset, uint64_t size)
{
    struct wgv_context *ctx = user;
    if (!ctx->io.bulk || offset > ctx->io.bulk_size || size > ctx->io.bulk_size - offset)
        return NULL;
    return ctx->io.bulk + offset;
}

struct wgv_codec_ops wgv_host_codec_ops(struct wgv_context *ctx)
{
    return (struct wgv_codec_ops){
        .object_to_wire = ops_object_to_wire,
        .object_from_wire = ops_object_from_wire,
        .new_object = ops_new_object,
        .bulk_get = wgv_host_ops_bulk_get,
        .resource_get = wgv_host_ops_resource_get,
        .user = ctx,
    };
}

void wgv_host_store(struct wgv_context *ctx, unsigned type, uint64_t handle, void *object)
{
    struct wgv_slot *s = wgv_objects_get(&ctx->objects, type, handle);
    if (!s || (s->state != WGV_SLOT_RESERVED && s->state != WGV_SLOT_AWAITING)) {
        if (object)
            wgv_host_release_object(ctx, type, object);
        return;
    }
    if (!object) {
        s->state = WGV_SLOT_ERROR;
        return;
    }
    s->handle = object;
    s->state = WGV_SLOT_LIVE;
}

bool wgv_host_bulk_range_ok(const struct wgv_context *ctx, uint64_t offset, uint64_t size)
{
    return ctx->io.bulk && offset <= ctx->io.bulk_size && size <= ctx->io.bulk_size - offset;
}
