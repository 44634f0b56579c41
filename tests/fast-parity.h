/* Whether a specialised decoder (api/wirefast.py) and the table decoder
 * agree on one command's bytes: the same verdict, the same decoded
 * arguments, the same questions about objects in the same order. Used by
 * tests/test-codec.c on generated and damaged commands and by
 * fuzz/fuzz-decoder.c on every fixed-size command the fuzzer makes.
 *
 * Objects are fake pointers whose value is their handle; a handle whose id
 * is 3 modulo 7 is not a live object. */
#ifndef WGV_TESTS_FAST_PARITY_H
#define WGV_TESTS_FAST_PARITY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "codec.h"
#include "fast.h"
#include "wgv-wire-ids.h"

extern const struct wgv_abi wgv_host_abi;
extern const wgv_fast_decode_fn wgv_host_fast_decode[WGV_OP_COUNT];

#define FAST_PARITY_LOG 16
#define FAST_PARITY_ARGS 512

struct fast_parity_log {
    unsigned n;
    uint64_t asked[FAST_PARITY_LOG];
};

static bool fast_parity_object(void *user, uint16_t type, uint64_t handle, void **native)
{
    struct fast_parity_log *log = user;
    if (log->n < FAST_PARITY_LOG)
        log->asked[log->n] = handle ^ ((uint64_t)type << 56);
    log->n++;
    if ((uint32_t)handle % 7 == 3)
        return false;
    *native = (void *)(uintptr_t)handle;
    return true;
}

/* NULL when both decoders agree on `body` (the bytes after the header of
 * a command `op`), else what differs, in `why`. */
static const char *fast_parity_check(unsigned op, const uint8_t *body, size_t len, char *why,
                                     size_t whylen)
{
    wgv_fast_decode_fn fast = op < WGV_OP_COUNT ? wgv_host_fast_decode[op] : NULL;
    if (!fast)
        return NULL;
    uint32_t shape = wgv_command_shape[op];
    size_t size = wgv_host_abi.shapes[shape].size;
    if (size > FAST_PARITY_ARGS) {
        snprintf(why, whylen, "%s: arguments of %zu bytes", wgv_command_name[op], size);
        return why;
    }
    _Alignas(16) uint8_t a[FAST_PARITY_ARGS], b[FAST_PARITY_ARGS];
    memset(a, 0xA5, sizeof(a));
    memset(b, 0x5A, sizeof(b));
    struct fast_parity_log la = {0}, lb = {0};
    struct wgv_codec_ops oa = {.object_from_wire = fast_parity_object, .user = &la};
    struct wgv_codec_ops ob = {.object_from_wire = fast_parity_object, .user = &lb};
    bool fast_ok = fast(&oa, body, len, a);
    struct wgv_arena arena;
    wgv_arena_init(&arena, 1u << 20);
    struct wgv_reader r;
    wgv_reader_init(&r, body, len);
    bool table_ok = wgv_decode(&wgv_host_abi, &ob, shape, b, &r, &arena) && r.pos == r.len &&
                    !r.unsupported[0];
    wgv_arena_free(&arena);
    if (fast_ok != table_ok) {
        snprintf(why, whylen, "%s (%zu bytes): the specialised decoder %s, the table decoder %s%s%s",
                 wgv_command_name[op], len, fast_ok ? "accepts" : "refuses",
                 table_ok ? "accepts" : "refuses", r.error ? ": " : "", r.error ? r.error : "");
        return why;
    }
    if (!fast_ok)
        return NULL;
    if (memcmp(a, b, size)) {
        snprintf(why, whylen, "%s: the two decoders give different arguments", wgv_command_name[op]);
        return why;
    }
    if (la.n != lb.n || memcmp(la.asked, lb.asked, sizeof(la.asked))) {
        snprintf(why, whylen, "%s: the two decoders ask about objects differently (%u, %u)",
                 wgv_command_name[op], la.n, lb.n);
        return why;
    }
    return NULL;
}

#endif
