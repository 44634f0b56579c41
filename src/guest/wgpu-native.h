/* The wgpu-native front's internals, shared by front-wgpu-native.c and
 * wgpu-native-*.c: its log and what it keeps of a request's answer. */
#ifndef WGV_WGPU_NATIVE_H
#define WGV_WGPU_NATIVE_H

#include <webgpu/wgpu.h>

#include "guest.h"

/* Passes a message to the callback of wgpuSetLogCallback when `level` is
 * enabled by wgpuSetLogLevel (nothing is, until it is called). */
void wgv_wn_log(WGPULogLevel level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A copy of a callback's message that outlives the callback (free text). */
struct wgv_wn_message {
    char *text;
};
void wgv_wn_message_set(struct wgv_wn_message *m, WGPUStringView s);
static inline WGPUStringView wgv_wn_message_view(const struct wgv_wn_message *m)
{
    return (WGPUStringView){m->text ? m->text : "", WGPU_STRLEN};
}

/* Waits (reading replies) until future `f` of client `c` has completed and
 * its callback has run. */
void wgv_wn_wait(struct wgv_client *c, WGPUFuture f);

/* The native limits a guest device has: no binding arrays and no
 * multiview, since the features they belong to are never offered. */
#define WGV_WN_MAX_NON_SAMPLER_BINDINGS 1000000u

#endif
