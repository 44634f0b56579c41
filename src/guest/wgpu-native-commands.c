/* The commands wgpu.h adds: those the wire has under Dawn's names (indirect
 * draws with a count buffer) or can build from standard ones (multi-draws,
 * SPIR-V and trusted shader modules), and those that need a feature the
 * host never offers, which record a validation error as wgpu-native does
 * for a command whose feature the device lacks (docs/using.md). */
#include <stdio.h>

#include "wgpu-native.h"

/* The draw arguments in an indirect buffer: 4 or 5 32-bit words. */
#define DRAW_INDIRECT_STRIDE 16
#define DRAW_INDEXED_INDIRECT_STRIDE 20

/* The command encoder a pass encoder records into. */
static WGPUCommandEncoder encoder_of(void *pass)
{
    return (WGPUCommandEncoder)((struct wgv_object *)pass)->parent;
}

/* Makes the encoder invalid: its Finish reports the error. */
static void needs_feature(WGPUCommandEncoder encoder, const char *what, const char *feature)
{
    char msg[200];
    int n = snprintf(msg, sizeof(msg), "%s requires the %s feature, which the device does not have",
                     what, feature);
    wgv_wire_wgpuCommandEncoderInjectValidationError(encoder, (WGPUStringView){msg, (size_t)n});
}

/* wgpu without native multi-draw runs one indirect draw per command. */
WGPU_EXPORT void wgpuRenderPassEncoderMultiDrawIndirect(WGPURenderPassEncoder encoder, WGPUBuffer buffer,
                                                        uint64_t offset, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++)
        wgpuRenderPassEncoderDrawIndirect(encoder, buffer, offset + (uint64_t)i * DRAW_INDIRECT_STRIDE);
}

WGPU_EXPORT void wgpuRenderPassEncoderMultiDrawIndexedIndirect(WGPURenderPassEncoder encoder, WGPUBuffer buffer,
                                                               uint64_t offset, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++)
        wgpuRenderPassEncoderDrawIndexedIndirect(encoder, buffer,
                                                 offset + (uint64_t)i * DRAW_INDEXED_INDIRECT_STRIDE);
}

/* Dawn's multi-draw with a count buffer (its feature MultiDrawIndirect is
 * wgpu-native's MultiDrawIndirectCount, api/wire.json). */
WGPU_EXPORT void wgpuRenderPassEncoderMultiDrawIndirectCount(WGPURenderPassEncoder encoder, WGPUBuffer buffer,
                                                             uint64_t offset, WGPUBuffer count_buffer,
                                                             uint64_t count_buffer_offset, uint32_t max_count)
{
    wgv_wire_wgpuRenderPassEncoderMultiDrawIndirect(encoder, buffer, offset, max_count, count_buffer,
                                                    count_buffer_offset);
}

WGPU_EXPORT void wgpuRenderPassEncoderMultiDrawIndexedIndirectCount(
    WGPURenderPassEncoder encoder, WGPUBuffer buffer, uint64_t offset, WGPUBuffer count_buffer,
    uint64_t count_buffer_offset, uint32_t max_count)
{
    wgv_wire_wgpuRenderPassEncoderMultiDrawIndexedIndirect(encoder, buffer, offset, max_count, count_buffer,
                                                           count_buffer_offset);
}

/* Pipeline statistics and texture clears need features the host's Dawn
 * does not have. */
WGPU_EXPORT void wgpuComputePassEncoderBeginPipelineStatisticsQuery(WGPUComputePassEncoder computePassEncoder,
                                                                    WGPUQuerySet querySet, uint32_t queryIndex)
{
    (void)querySet, (void)queryIndex;
    needs_feature(encoder_of(computePassEncoder), "BeginPipelineStatisticsQuery", "PipelineStatisticsQuery");
}

WGPU_EXPORT void wgpuComputePassEncoderEndPipelineStatisticsQuery(WGPUComputePassEncoder computePassEncoder)
{
    needs_feature(encoder_of(computePassEncoder), "EndPipelineStatisticsQuery", "PipelineStatisticsQuery");
}

WGPU_EXPORT void wgpuRenderPassEncoderBeginPipelineStatisticsQuery(WGPURenderPassEncoder renderPassEncoder,
                                                                   WGPUQuerySet querySet, uint32_t queryIndex)
{
    (void)querySet, (void)queryIndex;
    needs_feature(encoder_of(renderPassEncoder), "BeginPipelineStatisticsQuery", "PipelineStatisticsQuery");
}

WGPU_EXPORT void wgpuRenderPassEncoderEndPipelineStatisticsQuery(WGPURenderPassEncoder renderPassEncoder)
{
    needs_feature(encoder_of(renderPassEncoder), "EndPipelineStatisticsQuery", "PipelineStatisticsQuery");
}

WGPU_EXPORT void wgpuCommandEncoderClearTexture(WGPUCommandEncoder commandEncoder, WGPUTexture texture,
                                                WGPUImageSubresourceRange const *range)
{
    (void)texture, (void)range;
    needs_feature(commandEncoder, "ClearTexture", "ClearTexture");
}

/* ---------------------------------------------------------------- shaders */

/* SPIR-V goes to the host as the standard SPIR-V source, which the host's
 * implementation checks like any shader (no passthrough). */
WGPU_EXPORT WGPUShaderModule wgpuDeviceCreateShaderModuleSpirV(WGPUDevice device,
                                                               WGPUShaderModuleDescriptorSpirV const *descriptor)
{
    WGPUShaderSourceSPIRV spirv = WGPU_SHADER_SOURCE_SPIRV_INIT;
    WGPUShaderModuleDescriptor d = WGPU_SHADER_MODULE_DESCRIPTOR_INIT;
    if (descriptor) {
        spirv.codeSize = descriptor->sourceSize;
        spirv.code = descriptor->source;
        d.label = descriptor->label;
    }
    d.nextInChain = &spirv.chain;
    return wgpuDeviceCreateShaderModule(device, &d);
}

/* The host keeps its runtime checks whatever a guest trusts. */
WGPU_EXPORT WGPUShaderModule wgpuDeviceCreateShaderModuleTrusted(WGPUDevice device,
                                                                 WGPUShaderModuleDescriptor const *descriptor,
                                                                 WGPUShaderRuntimeChecks runtimeChecks)
{
    (void)runtimeChecks;
    return wgpuDeviceCreateShaderModule(device, descriptor);
}

/* ------------------------------------------------------- native handles */

/* A guest has no Metal objects, nor a graphics debugger of the host's. */
WGPU_EXPORT void *wgpuDeviceGetNativeMetalDevice(WGPUDevice device)
{
    (void)device;
    return NULL;
}

WGPU_EXPORT void *wgpuQueueGetNativeMetalCommandQueue(WGPUQueue queue)
{
    (void)queue;
    return NULL;
}

WGPU_EXPORT void *wgpuTextureGetNativeMetalTexture(WGPUTexture texture)
{
    (void)texture;
    return NULL;
}

WGPU_EXPORT WGPUBool wgpuDeviceStartGraphicsDebuggerCapture(WGPUDevice device)
{
    (void)device;
    return 0;
}

WGPU_EXPORT void wgpuDeviceStopGraphicsDebuggerCapture(WGPUDevice device)
{
    (void)device;
}
