/* The SPSC ring: framing and wraparound, two threads and two processes moving
 * a million records, the doorbell only when the consumer is idle, hostile
 * positions and size words, a full ring that waits and times out. */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "wire/ring.h"
#include "wire/shm.h"

#define MILLION 1000000u

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A ring in private memory whose data area is exactly `size` bytes, so that
 * AddressSanitizer catches any read past it. */
struct test_ring {
    struct wgv_ring_shared *shared;
    uint8_t *data;
    struct wgv_ring prod, cons; /* two handles, as the two sides would have */
};

static void test_ring_init(struct test_ring *t, uint32_t size)
{
    t->shared = aligned_alloc(64, sizeof(*t->shared));
    t->data = malloc(size);
    memset(t->data, 0xee, size);
    wgv_ring_shared_init(t->shared);
    CHECK(wgv_ring_attach(&t->prod, t->shared, t->data, size) == WGV_RING_OK);
    CHECK(wgv_ring_attach(&t->cons, t->shared, t->data, size) == WGV_RING_OK);
}

static void test_ring_free(struct test_ring *t)
{
    free(t->shared);
    free(t->data);
}

/* Record of `size` bytes (>= 16) carrying seq and a pattern derived from it. */
static void fill_record(uint8_t *rec, uint32_t size, uint64_t seq)
{
    memcpy(rec + 8, &seq, 8);
    for (uint32_t i = 16; i < size; i++)
        rec[i] = (uint8_t)(seq * 31 + i);
}

static bool record_ok(const uint8_t *rec, uint32_t size, uint64_t seq)
{
    uint64_t got;
    memcpy(&got, rec + 8, 8);
    if (got != seq)
        return false;
    for (uint32_t i = 16; i < size; i++)
        if (rec[i] != (uint8_t)(seq * 31 + i))
            return false;
    return true;
}

static uint32_t size_for(uint64_t seq, uint32_t max)
{
    /* Many sizes, most small, some large; deterministic. */
    uint64_t x = seq * 0x9e3779b97f4a7c15ull;
    uint32_t s = (x >> 60) == 0 ? (uint32_t)(x >> 20) % max : (uint32_t)(x >> 40) % 200;
    return s < 16 ? 16 : s;
}

static bool push(struct wgv_ring *r, uint32_t size, uint64_t seq, int64_t timeout_ns)
{
    int st;
    uint8_t *rec = wgv_ring_reserve(r, size, timeout_ns, &st);
    if (!rec)
        return false;
    fill_record(rec, size, seq);
    wgv_ring_commit(r, size);
    return true;
}

static void test_reserve_commit_framing(void)
{
    struct test_ring t;
    test_ring_init(&t, 256);
    int st = 1;
    uint8_t *rec = wgv_ring_reserve(&t.prod, 13, 0, &st);
    CHECK(rec != NULL && st == WGV_RING_OK);
    if (!rec)
        return;
    memset(rec + 4, 0xab, 9);
    wgv_ring_commit(&t.prod, 13);
    uint32_t word;
    memcpy(&word, rec, 4);
    CHECK(word == 16); /* rounded to 8, written by commit */
    CHECK(rec[13] == 0 && rec[14] == 0 && rec[15] == 0);
    /* Committed but not published: invisible. */
    uint8_t buf[64];
    CHECK(wgv_ring_read(&t.cons, buf, sizeof(buf)) == WGV_RING_EMPTY);
    CHECK(wgv_ring_publish(&t.prod) == false); /* consumer not idle: no syscall */
    CHECK(t.prod.stats.doorbells == 0);
    CHECK(wgv_ring_read(&t.cons, buf, 8) == WGV_RING_TOOBIG); /* left in the ring */
    CHECK(wgv_ring_read(&t.cons, buf, sizeof(buf)) == 16);
    CHECK(buf[4] == 0xab && buf[12] == 0xab);
    CHECK(wgv_ring_read(&t.cons, buf, sizeof(buf)) == WGV_RING_EMPTY);
    /* Too big for the ring. */
    CHECK(wgv_ring_reserve(&t.prod, 257, 0, &st) == NULL && st == WGV_RING_TOOBIG);
    /* A record as big as the whole ring fits when the ring is empty. */
    rec = wgv_ring_reserve(&t.prod, 256, 0, &st);
    CHECK(rec == NULL && st == WGV_RING_TIMEOUT); /* 16 bytes in, padding + 256 cannot fit */
    const void *p;
    uint32_t len;
    CHECK(wgv_ring_peek(&t.cons, &p, &len) == WGV_RING_EMPTY); /* skips the published pad */
    rec = wgv_ring_reserve(&t.prod, 256, 0, &st);
    CHECK(rec == t.data && st == WGV_RING_OK);
    wgv_ring_commit(&t.prod, 256);
    wgv_ring_publish(&t.prod);
    CHECK(wgv_ring_peek(&t.cons, &p, &len) == WGV_RING_OK && len == 256 && p == t.data);
    wgv_ring_release(&t.cons, len);
    /* Bad sizes for attach. */
    struct wgv_ring bad;
    CHECK(wgv_ring_attach(&bad, t.shared, t.data, 100) == WGV_RING_TOOBIG);
    CHECK(wgv_ring_attach(&bad, t.shared, t.data, 32) == WGV_RING_TOOBIG);
    test_ring_free(&t);
}

static void test_single_thread_wraparound(void)
{
    struct test_ring t;
    test_ring_init(&t, 4096);
    uint8_t buf[4096];
    uint64_t next_in = 0, next_out = 0, bytes = 0;
    int bad = 0;
    for (int round = 0; round < 20000 && !bad; round++) {
        /* Produce a few records (until the ring is full), consume a few. */
        int n_in = 1 + round % 7;
        for (int i = 0; i < n_in; i++) {
            uint32_t size = size_for(next_in, 4096);
            if (!push(&t.prod, size, next_in, 0))
                break;
            bytes += (size + 7) & ~7u;
            next_in++;
        }
        wgv_ring_publish(&t.prod);
        int n_out = 1 + (round * 5) % 9;
        for (int i = 0; i < n_out; i++) {
            ssize_t n = wgv_ring_read(&t.cons, buf, sizeof(buf));
            if (n == WGV_RING_EMPTY)
                break;
            uint32_t want = (size_for(next_out, 4096) + 7) & ~7u;
            if (n != (ssize_t)want || !record_ok(buf, size_for(next_out, 4096), next_out)) {
                CHECK_MSG(0, "record %llu: got %zd bytes, want %u",
                          (unsigned long long)next_out, n, want);
                bad = 1;
                break;
            }
            next_out++;
        }
    }
    while (!bad && wgv_ring_read(&t.cons, buf, sizeof(buf)) > 0)
        next_out++;
    CHECK(next_out == next_in);
    CHECK(next_in > 50000);
    /* Padding happened: the position moved further than the records. */
    CHECK(t.prod.prod > bytes);
    CHECK(t.cons.cons == t.prod.prod);
    CHECK(t.cons.stats.records == next_out);
    CHECK(t.prod.stats.doorbells == 0 && t.cons.stats.consumer_sleeps == 0);
    test_ring_free(&t);
}

static void test_single_process_throughput(void)
{
    struct test_ring t;
    test_ring_init(&t, 1u << 20);
    uint8_t buf[64];
    const uint32_t batch = 64, total = 4 * MILLION;
    double t0 = now_s();
    uint64_t seq = 0, got = 0;
    int bad = 0;
    while (seq < total) {
        for (uint32_t i = 0; i < batch; i++, seq++) {
            uint8_t *rec = wgv_ring_reserve(&t.prod, 64, 0, NULL);
            memcpy(rec + 8, &seq, 8);
            wgv_ring_commit(&t.prod, 64);
        }
        wgv_ring_publish(&t.prod);
        for (uint32_t i = 0; i < batch; i++, got++) {
            uint64_t s;
            if (wgv_ring_read(&t.cons, buf, sizeof(buf)) != 64)
                bad++;
            memcpy(&s, buf + 8, 8);
            bad += s != got;
        }
    }
    double dt = now_s() - t0;
    CHECK(bad == 0);
    printf("  single thread: %u records of 64 bytes in %.3f s = %.1f M records/s\n", total, dt,
           total / dt / 1e6);
    test_ring_free(&t);
}

/* --- two threads ---------------------------------------------------------- */

struct producer_arg {
    struct wgv_ring *ring;
    uint32_t count, max_size;
    int failed;
};

static void *producer_main(void *p)
{
    struct producer_arg *a = p;
    for (uint64_t seq = 0; seq < a->count; seq++) {
        if (!push(a->ring, size_for(seq, a->max_size), seq, 5000000000ll)) {
            a->failed = 1;
            break;
        }
        wgv_ring_publish(a->ring);
    }
    return NULL;
}

/* Consumes count records, checking order and contents; returns mismatches. */
static uint32_t consume_all(struct wgv_ring *r, uint32_t count, uint32_t max_size)
{
    uint8_t *buf = malloc(max_size + 8);
    uint32_t bad = 0;
    for (uint64_t seq = 0; seq < count;) {
        ssize_t n = wgv_ring_read(r, buf, max_size + 8);
        if (n == WGV_RING_EMPTY) {
            if (wgv_ring_wait(r, 5000000000ll) != WGV_RING_OK) {
                bad += 1000000;
                break;
            }
            continue;
        }
        if (n < 0) {
            bad += 1000000;
            break;
        }
        uint32_t size = size_for(seq, max_size);
        if (n != (ssize_t)((size + 7) & ~7u) || !record_ok(buf, size, seq))
            bad++;
        seq++;
    }
    free(buf);
    return bad;
}

static void report(const char *what, uint32_t n, double dt, const struct wgv_ring_stats *p,
                   const struct wgv_ring_stats *c)
{
    printf("  %s: %u records in %.3f s = %.2f M records/s; doorbells %llu (%.5f per record),"
           " consumer sleeps %llu, producer sleeps %llu, producer wakes %llu\n",
           what, n, dt, n / dt / 1e6, (unsigned long long)p->doorbells,
           (double)p->doorbells / n, (unsigned long long)c->consumer_sleeps,
           (unsigned long long)p->producer_sleeps, (unsigned long long)c->producer_wakes);
}

static void test_two_threads_million(void)
{
    struct test_ring t;
    test_ring_init(&t, 64 * 1024);
    struct producer_arg a = {.ring = &t.prod, .count = MILLION, .max_size = 2048};
    pthread_t th;
    double t0 = now_s();
    pthread_create(&th, NULL, producer_main, &a);
    uint32_t bad = consume_all(&t.cons, MILLION, 2048);
    pthread_join(th, NULL);
    double dt = now_s() - t0;
    CHECK(a.failed == 0);
    CHECK_MSG(bad == 0, "%u bad records", bad);
    CHECK(t.cons.stats.records == MILLION);
    CHECK(t.prod.stats.publishes == MILLION);
    /* The producer published every record; the doorbell rang only when the
     * consumer had gone idle. */
    CHECK_MSG(t.prod.stats.doorbells * 50 < MILLION, "%llu doorbells",
              (unsigned long long)t.prod.stats.doorbells);
    report("two threads", MILLION, dt, &t.prod.stats, &t.cons.stats);
    test_ring_free(&t);
}

static void test_two_processes_million(void)
{
    struct wgv_shm shm;
    char err[256] = "";
    uint64_t page = wgv_shm_page_size();
    struct wgv_shm_sizes sizes = {64 * 1024, page, page};
    CHECK_MSG(wgv_shm_create(&sizes, &shm, err, sizeof(err)) == 0, "%s", err);
    if (!shm.base)
        return;
    /* The child reports its stats through the bulk area. */
    struct wgv_ring_stats *child_stats = (struct wgv_ring_stats *)wgv_shm_bulk(&shm);
    fflush(stdout);
    double t0 = now_s();
    pid_t pid = fork();
    if (pid == 0) {
        struct wgv_ring ring;
        if (wgv_shm_cmd_ring(&shm, &ring) != WGV_RING_OK)
            _exit(2);
        struct producer_arg a = {.ring = &ring, .count = MILLION, .max_size = 2048};
        producer_main(&a);
        *child_stats = ring.stats;
        _exit(a.failed ? 1 : 0);
    }
    struct wgv_ring ring;
    CHECK(wgv_shm_cmd_ring(&shm, &ring) == WGV_RING_OK);
    uint32_t bad = consume_all(&ring, MILLION, 2048);
    int status = 0;
    waitpid(pid, &status, 0);
    double dt = now_s() - t0;
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK_MSG(bad == 0, "%u bad records", bad);
    CHECK(ring.stats.records == MILLION);
    CHECK_MSG(child_stats->doorbells * 50 < MILLION, "%llu doorbells",
              (unsigned long long)child_stats->doorbells);
    report("two processes", MILLION, dt, child_stats, &ring.stats);
    wgv_shm_unmap(&shm);
}

/* --- sleeping and waking -------------------------------------------------- */

struct waiter_arg {
    struct wgv_ring *ring;
    int rc;
    ssize_t got;
};

static void *waiter_main(void *p)
{
    struct waiter_arg *a = p;
    a->rc = wgv_ring_wait(a->ring, WGV_RING_FOREVER);
    uint8_t buf[64];
    a->got = wgv_ring_read(a->ring, buf, sizeof(buf));
    return NULL;
}

/* Waits (up to 5 s) until the shared word becomes 1. */
static bool wait_word(_Atomic uint32_t *w)
{
    for (int i = 0; i < 5000 && atomic_load(w) != 1; i++)
        usleep(1000);
    return atomic_load(w) == 1;
}

static void test_idle_consumer_sleeps_and_is_woken(void)
{
    struct test_ring t;
    test_ring_init(&t, 4096);
    t.cons.spin_ns = 1000;
    struct waiter_arg a = {.ring = &t.cons};
    pthread_t th;
    pthread_create(&th, NULL, waiter_main, &a);
    CHECK(wait_word(&t.shared->consumer_idle));
    usleep(2000); /* let it reach FUTEX_WAIT */
    CHECK(push(&t.prod, 40, 7, 0));
    CHECK(wgv_ring_publish(&t.prod) == true);
    pthread_join(th, NULL);
    CHECK(a.rc == WGV_RING_OK && a.got == 40);
    CHECK(t.prod.stats.doorbells == 1);
    CHECK(t.cons.stats.consumer_sleeps >= 1);
    CHECK(atomic_load(&t.shared->consumer_idle) == 0);
    /* Busy again: publishing costs no syscall. */
    CHECK(push(&t.prod, 40, 8, 0));
    CHECK(wgv_ring_publish(&t.prod) == false);
    CHECK(t.prod.stats.doorbells == 1);
    test_ring_free(&t);
}

static void test_wait_times_out(void)
{
    struct test_ring t;
    test_ring_init(&t, 4096);
    t.cons.spin_ns = 1000;
    CHECK(wgv_ring_wait(&t.cons, 0) == WGV_RING_TIMEOUT);
    double t0 = now_s();
    CHECK(wgv_ring_wait(&t.cons, 30000000) == WGV_RING_TIMEOUT);
    double dt = now_s() - t0;
    CHECK_MSG(dt >= 0.029 && dt < 2.0, "waited %.3f s", dt);
    CHECK(atomic_load(&t.shared->consumer_idle) == 0);
    test_ring_free(&t);
}

/* A copied record is not consumed until it is released, even when the
 * producer waits for space (which makes release publish at once): the
 * producer must not reuse what it names while the consumer acts on it. */
static void test_copy_keeps_the_record_until_release(void)
{
    struct test_ring t;
    test_ring_init(&t, 4096);
    int st;
    uint8_t *rec = wgv_ring_reserve(&t.prod, 64, 0, &st);
    CHECK(rec != NULL);
    if (!rec) {
        test_ring_free(&t);
        return;
    }
    fill_record(rec, 64, 7);
    wgv_ring_commit(&t.prod, 64);
    wgv_ring_publish(&t.prod);
    atomic_store(&t.shared->producer_waiting, 1);
    uint8_t buf[128];
    CHECK(wgv_ring_copy(&t.cons, buf, sizeof(buf)) == 64 && record_ok(buf, 64, 7));
    CHECK(atomic_load(&t.shared->tail) == 0);
    /* Copying again gives the same record: it is still the next one. */
    CHECK(wgv_ring_copy(&t.cons, buf, sizeof(buf)) == 64 && record_ok(buf, 64, 7));
    wgv_ring_release(&t.cons, 64);
    CHECK(atomic_load(&t.shared->tail) == 64);
    CHECK(wgv_ring_copy(&t.cons, buf, sizeof(buf)) == WGV_RING_EMPTY);
    test_ring_free(&t);
}

static void *dead_marker_main(void *p)
{
    struct wgv_ring *r = p;
    usleep(20000);
    wgv_ring_mark_dead(r);
    return NULL;
}

static void test_mark_dead_wakes_sleepers(void)
{
    struct test_ring t;
    test_ring_init(&t, 4096);
    t.cons.spin_ns = 1000;
    pthread_t th;
    pthread_create(&th, NULL, dead_marker_main, &t.cons);
    CHECK(wgv_ring_wait(&t.cons, WGV_RING_FOREVER) == WGV_RING_DEAD);
    pthread_join(th, NULL);
    /* A producer blocked on a full ring, too. */
    t.prod.spin_ns = 1000;
    while (push(&t.prod, 512, 0, 0))
        ;
    pthread_create(&th, NULL, dead_marker_main, &t.prod);
    int st = 0;
    CHECK(wgv_ring_reserve(&t.prod, 512, WGV_RING_FOREVER, &st) == NULL);
    CHECK(st == WGV_RING_DEAD);
    pthread_join(th, NULL);
    test_ring_free(&t);
}

/* --- a full ring ---------------------------------------------------------- */

static void test_full_ring_times_out(void)
{
    struct test_ring t;
    test_ring_init(&t, 4096);
    t.prod.spin_ns = 1000;
    int n = 0;
    while (push(&t.prod, 256, (uint64_t)n, 0))
        n++;
    CHECK(n == 16);
    int st = 0;
    CHECK(wgv_ring_reserve(&t.prod, 8, 0, &st) == NULL && st == WGV_RING_TIMEOUT);
    double t0 = now_s();
    CHECK(wgv_ring_reserve(&t.prod, 8, 50000000, &st) == NULL && st == WGV_RING_TIMEOUT);
    double dt = now_s() - t0;
    CHECK_MSG(dt >= 0.049 && dt < 2.0, "waited %.3f s", dt);
    CHECK(t.prod.stats.producer_sleeps >= 1);
    /* Waiting published the committed records, so a consumer could drain. */
    CHECK(atomic_load(&t.shared->head) == 4096);
    CHECK(atomic_load(&t.shared->producer_waiting) == 0);
    test_ring_free(&t);
}

struct blocked_arg {
    struct wgv_ring *ring;
    void *rec;
    int st;
};

static void *blocked_producer_main(void *p)
{
    struct blocked_arg *a = p;
    a->rec = wgv_ring_reserve(a->ring, 1024, 5000000000ll, &a->st);
    if (a->rec) {
        fill_record(a->rec, 1024, 99);
        wgv_ring_commit(a->ring, 1024);
        wgv_ring_publish(a->ring);
    }
    return NULL;
}

static void test_full_ring_waits_for_space(void)
{
    struct test_ring t;
    test_ring_init(&t, 4096);
    t.prod.spin_ns = 1000;
    for (int i = 0; i < 4; i++)
        CHECK(push(&t.prod, 1024, (uint64_t)i, 0));
    struct blocked_arg a = {.ring = &t.prod};
    pthread_t th;
    pthread_create(&th, NULL, blocked_producer_main, &a);
    CHECK(wait_word(&t.shared->producer_waiting));
    usleep(2000);
    uint8_t buf[1024];
    CHECK(wgv_ring_read(&t.cons, buf, sizeof(buf)) == 1024 && record_ok(buf, 1024, 0));
    pthread_join(th, NULL);
    CHECK(a.rec != NULL && a.st == WGV_RING_OK);
    CHECK(t.cons.stats.producer_wakes == 1);
    CHECK(t.prod.stats.producer_sleeps >= 1);
    for (uint64_t seq = 1; seq < 4; seq++)
        CHECK(wgv_ring_read(&t.cons, buf, sizeof(buf)) == 1024 && record_ok(buf, 1024, seq));
    CHECK(wgv_ring_read(&t.cons, buf, sizeof(buf)) == 1024 && record_ok(buf, 1024, 99));
    test_ring_free(&t);
}

/* --- a hostile peer ------------------------------------------------------- */

static void put_word(struct test_ring *t, uint64_t pos, uint32_t word)
{
    memcpy(t->data + (pos & 4095), &word, 4);
}

enum hostile_case {
    BEHIND,
    TOO_FAR_AHEAD,
    UNALIGNED,
    SIZE_ZERO,
    SIZE_FOUR,
    SIZE_OVER_AVAILABLE,
    SIZE_NOT_MULTIPLE_OF_8,
    SIZE_CROSSES_END,
    PAD_TOO_SHORT,
    HUGE_SIZE,
    N_CASES
};

static void test_hostile_producer_positions(void)
{
    static const char *names[] = {"behind",       "too far ahead",     "unaligned",
                                  "size 0",       "size 4",            "size > available",
                                  "size % 8 != 0", "crosses the end",  "short padding",
                                  "size 0xfffffff8"};
    for (int c = 0; c < N_CASES; c++) {
        struct test_ring t;
        test_ring_init(&t, 4096);
        /* Honest traffic first, so the consumer is at 4096 - 64. */
        for (int i = 0; i < 63; i++) {
            push(&t.prod, 64, (uint64_t)i, 0);
            wgv_ring_publish(&t.prod);
            uint8_t buf[64];
            wgv_ring_read(&t.cons, buf, sizeof(buf));
        }
        uint64_t cons = t.cons.cons;
        CHECK(cons == 4032);
        uint64_t head = cons;
        switch (c) {
        case BEHIND: head = cons - 8; break;
        case TOO_FAR_AHEAD: head = cons + 4096 + 8; break;
        case UNALIGNED: head = cons + 12; break;
        case SIZE_ZERO: put_word(&t, cons, 0); head = cons + 16; break;
        case SIZE_FOUR: put_word(&t, cons, 4); head = cons + 16; break;
        case SIZE_OVER_AVAILABLE: put_word(&t, cons, 48); head = cons + 16; break;
        case SIZE_NOT_MULTIPLE_OF_8: put_word(&t, cons, 12); head = cons + 16; break;
        case SIZE_CROSSES_END: put_word(&t, cons, 128); head = cons + 256; break;
        case PAD_TOO_SHORT: put_word(&t, cons, WGV_RING_PAD_FLAG | 32); head = cons + 256; break;
        case HUGE_SIZE: put_word(&t, cons, 0xfffffff8u); head = cons + 64; break;
        }
        atomic_store(&t.shared->head, head);
        const void *p = NULL;
        uint32_t len = 0;
        int rc = wgv_ring_peek(&t.cons, &p, &len);
        CHECK_MSG(rc == WGV_RING_PROTO, "%s: peek gave %d", names[c], rc);
        /* Latched: the ring stays broken even if the peer "fixes" it. */
        atomic_store(&t.shared->head, cons);
        uint8_t buf[8192];
        CHECK(wgv_ring_read(&t.cons, buf, sizeof(buf)) == WGV_RING_PROTO);
        CHECK(wgv_ring_wait(&t.cons, 0) == WGV_RING_PROTO);
        CHECK(t.cons.cons == cons);
        test_ring_free(&t);
    }
}

static void test_hostile_size_word_changes_after_peek(void)
{
    /* The copy handed to the decoder carries the size that was validated. */
    struct test_ring t;
    test_ring_init(&t, 4096);
    push(&t.prod, 32, 1, 0);
    wgv_ring_publish(&t.prod);
    const void *p;
    uint32_t len;
    CHECK(wgv_ring_peek(&t.cons, &p, &len) == WGV_RING_OK && len == 32);
    put_word(&t, 0, 4000); /* the peer rewrites it after the check */
    uint8_t buf[64];
    CHECK(wgv_ring_read(&t.cons, buf, sizeof(buf)) == WGV_RING_PROTO); /* re-read: caught */
    test_ring_free(&t);

    test_ring_init(&t, 4096);
    push(&t.prod, 32, 1, 0);
    wgv_ring_publish(&t.prod);
    CHECK(wgv_ring_read(&t.cons, buf, sizeof(buf)) == 32);
    uint32_t word;
    memcpy(&word, buf, 4);
    CHECK(word == 32);
    test_ring_free(&t);
}

static void test_hostile_consumer_position(void)
{
    enum { PAST_HEAD, UNALIGNED_TAIL, FAR_OFF, BEHIND_SEEN, N_TAIL_CASES };
    for (int c = 0; c < N_TAIL_CASES; c++) {
        struct test_ring t;
        test_ring_init(&t, 4096);
        push(&t.prod, 64, 1, 0);
        wgv_ring_publish(&t.prod);
        uint8_t buf[64];
        const void *rec;
        uint32_t len;
        CHECK(wgv_ring_read(&t.cons, buf, sizeof(buf)) == 64);
        CHECK(wgv_ring_peek(&t.cons, &rec, &len) == WGV_RING_EMPTY); /* tail = 64 now shared */
        /* Fill the ring: the producer has to read the tail (64) to go on. */
        int pushed = 0;
        while (push(&t.prod, 64, 2, 0))
            pushed++;
        CHECK(pushed == 64 && t.prod.cons_seen == 64);
        uint64_t tail = 0;
        switch (c) {
        case PAST_HEAD: tail = t.prod.prod + 8; break;
        case UNALIGNED_TAIL: tail = 100; break;
        case FAR_OFF: tail = 1ull << 40; break;
        case BEHIND_SEEN: tail = 0; break;
        }
        atomic_store(&t.shared->tail, tail);
        int st = 0;
        CHECK(wgv_ring_reserve(&t.prod, 64, 0, &st) == NULL);
        CHECK_MSG(st == WGV_RING_PROTO, "case %d: status %d", c, st);
        CHECK(wgv_ring_reserve(&t.prod, 8, 0, &st) == NULL && st == WGV_RING_PROTO);
        test_ring_free(&t);
    }
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    RUN(test_reserve_commit_framing);
    RUN(test_single_thread_wraparound);
    RUN(test_single_process_throughput);
    RUN(test_two_threads_million);
    RUN(test_two_processes_million);
    RUN(test_idle_consumer_sleeps_and_is_woken);
    RUN(test_wait_times_out);
    RUN(test_copy_keeps_the_record_until_release);
    RUN(test_mark_dead_wakes_sleepers);
    RUN(test_full_ring_times_out);
    RUN(test_full_ring_waits_for_space);
    RUN(test_hostile_producer_positions);
    RUN(test_hostile_size_word_changes_after_peek);
    RUN(test_hostile_consumer_position);
    return harness_finish("ring");
}
