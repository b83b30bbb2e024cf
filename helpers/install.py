"""Task 0, install a Redis instance: ``redis-cli`` (or its Python twin), snapshots, restart."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import redis

from helpers import server


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


def redis_cli(url: str, *args: str) -> str:
    """Run one command as ``redis-cli`` would and print ``$ redis-cli ARGS`` and the reply.

    Uses the real ``redis-cli`` where it is installed, else sends the same command with
    redis-py and prints the reply in ``redis-cli``'s format; the output is the same.
    """
    cli = shutil.which("redis-cli")
    if cli:
        done = subprocess.run(
            [cli, "-u", url, "--no-raw", *args], capture_output=True, text=True, timeout=30
        )
        reply = (done.stdout or done.stderr).rstrip("\n")
    else:
        client = redis.Redis.from_url(url)
        try:
            raw = client.execute_command(*args, NEVER_DECODE=True)
        except redis.ResponseError as exc:
            raw = None
            reply = f"(error) {exc}"
        else:
            reply = (
                "PONG"
                if raw is True and args[0].upper() == "PING"
                else _format_reply("OK" if raw is True else raw)
            )
        finally:
            client.close()
    print(f"$ redis-cli {' '.join(args)}\n{reply}")
    return reply


def snapshot_file(r: redis.Redis) -> Path:
    """Where the server writes its snapshot: ``CONFIG GET dir`` / ``dbfilename``."""
    folder = r.config_get("dir")["dir"]
    name = r.config_get("dbfilename")["dbfilename"]
    return Path(folder) / name


def show_snapshot(r: redis.Redis, key: str = "Holberton") -> None:
    """Print where ``dump.rdb`` is and whether it holds ``key``."""
    path = snapshot_file(r)
    if not path.exists():
        print(f"No snapshot yet at {path}: run SAVE first.")
        return
    holds = key.encode() in path.read_bytes()
    print(f"{path.name} is in {path.parent}")
    print(f"It holds the key {key}: {holds}")


def restart_server() -> redis.Redis:
    """Stop the workbook's server, start it again, and return a new client for it."""
    if server.external_url():
        print("REDIS_URL is set: the workbook does not stop a server it did not start.")
    else:
        stopped = server.stop()
        print("Server stopped." if stopped else "The server was not running.")
    return server.connect()


def stop_server() -> None:
    """Stop the workbook's server (saving ``dump.rdb``), and say so."""
    if server.external_url():
        print("REDIS_URL is set: the workbook does not stop a server it did not start.")
        return
    stopped = server.stop()
    print("Server stopped; dump.rdb saved." if stopped else "The server was not running.")


def main(argv: list[str]) -> int:
    """``python -m helpers task 0``: find or start Redis, PING, SET, GET, SAVE."""
    r = server.connect()
    url = server.redis_url()
    redis_cli(url, "PING")
    redis_cli(url, "SET", "Holberton", "School")
    redis_cli(url, "GET", "Holberton")
    redis_cli(url, "SAVE")
    show_snapshot(r)
    r.close()
    return 0
