"""The workbook as a package: ``pip install .`` (not editable) works away from the clone."""

from __future__ import annotations

import os
import subprocess
import venv

import pytest
from nbtools import NOTEBOOKS_DIR, ROOT

from helpers.core.server import free_port

pytestmark = pytest.mark.slow


def test_a_plain_install_starts_redis_and_runs_notebook_00_from_another_folder(tmp_path):
    env_dir, elsewhere, data = tmp_path / "venv", tmp_path / "elsewhere", tmp_path / "data"
    elsewhere.mkdir()
    venv.create(env_dir, with_pip=True)
    python = str(env_dir / "bin" / "python")
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--no-compile", str(ROOT), "papermill"],
        check=True, timeout=900, cwd=elsewhere,
    )  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k not in ("WORKBOOK_HOME", "REDIS_URL")}
    env.update(XDG_DATA_HOME=str(data), WORKBOOK_REDIS_PORT=str(free_port()))

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [python, *args], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300
        )

    where = run("-c", "import helpers; print(helpers.__file__)").stdout
    assert str(env_dir) in where and str(ROOT) not in where
    try:
        started = run("-m", "helpers", "redis", "start")
        assert started.returncode == 0, started.stderr
        assert "is ready at redis://127.0.0.1:" in started.stdout
        home = data / "queuing-system-in-python"
        assert (home / "redis" / "server.json").exists()
        notebook = elsewhere / "00.ipynb"
        notebook.write_bytes((NOTEBOOKS_DIR / "00-install-redis.ipynb").read_bytes())
        out = str(elsewhere / "out.ipynb")
        done = run("-m", "papermill", str(notebook), out, "-p", "FAST", "True")
        assert done.returncode == 0, done.stderr[-2000:]
        assert (home / "redis" / "dump.rdb").exists()
    finally:
        run("-m", "helpers", "stop")
