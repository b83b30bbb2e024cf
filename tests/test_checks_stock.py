"""The self-checks of notebook 09: the learner's three routes, and the WATCH/MULTI reservation."""

from __future__ import annotations

import json
import threading

import pytest
import redis
from flask import Flask, jsonify, request

from helpers.checks import stock as checks
from helpers.core import lifecycle
from helpers.core.webapp import create_json_app
from helpers.stock import (
    current_quantity,
    get_current_reserved_stock_by_id,
    get_item_by_id,
    list_products,
    reserve_atomic,
    reserve_naive,
    reserve_stock_by_id,
    stock_key,
)

NOT_FOUND = {"status": "Product not found"}


def message(capsys) -> str:
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def solution_app(r, app=None, not_found=NOT_FOUND, codes=(404, 409), reserved=None, omit=()):
    """The notebook's solution; the keyword arguments make the wrong answers below.

    ``omit`` leaves out routes (by function name) that a test wrote its own way on ``app``.
    """
    app = app or create_json_app("my stock")

    def reserve(item):
        if reserved is None:
            reserved_now = get_current_reserved_stock_by_id(r, item["itemId"])
            if reserved_now >= item["initialAvailableQuantity"]:
                return False
            reserve_stock_by_id(r, item["itemId"], reserved_now + 1)
            return True
        taken = reserved.get(item["itemId"], 0)
        if taken >= item["initialAvailableQuantity"]:
            return False
        reserved[item["itemId"]] = taken + 1
        return True

    def products():
        return list_products

    def product(item_id):
        item = get_item_by_id(item_id)
        if item is None:
            return not_found, codes[0]
        if reserved is not None:
            return {
                **item,
                "currentQuantity": item["initialAvailableQuantity"] - reserved.get(item_id, 0),
            }
        return {**item, "currentQuantity": current_quantity(r, item)}

    def reserve_product(item_id):
        item = get_item_by_id(item_id)
        if item is None:
            return not_found, codes[0]
        if reserve(item):
            return {"status": "Reservation confirmed", "itemId": item_id}
        return {"status": "Not enough stock available", "itemId": item_id}, codes[1]

    routes = {
        "products": ("/list_products", products),
        "product": ("/list_products/<int:item_id>", product),
        "reserve_product": ("/reserve_product/<int:item_id>", reserve_product),
    }
    for name, (rule, view) in routes.items():
        if name not in omit:
            app.get(rule)(view)
    return app


def test_the_solution_passes_and_gives_the_keys_back(r, capsys):
    r.set(stock_key(1), "3")
    r.delete(stock_key(2))
    r.set(stock_key(3), "1")
    result = checks.check_stock_app(solution_app(r), r)
    assert result.ok is True, result.message
    assert message(capsys).startswith("✅ Right: the original's curl session gives its bodies")
    assert r.get(stock_key(1)) == "3" and r.get(stock_key(2)) is None and r.get(stock_key(3)) == "1"
    assert r.get(stock_key(12)) is None


def test_the_check_leaves_no_server_running(r, capsys):
    before = lifecycle.stop_everything(keep=("Redis",))
    assert checks.check_stock_app(solution_app(r), r).ok
    assert lifecycle.stop_everything(keep=("Redis",)).get("web server", 0) == 0, before


def test_atomic_reservations_and_a_bytes_client_pass(raw, capsys):
    app = create_json_app("my stock")

    @app.get("/list_products")
    def products():
        return list_products

    @app.get("/list_products/<int:item_id>")
    def product(item_id):
        item = get_item_by_id(item_id)
        if item is None:
            return NOT_FOUND, 404
        return {**item, "currentQuantity": current_quantity(raw, item)}

    @app.get("/reserve_product/<int:item_id>")
    def reserve_product(item_id):
        item = get_item_by_id(item_id)
        if item is None:
            return NOT_FOUND, 404
        if reserve_atomic(raw, item):
            return {"status": "Reservation confirmed", "itemId": item_id}
        return {"status": "Not enough stock available", "itemId": item_id}, 409

    assert checks.check_stock_app(app, raw).ok is True


def test_the_scaffold_has_no_route_yet(r, capsys):
    app = create_json_app("my stock")
    assert checks.check_stock_app(app, r).ok is False
    assert message(capsys) == (
        "❌ Not yet: the app has no route for GET /list_products yet: add "
        '@app.get("/list_products") above a function in the app\'s cell, and run the whole '
        "cell again"
    )


def test_a_plain_flask_app_with_jsonify_differs_in_bytes(r, capsys):
    app = Flask("__main__")

    @app.get("/list_products")
    def products():
        return jsonify(list_products)

    @app.get("/list_products/<int:item_id>")
    def product(item_id):
        return jsonify({})

    @app.get("/reserve_product/<int:item_id>")
    def reserve_product(item_id):
        return jsonify({})

    assert checks.check_stock_app(app, r).ok is False
    said = message(capsys)
    assert said.startswith(
        "❌ Not yet: GET /list_products answered the right JSON but not the original's bytes: "
        "from byte 5 it has 'nitialAvailableQuantity\":4,\"it…' where the original has "
        '\'temId":1,"itemName":"Suitcase …\''
    )
    assert "ends with a newline" in said and "keys are in another order" in said
    assert "create_json_app(...)" in said


def test_a_trailing_newline_alone_is_named(r, capsys):
    app = create_json_app("my stock")

    @app.get("/list_products")
    def products():
        return app.response_class(app.json.dumps(list_products, separators=(",", ":")) + "\n")

    solution_app(r, app, omit={"products"})
    assert checks.check_stock_app(app, r).ok is False
    said = message(capsys)
    assert "from byte 323 it has '\\n' where the original has 'nothing'" in said
    assert "(it ends with a newline the original does not send)" in said


def test_current_quantity_missing(r, capsys):
    app = create_json_app("my stock")

    @app.get("/list_products")
    def products():
        return list_products

    @app.get("/list_products/<int:item_id>")
    def product(item_id):
        return get_item_by_id(item_id) or (NOT_FOUND, 404)

    @app.get("/reserve_product/<int:item_id>")
    def reserve_product(item_id):
        return NOT_FOUND, 404

    assert checks.check_stock_app(app, r).ok is False
    assert message(capsys) == (
        '❌ Not yet: GET /list_products/1 (nothing reserved yet) answered {"itemId":1,"itemName":'
        '"Suitcase 250","price":50,"initialAvailableQuantity":4} with no currentQuantity '
        "(add it: current_quantity(r, item))"
    )


def test_current_quantity_as_the_reserved_count(r, capsys):
    app = create_json_app("my stock")

    @app.get("/list_products/<int:item_id>")
    def product(item_id):
        item = get_item_by_id(item_id)
        if item is None:
            return NOT_FOUND, 404
        return {**item, "currentQuantity": get_current_reserved_stock_by_id(r, item_id)}

    solution_app(r, app, omit={"product"})
    assert checks.check_stock_app(app, r).ok is False
    assert "GET /list_products/1 (nothing reserved yet) answered" in (said := message(capsys))
    assert said.endswith(
        "with currentQuantity 0 where the original has 4 (initialAvailableQuantity minus the "
        "reserved count in item.<id>)"
    )


def test_current_quantity_that_forgets_the_reservations(r, capsys):
    app = create_json_app("my stock")

    @app.get("/list_products/<int:item_id>")
    def product(item_id):
        item = get_item_by_id(item_id)
        if item is None:
            return NOT_FOUND, 404
        return {**item, "currentQuantity": item["initialAvailableQuantity"]}

    solution_app(r, app, omit={"product"})
    assert checks.check_stock_app(app, r).ok is False
    assert message(capsys) == (
        '❌ Not yet: GET /list_products/1 (after 4 reservations) answered {"itemId":1,"itemName":'
        '"Suitcase 250","price":50,"initialAvailableQuantity":4,"currentQuantity":4} with '
        "currentQuantity 4 where the original has 0 (initialAvailableQuantity minus the reserved "
        "count in item.<id>)"
    )


def test_reservations_kept_in_a_python_dict(r, capsys):
    app = solution_app(r, reserved={})
    assert checks.check_stock_app(app, r).ok is False
    assert message(capsys) == (
        "❌ Not yet: the app confirmed 4 reservations of Suitcase 250 but item.1 in Redis says 0: "
        "keep the reserved count in Redis, reserve_stock_by_id(r, item_id, reserved + 1), not in "
        "a Python variable"
    )


def test_a_dict_that_also_writes_redis_is_caught_by_the_preset_keys(r, capsys):
    sold = {}
    app = solution_app(r, reserved=sold)

    @app.after_request
    def mirror(reply):
        for item_id, count in sold.items():
            reserve_stock_by_id(r, item_id, count)
        return reply

    assert checks.check_stock_app(app, r).ok is False
    assert "(item.2 set to" in message(capsys)


def test_item_id_as_a_string(r, capsys):
    app = create_json_app("my stock")

    @app.get("/reserve_product/<item_id>")
    def reserve_product(item_id):
        item = get_item_by_id(int(item_id))
        if item is None:
            return NOT_FOUND, 404
        if reserve_atomic(r, item):
            return {"status": "Reservation confirmed", "itemId": item_id}
        return {"status": "Not enough stock available", "itemId": item_id}, 409

    solution_app(r, app, omit={"reserve_product"})
    assert checks.check_stock_app(app, r).ok is False
    assert message(capsys) == (
        '❌ Not yet: GET /reserve_product/1 (reservation 1 of 4) answered {"status":"Reservation '
        'confirmed","itemId":"1"} with itemId "1" where the original has 1 (a string: take the '
        "id as a number, /<int:item_id> in the route)"
    )


def test_the_wrong_not_found_body(r, capsys):
    app = solution_app(r, not_found={"status": "Not found"})
    assert checks.check_stock_app(app, r).ok is False
    assert message(capsys) == (
        '❌ Not yet: GET /list_products/12 answered {"status":"Not found"} with status "Not found" '
        'where the original has "Product not found"'
    )


@pytest.mark.parametrize(
    ("codes", "expected"),
    [
        ((200, 409), "GET /list_products/12 answered the original's body with status 200; the "
         "workbook answers 404 (no such product): return the body and the code, "
         "return {...}, 404"),
        ((404, 200), "GET /reserve_product/1 (reservation 5 of Suitcase 250: 4 in stock) answered "
         "the original's body with status 200; the workbook answers 409 (no stock left)"),
    ],
)  # fmt: skip
def test_200_instead_of_404_or_409(r, capsys, codes, expected):
    assert checks.check_stock_app(solution_app(r, codes=codes), r).ok is False
    assert expected in message(capsys)


def test_a_route_that_raises_is_one_sentence(r, capsys):
    app = create_json_app("my stock")

    @app.get("/list_products/<int:item_id>")
    def product(item_id):
        return {**get_item_by_id(item_id), "currentQuantity": current_quantity(r, item_id)}

    solution_app(r, app, omit={"product"})
    assert checks.check_stock_app(app, r).ok is False
    assert message(capsys) == (
        "❌ Not yet: GET /list_products/1 (nothing reserved yet) raised TypeError: 'int' object "
        "is not subscriptable, so the app answered 500: fix that route and rerun"
    )
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err


def test_not_a_flask_app(r, capsys):
    assert checks.check_stock_app(None, r).ok is False
    assert message(capsys).startswith("❌ Not yet: app is a NoneType, not a Flask app")


def test_an_app_that_differs_only_over_real_http(r, capsys):
    app = solution_app(r)

    @app.before_request
    def refuse_real_clients():
        if "werkzeug.socket" in request.environ:  # set by a real server, not the test client
            return {"status": "Busy"}, 503
        return None

    assert checks.check_stock_app(app, r).ok is False
    assert message(capsys).startswith(
        '❌ Not yet: Over real HTTP, GET /list_products answered 503 \'{"status":"Busy"}\''
    )


def watch_solution(r, item):
    key = stock_key(item["itemId"])
    with r.pipeline() as pipe:
        while True:
            try:
                pipe.watch(key)
                reserved = int(pipe.get(key) or 0)
                if reserved >= item["initialAvailableQuantity"]:
                    pipe.unwatch()
                    return False
                pipe.multi()
                pipe.set(key, reserved + 1)
                pipe.execute()
                return True
            except redis.WatchError:
                continue


def test_watch_solution_passes_and_clears_item_3(r, capsys):
    assert checks.check_atomic_reservation(watch_solution, r).ok is True
    assert message(capsys) == (
        "✅ Right: 5 races of 40 clients: exactly 2 reservations each time, never more."
    )
    assert r.get(stock_key(3)) == "0"


def test_watch_scaffold_is_not_yet(r, capsys):
    def scaffold(r, item):
        raise NotImplementedError("reserve_with_watch is not written yet")

    assert checks.check_atomic_reservation(scaffold, r).ok is False
    assert "NotImplementedError: reserve_with_watch is not written yet" in message(capsys)


def test_read_then_write_without_watch_oversells(r, capsys):
    everyone_read = threading.Barrier(40)
    assert not checks.check_atomic_reservation(
        lambda r, item: reserve_naive(r, item, between=everyone_read.wait), r, rounds=1
    )
    assert message(capsys) == (
        "❌ Not yet: 40 clients at once got 40 reservations and item.3 says 1; with 2 in stock "
        "both must be 2."
    )


def test_incr_without_giving_back_leaves_the_counter_too_high(r, capsys):
    def incr_only(r, item):
        return r.incr(stock_key(item["itemId"])) <= item["initialAvailableQuantity"]

    assert not checks.check_atomic_reservation(incr_only, r, rounds=1)
    assert message(capsys).endswith(
        "got 2 reservations and item.3 says 40; with 2 in stock both must be 2."
    )


def test_watch_without_multi_oversells(r, capsys):
    everyone_read = threading.Barrier(40)

    def no_multi(r, item):
        key = stock_key(item["itemId"])
        with r.pipeline() as pipe:
            pipe.watch(key)
            reserved = int(pipe.get(key) or 0)
            everyone_read.wait()
            if reserved >= item["initialAvailableQuantity"]:
                return False
            pipe.set(key, reserved + 1)  # runs at once: no multi(), so WATCH guards nothing
            return True

    assert not checks.check_atomic_reservation(no_multi, r, rounds=1)
    assert "got 40 reservations" in message(capsys)


def test_a_route_that_changes_the_product_itself(r, capsys):
    app = create_json_app("my stock")

    @app.get("/list_products/<int:item_id>")
    def product(item_id):
        item = get_item_by_id(item_id)
        if item is None:
            return NOT_FOUND, 404
        item["currentQuantity"] = current_quantity(r, item)
        return item

    solution_app(r, app, omit={"product"})
    before = [dict(item) for item in list_products]
    assert checks.check_stock_app(app, r).ok is False
    assert message(capsys) == (
        "❌ Not yet: a route changed the product itself (item[...] = ...), so list_products now "
        "lists that key too (the check has put the products back): answer a new dict, "
        '{**item, "currentQuantity": ...}'
    )
    assert list_products == before and "currentQuantity" not in get_item_by_id(1)


def test_a_json_string_is_text_not_json(r, capsys):
    app = create_json_app("my stock")

    @app.get("/list_products")
    def products():
        return json.dumps(list_products, separators=(",", ":"))

    solution_app(r, app, omit={"products"})
    assert checks.check_stock_app(app, r).ok is False
    assert message(capsys) == (
        "❌ Not yet: GET /list_products answered the right bytes as text/html, not JSON: return "
        "the dict or the list itself (the app makes it JSON), not a string"
    )


def test_an_id_left_as_text_finds_no_product(r, capsys):
    app = create_json_app("my stock")

    @app.get("/list_products/<item_id>")
    def product(item_id):
        item = get_item_by_id(item_id)
        if item is None:
            return NOT_FOUND, 404
        return {**item, "currentQuantity": current_quantity(r, item)}

    solution_app(r, app, omit={"product"})
    assert checks.check_stock_app(app, r).ok is False
    assert message(capsys) == (
        '❌ Not yet: GET /list_products/1 (nothing reserved yet) answered {"status":"Product not '
        'found"} for a product that exists: get_item_by_id needs the id as a number, take it '
        "with /<int:item_id> in the route"
    )


def test_one_reservation_too_many(r, capsys):
    app = create_json_app("my stock")

    @app.get("/reserve_product/<int:item_id>")
    def reserve_product(item_id):
        item = get_item_by_id(item_id)
        if item is None:
            return NOT_FOUND, 404
        reserved = get_current_reserved_stock_by_id(r, item_id)
        if reserved > item["initialAvailableQuantity"]:
            return {"status": "Not enough stock available", "itemId": item_id}, 409
        reserve_stock_by_id(r, item_id, reserved + 1)
        return {"status": "Reservation confirmed", "itemId": item_id}

    solution_app(r, app, omit={"reserve_product"})
    assert checks.check_stock_app(app, r).ok is False
    assert message(capsys) == (
        "❌ Not yet: GET /reserve_product/1 (reservation 5 of Suitcase 250: 4 in stock) answered "
        '{"status":"Reservation confirmed","itemId":1} with status "Reservation confirmed" where '
        'the original has "Not enough stock available"'
    )
