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
    ("domain", frozenset({"domain", "errors", "settings", "language", "progress", "console", "storage_io", "onnx_runtime", "db"})),
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


def _imported(node: ast.AST, module: str = ROOT, package: bool = False) -> list[str]:
    """The callscope (or other) modules an import statement names; ``module`` is the importing
    module (``package``: it is a package's ``__init__``), which relative imports start from."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    name = node.module or ""
    if node.level:  # ``from .x import y``: resolve against the importing module
        base = module.split(".")[: len(module.split(".")) - node.level + (1 if package else 0)]
        name = ".".join([*base, name] if name else base)
    if name == ROOT or (not node.module and node.level):  # ``from callscope import x``: x may be a unit
        return [f"{name}.{alias.name}" for alias in node.names]
    return [name] if name else []


def _dynamic_imports(tree: ast.AST) -> list[tuple[int, str]]:
    """``importlib.import_module("callscope...")`` / ``__import__("callscope...")`` calls (by a
    literal or a module-level constant): imports the graph above cannot see."""
    constants = {
        target.id: node.value.value
        for node in getattr(tree, "body", [])
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if called not in {"import_module", "__import__", "find_spec", "reload"}:
            continue
        arg = node.args[0]
        value = arg.value if isinstance(arg, ast.Constant) else constants.get(arg.id) if isinstance(arg, ast.Name) else None
        if isinstance(value, str) and (value == ROOT or value.startswith(ROOT + ".")):
            found.append((node.lineno, value))
    return found


def unit_imports() -> dict[str, dict[str, list[str]]]:
    """unit -> imported unit -> the ``module:line`` places that import it (every import, at any depth)."""
    units = {p.stem if p.suffix else p.name for p in PACKAGE.iterdir() if not p.name.startswith(("_", "."))}
    edges: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        me = unit_of(module)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            for name in _imported(node, module, path.name == "__init__.py"):
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


def all_units() -> set[str]:
    """Every unit: each module and package of callscope (``commands.py`` files belong to ``cli``)."""
    return {unit_of(_module_name(path)) for path in PACKAGE.rglob("*.py")} - {ROOT}


def test_every_unit_has_a_layer() -> None:
    units = all_units() | set(unit_imports()) | {u for targets in unit_imports().values() for u in targets}
    missing = sorted(units - set(LAYER_OF) - {ROOT})
    assert not missing, f"units without a layer: {missing}; add each to LAYERS here and to ARCHITECTURE.md"


def test_architecture_md_names_every_unit() -> None:
    """The picture in ARCHITECTURE.md shows every unit the test knows (a new unit goes in both)."""
    text = (PACKAGE.parent / "ARCHITECTURE.md").read_text(encoding="utf-8")
    picture = text[: text.index("Why this order")]
    shown = {unit for unit in LAYER_OF if unit == "cli" or f"{unit}/" in picture or f"{unit}.py" in picture}
    assert shown == set(LAYER_OF), f"units missing from ARCHITECTURE.md's picture: {sorted(set(LAYER_OF) - shown)}"


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
    relative = ast.parse("from . import queue\nfrom ..search import index\nfrom .runner import run_job").body
    assert _imported(relative[0], "callscope.jobs", package=True) == ["callscope.jobs.queue"]
    assert _imported(relative[1], "callscope.jobs.runner") == ["callscope.search"]
    assert _imported(relative[2], "callscope.jobs.queue") == ["callscope.jobs.runner"]
    tree = ast.parse('import importlib\nTASK = "callscope.jobs.worker"\ndef f():\n    importlib.import_module(TASK)\n')
    assert _dynamic_imports(tree) == [(4, "callscope.jobs.worker")]
    assert {"pipeline", "jobs", "ivr", "api", "cli", "selfservice", "llm", "qa", "search", "insights", "auth"} <= all_units()


def test_no_import_by_name() -> None:
    """callscope's own modules are imported by import statements, never looked up by a string."""
    found = [
        f"{path.relative_to(PACKAGE.parent).as_posix()}:{line} ({name})"
        for path in sorted(PACKAGE.rglob("*.py"))
        for line, name in _dynamic_imports(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert not found, "callscope modules imported by name:\n" + "\n".join(found)


def test_the_cli_registers_every_commands_module() -> None:
    """One CLI pattern: each ``commands.py`` has a module-level Typer ``app`` that ``cli.py`` adds."""
    modules = {_module_name(path) for path in PACKAGE.rglob("commands.py")}
    cli = ast.parse((PACKAGE / "cli.py").read_text(encoding="utf-8"))
    imported = {
        f"{node.module}.{alias.name}" for node in cli.body if isinstance(node, ast.ImportFrom) for alias in node.names
    }
    assert modules <= imported, f"commands modules cli.py does not add: {sorted(modules - imported)}"
    for module in sorted(modules):
        path = PACKAGE.parent / (module.replace(".", "/") + ".py")
        tree = ast.parse(path.read_text(encoding="utf-8"))
        apps = [n for n in tree.body if isinstance(n, ast.Assign) and any(getattr(t, "id", None) == "app" for t in n.targets)]
        assert apps, f"{module} has no module-level Typer app"
        assert not [n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "register"], (
            f"{module}: register() functions are the old CLI pattern"
        )


# Files whose function-local imports wait for parallel branches to land (then: empty this).
LOCAL_IMPORTS_PENDING: frozenset[str] = frozenset()


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
                    if any(n.startswith(ROOT + ".") or n == ROOT for n in _imported(sub, _module_name(path)))
                ]
    assert not local, "callscope imports inside functions (move them to the top of the file):\n" + "\n".join(
        sorted(set(local))
    )
