"""The web apps through a running JupyterLab: ``<lab>/proxy/<port>/…`` (jupyter-server-proxy).

The same JupyterLab as the browser test (``tests/browser.py``), no browser: the app of task 12
is started as a notebook's ``!python -m helpers task 12`` would be (in the environment of a
kernel that JupyterLab started), it prints the link through JupyterLab, and that link,
fetched with the lab's login, answers the original's body byte for byte.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from browser import JupyterLab, wait_until
from nbtools import ROOT
from test_stock import LIST
from webtools import run_task

from helpers.core.server import free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]
LINK = "Open it in your browser through JupyterLab: "


@pytest.fixture(scope="module")
def lab() -> Iterator[JupyterLab]:
    """The workbook's JupyterLab (jupyter-server-proxy enabled by its install), for the module."""
    server = JupyterLab()
    server.start()
    try:
        yield server
    finally:
        killed = server.stop()
        assert not killed, f"JupyterLab or its kernels had to be killed: {killed}"


def kernel_environment(lab: JupyterLab) -> dict[str, str]:
    """What a kernel of ``lab`` (and so a ``!command`` in its notebooks) has in its environment."""
    assert lab.process is not None
    return dict(lab.environment(), JPY_PARENT_PID=str(lab.process.pid))


def fetch(url: str, token: str | None) -> tuple[int, bytes]:
    """Status and exact body of ``GET url`` (redirects not followed), logged in with ``token``."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        headers = {"Authorization": f"token {token}"} if token else {}
        connection.request("GET", parts.path, headers=headers)
        reply = connection.getresponse()
        return reply.status, reply.read()
    finally:
        connection.close()


def test_list_products_through_jupyterlab_is_the_originals_body(lab):
    with run_task(12, env=kernel_environment(lab)) as app:
        assert app.wait_for_lines(lambda lines: any(LINK in line for line in lines), 30), app.lines
        link = next(line for line in app.lines if LINK in line).split(LINK, 1)[1]
        assert link == f"{lab.base}/proxy/{app.port}/list_products"
        assert fetch(link, lab.token) == (200, LIST)
        assert fetch(f"{lab.base}/proxy/{app.port}/list_products/12", lab.token) == (
            404,
            b'{"status":"Product not found"}',
        )
        status, body = fetch(link, None)  # without the lab's login, the app is out of reach
        assert status in (302, 401, 403) and LIST not in body


def test_the_doctor_tries_the_route_through_the_running_jupyterlab(lab):
    done = subprocess.run(
        [sys.executable, "-m", "helpers", "doctor"],
        cwd=ROOT,
        env=kernel_environment(lab),
        capture_output=True,
        text=True,
        timeout=180,
    )
    route = f"✔ browser route: {lab.base}/proxy/PORT/ reaches the apps (jupyter-server-proxy "
    assert route in done.stdout, done.stdout + done.stderr
    assert lab.token not in done.stdout + done.stderr
    assert done.returncode == 0, done.stdout


async def _in_a_terminal(lab: JupyterLab, name: str, command: str, until: str) -> str:
    """Type ``command`` in JupyterLab's terminal ``name``; its output once ``until`` shows."""
    from tornado.websocket import websocket_connect

    url = f"ws://127.0.0.1:{lab.port}/terminals/websocket/{name}?token={lab.token}"
    socket = await websocket_connect(url)
    out, deadline = "", time.monotonic() + 60
    try:
        await socket.write_message(json.dumps(["stdin", command + "\r"]))
        while until not in out and time.monotonic() < deadline:
            message = await asyncio.wait_for(socket.read_message(), 60)
            if message is None:
                break
            kind, *payload = json.loads(message)
            out += payload[0] if kind == "stdout" else ""
        await socket.write_message(json.dumps(["stdin", "\x03"]))  # Ctrl+C stops the app
        await asyncio.sleep(0.5)
    finally:
        socket.close()
    return out


def port_closed(port: int) -> bool:
    try:
        http.client.HTTPConnection("127.0.0.1", port, timeout=2).connect()
    except OSError:
        return True
    return False


def test_a_task_typed_in_a_jupyterlab_terminal_prints_the_link_through_jupyterlab(lab):
    name = lab.api("POST", "terminals")["name"]
    port = free_port()
    try:
        command = f"{sys.executable} -m helpers task 12 --port {port}"
        out = asyncio.run(_in_a_terminal(lab, name, command, "/list_products"))
        found = re.search(r"Open it in your browser through JupyterLab: (\S+)", out)
        assert found, out
        assert found.group(1) == f"{lab.base}/proxy/{port}/list_products"
        assert wait_until(lambda: port_closed(port), 30, "the app to stop after Ctrl+C")
    finally:
        lab.api("DELETE", f"terminals/{name}")
