/* The Linux virtio-gpu DRM interface the virtgpu transport uses, written
 * from the facts of the kernel's uapi headers (drm.h, virtgpu_drm.h): ioctl
 * numbers and argument layouts. Debian 12's libdrm headers predate
 * CONTEXT_INIT, and the project needs no libdrm at all, so it carries these
 * few definitions itself. All structs are fixed-size, naturally aligned and
 * 64-bit clean, as the kernel defines them. */
#ifndef WGV_GUEST_VIRTGPU_DRM_H
#define WGV_GUEST_VIRTGPU_DRM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>

/* Generic DRM: the driver's name, and closing a GEM handle. */
struct wgv_drm_version {
    int major, minor, patchlevel;
    size_t name_len;   /* in: buffer size; out: the name's length */
    char *name;
    size_t date_len;
    char *date;
    size_t desc_len;
    char *desc;
};

struct wgv_drm_gem_close {
    uint32_t handle;
    uint32_t pad;
};

#define WGV_DRM_IOCTL_TYPE 'd'
#define WGV_DRM_DRIVER_BASE 0x40 /* driver-specific ioctls start here */
#define WGV_DRM_IOCTL_VERSION _IOWR(WGV_DRM_IOCTL_TYPE, 0x00, struct wgv_drm_version)
#define WGV_DRM_IOCTL_GEM_CLOSE _IOW(WGV_DRM_IOCTL_TYPE, 0x09, struct wgv_drm_gem_close)

/* virtio-gpu's driver name as DRM_IOCTL_VERSION reports it. */
#define WGV_VIRTGPU_DRIVER_NAME "virtio_gpu"

/* GETPARAM parameters. */
enum {
    WGV_VIRTGPU_PARAM_3D_FEATURES = 1,     /* the device has VIRGL (3D commands) */
    WGV_VIRTGPU_PARAM_CAPSET_QUERY_FIX = 2,
    WGV_VIRTGPU_PARAM_RESOURCE_BLOB = 3,
    WGV_VIRTGPU_PARAM_HOST_VISIBLE = 4,
    WGV_VIRTGPU_PARAM_CROSS_DEVICE = 5,
    WGV_VIRTGPU_PARAM_CONTEXT_INIT = 6,    /* CONTEXT_INIT is available */
    WGV_VIRTGPU_PARAM_SUPPORTED_CAPSET_IDS = 7, /* bit mask of capset ids */
};

struct wgv_virtgpu_getparam {
    uint64_t param;
    uint64_t value; /* a user pointer to an int the kernel fills */
};

struct wgv_virtgpu_get_caps {
    uint32_t cap_set_id;
    uint32_t cap_set_ver;
    uint64_t addr;  /* user pointer to `size` bytes */
    uint32_t size;
    uint32_t pad;
};

struct wgv_virtgpu_context_set_param {
    uint64_t param;
    uint64_t value;
};

enum {
    WGV_VIRTGPU_CONTEXT_PARAM_CAPSET_ID = 1,
    WGV_VIRTGPU_CONTEXT_PARAM_NUM_RINGS = 2,
    WGV_VIRTGPU_CONTEXT_PARAM_POLL_RINGS_MASK = 3,
};

struct wgv_virtgpu_context_init {
    uint32_t num_params;
    uint32_t pad;
    uint64_t ctx_set_params; /* user pointer to an array of set_param */
};

/* Classic (non-blob) resource creation; with 3D features the kernel sends
 * RESOURCE_CREATE_3D, then attaches guest pages as backing. */
struct wgv_virtgpu_resource_create {
    uint32_t target;      /* 0: a buffer */
    uint32_t format;
    uint32_t bind;
    uint32_t width;
    uint32_t height;
    uint32_t depth;
    uint32_t array_size;
    uint32_t last_level;
    uint32_t nr_samples;
    uint32_t flags;
    uint32_t bo_handle;   /* out: the GEM handle */
    uint32_t res_handle;  /* out: the resource id the host sees */
    uint32_t size;        /* bytes of backing (0 means one page) */
    uint32_t stride;
};

struct wgv_virtgpu_map {
    uint64_t offset;      /* out: pass to mmap on the DRM fd */
    uint32_t handle;
    uint32_t pad;
};

/* Flags of EXECBUFFER. */
#define WGV_VIRTGPU_EXECBUF_FENCE_FD_IN 0x01u
#define WGV_VIRTGPU_EXECBUF_FENCE_FD_OUT 0x02u
#define WGV_VIRTGPU_EXECBUF_RING_IDX 0x04u

/* The layout since Linux 5.16; newer kernels append syncobj fields, and the
 * DRM core zero-fills what a shorter argument leaves out. */
struct wgv_virtgpu_execbuffer {
    uint32_t flags;
    uint32_t size;        /* bytes at `command` */
    uint64_t command;     /* user pointer */
    uint64_t bo_handles;  /* user pointer to uint32_t handles */
    uint32_t num_bo_handles;
    int32_t fence_fd;     /* out with FENCE_FD_OUT: a sync_file */
    uint32_t ring_idx;
    uint32_t pad;
};

#define WGV_VIRTGPU_WAIT_NOWAIT 1u

struct wgv_virtgpu_wait {
    uint32_t handle;
    uint32_t flags;
};

#define WGV_VIRTGPU_IOCTL(nr, type) _IOWR(WGV_DRM_IOCTL_TYPE, WGV_DRM_DRIVER_BASE + (nr), type)
#define WGV_VIRTGPU_IOCTL_MAP WGV_VIRTGPU_IOCTL(0x01, struct wgv_virtgpu_map)
#define WGV_VIRTGPU_IOCTL_EXECBUFFER WGV_VIRTGPU_IOCTL(0x02, struct wgv_virtgpu_execbuffer)
#define WGV_VIRTGPU_IOCTL_GETPARAM WGV_VIRTGPU_IOCTL(0x03, struct wgv_virtgpu_getparam)
#define WGV_VIRTGPU_IOCTL_RESOURCE_CREATE WGV_VIRTGPU_IOCTL(0x04, struct wgv_virtgpu_resource_create)
#define WGV_VIRTGPU_IOCTL_WAIT WGV_VIRTGPU_IOCTL(0x08, struct wgv_virtgpu_wait)
#define WGV_VIRTGPU_IOCTL_GET_CAPS WGV_VIRTGPU_IOCTL(0x09, struct wgv_virtgpu_get_caps)
#define WGV_VIRTGPU_IOCTL_CONTEXT_INIT WGV_VIRTGPU_IOCTL(0x0b, struct wgv_virtgpu_context_init)

/* Layout checks against the kernel's sizes. */
_Static_assert(sizeof(struct wgv_virtgpu_getparam) == 16, "getparam");
_Static_assert(sizeof(struct wgv_virtgpu_get_caps) == 24, "get_caps");
_Static_assert(sizeof(struct wgv_virtgpu_context_init) == 16, "context_init");
_Static_assert(sizeof(struct wgv_virtgpu_resource_create) == 56, "resource_create");
_Static_assert(sizeof(struct wgv_virtgpu_map) == 16, "map");
_Static_assert(sizeof(struct wgv_virtgpu_execbuffer) == 40, "execbuffer");
_Static_assert(sizeof(struct wgv_virtgpu_wait) == 8, "wait");

#endif
