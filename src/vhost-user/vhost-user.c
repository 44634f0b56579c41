/* The vhost-user back-end protocol as QEMU 10's vhost-user-gpu drives it
 * (QEMU's docs/interop/vhost-user.rst): one message at a time over the unix
 * socket, file descriptors as SCM_RIGHTS, replies where the protocol has
 * them and a u64 ack where the front-end asks (REPLY_ACK). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vu.h"

enum {
    VU_GET_FEATURES = 1,
    VU_SET_FEATURES = 2,
    VU_SET_OWNER = 3,
    VU_RESET_OWNER = 4,
    VU_SET_MEM_TABLE = 5,
    VU_SET_LOG_BASE = 6,
    VU_SET_LOG_FD = 7,
    VU_SET_VRING_NUM = 8,
    VU_SET_VRING_ADDR = 9,
    VU_SET_VRING_BASE = 10,
    VU_GET_VRING_BASE = 11,
    VU_SET_VRING_KICK = 12,
    VU_SET_VRING_CALL = 13,
    VU_SET_VRING_ERR = 14,
    VU_GET_PROTOCOL_FEATURES = 15,
    VU_SET_PROTOCOL_FEATURES = 16,
    VU_GET_QUEUE_NUM = 17,
    VU_SET_VRING_ENABLE = 18,
    VU_GET_CONFIG = 24,
    VU_SET_CONFIG = 25,
    VU_GPU_SET_SOCKET = 33,
    VU_RESET_DEVICE = 34,
};

#define VU_VERSION 0x1u
#define VU_FLAG_REPLY 0x4u
#define VU_FLAG_NEED_REPLY 0x8u
#define VU_F_PROTOCOL_FEATURES 30
#define VU_PROTOCOL_F_REPLY_ACK 3
#define VU_PROTOCOL_F_CONFIG 9
#define VU_VRING_IDX_MASK 0xffu
#define VU_VRING_NOFD 0x100u
#define VU_HDR 12u
#define VU_PAYLOAD_MAX 4096u
#define VU_MAX_FDS 8

static const uint64_t offered_features =
    (1ull << WGV_VIRTIO_F_VERSION_1) | (1ull << VU_F_PROTOCOL_FEATURES) |
    (1ull << WGV_GPU_F_VIRGL) | (1ull << WGV_GPU_F_RESOURCE_BLOB) |
    (1ull << WGV_GPU_F_CONTEXT_INIT);
static const uint64_t offered_protocol =
    (1ull << VU_PROTOCOL_F_REPLY_ACK) | (1ull << VU_PROTOCOL_F_CONFIG);

struct msg {
    uint32_t request, flags, size;
    uint8_t payload[VU_PAYLOAD_MAX];
    int fds[VU_MAX_FDS];
    unsigned nfds;
};

static void close_fds(struct msg *m)
{
    for (unsigned i = 0; i < m->nfds; i++)
        if (m->fds[i] >= 0)
            close(m->fds[i]);
    m->nfds = 0;
}

/* Reads exactly len bytes; fds that come along are collected. */
static int read_full(int fd, void *buf, size_t len, struct msg *m)
{
    size_t got = 0;
    while (got < len) {
        struct iovec iov = {(uint8_t *)buf + got, len - got};
        union {
            char buf[CMSG_SPACE(VU_MAX_FDS * sizeof(int))];
            struct cmsghdr align;
        } ctl;
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
                            .msg_controllen = sizeof(ctl.buf)};
        ssize_t n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                continue;
            size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (size_t i = 0; i < k; i++) {
                int f;
                memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                if (m->nfds < VU_MAX_FDS)
                    m->fds[m->nfds++] = f;
                else
                    close(f);
            }
        }
        got += (size_t)n;
    }
    return 0;
}

static int send_reply(struct wgv_vu *vu, const struct msg *req, const void *payload, uint32_t size)
{
    uint8_t buf[VU_HDR + VU_PAYLOAD_MAX];
    uint32_t hdr[3] = {req->request, VU_VERSION | VU_FLAG_REPLY, size};
    memcpy(buf, hdr, VU_HDR);
    if (size)
        memcpy(buf + VU_HDR, payload, size);
    size_t len = VU_HDR + size, done = 0;
    while (done < len) {
        ssize_t n = send(vu->conn_fd, buf + done, len - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        done += (size_t)n;
    }
    return 0;
}

static int reply_u64(struct wgv_vu *vu, const struct msg *req, uint64_t v)
{
    return send_reply(vu, req, &v, sizeof(v));
}

static bool u64_payload(const struct msg *m, uint64_t *v)
{
    if (m->size < sizeof(*v))
        return false;
    memcpy(v, m->payload, sizeof(*v));
    return true;
}

/* The queue an index-carrying message names, or NULL. */
static struct wgv_vq *queue_of(struct wgv_vu *vu, uint32_t index)
{
    return index < WGV_VU_QUEUES ? &vu->vq[index] : NULL;
}

static void remap_queue(struct wgv_vu *vu, struct wgv_vq *q, unsigned index)
{
    if (!q->desc_uva || !vu->mem.count)
        return;
    char err[128];
    if (!wgv_vq_map(q, &vu->mem, err, sizeof(err))) {
        wgv_vu_warn(vu, "queue %u: %s", index, err);
        return;
    }
    q->used_idx = __atomic_load_n((uint16_t *)(uintptr_t)(q->used + 2), __ATOMIC_ACQUIRE);
}

static bool set_mem_table(struct wgv_vu *vu, struct msg *m)
{
    uint32_t n;
    if (m->size < 8) {
        close_fds(m);
        return false;
    }
    memcpy(&n, m->payload, sizeof(n));
    if (n == 0 || n > WGV_VU_MAX_REGIONS || m->size < 8 + 32 * n || m->nfds != n) {
        wgv_vu_warn(vu, "SET_MEM_TABLE with %u regions and %u fds refused", n, m->nfds);
        close_fds(m);
        return false;
    }
    struct wgv_vu_region_desc d[WGV_VU_MAX_REGIONS];
    memcpy(d, m->payload + 8, 32 * n);
    char err[160];
    int rc = wgv_vu_mem_set_table(&vu->mem, d, m->fds, n, err, sizeof(err));
    m->nfds = 0; /* taken over (or closed) */
    if (rc != 0) {
        wgv_vu_warn(vu, "SET_MEM_TABLE: %s", err);
        return false;
    }
    for (unsigned i = 0; i < n; i++)
        wgv_vu_log(vu, "guest RAM: 0x%llx..0x%llx", (unsigned long long)d[i].gpa,
                   (unsigned long long)(d[i].gpa + d[i].size));
    for (unsigned i = 0; i < WGV_VU_QUEUES; i++)
        remap_queue(vu, &vu->vq[i], i);
    return true;
}

static void replace_fd(int *slot, int fd)
{
    if (*slot >= 0)
        close(*slot);
    *slot = fd;
}

/* SET_VRING_KICK/CALL/ERR: u64 index plus the no-fd flag, fd attached. */
static bool set_vring_fd(struct wgv_vu *vu, struct msg *m)
{
    uint64_t v;
    if (!u64_payload(m, &v)) {
        close_fds(m);
        return false;
    }
    struct wgv_vq *q = queue_of(vu, (uint32_t)(v & VU_VRING_IDX_MASK));
    bool nofd = v & VU_VRING_NOFD;
    if (!q || v & ~(uint64_t)(VU_VRING_IDX_MASK | VU_VRING_NOFD) || m->nfds != (nofd ? 0u : 1u)) {
        close_fds(m);
        return false;
    }
    int fd = nofd ? -1 : m->fds[0];
    m->nfds = 0;
    if (m->request == VU_SET_VRING_KICK) {
        /* Drained without blocking, whatever the front-end chose. */
        if (fd >= 0)
            fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        replace_fd(&q->kick_fd, fd);
        q->started = true;
        if (!(vu->acked_features & (1ull << VU_F_PROTOCOL_FEATURES)))
            q->enabled = true;
    } else if (m->request == VU_SET_VRING_CALL) {
        replace_fd(&q->call_fd, fd);
    } else {
        replace_fd(&q->err_fd, fd);
    }
    return true;
}

/* Handles m; sets *replied if it answered (no ack then). */
static bool handle(struct wgv_vu *vu, struct msg *m, bool *replied, int *io)
{
    uint64_t v;
    struct { uint32_t index, num; } st;
    switch (m->request) {
    case VU_GET_FEATURES:
        *replied = true;
        *io = reply_u64(vu, m, offered_features);
        return true;
    case VU_SET_FEATURES:
        if (!u64_payload(m, &v))
            return false;
        if (v & ~offered_features)
            wgv_vu_warn(vu, "front-end acked features 0x%llx we did not offer",
                        (unsigned long long)(v & ~offered_features));
        vu->acked_features = v & offered_features;
        vu->features_set = true;
        wgv_vu_log(vu, "features 0x%llx", (unsigned long long)vu->acked_features);
        if (!(v & (1ull << VU_F_PROTOCOL_FEATURES)))
            for (unsigned i = 0; i < WGV_VU_QUEUES; i++)
                vu->vq[i].enabled = true;
        return true;
    case VU_GET_PROTOCOL_FEATURES:
        *replied = true;
        *io = reply_u64(vu, m, offered_protocol);
        return true;
    case VU_SET_PROTOCOL_FEATURES:
        if (!u64_payload(m, &v))
            return false;
        vu->acked_protocol = v & offered_protocol;
        return true;
    case VU_SET_OWNER:
        return true;
    case VU_RESET_OWNER:
    case VU_RESET_DEVICE:
        wgv_vu_reset_device(vu, false);
        return true;
    case VU_SET_MEM_TABLE:
        return set_mem_table(vu, m);
    case VU_SET_VRING_NUM:
    case VU_SET_VRING_BASE:
    case VU_SET_VRING_ENABLE:
    case VU_GET_VRING_BASE: {
        if (m->size < sizeof(st))
            return false;
        memcpy(&st, m->payload, sizeof(st));
        struct wgv_vq *q = queue_of(vu, st.index);
        if (!q)
            return false;
        if (m->request == VU_SET_VRING_NUM) {
            if (st.num == 0 || st.num > WGV_VQ_MAX_SIZE || (st.num & (st.num - 1)))
                return false;
            q->num = st.num;
            q->desc = q->avail = q->used = NULL;
            remap_queue(vu, q, st.index);
        } else if (m->request == VU_SET_VRING_BASE) {
            if (st.num > 0xffff)
                return false;
            /* Nothing in vhost-user says "device reset": QEMU only stops
             * the queues, for a reset as for a paused VM. A control queue
             * that served requests and now restarts from 0 means the guest
             * driver set the device up afresh (reboot, driver reload), so
             * the old contexts and resources go, as with a reset. A resumed
             * VM restarts from where the queue stopped instead. */
            if (st.index == WGV_VU_CTRLQ && st.num == 0 && q->served) {
                wgv_vu_log(vu, "control queue restarted from 0: the device is reset");
                wgv_vu_reset_device(vu, false);
            } else if (st.index == WGV_VU_CTRLQ) {
                wgv_vu_pumps_resume(vu);
            }
            q->served = false;
            q->last_avail = (uint16_t)st.num;
            q->broken = false;
        } else if (m->request == VU_SET_VRING_ENABLE) {
            q->enabled = st.num != 0;
        } else {
            /* Stop, for a pause or a reset (which one shows at the
             * restart): the pumps are held where they touch no guest memory
             * before we answer, since a rebooting guest reuses it at once.
             * Answers still owed wait for the restart (a reset drops them). */
            q->started = false;
            replace_fd(&q->kick_fd, -1);
            if (st.index == WGV_VU_CTRLQ)
                wgv_vu_pumps_pause(vu);
            st.num = q->last_avail;
            *replied = true;
            *io = send_reply(vu, m, &st, sizeof(st));
        }
        return true;
    }
    case VU_SET_VRING_ADDR: {
        struct { uint32_t index, flags; uint64_t desc, used, avail, log; } a;
        if (m->size < sizeof(a))
            return false;
        memcpy(&a, m->payload, sizeof(a));
        struct wgv_vq *q = queue_of(vu, a.index);
        if (!q || !q->num)
            return false;
        q->desc_uva = a.desc;
        q->used_uva = a.used;
        q->avail_uva = a.avail;
        q->desc = q->avail = q->used = NULL;
        remap_queue(vu, q, a.index);
        return q->desc != NULL;
    }
    case VU_SET_VRING_KICK:
    case VU_SET_VRING_CALL:
    case VU_SET_VRING_ERR:
        return set_vring_fd(vu, m);
    case VU_GET_QUEUE_NUM:
        *replied = true;
        *io = reply_u64(vu, m, WGV_VU_QUEUES);
        return true;
    case VU_GET_CONFIG: {
        struct { uint32_t offset, size, flags; } c;
        uint8_t out[12 + sizeof(struct wgv_gpu_config)];
        struct wgv_gpu_config cfg = {0, 0, 1, 1};
        if (m->size < sizeof(c))
            return false;
        memcpy(&c, m->payload, sizeof(c));
        if (c.offset > sizeof(cfg) || c.size > sizeof(cfg) - c.offset ||
            m->size != sizeof(c) + c.size) {
            /* Still answer (the front-end waits): with no bytes, an error. */
            c.size = 0;
            *replied = true;
            *io = send_reply(vu, m, &c, sizeof(c));
            return false;
        }
        memcpy(out, &c, sizeof(c));
        memcpy(out + sizeof(c), (uint8_t *)&cfg + c.offset, c.size);
        *replied = true;
        *io = send_reply(vu, m, out, (uint32_t)(sizeof(c) + c.size));
        return true;
    }
    case VU_SET_CONFIG:
        return true; /* events_clear: we never raise display events */
    case VU_GPU_SET_SOCKET:
        if (m->nfds != 1) {
            close_fds(m);
            return false;
        }
        wgv_vu_display_set_socket(&vu->display, m->fds[0]);
        m->nfds = 0;
        wgv_vu_log(vu, "display socket from the front-end");
        return true;
    default:
        wgv_vu_warn(vu, "unhandled vhost-user request %u", m->request);
        return false;
    }
}

int wgv_vu_frontend_message(struct wgv_vu *vu)
{
    struct msg *m = malloc(sizeof(*m));
    if (!m)
        return -1;
    m->nfds = 0;
    int rc = -1;
    uint32_t hdr[3];
    if (read_full(vu->conn_fd, hdr, VU_HDR, m) != 0)
        goto out;
    m->request = hdr[0];
    m->flags = hdr[1];
    m->size = hdr[2];
    if ((m->flags & 0x3) != VU_VERSION || m->size > VU_PAYLOAD_MAX) {
        wgv_vu_warn(vu, "bad vhost-user message (request %u, flags 0x%x, size %u)", m->request,
                    m->flags, m->size);
        goto out;
    }
    if (m->size && read_full(vu->conn_fd, m->payload, m->size, m) != 0)
        goto out;
    bool replied = false;
    int io = 0;
    bool ok = handle(vu, m, &replied, &io);
    if (!ok)
        wgv_vu_log(vu, "vhost-user request %u failed", m->request);
    close_fds(m);
    if (io != 0)
        goto out;
    if (!replied && (m->flags & VU_FLAG_NEED_REPLY) &&
        (vu->acked_protocol & (1ull << VU_PROTOCOL_F_REPLY_ACK)) &&
        reply_u64(vu, m, ok ? 0 : 1) != 0)
        goto out;
    rc = 0;
out:
    close_fds(m);
    free(m);
    return rc;
}
