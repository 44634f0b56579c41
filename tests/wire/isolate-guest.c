/* A guest for the isolated-server tests (isolate-test.sh):
 *
 *   isolate-guest hang      dispatches a shader that never ends and waits for
 *                           it; exits 3 once the host connection is gone.
 *                           CPU adapters only: on a GPU it exits 4 without
 *                           dispatching (a hung GPU is the driver's to end)
 *   isolate-guest hang2     the same on one device while a second device of
 *                           the same guest keeps finishing work: the
 *                           watchdog must look at each callback owed, not
 *                           at the guest's progress as a whole
 *   isolate-guest idle SEC  connects, prints "ready", stays connected and idle
 *                           for SEC seconds, then computes something and
 *                           checks it: exit 0 if right, 1 if wrong, 3 if the
 *                           host connection is gone
 *
 * Any other failure exits 2. */
#include <webgpu/webgpu.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static WGPUInstance instance;
static WGPUAdapter adapter;
static WGPUDevice device;
static WGPUQueue queue;
static int devices_made, devices_lost; /* devices, and device-lost callbacks seen */

static void on_adapter(WGPURequestAdapterStatus s, WGPUAdapter a, WGPUStringView m, void *u1, void *u2)
{
    (void)m, (void)u2;
    if (s == WGPURequestAdapterStatus_Success)
        *(WGPUAdapter *)u1 = a;
}

static void on_device(WGPURequestDeviceStatus s, WGPUDevice d, WGPUStringView m, void *u1, void *u2)
{
    (void)m, (void)u2;
    if (s == WGPURequestDeviceStatus_Success)
        *(WGPUDevice *)u1 = d;
}

static void on_done(WGPUQueueWorkDoneStatus s, WGPUStringView m, void *u1, void *u2)
{
    (void)m, (void)u2;
    *(int *)u1 = s == WGPUQueueWorkDoneStatus_Success ? 1 : 2;
}

static void on_map(WGPUMapAsyncStatus s, WGPUStringView m, void *u1, void *u2)
{
    (void)m, (void)u2;
    *(int *)u1 = s == WGPUMapAsyncStatus_Success ? 1 : 2;
}

static void on_lost(WGPUDevice const *d, WGPUDeviceLostReason r, WGPUStringView m, void *u1, void *u2)
{
    (void)d, (void)u1, (void)u2;
    if (r == WGPUDeviceLostReason_Destroyed || r == WGPUDeviceLostReason_CallbackCancelled)
        return;
    devices_lost++;
    printf("device lost: %.*s\n", m.data ? (int)(m.length == WGPU_STRLEN ? strlen(m.data) : m.length) : 0,
           m.data ? m.data : "");
}

/* Waits for one future; once the host is gone (every callback owed then
 * completes, device-lost callbacks first), exits 3 if every device this
 * guest made was told it is lost, 2 if not. */
static void wait_for(WGPUFuture f)
{
    WGPUFutureWaitInfo w = {f, 0};
    WGPUWaitStatus s = wgpuInstanceWaitAny(instance, 1, &w, UINT64_MAX);
    if (s != WGPUWaitStatus_Success || !w.completed || devices_lost) {
        printf("host connection gone (wait status %d), %d devices lost\n", (int)s, devices_lost);
        wgpuInstanceProcessEvents(instance);
        exit(devices_lost == devices_made ? 3 : 2);
    }
}

/* The default adapter of the instance (exits 2 without one). */
static WGPUAdapter new_adapter(void)
{
    WGPUAdapter a = NULL;
    WGPURequestAdapterCallbackInfo ac = WGPU_REQUEST_ADAPTER_CALLBACK_INFO_INIT;
    ac.mode = WGPUCallbackMode_WaitAnyOnly;
    ac.callback = on_adapter;
    ac.userdata1 = &a;
    wait_for(wgpuInstanceRequestAdapter(instance, NULL, ac));
    if (!a)
        exit(2);
    return a;
}

static WGPUDevice new_device(WGPUAdapter a)
{
    WGPUDevice d = NULL;
    WGPUDeviceDescriptor dd = WGPU_DEVICE_DESCRIPTOR_INIT;
    dd.deviceLostCallbackInfo.mode = WGPUCallbackMode_AllowSpontaneous;
    dd.deviceLostCallbackInfo.callback = on_lost;
    WGPURequestDeviceCallbackInfo dc = WGPU_REQUEST_DEVICE_CALLBACK_INFO_INIT;
    dc.mode = WGPUCallbackMode_WaitAnyOnly;
    dc.callback = on_device;
    dc.userdata1 = &d;
    wait_for(wgpuAdapterRequestDevice(a, &dd, dc));
    if (!d)
        exit(2);
    devices_made++;
    return d;
}

static void connect_device(void)
{
    WGPUInstanceFeatureName f = WGPUInstanceFeatureName_TimedWaitAny;
    WGPUInstanceDescriptor id = WGPU_INSTANCE_DESCRIPTOR_INIT;
    id.requiredFeatureCount = 1;
    id.requiredFeatures = &f;
    instance = wgpuCreateInstance(&id);
    if (!instance)
        exit(2);
    adapter = new_adapter();
    device = new_device(adapter);
    queue = wgpuDeviceGetQueue(device);
}

static WGPUBuffer buffer(uint64_t size, WGPUBufferUsage usage)
{
    WGPUBufferDescriptor bd = WGPU_BUFFER_DESCRIPTOR_INIT;
    bd.size = size;
    bd.usage = usage;
    return wgpuDeviceCreateBuffer(device, &bd);
}

/* Runs `wgsl` (entry point main, binding 0 = buf) over `words` u32 words
 * that start as `init`, and leaves the result in a MapRead buffer. */
static WGPUBuffer run(const char *wgsl, const uint32_t *init, unsigned words, unsigned groups)
{
    WGPUShaderSourceWGSL src = WGPU_SHADER_SOURCE_WGSL_INIT;
    src.code = (WGPUStringView){wgsl, WGPU_STRLEN};
    WGPUShaderModuleDescriptor md = WGPU_SHADER_MODULE_DESCRIPTOR_INIT;
    md.nextInChain = &src.chain;
    WGPUShaderModule module = wgpuDeviceCreateShaderModule(device, &md);
    WGPUComputePipelineDescriptor pd = WGPU_COMPUTE_PIPELINE_DESCRIPTOR_INIT;
    pd.compute.module = module;
    WGPUComputePipeline pipe = wgpuDeviceCreateComputePipeline(device, &pd);
    uint64_t size = 4ull * words;
    WGPUBuffer buf = buffer(size, WGPUBufferUsage_Storage | WGPUBufferUsage_CopySrc |
                                      WGPUBufferUsage_CopyDst);
    WGPUBuffer back = buffer(size, WGPUBufferUsage_MapRead | WGPUBufferUsage_CopyDst);
    wgpuQueueWriteBuffer(queue, buf, 0, init, size);
    WGPUBindGroupEntry e = WGPU_BIND_GROUP_ENTRY_INIT;
    e.binding = 0;
    e.buffer = buf;
    e.size = size;
    WGPUBindGroupDescriptor bgd = WGPU_BIND_GROUP_DESCRIPTOR_INIT;
    bgd.layout = wgpuComputePipelineGetBindGroupLayout(pipe, 0);
    bgd.entryCount = 1;
    bgd.entries = &e;
    WGPUBindGroup bg = wgpuDeviceCreateBindGroup(device, &bgd);
    WGPUCommandEncoder enc = wgpuDeviceCreateCommandEncoder(device, NULL);
    WGPUComputePassEncoder pass = wgpuCommandEncoderBeginComputePass(enc, NULL);
    wgpuComputePassEncoderSetPipeline(pass, pipe);
    wgpuComputePassEncoderSetBindGroup(pass, 0, bg, 0, NULL);
    wgpuComputePassEncoderDispatchWorkgroups(pass, groups, 1, 1);
    wgpuComputePassEncoderEnd(pass);
    wgpuCommandEncoderCopyBufferToBuffer(enc, buf, 0, back, 0, size);
    WGPUCommandBuffer cb = wgpuCommandEncoderFinish(enc, NULL);
    wgpuQueueSubmit(queue, 1, &cb);
    return back;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && (!strcmp(argv[1], "hang") || !strcmp(argv[1], "hang2"))) {
        bool second = !strcmp(argv[1], "hang2");
        connect_device();
        WGPUAdapterInfo info = WGPU_ADAPTER_INFO_INIT;
        wgpuAdapterGetInfo(adapter, &info);
        bool cpu = info.adapterType == WGPUAdapterType_CPU;
        wgpuAdapterInfoFreeMembers(info);
        if (!cpu) {
            printf("skipped: the adapter is not a CPU\n");
            return 4;
        }
        /* Never ends, and the compiler cannot tell: the loop's exit depends
         * on buffer contents (x stays 0 because buf[1] is 0), and every
         * iteration stores. */
        static const char *endless =
            "@group(0) @binding(0) var<storage, read_write> buf : array<u32>;\n"
            "@compute @workgroup_size(1) fn main() {\n"
            "  var x = buf[0];\n"
            "  loop {\n"
            "    if (x == 12345678u) { break; }\n"
            "    x = x + buf[1];\n"
            "    buf[2] = x;\n"
            "  }\n"
            "}\n";
        uint32_t init[4] = {0, 0, 0, 0};
        /* The second device first (its adapter too: one device each). */
        WGPUDevice busy = NULL;
        WGPUQueue busy_queue = NULL;
        if (second) {
            busy = new_device(new_adapter());
            busy_queue = wgpuDeviceGetQueue(busy);
        }
        run(endless, init, 4, 1);
        int done = 0;
        WGPUQueueWorkDoneCallbackInfo ci = WGPU_QUEUE_WORK_DONE_CALLBACK_INFO_INIT;
        ci.mode = WGPUCallbackMode_WaitAnyOnly;
        ci.callback = on_done;
        ci.userdata1 = &done;
        printf("waiting for a shader that never ends\n");
        fflush(stdout);
        WGPUFuture hung = wgpuQueueOnSubmittedWorkDone(queue, ci);
        if (second) {
            /* Keep the other device finishing small jobs meanwhile. */
            WGPUDevice hung_device = device;
            WGPUQueue hung_queue = queue;
            static const char *bump =
                "@group(0) @binding(0) var<storage, read_write> buf : array<u32>;\n"
                "@compute @workgroup_size(1) fn main() { buf[0] = buf[0] + 1u; }\n";
            for (unsigned round = 1;; round++) {
                device = busy;
                queue = busy_queue;
                run(bump, init, 4, 1);
                int bumped = 0;
                WGPUQueueWorkDoneCallbackInfo bi = WGPU_QUEUE_WORK_DONE_CALLBACK_INFO_INIT;
                bi.mode = WGPUCallbackMode_WaitAnyOnly;
                bi.callback = on_done;
                bi.userdata1 = &bumped;
                device = hung_device;
                queue = hung_queue;
                wait_for(wgpuQueueOnSubmittedWorkDone(busy_queue, bi));
                printf("the other device finished round %u\n", round);
                fflush(stdout);
                struct timespec nap = {0, 100 * 1000 * 1000};
                nanosleep(&nap, NULL);
            }
        }
        wait_for(hung);
        printf("the endless shader ended (status %d)\n", done);
        return 2;
    }
    if (argc >= 3 && !strcmp(argv[1], "idle")) {
        connect_device();
        printf("ready\n");
        fflush(stdout);
        struct timespec ts = {atoi(argv[2]), 0};
        while (nanosleep(&ts, &ts) != 0)
            ;
        static const char *square =
            "@group(0) @binding(0) var<storage, read_write> buf : array<u32>;\n"
            "@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id : vec3u) {\n"
            "  buf[id.x] = buf[id.x] * buf[id.x] + 1u;\n"
            "}\n";
        enum { N = 256 };
        uint32_t init[N];
        for (uint32_t i = 0; i < N; i++)
            init[i] = i;
        WGPUBuffer back = run(square, init, N, N / 64);
        int mapped = 0;
        WGPUBufferMapCallbackInfo mi = WGPU_BUFFER_MAP_CALLBACK_INFO_INIT;
        mi.mode = WGPUCallbackMode_WaitAnyOnly;
        mi.callback = on_map;
        mi.userdata1 = &mapped;
        wait_for(wgpuBufferMapAsync(back, WGPUMapMode_Read, 0, 4 * N, mi));
        const uint32_t *out = wgpuBufferGetConstMappedRange(back, 0, 4 * N);
        if (mapped != 1 || !out) {
            printf("mapping failed\n");
            return 2;
        }
        int bad = 0;
        for (uint32_t i = 0; i < N; i++)
            bad += out[i] != i * i + 1u;
        printf("%d wrong of %d\n", bad, N);
        return bad ? 1 : 0;
    }
    fprintf(stderr, "usage: isolate-guest hang | idle SECONDS\n");
    return 2;
}
