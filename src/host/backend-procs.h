/* The procs the host resolves from the backend library. */
#ifndef WGV_HOST_BACKEND_PROCS_H
#define WGV_HOST_BACKEND_PROCS_H

#include <stddef.h>

typedef void (*wgv_proc)(void);

struct wgv_procs {
    void *(*createInstance)(const void *descriptor);
    void (*instanceAddRef)(void *instance);
    void (*instanceRelease)(void *instance);
    wgv_proc getProcAddress;
};

/* One entry per member of struct wgv_procs: the exported symbol and where its
 * address goes. */
struct wgv_proc_name {
    const char *symbol;
    size_t offset;
};

extern const struct wgv_proc_name wgv_proc_names[];
extern const size_t wgv_proc_count;

#endif
