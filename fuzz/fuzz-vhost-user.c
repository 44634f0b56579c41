/* libFuzzer target: vhost-user-webgpu's device model, driven in-process.
 *
 * The device has no front-end: guest RAM is a memfd this target owns (one
 * region at guest-physical 0), and requests go through the same dispatch
 * as those taken from the virtqueues (wgv_vu_serve_bytes). Contexts whose
 * SETUP succeeds get their ring pump thread, on Dawn's Null backend, and
 * run what the input wrote into their command ring. After each input the
 * device is reset, which joins every pump. Whatever the input does: no
 * crash, no out-of-bounds access, no leak, no hang.
 *
 * Input: one byte of features (bit 0 CONTEXT_INIT, bit 1 RESOURCE_BLOB),
 * then operations, each a byte (its value modulo 8) and its arguments:
 *   0, 1  a control request: u16 length, then that many bytes
 *   2     a cursor request: the same
 *   3     a write into guest RAM: u32 offset, u16 length, the bytes
 *   4     the main loop's round: pumps reaped, answers sent (waiting up
 *         to 200 ms for those still owed, as a guest waits for its fence),
 *         QEMU's end of the display socket read empty
 *   5     the control queue stopped (the pumps paused)
 *   6     the control queue started again where it stopped
 *   7     a device reset
 * Responses go to 16 slots of 4 KiB at the top of guest RAM. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "virtio-gpu.h"
#include "vu.h"

#define RAM_SIZE (8u << 20)
#define SLOT_SIZE 4096u
#define SLOTS 16u
#define QUEUE_SIZE 64u

static struct wgv_vu *vu;
static int ram_fd = -1;
static int qemu_display = -1; /* our end of the display socket */

static void start_queues(void)
{
    for (unsigned i = 0; i < WGV_VU_QUEUES; i++) {
        vu->vq[i].num = QUEUE_SIZE;
        vu->vq[i].started = vu->vq[i].enabled = true;
    }
}

static void read_display(void)
{
    uint8_t sink[65536];
    while (recv(qemu_display, sink, sizeof(sink), MSG_DONTWAIT) > 0)
        ;
}

/* The device, its guest RAM and its display socket, made once. */
static void setup(void)
{
    char err[512];
    struct wgv_vu_config cfg = {.fd = -1, .force_backend = 1 /* Null */,
                                .policy = {.max_memory = 512u << 20},
                                .max_contexts = 8, .max_resources = 256,
                                .max_2d_bytes = 64u << 20};
    /* Rings and bulk areas small enough for the RAM. */
    cfg.max_shm = (struct wgv_shm_sizes){1u << 20, 1u << 20, 4u << 20};
    vu = wgv_vu_create(&cfg, err, sizeof(err));
    ram_fd = memfd_create("fuzz-guest-ram", MFD_CLOEXEC);
    if (!vu || ram_fd < 0 || ftruncate(ram_fd, RAM_SIZE) != 0) {
        fprintf(stderr, "fuzz-vhost-user: %s\n", vu ? "guest RAM" : err);
        abort();
    }
    struct wgv_vu_region_desc d = {0, RAM_SIZE, 0x7f0000000000ull, 0};
    int fd = dup(ram_fd);
    if (wgv_vu_mem_set_table(&vu->mem, &d, &fd, 1, err, sizeof(err)) != 0) {
        fprintf(stderr, "fuzz-vhost-user: %s\n", err);
        abort();
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        abort();
    qemu_display = sv[0];
    wgv_vu_display_set_socket(&vu->display, sv[1]);
    /* QEMU's answer to the features request: none of its optional ones. */
    uint32_t reply[5] = {1, 0x4, 8, 0, 0};
    if (send(qemu_display, reply, sizeof(reply), 0) != sizeof(reply))
        abort();
    wgv_vu_display_io(&vu->display, true, true);
    read_display();
    start_queues();
}

static bool take(const uint8_t **p, const uint8_t *end, void *out, size_t n)
{
    if ((size_t)(end - *p) < n)
        return false;
    memcpy(out, *p, n);
    *p += n;
    return true;
}

static void serve(unsigned queue, const uint8_t **p, const uint8_t *end, unsigned *slot)
{
    uint16_t len;
    if (!take(p, end, &len, sizeof(len)))
        return;
    if (len > end - *p)
        len = (uint16_t)(end - *p);
    uint64_t gpa = RAM_SIZE - SLOT_SIZE * (1 + (*slot)++ % SLOTS);
    wgv_vu_serve_bytes(vu, queue, *p, len, wgv_vu_mem_gpa(&vu->mem, gpa, SLOT_SIZE), SLOT_SIZE);
    *p += len;
}

static void write_ram(const uint8_t **p, const uint8_t *end)
{
    uint32_t off;
    uint16_t len;
    if (!take(p, end, &off, sizeof(off)) || !take(p, end, &len, sizeof(len)))
        return;
    if (len > end - *p)
        len = (uint16_t)(end - *p);
    off %= RAM_SIZE;
    if (len > RAM_SIZE - off)
        len = (uint16_t)(RAM_SIZE - off);
    memcpy(wgv_vu_mem_gpa(&vu->mem, 0, RAM_SIZE) + off, *p, len);
    *p += len;
}

/* One round of the main loop, repeated while answers are owed (at most
 * 200 ms: a pump may wait for a reply ring nobody reads). */
static void round_trip(void)
{
    for (int i = 0; i < 2000; i++) {
        wgv_vu_reap_pumps(vu, false);
        wgv_vu_fences_flush(vu);
        if (!vu->nfences || !vu->vq[WGV_VU_CTRLQ].started)
            return;
        usleep(100);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!vu)
        setup();
    if (size < 1)
        return 0;
    vu->acked_features = (1ull << WGV_GPU_F_VIRGL) |
                         (data[0] & 1 ? 1ull << WGV_GPU_F_CONTEXT_INIT : 0) |
                         (data[0] & 2 ? 1ull << WGV_GPU_F_RESOURCE_BLOB : 0);
    const uint8_t *p = data + 1, *end = data + size;
    unsigned slot = 0;
    while (p < end) {
        switch (*p++ % 8) {
        case 0:
        case 1:
            serve(WGV_VU_CTRLQ, &p, end, &slot);
            break;
        case 2:
            serve(WGV_VU_CURSORQ, &p, end, &slot);
            break;
        case 3:
            write_ram(&p, end);
            break;
        case 4:
            round_trip();
            read_display();
            wgv_vu_display_io(&vu->display, false, true);
            break;
        case 5:
            if (vu->vq[WGV_VU_CTRLQ].started) {
                vu->vq[WGV_VU_CTRLQ].started = false;
                wgv_vu_pumps_pause(vu);
            }
            break;
        case 6:
            if (!vu->vq[WGV_VU_CTRLQ].started) {
                vu->vq[WGV_VU_CTRLQ].started = true;
                wgv_vu_pumps_resume(vu);
                wgv_vu_fences_flush(vu);
            }
            break;
        case 7:
            wgv_vu_reset_device(vu, false);
            break;
        }
    }
    /* The next input starts from a fresh device and zeroed RAM. */
    wgv_vu_reset_device(vu, false);
    start_queues();
    read_display();
    wgv_vu_display_io(&vu->display, false, true);
    read_display();
    if (fallocate(ram_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, RAM_SIZE) != 0)
        memset(wgv_vu_mem_gpa(&vu->mem, 0, RAM_SIZE), 0, RAM_SIZE);
    return 0;
}
