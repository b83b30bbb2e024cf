"""helpers.pubsub against the session's real server: task 5 as threads and as two processes."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

from helpers import pubsub as ps
from helpers.client import open_client
from helpers.core import lifecycle
from helpers.core.server import free_port

PUBLISHER_BLOCK = (
    "Redis client connected to the server\n"
    "About to send Holberton Student #1 starts course\n"
    "About to send Holberton Student #2 starts course\n"
    "About to send KILL_SERVER\n"
    "About to send Holberton Student #3 starts course\n"
)
SUBSCRIBER_BLOCK = (
    "Redis client connected to the server\n"
    "Holberton Student #1 starts course\n"
    "Holberton Student #2 starts course\n"
    "KILL_SERVER\n"
)


def helpers_task(*args: str) -> list[str]:
    """The command line of ``python -m helpers task ARGS``."""
    return [sys.executable, "-m", "helpers", "task", *args]


def subscriber_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("subscriber ")]


def test_publish_message_waits_then_prints_and_publishes(r, capsys):
    sub = ps.Subscriber(r, channel="test:delay").start()
    started = time.monotonic()
    timer = ps.publish_message(r, "hello", 150, channel="test:delay")
    assert capsys.readouterr().out == ""
    timer.join()
    assert time.monotonic() - started >= 0.15
    assert capsys.readouterr().out == "About to send hello\n"
    assert sub.wait_for(1, timeout=2)
    assert sub.messages == ["hello"]
    sub.stop()


def test_subscriber_ends_on_kill_server_and_never_receives_student_3(r, capsys):
    sub = ps.Subscriber(r, on_message=print).start()
    assert sub.state == "subscribed"
    assert ps.subscriber_count(r) == 1
    ps.publish_all(r)
    assert sub.join(timeout=3)
    assert sub.state == "ended"
    assert sub.messages == [
        "Holberton Student #1 starts course",
        "Holberton Student #2 starts course",
        "KILL_SERVER",
    ]
    out = capsys.readouterr().out.splitlines()
    assert [line for line in out if not line.startswith("About to send")] == sub.messages
    assert out[-1] == "About to send Holberton Student #3 starts course"
    assert ps.wait_for_unsubscribed(r, timeout=2)
    assert not subscriber_threads()


def test_stop_ends_the_thread_and_unsubscribes(r):
    sub = ps.Subscriber(r, channel="test:stop").start()
    assert sub.alive
    assert sub.stop() is True
    assert (sub.state, sub.alive) == ("stopped", False)
    assert ps.wait_for_unsubscribed(r, "test:stop", timeout=2)
    assert sub.stop() is False


def test_cleanup_stops_every_subscriber_still_listening(r):
    ps.Subscriber(r, channel="test:cleanup-1").start()
    ps.Subscriber(r, channel="test:cleanup-2").start()
    assert len(subscriber_threads()) == 2
    # what cleanup() runs, minus stopping Redis: this process started the session's server
    assert lifecycle.stop_everything(keep=("Redis",))["pub/sub subscriber"] == 2
    assert not subscriber_threads()
    assert lifecycle.stop_everything(keep=("Redis",)).get("pub/sub subscriber", 0) == 0


def test_a_subscriber_on_a_closed_port_fails_to_start():
    dead = open_client(f"redis://127.0.0.1:{free_port()}/0")
    try:
        ps.Subscriber(dead).start()
    except Exception as exc:  # noqa: BLE001
        assert type(exc).__name__ == "ConnectionError"
    else:
        raise AssertionError("a subscriber with no server started")
    assert not subscriber_threads()


def test_task_5_subscriber_and_publisher_as_two_processes(r):
    subscriber = subprocess.Popen(
        helpers_task("5", "subscriber"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert ps.wait_for_subscribers(r, ps.CHANNEL, 1, timeout=20), "it never subscribed"
        publisher = subprocess.run(
            helpers_task("5", "publisher"), capture_output=True, text=True, timeout=30
        )
        out, err = subscriber.communicate(timeout=20)
    finally:
        if subscriber.poll() is None:
            subscriber.kill()
            subscriber.wait()
    assert (publisher.returncode, publisher.stdout, publisher.stderr) == (0, PUBLISHER_BLOCK, "")
    assert (subscriber.returncode, out, err) == (0, SUBSCRIBER_BLOCK, "")
    assert ps.subscriber_count(r) == 0


def test_task_5_with_the_server_down_says_not_connected_and_fails():
    env = dict(os.environ, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    for role in ("subscriber", "publisher"):
        done = subprocess.run(
            helpers_task("5", role), capture_output=True, text=True, timeout=30, env=env
        )
        assert done.returncode == 1
        assert done.stdout.startswith("Redis client not connected to the server: ConnectionError")
        assert "Traceback" not in done.stderr


def test_task_5_needs_a_role():
    done = subprocess.run(helpers_task("5"), capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert done.stderr.strip() == "usage: python -m helpers task 5 subscriber|publisher"


def kill_subscribed_connections(r) -> int:
    """CLIENT KILL every connection in subscribed mode, as a server restart would cut them."""
    ids = [c["id"] for c in r.client_list() if c.get("sub", "0") != "0"]
    return sum(r.client_kill_filter(_id=i) for i in ids)


def test_a_cut_connection_ends_the_subscription_as_failed(r):
    sub = ps.Subscriber(r, channel="test:cut").start()
    assert kill_subscribed_connections(r) == 1
    assert sub.join(timeout=3)
    assert sub.state == "failed"
    assert sub.error == "ConnectionError: Connection closed by server."
