"""Task 5: publish to ``holberton school channel``; a subscriber that ends on ``KILL_SERVER``.

``publish_message`` is the twin of the original's ``publishMessage``: like ``setTimeout``, it
returns at once and sends the message ``time_ms`` later from a timer thread. A
:class:`Subscriber` listens in a background thread (its own connection, as a subscribed
Redis connection can do nothing else) until the kill word arrives, ``stop()`` is called, or
the connection fails; every running subscriber is stopped by ``helpers.cleanup()``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

import redis

from helpers.client import error_text
from helpers.core import lifecycle
from helpers.core.errors import AlreadyStarted, NoConfirmation
from helpers.core.output import say
from helpers.core.waiting import wait_until

__all__ = [
    "CHANNEL",
    "KILL_WORD",
    "MESSAGES",
    "Subscriber",
    "publish_all",
    "publish_message",
    "publish_now",
    "subscribe",
    "subscriber_count",
    "wait_for_subscribers",
    "wait_for_unsubscribed",
]

CHANNEL = "holberton school channel"
KILL_WORD = "KILL_SERVER"
MESSAGES: tuple[tuple[str, int], ...] = (
    ("Holberton Student #1 starts course", 100),
    ("Holberton Student #2 starts course", 200),
    (KILL_WORD, 300),
    ("Holberton Student #3 starts course", 400),
)
POLL_SECONDS = 0.1
STOP_TIMEOUT = 5.0

MessageHandler = Callable[[str], None]
EndHandler = Callable[[str], None]


def publish_now(client: redis.Redis, message: str, channel: str = CHANNEL) -> int:
    """Print ``About to send <message>``, publish it, and return how many subscribers got it."""
    print(f"About to send {message}", flush=True)
    return client.publish(channel, message)


def publish_message(
    client: redis.Redis, message: str, time_ms: int, channel: str = CHANNEL
) -> threading.Timer:
    """After ``time_ms`` ms, print ``About to send <message>`` and publish; return the timer."""
    timer = threading.Timer(time_ms / 1000, publish_now, args=(client, message, channel))
    timer.daemon = True
    timer.start()
    return timer


def publish_all(
    client: redis.Redis, messages: Iterable[tuple[str, int]] = MESSAGES, channel: str = CHANNEL
) -> None:
    """Schedule each ``(message, time_ms)`` as ``5-publisher.js`` does; return once all are sent."""
    timers = [publish_message(client, message, ms, channel) for message, ms in messages]
    for timer in timers:
        timer.join()


def subscriber_count(client: redis.Redis, channel: str = CHANNEL) -> int:
    """How many connections are subscribed to ``channel`` right now (``PUBSUB NUMSUB``)."""
    return int(dict(client.pubsub_numsub(channel)).get(channel, 0))


def wait_for_subscribers(
    client: redis.Redis, channel: str = CHANNEL, count: int = 1, timeout: float = 10.0
) -> bool:
    """Wait until at least ``count`` connections listen on ``channel``; False on timeout."""
    return wait_until(lambda: subscriber_count(client, channel) >= count, timeout)


def wait_for_unsubscribed(
    client: redis.Redis, channel: str = CHANNEL, timeout: float = 10.0
) -> bool:
    """Wait until nobody listens on ``channel``; False on timeout."""
    return wait_until(lambda: subscriber_count(client, channel) == 0, timeout)


class Subscriber:
    """Listen on ``channel`` in a background thread until ``kill_word``, ``stop()`` or an error.

    ``state`` is ``"new"``, then ``"subscribed"``, and at the end ``"ended"`` (the kill word
    arrived), ``"stopped"`` (``stop()``) or ``"failed"`` (the connection broke; see ``error``).
    """

    def __init__(
        self,
        client: redis.Redis,
        channel: str = CHANNEL,
        kill_word: str | None = KILL_WORD,
        on_message: MessageHandler | None = None,
        on_end: EndHandler | None = None,
    ) -> None:
        self.client = client
        self.channel = channel
        self.kill_word = kill_word
        self.on_message = on_message
        self.on_end = on_end
        self.messages: list[str] = []
        self.state = "new"
        self.error: str | None = None
        self._stop = threading.Event()
        self._pubsub: redis.client.PubSub | None = None
        self._thread: threading.Thread | None = None

    def start(self, timeout: float = 5.0) -> Subscriber:
        """Subscribe (returns once the server confirmed it) and start listening in a thread."""
        if self._thread is not None:
            raise AlreadyStarted("This subscriber was started already: make a new Subscriber.")
        pubsub = self.client.pubsub()
        pubsub.subscribe(self.channel)

        def confirmed() -> bool:
            reply = pubsub.get_message(timeout=POLL_SECONDS)
            return bool(reply) and reply["type"] == "subscribe"

        if not wait_until(confirmed, timeout, every=0):
            pubsub.close()
            raise NoConfirmation(
                f"Redis did not confirm SUBSCRIBE {self.channel!r} within {timeout} s: "
                "is the server overloaded? Try again."
            )
        self._pubsub = pubsub
        self.state = "subscribed"
        self._thread = threading.Thread(
            target=self._listen, name=f"subscriber {self.channel}", daemon=True
        )
        lifecycle.started("pub/sub subscriber", self)
        self._thread.start()
        return self

    def _listen(self) -> None:
        assert self._pubsub is not None
        end = "stopped"
        try:
            while not self._stop.is_set():
                reply = self._pubsub.get_message(timeout=POLL_SECONDS)
                if reply is None or reply["type"] != "message":
                    continue
                data = reply["data"]
                message = data.decode() if isinstance(data, bytes) else str(data)
                self.messages.append(message)
                if self.on_message is not None:
                    self.on_message(message)
                if message == self.kill_word:
                    end = "ended"
                    break
        except (redis.RedisError, OSError) as exc:
            end, self.error = "failed", error_text(exc)
        finally:
            try:
                self._pubsub.unsubscribe(self.channel)
            except (redis.RedisError, OSError):
                pass
            self._pubsub.close()
            self.state = end
            lifecycle.finished(self)
            if self.on_end is not None:
                self.on_end(end)

    @property
    def alive(self) -> bool:
        """True while the listening thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the subscription to end; True if it has."""
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.alive

    def wait_for(self, count: int, timeout: float = 5.0) -> bool:
        """Wait until ``count`` messages arrived (or the subscription ended); True if they did."""
        wait_until(lambda: len(self.messages) >= count or not self.alive, timeout)
        return len(self.messages) >= count

    def stop(self, timeout: float = STOP_TIMEOUT) -> bool:
        """Unsubscribe and end the thread; True if it was running."""
        was_alive = self.alive
        self._stop.set()
        self.join(timeout)
        return was_alive


def subscribe(
    client: redis.Redis,
    channel: str = CHANNEL,
    kill_word: str = KILL_WORD,
    on_message: MessageHandler | None = None,
) -> Subscriber:
    """``5-subscriber.js``: print each message until ``kill_word`` (printed too), then return."""
    subscriber = Subscriber(client, channel, kill_word, on_message=on_message or say)
    subscriber.start()
    try:
        while not subscriber.join(0.5):
            pass
    finally:
        subscriber.stop()
    return subscriber
