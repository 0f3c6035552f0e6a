"""The live feed: new posts are pushed to open pages as server-sent events.

Why server-sent events rather than a WebSocket: the feed only goes one way, from the server to
the page; ``EventSource`` reconnects by itself and sends the id of the last event it received
(``Last-Event-ID``), so a page that lost its connection gets what it missed; and SSE is plain
HTTP, served under WSGI as well as ASGI (the tests run it through both).

Why ``make run`` serves the blog on uvicorn (``ERLEN_RUN_ASGI=1``) rather than werkzeug's
threaded WSGI server: every open page keeps one feed request open for as long as it is open.
Under ASGI that request is a coroutine waiting on the server's event loop, and a closed tab is
noticed at once (the server receives ``http.disconnect``). Under werkzeug each open page holds a
thread for its whole life, and a closed tab is only noticed when the next ping fails to be
written. Both work; the ASGI server is the one that stays light with many open pages.

The :class:`Broadcaster` is written for both: a subscriber waits on an ``asyncio.Queue`` of the
event loop it runs on (the server's loop under ASGI, an event loop of erlen's under WSGI),
and :meth:`Broadcaster.publish`, called from any thread (sync views run in worker threads),
hands each subscriber its event with ``loop.call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import collections
import threading
import typing as t
from collections.abc import AsyncIterator

from erlen import Erlen, current_app
from erlen.sse import ServerSentEvent

#: How many recent events are kept for pages that reconnect (or connect a little late).
HISTORY = 100


class _Subscriber:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        # None in the queue means "the broadcaster is closing: end the stream".
        self.queue: asyncio.Queue[ServerSentEvent | None] = asyncio.Queue()


class Broadcaster:
    """Fans events out to every open stream. Each event has an integer ``id`` that grows."""

    def __init__(self, history: int = HISTORY) -> None:
        self._lock = threading.Lock()
        self._subscribers: set[_Subscriber] = set()
        self._history: collections.deque[ServerSentEvent] = collections.deque(maxlen=history)

    @property
    def subscriber_count(self) -> int:
        """How many streams are open."""
        with self._lock:
            return len(self._subscribers)

    def publish(self, event: ServerSentEvent) -> None:
        """Send ``event`` to every open stream; safe to call from any thread."""
        with self._lock:
            self._history.append(event)
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            self._deliver(subscriber, event)

    def revise(self, event: ServerSentEvent) -> None:
        """Replace the kept event with ``event``'s id (a post was edited), so that a page that
        catches up gets the current version. Open streams are not told."""
        with self._lock:
            for index, kept in enumerate(self._history):
                if kept.id == event.id:
                    self._history[index] = event

    def forget(self, event_id: str) -> None:
        """Drop the kept event ``event_id`` (a post was deleted): no page catches up on it."""
        with self._lock:
            kept = [event for event in self._history if event.id != event_id]
            self._history.clear()
            self._history.extend(kept)

    def close(self) -> None:
        """End every open stream (the pages reconnect by themselves)."""
        with self._lock:
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            self._deliver(subscriber, None)

    def _deliver(self, subscriber: _Subscriber, event: ServerSentEvent | None) -> None:
        try:
            subscriber.loop.call_soon_threadsafe(subscriber.queue.put_nowait, event)
        except RuntimeError:  # its loop is closed: the stream is gone
            with self._lock:
                self._subscribers.discard(subscriber)

    async def listen(
        self, after: int | None = None, greeting: ServerSentEvent | None = None
    ) -> AsyncIterator[ServerSentEvent]:
        """Yield ``greeting`` once subscribed, then the recent events whose id is greater than
        ``after``, then the events published from now on. Subscribing and reading the history
        happen under one lock, so no event falls between them."""
        subscriber = _Subscriber(asyncio.get_running_loop())
        with self._lock:
            self._subscribers.add(subscriber)
            missed = [event for event in self._history if after is not None and _id(event) > after]
        try:
            if greeting is not None:
                yield greeting
            for event in missed:
                yield event
            sent = {event.id for event in missed}
            while True:
                item = await subscriber.queue.get()
                if item is None:
                    return
                if item.id not in sent:  # the history may have sent it already
                    yield item
        finally:
            with self._lock:
                self._subscribers.discard(subscriber)


def _id(event: ServerSentEvent) -> int:
    return int(event.id or 0)


def broadcaster() -> Broadcaster:
    """The current app's broadcaster."""
    return t.cast(Broadcaster, current_app.extensions["live_feed"])


def init_app(app: Erlen) -> None:
    """Give ``app`` a broadcaster of its own."""
    app.extensions["live_feed"] = Broadcaster()


def parse_last_event_id(*values: str | None) -> int | None:
    """The greatest integer among ``values`` (a ``Last-Event-ID`` header, an ``after`` query
    argument), or ``None`` when none is one."""
    numbers = [int(value) for value in values if value is not None and value.isdigit()]
    return max(numbers, default=None)
