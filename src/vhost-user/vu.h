/* vhost-user-webgpu's shared state: the daemon (one front-end connection at
 * a time), its virtio-gpu device model (resources, contexts, pending fenced
 * responses) and the functions its files provide one another. Private to
 * src/vhost-user; docs/vm.md describes the design. */
#ifndef WGV_VU_H
#define WGV_VU_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "display.h"
#include "guest-mem.h"
#include "shm.h"
#include "virtio-gpu.h"
#include "virtqueue.h"
#include "wgv-host.h"

#define WGV_VU_CTRLQ 0
#define WGV_VU_CURSORQ 1
#define WGV_VU_QUEUES 2

/* Largest readable part of one control request we copy (an attach with
 * 256 Ki scatter entries, i.e. a 1 GiB resource in 4 KiB pages). */
#define WGV_VU_REQUEST_MAX (4u << 20)
#define WGV_VU_MAX_ENTRIES (1u << 18)
/* Resources one context may have attached. */
#define WGV_VU_CTX_RESOURCES_MAX 4096u
/* Display mode we announce. */
#define WGV_VU_DISPLAY_WIDTH 1024u
#define WGV_VU_DISPLAY_HEIGHT 768u

struct wgv_vu_config {
    const char *socket_path;  /* listen here, or */
    int fd;                   /* use this connected socket (-1: none); neither:
                                 no front-end, the device is driven in-process */
    const char *backend_path; /* NULL: the default host WebGPU implementation */
    uint32_t force_backend;   /* see wgv_host_config */
    struct wgv_policy policy; /* per-context quotas */
    struct wgv_shm_sizes max_shm; /* largest rings and bulk a SETUP may ask for */
    unsigned max_contexts;    /* virtio-gpu contexts alive at once */
    unsigned max_resources;   /* resources alive at once */
    uint64_t max_2d_bytes;    /* host memory for 2D resources' pixels */
    bool once;                /* exit when the first front-end leaves */
    bool verbose;
};

enum wgv_vu_res_kind { WGV_VU_RES_2D = 1, WGV_VU_RES_3D, WGV_VU_RES_BLOB };

struct wgv_vu_resource {
    uint32_t id;
    enum wgv_vu_res_kind kind;
    uint32_t format, width, height; /* 2D */
    uint64_t size;                  /* bytes the guest declared */
    uint8_t *pixels;                /* 2D: the host copy, width * height * 4 */
    struct wgv_vu_run *runs;        /* backing as guest-physical runs */
    unsigned nruns;
    struct wgv_iovec *iov;          /* the same as our pointers (adjacent merged) */
    uint64_t *iov_at;               /* where each iov[i] starts in the backing */
    unsigned niov;
    uint64_t backing_size;
    uint32_t shm_ctx;               /* context using it as shared memory, 0: none */
    struct wgv_vu_resource *next;   /* hash chain */
};

struct wgv_vu_pump;

struct wgv_vu_ctx {
    uint32_t id;
    uint32_t capset;     /* 0 or WGV_VIRTIO_CAPSET_ID */
    char name[65];
    uint32_t *res;       /* attached resource ids */
    unsigned nres, capres;
    uint32_t shm_res;    /* the SETUP resource, 0 before SETUP */
    struct wgv_vu_pump *pump;
    char lost[200];      /* non-empty: the context was ended, and why */
};

/* A request answered later: its response waits for retirements of its seq
 * (a context's fence, pumps that have passed a detach) and, when fenced,
 * for the fenced responses before it in its timeline. */
struct wgv_vu_fence {
    uint64_t seq;            /* daemon-wide, given to the pumps */
    unsigned waiting;        /* retirements still to come */
    bool ctx_fence;          /* waits for context ctx_id's fence (none once it ended) */
    uint32_t ctx_id;
    bool fenced;             /* VIRTIO_GPU_FLAG_FENCE: in timeline order */
    bool ring_timeline;      /* INFO_RING_IDX: ordered per (context, ring) */
    uint8_t ring_idx;
    struct wgv_vq_chain chain;
    struct wgv_gpu_hdr resp;
    struct wgv_vu_fence *next;
};

#define WGV_VU_RES_BUCKETS 256

struct wgv_vu {
    struct wgv_vu_config cfg;
    struct wgv_host *host;
    uint8_t capset[64];
    size_t capset_len;
    int listen_fd, conn_fd;
    int wake_fd;          /* eventfd: pumps finished fences or ended */
    bool queues_busy;     /* requests were left waiting: poll without sleeping */
    atomic_bool stop;

    /* vhost-user state of the connection */
    uint64_t acked_features, acked_protocol;
    bool features_set;
    struct wgv_vu_mem mem;
    struct wgv_vq vq[WGV_VU_QUEUES];
    struct wgv_vu_display display;

    /* device model */
    struct wgv_vu_resource *res[WGV_VU_RES_BUCKETS];
    unsigned nresources;
    uint64_t bytes_2d;
    struct wgv_vu_ctx **ctxs;
    unsigned nctxs, capctxs;
    uint32_t scanout_res;
    struct wgv_gpu_rect scanout_rect;
    struct wgv_vu_pump *dying;   /* pumps of destroyed contexts, still ending */

    /* responses that wait, in arrival order */
    struct wgv_vu_fence *fences, *fences_tail;
    unsigned nfences;
    uint64_t next_seq;
    /* what the control request being served waits for */
    uint64_t req_seq;
    unsigned req_waits;
    bool req_ctx_fence;
    pthread_mutex_t done_lock;   /* guards done[] (pumps append) */
    uint64_t *done;
    unsigned ndone, capdone;
};

/* daemon.c ----------------------------------------------------------------*/

/* Loads the backend, opens the socket (if any); NULL with a reason. */
struct wgv_vu *wgv_vu_create(const struct wgv_vu_config *cfg, char *err, size_t errlen);
/* Serves front-ends until wgv_vu_stop (or, with once/--fd, the first leaves). */
int wgv_vu_run(struct wgv_vu *vu);
/* Asks wgv_vu_run to return; safe from a signal handler. */
void wgv_vu_stop(struct wgv_vu *vu);
/* Frees everything (the socket file is removed). */
void wgv_vu_destroy(struct wgv_vu *vu);
/* Logs only with --verbose; from any thread. */
void wgv_vu_log(const struct wgv_vu *vu, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Logs always; from any thread. */
void wgv_vu_warn(const struct wgv_vu *vu, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Forgets the device state: contexts (their pumps joined), resources,
 * fences, queues; `mem_too` also unmaps guest RAM (front-end gone). */
void wgv_vu_reset_device(struct wgv_vu *vu, bool mem_too);

/* vhost-user.c --------------------------------------------------------------*/

/* Reads and handles one front-end message; -1 when the connection is over. */
int wgv_vu_frontend_message(struct wgv_vu *vu);

/* gpu-ctrl.c ----------------------------------------------------------------*/

/* Serves what is waiting on the control queue, at most a queue's worth;
 * true if more is waiting. */
bool wgv_vu_process_ctrl(struct wgv_vu *vu);
/* Serves (and returns) what is waiting on the cursor queue, likewise. */
bool wgv_vu_process_cursor(struct wgv_vu *vu);
/* Serves one request given as bytes, as if taken from queue qi (control or
 * cursor), its response going to resp (cap bytes, in guest RAM: a late one
 * is written when it goes). False if held back: a queue's worth of answers
 * (the queue's size) is owed. For driving the device without a front-end. */
bool wgv_vu_serve_bytes(struct wgv_vu *vu, unsigned qi, const void *req, size_t len, void *resp,
                        size_t cap);
/* Writes a response into a request's writable part; its used length (0 if
 * even a header does not fit). */
uint32_t wgv_vu_respond(const struct wgv_vq_chain *c, const void *resp, size_t len);

/* gpu-3d.c ------------------------------------------------------------------*/

/* The 3D and blob commands, contexts and SUBMIT_3D; returns the response
 * type and sets *wait when a fenced response must wait for the context. */
uint32_t wgv_vu_cmd_3d(struct wgv_vu *vu, const struct wgv_gpu_hdr *h, const uint8_t *in,
                       size_t len, bool *wait);
/* The context with this id, or NULL. */
struct wgv_vu_ctx *wgv_vu_ctx_find(const struct wgv_vu *vu, uint32_t id);
/* Destroys a context: its pump is told to end (joined later). */
void wgv_vu_ctx_destroy(struct wgv_vu *vu, struct wgv_vu_ctx *ctx);
/* Ends a context for a violation (reason logged and kept). */
void wgv_vu_ctx_lose(struct wgv_vu *vu, struct wgv_vu_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A resource loses its backing or goes away: every context using it forgets
 * it (the one using it as shared memory is ended first), and the request
 * being served waits for every pump that may still read its pages. */
void wgv_vu_ctxs_forget_resource(struct wgv_vu *vu, struct wgv_vu_resource *r, bool unref);
/* Holds every pump where it touches no guest memory; returns once all do
 * (the control queue stopped: the guest may be rebooting). */
void wgv_vu_pumps_pause(struct wgv_vu *vu);
/* Lets every pump go on (the control queue resumed where it stopped). */
void wgv_vu_pumps_resume(struct wgv_vu *vu);
/* A resource got backing: contexts it is attached to (with a pump) see it. */
void wgv_vu_ctxs_backing_attached(struct wgv_vu *vu, struct wgv_vu_resource *r);
/* Joins pumps of destroyed contexts that have ended (wait: all of them). */
void wgv_vu_reap_pumps(struct wgv_vu *vu, bool wait);

/* resources.c ---------------------------------------------------------------*/

/* The resource with this id, or NULL. */
struct wgv_vu_resource *wgv_vu_res_find(const struct wgv_vu *vu, uint32_t id);
/* Adds a new resource (id nonzero and unused, under the count limit). */
struct wgv_vu_resource *wgv_vu_res_add(struct wgv_vu *vu, uint32_t id, enum wgv_vu_res_kind kind);
/* Removes and frees a resource (contexts must have forgotten it). */
void wgv_vu_res_remove(struct wgv_vu *vu, struct wgv_vu_resource *r);
/* Parses n scatter entries at `ents` and gives them to r as its backing;
 * returns a response code (OK_NODATA or an error). */
uint32_t wgv_vu_res_set_backing(struct wgv_vu *vu, struct wgv_vu_resource *r, const uint8_t *ents,
                                uint32_t n);
/* Drops r's backing (runs and pointers). */
void wgv_vu_res_drop_backing(struct wgv_vu_resource *r);
/* Copies len bytes at offset of r's backing to dst; false if out of range. */
bool wgv_vu_res_read(const struct wgv_vu_resource *r, uint64_t offset, void *dst, size_t len);
/* Copies len bytes from src into r's backing at offset; false if out of range. */
bool wgv_vu_res_write(const struct wgv_vu_resource *r, uint64_t offset, const void *src, size_t len);
/* Removes every resource. */
void wgv_vu_res_clear(struct wgv_vu *vu);

/* fences.c ------------------------------------------------------------------*/

/* Starts serving a control request: its answer waits for nothing yet. */
void wgv_vu_request_begin(struct wgv_vu *vu);
/* The request being served is answered only once pump p has detached
 * resource `id` (after the commands published before); nothing to wait for
 * if p has ended. */
void wgv_vu_await_detach(struct wgv_vu *vu, struct wgv_vu_pump *p, uint32_t id);
/* The request being served is answered once context ctx_id's fence on
 * `ring` has retired (its pump p: everything published before has run and
 * its GPU work finished). */
void wgv_vu_await_fence(struct wgv_vu *vu, struct wgv_vu_pump *p, uint32_t ctx_id, uint32_t ring);
/* Whether the request being served has something to wait for. */
bool wgv_vu_request_waits(const struct wgv_vu *vu);
/* Queues the response of the request being served in f (allocated by the
 * caller, taken over with the chain); it goes once what the request waits
 * for has come and, when fenced, after the earlier ones of its timeline. */
void wgv_vu_answer_later(struct wgv_vu *vu, struct wgv_vu_fence *f, struct wgv_vq_chain *c,
                         const struct wgv_gpu_hdr *resp);
/* From any thread: one retirement of seq has come (0: just wakes the loop). */
void wgv_vu_fence_retired(struct wgv_vu *vu, uint64_t seq);
/* Takes retirements, and sends every response whose turn has come while
 * the control queue runs (a stopped queue's answers wait for its restart). */
void wgv_vu_fences_flush(struct wgv_vu *vu);
/* Drops every pending response without sending it (device reset). */
void wgv_vu_fences_drop(struct wgv_vu *vu);

#endif
