#include "backend.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef WGV_BACKEND_DEFAULT
#error "the build must define WGV_BACKEND_DEFAULT"
#endif

const char *wgv_backend_default_path(void)
{
    const char *env = getenv(WGV_BACKEND_ENV);
    return env && *env ? env : WGV_BACKEND_DEFAULT;
}

/* CPU drivers (llvmpipe behind lavapipe) compile shaders to machine code in
 * this process, and their JIT resolves the calls that code makes (exp2f,
 * powf, the f16 conversion helpers, ...) by name in the process's global
 * symbol scope only. A program that does not link the maths library itself,
 * as wgv-server does not, would leave those calls unresolved: the JIT does
 * not fail, it leaves them pointing at address 0, and the first dispatch
 * that reaches one crashes the host. So the runtime libraries such code
 * calls into are made global before a backend is loaded; each is loaded
 * once per process and stays (a driver may run code that needs it until
 * exit). Where one is missing (a libc that has its maths built in) nothing
 * is lost. */
static void expose_jit_runtime(void)
{
    static const char *const libs[] = {"libm.so.6", "libgcc_s.so.1"};
    for (size_t i = 0; i < sizeof(libs) / sizeof(libs[0]); i++)
        (void)dlopen(libs[i], RTLD_NOW | RTLD_GLOBAL);
}

struct wgv_backend *wgv_backend_open(const char *path, char *err, size_t errlen)
{
    if (!path)
        path = wgv_backend_default_path();
    if (strlen(path) >= sizeof(((struct wgv_backend *)0)->path)) {
        snprintf(err, errlen, "backend: path too long: %.64s...", path);
        return NULL;
    }

    expose_jit_runtime();
    /* RTLD_LOCAL keeps the backend's webgpu.h symbols from interposing on a
     * guest library loaded into the same process (tests do that). */
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char *why = dlerror();
        snprintf(err, errlen, "backend: cannot load %s: %s (run scripts/bootstrap, or set %s)",
                 path, why ? why : "unknown error", WGV_BACKEND_ENV);
        return NULL;
    }

    struct wgv_backend *b = calloc(1, sizeof(*b));
    if (!b) {
        dlclose(handle);
        snprintf(err, errlen, "backend: out of memory");
        return NULL;
    }
    b->handle = handle;
    strcpy(b->path, path);

    for (size_t i = 0; i < wgv_proc_count; i++) {
        dlerror();
        void *sym = dlsym(handle, wgv_proc_names[i].symbol);
        if (!sym) {
            snprintf(err, errlen, "backend: %s does not export %s", path,
                     wgv_proc_names[i].symbol);
            wgv_backend_close(b);
            return NULL;
        }
        /* POSIX guarantees a data pointer from dlsym converts to a function
         * pointer; memcpy states that without a cast warning. */
        memcpy((char *)&b->procs + wgv_proc_names[i].offset, &sym, sizeof(sym));
    }
    return b;
}

bool wgv_backend_has_symbol(const struct wgv_backend *backend, const char *symbol)
{
    dlerror();
    return dlsym(backend->handle, symbol) != NULL;
}

void wgv_backend_close(struct wgv_backend *backend)
{
    if (!backend)
        return;
    if (backend->handle)
        dlclose(backend->handle);
    free(backend);
}
