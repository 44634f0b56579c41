/* Split virtqueues in guest RAM (virtio 1.x, no event index, no indirect
 * descriptors), read defensively: the guest may rewrite any of it at any
 * time, so every descriptor is read once, every chain is bounded by the
 * queue size, and every buffer must lie inside guest RAM. */
#ifndef WGV_VU_VIRTQUEUE_H
#define WGV_VU_VIRTQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest-mem.h"
#include "wgv-host.h"

#define WGV_VQ_MAX_SIZE 32768u

struct wgv_vq {
    unsigned num;                 /* queue size (power of two), 0 = unset */
    uint64_t desc_uva, avail_uva, used_uva; /* as the front-end gave them */
    volatile uint8_t *desc, *avail, *used;  /* our pointers once translated */
    uint16_t last_avail;          /* next avail entry to take */
    uint16_t used_idx;            /* next used entry to fill */
    bool enabled, started, broken;
    bool served;                  /* took a request since its base was set */
    int kick_fd, call_fd, err_fd; /* -1 when absent */
};

/* One request: the readable part copied out, the writable part as pointers. */
struct wgv_vq_chain {
    uint16_t head;
    uint8_t *in;             /* private copy of the readable bytes */
    size_t in_len;
    struct wgv_iovec *out;   /* writable buffers in guest RAM */
    unsigned out_count;
    size_t out_len;
};

/* Results of wgv_vq_pop. */
enum { WGV_VQ_EMPTY = 0, WGV_VQ_CHAIN = 1, WGV_VQ_BAD_CHAIN = -1, WGV_VQ_BROKEN = -2 };

/* Resets a queue to its unconfigured state (fds are not closed). */
void wgv_vq_init(struct wgv_vq *vq);

/* Translates the ring addresses through the current memory table; false
 * (with a reason) if a ring is not wholly inside guest RAM or misaligned. */
bool wgv_vq_map(struct wgv_vq *vq, const struct wgv_vu_mem *mem, char *err, size_t errlen);

/* Takes the next request. CHAIN: *c is filled (free with wgv_vq_chain_free).
 * BAD_CHAIN: the chain at c->head is malformed (reason in err): return it
 * with length 0. BROKEN: the available ring itself is impossible. The
 * readable part is capped at in_max bytes (BAD_CHAIN beyond). */
int wgv_vq_pop(struct wgv_vq *vq, const struct wgv_vu_mem *mem, size_t in_max,
               struct wgv_vq_chain *c, char *err, size_t errlen);

/* Copies `len` bytes into the writable part; returns the bytes written
 * (less if the chain's writable space is smaller). */
size_t wgv_vq_write(const struct wgv_vq_chain *c, const void *data, size_t len);

/* Puts a request in the used ring with `len` bytes written. */
void wgv_vq_push(struct wgv_vq *vq, uint16_t head, uint32_t len);

/* Signals the call eventfd unless the driver asked for no interrupts. */
void wgv_vq_notify(struct wgv_vq *vq);

/* Frees what a popped chain holds. */
void wgv_vq_chain_free(struct wgv_vq_chain *c);

#endif
