/* Shared pieces of the hostile-guest suite (tests/hostile/): the server
 * under test, the checks every attack ends with, and a raw guest that
 * speaks the protocol directly so that it can lie. See hostile.c. */
#ifndef WGV_TESTS_HOSTILE_H
#define WGV_TESTS_HOSTILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "codec.h"
#include "handshake.h"
#include "protocol.h"
#include "ring.h"
#include "shm.h"
#include "wgv-guest-wire.h"

/* A wire handle, and a handle cast to the object type the generated
 * argument structs expect (the encoder writes the pointer value as is). */
#define H(id, gen) ((uint64_t)(id) | ((uint64_t)(gen) << 32))
#define OBJ(T, id) ((T)(uintptr_t)H(id, 1))
#define OBJG(T, id, gen) ((T)(uintptr_t)H(id, gen))

/* ------------------------------------------------------------ reporting */

/* Records the first reason the running attack failed (printf-style). */
void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* True once the running attack has failed; its reason; a fresh start. */
bool failed(void);
const char *fail_reason(void);
void fail_reset(void);
/* Milliseconds on the monotonic clock. */
int64_t now_ms(void);
void sleep_ms(int ms);

/* ------------------------------------------------------------ the server */

struct server {
    pid_t pid;
    unsigned conns;      /* connections made to this server so far = last context id */
    int base_fds, base_threads;
    char log[512];
    bool dead;  /* reaped: status holds how it ended */
    int status;
};
extern struct server srv;
extern char sock_path[256];

/* True once the server process has ended (reaps it, keeps the status). */
bool server_gone(void);

/* The context line the log has for connection `id` ("context N ended: ...",
 * "context N: guest left with ...", "connection N refused: ..."), waiting up
 * to timeout_ms for it. */
bool wait_ctx_end(unsigned id, int timeout_ms, char *line, size_t cap);
/* True if the log has a line containing `needle`. */
bool log_has(const char *needle);

/* A well-behaved guest: the parity program compute_storage-wire, run in the
 * background; finish() checks its exit status and transcript, and (when
 * `id` is not 0) that its context left with 0 live objects. */
struct good {
    pid_t pid;
    unsigned id;
    char out[512];
};
bool good_start(struct good *g, bool know_id);
void good_finish(struct good *g, const char *when);

/* A child process running exe with stdout/stderr to files (NULL: none),
 * inheriting none of our descriptors; waiting for it with a deadline (it is
 * killed when that passes: -1). */
pid_t spawn(const char *exe, char *const argv[], const char *out_path, const char *err_path);
int wait_child(pid_t pid, int timeout_ms);

/* Set by main: the well-behaved guest, its native transcript, our folder. */
extern const char *good_exe;
extern char *native_out;
extern char tmpdir[200];

/* Runs a guest-library program against the server; returns its exit status
 * (or -1) and its stdout in out (malloc'ed). */
int run_program(const char *exe, int timeout_ms, char **out);
/* The whole file at path (NUL-terminated, its size in *len if len), or NULL. */
char *read_all(const char *path, size_t *len);

/* ------------------------------------------------------------ raw guest */

struct cbrec {
    uint64_t key;
    uint16_t callback;
    uint32_t w0, w1; /* the first two 32-bit words of the body */
};

struct gconn {
    struct wgv_conn conn;
    struct wgv_ring cmd, reply;
    unsigned id;          /* the server's context id */
    bool open;
    uint8_t *rbuf;
    struct cbrec cbs[512];
    unsigned ncb;
    bool lost;            /* a context-lost reply arrived */
    char lost_reason[320];
    uint64_t next_future;
    uint32_t next_buffer; /* next buffer id to create */
};

/* Handshake (sizes may be NULL for the host's defaults). */
bool g_open(struct gconn *g, const struct wgv_shm_sizes *sizes);
/* Adapter 1, device 1 and queue 1 (futures 1..4), waiting for them. */
bool g_device(struct gconn *g);
/* Reads every reply there is. */
void g_pump(struct gconn *g);
/* Waits for the callback reply of a future. */
const struct cbrec *g_wait_cb(struct gconn *g, uint64_t key, int timeout_ms);
/* Encodes a command with the guest's tables and publishes it. */
bool g_send(struct gconn *g, unsigned op, const void *args);
/* The same, but only encodes it (w initialised by the caller). */
void g_encode(unsigned op, const void *args, struct wgv_writer *w);
/* Publishes a record of the given bytes (the ring writes the size word). */
bool g_push(struct gconn *g, const void *bytes, size_t len);
/* Writes bytes at the producer's position without framing, then publishes
 * head = position + advance (which may lie). */
void g_poke(struct gconn *g, const void *bytes, size_t len, uint64_t advance);
void g_release(struct gconn *g, unsigned type, uint64_t handle);
bool g_create_buffer(struct gconn *g, uint32_t id, uint32_t gen, uint64_t size,
                     WGPUBufferUsage usage, bool mapped);
/* Waits until the host consumed everything published (false: it did not,
 * or the connection closed). */
bool g_drain(struct gconn *g, int timeout_ms);
/* A work-done round trip on queue 1: the context still serves. */
bool g_roundtrip(struct gconn *g);
/* The context must end: a context-lost reply naming `what` (when
 * check_reply), the socket hung up, and the log's "context N ended:" line
 * naming `what`. Closes g. */
void expect_lost(struct gconn *g, const char *what, bool check_reply);
/* The context must still serve; then it releases queue, device and adapter
 * (and `extra` buffers 1..extra), leaves, and must leave 0 live objects. */
void expect_alive_and_leave(struct gconn *g, uint32_t extra_buffers);
void g_close(struct gconn *g);

#endif
