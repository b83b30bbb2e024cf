"""Fixtures for the tests: clients of the session's Redis (see the root conftest)."""

from __future__ import annotations

import pytest
import redis

from helpers import server


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
