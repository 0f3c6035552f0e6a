"""Channels: publish a message on a named channel, and every subscriber receives it.

Use them for live updates: a view that creates a post publishes it, and each open page follows
the channel through a server-sent event stream (or a WebSocket)::

    from erlen import Erlen, request
    from erlen.channels import Channels

    app = Erlen(__name__)
    channels = Channels(app)

    @app.post("/posts")
    def create_post() -> tuple[str, int]:
        channels.publish("posts", request.get_data(as_text=True))
        return "created", 201

    @app.get("/posts/live")
    def live() -> object:
        return channels.event_stream("posts", last_id=request.headers.get("Last-Event-ID"))

``publish`` is a plain function that works from any thread, under WSGI and ASGI alike (a
``def`` view in a worker thread, a background task); ``apublish`` is its async twin.
Subscribers are async iterators. Every message has an id, increasing per channel, and each
channel keeps its last ``CHANNELS_HISTORY`` messages: a subscriber that passes the id it saw
last (an SSE client reconnecting sends it as ``Last-Event-ID``) first receives what it missed.

The backend is chosen by ``CHANNELS_URL``: unset or ``memory://``, the messages stay in this
process (nothing to install; every subscriber must be served by the same process);
``redis://host:port/db``, they go through Redis streams, to the subscribers of every worker and
machine (the ``redis`` extra: ``pip install erlen[redis]``).
"""

from __future__ import annotations

import typing as t
from collections.abc import AsyncIterator

from ..sse import EventStream, ServerSentEvent
from .memory import MemoryBackend
from .messages import ChannelsUnavailable as ChannelsUnavailable
from .messages import Message as Message
from .messages import SubscriberTooSlow as SubscriberTooSlow

if t.TYPE_CHECKING:
    from ..app import Erlen


class Backend(t.Protocol):
    """Where messages go: in memory (:class:`~erlen.channels.memory.MemoryBackend`) or in Redis
    streams (:class:`~erlen.channels.redis_streams.RedisBackend`)."""

    def publish(self, channel: str, data: str) -> str: ...

    def last_id(self, channel: str) -> str: ...

    async def apublish(self, channel: str, data: str) -> str: ...

    def subscribe(self, channel: str, last_id: str | None) -> AsyncIterator[Message]: ...


class Channels:
    """Publish and subscribe on named channels, for the app given here or to :meth:`init_app`
    (as extensions do). See the module's documentation."""

    def __init__(self, app: Erlen | None = None) -> None:
        self._backend: Backend | None = None
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Erlen) -> None:
        """Read ``CHANNELS_URL``, ``CHANNELS_HISTORY`` and ``CHANNELS_QUEUE_SIZE`` of ``app``
        and make the backend; ``app.extensions["channels"]`` is this object."""
        config = app.config
        url = config.get("CHANNELS_URL") or "memory://"
        history = int(config.get("CHANNELS_HISTORY", 1000))
        queue_size = int(config.get("CHANNELS_QUEUE_SIZE", 1000))
        scheme = url.partition("://")[0]
        if scheme == "memory":
            self._backend = MemoryBackend(history, queue_size)
        elif scheme in ("redis", "rediss", "unix"):
            from .redis_streams import RedisBackend  # redis-py only when it is used

            self._backend = RedisBackend(url, history, queue_size)
        else:
            raise ValueError(
                f"CHANNELS_URL {url!r} names no backend erlen has: 'memory://' (or unset), or"
                " 'redis://host:port/db'."
            )
        app.extensions["channels"] = self

    @property
    def backend(self) -> Backend:
        if self._backend is None:
            raise RuntimeError("Channels has no app: pass one to Channels(app) or init_app.")
        return self._backend

    def publish(self, channel: str, data: str) -> str:
        """Send ``data`` to the subscribers of ``channel`` and keep it in its history; returns
        the message's id. Callable from any thread, with or without an event loop."""
        return self.backend.publish(channel, data)

    def last_id(self, channel: str) -> str:
        """The id of the newest message of ``channel`` (``"0"`` before the first). Use it when a
        page is rendered from the current state: subscribing with it as ``last_id`` then
        delivers exactly what happened after the render, even to a page that connects late or
        to another worker. Blocks on Redis for one round trip."""
        return self.backend.last_id(channel)

    async def apublish(self, channel: str, data: str) -> str:
        """:meth:`publish` for async code (it never blocks the loop)."""
        return await self.backend.apublish(channel, data)

    def subscribe(self, channel: str, last_id: str | None = None) -> AsyncIterator[Message]:
        """The messages of ``channel`` as an async iterator (call it from async code): in
        memory from this call on, on Redis from its first read; with ``last_id``, the ones
        after it that the history still holds come first. In memory, raises
        :exc:`SubscriberTooSlow` when the reader falls too far behind."""
        return self.backend.subscribe(channel, last_id)

    def event_stream(
        self, channel: str, last_id: str | None = None, ping_interval: float | None = 15.0
    ) -> EventStream:
        """A server-sent event stream of ``channel`` for a view to return: each message an event
        whose id is the message's, so a reconnecting browser sends it back as
        ``Last-Event-ID``. A reader dropped for slowness sees the stream end, reconnects and
        catches up."""
        return EventStream(self._events(channel, last_id), ping_interval=ping_interval)

    async def _events(self, channel: str, last_id: str | None) -> AsyncIterator[ServerSentEvent]:
        try:
            async for message in self.subscribe(channel, last_id):
                yield ServerSentEvent(data=message.data, id=message.id)
        except SubscriberTooSlow:
            return
