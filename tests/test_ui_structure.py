"""How the app's parts talk, checked on the source: one App class, screens and widgets without mixins, and
screens and widgets that reach the app only through Textual's own services (attributes go down, messages
go up: a screen asks the app for something by posting a message declared on the screen)."""

import ast
import importlib
import inspect
from pathlib import Path

from textual.app import App
from textual.screen import Screen
from textual.widget import Widget

import rnntui.ui

UI = Path(rnntui.ui.__path__[0])

# What a screen or widget may use of self.app: Textual's services, none of the app's own attributes.
TEXTUAL_SERVICES = {
    "call_from_thread",  # a thread worker hands its result to the UI thread
    "push_screen",  # a screen opens another screen
    "copy_to_clipboard",
    "theme_changed_signal",  # a widget redraws with the theme's colours
}


def modules(*folders: str) -> dict[str, Path]:
    return {
        ".".join(("rnntui", "ui", *p.relative_to(UI).with_suffix("").parts)).removesuffix(".__init__"): p
        for folder in folders
        for p in sorted((UI / folder).rglob("*.py"))
    }


def app_uses(path: Path) -> list[str]:
    """Each `self.app.NAME` in a module, and each `x = self.app` (a way around the first), as text."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        is_app = lambda n: (
            isinstance(n, ast.Attribute) and n.attr == "app" and isinstance(n.value, ast.Name) and n.value.id == "self"
        )
        if isinstance(node, ast.Attribute) and is_app(node.value):
            found.append(f"self.app.{node.attr}")
        elif isinstance(node, ast.Assign) and is_app(node.value):
            found.append("= self.app")
    return found


def test_screens_and_widgets_reach_the_app_only_through_textual():
    uses = {
        name: [u for u in app_uses(path) if u.removeprefix("self.app.") not in TEXTUAL_SERVICES]
        for name, path in modules("screens", "widgets").items()
    }
    assert {name: found for name, found in uses.items() if found} == {}
    # the check is real: the modules were read, and the allowed uses are found in them
    assert "self.app.call_from_thread" in app_uses(UI / "screens" / "setup.py")


def test_the_checker_finds_a_screen_reaching_into_the_app(tmp_path):
    source = tmp_path / "bad.py"
    source.write_text(
        "class S:\n    def f(self):\n        self.app.ckpt = 1\n        app = self.app\n"
        "        self.app.start_run(None)\n"
    )
    assert sorted(app_uses(source)) == ["= self.app", "self.app.ckpt", "self.app.start_run"]


def test_one_app_class_and_no_mixins_in_screens_or_widgets():
    from rnntui.ui.app import RnntuiApp

    assert RnntuiApp.__bases__ == (App,)
    classes = []
    for name in modules("screens", "widgets"):
        module = importlib.import_module(name)
        classes += [
            c
            for _, c in inspect.getmembers(module, inspect.isclass)
            if c.__module__ == name and issubclass(c, (Screen, Widget))
        ]
    assert len(classes) > 20  # every screen and widget of the app
    assert [c.__name__ for c in classes if len(c.__bases__) != 1] == []
