/* The wire codec over the generated tables of both ABIs.
 *
 * Round trip: for every shape (struct, command arguments, callback reply),
 * pseudo-random valid values in the standard ABI are encoded by the guest's
 * tables, decoded into the backend's ABI by the host's, encoded back and
 * decoded into the standard ABI again, then compared member by member.
 *
 * The same source is built once per guest front (standard, Dawn,
 * wgpu-native): the
 * front's generated tables are `wgv_guest_abi`. FRONT_ABSENT_SHAPES is how
 * many shapes that front's ABI lacks (structs of the other ABI, commands of
 * wire extensions it has no function for), FRONT_ABSENT_COMMANDS how many
 * of them are commands.
 *
 * Rejection: every truncation of every command is refused, and overwriting
 * any 32-bit word with hostile values decodes or fails without reading out
 * of bounds (the suite runs under AddressSanitizer in the sanitizer build). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "fast-parity.h"
#include "harness.h"
#include "protocol.h"
#include "wgv-wire-ids.h"

extern const struct wgv_abi wgv_guest_abi;
extern const struct wgv_abi wgv_host_abi;
extern const struct wgv_fast_encoder wgv_guest_fast[WGV_OP_COUNT];

#define INVALID_NATIVE 0x7FFFFFFEu

struct c_string {
    const char *data;
    size_t length;
};
struct c_chain {
    struct c_chain *next;
    uint32_t stype;
};

/* ------------------------------------------------------------ randomness */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static uint64_t rnd_below(uint64_t n)
{
    return n ? rnd() % n : 0;
}

/* --------------------------------------------------------- object codec */

/* Objects are fake pointers whose value is their handle. */
static uint64_t obj_to_wire(void *user, uint16_t type, const void *native)
{
    (void)user, (void)type;
    return (uint64_t)(uintptr_t)native;
}

static bool obj_from_wire(void *user, uint16_t type, uint64_t handle, void **native)
{
    (void)user, (void)type;
    *native = (void *)(uintptr_t)handle;
    return true;
}

static bool new_obj(void *user, uint16_t type, uint64_t handle)
{
    (void)user, (void)type;
    return handle != 0;
}

static const struct wgv_codec_ops ops = {
    .object_to_wire = obj_to_wire, .object_from_wire = obj_from_wire, .new_object = new_obj};

/* ------------------------------------------------------------ generation */

static uint64_t scalar_bits(uint8_t kind)
{
    switch (kind) {
    case WGV_K_U8: return rnd() & 0xff;
    case WGV_K_U16: return rnd() & 0xffff;
    case WGV_K_U32: case WGV_K_I32: return rnd() & 0xffffffffu;
    case WGV_K_F32: { float f = (float)rnd_below(1000) / 8.0f; uint32_t u; memcpy(&u, &f, 4); return u; }
    case WGV_K_F64: { double d = (double)rnd_below(100000) / 16.0; uint64_t u; memcpy(&u, &d, 8); return u; }
    default: return rnd();
    }
}

static void store(void *p, unsigned size, uint64_t v)
{
    switch (size) {
    case 1: { uint8_t x = (uint8_t)v; memcpy(p, &x, 1); break; }
    case 2: { uint16_t x = (uint16_t)v; memcpy(p, &x, 2); break; }
    case 4: { uint32_t x = (uint32_t)v; memcpy(p, &x, 4); break; }
    default: memcpy(p, &v, 8); break;
    }
}

static uint64_t load(const void *p, unsigned size)
{
    switch (size) {
    case 1: { uint8_t x; memcpy(&x, p, 1); return x; }
    case 2: { uint16_t x; memcpy(&x, p, 2); return x; }
    case 4: { uint32_t x; memcpy(&x, p, 4); return x; }
    default: { uint64_t x; memcpy(&x, p, 8); return x; }
    }
}

static unsigned elem_size(uint8_t kind)
{
    return (kind == WGV_K_U8) ? 1 : (kind == WGV_K_U16) ? 2
         : (kind == WGV_K_U32 || kind == WGV_K_I32 || kind == WGV_K_F32 || kind == WGV_K_BOOL) ? 4 : 8;
}

/* A value of enum `t` that both sides have. */
static uint32_t pick_enum(uint16_t t)
{
    const struct wgv_enum *g = &wgv_guest_abi.enums[t], *h = &wgv_host_abi.enums[t];
    for (int tries = 0; tries < 64; tries++) {
        uint32_t w = (uint32_t)rnd_below(g->count);
        if (h->native[w] != INVALID_NATIVE)
            return g->native[w];
    }
    return g->native[0];
}

static uint64_t pick_flags(uint16_t t)
{
    const struct wgv_flagset *g = &wgv_guest_abi.flagsets[t], *h = &wgv_host_abi.flagsets[t];
    uint64_t v = 0;
    for (uint32_t i = 0; i < g->count; i++)
        if (h->native[i] && (rnd() & 1))
            v |= g->native[i];
    return v;
}

static bool shape_on_both(uint32_t shape)
{
    return wgv_guest_abi.shapes[shape].size && wgv_host_abi.shapes[shape].size;
}

static void fill(struct wgv_arena *a, uint32_t shape, uint8_t *dst, int depth);

static void *alloc0(struct wgv_arena *a, size_t n)
{
    void *p = wgv_arena_alloc(a, n ? n : 1, 16);
    memset(p, 0, n ? n : 1);
    return p;
}

static void fill_chain(struct wgv_arena *a, uint8_t *at, int depth)
{
    const struct wgv_enum *st = &wgv_guest_abi.enums[wgv_guest_abi.stype_enum];
    struct c_chain *first = NULL, **link = &first;
    unsigned n = depth > 2 ? 0 : (unsigned)rnd_below(3);
    for (unsigned i = 0; i < n; i++) {
        uint32_t w = (uint32_t)rnd_below(st->count);
        uint16_t shape = wgv_guest_abi.stype_shape[w];
        if (!shape || !shape_on_both(shape))
            continue;
        struct c_chain *c = alloc0(a, wgv_guest_abi.shapes[shape].size);
        fill(a, shape, (uint8_t *)c, depth + 1);
        c->stype = st->native[w];
        *link = c;
        link = &c->next;
    }
    memcpy(at, &first, sizeof(first));
}

static void fill(struct wgv_arena *a, uint32_t shape, uint8_t *dst, int depth)
{
    const struct wgv_shape *s = &wgv_guest_abi.shapes[shape];
    const struct wgv_shape *hs = &wgv_host_abi.shapes[shape];
    if (s->init)
        memcpy(dst, s->init, s->size);
    for (uint16_t i = 0; i < s->member_count; i++) {
        const struct wgv_member *m = &s->members[i];
        if ((hs->members[i].flags | m->flags) & WGV_M_ABSENT)
            continue; /* a side cannot hold it: keep the default */
        uint8_t *at = dst + m->offset;
        switch (m->kind) {
        case WGV_K_U8: case WGV_K_U16: case WGV_K_U32: case WGV_K_I32: case WGV_K_F32:
        case WGV_K_U64: case WGV_K_I64: case WGV_K_F64: case WGV_K_USIZE: case WGV_K_FUTURE:
            store(at, m->size, scalar_bits(m->kind));
            break;
        case WGV_K_BOOL: store(at, 4, rnd() & 1); break;
        case WGV_K_ENUM: store(at, 4, pick_enum(m->type)); break;
        case WGV_K_FLAGS: store(at, 8, pick_flags(m->type)); break;
        case WGV_K_OBJECT: case WGV_K_NEW_OBJECT: {
            uint64_t h = (m->flags & WGV_M_OPTIONAL) && !(rnd() & 3)
                             ? 0 : ((rnd_below(1000) + 1) | ((rnd_below(50) + 1) << 32));
            store(at, 8, h);
            break;
        }
        case WGV_K_STRING: {
            struct c_string str = {NULL, SIZE_MAX};
            if (rnd() % 5) {
                size_t n = (size_t)rnd_below(24);
                char *p = alloc0(a, n + 1);
                for (size_t k = 0; k < n; k++)
                    p[k] = (char)('a' + rnd_below(26));
                str.data = p;
                str.length = n;
            }
            memcpy(at, &str, sizeof(str));
            break;
        }
        case WGV_K_STRUCT:
            fill(a, m->type, at, depth + 1);
            break;
        case WGV_K_STRUCT_PTR: {
            uint8_t *p = NULL;
            if (!(m->flags & WGV_M_OPTIONAL) || (rnd() & 1)) {
                p = alloc0(a, wgv_guest_abi.shapes[m->type].size);
                fill(a, m->type, p, depth + 1);
            }
            memcpy(at, &p, sizeof(p));
            break;
        }
        case WGV_K_ARRAY: {
            const struct wgv_member *cm = &s->members[m->aux];
            uint64_t n = depth > 3 ? 0 : rnd_below(4);
            size_t es = (m->flags & WGV_M_ELEM_ENUM) ? 4
                      : (m->flags & (WGV_M_ELEM_OBJECT | WGV_M_ELEM_CSTRING)) ? 8
                      : (m->flags & WGV_M_ELEM_SCALAR) ? elem_size(m->elem)
                      : wgv_guest_abi.shapes[m->type].size;
            uint8_t *arr = n ? alloc0(a, es * n) : NULL;
            for (uint64_t k = 0; k < n; k++) {
                uint8_t *e = arr + es * k;
                if (m->flags & WGV_M_ELEM_ENUM)
                    store(e, 4, pick_enum(m->type));
                else if (m->flags & WGV_M_ELEM_OBJECT)
                    store(e, 8, (rnd_below(1000) + 1) | (1ull << 32));
                else if (m->flags & WGV_M_ELEM_SCALAR)
                    store(e, (unsigned)es, scalar_bits(m->elem));
                else if (m->flags & WGV_M_ELEM_CSTRING) {
                    size_t len = (size_t)rnd_below(24);
                    char *str = alloc0(a, len + 1);
                    for (size_t j = 0; j < len; j++)
                        str[j] = (char)('a' + rnd_below(26));
                    memcpy(e, &str, sizeof(str));
                } else
                    fill(a, m->type, e, depth + 1);
            }
            memcpy(at, &arr, sizeof(arr));
            store(dst + cm->offset, cm->size, n);
            break;
        }
        case WGV_K_CHAIN:
            fill_chain(a, at, depth);
            break;
        case WGV_K_BYTES: {
            const struct wgv_member *sm = &s->members[m->aux];
            size_t n = (size_t)rnd_below(64);
            uint8_t *p = n ? alloc0(a, n) : NULL;
            for (size_t k = 0; k < n; k++)
                p[k] = (uint8_t)rnd();
            memcpy(at, &p, sizeof(p));
            store(dst + sm->offset, sm->size, n);
            break;
        }
        default:
            break;
        }
    }
}

/* ------------------------------------------------------------ comparison */

static char mismatch[256];

static bool same(uint32_t shape, const uint8_t *x, const uint8_t *y);

static bool same_chain(const struct c_chain *a, const struct c_chain *b)
{
    const struct wgv_enum *st = &wgv_guest_abi.enums[wgv_guest_abi.stype_enum];
    for (; a || b; a = a->next, b = b->next) {
        if (!a || !b || a->stype != b->stype) {
            snprintf(mismatch, sizeof(mismatch), "chain differs");
            return false;
        }
        uint32_t w = wgv_enum_to_wire(st, a->stype);
        if (!same(wgv_guest_abi.stype_shape[w], (const uint8_t *)a, (const uint8_t *)b))
            return false;
    }
    return true;
}

static bool same(uint32_t shape, const uint8_t *x, const uint8_t *y)
{
    const struct wgv_shape *s = &wgv_guest_abi.shapes[shape];
    for (uint16_t i = 0; i < s->member_count; i++) {
        const struct wgv_member *m = &s->members[i];
        const uint8_t *a = x + m->offset, *b = y + m->offset;
        bool ok = true;
        if (m->flags & WGV_M_ABSENT)
            continue; /* this front's ABI lacks it */
        switch (m->kind) {
        case WGV_K_LOCAL: case WGV_K_COUNT:
            break;
        case WGV_K_BOOL:
            ok = (load(a, 4) != 0) == (load(b, 4) != 0);
            break;
        case WGV_K_STRING: {
            struct c_string p, q;
            memcpy(&p, a, sizeof(p));
            memcpy(&q, b, sizeof(q));
            ok = (!p.data) == (!q.data) &&
                 (!p.data || (p.length == q.length && !memcmp(p.data, q.data, p.length)));
            break;
        }
        case WGV_K_STRUCT:
            if (!same(m->type, a, b))
                return false;
            break;
        case WGV_K_STRUCT_PTR: {
            const uint8_t *p, *q;
            memcpy(&p, a, sizeof(p));
            memcpy(&q, b, sizeof(q));
            if ((!p) != (!q))
                ok = false;
            else if (p && !same(m->type, p, q))
                return false;
            break;
        }
        case WGV_K_ARRAY: case WGV_K_BYTES: {
            const struct wgv_member *cm = &s->members[m->aux];
            uint64_t n = load(x + cm->offset, cm->size);
            if (n != load(y + cm->offset, cm->size)) {
                ok = false;
                break;
            }
            const uint8_t *p, *q;
            memcpy(&p, a, sizeof(p));
            memcpy(&q, b, sizeof(q));
            if (m->kind == WGV_K_BYTES) {
                ok = !n || !memcmp(p, q, n);
            } else if (m->flags & (WGV_M_ELEM_ENUM | WGV_M_ELEM_OBJECT | WGV_M_ELEM_SCALAR)) {
                size_t es = (m->flags & WGV_M_ELEM_ENUM) ? 4 : (m->flags & WGV_M_ELEM_OBJECT) ? 8
                                                                                    : elem_size(m->elem);
                ok = !n || !memcmp(p, q, es * n);
            } else if (m->flags & WGV_M_ELEM_CSTRING) {
                for (uint64_t k = 0; k < n && ok; k++) {
                    const char *ps, *qs;
                    memcpy(&ps, p + 8 * k, sizeof(ps));
                    memcpy(&qs, q + 8 * k, sizeof(qs));
                    ok = (!ps) == (!qs) && (!ps || !strcmp(ps, qs));
                }
            } else {
                size_t es = wgv_guest_abi.shapes[m->type].size;
                for (uint64_t k = 0; k < n; k++)
                    if (!same(m->type, p + es * k, q + es * k))
                        return false;
            }
            break;
        }
        case WGV_K_CHAIN: {
            const struct c_chain *p, *q;
            memcpy(&p, a, sizeof(p));
            memcpy(&q, b, sizeof(q));
            if (!same_chain(p, q))
                return false;
            break;
        }
        default:
            ok = load(a, m->size) == load(b, m->size);
            break;
        }
        if (!ok) {
            snprintf(mismatch, sizeof(mismatch), "%s.%s differs", s->name, m->name);
            return false;
        }
    }
    return true;
}

/* ------------------------------------------------------------------ tests */

static int shapes_tested;

/* std value -> wire -> backend value -> wire -> std value, compared. */
static bool round_trip(uint32_t shape, char *why, size_t whylen)
{
    struct wgv_arena a;
    wgv_arena_init(&a, 1u << 24);
    uint8_t *orig = alloc0(&a, wgv_guest_abi.shapes[shape].size);
    fill(&a, shape, orig, 0);

    struct wgv_writer w1, w2;
    wgv_writer_init(&w1);
    wgv_writer_init(&w2);
    wgv_encode(&wgv_guest_abi, &ops, shape, orig, &w1);

    bool ok = false;
    struct wgv_reader r;
    uint8_t *host = alloc0(&a, wgv_host_abi.shapes[shape].size);
    wgv_reader_init(&r, w1.data, w1.len);
    if (!wgv_decode(&wgv_host_abi, &ops, shape, host, &r, &a) || r.pos != r.len) {
        snprintf(why, whylen, "host decode: %s", r.error ? r.error : "bytes left over");
        goto out;
    }
    if (r.unsupported[0]) {
        snprintf(why, whylen, "host decode flagged: %s", r.unsupported);
        goto out;
    }
    wgv_encode(&wgv_host_abi, &ops, shape, host, &w2);
    if (w1.len != w2.len || (w1.len && memcmp(w1.data, w2.data, w1.len))) {
        snprintf(why, whylen, "re-encoding differs (%zu vs %zu bytes)", w1.len, w2.len);
        goto out;
    }
    uint8_t *back = alloc0(&a, wgv_guest_abi.shapes[shape].size);
    wgv_reader_init(&r, w2.data, w2.len);
    if (!wgv_decode(&wgv_guest_abi, &ops, shape, back, &r, &a)) {
        snprintf(why, whylen, "guest decode: %s", r.error);
        goto out;
    }
    if (!same(shape, orig, back)) {
        snprintf(why, whylen, "%s", mismatch);
        goto out;
    }
    ok = true;
out:
    wgv_writer_free(&w1);
    wgv_writer_free(&w2);
    wgv_arena_free(&a);
    return ok;
}

static void test_every_shape_round_trips_through_both_abis(void)
{
    int absent = 0;
    for (uint32_t shape = 1; shape < WGV_SHAPE_COUNT; shape++) {
        if (!shape_on_both(shape)) {
            absent++;
            continue;
        }
        shapes_tested++;
        for (int iter = 0; iter < 25; iter++) {
            char why[256];
            if (!round_trip(shape, why, sizeof(why))) {
                CHECK_MSG(0, "%s (iteration %d): %s", wgv_guest_abi.shapes[shape].name, iter, why);
                break;
            }
        }
    }
    /* Only what one ABI lacks is skipped. */
    CHECK_MSG(absent == FRONT_ABSENT_SHAPES && shapes_tested + absent == WGV_SHAPE_COUNT - 1,
              "%d shapes tested, %d skipped", shapes_tested, absent);
}

static void test_every_command_and_reply_has_a_shape(void)
{
    int absent = 0;
    for (unsigned op = 1; op < WGV_OP_COUNT; op++) {
        uint32_t shape = wgv_command_shape[op];
        CHECK_MSG(wgv_host_abi.shapes[shape].size, "%s", wgv_command_name[op]);
        absent += !wgv_guest_abi.shapes[shape].size;
    }
    CHECK_MSG(absent == FRONT_ABSENT_COMMANDS, "%d commands this front lacks", absent);
    for (unsigned cb = 1; cb < WGV_CB_COUNT; cb++)
        CHECK_MSG(shape_on_both(wgv_callback_shape[cb]), "callback %u", cb);
}

/* A valid encoding of random arguments of a command. */
static void encode_command(unsigned op, struct wgv_arena *a, struct wgv_writer *w)
{
    uint32_t shape = wgv_command_shape[op];
    uint8_t *args = alloc0(a, wgv_guest_abi.shapes[shape].size);
    fill(a, shape, args, 0);
    wgv_encode(&wgv_guest_abi, &ops, shape, args, w);
}

static void test_every_truncated_command_is_refused(void)
{
    for (unsigned op = 1; op < WGV_OP_COUNT; op++) {
        uint32_t shape = wgv_command_shape[op];
        for (int iter = 0; iter < 4; iter++) {
            struct wgv_arena a, scratch;
            wgv_arena_init(&a, 1u << 24);
            wgv_arena_init(&scratch, 1u << 24);
            struct wgv_writer w;
            wgv_writer_init(&w);
            encode_command(op, &a, &w);
            for (size_t len = 0; len < w.len; len++) {
                /* A private copy of exactly len bytes, so ASan sees any read past it. */
                uint8_t *copy = malloc(len ? len : 1);
                memcpy(copy, w.data, len);
                struct wgv_reader r;
                wgv_reader_init(&r, copy, len);
                uint8_t *dst = alloc0(&scratch, wgv_host_abi.shapes[shape].size);
                bool ok = wgv_decode(&wgv_host_abi, &ops, shape, dst, &r, &scratch);
                CHECK_MSG(!ok, "%s truncated to %zu of %zu bytes decoded", wgv_command_name[op], len, w.len);
                free(copy);
                wgv_arena_reset(&scratch);
            }
            wgv_writer_free(&w);
            wgv_arena_free(&a);
            wgv_arena_free(&scratch);
        }
    }
}

static void test_hostile_words_never_read_out_of_bounds(void)
{
    static const uint32_t hostile[] = {0xFFFFFFFFu, 0x7FFFFFFFu, 0x80000000u, 0x10000u, 1000000u, 3};
    unsigned refused = 0, total = 0;
    for (unsigned op = 1; op < WGV_OP_COUNT; op++) {
        uint32_t shape = wgv_command_shape[op];
        struct wgv_arena a, scratch;
        wgv_arena_init(&a, 1u << 24);
        wgv_arena_init(&scratch, 1u << 22);
        struct wgv_writer w;
        wgv_writer_init(&w);
        encode_command(op, &a, &w);
        for (size_t pos = 0; pos + 4 <= w.len; pos += 4) {
            for (size_t h = 0; h < sizeof(hostile) / sizeof(hostile[0]); h++) {
                uint8_t *copy = malloc(w.len);
                memcpy(copy, w.data, w.len);
                memcpy(copy + pos, &hostile[h], 4);
                struct wgv_reader r;
                wgv_reader_init(&r, copy, w.len);
                uint8_t *dst = alloc0(&scratch, wgv_host_abi.shapes[shape].size);
                if (!wgv_decode(&wgv_host_abi, &ops, shape, dst, &r, &scratch))
                    refused++;
                total++;
                free(copy);
                wgv_arena_reset(&scratch);
            }
        }
        wgv_writer_free(&w);
        wgv_arena_free(&a);
        wgv_arena_free(&scratch);
    }
    /* Most corruptions break the framing; all of them ran without a bad read. */
    CHECK_MSG(refused > total / 4, "%u of %u corruptions refused", refused, total);
}

static void test_unknown_stype_on_the_wire_is_refused(void)
{
    /* wgpuDeviceCreateShaderModule(device, descriptor): descriptor present,
     * chain with one link whose sType is past the wire's list. */
    const struct wgv_enum *st = &wgv_guest_abi.enums[wgv_guest_abi.stype_enum];
    struct wgv_writer w;
    wgv_writer_init(&w);
    wgv_put_u64(&w, 1 | (1ull << 32)); /* device */
    wgv_put_u32(&w, 1);                /* descriptor present */
    wgv_put_u32(&w, 1);                /* one chain link */
    wgv_put_u32(&w, st->count + 5);    /* unknown sType */
    for (int i = 0; i < 8; i++)
        wgv_put_u64(&w, 0);
    struct wgv_reader r;
    struct wgv_arena a;
    wgv_arena_init(&a, 1u << 20);
    wgv_reader_init(&r, w.data, w.len);
    uint32_t shape = wgv_command_shape[WGV_OP_wgpuDeviceCreateShaderModule];
    uint8_t *dst = alloc0(&a, wgv_host_abi.shapes[shape].size);
    CHECK(!wgv_decode(&wgv_host_abi, &ops, shape, dst, &r, &a));
    CHECK_MSG(r.error && strstr(r.error, "sType"), "error: %s", r.error ? r.error : "none");
    wgv_writer_free(&w);
    wgv_arena_free(&a);
}

static void test_array_count_larger_than_input_is_refused(void)
{
    /* wgpuQueueSubmit(queue, commandCount, commands): a count of 2^60. */
    struct wgv_writer w;
    wgv_writer_init(&w);
    wgv_put_u64(&w, 1 | (1ull << 32));
    wgv_put_u64(&w, 1ull << 60);
    wgv_put_u64(&w, 1 | (1ull << 32));
    struct wgv_reader r;
    struct wgv_arena a;
    wgv_arena_init(&a, 1u << 20);
    wgv_reader_init(&r, w.data, w.len);
    uint32_t shape = wgv_command_shape[WGV_OP_wgpuQueueSubmit];
    uint8_t *dst = alloc0(&a, wgv_host_abi.shapes[shape].size);
    CHECK(!wgv_decode(&wgv_host_abi, &ops, shape, dst, &r, &a));
    CHECK_MSG(r.error && strstr(r.error, "count"), "error: %s", r.error ? r.error : "none");
    wgv_writer_free(&w);
    wgv_arena_free(&a);
}

static void test_enum_translation_follows_names(void)
{
    /* RGBA8Unorm is 0x16 in the standard ABI and 0x12 in the pinned Dawn
     * (FRONT_RGBA8UNORM: its value in this front's). */
    const struct wgv_enum *g = &wgv_guest_abi.enums[WGV_ENUM_TextureFormat];
    const struct wgv_enum *h = &wgv_host_abi.enums[WGV_ENUM_TextureFormat];
    uint32_t wire = wgv_enum_to_wire(g, FRONT_RGBA8UNORM), native = 0;
    CHECK(wire != WGV_WIRE_ENUM_INVALID);
    CHECK(wgv_enum_from_wire(h, wire, &native));
    CHECK_MSG(native == 0x12, "RGBA8Unorm became 0x%x", native);
    /* A value the guest's ABI does not have reaches Dawn as one it rejects. */
    CHECK(wgv_enum_to_wire(g, 0x12345) == WGV_WIRE_ENUM_INVALID);
    CHECK(wgv_enum_from_wire(h, WGV_WIRE_ENUM_INVALID, &native) && native == INVALID_NATIVE);
    CHECK(!wgv_enum_from_wire(h, g->count, &native));
}

#ifdef FRONT_ALIASED_FEATURE
/* A feature the front's header names otherwise (api/wire.json, fronts)
 * crosses under the wire's name, both ways; one the wire lacks is sent as
 * the invalid value the host's implementation rejects. */
static void test_front_names_translate_by_the_wire_name(void)
{
    const struct wgv_enum *g = &wgv_guest_abi.enums[WGV_ENUM_FeatureName];
    uint32_t wire = wgv_enum_to_wire(g, FRONT_ALIASED_FEATURE), back = 0;
    const char *name = wgv_enum_entry_name(WGV_ENUM_FeatureName, wire);
    CHECK_MSG(name && !strcmp(name, FRONT_ALIASED_FEATURE_WIRE_NAME), "became %s", name ? name : "nothing");
    CHECK(wgv_enum_from_wire(g, wire, &back) && back == FRONT_ALIASED_FEATURE);
    CHECK(wgv_enum_to_wire(g, FRONT_UNWIRED_FEATURE) == WGV_WIRE_ENUM_INVALID);
}
#endif

#ifdef FRONT_NEUTRAL_STYPE
/* The member of a shape called `name`, or NULL. */
static const struct wgv_member *member_named(const struct wgv_shape *sh, const char *name)
{
    for (uint16_t i = 0; i < sh->member_count; i++)
        if (!strcmp(sh->members[i].name, name))
            return &sh->members[i];
    return NULL;
}

/* wgpuDeviceCreateSampler(device, descriptor) encoded with `chain` as the
 * descriptor's nextInChain. */
static void encode_sampler(void *chain, struct wgv_writer *w)
{
    uint32_t shape = wgv_command_shape[WGV_OP_wgpuDeviceCreateSampler];
    const struct wgv_shape *sh = &wgv_guest_abi.shapes[shape];
    const struct wgv_member *dm = member_named(sh, "descriptor");
    const struct wgv_member *cm = dm ? member_named(&wgv_guest_abi.shapes[dm->type], "nextInChain") : NULL;
    CHECK(dm && cm);
    uint64_t args[32] = {0}, desc[32] = {0};
    if (!dm || !cm || sh->size > sizeof args || wgv_guest_abi.shapes[dm->type].size > sizeof desc)
        return;
    void *dp = desc;
    memcpy((char *)args + dm->offset, &dp, sizeof dp);
    memcpy((char *)desc + cm->offset, &chain, sizeof chain);
    wgv_writer_init(w);
    wgv_encode(&wgv_guest_abi, &ops, shape, args, w);
}

/* One of the front's own extras with every member zero asks for nothing:
 * the guest leaves it out of the chain (api/wire.json, neutral_when_zero).
 * With a member set it goes as a link the host refuses. */
static void test_front_extras_at_defaults_are_left_out(void)
{
    const struct wgv_neutral_link *nl = NULL;
    for (uint32_t i = 0; i < wgv_guest_abi.neutral_link_count; i++)
        if (wgv_guest_abi.neutral_links[i].stype == FRONT_NEUTRAL_STYPE)
            nl = &wgv_guest_abi.neutral_links[i];
    CHECK(nl && nl->member_count > 0);
    if (!nl || !nl->member_count)
        return;
    uint64_t link[16] = {0}; /* larger than any extras struct */
    struct c_chain *hdr = (struct c_chain *)link;
    hdr->stype = FRONT_NEUTRAL_STYPE;
    struct wgv_writer none, zero, set, cycle;
    encode_sampler(NULL, &none);
    encode_sampler(link, &zero);
    CHECK(zero.len == none.len && !memcmp(zero.data, none.data, none.len));
    ((uint8_t *)link)[nl->members[nl->member_count - 1].offset] = 1;
    encode_sampler(link, &set);
    CHECK(set.len > none.len);
    /* A cycle made of a zeroed link ends, cut short like any cycle. */
    memset(link, 0, sizeof link);
    hdr->stype = FRONT_NEUTRAL_STYPE;
    hdr->next = hdr;
    encode_sampler(link, &cycle);
    CHECK(cycle.len > none.len);
    wgv_writer_free(&none);
    wgv_writer_free(&zero);
    wgv_writer_free(&set);
    wgv_writer_free(&cycle);
}
#endif

/* ------------------------------------------------ specialised codecs */

static uint64_t same_handle(const void *o)
{
    return (uint64_t)(uintptr_t)o;
}

/* Random bits in about a third of the fixed-size members of a command's
 * arguments: enum and flag values neither ABI has, bools other than 0
 * and 1, whole-width scalars. */
static void scramble(uint32_t shape, uint8_t *args)
{
    const struct wgv_shape *s = &wgv_guest_abi.shapes[shape];
    for (uint16_t i = 0; i < s->member_count; i++) {
        const struct wgv_member *m = &s->members[i];
        if (m->kind == WGV_K_OBJECT || m->kind == WGV_K_NEW_OBJECT || m->kind == WGV_K_FUTURE ||
            m->kind > WGV_K_FLAGS || (m->flags & WGV_M_ABSENT) || rnd_below(3))
            continue;
        store(args + m->offset, m->size, rnd());
    }
}

static void test_specialised_encoders_write_the_table_codec_bytes(void)
{
    unsigned commands = 0;
    for (unsigned op = 1; op < WGV_OP_COUNT; op++) {
        const struct wgv_fast_encoder *f = &wgv_guest_fast[op];
        if (!f->size)
            continue;
        commands++;
        uint32_t shape = wgv_command_shape[op];
        for (int iter = 0; iter < 200; iter++) {
            struct wgv_arena a;
            wgv_arena_init(&a, 1u << 20);
            uint8_t *args = alloc0(&a, wgv_guest_abi.shapes[shape].size);
            fill(&a, shape, args, 0);
            if (iter & 1)
                scramble(shape, args);
            struct wgv_writer w;
            wgv_writer_init(&w);
            wgv_encode(&wgv_guest_abi, &ops, shape, args, &w);
            uint8_t rec[512];
            memset(rec, 0xEE, sizeof(rec));
            f->encode(rec, args, same_handle);
            struct wgv_cmd_header h;
            memcpy(&h, rec, sizeof(h));
            bool same_bytes = h.size == f->size && f->size == sizeof(h) + w.len &&
                              h.opcode == op && h.flags == 0 &&
                              !memcmp(rec + sizeof(h), w.data, w.len);
            CHECK_MSG(same_bytes, "%s: the specialised encoder wrote other bytes (%u, table %zu)",
                      wgv_command_name[op], h.size, sizeof(h) + w.len);
            wgv_writer_free(&w);
            wgv_arena_free(&a);
            if (!same_bytes)
                break;
        }
    }
    /* Draws, dispatches, pipelines, vertex and index buffers, copies ... */
    CHECK_MSG(commands >= 30, "%u commands have a specialised encoder", commands);
    CHECK(wgv_guest_fast[WGV_OP_wgpuRenderPassEncoderDraw].size != 0);
    CHECK(wgv_guest_fast[WGV_OP_wgpuComputePassEncoderDispatchWorkgroups].size != 0);
}

static void check_fast_parity(unsigned op, const uint8_t *body, size_t len, unsigned *failures)
{
    char why[256];
    if (*failures < 5 && fast_parity_check(op, body, len, why, sizeof(why))) {
        CHECK_MSG(false, "%s", why);
        ++*failures;
    }
}

static void test_specialised_decoders_agree_with_the_table_decoder(void)
{
    static const uint32_t hostile[] = {0, 1, 2, 3, 0xFF, 0x100, 0xFFFF, 0x10000, 0x7FFFFFFFu,
                                       0x80000000u, 0xFFFFFFFEu, 0xFFFFFFFFu};
    unsigned commands = 0, failures = 0;
    for (unsigned op = 1; op < WGV_OP_COUNT; op++) {
        if (!wgv_host_fast_decode[op])
            continue;
        commands++;
        for (int iter = 0; iter < 40; iter++) {
            struct wgv_arena a;
            wgv_arena_init(&a, 1u << 20);
            struct wgv_writer w;
            wgv_writer_init(&w);
            uint32_t shape = wgv_command_shape[op];
            if (wgv_guest_abi.shapes[shape].size) {
                uint8_t *args = alloc0(&a, wgv_guest_abi.shapes[shape].size);
                fill(&a, shape, args, 0);
                if (iter & 1)
                    scramble(shape, args);
                wgv_encode(&wgv_guest_abi, &ops, shape, args, &w);
            } else {
                /* A command this front cannot send: random words. */
                for (int i = 0; i < 8; i++)
                    wgv_put_u32(&w, (uint32_t)rnd());
            }
            uint8_t copy[512];
            size_t len = w.len < sizeof(copy) - 16 ? w.len : sizeof(copy) - 16;
            check_fast_parity(op, w.data, len, &failures);
            for (size_t pos = 0; pos + 4 <= len; pos += 4)
                for (size_t h = 0; h < sizeof(hostile) / sizeof(hostile[0]); h++) {
                    memcpy(copy, w.data, len);
                    uint32_t v = iter & 2 ? (uint32_t)rnd() : hostile[h];
                    memcpy(copy + pos, &v, 4);
                    check_fast_parity(op, copy, len, &failures);
                }
            /* Null handles, zero 64-bit values. */
            for (size_t pos = 0; pos + 8 <= len; pos += 8) {
                memcpy(copy, w.data, len);
                memset(copy + pos, 0, 8);
                check_fast_parity(op, copy, len, &failures);
            }
            memset(copy, 0, sizeof(copy));
            memcpy(copy, w.data, len);
            check_fast_parity(op, copy, len + 8, &failures);
            if (len >= 4)
                check_fast_parity(op, copy, len - 4, &failures);
            wgv_writer_free(&w);
            wgv_arena_free(&a);
        }
    }
    CHECK_MSG(commands >= 30 && !failures, "%u commands have a specialised decoder, %u disagree",
              commands, failures);
}

int main(void)
{
    RUN(test_every_command_and_reply_has_a_shape);
    RUN(test_every_shape_round_trips_through_both_abis);
    RUN(test_every_truncated_command_is_refused);
    RUN(test_hostile_words_never_read_out_of_bounds);
    RUN(test_unknown_stype_on_the_wire_is_refused);
    RUN(test_array_count_larger_than_input_is_refused);
    RUN(test_enum_translation_follows_names);
    RUN(test_specialised_encoders_write_the_table_codec_bytes);
    RUN(test_specialised_decoders_agree_with_the_table_decoder);
#ifdef FRONT_ALIASED_FEATURE
    RUN(test_front_names_translate_by_the_wire_name);
#endif
#ifdef FRONT_NEUTRAL_STYPE
    RUN(test_front_extras_at_defaults_are_left_out);
#endif
    printf("shapes round-tripped: %d\n", shapes_tested);
    return harness_finish(FRONT_SUITE);
}
