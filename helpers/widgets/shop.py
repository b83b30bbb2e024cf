"""The shop of notebook 09: a card per suitcase (price, stock, Reserve) and the app's JSON answer.

The widget is a client of the running "In stock?" app, over real HTTP like curl: a click
sends ``GET /reserve_product/<itemId>``, and a background thread re-reads every product's
``currentQuantity`` a few times a second, so reservations made elsewhere (curl, a burst of
requests) show up while the kernel is idle.
"""

from __future__ import annotations

import html
import threading
from typing import ClassVar

import ipywidgets as widgets

from helpers.core.errors import AppNotAnswering
from helpers.core.http import Reply, get
from helpers.widgets.polling import PollingWidget

REFRESH_SECONDS = 0.5


class Shop(PollingWidget, widgets.VBox):
    """A card per product of the app at ``url``, each with price, stock and a Reserve button."""

    noun: ClassVar[str] = "shop widget"

    def __init__(self, url: str, refresh: float = REFRESH_SECONDS) -> None:
        self.url = url.rstrip("/")
        try:
            self.products = get(self.url + "/list_products").json()
        except OSError:
            raise AppNotAnswering(
                f"The app at {self.url} does not answer: start it first, "
                "e.g. shop = serve(create_app(r)), then Shop(shop.url)."
            ) from None
        self.stock_labels: dict[int, widgets.Label] = {}
        self.buttons: dict[int, widgets.Button] = {}
        cards = [self._card(item) for item in self.products]
        self.answer = widgets.HTML("<code></code>")
        self.answer.add_class("qs-shop-answer")
        self.status = widgets.Label("")
        self.status.add_class("qs-shop-status")
        super().__init__(
            [
                widgets.HBox(cards, layout=widgets.Layout(flex_flow="row wrap")),
                widgets.HBox([widgets.Label("Answer:"), self.answer, self.status]),
            ]
        )
        self.add_class("qs-shop")
        self._lock = threading.Lock()
        self.refresh()
        self.start_polling(refresh, "shop-poller")

    def _card(self, item: dict) -> widgets.VBox:
        item_id = item["itemId"]
        stock = widgets.Label(f"In stock: {item['initialAvailableQuantity']}")
        stock.add_class(f"qs-stock-{item_id}")
        button = widgets.Button(description="Reserve", icon="suitcase", button_style="primary")
        button.add_class(f"qs-reserve-{item_id}")
        button.on_click(lambda _: self.reserve(item_id))
        self.stock_labels[item_id] = stock
        self.buttons[item_id] = button
        card = widgets.VBox(
            [
                widgets.HTML(f"<b>{html.escape(item['itemName'])}</b>"),
                widgets.Label(f"Price: ${item['price']}"),
                stock,
                button,
            ],
            layout=widgets.Layout(border="1px solid #ccc", padding="6px", margin="4px"),
        )
        card.add_class(f"qs-product-{item_id}")
        return card

    def show_answer(self, reply: Reply) -> None:
        """Show the app's JSON body (and its HTTP status next to it)."""
        self.answer.value = f"<code>{html.escape(reply.body, quote=False)}</code>"
        self.status.value = f"HTTP {reply.status}"

    def reserve(self, item_id: int) -> Reply | None:
        """``GET /reserve_product/<item_id>``, as the Reserve button does; show the answer."""
        try:
            reply = get(f"{self.url}/reserve_product/{item_id}")
            self.show_answer(reply)
            self.refresh(item_id)
        except OSError:
            self.status.value = "the app does not answer"
            return None
        return reply

    def refresh(self, item_id: int | None = None) -> None:
        """Re-read the current stock of one product (or of all) from the app."""
        ids = [item_id] if item_id is not None else list(self.stock_labels)
        with self._lock:
            for i in ids:
                quantity = get(f"{self.url}/list_products/{i}").json()["currentQuantity"]
                self.stock_labels[i].value = f"In stock: {quantity}"

    def _unreachable(self) -> None:
        self.status.value = "the app does not answer"

