/* libwgv-host through its embeddable API, as a VMM drives it: contexts fed
 * command bytes, replies through a callback, fences, scatter-list
 * resources; and a guest that breaks the protocol loses its own context
 * while another context keeps working.
 *
 * Commands are encoded with the guest's generated tables, objects given as
 * their wire handles. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "encode.h"
#include "harness.h"
#include "objects.h"
#include "protocol.h"
#include "wgv-guest-wire.h"
#include "wgv-host.h"

#define H(id, gen) ((uint64_t)(id) | ((uint64_t)(gen) << 32))
#define OBJ(type, id) ((type)(uintptr_t)H(id, 1))
#define OBJG(type, id, gen) ((type)(uintptr_t)H(id, gen))

struct conn {
    struct wgv_context *ctx;
    uint8_t *replies;
    size_t len, cap;
    uint8_t *bulk;
    uint64_t next_future;
};

static struct wgv_host *host;
static uint64_t fences_seen[16];
static unsigned fence_count;

static void on_fence(void *user, uint32_t context_id, uint32_t ring, uint64_t fence_id)
{
    (void)user, (void)context_id, (void)ring;
    if (fence_count < 16)
        fences_seen[fence_count++] = fence_id;
}

static bool on_reply(void *user, const void *bytes, size_t len)
{
    struct conn *c = user;
    if (c->len + len > c->cap) {
        size_t cap = (c->cap ? c->cap : 4096) * 2 + len;
        uint8_t *r = realloc(c->replies, cap);
        if (!r)
            return false;
        c->replies = r;
        c->cap = cap;
    }
    memcpy(c->replies + c->len, bytes, len);
    c->len += len;
    return true;
}


/* Encodes one command; returns wgv_context_submit's result. */
static int send(struct conn *c, unsigned op, const void *args)
{
    struct wgv_writer w;
    test_encode_command(op, args, &w);
    int rc = wgv_context_submit(c->ctx, w.data, w.len);
    wgv_writer_free(&w);
    return rc;
}

/* The reply of a kind and key, waiting for it up to a few seconds. */
static const struct wgv_reply_header *find_reply(struct conn *c, unsigned kind, uint64_t key)
{
    for (int round = 0; round < 20000; round++) {
        for (size_t pos = 0; pos + sizeof(struct wgv_reply_header) <= c->len;) {
            const struct wgv_reply_header *h = (const void *)(c->replies + pos);
            if (h->kind == kind && h->key == key)
                return h;
            pos += h->size;
        }
        if (wgv_context_lost_reason(c->ctx))
            return NULL;
        wgv_context_poll(c->ctx);
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

/* A context with adapter 1, device 1 and queue 1 ready. */
static bool open_conn(struct conn *c, uint32_t id)
{
    memset(c, 0, sizeof(*c));
    c->bulk = calloc(1, 1 << 20);
    struct wgv_context_io io = {.reply = on_reply, .bulk = c->bulk, .bulk_size = 1 << 20, .user = c};
    c->ctx = wgv_context_create(host, id, &io);
    if (!c->ctx)
        return false;
    struct wgv_ga_wgpuInstanceRequestAdapter ra = {
        OBJ(WGPUInstance, 1), NULL, 1, OBJ(WGPUAdapter, 1)};
    struct wgv_ga_wgpuAdapterRequestDevice rd = {
        OBJ(WGPUAdapter, 1), NULL, 2, OBJ(WGPUDevice, 1), OBJ(WGPUQueue, 1), 3, 4};
    c->next_future = 5;
    return send(c, WGV_OP_wgpuInstanceRequestAdapter, &ra) == 0 &&
           find_reply(c, WGV_REPLY_CALLBACK, 1) && send(c, WGV_OP_wgpuAdapterRequestDevice, &rd) == 0 &&
           find_reply(c, WGV_REPLY_CALLBACK, 2) && find_reply(c, WGV_REPLY_DEVICE_STATE, H(1, 1));
}

static void close_conn(struct conn *c)
{
    wgv_context_destroy(c->ctx);
    free(c->replies);
    free(c->bulk);
}

static void release(struct conn *c, unsigned type, uint64_t handle)
{
    struct wgv_ga_wgvRelease r = {type, handle};
    send(c, WGV_OP_wgvRelease, &r);
}

static int create_buffer(struct conn *c, uint32_t id, uint64_t size, WGPUBufferUsage usage)
{
    WGPUBufferDescriptor d = WGPU_BUFFER_DESCRIPTOR_INIT;
    d.size = size;
    d.usage = usage;
    struct wgv_ga_wgpuDeviceCreateBuffer a = {OBJ(WGPUDevice, 1), &d, OBJ(WGPUBuffer, id)};
    return send(c, WGV_OP_wgpuDeviceCreateBuffer, &a);
}

static void test_objects_created_and_released_return_to_zero(void)
{
    struct conn c;
    CHECK(open_conn(&c, 1));
    CHECK_MSG(wgv_context_live_objects(c.ctx) == 3, "%zu live", wgv_context_live_objects(c.ctx));
    for (uint32_t i = 1; i <= 50; i++)
        CHECK(create_buffer(&c, i, 256, WGPUBufferUsage_CopyDst) == 0);
    CHECK(wgv_context_live_objects(c.ctx) == 53);
    for (uint32_t i = 1; i <= 50; i++)
        release(&c, WGV_OBJ_Buffer, H(i, 1));
    release(&c, WGV_OBJ_Queue, H(1, 1));
    release(&c, WGV_OBJ_Device, H(1, 1));
    release(&c, WGV_OBJ_Adapter, H(1, 1));
    CHECK_MSG(wgv_context_live_objects(c.ctx) == 0, "%zu live", wgv_context_live_objects(c.ctx));
    CHECK(wgv_context_lost_reason(c.ctx) == NULL);
    close_conn(&c);
}

static void test_fence_retires_after_submitted_work(void)
{
    struct conn c;
    CHECK(open_conn(&c, 2));
    struct wgv_ga_wgpuDeviceCreateCommandEncoder e = {OBJ(WGPUDevice, 1), NULL,
                                                      OBJ(WGPUCommandEncoder, 1)};
    struct wgv_ga_wgpuCommandEncoderFinish f = {OBJ(WGPUCommandEncoder, 1), NULL,
                                                OBJ(WGPUCommandBuffer, 1)};
    WGPUCommandBuffer cb = OBJ(WGPUCommandBuffer, 1);
    struct wgv_ga_wgpuQueueSubmit s = {OBJ(WGPUQueue, 1), 1, &cb};
    CHECK(send(&c, WGV_OP_wgpuDeviceCreateCommandEncoder, &e) == 0);
    CHECK(send(&c, WGV_OP_wgpuCommandEncoderFinish, &f) == 0);
    CHECK(send(&c, WGV_OP_wgpuQueueSubmit, &s) == 0);
    fence_count = 0;
    CHECK(wgv_context_fence(c.ctx, 0, 77) == 0);
    for (int i = 0; i < 20000 && !fence_count; i++) {
        wgv_context_poll(c.ctx);
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
    }
    CHECK(fence_count == 1 && fences_seen[0] == 77);
    close_conn(&c);
}

static void test_scatter_list_resource_feeds_write_buffer(void)
{
    struct conn c;
    CHECK(open_conn(&c, 3));
    /* 100 bytes spread over three pieces of 7, 50 and 43 bytes. */
    uint8_t p0[7], p1[50], p2[43], want[100];
    for (int i = 0; i < 100; i++)
        want[i] = (uint8_t)(i * 7 + 3);
    memcpy(p0, want, 7);
    memcpy(p1, want + 7, 50);
    memcpy(p2, want + 57, 43);
    struct wgv_iovec iov[3] = {{p0, 7}, {p1, 50}, {p2, 43}};
    CHECK(wgv_context_attach_resource(c.ctx, 9, iov, 3) == 0);
    CHECK(wgv_context_attach_resource(c.ctx, 9, iov, 3) == -1); /* id taken */
    CHECK(create_buffer(&c, 1, 96, WGPUBufferUsage_CopyDst | WGPUBufferUsage_MapRead) == 0);

    /* writeBuffer(queue, buffer, 0, <resource 9, offset 4, 96 bytes>): the
     * guest library sends bulk data by offset; a VMM's guest may name a
     * resource instead (byte block mode 2). */
    struct wgv_writer w;
    wgv_writer_init(&w);
    struct wgv_cmd_header h = {0, WGV_OP_wgpuQueueWriteBuffer, 0};
    wgv_writer_put(&w, &h, sizeof(h));
    wgv_put_u64(&w, H(1, 1));
    wgv_put_u64(&w, H(1, 1));
    wgv_put_u64(&w, 0);
    wgv_put_u32(&w, 2);
    wgv_put_u64(&w, 96);
    wgv_put_u32(&w, 9);
    wgv_put_u64(&w, 4);
    h.size = (uint32_t)w.len;
    memcpy(w.data, &h, sizeof(h));
    CHECK(wgv_context_submit(c.ctx, w.data, w.len) == 0);
    wgv_writer_free(&w);

    struct wgv_ga_wgpuBufferMapAsync m = {OBJ(WGPUBuffer, 1), WGPUMapMode_Read, 0, 96, 5, 4096, 0, 0};
    CHECK(send(&c, WGV_OP_wgpuBufferMapAsync, &m) == 0);
    CHECK(find_reply(&c, WGV_REPLY_CALLBACK, 5) != NULL);
    CHECK(memcmp(c.bulk + 4096, want + 4, 96) == 0);

    /* Ranges past the resource's end end the context. */
    wgv_context_detach_resource(c.ctx, 9);
    CHECK(wgv_context_attach_resource(c.ctx, 9, iov, 3) == 0);
    wgv_writer_init(&w);
    wgv_writer_put(&w, &h, sizeof(h));
    wgv_put_u64(&w, H(1, 1));
    wgv_put_u64(&w, H(1, 1));
    wgv_put_u64(&w, 0);
    wgv_put_u32(&w, 2);
    wgv_put_u64(&w, 96);
    wgv_put_u32(&w, 9);
    wgv_put_u64(&w, 8);
    memcpy(w.data, &h, sizeof(h));
    CHECK(wgv_context_submit(c.ctx, w.data, w.len) == -1);
    const char *why = wgv_context_lost_reason(c.ctx);
    CHECK_MSG(why && strstr(why, "resource 9"), "%s", why ? why : "not lost");
    wgv_writer_free(&w);
    close_conn(&c);
}

/* queueWriteBuffer(queue 1, buffer 1, 0, <resource id, offset, size>):
 * a byte block by reference in resource mode (mode 2). */
static int write_from_resource(struct conn *c, uint32_t id, uint64_t offset, uint64_t size)
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
    wgv_put_u32(&w, id);
    wgv_put_u64(&w, offset);
    h.size = (uint32_t)w.len;
    memcpy(w.data, &h, sizeof(h));
    int rc = wgv_context_submit(c->ctx, w.data, w.len);
    wgv_writer_free(&w);
    return rc;
}

/* Empty ranges and zero-length pieces: an empty range at a resource's end
 * (or in a resource of no bytes) is inside it, and finding its piece must
 * not walk past the scatter list (AddressSanitizer traps a read of the
 * entry after the last). Ranges over zero-length pieces gather the right
 * bytes. */
static void test_resource_ranges_at_the_end_and_empty_pieces(void)
{
    struct conn c;
    CHECK(open_conn(&c, 12));
    CHECK(create_buffer(&c, 1, 64, WGPUBufferUsage_CopyDst | WGPUBufferUsage_MapRead) == 0);
    /* 37 bytes: pieces of 0, 5, 0, 0, 29, 3 and 0 bytes. */
    uint8_t bytes[37];
    for (int i = 0; i < 37; i++)
        bytes[i] = (uint8_t)(i * 13 + 1);
    struct wgv_iovec iov[7] = {{bytes, 0}, {bytes, 5}, {bytes + 5, 0}, {bytes + 5, 0},
                               {bytes + 5, 29}, {bytes + 34, 3}, {bytes + 37, 0}};
    CHECK(wgv_context_attach_resource(c.ctx, 2, iov, 7) == 0);
    /* The second resource has no bytes at all. */
    struct wgv_iovec none[2] = {{bytes, 0}, {bytes, 0}};
    CHECK(wgv_context_attach_resource(c.ctx, 3, none, 2) == 0);
    CHECK(write_from_resource(&c, 2, 37, 0) == 0);
    CHECK(write_from_resource(&c, 2, 34, 0) == 0);
    CHECK(write_from_resource(&c, 2, 0, 0) == 0);
    CHECK(write_from_resource(&c, 3, 0, 0) == 0);
    CHECK_MSG(wgv_context_lost_reason(c.ctx) == NULL, "%s", wgv_context_lost_reason(c.ctx));
    /* 32 bytes from offset 3: across the empty pieces, gathered. */
    CHECK(write_from_resource(&c, 2, 3, 32) == 0);
    struct wgv_ga_wgpuBufferMapAsync m = {OBJ(WGPUBuffer, 1), WGPUMapMode_Read, 0, 32, 5, 4096, 0, 0};
    CHECK(send(&c, WGV_OP_wgpuBufferMapAsync, &m) == 0);
    CHECK(find_reply(&c, WGV_REPLY_CALLBACK, 5) != NULL);
    CHECK(memcmp(c.bulk + 4096, bytes + 3, 32) == 0);
    /* One byte past the end of either is outside. */
    CHECK(write_from_resource(&c, 3, 0, 1) == -1);
    const char *why = wgv_context_lost_reason(c.ctx);
    CHECK_MSG(why && strstr(why, "resource 3"), "%s", why ? why : "not lost");
    close_conn(&c);
    CHECK(open_conn(&c, 13));
    CHECK(create_buffer(&c, 1, 64, WGPUBufferUsage_CopyDst) == 0);
    CHECK(wgv_context_attach_resource(c.ctx, 2, iov, 7) == 0);
    CHECK(write_from_resource(&c, 2, 38, 0) == -1);
    close_conn(&c);
}

/* Devices requested and released again and again: each request keeps a
 * record for the device's loss and one for its uncaptured errors; both
 * must go with the device (released or destroyed), or the list every
 * buffer release and the watchdog walk grows by one a request. */
static void test_device_requests_leave_no_records(void)
{
    struct conn c;
    CHECK(open_conn(&c, 14));
    size_t base = wgv_context_pending_records(c.ctx);
    CHECK_MSG(base == 2, "%zu records for one device", base); /* its loss, its errors */
    enum { CYCLES = 300 };
    for (uint32_t gen = 1; gen <= CYCLES && !wgv_context_lost_reason(c.ctx); gen++) {
        uint64_t f = c.next_future;
        c.next_future += 3;
        struct wgv_ga_wgpuAdapterRequestDevice rd = {
            OBJ(WGPUAdapter, 1), NULL, f, OBJG(WGPUDevice, 2, gen), OBJG(WGPUQueue, 2, gen),
            f + 1, f + 2};
        c.len = 0;
        CHECK(send(&c, WGV_OP_wgpuAdapterRequestDevice, &rd) == 0);
        if (!find_reply(&c, WGV_REPLY_CALLBACK, f)) {
            CHECK_MSG(false, "device %u was never answered", gen);
            break;
        }
        release(&c, WGV_OBJ_Queue, H(2, gen));
        release(&c, WGV_OBJ_Device, H(2, gen));
        wgv_context_poll(c.ctx);
    }
    /* A device destroyed while the guest holds it: lost, so its records go
     * too; the guest's release afterwards changes nothing. */
    uint64_t f = c.next_future;
    c.next_future += 3;
    struct wgv_ga_wgpuAdapterRequestDevice rd = {
        OBJ(WGPUAdapter, 1), NULL, f, OBJ(WGPUDevice, 3), OBJ(WGPUQueue, 3), f + 1, f + 2};
    CHECK(send(&c, WGV_OP_wgpuAdapterRequestDevice, &rd) == 0);
    CHECK(find_reply(&c, WGV_REPLY_CALLBACK, f) != NULL);
    CHECK(wgv_context_pending_records(c.ctx) == base + 2);
    struct wgv_ga_wgpuDeviceDestroy dd = {OBJ(WGPUDevice, 3)};
    CHECK(send(&c, WGV_OP_wgpuDeviceDestroy, &dd) == 0);
    CHECK(find_reply(&c, WGV_REPLY_CALLBACK, f + 1) != NULL); /* its loss */
    size_t left = wgv_context_pending_records(c.ctx);
    CHECK_MSG(left == base, "%zu records after %d devices came and went (%zu with one device)",
              left, CYCLES + 1, base);
    release(&c, WGV_OBJ_Queue, H(3, 1));
    release(&c, WGV_OBJ_Device, H(3, 1));
    wgv_context_poll(c.ctx);
    CHECK(wgv_context_pending_records(c.ctx) == base);
    CHECK_MSG(wgv_context_lost_reason(c.ctx) == NULL, "%s", wgv_context_lost_reason(c.ctx));
    CHECK(wgv_context_live_objects(c.ctx) == 3);
    close_conn(&c);
}

/* The object tables with three live objects and a guest that creates and
 * releases command encoders with ever-new ids (which once grew a table to
 * 33.5 million slots): refused at the 1025th new id while 1024 are free,
 * the table no larger than 2048 slots; freed ids are reused without limit;
 * and a table at the largest length (or at 2^31, where a 32-bit capacity
 * doubling wraps to 0) refuses to grow instead of wrapping. */
static void test_object_tables_stay_bounded(void)
{
    struct wgv_objects o;
    wgv_objects_init(&o, 1u << 20);
    CHECK(wgv_objects_claim(&o, WGV_OBJ_Adapter, H(1, 1), NULL) != NULL);
    CHECK(wgv_objects_claim(&o, WGV_OBJ_Device, H(1, 1), NULL) != NULL);
    CHECK(wgv_objects_claim(&o, WGV_OBJ_Queue, H(1, 1), NULL) != NULL);
    const char *why = NULL;
    uint32_t id;
    for (id = 1; id <= (1u << 25); id++) {
        struct wgv_slot *s = wgv_objects_claim(&o, WGV_OBJ_CommandEncoder, H(id, 1), &why);
        if (!s)
            break;
        wgv_objects_free(&o, WGV_OBJ_CommandEncoder, s);
    }
    struct wgv_table *t = &o.tables[WGV_OBJ_CommandEncoder];
    CHECK_MSG(id == 1025, "the 1st refused new id is %u", id);
    CHECK_MSG(why && strstr(why, "freed ids"), "%s", why ? why : "no reason");
    CHECK_MSG(t->cap <= 2048, "a table of %u slots", t->cap);
    CHECK(o.live == 3);
    /* Freed ids come back, generation after generation. */
    for (uint32_t gen = 2; gen <= 2000; gen++) {
        struct wgv_slot *s = wgv_objects_claim(&o, WGV_OBJ_CommandEncoder, H(gen % 1024 + 1, gen),
                                               &why);
        CHECK(s != NULL);
        if (!s)
            break;
        wgv_objects_free(&o, WGV_OBJ_CommandEncoder, s);
    }
    CHECK(t->cap <= 2048);
    /* Tables whose length is at the limit or past it (slots never
     * touched: a refusal must come before any growth). */
    struct wgv_table saved = *t;
    const uint32_t lens[] = {WGV_OBJECTS_LEN_MAX, 1u << 31, UINT32_MAX};
    for (unsigned i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        *t = (struct wgv_table){NULL, lens[i], lens[i], lens[i] - 1};
        why = NULL;
        CHECK(wgv_objects_claim(&o, WGV_OBJ_CommandEncoder, H(lens[i], 1), &why) == NULL);
        CHECK_MSG(why && strstr(why, "cannot grow"), "length %u: %s", lens[i],
                  why ? why : "no reason");
        CHECK(t->len == lens[i] && t->cap == lens[i] && t->slots == NULL);
    }
    *t = saved;
    wgv_objects_fini(&o);
}

static void test_violation_ends_one_context_and_not_another(void)
{
    struct conn a, b;
    CHECK(open_conn(&a, 4));
    CHECK(open_conn(&b, 5));
    uint8_t garbage[16] = {16, 0, 0, 0, 0xff, 0x7f, 0, 0};
    CHECK(wgv_context_submit(a.ctx, garbage, sizeof(garbage)) == -1);
    const char *why = wgv_context_lost_reason(a.ctx);
    CHECK_MSG(why && strstr(why, "unknown opcode"), "%s", why ? why : "not lost");
    /* The guest is told, with the reason after the header. */
    const struct wgv_reply_header *lost = find_reply(&a, WGV_REPLY_CONTEXT_LOST, 0);
    CHECK(lost != NULL);
    if (lost) {
        const char *body = (const char *)(lost + 1);
        size_t n = lost->size - sizeof(*lost);
        CHECK_MSG(n > 8 && memmem(body + 8, n - 8, "unknown opcode", 14) != NULL,
                  "reply of %zu bytes", n);
    }
    /* Everything after is refused, and the other context is unaffected. */
    CHECK(create_buffer(&b, 1, 64, WGPUBufferUsage_CopyDst) == 0);
    CHECK(wgv_context_lost_reason(b.ctx) == NULL);
    CHECK(wgv_context_live_objects(b.ctx) == 4);
    close_conn(&a);
    close_conn(&b);
}

static void test_release_twice_and_stale_handles_are_violations(void)
{
    struct conn c;
    CHECK(open_conn(&c, 6));
    CHECK(create_buffer(&c, 1, 64, WGPUBufferUsage_CopyDst) == 0);
    release(&c, WGV_OBJ_Buffer, H(1, 1));
    CHECK(wgv_context_lost_reason(c.ctx) == NULL);
    release(&c, WGV_OBJ_Buffer, H(1, 1));
    const char *why = wgv_context_lost_reason(c.ctx);
    CHECK_MSG(why && strstr(why, "not live"), "%s", why ? why : "not lost");
    close_conn(&c);

    CHECK(open_conn(&c, 7));
    CHECK(create_buffer(&c, 1, 64, WGPUBufferUsage_CopyDst) == 0);
    /* Generation 2 of id 1 was never created. */
    struct wgv_ga_wgpuBufferDestroy d = {(WGPUBuffer)(uintptr_t)H(1, 2)};
    CHECK(send(&c, WGV_OP_wgpuBufferDestroy, &d) == -1);
    why = wgv_context_lost_reason(c.ctx);
    CHECK_MSG(why && strstr(why, "not a live object"), "%s", why ? why : "not lost");
    close_conn(&c);

    CHECK(open_conn(&c, 8));
    /* An id far past the table. */
    CHECK(create_buffer(&c, 1000, 64, WGPUBufferUsage_CopyDst) == -1);
    why = wgv_context_lost_reason(c.ctx);
    CHECK_MSG(why && strstr(why, "cannot be created"), "%s", why ? why : "not lost");
    close_conn(&c);

    /* A buffer's handle used as a texture's. */
    CHECK(open_conn(&c, 9));
    CHECK(create_buffer(&c, 1, 64, WGPUBufferUsage_CopyDst) == 0);
    struct wgv_ga_wgpuTextureDestroy td = {OBJ(WGPUTexture, 1)};
    CHECK(send(&c, WGV_OP_wgpuTextureDestroy, &td) == -1);
    close_conn(&c);
}

static void test_lying_command_sizes_are_violations(void)
{
    struct conn c;
    CHECK(open_conn(&c, 10));
    uint8_t cmd[24] = {0};
    struct wgv_cmd_header h = {64, WGV_OP_wgpuBufferDestroy, 0}; /* claims 64, has 24 */
    memcpy(cmd, &h, sizeof(h));
    CHECK(wgv_context_submit(c.ctx, cmd, sizeof(cmd)) == -1);
    close_conn(&c);
    CHECK(open_conn(&c, 11));
    h.size = 12; /* not a multiple of 8 */
    memcpy(cmd, &h, sizeof(h));
    CHECK(wgv_context_submit(c.ctx, cmd, sizeof(cmd)) == -1);
    close_conn(&c);
}

/* Whether the device reported an uncaptured error (future 4) of a type. */
static bool saw_uncaptured(struct conn *c, WGPUErrorType type)
{
    wgv_context_poll(c->ctx);
    for (size_t pos = 0; pos + sizeof(struct wgv_reply_header) <= c->len;) {
        const struct wgv_reply_header *h = (const void *)(c->replies + pos);
        pos += h->size;
        if (h->kind != WGV_REPLY_CALLBACK || h->key != 4)
            continue;
        struct wgv_reader r;
        struct wgv_arena a;
        struct wgv_gcb_UncapturedErrorCallback args;
        wgv_reader_init(&r, h + 1, h->size - sizeof(*h));
        wgv_arena_init(&a, 1 << 16);
        bool ok = wgv_decode(&wgv_guest_abi, &test_raw_ops, wgv_callback_shape[WGV_CB_UncapturedErrorCallback],
                             &args, &r, &a);
        wgv_arena_free(&a);
        if (ok && args.type == type)
            return true;
    }
    return false;
}

/* Replaces the suite's host with one on the Null backend under `policy`;
 * *saved is the suite's, which restore_host puts back. False if creation
 * failed (the suite's host stays). */
static bool swap_host(struct wgv_policy policy, struct wgv_host **saved)
{
    char err[256];
    struct wgv_host_config cfg = {.force_backend = 1, .policy = policy};
    struct wgv_host *h = wgv_host_create(&cfg, err, sizeof(err));
    CHECK_MSG(h != NULL, "%s", err);
    if (!h)
        return false;
    *saved = host;
    host = h;
    return true;
}

static void restore_host(struct wgv_host *saved)
{
    wgv_host_destroy(host);
    host = saved;
}

static void test_quotas_give_webgpu_errors_not_violations(void)
{
    struct wgv_host *saved;
    if (!swap_host((struct wgv_policy){.max_memory = 40 << 20, .max_objects = 8,
                                       .max_shader_bytes = 64},
                   &saved))
        return;
    struct conn c;
    CHECK(open_conn(&c, 20));
    /* Memory: the device is charged 32 MiB and the adapter 1 MiB of the 40;
     * 8 MiB more is past the limit, 3 MiB twice fits. */
    CHECK(create_buffer(&c, 1, 8 << 20, WGPUBufferUsage_CopyDst) == 0);
    CHECK(saw_uncaptured(&c, WGPUErrorType_OutOfMemory));
    CHECK(create_buffer(&c, 2, 3 << 20, WGPUBufferUsage_CopyDst) == 0);
    release(&c, WGV_OBJ_Buffer, H(1, 1));
    release(&c, WGV_OBJ_Buffer, H(2, 1));
    CHECK(create_buffer(&c, 3, 6 << 20, WGPUBufferUsage_CopyDst) == 0);
    release(&c, WGV_OBJ_Buffer, H(3, 1));
    /* Objects: adapter, device, queue + 5 buffers reach 8; the next is an
     * error object with an out-of-memory error, and releasing makes room. */
    c.len = 0;
    for (uint32_t i = 4; i <= 9; i++) /* new ids: ids are not reused here */
        CHECK(create_buffer(&c, i, 16, WGPUBufferUsage_CopyDst) == 0);
    CHECK(saw_uncaptured(&c, WGPUErrorType_OutOfMemory));
    CHECK(wgv_context_lost_reason(c.ctx) == NULL);
    for (uint32_t i = 4; i <= 9; i++)
        release(&c, WGV_OBJ_Buffer, H(i, 1));
    CHECK(wgv_context_live_objects(c.ctx) == 3);
    /* Shader source: more than the 64-byte limit. */
    c.len = 0;
    static const char source[] =
        "@compute @workgroup_size(1) fn main() { let x = 1u + 2u + 3u + 4u; }";
    CHECK(sizeof(source) - 1 > 64);
    WGPUShaderSourceWGSL wgsl = WGPU_SHADER_SOURCE_WGSL_INIT;
    wgsl.code = (WGPUStringView){source, sizeof(source) - 1};
    WGPUShaderModuleDescriptor md = WGPU_SHADER_MODULE_DESCRIPTOR_INIT;
    md.nextInChain = &wgsl.chain;
    struct wgv_ga_wgpuDeviceCreateShaderModule sm = {OBJ(WGPUDevice, 1), &md,
                                                     OBJ(WGPUShaderModule, 1)};
    CHECK(send(&c, WGV_OP_wgpuDeviceCreateShaderModule, &sm) == 0);
    CHECK(saw_uncaptured(&c, WGPUErrorType_Validation));
    CHECK_MSG(wgv_context_lost_reason(c.ctx) == NULL, "%s", wgv_context_lost_reason(c.ctx));
    close_conn(&c);
    restore_host(saved);
}

/* A marker of `len` bytes on an encoder (1: a command encoder, 2: a
 * compute pass encoder) of id `id`. */
static int marker(struct conn *c, unsigned kind, uint32_t id, const char *text, size_t len)
{
    WGPUStringView s = {text, len};
    if (kind == 2) {
        struct wgv_ga_wgpuComputePassEncoderInsertDebugMarker m = {
            OBJ(WGPUComputePassEncoder, id), s};
        return send(c, WGV_OP_wgpuComputePassEncoderInsertDebugMarker, &m);
    }
    struct wgv_ga_wgpuCommandEncoderInsertDebugMarker m = {OBJ(WGPUCommandEncoder, id), s};
    return send(c, WGV_OP_wgpuCommandEncoderInsertDebugMarker, &m);
}

/* Whether a buffer of `size` bytes still fits in the memory quota: buffer
 * 1 of a new generation, released again. */
static bool buffer_fits(struct conn *c, uint64_t size)
{
    static uint32_t gen;
    gen++;
    WGPUBufferDescriptor d = WGPU_BUFFER_DESCRIPTOR_INIT;
    d.size = size;
    d.usage = WGPUBufferUsage_CopyDst;
    struct wgv_ga_wgpuDeviceCreateBuffer a = {OBJ(WGPUDevice, 1), &d, OBJG(WGPUBuffer, 1, gen)};
    c->len = 0;
    CHECK(send(c, WGV_OP_wgpuDeviceCreateBuffer, &a) == 0);
    bool fits = !saw_uncaptured(c, WGPUErrorType_OutOfMemory);
    release(c, WGV_OBJ_Buffer, H(1, gen));
    return fits;
}

/* What the backend keeps of recorded commands (debug markers here, 1 MB
 * each) is charged to the memory quota while the encoder, its passes or
 * its command buffer hold it: past the quota the guest gets an
 * out-of-memory error and its command buffer is invalid; the charge goes
 * back when the encoder is released unfinished or its command buffer is
 * submitted. Labels are charged to their object, a new label replacing the
 * last. */
static void test_encoder_contents_are_charged(void)
{
    /* The device is charged 32 MiB and the adapter 1 MiB: 15 MiB are left. */
    struct wgv_host *saved;
    if (!swap_host((struct wgv_policy){.max_memory = 48 << 20}, &saved))
        return;
    enum { MB = 1000000 };
    char *text = malloc(MB);
    memset(text, 'm', MB);
    struct conn c;
    CHECK(open_conn(&c, 21));
    CHECK(buffer_fits(&c, 14 << 20));
    /* An unfinished encoder with 10 MB of markers, half of them in a pass
     * the guest has already ended and released. */
    struct wgv_ga_wgpuDeviceCreateCommandEncoder ce = {OBJ(WGPUDevice, 1), NULL,
                                                       OBJ(WGPUCommandEncoder, 1)};
    CHECK(send(&c, WGV_OP_wgpuDeviceCreateCommandEncoder, &ce) == 0);
    for (int i = 0; i < 5; i++)
        CHECK(marker(&c, 1, 1, text, MB) == 0);
    struct wgv_ga_wgpuCommandEncoderBeginComputePass bp = {OBJ(WGPUCommandEncoder, 1), NULL,
                                                           OBJ(WGPUComputePassEncoder, 1)};
    CHECK(send(&c, WGV_OP_wgpuCommandEncoderBeginComputePass, &bp) == 0);
    for (int i = 0; i < 5; i++)
        CHECK(marker(&c, 2, 1, text, MB) == 0);
    struct wgv_ga_wgpuComputePassEncoderEnd pe = {OBJ(WGPUComputePassEncoder, 1)};
    CHECK(send(&c, WGV_OP_wgpuComputePassEncoderEnd, &pe) == 0);
    release(&c, WGV_OBJ_ComputePassEncoder, H(1, 1));
    CHECK_MSG(!buffer_fits(&c, 6 << 20), "10 MB of markers are not charged");
    CHECK(buffer_fits(&c, 4 << 20));
    /* Finished: the command buffer holds them, until it is submitted. */
    struct wgv_ga_wgpuCommandEncoderFinish fin = {OBJ(WGPUCommandEncoder, 1), NULL,
                                                  OBJ(WGPUCommandBuffer, 1)};
    CHECK(send(&c, WGV_OP_wgpuCommandEncoderFinish, &fin) == 0);
    release(&c, WGV_OBJ_CommandEncoder, H(1, 1));
    CHECK_MSG(!buffer_fits(&c, 6 << 20), "the command buffer's markers are not charged");
    WGPUCommandBuffer cb = OBJ(WGPUCommandBuffer, 1);
    struct wgv_ga_wgpuQueueSubmit sub = {OBJ(WGPUQueue, 1), 1, &cb};
    c.len = 0;
    CHECK(send(&c, WGV_OP_wgpuQueueSubmit, &sub) == 0);
    CHECK(!saw_uncaptured(&c, WGPUErrorType_Validation));
    CHECK_MSG(buffer_fits(&c, 14 << 20), "the charge stays after the submit");
    release(&c, WGV_OBJ_CommandBuffer, H(1, 1));
    /* Past the quota: an out-of-memory error, and the command buffer is
     * invalid (its submit is a validation error); releasing the unfinished
     * encoder returns the charge. */
    ce.result = OBJG(WGPUCommandEncoder, 1, 2);
    CHECK(send(&c, WGV_OP_wgpuDeviceCreateCommandEncoder, &ce) == 0);
    c.len = 0;
    for (int i = 0; i < 20; i++) {
        struct wgv_ga_wgpuCommandEncoderInsertDebugMarker m = {OBJG(WGPUCommandEncoder, 1, 2),
                                                               {text, MB}};
        CHECK(send(&c, WGV_OP_wgpuCommandEncoderInsertDebugMarker, &m) == 0);
    }
    CHECK_MSG(saw_uncaptured(&c, WGPUErrorType_OutOfMemory), "20 MB of markers fit in 15 MiB");
    fin = (struct wgv_ga_wgpuCommandEncoderFinish){OBJG(WGPUCommandEncoder, 1, 2), NULL,
                                                   OBJG(WGPUCommandBuffer, 1, 2)};
    CHECK(send(&c, WGV_OP_wgpuCommandEncoderFinish, &fin) == 0);
    cb = OBJG(WGPUCommandBuffer, 1, 2);
    c.len = 0;
    CHECK(send(&c, WGV_OP_wgpuQueueSubmit, &sub) == 0);
    CHECK(saw_uncaptured(&c, WGPUErrorType_Validation));
    release(&c, WGV_OBJ_CommandBuffer, H(1, 2));
    CHECK(!buffer_fits(&c, 6 << 20));
    release(&c, WGV_OBJ_CommandEncoder, H(1, 2));
    CHECK_MSG(buffer_fits(&c, 14 << 20), "the unfinished encoder's charge stays");
    /* Labels: 1 MB on one buffer twenty times is 1 MB kept; on twenty
     * buffers it is 20 MB. */
    CHECK(create_buffer(&c, 2, 16, WGPUBufferUsage_CopyDst) == 0);
    for (int i = 0; i < 20; i++) {
        struct wgv_ga_wgpuBufferSetLabel l = {OBJ(WGPUBuffer, 2), {text, MB}};
        CHECK(send(&c, WGV_OP_wgpuBufferSetLabel, &l) == 0);
    }
    /* Of the 15 MiB, 1 MB is charged to the label, not 2 and not 0. */
    CHECK(buffer_fits(&c, 14 << 20));
    CHECK(!buffer_fits(&c, 29 << 19));
    c.len = 0;
    for (uint32_t id = 3; id < 23; id++) {
        CHECK(create_buffer(&c, id, 16, WGPUBufferUsage_CopyDst) == 0);
        struct wgv_ga_wgpuBufferSetLabel l = {OBJ(WGPUBuffer, id), {text, MB}};
        CHECK(send(&c, WGV_OP_wgpuBufferSetLabel, &l) == 0);
    }
    CHECK_MSG(saw_uncaptured(&c, WGPUErrorType_OutOfMemory), "20 labels of 1 MB fit in 15 MiB");
    for (uint32_t id = 2; id < 23; id++)
        release(&c, WGV_OBJ_Buffer, H(id, 1));
    /* A label given at creation is the new object's. */
    c.len = 0;
    for (uint32_t id = 2; id < 22; id++) {
        WGPUBufferDescriptor d = WGPU_BUFFER_DESCRIPTOR_INIT;
        d.size = 16;
        d.usage = WGPUBufferUsage_CopyDst;
        d.label = (WGPUStringView){text, MB};
        struct wgv_ga_wgpuDeviceCreateBuffer a = {OBJ(WGPUDevice, 1), &d, OBJG(WGPUBuffer, id, 2)};
        CHECK(send(&c, WGV_OP_wgpuDeviceCreateBuffer, &a) == 0);
    }
    CHECK_MSG(saw_uncaptured(&c, WGPUErrorType_OutOfMemory), "20 labels of 1 MB fit in 15 MiB");
    for (uint32_t id = 2; id < 22; id++)
        release(&c, WGV_OBJ_Buffer, H(id, 2));
    CHECK(buffer_fits(&c, 14 << 20));
    CHECK_MSG(wgv_context_lost_reason(c.ctx) == NULL, "%s", wgv_context_lost_reason(c.ctx));
    CHECK(wgv_context_live_objects(c.ctx) == 3);
    close_conn(&c);
    free(text);
    restore_host(saved);
}

/* A render bundle holds what its encoder recorded: past the quota the
 * bundle is invalid; a valid one's bytes stay charged while a pass that
 * ran it holds it, after the guest released the bundle, until the submit. */
static void test_bundle_contents_are_charged(void)
{
    struct wgv_host *saved;
    if (!swap_host((struct wgv_policy){.max_memory = 48 << 20}, &saved))
        return;
    enum { MB = 1000000 };
    char *text = malloc(MB);
    memset(text, 'm', MB);
    struct conn c;
    CHECK(open_conn(&c, 22));
    WGPUTextureFormat format = WGPUTextureFormat_RGBA8Unorm;
    WGPURenderBundleEncoderDescriptor bd = WGPU_RENDER_BUNDLE_ENCODER_DESCRIPTOR_INIT;
    bd.colorFormatCount = 1;
    bd.colorFormats = &format;
    for (uint32_t gen = 1; gen <= 2; gen++) {
        struct wgv_ga_wgpuDeviceCreateRenderBundleEncoder e = {
            OBJ(WGPUDevice, 1), &bd, OBJG(WGPURenderBundleEncoder, 1, gen)};
        CHECK(send(&c, WGV_OP_wgpuDeviceCreateRenderBundleEncoder, &e) == 0);
        c.len = 0;
        for (int i = 0; i < (gen == 1 ? 20 : 5); i++) {
            struct wgv_ga_wgpuRenderBundleEncoderInsertDebugMarker m = {
                OBJG(WGPURenderBundleEncoder, 1, gen), {text, MB}};
            CHECK(send(&c, WGV_OP_wgpuRenderBundleEncoderInsertDebugMarker, &m) == 0);
        }
        CHECK(saw_uncaptured(&c, WGPUErrorType_OutOfMemory) == (gen == 1));
        c.len = 0;
        struct wgv_ga_wgpuRenderBundleEncoderFinish f = {
            OBJG(WGPURenderBundleEncoder, 1, gen), NULL, OBJG(WGPURenderBundle, 1, gen)};
        CHECK(send(&c, WGV_OP_wgpuRenderBundleEncoderFinish, &f) == 0);
        CHECK_MSG(saw_uncaptured(&c, WGPUErrorType_Validation) == (gen == 1),
                  "a bundle that lost a command past the quota is valid");
        release(&c, WGV_OBJ_RenderBundleEncoder, H(1, gen));
        if (gen == 1) {
            CHECK(!buffer_fits(&c, 6 << 20));
            release(&c, WGV_OBJ_RenderBundle, H(1, 1));
            CHECK(buffer_fits(&c, 14 << 20));
        }
    }
    CHECK(!buffer_fits(&c, 11 << 20) && buffer_fits(&c, 9 << 20));
    WGPUTextureDescriptor td = WGPU_TEXTURE_DESCRIPTOR_INIT;
    td.size = (WGPUExtent3D){4, 4, 1};
    td.format = format;
    td.usage = WGPUTextureUsage_RenderAttachment;
    struct wgv_ga_wgpuDeviceCreateTexture ct = {OBJ(WGPUDevice, 1), &td, OBJ(WGPUTexture, 1)};
    struct wgv_ga_wgpuTextureCreateView cv = {OBJ(WGPUTexture, 1), NULL, OBJ(WGPUTextureView, 1)};
    struct wgv_ga_wgpuDeviceCreateCommandEncoder ce = {OBJ(WGPUDevice, 1), NULL,
                                                       OBJ(WGPUCommandEncoder, 1)};
    WGPURenderPassColorAttachment ca = WGPU_RENDER_PASS_COLOR_ATTACHMENT_INIT;
    ca.view = OBJ(WGPUTextureView, 1);
    ca.loadOp = WGPULoadOp_Clear;
    ca.storeOp = WGPUStoreOp_Store;
    WGPURenderPassDescriptor rp = WGPU_RENDER_PASS_DESCRIPTOR_INIT;
    rp.colorAttachmentCount = 1;
    rp.colorAttachments = &ca;
    struct wgv_ga_wgpuCommandEncoderBeginRenderPass bp = {OBJ(WGPUCommandEncoder, 1), &rp,
                                                          OBJ(WGPURenderPassEncoder, 1)};
    WGPURenderBundle bundles[2] = {OBJG(WGPURenderBundle, 1, 2), OBJG(WGPURenderBundle, 1, 2)};
    struct wgv_ga_wgpuRenderPassEncoderExecuteBundles eb = {OBJ(WGPURenderPassEncoder, 1), 2,
                                                            bundles};
    struct wgv_ga_wgpuRenderPassEncoderEnd end = {OBJ(WGPURenderPassEncoder, 1)};
    struct wgv_ga_wgpuCommandEncoderFinish fin = {OBJ(WGPUCommandEncoder, 1), NULL,
                                                  OBJ(WGPUCommandBuffer, 1)};
    c.len = 0;
    CHECK(send(&c, WGV_OP_wgpuDeviceCreateTexture, &ct) == 0);
    CHECK(send(&c, WGV_OP_wgpuTextureCreateView, &cv) == 0);
    CHECK(send(&c, WGV_OP_wgpuDeviceCreateCommandEncoder, &ce) == 0);
    CHECK(send(&c, WGV_OP_wgpuCommandEncoderBeginRenderPass, &bp) == 0);
    CHECK(send(&c, WGV_OP_wgpuRenderPassEncoderExecuteBundles, &eb) == 0);
    CHECK(send(&c, WGV_OP_wgpuRenderPassEncoderEnd, &end) == 0);
    release(&c, WGV_OBJ_RenderPassEncoder, H(1, 1));
    release(&c, WGV_OBJ_RenderBundle, H(1, 2));
    CHECK_MSG(!buffer_fits(&c, 11 << 20), "a bundle a pass ran is not charged once released");
    CHECK(send(&c, WGV_OP_wgpuCommandEncoderFinish, &fin) == 0);
    release(&c, WGV_OBJ_CommandEncoder, H(1, 1));
    WGPUCommandBuffer cb = OBJ(WGPUCommandBuffer, 1);
    struct wgv_ga_wgpuQueueSubmit sub = {OBJ(WGPUQueue, 1), 1, &cb};
    CHECK(send(&c, WGV_OP_wgpuQueueSubmit, &sub) == 0);
    CHECK(!saw_uncaptured(&c, WGPUErrorType_Validation));
    CHECK(buffer_fits(&c, 14 << 20));
    release(&c, WGV_OBJ_CommandBuffer, H(1, 1));
    release(&c, WGV_OBJ_TextureView, H(1, 1));
    release(&c, WGV_OBJ_Texture, H(1, 1));
    CHECK_MSG(wgv_context_lost_reason(c.ctx) == NULL, "%s", wgv_context_lost_reason(c.ctx));
    CHECK(wgv_context_live_objects(c.ctx) == 3);
    close_conn(&c);
    free(text);
    restore_host(saved);
}

int main(void)
{
    char err[512];
    /* Dawn's Null backend validates like any other and keeps buffer contents;
     * it loads no Vulkan driver, so the sanitizer build sees only our code. */
    struct wgv_host_config cfg = {.fence_retired = on_fence, .force_backend = 1};
    host = wgv_host_create(&cfg, err, sizeof(err));
    if (!host) {
        fprintf(stderr, "%s\n", err);
        printf("host: 0 passed, 1 failed\n");
        return 1;
    }
    RUN(test_objects_created_and_released_return_to_zero);
    RUN(test_fence_retires_after_submitted_work);
    RUN(test_scatter_list_resource_feeds_write_buffer);
    RUN(test_resource_ranges_at_the_end_and_empty_pieces);
    RUN(test_device_requests_leave_no_records);
    RUN(test_object_tables_stay_bounded);
    RUN(test_violation_ends_one_context_and_not_another);
    RUN(test_release_twice_and_stale_handles_are_violations);
    RUN(test_lying_command_sizes_are_violations);
    RUN(test_quotas_give_webgpu_errors_not_violations);
    RUN(test_encoder_contents_are_charged);
    RUN(test_bundle_contents_are_charged);
    wgv_host_destroy(host);
    return harness_finish("host");
}
