/* The built-in allowlist of Dawn toggles a guest may set (docs/security.md):
 * toggles either state of which is safe for a guest to choose, because they
 * change how Dawn drives the GPU, not what Dawn validates, clamps or
 * clears. The host's filter (toggles.c) reads it, and so does the LLM
 * benchmark's native "safe" run (bench/llm/safe-toggles.c), which applies
 * the host's policy to a program on Dawn directly. */
#ifndef WGV_HOST_TOGGLE_ALLOWLIST_H
#define WGV_HOST_TOGGLE_ALLOWLIST_H

#include <stdbool.h>
#include <string.h>

static const char *const wgv_toggle_builtin_allowlist[] = {
    "use_vulkan_memory_model",            /* Vulkan memory model in generated SPIR-V */
    "vulkan_enable_f16_on_nvidia",        /* ShaderF16 on NVIDIA's Vulkan driver */
    "use_user_defined_labels_in_backend", /* labels passed on to the driver's tools */
    "enable_immediate_error_handling",    /* error callbacks without deferral */
};

/* Whether `name` is on the built-in allowlist. */
static inline bool wgv_toggle_builtin_allowed(const char *name)
{
    for (size_t i = 0; i < sizeof(wgv_toggle_builtin_allowlist) / sizeof(wgv_toggle_builtin_allowlist[0]); i++)
        if (!strcmp(name, wgv_toggle_builtin_allowlist[i]))
            return true;
    return false;
}

#endif
