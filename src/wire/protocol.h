/* Framing of the wire protocol (docs/protocol.md): the headers that precede
 * every command and reply. Their bodies are encoded by the codec (codec.h)
 * from the generated shapes (wgv-wire-ids.h). */
#ifndef WGV_WIRE_PROTOCOL_H
#define WGV_WIRE_PROTOCOL_H

#include <stdint.h>

/* Every command: size (header included, a multiple of 8), opcode. */
struct wgv_cmd_header {
    uint32_t size;
    uint16_t opcode;
    uint16_t flags;  /* reserved, 0 */
};

enum wgv_reply_kind {
    WGV_REPLY_CALLBACK = 1,      /* a callback's arguments; key = future id
                                    (device events have futures of their own) */
    WGV_REPLY_ADAPTER_STATE = 2, /* AdapterInfo, Limits, SupportedFeatures; key = adapter */
    WGV_REPLY_DEVICE_STATE = 3,  /* Limits, SupportedFeatures; key = device */
    WGV_REPLY_CONTEXT_LOST = 4,  /* the host ended the context: u64 length + reason */
    WGV_REPLY_INSTANCE_STATE = 5, /* SupportedWGSLLanguageFeatures; sent first */
};

/* Every reply: size (header included, a multiple of 8), kind, callback id
 * for WGV_REPLY_CALLBACK, and the future or object it concerns. */
struct wgv_reply_header {
    uint32_t size;
    uint16_t kind;
    uint16_t callback;
    uint64_t key;
};

/* The largest command or reply; larger payloads go by reference to bulk
 * shared memory. */
#define WGV_MESSAGE_MAX (1u << 20)

/* Device events: the device's lost future is a normal future; uncaptured
 * errors reuse one future id and may fire many times. */

#endif
