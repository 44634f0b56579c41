/* The backend loader: the bundled library loads and works, a missing file and
 * a missing symbol are clear errors. */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "harness.h"
#include "wgv-host.h"

/* A CPU driver's JIT resolves the maths calls of compiled shaders in the
 * process's global scope; this program, like wgv-server, links no maths
 * library (in the normal build; a sanitizer's runtime brings one), so only
 * the loader can have put one there. Runs first: once any backend is
 * opened the library stays global. */
static void test_loading_makes_the_maths_library_global(void)
{
    if (dlsym(RTLD_DEFAULT, "exp2f") != NULL)
        printf("  note: this build links the maths library already (a sanitizer's runtime does); "
               "the normal build is the one that tells\n");
    char err[512] = "";
    struct wgv_backend *b = wgv_backend_open(NULL, err, sizeof(err));
    CHECK_MSG(b != NULL, "%s", err);
    CHECK(dlsym(RTLD_DEFAULT, "exp2f") != NULL);
    CHECK(dlsym(RTLD_DEFAULT, "powf") != NULL);
    wgv_backend_close(b);
    CHECK(dlsym(RTLD_DEFAULT, "exp2f") != NULL);
}

static void test_bundled_backend_loads_every_proc(void)
{
    char err[512] = "";
    struct wgv_backend *b = wgv_backend_open(NULL, err, sizeof(err));
    CHECK_MSG(b != NULL, "%s", err);
    if (!b)
        return;
    CHECK(wgv_proc_count > 150);
    for (size_t i = 0; i < wgv_proc_count; i++) {
        WGPUProc p;
        memcpy(&p, (const char *)&b->procs + wgv_proc_names[i].offset, sizeof(p));
        CHECK_MSG(p != NULL, "%s", wgv_proc_names[i].symbol);
    }
    wgv_backend_close(b);
}

static void test_instance_created_and_released(void)
{
    char err[512] = "";
    struct wgv_backend *b = wgv_backend_open(NULL, err, sizeof(err));
    CHECK_MSG(b != NULL, "%s", err);
    if (!b)
        return;
    WGPUInstance instance = b->procs.createInstance(NULL);
    CHECK(instance != NULL);
    if (instance) {
        b->procs.instanceAddRef(instance);
        b->procs.instanceRelease(instance);
        b->procs.instanceRelease(instance);
    }
    wgv_backend_close(b);
}

static void test_missing_file_names_the_path(void)
{
    char err[512] = "";
    const char *path = "/nonexistent/libwebgpu-missing.so";
    struct wgv_backend *b = wgv_backend_open(path, err, sizeof(err));
    CHECK(b == NULL);
    CHECK_MSG(strstr(err, path) != NULL, "error was: %s", err);
    wgv_backend_close(b);
}

static void test_missing_symbol_names_the_symbol(void)
{
    char err[512] = "";
    struct wgv_backend *b = wgv_backend_open(FAKE_BACKEND, err, sizeof(err));
    CHECK(b == NULL);
    /* The table is sorted, so the first symbol it resolves is not
     * wgpuCreateInstance, the only one the fake exports. */
    CHECK_MSG(strstr(err, wgv_proc_names[0].symbol) != NULL, "error was: %s", err);
    CHECK_MSG(strstr(err, "does not export") != NULL, "error was: %s", err);
    CHECK_MSG(strstr(err, FAKE_BACKEND) != NULL, "error was: %s", err);
    wgv_backend_close(b);
}

static void test_environment_overrides_default(void)
{
    const char *old = getenv(WGV_BACKEND_ENV);
    char *saved = old ? strdup(old) : NULL;
    setenv(WGV_BACKEND_ENV, "/nonexistent/override.so", 1);
    CHECK(strcmp(wgv_backend_default_path(), "/nonexistent/override.so") == 0);
    char err[512] = "";
    struct wgv_backend *b = wgv_backend_open(NULL, err, sizeof(err));
    CHECK(b == NULL);
    CHECK_MSG(strstr(err, "/nonexistent/override.so") != NULL, "error was: %s", err);
    if (saved) {
        setenv(WGV_BACKEND_ENV, saved, 1);
        free(saved);
    } else {
        unsetenv(WGV_BACKEND_ENV);
    }
}

static void test_library_of_another_abi_is_refused(void)
{
    char err[512] = "";
    /* It exports every proc, so it loads... */
    struct wgv_backend *b = wgv_backend_open(OTHER_ABI_BACKEND, err, sizeof(err));
    CHECK_MSG(b != NULL, "%s", err);
    wgv_backend_close(b);
    /* ...but the host tells its ABI apart by what it exports. */
    struct wgv_host_config cfg = {.backend_path = OTHER_ABI_BACKEND};
    struct wgv_host *host = wgv_host_create(&cfg, err, sizeof(err));
    CHECK(host == NULL);
    CHECK_MSG(strstr(err, "does not speak") != NULL, "error was: %s", err);
    wgv_host_destroy(host);
}

static void test_bundled_library_speaks_the_host_abi(void)
{
    char err[512] = "";
    struct wgv_host *host = wgv_host_create(NULL, err, sizeof(err));
    CHECK_MSG(host != NULL, "%s", err);
    wgv_host_destroy(host);
}

int main(void)
{
    RUN(test_loading_makes_the_maths_library_global);
    RUN(test_bundled_backend_loads_every_proc);
    RUN(test_instance_created_and_released);
    RUN(test_missing_file_names_the_path);
    RUN(test_missing_symbol_names_the_symbol);
    RUN(test_environment_overrides_default);
    RUN(test_library_of_another_abi_is_refused);
    RUN(test_bundled_library_speaks_the_host_abi);
    return harness_finish("loader");
}
