/* Dawn's toggles are a security boundary: a DawnTogglesDescriptor a guest
 * chains onto its adapter options or device descriptor is filtered here
 * before Dawn sees it. A toggle passes only if it is on the allowlist (the
 * built-in one below, widened by the host operator's allowed_toggles);
 * every other one -- allow_unsafe_apis, skip_validation, disable_robustness,
 * disable_workgroup_init, dump_shaders, disabling timestamp_quantization or
 * lazy clears, any name Dawn does not know -- is dropped and logged, and
 * the request goes on without it (docs/security.md). */
#include "context.h"

#include <string.h>

#include "toggle-allowlist.h"

bool wgv_host_toggle_allowed(const struct wgv_host *host, const char *name)
{
    if (wgv_toggle_builtin_allowed(name))
        return true;
    for (size_t i = 0; i < host->config.allowed_toggle_count; i++)
        if (host->config.allowed_toggles[i] && !strcmp(name, host->config.allowed_toggles[i]))
            return true;
    return false;
}

/* Keeps the allowed names of one list in place; returns the new count. */
static size_t filter_list(struct wgv_context *ctx, const char *what, const char **names, size_t count,
                          const char *state)
{
    size_t kept = 0;
    for (size_t i = 0; i < count; i++) {
        const char *n = names[i] ? names[i] : "";
        if (wgv_host_toggle_allowed(ctx->host, n)) {
            names[kept++] = n;
            continue;
        }
        wgv_host_log(ctx->host, WGV_LOG_INFO, "context %u: %s toggle '%.64s' (%s) dropped: not on the "
                     "host's allowlist", ctx->id, what, n, state);
    }
    return kept;
}

void wgv_host_filter_toggles(struct wgv_context *ctx, const char *what, WGPUChainedStruct *chain)
{
    for (WGPUChainedStruct *l = chain; l; l = l->next) {
        if (l->sType != WGPUSType_DawnTogglesDescriptor)
            continue;
        /* The decoder built these arrays in the command's arena. */
        WGPUDawnTogglesDescriptor *t = (WGPUDawnTogglesDescriptor *)l;
        t->enabledToggleCount = filter_list(ctx, what, (const char **)t->enabledToggles,
                                            t->enabledToggleCount, "enabled");
        t->disabledToggleCount = filter_list(ctx, what, (const char **)t->disabledToggles,
                                             t->disabledToggleCount, "disabled");
    }
}
