"""``python -m helpers doctor``: what a learner's machine needs, checked in one screen.

One line per check, ✔ or ✘, and under each ✘ the fix: Python, the workbook's packages (each
imported), a Redis (``REDIS_URL``'s, the workbook's own, or one started now), an RQ worker
that starts, runs a job and exits, the web apps' port, and the browser's route to them through
JupyterLab (jupyter-server-proxy). Exit status 0 when all is well, 1 otherwise. What it
starts (a Redis, a worker, a web app) it stops before it ends.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import sys
import time
import tomllib
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpers.core.errors import WorkbookError

DISTRIBUTION = "queuing-system-in-python"
PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
PYTHON_FLOOR = (3, 11)
IMPORT_NAMES = {"jupyter-server-proxy": "jupyter_server_proxy"}
WORKER_TIMEOUT = 60.0
SETUP = "`make setup` in the workbook's folder (there, `pip install -e .` does as well; "
SETUP += "with conda, `conda env update -f environment.yml`)"


@dataclass
class Check:
    """One line of the report: passed or not, what was seen, and the fix if it failed."""

    ok: bool
    line: str
    fix: str = ""

    def render(self) -> str:
        """``✔ line``, or ``✘ line`` and the fix on the next line."""
        text = f"{'✔' if self.ok else '✘'} {self.line}"
        return text if self.ok or not self.fix else f"{text}\n    fix: {self.fix}"


def echo(value: str) -> str:
    """The doctor's job: give back what it was handed (the worker imports this module)."""
    return value


def check_python() -> Check:
    """Python 3.11 or newer."""
    version = ".".join(map(str, sys.version_info[:3]))
    if sys.version_info >= PYTHON_FLOOR:
        return Check(True, f"Python {version} (the workbook needs 3.11 or newer)")
    return Check(
        False,
        f"Python {version} is too old: the workbook needs 3.11 or newer",
        "install Python 3.11, 3.12 or 3.13 (python.org, conda, or your system's packages), "
        "then " + SETUP,
    )


def requirements() -> list[Any]:
    """The workbook's own dependencies (not its test tools) that apply on this platform.

    In a clone, those of its ``pyproject.toml`` (what this version needs, even before it is
    installed again); after a plain ``pip install``, the installed metadata's.
    """
    from packaging.requirements import Requirement

    project = tomllib.loads(PYPROJECT.read_text())["project"] if PYPROJECT.is_file() else {}
    if project.get("name") == DISTRIBUTION:
        specs = project["dependencies"]
    else:
        specs = importlib.metadata.requires(DISTRIBUTION) or []
    found = [Requirement(spec) for spec in specs]
    return [r for r in found if r.marker is None or r.marker.evaluate({"extra": ""})]


def _package_problem(requirement: Any) -> str | None:
    """Why ``requirement`` is not met here (one phrase), or None if it is."""
    try:
        importlib.import_module(IMPORT_NAMES.get(requirement.name, requirement.name))
        version = importlib.metadata.version(requirement.name)
    except Exception as exc:  # a broken package may raise anything on import
        return f"{requirement.name} does not import ({type(exc).__name__}: {exc})"
    if not requirement.specifier.contains(version, prereleases=True):
        return f"{requirement.name} {version} is not {requirement.specifier}"
    return None


def check_packages() -> Check:
    """Each of the workbook's packages imports, at a version it accepts."""
    try:
        wanted = requirements()
    except ImportError as exc:  # no `packaging`, or the workbook is not installed at all
        return Check(False, f"packages: none could be checked ({exc})", SETUP)
    problems = [(r, p) for r in wanted if (p := _package_problem(r)) is not None]
    if not problems:
        names = ", ".join(f"{r.name} {importlib.metadata.version(r.name)}" for r in wanted)
        return Check(True, f"packages: {names}")
    installs = " ".join(f"'{r.name}{r.specifier}'" for r, _ in problems)
    return Check(
        False,
        "packages: " + "; ".join(problem for _, problem in problems),
        f"pip install {installs}; or {SETUP}",
    )


def _split_fix(message: str) -> tuple[str, str]:
    """A WorkbookError's one line, as (what is wrong, the fix)."""
    what, _, fix = str(message).partition(" Fix: ")
    return what.rstrip("."), fix.rstrip(".") or "see the message above"


def check_redis() -> tuple[Check, str | None]:
    """A Redis that answers: ``REDIS_URL``'s, the workbook's running server, or one started now.

    A server started here is registered with ``cleanup()``, which the doctor runs at its end.
    """
    from helpers.core import server

    try:
        running = server.external_url() or server.status()
        url = server.redis_url()
        line = server.describe(url)
    except WorkbookError as exc:
        what, fix = _split_fix(str(exc))
        return Check(False, f"Redis: {what}", fix), None
    if not running:
        line += "; started for this check, stopped after it"
    return Check(True, line), url


def _run_one_job(url: str) -> tuple[bool, Any, list[str], float]:
    """Start one burst worker on a throwaway queue with one job; (exited, result, errors, s)."""
    import redis
    from rq import Queue

    from helpers.core.workers import start_workers

    connection = redis.Redis.from_url(url)
    queue = Queue(f"doctor-{uuid.uuid4().hex[:8]}", connection=connection)
    token = uuid.uuid4().hex
    started = time.monotonic()
    try:
        job = queue.enqueue(echo, token)
        group = start_workers(queue.name, 1, burst=True, url=url)
        exited = group.wait(WORKER_TIMEOUT)
        job.refresh()
        result = job.return_value()
        return exited and result == token, result, group.errors, time.monotonic() - started
    finally:
        queue.delete(delete_jobs=True)
        connection.close()


def check_workers(url: str | None) -> Check:
    """One RQ worker process starts on a throwaway queue, runs a job and exits (burst)."""
    if url is None:
        return Check(False, "workers: not tried, for want of a Redis", "fix Redis first (above)")
    fix = f"`python -m helpers worker QUEUE --burst` shows the error in full; {SETUP}"
    try:
        ok, _, errors, seconds = _run_one_job(url)
    except Exception as exc:  # Redis gone, RQ broken: whatever it is, say it in one line
        return Check(False, f"workers: {type(exc).__name__}: {exc}", fix)
    if ok:
        return Check(True, f"workers: an RQ worker started, ran a job and exited ({seconds:.1f} s)")
    last = next((e.strip() for e in reversed(errors) if e.strip()), "it printed no error")
    within = f"within {WORKER_TIMEOUT:.0f} s"
    return Check(False, f"workers: the RQ worker did not run its job {within} ({last})", fix)


def check_port() -> Check:
    """The port of the web apps (tasks 12 and 13): 1245, or which one they will take."""
    from helpers.core.serving import ORIGINAL_PORT, default_port

    try:
        port = default_port()
    except OSError as exc:
        return Check(False, f"web port: no port can be opened on 127.0.0.1 ({exc})", "")
    if port == ORIGINAL_PORT:
        return Check(True, f"web port: {ORIGINAL_PORT} is free for the apps of notebooks 09-10")
    return Check(
        True,
        f"web port: {ORIGINAL_PORT} is taken (another app, or another learner's), "
        f"so the apps will take {port}, the next free one",
    )


def _get_through_proxy(info: dict[str, Any], port: int, token: str) -> tuple[int, str]:
    """Status and body of ``GET <server>proxy/<port>/doctor``, with the server's token."""
    import http.client
    from urllib.parse import urlsplit

    url = urlsplit(f"{str(info['url']).rstrip('/')}/proxy/{port}/doctor")
    https = url.scheme == "https"
    connection_class = http.client.HTTPSConnection if https else http.client.HTTPConnection
    connection = connection_class(url.hostname or "localhost", url.port, timeout=10)
    try:
        headers = {"Authorization": f"token {token}"} if token else {}
        connection.request("GET", url.path, headers=headers)
        reply = connection.getresponse()
        return reply.status, reply.read().decode(errors="replace")
    finally:
        connection.close()


def _try_route(info: dict[str, Any], version: str) -> Check:
    """Serve a throwaway app and fetch it through the running JupyterLab's proxy."""
    import os

    from helpers.core.serving import serve
    from helpers.core.webapp import create_json_app

    secret = uuid.uuid4().hex
    app = create_json_app("doctor")
    app.add_url_rule("/doctor", "doctor", lambda: {"status": secret})
    token = str(info.get("token") or os.environ.get("JUPYTERHUB_API_TOKEN", ""))
    where = f"{str(info['url']).rstrip('/')}/proxy/PORT/"
    try:
        with serve(app, port=0) as web:
            status, body = _get_through_proxy(info, web.port, token)
    except OSError as exc:
        status, body = 0, str(exc)
    proxy = f"jupyter-server-proxy {version}"
    if status == 200 and secret in body:
        return Check(True, f"browser route: {where} reaches the apps ({proxy})")
    if status in (301, 302, 303, 401, 403):
        return Check(True, f"browser route: {proxy}; {where} asks for a login, so was not tried")
    return Check(
        False,
        f"browser route: {where} answers {status or body} instead of the app",
        "install jupyter-server-proxy in the Python that runs JupyterLab "
        "(pip install 'jupyter-server-proxy>=4.2'), then restart JupyterLab",
    )


def check_proxy() -> Check:
    """jupyter-server-proxy imports and, if a JupyterLab runs, its ``proxy/<port>/`` answers."""
    from helpers.core import jupyter

    try:
        importlib.import_module("jupyter_server_proxy")
        version = importlib.metadata.version("jupyter-server-proxy")
    except Exception:
        return Check(
            False,
            "browser route: jupyter-server-proxy is missing, so a browser cannot reach the apps",
            "pip install 'jupyter-server-proxy>=4.2', then restart JupyterLab",
        )
    info = jupyter.server_info() or next(iter(jupyter.running_servers()), None)
    if info is None or not str(info.get("url", "")).startswith("http"):
        return Check(
            True, f"browser route: jupyter-server-proxy {version} (no JupyterLab runs to try it)"
        )
    return _try_route(info, version)


def run_checks() -> list[Check]:
    """Every check, in order; what they started is stopped afterwards."""
    from helpers.core import lifecycle

    checks = [check_python(), check_packages()]
    try:
        redis_check, url = check_redis()
        checks += [redis_check, check_workers(url), check_port(), check_proxy()]
    finally:
        lifecycle.stop_everything()
    return checks


def main(argv: list[str]) -> int:
    """``python -m helpers doctor``: print the checks; 0 if all passed, else 1."""
    if argv and argv[0] in ("-h", "--help"):
        print("usage: python -m helpers doctor\n" + __doc__.split("\n\n", 1)[1].strip())
        return 0
    print("Checking what the workbook needs on this machine:", flush=True)
    checks = run_checks()
    for check in checks:
        print(check.render(), flush=True)
    failed = sum(not c.ok for c in checks)
    if failed == 0:
        print("All is well: open the notebooks (`make lab`) and start with 00.")
        return 0
    print(f"{failed} check(s) failed: fix them as said above, then run this again.")
    return 1
