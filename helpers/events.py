"""Job events as Kue had them (progress, completed, failed), which RQ does not publish.

The job side records every event in the job's own meta (``meta["events"]``, numbered) and
then publishes it on one Redis channel, :data:`CHANNEL`; RQ's success and failure callbacks
do the same for completed and failed. The creator side runs a :class:`Listener`: a thread
that subscribes to the channel *before* it reads anything, hands each event to a handler in
order, and reconciles with what Redis stored (the numbered log, the job's status), so a job
that ended while nobody listened is still reported and no event is lost or repeated.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import redis
from rq import Callback
from rq.exceptions import AbandonedJobError
from rq.job import Job, JobStatus, get_current_job

from helpers import lifecycle
from helpers.errors import WorkbookError

CHANNEL = "workbook:job-events"
logger = logging.getLogger(__name__)
PROGRESS, COMPLETED, FAILED, FAILED_ATTEMPT = "progress", "completed", "failed", "failed attempt"
REMOVED = "removed"  # the job was deleted from Redis before it ended
TERMINAL = (COMPLETED, FAILED, REMOVED)
RECONCILE_EVERY = 1.0
AWAIT_POLL = 0.005
FINAL_STATUSES = (JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED)


class NotInAJob(WorkbookError):
    """``report_progress`` was called outside a job that a worker runs."""


@dataclass(frozen=True)
class JobEvent:
    """One event of one job, as the creator side receives it."""

    job_id: str
    kind: str
    progress: int | None = None
    error: str | None = None
    attempt: int | None = None
    seq: int = 0
    at: float = 0.0
    live: bool = True

    @property
    def ended(self) -> bool:
        """True for the events after which the job will not run again."""
        return self.kind in TERMINAL


EventHandler = Callable[[JobEvent], None]


# --- the job side: record, then publish ---------------------------------------------------


def _record(job: Job, kind: str, **fields: object) -> dict:
    """Append an event to the job's stored log, then publish it on :data:`CHANNEL`."""
    meta = job.get_meta(refresh=True)
    log = meta.setdefault("events", [])
    event = {"job_id": job.id, "kind": kind, "seq": len(log) + 1, "at": time.time(), **fields}
    log.append(event)
    if kind == PROGRESS:
        meta["progress"] = fields["progress"]
    if kind in (FAILED, FAILED_ATTEMPT):
        meta["error"] = fields["error"]
    job.save_meta()
    job.connection.publish(CHANNEL, json.dumps(event))
    return event


def report_progress(percent: int, job: Job | None = None) -> None:
    """Kue's ``job.progress(percent, 100)``: store the progress and publish the event."""
    job = job or get_current_job()
    if job is None:
        raise NotInAJob("report_progress() only works inside a job run by an RQ worker.")
    _record(job, PROGRESS, progress=max(0, min(100, int(percent))))


def error_message(value: BaseException | None) -> str:
    """The error text Kue's ``failed`` event gives: the exception's message, no class name."""
    if isinstance(value, AbandonedJobError) and not str(value):
        return "the worker running this job died (AbandonedJobError)"
    return str(value) if value is not None and str(value) else type(value).__name__


def on_success(job: Job, connection: redis.Redis, result: object, *args, **kwargs) -> None:
    """RQ success callback: the ``completed`` event."""
    _record(job, COMPLETED)


def on_failure(job: Job, connection: redis.Redis, exc_type, value, traceback) -> None:
    """RQ failure callback: ``failed attempt`` if RQ will retry the job, else ``failed``."""
    attempt = sum(e["kind"] == FAILED_ATTEMPT for e in job.get_meta().get("events", [])) + 1
    kind = FAILED_ATTEMPT if job.should_retry else FAILED
    _record(job, kind, error=error_message(value), attempt=attempt)


def callbacks() -> dict[str, Callback]:
    """The ``on_success`` / ``on_failure`` arguments that make ``enqueue`` publish events."""
    return {"on_success": Callback(on_success), "on_failure": Callback(on_failure)}


# --- the creator side: a listener that reconciles -----------------------------------------


def _last_line(text: str | None) -> str:
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    if not lines:
        return "unknown error"
    last = lines[-1]
    head, sep, rest = last.partition(": ")
    return rest if sep and head.replace(".", "").replace("_", "").isalnum() else last


def _exc_string(job: Job) -> str | None:
    result = job.latest_result()
    return result.exc_string if result is not None else None


class _Watched:
    """What the listener has delivered for one job."""

    __slots__ = ("awaiting", "delivered", "ended")

    def __init__(self) -> None:
        self.delivered = 0
        self.ended = False
        self.awaiting = False  # a last event arrived before RQ stored the job's final status


class Listener:
    """Deliver the events of the jobs it watches, in order, to ``handler``, in a thread.

    The thread starts when jobs are watched and ends by itself once every watched job has
    ended (completed or failed); watching more jobs starts it again.
    """

    def __init__(self, connection: redis.Redis, handler: EventHandler) -> None:
        pool = connection.connection_pool  # a pool of its own: closing the caller's client is fine
        self.connection = redis.Redis(
            connection_pool=type(pool)(
                connection_class=pool.connection_class, **pool.connection_kwargs
            )
        )
        self.handler = handler
        self._jobs: dict[str, _Watched] = {}
        self._lock = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.error: Exception | None = None
        _listeners.append(self)

    # public surface

    def watch(self, jobs: Iterable[Job | str]) -> Listener:
        """Watch these jobs (objects or ids); start the thread if it is not running."""
        with self._lock:
            for job in jobs:
                self._jobs.setdefault(job if isinstance(job, str) else job.id, _Watched())
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._run, daemon=True, name="job-events")
                self._thread.start()
        return self

    @property
    def running(self) -> bool:
        """True while the thread runs."""
        return self._thread is not None

    def ended(self, job_id: str) -> bool:
        """True once the job's last event (completed, failed or removed) was delivered."""
        with self._lock:
            return job_id in self._jobs and self._jobs[job_id].ended

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every watched job has ended and its events were delivered."""
        with self._lock:
            return self._lock.wait_for(lambda: self._thread is None, timeout) and self._all_ended()

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
            thread.join(5)
        return waiting

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

    def _all_ended(self) -> bool:
        return all(w.ended for w in self._jobs.values())

    def _follow(self) -> None:
        """Subscribe, then deliver and reconcile until every watched job has ended."""
        pubsub = self.connection.pubsub(ignore_subscribe_messages=True)
        try:
            pubsub.subscribe(CHANNEL)
            pubsub.get_message(timeout=1.0)  # the subscribe confirmation: listening from now on
            next_reconcile = 0.0
            while not self._stop.is_set():
                if time.monotonic() >= next_reconcile:
                    self._reconcile(self._open_jobs())
                    next_reconcile = time.monotonic() + RECONCILE_EVERY
                with self._lock:
                    if self._all_ended():
                        return
                    awaiting = [job_id for job_id, w in self._jobs.items() if w.awaiting]
                if awaiting:
                    self._reconcile(awaiting)
                message = pubsub.get_message(timeout=AWAIT_POLL if awaiting else 0.2)
                if message and message["type"] == "message":
                    self._on_message(message["data"])
        except (redis.RedisError, OSError) as exc:
            if not self._stop.is_set():  # the server went away: say so once, stop listening
                self.error = exc
                self._stop.set()
                logger.warning("job events: lost Redis (%s); no longer listening", exc)
        finally:
            with contextlib.suppress(redis.RedisError, OSError):
                pubsub.close()
                self.connection.connection_pool.disconnect()

    def _open_jobs(self) -> list[str]:
        with self._lock:
            return [job_id for job_id, w in self._jobs.items() if not w.ended]

    def _on_message(self, data: bytes | str) -> None:
        event = json.loads(data)
        with self._lock:
            watched = self._jobs.get(event["job_id"])
        if watched is None or watched.ended or event["seq"] <= watched.delivered:
            return
        if event["seq"] == watched.delivered + 1 and event["kind"] not in TERMINAL:
            self._deliver(watched, event, live=True)
        else:  # a last event, or some went by unseen: go by what Redis stored
            self._reconcile([event["job_id"]])

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
                    watched.ended = True

    def _reconcile(self, job_ids: list[str]) -> None:
        """Deliver what each job's stored log and status hold beyond what was delivered."""
        if not job_ids:
            return
        jobs = Job.fetch_many(job_ids, connection=self.connection)
        for job_id, job in zip(job_ids, jobs, strict=True):
            with self._lock:
                watched = self._jobs[job_id]
            if job is None:
                self._deliver(watched, {"job_id": job_id, "kind": REMOVED}, False)
                continue
            status = job.get_status(refresh=False)
            watched.awaiting = False
            for event in job.meta.get("events", [])[watched.delivered :]:
                if event["kind"] in TERMINAL and status not in FINAL_STATUSES:
                    watched.awaiting = True  # RQ stores the status just after the callback
                    break
                self._deliver(watched, event, live=False)
                if watched.ended:
                    break
            if watched.ended or watched.awaiting:
                continue
            if status == JobStatus.FINISHED:
                self._deliver(watched, {"job_id": job_id, "kind": COMPLETED}, False)
            elif status in (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED):
                error = job.meta.get("error") or (
                    _last_line(_exc_string(job)) if status == JobStatus.FAILED else f"job {status}"
                )
                self._deliver(watched, {"job_id": job_id, "kind": FAILED, "error": error}, False)


_listeners: list[Listener] = []


def listen(connection: redis.Redis, jobs: Iterable[Job | str], handler: EventHandler) -> Listener:
    """Start a listener for ``jobs`` that calls ``handler(event)`` for each event."""
    return Listener(connection, handler).watch(jobs)


def wait_for(jobs: Iterable[Job | str], timeout: float | None = 60) -> bool:
    """Wait until every listener watching one of ``jobs`` has delivered all their events."""
    ids = {job if isinstance(job, str) else job.id for job in jobs}
    deadline = None if timeout is None else time.monotonic() + timeout
    for listener in list(_listeners):
        if ids & set(listener._jobs):
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not listener.wait(left):
                return False
    return True


def forget(jobs: Iterable[Job | str]) -> None:
    """Stop following ``jobs`` without delivering anything more about them."""
    ids = {job if isinstance(job, str) else job.id for job in jobs}
    for listener in list(_listeners):
        with listener._lock:
            for job_id in ids & set(listener._jobs):
                listener._jobs[job_id].ended = True


def stop_all() -> int:
    """Stop every listener thread of this process; return how many were still waiting."""
    stopped = sum(listener.stop() for listener in list(_listeners))
    _listeners.clear()
    return stopped


lifecycle.register("event listener", stop_all)
