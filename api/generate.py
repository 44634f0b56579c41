#!/usr/bin/env python3
"""Generates C sources from an API description (api/*.json).

  generate.py header     DESCRIPTION -o OUT [--guard NAME] [--part NAME]
  generate.py abi-test   DESCRIPTION -o OUT --include HEADER
  generate.py init-test  DESCRIPTION -o OUT --include HEADER

header     the public C header, ABI-identical to the description
abi-test   C program: _Static_asserts on every size, alignment, offset, member
           type, prototype, enum value and constant; flags checked at run time
init-test  C/C++ program: instantiates every WGPU_*_INIT macro and checks the
           defaults it sets

Python 3 standard library only; the output depends only on the description.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from wgvgen.model import Api, DescriptionError  # noqa: E402
from wgvgen.header import emit_header  # noqa: E402
from wgvgen.tests import emit_abi_test, emit_init_test  # noqa: E402

GENERATOR = "api/generate.py"


def write_if_changed(path, text):
    """Leaves the file alone when nothing changed, so its users do not rebuild."""
    try:
        with open(path, encoding="utf-8") as f:
            if f.read() == text:
                return
    except OSError:
        pass
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def default_guard(out):
    base = os.path.basename(out)
    return "WGV_" + "".join(c if c.isalnum() else "_" for c in base).upper() + "_"


def main(argv):
    ap = argparse.ArgumentParser(description="Generate C sources from an API description.")
    ap.add_argument("emit", choices=["header", "abi-test", "init-test"])
    ap.add_argument("description", help="api/webgpu.json, api/dawn.json, ...")
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--guard", help="include guard of the header")
    ap.add_argument("--part", help="header: emit the further header of this name (wgpu.h) instead of the main one")
    ap.add_argument("--main-header", default="webgpu.h",
                    help="header: how --part's header includes the main one")
    ap.add_argument("--include", default="webgpu/webgpu.h",
                    help="header the test programs include (as \"...\")")
    args = ap.parse_args(argv)
    try:
        api = Api(args.description)
        if args.emit == "header":
            text = emit_header(api, args.guard or default_guard(args.output), GENERATOR + " header",
                               args.part, args.main_header)
        elif args.emit == "abi-test":
            text = emit_abi_test(api, args.include, GENERATOR + " abi-test")
        else:
            text = emit_init_test(api, args.include, GENERATOR + " init-test")
    except (DescriptionError, KeyError, ValueError) as e:
        print("generate.py: %s: %s" % (args.description, e), file=sys.stderr)
        return 1
    write_if_changed(args.output, text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
