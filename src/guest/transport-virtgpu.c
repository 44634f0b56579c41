/* The virtio-gpu transport (docs/vm.md): inside a VM, the guest library
 * talks to vhost-user-webgpu through the Linux virtio-gpu driver's render
 * node. The guest allocates the shared memory as a virtio-gpu resource,
 * maps it, and names it to the host in a SETUP record; from then on
 * commands, replies and bulk data use the same rings and layout as the
 * socket transport. Futexes do not cross the VM boundary, so the guest polls
 * the reply ring with short sleeps and wakes an idle host with a KICK
 * record. */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "guest.h"
#include "protocol.h"
#include "ring.h"
#include "shm.h"
#include "virtgpu-drm.h"
#include "virtgpu-records.h"
#include "wgv-wire-ids.h"

/* How long SETUP may take (the host maps the memory and checks policy). */
#define SETUP_TIMEOUT_MS 30000
/* Polling the rings: start short, back off to this. */
#define POLL_MIN_NS 20000
#define POLL_MAX_NS 1000000
/* A full command ring the host has not drained at all for this long. */
#define STALL_NS (60ll * 1000000000)

struct virtgpu_transport {
    struct wgv_transport base;
    int fd;                     /* the render node */
    uint32_t bo;                /* GEM handle of the shared memory */
    struct wgv_shm shm;         /* base = our mapping of the resource; fd -1 */
    struct wgv_ring cmd, reply;
    uint64_t kicked_doorbells;  /* cmd.stats.doorbells already answered by a KICK */
    atomic_bool dead;   /* read by threads that wait without the lock */
};

#define V(t) ((struct virtgpu_transport *)(t))

static int xioctl(int fd, unsigned long req, void *arg)
{
    int rc;
    do
        rc = ioctl(fd, req, arg);
    while (rc < 0 && (errno == EINTR || errno == EAGAIN));
    return rc;
}

static void sleep_ns(int64_t ns)
{
    struct timespec ts = {ns / 1000000000, ns % 1000000000};
    nanosleep(&ts, NULL);
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---------------------------------------------------------------- probe */

/* A virtio-gpu parameter's value, or -1 if the kernel does not know it. */
static int getparam(int fd, uint64_t param)
{
    int value = 0;
    struct wgv_virtgpu_getparam gp = {param, (uint64_t)(uintptr_t)&value};
    return xioctl(fd, WGV_VIRTGPU_IOCTL_GETPARAM, &gp) < 0 ? -1 : value;
}

/* True if fd is a virtio-gpu node whose device offers our capset and speaks
 * our protocol version; otherwise why not goes to err. Other drivers are
 * recognised by name first: their private ioctl numbers mean other things. */
static bool probe_fd(int fd, char *err, size_t errlen)
{
    char name[32] = {0};
    struct wgv_drm_version ver = {.name_len = sizeof(name) - 1, .name = name};
    if (xioctl(fd, WGV_DRM_IOCTL_VERSION, &ver) < 0) {
        snprintf(err, errlen, "not a DRM device (%s)", strerror(errno));
        return false;
    }
    if (strcmp(name, WGV_VIRTGPU_DRIVER_NAME) != 0) {
        snprintf(err, errlen, "driver %s, not %s", name, WGV_VIRTGPU_DRIVER_NAME);
        return false;
    }
    /* Without 3D features the kernel refuses EXECBUFFER and GET_CAPS. */
    if (getparam(fd, WGV_VIRTGPU_PARAM_3D_FEATURES) != 1) {
        snprintf(err, errlen, "the virtio-gpu device has no 3D features");
        return false;
    }
    if (getparam(fd, WGV_VIRTGPU_PARAM_CAPSET_QUERY_FIX) != 1) {
        snprintf(err, errlen, "the kernel's virtio-gpu driver is too old (no capset query fix)");
        return false;
    }
    /* The capset mask is cheap; kernels before 5.16 lack it, GET_CAPS decides. */
    int mask = getparam(fd, WGV_VIRTGPU_PARAM_SUPPORTED_CAPSET_IDS);
    if (mask != -1 && !((unsigned)mask & (1u << WGV_VIRTIO_CAPSET_ID))) {
        snprintf(err, errlen, "the virtio-gpu device does not offer capset %u (webgpu-virtio)",
                 WGV_VIRTIO_CAPSET_ID);
        return false;
    }
    uint32_t caps[4] = {0};
    struct wgv_virtgpu_get_caps gc = {WGV_VIRTIO_CAPSET_ID, WGV_VIRTIO_CAPSET_VERSION,
                                      (uint64_t)(uintptr_t)caps, sizeof(caps), 0};
    if (xioctl(fd, WGV_VIRTGPU_IOCTL_GET_CAPS, &gc) < 0) {
        snprintf(err, errlen, "no capset %u (webgpu-virtio) on this device (%s)",
                 WGV_VIRTIO_CAPSET_ID, strerror(errno));
        return false;
    }
    if (le32toh(caps[0]) != WGV_VIRTIO_CAPSET_MAGIC) {
        snprintf(err, errlen, "capset %u is not webgpu-virtio's (magic 0x%08x)",
                 WGV_VIRTIO_CAPSET_ID, le32toh(caps[0]));
        return false;
    }
    if (le32toh(caps[1]) != WGV_PROTOCOL_VERSION) {
        snprintf(err, errlen, "the host speaks protocol version 0x%08x, this guest 0x%08x",
                 le32toh(caps[1]), WGV_PROTOCOL_VERSION);
        return false;
    }
    return true;
}

int wgv_virtgpu_open_node(const char *path, char *err, size_t errlen)
{
    char why[160];
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (!probe_fd(fd, why, sizeof(why))) {
        snprintf(err, errlen, "%s: %s", path, why);
        close(fd);
        return -1;
    }
    return fd;
}

int wgv_virtgpu_find_node(char *path, size_t cap)
{
    /* Render nodes are renderD128 and up; the lowest that fits wins. */
    for (unsigned n = 128; n < 256; n++) {
        char p[32], why[160];
        snprintf(p, sizeof(p), "/dev/dri/renderD%u", n);
        if (access(p, F_OK) != 0)
            continue;
        int fd = wgv_virtgpu_open_node(p, why, sizeof(why));
        if (fd >= 0) {
            snprintf(path, cap, "%s", p);
            return fd;
        }
    }
    return -1;
}

/* ---------------------------------------------------------- submissions */

/* Sends transport records; with fence_fd, returns a sync_file that signals
 * when the host has retired them. */
static bool submit(struct virtgpu_transport *t, const void *records, uint32_t size, int *fence_fd)
{
    struct wgv_virtgpu_execbuffer eb = {
        .flags = fence_fd ? WGV_VIRTGPU_EXECBUF_FENCE_FD_OUT : 0,
        .size = size,
        .command = (uint64_t)(uintptr_t)records,
        .fence_fd = -1,
    };
    if (fence_fd) {
        eb.bo_handles = (uint64_t)(uintptr_t)&t->bo;
        eb.num_bo_handles = 1;
    }
    if (xioctl(t->fd, WGV_VIRTGPU_IOCTL_EXECBUFFER, &eb) < 0)
        return false;
    if (fence_fd)
        *fence_fd = eb.fence_fd;
    return true;
}

/* Waits for a submission's fence: its sync_file, or (a kernel that gave
 * none) the shared memory's buffer object going idle. */
static bool wait_fence(struct virtgpu_transport *t, int fence_fd, int timeout_ms)
{
    if (fence_fd >= 0) {
        struct pollfd p = {fence_fd, POLLIN, 0};
        int rc;
        do
            rc = poll(&p, 1, timeout_ms);
        while (rc < 0 && errno == EINTR);
        close(fence_fd);
        return rc == 1 && !(p.revents & (POLLERR | POLLNVAL));
    }
    int64_t deadline = now_ns() + (int64_t)timeout_ms * 1000000;
    for (;;) {
        struct wgv_virtgpu_wait w = {t->bo, WGV_VIRTGPU_WAIT_NOWAIT};
        if (ioctl(t->fd, WGV_VIRTGPU_IOCTL_WAIT, &w) == 0)
            return true;
        if (errno != EBUSY && errno != EINTR && errno != EAGAIN)
            return false;
        if (now_ns() > deadline)
            return false;
        sleep_ns(POLL_MAX_NS);
    }
}

/* Answers every doorbell the ring code rang since the last KICK: the ring
 * clears the host's idle flag and makes a futex call that cannot leave the
 * VM, so the KICK is what really wakes the host. */
static void kick_if_rung(struct virtgpu_transport *t)
{
    if (t->cmd.stats.doorbells == t->kicked_doorbells)
        return;
    t->kicked_doorbells = t->cmd.stats.doorbells;
    struct wgv_vrec_header kick = {htole32(WGV_VREC_KICK), htole32(WGV_VREC_KICK_SIZE)};
    if (!submit(t, &kick, sizeof(kick), NULL))
        t->dead = true;
}

/* ------------------------------------------------------------ transport */

static uint64_t vt_consumed(struct wgv_transport *tr);

static void *vt_reserve(struct wgv_transport *tr, size_t len)
{
    struct virtgpu_transport *t = V(tr);
    int status;
    void *dst;
    int64_t pause = POLL_MIN_NS;
    uint64_t tail = vt_consumed(tr);
    int64_t stuck_since = now_ns();
    /* A full ring: reserve publishes what is committed; kick the host if
     * that found it idle, then poll for space. A host that consumes
     * nothing for STALL_NS is taken for gone: nothing else would tell. */
    while (!(dst = wgv_ring_reserve(&t->cmd, (uint32_t)len, 0, &status))) {
        kick_if_rung(t);
        if (vt_consumed(tr) != tail) {
            tail = vt_consumed(tr);
            stuck_since = now_ns();
        }
        if (status != WGV_RING_TIMEOUT || t->dead || now_ns() - stuck_since > STALL_NS) {
            t->dead = true;
            wgv_ring_mark_dead(&t->cmd);
            return NULL;
        }
        if (tr->waiting)
            tr->waiting(tr->waiting_user);
        sleep_ns(pause);
        pause = pause * 2 > POLL_MAX_NS ? POLL_MAX_NS : pause * 2;
    }
    kick_if_rung(t);
    return t->dead ? NULL : dst;
}

static bool vt_commit(struct wgv_transport *tr, size_t len)
{
    struct virtgpu_transport *t = V(tr);
    wgv_ring_commit(&t->cmd, (uint32_t)len);
    /* Small commands go out a batch at a time; flush sends the rest. */
    wgv_ring_publish_batched(&t->cmd, WGV_RING_PUBLISH_BATCH);
    kick_if_rung(t);
    return !t->dead;
}

static void vt_flush(struct wgv_transport *tr)
{
    struct virtgpu_transport *t = V(tr);
    wgv_ring_publish(&t->cmd);
    kick_if_rung(t);
}

static long vt_recv(struct wgv_transport *tr, void *buf, size_t cap)
{
    struct virtgpu_transport *t = V(tr);
    ssize_t n = wgv_ring_read(&t->reply, buf, cap);
    if (n >= 0)
        return (long)n;
    if (n == WGV_RING_EMPTY && !t->dead)
        return 0;
    return -1;
}

static uint64_t vt_wait_point(struct wgv_transport *tr)
{
    return wgv_ring_wait_point(&V(tr)->reply);
}

static void vt_wait(struct wgv_transport *tr, uint64_t point, int64_t timeout_ns)
{
    struct virtgpu_transport *t = V(tr);
    int64_t deadline = timeout_ns < 0 ? INT64_MAX : now_ns() + timeout_ns;
    int64_t pause = POLL_MIN_NS;
    /* A host that consumes none of the commands published to it for
     * STALL_NS is taken for gone here too, as in vt_send: a guest waiting
     * on a reply would otherwise wait forever. Both positions are shared
     * atomics, safe to read without the client lock. */
    uint64_t tail = vt_consumed(tr);
    int64_t stuck_since = now_ns();
    /* Never the futex: the host's wake-up cannot reach this kernel. */
    while (wgv_ring_wait_past(&t->reply, point, 0) == WGV_RING_TIMEOUT && !t->dead) {
        int64_t now = now_ns();
        uint64_t head = atomic_load_explicit(&t->cmd.shared->head, memory_order_acquire);
        if (vt_consumed(tr) != tail || head == tail) {
            tail = vt_consumed(tr);
            stuck_since = now;
        } else if (now - stuck_since > STALL_NS) {
            t->dead = true;
            return;
        }
        int64_t left = deadline - now;
        if (left <= 0)
            return;
        sleep_ns(pause < left ? pause : left);
        pause = pause * 2 > POLL_MAX_NS ? POLL_MAX_NS : pause * 2;
    }
}

static uint64_t vt_produced(struct wgv_transport *tr)
{
    return V(tr)->cmd.prod;
}

static uint64_t vt_consumed(struct wgv_transport *tr)
{
    return atomic_load_explicit(&V(tr)->cmd.shared->tail, memory_order_acquire);
}

static void vt_destroy(struct wgv_transport *tr)
{
    struct virtgpu_transport *t = V(tr);
    if (t->cmd.shared) {
        /* Closing the node ends the context; let the host read the last
         * commands (releases) first, for a moment at most. */
        vt_flush(tr);
        int64_t deadline = now_ns() + 2000000000;
        while (!t->dead && vt_consumed(tr) < t->cmd.prod && now_ns() < deadline)
            sleep_ns(POLL_MAX_NS);
    }
    if (t->shm.base)
        munmap(t->shm.base, t->shm.map_size);
    if (t->fd >= 0)
        close(t->fd);  /* also closes the GEM handle */
    free(t);
}

/* ---------------------------------------------------------------- setup */

/* Shared memory sizes: the socket transport's defaults, except a smaller
 * bulk area: the guest's pages back it and stay pinned for the context's
 * life. $WGV_VIRTGPU_BULK_MB changes it. */
static struct wgv_shm_sizes shm_sizes(void)
{
    struct wgv_shm_sizes s = {WGV_SHM_DEFAULT_CMD_RING, WGV_SHM_DEFAULT_REPLY_RING, 64ull << 20};
    const char *mb = getenv("WGV_VIRTGPU_BULK_MB");
    if (mb && *mb) {
        char *end;
        unsigned long long v = strtoull(mb, &end, 10);
        if (!*end && v > 0 && v <= 2048)
            s.bulk = v << 20;
    }
    return s;
}

/* Selects our capset for the context where the kernel and device can;
 * otherwise the first resource creates an implicit context of type 0, which
 * the host takes as ours. */
static bool init_context(struct virtgpu_transport *t, char *err, size_t errlen)
{
    if (getparam(t->fd, WGV_VIRTGPU_PARAM_CONTEXT_INIT) != 1)
        return true;
    struct wgv_virtgpu_context_set_param p = {WGV_VIRTGPU_CONTEXT_PARAM_CAPSET_ID,
                                              WGV_VIRTIO_CAPSET_ID};
    struct wgv_virtgpu_context_init ci = {1, 0, (uint64_t)(uintptr_t)&p};
    if (xioctl(t->fd, WGV_VIRTGPU_IOCTL_CONTEXT_INIT, &ci) < 0) {
        snprintf(err, errlen, "virtio-gpu CONTEXT_INIT with capset %u: %s", WGV_VIRTIO_CAPSET_ID,
                 strerror(errno));
        return false;
    }
    return true;
}

/* Creates and maps the resource that becomes the shared memory. */
static bool create_shm(struct virtgpu_transport *t, const struct wgv_shm_sizes *sizes,
                       uint32_t *res_id, char *err, size_t errlen)
{
    uint64_t total = wgv_shm_total_size(sizes);
    if (total > UINT32_MAX) {
        snprintf(err, errlen, "shared memory of %llu bytes is too large for a virtio-gpu resource",
                 (unsigned long long)total);
        return false;
    }
    struct wgv_virtgpu_resource_create rc = {
        .target = 0, /* a buffer */
        .format = 0,
        .bind = 0,
        .width = (uint32_t)total,
        .height = 1,
        .depth = 1,
        .array_size = 1,
        .size = (uint32_t)total,
    };
    if (xioctl(t->fd, WGV_VIRTGPU_IOCTL_RESOURCE_CREATE, &rc) < 0) {
        snprintf(err, errlen, "virtio-gpu RESOURCE_CREATE of %llu bytes: %s",
                 (unsigned long long)total, strerror(errno));
        return false;
    }
    t->bo = rc.bo_handle;
    *res_id = rc.res_handle;
    struct wgv_virtgpu_map m = {.handle = rc.bo_handle};
    if (xioctl(t->fd, WGV_VIRTGPU_IOCTL_MAP, &m) < 0) {
        snprintf(err, errlen, "virtio-gpu MAP: %s", strerror(errno));
        return false;
    }
    void *p = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED, t->fd, (off_t)m.offset);
    if (p == MAP_FAILED) {
        snprintf(err, errlen, "mmap of the virtio-gpu resource: %s", strerror(errno));
        return false;
    }
    t->shm = (struct wgv_shm){
        .fd = -1,
        .base = p,
        .map_size = total,
        .page_size = wgv_shm_page_size(),
        .sizes = *sizes,
    };
    memset(p, 0, t->shm.page_size);
    return true;
}

/* Names the resource to the host and waits until it has laid it out. */
static bool setup_shm(struct virtgpu_transport *t, uint32_t res_id, char *err, size_t errlen)
{
    const struct wgv_shm_sizes *s = &t->shm.sizes;
    struct wgv_vrec_setup rec = {
        .hdr = {htole32(WGV_VREC_SETUP), htole32(WGV_VREC_SETUP_SIZE)},
        .resource_id = htole32(res_id),
        .protocol_version = htole32(WGV_PROTOCOL_VERSION),
        .cmd_ring = htole64(s->cmd_ring),
        .reply_ring = htole64(s->reply_ring),
        .bulk = htole64(s->bulk),
    };
    int fence = -1;
    if (!submit(t, &rec, sizeof(rec), &fence)) {
        snprintf(err, errlen, "virtio-gpu EXECBUFFER (SETUP): %s", strerror(errno));
        return false;
    }
    if (!wait_fence(t, fence, SETUP_TIMEOUT_MS)) {
        snprintf(err, errlen, "the host did not answer SETUP within %d s", SETUP_TIMEOUT_MS / 1000);
        return false;
    }
    /* Read each field once: the host (or anything) may still write here. */
    const volatile struct wgv_shm_control *c = wgv_shm_control(&t->shm);
    uint32_t magic = le32toh(c->magic);
    if (magic == WGV_VREC_REFUSE_MAGIC) {
        char reason[WGV_VREC_REFUSE_REASON_MAX];
        const volatile char *r = (const volatile char *)t->shm.base + WGV_VREC_REFUSE_REASON_OFFSET;
        size_t i = 0;
        for (; i < sizeof(reason) - 1 && r[i]; i++)
            reason[i] = r[i];
        reason[i] = 0;
        snprintf(err, errlen, "the host refused the shared memory: %s", reason);
        return false;
    }
    if (magic != WGV_SHM_MAGIC || le32toh(c->layout_version) != WGV_SHM_LAYOUT_VERSION ||
        le64toh(c->cmd_ring_size) != s->cmd_ring || le64toh(c->reply_ring_size) != s->reply_ring ||
        le64toh(c->bulk_size) != s->bulk || le64toh(c->total_size) != t->shm.map_size) {
        snprintf(err, errlen, "the host did not lay out the shared memory (magic 0x%08x)", magic);
        return false;
    }
    return true;
}

struct wgv_transport *wgv_transport_virtgpu_open(int fd, char *err, size_t errlen)
{
    struct virtgpu_transport *t = calloc(1, sizeof(*t));
    if (!t) {
        snprintf(err, errlen, "out of memory");
        close(fd);
        return NULL;
    }
    t->fd = fd;
    struct wgv_shm_sizes sizes = shm_sizes();
    uint32_t res_id = 0;
    if (!init_context(t, err, errlen) || !create_shm(t, &sizes, &res_id, err, errlen) ||
        !setup_shm(t, res_id, err, errlen)) {
        vt_destroy(&t->base);
        return NULL;
    }
    if (wgv_shm_cmd_ring(&t->shm, &t->cmd) < 0 || wgv_shm_reply_ring(&t->shm, &t->reply) < 0) {
        snprintf(err, errlen, "the shared memory has no usable rings");
        vt_destroy(&t->base);
        return NULL;
    }
    t->base = (struct wgv_transport){
        .name = "virtgpu",
        .reserve = vt_reserve,
        .commit = vt_commit,
        .flush = vt_flush,
        .recv = vt_recv,
        .wait_point = vt_wait_point,
        .wait = vt_wait,
        .produced = vt_produced,
        .consumed = vt_consumed,
        .destroy = vt_destroy,
        .bulk = wgv_shm_bulk(&t->shm),
        .bulk_size = sizes.bulk,
        .record_max = wgv_ring_max_record(&t->cmd),
    };
    return &t->base;
}
