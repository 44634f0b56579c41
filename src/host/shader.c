/* Hand-written shader command: createShaderModule (source size limit). */
#include "context.h"

#include <stdio.h>

void wgv_host_exec_wgpuDeviceCreateShaderModule(struct wgv_context *ctx,
                                                struct wgv_ha_wgpuDeviceCreateShaderModule *a)
{
    uint64_t source = 0;
    for (const WGPUChainedStruct *c = a->descriptor ? a->descriptor->nextInChain : NULL; c;
         c = c->next) {
        if (c->sType == WGPUSType_ShaderSourceWGSL)
            source += ((const WGPUShaderSourceWGSL *)c)->code.length;
        else if (c->sType == WGPUSType_ShaderSourceSPIRV)
            source += (uint64_t)((const WGPUShaderSourceSPIRV *)c)->codeSize * 4;
    }
    if (source > ctx->policy.max_shader_bytes) {
        char msg[160];
        snprintf(msg, sizeof(msg), "createShaderModule: %llu bytes of source exceed this "
                 "context's limit of %llu", (unsigned long long)source,
                 (unsigned long long)ctx->policy.max_shader_bytes);
        wgv_host_report_error(ctx, WGPUErrorType_Validation, msg);
        return;
    }
    wgv_host_store(ctx, WGV_OBJ_ShaderModule, a->result,
                   ctx->procs->deviceCreateShaderModule(a->device, a->descriptor));
}
