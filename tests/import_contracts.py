"""The import contracts of the erlen package, checked by ``make lint``.

Every import counts, those inside functions too (only those under ``if TYPE_CHECKING:`` do
not: they never run). The contracts, with the layers of docs/design.md:

1. No cycle: no module reaches itself through the imports of others.
2. Only the package (``erlen/__init__.py``) imports ``erlen.app``: every other module takes
   the app as a type, so the app composes the rest and nothing depends on it.
3. Only the app, its pipeline and the test clients (which drive them) import the protocol
   adapters (``erlen.protocols``): the rest of the package never sees an environ or a scope
   through them.
4. The tools (the CLI, the test clients, the development server) are imported by the app, on
   first use, and by nothing below it but the registration of CLI groups (``Scaffold.cli``).
5. The speedups (``erlen._speedups``) sit below everything: they import no erlen module of
   their own package's outside.
6. A private attribute of werkzeug (a name werkzeug's own code gives its objects, like
   ``Headers._list``) is read or written only inside ``erlen._speedups``, unless erlen gives
   objects of its own that name (its subclasses' attributes).
7. Layers (docs/design.md, "Every module, by layer"): a module imports only from its own layer
   or those below it, but for the registration of CLI groups (contract 4).

    python tests/import_contracts.py [src]     # exit status 1, with the broken contracts
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "src"

SPEEDUPS = "erlen._speedups"
#: The layers, from the bottom up, by the top-level name under ``erlen`` ("" is the package).
LAYERS: tuple[tuple[str, ...], ...] = (
    ("_speedups",),
    ("typing", "globals", "background_loop", "concurrency", "workers", "handoff", "config",
     "signals", "logging"),
    ("wrappers", "response_headers", "formparser", "routing", "responses", "files", "sse",
     "websockets"),
    ("ctx", "sessions", "flashing", "json", "templating", "security", "urls", "errors",
     "views", "helpers", "lifespan", "channels", "server_sessions", "deploy_checks", "finalizing",
     "debughelpers", "scaffold", "template_functions", "blueprints"),
    ("protocols",),
    ("app", "pipeline", ""),
    ("cli", "testing", "devserver", "flask_compat", "flask_alias"),
)  # fmt: skip
#: Names werkzeug documents as public despite the underscore (LocalProxy's).
DOCUMENTED = {"_get_current_object"}
TOOLS = ("erlen.cli", "erlen.testing", "erlen.devserver")
#: Who may import what (contracts 2 to 4): importer prefixes allowed, per imported prefix.
ALLOWED_IMPORTERS: dict[str, tuple[str, ...]] = {
    "erlen.app": ("erlen",),
    "erlen.protocols": ("erlen.app", "erlen.pipeline", "erlen.protocols", "erlen.testing"),
    **{tool: ("erlen.app", *TOOLS, "erlen.scaffold", "erlen.blueprints") for tool in TOOLS},
}


def modules(root: Path) -> dict[str, Path]:
    """The modules of the erlen package under ``root``, by dotted name."""
    found = {}
    for path in sorted((root / "erlen").rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> Iterator[str]:
    """The erlen modules that ``name`` imports when it runs."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            # A name is a submodule (from . import typing), else something of ``base``.
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            while target and target not in known and "." in target:
                target = target.rpartition(".")[0]
            if target in known and target != name:
                yield target


def _runtime_nodes(node: ast.AST) -> Iterator[ast.AST]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
            yield from (n for branch in child.orelse for n in [branch, *_runtime_nodes(branch)])
            continue
        yield child
        yield from _runtime_nodes(child)


def graph(root: Path) -> dict[str, set[str]]:
    known = modules(root)
    return {name: set(imports(name, path, known)) for name, path in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (iteratively, Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in edges:
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def broken_contracts(edges: dict[str, set[str]]) -> list[str]:
    problems = [f"import cycle: {' <-> '.join(component)}" for component in cycles(edges)]
    for importer, imported in sorted((a, b) for a, targets in edges.items() for b in targets):
        for prefix, allowed in ALLOWED_IMPORTERS.items():
            if _within(imported, prefix) and not any(
                importer == who or (who != "erlen" and _within(importer, who)) for who in allowed
            ):
                problems.append(f"{importer} imports {imported}: only {', '.join(allowed)} may")
    return problems


def speedups_imports(edges: dict[str, set[str]]) -> list[str]:
    """Contract 5: the speedups import only themselves."""
    return [
        f"{importer} imports {imported}: the speedups import no other part of erlen"
        for importer, targets in sorted(edges.items())
        if _within(importer, SPEEDUPS)
        for imported in sorted(targets)
        if not _within(imported, SPEEDUPS)
    ]


def layer_breaches(edges: dict[str, set[str]]) -> list[str]:
    """Contract 7: imports of a higher layer (a module missing from LAYERS is one too)."""
    layer = {name: index for index, names in enumerate(LAYERS) for name in names}
    problems = []
    for importer, targets in sorted(edges.items()):
        low = layer.get(_top(importer))
        if low is None:
            problems.append(f"{importer} is in no layer of LAYERS: add it where it belongs")
            continue
        for imported in sorted(targets):
            high = layer.get(_top(imported), len(LAYERS))
            tools = any(_within(imported, tool) for tool in TOOLS)
            allowed_tool = tools and any(
                importer == who or _within(importer, who) for who in ALLOWED_IMPORTERS[TOOLS[0]]
            )
            if high > low and _top(importer) not in ("app", "") and not allowed_tool:
                problems.append(
                    f"{importer} imports {imported}, a higher layer (docs/design.md, layers)"
                )
    return problems


def _top(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else ""


def _private_names(tree: ast.AST) -> set[str]:
    """The single-underscore names a module gives objects: ``x._name = ...`` and names bound in
    class bodies (attributes and methods)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            targets = [node.target]
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    names.add(item.name)
                elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    names.add(item.target.id)
                elif isinstance(item, ast.Assign):
                    names.update(t.id for t in item.targets if isinstance(t, ast.Name))
        for target in targets:
            for part in ast.walk(target):
                if isinstance(part, ast.Attribute):
                    names.add(part.attr)
    return {name for name in names if name.startswith("_") and not name.startswith("__")}


def werkzeug_private_uses(root: Path) -> list[str]:
    """Contract 6: where erlen, outside the speedups, touches a private name of werkzeug's."""
    import werkzeug

    theirs: set[str] = set()
    for path in Path(werkzeug.__file__).parent.rglob("*.py"):
        theirs |= _private_names(ast.parse(path.read_text(encoding="utf-8")))
    trees = {
        name: ast.parse(path.read_text(encoding="utf-8"))
        for name, path in modules(root).items()
        if not _within(name, SPEEDUPS)
    }
    ours: set[str] = set().union(*map(_private_names, trees.values())) | DOCUMENTED
    problems = []
    for name, tree in sorted(trees.items()):
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in theirs and node.attr not in ours:
                problems.append(
                    f"{name}:{node.lineno} uses werkzeug's private {node.attr}: only"
                    f" {SPEEDUPS} may (add a function there, and its test)"
                )
    return problems


def main() -> int:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT
    edges = graph(root)
    problems = [
        *broken_contracts(edges),
        *speedups_imports(edges),
        *layer_breaches(edges),
        *werkzeug_private_uses(root),
    ]
    for problem in problems:
        print(problem)
    count = sum(map(len, edges.values()))
    print(f"{len(edges)} modules, {count} imports: {len(problems)} broken contracts")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
