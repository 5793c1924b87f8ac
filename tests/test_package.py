"""The package as installed: the built-in texts are package data, `--version`, `python -m rnntui`.

CI (.ci/run) also builds the wheel, installs it into a clean venv and runs it from outside the checkout.
"""

import fnmatch
import subprocess
import sys
from pathlib import Path

import pytest

import rnntui
from rnntui.core.data.builtin import SHIPPED, resolve_corpus

ROOT = Path(__file__).resolve().parents[1]


def test_shipped_corpora_resolve_inside_the_package():
    package = Path(rnntui.__file__).resolve().parent
    for name in SHIPPED:
        path = resolve_corpus(name)
        assert path.resolve().parent == package / "corpora" and path.stat().st_size > 1000, name


def test_package_data_names_every_shipped_text():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    for filename in SHIPPED.values():
        assert any(fnmatch.fnmatch(f"corpora/{filename}", glob) for glob in data["rnntui"]), filename


def test_version_flag_and_python_dash_m():
    r = subprocess.run([sys.executable, "-m", "rnntui", "--version"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.strip() == f"rnntui {rnntui.version()}"


def test_version_falls_back_to_the_module_when_not_installed(monkeypatch):
    import importlib.metadata as md

    def missing(name):
        raise md.PackageNotFoundError(name)

    monkeypatch.setattr(md, "version", missing)
    assert rnntui.version() == rnntui.__version__
