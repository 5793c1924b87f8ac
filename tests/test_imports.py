"""Import hygiene: the engine never pulls in the UI toolkit, and the UI paints before torch loads."""
import subprocess
import sys

CORE = ["config", "events", "corpus", "builtin", "models", "history", "schedule", "engine", "probes",
        "sampling", "checkpoints", "devices", "inspect"]


def _modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys; print(' '.join(sys.modules))"],
                         capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_core_never_imports_textual_or_rich():
    mods = _modules_after("\n".join(f"import rnntui.core.{m}" for m in CORE))
    assert "torch" in mods  # the check is real: the core did load
    assert not any(m == "textual" or m.startswith("textual.") for m in mods)
    assert not any(m == "rich" or m.startswith("rich.") for m in mods)


def test_config_and_events_do_not_import_torch():
    mods = _modules_after("import rnntui.core.config, rnntui.core.events")
    assert "torch" not in mods
