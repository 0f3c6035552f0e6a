"""The threads that run sync code for the event loop under ASGI: a ``def`` view, its hooks, a
sync generator's iteration.

A call is handed over with as little work as the machine allows, since a ``def`` view pays for it
on every request: the loop puts the call on a queue (C code) that an idle thread is blocked on,
and the thread, once done, schedules the result on the loop (one ``call_soon_threadsafe``).
``loop.run_in_executor`` with a ``ThreadPoolExecutor`` does the same with several times the
Python code in between (a ``concurrent.futures.Future`` chained to an asyncio one, a semaphore to
find an idle thread): bench/RESULTS.md, the ``def`` rows under ASGI.

The pool is bounded: at most ``limit`` threads, started when a call finds none idle; a call
made while all are busy waits in the queue for the first one free. The threads are daemons,
and are stopped (each finishing its call) when the interpreter exits.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import contextvars
import os
import queue
import threading
import time
import typing as t
from collections.abc import Callable

T = t.TypeVar("T")

# What a thread takes from the queue: the loop to answer on, the future to settle, and the call.
_Call = tuple[
    asyncio.AbstractEventLoop,
    "asyncio.Future[t.Any]",
    contextvars.Context,
    Callable[..., t.Any],
    tuple[t.Any, ...],
]


class WorkerThreads:
    """A bounded pool of threads that run sync calls for event loops (see the module)."""

    def __init__(self, limit: int, name: str) -> None:
        self.limit = limit
        self.name = name
        self._calls: queue.SimpleQueue[_Call | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0  # threads waiting for a call, less the calls put for them
        self._threads: list[threading.Thread] = []

    def submit(
        self, context: contextvars.Context, func: Callable[..., T], /, *args: t.Any
    ) -> asyncio.Future[T]:
        """Run ``context.run(func, *args)`` in a thread; the future of the running loop that
        gets its result or exception. Cancelling the future does not stop the call."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        with self._lock:
            if self._idle:
                self._idle -= 1
                start = False
            else:
                start = len(self._threads) < self.limit
                if start:
                    thread = threading.Thread(
                        target=self._serve,
                        name=f"{self.name}_{len(self._threads)}",
                        daemon=True,
                    )
                    self._threads.append(thread)
        self._calls.put((loop, future, context, func, args))
        if start:
            thread.start()
        return future

    def _serve(self) -> None:
        take = self._calls.get
        settle: Callable[[asyncio.Future[t.Any], t.Any], None]
        while True:
            call = take()
            if call is None:  # stop
                return
            loop, future, context, func, args = call
            try:
                outcome = context.run(func, *args)
                settle = _succeed
            except BaseException as error:  # handed to the awaiting code, as an executor does
                outcome, settle = error, _fail
            # Idle before the loop hears of it: its next call may be put for this thread.
            with self._lock:
                self._idle += 1
            _answer(loop, settle, future, outcome)
            del call, loop, future, context, func, args, outcome  # (nothing kept while idle)

    def stop(self, timeout: float = 5.0) -> None:
        """Let every thread finish its call and end (at interpreter exit), waiting at most
        ``timeout`` seconds in all."""
        with self._lock:
            threads, self._threads = self._threads, []
            self._idle = 0
        for _thread in threads:
            self._calls.put(None)
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _forget_threads(self) -> None:
        """In a child process after ``fork``: the parent's threads are not there."""
        self._calls = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0
        self._threads = []


def _answer(
    loop: asyncio.AbstractEventLoop,
    settle: Callable[[asyncio.Future[t.Any], t.Any], None],
    future: asyncio.Future[t.Any],
    outcome: t.Any,
) -> None:
    with contextlib.suppress(RuntimeError):  # the loop was closed meanwhile: nobody waits
        loop.call_soon_threadsafe(settle, future, outcome)


def _succeed(future: asyncio.Future[t.Any], result: t.Any) -> None:
    if not future.cancelled():
        future.set_result(result)


def _fail(future: asyncio.Future[t.Any], error: BaseException) -> None:
    if future.cancelled():
        return
    if isinstance(error, StopIteration):  # (a future refuses it: it would end a coroutine)
        wrapped = RuntimeError("A sync function raised StopIteration.")
        wrapped.__cause__ = error
        error = wrapped
    future.set_exception(error)


#: Threads in the pool that runs sync views and hooks under an ASGI server.
WORKER_THREADS = 40

#: The pool of the process.
worker_threads = WorkerThreads(WORKER_THREADS, "erlen-worker")
atexit.register(worker_threads.stop)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=worker_threads._forget_threads)
