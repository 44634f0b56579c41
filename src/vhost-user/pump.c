/* One context's ring pump thread (pump.h). The serving loop follows
 * wgv-server's (src/server/server.c): batches of commands copied out of the
 * command ring, replies published between batches, polling for callbacks
 * from every 20 us backing off to 1 ms. What differs is waking: futexes do
 * not cross the VM boundary, so when idle the pump sets the command ring's
 * consumer_idle and sleeps until the guest sends a KICK (docs/vm.md).
 *
 * Requests from the main thread are taken between commands: a batch ends
 * early when one is waiting. A detach is a barrier: the commands published
 * before it run first, then the resource is detached, then the main thread
 * hears of it (and only then answers the guest, whose kernel frees the
 * pages on that answer). A pause holds the pump where it touches no guest
 * memory until it is resumed or stopped. */
#include "pump.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "protocol.h"
#include "ring.h"
#include "virtgpu-records.h"
#include "vu.h"

#define POLL_MIN_NS (20 * 1000)
#define POLL_MAX_NS (1000 * 1000)
#define IDLE_WAIT_NS (100 * 1000 * 1000)

enum req_kind { REQ_FENCE = 1, REQ_ATTACH, REQ_DETACH, REQ_KILL };

struct req {
    enum req_kind kind;
    uint32_t id;      /* resource id, or the fence's ring */
    uint64_t seq;
    struct wgv_iovec *iov;
    unsigned n;
    char *reason;
    struct req *next;
};

struct wgv_vu_pump {
    struct wgv_vu *vu;
    uint32_t ctx_id;
    uint8_t *map;
    uint64_t map_len;
    struct wgv_shm shm; /* our view: base = map, fd = -1 */
    struct wgv_ring cmd, reply;
    struct wgv_context *ctx;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;          /* wakes the pump */
    pthread_cond_t acked;         /* wakes the main thread: paused, finished */
    struct req *reqs, *reqs_tail; /* guarded by lock */
    bool kicked, stopping;        /* guarded by lock */
    bool pause_wanted, paused;    /* guarded by lock */
    bool finished;                /* guarded by lock: takes no more requests */
    uint32_t *held;               /* guarded by lock: resources attached */
    unsigned nheld, capheld;
    atomic_bool has_reqs;         /* a request or a pause waits: end the batch */
    atomic_bool ended;
    char reason[200];             /* written before ended is set */
    struct wgv_vu_pump *next;     /* the daemon's dying list */
};

static void free_req(struct req *r)
{
    free(r->iov);
    free(r->reason);
    free(r);
}

/* Queues r for the pump; false (r freed) once the pump takes no more. */
static bool post(struct wgv_vu_pump *p, struct req *r)
{
    pthread_mutex_lock(&p->lock);
    bool taken = !p->finished;
    if (taken) {
        if (p->reqs_tail)
            p->reqs_tail->next = r;
        else
            p->reqs = r;
        p->reqs_tail = r;
        atomic_store(&p->has_reqs, true);
        pthread_cond_signal(&p->cond);
    }
    pthread_mutex_unlock(&p->lock);
    if (!taken)
        free_req(r);
    return taken;
}

static struct req *new_req(enum req_kind kind)
{
    struct req *r = calloc(1, sizeof(*r));
    if (r)
        r->kind = kind;
    return r;
}

void wgv_vu_pump_kick(struct wgv_vu_pump *p)
{
    pthread_mutex_lock(&p->lock);
    p->kicked = true;
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

bool wgv_vu_pump_fence(struct wgv_vu_pump *p, uint32_t ring, uint64_t seq)
{
    struct req *r = new_req(REQ_FENCE);
    if (!r)
        return false;
    r->id = ring;
    r->seq = seq;
    return post(p, r);
}

void wgv_vu_pump_attach(struct wgv_vu_pump *p, uint32_t id, const struct wgv_iovec *iov,
                        unsigned n)
{
    struct req *r = new_req(REQ_ATTACH);
    if (!r)
        return;
    r->iov = malloc(n * sizeof(*iov));
    if (!r->iov) {
        free(r);
        return;
    }
    memcpy(r->iov, iov, n * sizeof(*iov));
    r->id = id;
    r->n = n;
    post(p, r);
}

bool wgv_vu_pump_detach(struct wgv_vu_pump *p, uint32_t id, uint64_t seq)
{
    struct req *r = new_req(REQ_DETACH);
    if (!r)
        return false;
    r->id = id;
    r->seq = seq;
    return post(p, r);
}

bool wgv_vu_pump_uses(struct wgv_vu_pump *p, uint32_t id)
{
    bool uses = false;
    pthread_mutex_lock(&p->lock);
    if (!p->finished) {
        for (unsigned i = 0; i < p->nheld && !uses; i++)
            uses = p->held[i] == id;
        for (struct req *r = p->reqs; r && !uses; r = r->next)
            uses = r->kind == REQ_ATTACH && r->id == id;
    }
    pthread_mutex_unlock(&p->lock);
    return uses;
}

void wgv_vu_pump_kill(struct wgv_vu_pump *p, const char *reason)
{
    struct req *r = new_req(REQ_KILL);
    if (!r)
        return;
    r->reason = strdup(reason);
    post(p, r);
}

void wgv_vu_pump_stop(struct wgv_vu_pump *p)
{
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    atomic_store(&p->has_reqs, true);
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

void wgv_vu_pump_pause(struct wgv_vu_pump *p)
{
    pthread_mutex_lock(&p->lock);
    p->pause_wanted = true;
    atomic_store(&p->has_reqs, true);
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

void wgv_vu_pump_wait_paused(struct wgv_vu_pump *p)
{
    pthread_mutex_lock(&p->lock);
    while (p->pause_wanted && !p->paused && !p->finished)
        pthread_cond_wait(&p->acked, &p->lock);
    pthread_mutex_unlock(&p->lock);
}

void wgv_vu_pump_resume(struct wgv_vu_pump *p)
{
    pthread_mutex_lock(&p->lock);
    p->pause_wanted = false;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

void wgv_vu_pump_revoke(struct wgv_vu_pump *p)
{
    /* One mmap over the whole view: the pump's next access, whenever it
     * comes, lands in private zeros; the guest's pages are no longer ours.
     * Under the lock, so that the range cannot have been unmapped (and
     * reused) in between. */
    pthread_mutex_lock(&p->lock);
    if (p->map)
        mmap(p->map, (size_t)p->map_len, PROT_READ | PROT_WRITE,
             MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    pthread_mutex_unlock(&p->lock);
}

bool wgv_vu_pump_ended(const struct wgv_vu_pump *p)
{
    return atomic_load(&p->ended);
}

const char *wgv_vu_pump_reason(const struct wgv_vu_pump *p)
{
    return atomic_load(&p->ended) ? p->reason : "";
}

struct wgv_vu_pump **wgv_vu_pump_next(struct wgv_vu_pump *p)
{
    return &p->next;
}

/* Holds the pump while a pause is wanted (and it is not stopping); true if
 * it was held. Called only where the pump touches no guest memory. */
static bool hold_if_paused(struct wgv_vu_pump *p)
{
    pthread_mutex_lock(&p->lock);
    bool held = p->pause_wanted && !p->stopping;
    if (held) {
        p->paused = true;
        pthread_cond_broadcast(&p->acked);
        while (p->pause_wanted && !p->stopping)
            pthread_cond_wait(&p->cond, &p->lock);
        p->paused = false;
    }
    pthread_mutex_unlock(&p->lock);
    return held;
}

static bool is_stopping(struct wgv_vu_pump *p)
{
    pthread_mutex_lock(&p->lock);
    bool stopping = p->stopping;
    pthread_mutex_unlock(&p->lock);
    return stopping;
}

static bool pump_reply(void *user, const void *bytes, size_t len)
{
    struct wgv_vu_pump *p = user;
    int status;
    /* A full reply ring: the guest's reads cannot wake a futex of ours, so
     * look again after short sleeps (20 us, backing off to 1 ms). A guest
     * that stops reading replies for a second loses its context; a pause
     * (the VM stopped) does not count, a stop ends the wait. */
    void *dst;
    int64_t slept = 0, nap = POLL_MIN_NS;
    while (!(dst = wgv_ring_reserve(&p->reply, (uint32_t)len, 0, &status))) {
        if (status != WGV_RING_TIMEOUT || slept >= 1000 * 1000 * 1000 || is_stopping(p))
            return false;
        if (hold_if_paused(p)) {
            slept = 0;
            nap = POLL_MIN_NS;
            continue;
        }
        struct timespec ts = {0, nap};
        nanosleep(&ts, NULL);
        slept += nap;
        if (nap < POLL_MAX_NS)
            nap *= 2;
    }
    memcpy(dst, bytes, len);
    wgv_ring_commit(&p->reply, (uint32_t)len);
    return true;
}

/* Runs up to `max` records; stops early at an empty ring, and (yield) when
 * a request waits. Returns how many ran, or -1 when the context is lost. */
static int run_batch(struct wgv_vu_pump *p, uint8_t *buf, int max, bool yield)
{
    int ran = 0;
    for (; ran < max; ran++) {
        if (yield && atomic_load(&p->has_reqs))
            break;
        /* Released only once it has run: the guest reuses the shared
         * memory a command names once the ring position passes it. */
        ssize_t n = wgv_ring_copy(&p->cmd, buf, WGV_MESSAGE_MAX);
        if (n == WGV_RING_EMPTY)
            break;
        if (n < 0) {
            char why[128];
            snprintf(why, sizeof(why), "command ring: %s", wgv_ring_status_str((int)n));
            wgv_context_kill(p->ctx, why);
            return -1;
        }
        int rc = wgv_context_submit_copied(p->ctx, buf, (size_t)n);
        wgv_ring_release(&p->cmd, (uint32_t)n);
        if (rc < 0)
            return -1;
    }
    return ran;
}

/* Runs every command published before now (for a fence). */
static bool drain(struct wgv_vu_pump *p, uint8_t *buf)
{
    uint64_t until = atomic_load_explicit(&p->cmd.shared->head, memory_order_acquire);
    while ((int64_t)(until - p->cmd.cons) > 0) {
        int ran = run_batch(p, buf, 256, false);
        wgv_context_poll(p->ctx);
        wgv_ring_publish(&p->reply);
        if (ran < 0)
            return false;
        if (ran == 0)
            break;
    }
    return true;
}

static uint64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void deadline_after(struct timespec *ts, int64_t ns)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ns / 1000000000;
    ts->tv_nsec += ns % 1000000000;
    if (ts->tv_nsec >= 1000000000) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000;
    }
}

static bool has_commands(struct wgv_vu_pump *p)
{
    return atomic_load(&p->cmd.shared->head) != p->cmd.cons;
}

/* Attaches r's memory to the context and records it as held, under the
 * lock: wgv_vu_pump_uses sees the request queued or the resource held,
 * never neither. */
static void attach_locked(struct wgv_vu_pump *p, const struct req *r)
{
    if (p->nheld == p->capheld) {
        unsigned cap = p->capheld ? p->capheld * 2 : 16;
        uint32_t *h = realloc(p->held, cap * sizeof(*h));
        if (!h)
            return; /* unrecorded, so not attached either */
        p->held = h;
        p->capheld = cap;
    }
    if (wgv_context_attach_resource(p->ctx, r->id, r->iov, r->n) < 0) {
        wgv_vu_log(p->vu, "context %u: resource %u could not be attached", p->ctx_id, r->id);
        return;
    }
    p->held[p->nheld++] = r->id;
}

static void detach(struct wgv_vu_pump *p, uint32_t id)
{
    pthread_mutex_lock(&p->lock);
    wgv_context_detach_resource(p->ctx, id);
    for (unsigned i = 0; i < p->nheld; i++)
        if (p->held[i] == id) {
            p->held[i] = p->held[--p->nheld];
            break;
        }
    pthread_mutex_unlock(&p->lock);
}

/* Handles the requests posted so far, one at a time; false once the pump
 * must end. */
static bool take_requests(struct wgv_vu_pump *p, uint8_t *buf)
{
    pthread_mutex_lock(&p->lock);
    p->kicked = false;
    atomic_store(&p->has_reqs, p->pause_wanted || p->stopping);
    bool alive = !p->stopping;
    pthread_mutex_unlock(&p->lock);
    for (;;) {
        pthread_mutex_lock(&p->lock);
        struct req *r = p->reqs;
        if (r) {
            p->reqs = r->next;
            if (!p->reqs)
                p->reqs_tail = NULL;
            if (r->kind == REQ_ATTACH && alive)
                attach_locked(p, r);
        }
        pthread_mutex_unlock(&p->lock);
        if (!r)
            break;
        switch (r->kind) {
        case REQ_FENCE:
            if (!alive || !drain(p, buf) || wgv_context_fence(p->ctx, r->id, r->seq) < 0) {
                alive = alive && !wgv_context_lost_reason(p->ctx);
                wgv_vu_fence_retired(p->vu, r->seq);
            }
            break;
        case REQ_ATTACH:
            break;
        case REQ_DETACH:
            /* What the guest published before the detach still sees the
             * resource; nothing after it does. */
            if (alive && !drain(p, buf))
                alive = false;
            detach(p, r->id);
            if (r->seq)
                wgv_vu_fence_retired(p->vu, r->seq);
            break;
        case REQ_KILL:
            wgv_context_kill(p->ctx, r->reason ? r->reason : "ended by the host");
            break;
        }
        free_req(r);
    }
    return alive && !wgv_context_lost_reason(p->ctx);
}

/* Sleeps until a request comes or ns pass. */
static void wait_requests(struct wgv_vu_pump *p, int64_t ns)
{
    struct timespec ts;
    deadline_after(&ts, ns);
    pthread_mutex_lock(&p->lock);
    if (!p->reqs && !p->kicked && !p->stopping && !p->pause_wanted)
        pthread_cond_timedwait(&p->cond, &p->lock, &ts);
    pthread_mutex_unlock(&p->lock);
}

static void refuse(struct wgv_vu_pump *p, const char *reason)
{
    struct wgv_shm_control *c = wgv_shm_control(&p->shm);
    uint8_t *page = (uint8_t *)c;
    size_t n = strlen(reason);
    if (n >= WGV_VREC_REFUSE_REASON_MAX)
        n = WGV_VREC_REFUSE_REASON_MAX - 1;
    memcpy(page + WGV_VREC_REFUSE_REASON_OFFSET, reason, n);
    page[WGV_VREC_REFUSE_REASON_OFFSET + n] = 0;
    __atomic_store_n(&c->magic, WGV_VREC_REFUSE_MAGIC, __ATOMIC_RELEASE);
}

static void *pump_main(void *arg)
{
    struct wgv_vu_pump *p = arg;
    uint8_t *buf = malloc(WGV_MESSAGE_MAX);
    wgv_shm_write_control(&p->shm);
    wgv_shm_cmd_ring(&p->shm, &p->cmd);
    wgv_shm_reply_ring(&p->shm, &p->reply);
    struct wgv_context_io io = {
        .reply = pump_reply,
        .bulk = wgv_shm_bulk(&p->shm),
        .bulk_size = p->shm.sizes.bulk,
        .user = p,
    };
    p->ctx = buf ? wgv_context_create(p->vu->host, p->ctx_id, &io) : NULL;
    if (!p->ctx) {
        snprintf(p->reason, sizeof(p->reason), "the host could not create a WebGPU context");
        refuse(p, p->reason);
        wgv_vu_warn(p->vu, "context %u: %s", p->ctx_id, p->reason);
        goto out;
    }
    wgv_ring_publish(&p->reply);
    __atomic_store_n(&wgv_shm_control(&p->shm)->magic, WGV_SHM_MAGIC, __ATOMIC_RELEASE);
    wgv_vu_log(p->vu, "context %u: shared memory set up (%llu bytes)", p->ctx_id,
               (unsigned long long)p->map_len);
    int64_t poll_ns = POLL_MIN_NS;
    uint64_t waiting_since = monotonic_ns(); /* since the last request or reply */
    for (;;) {
        if (!take_requests(p, buf))
            break;
        if (hold_if_paused(p))
            continue; /* requests may have come meanwhile */
        int ran = run_batch(p, buf, 256, true);
        uint64_t before = p->reply.prod;
        int pending = wgv_context_poll(p->ctx);
        bool replied = p->reply.prod != before;
        wgv_ring_publish(&p->reply);
        if (wgv_ring_broken(&p->reply))
            /* Publishing checks the guest's read position: it lied. */
            wgv_context_kill(p->ctx, "reply ring: ring protocol violation by the peer");
        if (ran < 0 || wgv_context_lost_reason(p->ctx))
            break;
        if (ran || replied) {
            poll_ns = POLL_MIN_NS;
            waiting_since = monotonic_ns();
            if (ran)
                continue;
        }
        if (pending) {
            wait_requests(p, poll_ns);
            if (poll_ns < (int64_t)wgv_context_poll_max_ns(p->ctx, monotonic_ns() - waiting_since))
                poll_ns *= 2;
            continue;
        }
        /* Idle: announce it, then look once more; a guest that publishes
         * after our look sees the flag and sends a KICK. */
        atomic_store(&p->cmd.shared->consumer_idle, 1);
        if (has_commands(p)) {
            atomic_store(&p->cmd.shared->consumer_idle, 0);
            continue;
        }
        wait_requests(p, IDLE_WAIT_NS);
        atomic_store(&p->cmd.shared->consumer_idle, 0);
    }
    const char *why = wgv_context_lost_reason(p->ctx);
    if (why) {
        snprintf(p->reason, sizeof(p->reason), "%s", why);
        wgv_vu_log(p->vu, "context %u ended: %s", p->ctx_id, why);
    } else {
        wgv_vu_log(p->vu, "context %u: destroyed with %zu live objects", p->ctx_id,
                   wgv_context_live_objects(p->ctx));
    }
    wgv_ring_publish(&p->reply);
    wgv_ring_mark_dead(&p->reply);
    wgv_context_destroy(p->ctx);
    p->ctx = NULL;
out:
    free(buf);
    pthread_mutex_lock(&p->lock);
    munmap(p->map, (size_t)p->map_len);
    p->map = NULL;
    /* Nothing of the guest's is touched any more: what still waits is
     * answered as done. */
    p->finished = true;
    struct req *left = p->reqs;
    p->reqs = p->reqs_tail = NULL;
    p->nheld = 0;
    pthread_cond_broadcast(&p->acked);
    pthread_mutex_unlock(&p->lock);
    for (struct req *r = left, *next; r; r = next) {
        next = r->next;
        if ((r->kind == REQ_FENCE || r->kind == REQ_DETACH) && r->seq)
            wgv_vu_fence_retired(p->vu, r->seq);
        free_req(r);
    }
    atomic_store(&p->ended, true);
    wgv_vu_fence_retired(p->vu, 0); /* wakes the main loop */
    return NULL;
}

struct wgv_vu_pump *wgv_vu_pump_start(struct wgv_vu *vu, uint32_t ctx_id, void *map,
                                      const struct wgv_shm_sizes *sizes, char *err, size_t errlen)
{
    struct wgv_vu_pump *p = calloc(1, sizeof(*p));
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    p->vu = vu;
    p->ctx_id = ctx_id;
    p->map = map;
    p->map_len = wgv_shm_total_size(sizes);
    p->shm.fd = -1;
    p->shm.base = map;
    p->shm.map_size = p->map_len;
    p->shm.page_size = wgv_shm_page_size();
    p->shm.sizes = *sizes;
    atomic_init(&p->ended, false);
    atomic_init(&p->has_reqs, false);
    pthread_mutex_init(&p->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cond, &ca);
    pthread_condattr_destroy(&ca);
    pthread_cond_init(&p->acked, NULL);
    if (pthread_create(&p->thread, NULL, pump_main, p) != 0) {
        snprintf(err, errlen, "could not start a thread");
        pthread_cond_destroy(&p->acked);
        pthread_cond_destroy(&p->cond);
        pthread_mutex_destroy(&p->lock);
        free(p);
        return NULL;
    }
    return p;
}

void wgv_vu_pump_join(struct wgv_vu_pump *p)
{
    if (!p)
        return;
    wgv_vu_pump_stop(p);
    pthread_join(p->thread, NULL);
    for (struct req *r = p->reqs, *next; r; r = next) {
        next = r->next;
        free_req(r);
    }
    free(p->held);
    pthread_cond_destroy(&p->acked);
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->lock);
    free(p);
}
