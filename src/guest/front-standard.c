/* What only the standard front (webgpu.h b2b04dd) has: its instance
 * descriptor, read as standard-abi.c reads it, and no chained limits. The
 * rest of the front is shared (docs/using.md). */
#include "standard-abi.h"

WGPU_EXPORT WGPUInstance wgpuCreateInstance(WGPUInstanceDescriptor const *descriptor)
{
    return wgv_instance_new_standard(descriptor);
}

/* No chained limits cross the wire, and this ABI adds none of its own. */
WGPUStatus wgv_front_limits(const WGPULimits *have, WGPUChainedStruct *chain)
{
    (void)have, (void)chain;
    return WGPUStatus_Error;
}
