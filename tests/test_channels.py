"""Channels (erlen.channels): publish and subscribe in memory, history by id, slow readers, and
a server-sent event stream of a channel on both protocols."""

from __future__ import annotations

import asyncio
import threading
import typing as t

import pytest
from support.asgi_scopes import http_scope
from support.channels import take

from erlen import Erlen, request
from erlen.channels import Channels, Message, SubscriberTooSlow

if t.TYPE_CHECKING:
    from erlen.typing import Message as ASGIMessage

WAIT = 10.0


def _channels(**config: t.Any) -> Channels:
    app = Erlen("channels_app")
    app.config.update(config)
    return Channels(app)


async def _take(subscription: t.AsyncIterator[Message], count: int) -> list[Message]:
    return await take(subscription, count, WAIT)


def test_subscribers_get_each_message_in_order_with_increasing_ids() -> None:
    channels = _channels()

    async def main() -> list[Message]:
        subscription = channels.subscribe("posts")
        waiting = asyncio.ensure_future(_take(subscription, 3))
        await asyncio.sleep(0)  # subscribed
        for text in ("a", "b", "c"):
            await channels.apublish("posts", text)
        channels.publish("other", "not for this channel")
        return await waiting

    messages = asyncio.run(main())
    assert [message.data for message in messages] == ["a", "b", "c"]
    assert [int(message.id) for message in messages] == sorted(int(m.id) for m in messages)
    assert {message.channel for message in messages} == {"posts"}


def test_a_subscriber_with_a_last_id_catches_up_from_the_history() -> None:
    channels = _channels(CHANNELS_HISTORY=3)
    ids = [channels.publish("posts", f"post {index}") for index in range(5)]

    async def main() -> tuple[list[str], list[str]]:
        caught_up = await _take(channels.subscribe("posts", last_id=ids[2]), 2)
        # An id older than the history: what the history still holds (the last 3).
        older = channels.subscribe("posts", last_id=ids[0])
        return [m.data for m in caught_up], [m.data for m in await _take(older, 3)]

    caught_up, from_history = asyncio.run(main())
    assert caught_up == ["post 3", "post 4"]
    assert from_history == ["post 2", "post 3", "post 4"]


def test_last_id_then_subscribe_delivers_exactly_what_came_after() -> None:
    channels = _channels()
    assert channels.last_id("posts") == "0"  # before the first message: from the start
    channels.publish("posts", "shown by the page")
    rendered = channels.last_id("posts")
    channels.publish("posts", "after the render")

    async def main() -> list[str]:
        return [m.data for m in await _take(channels.subscribe("posts", last_id=rendered), 1)]

    assert asyncio.run(main()) == ["after the render"]


def test_publish_works_from_a_thread_without_a_loop() -> None:
    channels = _channels()

    async def main() -> list[str]:
        subscription = channels.subscribe("jobs")
        waiting = asyncio.ensure_future(_take(subscription, 50))
        await asyncio.sleep(0)

        def publish_all() -> None:
            for index in range(50):
                channels.publish("jobs", str(index))

        thread = threading.Thread(target=publish_all)
        thread.start()
        messages = await waiting
        thread.join(WAIT)
        return [message.data for message in messages]

    assert asyncio.run(main()) == [str(index) for index in range(50)]


def test_a_thousand_messages_reach_a_hundred_subscribers_in_order() -> None:
    channels = _channels(CHANNELS_QUEUE_SIZE=2000)

    async def main() -> list[list[str]]:
        subscriptions = [channels.subscribe("feed") for _ in range(100)]
        waiting = [asyncio.ensure_future(_take(sub, 1000)) for sub in subscriptions]
        await asyncio.sleep(0)
        for index in range(1000):
            channels.publish("feed", str(index))
        results = await asyncio.gather(*waiting)
        return [[message.data for message in messages] for messages in results]

    expected = [str(index) for index in range(1000)]
    assert all(received == expected for received in asyncio.run(main()))


def test_a_slow_subscriber_is_dropped_and_the_others_get_everything() -> None:
    channels = _channels(CHANNELS_QUEUE_SIZE=10)

    async def main() -> tuple[list[str], SubscriberTooSlow]:
        slow = channels.subscribe("feed")
        first = await _take_after_publish(channels, slow)
        fast = asyncio.ensure_future(_take(channels.subscribe("feed"), 50))
        await asyncio.sleep(0)
        for index in range(50):  # the slow one reads nothing meanwhile
            channels.publish("feed", str(index))
            await asyncio.sleep(0)
        received = [message.data for message in await fast]

        async def drain() -> None:
            async for _message in slow:
                pass

        with pytest.raises(SubscriberTooSlow) as dropped:
            await asyncio.wait_for(drain(), WAIT)
        assert first.data == "hello"
        return received, dropped.value

    received, error = asyncio.run(main())
    assert received == [str(index) for index in range(50)]
    assert error.channel == "feed" and error.last_id is not None


async def _take_after_publish(
    channels: Channels, subscription: t.AsyncIterator[Message]
) -> Message:
    waiting = asyncio.ensure_future(_take(subscription, 1))
    await asyncio.sleep(0)
    channels.publish("feed", "hello")
    return (await waiting)[0]


def test_an_unknown_backend_is_refused_clearly() -> None:
    with pytest.raises(ValueError, match="names no backend"):
        _channels(CHANNELS_URL="kafka://somewhere")


def test_channels_without_an_app_say_so() -> None:
    with pytest.raises(RuntimeError, match="no app"):
        Channels().publish("posts", "x")


# --- a server-sent event stream of a channel ------------------------------------------------


def _live_app() -> tuple[Erlen, Channels]:
    app = Erlen("live_app")
    app.config.update(SECRET_KEY="test-secret-key-with-enough-entropy-0123", TESTING=True)
    channels = Channels(app)

    @app.get("/live")
    def live() -> object:
        return channels.event_stream(
            "posts", last_id=request.headers.get("Last-Event-ID"), ping_interval=None
        )

    return app, channels


def test_the_event_stream_catches_up_and_follows_under_wsgi() -> None:
    app, channels = _live_app()
    for text in ("one", "two", "three"):
        channels.publish("posts", text)
    response = app.test_client().get("/live", headers={"Last-Event-ID": "1"}, buffered=False)
    chunks = iter(response.response)
    assert next(chunks) == b"id: 2\ndata: two\n\n"
    assert next(chunks) == b"id: 3\ndata: three\n\n"
    channels.publish("posts", "four")
    assert next(chunks) == b"id: 4\ndata: four\n\n"
    response.close()


def test_the_event_stream_catches_up_and_follows_under_asgi() -> None:
    app, channels = _live_app()
    for text in ("one", "two", "three"):
        channels.publish("posts", text)
    bodies: list[bytes] = []

    async def main() -> None:
        enough = asyncio.Event()
        requested = False

        async def receive() -> ASGIMessage:
            nonlocal requested
            if not requested:
                requested = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await enough.wait()
            return {"type": "http.disconnect"}

        async def send(message: ASGIMessage) -> None:
            if message["type"] == "http.response.body" and message.get("body"):
                bodies.append(message["body"])
                if len(bodies) == 2:
                    channels.publish("posts", "four")
                if len(bodies) == 3:
                    enough.set()

        scope = http_scope("/live", (b"last-event-id", b"1"), method="GET")
        await asyncio.wait_for(app.asgi_app(scope, receive, send), WAIT)

    asyncio.run(main())
    assert bodies == [b"id: 2\ndata: two\n\n", b"id: 3\ndata: three\n\n", b"id: 4\ndata: four\n\n"]
