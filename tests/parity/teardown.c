/* Teardown with callbacks owed, in each callback mode: which callbacks fire,
 * with which status, and when (inside the teardown call, in the next
 * ProcessEvents, or in a WaitAny on their future):
 *
 *   - the last wgpuDeviceRelease of a device (its lost callback);
 *   - wgpuDeviceDestroy, then the release;
 *   - releasing everything, the instance last, with a map, a work-done
 *     callback and the device-lost callback still owed (an AllowSpontaneous
 *     map may resolve before the releases: the copy it waits for can finish
 *     inside any call).
 *
 * WaitAny is only called with timeout 0, which needs no instance feature. */
#include "util.h"

static const WGPUCallbackMode modes[] = {WGPUCallbackMode_WaitAnyOnly,
                                         WGPUCallbackMode_AllowProcessEvents,
                                         WGPUCallbackMode_AllowSpontaneous};
static const char *const mode_names[] = {"WaitAnyOnly", "AllowProcessEvents", "AllowSpontaneous"};

/* Where the program is when a callback runs. */
static const char *stage = "nowhere";

struct seen {
    int calls;
    int status;
    const char *when;
    int device_was_null; /* lost callbacks: whether *device was NULL */
};

static void on_lost(WGPUDevice const *device, WGPUDeviceLostReason reason, WGPUStringView message,
                    void *u1, void *u2)
{
    (void)message, (void)u2;
    struct seen *s = u1;
    s->calls++;
    s->status = (int)reason;
    s->when = stage;
    s->device_was_null = !device || !*device;
}

static void on_map(WGPUMapAsyncStatus status, WGPUStringView message, void *u1, void *u2)
{
    (void)message, (void)u2;
    struct seen *s = u1;
    s->calls++, s->status = (int)status, s->when = stage;
}

static void on_done(WGPUQueueWorkDoneStatus status, WGPUStringView message, void *u1, void *u2)
{
    (void)message, (void)u2;
    struct seen *s = u1;
    s->calls++, s->status = (int)status, s->when = stage;
}

static const char *lost_name(int r)
{
    return r ? lost_reason_name((WGPUDeviceLostReason)r) : "-";
}

static void say_seen(const char *what, const struct seen *s, const char *(*name)(int))
{
    say("  %s: %d call%s, status %s, %s", what, s->calls, s->calls == 1 ? "" : "s",
        s->calls ? name(s->status) : "-", s->calls ? s->when : "not fired");
}

static const char *map_name(int s)
{
    return map_status_name((WGPUMapAsyncStatus)s);
}

static const char *done_name(int s)
{
    return work_done_status_name((WGPUQueueWorkDoneStatus)s);
}

/* A device whose lost callback reports into `lost` in `mode`. */
static void ctx_with_lost(struct ctx *c, WGPUCallbackMode mode, struct seen *lost)
{
    ctx_init(c);
    WGPUDeviceDescriptor dd = {
        .deviceLostCallbackInfo = {.mode = mode, .callback = on_lost, .userdata1 = lost},
        .uncapturedErrorCallbackInfo = {.callback = util_on_uncaptured},
    };
    struct util_device_req dr = {0};
    WGPURequestDeviceCallbackInfo ci = {
        .mode = WGPUCallbackMode_AllowProcessEvents,
        .callback = util_on_device,
        .userdata1 = &dr,
    };
    wgpuAdapterRequestDevice(c->adapter, &dd, ci);
    CHECK(wait_until(c->instance, &dr.done) && dr.device);
    wgpuQueueRelease(c->queue);
    wgpuDeviceRelease(c->device);
    c->device = dr.device;
    c->queue = wgpuDeviceGetQueue(c->device);
}

/* ProcessEvents a few times, then a WaitAny (timeout 0) on each future. */
static void after(WGPUInstance instance, const WGPUFuture *futures, size_t n)
{
    stage = "in ProcessEvents";
    for (int i = 0; i < 3; i++)
        wgpuInstanceProcessEvents(instance);
    stage = "in WaitAny";
    for (size_t k = 0; k < n; k++) {
        WGPUFutureWaitInfo w = {futures[k], 0};
        wgpuInstanceWaitAny(instance, 1, &w, 0);
    }
    stage = "nowhere";
}

static void device_release(WGPUCallbackMode mode)
{
    struct ctx c;
    struct seen lost = {0};
    ctx_with_lost(&c, mode, &lost);
    WGPUFuture lf = wgpuDeviceGetLostFuture(c.device);
    wgpuQueueRelease(c.queue);
    c.queue = NULL;
    stage = "in wgpuDeviceRelease";
    wgpuDeviceRelease(c.device);
    c.device = NULL;
    after(c.instance, &lf, 1);
    say_seen("lost", &lost, lost_name);
    if (lost.calls)
        say("  lost callback's device: %s", lost.device_was_null ? "NULL" : "the device");
    ctx_release(&c);
    say("  after the instance: %d call%s", lost.calls, lost.calls == 1 ? "" : "s");
}

static void device_destroy(WGPUCallbackMode mode)
{
    struct ctx c;
    struct seen lost = {0};
    ctx_with_lost(&c, mode, &lost);
    WGPUFuture lf = wgpuDeviceGetLostFuture(c.device);
    stage = "in wgpuDeviceDestroy";
    wgpuDeviceDestroy(c.device);
    after(c.instance, &lf, 1);
    say_seen("lost", &lost, lost_name);
    if (lost.calls)
        say("  lost callback's device: %s", lost.device_was_null ? "NULL" : "the device");
    stage = "in wgpuDeviceRelease";
    wgpuQueueRelease(c.queue);
    wgpuDeviceRelease(c.device);
    c.queue = NULL, c.device = NULL;
    stage = "nowhere";
    ctx_release(&c);
    say("  after release: %d call%s", lost.calls, lost.calls == 1 ? "" : "s");
}

/* Everything released, the instance last, while a map, a work-done
 * callback and the lost callback are owed. */
static void instance_release(WGPUCallbackMode mode)
{
    struct ctx c;
    struct seen lost = {0}, map = {0}, done = {0};
    ctx_with_lost(&c, mode, &lost);
    WGPUBuffer rb = make_buffer(&c, WGPUBufferUsage_MapRead | WGPUBufferUsage_CopyDst, 256);
    WGPUBuffer src = make_buffer(&c, WGPUBufferUsage_CopySrc, 256);
    WGPUCommandEncoder e = encoder(&c);
    wgpuCommandEncoderCopyBufferToBuffer(e, src, 0, rb, 0, 256);
    submit(&c, e);
    WGPUBufferMapCallbackInfo mc = {.mode = mode, .callback = on_map, .userdata1 = &map};
    WGPUFuture f[3];
    f[0] = wgpuBufferMapAsync(rb, WGPUMapMode_Read, 0, 256, mc);
    WGPUQueueWorkDoneCallbackInfo qc = {.mode = mode, .callback = on_done, .userdata1 = &done};
    f[1] = wgpuQueueOnSubmittedWorkDone(c.queue, qc);
    f[2] = wgpuDeviceGetLostFuture(c.device);
    stage = "in an object's release";
    wgpuBufferRelease(src);
    wgpuBufferRelease(rb);
    wgpuQueueRelease(c.queue);
    wgpuDeviceRelease(c.device);
    wgpuAdapterRelease(c.adapter);
    stage = "in wgpuInstanceRelease";
    wgpuInstanceRelease(c.instance);
    stage = "nowhere";
    (void)f;
    if (mode == WGPUCallbackMode_AllowSpontaneous && map.calls == 1 &&
        (map.status == WGPUMapAsyncStatus_Success || map.status == WGPUMapAsyncStatus_Aborted)) {
        /* The copy may finish, and the map fire, inside any call before
         * the buffer's release (natively too): either end is right. */
        say("  map: 1 call, Success or Aborted, before wgpuInstanceRelease");
    } else {
        say_seen("map", &map, map_name);
    }
    say_seen("work done", &done, done_name);
    say_seen("lost", &lost, lost_name);
}

int main(void)
{
    for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
        say("device release, %s:", mode_names[m]);
        device_release(modes[m]);
        say("device destroy, %s:", mode_names[m]);
        device_destroy(modes[m]);
        say("instance release with callbacks owed, %s:", mode_names[m]);
        instance_release(modes[m]);
    }
    return finish();
}
