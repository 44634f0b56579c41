/* wgv-server's engine: accepts guests on a unix socket, gives each its own
 * host context, and moves commands and replies through the shared-memory
 * rings. One thread per connection (or, isolated, one worker process per
 * connection: isolate.c); a context is only ever used by its thread. */
#include "server-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

#include "handshake.h"
#include "protocol.h"
#include "ring.h"
#include "shm.h"
#include "wgv-wire-ids.h"

/* How often a context with callbacks owed asks the backend for them: from
 * every 2 us, doubling while nothing finishes up to the context's cap
 * (wgv_context_poll_max_ns: 1 ms, longer on a CPU adapter). A callback is
 * so seen at most about as late again as it took (round trips stay
 * short), and a long GPU job costs about one poll a millisecond. */
#define WGV_POLL_MIN_NS (2 * 1000)

/* Memory in thread mode. What a departed guest made the backend allocate
 * is free once its context is destroyed, but glibc keeps freed memory in
 * its arenas instead of giving it back: a server that served many guests
 * at once would stay hundreds of MiB larger for good. So, once guests have
 * left, the free memory goes back to the system (malloc_trim), at most once
 * a second (one trim takes milliseconds and holds the arena's lock
 * meanwhile). All threads share glibc's main arena: malloc_trim releases
 * the free pages inside every arena, but the free space at the top of a
 * thread arena only when a large block is freed into it, so a thread arena
 * could keep tens of MiB after every guest left (tests/wire/server-memory.c
 * measures it). Each thread's cache of small blocks keeps the one lock off
 * the hot paths. */
#define WGV_TRIM_INTERVAL_NS 1000000000ll
#define WGV_THREAD_MODE_ARENAS 1

/* How long threads get to end on stop. */
#define WGV_THREAD_STOP_MS 5000

/* How long a guest whose context the host ended gets to read its last
 * replies (the reason) before the pages of its shared memory go. */
#define WGV_RELEASE_GRACE_NS (1000ll * 1000 * 1000)

struct wgv_connection {
    struct wgv_server *server;
    /* The accept loop's own descriptor of the guest's socket, closed only
     * once the thread is joined, so that the watchdog can shut the socket
     * down at any time; the thread serves (and closes) a duplicate. */
    int sock;
    int thread_sock;
    uint32_t id;
    uid_t uid;
    char refuse[WGV_HS_REASON_MAX]; /* not empty: the thread only refuses the guest */
    pthread_t thread;
    atomic_bool done;
    struct wgv_worker_status status; /* the serving loop's reports */
    /* The watchdog's memory: the last call count seen and since when; set
     * once it found the thread stuck in one backend call. */
    uint64_t seen_calls;
    int64_t calls_since_ns;
    bool stuck;
    struct wgv_connection *next;
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void vlog(const char *fmt, va_list ap)
{
    /* One write per line, so lines of several processes do not interleave. */
    char line[1024];
    int n = snprintf(line, sizeof(line), "wgv-server: ");
    n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    if (n > (int)sizeof(line) - 2)
        n = (int)sizeof(line) - 2;
    line[n++] = '\n';
    fwrite(line, 1, (size_t)n, stderr);
}

void wgv_server_log(struct wgv_server *s, const char *fmt, ...)
{
    if (!s->config.verbose)
        return;
    va_list ap;
    va_start(ap, fmt);
    vlog(fmt, ap);
    va_end(ap);
}

void wgv_server_warn(struct wgv_server *s, const char *fmt, ...)
{
    (void)s;
    va_list ap;
    va_start(ap, fmt);
    vlog(fmt, ap);
    va_end(ap);
}

static void host_log(void *user, enum wgv_log_level level, const char *message)
{
    struct wgv_server *s = user;
    if (level <= WGV_LOG_WARN || s->config.verbose)
        wgv_server_warn(s, "%s", message);
}

/* Says which adapters the backend offers, and warns when guests would get
 * none but Dawn's Null adapter. */
static void report_adapters(struct wgv_server *s)
{
    struct wgv_host_adapter found[4];
    unsigned n = wgv_host_list_adapters(s->host, found, 4);
    bool gpu = false;
    for (unsigned i = 0; i < n && i < 4; i++) {
        gpu |= !found[i].null_backend;
        wgv_server_warn(s, "adapter: %s (%s%s)", found[i].name, found[i].backend,
                        found[i].null_backend ? ": Dawn's Null backend, no GPU" : "");
    }
    if (s->config.allow_null)
        wgv_server_warn(s, "--null: guests get Dawn's Null backend (it validates, draws nothing)");
    else if (!gpu)
        wgv_server_warn(s, "WARNING: no GPU adapter found%s; guests' adapter requests will fail "
                        "(is a GPU driver installed? Mesa's lavapipe provides a Vulkan one on "
                        "the CPU); --null serves Dawn's Null backend instead",
                        n ? ", only Dawn's Null backend" : "");
}

struct wgv_server *wgv_server_create(const struct wgv_server_config *config, char *err, size_t errlen)
{
    struct wgv_server *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->config = *config;
    s->listen_fd = -1;
    /* Before the backend starts its threads (see WGV_THREAD_MODE_ARENAS);
     * a worker's process serves one guest and ends with it. */
    if (!config->isolate)
        mallopt(M_ARENA_MAX, WGV_THREAD_MODE_ARENAS);
    pthread_mutex_init(&s->lock, NULL);
    struct wgv_host_config hc = {
        .backend_path = config->backend_path,
        .force_backend = config->force_backend,
        .flags = config->allow_null ? WGV_HOST_ALLOW_NULL_ADAPTER : 0,
        .policy = config->policy,
        .allowed_toggles = config->allowed_toggles,
        .allowed_toggle_count = config->allowed_toggle_count,
        .log = host_log,
        .user = s,
    };
    /* Isolated workers inherit the loaded backend across fork: each pays
     * for its own instance, not for the dlopen. */
    s->host = wgv_host_create(&hc, err, errlen);
    if (s->host)
        report_adapters(s);
    if (!s->host || (config->isolate && !wgv_isolate_prepare(s, err, errlen))) {
        wgv_server_destroy(s);
        return NULL;
    }
    s->listen_fd = wgv_handshake_listen(config->socket_path, 64, err, errlen);
    if (s->listen_fd < 0) {
        wgv_server_destroy(s);
        return NULL;
    }
    return s;
}

/* ------------------------------------------------------------ one guest */

struct session {
    struct wgv_conn conn;
    struct wgv_ring cmd, reply;
    struct wgv_context *ctx;
};

/* The guest's shared memory is a memfd the host created: a page belongs to
 * (is charged to the memory cgroup of) whoever touched it first, and the
 * host writes the control page, the reply ring and every bulk range it
 * fills for the guest (read mappings, downloads). A guest that keeps the
 * descriptor once its connection is over would keep those pages charged
 * to the host for as long as it likes, and could do so again with every
 * new connection (docs/transport.md, "Who pays for the shared memory").
 * So the host punches the pages out of the memfd when the connection
 * ends: all of them once the guest has hung up; otherwise once it has read
 * every reply (or WGV_RELEASE_GRACE_NS has passed), all but the control
 * page, which holds the rings' positions it may still look at. A guest
 * that touches the memory again gets fresh zero pages, charged to it. */
static void release_shared_pages(struct session *ss, bool guest_left, int64_t since_ns)
{
    const struct wgv_shm *shm = &ss->conn.shm;
    while (!guest_left) {
        if (wgv_peer_wait(ss->conn.sock, 0) != WGV_PEER_ALIVE)
            guest_left = true;
        else if (atomic_load_explicit(&ss->reply.shared->tail, memory_order_acquire) ==
                     ss->reply.prod ||
                 now_ns() - since_ns >= WGV_RELEASE_GRACE_NS)
            break;
        else {
            struct timespec nap = {0, 5 * 1000 * 1000};
            nanosleep(&nap, NULL);
        }
    }
    uint64_t keep = guest_left ? 0 : shm->page_size;
    if (shm->fd >= 0 && shm->map_size > keep)
        fallocate(shm->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)keep,
                  (off_t)(shm->map_size - keep));
}

static bool session_reply(void *user, const void *bytes, size_t len)
{
    struct session *ss = user;
    int status;
    /* A guest that stops reading replies for a second loses its context. */
    void *dst = wgv_ring_reserve(&ss->reply, (uint32_t)len, 1000 * 1000 * 1000, &status);
    if (!dst)
        return false;
    memcpy(dst, bytes, len);
    wgv_ring_commit(&ss->reply, (uint32_t)len);
    return true;
}

/* The watchdog's view of the worker (isolate.c): no-ops in thread mode. */
static void status_enter(struct wgv_worker_status *st)
{
    if (st)
        atomic_store_explicit(&st->calls, atomic_load_explicit(&st->calls, memory_order_relaxed) + 1,
                              memory_order_release);
}

static void status_leave(struct wgv_worker_status *st, const struct wgv_context *ctx, int pending)
{
    if (!st)
        return;
    if (pending >= 0)
        atomic_store_explicit(&st->pending, (uint32_t)pending, memory_order_relaxed);
    int64_t since = 0;
    uint64_t age = ctx ? wgv_context_oldest_pending_ns(ctx) : 0;
    if (age) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        since = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec - (int64_t)age;
    }
    atomic_store_explicit(&st->oldest_since_ns, since, memory_order_relaxed);
    atomic_store_explicit(&st->calls, atomic_load_explicit(&st->calls, memory_order_relaxed) + 1,
                          memory_order_release);
}

void wgv_server_serve(struct wgv_server *s, int sock, uint32_t id, const struct wgv_serve_hooks *hooks)
{
    struct wgv_worker_status *st = hooks ? hooks->status : NULL;
    struct wgv_warm_instance *warm = hooks ? hooks->warm : NULL;
    struct session ss;
    memset(&ss, 0, sizeof(ss));
    char err[256];
    uint8_t capset[64];
    size_t capset_len = wgv_host_capset(s->host, capset, sizeof(capset));
    struct wgv_hs_policy policy = {
        .defaults.bulk = s->config.bulk_size,
        .refuse = hooks ? hooks->refuse : NULL,
    };
    if (wgv_handshake_accept(sock, WGV_PROTOCOL_VERSION, &policy, capset, capset_len, &ss.conn,
                             err, sizeof(err)) < 0) {
        if (policy.refuse)
            wgv_server_warn(s, "connection %u refused: %s", id, err);
        else
            wgv_server_log(s, "connection %u refused: %s", id, err);
        shutdown(sock, SHUT_RDWR);
        close(sock);
        wgv_warm_instance_free(s->host, warm);
        return;
    }
    if (wgv_shm_cmd_ring(&ss.conn.shm, &ss.cmd) < 0 || wgv_shm_reply_ring(&ss.conn.shm, &ss.reply) < 0) {
        shutdown(ss.conn.sock, SHUT_RDWR);
        wgv_conn_close(&ss.conn);
        wgv_warm_instance_free(s->host, warm);
        return;
    }
    struct wgv_context_io io = {
        .reply = session_reply,
        .bulk = wgv_shm_bulk(&ss.conn.shm),
        .bulk_size = ss.conn.shm.sizes.bulk,
        .user = &ss,
    };
    status_enter(st);
    ss.ctx = wgv_context_create_warm(s->host, id, &io, warm);
    status_leave(st, NULL, 0);
    if (!ss.ctx) {
        shutdown(ss.conn.sock, SHUT_RDWR);
        wgv_conn_close(&ss.conn);
        return;
    }
    FILE *record = NULL;
    if (s->config.record_dir) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/context-%u.wgv", s->config.record_dir, id);
        record = fopen(path, "wb");
    }
    uint8_t *buf = malloc(WGV_MESSAGE_MAX);
    bool alive = buf != NULL;
    if (alive && hooks && hooks->confine) {
        char why[256];
        if (!hooks->confine(s, id, why, sizeof(why))) {
            wgv_server_warn(s, "context %u: %s", id, why);
            wgv_context_kill(ss.ctx, why);
            alive = false;
        }
    }
    if (alive)
        wgv_server_log(s, "context %u: guest connected", id);
    unsigned polls = 0;
    int64_t poll_ns = WGV_POLL_MIN_NS;
    int64_t waiting_since = now_ns(); /* since the last command or reply */
    uint64_t watchdog_ns = hooks ? (uint64_t)hooks->watchdog_s * 1000000000u : 0;
    bool draining = false;
    while (alive && !atomic_load(&s->stop)) {
        /* Run what is there, in batches, publishing replies between. */
        status_enter(st);
        int ran = 0;
        for (; ran < 256; ran++) {
            /* Released only once it has run: the guest reuses the shared
             * memory a command names once the ring position passes it. */
            ssize_t n = wgv_ring_copy(&ss.cmd, buf, WGV_MESSAGE_MAX);
            if (n == WGV_RING_EMPTY)
                break;
            if (n < 0) {
                char why[128];
                snprintf(why, sizeof(why), "command ring: %s", wgv_ring_status_str((int)n));
                wgv_context_kill(ss.ctx, why);
                alive = false;
                break;
            }
            if (record)
                fwrite(buf, 1, (size_t)n, record);
            int rc = wgv_context_submit_copied(ss.ctx, buf, (size_t)n);
            wgv_ring_release(&ss.cmd, (uint32_t)n);
            if (rc < 0) {
                alive = false;
                break;
            }
        }
        uint64_t before = ss.reply.prod;
        int pending = wgv_context_poll(ss.ctx);
        bool replied = ss.reply.prod != before;
        status_leave(st, ss.ctx, pending);
        if (alive && pending > 0 && watchdog_ns &&
            wgv_context_oldest_pending_ns(ss.ctx) > watchdog_ns) {
            /* Thread mode: the GPU work cannot be stopped, but the guest
             * need not wait for it for ever. */
            char why[128];
            snprintf(why, sizeof(why), "watchdog: a callback the GPU owes has not come for %u s",
                     hooks->watchdog_s);
            wgv_server_warn(s, "context %u: %s (%d callbacks pending); ending the context (in "
                               "thread mode the GPU work itself cannot be stopped)", id, why,
                            pending);
            wgv_context_kill(ss.ctx, why);
            alive = false;
        }
        wgv_ring_publish(&ss.reply);
        if (wgv_ring_broken(&ss.reply)) {
            /* Publishing checks the guest's read position: it lied. */
            wgv_context_kill(ss.ctx, "reply ring: ring protocol violation by the peer");
            alive = false;
        }
        if (!alive || wgv_context_lost_reason(ss.ctx))
            break;
        if (ran || replied) {
            poll_ns = WGV_POLL_MIN_NS;
            waiting_since = now_ns();
            if (ran)
                continue;
        }
        /* A guest that left published its last commands (its final releases
         * among them) before it closed the socket: once they have run, stop. */
        if (draining)
            break;
        /* Nothing to run: wait for commands, briefly while the GPU still
         * owes callbacks (backing off while it stays busy, to longer naps
         * where the adapter is the CPU, whose work each wake-up delays),
         * longer otherwise. */
        if (pending) {
            wgv_ring_wait(&ss.cmd, poll_ns);
            if (poll_ns < (int64_t)wgv_context_poll_max_ns(ss.ctx, (uint64_t)(now_ns() - waiting_since)))
                poll_ns *= 2;
            if (++polls % 2048 == 0 && wgv_peer_wait(ss.conn.sock, 0) != WGV_PEER_ALIVE)
                draining = true;
        } else {
            wgv_ring_wait(&ss.cmd, 100 * 1000 * 1000);
            if (wgv_peer_wait(ss.conn.sock, 0) != WGV_PEER_ALIVE)
                draining = true;
        }
    }
    const char *why = wgv_context_lost_reason(ss.ctx);
    if (why)
        wgv_server_log(s, "context %u ended: %s", id, why);
    else
        wgv_server_log(s, "context %u: guest left with %zu live objects", id,
                       wgv_context_live_objects(ss.ctx));
    wgv_ring_publish(&ss.reply);
    wgv_ring_mark_dead(&ss.reply);
    /* The guest has been told all there is: it sees the hang-up now, not
     * once the GPU has finished what it queued (SHUT_WR: its own hang-up
     * still shows here). */
    bool guest_left = draining || wgv_peer_wait(ss.conn.sock, 0) != WGV_PEER_ALIVE;
    int64_t told_ns = now_ns();
    shutdown(ss.conn.sock, SHUT_WR);
    /* Destroying waits for the GPU: a hung shader shows here too. */
    status_enter(st);
    wgv_context_destroy(ss.ctx);
    status_leave(st, NULL, 0);
    release_shared_pages(&ss, guest_left, told_ns);
    if (record)
        fclose(record);
    free(buf);
    wgv_conn_close(&ss.conn);
}

static void *connection_thread(void *arg)
{
    struct wgv_connection *c = arg;
    struct wgv_serve_hooks hooks = {
        .status = &c->status,
        .watchdog_s = c->server->config.watchdog_s,
        .refuse = c->refuse[0] ? c->refuse : NULL,
    };
    wgv_server_serve(c->server, c->thread_sock, c->id, &hooks);
    atomic_store(&c->done, true);
    return NULL;
}

/* Joins the connection threads that ended; with `all`, waits for every
 * one until timeout_ms has passed and leaves those still running (stuck
 * in the backend) in the list. Returns how many were joined. */
static unsigned reap(struct wgv_server *s, bool all, int timeout_ms)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
    if (deadline.tv_nsec >= 1000000000) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000;
    }
    unsigned n = 0;
    /* Only this thread adds to or removes from the list; the lock is for
     * the watchdog's view of it. */
    for (struct wgv_connection **l = &s->connections; *l;) {
        struct wgv_connection *c = *l;
        bool joined = false;
        if (atomic_load(&c->done))
            joined = pthread_join(c->thread, NULL) == 0;
        else if (all)
            joined = pthread_timedjoin_np(c->thread, NULL, &deadline) == 0;
        if (!joined) {
            l = &c->next;
            continue;
        }
        pthread_mutex_lock(&s->lock);
        *l = c->next;
        pthread_mutex_unlock(&s->lock);
        close(c->sock);
        free(c);
        n++;
    }
    return n;
}

/* Gives free memory back to the system once guests have left (see
 * WGV_TRIM_INTERVAL_NS); `reaped` guests just left. */
static void trim_after(unsigned reaped, bool *owed, int64_t *last)
{
    *owed |= reaped > 0;
    int64_t now = now_ns();
    if (*owed && now - *last >= WGV_TRIM_INTERVAL_NS) {
        malloc_trim(0);
        *owed = false;
        *last = now;
    }
}

/* The thread-mode watchdog, every 100 ms in the accept loop. A thread
 * whose guest owes a callback for too long ends that context itself
 * (wgv_server_serve); a thread stuck inside one backend call cannot, and
 * cannot be stopped either: its guest's socket is shut down, so that the
 * guest stops waiting, and the log says what is left behind. */
static void thread_watchdog(struct wgv_server *s)
{
    if (!s->config.watchdog_s)
        return;
    int64_t now = now_ns(), limit = (int64_t)s->config.watchdog_s * 1000000000;
    pthread_mutex_lock(&s->lock);
    for (struct wgv_connection *c = s->connections; c; c = c->next) {
        uint64_t calls = atomic_load_explicit(&c->status.calls, memory_order_acquire);
        if (calls != c->seen_calls) {
            c->seen_calls = calls;
            c->calls_since_ns = now;
        }
        if (c->stuck || atomic_load(&c->done) || !(calls & 1) || now - c->calls_since_ns <= limit)
            continue;
        c->stuck = true;
        wgv_server_warn(s, "context %u: watchdog: a backend call has not returned for %u s; "
                           "the guest is disconnected, but in thread mode the call keeps its "
                           "thread (and whatever it runs: a CPU core on a CPU renderer) until it "
                           "returns; serve guests with --isolate to have such work ended",
                        c->id, s->config.watchdog_s);
        shutdown(c->sock, SHUT_RDWR);
    }
    pthread_mutex_unlock(&s->lock);
}

bool wgv_server_peer_uid(int fd, uid_t *uid)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof(cred))
        return false;
    *uid = cred.uid;
    return true;
}

void wgv_server_admit(const struct wgv_server *s, bool known, uid_t uid, unsigned serving,
                      char *why, size_t whylen)
{
    why[0] = 0;
    bool trusted = known && (uid == geteuid() || uid == 0);
    if (!known)
        snprintf(why, whylen, "the kernel does not say which user this guest runs as");
    else if (!s->config.isolate && !trusted)
        /* Thread mode (docs/isolation.md): a thread stuck in the backend
         * cannot be stopped, and a compromised decoder or driver would
         * run with the server's rights. */
        snprintf(why, whylen,
                 "thread mode serves only the server's own user (uid %u) and root, and this "
                 "guest runs as uid %u: start wgv-server with --isolate to serve other users "
                 "(docs/isolation.md)", (unsigned)geteuid(), (unsigned)uid);
    else if (!trusted && s->config.max_guests_per_user &&
             serving >= s->config.max_guests_per_user)
        /* Each guest gets the whole quota: a user may not multiply it. */
        snprintf(why, whylen,
                 "uid %u already has %u guests connected, the most this server serves for one "
                 "user at once (--max-guests-per-user %u)", (unsigned)uid, serving,
                 s->config.max_guests_per_user);
}

/* Starts the thread that serves (or refuses) a guest just accepted. */
static void start_connection(struct wgv_server *s, int fd)
{
    struct wgv_connection *c = calloc(1, sizeof(*c));
    if (!c) {
        close(fd);
        return;
    }
    c->server = s;
    c->sock = fd;
    c->id = ++s->next_id;
    c->calls_since_ns = now_ns();
    atomic_init(&c->done, false);
    bool known = wgv_server_peer_uid(fd, &c->uid);
    unsigned serving = 0;
    for (struct wgv_connection *o = s->connections; o; o = o->next)
        serving += !o->refuse[0] && o->uid == c->uid && !atomic_load(&o->done);
    wgv_server_admit(s, known, c->uid, serving, c->refuse, sizeof(c->refuse));
    if (c->refuse[0]) {
        /* A refusal reads the guest's HELLO (up to the handshake's
         * timeout) in a thread of its own; a flood of them gets a hang-up. */
        unsigned refusing = 0;
        for (struct wgv_connection *o = s->connections; o; o = o->next)
            refusing += o->refuse[0] && !atomic_load(&o->done);
        if (refusing >= WGV_REFUSING_MAX) {
            wgv_server_warn(s, "connection %u refused: %s (hung up: %u refusals in progress)",
                            c->id, c->refuse, refusing);
            close(fd);
            free(c);
            return;
        }
    }
    c->thread_sock = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (c->thread_sock < 0 || pthread_create(&c->thread, NULL, connection_thread, c) != 0) {
        wgv_server_warn(s, "connection %u: cannot start its thread", c->id);
        if (c->thread_sock >= 0)
            close(c->thread_sock);
        close(fd);
        free(c);
        return;
    }
    pthread_mutex_lock(&s->lock);
    c->next = s->connections;
    s->connections = c;
    pthread_mutex_unlock(&s->lock);
}

/* Whether every connection left is stuck in the backend (or none is left). */
static bool only_stuck_left(struct wgv_server *s)
{
    pthread_mutex_lock(&s->lock);
    bool only = true;
    for (struct wgv_connection *c = s->connections; c && only; c = c->next)
        only = c->stuck;
    pthread_mutex_unlock(&s->lock);
    return only;
}

int wgv_server_run(struct wgv_server *s)
{
    if (s->config.isolate)
        return wgv_isolate_run(s);
    bool trim_owed = false;
    int64_t last_trim = 0;
    while (!atomic_load(&s->stop)) {
        struct pollfd p = {s->listen_fd, POLLIN, 0};
        int r = poll(&p, 1, 100);
        trim_after(reap(s, false, 0), &trim_owed, &last_trim);
        thread_watchdog(s);
        if (r <= 0)
            continue;
        int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        start_connection(s, fd);
        if (s->config.max_connections && s->next_id >= s->config.max_connections)
            break;
    }
    /* Serve the ones still connected until they leave or we are stopped
     * (a thread stuck in the backend is not waited for). */
    while (!atomic_load(&s->stop) && !only_stuck_left(s)) {
        trim_after(reap(s, false, 0), &trim_owed, &last_trim);
        thread_watchdog(s);
        usleep(20000);
    }
    reap(s, true, WGV_THREAD_STOP_MS);
    for (struct wgv_connection *c = s->connections; c; c = c->next)
        wgv_server_warn(s, "context %u: its thread is still %s %d ms after the stop; the server "
                           "ends without it", c->id,
                        atomic_load(&c->status.calls) & 1 ? "inside a backend call" : "running",
                        WGV_THREAD_STOP_MS);
    return 0;
}

void wgv_server_stop(struct wgv_server *s)
{
    atomic_store(&s->stop, true);
}

bool wgv_server_destroy(struct wgv_server *s)
{
    if (!s)
        return true;
    reap(s, true, 0);
    wgv_isolate_stop_all(s);
    if (s->listen_fd >= 0) {
        close(s->listen_fd);
        unlink(s->config.socket_path);
        s->listen_fd = -1;
    }
    /* A thread stuck in the backend still uses it, and the server. */
    if (s->connections)
        return false;
    wgv_host_destroy(s->host);
    pthread_mutex_destroy(&s->lock);
    free(s);
    return true;
}
