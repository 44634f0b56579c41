/* The decoder: the one place that reads untrusted wire bytes. A bounded
 * reader, and the interpreter that walks the generated shape tables (codec.h)
 * to rebuild native structs of this side's ABI in an arena. Every count,
 * length, enum value, handle, chain and nesting level is checked here. */
#include "codec-internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Decoding nests this deep at most (structs in arrays in structs ...). */
#define WGV_DEPTH_MAX 16

/* ---------------------------------------------------------------- reader */

void wgv_reader_init(struct wgv_reader *r, const void *data, size_t len)
{
    r->data = data;
    r->len = len;
    r->pos = 0;
    r->error = NULL;
    r->detail[0] = 0;
    r->unsupported[0] = 0;
    r->payload = 0;
}

bool wgv_reader_fail(struct wgv_reader *r, const char *fmt, ...)
{
    if (!r->error) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
        va_end(ap);
        r->error = r->detail;
    }
    return false;
}

static bool reader_align(struct wgv_reader *r, size_t a)
{
    size_t pad = (a - (r->pos & (a - 1))) & (a - 1);
    if (pad > r->len - r->pos)
        return wgv_reader_fail(r, "truncated at byte %zu", r->pos);
    r->pos += pad;
    return true;
}

static const void *reader_take(struct wgv_reader *r, size_t n)
{
    if (r->error)
        return NULL;
    if (n > r->len - r->pos) {
        wgv_reader_fail(r, "truncated: %zu bytes wanted at byte %zu of %zu", n, r->pos, r->len);
        return NULL;
    }
    const void *p = r->data + r->pos;
    r->pos += n;
    return p;
}

bool wgv_get_u32(struct wgv_reader *r, uint32_t *v)
{
    if (!reader_align(r, 4))
        return false;
    const void *p = reader_take(r, 4);
    if (!p)
        return false;
    memcpy(v, p, 4);
    return true;
}

bool wgv_get_u64(struct wgv_reader *r, uint64_t *v)
{
    if (!reader_align(r, 8))
        return false;
    const void *p = reader_take(r, 8);
    if (!p)
        return false;
    memcpy(v, p, 8);
    return true;
}

/* ---------------------------------------------------------------- decode */

static void store_uint(void *p, unsigned size, uint64_t v)
{
    switch (size) {
    case 1: { uint8_t x = (uint8_t)v; memcpy(p, &x, 1); break; }
    case 2: { uint16_t x = (uint16_t)v; memcpy(p, &x, 2); break; }
    case 4: { uint32_t x = (uint32_t)v; memcpy(p, &x, 4); break; }
    default: memcpy(p, &v, 8); break;
    }
}

struct decoder {
    const struct wgv_abi *abi;
    const struct wgv_codec_ops *ops;
    struct wgv_reader *r;
    struct wgv_arena *arena;
    unsigned depth;
};

static bool decode_shape(struct decoder *d, uint32_t shape, uint8_t *dst);

static void *arena_get(struct decoder *d, uint64_t count, uint64_t size)
{
    if (size && count > SIZE_MAX / size) {
        wgv_reader_fail(d->r, "array of %llu elements of %llu bytes overflows",
                        (unsigned long long)count, (unsigned long long)size);
        return NULL;
    }
    size_t bytes = (size_t)(count * size);
    void *p = wgv_arena_alloc(d->arena, bytes ? bytes : 1, 16);
    if (!p)
        wgv_reader_fail(d->r, "decoded data exceeds %zu bytes", d->arena->limit);
    return p;
}

static bool get_scalar(struct decoder *d, uint8_t kind, uint64_t *v)
{
    if (wgv_scalar_size(kind) == 8)
        return wgv_get_u64(d->r, v);
    uint32_t x;
    if (!wgv_get_u32(d->r, &x))
        return false;
    *v = x;
    if (kind == WGV_K_U8 && x > UINT8_MAX)
        return wgv_reader_fail(d->r, "u8 value %u out of range", x);
    if (kind == WGV_K_U16 && x > UINT16_MAX)
        return wgv_reader_fail(d->r, "u16 value %u out of range", x);
    if (kind == WGV_K_BOOL && x > 1)
        return wgv_reader_fail(d->r, "bool value %u is not 0 or 1", x);
    return true;
}

static bool get_enum(struct decoder *d, uint16_t type, uint32_t *native)
{
    uint32_t wire;
    if (!wgv_get_u32(d->r, &wire))
        return false;
    if (!wgv_enum_from_wire(&d->abi->enums[type], wire, native))
        return wgv_reader_fail(d->r, "%s value %u is not on the wire",
                               d->abi->enums[type].name, wire);
    return true;
}

static bool get_object(struct decoder *d, const struct wgv_member *m, void **out)
{
    uint64_t h;
    if (!wgv_get_u64(d->r, &h))
        return false;
    if (h == 0) {
        *out = NULL;
        if (!(m->flags & WGV_M_OPTIONAL))
            return wgv_reader_fail(d->r, "null object where one is required");
        return true;
    }
    if (!d->ops->object_from_wire(d->ops->user, m->type, h, out))
        return wgv_reader_fail(d->r, "object %u (generation %u) is not a live object of type %u",
                               (unsigned)(h & 0xffffffffu), (unsigned)(h >> 32), m->type);
    return true;
}

static bool decode_string(struct decoder *d, uint8_t *at)
{
    uint64_t len;
    struct wgv_c_string s = {NULL, WGV_C_STRLEN};
    if (!wgv_get_u64(d->r, &len))
        return false;
    if (len != WGV_NULL_LEN) {
        const void *bytes = reader_take(d->r, len);
        if (!bytes || !reader_align(d->r, 8))
            return false;
        /* The reader's bytes are the host's private copy of the command, so
         * the string can stay where it is. */
        s.data = len ? bytes : "";
        s.length = len;
        d->r->payload += len;
    }
    memcpy(at, &s, sizeof(s));
    return true;
}

/* An array element that is a C string: sent as a string, given to the
 * implementation as a NUL-terminated copy in the arena (NULL stays NULL). */
static bool decode_cstring(struct decoder *d, uint8_t *at)
{
    struct wgv_c_string s;
    if (!decode_string(d, (uint8_t *)&s))
        return false;
    char *copy = NULL;
    if (s.data) {
        copy = arena_get(d, 1, s.length + 1);
        if (!copy)
            return false;
        memcpy(copy, s.data, s.length);
        copy[s.length] = '\0';
    }
    memcpy(at, &copy, sizeof(copy));
    return true;
}

static bool decode_bytes(struct decoder *d, uint8_t *at, uint8_t *size_at, unsigned size_bytes)
{
    uint32_t mode;
    uint64_t size;
    const void *data = NULL;
    if (!wgv_get_u32(d->r, &mode) || !wgv_get_u64(d->r, &size))
        return false;
    if (mode == 0) {
        data = reader_take(d->r, size);
        if (!data || !reader_align(d->r, 8))
            return false;
    } else if (mode == 1) {
        uint64_t offset;
        if (!wgv_get_u64(d->r, &offset))
            return false;
        data = d->ops->bulk_get ? d->ops->bulk_get(d->ops->user, offset, size) : NULL;
        if (!data)
            return wgv_reader_fail(d->r, "bulk range %llu+%llu is outside shared memory",
                                   (unsigned long long)offset, (unsigned long long)size);
    } else if (mode == 2) {
        uint32_t resource;
        uint64_t offset;
        if (!wgv_get_u32(d->r, &resource) || !wgv_get_u64(d->r, &offset))
            return false;
        data = d->ops->resource_get ? d->ops->resource_get(d->ops->user, resource, offset, size,
                                                           d->arena) : NULL;
        if (!data)
            return wgv_reader_fail(d->r, "range %llu+%llu of resource %u is not attached memory",
                                   (unsigned long long)offset, (unsigned long long)size, resource);
    } else {
        return wgv_reader_fail(d->r, "byte block mode %u is unknown", mode);
    }
    d->r->payload += size;
    if (!size)
        data = NULL;
    if (size_bytes < 8 && size > UINT32_MAX)
        return wgv_reader_fail(d->r, "byte block of %llu bytes too large",
                               (unsigned long long)size);
    memcpy(at, &data, sizeof(data));
    store_uint(size_at, size_bytes, size);
    return true;
}

static bool decode_array(struct decoder *d, const struct wgv_member *m, uint8_t *base,
                         const struct wgv_member *count_m)
{
    const struct wgv_abi *abi = d->abi;
    uint64_t count;
    if (!wgv_get_u64(d->r, &count))
        return false;
    /* Every element takes at least 4 bytes on the wire: a count larger than
     * what is left is a lie, whatever the elements are. */
    if (count > (d->r->len - d->r->pos) / 4)
        return wgv_reader_fail(d->r, "array count %llu exceeds the %zu bytes left",
                               (unsigned long long)count, d->r->len - d->r->pos);
    if (count_m->size < 8 && count > UINT32_MAX)
        return wgv_reader_fail(d->r, "array count %llu too large", (unsigned long long)count);
    uint8_t *arr = NULL;
    if (count) {
        uint64_t esize;
        if (m->flags & WGV_M_ELEM_ENUM)
            esize = 4;
        else if (m->flags & (WGV_M_ELEM_OBJECT | WGV_M_ELEM_CSTRING))
            esize = sizeof(void *);
        else if (m->flags & WGV_M_ELEM_SCALAR)
            esize = wgv_scalar_size(m->elem);
        else
            esize = abi->shapes[m->type].size;
        arr = arena_get(d, count, esize);
        if (!arr)
            return false;
        for (uint64_t i = 0; i < count; i++) {
            uint8_t *e = arr + esize * i;
            if (m->flags & WGV_M_ELEM_ENUM) {
                uint32_t v;
                if (!get_enum(d, m->type, &v))
                    return false;
                memcpy(e, &v, 4);
            } else if (m->flags & WGV_M_ELEM_OBJECT) {
                struct wgv_member em = *m;
                em.flags &= (uint8_t)~WGV_M_OPTIONAL;
                void *obj;
                if (!get_object(d, &em, &obj))
                    return false;
                memcpy(e, &obj, sizeof(obj));
            } else if (m->flags & WGV_M_ELEM_SCALAR) {
                uint64_t v;
                if (!get_scalar(d, m->elem, &v))
                    return false;
                store_uint(e, (unsigned)esize, v);
            } else if (m->flags & WGV_M_ELEM_CSTRING) {
                if (!decode_cstring(d, e))
                    return false;
            } else {
                if (!decode_shape(d, m->type, e))
                    return false;
            }
        }
    }
    memcpy(base + m->offset, &arr, sizeof(arr));
    store_uint(base + count_m->offset, count_m->size, count);
    return true;
}

static bool decode_chain(struct decoder *d, uint8_t *at)
{
    const struct wgv_abi *abi = d->abi;
    const struct wgv_enum *stypes = &abi->enums[abi->stype_enum];
    uint32_t n;
    if (!wgv_get_u32(d->r, &n))
        return false;
    if (n > WGV_CHAIN_MAX)
        return wgv_reader_fail(d->r, "chain of %u structs exceeds %d", n, WGV_CHAIN_MAX);
    struct wgv_c_chain *first = NULL, **link = &first;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t wire;
        if (!wgv_get_u32(d->r, &wire))
            return false;
        struct wgv_c_chain *c;
        if (wire == WGV_WIRE_ENUM_INVALID) {
            /* The guest's application chained something the wire does not
             * carry: give the implementation an sType it rejects. */
            c = arena_get(d, 1, abi->chained_header_size);
            if (!c)
                return false;
            memset(c, 0, abi->chained_header_size);
            c->stype = stypes->invalid_native;
        } else {
            uint16_t shape = wire < stypes->count ? abi->stype_shape[wire] : 0;
            if (!shape)
                return wgv_reader_fail(d->r, "sType %u may not be chained on the wire", wire);
            const struct wgv_shape *s = &abi->shapes[shape];
            if (!s->size) {
                /* This side lacks the struct: an unknown sType here too. */
                c = arena_get(d, 1, abi->chained_header_size);
                if (!c)
                    return false;
                memset(c, 0, abi->chained_header_size);
                c->stype = stypes->invalid_native;
                struct wgv_arena scratch_arena;
                wgv_arena_init(&scratch_arena, d->arena->limit);
                /* Still walk the body so the stream stays framed. */
                struct wgv_arena *saved = d->arena;
                d->arena = &scratch_arena;
                bool ok = decode_shape(d, shape, NULL);
                d->arena = saved;
                wgv_arena_free(&scratch_arena);
                if (!ok)
                    return false;
            } else {
                c = arena_get(d, 1, s->size);
                if (!c || !decode_shape(d, shape, (uint8_t *)c))
                    return false;
                c->stype = stypes->native[wire];
            }
        }
        c->next = NULL;
        *link = c;
        link = &c->next;
    }
    memcpy(at, &first, sizeof(first));
    return true;
}

/* Decodes a member into a scratch slot and tells whether it held the
 * default (zero/null/empty) value: for members this side lacks. */
static bool decode_absent(struct decoder *d, const struct wgv_shape *s, const struct wgv_member *m)
{
    uint8_t scratch[64] = {0};
    struct wgv_member tmp = *m;
    tmp.flags &= (uint8_t)~WGV_M_ABSENT;
    tmp.flags |= WGV_M_OPTIONAL;
    tmp.offset = 0;
    uint64_t v = 0;
    bool is_default = true;
    switch (m->kind) {
    case WGV_K_LOCAL: case WGV_K_COUNT:
        return true;
    case WGV_K_ENUM: {
        uint32_t wire;
        if (!wgv_get_u32(d->r, &wire))
            return false;
        if (wire != WGV_WIRE_ENUM_INVALID && wire >= d->abi->enums[m->type].count)
            return wgv_reader_fail(d->r, "%s value %u is not on the wire",
                                   d->abi->enums[m->type].name, wire);
        is_default = wire == wgv_enum_to_wire(&d->abi->enums[m->type], 0);
        break;
    }
    case WGV_K_STRING: {
        struct wgv_c_string str;
        if (!decode_string(d, scratch))
            return false;
        memcpy(&str, scratch, sizeof(str));
        is_default = !str.data || !str.length;
        break;
    }
    case WGV_K_OBJECT: {
        void *obj;
        if (!get_object(d, &tmp, &obj))
            return false;
        is_default = obj == NULL;
        break;
    }
    case WGV_K_STRUCT_PTR: case WGV_K_CHAIN: {
        uint32_t present;
        if (!wgv_get_u32(d->r, &present))
            return false;
        if (present)
            return wgv_reader_fail(d->r, "%s: member this side lacks is present", s->name);
        break;
    }
    case WGV_K_ARRAY: case WGV_K_BYTES:
        if (m->kind == WGV_K_BYTES) {
            uint32_t mode;
            if (!wgv_get_u32(d->r, &mode))
                return false;
            if (mode != 0)
                return wgv_reader_fail(d->r, "%s: member this side lacks is present", s->name);
        }
        if (!wgv_get_u64(d->r, &v))
            return false;
        if (v)
            return wgv_reader_fail(d->r, "%s: member this side lacks is present", s->name);
        break;
    case WGV_K_STRUCT:
        if (!decode_shape(d, m->type, NULL))
            return false;
        break;
    default:
        if (!get_scalar(d, m->kind, &v))
            return false;
        is_default = v == 0;
        break;
    }
    /* A value this side's implementation cannot express is its
     * application's error, not the guest's protocol violation: it is
     * reported as a validation error by the caller. */
    if (!is_default && !d->r->unsupported[0])
        snprintf(d->r->unsupported, sizeof(d->r->unsupported),
                 "%s.%s is not supported by the host's WebGPU implementation", s->name, m->name);
    return true;
}

static bool decode_shape(struct decoder *d, uint32_t shape, uint8_t *dst)
{
    const struct wgv_abi *abi = d->abi;
    if (shape >= abi->shape_count)
        return wgv_reader_fail(d->r, "shape %u unknown", shape);
    const struct wgv_shape *s = &abi->shapes[shape];
    if (++d->depth > WGV_DEPTH_MAX)
        return wgv_reader_fail(d->r, "nesting deeper than %d", WGV_DEPTH_MAX);
    /* dst is NULL when walking a struct this side lacks. */
    if (dst) {
        if (s->init)
            memcpy(dst, s->init, s->size);
        else
            memset(dst, 0, s->size);
    }
    for (uint16_t i = 0; i < s->member_count; i++) {
        const struct wgv_member *m = &s->members[i];
        if (!dst || (m->flags & WGV_M_ABSENT)) {
            if (!decode_absent(d, s, m))
                return false;
            continue;
        }
        uint8_t *at = dst + m->offset;
        uint64_t v;
        switch (m->kind) {
        case WGV_K_U8: case WGV_K_U16: case WGV_K_U32: case WGV_K_I32: case WGV_K_F32:
        case WGV_K_U64: case WGV_K_I64: case WGV_K_F64: case WGV_K_USIZE: case WGV_K_BOOL:
        case WGV_K_FUTURE:
            if (!get_scalar(d, m->kind, &v))
                return false;
            store_uint(at, m->size, v);
            break;
        case WGV_K_ENUM: {
            uint32_t native;
            if (!get_enum(d, m->type, &native))
                return false;
            store_uint(at, 4, native);
            break;
        }
        case WGV_K_FLAGS:
            if (!wgv_get_u64(d->r, &v))
                return false;
            store_uint(at, 8, wgv_flags_from_wire(&abi->flagsets[m->type], v));
            break;
        case WGV_K_OBJECT: {
            void *obj;
            if (!get_object(d, m, &obj))
                return false;
            memcpy(at, &obj, sizeof(obj));
            break;
        }
        case WGV_K_NEW_OBJECT:
            if (!wgv_get_u64(d->r, &v))
                return false;
            if (!d->ops->new_object(d->ops->user, m->type, v))
                return wgv_reader_fail(d->r, "object %u (generation %u) cannot be created",
                                       (unsigned)(v & 0xffffffffu), (unsigned)(v >> 32));
            store_uint(at, 8, v);
            break;
        case WGV_K_STRING:
            if (!decode_string(d, at))
                return false;
            break;
        case WGV_K_STRUCT:
            if (!decode_shape(d, m->type, at))
                return false;
            break;
        case WGV_K_STRUCT_PTR: {
            uint32_t present;
            uint8_t *p = NULL;
            if (!wgv_get_u32(d->r, &present))
                return false;
            if (present > 1)
                return wgv_reader_fail(d->r, "pointer presence %u is not 0 or 1", present);
            if (!present && !(m->flags & WGV_M_OPTIONAL))
                return wgv_reader_fail(d->r, "%s: required pointer is null", s->name);
            if (present) {
                p = arena_get(d, 1, abi->shapes[m->type].size);
                if (!p || !decode_shape(d, m->type, p))
                    return false;
            }
            memcpy(at, &p, sizeof(p));
            break;
        }
        case WGV_K_ARRAY:
            if (!decode_array(d, m, dst, &s->members[m->aux]))
                return false;
            break;
        case WGV_K_CHAIN:
            if (!decode_chain(d, at))
                return false;
            break;
        case WGV_K_BYTES: {
            const struct wgv_member *size_m = &s->members[m->aux];
            if (!decode_bytes(d, at, dst + size_m->offset, size_m->size))
                return false;
            break;
        }
        case WGV_K_COUNT:
        case WGV_K_LOCAL:
            break;
        default:
            return wgv_reader_fail(d->r, "%s: member kind %u unknown", s->name, m->kind);
        }
    }
    d->depth--;
    return true;
}

bool wgv_decode(const struct wgv_abi *abi, const struct wgv_codec_ops *ops,
                uint32_t shape, void *dst, struct wgv_reader *r, struct wgv_arena *arena)
{
    struct decoder d = {abi, ops, r, arena, 0};
    if (!decode_shape(&d, shape, dst))
        return false;
    return reader_align(r, 8);
}

