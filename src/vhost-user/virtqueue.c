/* Split virtqueues: taking requests from the available ring and returning
 * them through the used ring (virtqueue.h). */
#include "virtqueue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DESC_F_NEXT 1u
#define DESC_F_WRITE 2u
#define DESC_F_INDIRECT 4u
#define AVAIL_F_NO_INTERRUPT 1u

void wgv_vq_init(struct wgv_vq *vq)
{
    memset(vq, 0, sizeof(*vq));
    vq->kick_fd = vq->call_fd = vq->err_fd = -1;
}

bool wgv_vq_map(struct wgv_vq *vq, const struct wgv_vu_mem *mem, char *err, size_t errlen)
{
    vq->desc = vq->avail = vq->used = NULL;
    if (!vq->num) {
        snprintf(err, errlen, "queue size not set");
        return false;
    }
    uint64_t n = vq->num;
    if (vq->desc_uva % 16 || vq->avail_uva % 2 || vq->used_uva % 4) {
        snprintf(err, errlen, "misaligned ring addresses");
        return false;
    }
    void *d = wgv_vu_mem_uva(mem, vq->desc_uva, 16 * n);
    void *a = wgv_vu_mem_uva(mem, vq->avail_uva, 4 + 2 * n + 2);
    void *u = wgv_vu_mem_uva(mem, vq->used_uva, 4 + 8 * n + 2);
    if (!d || !a || !u) {
        snprintf(err, errlen, "ring addresses outside guest RAM");
        return false;
    }
    vq->desc = d;
    vq->avail = a;
    vq->used = u;
    return true;
}

static uint16_t load16_acquire(volatile uint8_t *p)
{
    return __atomic_load_n((uint16_t *)(uintptr_t)p, __ATOMIC_ACQUIRE);
}

/* One descriptor, each field read exactly once. */
struct desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags, next;
};

static struct desc read_desc(const struct wgv_vq *vq, unsigned i)
{
    volatile uint8_t *p = vq->desc + 16 * (size_t)i;
    struct desc d;
    d.addr = *(volatile uint64_t *)p;
    d.len = *(volatile uint32_t *)(p + 8);
    d.flags = *(volatile uint16_t *)(p + 12);
    d.next = *(volatile uint16_t *)(p + 14);
    return d;
}

void wgv_vq_chain_free(struct wgv_vq_chain *c)
{
    free(c->in);
    free(c->out);
    c->in = NULL;
    c->out = NULL;
    c->in_len = c->out_len = 0;
    c->out_count = 0;
}

static int bad(struct wgv_vq_chain *c, char *err, size_t errlen, const char *why, unsigned i)
{
    snprintf(err, errlen, "descriptor chain %u: %s (descriptor %u)", c->head, why, i);
    wgv_vq_chain_free(c);
    return WGV_VQ_BAD_CHAIN;
}

int wgv_vq_pop(struct wgv_vq *vq, const struct wgv_vu_mem *mem, size_t in_max,
               struct wgv_vq_chain *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof(*c));
    if (!vq->avail || vq->broken)
        return WGV_VQ_EMPTY;
    uint16_t avail_idx = load16_acquire(vq->avail + 2);
    uint16_t waiting = (uint16_t)(avail_idx - vq->last_avail);
    if (waiting == 0)
        return WGV_VQ_EMPTY;
    if (waiting > vq->num) {
        snprintf(err, errlen, "available index %u is %u entries ahead of %u (queue size %u)",
                 avail_idx, waiting, vq->last_avail, vq->num);
        vq->broken = true;
        return WGV_VQ_BROKEN;
    }
    vq->served = true;
    unsigned slot = vq->last_avail & (vq->num - 1);
    uint16_t head = *(volatile uint16_t *)(vq->avail + 4 + 2 * slot);
    vq->last_avail++;
    c->head = head;
    if (head >= vq->num) {
        snprintf(err, errlen, "head descriptor %u outside the queue of %u", head, vq->num);
        /* Not even a used entry can name it sensibly; return it as is. */
        return WGV_VQ_BAD_CHAIN;
    }
    size_t in_cap = 0, out_cap = 0;
    unsigned idx = head;
    bool writing = false;
    for (unsigned count = 0;; count++) {
        if (count >= vq->num)
            return bad(c, err, errlen, "chain longer than the queue (a loop?)", idx);
        struct desc d = read_desc(vq, idx);
        if (d.flags & DESC_F_INDIRECT)
            return bad(c, err, errlen, "indirect descriptor (not negotiated)", idx);
        if (d.len == 0)
            return bad(c, err, errlen, "zero length", idx);
        void *host = wgv_vu_mem_gpa(mem, d.addr, d.len);
        if (!host)
            return bad(c, err, errlen, "buffer outside guest RAM", idx);
        if (d.flags & DESC_F_WRITE) {
            writing = true;
            if (c->out_count == out_cap) {
                out_cap = out_cap ? out_cap * 2 : 4;
                struct wgv_iovec *o = realloc(c->out, out_cap * sizeof(*o));
                if (!o)
                    return bad(c, err, errlen, "out of memory", idx);
                c->out = o;
            }
            c->out[c->out_count++] = (struct wgv_iovec){host, d.len};
            c->out_len += d.len;
        } else {
            if (writing)
                return bad(c, err, errlen, "readable buffer after a writable one", idx);
            if (d.len > in_max - c->in_len)
                return bad(c, err, errlen, "request larger than the daemon accepts", idx);
            if (c->in_len + d.len > in_cap) {
                in_cap = (c->in_len + d.len) * 2;
                if (in_cap > in_max)
                    in_cap = in_max;
                uint8_t *in = realloc(c->in, in_cap);
                if (!in)
                    return bad(c, err, errlen, "out of memory", idx);
                c->in = in;
            }
            /* The one copy: everything after reads our private bytes. */
            memcpy(c->in + c->in_len, host, d.len);
            c->in_len += d.len;
        }
        if (!(d.flags & DESC_F_NEXT))
            break;
        if (d.next >= vq->num)
            return bad(c, err, errlen, "next index outside the queue", idx);
        idx = d.next;
    }
    return WGV_VQ_CHAIN;
}

size_t wgv_vq_write(const struct wgv_vq_chain *c, const void *data, size_t len)
{
    const uint8_t *src = data;
    size_t done = 0;
    for (unsigned i = 0; i < c->out_count && done < len; i++) {
        size_t n = c->out[i].len < len - done ? c->out[i].len : len - done;
        memcpy(c->out[i].base, src + done, n);
        done += n;
    }
    return done;
}

void wgv_vq_push(struct wgv_vq *vq, uint16_t head, uint32_t len)
{
    if (!vq->used)
        return;
    unsigned slot = vq->used_idx & (vq->num - 1);
    volatile uint8_t *e = vq->used + 4 + 8 * (size_t)slot;
    *(volatile uint32_t *)e = head;
    *(volatile uint32_t *)(e + 4) = len;
    vq->used_idx++;
    __atomic_store_n((uint16_t *)(uintptr_t)(vq->used + 2), vq->used_idx, __ATOMIC_RELEASE);
}

void wgv_vq_notify(struct wgv_vq *vq)
{
    if (vq->call_fd < 0 || !vq->avail)
        return;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    uint16_t flags = *(volatile uint16_t *)vq->avail;
    if (flags & AVAIL_F_NO_INTERRUPT)
        return;
    uint64_t one = 1;
    ssize_t n = write(vq->call_fd, &one, sizeof(one));
    (void)n;
}
