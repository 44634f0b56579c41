/* The vhost-user-gpu socket to QEMU (VHOST_USER_GPU_SET_SOCKET): the
 * protocol-features exchange, then scanout and update messages so that
 * QEMU's display shows the guest's 2D framebuffer. Writes are queued and
 * sent without blocking: QEMU reads this socket from its main loop, which
 * may at that moment wait for our answer on the vhost-user socket. */
#ifndef WGV_VU_DISPLAY_H
#define WGV_VU_DISPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wgv_vu_display {
    int fd;            /* -1: no socket */
    bool ready;        /* the features exchange is done */
    uint8_t *out;      /* queued bytes */
    size_t out_len, out_cap, out_sent;
    uint8_t in[64];    /* a partial reply */
    size_t in_len;
    uint32_t width, height; /* the scanout QEMU knows of (0: off) */
};

/* Clears the state (no socket). */
void wgv_vu_display_init(struct wgv_vu_display *d);
/* Takes the socket QEMU sent (closing an older one) and starts the exchange. */
void wgv_vu_display_set_socket(struct wgv_vu_display *d, int fd);
/* Whether there are bytes to send (poll for POLLOUT). */
bool wgv_vu_display_wants_write(const struct wgv_vu_display *d);
/* Reads and sends what the socket allows; false if it broke (then closed). */
bool wgv_vu_display_io(struct wgv_vu_display *d, bool readable, bool writable);
/* Scanout 0 shows width x height (0 x 0: off). */
void wgv_vu_display_scanout(struct wgv_vu_display *d, uint32_t width, uint32_t height);
/* New pixels (x8r8g8b8 rows, stride bytes apart) for a rectangle of scanout 0. */
void wgv_vu_display_update(struct wgv_vu_display *d, uint32_t x, uint32_t y, uint32_t w,
                           uint32_t h, const uint8_t *pixels, size_t stride);
/* Closes the socket and frees the queue. */
void wgv_vu_display_close(struct wgv_vu_display *d);

#endif
