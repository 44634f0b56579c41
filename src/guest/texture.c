/* Textures and query sets in the guest: what their getters answer. */
#include "guest.h"

#define T(x) ((struct wgv_texture *)(x))
#define Q(x) ((struct wgv_query_set *)(x))

bool wgv_guest_hook_wgpuDeviceCreateTexture(struct wgv_client *c, struct wgv_ga_wgpuDeviceCreateTexture *a)
{
    (void)c;
    const WGPUTextureDescriptor *d = a->descriptor;
    struct wgv_texture *t = T(a->result);
    if (d) {
        t->width = d->size.width;
        t->height = d->size.height;
        t->depth = d->size.depthOrArrayLayers;
        t->mips = d->mipLevelCount;
        t->samples = d->sampleCount;
        t->dimension = d->dimension == WGPUTextureDimension_Undefined ? WGPUTextureDimension_2D
                                                                       : d->dimension;
        t->format = d->format;
        t->usage = d->usage;
    }
    t->binding_view_dimension = WGPUTextureViewDimension_Undefined;
    return true;
}

bool wgv_guest_hook_wgpuDeviceCreateQuerySet(struct wgv_client *c, struct wgv_ga_wgpuDeviceCreateQuerySet *a)
{
    (void)c;
    if (a->descriptor) {
        Q(a->result)->type = a->descriptor->type;
        Q(a->result)->count = a->descriptor->count;
    }
    return true;
}

WGPU_EXPORT uint32_t wgpuTextureGetWidth(WGPUTexture texture) { return T(texture)->width; }
WGPU_EXPORT uint32_t wgpuTextureGetHeight(WGPUTexture texture) { return T(texture)->height; }
WGPU_EXPORT uint32_t wgpuTextureGetDepthOrArrayLayers(WGPUTexture texture) { return T(texture)->depth; }
WGPU_EXPORT uint32_t wgpuTextureGetMipLevelCount(WGPUTexture texture) { return T(texture)->mips; }
WGPU_EXPORT uint32_t wgpuTextureGetSampleCount(WGPUTexture texture) { return T(texture)->samples; }
WGPU_EXPORT WGPUTextureDimension wgpuTextureGetDimension(WGPUTexture texture) { return T(texture)->dimension; }
WGPU_EXPORT WGPUTextureFormat wgpuTextureGetFormat(WGPUTexture texture) { return T(texture)->format; }
WGPU_EXPORT WGPUTextureUsage wgpuTextureGetUsage(WGPUTexture texture) { return T(texture)->usage; }
WGPU_EXPORT uint32_t wgpuQuerySetGetCount(WGPUQuerySet querySet) { return Q(querySet)->count; }
WGPU_EXPORT WGPUQueryType wgpuQuerySetGetType(WGPUQuerySet querySet) { return Q(querySet)->type; }
