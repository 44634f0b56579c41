#include "objects.h"

#include <stdint.h>
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

/* Makes room for ids up to `need - 1`; false when the table may not grow
 * that far or memory is short. */
static bool table_grow(struct wgv_table *t, uint64_t need)
{
    if (need <= t->cap)
        return true;
    if (need > WGV_OBJECTS_LEN_MAX)
        return false;
    size_t cap = t->cap ? t->cap : 64;
    while (cap < need)
        cap *= 2; /* at most 2^30: no overflow in size_t or uint32_t */
    if (cap > SIZE_MAX / sizeof(struct wgv_slot))
        return false;
    struct wgv_slot *s = realloc(t->slots, cap * sizeof(*s));
    if (!s)
        return false;
    memset(s + t->cap, 0, (cap - t->cap) * sizeof(*s));
    t->slots = s;
    t->cap = (uint32_t)cap;
    return true;
}

static struct wgv_slot *refuse(const char **why, const char *reason)
{
    if (why)
        *why = reason;
    return NULL;
}

struct wgv_slot *wgv_objects_claim(struct wgv_objects *o, unsigned type, uint64_t handle,
                                   const char **why)
{
    if (type == WGV_OBJ_NONE || type >= WGV_OBJ_COUNT)
        return refuse(why, "no such object type");
    struct wgv_table *t = &o->tables[type];
    uint32_t id = wgv_handle_id(handle), gen = wgv_handle_gen(handle);
    uint32_t next = t->len ? t->len : 1; /* the one new id allowed */
    if (id == 0 || gen == 0)
        return refuse(why, "id and generation must not be 0");
    if (id > next)
        return refuse(why, "its id is more than one past the ids in use");
    /* Past the quota, objects are still named (as error objects, by the
     * caller) up to twice the quota; beyond that the guest is flooding. */
    if (o->live >= 2 * o->max_objects)
        return refuse(why, "the context holds twice its object limit");
    if (id == next) {
        /* A new id, one past the end (slot 0 is never used): only while
         * the table has few free slots, so that ids seen stay within the
         * objects in use and the table within the object quota. */
        if (next - 1 - t->used >= WGV_OBJECTS_FREE_SLACK)
            return refuse(why, "a new id while freed ids wait to be reused");
        if (!table_grow(t, (uint64_t)id + 1))
            return refuse(why, "the object table cannot grow");
        t->len = id + 1;
    } else {
        struct wgv_slot *s = &t->slots[id];
        if (s->state != WGV_SLOT_FREE)
            return refuse(why, "its id is in use");
        if (gen <= s->gen)
            return refuse(why, "its generation is not newer than the id's last");
    }
    struct wgv_slot *s = &t->slots[id];
    s->gen = gen;
    s->state = WGV_SLOT_RESERVED;
    s->handle = NULL;
    s->device = 0;
    s->bytes = 0;
    s->label = 0;
    s->record = NULL;
    t->used++;
    o->live++;
    return s;
}

void wgv_objects_free(struct wgv_objects *o, unsigned type, struct wgv_slot *slot)
{
    if (slot->state != WGV_SLOT_FREE) {
        if (o->live)
            o->live--;
        if (type < WGV_OBJ_COUNT && o->tables[type].used)
            o->tables[type].used--;
    }
    slot->state = WGV_SLOT_FREE;
    slot->handle = NULL;
}
