"""Tasks 1–4: a Redis client that says whether it connected, strings, async twins, hashes.

The original course uses node_redis v2, which logs ``Redis client connected to the server``
on its ``connect`` event and ``Redis client not connected to the server: <error>`` on its
``error`` event, and whose ``redis.print`` callback prints ``Reply: <reply>``. The functions
here print the same lines with redis-py. They take their connection as an argument, so a
notebook, a test and ``python -m helpers task N`` all call the same code.

The error after ``not connected to the server:`` is the real one, written as JavaScript's
``err.toString()`` writes it: the exception's name, a colon, its message. node_redis shows
``Error: Redis connection to 127.0.0.1:6379 failed - connect ECONNREFUSED 127.0.0.1:6379``;
redis-py shows ``ConnectionError: Error 111 connecting to 127.0.0.1:6379. Connection refused.``
"""

from __future__ import annotations

import redis
import redis.asyncio as aioredis

from helpers.core import server
from helpers.core.errors import InvalidRedisURL, WrongTypeError

__all__ = [
    "CONNECTED",
    "HASH_KEY",
    "NOT_CONNECTED",
    "SCHOOLS",
    "WrongTypeError",
    "announce",
    "announce_async",
    "create_async_client",
    "create_client",
    "create_hash",
    "display_hash",
    "display_school_value",
    "display_school_value_async",
    "error_text",
    "is_connected",
    "open_async_client",
    "open_client",
    "redis_print",
    "set_new_school",
    "set_new_school_async",
]

CONNECTED = "Redis client connected to the server"
NOT_CONNECTED = "Redis client not connected to the server: {error}"
CONNECT_TIMEOUT = 5.0
HASH_KEY = "HolbertonSchools"
SCHOOLS: dict[str, int] = {
    "Portland": 50,
    "Seattle": 80,
    "New York": 20,
    "Bogota": 20,
    "Cali": 40,
    "Paris": 2,
}


def error_text(exc: BaseException) -> str:
    """An exception as JavaScript's ``err.toString()`` shows an error: ``Name: message``."""
    return f"{type(exc).__name__}: {exc}"


def _url(url: str | None) -> str:
    return url or server.redis_url()


def _new_client(kind: type, url: str | None):
    """A ``kind`` client (str replies) for ``url``, default the workbook's Redis; not connected."""
    url = _url(url)
    try:
        return kind.from_url(
            url,
            decode_responses=True,
            socket_connect_timeout=CONNECT_TIMEOUT,
            client_name=server.client_name(),
        )
    except ValueError as exc:
        raise InvalidRedisURL(
            f"{url!r} is not a Redis URL ({exc}); write it as redis://host:port/0."
        ) from None


def open_client(url: str | None = None) -> redis.Redis:
    """A client (str replies) for ``url``, default the workbook's Redis; it does not connect yet."""
    return _new_client(redis.Redis, url)


def announce(client: redis.Redis) -> bool:
    """Connect ``client`` and print one of the original's two lines; True if it connected."""
    try:
        client.ping()
    except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
        print(NOT_CONNECTED.format(error=error_text(exc)), flush=True)
        return False
    print(CONNECTED, flush=True)
    return True


def create_client(url: str | None = None) -> redis.Redis:
    """Connect to Redis and say so, as ``0-redis_client.js`` does; return the client either way."""
    client = open_client(url)
    announce(client)
    return client


def is_connected(client: redis.Redis) -> bool:
    """True if the server behind ``client`` answers PING; prints nothing."""
    try:
        return bool(client.ping())
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        return False


def redis_print(reply: object) -> None:
    """Print ``Reply: <reply>`` as node_redis's ``redis.print`` does (redis-py's True is OK)."""
    print(f"Reply: {'OK' if reply is True else reply}", flush=True)


_READERS = {
    "string": "GET",
    "hash": "HGETALL",
    "list": "LRANGE",
    "set": "SMEMBERS",
    "zset": "ZRANGE",
    "stream": "XRANGE",
}
_WANTS = {"GET": "string", "HSET": "hash", "HGETALL": "hash"}


def _is_wrong_type(exc: redis.ResponseError) -> bool:
    return str(exc).startswith("WRONGTYPE")


def _wrong_type(key: str, kind: bytes | str, command: str) -> WrongTypeError:
    """The one-line error for ``command`` on ``key``, which holds a ``kind``."""
    kind = kind.decode() if isinstance(kind, bytes) else str(kind)
    reader = _READERS.get(kind, "TYPE")
    return WrongTypeError(
        f"The key {key!r} holds a {kind}, and {command} works on a {_WANTS[command]} only "
        f"(read a {kind} with {reader})."
    )


def _checked(client: redis.Redis, command: str, key: str, *args: object) -> object:
    """Run ``command key *args``; a WRONGTYPE reply becomes a :class:`WrongTypeError`."""
    try:
        return client.execute_command(command, key, *args)
    except redis.ResponseError as exc:
        if not _is_wrong_type(exc):
            raise
        raise _wrong_type(key, client.type(key), command) from None


def set_new_school(client: redis.Redis, school_name: str, value: str) -> None:
    """SET ``school_name`` to ``value`` and print the reply: ``Reply: OK``."""
    redis_print(client.set(school_name, value))


def display_school_value(client: redis.Redis, school_name: str) -> None:
    """GET ``school_name`` and print its value (``None`` if the key does not exist)."""
    print(_checked(client, "GET", school_name), flush=True)


def create_hash(client: redis.Redis, key: str, fields: dict[str, object]) -> None:
    """HSET each field of ``fields`` in ``key``, one command each, printing each reply."""
    for field, value in fields.items():
        redis_print(_checked(client, "HSET", key, field, value))


def display_hash(client: redis.Redis, key: str) -> None:
    """HGETALL ``key`` and print it as a dict of strings (``{}`` if the key does not exist)."""
    print(_checked(client, "HGETALL", key), flush=True)


def open_async_client(url: str | None = None) -> aioredis.Redis:
    """The async twin of :func:`open_client` (``redis.asyncio``); it does not connect yet."""
    return _new_client(aioredis.Redis, url)


async def announce_async(client: aioredis.Redis) -> bool:
    """The async twin of :func:`announce`: connect, print one of the two lines, True if up."""
    try:
        await client.ping()
    except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
        print(NOT_CONNECTED.format(error=error_text(exc)), flush=True)
        return False
    print(CONNECTED, flush=True)
    return True


async def create_async_client(url: str | None = None) -> aioredis.Redis:
    """The async twin of :func:`create_client`: connect with ``redis.asyncio`` and say so."""
    client = open_async_client(url)
    await announce_async(client)
    return client


async def set_new_school_async(client: aioredis.Redis, school_name: str, value: str) -> None:
    """The async twin of :func:`set_new_school`."""
    redis_print(await client.set(school_name, value))


async def display_school_value_async(client: aioredis.Redis, school_name: str) -> None:
    """The async twin of :func:`display_school_value`."""
    try:
        value = await client.get(school_name)
    except redis.ResponseError as exc:
        if not _is_wrong_type(exc):
            raise
        raise _wrong_type(school_name, await client.type(school_name), "GET") from None
    print(value, flush=True)
