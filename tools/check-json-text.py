#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""In the gateway, jansson allocates from a pool (src/json/alloc.c), so what
json_dumps() returns is not free()'s to free. Code outside src/json calls
ogw_json_text() instead, whose text free() takes. This fails on any call
of json_dumps() or json_dumpb() in src/ or translators/ outside src/json
(src/sim, a program of its own without the pool, may call them).

usage: check-json-text.py SRCROOT
"""
import os
import re
import sys

CALL = re.compile(r'\bjson_dump[sb]\s*\(')
ALLOWED = ("src/json/", "src/sim/")


def main(argv):
    if len(argv) != 2:
        print(__doc__.split("\n\n")[-1], file=sys.stderr)
        return 2
    root = argv[1]
    bad = []
    for top in ("src", "translators"):
        for d, _, files in os.walk(os.path.join(root, top)):
            for f in sorted(files):
                if not f.endswith((".c", ".h")):
                    continue
                rel = os.path.relpath(os.path.join(d, f), root)
                if rel.startswith(ALLOWED):
                    continue
                with open(os.path.join(d, f), encoding="utf-8") as fh:
                    for n, line in enumerate(fh, 1):
                        code = line.split("/*")[0].split("//")[0]
                        if CALL.search(code) and not line.lstrip().startswith("*"):
                            bad.append(f"{rel}:{n}: json_dumps(): use ogw_json_text() "
                                       "(include/ocppgw/json.h)")
    for b in bad:
        print(b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
