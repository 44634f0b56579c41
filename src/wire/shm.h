/* The shared memory of one connection: one memfd, created and sealed by the
 * host, mapped by both sides (docs/transport.md, "Shared memory").
 *
 *   offset 0            control page: header + both rings' control blocks
 *   page                command ring data   (guest -> host), cmd_ring bytes
 *   page + cmd_ring     reply ring data     (host -> guest), reply_ring bytes
 *   ... + reply_ring    bulk area (payloads named by commands), bulk bytes
 *
 * "page" is the system page size. Ring sizes are powers of two, the bulk size
 * a multiple of the page size. Every side uses the sizes it got from the
 * handshake (its own copy); the copy in the control page is informational. */
#ifndef WGV_WIRE_SHM_H
#define WGV_WIRE_SHM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ring.h"

#define WGV_SHM_MAGIC 0x4d564757u /* "WGVM" little-endian */
#define WGV_SHM_LAYOUT_VERSION 1u

#define WGV_SHM_DEFAULT_CMD_RING (4ull << 20)
#define WGV_SHM_DEFAULT_REPLY_RING (1ull << 20)
#define WGV_SHM_DEFAULT_BULK (2ull << 30)
/* Absolute caps, whatever the policy says. */
#define WGV_SHM_MAX_RING ((uint64_t)WGV_RING_MAX_SIZE)
#define WGV_SHM_MAX_BULK (64ull << 30)

struct wgv_shm_sizes {
    uint64_t cmd_ring;   /* command ring data bytes (power of two, >= page) */
    uint64_t reply_ring; /* reply ring data bytes (power of two, >= page) */
    uint64_t bulk;       /* bulk area bytes (multiple of the page size, > 0) */
};

/* The control page's layout (the page is zero-filled past it). */
struct wgv_shm_control {
    uint32_t magic;          /* WGV_SHM_MAGIC */
    uint32_t layout_version; /* WGV_SHM_LAYOUT_VERSION */
    uint32_t page_size;
    uint32_t reserved0;
    uint64_t cmd_ring_offset, cmd_ring_size;
    uint64_t reply_ring_offset, reply_ring_size;
    uint64_t bulk_offset, bulk_size;
    uint64_t total_size;
    uint8_t reserved1[256 - 72];
    struct wgv_ring_shared cmd_ring;   /* at offset 256 */
    struct wgv_ring_shared reply_ring; /* at offset 512 */
};

/* One side's mapping. The sizes are this side's trusted copy. */
struct wgv_shm {
    int fd;                     /* the memfd (owned), -1 when closed */
    uint8_t *base;              /* mapping of the whole memfd */
    uint64_t map_size;          /* = wgv_shm_total_size(&sizes) */
    uint64_t page_size;
    struct wgv_shm_sizes sizes;
};

/* The system page size (control page size and size granule). */
uint64_t wgv_shm_page_size(void);

/* Checks sizes against the layout rules and absolute caps; on failure writes
 * a one-line reason to err and returns false. */
bool wgv_shm_sizes_valid(const struct wgv_shm_sizes *sizes, char *err, size_t errlen);

/* Bytes of the whole memfd for these (valid) sizes. */
uint64_t wgv_shm_total_size(const struct wgv_shm_sizes *sizes);

/* Host side: creates the memfd (MFD_CLOEXEC|MFD_ALLOW_SEALING), sizes it,
 * seals it (SHRINK|GROW|SEAL), maps it and writes the control page. Returns 0,
 * or -1 with a reason in err (out is then cleared, nothing leaks). */
int wgv_shm_create(const struct wgv_shm_sizes *sizes, struct wgv_shm *out, char *err,
                   size_t errlen);

/* Either side: maps `fd` (ownership passes to out, even on failure: it is
 * closed then) with the given sizes. Refuses a file that is smaller than the
 * layout or not sealed against shrinking, so the mapping cannot SIGBUS. */
int wgv_shm_map(int fd, const struct wgv_shm_sizes *sizes, struct wgv_shm *out, char *err,
                size_t errlen);

/* Unmaps and closes; safe on a cleared or already unmapped shm. */
void wgv_shm_unmap(struct wgv_shm *shm);

/* The control page. */
struct wgv_shm_control *wgv_shm_control(const struct wgv_shm *shm);

/* Writes the control page's layout for shm->sizes and empties both rings'
 * control blocks; leaves `magic` to the caller, who writes it last. */
void wgv_shm_write_control(const struct wgv_shm *shm);

/* Attach ring handles to the command or reply ring (both sides). */
int wgv_shm_cmd_ring(const struct wgv_shm *shm, struct wgv_ring *ring);
int wgv_shm_reply_ring(const struct wgv_shm *shm, struct wgv_ring *ring);

/* Start of the bulk area; its size is shm->sizes.bulk. */
uint8_t *wgv_shm_bulk(const struct wgv_shm *shm);

/* True if [offset, offset + size) lies within `limit` bytes, without
 * overflow. Size 0 is fine anywhere up to limit. */
static inline bool wgv_range_ok(uint64_t limit, uint64_t offset, uint64_t size)
{
    return offset <= limit && size <= limit - offset;
}

/* True if the range lies within this side's bulk area (its own size copy). */
bool wgv_shm_bulk_range_ok(const struct wgv_shm *shm, uint64_t offset, uint64_t size);

/* Pointer to a checked bulk range, or NULL if it does not fit. The bytes are
 * shared with the peer: copy what steers decisions before checking it. */
uint8_t *wgv_shm_bulk_ptr(const struct wgv_shm *shm, uint64_t offset, uint64_t size);

#endif
