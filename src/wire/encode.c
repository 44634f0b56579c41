/* The encoder: native structs of one side's ABI to wire bytes, walking the
 * generated shape tables (codec.h), and the growing writer it writes into.
 * It only ever reads the sender's own memory. */
#include "codec-internal.h"

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- writer */

void wgv_writer_init(struct wgv_writer *w)
{
    memset(w, 0, sizeof(*w));
}

void wgv_writer_init_fixed(struct wgv_writer *w, void *data, size_t cap)
{
    memset(w, 0, sizeof(*w));
    w->data = data;
    w->cap = cap;
    w->external = true;
}

void wgv_writer_free(struct wgv_writer *w)
{
    if (!w->external)
        free(w->data);
    memset(w, 0, sizeof(*w));
}

void *wgv_writer_put(struct wgv_writer *w, const void *src, size_t n)
{
    if (w->failed)
        return NULL;
    if (n == 0)
        return w->data ? w->data + w->len : NULL;
    if (n > w->cap - w->len) {
        if (w->external || n > SIZE_MAX / 2 - w->len) {
            w->failed = true;
            return NULL;
        }
        size_t cap = w->cap ? w->cap : 256;
        while (cap - w->len < n)
            cap *= 2;
        uint8_t *d = realloc(w->data, cap);
        if (!d) {
            w->failed = true;
            return NULL;
        }
        w->data = d;
        w->cap = cap;
    }
    uint8_t *dst = w->data + w->len;
    if (src)
        memcpy(dst, src, n);
    else
        memset(dst, 0, n);
    w->len += n;
    return dst;
}

void wgv_writer_align(struct wgv_writer *w, size_t a)
{
    size_t pad = (a - (w->len & (a - 1))) & (a - 1);
    if (pad)
        wgv_writer_put(w, NULL, pad);
}

void wgv_put_u32(struct wgv_writer *w, uint32_t v)
{
    wgv_writer_align(w, 4);
    wgv_writer_put(w, &v, 4);
}

void wgv_put_u64(struct wgv_writer *w, uint64_t v)
{
    wgv_writer_align(w, 8);
    wgv_writer_put(w, &v, 8);
}

/* ---------------------------------------------------------------- encode */

static uint64_t load_uint(const void *p, unsigned size)
{
    switch (size) {
    case 1: { uint8_t v; memcpy(&v, p, 1); return v; }
    case 2: { uint16_t v; memcpy(&v, p, 2); return v; }
    case 4: { uint32_t v; memcpy(&v, p, 4); return v; }
    default: { uint64_t v; memcpy(&v, p, 8); return v; }
    }
}

static void put_scalar(struct wgv_writer *w, uint8_t kind, uint64_t v)
{
    if (wgv_scalar_size(kind) == 8)
        wgv_put_u64(w, v);
    else
        wgv_put_u32(w, (uint32_t)v);
}

static void encode_shape(const struct wgv_abi *abi, const struct wgv_codec_ops *ops,
                         uint32_t shape, const uint8_t *src, struct wgv_writer *w);

static void put_padded(struct wgv_writer *w, const void *data, uint64_t len)
{
    wgv_writer_put(w, data, len);
    wgv_writer_align(w, 8);
}

static void encode_string(struct wgv_writer *w, const uint8_t *at)
{
    struct wgv_c_string s;
    memcpy(&s, at, sizeof(s));
    if (!s.data) {
        /* {NULL, WGPU_STRLEN} is the null string, {NULL, 0} the empty one;
         * anything else with a NULL pointer has no bytes to send. */
        wgv_put_u64(w, s.length == 0 ? 0 : WGV_NULL_LEN);
        return;
    }
    uint64_t len = s.length == WGV_C_STRLEN ? strlen(s.data) : s.length;
    wgv_put_u64(w, len);
    put_padded(w, s.data, len);
}

static void encode_bytes(const struct wgv_codec_ops *ops, struct wgv_writer *w,
                         const void *data, uint64_t size)
{
    uint64_t offset;
    if (!data)
        size = 0;
    if (size > WGV_INLINE_BYTES_MAX && ops->bulk_put &&
        ops->bulk_put(ops->user, data, size, &offset)) {
        wgv_put_u32(w, 1);
        wgv_put_u64(w, size);
        wgv_put_u64(w, offset);
        return;
    }
    wgv_put_u32(w, 0);
    wgv_put_u64(w, size);
    put_padded(w, data, size);
}

/* Whether a link is one of the front's own that asks for nothing. */
static bool neutral_link(const struct wgv_abi *abi, const struct wgv_c_chain *link)
{
    for (uint32_t i = 0; i < abi->neutral_link_count; i++) {
        const struct wgv_neutral_link *nl = &abi->neutral_links[i];
        if (nl->stype != link->stype)
            continue;
        for (uint32_t m = 0; m < nl->member_count; m++) {
            const uint8_t *p = (const uint8_t *)link + nl->members[m].offset;
            for (uint16_t b = 0; b < nl->members[m].size; b++)
                if (p[b])
                    return false;
        }
        return true;
    }
    return false;
}

/* The next link from `link` on that is not neutral. */
static const struct wgv_c_chain *skip_neutral(const struct wgv_abi *abi, const struct wgv_c_chain *link,
                                              uint32_t *budget)
{
    while (link && *budget > 0 && neutral_link(abi, link)) {
        link = link->next;
        --*budget;
    }
    return link;
}

static void encode_chain(const struct wgv_abi *abi, const struct wgv_codec_ops *ops,
                         const struct wgv_c_chain *link, struct wgv_writer *w)
{
    const struct wgv_enum *stypes = &abi->enums[abi->stype_enum];
    uint32_t n = 0;
    /* budget bounds the walk on a cycle made only of neutral links. */
    uint32_t budget = 4 * WGV_CHAIN_MAX;
    for (const struct wgv_c_chain *l = skip_neutral(abi, link, &budget); l && n <= WGV_CHAIN_MAX;
         l = skip_neutral(abi, l->next, &budget))
        n++;
    /* A longer chain (or a cycle) is sent cut short, with one invalid link
     * so that the receiver's implementation reports it. */
    bool cut = n > WGV_CHAIN_MAX;
    if (cut)
        n = WGV_CHAIN_MAX;
    wgv_put_u32(w, n);
    budget = 4 * WGV_CHAIN_MAX;
    link = skip_neutral(abi, link, &budget);
    for (uint32_t i = 0; i < n; i++, link = skip_neutral(abi, link->next, &budget)) {
        uint32_t wire = wgv_enum_to_wire(stypes, link->stype);
        uint16_t shape = wire < stypes->count ? abi->stype_shape[wire] : 0;
        if ((cut && i == n - 1) || !shape || !abi->shapes[shape].size) {
            wgv_put_u32(w, WGV_WIRE_ENUM_INVALID);
            continue;
        }
        wgv_put_u32(w, wire);
        encode_shape(abi, ops, shape, (const uint8_t *)link, w);
    }
}

static void encode_array(const struct wgv_abi *abi, const struct wgv_codec_ops *ops,
                         const struct wgv_member *m, const uint8_t *base,
                         const struct wgv_member *count_m, struct wgv_writer *w)
{
    const uint8_t *arr;
    memcpy(&arr, base + m->offset, sizeof(arr));
    uint64_t count = load_uint(base + count_m->offset, count_m->size);
    if (!arr)
        count = 0;
    wgv_put_u64(w, count);
    for (uint64_t i = 0; i < count && !w->failed; i++) {
        if (m->flags & WGV_M_ELEM_ENUM) {
            uint32_t v;
            memcpy(&v, arr + 4 * i, 4);
            wgv_put_u32(w, wgv_enum_to_wire(&abi->enums[m->type], v));
        } else if (m->flags & WGV_M_ELEM_OBJECT) {
            const void *obj;
            memcpy(&obj, arr + sizeof(void *) * i, sizeof(obj));
            wgv_put_u64(w, obj ? ops->object_to_wire(ops->user, m->type, obj) : 0);
        } else if (m->flags & WGV_M_ELEM_SCALAR) {
            unsigned sz = wgv_scalar_size(m->elem);
            put_scalar(w, m->elem, load_uint(arr + sz * i, sz));
        } else if (m->flags & WGV_M_ELEM_CSTRING) {
            const char *str;
            memcpy(&str, arr + sizeof(str) * i, sizeof(str));
            struct wgv_c_string s = {str, WGV_C_STRLEN};
            encode_string(w, (const uint8_t *)&s);
        } else {
            const struct wgv_shape *s = &abi->shapes[m->type];
            encode_shape(abi, ops, m->type, arr + (size_t)s->size * i, w);
        }
    }
}

static void encode_shape(const struct wgv_abi *abi, const struct wgv_codec_ops *ops,
                         uint32_t shape, const uint8_t *src, struct wgv_writer *w)
{
    const struct wgv_shape *s = &abi->shapes[shape];
    for (uint16_t i = 0; i < s->member_count && !w->failed; i++) {
        const struct wgv_member *m = &s->members[i];
        /* src is NULL for a nested struct this side lacks. */
        if (!src || (m->flags & WGV_M_ABSENT)) {
            /* The sender's ABI lacks the member: send its default. */
            switch (m->kind) {
            case WGV_K_LOCAL: case WGV_K_COUNT: break;
            case WGV_K_STRING: wgv_put_u64(w, WGV_NULL_LEN); break;
            case WGV_K_STRUCT_PTR: case WGV_K_CHAIN: wgv_put_u32(w, 0); break;
            case WGV_K_ARRAY: wgv_put_u64(w, 0); break;
            case WGV_K_BYTES: wgv_put_u32(w, 0); wgv_put_u64(w, 0); break;
            case WGV_K_ENUM: wgv_put_u32(w, wgv_enum_to_wire(&abi->enums[m->type], 0)); break;
            case WGV_K_STRUCT: encode_shape(abi, ops, m->type, NULL, w); break;
            default: put_scalar(w, m->kind, 0); break;
            }
            continue;
        }
        const uint8_t *at = src + m->offset;
        switch (m->kind) {
        case WGV_K_U8: case WGV_K_U16: case WGV_K_U32: case WGV_K_I32: case WGV_K_F32:
        case WGV_K_U64: case WGV_K_I64: case WGV_K_F64: case WGV_K_USIZE: case WGV_K_FUTURE:
            put_scalar(w, m->kind, load_uint(at, m->size));
            break;
        case WGV_K_BOOL:
            wgv_put_u32(w, load_uint(at, m->size) != 0);
            break;
        case WGV_K_ENUM:
            wgv_put_u32(w, wgv_enum_to_wire(&abi->enums[m->type], (uint32_t)load_uint(at, 4)));
            break;
        case WGV_K_FLAGS:
            wgv_put_u64(w, wgv_flags_to_wire(&abi->flagsets[m->type], load_uint(at, 8)));
            break;
        case WGV_K_OBJECT:
        case WGV_K_NEW_OBJECT: {
            const void *obj;
            memcpy(&obj, at, sizeof(obj));
            wgv_put_u64(w, obj ? ops->object_to_wire(ops->user, m->type, obj) : 0);
            break;
        }
        case WGV_K_STRING:
            encode_string(w, at);
            break;
        case WGV_K_STRUCT:
            encode_shape(abi, ops, m->type, at, w);
            break;
        case WGV_K_STRUCT_PTR: {
            const uint8_t *p;
            memcpy(&p, at, sizeof(p));
            wgv_put_u32(w, p != NULL);
            if (p)
                encode_shape(abi, ops, m->type, p, w);
            break;
        }
        case WGV_K_ARRAY:
            encode_array(abi, ops, m, src, &s->members[m->aux], w);
            break;
        case WGV_K_CHAIN: {
            const struct wgv_c_chain *link;
            memcpy(&link, at, sizeof(link));
            encode_chain(abi, ops, link, w);
            break;
        }
        case WGV_K_BYTES: {
            const void *data;
            memcpy(&data, at, sizeof(data));
            const struct wgv_member *size_m = &s->members[m->aux];
            encode_bytes(ops, w, data, load_uint(src + size_m->offset, size_m->size));
            break;
        }
        case WGV_K_COUNT:
        case WGV_K_LOCAL:
            break;
        }
    }
}

void wgv_encode(const struct wgv_abi *abi, const struct wgv_codec_ops *ops,
                uint32_t shape, const void *src, struct wgv_writer *w)
{
    encode_shape(abi, ops, shape, src, w);
    wgv_writer_align(w, 8);
}
