/* The simulated front-end (frontend.h). */
#include "frontend.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define SCRATCH_GPA (4u << 20)
#define SLOT_STRIDE (FE_SLOT_CMD + FE_SLOT_RESP)
#define DESC_F_NEXT 1u
#define DESC_F_WRITE 2u

/* Each descriptor's scratch buffers (request, then response): control
 * queue slots from 4 MiB, cursor queue slots from 9 MiB. */
static uint64_t slot_gpa(unsigned qi, unsigned d)
{
    return SCRATCH_GPA + (qi ? 5u << 20 : 0) + (uint64_t)d * SLOT_STRIDE;
}

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

void *fe_ptr(struct fe *fe, uint64_t gpa)
{
    if (gpa < FE_REGION_SIZE)
        return fe->ram + gpa;
    if (gpa >= FE_REGION1_GPA && gpa - FE_REGION1_GPA < FE_REGION_SIZE)
        return fe->ram + FE_REGION_SIZE + (gpa - FE_REGION1_GPA);
    return NULL;
}

uint64_t fe_alloc(struct fe *fe, unsigned region, uint64_t bytes)
{
    uint64_t gpa = fe->next[region];
    fe->next[region] += (bytes + 4095) & ~4095ull;
    return gpa;
}

int fe_msg(struct fe *fe, uint32_t request, uint32_t flags, const void *payload, uint32_t size,
           const int *fds, unsigned nfds, void *reply, uint32_t reply_cap, bool want_reply)
{
    uint8_t buf[12 + 4096];
    uint32_t hdr[3] = {request, 0x1 | flags, size};
    memcpy(buf, hdr, 12);
    if (size)
        memcpy(buf + 12, payload, size);
    struct iovec iov = {buf, 12 + size};
    union {
        char b[CMSG_SPACE(8 * sizeof(int))];
        struct cmsghdr align;
    } ctl;
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    if (nfds) {
        mh.msg_control = ctl.b;
        mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
        memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
    }
    if (sendmsg(fe->sock, &mh, MSG_NOSIGNAL) != (ssize_t)(12 + size))
        return -1;
    if (!want_reply)
        return 0;
    struct pollfd p = {fe->sock, POLLIN, 0};
    if (poll(&p, 1, 5000) <= 0)
        return -1;
    if (recv(fe->sock, hdr, 12, MSG_WAITALL) != 12 || hdr[0] != request || !(hdr[1] & 0x4) ||
        hdr[2] > reply_cap)
        return -1;
    if (hdr[2] && recv(fe->sock, reply, hdr[2], MSG_WAITALL) != (ssize_t)hdr[2])
        return -1;
    return (int)hdr[2];
}

static bool ack(struct fe *fe, uint32_t request, const void *payload, uint32_t size,
                const int *fds, unsigned nfds)
{
    uint64_t v = 1;
    return fe_msg(fe, request, FE_NEED_REPLY, payload, size, fds, nfds, &v, sizeof(v), true) == 8 &&
           v == 0;
}

/* The driver's view of an empty queue. */
static void clear_queue(struct fe_vq *q)
{
    memset(q->avail, 0, 4 + 2 * FE_QUEUE_SIZE + 2);
    memset(q->used, 0, 4 + 8 * FE_QUEUE_SIZE + 2);
    q->avail_idx = q->last_used = 0;
    q->nfree = FE_QUEUE_SIZE;
    for (unsigned i = 0; i < FE_QUEUE_SIZE; i++) {
        q->free_desc[i] = (int)(FE_QUEUE_SIZE - 1 - i);
        q->chains[i].n = 0;
    }
}

static bool setup_queue(struct fe *fe, unsigned qi, uint64_t base)
{
    struct fe_vq *q = &fe->q[qi];
    q->desc_gpa = base;
    q->avail_gpa = base + 16 * FE_QUEUE_SIZE;
    q->used_gpa = base + 2048;
    q->desc = fe_ptr(fe, q->desc_gpa);
    q->avail = fe_ptr(fe, q->avail_gpa);
    q->used = fe_ptr(fe, q->used_gpa);
    clear_queue(q);
    q->done = calloc(65536, sizeof(bool));
    q->len = calloc(65536, sizeof(uint32_t));
    q->kick = eventfd(0, EFD_CLOEXEC);
    q->call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    struct { uint32_t index, num; } st = {qi, FE_QUEUE_SIZE};
    struct { uint32_t index, flags; uint64_t desc, used, avail, log; } a = {
        qi, 0, (uint64_t)(uintptr_t)q->desc, (uint64_t)(uintptr_t)q->used,
        (uint64_t)(uintptr_t)q->avail, 0};
    uint64_t idx = qi;
    if (!ack(fe, FE_SET_VRING_NUM, &st, sizeof(st), NULL, 0))
        return false;
    st.num = 0;
    return ack(fe, FE_SET_VRING_BASE, &st, sizeof(st), NULL, 0) &&
           ack(fe, FE_SET_VRING_ADDR, &a, sizeof(a), NULL, 0) &&
           ack(fe, FE_SET_VRING_KICK, &idx, sizeof(idx), &q->kick, 1) &&
           ack(fe, FE_SET_VRING_CALL, &idx, sizeof(idx), &q->call, 1) &&
           (st.num = 1, ack(fe, FE_SET_VRING_ENABLE, &st, sizeof(st), NULL, 0));
}

bool fe_stop_queue(struct fe *fe, unsigned qi)
{
    struct { uint32_t index, num; } st = {qi, 0};
    return fe_msg(fe, FE_GET_VRING_BASE, 0, &st, sizeof(st), NULL, 0, &st, sizeof(st), true) == 8 &&
           st.num == fe->q[qi].avail_idx;
}

/* Starts queue qi again from index `base`. */
static bool start_queue(struct fe *fe, unsigned qi, uint16_t base)
{
    struct fe_vq *q = &fe->q[qi];
    struct { uint32_t index, num; } st = {qi, base};
    uint64_t idx = qi;
    return ack(fe, FE_SET_VRING_BASE, &st, sizeof(st), NULL, 0) &&
           ack(fe, FE_SET_VRING_KICK, &idx, sizeof(idx), &q->kick, 1) &&
           (st.num = 1, ack(fe, FE_SET_VRING_ENABLE, &st, sizeof(st), NULL, 0));
}

bool fe_resume_queue(struct fe *fe, unsigned qi)
{
    return start_queue(fe, qi, fe->q[qi].avail_idx);
}

bool fe_restart_queue(struct fe *fe, unsigned qi)
{
    if (!fe_stop_queue(fe, qi))
        return false;
    clear_queue(&fe->q[qi]);
    return start_queue(fe, qi, 0);
}

int fe_display_read(struct fe *fe, uint32_t *request, void *payload, size_t cap)
{
    struct pollfd p = {fe->disp, POLLIN, 0};
    if (fe->disp < 0 || poll(&p, 1, 2000) <= 0)
        return -1;
    uint32_t hdr[3];
    if (recv(fe->disp, hdr, 12, MSG_WAITALL) != 12)
        return -1;
    *request = hdr[0];
    uint8_t *dst = payload;
    size_t left = hdr[2];
    while (left) {
        uint8_t sink[4096];
        size_t take = cap ? (left < cap ? left : cap) : (left < sizeof(sink) ? left : sizeof(sink));
        ssize_t n = recv(fe->disp, cap ? (void *)dst : sink, take, MSG_WAITALL);
        if (n <= 0)
            return -1;
        left -= (size_t)n;
        if (cap) {
            dst += n;
            cap -= (size_t)n;
        }
    }
    return (int)hdr[2];
}

bool fe_send_mem_table(struct fe *fe)
{
    struct {
        uint32_t nregions, padding;
        struct { uint64_t gpa, size, uva, offset; } r[2];
    } mt = {2, 0, {{0, FE_REGION_SIZE, (uint64_t)(uintptr_t)fe->ram, 0},
                   {FE_REGION1_GPA, FE_REGION_SIZE, (uint64_t)(uintptr_t)fe->ram + FE_REGION_SIZE,
                    FE_REGION_SIZE}}};
    int fds[2] = {fe->memfd, fe->memfd};
    return ack(fe, FE_SET_MEM_TABLE, &mt, sizeof(mt), fds, 2);
}

bool fe_connect(struct fe *fe, const char *path)
{
    memset(fe, 0, sizeof(*fe));
    fe->disp = -1;
    fe->memfd = memfd_create("fe-ram", MFD_CLOEXEC);
    if (fe->memfd < 0 || ftruncate(fe->memfd, FE_RAM_SIZE) != 0)
        return false;
    fe->ram = mmap(NULL, FE_RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fe->memfd, 0);
    if (fe->ram == MAP_FAILED)
        return false;
    fe->next[0] = 16u << 20;
    fe->next[1] = FE_REGION1_GPA;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    fe->sock = -1;
    for (int i = 0; i < 500 && fe->sock < 0; i++) {
        int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) == 0)
            fe->sock = s;
        else {
            close(s);
            sleep_us(10000);
        }
    }
    if (fe->sock < 0) {
        fprintf(stderr, "  front-end: cannot connect to %s\n", path);
        return false;
    }
    uint64_t v;
    if (fe_msg(fe, FE_GET_FEATURES, 0, NULL, 0, NULL, 0, &fe->features, 8, true) != 8 ||
        fe_msg(fe, FE_GET_PROTOCOL_FEATURES, 0, NULL, 0, NULL, 0, &fe->protocol, 8, true) != 8) {
        fprintf(stderr, "  front-end: feature negotiation failed\n");
        return false;
    }
    v = fe->protocol & ((1u << 3) | (1u << 9)); /* REPLY_ACK, CONFIG */
    if (fe_msg(fe, FE_SET_PROTOCOL_FEATURES, 0, &v, 8, NULL, 0, NULL, 0, false) != 0 ||
        fe_msg(fe, FE_SET_OWNER, 0, NULL, 0, NULL, 0, NULL, 0, false) != 0)
        return false;
    /* What the guest driver accepts: everything but EDID. */
    v = fe->features & ~(1ull << 1);
    if (!ack(fe, FE_SET_FEATURES, &v, 8, NULL, 0)) {
        fprintf(stderr, "  front-end: SET_FEATURES not acked\n");
        return false;
    }
    if (!fe_send_mem_table(fe)) {
        fprintf(stderr, "  front-end: SET_MEM_TABLE not acked\n");
        return false;
    }
    if (!setup_queue(fe, 0, 0x10000) || !setup_queue(fe, 1, 0x20000)) {
        fprintf(stderr, "  front-end: queue setup failed\n");
        return false;
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return false;
    bool ok = ack(fe, FE_GPU_SET_SOCKET, NULL, 0, &sv[1], 1);
    close(sv[1]);
    fe->disp = sv[0];
    if (!ok)
        return false;
    /* Play QEMU's side of the display protocol's feature exchange. */
    uint32_t req;
    uint64_t feat;
    if (fe_display_read(fe, &req, &feat, sizeof(feat)) != 0 || req != 1) {
        fprintf(stderr, "  front-end: no GET_PROTOCOL_FEATURES on the display socket\n");
        return false;
    }
    uint32_t reply[5] = {1, 0x4, 8, 3, 0};
    if (send(fe->disp, reply, sizeof(reply), MSG_NOSIGNAL) != sizeof(reply))
        return false;
    if (fe_display_read(fe, &req, &feat, sizeof(feat)) != 8 || req != 2) {
        fprintf(stderr, "  front-end: no SET_PROTOCOL_FEATURES on the display socket\n");
        return false;
    }
    return true;
}

void fe_close(struct fe *fe)
{
    if (fe->sock >= 0)
        close(fe->sock);
    if (fe->disp >= 0)
        close(fe->disp);
    for (unsigned i = 0; i < 2; i++) {
        if (fe->q[i].kick > 0)
            close(fe->q[i].kick);
        if (fe->q[i].call > 0)
            close(fe->q[i].call);
        free(fe->q[i].done);
        free(fe->q[i].len);
    }
    if (fe->ram && fe->ram != MAP_FAILED)
        munmap(fe->ram, FE_RAM_SIZE);
    if (fe->memfd > 0)
        close(fe->memfd);
    memset(fe, 0, sizeof(*fe));
    fe->sock = fe->disp = -1;
}

int fe_take_desc(struct fe *fe, unsigned qi)
{
    struct fe_vq *q = &fe->q[qi];
    return q->nfree ? q->free_desc[--q->nfree] : -1;
}

void fe_set_desc(struct fe *fe, unsigned qi, unsigned i, uint64_t addr, uint32_t len,
                 uint16_t flags, uint16_t next)
{
    uint8_t *d = fe->q[qi].desc + 16 * i;
    memcpy(d, &addr, 8);
    memcpy(d + 8, &len, 4);
    memcpy(d + 12, &flags, 2);
    memcpy(d + 14, &next, 2);
}

void fe_publish_head(struct fe *fe, unsigned qi, uint16_t head)
{
    struct fe_vq *q = &fe->q[qi];
    uint16_t *ring = (uint16_t *)(q->avail + 4);
    ring[q->avail_idx % FE_QUEUE_SIZE] = head;
    q->avail_idx++;
    if (head < 65535) {
        q->done[head] = false;
        q->len[head] = 0;
    }
    __atomic_store_n((uint16_t *)(q->avail + 2), q->avail_idx, __ATOMIC_RELEASE);
    uint64_t one = 1;
    if (write(q->kick, &one, 8) != 8)
        perror("kick");
}

int fe_start(struct fe *fe, unsigned qi, const void *cmd, size_t cmd_len, size_t resp_len)
{
    struct fe_vq *q = &fe->q[qi];
    if (q->nfree < 2 || cmd_len > FE_SLOT_CMD || resp_len > FE_SLOT_RESP)
        return -1;
    int d0 = fe_take_desc(fe, qi), d1 = fe_take_desc(fe, qi);
    uint64_t slot = slot_gpa(qi, (unsigned)d0);
    memcpy(fe_ptr(fe, slot), cmd, cmd_len);
    memset(fe_ptr(fe, slot + FE_SLOT_CMD), 0xee, resp_len);
    fe_set_desc(fe, qi, (unsigned)d0, slot, (uint32_t)cmd_len, DESC_F_NEXT, (uint16_t)d1);
    fe_set_desc(fe, qi, (unsigned)d1, slot + FE_SLOT_CMD, (uint32_t)resp_len, DESC_F_WRITE, 0);
    q->chains[d0].d[0] = d0;
    q->chains[d0].d[1] = d1;
    q->chains[d0].n = 2;
    fe_publish_head(fe, qi, (uint16_t)d0);
    return d0;
}

/* Collects used entries; frees the descriptors of chains we recorded. */
static void reap(struct fe *fe, unsigned qi)
{
    struct fe_vq *q = &fe->q[qi];
    uint16_t idx = __atomic_load_n((uint16_t *)(q->used + 2), __ATOMIC_ACQUIRE);
    while (q->last_used != idx) {
        uint8_t *e = q->used + 4 + 8 * (q->last_used % FE_QUEUE_SIZE);
        uint32_t id, len;
        memcpy(&id, e, 4);
        memcpy(&len, e + 4, 4);
        q->last_used++;
        if (id >= 65536)
            continue;
        q->done[id] = true;
        q->len[id] = len;
        if (id < FE_QUEUE_SIZE) {
            for (unsigned i = 0; i < q->chains[id].n; i++)
                q->free_desc[q->nfree++] = q->chains[id].d[i];
            q->chains[id].n = 0;
        }
    }
}

bool fe_done(struct fe *fe, unsigned qi, int head)
{
    reap(fe, qi);
    return fe->q[qi].done[head];
}

int fe_wait(struct fe *fe, unsigned qi, int head, void *resp, size_t cap, int timeout_ms)
{
    struct fe_vq *q = &fe->q[qi];
    for (int i = 0; i < timeout_ms * 10; i++) {
        reap(fe, qi);
        if (q->done[head]) {
            q->done[head] = false;
            uint32_t len = q->len[head];
            if (resp && head < (int)FE_QUEUE_SIZE) {
                uint64_t slot = slot_gpa(qi, (unsigned)head);
                memcpy(resp, fe_ptr(fe, slot + FE_SLOT_CMD), len < cap ? len : cap);
            }
            return (int)len;
        }
        sleep_us(100);
    }
    return -1;
}

uint32_t fe_cmd(struct fe *fe, const void *cmd, size_t len, void *resp, size_t cap)
{
    uint8_t local[FE_SLOT_RESP];
    if (!resp) {
        resp = local;
        cap = 24;
    }
    int head = fe_start(fe, 0, cmd, len, cap < 24 ? 24 : cap);
    if (head < 0)
        return 0;
    int n = fe_wait(fe, 0, head, resp, cap, 5000);
    if (n < 24)
        return 0;
    uint32_t type;
    memcpy(&type, resp, 4);
    return type;
}
