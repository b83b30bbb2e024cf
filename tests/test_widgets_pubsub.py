"""The pub/sub panel, driven headlessly: type, click, and watch the feed and the status."""

from __future__ import annotations

import pytest

from helpers import pubsub as ps
from helpers.core import lifecycle
from helpers.widgets.pubsub_panel import PubSubPanel


@pytest.fixture
def panel(r):
    widget = PubSubPanel(r)
    yield widget
    widget.stop()
    widget.close()


def test_the_parts_carry_the_css_classes_of_the_browser_test(panel):
    assert "qs-pubsub-message" in panel.message._dom_classes
    assert "qs-pubsub-publish" in panel.publish_button._dom_classes
    assert "qs-pubsub-feed" in panel.feed._dom_classes
    assert "qs-pubsub-status" in panel.status._dom_classes


def test_it_subscribes_at_once(panel, r):
    assert panel.status.value.startswith("Subscribed to 'holberton school channel'")
    assert ps.subscriber_count(r) == 1
    assert panel.resubscribe_button.disabled


def test_a_clicked_message_reaches_the_feed(panel):
    panel.message.value = "Holberton Student #1 starts course"
    panel.publish_button.click()
    assert panel.wait_for(1, timeout=3)
    assert panel.feed_text == "Holberton Student #1 starts course\n"
    assert panel.sent.value == (
        "Sent 'Holberton Student #1 starts course': 1 subscriber(s) received it"
    )
    assert panel.message.value == ""


def test_a_message_from_another_client_reaches_the_feed(panel, r):
    r.publish(ps.CHANNEL, "from elsewhere")
    assert panel.wait_for(1, timeout=3)
    assert panel.feed_text == "from elsewhere\n"


def test_kill_server_ends_the_subscription(panel, r):
    thread = panel.subscriber._thread
    for text in ("Holberton Student #2 starts course", "KILL_SERVER"):
        panel.message.value = text
        panel.publish_button.click()
    thread.join(3)
    assert not thread.is_alive()
    assert panel.status.value.startswith("Subscription ended: KILL_SERVER received")
    assert panel.messages == ["Holberton Student #2 starts course", "KILL_SERVER"]
    assert panel.publish("Holberton Student #3 starts course") == 0
    assert "Student #3" not in panel.feed_text
    assert not panel.resubscribe_button.disabled
    assert ps.wait_for_unsubscribed(r, timeout=2)


def test_subscribe_again_after_the_end(panel):
    panel.publish("KILL_SERVER")
    panel.subscriber.join(3)
    panel.resubscribe_button.click()
    assert panel.subscriber.alive
    panel.publish("back")
    assert panel.wait_for(1, timeout=3)
    assert panel.feed_text == "KILL_SERVER\nback\n"


def test_an_empty_message_is_not_sent(panel):
    panel.publish_button.click()
    assert panel.sent.value == "Type a message first."
    assert panel.messages == []


def test_cleanup_stops_the_panel_subscription(panel):
    lifecycle.stop_everything(keep=("Redis",))
    assert not panel.subscriber.alive
    assert panel.status.value == "Subscription stopped"


def test_a_cut_connection_shows_in_the_status(panel, r):
    ids = [c["id"] for c in r.client_list() if c.get("sub", "0") != "0"]
    for i in ids:
        r.client_kill_filter(_id=i)
    panel.subscriber.join(3)
    assert panel.status.value == "Subscription broke: ConnectionError: Connection closed by server."
    assert not panel.resubscribe_button.disabled
