#include "objects.h"

#include <stdlib.h>
#include <string.h>

void wgv_objects_init(struct wgv_objects *o, size_t max_objects)
{
    memset(o, 0, sizeof(*o));
    o->max_objects = max_objects;
}

void wgv_objects_fini(struct wgv_objects *o)
{
    for (unsigned t = 0; t < WGV_OBJ_COUNT; t++)
        free(o->tables[t].slots);
    memset(o->tables, 0, sizeof(o->tables));
    o->live = 0;
}

struct wgv_slot *wgv_objects_get(struct wgv_objects *o, unsigned type, uint64_t handle)
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

struct wgv_slot *wgv_objects_claim(struct wgv_objects *o, unsigned type, uint64_t handle)
{
    if (type == WGV_OBJ_NONE || type >= WGV_OBJ_COUNT)
        return NULL;
    struct wgv_table *t = &o->tables[type];
    uint32_t id = wgv_handle_id(handle), gen = wgv_handle_gen(handle);
    uint32_t next = t->len ? t->len : 1; /* the one new id allowed */
    /* Past the quota, objects are still named (as error objects, by the
     * caller) up to twice the quota; beyond that the guest is flooding. */
    if (id == 0 || gen == 0 || id > next || o->live >= 2 * o->max_objects)
        return NULL;
    if (id == next) {
        /* A new id, one past the end (slot 0 is never used). */
        uint32_t need = id + 1;
        if (need > t->cap) {
            uint32_t cap = t->cap ? t->cap * 2 : 64;
            while (cap < need)
                cap *= 2;
            struct wgv_slot *s = realloc(t->slots, (size_t)cap * sizeof(*s));
            if (!s)
                return NULL;
            memset(s + t->cap, 0, (size_t)(cap - t->cap) * sizeof(*s));
            t->slots = s;
            t->cap = cap;
        }
        t->len = need;
    } else {
        struct wgv_slot *s = &t->slots[id];
        if (s->state != WGV_SLOT_FREE || gen <= s->gen)
            return NULL;
    }
    struct wgv_slot *s = &t->slots[id];
    s->gen = gen;
    s->state = WGV_SLOT_RESERVED;
    s->handle = NULL;
    s->device = 0;
    s->bytes = 0;
    o->live++;
    return s;
}

void wgv_objects_free(struct wgv_objects *o, struct wgv_slot *slot)
{
    if (slot->state != WGV_SLOT_FREE && o->live)
        o->live--;
    slot->state = WGV_SLOT_FREE;
    slot->handle = NULL;
}
