"""Channels on Redis, for apps served by several workers or machines.

Each channel is a Redis stream: publishing is ``XADD`` (trimmed to about ``history`` entries),
and each subscriber reads the stream after the last id it received with ``XREAD BLOCK``. One
mechanism gives fan-out, order and history alike, and a subscriber never loses its place: when
Redis goes away it retries (waiting 0.1 s, doubling up to 2 s) and reads on from its last id
once Redis is back, so nothing published in between is missed as long as Redis kept the stream
(a Redis without persistence that restarts loses it). A slow subscriber only lags behind; one
that falls more than ``history`` messages behind misses what was trimmed.

Each waiting subscriber holds a connection of its loop's client (``MAX_CONNECTIONS``).
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

from .messages import ChannelsUnavailable, Message

#: How long one XREAD waits for news before it asks again (milliseconds).
BLOCK_MS = 5_000
#: Connections of one loop's client at most: a waiting subscriber holds one (Redis allows
#: 10,000 clients by default).
MAX_CONNECTIONS = 2_000
RETRY_FIRST = 0.1
RETRY_MOST = 2.0


class RedisBackend:
    """Channels in the Redis at ``url``; about ``history`` messages kept per channel."""

    def __init__(self, url: str, history: int) -> None:
        self._url = url
        self._history = history
        self._sync: redis.Redis | None = None
        self._lock = threading.Lock()
        self._clients: dict[asyncio.AbstractEventLoop, redis.asyncio.Redis] = {}

    def publish(self, channel: str, data: str) -> str:
        with self._lock:
            if self._sync is None:
                self._sync = redis.Redis.from_url(self._url, decode_responses=True)
            client = self._sync
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
        position = last_id if last_id is not None else await self._end_of(client, channel)
        delay = RETRY_FIRST
        while True:
            try:
                found: t.Any = await client.xread({channel: position}, block=BLOCK_MS)
            except (redis.ConnectionError, redis.TimeoutError, OSError):
                await asyncio.sleep(delay)  # Redis is away: wait and read on from position
                delay = min(delay * 2, RETRY_MOST)
                continue
            delay = RETRY_FIRST
            # [[stream, entries]] (RESP2), or {stream: entries} (RESP3)
            for _stream, entries in found.items() if isinstance(found, dict) else found or ():
                for entry_id, fields in entries:
                    position = entry_id
                    yield Message(entry_id, channel, fields.get("data", ""))

    async def _end_of(self, client: redis.asyncio.Redis, channel: str) -> str:
        """The id of a channel's last message, to read what comes after it ("0" if empty);
        retried while Redis is away."""
        delay = RETRY_FIRST
        while True:
            try:
                last = await client.xrevrange(channel, count=1)
            except (redis.ConnectionError, redis.TimeoutError, OSError):
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MOST)
                continue
            return str(last[0][0]) if last else "0"

    def _client(self) -> redis.asyncio.Redis:
        """The asyncio client of the running loop (a client belongs to one loop)."""
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = self._clients[loop] = redis.asyncio.Redis.from_url(
                self._url, decode_responses=True, max_connections=MAX_CONNECTIONS
            )
        return client
