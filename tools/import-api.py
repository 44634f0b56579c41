#!/usr/bin/env python3
"""One-off importer: builds the project's API descriptions (api/*.json).

Developers run this by hand when the pinned ABIs change; the build never runs
it and never reads the reference folder.  Inputs (all facts, no prose):

  webgpu-abi-facts.txt / dawn-abi-facts.txt  C-level facts measured from the
      two headers: names, values, C types, offsets, sizes, INIT defaults.
      They decide what exists in each ABI and every C-level number.
  webgpu.json / dawn.json                    the upstream API descriptions.
      Only consulted for semantics the C facts do not carry: array lengths,
      optionality, string flavour, chain roots, default values, tags.

With --wgpu-native DIR, also wgpu-native's: DIR holds the facts that
tools/measure-abi.py measured from its headers (wgpu-native-abi-facts.txt)
and webgpu.json of the webgpu-headers revision it pins; what wgpu.h's facts
do not say comes from tools/wgpu-native-semantics.json.

Outputs (our own format, see docs/api-description.md):
  api/webgpu.json       standard webgpu.h ABI (webgpu-headers b2b04dd)
  api/dawn.json         pinned Dawn ABI (dawn 2025-06-24, libwebgpu_wrapper.so)
  api/wgpu-native.json  wgpu-native v29.0.1.1 (webgpu.h 673658b and wgpu.h)

Usage: tools/import-api.py [REFERENCE_DIR] [--out API_DIR] [--check] [--wgpu-native DIR]
Python 3 standard library only; the output is deterministic.
"""

import argparse
import json
import os
import re
import sys

FORMAT_NAME = "wgv-api-description"
FORMAT_VERSION = 1

ABIS = {
    "standard": {
        "facts": "webgpu-abi-facts.txt",
        "semantics": "webgpu.json",
        "flavour": "yml",
        "output": "webgpu.json",
        "abi": {
            "name": "standard-b2b04dd",
            "summary": "standard webgpu.h ABI that guest programs compile against",
            "source": {
                "project": "webgpu-native/webgpu-headers",
                "revision": "b2b04dd",
                "date": "2026-02-26",
            },
            "identify_by": {
                "exports": ["wgpuGetInstanceFeatures", "wgpuGetInstanceLimits"],
                "lacks": ["wgpuGetInstanceCapabilities"],
            },
        },
    },
    "dawn": {
        "facts": "dawn-abi-facts.txt",
        "semantics": "dawn.json",
        "flavour": "dawn",
        "output": "dawn.json",
        "abi": {
            "name": "dawn-2025-06-24",
            "summary": "ABI of the pinned Dawn library the host loads at run time",
            "source": {
                "project": "google/dawn",
                "revision": "df73f162050983d95e38f2404ef4e4e3c86d6be0",
                "date": "2025-06-24",
            },
            "library": {
                "file": "libwebgpu_wrapper.so",
                "package": "npm bun-webgpu-linux-x64@0.1.7",
                "sha256": "3190c3777f2c07fcf6a0640833cbf5d0cde859dc53aed6d9083946d093198788",
            },
            "identify_by": {
                "exports": ["wgpuGetInstanceCapabilities", "wgpuBufferReadMappedRange"],
                "lacks": ["wgpuGetInstanceFeatures", "wgpuTextureGetTextureBindingViewDimension"],
            },
        },
    },
}

# wgpu-native: measured from its headers with tools/measure-abi.py (the
# facts), read with the standard description of the webgpu-headers revision
# that release pins and tools/wgpu-native-semantics.json (for wgpu.h).
# Built only when --wgpu-native names the folder holding both.
ABIS["wgpu-native"] = {
    "facts": "wgpu-native-abi-facts.txt",
    "semantics": "webgpu.json",
    "flavour": "yml",
    "extra_semantics": "wgpu-native-semantics.json",
    "output": "wgpu-native.json",
    "abi": {
        "name": "wgpu-native-29.0.1.1",
        "summary": "wgpu-native's webgpu.h and wgpu.h, which programs built for wgpu-native compile against",
        "source": {
            "project": "gfx-rs/wgpu-native",
            "revision": "v29.0.1.1 (6aed50955d934ac36049ba8d002034841633ae02)",
            "headers": "webgpu-native/webgpu-headers 673658bc2bd70ec39fc55ebe6bb0173cf6d0a603",
            "date": "2026-05-07",
        },
        "library": {"file": "libwgpu_native.so"},
        "identify_by": {
            "exports": ["wgpuGetVersion", "wgpuDevicePoll", "wgpuComputePassEncoderSetImmediates"],
            "lacks": ["wgpuGetInstanceCapabilities", "wgpuDeviceTick"],
        },
    },
}

TARGET = {"arch": "x86_64", "data_model": "LP64", "pointer_size": 8}

SCALAR_KINDS = {
    "uint8_t": "u8", "uint16_t": "u16", "uint32_t": "u32", "int32_t": "i32",
    "int": "i32", "uint64_t": "u64", "int64_t": "i64", "float": "f32",
    "double": "f64", "size_t": "usize", "WGPUBool": "bool",
}
SCALAR_SIZES = {"u8": 1, "u16": 2, "u32": 4, "i32": 4, "u64": 8, "i64": 8,
                "f32": 4, "f64": 8, "usize": 8, "bool": 4}


class ImportError_(Exception):
    pass


def fail(msg):
    raise ImportError_(msg)


def norm(name):
    """Case/separator-insensitive key used to pair C names with upstream names."""
    return re.sub(r"[ _]", "", name).lower()


# --------------------------------------------------------------------------
# facts files

def parse_facts(path):
    """The facts file as lists and dicts. Items after a "file NAME" line
    (the facts of a further header, wgpu-native's wgpu.h) carry "header":
    NAME; facts["header_of"] maps their names to it."""
    facts = {
        "constants": [], "scalars": [], "enums": {}, "flags": {}, "objects": [],
        "callbacks": [], "functions": [], "structs": [], "enum_prefix": {}, "header_of": {},
    }
    cur = None
    header = None

    def origin(name):
        if header:
            facts["header_of"][name] = header

    with open(path, encoding="utf-8") as f:
        for lineno, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if not line.strip():
                continue
            where = "%s:%d" % (os.path.basename(path), lineno)
            if line.startswith("  member "):
                m = re.match(r"  member (\w+)\.(\w+) : (.+?) @(\d+) size (\d+) init (.*)$", line)
                if not m or cur is None or m.group(1) != cur["name"]:
                    fail("%s: bad member line" % where)
                cur["members"].append({
                    "name": m.group(2), "ctype_raw": m.group(3),
                    "offset": int(m.group(4)), "size": int(m.group(5)),
                    "init_raw": m.group(6).strip(),
                })
                continue
            if line.startswith("  variant "):
                m = re.match(r"  variant (\w+)\.(\w+)\.(\w+) : (.+?) @(\d+) size (\d+)$", line)
                if not m or cur is None or not cur["members"] or cur["members"][-1]["name"] != m.group(2):
                    fail("%s: bad variant line" % where)
                cur["members"][-1].setdefault("variants", []).append({
                    "name": m.group(3), "ctype_raw": m.group(4),
                    "offset": int(m.group(5)), "size": int(m.group(6))})
                continue
            word = line.split(" ", 1)[0]
            if word == "file":
                header = line.split()[1]
            elif word == "const":
                m = re.match(r"const (\w+) = (.+)$", line)
                facts["constants"].append({"name": m.group(1), "value": m.group(2).strip()})
                origin(m.group(1))
            elif word == "scalar":
                m = re.match(r"scalar (\w+) = (.+)$", line)
                facts["scalars"].append({"name": m.group(1), "ctype": m.group(2).strip()})
                origin(m.group(1))
            elif word == "enumprefix":
                m = re.match(r"enumprefix (\w+) (\w+)$", line)
                facts["enum_prefix"][m.group(1)] = m.group(2)
            elif word == "enum":
                m = re.match(r"enum (\w+) (\w+) = (0x[0-9A-Fa-f]+)$", line)
                facts["enums"].setdefault(m.group(1), []).append((m.group(2), int(m.group(3), 16)))
                origin(m.group(1))
            elif word == "flags":
                m = re.match(r"flags (\w+) : (\w+)$", line)
                facts["flags"][m.group(1)] = {"base": m.group(2), "entries": []}
                origin(m.group(1))
            elif word == "flag":
                m = re.match(r"flag (\w+) (\w+) = (0x[0-9A-Fa-f]+)$", line)
                facts["flags"][m.group(1)]["entries"].append((m.group(2), int(m.group(3), 16)))
            elif word == "object":
                facts["objects"].append(line.split()[1])
                origin(line.split()[1])
            elif word in ("callback", "function"):
                m = re.match(r"(?:callback|function) (\w+) returns (.+?) params \((.*)\)$", line)
                if not m:
                    fail("%s: bad %s line" % (where, word))
                params = []
                if m.group(3).strip():
                    for p in m.group(3).split(","):
                        pm = re.match(r"\s*(.*?)\s*(\w+)$", p)
                        params.append({"name": pm.group(2), "ctype_raw": pm.group(1)})
                facts["callbacks" if word == "callback" else "functions"].append(
                    {"name": m.group(1), "ret_raw": m.group(2).strip(), "params": params})
                origin(m.group(1))
            elif word == "struct":
                # " init MACRO" (or "-": the header has none) is measured by
                # tools/measure-abi.py; older facts files lack it
                m = re.match(r"struct (\w+) size (\d+) align (\d+)(?: init (\w+|-))?$", line)
                cur = {"name": m.group(1), "size": int(m.group(2)), "align": int(m.group(3)),
                       "members": [], "init_macro": m.group(4)}
                facts["structs"].append(cur)
                origin(m.group(1))
            else:
                fail("%s: unknown line" % where)
    return facts


def split_ctype(raw):
    """'nullable WGPUX const *' -> ('WGPUX const *', True)."""
    raw = raw.strip()
    nullable = False
    if raw.startswith("nullable "):
        nullable = True
        raw = raw[len("nullable "):]
    # canonical spacing: 'void*' -> 'void *'
    raw = re.sub(r"\s*\*", " *", raw).strip()
    raw = re.sub(r"\s+", " ", raw)
    return raw, nullable


def parse_ctype(ct):
    """Returns (base, pointer_depth, pointee_const) of a canonical C type."""
    if ct == "const char * const *":
        return "char", 2, True
    toks = ct.replace("struct ", "").split()
    depth = toks.count("*")
    base = [t for t in toks if t != "const"][0]  # wgpu.h also writes "const T *"
    const = "const" in toks
    return base, depth, const


def snake_upper(cname):
    """WGPUTexelCopyBufferLayout -> TEXEL_COPY_BUFFER_LAYOUT (from a C name)."""
    s = cname[4:]
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", s)
    return s.upper()


# --------------------------------------------------------------------------
# upstream semantics, flattened into one shape for both flavours
#
# sem = {
#   "structs":   {norm(C struct name without WGPU): {"members": {norm: info}, ...}},
#   "functions": {norm(C function name without wgpu): {"args": {...}, "ret": info, "tags"}},
#   "callbacks": {norm(C callback name without WGPU): {"args": {...}}},
#   "enums":     {norm(C enum name without WGPU): {norm(entry): {"tags": [...]}}},
# }
# info = {"array": bool, "length": norm name | int | None, "optional": bool,
#         "string": None|"default_empty"|"nullable"|"out", "pointer": None|"immutable"|"mutable",
#         "default": value or None, "owned": bool, "tags": [...]}

def words_camel(words):
    return "".join(w[:1].upper() + w[1:] for w in words)


def yml_type_info(m):
    t = m.get("type", "")
    info = {"array": False, "length": None, "optional": bool(m.get("optional")),
            "string": None, "pointer": m.get("pointer"), "default": m.get("default"),
            "owned": bool(m.get("passed_with_ownership")), "tags": []}
    if t.startswith("array<"):
        info["array"] = True
    if t == "string_with_default_empty":
        info["string"] = "default_empty"
    elif t == "nullable_string":
        info["string"] = "nullable"
    elif t == "out_string":
        info["string"] = "out"
    return info


def load_yml_semantics(path):
    d = json.load(open(path, encoding="utf-8"))
    sem = {"structs": {}, "functions": {}, "callbacks": {}, "enums": {}}

    def key(snake):
        return norm(snake)

    for s in d["structs"]:
        k = key(s["name"])
        members = {}
        for m in s.get("members", []):
            members[norm(m["name"])] = yml_type_info(m)
        out = None
        if s.get("free_members") or s["type"] == "extensible_callback_arg":
            out = "out"
        sem["structs"][k] = {
            "members": members,
            "macro": s["name"].upper(),
            "extends": [norm(e.split(".", 1)[-1]) for e in s.get("extends", []) or []],
            "direction": out,
            "free_members": bool(s.get("free_members")),
            "tags": [],
        }
    for c in d["callbacks"]:
        args = {norm(a["name"]): yml_type_info(a) for a in c.get("args", [])}
        sem["callbacks"][key(c["name"]) + "callback"] = {"args": args, "tags": []}
        sem["structs"][key(c["name"]) + "callbackinfo"] = {
            "members": {}, "extends": [], "macro": (c["name"] + "_callback_info").upper(), "direction": "in", "free_members": False, "tags": []}

    def add_fn(k, f):
        args = {norm(a["name"]): yml_type_info(a) for a in f.get("args", [])}
        ret = yml_type_info(f["returns"]) if f.get("returns") else None
        sem["functions"][k] = {"args": args, "ret": ret, "tags": []}

    for o in d["objects"]:
        for meth in o.get("methods", []):
            add_fn(key(o["name"]) + key(meth["name"]), meth)
    for f in d["functions"]:
        add_fn(key(f["name"]), f)
    for e in d["enums"]:
        sem["enums"][key(e["name"])] = {}
    return sem


def dawn_type_info(m, is_out=False):
    info = {"array": False, "length": None, "optional": bool(m.get("optional")),
            "string": None, "pointer": None, "default": m.get("default"),
            "owned": False, "tags": list(m.get("tags", []))}
    ann = m.get("annotation")
    if ann:
        info["pointer"] = "immutable" if ann.startswith("const") else "mutable"
    ln = m.get("length")
    if ln is not None:
        info["array"] = True
        info["length"] = ln if isinstance(ln, int) else norm(ln)
    if m.get("type") == "string view":
        if is_out:
            info["string"] = "out"
        elif m.get("optional"):
            info["string"] = "nullable"
        else:
            info["string"] = "default_empty"
    return info


def load_dawn_semantics(path):
    d = json.load(open(path, encoding="utf-8"))
    sem = {"structs": {}, "functions": {}, "callbacks": {}, "enums": {}}
    for name, v in d.items():
        if name.startswith("_") or not isinstance(v, dict):
            continue
        cat = v.get("category")
        k = norm(name)
        tags = list(v.get("tags", []))
        if cat in ("structure", "callback info"):
            direction = None
            if v.get("extensible") == "out" or v.get("chained") == "out" or v.get("out"):
                direction = "out"
            elif v.get("extensible") == "in" or v.get("chained") == "in" or cat == "callback info":
                direction = "in"
            members = {norm(m["name"]): dawn_type_info(m, direction == "out")
                       for m in v.get("members", [])}
            sem["structs"][k] = {
                "members": members,
                "macro": name.replace(" ", "_").upper(),
                "extends": [norm(r) for r in v.get("chain roots", [])],
                "direction": direction,
                "free_members": False,
                "tags": tags,
            }
        elif cat in ("callback function", "function pointer"):
            args = {norm(a["name"]): dawn_type_info(a, True) for a in v.get("args", [])}
            sem["callbacks"][k] = {"args": args, "tags": tags}
        elif cat == "function":
            args = {norm(a["name"]): dawn_type_info(a) for a in v.get("args", [])}
            sem["functions"][k] = {"args": args, "ret": None, "tags": tags}
        elif cat == "object":
            for meth in v.get("methods", []):
                args = {norm(a["name"]): dawn_type_info(a) for a in meth.get("args", [])}
                sem["functions"][k + norm(meth["name"])] = {
                    "args": args, "ret": None, "tags": list(meth.get("tags", []))}
        elif cat in ("enum", "bitmask"):
            sem["enums"][k] = {norm(e["name"]): {"tags": list(e.get("tags", []))}
                               for e in v.get("values", [])}
    return sem


def add_extra_semantics(sem, path):
    """Merges a project-made semantics file (tools/wgpu-native-semantics.json)
    into upstream semantics: enum extensions, chain roots, argument facts."""
    d = json.load(open(path, encoding="utf-8"))
    sem["enum_extends"] = dict(d.get("enum_extends", {}))
    for cname, roots in d.get("chain_roots", {}).items():
        st = sem["structs"].setdefault(norm(cname[4:]), {
            "members": {}, "macro": None, "extends": [], "direction": None,
            "free_members": False, "tags": []})
        st["extends"] = [norm(r[4:]) for r in roots]
    for fname, args in d.get("args", {}).items():
        fn = sem["functions"].setdefault(norm(fname[4:]), {"args": {}, "ret": None, "tags": []})
        for aname, a in args.items():
            info = {"array": False, "length": None, "optional": False, "string": None,
                    "pointer": None, "default": None, "owned": False, "tags": []}
            info.update(a)
            fn["args"][norm(aname)] = info
    return sem


# --------------------------------------------------------------------------
# building one description

class Builder:
    def __init__(self, facts, sem, flavour, log):
        self.f = facts
        self.sem = sem
        self.flavour = flavour
        self.log = log
        self.enum_names = set(facts["enums"])
        self.flag_names = set(facts["flags"])
        self.object_names = set(facts["objects"])
        self.callback_names = set(c["name"] for c in facts["callbacks"]) | {"WGPUProc"}
        # scalar typedefs besides WGPUFlags and WGPUBool (wgpu.h's
        # WGPUSubmissionIndex): their kind is their C type's
        self.scalar_types = {s["name"]: SCALAR_KINDS[s["ctype"]] for s in facts["scalars"]
                             if s["name"] not in SCALAR_KINDS and s["ctype"] in SCALAR_KINDS}
        self.struct_by_name = {s["name"]: s for s in facts["structs"]}
        self.cbinfo_names = set(
            s["name"] for s in facts["structs"]
            if any(m["name"] == "callback" for m in s["members"]) and s["name"].endswith("CallbackInfo"))
        self.constant_names = [c["name"] for c in facts["constants"]]
        self.unmatched = []

    # -- semantic lookups --------------------------------------------------
    def sem_struct(self, cname):
        return self.sem["structs"].get(norm(cname[4:]))

    def sem_member(self, sname, mname):
        s = self.sem_struct(sname)
        if s is None:
            return None
        return s["members"].get(norm(mname))

    # -- kinds ---------------------------------------------------------------
    def classify(self, name, ctype, nullable, info, siblings, index, ctx):
        """Kind record for one member/param/return.

        siblings: list of (name, ctype) of the same struct/param list, used to
        find the count of arrays and the size of byte buffers.
        ctx: "member", "param", "callback_param", "return".
        """
        info = info or {}
        base, depth, pconst = parse_ctype(ctype)
        rec = {}
        optional = bool(nullable or info.get("optional"))

        def sibling_named(cands):
            for sname, _ in siblings:
                if sname in cands:
                    return sname
            return None

        def find_count():
            ln = info.get("length")
            if isinstance(ln, int) or ln == "return":
                return ln
            if isinstance(ln, str):
                for sname, _ in siblings:
                    if norm(sname) == ln:
                        return sname
                fail("length %s of %s not found" % (ln, name))
            if index > 0:
                prev, pct = siblings[index - 1]
                pbase = parse_ctype(split_ctype(pct)[0])
                if pbase[1] == 0 and pbase[0] in ("size_t", "uint32_t"):
                    for suffix in ("Count", "Size"):
                        if prev.endswith(suffix):
                            stem = prev[: -len(suffix)]
                            if len(stem) >= 3 and name.startswith(stem[:-1]):
                                return prev
            if index + 1 < len(siblings):
                # wgpu.h puts some counts after their array (buffers, bufferCount)
                nxt, nct = siblings[index + 1]
                nbase = parse_ctype(split_ctype(nct)[0])
                if nbase[1] == 0 and nbase[0] == "size_t" and nxt.endswith("Count"):
                    stem = nxt[:-len("Count")]
                    if len(stem) >= 3 and name.startswith(stem[:-1]) and name != nxt:
                        return nxt
            return None

        if depth == 0:
            if base == "void":
                return {"kind": "void"}
            if base in SCALAR_KINDS:
                rec["kind"] = SCALAR_KINDS[base]
            elif base in self.scalar_types:
                rec["kind"] = self.scalar_types[base]
            elif base in self.enum_names:
                rec.update(kind="enum", type=base)
            elif base in self.flag_names:
                rec.update(kind="flags", type=base)
            elif base in self.object_names:
                rec.update(kind="object", type=base, optional=optional)
            elif base == "WGPUStringView":
                mode = info.get("string")
                if mode is None:
                    mode = "out" if ctx in ("callback_param",) else "default_empty"
                rec.update(kind="string", string=mode)
            elif base == "WGPUFuture":
                rec.update(kind="future", type=base)
            elif base in self.callback_names:
                rec.update(kind="callback", type=base)
            elif base == "WGPUChainedStruct":
                rec.update(kind="chain_head")
            elif base in self.cbinfo_names:
                rec.update(kind="callback_info", type=base)
            elif base in self.struct_by_name:
                rec.update(kind="struct", type=base)
            else:
                fail("unknown by-value type %s (%s)" % (base, name))
            return rec

        # pointers
        if base == "WGPUChainedStruct":
            return {"kind": "chain"}
        if base == "char" and depth == 1:
            return {"kind": "cstring", "optional": optional}
        if base == "void":
            if name.startswith("userdata") or name.endswith("Userdata") or name == "userdata":
                return {"kind": "userdata"}
            size = None
            ln = info.get("length")
            if isinstance(ln, str):
                size = find_count()
            elif ctx == "return":
                size = sibling_named(["size"])
            else:
                size = sibling_named([name + "Size"] + (["size"] if name == "data" else []))
            if size is not None:
                return {"kind": "bytes", "size": size, "const": pconst, "optional": optional}
            # a platform pointer (window, fence handle, ...) that cannot
            # cross a process boundary
            return {"kind": "native_handle", "const": pconst}
        if base == "uint8_t" and info.get("length"):
            return {"kind": "bytes", "size": find_count(), "const": pconst, "optional": optional}

        count = find_count()
        is_array = info.get("array") or count is not None
        if base == "char" and depth == 2:
            elem = {"kind": "cstring"}
        elif base in SCALAR_KINDS or base in self.scalar_types:
            elem = {"kind": SCALAR_KINDS.get(base) or self.scalar_types[base]}
            if not is_array:
                # a pointer to one optional number (wgpu.h: a submission
                # index, a budget): an array of one, like the device below
                count = 1
                is_array = True
        elif base in self.enum_names:
            elem = {"kind": "enum", "type": base}
        elif base in self.flag_names:
            elem = {"kind": "flags", "type": base}
        elif base in self.object_names:
            elem = {"kind": "object", "type": base}
            if not is_array:
                # a pointer to one handle (device in the lost/error callbacks)
                count = 1
                is_array = True
        elif base in self.struct_by_name:
            elem = {"kind": "struct", "type": base}
            # A struct pointer is an array only where the description says
            # so: a size parameter in front of it (writeTexture's dataSize
            # before dataLayout) counts something else.
            if (not info.get("array") and not isinstance(info.get("length"), (str, int))
                    and not (isinstance(count, str) and count.endswith("Count"))):
                is_array = False
        else:
            fail("unknown pointee %s (%s)" % (base, name))
        if is_array:
            if count is None:
                fail("array %s has no count" % name)
            return {"kind": "array", "elem": elem, "count": count, "const": pconst,
                    "optional": optional}
        if elem["kind"] != "struct":
            fail("pointer to one %s (%s) not supported" % (base, name))
        if ctx == "param" and not pconst:
            return {"kind": "ptr_out", "type": base}
        return {"kind": "struct_ptr", "type": base, "const": pconst, "optional": optional}

    # -- INIT defaults -------------------------------------------------------
    def enum_entry(self, etype, want):
        for ename, _ in self.f["enums"].get(etype, []) + self.f["flags"].get(etype, {}).get("entries", []):
            if norm(ename) == norm(want):
                return "%s_%s" % (etype, ename)
        return None

    def convert_default(self, value, rec, ctype):
        """Upstream default value -> C expression, or None."""
        if value is None:
            return None
        k = rec["kind"]
        if isinstance(value, str) and value.startswith("constant."):
            value = value[len("constant."):]
        if value == "zero":
            return "zero"
        if isinstance(value, bool) or value in ("true", "false"):
            return "WGPU_TRUE" if value in (True, "true") else "WGPU_FALSE"
        if value == "nullptr":
            return "NULL"
        if isinstance(value, (int, float)) or re.match(r"^-?[0-9]", str(value)):
            s = str(value)
            if k == "f32":
                return s if s.endswith("f") else s + ("" if "." in s else ".") + "f"
            if k == "f64":
                return s + ("" if "." in s else ".")
            return s
        for c in self.constant_names:
            if norm(c[5:]) == norm(str(value)):
                return c
        if k in ("enum", "flags"):
            e = self.enum_entry(rec["type"], str(value))
            if e:
                return e
        return None

    def derive_init(self, rec, info):
        """The default the header uses when the facts file gives none.

        Same rules the facts show for the members they do give: an enum with
        an Undefined entry starts there whatever its upstream default, other
        members take the upstream default, else a zero of their type.
        """
        k = rec["kind"]
        if k == "enum":
            e = self.enum_entry(rec["type"], "Undefined")
            if e:
                return e
        conv = self.convert_default((info or {}).get("default"), rec, None)
        if conv is not None:
            return conv
        if k in SCALAR_SIZES:
            if k == "bool":
                return "WGPU_FALSE"
            if k == "f32":
                return "0.f"
            if k == "f64":
                return "0."
            return "0"
        if k in ("object", "struct_ptr", "array", "chain", "callback", "userdata",
                 "native_handle", "bytes", "cstring", "ptr_out"):
            return "NULL"
        if k == "enum":
            e = self.enum_entry(rec["type"], "Undefined")
            return e or "zero"
        if k == "flags":
            return self.enum_entry(rec["type"], "None") or "0"
        if k == "string":
            return "WGPU_STRING_VIEW_INIT"
        if k in ("struct", "callback_info"):
            return self.init_macro(rec["type"])
        if k == "future":
            return "WGPU_FUTURE_INIT"
        if k == "chain_head":
            return "chain"
        fail("no default rule for kind %s" % k)

    def normalize_init(self, raw):
        if raw == "-" or raw.startswith("_wgpu_MAKE_INIT_STRUCT"):
            return None  # the facts extractor could not read this one
        if raw.startswith("_wgpu_ENUM_ZERO_INIT(") or raw == "_wgpu_STRUCT_ZERO_INIT":
            return "zero"
        return raw

    def init_macro(self, cname):
        """WGPU_<WORDS>_INIT, word breaks taken from the upstream name."""
        sem = self.sem_struct(cname)
        if sem and sem.get("macro"):
            return "WGPU_%s_INIT" % sem["macro"]
        return "WGPU_%s_INIT" % snake_upper(cname)

    # -- top-level pieces ---------------------------------------------------
    def build_structs(self):
        out = []
        for s in self.f["structs"]:
            name = s["name"]
            sem = self.sem_struct(name)
            if sem is None and name not in ("WGPUStringView", "WGPUChainedStruct"):
                self.unmatched.append("struct " + name)
            mem_names = [(m["name"], m["ctype_raw"]) for m in s["members"]]
            members = []
            # a struct the header gives no INIT macro (wgpu.h's, measured by
            # tools/measure-abi.py) gets none, nor member defaults
            has_init = s.get("init_macro") != "-"
            for i, m in enumerate(s["members"]):
                ctype, nullable = split_ctype(m["ctype_raw"])
                info = self.sem_member(name, m["name"])
                rec = {"name": m["name"], "ctype": ctype}
                if nullable:
                    rec["nullable"] = True
                rec.update(offset=m["offset"], size=m["size"])
                if "variants" in m:
                    rec.update(self.union_record(m, name))
                    members.append(rec)
                    continue
                k = self.classify(m["name"], ctype, nullable, info, mem_names, i, "member")
                if name == "WGPUStringView" and m["name"] == "data":
                    k = {"kind": "cstring", "optional": True}
                if not has_init:
                    rec.update(k)
                    members.append(rec)
                    continue
                init = self.normalize_init(m["init_raw"])
                derived = init is None
                if derived:
                    init = self.derive_init(k, info)
                else:
                    self.check_init_rule(name, m["name"], k, info, init)
                rec["init"] = init
                if derived:
                    rec["init_derived"] = True
                rec.update(k)
                if info is None and sem is not None and name not in self.cbinfo_names and k["kind"] not in (
                        "chain", "chain_head", "userdata") and not any(
                        x["name"] != m["name"] and self.is_length_name(x, m["name"]) for x in s["members"]):
                    self.unmatched.append("member %s.%s" % (name, m["name"]))
                if info and info.get("tags"):
                    rec["tags"] = info["tags"]
                members.append(rec)
            # mark counts and sizes
            for rec in members:
                tgt = rec.get("count") if rec["kind"] == "array" else rec.get("size") if rec["kind"] == "bytes" else None
                if isinstance(tgt, str):
                    for other in members:
                        if other["name"] == tgt:
                            other["length_of"] = rec["name"]
            first = members[0]["kind"] if members else None
            if name in self.cbinfo_names:
                kind = "callback_info"
            elif first == "chain_head":
                kind = "chained"
            elif first == "chain" and name != "WGPUChainedStruct":
                kind = "extensible"
            else:
                kind = "standalone"
            rec = {"name": name, "kind": kind, "size": s["size"], "align": s["align"]}
            if has_init:
                rec["init_macro"] = s.get("init_macro") or self.init_macro(name)
            if name in self.f["header_of"]:
                rec["header"] = self.f["header_of"][name]
            if kind == "chained":
                rec["stype"] = name[4:]
                rec["extends"] = []
                if sem:
                    for e in sem["extends"]:
                        cand = [x for x in self.struct_by_name if norm(x[4:]) == e]
                        if cand:
                            rec["extends"].append(cand[0])
            if kind == "callback_info":
                cb = [m for m in members if m["name"] == "callback"][0]
                rec["callback"] = cb["type"]
                rec["has_mode"] = any(m["name"] == "mode" for m in members)
            if sem and sem.get("tags"):
                rec["tags"] = sem["tags"]
            rec["members"] = members
            out.append(rec)
        return out

    def with_header(self, name, rec):
        """rec, marked with the header file that declares `name` when that
        is not the ABI's first (wgpu.h)."""
        h = self.f["header_of"].get(name)
        if h:
            rec = dict(rec)
            rec["header"] = h
        return rec

    def union_record(self, m, sname):
        """A member that is a C union (wgpu.h's WGPUNativeDisplayHandle.data):
        each variant is a value record at an offset inside it."""
        variants = []
        names = [(v["name"], v["ctype_raw"]) for v in m["variants"]]
        for i, v in enumerate(m["variants"]):
            ctype, nullable = split_ctype(v["ctype_raw"])
            vr = {"name": v["name"], "ctype": ctype, "offset": v["offset"], "size": v["size"]}
            vr.update(self.classify(v["name"], ctype, nullable, None, names, i, "member"))
            variants.append(vr)
        return {"kind": "union", "variants": variants}

    @staticmethod
    def is_length_name(_other, mname):
        return mname.endswith("Count") or mname.endswith("Size")

    def check_init_rule(self, sname, mname, k, info, init):
        if re.match(r"^WGPU_\w+_INIT$", init):
            if k["kind"] == "string":
                want = self.init_macro("WGPUStringView")
            else:
                want = self.init_macro(k.get("type") or "?")
            if want != init:
                fail("%s.%s: facts INIT %s but the member's struct macro is %s" % (sname, mname, init, want))
        """Compare a facts INIT with what derive_init would say (diagnostic only)."""
        guess = self.derive_init(k, info)
        if guess != init:
            self.log.append("init rule differs: %s.%s facts=%s rule=%s" % (sname, mname, init, guess))

    def build_params(self, params, info_args, ctx, receiver=None):
        names = [(p["name"], p["ctype_raw"]) for p in params]
        out = []
        for i, p in enumerate(params):
            ctype, nullable = split_ctype(p["ctype_raw"])
            info = info_args.get(norm(p["name"])) if info_args else None
            rec = {"name": p["name"], "ctype": ctype}
            if nullable:
                rec["nullable"] = True
            if receiver and i == 0:
                rec["receiver"] = True
            rec.update(self.classify(p["name"], ctype, nullable, info, names, i, ctx))
            if info is None and not (receiver and i == 0) and rec["kind"] not in ("callback_info", "userdata"):
                self.unmatched.append("%s param %s" % (ctx, p["name"]))
            out.append(rec)
        for rec in out:
            tgt = rec.get("count") if rec["kind"] == "array" else rec.get("size") if rec["kind"] == "bytes" else None
            if isinstance(tgt, str):
                for other in out:
                    if other["name"] == tgt:
                        other["length_of"] = rec["name"]
        return out

    def build_callbacks(self):
        out = [{"name": "WGPUProc", "ret": {"ctype": "void", "kind": "void"}, "params": [],
                "style": "proc"}]
        for c in self.f["callbacks"]:
            sem = self.sem["callbacks"].get(norm(c["name"][4:]))
            if sem is None:
                self.unmatched.append("callback " + c["name"])
            params = self.build_params(c["params"], sem and sem["args"], "callback_param")
            ret_ct, ret_null = split_ctype(c["ret_raw"])
            ret = {"ctype": ret_ct}
            ret.update(self.classify("return", ret_ct, ret_null, None, [], 0, "return"))
            style = "info" if [p["name"] for p in params][-2:] == ["userdata1", "userdata2"] else "plain"
            rec = {"name": c["name"], "ret": ret, "style": style, "params": params}
            if sem and sem.get("tags"):
                rec["tags"] = sem["tags"]
            out.append(rec)
        return out

    def build_functions(self, structs):
        objects_sorted = sorted(self.object_names, key=len, reverse=True)
        struct_names = {s["name"] for s in structs}
        out = []
        for fn in self.f["functions"]:
            name = fn["name"]
            short = name[4:]
            params = fn["params"]
            obj = None
            if params:
                first_ct, _ = split_ctype(params[0]["ctype_raw"])
                if first_ct in self.object_names and short.startswith(first_ct[4:]):
                    obj = first_ct
            sem = self.sem["functions"].get(norm(short))
            role = None
            if short.endswith("FreeMembers") and "WGPU" + short[:-len("FreeMembers")] in struct_names:
                role = "free_members"
            elif obj and short == obj[4:] + "AddRef":
                role = "add_ref"
            elif obj and short == obj[4:] + "Release":
                role = "release"
            if sem is None and role is None:
                self.unmatched.append("function " + name)
            args = self.build_params(params, sem and sem["args"], "param", receiver=obj)
            ret_ct, ret_null = split_ctype(fn["ret_raw"])
            ret = {"ctype": ret_ct}
            ret.update(self.classify("return", ret_ct, ret_null, None,
                                     [(p["name"], p["ctype_raw"]) for p in params], 0, "return"))
            if ret["kind"] == "object":
                ret["optional"] = bool(ret_null or (sem and sem.get("ret") and sem["ret"].get("optional")))
                ret["owned"] = True  # every returned handle carries a reference
            if ret_null:
                ret["nullable"] = True
            rec = {"name": name, "object": obj,
                   "method": short[len(obj) - 4:] if obj else None, "ret": ret}
            if role:
                rec["role"] = role
                if role == "free_members":
                    rec["struct"] = "WGPU" + short[:-len("FreeMembers")]
            cbi = [a for a in args if a["kind"] == "callback_info"]
            if cbi:
                cbs = [s for s in structs if s["name"] == cbi[0]["type"]][0]
                rec["callback_info"] = {"param": cbi[0]["name"], "type": cbi[0]["type"],
                                        "callback": cbs["callback"]}
            if sem and sem.get("tags"):
                rec["tags"] = sem["tags"]
            rec["args"] = args
            out.append(rec)
        return out

    def directions(self, structs, functions, callbacks):
        """in / out / inout per struct, from how the API uses it."""
        by = {s["name"]: s for s in structs}
        seen = {s["name"]: set() for s in structs}

        def mark(sname, d):
            if sname not in seen or d in seen[sname]:
                return
            seen[sname].add(d)
            for m in by[sname]["members"]:
                t = m.get("type") or (m.get("elem") or {}).get("type")
                if t in by:
                    mark(t, d)

        for fn in functions:
            if fn.get("role") == "free_members":
                continue
            for a in fn["args"]:
                t = a.get("type") or (a.get("elem") or {}).get("type")
                if t not in by:
                    continue
                if a["kind"] == "ptr_out":
                    mark(t, "out")
                elif a["kind"] == "array" and not a["const"]:
                    mark(t, "in")
                    mark(t, "out")
                else:
                    mark(t, "in")
        for cb in callbacks:
            for p in cb["params"]:
                t = p.get("type")
                if t in by and p["kind"] in ("struct_ptr", "struct"):
                    mark(t, "out")
        # chained structs follow their roots unless upstream says otherwise
        changed = True
        while changed:
            changed = False
            for s in structs:
                if s["kind"] != "chained":
                    continue
                for r in s.get("extends", []):
                    for d in list(seen.get(r, ())):
                        if d not in seen[s["name"]]:
                            mark(s["name"], d)
                            changed = True
        for s in structs:
            sem = self.sem_struct(s["name"])
            hint = sem and sem.get("direction")
            d = seen[s["name"]]
            if s["kind"] == "callback_info":
                d = {"in"}
            if not d:
                # not reachable from any function: trust upstream, else input
                d = {hint or "in"}
            elif hint and hint not in d and s["kind"] != "callback_info":
                self.log.append("direction: %s upstream says %s, usage says %s (usage kept)" % (
                    s["name"], hint, "/".join(sorted(d))))
            s["direction"] = "inout" if d == {"in", "out"} else d.pop()

    def build(self, abi_header):
        f = self.f
        desc = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION}
        abi = dict(abi_header)
        abi["target"] = TARGET
        desc["abi"] = abi
        desc["constants"] = []
        for c in f["constants"]:
            v = c["value"]
            ctype = {"UINT32_MAX": "uint32_t", "UINT64_MAX": "uint64_t",
                     "SIZE_MAX": "size_t", "NAN": "float"}.get(v)
            if ctype is None:
                fail("constant value %s" % v)
            desc["constants"].append({"name": c["name"], "ctype": ctype, "value": v})
        desc["scalars"] = []
        for s in f["scalars"]:
            desc["scalars"].append(self.with_header(s["name"], {
                "name": s["name"], "ctype": s["ctype"], "kind": SCALAR_KINDS.get(s["ctype"], s["ctype"]),
                "size": SCALAR_SIZES[SCALAR_KINDS[s["ctype"]]]}))
        desc["enums"] = []
        extends = self.sem.get("enum_extends", {})
        for name, entries in f["enums"].items():
            force = [v for n, v in entries if n == "Force32"]
            if force not in ([0x7FFFFFFF], []):
                fail("enum %s with Force32 %s" % (name, force))
            rec = {"name": name, "bits": 32, "force32": bool(force)}
            if name in f["enum_prefix"]:
                rec["entry_prefix"] = f["enum_prefix"][name]
            if name in extends:
                if extends[name] not in f["enums"]:
                    fail("enum %s extends %s, which this ABI lacks" % (name, extends[name]))
                rec["extends"] = extends[name]
            rec["entries"] = [{"name": n, "value": v} for n, v in entries if n != "Force32"]
            desc["enums"].append(self.with_header(name, rec))
        desc["flags"] = []
        for name, fl in f["flags"].items():
            desc["flags"].append(self.with_header(name, {
                "name": name, "base": fl["base"], "bits": 64,
                "entries": [{"name": n, "value": v} for n, v in fl["entries"]]}))
        structs = self.build_structs()
        callbacks = self.build_callbacks()
        functions = self.build_functions(structs)
        self.directions(structs, functions, callbacks)
        for s in structs:
            fm = [fn["name"] for fn in functions if fn.get("role") == "free_members" and fn["struct"] == s["name"]]
            if fm:
                s["free_members"] = fm[0]
        # objects with their methods
        desc["objects"] = []
        for o in f["objects"]:
            desc["objects"].append({"name": o, "methods": [fn["name"] for fn in functions if fn["object"] == o]})
        desc["callbacks"] = [self.with_header(c["name"], c) for c in callbacks]
        # re-order struct keys for readability
        desc["structs"] = [reorder(s, ["name", "kind", "direction", "size", "align", "init_macro", "header",
                                       "stype", "stype_value", "extends", "callback", "has_mode",
                                       "free_members", "tags", "members"]) for s in structs]
        # sTypes: WGPUSType's entries and those of enums spelled WGPUSType_*
        # (wgpu.h's WGPUNativeSType)
        stype_entries = list(f["enums"]["WGPUSType"])
        for en, prefix in f["enum_prefix"].items():
            if prefix == "WGPUSType":
                stype_entries += f["enums"][en]
        chained = {s["name"]: s for s in desc["structs"] if s["kind"] == "chained"}
        desc["stypes"] = []
        for n, v in stype_entries:
            if n == "Force32":
                continue
            sname = "WGPU" + n
            desc["stypes"].append({"name": n, "value": v, "struct": sname if sname in chained else None})
            if sname in chained:
                chained[sname]["stype_value"] = v
        for s in chained.values():
            if "stype_value" not in s:
                fail("chained struct %s has no sType" % s["name"])
        desc["structs"] = [reorder(s, ["name", "kind", "direction", "size", "align", "init_macro", "header",
                                       "stype", "stype_value", "extends", "callback", "has_mode",
                                       "free_members", "tags", "members"]) for s in desc["structs"]]
        desc["functions"] = [self.with_header(fn["name"], fn) for fn in functions]
        # identify_by must agree with the facts
        fnames = {fn["name"] for fn in functions}
        for n in abi["identify_by"]["exports"]:
            if n not in fnames:
                fail("identify_by export %s not in this ABI" % n)
        for n in abi["identify_by"]["lacks"]:
            if n in fnames:
                fail("identify_by lacks %s but this ABI has it" % n)
        desc["counts"] = {
            "constants": len(desc["constants"]), "enums": len(desc["enums"]),
            "flags": len(desc["flags"]), "objects": len(desc["objects"]),
            "callbacks": len(desc["callbacks"]), "structs": len(desc["structs"]),
            "stypes": len(desc["stypes"]), "functions": len(desc["functions"]),
        }
        return desc


def reorder(d, order):
    out = {k: d[k] for k in order if k in d}
    for k in d:
        if k not in out:
            out[k] = d[k]
    return out


# --------------------------------------------------------------------------
# output

def dump(obj, indent=0, width=110):
    """Deterministic JSON: small values on one line, big ones one item per line."""
    flat = json.dumps(obj, separators=(", ", ": "))
    if len(flat) + indent <= width or not isinstance(obj, (dict, list)) or not obj:
        return flat
    pad = " " * (indent + 1)
    if isinstance(obj, list):
        items = [pad + dump(x, indent + 1, width) for x in obj]
        return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"
    items = [pad + json.dumps(k) + ": " + dump(v, indent + 1, width) for k, v in obj.items()]
    return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(here)
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("reference", nargs="?",
                    default=os.path.join(repo, "..", "shared", "reference"),
                    help="folder with the facts files and upstream descriptions")
    ap.add_argument("--out", default=os.path.join(repo, "api"), help="where to write the descriptions")
    ap.add_argument("--check", action="store_true",
                    help="do not write; fail if the committed descriptions differ")
    ap.add_argument("-v", "--verbose", action="store_true", help="print diagnostics")
    ap.add_argument("--wgpu-native", metavar="DIR",
                    help="also build api/wgpu-native.json from DIR's wgpu-native-abi-facts.txt "
                         "(tools/measure-abi.py) and webgpu.json (webgpu-headers at the pinned revision)")
    args = ap.parse_args(argv)

    status = 0
    keys = ["standard", "dawn"] + (["wgpu-native"] if args.wgpu_native else [])
    for key in keys:
        spec = ABIS[key]
        ref = args.wgpu_native if key == "wgpu-native" else args.reference
        facts = parse_facts(os.path.join(ref, spec["facts"]))
        semp = os.path.join(ref, spec["semantics"])
        sem = load_yml_semantics(semp) if spec["flavour"] == "yml" else load_dawn_semantics(semp)
        if spec.get("extra_semantics"):
            sem = add_extra_semantics(sem, os.path.join(here, spec["extra_semantics"]))
        log = []
        b = Builder(facts, sem, spec["flavour"], log)
        desc = b.build(spec["abi"])
        text = dump(desc) + "\n"
        path = os.path.join(args.out, spec["output"])
        if args.verbose:
            for line in log:
                print("%s: %s" % (key, line))
            for u in b.unmatched:
                print("%s: no upstream semantics for %s" % (key, u))
        if args.check:
            old = open(path, encoding="utf-8").read() if os.path.exists(path) else ""
            if old != text:
                print("import-api: %s is out of date" % path)
                status = 1
            continue
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        print("import-api: wrote %s (%s)" % (path, ", ".join(
            "%d %s" % (v, k) for k, v in desc["counts"].items())))
    return status


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except ImportError_ as e:
        print("import-api: error: %s" % e, file=sys.stderr)
        sys.exit(1)
