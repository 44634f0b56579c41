/* A host context: one guest's WebGPU world (internal to libwgv-host). */
#ifndef WGV_HOST_CONTEXT_H
#define WGV_HOST_CONTEXT_H

#include <stdbool.h>
#include <stdint.h>

#include "wgv-host.h"
#include "wgv-host-wire.h"
#include "backend.h"
#include "codec.h"
#include "copy.h"
#include "objects.h"
#include "transfer.h"

/* Slots one command may claim. */
#define WGV_CLAIMS_MAX 8

struct wgv_host {
    struct wgv_backend *backend;
    struct wgv_host_config config;
};

/* Memory the embedder attached: one mapping or a scatter list. */
struct wgv_resource {
    uint32_t id;
    unsigned count;
    struct wgv_iovec *iov;
    uint64_t size;
};

/* A fence waiting for the queues' work. */
struct wgv_fence {
    uint32_t ring;
    uint64_t id;
    unsigned remaining; /* work-done callbacks still to come */
};

/* What an encoder recorded: the backend keeps it until the last object
 * that holds it goes (the encoder, the passes it began, the command buffer
 * or bundle made of it, a command buffer only until it is submitted), and
 * so it stays charged to the memory quota until then. */
struct wgv_record {
    uint64_t bytes;    /* charged to the context */
    uint64_t seen;     /* the last command that named it (wgv_context.cmd_serial) */
    uint32_t holders;  /* slots that point here */
    bool finished;     /* made into a command buffer or bundle: nothing more is kept */
    bool failed;       /* a command was dropped past the quota: the encoder is invalid */
    uint8_t root_type; /* the type of `root` */
    void *root;        /* the backend encoder, while the guest holds it */
};

/* A record a command names beyond its receiver (the bundles a pass runs,
 * the command buffers a queue submits), in the arena. */
struct wgv_named {
    struct wgv_named *next;
    struct wgv_record *record;
    uint64_t handle;
    unsigned type;
};

/* A backend callback the guest waits for. */
struct wgv_pending {
    struct wgv_pending *next, *prev;
    uint16_t callback;  /* WGV_CB_* */
    bool repeat;        /* device events: stays after firing */
    bool owed;          /* will fire (device events may never): counts as pending */
    uint64_t key;       /* the guest's future id */
    uint64_t result;    /* handle of the object the callback delivers, or 0 */
    /* mapAsync: where the mapped bytes go; `answered`: the guest granted
     * the map itself, so nothing is copied or replied */
    void *buffer;
    uint64_t map_offset, map_size, shm_offset;
    bool answered;
    /* requestDevice: the queue handle to fill */
    uint64_t queue;
    /* a device's loss: its uncaptured-error record, which goes with it (the
     * backend drops the error callback before it reports the loss) */
    struct wgv_pending *errors;
    /* a fence's work-done callback (no reply to the guest) */
    struct wgv_fence *fence;
    int64_t since_ns;   /* CLOCK_MONOTONIC when the call was made */
};

struct wgv_context {
    struct wgv_host *host;
    const struct wgv_procs *procs;
    uint32_t id;
    struct wgv_context_io io;
    void *instance;             /* backend WGPUInstance */
    struct wgv_objects objects;
    struct wgv_arena arena;     /* decoded arguments of one command */
    struct wgv_codec_ops ops;
    struct wgv_writer reply;    /* scratch for encoding one reply */
    struct wgv_pending pending; /* list head */
    int pending_count;          /* callbacks owed (device events excluded) */
    size_t pending_records;     /* records on the list, device events included */
    bool ran;                   /* commands ran since the last poll */
    bool cpu_adapter;           /* an adapter it was given is a CPU device */
    uint8_t *cmd_copy;          /* private copy of the command being decoded */
    size_t cmd_copy_cap;
    /* Copies a mapping's bytes to and from shared memory (copy.h). */
    struct wgv_copier *copier;
    bool lost, closing;
    char lost_reason[256];
    void *error_device;         /* a device to report validation errors on */
    struct wgv_policy policy;
    uint64_t memory_used;       /* bytes charged to live buffers and textures */
    struct wgv_resource *resources;
    unsigned resource_count;
    struct wgv_fence **retired; /* fences to report at the next poll */
    unsigned retired_count, retired_cap;
    struct wgv_staging staging; /* bytes for a staged writeTexture (transfer.c) */
    /* The command being run: slots it claimed, whether an argument was an
     * error object. */
    struct wgv_slot *cmd_claim[WGV_CLAIMS_MAX];
    unsigned cmd_claims;
    bool cmd_error_object;
    bool cmd_over_quota;        /* a claim went past max_objects */
    const char *cmd_claim_why;  /* why the object table refused a claim */
    struct wgv_slot *cmd_receiver; /* the first object the command names */
    unsigned cmd_receiver_type;
    uint64_t cmd_receiver_handle;
    uint64_t cmd_serial;           /* commands decoded so far */
    struct wgv_named *cmd_named;   /* records the command names */
    struct wgv_record *cmd_record; /* the record a recorded command went to */
};

/* What a guest is told when the host withholds Dawn's Null adapter. */
#define WGV_NULL_ONLY "webgpu-virtio: the host has no GPU adapter (only Dawn's Null backend); " \
                      "start the server with --null to use it"
#define WGV_NULL_NOT_OFFERED "webgpu-virtio: the host does not offer Dawn's Null backend; " \
                             "start the server with --null to use it"

/* host.c: the host */

/* Passes a message to the embedder's log callback, if it set one. */
void wgv_host_log(struct wgv_host *host, enum wgv_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* context.c: context life */

/* Ends the context with a reason (first one wins); sends context-lost. */
void wgv_context_fail(struct wgv_context *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* codec-ops.c: the decoder's callbacks */

/* The decoder's callbacks for a context (struct wgv_codec_ops). */
struct wgv_codec_ops wgv_host_codec_ops(struct wgv_context *ctx);

/* The bulk area's bytes [offset, offset+size), or NULL if they lie outside
 * it (the codec's bulk_get; user is the context). */
const void *wgv_host_ops_bulk_get(void *user, uint64_t offset, uint64_t size);

/* True if [offset, offset+size) lies in the bulk area (no overflow). */
bool wgv_host_bulk_range_ok(const struct wgv_context *ctx, uint64_t offset, uint64_t size);

/* Stores a backend object created by a command into its claimed slot. */
void wgv_host_store(struct wgv_context *ctx, unsigned type, uint64_t handle, void *object);

/* resources.c: attached memory */

/* A range of an attached resource, in place or gathered into the arena; NULL
 * if it lies outside (the codec's resource_get; user is the context). */
const void *wgv_host_ops_resource_get(void *user, uint32_t id, uint64_t offset, uint64_t size,
                                      struct wgv_arena *arena);

/* fences.c */

/* Queues a fence whose work is done for the next poll's report. */
void wgv_host_fence_retire_later(struct wgv_context *ctx, struct wgv_fence *f);

/* Tells the embedder of the fences retired since the last poll. */
void wgv_host_report_fences(struct wgv_context *ctx);

/* pending.c: callbacks owed, replies */

/* Sends one reply record. */
void wgv_host_send_reply(struct wgv_context *ctx, unsigned kind, unsigned callback, uint64_t key,
                         const uint32_t *shapes, const void *const *args, unsigned count);

/* A new pending callback record, or NULL (the context is then lost). */
struct wgv_pending *wgv_host_pending_new(struct wgv_context *ctx, unsigned callback,
                                         uint64_t key, uint64_t result, bool repeat);

/* Unlinks and frees a pending record, and the uncaptured-error record that
 * goes with a device's loss record. */
void wgv_host_pending_free(struct wgv_context *ctx, struct wgv_pending *p);

/* Called by the generated thunks: turns a backend callback into a reply. */
void wgv_host_callback(void *context, void *pending, unsigned callback, const void *args,
                       void *object);

/* Releases a backend object of a type (generated). */
void wgv_host_release_object(struct wgv_context *ctx, unsigned type, void *object);

/* submit.c: the decode loop */

/* Reports an error of a type on the device the running command concerns. */
void wgv_host_report_error(struct wgv_context *ctx, WGPUErrorType type, const char *what);

/* quota.c */

/* Host memory charged for an object of a type beyond its explicit size. */
uint64_t wgv_host_object_cost(unsigned type);

/* Charges bytes to the memory quota, or reports out-of-memory and returns
 * false. */
bool wgv_host_charge(struct wgv_context *ctx, uint64_t bytes, const char *what);

/* Stores a created buffer or texture with the bytes charged for it; returns
 * them to the quota when there is no live object to carry them. */
void wgv_host_store_charged(struct wgv_context *ctx, unsigned type, uint64_t handle,
                            void *object, uint64_t bytes);

/* Charges what the backend will keep of a command's arguments (`kept`:
 * their variable-size bytes, updated to what is charged): to the record of
 * the encoder it is recorded into, the object it creates or labels. False:
 * the command must not run (past the quota; a recording is made invalid). */
bool wgv_host_charge_kept(struct wgv_context *ctx, unsigned opcode, uint64_t *kept);

/* The common case of wgv_host_charge_kept, for a fixed-size command that
 * names nothing but objects: recorded into a live recording that has room.
 * Charges it and returns true; false: take wgv_host_charge_kept's way. */
bool wgv_host_charge_recorded(struct wgv_context *ctx, unsigned opcode);

/* After the command ran: gives the charged bytes to the objects that hold
 * them (`made`, of type `made_type`: the first object it created, or NULL),
 * and returns those of the command buffers a submit consumed. */
void wgv_host_kept(struct wgv_context *ctx, unsigned opcode, uint64_t kept,
                   struct wgv_slot *made, unsigned made_type);

/* Returns what a slot carries to the quota, before the slot is freed. */
void wgv_host_uncharge(struct wgv_context *ctx, struct wgv_slot *s);

/* Whether the backend itself refuses a buffer (t NULL) or texture for the
 * device's limits, so that the quota has nothing to add. */
bool wgv_host_beyond_device_limits(struct wgv_context *ctx, void *device, uint64_t buffer_size,
                                   const WGPUTextureDescriptor *t);

/* adapter.c: requestAdapter, requestDevice */

/* A requestAdapter callback's arguments: Unavailable, with a message. */
struct wgv_hcb_RequestAdapterCallback wgv_host_adapter_unavailable(const char *why);

/* Whether an adapter the backend found may go to the guest. */
bool wgv_host_adapter_allowed(struct wgv_context *ctx, void *adapter);

/* Whether a guest may set Dawn toggle `name` (toggles.c): the built-in
 * allowlist or the operator's allowed_toggles. */
bool wgv_host_toggle_allowed(const struct wgv_host *host, const char *name);
/* Drops, and logs, every toggle not allowed from the DawnTogglesDescriptors
 * in a decoded chain; `what` names the request for the log. */
void wgv_host_filter_toggles(struct wgv_context *ctx, const char *what, WGPUChainedStruct *chain);

/* Sends an adapter's info, limits (capped by the policy) and features. */
void wgv_host_send_adapter_state(struct wgv_context *ctx, void *adapter, uint64_t handle);

/* Sends a device's limits and features. */
void wgv_host_send_device_state(struct wgv_context *ctx, void *device, uint64_t handle);

#endif
