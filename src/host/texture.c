/* Hand-written texture command: createTexture (memory quota). */
#include "context.h"

/* An upper bound of a texture's memory: 16 bytes a texel (the largest
 * format), every mip level, every sample. */
static uint64_t texture_bytes(const WGPUTextureDescriptor *d)
{
    uint64_t w = d->size.width, h = d->size.height, l = d->size.depthOrArrayLayers;
    uint64_t total = 0;
    uint32_t mips = d->mipLevelCount ? d->mipLevelCount : 1;
    for (uint32_t m = 0; m < mips && m < 32; m++) {
        uint64_t texels = (w ? w : 1) * (h ? h : 1);
        if (texels > UINT64_MAX / 16 / (l ? l : 1))
            return UINT64_MAX;
        uint64_t level = texels * (l ? l : 1) * 16;
        if (level > UINT64_MAX - total)
            return UINT64_MAX;
        total += level;
        w >>= 1, h >>= 1;
        if (d->dimension == WGPUTextureDimension_3D)
            l >>= 1;
    }
    uint64_t samples = d->sampleCount ? d->sampleCount : 1;
    return total > UINT64_MAX / samples ? UINT64_MAX : total * samples;
}

void wgv_host_exec_wgpuDeviceCreateTexture(struct wgv_context *ctx,
                                           struct wgv_ha_wgpuDeviceCreateTexture *a)
{
    uint64_t bytes = a->descriptor ? texture_bytes(a->descriptor) : 0;
    if (bytes > ctx->policy.max_memory - ctx->memory_used &&
        wgv_host_beyond_device_limits(ctx, a->device, 0, a->descriptor))
        bytes = 0; /* the backend refuses it and allocates nothing */
    if (!wgv_host_charge(ctx, bytes, "createTexture"))
        return;
    wgv_host_store_charged(ctx, WGV_OBJ_Texture, a->result,
                           ctx->procs->deviceCreateTexture(a->device, a->descriptor), bytes);
}
