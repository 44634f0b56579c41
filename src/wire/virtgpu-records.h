/* The virtio-gpu transport's own records (docs/vm.md, "Submissions"), shared
 * by the guest (src/guest/transport-virtgpu.c) and vhost-user-webgpu: what a
 * guest's EXECBUFFER (SUBMIT_3D) carries. Wire commands never travel here;
 * they go through the command ring in the shared memory that SETUP names.
 * Every record is 8-byte aligned and little-endian: u32 type, u32 size (this
 * header included, a multiple of 8), then the body. */
#ifndef WGV_WIRE_VIRTGPU_RECORDS_H
#define WGV_WIRE_VIRTGPU_RECORDS_H

#include <stdint.h>

/* Our virtio-gpu capset: its bytes are what wgv_host_capset writes. */
#define WGV_VIRTIO_CAPSET_ID 24u
#define WGV_VIRTIO_CAPSET_VERSION 1u
#define WGV_VIRTIO_CAPSET_MAGIC 0x43564757u /* "WGVC" little-endian */

/* Record types. */
#define WGV_VREC_SETUP 1u /* this context's resource becomes the shared memory */
#define WGV_VREC_KICK 2u  /* commands were published while the host slept */

struct wgv_vrec_header {
    uint32_t type;
    uint32_t size;
};

struct wgv_vrec_setup {
    struct wgv_vrec_header hdr; /* type SETUP, size WGV_VREC_SETUP_SIZE */
    uint32_t resource_id;
    uint32_t protocol_version;
    uint64_t cmd_ring;          /* the wgv_shm_sizes of the layout */
    uint64_t reply_ring;
    uint64_t bulk;
};

#define WGV_VREC_HEADER_SIZE 8u
#define WGV_VREC_SETUP_SIZE 40u
#define WGV_VREC_KICK_SIZE 8u
_Static_assert(sizeof(struct wgv_vrec_setup) == WGV_VREC_SETUP_SIZE, "SETUP is 40 bytes");

/* A refused SETUP: the control page's magic becomes "WREF" and a
 * NUL-terminated reason starts at this offset (before the ring blocks). */
#define WGV_VREC_REFUSE_MAGIC 0x46455257u /* "WREF" little-endian */
#define WGV_VREC_REFUSE_REASON_OFFSET 72u
#define WGV_VREC_REFUSE_REASON_MAX (256u - WGV_VREC_REFUSE_REASON_OFFSET)

#endif
