"""The background event loop: where erlen runs async code that sync callers start.

Sync code that has no event loop of its own sometimes starts async work that must outlive the
call, or must share a loop with other async work: the startup functions and background tasks of
an app served by a WSGI server (their objects, a connection pool for example, live on the loop
they were made on, and the app's async views are run there), the ASGI test client's requests
(whose background tasks go on after the response) and the test client's WebSocket sessions.
All of them run on one loop, in a daemon thread of its own, started on first use and shared by
every app of the process: one thread, however many apps a test suite makes.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import functools
import threading
import typing as t
from collections.abc import Coroutine

T = t.TypeVar("T")


class WaitTimeout(TimeoutError):
    """:meth:`BackgroundLoop.run` waited longer than its timeout (the coroutine is cancelled)."""


class BackgroundLoop:
    """An event loop running in a daemon thread, started on first use."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The running loop (started now if it is not running yet)."""
        loop = self._loop
        if loop is None or not loop.is_running():
            with self._lock:
                if self._loop is None or self._thread is None or not self._thread.is_alive():
                    self._start()
            loop = self._loop
            assert loop is not None
        return loop

    def _start(self) -> None:
        loop = asyncio.new_event_loop()
        started = threading.Event()
        loop.call_soon(started.set)
        thread = threading.Thread(target=loop.run_forever, name=self.name, daemon=True)
        thread.start()
        started.wait(10)
        self._loop, self._thread = loop, thread

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the loop and its thread (tasks still running are abandoned); the next use
        starts a new one."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        if not thread.is_alive():
            loop.close()

    def in_its_thread(self) -> bool:
        """Whether the caller runs on this loop's own thread (where waiting for it would hang)."""
        return self._thread is not None and threading.current_thread() is self._thread

    def submit(
        self,
        coro: Coroutine[t.Any, t.Any, T],
        context: contextvars.Context | None = None,
    ) -> concurrent.futures.Future[T]:
        """Start ``coro`` as a task on the loop, in a copy of ``context`` when given (else of an
        empty one), and return a future of its result for any thread to wait on; cancelling
        the future cancels the task."""
        loop = self.loop
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def start() -> None:
            if future.cancelled():  # (left pending until settled, so that the waiter may cancel)
                coro.close()
                return
            task = loop.create_task(coro)  # copies the context this callback runs in
            task.add_done_callback(functools.partial(_settle, future))
            future.add_done_callback(
                lambda done: done.cancelled() and loop.call_soon_threadsafe(task.cancel)
            )

        loop.call_soon_threadsafe(start, context=context or contextvars.Context())
        return future

    def run(
        self,
        coro: Coroutine[t.Any, t.Any, T],
        context: contextvars.Context | None = None,
        timeout: float | None = None,
    ) -> T:
        """Run ``coro`` on the loop and wait for its result here (not from the loop's thread)."""
        if self.in_its_thread():
            coro.close()
            raise RuntimeError(
                f"Waiting for the {self.name} loop from its own thread would never end: await"
                " the coroutine there instead."
            )
        future = self.submit(coro, context)
        done, _ = concurrent.futures.wait([future], timeout)
        if not done:
            future.cancel()
            raise WaitTimeout(f"The coroutine did not end within {timeout} s; it was cancelled.")
        return future.result()


def _settle(future: concurrent.futures.Future[T], task: asyncio.Task[T]) -> None:
    if task.cancelled():
        future.cancel()
        return
    with contextlib.suppress(concurrent.futures.InvalidStateError):  # the waiter cancelled it
        if (error := task.exception()) is not None:
            future.set_exception(error)
        else:
            future.set_result(task.result())


_shared = BackgroundLoop("erlen-background")


def background_loop() -> BackgroundLoop:
    """The process's background loop, shared by every app."""
    return _shared
