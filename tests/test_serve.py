"""`rnntui serve` (issue 21): the app in a browser tab, served by textual-serve.

The real server in a real process, on a free loopback port, driven two ways: as the page's script does
(a websocket to /ws, the keys sent as ["stdin", ...], the app's screen coming back as bytes), and by
headless Chromium opening the page itself. What is checked:
- a tab closed during a run (its websocket closed, which is all textual-serve hears of a closed tab):
  the tab's process stops the run, saves latest.pt and is gone, and the server serves on;
- Ctrl+C in the server's terminal (SIGINT to its process group, the tabs' processes included) during
  a run: the run saves, the tab's process is gone, the server exits 0 (at once: aiohttp alone would
  wait 60 s on the open tab);
- the server killed during a run: the tab's process sees its input end, saves and is gone. With
  Textual's own web driver in place of TabDriver this one fails (the app trains on for nobody); the
  two above pass with it too, saved by the app's on_unmount and the interpreter's wait for the
  training thread, and now take the hang-up path (the closing validation cut short, a bounded exit);
- `serve --watch RUN_DIR`: the dashboard of that run, which is never written to;
- in Chromium: the first screen, a screenshot, ctrl+r, and the Runs screen on the page (the text read
  from the page's terminal: see READ_SCREEN); leaving the page ends the tab's process;
- the command's input errors, and a missing textual-serve: one line, status 2, no server.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import CTRL_S, ESCAPES, GONE_WITHIN_S, UP_WITHIN_S, assert_saved_and_stopped, has_trained

from rnntui.cli import main
from rnntui.cli.serve import INSTALL, is_loopback, public_url, tab_command

# -----------------------------------------------------------------------------
# the server, in its own process group (a test's Ctrl+C goes to it and its tabs, as a terminal's would)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    """`rnntui serve ARGS --port P` in cwd, up: it said it serves and its port answers."""

    def __init__(self, args: list[str], cwd: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = cwd / "serve.log"
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "rnntui", "serve", *args, "--port", str(self.port)],
                cwd=cwd,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        end = time.monotonic() + UP_WITHIN_S
        while not (b"serving the app on" in self.log_path.read_bytes() and self._answers()):
            if self.proc.poll() is not None:
                pytest.fail(f"rnntui serve exited {self.proc.returncode}:\n{self.log()}")
            if time.monotonic() > end:
                pytest.fail(f"rnntui serve never came up:\n{self.log()}")
            time.sleep(0.1)

    def _answers(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]

    def tabs(self) -> list[int]:
        """The live processes of the server's tabs: its children (each tab's command is exec'd)."""
        return [pid for pid, (ppid, state) in _processes().items() if ppid == self.proc.pid and state != "Z"]

    def end(self) -> None:
        """The server and its tabs (its process group, which outlives a killed server), gone."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()


def _processes() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, state) from /proc (Linux)."""
    out = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()  # after "pid (command name)"
            out[int(stat.parent.name)] = (int(fields[1]), fields[0])
        except (OSError, ValueError, IndexError):
            pass  # gone meanwhile
    return out


def gone(pid: int) -> bool:
    state = _processes().get(pid)
    return state is None or state[1] == "Z"


def wait_gone(pids: list[int], what: str) -> None:
    end = time.monotonic() + GONE_WITHIN_S
    while not all(gone(pid) for pid in pids):
        if time.monotonic() > end:
            pytest.fail(f"the tab's process still running {GONE_WITHIN_S:.0f} s after {what}")
        time.sleep(0.1)


@pytest.fixture
def serve():
    """serve(args, cwd): a Served, its process group killed after the test whatever happened."""
    if not Path("/proc/self/stat").exists():
        pytest.skip("reads the server's child processes from /proc")
    pytest.importorskip("textual_serve")
    started: list[Served] = []

    def start(args: list[str], cwd: Path) -> Served:
        started.append(Served(args, cwd))
        return started[-1]

    yield start
    for s in started:
        s.end()


# -----------------------------------------------------------------------------
# a tab, as the page's script drives it: a websocket


class Tab:
    """One connection to /ws: one app process. A task drains the screen into text (an app whose output
    nobody reads blocks) for wait_for."""

    async def open(self, served: Served, width: int = 120, height: int = 40) -> Tab:
        import aiohttp  # textual-serve's own web library

        self.session = aiohttp.ClientSession()
        self.ws = await self.session.ws_connect(f"{served.url}/ws?width={width}&height={height}")
        self.text, self._raw = "", b""
        self._drain = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        import aiohttp

        async for msg in self.ws:
            if msg.type == aiohttp.WSMsgType.BINARY:
                data, self._raw = self._raw + msg.data, b""
                cut = data.rfind(b"\x1b")  # an escape sequence cut by the end of a message: with the next
                if cut != -1 and len(data) - cut < 64 and not ESCAPES.match(data, cut):
                    data, self._raw = data[:cut], data[cut:]
                self.text += ESCAPES.sub(b"", data).decode("utf-8", "replace")

    async def wait_for(self, what: str | None = None, until=None) -> None:
        end = time.monotonic() + UP_WITHIN_S
        while not (what in self.text if what else until()):
            if self._drain.done():
                pytest.fail(f"the tab closed before {what or until}:\n{self.text[-2000:]}")
            if time.monotonic() > end:
                pytest.fail(f"never saw {what or until}:\n{self.text[-2000:]}")
            await asyncio.sleep(0.05)

    async def keys(self, data: bytes) -> None:
        await self.ws.send_str(json.dumps(["stdin", data.decode()]))

    async def close(self) -> None:
        await self.ws.close()
        await self._drain
        await self.session.close()


async def start_training(served: Served, cwd: Path) -> tuple[Tab, int]:
    """A tab on the tiny checkpoint's setup screen, ctrl+s, the run's first step taken; and its process."""
    tab = await Tab().open(served)
    await tab.wait_for("1x16 · step 5")
    (pid,) = served.tabs()
    await tab.keys(CTRL_S)
    await tab.wait_for(until=lambda: has_trained(cwd))
    return tab, pid


async def test_closing_the_tab_during_training_saves_and_ends_its_process(serve, tiny_run, tmp_path):
    served = serve(["--checkpoint", str(tiny_run / "latest.pt")], tmp_path)
    tab, pid = await start_training(served, tmp_path)
    await asyncio.sleep(0.5)
    await tab.close()
    wait_gone([pid], "its tab closed")
    assert_saved_and_stopped(tmp_path)
    assert served.proc.poll() is None  # the server serves on: another tab gets a fresh app
    again = await Tab().open(served)
    await again.wait_for("1x16 · step 5")
    await again.close()


async def test_ctrl_c_in_the_servers_terminal_saves_every_tabs_run(serve, tiny_run, tmp_path):
    served = serve(["--checkpoint", str(tiny_run / "latest.pt")], tmp_path)
    tab, pid = await start_training(served, tmp_path)
    os.killpg(served.proc.pid, signal.SIGINT)  # what Ctrl+C does: the whole foreground group
    try:
        code = await asyncio.to_thread(served.proc.wait, GONE_WITHIN_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"rnntui serve still running after Ctrl+C:\n{served.log()}")
    assert code == 0
    wait_gone([pid], "Ctrl+C")
    assert_saved_and_stopped(tmp_path)
    await tab.close()


async def test_a_tab_whose_server_is_killed_saves_and_ends(serve, tiny_run, tmp_path):
    """kill -9 of the server: each tab's process sees the end of its input (the server's end of the pipe
    closed), and its output fails."""
    served = serve(["--checkpoint", str(tiny_run / "latest.pt")], tmp_path)
    tab, pid = await start_training(served, tmp_path)
    served.proc.kill()
    served.proc.wait()
    wait_gone([pid], "its server was killed")
    assert_saved_and_stopped(tmp_path)
    await tab.close()


async def test_serve_watch_shows_the_runs_dashboard_and_writes_nothing(serve, tiny_run, tmp_path):
    run = tmp_path / "watched"
    shutil.copytree(tiny_run, run)
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    served = serve(["--watch", str(run)], tmp_path)
    tab = await Tab().open(served)
    await tab.wait_for("gradient reaching back")
    (pid,) = served.tabs()
    await tab.close()
    wait_gone([pid], "its tab closed")
    assert {name: (run / name).read_bytes() for name in before} == before


# -----------------------------------------------------------------------------
# a real browser: headless Chromium through Selenium and Debian's chromedriver (.ci/run installs both)

# textual-serve's page draws its terminal with xterm.js on a canvas (WebGL), so the page's DOM holds no
# text, and its script keeps the xterm Terminal in a local object. This runs before the page's script
# and catches that object as the script stores it (`this.terminal = new Terminal(...)`): the first
# assignment of a property "terminal" whose value has xterm's `buffer`; then the trap is removed.
CATCH_TERMINAL = """
Object.defineProperty(Object.prototype, "terminal", {configurable: true, set(value) {
  Object.defineProperty(this, "terminal", {value, writable: true, configurable: true, enumerable: true});
  if (value && value.buffer && value.buffer.active) {
    window.rnntuiTerminal = value;
    delete Object.prototype.terminal;
  }
}});
"""
# The rows the terminal shows, through xterm.js's public buffer API: the cells its renderer draws.
READ_SCREEN = """
const t = window.rnntuiTerminal;
if (!t) return null;
const b = t.buffer.active, rows = [];
for (let y = 0; y < t.rows; y++) {
  const line = b.getLine(b.viewportY + y);
  rows.push(line ? line.translateToString(true) : "");
}
return rows.join("\\n");
"""
WINDOW = (1280, 800)  # the page's size in CSS pixels, as a laptop's browser window


def _chromium() -> tuple[str, str]:
    pytest.importorskip("selenium")
    browser = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
    driver = shutil.which("chromedriver")
    if browser is None or driver is None:
        pytest.skip("needs chromium and chromedriver (Debian: apt-get install chromium chromium-driver)")
    return browser, driver


@pytest.fixture
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver = _chromium()
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--no-first-run"):
        options.add_argument(arg)  # no-sandbox: CI runs as root, where Chromium's sandbox refuses to start
    chrome = webdriver.Chrome(options=options, service=Service(executable_path=driver))  # no driver download
    try:
        chrome.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": WINDOW[0], "height": WINDOW[1], "deviceScaleFactor": 1, "mobile": False},
        )
        chrome.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": CATCH_TERMINAL})
        yield chrome
    finally:
        chrome.quit()


def wait_for_page(chrome, *texts: str) -> str:
    end = time.monotonic() + UP_WITHIN_S
    while True:
        screen = chrome.execute_script(READ_SCREEN) or ""
        if all(t in screen for t in texts):
            return screen
        if time.monotonic() > end:
            pytest.fail(f"the page never showed {texts}:\n{screen}")
        time.sleep(0.1)


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def test_the_app_in_chromium(serve, browser, tiny_run, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    shutil.copytree(tiny_run, tmp_path / "checkpoints" / tiny_run.name)  # a run for the Runs screen to list
    served = serve(["tiny"], tmp_path)
    browser.get(served.url)
    setup = wait_for_page(browser, "Start training", "vocabulary 43")  # the setup screen, the corpus loaded
    assert "^r Runs" in setup  # the footer: the whole screen fits the window
    browser.save_screenshot(str(tmp_path / "setup.png"))
    assert png_size(tmp_path / "setup.png") == WINDOW
    tabs = served.tabs()
    assert len(tabs) == 1  # the page opened one app

    browser.find_element(By.CSS_SELECTOR, ".xterm-helper-textarea").send_keys(Keys.CONTROL, "r")  # xterm's input
    runs = wait_for_page(browser, "runs in checkpoints", tiny_run.name)
    assert "completed" in runs and "Start training" not in runs
    browser.save_screenshot(str(tmp_path / "runs.png"))

    browser.get("about:blank")  # the tab leaves the page: its app's process ends
    wait_gone(tabs, "the browser left the page")


# -----------------------------------------------------------------------------
# the command line


def test_without_textual_serve_it_says_what_to_install():
    code = "import sys; sys.modules['textual_serve'] = None; from rnntui.cli import main; sys.exit(main(['serve']))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert out.stderr == f"rnntui: error: {INSTALL}\n"
    assert "pip install 'rnntui[serve]'" in INSTALL


@pytest.mark.parametrize(
    "args, says",
    [
        (["--port", "0"], "not a port"),
        (["--port", "70000"], "not a port"),
        (["--watch", "no-such-run"], "no such run folder"),
        (["tiny", "--watch", "x"], "without CORPUS"),
        (["--checkpoint", "no-such.pt"], "no-such.pt"),
    ],
)
def test_bad_input_is_one_line_and_status_2(args, says, capsys, tmp_path, monkeypatch):
    pytest.importorskip("textual_serve")
    monkeypatch.chdir(tmp_path)
    assert main(["serve", *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and says in err, err


def test_a_port_in_use_is_one_line_and_status_2(capsys):
    pytest.importorskip("textual_serve")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"cannot listen on 127.0.0.1:{port}" in err, err


def test_addresses():
    assert all(map(is_loopback, ["127.0.0.1", "127.0.0.2", "::1", "localhost"]))
    assert not any(map(is_loopback, ["0.0.0.0", "::", "192.168.1.5", "example.org"]))
    assert public_url("127.0.0.1", 8000) == "http://127.0.0.1:8000"
    assert public_url("::1", 8000) == "http://[::1]:8000"
    assert public_url("0.0.0.0", 80) == f"http://{socket.gethostname()}:80"  # a browser cannot use 0.0.0.0


def test_each_tab_runs_this_python_under_the_tab_driver():
    import shlex

    argv = shlex.split(tab_command(None, None, "runs/my run"))
    assert argv[:3] == ["exec", "env", "TEXTUAL_DRIVER=rnntui.cli.serve:TabDriver"]
    assert argv[3:] == [sys.executable, "-m", "rnntui", "watch", "runs/my run"]
    assert shlex.split(tab_command("tiny", "a.pt", None))[-3:] == ["tiny", "--checkpoint", "a.pt"]
