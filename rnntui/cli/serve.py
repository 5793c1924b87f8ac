"""`rnntui serve [CORPUS] [--checkpoint CKPT | --watch RUN_DIR] [--host H] [--port P]`: the app in a browser.

Textual's own web server, textual-serve (the optional extra rnntui[serve]), serves a page whose terminal
is xterm.js. Each browser tab that opens the page gets its own process running the app (the command
built by tab_command), whose standard input and output are pipes to the server carrying the tab's keys
and the app's screen. So a run started from a tab trains in that tab's process, and two tabs are two
apps; `--watch RUN_DIR` serves the dashboard of a run trained elsewhere, so several people can follow it.

When a tab closes, textual-serve sends its process a "quit" message on that channel, then waits for the
process to close its output; it never kills it. Textual's web driver makes "quit" (and SIGINT) a plain
exit of the app, after which the run is saved only because the app's on_unmount stops it and the
interpreter waits for the training thread; and when the server is gone (killed), the driver's input
thread just ends and the app trains on for nobody. TabDriver takes all three, "quit", the end of its
standard input, and SIGINT (Ctrl+C in the server's terminal reaches every tab's process: they share its
process group), for what they are: the terminal is gone. It sends the process SIGHUP, and the app does
what it does when its terminal window closes (ui/shutdown.py): stop the run, cut its closing validation
short, save latest.pt and exit 129, within a bound. The app itself stays unaware of browsers.

textual-serve has no login: whoever reaches the port controls the app, with the rights of the user who
started the server (it trains, deletes runs, reads any text file as a corpus). The default address is
loopback, and any other prints a one-line warning.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import shlex
import signal
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

from textual.drivers.web_driver import WebDriver

from rnntui.cli.options import Parser, fail

INSTALL = "rnntui serve needs the textual-serve package: pip install 'rnntui[serve]'"
TAB_DRIVER = "rnntui.cli.serve:TabDriver"  # the app's driver in each tab's process (TEXTUAL_DRIVER)


# -----------------------------------------------------------------------------
# each tab's process: its terminal is the browser tab


class TabDriver(WebDriver):
    """Textual's web driver, with a closed tab (or a server that is gone) treated as a hung-up terminal."""

    def start_application_mode(self) -> None:
        super().start_application_mode()
        if hasattr(signal, "SIGINT"):  # in place of the web driver's own, a plain exit of the app
            asyncio.get_running_loop().add_signal_handler(signal.SIGINT, self._tab_gone)

    def on_meta(self, packet_type: str, payload: dict[str, object]) -> None:
        if packet_type == "quit":  # textual-serve: the tab's websocket closed
            self._tab_gone()
        else:
            super().on_meta(packet_type, payload)

    def run_input_thread(self) -> None:
        super().run_input_thread()
        self._tab_gone()  # it returns at the end of standard input too: the server is gone

    def _tab_gone(self) -> None:
        """SIGHUP to this process: the app's hang-up handler saves the run and exits 129 (a process
        that has not installed it yet has no run, and the signal's default action ends it). Nothing once
        the app is leaving on its own: the driver's input stopped (q, the app's exit)."""
        if not self.exit_event.is_set() and hasattr(signal, "SIGHUP"):
            os.kill(os.getpid(), signal.SIGHUP)


def tab_command(corpus: str | None, checkpoint: str | None, watch: str | None) -> str:
    """The shell command textual-serve runs for each tab: this Python's `rnntui`, under TabDriver.
    exec: the app is the server's child itself, not a shell waiting on it."""
    if watch:
        args = ["watch", watch]
    else:
        args = [*([corpus] if corpus else []), *(["--checkpoint", checkpoint] if checkpoint else [])]
    argv = ["env", f"TEXTUAL_DRIVER={TAB_DRIVER}", sys.executable, "-m", "rnntui", *args]
    return "exec " + shlex.join(argv)


# -----------------------------------------------------------------------------
# addresses


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name: whatever it resolves to, it may be reached from elsewhere


def public_url(host: str, port: int) -> str:
    """The address a browser uses, written into the page (its websocket URL). A wildcard address is not
    one a browser can use: the machine's name stands for it."""
    if host in ("", "0.0.0.0", "::"):
        host = socket.gethostname()
    if ":" in host:
        host = f"[{host}]"  # an IPv6 literal
    return f"http://{host}:{port}"


def _port_problem(host: str, port: int) -> str | None:
    """Why the server could not listen there (in use, no such address), found before it starts."""
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, kind, proto, _, address = infos[0]
        with socket.socket(family, kind, proto) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as aiohttp does: TIME_WAIT is no obstacle
            s.bind(address)
    except OSError as e:
        return f"cannot listen on {host}:{port}: {e.strerror or e}"
    return None


# -----------------------------------------------------------------------------
# the server


def _server(command: str, host: str, port: int, url: str):
    """textual-serve's Server, with rnntui's first line, and a shutdown that ends the open tabs at once."""
    from textual_serve.server import Server

    class RnntuiServer(Server):
        def __init__(self) -> None:
            super().__init__(command, host=host, port=port, title="rnntui", public_url=url)
            self.tabs: set[asyncio.Task] = set()  # the open tabs' websocket handlers

        async def on_startup(self, app: object) -> None:  # in place of textual-serve's banner and command
            print(
                f"rnntui: serving the app on {self.public_url} (each browser tab runs its own app; "
                "Ctrl+C stops the server, and every tab's run saves)",
                flush=True,
            )

        async def handle_websocket(self, request):
            task = asyncio.current_task()
            assert task is not None  # aiohttp runs each handler in a task
            self.tabs.add(task)
            try:
                return await super().handle_websocket(request)
            finally:
                self.tabs.discard(task)

        async def on_shutdown(self, app: object) -> None:
            """Ctrl+C: aiohttp would wait 60 s for open handlers, and a tab's stays open while its browser
            tab does. Cancelled, each ends as a closed tab does: textual-serve sends its app "quit"."""
            for task in self.tabs:
                task.cancel()

    return RnntuiServer()


# -----------------------------------------------------------------------------
# the command


def serve_parser() -> Parser:
    p = Parser(
        prog="rnntui serve",
        description="Serve the app to web browsers with textual-serve: each "
        "browser tab that opens the page runs its own app. Without a login: see --host.",
    )
    p.add_argument("corpus", nargs="?", default=None, help="built-in corpus or text file (default: python)")
    p.add_argument("--checkpoint", help="open a checkpoint to continue training or generate from it")
    p.add_argument(
        "--watch",
        metavar="RUN_DIR",
        help="serve the dashboard of a run trained elsewhere (what `rnntui watch RUN_DIR` shows)",
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this "
        "machine only; anyone who can reach another controls the app)",
    )
    p.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    p.add_argument(
        "--public-url", help="the address browsers use, if not http://HOST:PORT (a proxy, a name for 0.0.0.0)"
    )
    return p


def cmd_serve(argv: Sequence[str]) -> int:
    args = serve_parser().parse_args(argv)
    try:
        import textual_serve.server  # noqa: F401  (the optional extra)
    except ImportError:
        return fail(INSTALL)
    if not 1 <= args.port <= 65535:
        return fail(f"--port {args.port}: not a port (1-65535)")
    if args.watch and (args.corpus or args.checkpoint):
        return fail("--watch serves one run's dashboard: give it without CORPUS or --checkpoint")
    if args.watch:
        from rnntui.cli.runs import watch_problem, watched_folder

        args.watch = str(watched_folder(args.watch))
        if problem := watch_problem(Path(args.watch)):
            return fail(problem)
    if args.checkpoint:
        from rnntui.cli.tui import checkpoint_problem

        if problem := checkpoint_problem(args.checkpoint):
            return fail(problem)
    if problem := _port_problem(args.host, args.port):
        return fail(problem)
    url = args.public_url or public_url(args.host, args.port)
    if not is_loopback(args.host):
        print(
            f"rnntui: warning: listening on {args.host}:{args.port} with no login (textual-serve has none): "
            "anyone who can reach this port controls the app, as you",
            file=sys.stderr,
            flush=True,
        )

    server = _server(tab_command(args.corpus, args.checkpoint, args.watch), args.host, args.port, url)
    try:
        server.serve()
    except OSError as e:  # the port taken between the check and the start
        return fail(f"cannot listen on {args.host}:{args.port}: {e.strerror or e}")
    return 0
