/* Per-context object tables: one per object type, indexed by the ids the
 * guest chose, each slot with a generation so stale handles are refused. */
#ifndef WGV_HOST_OBJECTS_H
#define WGV_HOST_OBJECTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wgv-wire-ids.h"

enum wgv_slot_state {
    WGV_SLOT_FREE = 0,
    WGV_SLOT_RESERVED, /* claimed by the command being run */
    WGV_SLOT_AWAITING, /* an async creation's callback will fill it */
    WGV_SLOT_LIVE,     /* holds a backend object */
    WGV_SLOT_ERROR,    /* the creation failed on the host: an error object */
};

struct wgv_record;

struct wgv_slot {
    void *handle;     /* backend object (NULL unless LIVE) */
    uint64_t device;  /* handle of the device it belongs to, for error reports */
    uint64_t bytes;   /* memory charged to the context's quota */
    uint64_t label;   /* of which the label SetLabel gave it */
    struct wgv_record *record; /* encoders, passes, command buffers, bundles:
                                  what the recording holds (context.h) */
    uint32_t gen;     /* generation of the current or last occupant */
    uint8_t state;
};

/* Free slots a table may hold when the guest names a new id past its end.
 * The guest library reuses freed ids before it takes new ones, so its new
 * ids come when none is free; the slack covers threads whose commands
 * cross (a freed id taken by one thread, not yet sent, while another sends
 * a new one). The ids of a type so stay within its objects in use plus
 * this, and the table's memory within the object quota. */
#define WGV_OBJECTS_FREE_SLACK 1024u
/* Largest table length: keeps the capacity arithmetic far from overflow. */
#define WGV_OBJECTS_LEN_MAX (1u << 30)

struct wgv_table {
    struct wgv_slot *slots; /* slots[0] is unused: id 0 is null */
    uint32_t len;           /* ids 1 .. len-1 have been seen */
    uint32_t cap;
    uint32_t used;          /* slots among them that are not free */
};

struct wgv_objects {
    struct wgv_table tables[WGV_OBJ_COUNT];
    size_t live;
    size_t max_objects;
};

/* A handle on the wire: id in the low 32 bits, generation in the high. */
static inline uint32_t wgv_handle_id(uint64_t h) { return (uint32_t)h; }
static inline uint32_t wgv_handle_gen(uint64_t h) { return (uint32_t)(h >> 32); }

void wgv_objects_init(struct wgv_objects *o, size_t max_objects);
/* Frees the tables (the caller releases backend objects first). */
void wgv_objects_fini(struct wgv_objects *o);

/* The slot of a handle if its id, generation and type match a slot that is
 * not free; NULL otherwise. Inline: every command looks its objects up. */
static inline struct wgv_slot *wgv_objects_get(struct wgv_objects *o, unsigned type,
                                               uint64_t handle)
{
    if (type == WGV_OBJ_NONE || type >= WGV_OBJ_COUNT)
        return NULL;
    struct wgv_table *t = &o->tables[type];
    uint32_t id = wgv_handle_id(handle);
    if (id == 0 || id >= t->len)
        return NULL;
    struct wgv_slot *s = &t->slots[id];
    if (s->state == WGV_SLOT_FREE || s->gen != wgv_handle_gen(handle))
        return NULL;
    return s;
}

/* Claims the slot of a handle a command creates: the id is at most one past
 * the table (and one past it only while fewer than WGV_OBJECTS_FREE_SLACK
 * slots are free), the slot is free, and the generation is newer than the
 * last. Returns the slot (state RESERVED), or NULL with the reason in *why
 * (when why is not NULL). */
struct wgv_slot *wgv_objects_claim(struct wgv_objects *o, unsigned type, uint64_t handle,
                                   const char **why);

/* Marks a slot of type `type` free (the caller released its backend object). */
void wgv_objects_free(struct wgv_objects *o, unsigned type, struct wgv_slot *slot);

#endif
