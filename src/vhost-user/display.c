/* The vhost-user-gpu display socket (display.h). Messages: u32 request,
 * u32 flags, u32 size, then size bytes (QEMU's docs/interop/vhost-user-gpu.rst). */
#include "display.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum {
    GPU_GET_PROTOCOL_FEATURES = 1,
    GPU_SET_PROTOCOL_FEATURES = 2,
    GPU_SCANOUT = 7,
    GPU_UPDATE = 8,
};
#define GPU_FLAG_REPLY 0x4u
#define GPU_HDR 12u
/* Queued bytes beyond which updates are dropped (QEMU is not reading). */
#define OUT_MAX (64u << 20)
/* Updates are sent in strips of at most this many bytes. */
#define STRIP_MAX (256u << 10)

void wgv_vu_display_init(struct wgv_vu_display *d)
{
    memset(d, 0, sizeof(*d));
    d->fd = -1;
}

static bool queue(struct wgv_vu_display *d, uint32_t request, const void *a, size_t alen,
                  const uint8_t *rows, size_t row_len, uint32_t nrows, size_t stride)
{
    size_t size = alen + row_len * nrows;
    if (d->fd < 0 || d->out_len - d->out_sent + GPU_HDR + size > OUT_MAX)
        return false;
    if (d->out_sent == d->out_len)
        d->out_len = d->out_sent = 0;
    if (d->out_len + GPU_HDR + size > d->out_cap) {
        size_t cap = (d->out_len + GPU_HDR + size) * 2;
        uint8_t *o = realloc(d->out, cap);
        if (!o)
            return false;
        d->out = o;
        d->out_cap = cap;
    }
    uint32_t hdr[3] = {request, 0, (uint32_t)size};
    uint8_t *p = d->out + d->out_len;
    memcpy(p, hdr, GPU_HDR);
    if (alen)
        memcpy(p + GPU_HDR, a, alen);
    for (uint32_t i = 0; i < nrows; i++)
        memcpy(p + GPU_HDR + alen + i * row_len, rows + i * stride, row_len);
    d->out_len += GPU_HDR + size;
    return true;
}

void wgv_vu_display_set_socket(struct wgv_vu_display *d, int fd)
{
    wgv_vu_display_close(d);
    d->fd = fd;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    queue(d, GPU_GET_PROTOCOL_FEATURES, NULL, 0, NULL, 0, 0, 0);
}

bool wgv_vu_display_wants_write(const struct wgv_vu_display *d)
{
    return d->fd >= 0 && d->out_sent < d->out_len;
}

static bool fail(struct wgv_vu_display *d)
{
    wgv_vu_display_close(d);
    return false;
}

bool wgv_vu_display_io(struct wgv_vu_display *d, bool readable, bool writable)
{
    if (d->fd < 0)
        return false;
    if (readable) {
        ssize_t n = recv(d->fd, d->in + d->in_len, sizeof(d->in) - d->in_len, 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
            return fail(d);
        if (n > 0)
            d->in_len += (size_t)n;
        while (d->in_len >= GPU_HDR) {
            uint32_t hdr[3];
            memcpy(hdr, d->in, GPU_HDR);
            if (hdr[2] > sizeof(d->in) - GPU_HDR)
                return fail(d); /* we ask nothing with a large answer */
            if (d->in_len < GPU_HDR + hdr[2])
                break;
            if (hdr[0] == GPU_GET_PROTOCOL_FEATURES && (hdr[1] & GPU_FLAG_REPLY) && !d->ready) {
                /* We use none of QEMU's optional features (EDID, dmabufs). */
                uint64_t none = 0;
                queue(d, GPU_SET_PROTOCOL_FEATURES, &none, sizeof(none), NULL, 0, 0, 0);
                d->ready = true;
                if (d->width) {
                    uint32_t s[3] = {0, d->width, d->height};
                    queue(d, GPU_SCANOUT, s, sizeof(s), NULL, 0, 0, 0);
                }
            }
            size_t used = GPU_HDR + hdr[2];
            memmove(d->in, d->in + used, d->in_len - used);
            d->in_len -= used;
        }
    }
    if (writable || d->out_sent < d->out_len) {
        while (d->out_sent < d->out_len) {
            ssize_t n = send(d->fd, d->out + d->out_sent, d->out_len - d->out_sent,
                             MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n < 0 && (errno == EAGAIN || errno == EINTR))
                break;
            if (n <= 0)
                return fail(d);
            d->out_sent += (size_t)n;
        }
    }
    return true;
}

void wgv_vu_display_scanout(struct wgv_vu_display *d, uint32_t width, uint32_t height)
{
    if (d->width == width && d->height == height)
        return;
    d->width = width;
    d->height = height;
    if (d->ready) {
        uint32_t s[3] = {0, width, height};
        queue(d, GPU_SCANOUT, s, sizeof(s), NULL, 0, 0, 0);
    }
}

void wgv_vu_display_update(struct wgv_vu_display *d, uint32_t x, uint32_t y, uint32_t w,
                           uint32_t h, const uint8_t *pixels, size_t stride)
{
    if (!d->ready || !w || !h)
        return;
    size_t row = (size_t)w * 4;
    uint32_t per = row >= STRIP_MAX ? 1 : (uint32_t)(STRIP_MAX / row);
    for (uint32_t done = 0; done < h;) {
        uint32_t n = h - done < per ? h - done : per;
        uint32_t u[5] = {0, x, y + done, w, n};
        if (!queue(d, GPU_UPDATE, u, sizeof(u), pixels + done * stride, row, n, stride))
            return;
        done += n;
    }
}

void wgv_vu_display_close(struct wgv_vu_display *d)
{
    if (d->fd >= 0)
        close(d->fd);
    free(d->out);
    wgv_vu_display_init(d);
}
