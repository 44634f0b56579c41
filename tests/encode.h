/* Tests that craft wire commands by hand: objects are their raw handles
 * (OBJ(type, id) in the arguments), encoded with the guest's ABI. */
#ifndef WGV_TESTS_ENCODE_H
#define WGV_TESTS_ENCODE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "codec.h"
#include "protocol.h"
#include "wgv-guest-wire.h"

static uint64_t test_obj_to_wire(void *user, uint16_t type, const void *native)
{
    (void)user, (void)type;
    return (uint64_t)(uintptr_t)native;
}

static bool test_obj_from_wire(void *user, uint16_t type, uint64_t handle, void **native)
{
    (void)user, (void)type, (void)handle, (void)native;
    return false;
}

/* Objects as raw handles, both ways (decoding finds no object). */
static const struct wgv_codec_ops test_raw_ops = {.object_to_wire = test_obj_to_wire,
                                                  .object_from_wire = test_obj_from_wire};

/* Encodes command `op` with `args` into a fresh writer *w (header
 * included, its size filled in); the caller frees it. */
static inline void test_encode_command(unsigned op, const void *args, struct wgv_writer *w)
{
    wgv_writer_init(w);
    struct wgv_cmd_header h = {0, (uint16_t)op, 0};
    wgv_writer_put(w, &h, sizeof(h));
    wgv_encode(&wgv_guest_abi, &test_raw_ops, wgv_command_shape[op], args, w);
    h.size = (uint32_t)w->len;
    if (w->data)
        memcpy(w->data, &h, sizeof(h));
}

#endif
