/* wgvinfo: tells which host WebGPU implementation the host side would use and
 * whether it works. */
#include <stdio.h>
#include <string.h>

#include "backend.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: wgvinfo [--backend PATH]\n"
               "  Loads the host WebGPU implementation (default: $%s or the bundled Dawn)\n"
               "  and creates an instance on it.\n", WGV_BACKEND_ENV);
}

int main(int argc, char **argv)
{
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--backend") && i + 1 < argc) {
            path = argv[++i];
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }

    char err[512];
    struct wgv_backend *b = wgv_backend_open(path, err, sizeof(err));
    if (!b) {
        fprintf(stderr, "wgvinfo: %s\n", err);
        return 1;
    }
    printf("backend library: %s (%zu procs resolved)\n", b->path, wgv_proc_count);

    WGPUInstance instance = b->procs.createInstance(NULL);
    if (!instance) {
        fprintf(stderr, "wgvinfo: wgpuCreateInstance returned NULL on %s\n", b->path);
        wgv_backend_close(b);
        return 1;
    }
    printf("instance created: %p\n", (void *)instance);
    b->procs.instanceRelease(instance);
    printf("instance released\n");
    wgv_backend_close(b);
    return 0;
}
