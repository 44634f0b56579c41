/* Host side of transfers larger than the bulk area (transfer.c,
 * docs/protocol.md "Large transfers"): chunks copied to and from a
 * buffer's mapping, bytes staged for one wgpuQueueWriteTexture. */
#ifndef WGV_HOST_TRANSFER_H
#define WGV_HOST_TRANSFER_H

#include <stdbool.h>
#include <stdint.h>

/* Bytes a guest stages with wgvStageBytes for its next staged command. */
struct wgv_staging {
    uint8_t *data;     /* NULL while none, or when the quota refused it */
    uint64_t total;    /* the size announced by the first chunk */
    uint64_t filled;   /* bytes received, in order */
    bool active;       /* a staging is under way */
    bool refused;      /* over the memory quota: chunks are dropped */
};

struct wgv_context;

/* Frees a context's staged bytes and returns them to its quota. */
void wgv_host_staging_free(struct wgv_context *ctx);

#endif
