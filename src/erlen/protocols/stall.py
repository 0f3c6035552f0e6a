"""Stall timeouts of ASGI request bodies, without a task or a timer per request.

A body that stops arriving for ``BODY_READ_TIMEOUT`` seconds gets a 408: its reading task is
cancelled, and ``Task.uncancel()`` (Python 3.11+) tells that cancellation apart from one from
outside.
"""

from __future__ import annotations

import asyncio
import contextvars
import typing as t
import weakref


class Stall:
    """A body being read under a stall timeout: its task is cancelled (``expired``) at
    ``deadline``, which each message moves ``timeout`` seconds on."""

    __slots__ = ("deadline", "expired", "task", "timeout")

    def __init__(self, task: asyncio.Task[t.Any], timeout: float, deadline: float) -> None:
        self.task = task
        self.timeout = timeout
        self.deadline = deadline
        self.expired = False


class Watchdog:
    """The stall timeouts of the bodies being read on one loop, kept by one timer.

    A timer per body would cost a heap push and pop per request (and keep the request alive in
    the loop's heap until popped). This one is set for the earliest deadline known; moving a
    deadline later needs nothing, and when the timer fires it cancels the tasks past theirs and
    is set again for the earliest remaining one. Only that pending timer (and the bodies being
    read) keep the watchdog alive, so none outlives its loop.
    """

    __slots__ = ("__weakref__", "handle", "loop", "stalls", "when")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.stalls: set[Stall] = set()
        self.handle: asyncio.TimerHandle | None = None
        self.when = 0.0

    def watch(self, stall: Stall) -> None:
        self.stalls.add(stall)
        if self.handle is None or stall.deadline < self.when:
            self._set(stall.deadline)

    def _set(self, when: float) -> None:
        if self.handle is not None:
            self.handle.cancel()
        self.when = when
        # An empty context: a copy of the current one would keep this request's objects alive.
        self.handle = self.loop.call_at(when, self._fire, context=contextvars.Context())

    def _fire(self) -> None:
        self.handle = None
        now = self.loop.time()
        earliest: float | None = None
        for stall in self.stalls:
            if stall.expired:
                continue
            if stall.deadline <= now:
                stall.expired = True
                stall.task.cancel()  # the task leaves the set once it runs again
            elif earliest is None or stall.deadline < earliest:
                earliest = stall.deadline
        if earliest is not None:
            self._set(earliest)


# By id(loop): a watchdog refers to its loop, which as a key would then never be released.
_watchdogs: weakref.WeakValueDictionary[int, Watchdog] = weakref.WeakValueDictionary()


def watchdog_for(loop: asyncio.AbstractEventLoop) -> Watchdog:
    watchdog = _watchdogs.get(id(loop))
    if watchdog is None or watchdog.loop is not loop:
        watchdog = _watchdogs[id(loop)] = Watchdog(loop)
    return watchdog
