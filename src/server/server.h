/* wgv-server's engine, usable from a program that embeds a server (wgv-run,
 * tests): a unix-socket listener with one host context per guest, served by
 * a thread of this process or (isolate) by a worker process of its own. */
#ifndef WGV_SERVER_H
#define WGV_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wgv-host.h"

struct wgv_server_config {
    const char *socket_path;  /* where to listen (an old socket file is replaced) */
    const char *backend_path; /* NULL: the default host WebGPU implementation */
    uint32_t force_backend;   /* see wgv_host_config */
    bool allow_null;          /* guests may get Dawn's Null adapter (WGV_HOST_ALLOW_NULL_ADAPTER) */
    const char *const *allowed_toggles; /* Dawn toggles guests may set besides the */
    size_t allowed_toggle_count;        /* built-in ones (wgv_host_config) */
    struct wgv_policy policy; /* per-guest quotas (zero fields: defaults) */
    uint64_t bulk_size;       /* each guest's bulk area in bytes (0: WGV_SHM_DEFAULT_BULK) */
    unsigned max_connections; /* stop accepting after this many; 0 = no limit */
    unsigned max_guests_per_user; /* guests served at once for one uid other than
                                     the server's own and root (those are trusted:
                                     they could stop it anyway); past it a guest is
                                     refused at the handshake; 0 = no limit */
    const char *record_dir;   /* if set, each context's command stream is
                                 written to DIR/context-N.wgv (fuzzing seeds) */
    bool verbose;
    /* Isolated mode (docs/isolation.md): each guest is served by a worker
     * process of its own, taken from a pool of `pool` workers forked,
     * confined and with the driver started ahead of time (0: forked after
     * accept); a crash or a hang costs that guest only.
     * Without it (thread mode), guests of other users than the server's own
     * and root are refused. */
    bool isolate;
    unsigned pool;            /* isolate: workers kept ready for the next guests */
    bool pool_warm;           /* isolate: pooled workers also start the driver
                                 (their instance and adapter) while they wait */
    bool seccomp;             /* isolate: confine workers with a system-call allowlist */
    bool seccomp_log;         /* isolate: log, do not kill, calls outside it (porting aid) */
    const char *user;         /* isolate, as root: workers run as this user; NULL: "nobody" */
    unsigned watchdog_s;      /* end a guest that owes a callback for this many
                                 seconds (isolated: its worker is killed; thread
                                 mode: its context is lost, but the GPU work
                                 keeps its thread); 0: never */
};

struct wgv_server;

/* Loads the backend and listens; NULL with a reason in err. */
struct wgv_server *wgv_server_create(const struct wgv_server_config *config, char *err, size_t errlen);
/* Serves until wgv_server_stop (or max_connections guests have left). In
 * isolated mode, must be called from a process with no other threads (it
 * forks). */
int wgv_server_run(struct wgv_server *server);
/* Asks wgv_server_run to return; safe from a signal handler or another thread. */
void wgv_server_stop(struct wgv_server *server);
/* Closes the listener (removing its socket file) and frees the server.
 * Returns false when a connection thread is still stuck inside a backend
 * call (thread mode): the backend and the server are then left in place
 * for it, and the caller should end the process with _exit, not exit (the
 * backend's static destructors would run under the stuck thread). */
bool wgv_server_destroy(struct wgv_server *server);

#endif
