#!/usr/bin/env python3
"""tests/lint/includes.py: the shape of src/'s includes, checked against the
layer table of docs/design.md.

	tests/lint/includes.py [--report] [ROOT]

A module is a .c file with the header of the same name (x.c and x.h are
module x; x_impl.h, a backend's insides, belongs to x too).  Module a
depends on b when one of a's files includes one of b's.  docs/design.md
holds, between the lines "<!-- layers -->" and "<!-- /layers -->", one
line per layer, "N module module ...", the lowest layer first, each module
in one layer only.  This script fails (exit 1) when
  - a module of src/ is missing from the table, or the table names one
    that does not exist;
  - an include points up (to a module of a higher layer) without a
    comment on its line saying why ("/* up: ... */"), or more than
    MAX_UP do even with one;
  - modules include each other in a cycle, but for a backend's own files
    (modules that share the prefix of a store backend, "store_s3").
--report also prints the figures: files, lines, modules, the longest
chain of module dependencies, cycles, upward includes, the largest files.
"""
import os
import re
import sys

MAX_UP = 3
BACKEND_PREFIXES = ("store_s3",)
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"(.*)$')


def module_of(name):
    base = os.path.splitext(os.path.basename(name))[0]
    return base[:-len("_impl")] if base.endswith("_impl") else base


def read_layers(design):
    layers = {}
    inside = False
    with open(design, encoding="utf-8") as f:
        for line in f:
            if line.strip() == "<!-- layers -->":
                inside = True
                continue
            if line.strip() == "<!-- /layers -->":
                break
            words = line.split()
            if not inside or not words or not words[0].isdigit():
                continue
            for name in words[1:]:
                m = module_of(name)
                if layers.get(m, int(words[0])) != int(words[0]):
                    raise SystemExit("%s: %s is in two layers" %
                                     (design, m))
                layers[m] = int(words[0])
    if not layers:
        raise SystemExit("%s: no layer table between <!-- layers --> "
                         "and <!-- /layers -->" % design)
    return layers


def scan(src):
    files = {}
    for name in sorted(os.listdir(src)):
        if not name.endswith((".c", ".h")):
            continue
        incs = []
        with open(os.path.join(src, name), encoding="utf-8") as f:
            lines = f.read().splitlines()
        for line in lines:
            m = INCLUDE.match(line)
            if m and os.path.exists(os.path.join(src, m.group(1))):
                incs.append((m.group(1), "up:" in m.group(2)))
        files[name] = (len(lines), incs)
    return files


def sccs(graph):
    """Tarjan's strongly connected components (recursive; graphs are small)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
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
            out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def longest_chain(graph, comps):
    comp_of = {v: i for i, c in enumerate(comps) for v in c}
    memo = {}

    def depth(i):
        if i not in memo:
            memo[i] = 0
            nxt = {comp_of[w] for v in comps[i] for w in graph[v]} - {i}
            memo[i] = 1 + max((depth(j) for j in nxt), default=0)
        return memo[i]

    return max(depth(i) for i in range(len(comps)))


def main(argv):
    report = "--report" in argv
    args = [a for a in argv if a != "--report"]
    root = args[0] if args else os.path.join(os.path.dirname(__file__),
                                              "..", "..")
    src = os.path.join(root, "src")
    layers = read_layers(os.path.join(root, "docs", "design.md"))
    files = scan(src)

    graph = {}
    for name in files:
        graph.setdefault(module_of(name), set())
    problems = []
    ups = []
    for name, (_, incs) in files.items():
        a = module_of(name)
        for inc, explained in incs:
            b = module_of(inc)
            if a == b:
                continue
            graph[a].add(b)
            if a in layers and b in layers and layers[b] > layers[a]:
                ups.append((name, inc, explained))
                if not explained:
                    problems.append("%s includes %s (layer %d > %d) with "
                                    "no /* up: why */ comment" %
                                    (name, inc, layers[b], layers[a]))
    if len(ups) > MAX_UP:
        problems.append("%d upward includes (at most %d)" %
                        (len(ups), MAX_UP))
    for m in sorted(set(graph) - set(layers)):
        problems.append("module %s is in no layer of docs/design.md" % m)
    for m in sorted(set(layers) - set(graph)):
        problems.append("docs/design.md names %s, which src/ lacks" % m)

    comps = sccs(graph)
    cycles = [c for c in comps if len(c) > 1]
    for c in cycles:
        if not any(all(m.startswith(p) for m in c) for p in BACKEND_PREFIXES):
            problems.append("include cycle: %s" % " <-> ".join(c))

    if report:
        lines = sum(n for n, _ in files.values())
        cfiles = [f for f in files if f.endswith(".c")]
        print("files: %d (%d .c), lines: %d, modules: %d" %
              (len(files), len(cfiles), lines, len(graph)))
        print("longest chain of module dependencies: %d" %
              longest_chain(graph, comps))
        print("cycles: %d%s" % (len(cycles), "".join(
            "\n  " + " <-> ".join(c) for c in cycles)))
        print("upward includes: %d%s" % (len(ups), "".join(
            "\n  %s -> %s%s" % (f, i, "" if e else " (unexplained)")
            for f, i, e in ups)))
        big = sorted(files.items(), key=lambda kv: -kv[1][0])[:6]
        print("largest files: " + ", ".join("%s %d" % (f, n)
                                            for f, (n, _) in big))
    for p in problems:
        print("includes: " + p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
