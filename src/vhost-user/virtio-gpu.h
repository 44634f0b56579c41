/* The virtio-gpu device protocol as the daemon speaks it (virtio spec 1.2,
 * "GPU Device"): feature bits, command and response codes, and the layouts
 * of the requests we decode. All fields are little-endian; the daemon only
 * runs on little-endian hosts (like the rest of the project). */
#ifndef WGV_VU_VIRTIO_GPU_H
#define WGV_VU_VIRTIO_GPU_H

#include <stdint.h>

/* Device feature bits. */
#define WGV_GPU_F_VIRGL 0
#define WGV_GPU_F_EDID 1
#define WGV_GPU_F_RESOURCE_UUID 2
#define WGV_GPU_F_RESOURCE_BLOB 3
#define WGV_GPU_F_CONTEXT_INIT 4
/* Transport feature bits. */
#define WGV_VIRTIO_F_RING_INDIRECT_DESC 28
#define WGV_VIRTIO_F_RING_EVENT_IDX 29
#define WGV_VIRTIO_F_VERSION_1 32

enum {
    /* 2D */
    WGV_GPU_CMD_GET_DISPLAY_INFO = 0x0100,
    WGV_GPU_CMD_RESOURCE_CREATE_2D,
    WGV_GPU_CMD_RESOURCE_UNREF,
    WGV_GPU_CMD_SET_SCANOUT,
    WGV_GPU_CMD_RESOURCE_FLUSH,
    WGV_GPU_CMD_TRANSFER_TO_HOST_2D,
    WGV_GPU_CMD_RESOURCE_ATTACH_BACKING,
    WGV_GPU_CMD_RESOURCE_DETACH_BACKING,
    WGV_GPU_CMD_GET_CAPSET_INFO,
    WGV_GPU_CMD_GET_CAPSET,
    WGV_GPU_CMD_GET_EDID,
    WGV_GPU_CMD_RESOURCE_ASSIGN_UUID,
    WGV_GPU_CMD_RESOURCE_CREATE_BLOB,
    WGV_GPU_CMD_SET_SCANOUT_BLOB,
    /* 3D */
    WGV_GPU_CMD_CTX_CREATE = 0x0200,
    WGV_GPU_CMD_CTX_DESTROY,
    WGV_GPU_CMD_CTX_ATTACH_RESOURCE,
    WGV_GPU_CMD_CTX_DETACH_RESOURCE,
    WGV_GPU_CMD_RESOURCE_CREATE_3D,
    WGV_GPU_CMD_TRANSFER_TO_HOST_3D,
    WGV_GPU_CMD_TRANSFER_FROM_HOST_3D,
    WGV_GPU_CMD_SUBMIT_3D,
    WGV_GPU_CMD_RESOURCE_MAP_BLOB,
    WGV_GPU_CMD_RESOURCE_UNMAP_BLOB,
    /* cursor queue */
    WGV_GPU_CMD_UPDATE_CURSOR = 0x0300,
    WGV_GPU_CMD_MOVE_CURSOR,
    /* responses */
    WGV_GPU_RESP_OK_NODATA = 0x1100,
    WGV_GPU_RESP_OK_DISPLAY_INFO,
    WGV_GPU_RESP_OK_CAPSET_INFO,
    WGV_GPU_RESP_OK_CAPSET,
    WGV_GPU_RESP_OK_EDID,
    WGV_GPU_RESP_ERR_UNSPEC = 0x1200,
    WGV_GPU_RESP_ERR_OUT_OF_MEMORY,
    WGV_GPU_RESP_ERR_INVALID_SCANOUT_ID,
    WGV_GPU_RESP_ERR_INVALID_RESOURCE_ID,
    WGV_GPU_RESP_ERR_INVALID_CONTEXT_ID,
    WGV_GPU_RESP_ERR_INVALID_PARAMETER,
};

/* Header flags. */
#define WGV_GPU_FLAG_FENCE 1u
#define WGV_GPU_FLAG_INFO_RING_IDX 2u

/* Formats of 2D resources (all 4 bytes per pixel). */
#define WGV_GPU_FORMAT_B8G8R8A8_UNORM 1
#define WGV_GPU_FORMAT_B8G8R8X8_UNORM 2
#define WGV_GPU_FORMAT_A8R8G8B8_UNORM 3
#define WGV_GPU_FORMAT_X8R8G8B8_UNORM 4
#define WGV_GPU_FORMAT_R8G8B8A8_UNORM 67
#define WGV_GPU_FORMAT_X8B8G8R8_UNORM 68
#define WGV_GPU_FORMAT_A8B8G8R8_UNORM 121
#define WGV_GPU_FORMAT_R8G8B8X8_UNORM 134

/* Blob memory kinds. */
#define WGV_GPU_BLOB_MEM_GUEST 1u
#define WGV_GPU_BLOB_MEM_HOST3D 2u
#define WGV_GPU_BLOB_MEM_HOST3D_GUEST 3u

#define WGV_GPU_CONTEXT_INIT_CAPSET_MASK 0xffu
#define WGV_GPU_MAX_SCANOUTS 16

struct wgv_gpu_hdr {
    uint32_t type;
    uint32_t flags;
    uint64_t fence_id;
    uint32_t ctx_id;
    uint8_t ring_idx;
    uint8_t padding[3];
};

struct wgv_gpu_rect {
    uint32_t x, y, width, height;
};

struct wgv_gpu_resp_display_info {
    struct wgv_gpu_hdr hdr;
    struct {
        struct wgv_gpu_rect r;
        uint32_t enabled;
        uint32_t flags;
    } pmodes[WGV_GPU_MAX_SCANOUTS];
};

struct wgv_gpu_resource_create_2d {
    struct wgv_gpu_hdr hdr;
    uint32_t resource_id, format, width, height;
};

/* UNREF, DETACH_BACKING, CTX_ATTACH/DETACH_RESOURCE share this shape. */
struct wgv_gpu_resource_id {
    struct wgv_gpu_hdr hdr;
    uint32_t resource_id, padding;
};

struct wgv_gpu_set_scanout {
    struct wgv_gpu_hdr hdr;
    struct wgv_gpu_rect r;
    uint32_t scanout_id, resource_id;
};

struct wgv_gpu_resource_flush {
    struct wgv_gpu_hdr hdr;
    struct wgv_gpu_rect r;
    uint32_t resource_id, padding;
};

struct wgv_gpu_transfer_to_host_2d {
    struct wgv_gpu_hdr hdr;
    struct wgv_gpu_rect r;
    uint64_t offset;
    uint32_t resource_id, padding;
};

struct wgv_gpu_mem_entry {
    uint64_t addr;
    uint32_t length, padding;
};

struct wgv_gpu_attach_backing {
    struct wgv_gpu_hdr hdr;
    uint32_t resource_id, nr_entries;
    /* nr_entries struct wgv_gpu_mem_entry follow */
};

struct wgv_gpu_get_capset_info {
    struct wgv_gpu_hdr hdr;
    uint32_t capset_index, padding;
};

struct wgv_gpu_resp_capset_info {
    struct wgv_gpu_hdr hdr;
    uint32_t capset_id, capset_max_version, capset_max_size, padding;
};

struct wgv_gpu_get_capset {
    struct wgv_gpu_hdr hdr;
    uint32_t capset_id, capset_version;
};

struct wgv_gpu_ctx_create {
    struct wgv_gpu_hdr hdr;
    uint32_t nlen, context_init;
    char debug_name[64];
};

struct wgv_gpu_resource_create_3d {
    struct wgv_gpu_hdr hdr;
    uint32_t resource_id, target, format, bind, width, height, depth, array_size;
    uint32_t last_level, nr_samples, flags, padding;
};

struct wgv_gpu_transfer_host_3d {
    struct wgv_gpu_hdr hdr;
    uint32_t x, y, z, w, h, d;
    uint64_t offset;
    uint32_t resource_id, level, stride, layer_stride;
};

struct wgv_gpu_submit_3d {
    struct wgv_gpu_hdr hdr;
    uint32_t size, padding;
    /* size bytes of command buffer follow */
};

struct wgv_gpu_resource_create_blob {
    struct wgv_gpu_hdr hdr;
    uint32_t resource_id, blob_mem, blob_flags, nr_entries;
    uint64_t blob_id, size;
    /* nr_entries struct wgv_gpu_mem_entry follow */
};

struct wgv_gpu_update_cursor {
    struct wgv_gpu_hdr hdr;
    uint32_t scanout_id, x, y, padding0;
    uint32_t resource_id, hot_x, hot_y, padding1;
};

/* Device configuration space. */
struct wgv_gpu_config {
    uint32_t events_read, events_clear, num_scanouts, num_capsets;
};

_Static_assert(sizeof(struct wgv_gpu_hdr) == 24, "virtio-gpu header layout");
_Static_assert(sizeof(struct wgv_gpu_resp_display_info) == 408, "display info layout");
_Static_assert(sizeof(struct wgv_gpu_ctx_create) == 96, "ctx create layout");
_Static_assert(sizeof(struct wgv_gpu_resource_create_3d) == 72, "create 3d layout");
_Static_assert(sizeof(struct wgv_gpu_resource_create_blob) == 56, "create blob layout");
_Static_assert(sizeof(struct wgv_gpu_transfer_to_host_2d) == 56, "transfer 2d layout");

#endif
