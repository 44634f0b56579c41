/* The vhost-user-gpu socket to QEMU (VHOST_USER_GPU_SET_SOCKET): the
 * protocol-features exchange, then scanout and update messages so that
 * QEMU's display shows the guest's 2D framebuffer. Writes are queued and
 * sent without blocking: QEMU reads this socket from its main loop, which
 * may at that moment wait for our answer on the vhost-user socket. The
 * queue is bounded: while QEMU is behind, updates are not queued but merged
 * into one dirty rectangle, sent from the scanout's pixels as it catches
 * up. */
#ifndef WGV_VU_DISPLAY_H
#define WGV_VU_DISPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wgv_vu_display {
    int fd;            /* -1: no socket */
    bool ready;        /* the features exchange is done */
    uint8_t *out;      /* queued bytes: [out_sent, out_len) still to send */
    size_t out_len, out_cap, out_sent;
    uint8_t in[64];    /* a partial reply */
    size_t in_len;
    uint32_t width, height;  /* the scanout (0: off) */
    const uint8_t *pixels;   /* its top-left pixel, rows stride bytes apart */
    size_t stride;
    bool scanout_owed;       /* QEMU has not been told the current scanout */
    bool dirty;              /* updates waiting: [x0, x1) x [y0, y1) */
    uint32_t x0, y0, x1, y1;
};

/* Clears the state (no socket). */
void wgv_vu_display_init(struct wgv_vu_display *d);
/* Takes the socket QEMU sent (closing an older one) and starts the exchange. */
void wgv_vu_display_set_socket(struct wgv_vu_display *d, int fd);
/* Whether there is something to send (poll for POLLOUT). */
bool wgv_vu_display_wants_write(const struct wgv_vu_display *d);
/* Reads and sends what the socket allows; false if it broke (then closed). */
bool wgv_vu_display_io(struct wgv_vu_display *d, bool readable, bool writable);
/* Scanout 0 shows width x height pixels (x8r8g8b8, rows stride bytes apart),
 * which stay valid until the next call; 0 x 0 and NULL: off. */
void wgv_vu_display_scanout(struct wgv_vu_display *d, uint32_t width, uint32_t height,
                            const uint8_t *pixels, size_t stride);
/* A rectangle of scanout 0 (inside it) has new pixels. */
void wgv_vu_display_update(struct wgv_vu_display *d, uint32_t x, uint32_t y, uint32_t w,
                           uint32_t h);
/* Closes the socket and frees the queue. */
void wgv_vu_display_close(struct wgv_vu_display *d);

#endif
