/* Loading the host WebGPU implementation (the "backend") at run time.
 *
 * The host never links against Dawn: it dlopens a library that exports the
 * webgpu.h C API and resolves the procs it needs into a table, so a VMM can
 * ship or choose its own build and a missing or wrong library is an error
 * message, not a loader failure at start-up. */
#ifndef WGV_HOST_BACKEND_H
#define WGV_HOST_BACKEND_H

#include <stdbool.h>
#include <stddef.h>

#include "wgv-host-wire.h"

/* Environment variable that overrides the backend library's path. */
#define WGV_BACKEND_ENV "WGV_BACKEND_LIB"

struct wgv_backend {
    void *handle;            /* from dlopen */
    char path[4096];         /* the file that was loaded */
    struct wgv_procs procs;  /* every proc the host calls, all non-NULL */
};

/* The path wgv_backend_open(NULL, ...) loads: $WGV_BACKEND_LIB if set,
 * else the build's default (the bundled Dawn). Never NULL. */
const char *wgv_backend_default_path(void);

/* Loads the library at `path` (NULL: wgv_backend_default_path()) and resolves
 * every proc. Returns a new backend the caller frees with wgv_backend_close, or
 * NULL with a one-line reason naming the path or the missing symbol in err. */
struct wgv_backend *wgv_backend_open(const char *path, char *err, size_t errlen);

/* Whether the library exports a symbol (for telling ABIs apart). */
bool wgv_backend_has_symbol(const struct wgv_backend *backend, const char *symbol);

/* Unloads the library and frees the backend. NULL is allowed. */
void wgv_backend_close(struct wgv_backend *backend);

#endif
