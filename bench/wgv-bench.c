/* wgv-bench: native Dawn and webgpu-virtio side by side (docs/benchmarks.md).
 *
 *   wgv-bench [--json FILE|-] [--cases a,b,...] [--quick] [--reps N]
 *             [--budget SECONDS] [--max-matmul N] [--max-transfer BYTES]
 *             [--storm-total N] [--server-arg ARG]...
 *
 * Starts a private wgv-server and two workers with one device each: one
 * linked to Dawn, one linked to the guest library. Every case and size runs
 * on both, alternating which goes first, REPS times; the table shows the
 * medians and `ratio` = wire speed / native speed (1.0 = as fast as
 * native). It also reports this machine's memcpy bandwidth, the extra
 * copies the wire costs on uploads and readbacks, and the memory (PSS) of
 * the server (and its workers, when it isolates) serving one idle context
 * against a process that opened the device itself.
 *
 * WGV_BENCH_SERVER, WGV_BENCH_NATIVE and WGV_BENCH_WIRE name the server and
 * the two workers where they are not where the build put them (a build
 * carried to another machine). */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cases.h"

#define MAX_SIZES 8
#define MAX_REPS 15

/* How a case's measurements become a figure. */
enum metric { PER_SECOND, LATENCY_US };

struct case_info {
    const char *name;
    const char *unit;
    double scale; /* figure = amount / seconds / scale (PER_SECOND) */
    enum metric metric;
    bool copies;  /* report extra_copies */
    uint64_t sizes[MAX_SIZES];
    uint64_t quick[MAX_SIZES];
};

/* Size lists end with END (0 is a size: the empty round trip). */
#define END UINT64_MAX

static const struct case_info case_table[] = {
    {"matmul", "GFLOP/s", 1e9, PER_SECOND, false, {256, 512, 1024, 2048, 4096, END}, {64, END}},
    {"storm", "dispatches/s", 1, PER_SECOND, false, {1, 10, 100, 1000, 10000, END}, {10, 100, END}},
    {"roundtrip", "us", 1, LATENCY_US, false, {0, 4, END}, {0, 4, END}},
    {"upload", "GB/s", 1e9, PER_SECOND, true,
     {1 << 10, 64 << 10, 1 << 20, 16 << 20, 64 << 20, 256 << 20, 1 << 30, END}, {4096, 1 << 20, END}},
    {"readback", "GB/s", 1e9, PER_SECOND, true,
     {1 << 10, 64 << 10, 1 << 20, 16 << 20, 64 << 20, 256 << 20, 1 << 30, END}, {4096, 1 << 20, END}},
    {"churn", "objects/s", 1, PER_SECOND, false, {10, 100, 1000, END}, {10, END}},
    {"render", "draws/s", 1, PER_SECOND, false, {10, 100, 1000, 10000, END}, {10, END}},
    {"llm-proj", "GFLOP/s", 1e9, PER_SECOND, false, {1, 512, END}, {1, END}},
    {"llm-ffn", "GFLOP/s", 1e9, PER_SECOND, false, {1, 512, END}, {1, END}},
    {"decode", "dispatches/s", 1, PER_SECOND, false, {4096, 262144, END}, {4096, END}},
};
#define CASE_COUNT (sizeof case_table / sizeof case_table[0])

struct options {
    const char *json;
    const char *cases;
    bool quick;
    int reps;
    double budget;
    uint64_t max_matmul;
    uint64_t max_transfer; /* largest upload and readback size run (1 GiB needs --max-transfer) */
    uint64_t storm_total;
    const char *server_args[8]; /* extra wgv-server arguments */
    int server_argc;
    bool null_backend; /* WGV_BENCH_NULL: the server gets --null */
};

struct worker {
    pid_t pid;
    FILE *in, *out;
    char adapter[256];
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Starts `path` with pipes on stdin/stdout and waits for "ready ADAPTER". */
static int worker_start(struct worker *w, const char *path, const char *server)
{
    int to[2], from[2];
    if (pipe(to) < 0 || pipe(from) < 0)
        return -1;
    w->pid = fork();
    if (w->pid < 0)
        return -1;
    if (w->pid == 0) {
        dup2(to[0], 0);
        dup2(from[1], 1);
        close(to[0]); close(to[1]); close(from[0]); close(from[1]);
        if (server)
            setenv("WGV_SERVER", server, 1);
        execl(path, path, (char *)NULL);
        fprintf(stderr, "wgv-bench: cannot run %s: %s\n", path, strerror(errno));
        _exit(127);
    }
    close(to[0]);
    close(from[1]);
    w->in = fdopen(to[1], "w");
    w->out = fdopen(from[0], "r");
    setvbuf(w->in, NULL, _IOLBF, 0);
    char line[512];
    if (!fgets(line, sizeof line, w->out) || strncmp(line, "ready ", 6)) {
        fprintf(stderr, "wgv-bench: %s did not start: %s", path, line);
        return -1;
    }
    line[strcspn(line, "\n")] = 0;
    snprintf(w->adapter, sizeof w->adapter, "%.200s", line + 6);
    return 0;
}

static void worker_stop(struct worker *w)
{
    if (w->pid <= 0)
        return;
    if (w->in) {
        fprintf(w->in, "quit\n");
        fclose(w->in);
    }
    if (w->out)
        fclose(w->out);
    waitpid(w->pid, NULL, 0);
    w->pid = 0;
}

/* One measurement on a worker; 0 or -1 (reason printed). */
static int worker_run(struct worker *w, const char *name, uint64_t size, uint64_t iters, double budget,
                      struct bench_result *r)
{
    fprintf(w->in, "run %s %llu %llu %.6f\n", name, (unsigned long long)size, (unsigned long long)iters,
            budget);
    char line[512];
    if (!fgets(line, sizeof line, w->out)) {
        fprintf(stderr, "wgv-bench: a worker died during %s %llu\n", name, (unsigned long long)size);
        return -1;
    }
    unsigned long long it;
    if (sscanf(line, "ok %lf %lf %llu", &r->seconds, &r->amount, &it) != 3) {
        fprintf(stderr, "wgv-bench: %s %llu: %s", name, (unsigned long long)size, line);
        return -1;
    }
    r->iters = it;
    return 0;
}

/* Proportional set size of a process in KiB (from smaps_rollup), or -1. */
static long pss_kib(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/smaps_rollup", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long v = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "Pss: %ld kB", &v) == 1)
            break;
    fclose(f);
    return v;
}

/* PSS of a process and all its descendants (an isolating server's workers)
 * in KiB, or -1. */
static long pss_tree_kib(pid_t root)
{
    long total = pss_kib(root);
    if (total < 0)
        return -1;
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char path[300], buf[512];
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = 0;
        /* pid (comm) state ppid: comm may hold spaces, so start after ')' */
        char *close = strrchr(buf, ')');
        int ppid = 0;
        if (close && sscanf(close + 1, " %*c %d", &ppid) == 1 && ppid == root) {
            long child = pss_tree_kib((pid_t)atoi(e->d_name));
            if (child > 0)
                total += child;
        }
    }
    if (d)
        closedir(d);
    return total;
}

/* Seconds one memcpy of `size` bytes takes here (median of a few, buffers
 * touched first). */
static double memcpy_seconds(uint64_t size)
{
    uint8_t *a = malloc(size), *b = malloc(size);
    if (!a || !b) {
        free(a);
        free(b);
        return 0;
    }
    memset(a, 1, size);
    memset(b, 2, size);
    int n = size >= (64u << 20) ? 5 : 21;
    double t[21];
    for (int i = 0; i < n; i++) {
        double t0 = now_s();
        memcpy(b, a, size);
        t[i] = now_s() - t0;
        a[i] = b[size - 1 - (size_t)i]; /* keep the copy observable */
    }
    free(a);
    free(b);
    return median(t, n);
}

static pid_t server_start(const char *bin, const char *socket, const struct options *o)
{
    pid_t pid = fork();
    if (pid == 0) {
        const char *argv[16] = {bin, "--socket", socket};
        int n = 3;
        for (int i = 0; i < o->server_argc; i++)
            argv[n++] = o->server_args[i];
        /* The workers ask for Dawn's Null adapter, which a server hands
         * out only when started with --null. */
        if (o->null_backend)
            argv[n++] = "--null";
        execv(bin, (char **)argv);
        fprintf(stderr, "wgv-bench: cannot run %s: %s\n", bin, strerror(errno));
        _exit(127);
    }
    for (int i = 0; i < 400 && pid > 0; i++) {
        struct stat st;
        if (stat(socket, &st) == 0)
            return pid;
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return -1;
        struct timespec nap = {0, 25 * 1000 * 1000};
        nanosleep(&nap, NULL);
    }
    return -1;
}

static bool case_selected(const struct options *o, const char *name)
{
    if (!o->cases)
        return true;
    size_t n = strlen(name);
    for (const char *p = o->cases; *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && !strncmp(p, name, n))
            return true;
        p += len + (p[len] == ',');
    }
    return false;
}

struct row {
    const struct case_info *ci;
    uint64_t size;
    double native, wire, ratio, extra_copies, memcpy_s, native_s, wire_s;
    int reps;
};

static double figure(const struct case_info *ci, const struct bench_result *r)
{
    if (ci->metric == LATENCY_US)
        return r->seconds / r->amount * 1e6;
    return r->amount / r->seconds / ci->scale;
}

/* Measures one case at one size on both workers; 0 or -1. */
static int measure(const struct options *o, struct worker *native, struct worker *wire,
                   const struct case_info *ci, uint64_t size, struct row *row)
{
    uint64_t iters = 0;
    if (!strcmp(ci->name, "storm"))
        iters = (o->storm_total + size - 1) / size;
    /* Native picks the repetition count (or warms up); wire warms up with it. */
    struct bench_result r;
    if (worker_run(native, ci->name, size, iters, o->budget, &r) < 0)
        return -1;
    iters = r.iters;
    bool long_run = r.seconds > 5 * o->budget && r.seconds > 2.0;
    int reps = long_run && o->reps > 3 ? 3 : o->reps;
    if (!long_run && worker_run(wire, ci->name, size, iters, o->budget, &r) < 0)
        return -1;
    double fn[MAX_REPS], fw[MAX_REPS], tn[MAX_REPS], tw[MAX_REPS];
    for (int k = 0; k < reps; k++) {
        struct worker *first = k % 2 ? wire : native, *second = k % 2 ? native : wire;
        struct bench_result a, b;
        if (worker_run(first, ci->name, size, iters, o->budget, &a) < 0 ||
            worker_run(second, ci->name, size, iters, o->budget, &b) < 0)
            return -1;
        struct bench_result *rn = k % 2 ? &b : &a, *rw = k % 2 ? &a : &b;
        fn[k] = figure(ci, rn);
        fw[k] = figure(ci, rw);
        tn[k] = rn->seconds / (double)rn->iters;
        tw[k] = rw->seconds / (double)rw->iters;
    }
    row->ci = ci;
    row->size = size;
    row->reps = reps;
    row->native = median(fn, reps);
    row->wire = median(fw, reps);
    row->ratio = ci->metric == LATENCY_US ? row->native / row->wire : row->wire / row->native;
    row->native_s = median(tn, reps);
    row->wire_s = median(tw, reps);
    row->extra_copies = NAN;
    if (ci->copies) {
        row->memcpy_s = memcpy_seconds(size);
        if (row->memcpy_s > 0)
            row->extra_copies = (row->wire_s - row->native_s) / row->memcpy_s;
    }
    return 0;
}

static void size_label(const struct case_info *ci, uint64_t size, char *buf, size_t cap)
{
    if (ci->copies && size >= (1u << 20))
        snprintf(buf, cap, "%llu MiB", (unsigned long long)(size >> 20));
    else if (ci->copies && size >= 1024)
        snprintf(buf, cap, "%llu KiB", (unsigned long long)(size >> 10));
    else
        snprintf(buf, cap, "%llu", (unsigned long long)size);
}

static void print_row(const struct row *r)
{
    char size[32], extra[48] = "";
    size_label(r->ci, r->size, size, sizeof size);
    if (r->ci->copies && !isnan(r->extra_copies))
        snprintf(extra, sizeof extra, "  extra copies %.2f", r->extra_copies);
    if (r->ci->metric == LATENCY_US)
        snprintf(extra, sizeof extra, "  +%.1f us", r->wire - r->native);
    printf("%-10s %10s %14.4g %14.4g %-13s %6.3f%s\n", r->ci->name, size, r->native, r->wire, r->ci->unit,
           r->ratio, extra);
    fflush(stdout);
}

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fprintf(f, "\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            fprintf(f, "\\u%04x", *s);
        else
            fputc(*s, f);
    }
    fputc('"', f);
}

static int write_json(const char *path, const struct row *rows, int n, const char *adapter,
                      long server_kib, long native_kib, long wire_kib)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "w") : stdout;
    if (!f) {
        fprintf(stderr, "wgv-bench: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    fprintf(f, "[\n");
    for (int i = 0; i < n; i++) {
        const struct row *r = &rows[i];
        fprintf(f, "  {\"case\": \"%s\", \"size\": %llu, \"unit\": \"%s\", \"native\": %.6g, "
                   "\"wire\": %.6g, \"ratio\": %.4f, \"reps\": %d, \"adapter\": ",
                r->ci->name, (unsigned long long)r->size, r->ci->unit, r->native, r->wire, r->ratio,
                r->reps);
        json_string(f, adapter);
        if (r->ci->copies)
            fprintf(f, ", \"extra_copies\": %.4f, \"memcpy_gbps\": %.3f, \"native_s\": %.6g, \"wire_s\": %.6g",
                    isnan(r->extra_copies) ? 0.0 : r->extra_copies,
                    r->memcpy_s > 0 ? (double)r->size / r->memcpy_s / 1e9 : 0.0, r->native_s, r->wire_s);
        if (r->ci->metric == LATENCY_US)
            fprintf(f, ", \"added_us\": %.3f", r->wire - r->native);
        fprintf(f, "}%s\n", ",");
    }
    /* The memory report closes the list as one more object. */
    fprintf(f, "  {\"case\": \"memory\", \"size\": 1, \"unit\": \"KiB\", \"native\": %ld, \"wire\": %ld, "
               "\"ratio\": %.4f, \"server_pss_kib\": %ld, \"native_pss_kib\": %ld, "
               "\"guest_pss_kib\": %ld, \"added_kib\": %ld}\n]\n",
            native_kib, server_kib, server_kib > 0 ? (double)native_kib / (double)server_kib : 0.0,
            server_kib, native_kib, wire_kib, server_kib - native_kib);
    if (f != stdout)
        fclose(f);
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: wgv-bench [--json FILE|-] [--cases a,b,...] [--quick] [--reps N] "
                    "[--budget SECONDS] [--max-matmul N] [--max-transfer BYTES] [--storm-total N] "
                    "[--server-arg ARG]...\n"
                    "cases: matmul storm roundtrip upload readback churn render llm-proj llm-ffn decode\n");
}

int main(int argc, char **argv)
{
    struct options o = {.reps = 5, .budget = 0.3, .max_matmul = 4096, .max_transfer = 256 << 20,
                        .storm_total = 100000};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--json") && v) o.json = v, i++;
        else if (!strcmp(a, "--cases") && v) o.cases = v, i++;
        else if (!strcmp(a, "--quick")) o.quick = true;
        else if (!strcmp(a, "--reps") && v) o.reps = atoi(v), i++;
        else if (!strcmp(a, "--budget") && v) o.budget = atof(v), i++;
        else if (!strcmp(a, "--max-matmul") && v) o.max_matmul = strtoull(v, NULL, 10), i++;
        else if (!strcmp(a, "--max-transfer") && v) o.max_transfer = strtoull(v, NULL, 10), i++;
        else if (!strcmp(a, "--storm-total") && v) o.storm_total = strtoull(v, NULL, 10), i++;
        else if (!strcmp(a, "--server-arg") && v && o.server_argc < 8) o.server_args[o.server_argc++] = v, i++;
        else {
            usage();
            return 2;
        }
    }
    /* Read the way the workers read it (null_backend in cases.c). */
    const char *null_env = getenv("WGV_BENCH_NULL");
    o.null_backend = null_env && *null_env && strcmp(null_env, "0");
    if (o.quick) {
        o.reps = 1;
        o.budget = 0.02;
        o.storm_total = 1000;
    }
    if (o.reps < 1 || o.reps > MAX_REPS || o.budget <= 0 || o.storm_total == 0) {
        usage();
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);

    /* A private server and the two workers. */
    const char *server_bin = getenv("WGV_BENCH_SERVER") ? getenv("WGV_BENCH_SERVER") : WGV_BENCH_SERVER_BIN;
    char dir[] = "/tmp/wgv-bench.XXXXXX";
    if (!mkdtemp(dir)) {
        perror("wgv-bench: mkdtemp");
        return 1;
    }
    char socket[sizeof dir + 16];
    snprintf(socket, sizeof socket, "%s/wgv.sock", dir);
    pid_t server = server_start(server_bin, socket, &o);
    struct worker native = {0}, wire = {0};
    int rc = 1;
    if (server < 0) {
        fprintf(stderr, "wgv-bench: wgv-server (%s) did not start\n", server_bin);
        goto out;
    }
    long server_alone = pss_kib(server);
    /* The build's own binaries, unless the build was carried elsewhere. */
    const char *native_bin = getenv("WGV_BENCH_NATIVE") ? getenv("WGV_BENCH_NATIVE") : WGV_BENCH_NATIVE_BIN;
    const char *wire_bin = getenv("WGV_BENCH_WIRE") ? getenv("WGV_BENCH_WIRE") : WGV_BENCH_WIRE_BIN;
    if (worker_start(&native, native_bin, NULL) < 0 || worker_start(&wire, wire_bin, socket) < 0)
        goto out;
    /* Memory with one idle context, before any case ran. */
    struct timespec settle = {0, 300 * 1000 * 1000};
    nanosleep(&settle, NULL);
    long server_kib = pss_tree_kib(server), native_kib = pss_kib(native.pid), wire_kib = pss_kib(wire.pid);

    printf("adapter: %s (native) / %s (wire)\n", native.adapter, wire.adapter);
    printf("memory (PSS): server with one idle context %ld KiB (%ld KiB before it connected), native "
           "process %ld KiB, difference %+ld KiB; guest process %ld KiB\n",
           server_kib, server_alone, native_kib, server_kib - native_kib, wire_kib);
    double mc = memcpy_seconds(64u << 20);
    printf("memcpy: %.2f GB/s (64 MiB)\n", mc > 0 ? (64u << 20) / mc / 1e9 : 0.0);
    printf("%-10s %10s %14s %14s %-13s %6s\n", "case", "size", "native", "wire", "unit", "ratio");

    struct row rows[CASE_COUNT * MAX_SIZES];
    int nrows = 0, failed = 0;
    for (size_t c = 0; c < CASE_COUNT; c++) {
        const struct case_info *ci = &case_table[c];
        if (!case_selected(&o, ci->name))
            continue;
        const uint64_t *sizes = o.quick ? ci->quick : ci->sizes;
        for (int s = 0; s < MAX_SIZES && sizes[s] != END; s++) {
            if (!strcmp(ci->name, "matmul") && sizes[s] > o.max_matmul)
                continue;
            if ((!strcmp(ci->name, "upload") || !strcmp(ci->name, "readback")) &&
                sizes[s] > o.max_transfer)
                continue;
            if (measure(&o, &native, &wire, ci, sizes[s], &rows[nrows]) < 0) {
                failed++;
                if (waitpid(native.pid, NULL, WNOHANG) || waitpid(wire.pid, NULL, WNOHANG))
                    goto out;
                continue;
            }
            print_row(&rows[nrows++]);
        }
    }
    if (o.json && write_json(o.json, rows, nrows, native.adapter, server_kib, native_kib, wire_kib) < 0)
        failed++;
    printf("bench: %d passed, %d failed\n", nrows, failed);
    rc = failed ? 1 : 0;
out:
    worker_stop(&native);
    worker_stop(&wire);
    if (server > 0) {
        kill(server, SIGTERM);
        waitpid(server, NULL, 0);
    }
    unlink(socket);
    rmdir(dir);
    return rc;
}
