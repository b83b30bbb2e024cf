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

import asyncio
import sys

import redis
import redis.asyncio as aioredis

from helpers import server
from helpers.errors import WorkbookError

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


class InvalidRedisURL(WorkbookError):
    """The URL given for Redis is not one redis-py can use."""


class WrongTypeError(WorkbookError):
    """A command met a key that holds another type (Redis's WRONGTYPE error)."""


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


def _type_of(client: redis.Redis, key: str) -> str:
    kind = client.type(key)
    return kind.decode() if isinstance(kind, bytes) else str(kind)


_READERS = {
    "string": "GET",
    "hash": "HGETALL",
    "list": "LRANGE",
    "set": "SMEMBERS",
    "zset": "ZRANGE",
    "stream": "XRANGE",
}


def _wrong_type(key: str, kind: str, command: str, wanted: str) -> WrongTypeError:
    reader = _READERS.get(kind, "TYPE")
    return WrongTypeError(
        f"The key {key!r} holds a {kind}, and {command} works on a {wanted} only "
        f"(read a {kind} with {reader})."
    )


def set_new_school(client: redis.Redis, school_name: str, value: str) -> None:
    """SET ``school_name`` to ``value`` and print the reply: ``Reply: OK``."""
    redis_print(client.set(school_name, value))


def display_school_value(client: redis.Redis, school_name: str) -> None:
    """GET ``school_name`` and print its value (``None`` if the key does not exist)."""
    try:
        value = client.get(school_name)
    except redis.ResponseError as exc:
        if not str(exc).startswith("WRONGTYPE"):
            raise
        kind = _type_of(client, school_name)
        raise _wrong_type(school_name, kind, "GET", "string") from None
    print(value, flush=True)


def create_hash(client: redis.Redis, key: str, fields: dict[str, object]) -> None:
    """HSET each field of ``fields`` in ``key``, one command each, printing each reply."""
    for field, value in fields.items():
        try:
            reply = client.hset(key, field, value)
        except redis.ResponseError as exc:
            if not str(exc).startswith("WRONGTYPE"):
                raise
            kind = _type_of(client, key)
            raise _wrong_type(key, kind, "HSET", "hash") from None
        redis_print(reply)


def display_hash(client: redis.Redis, key: str) -> None:
    """HGETALL ``key`` and print it as a dict of strings (``{}`` if the key does not exist)."""
    try:
        value = client.hgetall(key)
    except redis.ResponseError as exc:
        if not str(exc).startswith("WRONGTYPE"):
            raise
        kind = _type_of(client, key)
        raise _wrong_type(key, kind, "HGETALL", "hash") from None
    print(value, flush=True)


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
        if not str(exc).startswith("WRONGTYPE"):
            raise
        kind = await client.type(school_name)
        raise _wrong_type(school_name, kind, "GET", "string") from None
    print(value, flush=True)


def _no_arguments(argv: list[str], task: int) -> bool:
    if argv:
        print(f"usage: python -m helpers task {task}  (no arguments)", file=sys.stderr)
        return False
    return True


def task_connect(argv: list[str]) -> int:
    """``0-redis_client.js``: connect and print whether it worked; 1 if the server is down."""
    if not _no_arguments(argv, 1):
        return 2
    client = open_client()
    try:
        return 0 if announce(client) else 1
    finally:
        client.close()


def task_basic_ops(argv: list[str]) -> int:
    """``1-redis_op.js``: display Holberton, set HolbertonSanFrancisco to 100, display it."""
    if not _no_arguments(argv, 2):
        return 2
    client = open_client()
    try:
        if not announce(client):
            return 1
        display_school_value(client, "Holberton")
        set_new_school(client, "HolbertonSanFrancisco", "100")
        display_school_value(client, "HolbertonSanFrancisco")
    finally:
        client.close()
    return 0


async def _basic_ops_async() -> int:
    client = open_async_client()
    try:
        if not await announce_async(client):
            return 1
        await display_school_value_async(client, "Holberton")
        await set_new_school_async(client, "HolbertonSanFrancisco", "100")
        await display_school_value_async(client, "HolbertonSanFrancisco")
    finally:
        await client.aclose()
    return 0


def task_async_ops(argv: list[str]) -> int:
    """``2-redis_op_async.js``: the same as task 2 with ``redis.asyncio`` and ``await``."""
    if not _no_arguments(argv, 3):
        return 2
    return asyncio.run(_basic_ops_async())


def task_hash(argv: list[str]) -> int:
    """``4-redis_advanced_op.js``: HSET the six schools one by one, then HGETALL and print."""
    if not _no_arguments(argv, 4):
        return 2
    client = open_client()
    try:
        if not announce(client):
            return 1
        create_hash(client, HASH_KEY, SCHOOLS)
        display_hash(client, HASH_KEY)
    finally:
        client.close()
    return 0
