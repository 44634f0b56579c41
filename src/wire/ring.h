/* A single-producer, single-consumer byte ring in memory shared by two
 * processes that do not trust each other (docs/transport.md, "Rings").
 *
 * The shared part is a control block (positions and two futex words, each on
 * its own cache line) and a data area whose size is a power of two. Records
 * are 8-byte aligned and start with a little-endian uint32 holding the
 * record's total size (header included, a multiple of 8); a record never
 * wraps: when one would, the producer first writes a padding record to the
 * end of the data area.
 *
 * Each side keeps its own position in its private handle (struct wgv_ring)
 * and only ever writes it to shared memory; the other side's position is read
 * once, checked, and never trusted. A consumer that finds the producer's
 * position or a record header out of bounds reports WGV_RING_PROTO and stays
 * broken; it never reads outside the data area. */
#ifndef WGV_WIRE_RING_H
#define WGV_WIRE_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Status codes. Functions returning a size return one of the negative codes
 * on failure. */
enum {
    WGV_RING_OK = 0,
    WGV_RING_EMPTY = -1,   /* nothing to read */
    WGV_RING_TIMEOUT = -2, /* the wait ran out */
    WGV_RING_DEAD = -3,    /* wgv_ring_mark_dead was called */
    WGV_RING_PROTO = -4,   /* the peer broke the ring protocol (latched) */
    WGV_RING_TOOBIG = -5,  /* record larger than the ring or the buffer */
};

#define WGV_RING_ALIGN 8u
#define WGV_RING_MIN_RECORD 8u
#define WGV_RING_MIN_SIZE 64u
#define WGV_RING_MAX_SIZE (1u << 30)
/* Set in a record's size word: the record is padding to the data area's end. */
#define WGV_RING_PAD_FLAG 0x80000000u
/* Timeout value meaning "wait forever". */
#define WGV_RING_FOREVER (-1)
/* Default spin before sleeping, in nanoseconds (tunable per handle). */
#define WGV_RING_DEFAULT_SPIN_NS 20000

/* The control block in shared memory: 256 bytes, every word on its own
 * 64-byte cache line. Positions are free-running byte counts (they never wrap
 * in practice: 2^64 bytes); the offset in the data area is pos & (size - 1). */
struct wgv_ring_shared {
    _Alignas(64) _Atomic uint64_t head;          /* producer position: written by the producer */
    _Alignas(64) _Atomic uint64_t tail;          /* consumer position: written by the consumer */
    _Alignas(64) _Atomic uint32_t consumer_idle; /* 1: consumer sleeps or is about to (futex word) */
    _Alignas(64) _Atomic uint32_t producer_waiting; /* 1: producer waits for space (futex word) */
};

/* Futex calls and other events one handle made (private, for tests and
 * tuning). */
struct wgv_ring_stats {
    uint64_t doorbells;       /* producer: FUTEX_WAKE calls because the consumer was idle */
    uint64_t producer_sleeps; /* producer: FUTEX_WAIT calls on a full ring */
    uint64_t consumer_sleeps; /* consumer: FUTEX_WAIT calls on an empty ring */
    uint64_t producer_wakes;  /* consumer: FUTEX_WAKE calls for a waiting producer */
    uint64_t publishes;       /* producer: wgv_ring_publish calls */
    uint64_t records;         /* consumer: records released (padding excluded) */
};

/* One side's private handle. Fields are internal except spin_ns and stats. */
struct wgv_ring {
    struct wgv_ring_shared *shared;
    uint8_t *data;
    uint32_t size;          /* data area bytes, a power of two */
    uint32_t reserved;      /* producer: bytes granted by the last reserve */
    uint64_t prod;          /* producer: committed position (published or not) */
    uint64_t pub;           /* producer: position last published */
    uint64_t cons_seen;     /* producer: last valid consumer position seen */
    uint64_t cons;          /* consumer: own position */
    uint64_t head_seen;     /* consumer: last valid producer position seen */
    uint64_t tail_stored;   /* consumer: position last written to shared memory */
    int64_t spin_ns;        /* how long to spin before sleeping (tunable) */
    _Atomic int dead;
    _Atomic uint32_t sleepers; /* consumer: threads asleep in a wait */
    int broken;             /* protocol violation seen: every call fails */
    struct wgv_ring_stats stats;
};

/* Resets a control block to the empty state (only before the peer uses it). */
void wgv_ring_shared_init(struct wgv_ring_shared *shared);

/* Binds a handle to a control block and a data area of `size` bytes (a power
 * of two in [WGV_RING_MIN_SIZE, WGV_RING_MAX_SIZE], 8-byte aligned). Both
 * positions start at 0. Returns WGV_RING_OK or WGV_RING_TOOBIG for a bad size. */
int wgv_ring_attach(struct wgv_ring *ring, struct wgv_ring_shared *shared, void *data,
                    uint32_t size);

/* Largest record a reserve can grant (the data area's size). */
uint32_t wgv_ring_max_record(const struct wgv_ring *ring);

/* Marks the ring dead and wakes whoever sleeps on it in this process: waits
 * and reserves then fail with WGV_RING_DEAD. Safe from any thread. */
void wgv_ring_mark_dead(struct wgv_ring *ring);

/* --- producer ------------------------------------------------------------ */

/* Returns a contiguous, 8-byte aligned area of at least `size` bytes (rounded
 * up to 8, at least 8) for one record; bytes [0,4) are the size word that
 * commit writes, the caller fills the rest. Spins then sleeps while the ring is
 * full, for at most timeout_ns (WGV_RING_FOREVER: no limit; 0: no wait).
 * Returns NULL with *status (may be NULL) set to TIMEOUT, DEAD, PROTO or
 * TOOBIG. */
void *wgv_ring_reserve(struct wgv_ring *ring, uint32_t size, int64_t timeout_ns, int *status);

/* Ends the record from the last reserve: `size` (4 <= size <= reserved) is
 * rounded up to 8, written into the size word, and the rounding bytes zeroed.
 * The record stays invisible to the consumer until wgv_ring_publish. */
void wgv_ring_commit(struct wgv_ring *ring, uint32_t size);

/* Makes every committed record visible (release store of the position) and
 * rings the doorbell (FUTEX_WAKE) only if the consumer marked itself idle.
 * Returns true if it made the syscall. */
bool wgv_ring_publish(struct wgv_ring *ring);

/* Publishes only once `batch` bytes or more are committed and unpublished
 * (a stream of small records then moves the shared position, and its cache
 * line, once a batch); returns what wgv_ring_publish returned, or false. */
bool wgv_ring_publish_batched(struct wgv_ring *ring, uint32_t batch);

/* Bytes a producer of small records commits before it publishes them. */
#define WGV_RING_PUBLISH_BATCH 4096u

/* --- consumer ------------------------------------------------------------ */

/* Looks at the next record: on WGV_RING_OK, *rec points at it IN SHARED
 * MEMORY and *size is its validated size (read once). Padding is skipped.
 * Returns OK, EMPTY, PROTO or DEAD. Prefer wgv_ring_read, which copies. */
int wgv_ring_peek(struct wgv_ring *ring, const void **rec, uint32_t *size);

/* Consumes `size` bytes (the size peek returned). The new position reaches
 * shared memory in batches (every 1/16 of the ring, when the ring is found
 * empty, or at once if the producer waits for space), so that a stream of
 * small records does not bounce the position's cache line per record. */
void wgv_ring_release(struct wgv_ring *ring, uint32_t size);

/* Copies the next record into buf (peek, validate, memcpy, release); the copy's
 * size word is rewritten with the validated size. Returns the record's size
 * (> 0), WGV_RING_EMPTY, WGV_RING_PROTO, WGV_RING_DEAD, or WGV_RING_TOOBIG if
 * cap is smaller (the record is then left in the ring). */
ssize_t wgv_ring_read(struct wgv_ring *ring, void *buf, size_t cap);
/* wgv_ring_read without the release: the record stays the consumer's next
 * one until wgv_ring_release(ring, size), so that the producer does not see
 * it consumed (and reuse what it names) before the consumer has acted on it. */
ssize_t wgv_ring_copy(struct wgv_ring *ring, void *buf, size_t cap);

/* Waits until the producer's position moves past ours: spins for spin_ns, then
 * marks itself idle, re-checks, and sleeps on the futex. Returns OK (something
 * to peek: a record, or a violation peek will report), TIMEOUT, DEAD or PROTO.
 * timeout_ns as for reserve. */
int wgv_ring_wait(struct wgv_ring *ring, int64_t timeout_ns);

/* Consumer: the position to wait past, taken where the consumer's own state
 * may be read (it also hands the producer every byte consumed so far). */
uint64_t wgv_ring_wait_point(struct wgv_ring *ring);
/* Waits as wgv_ring_wait, until the producer publishes past `point`, but
 * reads only shared state: several threads of the consumer's process may
 * wait at once while another one reads. Returns OK, TIMEOUT or DEAD. */
int wgv_ring_wait_past(struct wgv_ring *ring, uint64_t point, int64_t timeout_ns);

/* Whether this handle saw the peer break the ring protocol (latched; every
 * later call fails with WGV_RING_PROTO). */
bool wgv_ring_broken(const struct wgv_ring *ring);

/* Name of a status code, for messages. */
const char *wgv_ring_status_str(int status);

#endif
