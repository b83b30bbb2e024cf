"""Riding out a Redis that goes away: one line when it goes, one when it is back, a limit.

A :class:`RedisWatch` follows one server for whoever depends on it (the workers of
:mod:`helpers.core.worker_main`, the creator's :class:`~helpers.core.listener.Listener`).
It pings with a client of its own that never retries (so it learns at once), says
``Redis went away (connection refused): the workers wait for it, up to 120 s.`` when the
server stops answering, ``Redis is back: the workers go on.`` when it answers again, and
``Redis stayed away for 120 s: the workers stop.`` past the limit, each once per outage.

Where it polls, and why: while someone waits (:meth:`RedisWatch.wait_until_back`), every
:data:`FIRST_RETRY` s doubling up to :data:`MAX_RETRY` s; a worker idle in RQ's own
reconnect loop has nobody waiting, so :meth:`RedisWatch.start` pings from a thread too,
every :data:`PING_EVERY` s while Redis answers.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

OUTAGE_LIMIT = 120.0
PING_EVERY = 0.5
FIRST_RETRY = 0.25
MAX_RETRY = 2.0
PING_TIMEOUT = 1.0
REDIS_DOWN = (redis.ConnectionError, redis.TimeoutError, OSError)

AWAY, BACK, GONE = "Redis went away", "Redis is back", "Redis stayed away"


def status_kind(line: str) -> str | None:
    """``AWAY``, ``BACK`` or ``GONE`` if ``line`` is one of a watch's lines, else None."""
    return next((kind for kind in (AWAY, BACK, GONE) if line.startswith(kind)), None)


REASONS = {
    "refused": "connection refused",
    "reset": "connection reset",
    "closed": "connection closed",
    "timeout": "no answer in time",
    "timed out": "no answer in time",
    "loading": "loading its data",
    "restarted": "restarted",
}


def reason(error: BaseException) -> str:
    """A few words on why Redis did not answer: ``connection refused``, ``loading its data``."""
    text = str(error).lower()
    return next((words for key, words in REASONS.items() if key in text), type(error).__name__)


def _pinger(connection: redis.Redis) -> redis.Redis:
    """A client for the same server that answers within :data:`PING_TIMEOUT` and never retries."""
    kwargs = dict(connection.connection_pool.connection_kwargs)
    for key in ("retry", "retry_on_error", "socket_timeout", "socket_connect_timeout"):
        kwargs.pop(key, None)
    pool = type(connection.connection_pool)(
        connection_class=connection.connection_pool.connection_class,
        retry=Retry(NoBackoff(), 0),
        socket_timeout=PING_TIMEOUT,
        socket_connect_timeout=PING_TIMEOUT,
        **kwargs,
    )
    return redis.Redis(connection_pool=pool)


class RedisWatch:
    """Whether one Redis answers; the lines that say so, once per outage; a limit on waiting."""

    def __init__(
        self,
        connection: redis.Redis,
        say: Callable[[str], None],
        *,
        who: str = "the workers",
        limit: float = OUTAGE_LIMIT,
        then: str = "",
        on_back: Callable[[], None] | None = None,
    ) -> None:
        self.say = say
        self.on_back = on_back  # run in a thread of its own each time Redis is back
        self.who = who
        self.limit = limit
        self.then = then  # what to do once it stopped, added to the last line
        self.outages = 0
        self.away_since: float | None = None
        self.gave_up = False
        self._client = _pinger(connection)
        self._run_id: str | None = None  # the server's, when it last answered
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()  # a forked work horse inherits the watch but must not speak

    @property
    def up(self) -> bool:
        """True unless an outage is under way."""
        return self.away_since is None

    def check(self, error: BaseException | None = None) -> bool:
        """Ask Redis now; note an outage if it does not answer, or ``error`` says it went away.

        A server that restarted between two asks (a new ``run_id``) went away too.
        """
        try:
            self._client.ping()  # refused while Redis loads its data
            run_id = self._client.info("server").get("run_id")
        except (*REDIS_DOWN, redis.RedisError) as exc:
            self._went_away(exc)
            return False
        restarted = self._run_id is not None and run_id != self._run_id
        self._run_id = run_id
        if self.up and (error is not None or restarted):
            self._went_away(error or RuntimeError("restarted"))  # it went and came back
        self._came_back()
        return True

    def wait_until_back(self, stop: threading.Event | None = None) -> bool:
        """Ping with backoff until Redis answers (True), or the limit or ``stop`` comes (False)."""
        pause = FIRST_RETRY
        while not (stop is not None and stop.is_set()):
            if self.check():
                return True
            if self._past_limit():
                return False
            (stop or self._stop).wait(pause)
            pause = min(pause * 2, MAX_RETRY)
        return False

    def start(self, on_give_up: Callable[[], None] | None = None) -> RedisWatch:
        """Ping from a daemon thread as well; call ``on_give_up()`` once past the limit."""
        self._thread = threading.Thread(
            target=self._run, args=(on_give_up,), daemon=True, name="redis-watch"
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the thread, if there is one, and close the watch's client."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(PING_TIMEOUT + MAX_RETRY)
        self._client.close()

    # inside

    def _run(self, on_give_up: Callable[[], None] | None) -> None:
        pause = PING_EVERY
        while True:  # the first ask at once: a restart is told by run_id once one is known
            if self.check():
                pause = PING_EVERY
            else:
                pause = FIRST_RETRY if pause == PING_EVERY else min(pause * 2, MAX_RETRY)
                if self._past_limit():
                    if on_give_up is not None:
                        on_give_up()
                    return
            if self._stop.wait(pause):
                return

    def _speak(self, line: str) -> None:
        if os.getpid() == self._pid:
            self.say(line)

    def _went_away(self, error: BaseException) -> None:
        with self._lock:
            if self.away_since is not None:
                return
            self.away_since = time.monotonic()
            self.outages += 1
            self.gave_up = False
        self._speak(f"{AWAY} ({reason(error)}): {self.who} wait for it, up to {self.limit:g} s.")

    def _came_back(self) -> None:
        with self._lock:
            if self.away_since is None:
                return
            self.away_since = None
        self._speak(f"{BACK}: {self.who} go on.")
        if self.on_back is not None and os.getpid() == self._pid:
            threading.Thread(target=self.on_back, daemon=True, name="redis-back").start()

    def _past_limit(self) -> bool:
        """True once the outage has lasted ``limit`` s (said once)."""
        with self._lock:
            since = self.away_since
            if since is None or time.monotonic() - since < self.limit:
                return False
            first = not self.gave_up
            self.gave_up = True
        if first:
            self._speak(f"{GONE} for {self.limit:g} s: {self.who} stop.{self.then}")
        return True
