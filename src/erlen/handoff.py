"""A sync iterable (a ``def`` view's generator) consumed from the event loop, produced in one
worker-thread call through a bounded buffer.

Stepping a generator with one worker round trip per item costs a thread switch each way per
chunk. Here a single worker call runs the whole iteration: it appends items to a buffer of at most
``limit`` items, waiting while the buffer is full, and wakes the loop only when the consumer is
waiting for it, so a fast producer hands over many items per wake-up. When the consumer stops
early (the client went away), the producer stops at its next item, and the iterable is closed in
the worker thread that ran it.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
import typing as t
from collections.abc import AsyncGenerator, Callable, Iterable

from .concurrency import run_in_context

T = t.TypeVar("T")

#: What may wait for the consumer: the producer waits while this many items or bytes (the
#: lengths of the chunks) wait, then adds its next batch (up to 64 items or 64 KiB, and no more
#: than these). With the batch the consumer took and the one the producer makes, the producer
#: is at most five times this far ahead of what was sent.
BUFFER_ITEMS = 1024
BUFFER_BYTES = 256 * 1024


class _Stopped(Exception):
    """The consumer went away: the producer ends."""


class _Buffer(t.Generic[T]):
    """Items from the producer thread to the loop; at most ``limit`` are waiting."""

    def __init__(self, loop: asyncio.AbstractEventLoop, limit: int, byte_limit: int) -> None:
        self.loop = loop
        self.limit = limit
        self.byte_limit = byte_limit
        self.size = 0
        self.lock = threading.Lock()
        self.space = threading.Condition(self.lock)
        self.items: list[T] = []
        self.finished = False
        self.error: BaseException | None = None
        self.stopped = False
        self.waiter: asyncio.Future[None] | None = None

    # --- the producer's side (a worker thread) ---

    def put(self, items: list[T], size: int) -> None:
        """Add ``items`` (of ``size`` bytes), after waiting while the buffer is full."""
        with self.lock:
            while self.items and self._full() and not self.stopped:
                self.space.wait()
            if self.stopped:
                raise _Stopped
            self.items += items
            self.size += size
            waiter, self.waiter = self.waiter, None
        if waiter is not None:
            self.loop.call_soon_threadsafe(_wake, waiter)

    def _full(self) -> bool:
        return len(self.items) >= self.limit or self.size >= self.byte_limit

    def finish(self, error: BaseException | None) -> None:
        with self.lock:
            self.finished = True
            self.error = error
            waiter, self.waiter = self.waiter, None
        if waiter is not None:
            self.loop.call_soon_threadsafe(_wake, waiter)

    # --- the consumer's side (the loop) ---

    async def take(self) -> list[T]:
        """The items produced since the last call, waiting for one; ``[]`` at the end."""
        while True:
            with self.lock:
                if self.items:
                    items, self.items, self.size = self.items, [], 0
                    self.space.notify()
                    return items
                if self.finished:
                    if self.error is not None:
                        raise self.error
                    return []
                waiter = self.waiter = self.loop.create_future()
            await waiter

    def stop(self) -> None:
        with self.lock:
            self.stopped = True
            self.space.notify()


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


async def iterate_from_worker(
    iterable: Iterable[T],
    context: contextvars.Context,
    after: Callable[[BaseException | None], None] | None = None,
    limit: int = BUFFER_ITEMS,
    byte_limit: int = BUFFER_BYTES,
) -> AsyncGenerator[T, None]:
    """Iterate ``iterable`` in one worker call inside ``context``, yielding its
    items on the loop. ``after(error)`` runs in the same worker call once the iterable is done
    and closed (teardown of a streamed response), with what the iteration raised, if anything;
    it must not raise."""
    buffer: _Buffer[T] = _Buffer(asyncio.get_running_loop(), limit, byte_limit)
    producer = run_in_context(context, _produce, iterable, buffer, after)
    try:
        while True:
            items = await buffer.take()
            if not items:
                return
            for item in items:
                yield item
    finally:
        # Not awaited: a generator waiting for its next item (a live feed) may take long to
        # notice. ``after`` reports its own errors.
        buffer.stop()
        producer.add_done_callback(_retrieve)


def _retrieve(producer: asyncio.Future[t.Any]) -> None:
    if not producer.cancelled():
        producer.exception()


def _produce(
    iterable: Iterable[T],
    buffer: _Buffer[T],
    after: Callable[[BaseException | None], None] | None,
) -> None:
    error: BaseException | None = None
    iterator = iter(iterable)
    try:
        # Items go to the buffer in batches, at once while the consumer waits: the lock and a
        # wake-up of the loop per item would cost more than making the item.
        batch: list[T] = []
        size = 0
        most, most_bytes = min(_BATCH, buffer.limit), min(_BATCH_BYTES, buffer.byte_limit)
        for item in iterator:
            batch.append(item)
            size += len(item)  # type: ignore[arg-type]  # chunks: bytes or str
            if buffer.waiter is not None or len(batch) >= most or size >= most_bytes:
                buffer.put(batch, size)
                batch, size = [], 0
        if batch:
            buffer.put(batch, size)
    except _Stopped:
        pass
    except BaseException as exc:
        error = exc
    finally:
        close = getattr(iterator, "close", None)
        try:
            if close is not None:
                close()
        finally:
            try:
                if after is not None:
                    after(error)
            finally:
                buffer.finish(error)


_BATCH = 64
_BATCH_BYTES = 64 * 1024
