"""The self-checks of notebooks 01–03: several values at once, async GETs, a hash."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import io
import time
import uuid
from collections.abc import Callable

import redis
import redis.asyncio as aioredis

from helpers.checks.verdict import (
    CHECK_DB,
    CHECK_PREFIX,
    Verdict,
    on_check_database,
    raised,
    run_captured,
    verdict,
)
from helpers.core.server import free_port, url_of

__all__ = [
    "check_connect_client",
    "check_display_school_values",
    "check_fetch_schools",
    "check_read_hash",
]


_CONNECTED = "Redis client connected to the server"
_NOT_CONNECTED = "Redis client not connected to the server: "


def check_connect_client(connect_client: Callable, r: redis.Redis) -> Verdict:
    """Exercise 01 (task 1): ``connect_client(url)`` prints the original's line, returns a client.

    It is handed a URL where nothing listens, then the URL of a database that only the
    check knows a key of: the client it returns must read that key.
    """
    if not callable(connect_client):
        return verdict(False, "connect_client is not a function: define it with def.")
    closed = f"redis://127.0.0.1:{free_port()}/0"
    printed, client, exc = run_captured(lambda: connect_client(closed))
    _close(client)
    if exc is not None:
        return verdict(
            False,
            f"for a URL where nothing listens, {raised('it', exc)}: catch redis.ConnectionError "
            f"and print {_NOT_CONNECTED!r} followed by the error.",
        )
    wrong = _wrong_connection_line(printed, closed=True)
    if wrong:
        return verdict(False, f"for a URL where nothing listens, {wrong}")
    own = on_check_database(r)
    token = uuid.uuid4().hex
    own.set(f"{CHECK_PREFIX}token", token, ex=60)
    live = url_of(own)
    try:
        printed, client, exc = run_captured(lambda: connect_client(live))
        if exc is not None:
            return verdict(False, f"for the server's URL, {raised('it', exc)}.")
        wrong = _wrong_connection_line(printed, closed=False) or _wrong_client(client, token)
    finally:
        own.delete(f"{CHECK_PREFIX}token")
        own.close()
        _close(client)
    if wrong:
        return verdict(False, wrong)
    return verdict(
        True, "connect_client says whether it reached the server, and returns its client."
    )


def _close(client: object) -> None:
    """Close what the learner's function returned, if it is a client."""
    if isinstance(client, redis.Redis):
        client.close()


def _wrong_connection_line(printed: str, closed: bool) -> str | None:
    """What is wrong with the line ``connect_client`` printed, or None."""
    lines = printed.strip("\n").splitlines()
    if len(lines) != 1:
        return f"it printed {len(lines)} lines: print exactly one."
    line = lines[0]
    if not closed:
        if line != _CONNECTED:
            return f"for the server's URL it printed {line!r}, not {_CONNECTED!r}."
        return None
    if line == _CONNECTED:
        return (
            f"it printed {line!r}: redis-py connects on the first command, so send one "
            "(client.ping()) before you say so."
        )
    if not line.startswith(_NOT_CONNECTED) or len(line) <= len(_NOT_CONNECTED) + 5:
        return (
            f"it printed {line!r}: print {_NOT_CONNECTED!r} followed by the error "
            '(f"...: {exc}").'
        )
    return None


def _wrong_client(client: object, token: str) -> str | None:
    """What is wrong with the client ``connect_client`` returned, or None."""
    if client is None:
        return "it returned None: return the client."
    if not isinstance(client, redis.Redis):
        return f"it returned a {type(client).__name__}: return the redis.Redis client."
    try:
        value = client.get(f"{CHECK_PREFIX}token")
    except redis.RedisError as exc:
        return f"its client could not read: {type(exc).__name__}: {exc}."
    if value not in (token, token.encode()):
        return (
            "its client does not talk to the URL it was given (database "
            f"{CHECK_DB}): build it with redis.Redis.from_url(url)."
        )
    return None


class _CountingRedis(redis.Redis):
    """A client on another client's pool that records the name of every command it sends."""

    def __init__(self, client: redis.Redis) -> None:
        super().__init__(connection_pool=client.connection_pool)
        self.sent: list[str] = []

    def execute_command(self, *args, **options):
        self.sent.append(str(args[0]).upper())
        return super().execute_command(*args, **options)

    def pipeline(self, *args, **kwargs):
        """A pipeline whose ``execute()`` counts as one command sent (one round trip)."""
        pipe = super().pipeline(*args, **kwargs)
        execute = pipe.execute

        def counted(*a, **k):
            self.sent.append("PIPELINE")
            return execute(*a, **k)

        pipe.execute = counted
        return pipe


_NO_VALUE = "(no value)"


_OWN_CLIENT = (
    "use the client it is handed (its first argument), not a client of your own: the check's "
    "keys are only there."
)


def check_display_school_values(display_school_values: Callable, r: redis.Redis) -> Verdict:
    """Exercise 01: ``display_school_values(r, names)`` prints ``name: value`` lines, one MGET.

    The check's keys live in a database that only the client it hands over reads, so an
    answer that reads through another client (a global ``r``) finds none of them.
    """
    if not callable(display_school_values):
        return verdict(False, "display_school_values is not a function: define it with def.")
    stored = {f"{CHECK_PREFIX}HolbertonLyon": "35", f"{CHECK_PREFIX}HolbertonTulsa": "12"}
    missing = f"{CHECK_PREFIX}HolbertonAtlantis"
    names = [*stored, missing]
    own = on_check_database(r)
    counting = _CountingRedis(own)
    own.delete(missing)
    own.mset(stored)
    try:
        printed, _, exc = run_captured(lambda: display_school_values(counting, list(names)))
    finally:
        own.delete(*stored)
        own.close()
    if exc is not None:
        return verdict(False, raised("display_school_values", exc) + ".")
    wrong = _wrong_lines(printed.strip("\n").splitlines(), names, stored, counting.sent)
    if wrong:
        return verdict(False, wrong)
    return verdict(
        True,
        "display_school_values prints every value, and (no value) for a missing key, "
        "in one round trip.",
    )


def _wrong_lines(lines: list[str], names: list[str], stored: dict, sent: list[str]) -> str | None:
    """What is wrong with the lines ``display_school_values`` printed, or None."""
    if not lines:
        return "it printed nothing: print one line, name: value, per name."
    if len(lines) != len(names):
        return f"it printed {len(lines)} lines for {len(names)} names: print one line per name."
    if not sent:
        return f"it sent no command to the client it was given: {_OWN_CLIENT}"
    for name, line in zip(names, lines, strict=True):
        want = f"{name}: {stored.get(name, _NO_VALUE)}"
        if line == want:
            continue
        if name not in stored:
            return (
                f"for the key {name!r}, which does not exist, it printed {line!r}: MGET gives "
                f"None there, so print {want!r}."
            )
        held = stored[name]
        return f"for the key {name!r}, which holds {held!r}, it printed {line!r}, not {want!r}."
    if len(sent) > 1:
        return (
            f"it sent {len(sent)} commands ({', '.join(sent)}): read every key with one MGET, "
            "r.mget(names)."
        )
    return None


class _SlowAsyncRedis(aioredis.Redis):
    """An async client on another's pool whose every command first waits ``delay`` seconds."""

    def __init__(self, client: aioredis.Redis, delay: float) -> None:
        super().__init__(connection_pool=client.connection_pool)
        self.delay = delay
        self.sent: list[str] = []

    async def execute_command(self, *args, **options):
        self.sent.append(str(args[0]).upper())
        await asyncio.sleep(self.delay)
        return await super().execute_command(*args, **options)


async def _wrong_result(result: object, expected: dict[str, str | None]) -> str | None:
    """What is wrong with what ``fetch_schools`` returned, or None."""
    if inspect.isawaitable(result):
        if inspect.iscoroutine(result):
            result.close()
        elif isinstance(result, asyncio.Future):
            result.cancel()  # gather's future: stop its GETs, and retrieve the cancellation
            with contextlib.suppress(BaseException):
                await result
        return f"it returned a {type(result).__name__}, not the values: await asyncio.gather(...)."
    if result is None:
        return "it returned None: return a dict, {name: value}."
    if not isinstance(result, dict):
        return f"it returned a {type(result).__name__}: return a dict, dict(zip(names, values))."
    for name, value in expected.items():
        if name not in result:
            gone = ", which does not exist: keep it, with the value None." if value is None else "."
            return f"it left out {name!r}{gone}"
        if result[name] != value:
            return f"for the key {name!r} it returned {result[name]!r}, not {value!r}."
    if len(result) != len(expected):
        extra = next(name for name in result if name not in expected)
        return f"it returned the name {extra!r}, which it was not asked for."
    return None


async def check_fetch_schools(
    fetch_schools: Callable, client: aioredis.Redis, delay: float = 0.2
) -> Verdict:
    """Exercise 02: ``await fetch_schools(client, names)`` GETs every name at once with gather.

    The check's keys live in a database that only the client it hands over reads.
    """
    if not inspect.iscoroutinefunction(fetch_schools):
        return verdict(
            False,
            "fetch_schools is not a coroutine function: define it with async def and await "
            "asyncio.gather(...) inside.",
        )
    stored = {
        f"{CHECK_PREFIX}HolbertonNantes": "27",
        f"{CHECK_PREFIX}HolbertonTunis": "14",
        f"{CHECK_PREFIX}HolbertonLagos": "9",
        f"{CHECK_PREFIX}HolbertonBogota": "31",
    }
    missing = f"{CHECK_PREFIX}HolbertonAtlantis"
    names = [*stored, missing]
    own = on_check_database(client)
    slow = _SlowAsyncRedis(own, delay)
    await own.delete(missing)
    await own.mset(stored)
    start = time.monotonic()
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            result = await fetch_schools(slow, list(names))
    except Exception as exc:  # noqa: BLE001 - the learner's code may raise anything
        return verdict(False, raised("fetch_schools", exc) + ".")
    finally:
        elapsed = time.monotonic() - start
        await own.delete(*stored)
    try:
        expected = {name: stored.get(name) for name in names}
        return await _fetch_verdict(result, expected, slow, elapsed)
    finally:
        await own.aclose()


async def _fetch_verdict(
    result: object, expected: dict[str, str | None], slow: _SlowAsyncRedis, elapsed: float
) -> Verdict:
    """The verdict on what ``fetch_schools`` returned, sent and took."""
    if not slow.sent and result is not None and not inspect.isawaitable(result):
        return verdict(False, f"it sent no command to the client it was given: {_OWN_CLIENT}")
    wrong = await _wrong_result(result, expected)
    if wrong:
        return verdict(False, wrong)
    n, delay = len(expected), slow.delay
    if slow.sent == ["MGET"]:
        return verdict(
            False,
            "it sent one MGET: right for one server, but this exercise practises "
            "asyncio.gather: await one client.get(name) per name together.",
        )
    if elapsed >= 2.5 * delay:
        return verdict(
            False,
            f"it took {elapsed:.1f} s for {n} GETs that wait {delay:.1f} s each: it "
            "awaited them one after another; start them together with asyncio.gather.",
        )
    return verdict(
        True,
        f"fetch_schools ran its {n} GETs at once: each waits {delay:.1f} s, and all "
        f"took about {delay:.1f} s, not {n * delay:.1f} s.",
    )


def check_read_hash(read_hash: Callable, r: redis.Redis) -> Verdict:
    """Exercise 03: ``read_hash(r, key)`` returns the hash as a dict of ints, ``{}`` if missing."""
    if not callable(read_hash):
        return verdict(False, "read_hash is not a function: define it with def read_hash(r, key):.")
    key, missing = f"{CHECK_PREFIX}HolbertonSchools", f"{CHECK_PREFIX}NoSuchHash"
    fields = {"Lyon": "7", "Tunis": "12"}
    expected = {"Lyon": 7, "Tunis": 12}
    own = on_check_database(r)  # only the client handed over sees the check's hash
    own.delete(key, missing)
    own.hset(key, mapping=fields)
    try:
        _, result, exc = run_captured(lambda: read_hash(own, key))
        if exc is not None:
            return verdict(False, raised("read_hash", exc) + ".")
        if result is None:
            return verdict(False, "it returned None: return the dict instead of printing it.")
        if not isinstance(result, dict):
            return verdict(False, f"it returned a {type(result).__name__}: return a dict.")
        if result == {}:
            return verdict(
                False, f"it returned {{}} for a hash that holds Lyon and Tunis: {_OWN_CLIENT}"
            )
        if set(result) != set(expected):
            return verdict(
                False, f"it returned the fields {sorted(result)}; the hash has {sorted(expected)}."
            )
        if all(isinstance(v, str) for v in result.values()):
            return verdict(
                False,
                "its values are strings ('7'): Redis keeps hash values as strings, "
                "so convert each one with int().",
            )
        if result != expected or not all(type(v) is int for v in result.values()):
            return verdict(False, f"it returned {result!r} for a hash holding Lyon=7 and Tunis=12.")
        _, empty, exc = run_captured(lambda: read_hash(own, missing))
        if exc is not None:
            return verdict(False, raised("for a key that does not exist, read_hash", exc) + ".")
        if empty != {}:
            return verdict(
                False,
                f"for a key that does not exist it returned {empty!r}: return {{}} "
                "(HGETALL answers an empty hash).",
            )
    finally:
        own.delete(key, missing)
        own.close()
    return verdict(True, "read_hash returns the hash as a dict of ints, and {} for a missing key.")
