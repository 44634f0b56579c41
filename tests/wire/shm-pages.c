/* Who the pages of a guest's shared memory belong to, and whether a guest
 * that is gone can keep the host's. wgv-server creates each guest's memfd
 * and sends it over; a page belongs to (is charged to the memory cgroup
 * of) whoever touches it first, and the host is the first to write the
 * control page, the reply ring and every bulk range it fills for the
 * guest (a read mapping's bytes). A guest that keeps the descriptor after
 * its connection ends would keep those pages charged to the host; so once
 * the connection is over the server punches the pages out of the memfd
 * (docs/transport.md, "Who pays for the shared memory").
 *
 * A raw guest (tests/hostile/harness.c) maps 32 MiB for reading into bulk
 * pages it never touched, and looks with mincore(2) at which pages of the
 * memfd exist, without touching any: the host wrote them. Then:
 *   1. it hangs up but keeps the memfd mapped: no page may stay;
 *   2. the host ends its context (a protocol violation) and it reads the
 *      reason but stays connected: at most the control page may stay;
 *   3. the same, but it reads nothing: after the host's grace period (1 s)
 *      at most the control page may stay.
 *
 * Each against a thread-mode server, then against an isolated one.
 *
 * Usage: shm-pages SERVER. Prints "shm-pages: N passed, M failed". */
#include "hostile.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* What harness.c expects of its program. */
const char *good_exe;
char *native_out;
char tmpdir[200];

static int passed, failed_count;

enum { MAP_MIB = 32, BULK_MIB = 64, MAP_AT_MIB = 16 };

/* Pages of [off, off + len) of the guest's mapping that exist in the
 * memfd (someone wrote or read them), found without touching any. */
static size_t resident(const struct gconn *g, uint64_t off, uint64_t len)
{
    uint64_t page = g->conn.shm.page_size;
    size_t n = (size_t)((len + page - 1) / page), count = 0;
    unsigned char *vec = malloc(n);
    if (!vec || mincore(g->conn.shm.base + off, len, vec) != 0) {
        free(vec);
        return (size_t)-1;
    }
    for (size_t i = 0; i < n; i++)
        count += vec[i] & 1;
    free(vec);
    return count;
}

static size_t resident_all(const struct gconn *g)
{
    return resident(g, 0, g->conn.shm.map_size);
}

/* Waits up to timeout_ms for at most `most` pages of the memfd to exist;
 * returns how many do. */
static size_t wait_resident_at_most(const struct gconn *g, size_t most, int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;
    size_t n;
    while ((n = resident_all(g)) > most && now_ms() < deadline)
        sleep_ms(50);
    return n;
}

/* Opens a guest with a 64 MiB bulk area, a device, and a 32 MiB buffer
 * mapped for reading at bulk offset 16 MiB: the host writes the 32 MiB
 * there. Returns the pages of that range that exist afterwards. */
static size_t guest_with_a_read_mapping(struct gconn *g)
{
    struct wgv_shm_sizes sizes = {0, 0, (uint64_t)BULK_MIB << 20};
    if (!g_open(g, &sizes) || !g_device(g))
        return 0;
    uint64_t size = (uint64_t)MAP_MIB << 20, at = (uint64_t)MAP_AT_MIB << 20;
    uint64_t bulk = (uint64_t)(wgv_shm_bulk(&g->conn.shm) - g->conn.shm.base);
    if (resident(g, bulk + at, size) != 0)
        fail("pages of the bulk range exist before the mapping");
    g_create_buffer(g, 1, 1, size, WGPUBufferUsage_MapRead | WGPUBufferUsage_CopyDst, false);
    uint64_t f = g->next_future++;
    struct wgv_ga_wgpuBufferMapAsync m = {OBJ(WGPUBuffer, 1), WGPUMapMode_Read, 0, size, f, at,
                                          0, 0};
    g_send(g, WGV_OP_wgpuBufferMapAsync, &m);
    const struct cbrec *c = g_wait_cb(g, f, 30000);
    if (!c || c->w0 != 0) { /* the wire's status numbers: 0 is success */
        fail("the read mapping failed%s%s", g->lost ? ": " : "", g->lost_reason);
        return 0;
    }
    return resident(g, bulk + at, size);
}

/* Ends the context with a protocol violation (an opcode that does not
 * exist) and waits for the server to log it. */
static void violate(struct gconn *g)
{
    struct wgv_cmd_header h = {16, 0xfffe, 0};
    uint8_t rec[16] = {0};
    memcpy(rec, &h, sizeof(h));
    g_push(g, rec, sizeof(rec));
    char line[600];
    if (!wait_ctx_end(g->id, 10000, line, sizeof(line)) || !strstr(line, " ended: "))
        fail("the host did not end context %u", g->id);
}

static void report(const char *name, const char *detail)
{
    if (failed()) {
        printf("FAIL %s: %s\n", name, fail_reason());
        failed_count++;
    } else {
        printf("ok   %s (%s)\n", name, detail);
        passed++;
    }
    fflush(stdout);
    fail_reset();
}

/* The three cases against one server (mode: "" or "--isolate"). */
static void run_mode(const char *server, const char *mode)
{
    const char *tag = mode[0] ? " (isolated)" : " (thread mode)";
    snprintf(srv.log, sizeof(srv.log), "%s/server%s.log", tmpdir, mode);
    srv.dead = false;
    srv.conns = 0;
    unlink(sock_path);
    srv.pid = fork();
    if (srv.pid == 0) {
        int fd = open(srv.log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0)
            dup2(fd, 2);
        execl(server, server, "--socket", sock_path, "--verbose", mode[0] ? mode : NULL,
              (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 400 && access(sock_path, F_OK) != 0; i++)
        sleep_ms(25);
    char name[200], detail[512];

    /* 1. The host writes the mapping into bulk pages the guest never
     *    touched; the guest hangs up and keeps the memfd mapped. */
    struct gconn g;
    size_t wrote = guest_with_a_read_mapping(&g);
    size_t all = resident_all(&g);
    size_t want = ((size_t)MAP_MIB << 20) / g.conn.shm.page_size;
    if (!failed() && wrote < want)
        fail("the host wrote %zu pages of the %zu the mapping holds", wrote, want);
    snprintf(detail, sizeof(detail), "the host wrote %zu pages of %zu bytes the guest never "
             "touched; %zu pages of the memfd exist", wrote, (size_t)g.conn.shm.page_size, all);
    snprintf(name, sizeof(name), "the_host_writes_a_read_mapping_into_the_guests_memfd%s", tag);
    report(name, detail);

    unsigned id = g.id;
    close(g.conn.sock);
    g.conn.sock = -1;
    char line[600];
    if (!wait_ctx_end(id, 10000, line, sizeof(line)))
        fail("the log has no end of context %u", id);
    size_t left = wait_resident_at_most(&g, 0, 3000);
    if (!failed() && left)
        fail("%zu pages (%zu KiB) of the memfd stay, held by a guest that is gone",
             left, left * (size_t)g.conn.shm.page_size / 1024);
    snprintf(detail, sizeof(detail), "%zu pages stay", left);
    snprintf(name, sizeof(name), "a_guest_that_left_keeps_none_of_the_hosts_pages%s", tag);
    report(name, detail);
    wgv_conn_close(&g.conn);
    free(g.rbuf);

    /* 2. The host ends the context; the guest reads the reason and stays. */
    wrote = guest_with_a_read_mapping(&g);
    violate(&g);
    int64_t deadline = now_ms() + 5000;
    while (!g.lost && now_ms() < deadline) {
        g_pump(&g);
        sleep_ms(5);
    }
    if (!g.lost)
        fail("no context-lost reply");
    left = wait_resident_at_most(&g, 1, 3000);
    if (!failed() && left > 1)
        fail("%zu pages of the memfd stay (at most the control page may)", left);
    snprintf(detail, sizeof(detail), "%zu page(s) stay of %zu written; the guest read \"%s\"",
             left, wrote, g.lost_reason);
    snprintf(name, sizeof(name),
             "an_ended_guest_that_read_its_reason_keeps_only_the_control_page%s", tag);
    report(name, detail);
    g_close(&g);

    /* 3. The same, but the guest reads nothing: after the grace period. */
    guest_with_a_read_mapping(&g);
    violate(&g);
    left = wait_resident_at_most(&g, 1, 4000);
    if (!failed() && left > 1)
        fail("%zu pages of the memfd stay (at most the control page may)", left);
    snprintf(detail, sizeof(detail), "%zu page(s) stay", left);
    snprintf(name, sizeof(name),
             "an_ended_guest_that_reads_nothing_keeps_only_the_control_page%s", tag);
    report(name, detail);
    g_close(&g);

    kill(srv.pid, SIGTERM);
    waitpid(srv.pid, NULL, 0);
    srv.dead = true;
    if (!failed_count)
        unlink(srv.log);
    else
        printf("# server log kept: %s\n", srv.log);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: shm-pages SERVER\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/wgv-shm-pages.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(sock_path, sizeof(sock_path), "%s/s.sock", tmpdir);
    run_mode(argv[1], "");
    run_mode(argv[1], "--isolate");
    if (!failed_count)
        rmdir(tmpdir);
    printf("shm-pages: %d passed, %d failed\n", passed, failed_count);
    return failed_count ? 1 : 0;
}
