/* What the standard webgpu.h has and the pinned Dawn's lacks, shared by
 * the fronts whose header is the standard one: the standard front and the
 * wgpu-native front (whose webgpu.h is the standard of a later revision). */
#ifndef WGV_STANDARD_ABI_H
#define WGV_STANDARD_ABI_H

#include "guest.h"

/* A new instance for a standard instance descriptor (may be NULL): NULL
 * for an instance feature other than TimedWaitAny or too high a
 * timedWaitAnyMaxCount. Chained structs are the caller's to read. */
WGPUInstance wgv_instance_new_standard(WGPUInstanceDescriptor const *descriptor);

#endif
