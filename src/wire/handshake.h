/* The connection handshake over a unix stream socket (docs/transport.md,
 * "Handshake"): the guest sends HELLO, the host answers WELCOME with the
 * connection's memfd attached (SCM_RIGHTS) or REFUSE with a reason.
 *
 * After the handshake the socket stays open and carries nothing: each side
 * notices the other's death by the socket hanging up (wgv_peer_wait). */
#ifndef WGV_WIRE_HANDSHAKE_H
#define WGV_WIRE_HANDSHAKE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "shm.h"

#define WGV_HS_MAGIC 0x00564757u /* "WGV\0" as a little-endian u32 */
#define WGV_HS_CAPSET_MAX 256u
#define WGV_HS_REASON_MAX 256u
#define WGV_HS_DEFAULT_TIMEOUT_MS 5000
/* Default policy limits when wgv_hs_policy.max is left zero. */
#define WGV_HS_DEFAULT_MAX_RING (64ull << 20)
#define WGV_HS_DEFAULT_MAX_BULK (4ull << 30)

/* Message types. */
enum { WGV_HS_HELLO = 1, WGV_HS_WELCOME = 2, WGV_HS_REFUSE = 3 };

/* Fixed sizes on the wire. */
#define WGV_HS_HEADER_SIZE 16u
#define WGV_HS_HELLO_SIZE 48u
#define WGV_HS_WELCOME_MIN 56u
#define WGV_HS_REFUSE_MIN 24u

/* Status in WELCOME (always OK) and REFUSE; also the functions' results, as
 * negative values (0 is success). */
enum wgv_hs_status {
    WGV_HS_OK = 0,
    WGV_HS_VERSION_MISMATCH = 1, /* the two sides speak different protocol versions */
    WGV_HS_REFUSED = 2,          /* policy: sizes over the limits, no resources */
    WGV_HS_BAD_MESSAGE = 3,      /* a malformed message (magic, type, length, fds, fields) */
    WGV_HS_IO = 4,               /* socket error, peer closed, timeout (never on the wire) */
};

/* HELLO flags: none is defined yet; the host answers with the subset it
 * accepts (today always 0). */
#define WGV_HS_FLAGS_SUPPORTED 0u

struct wgv_capset {
    uint32_t len;
    uint8_t data[WGV_HS_CAPSET_MAX];
};

/* Host policy for accept. Zero fields take the defaults in brackets. */
struct wgv_hs_policy {
    struct wgv_shm_sizes defaults; /* used where the guest asks 0 [WGV_SHM_DEFAULT_*] */
    struct wgv_shm_sizes max;      /* larger requests are refused [WGV_HS_DEFAULT_MAX_*] */
    int timeout_ms;                /* for the whole handshake [WGV_HS_DEFAULT_TIMEOUT_MS] */
    const char *refuse;            /* if set: a well-formed HELLO is answered with REFUSE
                                      (WGV_HS_REFUSED) and this reason [NULL] */
};

/* What a successful handshake leaves (either side). */
struct wgv_conn {
    int sock;                 /* the socket, kept open to notice the peer's death */
    struct wgv_shm shm;       /* mapped; sizes are this side's trusted copy */
    uint32_t peer_version;    /* the version the peer announced */
    uint32_t flags;           /* accepted flags */
    struct wgv_capset capset; /* the host's capset blob */
};

/* Guest: connects to the unix socket at `path` (SOCK_STREAM|SOCK_CLOEXEC) and
 * runs wgv_handshake_client. `requested` may be NULL (host defaults); a zero
 * field asks for the host's default. Returns 0 and fills out, or a negative
 * wgv_hs_status with a one-line reason in err. */
int wgv_handshake_connect(const char *path, uint32_t version,
                          const struct wgv_shm_sizes *requested, int timeout_ms,
                          struct wgv_conn *out, char *err, size_t errlen);

/* Guest: the handshake over an already connected socket. On success the
 * socket belongs to out->sock; on failure the caller still owns it. */
int wgv_handshake_client(int sock, uint32_t version, const struct wgv_shm_sizes *requested,
                         int timeout_ms, struct wgv_conn *out, char *err, size_t errlen);

/* Host: reads HELLO from an accepted socket, checks it against `version` and
 * `policy` (NULL: defaults), creates the shared memory and answers WELCOME
 * with the memfd and the capset (up to WGV_HS_CAPSET_MAX bytes), or REFUSE
 * (always, with policy->refuse as the reason, when that is set).
 * Returns 0 and fills out (out->sock = sock), or a negative wgv_hs_status with
 * a reason in err; the caller owns and closes the socket either way. */
int wgv_handshake_accept(int sock, uint32_t version, const struct wgv_hs_policy *policy,
                         const void *capset, size_t capset_len, struct wgv_conn *out,
                         char *err, size_t errlen);

/* Host: a listening unix socket at `path` (an existing socket file there is
 * replaced). Returns the fd, or -1 with a reason in err. */
int wgv_handshake_listen(const char *path, int backlog, char *err, size_t errlen);

/* Unmaps the shared memory and closes the socket; safe on a cleared conn. */
void wgv_conn_close(struct wgv_conn *conn);

/* Results of wgv_peer_wait. */
enum { WGV_PEER_ALIVE = 0, WGV_PEER_GONE = 1, WGV_PEER_UNEXPECTED = 2 };

/* After the handshake: waits up to timeout_ms (-1: forever, 0: just look)
 * for the peer to hang up. Returns WGV_PEER_GONE if it closed (or died),
 * WGV_PEER_UNEXPECTED if it sent bytes (nothing may follow the handshake),
 * WGV_PEER_ALIVE otherwise. */
int wgv_peer_wait(int sock, int timeout_ms);

/* Name of a wgv_hs_status (positive or negative). */
const char *wgv_hs_status_str(int status);

/* Control data with room for one passed descriptor. */
union wgv_fd_control {
    struct cmsghdr align;
    char buf[CMSG_SPACE(sizeof(int))];
};
/* Attaches descriptor `fd` to `mh` (SCM_RIGHTS), in the control data `ctl`. */
void wgv_msg_attach_fd(struct msghdr *mh, union wgv_fd_control *ctl, int fd);

#endif
