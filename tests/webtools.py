"""Run the web apps' commands (``python -m helpers task 12|13``) as real processes in tests."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from helpers.core.server import free_port


def raw(port: int, path: str, method: str = "GET") -> tuple[int, bytes, dict[str, str]]:
    """Status, exact body bytes and headers of one request to 127.0.0.1:``port``."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path)
        response = conn.getresponse()
        return response.status, response.read(), dict(response.getheaders())
    finally:
        conn.close()


@dataclass
class App:
    """A running ``python -m helpers task N`` process and what it printed."""

    process: subprocess.Popen
    port: int
    lines: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def raw(self, path: str, method: str = "GET") -> tuple[int, bytes, dict[str, str]]:
        """Status, exact body bytes and headers of one request."""
        return raw(self.port, path, method)

    def body(self, path: str) -> bytes:
        """The exact body bytes of ``GET path``."""
        return self.raw(path)[1]

    def wait_for_lines(self, predicate, timeout: float = 60.0) -> bool:
        """Wait until ``predicate(lines)`` is true."""
        deadline = time.monotonic() + timeout
        while not predicate(list(self.lines)):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True


@contextlib.contextmanager
def run_task(
    task: int, *args: str, default_port: bool = False, env: dict[str, str] | None = None
) -> Iterator[App]:
    """Start ``python -m helpers task N --port <free> args...``; stop it (SIGTERM) afterwards.

    ``default_port``: no ``--port`` (the app picks 1245 or the next free port; ``app.port``
    is the one it says it listens on). ``env``: the environment (default: this process's).
    """
    port = 0 if default_port else free_port()
    command = [sys.executable, "-u", "-m", "helpers", "task", str(task), *args]
    process = subprocess.Popen(
        command if default_port else [*command, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=dict(os.environ if env is None else env, PYTHONUNBUFFERED="1"),
    )
    app = App(process, port)
    started = threading.Event()

    def read() -> None:
        for raw in process.stdout:
            app.lines.append(raw.rstrip("\n"))
            if "listening on" in raw:
                app.port = int(raw.split("listening on http://127.0.0.1:")[1].split()[0])
                started.set()
        started.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert started.wait(30), "the app did not start"
        assert process.poll() is None, f"the app exited: {app.lines}"
        yield app
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        reader.join(5)
