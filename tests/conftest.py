"""Fixtures for the tests: clients of the session's Redis (see the root conftest), a queue."""

from __future__ import annotations

import uuid

import pytest
import redis
from rq import Queue

from helpers.core import server
from helpers.job_creation import reset_queue


@pytest.fixture
def r() -> redis.Redis:
    """A client (str replies) of the session's server."""
    client = redis.Redis.from_url(server.redis_url(), decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def raw() -> redis.Redis:
    """A client (bytes replies, as RQ needs) of the session's server."""
    client = redis.Redis.from_url(server.redis_url())
    yield client
    client.close()


@pytest.fixture
def own_server(tmp_path, monkeypatch) -> server.ServerState:
    """A workbook server of the test's own, in a fresh home (to crash at will), stopped after."""
    monkeypatch.setenv("WORKBOOK_HOME", str(tmp_path))
    monkeypatch.setenv("WORKBOOK_REDIS_PORT", str(server.free_port()))
    monkeypatch.delenv("REDIS_URL", raising=False)
    yield server.start()
    server.stop()


@pytest.fixture
def queue(raw: redis.Redis) -> Queue:
    """A queue of its own for one test, emptied of its jobs (and their ids) afterwards."""
    q = Queue(f"test_{uuid.uuid4().hex[:8]}", connection=raw)
    yield q
    reset_queue(q)
