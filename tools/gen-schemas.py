#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Generate schemas/<version>/*.json from the definition files schemas/src/ocpp*.def.

The definition language and the output are specified in schemas/src/README.md.
This tool only parses, checks and writes; it knows nothing about OCPP itself.
`--check` writes nothing and exits 1 when a generated file would differ, so a
test can catch a .def edited without regenerating.
"""

import argparse
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC_DIR = os.path.join(ROOT, "schemas", "src")
OUT_DIR = os.path.join(ROOT, "schemas")

VERSIONS = ("1.6", "2.0.1", "2.1")
DIRECTIONS = ("up", "down", "both", "send")
SCHEMA_URI = "http://json-schema.org/draft-06/schema#"

NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
ENUM_VALUE_RE = re.compile(r"[A-Za-z0-9_.\-+/:]+\Z")
NUM_RE = r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?"


class DefError(Exception):
    def __init__(self, line, message):
        super().__init__(message)
        self.line = line
        self.message = message


def parse_number(text):
    if re.fullmatch(r"-?[0-9]+", text):
        return int(text)
    return float(text)


# ---------------------------------------------------------------- type syntax
#
# A parsed TYPE is a small dict: {"kind": "string"|"integer"|...|"array"|
# "ref"|"inline_enum", ...}. It becomes JSON Schema in to_schema().

class TypeParser:
    def __init__(self, text, line):
        self.s = text
        self.i = 0
        self.line = line

    def fail(self, msg):
        raise DefError(self.line, msg)

    def ws(self):
        while self.i < len(self.s) and self.s[self.i] in " \t":
            self.i += 1

    def peek(self, tok):
        self.ws()
        return self.s.startswith(tok, self.i)

    def take(self, tok):
        if self.peek(tok):
            self.i += len(tok)
            return True
        return False

    def number(self, what):
        self.ws()
        m = re.compile(NUM_RE).match(self.s, self.i)
        if not m:
            self.fail("expected a number after %s in type '%s'" % (what, self.s))
        self.i = m.end()
        return parse_number(m.group(0))

    def integer(self, what):
        v = self.number(what)
        if not isinstance(v, int) or v < 0:
            self.fail("expected a non-negative integer after %s in type '%s'" % (what, self.s))
        return v

    def word(self):
        self.ws()
        m = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*").match(self.s, self.i)
        if not m:
            self.fail("expected a type in '%s'" % self.s)
        self.i = m.end()
        return m.group(0)

    def parse_all(self):
        t = self.parse()
        self.ws()
        if self.i != len(self.s):
            self.fail("unexpected '%s' in type '%s'" % (self.s[self.i:], self.s))
        return t

    def parse(self):
        if self.take("["):
            items = self.parse()
            if not self.take("]"):
                self.fail("missing ']' in type '%s'" % self.s)
            t = {"kind": "array", "items": items}
            if self.take("{"):
                self.ws()
                if not self.peek(".."):
                    t["min"] = self.integer("'{'")
                if not self.take(".."):
                    self.fail("expected '..' in array count of '%s'" % self.s)
                if not self.peek("}"):
                    t["max"] = self.integer("'..'")
                if not self.take("}"):
                    self.fail("missing '}' in array count of '%s'" % self.s)
                if "min" not in t and "max" not in t:
                    self.fail("empty array count in '%s'" % self.s)
                if "min" in t and "max" in t and t["min"] > t["max"]:
                    self.fail("array count minimum exceeds maximum in '%s'" % self.s)
            return t
        w = self.word()
        if w == "enum" and self.take("("):
            end = self.s.find(")", self.i)
            if end < 0:
                self.fail("missing ')' in inline enum '%s'" % self.s)
            values = self.s[self.i:end].split()
            self.i = end + 1
            return {"kind": "inline_enum", "values": check_enum_values(values, self.line)}
        if w == "string":
            t = {"kind": "string"}
            if self.take(">="):
                t["minLength"] = self.integer("'>='")
            if self.take("<="):
                t["maxLength"] = self.integer("'<='")
            return t
        if w == "uri":
            t = {"kind": "string", "format": "uri"}
            if self.take("<="):
                t["maxLength"] = self.integer("'<='")
            return t
        if w == "date-time":
            return {"kind": "string", "format": "date-time"}
        if w in ("integer", "number"):
            t = {"kind": w}
            if self.take(">="):
                t["minimum"] = self.number("'>='")
            if self.take("<="):
                t["maximum"] = self.number("'<='")
            if self.take("%"):
                t["multipleOf"] = self.number("'%'")
                if t["multipleOf"] <= 0:
                    self.fail("step must be positive in '%s'" % self.s)
            if w == "integer" and any(isinstance(t.get(k), float) for k in ("minimum", "maximum", "multipleOf")):
                self.fail("integer bounds must be integers in '%s'" % self.s)
            if "minimum" in t and "maximum" in t and t["minimum"] > t["maximum"]:
                self.fail("minimum exceeds maximum in '%s'" % self.s)
            return t
        if w == "boolean":
            return {"kind": "boolean"}
        if w == "any":
            return {"kind": "any"}
        if "-" in w or not NAME_RE.match(w):
            self.fail("unknown type '%s'" % w)
        return {"kind": "ref", "name": w, "line": self.line}


def check_enum_values(values, line):
    if not values:
        raise DefError(line, "enum without values")
    seen = set()
    for v in values:
        if not ENUM_VALUE_RE.match(v):
            raise DefError(line, "bad enum value '%s'" % v)
        if v in seen:
            raise DefError(line, "enum value '%s' listed twice" % v)
        seen.add(v)
    return values


# ---------------------------------------------------------------- file syntax

class Block:
    """An object body: fields in order, and whether extra properties are allowed."""

    def __init__(self, name, line, is_open):
        self.name = name
        self.line = line
        self.open = is_open
        self.fields = []  # (name, optional, type, line)


class DefFile:
    def __init__(self, path):
        self.path = path
        self.version = None
        self.custom_data = 0  # line of 'option customData', 0 when absent
        self.enums = {}     # name -> (values, line)
        self.types = {}     # name -> Block
        self.messages = {}  # name -> {"dir", "line", "request": Block|None, "response": Block|None}
        self.errors = []    # (line, message)
        self.warnings = []

    def err(self, line, msg):
        self.errors.append((line, msg))


FIELD_RE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(\?)?\s*:\s*(.+)\Z")
ENUM_RE = re.compile(r"enum\s+(\S+)\s*:(.*)\Z")
TYPE_RE = re.compile(r"type\s+(\S+)(\s+open)?\s*\{\s*(\})?\Z")
MESSAGE_RE = re.compile(r"message\s+(\S+)\s+(\S+)\s*\{\Z")
PART_RE = re.compile(r"(request|response)(\s+open)?\s*\{\s*(\})?\Z")


def parse_file(path):
    d = DefFile(path)
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")

    # Nesting: None (top), ("type", Block), ("message", msg), ("part", Block, msg)
    ctx = None
    last_enum = None  # name of the enum an indented line may continue
    for no, raw in enumerate(lines, 1):
        text = raw.split("#", 1)[0].rstrip()
        if not text.strip():
            continue
        indented = text[0] in " \t"
        text = text.strip()
        try:
            if d.version is None:
                m = re.fullmatch(r"version\s+(\S+)", text)
                if not m:
                    raise DefError(no, "the first line must be 'version 1.6|2.0.1|2.1'")
                if m.group(1) not in VERSIONS:
                    raise DefError(no, "unknown version '%s'" % m.group(1))
                d.version = m.group(1)
                continue

            if ctx is None:
                if indented and last_enum is not None:
                    if last_enum == "":
                        continue
                    values = d.enums[last_enum][0] + text.split()
                    d.enums[last_enum] = (check_enum_values(values, no), d.enums[last_enum][1])
                    continue
                last_enum = None
                if re.match(r"version\b", text):
                    raise DefError(no, "'version' given twice")
                if re.match(r"option\b", text):
                    m = re.fullmatch(r"option\s+(\S+)", text)
                    if not m or m.group(1) != "customData":
                        raise DefError(no, "unknown option '%s'" % text[6:].strip())
                    if d.version == "1.6":
                        raise DefError(no, "option customData is for 2.x only")
                    d.custom_data = no
                    continue
                m = ENUM_RE.match(text)
                if m:
                    last_enum = ""  # swallow continuation lines of a bad header
                    check_new_name(d, m.group(1), no)
                    values = m.group(2).split()
                    d.enums[m.group(1)] = (check_enum_values(values, no) if values else [], no)
                    last_enum = m.group(1)
                    continue
                m = TYPE_RE.match(text)
                if m:
                    blk = Block(m.group(1), no, bool(m.group(2)))
                    if not m.group(3):
                        ctx = ("type", blk)
                    check_new_name(d, m.group(1), no)
                    d.types[m.group(1)] = blk
                    continue
                m = MESSAGE_RE.match(text)
                if m:
                    name, direction = m.group(1), m.group(2)
                    msg = {"dir": direction, "line": no, "request": None, "response": None}
                    ctx = ("message", msg, name)  # enter the block even if the header is bad
                    if not NAME_RE.match(name):
                        raise DefError(no, "bad message name '%s'" % name)
                    if name in d.messages:
                        raise DefError(no, "message %s defined twice (first at line %d)" % (name, d.messages[name]["line"]))
                    if direction not in DIRECTIONS:
                        raise DefError(no, "bad direction '%s' (up, down, both or send)" % direction)
                    if direction == "send" and d.version != "2.1":
                        raise DefError(no, "direction 'send' exists only in 2.1")
                    d.messages[name] = msg
                    continue
                raise DefError(no, "expected 'enum', 'type' or 'message', got '%s'" % text)

            if ctx[0] == "message":
                msg = ctx[1]
                if text == "}":
                    if msg["request"] is None:
                        d.err(msg["line"], "message %s has no request block" % ctx[2])
                    if msg["response"] is None and msg["dir"] != "send":
                        d.err(msg["line"], "message %s has no response block" % ctx[2])
                    ctx = None
                    continue
                m = PART_RE.match(text)
                if not m:
                    raise DefError(no, "expected 'request {', 'response {' or '}', got '%s'" % text)
                part = m.group(1)
                if msg[part] is not None:
                    raise DefError(no, "%s block given twice" % part)
                if part == "response" and msg["dir"] == "send":
                    raise DefError(no, "a 'send' message has no response")
                blk = Block(part, no, bool(m.group(2)))
                msg[part] = blk
                if not m.group(3):
                    ctx = ("part", blk, ctx)
                continue

            # inside a type or request/response body
            blk = ctx[1]
            if text == "}":
                ctx = ctx[2] if ctx[0] == "part" else None
                continue
            m = FIELD_RE.match(text)
            if not m:
                raise DefError(no, "expected 'name: TYPE', 'name?: TYPE' or '}', got '%s'" % text)
            fname, opt, tsrc = m.group(1), bool(m.group(2)), m.group(3).strip()
            if any(f[0] == fname for f in blk.fields):
                raise DefError(no, "field '%s' given twice" % fname)
            if d.custom_data and fname == "customData":
                raise DefError(no, "'customData' is added by 'option customData'; do not list it")
            blk.fields.append((fname, opt, TypeParser(tsrc, no).parse_all(), no))
        except DefError as e:
            d.err(e.line, e.message)

    if d.version is None:
        d.err(1, "empty file: the first line must be 'version 1.6|2.0.1|2.1'")
    if ctx is not None:
        d.err(len(lines), "missing '}' at end of file")
    for name, (values, line) in d.enums.items():
        if not values:
            d.err(line, "enum %s has no values" % name)
    check_references(d)
    return d


def check_new_name(d, name, line):
    """Raises when @name is malformed or already taken by a type or an enum."""
    if not NAME_RE.match(name):
        raise DefError(line, "bad name '%s'" % name)
    if name in d.types:
        raise DefError(line, "%s defined twice (first at line %d)" % (name, d.types[name].line))
    if name in d.enums:
        raise DefError(line, "%s defined twice (first at line %d)" % (name, d.enums[name][1]))


def type_refs(t):
    if t["kind"] == "ref":
        yield t
    elif t["kind"] == "array":
        yield from type_refs(t["items"])


def check_references(d):
    blocks = list(d.types.values())
    for msg in d.messages.values():
        blocks += [b for b in (msg["request"], msg["response"]) if b]
    used = set()
    for blk in blocks:
        for fname, _, t, line in blk.fields:
            for r in type_refs(t):
                if r["name"] not in d.types and r["name"] not in d.enums:
                    d.err(line, "unknown type '%s'" % r["name"])
                used.add(r["name"])
    if d.custom_data:
        if "CustomDataType" not in d.types:
            d.err(d.custom_data, "option customData needs a 'type CustomDataType open { ... }' definition")
        used.add("CustomDataType")
    for name, blk in d.types.items():
        if name not in used:
            d.warnings.append((blk.line, "type %s is never used" % name))
    for name, (_, line) in d.enums.items():
        if name not in used:
            d.warnings.append((line, "enum %s is never used" % name))


# ---------------------------------------------------------------- output

def to_schema(t, reached):
    k = t["kind"]
    if k == "ref":
        reached.add(t["name"])
        return {"$ref": "#/definitions/" + t["name"]}
    if k == "inline_enum":
        return {"type": "string", "enum": list(t["values"])}
    if k == "any":
        return {}
    if k == "array":
        s = {"type": "array", "items": to_schema(t["items"], reached)}
        if "min" in t:
            s["minItems"] = t["min"]
        if "max" in t:
            s["maxItems"] = t["max"]
        return s
    s = {"type": k}
    for key in ("format", "minLength", "maxLength", "minimum", "maximum", "multipleOf"):
        if key in t:
            s[key] = t[key]
    return s


def object_schema(d, blk, reached, with_type=True):
    s = {"type": "object"} if with_type else {}
    if not blk.open:
        s["additionalProperties"] = False
    props = {}
    required = []
    if d.custom_data and blk.name != "CustomDataType":
        props["customData"] = to_schema({"kind": "ref", "name": "CustomDataType"}, reached)
    for fname, opt, t, _ in blk.fields:
        props[fname] = to_schema(t, reached)
        if not opt:
            required.append(fname)
    s["properties"] = props
    if required:
        s["required"] = required
    return s


def definitions(d, reached):
    """Definitions for every named type reached, following types transitively."""
    defs = {}
    todo = sorted(reached)
    while todo:
        name = todo.pop()
        if name in defs:
            continue
        if name in d.enums:
            defs[name] = {"type": "string", "enum": list(d.enums[name][0])}
            continue
        more = set()
        defs[name] = object_schema(d, d.types[name], more)
        todo += sorted(more - set(defs))
    return {k: defs[k] for k in sorted(defs)}


def message_schema(d, action, part, blk):
    suffix = "Request" if part == "request" else "Response"
    reached = set()
    body = object_schema(d, blk, reached, with_type=False)
    s = {"$schema": SCHEMA_URI, "$id": "urn:ocppgw:%s:%s%s" % (d.version, action, suffix), "type": "object"}
    s.update(body)
    if reached:
        s["definitions"] = definitions(d, reached)
    return action + suffix + ".json", s


def render(obj):
    return json.dumps(obj, indent=2, ensure_ascii=False) + "\n"


def generate(d):
    """Returns {file name: text} for one version."""
    files = {}
    for action in sorted(d.messages):
        msg = d.messages[action]
        for part in ("request", "response"):
            if msg[part] is not None:
                name, s = message_schema(d, action, part, msg[part])
                files[name] = render(s)
    actions = {a: d.messages[a]["dir"] for a in sorted(d.messages)}
    files["actions.json"] = render({"version": d.version, "actions": actions})
    return files


def main():
    ap = argparse.ArgumentParser(description="Generate schemas/<version>/*.json from schemas/src/*.def")
    ap.add_argument("--check", action="store_true", help="write nothing; exit 1 if any generated file would differ")
    ap.add_argument("--version", choices=VERSIONS, help="generate this version only")
    args = ap.parse_args()

    paths = sorted(os.path.join(SRC_DIR, f) for f in os.listdir(SRC_DIR)
                   if f.startswith("ocpp") and f.endswith(".def"))
    failed = False
    parsed = []
    seen_versions = {}
    for path in paths:
        rel = os.path.relpath(path, ROOT)
        d = parse_file(path)
        if args.version and d.version not in (None, args.version):
            continue
        for line, msg in sorted(d.warnings):
            print("%s:%d: warning: %s" % (rel, line, msg), file=sys.stderr)
        for line, msg in sorted(d.errors):
            print("%s:%d: %s" % (rel, line, msg), file=sys.stderr)
        if d.errors:
            failed = True
            continue
        if d.version in seen_versions:
            print("%s:1: version %s is also defined by %s" % (rel, d.version, seen_versions[d.version]), file=sys.stderr)
            failed = True
            continue
        seen_versions[d.version] = rel
        if args.version is None or d.version == args.version:
            parsed.append(d)
    if args.version and args.version not in seen_versions and not failed:
        print("no .def file declares version %s" % args.version, file=sys.stderr)
        failed = True

    stale = 0
    for d in parsed:
        out = os.path.join(OUT_DIR, d.version)
        files = generate(d)
        if args.check and not os.path.isdir(out):
            print("%s/: missing (run python3 tools/gen-schemas.py)" % os.path.relpath(out, ROOT), file=sys.stderr)
            stale += 1
            continue
        existing = set(f for f in os.listdir(out) if f.endswith(".json")) if os.path.isdir(out) else set()
        for name, text in files.items():
            path = os.path.join(out, name)
            try:
                with open(path, encoding="utf-8") as f:
                    state = "same" if f.read() == text else "out of date"
            except FileNotFoundError:
                state = "missing"
            if state == "same":
                continue
            if args.check:
                print("%s: %s (run python3 tools/gen-schemas.py)" % (os.path.relpath(path, ROOT), state), file=sys.stderr)
                stale += 1
            else:
                os.makedirs(out, exist_ok=True)
                with open(path + ".tmp", "w", encoding="utf-8") as f:
                    f.write(text)
                os.replace(path + ".tmp", path)
        for name in sorted(existing - set(files)):
            path = os.path.join(out, name)
            if args.check:
                print("%s: stale, not generated from any .def" % os.path.relpath(path, ROOT), file=sys.stderr)
                stale += 1
            else:
                os.remove(path)
        if not args.check:
            print("schemas/%s: %d actions, %d files" % (d.version, len(d.messages), len(files)))
    return 1 if failed or stale else 0


if __name__ == "__main__":
    sys.exit(main())
