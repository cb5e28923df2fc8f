"""The layering of ARCHITECTURE.md holds: units import only their own or lower layers,
and no two units import each other, directly or round a longer cycle.

A *unit* is a top-level module or package of ``callscope``; every ``commands.py`` (a
unit's CLI face, registered by ``cli.py``) belongs to the ``cli`` unit.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "callscope"

# Lowest first; ARCHITECTURE.md draws the same table.
LAYERS: tuple[tuple[str, frozenset[str]], ...] = (
    ("domain", frozenset({"domain", "errors", "settings", "language", "progress", "console", "storage_io", "db"})),
    ("stores", frozenset({"recordings", "context"})),
    ("engines", frozenset({"diarization", "transcription", "llm"})),
    ("analysis", frozenset({"analysis"})),
    ("ivr", frozenset({"ivr"})),
    ("services", frozenset({"insights", "search", "qa", "auth", "selfservice"})),
    ("processing", frozenset({"pipeline", "jobs"})),
    ("http", frozenset({"api"})),
    ("story", frozenset({"demo", "closed_loop"})),
    ("entry points", frozenset({"cli", "migrations"})),
)
LAYER_OF = {unit: rank for rank, (_, units) in enumerate(LAYERS) for unit in units}
ROOT = "callscope"  # callscope/__init__.py: the version only


def unit_of(module: str) -> str:
    """The unit of a dotted module name inside callscope."""
    parts = module.split(".")
    if len(parts) == 1:
        return ROOT
    if parts[-1] == "commands" or parts[1] in {"cli", "commands", "__main__"}:
        return "cli"
    return parts[1]


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.module and not node.level:
        if node.module == ROOT:  # ``from callscope import x``: x may be a unit
            return [f"{ROOT}.{alias.name}" for alias in node.names]
        return [node.module]
    return []


def unit_imports() -> dict[str, dict[str, list[str]]]:
    """unit -> imported unit -> the ``module:line`` places that import it (every import, at any depth)."""
    units = {p.stem if p.suffix else p.name for p in PACKAGE.iterdir() if not p.name.startswith(("_", "."))}
    edges: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        me = unit_of(module)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            for name in _imported(node):
                if not name.startswith(ROOT + "."):
                    continue
                other = unit_of(name)
                if other not in units and other != "cli":  # e.g. ``from callscope import __version__``
                    other = ROOT
                if other != me:
                    edges[me][other].append(f"{module}:{node.lineno}")
    return edges


def _cycles(edges: dict[str, dict[str, list[str]]]) -> list[list[str]]:
    """Strongly connected components of more than one unit (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in edges.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in list(edges):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle_between_units() -> None:
    edges = unit_imports()
    cycles = _cycles(edges)
    detail = [
        f"{a} -> {b} ({', '.join(edges[a][b][:3])})" for cycle in cycles for a in cycle for b in cycle if b in edges[a]
    ]
    assert not cycles, f"import cycles between units {cycles}:\n" + "\n".join(detail)


def test_every_unit_has_a_layer() -> None:
    units = set(unit_imports()) | {u for targets in unit_imports().values() for u in targets}
    missing = sorted(units - set(LAYER_OF) - {ROOT})
    assert not missing, f"units without a layer: {missing}; add each to LAYERS here and to ARCHITECTURE.md"


def test_units_import_only_downward() -> None:
    upward = [
        f"{me} ({LAYERS[LAYER_OF[me]][0]}) imports {other} ({LAYERS[LAYER_OF[other]][0]}) at {', '.join(places[:3])}"
        for me, targets in unit_imports().items()
        for other, places in targets.items()
        if me in LAYER_OF and other in LAYER_OF and LAYER_OF[other] > LAYER_OF[me]
    ]
    assert not upward, "imports against the layering of ARCHITECTURE.md:\n" + "\n".join(upward)


def test_the_checker_sees_a_cycle() -> None:
    edges = {"a": {"b": ["a.x:1"]}, "b": {"c": ["b.y:2"]}, "c": {"a": ["c.z:3"]}, "d": {"a": ["d:1"]}}
    assert _cycles(edges) == [["a", "b", "c"]]
    assert unit_of("callscope.ivr.commands") == "cli"
    assert unit_of("callscope.insights.mining") == "insights"


# Files whose function-local imports wait for parallel branches to land (then: empty this).
LOCAL_IMPORTS_PENDING = frozenset({
    # only `neural` stays local in diarize.py: it loads torch through campplus at import (+190 MB, ~2 s per
    # process), which stereo calls never need
    "callscope/diarization/diarize.py",
})


def test_callscope_imports_stand_at_the_top_of_files() -> None:
    """Imports inside functions hide the dependency graph; only heavy third-party libraries may wait."""
    local = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = path.relative_to(PACKAGE.parent).as_posix()
        if name in LOCAL_IMPORTS_PENDING:
            continue
        for func in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
                local += [
                    f"{name}:{node.lineno}"
                    for node in func.body
                    for sub in ast.walk(node)
                    if any(n.startswith(ROOT + ".") or n == ROOT for n in _imported(sub))
                ]
    assert not local, "callscope imports inside functions (move them to the top of the file):\n" + "\n".join(
        sorted(set(local))
    )
