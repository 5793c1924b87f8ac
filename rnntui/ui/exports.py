"""Exports and screenshots: the dashboard's SVG with its metrics as JSONL and CSV (e), and screenshots
from the command palette, all written to the run folder (else the working directory), never to a
Downloads folder that may not exist.

A mixin of RnntuiApp; it must come before App in the bases, as it overrides App.get_system_commands.
"""
from __future__ import annotations

import time
from pathlib import Path


class Exports:
    """The host app provides state (its run_dir and the metrics to write)."""

    def export_folder(self) -> Path:
        """Where exports and screenshots go: the run folder when the run saves, else the working directory."""
        folder = self.state.run_dir
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        """The palette's Screenshot saves where e (export) does, not in a Downloads folder that may not exist."""
        self.save_and_report_screenshot(filename, path)

    def save_and_report_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        try:
            folder = Path(path) if path else self.export_folder()
            screen = type(self.screen).__name__.removesuffix("Screen").lower()
            name = filename or f"{screen}-{time.strftime('%Y%m%d-%H%M%S')}.svg"
            svg = self.save_screenshot(name, str(folder))
        except OSError as e:
            self.notify(f"cannot save the screenshot: {e.strerror or e}", severity="error")
            return
        self.notify(f"saved {svg}", title="screenshot", timeout=6)

    def get_system_commands(self, screen):
        for command in super().get_system_commands(screen):
            if command.title == "Screenshot":  # Textual's default writes to ~/Downloads
                command = command._replace(callback=lambda: self.set_timer(0.1, self.save_and_report_screenshot))
            yield command

    def action_export(self) -> None:
        folder = self.export_folder()
        stamp = time.strftime("%Y%m%d-%H%M%S")
        svg = self.save_screenshot(f"dashboard-{stamp}.svg", str(folder))
        self.state.write_jsonl(folder / f"metrics-{stamp}.jsonl")
        self.state.write_csv(folder / f"metrics-{stamp}.csv")
        self.notify(f"exported {Path(svg).name} and metrics-{stamp}.jsonl/.csv to {folder}", timeout=8)
