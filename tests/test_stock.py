"""Task 12, "In stock?": the original's curl session byte for byte, concurrency, bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import pytest
import redis
from webtools import run_task

from helpers import stock
from helpers.core.http import burst, tally
from helpers.core.serving import serve

LIST = (
    b'[{"itemId":1,"itemName":"Suitcase 250","price":50,"initialAvailableQuantity":4},'
    b'{"itemId":2,"itemName":"Suitcase 450","price":100,"initialAvailableQuantity":10},'
    b'{"itemId":3,"itemName":"Suitcase 650","price":350,"initialAvailableQuantity":2},'
    b'{"itemId":4,"itemName":"Suitcase 1050","price":550,"initialAvailableQuantity":5}]'
)
NOT_FOUND = b'{"status":"Product not found"}'

# The original's curl session (spec, task 12), in order, with the exact bodies.
SESSION = [
    ("/list_products", LIST),
    (
        "/list_products/1",
        b'{"itemId":1,"itemName":"Suitcase 250","price":50,'
        b'"initialAvailableQuantity":4,"currentQuantity":4}',
    ),
    ("/list_products/12", NOT_FOUND),
    ("/reserve_product/12", NOT_FOUND),
    *[("/reserve_product/1", b'{"status":"Reservation confirmed","itemId":1}')] * 4,
    ("/reserve_product/1", b'{"status":"Not enough stock available","itemId":1}'),
]


@pytest.fixture
def app_server(r):
    """The atomic app of this module, served from a thread on a free port."""
    web = serve(stock.create_app(r), port=0)
    yield web
    web.stop()


def test_products_and_get_item_by_id():
    assert [p["itemName"] for p in stock.list_products] == [
        "Suitcase 250",
        "Suitcase 450",
        "Suitcase 650",
        "Suitcase 1050",
    ]
    assert [p["price"] for p in stock.PRODUCTS] == [50, 100, 350, 550]
    assert [p["initialAvailableQuantity"] for p in stock.PRODUCTS] == [4, 10, 2, 5]
    assert stock.get_item_by_id(3)["itemName"] == "Suitcase 650"
    assert stock.get_item_by_id(12) is None


def test_reserved_stock_lives_under_item_key(r):
    stock.reserve_stock_by_id(r, 2, 7)
    assert r.get("item.2") == "7"
    assert stock.get_current_reserved_stock_by_id(r, 2) == 7
    assert stock.current_quantity(r, stock.get_item_by_id(2)) == 3
    r.delete("item.2")
    assert stock.get_current_reserved_stock_by_id(r, 2) == 0


def test_atomic_reservation_stops_at_the_stock(r):
    stock.reset_stock(r)
    item = stock.get_item_by_id(3)
    assert [stock.reserve_atomic(r, item) for _ in range(4)] == [True, True, False, False]
    assert r.get("item.3") == "2"


def test_curl_session_of_the_original_byte_for_byte():
    with run_task(12) as app:
        for path, expected in SESSION:
            assert app.body(path) == expected, path


def test_status_codes_and_content_type():
    with run_task(12) as app:
        assert app.raw("/list_products")[0] == 200
        assert app.raw("/list_products/1")[0] == 200
        assert app.raw("/list_products/12")[0] == 404
        assert app.raw("/reserve_product/12")[0] == 404
        assert app.raw("/reserve_product/3")[0] == 200
        assert app.raw("/reserve_product/3")[0] == 200
        status, body, headers = app.raw("/reserve_product/3")
        assert (status, body) == (409, b'{"status":"Not enough stock available","itemId":3}')
        assert headers["Content-Type"] == "application/json"


def test_200_concurrent_reservations_never_oversell():
    with run_task(12) as app:
        replies = burst(app.url + "/reserve_product/1", 200)
        assert tally(replies) == {"Reservation confirmed": 4, "Not enough stock available": 196}
        assert sorted({r.status for r in replies}) == [200, 409]
        assert json.loads(app.body("/list_products/1"))["currentQuantity"] == 0


def test_the_naive_version_oversells_under_a_burst(r):
    everyone_read = threading.Barrier(20, timeout=30)  # all 20 read before any writes
    app = stock.create_app(r, atomic=False, between=everyone_read.wait)
    with serve(app, port=0) as web:
        counts = tally(burst(web.url + "/reserve_product/3", 20))
        assert counts == {"Reservation confirmed": 20}  # 20 sold, with 2 in stock
        assert web.get("/list_products/3").json()["currentQuantity"] == 1  # each wrote 0 + 1


@pytest.mark.parametrize(
    "item_id",
    ["abc", "-1", "0", "1.5", "1e3", "+1", "%201", "%EF%BC%91", "99999999999999999999999999999"],
)
@pytest.mark.parametrize("route", ["/list_products/", "/reserve_product/"])
def test_bad_ids_get_404_product_not_found(app_server, route, item_id):
    reply = app_server.get(route + item_id)
    assert (reply.status, reply.body) == (404, NOT_FOUND.decode())


def test_unknown_route_gets_json_404(app_server):
    for path in ("/", "/nope", "/list_products/1/extra", "/reserve_product"):
        reply = app_server.get(path)
        assert (reply.status, reply.body) == (404, '{"status":"Not found"}'), path


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_wrong_method_gets_json_405(method):
    with run_task(12) as app:
        status, body, headers = app.raw("/reserve_product/1", method)
        assert (status, body) == (405, b'{"status":"Method not allowed"}')
        assert "GET" in headers["Allow"]
        assert headers["Content-Type"] == "application/json"


def test_redis_down_gets_json_503():
    down = redis.Redis(port=1, socket_connect_timeout=0.5, decode_responses=True)
    with serve(stock.create_app(down, fresh=False), port=0) as web:
        reply = web.get("/list_products/1")
        assert (reply.status, reply.body) == (503, '{"status":"Redis is not available"}')
        assert web.get("/list_products").status == 200


def test_port_in_use_is_one_line_error():
    with run_task(12) as app:
        done = subprocess.run(
            [sys.executable, "-m", "helpers", "task", "12", "--port", str(app.port)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"Port {app.port} is in use by another program: stop it, or pick another port "
        "(--port N, or port=0 for any free port)."
    ]


@pytest.mark.parametrize("task", ["12", "13"])
def test_no_redis_is_a_one_line_error(task):
    env = dict(os.environ, REDIS_URL="redis://127.0.0.1:1/0")
    done = subprocess.run(
        [sys.executable, "-m", "helpers", "task", task, "--port", "0"],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
    )
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Redis at redis://127.0.0.1:1/0 does not answer")
