"""The self-checks of notebooks 01–04: right on the solutions, one clear reason on wrong answers."""

from __future__ import annotations

import asyncio

import pytest
import redis

from helpers.checks import client as client_checks
from helpers.checks import pubsub as pubsub_checks
from helpers.client import open_async_client
from helpers.pubsub import wait_for_unsubscribed

RIGHT = "✅ Right: "
WRONG = "❌ Not yet: "


def verdict_of(capsys) -> str:
    out = capsys.readouterr().out
    assert out.count("\n") == 1, f"a check prints one sentence, got {out!r}"
    return out.strip()


# --- 01: display_school_values -------------------------------------------------------------


def display_school_values(r, names):  # the solution cell of notebook 01
    for name, value in zip(names, r.mget(names), strict=True):
        print(f"{name}: {value if value is not None else '(no value)'}")


def test_values_check_passes_on_the_solution(r, capsys):
    assert client_checks.check_display_school_values(display_school_values, r).ok is True
    assert verdict_of(capsys).startswith(RIGHT)
    assert r.keys("check:*") == []


def with_pipeline(r, names):
    pipe = r.pipeline()
    for name in names:
        pipe.get(name)
    for name, value in zip(names, pipe.execute(), strict=True):
        print(f"{name}: {value if value is not None else '(no value)'}")


def test_values_check_accepts_a_pipeline(r, capsys):
    assert client_checks.check_display_school_values(with_pipeline, r).ok is True
    assert verdict_of(capsys).startswith(RIGHT)


def one_get_each(r, names):
    for name in names:
        value = r.get(name)
        print(f"{name}: {value if value is not None else '(no value)'}")


def prints_none(r, names):
    for name, value in zip(names, r.mget(names), strict=True):
        print(f"{name}: {value}")


def values_only(r, names):
    for value in r.mget(names):
        print(value)


def skips_missing(r, names):
    for name, value in zip(names, r.mget(names), strict=True):
        if value is not None:
            print(f"{name}: {value}")


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (one_get_each, "it sent 3 commands (GET, GET, GET): read every key with one MGET"),
        (prints_none, "which does not exist, it printed 'check:HolbertonAtlantis: None'"),
        (values_only, "which holds '35', it printed '35', not 'check:HolbertonLyon: 35'"),
        (skips_missing, "it printed 2 lines for 3 names: print one line per name."),
        (lambda r, names: r.mget(names), "it printed nothing: print one line"),
        (lambda r, names: print(r.get(names)), "raised DataError"),
        ("not a function", "display_school_values is not a function"),
    ],
)
def test_values_check_explains_a_wrong_answer(r, capsys, answer, reason):
    assert client_checks.check_display_school_values(answer, r).ok is False
    line = verdict_of(capsys)
    assert line.startswith(WRONG) and reason in line, line
    assert r.keys("check:*") == []


def test_values_check_refuses_an_answer_that_reads_a_global_client(r, capsys):
    def on_the_global_client(_, names):  # ignores the client it is handed, reads r
        for name, value in zip(names, r.mget(names), strict=True):
            print(f"{name}: {value if value is not None else '(no value)'}")

    r.mset({"check:HolbertonLyon": "35", "check:HolbertonTulsa": "12"})  # even if r has them
    try:
        assert client_checks.check_display_school_values(on_the_global_client, r).ok is False
    finally:
        r.delete("check:HolbertonLyon", "check:HolbertonTulsa")
    line = verdict_of(capsys)
    assert line == WRONG + (
        "it sent no command to the client it was given: use the client it is handed (its first "
        "argument), not a client of your own: the check's keys are only there."
    )


def test_values_check_refuses_per_key_gets_on_a_global_client(r, capsys):
    def gets_on_the_global_client(client, names):
        client.ping()  # touches the client it is handed, then reads another
        for name in names:
            print(f"{name}: {r.get(name) or '(no value)'}")

    assert client_checks.check_display_school_values(gets_on_the_global_client, r).ok is False
    assert "which holds '35', it printed 'check:HolbertonLyon: (no value)'" in verdict_of(capsys)


# --- 02: fetch_schools ---------------------------------------------------------------------


async def fetch_schools(client, names):  # the solution cell of notebook 02
    values = await asyncio.gather(*(client.get(name) for name in names))
    return dict(zip(names, values, strict=True))


def run_async_check(answer) -> bool:
    async def main() -> bool:
        client = open_async_client()
        try:
            return await client_checks.check_fetch_schools(answer, client)
        finally:
            await client.aclose()

    return asyncio.run(main())


def test_fetch_check_passes_on_the_solution(r, capsys):
    assert run_async_check(fetch_schools).ok is True
    assert verdict_of(capsys) == (
        RIGHT + "fetch_schools ran its 5 GETs at once: each waits 0.2 s, and all took about "
        "0.2 s, not 1.0 s."
    )
    assert r.keys("check:*") == []


async def one_after_another(client, names):
    return {name: await client.get(name) for name in names}


async def forgot_await(client, names):
    return asyncio.gather(*(client.get(name) for name in names))


async def returns_a_list(client, names):
    return await asyncio.gather(*(client.get(name) for name in names))


async def with_mget(client, names):
    return dict(zip(names, await client.mget(names), strict=True))


async def scaffold_async(client, names): ...


async def drops_missing(client, names):
    values = await asyncio.gather(*(client.get(name) for name in names))
    return {name: value for name, value in zip(names, values, strict=True) if value is not None}


def not_async(client, names):
    return {}


def test_fetch_check_refuses_an_async_def_that_calls_a_synchronous_global_client(r, capsys):
    async def on_a_sync_global_client(client, names):
        return {name: r.get(name) for name in names}

    r.mset({name: "1" for name in ("check:HolbertonNantes", "check:HolbertonTunis")})
    try:
        assert run_async_check(on_a_sync_global_client).ok is False
    finally:
        r.delete("check:HolbertonNantes", "check:HolbertonTunis")
    assert verdict_of(capsys).startswith(WRONG + "it sent no command to the client it was given")


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (one_after_another, "awaited them one after another; start them together"),
        (forgot_await, "it returned a _GatheringFuture, not the values: await asyncio.gather"),
        (returns_a_list, "it returned a list: return a dict, dict(zip(names, values))."),
        (with_mget, "it sent one MGET: right for one server, but this exercise practises"),
        (scaffold_async, "it returned None: return a dict"),
        (drops_missing, "it left out 'check:HolbertonAtlantis', which does not exist: keep it"),
        (not_async, "fetch_schools is not a coroutine function: define it with async def"),
    ],
)
def test_fetch_check_explains_a_wrong_answer(r, capsys, answer, reason):
    assert run_async_check(answer).ok is False
    line = verdict_of(capsys)
    assert line.startswith(WRONG) and reason in line, line
    assert r.keys("check:*") == []


# --- 03: read_hash -------------------------------------------------------------------------


def read_hash(r, key):  # the solution cell of notebook 03
    return {field: int(value) for field, value in r.hgetall(key).items()}


def test_hash_check_passes_on_the_solution(r, capsys):
    assert client_checks.check_read_hash(read_hash, r).ok is True
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
    assert client_checks.check_read_hash(answer, r).ok is False
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
    assert pubsub_checks.check_listen_until(listen_until, r).ok is True
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
        assert pubsub_checks.check_listen_until(answer, r).ok is False
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
        assert pubsub_checks.check_listen_until(sleeps, r, wait=0.5).ok is False
    finally:
        release.set()
    line = verdict_of(capsys)
    assert "it did not subscribe to the channel within" in line, line


# --- 01: connect_client (task 1) -----------------------------------------------------------


def connect_client(url):  # the solution cell of notebook 01
    client = redis.Redis.from_url(url, decode_responses=True)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        print(f"Redis client not connected to the server: {exc}")
    else:
        print("Redis client connected to the server")
    return client


def test_connect_check_passes_on_the_solution(r, capsys):
    assert client_checks.check_connect_client(connect_client, r).ok is True
    assert verdict_of(capsys) == RIGHT + (
        "connect_client says whether it reached the server, and returns its client."
    )


def connect_scaffold(url): ...


def never_pings(url):
    print("Redis client connected to the server")
    return redis.Redis.from_url(url)


def lets_the_error_out(url):
    client = redis.Redis.from_url(url)
    client.ping()
    print("Redis client connected to the server")
    return client


def without_the_error(url):
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.ConnectionError:
        print("Redis client not connected to the server")
    else:
        print("Redis client connected to the server")
    return client


def ignores_the_url(url):
    return connect_client("redis://127.0.0.1:6379/0" if "/0" in url else url.rsplit("/", 1)[0])


def returns_nothing(url):
    connect_client(url)


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (connect_scaffold, "it printed 0 lines: print exactly one."),
        (never_pings, "redis-py connects on the first command, so send one (client.ping())"),
        (lets_the_error_out, "it raised ConnectionError: Error 111 connecting"),
        (without_the_error, "print 'Redis client not connected to the server: ' followed by"),
        (ignores_the_url, "its client does not talk to the URL it was given (database 13)"),
        (returns_nothing, "it returned None: return the client."),
        ("nope", "connect_client is not a function"),
    ],
)
def test_connect_check_explains_a_wrong_answer(r, capsys, answer, reason):
    assert client_checks.check_connect_client(answer, r).ok is False
    line = verdict_of(capsys)
    assert line.startswith(WRONG) and reason in line, line


def test_hash_check_refuses_an_answer_that_reads_a_global_client(r, capsys):
    def on_the_global_client(_, key):
        return {field: int(value) for field, value in r.hgetall(key).items()}

    assert client_checks.check_read_hash(on_the_global_client, r).ok is False
    assert "it returned {} for a hash that holds Lyon and Tunis: use the client it is handed" in (
        verdict_of(capsys)
    )
