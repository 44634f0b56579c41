/* The handshake: the good path (sizes, capset, a memfd both sides map), and
 * every malformed or hostile message on either side being a clear error that
 * leaks no file descriptor. SIGPIPE is left at its default on purpose: a
 * write to a closed peer must not kill the process. */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "wire/handshake.h"

#define VERSION 7u

static int count_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

static void pair(int sv[2])
{
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* HELLO as docs/transport.md lays it out, byte by byte. */
static void make_hello(uint8_t m[48], uint32_t magic, uint32_t version, uint64_t cmd,
                       uint64_t reply, uint64_t bulk)
{
    put32(m, magic);
    put32(m + 4, WGV_HS_HELLO);
    put32(m + 8, 48);
    put32(m + 12, version);
    put32(m + 16, 0);
    put32(m + 20, 0);
    put64(m + 24, cmd);
    put64(m + 32, reply);
    put64(m + 40, bulk);
}

static size_t make_welcome(uint8_t *m, uint32_t version, uint64_t cmd, uint64_t reply,
                           uint64_t bulk, const char *capset)
{
    size_t clen = strlen(capset);
    put32(m, WGV_HS_MAGIC);
    put32(m + 4, WGV_HS_WELCOME);
    put32(m + 8, (uint32_t)(56 + clen));
    put32(m + 12, version);
    put32(m + 16, 0);
    put32(m + 20, 0);
    put64(m + 24, cmd);
    put64(m + 32, reply);
    put64(m + 40, bulk);
    put32(m + 48, (uint32_t)clen);
    put32(m + 52, 0);
    memcpy(m + 56, capset, clen);
    return 56 + clen;
}

static void send_fds(int sock, const void *buf, size_t len, const int *fds, int nfds)
{
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int) * 4)];
    } ctl;
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    if (nfds) {
        memset(&ctl, 0, sizeof(ctl));
        mh.msg_control = ctl.buf;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
        memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)nfds);
    }
    CHECK(sendmsg(sock, &mh, MSG_NOSIGNAL) == (ssize_t)len);
}

/* Reads a REFUSE from the raw side; returns its status, reason in out. */
static int read_refuse(int sock, char *reason, size_t cap)
{
    uint8_t m[24 + 256];
    if (recv(sock, m, 24, MSG_WAITALL) != 24 || get32(m) != WGV_HS_MAGIC ||
        get32(m + 4) != WGV_HS_REFUSE || get32(m + 12) != VERSION)
        return -1;
    uint32_t len = get32(m + 20);
    if (len > 256 || len >= cap || get32(m + 8) != 24 + len ||
        recv(sock, m + 24, len, MSG_WAITALL) != (ssize_t)len)
        return -1;
    memcpy(reason, m + 24, len);
    reason[len] = 0;
    return (int)get32(m + 16);
}

static const struct wgv_hs_policy quick = {.timeout_ms = 2000};

/* --- a real host on a thread ---------------------------------------------- */

struct host_arg {
    int sock;
    uint32_t version;
    struct wgv_hs_policy policy;
    const char *capset;
    int rc;
    char err[512];
    struct wgv_conn conn;
    int close_after; /* misbehave: read HELLO, send this many WELCOME bytes, close */
};

static void *host_main(void *p)
{
    struct host_arg *a = p;
    if (a->close_after) {
        uint8_t hello[48], welcome[64];
        a->rc = recv(a->sock, hello, 48, MSG_WAITALL) == 48 ? 0 : -1;
        make_welcome(welcome, a->version, 65536, 65536, 65536, "");
        send(a->sock, welcome, (size_t)a->close_after, MSG_NOSIGNAL);
        close(a->sock);
        return NULL;
    }
    a->rc = wgv_handshake_accept(a->sock, a->version, &a->policy, a->capset,
                                 a->capset ? strlen(a->capset) : 0, &a->conn, a->err,
                                 sizeof(a->err));
    return NULL;
}

static void test_good_path(void)
{
    int fds_before = count_fds();
    int sv[2];
    pair(sv);
    uint64_t page = wgv_shm_page_size();
    struct host_arg h = {.sock = sv[0], .version = VERSION, .policy = quick,
                         .capset = "capset: webgpu-virtio test blob"};
    pthread_t th;
    pthread_create(&th, NULL, host_main, &h);
    struct wgv_shm_sizes want = {64 * 1024, 4 * page, 1 << 20};
    struct wgv_conn g;
    char err[512] = "";
    int rc = wgv_handshake_client(sv[1], VERSION, &want, 2000, &g, err, sizeof(err));
    pthread_join(th, NULL);
    CHECK_MSG(rc == 0, "%s", err);
    CHECK_MSG(h.rc == 0, "%s", h.err);
    if (rc != 0 || h.rc != 0)
        return;
    CHECK(g.sock == sv[1] && h.conn.sock == sv[0]);
    CHECK(g.peer_version == VERSION && h.conn.peer_version == VERSION);
    CHECK(memcmp(&g.shm.sizes, &want, sizeof(want)) == 0);
    CHECK(memcmp(&h.conn.shm.sizes, &want, sizeof(want)) == 0);
    CHECK(g.capset.len == strlen(h.capset));
    CHECK(memcmp(g.capset.data, h.capset, g.capset.len) == 0);
    CHECK(h.conn.capset.len == g.capset.len);
    /* The memfd is sealed: the guest cannot shrink or grow it. */
    int seals = fcntl(g.shm.fd, F_GET_SEALS);
    CHECK(seals == (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL));
    CHECK(ftruncate(g.shm.fd, 4096) != 0);
    CHECK(fcntl(g.shm.fd, F_GETFD) & FD_CLOEXEC);
    /* Both sides see the same bytes. */
    uint8_t *gb = wgv_shm_bulk_ptr(&g.shm, want.bulk - 4096, 4096);
    uint8_t *hb = wgv_shm_bulk_ptr(&h.conn.shm, want.bulk - 4096, 4096);
    CHECK(gb && hb && gb != hb);
    if (gb && hb) {
        memcpy(gb, "from the guest", 15);
        CHECK(memcmp(hb, "from the guest", 15) == 0);
    }
    CHECK(wgv_shm_control(&g.shm)->bulk_size == want.bulk);
    /* The rings work across the two mappings, both directions. */
    struct wgv_ring gc, hc, gr, hr;
    CHECK(wgv_shm_cmd_ring(&g.shm, &gc) == 0 && wgv_shm_cmd_ring(&h.conn.shm, &hc) == 0);
    CHECK(wgv_shm_reply_ring(&g.shm, &gr) == 0 && wgv_shm_reply_ring(&h.conn.shm, &hr) == 0);
    uint8_t *rec = wgv_ring_reserve(&gc, 24, 0, NULL);
    CHECK(rec != NULL);
    if (rec) {
        memcpy(rec + 4, "command", 8);
        wgv_ring_commit(&gc, 12);
        wgv_ring_publish(&gc);
    }
    uint8_t buf[64];
    CHECK(wgv_ring_read(&hc, buf, sizeof(buf)) == 16 && memcmp(buf + 4, "command", 8) == 0);
    rec = wgv_ring_reserve(&hr, 8, 0, NULL);
    CHECK(rec != NULL);
    if (rec) {
        memcpy(rec + 4, "ok!", 4);
        wgv_ring_commit(&hr, 8);
        wgv_ring_publish(&hr);
    }
    CHECK(wgv_ring_read(&gr, buf, sizeof(buf)) == 8 && memcmp(buf + 4, "ok!", 4) == 0);
    /* Range checks on the bulk area. */
    CHECK(wgv_shm_bulk_range_ok(&h.conn.shm, 0, want.bulk));
    CHECK(wgv_shm_bulk_range_ok(&h.conn.shm, want.bulk, 0));
    CHECK(!wgv_shm_bulk_range_ok(&h.conn.shm, want.bulk, 1));
    CHECK(!wgv_shm_bulk_range_ok(&h.conn.shm, 1, want.bulk));
    CHECK(!wgv_shm_bulk_range_ok(&h.conn.shm, UINT64_MAX, 2));
    CHECK(!wgv_shm_bulk_range_ok(&h.conn.shm, 8, UINT64_MAX - 4));
    CHECK(wgv_shm_bulk_ptr(&h.conn.shm, 4096, UINT64_MAX) == NULL);
    /* Nothing follows the handshake; the guest's exit is a hang-up. */
    CHECK(wgv_peer_wait(h.conn.sock, 0) == WGV_PEER_ALIVE);
    CHECK(wgv_peer_wait(g.sock, 0) == WGV_PEER_ALIVE);
    wgv_conn_close(&g);
    CHECK(wgv_peer_wait(h.conn.sock, 1000) == WGV_PEER_GONE);
    wgv_conn_close(&h.conn);
    CHECK(count_fds() == fds_before);
}

static void test_connect_by_path_defaults_and_host_death(void)
{
    char path[256];
    const char *dir = getenv("XDG_RUNTIME_DIR");
    snprintf(path, sizeof(path), "%s/wgv-test-%d.sock", dir && *dir ? dir : "/tmp",
             (int)getpid());
    char err[512] = "";
    int lfd = wgv_handshake_listen(path, 4, err, sizeof(err));
    CHECK_MSG(lfd >= 0, "%s", err);
    if (lfd < 0)
        return;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        /* The host: accept one guest, then wait to be killed. */
        int s = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        struct wgv_conn c;
        char e[512];
        if (s < 0 || wgv_handshake_accept(s, VERSION, NULL, "caps", 4, &c, e, sizeof(e)) != 0)
            _exit(1);
        for (;;)
            pause();
    }
    close(lfd);
    struct wgv_conn g;
    int rc = wgv_handshake_connect(path, VERSION, NULL, 2000, &g, err, sizeof(err));
    CHECK_MSG(rc == 0, "%s", err);
    if (rc == 0) {
        CHECK(g.shm.sizes.cmd_ring == WGV_SHM_DEFAULT_CMD_RING);
        CHECK(g.shm.sizes.reply_ring == WGV_SHM_DEFAULT_REPLY_RING);
        CHECK(g.shm.sizes.bulk == WGV_SHM_DEFAULT_BULK);
        CHECK(g.capset.len == 4 && memcmp(g.capset.data, "caps", 4) == 0);
        CHECK(wgv_peer_wait(g.sock, 0) == WGV_PEER_ALIVE);
        kill(pid, SIGKILL);
        CHECK(wgv_peer_wait(g.sock, 2000) == WGV_PEER_GONE);
        wgv_conn_close(&g);
    } else {
        kill(pid, SIGKILL);
    }
    waitpid(pid, NULL, 0);
    unlink(path);
    /* Nobody listens any more. */
    rc = wgv_handshake_connect(path, VERSION, NULL, 2000, &g, err, sizeof(err));
    CHECK(rc == -WGV_HS_IO && strstr(err, path) != NULL);
}

/* Runs accept on sv[0] after `bytes` were queued on sv[1]; returns its rc. */
static int accept_after(int sv[2], const void *bytes, size_t len, const int *fds, int nfds,
                        const struct wgv_hs_policy *policy, char *err, size_t errlen)
{
    if (len)
        send_fds(sv[1], bytes, len, fds, nfds);
    struct wgv_conn c;
    int rc = wgv_handshake_accept(sv[0], VERSION, policy, "x", 1, &c, err, errlen);
    if (rc == 0)
        wgv_conn_close(&c);
    return rc;
}

/* The path appears only once the socket listens (it is renamed into
 * place), a socket left by a server that is gone is replaced, and a file
 * that is not a socket is refused and left alone. */
static void test_listen_path_appears_listening(void)
{
    char path[96], err[512] = "";
    const char *dir = getenv("XDG_RUNTIME_DIR");
    snprintf(path, sizeof(path), "%s/wgv-listen-%d.sock", dir && *dir ? dir : "/tmp",
             (int)getpid());
    for (int round = 0; round < 2; round++) { /* the second replaces the first */
        int lfd = wgv_handshake_listen(path, 4, err, sizeof(err));
        CHECK_MSG(lfd >= 0, "%s", err);
        if (lfd < 0)
            return;
        int c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
        CHECK(connect(c, (struct sockaddr *)&a, sizeof(a)) == 0);
        close(c);
        close(lfd);
    }
    char tmp[300];
    snprintf(tmp, sizeof(tmp), "%s.%ld", path, (long)getpid());
    CHECK(access(tmp, F_OK) != 0);
    unlink(path);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs("keep", f);
        fclose(f);
    }
    CHECK(wgv_handshake_listen(path, 4, err, sizeof(err)) < 0 && strstr(err, "not a socket"));
    struct stat st;
    CHECK(stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 4);
    unlink(path);
}

static void test_bad_magic(void)
{
    int fds_before = count_fds();
    int sv[2];
    pair(sv);
    uint8_t m[48];
    make_hello(m, 0x4c4c4548, VERSION, 0, 0, 0); /* "HELL" */
    char err[512] = "", reason[300];
    CHECK(accept_after(sv, m, 48, NULL, 0, &quick, err, sizeof(err)) == -WGV_HS_BAD_MESSAGE);
    CHECK_MSG(strstr(err, "magic") != NULL, "%s", err);
    CHECK(read_refuse(sv[1], reason, sizeof(reason)) == WGV_HS_BAD_MESSAGE);
    CHECK_MSG(strstr(reason, "bad magic 0x4c4c4548") != NULL, "%s", reason);
    close(sv[0]);
    close(sv[1]);
    CHECK(count_fds() == fds_before);
}

static void test_version_mismatch_is_a_clear_refusal(void)
{
    int sv[2];
    pair(sv);
    struct host_arg h = {.sock = sv[0], .version = VERSION, .policy = quick};
    pthread_t th;
    pthread_create(&th, NULL, host_main, &h);
    struct wgv_conn g;
    char err[512] = "";
    int rc = wgv_handshake_client(sv[1], VERSION + 1, NULL, 2000, &g, err, sizeof(err));
    pthread_join(th, NULL);
    CHECK(rc == -WGV_HS_VERSION_MISMATCH);
    CHECK(h.rc == -WGV_HS_VERSION_MISMATCH);
    CHECK_MSG(strstr(err, "guest speaks protocol version 8, host speaks 7") != NULL, "%s", err);
    CHECK_MSG(strstr(err, "version mismatch") != NULL, "%s", err);
    CHECK_MSG(strstr(h.err, "version 8") != NULL, "%s", h.err);
    close(sv[0]);
    close(sv[1]);

    /* A host that welcomes with another version is not believed either. */
    pair(sv);
    uint64_t page = wgv_shm_page_size();
    struct wgv_shm shm;
    struct wgv_shm_sizes s = {page, page, page};
    CHECK(wgv_shm_create(&s, &shm, err, sizeof(err)) == 0);
    uint8_t w[64];
    size_t wl = make_welcome(w, VERSION + 5, page, page, page, "");
    send_fds(sv[0], w, wl, &shm.fd, 1);
    int fds_before = count_fds();
    rc = wgv_handshake_client(sv[1], VERSION, NULL, 2000, &g, err, sizeof(err));
    CHECK(rc == -WGV_HS_VERSION_MISMATCH);
    CHECK_MSG(strstr(err, "version 12, we speak 7") != NULL, "%s", err);
    CHECK(count_fds() == fds_before);
    wgv_shm_unmap(&shm);
    close(sv[0]);
    close(sv[1]);
}

static void test_truncated_and_malformed_hello(void)
{
    int fds_before = count_fds();
    uint8_t m[48];
    char err[512] = "", reason[300];
    int sv[2];

    /* Cut in the header. */
    pair(sv);
    make_hello(m, WGV_HS_MAGIC, VERSION, 0, 0, 0);
    send_fds(sv[1], m, 10, NULL, 0);
    shutdown(sv[1], SHUT_WR);
    CHECK(accept_after(sv, NULL, 0, NULL, 0, &quick, err, sizeof(err)) == -WGV_HS_IO);
    CHECK_MSG(strstr(err, "closed") && strstr(err, "after 10 of 16 bytes"), "%s", err);
    close(sv[0]);
    close(sv[1]);

    /* Cut in the body. */
    pair(sv);
    send_fds(sv[1], m, 20, NULL, 0);
    shutdown(sv[1], SHUT_WR);
    CHECK(accept_after(sv, NULL, 0, NULL, 0, &quick, err, sizeof(err)) == -WGV_HS_IO);
    CHECK_MSG(strstr(err, "after 4 of 32 bytes"), "%s", err);
    close(sv[0]);
    close(sv[1]);

    /* Nothing at all: the policy's timeout. */
    pair(sv);
    struct wgv_hs_policy fast = {.timeout_ms = 50};
    CHECK(accept_after(sv, NULL, 0, NULL, 0, &fast, err, sizeof(err)) == -WGV_HS_IO);
    CHECK_MSG(strstr(err, "timed out"), "%s", err);
    close(sv[0]);
    close(sv[1]);

    /* A length that is not HELLO's, a wrong type, a reserved field set. */
    for (int c = 0; c < 3; c++) {
        pair(sv);
        make_hello(m, WGV_HS_MAGIC, VERSION, 0, 0, 0);
        if (c == 0)
            put32(m + 8, 4096);
        if (c == 1)
            put32(m + 4, WGV_HS_WELCOME);
        if (c == 2)
            put32(m + 20, 1);
        CHECK(accept_after(sv, m, 48, NULL, 0, &quick, err, sizeof(err)) ==
              -WGV_HS_BAD_MESSAGE);
        CHECK(read_refuse(sv[1], reason, sizeof(reason)) == WGV_HS_BAD_MESSAGE);
        const char *want[] = {"HELLO of 4096 bytes", "expected HELLO", "reserved"};
        CHECK_MSG(strstr(reason, want[c]) != NULL, "%s", reason);
        close(sv[0]);
        close(sv[1]);
    }
    CHECK(count_fds() == fds_before);
}

static void test_hello_with_fds_refused(void)
{
    int fds_before = count_fds();
    int p[2];
    CHECK(pipe2(p, O_CLOEXEC) == 0);
    for (int nfds = 1; nfds <= 2; nfds++) {
        int sv[2];
        pair(sv);
        uint8_t m[48];
        make_hello(m, WGV_HS_MAGIC, VERSION, 0, 0, 0);
        char err[512] = "", reason[300];
        /* The fds ride on the header's bytes or on the body's. */
        if (nfds == 1) {
            CHECK(accept_after(sv, m, 48, p, 2, &quick, err, sizeof(err)) ==
                  -WGV_HS_BAD_MESSAGE);
        } else {
            send_fds(sv[1], m, 16, NULL, 0);
            send_fds(sv[1], m + 16, 32, p, 1);
            CHECK(accept_after(sv, NULL, 0, NULL, 0, &quick, err, sizeof(err)) ==
                  -WGV_HS_BAD_MESSAGE);
        }
        CHECK_MSG(strstr(err, "file descriptor"), "%s", err);
        CHECK(read_refuse(sv[1], reason, sizeof(reason)) == WGV_HS_BAD_MESSAGE);
        close(sv[0]);
        close(sv[1]);
    }
    close(p[0]);
    close(p[1]);
    CHECK(count_fds() == fds_before);
}

static void test_oversized_and_odd_sizes_refused(void)
{
    int fds_before = count_fds();
    uint64_t page = wgv_shm_page_size();
    struct {
        uint64_t cmd, reply, bulk;
        const char *why;
    } cases[] = {
        {128ull << 20, 0, 0, "command ring of 134217728 bytes exceeds the host's limit"},
        {0, 0, 8ull << 30, "bulk area of 8589934592 bytes exceeds"},
        {3 * page, 0, 0, "power of two"},
        {0, page / 2, 0, "power of two"},
        {0, 0, page + 1, "multiple of"},
        {0, 0, UINT64_MAX, "exceeds"},
    };
    for (unsigned c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        int sv[2];
        pair(sv);
        uint8_t m[48];
        make_hello(m, WGV_HS_MAGIC, VERSION, cases[c].cmd, cases[c].reply, cases[c].bulk);
        char err[512] = "", reason[300];
        CHECK(accept_after(sv, m, 48, NULL, 0, &quick, err, sizeof(err)) == -WGV_HS_REFUSED);
        CHECK(read_refuse(sv[1], reason, sizeof(reason)) == WGV_HS_REFUSED);
        CHECK_MSG(strstr(reason, cases[c].why) != NULL, "case %u: %s", c, reason);
        close(sv[0]);
        close(sv[1]);
    }
    /* The same through the real client, against a stricter policy. */
    int sv[2];
    pair(sv);
    struct host_arg h = {.sock = sv[0], .version = VERSION, .policy = quick};
    h.policy.max.bulk = 1 << 20;
    pthread_t th;
    pthread_create(&th, NULL, host_main, &h);
    struct wgv_shm_sizes want = {0, 0, 2 << 20};
    struct wgv_conn g;
    char err[512] = "";
    int rc = wgv_handshake_client(sv[1], VERSION, &want, 2000, &g, err, sizeof(err));
    pthread_join(th, NULL);
    CHECK(rc == -WGV_HS_REFUSED && h.rc == -WGV_HS_REFUSED);
    CHECK_MSG(strstr(err, "refused") && strstr(err, "bulk area of 2097152 bytes exceeds the "
                                                    "host's limit of 1048576"),
              "%s", err);
    close(sv[0]);
    close(sv[1]);
    CHECK(count_fds() == fds_before);
}

/* A host whose policy refuses every guest (wgv-server does for a peer it
 * will not serve): a well-formed HELLO gets REFUSE with the reason, which
 * the real client reports; no shared memory is made. */
static void test_policy_refuses_with_its_reason(void)
{
    int fds_before = count_fds();
    int sv[2];
    pair(sv);
    struct host_arg h = {.sock = sv[0], .version = VERSION, .policy = quick};
    h.policy.refuse = "only uid 7 is served here: try --isolate";
    pthread_t th;
    pthread_create(&th, NULL, host_main, &h);
    struct wgv_conn g;
    char err[512] = "";
    int rc = wgv_handshake_client(sv[1], VERSION, NULL, 2000, &g, err, sizeof(err));
    pthread_join(th, NULL);
    CHECK(rc == -WGV_HS_REFUSED && h.rc == -WGV_HS_REFUSED);
    CHECK_MSG(strstr(err, "refused (refused): only uid 7 is served here: try --isolate"), "%s",
              err);
    CHECK_MSG(strstr(h.err, "only uid 7 is served here"), "%s", h.err);
    CHECK(h.conn.shm.fd == -1 && h.conn.sock == -1);
    close(sv[0]);
    close(sv[1]);
    /* A malformed HELLO is still reported as what it is. */
    pair(sv);
    uint8_t m[48];
    make_hello(m, 0x12345678u, VERSION, 0, 0, 0);
    struct wgv_hs_policy p = quick;
    p.refuse = "not you";
    char reason[300];
    CHECK(accept_after(sv, m, 48, NULL, 0, &p, err, sizeof(err)) == -WGV_HS_BAD_MESSAGE);
    CHECK(read_refuse(sv[1], reason, sizeof(reason)) == WGV_HS_BAD_MESSAGE);
    close(sv[0]);
    close(sv[1]);
    CHECK(count_fds() == fds_before);
}

/* A fake host queues `welcome` with `nfds` fds; the real client reads it. */
static int client_against(const uint8_t *welcome, size_t len, const int *fds, int nfds,
                          char *err, size_t errlen)
{
    int sv[2];
    pair(sv);
    send_fds(sv[0], welcome, len, fds, nfds);
    struct wgv_conn g;
    int rc = wgv_handshake_client(sv[1], VERSION, NULL, 2000, &g, err, errlen);
    if (rc == 0)
        wgv_conn_close(&g);
    else
        close(sv[1]);
    close(sv[0]);
    return rc;
}

static void test_welcome_fd_count_and_fields(void)
{
    uint64_t page = wgv_shm_page_size();
    char err[512] = "";
    struct wgv_shm a, b;
    struct wgv_shm_sizes s = {page, page, page};
    CHECK(wgv_shm_create(&s, &a, err, sizeof(err)) == 0);
    CHECK(wgv_shm_create(&s, &b, err, sizeof(err)) == 0);
    int two[2] = {a.fd, b.fd};
    uint8_t w[64 + 256];
    size_t wl = make_welcome(w, VERSION, page, page, page, "cap");
    int fds_before = count_fds();

    CHECK(client_against(w, wl, NULL, 0, err, sizeof(err)) == -WGV_HS_BAD_MESSAGE);
    CHECK_MSG(strstr(err, "0 file descriptors, expected 1"), "%s", err);
    CHECK(client_against(w, wl, two, 2, err, sizeof(err)) == -WGV_HS_BAD_MESSAGE);
    CHECK_MSG(strstr(err, "2 file descriptors, expected 1"), "%s", err);
    CHECK(count_fds() == fds_before); /* the two received fds were closed */
    /* The control: the same WELCOME with one fd is accepted. */
    CHECK_MSG(client_against(w, wl, two, 1, err, sizeof(err)) == 0, "%s", err);

    /* Sizes that are not page multiples or powers of two. */
    wl = make_welcome(w, VERSION, page, page, page + 8, "");
    CHECK(client_against(w, wl, two, 1, err, sizeof(err)) == -WGV_HS_BAD_MESSAGE);
    CHECK_MSG(strstr(err, "multiple of"), "%s", err);
    wl = make_welcome(w, VERSION, 3 * page, page, page, "");
    CHECK(client_against(w, wl, two, 1, err, sizeof(err)) == -WGV_HS_BAD_MESSAGE);
    CHECK_MSG(strstr(err, "power of two"), "%s", err);
    /* Sizes larger than the memfd. */
    wl = make_welcome(w, VERSION, page, page, 2 * page, "");
    CHECK(client_against(w, wl, two, 1, err, sizeof(err)) == -WGV_HS_BAD_MESSAGE);
    CHECK_MSG(strstr(err, "the layout needs"), "%s", err);
    /* A capset length that disagrees with the message length. */
    wl = make_welcome(w, VERSION, page, page, page, "abcd");
    put32(w + 48, 3);
    CHECK(client_against(w, wl, two, 1, err, sizeof(err)) == -WGV_HS_BAD_MESSAGE);
    CHECK_MSG(strstr(err, "capset"), "%s", err);
    /* A message longer than any WELCOME. */
    wl = make_welcome(w, VERSION, page, page, page, "");
    put32(w + 8, 56 + 257);
    CHECK(client_against(w, wl, two, 1, err, sizeof(err)) == -WGV_HS_BAD_MESSAGE);
    CHECK_MSG(strstr(err, "WELCOME of 313 bytes"), "%s", err);
    /* An unknown message type. */
    wl = make_welcome(w, VERSION, page, page, page, "");
    put32(w + 4, 9);
    CHECK(client_against(w, wl, two, 1, err, sizeof(err)) == -WGV_HS_BAD_MESSAGE);
    CHECK_MSG(strstr(err, "message type 9"), "%s", err);
    /* A memfd that is not sealed: the guest would risk SIGBUS. */
    int plain = memfd_create("unsealed", MFD_CLOEXEC);
    CHECK(ftruncate(plain, (off_t)wgv_shm_total_size(&s)) == 0);
    wl = make_welcome(w, VERSION, page, page, page, "");
    CHECK(client_against(w, wl, &plain, 1, err, sizeof(err)) == -WGV_HS_BAD_MESSAGE);
    CHECK_MSG(strstr(err, "not sealed"), "%s", err);
    close(plain);
    /* A REFUSE whose reason is not printable text is sanitized. */
    uint8_t r[40];
    put32(r, WGV_HS_MAGIC);
    put32(r + 4, WGV_HS_REFUSE);
    put32(r + 8, 24 + 8);
    put32(r + 12, VERSION);
    put32(r + 16, WGV_HS_REFUSED);
    put32(r + 20, 8);
    memcpy(r + 24, "no\033[2J\n!", 8);
    CHECK(client_against(r, 32, NULL, 0, err, sizeof(err)) == -WGV_HS_REFUSED);
    CHECK_MSG(strstr(err, "no?[2J?!"), "%s", err);
    CHECK(count_fds() == fds_before);
    wgv_shm_unmap(&a);
    wgv_shm_unmap(&b);
}

static void test_peer_closes_mid_handshake(void)
{
    int fds_before = count_fds();
    char err[512] = "";
    int sv[2];

    /* The guest sends HELLO and goes away: the WELCOME cannot be delivered
     * (and no SIGPIPE kills the host). */
    pair(sv);
    uint8_t m[48];
    make_hello(m, WGV_HS_MAGIC, VERSION, 0, 0, 0);
    send_fds(sv[1], m, 48, NULL, 0);
    close(sv[1]);
    struct wgv_conn c;
    int rc = wgv_handshake_accept(sv[0], VERSION, &quick, NULL, 0, &c, err, sizeof(err));
    CHECK(rc == -WGV_HS_IO);
    CHECK_MSG(strstr(err, "closed the connection while sending WELCOME"), "%s", err);
    close(sv[0]);

    /* The host is gone before the guest says anything. */
    pair(sv);
    close(sv[0]);
    struct wgv_conn g;
    rc = wgv_handshake_client(sv[1], VERSION, NULL, 2000, &g, err, sizeof(err));
    CHECK(rc == -WGV_HS_IO);
    CHECK_MSG(strstr(err, "closed the connection while sending HELLO"), "%s", err);
    close(sv[1]);

    /* The host reads HELLO, sends part of WELCOME and closes. */
    for (int cut = 8; cut <= 30; cut += 22) {
        pair(sv);
        struct host_arg h = {.sock = sv[0], .version = VERSION, .close_after = cut};
        pthread_t th;
        pthread_create(&th, NULL, host_main, &h);
        rc = wgv_handshake_client(sv[1], VERSION, NULL, 2000, &g, err, sizeof(err));
        pthread_join(th, NULL);
        CHECK(rc == -WGV_HS_IO);
        CHECK_MSG(strstr(err, cut == 8 ? "after 8 of 16 bytes" : "after 14 of 40 bytes"), "%s",
                  err);
        close(sv[1]);
    }

    /* The host never answers: the guest's timeout. */
    pair(sv);
    rc = wgv_handshake_client(sv[1], VERSION, NULL, 50, &g, err, sizeof(err));
    CHECK(rc == -WGV_HS_IO && strstr(err, "timed out while waiting for WELCOME"));
    close(sv[0]);
    close(sv[1]);
    CHECK(count_fds() == fds_before);
}

static void test_peer_sends_after_handshake(void)
{
    int sv[2];
    pair(sv);
    CHECK(wgv_peer_wait(sv[0], 0) == WGV_PEER_ALIVE);
    CHECK(send(sv[1], "x", 1, MSG_NOSIGNAL) == 1);
    CHECK(wgv_peer_wait(sv[0], 0) == WGV_PEER_UNEXPECTED);
    shutdown(sv[1], SHUT_WR);
    CHECK(wgv_peer_wait(sv[0], 0) == WGV_PEER_GONE);
    close(sv[0]);
    close(sv[1]);
}

int main(void)
{
    RUN(test_good_path);
    RUN(test_connect_by_path_defaults_and_host_death);
    RUN(test_listen_path_appears_listening);
    RUN(test_bad_magic);
    RUN(test_version_mismatch_is_a_clear_refusal);
    RUN(test_truncated_and_malformed_hello);
    RUN(test_hello_with_fds_refused);
    RUN(test_oversized_and_odd_sizes_refused);
    RUN(test_policy_refuses_with_its_reason);
    RUN(test_welcome_fd_count_and_fields);
    RUN(test_peer_closes_mid_handshake);
    RUN(test_peer_sends_after_handshake);
    return harness_finish("handshake");
}
