"""Channels on Redis, for apps served by several workers or machines.

Each channel is a Redis stream: publishing is ``XADD`` (trimmed to about ``history`` entries),
and each subscriber reads the stream after the last id it received with ``XREAD BLOCK``. One
mechanism gives fan-out, order and history alike, and a subscriber never loses its place: when
Redis goes away it retries (waiting 0.1 s, doubling up to 2 s) and reads on from its last id
once Redis is back, so nothing published in between is missed as long as Redis kept the stream
(a Redis without persistence that restarts loses it). A subscriber more than the queue size
behind is dropped, as in memory (:exc:`~erlen.channels.SubscriberTooSlow`); subscribing again
with its last id catches up from the stream.

One ``XREAD`` per channel and event loop serves all the loop's subscribers of the channel.
Publishing while Redis is unreachable raises :exc:`~erlen.channels.ChannelsUnavailable`.
``publish`` uses redis-py's blocking client (a ``def`` view under WSGI or in a worker thread),
``apublish`` and subscriptions its asyncio client, on the loop that runs them.
"""

from __future__ import annotations

import asyncio
import threading
import typing as t
from collections.abc import AsyncIterator

import redis
import redis.asyncio

from .messages import ChannelsUnavailable, Message, SubscriberTooSlow

#: How long one XREAD waits for news before it asks again (milliseconds).
BLOCK_MS = 5_000
#: Connections of one loop's client at most: one per channel read, and per publish or catch-up
#: at a time.
MAX_CONNECTIONS = 1_000
RETRY_FIRST = 0.1
RETRY_MOST = 2.0


class RedisBackend:
    """Channels in the Redis at ``url``; about ``history`` messages kept per channel."""

    def __init__(self, url: str, history: int, queue_size: int) -> None:
        self._url = url
        self._history = history
        self._queue_size = queue_size
        self._readers: dict[tuple[asyncio.AbstractEventLoop, str], _ChannelReader] = {}
        self._sync: redis.Redis | None = None
        self._lock = threading.Lock()
        self._clients: dict[asyncio.AbstractEventLoop, redis.asyncio.Redis] = {}

    def _sync_client(self) -> redis.Redis:
        with self._lock:
            if self._sync is None:
                self._sync = redis.Redis.from_url(self._url, decode_responses=True)
            return self._sync

    def last_id(self, channel: str) -> str:
        try:
            newest = self._sync_client().xrevrange(channel, count=1)
        except redis.ConnectionError as error:
            raise ChannelsUnavailable(channel, error) from error
        return str(newest[0][0]) if newest else "0"

    def publish(self, channel: str, data: str) -> str:
        client = self._sync_client()
        try:
            message_id = client.xadd(
                channel, {"data": data}, maxlen=self._history, approximate=True
            )
        except redis.ConnectionError as error:
            raise ChannelsUnavailable(channel, error) from error
        return str(message_id)

    async def apublish(self, channel: str, data: str) -> str:
        try:
            message_id = await self._client().xadd(
                channel, {"data": data}, maxlen=self._history, approximate=True
            )
        except redis.ConnectionError as error:
            raise ChannelsUnavailable(channel, error) from error
        return str(message_id)

    def subscribe(self, channel: str, last_id: str | None) -> AsyncIterator[Message]:
        return self._follow(channel, last_id)

    async def _follow(self, channel: str, last_id: str | None) -> AsyncIterator[Message]:
        client = self._client()
        key = (asyncio.get_running_loop(), channel)
        reader = self._readers.get(key)
        if reader is None:
            reader = self._readers[key] = _ChannelReader(client, channel, self._readers, key)
            reader.task = asyncio.ensure_future(reader.run())
        inbox = reader.join(self._queue_size)
        await reader.started.wait()  # its position is known: catch up to it, then follow it
        seen = _order(last_id) if last_id is not None else reader.order
        try:
            if last_id is not None:  # what came after last_id, up to the reader's position
                entries = await _retrying(
                    lambda: client.xrange(channel, min=f"({last_id}", max=reader.position)
                )
                for entry_id, fields in entries:
                    seen = max(seen, _order(entry_id))
                    yield Message(entry_id, channel, (fields or {}).get("data", ""))
            while True:
                queued = await inbox.get()
                if queued is None:
                    raise SubscriberTooSlow(channel, _id(seen))
                if _order(queued.id) > seen:
                    seen = _order(queued.id)
                    yield queued
        finally:
            reader.leave(inbox)

    def _client(self) -> redis.asyncio.Redis:
        """The asyncio client of the running loop (a client belongs to one loop)."""
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = self._clients[loop] = redis.asyncio.Redis.from_url(
                self._url, decode_responses=True, max_connections=MAX_CONNECTIONS
            )
        return client


class _ChannelReader:
    """The one ``XREAD`` of a channel on a loop, handing what it reads to the loop's
    subscribers of the channel: a connection per channel and loop, not per subscriber. It ends
    when its last subscriber leaves."""

    def __init__(
        self,
        client: redis.asyncio.Redis,
        channel: str,
        registry: dict[tuple[asyncio.AbstractEventLoop, str], _ChannelReader],
        key: tuple[asyncio.AbstractEventLoop, str],
    ) -> None:
        self.client = client
        self.channel = channel
        self.registry = registry
        self.key = key
        self.position = "0"
        self.order = (0, 0)
        self.inboxes: dict[asyncio.Queue[Message | None], int] = {}
        self.task: asyncio.Task[None] | None = None
        self.started = asyncio.Event()

    async def run(self) -> None:
        """Read from after the channel's last message (retried while Redis is away), as long
        as a subscriber is there."""
        last = await _retrying(lambda: self.client.xrevrange(self.channel, count=1))
        if last:
            self.position = str(last[0][0])
            self.order = _order(self.position)
        self.started.set()
        await self._read()

    def join(self, queue_size: int) -> asyncio.Queue[Message | None]:
        inbox: asyncio.Queue[Message | None] = asyncio.Queue()
        self.inboxes[inbox] = queue_size
        return inbox

    def leave(self, inbox: asyncio.Queue[Message | None]) -> None:
        self.inboxes.pop(inbox, None)
        if not self.inboxes and self.registry.get(self.key) is self:
            del self.registry[self.key]
            if self.task is not None:
                self.task.cancel()

    async def _read(self) -> None:
        delay = RETRY_FIRST
        while self.inboxes:
            try:
                found: t.Any = await self.client.xread(
                    {self.channel: self.position}, block=BLOCK_MS
                )
            except (redis.ConnectionError, redis.TimeoutError, OSError):
                await asyncio.sleep(delay)  # Redis is away: wait, then read on from position
                delay = min(delay * 2, RETRY_MOST)
                continue
            delay = RETRY_FIRST
            # [[stream, entries]] (RESP2), or {stream: entries} (RESP3)
            for _stream, entries in found.items() if isinstance(found, dict) else found or ():
                for entry_id, fields in entries:
                    self.position, self.order = entry_id, _order(entry_id)
                    self._hand_out(Message(entry_id, self.channel, (fields or {}).get("data", "")))

    def _hand_out(self, message: Message) -> None:
        for inbox, queue_size in list(self.inboxes.items()):
            if inbox.qsize() >= queue_size:  # too far behind: dropped, told by a None
                del self.inboxes[inbox]
                inbox.put_nowait(None)
            else:
                inbox.put_nowait(message)


async def _retrying(call: t.Callable[[], t.Awaitable[t.Any]]) -> t.Any:
    """``call()``, again after a wait (0.1 s, doubling up to 2 s) while Redis is away."""
    delay = RETRY_FIRST
    while True:
        try:
            return await call()
        except (redis.ConnectionError, redis.TimeoutError, OSError):
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MOST)


def _order(message_id: str) -> tuple[int, int]:
    """A stream id (``"1700000000000-3"``) as something to compare; (0, 0) if it is not one."""
    milliseconds, _, sequence = message_id.partition("-")
    try:
        return int(milliseconds), int(sequence or 0)
    except ValueError:
        return 0, 0


def _id(order: tuple[int, int]) -> str | None:
    return f"{order[0]}-{order[1]}" if order != (0, 0) else None
