"""The live feed: posts published, edited and deleted reach open pages as server-sent events.

Why server-sent events rather than a WebSocket: the feed only goes one way, from the server to
the page; ``EventSource`` reconnects by itself and sends the id of the last event it received
(``Last-Event-ID``), so a page that lost its connection gets what it missed; and SSE is plain
HTTP, served under WSGI as well as ASGI (the tests run it through both).

The events go through erlen's channels (:mod:`erlen.channels`). With one process (``make run``)
they stay in its memory: nothing else to start. With ``ERLEN_CHANNELS_URL=redis://...`` they go
through Redis, so the blog runs on any number of workers and machines: a post made through one
worker reaches the pages connected to every other, and a page that reconnects to another
worker catches up from the channel's history.

Each page asks for the events after the channel's newest one when it was rendered
(:func:`rendered_at`), so nothing that happens between the render and the connection is lost.

Why ``make run`` serves the blog on uvicorn (``ERLEN_RUN_ASGI=1``) rather than werkzeug's
threaded WSGI server: every open page keeps one feed request open for as long as it is open.
Under ASGI that request is a coroutine waiting on the server's event loop, and a closed tab is
noticed at once (the server receives ``http.disconnect``). Under werkzeug each open page holds a
thread for its whole life. Both work; the ASGI server is the one that stays light.
"""

from __future__ import annotations

import json
import re
import typing as t
from collections.abc import AsyncIterator

from erlen import Erlen, current_app
from erlen.channels import Channels, SubscriberTooSlow
from erlen.sse import ServerSentEvent

#: The channel of the feed.
CHANNEL = "blog-posts"
#: How many recent events each channel keeps for pages that reconnect or connect late.
HISTORY = 100
#: The events a page understands (static/live.js); ``close`` ends the streams.
KINDS = frozenset({"post", "edit", "delete", "close"})
#: What a channel id looks like (in memory a number, on Redis ``<ms>-<seq>``).
_CHANNEL_ID = re.compile(r"[0-9]{1,20}(-[0-9]{1,20})?")


def init_app(app: Erlen) -> None:
    """Give ``app`` its channels (``CHANNELS_URL``: memory unless set)."""
    app.config.setdefault("CHANNELS_HISTORY", HISTORY)
    Channels(app)


def _channels() -> Channels:
    return t.cast(Channels, current_app.extensions["channels"])


def publish(kind: str, data: t.Any) -> str:
    """Send a ``kind`` event (``post``, ``edit``, ``delete``) with ``data`` (JSON) to every open
    page, from any worker; returns its id."""
    assert kind in KINDS
    return _channels().publish(CHANNEL, json.dumps({"event": kind, "data": data}))


def close_streams() -> None:
    """End every open stream, on every worker (the pages reconnect by themselves and catch up)."""
    publish("close", None)


def rendered_at() -> str:
    """The id of the newest event now: a page rendered now asks for the events after it."""
    return _channels().last_id(CHANNEL)


def parse_last_event_id(*values: str | None) -> str | None:
    """The first of ``values`` (a ``Last-Event-ID`` header, an ``after`` query argument) that is
    an event id; ``None`` when none is."""
    return next((value for value in values if value and _CHANNEL_ID.fullmatch(value)), None)


async def listen(
    after: str | None, greeting: ServerSentEvent | None = None
) -> AsyncIterator[ServerSentEvent]:
    """Yield ``greeting`` once subscribed, then the events after ``after`` (from the history),
    then the new ones, until a ``close`` event (yielded too: its id is where the page resumes).
    A page too slow to keep up sees its stream end, reconnects and catches up."""
    subscription = _channels().subscribe(CHANNEL, last_id=after or "0")
    if greeting is not None:
        yield greeting
    try:
        async for message in subscription:
            event = json.loads(message.data)
            yield ServerSentEvent(
                data=json.dumps(event["data"]), event=event["event"], id=message.id
            )
            if event["event"] == "close":  # sent too, so the page resumes after it
                return
    except SubscriberTooSlow:
        return
