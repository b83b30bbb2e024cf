"""Kue's ``queue.testMode`` for task 11: a queue that no worker drains, for the tests."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import redis
from rq import Queue

from helpers.core.server import redis_url
from helpers.job_creation import reset_queue
from helpers.notifications import QUEUE_TASK_10

__all__ = ["queue_in_test_mode", "spare_database_url"]


def spare_database_url(url: str) -> str:
    """The URL of a spare database of the same server (no worker reads it)."""
    match = re.match(r"(.*?)(?:/(\d+))?$", url)
    db = int(match.group(2) or 0)
    return f"{match.group(1)}/{15 if db != 15 else 14}"


@contextmanager
def queue_in_test_mode(url: str | None = None) -> Iterator[Queue]:
    """Kue's ``queue.testMode``: queue ``push_notification_code_3`` on a spare database.

    No worker reads that database, so jobs stay where the tests can inspect them; the
    queue is cleared on entry and on exit.
    """
    connection = redis.Redis.from_url(spare_database_url(url or redis_url()))
    queue = Queue(QUEUE_TASK_10, connection=connection)
    reset_queue(queue)
    try:
        yield queue
    finally:
        reset_queue(queue)  # a listener still following these jobs hears they were removed
        connection.close()


