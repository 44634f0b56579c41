/* libwgv-host: the embeddable host renderer of webgpu-virtio.
 *
 * A VMM (or wgv-server) creates one wgv_host, then one wgv_context per guest
 * connection. It hands the context the untrusted command bytes the guest
 * sent; the context decodes them, runs them on its own WebGPU instance and
 * devices, and emits replies through a callback. A protocol violation ends
 * that context only: wgv_context_submit returns -1, the guest gets a
 * context-lost reply with the reason, and the host and every other context
 * go on. Contexts are independent; one context must be used from one thread
 * at a time. */
#ifndef WGV_HOST_H
#define WGV_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct wgv_host;
struct wgv_context;

enum wgv_log_level { WGV_LOG_ERROR = 0, WGV_LOG_WARN = 1, WGV_LOG_INFO = 2, WGV_LOG_DEBUG = 3 };

/* Per-context resource policy. A guest that goes past it gets WebGPU's own
 * errors (out of memory, validation), as from a smaller GPU; it is not a
 * protocol violation. Zero fields take the defaults in brackets. */
struct wgv_policy {
    uint64_t max_memory;       /* bytes of buffers + textures alive [4 GiB] */
    uint32_t max_objects;      /* objects alive [1 << 20] */
    uint64_t max_shader_bytes; /* source of one shader module [16 MiB] */
};

/* wgv_host_config.flags: hand guests Dawn's Null adapter, which has no GPU
 * behind it (it validates and draws nothing). Without it, an adapter request
 * that would get the Null adapter (a host whose GPU driver is missing), or
 * that asks for backend type Null, gets status Unavailable and a message
 * saying why. Forcing the Null backend (force_backend = 1) implies it. */
#define WGV_HOST_ALLOW_NULL_ADAPTER (1u << 0)

struct wgv_host_config {
    /* Path of the webgpu.h implementation; NULL: $WGV_BACKEND_LIB or the
     * bundled Dawn. */
    const char *backend_path;
    /* Force this backend type for every adapter request (a WGPUBackendType
     * value of the standard header, e.g. 1 = Null for fuzzing); 0 = the
     * guest's choice. */
    uint32_t force_backend;
    /* WGV_HOST_* flags below; 0 for none. */
    uint32_t flags;
    /* Resource limits of every context. */
    struct wgv_policy policy;
    /* Dawn toggles guests may set besides the built-in allowlist of
     * harmless ones (docs/security.md); every other toggle a guest asks
     * for is dropped and logged. The strings must outlive the host. */
    const char *const *allowed_toggles;
    size_t allowed_toggle_count;
    /* Called for log messages; NULL logs nothing. */
    void (*log)(void *user, enum wgv_log_level level, const char *message);
    /* Called (from wgv_context_poll) when a fence asked for with
     * wgv_context_fence retires; NULL if the embedder uses no fences. */
    void (*fence_retired)(void *user, uint32_t context_id, uint32_t ring, uint64_t fence_id);
    void *user;
};

/* One piece of a resource's memory, as the embedder maps it (for a VM: the
 * host address of a run of guest pages). */
struct wgv_iovec {
    void *base;
    size_t len;
};

/* Per-context I/O the embedder provides. */
struct wgv_context_io {
    /* Receives each reply record (header included); returns false if it
     * could not be delivered (the context is then lost). */
    bool (*reply)(void *user, const void *bytes, size_t len);
    /* Shared memory the guest names by offset (bulk data, mapped ranges);
     * the host checks every range against bulk_size. May be NULL/0. */
    uint8_t *bulk;
    uint64_t bulk_size;
    void *user;
};

/* Loads the backend and returns a host, or NULL with a reason in err. */
struct wgv_host *wgv_host_create(const struct wgv_host_config *config, char *err, size_t errlen);

/* Destroys a host; its contexts must be destroyed first. */
void wgv_host_destroy(struct wgv_host *host);

/* An adapter the backend offers, for start-up reports. */
struct wgv_host_adapter {
    char name[128];    /* the adapter's device name */
    char backend[16];  /* its backend type as the standard names it ("Vulkan", "Null") */
    bool null_backend; /* Dawn's Null adapter: no GPU behind it */
};

/* Asks the backend, on an instance of its own, for the adapters a guest
 * could get (the default one, then one per backend type, without repeats);
 * fills up to cap entries of out and returns how many it found. */
unsigned wgv_host_list_adapters(struct wgv_host *host, struct wgv_host_adapter *out, unsigned cap);

/* Whether guests may get Dawn's Null adapter (WGV_HOST_ALLOW_NULL_ADAPTER). */
bool wgv_host_allows_null_adapter(const struct wgv_host *host);

/* The protocol version this host speaks (changes whenever the wire does). */
uint32_t wgv_host_protocol_version(void);

/* Writes the capset (protocol version and limits, docs/protocol.md) into
 * buf; returns its size, or 0 if cap is too small. */
size_t wgv_host_capset(const struct wgv_host *host, void *buf, size_t cap);

/* Creates a context with its own WebGPU instance; NULL on failure. */
struct wgv_context *wgv_context_create(struct wgv_host *host, uint32_t id,
                                       const struct wgv_context_io *io);

/* A WebGPU instance made ahead of any guest, its default adapter already
 * found (the driver loaded and started): what a pre-forked worker prepares
 * while it waits (docs/isolation.md). NULL if the backend made none. */
struct wgv_warm_instance *wgv_host_warm_instance(struct wgv_host *host);
/* Frees a warm instance that no context took. */
void wgv_warm_instance_free(struct wgv_host *host, struct wgv_warm_instance *warm);
/* wgv_context_create on a warm instance, which the context takes over (or
 * frees, on failure); NULL warm: a new instance. */
struct wgv_context *wgv_context_create_warm(struct wgv_host *host, uint32_t id,
                                            const struct wgv_context_io *io,
                                            struct wgv_warm_instance *warm);

/* Releases every object of the context and frees it. */
void wgv_context_destroy(struct wgv_context *ctx);

/* Decodes and runs a sequence of whole commands (untrusted bytes; the host
 * copies what it needs first). Returns 0, or -1 if the context is lost. */
int wgv_context_submit(struct wgv_context *ctx, const void *bytes, size_t len);

/* The same for bytes the embedder already copied out of memory the guest
 * can write (a ring reader's private buffer): no second copy is made. */
int wgv_context_submit_copied(struct wgv_context *ctx, const void *bytes, size_t len);

/* Attaches memory as resource `id` (nonzero), one mapping or a scatter list
 * of up to 4096 pieces (empty ones allowed); commands name bytes in it by resource id and offset,
 * and the host gathers them. The memory must stay mapped until detached.
 * Returns 0, or -1 if the id is taken or the list is empty or too long. */
int wgv_context_attach_resource(struct wgv_context *ctx, uint32_t id,
                                const struct wgv_iovec *iov, unsigned count);

/* Detaches a resource; unknown ids are ignored. */
void wgv_context_detach_resource(struct wgv_context *ctx, uint32_t id);

/* Asks for `fence_id` on `ring` to retire once every command submitted so
 * far has run and the GPU work they queued has finished; the host config's
 * fence_retired reports it from wgv_context_poll. Returns 0 or -1. */
int wgv_context_fence(struct wgv_context *ctx, uint32_t ring, uint64_t fence_id);

/* Lets the backend deliver finished work (callbacks become replies).
 * Returns the number of callbacks still pending. */
int wgv_context_poll(struct wgv_context *ctx);

/* The longest an embedder should sleep between wgv_context_poll calls
 * while callbacks are pending, after waiting `waited_ns` for them (backing
 * off up to it): 1 ms; where the context's adapter is a CPU device
 * (lavapipe), whose work runs on the host's own cores so that every
 * wake-up takes time from the work waited for, a sixteenth of the wait so
 * far, up to 8 ms (a completion is then seen within about 6% of its time). */
uint64_t wgv_context_poll_max_ns(const struct wgv_context *ctx, uint64_t waited_ns);

/* Age in nanoseconds of the oldest callback the context still owes its
 * guest (device events, which may never fire, excluded), or 0 if it owes
 * none: what a GPU watchdog looks at. */
uint64_t wgv_context_oldest_pending_ns(const struct wgv_context *ctx);

/* Callback records the context keeps: callbacks owed and the event records
 * (loss, uncaptured errors) of devices not yet lost; for leak checks. */
size_t wgv_context_pending_records(const struct wgv_context *ctx);

/* Ends the context for a violation the embedder found (a lying ring, a bad
 * resource): the guest gets context-lost with the reason. */
void wgv_context_kill(struct wgv_context *ctx, const char *reason);

/* Whether the context was ended, and why (NULL if not lost). */
const char *wgv_context_lost_reason(const struct wgv_context *ctx);

/* Live objects of the context (for leak checks), all types together. */
size_t wgv_context_live_objects(const struct wgv_context *ctx);

#ifdef __cplusplus
}
#endif

#endif
