"""Tasks 0–5 as commands: the original course's scripts for Redis, strings, hashes, pub/sub."""

from __future__ import annotations

import asyncio
import sys

from helpers.client import (
    HASH_KEY,
    SCHOOLS,
    announce,
    announce_async,
    create_hash,
    display_hash,
    display_school_value,
    display_school_value_async,
    open_async_client,
    open_client,
    set_new_school,
    set_new_school_async,
)
from helpers.core import server
from helpers.install import redis_cli, show_snapshot
from helpers.pubsub import publish_all, subscribe


def task_install(argv: list[str]) -> int:
    """``python -m helpers task 0``: find or start Redis, PING, SET, GET, SAVE."""
    r = server.connect()
    url = server.redis_url()
    redis_cli(url, "PING")
    redis_cli(url, "SET", "Holberton", "School")
    redis_cli(url, "GET", "Holberton")
    redis_cli(url, "SAVE")
    show_snapshot(r)
    r.close()
    return 0


def _no_arguments(argv: list[str], task: int) -> bool:
    if argv:
        print(f"usage: python -m helpers task {task}  (no arguments)", file=sys.stderr)
        return False
    return True


def task_connect(argv: list[str]) -> int:
    """``0-redis_client.js``: connect and print whether it worked; 1 if the server is down."""
    if not _no_arguments(argv, 1):
        return 2
    client = open_client()
    try:
        return 0 if announce(client) else 1
    finally:
        client.close()


def task_basic_ops(argv: list[str]) -> int:
    """``1-redis_op.js``: display Holberton, set HolbertonSanFrancisco to 100, display it."""
    if not _no_arguments(argv, 2):
        return 2
    client = open_client()
    try:
        if not announce(client):
            return 1
        display_school_value(client, "Holberton")
        set_new_school(client, "HolbertonSanFrancisco", "100")
        display_school_value(client, "HolbertonSanFrancisco")
    finally:
        client.close()
    return 0


async def _basic_ops_async() -> int:
    client = open_async_client()
    try:
        if not await announce_async(client):
            return 1
        await display_school_value_async(client, "Holberton")
        await set_new_school_async(client, "HolbertonSanFrancisco", "100")
        await display_school_value_async(client, "HolbertonSanFrancisco")
    finally:
        await client.aclose()
    return 0


def task_async_ops(argv: list[str]) -> int:
    """``2-redis_op_async.js``: the same as task 2 with ``redis.asyncio`` and ``await``."""
    if not _no_arguments(argv, 3):
        return 2
    return asyncio.run(_basic_ops_async())


def task_hash(argv: list[str]) -> int:
    """``4-redis_advanced_op.js``: HSET the six schools one by one, then HGETALL and print."""
    if not _no_arguments(argv, 4):
        return 2
    client = open_client()
    try:
        if not announce(client):
            return 1
        create_hash(client, HASH_KEY, SCHOOLS)
        display_hash(client, HASH_KEY)
    finally:
        client.close()
    return 0


def task_pubsub(argv: list[str]) -> int:
    """``python -m helpers task 5 subscriber|publisher``: the original's two scripts."""
    role = argv[0] if len(argv) == 1 else ""
    if role not in ("subscriber", "publisher"):
        print("usage: python -m helpers task 5 subscriber|publisher", file=sys.stderr)
        return 2
    client = open_client()
    try:
        if not announce(client):
            return 1
        if role == "subscriber":
            subscriber = subscribe(client)
            if subscriber.state == "failed":
                print(f"The subscription broke: {subscriber.error}", file=sys.stderr)
                return 1
        else:
            publish_all(client)
    finally:
        client.close()
    return 0
