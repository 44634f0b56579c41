/* The ring pump of one context whose SETUP succeeded: a thread that owns the
 * context's wgv_context and its contiguous mapping of the shared memory,
 * runs what the guest publishes in the command ring and publishes replies,
 * like wgv-server's serving loop (src/server/server.c). The main thread
 * talks to it only through requests (kick, fence, attach, detach, kill,
 * pause, stop); those that the guest's answer waits for are reported
 * through wgv_vu_fence_retired with the sequence number they were given. */
#ifndef WGV_VU_PUMP_H
#define WGV_VU_PUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shm.h"
#include "wgv-host.h"

struct wgv_vu;
struct wgv_vu_pump;

/* Starts a pump for context ctx_id on `map` (total bytes, laid out for
 * `sizes`; the pump unmaps it when it ends). NULL with a reason (map then
 * stays the caller's). */
struct wgv_vu_pump *wgv_vu_pump_start(struct wgv_vu *vu, uint32_t ctx_id, void *map,
                                      const struct wgv_shm_sizes *sizes, char *err, size_t errlen);
/* The guest published commands while the pump was idle. */
void wgv_vu_pump_kick(struct wgv_vu_pump *p);
/* Retire fence `seq` (wgv_vu_fence_retired) once everything published so
 * far ran and its GPU work finished; false if the pump takes no more
 * requests (it has ended, or no memory), then nothing is retired. */
bool wgv_vu_pump_fence(struct wgv_vu_pump *p, uint32_t ring, uint64_t seq);
/* Attaches a resource's memory (the list is copied). */
void wgv_vu_pump_attach(struct wgv_vu_pump *p, uint32_t id, const struct wgv_iovec *iov,
                        unsigned n);
/* Detaches a resource once the commands published so far have run, then
 * retires `seq` (0: none); false if the pump takes no more requests (it
 * touches no guest memory any more, or had no memory for the request). */
bool wgv_vu_pump_detach(struct wgv_vu_pump *p, uint32_t id, uint64_t seq);
/* Whether the pump may read resource `id`'s memory: attached, or about to be. */
bool wgv_vu_pump_uses(struct wgv_vu_pump *p, uint32_t id);
/* Ends the context: the guest gets context-lost with the reason. */
void wgv_vu_pump_kill(struct wgv_vu_pump *p, const char *reason);
/* Takes the guest's pages away from the pump at once (its view becomes
 * private anonymous memory): for a shared memory resource detached or
 * unreferenced while the pump may still touch it. */
void wgv_vu_pump_revoke(struct wgv_vu_pump *p);
/* Asks the pump to stop where it touches no guest memory (between
 * commands, or waiting for room in the reply ring); returns at once. */
void wgv_vu_pump_pause(struct wgv_vu_pump *p);
/* Waits until a pause asked for holds (or the pump has ended). */
void wgv_vu_pump_wait_paused(struct wgv_vu_pump *p);
/* Lets a paused pump go on. */
void wgv_vu_pump_resume(struct wgv_vu_pump *p);
/* Asks the pump to destroy its context and end. */
void wgv_vu_pump_stop(struct wgv_vu_pump *p);
/* Whether the thread has ended (its context is gone). */
bool wgv_vu_pump_ended(const struct wgv_vu_pump *p);
/* Why it ended ("" if it was stopped or is still running). */
const char *wgv_vu_pump_reason(const struct wgv_vu_pump *p);
/* Waits for the thread and frees the pump. */
void wgv_vu_pump_join(struct wgv_vu_pump *p);
/* The next pump in a list of pumps (the daemon's list of dying ones). */
struct wgv_vu_pump **wgv_vu_pump_next(struct wgv_vu_pump *p);

#endif
