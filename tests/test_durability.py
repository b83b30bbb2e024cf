"""The workbook's own server keeps every acknowledged write when its process crashes (AOF)."""

from __future__ import annotations

import time

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
