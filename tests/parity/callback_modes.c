/* Callback modes: an AllowProcessEvents callback never runs before
 * wgpuInstanceProcessEvents is called, even once its work is long done, and
 * then runs on the calling thread; an AllowSpontaneous callback runs by
 * itself or at the latest in ProcessEvents; each runs exactly once. */
#include <pthread.h>

#include "util.h"

static int fired_pe, fired_sp, same_thread;
static pthread_t main_thread;

static void on_work_pe(WGPUQueueWorkDoneStatus status, WGPUStringView message, void *u1, void *u2)
{
    (void)status; (void)message; (void)u1; (void)u2;
    fired_pe++;
    same_thread = pthread_equal(pthread_self(), main_thread);
}

static void on_work_sp(WGPUQueueWorkDoneStatus status, WGPUStringView message, void *u1, void *u2)
{
    (void)status; (void)message; (void)u1; (void)u2;
    __atomic_add_fetch(&fired_sp, 1, __ATOMIC_SEQ_CST);
}

static void on_map_pe(WGPUMapAsyncStatus status, WGPUStringView message, void *u1, void *u2)
{
    (void)message; (void)u2;
    *(WGPUMapAsyncStatus *)u1 = status;
}

int main(void)
{
    struct ctx c;
    ctx_init(&c);
    main_thread = pthread_self();

    WGPUBuffer b = make_buffer(&c, WGPUBufferUsage_MapRead | WGPUBufferUsage_CopyDst, 16);
    uint32_t v[4] = {1, 2, 3, 4};
    wgpuQueueWriteBuffer(c.queue, b, 0, v, sizeof v);
    submit(&c, encoder(&c));

    WGPUQueueWorkDoneCallbackInfo pe = {.mode = WGPUCallbackMode_AllowProcessEvents, .callback = on_work_pe};
    WGPUQueueWorkDoneCallbackInfo sp = {.mode = WGPUCallbackMode_AllowSpontaneous, .callback = on_work_sp};
    WGPUMapAsyncStatus ms = (WGPUMapAsyncStatus)0;
    WGPUBufferMapCallbackInfo mpe = {.mode = WGPUCallbackMode_AllowProcessEvents, .callback = on_map_pe,
                                     .userdata1 = &ms};
    wgpuQueueOnSubmittedWorkDone(c.queue, pe);
    wgpuQueueOnSubmittedWorkDone(c.queue, sp);
    wgpuBufferMapAsync(b, WGPUMapMode_Read, 0, 16, mpe);

    /* Give the GPU ample time without processing events. */
    struct timespec nap = {0, 300 * 1000 * 1000};
    nanosleep(&nap, NULL);
    say("before ProcessEvents: work-done ran %d, map ran %s", fired_pe, ms ? "yes" : "no");
    say("map state before ProcessEvents: %s", map_state_name(wgpuBufferGetMapState(b)));
    CHECK(fired_pe == 0 && ms == 0);

    for (int i = 0; i < 2000 && (!fired_pe || !ms || !__atomic_load_n(&fired_sp, __ATOMIC_SEQ_CST)); i++) {
        wgpuInstanceProcessEvents(c.instance);
        nanosleep(&(struct timespec){0, 1000 * 1000}, NULL);
    }
    pump_events(c.instance, 5);
    say("after ProcessEvents: work-done ran %d (on the calling thread: %s), map %s", fired_pe,
        same_thread ? "yes" : "no", map_status_name(ms));
    say("spontaneous callback ran %d", __atomic_load_n(&fired_sp, __ATOMIC_SEQ_CST));
    CHECK(fired_pe == 1 && same_thread && ms == WGPUMapAsyncStatus_Success && fired_sp == 1);
    wgpuBufferUnmap(b);
    wgpuBufferRelease(b);

    ctx_release(&c);
    return finish();
}
