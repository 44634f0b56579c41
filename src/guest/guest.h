/* libwebgpu-virtio internals: the client (one connection to a host
 * context), guest objects, futures, bulk shared memory and transports. */
#ifndef WGV_GUEST_H
#define WGV_GUEST_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "codec.h"
#include "copy.h"
/* The generated wire tables and argument structs of the front being built
 * (meson names the Dawn front's; see src/guest/meson.build). */
#ifndef WGV_GUEST_WIRE_HEADER
#define WGV_GUEST_WIRE_HEADER "wgv-guest-wire.h"
#endif
#include WGV_GUEST_WIRE_HEADER

/* ------------------------------------------------------------- transport */

/* How a client reaches its host context: the socket + shared memory of
 * wgv-server (transport-socket.c) or a virtio-gpu device inside a VM
 * (transport-virtgpu.c). */
struct wgv_transport {
    const char *name;
    /* Room for one command record of len bytes, written in place, then
     * queued by commit; NULL (or commit false) if the host is gone. */
    void *(*reserve)(struct wgv_transport *t, size_t len);
    bool (*commit)(struct wgv_transport *t, size_t len);
    /* Makes queued commands visible to the host (and wakes it if idle). */
    void (*flush)(struct wgv_transport *t);
    /* Copies the next reply record into buf; returns its size, 0 if there
     * is none, or -1 if the host is gone or the record does not fit. */
    long (*recv)(struct wgv_transport *t, void *buf, size_t cap);
    /* Where the reply ring is now, read with the client lock held. */
    uint64_t (*wait_point)(struct wgv_transport *t);
    /* Sleeps until a reply past `point` may be there or timeout_ns passes
     * (-1: forever). Called without the lock, by any number of threads. */
    void (*wait)(struct wgv_transport *t, uint64_t point, int64_t timeout_ns);
    /* Bytes of commands sent so far, and those the host has finished. */
    uint64_t (*produced)(struct wgv_transport *t);
    uint64_t (*consumed)(struct wgv_transport *t);
    void (*destroy)(struct wgv_transport *t);
    /* Called by send while it waits for room in a full command ring: the
     * client reads replies there, so the host never waits on a full reply
     * ring for a guest that waits on it. */
    void (*waiting)(void *user);
    void *waiting_user;
    uint8_t *bulk;        /* shared memory the host reads by offset */
    uint64_t bulk_size;
    uint64_t record_max;  /* the largest record reserve takes */
};

/* Opens the transport the environment selects (transport.c, docs/using.md):
 * $WGV_TRANSPORT forces one; else $WGV_SERVER means the socket, a virtio-gpu
 * node offering our capset means virtgpu, and the default socket path is the
 * last resort. NULL with a reason in err on failure. */
struct wgv_transport *wgv_transport_open(char *err, size_t errlen);
/* Connects to wgv-server at path (the handshake and its shared memory). */
struct wgv_transport *wgv_transport_socket_open(const char *path, char *err, size_t errlen);
/* The default wgv-server socket path ($XDG_RUNTIME_DIR/wgv.sock, else
 * /tmp/wgv-<uid>.sock), written into buf. */
void wgv_transport_socket_default(char *buf, size_t cap);

/* Opens a render node and checks it is virtio-gpu with our capset and
 * protocol version; the fd, or -1 with the reason in err. */
int wgv_virtgpu_open_node(const char *path, char *err, size_t errlen);
/* The lowest numbered /dev/dri/renderD* that passes wgv_virtgpu_open_node:
 * its fd (path gets its name), or -1 if there is none. */
int wgv_virtgpu_find_node(char *path, size_t cap);
/* Sets up a context on an opened node (fd is owned from here on, even on
 * failure): its shared memory, SETUP, the rings. NULL with err on failure. */
struct wgv_transport *wgv_transport_virtgpu_open(int fd, char *err, size_t errlen);

/* ----------------------------------------------------------- bulk memory */

struct wgv_bulk_block {
    uint64_t offset, size;
    struct wgv_bulk_block *next;
};

/* First-fit allocator over the transport's bulk area. */
struct wgv_bulk {
    uint64_t size;
    struct wgv_bulk_block *free_list;  /* sorted by offset */
    /* Staging blocks the host may still read: freed once the host has
     * consumed the command stream past `until`. */
    struct wgv_staged {
        uint64_t offset, size, until;
    } *staged;
    size_t staged_len, staged_cap;
};

void wgv_bulk_init(struct wgv_bulk *b, uint64_t size);
void wgv_bulk_fini(struct wgv_bulk *b);
/* Returns false if no free range of `size` bytes exists. */
bool wgv_bulk_alloc(struct wgv_bulk *b, uint64_t size, uint64_t *offset);
void wgv_bulk_release(struct wgv_bulk *b, uint64_t offset, uint64_t size);

/* --------------------------------------------------------------- objects */

struct wgv_client;

struct wgv_object {
    uint16_t type;          /* WGV_OBJ_* */
    uint32_t id, gen;
    atomic_int refs;
    struct wgv_client *client;
    struct wgv_object *parent; /* the device (or adapter) it came from */
};

struct wgv_buffer {
    struct wgv_object base;
    uint64_t size;
    WGPUBufferUsage usage;
    WGPUBufferMapState map_state;
    WGPUMapMode map_mode;       /* while mapped or pending */
    uint64_t map_offset, map_size;
    bool has_shm;
    uint64_t shm_offset, shm_size;
    uint64_t map_future;        /* the pending mapAsync's future */
    /* A mapping too large for the bulk area (transfer.c): the guest's own
     * copy of the mapped bytes, streamed through the bulk area in chunks. */
    uint8_t *priv;
    uint64_t priv_size;         /* bytes of guest memory at priv */
    /* The last such copy's memory, kept for the buffer's next mapping so
     * that a buffer mapped again and again faults its pages in once. */
    uint8_t *spare;
    uint64_t spare_size;
    bool destroyed;             /* wgpuBufferDestroy was called */
    /* Write maps the guest answers itself (map-write.c): the buffer's whole
     * contents as the guest last wrote them (NULL until known), whether a
     * map through the host has succeeded (so the buffer is valid), and the
     * queue serial of the last submission that reads it. */
    uint8_t *shadow;
    bool confirmed;
    bool untracked;             /* a use could not be recorded: never answered */
    uint64_t last_use;
};

/* Mappable buffers a command encoder's copies read (one reference each);
 * moved to its command buffer at finish, marked at submit. */
struct wgv_buffer_uses {
    struct wgv_buffer **items;
    uint32_t len, cap;
};

struct wgv_command_encoder {
    struct wgv_object base;
    struct wgv_buffer_uses uses;
};

struct wgv_command_buffer {
    struct wgv_object base;
    struct wgv_buffer_uses uses;
};

struct wgv_texture {
    struct wgv_object base;
    uint32_t width, height, depth, mips, samples;
    WGPUTextureDimension dimension;
    WGPUTextureFormat format;
    WGPUTextureUsage usage;
    WGPUTextureViewDimension binding_view_dimension;
};

struct wgv_query_set {
    struct wgv_object base;
    WGPUQueryType type;
    uint32_t count;
};

struct wgv_features {
    size_t count;
    WGPUFeatureName *names;
};

struct wgv_adapter {
    struct wgv_object base;
    bool have_state;
    WGPUAdapterInfo info;   /* strings owned (one allocation each) */
    WGPULimits limits;
    struct wgv_features features;
    void *front;            /* what the front keeps besides (front-*.c) */
};

/* Each front's share of an adapter's state (front-standard.c,
 * front-dawn.c): keeping what its ABI adds to the decoded AdapterInfo
 * (chained output structs), filling the caller's chain in GetInfo (or
 * refusing it, touching nothing), and freeing what it kept. */
void wgv_front_adapter_state(struct wgv_adapter *a, const WGPUAdapterInfo *decoded);
WGPUStatus wgv_front_adapter_info(struct wgv_adapter *a, WGPUAdapterInfo *info);
void wgv_front_adapter_free(struct wgv_adapter *a);
/* Fills the structs chained onto a GetLimits output from the limits `have`
 * (front-*.c): Success, or Error touching nothing for a chain this front
 * cannot fill. */
WGPUStatus wgv_front_limits(const WGPULimits *have, WGPUChainedStruct *chain);

struct wgv_device {
    struct wgv_object base;
    struct wgv_adapter *adapter; /* one reference held */
    struct wgv_object *queue;    /* one reference held */
    bool have_state;
    WGPULimits limits;
    struct wgv_features features;
    bool lost;                   /* its lost callback fired or it was destroyed */
    WGPUDeviceLostCallbackInfo lost_info;
    WGPUUncapturedErrorCallbackInfo error_info;
    uint64_t lost_future, error_key;
};

struct wgv_instance {
    struct wgv_object base;
    bool timed_wait_any;
    /* The backends wgpu-native's InstanceExtras allows (its
     * WGPUInstanceBackend bits; 0: all), for the wgpu-native front. */
    uint64_t backends;
};

/* A device's queue. `serial` numbers every submission in wire order and
 * `serial_done` is the highest one a work-done callback has vouched for
 * (client lock): for the write maps the guest answers (map-write.c), and
 * the wgpu-native front's submission indices and wgpuDevicePoll. */
struct wgv_queue {
    struct wgv_object base;
    uint64_t serial, serial_done;
};

/* The most futures one timed wgpuInstanceWaitAny call accepts. */
#define WGV_TIMED_WAIT_ANY_MAX 64

/* A new instance connected to a host (wgpuCreateInstance of each front);
 * NULL, with the reason on stderr, if no host answers. */
WGPUInstance wgv_instance_new(bool timed_wait_any);
/* Fills `features` with the host's WGSL language features (the caller
 * frees them); false if out of memory. */
bool wgv_instance_wgsl_features(WGPUInstance instance, WGPUSupportedWGSLLanguageFeatures *features);

/* A new object of a type with one reference, its id chosen now (never
 * waits for the host); NULL if out of memory. */
struct wgv_object *wgv_object_create(struct wgv_client *c, unsigned type, struct wgv_object *parent);
void wgv_object_add_ref(struct wgv_object *o);
/* Drops a reference; the last one tells the host and frees the object. */
void wgv_object_release(struct wgv_object *o);
static inline struct wgv_client *wgv_object_client(struct wgv_object *o) { return o->client; }
static inline uint64_t wgv_object_handle(const struct wgv_object *o)
{
    return (uint64_t)o->id | ((uint64_t)o->gen << 32);
}

/* The same, for the specialised encoders (src/wire/fast.h). */
static inline uint64_t wgv_fast_handle(const void *o)
{
    return wgv_object_handle(o);
}

/* --------------------------------------------------------------- futures */

enum wgv_future_state { WGV_FUTURE_PENDING, WGV_FUTURE_READY };

struct wgv_future {
    uint64_t id;
    uint16_t callback;       /* WGV_CB_* */
    uint8_t state;
    bool repeat;             /* uncaptured errors: never completes */
    bool weak;               /* device events, maps: no reference on object */
    bool aborted;            /* a map answered but not yet fired when the
                                application ended it: fires as Aborted */
    WGPUCallbackMode mode;
    WGPUProc fn;
    void *userdata1, *userdata2;
    struct wgv_object *object; /* result or device, one reference held */
    uint64_t ready_seq;      /* order in which replies arrived */
    uint64_t work_serial;    /* a work-done future: the queue serial it vouches for */
    void *reply;             /* the reply record once READY (malloc'd) */
    size_t reply_len;
    struct wgv_future *next;
};

/* Registers a future for a callback; its id goes on the wire. */
WGPUFuture wgv_future_create(struct wgv_client *c, unsigned callback, WGPUCallbackMode mode,
                             WGPUProc fn, void *userdata1, void *userdata2,
                             struct wgv_object *object);

/* The future of id `id`, pending or ready (lock held); NULL if none. */
struct wgv_future *wgv_future_get_locked(struct wgv_client *c, uint64_t id);

/* Completes a future here, without the host, with callback arguments `args`
 * (the callback's generated struct); for errors the guest detects itself. */
void wgv_future_complete_local(struct wgv_client *c, uint64_t id, const void *args);
/* Fills `args` (cap bytes) with what a callback of type `cb` reports when
 * its device is lost (`why` for a device-lost callback, `message` for all):
 * the statuses the host's implementation gives on a lost device. */
bool wgv_lost_callback_args(unsigned cb, WGPUDeviceLostReason why, const char *message,
                            void *args, size_t cap);
/* Fills `args` with the CallbackCancelled status of callback type `cb`. */
bool wgv_cancelled_callback_args(unsigned cb, const char *message, void *args, size_t cap);
/* Completes a pending or ready (not yet fired) future with callback
 * arguments made in the guest, replacing any reply (lock held). */
bool wgv_future_complete_locked(struct wgv_client *c, struct wgv_future *f, const void *args);
/* Fires every completed AllowSpontaneous future (call without the lock). */
void wgv_client_fire_spontaneous(struct wgv_client *c);
/* A device is destroyed (`released`: its last reference is gone): its lost
 * callback completes with reason Destroyed and every callback owed for it
 * or its objects completes as on a lost device (lock held). */
void wgv_device_end_locked(struct wgv_client *c, struct wgv_device *d, bool released);
/* Marks a future as a device event: repeating (uncaptured errors) or not,
 * holding no reference on its device. Call before it is sent. */
void wgv_future_make_event(struct wgv_client *c, uint64_t id, bool repeat);
/* Completes a pending map as Aborted: the application ended it first
 * (unmap, destroy) (lock held). */
void wgv_future_abort(struct wgv_client *c, uint64_t id);
/* A buffer's last reference is gone: its pending map completes as Aborted
 * (lock held). */
void wgv_futures_drop_object(struct wgv_client *c, struct wgv_object *o);
/* Frees a bulk range once the host has read every command sent so far
 * (lock held). */
void wgv_client_release_later(struct wgv_client *c, uint64_t offset, uint64_t size);

/* ------------------------------------------------- answered write maps */

/* Largest buffer whose contents the guest keeps to answer its write maps. */
#define WGV_MAP_WRITE_SHADOW_MAX (256u * 1024u)

/* Whether a mapAsync of `mode` over [offset, offset+size) may be answered in
 * the guest: a valid MapWrite buffer of the guest's known contents that no
 * unfinished submission reads, a range the backend would accept (lock held). */
bool wgv_map_write_can_answer(struct wgv_client *c, struct wgv_buffer *b, WGPUMapMode mode,
                              uint64_t offset, uint64_t size);
/* A map through the host succeeded: the buffer is valid, and a whole-buffer
 * mapping gives the guest its contents (lock held). */
void wgv_map_write_confirmed(struct wgv_buffer *b, const uint8_t *bytes);
/* A write mapping of `bytes` ends: the guest's copy follows it (lock held). */
void wgv_map_write_unmapped(struct wgv_buffer *b, const uint8_t *bytes);
/* A work-done callback reported success: its queue serial is done. */
void wgv_map_write_work_done(struct wgv_client *c, struct wgv_future *f);
/* Drops the buffer references of an encoder's or command buffer's uses. */
void wgv_buffer_uses_free(struct wgv_buffer_uses *u);

/* ---------------------------------------------------------------- client */

struct wgv_idmap {
    uint32_t *gens;     /* last generation used for each id */
    uint32_t len, cap;
    uint32_t *free_ids;
    uint32_t free_len, free_cap;
};

struct wgv_client {
    pthread_mutex_t lock;      /* commands, ids, futures, bulk */
    atomic_int refs;           /* the instance and every object */
    struct wgv_transport *t;
    struct wgv_codec_ops ops;
    struct wgv_writer w;
    struct wgv_idmap ids[WGV_OBJ_COUNT];
    struct wgv_bulk bulk;
    struct wgv_future *futures; /* pending and ready, newest first */
    uint64_t next_future;
    uint64_t next_ready_seq;
    uint8_t *reply_buf;
    /* The ring record being filled: commands go into one record until it
     * is full, a command stages bulk data, a submit, or a wait (rec NULL:
     * none open). */
    uint8_t *rec;
    size_t rec_len, rec_cap;
    /* Copies large command payloads into shared memory (copy.h). */
    struct wgv_copier *copier;
    /* The instance's WGSL language features, sent by the host first. */
    bool have_wgsl_features;
    WGPUWGSLLanguageFeatureName *wgsl_features;
    size_t wgsl_feature_count;
    bool lost;
    char lost_reason[256];
    /* Some AllowSpontaneous future completed (without a reply, or while a
     * send waited): the next wgv_client_fire_spontaneous has work. Read
     * without the lock as a hint. */
    atomic_bool spontaneous_ready;
    /* Unlinked futures whose replies were read while a send waited, to be
     * fired once the lock is released. */
    struct wgv_future *deferred;
};

/* Connects to a host; NULL with the reason in err. */
struct wgv_client *wgv_client_create(char *err, size_t errlen);
void wgv_client_unref(struct wgv_client *c);

/* Encodes and sends one command (args: the generated argument struct). */
void wgv_client_send(struct wgv_client *c, unsigned opcode, const void *args);
/* The same with the client lock held by the caller. */
void wgv_client_send_locked(struct wgv_client *c, unsigned opcode, const void *args);
/* Room for one command of `size` bytes that a specialised encoder writes in
 * place (lock held); NULL: the context is lost, send nothing. */
uint8_t *wgv_client_reserve_locked(struct wgv_client *c, size_t size);
/* Sends the command written into wgv_client_reserve_locked's room. */
void wgv_client_commit_locked(struct wgv_client *c, unsigned opcode, size_t size);
/* Puts the record being filled into the ring (lock held). */
void wgv_client_close_locked(struct wgv_client *c);
/* Closes the record and makes every command visible to the host (lock
 * held); before any wait for the host. */
void wgv_client_flush_locked(struct wgv_client *c);

/* Reads every reply that has arrived; fires AllowSpontaneous callbacks. */
void wgv_client_pump(struct wgv_client *c);
/* Fires ready callbacks allowed in ProcessEvents. */
void wgv_client_process_events(struct wgv_client *c);
/* WaitAny over futures of this client. */
WGPUWaitStatus wgv_client_wait_any(struct wgv_client *c, size_t count, WGPUFutureWaitInfo *infos,
                                   uint64_t timeout_ns, bool timed_allowed);

/* Copies bytes into bulk memory for the command being encoded. */
bool wgv_client_stage(struct wgv_client *c, const void *data, uint64_t size, uint64_t *offset);
/* Allocates bulk memory (lock held), first taking back the ranges the host
 * is done with and, if still short, waiting for it to catch up. */
bool wgv_client_bulk_alloc(struct wgv_client *c, uint64_t size, uint64_t *offset);
/* Waits (lock held, replies read meanwhile) until the host has consumed the
 * command stream up to `pos` (a produced() value), or it is gone. */
void wgv_client_wait_consumed(struct wgv_client *c, uint64_t pos);

/* A NUL-terminated malloc'd copy of a string view (free its data). */
WGPUStringView wgv_string_copy(WGPUStringView s);

/* Feature list helpers (copies owned by the object). */
void wgv_features_set(struct wgv_features *f, const WGPUFeatureName *names, size_t count);
bool wgv_features_has(const struct wgv_features *f, WGPUFeatureName name);
void wgv_features_get(const struct wgv_features *f, WGPUSupportedFeatures *out);

#endif
