/* The decode loop: a batch of commands is split into records by their
 * headers, each decoded with the host's tables and run, or skipped with its
 * futures answered; errors go to the device the command concerns. */
#include "context.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"

/* The handle of the device a command concerns: its receiver, or the
 * receiver's device (0 for commands of the instance or an adapter). */
static uint64_t command_device_handle(struct wgv_context *ctx)
{
    if (!ctx->cmd_receiver)
        return 0;
    if (ctx->cmd_receiver_type == WGV_OBJ_Device)
        return ctx->cmd_receiver_handle;
    return ctx->cmd_receiver->device;
}

/* That device's backend object if it is still alive. Objects only name
 * their device's handle: a device the guest released is gone, and an error
 * object outliving it must not lead to it. */
static void *command_device(struct wgv_context *ctx)
{
    struct wgv_slot *d = wgv_objects_get(&ctx->objects, WGV_OBJ_Device, command_device_handle(ctx));
    return d && d->state == WGV_SLOT_LIVE ? d->handle : NULL;
}

void wgv_host_report_error(struct wgv_context *ctx, WGPUErrorType type, const char *what)
{
    void *device = command_device(ctx);
    /* A command of the instance or an adapter concerns no device: the
     * context's first one hears of it. One whose device is gone is
     * reported nowhere, as its device would have been lost. */
    if (!device && !command_device_handle(ctx))
        device = ctx->error_device;
    if (device)
        ctx->procs->deviceInjectError(device, type, (WGPUStringView){what, strlen(what)});
}

/* The object type of the i-th object a command creates. */
static unsigned claim_type(unsigned shape, unsigned i)
{
    const struct wgv_shape *s = &wgv_host_abi.shapes[shape];
    unsigned n = 0;
    for (uint16_t m = 0; m < s->member_count; m++)
        if (s->members[m].kind == WGV_K_NEW_OBJECT && n++ == i)
            return s->members[m].type;
    return WGV_OBJ_NONE;
}

/* A skipped command's future is still answered, once, with a failure: an
 * application waits for every callback it asked for. */
static void answer_failed(struct wgv_context *ctx, unsigned callback, uint64_t key,
                          const char *const *statuses)
{
    const struct wgv_shape *s = &wgv_host_abi.shapes[wgv_callback_shape[callback]];
    _Alignas(16) uint8_t args[256];
    _Alignas(16) uint8_t zero[256];
    if (s->size > sizeof(args))
        return;
    memset(args, 0, sizeof(args));
    memset(zero, 0, sizeof(zero));
    static const char text[] = "the command named an invalid object or went past a quota";
    for (uint16_t i = 0; i < s->member_count; i++) {
        const struct wgv_member *m = &s->members[i];
        if (m->flags & WGV_M_ABSENT)
            continue;
        if (m->kind == WGV_K_ENUM) {
            /* The first of the preferred entries this enum has. */
            const struct wgv_enum *e = &wgv_host_abi.enums[m->type];
            for (const char *const *want = statuses; *want; want++) {
                uint32_t w;
                for (w = 0; w < e->count; w++) {
                    const char *n = wgv_enum_entry_name(m->type, w);
                    if (n && !strcmp(n, *want))
                        break;
                }
                if (w < e->count) {
                    memcpy(args + m->offset, &e->native[w], 4);
                    break;
                }
            }
        } else if (m->kind == WGV_K_STRING) {
            WGPUStringView v = {text, sizeof(text) - 1};
            memcpy(args + m->offset, &v, sizeof(v));
        } else if (m->kind == WGV_K_STRUCT_PTR) {
            const uint8_t *p = zero; /* an empty struct (no messages) */
            memcpy(args + m->offset, &p, sizeof(p));
        }
    }
    const uint32_t shape = wgv_callback_shape[callback];
    const void *a = args;
    wgv_host_send_reply(ctx, WGV_REPLY_CALLBACK, callback, key, &shape, &a, 1);
}

static void answer_skipped(struct wgv_context *ctx, unsigned opcode, const void *args)
{
    static const char *const failed[] = {"Error", "ValidationError", "CallbackCancelled", NULL};
    static const char *const creation[] = {"FailedCreation", NULL};
    unsigned callback = wgv_command_callback[opcode];
    if (!callback)
        return;
    const struct wgv_shape *s = &wgv_host_abi.shapes[wgv_command_shape[opcode]];
    bool first = true;
    for (uint16_t i = 0; i < s->member_count; i++) {
        const struct wgv_member *m = &s->members[i];
        if (m->kind != WGV_K_FUTURE)
            continue;
        uint64_t key;
        memcpy(&key, (const uint8_t *)args + m->offset, 8);
        if (first)
            answer_failed(ctx, callback, key, failed);
        else if (opcode == WGV_OP_wgpuAdapterRequestDevice && !strcmp(m->name, "lost_future"))
            answer_failed(ctx, WGV_CB_DeviceLostCallback, key, creation);
        first = false;
    }
}

/* Clears what the decoder notes about a command, before it decodes one. */
static void command_begin(struct wgv_context *ctx)
{
    ctx->cmd_claims = 0;
    ctx->cmd_error_object = false;
    ctx->cmd_over_quota = false;
    ctx->cmd_claim_why = NULL;
    ctx->cmd_receiver = NULL;
    ctx->cmd_named = NULL;
    ctx->cmd_serial++;
}

/* Runs a decoded command under the context's policy: refused past the
 * object quota, a validation error for a value this side cannot express
 * (`unsupported`) or an error object among the arguments, otherwise
 * charged (`cost` for new objects, `kept` for what the backend keeps) and
 * run. True if the backend ran it. */
static bool command_execute(struct wgv_context *ctx, unsigned opcode, unsigned shape, void *args,
                            uint64_t cost, uint64_t kept, const char *unsupported)
{
    const char *name = wgv_command_name[opcode];
    char msg[192];
    if (ctx->cmd_over_quota) {
        snprintf(msg, sizeof(msg), "%s: this context already holds %u objects, its limit", name,
                 ctx->policy.max_objects);
        wgv_host_report_error(ctx, WGPUErrorType_OutOfMemory, msg);
        return false;
    }
    if (unsupported[0] || ctx->cmd_error_object) {
        snprintf(msg, sizeof(msg), "%s: %s", name,
                 unsupported[0] ? unsupported : "an argument is an invalid object");
        wgv_host_report_error(ctx, WGPUErrorType_Validation, msg);
        return false;
    }
    if (!wgv_host_charge(ctx, cost, name))
        return false;
    if (!wgv_host_charge_kept(ctx, opcode, &kept)) {
        ctx->memory_used -= cost;
        return false;
    }
    wgv_host_exec[opcode](ctx, args);
    if (ctx->cmd_claims)
        wgv_host_kept(ctx, opcode, kept, ctx->cmd_claim[0], claim_type(shape, 0));
    else
        wgv_host_kept(ctx, opcode, kept, NULL, WGV_OBJ_NONE);
    return true;
}

/* A fixed-size command its specialised decoder accepts, decoded onto the
 * stack: such a command claims no objects and carries nothing the backend
 * keeps beyond its record. False: not decoded, run_command goes on with
 * the tables. */
static bool run_fast(struct wgv_context *ctx, unsigned opcode, wgv_fast_decode_fn fast,
                     const uint8_t *body, size_t len, bool *alive)
{
    union wgv_fast_args args;
    command_begin(ctx);
    if (!fast(&ctx->ops, body, len, &args))
        return false;
    /* Draws, dispatches and the like into a recording with room take the
     * short way: the same charge, nothing else to check or hand over. */
    if (wgv_host_charge_recorded(ctx, opcode))
        wgv_host_exec[opcode](ctx, &args);
    else
        command_execute(ctx, opcode, wgv_command_shape[opcode], &args, 0, 0, "");
    *alive = !ctx->lost;
    return true;
}

static bool run_command(struct wgv_context *ctx, const uint8_t *cmd, size_t size)
{
    struct wgv_cmd_header h;
    memcpy(&h, cmd, sizeof(h));
    /* A fixed-size command takes its specialised decoder; anything that
     * one does not accept goes through the table decoder, which says why. */
    wgv_fast_decode_fn fast = h.opcode < WGV_OP_COUNT ? wgv_host_fast_decode[h.opcode] : NULL;
    bool alive;
    if (fast && run_fast(ctx, h.opcode, fast, cmd + sizeof(h), size - sizeof(h), &alive))
        return alive;
    if (h.opcode == 0 || h.opcode >= WGV_OP_COUNT || !wgv_host_exec[h.opcode]) {
        wgv_context_fail(ctx, "decode: unknown opcode %u", h.opcode);
        return false;
    }
    unsigned shape = wgv_command_shape[h.opcode];
    void *args = wgv_arena_alloc(&ctx->arena, wgv_host_abi.shapes[shape].size, 16);
    if (!args) {
        wgv_context_fail(ctx, "decode: out of memory");
        return false;
    }
    struct wgv_reader r;
    wgv_reader_init(&r, cmd + sizeof(h), size - sizeof(h));
    command_begin(ctx);
    size_t arena0 = ctx->arena.total;
    if (!wgv_decode(&wgv_host_abi, &ctx->ops, shape, args, &r, &ctx->arena)) {
        /* A refused claim is the decoder's last step: say why. */
        wgv_context_fail(ctx, "decode: %s: %s%s%s", wgv_command_name[h.opcode], r.error,
                         ctx->cmd_claim_why ? ": " : "",
                         ctx->cmd_claim_why ? ctx->cmd_claim_why : "");
        return false;
    }
    if (r.pos != r.len) {
        wgv_context_fail(ctx, "decode: %s: %zu bytes left over", wgv_command_name[h.opcode],
                         r.len - r.pos);
        return false;
    }
    /* Host memory the new objects will hold, beyond what their own
     * handlers charge (buffers, textures): a flood of devices or pipelines
     * must hit the quota too. */
    uint64_t cost = 0;
    for (unsigned i = 0; i < ctx->cmd_claims; i++)
        cost += wgv_host_object_cost(claim_type(shape, i));
    /* What the arguments hold beyond fixed-size values, which the backend
     * may keep: structs, arrays, strings, byte blocks. */
    uint64_t kept = ctx->arena.total - arena0 + r.payload;
    bool ran = command_execute(ctx, h.opcode, shape, args, cost, kept, r.unsupported);
    if (!ran)
        answer_skipped(ctx, h.opcode, args);
    /* Objects the command made belong to its device and carry their cost;
     * those it should have made and did not are error objects. */
    uint64_t device = ctx->cmd_claims ? command_device_handle(ctx) : 0;
    for (unsigned i = 0; i < ctx->cmd_claims; i++) {
        struct wgv_slot *c = ctx->cmd_claim[i];
        c->device = device;
        if (ran)
            c->bytes += wgv_host_object_cost(claim_type(shape, i));
        if (c->state == WGV_SLOT_RESERVED)
            c->state = WGV_SLOT_ERROR;
    }
    return !ctx->lost;
}

int wgv_context_submit(struct wgv_context *ctx, const void *bytes, size_t len)
{
    if (ctx->lost)
        return -1;
    /* One private copy: the guest may rewrite shared memory while we decode. */
    if (len > ctx->cmd_copy_cap) {
        uint8_t *c = realloc(ctx->cmd_copy, len);
        if (!c) {
            wgv_context_fail(ctx, "out of memory for %zu command bytes", len);
            return -1;
        }
        ctx->cmd_copy = c;
        ctx->cmd_copy_cap = len;
    }
    memcpy(ctx->cmd_copy, bytes, len);
    return wgv_context_submit_copied(ctx, ctx->cmd_copy, len);
}

/* Runs whole commands; `batch`: inside a wgvBatch, where another is a
 * violation. */
static int run_commands(struct wgv_context *ctx, const uint8_t *cmds, size_t len, bool batch)
{
    size_t pos = 0;
    while (pos < len) {
        uint32_t size;
        if (len - pos < sizeof(struct wgv_cmd_header)) {
            wgv_context_fail(ctx, "decode: %s%zu trailing bytes are not a command",
                             batch ? "wgvBatch: " : "", len - pos);
            return -1;
        }
        memcpy(&size, cmds + pos, 4);
        if (size < sizeof(struct wgv_cmd_header) || size % 8 || size > len - pos) {
            wgv_context_fail(ctx, "decode: %scommand size %u at byte %zu is invalid (%zu left)",
                             batch ? "wgvBatch: " : "", size, pos, len - pos);
            return -1;
        }
        uint16_t opcode;
        memcpy(&opcode, cmds + pos + 4, sizeof(opcode));
        bool ok;
        if (opcode == WGV_OP_wgvBatch) {
            /* A batch's size covers the commands after its header. */
            if (batch) {
                wgv_context_fail(ctx, "decode: wgvBatch inside a batch");
                return -1;
            }
            ok = run_commands(ctx, cmds + pos + sizeof(struct wgv_cmd_header),
                              size - sizeof(struct wgv_cmd_header), true) == 0;
        } else {
            ok = run_command(ctx, cmds + pos, size);
            if (ctx->arena.total)
                wgv_arena_reset(&ctx->arena);
        }
        if (!ok)
            return -1;
        pos += size;
    }
    return 0;
}

int wgv_context_submit_copied(struct wgv_context *ctx, const void *bytes, size_t len)
{
    if (ctx->lost)
        return -1;
    ctx->ran = true;
    return run_commands(ctx, bytes, len, false);
}
