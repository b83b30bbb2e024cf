"""The self-checks of notebooks 01–04: right on the solutions, one clear reason on wrong answers."""

from __future__ import annotations

import asyncio

import pytest

from helpers import checks
from helpers.client import open_async_client
from helpers.pubsub import wait_for_unsubscribed

RIGHT = "✅ Right: "
WRONG = "❌ Not yet: "


def verdict_of(capsys) -> str:
    out = capsys.readouterr().out
    assert out.count("\n") == 1, f"a check prints one sentence, got {out!r}"
    return out.strip()


# --- 01: display_school_value --------------------------------------------------------------


def display_school_value(r, name):  # the solution cell of notebook 01
    print(r.get(name))


def test_display_check_passes_on_the_solution(r, capsys):
    assert checks.check_display_school_value(display_school_value, r).ok is True
    assert verdict_of(capsys).startswith(RIGHT)
    assert r.keys("check:*") == []


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (lambda r, name: r.get(name), "it printed nothing: print the value r.get(name) returns."),
        (lambda r, name: print(r.get("Holberton")), "for the key 'check:HolbertonLyon'"),
        (lambda r, name: print(name), "it printed 'check:HolbertonLyon'"),
        (lambda r, name: print(r.hgetall(name)), "raised WrongTypeError"),
        ("not a function", "display_school_value is not a function"),
    ],
)
def test_display_check_explains_a_wrong_answer(r, capsys, answer, reason):
    r.set("Holberton", "School")
    if reason == "raised WrongTypeError":
        from helpers.client import display_hash

        def answer(r, name):
            display_hash(r, name)

    assert checks.check_display_school_value(answer, r).ok is False
    line = verdict_of(capsys)
    assert line.startswith(WRONG) and reason in line, line


# --- 02: display_school_value_async --------------------------------------------------------


async def display_school_value_async(client, name):  # the solution cell of notebook 02
    print(await client.get(name))


def run_async_check(answer) -> bool:
    async def main() -> bool:
        client = open_async_client()
        try:
            return await checks.check_display_school_value_async(answer, client)
        finally:
            await client.aclose()

    return asyncio.run(main())


def test_async_check_passes_on_the_solution(capsys):
    assert run_async_check(display_school_value_async).ok is True
    assert verdict_of(capsys).startswith(RIGHT)


async def forgot_await(client, name):
    print(client.get(name))


async def scaffold_async(client, name): ...


async def prints_twice(client, name):
    print(await client.get(name))
    print(await client.get(name))


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (display_school_value, "is not a coroutine function: define it with async def"),
        (forgot_await, "it printed a coroutine object: await client.get(name) first."),
        (scaffold_async, "it printed nothing: print the value that client.get(name) gives."),
        (prints_twice, "which holds '27', it printed '27\\n27'"),
    ],
)
@pytest.mark.filterwarnings("ignore:coroutine .* was never awaited:RuntimeWarning")
def test_async_check_explains_a_wrong_answer(capsys, answer, reason):
    assert run_async_check(answer).ok is False
    line = verdict_of(capsys)
    assert line.startswith(WRONG) and reason in line, line


# --- 03: read_hash -------------------------------------------------------------------------


def read_hash(r, key):  # the solution cell of notebook 03
    return {field: int(value) for field, value in r.hgetall(key).items()}


def test_hash_check_passes_on_the_solution(r, capsys):
    assert checks.check_read_hash(read_hash, r).ok is True
    assert verdict_of(capsys).startswith(RIGHT)
    assert r.keys("check:*") == []


def raises_on_missing(r, key):
    values = r.hgetall(key)
    if not values:
        raise KeyError(key)
    return {f: int(v) for f, v in values.items()}


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (lambda r, key: r.hgetall(key), "its values are strings ('7')"),
        (lambda r, key: print(r.hgetall(key)), "it returned None: return the dict"),
        (lambda r, key: list(r.hgetall(key).items()), "it returned a list: return a dict."),
        (lambda r, key: {"Lyon": 7}, "it returned the fields ['Lyon']"),
        (lambda r, key: {f: int(v) + 1 for f, v in r.hgetall(key).items()}, "for a hash holding"),
        (
            lambda r, key: {f: int(v) for f, v in r.hgetall(key).items()} or None,
            "for a key that does not exist it returned None",
        ),
        (raises_on_missing, "raised KeyError"),
        (lambda r, key: {f: int(v) for f, v in r.get(key).items()}, "raised ResponseError"),
    ],
)
def test_hash_check_explains_a_wrong_answer(r, capsys, answer, reason):
    assert checks.check_read_hash(answer, r).ok is False
    line = verdict_of(capsys)
    assert line.startswith(WRONG) and reason in line, line
    assert r.keys("check:*") == []


# --- 04: listen_until ----------------------------------------------------------------------


def listen_until(r, channel, stop_word):  # the solution cell of notebook 04
    pubsub = r.pubsub()
    pubsub.subscribe(channel)
    received = []
    for message in pubsub.listen():
        if message["type"] != "message":
            continue
        received.append(message["data"])
        if message["data"] == stop_word:
            break
    pubsub.unsubscribe(channel)
    pubsub.close()
    return received


def test_listen_check_passes_on_the_solution(r, capsys):
    assert checks.check_listen_until(listen_until, r).ok is True
    assert verdict_of(capsys).startswith(RIGHT)
    assert wait_for_unsubscribed(r, "check:channel", timeout=1)


def without_the_stop_word(r, channel, stop_word):
    received = listen_until(r, channel, stop_word)
    return received[:-1]


def with_the_confirmation(r, channel, stop_word):
    pubsub = r.pubsub()
    pubsub.subscribe(channel)
    received = []
    for message in pubsub.listen():
        received.append(message["data"])
        if message["data"] == stop_word:
            break
    pubsub.close()
    return received


def returns_at_once(r, channel, stop_word):
    return []


def never_subscribes(r, channel, stop_word):
    raise ValueError("no idea")


LEFT_OPEN = []


def stays_subscribed(r, channel, stop_word):
    pubsub = r.pubsub()
    LEFT_OPEN.append(pubsub)
    pubsub.subscribe(channel)
    received = []
    for message in pubsub.listen():
        if message["type"] == "message":
            received.append(message["data"])
            if message["data"] == stop_word:
                return received
    return received


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (without_the_stop_word, "the original prints the stop word too"),
        (with_the_confirmation, "skip the subscribe confirmation"),
        (returns_at_once, "it returned [] before any message was sent"),
        (lambda r, channel, stop_word: None, "it returned None before any message was sent"),
        (never_subscribes, "listen_until raised ValueError: no idea."),
        (stays_subscribed, "it returned but is still subscribed to the channel"),
        (None, "listen_until is not a function"),
    ],
)
def test_listen_check_explains_a_wrong_answer(r, capsys, answer, reason):
    try:
        assert checks.check_listen_until(answer, r).ok is False
        line = verdict_of(capsys)
        assert line.startswith(WRONG) and reason in line, line
    finally:
        while LEFT_OPEN:
            LEFT_OPEN.pop().close()
    assert wait_for_unsubscribed(r, "check:channel", timeout=2)


def test_listen_check_says_when_nothing_subscribes_in_time(r, capsys):
    import threading

    release = threading.Event()

    def sleeps(r, channel, stop_word):
        release.wait(5)
        return []

    try:
        assert checks.check_listen_until(sleeps, r, wait=0.5).ok is False
    finally:
        release.set()
    line = verdict_of(capsys)
    assert "it did not subscribe to the channel within" in line, line
