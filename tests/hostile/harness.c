/* The hostile suite's harness: the server under test, well-behaved guests,
 * and a raw guest speaking the wire protocol directly (hostile.h). */
#include "hostile.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct server srv;
char sock_path[256];

/* ------------------------------------------------------------ reporting */

static char why[2048];

void fail(const char *fmt, ...)
{
    if (why[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    if (!why[0])
        snprintf(why, sizeof(why), "failed");
}

bool failed(void)
{
    return why[0] != 0;
}

const char *fail_reason(void)
{
    return why;
}

void fail_reset(void)
{
    why[0] = 0;
}

int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* ------------------------------------------------------------ the log */

char *read_all(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = 0;
    if (len)
        *len = n;
    return buf;
}

bool server_gone(void)
{
    if (srv.dead)
        return true;
    int st;
    if (waitpid(srv.pid, &st, WNOHANG) == srv.pid) {
        srv.dead = true;
        srv.status = st;
    }
    return srv.dead;
}

bool log_has(const char *needle)
{
    char *log = read_all(srv.log, NULL);
    bool found = log && strstr(log, needle);
    free(log);
    return found;
}

/* Copies the line around position p. */
static void copy_line(const char *start, const char *p, char *line, size_t cap)
{
    while (p > start && p[-1] != '\n')
        p--;
    const char *e = strchr(p, '\n');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    if (n >= cap)
        n = cap - 1;
    memcpy(line, p, n);
    line[n] = 0;
}

bool wait_ctx_end(unsigned id, int timeout_ms, char *line, size_t cap)
{
    char k1[64], k2[64], k3[64];
    snprintf(k1, sizeof(k1), "wgv-server: context %u ended: ", id);
    snprintf(k2, sizeof(k2), "wgv-server: context %u: guest left with ", id);
    snprintf(k3, sizeof(k3), "wgv-server: connection %u refused: ", id);
    int64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        char *log = read_all(srv.log, NULL);
        const char *p = NULL;
        if (log && !(p = strstr(log, k1)) && !(p = strstr(log, k2)))
            p = strstr(log, k3);
        if (p) {
            if (line)
                copy_line(log, p, line, cap);
            free(log);
            return true;
        }
        free(log);
        if (now_ms() > deadline || server_gone())
            return false;
        sleep_ms(20);
    }
}

/* ------------------------------------------------------------ programs */

/* Child side of a spawned program: stdio redirected, nothing inherited. */
static void child_exec(const char *exe, char *const argv[], const char *out_path,
                       const char *err_path)
{
    int nul = open("/dev/null", O_RDWR);
    int out = out_path ? open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644) : nul;
    int err = err_path ? open(err_path, O_WRONLY | O_CREAT | O_APPEND, 0644) : nul;
    if (nul < 0 || out < 0 || err < 0)
        _exit(126);
    dup2(nul, 0);
    dup2(out, 1);
    dup2(err, 2);
    /* Nothing of ours may keep a connection of ours open in the child. */
    for (int fd = 3; fd < 4096; fd++)
        close(fd);
    signal(SIGPIPE, SIG_DFL);
    execv(exe, argv);
    _exit(127);
}

pid_t spawn(const char *exe, char *const argv[], const char *out_path, const char *err_path)
{
    pid_t pid = fork();
    if (pid == 0)
        child_exec(exe, argv, out_path, err_path);
    return pid;
}

/* waitpid with a deadline; kills the child when it runs out. Returns the
 * wait status, or -1 on timeout. */
int wait_child(pid_t pid, int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return st;
        if (r < 0)
            return -1;
        if (now_ms() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            return -1;
        }
        sleep_ms(5);
    }
}

static unsigned good_seq;

bool good_start(struct good *g, bool know_id)
{
    memset(g, 0, sizeof(*g));
    snprintf(g->out, sizeof(g->out), "%s/good.%u.out", tmpdir, ++good_seq);
    char errp[600];
    snprintf(errp, sizeof(errp), "%s/good.err", tmpdir);
    char *argv[] = {(char *)good_exe, NULL};
    g->pid = spawn(good_exe, argv, g->out, errp);
    srv.conns++;
    g->id = know_id ? srv.conns : 0;
    return g->pid > 0;
}

void good_finish(struct good *g, const char *when)
{
    int st = wait_child(g->pid, 180000);
    char *out = read_all(g->out, NULL);
    if (st == -1)
        fail("well-behaved guest %s did not finish in 180 s", when);
    else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail("well-behaved guest %s: %s %d", when, WIFEXITED(st) ? "exit" : "signal",
             WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
    else if (!out || strcmp(out, native_out) != 0)
        fail("well-behaved guest %s: transcript differs from native: %.200s", when,
             out ? out : "(none)");
    free(out);
    unlink(g->out);
    if (g->id && !failed()) {
        char line[512], want[96];
        snprintf(want, sizeof(want), "context %u: guest left with 0 live objects", g->id);
        if (!wait_ctx_end(g->id, 10000, line, sizeof(line)))
            fail("well-behaved guest %s: no end of context %u in the log", when, g->id);
        else if (!strstr(line, want))
            fail("well-behaved guest %s: log says \"%s\"", when, line);
    }
}

int run_program(const char *exe, int timeout_ms, char **out)
{
    char outp[600], errp[600];
    snprintf(outp, sizeof(outp), "%s/prog.out", tmpdir);
    snprintf(errp, sizeof(errp), "%s/prog.err", tmpdir);
    char *argv[] = {(char *)exe, NULL};
    pid_t pid = spawn(exe, argv, outp, errp);
    srv.conns++;
    int st = wait_child(pid, timeout_ms);
    *out = read_all(outp, NULL);
    if (!*out)
        *out = strdup("");
    if (st == -1)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ------------------------------------------------------------ raw guest */

static uint64_t enc_object(void *user, uint16_t type, const void *native)
{
    (void)user, (void)type;
    return (uint64_t)(uintptr_t)native;
}

static const struct wgv_codec_ops enc_ops = {.object_to_wire = enc_object};

bool g_open(struct gconn *g, const struct wgv_shm_sizes *sizes)
{
    memset(g, 0, sizeof(*g));
    char err[300];
    int rc = wgv_handshake_connect(sock_path, WGV_PROTOCOL_VERSION, sizes, 5000, &g->conn, err,
                                   sizeof(err));
    srv.conns++;
    g->id = srv.conns;
    if (rc < 0) {
        fail("handshake failed: %s", err);
        return false;
    }
    if (wgv_shm_cmd_ring(&g->conn.shm, &g->cmd) < 0 ||
        wgv_shm_reply_ring(&g->conn.shm, &g->reply) < 0) {
        fail("cannot attach the rings");
        wgv_conn_close(&g->conn);
        return false;
    }
    g->rbuf = malloc(WGV_MESSAGE_MAX);
    g->open = true;
    g->next_future = 1;
    g->next_buffer = 1;
    return true;
}

void g_close(struct gconn *g)
{
    if (!g->open)
        return;
    wgv_conn_close(&g->conn);
    free(g->rbuf);
    g->rbuf = NULL;
    g->open = false;
}

void g_pump(struct gconn *g)
{
    if (!g->open)
        return;
    for (;;) {
        ssize_t n = wgv_ring_read(&g->reply, g->rbuf, WGV_MESSAGE_MAX);
        if (n < (ssize_t)sizeof(struct wgv_reply_header))
            return;
        struct wgv_reply_header h;
        memcpy(&h, g->rbuf, sizeof(h));
        if (h.kind == WGV_REPLY_CALLBACK && g->ncb < sizeof(g->cbs) / sizeof(g->cbs[0])) {
            struct cbrec *c = &g->cbs[g->ncb++];
            c->key = h.key;
            c->callback = h.callback;
            c->w0 = n >= 20 ? *(uint32_t *)(g->rbuf + 16) : 0;
            c->w1 = n >= 24 ? *(uint32_t *)(g->rbuf + 20) : 0;
        } else if (h.kind == WGV_REPLY_CONTEXT_LOST && n >= 24) {
            uint64_t len;
            memcpy(&len, g->rbuf + 16, 8);
            if (len > (uint64_t)n - 24)
                len = (uint64_t)n - 24;
            if (len >= sizeof(g->lost_reason))
                len = sizeof(g->lost_reason) - 1;
            memcpy(g->lost_reason, g->rbuf + 24, len);
            g->lost_reason[len] = 0;
            g->lost = true;
        }
    }
}

const struct cbrec *g_wait_cb(struct gconn *g, uint64_t key, int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        g_pump(g);
        for (unsigned i = 0; i < g->ncb; i++)
            if (g->cbs[i].key == key)
                return &g->cbs[i];
        if (g->lost || now_ms() > deadline)
            return NULL;
        if (wgv_peer_wait(g->conn.sock, 0) != WGV_PEER_ALIVE) {
            /* The host closed the connection: nothing more will come. */
            g_pump(g);
            for (unsigned i = 0; i < g->ncb; i++)
                if (g->cbs[i].key == key)
                    return &g->cbs[i];
            return NULL;
        }
        struct timespec ts = {0, 200 * 1000};
        nanosleep(&ts, NULL);
    }
}

void g_encode(unsigned op, const void *args, struct wgv_writer *w)
{
    struct wgv_cmd_header h = {0, (uint16_t)op, 0};
    size_t start = w->len;
    wgv_writer_put(w, &h, sizeof(h));
    wgv_encode(&wgv_guest_abi, &enc_ops, wgv_command_shape[op], args, w);
    wgv_writer_align(w, 8);
    h.size = (uint32_t)(w->len - start);
    memcpy(w->data + start, &h, sizeof(h));
}

bool g_push(struct gconn *g, const void *bytes, size_t len)
{
    int st;
    void *dst = wgv_ring_reserve(&g->cmd, (uint32_t)len, 2000ll * 1000 * 1000, &st);
    if (!dst)
        return false;
    memcpy(dst, bytes, len);
    wgv_ring_commit(&g->cmd, (uint32_t)len);
    wgv_ring_publish(&g->cmd);
    return true;
}

bool g_send(struct gconn *g, unsigned op, const void *args)
{
    struct wgv_writer w;
    wgv_writer_init(&w);
    g_encode(op, args, &w);
    bool ok = !w.failed && g_push(g, w.data, w.len);
    wgv_writer_free(&w);
    return ok;
}

void g_poke(struct gconn *g, const void *bytes, size_t len, uint64_t advance)
{
    uint32_t off = (uint32_t)(g->cmd.prod & (g->cmd.size - 1));
    if (len > g->cmd.size - off)
        len = g->cmd.size - off;
    memcpy(g->cmd.data + off, bytes, len);
    g->cmd.prod += advance;
    wgv_ring_publish(&g->cmd);
}

void g_release(struct gconn *g, unsigned type, uint64_t handle)
{
    struct wgv_ga_wgvRelease r = {type, handle};
    g_send(g, WGV_OP_wgvRelease, &r);
}

bool g_create_buffer(struct gconn *g, uint32_t id, uint32_t gen, uint64_t size,
                     WGPUBufferUsage usage, bool mapped)
{
    WGPUBufferDescriptor d = WGPU_BUFFER_DESCRIPTOR_INIT;
    d.size = size;
    d.usage = usage;
    d.mappedAtCreation = mapped;
    struct wgv_ga_wgpuDeviceCreateBuffer a = {OBJ(WGPUDevice, 1), &d,
                                              OBJG(WGPUBuffer, id, gen)};
    return g_send(g, WGV_OP_wgpuDeviceCreateBuffer, &a);
}

bool g_device(struct gconn *g)
{
    struct wgv_ga_wgpuInstanceRequestAdapter ra = {OBJ(WGPUInstance, 1), NULL, 1,
                                                   OBJ(WGPUAdapter, 1)};
    struct wgv_ga_wgpuAdapterRequestDevice rd = {
        OBJ(WGPUAdapter, 1), NULL, 2, OBJ(WGPUDevice, 1), OBJ(WGPUQueue, 1), 3, 4};
    g->next_future = 5;
    const struct cbrec *c;
    if (!g_send(g, WGV_OP_wgpuInstanceRequestAdapter, &ra) || !(c = g_wait_cb(g, 1, 10000))) {
        fail("no adapter for the attacker%s%s", g->lost ? ": " : "", g->lost_reason);
        return false;
    }
    if (c->w0 != 0) {
        fail("adapter request failed (status %u)", c->w0);
        return false;
    }
    if (!g_send(g, WGV_OP_wgpuAdapterRequestDevice, &rd) || !(c = g_wait_cb(g, 2, 10000))) {
        fail("no device for the attacker%s%s", g->lost ? ": " : "", g->lost_reason);
        return false;
    }
    if (c->w0 != 0) {
        fail("device request failed (status %u)", c->w0);
        return false;
    }
    return true;
}

bool g_roundtrip(struct gconn *g)
{
    uint64_t f = g->next_future++;
    struct wgv_ga_wgpuQueueOnSubmittedWorkDone a = {OBJ(WGPUQueue, 1), f};
    if (!g_send(g, WGV_OP_wgpuQueueOnSubmittedWorkDone, &a))
        return false;
    const struct cbrec *c = g_wait_cb(g, f, 10000);
    return c && c->callback == WGV_CB_QueueWorkDoneCallback && c->w0 == 0;
}

bool g_drain(struct gconn *g, int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;
    while (atomic_load(&g->cmd.shared->tail) != g->cmd.prod) {
        if (now_ms() > deadline || wgv_peer_wait(g->conn.sock, 0) != WGV_PEER_ALIVE)
            return false;
        sleep_ms(1);
    }
    return true;
}

void expect_lost(struct gconn *g, const char *what, bool check_reply)
{
    int64_t deadline = now_ms() + 8000;
    bool gone = false;
    while (now_ms() < deadline) {
        g_pump(g);
        if (wgv_peer_wait(g->conn.sock, 0) == WGV_PEER_GONE) {
            gone = true;
            g_pump(g);
            break;
        }
        sleep_ms(2);
    }
    if (!gone)
        fail("the host did not end the attacker's context within 8 s");
    if (check_reply) {
        if (!g->lost)
            fail("no context-lost reply for the attacker");
        else if (what && !strstr(g->lost_reason, what))
            fail("context-lost reason \"%s\" does not name \"%s\"", g->lost_reason, what);
    }
    char line[600];
    if (!wait_ctx_end(g->id, 5000, line, sizeof(line)))
        fail("the log has no end of context %u", g->id);
    else if (!strstr(line, " ended: "))
        fail("the log does not say context %u ended for a reason: \"%s\"", g->id, line);
    else if (what && !strstr(line, what))
        fail("the log's reason \"%s\" does not name \"%s\"", line, what);
    g_close(g);
}

void expect_alive_and_leave(struct gconn *g, uint32_t extra_buffers)
{
    if (!g_roundtrip(g))
        fail("the attacker's context stopped serving%s%s", g->lost ? ": " : "",
             g->lost_reason);
    for (uint32_t i = 1; i <= extra_buffers; i++)
        g_release(g, WGV_OBJ_Buffer, H(i, 1));
    g_release(g, WGV_OBJ_Queue, H(1, 1));
    g_release(g, WGV_OBJ_Device, H(1, 1));
    g_release(g, WGV_OBJ_Adapter, H(1, 1));
    /* The releases are consumed before the guest goes. */
    g_drain(g, 5000);
    unsigned id = g->id;
    g_close(g);
    char line[600];
    char want[96];
    snprintf(want, sizeof(want), "context %u: guest left with 0 live objects", id);
    if (!wait_ctx_end(id, 10000, line, sizeof(line)))
        fail("the log has no end of context %u", id);
    else if (!strstr(line, want))
        fail("the attacker's tidy exit: log says \"%s\"", line);
}
