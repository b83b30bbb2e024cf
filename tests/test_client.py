"""helpers.client against the session's real server: the lines of tasks 1–4 and their errors."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest

from helpers import client as hc
from helpers.core.server import free_port

TASK_2_OUTPUT = "Redis client connected to the server\nSchool\nReply: OK\n100\n"
TASK_4_FIRST = (
    "Redis client connected to the server\n"
    + "Reply: 1\n" * 6
    + "{'Portland': '50', 'Seattle': '80', 'New York': '20', 'Bogota': '20', 'Cali': '40', "
    "'Paris': '2'}\n"
)


def closed_url() -> str:
    """A URL on which nothing listens."""
    return f"redis://127.0.0.1:{free_port()}/0"


def task(*args: str, url: str | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m helpers task ARGS`` as the learner would, on the session's server."""
    env = dict(os.environ)
    if url:
        env["REDIS_URL"] = url
    return subprocess.run(
        [sys.executable, "-m", "helpers", "task", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def test_create_client_says_it_connected(capsys):
    client = hc.create_client()
    assert capsys.readouterr().out == "Redis client connected to the server\n"
    assert client.ping() is True
    client.close()


def test_create_client_on_a_closed_port_prints_the_real_error(capsys):
    url = closed_url()
    port = url.rsplit(":", 1)[1].split("/")[0]
    client = hc.create_client(url)
    assert capsys.readouterr().out == (
        "Redis client not connected to the server: ConnectionError: "
        f"Error 111 connecting to 127.0.0.1:{port}. Connection refused.\n"
    )
    assert hc.is_connected(client) is False


def test_create_client_to_an_unknown_host_says_not_connected(capsys):
    hc.create_client("redis://no-such-host.invalid:6379/0")
    line = capsys.readouterr().out
    assert line.startswith("Redis client not connected to the server: ConnectionError: ")
    assert "no-such-host.invalid:6379" in line


def test_a_url_that_is_not_redis_raises_one_clear_line():
    with pytest.raises(hc.InvalidRedisURL, match=r"'http://localhost:6379' is not a Redis URL"):
        hc.create_client("http://localhost:6379")


def test_set_new_school_prints_reply_ok_and_stores_the_value(r, capsys):
    conn = hc.open_client()
    hc.set_new_school(conn, "HolbertonSanFrancisco", "100")
    assert capsys.readouterr().out == "Reply: OK\n"
    assert r.get("HolbertonSanFrancisco") == "100"
    conn.close()


def test_display_school_value_prints_the_value_or_none(r, capsys):
    r.set("Holberton", "School")
    r.delete("NoSuchSchool")
    conn = hc.open_client()
    hc.display_school_value(conn, "Holberton")
    hc.display_school_value(conn, "NoSuchSchool")
    assert capsys.readouterr().out == "School\nNone\n"
    conn.close()


def test_display_school_value_on_a_hash_says_what_the_key_holds(r):
    r.delete("HolbertonSchools")
    r.hset("HolbertonSchools", "Paris", 2)
    conn = hc.open_client()
    with pytest.raises(hc.WrongTypeError) as caught:
        hc.display_school_value(conn, "HolbertonSchools")
    assert str(caught.value) == (
        "The key 'HolbertonSchools' holds a hash, and GET works on a string only "
        "(read a hash with HGETALL)."
    )
    conn.close()


def test_create_hash_replies_1_then_0_and_display_keeps_the_order(r, capsys):
    r.delete("HolbertonSchools")
    conn = hc.open_client()
    hc.create_hash(conn, hc.HASH_KEY, hc.SCHOOLS)
    hc.display_hash(conn, hc.HASH_KEY)
    first = capsys.readouterr().out
    assert first == TASK_4_FIRST.split("\n", 1)[1]
    hc.create_hash(conn, hc.HASH_KEY, hc.SCHOOLS)
    assert capsys.readouterr().out == "Reply: 0\n" * 6
    assert r.hgetall("HolbertonSchools") == {k: str(v) for k, v in hc.SCHOOLS.items()}
    conn.close()


def test_hash_commands_on_a_string_key_raise_wrong_type(r):
    r.set("Holberton", "School")
    conn = hc.open_client()
    with pytest.raises(hc.WrongTypeError, match="'Holberton' holds a string, and HSET"):
        hc.create_hash(conn, "Holberton", {"Paris": 2})
    with pytest.raises(hc.WrongTypeError, match="'Holberton' holds a string, and HGETALL"):
        hc.display_hash(conn, "Holberton")
    conn.close()


def test_display_hash_of_a_missing_key_prints_an_empty_dict(r, capsys):
    r.delete("NoSuchHash")
    conn = hc.open_client()
    hc.display_hash(conn, "NoSuchHash")
    assert capsys.readouterr().out == "{}\n"
    conn.close()


def test_async_twins_print_the_same_four_lines(r, capsys):
    r.set("Holberton", "School")

    async def main() -> None:
        conn = await hc.create_async_client()
        await hc.display_school_value_async(conn, "Holberton")
        await hc.set_new_school_async(conn, "HolbertonSanFrancisco", "100")
        await hc.display_school_value_async(conn, "HolbertonSanFrancisco")
        await conn.aclose()

    asyncio.run(main())
    assert capsys.readouterr().out == TASK_2_OUTPUT


def test_async_client_on_a_closed_port_says_not_connected(capsys):
    async def main() -> None:
        conn = await hc.create_async_client(closed_url())
        await conn.aclose()

    asyncio.run(main())
    out = capsys.readouterr().out
    assert out.startswith("Redis client not connected to the server: ConnectionError: Error 111")


def test_async_get_on_a_hash_raises_wrong_type(r):
    r.delete("HolbertonSchools")
    r.hset("HolbertonSchools", "Paris", 2)

    async def main() -> None:
        conn = hc.open_async_client()
        try:
            await hc.display_school_value_async(conn, "HolbertonSchools")
        finally:
            await conn.aclose()

    with pytest.raises(hc.WrongTypeError, match="holds a hash, and GET"):
        asyncio.run(main())


def test_task_1_prints_connected():
    done = task("1")
    assert (done.returncode, done.stdout, done.stderr) == (
        0,
        "Redis client connected to the server\n",
        "",
    )


def test_task_1_with_the_server_down_prints_not_connected_and_fails():
    done = task("1", url=closed_url())
    assert done.returncode == 1
    assert done.stdout.startswith("Redis client not connected to the server: ConnectionError: ")
    assert done.stdout.count("\n") == 1
    assert "Traceback" not in done.stderr


def test_task_1_with_a_bad_url_says_so_in_one_line():
    done = task("1", url="http://localhost:6379")
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "'http://localhost:6379' is not a Redis URL (Redis URL must specify one of the following "
        "schemes (redis://, rediss://, unix://)); write it as redis://host:port/0."
    )


@pytest.mark.parametrize("number", ["2", "3"])
def test_tasks_2_and_3_print_the_original_block(r, number):
    r.set("Holberton", "School")
    r.delete("HolbertonSanFrancisco")
    done = task(number)
    assert (done.returncode, done.stdout, done.stderr) == (0, TASK_2_OUTPUT, "")
    assert r.get("HolbertonSanFrancisco") == "100"


def test_task_4_prints_the_original_block_on_an_empty_hash(r):
    r.delete("HolbertonSchools")
    done = task("4")
    assert (done.returncode, done.stdout, done.stderr) == (0, TASK_4_FIRST, "")


def test_task_4_run_again_replies_0(r):
    r.delete("HolbertonSchools")
    task("4")
    again = task("4")
    assert again.stdout == TASK_4_FIRST.replace("Reply: 1", "Reply: 0")


def test_tasks_refuse_extra_arguments():
    done = task("2", "extra")
    assert done.returncode == 2
    assert "usage: python -m helpers task 2" in done.stderr
