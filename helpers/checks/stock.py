"""The self-checks of notebook 09: the learner's three routes, and a reservation that holds.

:func:`check_stock_app` drives the learner's Flask app through the original's ``curl``
session with the app's test client (bodies compared byte for byte, status codes too), sets
``item.<id>`` keys to values the app cannot guess, then serves the same app over real HTTP
and replays the session. The notebook's ``item.<id>`` keys are saved first and given back.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis
from flask import got_request_exception
from werkzeug.exceptions import HTTPException

from helpers.checks.verdict import Verdict, raised, verdict
from helpers.core.concurrency import at_once
from helpers.core.http import get
from helpers.core.serving import serve
from helpers.stock import PRODUCTS, get_item_by_id, set_reserved_stock, stock_key

__all__ = ["check_atomic_reservation", "check_stock_app"]

LIST = (
    '[{"itemId":1,"itemName":"Suitcase 250","price":50,"initialAvailableQuantity":4},'
    '{"itemId":2,"itemName":"Suitcase 450","price":100,"initialAvailableQuantity":10},'
    '{"itemId":3,"itemName":"Suitcase 650","price":350,"initialAvailableQuantity":2},'
    '{"itemId":4,"itemName":"Suitcase 1050","price":550,"initialAvailableQuantity":5}]'
)
ITEM_1 = '{"itemId":1,"itemName":"Suitcase 250","price":50,"initialAvailableQuantity":4,'
NOT_FOUND = '{"status":"Product not found"}'
CONFIRMED_1 = '{"status":"Reservation confirmed","itemId":1}'
NOT_ENOUGH_1 = '{"status":"Not enough stock available","itemId":1}'
WHY = {200: "it worked", 404: "no such product", 409: "no stock left"}
ROUTES = {
    "/list_products": '@app.get("/list_products")',
    "/list_products/1": '@app.get("/list_products/<int:item_id>")',
    "/reserve_product/1": '@app.get("/reserve_product/<int:item_id>")',
}
SAVED_IDS = (1, 2, 3, 4, 12)


@dataclass(frozen=True)
class Step:
    """One request of the session: the path, the answer the original gives, and when."""

    path: str
    status: int
    body: str
    when: str = ""


SESSION = [
    Step("/list_products", 200, LIST),
    Step("/list_products/1", 200, ITEM_1 + '"currentQuantity":4}', "nothing reserved yet"),
    Step("/list_products/12", 404, NOT_FOUND),
    Step("/reserve_product/12", 404, NOT_FOUND),
    *[Step("/reserve_product/1", 200, CONFIRMED_1, f"reservation {n} of 4") for n in (1, 2, 3, 4)],
    Step("/reserve_product/1", 409, NOT_ENOUGH_1, "reservation 5 of Suitcase 250: 4 in stock"),
    Step("/list_products/1", 200, ITEM_1 + '"currentQuantity":0}', "after 4 reservations"),
]

Answer = tuple[int, str, BaseException | None, str | None]  # status, body, raised, mimetype
Fetch = Callable[[str], Answer]


def _text(value: object) -> str | None:
    """A Redis value as text (bytes decoded), None if missing."""
    return value.decode() if isinstance(value, bytes) else value  # type: ignore[return-value]


def _excerpt(body: str, start: int = 0, width: int = 60) -> str:
    """Up to ``width`` characters of ``body`` from ``start``, newlines shown as ``\\n``."""
    piece = body[start : start + width].replace("\n", "\\n")
    return piece + ("…" if len(body) > start + width else "")


def _pairs(body: str) -> Any:
    """``body`` parsed as JSON with every object as a list of (key, value) pairs, in order."""
    return json.loads(body, object_pairs_hook=list)


def _format_difference(got: str, want: str) -> str:
    """Why two bodies with the same JSON value differ in bytes, and the first differing byte."""
    at = next((i for i, (a, b) in enumerate(zip(got, want, strict=False)) if a != b), len(want))
    causes = []
    if got.rstrip() != got:
        causes.append("it ends with a newline the original does not send")
    if json.dumps(_pairs(got)) != json.dumps(_pairs(want)):
        causes.append("its keys are in another order (sorted)")
    if any(c in " \n" for c in got.rstrip()) and " " not in want:
        causes.append("it has spaces or line breaks between the values")
    return (
        f"the right JSON but not the original's bytes: from byte {at + 1} it has "
        f"'{_excerpt(got, at, 30)}' where the original has '{_excerpt(want, at, 30) or 'nothing'}' "
        f"({' and '.join(causes)}); make the app with create_json_app(...), whose JSON is compact, "
        f"in the order written and without a newline (Flask's own jsonify sorts keys and adds one)"
    )


def _field_difference(got: Any, want: Any) -> str | None:
    """The first key of an object that is missing or differs, said with a hint; else None."""
    if not (isinstance(got, dict) and isinstance(want, dict)):
        return None
    for key, value in want.items():
        if key not in got:
            return f"no {key}" + (
                " (add it: current_quantity(r, item))" if key == "currentQuantity" else ""
            )
        if got[key] != value:
            hint = ""
            if key == "itemId" and isinstance(got[key], str):
                hint = " (a string: take the id as a number, /<int:item_id> in the route)"
            elif key == "currentQuantity":
                hint = " (initialAvailableQuantity minus the reserved count in item.<id>)"
            return f"{key} {json.dumps(got[key])} where the original has {json.dumps(value)}{hint}"
    extra = [key for key in got if key not in want]
    return f"an extra key {extra[0]} the original does not send" if extra else None


def _judge(step: Step, answer: Answer, where: str) -> str | None:
    """None if the app answered as the original; else one sentence: what differs, how to fix."""
    status, body, exc, mimetype = answer
    said = f"{where}GET {step.path}" + (f" ({step.when})" if step.when else "")
    if exc is not None:
        return raised(said, exc) + f", so the app answered {status}: fix that route and rerun"
    if body == step.body and mimetype not in (None, "application/json"):
        return (
            f"{said} answered the right bytes as {mimetype}, not JSON: return the dict or the "
            f"list itself (the app makes it JSON), not a string"
        )
    if body == step.body and status == step.status:
        return None
    if body == step.body:
        return (
            f"{said} answered the original's body with status {status}; the workbook answers "
            f"{step.status} ({WHY[step.status]}): return the body and the code, "
            f"return {{...}}, {step.status}"
        )
    try:
        got, want = json.loads(body), json.loads(step.body)
    except ValueError:
        return (
            f"{said} answered {status} with a body that is not JSON ('{_excerpt(body)}') where the "
            f"original answers '{_excerpt(step.body)}': return a dict or a list"
        )
    if got == want:
        return f"{said} answered {_format_difference(body, step.body)}"
    if got == json.loads(NOT_FOUND):
        return (
            f"{said} answered {body} for a product that exists: get_item_by_id needs the id as a "
            f"number, take it with /<int:item_id> in the route"
        )
    field = _field_difference(got, want)
    if field is not None:
        return f"{said} answered {_excerpt(body, 0, 110)} with {field}"
    return (
        f"{said} answered {status} '{_excerpt(body)}' where the original answers "
        f"{step.status} '{_excerpt(step.body)}'"
    )


def _run(fetch: Fetch, steps: list[Step], where: str = "") -> str | None:
    """Send each step's request in turn; the first problem found, or None."""
    for step in steps:
        problem = _judge(step, fetch(step.path), where)
        if problem is not None:
            return problem
    return None


def _client_fetch(app: Any, errors: list[BaseException]) -> Fetch:
    """GET through the app's test client: status, body, and what a route raised (if it did)."""
    client = app.test_client()

    def fetch(path: str) -> Answer:
        errors.clear()
        try:
            reply = client.get(path)
        except Exception as exc:  # noqa: BLE001 - the learner's route may raise anything
            return 500, "", exc, None
        body = reply.get_data(as_text=True)
        return reply.status_code, body, errors[0] if errors else None, reply.mimetype

    return fetch


def _http_fetch(url: str, errors: list[BaseException]) -> Fetch:
    """GET over real HTTP from ``url``: status, body, and what a route raised (if it did)."""

    def fetch(path: str) -> Answer:
        errors.clear()
        try:
            reply = get(url + path)
        except OSError as exc:
            return 0, "", exc, None
        return reply.status, reply.body, errors[0] if errors else None, None

    return fetch


def _redis_steps(fetch: Fetch, r: redis.Redis) -> str | None:
    """The stock must be Redis's: item.1 counts the 4 reservations; preset keys are read."""
    stored = _text(r.get(stock_key(1)))
    if stored != "4":
        return (
            f"the app confirmed 4 reservations of Suitcase 250 but item.1 in Redis says "
            f"{stored if stored is not None else 'nothing'}: keep the reserved count in Redis, "
            f"reserve_stock_by_id(r, item_id, reserved + 1), not in a Python variable"
        )
    k = random.randint(1, 9)
    set_reserved_stock(r, 2, k)
    set_reserved_stock(r, 3, 2)
    item_2 = json.dumps({**PRODUCTS[1], "currentQuantity": 10 - k}, separators=(",", ":"))
    none_left = '{"status":"Not enough stock available","itemId":3}'
    steps = [
        Step("/list_products/2", 200, item_2, f"item.2 set to {k} in Redis: {k} reserved"),
        Step("/reserve_product/3", 409, none_left, "item.3 set to 2 in Redis: both reserved"),
    ]
    return _run(fetch, steps)


def _over_http(app: Any, r: redis.Redis, errors: list[BaseException]) -> str | None:
    """Serve ``app`` on a free port, replay the session from a fresh stock, stop the server."""
    _fresh(r)
    web = serve(app, port=0)
    try:
        return _run(_http_fetch(web.url, errors), SESSION, "Over real HTTP, ")
    finally:
        web.stop()


def _fresh(r: redis.Redis) -> None:
    """Nothing reserved, as when the original starts: item.1 to item.4 at 0, no item.12."""
    for item in PRODUCTS:
        set_reserved_stock(r, item["itemId"], 0)
    r.delete(stock_key(12))


def _missing_route(app: Any) -> str | None:
    """A sentence naming the first of the three routes the app does not have, or None."""
    adapter = app.url_map.bind("localhost")
    for path, decorator in ROUTES.items():
        try:
            adapter.match(path, method="GET")
        except HTTPException:
            return (
                f"the app has no route for GET {path} yet: add {decorator} above a function "
                f"in the app's cell, and run the whole cell again"
            )
    return None


def _give_products_back(products: list[dict[str, Any]]) -> bool:
    """Put every product back as it was if a route changed it; True if one was changed."""
    changed = PRODUCTS != products
    if changed:
        PRODUCTS[:] = products
    return changed


def _judge_app(app: Any, r: redis.Redis, errors: list[BaseException]) -> str | None:
    """The session by test client, the Redis-preset requests, then the session over HTTP."""
    _fresh(r)
    fetch = _client_fetch(app, errors)
    return _run(fetch, SESSION) or _redis_steps(fetch, r) or _over_http(app, r, errors)


def check_stock_app(app: Any, r: redis.Redis) -> Verdict:
    """Drive ``app`` through the original's curl session: test client, then real HTTP."""
    if not (hasattr(app, "test_client") and hasattr(app, "url_map")):
        return verdict(
            False,
            f"app is a {type(app).__name__}, not a Flask app: pass the app your three routes "
            f"are on (app = create_json_app(...))",
        )
    missing = _missing_route(app)
    if missing is not None:
        return verdict(False, missing)
    saved = {i: r.get(stock_key(i)) for i in SAVED_IDS}
    products = copy.deepcopy(PRODUCTS)
    errors: list[BaseException] = []

    def record(sender: object, exception: BaseException, **extra: object) -> None:
        errors.append(exception)

    got_request_exception.connect(record, app, weak=False)
    quiet, app.logger.disabled = app.logger.disabled, True
    try:
        problem = _judge_app(app, r, errors)
    finally:
        got_request_exception.disconnect(record, app)
        app.logger.disabled = quiet
        for i, value in saved.items():
            r.set(stock_key(i), value) if value is not None else r.delete(stock_key(i))
        changed = _give_products_back(products)
    if changed:
        problem = (
            "a route changed the product itself (item[...] = ...), so list_products now "
            "lists that key too (the check has put the products back): answer a new dict, "
            '{**item, "currentQuantity": ...}'
        )
    if problem is not None:
        return verdict(False, problem)
    return verdict(
        True,
        "the original's curl session gives its bodies byte for byte and the codes 200, 404 and "
        "409, through the test client and over real HTTP, with the stock read from and written "
        "to item.<id> in Redis.",
    )


def check_atomic_reservation(reserve, r, rounds: int = 5, clients: int = 40) -> Verdict:
    """Race ``reserve(r, item)`` from many threads on Suitcase 650 (2 in stock): 2 must win."""
    item = get_item_by_id(3)
    for _ in range(rounds):
        set_reserved_stock(r, 3, 0)
        results = at_once(lambda: reserve(r, item), clients)
        errors = [x for x in results if isinstance(x, Exception)]
        if errors:
            set_reserved_stock(r, 3, 0)
            return verdict(False, f"it raised {type(errors[0]).__name__}: {errors[0]}")
        confirmed, stored = results.count(True), r.get(stock_key(3))
        stored = stored.decode() if isinstance(stored, bytes) else stored
        if confirmed != 2 or stored != "2":
            set_reserved_stock(r, 3, 0)
            return verdict(
                False,
                f"{clients} clients at once got {confirmed} reservations and item.3 says "
                f"{stored}; with 2 in stock both must be 2.",
            )
    set_reserved_stock(r, 3, 0)
    return verdict(
        True, f"{rounds} races of {clients} clients: exactly 2 reservations each time, never more."
    )
