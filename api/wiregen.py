#!/usr/bin/env python3
"""Generates the wire protocol from the API descriptions.

Inputs: api/webgpu.json (the standard ABI guests speak), a backend
description (api/dawn.json, the ABI the host calls) and api/wire.json (how
the standard API crosses the wire). Outputs, into one folder:

  wgv-wire-ids.h     ABI-free: protocol version, object types, opcodes,
                     callback ids, shape/enum/flag indices
  wgv-guest-wire.h/c the guest's codec tables (standard ABI), argument
                     structs, and every webgpu.h function that is a command
  wgv-guest-wire-NAME.h/c  the same for another guest front (--front
                     NAME=DESCRIPTION; api/wire.json's "fronts" says how its
                     header names wire entries and commands otherwise)
  wgv-host-wire.h/c  the host's codec tables (backend ABI), argument
                     structs, the backend proc table, the dispatch table and
                     the callback thunks that turn backend callbacks into
                     replies

The codec itself is hand-written (src/wire/encode.c, src/wire/decode.c)
and interprets the tables. Python standard library only; the output depends
only on the inputs.
"""
import argparse
import fnmatch
import hashlib
import json
import os
import sys

import wirefast

SCALARS = {
    'u8': 'WGV_K_U8', 'u16': 'WGV_K_U16', 'u32': 'WGV_K_U32', 'i32': 'WGV_K_I32',
    'u64': 'WGV_K_U64', 'i64': 'WGV_K_I64', 'f32': 'WGV_K_F32', 'f64': 'WGV_K_F64',
    'usize': 'WGV_K_USIZE', 'bool': 'WGV_K_BOOL',
}
LOCAL_KINDS = {'callback', 'userdata', 'callback_info', 'native_handle', 'cstring',
               'future', 'chain_head'}
INVALID_NATIVE = 0x7FFFFFFE  # no enum of either ABI uses it; the backend rejects it


def short(name):
    return name[4:] if name.startswith('WGPU') else name


def proc_member(fn):
    n = fn[4:]  # wgpuDeviceCreateBuffer -> DeviceCreateBuffer
    return n[0].lower() + n[1:]


class Side:
    """One ABI's view: names to description entries. An enum that adds
    entries to another (wgpu.h's WGPUNativeFeature to WGPUFeatureName) is
    read as part of it, so its values translate by name like the others."""

    def __init__(self, desc):
        self.desc = desc
        self.structs = {s['name']: s for s in desc['structs']}
        self.enums = {e['name']: e for e in desc['enums']}
        for e in desc['enums']:
            if e.get('extends'):
                base = self.enums[e['extends']]
                self.enums[base['name']] = dict(base, entries=base['entries'] + e['entries'])
        self.flags = {f['name']: f for f in desc['flags']}
        self.functions = {f['name']: f for f in desc['functions']}
        self.callbacks = {c['name']: c for c in desc['callbacks']}
        self.objects = [o['name'] for o in desc['objects']]

    def c_name(self, fn):
        """The C name a wire command's function has on this side."""
        return self.functions[fn].get('c_name', fn)

    def exported(self, fn):
        return not self.functions[fn].get('internal')


class Gen:
    def __init__(self, std, backend, wire):
        # self.std is the wire's model: the standard's API plus the backend
        # additions wire.json's "extensions" allow. self.std_side is the
        # standard ABI alone (the standard front's C names and values).
        self.std_side = Side(std)
        self.be = Side(backend)
        self.wire = wire
        self.std = Side(self.extend(std, backend, wire.get('extensions', {})))
        std = self.std.desc
        self.objects = self.std.objects
        self.obj_index = {o: i + 1 for i, o in enumerate(self.objects)}
        self.enum_list = [e['name'] for e in std['enums']]
        self.enum_index = {n: i for i, n in enumerate(self.enum_list)}
        self.flag_list = [f['name'] for f in std['flags']]
        self.flag_index = {n: i for i, n in enumerate(self.flag_list)}
        self.callbacks = [c['name'] for c in std['callbacks'] if c.get('style') == 'info']
        self.cb_index = {n: i + 1 for i, n in enumerate(self.callbacks)}
        self.classify()
        self.build_shapes()

    # ----------------------------------------------------------- extensions
    @staticmethod
    def extend(std, backend, ext):
        """The wire's model: a copy of the standard description with the
        listed enums, enum entries, structs (and their sTypes) and functions
        of the backend description appended. Appended enum entries take wire
        values after the standard's, in the order listed."""
        model = json.loads(json.dumps(std))
        be = Side(backend)
        enums = {e['name']: e for e in model['enums']}

        def need(what, table, name):
            if name not in table:
                raise SystemExit(f"wiregen: extension {what} {name} is not in {backend['abi']['name']}")
            return json.loads(json.dumps(table[name]))

        for en in ext.get('enums', []):
            if en in enums:
                raise SystemExit(f"wiregen: extension enum {en} is already standard")
            e = need('enum', be.enums, en)
            model['enums'].append(e)
            enums[en] = e

        def add_entry(en, name):
            if any(x['name'] == name for x in enums[en]['entries']):
                raise SystemExit(f"wiregen: extension entry {en}_{name} is already standard")
            src = next((x for x in be.enums[en]['entries'] if x['name'] == name), None)
            if not src:
                raise SystemExit(f"wiregen: extension entry {en}_{name} is not in the backend")
            enums[en]['entries'].append(dict(src, ext=True))

        for en, names in ext.get('enum_entries', {}).items():
            if en.startswith('_'):
                continue
            for name in names:
                add_entry(en, name)
        for sn in ext.get('structs', []):
            st = need('struct', be.structs, sn)
            model['structs'].append(st)
            if st['kind'] == 'chained':
                add_entry('WGPUSType', st['stype'])
                model['stypes'].append({'name': st['stype'], 'value': st['stype_value'], 'struct': sn})
        for fn in ext.get('functions', []):
            model['functions'].append(need('function', be.functions, fn))
        return model

    def front_side(self, desc, name):
        """A guest front's Side, with what api/wire.json's "fronts" says of
        it: its names for wire enum entries and commands (aliases), and the
        commands generated for its own code as wgv_wire_<command> instead of
        being exported (internal). A function of the front named like a
        wire command but with other arguments is not that command."""
        side = Side(desc)
        conf = self.wire.get('fronts', {}).get(name, {})
        side.neutral_links = [x for x in conf.get('neutral_when_zero', []) if not x.startswith('_')]
        side.ignored_links = [x for x in conf.get('ignored_links', []) if not x.startswith('_')]
        for sn in side.neutral_links + side.ignored_links:
            st = side.structs.get(sn)
            if not st or st['kind'] != 'chained' or sn in self.std.structs:
                raise SystemExit(f"wiregen: neutral_when_zero {sn} is not a chained struct of the front's own")
        for en, names in conf.get('enum_aliases', {}).items():
            if en.startswith('_'):
                continue
            e = side.enums[en]
            vals = {x['name']: x['value'] for x in e['entries']}
            extra = [{'name': wire, 'value': vals[mine]} for mine, wire in names.items()]
            side.enums[en] = dict(e, entries=e['entries'] + extra)
        for fn in list(side.functions):
            if fn in self.std.functions and not self.same_args(side.functions[fn], self.std.functions[fn]):
                del side.functions[fn]
        for mine, wire in conf.get('function_aliases', {}).items():
            if mine.startswith('_'):
                continue
            if not self.same_args(side.functions[mine], self.std.functions[wire]):
                raise SystemExit(f"wiregen: {mine} and {wire} take different arguments")
            side.functions[wire] = dict(side.functions[mine], name=wire, c_name=mine)
        for fn in conf.get('internal', []):
            if fn not in self.std.functions:
                raise SystemExit(f"wiregen: internal {fn} is not a wire command")
            side.functions[fn] = dict(self.std.functions[fn], c_name='wgv_wire_' + fn, internal=True)
        return side

    @staticmethod
    def same_args(a, b):
        return [(x['name'], x['kind']) for x in a['args']] == [(x['name'], x['kind']) for x in b['args']]

    def side_has(self, cmd, side):
        """Whether a front or backend has a command's C function (commands of
        wire.json's own have none and are on every side)."""
        return cmd in self.wire['commands'] or cmd in side.functions

    # ------------------------------------------------------------ functions
    def is_local(self, name):
        loc = self.wire['local']
        if name in loc['functions']:
            return True
        return any(fnmatch.fnmatchcase(name, p) for p in loc['patterns'])

    def classify(self):
        self.wire_functions = []
        self.local_functions = []
        for f in self.std.desc['functions']:
            if self.is_local(f['name']):
                self.local_functions.append(f['name'])
                continue
            for a in f['args']:
                if a['kind'] == 'ptr_out':
                    raise SystemExit(f"wiregen: {f['name']} has an out-pointer and must be local")
            if f['ret']['kind'] not in ('void', 'object', 'future'):
                raise SystemExit(f"wiregen: {f['name']} returns {f['ret']['kind']} and must be local")
            if f['name'] not in self.be.functions:
                raise SystemExit(f"wiregen: {f['name']} crosses the wire but the backend lacks it")
            self.wire_functions.append(f['name'])
        for key in ('guest_hooks', 'host_exec'):
            for n in self.wire[key]['functions']:
                if n not in self.wire_functions:
                    raise SystemExit(f"wiregen: {key} names {n}, which is not a wire function")
        self.commands = list(self.wire_functions) + sorted(
            k for k in self.wire['commands'] if not k.startswith('_'))
        self.opcode = {n: i + 1 for i, n in enumerate(self.commands)}

    # --------------------------------------------------------------- shapes
    def member_spec(self, m, siblings, side_desc):
        """Codec row fields for a description member (or argument)."""
        k = m['kind']
        spec = {'name': m['name'], 'kind': None, 'flags': [], 'elem': '0', 'type': 0, 'aux': -1}
        if m.get('length_of'):
            spec['kind'] = 'WGV_K_COUNT'
        elif k in SCALARS:
            spec['kind'] = SCALARS[k]
        elif k == 'enum':
            spec['kind'] = 'WGV_K_ENUM'
            spec['type'] = self.enum_index[m['type']]
        elif k == 'flags':
            spec['kind'] = 'WGV_K_FLAGS'
            spec['type'] = self.flag_index[m['type']]
        elif k == 'object':
            spec['kind'] = 'WGV_K_OBJECT'
            spec['type'] = self.obj_index[m['type']]
            if m.get('optional'):
                spec['flags'].append('WGV_M_OPTIONAL')
        elif k == 'string':
            spec['kind'] = 'WGV_K_STRING'
        elif k == 'struct':
            spec['kind'] = 'WGV_K_STRUCT'
            spec['type'] = self.shape_index[m['type']]
        elif k == 'struct_ptr':
            spec['kind'] = 'WGV_K_STRUCT_PTR'
            spec['type'] = self.shape_index[m['type']]
            if m.get('optional'):
                spec['flags'].append('WGV_M_OPTIONAL')
        elif k == 'array':
            spec['kind'] = 'WGV_K_ARRAY'
            e = m['elem']
            if e['kind'] == 'struct':
                spec['type'] = self.shape_index[e['type']]
            elif e['kind'] == 'enum':
                spec['flags'].append('WGV_M_ELEM_ENUM')
                spec['type'] = self.enum_index[e['type']]
            elif e['kind'] == 'object':
                spec['flags'].append('WGV_M_ELEM_OBJECT')
                spec['type'] = self.obj_index[e['type']]
            elif e['kind'] in SCALARS:
                spec['flags'].append('WGV_M_ELEM_SCALAR')
                spec['elem'] = SCALARS[e['kind']]
            elif e['kind'] == 'cstring':
                spec['flags'].append('WGV_M_ELEM_CSTRING')
            else:
                raise SystemExit(f"wiregen: array of {e['kind']} in {m['name']}")
            spec['aux'] = [s['name'] for s in siblings].index(m['count'])
        elif k == 'bytes':
            spec['kind'] = 'WGV_K_BYTES'
            spec['aux'] = [s['name'] for s in siblings].index(m['size'])
        elif k == 'chain':
            spec['kind'] = 'WGV_K_CHAIN'
        elif k in LOCAL_KINDS:
            spec['kind'] = 'WGV_K_LOCAL'
        elif k == 'new_object':
            spec['kind'] = 'WGV_K_NEW_OBJECT'
            spec['type'] = self.obj_index[m['type']]
        elif k == 'wire_future':
            spec['kind'] = 'WGV_K_FUTURE'
        else:
            raise SystemExit(f"wiregen: member kind {k} ({m['name']}) has no wire form")
        return spec

    def build_shapes(self):
        # Shape 0 is "none". Then every standard struct, every command's
        # arguments, every callback's reply.
        self.shapes = [None]
        self.shape_index = {}
        for s in self.std.desc['structs']:
            if s['name'] in ('WGPUStringView', 'WGPUChainedStruct', 'WGPUFuture'):
                continue
            self.shape_index[s['name']] = len(self.shapes)
            self.shapes.append({'name': s['name'], 'struct': s['name'], 'kind': 'struct'})
        for c in self.commands:
            self.shape_index['args:' + c] = len(self.shapes)
            self.shapes.append({'name': 'args:' + c, 'kind': 'args', 'command': c})
        for cb in self.callbacks:
            self.shape_index['cb:' + cb] = len(self.shapes)
            self.shapes.append({'name': 'cb:' + cb, 'kind': 'callback', 'callback': cb})
        for sh in self.shapes[1:]:
            sh['members'] = self.shape_members(sh)

    def args_of(self, cmd, side):
        """The argument members of a command on one side (description dicts,
        plus a 'ctype' each)."""
        if cmd in self.wire['commands']:
            out = []
            for a in self.wire['commands'][cmd]:
                out.append(dict(a, ctype='uint32_t' if a['kind'] == 'u32' else 'uint64_t'))
            return out
        f = side.functions[cmd]
        out = []
        for a in f['args']:
            if a['kind'] == 'callback_info':
                out.append({'name': a['name'] + '_future', 'kind': 'wire_future', 'ctype': 'uint64_t'})
            else:
                out.append(dict(a))
        result_type = None
        if f['ret']['kind'] == 'object':
            result_type = f['ret']['type']
        ci = f.get('callback_info')
        if ci:
            cb = side.callbacks[ci['callback']]
            for p in cb['params']:
                if p['kind'] == 'object':
                    result_type = p['type']
        if result_type:
            out.append({'name': 'result', 'kind': 'new_object', 'type': result_type,
                        'ctype': result_type if side is not self.be else 'uint64_t'})
        for x in self.wire['extra_args'].get(cmd, []):
            d = dict(x)
            if x['kind'] == 'new_object':
                d['ctype'] = x['type'] if side is not self.be else 'uint64_t'
            elif x['kind'] == 'future':
                d['kind'] = 'wire_future'
                d['ctype'] = 'uint64_t'
            else:
                d['ctype'] = 'uint64_t' if x['kind'] == 'u64' else 'uint32_t'
            out.append(d)
        return out

    def callback_params(self, cb, side):
        out = []
        for p in side.callbacks[cb]['params']:
            if p['kind'] in ('userdata', 'object'):
                continue
            if p['kind'] == 'array' and p['elem']['kind'] == 'object':
                continue  # WGPUDevice const *: the reply's key names it
            out.append(dict(p))
        return out

    def shape_members(self, sh):
        if sh['kind'] == 'struct':
            mem = self.std.structs[sh['struct']]['members']
        elif sh['kind'] == 'args':
            mem = self.args_of(sh['command'], self.std)
        else:
            mem = self.callback_params(sh['callback'], self.std)
        return [self.member_spec(m, mem, self.std.desc) for m in mem]

    # ---------------------------------------------------------- side tables
    def side_members(self, sh, side):
        """(C type name or None, [member C names or None]) on one side."""
        if sh['kind'] == 'struct':
            s = side.structs.get(sh['struct'])
            if not s:
                return None, [None] * len(sh['members'])
            names = {m['name'] for m in s['members']}
            return sh['struct'], [m['name'] if m['name'] in names else None for m in sh['members']]
        if sh['kind'] == 'args' and not self.side_has(sh['command'], side):
            return None, [None] * len(sh['members'])
        cname = self.c_struct_name(sh, side)
        return cname, [m['name'] for m in sh['members']]

    def c_struct_name(self, sh, side):
        pre = 'wgv_ga_' if side is not self.be else 'wgv_ha_'
        if sh['kind'] == 'args':
            return 'struct ' + pre + sh['command']
        pre = 'wgv_gcb_' if side is not self.be else 'wgv_hcb_'
        return 'struct ' + pre + short(sh['callback'])

    def emit_arg_structs(self, side):
        out = []
        for sh in self.shapes[1:]:
            if sh['kind'] == 'args':
                if not self.side_has(sh['command'], side):
                    continue
                mem = self.args_of(sh['command'], side)
            elif sh['kind'] == 'callback':
                mem = self.callback_params(sh['callback'], side)
            else:
                continue
            out.append(self.c_struct_name(sh, side) + ' {')
            for m in mem:
                out.append(f"    {m['ctype']} {m['name']};")
            if not mem:
                out.append('    uint8_t unused;')
            out.append('};')
        return out

    def emit_tables(self, side, prefix):
        # The INIT macros build compound literals, which are not constant
        # initializers; for the static INIT copies below, plain braces are.
        out = ['#undef WGV_INIT_VALUE_', '#define WGV_INIT_VALUE_(type, ...) {__VA_ARGS__}', '']
        for i, sh in enumerate(self.shapes):
            if i == 0:
                continue
            ctype, names = self.side_members(sh, side)
            rows = []
            for spec, cname in zip(sh['members'], names):
                flags = list(spec['flags'])
                if cname is None or ctype is None:
                    flags.append('WGV_M_ABSENT')
                    size, off = '0', '0'
                else:
                    size = f'sizeof((({ctype} *)0)->{cname})'
                    off = f'offsetof({ctype}, {cname})'
                fl = '|'.join(flags) if flags else '0'
                rows.append(f'    {{"{spec["name"]}", {spec["kind"]}, {fl}, {spec["elem"]}, {size}, '
                            f'{spec["type"]}, {spec["aux"]}, {off}}},')
            if rows:
                out.append(f'static const struct wgv_member {prefix}_m{i}[] = {{')
                out.extend(rows)
                out.append('};')
            if sh['kind'] == 'struct' and ctype and side.structs[ctype].get('init_macro'):
                if not any(m['kind'] == 'callback_info' and False for m in side.structs[ctype]['members']):
                    out.append(f'static const {ctype} {prefix}_init{i} = {side.structs[ctype]["init_macro"]};')
        out.append(f'static const struct wgv_shape {prefix}_shapes[] = {{')
        out.append('    {"none", 0, 0, 0, NULL, NULL},')
        for i, sh in enumerate(self.shapes):
            if i == 0:
                continue
            ctype, _ = self.side_members(sh, side)
            stype = 0
            if sh['kind'] == 'struct':
                st = self.std.structs[sh['struct']]
                if st['kind'] == 'chained':
                    stype = self.wire_enum_value('WGPUSType', st['stype'])
            size = f'sizeof({ctype})' if ctype else '0'
            mem = f'{prefix}_m{i}' if sh['members'] else 'NULL'
            init = 'NULL'
            if sh['kind'] == 'struct' and ctype and side.structs[ctype].get('init_macro'):
                init = f'&{prefix}_init{i}'
            out.append(f'    {{"{sh["name"]}", {size}, {stype}, {len(sh["members"])}, {mem}, {init}}},')
        out.append('};')
        # enums
        for i, en in enumerate(self.enum_list):
            wire_entries = self.wire_enum_entries(en)
            se = side.enums.get(en)
            vals = {e['name']: e['value'] for e in se['entries']} if se else {}
            native = [vals.get(n, INVALID_NATIVE) for n, _ in wire_entries]
            pairs = sorted((v, w) for w, v in enumerate(native) if v != INVALID_NATIVE)
            out.append(f'static const uint32_t {prefix}_e{i}_native[] = {{{", ".join(hex(v) for v in native) or "0"}}};')
            out.append(f'static const uint32_t {prefix}_e{i}_sn[] = {{{", ".join(hex(v) for v, _ in pairs) or "0"}}};')
            out.append(f'static const uint32_t {prefix}_e{i}_sw[] = {{{", ".join(str(w) for _, w in pairs) or "0"}}};')
            self._enum_counts = getattr(self, '_enum_counts', {})
            self._enum_counts[(prefix, i)] = (len(native), len(pairs))
        out.append(f'static const struct wgv_enum {prefix}_enums[] = {{')
        for i, en in enumerate(self.enum_list):
            n, npairs = self._enum_counts[(prefix, i)]
            out.append(f'    {{"{en}", {n}, {prefix}_e{i}_native, {npairs}, {prefix}_e{i}_sn, {prefix}_e{i}_sw, '
                       f'{hex(INVALID_NATIVE)}}},')
        out.append('};')
        for fl_i, fl in enumerate(self.flag_list):
            bits = self.wire_flag_bits(fl)
            sf = side.flags.get(fl)
            vals = {e['name']: e['value'] for e in sf['entries']} if sf else {}
            native = [vals.get(n, 0) for n, _ in bits]
            out.append(f'static const uint64_t {prefix}_f{fl_i}[] = {{{", ".join(hex(v) + "ull" for v in native) or "0"}}};')
        out.append(f'static const struct wgv_flagset {prefix}_flagsets[] = {{')
        for fl_i, fl in enumerate(self.flag_list):
            out.append(f'    {{"{fl}", {len(self.wire_flag_bits(fl))}, {prefix}_f{fl_i}}},')
        out.append('};')
        st_entries = self.wire_enum_entries('WGPUSType')
        st_shape = []
        for n, _ in st_entries:
            s = next((x for x in self.std.desc['stypes'] if x['name'] == n), None)
            st_shape.append(self.shape_index.get(s['struct'], 0) if s else 0)
        out.append(f'static const uint16_t {prefix}_stype_shape[] = {{{", ".join(map(str, st_shape))}}};')
        # Links the encoder leaves out: neutral ones when their members (the
        # spans) are zero, ignored ones always (no spans).
        neutral = getattr(side, 'neutral_links', [])
        ignored = getattr(side, 'ignored_links', [])
        for i, sn in enumerate(neutral):
            spans = [f'{{offsetof({sn}, {m["name"]}), sizeof((({sn} *)0)->{m["name"]})}}'
                     for m in side.structs[sn]['members'] if m['name'] != 'chain']
            out.append(f'static const struct wgv_span {prefix}_n{i}[] = {{{", ".join(spans)}}};')
        if neutral or ignored:
            out.append(f'static const struct wgv_neutral_link {prefix}_neutral[] = {{')
            for i, sn in enumerate(neutral):
                st = side.structs[sn]
                out.append(f'    {{WGPUSType_{st["stype"]}, {len(st["members"]) - 1}, {prefix}_n{i}}},')
            for sn in ignored:
                out.append(f'    {{WGPUSType_{side.structs[sn]["stype"]}, 0, NULL}},')
            out.append('};')
        neutral = neutral + ignored
        out.append(f'const struct wgv_abi {prefix}_abi = {{')
        out.append(f'    "{side.desc["abi"]["name"]}", {prefix}_shapes, {len(self.shapes)},')
        out.append(f'    {prefix}_enums, {len(self.enum_list)}, {prefix}_flagsets, {len(self.flag_list)},')
        out.append(f'    {self.enum_index["WGPUSType"]}, {prefix}_stype_shape, sizeof(WGPUChainedStruct),')
        out.append(f'    {prefix + "_neutral" if neutral else "NULL"}, {len(neutral)},')
        out.append('};')
        return out

    def wire_enum_entries(self, en):
        """(name, value) of each entry in wire order: the standard's by value,
        then the extensions' in the order wire.json lists them."""
        e = self.std.enums[en]
        base = sorted(((x['name'], x['value']) for x in e['entries'] if not x.get('ext')),
                      key=lambda t: t[1])
        return base + [(x['name'], x['value']) for x in e['entries'] if x.get('ext')]

    def wire_enum_value(self, en, entry):
        for i, (n, _) in enumerate(self.wire_enum_entries(en)):
            if n == entry:
                return i
        raise SystemExit(f'wiregen: {en}_{entry} unknown')

    def wire_flag_bits(self, fl):
        f = self.std.flags[fl]
        single = [(x['name'], x['value']) for x in f['entries']
                  if x['value'] and (x['value'] & (x['value'] - 1)) == 0]
        return sorted(single, key=lambda t: t[1])

    # -------------------------------------------------------------- version
    def schema(self):
        return {
            'objects': self.objects,
            'commands': self.commands,
            'callbacks': self.callbacks,
            'shapes': [[sh['name'], [[m['name'], m['kind'], m['flags'], m['elem'], m['type'], m['aux']]
                                     for m in sh['members']]] for sh in self.shapes[1:]],
            'enums': [[e, self.wire_enum_entries(e)] for e in self.enum_list],
            'flags': [[f, self.wire_flag_bits(f)] for f in self.flag_list],
        }

    def version(self):
        blob = json.dumps(self.schema(), sort_keys=True).encode()
        return int.from_bytes(hashlib.sha256(blob).digest()[:4], 'little')

    # ---------------------------------------------------------------- files
    def header_stamp(self, what):
        return [f'/* {what}', ' * Generated by api/wiregen.py from api/webgpu.json, '
                f'api/{self.be_file} and api/wire.json. Do not edit. */']

    def ids_h(self):
        o = self.header_stamp('Wire identifiers shared by guest and host.')
        o += ['#ifndef WGV_WIRE_IDS_H', '#define WGV_WIRE_IDS_H', '',
              '#include <stdint.h>', '',
              f'#define WGV_PROTOCOL_VERSION 0x{self.version():08x}u', '']
        o.append('enum wgv_object_type {\n    WGV_OBJ_NONE = 0,')
        for o_ in self.objects:
            o.append(f'    WGV_OBJ_{short(o_)} = {self.obj_index[o_]},')
        o.append(f'    WGV_OBJ_COUNT = {len(self.objects) + 1}\n}};')
        o.append('enum wgv_opcode {\n    WGV_OP_NONE = 0,')
        for c in self.commands:
            o.append(f'    WGV_OP_{c} = {self.opcode[c]},')
        o.append(f'    WGV_OP_COUNT = {len(self.commands) + 1}\n}};')
        o.append('enum wgv_callback_id {\n    WGV_CB_NONE = 0,')
        for cb in self.callbacks:
            o.append(f'    WGV_CB_{short(cb)} = {self.cb_index[cb]},')
        o.append(f'    WGV_CB_COUNT = {len(self.callbacks) + 1}\n}};')
        o.append('enum wgv_shape_id {')
        for i, sh in enumerate(self.shapes):
            if i == 0:
                continue
            n = sh['name'].replace('args:', 'ARGS_').replace('cb:', 'CB_')
            n = n.replace('WGPU', '')
            o.append(f'    WGV_SHAPE_{n} = {i},')
        o.append(f'    WGV_SHAPE_COUNT = {len(self.shapes)}\n}};')
        o.append('enum wgv_enum_id {')
        for i, e in enumerate(self.enum_list):
            o.append(f'    WGV_ENUM_{short(e)} = {i},')
        o.append('};')
        o.append('/* Shape of each callback reply, by callback id. */')
        o.append('extern const unsigned short wgv_callback_shape[WGV_CB_COUNT];')
        o.append('/* Shape of each command\'s arguments, by opcode. */')
        o.append('extern const unsigned short wgv_command_shape[WGV_OP_COUNT];')
        o.append('/* The standard\'s name of an enum entry by its wire value, or NULL. */')
        o.append('const char *wgv_enum_entry_name(unsigned enum_id, uint32_t wire);')
        o.append('/* The callback a command\'s future is answered with (WGV_CB_NONE if none). */')
        o.append('extern const unsigned short wgv_command_callback[WGV_OP_COUNT];')
        o += self.callback_delivers_h()
        o += self.command_keeps_h()
        o.append('/* Names, for messages. */')
        o.append('extern const char *const wgv_command_name[WGV_OP_COUNT];')
        o.append('extern const char *const wgv_object_type_name[WGV_OBJ_COUNT];')
        o += ['', '#endif']
        return '\n'.join(o) + '\n'

    def ids_c(self):
        o = self.header_stamp('Wire identifier tables.')
        o += ['#include <stddef.h>', '#include <stdint.h>', '#include "wgv-wire-ids.h"', '']
        o.append('const unsigned short wgv_callback_shape[WGV_CB_COUNT] = {0,')
        for cb in self.callbacks:
            o.append(f'    {self.shape_index["cb:" + cb]},')
        o.append('};')
        o.append('const unsigned short wgv_command_shape[WGV_OP_COUNT] = {0,')
        for c in self.commands:
            o.append(f'    {self.shape_index["args:" + c]},')
        o.append('};')
        o.append('const unsigned short wgv_command_callback[WGV_OP_COUNT] = {0,')
        for c in self.commands:
            f = self.std.functions.get(c)
            ci = f.get('callback_info') if f else None
            o.append(f'    {self.cb_index[ci["callback"]] if ci else 0},')
        o.append('};')
        o += self.callback_delivers_c()
        o += self.command_keeps_c()
        o.append('const char *const wgv_command_name[WGV_OP_COUNT] = {"none",')
        for c in self.commands:
            o.append(f'    "{c}",')
        o.append('};')
        o.append('const char *const wgv_object_type_name[WGV_OBJ_COUNT] = {"none",')
        for ob in self.objects:
            o.append(f'    "{ob}",')
        o.append('};')
        for i, en in enumerate(self.enum_list):
            names = ', '.join(f'"{n}"' for n, _ in self.wire_enum_entries(en))
            o.append(f'static const char *const enum_names_{i}[] = {{{names}}};')
        o.append('static const struct { unsigned count; const char *const *names; } enum_names[] = {')
        for i, en in enumerate(self.enum_list):
            o.append(f'    {{{len(self.wire_enum_entries(en))}, enum_names_{i}}},')
        o.append('};')
        o.append('const char *wgv_enum_entry_name(unsigned enum_id, uint32_t wire)\n{')
        o.append('    if (enum_id >= sizeof(enum_names) / sizeof(enum_names[0]) || wire >= enum_names[enum_id].count)')
        o.append('        return NULL;')
        o.append('    return enum_names[enum_id].names[wire];\n}')
        return '\n'.join(o) + '\n'

    def guest_h(self, side):
        o = self.header_stamp(f"A guest front's side of the wire ({side.desc['abi']['name']} ABI).")
        # the front's further headers (wgpu-native's wgpu.h) declare its own functions
        parts = sorted({x['header'] for k in ('functions', 'structs', 'enums') for x in side.desc[k]
                        if x.get('header')})
        o += ['#ifndef WGV_GUEST_WIRE_H', '#define WGV_GUEST_WIRE_H', '',
              '#include <webgpu/webgpu.h>'] + [f'#include <webgpu/{p}>' for p in parts] + [
              '#include "codec.h"', '#include "fast.h"', '#include "wgv-wire-ids.h"', '',
              'struct wgv_client;', '']
        o += self.emit_arg_structs(side)
        o.append('')
        o.append("/* Codec tables for this front's ABI. */")
        o.append('extern const struct wgv_abi wgv_guest_abi;')
        o.append('/* Specialised encoders by opcode (api/wirefast.py; size 0: none). */')
        o.append('extern const struct wgv_fast_encoder wgv_guest_fast[WGV_OP_COUNT];')
        o.append('/* Calls a user callback with a decoded reply; obj is the object the')
        o.append(' * reply concerns (result or device), or NULL. */')
        o.append('void wgv_guest_invoke_callback(unsigned cb, WGPUProc fn, const void *args, void *obj,')
        o.append('                               void *userdata1, void *userdata2);')
        o += self.guest_callback_succeeded_h()
        o.append("/* Every function of this front's webgpu.h by name (wgpuGetProcAddress). */")
        o.append('WGPUProc wgv_guest_proc_address(const char *name, size_t len);')
        o.append('')
        internal = [fn for fn in self.wire_functions if fn in side.functions and not side.exported(fn)]
        if internal:
            o.append("/* Commands this front's own code sends (api/wire.json fronts: internal). */")
            for fn in internal:
                f = side.functions[fn]
                params = ', '.join(f"{a['ctype']} {a['name']}" for a in f['args']) or 'void'
                o.append(f"{f['ret']['ctype']} {side.c_name(fn)}({params});")
            o.append('')
        o.append('/* Hand-written hooks (api/wire.json guest_hooks); false sends nothing. */')
        for fn in self.wire['guest_hooks']['functions']:
            if fn in side.functions:
                o.append(f'bool wgv_guest_hook_{fn}(struct wgv_client *c, struct wgv_ga_{fn} *a);')
        o += ['', '#endif']
        return '\n'.join(o) + '\n'

    def guest_c(self, side):
        o = self.header_stamp(f"A guest front's codec tables and the functions of its webgpu.h that "
                              f"are commands ({side.desc['abi']['name']} ABI).")
        o += ['#include <stddef.h>', '#include <string.h>', '#include "guest.h"', '']
        o += self.emit_tables(side, 'wgv_guest')
        o.append('')
        fast, self.fast_guest = wirefast.guest_encoders(self, side, 'wgv_guest')
        o += fast
        for fn in self.wire_functions:
            if fn in side.functions:
                o += self.guest_function(fn, side)
        # AddRef/Release
        for fn in sorted(side.functions):
            f = side.functions[fn]
            if fn in self.wire_functions or not f['args'] or f['args'][0]['kind'] != 'object':
                continue
            if fn.endswith('AddRef') or fn.endswith('Release'):
                t = f['args'][0]['ctype']
                op = 'wgv_object_add_ref' if fn.endswith('AddRef') else 'wgv_object_release'
                o.append(f'WGPU_EXPORT void {fn}({t} o)\n{{\n    {op}((struct wgv_object *)o);\n}}\n')
        # invoker
        o.append('void wgv_guest_invoke_callback(unsigned cb, WGPUProc fn, const void *args, void *obj,')
        o.append('                               void *userdata1, void *userdata2)\n{')
        o.append('    (void)obj;\n    switch (cb) {')
        for cb in self.callbacks:
            c = side.callbacks[cb]
            o.append(f'    case WGV_CB_{short(cb)}: {{')
            o.append(f'        const struct wgv_gcb_{short(cb)} *a = args;\n        (void)a;')
            call = []
            for p in c['params']:
                if p['kind'] == 'userdata':
                    call.append(p['name'])
                elif p['kind'] == 'object':
                    call.append(f'({p["ctype"]})obj')
                elif p['kind'] == 'array' and p['elem']['kind'] == 'object':
                    o.append(f'        {p["elem"]["type"]} self = ({p["elem"]["type"]})obj;')
                    call.append('&self')
                else:
                    call.append('a->' + p['name'])
            o.append(f'        (({cb})fn)({", ".join(call)});')
            o.append('        break;\n    }')
        o.append('    default:\n        break;\n    }\n}\n')
        o += self.guest_callback_succeeded_c()
        # proc address table
        names = sorted(f['name'] for f in side.desc['functions'])
        o.append('static const struct { const char *name; WGPUProc proc; } wgv_guest_procs[] = {')
        for n in names:
            o.append(f'    {{"{n}", (WGPUProc){n}}},')
        o.append('};')
        o.append('WGPUProc wgv_guest_proc_address(const char *name, size_t len)\n{')
        o.append('    size_t lo = 0, hi = sizeof(wgv_guest_procs) / sizeof(wgv_guest_procs[0]);')
        o.append('    while (lo < hi) {')
        o.append('        size_t mid = lo + (hi - lo) / 2;')
        o.append('        int c = strncmp(wgv_guest_procs[mid].name, name, len);')
        o.append('        if (c == 0 && wgv_guest_procs[mid].name[len])\n            c = 1;')
        o.append('        if (c == 0)\n            return wgv_guest_procs[mid].proc;')
        o.append('        if (c < 0)\n            lo = mid + 1;\n        else\n            hi = mid;\n    }')
        o.append('    return NULL;\n}')
        return '\n'.join(o) + '\n'

    def guest_function(self, fn, side):
        f = side.functions[fn]
        params = ', '.join(f"{a['ctype']} {a['name']}" for a in f['args']) or 'void'
        ret = f['ret']['ctype']
        export = 'WGPU_EXPORT ' if side.exported(fn) else ''
        o = [f'{export}{ret} {side.c_name(fn)}({params})', '{']
        o.append(f'    struct wgv_ga_{fn} a;')
        o.append('    memset(&a, 0, sizeof(a));')
        recv = f['args'][0]
        for a in f['args']:
            if a['kind'] != 'callback_info':
                o.append(f'    a.{a["name"]} = {a["name"]};')
        o.append(f'    struct wgv_client *c = wgv_object_client((struct wgv_object *){recv["name"]});')
        # Ids, futures and the command are taken in one locked section, so
        # commands from several threads reach the host in id order.
        o.append('    pthread_mutex_lock(&c->lock);')
        args = self.args_of(fn, side)
        result = next((x for x in args if x['name'] == 'result'), None)
        fail = {'void': 'return;', 'object': 'return NULL;',
                'future': 'return (WGPUFuture){0};'}[f['ret']['kind']]
        if result:
            o.append(f'    a.result = ({result["type"]})wgv_object_create(c, WGV_OBJ_{short(result["type"])}, '
                     f'(struct wgv_object *){recv["name"]});')
            o.append(f'    if (!a.result) {{\n        pthread_mutex_unlock(&c->lock);\n        {fail}\n    }}')
        for x in args:
            if x['kind'] == 'new_object' and x['name'] != 'result':
                o.append(f'    a.{x["name"]} = ({x["type"]})wgv_object_create(c, WGV_OBJ_{short(x["type"])}, '
                         f'(struct wgv_object *){recv["name"]});')
        ci = f.get('callback_info')
        if ci:
            cbn = short(ci['callback'])
            res = 'a.result' if result else recv['name']
            o.append(f'    WGPUFuture future = wgv_future_create(c, WGV_CB_{cbn}, {ci["param"]}.mode, '
                     f'(WGPUProc){ci["param"]}.callback, {ci["param"]}.userdata1, {ci["param"]}.userdata2, '
                     f'(struct wgv_object *){res});')
            o.append(f'    a.{ci["param"]}_future = future.id;')
        hooked = fn in self.wire['guest_hooks']['functions']
        if fn in self.fast_guest:
            _, size = wirefast.layout(self.shapes[self.shape_index['args:' + fn]]['members'])
            send = wirefast.guest_send(fn, size)
        else:
            send = [f'    wgv_client_send_locked(c, WGV_OP_{fn}, &a);']
        if hooked:
            o.append(f'    if (wgv_guest_hook_{fn}(c, &a)) {{')
            o += ['    ' + x for x in send]
            o.append('    }')
        else:
            o += send
        o.append('    pthread_mutex_unlock(&c->lock);')
        if hooked:
            # A hook may complete AllowSpontaneous callbacks (a device's
            # destruction): they fire before the call returns, unlocked.
            o.append('    wgv_client_fire_spontaneous(c);')
        if ci:
            o.append('    return future;')
        elif result:
            o.append('    return a.result;')
        o.append('}\n')
        return o

    def host_h(self):
        o = self.header_stamp("The host's side of the wire (backend ABI).")
        o += ['#ifndef WGV_HOST_WIRE_H', '#define WGV_HOST_WIRE_H', '',
              f'#include <{self.be_header}>', '#include "codec.h"', '#include "fast.h"',
              '#include "wgv-wire-ids.h"', '', 'struct wgv_context;', '']
        o += self.emit_arg_structs(self.be)
        o.append('')
        o.append('/* Every backend proc the host may call. */')
        o.append('struct wgv_procs {')
        for fn in self.backend_procs():
            o.append(f'    WGPUProc{fn[4:]} {proc_member(fn)};')
        o.append('};')
        o.append('struct wgv_proc_name {\n    const char *symbol;\n    size_t offset;\n};')
        o.append('extern const struct wgv_proc_name wgv_proc_names[];')
        o.append('extern const size_t wgv_proc_count;')
        o.append('/* The backend ABI this host was generated for, and how to recognise it. */')
        o.append('extern const char wgv_backend_abi_name[];')
        o.append('extern const char *const wgv_backend_abi_exports[];')
        o.append('extern const char *const wgv_backend_abi_lacks[];')
        o.append('')
        o.append('/* Codec tables for the backend ABI. */')
        o.append('extern const struct wgv_abi wgv_host_abi;')
        o.append('/* Specialised decoders by opcode (api/wirefast.py; NULL: none), and room')
        o.append(' * for the arguments of any of them. */')
        o.append('extern const wgv_fast_decode_fn wgv_host_fast_decode[WGV_OP_COUNT];')
        o.append('union wgv_fast_args {')
        for c in wirefast.fast_commands(self, self.be):
            o.append(f'    struct wgv_ha_{c} {c};')
        o.append('};')
        o.append('typedef void (*wgv_exec_fn)(struct wgv_context *ctx, void *args);')
        o.append('/* Runs each command on the backend, by opcode (NULL for none). */')
        o.append('extern const wgv_exec_fn wgv_host_exec[WGV_OP_COUNT];')
        o.append('')
        o.append('/* Hand-written command handlers (api/wire.json host_exec and commands). */')
        for fn in self.wire['host_exec']['functions']:
            o.append(f'void wgv_host_exec_{fn}(struct wgv_context *ctx, struct wgv_ha_{fn} *a);')
        for c in self.commands:
            if c in self.wire['commands']:
                o.append(f'void wgv_host_exec_{c}(struct wgv_context *ctx, struct wgv_ha_{c} *a);')
        o.append('')
        o.append('/* Backend callbacks that become replies: userdata1 is the context,')
        o.append(' * userdata2 its pending-callback record. */')
        for cb in self.callbacks:
            c = self.be.callbacks[cb]
            params = ', '.join(f"{p['ctype']} {p['name']}" for p in c['params'])
            o.append(f'void wgv_hcb_{short(cb)}_thunk({params});')
        o += ['', '#endif']
        return '\n'.join(o) + '\n'

    def other_abi_c(self):
        """A library that exports every proc the host resolves and also a
        function the backend's ABI lacks: the loader must refuse it."""
        o = self.header_stamp('A stand-in library of another ABI, for the loader test.')
        names = self.backend_procs() + list(self.be.desc['abi'].get('identify_by', {}).get('lacks', []))
        for n in sorted(set(names)):
            o.append(f'__attribute__((visibility("default"))) void {n}(void);')
            o.append(f'void {n}(void) {{}}')
        return '\n'.join(o) + '\n'

    def backend_procs(self):
        want = set(f for f in self.std.functions if f in self.be.functions)
        want |= set(self.wire.get('backend_extra', []))
        return sorted(want)

    def host_c(self):
        o = self.header_stamp("The host's codec tables, proc table, dispatch and callback thunks.")
        o += ['#include <stddef.h>', '#include <string.h>', '#include "wgv-host-wire.h"',
              '#include "context.h"', '']
        o += self.emit_tables(self.be, 'wgv_host')
        o.append('')
        o += wirefast.host_decoders(self, 'wgv_host')
        o.append('const struct wgv_proc_name wgv_proc_names[] = {')
        for fn in self.backend_procs():
            o.append(f'    {{"{fn}", offsetof(struct wgv_procs, {proc_member(fn)})}},')
        o.append('};')
        o.append('const size_t wgv_proc_count = sizeof(wgv_proc_names) / sizeof(wgv_proc_names[0]);')
        ab = self.be.desc['abi']
        o.append(f'const char wgv_backend_abi_name[] = "{ab["name"]}";')
        ex = ab.get('identify_by', {})
        o.append('const char *const wgv_backend_abi_exports[] = {' +
                 ''.join(f'"{x}", ' for x in ex.get('exports', [])) + 'NULL};')
        o.append('const char *const wgv_backend_abi_lacks[] = {' +
                 ''.join(f'"{x}", ' for x in ex.get('lacks', [])) + 'NULL};')
        o.append('')
        for c in self.commands:
            o += self.host_exec_fn(c)
        o.append('void wgv_host_release_object(struct wgv_context *ctx, unsigned type, void *object)\n{')
        o.append('    switch (type) {')
        for ob in self.objects:
            rel = 'wgpu' + short(ob) + 'Release'
            if rel in self.be.functions:
                o.append(f'    case WGV_OBJ_{short(ob)}: ctx->procs->{proc_member(rel)}(({ob})object); break;')
        o.append('    default: break;\n    }\n}\n')
        o.append('const wgv_exec_fn wgv_host_exec[WGV_OP_COUNT] = {')
        for c in self.commands:
            o.append(f'    [WGV_OP_{c}] = exec_{c},')
        o.append('};\n')
        for cb in self.callbacks:
            c = self.be.callbacks[cb]
            params = ', '.join(f"{p['ctype']} {p['name']}" for p in c['params'])
            o.append(f'void wgv_hcb_{short(cb)}_thunk({params})\n{{')
            o.append(f'    struct wgv_hcb_{short(cb)} a;\n    memset(&a, 0, sizeof(a));')
            obj = 'NULL'
            for p in c['params']:
                if p['kind'] == 'userdata':
                    continue
                if p['kind'] == 'object':
                    obj = p['name']
                elif p['kind'] == 'array' and p['elem']['kind'] == 'object':
                    obj = f'({p["name"]} ? *{p["name"]} : NULL)'
                else:
                    o.append(f'    a.{p["name"]} = {p["name"]};')
            o.append(f'    wgv_host_callback(userdata1, userdata2, WGV_CB_{short(cb)}, &a, {obj});')
            o.append('}\n')
        return '\n'.join(o) + '\n'

    def host_exec_fn(self, c):
        o = [f'static void exec_{c}(struct wgv_context *ctx, void *args)', '{',
             f'    struct wgv_ha_{c} *a = args;']
        if c in self.wire['commands'] or c in self.wire['host_exec']['functions']:
            o.append(f'    wgv_host_exec_{c}(ctx, a);')
            o.append('}\n')
            return o
        f = self.be.functions[c]
        call_args = []
        pre = []
        ci = f.get('callback_info')
        args = self.args_of(c, self.be)
        result = next((x for x in args if x['name'] == 'result'), None)
        for a in f['args']:
            if a['kind'] == 'callback_info':
                cbn = short(ci['callback'])
                res = 'a->result' if result and ci else '0'
                pre.append(f'    struct wgv_pending *pending = wgv_host_pending_new(ctx, WGV_CB_{cbn}, '
                           f'a->{a["name"]}_future, {res}, false);')
                pre.append('    if (!pending)\n        return;')
                pre.append(f'    {a["ctype"]} ci;\n    memset(&ci, 0, sizeof(ci));')
                pre.append('    ci.mode = WGPUCallbackMode_AllowProcessEvents;')
                pre.append(f'    ci.callback = wgv_hcb_{cbn}_thunk;')
                pre.append('    ci.userdata1 = ctx;\n    ci.userdata2 = pending;')
                call_args.append('ci')
            else:
                call_args.append('a->' + a['name'])
        o += pre
        call = f'ctx->procs->{proc_member(c)}({", ".join(call_args)})'
        if f['ret']['kind'] == 'object' and result:
            o.append(f'    wgv_host_store(ctx, WGV_OBJ_{short(result["type"])}, a->result, {call});')
        else:
            o.append(f'    {call};')
        o.append('}\n')
        return o

    # ------------------------------------------- what callbacks deliver
    def callback_delivered_type(self, cb):
        """The object type a callback hands to the application (an async
        creation's result), or None."""
        for p in self.std.callbacks[cb]['params']:
            if p['kind'] == 'object':
                return p['type']
        return None

    def callback_status(self, cb):
        """(parameter name, C name of its Success entry) of a callback's
        status, or None when it has no status with a Success entry."""
        for p in self.std.callbacks[cb]['params']:
            if p['kind'] != 'enum' or p['name'] != 'status':
                continue
            en = self.std.enums[p['type']]
            if any(e['name'] == 'Success' for e in en['entries']):
                return p['name'], f"{p['type']}_Success"
        return None

    def callback_delivers_h(self):
        return ['/* The object type each callback delivers (an async creation\'s result),',
                ' * WGV_OBJ_NONE for callbacks that deliver none; by callback id. */',
                'extern const unsigned short wgv_callback_delivers[WGV_CB_COUNT];']

    def callback_delivers_c(self):
        o = ['const unsigned short wgv_callback_delivers[WGV_CB_COUNT] = {0,']
        for cb in self.callbacks:
            t = self.callback_delivered_type(cb)
            if t and not self.callback_status(cb):
                raise SystemExit(f"wiregen: {cb} delivers a {t} but has no status with a Success "
                                 "entry to tell whether it did")
            o.append(f'    WGV_OBJ_{short(t)},' if t else '    WGV_OBJ_NONE,')
        o.append('};')
        return o

    def command_keeps(self, c):
        """What the implementation keeps of a command's arguments after the
        call: a label (the object's SetLabel), or the command itself, which
        an encoder records (every method of an object named *Encoder)."""
        f = self.std.functions.get(c)
        if not f or not f.get('object'):
            return 'NONE'
        if f.get('method') == 'SetLabel':
            return 'LABEL'
        if f['object'].endswith('Encoder'):
            return 'RECORD'
        return 'NONE'

    def command_keeps_h(self):
        return ['/* What the implementation keeps of a command\'s arguments, by opcode: a',
                ' * command an encoder records (kept until its command buffer or bundle goes),',
                ' * an object\'s label (kept by the object until the next), or nothing beyond',
                ' * what a command creates. */',
                'enum wgv_keeps { WGV_KEEPS_NONE = 0, WGV_KEEPS_RECORD = 1, WGV_KEEPS_LABEL = 2 };',
                'extern const unsigned char wgv_command_keeps[WGV_OP_COUNT];']

    def command_keeps_c(self):
        o = ['const unsigned char wgv_command_keeps[WGV_OP_COUNT] = {WGV_KEEPS_NONE,']
        for c in self.commands:
            o.append(f'    WGV_KEEPS_{self.command_keeps(c)}, /* {c} */')
        o.append('};')
        return o

    def guest_callback_succeeded_h(self):
        return ['/* Whether a decoded reply of callback `cb` reports success (its status is',
                ' * Success); true for a callback without such a status. */',
                'bool wgv_guest_callback_succeeded(unsigned cb, const void *args);']

    def guest_callback_succeeded_c(self):
        o = ['bool wgv_guest_callback_succeeded(unsigned cb, const void *args)\n{',
             '    switch (cb) {']
        for cb in self.callbacks:
            st = self.callback_status(cb)
            if not st:
                continue
            o.append(f'    case WGV_CB_{short(cb)}:')
            o.append(f'        return ((const struct wgv_gcb_{short(cb)} *)args)->{st[0]} == {st[1]};')
        o.append('    default:\n        return true;\n    }\n}\n')
        return o


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--standard', required=True)
    ap.add_argument('--backend', required=True)
    ap.add_argument('--backend-header', default='wgv/backend-dawn.h')
    ap.add_argument('--wire', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--front', action='append', default=[], metavar='NAME=DESCRIPTION',
                    help='also emit wgv-guest-wire-NAME.h/.c: a guest front for another ABI')
    ap.add_argument('--print-version', action='store_true')
    args = ap.parse_args()
    load = lambda p: json.load(open(p))
    g = Gen(load(args.standard), load(args.backend), load(args.wire))
    g.be_file = os.path.basename(args.backend)
    g.be_header = args.backend_header
    if args.print_version:
        print(f'0x{g.version():08x}')
        return
    os.makedirs(args.out, exist_ok=True)
    files = {
        'wgv-wire-ids.h': g.ids_h(), 'wgv-wire-ids.c': g.ids_c(),
        'wgv-guest-wire.h': g.guest_h(g.std_side), 'wgv-guest-wire.c': g.guest_c(g.std_side),
        'wgv-host-wire.h': g.host_h(), 'wgv-host-wire.c': g.host_c(),
        'wgv-other-abi.c': g.other_abi_c(),
    }
    for front in args.front:
        name, _, path = front.partition('=')
        side = g.front_side(load(path), name)
        files[f'wgv-guest-wire-{name}.h'] = g.guest_h(side)
        files[f'wgv-guest-wire-{name}.c'] = g.guest_c(side)
    for name, text in files.items():
        path = os.path.join(args.out, name)
        old = open(path).read() if os.path.exists(path) else None
        if old != text:
            with open(path, 'w') as fh:
                fh.write(text)


if __name__ == '__main__':
    sys.exit(main())
