#include "backend-procs.h"

const struct wgv_proc_name wgv_proc_names[] = {
    {"wgpuCreateInstance", offsetof(struct wgv_procs, createInstance)},
    {"wgpuInstanceAddRef", offsetof(struct wgv_procs, instanceAddRef)},
    {"wgpuInstanceRelease", offsetof(struct wgv_procs, instanceRelease)},
    {"wgpuGetProcAddress", offsetof(struct wgv_procs, getProcAddress)},
};
const size_t wgv_proc_count = sizeof(wgv_proc_names) / sizeof(wgv_proc_names[0]);
