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
/* Unsent bytes beyond which updates wait (merged into the dirty
 * rectangle): more than two 1024x768 frames. */
#define OUT_MAX (8u << 20)
/* Waiting updates are queued again once the unsent bytes fall below this. */
#define OUT_RESUME (OUT_MAX / 2)
/* Updates are sent in strips of at most this many bytes. */
#define STRIP_MAX (256u << 10)

void wgv_vu_display_init(struct wgv_vu_display *d)
{
    memset(d, 0, sizeof(*d));
    d->fd = -1;
}

/* Makes room for `need` more bytes: rewinds or compacts the queue, so the
 * buffer holds at most what is unsent plus one message (twice that once
 * grown). */
static bool reserve(struct wgv_vu_display *d, size_t need)
{
    if (d->out_sent == d->out_len) {
        d->out_len = d->out_sent = 0;
    } else if (d->out_len + need > d->out_cap && d->out_sent) {
        memmove(d->out, d->out + d->out_sent, d->out_len - d->out_sent);
        d->out_len -= d->out_sent;
        d->out_sent = 0;
    }
    if (d->out_len + need <= d->out_cap)
        return true;
    size_t cap = (d->out_len + need) * 2;
    uint8_t *o = realloc(d->out, cap);
    if (!o)
        return false;
    d->out = o;
    d->out_cap = cap;
    return true;
}

/* Queues one message: a fixed part, then nrows rows (row_len bytes each,
 * stride apart). Only a control message (`always`) may go past OUT_MAX. */
static bool queue(struct wgv_vu_display *d, uint32_t request, const void *a, size_t alen,
                  const uint8_t *rows, size_t row_len, uint32_t nrows, size_t stride, bool always)
{
    size_t size = alen + row_len * nrows;
    if (d->fd < 0 || (!always && d->out_len - d->out_sent + GPU_HDR + size > OUT_MAX) ||
        !reserve(d, GPU_HDR + size))
        return false;
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

static void mark_dirty(struct wgv_vu_display *d, uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
    if (!d->dirty) {
        d->x0 = x, d->y0 = y, d->x1 = x + w, d->y1 = y + h;
        d->dirty = true;
        return;
    }
    if (x < d->x0)
        d->x0 = x;
    if (y < d->y0)
        d->y0 = y;
    if (x + w > d->x1)
        d->x1 = x + w;
    if (y + h > d->y1)
        d->y1 = y + h;
}

/* Queues a rectangle's pixels in strips; what does not fit waits. */
static void queue_rect(struct wgv_vu_display *d, uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
    size_t row = (size_t)w * 4;
    uint32_t per = row >= STRIP_MAX ? 1 : (uint32_t)(STRIP_MAX / row);
    for (uint32_t done = 0; done < h;) {
        uint32_t n = h - done < per ? h - done : per;
        uint32_t u[5] = {0, x, y + done, w, n};
        if (!queue(d, GPU_UPDATE, u, sizeof(u), d->pixels + (size_t)(y + done) * d->stride + x * 4,
                   row, n, d->stride, false)) {
            mark_dirty(d, x, y + done, w, h - done);
            return;
        }
        done += n;
    }
}

/* Queues what waits (the scanout, then the dirty rectangle) once QEMU has
 * caught up enough. */
static void catch_up(struct wgv_vu_display *d)
{
    if (!d->ready || d->fd < 0 || d->out_len - d->out_sent > OUT_RESUME)
        return;
    if (d->scanout_owed) {
        uint32_t s[3] = {0, d->width, d->height};
        if (!queue(d, GPU_SCANOUT, s, sizeof(s), NULL, 0, 0, 0, false))
            return;
        d->scanout_owed = false;
    }
    if (d->dirty && d->pixels) {
        d->dirty = false;
        queue_rect(d, d->x0, d->y0, d->x1 - d->x0, d->y1 - d->y0);
    }
}

void wgv_vu_display_set_socket(struct wgv_vu_display *d, int fd)
{
    /* The scanout survives a new socket; QEMU is told of it once ready. */
    uint32_t w = d->width, h = d->height;
    const uint8_t *pixels = d->pixels;
    size_t stride = d->stride;
    wgv_vu_display_close(d);
    d->width = w, d->height = h, d->pixels = pixels, d->stride = stride;
    d->fd = fd;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    queue(d, GPU_GET_PROTOCOL_FEATURES, NULL, 0, NULL, 0, 0, 0, true);
}

bool wgv_vu_display_wants_write(const struct wgv_vu_display *d)
{
    return d->fd >= 0 && (d->out_sent < d->out_len || (d->ready && (d->scanout_owed || d->dirty)));
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
                queue(d, GPU_SET_PROTOCOL_FEATURES, &none, sizeof(none), NULL, 0, 0, 0, true);
                d->ready = true;
                if (d->width) {
                    d->scanout_owed = true;
                    mark_dirty(d, 0, 0, d->width, d->height);
                }
            }
            size_t used = GPU_HDR + hdr[2];
            memmove(d->in, d->in + used, d->in_len - used);
            d->in_len -= used;
        }
    }
    (void)writable; /* sends are non-blocking: try whenever asked */
    for (;;) {
        while (d->out_sent < d->out_len) {
            ssize_t n = send(d->fd, d->out + d->out_sent, d->out_len - d->out_sent,
                             MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return true;
            if (n <= 0)
                return fail(d);
            d->out_sent += (size_t)n;
        }
        size_t before = d->out_len;
        catch_up(d);
        if (d->out_len == before)
            return true;
    }
}

void wgv_vu_display_scanout(struct wgv_vu_display *d, uint32_t width, uint32_t height,
                            const uint8_t *pixels, size_t stride)
{
    d->pixels = pixels;
    d->stride = stride;
    if (d->width == width && d->height == height)
        return;
    d->width = width;
    d->height = height;
    /* Waiting updates were for the old scanout. */
    d->dirty = false;
    if (d->ready) {
        d->scanout_owed = true;
        catch_up(d);
    }
}

void wgv_vu_display_update(struct wgv_vu_display *d, uint32_t x, uint32_t y, uint32_t w,
                           uint32_t h)
{
    if (!d->ready || !d->pixels || !w || !h)
        return;
    /* Behind what already waits, or behind a scanout QEMU has not heard
     * of: wait with it. */
    if (d->dirty || d->scanout_owed) {
        mark_dirty(d, x, y, w, h);
        catch_up(d);
        return;
    }
    queue_rect(d, x, y, w, h);
}

void wgv_vu_display_close(struct wgv_vu_display *d)
{
    if (d->fd >= 0)
        close(d->fd);
    free(d->out);
    wgv_vu_display_init(d);
}
