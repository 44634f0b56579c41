/* The socket + shared-memory transport to wgv-server: commands go into the
 * command ring, replies come from the reply ring, bulk data sits in the
 * shared bulk area. The socket only carries the handshake and tells each
 * side when the other is gone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guest.h"
#include "handshake.h"
#include "ring.h"
#include "shm.h"
#include "wgv-wire-ids.h"

struct socket_transport {
    struct wgv_transport base;
    struct wgv_conn conn;
    struct wgv_ring cmd, reply;
};

#define S(t) ((struct socket_transport *)(t))

static void *st_reserve(struct wgv_transport *t, size_t len)
{
    int status;
    void *dst;
    /* A full ring waits for the host, reading its replies meanwhile and
     * checking now and then that it is there. */
    while (!(dst = wgv_ring_reserve(&S(t)->cmd, (uint32_t)len, 1000 * 1000, &status))) {
        if (status != WGV_RING_TIMEOUT || wgv_peer_wait(S(t)->conn.sock, 0) != WGV_PEER_ALIVE) {
            wgv_ring_mark_dead(&S(t)->cmd);
            return NULL;
        }
        if (t->waiting)
            t->waiting(t->waiting_user);
    }
    return dst;
}

static bool st_commit(struct wgv_transport *t, size_t len)
{
    wgv_ring_commit(&S(t)->cmd, (uint32_t)len);
    /* Commands are published a batch at a time (one store to the shared
     * position, one cache-line transfer, per batch) and by flush, which
     * the client calls at every submit and before every wait; the doorbell
     * syscall happens only when the host has gone idle. */
    wgv_ring_publish_batched(&S(t)->cmd, WGV_RING_PUBLISH_BATCH);
    return true;
}

static void st_flush(struct wgv_transport *t)
{
    wgv_ring_publish(&S(t)->cmd);
}

static long st_recv(struct wgv_transport *t, void *buf, size_t cap)
{
    ssize_t n = wgv_ring_read(&S(t)->reply, buf, cap);
    if (n >= 0)
        return (long)n;
    if (n == WGV_RING_EMPTY) {
        /* Nothing there: is the host still alive? */
        if (wgv_peer_wait(S(t)->conn.sock, 0) == WGV_PEER_GONE)
            return -1;
        return 0;
    }
    return -1;
}

static uint64_t st_wait_point(struct wgv_transport *t)
{
    return wgv_ring_wait_point(&S(t)->reply);
}

static void st_wait(struct wgv_transport *t, uint64_t point, int64_t timeout_ns)
{
    /* Wake up now and then to notice a dead host. */
    int64_t slice = 100 * 1000 * 1000;
    wgv_ring_wait_past(&S(t)->reply, point,
                       timeout_ns < 0 || timeout_ns > slice ? slice : timeout_ns);
}

static uint64_t st_produced(struct wgv_transport *t)
{
    return S(t)->cmd.prod;
}

static uint64_t st_consumed(struct wgv_transport *t)
{
    return atomic_load_explicit(&S(t)->cmd.shared->tail, memory_order_acquire);
}

static void st_destroy(struct wgv_transport *t)
{
    wgv_conn_close(&S(t)->conn);
    free(t);
}

struct wgv_transport *wgv_transport_socket_open(const char *path, char *err, size_t errlen)
{
    struct socket_transport *t = calloc(1, sizeof(*t));
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (wgv_handshake_connect(path, WGV_PROTOCOL_VERSION, NULL, 5000, &t->conn, err, errlen) < 0) {
        free(t);
        return NULL;
    }
    if (wgv_shm_cmd_ring(&t->conn.shm, &t->cmd) < 0 || wgv_shm_reply_ring(&t->conn.shm, &t->reply) < 0) {
        snprintf(err, errlen, "the host's shared memory has no usable rings");
        wgv_conn_close(&t->conn);
        free(t);
        return NULL;
    }
    t->base = (struct wgv_transport){
        .name = "socket",
        .reserve = st_reserve,
        .commit = st_commit,
        .flush = st_flush,
        .recv = st_recv,
        .wait_point = st_wait_point,
        .wait = st_wait,
        .produced = st_produced,
        .consumed = st_consumed,
        .destroy = st_destroy,
        .bulk = wgv_shm_bulk(&t->conn.shm),
        .bulk_size = t->conn.shm.sizes.bulk,
        .record_max = wgv_ring_max_record(&t->cmd),
    };
    return &t->base;
}
