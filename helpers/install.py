"""Task 0, install a Redis instance: ``redis-cli`` (or its Python twin), snapshots, restart."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import redis

from helpers.core import secret, server
from helpers.core.home import shown

__all__ = ["redis_cli", "show_snapshot", "snapshot_file", "snapshot_holds", "stop_server"]


def _format_reply(reply: object, indent: str = "") -> str:
    """Format a reply the way ``redis-cli --no-raw`` does."""
    if reply is None:
        return "(nil)"
    if isinstance(reply, bool):
        return "(integer) 1" if reply else "(integer) 0"
    if isinstance(reply, int):
        return f"(integer) {reply}"
    if isinstance(reply, bytes):
        reply = reply.decode()
    if isinstance(reply, (list, tuple)):
        if not reply:
            return "(empty array)"
        return "\n".join(
            f"{indent}{i}) {_format_reply(item, indent + '   ')}" for i, item in enumerate(reply, 1)
        )
    if isinstance(reply, str) and reply in ("OK", "PONG", "QUEUED"):
        return reply
    return f'"{reply}"'


def _send_raw(url: str, *args: str) -> str:
    """Send one command on a bare connection (no reply parsing) and format the raw reply."""
    pool = redis.ConnectionPool.from_url(url, protocol=2)
    connection = pool.make_connection()
    try:
        connection.send_command(*args)
        try:
            return _format_reply(connection.read_response())
        except redis.ResponseError as exc:
            return f"(error) {exc}"
    finally:
        connection.disconnect()


def redis_cli(url: str, *args: str) -> None:
    """Run one command as ``redis-cli`` would and print ``$ redis-cli ARGS`` and the reply.

    Uses the real ``redis-cli`` where it is installed, else sends the same command with
    redis-py and prints the reply in ``redis-cli``'s format; the output is the same.
    """
    cli = shutil.which("redis-cli")
    if cli:
        # the password goes in REDISCLI_AUTH, not on the command line that `ps` shows to all
        bare, user, password = secret.split_credentials(url)
        env = dict(os.environ, REDISCLI_AUTH=password) if password else None
        named = ("--user", user) if user and user != secret.USER else ()
        command = [cli, "-u", bare, *named, "--no-raw", *args]
        done = subprocess.run(command, capture_output=True, text=True, timeout=30, env=env)
        reply = (done.stdout or done.stderr).rstrip("\n")
    else:
        reply = _send_raw(url, *args)
    print(f"$ redis-cli {' '.join(args)}\n{reply}")


def snapshot_file(r: redis.Redis) -> Path:
    """Where the server writes its snapshot: ``CONFIG GET dir`` / ``dbfilename``."""
    folder = r.config_get("dir")["dir"]
    name = r.config_get("dbfilename")["dbfilename"]
    return Path(folder) / name


def _rdb_string(text: str) -> bytes:
    """How an RDB file writes a short string: one length byte, then the bytes."""
    data = text.encode()
    if len(data) > 20 or text.lstrip("-").isdigit():
        raise ValueError("only short, non-numeric strings are written as they are")
    return bytes([len(data)]) + data


def snapshot_holds(path: Path, key: str, value: str) -> bool:
    """True if the RDB file at ``path`` stores the string ``key`` with ``value``.

    Good for short, non-numeric keys and values (stored uncompressed, as here): the record
    is a type byte 0 (string), the key, then the value, each after its length.
    """
    return path.exists() and b"\x00" + _rdb_string(key) + _rdb_string(value) in path.read_bytes()


def show_snapshot(r: redis.Redis, key: str = "Holberton", value: str = "School") -> None:
    """Print where ``dump.rdb`` is and whether it stores ``key`` with ``value``."""
    path = snapshot_file(r)
    if not path.exists():
        print(f"No snapshot yet at {shown(path)}: run SAVE first.")
        return
    print(f"{path.name} is in {shown(path.parent)}")
    print(f"It stores {key} = {value}: {snapshot_holds(path, key, value)}")


def stop_server() -> None:
    """Stop the workbook's server (saving ``dump.rdb``), and say so."""
    if server.external_url():
        print("REDIS_URL is set: the workbook does not stop a server it did not start.")
        return
    stopped = server.stop()
    print("Server stopped; dump.rdb saved." if stopped else "The server was not running.")
