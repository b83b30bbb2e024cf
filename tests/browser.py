"""JupyterLab in headless Chromium, for the browser test: start the server, drive the page.

`JupyterLab` starts the same server as `make lab` (the project's ``jupyter-lab``, the
workbook's settings from ``jupyter/``) on a free port with a token, in the environment of
the test session (so kernels find the session's Redis). `NotebookPage` opens one notebook in
a page of Debian's Chromium driven by Playwright, runs its cells from the page's own menu,
and reads what the page holds: the notebook model (execution counts, outputs) and the
rendered outputs (widgets, or their text fallback).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import nbformat
from nbtools import ARTIFACTS, NOTEBOOKS_DIR, ROOT

from helpers.core import server

CONFIG_DIR = ROOT / "jupyter"
SCREENSHOTS = ARTIFACTS / "screenshots"
LAB_LOG = ARTIFACTS / "browser" / "jupyterlab.log"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1400, "height": 900}
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
# Settings of the test's own (fresh) user-settings folder: never write to the notebooks
# (no autosave), and attach every cell to the page (no windowing) so it can be read and
# photographed whole.
TEST_SETTINGS = {
    "@jupyterlab/docmanager-extension:plugin": {"autosave": False},
    "@jupyterlab/notebook-extension:tracker": {"windowingMode": "none", "scrollPastEnd": False},
}
# The text/plain repr a widget falls back to when the page cannot render it,
# e.g. "HBox(children=(Button(description='Publish', ...". Real outputs never look like this.
WIDGET_FALLBACK = re.compile(
    r"^\s*[A-Z]\w*\((\)|(children|description|value|layout|style|outputs|options|"
    r"placeholder|max|min|orientation|bar_style)=)"
)
WIDGET_ERRORS = ("Error displaying widget", "Failed to load model class", "Could not create view")


def chromium_path() -> str | None:
    """Debian's Chromium (or the one ``$WORKBOOK_CHROMIUM`` names), if it is installed."""
    if os.environ.get("WORKBOOK_CHROMIUM"):
        candidates = [os.environ["WORKBOOK_CHROMIUM"]]
    else:
        candidates = ["/usr/bin/chromium", shutil.which("chromium")]
        candidates.append(shutil.which("chromium-browser"))
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


def missing_tool() -> str | None:
    """Why the browser test cannot run here (one line), or None if it can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[test]')"
    if chromium_path() is None:
        return "no Chromium browser (on Debian: apt-get install chromium)"
    return None


def _children(pid: int) -> list[int]:
    """Pids of the direct children of ``pid``."""
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def _alive(pid: int) -> bool:
    return server.pid_alive(pid)


def _wait_gone(pids: list[int], timeout: float) -> list[int]:
    """Wait until every pid has ended; return those still alive."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = [p for p in pids if _alive(p)]
        if not pids:
            break
        time.sleep(0.2)
    return [p for p in pids if _alive(p)]


class JupyterLab:
    """The workbook's JupyterLab on a free port with a token, stopped with every kernel."""

    def __init__(self, root: Path = NOTEBOOKS_DIR) -> None:
        self.root = root
        self.port = server.free_port()
        self.token = secrets.token_hex(16)
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self._home = Path(tempfile.mkdtemp(prefix="workbook-lab-"))
        self._kernel_pids: set[int] = set()

    def command(self) -> list[str]:
        """The project's ``jupyter-lab`` with the test's server options."""
        script = Path(sys.executable).with_name("jupyter-lab")
        # the script by name, so the session's check for left-over processes sees it
        start = [sys.executable, str(script)]
        if not script.exists():
            start = [sys.executable, "-m", "jupyterlab"]
        options = [
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
            # the test reads the page's notebook model (counts, outputs) from window.jupyterapp
            "--LabApp.expose_app_in_browser=True",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            options.append("--allow-root")
        return start + options

    def environment(self) -> dict[str, str]:
        """The session's environment, plus the workbook's settings and a fresh user folder."""
        settings = self._home / "user-settings"
        for plugin, values in TEST_SETTINGS.items():
            package, name = plugin.split(":")
            path = settings / package / f"{name}.jupyterlab-settings"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        config_path = [str(CONFIG_DIR), os.environ.get("JUPYTER_CONFIG_PATH", "")]
        return dict(
            os.environ,
            JUPYTER_CONFIG_PATH=os.pathsep.join(p for p in config_path if p),
            JUPYTERLAB_SETTINGS_DIR=str(settings),
            JUPYTERLAB_WORKSPACES_DIR=str(self._home / "workspaces"),
            JUPYTER_RUNTIME_DIR=str(self._home / "runtime"),
            PYTHONUNBUFFERED="1",
        )

    def start(self, timeout: float = 120) -> None:
        """Start the server and wait until its API answers."""
        LAB_LOG.parent.mkdir(parents=True, exist_ok=True)
        log = LAB_LOG.open("wb")
        self.process = subprocess.Popen(
            self.command(),
            env=self.environment(),
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited ({self.process.returncode}); see {LAB_LOG}")
            with contextlib.suppress(OSError):
                self.api("GET", "status")
                return
            time.sleep(0.3)
        raise RuntimeError(f"JupyterLab did not answer within {timeout:.0f} s; see {LAB_LOG}")

    def api(self, method: str, path: str) -> Any:
        """One call to the server's REST API; the decoded JSON reply (None if empty)."""
        request = urllib.request.Request(
            f"{self.base}/api/{path}",
            method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=10) as reply:
            body = reply.read()
        return json.loads(body) if body else None

    def kernels(self) -> list[dict]:
        """The kernels the server runs, and remember their processes."""
        kernels = self.api("GET", "kernels")
        if kernels and self.process is not None:
            self._kernel_pids.update(_children(self.process.pid))
        return kernels

    def url(self, notebook: str, workspace: str) -> str:
        """The page of ``notebook`` in its own workspace (no tabs restored from another run)."""
        return f"{self.base}/lab/workspaces/{workspace}/tree/{notebook}?token={self.token}"

    def stop(self) -> list[int]:
        """Shut the server and its kernels down; return the pids that had to be killed."""
        killed: list[int] = []
        if self.process is None:
            return killed
        self._kernel_pids.update(_children(self.process.pid))
        if self.process.poll() is None:
            with contextlib.suppress(OSError):
                self.api("POST", "shutdown")
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                killed.append(self.process.pid)
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        for pid in _wait_gone(sorted(self._kernel_pids), timeout=15):
            killed.append(pid)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process = None
        shutil.rmtree(self._home, ignore_errors=True)
        return killed


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium (Debian's) with a fresh profile, driven by Playwright."""
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="workbook-chromium-")
    playwright = sync_playwright().start()
    try:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=chromium_path(),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport=VIEWPORT,
        )
        try:
            yield context
        finally:
            context.close()
    finally:
        playwright.stop()
        shutil.rmtree(profile, ignore_errors=True)


def wait_until(condition: Callable[[], Any], timeout: float, what: str, step: float = 0.25) -> Any:
    """Poll ``condition`` until it returns something true; fail with ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(step)


# The notebook panel of the page, by path, and its model: what the page holds.
_STATE_JS = """(path) => {
  const app = window.jupyterapp;
  if (!app) return null;
  const panel = Array.from(app.shell.widgets('main'))
    .find(w => w.context && w.context.path === path);
  if (!panel || !panel.content.model) return null;
  const kernel = panel.sessionContext.session ? panel.sessionContext.session.kernel : null;
  const cells = [];
  for (let i = 0; i < panel.content.model.cells.length; i++) {
    const cell = panel.content.model.cells.get(i);
    cells.push({
      type: cell.type,
      count: cell.type === 'code' ? cell.executionCount : null,
      state: cell.type === 'code' ? (cell.executionState || 'idle') : 'idle',
      outputs: cell.type === 'code' ? cell.outputs.toJSON() : [],
    });
  }
  return {kernel: kernel ? kernel.status : null, dirty: panel.context.model.dirty, cells};
}"""

# For each cell on the page, its own outputs (not those inside an Output widget): the mime
# type the page chose to render (none for a widget view), the text, and whether a widget
# view is rendered in it.
_RENDERED_JS = """() => Array.from(document.querySelectorAll(
    '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell')).map(cell => ({
  outputs: Array.from(cell.querySelectorAll(
      ':scope .jp-Cell-outputArea > .jp-OutputArea-child > .jp-OutputArea-output')).map(o => ({
    mime: o.getAttribute('data-mime-type'),
    text: (o.innerText || '').slice(0, 300),
    widget: o.matches('.jupyter-widgets, .jp-LinkedOutputView') ||
      o.querySelector('.jupyter-widgets') !== null,
    image: (o.querySelector('img') || {}).naturalWidth || 0,
  })),
}))"""


class NotebookPage:
    """One notebook open in JupyterLab, driven as a learner would: menus, clicks, keys."""

    def __init__(self, context: Any, lab: JupyterLab, notebook: Path) -> None:
        self.lab = lab
        self.notebook = notebook
        self.path = notebook.relative_to(lab.root).as_posix()
        self.file = nbformat.read(notebook, as_version=4)
        self.page = context.new_page()
        self.page.set_default_timeout(30_000)
        self.photographed = False
        self.console: list[str] = []
        self.page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        self.page.on("pageerror", lambda e: self.console.append(f"pageerror: {e}"))

    # ---- opening, running, closing --------------------------------------------------------

    def open(self, timeout: float = 90) -> None:
        """Load the notebook's page, wait for its kernel, and clear the stored outputs.

        Edit → Clear Outputs of All Cells: whatever the page shows afterwards comes from
        this run, not from the outputs committed in the file.
        """
        workspace = "browser-" + re.sub(r"\W", "-", self.notebook.stem)
        self.page.goto(self.lab.url(self.path, workspace))
        self.page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=timeout * 1000)
        wait_until(
            lambda: (self.state() or {}).get("kernel") == "idle",
            timeout,
            f"the kernel of {self.notebook.name} to start",
        )
        self.collapse_left_sidebar()
        self.menu("Edit", "editmenu:clear-all")
        wait_until(
            lambda: not any(c["count"] or c["outputs"] for c in self.state()["cells"]),
            10,
            "the stored outputs to be cleared",
        )

    def collapse_left_sidebar(self) -> None:
        """Give the notebook the page's width (the file browser is not under test)."""
        current = self.page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current")
        if current.count():
            current.first.click()

    def menu(self, title: str, command: str) -> None:
        """Click ``title`` in the menu bar, then the item that runs ``command``."""
        self.page.get_by_role("menuitem", name=title, exact=True).click()
        self.page.locator(f".lm-Menu li[data-command='{command}']").click()

    def select_cell(self, index: int) -> None:
        """Make cell ``index`` the active cell (click in its prompt area, command mode)."""
        cell = self.page.locator(".jp-Notebook .jp-Cell").nth(index)
        cell.scroll_into_view_if_needed()
        cell.locator(".jp-InputPrompt").first.click()
        self.page.keyboard.press("Escape")

    def run_all(self, timeout: float = 300) -> dict:
        """Run → Run All Cells; wait until the run has ended and the kernel is idle."""
        self.menu("Run", "runmenu:run-all")
        return self.wait_until_settled(timeout)

    def run_cells_until(self, *selectors: str, timeout: float = 300) -> list[int]:
        """Run the cells one by one (Shift+Enter) from the top until every selector shows.

        Returns the indexes of the cells that show them (a widget may span several cells).
        """
        self.select_cell(0)
        deadline = time.monotonic() + timeout
        last = len(self.file.cells) - 1
        for index, cell in enumerate(self.file.cells):
            # Shift+Enter runs and moves on; on the last cell it would add a new one
            self.page.keyboard.press("Control+Enter" if index == last else "Shift+Enter")
            if cell.cell_type == "code":
                self.wait_until_ran(index, max(deadline - time.monotonic(), 1))
                if all(self.page.locator(s).count() for s in selectors):
                    return sorted({self.cell_of(s) for s in selectors})
        missing = [s for s in selectors if not self.page.locator(s).count()]
        why = "".join(f"\n{problem}" for problem in self.problems(self.state()))
        raise AssertionError(f"no cell of {self.notebook.name} shows {', '.join(missing)}{why}")

    def cell_of(self, selector: str) -> int:
        """The index of the cell in which ``selector`` first shows."""
        return self.page.evaluate(
            """(selector) => {
              const cells = Array.from(document.querySelectorAll(
                '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell'));
              const cell = document.querySelector(selector).closest('.jp-Cell');
              return cells.indexOf(cell);
            }""",
            selector,
        )

    def run_cell(self, index: int, timeout: float = 120) -> dict:
        """Select cell ``index`` and Run → Run Selected Cell and Do not Advance; wait for it."""
        self.select_cell(index)
        self.menu("Run", "notebook:run-cell")
        return self.wait_until_ran(index, timeout)

    def wait_until_ran(self, index: int, timeout: float) -> dict:
        """Wait until code cell ``index`` has an execution count and the kernel is idle."""

        def ran() -> dict | None:
            state = self.kernel_alive(self.state())
            cell = state["cells"][index]
            idle = state["kernel"] == "idle" and cell["state"] == "idle"
            return state if idle and cell["count"] is not None else None

        return wait_until(ran, timeout, f"cell {index} of {self.notebook.name} to run")

    def wait_until_settled(self, timeout: float) -> dict:
        """Wait until a run has ended: a cell has run, none is running or queued, kernel idle.

        That must hold for a second: the kernel idles for a moment between two cells.
        A run that stopped at an error ends here too (the cells after it have no count).
        """
        settled: list[float] = []

        def done() -> dict | None:
            state = self.kernel_alive(self.state())
            cells = [c for c in state["cells"] if c["type"] == "code"]
            busy = state["kernel"] != "idle" or any(c["state"] == "running" for c in cells)
            if busy or all(c["count"] is None for c in cells):
                settled.clear()
                return None
            settled.append(time.monotonic())
            return state if settled[-1] - settled[0] >= 1.0 else None

        return wait_until(done, timeout, f"{self.notebook.name} to finish running")

    def kernel_alive(self, state: dict) -> dict:
        """``state``, unless the kernel died: then fail at once (no point in waiting)."""
        if state["kernel"] in ("dead", "autorestarting"):
            raise AssertionError(f"the kernel of {self.notebook.name} died ({state['kernel']})")
        return state

    def shut_down_kernel(self, timeout: float = 30) -> None:
        """Kernel → Shut Down Kernel (accepting its dialog if one asks); wait until the server
        runs no kernel for this notebook."""
        self.menu("Kernel", "kernelmenu:shutdown")
        dialog = self.page.locator(".jp-Dialog .jp-mod-accept")

        def gone() -> bool:
            if not self.lab.kernels():
                return True
            if dialog.count():
                with contextlib.suppress(Exception):
                    dialog.first.click(timeout=1000)
            return False

        wait_until(gone, timeout, "the kernel to shut down", step=0.1)

    def close(self) -> None:
        """Close the page without saving (the notebook file stays as committed)."""
        with contextlib.suppress(Exception):
            self.page.close()

    # ---- reading the page -----------------------------------------------------------------

    def state(self) -> dict:
        """The page's notebook model: kernel status and, per cell, count, state and outputs."""
        return self.page.evaluate(_STATE_JS, self.path) or {"kernel": None, "cells": []}

    def rendered(self) -> list[dict]:
        """Per cell on the page: each output's mime type, text, whether it is a widget, and the
        width of the image it shows (0 for none, or one that did not load)."""
        return self.page.evaluate(_RENDERED_JS)

    def problems(self, state: dict, only: list[int] | None = None) -> list[str]:
        """What is wrong on the page after a run (of every cell, or the cells ``only``).

        A code cell that did not run, an error outside a cell tagged ``raises-exception``
        (tags from the notebook file), a widget output that the page did not render as a
        widget, a widget's text fallback or a widget error message.
        """
        found = [f"the page shows a pop-up: {text.splitlines()[0]!r}" for text in self.toasts()]
        cells = list(zip(self.file.cells, state["cells"], self.rendered(), strict=False))
        if len(state["cells"]) != len(self.file.cells):
            found.append(
                f"the page shows {len(state['cells'])} cells, the file has {len(self.file.cells)}"
            )
        for index, (source, cell, rendered) in enumerate(cells):
            if source.cell_type != "code" or (only is not None and index not in only):
                continue
            where = f"cell {index} ({source.source.splitlines()[0][:60] if source.source else ''})"
            tags = source.metadata.get("tags", [])
            if cell["count"] is None:
                found.append(f"{where} did not run")
            for output in cell["outputs"]:
                if output["output_type"] == "error" and "raises-exception" not in tags:
                    found.append(f"{where} raised {output['ename']}: {output['evalue']}")
            views = sum(WIDGET_VIEW in o.get("data", {}) for o in cell["outputs"])
            shown = [o for o in rendered["outputs"] if o["widget"] and o["mime"] != "text/plain"]
            if len(shown) < views:
                found.append(f"{where}: {views - len(shown)} widget(s) not rendered as widgets")
            for output in rendered["outputs"]:
                text = output["text"]
                if output["mime"] == "text/plain" and WIDGET_FALLBACK.match(text):
                    found.append(f"{where} shows a widget's text fallback: {text[:80]!r}")
                if any(error in text for error in WIDGET_ERRORS):
                    found.append(f"{where} shows a widget error: {text[:120]!r}")
        return found

    def console_errors(self) -> list[str]:
        """The page's JavaScript errors so far (to explain a failure)."""
        return [line for line in self.console if line.startswith(("error", "pageerror"))]

    def toasts(self) -> list[str]:
        """The texts of the notifications on screen (JupyterLab's news or update questions)."""
        return self.page.locator(".Toastify__toast").all_inner_texts()

    def screenshot(self, name: str, cells: list[int] | None = None) -> Path:
        """Photograph the whole notebook, or only the ``cells`` (first to last), to a PNG.

        The page is grown to the notebook's height first, so nothing is cut at the fold.
        """
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.photographed = True
        # the page's height with the notebook's scroller as tall as its content (measured
        # whatever the page's size is now: the layout may still follow a previous resize)
        height = self.page.evaluate(
            """() => {
              const scroller = document.querySelector(
                '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer');
              if (!scroller) return window.innerHeight;
              return window.innerHeight - scroller.clientHeight + scroller.scrollHeight;
            }"""
        )
        tall = {"width": VIEWPORT["width"], "height": max(VIEWPORT["height"], min(height, 16000))}
        self.page.set_viewport_size(tall)
        try:
            self.page.wait_for_timeout(500)
            if not cells:
                self.page.screenshot(path=str(path), full_page=True)
            else:
                every = self.page.locator(".jp-Notebook .jp-Cell")
                first = every.nth(min(cells)).bounding_box()
                last = every.nth(max(cells)).bounding_box()
                clip = {
                    "x": first["x"],
                    "y": first["y"],
                    "width": first["width"],
                    "height": last["y"] + last["height"] - first["y"],
                }
                self.page.screenshot(path=str(path), clip=clip)
        finally:
            self.page.set_viewport_size(VIEWPORT)
            self.page.wait_for_timeout(300)  # let JupyterLab lay the page out again
        return path
