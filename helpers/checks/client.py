"""The self-checks of notebooks 01–03: several values at once, async GETs, a hash."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import io
import time
from collections.abc import Callable

import redis
import redis.asyncio as aioredis

from helpers.checks.verdict import CHECK_PREFIX, Verdict, raised, run_captured, verdict

__all__ = ["check_display_school_values", "check_fetch_schools", "check_read_hash"]


class _CountingRedis(redis.Redis):
    """A client on another client's pool that records the name of every command it sends."""

    def __init__(self, client: redis.Redis) -> None:
        super().__init__(connection_pool=client.connection_pool)
        self.sent: list[str] = []

    def execute_command(self, *args, **options):
        self.sent.append(str(args[0]).upper())
        return super().execute_command(*args, **options)


_NO_VALUE = "(no value)"


def check_display_school_values(display_school_values: Callable, r: redis.Redis) -> Verdict:
    """Exercise 01: ``display_school_values(r, names)`` prints ``name: value`` lines, one MGET."""
    if not callable(display_school_values):
        return verdict(False, "display_school_values is not a function: define it with def.")
    stored = {f"{CHECK_PREFIX}HolbertonLyon": "35", f"{CHECK_PREFIX}HolbertonTulsa": "12"}
    missing = f"{CHECK_PREFIX}HolbertonAtlantis"
    names = [*stored, missing]
    expected = [f"{name}: {stored.get(name, _NO_VALUE)}" for name in names]
    counting = _CountingRedis(r)
    r.delete(missing)
    r.mset(stored)
    try:
        printed, _, exc = run_captured(lambda: display_school_values(counting, list(names)))
    finally:
        r.delete(*stored)
    if exc is not None:
        return verdict(False, raised("display_school_values", exc) + ".")
    lines = printed.strip("\n").splitlines()
    if not lines:
        return verdict(False, "it printed nothing: print one line, name: value, per name.")
    if len(lines) != len(names):
        return verdict(
            False,
            f"it printed {len(lines)} lines for {len(names)} names: print one line per name.",
        )
    for name, line, want in zip(names, lines, expected, strict=True):
        if line == want:
            continue
        if name == missing:
            return verdict(
                False,
                f"for the key {name!r}, which does not exist, it printed {line!r}: MGET gives "
                f"None there, so print {want!r}.",
            )
        return verdict(
            False,
            f"for the key {name!r}, which holds {stored[name]!r}, it printed {line!r}, "
            f"not {want!r}.",
        )
    if len(counting.sent) > 1:
        return verdict(
            False,
            f"it sent {len(counting.sent)} commands ({', '.join(counting.sent)}): read every "
            "key with one MGET, r.mget(names).",
        )
    return verdict(
        True,
        "display_school_values prints every value, and (no value) for a missing key, "
        "in one round trip.",
    )


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
    """Exercise 02: ``await fetch_schools(client, names)`` GETs every name at once with gather."""
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
    expected = {name: stored.get(name) for name in names}
    slow = _SlowAsyncRedis(client, delay)
    await client.delete(missing)
    await client.mset(stored)
    buffer = io.StringIO()
    start = time.monotonic()
    try:
        with contextlib.redirect_stdout(buffer):
            result = await fetch_schools(slow, list(names))
    except Exception as exc:  # noqa: BLE001 - the learner's code may raise anything
        return verdict(False, raised("fetch_schools", exc) + ".")
    finally:
        elapsed = time.monotonic() - start
        await client.delete(*stored)
    wrong = await _wrong_result(result, expected)
    if wrong:
        return verdict(False, wrong)
    if slow.sent == ["MGET"]:
        return verdict(
            False,
            "it sent one MGET: right for one server, but this exercise practises "
            "asyncio.gather: await one client.get(name) per name together.",
        )
    if elapsed >= 2.5 * delay:
        return verdict(
            False,
            f"it took {elapsed:.1f} s for {len(names)} GETs that wait {delay:.1f} s each: it "
            "awaited them one after another; start them together with asyncio.gather.",
        )
    return verdict(
        True,
        f"fetch_schools ran its {len(names)} GETs at once: each waits {delay:.1f} s, and all "
        f"took about {delay:.1f} s, not {len(names) * delay:.1f} s.",
    )


def check_read_hash(read_hash: Callable, r: redis.Redis) -> Verdict:
    """Exercise 03: ``read_hash(r, key)`` returns the hash as a dict of ints, ``{}`` if missing."""
    if not callable(read_hash):
        return verdict(False, "read_hash is not a function: define it with def read_hash(r, key):.")
    key, missing = f"{CHECK_PREFIX}HolbertonSchools", f"{CHECK_PREFIX}NoSuchHash"
    fields = {"Lyon": "7", "Tunis": "12"}
    expected = {"Lyon": 7, "Tunis": 12}
    r.delete(key, missing)
    r.hset(key, mapping=fields)
    try:
        _, result, exc = run_captured(lambda: read_hash(r, key))
        if exc is not None:
            return verdict(False, raised("read_hash", exc) + ".")
        if result is None:
            return verdict(False, "it returned None: return the dict instead of printing it.")
        if not isinstance(result, dict):
            return verdict(False, f"it returned a {type(result).__name__}: return a dict.")
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
        _, empty, exc = run_captured(lambda: read_hash(r, missing))
        if exc is not None:
            return verdict(False, raised("for a key that does not exist, read_hash", exc) + ".")
        if empty != {}:
            return verdict(
                False,
                f"for a key that does not exist it returned {empty!r}: return {{}} "
                "(HGETALL answers an empty hash).",
            )
    finally:
        r.delete(key, missing)
    return verdict(True, "read_hash returns the hash as a dict of ints, and {} for a missing key.")
