"""Sync and async callables, run from one pipeline.

The request pipeline is a coroutine. An *invoker* (:class:`Invoker`) decides how it calls a user
function; each way of serving has one:

- :func:`call_blocking` (WSGI): sync functions are called directly; async ones run to
  completion while this thread blocks, on the loop the app's lifespan ran on when it has one (a
  thread of its own under WSGI), where what startup created lives, else on an event loop owned
  by the current thread and reused. Nothing in the pipeline ever suspends, so :func:`drive`
  finishes it with a single ``send(None)``.
- :class:`WorkerInvoker` (ASGI, a request whose view is async): the pipeline runs on the
  server's loop; async functions are awaited there, sync ones run in a bounded worker thread pool
  (:func:`run_in_worker`) with the context copied, so they never block the loop.
- :class:`LoopHopInvoker` (ASGI, a request whose view is sync): the whole pipeline is driven in
  one worker-thread call, like the WSGI one; sync functions are called there, async ones hop to
  the server's loop.
- :func:`call_awaiting` (the lifecycle's own loop thread under WSGI, which may block): sync
  functions are called directly, async ones awaited.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import threading
import typing as t
import weakref
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from types import CoroutineType

from .globals import _cv_app
from .workers import worker_threads

T = t.TypeVar("T")


class Invoker(t.Protocol):
    """How the pipeline calls a user function (a view, a hook, an error handler): awaiting
    ``invoke(func, *args)`` gives what ``func(*args)`` returns, awaited if it is a coroutine,
    run where this way of serving runs such code."""

    def __call__(
        self, func: Callable[..., t.Any], /, *args: t.Any, **kwargs: t.Any
    ) -> Awaitable[t.Any]: ...


_async_callables: dict[t.Any, bool] = {}


def is_async_callable(func: t.Any) -> bool:
    """Whether calling ``func`` returns a coroutine (async def, partials, ``async __call__``)."""
    try:
        return _async_callables[func]
    except (KeyError, TypeError):
        pass
    target = func
    while isinstance(target, functools.partial):
        target = target.func
    result = inspect.iscoroutinefunction(target) or (
        not inspect.isroutine(target)
        and not inspect.isclass(target)  # calling a class makes an instance
        and inspect.iscoroutinefunction(getattr(target, "__call__", None))  # noqa: B004
    )
    try:
        if len(_async_callables) < 4096:
            _async_callables[func] = result
    except TypeError:  # unhashable callable
        pass
    return result


def drive(coro: Coroutine[t.Any, t.Any, T]) -> T:
    """Run a coroutine that never suspends (the WSGI pipeline) to its end, without a loop."""
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]  # (no t.cast call: once per request)
    coro.close()
    raise RuntimeError("the request pipeline suspended outside an event loop")


class _ThreadLoop(threading.local):
    loop: asyncio.AbstractEventLoop | None = None


_thread_loop = _ThreadLoop()


def run_on_thread_loop(awaitable: Awaitable[T]) -> T:
    """Run ``awaitable`` to completion from sync code, and return its result.

    Where the current app serves from a running loop, it runs there and this thread waits: the
    loop its lifespan ran on (under WSGI, the lifecycle's thread; under ASGI, called from a
    worker thread, the server's loop), so what startup created (a connection pool, a client)
    can be awaited. Otherwise on this thread's own loop, created once and reused. From a thread
    whose loop is already running (an async test calling the WSGI path), on a helper thread,
    with the context copied.
    """
    running = asyncio._get_running_loop()
    serving = _serving_loop()
    if serving is not None and serving is not running:
        return asyncio.run_coroutine_threadsafe(_awaited(awaitable), serving).result()
    if running is not None:
        ctx = contextvars.copy_context()
        with ThreadPoolExecutor(1) as helper:
            call: Callable[[], T] = functools.partial(ctx.run, _run_on_new_loop, awaitable)
            return helper.submit(call).result()
    return _run_on_own_loop(awaitable)


def _run_on_own_loop(awaitable: Awaitable[T]) -> T:
    loop = _thread_loop.loop
    if loop is None or loop.is_closed():
        loop = _thread_loop.loop = asyncio.new_event_loop()
        # Closed (its selector and self-pipe released) once the thread is gone: a thread's
        # locals are dropped without a call, and an unclosed loop waits for the garbage
        # collector, which may finalize its sockets before it.
        weakref.finalize(threading.current_thread(), loop.close)
    return loop.run_until_complete(awaitable)


def _run_on_new_loop(awaitable: Awaitable[T]) -> T:
    """For a helper thread that ends after this call."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(awaitable)
    finally:
        loop.close()


def _serving_loop() -> asyncio.AbstractEventLoop | None:
    """The running loop the current app's lifespan ran on, if any."""
    app_ctx = _cv_app.get()
    if app_ctx is None:
        return None
    loop = app_ctx.app.lifecycle.loop
    return loop if loop is not None and loop.is_running() else None


async def _awaited(awaitable: Awaitable[T]) -> T:
    return await awaitable


async def call_blocking(func: Callable[..., t.Any], /, *args: t.Any, **kwargs: t.Any) -> t.Any:
    """The WSGI invoker: call sync functions here, async ones to completion with
    :func:`run_on_thread_loop` (on the loop the app's lifespan ran on, if there is one)."""
    result = func(*args, **kwargs)
    if type(result) is CoroutineType:
        return run_on_thread_loop(result)
    return result


async def run_in_worker(func: Callable[..., T], /, *args: t.Any, **kwargs: t.Any) -> T:
    """Run a sync function in the worker pool with a copy of the current context."""
    context = contextvars.copy_context()
    if kwargs:
        return await worker_threads.submit(context, functools.partial(func, **kwargs), *args)
    return await worker_threads.submit(context, func, *args)


def run_in_context(
    context: contextvars.Context, func: Callable[..., T], /, *args: t.Any
) -> asyncio.Future[T]:
    """Run a sync function in the worker pool inside ``context`` itself, not a copy: the worker
    calls of one request share what they set (the request context pushed by the first is
    popped by the last)."""
    return worker_threads.submit(context, func, *args)


async def call_awaiting(func: Callable[..., t.Any], /, *args: t.Any, **kwargs: t.Any) -> t.Any:
    """An invoker for code already on a thread that may block (the lifecycle's own loop thread
    under WSGI): sync functions are called here, async ones awaited."""
    result = func(*args, **kwargs)
    if type(result) is CoroutineType:
        return await result
    return result


class WorkerInvoker:
    """The ASGI invoker: async functions are awaited on the loop, sync ones run in the worker
    pool. ``before_async``, if given, is awaited first whenever async code is about to run (an
    ASGI request's body is read there, since async code cannot block to wait for it), and
    ``before_sync`` whenever sync code is about to be handed to the worker (a small body is
    read there, so that the worker does not wait for the loop to read it)."""

    __slots__ = ("_before_async", "_before_sync")

    def __init__(
        self,
        before_async: Callable[[], Awaitable[None]] | None = None,
        before_sync: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._before_async = before_async
        self._before_sync = before_sync

    def __call__(
        self, func: Callable[..., t.Any], /, *args: t.Any, **kwargs: t.Any
    ) -> Awaitable[t.Any]:
        # Not a coroutine itself: an async function's own coroutine is awaited, when nothing
        # is to be read first (one coroutine less for every async view and hook).
        if is_async_callable(func):
            before = self._before_async
            if before is None:
                return func(*args, **kwargs)  # type: ignore[no-any-return]
            return _after(before, func(*args, **kwargs))
        return self._in_worker(func, args, kwargs)

    async def _in_worker(
        self, func: Callable[..., t.Any], args: tuple[t.Any, ...], kwargs: dict[str, t.Any]
    ) -> t.Any:
        if self._before_sync is not None:
            await self._before_sync()
        result = await run_in_worker(func, *args, **kwargs)
        if type(result) is CoroutineType:  # a sync wrapper around an async function
            before = self._before_async
            if before is None:
                return await result
            return await _after(before, result)
        return result


async def _after(before: Callable[[], Awaitable[None]], coro: Coroutine[t.Any, t.Any, T]) -> T:
    """Await ``before()``, then ``coro`` (closed unawaited if ``before`` fails)."""
    try:
        await before()
    except BaseException:
        coro.close()
        raise
    return await coro


#: The ASGI invoker for connections without a request body (WebSockets, lifespan).
call_in_worker = WorkerInvoker()


class LoopHopInvoker:
    """The ASGI invoker of a pipeline driven in a worker thread (a request whose view is sync):
    sync functions are called in place, so a request of sync hooks and a sync view costs one
    worker round trip in all; async ones hop to the server's loop, the worker waiting for them,
    after ``before_async`` if given (the body reads itself there)."""

    __slots__ = ("_before_async", "_loop")

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        before_async: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._loop = loop
        self._before_async = before_async

    async def __call__(self, func: Callable[..., t.Any], /, *args: t.Any, **kwargs: t.Any) -> t.Any:
        result = func(*args, **kwargs)
        if type(result) is CoroutineType:
            return self.on_loop(result)
        return result

    def on_loop(self, coro: Coroutine[t.Any, t.Any, T]) -> T:
        """Run ``coro`` on the loop and wait for it here (in the worker)."""
        before = self._before_async
        on_loop = coro if before is None else _after(before, coro)
        return asyncio.run_coroutine_threadsafe(on_loop, self._loop).result()


def iterate_on_thread_loop(iterable: t.AsyncIterable[T]) -> Iterator[T]:
    """Consume an async iterable from sync code (a streamed body under WSGI)."""
    iterator = aiter(iterable)
    try:
        while True:
            try:
                yield run_on_thread_loop(anext(iterator))
            except StopAsyncIteration:
                return
    finally:
        close = getattr(iterator, "aclose", None)
        if close is not None:
            run_on_thread_loop(close())
