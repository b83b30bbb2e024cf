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
    from helpers.install import snapshot_file, snapshot_holds

    actual = r.get(key)
    if actual is None:
        return verdict(False, f"the key {key} is not in Redis: set it with r.set({key!r}, ...).")
    if actual != value:
        return verdict(False, f"{key} holds {actual!r}, not {value!r}.")
    path = snapshot_file(r)
    if not snapshot_holds(path, key, value):
        return verdict(False, f"{key} is in Redis but not in {path.name} yet: run r.save().")
    return verdict(True, f"{key} = {value!r} is in Redis and in {path.name}.")


_CHECK_PREFIX = "check:"  # keys the checks write, apart from the notebooks' own


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


def _race(call: Callable[[], object], clients: int, timeout: float = 30.0) -> list[object]:
    """Run ``call()`` from ``clients`` threads released at once; its results or exceptions."""
    start = threading.Barrier(clients)
    results: list[object] = []
    lock = threading.Lock()

    def client() -> None:
        start.wait()
        try:
            outcome: object = call()
        except Exception as exc:  # noqa: BLE001 - the verdict names it
            outcome = exc
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    return results


def check_atomic_reservation(reserve, r, rounds: int = 5, clients: int = 40) -> Verdict:
    """Race ``reserve(r, item)`` from many threads on Suitcase 650 (2 in stock): 2 must win."""
    from helpers.stock import get_item_by_id, reserve_stock_by_id, stock_key

    item = get_item_by_id(3)
    for _ in range(rounds):
        reserve_stock_by_id(r, 3, 0)
        results = _race(lambda: reserve(r, item), clients)
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


def _job_check_queue(connection: redis.Redis, name: str):
    """A fresh queue for a check, that no worker reads."""
    from rq import Queue

    from helpers.notifications import reset_queue

    queue = Queue(f"check_{name}", connection=connection)
    reset_queue(queue)
    return queue


def check_create_notification_job(
    create_notification_job: Callable, connection: redis.Redis
) -> Verdict:
    """Exercise 05: ``create_notification_job(queue, data)`` enqueues ``send_notification``."""
    import contextlib as _contextlib
    import io as _io

    from rq.job import Job

    from helpers.notifications import SAMPLE_JOBS, kue_id, reset_queue

    if not callable(create_notification_job):
        return verdict(False, "create_notification_job is not a function: define it with def.")
    queue = _job_check_queue(connection, "create_notification_job")
    data = SAMPLE_JOBS[2]
    try:
        buffer = _io.StringIO()
        try:
            with _contextlib.redirect_stdout(buffer):
                job = create_notification_job(queue, dict(data))
        except Exception as exc:  # noqa: BLE001 - the learner's code may raise anything
            return verdict(False, f"create_notification_job raised {type(exc).__name__}: {exc}.")
        if not isinstance(job, Job):
            return verdict(False, f"it returned {job!r}: return the job that enqueue gives.")
        if queue.get_job_ids() != [job.id]:
            return verdict(False, "the job is not on the queue it was given: use queue.enqueue.")
        if job.func_name != "helpers.notifications.send_notification":
            return verdict(False, f"the job runs {job.func_name}: enqueue send_notification.")
        if tuple(job.args) != (data["phoneNumber"], data["message"]) or job.kwargs:
            return verdict(
                False,
                f"the job's arguments are {job.args!r} {job.kwargs!r}: pass the phone number "
                "and the message, in that order.",
            )
        if kue_id(job) != "1":
            return verdict(False, f"its id is {job.id!r}: give it job_id=next_job_id(queue).")
        if buffer.getvalue().strip() != "Notification job created: 1":
            return verdict(
                False,
                f"it printed {buffer.getvalue().strip()!r}: print "
                "f'Notification job created: {kue_id(job)}'.",
            )
    finally:
        reset_queue(queue)
    return verdict(True, "create_notification_job enqueues send_notification with a Kue-like id.")


def check_event_line(event_line: Callable) -> Verdict:
    """Exercise 06: ``event_line(event)`` returns the line Kue's creator logs for an event."""
    from helpers.events import JobEvent

    if not callable(event_line):
        return verdict(False, "event_line is not a function: define it with def.")
    cases = [
        (
            JobEvent("push_notification_code_2-7", "progress", progress=50),
            "Notification job 7 50% complete",
        ),
        (JobEvent("push_notification_code_2-7", "completed"), "Notification job 7 completed"),
        (
            JobEvent(
                "push_notification_code_2-12", "failed", error="Phone number 1 is blacklisted"
            ),
            "Notification job 12 failed: Phone number 1 is blacklisted",
        ),
    ]
    for event, expected in cases:
        try:
            got = event_line(event)
        except Exception as exc:  # noqa: BLE001 - the learner's code may raise anything
            return verdict(
                False, f"for a {event.kind} event it raised {type(exc).__name__}: {exc}."
            )
        if got != expected:
            return verdict(
                False, f"for a {event.kind} event it returned {got!r}, not {expected!r}."
            )
    return verdict(True, "event_line writes the three lines of Kue's creator.")


def check_create_push_notifications_jobs(create: Callable, connection: redis.Redis) -> Verdict:
    """Exercise 07: the learner's own ``create_push_notifications_jobs(jobs, queue)``."""
    import contextlib as _contextlib
    import io as _io

    from helpers import events
    from helpers.notifications import SAMPLE_JOBS, job_data, reset_queue

    if not callable(create):
        return verdict(False, "create_push_notifications_jobs is not a function: define it.")
    queue = _job_check_queue(connection, "create_push_notifications_jobs")
    try:
        for not_a_list in ("nope", 42, {"phoneNumber": "4153518780"}):
            try:
                with _contextlib.redirect_stdout(_io.StringIO()):
                    create(not_a_list, queue)
            except Exception as exc:  # noqa: BLE001
                if str(exc) != "Jobs is not an array":
                    return verdict(
                        False,
                        f"for {not_a_list!r} it raised {exc!r}: the message "
                        "must be exactly 'Jobs is not an array'.",
                    )
            else:
                return verdict(
                    False,
                    f"for {not_a_list!r} it raised nothing: raise an error "
                    "with the message 'Jobs is not an array'.",
                )
        if queue.count:
            return verdict(False, "it created jobs for an input that is not a list.")
        buffer = _io.StringIO()
        try:
            with _contextlib.redirect_stdout(buffer):
                create(SAMPLE_JOBS[2:4], queue)
        except Exception as exc:  # noqa: BLE001
            return verdict(False, f"for a list of two jobs it raised {type(exc).__name__}: {exc}.")
        jobs = queue.get_jobs()
        if [job_data(job) for job in jobs] != SAMPLE_JOBS[2:4]:
            return verdict(
                False,
                f"the queue holds {len(jobs)} job(s), not the two it was given, "
                "in order: enqueue one job per item.",
            )
        printed = buffer.getvalue().splitlines()
        if printed != ["Notification job created: 1", "Notification job created: 2"]:
            return verdict(
                False,
                f"it printed {printed!r}: print 'Notification job created: <id>' for each job.",
            )
    finally:
        ids = queue.get_job_ids()
        events.forget(ids)
        reset_queue(queue)
    return verdict(
        True, "create_push_notifications_jobs refuses a non-list and creates one job per item."
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
        results = _race(lambda: take_seat(r), clients)
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
