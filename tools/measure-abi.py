#!/usr/bin/env python3
"""Measures the C facts of a webgpu.h-style ABI with the compiler.

    tools/measure-abi.py HEADER [-o FACTS] [--cc CC]

HEADER is the header a program includes (for wgpu-native, its wgpu.h, which
includes webgpu.h from the same folder). Every declaration of every header
file in HEADER's folder is measured; system headers are not. The output is
a facts file in the form tools/import-api.py reads (docs/api-description.md):
names and C types as the headers declare them, and every number (enum and
flag values, sizes, alignments, offsets) as the compiler computes it, by
building and running a generated C program. A "file NAME" line starts the
facts of each header file after the first.

A developer runs this by hand on headers fetched outside the repository;
the build never runs it. Python 3 standard library and a C compiler.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

NULLABLE = "__wgv_nullable__"
CONSTANT_VALUES = {"UINT32_MAX", "UINT64_MAX", "SIZE_MAX", "NAN"}
SCALAR_BASES = {"uint8_t", "uint16_t", "uint32_t", "int32_t", "uint64_t", "int64_t",
                "float", "double", "size_t", "int"}
TOKEN = re.compile(r'\s*(?:([A-Za-z_]\w*)|(\.?\d(?:[\w.]|[eEpP][+-])*)|("(?:\\.|[^"\\])*")|(\S))')


class MeasureError(Exception):
    pass


def tokenize(text):
    out = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m:
            break
        out.append(m.group(m.lastindex))
        pos = m.end()
    return out


def render(tokens):
    """Tokens as C text: a space only between two words."""
    s = ""
    for t in tokens:
        if s and (s[-1].isalnum() or s[-1] == "_") and (t[0].isalnum() or t[0] == "_"):
            s += " "
        s += t
    return s


def ctype_text(tokens):
    """A declared type as the facts file spells it ('nullable T const *')."""
    toks = list(tokens)
    nullable = NULLABLE in toks
    toks = [t for t in toks if t != NULLABLE]
    return ("nullable " if nullable else "") + " ".join(toks)


def split_top(tokens, sep):
    """Splits a token list at `sep` outside (), {} and []."""
    parts, cur, depth = [], [], 0
    for t in tokens:
        if t in "({[":
            depth += 1
        elif t in ")}]":
            depth -= 1
        if t == sep and depth == 0:
            parts.append(cur)
            cur = []
        else:
            cur.append(t)
    if cur:
        parts.append(cur)
    return parts


def matching(tokens, i):
    """Index of the bracket closing the one at tokens[i]."""
    pairs = {"(": ")", "{": "}", "[": "]"}
    depth = 0
    for j in range(i, len(tokens)):
        if tokens[j] in pairs:
            depth += 1
        elif tokens[j] in pairs.values():
            depth -= 1
            if depth == 0:
                return j
    raise MeasureError("unbalanced %s" % tokens[i])


def params_of(tokens):
    if tokens == ["void"] or not tokens:
        return []
    out = []
    for p in split_top(tokens, ","):
        out.append({"name": p[-1], "ctype": ctype_text(p[:-1])})
    return out


# --------------------------------------------------------------------------
# reading the headers through the preprocessor

def preprocess(header, cc):
    cmd = [cc, "-E", "-dD", "-D" + "WGPU_NULLABLE=" + NULLABLE, "-x", "c", header]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode:
        raise MeasureError("%s failed:\n%s" % (" ".join(cmd), p.stderr))
    return p.stdout


def split_files(text, folder):
    """{basename: (code text, {macro: body})} for the headers in `folder`,
    in the order the preprocessor first enters them."""
    files = {}
    current = None
    marker = re.compile(r'^# \d+ "([^"]+)"')
    for line in text.splitlines():
        m = marker.match(line)
        if m:
            path = m.group(1)
            if path.startswith("<"):
                current = None
                continue
            full = os.path.abspath(os.path.join(folder, path)) if not os.path.isabs(path) else path
            current = os.path.basename(full) if os.path.dirname(full) == folder else None
            if current and current not in files:
                files[current] = ([], {})
            continue
        if current is None:
            continue
        code, macros = files[current]
        if line.startswith("#define "):
            dm = re.match(r"#define (\w+)(\([^)]*\))? ?(.*)$", line)
            if dm and not dm.group(2):
                macros[dm.group(1)] = dm.group(3)
        elif line.startswith("#"):
            continue
        else:
            code.append(line)
    return {k: ("\n".join(v[0]), v[1]) for k, v in files.items()}


class Header:
    """The declarations of one header file, in declaration order."""

    def __init__(self, name, code, macros):
        self.name = name
        self.macros = macros
        self.constants, self.scalars, self.enums, self.flags = [], [], [], []
        self.objects, self.callbacks, self.functions, self.structs = [], [], [], []
        self.flag_types = set()
        for decl in split_top(tokenize(code), ";"):
            if decl:
                self.declaration(decl)
        for name, body in macros.items():
            if name.startswith("WGPU_") and body.startswith("(") and body.endswith(")") \
                    and body[1:-1] in CONSTANT_VALUES:
                self.constants.append((name, body[1:-1]))

    def declaration(self, t):
        if t[0] == "typedef" and t[1] == "enum":
            body = t[t.index("{") + 1:matching(t, t.index("{"))]
            name = t[matching(t, t.index("{")) + 1]
            entries = [e[0] for e in split_top(body, ",") if e]
            self.enums.append({"name": name, "entries": entries})
        elif t[0] == "typedef" and t[1] == "struct" and "{" in t:
            close = matching(t, t.index("{"))
            self.struct(t[close + 1], t[t.index("{") + 1:close])
        elif t[0] == "struct" and "{" in t:
            close = matching(t, t.index("{"))
            self.struct(t[1], t[t.index("{") + 1:close])
        elif t[0] == "typedef" and t[1] == "struct" and len(t) == 5 and t[3] == "*":
            self.objects.append(t[4])
        elif (t[0] == "typedef" and t[1] == "struct" and len(t) == 4) or (t[0] == "struct" and len(t) == 2):
            pass  # a forward declaration
        elif t[0] == "typedef" and "(" in t and t[t.index("(") + 1] == "*":
            op = t.index("(")
            name = t[op + 2]
            args = t[op + 5:matching(t, op + 4)]
            if not name.startswith("WGPUProc"):
                self.callbacks.append({"name": name, "ret": ctype_text(t[1:op]),
                                       "params": params_of(args)})
        elif t[0] == "typedef" and len(t) == 3:
            if t[1] == "WGPUFlags":
                self.flags.append({"name": t[2], "base": t[1], "entries": []})
                self.flag_types.add(t[2])
            elif t[1] in SCALAR_BASES:
                self.scalars.append((t[2], t[1]))
            else:
                raise MeasureError("%s: typedef %s" % (self.name, render(t)))
        elif t[0] == "static" and t[1] == "const":
            fl = next((f for f in self.flags if f["name"] == t[2]), None)
            if not fl or not t[3].startswith(t[2] + "_"):
                raise MeasureError("%s: constant %s" % (self.name, render(t)))
            fl["entries"].append(t[3][len(t[2]) + 1:])
        elif "(" in t:
            op = t.index("(")
            args = t[op + 1:matching(t, op)]
            self.functions.append({"name": t[op - 1], "ret": ctype_text(t[:op - 1]),
                                   "params": params_of(args)})
        else:
            raise MeasureError("%s: cannot read %s" % (self.name, render(t)))

    def struct(self, name, body):
        members = []
        for m in split_top(body, ";"):
            if m[0] == "union":
                close = matching(m, 1)
                variants = [{"name": v[-1], "ctype": ctype_text(v[:-1])}
                            for v in split_top(m[2:close], ";") if v]
                members.append({"name": m[close + 1], "ctype": "union", "variants": variants})
            else:
                members.append({"name": m[-1], "ctype": ctype_text(m[:-1])})
        self.structs.append({"name": name, "members": members})

    def init_of(self, struct):
        """(macro name, [member default as C text]) of a struct's INIT macro,
        or (None, None) when the header has none."""
        for mname, body in self.macros.items():
            toks = tokenize(body)
            if len(toks) > 4 and toks[0] == "_wgpu_MAKE_INIT_STRUCT" and toks[2] == struct \
                    and mname.endswith("_INIT"):
                inner = toks[toks.index("{") + 1:matching(toks, toks.index("{"))]
                return mname, [render(v) for v in split_top(inner, "_wgpu_COMMA")]
        return None, None


# --------------------------------------------------------------------------
# measuring

def entry_prefix(enum):
    """The part before '_' every entry of an enum starts with (wgpu.h spells
    the entries of its WGPUNativeSType WGPUSType_*, its Force32 excepted)."""
    heads = {e[:e.index("_")] for e in enum["entries"] if "_" in e and not e.endswith("_Force32")}
    if len(heads) != 1 or any("_" not in e for e in enum["entries"]):
        raise MeasureError("enum %s: entries of several prefixes %s" % (enum["name"], sorted(heads)))
    return heads.pop()


def entry_name(entry, prefix):
    return "Force32" if entry.endswith("_Force32") else entry[len(prefix) + 1:]


def measure_program(headers, include):
    """A C program that prints every number the facts need, one
    'key value' line each."""
    out = ["#include <stddef.h>", "#include <stdio.h>", '#include "%s"' % include, "",
           "int main(void)", "{"]
    w = out.append
    for h in headers:
        for e in h.enums:
            for ent in e["entries"]:
                w('    printf("enum %s %%llx\\n", (unsigned long long)(unsigned)%s);' % (ent, ent))
        for f in h.flags:
            for ent in f["entries"]:
                c = "%s_%s" % (f["name"], ent)
                w('    printf("flag %s %%llx\\n", (unsigned long long)%s);' % (c, c))
        for s in h.structs:
            n = s["name"]
            w('    printf("size %s %%zu %%zu\\n", sizeof(%s), _Alignof(%s));' % (n, n, n))
            for m in s["members"]:
                w('    printf("member %s.%s %%zu %%zu\\n", offsetof(%s, %s), sizeof(((%s *)0)->%s));'
                  % (n, m["name"], n, m["name"], n, m["name"]))
                for v in m.get("variants", []):
                    w('    printf("variant %s.%s.%s %%zu %%zu\\n", offsetof(%s, %s.%s) - offsetof(%s, %s), '
                      'sizeof(((%s *)0)->%s.%s));' % (n, m["name"], v["name"], n, m["name"], v["name"],
                                                      n, m["name"], n, m["name"], v["name"]))
    w("    return 0;")
    w("}")
    return "\n".join(out) + "\n"


def run_program(source, folder, cc):
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "measure.c")
        exe = os.path.join(tmp, "measure")
        with open(src, "w", encoding="utf-8") as f:
            f.write(source)
        p = subprocess.run([cc, "-std=c11", "-I", folder, src, "-o", exe], capture_output=True, text=True)
        if p.returncode:
            raise MeasureError("the measuring program does not build:\n" + p.stderr[-4000:])
        p = subprocess.run([exe], capture_output=True, text=True, check=True)
    numbers = {}
    for line in p.stdout.splitlines():
        kind, key, *vals = line.split()
        numbers[(kind, key)] = vals
    return numbers


def facts_text(headers, numbers):
    out = []
    w = out.append
    for i, h in enumerate(headers):
        if i:
            w("file %s" % h.name)
        for name, value in h.constants:
            w("const %s = %s" % (name, value))
        for name, ctype in h.scalars:
            w("scalar %s = %s" % (name, ctype))
        for e in h.enums:
            prefix = entry_prefix(e)
            if prefix != e["name"]:
                w("enumprefix %s %s" % (e["name"], prefix))
            for ent in e["entries"]:
                v = int(numbers[("enum", ent)][0], 16)
                w("enum %s %s = 0x%08X" % (e["name"], entry_name(ent, prefix), v))
        for f in h.flags:
            w("flags %s : %s" % (f["name"], f["base"]))
        for f in h.flags:
            for ent in f["entries"]:
                v = int(numbers[("flag", "%s_%s" % (f["name"], ent))][0], 16)
                w("flag %s %s = 0x%016X" % (f["name"], ent, v))
        for o in h.objects:
            w("object %s" % o)
        for kind, items in (("callback", h.callbacks), ("function", h.functions)):
            for c in items:
                params = ", ".join("%s %s" % (p["ctype"], p["name"]) for p in c["params"])
                w("%s %s returns %s params (%s)" % (kind, c["name"], c["ret"], params))
        for s in h.structs:
            n = s["name"]
            size, align = numbers[("size", n)]
            macro, inits = h.init_of(n)
            if inits is not None and len(inits) != len(s["members"]):
                raise MeasureError("%s: %d defaults for %d members" % (macro, len(inits), len(s["members"])))
            w("struct %s size %s align %s init %s" % (n, size, align, macro or "-"))
            for j, m in enumerate(s["members"]):
                off, msize = numbers[("member", "%s.%s" % (n, m["name"]))]
                init = inits[j] if inits is not None else "-"
                w("  member %s.%s : %s @%s size %s init %s" % (n, m["name"], m["ctype"], off, msize, init))
                for v in m.get("variants", []):
                    voff, vsize = numbers[("variant", "%s.%s.%s" % (n, m["name"], v["name"]))]
                    w("  variant %s.%s.%s : %s @%s size %s" % (n, m["name"], v["name"], v["ctype"], voff, vsize))
    return "\n".join(out) + "\n"


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("header", help="the header a program includes")
    ap.add_argument("-o", "--output", help="facts file to write (default: stdout)")
    ap.add_argument("--cc", default=os.environ.get("CC", "cc"))
    args = ap.parse_args(argv)
    header = os.path.abspath(args.header)
    folder = os.path.dirname(header)
    files = split_files(preprocess(header, args.cc), folder)
    # the files the main header includes first, then the main header
    order = [n for n in files if n != os.path.basename(header)] + [os.path.basename(header)]
    headers = [Header(n, *files[n]) for n in order if n in files]
    numbers = run_program(measure_program(headers, header), folder, args.cc)
    text = facts_text(headers, numbers)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except MeasureError as e:
        print("measure-abi: error: %s" % e, file=sys.stderr)
        sys.exit(1)
