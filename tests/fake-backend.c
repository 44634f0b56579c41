/* A library that claims to be a webgpu.h implementation but exports only
 * wgpuCreateInstance: the loader must name the first symbol it lacks. */
__attribute__((visibility("default"))) void *wgpuCreateInstance(const void *descriptor)
{
    (void)descriptor;
    return 0;
}
