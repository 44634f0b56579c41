/* Large copies split over a few threads: the copy the wire adds to a
 * transfer (a mapping's bytes to or from shared memory, a writeBuffer's
 * bytes into it) runs at the speed of several cores' memory bandwidth
 * instead of one's. Each side keeps one copier per context or client; its
 * helper threads start with the first large copy and sleep between. */
#ifndef WGV_WIRE_COPY_H
#define WGV_WIRE_COPY_H

#include <stddef.h>

/* Below this a copy runs on the calling thread alone. */
#define WGV_COPY_SPLIT_MIN ((size_t)4 << 20)
/* Most helper threads a copier starts (the caller copies a part too). */
#define WGV_COPY_HELPERS_MAX 7
/* What the library's copiers ask for: wgv_copy_helpers_for(CPUs online). */
#define WGV_COPY_HELPERS_AUTO 0xffffffffu

struct wgv_copier;

/* Helper threads for a machine of `cpus` CPUs: one per two CPUs beyond the
 * first two, at least 3, at most WGV_COPY_HELPERS_MAX and the CPUs less one
 * (a core's memcpy reaches a fraction of a server's memory bandwidth; half
 * the cores leave the rest to the GPU's other users). */
unsigned wgv_copy_helpers_for(long cpus);
/* A copier with up to `helpers` helper threads (WGV_COPY_HELPERS_AUTO: by
 * the CPUs online; capped by them less one, and WGV_COPY_HELPERS_MAX); NULL
 * only when out of memory. */
struct wgv_copier *wgv_copier_create(unsigned helpers);
/* Ends the helpers and frees the copier (NULL: nothing). */
void wgv_copier_destroy(struct wgv_copier *c);
/* memcpy(dst, src, n), split over the helpers when n is large (NULL
 * copier: plain memcpy). Any thread may call it; while one copy runs split,
 * another runs on its caller alone. */
void wgv_copy(struct wgv_copier *c, void *dst, const void *src, size_t n);

#endif
