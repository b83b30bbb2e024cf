"""The creator side of job events: a :class:`Listener` thread that loses no event.

The thread subscribes to :data:`~helpers.core.events.CHANNEL` *before* it reads anything,
hands each event of the jobs it watches to a handler, in order, and reconciles with what
Redis stored (each job's numbered event log and its status, one ``HMGET`` per job), so a job
that ended while nobody listened is still reported, and no event is lost or repeated.

Where it polls, and why: each time it subscribes, it reads the stored logs of the jobs
still open (an event published while the thread was reconnecting is in the log, not on the
channel); every :data:`RECONCILE_EVERY` s it reads their statuses (one ``HGET`` each) and
the logs of those that ended without an event (deleted, stopped, failed before their
callback ran); and when a job's last event came before RQ stored the job's final status
(each event carries the status it was recorded with: a failure, or a success on a worker
other than the workbook's, whose callback RQ runs first), every :data:`AWAIT_POLL` s until
the status is there.

When Redis goes away, the thread says so in one line (``on_status``), waits for it with
backoff (:mod:`helpers.core.outage`), then subscribes again and reconciles: what happened
meanwhile is delivered from the stored logs, in order. Past the limit it stops, in one line.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable

import redis
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from helpers.core import lifecycle
from helpers.core.errors import Stopped
from helpers.core.events import (
    CHANNEL,
    COMPLETED,
    FAILED,
    FINAL_STATUSES,
    REMOVED,
    STORED_FIELDS,
    TERMINAL,
    EventHandler,
    JobEvent,
    Stored,
    read_stored,
)
from helpers.core.job_input import explain_failure
from helpers.core.outage import OUTAGE_LIMIT, REDIS_DOWN, RedisWatch

logger = logging.getLogger(__name__)
RECONCILE_EVERY = 1.0
AWAIT_POLL = 0.005
STOP_TIMEOUT = 5.0


def _last_line(text: str | None) -> str:
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    if not lines:
        return "unknown error"
    last = lines[-1]
    head, sep, rest = last.partition(": ")
    return rest if sep and head.replace(".", "").replace("_", "").isalnum() else last


def _text(value: bytes | str) -> str:
    """A reply as text, whether the client decodes replies or not."""
    return value.decode() if isinstance(value, bytes) else value


def _exc_string(job: Job) -> str | None:
    result = job.latest_result()
    return result.exc_string if result is not None else None


def _why_failed(job: Job) -> str:
    """The one line for a failed job: the fix if no worker could import it, else its error."""
    text = _exc_string(job)
    try:
        func_name = job.func_name
    except Exception:  # noqa: BLE001 - a job whose data no one can unpickle has no name
        func_name = None
    return explain_failure(text or "", func_name) or _last_line(text)


def _ids(jobs: Iterable[Job | str]) -> list[str]:
    return [job if isinstance(job, str) else job.id for job in jobs]


class _Watched:
    """What the listener has delivered for one job."""

    __slots__ = ("delivered", "read")

    def __init__(self) -> None:
        self.delivered = 0
        self.read = False  # its stored log was read once since it was watched


class Listener:
    """Deliver the events of the jobs it watches, in order, to ``handler``, in a thread.

    The thread starts when jobs are watched and ends by itself once every watched job has
    ended (completed, failed or removed); watching more jobs starts it again. After
    :meth:`stop`, the listener is done: :meth:`watch` raises :class:`Stopped`. It rides out a
    Redis restart, and says so through ``on_status(line)`` (default: a logged warning).
    """

    def __init__(
        self,
        connection: redis.Redis,
        handler: EventHandler,
        *,
        on_status: Callable[[str], None] | None = None,
        outage_limit: float = OUTAGE_LIMIT,
    ) -> None:
        pool = connection.connection_pool  # a pool of its own: closing the caller's client is fine
        self.connection = redis.Redis(
            connection_pool=type(pool)(
                connection_class=pool.connection_class, **pool.connection_kwargs
            )
        )
        self.handler = handler
        self._jobs: dict[str, _Watched] = {}
        self._open: set[str] = set()  # the jobs not ended yet: nothing more of the others
        self._awaiting: set[str] = set()  # a last event came before RQ stored the final status
        self._lock = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.error: Exception | None = None
        self._next_await = 0.0  # when the jobs awaiting their final status are read next
        self._outage = RedisWatch(
            self.connection, on_status or logger.warning, who="job events", limit=outage_limit
        )

    # public surface

    def watch(self, jobs: Iterable[Job | str]) -> Listener:
        """Watch these jobs (objects or ids); start the thread if it is not running."""
        if self._stop.is_set():
            raise Stopped(
                "This listener was stopped: make a new one, Listener(connection, handler)."
            )
        with self._lock:
            for job_id in _ids(jobs):
                if job_id not in self._jobs:
                    self._jobs[job_id] = _Watched()
                    self._open.add(job_id)
            if self._thread is None and not self._all_ended():
                self._thread = threading.Thread(target=self._run, daemon=True, name="job-events")
                lifecycle.started("event listener", self)
                self._thread.start()
        return self

    @property
    def job_ids(self) -> list[str]:
        """The ids of the jobs watched, in the order they were first watched."""
        with self._lock:
            return list(self._jobs)

    @property
    def running(self) -> bool:
        """True while the thread runs."""
        return self._thread is not None

    def ended(self, job_id: str) -> bool:
        """True once the job's last event (completed, failed or removed) was delivered."""
        with self._lock:
            return job_id in self._jobs and job_id not in self._open

    def wait(self, timeout: float | None = 60) -> bool:
        """Block until every watched job has ended and its events were delivered."""
        with self._lock:
            return self._lock.wait_for(lambda: self._thread is None, timeout) and self._all_ended()

    def forget(self, jobs: Iterable[Job | str] | None = None) -> None:
        """Stop following ``jobs`` (default: all) without delivering anything more of them."""
        with self._lock:
            for job_id in list(self._jobs) if jobs is None else _ids(jobs):
                if job_id in self._jobs:
                    self._end(job_id)

    def stop(self) -> bool:
        """Stop the thread now; return True if it was still waiting for a job to end.

        A thread whose jobs have all ended is finishing by itself: it is joined, not counted,
        so what ``cleanup()`` reports does not depend on how fast that thread is.
        """
        self._stop.set()
        with self._lock:
            thread = self._thread
            waiting = thread is not None and not self._all_ended()
        if thread is not None:
            thread.join(STOP_TIMEOUT)
        lifecycle.finished(self)
        return waiting

    def __repr__(self) -> str:
        with self._lock:
            open_jobs = len(self._open)
        state = "stopped" if self._stop.is_set() else "running" if self.running else "idle"
        return f"<Listener {len(self._jobs)} job(s), {open_jobs} open, {state}>"

    # the thread

    def _run(self) -> None:
        try:
            while True:
                self._follow()
                with self._lock:  # jobs watched while the connections closed: follow them too
                    if self._stop.is_set() or self._all_ended():
                        return
        finally:
            with self._lock:
                self._thread = None
                self._lock.notify_all()
            if not self._stop.is_set():
                lifecycle.finished(self)

    def _all_ended(self) -> bool:
        return not self._open

    def _end(self, job_id: str) -> None:
        """Mark the job ended (under the lock): nothing more of it is delivered."""
        self._open.discard(job_id)
        self._awaiting.discard(job_id)

    def _set_awaiting(self, job_id: str, awaiting: bool) -> None:
        with self._lock:
            if awaiting and job_id in self._open:
                self._awaiting.add(job_id)
            else:
                self._awaiting.discard(job_id)

    def _follow(self) -> None:
        """Subscribe, then deliver and reconcile until every watched job has ended."""
        pubsub = self.connection.pubsub(ignore_subscribe_messages=True)
        try:
            pubsub.subscribe(CHANNEL)
            pubsub.get_message(timeout=1.0)  # the subscribe confirmation: listening from now on
            self._deliver_until_ended(pubsub)
        except REDIS_DOWN as exc:  # the server went away: wait for it, then follow again
            self._outage.check(exc)
            if not self._outage.wait_until_back(self._stop) and not self._stop.is_set():
                self.error = exc
                self._stop.set()
        except redis.RedisError as exc:  # refused, not gone (a lost password): say it, stop
            self.error = exc
            self._stop.set()
            logger.warning("job events: Redis refused them (%s); no longer listening", exc)
        finally:
            with contextlib.suppress(redis.RedisError, OSError):
                pubsub.close()
                self.connection.connection_pool.disconnect()

    def _deliver_until_ended(self, pubsub: redis.client.PubSub) -> None:
        self._reconcile(self._open_jobs())  # what was published before this subscription
        next_reconcile = time.monotonic() + RECONCILE_EVERY
        while not self._stop.is_set():
            now = time.monotonic()
            if now >= next_reconcile:  # jobs watched since, or ended unheard
                unread, read = self._open_jobs(read=False), self._open_jobs(read=True)
                self._reconcile(unread + self._ended_in_redis(read))
                next_reconcile = now + RECONCILE_EVERY
            with self._lock:
                if self._all_ended():
                    return
                awaiting = list(self._awaiting)
            if awaiting and now >= self._next_await:
                self._reconcile(awaiting)
                self._next_await = now + AWAIT_POLL
            message = pubsub.get_message(timeout=AWAIT_POLL if awaiting else 0.2)
            if message and message["type"] == "message":
                self._on_message(message["data"])

    def _ended_in_redis(self, job_ids: list[str]) -> list[str]:
        """Those of ``job_ids`` whose status in Redis is final, or whose hash is gone.

        A running job's events arrive on the channel; this poll (one ``HGET`` each) finds the
        jobs that end without one: deleted, stopped, or failed before their callback ran.
        """
        with self.connection.pipeline(transaction=False) as pipe:
            for job_id in job_ids:
                pipe.hget(Job.key_for(job_id), "status")
            statuses = pipe.execute()
        return [
            job_id
            for job_id, status in zip(job_ids, statuses, strict=True)
            if status is None or _text(status) in FINAL_STATUSES
        ]

    def _open_jobs(self, read: bool | None = None) -> list[str]:
        """The jobs not ended yet (only those whose log was read, or not, if ``read`` says)."""
        with self._lock:
            return [
                job_id
                for job_id, w in self._jobs.items()
                if job_id in self._open and (read is None or w.read == read)
            ]

    def _on_message(self, data: bytes | str) -> None:
        event = json.loads(data)
        with self._lock:
            watched = self._jobs.get(event["job_id"])
            ended = event["job_id"] not in self._open
        if watched is None or ended or event["seq"] <= watched.delivered:
            return
        if event["seq"] != watched.delivered + 1:  # some went by unseen: go by what Redis stored
            self._reconcile([event["job_id"]])
        elif event["kind"] not in TERMINAL:
            self._deliver(watched, event, live=True)
        elif event.get("status") in FINAL_STATUSES:  # recorded with RQ's final status
            self._deliver(watched, event, live=True)
        elif event["job_id"] not in self._awaiting:  # a last event: delivered once RQ has
            self._set_awaiting(event["job_id"], True)  # stored the job's final status
            now = time.monotonic()
            if self._next_await < now:  # no read due: the first one in AWAIT_POLL s
                self._next_await = now + AWAIT_POLL

    def _deliver(self, watched: _Watched, event: dict, live: bool) -> None:
        fields = {k: event.get(k) for k in ("progress", "error", "attempt")}
        job_event = JobEvent(
            job_id=event["job_id"],
            kind=event["kind"],
            seq=event.get("seq", 0),
            at=event.get("at", 0.0),
            live=live,
            **fields,
        )
        if event.get("seq"):
            watched.delivered = event["seq"]
        try:
            self.handler(job_event)
        except Exception:  # a broken handler must not stop the other jobs' events
            logger.exception(
                "the handler of job %s's %s event raised", job_event.job_id, job_event.kind
            )
        finally:
            if job_event.ended:
                with self._lock:
                    self._end(job_event.job_id)

    def _reconcile(self, job_ids: list[str]) -> None:
        """Deliver what each job's stored log and status hold beyond what was delivered.

        One round trip for all of them: each job's status and stored events (``HMGET``).
        """
        if not job_ids:
            return
        with self.connection.pipeline(transaction=False) as pipe:
            for job_id in job_ids:
                pipe.hmget(Job.key_for(job_id), ["status", *STORED_FIELDS])
            replies = pipe.execute()
        for job_id, (status, *values) in zip(job_ids, replies, strict=True):
            with self._lock:
                watched, ended = self._jobs[job_id], job_id not in self._open
            if ended:
                continue
            if status is None:  # no hash: the job was deleted
                self._deliver(watched, {"job_id": job_id, "kind": REMOVED}, False)
                continue
            self._reconcile_one(watched, job_id, _text(status), read_stored(values))

    def _reconcile_one(self, watched: _Watched, job_id: str, status: str, log: Stored) -> None:
        self._set_awaiting(job_id, False)
        watched.read = True
        for event in log.events[watched.delivered :]:
            if event["kind"] in TERMINAL and status not in FINAL_STATUSES:
                self._set_awaiting(job_id, True)  # RQ stores the status just after the callback
                return
            self._deliver(watched, event, live=False)
            if job_id not in self._open:
                return
        if status == JobStatus.FINISHED:
            self._deliver(watched, {"job_id": job_id, "kind": COMPLETED}, False)
        elif status in (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED):
            error = log.error or (
                self._why_failed(job_id) if status == JobStatus.FAILED else f"job {status}"
            )
            self._deliver(watched, {"job_id": job_id, "kind": FAILED, "error": error}, False)

    def _why_failed(self, job_id: str) -> str:
        try:
            return _why_failed(Job.fetch(job_id, connection=self.connection))
        except NoSuchJobError:
            return "unknown error"


def listen(connection: redis.Redis, jobs: Iterable[Job | str], handler: EventHandler) -> Listener:
    """Start a listener for ``jobs`` that calls ``handler(event)`` for each event; return it."""
    return Listener(connection, handler).watch(jobs)
