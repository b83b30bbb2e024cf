"""Self-checks for the exercises: each inspects the learner's answer against live Redis.

Every check prints one sentence, either that the answer is right or what is wrong with it,
and returns a Verdict, true when right, so a cell shows one sentence and a test can assert it.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import io
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis
import redis.asyncio as aioredis


@dataclass(frozen=True)
class Verdict:
    """A check's answer: true when right; shows nothing more in a notebook (it printed)."""

    ok: bool
    message: str

    def __bool__(self) -> bool:
        return self.ok

    def _ipython_display_(self) -> None:
        """Display nothing: the sentence was printed already."""


def verdict(ok: bool, message: str) -> Verdict:
    """Print ``message`` after a mark that says right or not yet; return the verdict."""
    print(f"{'✅ Right' if ok else '❌ Not yet'}: {message}")
    return Verdict(ok, message)


def check_saved_key(r, key: str, value: str) -> Verdict:
    """Notebook 00: ``key`` holds ``value`` in Redis and in the ``dump.rdb`` snapshot."""
    from helpers.install import snapshot_file

    actual = r.get(key)
    if actual is None:
        return verdict(False, f"the key {key} is not in Redis: set it with r.set({key!r}, ...).")
    if actual != value:
        return verdict(False, f"{key} holds {actual!r}, not {value!r}.")
    path = snapshot_file(r)
    if not path.exists() or key.encode() not in path.read_bytes():
        return verdict(False, f"{key} is in Redis but not in {path.name} yet: run r.save().")
    return verdict(True, f"{key} is {value!r} in Redis and in {path.name}.")


# --- Notebooks 01–04: Redis fundamentals (tasks 1–5) -------------------------------------

_CHECK_PREFIX = "check:"


def _run_captured(call: Callable[[], object]) -> tuple[str, object, BaseException | None]:
    """Run ``call()``; return what it printed, what it returned, and what it raised."""
    buffer = io.StringIO()
    try:
        with contextlib.redirect_stdout(buffer):
            result = call()
    except Exception as exc:  # noqa: BLE001 - the learner's code may raise anything
        return buffer.getvalue(), None, exc
    return buffer.getvalue(), result, None


def _raised(name: str, exc: BaseException) -> str:
    """One sentence: ``name raised Error: message.`` (one final period)."""
    return f"{name} raised {type(exc).__name__}: {str(exc).rstrip('.')}"


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
    stored = {f"{_CHECK_PREFIX}HolbertonLyon": "35", f"{_CHECK_PREFIX}HolbertonTulsa": "12"}
    missing = f"{_CHECK_PREFIX}HolbertonAtlantis"
    names = [*stored, missing]
    expected = [f"{name}: {stored.get(name, _NO_VALUE)}" for name in names]
    counting = _CountingRedis(r)
    r.delete(missing)
    r.mset(stored)
    try:
        printed, _, exc = _run_captured(lambda: display_school_values(counting, list(names)))
    finally:
        r.delete(*stored)
    if exc is not None:
        return verdict(False, _raised("display_school_values", exc) + ".")
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
        f"{_CHECK_PREFIX}HolbertonNantes": "27",
        f"{_CHECK_PREFIX}HolbertonTunis": "14",
        f"{_CHECK_PREFIX}HolbertonLagos": "9",
        f"{_CHECK_PREFIX}HolbertonBogota": "31",
    }
    missing = f"{_CHECK_PREFIX}HolbertonAtlantis"
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
        return verdict(False, _raised("fetch_schools", exc) + ".")
    finally:
        elapsed = time.monotonic() - start
        await client.delete(*stored)
    if inspect.isawaitable(result):
        if inspect.iscoroutine(result):
            result.close()
        elif isinstance(result, asyncio.Future):
            result.cancel()  # gather's future: stop its GETs, and retrieve the cancellation
            with contextlib.suppress(BaseException):
                await result
        return verdict(
            False,
            f"it returned a {type(result).__name__}, not the values: await asyncio.gather(...).",
        )
    if result is None:
        return verdict(False, "it returned None: return a dict, {name: value}.")
    if not isinstance(result, dict):
        return verdict(
            False,
            f"it returned a {type(result).__name__}: return a dict, dict(zip(names, values)).",
        )
    for name, value in expected.items():
        if name not in result:
            return verdict(
                False,
                f"it left out {name!r}"
                + (
                    ", which does not exist: keep it, with the value None."
                    if value is None
                    else "."
                ),
            )
        if result[name] != value:
            return verdict(
                False, f"for the key {name!r} it returned {result[name]!r}, not {value!r}."
            )
    if len(result) != len(expected):
        extra = next(name for name in result if name not in expected)
        return verdict(False, f"it returned the name {extra!r}, which it was not asked for.")
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
    key, missing = f"{_CHECK_PREFIX}HolbertonSchools", f"{_CHECK_PREFIX}NoSuchHash"
    fields = {"Lyon": "7", "Tunis": "12"}
    expected = {"Lyon": 7, "Tunis": 12}
    r.delete(key, missing)
    r.hset(key, mapping=fields)
    try:
        _, result, exc = _run_captured(lambda: read_hash(r, key))
        if exc is not None:
            return verdict(False, _raised("read_hash", exc) + ".")
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
        _, empty, exc = _run_captured(lambda: read_hash(r, missing))
        if exc is not None:
            return verdict(False, _raised("for a key that does not exist, read_hash", exc) + ".")
        if empty != {}:
            return verdict(
                False,
                f"for a key that does not exist it returned {empty!r}: return {{}} "
                "(HGETALL answers an empty hash).",
            )
    finally:
        r.delete(key, missing)
    return verdict(True, "read_hash returns the hash as a dict of ints, and {} for a missing key.")


def check_listen_until(listen_until: Callable, r: redis.Redis, wait: float = 3.0) -> Verdict:
    """Exercise 04: ``listen_until(r, channel, stop_word)`` returns the messages up to the word."""
    if not callable(listen_until):
        return verdict(False, "listen_until is not a function: define it with def.")
    from helpers.pubsub import subscriber_count, wait_for_unsubscribed

    channel, stop_word = f"{_CHECK_PREFIX}channel", "STOP"
    sent = ["one", "two", stop_word, "three"]
    expected = sent[:3]
    outcome: dict[str, object] = {}

    def run() -> None:  # no stdout capture here: redirect_stdout would swap it for every thread
        try:
            outcome.update(result=listen_until(r, channel, stop_word), exc=None)
        except Exception as exc:  # noqa: BLE001 - the learner's code may raise anything
            outcome.update(exc=exc)

    thread = threading.Thread(target=run, name="check_listen_until", daemon=True)
    thread.start()
    deadline = time.monotonic() + wait
    while thread.is_alive() and not subscriber_count(r, channel) and time.monotonic() < deadline:
        time.sleep(0.02)
    if not subscriber_count(r, channel):
        thread.join(0.5)
        if outcome.get("exc") is not None:
            return verdict(False, _raised("listen_until", outcome["exc"]) + ".")
        if "result" in outcome:
            return verdict(
                False,
                f"it returned {outcome['result']!r} before any message was sent: "
                "keep listening until the stop word arrives.",
            )
        return verdict(
            False,
            f"it did not subscribe to the channel within {wait:.0f} s: call "
            "pubsub.subscribe(channel) on r.pubsub().",
        )
    for message in sent:
        r.publish(channel, message)
    thread.join(wait)
    if thread.is_alive():
        return verdict(
            False,
            f"it was still listening {wait:.0f} s after {stop_word!r} was sent: leave the loop "
            "when a message equals the stop word (restart the kernel to end that listener).",
        )
    if outcome.get("exc") is not None:
        return verdict(False, _raised("listen_until", outcome["exc"]) + ".")
    result = outcome.get("result")
    if result == expected[:2]:
        return verdict(
            False,
            f"it returned {result!r}: the original prints the stop word too, so keep it "
            "before you stop.",
        )
    if result != expected:
        return verdict(
            False,
            f"it returned {result!r}, not {expected!r}: keep the data of the messages whose "
            "type is 'message' (skip the subscribe confirmation).",
        )
    if not wait_for_unsubscribed(r, channel, timeout=1.0):
        return verdict(
            False,
            "it returned but is still subscribed to the channel: call pubsub.unsubscribe() "
            "(or pubsub.close()) before returning.",
        )
    return verdict(True, "listen_until returns the messages up to the stop word and unsubscribes.")


def check_atomic_reservation(reserve, r, rounds: int = 5, clients: int = 40) -> Verdict:
    """Race ``reserve(r, item)`` from many threads on Suitcase 650 (2 in stock): 2 must win."""
    import threading

    from helpers.stock import get_item_by_id, reserve_stock_by_id, stock_key

    item = get_item_by_id(3)
    for _ in range(rounds):
        reserve_stock_by_id(r, 3, 0)
        start = threading.Barrier(clients)
        results: list[object] = []

        def client(start: threading.Barrier = start, results: list[object] = results) -> None:
            start.wait()
            try:
                results.append(reserve(r, item))
            except Exception as exc:  # the verdict names it
                results.append(exc)

        threads = [threading.Thread(target=client) for _ in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        errors = [x for x in results if isinstance(x, Exception)]
        if errors:
            reserve_stock_by_id(r, 3, 0)
            return verdict(False, f"it raised {type(errors[0]).__name__}: {errors[0]}")
        confirmed, stored = results.count(True), r.get(stock_key(3))
        stored = stored.decode() if isinstance(stored, bytes) else stored
        if confirmed != 2 or stored != "2":
            reserve_stock_by_id(r, 3, 0)
            return verdict(
                False,
                f"{clients} clients at once got {confirmed} reservations and item.3 says "
                f"{stored}; with 2 in stock both must be 2.",
            )
    reserve_stock_by_id(r, 3, 0)
    return verdict(
        True, f"{rounds} races of {clients} clients: exactly 2 reservations each time, never more."
    )
