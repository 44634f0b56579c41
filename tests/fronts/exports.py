#!/usr/bin/env python3
"""Checks that each guest front exports exactly the functions of the ABI it
claims: every function of the API description, and no other wgpu* symbol
(a program linked against that implementation finds everything it may
call; nothing of another ABI leaks in).

    exports.py LIBRARY DESCRIPTION [LIBRARY DESCRIPTION ...]

Uses nm (binutils). Prints one line per library and, last,
"front-exports: N passed, M failed".
"""
import json
import subprocess
import sys


def exported(lib):
    out = subprocess.run(["nm", "-D", "--defined-only", lib], capture_output=True, text=True,
                         check=True).stdout
    return {parts[2] for parts in (l.split() for l in out.splitlines())
            if len(parts) == 3 and parts[1] in "TtWi" and parts[2].startswith("wgpu")}


def main(argv):
    if len(argv) < 3 or len(argv) % 2 != 1:
        print(__doc__.split("\n\n")[1])
        return 2
    passed = failed = 0
    for lib, desc in zip(argv[1::2], argv[2::2]):
        with open(desc, encoding="utf-8") as f:
            want = {fn["name"] for fn in json.load(f)["functions"]}
        try:
            have = exported(lib)
        except (OSError, subprocess.CalledProcessError) as e:
            print("FAIL %s: nm: %s" % (lib, e))
            failed += 1
            continue
        missing, extra = sorted(want - have), sorted(have - want)
        if missing or extra:
            print("FAIL %s: %d functions missing (%s), %d not in %s (%s)" % (
                lib, len(missing), " ".join(missing[:5]), len(extra), desc, " ".join(extra[:5])))
            failed += 1
        else:
            print("ok   %s: the %d functions of %s" % (lib, len(want), desc))
            passed += 1
    print("front-exports: %d passed, %d failed" % (passed, failed))
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
