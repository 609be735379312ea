#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The gateway's layers, checked: builds the include graph of src/ (and,
given the object files, the call graph between them from `nm`: a file that
uses a symbol another defines depends on it) and fails on a circle between
files or on a lower layer reaching into a higher one. It does not judge
what a file does, only which way its dependencies point.

usage: check-layers.py [--objects DIR] [--graph] SRCDIR
       check-layers.py --self-test
"""
import os
import re
import subprocess
import sys

# Lowest first: a file may depend on its own layer and those before it.
# A file's layer is the longest entry its path starts with. Features may
# use one another's headers (the balancer reads the charger state) so long
# as no circle forms; the admin API is a door of its own over the
# transports (listen.c) and every feature it shows.
LAYERS = ["session", "features", "transport", "features/admin", "gateway"]

# Known exceptions still to remove, each with its reason; the checker
# fails when one disappears too, so the list only shrinks. Empty now.
KNOWN = {}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def layer_of(path):
    best = None
    for i, name in enumerate(LAYERS):
        if path.startswith(name + "/") and (best is None or len(name) > len(LAYERS[best])):
            best = i
    return best


def source_files(src):
    for top in sorted({name.split("/")[0] for name in LAYERS}):
        for root, _, files in os.walk(os.path.join(src, top)):
            for f in sorted(files):
                if f.endswith((".c", ".h")):
                    yield os.path.relpath(os.path.join(root, f), src)


def include_edges(src, files):
    edges = set()
    for f in files:
        with open(os.path.join(src, f), encoding="utf-8") as fh:
            for inc in INCLUDE.findall(fh.read()):
                if layer_of(inc) is not None:
                    edges.add((f, inc))
    return edges


def call_edges(objdir, files):
    """file -> file where the first uses a symbol the second defines."""
    objs = {}
    for root, _, names in os.walk(objdir):
        for n in names:
            if n.endswith(".c.o"):
                # meson names objects after the source path with / as _
                objs[n[:-len(".c.o")]] = os.path.join(root, n)
    defined, used = {}, {}
    for f in files:
        if not f.endswith(".c"):
            continue
        flat = f.replace("/", "_")[:-2]
        # a source beside the library's meson.build is named by its base name
        key = next((k for k in objs if k == flat or k.endswith("_" + flat)), None) or \
            next((k for k in objs if k == os.path.basename(f)[:-2]), None)
        if not key:
            continue
        out = subprocess.run(["nm", objs[key]], capture_output=True, text=True,
                             check=True).stdout
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0] == "U":
                used.setdefault(f, set()).add(parts[1])
            elif len(parts) == 3 and parts[1] in "TDBR":
                defined[parts[2]] = f
    edges = set()
    for f, syms in used.items():
        for s in syms:
            g = defined.get(s)
            if g and g != f:
                edges.add((f, g))
    return edges


def cycles(edges):
    """Strongly connected components of more than one file (Tarjan)."""
    graph = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
        graph.setdefault(b, set())
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def self_test():
    """The checker on small trees: a clean one passes; an upward include
    and a circle, across folders or inside one, are each caught."""
    import tempfile

    def tree(files):
        d = tempfile.mkdtemp(prefix="layers-")
        for path, text in files.items():
            os.makedirs(os.path.join(d, os.path.dirname(path)), exist_ok=True)
            with open(os.path.join(d, path), "w", encoding="utf-8") as fh:
                fh.write(text)
        return d

    clean = {"session/s.h": "", "session/s.c": '#include "session/s.h"\n',
             "features/f/f.c": '#include "session/s.h"\n'}
    upward = dict(clean, **{"session/s.c": '#include "features/f/f.h"\n',
                            "features/f/f.h": ""})
    circle = dict(clean, **{"features/f/f.h": '#include "transport/t.h"\n',
                            "transport/t.h": '#include "features/f/f.h"\n'})
    inside = dict(clean, **{"features/f/a.h": '#include "features/f/b.h"\n',
                            "features/f/b.h": '#include "features/f/a.h"\n'})
    ok = True
    for name, files, want in (("clean", clean, 0), ("upward", upward, 1),
                              ("circle", circle, 1), ("circle inside a folder", inside, 1)):
        got = main(["check-layers.py", tree(files)])
        if got != want:
            print(f"self-test {name}: exit {got}, expected {want}")
            ok = False
    return 0 if ok else 1


def main(argv):
    if argv[1:] == ["--self-test"]:
        return self_test()
    objdir = None
    show = False
    args = argv[1:]
    if "--objects" in args:
        i = args.index("--objects")
        objdir = args[i + 1]
        del args[i:i + 2]
    if "--graph" in args:
        show = True
        args.remove("--graph")
    if len(args) != 1:
        print(__doc__.split("\n\n")[-1], file=sys.stderr)
        return 2
    src = args[0]
    files = list(source_files(src))
    edges = {(a, b, "include") for a, b in include_edges(src, files)}
    if objdir:
        edges |= {(a, b, "calls") for a, b in call_edges(objdir, files)}
    if show:
        for a, b, how in sorted(edges):
            print(f"{a} -> {b} ({how})")

    problems = []
    seen_known = set()
    for a, b, how in sorted(edges):
        la, lb = layer_of(a), layer_of(b)
        if lb > la:
            if (a, b) in KNOWN:
                seen_known.add((a, b))
                continue
            problems.append(f"upward {how}: {a} ({LAYERS[la]}) -> {b} ({LAYERS[lb]})")
    pair_edges = {(a, b) for a, b, _ in edges}
    for comp in cycles(pair_edges):
        known = all((a, b) in KNOWN for a in comp for b in comp if (a, b) in pair_edges
                    and layer_of(b) > layer_of(a))
        inner = sorted((a, b) for a in comp for b in comp if (a, b) in pair_edges)
        if known and any(layer_of(b) > layer_of(a) for a, b in inner):
            seen_known.update((a, b) for a, b in inner if (a, b) in KNOWN)
            print("known circle (see KNOWN): " + " <-> ".join(comp))
            continue
        # Inside one folder too: two files that call each other are one
        # unit in two pieces, and the guide wants no two files in a circle.
        problems.append("circle: " + " <-> ".join(comp))
    for k, why in KNOWN.items():
        if why and k not in seen_known and (objdir or not k[1].endswith(".c")):
            problems.append(f"gone, drop it from KNOWN: {k[0]} -> {k[1]}")
    for p in problems:
        print(p)
    print(f"{len(files)} files, {len(edges)} edges, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
