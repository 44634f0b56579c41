/* Error scopes: nesting (the innermost matching scope catches an error), a
 * filter that does not match lets the error through to the next scope,
 * one scope keeps only its first error, an empty stack makes pop fail, and
 * scopes resolve in the order they were popped. */
#include "util.h"

static struct scope_result results[4];
static int pop_order[4], pops;

static void on_pop(WGPUPopErrorScopeStatus status, WGPUErrorType type, WGPUStringView message,
                   void *u1, void *u2)
{
    (void)message; (void)u2;
    struct scope_result *r = u1;
    r->status = status;
    r->type = type;
    r->done = 1;
    pop_order[pops++] = (int)(r - results);
}

static const char *pop_status_name(WGPUPopErrorScopeStatus s)
{
    switch (s) {
    case WGPUPopErrorScopeStatus_Success: return "Success";
    case WGPUPopErrorScopeStatus_CallbackCancelled: return "CallbackCancelled";
    case WGPUPopErrorScopeStatus_Error: return "Error";
    default: return "?";
    }
}

/* A validation error: a buffer with both map usages. */
static void make_error(struct ctx *c)
{
    WGPUBuffer b = make_buffer(c, WGPUBufferUsage_MapRead | WGPUBufferUsage_MapWrite, 16);
    wgpuBufferRelease(b);
}

static void pop_async(struct ctx *c, int i)
{
    WGPUPopErrorScopeCallbackInfo ci = {
        .mode = WGPUCallbackMode_AllowProcessEvents, .callback = on_pop, .userdata1 = &results[i],
    };
    wgpuDevicePopErrorScope(c->device, ci);
}

int main(void)
{
    struct ctx c;
    ctx_init(&c);
    expect_uncaptured = 1;

    /* Nesting: inner validation scope catches, outer sees nothing. */
    push_scope(&c, WGPUErrorFilter_Validation);
    push_scope(&c, WGPUErrorFilter_Validation);
    make_error(&c);
    say("nested inner: %s", error_type_name(pop_scope(&c)));
    say("nested outer: %s", error_type_name(pop_scope(&c)));

    /* An OutOfMemory scope does not catch a validation error. */
    push_scope(&c, WGPUErrorFilter_Validation);
    push_scope(&c, WGPUErrorFilter_OutOfMemory);
    push_scope(&c, WGPUErrorFilter_Internal);
    make_error(&c);
    say("internal scope: %s", error_type_name(pop_scope(&c)));
    say("out-of-memory scope: %s", error_type_name(pop_scope(&c)));
    say("validation scope: %s", error_type_name(pop_scope(&c)));

    /* Two errors in one scope: the scope reports one. */
    push_scope(&c, WGPUErrorFilter_Validation);
    make_error(&c);
    make_error(&c);
    say("two errors, one scope: %s", error_type_name(pop_scope(&c)));
    say("uncaptured so far: %d", events.uncaptured);

    /* Pops issued back to back resolve in order. */
    push_scope(&c, WGPUErrorFilter_Validation);
    push_scope(&c, WGPUErrorFilter_Validation);
    push_scope(&c, WGPUErrorFilter_Validation);
    make_error(&c);
    pop_async(&c, 0);
    pop_async(&c, 1);
    make_error(&c);
    pop_async(&c, 2);
    CHECK(wait_until(c.instance, &results[2].done));
    say("three pops: order %d %d %d, types %s %s %s", pop_order[0], pop_order[1], pop_order[2],
        error_type_name(results[0].type), error_type_name(results[1].type),
        error_type_name(results[2].type));

    /* Popping an empty stack fails. */
    pop_async(&c, 3);
    CHECK(wait_until(c.instance, &results[3].done));
    say("pop on empty stack: status %s", pop_status_name(results[3].status));
    CHECK(results[3].status == WGPUPopErrorScopeStatus_Error);

    /* An error with no scope goes to the uncaptured-error callback. */
    make_error(&c);
    int n = wait_uncaptured(&c, 1);
    say("uncaptured after an unscoped error: %d (%s)", n, error_type_name(events.last_uncaptured));

    ctx_release(&c);
    return finish();
}
