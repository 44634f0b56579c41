/* The wire codec: one table-driven encoder and decoder for every struct,
 * command and reply of the protocol.
 *
 * The generator (api/wiregen.py) describes each C-level shape -- a struct of
 * the ABI a side speaks, the argument list of a function, the arguments of a
 * callback -- as a table of members with their wire kind and their offset in
 * that side's C layout. Both sides run the same interpreter over their own
 * tables: the guest's tables give offsets in the standard webgpu.h ABI, the
 * host's in the backend's ABI, and member i of a shape means the same wire
 * field on both. So there is one place that reads untrusted bytes, and every
 * bound is checked here.
 *
 * Encoding (docs/protocol.md): little-endian; a scalar of 4 bytes or less
 * takes 4 bytes, a 64-bit scalar takes 8 at an 8-aligned position; strings and
 * byte blocks are padded to 8. */
#ifndef WGV_WIRE_CODEC_H
#define WGV_WIRE_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How a member travels. */
enum wgv_kind {
    WGV_K_U8 = 1,   /* the C widths; all but 64-bit ones take a 4-byte slot */
    WGV_K_U16,
    WGV_K_U32,
    WGV_K_I32,
    WGV_K_U64,
    WGV_K_I64,
    WGV_K_F32,
    WGV_K_F64,
    WGV_K_USIZE,   /* size_t in C, u64 on the wire */
    WGV_K_BOOL,    /* WGPUBool: 0 or 1 on the wire */
    WGV_K_ENUM,    /* u32 wire value; `type` is the enum's index */
    WGV_K_FLAGS,   /* u64 wire bits; `type` is the flag type's index */
    WGV_K_OBJECT,  /* u64 handle (id | generation << 32), 0 = null */
    WGV_K_NEW_OBJECT, /* u64 handle of an object this call creates */
    WGV_K_STRING,  /* WGPUStringView: u64 length (WGV_NULL_LEN = null), bytes */
    WGV_K_STRUCT,  /* nested by value; `type` is the shape's index */
    WGV_K_STRUCT_PTR, /* pointer to one struct: u32 present, then the struct */
    WGV_K_ARRAY,   /* pointer + count member `aux`: u64 count, elements */
    WGV_K_COUNT,   /* the count of an array member; travels with the array */
    WGV_K_CHAIN,   /* nextInChain: u32 links, each u32 sType + struct */
    WGV_K_BYTES,   /* void pointer + size member `aux`: u32 mode, u64 size, then
                      0: the bytes, padded; 1: u64 bulk offset;
                      2: u32 resource id, u64 offset */
    WGV_K_FUTURE,  /* a callback info's future id: u64 */
    WGV_K_LOCAL,   /* stays on its side: callbacks, userdata; not encoded */
};

/* Flags of a member. */
enum {
    WGV_M_OPTIONAL = 1u << 0, /* object/pointer may be null */
    WGV_M_ABSENT = 1u << 1,   /* this side's C struct lacks the member: the
                                 wire value must be its default */
    WGV_M_ELEM_ENUM = 1u << 2, /* array elements are enums (`type` is the enum) */
    WGV_M_ELEM_OBJECT = 1u << 3, /* array elements are objects (`type`: its type) */
    WGV_M_ELEM_SCALAR = 1u << 4, /* array elements are scalars (`elem`: the kind) */
    WGV_M_ELEM_CSTRING = 1u << 5, /* array elements are NUL-terminated strings,
                                     each sent like a WGV_K_STRING */
};

#define WGV_NULL_LEN UINT64_MAX
/* Enum and sType value of something the sender's ABI has and the wire lacks.
 * The receiver turns it into a value its implementation rejects. */
#define WGV_WIRE_ENUM_INVALID 0xFFFFFFFFu
/* Flag bit for bits the sender's ABI has and the wire lacks. */
#define WGV_WIRE_FLAG_INVALID (1ull << 63)

struct wgv_member {
    const char *name; /* the C member's name, for messages */
    uint8_t kind;     /* enum wgv_kind */
    uint8_t flags;    /* WGV_M_* */
    uint8_t elem;     /* array element kind for WGV_M_ELEM_SCALAR */
    uint8_t size;     /* size of the C member (for ABSENT: 0) */
    uint16_t type;    /* enum, flag type, object type or shape index */
    int16_t aux;      /* index of the count/size member, or -1 */
    uint32_t offset;  /* offset in this side's C layout */
};

struct wgv_shape {
    const char *name;
    uint32_t size;          /* sizeof the C struct on this side, 0 if absent */
    uint32_t stype;         /* wire sType for chained structs, else 0 */
    uint16_t member_count;
    const struct wgv_member *members;
    const void *init;       /* this side's INIT value to start from, or NULL */
};

struct wgv_enum {
    const char *name;
    uint32_t count;          /* wire values are 0 .. count-1 */
    const uint32_t *native;  /* native[wire] = this side's value, or invalid */
    uint32_t sorted_count;   /* entries this side has */
    const uint32_t *sorted_native; /* this side's values, ascending */
    const uint32_t *sorted_wire;   /* the wire value of sorted_native[i] */
    uint32_t invalid_native; /* what a value the wire lacks decodes to */
};

struct wgv_flagset {
    const char *name;
    uint32_t count;          /* wire bit i <-> native[i] */
    const uint64_t *native;  /* this side's bit for wire bit i */
};

/* Where one member lies in a C struct. */
struct wgv_span {
    uint16_t offset, size;
};

/* A chained struct of a front's own, not on the wire, that asks for nothing
 * while its members are all zero (an extension left at its defaults), or
 * ever (member_count 0: a setting the host's device ignores): the encoder
 * leaves such a link out of the chain instead of sending a link the host
 * must refuse. */
struct wgv_neutral_link {
    uint32_t stype;          /* the front's sType value */
    uint32_t member_count;   /* members after the chain header checked for zero */
    const struct wgv_span *members;
};

/* One side's view of the wire: generated tables for the ABI it speaks. */
struct wgv_abi {
    const char *name;
    const struct wgv_shape *shapes;
    uint32_t shape_count;
    const struct wgv_enum *enums;
    uint32_t enum_count;
    const struct wgv_flagset *flagsets;
    uint32_t flagset_count;
    uint32_t stype_enum;     /* index of WGPUSType among enums */
    const uint16_t *stype_shape; /* shape index for each wire sType, 0 = none */
    uint32_t chained_header_size; /* sizeof(WGPUChainedStruct) */
    const struct wgv_neutral_link *neutral_links; /* NULL when none */
    uint32_t neutral_link_count;
};

/* How the codec asks its side about objects and bulk memory. */
struct wgv_arena;

struct wgv_codec_ops {
    /* Encode: the wire handle of a native object (guest: its id; host: the
     * id it was given). Return 0 for null. */
    uint64_t (*object_to_wire)(void *user, uint16_t type, const void *native);
    /* Decode: the native object of a wire handle, or false if the handle is
     * not a live object of that type (a protocol violation). */
    bool (*object_from_wire)(void *user, uint16_t type, uint64_t handle, void **native);
    /* Decode: a handle the call creates; checks it may be used. */
    bool (*new_object)(void *user, uint16_t type, uint64_t handle);
    /* Encode: copy `size` bytes into bulk memory, giving their offset; return
     * false to send them inline. NULL means always inline. */
    bool (*bulk_put)(void *user, const void *data, uint64_t size, uint64_t *offset);
    /* Decode: the host address of a bulk range, or NULL if out of bounds. */
    const void *(*bulk_get)(void *user, uint64_t offset, uint64_t size);
    /* Decode: the bytes of a range of an attached resource (gathered into
     * the arena when the resource is a scatter list), or NULL. */
    const void *(*resource_get)(void *user, uint32_t resource, uint64_t offset, uint64_t size,
                                struct wgv_arena *arena);
    void *user;
};

/* An output buffer that grows; `failed` records an allocation failure. */
struct wgv_writer {
    uint8_t *data;
    size_t len, cap;
    bool failed;
    bool external;  /* data belongs to someone else: never realloc */
};

/* A bounded reader over bytes the caller owns (and has copied out of shared
 * memory). `error` holds the first violation found. */
struct wgv_reader {
    const uint8_t *data;
    size_t len, pos;
    const char *error;
    char detail[160];
    /* Set (first one wins) when a value the sender's ABI has cannot be
     * expressed on this side: the caller reports a validation error. */
    char unsupported[128];
    /* Bytes of the strings and byte blocks decoded: what the arguments
     * carry beyond their structs and arrays (the arena holds those). */
    uint64_t payload;
};

/* A bump allocator for decoded structs; reset after each command. */
struct wgv_arena {
    uint8_t *base;   /* newest block */
    size_t used;     /* bytes used in the newest block */
    size_t total;    /* bytes handed out since the last reset */
    size_t limit;
};

/* Bulk data at or below this size is sent inline. */
#define WGV_INLINE_BYTES_MAX 4096

void wgv_writer_init(struct wgv_writer *w);
/* Makes w write into caller-owned memory of `cap` bytes. */
void wgv_writer_init_fixed(struct wgv_writer *w, void *data, size_t cap);
void wgv_writer_free(struct wgv_writer *w);
/* Appends n bytes (or zeroes when src is NULL); returns where they went or NULL. */
void *wgv_writer_put(struct wgv_writer *w, const void *src, size_t n);
void wgv_writer_align(struct wgv_writer *w, size_t a);
void wgv_put_u32(struct wgv_writer *w, uint32_t v);
void wgv_put_u64(struct wgv_writer *w, uint64_t v);

void wgv_reader_init(struct wgv_reader *r, const void *data, size_t len);
bool wgv_get_u32(struct wgv_reader *r, uint32_t *v);
bool wgv_get_u64(struct wgv_reader *r, uint64_t *v);
/* Records the first violation (printf-style detail) and returns false. */
bool wgv_reader_fail(struct wgv_reader *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* limit: the most the arena may hold (a quota against hostile counts). */
void wgv_arena_init(struct wgv_arena *a, size_t limit);
void *wgv_arena_alloc(struct wgv_arena *a, size_t size, size_t align);
void wgv_arena_reset(struct wgv_arena *a);
void wgv_arena_free(struct wgv_arena *a);

/* Encodes the native struct `src` of shape `shape` from `abi`. */
void wgv_encode(const struct wgv_abi *abi, const struct wgv_codec_ops *ops,
                uint32_t shape, const void *src, struct wgv_writer *w);

/* Decodes one `shape` into `dst` (shape->size bytes, filled from its INIT
 * first); pointers point into the arena or the reader's bytes. Returns false
 * with r->error set on any violation; `dst` is then unusable. */
bool wgv_decode(const struct wgv_abi *abi, const struct wgv_codec_ops *ops,
                uint32_t shape, void *dst, struct wgv_reader *r, struct wgv_arena *arena);

/* The wire value of a native enum value (WGV_WIRE_ENUM_INVALID if none). */
uint32_t wgv_enum_to_wire(const struct wgv_enum *e, uint32_t native);
/* The native value of a wire value; false if the value is out of range. */
bool wgv_enum_from_wire(const struct wgv_enum *e, uint32_t wire, uint32_t *native);
uint64_t wgv_flags_to_wire(const struct wgv_flagset *f, uint64_t native);
uint64_t wgv_flags_from_wire(const struct wgv_flagset *f, uint64_t wire);

#endif
