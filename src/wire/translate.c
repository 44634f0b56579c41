/* Translation of enum values and flag bits between one side's ABI and the
 * wire, over the generated tables (codec.h). Used by the encoder and the
 * decoder; these functions never read wire bytes themselves. */
#include "codec.h"

uint32_t wgv_enum_to_wire(const struct wgv_enum *e, uint32_t native)
{
    uint32_t lo = 0, hi = e->sorted_count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (e->sorted_native[mid] < native)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < e->sorted_count && e->sorted_native[lo] == native)
        return e->sorted_wire[lo];
    return WGV_WIRE_ENUM_INVALID;
}

bool wgv_enum_from_wire(const struct wgv_enum *e, uint32_t wire, uint32_t *native)
{
    *native = e->invalid_native; /* defined on every path */
    if (wire == WGV_WIRE_ENUM_INVALID) {
        *native = e->invalid_native;
        return true;
    }
    if (wire >= e->count)
        return false;
    *native = e->native[wire];
    return true;
}

uint64_t wgv_flags_to_wire(const struct wgv_flagset *f, uint64_t native)
{
    uint64_t wire = 0, known = 0;
    for (uint32_t i = 0; i < f->count; i++) {
        known |= f->native[i];
        if (native & f->native[i])
            wire |= 1ull << i;
    }
    if (native & ~known)
        wire |= WGV_WIRE_FLAG_INVALID;
    return wire;
}

uint64_t wgv_flags_from_wire(const struct wgv_flagset *f, uint64_t wire)
{
    uint64_t native = 0, used = 0;
    for (uint32_t i = 0; i < f->count; i++) {
        used |= f->native[i];
        if (wire & (1ull << i))
            native |= f->native[i];
    }
    /* A bit the sender could not express, or one this side lacks, becomes
     * a bit this side's implementation does not know, so it rejects the
     * value the way it rejects any unknown flag. */
    uint64_t unknown = wire & ~((f->count >= 63 ? 0 : (1ull << f->count)) - 1);
    bool lacks = false;
    for (uint32_t i = 0; i < f->count; i++)
        if ((wire & (1ull << i)) && !f->native[i])
            lacks = true;
    if (unknown || lacks) {
        uint64_t spare = 1ull << 62;
        while (spare && (used & spare))
            spare >>= 1;
        native |= spare;
    }
    return native;
}
