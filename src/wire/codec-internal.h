/* What the encoder (encode.c) and the decoder (decode.c) share: the C layout
 * both walk and the wire's fixed limits. Internal to src/wire; the public
 * interface is codec.h. */
#ifndef WGV_WIRE_CODEC_INTERNAL_H
#define WGV_WIRE_CODEC_INTERNAL_H

#include "codec.h"

/* The C layout of WGPUStringView and WGPUChainedStruct is the same in every
 * ABI the project describes (the API descriptions record it); the codec
 * relies on it. */
struct wgv_c_string {
    const char *data;
    size_t length;
};
struct wgv_c_chain {
    struct wgv_c_chain *next;
    uint32_t stype;
};
#define WGV_C_STRLEN SIZE_MAX

/* Chains longer than this are refused: no real chain has more than a few. */
#define WGV_CHAIN_MAX 16

/* The size of a scalar kind in C (1, 2, 4 or 8), and so its wire slot (8 for
 * 8, else 4); 0 for a kind that is not a scalar. */
static inline unsigned wgv_scalar_size(uint8_t kind)
{
    switch (kind) {
    case WGV_K_U8: return 1;
    case WGV_K_U16: return 2;
    case WGV_K_U32: case WGV_K_I32: case WGV_K_F32: case WGV_K_BOOL: case WGV_K_ENUM:
        return 4;
    case WGV_K_U64: case WGV_K_I64: case WGV_K_F64: case WGV_K_USIZE: case WGV_K_FLAGS:
    case WGV_K_FUTURE:
        return 8;
    default: return 0;
    }
}

#endif
