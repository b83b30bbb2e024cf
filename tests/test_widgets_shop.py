"""The shop widget, driven headless against the real app over HTTP (no browser, no kernel)."""

from __future__ import annotations

import json
import threading
import time

import pytest

from helpers import stock
from helpers.core import lifecycle
from helpers.core.http import get
from helpers.core.serving import serve
from helpers.widgets.shop import Shop


@pytest.fixture
def shop(r):
    web = serve(stock.create_app(r), port=0)
    widget = Shop(web.url, refresh=0.05)
    yield widget, web
    widget.close()
    web.stop()


def classes(widget) -> set[str]:
    return set(widget._dom_classes)


def test_a_card_per_product_with_price_stock_and_reserve(shop):
    widget, _ = shop
    cards = widget.children[0].children
    assert [sorted(classes(c)) for c in cards] == [[f"qs-product-{i}"] for i in (1, 2, 3, 4)]
    texts = [[getattr(w, "value", "") for w in card.children] for card in cards]
    assert texts[2] == ["<b>Suitcase 650</b>", "Price: $350", "In stock: 2", ""]
    assert "qs-reserve-3" in classes(widget.buttons[3])
    assert "qs-stock-3" in classes(widget.stock_labels[3])
    assert "qs-shop-answer" in classes(widget.answer)


def test_reserve_three_times_shows_1_then_0_then_not_enough(shop):
    widget, _ = shop
    seen = []
    for _ in range(3):
        widget.buttons[3].click()
        seen.append((widget.stock_labels[3].value, widget.answer.value, widget.status.value))
    assert seen == [
        ("In stock: 1", '<code>{"status":"Reservation confirmed","itemId":3}</code>', "HTTP 200"),
        ("In stock: 0", '<code>{"status":"Reservation confirmed","itemId":3}</code>', "HTTP 200"),
        (
            "In stock: 0",
            '<code>{"status":"Not enough stock available","itemId":3}</code>',
            "HTTP 409",
        ),
    ]


def test_stock_updates_live_when_someone_else_reserves(shop):
    widget, web = shop
    for _ in range(3):
        reply = json.loads(get(web.url + "/reserve_product/4").body)
        assert reply == {"status": "Reservation confirmed", "itemId": 4}
    deadline = time.monotonic() + 5
    while widget.stock_labels[4].value != "In stock: 2" and time.monotonic() < deadline:
        time.sleep(0.02)
    assert widget.stock_labels[4].value == "In stock: 2"


def test_close_stops_the_refresh_thread(r):
    with serve(stock.create_app(r), port=0) as web:
        widget = Shop(web.url, refresh=0.05)
        assert widget.polling
        assert lifecycle.stop_everything(keep=("Redis",))["shop widget"] == 1
        assert not widget.polling
    assert not [t for t in threading.enumerate() if t.name == "shop-poller"]


def test_a_stopped_app_is_said_not_to_answer(r):
    web = serve(stock.create_app(r), port=0)
    widget = Shop(web.url, refresh=0.05)
    web.stop()
    assert widget.reserve(3) is None
    deadline = time.monotonic() + 5
    while widget.status.value != "the app does not answer" and time.monotonic() < deadline:
        time.sleep(0.02)
    widget.close()
    assert widget.status.value == "the app does not answer"


def test_no_app_is_a_one_line_error():
    from helpers.core.errors import AppNotAnswering
    from helpers.core.server import free_port

    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(AppNotAnswering, match=f"^The app at {url} does not answer: start it"):
        Shop(url)
