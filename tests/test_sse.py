"""Server-sent events: the event format, and ``EventStream`` responses on both client paths."""

from __future__ import annotations

import asyncio
import typing as t
from collections.abc import AsyncIterator, Iterator

import pytest

from erlen import Erlen, request
from erlen.sse import EventStream, ServerSentEvent, encode_event
from erlen.testing import ErlenClient


def test_full_event_encoding() -> None:
    event = ServerSentEvent(
        data="first line\nsecond line",
        event="update",
        id="42",
        retry=1500,
        comment="a comment",
    )
    assert event.encode() == (
        ": a comment\nevent: update\nid: 42\nretry: 1500\ndata: first line\ndata: second line\n\n"
    )


def test_data_line_breaks_of_every_kind() -> None:
    encoded = ServerSentEvent(data="a\r\nb\rc\nd").encode()
    assert encoded == "data: a\ndata: b\ndata: c\ndata: d\n\n"


def test_empty_and_partial_events() -> None:
    assert ServerSentEvent(data="").encode() == "data: \n\n"
    assert ServerSentEvent(comment="keep\nalive").encode() == ": keep\n: alive\n\n"
    assert ServerSentEvent(retry=3000).encode() == "retry: 3000\n\n"
    assert ServerSentEvent(data="x", event="tick").encode() == "event: tick\ndata: x\n\n"


@pytest.mark.parametrize(
    "fields",
    [{"event": "two\nlines"}, {"event": "cr\rhere"}, {"id": "1\n2"}, {"id": "a\r\nb"}],
)
def test_line_breaks_in_event_or_id_are_refused(fields: dict[str, t.Any]) -> None:
    with pytest.raises(ValueError, match="line break"):
        ServerSentEvent(data="payload", **fields).encode()


def test_encode_event_accepts_events_dicts_and_strings() -> None:
    assert encode_event("plain text") == "data: plain text\n\n"
    assert encode_event({"data": "d", "event": "e", "id": "7"}) == "event: e\nid: 7\ndata: d\n\n"
    event = ServerSentEvent(data="same", id="1")
    assert encode_event(event) == event.encode() == "id: 1\ndata: same\n\n"
    with pytest.raises(TypeError):
        encode_event({"unknown_field": "x"})


def test_event_stream_headers() -> None:
    response = EventStream(iter(["a"]), status=201, headers={"X-Stream": "yes"})
    assert response.status_code == 201
    assert response.mimetype == "text/event-stream"
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["X-Accel-Buffering"] == "no"
    assert response.headers["X-Stream"] == "yes"
    assert response.is_streamed


def _parse(body: str) -> list[dict[str, str]]:
    """Parse a text/event-stream body into events (each a dict of its last field values)."""
    events = []
    for block in body.split("\n\n"):
        if not block:
            continue
        fields: dict[str, str] = {}
        for line in block.split("\n"):
            name, _, value = line.partition(": ")
            fields[name] = (
                f"{fields[name]}\n{value}" if name == "data" and name in fields else value
            )
        events.append(fields)
    return events


def test_sync_generator_stream(app: Erlen, client: ErlenClient) -> None:
    @app.get("/events")
    def events() -> EventStream:
        count = request.args.get("n", 3, type=int)

        def generate() -> Iterator[t.Any]:
            # The request stays readable while the body is produced.
            topic = request.args["topic"]
            for index in range(count):
                yield ServerSentEvent(data=f"{topic} {index}", id=str(index))
            yield {"data": "dict event", "event": "done"}
            yield "last"

        return EventStream(generate())

    response = client.get("/events?n=2&topic=news")
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    assert response.headers["Cache-Control"] == "no-cache"
    assert _parse(response.text) == [
        {"id": "0", "data": "news 0"},
        {"id": "1", "data": "news 1"},
        {"event": "done", "data": "dict event"},
        {"data": "last"},
    ]


def test_async_generator_stream(app: Erlen, client: ErlenClient) -> None:
    closed: list[bool] = []

    @app.get("/aevents")
    async def aevents() -> EventStream:
        async def generate() -> AsyncIterator[t.Any]:
            try:
                for index in range(3):
                    await asyncio.sleep(0)
                    yield ServerSentEvent(
                        data=f"{request.path} {request.args['who']} {index}\nsecond line",
                        event="tick",
                    )
            finally:
                closed.append(True)

        return EventStream(generate())

    response = client.get("/aevents?who=ada")
    assert response.headers["Content-Type"].startswith("text/event-stream")
    assert _parse(response.text) == [
        {"event": "tick", "data": f"/aevents ada {index}\nsecond line"} for index in range(3)
    ]
    assert closed == [True]


def test_pings_while_the_producer_is_slow(app: Erlen, client: ErlenClient) -> None:
    @app.get("/slow")
    def slow() -> EventStream:
        async def generate() -> AsyncIterator[str]:
            yield "first"
            await asyncio.sleep(0.3)  # many ping intervals without an event
            yield "second"

        return EventStream(generate(), ping_interval=0.02)

    body = client.get("/slow").text
    first, second = body.index("data: first\n\n"), body.index("data: second\n\n")
    assert first < body.index(": ping\n\n", first) < second
    assert not body.startswith(": ping")  # the first event came at once
    assert [e for e in _parse(body) if "data" in e] == [{"data": "first"}, {"data": "second"}]


def test_no_pings_when_events_keep_coming(app: Erlen, client: ErlenClient) -> None:
    @app.get("/fast")
    def fast() -> EventStream:
        async def generate() -> AsyncIterator[str]:
            for index in range(5):
                yield str(index)

        return EventStream(generate(), ping_interval=30)

    body = client.get("/fast").text
    assert ": ping" not in body
    assert [e["data"] for e in _parse(body)] == ["0", "1", "2", "3", "4"]
