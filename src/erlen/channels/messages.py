"""What channels deliver, and how a subscription ends early."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Message:
    """One published message: its ``id`` (increasing within its channel), ``channel`` and
    ``data``."""

    id: str
    channel: str
    data: str


class SubscriberTooSlow(Exception):
    """Raised by a subscription whose reader fell ``CHANNELS_QUEUE_SIZE`` messages behind: it
    is dropped so that it never delays the others. ``last_id`` is the id of the last message
    it received; subscribing again with it catches up from the channel's history (an SSE client
    does so by itself when the stream ends)."""

    def __init__(self, channel: str, last_id: str | None) -> None:
        super().__init__(
            f"The subscriber of {channel!r} fell too far behind and was dropped; subscribe"
            f" again from the last id it received ({last_id!r}) to catch up."
        )
        self.channel = channel
        self.last_id = last_id


class ChannelsUnavailable(Exception):
    """Raised by ``publish`` when the backend cannot be reached (Redis is down): the message
    was not published. Subscribers wait for the backend and read on where they were."""

    def __init__(self, channel: str, cause: BaseException) -> None:
        super().__init__(
            f"Could not publish on {channel!r}: the channels backend is unreachable ({cause})."
        )
        self.channel = channel
