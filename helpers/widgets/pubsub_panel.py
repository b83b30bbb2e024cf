"""The live publish/subscribe panel of notebook 04: a subscriber feed, a publish box, a status.

The subscriber is a :class:`helpers.pubsub.Subscriber` thread, so the feed fills while the
kernel is idle; it writes to the feed with ``Output.append_stdout`` (never ``print``, which
would land in whatever cell runs). ``KILL_SERVER`` ends the subscription, as in the original;
"Subscribe again" starts a new one, and ``helpers.cleanup()`` stops one still running.
"""

from __future__ import annotations

import ipywidgets as widgets
import redis

from helpers.pubsub import CHANNEL, KILL_WORD, Subscriber

STATES = {
    "subscribed": "Subscribed to '{channel}' (a message {kill} ends the subscription)",
    "ended": "Subscription ended: {kill} received, so later messages are not received",
    "stopped": "Subscription stopped",
    "failed": "Subscription broke: {error}",
}


class PubSubPanel(widgets.VBox):
    """A subscriber feed, a Text box and a Publish button, and a status line, on one channel."""

    def __init__(
        self, client: redis.Redis, channel: str = CHANNEL, kill_word: str = KILL_WORD
    ) -> None:
        self.client = client
        self.channel = channel
        self.kill_word = kill_word
        self.subscriber: Subscriber | None = None
        self.status = widgets.Label()
        self.status.add_class("qs-pubsub-status")
        self.feed = widgets.Output(
            layout=widgets.Layout(border="1px solid #ccc", min_height="6em", padding="4px")
        )
        self.feed.add_class("qs-pubsub-feed")
        self.message = widgets.Text(
            placeholder="Holberton Student #1 starts course", description="Message"
        )
        self.message.add_class("qs-pubsub-message")
        self.publish_button = widgets.Button(description="Publish", button_style="primary")
        self.publish_button.add_class("qs-pubsub-publish")
        self.resubscribe_button = widgets.Button(description="Subscribe again", disabled=True)
        self.resubscribe_button.add_class("qs-pubsub-resubscribe")
        self.sent = widgets.Label()
        self.sent.add_class("qs-pubsub-sent")
        self.publish_button.on_click(lambda _: self.publish())
        self.resubscribe_button.on_click(lambda _: self.subscribe())
        super().__init__(
            [
                self.status,
                widgets.HTML("<b>Subscriber</b> (what it receives):"),
                self.feed,
                widgets.HBox([self.message, self.publish_button, self.resubscribe_button]),
                self.sent,
            ]
        )
        self.subscribe()

    def _show_state(self, state: str) -> None:
        error = self.subscriber.error if self.subscriber else None
        self.status.value = STATES[state].format(
            channel=self.channel, kill=self.kill_word, error=error
        )
        self.resubscribe_button.disabled = state == "subscribed"

    def _receive(self, message: str) -> None:
        self.feed.append_stdout(message + "\n")

    def subscribe(self) -> None:
        """Start a new subscription (the old one, if any, must have ended)."""
        if self.subscriber is not None and self.subscriber.alive:
            return
        self.subscriber = Subscriber(
            self.client,
            self.channel,
            self.kill_word,
            on_message=self._receive,
            on_end=self._show_state,
        ).start()
        self._show_state("subscribed")

    def publish(self, message: str | None = None) -> int:
        """Publish ``message`` (default: the text box's), clear the box; return the receivers."""
        text = self.message.value if message is None else message
        if not text:
            self.sent.value = "Type a message first."
            return 0
        receivers = self.client.publish(self.channel, text)
        self.sent.value = f"Sent {text!r}: {receivers} subscriber(s) received it"
        self.message.value = ""
        return receivers

    @property
    def messages(self) -> list[str]:
        """What the current subscription received, in order."""
        return list(self.subscriber.messages) if self.subscriber else []

    @property
    def feed_text(self) -> str:
        """Everything the feed shows, as one string."""
        return "".join(o.get("text", "") for o in self.feed.outputs)

    def wait_for(self, count: int, timeout: float = 5.0) -> bool:
        """Wait until the subscription received ``count`` messages; True if it did."""
        return self.subscriber is not None and self.subscriber.wait_for(count, timeout)

    def stop(self) -> bool:
        """End the subscription now; True if it was running."""
        return self.subscriber.stop() if self.subscriber else False
