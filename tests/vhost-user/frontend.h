/* A simulated front-end for vhost-user-webgpu: plays QEMU (the vhost-user
 * socket, memfd guest RAM, the display socket) and the guest kernel's
 * virtio-gpu driver (split virtqueues in that RAM). The tests build their
 * requests, good and malformed, on top of it. */
#ifndef WGV_TESTS_VU_FRONTEND_H
#define WGV_TESTS_VU_FRONTEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FE_RAM_SIZE (64u << 20)
#define FE_REGION_SIZE (32u << 20)
#define FE_REGION1_GPA 0x100000000ull
#define FE_QUEUE_SIZE 64u
#define FE_SLOT_CMD (64u << 10)
#define FE_SLOT_RESP 4096u

/* vhost-user requests the tests use. */
enum {
    FE_GET_FEATURES = 1, FE_SET_FEATURES = 2, FE_SET_OWNER = 3, FE_SET_MEM_TABLE = 5,
    FE_SET_VRING_NUM = 8, FE_SET_VRING_ADDR = 9, FE_SET_VRING_BASE = 10,
    FE_GET_VRING_BASE = 11, FE_SET_VRING_KICK = 12, FE_SET_VRING_CALL = 13,
    FE_GET_PROTOCOL_FEATURES = 15, FE_SET_PROTOCOL_FEATURES = 16, FE_GET_QUEUE_NUM = 17,
    FE_SET_VRING_ENABLE = 18, FE_GET_CONFIG = 24, FE_GPU_SET_SOCKET = 33,
};
#define FE_NEED_REPLY 0x8u

struct fe_vq {
    uint64_t desc_gpa, avail_gpa, used_gpa;
    uint8_t *desc, *avail, *used;
    uint16_t avail_idx, last_used;
    int kick, call;
    int free_desc[FE_QUEUE_SIZE];
    unsigned nfree;
    struct { int d[FE_QUEUE_SIZE]; unsigned n; } chains[FE_QUEUE_SIZE];
    bool *done;       /* by used id (65536 entries) */
    uint32_t *len;
};

struct fe {
    int sock;         /* vhost-user */
    int disp;         /* our end of the display socket, -1 if none */
    int memfd;
    uint8_t *ram;     /* the whole memfd */
    uint64_t next[2]; /* bump allocators per region (gpa) */
    struct fe_vq q[2];
    uint64_t features, protocol;
};

/* Our pointer to guest-physical memory (NULL outside RAM). */
void *fe_ptr(struct fe *fe, uint64_t gpa);
/* Allocates page-aligned guest memory in region 0 or 1; returns its gpa. */
uint64_t fe_alloc(struct fe *fe, unsigned region, uint64_t bytes);

/* Connects to the daemon's socket (retrying up to 5 s) and negotiates like
 * QEMU: features, protocol features, config, mem table, both queues, the
 * display socket. false with a message on stderr. */
bool fe_connect(struct fe *fe, const char *path);
/* Sends the memory table (both regions of the memfd); true if acked. */
bool fe_send_mem_table(struct fe *fe);
/* Closes everything (the daemon sees the front-end leave). */
void fe_close(struct fe *fe);

/* One vhost-user message; reply (if want_reply) into payload. Returns the
 * reply's payload size, 0 without reply, -1 on error. */
int fe_msg(struct fe *fe, uint32_t request, uint32_t flags, const void *payload, uint32_t size,
           const int *fds, unsigned nfds, void *reply, uint32_t reply_cap, bool want_reply);

/* Starts a request on queue qi: cmd (readable) then resp_len writable bytes.
 * Returns the head index, -1 if no descriptors are free. */
int fe_start(struct fe *fe, unsigned qi, const void *cmd, size_t cmd_len, size_t resp_len);
/* Publishes a chain the test built itself (raw head index) and kicks. */
void fe_publish_head(struct fe *fe, unsigned qi, uint16_t head);
/* Takes a free descriptor index (the test fills it), -1 if none. */
int fe_take_desc(struct fe *fe, unsigned qi);
/* Writes descriptor i. */
void fe_set_desc(struct fe *fe, unsigned qi, unsigned i, uint64_t addr, uint32_t len,
                 uint16_t flags, uint16_t next);
/* Waits up to timeout_ms for used id `head`; its length, or -1. The
 * response is copied to resp (up to cap) for chains made by fe_start. */
int fe_wait(struct fe *fe, unsigned qi, int head, void *resp, size_t cap, int timeout_ms);
/* Whether used id `head` has come back (without waiting). */
bool fe_done(struct fe *fe, unsigned qi, int head);
/* A control request answered synchronously: the response type, or 0 if no
 * (or too short a) response came back within 5 s. */
uint32_t fe_cmd(struct fe *fe, const void *cmd, size_t len, void *resp, size_t cap);

/* Plays a guest driver that resets the device: stops queue qi
 * (GET_VRING_BASE), clears its rings and starts it again from index 0. */
bool fe_restart_queue(struct fe *fe, unsigned qi);
/* Stops queue qi as QEMU does for a pause or a reset (GET_VRING_BASE);
 * true once the daemon answered with the queue's position. */
bool fe_stop_queue(struct fe *fe, unsigned qi);
/* Starts a stopped queue again where it stopped (a resumed VM). */
bool fe_resume_queue(struct fe *fe, unsigned qi);

/* Reads one display-socket message (up to 2 s): request and payload. */
int fe_display_read(struct fe *fe, uint32_t *request, void *payload, size_t cap);

#endif
