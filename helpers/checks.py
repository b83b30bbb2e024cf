"""Self-checks for the exercises: each inspects the learner's answer against live Redis.

Every check prints one sentence, either that the answer is right or what is wrong with it,
and returns a Verdict, true when right, so a cell shows one sentence and a test can assert it.
"""

from __future__ import annotations

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
    return f"{name} raised {type(exc).__name__}: {exc}"


def check_display_school_value(display_school_value: Callable, r: redis.Redis) -> Verdict:
    """Exercise 01: ``display_school_value(r, name)`` prints the value stored under ``name``."""
    if not callable(display_school_value):
        return verdict(False, "display_school_value is not a function: define it with def.")
    cases = {f"{_CHECK_PREFIX}HolbertonLyon": "35", f"{_CHECK_PREFIX}HolbertonTulsa": "12"}
    try:
        for key, value in cases.items():
            r.set(key, value)
            printed, _, exc = _run_captured(lambda key=key: display_school_value(r, key))
            if exc is not None:
                return verdict(False, _raised("display_school_value", exc) + ".")
            shown = printed.strip()
            if not shown:
                return verdict(False, "it printed nothing: print the value r.get(name) returns.")
            if shown != value:
                return verdict(
                    False,
                    f"for the key {key!r}, which holds {value!r}, it printed {shown!r}: "
                    "print only the value of the name it is given.",
                )
    finally:
        r.delete(*cases)
    return verdict(True, "display_school_value prints the value stored under the name it is given.")


async def check_display_school_value_async(
    display_school_value_async: Callable, client: aioredis.Redis
) -> Verdict:
    """Exercise 02: ``await display_school_value_async(client, name)`` prints the value."""
    if not inspect.iscoroutinefunction(display_school_value_async):
        return verdict(
            False,
            "display_school_value_async is not a coroutine function: define it with async def "
            "and await client.get(name).",
        )
    key, value = f"{_CHECK_PREFIX}HolbertonNantes", "27"
    await client.set(key, value)
    buffer = io.StringIO()
    try:
        with contextlib.redirect_stdout(buffer):
            await display_school_value_async(client, key)
    except Exception as exc:  # noqa: BLE001 - the learner's code may raise anything
        return verdict(False, _raised("display_school_value_async", exc) + ".")
    finally:
        await client.delete(key)
    shown = buffer.getvalue().strip()
    if not shown:
        return verdict(False, "it printed nothing: print the value that client.get(name) gives.")
    if shown.startswith("<coroutine object"):
        return verdict(False, "it printed a coroutine object: await client.get(name) first.")
    if shown != value:
        return verdict(False, f"for the key {key!r}, which holds {value!r}, it printed {shown!r}.")
    return verdict(True, "display_school_value_async awaits the value and prints it.")


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


def check_take_seat(take_seat, r, seats: int = 10, clients: int = 30, rounds: int = 3) -> Verdict:
    """Exercise 10: ``take_seat(r)`` from many threads at once sells each seat exactly once.

    Sets ``available_seats`` to ``seats`` and opens reservations, then ``clients`` threads
    call ``take_seat(r)`` at the same instant: the seats left must come back as
    ``seats - 1`` ... 0, once each, every other call must raise ``NotEnoughSeats``, and the
    last seat must close reservations. The two keys get their values back afterwards.
    """
    from helpers.seats import ENABLED_KEY, NOT_ENOUGH_SEATS, SEATS_KEY, NotEnoughSeats

    if not callable(take_seat):
        return verdict(False, "take_seat is not a function: define it with def.")
    name = getattr(take_seat, "__name__", "take_seat")
    saved = {key: r.get(key) for key in (SEATS_KEY, ENABLED_KEY)}

    def text(value: object) -> str | None:
        return value.decode() if isinstance(value, bytes) else value  # type: ignore[return-value]

    def race() -> str | None:
        """One race; the reason it went wrong, or None."""
        r.set(SEATS_KEY, seats)
        r.set(ENABLED_KEY, "1")
        start = threading.Barrier(clients)
        results: list[object] = []
        lock = threading.Lock()

        def client() -> None:
            start.wait()
            try:
                outcome: object = take_seat(r)
            except Exception as exc:  # noqa: BLE001 - the verdict names it
                outcome = exc
            with lock:
                results.append(outcome)

        threads = [threading.Thread(target=client) for _ in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        if len(results) < clients:
            return f"{clients - len(results)} of {clients} calls did not return within 30 s."
        errors = [x for x in results if isinstance(x, Exception)]
        others = [x for x in errors if not isinstance(x, NotEnoughSeats)]
        if others:
            return _raised(name, others[0])
        if any(str(x) != NOT_ENOUGH_SEATS for x in errors):
            return f"NotEnoughSeats must say {NOT_ENOUGH_SEATS!r}, as the failed line does."
        left = [x for x in results if not isinstance(x, Exception)]
        odd = [x for x in left if not isinstance(x, int) or isinstance(x, bool) or x < 0]
        if odd:
            return (
                f"{name} returned {odd[0]!r}; it must return the seats left (0 or more) "
                "and raise NotEnoughSeats when none is left."
            )
        stored = text(r.get(SEATS_KEY))
        if len(left) != seats:
            return (
                f"{clients} calls at once on {seats} seats sold {len(left)} seats and left "
                f"available_seats at {stored}; exactly {seats} must succeed."
            )
        if sorted(left) != list(range(seats)):
            return (
                f"the successful calls returned {sorted(left, reverse=True)}; each must return "
                f"the seats left after it, {seats - 1} down to 0, once each."
            )
        if stored != "0":
            return f"after {seats} seats sold, available_seats is {stored}, not 0."
        if text(r.get(ENABLED_KEY)) != "0":
            return "the call that took the last seat did not set reservation_enabled to 0."
        return None

    def last_seat() -> str | None:
        """One call on the last seat: returns 0 and closes reservations in the same step."""
        r.set(SEATS_KEY, 1)
        r.set(ENABLED_KEY, "1")
        try:
            left = take_seat(r)
        except Exception as exc:  # noqa: BLE001 - the verdict names it
            return f"{_raised(name, exc)} (with 1 seat left)."
        if left != 0:
            return f"with 1 seat left, {name} returned {left!r}, not 0 (the seats left)."
        if text(r.get(ENABLED_KEY)) != "0":
            return "taking the last seat must also set reservation_enabled to 0."
        return None

    try:
        reason = last_seat()
        if reason:
            return verdict(False, reason)
        for _ in range(rounds):
            reason = race()
            if reason:
                return verdict(False, reason)
    finally:
        for key, value in saved.items():
            if value is None:
                r.delete(key)
            else:
                r.set(key, value)
    return verdict(
        True,
        f"{rounds} races of {clients} calls on {seats} seats: each seat sold once, "
        "the rest refused, reservations closed at 0.",
    )
