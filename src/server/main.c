/* wgv-server: the host renderer for guests on this machine (docs/using.md). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server.h"

/* Whether guests get a worker process each unless --isolate/--no-isolate
 * says (docs/isolation.md, "Cost"). */
#define WGV_ISOLATE_DEFAULT false

/* --pool's default: isolated workers kept ready (forked, privileges
 * dropped), so that a guest connecting waits for none of that. */
#define WGV_POOL_DEFAULT 2

/* --watchdog's default: a worker is killed, which ends its GPU work; in
 * thread mode the context ends but the work goes on in its thread, so
 * only a guest that has surely hung is ended (CPU renderers under load
 * take tens of seconds for honest work). */
#define WGV_WATCHDOG_ISOLATED_S 10
#define WGV_WATCHDOG_THREAD_S 60

/* --max-guests-per-user's default: guests of one user (other than this
 * server's and root) served at once, each with the whole quota. */
#define WGV_MAX_GUESTS_PER_USER 16

static struct wgv_server *running;

/* A whole decimal number from 0 to max into *out; false if `s` is not one. */
static bool parse_count(const char *s, unsigned long max, unsigned *out)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (*end || end == s || v > max)
        return false;
    *out = (unsigned)v;
    return true;
}

static void on_signal(int sig)
{
    (void)sig;
    if (running)
        wgv_server_stop(running);
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: wgv-server [--socket PATH] [--backend LIB] [--null] [--once] [--record DIR] [--verbose]\n"
            "                  [--allow-toggle NAME]...\n"
            "                  [--isolate [--pool N] [--no-seccomp] [--user NAME]] [--no-isolate]\n"
            "                  [--watchdog SECONDS]\n"
            "  --socket PATH  listen here (default: $WGV_SERVER, else $XDG_RUNTIME_DIR/wgv.sock)\n"
            "  --backend LIB  host WebGPU implementation (default: $WGV_BACKEND_LIB or bundled Dawn)\n"
            "  --null         give every guest Dawn's Null backend (validates, draws nothing);\n"
            "                 without it guests never get the Null adapter\n"
            "  --once         exit after the first guest leaves\n"
            "  --record DIR   write each guest's command stream to DIR (fuzzing seeds)\n"
            "  --max-memory MIB   memory of buffers, textures and objects per guest (default 4096)\n"
            "  --max-objects N    objects alive per guest (default 1048576)\n"
            "  --max-shader-kib K source of one shader module (default 16384)\n"
            "  --max-guests-per-user N  guests served at once for one user other than this\n"
            "                 server's own and root (default %d; 0: no limit); more are refused\n"
            "  --bulk-kib K   each guest's shared bulk area, a multiple of 4 (default 2097152);\n"
            "                 larger transfers go through it in chunks\n"
            "  --allow-toggle NAME  let guests set Dawn toggle NAME (repeatable); besides a\n"
            "                 built-in few, toggles guests ask for are dropped and logged\n"
            "  --verbose      log connections and contexts\n"
            "  --isolate      serve each guest in a worker process of its own (docs/isolation.md)%s;\n"
            "                 needed to serve other users than this server's own\n"
            "  --pool N       isolated workers kept ready, forked and confined (default %d;\n"
            "                 0: fork one when a guest connects)\n"
            "  --pool-warm    pooled workers also start the driver while they wait, holding\n"
            "                 its memory while idle (docs/isolation.md)\n"
            "  --no-isolate   serve each guest in a thread of this process%s: for trusted guests\n"
            "                 only, and only this user's and root's (others are refused)\n"
            "  --seccomp      confine workers to the system calls rendering needs (default)\n"
            "  --no-seccomp   do not\n"
            "  --seccomp-log  let calls outside the allowlist run and log them to the kernel log\n"
            "                 (finding what a new driver needs; not for production)\n"
            "  --user NAME    as root, workers run as NAME (default: nobody)\n"
            "  --watchdog S   end a guest that owes a callback for S seconds: its worker is\n"
            "                 killed (default %d), or in thread mode its context is lost while\n"
            "                 the GPU work keeps its thread (default %d); 0: never\n",
            WGV_MAX_GUESTS_PER_USER, WGV_ISOLATE_DEFAULT ? " (default)" : "", WGV_POOL_DEFAULT,
            WGV_ISOLATE_DEFAULT ? "" : " (default)",
            WGV_WATCHDOG_ISOLATED_S, WGV_WATCHDOG_THREAD_S);
}

int main(int argc, char **argv)
{
    struct wgv_server_config cfg = {
        .isolate = WGV_ISOLATE_DEFAULT,
        .seccomp = true,
        .max_guests_per_user = WGV_MAX_GUESTS_PER_USER,
        .pool = WGV_POOL_DEFAULT,
    };
    bool watchdog_set = false;
    const char *toggles[64];
    size_t toggle_count = 0;
    const char *needs_isolate = NULL; /* an option that only workers take */
    char default_path[256];
    const char *env = getenv("WGV_SERVER");
    const char *dir = getenv("XDG_RUNTIME_DIR");
    if (env && *env)
        cfg.socket_path = env;
    else {
        if (dir && *dir)
            snprintf(default_path, sizeof(default_path), "%s/wgv.sock", dir);
        else
            snprintf(default_path, sizeof(default_path), "/tmp/wgv-%u.sock", (unsigned)getuid());
        cfg.socket_path = default_path;
    }
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--socket") && i + 1 < argc)
            cfg.socket_path = argv[++i];
        else if (!strcmp(argv[i], "--backend") && i + 1 < argc)
            cfg.backend_path = argv[++i];
        else if (!strcmp(argv[i], "--null")) {
            cfg.force_backend = 1;
            cfg.allow_null = true;
        }
        else if (!strcmp(argv[i], "--once"))
            cfg.max_connections = 1;
        else if (!strcmp(argv[i], "--max-memory") && i + 1 < argc)
            cfg.policy.max_memory = strtoull(argv[++i], NULL, 10) << 20;
        else if (!strcmp(argv[i], "--max-objects") && i + 1 < argc)
            cfg.policy.max_objects = (uint32_t)strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--max-shader-kib") && i + 1 < argc)
            cfg.policy.max_shader_bytes = strtoull(argv[++i], NULL, 10) << 10;
        else if (!strcmp(argv[i], "--max-guests-per-user") && i + 1 < argc) {
            if (!parse_count(argv[++i], 1000000, &cfg.max_guests_per_user)) {
                fprintf(stderr, "wgv-server: --max-guests-per-user takes a count (0: no limit)\n");
                return 2;
            }
        }
        else if (!strcmp(argv[i], "--bulk-kib") && i + 1 < argc) {
            char *end;
            unsigned long long v = strtoull(argv[++i], &end, 10);
            if (*end || end == argv[i] || !v || v % 4 || v > (4ull << 20)) {
                fprintf(stderr, "wgv-server: --bulk-kib takes a multiple of 4 from 4 to 4194304\n");
                return 2;
            }
            cfg.bulk_size = v << 10;
        }
        else if (!strcmp(argv[i], "--allow-toggle") && i + 1 < argc) {
            if (toggle_count == sizeof(toggles) / sizeof(toggles[0])) {
                fprintf(stderr, "wgv-server: at most %zu --allow-toggle options\n", toggle_count);
                return 2;
            }
            toggles[toggle_count++] = argv[++i];
            cfg.allowed_toggles = toggles;
            cfg.allowed_toggle_count = toggle_count;
        }
        else if (!strcmp(argv[i], "--record") && i + 1 < argc)
            cfg.record_dir = argv[++i];
        else if (!strcmp(argv[i], "--verbose"))
            cfg.verbose = true;
        else if (!strcmp(argv[i], "--isolate"))
            cfg.isolate = true;
        else if (!strcmp(argv[i], "--no-isolate"))
            cfg.isolate = false;
        else if (!strcmp(argv[i], "--seccomp") || !strcmp(argv[i], "--no-seccomp") ||
                 !strcmp(argv[i], "--seccomp-log")) {
            cfg.seccomp = strcmp(argv[i], "--no-seccomp") != 0;
            cfg.seccomp_log = !strcmp(argv[i], "--seccomp-log");
            needs_isolate = argv[i];
        } else if (!strcmp(argv[i], "--pool") && i + 1 < argc) {
            if (!parse_count(argv[++i], 64, &cfg.pool)) {
                fprintf(stderr, "wgv-server: --pool takes a count from 0 to 64\n");
                return 2;
            }
            needs_isolate = "--pool";
        } else if (!strcmp(argv[i], "--pool-warm")) {
            cfg.pool_warm = true;
            needs_isolate = "--pool-warm";
        } else if (!strcmp(argv[i], "--user") && i + 1 < argc) {
            cfg.user = argv[++i];
            needs_isolate = "--user";
        } else if (!strcmp(argv[i], "--watchdog") && i + 1 < argc) {
            if (!parse_count(argv[++i], 24 * 3600, &cfg.watchdog_s)) {
                fprintf(stderr, "wgv-server: --watchdog takes whole seconds (0 to 86400)\n");
                return 2;
            }
            watchdog_set = true;
        }
        else if (!strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (needs_isolate && !cfg.isolate) {
        fprintf(stderr, "wgv-server: %s applies to isolated workers: add --isolate\n", needs_isolate);
        return 2;
    }
    if (!watchdog_set)
        cfg.watchdog_s = cfg.isolate ? WGV_WATCHDOG_ISOLATED_S : WGV_WATCHDOG_THREAD_S;
    char err[512];
    struct wgv_server *s = wgv_server_create(&cfg, err, sizeof(err));
    if (!s) {
        fprintf(stderr, "wgv-server: %s\n", err);
        return 1;
    }
    running = s;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (cfg.verbose)
        fprintf(stderr, "wgv-server: listening on %s%s\n", cfg.socket_path,
                cfg.isolate ? " (a worker process per guest)"
                            : " (a thread per guest: this user's and root's guests only)");
    int rc = wgv_server_run(s);
    running = NULL;
    if (!wgv_server_destroy(s)) {
        fflush(NULL);
        _exit(rc);
    }
    return rc;
}
