"""A crash of the server loses no acknowledged write (AOF): the workbook's own, and notebook 11's
scratch server (never the learner's)."""

from __future__ import annotations

import time

import pytest
import redis
from rq import Queue
from servertools import crash_and_restart

from helpers.core import server
from helpers.notifications import send_notification


def test_300_jobs_survive_a_crash_of_the_server(own_server):
    queue = Queue("durable", connection=redis.Redis.from_url(own_server.url))
    for i in range(300):
        queue.enqueue(send_notification, f"41535{i:05d}", "hello")
    time.sleep(1.2)  # appendfsync everysec: within a second, what was acknowledged is on disk
    after = crash_and_restart()
    queue = Queue("durable", connection=redis.Redis.from_url(after.url))
    assert queue.count == 300


def test_a_folder_with_only_a_snapshot_keeps_its_data_and_gains_the_aof(own_server, tmp_path):
    folder = tmp_path / "redis"
    redis.Redis.from_url(own_server.url).set("Holberton", "School")
    server.stop()
    for entry in (folder / "appendonlydir").iterdir():  # as a folder from before the AOF
        entry.unlink()
    (folder / "appendonlydir").rmdir()
    assert (folder / "dump.rdb").exists()

    state = server.start()
    client = redis.Redis.from_url(state.url, decode_responses=True)
    assert client.get("Holberton") == "School"
    assert client.info("persistence")["aof_enabled"] == 1
    client.set("after", "crash")
    time.sleep(1.2)
    after = crash_and_restart()
    client = redis.Redis.from_url(after.url, decode_responses=True)
    assert (client.get("Holberton"), client.get("after")) == ("School", "crash")


def test_a_scratch_server_keeps_its_data_through_a_crash_and_is_not_the_learners(tmp_path):
    from helpers.core import lifecycle

    scratch = server.ScratchServer(tmp_path / "scratch").start()
    try:
        assert scratch.port != server.status().port
        assert "@" not in repr(scratch) and scratch.shown_url in repr(scratch)
        with pytest.raises(redis.AuthenticationError):
            redis.Redis.from_url(scratch.shown_url).get("x")  # a password of its own
        client = redis.Redis.from_url(scratch.url, decode_responses=True)
        assert client.config_get("appendfsync") == {"appendfsync": "everysec"}
        assert client.config_get("bind")["bind"] == "127.0.0.1"
        client.set("Holberton", "School")
        time.sleep(1.2)
        scratch.crash()
        assert not scratch.running
        scratch.start()
        assert client.get("Holberton") == "School"
        assert "scratch Redis server" in lifecycle.running()
    finally:
        assert scratch.stop() is True
    assert not scratch.running and "scratch Redis server" not in lifecycle.running()
    assert scratch.stop() is False
