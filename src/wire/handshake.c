/* The connection handshake; see handshake.h and docs/transport.md.
 *
 * Every message starts with the same 16-byte header, which no protocol
 * version may change: magic, type, total length, sender's protocol version.
 * Fields are little-endian and encoded byte by byte, never as C structs. */
#include "handshake.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_FDS_PER_READ 16

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
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

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void put_header(uint8_t *p, uint32_t type, uint32_t length, uint32_t version)
{
    put32(p, WGV_HS_MAGIC);
    put32(p + 4, type);
    put32(p + 8, length);
    put32(p + 12, version);
}

/* --- socket I/O with a deadline and fd collection ------------------------ */

/* File descriptors that arrived with the bytes read so far. */
struct fdbag {
    int fds[MAX_FDS_PER_READ];
    int n;
    bool lost; /* more than fit, or the kernel truncated the control data */
};

static void fdbag_close(struct fdbag *bag)
{
    for (int i = 0; i < bag->n; i++)
        close(bag->fds[i]);
    bag->n = 0;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Polls for `events` until the deadline; returns 0 when ready, -1 on timeout
 * or error (err set). */
static int wait_ready(int sock, short events, int64_t deadline, const char *what, char *err,
                      size_t errlen)
{
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left < 0)
            left = 0;
        struct pollfd pfd = {.fd = sock, .events = events};
        int n = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
        if (n > 0)
            return 0; /* readable, writable or hung up: the I/O call tells */
        if (n < 0 && errno != EINTR) {
            set_err(err, errlen, "handshake: poll while %s: %s", what, strerror(errno));
            return -1;
        }
        if (n == 0 && now_ms() >= deadline) {
            set_err(err, errlen, "handshake: timed out while %s", what);
            return -1;
        }
    }
}

void wgv_msg_attach_fd(struct msghdr *mh, union wgv_fd_control *ctl, int fd)
{
    memset(ctl, 0, sizeof(*ctl));
    mh->msg_control = ctl->buf;
    mh->msg_controllen = sizeof(ctl->buf);
    struct cmsghdr *cm = CMSG_FIRSTHDR(mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fd, sizeof(int));
}

static int send_msg(int sock, const uint8_t *buf, size_t len, int fd, int64_t deadline,
                    const char *what, char *err, size_t errlen)
{
    size_t done = 0;
    while (done < len) {
        struct iovec iov = {.iov_base = (void *)(buf + done), .iov_len = len - done};
        union wgv_fd_control ctl;
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
        if (fd >= 0 && done == 0)
            wgv_msg_attach_fd(&mh, &ctl, fd);
        ssize_t n = sendmsg(sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            done += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (wait_ready(sock, POLLOUT, deadline, what, err, errlen) != 0)
                return -1;
            continue;
        }
        if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
            set_err(err, errlen, "handshake: the peer closed the connection while %s", what);
        else
            set_err(err, errlen, "handshake: send failed while %s: %s", what,
                    n < 0 ? strerror(errno) : "no progress");
        return -1;
    }
    return 0;
}

/* Reads exactly len bytes, collecting any passed fds into bag. */
static int recv_exact(int sock, uint8_t *buf, size_t len, int64_t deadline, struct fdbag *bag,
                      const char *what, char *err, size_t errlen)
{
    size_t done = 0;
    while (done < len) {
        if (wait_ready(sock, POLLIN, deadline, what, err, errlen) != 0)
            return -1;
        struct iovec iov = {.iov_base = buf + done, .iov_len = len - done};
        union {
            struct cmsghdr align;
            char buf[CMSG_SPACE(sizeof(int) * MAX_FDS_PER_READ)];
        } ctl;
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
                            .msg_controllen = sizeof(ctl.buf)};
        ssize_t n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
                continue;
            set_err(err, errlen, "handshake: receive failed while %s: %s", what,
                    strerror(errno));
            return -1;
        }
        if (mh.msg_flags & MSG_CTRUNC)
            bag->lost = true;
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
            if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
                continue;
            size_t count = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (size_t i = 0; i < count; i++) {
                int fd;
                memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
                if (bag->n < MAX_FDS_PER_READ) {
                    bag->fds[bag->n++] = fd;
                } else {
                    close(fd);
                    bag->lost = true;
                }
            }
        }
        if (n == 0) {
            set_err(err, errlen,
                    "handshake: the peer closed the connection while %s (after %zu of %zu bytes)",
                    what, done, len);
            return -1;
        }
        done += (size_t)n;
    }
    return 0;
}

/* Keeps printable ASCII of a peer's string, replacing the rest. */
static void sanitize(char *out, size_t outlen, const uint8_t *in, size_t len)
{
    size_t j = 0;
    for (size_t i = 0; i < len && j + 1 < outlen; i++)
        out[j++] = (in[i] >= 0x20 && in[i] < 0x7f) ? (char)in[i] : '?';
    if (outlen)
        out[j] = 0;
}

/* --- host side ----------------------------------------------------------- */

static void resolve_policy(const struct wgv_hs_policy *in, struct wgv_hs_policy *p)
{
    static const struct wgv_hs_policy none;
    if (!in)
        in = &none;
    *p = *in;
    if (!p->defaults.cmd_ring)
        p->defaults.cmd_ring = WGV_SHM_DEFAULT_CMD_RING;
    if (!p->defaults.reply_ring)
        p->defaults.reply_ring = WGV_SHM_DEFAULT_REPLY_RING;
    if (!p->defaults.bulk)
        p->defaults.bulk = WGV_SHM_DEFAULT_BULK;
    if (!p->max.cmd_ring)
        p->max.cmd_ring = WGV_HS_DEFAULT_MAX_RING;
    if (!p->max.reply_ring)
        p->max.reply_ring = WGV_HS_DEFAULT_MAX_RING;
    if (!p->max.bulk)
        p->max.bulk = WGV_HS_DEFAULT_MAX_BULK;
    if (p->timeout_ms <= 0)
        p->timeout_ms = WGV_HS_DEFAULT_TIMEOUT_MS;
}

/* Sends REFUSE (best effort), closes received fds, sets err, returns -status. */
static int refuse(int sock, uint32_t version, int status, int64_t deadline, struct fdbag *bag,
                  char *err, size_t errlen, const char *fmt, ...)
{
    char reason[WGV_HS_REASON_MAX + 1];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    size_t rlen = strlen(reason);
    uint8_t msg[WGV_HS_REFUSE_MIN + WGV_HS_REASON_MAX];
    put_header(msg, WGV_HS_REFUSE, (uint32_t)(WGV_HS_REFUSE_MIN + rlen), version);
    put32(msg + 16, (uint32_t)status);
    put32(msg + 20, (uint32_t)rlen);
    memcpy(msg + WGV_HS_REFUSE_MIN, reason, rlen);
    char ignored[64];
    send_msg(sock, msg, WGV_HS_REFUSE_MIN + rlen, -1, deadline, "refusing", ignored,
             sizeof(ignored));
    fdbag_close(bag);
    set_err(err, errlen, "handshake: refused the guest (%s): %s", wgv_hs_status_str(status),
            reason);
    return -status;
}

static bool size_within(const char *what, uint64_t size, uint64_t max, char *reason,
                        size_t reasonlen)
{
    if (size <= max)
        return true;
    snprintf(reason, reasonlen, "%s of %llu bytes exceeds the host's limit of %llu", what,
             (unsigned long long)size, (unsigned long long)max);
    return false;
}

int wgv_handshake_accept(int sock, uint32_t version, const struct wgv_hs_policy *policy_in,
                         const void *capset, size_t capset_len, struct wgv_conn *out,
                         char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    out->sock = -1;
    out->shm.fd = -1;
    struct wgv_hs_policy policy;
    resolve_policy(policy_in, &policy);
    int64_t deadline = now_ms() + policy.timeout_ms;
    struct fdbag bag = {.n = 0};
    uint8_t msg[WGV_HS_HELLO_SIZE];

    if (capset_len > WGV_HS_CAPSET_MAX || (capset_len && !capset))
        return refuse(sock, version, WGV_HS_REFUSED, deadline, &bag, err, errlen,
                      "host misconfigured: capset of %zu bytes (at most %u)", capset_len,
                      WGV_HS_CAPSET_MAX);
    if (recv_exact(sock, msg, WGV_HS_HEADER_SIZE, deadline, &bag, "reading HELLO", err,
                   errlen) != 0) {
        fdbag_close(&bag);
        return -WGV_HS_IO;
    }
    uint32_t magic = get32(msg), type = get32(msg + 4), length = get32(msg + 8);
    uint32_t peer_version = get32(msg + 12);
    if (magic != WGV_HS_MAGIC)
        return refuse(sock, version, WGV_HS_BAD_MESSAGE, deadline, &bag, err, errlen,
                      "bad magic 0x%08x (expected 0x%08x)", magic, WGV_HS_MAGIC);
    if (peer_version != version)
        return refuse(sock, version, WGV_HS_VERSION_MISMATCH, deadline, &bag, err, errlen,
                      "guest speaks protocol version %u, host speaks %u", peer_version,
                      version);
    if (type != WGV_HS_HELLO)
        return refuse(sock, version, WGV_HS_BAD_MESSAGE, deadline, &bag, err, errlen,
                      "expected HELLO (type %u), got type %u", WGV_HS_HELLO, type);
    if (length != WGV_HS_HELLO_SIZE)
        return refuse(sock, version, WGV_HS_BAD_MESSAGE, deadline, &bag, err, errlen,
                      "HELLO of %u bytes (expected %u)", length, WGV_HS_HELLO_SIZE);
    if (recv_exact(sock, msg + WGV_HS_HEADER_SIZE, WGV_HS_HELLO_SIZE - WGV_HS_HEADER_SIZE,
                   deadline, &bag, "reading HELLO", err, errlen) != 0) {
        fdbag_close(&bag);
        return -WGV_HS_IO;
    }
    if (bag.n || bag.lost)
        return refuse(sock, version, WGV_HS_BAD_MESSAGE, deadline, &bag, err, errlen,
                      "HELLO carried %s%d file descriptor(s), expected none",
                      bag.lost ? "more than " : "", bag.n);
    uint32_t flags = get32(msg + 16), reserved = get32(msg + 20);
    if (reserved != 0)
        return refuse(sock, version, WGV_HS_BAD_MESSAGE, deadline, &bag, err, errlen,
                      "HELLO reserved field is 0x%08x (must be 0)", reserved);
    if (policy.refuse)
        return refuse(sock, version, WGV_HS_REFUSED, deadline, &bag, err, errlen, "%s",
                      policy.refuse);
    struct wgv_shm_sizes req = {get64(msg + 24), get64(msg + 32), get64(msg + 40)};
    struct wgv_shm_sizes sizes = {
        req.cmd_ring ? req.cmd_ring : policy.defaults.cmd_ring,
        req.reply_ring ? req.reply_ring : policy.defaults.reply_ring,
        req.bulk ? req.bulk : policy.defaults.bulk,
    };
    char reason[WGV_HS_REASON_MAX];
    if (!size_within("command ring", sizes.cmd_ring, policy.max.cmd_ring, reason,
                     sizeof(reason)) ||
        !size_within("reply ring", sizes.reply_ring, policy.max.reply_ring, reason,
                     sizeof(reason)) ||
        !size_within("bulk area", sizes.bulk, policy.max.bulk, reason, sizeof(reason)) ||
        !wgv_shm_sizes_valid(&sizes, reason, sizeof(reason)))
        return refuse(sock, version, WGV_HS_REFUSED, deadline, &bag, err, errlen, "%s",
                      reason);
    if (wgv_shm_create(&sizes, &out->shm, reason, sizeof(reason)) != 0)
        return refuse(sock, version, WGV_HS_REFUSED, deadline, &bag, err, errlen,
                      "host could not create the shared memory (%s)", reason);

    uint8_t welcome[WGV_HS_WELCOME_MIN + WGV_HS_CAPSET_MAX];
    uint32_t wlen = (uint32_t)(WGV_HS_WELCOME_MIN + capset_len);
    memset(welcome, 0, sizeof(welcome));
    put_header(welcome, WGV_HS_WELCOME, wlen, version);
    put32(welcome + 16, WGV_HS_OK);
    put32(welcome + 20, flags & WGV_HS_FLAGS_SUPPORTED);
    put64(welcome + 24, sizes.cmd_ring);
    put64(welcome + 32, sizes.reply_ring);
    put64(welcome + 40, sizes.bulk);
    put32(welcome + 48, (uint32_t)capset_len);
    put32(welcome + 52, 0);
    if (capset_len)
        memcpy(welcome + WGV_HS_WELCOME_MIN, capset, capset_len);
    if (send_msg(sock, welcome, wlen, out->shm.fd, deadline, "sending WELCOME", err, errlen) !=
        0) {
        wgv_shm_unmap(&out->shm);
        return -WGV_HS_IO;
    }
    out->sock = sock;
    out->peer_version = peer_version;
    out->flags = flags & WGV_HS_FLAGS_SUPPORTED;
    out->capset.len = (uint32_t)capset_len;
    if (capset_len)
        memcpy(out->capset.data, capset, capset_len);
    return 0;
}

int wgv_handshake_listen(const char *path, int backlog, char *err, size_t errlen)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(addr.sun_path)) {
        set_err(err, errlen, "listen: socket path too long (%zu bytes, at most %zu): %s",
                strlen(path), sizeof(addr.sun_path) - 1, path);
        return -1;
    }
    /* The socket is bound under a temporary name and renamed into place
     * once it listens: whoever sees the path can connect at once (a file
     * that exists between bind and listen refuses connections). */
    char tmp[sizeof(addr.sun_path)];
    size_t plen = strlen(path);
    int n = snprintf(tmp + plen, sizeof(tmp) - plen, ".%ld", (long)getpid());
    memcpy(tmp, path, plen);
    if (n < 0 || (size_t)n >= sizeof(tmp) - plen)
        tmp[plen] = 0; /* no room: bind in place */
    memcpy(addr.sun_path, tmp, strlen(tmp) + 1);
    struct stat st;
    if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
        set_err(err, errlen, "listen: %s exists and is not a socket", path);
        return -1;
    }
    if (strcmp(tmp, path) == 0)
        unlink(path); /* a socket left by a server that is gone */
    if (lstat(tmp, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(tmp);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        set_err(err, errlen, "listen: socket: %s", strerror(errno));
        return -1;
    }
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(fd, backlog) != 0 ||
        (strcmp(tmp, path) != 0 && rename(tmp, path) != 0)) {
        set_err(err, errlen, "listen: cannot listen on %s: %s", path, strerror(errno));
        if (strcmp(tmp, path) != 0)
            unlink(tmp);
        close(fd);
        return -1;
    }
    return fd;
}

/* --- guest side ---------------------------------------------------------- */

int wgv_handshake_client(int sock, uint32_t version, const struct wgv_shm_sizes *requested,
                         int timeout_ms, struct wgv_conn *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    out->sock = -1;
    out->shm.fd = -1;
    static const struct wgv_shm_sizes zero;
    if (!requested)
        requested = &zero;
    int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : WGV_HS_DEFAULT_TIMEOUT_MS);
    struct fdbag bag = {.n = 0};
    int rc = -WGV_HS_BAD_MESSAGE;

    uint8_t hello[WGV_HS_HELLO_SIZE];
    put_header(hello, WGV_HS_HELLO, WGV_HS_HELLO_SIZE, version);
    put32(hello + 16, 0); /* flags */
    put32(hello + 20, 0); /* reserved */
    put64(hello + 24, requested->cmd_ring);
    put64(hello + 32, requested->reply_ring);
    put64(hello + 40, requested->bulk);
    if (send_msg(sock, hello, sizeof(hello), -1, deadline, "sending HELLO", err, errlen) != 0)
        return -WGV_HS_IO;

    uint8_t msg[WGV_HS_WELCOME_MIN + WGV_HS_CAPSET_MAX];
    if (recv_exact(sock, msg, WGV_HS_HEADER_SIZE, deadline, &bag, "waiting for WELCOME", err,
                   errlen) != 0) {
        rc = -WGV_HS_IO;
        goto fail;
    }
    uint32_t magic = get32(msg), type = get32(msg + 4), length = get32(msg + 8);
    uint32_t host_version = get32(msg + 12);
    if (magic != WGV_HS_MAGIC) {
        set_err(err, errlen, "handshake: the host answered with bad magic 0x%08x", magic);
        goto fail;
    }
    if (type == WGV_HS_REFUSE) {
        if (length < WGV_HS_REFUSE_MIN || length > WGV_HS_REFUSE_MIN + WGV_HS_REASON_MAX) {
            set_err(err, errlen, "handshake: REFUSE of %u bytes (from %u to %u allowed)",
                    length, WGV_HS_REFUSE_MIN, WGV_HS_REFUSE_MIN + WGV_HS_REASON_MAX);
            goto fail;
        }
        if (recv_exact(sock, msg + WGV_HS_HEADER_SIZE, length - WGV_HS_HEADER_SIZE, deadline,
                       &bag, "reading REFUSE", err, errlen) != 0) {
            rc = -WGV_HS_IO;
            goto fail;
        }
        uint32_t status = get32(msg + 16), rlen = get32(msg + 20);
        if (rlen != length - WGV_HS_REFUSE_MIN) {
            set_err(err, errlen, "handshake: REFUSE reason of %u bytes in a %u-byte message",
                    rlen, length);
            goto fail;
        }
        char reason[WGV_HS_REASON_MAX + 1];
        sanitize(reason, sizeof(reason), msg + WGV_HS_REFUSE_MIN, rlen);
        if (status != WGV_HS_VERSION_MISMATCH && status != WGV_HS_REFUSED &&
            status != WGV_HS_BAD_MESSAGE)
            status = WGV_HS_REFUSED;
        set_err(err, errlen, "handshake: the host (protocol version %u) refused (%s): %s",
                host_version, wgv_hs_status_str((int)status), reason);
        rc = -(int)status;
        goto fail;
    }
    if (type != WGV_HS_WELCOME) {
        set_err(err, errlen, "handshake: expected WELCOME or REFUSE, got message type %u",
                type);
        goto fail;
    }
    if (length < WGV_HS_WELCOME_MIN || length > WGV_HS_WELCOME_MIN + WGV_HS_CAPSET_MAX) {
        set_err(err, errlen, "handshake: WELCOME of %u bytes (from %u to %u allowed)", length,
                WGV_HS_WELCOME_MIN, WGV_HS_WELCOME_MIN + WGV_HS_CAPSET_MAX);
        goto fail;
    }
    if (recv_exact(sock, msg + WGV_HS_HEADER_SIZE, length - WGV_HS_HEADER_SIZE, deadline, &bag,
                   "reading WELCOME", err, errlen) != 0) {
        rc = -WGV_HS_IO;
        goto fail;
    }
    if (host_version != version) {
        set_err(err, errlen,
                "handshake: the host welcomed us with protocol version %u, we speak %u",
                host_version, version);
        rc = -WGV_HS_VERSION_MISMATCH;
        goto fail;
    }
    uint32_t status = get32(msg + 16), flags = get32(msg + 20);
    struct wgv_shm_sizes sizes = {get64(msg + 24), get64(msg + 32), get64(msg + 40)};
    uint32_t capset_len = get32(msg + 48), reserved = get32(msg + 52);
    if (status != WGV_HS_OK || flags != 0 || reserved != 0) {
        set_err(err, errlen, "handshake: WELCOME with status %u, flags 0x%x, reserved 0x%x",
                status, flags, reserved);
        goto fail;
    }
    if (capset_len != length - WGV_HS_WELCOME_MIN) {
        set_err(err, errlen, "handshake: WELCOME capset of %u bytes in a %u-byte message",
                capset_len, length);
        goto fail;
    }
    char reason[WGV_HS_REASON_MAX];
    if (!wgv_shm_sizes_valid(&sizes, reason, sizeof(reason))) {
        set_err(err, errlen, "handshake: WELCOME sizes: %s", reason);
        goto fail;
    }
    if ((requested->cmd_ring && requested->cmd_ring != sizes.cmd_ring) ||
        (requested->reply_ring && requested->reply_ring != sizes.reply_ring) ||
        (requested->bulk && requested->bulk != sizes.bulk)) {
        set_err(err, errlen, "handshake: WELCOME sizes differ from the sizes requested");
        goto fail;
    }
    if (bag.n != 1 || bag.lost) {
        set_err(err, errlen, "handshake: WELCOME carried %s%d file descriptors, expected 1",
                bag.lost ? "more than " : "", bag.n);
        goto fail;
    }
    int fd = bag.fds[0];
    bag.n = 0;
    if (wgv_shm_map(fd, &sizes, &out->shm, reason, sizeof(reason)) != 0) {
        set_err(err, errlen, "handshake: %s", reason);
        goto fail;
    }
    out->sock = sock;
    out->peer_version = host_version;
    out->flags = flags;
    out->capset.len = capset_len;
    memcpy(out->capset.data, msg + WGV_HS_WELCOME_MIN, capset_len);
    return 0;
fail:
    fdbag_close(&bag);
    return rc;
}

int wgv_handshake_connect(const char *path, uint32_t version,
                          const struct wgv_shm_sizes *requested, int timeout_ms,
                          struct wgv_conn *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    out->sock = -1;
    out->shm.fd = -1;
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(addr.sun_path)) {
        set_err(err, errlen, "connect: socket path too long: %s", path);
        return -WGV_HS_IO;
    }
    memcpy(addr.sun_path, path, strlen(path) + 1);
    int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (sock < 0) {
        set_err(err, errlen, "connect: socket: %s", strerror(errno));
        return -WGV_HS_IO;
    }
    int r;
    do
        r = connect(sock, (struct sockaddr *)&addr, sizeof(addr));
    while (r != 0 && errno == EINTR);
    if (r != 0) {
        set_err(err, errlen, "connect: cannot connect to %s: %s", path, strerror(errno));
        close(sock);
        return -WGV_HS_IO;
    }
    int rc = wgv_handshake_client(sock, version, requested, timeout_ms, out, err, errlen);
    if (rc != 0)
        close(sock);
    return rc;
}

void wgv_conn_close(struct wgv_conn *conn)
{
    wgv_shm_unmap(&conn->shm);
    if (conn->sock >= 0)
        close(conn->sock);
    conn->sock = -1;
}

int wgv_peer_wait(int sock, int timeout_ms)
{
    struct pollfd pfd = {.fd = sock, .events = POLLIN | POLLRDHUP};
    int n = poll(&pfd, 1, timeout_ms);
    if (n <= 0)
        return WGV_PEER_ALIVE; /* timeout or EINTR: the caller asks again */
    if (pfd.revents & (POLLHUP | POLLRDHUP | POLLERR | POLLNVAL))
        return WGV_PEER_GONE;
    char c;
    ssize_t r = recv(sock, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (r == 0)
        return WGV_PEER_GONE;
    if (r > 0)
        return WGV_PEER_UNEXPECTED;
    return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? WGV_PEER_ALIVE
                                                                       : WGV_PEER_GONE;
}

const char *wgv_hs_status_str(int status)
{
    switch (status < 0 ? -status : status) {
    case WGV_HS_OK: return "ok";
    case WGV_HS_VERSION_MISMATCH: return "version mismatch";
    case WGV_HS_REFUSED: return "refused";
    case WGV_HS_BAD_MESSAGE: return "bad message";
    case WGV_HS_IO: return "connection error";
    default: return "unknown status";
    }
}
