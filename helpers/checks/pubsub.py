"""The self-check of notebook 04: a subscriber that stops at the stop word."""

from __future__ import annotations

import threading
from collections.abc import Callable

import redis

from helpers.checks.verdict import CHECK_PREFIX, Verdict, raised, verdict
from helpers.core.waiting import wait_until
from helpers.pubsub import subscriber_count, wait_for_unsubscribed

__all__ = ["check_listen_until"]


def _never_subscribed(outcome: dict[str, object], wait: float) -> str:
    """Why a ``listen_until`` that never subscribed is wrong."""
    if outcome.get("exc") is not None:
        return raised("listen_until", outcome["exc"]) + "."
    if "result" in outcome:
        return (
            f"it returned {outcome['result']!r} before any message was sent: "
            "keep listening until the stop word arrives."
        )
    return (
        f"it did not subscribe to the channel within {wait:.0f} s: call "
        "pubsub.subscribe(channel) on r.pubsub()."
    )


def _wrong_messages(result: object, expected: list[str], r: redis.Redis, channel: str) -> str:
    """What is wrong with the messages ``listen_until`` returned, or an empty string."""
    if result == expected[:2]:
        return (
            f"it returned {result!r}: the original prints the stop word too, so keep it "
            "before you stop."
        )
    if result != expected:
        return (
            f"it returned {result!r}, not {expected!r}: keep the data of the messages whose "
            "type is 'message' (skip the subscribe confirmation)."
        )
    if not wait_for_unsubscribed(r, channel, timeout=1.0):
        return (
            "it returned but is still subscribed to the channel: call pubsub.unsubscribe() "
            "(or pubsub.close()) before returning."
        )
    return ""


def check_listen_until(listen_until: Callable, r: redis.Redis, wait: float = 3.0) -> Verdict:
    """Exercise 04: ``listen_until(r, channel, stop_word)`` returns the messages up to the word."""
    if not callable(listen_until):
        return verdict(False, "listen_until is not a function: define it with def.")
    channel, stop_word = f"{CHECK_PREFIX}channel", "STOP"
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
    wait_until(lambda: not thread.is_alive() or subscriber_count(r, channel), wait)
    if not subscriber_count(r, channel):
        thread.join(0.5)
        return verdict(False, _never_subscribed(outcome, wait))
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
        return verdict(False, raised("listen_until", outcome["exc"]) + ".")
    wrong = _wrong_messages(outcome.get("result"), expected, r, channel)
    if wrong:
        return verdict(False, wrong)
    return verdict(True, "listen_until returns the messages up to the stop word and unsubscribes.")
