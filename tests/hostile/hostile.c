/* The hostile-guest suite: named attacks on wgv-server by guests that break
 * every rule of the protocol, the transport and the handshake.
 *
 *   hostile SERVER GOOD_WIRE GOOD_NATIVE HUGE_ALLOC OOB_SHADER
 *
 * The suite starts its own wgv-server (--verbose, stderr to a log in a
 * private folder). Each attack then has to pass three checks:
 *
 *   1. the server is still running and serving: a well-behaved guest (the
 *      parity program compute_storage-wire) started after the attack, and
 *      for some attacks also during it, prints exactly what the native
 *      build prints, and its context leaves with 0 live objects;
 *   2. the attacker's own context ends with a clear reason (its context-lost
 *      reply and the log's "context N ended: REASON" name the violation),
 *      or the attack is refused harmlessly (a handshake REFUSE with a reason,
 *      a WebGPU validation error, or nothing at all for input the protocol
 *      allows);
 *   3. nothing leaks: the server's open files (/proc/PID/fd) and threads
 *      (/proc/PID/task) return to their baseline once the attackers are
 *      gone.
 *
 * One line per attack ("ok   NAME" or "FAIL NAME: why") and, last,
 * "hostile: N passed, M failed". A server that dies is restarted so that
 * later attacks still run. HOSTILE_ONLY=name,name runs only those attacks;
 * HOSTILE_KEEP=1 keeps the server logs (they are kept anyway on failure).
 * Run it against a sanitizer build of the server by passing that server's
 * path as SERVER (everything else may come from the normal build).
 *
 * BUGS this suite found in the server (their attacks fail until fixed):
 *
 * 1. error_object_outlives_its_device: a use-after-free that crashes the
 *    server (SIGSEGV) for every guest. A slot holds a raw pointer to the
 *    device of the command that created it (wgv_slot.device) without a
 *    reference. For an error object (a creation the host did not run: a
 *    chained struct the backend lacks, a quota, an error argument) no
 *    backend object keeps that device alive. Reproducer on one connection:
 *    RequestAdapter, RequestDevice (device 1, queue 1); CreateBuffer on
 *    device 1 whose descriptor chains a WGPUTextureComponentSwizzleDescriptor
 *    (validation error, buffer 1 becomes an error slot); wgvRelease queue 1
 *    and device 1 (the device is destroyed, its lost callback arrives);
 *    BufferSetLabel(buffer 1): run_command sees an error object,
 *    wgv_host_report_error() takes command_device() = the freed device and
 *    calls deviceInjectError on it: SIGSEGV in DeviceBase::HandleError (under
 *    ASan: SEGV via APIInjectError from run_command, src/host/submit.c).
 *
 * 2. callbacks_on_error_objects_still_fire: a command that names an error
 *    object is skipped (a validation error is injected) but the callback it
 *    carries is never answered, so the guest waits for ever (WebGPU fires
 *    every callback exactly once; natively these fire with an error):
 *    mapAsync of an error buffer, getCompilationInfo of an error shader
 *    module, onSubmittedWorkDone of an error queue (from a failed device
 *    request), popErrorScope of an error device, createComputePipelineAsync
 *    with an error module. Well-behaved programs get error objects too (an
 *    object past a quota, a chained struct the host's Dawn lacks).
 *
 * 3. device_flood_within_quotas, shader_module_flood_within_quotas,
 *    pipeline_flood_within_quotas: the quotas do not bound what one guest
 *    costs the host. Only buffers and textures count against the memory
 *    quota; a device costs the server ~9-30 MiB and one thread, a shader
 *    module keeps its source (~0.2-1.3 MiB for 512 KiB of WGSL), a compute
 *    pipeline ~60-300 KiB, and the object quota (2^20) allows a million of
 *    each: a single guest can take all of the host's memory (the OOM killer
 *    then ends the server and every guest), e.g. with ~2,500 RequestDevice
 *    calls on a 23 GiB machine.
 */
#include "hostile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

const char *good_exe;
char *native_out;
char tmpdir[200];
static const char *server_exe, *native_exe, *huge_exe, *oob_exe, *toggles_exe, *toggles_native_exe;


/* ================================================================ server */

static int count_entries(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static int server_fds(void)
{
    char p[64];
    snprintf(p, sizeof(p), "/proc/%d/fd", (int)srv.pid);
    return count_entries(p);
}

static int server_threads(void)
{
    char p[64];
    snprintf(p, sizeof(p), "/proc/%d/task", (int)srv.pid);
    return count_entries(p);
}

/* How the server ended, if it did. */
static bool server_exited(char *how, size_t cap)
{
    if (!server_gone())
        return false;
    int st = srv.status;
    if (WIFSIGNALED(st))
        snprintf(how, cap, "killed by signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
    else
        snprintf(how, cap, "exited with status %d", WEXITSTATUS(st));
    return true;
}

/* Waits until the server is back to its baseline of files and threads. */
static void settle(const char *when)
{
    int64_t deadline = now_ms() + 12000;
    int fds, threads;
    for (;;) {
        fds = server_fds();
        threads = server_threads();
        if (fds >= 0 && fds <= srv.base_fds && threads <= srv.base_threads)
            return;
        if (now_ms() > deadline)
            break;
        sleep_ms(20);
    }
    fail("%s: the server holds %d open files (baseline %d) and %d threads (baseline %d) "
         "12 s after the attackers left", when, fds, srv.base_fds, threads, srv.base_threads);
}

static bool server_start(void)
{
    static unsigned generation;
    snprintf(srv.log, sizeof(srv.log), "%s/server.%u.log", tmpdir, ++generation);
    snprintf(sock_path, sizeof(sock_path), "%s/wgv.sock", tmpdir);
    unlink(sock_path);
    char *argv[] = {(char *)server_exe, "--socket", sock_path, "--verbose", NULL};
    srv.pid = spawn(server_exe, argv, NULL, srv.log);
    srv.conns = 0;
    srv.dead = false;
    char want[400];
    snprintf(want, sizeof(want), "listening on %s", sock_path);
    int64_t deadline = now_ms() + 10000;
    while (!log_has(want)) {
        char how[128];
        if (server_exited(how, sizeof(how)) || now_ms() > deadline) {
            fprintf(stderr, "hostile: wgv-server did not start\n");
            return false;
        }
        sleep_ms(10);
    }
    /* A first guest loads the driver; what stays after it is the baseline.
     * (The running attack's verdict is kept aside meanwhile.) */
    char saved[2300];
    snprintf(saved, sizeof(saved), "%s", fail_reason());
    fail_reset();
    struct good g;
    good_start(&g, true);
    good_finish(&g, "at start");
    bool ok = !failed();
    if (!ok)
        fprintf(stderr, "hostile: %s\n", fail_reason());
    fail_reset();
    if (saved[0])
        fail("%s", saved);
    if (!ok)
        return false;
    sleep_ms(300);
    srv.base_fds = server_fds();
    srv.base_threads = server_threads();
    fprintf(stderr, "hostile: server %d: baseline %d files, %d threads\n", (int)srv.pid,
            srv.base_fds, srv.base_threads);
    return true;
}

static void server_stop(void)
{
    if (server_gone())
        return;
    kill(srv.pid, SIGKILL);
    waitpid(srv.pid, NULL, 0);
    srv.dead = true;
}

/* ================================================================ runner */

static int passed, failures;

static bool selected(const char *name)
{
    const char *only = getenv("HOSTILE_ONLY");
    if (!only || !*only)
        return true;
    size_t n = strlen(name);
    for (const char *p = only; (p = strstr(p, name)); p += n)
        if ((p == only || p[-1] == ',') && (p[n] == 0 || p[n] == ','))
            return true;
    return false;
}

static void run_attack(const char *name, void (*fn)(void))
{
    if (!selected(name))
        return;
    fail_reset();
    int64_t t0 = now_ms();
    fn();
    char how[160];
    if (server_exited(how, sizeof(how))) {
        char msg[2300];
        snprintf(msg, sizeof(msg), "%s", fail_reason());
        fail_reset();
        fail("the server died: %s%s%s (log: %s)", how, msg[0] ? "; also: " : "", msg, srv.log);
        server_start();
    } else {
        struct good g;
        good_start(&g, true);
        good_finish(&g, "after the attack");
        settle("after the attack");
        if (failed() && (strstr(fail_reason(), "well-behaved") || strstr(fail_reason(), "holds"))) {
            /* Start afresh so that one broken server does not fail the rest. */
            server_stop();
            server_start();
        }
    }
    if (failed()) {
        printf("FAIL %s: %s\n", name, fail_reason());
        failures++;
    } else {
        printf("ok   %s\n", name);
        passed++;
    }
    fflush(stdout);
    fprintf(stderr, "hostile: %s took %lld ms\n", name, (long long)(now_ms() - t0));
}

#define ATTACK(fn) run_attack(#fn, fn)

/* ================================================================ helpers */

static void cmd_begin(struct wgv_writer *w, unsigned op)
{
    wgv_writer_init(w);
    struct wgv_cmd_header h = {0, (uint16_t)op, 0};
    wgv_writer_put(w, &h, sizeof(h));
}

/* Ends the record (size field) and publishes it. */
static void cmd_push(struct gconn *g, struct wgv_writer *w)
{
    wgv_writer_align(w, 8);
    uint32_t n = (uint32_t)w->len;
    memcpy(w->data, &n, 4);
    if (!g_push(g, w->data, w->len))
        fail("could not publish a %zu-byte record", w->len);
    wgv_writer_free(w);
}

/* Records of several commands (each with its size), published at once. */
static void push_batch(struct gconn *g, const struct wgv_writer *w)
{
    for (size_t pos = 0; pos < w->len;) {
        uint32_t n;
        memcpy(&n, w->data + pos, 4);
        int st;
        void *dst = wgv_ring_reserve(&g->cmd, n, 2000ll * 1000 * 1000, &st);
        if (!dst) {
            fail("could not reserve a record");
            return;
        }
        memcpy(dst, w->data + pos, n);
        wgv_ring_commit(&g->cmd, n);
        pos += n;
    }
    wgv_ring_publish(&g->cmd);
}

/* The body of wgpuDeviceCreateBuffer written by hand (docs/protocol.md's
 * example), so that every field can lie. */
struct raw_buffer {
    uint64_t device;
    uint32_t presence;
    uint32_t chain_count;
    const void *chain; /* link bytes after the count */
    size_t chain_len;
    uint64_t label_len;
    const char *label; /* bytes to write, may be shorter than label_len */
    uint64_t usage;    /* wire bits */
    uint64_t size;
    uint32_t mapped;
    uint64_t result;
};

static struct raw_buffer raw_buffer_default(void)
{
    struct raw_buffer r = {.device = H(1, 1), .presence = 1, .usage = 1u << 3 /* CopyDst */,
                           .size = 256, .result = H(1, 1)};
    return r;
}

static void raw_create_buffer(struct wgv_writer *w, const struct raw_buffer *r)
{
    cmd_begin(w, WGV_OP_wgpuDeviceCreateBuffer);
    wgv_put_u64(w, r->device);
    wgv_put_u32(w, r->presence);
    if (r->presence) {
        wgv_put_u32(w, r->chain_count);
        if (r->chain_len)
            wgv_writer_put(w, r->chain, r->chain_len);
        wgv_put_u64(w, r->label_len);
        if (r->label) {
            wgv_writer_put(w, r->label, strlen(r->label));
            wgv_writer_align(w, 8);
        }
        wgv_put_u64(w, r->usage);
        wgv_put_u64(w, r->size);
        wgv_put_u32(w, r->mapped);
    }
    wgv_put_u64(w, r->result);
}

static void send_raw_buffer(struct gconn *g, const struct raw_buffer *r)
{
    struct wgv_writer w;
    raw_create_buffer(&w, r);
    cmd_push(g, &w);
}

/* wgpuQueueWriteBuffer with a byte block of any mode, size and offset. */
static void send_raw_write(struct gconn *g, uint32_t mode, uint64_t size, uint64_t where,
                           size_t inline_bytes)
{
    struct wgv_writer w;
    cmd_begin(&w, WGV_OP_wgpuQueueWriteBuffer);
    wgv_put_u64(&w, H(1, 1)); /* queue */
    wgv_put_u64(&w, H(1, 1)); /* buffer */
    wgv_put_u64(&w, 0);       /* bufferOffset */
    wgv_put_u32(&w, mode);
    wgv_put_u64(&w, size);
    if (mode == 0)
        wgv_writer_put(&w, NULL, inline_bytes);
    else if (mode == 1)
        wgv_put_u64(&w, where);
    else if (mode == 2) {
        wgv_put_u32(&w, (uint32_t)where);
        wgv_put_u64(&w, 0);
    }
    cmd_push(g, &w);
}

/* Error scope around a command: returns the wire error type the scope
 * caught (0 NoError, 1 Validation, 2 OutOfMemory, ...), or -1. */
static int scoped(struct gconn *g, void (*cause)(struct gconn *, void *), void *arg)
{
    struct wgv_ga_wgpuDevicePushErrorScope push = {OBJ(WGPUDevice, 1), WGPUErrorFilter_Validation};
    g_send(g, WGV_OP_wgpuDevicePushErrorScope, &push);
    cause(g, arg);
    uint64_t f = g->next_future++;
    struct wgv_ga_wgpuDevicePopErrorScope pop = {OBJ(WGPUDevice, 1), f};
    g_send(g, WGV_OP_wgpuDevicePopErrorScope, &pop);
    const struct cbrec *c = g_wait_cb(g, f, 10000);
    if (!c || c->w0 != 0)
        return -1;
    return (int)c->w1;
}

static uint32_t stype_wire(WGPUSType s)
{
    return wgv_enum_to_wire(&wgv_guest_abi.enums[wgv_guest_abi.stype_enum], (uint32_t)s);
}

static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

/* An attacker with a device, or a failed attack. */
#define WITH_DEVICE(g)                                                          \
    struct gconn g;                                                             \
    if (!g_open(&g, NULL))                                                      \
        return;                                                                 \
    if (!g_device(&g)) {                                                        \
        g_close(&g);                                                            \
        return;                                                                 \
    }

#define WITHOUT_DEVICE(g)                                                       \
    struct gconn g;                                                             \
    if (!g_open(&g, NULL))                                                      \
        return;

/* ================================================================ framing */

/* A record whose size word is 0. */
static void record_size_zero(void)
{
    WITHOUT_DEVICE(g);
    uint32_t w[4] = {0, WGV_OP_wgpuDeviceCreateBuffer, 0, 0};
    g_poke(&g, w, sizeof(w), 16);
    expect_lost(&g, "command ring", true);
}

static void record_size_not_multiple_of_8(void)
{
    WITHOUT_DEVICE(g);
    uint32_t w[4] = {12, WGV_OP_wgpuBufferDestroy, 0, 0};
    g_poke(&g, w, sizeof(w), 16);
    expect_lost(&g, "command ring", true);
}

/* The size word says 64 bytes; 24 are published. */
static void record_size_larger_than_published(void)
{
    WITHOUT_DEVICE(g);
    uint32_t w[6] = {64, WGV_OP_wgpuBufferDestroy, 1, 1, 0, 0};
    g_poke(&g, w, sizeof(w), 24);
    expect_lost(&g, "command ring", true);
}

/* A record of 2 MiB: larger than any message (1 MiB) but not than the ring. */
static void record_larger_than_message_max(void)
{
    WITHOUT_DEVICE(g);
    size_t n = 2u << 20;
    uint8_t *rec = calloc(1, n);
    struct wgv_cmd_header h = {(uint32_t)n, WGV_OP_wgpuDeviceSetLabel, 0};
    memcpy(rec, &h, sizeof(h));
    if (!g_push(&g, rec, n))
        fail("could not publish the 2 MiB record");
    free(rec);
    expect_lost(&g, "command ring: record too big", true);
}

/* Padding records must run exactly to the end of the ring. */
static void padding_record_that_lies(void)
{
    WITHOUT_DEVICE(g);
    uint32_t w[4] = {WGV_RING_PAD_FLAG | 16, 0, 0, 0};
    g_poke(&g, w, sizeof(w), 16);
    expect_lost(&g, "command ring", true);
}

/* Padding that claims more than the ring holds. */
static void padding_record_larger_than_ring(void)
{
    WITHOUT_DEVICE(g);
    uint32_t w[2] = {WGV_RING_PAD_FLAG | 0x7ffffff8u, 0};
    g_poke(&g, w, sizeof(w), 8);
    expect_lost(&g, "command ring", true);
}

/* A record that does not fit before the end of a (small) ring and is not
 * padding: records never wrap. */
static void record_crossing_the_ring_end(void)
{
    struct gconn g;
    struct wgv_shm_sizes sizes = {4096, 0, 0};
    if (!g_open(&g, &sizes))
        return;
    /* 170 harmless records of 24 bytes bring the producer to byte 4080. */
    for (int i = 0; i < 170; i++)
        g_release(&g, WGV_OBJ_Instance, H(1, 1));
    g_drain(&g, 5000);
    uint32_t w[4] = {32, WGV_OP_wgpuBufferDestroy, 1, 1};
    g_poke(&g, w, sizeof(w), 32);
    expect_lost(&g, "command ring", true);
}

/* Every byte 0xFF, the size word included. */
/* A batch (several commands in one record) holding another batch. */
static void batch_inside_a_batch(void)
{
    WITHOUT_DEVICE(g);
    uint32_t w[8] = {32, WGV_OP_wgvBatch, 24, WGV_OP_wgvBatch, 16, WGV_OP_wgpuBufferDestroy, 1, 1};
    if (!g_push(&g, w, sizeof(w)))
        fail("push failed");
    expect_lost(&g, "wgvBatch inside a batch", true);
}

/* A batched command whose size runs past the end of its batch. */
static void batched_command_past_the_batch(void)
{
    WITHOUT_DEVICE(g);
    uint32_t w[6] = {24, WGV_OP_wgvBatch, 32, WGV_OP_wgpuBufferDestroy, 1, 1};
    if (!g_push(&g, w, sizeof(w)))
        fail("push failed");
    expect_lost(&g, "command size 32 at byte 0 is invalid", true);
}

static void garbage_all_0xff(void)
{
    WITHOUT_DEVICE(g);
    uint8_t junk[256];
    memset(junk, 0xff, sizeof(junk));
    g_poke(&g, junk, sizeof(junk), sizeof(junk));
    expect_lost(&g, "command ring", true);
}

static void ring_head_unaligned(void)
{
    WITHOUT_DEVICE(g);
    uint32_t w[4] = {16, WGV_OP_wgpuBufferDestroy, 1, 1};
    g_poke(&g, w, sizeof(w), 12);
    expect_lost(&g, "command ring", true);
}

/* head far ahead of anything the ring can hold. */
static void ring_head_far_ahead(void)
{
    WITHOUT_DEVICE(g);
    uint32_t w[4] = {16, WGV_OP_wgpuBufferDestroy, 1, 1};
    g_poke(&g, w, sizeof(w), 1ull << 40);
    expect_lost(&g, "command ring", true);
}

/* head moved back behind what the host already consumed. */
static void ring_head_behind_tail(void)
{
    WITHOUT_DEVICE(g);
    g_release(&g, WGV_OBJ_Instance, H(1, 1)); /* harmless, consumed */
    g_release(&g, WGV_OBJ_Instance, H(1, 1));
    g_drain(&g, 5000);
    g.cmd.prod -= 16;
    wgv_ring_publish(&g.cmd);
    expect_lost(&g, "command ring", true);
}

/* head rewound to 0 after two records (behind the tail by the whole
 * stream), with a plausible record at offset 0. */
static void ring_head_rewound_to_zero(void)
{
    WITHOUT_DEVICE(g);
    for (int i = 0; i < 3; i++)
        g_release(&g, WGV_OBJ_Instance, H(1, 1));
    g_drain(&g, 5000);
    atomic_store(&g.cmd.shared->head, 0);
    g.cmd.prod = 0;
    wgv_ring_publish(&g.cmd);
    g.cmd.prod = 8;
    wgv_ring_publish(&g.cmd);
    expect_lost(&g, "command ring", true);
}

/* ================================================================ commands */

static void truncated_command(void)
{
    WITH_DEVICE(g);
    struct wgv_writer w;
    struct raw_buffer r = raw_buffer_default();
    raw_create_buffer(&w, &r);
    w.len = 24; /* header, device, presence, chain count: the rest is cut */
    cmd_push(&g, &w);
    expect_lost(&g, "truncated", true);
}

/* A header and no body at all. */
static void command_header_only(void)
{
    WITH_DEVICE(g);
    struct wgv_writer w;
    cmd_begin(&w, WGV_OP_wgpuDeviceCreateBuffer);
    cmd_push(&g, &w);
    expect_lost(&g, "truncated", true);
}

static void trailing_bytes_after_command(void)
{
    WITH_DEVICE(g);
    struct wgv_writer w;
    struct raw_buffer r = raw_buffer_default();
    raw_create_buffer(&w, &r);
    wgv_put_u64(&w, 0x4141414141414141ull);
    cmd_push(&g, &w);
    expect_lost(&g, "left over", true);
}

static void unknown_opcode(void)
{
    WITHOUT_DEVICE(g);
    struct wgv_writer w;
    cmd_begin(&w, 0x7fff);
    wgv_put_u64(&w, H(1, 1));
    cmd_push(&g, &w);
    expect_lost(&g, "unknown opcode 32767", true);
}

static void opcode_zero(void)
{
    WITHOUT_DEVICE(g);
    struct wgv_writer w;
    cmd_begin(&w, 0);
    wgv_put_u64(&w, H(1, 1));
    cmd_push(&g, &w);
    expect_lost(&g, "unknown opcode 0", true);
}

static void opcode_one_past_the_last(void)
{
    WITHOUT_DEVICE(g);
    struct wgv_writer w;
    cmd_begin(&w, WGV_OP_COUNT);
    wgv_put_u64(&w, H(1, 1));
    cmd_push(&g, &w);
    char want[64];
    snprintf(want, sizeof(want), "unknown opcode %u", WGV_OP_COUNT);
    expect_lost(&g, want, true);
}

/* Every opcode, its body all 0xFF; one connection each. */
static void every_opcode_with_0xff_body(void)
{
    for (unsigned op = 1; op < WGV_OP_COUNT && !failed(); op++) {
        WITHOUT_DEVICE(g);
        struct wgv_writer w;
        cmd_begin(&w, op);
        uint8_t junk[120];
        memset(junk, 0xff, sizeof(junk));
        wgv_writer_put(&w, junk, sizeof(junk));
        cmd_push(&g, &w);
        expect_lost(&g, wgv_command_name[op], true);
        if (failed()) {
            char msg[2300];
            snprintf(msg, sizeof(msg), "%s", fail_reason());
            fail_reset();
            fail("opcode %u (%s): %s", op, wgv_command_name[op], msg);
        }
    }
}

/* Random records (fixed seed): random opcodes, sizes and bytes, with
 * valid handles sprinkled in so that decoding gets further. */
static void seeded_random_records(void)
{
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    for (int conn = 0; conn < 24 && !failed(); conn++) {
        WITH_DEVICE(g);
        for (int i = 0; i < 8; i++) {
            uint64_t x = xorshift(&seed);
            unsigned op = 1 + (unsigned)(x % (WGV_OP_COUNT - 1));
            size_t words = (size_t)((x >> 16) % 24);
            struct wgv_writer w;
            cmd_begin(&w, op);
            for (size_t k = 0; k < words; k++) {
                uint64_t y = xorshift(&seed);
                uint64_t v;
                switch (y % 6) {
                case 0: v = H(1, 1); break;         /* a live object of several types */
                case 1: v = 0; break;
                case 2: v = 1; break;
                case 3: v = y >> 8; break;
                case 4: v = UINT64_MAX; break;
                default: v = (y >> 20) & 0xffff; break;
                }
                wgv_put_u64(&w, v);
            }
            cmd_push(&g, &w);
        }
        /* Either the context ended with a reason, or what it ran was valid
         * enough; both are fine if the server survives. */
        g_pump(&g);
        sleep_ms(5);
        g_pump(&g);
        bool lost = g.lost;
        unsigned id = g.id;
        if (lost)
            expect_lost(&g, NULL, true);
        else
            g_close(&g);
        if (!wait_ctx_end(id, 10000, NULL, 0))
            fail("random records (connection %d): context %u never ended", conn, id);
    }
}

/* ================================================================ counts */

/* wgpuQueueSubmit claiming 2^60 command buffers. */
static void array_count_2_60(void)
{
    WITH_DEVICE(g);
    struct wgv_writer w;
    cmd_begin(&w, WGV_OP_wgpuQueueSubmit);
    wgv_put_u64(&w, H(1, 1));
    wgv_put_u64(&w, 1ull << 60);
    wgv_put_u64(&w, H(1, 1));
    cmd_push(&g, &w);
    expect_lost(&g, "array count", true);
}

/* An array whose count fits the bytes left (a quarter of them), filled
 * with zeroes: the host must bound what it allocates for the elements. */
static void wide_array_of_zero_structs(void)
{
    WITH_DEVICE(g);
    size_t total = WGV_MESSAGE_MAX;
    struct wgv_writer w;
    cmd_begin(&w, WGV_OP_wgpuDeviceCreateBindGroupLayout);
    wgv_put_u64(&w, H(1, 1)); /* device */
    wgv_put_u32(&w, 1);       /* descriptor present */
    wgv_put_u32(&w, 0);       /* no chain */
    wgv_put_u64(&w, 0);       /* label "" */
    size_t left = total - w.len - 8;
    wgv_put_u64(&w, left / 4); /* entries: as many as could ever fit */
    wgv_writer_put(&w, NULL, total - w.len);
    cmd_push(&g, &w);
    expect_lost(&g, "BindGroupLayout", true);
}

static void string_length_2_63(void)
{
    WITH_DEVICE(g);
    struct raw_buffer r = raw_buffer_default();
    r.label_len = 1ull << 63;
    r.label = "abcdefgh";
    send_raw_buffer(&g, &r);
    expect_lost(&g, "truncated", true);
}

/* A string length that makes position + length wrap around. */
static void string_length_wraps_around(void)
{
    WITH_DEVICE(g);
    struct raw_buffer r = raw_buffer_default();
    r.label_len = UINT64_MAX - 15;
    r.label = "abcdefgh";
    send_raw_buffer(&g, &r);
    expect_lost(&g, "truncated", true);
}

static void chain_link_count_huge(void)
{
    WITH_DEVICE(g);
    struct raw_buffer r = raw_buffer_default();
    r.chain_count = 0xffffffffu;
    send_raw_buffer(&g, &r);
    expect_lost(&g, "chain of 4294967295 structs exceeds 16", true);
}

/* An inline byte block that says it has 2^63 bytes. */
static void inline_byte_block_size_huge(void)
{
    WITH_DEVICE(g);
    g_create_buffer(&g, 1, 1, 256, WGPUBufferUsage_CopyDst, false);
    send_raw_write(&g, 0, 1ull << 63, 0, 64);
    expect_lost(&g, "truncated", true);
}

static void bulk_block_size_huge(void)
{
    WITH_DEVICE(g);
    g_create_buffer(&g, 1, 1, 256, WGPUBufferUsage_CopyDst, false);
    send_raw_write(&g, 1, UINT64_MAX, 0, 0);
    expect_lost(&g, "outside shared memory", true);
}

static void bulk_offset_past_the_area(void)
{
    WITH_DEVICE(g);
    g_create_buffer(&g, 1, 1, 256, WGPUBufferUsage_CopyDst, false);
    send_raw_write(&g, 1, 16, g.conn.shm.sizes.bulk + 4096, 0);
    expect_lost(&g, "outside shared memory", true);
}

/* offset + size overflows 64 bits (and would land inside if it wrapped). */
static void bulk_offset_plus_size_overflows(void)
{
    WITH_DEVICE(g);
    g_create_buffer(&g, 1, 1, 256, WGPUBufferUsage_CopyDst, false);
    send_raw_write(&g, 1, 64, UINT64_MAX - 31, 0);
    expect_lost(&g, "outside shared memory", true);
}

/* A range that starts inside and ends one byte past the area. */
static void bulk_range_one_past_the_end(void)
{
    WITH_DEVICE(g);
    g_create_buffer(&g, 1, 1, 256, WGPUBufferUsage_CopyDst, false);
    send_raw_write(&g, 1, 256, g.conn.shm.sizes.bulk - 255, 0);
    expect_lost(&g, "outside shared memory", true);
}

static void byte_block_unknown_mode(void)
{
    WITH_DEVICE(g);
    g_create_buffer(&g, 1, 1, 256, WGPUBufferUsage_CopyDst, false);
    send_raw_write(&g, 7, 16, 0, 16);
    expect_lost(&g, "byte block mode 7 is unknown", true);
}

/* Mode 2 names an embedder resource; wgv-server attaches none. */
static void byte_block_of_unattached_resource(void)
{
    WITH_DEVICE(g);
    g_create_buffer(&g, 1, 1, 256, WGPUBufferUsage_CopyDst, false);
    send_raw_write(&g, 2, 16, 1, 0);
    expect_lost(&g, "not attached memory", true);
}

/* ================================================================ chains */

static void unknown_stype_in_chain(void)
{
    WITH_DEVICE(g);
    struct raw_buffer r = raw_buffer_default();
    uint32_t link = 0x7fffu;
    r.chain_count = 1;
    r.chain = &link;
    r.chain_len = 4;
    send_raw_buffer(&g, &r);
    expect_lost(&g, "sType 32767 may not be chained", true);
}

static void chain_longer_than_allowed(void)
{
    WITH_DEVICE(g);
    struct raw_buffer r = raw_buffer_default();
    uint32_t links[17];
    for (int i = 0; i < 17; i++)
        links[i] = 0xffffffffu;
    r.chain_count = 17;
    r.chain = links;
    r.chain_len = sizeof(links);
    send_raw_buffer(&g, &r);
    expect_lost(&g, "chain of 17 structs exceeds 16", true);
}

static void send_marker_chain(struct gconn *g, void *arg)
{
    (void)arg;
    struct raw_buffer r = raw_buffer_default();
    uint32_t links[16];
    for (int i = 0; i < 16; i++)
        links[i] = 0xffffffffu;
    r.chain_count = 16;
    r.chain = links;
    r.chain_len = sizeof(links);
    send_raw_buffer(g, &r);
}

/* 16 links of the "the wire lacks this sType" marker: allowed on the wire,
 * rejected by WebGPU as a validation error. */
static void chain_of_unsupported_markers_is_a_validation_error(void)
{
    WITH_DEVICE(g);
    int t = scoped(&g, send_marker_chain, NULL);
    if (t != 1)
        fail("expected a validation error, the scope caught %d%s%s", t, g.lost ? ": " : "",
             g.lost_reason);
    expect_alive_and_leave(&g, 1);
}

static void send_swizzle_chain(struct gconn *g, void *arg)
{
    (void)arg;
    WGPUTextureComponentSwizzleDescriptor swz = WGPU_TEXTURE_COMPONENT_SWIZZLE_DESCRIPTOR_INIT;
    swz.swizzle.r = WGPUComponentSwizzle_G;
    WGPUBufferDescriptor d = WGPU_BUFFER_DESCRIPTOR_INIT;
    d.nextInChain = &swz.chain;
    d.size = 64;
    d.usage = WGPUBufferUsage_CopyDst;
    struct wgv_ga_wgpuDeviceCreateBuffer a = {OBJ(WGPUDevice, 1), &d, OBJ(WGPUBuffer, 1)};
    g_send(g, WGV_OP_wgpuDeviceCreateBuffer, &a);
}

/* A standard chained struct the host's implementation lacks, chained where
 * it does not belong: walked, then refused as a validation error. */
static void chained_struct_the_backend_lacks(void)
{
    WITH_DEVICE(g);
    int t = scoped(&g, send_swizzle_chain, NULL);
    if (t != 1)
        fail("expected a validation error, the scope caught %d%s%s", t, g.lost ? ": " : "",
             g.lost_reason);
    expect_alive_and_leave(&g, 1);
}

/* An error object (a creation the host refused to run) outlives the
 * device it was made on: using it afterwards must not reach the device. */
static void error_object_outlives_its_device(void)
{
    WITH_DEVICE(g);
    int t = scoped(&g, send_swizzle_chain, NULL); /* buffer 1: an error object */
    if (t != 1)
        fail("expected a validation error, the scope caught %d", t);
    g_release(&g, WGV_OBJ_Queue, H(1, 1));
    g_release(&g, WGV_OBJ_Device, H(1, 1));
    /* Let the device go (its lost callback comes back). */
    if (!g_wait_cb(&g, 3, 10000))
        fail("the released device was not lost");
    struct wgv_ga_wgpuBufferSetLabel l = {OBJ(WGPUBuffer, 1), {"after", 5}};
    struct wgv_ga_wgpuBufferDestroy d = {OBJ(WGPUBuffer, 1)};
    for (int i = 0; i < 4; i++) {
        g_send(&g, WGV_OP_wgpuBufferSetLabel, &l);
        g_send(&g, WGV_OP_wgpuBufferDestroy, &d);
    }
    /* A new device; the error object is used again next to it. */
    struct wgv_ga_wgpuAdapterRequestDevice rd = {
        OBJ(WGPUAdapter, 1), NULL, 30, OBJG(WGPUDevice, 1, 2), OBJG(WGPUQueue, 1, 2), 31, 32};
    g_send(&g, WGV_OP_wgpuAdapterRequestDevice, &rd);
    const struct cbrec *c = g_wait_cb(&g, 30, 10000);
    if (!c || c->w0 != 0)
        fail("no second device%s%s", g.lost ? ": " : "", g.lost_reason);
    g_send(&g, WGV_OP_wgpuBufferSetLabel, &l);
    struct wgv_ga_wgpuQueueOnSubmittedWorkDone a = {OBJG(WGPUQueue, 1, 2), 33};
    g_send(&g, WGV_OP_wgpuQueueOnSubmittedWorkDone, &a);
    if (!g_wait_cb(&g, 33, 10000))
        fail("the context stopped serving%s%s", g.lost ? ": " : "", g.lost_reason);
    /* The old device's error object must not raise errors on the new one. */
    sleep_ms(50);
    g_pump(&g);
    for (unsigned i = 0; i < g.ncb; i++)
        if (g.cbs[i].key == 32)
            fail("an error about device 1's buffer was raised on device 2 "
                 "(uncaptured-error callback of the new device)");
    g_release(&g, WGV_OBJ_Buffer, H(1, 1));
    g_release(&g, WGV_OBJ_Queue, H(1, 2));
    g_release(&g, WGV_OBJ_Device, H(1, 2));
    g_release(&g, WGV_OBJ_Adapter, H(1, 1));
    g_drain(&g, 5000);
    unsigned id = g.id;
    g_close(&g);
    char line[600];
    if (!wait_ctx_end(id, 10000, line, sizeof(line)) ||
        !strstr(line, "guest left with 0 live objects"))
        fail("the attacker's tidy exit: \"%s\"", line);
}

/* The widest nesting the decoder allows: thousands of bind group layout
 * entries, each with a chain of 16 chained structs. Refused harmlessly
 * (validation error) or ended with a reason; either way bounded. */
static void send_nesting_bomb(struct gconn *g, void *arg)
{
    (void)arg;
    enum { N = 3000, L = 16 };
    WGPUBindGroupLayoutEntry *e = calloc(N, sizeof(*e));
    WGPUExternalTextureBindingLayout *links = calloc((size_t)N * L, sizeof(*links));
    for (unsigned i = 0; i < N; i++) {
        e[i] = (WGPUBindGroupLayoutEntry)WGPU_BIND_GROUP_LAYOUT_ENTRY_INIT;
        e[i].binding = i;
        e[i].visibility = WGPUShaderStage_Compute;
        e[i].buffer.type = WGPUBufferBindingType_Storage;
        for (unsigned k = 0; k < L; k++) {
            WGPUExternalTextureBindingLayout *l = &links[i * L + k];
            l->chain.sType = WGPUSType_ExternalTextureBindingLayout;
            l->chain.next = k + 1 < L ? &links[i * L + k + 1].chain : NULL;
        }
        e[i].nextInChain = &links[i * L].chain;
    }
    WGPUBindGroupLayoutDescriptor d = WGPU_BIND_GROUP_LAYOUT_DESCRIPTOR_INIT;
    d.entryCount = N;
    d.entries = e;
    struct wgv_ga_wgpuDeviceCreateBindGroupLayout a = {OBJ(WGPUDevice, 1), &d,
                                                       OBJ(WGPUBindGroupLayout, 1)};
    g_send(g, WGV_OP_wgpuDeviceCreateBindGroupLayout, &a);
    free(links);
    free(e);
}

static void nesting_bomb(void)
{
    WITH_DEVICE(g);
    int t = scoped(&g, send_nesting_bomb, NULL);
    if (g.lost) {
        expect_lost(&g, NULL, true);
        return;
    }
    if (t != 1)
        fail("expected a validation error, the scope caught %d", t);
    g_release(&g, WGV_OBJ_BindGroupLayout, H(1, 1));
    expect_alive_and_leave(&g, 0);
}

/* ================================================================ scalars */

static void enum_value_out_of_range(void)
{
    WITHOUT_DEVICE(g);
    struct wgv_writer w;
    cmd_begin(&w, WGV_OP_wgpuInstanceRequestAdapter);
    wgv_put_u64(&w, H(1, 1)); /* instance */
    wgv_put_u32(&w, 1);       /* options present */
    wgv_put_u32(&w, 0);       /* no chain */
    wgv_put_u32(&w, 1000);    /* featureLevel: no such value */
    wgv_put_u32(&w, 0);
    wgv_put_u32(&w, 0);
    wgv_put_u32(&w, 0);
    wgv_put_u64(&w, 0);
    wgv_put_u64(&w, 1);
    wgv_put_u64(&w, H(1, 1));
    cmd_push(&g, &w);
    expect_lost(&g, "value 1000 is not on the wire", true);
}

static void bool_value_2(void)
{
    WITH_DEVICE(g);
    struct raw_buffer r = raw_buffer_default();
    r.mapped = 2;
    send_raw_buffer(&g, &r);
    expect_lost(&g, "bool value 2", true);
}

static void pointer_presence_2(void)
{
    WITH_DEVICE(g);
    struct raw_buffer r = raw_buffer_default();
    r.presence = 2;
    send_raw_buffer(&g, &r);
    expect_lost(&g, "presence 2", true);
}

static void required_pointer_null(void)
{
    WITH_DEVICE(g);
    struct raw_buffer r = raw_buffer_default();
    r.presence = 0;
    send_raw_buffer(&g, &r);
    expect_lost(&g, "required pointer is null", true);
}

static void send_bit63_usage(struct gconn *g, void *arg)
{
    (void)arg;
    struct raw_buffer r = raw_buffer_default();
    r.usage = (1ull << 63) | (1ull << 62) | 0xffffull;
    send_raw_buffer(g, &r);
}

/* Usage bits the wire cannot name: a validation error, not a crash. */
static void flag_bits_the_wire_lacks(void)
{
    WITH_DEVICE(g);
    int t = scoped(&g, send_bit63_usage, NULL);
    if (t != 1)
        fail("expected a validation error, the scope caught %d%s%s", t, g.lost ? ": " : "",
             g.lost_reason);
    expect_alive_and_leave(&g, 1);
}

/* ================================================================ objects */

static void object_id_zero_where_required(void)
{
    WITH_DEVICE(g);
    struct raw_buffer r = raw_buffer_default();
    r.device = 0;
    send_raw_buffer(&g, &r);
    expect_lost(&g, "null object where one is required", true);
}

static void object_id_far_past_the_table(void)
{
    WITH_DEVICE(g);
    struct raw_buffer r = raw_buffer_default();
    r.device = H(100000, 1);
    send_raw_buffer(&g, &r);
    expect_lost(&g, "object 100000 (generation 1) is not a live object", true);
}

/* A buffer's handle where a texture is expected. */
static void object_of_the_wrong_type(void)
{
    WITH_DEVICE(g);
    g_create_buffer(&g, 1, 1, 256, WGPUBufferUsage_CopyDst, false);
    struct wgv_ga_wgpuTextureDestroy d = {OBJ(WGPUTexture, 1)};
    g_send(&g, WGV_OP_wgpuTextureDestroy, &d);
    expect_lost(&g, "is not a live object", true);
}

/* The device's handle with the maximal id and generation. */
static void object_handle_all_ones(void)
{
    WITH_DEVICE(g);
    struct raw_buffer r = raw_buffer_default();
    r.device = UINT64_MAX;
    send_raw_buffer(&g, &r);
    expect_lost(&g, "is not a live object", true);
}

static void new_object_id_far_past_the_table(void)
{
    WITH_DEVICE(g);
    g_create_buffer(&g, 1000, 1, 256, WGPUBufferUsage_CopyDst, false);
    expect_lost(&g, "object 1000 (generation 1) cannot be created", true);
}

static void new_object_id_zero(void)
{
    WITH_DEVICE(g);
    struct raw_buffer r = raw_buffer_default();
    r.result = 0;
    send_raw_buffer(&g, &r);
    expect_lost(&g, "cannot be created", true);
}

static void new_object_generation_zero(void)
{
    WITH_DEVICE(g);
    g_create_buffer(&g, 1, 0, 256, WGPUBufferUsage_CopyDst, false);
    expect_lost(&g, "object 1 (generation 0) cannot be created", true);
}

/* id 1 released, then created again with the same generation. */
static void reused_id_with_stale_generation(void)
{
    WITH_DEVICE(g);
    g_create_buffer(&g, 1, 5, 256, WGPUBufferUsage_CopyDst, false);
    g_release(&g, WGV_OBJ_Buffer, H(1, 5));
    g_create_buffer(&g, 1, 4, 256, WGPUBufferUsage_CopyDst, false);
    expect_lost(&g, "object 1 (generation 4) cannot be created", true);
}

/* An old generation used after the id was created again. */
static void stale_handle_after_reuse(void)
{
    WITH_DEVICE(g);
    g_create_buffer(&g, 1, 1, 256, WGPUBufferUsage_CopyDst, false);
    g_release(&g, WGV_OBJ_Buffer, H(1, 1));
    g_create_buffer(&g, 1, 2, 256, WGPUBufferUsage_CopyDst, false);
    struct wgv_ga_wgpuBufferDestroy d = {OBJG(WGPUBuffer, 1, 1)};
    g_send(&g, WGV_OP_wgpuBufferDestroy, &d);
    expect_lost(&g, "object 1 (generation 1) is not a live object", true);
}

static void create_with_an_id_that_is_live(void)
{
    WITH_DEVICE(g);
    g_create_buffer(&g, 1, 1, 256, WGPUBufferUsage_CopyDst, false);
    g_create_buffer(&g, 1, 2, 256, WGPUBufferUsage_CopyDst, false);
    expect_lost(&g, "object 1 (generation 2) cannot be created", true);
}

/* The device's id claimed again as a new device by another RequestDevice. */
static void request_device_into_a_live_id(void)
{
    WITH_DEVICE(g);
    struct wgv_ga_wgpuAdapterRequestDevice rd = {
        OBJ(WGPUAdapter, 1), NULL, 10, OBJ(WGPUDevice, 1), OBJ(WGPUQueue, 2), 11, 12};
    g_send(&g, WGV_OP_wgpuAdapterRequestDevice, &rd);
    expect_lost(&g, "cannot be created", true);
}

/* Creates command encoders ids first .. last-1 (generation gen), each
 * released at once when `release`, in batches; stops once the context is
 * lost. Returns the first id not sent. */
static uint32_t encoder_churn(struct gconn *g, uint32_t first, uint32_t last, uint32_t gen,
                              bool release)
{
    uint32_t id = first;
    while (id < last && !g->lost && !failed()) {
        struct wgv_writer w;
        wgv_writer_init(&w);
        for (unsigned i = 0; i < 256 && id < last; i++, id++) {
            struct wgv_ga_wgpuDeviceCreateCommandEncoder ce = {
                OBJ(WGPUDevice, 1), NULL, OBJG(WGPUCommandEncoder, id, gen)};
            g_encode(WGV_OP_wgpuDeviceCreateCommandEncoder, &ce, &w);
            if (release) {
                struct wgv_ga_wgvRelease r = {WGV_OBJ_CommandEncoder, H(id, gen)};
                g_encode(WGV_OP_wgvRelease, &r, &w);
            }
        }
        push_batch(g, &w);
        wgv_writer_free(&w);
        if (!g_drain(g, 10000))
            break;
        g_pump(g);
    }
    return id;
}

/* Objects created and released with ever-new ids, never reusing a freed
 * one: each new id used to grow the host's table for good, uncharged (and
 * at 2^31 entries its capacity doubling wrapped). The guest library reuses
 * freed ids before it takes new ones, so the host lets the ids of a type run
 * only a little (1024) ahead of its objects in use: the context must end
 * after about that many, naming the reason. */
static void new_ids_instead_of_freed_ones(void)
{
    WITH_DEVICE(g);
    enum { IDS = 16384 };
    uint32_t sent = encoder_churn(&g, 1, IDS, 1, true);
    if (!g.lost)
        g_pump(&g);
    const char *at = strstr(g.lost_reason, "object ");
    unsigned long refused = at ? strtoul(at + 7, NULL, 10) : 0;
    if (g.lost && (!refused || refused > 1024 + 64))
        fail("the host let a guest name %lu new ids with every older one free (%s)", refused,
             g.lost_reason);
    else if (g.lost)
        fprintf(stderr, "hostile:   ended at id %lu: %s\n", refused, g.lost_reason);
    else
        fprintf(stderr, "hostile:   %u new ids sent, each released, context alive\n", sent - 1);
    expect_lost(&g, "freed ids", true);
}

/* A few freed ids left unused while a new one is taken, as two guest
 * threads whose commands cross may do: still served. */
static void new_id_while_a_few_are_free_is_served(void)
{
    WITH_DEVICE(g);
    encoder_churn(&g, 1, 201, 1, false);
    for (uint32_t id = 1; id <= 200; id += 2)
        g_release(&g, WGV_OBJ_CommandEncoder, H(id, 1));
    /* 100 ids free; new ones go on being accepted while that stays so. */
    encoder_churn(&g, 201, 301, 1, false);
    for (uint32_t id = 2; id <= 300; id += (id < 200 ? 2 : 1))
        g_release(&g, WGV_OBJ_CommandEncoder, H(id, 1));
    expect_alive_and_leave(&g, 0);
}

static void release_twice(void)
{
    WITH_DEVICE(g);
    g_create_buffer(&g, 1, 1, 256, WGPUBufferUsage_CopyDst, false);
    g_release(&g, WGV_OBJ_Buffer, H(1, 1));
    g_release(&g, WGV_OBJ_Buffer, H(1, 1));
    expect_lost(&g, "Buffer 1 (generation 1), which is not live", true);
}

static void use_after_release(void)
{
    WITH_DEVICE(g);
    g_create_buffer(&g, 1, 1, 256, WGPUBufferUsage_CopyDst, false);
    g_release(&g, WGV_OBJ_Buffer, H(1, 1));
    struct wgv_ga_wgpuBufferDestroy d = {OBJ(WGPUBuffer, 1)};
    g_send(&g, WGV_OP_wgpuBufferDestroy, &d);
    expect_lost(&g, "is not a live object", true);
}

/* The queue released, then used for a submit. */
static void queue_used_after_release(void)
{
    WITH_DEVICE(g);
    g_release(&g, WGV_OBJ_Queue, H(1, 1));
    struct wgv_ga_wgpuQueueSubmit s = {OBJ(WGPUQueue, 1), 0, NULL};
    g_send(&g, WGV_OP_wgpuQueueSubmit, &s);
    expect_lost(&g, "is not a live object", true);
}

/* Releasing the instance is accepted and ignored: the instance keeps
 * working (a second adapter is requested through it afterwards). */
static void release_of_the_instance(void)
{
    WITH_DEVICE(g);
    for (int i = 0; i < 3; i++)
        g_release(&g, WGV_OBJ_Instance, H(1, 1));
    struct wgv_ga_wgpuInstanceRequestAdapter ra = {OBJ(WGPUInstance, 1), NULL, 50,
                                                   OBJ(WGPUAdapter, 2)};
    g_send(&g, WGV_OP_wgpuInstanceRequestAdapter, &ra);
    const struct cbrec *c = g_wait_cb(&g, 50, 10000);
    if (!c || c->w0 != 0)
        fail("the instance no longer works after releasing it%s%s", g.lost ? ": " : "",
             g.lost_reason);
    g_release(&g, WGV_OBJ_Adapter, H(2, 1));
    expect_alive_and_leave(&g, 0);
}

static void release_of_unknown_object_types(void)
{
    WITH_DEVICE(g);
    g_release(&g, 0, H(1, 1));
    expect_lost(&g, "which is not live", true);
    WITH_DEVICE(g2);
    g_release(&g2, 0xffffffffu, H(1, 1));
    expect_lost(&g2, "which is not live", true);
}

/* A release that arrives while the adapter it names is still awaited. */
static void release_while_creation_is_pending(void)
{
    WITHOUT_DEVICE(g);
    struct wgv_writer w;
    wgv_writer_init(&w);
    struct wgv_ga_wgpuInstanceRequestAdapter ra = {OBJ(WGPUInstance, 1), NULL, 1,
                                                   OBJ(WGPUAdapter, 1)};
    struct wgv_ga_wgvRelease rel = {WGV_OBJ_Adapter, H(1, 1)};
    g_encode(WGV_OP_wgpuInstanceRequestAdapter, &ra, &w);
    g_encode(WGV_OP_wgvRelease, &rel, &w);
    push_batch(&g, &w);
    wgv_writer_free(&w);
    expect_lost(&g, "Adapter 1 (generation 1), which is not live", true);
}

/* The object a pending map holds released before the map completes: the
 * map ends (aborted) and the context goes on. */
static void release_buffer_with_map_pending(void)
{
    WITH_DEVICE(g);
    g_create_buffer(&g, 1, 1, 1 << 20, WGPUBufferUsage_MapRead | WGPUBufferUsage_CopyDst, false);
    struct wgv_ga_wgpuBufferMapAsync m = {OBJ(WGPUBuffer, 1), WGPUMapMode_Read, 0, 1 << 20, 60, 0, 0, 0};
    struct wgv_ga_wgpuBufferMapAsync m2 = {OBJ(WGPUBuffer, 1), WGPUMapMode_Read, 0, 4096, 61, 0, 0, 0};
    struct wgv_writer w;
    wgv_writer_init(&w);
    g_encode(WGV_OP_wgpuBufferMapAsync, &m, &w);
    g_encode(WGV_OP_wgpuBufferMapAsync, &m2, &w);
    struct wgv_ga_wgvRelease rel = {WGV_OBJ_Buffer, H(1, 1)};
    g_encode(WGV_OP_wgvRelease, &rel, &w);
    push_batch(&g, &w);
    wgv_writer_free(&w);
    if (!g_wait_cb(&g, 60, 10000) || !g_wait_cb(&g, 61, 10000))
        fail("the map callbacks never came%s%s", g.lost ? ": " : "", g.lost_reason);
    expect_alive_and_leave(&g, 0);
}

/* The device destroyed, then used: WebGPU's business, not a crash. */
static void device_used_after_destroy(void)
{
    WITH_DEVICE(g);
    g_create_buffer(&g, 1, 1, 256, WGPUBufferUsage_MapRead | WGPUBufferUsage_CopyDst, false);
    struct wgv_ga_wgpuDeviceDestroy dd = {OBJ(WGPUDevice, 1)};
    g_send(&g, WGV_OP_wgpuDeviceDestroy, &dd);
    g_create_buffer(&g, 2, 1, 256, WGPUBufferUsage_CopyDst, false);
    send_raw_write(&g, 0, 64, 0, 64);
    struct wgv_ga_wgpuBufferMapAsync m = {OBJ(WGPUBuffer, 1), WGPUMapMode_Read, 0, 256, 70, 0, 0, 0};
    g_send(&g, WGV_OP_wgpuBufferMapAsync, &m);
    if (!g_wait_cb(&g, 70, 10000))
        fail("no map callback after the device was destroyed%s%s", g.lost ? ": " : "",
             g.lost_reason);
    g_release(&g, WGV_OBJ_Buffer, H(2, 1));
    expect_alive_and_leave(&g, 1);
}

/* Sends `count` CreateCommandEncoder commands on `device` with new ids
 * from *next_id on; stops early when the host stops reading. */
static void flood_encoders(struct gconn *g, uint64_t device, uint32_t *next_id, uint32_t count)
{
    struct wgv_writer w;
    wgv_writer_init(&w);
    struct wgv_ga_wgpuDeviceCreateCommandEncoder a = {(WGPUDevice)(uintptr_t)device, NULL,
                                                      OBJ(WGPUCommandEncoder, 1)};
    g_encode(WGV_OP_wgpuDeviceCreateCommandEncoder, &a, &w);
    uint32_t n = (uint32_t)w.len;
    for (uint32_t i = 0; i < count; i++, (*next_id)++) {
        uint64_t h = H(*next_id, 1);
        memcpy(w.data + n - 8, &h, 8);
        int st;
        void *dst = wgv_ring_reserve(&g->cmd, n, 3000ll * 1000 * 1000, &st);
        if (!dst)
            break; /* the host stopped reading: the context ended */
        memcpy(dst, w.data, n);
        wgv_ring_commit(&g->cmd, n);
        if (i % 4096 == 0)
            wgv_ring_publish(&g->cmd);
    }
    wgv_ring_publish(&g->cmd);
    wgv_writer_free(&w);
}

static int pop_scope(struct gconn *g)
{
    uint64_t f = g->next_future++;
    struct wgv_ga_wgpuDevicePopErrorScope pop = {OBJ(WGPUDevice, 1), f};
    g_send(g, WGV_OP_wgpuDevicePopErrorScope, &pop);
    const struct cbrec *c = g_wait_cb(g, f, 30000);
    return !c || c->w0 != 0 ? -1 : (int)c->w1;
}

static void push_scope(struct gconn *g, WGPUErrorFilter filter)
{
    struct wgv_ga_wgpuDevicePushErrorScope push = {OBJ(WGPUDevice, 1), filter};
    g_send(g, WGV_OP_wgpuDevicePushErrorScope, &push);
}

/* More objects than a context may hold (2^20): past the quota a creation
 * is an error object and an out-of-memory error; past twice the quota the
 * guest is flooding and its context ends. Device 2 is a failed device
 * request, so that the flood creates cheap error objects; the validation
 * errors about an error device are reported nowhere (natively they would
 * go to that invalid device), so device 1's validation scope stays clean
 * (wire value 0, NoError) and its out-of-memory scope catches the quota
 * (wire value 2, OutOfMemory). */
static void object_quota_exhaustion(void)
{
    WITH_DEVICE(g);
    WGPUFeatureName bogus = (WGPUFeatureName)0x7ffffff0;
    WGPUDeviceDescriptor dd = WGPU_DEVICE_DESCRIPTOR_INIT;
    dd.requiredFeatureCount = 1;
    dd.requiredFeatures = &bogus;
    struct wgv_ga_wgpuAdapterRequestDevice rd = {
        OBJ(WGPUAdapter, 1), &dd, 20, OBJ(WGPUDevice, 2), OBJ(WGPUQueue, 2), 21, 22};
    g_send(&g, WGV_OP_wgpuAdapterRequestDevice, &rd);
    const struct cbrec *c = g_wait_cb(&g, 20, 10000);
    if (!c || c->w0 == 0) {
        fail("the second device request was meant to fail");
        g_close(&g);
        return;
    }
    push_scope(&g, WGPUErrorFilter_OutOfMemory);
    push_scope(&g, WGPUErrorFilter_Validation);
    uint32_t next = 1;
    int64_t t0 = now_ms();
    flood_encoders(&g, H(2, 1), &next, (1u << 20) - 16);
    for (uint32_t i = 1; i <= 32; i++)
        g_create_buffer(&g, i, 1, 256, WGPUBufferUsage_CopyDst, false);
    int v = pop_scope(&g), o = pop_scope(&g);
    fprintf(stderr, "hostile:   %u objects in %lld ms\n", next - 1, (long long)(now_ms() - t0));
    if (v != 0 || o != 2)
        fail("at the quota: expected no validation error on device 1 and an "
             "out-of-memory error (the quota), the scopes caught %d and %d%s%s", v, o,
             g.lost ? "; context lost: " : "", g.lost_reason);
    push_scope(&g, WGPUErrorFilter_OutOfMemory);
    push_scope(&g, WGPUErrorFilter_Validation);
    flood_encoders(&g, H(2, 1), &next, (1u << 20) + 64);
    expect_lost(&g, "cannot be created", true);
}

/* Every callback must fire exactly once (WebGPU's rule, which guests wait
 * on): also for commands the host does not run because an argument is an
 * error object. Each case sends one such command and waits for its reply. */
struct cb_case {
    const char *what;
    uint64_t future;
};

static void send_wgsl_module(struct gconn *g, uint32_t id, uint64_t device, const char *code,
                             bool swizzle)
{
    WGPUShaderSourceWGSL src = WGPU_SHADER_SOURCE_WGSL_INIT;
    src.code = (WGPUStringView){code, strlen(code)};
    WGPUTextureComponentSwizzleDescriptor swz = WGPU_TEXTURE_COMPONENT_SWIZZLE_DESCRIPTOR_INIT;
    swz.swizzle.r = WGPUComponentSwizzle_G;
    if (swizzle)
        src.chain.next = &swz.chain;
    WGPUShaderModuleDescriptor md = WGPU_SHADER_MODULE_DESCRIPTOR_INIT;
    md.nextInChain = &src.chain;
    struct wgv_ga_wgpuDeviceCreateShaderModule a = {(WGPUDevice)(uintptr_t)device, &md,
                                                    OBJ(WGPUShaderModule, id)};
    g_send(g, WGV_OP_wgpuDeviceCreateShaderModule, &a);
}

static const char *compute_wgsl =
    "@group(0) @binding(0) var<storage, read_write> d : array<u32>;\n"
    "@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id : vec3u) {\n"
    "  d[id.x] = id.x * 3u + 1u;\n"
    "}\n";

static void callbacks_on_error_objects_still_fire(void)
{
    WITH_DEVICE(g);
    /* Error objects: buffer 1 and shader module 1 (a chained struct the
     * host's implementation lacks), device 2 and queue 2 (a device request
     * that fails). */
    send_swizzle_chain(&g, NULL);
    send_wgsl_module(&g, 1, H(1, 1), compute_wgsl, true);
    WGPUFeatureName bogus = (WGPUFeatureName)0x7ffffff0;
    WGPUDeviceDescriptor dd = WGPU_DEVICE_DESCRIPTOR_INIT;
    dd.requiredFeatureCount = 1;
    dd.requiredFeatures = &bogus;
    struct wgv_ga_wgpuAdapterRequestDevice rd = {
        OBJ(WGPUAdapter, 1), &dd, 20, OBJ(WGPUDevice, 2), OBJ(WGPUQueue, 2), 21, 22};
    g_send(&g, WGV_OP_wgpuAdapterRequestDevice, &rd);
    const struct cbrec *c = g_wait_cb(&g, 20, 10000);
    if (!c || c->w0 == 0) {
        fail("the second device request was meant to fail");
        g_close(&g);
        return;
    }
    struct wgv_ga_wgpuBufferMapAsync m = {OBJ(WGPUBuffer, 1), WGPUMapMode_Read, 0, 64, 30, 0, 0, 0};
    g_send(&g, WGV_OP_wgpuBufferMapAsync, &m);
    struct wgv_ga_wgpuShaderModuleGetCompilationInfo ci = {OBJ(WGPUShaderModule, 1), 31};
    g_send(&g, WGV_OP_wgpuShaderModuleGetCompilationInfo, &ci);
    struct wgv_ga_wgpuQueueOnSubmittedWorkDone wd = {OBJ(WGPUQueue, 2), 32};
    g_send(&g, WGV_OP_wgpuQueueOnSubmittedWorkDone, &wd);
    struct wgv_ga_wgpuDevicePopErrorScope pop = {OBJ(WGPUDevice, 2), 33};
    g_send(&g, WGV_OP_wgpuDevicePopErrorScope, &pop);
    WGPUComputePipelineDescriptor pd = WGPU_COMPUTE_PIPELINE_DESCRIPTOR_INIT;
    pd.compute.module = OBJ(WGPUShaderModule, 1);
    pd.compute.entryPoint = (WGPUStringView){"main", 4};
    struct wgv_ga_wgpuDeviceCreateComputePipelineAsync cpa = {OBJ(WGPUDevice, 1), &pd, 34,
                                                              OBJ(WGPUComputePipeline, 1)};
    g_send(&g, WGV_OP_wgpuDeviceCreateComputePipelineAsync, &cpa);
    static const struct cb_case cases[] = {
        {"mapAsync of an error buffer", 30},
        {"getCompilationInfo of an error shader module", 31},
        {"onSubmittedWorkDone of an error queue", 32},
        {"popErrorScope of an error device", 33},
        {"createComputePipelineAsync with an error shader module", 34},
    };
    /* A round trip behind them all: what has not come by then never will. */
    if (!g_roundtrip(&g))
        fail("the context stopped serving%s%s", g.lost ? ": " : "", g.lost_reason);
    sleep_ms(200);
    g_pump(&g);
    char missing[600] = "";
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bool seen = false;
        for (unsigned k = 0; k < g.ncb; k++)
            seen |= g.cbs[k].key == cases[i].future;
        if (!seen)
            snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing), "%s%s",
                     missing[0] ? "; " : "", cases[i].what);
    }
    if (missing[0])
        fail("callbacks that never fire (the guest waits forever): %s", missing);
    g_release(&g, WGV_OBJ_ComputePipeline, H(1, 1));
    g_release(&g, WGV_OBJ_ShaderModule, H(1, 1));
    g_release(&g, WGV_OBJ_Queue, H(2, 1));
    g_release(&g, WGV_OBJ_Device, H(2, 1));
    expect_alive_and_leave(&g, 1);
}

/* A guest that leaves (or breaks the protocol) with one callback of every
 * kind still owed: the host must drop them all without touching the gone
 * context (an async pipeline compile, maps, work done, error scopes,
 * compilation info, an adapter and a device request). */
static void owe_every_callback(struct gconn *g)
{
    send_wgsl_module(g, 1, H(1, 1), compute_wgsl, false);
    g_create_buffer(g, 1, 1, 16u << 20, WGPUBufferUsage_MapRead | WGPUBufferUsage_CopyDst, false);
    g_create_buffer(g, 2, 1, 16u << 20, WGPUBufferUsage_MapWrite | WGPUBufferUsage_CopySrc, false);
    for (int i = 0; i < 4; i++)
        send_raw_write(g, 0, 4096, 0, 4096);
    WGPUComputePipelineDescriptor pd = WGPU_COMPUTE_PIPELINE_DESCRIPTOR_INIT;
    pd.compute.module = OBJ(WGPUShaderModule, 1);
    pd.compute.entryPoint = (WGPUStringView){"main", 4};
    struct wgv_ga_wgpuDeviceCreateComputePipelineAsync cpa = {OBJ(WGPUDevice, 1), &pd, 40,
                                                              OBJ(WGPUComputePipeline, 1)};
    g_send(g, WGV_OP_wgpuDeviceCreateComputePipelineAsync, &cpa);
    struct wgv_ga_wgpuBufferMapAsync m = {OBJ(WGPUBuffer, 1), WGPUMapMode_Read, 0, 16u << 20, 41, 0, 0, 0};
    g_send(g, WGV_OP_wgpuBufferMapAsync, &m);
    struct wgv_ga_wgpuBufferMapAsync m2 = {OBJ(WGPUBuffer, 2), WGPUMapMode_Write, 0, 16u << 20, 42,
                                           16u << 20, 0, 0};
    g_send(g, WGV_OP_wgpuBufferMapAsync, &m2);
    struct wgv_ga_wgpuQueueOnSubmittedWorkDone wd = {OBJ(WGPUQueue, 1), 43};
    g_send(g, WGV_OP_wgpuQueueOnSubmittedWorkDone, &wd);
    struct wgv_ga_wgpuDevicePushErrorScope push = {OBJ(WGPUDevice, 1), WGPUErrorFilter_Validation};
    g_send(g, WGV_OP_wgpuDevicePushErrorScope, &push);
    struct wgv_ga_wgpuDevicePopErrorScope pop = {OBJ(WGPUDevice, 1), 44};
    g_send(g, WGV_OP_wgpuDevicePopErrorScope, &pop);
    struct wgv_ga_wgpuShaderModuleGetCompilationInfo ci = {OBJ(WGPUShaderModule, 1), 45};
    g_send(g, WGV_OP_wgpuShaderModuleGetCompilationInfo, &ci);
    struct wgv_ga_wgpuInstanceRequestAdapter ra = {OBJ(WGPUInstance, 1), NULL, 46,
                                                   OBJ(WGPUAdapter, 2)};
    g_send(g, WGV_OP_wgpuInstanceRequestAdapter, &ra);
    struct wgv_ga_wgpuAdapterRequestDevice rd = {
        OBJ(WGPUAdapter, 1), NULL, 47, OBJ(WGPUDevice, 2), OBJ(WGPUQueue, 2), 48, 49};
    g_send(g, WGV_OP_wgpuAdapterRequestDevice, &rd);
}

static void leave_with_every_callback_pending(void)
{
    WITH_DEVICE(g);
    owe_every_callback(&g);
    unsigned id = g.id;
    g_close(&g);
    char line[600];
    if (!wait_ctx_end(id, 10000, line, sizeof(line)))
        fail("context %u never ended", id);
    else if (!strstr(line, "guest left with"))
        fail("\"%s\"", line);
}

static void violation_with_every_callback_pending(void)
{
    WITH_DEVICE(g);
    owe_every_callback(&g);
    struct wgv_writer w;
    cmd_begin(&w, 0x7ffd);
    cmd_push(&g, &w);
    expect_lost(&g, "unknown opcode 32765", true);
}

/* Every backend type and adapter option a guest can name: each request is
 * answered (an adapter or "unavailable"); none may take the host down. */
static void request_adapter_with_every_option(void)
{
    WITHOUT_DEVICE(g);
    static const WGPUBackendType backends[] = {
        WGPUBackendType_Undefined, WGPUBackendType_Null, WGPUBackendType_WebGPU,
        WGPUBackendType_D3D11, WGPUBackendType_D3D12, WGPUBackendType_Metal,
        WGPUBackendType_Vulkan, WGPUBackendType_OpenGL, WGPUBackendType_OpenGLES};
    uint32_t id = 1;
    uint64_t f = 100;
    for (size_t b = 0; b < sizeof(backends) / sizeof(backends[0]); b++) {
        for (int v = 0; v < 4; v++, id++, f++) {
            WGPURequestAdapterOptions o = WGPU_REQUEST_ADAPTER_OPTIONS_INIT;
            o.backendType = backends[b];
            o.featureLevel = v & 1 ? WGPUFeatureLevel_Compatibility : WGPUFeatureLevel_Core;
            o.powerPreference = v & 2 ? WGPUPowerPreference_LowPower : WGPUPowerPreference_HighPerformance;
            o.forceFallbackAdapter = v == 3;
            struct wgv_ga_wgpuInstanceRequestAdapter ra = {OBJ(WGPUInstance, 1), &o, f,
                                                           OBJ(WGPUAdapter, id)};
            g_send(&g, WGV_OP_wgpuInstanceRequestAdapter, &ra);
            const struct cbrec *c = g_wait_cb(&g, f, 10000);
            if (!c) {
                fail("no answer to an adapter request for backend %d, variant %d%s%s",
                     (int)backends[b], v, g.lost ? ": " : "", g.lost_reason);
                g_close(&g);
                return;
            }
            g_release(&g, WGV_OBJ_Adapter, H(id, 1));
        }
    }
    g_drain(&g, 5000);
    unsigned gid = g.id;
    g_close(&g);
    char line[600];
    if (!wait_ctx_end(gid, 10000, line, sizeof(line)) ||
        !strstr(line, "guest left with 0 live objects"))
        fail("the attacker's tidy exit: \"%s\"", line);
}

/* Device requests with absurd limits and every feature at once. */
static void request_device_with_absurd_limits(void)
{
    WITH_DEVICE(g);
    WGPULimits lim = WGPU_LIMITS_INIT;
    lim.maxBufferSize = UINT64_MAX - 1;
    lim.maxStorageBufferBindingSize = UINT64_MAX - 1;
    lim.maxBindGroups = UINT32_MAX - 1;
    lim.maxComputeWorkgroupStorageSize = UINT32_MAX - 1;
    lim.maxTextureDimension2D = UINT32_MAX - 1;
    WGPUFeatureName feats[64];
    for (int i = 0; i < 64; i++)
        feats[i] = (WGPUFeatureName)(i + 1);
    WGPUDeviceDescriptor d1 = WGPU_DEVICE_DESCRIPTOR_INIT;
    d1.requiredLimits = &lim;
    WGPUDeviceDescriptor d2 = WGPU_DEVICE_DESCRIPTOR_INIT;
    d2.requiredFeatureCount = 64;
    d2.requiredFeatures = feats;
    WGPULimits small = WGPU_LIMITS_INIT;
    small.maxBufferSize = 0;
    small.minUniformBufferOffsetAlignment = 3;
    WGPUDeviceDescriptor d3 = WGPU_DEVICE_DESCRIPTOR_INIT;
    d3.requiredLimits = &small;
    const WGPUDeviceDescriptor *ds[] = {&d1, &d2, &d3};
    for (uint32_t i = 0; i < 3; i++) {
        uint64_t f = 200 + i * 3;
        struct wgv_ga_wgpuAdapterRequestDevice rd = {
            OBJ(WGPUAdapter, 1), ds[i], f, OBJ(WGPUDevice, 2 + i), OBJ(WGPUQueue, 2 + i), f + 1, f + 2};
        g_send(&g, WGV_OP_wgpuAdapterRequestDevice, &rd);
        const struct cbrec *c = g_wait_cb(&g, f, 10000);
        if (!c)
            fail("no answer to device request %u%s%s", i, g.lost ? ": " : "", g.lost_reason);
        g_release(&g, WGV_OBJ_Queue, H(2 + i, 1));
        g_release(&g, WGV_OBJ_Device, H(2 + i, 1));
    }
    expect_alive_and_leave(&g, 0);
}

static long server_rss_kb(void)
{
    char p[64], line[256];
    snprintf(p, sizeof(p), "/proc/%d/status", (int)srv.pid);
    FILE *f = fopen(p, "r");
    long kb = -1;
    while (f && fgets(line, sizeof(line), f))
        if (!strncmp(line, "VmRSS:", 6))
            kb = atol(line + 6);
    if (f)
        fclose(f);
    return kb;
}

/* The quotas must bound what one guest costs the host. The object quota
 * (2^20) bounds the host's memory only if an object costs a few KiB at
 * most; anything dearer has to count against the memory quota (4 GiB) or
 * be refused. Each flood below makes objects of a dear kind; it passes if
 * the host refused some of them, or if they were charged to the memory
 * quota: the quota's headroom, probed with buffers before and after the
 * flood, shrank. (The server's growth is measured for the report only.)
 *
 * The probe device (id 2, maxBufferSize 4 GiB - 1) is made first; lavapipe
 * gives its buffers address space only, no memory. */
static bool probe_device(struct gconn *g)
{
    WGPULimits lim = WGPU_LIMITS_INIT;
    lim.maxBufferSize = UINT32_MAX;
    WGPUDeviceDescriptor dd = WGPU_DEVICE_DESCRIPTOR_INIT;
    dd.requiredLimits = &lim;
    struct wgv_ga_wgpuAdapterRequestDevice rd = {
        OBJ(WGPUAdapter, 1), &dd, 90, OBJ(WGPUDevice, 2), OBJ(WGPUQueue, 2), 91, 92};
    g_send(g, WGV_OP_wgpuAdapterRequestDevice, &rd);
    const struct cbrec *c = g_wait_cb(g, 90, 10000);
    if (!c || c->w0 != 0) {
        fail("no device with 4 GiB buffers for the quota probe");
        return false;
    }
    return true;
}

/* Creates and releases a buffer of `size` on the probe device; returns the
 * error type an out-of-memory scope caught (0 none, 2 out of memory), or
 * -1 without an answer. */
static int probe_buffer(struct gconn *g, uint64_t size)
{
    struct wgv_ga_wgpuDevicePushErrorScope push = {OBJ(WGPUDevice, 2), WGPUErrorFilter_OutOfMemory};
    g_send(g, WGV_OP_wgpuDevicePushErrorScope, &push);
    WGPUBufferDescriptor bd = WGPU_BUFFER_DESCRIPTOR_INIT;
    bd.size = size;
    bd.usage = WGPUBufferUsage_CopyDst;
    struct wgv_ga_wgpuDeviceCreateBuffer cb = {OBJ(WGPUDevice, 2), &bd, OBJG(WGPUBuffer, 1, g->next_buffer)};
    g_send(g, WGV_OP_wgpuDeviceCreateBuffer, &cb);
    g_release(g, WGV_OBJ_Buffer, H(1, g->next_buffer));
    g->next_buffer++;
    uint64_t f = g->next_future++;
    struct wgv_ga_wgpuDevicePopErrorScope pop = {OBJ(WGPUDevice, 2), f};
    g_send(g, WGV_OP_wgpuDevicePopErrorScope, &pop);
    const struct cbrec *c = g_wait_cb(g, f, 10000);
    return !c || c->w0 != 0 ? -1 : (int)c->w1;
}

/* The largest buffer the memory quota still allows, to 64 KiB. */
static uint64_t quota_headroom(struct gconn *g)
{
    uint64_t lo = 0, hi = UINT32_MAX / 65536; /* in 64 KiB units */
    while (lo < hi && !failed()) {
        uint64_t mid = (lo + hi + 1) / 2;
        int t = probe_buffer(g, mid * 65536);
        if (t < 0)
            fail("the quota probe got no answer%s%s", g->lost ? ": " : "", g->lost_reason);
        if (t == 0)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo * 65536;
}

struct flood {
    long rss0;
    int threads0;
    uint64_t headroom0;
};

static void flood_begin(struct gconn *g, struct flood *f)
{
    f->headroom0 = quota_headroom(g);
    sleep_ms(50);
    f->rss0 = server_rss_kb();
    f->threads0 = server_threads();
}

static void flood_end(struct gconn *g, struct flood *f, const char *kind, unsigned made,
                      unsigned refused)
{
    long grew = server_rss_kb() - f->rss0;
    int threads = server_threads() - f->threads0;
    uint64_t headroom = quota_headroom(g);
    uint64_t charged = f->headroom0 > headroom ? f->headroom0 - headroom : 0;
    if (grew < 0)
        grew = 0; /* freed memory reused: not measurable */
    long each = made ? grew / (long)made : 0;
    fprintf(stderr, "hostile:   %u %s (%u refused): server +%ld kB, +%d threads; charged %llu "
            "bytes\n", made, kind, refused, grew, threads, (unsigned long long)charged);
    if (failed() || refused || !made || charged)
        return;
    fail("%u %s cost the server ~%ld MiB and %d threads (~%ld KiB%s each); none was refused "
         "and none is charged to the memory quota, so within the object quota (2^20) one guest "
         "can take ~%ld GiB%s of the host", made, kind, grew / 1024, threads, each,
         threads > 0 ? " and a thread" : "", each, threads > 0 ? " and 2^20 threads" : "");
}

/* Devices: each is a whole backend device (memory and driver threads). */
static void device_flood_within_quotas(void)
{
    WITH_DEVICE(g);
    if (!probe_device(&g)) {
        g_close(&g);
        return;
    }
    struct flood fl;
    flood_begin(&g, &fl);
    unsigned made = 0, refused = 0;
    enum { FIRST = 3, N = 24 };
    for (uint32_t i = FIRST; i < FIRST + N; i++) {
        uint64_t f = 300 + i * 3;
        struct wgv_ga_wgpuAdapterRequestDevice rd = {
            OBJ(WGPUAdapter, 1), NULL, f, OBJ(WGPUDevice, i), OBJ(WGPUQueue, i), f + 1, f + 2};
        g_send(&g, WGV_OP_wgpuAdapterRequestDevice, &rd);
        const struct cbrec *c = g_wait_cb(&g, f, 10000);
        if (!c) {
            fail("no answer to device request %u%s%s", i, g.lost ? ": " : "", g.lost_reason);
            break;
        }
        if (c->w0 == 0)
            made++;
        else
            refused++;
    }
    flood_end(&g, &fl, "devices", made, refused);
    for (uint32_t i = FIRST; i < FIRST + N; i++) {
        g_release(&g, WGV_OBJ_Queue, H(i, 1));
        g_release(&g, WGV_OBJ_Device, H(i, 1));
    }
    g_release(&g, WGV_OBJ_Queue, H(2, 1));
    g_release(&g, WGV_OBJ_Device, H(2, 1));
    expect_alive_and_leave(&g, 0);
}

/* Shader modules: each may have up to 16 MiB of source; 512 KiB each. */
static void shader_module_flood_within_quotas(void)
{
    WITH_DEVICE(g);
    if (!probe_device(&g)) {
        g_close(&g);
        return;
    }
    struct flood fl;
    flood_begin(&g, &fl);
    size_t len = 512 * 1024;
    char *code = malloc(len + 1);
    memset(code, 'x', len);
    memcpy(code, "// ", 3);
    const char *tail = "\nfn f() {}\n";
    memcpy(code + len - strlen(tail), tail, strlen(tail));
    code[len] = 0;
    enum { N = 16 };
    for (uint32_t i = 1; i <= N; i++) {
        code[3] = (char)('a' + i);
        send_wgsl_module(&g, i, H(1, 1), code, false);
    }
    free(code);
    if (!g_roundtrip(&g))
        fail("the context stopped serving%s%s", g.lost ? ": " : "", g.lost_reason);
    flood_end(&g, &fl, "shader modules of 512 KiB", N, 0);
    for (uint32_t i = 1; i <= N; i++)
        g_release(&g, WGV_OBJ_ShaderModule, H(i, 1));
    g_release(&g, WGV_OBJ_Queue, H(2, 1));
    g_release(&g, WGV_OBJ_Device, H(2, 1));
    expect_alive_and_leave(&g, 0);
}

/* Compute pipelines: compiled code, not charged to any quota. */
static void pipeline_flood_within_quotas(void)
{
    WITH_DEVICE(g);
    if (!probe_device(&g)) {
        g_close(&g);
        return;
    }
    struct flood fl;
    flood_begin(&g, &fl);
    enum { N = 32 };
    for (uint32_t i = 1; i <= N; i++) {
        char code[300];
        snprintf(code, sizeof(code),
                 "@group(0) @binding(0) var<storage, read_write> d : array<u32>;\n"
                 "@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id : vec3u)"
                 " { d[id.x] = id.x * %uu + %uu; }\n", i, i * 7);
        send_wgsl_module(&g, i, H(1, 1), code, false);
        WGPUComputePipelineDescriptor pd = WGPU_COMPUTE_PIPELINE_DESCRIPTOR_INIT;
        pd.compute.module = OBJ(WGPUShaderModule, i);
        pd.compute.entryPoint = (WGPUStringView){"main", 4};
        struct wgv_ga_wgpuDeviceCreateComputePipeline cp = {OBJ(WGPUDevice, 1), &pd,
                                                            OBJ(WGPUComputePipeline, i)};
        g_send(&g, WGV_OP_wgpuDeviceCreateComputePipeline, &cp);
        g_release(&g, WGV_OBJ_ShaderModule, H(i, 1));
    }
    if (!g_roundtrip(&g))
        fail("the context stopped serving%s%s", g.lost ? ": " : "", g.lost_reason);
    flood_end(&g, &fl, "compute pipelines", N, 0);
    for (uint32_t i = 1; i <= N; i++)
        g_release(&g, WGV_OBJ_ComputePipeline, H(i, 1));
    g_release(&g, WGV_OBJ_Queue, H(2, 1));
    g_release(&g, WGV_OBJ_Device, H(2, 1));
    expect_alive_and_leave(&g, 0);
}

/* Commands recorded into an encoder stay in the backend until the command
 * buffer is submitted or the encoder released unfinished: 96 debug markers
 * of 1 MB on one command encoder (a third of them in a compute pass the
 * guest already ended and released) once grew the server by ~100 MiB while
 * the context's charge did not move. The charge must cover them while the
 * encoder, then its command buffer, holds them, and go back at the submit
 * and when an unfinished encoder is released. */
static void encoder_contents_within_quotas(void)
{
    WITH_DEVICE(g);
    if (!probe_device(&g)) {
        g_close(&g);
        return;
    }
    enum { MARK = 1000 * 1000, N = 96, SLACK = 1 << 20 };
    char *text = malloc(MARK);
    memset(text, 'm', MARK);
    struct flood fl;
    flood_begin(&g, &fl);
    struct wgv_ga_wgpuDeviceCreateCommandEncoder ce = {OBJ(WGPUDevice, 1), NULL,
                                                       OBJ(WGPUCommandEncoder, 1)};
    g_send(&g, WGV_OP_wgpuDeviceCreateCommandEncoder, &ce);
    for (int i = 0; i < N * 2 / 3; i++) {
        struct wgv_ga_wgpuCommandEncoderInsertDebugMarker m = {OBJ(WGPUCommandEncoder, 1),
                                                               {text, MARK}};
        g_send(&g, WGV_OP_wgpuCommandEncoderInsertDebugMarker, &m);
    }
    struct wgv_ga_wgpuCommandEncoderBeginComputePass bp = {OBJ(WGPUCommandEncoder, 1), NULL,
                                                           OBJ(WGPUComputePassEncoder, 1)};
    g_send(&g, WGV_OP_wgpuCommandEncoderBeginComputePass, &bp);
    for (int i = N * 2 / 3; i < N; i++) {
        struct wgv_ga_wgpuComputePassEncoderInsertDebugMarker m = {
            OBJ(WGPUComputePassEncoder, 1), {text, MARK}};
        g_send(&g, WGV_OP_wgpuComputePassEncoderInsertDebugMarker, &m);
    }
    free(text);
    struct wgv_ga_wgpuComputePassEncoderEnd pe = {OBJ(WGPUComputePassEncoder, 1)};
    g_send(&g, WGV_OP_wgpuComputePassEncoderEnd, &pe);
    g_release(&g, WGV_OBJ_ComputePassEncoder, H(1, 1));
    if (!g_roundtrip(&g))
        fail("the context stopped serving%s%s", g.lost ? ": " : "", g.lost_reason);
    long grew = server_rss_kb() - fl.rss0;
    uint64_t h = quota_headroom(&g);
    uint64_t charged = fl.headroom0 > h ? fl.headroom0 - h : 0;
    fprintf(stderr, "hostile:   %d markers of 1 MB on an unfinished encoder: server +%ld kB; "
            "charged %llu bytes\n", N, grew, (unsigned long long)charged);
    if (!failed() && charged < (uint64_t)N * MARK)
        fail("%d MB of debug markers on an unfinished encoder grew the server by %ld MiB, and "
             "only %llu bytes are charged to the context's memory quota", N, grew / 1024,
             (unsigned long long)charged);
    /* Finished and the encoder released: the command buffer holds them. */
    struct wgv_ga_wgpuCommandEncoderFinish fin = {OBJ(WGPUCommandEncoder, 1), NULL,
                                                  OBJ(WGPUCommandBuffer, 1)};
    g_send(&g, WGV_OP_wgpuCommandEncoderFinish, &fin);
    g_release(&g, WGV_OBJ_CommandEncoder, H(1, 1));
    h = quota_headroom(&g);
    charged = fl.headroom0 > h ? fl.headroom0 - h : 0;
    if (!failed() && charged < (uint64_t)N * MARK)
        fail("a command buffer of %d MB of markers is charged only %llu bytes", N,
             (unsigned long long)charged);
    /* Submitted: the backend is done with them, and so is the charge. */
    WGPUCommandBuffer cb = OBJ(WGPUCommandBuffer, 1);
    struct wgv_ga_wgpuQueueSubmit sub = {OBJ(WGPUQueue, 1), 1, &cb};
    g_send(&g, WGV_OP_wgpuQueueSubmit, &sub);
    h = quota_headroom(&g);
    charged = fl.headroom0 > h ? fl.headroom0 - h : 0;
    fprintf(stderr, "hostile:   after the submit: charged %llu bytes\n",
            (unsigned long long)charged);
    if (!failed() && charged > SLACK)
        fail("%llu bytes stay charged after the command buffer was submitted",
             (unsigned long long)charged);
    g_release(&g, WGV_OBJ_CommandBuffer, H(1, 1));
    /* An encoder released unfinished returns its charge too. */
    ce.result = OBJG(WGPUCommandEncoder, 1, 2);
    g_send(&g, WGV_OP_wgpuDeviceCreateCommandEncoder, &ce);
    char small[4096];
    memset(small, 's', sizeof(small));
    for (int i = 0; i < 1024; i++) {
        struct wgv_ga_wgpuCommandEncoderPushDebugGroup m = {OBJG(WGPUCommandEncoder, 1, 2),
                                                            {small, sizeof(small)}};
        g_send(&g, WGV_OP_wgpuCommandEncoderPushDebugGroup, &m);
    }
    g_release(&g, WGV_OBJ_CommandEncoder, H(1, 2));
    h = quota_headroom(&g);
    charged = fl.headroom0 > h ? fl.headroom0 - h : 0;
    if (!failed() && charged > SLACK)
        fail("%llu bytes stay charged after an unfinished encoder was released",
             (unsigned long long)charged);
    g_release(&g, WGV_OBJ_Queue, H(2, 1));
    g_release(&g, WGV_OBJ_Device, H(2, 1));
    expect_alive_and_leave(&g, 0);
}

/* ================================================================ mapping */

static void map_async_shm_offset_out_of_range(void)
{
    WITH_DEVICE(g);
    g_create_buffer(&g, 1, 1, 256, WGPUBufferUsage_MapRead | WGPUBufferUsage_CopyDst, false);
    struct wgv_ga_wgpuBufferMapAsync m = {OBJ(WGPUBuffer, 1), WGPUMapMode_Read, 0, 256, 5,
                                          g.conn.shm.sizes.bulk, 0, 0};
    g_send(&g, WGV_OP_wgpuBufferMapAsync, &m);
    expect_lost(&g, "mapAsync: shared-memory range", true);
}

static void map_async_shm_range_overflows(void)
{
    WITH_DEVICE(g);
    g_create_buffer(&g, 1, 1, 256, WGPUBufferUsage_MapRead | WGPUBufferUsage_CopyDst, false);
    struct wgv_ga_wgpuBufferMapAsync m = {OBJ(WGPUBuffer, 1), WGPUMapMode_Read, 0, 256, 5,
                                          UINT64_MAX - 127, 0, 0};
    g_send(&g, WGV_OP_wgpuBufferMapAsync, &m);
    expect_lost(&g, "mapAsync: shared-memory range", true);
}

/* WGPU_WHOLE_MAP_SIZE sent raw: the host must not take SIZE_MAX bytes of
 * shared memory for granted. */
static void map_async_whole_size_raw(void)
{
    WITH_DEVICE(g);
    g_create_buffer(&g, 1, 1, 256, WGPUBufferUsage_MapRead | WGPUBufferUsage_CopyDst, false);
    struct wgv_ga_wgpuBufferMapAsync m = {OBJ(WGPUBuffer, 1), WGPUMapMode_Read, 0,
                                          WGPU_WHOLE_MAP_SIZE, 5, 0, 0, 0};
    g_send(&g, WGV_OP_wgpuBufferMapAsync, &m);
    expect_lost(&g, "mapAsync: shared-memory range", true);
}

static void unmap_with_bogus_shm_range(void)
{
    WITH_DEVICE(g);
    g_create_buffer(&g, 1, 1, 256, WGPUBufferUsage_MapWrite | WGPUBufferUsage_CopySrc, true);
    struct wgv_ga_wgpuBufferUnmap u = {OBJ(WGPUBuffer, 1), 0, g.conn.shm.sizes.bulk - 64, 256};
    g_send(&g, WGV_OP_wgpuBufferUnmap, &u);
    expect_lost(&g, "unmap: shared-memory range", true);
}

static void unmap_with_overflowing_shm_range(void)
{
    WITH_DEVICE(g);
    g_create_buffer(&g, 1, 1, 256, WGPUBufferUsage_MapWrite | WGPUBufferUsage_CopySrc, true);
    struct wgv_ga_wgpuBufferUnmap u = {OBJ(WGPUBuffer, 1), 0, 64, UINT64_MAX - 32};
    g_send(&g, WGV_OP_wgpuBufferUnmap, &u);
    expect_lost(&g, "unmap: shared-memory range", true);
}

/* An unmap that claims more mapped bytes (or another offset) than the
 * mapping has: the host must not copy past the backend's mapping. */
static void unmap_claims_more_than_mapped(void)
{
    WITH_DEVICE(g);
    g_create_buffer(&g, 1, 1, 256, WGPUBufferUsage_MapWrite | WGPUBufferUsage_CopySrc, true);
    struct wgv_ga_wgpuBufferUnmap u = {OBJ(WGPUBuffer, 1), 0, 0, 1 << 20};
    g_send(&g, WGV_OP_wgpuBufferUnmap, &u);
    g_create_buffer(&g, 2, 1, 256, WGPUBufferUsage_MapWrite | WGPUBufferUsage_CopySrc, true);
    struct wgv_ga_wgpuBufferUnmap u2 = {OBJ(WGPUBuffer, 2), 1ull << 62, 0, 256};
    g_send(&g, WGV_OP_wgpuBufferUnmap, &u2);
    g_create_buffer(&g, 3, 1, 256, WGPUBufferUsage_MapWrite | WGPUBufferUsage_CopySrc, true);
    struct wgv_ga_wgpuBufferUnmap u3 = {OBJ(WGPUBuffer, 3), 248, 0, 16};
    g_send(&g, WGV_OP_wgpuBufferUnmap, &u3);
    /* An unmap of a buffer never mapped, with a range. */
    g_create_buffer(&g, 4, 1, 256, WGPUBufferUsage_CopyDst, false);
    struct wgv_ga_wgpuBufferUnmap u4 = {OBJ(WGPUBuffer, 4), 0, 0, 256};
    g_send(&g, WGV_OP_wgpuBufferUnmap, &u4);
    expect_alive_and_leave(&g, 4);
}

/* A raw mappedAtCreation buffer of 2^62 bytes: the backend cannot make it;
 * an error object, not a crash. */
static void mapped_at_creation_huge_raw(void)
{
    WITH_DEVICE(g);
    g_create_buffer(&g, 1, 1, 1ull << 62, WGPUBufferUsage_MapWrite | WGPUBufferUsage_CopySrc, true);
    struct wgv_ga_wgpuBufferUnmap u = {OBJ(WGPUBuffer, 1), 0, 0, 4096};
    g_send(&g, WGV_OP_wgpuBufferUnmap, &u);
    expect_alive_and_leave(&g, 1);
}

/* ======================================================= large transfers */

/* Wire values of the statuses and error types the attacks look for (the
 * standard's entries sorted by value). */
#define WIRE_MAP_SUCCESS 0u
#define WIRE_MAP_ERROR 2u
#define WIRE_ERROR_OUT_OF_MEMORY 2u

static void g_read_mapped(struct gconn *g, uint64_t buffer, uint64_t offset, uint64_t size,
                          uint64_t shm, uint64_t future)
{
    struct wgv_ga_wgvBufferReadMapped r = {buffer, offset, size, shm, future};
    g_send(g, WGV_OP_wgvBufferReadMapped, &r);
}

static void g_write_mapped(struct gconn *g, uint64_t buffer, uint64_t offset, uint64_t size,
                           uint64_t shm)
{
    struct wgv_ga_wgvBufferWriteMapped w = {buffer, offset, size, shm};
    g_send(g, WGV_OP_wgvBufferWriteMapped, &w);
}

static void g_stage(struct gconn *g, uint64_t total, uint64_t offset, uint64_t size, uint64_t shm)
{
    struct wgv_ga_wgvStageBytes b = {total, offset, size, shm};
    g_send(g, WGV_OP_wgvStageBytes, &b);
}

/* Texture 1: 64x64 RGBA8Unorm, a copy destination. */
static void g_texture(struct gconn *g)
{
    WGPUTextureDescriptor d = WGPU_TEXTURE_DESCRIPTOR_INIT;
    d.usage = WGPUTextureUsage_CopyDst;
    d.size = (WGPUExtent3D){64, 64, 1};
    d.format = WGPUTextureFormat_RGBA8Unorm;
    struct wgv_ga_wgpuDeviceCreateTexture a = {OBJ(WGPUDevice, 1), &d, OBJ(WGPUTexture, 1)};
    g_send(g, WGV_OP_wgpuDeviceCreateTexture, &a);
}

/* A writeTexture of the whole of texture 1 whose bytes were staged. */
static void g_staged_write_texture(struct gconn *g, const void *data, size_t size)
{
    WGPUTexelCopyTextureInfo dst = {.texture = OBJ(WGPUTexture, 1),
                                    .aspect = WGPUTextureAspect_All};
    WGPUTexelCopyBufferLayout layout = {.bytesPerRow = 256, .rowsPerImage = 64};
    WGPUExtent3D extent = {64, 64, 1};
    struct wgv_ga_wgpuQueueWriteTexture w = {OBJ(WGPUQueue, 1), &dst, data, size, &layout,
                                             &extent, 1};
    g_send(g, WGV_OP_wgpuQueueWriteTexture, &w);
}

static void read_mapped_range_outside_bulk(void)
{
    WITH_DEVICE(g);
    g_create_buffer(&g, 1, 1, 256, WGPUBufferUsage_MapWrite | WGPUBufferUsage_CopySrc, true);
    g_read_mapped(&g, H(1, 1), 0, 256, g.conn.shm.sizes.bulk - 64, 50);
    expect_lost(&g, "readMapped: shared-memory range", true);
}

static void read_mapped_range_overflows(void)
{
    WITH_DEVICE(g);
    g_create_buffer(&g, 1, 1, 256, WGPUBufferUsage_MapWrite | WGPUBufferUsage_CopySrc, true);
    g_read_mapped(&g, H(1, 1), UINT64_MAX - 64, 256, 0, 50);
    expect_lost(&g, "readMapped: shared-memory range", true);
}

static void read_mapped_of_no_buffer(void)
{
    WITH_DEVICE(g);
    g_read_mapped(&g, H(7, 1), 0, 256, 0, 50);
    expect_lost(&g, "readMapped: buffer 7 (generation 1) is not a live buffer", true);
}

/* Reads of ranges no mapping has (past it, of a buffer never mapped, of a
 * mapping that ended, of an error buffer) are answered with an error; a
 * read inside a mapping succeeds. */
static void read_mapped_outside_mappings_answers_error(void)
{
    WITH_DEVICE(g);
    g_create_buffer(&g, 1, 1, 4096, WGPUBufferUsage_MapWrite | WGPUBufferUsage_CopySrc, true);
    g_create_buffer(&g, 2, 1, 4096, WGPUBufferUsage_MapRead | WGPUBufferUsage_CopyDst, false);
    g_create_buffer(&g, 3, 1, 1ull << 62, WGPUBufferUsage_MapRead | WGPUBufferUsage_CopyDst, false);
    g_read_mapped(&g, H(1, 1), 0, 4096, 0, 50);
    g_read_mapped(&g, H(1, 1), 2048, 4096, 0, 51);
    g_read_mapped(&g, H(2, 1), 0, 256, 0, 52);
    g_read_mapped(&g, H(3, 1), 0, 256, 0, 53);
    /* A streamed map, unmapped before its bytes are read. */
    struct wgv_ga_wgpuBufferMapAsync m = {OBJ(WGPUBuffer, 2), WGPUMapMode_Read, 0, 4096, 54, 0, 1, 0};
    g_send(&g, WGV_OP_wgpuBufferMapAsync, &m);
    const struct cbrec *c = g_wait_cb(&g, 54, 10000);
    if (!c || c->w0 != WIRE_MAP_SUCCESS)
        fail("the streamed map did not succeed");
    g_read_mapped(&g, H(2, 1), 1024, 1024, 8192, 55);
    struct wgv_ga_wgpuBufferUnmap u = {OBJ(WGPUBuffer, 2), 0, 0, 0};
    g_send(&g, WGV_OP_wgpuBufferUnmap, &u);
    g_read_mapped(&g, H(2, 1), 0, 1024, 8192, 56);
    static const struct { uint64_t key; uint32_t status; } want[] = {
        {50, WIRE_MAP_SUCCESS}, {51, WIRE_MAP_ERROR}, {52, WIRE_MAP_ERROR},
        {53, WIRE_MAP_ERROR},   {55, WIRE_MAP_SUCCESS}, {56, WIRE_MAP_ERROR}};
    for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        c = g_wait_cb(&g, want[i].key, 10000);
        if (!c)
            fail("no answer to read %llu%s%s", (unsigned long long)want[i].key,
                 g.lost ? ": " : "", g.lost_reason);
        else if (c->callback != WGV_CB_BufferMapCallback || c->w0 != want[i].status)
            fail("read %llu answered with status %u, not %u", (unsigned long long)want[i].key,
                 c->w0, want[i].status);
    }
    expect_alive_and_leave(&g, 3);
}

static void write_mapped_range_outside_bulk(void)
{
    WITH_DEVICE(g);
    g_create_buffer(&g, 1, 1, 256, WGPUBufferUsage_MapWrite | WGPUBufferUsage_CopySrc, true);
    g_write_mapped(&g, H(1, 1), 0, 128, UINT64_MAX - 64);
    expect_lost(&g, "writeMapped: shared-memory range", true);
}

/* Writes where no writable mapping is (past it, a read mapping, a buffer
 * never mapped, an error buffer, after the unmap) go nowhere. */
static void write_mapped_outside_mappings_dropped(void)
{
    WITH_DEVICE(g);
    g_create_buffer(&g, 1, 1, 256, WGPUBufferUsage_MapWrite | WGPUBufferUsage_CopySrc, true);
    g_create_buffer(&g, 2, 1, 4096, WGPUBufferUsage_MapRead | WGPUBufferUsage_CopyDst, false);
    g_create_buffer(&g, 3, 1, 1ull << 62, WGPUBufferUsage_MapWrite | WGPUBufferUsage_CopySrc, true);
    g_write_mapped(&g, H(1, 1), 0, 1 << 20, 0);
    g_write_mapped(&g, H(1, 1), 1ull << 40, 256, 0);
    g_write_mapped(&g, H(2, 1), 0, 256, 0);
    g_write_mapped(&g, H(3, 1), 0, 4096, 0);
    struct wgv_ga_wgpuBufferMapAsync m = {OBJ(WGPUBuffer, 2), WGPUMapMode_Read, 0, 4096, 50, 0, 1, 0};
    g_send(&g, WGV_OP_wgpuBufferMapAsync, &m);
    if (!g_wait_cb(&g, 50, 10000))
        fail("the streamed map did not answer");
    g_write_mapped(&g, H(2, 1), 0, 4096, 0);
    struct wgv_ga_wgpuBufferUnmap u = {OBJ(WGPUBuffer, 1), 0, 0, 0};
    g_send(&g, WGV_OP_wgpuBufferUnmap, &u);
    g_write_mapped(&g, H(1, 1), 0, 256, 0);
    expect_alive_and_leave(&g, 3);
}

static void map_async_stream_flag_not_bool(void)
{
    WITH_DEVICE(g);
    g_create_buffer(&g, 1, 1, 256, WGPUBufferUsage_MapRead | WGPUBufferUsage_CopyDst, false);
    struct wgv_ga_wgpuBufferMapAsync m = {OBJ(WGPUBuffer, 1), WGPUMapMode_Read, 0, 256, 5, 0, 2, 0};
    g_send(&g, WGV_OP_wgpuBufferMapAsync, &m);
    expect_lost(&g, "mapAsync: flags stream 2, answered 0", true);
}

static void map_async_answered_flag_not_bool(void)
{
    WITH_DEVICE(g);
    g_create_buffer(&g, 1, 1, 256, WGPUBufferUsage_MapWrite | WGPUBufferUsage_CopySrc, false);
    struct wgv_ga_wgpuBufferMapAsync m = {OBJ(WGPUBuffer, 1), WGPUMapMode_Write, 0, 256, 5, 0, 0, 7};
    g_send(&g, WGV_OP_wgpuBufferMapAsync, &m);
    expect_lost(&g, "mapAsync: flags stream 0, answered 7", true);
}

static void map_async_answered_and_streamed(void)
{
    WITH_DEVICE(g);
    g_create_buffer(&g, 1, 1, 256, WGPUBufferUsage_MapWrite | WGPUBufferUsage_CopySrc, false);
    struct wgv_ga_wgpuBufferMapAsync m = {OBJ(WGPUBuffer, 1), WGPUMapMode_Write, 0, 256, 5, 0, 1, 1};
    g_send(&g, WGV_OP_wgpuBufferMapAsync, &m);
    expect_lost(&g, "mapAsync: flags stream 1, answered 1", true);
}

/* Maps a guest says it answered but the backend refuses (an error buffer,
 * the wrong mode, a second map) or that are never unmapped: no reply goes
 * out for them, their unmaps drop the bytes, and the context carries on. */
static void answered_maps_the_backend_refuses(void)
{
    WITH_DEVICE(g);
    g_create_buffer(&g, 1, 1, 256, WGPUBufferUsage_MapWrite | WGPUBufferUsage_CopySrc, false);
    g_create_buffer(&g, 2, 1, 1ull << 62, WGPUBufferUsage_MapWrite | WGPUBufferUsage_CopySrc, false);
    g_create_buffer(&g, 3, 1, 256, WGPUBufferUsage_MapRead | WGPUBufferUsage_CopyDst, false);
    g_create_buffer(&g, 4, 1, 256, WGPUBufferUsage_MapWrite | WGPUBufferUsage_CopySrc, false);
    const struct {
        uint32_t buffer;
        WGPUMapMode mode;
        uint64_t key;
    } maps[] = {{2, WGPUMapMode_Write, 20}, {3, WGPUMapMode_Write, 21}, {1, WGPUMapMode_Write, 22},
                {1, WGPUMapMode_Write, 23}, {4, WGPUMapMode_Write, 24}};
    for (unsigned i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
        struct wgv_ga_wgpuBufferMapAsync m = {OBJ(WGPUBuffer, maps[i].buffer), maps[i].mode, 0, 256,
                                              maps[i].key, 0, 0, 1};
        g_send(&g, WGV_OP_wgpuBufferMapAsync, &m);
    }
    for (uint32_t b = 1; b <= 3; b++) {
        struct wgv_ga_wgpuBufferUnmap u = {OBJ(WGPUBuffer, b), 0, 0, 256};
        g_send(&g, WGV_OP_wgpuBufferUnmap, &u);
    }
    g_release(&g, WGV_OBJ_Buffer, H(4, 1));
    /* A map of the guest's that is answered comes after all of them. */
    struct wgv_ga_wgpuBufferMapAsync m = {OBJ(WGPUBuffer, 1), WGPUMapMode_Write, 0, 256, 30, 0, 0, 0};
    g_send(&g, WGV_OP_wgpuBufferMapAsync, &m);
    const struct cbrec *c = g_wait_cb(&g, 30, 10000);
    if (!c || c->w0 != WIRE_MAP_SUCCESS)
        fail("the map after the answered ones did not succeed%s%s", g.lost ? ": " : "",
             g.lost_reason);
    for (uint64_t key = 20; key <= 24; key++)
        if (g_wait_cb(&g, key, 0))
            fail("the host replied to answered map %llu", (unsigned long long)key);
    expect_alive_and_leave(&g, 3);
}

static void stage_bytes_out_of_order(void)
{
    WITH_DEVICE(g);
    g_stage(&g, 1 << 20, 0, 4096, 0);
    g_stage(&g, 1 << 20, 8192, 4096, 0);
    expect_lost(&g, "stageBytes: chunk 8192+4096 of 1048576 does not continue", true);
}

static void stage_bytes_past_the_total(void)
{
    WITH_DEVICE(g);
    g_stage(&g, 8192, 0, 4096, 0);
    g_stage(&g, 8192, 4096, 8192, 0);
    expect_lost(&g, "stageBytes: chunk 4096+8192 of 8192 does not continue", true);
}

static void stage_bytes_without_a_start(void)
{
    WITH_DEVICE(g);
    g_stage(&g, 8192, 4096, 4096, 0);
    expect_lost(&g, "does not continue the staged bytes (0 of 0)", true);
}

static void stage_bytes_range_outside_bulk(void)
{
    WITH_DEVICE(g);
    g_stage(&g, 8192, 0, 4096, g.conn.shm.sizes.bulk);
    expect_lost(&g, "stageBytes: shared-memory range", true);
}

static void staged_write_texture_without_staging(void)
{
    WITH_DEVICE(g);
    g_texture(&g);
    g_staged_write_texture(&g, NULL, 0);
    expect_lost(&g, "writeTexture: staged flag 1 with 0 bytes of its own, but 0 of 0", true);
}

static void staged_write_texture_half_staged(void)
{
    WITH_DEVICE(g);
    g_texture(&g);
    g_stage(&g, 16384, 0, 8192, 0);
    g_staged_write_texture(&g, NULL, 0);
    expect_lost(&g, "but 8192 of 16384 bytes staged", true);
}

static void staged_write_texture_with_bytes_of_its_own(void)
{
    WITH_DEVICE(g);
    g_texture(&g);
    static uint8_t bytes[64];
    g_stage(&g, 16384, 0, 16384, 0);
    g_staged_write_texture(&g, bytes, sizeof(bytes));
    expect_lost(&g, "writeTexture: staged flag 1 with 64 bytes of its own", true);
}

/* Staging past the memory quota (4 GiB by default): nothing is kept, the
 * chunks are only counted, and the staged writeTexture reports
 * out-of-memory on its device; the context goes on. */
static void stage_bytes_past_the_quota(void)
{
    WITH_DEVICE(g);
    g_texture(&g);
    uint64_t chunk = g.conn.shm.sizes.bulk, total = (4ull << 30) + 4096;
    for (uint64_t k = 0; k < total; k += chunk)
        g_stage(&g, total, k, total - k < chunk ? total - k : chunk, 0);
    g_staged_write_texture(&g, NULL, 0);
    /* The device's uncaptured-error future is 4 (g_device). */
    const struct cbrec *c = g_wait_cb(&g, 4, 10000);
    if (!c)
        fail("no out-of-memory error for the staged writeTexture%s%s", g.lost ? ": " : "",
             g.lost_reason);
    else if (c->callback != WGV_CB_UncapturedErrorCallback || c->w0 != WIRE_ERROR_OUT_OF_MEMORY)
        fail("the staged writeTexture reported error type %u, not out-of-memory", c->w0);
    g_release(&g, WGV_OBJ_Texture, H(1, 1));
    expect_alive_and_leave(&g, 0);
}

/* ================================================================ tampering */

struct scribbler {
    pthread_t thread;
    atomic_bool stop;
    struct gconn *g;
    int what; /* 0: command ring bytes, 1: bulk area, 2: futex words,
                 3: command ring bytes other than size words */
    uint64_t seed;
    uint64_t writes;
};

static void *scribble(void *arg)
{
    struct scribbler *s = arg;
    struct gconn *g = s->g;
    uint8_t *bulk = wgv_shm_bulk(&g->conn.shm);
    while (!atomic_load(&s->stop)) {
        uint64_t x = xorshift(&s->seed);
        if (s->what == 0 || s->what == 3) {
            /* Just ahead of the host's position: the bytes it is about to read. */
            uint64_t tail = atomic_load(&g->cmd.shared->tail);
            uint32_t off = (uint32_t)((tail + (x % 2048)) & (g->cmd.size - 1));
            if (s->what == 3) {
                /* Never a size word (the first 4 bytes of any 8): the
                 * framing holds, the decoder sees changed bodies. */
                off |= 4u + (uint32_t)((x >> 20) & 3);
                g->cmd.data[off] ^= (uint8_t)(x >> 40) | 1;
            } else if (x & 1) {
                off &= ~7u;
                uint32_t v = (uint32_t)(x >> 32) % 96;
                memcpy(g->cmd.data + off, &v, 4);
            } else {
                g->cmd.data[off] ^= (uint8_t)(x >> 40) | 1;
            }
        } else if (s->what == 1) {
            uint64_t off = (x >> 8) % (4u << 20);
            memset(bulk + (off & ~63ull), (int)(x & 0xff), 64);
        } else {
            _Atomic uint32_t *words[4] = {&g->cmd.shared->consumer_idle,
                                          &g->cmd.shared->producer_waiting,
                                          &g->reply.shared->consumer_idle,
                                          &g->reply.shared->producer_waiting};
            atomic_store(words[x & 3], (uint32_t)(x >> 32) & ((x & 4) ? 1u : 0xffffffffu));
        }
        s->writes++;
    }
    return NULL;
}

static void scribbler_start(struct scribbler *s, struct gconn *g, int what, uint64_t seed)
{
    memset(s, 0, sizeof(*s));
    s->g = g;
    s->what = what;
    s->seed = seed;
    atomic_init(&s->stop, false);
    pthread_create(&s->thread, NULL, scribble, s);
}

static void scribbler_stop(struct scribbler *s)
{
    atomic_store(&s->stop, true);
    pthread_join(s->thread, NULL);
}

/* A thread rewrites bytes of the command ring just ahead of the host while
 * the guest streams valid commands (TOCTOU). A well-behaved guest runs at
 * the same time. */
static void rewrite_command_ring(int what, uint64_t seed)
{
    WITH_DEVICE(g);
    struct good good;
    good_start(&good, true);
    struct scribbler s;
    scribbler_start(&s, &g, what, seed);
    int64_t end = now_ms() + 1500;
    uint32_t id = 1, gen = 1;
    uint8_t payload[64];
    memset(payload, 0x5a, sizeof(payload));
    while (now_ms() < end && !g.lost) {
        struct wgv_writer w;
        wgv_writer_init(&w);
        WGPUBufferDescriptor d = WGPU_BUFFER_DESCRIPTOR_INIT;
        d.size = 256;
        d.usage = WGPUBufferUsage_CopyDst;
        struct wgv_ga_wgpuDeviceCreateBuffer cb = {OBJ(WGPUDevice, 1), &d,
                                                   OBJG(WGPUBuffer, id, gen)};
        struct wgv_ga_wgpuQueueWriteBuffer wb = {OBJ(WGPUQueue, 1), OBJG(WGPUBuffer, id, gen), 0,
                                                 payload, sizeof(payload)};
        struct wgv_ga_wgvRelease rel = {WGV_OBJ_Buffer, H(id, gen)};
        g_encode(WGV_OP_wgpuDeviceCreateBuffer, &cb, &w);
        g_encode(WGV_OP_wgpuQueueWriteBuffer, &wb, &w);
        g_encode(WGV_OP_wgvRelease, &rel, &w);
        for (size_t pos = 0; pos < w.len;) {
            uint32_t n;
            memcpy(&n, w.data + pos, 4);
            int st;
            void *dst = wgv_ring_reserve(&g.cmd, n, 100ll * 1000 * 1000, &st);
            if (!dst)
                break;
            memcpy(dst, w.data + pos, n);
            wgv_ring_commit(&g.cmd, n);
            pos += n;
        }
        wgv_ring_publish(&g.cmd);
        wgv_writer_free(&w);
        g_pump(&g);
        if (wgv_peer_wait(g.conn.sock, 0) != WGV_PEER_ALIVE)
            break;
        gen++;
    }
    scribbler_stop(&s);
    g_pump(&g);
    fprintf(stderr, "hostile:   %llu rewrites; context %s%s\n", (unsigned long long)s.writes,
            g.lost ? "lost: " : "still up", g.lost_reason);
    unsigned gid = g.id;
    if (g.lost)
        expect_lost(&g, NULL, true);
    else
        g_close(&g);
    if (!wait_ctx_end(gid, 10000, NULL, 0))
        fail("the attacker's context %u never ended", gid);
    good_finish(&good, "during the attack");
}

/* Size words and bodies both change under the host. */
static void command_ring_rewritten_while_host_reads(void)
{
    rewrite_command_ring(0, 0x1234567);
}

/* Only bodies change (the framing holds): the host decodes whatever it
 * copied, so the decoder and the backend see mutated commands. */
static void command_bodies_rewritten_while_host_reads(void)
{
    rewrite_command_ring(3, 0x7654321);
}

/* A thread scribbles over the bulk area while the host copies from it
 * (writeBuffer by reference) and into it (mapAsync); plain data, so the
 * context goes on. */
static void bulk_rewritten_while_host_copies(void)
{
    WITH_DEVICE(g);
    struct good good;
    good_start(&good, true);
    g_create_buffer(&g, 1, 1, 4u << 20, WGPUBufferUsage_CopyDst | WGPUBufferUsage_CopySrc, false);
    g_create_buffer(&g, 2, 1, 4u << 20, WGPUBufferUsage_MapRead | WGPUBufferUsage_CopyDst, false);
    g_create_buffer(&g, 3, 1, 4u << 20, WGPUBufferUsage_MapWrite | WGPUBufferUsage_CopySrc, true);
    struct scribbler s;
    scribbler_start(&s, &g, 1, 0xfeedface);
    for (int i = 0; i < 40 && !g.lost; i++) {
        struct wgv_writer w;
        cmd_begin(&w, WGV_OP_wgpuQueueWriteBuffer);
        wgv_put_u64(&w, H(1, 1));
        wgv_put_u64(&w, H(1, 1));
        wgv_put_u64(&w, 0);
        wgv_put_u32(&w, 1);
        wgv_put_u64(&w, 4u << 20);
        wgv_put_u64(&w, 0);
        cmd_push(&g, &w);
        if (i % 8 == 0) {
            struct wgv_ga_wgpuBufferMapAsync m = {OBJ(WGPUBuffer, 2), WGPUMapMode_Read, 0,
                                                  4u << 20, 100 + (uint64_t)i, 0, 0, 0};
            g_send(&g, WGV_OP_wgpuBufferMapAsync, &m);
            if (!g_wait_cb(&g, 100 + (uint64_t)i, 10000))
                fail("map %d never completed%s%s", i, g.lost ? ": " : "", g.lost_reason);
            struct wgv_ga_wgpuBufferUnmap u = {OBJ(WGPUBuffer, 2), 0, 0, 0};
            g_send(&g, WGV_OP_wgpuBufferUnmap, &u);
        }
    }
    /* The write mapping's bytes are copied in at unmap while they change. */
    struct wgv_ga_wgpuBufferUnmap u = {OBJ(WGPUBuffer, 3), 0, 0, 4u << 20};
    g_send(&g, WGV_OP_wgpuBufferUnmap, &u);
    scribbler_stop(&s);
    expect_alive_and_leave(&g, 3);
    good_finish(&good, "during the attack");
}

/* A thread flips the four futex words at random while the guest works. */
static void futex_words_flipped(void)
{
    WITH_DEVICE(g);
    struct scribbler s;
    scribbler_start(&s, &g, 2, 0xabcdef);
    for (int i = 0; i < 30 && !failed(); i++) {
        g_create_buffer(&g, 1, (uint32_t)i + 1, 256, WGPUBufferUsage_CopyDst, false);
        g_release(&g, WGV_OBJ_Buffer, H(1, (uint32_t)i + 1));
        if (!g_roundtrip(&g))
            fail("round trip %d failed while the futex words changed", i);
    }
    scribbler_stop(&s);
    expect_alive_and_leave(&g, 0);
}

/* The reply ring's consumer position set far ahead of anything the host
 * wrote: the host must end the context at its next reply, not write. */
static void reply_ring_tail_beyond_head(void)
{
    WITH_DEVICE(g);
    atomic_store(&g.reply.shared->tail, (1ull << 40) + 8);
    struct wgv_ga_wgpuQueueOnSubmittedWorkDone a = {OBJ(WGPUQueue, 1), 9};
    g_send(&g, WGV_OP_wgpuQueueOnSubmittedWorkDone, &a);
    expect_lost(&g, "reply ring", false);
}

/* The reply ring's consumer position moved backwards, and unaligned. */
static void reply_ring_tail_moved_backwards(void)
{
    WITH_DEVICE(g);
    atomic_store(&g.reply.shared->tail, 3);
    struct wgv_ga_wgpuQueueOnSubmittedWorkDone a = {OBJ(WGPUQueue, 1), 9};
    g_send(&g, WGV_OP_wgpuQueueOnSubmittedWorkDone, &a);
    expect_lost(&g, "reply ring", false);
}

/* Floods replies into a small reply ring nobody reads. */
static void flood_replies(struct gconn *g, int pairs)
{
    struct wgv_writer w;
    wgv_writer_init(&w);
    for (int i = 0; i < pairs; i++) {
        struct wgv_ga_wgpuDevicePushErrorScope push = {OBJ(WGPUDevice, 1),
                                                       WGPUErrorFilter_Validation};
        struct wgv_ga_wgpuDevicePopErrorScope pop = {OBJ(WGPUDevice, 1), 1000 + (uint64_t)i};
        g_encode(WGV_OP_wgpuDevicePushErrorScope, &push, &w);
        g_encode(WGV_OP_wgpuDevicePopErrorScope, &pop, &w);
    }
    push_batch(g, &w);
    wgv_writer_free(&w);
}

/* The guest stops reading replies: the ring fills; the host must end that
 * context within seconds instead of blocking, and serve others meanwhile. */
static void reply_ring_never_read(void)
{
    struct gconn g;
    struct wgv_shm_sizes sizes = {0, 8192, 0};
    if (!g_open(&g, &sizes))
        return;
    if (!g_device(&g)) {
        g_close(&g);
        return;
    }
    struct good good;
    good_start(&good, true);
    int64_t t0 = now_ms();
    flood_replies(&g, 2000);
    /* No g_pump from here: the ring stays full. */
    int64_t deadline = t0 + 10000;
    while (wgv_peer_wait(g.conn.sock, 0) != WGV_PEER_GONE && now_ms() < deadline)
        sleep_ms(10);
    int64_t took = now_ms() - t0;
    if (took >= 10000)
        fail("the host kept a context whose reply ring is full for 10 s");
    else
        fprintf(stderr, "hostile:   context ended %lld ms after the flood\n", (long long)took);
    expect_lost(&g, "not draining", false);
    good_finish(&good, "during the attack");
}

/* After its context ended the guest keeps sending: nothing more is read
 * and nothing more is logged for it. */
static void commands_after_the_context_ended(void)
{
    WITH_DEVICE(g);
    struct wgv_writer w;
    cmd_begin(&w, 0x7ffe);
    cmd_push(&g, &w);
    int64_t deadline = now_ms() + 5000;
    while (!g.lost && now_ms() < deadline) {
        g_pump(&g);
        sleep_ms(1);
    }
    if (!g.lost) {
        fail("no context-lost reply");
        g_close(&g);
        return;
    }
    uint64_t tail = atomic_load(&g.cmd.shared->tail);
    int64_t end = now_ms() + 300;
    unsigned sent = 0;
    while (now_ms() < end) {
        struct raw_buffer r = raw_buffer_default();
        r.result = H(10 + sent, 1);
        struct wgv_writer c;
        raw_create_buffer(&c, &r);
        uint32_t n = (uint32_t)c.len;
        memcpy(c.data, &n, 4);
        int st;
        void *dst = wgv_ring_reserve(&g.cmd, n, 0, &st);
        if (dst) {
            memcpy(dst, c.data, n);
            wgv_ring_commit(&g.cmd, n);
            wgv_ring_publish(&g.cmd);
            sent++;
        }
        wgv_writer_free(&c);
        if (sent % 64 == 0)
            sleep_ms(1);
    }
    sleep_ms(100);
    uint64_t tail2 = atomic_load(&g.cmd.shared->tail);
    if (tail2 != tail)
        fail("the host read %llu more bytes after ending the context",
             (unsigned long long)(tail2 - tail));
    unsigned id = g.id;
    expect_lost(&g, "unknown opcode 32766", true);
    char left[80];
    snprintf(left, sizeof(left), "context %u: guest left", id);
    if (log_has(left))
        fail("the log has a second end for context %u", id);
    fprintf(stderr, "hostile:   %u commands sent after the end\n", sent);
}

/* Bytes on the socket after the handshake: the host ends that connection. */
static void bytes_on_the_socket_after_handshake(void)
{
    WITHOUT_DEVICE(g);
    const char junk[] = "GET / HTTP/1.0\r\n\r\n";
    if (send(g.conn.sock, junk, sizeof(junk) - 1, MSG_NOSIGNAL) < 0)
        fail("send: %s", strerror(errno));
    int64_t deadline = now_ms() + 5000;
    while (wgv_peer_wait(g.conn.sock, 0) != WGV_PEER_GONE && now_ms() < deadline)
        sleep_ms(5);
    if (now_ms() >= deadline)
        fail("the host kept the connection open");
    if (!wait_ctx_end(g.id, 5000, NULL, 0))
        fail("the log has no end of context %u", g.id);
    g_close(&g);
}

/* ================================================================ handshake */

static int raw_socket(void)
{
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    size_t plen = strlen(sock_path);
    if (plen >= sizeof(a.sun_path))
        plen = sizeof(a.sun_path) - 1;
    memcpy(a.sun_path, sock_path, plen);
    if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
        fail("connect: %s", strerror(errno));
        if (s >= 0)
            close(s);
        return -1;
    }
    srv.conns++;
    return s;
}

static void hello_bytes(uint8_t m[48], uint32_t magic, uint32_t type, uint32_t len,
                        uint32_t version, uint32_t reserved, uint64_t cmd, uint64_t reply,
                        uint64_t bulk)
{
    memset(m, 0, 48);
    memcpy(m, &magic, 4);
    memcpy(m + 4, &type, 4);
    memcpy(m + 8, &len, 4);
    memcpy(m + 12, &version, 4);
    memcpy(m + 20, &reserved, 4);
    memcpy(m + 24, &cmd, 8);
    memcpy(m + 32, &reply, 8);
    memcpy(m + 40, &bulk, 8);
}

/* Reads one handshake answer (up to 6 s); returns its type, or 0. */
static uint32_t read_answer(int s, uint32_t *status, char *reason, size_t cap, int *fds)
{
    uint8_t buf[600];
    size_t got = 0;
    *fds = 0;
    reason[0] = 0;
    int64_t deadline = now_ms() + 6000;
    while (got < sizeof(buf)) {
        struct pollfd p = {s, POLLIN, 0};
        int left = (int)(deadline - now_ms());
        if (left <= 0 || poll(&p, 1, left) <= 0)
            break;
        union {
            struct cmsghdr h;
            char b[CMSG_SPACE(sizeof(int) * 4)];
        } ctl;
        struct iovec io = {buf + got, sizeof(buf) - got};
        struct msghdr mh = {.msg_iov = &io, .msg_iovlen = 1, .msg_control = ctl.b,
                            .msg_controllen = sizeof(ctl.b)};
        ssize_t n = recvmsg(s, &mh, MSG_CMSG_CLOEXEC);
        if (n <= 0)
            break;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
                for (int i = 0; i < k; i++) {
                    int fd;
                    memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                    close(fd);
                    (*fds)++;
                }
            }
        }
        got += (size_t)n;
        if (got >= 16) {
            uint32_t len;
            memcpy(&len, buf + 8, 4);
            if (len <= got)
                break;
        }
    }
    if (got < 24)
        return 0;
    uint32_t type, rlen;
    memcpy(&type, buf + 4, 4);
    memcpy(status, buf + 16, 4);
    memcpy(&rlen, buf + 20, 4);
    if (type == WGV_HS_REFUSE) {
        if (rlen > got - 24)
            rlen = (uint32_t)(got - 24);
        if (rlen >= cap)
            rlen = (uint32_t)cap - 1;
        memcpy(reason, buf + 24, rlen);
        reason[rlen] = 0;
    }
    return type;
}

/* Sends a HELLO (with an fd when pass_fd >= 0) and requires REFUSE with
 * `status` and a reason naming `what`, also in the log. */
static void expect_refused_fds(const uint8_t *msg, size_t len, const int *fds_out, int nfds,
                               uint32_t status, const char *what)
{
    int s = raw_socket();
    if (s < 0)
        return;
    unsigned id = srv.conns;
    struct iovec io = {(void *)msg, len};
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(sizeof(int) * 250)];
    } ctl;
    struct msghdr mh = {.msg_iov = &io, .msg_iovlen = 1};
    if (nfds > 0) {
        memset(&ctl, 0, sizeof(ctl));
        mh.msg_control = ctl.b;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
        memcpy(CMSG_DATA(c), fds_out, sizeof(int) * (size_t)nfds);
    }
    if (sendmsg(s, &mh, MSG_NOSIGNAL) < 0)
        fail("sendmsg: %s", strerror(errno));
    uint32_t st = 0;
    char reason[300];
    int fds;
    uint32_t type = read_answer(s, &st, reason, sizeof(reason), &fds);
    if (type != WGV_HS_REFUSE)
        fail("expected REFUSE, got message type %u", type);
    else if (st != status)
        fail("REFUSE status %u, expected %u (%s)", st, status, reason);
    else if (!strstr(reason, what))
        fail("REFUSE reason \"%s\" does not name \"%s\"", reason, what);
    if (fds)
        fail("REFUSE came with %d file descriptors", fds);
    /* The host closes the connection after REFUSE. */
    char c;
    struct pollfd p = {s, POLLIN, 0};
    /* (A reset counts: the host closes with the rest of our HELLO unread.) */
    if (poll(&p, 1, 5000) <= 0 || recv(s, &c, 1, 0) > 0)
        fail("the host did not close the connection after REFUSE");
    close(s);
    char line[600];
    if (!wait_ctx_end(id, 5000, line, sizeof(line)))
        fail("the log has no refusal of connection %u", id);
    else if (!strstr(line, what))
        fail("the log line \"%s\" does not name \"%s\"", line, what);
}

static void expect_refused(const uint8_t *msg, size_t len, int pass_fd, uint32_t status,
                           const char *what)
{
    expect_refused_fds(msg, len, &pass_fd, pass_fd >= 0 ? 1 : 0, status, what);
}

static void hello_with_bad_magic(void)
{
    uint8_t m[48];
    hello_bytes(m, 0x46464952u /* "RIFF" */, 1, 48, WGV_PROTOCOL_VERSION, 0, 0, 0, 0);
    expect_refused(m, 48, -1, WGV_HS_BAD_MESSAGE, "bad magic");
}

static void hello_with_wrong_version(void)
{
    uint8_t m[48];
    hello_bytes(m, WGV_HS_MAGIC, 1, 48, WGV_PROTOCOL_VERSION ^ 1u, 0, 0, 0, 0);
    expect_refused(m, 48, -1, WGV_HS_VERSION_MISMATCH, "protocol version");
}

static void hello_of_another_type(void)
{
    uint8_t m[48];
    hello_bytes(m, WGV_HS_MAGIC, WGV_HS_WELCOME, 48, WGV_PROTOCOL_VERSION, 0, 0, 0, 0);
    expect_refused(m, 48, -1, WGV_HS_BAD_MESSAGE, "expected HELLO");
}

/* A length field of 4 GiB - 1: the host must not try to read it. */
static void hello_with_huge_length(void)
{
    uint8_t m[48];
    hello_bytes(m, WGV_HS_MAGIC, 1, 0xffffffffu, WGV_PROTOCOL_VERSION, 0, 0, 0, 0);
    expect_refused(m, 48, -1, WGV_HS_BAD_MESSAGE, "HELLO of 4294967295 bytes");
}

/* HELLO must not carry file descriptors. */
static void hello_with_a_file_descriptor(void)
{
    uint8_t m[48];
    hello_bytes(m, WGV_HS_MAGIC, 1, 48, WGV_PROTOCOL_VERSION, 0, 0, 0, 0);
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    expect_refused(m, 48, fd, WGV_HS_BAD_MESSAGE, "file descriptor");
    close(fd);
}

/* 250 file descriptors with HELLO: all refused, none kept (the settle
 * check counts the server's open files). */
static void hello_with_many_file_descriptors(void)
{
    uint8_t m[48];
    hello_bytes(m, WGV_HS_MAGIC, 1, 48, WGV_PROTOCOL_VERSION, 0, 0, 0, 0);
    int fds[250];
    for (int i = 0; i < 250; i++)
        fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
    expect_refused_fds(m, 48, fds, 250, WGV_HS_BAD_MESSAGE, "file descriptor");
    for (int i = 0; i < 250; i++)
        close(fds[i]);
}

/* A valid HELLO trickling in one byte at a time is still served. */
static void hello_one_byte_at_a_time(void)
{
    int s = raw_socket();
    if (s < 0)
        return;
    unsigned id = srv.conns;
    uint8_t m[48];
    hello_bytes(m, WGV_HS_MAGIC, 1, 48, WGV_PROTOCOL_VERSION, 0, 0, 0, 0);
    for (int i = 0; i < 48; i++) {
        if (send(s, m + i, 1, MSG_NOSIGNAL) != 1)
            fail("send: %s", strerror(errno));
        sleep_ms(2);
    }
    uint32_t st = 0;
    char reason[300];
    int fds;
    uint32_t type = read_answer(s, &st, reason, sizeof(reason), &fds);
    if (type != WGV_HS_WELCOME || fds != 1)
        fail("expected WELCOME with one file descriptor, got type %u with %d (%s)", type, fds,
             reason);
    close(s);
    if (!wait_ctx_end(id, 5000, NULL, 0))
        fail("the log has no end of connection %u", id);
}

static void hello_with_reserved_bits(void)
{
    uint8_t m[48];
    hello_bytes(m, WGV_HS_MAGIC, 1, 48, WGV_PROTOCOL_VERSION, 0x80000000u, 0, 0, 0);
    expect_refused(m, 48, -1, WGV_HS_BAD_MESSAGE, "reserved");
}

static void hello_asks_for_too_much_memory(void)
{
    uint8_t m[48];
    hello_bytes(m, WGV_HS_MAGIC, 1, 48, WGV_PROTOCOL_VERSION, 0, 0, 0, 1ull << 40);
    expect_refused(m, 48, -1, WGV_HS_REFUSED, "bulk area");
    hello_bytes(m, WGV_HS_MAGIC, 1, 48, WGV_PROTOCOL_VERSION, 0, UINT64_MAX, 0, 0);
    expect_refused(m, 48, -1, WGV_HS_REFUSED, "command ring");
}

static void hello_with_ring_not_a_power_of_two(void)
{
    uint8_t m[48];
    hello_bytes(m, WGV_HS_MAGIC, 1, 48, WGV_PROTOCOL_VERSION, 0, 3 * 4096, 0, 0);
    expect_refused(m, 48, -1, WGV_HS_REFUSED, "power of two");
}

/* Half a HELLO, then silence: the host gives up on it after its deadline
 * and serves another guest meanwhile. */
static void half_hello_then_hang(void)
{
    int s = raw_socket();
    if (s < 0)
        return;
    unsigned id = srv.conns;
    uint8_t m[48];
    hello_bytes(m, WGV_HS_MAGIC, 1, 48, WGV_PROTOCOL_VERSION, 0, 0, 0, 0);
    send(s, m, 20, MSG_NOSIGNAL);
    int64_t t0 = now_ms();
    struct good good;
    good_start(&good, true);
    good_finish(&good, "during the attack");
    char c;
    struct pollfd p = {s, POLLIN, 0};
    int left = (int)(t0 + 9000 - now_ms());
    if (left < 1 || poll(&p, 1, left) <= 0 || recv(s, &c, 1, 0) > 0)
        fail("the host did not drop the half-finished handshake within 9 s");
    close(s);
    if (!wait_ctx_end(id, 5000, NULL, 0))
        fail("the log has no end of connection %u", id);
}

/* Many connections that each send a few bytes of HELLO and stall. */
static void many_stalled_handshakes(void)
{
    enum { N = 150 };
    int socks[N];
    unsigned first = srv.conns + 1;
    for (int i = 0; i < N; i++) {
        socks[i] = raw_socket();
        if (socks[i] >= 0)
            send(socks[i], "WGV", 3, MSG_NOSIGNAL);
    }
    struct good good;
    good_start(&good, true);
    good_finish(&good, "during the attack");
    for (int i = 0; i < N; i++)
        if (socks[i] >= 0)
            close(socks[i]);
    for (unsigned id = first; id < first + N; id++)
        if (!wait_ctx_end(id, 8000, NULL, 0)) {
            fail("connection %u was never ended", id);
            break;
        }
}

/* 1000 connections opened and dropped: before HELLO, in the middle of it,
 * right after WELCOME, and after a command. A well-behaved guest runs in
 * the middle of them. */
static void thousand_connections_dropped(void)
{
    unsigned first = srv.conns + 1;
    struct good good;
    bool good_started = false;
    for (int i = 0; i < 1000 && !failed(); i++) {
        if (i == 500) {
            good_start(&good, false);
            good_started = true;
        }
        switch (i % 4) {
        case 0: {
            int s = raw_socket();
            if (s >= 0)
                close(s);
            break;
        }
        case 1: {
            int s = raw_socket();
            if (s >= 0) {
                uint8_t m[48];
                hello_bytes(m, WGV_HS_MAGIC, 1, 48, WGV_PROTOCOL_VERSION, 0, 0, 0, 0);
                send(s, m, (size_t)(i % 47) + 1, MSG_NOSIGNAL);
                close(s);
            }
            break;
        }
        default: {
            struct gconn g;
            if (!g_open(&g, NULL))
                break;
            if (i % 4 == 3)
                g_release(&g, WGV_OBJ_Instance, H(1, 1));
            g_close(&g);
            break;
        }
        }
    }
    unsigned last = srv.conns;
    if (good_started)
        good_finish(&good, "during the attack");
    for (unsigned id = first; id <= last; id++)
        if (!wait_ctx_end(id, 15000, NULL, 0)) {
            fail("connection %u was never ended", id);
            break;
        }
}

/* ================================================================ processes */

/* 63 well-behaved guests and one hostile one at the same time: the hostile
 * one floods replies it never reads; the others must all get their
 * results. */
static void sixty_four_clients_one_hostile(void)
{
    struct gconn g;
    struct wgv_shm_sizes sizes = {0, 8192, 0};
    if (!g_open(&g, &sizes))
        return;
    if (!g_device(&g)) {
        g_close(&g);
        return;
    }
    enum { N = 63 };
    struct good goods[N];
    for (int i = 0; i < N; i++)
        good_start(&goods[i], false);
    unsigned first = g.id + 1;
    flood_replies(&g, 3000);
    for (int i = 0; i < N; i++) {
        good_finish(&goods[i], "next to the hostile one");
        if (failed()) {
            for (int k = i + 1; k < N; k++)
                wait_child(goods[k].pid, 60000);
            break;
        }
    }
    expect_lost(&g, "not draining", false);
    /* Each of the others left with nothing behind. */
    for (unsigned id = first; id < first + N && !failed(); id++) {
        char line[600];
        if (!wait_ctx_end(id, 10000, line, sizeof(line)))
            fail("context %u never ended", id);
        else if (!strstr(line, ": guest left with 0 live objects"))
            fail("a well-behaved guest's context: \"%s\"", line);
    }
}

/* Runs `body` in a child process connected as a raw guest; the child
 * writes one byte to `ready` when the parent may kill it. */
static pid_t fork_guest(void (*body)(struct gconn *, int), int *ready_fd)
{
    int p[2];
    if (pipe(p) < 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        struct gconn g;
        if (!g_open(&g, NULL) || !g_device(&g))
            _exit(3);
        body(&g, p[1]);
        for (;;)
            pause();
    }
    close(p[1]);
    srv.conns++;
    *ready_fd = p[0];
    return pid;
}

static void stream_commands(struct gconn *g, int ready)
{
    uint8_t payload[8192];
    memset(payload, 0x33, sizeof(payload));
    bool told = false;
    uint32_t kept = 65; /* ids 1..64 are recycled, kept buffers take new ids */
    for (uint32_t round = 0;; round++) {
        uint32_t id = round % 64 + 1, gen = round / 64 + 1;
        g_create_buffer(g, id, gen, 1 << 16, WGPUBufferUsage_CopyDst | WGPUBufferUsage_CopySrc,
                        false);
        struct wgv_ga_wgpuQueueWriteBuffer wb = {OBJ(WGPUQueue, 1), OBJG(WGPUBuffer, id, gen), 0,
                                                 payload, sizeof(payload)};
        g_send(g, WGV_OP_wgpuQueueWriteBuffer, &wb);
        g_release(g, WGV_OBJ_Buffer, H(id, gen));
        if (round >= 64 && round % 3 == 0) /* every id below 65 has been seen */
            g_create_buffer(g, kept++, 1, 16, WGPUBufferUsage_CopyDst, false);
        if (!told && round == 200) {
            (void)!write(ready, "x", 1);
            told = true;
        }
    }
}

static void kill_and_check(pid_t pid, int ready, int delay_ms)
{
    char c;
    unsigned id = srv.conns;
    struct pollfd p = {ready, POLLIN, 0};
    if (poll(&p, 1, 20000) <= 0 || read(ready, &c, 1) != 1)
        fail("the child guest never got going");
    close(ready);
    sleep_ms(delay_ms);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    char line[600];
    if (!wait_ctx_end(id, 15000, line, sizeof(line)))
        fail("the killed guest's context %u never ended", id);
    else if (!strstr(line, ": guest left with "))
        fail("the killed guest's context did not end as a departure: \"%s\"", line);
    else
        fprintf(stderr, "hostile:   %s\n", line);
}

/* SIGKILL in the middle of a stream of commands. */
static void guest_killed_mid_command(void)
{
    int ready;
    pid_t pid = fork_guest(stream_commands, &ready);
    if (pid < 0) {
        fail("fork");
        return;
    }
    kill_and_check(pid, ready, 150);
}

static void start_maps(struct gconn *g, int ready)
{
    for (uint32_t i = 1; i <= 4; i++) {
        g_create_buffer(g, i, 1, 16u << 20, WGPUBufferUsage_MapRead | WGPUBufferUsage_CopyDst,
                        false);
        struct wgv_ga_wgpuBufferMapAsync m = {OBJ(WGPUBuffer, i), WGPUMapMode_Read, 0, 16u << 20,
                                              10 + i, (uint64_t)(i - 1) * (16u << 20), 0, 0};
        g_send(g, WGV_OP_wgpuBufferMapAsync, &m);
    }
    g_create_buffer(g, 5, 1, 1 << 20, WGPUBufferUsage_MapWrite | WGPUBufferUsage_CopySrc, true);
    (void)!write(ready, "x", 1);
}

/* SIGKILL with maps in flight and a mapping open. */
static void guest_killed_mid_map(void)
{
    int ready;
    pid_t pid = fork_guest(start_maps, &ready);
    if (pid < 0) {
        fail("fork");
        return;
    }
    kill_and_check(pid, ready, 0);
}

/* ================================================================ API */

static void guest_program(const char *exe, const char *want_lines[])
{
    char *out = NULL;
    int rc = run_program(exe, 60000, &out);
    if (rc != 0)
        fail("%s exited with %d: %.600s", exe, rc, out);
    for (int i = 0; want_lines[i] && !failed(); i++)
        if (!strstr(out, want_lines[i]))
            fail("%s did not print \"%s\": %.600s", exe, want_lines[i], out);
    unsigned id = srv.conns;
    char line[600];
    if (!failed() && !wait_ctx_end(id, 10000, line, sizeof(line)))
        fail("the program's context %u never ended", id);
    else if (!failed() && !strstr(line, "guest left with 0 live objects"))
        fail("the program's context: \"%s\"", line);
    free(out);
}

/* createBuffer(2^62), texture 65536x65536 and other absurd requests through
 * the ordinary API: WebGPU errors, never a crash. */
static void huge_allocations_through_the_api(void)
{
    const char *want[] = {"buffer of 2^62 bytes: Validation",
                          "texture 65536x65536: Validation",
                          "device still works: yes",
                          "result: ok",
                          NULL};
    guest_program(huge_exe, want);
}

/* A shader reading and writing far out of range: robustness holds. */
static void out_of_bounds_shader_accesses(void)
{
    const char *want[] = {"memory around the binding and other buffers intact: yes",
                          "out-of-range writes stayed in their binding: yes",
                          "out-of-range reads returned values of their binding or zero: yes",
                          "device still works: yes",
                          "result: ok",
                          NULL};
    guest_program(oob_exe, want);
}

/* The same shader through the Dawn front, from a device that asks for every
 * unsafe Dawn toggle: the host drops and logs each, so robustness, zeroed
 * workgroup memory and zeroed buffers all hold. Run on Dawn directly the
 * toggles do apply (workgroup memory is not zeroed): the check can tell. */
static void unsafe_toggles_never_reach_dawn(void)
{
    const char *want[] = {"memory around the binding and other buffers intact: yes",
                          "out-of-range writes stayed in their binding: yes",
                          "workgroup memory starts zeroed: yes",
                          "new buffers start zeroed: yes",
                          "result: ok",
                          NULL};
    guest_program(toggles_exe, want);
    char *log = read_all(srv.log, NULL);
    const char *dropped[] = {"'disable_robustness' (enabled) dropped", "'skip_validation' (enabled) dropped",
                             "'disable_workgroup_init' (enabled) dropped",
                             "'lazy_clear_resource_on_first_use' (disabled) dropped", NULL};
    for (int i = 0; dropped[i] && !failed(); i++)
        if (!log || !strstr(log, dropped[i]))
            fail("the server did not log \"%s\"", dropped[i]);
    free(log);
    char outp[600];
    snprintf(outp, sizeof(outp), "%s/toggles-native.out", tmpdir);
    char *argv[] = {(char *)toggles_native_exe, NULL};
    int st = wait_child(spawn(toggles_native_exe, argv, outp, NULL), 60000);
    char *out = read_all(outp, NULL);
    bool passed = st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
    if (!failed() && (passed || !out || !strstr(out, "workgroup memory starts zeroed: no")))
        fail("on Dawn directly the toggles changed nothing: %.400s", out ? out : "");
    free(out);
}

/* ================================================================ main */

/* The hand-written CreateBuffer body must match the generated encoder's. */
static bool raw_layout_matches_the_encoder(void)
{
    struct wgv_writer a, b;
    struct raw_buffer r = raw_buffer_default();
    r.label_len = 3;
    r.label = "buf";
    r.size = 8192;
    r.usage = (1u << 0) | (1u << 3);
    raw_create_buffer(&a, &r);
    wgv_writer_align(&a, 8);
    uint32_t n = (uint32_t)a.len;
    memcpy(a.data, &n, 4);
    wgv_writer_init(&b);
    WGPUBufferDescriptor d = WGPU_BUFFER_DESCRIPTOR_INIT;
    d.label = (WGPUStringView){"buf", 3};
    d.usage = WGPUBufferUsage_MapRead | WGPUBufferUsage_CopyDst;
    d.size = 8192;
    struct wgv_ga_wgpuDeviceCreateBuffer args = {OBJ(WGPUDevice, 1), &d, OBJ(WGPUBuffer, 1)};
    g_encode(WGV_OP_wgpuDeviceCreateBuffer, &args, &b);
    bool same = a.len == b.len && memcmp(a.data, b.data, a.len) == 0;
    wgv_writer_free(&a);
    wgv_writer_free(&b);
    return same && stype_wire(WGPUSType_ShaderSourceWGSL) != WGV_WIRE_ENUM_INVALID;
}

static char *run_native(void)
{
    char outp[600];
    snprintf(outp, sizeof(outp), "%s/native.out", tmpdir);
    char *argv[] = {(char *)native_exe, NULL};
    pid_t pid = spawn(native_exe, argv, outp, NULL);
    int st = wait_child(pid, 60000);
    if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return NULL;
    FILE *f = fopen(outp, "r");
    if (!f)
        return NULL;
    char *buf = calloc(1, 1 << 16);
    size_t n = fread(buf, 1, (1 << 16) - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

static void remove_tmpdir(void)
{
    DIR *d = opendir(tmpdir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.')
                continue;
            char p[600];
            snprintf(p, sizeof(p), "%s/%s", tmpdir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(tmpdir);
}

int main(int argc, char **argv)
{
    if (argc != 8) {
        fprintf(stderr, "usage: hostile SERVER GOOD_WIRE GOOD_NATIVE HUGE_ALLOC OOB_SHADER "
                        "OOB_TOGGLES OOB_TOGGLES_NATIVE\n");
        return 2;
    }
    /* The well-behaved guests check results, not speed: 64 of them on a
     * CPU renderer next to other suites may wait long for a callback. */
    setenv("WGV_PARITY_TIMEOUT", "150", 0);
    server_exe = argv[1];
    good_exe = argv[2];
    native_exe = argv[3];
    huge_exe = argv[4];
    oob_exe = argv[5];
    toggles_exe = argv[6];
    toggles_native_exe = argv[7];
    signal(SIGPIPE, SIG_IGN);
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/wgv-hostile.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    /* Private runtime folder for the server, the programs and the driver. */
    setenv("XDG_RUNTIME_DIR", tmpdir, 1);
    char sp[300];
    snprintf(sp, sizeof(sp), "%s/wgv.sock", tmpdir);
    setenv("WGV_SERVER", sp, 1);
    int64_t t0 = now_ms();

    if (!raw_layout_matches_the_encoder()) {
        printf("FAIL setup: the hand-written command layout differs from the encoder's\n");
        printf("hostile: 0 passed, 1 failed\n");
        return 1;
    }
    native_out = run_native();
    if (!native_out || !server_start()) {
        printf("FAIL setup: %s\n", native_out ? "wgv-server did not start or serve"
                                              : "the native parity program failed");
        printf("hostile: 0 passed, 1 failed\n");
        if (srv.pid > 0)
            server_stop();
        return 1;
    }

    /* framing and the command ring */
    ATTACK(record_size_zero);
    ATTACK(record_size_not_multiple_of_8);
    ATTACK(record_size_larger_than_published);
    ATTACK(record_larger_than_message_max);
    ATTACK(padding_record_that_lies);
    ATTACK(padding_record_larger_than_ring);
    ATTACK(record_crossing_the_ring_end);
    ATTACK(batch_inside_a_batch);
    ATTACK(batched_command_past_the_batch);
    ATTACK(garbage_all_0xff);
    ATTACK(ring_head_unaligned);
    ATTACK(ring_head_far_ahead);
    ATTACK(ring_head_behind_tail);
    ATTACK(ring_head_rewound_to_zero);
    /* commands */
    ATTACK(truncated_command);
    ATTACK(command_header_only);
    ATTACK(trailing_bytes_after_command);
    ATTACK(unknown_opcode);
    ATTACK(opcode_zero);
    ATTACK(opcode_one_past_the_last);
    ATTACK(every_opcode_with_0xff_body);
    ATTACK(seeded_random_records);
    /* counts and sizes */
    ATTACK(array_count_2_60);
    ATTACK(wide_array_of_zero_structs);
    ATTACK(string_length_2_63);
    ATTACK(string_length_wraps_around);
    ATTACK(chain_link_count_huge);
    ATTACK(inline_byte_block_size_huge);
    ATTACK(bulk_block_size_huge);
    ATTACK(bulk_offset_past_the_area);
    ATTACK(bulk_offset_plus_size_overflows);
    ATTACK(bulk_range_one_past_the_end);
    ATTACK(byte_block_unknown_mode);
    ATTACK(byte_block_of_unattached_resource);
    /* chains */
    ATTACK(unknown_stype_in_chain);
    ATTACK(chain_longer_than_allowed);
    ATTACK(chain_of_unsupported_markers_is_a_validation_error);
    ATTACK(chained_struct_the_backend_lacks);
    ATTACK(nesting_bomb);
    /* scalar values */
    ATTACK(enum_value_out_of_range);
    ATTACK(bool_value_2);
    ATTACK(pointer_presence_2);
    ATTACK(required_pointer_null);
    ATTACK(flag_bits_the_wire_lacks);
    /* objects */
    ATTACK(object_id_zero_where_required);
    ATTACK(object_id_far_past_the_table);
    ATTACK(object_of_the_wrong_type);
    ATTACK(object_handle_all_ones);
    ATTACK(new_object_id_far_past_the_table);
    ATTACK(new_object_id_zero);
    ATTACK(new_object_generation_zero);
    ATTACK(reused_id_with_stale_generation);
    ATTACK(stale_handle_after_reuse);
    ATTACK(create_with_an_id_that_is_live);
    ATTACK(request_device_into_a_live_id);
    ATTACK(new_ids_instead_of_freed_ones);
    ATTACK(new_id_while_a_few_are_free_is_served);
    ATTACK(release_twice);
    ATTACK(use_after_release);
    ATTACK(queue_used_after_release);
    ATTACK(release_of_the_instance);
    ATTACK(release_of_unknown_object_types);
    ATTACK(release_while_creation_is_pending);
    ATTACK(release_buffer_with_map_pending);
    ATTACK(device_used_after_destroy);
    ATTACK(error_object_outlives_its_device);
    ATTACK(object_quota_exhaustion);
    /* callbacks, adapters and devices, what quotas bound */
    ATTACK(callbacks_on_error_objects_still_fire);
    ATTACK(leave_with_every_callback_pending);
    ATTACK(violation_with_every_callback_pending);
    ATTACK(request_adapter_with_every_option);
    ATTACK(request_device_with_absurd_limits);
    ATTACK(device_flood_within_quotas);
    ATTACK(shader_module_flood_within_quotas);
    ATTACK(pipeline_flood_within_quotas);
    ATTACK(encoder_contents_within_quotas);
    /* mapping and shared memory */
    ATTACK(map_async_shm_offset_out_of_range);
    ATTACK(map_async_shm_range_overflows);
    ATTACK(map_async_whole_size_raw);
    ATTACK(unmap_with_bogus_shm_range);
    ATTACK(unmap_with_overflowing_shm_range);
    ATTACK(unmap_claims_more_than_mapped);
    ATTACK(mapped_at_creation_huge_raw);
    /* transfers larger than the bulk area */
    ATTACK(read_mapped_range_outside_bulk);
    ATTACK(read_mapped_range_overflows);
    ATTACK(read_mapped_of_no_buffer);
    ATTACK(read_mapped_outside_mappings_answers_error);
    ATTACK(write_mapped_range_outside_bulk);
    ATTACK(write_mapped_outside_mappings_dropped);
    ATTACK(map_async_stream_flag_not_bool);
    ATTACK(map_async_answered_flag_not_bool);
    ATTACK(map_async_answered_and_streamed);
    ATTACK(answered_maps_the_backend_refuses);
    ATTACK(stage_bytes_out_of_order);
    ATTACK(stage_bytes_past_the_total);
    ATTACK(stage_bytes_without_a_start);
    ATTACK(stage_bytes_range_outside_bulk);
    ATTACK(staged_write_texture_without_staging);
    ATTACK(staged_write_texture_half_staged);
    ATTACK(staged_write_texture_with_bytes_of_its_own);
    ATTACK(stage_bytes_past_the_quota);
    /* tampering with shared memory while the host works */
    ATTACK(command_ring_rewritten_while_host_reads);
    ATTACK(command_bodies_rewritten_while_host_reads);
    ATTACK(bulk_rewritten_while_host_copies);
    ATTACK(futex_words_flipped);
    ATTACK(reply_ring_tail_beyond_head);
    ATTACK(reply_ring_tail_moved_backwards);
    ATTACK(reply_ring_never_read);
    ATTACK(commands_after_the_context_ended);
    ATTACK(bytes_on_the_socket_after_handshake);
    /* handshake */
    ATTACK(hello_with_bad_magic);
    ATTACK(hello_with_wrong_version);
    ATTACK(hello_of_another_type);
    ATTACK(hello_with_huge_length);
    ATTACK(hello_with_a_file_descriptor);
    ATTACK(hello_with_many_file_descriptors);
    ATTACK(hello_one_byte_at_a_time);
    ATTACK(hello_with_reserved_bits);
    ATTACK(hello_asks_for_too_much_memory);
    ATTACK(hello_with_ring_not_a_power_of_two);
    ATTACK(half_hello_then_hang);
    ATTACK(many_stalled_handshakes);
    ATTACK(thousand_connections_dropped);
    /* many guests, killed guests */
    ATTACK(sixty_four_clients_one_hostile);
    ATTACK(guest_killed_mid_command);
    ATTACK(guest_killed_mid_map);
    /* through the ordinary API */
    ATTACK(huge_allocations_through_the_api);
    ATTACK(out_of_bounds_shader_accesses);
    ATTACK(unsafe_toggles_never_reach_dawn);

    server_stop();
    fprintf(stderr, "hostile: %lld ms in all; server logs in %s\n", (long long)(now_ms() - t0),
            tmpdir);
    if (!failures && !getenv("HOSTILE_KEEP"))
        remove_tmpdir();
    printf("hostile: %d passed, %d failed\n", passed, failures);
    return failures ? 1 : 0;
}
