/* wgvBatch: a run of commands in one ring record (docs/protocol.md,
 * "Commands"). The decoding loop (submit.c) opens a batch itself; one
 * that reaches the command table is inside another batch. */
#include "context.h"

void wgv_host_exec_wgvBatch(struct wgv_context *ctx, struct wgv_ha_wgvBatch *a)
{
    (void)a;
    wgv_context_fail(ctx, "decode: wgvBatch inside a batch");
}
