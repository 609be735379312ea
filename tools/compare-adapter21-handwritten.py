#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""One-off proof that tools/gen-adapter21.py's tables equal the hand-written
ones of translators/v21_v201.c (given as a file, e.g. from `git show`).

For every message and direction it walks both table trees from the message
down and compares, per object type reached: the set of rules on each field
(op, flags, bounds, default, nested table), the order of a field's rules
where it matters, and every enum rule as a function over the source field's
values (what each value becomes, or refused). Prints each difference; exit 1
when there is one.
Usage: compare-adapter21-handwritten.py HANDWRITTEN.c
"""

import importlib.util
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_spec = importlib.util.spec_from_file_location("gen", os.path.join(ROOT, "tools", "gen-adapter21.py"))
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)

MACROS = {
    "SUB": ("SUB", []), "SUB_REQ": ("SUB", ["REQ"]), "SUB_LENIENT": ("SUB", ["LENIENT"]),
    "SUB_REQ_LENIENT": ("SUB", ["REQ", "LENIENT"]),
}


def parse_hand(text):
    arrays = {}
    for m in re.finditer(r"static const char \*const (\w+)\[\] = \{(.*?)\};", text, re.S):
        arrays[m.group(1)] = re.findall(r'"([^"]*)"', m.group(2))
    maps = {}
    for m in re.finditer(r"static const struct tr21_map (\w+)\[\] = \{(.*?)\};", text, re.S):
        body = m.group(2)
        pairs = {}
        for r in re.finditer(r'REFUSE\("([^"]+)"\)|\{ "([^"]+)", "([^"]+)" \}', body):
            if r.group(1):
                pairs[r.group(1)] = None
            else:
                pairs[r.group(2)] = r.group(3)
        maps[m.group(1)] = pairs
    enums = {}
    for m in re.finditer(r"static const struct tr21_enum (\w+) = \{(.*?)\};", text, re.S):
        body = m.group(2)
        only = re.search(r"\.only = (\w+)", body)
        fb = re.search(r'\.fallback = "([^"]+)"', body)
        enums[m.group(1)] = (arrays[only.group(1)] if only else None, {}, fb.group(1) if fb else None)
    for m in re.finditer(r"MAPPED_ENUM\((\w+), (\w+)\);", text):
        enums[m.group(1)] = (None, maps[m.group(2)], None)
    tables = {}
    for m in re.finditer(r"static const struct tr21_field (\w+)\[\] = \{(.*?)\};", text, re.S):
        entries = []
        for e in re.finditer(r"(\w+)\(([^)]*)\)", m.group(2)):
            mac, args = e.group(1), [a.strip() for a in e.group(2).split(",")]
            name = args[0].strip('"')
            if mac in MACROS:
                op, flags = MACROS[mac]
                entries.append({"name": name, "op": op, "flags": flags, "sub": args[1]})
            elif mac == "ENUM":
                entries.append({"name": name, "op": "ENUM", "en": enums[args[1]]})
            elif mac in ("MAXLEN", "TRUNC"):
                entries.append({"name": name, "op": mac, "hi": int(args[1])})
            elif mac == "RANGE":
                conv = lambda v, none: None if v == none else int(v)
                entries.append({"name": name, "op": "RANGE", "lo": conv(args[1], "NOMIN"),
                                 "hi": conv(args[2], "NOMAX")})
            elif mac == "DEFAULT":
                entries.append({"name": name, "op": "DEFAULT", "dflt": args[1].strip('"')})
            else:
                entries.append({"name": name, "op": mac})
        tables[m.group(1)] = entries
    msgs = {}
    for dr, p in (("down", "dn"), ("up", "up")):
        body = re.search(r"static const struct tr21_msg %s_msgs\[\] = \{(.*?)\};" % p, text, re.S).group(1)
        for r in re.finditer(r'\{ "(\w+)", (\w+), (\w+) \}', body):
            msgs[(dr, r.group(1))] = (None if r.group(2) == "NULL" else r.group(2),
                                      None if r.group(3) == "NULL" else r.group(3))
    return tables, msgs


def enum_fn(only, pairs, fallback, domain):
    """What each value of @domain becomes: a value, or None (refused)."""
    out = {}
    for v in domain:
        if v in pairs:
            out[v] = pairs[v]
        elif only is not None and v not in only:
            out[v] = fallback
        else:
            out[v] = v
    return out


def main():
    hand_tables, hand_msgs = parse_hand(open(sys.argv[1], encoding="utf-8").read())
    g = gen.build()
    diffs = []

    def src_field_type(dr, table, fname):
        src = g.d[dr][0]
        blk = gen.block_of(src, g.pairs[(dr, table)][0])
        for f in blk.fields:
            if f[0] == fname:
                t = gen.resolve(src, f[2])
                return t["items"] if t["kind"] == "array" else t
        return None

    seen = set()

    def compare(dr, where, gname, hname):
        if (dr, gname, hname) in seen:
            return
        seen.add((dr, gname, hname))
        ge = (g.tables.get((dr, gname)) or []) if gname else []
        he = hand_tables.get(hname, []) if hname else []
        names = sorted(set(e["name"] for e in ge) | set(e["name"] for e in he))
        for n in names:
            gs = [e for e in ge if e["name"] == n]
            hs = [e for e in he if e["name"] == n]
            if [e["op"] for e in gs] != [e["op"] for e in hs]:
                diffs.append("%s %s.%s: generated %s, hand-written %s" %
                             (dr, where, n, [e["op"] for e in gs], [e["op"] for e in hs]))
                continue
            for a, b in zip(gs, hs):
                op = a["op"]
                if op == "SUB":
                    if sorted(a["flags"]) != sorted(b["flags"]):
                        diffs.append("%s %s.%s: flags %s vs %s" % (dr, where, n, a["flags"], b["flags"]))
                    compare(dr, "%s.%s" % (where, n), a["sub"], b["sub"])
                elif op == "ENUM":
                    st = src_field_type(dr, gname, n)
                    domain = set(a["only"]) | set(dict(a["map"])) | set(b["en"][0] or []) | set(b["en"][1])
                    if st["kind"] == "enum":
                        domain = set(st["values"])  # a valid source can hold nothing else
                    else:
                        domain.add("SomethingElse")
                    fa = enum_fn(a["only"], dict(a["map"]), a["fallback"], domain)
                    fb = enum_fn(*b["en"], domain)
                    for v in sorted(domain):
                        if fa[v] != fb[v]:
                            diffs.append("%s %s.%s: %s becomes %s, hand-written %s" %
                                         (dr, where, n, v, fa[v], fb[v]))
                else:
                    for k in ("hi", "lo", "dflt"):
                        if a.get(k) != b.get(k):
                            diffs.append("%s %s.%s: %s %s vs %s" % (dr, where, n, k, a.get(k), b.get(k)))

    n = 0
    for dr in gen.DIRS:
        gm = {a: (q, s) for a, q, s in g.msgs[dr]}
        hm = {a: v for (d2, a), v in hand_msgs.items() if d2 == dr}
        for action in sorted(set(gm) | set(hm)):
            gq, gs = gm.get(action, (None, None))
            hq, hs = hm.get(action, (None, None))
            compare(dr, action + "Request", gq, hq)
            compare(dr, action + "Response", gs, hs)
            n += 1
    for d in diffs:
        print(d)
    print("%d messages compared, %d table pairs, %d differences" % (n, len(seen), len(diffs)))
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
