/* The contexts' quotas: memory charged to objects, what an object costs
 * beyond its explicit size, the device limits the backend enforces itself. */
#include "context.h"

#include <stdio.h>

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

/* Charges `bytes` to the context's memory, or reports out-of-memory on the
 * command's device and returns false (the result becomes an error object). */
bool wgv_host_charge(struct wgv_context *ctx, uint64_t bytes, const char *what)
{
    if (bytes <= ctx->policy.max_memory && ctx->memory_used <= ctx->policy.max_memory - bytes) {
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
