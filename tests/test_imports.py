"""Import hygiene: the engine never pulls in the UI toolkit, and the UI paints before torch loads."""
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
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys; print(' '.join(sys.modules))"],
                         capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_core_modules_are_found_by_enumeration():
    found = core_modules()
    assert {"rnntui.core.features", "rnntui.core.evaluation", "rnntui.core.engine"} <= set(found)
    on_disk = {p.stem for p in Path(rnntui.core.__path__[0]).glob("*.py")}
    assert {m.rsplit(".", 1)[1] for m in found if m.count(".") == 2} == on_disk - {"__init__"}


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
