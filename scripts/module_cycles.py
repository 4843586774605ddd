#!/usr/bin/env python3
"""Import cycles between the modules of a crate, from its sources.

Usage: python3 scripts/module_cycles.py runtime/src [--depth N]

Every `crate::a::b` and `super::…` path in a module's file (comments
excluded) is an edge from that module to the module it names, cut to the
first N path segments (default 2: `call::orchestrator`, `auth::flows`).
Edges inside one module are ignored. Prints each cycle (a strongly
connected component of more than one module) with the lines that make it,
and exits 1 if there is one.
"""

import os
import re
import sys
from collections import defaultdict

PATH = re.compile(r"\b(crate|super)((?:::[A-Za-z_][A-Za-z0-9_]*)+)")
BRACE = re.compile(r"\b(crate|super)((?:::[A-Za-z_][A-Za-z0-9_]*)*)::\{([^}]*)\}", re.S)


def module_of(root, path):
    rel = os.path.relpath(path, root)[:-3].split(os.sep)
    if rel[-1] in ("mod", "lib", "main"):
        rel = rel[:-1]
    return rel


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return "\n".join(line.split("//", 1)[0] for line in text.splitlines())


def is_module(root, segments):
    base = os.path.join(root, *segments)
    return os.path.isfile(base + ".rs") or os.path.isfile(os.path.join(base, "mod.rs"))


def resolve(root, here, kind, tail, depth):
    """The module (cut to `depth` segments) that path `kind::tail` names
    from module `here`."""
    if kind == "crate":
        absolute = list(tail)
    else:
        absolute = list(here[:-1])
        while tail and tail[0] == "super":
            absolute = absolute[:-1]
            tail = tail[1:]
        absolute += tail
    known = []
    for seg in absolute:
        if not is_module(root, known + [seg]):
            break
        known.append(seg)
    return tuple(known[:depth])


def paths_in(text):
    """(kind, segments, offset) of every crate/super path, `{…}` groups
    expanded to their first segment."""
    for m in BRACE.finditer(text):
        prefix = [s for s in m.group(2).split("::") if s]
        for item in m.group(3).split(","):
            first = item.strip().split("::")[0].split(" ")[0]
            if first and first != "self":
                yield m.group(1), prefix + [first], m.start()
    for m in PATH.finditer(text):
        yield m.group(1), [s for s in m.group(2).split("::") if s], m.start()


def edges(root, depth):
    found = defaultdict(list)
    for dirpath, _, files in os.walk(root):
        for name in files:
            if not name.endswith(".rs"):
                continue
            path = os.path.join(dirpath, name)
            here = module_of(root, path)
            # Test-only helpers and binaries are not part of the library.
            if here and here[0] in ("bin", "testing"):
                continue
            text = strip_comments(open(path, encoding="utf-8").read())
            # Unit tests (at the end of a file) may reach anywhere.
            text = text.split("#[cfg(test)]", 1)[0]
            source = tuple(here[:depth])
            for kind, tail, at in paths_in(text):
                to = resolve(root, here, kind, tail, depth)
                # Nesting is not a dependency between peers.
                if not to or to[: len(source)] == source or source[: len(to)] == to:
                    continue
                line = text.count("\n", 0, at) + 1
                found[(source, to)].append(f"{os.path.relpath(path, root)}:{line}")
    return found


def cycles(found):
    graph = defaultdict(set)
    for (a, b) in found:
        graph[a].add(b)
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
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in list(graph):
        if v not in index:
            visit(v)
    return out


def main():
    args = sys.argv[1:]
    depth = 2
    if "--depth" in args:
        i = args.index("--depth")
        depth = int(args[i + 1])
        del args[i : i + 2]
    root = args[0] if args else "runtime/src"
    found = edges(root, depth)
    name = lambda m: "::".join(m)
    components = cycles(found)
    modules = {m for pair in found for m in pair}
    print(f"{len(modules)} modules, {len(found)} dependencies between them (depth {depth})")
    for component in components:
        members = set(component)
        print("cycle: " + " <-> ".join(name(m) for m in component))
        for (a, b), where in sorted(found.items()):
            if a in members and b in members:
                print(f"  {name(a)} -> {name(b)}: {', '.join(where[:3])}")
    if components:
        sys.exit(1)
    print("no cycles")


if __name__ == "__main__":
    main()
