"""Channels on a real Redis (erlen.channels.redis_streams): order, history by id, publishing
from a thread, fan-out to many subscribers, and a Redis restart in the middle of a stream."""

from __future__ import annotations

import asyncio
import itertools
import threading
import typing as t

import pytest
from support.channels import take
from support.redis_server import RedisServer

from erlen import Erlen
from erlen.channels import Channels, ChannelsUnavailable, Message, SubscriberTooSlow

WAIT = 10.0
_names = itertools.count()


@pytest.fixture
def channels(redis_server: RedisServer) -> Channels:
    app = Erlen("redis_channels")
    app.config.update(CHANNELS_URL=redis_server.url, CHANNELS_HISTORY=5000)
    return Channels(app)


def _channel() -> str:
    return f"test-{next(_names)}"


async def _take(subscription: t.AsyncIterator[Message], count: int) -> list[Message]:
    return await take(subscription, count, WAIT)


def test_messages_come_in_order_after_the_last_id(channels: Channels) -> None:
    channel = _channel()
    start = channels.publish(channel, "before")

    async def main() -> list[str]:
        subscription = channels.subscribe(channel, last_id=start)
        for text in ("a", "b", "c"):
            await channels.apublish(channel, text)
        return [message.data for message in await _take(subscription, 3)]

    assert asyncio.run(main()) == ["a", "b", "c"]


def test_last_id_then_subscribe_delivers_exactly_what_came_after(channels: Channels) -> None:
    channel = _channel()
    assert channels.last_id(channel) == "0"
    channels.publish(channel, "shown by the page")
    rendered = channels.last_id(channel)
    channels.publish(channel, "after the render")

    async def main() -> list[str]:
        return [m.data for m in await _take(channels.subscribe(channel, last_id=rendered), 1)]

    assert asyncio.run(main()) == ["after the render"]


def test_history_by_id_for_a_reconnecting_client(channels: Channels) -> None:
    channel = _channel()
    ids = [channels.publish(channel, f"post {index}") for index in range(5)]

    async def main() -> list[str]:
        return [m.data for m in await _take(channels.subscribe(channel, last_id=ids[2]), 2)]

    assert asyncio.run(main()) == ["post 3", "post 4"]


def test_a_subscription_without_an_id_starts_at_its_first_read(channels: Channels) -> None:
    channel = _channel()
    channels.publish(channel, "old")

    async def main() -> list[str]:
        subscription = channels.subscribe(channel)
        reading = asyncio.ensure_future(_take(subscription, 1))
        await asyncio.sleep(0.3)  # the first read is waiting
        await channels.apublish(channel, "new")
        return [message.data for message in await reading]

    assert asyncio.run(main()) == ["new"]


def test_a_thread_publishes_to_an_async_subscriber(channels: Channels) -> None:
    channel = _channel()
    start = channels.publish(channel, "start")

    async def main() -> list[str]:
        subscription = channels.subscribe(channel, last_id=start)

        def publish_all() -> None:
            for index in range(50):
                channels.publish(channel, str(index))

        thread = threading.Thread(target=publish_all)
        thread.start()
        messages = await _take(subscription, 50)
        thread.join(WAIT)
        return [message.data for message in messages]

    assert asyncio.run(main()) == [str(index) for index in range(50)]


def test_a_thousand_messages_reach_a_hundred_subscribers_in_order(channels: Channels) -> None:
    channel = _channel()
    start = channels.publish(channel, "start")

    async def main() -> list[list[str]]:
        subscriptions = [channels.subscribe(channel, last_id=start) for _ in range(100)]
        waiting = [asyncio.ensure_future(_take(sub, 1000)) for sub in subscriptions]
        for index in range(1000):
            await channels.apublish(channel, str(index))
        results = await asyncio.gather(*waiting)
        return [[message.data for message in messages] for messages in results]

    expected = [str(index) for index in range(1000)]
    results = asyncio.run(main())
    assert len(results) == 100
    assert all(received == expected for received in results)


def test_a_redis_restart_mid_stream(redis_server: RedisServer, channels: Channels) -> None:
    """Publishing while Redis is down raises ChannelsUnavailable; a subscriber waits, and once
    Redis is back it reads on from where it was, missing nothing Redis kept."""
    channel = _channel()
    start = channels.publish(channel, "start")

    async def main() -> list[str]:
        subscription = channels.subscribe(channel, last_id=start)
        first = await _take(subscription, 1) if await _published(channels, channel, "one") else []
        redis_server.stop()
        with pytest.raises(ChannelsUnavailable):
            channels.publish(channel, "lost")
        await asyncio.sleep(0.5)  # the subscriber meets the closed connection and retries
        await asyncio.to_thread(redis_server.start)
        channels.publish(channel, "two")
        second = await _take(subscription, 1)
        return [message.data for message in first + second]

    assert asyncio.run(main()) == ["one", "two"]


async def _published(channels: Channels, channel: str, data: str) -> bool:
    await channels.apublish(channel, data)
    return True


def test_a_slow_subscriber_is_dropped_and_can_catch_up(redis_server: RedisServer) -> None:
    """A subscriber 10 messages behind is dropped without delaying the others; subscribing
    again from the last id it received gives exactly what it missed."""
    app = Erlen("slow_redis")
    app.config.update(CHANNELS_URL=redis_server.url, CHANNELS_QUEUE_SIZE=10)
    channels = Channels(app)
    channel = _channel()
    start = channels.publish(channel, "start")

    async def main() -> tuple[list[str], list[str], list[str]]:
        slow = channels.subscribe(channel, last_id=start)
        first = await _take(slow, 1) if await _published(channels, channel, "0") else []
        fast = asyncio.ensure_future(_take(channels.subscribe(channel, last_id=first[0].id), 49))
        for index in range(1, 50):  # the slow one reads nothing meanwhile
            await channels.apublish(channel, str(index))
        received = [message.data for message in await fast]
        slow_received = [first[0].data]

        async def drain() -> None:
            async for message in slow:
                slow_received.append(message.data)

        with pytest.raises(SubscriberTooSlow) as dropped:
            await asyncio.wait_for(drain(), WAIT)
        assert dropped.value.last_id is not None
        missed = 49 - int(slow_received[-1])
        again = channels.subscribe(channel, last_id=dropped.value.last_id)
        caught_up = [message.data for message in await _take(again, missed)]
        return received, slow_received, caught_up

    received, slow_received, caught_up = asyncio.run(main())
    assert received == [str(index) for index in range(1, 50)]
    assert len(slow_received) < 50  # dropped on the way
    assert slow_received + caught_up == [str(index) for index in range(50)]
