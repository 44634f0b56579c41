/* The contexts' quotas: memory charged to objects, what an object costs
 * beyond its explicit size, what the backend keeps of commands' arguments
 * (labels, descriptors, what encoders record), the device limits the
 * backend enforces itself. */
#include "context.h"

#include <stdio.h>
#include <stdlib.h>

/* Host memory charged for an object beyond what it is given explicitly:
 * rough upper bounds of what the backend keeps for it. */
uint64_t wgv_host_object_cost(unsigned type)
{
    switch (type) {
    case WGV_OBJ_Device: return 32ull << 20;
    case WGV_OBJ_Adapter: return 1ull << 20;
    case WGV_OBJ_ComputePipeline:
    case WGV_OBJ_RenderPipeline: return 1ull << 20;
    case WGV_OBJ_ShaderModule: return 256ull << 10;
    case WGV_OBJ_Buffer:
    case WGV_OBJ_Texture: return 0; /* charged by their size */
    default: return 4096;
    }
}

/* Whether `bytes` more stay within the context's memory quota. */
static bool fits(const struct wgv_context *ctx, uint64_t bytes)
{
    return bytes <= ctx->policy.max_memory && ctx->memory_used <= ctx->policy.max_memory - bytes;
}

/* Charges `bytes` to the context's memory, or reports out-of-memory on the
 * command's device and returns false (the result becomes an error object). */
bool wgv_host_charge(struct wgv_context *ctx, uint64_t bytes, const char *what)
{
    if (fits(ctx, bytes)) {
        ctx->memory_used += bytes;
        return true;
    }
    char msg[192];
    snprintf(msg, sizeof(msg), "%s of %llu bytes: this context's memory limit is %llu bytes "
             "(%llu in use)", what, (unsigned long long)bytes,
             (unsigned long long)ctx->policy.max_memory, (unsigned long long)ctx->memory_used);
    wgv_host_report_error(ctx, WGPUErrorType_OutOfMemory, msg);
    return false;
}

void wgv_host_store_charged(struct wgv_context *ctx, unsigned type, uint64_t handle,
                            void *object, uint64_t bytes)
{
    wgv_host_store(ctx, type, handle, object);
    struct wgv_slot *s = wgv_objects_get(&ctx->objects, type, handle);
    if (s && s->state == WGV_SLOT_LIVE)
        s->bytes = bytes;
    else
        ctx->memory_used -= bytes;
}

/* Host memory the backend keeps for one recorded command beyond the
 * variable-size parts of its arguments: a rough upper bound. */
#define WGV_RECORD_COST 64

/* The object the command names first, if it is still there; looked up
 * again when a claim may have moved its table. */
static struct wgv_slot *receiver(struct wgv_context *ctx)
{
    struct wgv_slot *s = ctx->cmd_receiver;
    if (!s)
        return NULL;
    if (!ctx->cmd_claims)
        return s->state == WGV_SLOT_FREE ? NULL : s;
    return wgv_objects_get(&ctx->objects, ctx->cmd_receiver_type, ctx->cmd_receiver_handle);
}

/* Makes a recording invalid, as the command it lost would natively, so its
 * Finish yields an invalid command buffer or bundle. The backend has no
 * call for that: a compute pass begun and released without End ends the
 * command encoder's recording with an error (begun while a pass is open,
 * it is one itself); a bundle encoder gets a bind group index past every
 * device's limit. Once the guest released the encoder, nothing can finish
 * it. */
static void record_invalidate(struct wgv_context *ctx, struct wgv_record *r)
{
    if (!r->root)
        return;
    if (r->root_type == WGV_OBJ_CommandEncoder) {
        static const char label[] = "webgpu-virtio: a command went past the memory quota";
        WGPUComputePassDescriptor d = WGPU_COMPUTE_PASS_DESCRIPTOR_INIT;
        d.label = (WGPUStringView){label, sizeof(label) - 1};
        void *pass = ctx->procs->commandEncoderBeginComputePass(r->root, &d);
        if (pass)
            ctx->procs->computePassEncoderRelease(pass);
    } else if (r->root_type == WGV_OBJ_RenderBundleEncoder) {
        ctx->procs->renderBundleEncoderSetBindGroup(r->root, UINT32_MAX, NULL, 0, NULL);
    }
}

/* A slot lets go of its record; the last one returns its charge. */
static void record_drop(struct wgv_context *ctx, struct wgv_slot *s)
{
    struct wgv_record *r = s->record;
    s->record = NULL;
    if (r->root == s->handle)
        r->root = NULL;
    if (--r->holders)
        return;
    ctx->memory_used -= r->bytes;
    free(r);
}

bool wgv_host_charge_kept(struct wgv_context *ctx, unsigned opcode, uint64_t *kept)
{
    const char *what = wgv_command_name[opcode];
    struct wgv_slot *s = receiver(ctx);
    ctx->cmd_record = NULL;
    if (wgv_command_keeps[opcode] == WGV_KEEPS_LABEL)
        return wgv_host_charge(ctx, *kept, what);
    if (wgv_command_keeps[opcode] != WGV_KEEPS_RECORD || !s) {
        /* A creation's descriptor (its label, its arrays) stays with the
         * new object; other commands keep nothing after they return. */
        if (!ctx->cmd_claims)
            *kept = 0;
        return wgv_host_charge(ctx, *kept, what);
    }
    struct wgv_record *r = s->record;
    if (!r) {
        r = calloc(1, sizeof(*r));
        if (!r) {
            wgv_context_fail(ctx, "out of memory for a recording");
            return false;
        }
        r->holders = 1;
        if (ctx->cmd_receiver_type == WGV_OBJ_CommandEncoder ||
            ctx->cmd_receiver_type == WGV_OBJ_RenderBundleEncoder) {
            r->root = s->handle;
            r->root_type = (uint8_t)ctx->cmd_receiver_type;
        }
        s->record = r;
    }
    if (r->finished) {
        *kept = 0; /* the backend refuses it and records nothing */
        return true;
    }
    /* Bundles a pass runs stay alive as long as the pass's recording. */
    *kept += WGV_RECORD_COST;
    for (struct wgv_named *n = ctx->cmd_named; n; n = n->next)
        *kept += n->record->bytes;
    /* Past the quota the command is dropped and the recording made
     * invalid; the guest hears of it once, as of a native encoder's first
     * error. */
    if (r->failed && !fits(ctx, *kept))
        return false;
    if (!wgv_host_charge(ctx, *kept, what)) {
        record_invalidate(ctx, r);
        r->failed = true;
        return false;
    }
    r->bytes += *kept;
    ctx->cmd_record = r;
    return true;
}

bool wgv_host_charge_recorded(struct wgv_context *ctx, unsigned opcode)
{
    struct wgv_slot *s = ctx->cmd_receiver;
    if (wgv_command_keeps[opcode] != WGV_KEEPS_RECORD || !s || ctx->cmd_named ||
        ctx->cmd_claims || ctx->cmd_error_object || ctx->cmd_over_quota)
        return false;
    struct wgv_record *r = s->record;
    if (!r || r->finished || r->failed || !fits(ctx, WGV_RECORD_COST))
        return false;
    ctx->memory_used += WGV_RECORD_COST;
    r->bytes += WGV_RECORD_COST;
    return true;
}

void wgv_host_kept(struct wgv_context *ctx, unsigned opcode, uint64_t kept,
                   struct wgv_slot *made, unsigned made_type)
{
    struct wgv_slot *s = receiver(ctx);
    struct wgv_record *r = ctx->cmd_record;
    switch (wgv_command_keeps[opcode]) {
    case WGV_KEEPS_RECORD:
        /* A pass records into its encoder's recording; a command buffer
         * or bundle made of it takes it over, and it is finished. */
        if (r && made && made->state == WGV_SLOT_LIVE) {
            made->record = r;
            r->holders++;
            r->finished |= made_type == WGV_OBJ_CommandBuffer || made_type == WGV_OBJ_RenderBundle;
        }
        break;
    case WGV_KEEPS_LABEL:
        /* The new label replaces the last. */
        if (s) {
            ctx->memory_used -= s->label;
            s->bytes += kept - s->label;
            s->label = kept;
        } else {
            ctx->memory_used -= kept;
        }
        break;
    default:
        if (made)
            made->bytes += kept;
        /* A submit consumes its command buffers, valid or not. */
        for (struct wgv_named *n = ctx->cmd_named; n && opcode == WGV_OP_wgpuQueueSubmit;
             n = n->next) {
            struct wgv_slot *c = wgv_objects_get(&ctx->objects, n->type, n->handle);
            if (c && c->record == n->record)
                record_drop(ctx, c);
        }
        break;
    }
}

void wgv_host_uncharge(struct wgv_context *ctx, struct wgv_slot *s)
{
    ctx->memory_used -= s->bytes;
    s->bytes = 0;
    s->label = 0;
    if (s->record)
        record_drop(ctx, s);
}

/* Whether the backend itself refuses a buffer or texture for the device's
 * limits: then it reports its own validation error, as natively, and the
 * quota has nothing to add. */
bool wgv_host_beyond_device_limits(struct wgv_context *ctx, void *device, uint64_t buffer_size,
                                   const WGPUTextureDescriptor *t)
{
    WGPULimits l = WGPU_LIMITS_INIT;
    if (ctx->procs->deviceGetLimits(device, &l) != WGPUStatus_Success)
        return false;
    if (!t)
        return buffer_size > l.maxBufferSize;
    uint32_t w = t->size.width, h = t->size.height, d = t->size.depthOrArrayLayers;
    switch (t->dimension) {
    case WGPUTextureDimension_1D:
        return w > l.maxTextureDimension1D;
    case WGPUTextureDimension_3D:
        return w > l.maxTextureDimension3D || h > l.maxTextureDimension3D ||
               d > l.maxTextureDimension3D;
    default:
        return w > l.maxTextureDimension2D || h > l.maxTextureDimension2D ||
               d > l.maxTextureArrayLayers;
    }
}
