/* What server.c (the listener, thread mode, the serving loop) and isolate.c
 * (worker processes, docs/isolation.md) share. Private to src/server. */
#ifndef WGV_SERVER_INTERNAL_H
#define WGV_SERVER_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "server.h"

/* A guest's serving loop as the watchdog sees it. Isolated: in one page
 * shared by a worker and the parent (created before the fork); the worker
 * writes, the parent only reads, and a worker that lies about itself can
 * only fool its own watchdog. Thread mode: in the connection's record,
 * written by its thread and read by the accept loop. */
struct wgv_worker_status {
    /* Odd while the worker is inside a backend call (running commands,
     * polling for callbacks, creating or destroying the context); bumped on
     * every entry and exit, so a stuck call leaves it odd and unchanged. */
    _Atomic uint64_t calls;
    /* When (CLOCK_MONOTONIC ns) the oldest callback the backend still owes
     * was asked for; 0 when it owes none. Per callback, so work that
     * finishes on one device cannot hide work hung on another. */
    _Atomic int64_t oldest_since_ns;
    /* Callbacks the backend still owes (wgv_context_poll's answer). */
    _Atomic uint32_t pending;
};

/* Who isolated workers become (resolved once, in the parent, at start). */
struct wgv_identity {
    bool drop;        /* switch to uid/gid after the context exists */
    uid_t uid;
    gid_t gid;
    int ngroups;      /* supplementary groups: the GPU device nodes' */
    gid_t groups[16];
};

struct wgv_worker;

struct wgv_server {
    struct wgv_server_config config;
    struct wgv_host *host;
    int listen_fd;
    atomic_bool stop;
    uint32_t next_id;
    /* Thread mode. */
    pthread_mutex_t lock;
    struct wgv_connection *connections;
    /* Isolated mode (isolate.c). */
    struct wgv_worker *workers;
    struct wgv_identity identity;
};

/* Refusals in progress at once (each reads the guest's HELLO, up to the
 * handshake's timeout, in a thread or process of its own); past it, a
 * guest to refuse gets a hang-up instead. */
#define WGV_REFUSING_MAX 16

/* Who connected on an accepted socket (SO_PEERCRED: its uid at connect);
 * false if the kernel does not say. */
bool wgv_server_peer_uid(int fd, uid_t *uid);
/* Whether the server serves a guest of `uid` (`known`: the kernel said who
 * it is) while `serving` guests of that uid are being served: thread mode
 * serves only its own user and root, and no more than
 * config.max_guests_per_user guests of any other user are served at once.
 * Leaves `why` empty to serve it, or writes the reason to refuse it. */
void wgv_server_admit(const struct wgv_server *s, bool known, uid_t uid, unsigned serving,
                      char *why, size_t whylen);

/* Logs only with --verbose. */
void wgv_server_log(struct wgv_server *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Logs always. */
void wgv_server_warn(struct wgv_server *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* What the serving loop reports to, and asks of, its process. */
struct wgv_serve_hooks {
    /* Where the loop reports for the watchdog; NULL: nowhere. */
    struct wgv_worker_status *status;
    /* Thread mode: the loop itself ends a context that has owed its guest
     * a callback for this many seconds (the guest is told its context is
     * lost); 0: not the loop's job (isolated workers are killed by the
     * parent instead). */
    unsigned watchdog_s;
    /* If set, the guest is not served: its HELLO is answered with REFUSE
     * and this reason (logged always). */
    const char *refuse;
    /* Called once the context exists, before the first command runs
     * (privileges, seccomp); false ends the connection with `why`. */
    bool (*confine)(struct wgv_server *s, uint32_t id, char *why, size_t whylen);
    /* An instance made before the guest came (a pre-forked worker's), for
     * its context; NULL: the context makes its own. */
    struct wgv_warm_instance *warm;
};

/* Serves one guest on an accepted socket until it leaves, its context is
 * lost or the server stops: handshake, context, rings. Shuts the socket
 * down (SHUT_RDWR: the guest sees the hang-up even where another copy of
 * the descriptor stays open) once the guest has been told all there is,
 * before destroying the context, and closes it. */
void wgv_server_serve(struct wgv_server *s, int sock, uint32_t id, const struct wgv_serve_hooks *hooks);

/* isolate.c: resolves the identity workers take (called by wgv_server_create
 * when config.isolate is set); false with a reason in err. */
bool wgv_isolate_prepare(struct wgv_server *s, char *err, size_t errlen);
/* isolate.c: the accept loop of isolated mode (wgv_server_run). */
int wgv_isolate_run(struct wgv_server *s);
/* isolate.c: ends every worker still running (SIGTERM, then SIGKILL). */
void wgv_isolate_stop_all(struct wgv_server *s);

#endif
