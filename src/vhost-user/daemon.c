/* The daemon's life (vu.h, "daemon.c"): the host library, the listening
 * socket, one front-end at a time, and the main loop that waits on the
 * front-end's socket, the queues' kick eventfds, QEMU's display socket and
 * the pumps' wake-ups. Everything but the pumps runs on this one thread. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "handshake.h"
#include "pump.h"
#include "vu.h"

static void vlog(const char *fmt, va_list ap)
{
    /* One write per line, so lines of several threads do not interleave. */
    char line[1024];
    int n = snprintf(line, sizeof(line), "vhost-user-webgpu: ");
    n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    if (n > (int)sizeof(line) - 2)
        n = (int)sizeof(line) - 2;
    line[n++] = '\n';
    fwrite(line, 1, (size_t)n, stderr);
}

void wgv_vu_log(const struct wgv_vu *vu, const char *fmt, ...)
{
    if (!vu->cfg.verbose)
        return;
    va_list ap;
    va_start(ap, fmt);
    vlog(fmt, ap);
    va_end(ap);
}

void wgv_vu_warn(const struct wgv_vu *vu, const char *fmt, ...)
{
    (void)vu;
    va_list ap;
    va_start(ap, fmt);
    vlog(fmt, ap);
    va_end(ap);
}

static void host_log(void *user, enum wgv_log_level level, const char *message)
{
    struct wgv_vu *vu = user;
    if (level <= WGV_LOG_WARN || vu->cfg.verbose)
        wgv_vu_warn(vu, "%s", message);
}

static void host_fence(void *user, uint32_t context_id, uint32_t ring, uint64_t fence_id)
{
    (void)context_id, (void)ring;
    wgv_vu_fence_retired(user, fence_id);
}

struct wgv_vu *wgv_vu_create(const struct wgv_vu_config *cfg, char *err, size_t errlen)
{
    struct wgv_vu *vu = calloc(1, sizeof(*vu));
    if (!vu) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    vu->cfg = *cfg;
    if (!vu->cfg.max_shm.cmd_ring)
        vu->cfg.max_shm.cmd_ring = WGV_HS_DEFAULT_MAX_RING;
    if (!vu->cfg.max_shm.reply_ring)
        vu->cfg.max_shm.reply_ring = WGV_HS_DEFAULT_MAX_RING;
    if (!vu->cfg.max_shm.bulk)
        vu->cfg.max_shm.bulk = WGV_HS_DEFAULT_MAX_BULK;
    if (!vu->cfg.max_contexts)
        vu->cfg.max_contexts = 64;
    if (!vu->cfg.max_resources)
        vu->cfg.max_resources = 65536;
    if (!vu->cfg.max_2d_bytes)
        vu->cfg.max_2d_bytes = 256ull << 20;
    vu->listen_fd = vu->conn_fd = -1;
    atomic_init(&vu->stop, false);
    pthread_mutex_init(&vu->done_lock, NULL);
    wgv_vu_display_init(&vu->display);
    for (unsigned i = 0; i < WGV_VU_QUEUES; i++)
        wgv_vq_init(&vu->vq[i]);
    vu->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (vu->wake_fd < 0) {
        snprintf(err, errlen, "eventfd: %s", strerror(errno));
        wgv_vu_destroy(vu);
        return NULL;
    }
    struct wgv_host_config hc = {
        .backend_path = cfg->backend_path,
        .force_backend = cfg->force_backend,
        .flags = cfg->force_backend ? WGV_HOST_ALLOW_NULL_ADAPTER : 0, /* --null */
        .policy = cfg->policy,
        .log = host_log,
        .fence_retired = host_fence,
        .user = vu,
    };
    vu->host = wgv_host_create(&hc, err, errlen);
    if (!vu->host) {
        wgv_vu_destroy(vu);
        return NULL;
    }
    vu->capset_len = wgv_host_capset(vu->host, vu->capset, sizeof(vu->capset));
    if (cfg->fd >= 0) {
        vu->conn_fd = cfg->fd;
        fcntl(vu->conn_fd, F_SETFD, FD_CLOEXEC);
    } else if (cfg->socket_path) {
        vu->listen_fd = wgv_handshake_listen(cfg->socket_path, 1, err, errlen);
        if (vu->listen_fd < 0) {
            wgv_vu_destroy(vu);
            return NULL;
        }
    }
    return vu;
}

void wgv_vu_reset_device(struct wgv_vu *vu, bool mem_too)
{
    /* Contexts first: their pumps read guest RAM until joined. */
    while (vu->nctxs)
        wgv_vu_ctx_destroy(vu, vu->ctxs[vu->nctxs - 1]);
    wgv_vu_reap_pumps(vu, true);
    wgv_vu_fences_drop(vu);
    wgv_vu_res_clear(vu);
    vu->bytes_2d = 0;
    if (!mem_too) {
        wgv_vu_display_scanout(&vu->display, 0, 0, NULL, 0);
        return;
    }
    for (unsigned i = 0; i < WGV_VU_QUEUES; i++) {
        struct wgv_vq *q = &vu->vq[i];
        if (q->kick_fd >= 0)
            close(q->kick_fd);
        if (q->call_fd >= 0)
            close(q->call_fd);
        if (q->err_fd >= 0)
            close(q->err_fd);
        wgv_vq_init(q);
    }
    wgv_vu_display_close(&vu->display);
    wgv_vu_mem_clear(&vu->mem);
    vu->acked_features = vu->acked_protocol = 0;
    vu->features_set = false;
}

static void drain_eventfd(int fd)
{
    uint64_t v;
    ssize_t n = read(fd, &v, sizeof(v));
    (void)n;
}

/* One round of the main loop with a front-end connected; false when it left. */
static bool serve_once(struct wgv_vu *vu)
{
    struct pollfd p[5];
    unsigned n = 0;
    p[n++] = (struct pollfd){vu->conn_fd, POLLIN, 0};
    p[n++] = (struct pollfd){vu->wake_fd, POLLIN, 0};
    int kick_slot[WGV_VU_QUEUES];
    for (unsigned i = 0; i < WGV_VU_QUEUES; i++) {
        kick_slot[i] = -1;
        if (vu->vq[i].kick_fd >= 0) {
            kick_slot[i] = (int)n;
            p[n++] = (struct pollfd){vu->vq[i].kick_fd, POLLIN, 0};
        }
    }
    int disp = -1;
    if (vu->display.fd >= 0) {
        disp = (int)n;
        p[n++] = (struct pollfd){vu->display.fd,
                                 (short)(POLLIN | (wgv_vu_display_wants_write(&vu->display) ? POLLOUT : 0)),
                                 0};
    }
    int r = poll(p, n, vu->queues_busy ? 0 : 250);
    if (r < 0 && errno != EINTR)
        return false;
    if (r < 0)
        r = 0;
    if (r && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
        if (wgv_vu_frontend_message(vu) != 0)
            return false;
    }
    if (p[1].revents & POLLIN)
        drain_eventfd(vu->wake_fd);
    for (unsigned i = 0; i < WGV_VU_QUEUES; i++)
        if (kick_slot[i] >= 0 && (p[kick_slot[i]].revents & POLLIN))
            drain_eventfd(vu->vq[i].kick_fd);
    /* Whatever woke us, look at both queues: cheap, and no kick is lost
     * across a queue restart. Answers that came are sent first: they make
     * room for requests held back while too many were owed. */
    wgv_vu_fences_flush(vu);
    bool busy = wgv_vu_process_ctrl(vu);
    busy |= wgv_vu_process_cursor(vu);
    vu->queues_busy = busy;
    wgv_vu_reap_pumps(vu, false);
    wgv_vu_fences_flush(vu);
    if (disp >= 0 && vu->display.fd >= 0 &&
        !wgv_vu_display_io(&vu->display, p[disp].revents & (POLLIN | POLLHUP | POLLERR),
                           p[disp].revents & POLLOUT))
        wgv_vu_log(vu, "display socket closed");
    else if (vu->display.fd >= 0 && wgv_vu_display_wants_write(&vu->display))
        wgv_vu_display_io(&vu->display, false, true);
    return true;
}

int wgv_vu_run(struct wgv_vu *vu)
{
    while (!atomic_load(&vu->stop)) {
        if (vu->conn_fd < 0) {
            if (vu->listen_fd < 0)
                break;
            struct pollfd p = {vu->listen_fd, POLLIN, 0};
            if (poll(&p, 1, 250) <= 0)
                continue;
            vu->conn_fd = accept4(vu->listen_fd, NULL, NULL, SOCK_CLOEXEC);
            if (vu->conn_fd < 0)
                continue;
            wgv_vu_log(vu, "front-end connected");
        }
        if (serve_once(vu))
            continue;
        wgv_vu_log(vu, "front-end left");
        wgv_vu_reset_device(vu, true);
        close(vu->conn_fd);
        vu->conn_fd = -1;
        if (vu->cfg.once || vu->listen_fd < 0)
            break;
    }
    return 0;
}

void wgv_vu_stop(struct wgv_vu *vu)
{
    atomic_store(&vu->stop, true);
}

void wgv_vu_destroy(struct wgv_vu *vu)
{
    if (!vu)
        return;
    wgv_vu_reset_device(vu, true);
    free(vu->ctxs);
    free(vu->done);
    if (vu->conn_fd >= 0)
        close(vu->conn_fd);
    if (vu->listen_fd >= 0) {
        close(vu->listen_fd);
        unlink(vu->cfg.socket_path);
    }
    if (vu->wake_fd >= 0)
        close(vu->wake_fd);
    wgv_host_destroy(vu->host);
    pthread_mutex_destroy(&vu->done_lock);
    free(vu);
}
