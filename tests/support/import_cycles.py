"""Import cycles in the `assistant` package: exits 1 and prints each cycle when there is one.

Every import counts, wherever it sits: module level, inside a function (a "lazy" import only hides
a cycle until that function runs) and under `if TYPE_CHECKING:`. Run it from the repository root:

    python tests/support/import_cycles.py            # module cycles (fails on any)
    python tests/support/import_cycles.py --packages # also print the subpackage dependency graph
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path


def module_name(path: Path, root: Path) -> str:
    """`assistant/answer/pipeline.py` -> `assistant.answer.pipeline` (a package's __init__ is the package)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, name: str, known: set[str]) -> set[str]:
    """Modules of the package that `path` imports, resolved to names in `known`."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            # `from pkg import mod` imports a module; `from mod import name` imports the module only
            targets = [f"{stem}.{a.name}" if f"{stem}.{a.name}" in known else stem for a in node.names]
        for t in targets:
            while t and t not in known:
                t = t.rpartition(".")[0]
            if t and t != name:
                found.add(t)
    return found


def graph(root: Path, package: str = "assistant") -> dict[str, set[str]]:
    """Module -> the package modules it imports (an import of a package counts as its __init__)."""
    files = {module_name(p, root): p for p in sorted((root / package).rglob("*.py"))}
    known = set(files)
    return {name: imports_of(path, name, known) for name, path in files.items()}


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in g.get(v, ()):
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
    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def package_graph(g: dict[str, set[str]], depth: int = 2) -> dict[str, set[str]]:
    """The same graph folded to subpackages (`assistant.answer`, `assistant.search`, ...)."""
    def fold(m: str) -> str:
        return ".".join(m.split(".")[:depth])

    out: dict[str, set[str]] = {}
    for m, deps in g.items():
        out.setdefault(fold(m), set()).update(fold(d) for d in deps if fold(d) != fold(m))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--root", default=".", help="repository root (holds the assistant/ folder)")
    p.add_argument("--packages", action="store_true", help="print which subpackage imports which")
    args = p.parse_args(argv)
    g = graph(Path(args.root).resolve())
    found = cycles(g)
    print(f"{len(g)} modules, {sum(len(v) for v in g.values())} imports between them, {len(found)} import cycle(s)")
    for comp in found:
        print("  cycle: " + " <-> ".join(comp))
    if args.packages:
        for pkg, deps in sorted(package_graph(g).items()):
            print(f"  {pkg} -> {', '.join(sorted(deps)) or '(nothing)'}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
