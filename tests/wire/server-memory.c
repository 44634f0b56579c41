/* What hostile guests make wgv-server allocate must come back once they
 * are gone. One long-lived server (thread mode); PROGRAM's command stream,
 * recorded once; two guests, one after the other, replay it unchanged (the
 * backend's one-time state: the driver, its compiler), and the server's
 * resident memory (VmRSS) is the baseline; then rounds of K guests at once
 * replay it with random bit flips in some records' bodies (most are ended
 * by the host for a protocol violation, the rest run to the end or into
 * validation errors); once every context has ended, VmRSS must be back
 * within the margin of the baseline.
 *
 * Usage: server-memory SERVER PROGRAM [--rounds N] [--at-once K]
 *                      [--margin-mib M] [--keep] [-- SERVER ARGS...]
 *   PROGRAM      a guest program whose stream is recorded and replayed
 *   --rounds N   rounds of K guests after the baseline (default 15)
 *   --at-once K  guests at a time (default 16)
 *   --margin-mib M  how far above the baseline VmRSS may end (default 16)
 *   --keep       keep the server's log
 *   SERVER ARGS  passed to both servers (e.g. --null)
 *
 * Prints "server-memory: N passed, M failed". */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "handshake.h"
#include "protocol.h"
#include "ring.h"
#include "shm.h"
#include "wgv-wire-ids.h"

/* Under AddressSanitizer the server's memory is the sanitizer allocator's
 * (its quarantine, its shadow), not glibc's: the measurement is skipped,
 * the guests still run against the instrumented server. */
#ifndef __has_feature
#define __has_feature(x) 0
#endif
#if defined(__SANITIZE_ADDRESS__) || __has_feature(address_sanitizer)
#define WGV_SANITIZED_ALLOCATOR 1
#else
#define WGV_SANITIZED_ALLOCATOR 0
#endif

static const char *name = "server-memory";
static int passed, failed_count, skipped;
static char tmp[64];

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    size_t r;
    while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            cap *= 2;
            char *b = realloc(buf, cap + 1);
            if (!b) {
                free(buf);
                buf = NULL;
            }
            buf = b;
        }
    }
    fclose(f);
    if (buf)
        buf[n] = 0;
    if (len)
        *len = n;
    return buf;
}

/* A field of /proc/PID/status in kB (or a count), -1 if missing. */
static long status_field(pid_t pid, const char *field)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    char *s = read_file(path, NULL);
    if (!s)
        return -1;
    long v = -1;
    size_t fl = strlen(field);
    for (char *p = s; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (!strncmp(p, field, fl) && p[fl] == ':') {
            v = strtol(p + fl + 1, NULL, 10);
            break;
        }
    free(s);
    return v;
}

/* ------------------------------------------------------------ a server */

struct server {
    pid_t pid;
    char sock[128], log[128];
};

static bool server_start(struct server *s, const char *exe, const char *tag, char **extra,
                         int nextra)
{
    snprintf(s->sock, sizeof(s->sock), "%s/%s.sock", tmp, tag);
    snprintf(s->log, sizeof(s->log), "%s/%s.log", tmp, tag);
    char *argv[64];
    int n = 0;
    argv[n++] = (char *)exe;
    argv[n++] = "--socket";
    argv[n++] = s->sock;
    argv[n++] = "--verbose";
    for (int i = 0; i < nextra && n < 62; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    s->pid = fork();
    if (s->pid == 0) {
        int fd = open(s->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0)
            dup2(fd, 2);
        execv(exe, argv);
        _exit(127);
    }
    for (int i = 0; i < 600; i++) {
        struct stat st;
        if (stat(s->sock, &st) == 0)
            return true;
        if (waitpid(s->pid, NULL, WNOHANG) == s->pid)
            return false;
        sleep_ms(25);
    }
    return false;
}

static void server_stop(struct server *s)
{
    if (s->pid <= 0)
        return;
    kill(s->pid, SIGTERM);
    for (int i = 0; i < 400; i++) {
        if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
            s->pid = 0;
            return;
        }
        sleep_ms(25);
    }
    kill(s->pid, SIGKILL);
    waitpid(s->pid, NULL, 0);
    s->pid = 0;
}

/* How many contexts the log says ended (lost, left or refused). */
static unsigned contexts_ended(const struct server *s)
{
    char *log = read_file(s->log, NULL);
    unsigned n = 0;
    for (char *p = log; p && (p = strstr(p, "wgv-server: ")); p++) {
        p += 12;
        unsigned id;
        int used = 0;
        if ((sscanf(p, "context %u ended: %n", &id, &used) == 1 && used) ||
            (sscanf(p, "context %u: guest left %n", &id, &used) == 1 && used) ||
            (sscanf(p, "connection %u refused: %n", &id, &used) == 1 && used))
            n++;
    }
    free(log);
    return n;
}

/* ------------------------------------------------------------ replays */

static uint8_t *stream;
static size_t stream_len;
static const char *sock_path;
static bool clean_replays; /* no flips (the warm-up) */

struct replay {
    pthread_t thread;
    uint64_t seed;
    bool connected;
};

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Reads every reply there is; returns how many were callbacks. */
static unsigned pump(struct wgv_ring *reply, uint8_t *buf)
{
    unsigned callbacks = 0;
    ssize_t n;
    while ((n = wgv_ring_read(reply, buf, WGV_MESSAGE_MAX)) > 0) {
        struct wgv_reply_header h;
        if ((size_t)n >= sizeof(h)) {
            memcpy(&h, buf, sizeof(h));
            callbacks += h.kind == WGV_REPLY_CALLBACK;
        }
    }
    return callbacks;
}

/* Commands after which the program waited for a callback: the adapter and
 * the device it then used, a mapping, its work done. */
static bool waits_after(uint16_t opcode)
{
    return opcode == WGV_OP_wgpuInstanceRequestAdapter || opcode == WGV_OP_wgpuAdapterRequestDevice ||
           opcode == WGV_OP_wgpuBufferMapAsync || opcode == WGV_OP_wgpuQueueOnSubmittedWorkDone;
}

/* One guest: the recorded stream, record by record, a few bits of some
 * records' bodies flipped (the size words stay, so the framing holds and
 * the flips reach the decoder, the object tables and the backend). One
 * replay in four flips nothing and runs the whole program. */
static void *replay_main(void *arg)
{
    struct replay *r = arg;
    struct wgv_conn conn;
    char err[300];
    if (wgv_handshake_connect(sock_path, WGV_PROTOCOL_VERSION, NULL, 10000, &conn, err,
                              sizeof(err)) < 0)
        return NULL;
    r->connected = true;
    struct wgv_ring cmd, reply;
    uint8_t *rec = malloc(WGV_MESSAGE_MAX), *rbuf = malloc(WGV_MESSAGE_MAX);
    if (!rec || !rbuf || wgv_shm_cmd_ring(&conn.shm, &cmd) < 0 ||
        wgv_shm_reply_ring(&conn.shm, &reply) < 0)
        goto out;
    uint64_t s = r->seed | 1;
    bool clean = clean_replays || next_rand(&s) % 4 == 0;
    unsigned owed = 0, callbacks = 0;
    for (size_t off = 0; off + sizeof(struct wgv_cmd_header) <= stream_len;) {
        struct wgv_cmd_header h;
        memcpy(&h, stream + off, sizeof(h));
        if (h.size < sizeof(h) || h.size > stream_len - off || h.size > WGV_MESSAGE_MAX)
            break;
        memcpy(rec, stream + off, h.size);
        off += h.size;
        if (!clean && h.size > sizeof(h) && next_rand(&s) % 8 == 0) {
            unsigned flips = 1 + (unsigned)(next_rand(&s) % 3);
            for (unsigned i = 0; i < flips; i++) {
                uint64_t bit = next_rand(&s) % ((h.size - sizeof(h)) * 8);
                rec[sizeof(h) + bit / 8] ^= (uint8_t)(1u << (bit % 8));
            }
        }
        int st;
        void *dst = wgv_ring_reserve(&cmd, h.size, 2000LL * 1000 * 1000, &st);
        if (!dst)
            break; /* the host ended the context */
        memcpy(dst, rec, h.size);
        wgv_ring_commit(&cmd, h.size);
        wgv_ring_publish(&cmd);
        callbacks += pump(&reply, rbuf);
        owed += waits_after(h.opcode);
        /* Wait as the program did, for at most 3 s (a flip may have made
         * the callback one that never comes). */
        int64_t deadline = now_ms() + 3000;
        while (callbacks < owed && now_ms() < deadline &&
               wgv_peer_wait(conn.sock, 0) == WGV_PEER_ALIVE) {
            wgv_ring_wait(&reply, 1000 * 1000);
            callbacks += pump(&reply, rbuf);
        }
        if (callbacks < owed)
            callbacks = owed;
        if (wgv_peer_wait(conn.sock, 0) != WGV_PEER_ALIVE)
            break;
    }
    /* Leave: the host runs what was published, then destroys the context. */
    pump(&reply, rbuf);
out:
    free(rec);
    free(rbuf);
    wgv_conn_close(&conn);
    return NULL;
}

/* K guests at once, `rounds` times; returns how many connected. */
static unsigned replay_rounds(unsigned rounds, unsigned k, uint64_t *seed)
{
    unsigned connected = 0;
    struct replay *rs = calloc(k, sizeof(*rs));
    for (unsigned round = 0; round < rounds; round++) {
        for (unsigned i = 0; i < k; i++) {
            rs[i].seed = next_rand(seed);
            rs[i].connected = false;
            pthread_create(&rs[i].thread, NULL, replay_main, &rs[i]);
        }
        for (unsigned i = 0; i < k; i++) {
            pthread_join(rs[i].thread, NULL);
            connected += rs[i].connected;
        }
    }
    free(rs);
    return connected;
}

/* Waits until every context has ended and the connection threads are gone
 * (the thread count is back at `threads`), then 1.5 s more (the server
 * gives free memory back at most once a second); returns VmRSS in kB (-1:
 * it did not settle in time). */
static long settle(const struct server *s, unsigned contexts, long threads)
{
    int64_t deadline = now_ms() + 60000;
    while (contexts_ended(s) < contexts || status_field(s->pid, "Threads") > threads) {
        if (now_ms() > deadline)
            return -1;
        sleep_ms(50);
    }
    sleep_ms(1500);
    return status_field(s->pid, "VmRSS");
}

static void result(bool ok, const char *test, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void result(bool ok, const char *test, const char *fmt, ...)
{
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    printf("%s %s (%s)\n", ok ? "ok  " : "FAIL", test, detail);
    fflush(stdout);
    if (ok)
        passed++;
    else
        failed_count++;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: server-memory SERVER PROGRAM [--rounds N] [--at-once K] "
                        "[--margin-mib M] [--keep] [-- SERVER ARGS...]\n");
        return 2;
    }
    const char *server_exe = argv[1], *program = argv[2];
    unsigned rounds = 15, k = 16, margin_mib = 16;
    bool keep = false;
    char **extra = NULL;
    int nextra = 0;
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
            rounds = (unsigned)atoi(argv[++i]);
        else if (!strcmp(argv[i], "--at-once") && i + 1 < argc)
            k = (unsigned)atoi(argv[++i]);
        else if (!strcmp(argv[i], "--margin-mib") && i + 1 < argc)
            margin_mib = (unsigned)atoi(argv[++i]);
        else if (!strcmp(argv[i], "--keep"))
            keep = true;
        else if (!strcmp(argv[i], "--")) {
            extra = argv + i + 1;
            nextra = argc - i - 1;
            break;
        } else {
            fprintf(stderr, "server-memory: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    if (!k)
        k = 1;
    signal(SIGPIPE, SIG_IGN);
    snprintf(tmp, sizeof(tmp), "/tmp/wgv-server-memory.XXXXXX");
    if (!mkdtemp(tmp)) {
        perror("mkdtemp");
        return 1;
    }
    int64_t t0 = now_ms();

    /* The stream: PROGRAM once through a recording server. */
    struct server rec = {0};
    char *rec_args[16] = {"--once", "--record", tmp};
    int nrec = 3;
    for (int i = 0; i < nextra && nrec < 15; i++)
        rec_args[nrec++] = extra[i];
    char path[256] = "";
    if (server_start(&rec, server_exe, "record", rec_args, nrec)) {
        pid_t g = fork();
        if (g == 0) {
            setenv("WGV_SERVER", rec.sock, 1);
            int fd = open("/dev/null", O_WRONLY);
            dup2(fd, 1);
            execl(program, program, (char *)NULL);
            _exit(127);
        }
        int st = 0;
        waitpid(g, &st, 0);
        server_stop(&rec);
        snprintf(path, sizeof(path), "%s/context-1.wgv", tmp);
        stream = (uint8_t *)read_file(path, &stream_len);
    }
    if (!stream || stream_len < 64) {
        result(false, "setup", "no stream recorded from %s", program);
        printf("%s: %d passed, %d failed\n", name, passed, failed_count);
        return 1;
    }

    struct server srv = {0};
    if (!server_start(&srv, server_exe, "server", extra, nextra)) {
        result(false, "setup", "the server did not start");
        printf("%s: %d passed, %d failed\n", name, passed, failed_count);
        return 1;
    }
    sock_path = srv.sock;
    long threads = status_field(srv.pid, "Threads");
    long start_rss = status_field(srv.pid, "VmRSS");
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    unsigned contexts = 0;

    /* Warm-up: one guest at a time runs the whole program twice, so that
     * the backend's one-time state (the driver, its compiler) is there
     * before the baseline is taken; the attack comes after it. */
    unsigned warm = 2;
    clean_replays = true;
    contexts += replay_rounds(warm, 1, &seed);
    clean_replays = false;
    long base = settle(&srv, contexts, threads);
    contexts += replay_rounds(rounds, k, &seed);
    long after = settle(&srv, contexts, threads);
    long peak = status_field(srv.pid, "VmHWM");
    bool alive = waitpid(srv.pid, NULL, WNOHANG) == 0;
    printf("# %u guests (%u at a time), stream of %zu bytes; VmRSS at start %ld kB, "
           "baseline %ld kB, after %ld kB, peak %ld kB; %.1f s\n",
           contexts, k, stream_len, start_rss, base, after, peak, (now_ms() - t0) / 1000.0);
    result(alive && base > 0 && after > 0, "hostile_guests_leave_and_every_context_ends",
           "%u contexts, server %s", contexts, alive ? "alive" : "gone");
    if (WGV_SANITIZED_ALLOCATOR) {
        printf("skip server_memory_returns_to_its_baseline: built with AddressSanitizer, whose "
               "allocator (quarantine, shadow memory) keeps what glibc's would give back\n");
        skipped++;
    } else if (base > 0 && after > 0)
        result(after - base <= (long)margin_mib * 1024, "server_memory_returns_to_its_baseline",
               "%+ld MiB after %u more guests, margin %u MiB", (after - base) / 1024,
               contexts - warm, margin_mib);
    else
        result(false, "server_memory_returns_to_its_baseline", "no measurement");
    server_stop(&srv);
    /* Best effort: the recorded stream, the logs and the folder. */
    unlink(path);
    char p[256];
    snprintf(p, sizeof(p), "%s/record.log", tmp);
    unlink(p);
    snprintf(p, sizeof(p), "%s/server.log", tmp);
    if (!failed_count && !keep)
        unlink(p);
    else
        printf("# server log kept: %s\n", p);
    rmdir(tmp);
    if (skipped)
        printf("%s: %d passed, %d failed, %d skipped\n", name, passed, failed_count, skipped);
    else
        printf("%s: %d passed, %d failed\n", name, passed, failed_count);
    return failed_count ? 1 : 0;
}
