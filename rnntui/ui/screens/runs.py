"""The Runs screen: every run under the runs folder in a sortable table.

Enter opens a run's dashboard (a finished run replayed from its log, a running one followed live);
space marks runs for Compare (c); s continues training a run, g generates from it, i inspects it, d
deletes it (after asking). The list is re-read every few seconds, so runs started elsewhere appear.
Opening, continuing, generating and inspecting are the app's to do: the screen posts the messages below.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Footer, Label, Static
from textual.widgets.data_table import ColumnKey

from rnntui.core.config import RnntuiError
from rnntui.core.runs.folder import RunDir
from rnntui.core.runs.listing import list_runs
from rnntui.core.runs.placement import delete_run
from rnntui.core.runs.summary import RunSummary
from rnntui.core.textsafe import visible
from rnntui.ui.screens.runs_table import COLUMNS, DESCENDING, SORTABLE, row_cells
from rnntui.ui.widgets.header import AppHeader

RELOAD_S = 3.0  # the folder is re-read this often (run.json files only: cheap)
MAX_MARKED = 6


class ConfirmDelete(ModalScreen[bool]):
    """Deleting a run asks first: dismisses True to delete the folder."""

    BINDINGS = [Binding("escape,n", "dismiss(False)", "Cancel"), Binding("y", "dismiss(True)", "Delete")]

    def __init__(self, summary: RunSummary) -> None:
        super().__init__()
        self.summary = summary

    def compose(self) -> ComposeResult:
        with Vertical(id="delete-dialog"):
            yield Label(Text(f"Delete run {visible(self.summary.name)}?"))
            yield Label(
                Text(f"This removes {visible(str(self.summary.path))} with its checkpoints and log.", style="dim")
            )
            with Horizontal():
                yield Button("Delete (y)", id="delete", variant="error")
                yield Button("Keep (n)", id="keep")

    def on_mount(self) -> None:
        self.query_one("#keep", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "delete")


class RunsScreen(Screen):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("enter", "open", "Open", priority=True),
        Binding("space", "mark", "Mark", priority=True),
        Binding("c", "compare", "Compare"),
        Binding("s", "continue", "Continue"),
        Binding("g", "generate", "Generate"),
        Binding("i", "inspect", "Inspect"),
        Binding("d,delete", "delete", "Delete"),
        Binding("o", "sort", "Sort"),
        Binding("O", "reverse", "Reverse sort", show=False),
        Binding("f5,ctrl+r", "reload", "Reload", show=False),
    ]

    # ---- what the screen asks the app for (each names a run folder) ---------------------------------

    @dataclass
    class OpenRequested(Message):
        """Enter: the run on the dashboard, replayed from its log, or followed live while it trains."""

        path: Path
        live: bool  # run.json says it is running

    @dataclass
    class ContinueRequested(Message):
        """s: train the run further from its latest checkpoint, in its own folder."""

        path: Path

    @dataclass
    class GenerateRequested(Message):
        """g: the generation panel on the run's latest checkpoint."""

        path: Path

    @dataclass
    class InspectRequested(Message):
        """i: the inspector on the run's latest checkpoint."""

        path: Path

    def __init__(self, root: str | Path) -> None:
        super().__init__()
        self.root = Path(root)  # the folder holding run folders (the training's out_dir)
        self.summaries: list[RunSummary] = []
        self.marked: list[str] = []  # run paths marked for Compare, in marking order
        self.sort_key, self.reverse = "updated", True  # newest first, as `rnntui runs`
        self.shown: tuple = ()  # what the table shows now, to skip a rebuild when nothing changed

    def compose(self) -> ComposeResult:
        yield AppHeader()
        yield Static("", id="runs-info")
        yield DataTable(id="runs-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"runs in {self.root}"
        table = self.query_one(DataTable)
        for key, (header, _) in COLUMNS.items():
            table.add_column(header, key=key)
        table.focus()
        self.reload()
        self.set_interval(RELOAD_S, self.reload)

    # ---- the list -----------------------------------------------------------------------------------

    def reload(self) -> None:
        self.run_worker(self._read, thread=True, exclusive=True, group="runs-read", exit_on_error=False)

    def _read(self) -> None:
        runs = list_runs(self.root)
        self.app.call_from_thread(self._show, runs)

    def _show(self, runs: list[RunSummary]) -> None:
        self.summaries = runs
        paths = {str(s.path) for s in runs}
        self.marked = [p for p in self.marked if p in paths]
        self.rebuild()

    def rebuild(self) -> None:
        sort = COLUMNS[self.sort_key][1]
        marked = set(self.marked)
        ordered = sorted(self.summaries, key=lambda s: sort(s, marked), reverse=self.reverse)
        shown = (tuple((s, str(s.path) in marked) for s in ordered), self.sort_key, self.reverse)
        if shown == self.shown:
            return
        self.shown = shown
        table = self.query_one(DataTable)
        current = self.current()
        table.clear()
        for s in ordered:
            table.add_row(*row_cells(s, str(s.path) in marked), key=str(s.path))
        if current is not None and str(current.path) in {str(s.path) for s in ordered}:
            table.move_cursor(row=table.get_row_index(str(current.path)), animate=False)
        arrow = "▼" if self.reverse else "▲"
        for key, (header, _) in COLUMNS.items():
            label = f"{header}{arrow}" if key == self.sort_key else header
            table.columns[ColumnKey(key)].label = Text(label)  # the sorted column carries the arrow
        running = sum(s.state == "running" for s in self.summaries)
        info = (
            f"{len(self.summaries)} run{'s' if len(self.summaries) != 1 else ''} in {self.root}"
            + (f" · {running} running" if running else "")
            + (f" · {len(self.marked)} marked for compare (c)" if self.marked else " · space marks runs to compare")
            if self.summaries
            else f"no runs in {self.root} yet: train one (ctrl+s on the setup screen)"
        )
        self.query_one("#runs-info", Static).update(Text(visible(info), style="dim"))
        table.refresh()

    def current(self) -> RunSummary | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((s for s in self.summaries if str(s.path) == key), None)

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        key = event.column_key.value
        if key in SORTABLE:
            self.reverse = not self.reverse if key == self.sort_key else key in DESCENDING
            self.sort_key = key
            self.rebuild()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open()

    # ---- keys ---------------------------------------------------------------------------------------

    def action_reload(self) -> None:
        self.reload()

    def action_sort(self) -> None:
        self.sort_key = SORTABLE[(SORTABLE.index(self.sort_key) + 1) % len(SORTABLE)]
        self.reverse = self.sort_key in DESCENDING
        self.rebuild()
        self.notify(f"sorted by {COLUMNS[self.sort_key][0]} (O reverses)", timeout=2)

    def action_reverse(self) -> None:
        self.reverse = not self.reverse
        self.rebuild()

    def action_mark(self) -> None:
        s = self.current()
        if s is None:
            return
        if str(s.path) in self.marked:
            self.marked.remove(str(s.path))
        elif len(self.marked) >= MAX_MARKED:
            self.notify(f"compare takes at most {MAX_MARKED} runs", severity="warning", timeout=3)
            return
        else:
            self.marked.append(str(s.path))
        row = self.query_one(DataTable).cursor_row
        self.rebuild()
        self.query_one(DataTable).move_cursor(row=min(row + 1, self.query_one(DataTable).row_count - 1))

    def action_compare(self) -> None:
        if len(self.marked) < 2:
            self.notify("mark 2 to 6 runs with space first", severity="warning", timeout=3)
            return
        from rnntui.ui.screens.compare import CompareScreen

        names = ", ".join(Path(p).name for p in self.marked)
        self.app.push_screen(CompareScreen([Path(p) for p in self.marked], title=f"compare: {names}"))

    def action_open(self) -> None:
        if (s := self.current()) is not None:
            self.post_message(self.OpenRequested(s.path, live=s.state == "running"))

    def action_continue(self) -> None:
        if (s := self.current()) is not None:
            self.post_message(self.ContinueRequested(s.path))

    def action_generate(self) -> None:
        if (s := self.current()) is not None:
            self.post_message(self.GenerateRequested(s.path))

    def action_inspect(self) -> None:
        if (s := self.current()) is not None:
            self.post_message(self.InspectRequested(s.path))

    def action_delete(self) -> None:
        s = self.current()
        if s is None:
            return
        # the folder's lock, not its path: a run this app or another process trains, by any spelling of the path
        if (who := RunDir(s.path).owner()) is not None:
            self.notify(
                f"cannot delete {s.name}: {who} is training it: stop it first",
                severity="warning",
                timeout=4,
                markup=False,
            )
            return

        def chosen(yes: bool | None) -> None:
            if not yes:
                return
            try:
                delete_run(s.path)  # under the lock (a run started meanwhile is refused); never a folder of runs
            except RnntuiError as e:
                self.notify(str(e), severity="error", markup=False)
                return
            self.notify(f"deleted {s.name}", timeout=3)
            self.summaries = [x for x in self.summaries if str(x.path) != str(s.path)]
            self.marked = [p for p in self.marked if p != str(s.path)]
            self.rebuild()

        self.app.push_screen(ConfirmDelete(s), chosen)
