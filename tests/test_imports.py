"""Import hygiene: the engine never pulls in the UI toolkit, no module imports itself back through a circle,
and the UI paints before torch loads."""

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import rnntui.core


def core_modules() -> list[str]:
    """Every module under rnntui/core, found on disk: a new module is checked without editing this file."""
    return sorted(m.name for m in pkgutil.walk_packages(rnntui.core.__path__, prefix="rnntui.core."))


# Imports each core module in turn in a fresh interpreter and reports, per module, the UI-toolkit modules
# that appeared in sys.modules after it was imported (so the first culprit is named).
PROBE = """
import importlib, json, sys
ui = lambda: sorted(m for m in sys.modules if m.split(".")[0] in ("textual", "rich"))
report = {}
for name in sys.argv[1:]:
    importlib.import_module(name)
    report[name] = ui()
report["torch loaded"] = "torch" in sys.modules
print(json.dumps(report))
"""


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print(' '.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(out.stdout.split())


def test_core_modules_are_found_by_enumeration():
    found = core_modules()
    assert {"rnntui.core.analysis.features", "rnntui.core.train.evaluation", "rnntui.core.train.engine"} <= set(found)
    core = Path(rnntui.core.__path__[0])
    on_disk = {
        ".".join(("rnntui", "core", *p.relative_to(core).with_suffix("").parts)).removesuffix(".__init__")
        for p in core.rglob("*.py")
    }
    assert set(found) == on_disk - {"rnntui.core"}  # every package and module, however deep


# -----------------------------------------------------------------------------
# the import graph: read from the source (every import, at module level or inside a function), walked for circles


def import_graph() -> dict[str, set[str]]:
    """module -> the rnntui modules it imports (a name imported from a package is its module when it is one)."""
    package = Path(rnntui.__path__[0])
    mods = {
        ".".join(("rnntui", *p.relative_to(package).with_suffix("").parts)).removesuffix(".__init__"): p
        for p in package.rglob("*.py")
    }

    def module_of(name: str) -> str | None:
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {m: set() for m in mods}
    for m, path in mods.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [f"{node.module}.{a.name}" for a in node.names]
            else:
                continue
            graph[m] |= {t for t in map(module_of, targets) if t is not None and t != m}
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = [stack.pop()]
            while component[-1] != v:
                component.append(stack.pop())
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_import_graph_has_no_circle():
    graph = import_graph()
    assert "rnntui.core.train.engine" in graph["rnntui.cli.train"]  # the graph is real: imports were read
    assert circles(graph) == []


def test_the_circle_finder_finds_a_circle():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_core_never_imports_textual_or_rich():
    mods = core_modules()
    out = subprocess.run([sys.executable, "-c", PROBE, *mods], capture_output=True, text=True, check=True)
    report = json.loads(out.stdout)
    assert report.pop("torch loaded")  # the check is real: the core did load
    assert list(report) == mods  # every module was imported
    assert {name: ui for name, ui in report.items() if ui} == {}


def test_config_and_events_do_not_import_torch():
    mods = _modules_after("import rnntui.core.config, rnntui.core.events")
    assert "torch" not in mods
