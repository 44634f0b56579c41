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
/* Most helper threads a copier starts (the caller copies a part too), and
 * how many the library's copiers ask for: four threads in all reach most of
 * a server's memory bandwidth without taking many cores from the GPU's
 * other users. */
#define WGV_COPY_HELPERS_MAX 7
#define WGV_COPY_HELPERS_DEFAULT 3

struct wgv_copier;

/* A copier with up to `helpers` helper threads (capped by the CPUs online
 * less one, and WGV_COPY_HELPERS_MAX); NULL only when out of memory. */
struct wgv_copier *wgv_copier_create(unsigned helpers);
/* Ends the helpers and frees the copier (NULL: nothing). */
void wgv_copier_destroy(struct wgv_copier *c);
/* memcpy(dst, src, n), split over the helpers when n is large (NULL
 * copier: plain memcpy). Any thread may call it; while one copy runs split,
 * another runs on its caller alone. */
void wgv_copy(struct wgv_copier *c, void *dst, const void *src, size_t n);

#endif
