/* Isolated mode (docs/isolation.md): one worker process per guest.
 *
 * The parent loads the backend (wgv_host_create: the dlopen), listens,
 * accepts, forks, and then only tracks its workers: it reaps them, logs how
 * they ended, and runs the GPU watchdog over the status page each shares
 * with it. A worker closes everything of the parent's but its own socket,
 * does the handshake, creates the context (its own WebGPU instance),
 * confines itself (no_new_privs, an unprivileged uid, the seccomp filter)
 * and serves the rings like a connection thread does. A crash, a hang or a
 * compromise inside the backend costs that guest only. */
#include "server-internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "handshake.h"
#include "seccomp.h"

/* How long workers get to end after SIGTERM before SIGKILL, and then to be
 * reaped. */
#define WGV_WORKER_STOP_MS 5000
#define WGV_WORKER_REAP_MS 5000

struct wgv_worker {
    uint32_t id;
    pid_t pid;
    uid_t uid;     /* the guest's (SO_PEERCRED) */
    bool refusing; /* forked only to refuse the guest at the handshake */
    bool idle;     /* in the pool: no guest yet */
    int ctl;       /* idle: where its guest's socket is sent; else -1 */
    struct wgv_worker_status *status; /* shared with the worker */
    /* The watchdog's memory: the last values seen and since when. */
    uint64_t seen_calls;
    int64_t calls_since_ns;
    bool killed;
    struct wgv_worker *next;
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ------------------------------------------------------------- identity */

/* Groups that own the GPU's device nodes where "other" may not use them
 * (render, video): workers keep them, so that the adapter a guest asks for
 * after the drop can still be opened. Never group 0. */
static void add_device_groups(struct wgv_server *s, struct wgv_identity *id, const char *dir,
                              const char *prefix)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
            continue;
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISCHR(st.st_mode) || (st.st_mode & 0006) == 0006)
            continue;
        if (st.st_gid == 0 || (st.st_mode & 0060) != 0060) {
            wgv_server_warn(s, "%s (mode %03o, group %u) is not usable by workers running as "
                               "uid %u", path, (unsigned)(st.st_mode & 0777),
                            (unsigned)st.st_gid, (unsigned)id->uid);
            continue;
        }
        bool have = st.st_gid == id->gid;
        for (int i = 0; i < id->ngroups; i++)
            have |= id->groups[i] == st.st_gid;
        if (!have && id->ngroups < (int)(sizeof(id->groups) / sizeof(id->groups[0]))) {
            id->groups[id->ngroups++] = st.st_gid;
            wgv_server_log(s, "workers keep group %u for %s", (unsigned)st.st_gid, path);
        }
    }
    closedir(d);
}

bool wgv_isolate_prepare(struct wgv_server *s, char *err, size_t errlen)
{
    if (s->config.seccomp && !wgv_seccomp_available()) {
        snprintf(err, errlen, "--seccomp: system-call filters are not available here (kernel or "
                              "architecture); use --no-seccomp");
        return false;
    }
    /* Name service look-ups happen here, in the parent, once: a worker
     * never needs them. */
    struct wgv_identity *id = &s->identity;
    const char *name = s->config.user ? s->config.user : "nobody";
    if (geteuid() != 0) {
        if (s->config.user)
            wgv_server_warn(s, "--user %s: not running as root, workers keep uid %u", name,
                            (unsigned)geteuid());
        return true;
    }
    struct passwd *pw = getpwnam(name);
    if (!pw) {
        wgv_server_warn(s, "user %s does not exist: workers keep running as root", name);
        return true;
    }
    if (pw->pw_uid == 0) {
        wgv_server_warn(s, "user %s is root: workers keep running as root", name);
        return true;
    }
    id->drop = true;
    id->uid = pw->pw_uid;
    id->gid = pw->pw_gid;
    add_device_groups(s, id, "/dev/dri", "");
    add_device_groups(s, id, "/dev", "nvidia");
    add_device_groups(s, id, "/dev", "kfd");
    wgv_server_log(s, "workers run as %s (uid %u, gid %u)", name, (unsigned)id->uid,
                   (unsigned)id->gid);
    return true;
}

/* --------------------------------------------------------------- worker */

static struct wgv_server *worker_server;
static pid_t worker_parent;

static void worker_on_signal(int sig)
{
    (void)sig;
    if (worker_server)
        wgv_server_stop(worker_server);
}

/* Closes every descriptor but 0-2 and `keep`. */
static void close_others(int keep)
{
    if ((keep == 3 || syscall(SYS_close_range, 3u, (unsigned)keep - 1, 0u) == 0) &&
        syscall(SYS_close_range, (unsigned)keep + 1, ~0u, 0u) == 0)
        return;
    /* Kernels before 5.9: walk /proc/self/fd (collect first, then close). */
    int fds[1024], n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) && n < 1024) {
            int fd = atoi(e->d_name);
            if (fd > 2 && fd != keep && fd != dirfd(d))
                fds[n++] = fd;
        }
        closedir(d);
    }
    for (int i = 0; i < n; i++)
        close(fds[i]);
}

/* The hook wgv_server_serve calls once the context (its WebGPU instance)
 * exists and before the first guest command runs. The guest asks for its
 * adapter only later, so the Vulkan loader, the ICDs and the device nodes
 * are opened after this, as the unprivileged user and under the filter:
 * the device groups kept above and the allowlist are what make that work. */
static bool drop_privileges(struct wgv_server *s, char *why, size_t whylen)
{
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        snprintf(why, whylen, "worker: PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
        return false;
    }
    const struct wgv_identity *id = &s->identity;
    if (id->drop) {
        if (setgroups((size_t)id->ngroups, id->groups) != 0 ||
            setresgid(id->gid, id->gid, id->gid) != 0 || setresuid(id->uid, id->uid, id->uid) != 0) {
            snprintf(why, whylen, "worker: cannot switch to uid %u: %s", (unsigned)id->uid,
                     strerror(errno));
            return false;
        }
        uid_t r, e, sv;
        if (getresuid(&r, &e, &sv) != 0 || r != id->uid || e != id->uid || sv != id->uid ||
            setuid(0) == 0) {
            snprintf(why, whylen, "worker: the switch to uid %u did not hold", (unsigned)id->uid);
            return false;
        }
    }
    /* Changing credentials cleared the parent-death signal: set it again,
     * and end now if the parent went away in between. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0 || getppid() != worker_parent) {
        snprintf(why, whylen, "worker: the server is gone");
        return false;
    }
    return true;
}

/* The system-call filter, last (confine, or a pooled worker once its
 * guest's socket and shared memory are there). */
static bool install_filter(struct wgv_server *s, uint32_t cid, char *why, size_t whylen)
{
    if (s->config.seccomp &&
        !wgv_seccomp_install(s->config.seccomp_log ? WGV_SECCOMP_LOG : WGV_SECCOMP_ENFORCE, why,
                             whylen))
        return false;
    wgv_server_log(s, "context %u: worker confined (uid %u, no_new_privs, seccomp %s)", cid,
                   (unsigned)getuid(),
                   !s->config.seccomp ? "off" : s->config.seccomp_log ? "logging" : "on");
    return true;
}

static bool worker_confine(struct wgv_server *s, uint32_t cid, char *why, size_t whylen)
{
    return drop_privileges(s, why, whylen) && install_filter(s, cid, why, whylen);
}

/* What every worker does first: signals, nothing of the other guests or
 * the parent but descriptor `keep`, no disk shader cache. */
static void worker_setup(struct wgv_server *s, struct wgv_worker *self, int keep)
{
    worker_server = s;
    worker_parent = getppid();
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (getppid() != worker_parent)
        _exit(1);
    prctl(PR_SET_NAME, "wgv-worker", 0, 0, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = worker_on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    sa.sa_handler = SIG_DFL;
    sigaction(SIGCHLD, &sa, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    /* Nothing of the other guests: their status pages, the listener, any
     * descriptor the parent holds; no terminal input either. */
    for (struct wgv_worker *w = s->workers, *next; w; w = next) {
        next = w->next;
        if (w != self) {
            munmap(w->status, sizeof(*w->status));
            free(w);
        }
    }
    s->workers = NULL;
    s->listen_fd = -1;
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null >= 0 && null != 0) {
        dup2(null, 0);
        close(null);
    }
    close_others(keep);
    /* No shader cache on disk: the files would be shared by every worker
     * of the user, and one compromised worker could plant machine code for
     * another guest's shader (Mesa; the NVIDIA driver). */
    setenv("MESA_SHADER_CACHE_DISABLE", "true", 1);
    setenv("__GL_SHADER_DISK_CACHE", "0", 1);
}

static void __attribute__((noreturn)) worker_main(struct wgv_server *s, struct wgv_worker *self,
                                                  int sock, const char *refuse)
{
    worker_setup(s, self, sock);
    struct wgv_serve_hooks hooks = {
        .status = self->status,
        .confine = worker_confine,
        .refuse = refuse[0] ? refuse : NULL,
    };
    wgv_server_serve(s, sock, self->id, &hooks);
    /* No exit handlers: they belong to the parent (and the backend's static
     * destructors have nothing left to do for a process that ends). */
    _exit(0);
}

static bool pool_confine(struct wgv_server *s, uint32_t cid, char *why, size_t whylen)
{
    return install_filter(s, cid, why, whylen);
}

/* What the parent sends a pooled worker with its guest's socket. */
struct pool_handoff {
    uint32_t id;
};

/* Receives the guest's socket from the parent; -1 if the parent is gone
 * or sent something else. */
static int pool_receive(struct wgv_server *s, int ctl, uint32_t *id)
{
    struct pool_handoff h;
    struct iovec iov = {&h, sizeof(h)};
    union wgv_fd_control u;
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                         .msg_controllen = sizeof(u.buf)};
    ssize_t n;
    do
        n = recvmsg(ctl, &msg, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR && !atomic_load(&s->stop));
    struct cmsghdr *c = n == (ssize_t)sizeof(h) ? CMSG_FIRSTHDR(&msg) : NULL;
    if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
        c->cmsg_len != CMSG_LEN(sizeof(int)))
        return -1;
    int fd;
    memcpy(&fd, CMSG_DATA(c), sizeof(fd));
    *id = h.id;
    return fd;
}

/* A pooled worker: confined but for the filter (and with --pool-warm its
 * instance and driver started), it waits for a guest; then it serves it as
 * any worker, the filter going on once the guest's shared memory is there
 * (the handshake sends it, which the filter forbids). */
static void __attribute__((noreturn)) pool_worker_main(struct wgv_server *s,
                                                       struct wgv_worker *self, int ctl)
{
    worker_setup(s, self, ctl);
    char why[256];
    if (!drop_privileges(s, why, sizeof(why))) {
        wgv_server_warn(s, "pooled worker %d: %s", (int)getpid(), why);
        _exit(1);
    }
    struct wgv_warm_instance *warm = s->config.pool_warm ? wgv_host_warm_instance(s->host) : NULL;
    uint32_t id = 0;
    int sock = pool_receive(s, ctl, &id);
    close(ctl);
    if (sock < 0) {
        wgv_warm_instance_free(s->host, warm);
        _exit(0);
    }
    struct wgv_serve_hooks hooks = {
        .status = self->status,
        .confine = pool_confine,
        .warm = warm,
    };
    wgv_server_serve(s, sock, id, &hooks);
    _exit(0);
}

/* --------------------------------------------------------------- parent */

static struct wgv_worker *worker_new(struct wgv_server *s)
{
    struct wgv_worker *w = calloc(1, sizeof(*w));
    void *page = mmap(NULL, sizeof(struct wgv_worker_status), PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (!w || page == MAP_FAILED) {
        wgv_server_warn(s, "cannot start a worker: out of memory");
        free(w);
        if (page != MAP_FAILED)
            munmap(page, sizeof(struct wgv_worker_status));
        return NULL;
    }
    w->status = page;
    w->ctl = -1;
    return w;
}

static void worker_free(struct wgv_worker *w)
{
    if (w->ctl >= 0)
        close(w->ctl);
    munmap(w->status, sizeof(*w->status));
    free(w);
}

/* Forks one worker into the pool. */
static void prefork(struct wgv_server *s)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
        wgv_server_warn(s, "cannot start a pooled worker: %s", strerror(errno));
        return;
    }
    struct wgv_worker *w = worker_new(s);
    if (!w) {
        close(sv[0]);
        close(sv[1]);
        return;
    }
    w->idle = true;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(sv[0]);
        pool_worker_main(s, w, sv[1]);
    }
    close(sv[1]);
    if (pid < 0) {
        wgv_server_warn(s, "cannot start a pooled worker: %s", strerror(errno));
        close(sv[0]);
        worker_free(w);
        return;
    }
    w->pid = pid;
    w->ctl = sv[0];
    w->calls_since_ns = now_ns();
    w->next = s->workers;
    s->workers = w;
    wgv_server_log(s, "pool: worker %d ready", (int)pid);
}

static unsigned idle_workers(const struct wgv_server *s)
{
    unsigned n = 0;
    for (const struct wgv_worker *w = s->workers; w; w = w->next)
        n += w->idle && !w->killed;
    return n;
}

/* Keeps config.pool workers ready, or as many as guests may still come. */
static void top_up(struct wgv_server *s, unsigned accepted)
{
    unsigned want = s->config.pool;
    if (s->config.max_connections && s->config.max_connections - accepted < want)
        want = s->config.max_connections - accepted;
    for (unsigned n = idle_workers(s); n < want; n++)
        prefork(s);
}

/* Gives the guest on `sock` to an idle worker; false if none took it. */
static bool hand_off(struct wgv_server *s, int sock, uid_t uid)
{
    for (struct wgv_worker *w = s->workers; w; w = w->next) {
        if (!w->idle || w->ctl < 0)
            continue;
        struct pool_handoff h = {s->next_id + 1};
        struct iovec iov = {&h, sizeof(h)};
        union wgv_fd_control ctl;
        struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
        wgv_msg_attach_fd(&msg, &ctl, sock);
        bool sent = sendmsg(w->ctl, &msg, MSG_NOSIGNAL) == (ssize_t)sizeof(h);
        close(w->ctl);
        w->ctl = -1;
        if (!sent) {
            /* It died waiting: it is no longer in the pool. */
            kill(w->pid, SIGKILL);
            w->killed = true;
            continue;
        }
        w->idle = false;
        w->id = ++s->next_id;
        w->uid = uid;
        w->calls_since_ns = now_ns();
        close(sock);
        wgv_server_log(s, "context %u: taken by a pooled worker", w->id);
        wgv_server_log(s, "context %u: worker pid %d", w->id, (int)w->pid);
        return true;
    }
    return false;
}

/* Forks the worker for a guest just accepted: one that serves it, or,
 * when the server will not serve it, one that only answers its HELLO with
 * REFUSE (the parent reads no guest bytes). */
static void spawn(struct wgv_server *s, int sock)
{
    uid_t uid = 0;
    bool known = wgv_server_peer_uid(sock, &uid);
    unsigned serving = 0, refusing = 0;
    for (struct wgv_worker *o = s->workers; o; o = o->next) {
        serving += !o->refusing && !o->idle && o->uid == uid;
        refusing += o->refusing;
    }
    char refuse[WGV_HS_REASON_MAX];
    wgv_server_admit(s, known, uid, serving, refuse, sizeof(refuse));
    if (refuse[0] && refusing >= WGV_REFUSING_MAX) {
        wgv_server_warn(s, "connection %u refused: %s (hung up: %u refusals in progress)",
                        ++s->next_id, refuse, refusing);
        close(sock);
        return;
    }
    if (!refuse[0] && hand_off(s, sock, uid))
        return;
    struct wgv_worker *w = worker_new(s);
    if (!w) {
        close(sock);
        return;
    }
    w->id = ++s->next_id;
    w->uid = uid;
    w->refusing = refuse[0] != 0;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
        worker_main(s, w, sock, refuse);
    close(sock); /* the worker's now: its death must hang the guest's end up */
    if (pid < 0) {
        wgv_server_warn(s, "context %u: cannot start a worker: %s", w->id, strerror(errno));
        worker_free(w);
        return;
    }
    w->pid = pid;
    w->calls_since_ns = now_ns();
    w->next = s->workers;
    s->workers = w;
    wgv_server_log(s, "context %u: worker pid %d", w->id, (int)pid);
}

/* Reaps workers that ended (blocking for at most timeout_ms while any is
 * left) and says how each ended. Only our own pids: an embedder's other
 * children are not ours to reap. */
static void reap(struct wgv_server *s, int timeout_ms)
{
    int64_t deadline = now_ns() + (int64_t)timeout_ms * 1000000;
    for (;;) {
        for (struct wgv_worker **l = &s->workers; *l;) {
            struct wgv_worker *w = *l;
            int st;
            pid_t r = waitpid(w->pid, &st, WNOHANG);
            if (r == 0 || (r < 0 && errno == EINTR)) {
                l = &w->next;
                continue;
            }
            if (w->idle) {
                if (!w->killed && !atomic_load(&s->stop))
                    wgv_server_warn(s, "pooled worker %d ended before any guest came",
                                    (int)w->pid);
            } else if (r == w->pid && WIFSIGNALED(st))
                wgv_server_warn(s, "context %u: worker ended by signal %d (%s)%s", w->id,
                                WTERMSIG(st), strsignal(WTERMSIG(st)),
                                WTERMSIG(st) == SIGSYS ? ": a system call outside the seccomp "
                                                         "allowlist (docs/isolation.md)" : "");
            else if (r == w->pid && WEXITSTATUS(st) != 0)
                wgv_server_warn(s, "context %u: worker exited with status %d", w->id,
                                WEXITSTATUS(st));
            else
                wgv_server_log(s, "context %u: worker ended", w->id);
            *l = w->next;
            worker_free(w);
        }
        if (!s->workers || now_ns() >= deadline)
            return;
        usleep(10000);
    }
}

/* The GPU watchdog: a worker stuck inside one backend call, or owing the
 * guest a callback asked for longer than --watchdog seconds ago, is
 * killed; its guest sees the connection close. */
static void watchdog(struct wgv_server *s)
{
    if (!s->config.watchdog_s)
        return;
    int64_t now = now_ns(), limit = (int64_t)s->config.watchdog_s * 1000000000;
    for (struct wgv_worker *w = s->workers; w; w = w->next) {
        uint64_t calls = atomic_load_explicit(&w->status->calls, memory_order_acquire);
        int64_t oldest = atomic_load_explicit(&w->status->oldest_since_ns, memory_order_relaxed);
        uint32_t pending = atomic_load_explicit(&w->status->pending, memory_order_relaxed);
        if (calls != w->seen_calls) {
            w->seen_calls = calls;
            w->calls_since_ns = now;
        }
        if (w->killed)
            continue;
        const char *what = NULL;
        if ((calls & 1) && now - w->calls_since_ns > limit)
            what = "a backend call has not returned";
        else if (oldest && now - oldest > limit)
            what = "a callback the GPU owes has not come";
        if (!what)
            continue;
        wgv_server_warn(s, "context %u: watchdog: %s for %u s (%u callbacks pending); "
                           "killing worker %d", w->id, what, s->config.watchdog_s, pending,
                        (int)w->pid);
        kill(w->pid, SIGKILL);
        w->killed = true;
    }
}

int wgv_isolate_run(struct wgv_server *s)
{
    unsigned accepted = 0;
    while (!atomic_load(&s->stop)) {
        bool accepting = !s->config.max_connections || accepted < s->config.max_connections;
        if (accepting)
            top_up(s, accepted);
        if (!accepting && idle_workers(s)) {
            /* No guest will come for them. */
            for (struct wgv_worker *w = s->workers; w; w = w->next)
                if (w->idle && !w->killed) {
                    kill(w->pid, SIGTERM);
                    w->killed = true;
                }
        }
        if (!accepting && !s->workers)
            break;
        struct pollfd p = {accepting ? s->listen_fd : -1, POLLIN, 0};
        int r = poll(&p, 1, 100);
        reap(s, 0);
        watchdog(s);
        if (r <= 0 || !(p.revents & POLLIN))
            continue;
        int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        spawn(s, fd);
        accepted++;
    }
    wgv_isolate_stop_all(s);
    return 0;
}

void wgv_isolate_stop_all(struct wgv_server *s)
{
    if (!s->workers)
        return;
    for (struct wgv_worker *w = s->workers; w; w = w->next)
        kill(w->pid, SIGTERM);
    reap(s, WGV_WORKER_STOP_MS);
    for (struct wgv_worker *w = s->workers; w; w = w->next) {
        wgv_server_warn(s, "context %u: worker %d did not end within %d ms of SIGTERM; killing it",
                        w->id, (int)w->pid, WGV_WORKER_STOP_MS);
        kill(w->pid, SIGKILL);
    }
    reap(s, WGV_WORKER_REAP_MS);
    /* Stuck in the kernel (a driver call that ignores SIGKILL): leave it to
     * init rather than wait forever. */
    while (s->workers) {
        struct wgv_worker *w = s->workers;
        wgv_server_warn(s, "context %u: worker %d is still not gone", w->id, (int)w->pid);
        s->workers = w->next;
        worker_free(w);
    }
}
