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
