"""Channels in this process's memory: the default backend.

Each subscriber has a queue on its own event loop; a publish from any thread appends the
message to the channel's history and hands it to every subscriber's loop, under one lock, so
each subscriber receives a channel's messages in the order of their ids. A subscriber whose
queue holds ``queue_size`` messages it has not read is dropped (:exc:`SubscriberTooSlow`):
publishing never waits for a reader.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections import deque
from collections.abc import AsyncIterator

from .messages import Message, SubscriberTooSlow


class _Subscriber:
    __slots__ = ("dropped", "loop", "queue", "queue_size")

    def __init__(self, loop: asyncio.AbstractEventLoop, queue_size: int) -> None:
        self.loop = loop
        self.queue: asyncio.Queue[Message | None] = asyncio.Queue()
        self.queue_size = queue_size
        self.dropped = False

    def offer(self, message: Message) -> None:
        """On the subscriber's loop: queue ``message``, or drop a reader too far behind (a
        ``None`` tells it)."""
        if self.dropped:
            return
        if self.queue.qsize() >= self.queue_size:
            self.dropped = True
            self.queue.put_nowait(None)
            return
        self.queue.put_nowait(message)


class MemoryBackend:
    """The in-memory backend: ``history`` messages kept per channel, ``queue_size`` unread
    messages per subscriber at most."""

    def __init__(self, history: int, queue_size: int) -> None:
        self._history: dict[str, deque[Message]] = {}
        self._subscribers: dict[str, set[_Subscriber]] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._history_size = history
        self._queue_size = queue_size

    def publish(self, channel: str, data: str) -> str:
        with self._lock:
            message = Message(str(next(self._ids)), channel, data)
            history = self._history.get(channel)
            if history is None:
                history = self._history[channel] = deque(maxlen=self._history_size)
            history.append(message)
            for subscriber in list(self._subscribers.get(channel, ())):
                if subscriber.dropped:  # (also one that was never read)
                    self._subscribers[channel].discard(subscriber)
                    continue
                try:
                    subscriber.loop.call_soon_threadsafe(subscriber.offer, message)
                except RuntimeError:  # its loop is closed: nobody reads any more
                    self._subscribers[channel].discard(subscriber)
        return message.id

    def last_id(self, channel: str) -> str:
        with self._lock:
            history = self._history.get(channel)
            return history[-1].id if history else "0"

    async def apublish(self, channel: str, data: str) -> str:
        return self.publish(channel, data)  # never waits: no need to leave the loop

    def subscribe(self, channel: str, last_id: str | None) -> AsyncIterator[Message]:
        """Subscribe now (from async code: the subscriber's queue is on the running loop);
        the messages come when the iterator is read."""
        subscriber = _Subscriber(asyncio.get_running_loop(), self._queue_size)
        with self._lock:  # registered and history taken at once: nothing falls in between
            self._subscribers.setdefault(channel, set()).add(subscriber)
            missed = list(self._history.get(channel, ())) if last_id is not None else []
        return self._follow(channel, subscriber, missed, _id_number(last_id))

    async def _follow(
        self, channel: str, subscriber: _Subscriber, missed: list[Message], seen: int
    ) -> AsyncIterator[Message]:
        try:
            for message in missed:
                if int(message.id) > seen:
                    seen = int(message.id)
                    yield message
            while True:
                queued = await subscriber.queue.get()
                if queued is None:
                    raise SubscriberTooSlow(channel, str(seen) if seen else None)
                if int(queued.id) > seen:  # (one published while the history was read)
                    seen = int(queued.id)
                    yield queued
        finally:
            with self._lock:
                subscribers = self._subscribers.get(channel)
                if subscribers is not None:
                    subscribers.discard(subscriber)


def _id_number(last_id: str | None) -> int:
    """The number of an id a client sent back; 0 (everything the history holds) if none, or
    if it is not one of ours."""
    try:
        return max(int(last_id or 0), 0)
    except ValueError:
        return 0
