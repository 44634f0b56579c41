/* vhost-user-webgpu: the virtio-gpu device of a QEMU VM
 * (-device vhost-user-gpu-pci), served by libwgv-host (docs/vm.md). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vu.h"

static struct wgv_vu *running;

static void on_signal(int sig)
{
    (void)sig;
    if (running)
        wgv_vu_stop(running);
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: vhost-user-webgpu (--socket-path PATH | --fd N) [options]\n"
            "  --socket-path PATH  listen here for the front-end (QEMU's chardev socket)\n"
            "  --fd N              use this inherited, connected socket instead\n"
            "  --once              exit when the first front-end leaves (always with --fd)\n"
            "  --backend LIB       host WebGPU implementation (default: $WGV_BACKEND_LIB or bundled Dawn)\n"
            "  --null              give every context Dawn's Null backend (validates, draws nothing);\n"
            "                      without it guests never get the Null adapter\n"
            "  --max-memory MIB    memory of buffers, textures and objects per context (default 4096)\n"
            "  --max-objects N     objects alive per context (default 1048576)\n"
            "  --max-shader-kib K  source of one shader module (default 16384)\n"
            "  --max-ring-mib M    command or reply ring a SETUP may ask for (default 64)\n"
            "  --max-bulk-mib M    bulk area a SETUP may ask for (default 4096)\n"
            "  --max-contexts N    virtio-gpu contexts alive at once (default 64)\n"
            "  --max-resources N   resources alive at once (default 65536)\n"
            "  --max-2d-mib M      host memory for 2D resources (default 256)\n"
            "  --print-capabilities  print the vhost-user back-end capabilities (JSON) and exit\n"
            "  --verbose           log the front-end, contexts and failed requests\n");
}

/* Says which adapters the backend offers, and warns when guests would get
 * none but Dawn's Null adapter. */
static void report_adapters(struct wgv_vu *vu)
{
    struct wgv_host_adapter found[4];
    unsigned n = wgv_host_list_adapters(vu->host, found, 4);
    bool gpu = false;
    for (unsigned i = 0; i < n && i < 4; i++) {
        gpu |= !found[i].null_backend;
        fprintf(stderr, "vhost-user-webgpu: adapter: %s (%s%s)\n", found[i].name,
                found[i].backend, found[i].null_backend ? ": Dawn's Null backend, no GPU" : "");
    }
    if (wgv_host_allows_null_adapter(vu->host))
        fprintf(stderr, "vhost-user-webgpu: --null: guests get Dawn's Null backend (it "
                        "validates, draws nothing)\n");
    else if (!gpu)
        fprintf(stderr, "vhost-user-webgpu: WARNING: no GPU adapter found%s; guests' adapter "
                        "requests will fail (is a GPU driver installed? Mesa's lavapipe provides "
                        "a Vulkan one on the CPU); --null serves Dawn's Null backend instead\n",
                n ? ", only Dawn's Null backend" : "");
}

static bool number(const char *s, unsigned long long max, unsigned long long *out)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end || v > max)
        return false;
    *out = v;
    return true;
}

int main(int argc, char **argv)
{
    struct wgv_vu_config cfg = {.fd = -1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        unsigned long long v = 0;
        bool takes = true;
        if (!strcmp(a, "--socket-path") && val)
            cfg.socket_path = val;
        else if (!strcmp(a, "--fd") && val && number(val, 1 << 20, &v))
            cfg.fd = (int)v;
        else if (!strcmp(a, "--backend") && val)
            cfg.backend_path = val;
        else if (!strcmp(a, "--max-memory") && val && number(val, 1ull << 30, &v))
            cfg.policy.max_memory = v << 20;
        else if (!strcmp(a, "--max-objects") && val && number(val, UINT32_MAX, &v))
            cfg.policy.max_objects = (uint32_t)v;
        else if (!strcmp(a, "--max-shader-kib") && val && number(val, 1ull << 30, &v))
            cfg.policy.max_shader_bytes = v << 10;
        else if (!strcmp(a, "--max-ring-mib") && val && number(val, 1024, &v))
            cfg.max_shm.cmd_ring = cfg.max_shm.reply_ring = v << 20;
        else if (!strcmp(a, "--max-bulk-mib") && val && number(val, 64 << 10, &v))
            cfg.max_shm.bulk = v << 20;
        else if (!strcmp(a, "--max-contexts") && val && number(val, 1 << 16, &v))
            cfg.max_contexts = (unsigned)v;
        else if (!strcmp(a, "--max-resources") && val && number(val, 1 << 24, &v))
            cfg.max_resources = (unsigned)v;
        else if (!strcmp(a, "--max-2d-mib") && val && number(val, 1 << 20, &v))
            cfg.max_2d_bytes = v << 20;
        else {
            takes = false;
            if (!strcmp(a, "--null"))
                cfg.force_backend = 1;
            else if (!strcmp(a, "--once"))
                cfg.once = true;
            else if (!strcmp(a, "--verbose"))
                cfg.verbose = true;
            else if (!strcmp(a, "--print-capabilities")) {
                printf("{\n  \"type\": \"gpu\",\n  \"features\": []\n}\n");
                return 0;
            } else if (!strcmp(a, "--help")) {
                usage(stdout);
                return 0;
            } else {
                fprintf(stderr, "vhost-user-webgpu: bad option or value: %s\n", a);
                usage(stderr);
                return 2;
            }
        }
        if (takes)
            i++;
    }
    if ((cfg.socket_path != NULL) == (cfg.fd >= 0)) {
        fprintf(stderr, "vhost-user-webgpu: give exactly one of --socket-path and --fd\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    char err[512];
    struct wgv_vu *vu = wgv_vu_create(&cfg, err, sizeof(err));
    if (!vu) {
        fprintf(stderr, "vhost-user-webgpu: %s\n", err);
        return 1;
    }
    report_adapters(vu);
    running = vu;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal; /* no SA_RESTART: poll returns at once */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    if (cfg.verbose)
        fprintf(stderr, "vhost-user-webgpu: %s %s\n", cfg.fd >= 0 ? "serving fd" : "listening on",
                cfg.fd >= 0 ? "(inherited)" : cfg.socket_path);
    int rc = wgv_vu_run(vu);
    running = NULL;
    wgv_vu_destroy(vu);
    return rc;
}
