/* Shared memory of one connection; see shm.h and docs/transport.md. */
#include "shm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

_Static_assert(offsetof(struct wgv_shm_control, cmd_ring) == 256, "control page layout");
_Static_assert(offsetof(struct wgv_shm_control, reply_ring) == 512, "control page layout");
_Static_assert(sizeof(struct wgv_shm_control) == 768, "control page layout");

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

uint64_t wgv_shm_page_size(void)
{
    long ps = sysconf(_SC_PAGESIZE);
    return ps > 0 ? (uint64_t)ps : 4096;
}

static bool ring_size_ok(const char *what, uint64_t size, uint64_t page, char *err,
                         size_t errlen)
{
    if (size < page || size > WGV_SHM_MAX_RING || (size & (size - 1)) != 0) {
        set_err(err, errlen,
                "%s of %llu bytes: must be a power of two from %llu to %llu", what,
                (unsigned long long)size, (unsigned long long)page,
                (unsigned long long)WGV_SHM_MAX_RING);
        return false;
    }
    return true;
}

bool wgv_shm_sizes_valid(const struct wgv_shm_sizes *s, char *err, size_t errlen)
{
    uint64_t page = wgv_shm_page_size();
    if (!ring_size_ok("command ring", s->cmd_ring, page, err, errlen) ||
        !ring_size_ok("reply ring", s->reply_ring, page, err, errlen))
        return false;
    if (s->bulk == 0 || s->bulk % page != 0 || s->bulk > WGV_SHM_MAX_BULK) {
        set_err(err, errlen,
                "bulk area of %llu bytes: must be a non-zero multiple of %llu, at most %llu",
                (unsigned long long)s->bulk, (unsigned long long)page,
                (unsigned long long)WGV_SHM_MAX_BULK);
        return false;
    }
    return true;
}

uint64_t wgv_shm_total_size(const struct wgv_shm_sizes *s)
{
    /* Cannot overflow for valid sizes: at most 1 page + 2 GiB + 64 GiB. */
    return wgv_shm_page_size() + s->cmd_ring + s->reply_ring + s->bulk;
}

static void clear(struct wgv_shm *shm)
{
    memset(shm, 0, sizeof(*shm));
    shm->fd = -1;
}

static int map_fd(int fd, const struct wgv_shm_sizes *sizes, struct wgv_shm *out, char *err,
                  size_t errlen)
{
    uint64_t total = wgv_shm_total_size(sizes);
    /* MAP_NORESERVE: the bulk area is sparse; pages cost nothing until touched. */
    void *base = mmap(NULL, (size_t)total, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE,
                      fd, 0);
    if (base == MAP_FAILED) {
        set_err(err, errlen, "shm: mmap of %llu bytes failed: %s", (unsigned long long)total,
                strerror(errno));
        return -1;
    }
    out->fd = fd;
    out->base = base;
    out->map_size = total;
    out->page_size = wgv_shm_page_size();
    out->sizes = *sizes;
    return 0;
}

int wgv_shm_create(const struct wgv_shm_sizes *sizes, struct wgv_shm *out, char *err,
                   size_t errlen)
{
    clear(out);
    if (!wgv_shm_sizes_valid(sizes, err, errlen))
        return -1;
    uint64_t total = wgv_shm_total_size(sizes);
    int fd = memfd_create("wgv-shm", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) {
        set_err(err, errlen, "shm: memfd_create failed: %s", strerror(errno));
        return -1;
    }
    if (ftruncate(fd, (off_t)total) != 0) {
        set_err(err, errlen, "shm: sizing the memfd to %llu bytes failed: %s",
                (unsigned long long)total, strerror(errno));
        close(fd);
        return -1;
    }
    if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
        set_err(err, errlen, "shm: sealing the memfd failed: %s", strerror(errno));
        close(fd);
        return -1;
    }
    if (map_fd(fd, sizes, out, err, errlen) != 0) {
        close(fd);
        clear(out);
        return -1;
    }
    (void)total;
    wgv_shm_write_control(out);
    wgv_shm_control(out)->magic = WGV_SHM_MAGIC;
    return 0;
}

void wgv_shm_write_control(const struct wgv_shm *shm)
{
    uint64_t page = shm->page_size;
    const struct wgv_shm_sizes *s = &shm->sizes;
    struct wgv_shm_control *c = wgv_shm_control(shm);
    c->layout_version = WGV_SHM_LAYOUT_VERSION;
    c->page_size = (uint32_t)page;
    c->reserved0 = 0;
    c->cmd_ring_offset = page;
    c->cmd_ring_size = s->cmd_ring;
    c->reply_ring_offset = page + s->cmd_ring;
    c->reply_ring_size = s->reply_ring;
    c->bulk_offset = page + s->cmd_ring + s->reply_ring;
    c->bulk_size = s->bulk;
    c->total_size = wgv_shm_total_size(s);
    memset(c->reserved1, 0, sizeof(c->reserved1));
    wgv_ring_shared_init(&c->cmd_ring);
    wgv_ring_shared_init(&c->reply_ring);
}

int wgv_shm_map(int fd, const struct wgv_shm_sizes *sizes, struct wgv_shm *out, char *err,
                size_t errlen)
{
    clear(out);
    if (fd < 0) {
        set_err(err, errlen, "shm: no file descriptor");
        return -1;
    }
    if (!wgv_shm_sizes_valid(sizes, err, errlen))
        goto fail;
    uint64_t total = wgv_shm_total_size(sizes);
    struct stat st;
    if (fstat(fd, &st) != 0) {
        set_err(err, errlen, "shm: fstat failed: %s", strerror(errno));
        goto fail;
    }
    if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != total) {
        set_err(err, errlen, "shm: the file has %lld bytes, the layout needs %llu",
                (long long)st.st_size, (unsigned long long)total);
        goto fail;
    }
    int seals = fcntl(fd, F_GET_SEALS);
    if (seals < 0 || !(seals & F_SEAL_SHRINK)) {
        set_err(err, errlen, "shm: the file is not sealed against shrinking");
        goto fail;
    }
    if (map_fd(fd, sizes, out, err, errlen) != 0)
        goto fail;
    /* The control page's copy must agree; each field is read once. */
    const volatile struct wgv_shm_control *c = wgv_shm_control(out);
    uint64_t page = out->page_size;
    if (c->magic != WGV_SHM_MAGIC || c->layout_version != WGV_SHM_LAYOUT_VERSION ||
        c->page_size != page || c->cmd_ring_offset != page ||
        c->cmd_ring_size != sizes->cmd_ring || c->reply_ring_size != sizes->reply_ring ||
        c->bulk_size != sizes->bulk) {
        set_err(err, errlen, "shm: the control page does not match the negotiated layout");
        wgv_shm_unmap(out);
        return -1;
    }
    return 0;
fail:
    close(fd);
    clear(out);
    return -1;
}

void wgv_shm_unmap(struct wgv_shm *shm)
{
    if (shm->base)
        munmap(shm->base, (size_t)shm->map_size);
    if (shm->fd >= 0)
        close(shm->fd);
    clear(shm);
}

struct wgv_shm_control *wgv_shm_control(const struct wgv_shm *shm)
{
    return (struct wgv_shm_control *)shm->base;
}

int wgv_shm_cmd_ring(const struct wgv_shm *shm, struct wgv_ring *ring)
{
    return wgv_ring_attach(ring, &wgv_shm_control(shm)->cmd_ring, shm->base + shm->page_size,
                           (uint32_t)shm->sizes.cmd_ring);
}

int wgv_shm_reply_ring(const struct wgv_shm *shm, struct wgv_ring *ring)
{
    return wgv_ring_attach(ring, &wgv_shm_control(shm)->reply_ring,
                           shm->base + shm->page_size + shm->sizes.cmd_ring,
                           (uint32_t)shm->sizes.reply_ring);
}

uint8_t *wgv_shm_bulk(const struct wgv_shm *shm)
{
    return shm->base + shm->page_size + shm->sizes.cmd_ring + shm->sizes.reply_ring;
}

bool wgv_shm_bulk_range_ok(const struct wgv_shm *shm, uint64_t offset, uint64_t size)
{
    return wgv_range_ok(shm->sizes.bulk, offset, size);
}

uint8_t *wgv_shm_bulk_ptr(const struct wgv_shm *shm, uint64_t offset, uint64_t size)
{
    if (!wgv_shm_bulk_range_ok(shm, offset, size))
        return NULL;
    return wgv_shm_bulk(shm) + offset;
}
