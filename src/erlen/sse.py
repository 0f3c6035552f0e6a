"""Server-sent events: format events and stream them as ``text/event-stream``.

Return an :class:`EventStream` from a view with a generator (sync or async) of events, each a
:class:`ServerSentEvent`, a dict with its fields, or a string (the data)::

    @app.get("/events")
    async def events():
        async def stream():
            while True:
                yield ServerSentEvent(await next_update(), event="update")
        return EventStream(stream(), ping_interval=15)
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import typing as t
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator

from .wrappers import Response

EventLike = t.Union["ServerSentEvent", t.Mapping[str, t.Any], str]


@dataclasses.dataclass
class ServerSentEvent:
    """One event: ``data`` (may span lines), and optionally its ``event`` type, ``id``, the
    client's reconnection delay ``retry`` in milliseconds, and a ``comment``."""

    data: str | None = None
    event: str | None = None
    id: str | None = None
    retry: int | None = None
    comment: str | None = None

    def encode(self) -> str:
        """The event in the ``text/event-stream`` format, with its closing blank line."""
        lines = [f": {line}" for line in _lines(self.comment)] if self.comment is not None else []
        for name, value in (("event", self.event), ("id", self.id)):
            if value is not None:
                if "\n" in value or "\r" in value:
                    raise ValueError(f"An event's {name} cannot contain a line break.")
                lines.append(f"{name}: {value}")
        if self.retry is not None:
            lines.append(f"retry: {int(self.retry)}")
        if self.data is not None:
            lines.extend(f"data: {line}" for line in _lines(self.data))
        return "\n".join(lines) + "\n\n"


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def encode_event(item: EventLike) -> str:
    """Format a :class:`ServerSentEvent`, a dict of its fields, or a string of data."""
    if isinstance(item, ServerSentEvent):
        return item.encode()
    if isinstance(item, str):
        return ServerSentEvent(data=item).encode()
    return ServerSentEvent(**item).encode()


#: A comment line: clients ignore it, proxies see traffic and keep the connection open.
PING = ": ping\n\n"


class EventStream(Response):
    """A streamed ``text/event-stream`` response of ``events`` (an iterator or async iterator).

    ``ping_interval`` (seconds, async iterators only) sends a comment whenever no event came for
    that long, so proxies do not close an idle stream. Caching and proxy buffering are off.
    """

    def __init__(
        self,
        events: Iterable[EventLike] | AsyncIterable[EventLike],
        *,
        ping_interval: float | None = None,
        status: int | None = None,
        headers: t.Mapping[str, str] | None = None,
    ) -> None:
        body: Iterator[str] | AsyncIterator[str]
        if isinstance(events, AsyncIterable):
            body = _encode_async(events, ping_interval)
        else:
            body = (encode_event(item) for item in events)
        super().__init__(body, status, headers, mimetype="text/event-stream")
        self.headers["Cache-Control"] = "no-cache"
        self.headers["X-Accel-Buffering"] = "no"


async def _encode_async(
    events: AsyncIterable[EventLike], ping_interval: float | None
) -> AsyncIterator[str]:
    iterator = aiter(events)
    if ping_interval is None:
        async for item in iterator:
            yield encode_event(item)
        return
    # The next event is awaited in a task that outlives a ping, so the generator that produces
    # events is never interrupted by the timeout.
    pending: asyncio.Future[EventLike] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(anext(iterator))
            done, _ = await asyncio.wait({pending}, timeout=ping_interval)
            if not done:
                yield PING
                continue
            try:
                item = pending.result()
            except StopAsyncIteration:
                return
            pending = None
            yield encode_event(item)
    finally:
        if pending is not None and not pending.done():
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pending
        close = getattr(iterator, "aclose", None)
        if close is not None:
            await close()
