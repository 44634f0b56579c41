/* libFuzzer target: the host decoder and dispatch over Dawn's Null backend.
 *
 * Each input is a command stream as a guest puts it in its ring, run on a
 * fresh context; the seeds are streams wgv-server recorded from the parity
 * programs (scripts/fuzz). Whatever the input does, the context must end
 * cleanly: decoded or refused with a reason, never a crash, an
 * out-of-bounds read or a leak.
 *
 * Every context also has resources attached, as vhost-user-webgpu attaches
 * guest memory, so that byte blocks by reference in resource mode (mode 2)
 * reach real scatter lists: resource 1 is one piece of 64 KiB, resource 2
 * pieces of 0, 17, 0, 4096, 1, 0 and 8192 bytes, resource 3 one empty
 * piece. Each piece is its own allocation of exactly its size, so that
 * AddressSanitizer sees a read past any of them.
 *
 * Each fixed-size command, also inside a batch, is also decoded by its
 * specialised decoder and by the table decoder (tests/fast-parity.h): they
 * must agree. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fast-parity.h"
#include "protocol.h"
#include "wgv-host.h"

#ifndef WGV_FUZZ_BACKEND
#define WGV_FUZZ_BACKEND 1 /* WGPUBackendType_Null */
#endif

/* libFuzzer calls in with no context of ours: the host is made once. */
static struct wgv_host *host;
static uint8_t bulk[1 << 16];

enum { RESOURCE_PIECES = 9 };
static const size_t piece_len[RESOURCE_PIECES] = {1 << 16, 0, 17, 0, 4096, 1, 0, 8192, 0};
static struct wgv_iovec pieces[RESOURCE_PIECES];
static const struct {
    unsigned first, count;
} resource_layout[] = {{0, 1}, {1, 7}, {8, 1}};

/* The pieces, made once and filled with a pattern; an empty piece gets a
 * one-byte allocation (attached memory has an address even when empty). */
static void make_pieces(void)
{
    for (unsigned i = 0; i < RESOURCE_PIECES; i++) {
        pieces[i].len = piece_len[i];
        pieces[i].base = malloc(piece_len[i] ? piece_len[i] : 1);
        if (!pieces[i].base)
            abort();
        memset(pieces[i].base, 0x5a ^ (int)i, piece_len[i]);
    }
}

static bool drop_reply(void *user, const void *bytes, size_t len)
{
    (void)user, (void)bytes, (void)len;
    return true;
}

/* A fixed-size command's specialised decoder must agree with the table
 * decoder on whatever the fuzzer makes of it, also inside a batch. */
static void check_fast_parity(const uint8_t *cmd, size_t n)
{
    struct wgv_cmd_header h;
    memcpy(&h, cmd, sizeof(h));
    char why[256];
    if (fast_parity_check(h.opcode, cmd + sizeof(h), n - sizeof(h), why, sizeof(why))) {
        fprintf(stderr, "fuzz-decoder: %s\n", why);
        abort();
    }
    if (h.opcode != WGV_OP_wgvBatch)
        return;
    for (size_t pos = sizeof(h); pos + sizeof(h) <= n;) {
        uint32_t inner;
        memcpy(&inner, cmd + pos, 4);
        if (inner < sizeof(h) || inner > n - pos)
            break;
        uint16_t op;
        memcpy(&op, cmd + pos + 4, sizeof(op));
        if (op != WGV_OP_wgvBatch)
            check_fast_parity(cmd + pos, inner);
        pos += inner;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!host) {
        char err[512];
        /* Dawn's Null backend validates everything and executes nothing;
         * the lavapipe build of this target runs the streams for real. */
        /* A memory quota below the fuzzer's RSS limit: what the policy
         * allows is not a finding. */
        struct wgv_host_config cfg = {.force_backend = WGV_FUZZ_BACKEND,
                                      .policy = {.max_memory = 512u << 20}};
        host = wgv_host_create(&cfg, err, sizeof(err));
        if (!host) {
            fprintf(stderr, "fuzz-decoder: %s\n", err);
            abort();
        }
        make_pieces();
    }
    struct wgv_context_io io = {.reply = drop_reply, .bulk = bulk, .bulk_size = sizeof(bulk)};
    struct wgv_context *ctx = wgv_context_create(host, 1, &io);
    if (!ctx)
        return 0;
    for (unsigned r = 0; r < sizeof(resource_layout) / sizeof(resource_layout[0]); r++)
        if (wgv_context_attach_resource(ctx, r + 1, &pieces[resource_layout[r].first],
                                        resource_layout[r].count) != 0)
            abort();
    /* Command by command, letting the backend deliver between them as the
     * server does, so that adapters and devices arrive before their use. */
    size_t pos = 0;
    while (pos + sizeof(struct wgv_cmd_header) <= size) {
        uint32_t n;
        memcpy(&n, data + pos, 4);
        if (n < sizeof(struct wgv_cmd_header) || n > size - pos)
            n = (uint32_t)(size - pos);
        check_fast_parity(data + pos, n);
        if (wgv_context_submit(ctx, data + pos, n) < 0)
            break;
        pos += n;
        for (int i = 0; i < 50 && wgv_context_poll(ctx); i++)
            ;
    }
    wgv_context_destroy(ctx);
    return 0;
}
