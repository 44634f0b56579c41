/* libFuzzer target: the host's side of the handshake. Each input is what a
 * guest writes to the socket (HELLO and anything after it, no fds); the
 * host must answer or refuse with a reason, never crash, never leak the
 * shared memory it made for an accepted guest. */
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "handshake.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return 0;
    /* The guest's bytes are all there before the host reads; then the guest
     * side closes, so a short message ends in end-of-file, not a wait. */
    size_t n = size > 65536 ? 65536 : size;
    if (n && write(sv[1], data, n) < 0) {
        close(sv[0]);
        close(sv[1]);
        return 0;
    }
    shutdown(sv[1], SHUT_WR);
    struct wgv_hs_policy policy;
    memset(&policy, 0, sizeof(policy));
    policy.defaults = (struct wgv_shm_sizes){1 << 16, 1 << 16, 1 << 16};
    policy.max = (struct wgv_shm_sizes){1 << 20, 1 << 20, 1 << 22};
    policy.timeout_ms = 200;
    struct wgv_conn conn;
    char err[256];
    static const uint8_t capset[16] = {'W', 'G', 'V', 'C'};
    if (wgv_handshake_accept(sv[0], 1, &policy, capset, sizeof(capset), &conn, err, sizeof(err)) == 0)
        wgv_conn_close(&conn); /* closes sv[0] */
    else
        close(sv[0]);
    close(sv[1]);
    return 0;
}
