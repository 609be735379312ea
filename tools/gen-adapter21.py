#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Generate the OCPP 2.1 <-> 2.0.1 field adapter tables from the schema sources.

Diffs schemas/src/ocpp21.def against schemas/src/ocpp201.def (parsed by
tools/gen-schemas.py's own parser) and writes the tables the adapter in
translators/v21_adapt.c walks (types in translators/v21_tables.h), in both
directions: fields the target lacks are dropped, shorter maximum lengths
refused (or cut), enum values the target lacks refused (or mapped), integer
bounds the target adds checked, numbers rounded where the target wants an
integer, fields the target requires checked (or supplied), and nested types
walked. What the schemas cannot tell (value maps, defaults, which text may
be cut, which report items may be left out, the per-phase fold) comes from
translators/v21_adapt.rules; docs/TRANSLATION.md describes both.

Usage: gen-adapter21.py [--rules FILE] [--src DIR] [--dump] OUTPUT.c
A difference no rule covers (e.g. a field the target requires that the
source lacks, with no default) is an error: exit 1, nothing written.
"""

import argparse
import importlib.util
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC_DIR = os.path.join(ROOT, "schemas", "src")
RULES = os.path.join(ROOT, "translators", "v21_adapt.rules")

_spec = importlib.util.spec_from_file_location("gen_schemas", os.path.join(ROOT, "tools", "gen-schemas.py"))
defs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(defs)

# Directions: down = 2.1 -> 2.0.1 (the C tables dn_*), up = 2.0.1 -> 2.1.
DIRS = ("down", "up")
# The order of a field's rules in its table: the per-phase fold reads
# limit_L2/L3 before the period's own table drops them, a number is rounded
# before bounds check it as an integer, and an enum is mapped before a
# default may be added.
OP_ORDER = ("PHASES", "SUB", "DROP", "ENUM", "MAXLEN", "TRUNC", "ROUND", "RANGE", "REQUIRE", "DEFAULT")


class GenError(Exception):
    pass


# ---------------------------------------------------------------- the rules file

class Rules:
    """translators/v21_adapt.rules: the choices the schemas cannot make."""

    def __init__(self):
        self.trunc = set()      # "Type.field": human-readable text, cut to the target's limit
        self.lenient = set()    # "Type.field": report items that cannot be carried are left out
        self.phases = set()     # (dir, Type): fields holding these periods fold per-phase limits
        self.maps = {}          # (dir, Enum or Type.field) -> ({from: to}, fallback)
        self.defaults = {}      # (dir, "Type.field") -> value
        self.variants = {}      # "Parent.field" -> (variant name, Type)
        self.used = set()       # rule keys some table consulted, to report the others

    def key_used(self, *key):
        self.used.add(key)


def parse_rules(path):
    r = Rules()
    rel = os.path.relpath(path, ROOT)
    with open(path, encoding="utf-8") as f:
        raw_lines = f.read().split("\n")
    lines = []  # (line number, text): an indented line continues the rule above
    for no, raw in enumerate(raw_lines, 1):
        text = raw.split("#", 1)[0].rstrip()
        if not text.strip():
            continue
        if text[0] in " \t" and lines:
            lines[-1] = (lines[-1][0], lines[-1][1] + " " + text.strip())
        else:
            lines.append((no, text.strip()))
    for no, text in lines:
        words = text.split()
        kw, args = words[0], words[1:]

        def fail(msg):
            raise GenError("%s:%d: %s" % (rel, no, msg))

        if kw in ("trunc", "lenient"):
            if not args or any(a.count(".") != 1 for a in args):
                fail("'%s' takes Type.field ..." % kw)
            getattr(r, kw).update(args)
        elif kw == "phases":
            if len(args) != 2 or args[0] not in DIRS:
                fail("'phases' takes down|up Type")
            r.phases.add((args[0], args[1]))
        elif kw == "map":
            if len(args) < 2 or args[0] not in DIRS or not args[1].endswith(":"):
                fail("'map' takes down|up Enum|Type.field: from=to ... [*=fallback]")
            pairs, fallback = {}, None
            for p in args[2:]:
                if p.count("=") != 1:
                    fail("expected from=to, got '%s'" % p)
                a, b = p.split("=")
                if a == "*":
                    fallback = b
                elif a in pairs:
                    fail("'%s' mapped twice" % a)
                else:
                    pairs[a] = b
            r.maps[(args[0], args[1][:-1])] = (pairs, fallback)
        elif kw == "default":
            m = re.fullmatch(r"default\s+(down|up)\s+(\S+\.\S+)\s+(\"[^\"]*\"|\S+)", text)
            if not m:
                fail("'default' takes down|up Type.field VALUE (\"\" for an empty string)")
            v = m.group(3)
            r.defaults[(m.group(1), m.group(2))] = v[1:-1] if v.startswith('"') else v
        elif kw == "variant":
            if len(args) < 5 or args[1] != "=" or args[3] != "at":
                fail("'variant' takes Name = Type at Parent.field ...")
            for at in args[4:]:
                r.variants[at] = (args[0], args[2])
        else:
            fail("unknown rule '%s'" % kw)
    return r


# ---------------------------------------------------------------- types

def resolve(d, t):
    """A parsed field TYPE with its names looked up: enums carry their values."""
    k = t["kind"]
    if k == "array":
        return dict(t, items=resolve(d, t["items"]))
    if k == "inline_enum":
        return {"kind": "enum", "name": None, "values": list(t["values"])}
    if k == "ref":
        if t["name"] in d.enums:
            return {"kind": "enum", "name": t["name"], "values": list(d.enums[t["name"]][0])}
        return {"kind": "object", "name": t["name"]}
    return t


def block_of(d, name):
    """The body of object type @name, or of '<Action>Request|Response'."""
    if name in d.types:
        return d.types[name]
    m = re.fullmatch(r"(\w+)(Request|Response)", name)
    if m and m.group(1) in d.messages:
        return d.messages[m.group(1)][m.group(2).lower()]
    return None


# ---------------------------------------------------------------- the diff

class Gen:
    def __init__(self, d21, d201, rules):
        self.d = {"down": (d21, d201), "up": (d201, d21)}
        self.rules = rules
        self.tables = {}    # (dir, table name) -> [entry]; entry: dict(name, op, ...)
        self.order = []     # (dir, table name) in definition order (subs first)
        self.pairs = {}     # (dir, table name) -> (source type, target type)
        self.msgs = {"down": [], "up": []}  # (action, request table|None, response table|None)
        self.errors = []
        self.seen = set()   # "Type.field" of every object-typed field both versions have

    def err(self, where, msg):
        self.errors.append("%s: %s" % (where, msg))

    def table(self, dr, name, src_type, dst_type):
        """Entries for object type @src_type (table @name) against @dst_type."""
        key = (dr, name)
        if key in self.tables:
            if self.tables[key] is None:
                self.err(name, "contains itself: the adapter's tables cannot say that")
            if self.pairs[key] != (src_type, dst_type):
                self.err(name, "reached as %s and %s" % (self.pairs[key], (src_type, dst_type)))
            return self.tables[key]
        src, dst = self.d[dr]
        self.tables[key] = None  # while its fields are diffed: a type within itself is an error
        self.pairs[key] = (src_type, dst_type)
        entries = self.body(dr, name, block_of(src, src_type), block_of(dst, dst_type))
        self.tables[key] = entries
        if entries:
            self.order.append(key)
        return entries

    def body(self, dr, name, sblk, dblk):
        src, dst = self.d[dr]
        dfields = {f[0]: f for f in dblk.fields}
        sfields = {f[0] for f in sblk.fields}
        out = []
        for fname, sopt, stype, _ in sblk.fields:
            where = "%s %s.%s" % (dr, name, fname)
            if fname not in dfields:
                out.append({"name": fname, "op": "DROP"})
                continue
            _, dopt, dtype, _ = dfields[fname]
            ops = self.field(dr, name, fname, where, resolve(src, stype), resolve(dst, dtype), dopt)
            if not dopt and sopt:
                ops.append(self.required(dr, name, fname))
            out += ops
        for fname, dopt, _, _ in dblk.fields:
            if fname not in sfields and not dopt:
                # the source cannot have it at all: only a default can help
                if (dr, "%s.%s" % (name, fname)) in self.rules.defaults:
                    out.append(self.required(dr, name, fname))
                else:
                    self.err("%s %s.%s" % (dr, name, fname),
                             "required by the target, absent from the source: add a 'default' rule")
        order = [f[0] for f in sblk.fields] + [f[0] for f in dblk.fields if f[0] not in sfields]
        return sorted(out, key=lambda e: (order.index(e["name"]), OP_ORDER.index(e["op"])))

    def required(self, dr, name, fname):
        key = (dr, "%s.%s" % (name, fname))
        if key in self.rules.defaults:
            self.rules.key_used("default", *key)
            return {"name": fname, "op": "DEFAULT", "dflt": self.rules.defaults[key]}
        return {"name": fname, "op": "REQUIRE"}

    def field(self, dr, name, fname, where, s, t, dopt):
        """Rules for one field both versions have; @s, @t its resolved types."""
        ops = []
        path = "%s.%s" % (name, fname)
        if (s["kind"] == "array") != (t["kind"] == "array"):
            self.err(where, "an array in one version only")
            return ops
        if s["kind"] == "array":
            if s.get("min", 0) < t.get("min", 0) or ("max" in t and s.get("max", t["max"] + 1) > t["max"]):
                self.err(where, "item counts the target narrows: no rule for that")
            s, t = s["items"], t["items"]
        elif path in self.rules.lenient:
            self.err(where, "'lenient' is for arrays of objects")
        if s["kind"] == "object" and t["kind"] == "object":
            self.seen.add(path)
            vname, vtype = self.rules.variants.get(path, (s["name"], s["name"]))
            if vtype != s["name"]:
                self.err(where, "variant %s is of %s, the field is %s" % (vname, vtype, s["name"]))
            if self.table(dr, vname, s["name"], t["name"]):
                flags = []
                if not dopt:
                    flags.append("REQ")
                if path in self.rules.lenient:
                    flags.append("LENIENT")
                ops.append({"name": fname, "op": "SUB", "sub": vname, "flags": flags})
            if (dr, s["name"]) in self.rules.phases:
                ops.append({"name": fname, "op": "PHASES"})
            return ops
        if t["kind"] == "enum" and s["kind"] in ("enum", "string"):
            extra = [v for v in s["values"] if v not in t["values"]] if s["kind"] == "enum" else None
            if extra != []:
                ops.append(self.enum(dr, path, s, t, extra, where))
            return ops
        if s["kind"] == "enum" and t["kind"] == "string":
            # an enum becoming a free string: only a value too long for it differs
            longest = max(len(v) for v in s["values"])
            return self.string(path, where, {"kind": "string", "maxLength": longest}, t, ops)
        if s["kind"] == "string" and t["kind"] == "string":
            return self.string(path, where, s, t, ops)
        if s["kind"] in ("integer", "number") and t["kind"] in ("integer", "number"):
            if s["kind"] == "number" and t["kind"] == "integer":
                ops.append({"name": fname, "op": "ROUND"})
            lo_s, hi_s = s.get("minimum"), s.get("maximum")
            lo_t, hi_t = t.get("minimum"), t.get("maximum")
            if (lo_t is not None and (lo_s is None or lo_s < lo_t)) or \
               (hi_t is not None and (hi_s is None or hi_s > hi_t)):
                if t["kind"] != "integer":
                    self.err(where, "number bounds the target narrows: no rule for that")
                ops.append({"name": fname, "op": "RANGE", "lo": lo_t, "hi": hi_t})
            if t.get("multipleOf") not in (None, s.get("multipleOf")):
                self.err(where, "a step only the target has: no rule for that")
            return ops
        if s["kind"] == t["kind"] and s["kind"] in ("boolean", "any"):
            return ops
        self.err(where, "%s in the source, %s in the target: no rule for that" % (s["kind"], t["kind"]))
        return ops

    def string(self, path, where, s, t, ops):
        fname = path.split(".")[1]
        if s.get("format") != t.get("format") and t.get("format"):
            self.err(where, "a format only the target has: no rule for that")
        if t.get("minLength", 0) > s.get("minLength", 0):
            self.err(where, "a minimum length only the target has: no rule for that")
        if "maxLength" in t and s.get("maxLength", t["maxLength"] + 1) > t["maxLength"]:
            trunc = path in self.rules.trunc
            ops.append({"name": fname, "op": "TRUNC" if trunc else "MAXLEN", "hi": t["maxLength"]})
        return ops

    def enum(self, dr, path, s, t, extra, where):
        """An ENUM rule: the target's values pass, the rules map others; the rest are refused."""
        # the field's own rule, else its source enum's, else (a free string
        # in the source) its target enum's
        key = path
        if (dr, key) not in self.rules.maps:
            key = s.get("name") or t.get("name")
        pairs, fallback = self.rules.maps.get((dr, key), ({}, None))
        if (dr, key) in self.rules.maps:
            self.rules.key_used("map", dr, key)
        for a, b in sorted(pairs.items()):
            if b not in t["values"]:
                self.err(where, "map %s=%s: the target has no value %s" % (a, b, b))
            if extra is not None and a not in extra:
                self.err(where, "map %s=%s: %s is not a source-only value" % (a, b, a))
        if fallback is not None and fallback not in t["values"]:
            self.err(where, "map *=%s: the target has no value %s" % (fallback, fallback))
        return {"name": path.split(".")[1], "op": "ENUM", "enum": s.get("name") or t.get("name"),
                "only": list(t["values"]), "map": sorted(pairs.items()), "fallback": fallback}

    def run(self):
        for dr in DIRS:
            src, dst = self.d[dr]
            for action in sorted(src.messages):
                if action not in dst.messages:
                    continue  # a version's own actions: its translator answers them
                parts = []
                for part, suffix in (("request", "Request"), ("response", "Response")):
                    sb, db = src.messages[action][part], dst.messages[action][part]
                    if (sb is None) != (db is None):
                        self.err("%s %s" % (dr, action), "a %s in one version only" % part)
                    name = action + suffix
                    parts.append(name if sb and db and self.table(dr, name, name, name) else None)
                if parts[0] or parts[1]:
                    self.msgs[dr].append((action, parts[0], parts[1]))
        r = self.rules
        for at in sorted(set(r.variants) - self.seen):
            self.err("rules", "variant at %s: no such field of an object type" % at)
        for key in r.maps:
            if ("map",) + key not in r.used:
                self.err("rules", "map %s %s: no field with such values" % key)
        for key in r.defaults:
            if ("default",) + key not in r.used:
                self.err("rules", "default %s %s: the target does not require it there" % key)
        for kind in ("trunc", "lenient"):
            for path in sorted(getattr(r, kind)):
                name, fname = path.split(".")
                want = ("TRUNC",) if kind == "trunc" else ("SUB",)
                if not any(e["name"] == fname and e["op"] in want and
                           (kind == "trunc" or "LENIENT" in e["flags"])
                           for (_, n), es in self.tables.items() if n == name and es for e in es):
                    self.err("rules", "%s %s: no such rule is generated" % (kind, path))
        for dr, t in r.phases:
            if not any(e["op"] == "PHASES" for (d2, _), es in self.tables.items() if d2 == dr and es for e in es):
                self.err("rules", "phases %s %s: no field holds it" % (dr, t))


# ---------------------------------------------------------------- C output

PREFIX = {"down": "dn", "up": "up"}


def c_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def c_bound(v, none):
    return none if v is None else str(v)


def emit(g, rels):
    out = []
    w = out.append
    w("/* SPDX-License-Identifier: MIT */")
    w("/*")
    w(" * Generated by tools/gen-adapter21.py, do not edit: the OCPP 2.1 <-> 2.0.1")
    w(" * field adapter's tables (types in v21_tables.h), per object type only the")
    w(" * fields where the two versions differ. From %s," % ", ".join(rels[:-1]))
    w(" * and %s for what the schemas cannot tell." % rels[-1])
    w(" */")
    w('#include "v21_tables.h"')
    w("")
    enums = {}  # (only, map, fallback) -> C name

    def enum_name(dr, e):
        key = (tuple(e["only"]), tuple(e["map"]), e["fallback"])
        if key not in enums:
            n = "%s_%s" % (PREFIX[dr], e["enum"])
            while n in enums.values():
                n += "_"
            enums[key] = n
            w("static const char *const %s_only[] = {" % n)
            line = "\t"
            for v in e["only"]:
                if len(line) + len(c_str(v)) + 2 > 96:
                    w(line.rstrip())
                    line = "\t"
                line += c_str(v) + ", "
            w(line + "NULL,")
            w("};")
            if e["map"]:
                w("static const struct tr21_map %s_map[] = {" % n)
                for a, b in e["map"]:
                    w("\t{ %s, %s }," % (c_str(a), c_str(b)))
                w("\t{ NULL, NULL },")
                w("};")
            fields = [".only = %s_only" % n]
            if e["map"]:
                fields.append(".map = %s_map" % n)
            if e["fallback"] is not None:
                fields.append(".fallback = %s" % c_str(e["fallback"]))
            w("static const struct tr21_enum %s = { %s };" % (n, ", ".join(fields)))
        return enums[key]

    for dr in DIRS:
        for key in g.order:
            if key[0] != dr:
                continue
            for e in g.tables[key]:
                if e["op"] == "ENUM":
                    e["c_enum"] = enum_name(dr, e)
    w("")
    for dr in DIRS:
        p = PREFIX[dr]
        w("/* ---- %s ---- */" % ("2.1 -> 2.0.1" if dr == "down" else "2.0.1 -> 2.1"))
        w("")
        for key in g.order:
            if key[0] != dr:
                continue
            w("static const struct tr21_field %s_%s[] = {" % (p, key[1]))
            for e in g.tables[key]:
                op, n = e["op"], c_str(e["name"])
                if op == "SUB":
                    fl = " | ".join("F_" + f for f in e["flags"]) or "0"
                    w("\t{ .name = %s, .op = OP_SUB, .flags = %s, .sub = %s_%s }," % (n, fl, p, e["sub"]))
                elif op == "ENUM":
                    w("\t{ .name = %s, .op = OP_ENUM, .en = &%s }," % (n, e["c_enum"]))
                elif op in ("MAXLEN", "TRUNC"):
                    w("\t{ .name = %s, .op = OP_%s, .hi = %d }," % (n, op, e["hi"]))
                elif op == "RANGE":
                    w("\t{ .name = %s, .op = OP_RANGE, .lo = %s, .hi = %s }," %
                      (n, c_bound(e["lo"], "LLONG_MIN"), c_bound(e["hi"], "LLONG_MAX")))
                elif op == "DEFAULT":
                    w("\t{ .name = %s, .op = OP_DEFAULT, .dflt = %s }," % (n, c_str(e["dflt"])))
                else:
                    w("\t{ .name = %s, .op = OP_%s }," % (n, op))
            w("\t{ .op = OP_END },")
            w("};")
        w("")
        w("const struct tr21_msg ogw_tr21_%s_msgs[] = {  /* sorted by action */" % p)
        for action, req, res in g.msgs[dr]:
            w("\t{ %s, %s, %s }," % (c_str(action), "%s_%s" % (p, req) if req else "NULL",
                                     "%s_%s" % (p, res) if res else "NULL"))
        w("};")
        w("const size_t ogw_tr21_n_%s_msgs = sizeof(ogw_tr21_%s_msgs) / sizeof(ogw_tr21_%s_msgs[0]);" % (p, p, p))
        w("")
    return "\n".join(out).rstrip("\n") + "\n"


def load(path):
    d = defs.parse_file(path)
    rel = os.path.relpath(path, ROOT)
    if d.errors:
        raise GenError("\n".join("%s:%d: %s" % (rel, line, msg) for line, msg in sorted(d.errors)))
    return d


def build(rules_path=RULES, src_dir=SRC_DIR):
    d21 = load(os.path.join(src_dir, "ocpp21.def"))
    d201 = load(os.path.join(src_dir, "ocpp201.def"))
    g = Gen(d21, d201, parse_rules(rules_path))
    g.run()
    if g.errors:
        raise GenError("\n".join(g.errors))
    return g


def main():
    ap = argparse.ArgumentParser(description="Generate the 2.1 <-> 2.0.1 adapter tables (C)")
    ap.add_argument("--rules", default=RULES, help="the overrides file (default: translators/v21_adapt.rules)")
    ap.add_argument("--src", default=SRC_DIR, help="the folder of ocpp201.def and ocpp21.def (default: schemas/src)")
    ap.add_argument("--dump", action="store_true", help="print the tables as JSON instead of writing C")
    ap.add_argument("output", nargs="?", help="the C file to write (rewritten only when it changes)")
    args = ap.parse_args()
    try:
        g = build(args.rules, args.src)
    except GenError as e:
        print(e, file=sys.stderr)
        return 1
    if args.dump:
        print(json.dumps({"%s %s" % k: g.tables[k] for k in g.order}, indent=1))
        return 0
    if not args.output:
        ap.error("OUTPUT.c is required without --dump")
    rels = [os.path.relpath(p, ROOT) for p in
            (os.path.join(args.src, "ocpp201.def"), os.path.join(args.src, "ocpp21.def"), args.rules)]
    text = emit(g, rels)
    try:
        with open(args.output, encoding="utf-8") as f:
            if f.read() == text:
                return 0
    except FileNotFoundError:
        pass
    with open(args.output + ".tmp", "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(args.output + ".tmp", args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
