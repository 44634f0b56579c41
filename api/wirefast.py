"""Specialised encoders and decoders for the wire's fixed-size commands.

The table-driven codec (src/wire/encode.c, decode.c) walks a shape's member
table for every command. For a command whose arguments are all fixed-size
values (scalars, enums, flags, existing objects: draws, dispatches, the
set-pipeline/vertex-buffer/index-buffer calls, buffer copies), every
member sits at an offset known here, so this module writes out, per
command, the same steps unrolled:

  guest  wgv_fast_<cmd>(): writes the command's bytes in place (the ring
         record), exactly the bytes wgv_encode() writes;
  host   fast_<cmd>(): reads them back into the argument struct with the
         same checks, in the same order, as wgv_decode(), or returns false
         and lets the table decoder run (and say what is wrong).

The table codec stays the reference: tests/test-codec.c and
fuzz/fuzz-decoder.c check that both produce the same bytes and the same
decoded calls for every command here.
"""

# Kinds that take one fixed-size wire slot, and its width.
FLAT = {
    'WGV_K_U8': 4, 'WGV_K_U16': 4, 'WGV_K_U32': 4, 'WGV_K_I32': 4, 'WGV_K_F32': 4,
    'WGV_K_BOOL': 4, 'WGV_K_ENUM': 4,
    'WGV_K_U64': 8, 'WGV_K_I64': 8, 'WGV_K_F64': 8, 'WGV_K_USIZE': 8, 'WGV_K_FLAGS': 8,
    'WGV_K_OBJECT': 8,
}
HEADER = 8  # struct wgv_cmd_header


def layout(members):
    """[(member spec, offset from the command's start)] and the command's
    size, or None when a member is not fixed-size."""
    pos, out = HEADER, []
    for m in members:
        width = FLAT.get(m['kind'])
        if width is None:
            return None
        pos = (pos + width - 1) & ~(width - 1)
        out.append((m, pos))
        pos += width
    return out, (pos + 7) & ~7


def fast_commands(gen, side):
    """The commands `side` can encode or decode specialised: all members
    fixed-size and present in that side's argument struct."""
    out = []
    for c in gen.commands:
        sh = gen.shapes[gen.shape_index['args:' + c]]
        ctype, names = gen.side_members(sh, side)
        if ctype is None or None in names or not sh['members'] or layout(sh['members']) is None:
            continue
        out.append(c)
    return out


def guest_encoders(gen, side, prefix):
    """Inline encoders for the generated entry points, plus a table of them
    for the tests (the object handle comes from the caller there)."""
    o = ['/* Specialised encoders (api/wirefast.py): the bytes wgv_encode() writes',
         ' * for these fixed-size commands, written in place. */']
    cmds = [c for c in fast_commands(gen, side) if c in gen.wire_functions]
    for c in cmds:
        sh = gen.shapes[gen.shape_index['args:' + c]]
        rows, size = layout(sh['members'])
        o.append(f'static inline void wgv_fast_{c}(uint8_t *p, const struct wgv_ga_{c} *a,')
        o.append('                                   uint64_t (*handle)(const void *))')
        o.append('{')
        o.append(f'    memset(p, 0, {size});')
        o.append(f'    wgv_fast_header(p, {size}, WGV_OP_{c});')
        for m, off in rows:
            n, k = m['name'], m['kind']
            if k == 'WGV_K_OBJECT':
                v = f'a->{n} ? handle(a->{n}) : 0'
            elif k == 'WGV_K_ENUM':
                v = f'wgv_enum_to_wire(&{prefix}_enums[{m["type"]}], (uint32_t)a->{n})'
            elif k == 'WGV_K_FLAGS':
                v = f'wgv_flags_to_wire(&{prefix}_flagsets[{m["type"]}], (uint64_t)a->{n})'
            elif k == 'WGV_K_BOOL':
                v = f'wgv_fast_bits(&a->{n}, sizeof(a->{n})) != 0'
            else:
                v = f'wgv_fast_bits(&a->{n}, sizeof(a->{n}))'
            put = 'wgv_fast_put64' if FLAT[k] == 8 else 'wgv_fast_put32'
            o.append(f'    {put}(p + {off}, {v});')
        o.append('}\n')
    for c in cmds:
        o.append(f'static void wgv_fast_any_{c}(void *p, const void *a, uint64_t (*handle)(const void *))')
        o.append(f'{{\n    wgv_fast_{c}(p, a, handle);\n}}\n')
    o.append('const struct wgv_fast_encoder wgv_guest_fast[WGV_OP_COUNT] = {')
    for c in cmds:
        _, size = layout(gen.shapes[gen.shape_index['args:' + c]]['members'])
        o.append(f'    [WGV_OP_{c}] = {{{size}, wgv_fast_any_{c}}},')
    o.append('};\n')
    return o, set(cmds)


def guest_send(c, size):
    """The entry point's send, for a command with a specialised encoder."""
    return [f'    uint8_t *rec = wgv_client_reserve_locked(c, {size});',
            '    if (rec) {',
            f'        wgv_fast_{c}(rec, &a, wgv_fast_handle);',
            f'        wgv_client_commit_locked(c, WGV_OP_{c}, {size});',
            '    }']


def host_decoders(gen, prefix):
    """The host's specialised decoders and their table by opcode."""
    o = ['/* Specialised decoders (api/wirefast.py): wgv_decode()\'s steps for these',
         ' * fixed-size commands, unrolled; false lets the table decoder run. */']
    cmds = fast_commands(gen, gen.be)
    for c in cmds:
        sh = gen.shapes[gen.shape_index['args:' + c]]
        rows, size = layout(sh['members'])
        # The decoder gets the bytes after the header.
        rows, size = [(m, off - HEADER) for m, off in rows], size - HEADER
        o.append(f'static bool fast_{c}(const struct wgv_codec_ops *ops, const uint8_t *p, size_t len,')
        o.append('                void *args)')
        o.append('{')
        o.append(f'    struct wgv_ha_{c} *a = args;')
        o.append(f'    if (len != {size})\n        return false;')
        o.append('    memset(a, 0, sizeof(*a));')
        uses = set()
        body = []
        for m, off in rows:
            n, k = m['name'], m['kind']
            if k == 'WGV_K_OBJECT':
                uses.add('h')
                body.append(f'    h = wgv_fast_get64(p + {off});')
                if 'WGV_M_OPTIONAL' in m['flags']:
                    body.append(f'    if (h && !ops->object_from_wire(ops->user, {m["type"]}, h, '
                                f'(void **)&a->{n}))')
                else:
                    body.append(f'    if (!h || !ops->object_from_wire(ops->user, {m["type"]}, h, '
                                f'(void **)&a->{n}))')
                body.append('        return false;')
            elif k == 'WGV_K_ENUM':
                uses.add('e')
                body.append(f'    if (!wgv_enum_from_wire(&{prefix}_enums[{m["type"]}], '
                            f'wgv_fast_get32(p + {off}), &e))\n        return false;')
                body.append(f'    wgv_fast_store(&a->{n}, sizeof(a->{n}), e);')
            elif k == 'WGV_K_FLAGS':
                body.append(f'    wgv_fast_store(&a->{n}, sizeof(a->{n}), wgv_flags_from_wire('
                            f'&{prefix}_flagsets[{m["type"]}], wgv_fast_get64(p + {off})));')
            elif FLAT[k] == 8:
                body.append(f'    wgv_fast_store(&a->{n}, sizeof(a->{n}), wgv_fast_get64(p + {off}));')
            else:
                limit = {'WGV_K_U8': '0xFFu', 'WGV_K_U16': '0xFFFFu', 'WGV_K_BOOL': '1u'}.get(k)
                if limit:
                    uses.add('v')
                    body.append(f'    v = wgv_fast_get32(p + {off});')
                    body.append(f'    if (v > {limit})\n        return false;')
                    body.append(f'    wgv_fast_store(&a->{n}, sizeof(a->{n}), v);')
                else:
                    body.append(f'    wgv_fast_store(&a->{n}, sizeof(a->{n}), wgv_fast_get32(p + {off}));')
        if 'h' in uses:
            o.append('    uint64_t h;')
        else:
            o.append('    (void)ops;')
        if 'e' in uses:
            o.append('    uint32_t e;')
        if 'v' in uses:
            o.append('    uint32_t v;')
        o += body
        o.append('    return true;')
        o.append('}\n')
    o.append('const wgv_fast_decode_fn wgv_host_fast_decode[WGV_OP_COUNT] = {')
    for c in cmds:
        o.append(f'    [WGV_OP_{c}] = fast_{c},')
    o.append('};\n')
    return o
