"""Loading and checking an API description (format: docs/api-description.md)."""

import json
import os

FORMAT_NAME = "wgv-api-description"
FORMAT_VERSION = 1

MEMBER_KINDS = {
    "u8", "u16", "u32", "i32", "u64", "i64", "f32", "f64", "usize", "bool",
    "enum", "flags", "object", "string", "struct", "struct_ptr", "array",
    "chain", "chain_head", "callback", "userdata", "callback_info", "bytes",
    "ptr_out", "future", "cstring", "native_handle", "void", "union",
}

# by-value kinds whose C type is a struct defined in the header
BY_VALUE_STRUCT_KINDS = {"struct", "callback_info", "string", "future", "chain_head"}


class DescriptionError(Exception):
    pass


class Api:
    """A loaded description plus the lookups the emitters need."""

    def __init__(self, path):
        self.path = path
        with open(path, encoding="utf-8") as f:
            self.d = json.load(f)
        d = self.d
        if d.get("format") != FORMAT_NAME or d.get("format_version") != FORMAT_VERSION:
            raise DescriptionError("%s: not a %s v%d file" % (path, FORMAT_NAME, FORMAT_VERSION))
        self.abi = d["abi"]
        self.constants = d["constants"]
        self.scalars = d["scalars"]
        self.enums = d["enums"]
        self.flags = d["flags"]
        self.objects = d["objects"]
        self.callbacks = d["callbacks"]
        self.structs = d["structs"]
        self.stypes = d["stypes"]
        self.functions = d["functions"]
        self.struct_by_name = {s["name"]: s for s in self.structs}
        self.enum_by_name = {e["name"]: e for e in self.enums}
        self.flag_by_name = {f["name"]: f for f in self.flags}
        self._check()

    def _check(self):
        for s in self.structs:
            for m in s["members"]:
                if m["kind"] not in MEMBER_KINDS:
                    raise DescriptionError("%s.%s: unknown kind %s" % (s["name"], m["name"], m["kind"]))
        for fn in self.functions:
            for a in fn["args"]:
                if a["kind"] not in MEMBER_KINDS:
                    raise DescriptionError("%s(%s): unknown kind %s" % (fn["name"], a["name"], a["kind"]))

    def in_part(self, item, part):
        """Whether an item belongs to one header of the ABI: part None is the
        main header (items without "header"), else the named one (wgpu.h)."""
        return item.get("header") == part

    def parts(self):
        """The further headers the description names ("wgpu.h"), in order."""
        seen = []
        for key in ("scalars", "enums", "flags", "callbacks", "structs", "functions"):
            for item in getattr(self, key):
                if item.get("header") and item["header"] not in seen:
                    seen.append(item["header"])
        return seen

    def stype_c(self, stype):
        """A WGPUSType value as C: a cast for one of another enum that adds
        sTypes (wgpu.h's WGPUNativeSType), which C++ does not convert."""
        if any(e["name"] == stype for e in self.enum_by_name["WGPUSType"]["entries"]):
            return "WGPUSType_%s" % stype
        return "(WGPUSType)WGPUSType_%s" % stype

    def rel_path(self):
        """The description's path relative to the repository (for banners)."""
        here = os.path.dirname(os.path.abspath(__file__))
        repo = os.path.dirname(os.path.dirname(here))
        p = os.path.relpath(os.path.abspath(self.path), repo)
        return p.replace(os.sep, "/")

    def struct_value_deps(self, s):
        deps = []
        for m in s["members"]:
            if m["kind"] == "union":
                deps += [v["type"] for v in m["variants"] if v["kind"] in BY_VALUE_STRUCT_KINDS]
            elif m["kind"] in BY_VALUE_STRUCT_KINDS:
                t = m.get("type")
                if m["kind"] == "string":
                    t = "WGPUStringView"
                elif m["kind"] == "chain_head":
                    t = "WGPUChainedStruct"
                if t and t != s["name"]:
                    deps.append(t)
        return deps

    def struct_order(self):
        """Structs ordered so every by-value member type comes first (stable)."""
        done = set()
        out = []
        visiting = set()

        def visit(name):
            if name in done:
                return
            if name in visiting:
                raise DescriptionError("struct cycle through %s" % name)
            visiting.add(name)
            for dep in self.struct_value_deps(self.struct_by_name[name]):
                visit(dep)
            visiting.discard(name)
            done.add(name)
            out.append(self.struct_by_name[name])

        for s in self.structs:
            visit(s["name"])
        return out


def enum_entry_c(enum, entry_name):
    """The C name of an enum entry: <prefix>_<name>, where the prefix is the
    enum's name unless the header spells it otherwise (wgpu.h's
    WGPUNativeSType entries are WGPUSType_*; its Force32 keeps the name)."""
    if entry_name == "Force32":
        return "%s_Force32" % enum["name"]
    return "%s_%s" % (enum.get("entry_prefix", enum["name"]), entry_name)


def proc_typedef_name(fn_name):
    """wgpuDeviceCreateBuffer -> WGPUProcDeviceCreateBuffer."""
    return "WGPUProc" + fn_name[len("wgpu"):]


def c_decl(ctype, name):
    """Declaration of `name` with C type `ctype` (no arrays or function types here)."""
    if ctype.endswith("*"):
        return "%s %s" % (ctype, name)
    return "%s %s" % (ctype, name)


def param_list(params, with_names=True, nullable_macro="WGPU_NULLABLE"):
    if not params:
        return "void"
    parts = []
    for p in params:
        ct = p["ctype"]
        if p.get("nullable") and nullable_macro:
            ct = nullable_macro + " " + ct
        parts.append(c_decl(ct, p["name"]) if with_names else ct)
    return ", ".join(parts)
