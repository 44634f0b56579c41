/* SPSC byte ring in shared memory; see ring.h and docs/transport.md.
 *
 * Ordering: the producer makes records visible with a store of `head` and
 * then reads `consumer_idle`; the consumer stores consumer_idle = 1 and then
 * reads `head` before it sleeps. Both pairs are sequentially consistent, so at
 * least one side sees the other's store: either the consumer sees the new
 * records and does not sleep, or the producer sees the idle flag and wakes it.
 * The same pattern guards `tail` / `producer_waiting` for a full ring. */
#include "ring.h"

#include <endian.h>
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

_Static_assert(sizeof(struct wgv_ring_shared) == 256, "ring control block is 4 cache lines");
_Static_assert(offsetof(struct wgv_ring_shared, tail) == 64, "tail on its own line");
_Static_assert(offsetof(struct wgv_ring_shared, consumer_idle) == 128, "idle on its own line");
_Static_assert(offsetof(struct wgv_ring_shared, producer_waiting) == 192, "waiting on its own line");
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2 && ATOMIC_INT_LOCK_FREE == 2,
               "shared-memory atomics must be lock-free");

static inline uint32_t round8(uint32_t n)
{
    return (n + (WGV_RING_ALIGN - 1)) & ~(WGV_RING_ALIGN - 1);
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t deadline_after(int64_t timeout_ns)
{
    if (timeout_ns < 0)
        return INT64_MAX;
    int64_t now = now_ns();
    return timeout_ns > INT64_MAX - now ? INT64_MAX : now + timeout_ns;
}

/* The words are shared between processes: no FUTEX_PRIVATE_FLAG. */
static void futex_wait(_Atomic uint32_t *word, uint32_t expected, int64_t deadline)
{
    struct timespec ts, *tsp = NULL;
    if (deadline != INT64_MAX) {
        int64_t left = deadline - now_ns();
        if (left <= 0)
            return;
        ts.tv_sec = left / 1000000000;
        ts.tv_nsec = left % 1000000000;
        tsp = &ts;
    }
    /* EINTR, EAGAIN (value changed) and ETIMEDOUT all send the caller back
     * to its loop, which re-checks everything. */
    syscall(SYS_futex, (void *)word, FUTEX_WAIT, expected, tsp, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *word, int count)
{
    syscall(SYS_futex, (void *)word, FUTEX_WAKE, count, NULL, NULL, 0);
}

void wgv_ring_shared_init(struct wgv_ring_shared *shared)
{
    atomic_init(&shared->head, 0);
    atomic_init(&shared->tail, 0);
    atomic_init(&shared->consumer_idle, 0);
    atomic_init(&shared->producer_waiting, 0);
}

int wgv_ring_attach(struct wgv_ring *ring, struct wgv_ring_shared *shared, void *data,
                    uint32_t size)
{
    memset(ring, 0, sizeof(*ring));
    if (size < WGV_RING_MIN_SIZE || size > WGV_RING_MAX_SIZE || (size & (size - 1)) != 0 ||
        ((uintptr_t)data & (WGV_RING_ALIGN - 1)) != 0 || ((uintptr_t)shared & 63) != 0)
        return WGV_RING_TOOBIG;
    ring->shared = shared;
    ring->data = data;
    ring->size = size;
    ring->spin_ns = WGV_RING_DEFAULT_SPIN_NS;
    atomic_init(&ring->dead, 0);
    return WGV_RING_OK;
}

uint32_t wgv_ring_max_record(const struct wgv_ring *ring)
{
    return ring->size;
}

void wgv_ring_mark_dead(struct wgv_ring *ring)
{
    atomic_store(&ring->dead, 1);
    /* Changing the words makes a sleeper that checked `dead` just before
     * this store return from FUTEX_WAIT with EAGAIN instead of sleeping. */
    atomic_store(&ring->shared->consumer_idle, 0);
    atomic_store(&ring->shared->producer_waiting, 0);
    futex_wake(&ring->shared->consumer_idle, INT_MAX);
    futex_wake(&ring->shared->producer_waiting, INT_MAX);
}

static inline bool is_dead(struct wgv_ring *ring)
{
    return atomic_load_explicit(&ring->dead, memory_order_relaxed) != 0;
}

/* --- producer ------------------------------------------------------------ */

/* Reads the consumer's position once and bounds it: 8-aligned, not behind
 * the last one seen, not past our own position. */
static int load_tail(struct wgv_ring *ring, memory_order order, uint64_t *out)
{
    uint64_t tail = atomic_load_explicit(&ring->shared->tail, order);
    if ((tail & (WGV_RING_ALIGN - 1)) != 0 ||
        tail - ring->cons_seen > ring->prod - ring->cons_seen) {
        ring->broken = 1;
        return WGV_RING_PROTO;
    }
    ring->cons_seen = tail;
    *out = tail;
    return WGV_RING_OK;
}

static inline uint64_t space_for(const struct wgv_ring *ring, uint64_t tail)
{
    return ring->size - (ring->prod - tail);
}

bool wgv_ring_publish(struct wgv_ring *ring)
{
    struct wgv_ring_shared *sh = ring->shared;
    ring->stats.publishes++;
    ring->pub = ring->prod;
    atomic_store_explicit(&sh->head, ring->prod, memory_order_seq_cst);
    /* Reserve reads the consumer's position only when it runs short of
     * space; each publish checks it too, so a lying consumer is caught
     * within a batch even while space lasts (the next reserve fails). */
    uint64_t tail;
    if (!ring->broken)
        load_tail(ring, memory_order_acquire, &tail);
    /* Cheap load first: while the consumer is busy this is all we do. */
    if (atomic_load_explicit(&sh->consumer_idle, memory_order_seq_cst) != 0 &&
        atomic_exchange(&sh->consumer_idle, 0) != 0) {
        ring->stats.doorbells++;
        futex_wake(&sh->consumer_idle, INT_MAX);
        return true;
    }
    return false;
}

bool wgv_ring_publish_batched(struct wgv_ring *ring, uint32_t batch)
{
    if (ring->prod - ring->pub < batch)
        return false;
    return wgv_ring_publish(ring);
}

/* Waits until `need` bytes are free after our position, for at most
 * timeout_ns (0: not at all; see wgv_ring_reserve). */
static int wait_space(struct wgv_ring *ring, uint32_t need, int64_t timeout_ns)
{
    struct wgv_ring_shared *sh = ring->shared;
    /* The consumer's last position seen is often enough: no shared read. */
    if (space_for(ring, ring->cons_seen) >= need)
        return WGV_RING_OK;
    uint64_t tail;
    int rc = load_tail(ring, memory_order_acquire, &tail);
    if (rc != WGV_RING_OK)
        return rc;
    if (space_for(ring, tail) >= need)
        return WGV_RING_OK;
    /* INT64_MIN as deadline means "do not wait at all". */
    int64_t deadline = timeout_ns == 0 ? INT64_MIN : deadline_after(timeout_ns);
    /* The consumer can only free what it can see. */
    if (ring->pub != ring->prod)
        wgv_ring_publish(ring);
    if (deadline != INT64_MIN && ring->spin_ns > 0) {
        int64_t spin_end = now_ns() + ring->spin_ns;
        if (spin_end > deadline)
            spin_end = deadline;
        for (unsigned i = 1;; i++) {
            if (is_dead(ring))
                return WGV_RING_DEAD;
            if ((rc = load_tail(ring, memory_order_acquire, &tail)) != WGV_RING_OK)
                return rc;
            if (space_for(ring, tail) >= need)
                return WGV_RING_OK;
            if ((i & 63) == 0 && now_ns() >= spin_end)
                break;
            cpu_relax();
        }
    }
    if (deadline == INT64_MIN)
        return WGV_RING_TIMEOUT;
    for (;;) {
        /* Waiting first, then the re-check (see the top of this file). */
        atomic_store_explicit(&sh->producer_waiting, 1, memory_order_seq_cst);
        rc = load_tail(ring, memory_order_seq_cst, &tail);
        if (rc == WGV_RING_OK) {
            if (space_for(ring, tail) >= need)
                rc = WGV_RING_OK;
            else if (atomic_load(&ring->dead))
                rc = WGV_RING_DEAD;
            else if (now_ns() >= deadline)
                rc = WGV_RING_TIMEOUT;
            else {
                ring->stats.producer_sleeps++;
                futex_wait(&sh->producer_waiting, 1, deadline);
                continue;
            }
        }
        atomic_store_explicit(&sh->producer_waiting, 0, memory_order_relaxed);
        return rc;
    }
}

static void write_size_word(uint8_t *rec, uint32_t word)
{
    uint32_t le = htole32(word);
    memcpy(rec, &le, sizeof(le));
}

void *wgv_ring_reserve(struct wgv_ring *ring, uint32_t size, int64_t timeout_ns, int *status)
{
    int rc = WGV_RING_OK;
    void *rec = NULL;
    ring->reserved = 0;
    if (ring->broken) {
        rc = WGV_RING_PROTO;
        goto out;
    }
    if (is_dead(ring)) {
        rc = WGV_RING_DEAD;
        goto out;
    }
    if (size > ring->size) {
        rc = WGV_RING_TOOBIG;
        goto out;
    }
    uint32_t need = round8(size < WGV_RING_MIN_RECORD ? WGV_RING_MIN_RECORD : size);
    uint32_t off = (uint32_t)(ring->prod & (ring->size - 1));
    uint32_t to_end = ring->size - off;
    if (need > to_end) {
        /* Pad to the end, then place the record at offset 0. If padding and
         * record cannot be free at the same time, publish the padding so the
         * consumer can skip it, then wait again. */
        bool both_fit = (uint64_t)to_end + need <= ring->size;
        rc = wait_space(ring, both_fit ? to_end + need : to_end, timeout_ns);
        if (rc != WGV_RING_OK)
            goto out;
        write_size_word(ring->data + off, WGV_RING_PAD_FLAG | to_end);
        ring->prod += to_end;
        if (!both_fit) {
            wgv_ring_publish(ring);
            rc = wait_space(ring, need, timeout_ns);
        }
    } else {
        rc = wait_space(ring, need, timeout_ns);
    }
    if (rc == WGV_RING_OK) {
        ring->reserved = need;
        rec = ring->data + (ring->prod & (ring->size - 1));
    }
out:
    if (status)
        *status = rc;
    return rec;
}

void wgv_ring_commit(struct wgv_ring *ring, uint32_t size)
{
    if (ring->reserved == 0)
        return;
    if (size < 4)
        size = 4;
    if (size > ring->reserved)
        size = ring->reserved;
    uint32_t len = round8(size < WGV_RING_MIN_RECORD ? WGV_RING_MIN_RECORD : size);
    uint8_t *rec = ring->data + (ring->prod & (ring->size - 1));
    memset(rec + size, 0, len - size);
    write_size_word(rec, len);
    ring->prod += len;
    ring->reserved = 0;
}

/* --- consumer ------------------------------------------------------------ */

static void store_tail(struct wgv_ring *ring)
{
    struct wgv_ring_shared *sh = ring->shared;
    ring->tail_stored = ring->cons;
    atomic_store_explicit(&sh->tail, ring->cons, memory_order_seq_cst);
    if (atomic_load_explicit(&sh->producer_waiting, memory_order_seq_cst) != 0 &&
        atomic_exchange(&sh->producer_waiting, 0) != 0) {
        ring->stats.producer_wakes++;
        futex_wake(&sh->producer_waiting, 1);
    }
}

static int violation(struct wgv_ring *ring)
{
    ring->broken = 1;
    return WGV_RING_PROTO;
}

int wgv_ring_peek(struct wgv_ring *ring, const void **rec, uint32_t *size)
{
    if (ring->broken)
        return WGV_RING_PROTO;
    for (;;) {
        /* Records up to the producer's position seen last need no shared
         * read; past it, one read of the hostile position, then only the
         * local copy. */
        uint64_t head = ring->head_seen;
        if (head == ring->cons) {
            head = atomic_load_explicit(&ring->shared->head, memory_order_acquire);
            if ((head & (WGV_RING_ALIGN - 1)) != 0 || head - ring->cons > ring->size)
                return violation(ring);
            ring->head_seen = head;
        }
        uint64_t avail = head - ring->cons;
        if (avail == 0) {
            /* Caught up: the producer may now have all the space. */
            if (ring->tail_stored != ring->cons)
                store_tail(ring);
            return is_dead(ring) ? WGV_RING_DEAD : WGV_RING_EMPTY;
        }
        uint32_t off = (uint32_t)(ring->cons & (ring->size - 1));
        uint32_t to_end = ring->size - off;
        /* One read of the hostile size word. */
        uint32_t word = le32toh(*(const volatile uint32_t *)(ring->data + off));
        uint32_t len = word & ~WGV_RING_PAD_FLAG;
        if (len < WGV_RING_MIN_RECORD || (len & (WGV_RING_ALIGN - 1)) != 0 || len > avail ||
            len > to_end)
            return violation(ring);
        if (word & WGV_RING_PAD_FLAG) {
            if (len != to_end)
                return violation(ring);
            ring->cons += len;
            store_tail(ring);
            continue;
        }
        *rec = ring->data + off;
        *size = len;
        return WGV_RING_OK;
    }
}

void wgv_ring_release(struct wgv_ring *ring, uint32_t size)
{
    ring->cons += size;
    ring->stats.records++;
    if (ring->cons - ring->tail_stored >= ring->size / 16 ||
        atomic_load_explicit(&ring->shared->producer_waiting, memory_order_relaxed) != 0)
        store_tail(ring);
}

ssize_t wgv_ring_copy(struct wgv_ring *ring, void *buf, size_t cap)
{
    const void *rec;
    uint32_t len;
    int rc = wgv_ring_peek(ring, &rec, &len);
    if (rc != WGV_RING_OK)
        return rc;
    if (len > cap)
        return WGV_RING_TOOBIG;
    memcpy(buf, rec, len);
    /* The producer may have rewritten the size word since peek read it: the
     * private copy carries the value that was validated. */
    write_size_word(buf, len);
    return (ssize_t)len;
}

ssize_t wgv_ring_read(struct wgv_ring *ring, void *buf, size_t cap)
{
    ssize_t n = wgv_ring_copy(ring, buf, cap);
    if (n > 0)
        wgv_ring_release(ring, (uint32_t)n);
    return n;
}

static inline bool moved_past(struct wgv_ring *ring, uint64_t point, memory_order order)
{
    return atomic_load_explicit(&ring->shared->head, order) != point;
}

uint64_t wgv_ring_wait_point(struct wgv_ring *ring)
{
    /* About to wait: the producer gets every byte consumed so far. */
    if (ring->tail_stored != ring->cons)
        store_tail(ring);
    return ring->cons;
}

/* The wait itself; counts futex sleeps into *sleeps if given. */
static int wait_past(struct wgv_ring *ring, uint64_t point, int64_t timeout_ns, uint64_t *sleeps)
{
    struct wgv_ring_shared *sh = ring->shared;
    if (moved_past(ring, point, memory_order_acquire))
        return WGV_RING_OK;
    if (is_dead(ring))
        return WGV_RING_DEAD;
    if (timeout_ns == 0)
        return WGV_RING_TIMEOUT;
    int64_t deadline = deadline_after(timeout_ns);
    int64_t spin_end = now_ns() + ring->spin_ns;
    if (spin_end > deadline)
        spin_end = deadline;
    for (unsigned i = 1;; i++) {
        if (moved_past(ring, point, memory_order_acquire))
            return WGV_RING_OK;
        if (is_dead(ring))
            return WGV_RING_DEAD;
        if ((i & 63) == 0 && now_ns() >= spin_end)
            break;
        cpu_relax();
    }
    /* Idle first, then the re-check: a producer that published before our
     * check is seen here; one that publishes after it sees idle and wakes
     * every sleeper. The last sleeper to leave clears the flag. */
    atomic_fetch_add(&ring->sleepers, 1);
    int rc;
    for (;;) {
        atomic_store_explicit(&sh->consumer_idle, 1, memory_order_seq_cst);
        if (moved_past(ring, point, memory_order_seq_cst))
            rc = WGV_RING_OK;
        else if (is_dead(ring))
            rc = WGV_RING_DEAD;
        else if (now_ns() >= deadline)
            rc = WGV_RING_TIMEOUT;
        else {
            if (sleeps)
                (*sleeps)++;
            futex_wait(&sh->consumer_idle, 1, deadline);
            continue;
        }
        break;
    }
    if (atomic_fetch_sub(&ring->sleepers, 1) == 1)
        atomic_store_explicit(&sh->consumer_idle, 0, memory_order_relaxed);
    return rc;
}

int wgv_ring_wait_past(struct wgv_ring *ring, uint64_t point, int64_t timeout_ns)
{
    return wait_past(ring, point, timeout_ns, NULL);
}

int wgv_ring_wait(struct wgv_ring *ring, int64_t timeout_ns)
{
    if (ring->broken)
        return WGV_RING_PROTO;
    uint64_t point = wgv_ring_wait_point(ring);
    return wait_past(ring, point, timeout_ns, &ring->stats.consumer_sleeps);
}

bool wgv_ring_broken(const struct wgv_ring *ring)
{
    return ring->broken != 0;
}

const char *wgv_ring_status_str(int status)
{
    switch (status) {
    case WGV_RING_OK: return "ok";
    case WGV_RING_EMPTY: return "empty";
    case WGV_RING_TIMEOUT: return "timed out";
    case WGV_RING_DEAD: return "ring marked dead";
    case WGV_RING_PROTO: return "ring protocol violation by the peer";
    case WGV_RING_TOOBIG: return "record too big";
    default: return status > 0 ? "ok (size)" : "unknown ring status";
    }
}
