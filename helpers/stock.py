"""Task 12, "In stock?": four suitcases, their reserved stock in Redis, and the Flask app.

The Redis key ``item.<itemId>`` holds how many of the item are reserved so far (missing
means 0), so ``currentQuantity = initialAvailableQuantity - reserved``. The original reads
that number, checks it, then writes it back plus one: two requests that read at the same
time both reserve the same last suitcase. :func:`reserve_naive` keeps that flaw for the
lesson; :func:`reserve_atomic` checks and reserves in one Lua script, which Redis runs
without letting any other command in between, so the stock can never be oversold.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import redis
from flask import Flask, Response

from helpers.core.webapp import create_json_app, json_reply

__all__ = [
    "CONFIRMED",
    "NOT_ENOUGH",
    "NOT_FOUND",
    "PRODUCTS",
    "RESERVE_ONE",
    "create_app",
    "current_quantity",
    "get_current_reserved_stock_by_id",
    "get_item_by_id",
    "list_products",
    "parse_item_id",
    "reserve_atomic",
    "reserve_naive",
    "reserve_stock_by_id",
    "reset_stock",
    "set_reserved_stock",
    "stock_key",
]

PRODUCTS: list[dict[str, Any]] = [
    {"itemId": 1, "itemName": "Suitcase 250", "price": 50, "initialAvailableQuantity": 4},
    {"itemId": 2, "itemName": "Suitcase 450", "price": 100, "initialAvailableQuantity": 10},
    {"itemId": 3, "itemName": "Suitcase 650", "price": 350, "initialAvailableQuantity": 2},
    {"itemId": 4, "itemName": "Suitcase 1050", "price": 550, "initialAvailableQuantity": 5},
]
list_products = PRODUCTS  # the course's name (listProducts)
MAX_ID_DIGITS = 18

NOT_FOUND = {"status": "Product not found"}
CONFIRMED = "Reservation confirmed"
NOT_ENOUGH = "Not enough stock available"

RESERVE_ONE = """
local reserved = tonumber(redis.call('GET', KEYS[1]) or '0')
if reserved >= tonumber(ARGV[1]) then
  return 0
end
redis.call('SET', KEYS[1], reserved + 1)
return 1
"""


def get_item_by_id(item_id: int | None) -> dict[str, Any] | None:
    """The product whose ``itemId`` is ``item_id``, or None."""
    return next((item for item in PRODUCTS if item["itemId"] == item_id), None)


def stock_key(item_id: int) -> str:
    """The Redis key of an item's reserved stock: ``item.<itemId>``."""
    return f"item.{item_id}"


def set_reserved_stock(r: redis.Redis, item_id: int, stock: int) -> None:
    """Set how many of ``item_id`` are reserved to ``stock`` (``SET item.<itemId> stock``)."""
    r.set(stock_key(item_id), stock)


reserve_stock_by_id = set_reserved_stock  # the course's name (reserveStockById): it SETs


def get_current_reserved_stock_by_id(r: redis.Redis, item_id: int) -> int:
    """How many of ``item_id`` are reserved, 0 if none (the course's name, as is)."""
    return int(r.get(stock_key(item_id)) or 0)


def current_quantity(r: redis.Redis, item: dict[str, Any]) -> int:
    """What is left of ``item``: its initial stock minus what is reserved."""
    return item["initialAvailableQuantity"] - get_current_reserved_stock_by_id(r, item["itemId"])


def reset_stock(r: redis.Redis) -> None:
    """Nothing reserved: every ``item.<itemId>`` set to 0, as the app does when it starts."""
    for item in PRODUCTS:
        set_reserved_stock(r, item["itemId"], 0)


def reserve_naive(
    r: redis.Redis,
    item: dict[str, Any],
    pause: float = 0.0,
    between: Callable[[], object] | None = None,
) -> bool:
    """Read, check, then write reserved + 1, as the original does: NOT safe under concurrency.

    ``pause`` stands for whatever happens between the read and the write (an ``await``, a
    slow network); a few milliseconds make the race easy to see. ``between`` is called
    there too: a ``threading.Barrier``'s ``wait`` makes every request read before any writes.
    """
    reserved = get_current_reserved_stock_by_id(r, item["itemId"])
    if reserved >= item["initialAvailableQuantity"]:
        return False
    if pause:
        time.sleep(pause)
    if between is not None:
        between()
    set_reserved_stock(r, item["itemId"], reserved + 1)
    return True


def reserve_atomic(r: redis.Redis, item: dict[str, Any]) -> bool:
    """Check and reserve in one Lua script, which Redis runs as one step: never oversells."""
    script = r.register_script(RESERVE_ONE)
    return bool(script(keys=[stock_key(item["itemId"])], args=[item["initialAvailableQuantity"]]))


def parse_item_id(text: str) -> int | None:
    """The id in a URL (``"3"`` → 3); None if it is not a plain number of at most 18 digits."""
    if re.fullmatch(rf"[0-9]{{1,{MAX_ID_DIGITS}}}", text) is None:
        return None
    return int(text)


def create_app(
    r: redis.Redis,
    atomic: bool = True,
    pause: float = 0.0,
    fresh: bool = True,
    between: Callable[[], object] | None = None,
) -> Flask:
    """The "In stock?" app on Redis ``r``: atomic reservations unless ``atomic=False``.

    ``fresh`` resets every reserved stock to 0, as the original does when it starts;
    ``pause`` widens the race window of the naive version, and ``between`` is called inside
    it (see :func:`reserve_naive`); both are ignored when atomic.
    """
    if fresh:
        reset_stock(r)
    app = create_json_app("stock" if atomic else "stock-naive")

    def reserve(item: dict[str, Any]) -> bool:
        return reserve_atomic(r, item) if atomic else reserve_naive(r, item, pause, between)

    @app.get("/list_products")
    def products() -> Response:
        """Every product, in the original's format."""
        return json_reply(PRODUCTS)

    @app.get("/list_products/<item_id>")
    def product(item_id: str) -> Response:
        """One product plus its ``currentQuantity``; 404 if there is no such product."""
        item = get_item_by_id(parse_item_id(item_id))
        if item is None:
            return json_reply(NOT_FOUND, 404)
        return json_reply({**item, "currentQuantity": current_quantity(r, item)})

    @app.get("/reserve_product/<item_id>")
    def reserve_product(item_id: str) -> Response:
        """Reserve one: 200 confirmed, 409 when none is left, 404 if there is no such product."""
        item = get_item_by_id(parse_item_id(item_id))
        if item is None:
            return json_reply(NOT_FOUND, 404)
        if reserve(item):
            return json_reply({"status": CONFIRMED, "itemId": item["itemId"]})
        return json_reply({"status": NOT_ENOUGH, "itemId": item["itemId"]}, 409)

    return app
