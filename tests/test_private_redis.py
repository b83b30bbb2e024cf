"""Learners side by side on one machine: each learner's workbook Redis is private.

The acceptance test makes two real Unix users, gives each a workbook folder of its own,
and runs for both at the same time the workbook's Redis start and notebook 00 (papermill,
with the workbook's own Python). Then, as the second learner, it knocks on the first
learner's server without the first's password (PING, GET, SET: refused) and tries to read
the first learner's password file (refused); no output of either run shows a password.

The learners run the repository and ``.venv`` in place (nothing is copied: a copy would
have to be the whole interpreter, whose ``.venv`` points at it by absolute path). A clone
may live under a folder only root may enter (``/root`` is 0700 here): the test lets every
user *enter* (``o+x``, never read) each folder on the way to the repository and to the
interpreter, for as long as it runs, and puts the modes back after. A lock file keeps two
runs of this test from overlapping (they would share the user names and the modes).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest
import redis
from nbtools import NOTEBOOKS_DIR, ROOT, run_with_papermill

from helpers.core import server
from helpers.core.secret import read_password
from helpers.install import redis_cli

USERS = ("wblearner1", "wblearner2")
NOTEBOOK = NOTEBOOKS_DIR / "00-install-redis.ipynb"
LOCK = Path(tempfile.gettempdir()) / "workbook-test-private-redis.lock"
RUN_TIMEOUT = 150
PROBE = r"""
import json, socket, sys
port, other_password_file = int(sys.argv[1]), sys.argv[2]
replies = {}
for command in (b"PING", b"GET Holberton", b"SET intruder was-here"):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(command + b"\r\n")
        replies[command.decode()] = s.recv(200).decode().strip()
try:
    open(other_password_file).read()
    replies["password file"] = "read"
except PermissionError:
    replies["password file"] = "PermissionError"
print(json.dumps(replies))
"""


@dataclass
class Learner:
    """A Unix user made for the test, with a home and a workbook folder of its own."""

    name: str
    home: Path
    uid: int = 0
    gid: int = 0
    outputs: list[str] = field(default_factory=list)

    @property
    def workbook(self) -> Path:
        return self.home / "workbook"

    def env(self) -> dict[str, str]:
        """A clean environment: no REDIS_URL, no port asked for, this session's marker."""
        env = {
            "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.home),
            "USER": self.name,
            "LOGNAME": self.name,
            "LANG": "C.UTF-8",
            "WORKBOOK_HOME": str(self.workbook),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        marker = "WORKBOOK_TEST_SESSION"  # the root conftest finds what the session left
        if os.environ.get(marker):
            env[marker] = os.environ[marker]
        return env

    def popen(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        """Run ``args`` as this user (setpriv: no login, the environment given exactly)."""
        ids = (f"--reuid={self.uid}", f"--regid={self.gid}", "--init-groups")
        return subprocess.Popen(
            ["setpriv", *ids, "--", *args],
            env=env or self.env(),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def run(
        self, *args: str, env: dict[str, str] | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess:
        """Run ``args`` as this user and wait; its output is kept in ``outputs``."""
        process = self.popen(*args, env=env)
        out, err = process.communicate(timeout=timeout)
        self.outputs += [out, err]
        return subprocess.CompletedProcess(args, process.returncode, out, err)

    def password(self) -> str:
        return (self.workbook / "redis" / "password").read_text().strip()

    def state(self) -> dict:
        return json.loads((self.workbook / "redis" / "server.json").read_text())


def _require_root() -> None:
    """Skip where users cannot be made; in CI (which runs as root) fail instead."""
    missing = [tool for tool in ("useradd", "userdel", "setpriv") if not shutil.which(tool)]
    if os.geteuid() == 0 and not missing:
        return
    reason = (
        f"needs {', '.join(missing)}" if missing else "needs root to create Unix users (useradd)"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(f"the two-learner test must run in CI: it {reason}")
    pytest.skip(f"two real Unix users: {reason}; run the tests as root, as CI does")


@contextlib.contextmanager
def _enterable(paths: list[Path]) -> Iterator[None]:
    """Let every user enter (o+x) each folder on the way to ``paths``; put the modes back after."""
    folders = {folder for path in paths for folder in path.parents}
    folders |= {path for path in paths if path.is_dir()}
    changed: dict[Path, int] = {}
    try:
        for folder in sorted(folders):
            mode = folder.stat().st_mode & 0o7777
            if not mode & 0o001:
                changed[folder] = mode
                folder.chmod(mode | 0o001)
        yield
    finally:
        for folder, mode in changed.items():
            folder.chmod(mode)


def _remove_user(name: str) -> None:
    """Stop what ``name`` still runs (by pid), then remove the user and its group."""
    try:
        uid = pwd.getpwnam(name).pw_uid
    except KeyError:
        return
    listed = subprocess.run(["ps", "-u", str(uid), "-o", "pid="], capture_output=True)
    for pid in listed.stdout.split():
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(pid), signal.SIGKILL)
    subprocess.run(["userdel", name], capture_output=True, timeout=30)


def _make_user(name: str, base: Path) -> Learner:
    """A Unix user ``name`` (and its group) with a home in ``base`` (0755, as many systems)."""
    _remove_user(name)  # left by a run that was killed
    home = base / name
    subprocess.run(
        ["useradd", "--no-create-home", "--home-dir", str(home), "--user-group", name],
        check=True,
        capture_output=True,
        timeout=30,
    )
    entry = pwd.getpwnam(name)
    home.mkdir(mode=0o755)
    os.chown(home, entry.pw_uid, entry.pw_gid)
    return Learner(name, home, entry.pw_uid, entry.pw_gid)


@pytest.fixture
def learners() -> Iterator[list[Learner]]:
    """Two Unix users, each with a home of its own; removed afterwards with what they ran."""
    _require_root()
    LOCK.touch()
    interpreter = [Path(sys.executable), Path(sys.executable).resolve(), Path(sys.base_prefix)]
    with open(LOCK) as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # held until the modes are back and the users gone
        base = Path(tempfile.mkdtemp(prefix="workbook-learners-"))
        base.chmod(0o755)
        made: list[Learner] = []
        try:
            with _enterable([ROOT, *interpreter]):
                for name in USERS:
                    made.append(_make_user(name, base))
                yield made
                for learner in made:
                    learner.run(sys.executable, "-m", "helpers", "redis", "stop")
        finally:
            for name in USERS:
                _remove_user(name)
            shutil.rmtree(base, ignore_errors=True)


def _session(learner: Learner) -> subprocess.Popen:
    """As ``learner``: start the workbook's Redis, run notebook 00, start Redis again."""
    python = sys.executable
    output = learner.home / NOTEBOOK.name
    script = (
        f"set -e; {python} -m helpers redis start; "
        f"{python} -m papermill {NOTEBOOK} {output} -p FAST True -k python3 "
        f"--cwd {NOTEBOOKS_DIR} --no-progress-bar --execution-timeout 120; "
        f"{python} -m helpers redis start"
    )
    return learner.popen("sh", "-c", script)


def _url(learner: Learner) -> str:
    return f"redis://default:{learner.password()}@127.0.0.1:{learner.state()['port']}/0"


@pytest.mark.slow
def test_two_learners_side_by_side_each_with_a_private_redis(learners):
    first, second = learners
    began = time.monotonic()
    sessions = [(learner, _session(learner)) for learner in learners]  # at the same time
    for learner, process in sessions:
        out, err = process.communicate(timeout=RUN_TIMEOUT)
        learner.outputs += [out, err]
        assert process.returncode == 0, f"{learner.name}: {out}\n{err}"
        assert "is ready at redis://127.0.0.1:" in out
        learner.outputs.append((learner.home / NOTEBOOK.name).read_text())
        assert "✅ Right: save_key" in learner.outputs[-1]
    took = time.monotonic() - began
    assert first.state()["port"] != second.state()["port"]
    assert first.password() != second.password()

    folder = first.workbook / "redis"
    assert (folder.stat().st_mode & 0o777, (folder / "password").stat().st_mode & 0o777) == (
        0o700,
        0o600,
    )
    probe = second.run(
        sys.executable, "-c", PROBE, str(first.state()["port"]), str(folder / "password")
    )
    assert probe.returncode == 0, probe.stderr
    replies = json.loads(probe.stdout)
    for command in ("PING", "GET Holberton", "SET intruder was-here"):
        assert replies[command].startswith("-NOAUTH"), (command, replies[command])
    assert replies["password file"] == "PermissionError"

    client = redis.Redis.from_url(_url(first))
    try:
        assert client.get("Holberton") == b"School", "the first learner's own data is there"
        assert client.get("intruder") is None, "the second learner wrote nothing"
    finally:
        client.close()
    intruding = redis.Redis.from_url(_url(first).replace(first.password(), second.password()))
    with pytest.raises(redis.AuthenticationError):
        intruding.ping()  # the second learner's own password opens only the second's server
    intruding.close()

    # without WORKBOOK_HOME, a learner running the clone root owns keeps its files at home
    env = {k: v for k, v in second.env().items() if k != "WORKBOOK_HOME"}
    code = "from helpers.core.home import workbook_home; print(workbook_home())"
    found = second.run(sys.executable, "-c", code, env=env).stdout.strip()
    assert Path(found).is_relative_to(second.home), found

    for learner in learners:
        for text in learner.outputs:
            for secret in (first.password(), second.password()):
                assert secret not in text, f"a password shows in {learner.name}'s output"
    ports = [learner.state()["port"] for learner in learners]
    print(f"two learners side by side, notebook 00 each: {took:.1f} s, ports {ports}")


def test_redis_cli_gets_the_password_from_its_environment(tmp_path, monkeypatch, capsys):
    """The notebooks' ``redis_cli`` hands the real redis-cli the password in REDISCLI_AUTH."""
    real = shutil.which("redis-cli")
    if real is None or os.environ.get("REDIS_URL"):
        pytest.skip("needs the real redis-cli and the workbook's own server")
    argv = tmp_path / "argv"
    wrapper = tmp_path / "bin" / "redis-cli"
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {argv}\nexec {real} "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{wrapper.parent}:{os.environ['PATH']}")
    redis_cli(server.redis_url(), "PING")
    assert capsys.readouterr().out == "$ redis-cli PING\nPONG\n"
    secret = read_password(server.data_dir())
    assert secret and secret not in argv.read_text()
    assert f"redis://127.0.0.1:{server.status().port}/0" in argv.read_text()


@pytest.mark.slow
@pytest.mark.notebook
def test_a_notebook_run_with_workers_shows_no_password():
    """Every output of notebook 05 (first cell, workers' lines, widgets' state): no secret.

    Notebook 00 (redis-cli) is run by the two-learner test above, as each learner.
    """
    if os.environ.get("REDIS_URL"):
        pytest.skip("REDIS_URL is set: the session uses a server the workbook did not start")
    secret = read_password(server.data_dir())
    nb = run_with_papermill(NOTEBOOKS_DIR / "05-job-creator-and-processor.ipynb", "no-password")
    text = nbformat.writes(nb)
    assert secret and secret not in text
    assert "is ready at redis://127.0.0.1:" in text
