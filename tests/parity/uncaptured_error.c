/* The uncaptured-error callback: gets unscoped errors, errors that no
 * enclosing scope's filter matches, and errors raised at submit; never
 * errors a matching scope caught. Counts are printed after waiting. */
#include "util.h"

static void bad_buffer(struct ctx *c)
{
    WGPUBuffer b = make_buffer(c, WGPUBufferUsage_MapRead | WGPUBufferUsage_MapWrite, 16);
    wgpuBufferRelease(b);
}

int main(void)
{
    struct ctx c;
    ctx_init(&c);
    expect_uncaptured = 7;

    say("at start: %d", events.uncaptured);
    bad_buffer(&c);
    say("one unscoped error: %d", wait_uncaptured(&c, 1));

    push_scope(&c, WGPUErrorFilter_Validation);
    bad_buffer(&c);
    say("caught by a scope: %s", error_type_name(pop_scope(&c)));
    queue_wait(&c);
    say("after a caught error: %d", events.uncaptured);

    push_scope(&c, WGPUErrorFilter_OutOfMemory);
    bad_buffer(&c);
    say("OutOfMemory scope: %s", error_type_name(pop_scope(&c)));
    say("after an unmatched scope: %d", wait_uncaptured(&c, 2));

    bad_buffer(&c);
    bad_buffer(&c);
    bad_buffer(&c);
    say("after three more: %d", wait_uncaptured(&c, 5));

    /* A command buffer that is invalid is reported at finish, and its
     * submission is another error. */
    WGPUCommandEncoder e = encoder(&c);
    WGPUBuffer a = make_buffer(&c, WGPUBufferUsage_CopySrc, 16);
    wgpuCommandEncoderCopyBufferToBuffer(e, a, 0, a, 0, 16);
    WGPUCommandBuffer cb = wgpuCommandEncoderFinish(e, NULL);
    say("after an invalid finish: %d", wait_uncaptured(&c, 6));
    wgpuQueueSubmit(c.queue, 1, &cb);
    say("after submitting it: %d", wait_uncaptured(&c, 7));
    say("types: Validation %d OutOfMemory %d Internal %d",
        events.uncaptured_by_type[WGPUErrorType_Validation],
        events.uncaptured_by_type[WGPUErrorType_OutOfMemory],
        events.uncaptured_by_type[WGPUErrorType_Internal]);
    CHECK(events.uncaptured == 7 && events.uncaptured_by_type[WGPUErrorType_Validation] == 7);
    wgpuCommandBufferRelease(cb);
    wgpuCommandEncoderRelease(e);
    wgpuBufferRelease(a);

    /* Work still runs after errors. */
    uint32_t v = 42, out = 0;
    WGPUBuffer b = make_buffer_data(&c, WGPUBufferUsage_CopySrc, &v, 4);
    CHECK(read_buffer(&c, b, 0, &out, 4));
    say("device still works: %s", out == 42 ? "yes" : "no");
    wgpuBufferRelease(b);

    ctx_release(&c);
    return finish();
}
