/* vhost-user-webgpu driven by a simulated QEMU and guest kernel
 * (frontend.c): the boot-time 2D sequence, capsets, contexts, a WebGPU round
 * trip through the shared-memory rings set up by SETUP, fences, the
 * CONTEXT_INIT/blob path, and malformed requests that must each get an
 * error while another context in the same daemon keeps working.
 *
 *   test-vhost-user DAEMON   (spawns DAEMON --socket-path ... --null) */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "encode.h"
#include "frontend.h"
#include "harness.h"
#include "protocol.h"
#include "ring.h"
#include "shm.h"
#include "virtgpu-records.h"
#include "virtio-gpu.h"
#include "wgv-guest-wire.h"

#define H(id, gen) ((uint64_t)(id) | ((uint64_t)(gen) << 32))
#define OBJ(type, id) ((type)(uintptr_t)H(id, 1))

static const char *daemon_exe;
static char tmpdir[128], sock_path[192], log_path[192];
static pid_t daemon_pid = -1;
static struct fe fe;

/* ------------------------------------------------------------ the daemon */

static bool start_daemon(void)
{
    daemon_pid = fork();
    if (daemon_pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the test */
        int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 2);
            close(fd);
        }
        execl(daemon_exe, daemon_exe, "--socket-path", sock_path, "--null", "--verbose",
              "--max-bulk-mib", "16", "--max-contexts", "8", (char *)NULL);
        _exit(127);
    }
    return daemon_pid > 0;
}

static bool daemon_running(void)
{
    int st;
    return daemon_pid > 0 && waitpid(daemon_pid, &st, WNOHANG) == 0;
}

static bool log_has(const char *needle)
{
    FILE *f = fopen(log_path, "r");
    if (!f)
        return false;
    char line[2048];
    bool found = false;
    while (!found && fgets(line, sizeof(line), f))
        found = strstr(line, needle) != NULL;
    fclose(f);
    return found;
}

static bool wait_log(const char *needle, int ms)
{
    for (int i = 0; i < ms / 10; i++) {
        if (log_has(needle))
            return true;
        usleep(10000);
    }
    return false;
}

/* ------------------------------------------------------------ requests */

static struct wgv_gpu_hdr hdr(uint32_t type, uint32_t ctx)
{
    struct wgv_gpu_hdr h = {.type = type, .ctx_id = ctx};
    return h;
}

static uint32_t ctx_create(uint32_t id, uint32_t context_init)
{
    struct wgv_gpu_ctx_create c = {.hdr = hdr(WGV_GPU_CMD_CTX_CREATE, id), .nlen = 4,
                                   .context_init = context_init};
    memcpy(c.debug_name, "test", 4);
    return fe_cmd(&fe, &c, sizeof(c), NULL, 0);
}

static uint32_t ctx_destroy(uint32_t id)
{
    struct wgv_gpu_hdr h = hdr(WGV_GPU_CMD_CTX_DESTROY, id);
    return fe_cmd(&fe, &h, sizeof(h), NULL, 0);
}

static uint32_t res_create_3d(uint32_t id, uint32_t size)
{
    struct wgv_gpu_resource_create_3d c = {.hdr = hdr(WGV_GPU_CMD_RESOURCE_CREATE_3D, 0),
                                           .resource_id = id, .width = size, .height = 1,
                                           .depth = 1, .array_size = 1};
    return fe_cmd(&fe, &c, sizeof(c), NULL, 0);
}

static uint32_t ctx_res(uint32_t type, uint32_t ctx, uint32_t res)
{
    struct wgv_gpu_resource_id c = {.hdr = hdr(type, ctx), .resource_id = res};
    return fe_cmd(&fe, &c, sizeof(c), NULL, 0);
}

static uint32_t attach_backing(uint32_t res, const struct wgv_gpu_mem_entry *e, uint32_t n,
                               uint32_t claimed)
{
    static uint8_t buf[FE_SLOT_CMD];
    struct wgv_gpu_attach_backing a = {.hdr = hdr(WGV_GPU_CMD_RESOURCE_ATTACH_BACKING, 0),
                                       .resource_id = res, .nr_entries = claimed};
    memcpy(buf, &a, sizeof(a));
    memcpy(buf + sizeof(a), e, n * sizeof(*e));
    return fe_cmd(&fe, buf, sizeof(a) + n * sizeof(*e), NULL, 0);
}

/* Scattered guest pages: 16 KiB chunks alternating between the two RAM
 * regions, listed in reverse, so the daemon must really gather them. */
static unsigned scatter(uint64_t total, struct wgv_gpu_mem_entry *e)
{
    unsigned n = 0;
    for (uint64_t off = 0; off < total; off += 16384) {
        uint64_t len = total - off < 16384 ? total - off : 16384;
        e[n].addr = fe_alloc(&fe, n % 2, len + 4096); /* a gap after each */
        e[n].length = (uint32_t)len;
        n++;
    }
    for (unsigned i = 0; i < n / 2; i++) {
        struct wgv_gpu_mem_entry t = e[i];
        e[i] = e[n - 1 - i];
        e[n - 1 - i] = t;
    }
    /* The guest sees them in list order: reversing the list reverses the
     * layout, which is what the daemon must follow. */
    return n;
}

/* The guest's contiguous view of a scatter list (what DRM_IOCTL_VIRTGPU_MAP
 * gives a guest process). */
static uint8_t *map_view(const struct wgv_gpu_mem_entry *e, unsigned n, uint64_t total)
{
    uint8_t *base = mmap(NULL, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    uint64_t off = 0;
    for (unsigned i = 0; i < n && off < total; i++) {
        uint64_t foff = e[i].addr < FE_REGION1_GPA ? e[i].addr
                                                   : FE_REGION_SIZE + (e[i].addr - FE_REGION1_GPA);
        mmap(base + off, e[i].length, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fe.memfd,
             (off_t)foff);
        off += e[i].length;
    }
    return base;
}

/* SUBMIT_3D with the given records; flags may add FENCE/INFO_RING_IDX.
 * Returns the response type (0: none within 5 s). */
static uint32_t submit(uint32_t ctx, const void *records, uint32_t len, uint32_t flags,
                       uint8_t ring, struct wgv_gpu_hdr *resp)
{
    uint8_t buf[512];
    struct wgv_gpu_submit_3d s = {.hdr = hdr(WGV_GPU_CMD_SUBMIT_3D, ctx), .size = len};
    s.hdr.flags = flags;
    s.hdr.fence_id = 1000 + ctx;
    s.hdr.ring_idx = ring;
    memcpy(buf, &s, sizeof(s));
    memcpy(buf + sizeof(s), records, len);
    struct wgv_gpu_hdr r;
    uint32_t type = fe_cmd(&fe, buf, sizeof(s) + len, &r, sizeof(r));
    if (resp)
        *resp = r;
    return type;
}

static struct wgv_vrec_setup setup_rec(uint32_t res, uint64_t cmd, uint64_t reply, uint64_t bulk)
{
    struct wgv_vrec_setup s = {{WGV_VREC_SETUP, WGV_VREC_SETUP_SIZE}, res,
                               WGV_PROTOCOL_VERSION, cmd, reply, bulk};
    return s;
}

/* ------------------------------------------------------------ a guest context */

struct guest {
    uint32_t ctx, res;
    struct wgv_shm_sizes sizes;
    uint64_t total;
    uint8_t *view;
    struct wgv_ring cmd, reply;
    uint32_t next_adapter;
    uint64_t next_future;
    uint8_t buf[WGV_MESSAGE_MAX];
};

static const struct wgv_shm_sizes small = {64 << 10, 64 << 10, 64 << 10};


/* Writes one record into the command ring without publishing it. */
static bool put_bytes(struct guest *g, const void *bytes, size_t len)
{
    int st;
    void *dst = wgv_ring_reserve(&g->cmd, (uint32_t)len, 1000000000, &st);
    if (!dst)
        return false;
    memcpy(dst, bytes, len);
    wgv_ring_commit(&g->cmd, (uint32_t)len);
    return true;
}

/* Encodes one command into the command ring without publishing it. */
static bool put_wire(struct guest *g, unsigned op, const void *args)
{
    struct wgv_writer w;
    test_encode_command(op, args, &w);
    bool ok = put_bytes(g, w.data, w.len);
    wgv_writer_free(&w);
    return ok;
}

/* Publishes what was put; sends KICK when the host's consumer was idle. */
static bool publish(struct guest *g)
{
    if (wgv_ring_publish(&g->cmd)) {
        struct { uint32_t type, size; } kick = {WGV_VREC_KICK, WGV_VREC_KICK_SIZE};
        return submit(g->ctx, &kick, sizeof(kick), 0, 0, NULL) == WGV_GPU_RESP_OK_NODATA;
    }
    return true;
}

/* Publishes one command; sends KICK when the host's consumer was idle. */
static bool send_wire(struct guest *g, unsigned op, const void *args)
{
    return put_wire(g, op, args) && publish(g);
}

/* Waits for a reply of this kind and key (others are skipped). */
static bool wait_reply(struct guest *g, unsigned kind, uint64_t key, int ms)
{
    for (int i = 0; i < ms * 2; i++) {
        ssize_t n = wgv_ring_read(&g->reply, g->buf, sizeof(g->buf));
        if (n > 0) {
            const struct wgv_reply_header *r = (const void *)g->buf;
            if (r->kind == kind && r->key == key)
                return true;
            continue;
        }
        if (n != WGV_RING_EMPTY)
            return false;
        usleep(500);
    }
    return false;
}

/* requestAdapter and its callback: one full round trip through the rings. */
static bool round_trip(struct guest *g)
{
    uint64_t future = ++g->next_future;
    struct wgv_ga_wgpuInstanceRequestAdapter ra = {OBJ(WGPUInstance, 1), NULL, future,
                                                   OBJ(WGPUAdapter, ++g->next_adapter)};
    return send_wire(g, WGV_OP_wgpuInstanceRequestAdapter, &ra) &&
           wait_reply(g, WGV_REPLY_CALLBACK, future, 5000);
}

/* A context with its shared memory of these sizes in a scattered resource
 * (blob: guest blob under CONTEXT_INIT), SETUP done with a fence, rings
 * attached. */
static bool guest_open_sized(struct guest *g, uint32_t ctx, uint32_t res, bool blob,
                             const struct wgv_shm_sizes *sizes)
{
    memset(g, 0, sizeof(*g));
    g->ctx = ctx;
    g->res = res;
    g->sizes = *sizes;
    g->total = wgv_shm_total_size(sizes);
    static struct wgv_gpu_mem_entry e[256];
    unsigned n = scatter(g->total, e);
    if (ctx_create(ctx, blob ? WGV_VIRTIO_CAPSET_ID : 0) != WGV_GPU_RESP_OK_NODATA)
        return false;
    if (blob) {
        static uint8_t buf[FE_SLOT_CMD];
        struct wgv_gpu_resource_create_blob c = {
            .hdr = hdr(WGV_GPU_CMD_RESOURCE_CREATE_BLOB, ctx), .resource_id = res,
            .blob_mem = WGV_GPU_BLOB_MEM_GUEST, .nr_entries = n, .size = g->total};
        memcpy(buf, &c, sizeof(c));
        memcpy(buf + sizeof(c), e, n * sizeof(e[0]));
        if (fe_cmd(&fe, buf, sizeof(c) + n * sizeof(e[0]), NULL, 0) != WGV_GPU_RESP_OK_NODATA)
            return false;
    } else if (res_create_3d(res, (uint32_t)g->total) != WGV_GPU_RESP_OK_NODATA ||
               attach_backing(res, e, n, n) != WGV_GPU_RESP_OK_NODATA) {
        return false;
    }
    if (ctx_res(WGV_GPU_CMD_CTX_ATTACH_RESOURCE, ctx, res) != WGV_GPU_RESP_OK_NODATA)
        return false;
    g->view = map_view(e, n, g->total);
    memset(g->view, 0, 4096);
    struct wgv_vrec_setup s = setup_rec(res, sizes->cmd_ring, sizes->reply_ring, sizes->bulk);
    struct wgv_gpu_hdr r;
    uint32_t flags = WGV_GPU_FLAG_FENCE | (blob ? WGV_GPU_FLAG_INFO_RING_IDX : 0);
    if (submit(ctx, &s, sizeof(s), flags, blob ? 1 : 0, &r) != WGV_GPU_RESP_OK_NODATA)
        return false;
    if (!(r.flags & WGV_GPU_FLAG_FENCE) || r.fence_id != 1000 + ctx)
        return false;
    if (blob && (!(r.flags & WGV_GPU_FLAG_INFO_RING_IDX) || r.ring_idx != 1))
        return false;
    struct wgv_shm_control *c = (void *)g->view;
    if (__atomic_load_n(&c->magic, __ATOMIC_ACQUIRE) != WGV_SHM_MAGIC || c->bulk_size != sizes->bulk)
        return false;
    wgv_ring_attach(&g->cmd, &c->cmd_ring, g->view + 4096, (uint32_t)sizes->cmd_ring);
    wgv_ring_attach(&g->reply, &c->reply_ring, g->view + 4096 + sizes->cmd_ring,
                    (uint32_t)sizes->reply_ring);
    return wait_reply(g, WGV_REPLY_INSTANCE_STATE, 0, 5000);
}

static bool guest_open(struct guest *g, uint32_t ctx, uint32_t res, bool blob)
{
    return guest_open_sized(g, ctx, res, blob, &small);
}

static void guest_close(struct guest *g)
{
    ctx_destroy(g->ctx);
    if (g->view)
        munmap(g->view, g->total);
    g->view = NULL;
}

/* The bystander: a context set up once that must keep working through
 * every malformed request of the others. */
static struct guest bystander;

static bool bystander_ok(void)
{
    return daemon_running() && round_trip(&bystander);
}

/* ------------------------------------------------------------ tests */

static void test_negotiation_offers_what_qemu_needs(void)
{
    CHECK(fe.features & (1ull << WGV_VIRTIO_F_VERSION_1));
    CHECK(fe.features & (1ull << 30)); /* VHOST_USER_F_PROTOCOL_FEATURES */
    CHECK(fe.features & (1ull << WGV_GPU_F_VIRGL));
    CHECK(fe.features & (1ull << WGV_GPU_F_CONTEXT_INIT));
    CHECK(fe.features & (1ull << WGV_GPU_F_RESOURCE_BLOB));
    CHECK(!(fe.features & (1ull << WGV_VIRTIO_F_RING_EVENT_IDX)));
    CHECK(fe.protocol & (1ull << 9)); /* CONFIG */
    CHECK(fe.protocol & (1ull << 3)); /* REPLY_ACK */
    struct { uint32_t offset, size, flags; struct wgv_gpu_config c; } cfg = {0, 16, 0, {0}};
    CHECK(fe_msg(&fe, FE_GET_CONFIG, 0, &cfg, sizeof(cfg), NULL, 0, &cfg, sizeof(cfg), true) ==
          (int)sizeof(cfg));
    CHECK(cfg.c.num_scanouts == 1 && cfg.c.num_capsets == 1);
    uint64_t qn = 0;
    CHECK(fe_msg(&fe, FE_GET_QUEUE_NUM, 0, NULL, 0, NULL, 0, &qn, 8, true) == 8 && qn == 2);
    /* Config reads outside the 16 bytes get an empty answer. */
    cfg.offset = 8;
    CHECK(fe_msg(&fe, FE_GET_CONFIG, 0, &cfg, sizeof(cfg), NULL, 0, &cfg, sizeof(cfg), true) == 12);
    /* Queue messages: the no-fd flag, a queue that does not exist, an fd
     * count that does not match; each is refused (ack 1) or taken (ack 0). */
    uint64_t v = 1 | 0x100, ack = 7; /* SET_VRING_ERR, queue 1, no fd */
    CHECK(fe_msg(&fe, 14, FE_NEED_REPLY, &v, 8, NULL, 0, &ack, 8, true) == 8 && ack == 0);
    v = 5;
    int fd = eventfd(0, EFD_CLOEXEC);
    CHECK(fe_msg(&fe, 14, FE_NEED_REPLY, &v, 8, &fd, 1, &ack, 8, true) == 8 && ack != 0);
    v = 1 | 0x100;
    CHECK(fe_msg(&fe, 14, FE_NEED_REPLY, &v, 8, &fd, 1, &ack, 8, true) == 8 && ack != 0);
    close(fd);
    struct { uint32_t index, num; } st = {0, 1000}; /* not a power of two */
    CHECK(fe_msg(&fe, FE_SET_VRING_NUM, FE_NEED_REPLY, &st, 8, NULL, 0, &ack, 8, true) == 8 &&
          ack != 0);
    uint32_t one_region[10] = {1, 0};
    CHECK(fe_msg(&fe, FE_SET_MEM_TABLE, FE_NEED_REPLY, one_region, sizeof(one_region), NULL, 0,
                 &ack, 8, true) == 8 && ack != 0); /* no fd with it */
    CHECK(fe_msg(&fe, 99, FE_NEED_REPLY, NULL, 0, NULL, 0, &ack, 8, true) == 8 && ack != 0);
    /* QEMU repeats the table at every start: that must not accumulate
     * mappings (more than 64 retired regions would be refused). */
    bool all = true;
    for (int i = 0; i < 70; i++)
        all &= fe_send_mem_table(&fe);
    CHECK(all);
    CHECK(bystander_ok());
}

static void test_boot_2d_sequence_shows_the_framebuffer(void)
{
    struct wgv_gpu_resp_display_info di;
    struct wgv_gpu_hdr h = hdr(WGV_GPU_CMD_GET_DISPLAY_INFO, 0);
    CHECK(fe_cmd(&fe, &h, sizeof(h), &di, sizeof(di)) == WGV_GPU_RESP_OK_DISPLAY_INFO);
    CHECK(di.pmodes[0].enabled && di.pmodes[0].r.width == 1024 && di.pmodes[0].r.height == 768);
    CHECK(!di.pmodes[1].enabled);

    enum { W = 64, HT = 32 };
    struct wgv_gpu_resource_create_2d c = {hdr(WGV_GPU_CMD_RESOURCE_CREATE_2D, 0), 1,
                                           WGV_GPU_FORMAT_B8G8R8X8_UNORM, W, HT};
    CHECK(fe_cmd(&fe, &c, sizeof(c), NULL, 0) == WGV_GPU_RESP_OK_NODATA);
    CHECK(fe_cmd(&fe, &c, sizeof(c), NULL, 0) == WGV_GPU_RESP_ERR_INVALID_RESOURCE_ID);
    /* Backing in two pieces, one in each RAM region; a pattern in it. */
    struct wgv_gpu_mem_entry e[2] = {{fe_alloc(&fe, 1, 4096), 4096, 0},
                                     {fe_alloc(&fe, 0, W * HT * 4 - 4096), W * HT * 4 - 4096, 0}};
    uint32_t pattern[W * HT];
    for (unsigned i = 0; i < W * HT; i++)
        pattern[i] = 0xff000000u | i * 2654435761u;
    memcpy(fe_ptr(&fe, e[0].addr), pattern, 4096);
    memcpy(fe_ptr(&fe, e[1].addr), (uint8_t *)pattern + 4096, sizeof(pattern) - 4096);
    CHECK(attach_backing(1, e, 2, 2) == WGV_GPU_RESP_OK_NODATA);
    struct wgv_gpu_transfer_to_host_2d t = {hdr(WGV_GPU_CMD_TRANSFER_TO_HOST_2D, 0),
                                            {0, 0, W, HT}, 0, 1, 0};
    CHECK(fe_cmd(&fe, &t, sizeof(t), NULL, 0) == WGV_GPU_RESP_OK_NODATA);
    struct wgv_gpu_set_scanout s = {hdr(WGV_GPU_CMD_SET_SCANOUT, 0), {0, 0, W, HT}, 0, 1};
    CHECK(fe_cmd(&fe, &s, sizeof(s), NULL, 0) == WGV_GPU_RESP_OK_NODATA);
    struct wgv_gpu_resource_flush f = {hdr(WGV_GPU_CMD_RESOURCE_FLUSH, 0), {0, 0, W, HT}, 1, 0};
    CHECK(fe_cmd(&fe, &f, sizeof(f), NULL, 0) == WGV_GPU_RESP_OK_NODATA);
    /* QEMU's side of the display socket: the scanout, then the pixels. */
    uint32_t req = 0;
    static uint8_t payload[64 << 10];
    int n = fe_display_read(&fe, &req, payload, sizeof(payload));
    CHECK(req == 7 && n == 12);
    uint32_t so[3];
    memcpy(so, payload, sizeof(so));
    CHECK(so[0] == 0 && so[1] == W && so[2] == HT);
    bool same = true;
    unsigned rows = 0;
    while (rows < 2 * HT && (n = fe_display_read(&fe, &req, payload, sizeof(payload))) > 20 &&
           req == 8) {
        uint32_t u[5];
        memcpy(u, payload, sizeof(u));
        for (uint32_t y = 0; y < u[4]; y++)
            same &= !memcmp(payload + 20 + (size_t)y * u[3] * 4, &pattern[(u[2] + y) * W + u[1]],
                            (size_t)u[3] * 4);
        rows += u[4];
    }
    CHECK_MSG(rows == 2 * HT && same, "%u rows, %s", rows, same ? "same" : "different");
    /* Errors: a scanout that does not exist, a rectangle outside. */
    s.scanout_id = 3;
    CHECK(fe_cmd(&fe, &s, sizeof(s), NULL, 0) == WGV_GPU_RESP_ERR_INVALID_SCANOUT_ID);
    t.r.width = W + 1;
    CHECK(fe_cmd(&fe, &t, sizeof(t), NULL, 0) == WGV_GPU_RESP_ERR_INVALID_PARAMETER);
    t.r = (struct wgv_gpu_rect){0, 0, W, HT};
    t.offset = 8;
    CHECK(fe_cmd(&fe, &t, sizeof(t), NULL, 0) == WGV_GPU_RESP_ERR_INVALID_PARAMETER);
    struct wgv_gpu_resource_id d = {hdr(WGV_GPU_CMD_RESOURCE_DETACH_BACKING, 0), 1, 0};
    CHECK(fe_cmd(&fe, &d, sizeof(d), NULL, 0) == WGV_GPU_RESP_OK_NODATA);
    d.hdr.type = WGV_GPU_CMD_RESOURCE_UNREF;
    CHECK(fe_cmd(&fe, &d, sizeof(d), NULL, 0) == WGV_GPU_RESP_OK_NODATA);
    CHECK(fe_cmd(&fe, &d, sizeof(d), NULL, 0) == WGV_GPU_RESP_ERR_INVALID_RESOURCE_ID);
    /* The scanout went with the resource. */
    CHECK(fe_display_read(&fe, &req, payload, sizeof(payload)) == 12 && req == 7);
    /* The cursor queue takes requests and returns them. */
    struct wgv_gpu_update_cursor uc = {.hdr = hdr(WGV_GPU_CMD_MOVE_CURSOR, 0), .x = 5, .y = 6};
    int head = fe_start(&fe, 1, &uc, sizeof(uc), 24);
    CHECK(head >= 0 && fe_wait(&fe, 1, head, NULL, 0, 2000) == 0);
}

static void test_capset_is_ours(void)
{
    struct wgv_gpu_get_capset_info ci = {hdr(WGV_GPU_CMD_GET_CAPSET_INFO, 0), 0, 0};
    struct wgv_gpu_resp_capset_info info;
    CHECK(fe_cmd(&fe, &ci, sizeof(ci), &info, sizeof(info)) == WGV_GPU_RESP_OK_CAPSET_INFO);
    CHECK(info.capset_id == WGV_VIRTIO_CAPSET_ID && info.capset_max_version == 1 &&
          info.capset_max_size >= 16);
    ci.capset_index = 1;
    CHECK(fe_cmd(&fe, &ci, sizeof(ci), NULL, 0) == WGV_GPU_RESP_ERR_INVALID_PARAMETER);
    struct wgv_gpu_get_capset gc = {hdr(WGV_GPU_CMD_GET_CAPSET, 0), WGV_VIRTIO_CAPSET_ID, 1};
    uint8_t resp[24 + 64];
    CHECK(fe_cmd(&fe, &gc, sizeof(gc), resp, 24 + info.capset_max_size) == WGV_GPU_RESP_OK_CAPSET);
    uint32_t caps[2];
    memcpy(caps, resp + 24, sizeof(caps));
    CHECK(caps[0] == 0x43564757u && caps[1] == WGV_PROTOCOL_VERSION);
    gc.capset_id = 1; /* virgl: not ours */
    CHECK(fe_cmd(&fe, &gc, sizeof(gc), NULL, 0) == WGV_GPU_RESP_ERR_INVALID_PARAMETER);
    /* A response buffer too small for the capset gets an error header. */
    gc.capset_id = WGV_VIRTIO_CAPSET_ID;
    CHECK(fe_cmd(&fe, &gc, sizeof(gc), resp, 24) == WGV_GPU_RESP_ERR_INVALID_PARAMETER);
}

static void test_contexts_create_and_destroy(void)
{
    CHECK(ctx_create(40, 0) == WGV_GPU_RESP_OK_NODATA);
    CHECK(ctx_create(40, 0) == WGV_GPU_RESP_ERR_INVALID_CONTEXT_ID);
    CHECK(ctx_create(41, 7) == WGV_GPU_RESP_ERR_INVALID_PARAMETER); /* another capset */
    CHECK(ctx_create(0, 0) == WGV_GPU_RESP_ERR_INVALID_CONTEXT_ID);
    CHECK(ctx_destroy(40) == WGV_GPU_RESP_OK_NODATA);
    CHECK(ctx_destroy(40) == WGV_GPU_RESP_ERR_INVALID_CONTEXT_ID);
    CHECK(ctx_res(WGV_GPU_CMD_CTX_ATTACH_RESOURCE, 40, 1) == WGV_GPU_RESP_ERR_INVALID_CONTEXT_ID);
    /* The limit of 8 contexts (the bystander is one). */
    unsigned made = 0;
    for (uint32_t id = 50; id < 60; id++)
        made += ctx_create(id, 0) == WGV_GPU_RESP_OK_NODATA;
    CHECK_MSG(made == 7, "%u made", made);
    for (uint32_t id = 50; id < 60; id++)
        ctx_destroy(id);
    CHECK(ctx_create(50, 0) == WGV_GPU_RESP_OK_NODATA && ctx_destroy(50) == WGV_GPU_RESP_OK_NODATA);
}

static void test_webgpu_round_trip_through_the_rings(void)
{
    struct guest *g = malloc(sizeof(*g));
    CHECK(guest_open(g, 2, 200, false));
    CHECK(round_trip(g));
    CHECK(round_trip(g));
    /* A fenced KICK retires once what was published before it has run. */
    struct wgv_ga_wgpuInstanceRequestAdapter ra = {OBJ(WGPUInstance, 1), NULL, ++g->next_future,
                                                   OBJ(WGPUAdapter, ++g->next_adapter)};
    CHECK(send_wire(g, WGV_OP_wgpuInstanceRequestAdapter, &ra));
    struct { uint32_t type, size; } kick = {WGV_VREC_KICK, WGV_VREC_KICK_SIZE};
    struct wgv_gpu_hdr r;
    CHECK(submit(2, &kick, sizeof(kick), WGV_GPU_FLAG_FENCE, 0, &r) == WGV_GPU_RESP_OK_NODATA);
    CHECK(r.flags & WGV_GPU_FLAG_FENCE && r.fence_id == 1002);
    CHECK(wait_reply(g, WGV_REPLY_CALLBACK, g->next_future, 5000));
    /* More replies than the reply ring holds: the host waits for the guest
     * to read (it cannot be woken across a VM boundary: it looks again). */
    uint64_t first = g->next_future + 1;
    for (int i = 0; i < 600; i++) {
        struct wgv_ga_wgpuInstanceRequestAdapter more = {
            OBJ(WGPUInstance, 1), NULL, ++g->next_future, OBJ(WGPUAdapter, ++g->next_adapter)};
        CHECK(send_wire(g, WGV_OP_wgpuInstanceRequestAdapter, &more));
    }
    usleep(100 * 1000);
    unsigned seen = 0;
    for (int spins = 0; seen < 600 && spins < 20000; spins++) {
        ssize_t n = wgv_ring_read(&g->reply, g->buf, sizeof(g->buf));
        if (n > 0) {
            const struct wgv_reply_header *rh = (const void *)g->buf;
            seen += rh->kind == WGV_REPLY_CALLBACK && rh->key >= first && rh->key < first + 600;
        } else {
            usleep(200);
        }
    }
    CHECK_MSG(seen == 600, "%u of 600 callbacks", seen);
    CHECK(round_trip(g));
    /* TRANSFER_3D on an attached buffer is a no-op answered OK. */
    struct wgv_gpu_transfer_host_3d t = {.hdr = hdr(WGV_GPU_CMD_TRANSFER_TO_HOST_3D, 2),
                                         .w = 16, .h = 1, .d = 1, .resource_id = 200};
    CHECK(fe_cmd(&fe, &t, sizeof(t), NULL, 0) == WGV_GPU_RESP_OK_NODATA);
    guest_close(g);
    CHECK(wait_log("context 2: destroyed with", 5000));
    free(g);
    CHECK(bystander_ok());
}

static void test_context_init_blob_setup_and_ring_idx(void)
{
    struct guest *g = malloc(sizeof(*g));
    CHECK(guest_open(g, 3, 300, true));
    CHECK(round_trip(g));
    /* Fences of a ring timeline come back with their ring. */
    struct { uint32_t type, size; } kick = {WGV_VREC_KICK, WGV_VREC_KICK_SIZE};
    struct wgv_gpu_hdr r;
    CHECK(submit(3, &kick, sizeof(kick), WGV_GPU_FLAG_FENCE | WGV_GPU_FLAG_INFO_RING_IDX, 2, &r) ==
          WGV_GPU_RESP_OK_NODATA);
    CHECK(r.flags & WGV_GPU_FLAG_INFO_RING_IDX && r.ring_idx == 2);
    /* Host-side blob memory is never created. */
    struct wgv_gpu_resource_create_blob b = {.hdr = hdr(WGV_GPU_CMD_RESOURCE_CREATE_BLOB, 3),
                                             .resource_id = 301,
                                             .blob_mem = WGV_GPU_BLOB_MEM_HOST3D, .size = 4096};
    CHECK(fe_cmd(&fe, &b, sizeof(b), NULL, 0) == WGV_GPU_RESP_ERR_INVALID_PARAMETER);
    guest_close(g);
    free(g);
    CHECK(bystander_ok());
}

/* Builds a raw chain from (addr, len, flags) triples and returns its used length. */
static int raw_chain(const uint64_t *addr, const uint32_t *len, const uint16_t *flags, unsigned n,
                     const int *next_override)
{
    int d[8];
    for (unsigned i = 0; i < n; i++)
        d[i] = fe_take_desc(&fe, 0);
    for (unsigned i = 0; i < n; i++) {
        uint16_t next = i + 1 < n ? (uint16_t)d[i + 1] : 0;
        if (next_override && next_override[i] >= 0)
            next = (uint16_t)d[next_override[i]];
        fe_set_desc(&fe, 0, (unsigned)d[i], addr[i], len[i], flags[i], next);
    }
    for (unsigned i = 0; i < n; i++)
        fe.q[0].chains[d[0]].d[i] = d[i];
    fe.q[0].chains[d[0]].n = n;
    fe_publish_head(&fe, 0, (uint16_t)d[0]);
    return fe_wait(&fe, 0, d[0], NULL, 0, 5000);
}

static void test_malformed_chains_come_back_empty(void)
{
    uint64_t buf = fe_alloc(&fe, 0, 8 << 20), resp = fe_alloc(&fe, 0, 4096);
    struct wgv_gpu_hdr h = hdr(WGV_GPU_CMD_GET_DISPLAY_INFO, 0);
    memcpy(fe_ptr(&fe, buf), &h, sizeof(h));
    const uint16_t RN = 1, W = 2, RW = 1 | 2;
    /* Outside guest RAM. */
    uint64_t a1[2] = {0x7000000000ull, resp};
    uint32_t l1[2] = {24, 512};
    uint16_t f1[2] = {RN, W};
    CHECK(raw_chain(a1, l1, f1, 2, NULL) == 0);
    /* Straddling the end of a region. */
    uint64_t a2[2] = {FE_REGION_SIZE - 8, resp};
    CHECK(raw_chain(a2, l1, f1, 2, NULL) == 0);
    /* A loop: 0 -> 1 -> 0. */
    uint64_t a3[2] = {buf, buf};
    uint32_t l3[2] = {24, 24};
    uint16_t f3[2] = {RN, RN};
    int loop[2] = {1, 0};
    CHECK(raw_chain(a3, l3, f3, 2, loop) == 0);
    /* Zero and huge lengths. */
    uint64_t a4[2] = {buf, resp};
    uint32_t l4[2] = {0, 512};
    CHECK(raw_chain(a4, l4, f1, 2, NULL) == 0);
    l4[0] = 0xffffffffu;
    CHECK(raw_chain(a4, l4, f1, 2, NULL) == 0);
    /* Readable after writable. */
    uint64_t a5[3] = {buf, resp, buf};
    uint32_t l5[3] = {24, 512, 24};
    uint16_t f5[3] = {RN, RW, 0};
    CHECK(raw_chain(a5, l5, f5, 3, NULL) == 0);
    /* More than the daemon copies (two 3 MiB readable pieces). */
    uint64_t a6[3] = {buf, buf, resp};
    uint32_t l6[3] = {3 << 20, 3 << 20, 512};
    uint16_t f6[3] = {RN, RN, W};
    CHECK(raw_chain(a6, l6, f6, 3, NULL) == 0);
    /* Indirect descriptors were not negotiated. */
    uint16_t f7[2] = {RN | 4, W};
    CHECK(raw_chain(a4, l3, f7, 2, NULL) == 0);
    /* A head index outside the queue. */
    fe_publish_head(&fe, 0, 100);
    CHECK(fe_wait(&fe, 0, 100, NULL, 0, 5000) == 0);
    /* A request shorter than a header still gets an error response. */
    uint64_t a8[2] = {buf, resp};
    uint32_t l8[2] = {8, 24};
    CHECK(raw_chain(a8, l8, f1, 2, NULL) == 24);
    uint32_t type;
    memcpy(&type, fe_ptr(&fe, resp), 4);
    CHECK(type == WGV_GPU_RESP_ERR_UNSPEC);
    /* No writable part at all: returned with nothing written. */
    uint64_t a9[1] = {buf};
    uint32_t l9[1] = {24};
    uint16_t f9[1] = {0};
    CHECK(raw_chain(a9, l9, f9, 1, NULL) == 0);
    /* Unknown command. */
    struct wgv_gpu_hdr u = hdr(0x9999, 0);
    CHECK(fe_cmd(&fe, &u, sizeof(u), NULL, 0) == WGV_GPU_RESP_ERR_UNSPEC);
    CHECK(bystander_ok());
}

static void test_bad_scatter_lists_are_refused(void)
{
    CHECK(res_create_3d(400, 1 << 20) == WGV_GPU_RESP_OK_NODATA);
    struct wgv_gpu_mem_entry e[2] = {{fe_alloc(&fe, 0, 4096), 4096, 0}, {0x7000000000ull, 4096, 0}};
    CHECK(attach_backing(400, e, 2, 2) == WGV_GPU_RESP_ERR_INVALID_PARAMETER);
    e[1] = (struct wgv_gpu_mem_entry){FE_REGION_SIZE - 4096, 8192, 0}; /* past region 0 */
    CHECK(attach_backing(400, e, 2, 2) == WGV_GPU_RESP_ERR_INVALID_PARAMETER);
    e[1] = (struct wgv_gpu_mem_entry){fe_alloc(&fe, 0, 4096), 0, 0}; /* empty entry */
    CHECK(attach_backing(400, e, 2, 2) == WGV_GPU_RESP_ERR_INVALID_PARAMETER);
    e[1].length = 4096;
    CHECK(attach_backing(400, e, 2, 3) == WGV_GPU_RESP_ERR_INVALID_PARAMETER); /* claims 3 */
    CHECK(attach_backing(400, e, 2, 0x80000000u) == WGV_GPU_RESP_ERR_INVALID_PARAMETER);
    CHECK(attach_backing(400, e, 0, 0) == WGV_GPU_RESP_ERR_INVALID_PARAMETER);
    CHECK(attach_backing(401, e, 2, 2) == WGV_GPU_RESP_ERR_INVALID_RESOURCE_ID);
    CHECK(attach_backing(400, e, 2, 2) == WGV_GPU_RESP_OK_NODATA);
    CHECK(attach_backing(400, e, 2, 2) == WGV_GPU_RESP_ERR_UNSPEC); /* already */
    struct wgv_gpu_resource_id u = {hdr(WGV_GPU_CMD_RESOURCE_UNREF, 0), 400, 0};
    CHECK(fe_cmd(&fe, &u, sizeof(u), NULL, 0) == WGV_GPU_RESP_OK_NODATA);
    /* 3D resources are buffers only. */
    struct wgv_gpu_resource_create_3d c = {.hdr = hdr(WGV_GPU_CMD_RESOURCE_CREATE_3D, 0),
                                           .resource_id = 402, .target = 2, .width = 64,
                                           .height = 64, .depth = 1, .array_size = 1};
    CHECK(fe_cmd(&fe, &c, sizeof(c), NULL, 0) == WGV_GPU_RESP_ERR_INVALID_PARAMETER);
    CHECK(bystander_ok());
}

/* A context for a SETUP that must fail: created, with a resource of `size`
 * bytes whose backing is `e`, attached. */
static void bad_setup_ctx(uint32_t ctx, uint32_t res, const struct wgv_gpu_mem_entry *e,
                          unsigned n, uint32_t size)
{
    CHECK(ctx_create(ctx, 0) == WGV_GPU_RESP_OK_NODATA);
    CHECK(res_create_3d(res, size) == WGV_GPU_RESP_OK_NODATA);
    if (n)
        CHECK(attach_backing(res, e, n, n) == WGV_GPU_RESP_OK_NODATA);
    CHECK(ctx_res(WGV_GPU_CMD_CTX_ATTACH_RESOURCE, ctx, res) == WGV_GPU_RESP_OK_NODATA);
}

/* The refusal the daemon wrote into the control page. */
static bool refused_with(const struct wgv_gpu_mem_entry *e, const char *needle)
{
    const uint8_t *page = fe_ptr(&fe, e[0].addr);
    uint32_t magic;
    memcpy(&magic, page, 4);
    char reason[WGV_VREC_REFUSE_REASON_MAX + 1];
    memcpy(reason, page + WGV_VREC_REFUSE_REASON_OFFSET, WGV_VREC_REFUSE_REASON_MAX);
    reason[WGV_VREC_REFUSE_REASON_MAX] = 0;
    if (magic != WGV_VREC_REFUSE_MAGIC || !strstr(reason, needle)) {
        fprintf(stderr, "  refusal: magic 0x%08x, reason \"%s\"\n", magic, reason);
        return false;
    }
    return true;
}

static void test_bad_setups_end_their_context_only(void)
{
    uint64_t total = wgv_shm_total_size(&small);
    static struct wgv_gpu_mem_entry e[64];
    unsigned n = scatter(total, e);
    /* Sizes the layout forbids, or over the host's limit (16 MiB bulk). */
    bad_setup_ctx(10, 1000, e, n, (uint32_t)total);
    struct wgv_vrec_setup s = setup_rec(1000, 3 << 16, small.reply_ring, small.bulk);
    CHECK(submit(10, &s, sizeof(s), WGV_GPU_FLAG_FENCE, 0, NULL) ==
          WGV_GPU_RESP_ERR_INVALID_PARAMETER);
    CHECK(refused_with(e, "power of two"));
    /* The context is lost: what it submits next fails. */
    struct { uint32_t type, size; } kick = {WGV_VREC_KICK, WGV_VREC_KICK_SIZE};
    CHECK(submit(10, &kick, sizeof(kick), 0, 0, NULL) == WGV_GPU_RESP_ERR_UNSPEC);
    CHECK(ctx_destroy(10) == WGV_GPU_RESP_OK_NODATA);

    bad_setup_ctx(11, 1001, e, n, (uint32_t)total);
    s = setup_rec(1001, small.cmd_ring, small.reply_ring, 32 << 20);
    CHECK(submit(11, &s, sizeof(s), 0, 0, NULL) == WGV_GPU_RESP_ERR_INVALID_PARAMETER);
    CHECK(refused_with(e, "exceeds the host's limit"));
    ctx_destroy(11);

    bad_setup_ctx(12, 1002, e, n, (uint32_t)total);
    s = setup_rec(1002, small.cmd_ring, small.reply_ring, small.bulk + 4096);
    CHECK(submit(12, &s, sizeof(s), 0, 0, NULL) == WGV_GPU_RESP_ERR_INVALID_PARAMETER);
    CHECK(refused_with(e, "does not fit"));
    ctx_destroy(12);

    bad_setup_ctx(13, 1003, e, n, (uint32_t)total);
    s = setup_rec(1003, small.cmd_ring, small.reply_ring, small.bulk);
    s.protocol_version ^= 1;
    CHECK(submit(13, &s, sizeof(s), 0, 0, NULL) == WGV_GPU_RESP_ERR_INVALID_PARAMETER);
    CHECK(refused_with(e, "protocol version"));
    ctx_destroy(13);

    /* Scatter runs the daemon cannot map contiguously. */
    static struct wgv_gpu_mem_entry odd[2];
    odd[0] = (struct wgv_gpu_mem_entry){fe_alloc(&fe, 0, total + 8192) + 512, (uint32_t)total, 0};
    bad_setup_ctx(14, 1004, odd, 1, (uint32_t)total);
    s = setup_rec(1004, small.cmd_ring, small.reply_ring, small.bulk);
    CHECK(submit(14, &s, sizeof(s), 0, 0, NULL) == WGV_GPU_RESP_ERR_INVALID_PARAMETER);
    CHECK(refused_with(odd, "page-aligned"));
    ctx_destroy(14);
    uint64_t base = fe_alloc(&fe, 1, total);
    odd[0] = (struct wgv_gpu_mem_entry){base, 8192, 0};
    odd[1] = (struct wgv_gpu_mem_entry){base + 4096, (uint32_t)(total - 8192), 0};
    bad_setup_ctx(15, 1005, odd, 2, (uint32_t)total);
    s = setup_rec(1005, small.cmd_ring, small.reply_ring, small.bulk);
    CHECK(submit(15, &s, sizeof(s), 0, 0, NULL) == WGV_GPU_RESP_ERR_INVALID_PARAMETER);
    CHECK(refused_with(odd, "overlap"));
    ctx_destroy(15);
    for (uint32_t r = 1000; r <= 1005; r++) {
        struct wgv_gpu_resource_id u = {hdr(WGV_GPU_CMD_RESOURCE_UNREF, 0), r, 0};
        CHECK(fe_cmd(&fe, &u, sizeof(u), NULL, 0) == WGV_GPU_RESP_OK_NODATA);
    }
    CHECK(bystander_ok());
}

static void test_records_and_resources_of_others_are_violations(void)
{
    /* Another context's resource: the bystander's shared memory. */
    CHECK(ctx_create(20, 0) == WGV_GPU_RESP_OK_NODATA);
    struct wgv_vrec_setup s = setup_rec(bystander.res, small.cmd_ring, small.reply_ring, small.bulk);
    CHECK(submit(20, &s, sizeof(s), 0, 0, NULL) == WGV_GPU_RESP_ERR_INVALID_RESOURCE_ID);
    ctx_destroy(20);
    CHECK(ctx_create(21, 0) == WGV_GPU_RESP_OK_NODATA);
    struct wgv_gpu_transfer_host_3d t = {.hdr = hdr(WGV_GPU_CMD_TRANSFER_FROM_HOST_3D, 21),
                                         .resource_id = bystander.res};
    CHECK(fe_cmd(&fe, &t, sizeof(t), NULL, 0) == WGV_GPU_RESP_ERR_INVALID_RESOURCE_ID);
    CHECK(ctx_res(WGV_GPU_CMD_CTX_DETACH_RESOURCE, 21, bystander.res) ==
          WGV_GPU_RESP_ERR_INVALID_RESOURCE_ID);
    CHECK(ctx_res(WGV_GPU_CMD_CTX_ATTACH_RESOURCE, 21, 77777) == WGV_GPU_RESP_ERR_INVALID_RESOURCE_ID);
    /* Even attached, a resource in use as another context's shared memory
     * cannot become this one's. */
    CHECK(ctx_res(WGV_GPU_CMD_CTX_ATTACH_RESOURCE, 21, bystander.res) == WGV_GPU_RESP_OK_NODATA);
    CHECK(submit(21, &s, sizeof(s), 0, 0, NULL) == WGV_GPU_RESP_ERR_INVALID_RESOURCE_ID);
    ctx_destroy(21);
    CHECK(bystander_ok());

    /* Unknown record, bad record size, truncated record, second SETUP: each
     * ends a working context, which hears why on its reply ring. */
    struct guest *g = malloc(sizeof(*g));
    uint32_t bad[4][4] = {{99, 8, 0, 0}, {WGV_VREC_KICK, 12, 0, 0}, {WGV_VREC_KICK, 24, 0, 0}, {0}};
    uint32_t len[4] = {8, 16, 16, 0};
    for (unsigned i = 0; i < 4; i++) {
        CHECK(guest_open(g, 30 + i, 3000 + i, false));
        uint32_t rc;
        if (i < 3) {
            rc = submit(30 + i, bad[i], len[i], WGV_GPU_FLAG_FENCE, 0, NULL);
        } else {
            struct wgv_vrec_setup again = setup_rec(3000 + i, small.cmd_ring, small.reply_ring,
                                                    small.bulk);
            rc = submit(30 + i, &again, sizeof(again), WGV_GPU_FLAG_FENCE, 0, NULL);
        }
        CHECK_MSG(rc == WGV_GPU_RESP_ERR_INVALID_PARAMETER, "case %u: 0x%x", i, rc);
        CHECK_MSG(wait_reply(g, WGV_REPLY_CONTEXT_LOST, 0, 5000), "case %u", i);
        guest_close(g);
        struct wgv_gpu_resource_id u = {hdr(WGV_GPU_CMD_RESOURCE_UNREF, 0), 3000 + i, 0};
        CHECK(fe_cmd(&fe, &u, sizeof(u), NULL, 0) == WGV_GPU_RESP_OK_NODATA);
        CHECK(bystander_ok());
    }
    /* Detaching the shared memory (the guest's own teardown does, before
     * CTX_DESTROY) ends its context, and the daemon lets go of the pages
     * before it answers: nothing is written there afterwards. */
    CHECK(guest_open(g, 35, 3500, false));
    CHECK(round_trip(g));
    struct wgv_gpu_resource_id d = {hdr(WGV_GPU_CMD_RESOURCE_DETACH_BACKING, 0), 3500, 0};
    CHECK(fe_cmd(&fe, &d, sizeof(d), NULL, 0) == WGV_GPU_RESP_OK_NODATA);
    CHECK(wait_log("context 35: destroyed with", 5000));
    struct wgv_shm_control *ctl = (void *)g->view;
    uint64_t reply_head = atomic_load(&ctl->reply_ring.head);
    struct wgv_ga_wgpuInstanceRequestAdapter late = {OBJ(WGPUInstance, 1), NULL, ++g->next_future,
                                                     OBJ(WGPUAdapter, ++g->next_adapter)};
    send_wire(g, WGV_OP_wgpuInstanceRequestAdapter, &late);
    usleep(50 * 1000);
    CHECK(atomic_load(&ctl->reply_ring.head) == reply_head);
    struct { uint32_t type, size; } kick = {WGV_VREC_KICK, WGV_VREC_KICK_SIZE};
    CHECK(submit(35, &kick, sizeof(kick), 0, 0, NULL) == WGV_GPU_RESP_ERR_UNSPEC);
    guest_close(g);
    free(g);
    CHECK(bystander_ok());
}

/* ------------------------------------------------------------ guest pages */

static const struct wgv_shm_sizes tiny_reply = {64 << 10, 4096, 64 << 10};

/* Reads and drops every reply waiting in the reply ring; how many. */
static unsigned drop_replies(struct guest *g)
{
    unsigned n = 0;
    while (wgv_ring_read(&g->reply, g->buf, sizeof(g->buf)) > 0)
        n++;
    return n;
}

/* Adapter, device 1 and queue 1 of the guest's instance. */
static bool guest_device(struct guest *g)
{
    uint64_t f = g->next_future;
    g->next_future += 4;
    uint32_t adapter = ++g->next_adapter;
    struct wgv_ga_wgpuInstanceRequestAdapter ra = {OBJ(WGPUInstance, 1), NULL, f + 1,
                                                   OBJ(WGPUAdapter, adapter)};
    struct wgv_ga_wgpuAdapterRequestDevice rd = {OBJ(WGPUAdapter, adapter), NULL, f + 2,
                                                 OBJ(WGPUDevice, 1), OBJ(WGPUQueue, 1), f + 3,
                                                 f + 4};
    return send_wire(g, WGV_OP_wgpuInstanceRequestAdapter, &ra) &&
           wait_reply(g, WGV_REPLY_CALLBACK, f + 1, 5000) &&
           send_wire(g, WGV_OP_wgpuAdapterRequestDevice, &rd) &&
           wait_reply(g, WGV_REPLY_CALLBACK, f + 2, 5000);
}

static bool put_create_buffer(struct guest *g, uint32_t id, uint64_t size, WGPUBufferUsage usage)
{
    WGPUBufferDescriptor d = WGPU_BUFFER_DESCRIPTOR_INIT;
    d.size = size;
    d.usage = usage;
    struct wgv_ga_wgpuDeviceCreateBuffer a = {OBJ(WGPUDevice, 1), &d, OBJ(WGPUBuffer, id)};
    return put_wire(g, WGV_OP_wgpuDeviceCreateBuffer, &a);
}

/* writeBuffer(queue 1, buffer 1, 0, <resource res, offset, size bytes>):
 * bytes named in an attached resource (byte block mode 2). */
static bool put_write_at_resource(struct guest *g, uint32_t res, uint64_t offset, uint64_t size)
{
    struct wgv_writer w;
    wgv_writer_init(&w);
    struct wgv_cmd_header h = {0, WGV_OP_wgpuQueueWriteBuffer, 0};
    wgv_writer_put(&w, &h, sizeof(h));
    wgv_put_u64(&w, H(1, 1));
    wgv_put_u64(&w, H(1, 1));
    wgv_put_u64(&w, 0);
    wgv_put_u32(&w, 2);
    wgv_put_u64(&w, size);
    wgv_put_u32(&w, res);
    wgv_put_u64(&w, offset);
    h.size = (uint32_t)w.len;
    memcpy(w.data, &h, sizeof(h));
    bool ok = put_bytes(g, w.data, w.len);
    wgv_writer_free(&w);
    return ok;
}

static bool put_write_from_resource(struct guest *g, uint32_t res, uint64_t size)
{
    return put_write_at_resource(g, res, 0, size);
}

/* Reads buffer 1's first `size` bytes back (mapAsync into the bulk area). */
static const uint8_t *read_buffer_1(struct guest *g, uint64_t size)
{
    uint64_t future = ++g->next_future;
    struct wgv_ga_wgpuBufferMapAsync m = {OBJ(WGPUBuffer, 1), WGPUMapMode_Read, 0, size, future, 0,
                                          0, 0};
    if (!send_wire(g, WGV_OP_wgpuBufferMapAsync, &m) ||
        !wait_reply(g, WGV_REPLY_CALLBACK, future, 5000))
        return NULL;
    return g->view + 4096 + g->sizes.cmd_ring + g->sizes.reply_ring;
}

/* A guest process that attaches a second resource of two runs of pages
 * and writes an empty range at its very end: the range is inside the
 * resource, and finding its piece once read past the daemon's scatter
 * list (AddressSanitizer aborted the daemon, and every context of the VM
 * with it). The write is valid and empty; the context and the others go
 * on, and bytes from both runs still arrive. */
static void test_empty_range_at_a_resource_end(void)
{
    struct guest *g = malloc(sizeof(*g));
    CHECK(guest_open(g, 70, 700, false) && guest_device(g));
    CHECK(put_create_buffer(g, 1, 64, WGPUBufferUsage_CopyDst | WGPUBufferUsage_MapRead) &&
          publish(g) && round_trip(g));
    struct wgv_gpu_mem_entry e[2] = {{fe_alloc(&fe, 0, 4096), 4096, 0},
                                     {fe_alloc(&fe, 1, 4096), 4096, 0}};
    memset(fe_ptr(&fe, e[0].addr), 'a', 4096);
    memset(fe_ptr(&fe, e[1].addr), 'b', 4096);
    CHECK(res_create_3d(710, 8192) == WGV_GPU_RESP_OK_NODATA);
    CHECK(attach_backing(710, e, 2, 2) == WGV_GPU_RESP_OK_NODATA);
    CHECK(ctx_res(WGV_GPU_CMD_CTX_ATTACH_RESOURCE, 70, 710) == WGV_GPU_RESP_OK_NODATA);
    CHECK(put_write_at_resource(g, 710, 8192, 0) && put_write_at_resource(g, 710, 4096, 0) &&
          put_write_at_resource(g, 710, 4096 - 32, 64) && publish(g));
    CHECK(round_trip(g));
    const uint8_t *got = read_buffer_1(g, 64);
    CHECK_MSG(got && got[0] == 'a' && got[31] == 'a' && got[32] == 'b' && got[63] == 'b',
              "the buffer holds \"%.64s\"", got ? (const char *)got : "(nothing)");
    CHECK(daemon_running());
    CHECK(ctx_res(WGV_GPU_CMD_CTX_DETACH_RESOURCE, 70, 710) == WGV_GPU_RESP_OK_NODATA);
    struct wgv_gpu_resource_id u = {hdr(WGV_GPU_CMD_RESOURCE_UNREF, 0), 710, 0};
    CHECK(fe_cmd(&fe, &u, sizeof(u), NULL, 0) == WGV_GPU_RESP_OK_NODATA);
    guest_close(g);
    u.resource_id = 700;
    CHECK(fe_cmd(&fe, &u, sizeof(u), NULL, 0) == WGV_GPU_RESP_OK_NODATA);
    free(g);
    CHECK(bystander_ok());
}

static const char good_bytes[64] = "what the guest meant to upload, written before the detach.....";
static const char secret_bytes[64] = "a secret of another guest process, in the page afterwards.....";

/* A context whose pump is held up in the middle of a batch with a
 * writeBuffer from resource `res` (one page at *page, holding good_bytes)
 * still queued behind the hold-up: mapAsyncs of an error buffer are
 * answered at once, and their answers fill the 4 KiB reply ring the guest
 * does not read. The pump waits for the guest to read (up to a second). */
static bool open_held_up(struct guest *g, uint32_t ctx, uint32_t shm_res, uint32_t res,
                         uint64_t *page)
{
    if (!guest_open_sized(g, ctx, shm_res, false, &tiny_reply) || !guest_device(g))
        return false;
    /* Buffer 1 takes the upload; buffer 2 is over the memory quota: an
     * error object, so commands naming it are skipped and answered. */
    if (!put_create_buffer(g, 1, 64, WGPUBufferUsage_CopyDst | WGPUBufferUsage_MapRead) ||
        !put_create_buffer(g, 2, 1ull << 40, WGPUBufferUsage_MapRead) || !publish(g) ||
        !round_trip(g))
        return false;
    *page = fe_alloc(&fe, 1, 4096);
    memcpy(fe_ptr(&fe, *page), good_bytes, sizeof(good_bytes));
    struct wgv_gpu_mem_entry e = {*page, 4096, 0};
    if (res_create_3d(res, 4096) != WGV_GPU_RESP_OK_NODATA ||
        attach_backing(res, &e, 1, 1) != WGV_GPU_RESP_OK_NODATA ||
        ctx_res(WGV_GPU_CMD_CTX_ATTACH_RESOURCE, ctx, res) != WGV_GPU_RESP_OK_NODATA)
        return false;
    usleep(20 * 1000);
    drop_replies(g);
    struct wgv_shm_control *c = (void *)g->view;
    uint64_t head = atomic_load(&c->reply_ring.head);
    for (int i = 0; i < 80; i++) {
        struct wgv_ga_wgpuBufferMapAsync m = {OBJ(WGPUBuffer, 2), WGPUMapMode_Read, 0, 64,
                                              ++g->next_future, 0, 0, 0};
        if (!put_wire(g, WGV_OP_wgpuBufferMapAsync, &m))
            return false;
    }
    if (!put_write_from_resource(g, res, sizeof(good_bytes)) || !publish(g))
        return false;
    /* Held up: the reply ring filled, and the writeBuffer is still queued. */
    uint64_t filled = 0;
    for (int i = 0; i < 400 && filled + 512 < tiny_reply.reply_ring; i++) {
        usleep(5000);
        filled = atomic_load(&c->reply_ring.head) - head;
    }
    if (filled + 512 < tiny_reply.reply_ring) {
        fprintf(stderr, "  the pump was not held up (%llu reply bytes)\n",
                (unsigned long long)filled);
        return false;
    }
    return true;
}

/* Reads replies (letting the held-up pump go on) until request `head` on
 * the control queue is answered; its response type, 0 after 5 s. */
static uint32_t answer_while_reading(struct guest *g, int head)
{
    for (int i = 0; i < 5000; i++) {
        drop_replies(g);
        if (fe_done(&fe, 0, head)) {
            struct wgv_gpu_hdr r;
            return fe_wait(&fe, 0, head, &r, sizeof(r), 10) >= (int)sizeof(r) ? r.type : 0;
        }
        usleep(1000);
    }
    return 0;
}

/* Whether request `head` is answered within ms milliseconds (not consumed). */
static bool answered_within(int head, int ms)
{
    for (int i = 0; i < ms; i++) {
        if (fe_done(&fe, 0, head))
            return true;
        usleep(1000);
    }
    return fe_done(&fe, 0, head);
}

static int start_res_cmd(uint32_t type, uint32_t ctx, uint32_t res)
{
    struct wgv_gpu_resource_id c = {.hdr = hdr(type, ctx), .resource_id = res};
    return fe_start(&fe, 0, &c, sizeof(c), sizeof(struct wgv_gpu_hdr));
}

/* The guest kernel frees a resource's pages once DETACH and UNREF (or
 * DETACH_BACKING) are answered, and another process may write its secret
 * there at once: a command queued before the detach must have read the
 * pages by then, and nothing may read them afterwards. */
static void test_detached_pages_are_not_read_after_the_answer(void)
{
    for (int variant = 0; variant < 2; variant++) {
        struct guest *g = malloc(sizeof(*g));
        uint64_t page = 0;
        uint32_t ctx = 60 + variant, res = 610 + variant;
        CHECK(open_held_up(g, ctx, 600 + variant, res, &page));
        int last;
        if (variant == 0) {
            CHECK(start_res_cmd(WGV_GPU_CMD_CTX_DETACH_RESOURCE, ctx, res) >= 0);
            last = start_res_cmd(WGV_GPU_CMD_RESOURCE_UNREF, 0, res);
        } else {
            last = start_res_cmd(WGV_GPU_CMD_RESOURCE_DETACH_BACKING, 0, res);
        }
        CHECK(last >= 0);
        /* An answer now, while the queued writeBuffer has not run, lets
         * the page be reused under it. */
        bool early = answered_within(last, 150);
        if (early)
            memcpy(fe_ptr(&fe, page), secret_bytes, sizeof(secret_bytes));
        /* Waiting for the pump does not hold up the other contexts. */
        CHECK(bystander_ok());
        CHECK(answer_while_reading(g, last) == WGV_GPU_RESP_OK_NODATA);
        memcpy(fe_ptr(&fe, page), secret_bytes, sizeof(secret_bytes));
        const uint8_t *got = read_buffer_1(g, sizeof(good_bytes));
        CHECK_MSG(got && !memcmp(got, good_bytes, sizeof(good_bytes)),
                  "variant %d: answered %s, the buffer holds \"%.63s\"", variant,
                  early ? "at once" : "later", got ? (const char *)got : "(nothing)");
        CHECK(round_trip(g));
        guest_close(g);
        struct wgv_gpu_resource_id u = {hdr(WGV_GPU_CMD_RESOURCE_UNREF, 0), 600 + variant, 0};
        CHECK(fe_cmd(&fe, &u, sizeof(u), NULL, 0) == WGV_GPU_RESP_OK_NODATA);
        if (variant == 1) {
            u.resource_id = res;
            CHECK(fe_cmd(&fe, &u, sizeof(u), NULL, 0) == WGV_GPU_RESP_OK_NODATA);
        }
        free(g);
    }
    CHECK(bystander_ok());
}

/* A destroyed context's pump may still be running commands that read its
 * resources: their UNREF is answered only once that pump has ended. */
static void test_unref_after_context_destroy_waits_for_its_pump(void)
{
    struct guest *g = malloc(sizeof(*g));
    uint64_t page = 0;
    CHECK(open_held_up(g, 62, 602, 612, &page));
    CHECK(ctx_destroy(62) == WGV_GPU_RESP_OK_NODATA);
    int head = start_res_cmd(WGV_GPU_CMD_RESOURCE_UNREF, 0, 612);
    CHECK(head >= 0);
    struct wgv_gpu_hdr r = {0};
    CHECK(fe_wait(&fe, 0, head, &r, sizeof(r), 5000) == (int)sizeof(r));
    CHECK(r.type == WGV_GPU_RESP_OK_NODATA);
    CHECK_MSG(log_has("context 62: destroyed with") || log_has("context 62 ended"),
              "UNREF answered while the destroyed context's pump was still running");
    struct wgv_gpu_resource_id u = {hdr(WGV_GPU_CMD_RESOURCE_UNREF, 0), 602, 0};
    CHECK(fe_cmd(&fe, &u, sizeof(u), NULL, 0) == WGV_GPU_RESP_OK_NODATA);
    munmap(g->view, g->total);
    free(g);
    CHECK(bystander_ok());
}

/* QEMU stops the queues for a reset as for a pause, and a rebooting guest
 * reuses its memory at once: once the control queue's stop is answered,
 * no pump touches guest memory, until the queue is started again where it
 * stopped (a resumed VM), when the pumps go on. */
static void test_stopped_control_queue_holds_the_pumps(void)
{
    struct guest *g = malloc(sizeof(*g));
    CHECK(guest_open_sized(g, 63, 603, false, &tiny_reply));
    uint64_t first = g->next_future + 1;
    for (int i = 0; i < 60; i++) {
        struct wgv_ga_wgpuInstanceRequestAdapter ra = {
            OBJ(WGPUInstance, 1), NULL, ++g->next_future, OBJ(WGPUAdapter, ++g->next_adapter)};
        CHECK(put_wire(g, WGV_OP_wgpuInstanceRequestAdapter, &ra));
    }
    CHECK(publish(g));
    usleep(50 * 1000); /* the replies fill the ring: the pump waits */
    CHECK(fe_stop_queue(&fe, 0));
    /* What the reboot does to the ring: the pages are taken over (here:
     * read empty, room for the daemon), and the daemon must not write into
     * them any more. */
    unsigned seen = 0;
    while (wgv_ring_read(&g->reply, g->buf, sizeof(g->buf)) > 0) {
        const struct wgv_reply_header *rh = (const void *)g->buf;
        seen += rh->kind == WGV_REPLY_CALLBACK && rh->key >= first;
    }
    struct wgv_shm_control *c = (void *)g->view;
    uint64_t head = atomic_load(&c->reply_ring.head);
    usleep(200 * 1000);
    CHECK_MSG(atomic_load(&c->reply_ring.head) == head,
              "the daemon wrote %llu reply bytes after the queue's stop was answered",
              (unsigned long long)(atomic_load(&c->reply_ring.head) - head));
    /* Resumed where it stopped: everything is still there and goes on. */
    CHECK(fe_resume_queue(&fe, 0));
    for (int spins = 0; seen < 60 && spins < 5000; spins++) {
        ssize_t n = wgv_ring_read(&g->reply, g->buf, sizeof(g->buf));
        if (n > 0) {
            const struct wgv_reply_header *rh = (const void *)g->buf;
            seen += rh->kind == WGV_REPLY_CALLBACK && rh->key >= first;
        } else {
            usleep(1000);
        }
    }
    CHECK_MSG(seen == 60, "%u of 60 callbacks", seen);
    CHECK(round_trip(g));
    guest_close(g);
    struct wgv_gpu_resource_id u = {hdr(WGV_GPU_CMD_RESOURCE_UNREF, 0), 603, 0};
    CHECK(fe_cmd(&fe, &u, sizeof(u), NULL, 0) == WGV_GPU_RESP_OK_NODATA);
    free(g);
    CHECK(bystander_ok());
}

/* ------------------------------------------------------------ the display */

/* One display message within ms milliseconds: request, payload (up to
 * cap) and its size; -1 if none came. */
static int display_msg(uint32_t *request, uint8_t *payload, size_t cap, int ms)
{
    struct pollfd p = {fe.disp, POLLIN, 0};
    if (poll(&p, 1, ms) <= 0)
        return -1;
    return fe_display_read(&fe, request, payload, cap);
}

/* Reads display messages until none comes for 200 ms; applies the updates
 * to fb (w x h pixels) when given. Returns how many messages came. */
static unsigned display_drain(uint32_t *fb, uint32_t w, uint32_t h)
{
    static uint8_t payload[20 + (256 << 10)];
    unsigned n = 0;
    uint32_t req;
    int len;
    while ((len = display_msg(&req, payload, sizeof(payload), 200)) >= 0) {
        n++;
        if (fb && req == 8 && len >= 20) {
            uint32_t u[5];
            memcpy(u, payload, sizeof(u));
            if (u[1] + u[3] <= w && u[2] + u[4] <= h && (size_t)len == 20 + (size_t)u[3] * u[4] * 4)
                for (uint32_t y = 0; y < u[4]; y++)
                    memcpy(fb + (size_t)(u[2] + y) * w + u[1], payload + 20 + (size_t)y * u[3] * 4,
                           (size_t)u[3] * 4);
        }
    }
    return n;
}

/* The daemon's resident memory in KiB (0 if unknown). */
static long daemon_rss_kib(void)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)daemon_pid);
    FILE *f = fopen(path, "r");
    long kib = 0;
    while (f && fgets(line, sizeof(line), f))
        if (!strncmp(line, "VmRSS:", 6))
            kib = atol(line + 6);
    if (f)
        fclose(f);
    return kib;
}

/* A 2D resource `id` of w x h pixels whose backing is one run of guest
 * memory (returned), attached. */
static uint64_t create_2d(uint32_t id, uint32_t w, uint32_t h)
{
    struct wgv_gpu_resource_create_2d c = {hdr(WGV_GPU_CMD_RESOURCE_CREATE_2D, 0), id,
                                           WGV_GPU_FORMAT_B8G8R8X8_UNORM, w, h};
    CHECK(fe_cmd(&fe, &c, sizeof(c), NULL, 0) == WGV_GPU_RESP_OK_NODATA);
    struct wgv_gpu_mem_entry e = {fe_alloc(&fe, 1, (uint64_t)w * h * 4), w * h * 4, 0};
    CHECK(attach_backing(id, &e, 1, 1) == WGV_GPU_RESP_OK_NODATA);
    return e.addr;
}

static uint32_t transfer_flush(uint32_t id, uint32_t w, uint32_t h, bool transfer)
{
    struct wgv_gpu_transfer_to_host_2d t = {hdr(WGV_GPU_CMD_TRANSFER_TO_HOST_2D, 0),
                                            {0, 0, w, h}, 0, id, 0};
    if (transfer && fe_cmd(&fe, &t, sizeof(t), NULL, 0) != WGV_GPU_RESP_OK_NODATA)
        return 0;
    struct wgv_gpu_resource_flush f = {hdr(WGV_GPU_CMD_RESOURCE_FLUSH, 0), {0, 0, w, h}, id, 0};
    return fe_cmd(&fe, &f, sizeof(f), NULL, 0);
}

static void fill_pixels(uint64_t gpa, uint32_t n, uint32_t seed)
{
    uint32_t *p = fe_ptr(&fe, gpa);
    for (uint32_t i = 0; i < n; i++)
        p[i] = 0xff000000u | ((i + seed) * 2654435761u >> 8);
}

/* QEMU reads the display socket slower than the guest flushes: the queue
 * stays bounded (updates wait, merged, instead of piling up), and once
 * QEMU catches up it gets the latest pixels. */
static void test_slow_display_reader_keeps_memory_bounded(void)
{
    enum { W = 1024, HT = 768 };
    display_drain(NULL, 0, 0);
    uint64_t gpa = create_2d(700, W, HT);
    fill_pixels(gpa, W * HT, 1);
    CHECK(transfer_flush(700, W, HT, true) == WGV_GPU_RESP_OK_NODATA);
    struct wgv_gpu_set_scanout s = {hdr(WGV_GPU_CMD_SET_SCANOUT, 0), {0, 0, W, HT}, 0, 700};
    CHECK(fe_cmd(&fe, &s, sizeof(s), NULL, 0) == WGV_GPU_RESP_OK_NODATA);
    static uint32_t fb[W * HT];
    display_drain(fb, W, HT);
    long before = daemon_rss_kib();
    /* 3 MiB flushed, 1 MiB read, 300 times over. */
    static uint8_t payload[20 + (256 << 10)];
    uint64_t taken = 0;
    bool all = true;
    for (int i = 0; i < 300 && all; i++) {
        all = transfer_flush(700, W, HT, false) == WGV_GPU_RESP_OK_NODATA;
        for (int m = 0; m < 4; m++) {
            uint32_t req;
            int n = display_msg(&req, payload, sizeof(payload), 2000);
            if (n < 0) {
                all = false;
                break;
            }
            taken += (uint64_t)n + 12;
        }
    }
    CHECK(all);
    long after = daemon_rss_kib();
    fprintf(stderr, "  daemon RSS %ld KiB -> %ld KiB while QEMU read %llu MiB\n", before, after,
            (unsigned long long)(taken >> 20));
    CHECK_MSG(before && after - before < 64 * 1024,
              "daemon RSS %ld KiB -> %ld KiB while QEMU read %llu MiB", before, after,
              (unsigned long long)(taken >> 20));
    /* New pixels, one flush, and QEMU catches up: the last frame arrives. */
    fill_pixels(gpa, W * HT, 7);
    CHECK(transfer_flush(700, W, HT, true) == WGV_GPU_RESP_OK_NODATA);
    display_drain(fb, W, HT);
    bool same = !memcmp(fb, fe_ptr(&fe, gpa), sizeof(fb));
    CHECK_MSG(same, "QEMU's copy of the scanout is not the guest's last frame");
    struct wgv_gpu_resource_id u = {hdr(WGV_GPU_CMD_RESOURCE_UNREF, 0), 700, 0};
    CHECK(fe_cmd(&fe, &u, sizeof(u), NULL, 0) == WGV_GPU_RESP_OK_NODATA);
    display_drain(NULL, 0, 0);
}

/* TRANSFER_TO_HOST_2D from a backing of a quarter million scatter entries
 * into 16383 rows: every row finds its entries without walking the list
 * from its start (the daemon's main thread serves every context). */
static void test_transfer_2d_through_a_quarter_million_entries(void)
{
    enum { W = 16, HT = 16383, N = 262142 };
    display_drain(NULL, 0, 0);
    struct wgv_gpu_resource_create_2d c = {hdr(WGV_GPU_CMD_RESOURCE_CREATE_2D, 0), 701,
                                           WGV_GPU_FORMAT_B8G8R8X8_UNORM, W, HT};
    CHECK(fe_cmd(&fe, &c, sizeof(c), NULL, 0) == WGV_GPU_RESP_OK_NODATA);
    /* One pixel an entry, every other 4 bytes of guest memory (so no two
     * entries are adjacent and none merge). */
    uint64_t pixels = fe_alloc(&fe, 1, (uint64_t)N * 8);
    uint64_t list = fe_alloc(&fe, 1, 32 + (uint64_t)N * 16);
    uint8_t *req = fe_ptr(&fe, list);
    struct wgv_gpu_attach_backing a = {.hdr = hdr(WGV_GPU_CMD_RESOURCE_ATTACH_BACKING, 0),
                                       .resource_id = 701, .nr_entries = N};
    memcpy(req, &a, sizeof(a));
    for (uint32_t i = 0; i < N; i++) {
        struct wgv_gpu_mem_entry e = {pixels + (uint64_t)i * 8, 4, 0};
        memcpy(req + sizeof(a) + (size_t)i * sizeof(e), &e, sizeof(e));
        uint32_t px = 0xff000000u | (i * 2654435761u >> 8);
        memcpy(fe_ptr(&fe, e.addr), &px, 4);
    }
    uint64_t resp = fe_alloc(&fe, 1, 4096);
    uint64_t addr[2] = {list, resp};
    uint32_t len[2] = {(uint32_t)(sizeof(a) + (size_t)N * 16), 24};
    uint16_t flags[2] = {1, 2};
    CHECK(raw_chain(addr, len, flags, 2, NULL) == 24);
    uint32_t type;
    memcpy(&type, fe_ptr(&fe, resp), 4);
    CHECK(type == WGV_GPU_RESP_OK_NODATA);
    /* Transfers queued at once, then another context's KICK behind them:
     * it is answered within fe_cmd's 5 s only if each transfer is quick. */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct wgv_gpu_transfer_to_host_2d t = {hdr(WGV_GPU_CMD_TRANSFER_TO_HOST_2D, 0),
                                            {0, 0, W, HT}, 0, 701, 0};
    enum { T = 24 };
    int heads[T];
    for (int i = 0; i < T; i++)
        heads[i] = fe_start(&fe, 0, &t, sizeof(t), 24);
    CHECK(bystander_ok());
    unsigned ok = 0;
    for (int i = 0; i < T; i++) {
        struct wgv_gpu_hdr r = {0};
        ok += heads[i] >= 0 && fe_wait(&fe, 0, heads[i], &r, sizeof(r), 60000) == 24 &&
              r.type == WGV_GPU_RESP_OK_NODATA;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK_MSG(ok == T, "%u of %d transfers answered", ok, T);
    fprintf(stderr, "  %d transfers of %u rows from %u entries: %.3f s\n", T, HT, N,
            (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
    /* What arrived, seen through the display. */
    struct wgv_gpu_set_scanout s = {hdr(WGV_GPU_CMD_SET_SCANOUT, 0), {0, 0, W, HT}, 0, 701};
    CHECK(fe_cmd(&fe, &s, sizeof(s), NULL, 0) == WGV_GPU_RESP_OK_NODATA);
    static uint32_t fb[W * HT];
    memset(fb, 0, sizeof(fb));
    display_drain(fb, W, HT);
    bool same = true;
    for (uint32_t i = 0; i < W * HT && same; i++)
        same = fb[i] == (0xff000000u | (i * 2654435761u >> 8));
    CHECK(same);
    struct wgv_gpu_resource_id u = {hdr(WGV_GPU_CMD_RESOURCE_UNREF, 0), 701, 0};
    CHECK(fe_cmd(&fe, &u, sizeof(u), NULL, 0) == WGV_GPU_RESP_OK_NODATA);
    display_drain(NULL, 0, 0);
    CHECK(bystander_ok());
}

static void test_guest_reboot_resets_the_device(void)
{
    /* The bystander's ids are taken; a driver that starts the control queue
     * afresh finds them free (and its old contexts gone). */
    CHECK(ctx_create(1, 0) == WGV_GPU_RESP_ERR_INVALID_CONTEXT_ID);
    CHECK(fe_restart_queue(&fe, 0));
    CHECK(wait_log("the device is reset", 5000));
    CHECK(wait_log("context 1: destroyed with", 5000));
    CHECK(ctx_create(1, 0) == WGV_GPU_RESP_OK_NODATA);
    CHECK(res_create_3d(bystander.res, 4096) == WGV_GPU_RESP_OK_NODATA);
    CHECK(ctx_destroy(1) == WGV_GPU_RESP_OK_NODATA);
    munmap(bystander.view, bystander.total);
    bystander.view = NULL;
}

static void test_front_end_leaving_frees_everything(void)
{
    fe_close(&fe);
    CHECK(wait_log("front-end left", 5000));
    CHECK(daemon_running());
    /* A new front-end starts from nothing and works. */
    CHECK(fe_connect(&fe, sock_path));
    struct guest *g = malloc(sizeof(*g));
    CHECK(guest_open(g, 2, 200, false)); /* the ids of before are free again */
    CHECK(round_trip(g));
    free(g);
    /* SIGTERM: a clean exit, the socket file removed. */
    kill(daemon_pid, SIGTERM);
    int st = 0, waited = 0;
    for (int i = 0; i < 500 && !(waited = waitpid(daemon_pid, &st, WNOHANG)); i++)
        usleep(10000);
    CHECK_MSG(waited > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "status 0x%x", st);
    daemon_pid = -1;
    CHECK(access(sock_path, F_OK) != 0);
    fe_close(&fe);
}

static void test_inherited_fd_serves_and_exits(void)
{
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0)
            dup2(fd, 2);
        fcntl(sv[1], F_SETFD, 0); /* inherited across exec */
        char num[16];
        snprintf(num, sizeof(num), "%d", sv[1]);
        execl(daemon_exe, daemon_exe, "--fd", num, "--null", (char *)NULL);
        _exit(127);
    }
    close(sv[1]);
    struct fe f;
    memset(&f, 0, sizeof(f));
    f.sock = sv[0];
    uint64_t feat = 0;
    CHECK(fe_msg(&f, FE_GET_FEATURES, 0, NULL, 0, NULL, 0, &feat, 8, true) == 8);
    CHECK(feat & (1ull << WGV_VIRTIO_F_VERSION_1));
    close(sv[0]);
    int st = 0, waited = 0;
    for (int i = 0; i < 500 && !(waited = waitpid(pid, &st, WNOHANG)); i++)
        usleep(10000);
    CHECK_MSG(waited > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "status 0x%x", st);
    if (!waited)
        kill(pid, SIGKILL);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test-vhost-user DAEMON\n");
        return 2;
    }
    daemon_exe = argv[1];
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/wgv-vu-XXXXXX");
    if (!mkdtemp(tmpdir))
        return 2;
    snprintf(sock_path, sizeof(sock_path), "%s/vu.sock", tmpdir);
    snprintf(log_path, sizeof(log_path), "%s/daemon.log", tmpdir);
    signal(SIGPIPE, SIG_IGN);
    if (!start_daemon() || !fe_connect(&fe, sock_path) || !guest_open(&bystander, 1, 100, false) ||
        !round_trip(&bystander)) {
        fprintf(stderr, "could not start: see %s\n", log_path);
        printf("vhost-user: 0 passed, 1 failed\n");
        if (daemon_pid > 0)
            kill(daemon_pid, SIGKILL);
        return 1;
    }
    RUN(test_negotiation_offers_what_qemu_needs);
    RUN(test_boot_2d_sequence_shows_the_framebuffer);
    RUN(test_capset_is_ours);
    RUN(test_contexts_create_and_destroy);
    RUN(test_webgpu_round_trip_through_the_rings);
    RUN(test_context_init_blob_setup_and_ring_idx);
    RUN(test_malformed_chains_come_back_empty);
    RUN(test_bad_scatter_lists_are_refused);
    RUN(test_bad_setups_end_their_context_only);
    RUN(test_records_and_resources_of_others_are_violations);
    RUN(test_empty_range_at_a_resource_end);
    RUN(test_detached_pages_are_not_read_after_the_answer);
    RUN(test_unref_after_context_destroy_waits_for_its_pump);
    RUN(test_stopped_control_queue_holds_the_pumps);
    RUN(test_slow_display_reader_keeps_memory_bounded);
    RUN(test_transfer_2d_through_a_quarter_million_entries);
    RUN(test_guest_reboot_resets_the_device);
    RUN(test_front_end_leaving_frees_everything);
    RUN(test_inherited_fd_serves_and_exits);
    if (daemon_pid > 0)
        kill(daemon_pid, SIGKILL);
    if (harness_state.failed || getenv("WGV_VU_KEEP_LOG"))
        fprintf(stderr, "daemon log: %s\n", log_path);
    else {
        unlink(log_path);
        rmdir(tmpdir);
    }
    return harness_finish("vhost-user");
}
