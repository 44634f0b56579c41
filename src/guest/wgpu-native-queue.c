/* Submissions and polling as wgpu.h has them: each submission's index is
 * its queue serial, which the host reports done through a work-done future
 * of the front's own (the queue's serial_done, map-write.c); wgpuDevicePoll
 * reads replies, fires the callbacks that are due, and with `wait` first
 * waits for everything the device owes. */
#include <stdint.h>

#include "wgpu-native.h"

#define Q(x) ((struct wgv_queue *)(x))
#define D(x) ((struct wgv_device *)(x))

/* Submits and asks for the work-done answer of the submission, with no
 * callback of the application's: the answer moves the queue's serial_done
 * (map-write.c). Returns the submission's index, its queue serial or, when
 * another thread submitted meanwhile, a later one. */
static WGPUSubmissionIndex submit(WGPUQueue queue, size_t commandCount, WGPUCommandBuffer const *commands)
{
    struct wgv_client *c = Q(queue)->base.client;
    wgv_wire_wgpuQueueSubmit(queue, commandCount, commands);
    pthread_mutex_lock(&c->lock);
    uint64_t index = Q(queue)->serial;
    pthread_mutex_unlock(&c->lock);
    WGPUQueueWorkDoneCallbackInfo ci = WGPU_QUEUE_WORK_DONE_CALLBACK_INFO_INIT;
    ci.mode = WGPUCallbackMode_AllowSpontaneous;
    wgpuQueueOnSubmittedWorkDone(queue, ci);
    return index;
}

WGPU_EXPORT void wgpuQueueSubmit(WGPUQueue queue, size_t commandCount, WGPUCommandBuffer const *commands)
{
    submit(queue, commandCount, commands);
}

WGPU_EXPORT WGPUSubmissionIndex wgpuQueueSubmitForIndex(WGPUQueue queue, size_t commandCount,
                                                        WGPUCommandBuffer const *commands)
{
    return submit(queue, commandCount, commands);
}

/* The host reports timestamps in nanoseconds already. */
WGPU_EXPORT float wgpuQueueGetTimestampPeriod(WGPUQueue queue)
{
    (void)queue;
    return 1.0f;
}

/* Whether a future asked for before `before` is still unanswered and owed
 * for the device or one of its objects (its events aside) (lock held). */
static bool owes_locked(struct wgv_client *c, const struct wgv_device *d, uint64_t before)
{
    for (const struct wgv_future *f = c->futures; f; f = f->next) {
        if (f->id >= before || f->state != WGV_FUTURE_PENDING || f->repeat || f->id == d->lost_future)
            continue;
        const struct wgv_object *o = f->object;
        if (o && (o == &d->base || o->parent == &d->base))
            return true;
    }
    return false;
}

/* Reads replies until the device owes nothing asked for before this call:
 * its submissions' work (the one of `index` among them), its maps, scopes
 * and pipelines; or until the host is gone. */
static void wait_idle(struct wgv_client *c, struct wgv_device *d)
{
    pthread_mutex_lock(&c->lock);
    uint64_t before = c->next_future;
    pthread_mutex_unlock(&c->lock);
    for (;;) {
        wgv_client_pump(c);
        pthread_mutex_lock(&c->lock);
        bool owes = !c->lost && owes_locked(c, d, before);
        uint64_t point = c->t->wait_point(c->t);
        pthread_mutex_unlock(&c->lock);
        if (!owes)
            return;
        c->t->wait(c->t, point, 100 * 1000 * 1000);
    }
}

/* Returns whether every submission is done. Callbacks fire here as in
 * wgpuInstanceProcessEvents, for the whole instance. With `wait`, it
 * first waits for everything the device owes that was asked for before
 * the call, the submission of `submissionIndex` (any one) included. */
WGPU_EXPORT WGPUBool wgpuDevicePoll(WGPUDevice device, WGPUBool wait,
                                    WGPUSubmissionIndex const *submissionIndex)
{
    (void)submissionIndex;
    struct wgv_client *c = D(device)->base.client;
    struct wgv_queue *q = Q(D(device)->queue);
    if (wait)
        wait_idle(c, D(device));
    wgv_client_process_events(c);
    pthread_mutex_lock(&c->lock);
    bool done = q->serial_done >= q->serial;
    pthread_mutex_unlock(&c->lock);
    return done;
}
